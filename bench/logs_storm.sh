#!/usr/bin/env bash
# bench/logs_storm.sh - the live log storm of issue 6: the sandbox's
# `log-storm` fault at RATE lines/s per replica (6 replicas; default 16667,
# i.e. 100,000 lines/s asked for) for STORM_S (30) s, with the console in
# tmux at 200x50 on its Logs pane (the key from the tab bar).
#
#   - its own sandbox (private run dir in /tmp, port base STORM_PORT_BASE,
#     default 24000), stopped with `sandbox/down --purge` however the script
#     ends;
#   - the console (`signalbox -c $RUN/signalbox.yml`, the sandbox's env
#     sourced) in tmux at 200x50, on the Logs pane; and, unless FOLLOW_CLI=0,
#     `signalbox logs all --follow --json --lines 0` piped into
#     bench/storm_count.awk, which checks every storm line by the replica's
#     own sequence number (missing, duplicated) and the emulator's ingest lag;
#   - every second (samples.tsv): the console's VmRSS and utime+stime
#     (/proc/PID/stat), the CPU of the emulator, of the replicas and of the
#     follow CLI, the lines the replicas wrote (sum of log_lines_total on each
#     replica's /metrics), the lines the console holds and dropped (its Logs
#     title: "N lines, M dropped (logs.max_memory)"), the lines the CLI read;
#   - key-to-screen latency: PROBES (50) times during the storm, `t` is sent
#     to the console and the first log row polled until its timestamp column
#     appears or disappears; each console probe is followed by the same probe
#     against `less` on a file in the same tmux server (`-N` Enter toggles
#     line numbers): the floor of tmux, the polling and the machine's load.
#     IDLE_PROBES (20) of each before the storm as the idle baseline.  Keys
#     and captures go through one tmux control-mode client (no fork per
#     poll); a probe gives up after 2 s.
#   - after the storm, sampling and probing (phase "drain": the emulator
#     delivers its backlog then, faster than during the storm) go on until
#     the console's count has not moved for DRAIN_QUIET_S (5) s, at most
#     DRAIN_MAX_S (90) s.
#
# Results: bench/out/logs_storm/{results.md,samples.tsv,probes.tsv,...}; a
# section is appended to bench/RESULTS.md unless STORM_APPEND=0.
# Environment: RATE, STORM_S, PROBES, IDLE_PROBES, FOLLOW_CLI, STORM_PORT_BASE,
# SIGNALBOX_BIN (build/signalbox, RelWithDebInfo; never a sanitizer build).
source "$(dirname "$0")/lib.sh"

RATE=${RATE:-16667}
STORM_S=${STORM_S:-30}
PROBES=${PROBES:-50}
IDLE_PROBES=${IDLE_PROBES:-20}
FOLLOW_CLI=${FOLLOW_CLI:-1}
DRAIN_QUIET_S=${DRAIN_QUIET_S:-5}
DRAIN_MAX_S=${DRAIN_MAX_S:-90}
STORM_APPEND=${STORM_APPEND:-1}
STORM_PORT_BASE=${STORM_PORT_BASE:-24000}
PROBE_MAX_S=2

for tool in curl ss; do
	command -v "$tool" >/dev/null || bench_die "$tool is required"
done
if nm -C "$SIGNALBOX_BIN" 2>/dev/null | grep -q __asan_init; then
	bench_die "$SIGNALBOX_BIN is built with sanitizers: benchmark a plain build"
fi
b=$STORM_PORT_BASE
[[ $b =~ ^[0-9]+$ ]] && ((b >= 1024 && b + 299 < 32768)) ||
	bench_die "STORM_PORT_BASE must leave base..base+299 below 32768"
for r in 25000:25299 26000:26299 27100:32399; do	# used by other people and tests
	((b + 299 < ${r%:*} || b > ${r#*:})) || bench_die "STORM_PORT_BASE $b overlaps ${r/:/-}"
done
[[ $RATE =~ ^[0-9]+$ ]] && ((RATE >= 1 && RATE <= 20000)) || bench_die "RATE must be 1..20000 (sandbox/fault)"
hz=$(getconf CLK_TCK)

# the binary is copied: a `make build` by someone else during the run must
# not change what is measured
mkdir -p "$BENCH_OUT/bin"
cp "$SIGNALBOX_BIN" "$BENCH_OUT/bin/signalbox"
BIN=$BENCH_OUT/bin/signalbox
bin_id="$(sha256sum "$BIN" | cut -c1-12), built $(date -u -r "$SIGNALBOX_BIN" '+%Y-%m-%d %H:%M UTC')"

RUN=$(mktemp -d /tmp/signalbox-bench-storm.XXXXXX)
SOCK=bench-storm-$$
CTL_PID= CLI_PID= AWK_PID= SAMPLER_PID=
storm_cleanup() {
	local p
	# stop what we started, by pid
	[[ -n $CTL_PID ]] && kill "$CTL_PID" 2>/dev/null
	for p in $SAMPLER_PID $CLI_PID $AWK_PID; do
		kill "$p" 2>/dev/null || true
	done
	tmux -L "$SOCK" kill-server 2>/dev/null || true
	SANDBOX_RUN_DIR=$RUN "$BENCH_SRC/sandbox/down" --purge >"$BENCH_OUT/sandbox-down.log" 2>&1 ||
		echo "bench/logs_storm: sandbox/down --purge failed, see $BENCH_OUT/sandbox-down.log" >&2
	[[ $RUN == /tmp/signalbox-bench-storm.* ]] && rm -rf "$RUN"
	bench_cleanup
}
trap storm_cleanup EXIT

say() { printf 'bench/logs_storm: %s\n' "$*" >&2; }
now() { echo "$EPOCHREALTIME"; }

say "sandbox on base $b in $RUN"
SANDBOX_RUN_DIR=$RUN SANDBOX_PORT_BASE=$b "$BENCH_SRC/sandbox/up" -q >"$BENCH_OUT/sandbox-up.log" 2>&1 ||
	{ tail -n 20 "$BENCH_OUT/sandbox-up.log" >&2; bench_die "sandbox/up failed"; }
EMU=127.0.0.1:$((b + 10))
fault() { SANDBOX_RUN_DIR=$RUN "$BENCH_SRC/sandbox/fault" "$@" >>"$BENCH_OUT/fault.log" 2>&1; }

# the emulator's pid and the running replicas (pid port), from /admin/state
curl -s --max-time 5 "http://$EMU/admin/state" >"$BENCH_OUT/state.json" || bench_die "no /admin/state"
node -e '
const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
console.log("emu " + j.pid);
for (const d of j.deployments)
	for (const r of d.replicas)
		if (r.status === "RUNNING" && r.port && d.environment === "production")
			console.log("rep " + r.pid + " " + r.port + " " + d.service);
' "$BENCH_OUT/state.json" >"$BENCH_OUT/procs.txt"
EMU_PID=$(awk '$1 == "emu" {print $2}' "$BENCH_OUT/procs.txt")
REP_PIDS=$(awk '$1 == "rep" {printf "%s ", $2}' "$BENCH_OUT/procs.txt")
REP_PORTS=$(awk '$1 == "rep" {printf "%s ", $3}' "$BENCH_OUT/procs.txt")
N_REP=$(grep -c '^rep ' "$BENCH_OUT/procs.txt")
((N_REP > 0)) && [[ -n $EMU_PID ]] || bench_die "no emulator or replicas in /admin/state"

# tmux: the console in session b, less in session f, one server
printf 'line %d of the latency floor file\n' $(seq 1 300) >"$BENCH_OUT/floor.txt"
tmux -L "$SOCK" -f /dev/null new-session -d -s b -x 200 -y 50 \
	". '$RUN/env'; exec '$BIN' -c '$RUN/signalbox.yml'"
tmux -L "$SOCK" set-option -g status off >/dev/null
tmux -L "$SOCK" set-option -g remain-on-exit on >/dev/null
tmux -L "$SOCK" new-session -d -s f -x 200 -y 50 \
	"exec env -u LESS -u LESSOPEN less '$BENCH_OUT/floor.txt'"
pane=$(tmux -L "$SOCK" display-message -p -t b '#{pane_pid}')
SB_PID=
for ((i = 0; i < 150; i++)); do	# the pane's shell execs the console (or forks it)
	if [[ $(cat "/proc/$pane/comm" 2>/dev/null) == signalbox ]]; then
		SB_PID=$pane
		break
	fi
	SB_PID=$(pgrep -P "$pane" -x signalbox | head -n 1 || true)
	[[ -n $SB_PID ]] && break
	# the console's exact command line (the binary path is this run's copy)
	SB_PID=$(pgrep -f -x -- "$BIN -c $RUN/signalbox.yml" | head -n 1 || true)
	[[ -n $SB_PID ]] && break
	sleep 0.1
done
if [[ -z $SB_PID ]]; then
	tmux -L "$SOCK" capture-pane -p -t b | head -n 3 >&2 || true
	say "pane pid '$pane' comm '$(cat "/proc/$pane/comm" 2>&1)'; $(ps -o pid,ppid,comm,args -p "$pane" 2>&1 | tail -n 1)"
	pgrep -a -f -- "$BIN" >&2 || true
	bench_die "the console did not start in the tmux pane"
fi

# control-mode client: send-keys and capture-pane without a fork each
coproc CTL { exec tmux -L "$SOCK" -C attach -f no-output -t b 2>/dev/null; }
CTL_PID=$CTL_PID
CTL_OUT=
ctl() {	# ctl COMMAND: its output in CTL_OUT; 1 if no answer in 2 s
	local line inb=0
	CTL_OUT=
	printf '%s\n' "$1" >&"${CTL[1]}"
	while IFS= read -r -t 2 -u "${CTL[0]}" line; do
		case $line in
		%begin*) inb=1 ;;
		%end* | %error*) ((inb)) && return 0 ;;
		*) ((inb)) && CTL_OUT+=$line$'\n' ;;
		esac
	done
	return 1
}
ctl_sync() {	# skip what attach printed: wait for our own marker
	local line tok=sync-$$-$RANDOM deadline=$((SECONDS + 5))
	printf 'display-message -p %s\n' "$tok" >&"${CTL[1]}"
	while ((SECONDS < deadline)) && IFS= read -r -t 2 -u "${CTL[0]}" line; do
		if [[ $line == "$tok" ]]; then
			read -r -t 2 -u "${CTL[0]}" line	# its %end
			return 0
		fi
	done
	return 1
}
ctl_sync || bench_die "tmux control client did not answer"

# wait for the console's first frame, then the Logs pane
for ((i = 0; i < 100; i++)); do
	ctl "capture-pane -p -t b -S 0 -E 0" && [[ $CTL_OUT == *Logs* ]] && break
	sleep 0.1
done
# the Logs tab's key, from the tab bar ("... 6 Logs ..."; it was 3 before 1424d2a)
ctl "capture-pane -p -t b -S 0 -E 0"
LOGS_KEY=3
[[ $CTL_OUT =~ ([0-9])\ Logs ]] && LOGS_KEY=${BASH_REMATCH[1]}
for ((i = 0; i < 100; i++)); do	# again every 2 s if a key went astray
	((i % 20 == 0)) && ctl "send-keys -t b $LOGS_KEY"
	ctl "capture-pane -p -t b -S 1 -E 1" && [[ $CTL_OUT =~ ^\ Logs\ +[0-9]+\ lines ]] && break
	sleep 0.1
done
[[ $CTL_OUT =~ ^\ Logs\ +[0-9]+\ lines ]] || bench_die "the Logs pane did not show (row 1: '$CTL_OUT')"

TS_RE='^[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} '
LN_RE='^ +1 '
# probe KIND: one key-to-screen measurement; appends to probes.tsv
#   console: `t` on session b, row 3 (first log line) gains/loses its time
#   less:    `-N` Enter on session f, row 0 gains/loses its line number
probe() {
	local kind=$1 phase=$2 tgt row re keys st c n=0 t0 t1 us_end ok=1
	if [[ $kind == console ]]; then tgt=b row=3 re=$TS_RE keys=t
	else tgt=f row=0 re=$LN_RE keys='-N Enter'; fi
	ctl "capture-pane -p -t $tgt -S $row -E $row" || return 0
	[[ $CTL_OUT =~ $re ]] && st=1 || st=0
	t0=$EPOCHREALTIME
	us_end=$(( ${t0%.*} * 1000000 + 10#${t0#*.} + PROBE_MAX_S * 1000000 ))
	ctl "send-keys -t $tgt -- $keys" || return 0
	while :; do
		ctl "capture-pane -p -t $tgt -S $row -E $row" || { ok=0; break; }
		n=$((n + 1))
		[[ $CTL_OUT =~ $re ]] && c=1 || c=0
		((c != st)) && break
		t1=$EPOCHREALTIME
		((${t1%.*} * 1000000 + 10#${t1#*.} >= us_end)) && { ok=0; break; }
	done
	t1=$EPOCHREALTIME
	printf '%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n' "$phase" "$kind" "$t0" "$t1" "$n" "$ok" "$st" \
		"${CTL_OUT:0:24}" >>"$BENCH_OUT/probes.tsv"
}
# the loop's own floor: one capture-pane round trip, no key
floor_poll() {
	local t0 t1
	t0=$EPOCHREALTIME
	ctl "capture-pane -p -t b -S 3 -E 3" || return 0
	t1=$EPOCHREALTIME
	printf '%s\t%s\t%s\t%s\t1\t1\t-\t-\n' "$1" poll "$t0" "$t1" >>"$BENCH_OUT/probes.tsv"
}

# the console's Logs title: "lines dropped"
title_counts() {
	local row l=0 d=0
	row=$(tmux -L "$SOCK" capture-pane -p -t b -S 1 -E 1 2>/dev/null) || true
	[[ $row =~ Logs\ +([0-9]+)\ lines ]] && l=${BASH_REMATCH[1]}
	[[ $row =~ ([0-9]+)\ dropped ]] && d=${BASH_REMATCH[1]}
	echo "$l $d"
}
# no fork: these run every second on a loaded machine
TICKS=0 RSS=0
ticks() {	# utime + stime of $1 (clock ticks) into TICKS
	local f
	TICKS=0
	read -ra f <"/proc/$1/stat" 2>/dev/null || return 0
	TICKS=$((f[13] + f[14]))
}
rss_kb() {
	local k v u
	RSS=0
	while read -r k v u; do
		[[ $k == VmRSS: ]] && { RSS=$v; return 0; }
	done <"/proc/$1/status" 2>/dev/null
	return 0
}
declare -A W_LAST
written() {	# lines the replicas wrote so far (sum of log_lines_total); one curl
	local args=() p i=0 v sum=0
	for p in $REP_PORTS; do args+=("http://127.0.0.1:$p/metrics"); done
	local -a per
	mapfile -t per < <(curl -s --max-time 2 -w 'END %{http_code}\n' "${args[@]}" 2>/dev/null |
		awk '/^log_lines_total/ {s += $2} /^END / {print ($2 == 200 ? s + 0 : -1); s = 0}')
	for p in $REP_PORTS; do
		v=${per[i]:--1}
		((v >= 0)) && W_LAST[$p]=$v
		sum=$((sum + ${W_LAST[$p]:-0}))
		i=$((i + 1))
	done
	echo "$sum"
}
sampler() {	# one line a second until $1 (epoch s) or killed
	local until=$1 t rep p sq rq ms sbt emut clit rss w tc cc
	set +e
	printf 't\tsb_rss_kb\tsb_ticks\temu_ticks\trep_ticks\tcli_ticks\twritten\tsb_lines\tsb_dropped\tcli_lines\temu_sendq\tclient_recvq\n'
	while ((${EPOCHREALTIME%.*} < until)); do
		t=$EPOCHREALTIME
		rep=0
		for p in $REP_PIDS; do ticks "$p"; rep=$((rep + TICKS)); done
		ticks "$SB_PID"; sbt=$TICKS
		ticks "$EMU_PID"; emut=$TICKS
		clit=0
		[[ -n $CLI_PID ]] && { ticks "$CLI_PID"; clit=$TICKS; }
		rss_kb "$SB_PID"; rss=$RSS
		# socket queues on the emulator's port: its send queue, the clients' receive queue
		read -r sq rq < <(ss -tnH state established "( sport = :$((b + 10)) or dport = :$((b + 10)) )" 2>/dev/null |
			awk -v port=":$((b + 10))" '{ if (index($3, port)) s += $2 + 0; else r += $1 + 0 } END {print s + 0, r + 0}')
		w=$(written)
		tc=$(title_counts)
		cc=0
		read -r cc <"$BENCH_OUT/cli.count" 2>/dev/null
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$rss" "$sbt" "$emut" "$rep" "$clit" \
			"$w" "${tc/ /$'\t'}" "${cc:-0}" "$sq" "$rq"
		ms=$((1000 - 10#${EPOCHREALTIME#*.} / 1000))
		sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
	done
}

# the follow CLI, counted by storm_count.awk
echo 0 >"$BENCH_OUT/cli.count"
if ((FOLLOW_CLI)); then
	mkfifo "$BENCH_OUT/cli.fifo"
	awk -v countfile="$BENCH_OUT/cli.count" -f "$BENCH_SRC/bench/storm_count.awk" \
		<"$BENCH_OUT/cli.fifo" >"$BENCH_OUT/cli-summary.txt" &
	AWK_PID=$!
	( . "$RUN/env"; exec "$BIN" -c "$RUN/signalbox.yml" logs all --follow --json --lines 0 ) \
		>"$BENCH_OUT/cli.fifo" 2>"$BENCH_OUT/cli.stderr" &
	CLI_PID=$!
fi

sleep 3	# the console and the CLI subscribed, the backlog in
start_s=${EPOCHREALTIME%.*}
sampler $((start_s + 20 + STORM_S + DRAIN_MAX_S + 30)) >"$BENCH_OUT/samples.tsv" &
SAMPLER_PID=$!
printf 'phase\tkind\tt0\tt1\tpolls\tok\tstate_before\trow_last\n' >"$BENCH_OUT/probes.tsv"

# idle baseline
say "idle probes ($IDLE_PROBES each)"
for ((i = 0; i < IDLE_PROBES; i++)); do
	probe console idle
	probe less idle
	floor_poll idle
	sleep 0.2
done
sleep 2
W_LAST=()
w_before=$(written)
read -r l_before d_before < <(title_counts)
say "log-storm on: $RATE lines/s x $N_REP replicas for $STORM_S s"
t_on=$EPOCHREALTIME
fault log-storm on --rate "$RATE" --seconds "$STORM_S" || bench_die "sandbox/fault log-storm failed (see $BENCH_OUT/fault.log)"
t_storm_end=$((${t_on%.*} + STORM_S))
sleep 2	# the replicas read the fault key twice a second
gap_ms=$(( (STORM_S - 4) * 1000 / (PROBES > 0 ? PROBES : 1) ))
for ((i = 0; i < PROBES; i++)); do
	((${EPOCHREALTIME%.*} >= t_storm_end)) && break
	p0=$EPOCHREALTIME
	probe console storm
	probe less storm
	floor_poll storm
	p1=$EPOCHREALTIME
	left=$(( gap_ms - ( (${p1%.*} - ${p0%.*}) * 1000 + 10#${p1#*.} / 1000 - 10#${p0#*.} / 1000 ) ))
	((left > 0)) && sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
done
while ((${EPOCHREALTIME%.*} < t_storm_end + 1)); do sleep 0.2; done
t_off=$EPOCHREALTIME
say "storm over; waiting for the console to drain (quiet ${DRAIN_QUIET_S}s, at most ${DRAIN_MAX_S}s)"
# the emulator delivers most of its backlog now: probes go on (phase drain)
last= quiet=0 drain_end=$((${EPOCHREALTIME%.*} + DRAIN_MAX_S))
while ((${EPOCHREALTIME%.*} < drain_end)); do
	p0=${EPOCHREALTIME%.*}
	read -r l d < <(title_counts)
	cur=$((l + d))
	if [[ $cur == "$last" ]]; then
		quiet=$((quiet + 1))
		((quiet >= DRAIN_QUIET_S)) && break
	else
		quiet=0
	fi
	last=$cur
	probe console drain
	probe less drain
	floor_poll drain
	while ((${EPOCHREALTIME%.*} < p0 + 1)); do sleep 0.1; done
done
t_drained=$EPOCHREALTIME
w_after=$(written)
read -r l_after d_after < <(title_counts)
sb_hwm=$(hwm_kb "$SB_PID")
kill "$SAMPLER_PID" 2>/dev/null || true
wait "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=
fault log-storm off || true
if [[ -n $CLI_PID ]]; then
	sleep 1
	kill -INT "$CLI_PID" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do kill -0 "$CLI_PID" 2>/dev/null || break; sleep 0.1; done
	kill "$CLI_PID" 2>/dev/null || true
	wait "$CLI_PID" 2>/dev/null || true
	CLI_PID=
	for ((i = 0; i < 50; i++)); do kill -0 "$AWK_PID" 2>/dev/null || break; sleep 0.1; done
	wait "$AWK_PID" 2>/dev/null || true
	AWK_PID=
fi
tmux -L "$SOCK" capture-pane -p -t b >"$BENCH_OUT/screen-end.txt" 2>/dev/null || true

# ---- figures ---------------------------------------------------------------
pct() {	# pct KIND PHASE P: latency percentile in ms (nearest rank)
	awk -F'\t' -v k="$1" -v ph="$2" '$2 == k && $1 == ph { printf "%.2f\n", ($4 - $3) * 1000 }' "$BENCH_OUT/probes.tsv" |
		sort -n | awk -v p="$3" '{ v[NR] = $1 } END { if (!NR) { print "-"; exit } r = int(p / 100 * NR + 0.999999); if (r < 1) r = 1; print v[r] }'
}
nprobes() { awk -F'\t' -v k="$1" -v ph="$2" '$2 == k && $1 == ph' "$BENCH_OUT/probes.tsv" | wc -l; }
ntimeouts() { awk -F'\t' -v k="$1" -v ph="$2" '$2 == k && $1 == ph && $6 == 0' "$BENCH_OUT/probes.tsv" | wc -l; }
meanpolls() { awk -F'\t' -v k="$1" -v ph="$2" '$2 == k && $1 == ph { s += $5; n++ } END { printf "%.1f", n ? s / n : 0 }' "$BENCH_OUT/probes.tsv"; }

# window figures from samples.tsv: the storm (t_on .. t_off) and the whole
# run until drained
win() {	# win T0 T1: rss min/max, cpu % (sb emu rep cli), written, sb lines, cli lines, peak 1-s sb rate
	awk -F'\t' -v a="$1" -v z="$2" -v hz="$hz" 'NR > 1 && $1 >= a && $1 <= z {
		if (!n) { t0 = $1; s0 = $3; e0 = $4; r0 = $5; c0 = $6; w0 = $7; l0 = $8 + $9; k0 = $10; mn = mx = $2 }
		if ($2 < mn) mn = $2; if ($2 > mx) mx = $2
		cur = $8 + $9
		if (n && $1 > pt) { rt = (cur - pl) / ($1 - pt); if (rt > peak) peak = rt }
		pt = $1; pl = cur
		t1 = $1; s1 = $3; e1 = $4; r1 = $5; c1 = $6; w1 = $7; l1 = cur; k1 = $10; n++ }
		END { d = t1 - t0; if (d <= 0) d = 1
		printf "%d %d %.1f %.1f %.1f %.1f %d %d %d %.0f %.1f\n", mn, mx,
			(s1 - s0) * 100 / hz / d, (e1 - e0) * 100 / hz / d, (r1 - r0) * 100 / hz / d, (c1 - c0) * 100 / hz / d,
			w1 - w0, l1 - l0, k1 - k0, peak, d }' "$BENCH_OUT/samples.tsv"
}
read -r s_rmin s_rmax s_sb s_emu s_rep s_cli s_w s_l s_k s_peak s_d < <(win "$t_on" "$t_off")
read -r a_rmin a_rmax a_sb a_emu a_rep a_cli a_w a_l a_k a_peak a_d < <(win "$t_on" "$t_drained")
rss_idle=$(awk -F'\t' -v a="$t_on" 'NR > 1 && $1 < a { v = $2 } END { print v + 0 }' "$BENCH_OUT/samples.tsv")
written_storm=$((w_after - w_before))
got_console=$(( (l_after + d_after) - (l_before + d_before) ))
dur_storm=$(awk -v a="$t_on" -v z="$t_off" 'BEGIN { printf "%.1f", z - a }')
dur_all=$(awk -v a="$t_on" -v z="$t_drained" 'BEGIN { printf "%.1f", z - a }')
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
rate() { awk -v n="$1" -v d="$2" 'BEGIN { printf "%.0f", (d > 0 ? n / d : 0) }'; }
max_q=$(awk -F'\t' 'NR > 1 { if ($11 > s) s = $11; if ($12 > r) r = $12 } END { print s + 0, r + 0 }' "$BENCH_OUT/samples.tsv")

{
	echo "### Live log storm ($(date -u '+%Y-%m-%d %H:%M UTC'))"
	echo
	echo "Command: \`RATE=$RATE STORM_S=$STORM_S PROBES=$PROBES FOLLOW_CLI=$FOLLOW_CLI bench/logs_storm.sh\`"
	echo "(binary $SIGNALBOX_BIN, sha256 $bin_id; own sandbox on base $b)."
	echo "Machine: $(machine_line)"
	echo "Asked: \`sandbox/fault log-storm on --rate $RATE --seconds $STORM_S\` on $N_REP replicas = $((RATE * N_REP)) lines/s."
	echo
	echo "| measure | storm (${dur_storm} s) | storm + drain (${dur_all} s) |"
	echo "|---|---:|---:|"
	echo "| lines the replicas wrote (log_lines_total) | $s_w ($(rate "$s_w" "$s_d")/s) | $a_w |"
	echo "| lines the console got (title: lines + dropped) | $s_l ($(rate "$s_l" "$s_d")/s) | $a_l ($(rate "$a_l" "$a_d")/s) |"
	echo "| lines the follow CLI read | $s_k | $a_k |"
	echo "| console: best 1-s rate | $s_peak/s | $a_peak/s |"
	echo "| console CPU, % of one core | $s_sb | $a_sb |"
	echo "| emulator (node) CPU | $s_emu | $a_emu |"
	echo "| $N_REP replicas (node) CPU, sum | $s_rep | $a_rep |"
	echo "| follow CLI CPU | $s_cli | $a_cli |"
	echo "| console VmRSS MiB min / max (idle before: $(mib "$rss_idle")) | $(mib "$s_rmin") / $(mib "$s_rmax") | $(mib "$a_rmin") / $(mib "$a_rmax") |"
	echo
	echo "Console VmHWM at the end: $(mib "$sb_hwm") MiB. Socket queues on the emulator's port, max of the 1-s samples: emulator send-Q, clients' recv-Q (bytes): $max_q."
	echo
	echo "Lines, from the storm's start until drained: the replicas wrote $written_storm (log_lines_total, storm and other lines);"
	echo "the console's ring went from $l_before held + $d_before dropped to $l_after held + $d_after dropped: $got_console new lines."
	if ((FOLLOW_CLI)); then
		echo "The follow CLI (\`signalbox logs all --follow --json --lines 0\`), checked by replica and seq:"
		echo
		echo '```'
		cat "$BENCH_OUT/cli-summary.txt" 2>/dev/null
		echo '```'
	fi
	echo
	echo "Key-to-screen latency, ms (nearest rank; with 50 samples p99 is the largest):"
	echo
	echo "| phase | target | n | p50 | p99 | max | timeouts (${PROBE_MAX_S} s) | polls/probe |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|"
	for ph in idle storm drain; do
		for k in console less poll; do
			case $k in console) lbl='signalbox `t`' ;; less) lbl='less `-N` Enter (floor)' ;; poll) lbl='one capture-pane round trip' ;; esac
			echo "| $ph | $lbl | $(nprobes "$k" "$ph") | $(pct "$k" "$ph" 50) | $(pct "$k" "$ph" 99) | $(pct "$k" "$ph" 100) | $(ntimeouts "$k" "$ph") | $(meanpolls "$k" "$ph") |"
		done
	done
	echo
	echo "Files: bench/out/logs_storm/ (samples.tsv one line a second, probes.tsv, cli-summary.txt, screen-end.txt)."
} >"$BENCH_OUT/results.md"
cat "$BENCH_OUT/results.md"
if ((STORM_APPEND)); then
	{ echo; cat "$BENCH_OUT/results.md"; } >>"$BENCH_SRC/bench/RESULTS.md"
fi
