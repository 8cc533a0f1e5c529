# tests/e2e/lib.sh - shared helpers for the end-to-end tests.  Sourced.
#
# Each test drives the real signalbox binary in tmux on a private socket
# against the real demo server (sandbox/demo), started on the test's own port
# base, and removes everything it started when it exits, however it exits.
#
# Environment (set by CTest, see tests/CMakeLists.txt):
#   SIGNALBOX_BIN         the binary under test
#   SIGNALBOX_SOURCE_DIR  the source tree (for sandbox/demo)
#   SIGNALBOX_BINARY_DIR  the build tree (unused here)
#   E2E_KEEP=1            keep the scratch directory even when the test passes
#   E2E_TIMEOUT           seconds to wait for text on screen (default 15)

set -euo pipefail

: "${SIGNALBOX_BIN:?SIGNALBOX_BIN must name the signalbox binary}"
: "${SIGNALBOX_SOURCE_DIR:?SIGNALBOX_SOURCE_DIR must name the source tree}"
[[ -x $SIGNALBOX_BIN ]] || { echo "e2e: $SIGNALBOX_BIN is not executable" >&2; exit 1; }
for tool in tmux node openssl; do
	command -v "$tool" >/dev/null || { echo "e2e: $tool is required (make deps)" >&2; exit 1; }
done

export LC_ALL=C.UTF-8
unset NO_COLOR SIGNALBOX_EXIT_AFTER_FIRST_FRAME
E2E_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
E2E_TIMEOUT=${E2E_TIMEOUT:-15}
E2E_DIR=$(mktemp -d "${TMPDIR:-/tmp}/signalbox-$E2E_NAME.XXXXXX")
E2E_SOCK_BASE=sbx$$
E2E_SOCK=$E2E_SOCK_BASE-0	# one tmux server per tui_start (reusing a socket
			# right after kill-server races the dying server);
			# every one is named $E2E_SOCK_BASE-something
E2E_SESSION=e2e
E2E_DEMO_RUN=$E2E_DIR/demo
E2E_PORT_BASE=""
E2E_CONFIG=""
E2E_FAILED=1
E2E_RUNS=0		# tui_start count, for the run script names
# Let the binary find its HOME-based files somewhere harmless.
export HOME=$E2E_DIR/home XDG_CONFIG_HOME=$E2E_DIR/home/.config XDG_STATE_HOME=$E2E_DIR/home/.local/state
mkdir -p "$HOME"

log() { printf 'e2e[%s]: %s\n' "$E2E_NAME" "$*" >&2; }

e2e_cleanup() {
	local rc=$? s
	# every tmux server this test started: sockets named $E2E_SOCK_BASE-*
	for s in "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$E2E_SOCK_BASE"-*; do
		[[ -S $s ]] || continue
		tmux -S "$s" kill-server 2>/dev/null || true
		rm -f "$s"	# tmux 3.3 leaves the socket file behind
	done
	if [[ -n $E2E_PORT_BASE ]]; then
		DEMO_RUN_DIR=$E2E_DEMO_RUN "$SIGNALBOX_SOURCE_DIR/sandbox/demo/down" >/dev/null 2>&1 || true
	fi
	if (( rc == 0 && E2E_FAILED == 0 )) && [[ ${E2E_KEEP:-0} != 1 ]]; then
		rm -rf "$E2E_DIR"
	else
		log "scratch files kept in $E2E_DIR"
	fi
	exit "$rc"
}
trap e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Mark the test as passed (call last).
e2e_pass() {
	E2E_FAILED=0
	log "PASS"
	exit 0
}

# ---- the demo server ----------------------------------------------------

# Start the demo server on a port base of our own (derived from $$, moved on
# when taken) and set E2E_PORT_BASE and E2E_CONFIG (every endpoint state).
demo_start() {
	local try base out
	for try in 0 1 2 3 4 5 6 7; do
		# 20000..31999 (+99) stays below the ephemeral port range.
		base=$((20000 + (($$ + try * 613) % 12000)))
		if out=$(DEMO_RUN_DIR=$E2E_DEMO_RUN DEMO_PORT_BASE=$base \
			"$SIGNALBOX_SOURCE_DIR/sandbox/demo/up" 2>&1); then
			if port_free $((base + 99)); then
				E2E_PORT_BASE=$base
				E2E_CONFIG=$E2E_DEMO_RUN/signalbox.yml
				log "demo server on 127.0.0.1:$base..$((base + 2))"
				return 0
			fi
			DEMO_RUN_DIR=$E2E_DEMO_RUN "$SIGNALBOX_SOURCE_DIR/sandbox/demo/down" >/dev/null 2>&1 || true
		fi
	done
	printf '%s\n' "$out" >&2
	die "could not start the demo server"
}

# True when nothing listens on 127.0.0.1:$1.
port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# POST to the demo server's admin API: demo_admin 'fault?name=redis&on=1'.
demo_admin() {
	node -e '
		const r = require("node:http").request(process.argv[1], { method: "POST" }, (res) => {
			res.resume(); res.on("end", () => process.exit(res.statusCode === 200 ? 0 : 1));
		});
		r.on("error", (e) => { console.error(e.message); process.exit(1); });
		r.end();' "http://127.0.0.1:$E2E_PORT_BASE/admin/$1"
}

# Write a config FILE in the demo run dir (so ca.pem resolves) with the
# endpoints given as YAML flow mappings, one per argument; @HTTP@, @HTTPS@
# and @BILLING@ expand to the demo server's base URLs.  Prints the path.
# E2E_INTERVAL sets health.interval (default 5s).
write_config() {
	local file=$E2E_DEMO_RUN/$1 ep
	shift
	{
		echo "project: demo"
		echo "environment: production"
		echo "environments: { production: { protected: true }, staging: {} }"
		echo "health:"
		echo "  interval: ${E2E_INTERVAL:-5s}"
		echo "  timeout: 2s"
		echo "  endpoints:"
		for ep in "$@"; do
			ep=${ep//@HTTP@/http:\/\/127.0.0.1:$E2E_PORT_BASE}
			ep=${ep//@HTTPS@/https:\/\/127.0.0.1:$((E2E_PORT_BASE + 1))}
			ep=${ep//@BILLING@/https:\/\/127.0.0.1:$((E2E_PORT_BASE + 2))}
			echo "    - $ep"
		done
	} >"$file"
	echo "$file"
}

# ---- the console in tmux ------------------------------------------------

# tui_start COLS ROWS [VAR=value ...] -- ARGS...: run the binary with ARGS
# (plus -v DIAGLOG) in a fresh tmux server and session of COLS x ROWS.  The
# pane records `stty -a`, prints a marker line, runs the binary, and when it
# exits records `stty -a` again, prints EXIT=<status> and stays open so the
# restored screen can be inspected; the status also goes to $E2E_DIR/exit.
tui_start() {
	local cols=$1 rows=$2 script v q
	shift 2
	local -a envs=()
	while (($#)) && [[ $1 != -- ]]; do envs+=("$1"); shift; done
	[[ ${1:-} == -- ]] && shift
	if ((E2E_RUNS > 0)); then
		tmux -L "$E2E_SOCK" kill-server 2>/dev/null || true
	fi
	E2E_RUNS=$((E2E_RUNS + 1))
	E2E_SOCK=$E2E_SOCK_BASE-$E2E_RUNS
	script=$E2E_DIR/run$E2E_RUNS.sh
	q=$(printf '%q' "$E2E_DIR")
	rm -f "$E2E_DIR/exit" "$E2E_DIR/stty.before" "$E2E_DIR/stty.after"
	{
		echo "cd $q"
		echo "export TERM=\${TERM:-screen} LC_ALL=C.UTF-8"
		for v in "${envs[@]}"; do echo "export $(printf '%q' "$v")"; done
		echo "stty -a >$q/stty.before"
		echo "echo E2E-SHELL-BEFORE"
		printf '%q ' "$SIGNALBOX_BIN" -v "$E2E_DIR/diag$E2E_RUNS.log" "$@"
		echo "2>$q/stderr$E2E_RUNS"
		echo "rc=\$?"
		echo "stty -a >$q/stty.after"
		echo "echo EXIT=\$rc >$q/exit"
		echo "echo E2E-SHELL-AFTER EXIT=\$rc"
		echo "exec sleep 600"
	} >"$script"
	tmux -L "$E2E_SOCK" -f /dev/null new-session -d -s "$E2E_SESSION" \
		-x "$cols" -y "$rows" "bash --norc --noprofile $(printf '%q' "$script")"
	tmux -L "$E2E_SOCK" set-option -t "$E2E_SESSION" status off >/dev/null
}

# After the binary exited: the terminal is as it was before it started.
assert_terminal_restored() {
	local f
	[[ $(tui_fmt '#{alternate_on}') == 0 ]] || die "still on the alternate screen after exit"
	[[ $(tui_fmt '#{cursor_flag}') == 1 ]] || die "cursor still hidden after exit"
	[[ $(tui_fmt '#{keypad_cursor_flag}#{keypad_flag}') == 00 ]] ||
		die "keypad transmit mode still on after exit"
	[[ $(tui_fmt '#{mouse_any_flag}') == 0 ]] || die "mouse reporting still on after exit"
	for f in stty.before stty.after; do
		[[ -s $E2E_DIR/$f ]] || die "no $f recorded"
	done
	# line 1 is speed and size, which a resize may change
	diff <(tail -n +2 "$E2E_DIR/stty.before") <(tail -n +2 "$E2E_DIR/stty.after") >&2 ||
		die "tty modes differ after exit (stty -a before/after above)"
	tui_wait "E2E-SHELL-AFTER" 2
}

# Nothing unexpected on stderr of run N (sanitizer reports, stray output).
assert_clean_stderr() {
	local f=$E2E_DIR/stderr${1:-$E2E_RUNS}
	if [[ -s $f ]]; then
		cat "$f" >&2
		die "signalbox wrote to stderr (above)"
	fi
}

# The screen as text (tui_capture -e keeps colours).
tui_capture() {
	tmux -L "$E2E_SOCK" capture-pane -p -t "$E2E_SESSION" "$@"
}

tui_keys() {
	tmux -L "$E2E_SOCK" send-keys -t "$E2E_SESSION" "$@"
}

# tmux format value for the pane: tui_fmt '#{alternate_on}'.
tui_fmt() {
	tmux -L "$E2E_SOCK" display-message -p -t "$E2E_SESSION" "$1"
}

tui_resize() {
	tmux -L "$E2E_SOCK" resize-window -t "$E2E_SESSION" -x "$1" -y "$2"
}

# PID of the program running in the pane (the bash that runs the script
# execs nothing, so it is the shell's child).
tui_pid() {
	local shell_pid
	shell_pid=$(tui_fmt '#{pane_pid}')
	pgrep -P "$shell_pid" -x "$(basename "$SIGNALBOX_BIN")" | head -n 1
}

# Wait until the screen matches the extended regex $1 (up to $2 seconds).
tui_wait_re() {
	local re=$1 t=${2:-$E2E_TIMEOUT} i
	for ((i = 0; i < t * 10; i++)); do
		if tui_capture | grep -Eq -- "$re"; then
			return 0
		fi
		sleep 0.1
	done
	die "timed out after ${t}s waiting for /$re/ on screen"
}

# Wait until the screen shows the fixed text $1.
tui_wait() {
	local text=$1 t=${2:-$E2E_TIMEOUT} i
	for ((i = 0; i < t * 10; i++)); do
		if tui_capture | grep -Fq -- "$text"; then
			return 0
		fi
		sleep 0.1
	done
	die "timed out after ${t}s waiting for '$text' on screen"
}

# Wait for the binary to exit; prints its status.
tui_wait_exit() {
	local t=${1:-$E2E_TIMEOUT} i
	for ((i = 0; i < t * 10; i++)); do
		if [[ -s $E2E_DIR/exit ]]; then
			sed -n 's/^EXIT=//p' "$E2E_DIR/exit"
			return 0
		fi
		sleep 0.1
	done
	die "timed out after ${t}s waiting for signalbox to exit"
}

# The screen line that shows endpoint NAME as a word (first match).
screen_row() {
	tui_capture | grep -E -m1 -- "(^|[^[:alnum:]_-])$1([^[:alnum:]_-]|$)" || true
}

# Wait until the row of endpoint $1 matches the extended regex $2.
wait_row() {
	local name=$1 re=$2 t=${3:-$E2E_TIMEOUT} i
	for ((i = 0; i < t * 10; i++)); do
		if screen_row "$name" | grep -Eq -- "$re"; then
			return 0
		fi
		sleep 0.1
	done
	die "timed out after ${t}s: row of '$name' never matched /$re/ (row: '$(screen_row "$name")')"
}

assert_screen() {
	tui_capture | grep -Eq -- "$1" || die "screen does not match /$1/"
}

assert_no_screen() {
	if tui_capture | grep -Eq -- "$1"; then
		die "screen unexpectedly matches /$1/"
	fi
}

die() {
	log "FAIL: $*"
	if tmux -L "$E2E_SOCK" has-session -t "$E2E_SESSION" 2>/dev/null; then
		echo "---- screen ($(tui_fmt '#{pane_width}x#{pane_height}')) ----" >&2
		tui_capture >&2 || true
		echo "----" >&2
	fi
	local f
	for f in "$E2E_DIR"/stderr* "$E2E_DIR"/diag*.log; do
		[[ -s $f ]] || continue
		echo "---- $f (last 30 lines) ----" >&2
		tail -n 30 "$f" >&2
	done
	exit 1
}
