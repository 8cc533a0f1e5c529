#!/usr/bin/env bash
# e2e (g): a misspelt config is reported as file:line:col with a
# did-you-mean, by `signalbox config check` and by the console itself, with
# a non-zero exit, and curses never starts (nothing is sent to the terminal
# but the message).  A good config passes.
source "$(dirname "$0")/lib.sh"

demo_start
dir=$E2E_DEMO_RUN

# line:col (1-based) of the first occurrence of WORD in FILE.
pos_of() {
	awk -v w="$2" 'i = index($0, w) { print NR ":" i; exit }' "$1"
}

# in_pty NAME ARGS...: run the binary on a real terminal (script(1)), so a
# console that wrongly started curses would show it; the bytes it wrote go
# to $E2E_DIR/NAME.tty, the status to STATUS.
in_pty() {
	local name=$1 cmd
	shift
	cmd=$(printf '%q ' "$SIGNALBOX_BIN" "$@")
	STATUS=0
	TERM=xterm-256color SHELL=/bin/sh script -q -e -c "$cmd" "$E2E_DIR/$name.tty" </dev/null >/dev/null 2>&1 || STATUS=$?
}

assert_no_curses() {
	local f=$E2E_DIR/$1.tty
	# smcup (alternate screen), clear screen, cursor addressing, keypad mode
	if grep -Eq $'\e\\[\\?1049h|\e\\[\\?1h|\e\\[H|\e\\[2J|\e\\[[0-9]+;[0-9]+H|\e\\[\\?25l' "$f"; then
		cat -v "$f" >&2
		die "$1: curses output on the terminal"
	fi
}

# ---- misspelt keys at three levels --------------------------------------------
bad=$dir/misspelt.yml
sed -e 's/^  endpoints:$/  endpionts:/' \
    -e 's/^  interval: 5s$/  intervall: 5s/' \
    -e 's/^environments:/enviroments:/' "$E2E_CONFIG" >"$bad"
STATUS=0
"$SIGNALBOX_BIN" config check -c "$bad" >"$E2E_DIR/misspelt.out" 2>"$E2E_DIR/misspelt.err" </dev/null || STATUS=$?
((STATUS != 0)) || die "config check accepted a misspelt config"
((STATUS == 2)) || log "note: config check exited $STATUS (the usage text promises 2)"
msgs=$(cat "$E2E_DIR/misspelt.out" "$E2E_DIR/misspelt.err")
for pair in "endpionts:endpoints" "intervall:interval" "enviroments:environments"; do
	wrong=${pair%%:*} right=${pair#*:}
	pos=$(pos_of "$bad" "$wrong:")
	grep -Fq "misspelt.yml:$pos: unknown key '$wrong'" <<<"$msgs" ||
		{ echo "$msgs" >&2; die "no 'misspelt.yml:$pos: unknown key '$wrong'' message"; }
	grep -Fq "(did you mean '$right'?)" <<<"$msgs" ||
		{ echo "$msgs" >&2; die "no did-you-mean '$right' for '$wrong'"; }
done

# ---- a misspelt key and a bad value inside an endpoint ------------------------
bad2=$dir/endpoint.yml
sed -e 's/{ name: cache, url:/{ name: cache, ulr:/' \
    -e 's/type: websocket/type: websockt/' "$E2E_CONFIG" >"$bad2"
STATUS=0
"$SIGNALBOX_BIN" config check -c "$bad2" >"$E2E_DIR/endpoint.out" 2>"$E2E_DIR/endpoint.err" </dev/null || STATUS=$?
((STATUS != 0)) || die "config check accepted an endpoint with 'ulr'"
msgs=$(cat "$E2E_DIR/endpoint.out" "$E2E_DIR/endpoint.err")
pos=$(pos_of "$bad2" "ulr:")
grep -Fq "endpoint.yml:$pos: unknown key 'ulr'" <<<"$msgs" && grep -Fq "(did you mean 'url'?)" <<<"$msgs" ||
	{ echo "$msgs" >&2; die "no file:line:col did-you-mean for 'ulr'"; }
pos=$(pos_of "$bad2" "websockt")
grep -Fq "endpoint.yml:$pos:" <<<"$msgs" && grep -Fq "(did you mean 'websocket'?)" <<<"$msgs" ||
	{ echo "$msgs" >&2; die "no file:line:col did-you-mean for type 'websockt'"; }

# ---- invalid YAML -----------------------------------------------------------------
printf 'project: demo\nhealth: [\n' >"$dir/broken.yml"
STATUS=0
"$SIGNALBOX_BIN" config check -c "$dir/broken.yml" >"$E2E_DIR/broken.out" 2>"$E2E_DIR/broken.err" </dev/null || STATUS=$?
((STATUS != 0)) || die "config check accepted broken YAML"
grep -Eq 'broken\.yml:[0-9]+:[0-9]+: ' "$E2E_DIR/broken.out" "$E2E_DIR/broken.err" ||
	{ cat "$E2E_DIR/broken.err" >&2; die "no file:line:col for broken YAML"; }

# ---- never curses: on a real terminal, config check and the console itself ------
in_pty cc-pty config check -c "$bad"
((STATUS != 0)) || die "config check on a terminal accepted the misspelt config"
assert_no_curses cc-pty
grep -q "did you mean 'endpoints'" "$E2E_DIR/cc-pty.tty" || die "config check on a terminal printed no message"

in_pty console-pty -c "$bad"
((STATUS != 0)) || die "the console started with a misspelt config"
((STATUS == 2)) || log "note: the console exited $STATUS on a bad config (the usage text promises 2)"
assert_no_curses console-pty
grep -q "did you mean 'endpoints'" "$E2E_DIR/console-pty.tty" || die "the console printed no message for a bad config"

# and in tmux: the pane never switched to the alternate screen
tui_start 80 24 -- -c "$bad"
status=$(tui_wait_exit 5)
((status != 0)) || die "the console in tmux started with a misspelt config"
[[ $(tui_fmt '#{alternate_on}') == 0 ]] || die "alternate screen on after a config error"
grep -q "did you mean 'endpoints'" "$E2E_DIR/stderr$E2E_RUNS" || die "no message on stderr in tmux"

# ---- the good config passes ----------------------------------------------------------
STATUS=0
out=$("$SIGNALBOX_BIN" config check -c "$E2E_CONFIG" 2>&1 </dev/null) || STATUS=$?
((STATUS == 0)) || { echo "$out" >&2; die "config check rejected the demo config"; }
grep -q '9 endpoints' <<<"$out" || die "config check did not count the endpoints: '$out'"
e2e_pass
