# bench/lib.sh - shared set-up for the benchmark scripts.  Sourced.
#
# Starts the demo server (sandbox/demo) on a port base of its own, gives each
# script a scratch directory under bench/out/ (git-ignored), and removes the
# tmux servers and the demo server it started when the script exits.
#
# Environment:
#   SIGNALBOX_BIN    binary to measure (default build/signalbox)
#   BENCH_PORT_BASE  demo server port base (default 27400)

set -euo pipefail

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SIGNALBOX_BIN=${SIGNALBOX_BIN:-$BENCH_SRC/build/signalbox}
BENCH_PORT_BASE=${BENCH_PORT_BASE:-27400}
BENCH_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)
BENCH_OUT=$BENCH_SRC/bench/out/$BENCH_NAME
BENCH_DEMO=$BENCH_OUT/demo
BENCH_DEMO_UP=0

bench_die() { echo "bench/$BENCH_NAME: $*" >&2; exit 1; }

[[ -x $SIGNALBOX_BIN ]] || bench_die "$SIGNALBOX_BIN not found: run 'make build' first"
for tool in tmux node script htop openssl; do
	command -v "$tool" >/dev/null || bench_die "$tool is required (make deps)"
done
export LC_ALL=C.UTF-8
unset NO_COLOR SIGNALBOX_EXIT_AFTER_FIRST_FRAME

rm -rf "$BENCH_OUT"
mkdir -p "$BENCH_OUT"

bench_cleanup() {
	local s
	# every tmux server started here is named bench-*-$$ (also those made
	# in subshells), whether or not the script killed it already
	for s in "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)"/bench-*-"$$"; do
		[[ -S $s ]] || continue
		tmux -S "$s" kill-server 2>/dev/null || true
		rm -f "$s"	# tmux 3.3 leaves the socket file behind
	done
	if ((BENCH_DEMO_UP)); then
		DEMO_RUN_DIR=$BENCH_DEMO "$BENCH_SRC/sandbox/demo/down" >/dev/null 2>&1 || true
	fi
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_demo_up() {
	DEMO_RUN_DIR=$BENCH_DEMO DEMO_PORT_BASE=$BENCH_PORT_BASE \
		"$BENCH_SRC/sandbox/demo/up" >"$BENCH_OUT/demo-up.log" 2>&1 ||
		{ cat "$BENCH_OUT/demo-up.log" >&2; bench_die "demo server did not start"; }
	BENCH_DEMO_UP=1
}

# bench_config FILE N: a config with N healthy endpoints on the demo server,
# checked every 5 s: mostly http, every tenth one https (the strict "api"
# service), each with its own URL.
bench_config() {
	local file=$1 n=$2 i
	{
		echo "project: bench"
		echo "environment: production"
		echo "environments: { production: { protected: true } }"
		echo "health:"
		echo "  interval: 5s"
		echo "  timeout: 3s"
		echo "  endpoints:"
		for ((i = 1; i <= n; i++)); do
			if ((i % 10 == 0)); then
				echo "    - { name: ep$i, url: \"https://127.0.0.1:$((BENCH_PORT_BASE + 1))/health?i=$i\", ca_file: ca.pem }"
			else
				echo "    - { name: ep$i, url: \"http://127.0.0.1:$BENCH_PORT_BASE/health?i=$i\" }"
			fi
		done
	} >"$file"
}

# bench_tmux SOCK COLS ROWS COMMAND: a detached tmux session running COMMAND
# (a shell string) at a fixed size; the pane's pid is COMMAND's when it
# starts with exec.
bench_tmux() {
	local sock=$1 cols=$2 rows=$3 cmd=$4
	[[ $sock == bench-*-"$$" ]] || bench_die "tmux socket '$sock' must be named bench-*-$$"
	tmux -L "$sock" kill-server 2>/dev/null || true
	tmux -L "$sock" -f /dev/null new-session -d -s b -x "$cols" -y "$rows" "$cmd"
	tmux -L "$sock" set-option -t b status off >/dev/null
}

bench_pane_pid() {
	tmux -L "$1" display-message -p -t b '#{pane_pid}'
}

# Child pid of $1 named $2 (the measured program under script(1)), waiting
# up to 5 s for it to appear.
bench_child() {
	local i pid
	for ((i = 0; i < 50; i++)); do
		pid=$(pgrep -P "$1" -x "$2" | head -n 1 || true)
		[[ -n $pid ]] && { echo "$pid"; return 0; }
		sleep 0.1
	done
	bench_die "no child '$2' under pid $1"
}

# CPU time of PID in ns: first field of /proc/PID/schedstat.
cpu_ns() { awk '{print $1}' "/proc/$1/schedstat"; }

# Peak RSS of PID in KiB (VmHWM).
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

threads() { awk '/^Threads:/ {print $2}' "/proc/$1/status"; }

# Bytes written to the terminal: sum of the second column of a
# script --log-timing file.
timing_bytes() { awk '{s += $2} END {print s + 0}' "$1"; }

# Bytes written after the first $2 seconds (cumulative delay > $2).
timing_bytes_after() {
	awk -v t="$2" '{c += $1; if (c > t) s += $2} END {print s + 0}' "$1"
}

machine_line() {
	printf '%s cores, %s, Linux %s, %s, load %s, signalbox %s\n' "$(nproc)" \
		"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
		"$(uname -r)" "$(date -u '+%Y-%m-%d %H:%M UTC')" \
		"$(cut -d' ' -f1-3 /proc/loadavg)" \
		"$(git -C "$BENCH_SRC" describe --always --dirty 2>/dev/null || echo '?')"
}
