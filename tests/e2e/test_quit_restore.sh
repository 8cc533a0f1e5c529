#!/usr/bin/env bash
# e2e (b): 'q' exits 0 promptly, even with a check hanging in flight, and the
# terminal is as it was: normal screen with the shell's text, cursor shown,
# keypad and mouse modes off, the same tty modes.
source "$(dirname "$0")/lib.sh"

demo_start
tui_start 80 24 -- -c "$E2E_CONFIG"

tui_wait_re '^STATE +NAME +HTTP'
# the hanging endpoint ("search", /hang, timeout 1 s) is checked at start,
# so a check is in flight during some of this; wait for a first result
wait_row api '^OK\*? +api +200 '
[[ $(tui_fmt '#{alternate_on}') == 1 ]] || die "the console is not on the alternate screen"
[[ $(tui_fmt '#{cursor_flag}') == 0 ]] || die "the cursor is visible while the console runs"
# the shell's line is hidden while the console runs
assert_no_screen 'E2E-SHELL-BEFORE'

t0=$EPOCHREALTIME
tui_keys q
status=$(tui_wait_exit 5)
t1=$EPOCHREALTIME
[[ $status == 0 ]] || die "q exited with status $status, expected 0"
ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%d", (b - a) * 1000}')
log "q to exit: ${ms} ms"
((ms < 2000)) || die "q took ${ms} ms to exit (limit 2000)"

assert_terminal_restored
# the shell's text is back, and nothing of the console's screen is left
tui_wait 'E2E-SHELL-BEFORE' 2
tui_wait 'E2E-SHELL-AFTER EXIT=0' 2
assert_no_screen 'STATE +NAME|Health|production|q:quit'
assert_clean_stderr

# ':quit' from the command line does the same
tui_start 80 24 -- -c "$E2E_CONFIG"
tui_wait_re '^STATE +NAME +HTTP'
tui_keys :
tui_wait_re '^:'
tui_keys -l quit
tui_keys Enter
[[ $(tui_wait_exit 5) == 0 ]] || die ":quit did not exit 0"
assert_terminal_restored
assert_clean_stderr
e2e_pass
