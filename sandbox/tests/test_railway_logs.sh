#!/usr/bin/env bash
# sandbox: Railway logs and live updates through the emulator's WebSocket
# subscriptions (graphql-transport-ws): `signalbox logs` prints the recent
# lines of a service (plain and --json, --lines, --since, --filter), an
# unknown service exits 2 naming the real ones; `logs --follow` under
# steady traffic survives the ws-drop fault — it says it reconnects, and
# afterwards holds every line the API has for that span exactly once (no
# line lost, none repeated); the console follows a rollout through the
# `deployment` subscription (its diagnostics log the transitions as they
# come) rather than by polling fast, once a refresh (r) has shown it; its
# logs pane shows lines live, filters them, and says when the stream is
# down (ws-drop) and when it is back.
#
#   SIGNALBOX_BIN   the binary under test (ctest sets it; else the newest
#                   build*/signalbox of this checkout)
. "$(dirname "$0")/lib.sh"
t_setup 32100

SB=${SIGNALBOX_BIN:-}
if [[ -z $SB ]]; then
	# shellcheck disable=SC2012
	SB=$(ls -t "$T_SANDBOX"/../build*/signalbox 2>/dev/null | head -n 1)
fi
[[ -n $SB && -x $SB ]] || bail "no signalbox binary: build it, or set SIGNALBOX_BIN"
SB=$(cd "$(dirname "$SB")" && pwd)/$(basename "$SB")
echo "# binary: $SB"

TMP=$SANDBOX_RUN_DIR.logs
mkdir -p "$TMP"
export XDG_STATE_HOME=$TMP/state
FOLLOW_PID=
trap 'rc=$?; [[ -n $FOLLOW_PID ]] && kill "$FOLLOW_PID" 2>/dev/null; rm -rf "$TMP"; (exit "$rc"); t_teardown' EXIT

sb() {	# NAME ARGS...: bounded run; output in $TMP/NAME.out/.err, status in RC
	local name=$1
	shift
	RC=0
	timeout -s TERM 60 "$SB" -c "$CFG" "$@" </dev/null >"$TMP/$name.out" 2>"$TMP/$name.err" || RC=$?
}
rc_is() {
	if [[ $RC == "$2" ]]; then
		ok "$3 (exit $RC)"
	else
		not_ok "$3 (exit $RC, expected $2)"
		sed 's/^/#   out: /' "$TMP/$1.out" | tail -n 10
		sed 's/^/#   err: /' "$TMP/$1.err" | tail -n 10
	fi
}

t_up
CFG=$SANDBOX_RUN_DIR/signalbox.yml

# ---- one-off queries ---------------------------------------------------------------------
sb recent logs api --lines 5
rc_is recent 0 "logs api --lines 5"
check "five lines, each 'TIMESTAMP  SEVERITY  MESSAGE'" bash -c \
	'[[ $(wc -l <"$0") == 5 ]] && ! grep -vqE "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z  [a-z]+ +  ?" "$0"' "$TMP/recent.out"
sb none logs api --lines 0
check "--lines 0: no backlog at all (exit 0)" bash -c '[[ $0 == 0 && ! -s $1 ]]' "$RC" "$TMP/none.out"
sb all logs all --lines 20 --json
rc_is all 0 "logs all --json"
check "--json: one object per line with timestamp, severity, service and message" jq -e -s \
	'length == 20 and all(.[]; (.timestamp | test("Z$")) and (.severity | type == "string") and (.service | length > 0) and (.message | type == "string"))' "$TMP/all.out"
check "logs all holds more than one service" jq -e -s '[.[].service] | unique | length > 1' "$TMP/all.out"
sb errs logs api --filter '@level:error' --since 10m --json
check "--filter @level:error --since 10m: only errors (exit 0)" bash -c \
	'[[ $0 == 0 ]] && jq -e -s "all(.[]; .severity == \"error\")" "$1" >/dev/null' "$RC" "$TMP/errs.out"
sb nosuch logs nosuch
rc_is nosuch 2 "logs of an unknown service"
check "it names the services there are" grep -q "no service 'nosuch'.*it has: .*api" "$TMP/nosuch.err"

# ---- --follow across ws-drop: nothing lost, nothing twice --------------------------------
"$SB" -c "$CFG" logs api --follow --json --lines 0 >"$TMP/follow.out" 2>"$TMP/follow.err" &
FOLLOW_PID=$!
eventually 10 "logs --follow is connected (a line arrives under traffic)" bash -c \
	'curl -s -o /dev/null --max-time 2 "$0/health?from=test"; curl -s -o /dev/null --max-time 2 "$0/orders"; [[ -s $1 ]]' \
	"$SANDBOX_API_HTTP_URL" "$TMP/follow.out"
"$T_SANDBOX/traffic" --rps 40 --seconds 12 --no-ws >"$TMP/traffic.log" 2>&1 &
TRAFFIC_PID=$!
sleep 4
"$T_SANDBOX/fault" ws-drop on >/dev/null || not_ok "fault ws-drop on"
sleep 3
"$T_SANDBOX/fault" ws-drop off >/dev/null || not_ok "fault ws-drop off"
wait "$TRAFFIC_PID"
sleep 4	# the reconnect (backoff) and the lines after it
kill -INT "$FOLLOW_PID"
wait "$FOLLOW_PID"
FRC=$?
FOLLOW_PID=
check "Ctrl-C ends logs --follow with 130" test "$FRC" = 130
check "the drop was reported on stderr, and the return" bash -c \
	'grep -q "logs: .*(reconnecting)" "$0" && grep -q "logs: live again" "$0"' "$TMP/follow.err"
sb window logs api --since 3m --json
rc_is window 0 "logs api --since 3m (the API's own record)"
python3 - "$TMP/follow.out" "$TMP/window.out" >"$TMP/compare.txt" <<'EOF'
import json, sys
def keys(path):
    return [(o["timestamp"], o["replicaId"], o["message"]) for o in map(json.loads, open(path))]
followed, record = keys(sys.argv[1]), keys(sys.argv[2])
lo, hi = min(followed)[0], max(followed)[0]
span = [k for k in record if lo <= k[0] <= hi]
print(f"followed={len(followed)} unique={len(set(followed))} record={len(span)} "
      f"missing={len(set(span) - set(followed))} extra={len(set(followed) - set(span))}")
EOF
echo "# $(cat "$TMP/compare.txt")"
check "the followed lines span the drop (more than 200 lines)" \
	awk '{ split($1, a, "="); exit !(a[2] > 200) }' "$TMP/compare.txt"
check "no line twice" awk '{ split($1, a, "="); split($2, b, "="); exit !(a[2] == b[2]) }' "$TMP/compare.txt"
check "no line lost and none invented across the drop" grep -q "missing=0 extra=0" "$TMP/compare.txt"

# ---- the console follows a rollout through the deployment subscription ------------------------
SOCK=sbtest-logs-$$
. "$(dirname "$0")/tui.sh"
tui_start
DIAG=$SANDBOX_RUN_DIR/tui-$RUNS.log
check "the console shows the project" on_screen 20 'api'
sb deploy deploy api --yes --confirm-env production --reason test_railway_logs
rc_is deploy 0 "deploy api (from the command line, while the console watches)"
keys r	# refresh now: the console sees the rollout in progress, then follows it live
eventually 60 "the console logged the rollout's transitions from the subscription" \
	grep -qE "railway: deployment [0-9a-f-]+: [A-Z_]+ -> SUCCESS" "$DIAG"
check "the subscription connection opened" grep -q "railway: subscriptions open" "$DIAG"

# ---- the logs pane: live lines, the filter, a dropped stream said as such ----------------------
keys : ; typed "pane logs" ; keys Enter
check "the logs pane shows the services' lines" on_screen 10 '(info|error) +(api|worker|ws) '
curl -s -o /dev/null --max-time 3 "$SANDBOX_API_HTTP_URL/orders?from=test_railway_logs_marker"
check "a request's log line arrives live (follow mode)" on_screen 15 'GET /orders'
"$T_SANDBOX/fault" error-spike on --percent 100 >/dev/null || not_ok "fault error-spike on"
sleep 1	# the app re-reads its faults twice a second
for i in 1 2 3 4 5 6; do curl -s -o /dev/null --max-time 3 "$SANDBOX_API_HTTP_URL/orders?spike=$i"; done
check "the error spike's lines arrive, as errors" on_screen 15 '^[0-9:.]+ error +api '
"$T_SANDBOX/fault" error-spike off >/dev/null || not_ok "fault error-spike off"
keys /
sleep 0.3
typed '@level:error'
keys Enter
check "the filter keeps only errors and says how many" on_screen 10 '/@level:error: [0-9]+'
check "no info line is shown under the filter" bash -c '! tmux -L "$0" capture-pane -p | grep -qE "^[0-9:.]+ info "' "$SOCK-$RUNS"
esc
"$T_SANDBOX/fault" ws-drop on >/dev/null || not_ok "fault ws-drop on"
check "while the stream is down the pane says so" on_screen 15 'reconnecting'
"$T_SANDBOX/fault" ws-drop off >/dev/null || not_ok "fault ws-drop off"
check "the status bar shows the logs source stale meanwhile, then ok" on_screen 40 'logs:ok'
check "the pane no longer says reconnecting" bash -c 'for i in $(seq 50); do tmux -L "$0" capture-pane -p | grep -q reconnecting || exit 0; sleep 0.2; done; exit 1' "$SOCK-$RUNS"
check "the console quits with 0" test "$(tui_quit)" = 0
tui_stop
check "no sanitizer report" bash -c '! ls "$0"/* >/dev/null 2>&1' "$SAN_DIR"
