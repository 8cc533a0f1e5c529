#!/usr/bin/env bash
# e2e: hostile log lines in the Logs pane (a file source followed like
# tail -F) never reach the terminal.  The file holds, and later receives: a
# 10 MB line, NUL and other control bytes, invalid UTF-8, an OSC 52
# clipboard write, an OSC 0 title, a clear-screen and cursor movements.
# Proof from tmux itself: no paste buffer appeared (set-clipboard is on,
# so an OSC 52 that got through would make one), the pane title is
# unchanged (OSC 0), and the screen keeps its layout (tab strip, title,
# the lines after the hostile ones, the status bar) at 80x24 and 200x50;
# the console quits with 0 and restores the terminal.
source "$(dirname "$0")/lib.sh"

LOG=$E2E_DIR/hostile.log
CFG=$E2E_DIR/logs.yml
cat >"$CFG" <<EOF
project: hostile
logs:
  max_line: 64
  sources:
    - { name: app, file: $LOG, backlog: 50 }
EOF

hostile_lines() {	# $1: a tag to tell the rounds apart
	printf 'INFO %s before the storm\n' "$1"
	printf 'ERROR %s clip \033]52;c;cm0gLXJmIC8gIyBwd25lZA==\007 end\n' "$1"
	printf 'WARN %s title \033]0;pwned-title\007 and \033]2;pwned2\033\\ end\n' "$1"
	printf 'ERROR %s clear \033[2J\033[H\033[31;1mred\033[0m \033[10;10Hmoved \033[?1049l alt\n' "$1"
	printf 'INFO %s nul \000 bell \a bs \b del \177 c1 \302\233 31m end\n' "$1"
	printf 'INFO %s utf8 bad \xff\xfe\xc3 truncated \xe2\x82 end\n' "$1"
	printf '{"level":"error","msg":"%s json \\u001b]52;c;eA==\\u0007 esc"}\n' "$1"
	# one 10 MB line, then a marker after it
	head -c 10485760 /dev/zero | tr '\0' 'x'
	printf '\nINFO %s after the big line\n' "$1"
}

hostile_lines round1 >"$LOG"
tui_start 80 24 -- -c "$CFG"
tmux -L "$E2E_SOCK" set-option -g set-clipboard on >/dev/null
title0=$(tui_fmt '#{pane_title}')
tui_keys 2
tui_wait 'round1 after the big line'
tui_wait_re 'Logs +[0-9]+ lines'

# more of it while the console runs
hostile_lines round2 >>"$LOG"
tui_wait 'round2 after the big line'
screen=$(tui_capture)
log "screen at 80x24:"
printf '%s\n' "$screen" >&2

[[ -z $(tmux -L "$E2E_SOCK" list-buffers 2>/dev/null) ]] ||
	die "a paste buffer appeared: an OSC 52 clipboard write reached the terminal"
[[ $(tui_fmt '#{pane_title}') == "$title0" ]] ||
	die "the pane title changed to '$(tui_fmt '#{pane_title}')': an OSC title reached the terminal"
[[ $(tui_fmt '#{alternate_on}') == 1 ]] || die "the console left the alternate screen (ESC [?1049l got through)"
# layout intact: tab strip on top, pane title, status bar and key hints at the bottom
head -n 1 <<<"$screen" | grep -q 'Logs' || die "the tab strip is gone from the first row"
sed -n 2p <<<"$screen" | grep -qE '^ Logs +[0-9]+ lines' || die "the pane title is not on the second row"
tail -n 1 <<<"$screen" | grep -q 'q:quit' || die "the key hints are gone from the last row"
sed -n 23p <<<"$screen" | grep -q 'hostile' || die "the status bar is not on row 23"
# the bytes are shown as visible symbols, the text around them kept
assert_screen 'round2 after the big line'
grep -q '\[cut: 10485760 bytes\]' <<<"$screen" || die "the 10 MB line is not marked as cut"
# nothing moved text to row 10 col 10 ("moved" stays on the line it came with)
! grep -qE '^ {9}moved' <<<"$screen" || die "a cursor movement got through"

# the same at 200x50, with the detail of a hostile line open
tui_resize 200 50
tui_keys e
tui_wait_re 'round2 .*(clip|title|clear)'
[[ -z $(tmux -L "$E2E_SOCK" list-buffers 2>/dev/null) ]] || die "a paste buffer appeared at 200x50"
[[ $(tui_fmt '#{pane_title}') == "$title0" ]] || die "the pane title changed at 200x50"
tui_capture | tail -n 1 | grep -q 'q:quit' || die "the key hints are gone at 200x50"

tui_keys q
status=$(tui_wait_exit 5)
[[ $status == 0 ]] || die "q exited with status $status"
assert_terminal_restored
assert_clean_stderr
e2e_pass
