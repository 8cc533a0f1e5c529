#!/usr/bin/env bash
# bench/idle.sh - what signalbox costs while nothing happens, next to htop,
# in the same run.
#
# For each size (80x24, then 200x50) signalbox and htop run at the same time,
# each in its own tmux session of that size, each under
#   script -q -f --log-out F --log-timing T
# for IDLE_S seconds (default 10) with nobody touching a key.  signalbox
# checks 20 healthy local endpoints (the demo server) every 5 s; htop runs
# with a fresh HOME (default settings).  Then, for each program's own pid:
#   written  = sum of the 2nd column of T (bytes sent to the terminal)
#   steady   = the same, counting only output after the first 2 s
#   cpu      = first field of /proc/PID/schedstat (ns), read at the end;
#              "after 2s" subtracts the reading at 2 s (start-up excluded)
#   peak rss = VmHWM from /proc/PID/status
# and prints a markdown table.  Files land in bench/out/idle/.
source "$(dirname "$0")/lib.sh"

IDLE_S=${IDLE_S:-10}
SIZES=${SIZES:-"80x24 200x50"}
[[ $IDLE_S =~ ^[0-9]+$ ]] && (( IDLE_S > 2 )) || bench_die "IDLE_S must be whole seconds, more than 2"

bench_demo_up
bench_config "$BENCH_DEMO/idle20.yml" 20

rows=()
for size in $SIZES; do
	cols=${size%x*} lines=${size#*x}
	declare -A sock pid
	for prog in signalbox htop; do
		d=$BENCH_OUT/$prog-$size
		mkdir -p "$d/home"
		if [[ $prog == signalbox ]]; then
			cmd="exec $(printf '%q' "$SIGNALBOX_BIN") -c $(printf '%q' "$BENCH_DEMO/idle20.yml")"
		else
			cmd="exec htop"
		fi
		sock[$prog]=bench-idle-$prog-$$
		bench_tmux "${sock[$prog]}" "$cols" "$lines" \
			"cd $(printf '%q' "$d") && exec env HOME=$(printf '%q' "$d/home") SHELL=/bin/sh TERM=screen-256color \
			script -q -f --log-out out.log --log-timing timing.log -c $(printf '%q' "$cmd")"
	done
	for prog in signalbox htop; do
		pid[$prog]=$(bench_child "$(bench_pane_pid "${sock[$prog]}")" "$prog")
	done
	# CPU is read at 2 s too: after it, start-up is over for both.
	declare -A cpu2
	sleep 2
	for prog in signalbox htop; do
		cpu2[$prog]=$(cpu_ns "${pid[$prog]}")
	done
	sleep "$((IDLE_S - 2))"
	for prog in signalbox htop; do
		d=$BENCH_OUT/$prog-$size
		p=${pid[$prog]}
		cpu=$(cpu_ns "$p") hwm=$(hwm_kb "$p") thr=$(threads "$p")
		cp "$d/timing.log" "$d/timing-${IDLE_S}s.log"
		bytes=$(timing_bytes "$d/timing-${IDLE_S}s.log")
		steady=$(timing_bytes_after "$d/timing-${IDLE_S}s.log" 2)
		rows+=("$(printf '| %-9s | %7s | %10d | %10d | %8.1f | %8.1f | %8.1f | %7s |' \
			"$prog" "$size" "$bytes" "$steady" \
			"$(awk -v n="$cpu" 'BEGIN {print n / 1e6}')" \
			"$(awk -v n="$cpu" -v m="${cpu2[$prog]}" 'BEGIN {print (n - m) / 1e6}')" \
			"$(awk -v k="$hwm" 'BEGIN {print k / 1024}')" "$thr")")
		tmux -L "${sock[$prog]}" send-keys -t b q
	done
	# Let both quit, bounded; a leftover is killed with its tmux server.
	for ((i = 0; i < 30; i++)); do
		kill -0 "${pid[signalbox]}" 2>/dev/null || kill -0 "${pid[htop]}" 2>/dev/null || break
		sleep 0.1
	done
	for prog in signalbox htop; do
		if kill -0 "${pid[$prog]}" 2>/dev/null; then
			echo "bench/idle: $prog (pid ${pid[$prog]}) did not quit on 'q'" >&2
		fi
		tmux -L "${sock[$prog]}" kill-server 2>/dev/null || true
	done
	unset sock pid cpu2
done

{
	echo "idle ${IDLE_S} s, signalbox with 20 endpoints every 5 s; $(machine_line)"
	echo
	echo "| program   | size    | written B  | after 2s B | cpu ms   | cpu ms after 2s | peak MiB | threads |"
	echo "|-----------|---------|------------|------------|----------|-----------------|----------|---------|"
	printf '%s\n' "${rows[@]}"
} | tee "$BENCH_OUT/results.md"
