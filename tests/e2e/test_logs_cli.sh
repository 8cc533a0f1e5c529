#!/usr/bin/env bash
# e2e: `signalbox logs FILE|-` on generated files: filters, counts, --json,
# --since, exit statuses like grep's, a file larger than the ring searched
# whole, stack traces joined, and hostile bytes (OSC 52, cursor movement,
# NUL, invalid UTF-8) never reaching the terminal.
source "$(dirname "$0")/lib.sh"

d=$E2E_DIR
sb() { "$SIGNALBOX_BIN" logs "$@"; }

# expect STATUS CMD...: run, keep stdout in OUT, check the exit status
expect() {
	local want=$1
	shift
	STATUS=0
	OUT=$("$@" 2>"$d/stderr") || STATUS=$?
	((STATUS == want)) || { cat "$d/stderr" >&2; die "'$*' exited $STATUS, want $want"; }
}

# ---- a mixed log --------------------------------------------------------------
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
{
	echo '{"level":30,"time":1718188920000,"msg":"started","port":8080}'
	echo '{"level":50,"time":1718188921000,"msg":"db timeout","status":503}'
	echo 'time=2024-06-12T10:42:02Z level=warn msg="slow query" dur=2.5'
	echo '2024-06-12T10:42:03Z ERROR upstream failed'
	echo 'java.lang.IllegalStateException: boom'
	printf '\tat com.acme.Foo.bar(Foo.java:12)\n'
	printf '\tat com.acme.Main.main(Main.java:3)\n'
	echo '10.0.0.1 - - [12/Jun/2024:10:42:04 +0000] "GET /health HTTP/1.1" 200 2 "-" "probe"'
	echo '10.0.0.2 - - [12/Jun/2024:10:42:05 +0000] "POST /api HTTP/1.1" 502 0 "-" "curl"'
	echo "$now INFO fresh line"
} >"$d/mixed.log"

expect 0 sb "$d/mixed.log" --count
[[ $OUT == 8 ]] || die "--count of every entry: '$OUT', want 8 (the trace is one entry)"

expect 0 sb "$d/mixed.log" --filter '@level:error'
[[ $(wc -l <<<"$OUT") == 3 ]] || die "@level:error: '$OUT'"
grep -q '"POST /api HTTP/1.1" 502' <<<"$OUT" || die "@level:error misses the 502"
grep -q 'db timeout' <<<"$OUT" || die "@level:error misses the JSON error"
grep -q 'upstream failed' <<<"$OUT" || die "@level:error misses the plain error"

expect 0 sb "$d/mixed.log" --filter '@level:>=warn' --count
[[ $OUT == 4 ]] || die "@level:>=warn --count: '$OUT', want 4 (json, logfmt, plain, 502)"

expect 0 sb "$d/mixed.log" --filter 'Foo.java'
[[ $OUT == *$'boom\n    at com.acme.Foo.bar(Foo.java:12)\n    at com.acme.Main.main'* ]] ||
	die "the stack trace is not one entry: '$OUT'"

expect 0 sb "$d/mixed.log" --filter '/POST \/api/ OR "slow query"' --count
[[ $OUT == 2 ]] || die "regex OR phrase: '$OUT'"

expect 1 sb "$d/mixed.log" --filter '@status:>=500 -timeout'
[[ -z $OUT ]] || die "no match should print nothing: '$OUT'"

expect 0 sb "$d/mixed.log" --since 10m
[[ $OUT == "$now INFO fresh line" ]] || die "--since 10m: '$OUT'"

expect 0 sb "$d/mixed.log" --since 2024-06-12T10:42:04Z --count
[[ $OUT == 3 ]] || die "--since TIME: '$OUT'"

# --json: one valid object per line, the message decoded
expect 0 sb "$d/mixed.log" --json --filter timeout
node -e '
	const o = JSON.parse(process.argv[1]);
	const want = { level: "error", source: "mixed.log", msg: "db timeout", ts: "2024-06-12T10:42:01.000Z" };
	for (const k in want) if (o[k] !== want[k]) { console.error(k, o[k]); process.exit(1); }
	if (!o.text.startsWith("{\"level\":50")) process.exit(1);
' "$OUT" || die "--json object is wrong: $OUT"

# stdin, and a file that does not exist
expect 0 sb - --count <"$d/mixed.log"
[[ $OUT == 8 ]] || die "stdin --count: '$OUT'"
expect 2 sb "$d/missing.log"
grep -q 'no such file' "$d/stderr" || die "missing file message: $(cat "$d/stderr")"
expect 2 sb "$d/mixed.log" --filter '"unclosed'
grep -q 'filter:1:1: unclosed quote' "$d/stderr" || die "filter error: $(cat "$d/stderr")"
expect 2 sb "$d/mixed.log" --max-memory lots
expect 2 sb

# ---- larger than the ring: every line is still searched ---------------------------
awk 'BEGIN { for (i = 0; i < 200000; i++)
	printf "2024-06-12T10:%02d:%02dZ %s request %d took %d ms\n", (i / 60) % 60, i % 60,
	    (i % 100 == 0) ? "ERROR" : "INFO", i, i % 997 }' >"$d/big.log"
expect 0 sb "$d/big.log" --max-memory 1M --filter '@level:error' --count --stats
[[ $OUT == 2000 ]] || die "errors in a file 10x the ring: '$OUT', want 2000"
grep -Eq 'ring [0-9]+ lines held, [1-9][0-9]* dropped' "$d/stderr" ||
	die "the ring did not drop: $(cat "$d/stderr")"
rss=$(awk '/^peak RSS/ {print $3}' "$d/stderr")
((rss < 64 * 1024)) || die "peak RSS $rss KiB for a 1 MiB ring"

# ---- hostile bytes never reach the terminal ----------------------------------------
{
	printf 'clip \e]52;c;ZXZpbA==\a end\n'
	printf 'move \e[2J\e[H\e[10;10H end\n'
	printf 'title \e]0;owned\e\\ end\n'
	printf 'nul \0 del \x7f bad \xff\xfe c1 \xc2\x9b end\n'
	printf 'red \e[31mERROR\e[0m end\n'
	head -c 3000000 /dev/zero | tr '\0' 'x'
	printf '\nafter the long line\n'
} >"$d/hostile.log"
STATUS=0
TERM=xterm-256color SHELL=/bin/sh script -q -e -c \
	"$(printf '%q ' "$SIGNALBOX_BIN" logs "$d/hostile.log")" "$d/hostile.tty" \
	</dev/null >/dev/null 2>&1 || STATUS=$?
((STATUS == 0)) || die "hostile.log: exit $STATUS"
# script(1) writes a header line; only ESC would be dangerous, and none may remain
if LC_ALL=C grep -q $'\e' "$d/hostile.tty"; then
	cat -v "$d/hostile.tty" | head -c 2000 >&2
	die "an escape sequence reached the terminal"
fi
LC_ALL=C grep -q $'\xc2\x9b' "$d/hostile.tty" && die "a C1 control reached the terminal"
grep -q 'clip ␛]52;c;ZXZpbA==␇ end' "$d/hostile.tty" || die "OSC 52 not shown as text"
grep -q 'red ERROR end' "$d/hostile.tty" || die "SGR not stripped"
grep -q 'after the long line' "$d/hostile.tty" || die "the line after a 3 MB line is lost"
expect 0 sb "$d/hostile.log" --json --filter 'long'
grep -q '"cut":true' <<<"$OUT" && die "wrong line matched"
expect 0 sb "$d/hostile.log" --json --filter '/^x+$/'
grep -q '"cut":true,"orig_len":3000000' <<<"$OUT" || die "long line not marked cut: ${OUT:0:200}"

e2e_pass
