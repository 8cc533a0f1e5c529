#!/usr/bin/env bash
# The layering check must fail on a curses or network header in the wrong
# place, and pass on a clean tree: build tiny trees and run it on them.
set -u
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

mk() {	# mk DIR FILE CONTENT
	mkdir -p "$tmp/$1/$(dirname "$2")"
	printf '%s\n' "$3" >"$tmp/$1/$2"
}
expect() {	# expect DIR STATUS
	(cd "$tmp/$1" && bash "$here/layering.sh" "$tmp/$1" >"$tmp/$1.out" 2>&1)
	got=$?
	if [ "$got" -ne "$2" ]; then
		echo "FAIL: tree '$1' exited $got, expected $2"; cat "$tmp/$1.out"; fail=1
	else
		echo "ok: tree '$1' exited $got"
	fi
}

mk clean src/ui/ui.c '#include <curses.h>
WINDOW *w;'
mk clean src/net/http.c '#include <curl/curl.h>'
mk clean src/core/a.c '/* a comment naming WINDOW and curl_easy_init is fine */
int a;'
expect clean 0

mk curses src/core/bad.c '#include <curses.h>'
expect curses 1
mk ncsym views/bad.c 'void f(void) { doupdate(); }'
expect ncsym 1
mk curl src/sources/bad.c '#include <curl/curl.h>'
expect curl 1
mk pq src/core/bad.c '#include <libpq-fe.h>'
expect pq 1
mk redis src/ui/bad.c '#include <hiredis/async.h>'
expect redis 1
mk lws include/signalbox/bad.h 'struct lws *w;'
expect lws 1
exit $fail
