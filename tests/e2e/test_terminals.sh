#!/usr/bin/env bash
# e2e (e): the console runs under NO_COLOR=1, TERM=xterm (8 colours) and
# TERM=screen-256color: it draws the same screen, uses no colour at all
# under NO_COLOR (states stay distinguishable by attributes), uses colour
# otherwise, quits with 0 and restores the terminal.
source "$(dirname "$0")/lib.sh"

demo_start

# sgr_report: read `capture-pane -e` output on stdin and print, for each line
# that starts with a state word (the STATE column), "<state> <colours>
# <attrs>", e.g. "DOWN fg=5;203 bold" or "DOWN - bold,reverse"; then
# "COLOURS n", the number of colour changes on the whole screen.
sgr_report() {
	node -e '
		const text = require("node:fs").readFileSync(0, "utf8");
		let fg = null, bg = null, attrs = new Set(), colours = 0, lineStart = true;
		const out = [];
		const re = /\x1b\[([0-9;:]*)m|\n|[^\x1b\n]+/g;
		let m;
		while ((m = re.exec(text)) !== null) {
			if (m[0] === "\n") { lineStart = true; continue; }
			if (m[1] === undefined) {
				const w = /^(OK|DEGRADED|DOWN)\b/.exec(m[0]);
				if (lineStart && w)
					out.push(`${w[1]} ${fg !== null ? "fg=" + fg : "-"}${bg !== null ? ",bg=" + bg : ""} ${[...attrs].sort().join(",") || "-"}`);
				lineStart = false;
				continue;
			}
			const p = m[1] === "" ? [0] : m[1].split(/[;:]/).map(Number);
			for (let i = 0; i < p.length; i++) {
				const n = p[i];
				if (n === 0) { fg = bg = null; attrs.clear(); }
				else if (n === 1) attrs.add("bold");
				else if (n === 2) attrs.add("dim");
				else if (n === 4) attrs.add("underline");
				else if (n === 5) attrs.add("blink");
				else if (n === 7) attrs.add("reverse");
				else if (n === 22) { attrs.delete("bold"); attrs.delete("dim"); }
				else if (n === 24) attrs.delete("underline");
				else if (n === 27) attrs.delete("reverse");
				else if (n === 39) fg = null;
				else if (n === 49) bg = null;
				else if ((n >= 30 && n <= 37) || (n >= 90 && n <= 97)) { fg = String(n); colours++; }
				else if ((n >= 40 && n <= 47) || (n >= 100 && n <= 107)) { bg = String(n); colours++; }
				else if (n === 38 || n === 48) {
					let v;
					if (p[i + 1] === 5) { v = "5;" + p[i + 2]; i += 2; }
					else if (p[i + 1] === 2) { v = "2;" + p.slice(i + 2, i + 5).join(";"); i += 4; }
					if (n === 38) fg = v; else bg = v;
					colours++;
				}
			}
		}
		out.push("COLOURS " + colours);
		console.log(out.join("\n"));'
}

# run_in TERM [VAR=value ...]: start, check the list and the states, quit.
run_in() {
	local term=$1
	shift
	tui_start 80 24 "TERM=$term" "$@" -- -c "$E2E_CONFIG"
	tui_wait_re '^STATE +NAME +HTTP'
	wait_row api      '^OK\*? +api +200 '
	wait_row cache    '^DEGRADED\*? +cache +200 '
	wait_row payments '^DOWN\*? +payments +500 '
	wait_row reports  '^DOWN\*? +reports '
	tui_wait_re '^ 1 Health.*4 down.* 2 Help'
	tui_wait_re '^ demo +production \[protected\]'
	[[ $(tui_fmt '#{alternate_on}') == 1 || $term == xterm ]] ||
		die "TERM=$term: not on the alternate screen"
	tui_capture -e >"$E2E_DIR/screen-$term$*.ansi"
	sgr_report <"$E2E_DIR/screen-$term$*.ansi" >"$E2E_DIR/sgr-$term$*.txt"
}

quit_clean() {
	tui_keys q
	[[ $(tui_wait_exit 5) == 0 ]] || die "q did not exit 0 ($*)"
	assert_terminal_restored
	assert_clean_stderr
}

# ---- NO_COLOR ---------------------------------------------------------------
run_in screen-256color NO_COLOR=1
sgr=$E2E_DIR/sgr-screen-256colorNO_COLOR=1.txt
grep -qx 'COLOURS 0' "$sgr" || { cat "$sgr" >&2; die "NO_COLOR=1: colours used"; }
# without colour, a failing state must still stand out from OK
grep -Eq '^DOWN - .*(bold|reverse|underline)' "$sgr" || { cat "$sgr" >&2; die "NO_COLOR: DOWN has no attribute"; }
grep -Eq '^DEGRADED - .*(bold|reverse|underline)' "$sgr" || { cat "$sgr" >&2; die "NO_COLOR: DEGRADED has no attribute"; }
if [[ $(grep -m1 '^DOWN ' "$sgr") == "$(grep -m1 '^DEGRADED ' "$sgr" | sed 's/^DEGRADED/DOWN/')" ]]; then
	die "NO_COLOR: DOWN and DEGRADED look the same"
fi
quit_clean NO_COLOR

# ---- TERM=screen-256color: colours, and states in different ones ------------
run_in screen-256color
sgr=$E2E_DIR/sgr-screen-256color.txt
grep -qx 'COLOURS 0' "$sgr" && die "TERM=screen-256color: no colours at all"
ok=$(grep -m1 '^OK ' "$sgr" | cut -d' ' -f2) down=$(grep -m1 '^DOWN ' "$sgr" | cut -d' ' -f2)
[[ $ok != - && $down != - && $ok != "$down" ]] || { cat "$sgr" >&2; die "OK and DOWN not in different colours"; }
quit_clean screen-256color

# ---- TERM=xterm (8 colours) ----------------------------------------------------
run_in xterm
sgr=$E2E_DIR/sgr-xterm.txt
grep -qx 'COLOURS 0' "$sgr" && die "TERM=xterm: no colours at all"
# 8-colour terminal: no 256-colour sequences
grep -q '5;' "$sgr" && { cat "$sgr" >&2; die "TERM=xterm: 256-colour codes sent to an 8-colour terminal"; }
quit_clean xterm

e2e_pass
