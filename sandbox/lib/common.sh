# shellcheck shell=bash
# Shared by sandbox/up, down, status, fault and traffic: paths, ports, pid
# files and bounded waits.  Source it; it defines functions and variables
# only (no side effects apart from resolving paths).
#
# Ports are SANDBOX_PORT_BASE (default 27300) plus a fixed offset; the whole
# sandbox stays inside base .. base+299 (docs/sandbox.md has the table).

SB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)     # sandbox/
SB_ROOT=$(dirname "$SB_HERE")                                  # the repository
SB_RUN=${SANDBOX_RUN_DIR:-$SB_HERE/.run}
# The base a run dir was started with is remembered (<run>/port-base), so
# down, status and fault find that sandbox without SANDBOX_PORT_BASE.
if [[ -z ${SANDBOX_PORT_BASE:-} && -s $SB_RUN/port-base ]]; then
	SB_BASE=$(<"$SB_RUN/port-base")
else
	SB_BASE=${SANDBOX_PORT_BASE:-27300}
fi
SB_PROG=${SB_PROG:-sandbox}

sb_die() { echo "$SB_PROG: $*" >&2; exit 1; }
# The script's header comment, as help text; exits 2.
sb_usage() { sed -n '2,/^[^#]/{/^#/!q;s/^# \{0,1\}//;p}' "$0" >&2; exit 2; }
sb_say() { echo "$SB_PROG: $*"; }
sb_warn() { echo "$SB_PROG: warning: $*" >&2; }
# SANDBOX_TIMING=1 prints how long each step took (to stderr).
SB_T0=${EPOCHREALTIME/./}
sb_t() {
	[[ ${SANDBOX_TIMING:-} == 1 ]] || return 0
	local now=${EPOCHREALTIME/./}
	printf '%s: %6d ms  %s\n' "$SB_PROG" $(((now - SB_T0) / 1000)) "$*" >&2
}

[[ $SB_BASE =~ ^[0-9]+$ ]] && (( SB_BASE >= 1024 && SB_BASE <= 65200 )) ||
	sb_die "SANDBOX_PORT_BASE must be a number in 1024..65200, got '$SB_BASE'"

# ---- ports ------------------------------------------------------------------
P_PG=$((SB_BASE + 1))
P_REDIS=$((SB_BASE + 2))
P_PROM=$((SB_BASE + 3))
P_NODE_EXP=$((SB_BASE + 4))
P_PG_EXP=$((SB_BASE + 5))
P_REDIS_EXP=$((SB_BASE + 6))
P_UNLEASH=$((SB_BASE + 7))
P_EMU=$((SB_BASE + 10))
P_API=$((SB_BASE + 20))
P_API_TLS=$((SB_BASE + 21))
P_WS=$((SB_BASE + 22))
P_WORKER=$((SB_BASE + 23))
P_BILLING=$((SB_BASE + 24))
P_BILLING_TLS=$((SB_BASE + 25))
P_REPLICA_LO=$((SB_BASE + 100))
P_REPLICA_HI=$((SB_BASE + 299))
P_LAST=$((SB_BASE + 299))

PG_BIN=/usr/lib/postgresql/15/bin
PGBACKREST=/usr/bin/pgbackrest

# Where the run dir lives, made absolute (created when $1 is "create").
sb_run_dir() {
	if [[ ${1:-} == create ]]; then
		mkdir -p "$SB_RUN" || sb_die "cannot create $SB_RUN"
	fi
	[[ -d $SB_RUN ]] && SB_RUN=$(cd "$SB_RUN" && pwd)
	SB_LOGS=$SB_RUN/logs
	SB_PIDS=$SB_RUN/pids
	SB_SECRETS=$SB_RUN/secrets
	SB_TLS=$SB_RUN/tls
}
sb_run_dir

# PostgreSQL's files (data, socket, pgBackRest repo and config) must be
# reachable by the postgres user, and the socket path must stay short.  They
# live in <run>/pg when that works, else in /var/tmp/signalbox-sandbox-<base>.
# The choice is remembered in <run>/pgroot so down and status agree with up.
sb_pg_paths() {
	local root
	if [[ -s $SB_RUN/pgroot ]]; then
		root=$(<"$SB_RUN/pgroot")
	elif [[ ${1:-} == choose ]]; then
		root=$SB_RUN/pg
		local sock="$root/socket/.s.PGSQL.$P_PG"
		if (( ${#sock} > 100 )) || ! runuser -u postgres -- test -x "$SB_RUN" 2>/dev/null; then
			root=/var/tmp/signalbox-sandbox-$SB_BASE
		fi
		echo "$root" >"$SB_RUN/pgroot"
	else
		root=$SB_RUN/pg
	fi
	PG_ROOT=$root
	PG_DATA=$root/data
	PG_SOCK=$root/socket
	PG_LOG=$root/postgresql.log
	PGBR_CONF=$root/pgbackrest.conf
	PGBR_REPO=$root/backrest/repo
}
sb_pg_paths

as_pg() { runuser -u postgres -- "$@"; }

# psql as the superuser over the unix socket; extra args follow.
sb_psql() {
	as_pg "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$P_PG" -U postgres "$@"
}

# ---- pid files ----------------------------------------------------------------
# A pid file names a process we started.  "Alive" means the pid exists and
# its command line still contains the pattern we recorded it with, so a
# reused pid is never mistaken for ours (nor signalled).

# sb_pid NAME PATTERN -> prints the pid when alive, status 1 otherwise
sb_pid() {
	local f=$SB_PIDS/$1.pid pid
	[[ -s $f ]] || return 1
	pid=$(head -n1 "$f")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	sb_pid_matches "$pid" "$2" || return 1
	echo "$pid"
}

sb_pid_matches() {
	local pid=$1 pat=$2 cmd
	[[ -r /proc/$pid/cmdline ]] || return 1
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	[[ -n $cmd && $cmd == *"$pat"* ]]
}

# sb_spawn NAME LOGFILE CMD... : start CMD in the background in its own
# session, stdin from /dev/null, output appended to LOGFILE; records the pid.
sb_spawn() {
	local name=$1 logf=$2
	shift 2
	mkdir -p "$SB_PIDS" "$(dirname "$logf")"
	setsid "$@" >>"$logf" 2>&1 </dev/null &
	echo $! >"$SB_PIDS/$name.pid"
	SB_SPAWNED=$!
}

# sb_stop_pid PID NAME [SECONDS]: SIGTERM, wait (bounded), then SIGKILL.
sb_stop_pid() {
	local pid=$1 name=$2 secs=${3:-10} i
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < secs * 10; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		# a zombie child of ours counts as gone
		[[ $(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) == Z ]] && return 0
		sleep 0.1
	done
	sb_warn "$name (pid $pid) ignored SIGTERM for ${secs}s; sending SIGKILL"
	kill -KILL "$pid" 2>/dev/null || true
	for ((i = 0; i < 30; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	sb_warn "$name (pid $pid) is still there after SIGKILL"
	return 1
}

# sb_stop NAME PATTERN [SECONDS]: stop the process of pid file NAME if alive.
sb_stop() {
	local pid
	if pid=$(sb_pid "$1" "$2"); then
		sb_stop_pid "$pid" "$1" "${3:-10}" || return 1
		sb_say "stopped $1 (pid $pid)"
	fi
	rm -f "$SB_PIDS/$1.pid"
}

# ---- waiting ---------------------------------------------------------------------

# sb_wait SECONDS WHAT CMD...: run CMD every 0.1 s until it succeeds or the
# time is up (then status 1).
sb_wait() {
	local secs=$1 what=$2 i n
	shift 2
	n=$((secs * 10))
	for ((i = 0; i < n; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	sb_warn "$what: not ready after ${secs}s"
	return 1
}

# HTTP GET on loopback answering 200 (optionally with a CA for https).
sb_http_ok() {
	local url=$1 ca=${2:-}
	curl -fs -o /dev/null --max-time 2 --noproxy '*' ${ca:+--cacert "$ca"} "$url" 2>/dev/null
}

sb_http_status() {
	local url=$1 ca=${2:-}
	curl -sS -o /dev/null -w '%{http_code}' --max-time 3 --noproxy '*' ${ca:+--cacert "$ca"} "$url" 2>/dev/null || true
}

# Listening TCP ports in our range: "port pid" lines (pid may be empty).
sb_listeners() {
	sb_listeners_between "$SB_BASE" "$P_LAST"
}

sb_listeners_between() {
	ss -Hltnp 2>/dev/null | awk -v lo="$1" -v hi="$2" '{
		n = split($4, a, ":"); port = a[n] + 0
		if (port < lo || port > hi) next
		pid = ""
		if (match($0, /pid=[0-9]+/)) pid = substr($0, RSTART + 4, RLENGTH - 4)
		print port, pid
	}' | sort -n -u
}

sb_port_listening() {
	ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

sb_redis_cli() {
	redis-cli -h 127.0.0.1 -p "$P_REDIS" --no-auth-warning -a "$(sb_secret redis)" "$@"
}

sb_secret() {
	cat "$SB_SECRETS/$1" 2>/dev/null
}

# ---- lock ---------------------------------------------------------------------------
# up, down and fault take one lock so two of them never interleave.
sb_lock() {
	mkdir -p "$SB_RUN"
	exec 9>"$SB_RUN/.lock"
	flock -w "${1:-120}" 9 || sb_die "another sandbox command holds $SB_RUN/.lock"
}
