# shellcheck shell=bash
# Shared by sandbox/tests/test_*.sh.  Each test sources it with its own port
# base, gets a private run dir, and is torn down (sandbox/down --purge, by
# pid) however it ends.  Output: "ok"/"not ok" lines and a closing
# "N passed, N failed" line; exit 1 when something failed.
#
#   SANDBOX_TEST_KEEP=1   leave the sandbox running and its run dir in place

set -uo pipefail
T_NAME=$(basename "$0" .sh)
T_SANDBOX=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
T_PASS=0 T_FAIL=0
T_START=$(date +%s)

# t_setup PORT_BASE: private run dir and ports; tear down at exit.
t_setup() {
	export SANDBOX_PORT_BASE=${SANDBOX_TEST_PORT_BASE:-$1}
	export SANDBOX_RUN_DIR
	SANDBOX_RUN_DIR=$(mktemp -d "/tmp/signalbox-$T_NAME.XXXXXX")
	chmod 755 "$SANDBOX_RUN_DIR"
	unset SANDBOX_WITH SANDBOX_APPS
	trap t_teardown EXIT
	trap 'exit 130' INT TERM
	# shellcheck disable=SC1091
	. "$T_SANDBOX/lib/common.sh"
	echo "# $T_NAME: run dir $SANDBOX_RUN_DIR, ports $SANDBOX_PORT_BASE..$((SANDBOX_PORT_BASE + 299))"
}

t_teardown() {
	local rc=$?
	if [[ ${SANDBOX_TEST_KEEP:-} == 1 ]]; then
		echo "# kept: SANDBOX_RUN_DIR=$SANDBOX_RUN_DIR SANDBOX_PORT_BASE=$SANDBOX_PORT_BASE"
	elif [[ -d ${SANDBOX_RUN_DIR:-} ]]; then
		if ! "$T_SANDBOX/down" --purge >"$SANDBOX_RUN_DIR.down.log" 2>&1; then
			echo "# teardown: sandbox/down failed:"
			sed 's/^/#   /' "$SANDBOX_RUN_DIR.down.log"
			T_FAIL=$((T_FAIL + 1))
		fi
		[[ -d $SANDBOX_RUN_DIR ]] && rm -rf "$SANDBOX_RUN_DIR"
		rm -f "$SANDBOX_RUN_DIR.down.log"
	fi
	t_summary
	if ((T_FAIL > 0)); then exit 1; fi
	exit "$rc"
}

t_summary() {
	[[ -n ${T_SUMMARY_DONE:-} ]] && return
	T_SUMMARY_DONE=1
	echo "# $T_NAME took $(($(date +%s) - T_START)) s"
	echo "$T_PASS passed, $T_FAIL failed"
}

ok() { T_PASS=$((T_PASS + 1)); echo "ok $((T_PASS + T_FAIL)) - $*"; }
not_ok() { T_FAIL=$((T_FAIL + 1)); echo "not ok $((T_PASS + T_FAIL)) - $*"; }

# check DESCRIPTION CMD...: pass when CMD succeeds.
# Its standard output is dropped; diagnostics go to stderr.
check() {
	local what=$1
	shift
	if "$@" >/dev/null; then ok "$what"; else not_ok "$what"; fi
}

# eventually SECONDS DESCRIPTION CMD...: pass when CMD succeeds within SECONDS.
eventually() {
	local secs=$1 what=$2 i
	shift 2
	for ((i = 0; i < secs * 10; i++)); do
		if "$@" >/dev/null 2>&1; then ok "$what"; return 0; fi
		sleep 0.1
	done
	not_ok "$what (not within ${secs}s)"
	return 1
}

# Fatal: stop the test (teardown still runs).
bail() { not_ok "$*"; exit 1; }

t_up() {
	if ! "$T_SANDBOX/up" "$@" >"$SANDBOX_RUN_DIR.up.log" 2>&1; then
		sed 's/^/#   /' "$SANDBOX_RUN_DIR.up.log" | tail -n 40
		rm -f "$SANDBOX_RUN_DIR.up.log"
		bail "sandbox/up $*"
	fi
	sed -n 's/^sandbox\/up: \(ready in .*\)/# \1/p' "$SANDBOX_RUN_DIR.up.log"
	rm -f "$SANDBOX_RUN_DIR.up.log"
	ok "sandbox/up $*"
	# shellcheck disable=SC1091
	. "$SANDBOX_RUN_DIR/env"
}

# HTTP helpers against the running sandbox (loopback only).
http_code() { curl -s -o /dev/null -w '%{http_code}' --max-time "${2:-5}" --noproxy '*' --cacert "$SANDBOX_CA" "$1"; }
http_body() { curl -s --max-time "${2:-5}" --noproxy '*' --cacert "$SANDBOX_CA" "$1"; }
health_is() {    # URL CODE JQ-FILTER
	local body code
	body=$(curl -s -w '\n%{http_code}' --max-time 3 --noproxy '*' --cacert "$SANDBOX_CA" "$1") || return 1
	code=${body##*$'\n'}
	body=${body%$'\n'*}
	[[ $code == "$2" ]] && jq -e "$3" <<<"$body" >/dev/null
}
# Sum of a metric over all its series on a /metrics page.
metric_sum() {   # URL METRIC-REGEX
	http_body "$1" | awk -v re="^$2" '$0 ~ re { s += $NF } END { print s + 0 }'
}
rcli() { redis-cli -u "$REDIS_URL" --no-auth-warning "$@"; }
psql_app() { psql "$DATABASE_URL" -X -At -v ON_ERROR_STOP=1 "$@"; }
