# shellcheck shell=bash
# Shared by the sandbox tests that drive the console in tmux
# (test_tui_railway*.sh), after lib.sh and t_up.  The caller sets SOCK (a
# tmux socket prefix of its own) and XDG_STATE_HOME; the console's sanitizer
# reports, if any, land in $SANDBOX_RUN_DIR/sanitizer.
SAN_DIR=$SANDBOX_RUN_DIR/sanitizer
mkdir -p "$SAN_DIR"
RUNS=0

# tui_start [VAR=VALUE...] [-- ARGS...]: the console at 120x40 on a fresh tmux
# server; VAR=VALUE pairs override the sandbox's env file (RAILWAY_TOKEN=wrong).
tui_start() {
	local script over=()
	tui_stop
	while (($#)) && [[ $1 != -- ]]; do over+=("$1"); shift; done
	(($#)) && shift
	RUNS=$((RUNS + 1))
	script=$SANDBOX_RUN_DIR/tui-$RUNS.sh
	{
		echo "#!/usr/bin/env bash"
		echo ". $(printf '%q' "$SANDBOX_RUN_DIR/env")"
		((${#over[@]} == 0)) || printf 'export %q\n' "${over[@]}"
		printf 'export ASAN_OPTIONS=%q UBSAN_OPTIONS=%q\n' \
			"log_path=$SAN_DIR/asan-$RUNS${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
			"log_path=$SAN_DIR/ubsan-$RUNS:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
		printf 'exec %q -c %q -v %q' "$SIGNALBOX_BIN" "$SANDBOX_RUN_DIR/signalbox.yml" \
			"$SANDBOX_RUN_DIR/tui-$RUNS.log"
		(($# == 0)) || printf ' %q' "$@"
		echo
	} >"$script"
	chmod +x "$script"
	# the pane outlives the console for a while, so its exit status shows
	tmux -L "$SOCK-$RUNS" -f /dev/null new-session -d -x 120 -y 40 \
		"env TERM=screen-256color XDG_STATE_HOME=$(printf '%q' "$XDG_STATE_HOME") $script; echo \"[exit \$?]\"; sleep 60"
}
tui_stop() {
	[[ $RUNS -gt 0 ]] || return 0
	tmux -L "$SOCK-$RUNS" send-keys q 2>/dev/null || true
	sleep 0.3
	tmux -L "$SOCK-$RUNS" kill-server 2>/dev/null || true
	rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$SOCK-$RUNS"	# tmux 3.3 leaves it behind
}
# tui_quit: q, then the console's exit status as the pane printed it (-1: none in 10 s)
tui_quit() {
	local i code
	keys q
	for ((i = 0; i < 100; i++)); do
		code=$(screen | sed -n 's/^\[exit \([0-9]*\)\]$/\1/p' | tail -n 1)
		[[ -n $code ]] && { echo "$code"; return 0; }
		sleep 0.1
	done
	echo -1
}
screen() { tmux -L "$SOCK-$RUNS" capture-pane -p; }
keys() { tmux -L "$SOCK-$RUNS" send-keys "$@"; }
typed() { tmux -L "$SOCK-$RUNS" send-keys -l "$1"; }
# Escape alone (an Escape followed at once by a key reads as Meta-key).
esc() { keys Escape; sleep 0.3; }
# on_screen SECONDS REGEX: the screen matches within SECONDS.
on_screen() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		screen | grep -Eq -- "$2" && return 0
		sleep 0.1
	done
	echo "# screen did not show /$2/ within $1 s:" >&2
	screen | sed 's/^/#   /' >&2
	return 1
}
not_on_screen() { ! screen | grep -Eq -- "$1"; }
status_bar() { screen | grep -E 'railway:' | tail -n 1 | sed 's/  */ /g; s/^ //'; }
# type_confirmation REASON: fill a typed confirmation in production and move
# to [ Confirm ] without pressing it (Enter confirms).
type_confirmation() {
	on_screen 5 'Type production to confirm' || return 1
	sleep 0.4	# keys right after a dialog opens are ignored on purpose
	typed production
	keys Tab
	typed "$1"
	keys Tab Tab
}
# filter_to TEXT: replace the pane's filter with TEXT.
filter_to() {
	keys /
	keys C-u	# the line opens with the current filter: clear it
	typed "$1"
	keys Enter
}
# confirm_typed REASON: answer a typed confirmation in production.
confirm_typed() {
	type_confirmation "$1" || return 1
	keys Enter
}
