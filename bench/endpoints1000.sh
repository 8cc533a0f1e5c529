#!/usr/bin/env bash
# bench/endpoints1000.sh - 1,000 endpoints are one 5 s cycle.
#
# 1. `signalbox check --json` against 1,000 local endpoints (900 http, 100
#    https on the demo server): wall time of one full round, and how many
#    endpoints came back in each state (all 1,000 must be OK).
# 2. The console with the same config in a 200x50 tmux pane for WINDOW_S
#    seconds (default 30): CPU from the first field of /proc/PID/schedstat
#    (ns) as a share of one core, peak RSS (VmHWM), and the number of
#    requests the demo server logged in that window (= endpoints checked).
# Files land in bench/out/endpoints1000/.
source "$(dirname "$0")/lib.sh"

N=${N:-1000}
WINDOW_S=${WINDOW_S:-30}
[[ $N =~ ^[0-9]+$ && $WINDOW_S =~ ^[0-9]+$ ]] || bench_die "N and WINDOW_S must be whole numbers"

bench_demo_up
cfg=$BENCH_DEMO/e$N.yml
bench_config "$cfg" "$N"
server_log=$BENCH_DEMO/server.log

# ---- 1. one round through the CLI -------------------------------------------
t0=$EPOCHREALTIME
rc=0
HOME=$BENCH_OUT "$SIGNALBOX_BIN" check --json -c "$cfg" >"$BENCH_OUT/check.json" 2>"$BENCH_OUT/check.err" || rc=$?
t1=$EPOCHREALTIME
check_ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", (b - a) * 1000}')
counts=$(node -e '
	const j = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
	const eps = Array.isArray(j) ? j : (j.endpoints || j.results || []);
	const by = {};
	for (const e of eps) {
		const s = String(e.state || e.status || "?").toUpperCase();
		by[s] = (by[s] || 0) + 1;
	}
	console.log(eps.length + " " + Object.entries(by).map(([k, v]) => k + "=" + v).join(","));
' "$BENCH_OUT/check.json") || bench_die "check --json did not print valid JSON (see $BENCH_OUT/check.json)"
read -r check_n check_states <<<"$counts"

# ---- 2. the console for WINDOW_S seconds ------------------------------------
sock=bench-e1000-$$
lines0=$(wc -l <"$server_log")
bench_tmux "$sock" 200 50 "exec env HOME=$(printf '%q' "$BENCH_OUT") TERM=screen-256color \
	$(printf '%q' "$SIGNALBOX_BIN") -c $(printf '%q' "$cfg") 2>$(printf '%q' "$BENCH_OUT/console.err")"
pid=$(bench_pane_pid "$sock")
for ((i = 0; i < 50; i++)); do
	[[ $(cat "/proc/$pid/comm" 2>/dev/null) == signalbox ]] && break
	sleep 0.1
done
[[ $(cat "/proc/$pid/comm" 2>/dev/null) == signalbox ]] || bench_die "signalbox did not start (see $BENCH_OUT/console.err)"
cpu0=$(cpu_ns "$pid")
w0=$EPOCHREALTIME
sleep "$WINDOW_S"
cpu1=$(cpu_ns "$pid")
w1=$EPOCHREALTIME
hwm=$(hwm_kb "$pid")
thr=$(threads "$pid")
lines1=$(wc -l <"$server_log")
tmux -L "$sock" capture-pane -p -t b >"$BENCH_OUT/console.screen"
tmux -L "$sock" send-keys -t b q
for ((i = 0; i < 50; i++)); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$pid" 2>/dev/null && echo "bench/endpoints1000: signalbox did not quit on 'q'" >&2
tmux -L "$sock" kill-server 2>/dev/null || true

requests=$(sed -n "$((lines0 + 1)),${lines1}p" "$server_log" | grep -c '"path":"/health?i=' || true)
read -r wall_s cpu_ms cpu_pct <<<"$(awk -v a="$w0" -v b="$w1" -v c0="$cpu0" -v c1="$cpu1" \
	'BEGIN {w = b - a; c = (c1 - c0) / 1e6; printf "%.1f %.0f %.2f", w, c, c / (w * 1000) * 100}')"

{
	echo "$N endpoints (every 10th https), interval 5 s; $(machine_line)"
	echo
	echo "| measure | value |"
	echo "|---|---|"
	echo "| \`check --json\`: one round, wall | $check_ms ms (exit $rc) |"
	echo "| \`check --json\`: endpoints reported | $check_n ($check_states) |"
	echo "| console 200x50, ${wall_s} s: CPU | $cpu_ms ms = $cpu_pct % of one core |"
	echo "| console: requests served in the window | $requests (= $(awk -v r="$requests" -v n="$N" 'BEGIN {printf "%.2f", r / n}') rounds of $N) |"
	echo "| console: peak RSS | $(awk -v k="$hwm" 'BEGIN {printf "%.1f", k / 1024}') MiB, $thr threads |"
} | tee "$BENCH_OUT/results.md"
