#!/usr/bin/env bash
# Fails when curses is used outside src/ui, or a network library outside
# src/net.  Checks includes and well-known symbols, so a forward declaration
# or a copied prototype does not slip through either.
set -u
root=${1:-$(dirname "$0")/..}
cd "$root" || exit 2
status=0
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	files=$(git ls-files -co --exclude-standard -- 'src/*.c' 'src/*.h' 'views/*.c' 'include/*.h' 'tests/*.c' 'tests/*.h')
else
	files=$(find src views include tests -name '*.[ch]' 2>/dev/null)
fi

check() {	# check LABEL ALLOWED_DIR REGEX
	local label=$1 allowed=$2 re=$3 f
	for f in $files; do
		case $f in "$allowed"/*) continue ;; esac
		# comments may name anything; code may not
		if perl -0777 -pe 's{/\*(.*?)\*/}{my $c = $1; $c =~ tr/\n//cd; " $c"}gse; s{//[^\n]*}{}g' "$f" |
		    grep -nE "$re" >/tmp/layering.$$ 2>/dev/null; then
			while IFS= read -r line; do
				echo "$f:$line: $label outside $allowed/"
			done </tmp/layering.$$
			status=1
		fi
	done
	rm -f /tmp/layering.$$
}

check curses src/ui '#[[:space:]]*include[[:space:]]*[<"](n?curses(w)?/)?(n?curses|panel|term|ncursesw/curses)\.h[>"]|\b(WINDOW|SCREEN|cchar_t|initscr|newwin|wrefresh|wnoutrefresh|doupdate|mvwadd|waddstr|wattr_on|init_pair|getch|wgetch|endwin|KEY_[A-Z0-9]+|COLOR_PAIR|A_BOLD|A_REVERSE)\b'
check curl src/net '#[[:space:]]*include[[:space:]]*[<"]curl/|\b(CURL|CURLM|CURLcode|curl_easy_[a-z_]+|curl_multi_[a-z_]+)\b'
check libpq src/net '#[[:space:]]*include[[:space:]]*[<"](libpq-fe|postgresql/libpq-fe)\.h|\b(PGconn|PGresult|PQ[a-zA-Z]+)\b'
check hiredis src/net '#[[:space:]]*include[[:space:]]*[<"]hiredis/|\b(redisAsyncContext|redisContext|redisReply|redisAsync[A-Za-z]*)\b'
check libwebsockets src/net '#[[:space:]]*include[[:space:]]*[<"]libwebsockets\.h|\b(lws_[a-z_]+|struct lws\b|LWS_[A-Z_]+)\b'

if [ $status -eq 0 ]; then
	echo "layering: ok ($(echo "$files" | wc -w) files)"
fi
exit $status
