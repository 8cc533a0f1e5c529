#!/usr/bin/env bash
# e2e: `signalbox logs FILE|-` on generated files: filters, counts, --json,
# --since, exit statuses like grep's, a file larger than the ring searched
# whole, stack traces joined, and hostile bytes (OSC 52, cursor movement,
# NUL, invalid UTF-8) never reaching the terminal; --follow on a file being
# written, rotated and truncated, and on a pipe, ended by signals or EOF.
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

# ---- --follow ------------------------------------------------------------------------
# Followers run in the background; every one still running when the test ends
# (a failure) is stopped by its pid.
FOLLOWERS=()
trap 'rc=$?; for p in "${FOLLOWERS[@]}"; do kill "$p" 2>/dev/null || true; done; (exit $rc); e2e_cleanup' EXIT

# follow_start NAME ARGS...: `signalbox logs ARGS...` in the background, stdout
# in $d/NAME.out, stderr in $d/NAME.err, its pid in FPID
follow_start() {
	local name=$1
	shift
	( exec "$SIGNALBOX_BIN" logs "$@" >"$d/$name.out" 2>"$d/$name.err" ) &
	FPID=$!
	FOLLOWERS+=("$FPID")
}

# wait_file FILE TEXT [SECONDS]: until FILE has a line that is exactly TEXT
wait_file() {
	local f=$1 text=$2 t=${3:-$E2E_TIMEOUT} i
	for ((i = 0; i < t * 10; i++)); do
		grep -Fxq -- "$text" "$f" 2>/dev/null && return 0
		sleep 0.1
	done
	die "timed out after ${t}s waiting for the line '$text' in $f: $(tail -n 5 "$f" 2>&1)"
}

# wait_exit PID [SECONDS]: until the follower ends; its exit status in STATUS
wait_exit() {
	local pid=$1 t=${2:-$E2E_TIMEOUT} i j
	for ((i = 0; i < t * 10; i++)); do
		if ! kill -0 "$pid" 2>/dev/null || [[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]]; then
			STATUS=0
			wait "$pid" || STATUS=$?
			# reaped: its pid may be someone else's from now on
			for j in "${!FOLLOWERS[@]}"; do
				[[ ${FOLLOWERS[j]} != "$pid" ]] || unset 'FOLLOWERS[j]'
			done
			return 0
		fi
		sleep 0.1
	done
	die "timed out after ${t}s waiting for signalbox (pid $pid) to exit"
}

# assert_out NAME EXPECTED: the follower's stdout is exactly EXPECTED
assert_out() {
	diff <(printf '%s\n' "$2") "$d/$1.out" >&2 || die "$1: output differs (above: want, got)"
}

expect 2 sb "$d/mixed.log" --follow --count
grep -q -- '--count and --follow' "$d/stderr" || die "--count --follow: $(cat "$d/stderr")"
expect 2 sb "$d/missing.log" --follow
grep -q 'no such file' "$d/stderr" || die "--follow, missing file: $(cat "$d/stderr")"

# A writer already appending when the follower starts: every line exactly
# once and in order, those written before it started, while it read them and
# after (no gap and no overlap between reading what is there and following).
f=$d/follow.log
: >"$f"
(
	for ((i = 1; i <= 20000; i++)); do
		printf '2024-06-12T10:00:00Z INFO line %d\n' "$i"
		((i % 500)) || sleep 0.02
	done >>"$f"
) &
wpid=$!
wait_file "$f" '2024-06-12T10:00:00Z INFO line 1000'
follow_start follow "$f" --follow
wait "$wpid"
wait_file "$d/follow.out" '2024-06-12T10:00:00Z INFO line 20000'
diff <(seq -f '2024-06-12T10:00:00Z INFO line %g' 1 20000) "$d/follow.out" >/dev/null ||
	die "followed lines lost, repeated or out of order: $(diff <(seq -f '2024-06-12T10:00:00Z INFO line %g' 1 20000) "$d/follow.out" | head -n 5)"
kill -TERM "$FPID"
wait_exit "$FPID"

# Rotation by rename + create: the old file's last line (written just before
# the rename), then the new file's lines, each once, in order.
echo 'a1' >"$d/rot.log"
follow_start rot "$d/rot.log" --follow --no-join
wait_file "$d/rot.out" a1
echo 'a2' >>"$d/rot.log"
mv "$d/rot.log" "$d/rot.log.1"
printf 'b1\nb2\n' >"$d/rot.log"
wait_file "$d/rot.out" b2
echo 'b3' >>"$d/rot.log"
wait_file "$d/rot.out" b3
assert_out rot $'a1\na2\nb1\nb2\nb3'
grep -Fxq "signalbox: logs: $d/rot.log was rotated" "$d/rot.err" ||
	die "rotation not said on stderr: $(cat "$d/rot.err")"
kill -TERM "$FPID"
wait_exit "$FPID"

# Truncation (copytruncate): read again from the start, said on stderr, and
# what was printed before is not printed again.
for i in 1 2 3 4 5; do printf 'before truncation %d %s\n' "$i" "$(printf '%080d' 0)"; done >"$d/trunc.log"
follow_start trunc "$d/trunc.log" --follow --no-join
wait_file "$d/trunc.out" "before truncation 5 $(printf '%080d' 0)"
: >"$d/trunc.log"
echo 'after truncation' >>"$d/trunc.log"
wait_file "$d/trunc.out" 'after truncation'
grep -Fxq "signalbox: logs: $d/trunc.log was truncated" "$d/trunc.err" ||
	die "truncation not said on stderr: $(cat "$d/trunc.err")"
[[ $(grep -c 'before truncation' "$d/trunc.out") == 5 ]] || die "lines printed twice after truncation"
[[ $(tail -n 1 "$d/trunc.out") == 'after truncation' ]] || die "truncation: $(cat "$d/trunc.out")"
kill -TERM "$FPID"
wait_exit "$FPID"

# A filter (and --since, --json) on followed lines: only fresh errors, as JSON.
{
	echo '2024-06-12T10:00:00Z ERROR old error'
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) INFO fresh info"
} >"$d/flt.log"
follow_start flt "$d/flt.log" --follow --filter '@level:error' --since 10m --json
for i in 1 2 3; do
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) INFO info $i"
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) ERROR error $i"
done >>"$d/flt.log"
for ((i = 0; i < E2E_TIMEOUT * 10; i++)); do
	[[ $(wc -l <"$d/flt.out") -ge 3 ]] && break
	sleep 0.1
done
node -e '
	const lines = require("node:fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
	const msgs = lines.map((l) => JSON.parse(l)).map((o) => o.level + " " + o.msg);
	if (msgs.join("|") !== "error error 1|error error 2|error error 3") {
		console.error(msgs);
		process.exit(1);
	}' "$d/flt.out" || die "--follow --filter --since --json: $(cat "$d/flt.out")"
kill -TERM "$FPID"
wait_exit "$FPID"
((STATUS == 130)) || die "--follow after SIGTERM exited $STATUS, want 130"

# A held entry (a stack trace waiting for more lines) is printed at its
# deadline though no other line comes; SIGINT ends the follower with 130.
: >"$d/trace.log"
follow_start trace "$d/trace.log" --follow
printf '2024-06-12T10:00:00Z ERROR boom\n\tat com.acme.Foo.bar(Foo.java:12)\n' >>"$d/trace.log"
wait_file "$d/trace.out" '    at com.acme.Foo.bar(Foo.java:12)'
assert_out trace $'2024-06-12T10:00:00Z ERROR boom\n    at com.acme.Foo.bar(Foo.java:12)'
kill -INT "$FPID"
wait_exit "$FPID"
((STATUS == 130)) || die "--follow after SIGINT exited $STATUS, want 130"
[[ ! -s $d/trace.err ]] || die "--follow wrote to stderr: $(cat "$d/trace.err")"

# - --follow: lines are printed as they come through the pipe (not at its
# end), and when it closes the command exits like the non-follow mode.
mkfifo "$d/in.fifo"
( exec "$SIGNALBOX_BIN" logs - --follow --no-join --filter -skip <"$d/in.fifo" >"$d/in.out" 2>"$d/in.err" ) &
FPID=$!
FOLLOWERS+=("$FPID")
exec 3>"$d/in.fifo"
printf 'first\nskip me\n' >&3
wait_file "$d/in.out" first
kill -0 "$FPID" 2>/dev/null || die "- --follow ended with its input still open"
echo 'second' >&3
wait_file "$d/in.out" second
exec 3>&-
wait_exit "$FPID"
((STATUS == 0)) || die "- --follow at the end of input exited $STATUS, want 0"
assert_out in $'first\nsecond'
STATUS=0
echo 'nothing' | "$SIGNALBOX_BIN" logs - --follow --filter zzz >/dev/null 2>&1 || STATUS=$?
((STATUS == 1)) || die "- --follow with no match exited $STATUS, want 1"

e2e_pass
