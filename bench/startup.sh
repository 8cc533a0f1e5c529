#!/usr/bin/env bash
# bench/startup.sh - time from exec to the first full frame.
#
# signalbox with SIGNALBOX_EXIT_AFTER_FIRST_FRAME=1 draws its first complete
# frame and exits, so the whole-process wall time is start-up + first frame +
# teardown.  RUNS runs (default 30) go one after another inside an 80x24 tmux
# pane (a real terminal), each timed by bash's $EPOCHREALTIME around the
# exec; the first WARMUP (default 3) are not counted.  Reported: min, median,
# max in ms, for the demo config (9 endpoints in every state) and for 1,000
# endpoints.  Files land in bench/out/startup/.
source "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
[[ $RUNS =~ ^[0-9]+$ && $WARMUP =~ ^[0-9]+$ ]] && ((RUNS > 0 && RUNS <= 1000)) ||
	bench_die "RUNS (1..1000) and WARMUP must be whole numbers"

bench_demo_up
bench_config "$BENCH_DEMO/e1000.yml" 1000

# One timed series inside tmux; prints "min median max" in ms.
series() {
	local label=$1 cfg=$2 times=$BENCH_OUT/$1.times sock=bench-start-$1-$$ i
	cat >"$BENCH_OUT/$label.sh" <<EOF
export SIGNALBOX_EXIT_AFTER_FIRST_FRAME=1 HOME=$(printf '%q' "$BENCH_OUT/home")
for ((i = 0; i < $((RUNS + WARMUP)); i++)); do
	t0=\$EPOCHREALTIME
	$(printf '%q' "$SIGNALBOX_BIN") -c $(printf '%q' "$cfg") 2>>$(printf '%q' "$BENCH_OUT/$label.err")
	rc=\$?
	t1=\$EPOCHREALTIME
	((i >= $WARMUP)) && echo "\$t0 \$t1 \$rc" >>$(printf '%q' "$times")
done
echo done >$(printf '%q' "$times.done")
exec sleep 60
EOF
	mkdir -p "$BENCH_OUT/home"
	rm -f "$times" "$times.done"
	bench_tmux "$sock" 80 24 "TERM=screen-256color exec bash --norc --noprofile $(printf '%q' "$BENCH_OUT/$label.sh")"
	for ((i = 0; i < 1200; i++)); do	# up to 120 s
		[[ -e $times.done ]] && break
		sleep 0.1
	done
	tmux -L "$sock" kill-server 2>/dev/null || true
	[[ -e $times.done ]] || bench_die "$label: the runs did not finish in 120 s"
	if awk '$3 != 0 {bad = 1} END {exit !bad}' "$times"; then
		bench_die "$label: signalbox exited non-zero (see $times, $BENCH_OUT/$label.err)"
	fi
	awk '{printf "%.3f\n", ($2 - $1) * 1000}' "$times" | sort -n |
		awk '{v[NR] = $1} END {
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.1f %.1f %.1f %d\n", v[1], m, v[NR], NR }'
}

demo=$(series demo "$BENCH_DEMO/signalbox.yml")
big=$(series e1000 "$BENCH_DEMO/e1000.yml")

{
	echo "exec to first full frame (SIGNALBOX_EXIT_AFTER_FIRST_FRAME=1), 80x24 tmux pane; $(machine_line)"
	echo
	echo "| config             | runs | min ms | median ms | max ms |"
	echo "|--------------------|------|--------|-----------|--------|"
	read -r a b c n <<<"$demo"
	printf '| demo (9 endpoints) | %4d | %6s | %9s | %6s |\n' "$n" "$a" "$b" "$c"
	read -r a b c n <<<"$big"
	printf '| 1,000 endpoints    | %4d | %6s | %9s | %6s |\n' "$n" "$a" "$b" "$c"
} | tee "$BENCH_OUT/results.md"
