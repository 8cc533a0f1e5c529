#!/usr/bin/env bash
# bench/logs.sh - the log engine (issue 6): ingest and search.
#
# 1. Ingest: a generated LINES-line (default 1,000,000, ~96 MB) mixed log
#    (bench/loggen.awk: JSON, logfmt, plain, access lines, Java traces),
#    read whole by `signalbox logs FILE --count` (default 64 MiB ring),
#    `lnav -n -q -c ':goto 100%' FILE` and `grep -c ERROR FILE`, in turn,
#    RUNS times each (A B C A B C ...), timed by /usr/bin/time (wall
#    seconds, peak RSS); medians reported.  Goals: signalbox >= 3x faster
#    than lnav; peak RSS <= ring + 16 MB.
# 2. Search over the whole file held in the ring (--max-memory 256M so no
#    line is dropped), measured inside the process by --bench-search (one
#    full logfilter_scan per expression, best of 3): a plain term, a regex
#    and @level:error.  Goals: 50 / 150 / 50 ms.
#
# Results: bench/out/logs/results.md.  Environment: LINES, RUNS (5),
# SIGNALBOX_BIN (build/signalbox; use a build without sanitizers).
source "$(dirname "$0")/lib.sh"

LINES=${LINES:-1000000}
RUNS=${RUNS:-5}
command -v lnav >/dev/null || bench_die "lnav is required (make deps)"
[[ -x /usr/bin/time ]] || bench_die "/usr/bin/time is required (apt-get install time)"
if nm -C "$SIGNALBOX_BIN" 2>/dev/null | grep -q __asan_init; then
	bench_die "$SIGNALBOX_BIN is built with sanitizers: benchmark a plain build"
fi

log=$BENCH_OUT/gen.log
awk -v lines="$LINES" -f "$BENCH_SRC/bench/loggen.awk" >"$log"
bytes=$(stat -c %s "$log")
# lnav keeps its state under HOME: give it a scratch one
export HOME=$BENCH_OUT/home
mkdir -p "$HOME"

# timed NAME CMD...: one run; appends "wall_s rss_kib" to $BENCH_OUT/NAME.txt
timed() {
	local name=$1
	shift
	/usr/bin/time -f '%e %M' -o "$BENCH_OUT/$name.one" "$@" >"$BENCH_OUT/$name.stdout" 2>/dev/null || true
	tail -n 1 "$BENCH_OUT/$name.one" >>"$BENCH_OUT/$name.txt"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

cat "$log" >/dev/null	# page cache warm for every contender
for ((i = 0; i <= RUNS; i++)); do	# run 0 is a warm-up, dropped below
	timed signalbox "$SIGNALBOX_BIN" logs "$log" --count
	timed lnav lnav -n -q -c ':goto 100%' "$log"
	timed grep grep -c ERROR "$log"
	if ((i == 0)); then
		rm -f "$BENCH_OUT"/{signalbox,lnav,grep}.txt
	fi
done

sb_count=$(cat "$BENCH_OUT/signalbox.stdout")
grep_count=$(cat "$BENCH_OUT/grep.stdout")
sb_s=$(awk '{print $1}' "$BENCH_OUT/signalbox.txt" | median)
sb_rss=$(awk '{print $2}' "$BENCH_OUT/signalbox.txt" | median)
ln_s=$(awk '{print $1}' "$BENCH_OUT/lnav.txt" | median)
ln_rss=$(awk '{print $2}' "$BENCH_OUT/lnav.txt" | median)
gr_s=$(awk '{print $1}' "$BENCH_OUT/grep.txt" | median)
gr_rss=$(awk '{print $2}' "$BENCH_OUT/grep.txt" | median)

# search, inside the process, over the whole file in the ring
"$SIGNALBOX_BIN" logs "$log" --count --max-memory 256M --stats \
	--bench-search 'timeout' \
	--bench-search '/upstream time(out|d) after [0-9]+ms/' \
	--bench-search '@level:error' >/dev/null 2>"$BENCH_OUT/search.txt" || true

{
	echo "# bench/logs.sh"
	echo
	echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
	echo "log: $LINES lines, $bytes bytes (bench/loggen.awk); $RUNS runs each after a warm-up, medians"
	echo
	echo "| command | wall s | peak RSS MiB |"
	echo "|---|---|---|"
	printf '| `signalbox logs FILE --count` (64 MiB ring) | %s | %.1f |\n' "$sb_s" "$(echo "$sb_rss / 1024" | bc -l)"
	printf '| `lnav -n -q -c %s FILE` | %s | %.1f |\n' "':goto 100%'" "$ln_s" "$(echo "$ln_rss / 1024" | bc -l)"
	printf '| `grep -c ERROR FILE` | %s | %.1f |\n' "$gr_s" "$(echo "$gr_rss / 1024" | bc -l)"
	echo
	printf 'signalbox counted %s entries (traces joined); grep counted %s ERROR lines.\n' "$sb_count" "$grep_count"
	printf 'lnav / signalbox: %.1fx\n' "$(echo "$ln_s / $sb_s" | bc -l)"
	echo
	echo '`signalbox logs FILE --count --max-memory 256M --stats --bench-search ...`:'
	echo
	echo '```'
	cat "$BENCH_OUT/search.txt"
	echo '```'
} >"$BENCH_OUT/results.md"
cat "$BENCH_OUT/results.md"
