#!/usr/bin/env bash
# e2e (c): resizing re-lays the screen out at once and leaves nothing of the
# old layout behind: 80x24 (one pane, tab strip) -> 200x50 (list and detail
# side by side) -> 100x30 (one pane) -> too small -> 80x24 -> 200x50, then
# keys and resizes arriving together.
#
# "Nothing left behind" is checked two ways: structurally (one tab strip,
# one status bar on the last-but-one line, each endpoint once, blank rows
# blank, the split separator on every body line), and against a reference:
# a second console started fresh at the target size must show the same
# screen once numbers (latencies, ages, clock) are masked.
#
# The health interval is 60 s here, so after the first round nothing but the
# resize itself can make the console draw: a lost SIGWINCH or a deferred
# frame shows as a timeout instead of being hidden by the next update.
source "$(dirname "$0")/lib.sh"

demo_start
cfg=$E2E_DEMO_RUN/slow.yml
sed 's/^  interval: 5s$/  interval: 60s/' "$E2E_CONFIG" >"$cfg"
grep -q 'interval: 60s' "$cfg" || die "could not make the 60 s config"

NAMES=(api api-http billing cache payments search legacy ws reports)
RELAYOUT_LIMIT_S=2
SIZES=(80x24 200x50 100x30)

# Mask what legitimately differs between two consoles: numbers, sparkline
# glyphs, the in-flight marker, runs of spaces.
normalise() {
	sed -E -e 's/[▁▂▃▄▅▆▇█]//g' -e 's/^(OK|DEGRADED|DOWN|UNKNOWN)\*/\1/' \
		-e 's/[0-9]+([.:][0-9]+)*/N/g' -e 's/ +/ /g' -e 's/ $//'
}

# ---- reference screens: a fresh console per size -----------------------------
ref_sock() { echo "$E2E_SOCK_BASE-ref$1"; }
for size in "${SIZES[@]}"; do
	tmux -L "$(ref_sock "$size")" -f /dev/null new-session -d -s ref -x "${size%x*}" -y "${size#*x}" \
		"cd $(printf '%q' "$E2E_DIR") && exec $(printf '%q' "$SIGNALBOX_BIN") -c $(printf '%q' "$cfg") 2>ref-$size.err"
done
for size in "${SIZES[@]}"; do
	for ((i = 0; i < E2E_TIMEOUT * 10; i++)); do
		scr=$(tmux -L "$(ref_sock "$size")" capture-pane -p -t ref 2>/dev/null || true)
		if grep -Eq '^DOWN +search ' <<<"$scr" && grep -Eq '^OK +ws ' <<<"$scr" &&
		   ! grep -Eq '^(UNKNOWN|[A-Z]+\*) ' <<<"$scr"; then
			break
		fi
		sleep 0.1
	done
	sleep 0.3
	tmux -L "$(ref_sock "$size")" capture-pane -p -t ref >"$E2E_DIR/ref-$size.screen" ||
		die "reference console at $size did not run"
	grep -Eq '^DOWN +search ' "$E2E_DIR/ref-$size.screen" ||
		{ cat "$E2E_DIR/ref-$size.screen" >&2; die "reference console at $size never finished its first round"; }
	tmux -L "$(ref_sock "$size")" kill-server 2>/dev/null || true
done

# check_layout COLS ROWS single|split
check_layout() {
	local cols=$1 rows=$2 mode=$3 n i line name sep=-1 ref=$E2E_DIR/ref-$1x$2.screen
	local -a screen
	tui_capture >"$E2E_DIR/cur-${cols}x$rows.screen"
	mapfile -t screen <"$E2E_DIR/cur-${cols}x$rows.screen"
	n=${#screen[@]}
	((n == rows)) || die "captured $n lines, expected $rows"
	for ((i = 0; i < n; i++)); do
		((${#screen[i]} <= cols)) || die "line $((i + 1)) is ${#screen[i]} columns wide (> $cols)"
	done
	# the same screen a fresh console draws at this size
	if ! diff <(normalise <"$ref") <(normalise <"$E2E_DIR/cur-${cols}x$rows.screen") >"$E2E_DIR/diff-${cols}x$rows" 2>&1; then
		cat "$E2E_DIR/diff-${cols}x$rows" >&2
		die "after resizing to ${cols}x$rows the screen differs from a fresh start at that size (diff: fresh < > resized)"
	fi
	# and the structure, spelled out
	[[ ${screen[0]} =~ ^\ 1\ Health ]] || die "line 1 is not the tab strip: '${screen[0]}'"
	[[ ${screen[rows - 2]} =~ ^\ demo\ +production\ \[protected\] ]] || die "line $((rows - 1)) is not the status bar"
	(($(grep -c ' demo  production' "$E2E_DIR/cur-${cols}x$rows.screen") == 1)) || die "status bar appears more than once"
	(($(grep -c '^STATE ' "$E2E_DIR/cur-${cols}x$rows.screen") == 1)) || die "column header appears more than once"
	for ((i = 0; i < ${#NAMES[@]}; i++)); do
		name=${NAMES[i]}
		[[ ${screen[3 + i]} =~ ^(OK|DEGRADED|DOWN)\*?\ +$name\  ]] || die "line $((4 + i)) should be endpoint '$name': '${screen[3 + i]}'"
		(($(grep -cE "^(OK|DEGRADED|DOWN|UNKNOWN)\*? +$name " "$E2E_DIR/cur-${cols}x$rows.screen") == 1)) ||
			die "endpoint '$name' appears more than once"
	done
	if [[ $mode == split ]]; then
		# the separator column, from line 2
		line=${screen[1]}
		for ((i = 0; i < ${#line}; i++)); do
			[[ ${line:i:1} == "│" ]] && { sep=$i; break; }
		done
		((sep > 0)) || die "split layout expected at ${cols}x$rows: no separator on line 2"
		for ((i = 1; i < rows - 2; i++)); do
			line=${screen[i]}
			[[ ${line:sep:1} == "│" ]] || die "line $((i + 1)): no separator at column $((sep + 1))"
			if ((i >= 3 + ${#NAMES[@]})) && [[ ${line:0:sep} =~ [^[:space:]] ]]; then
				die "line $((i + 1)): stray text left of the separator: '${line:0:sep}'"
			fi
		done
		[[ ${screen[1]:sep+1} =~ ^\ api\ https://127\.0\.0\.1: ]] || die "no detail of 'api' right of the separator"
	else
		grep -q '│' "$E2E_DIR/cur-${cols}x$rows.screen" && die "single layout expected at ${cols}x$rows, but a separator is drawn"
		for ((i = 3 + ${#NAMES[@]}; i < rows - 2; i++)); do
			[[ -z ${screen[i]//[[:space:]]/} ]] || die "line $((i + 1)) should be empty: '${screen[i]}'"
		done
	fi
}

# resize_to COLS ROWS: resize and wait (bounded) until the status bar sits on
# the new last-but-one line.
resize_to() {
	local cols=$1 rows=$2 t0 i ms
	t0=$EPOCHREALTIME
	tui_resize "$cols" "$rows"
	for ((i = 0; i < RELAYOUT_LIMIT_S * 20; i++)); do
		if [[ $(tui_capture | sed -n "$((rows - 1))p") =~ ^\ demo\ +production ]] &&
		   (($(tui_capture | grep -c ' demo  production') == 1)); then
			ms=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%d", (b - a) * 1000}')
			log "relaid out at ${cols}x$rows in ${ms} ms"
			sleep 0.2	# let a frame still on its way land before looking
			return 0
		fi
		sleep 0.05
	done
	die "no new layout ${RELAYOUT_LIMIT_S} s after resizing to ${cols}x$rows" \
		"(the pty says $(stty -F "$(tui_fmt '#{pane_tty}')" size 2>&1 | tr ' ' x) as rows x cols)"
}

tui_start 80 24 -- -c "$cfg"
wait_row search '^DOWN +search '
wait_row ws '^OK +ws '
sleep 0.3
check_layout 80 24 single

resize_to 200 50
check_layout 200 50 split
resize_to 100 30
check_layout 100 30 single
# too small for anything: says so instead of drawing garbage
tui_resize 20 3
for ((i = 0; i < RELAYOUT_LIMIT_S * 20; i++)); do
	tui_capture | grep -q 'too small' && break
	sleep 0.05
done
tui_capture | grep -q 'too small' || die "no 'too small' note at 20x3"
resize_to 80 24
check_layout 80 24 single
resize_to 200 50
check_layout 200 50 split

# a key and a resize arriving together: neither may be lost
for _ in 1 2 3; do
	tui_keys j
	resize_to 100 30
	tui_keys k
	resize_to 200 50
done
check_layout 200 50 split

tui_keys q
[[ $(tui_wait_exit 5) == 0 ]] || die "q did not exit 0 after resizing"
assert_terminal_restored
assert_clean_stderr
e2e_pass
