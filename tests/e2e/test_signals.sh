#!/usr/bin/env bash
# e2e (d): SIGTERM, SIGINT, SIGHUP and Ctrl-C end the console cleanly and restore the
# terminal, also while a check hangs in flight and while a detail view or
# the command line is open.
source "$(dirname "$0")/lib.sh"

demo_start

for sig in TERM INT HUP; do
	tui_start 80 24 -- -c "$E2E_CONFIG"
	tui_wait_re '^STATE +NAME +HTTP'
	wait_row api '^OK\*? +api +200 '
	case $sig in
	INT)	tui_keys j Enter			# a detail view open
		tui_wait_re '^ api-http http://' ;;
	HUP)	tui_keys :				# the command line open
		tui_wait_re '^:' ;;
	esac
	pid=$(tui_pid)
	[[ -n $pid ]] || die "no signalbox process in the pane"
	[[ $(tui_fmt '#{alternate_on}') == 1 ]] || die "not on the alternate screen before SIG$sig"
	kill "-$sig" "$pid"
	status=$(tui_wait_exit 5)
	log "SIG$sig: exit status $status"
	# a clean exit (0) or the conventional 128+N; dying of the signal without
	# cleaning up would leave the alternate screen on, checked below
	case $sig:$status in
	TERM:0 | TERM:143 | INT:0 | INT:130 | HUP:0 | HUP:129) ;;
	*) die "SIG$sig: unexpected exit status $status" ;;
	esac
	if kill -0 "$pid" 2>/dev/null; then
		die "pid $pid still running after SIG$sig"
	fi
	assert_terminal_restored
	tui_wait 'E2E-SHELL-BEFORE' 2
	assert_no_screen 'STATE +NAME|q:quit'
	assert_clean_stderr
done

# Ctrl-C typed at the terminal (the tty turns it into SIGINT)
tui_start 80 24 -- -c "$E2E_CONFIG"
tui_wait_re '^STATE +NAME +HTTP'
tui_keys C-c
status=$(tui_wait_exit 5)
[[ $status == 0 || $status == 130 ]] || die "Ctrl-C: unexpected exit status $status"
assert_terminal_restored
assert_clean_stderr
e2e_pass
