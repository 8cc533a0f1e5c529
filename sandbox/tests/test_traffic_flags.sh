#!/usr/bin/env bash
# sandbox: traffic produces metrics and logs; the flag new-checkout (Redis
# hash flags:production) makes requests fail while on, visibly in responses,
# /metrics, /health and the logs, and they recover when it is off.
. "$(dirname "$0")/lib.sh"
t_setup 29200

t_up
m=$SANDBOX_API_HTTP_URL/metrics

# ---- traffic -> metrics and logs ----
req0=$(metric_sum "$m" 'http_requests_total\{route="/orders"')
log0=$(metric_sum "$m" 'log_lines_total\{level="info"\}')
out=$("$T_SANDBOX/traffic" --rps 40 --seconds 3 2>&1)
echo "$out" | sed 's/^/# /'
check "traffic: every request answered" grep -q 'network errors 0' <<<"$out"
check "traffic: only 2xx answers" bash -c '! grep -E "status .*(4|5)[0-9][0-9]:" <<<"$0"' "$out"
check "traffic: the ws client got its room messages back" bash -c '[[ $0 =~ received\ ([0-9]+) ]] && (( BASH_REMATCH[1] >= 2 ))' "$out"
req1=$(metric_sum "$m" 'http_requests_total\{route="/orders"')
log1=$(metric_sum "$m" 'log_lines_total\{level="info"\}')
# The front spreads requests over the replicas; one replica's counters grow too.
check "http_requests_total{route=/orders} grows ($req0 -> $req1)" test "$req1" -gt "$req0"
check "log_lines_total{level=info} grows ($log0 -> $log1)" test "$log1" -gt "$log0"
check "the request histogram has buckets" bash -c 'curl -s "$0" | grep -q "^http_request_duration_seconds_bucket{route=\"/orders\",le=\"0.1\"}"' "$m"
check "process metrics are there" bash -c 'curl -s "$0" | grep -q "^process_resident_memory_bytes [1-9]"' "$m"
check "the worker processed jobs" test "$(metric_sum "http://127.0.0.1:$P_WORKER/metrics" 'jobs_processed_total\{type="order.created",result="ok"\}')" -ge 1

# Logs: JSON lines with the documented fields, wherever the app's stdout goes
# (the emulator keeps replica logs in its state dir; direct mode in logs/).
logline=$(grep -rh --include='*.log' '"route":"/orders"' "$SANDBOX_RUN_DIR" 2>/dev/null | grep '"status":200' | tail -n 1)
if [[ -z $logline ]]; then
	# The emulator keeps replica logs in memory: ask its GraphQL API, and put
	# the line back together (Railway splits JSON lines into message,
	# severity and attributes).
	q='query($e: String!) { environmentLogs(environmentId: $e, filter: "\"GET /orders 200\"", beforeLimit: 20) { message severity attributes { key value } } }'
	logline=$(jq -n --arg q "$q" --arg e "$RAILWAY_ENVIRONMENT_ID" '{query: $q, variables: {e: $e}}' |
		curl -s --max-time 5 -H "Authorization: Bearer $RAILWAY_TOKEN" -H 'Content-Type: application/json' --data @- "$RAILWAY_API_URL" |
		jq -c '[.data.environmentLogs[]? | {msg: .message, level: .severity} + ([.attributes[] | {(.key): (.value | fromjson? // .)}] | add)] | last')
fi
check "a request log line has time, level, msg, route, status, duration_ms, request_id" \
	jq -e 'has("time") and has("level") and has("msg") and .route == "/orders" and (.status | type) == "number"
		and (.duration_ms | type) == "number" and (.request_id | length) > 0' <<<"${logline:-null}"

# ---- flag new-checkout ----
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
check "flag new-checkout on (rollout 100)" rcli hset flags:production new-checkout \
	"{\"enabled\":true,\"rollout\":100,\"description\":\"New checkout flow\",\"updated_at\":\"$now\",\"updated_by\":\"test\"}"
eventually 3 "POST /orders fails with 500" bash -c 'test "$(curl -s -o /dev/null -w "%{http_code}" --max-time 5 -X POST "$0/orders")" = 500' "$SANDBOX_API_HTTP_URL"
out=$("$T_SANDBOX/traffic" --rps 40 --seconds 2 --no-ws 2>&1)
echo "$out" | sed 's/^/# /'
check "traffic now sees 500s" grep -qE 'status .*500:' <<<"$out"
check "app_errors_total{cause=new-checkout} counts them" \
	test "$(metric_sum "$m" 'app_errors_total\{cause="new-checkout"\}')" -ge 1
check "app_flag_enabled{flag=new-checkout} is 1" test "$(metric_sum "$m" 'app_flag_enabled\{flag="new-checkout"')" -ge 1
eventually 3 "/health reports errors: fail (still 200)" health_is "$SANDBOX_API_HTTP_URL/health" 200 '.errors == "fail" and .status == "degraded"'
check "GET /customers/1 is unaffected" test "$(http_code "$SANDBOX_API_HTTP_URL/customers/1")" = 200

check "flag new-checkout off" rcli hset flags:production new-checkout \
	"{\"enabled\":false,\"rollout\":100,\"description\":\"New checkout flow\",\"updated_at\":\"$now\",\"updated_by\":\"test\"}"
# Every replica behind the front has to see the change: 6 answers in a row.
eventually 5 "POST /orders works again (6 in a row)" bash -c \
	'for i in 1 2 3 4 5 6; do test "$(curl -s -o /dev/null -w "%{http_code}" --max-time 5 -X POST "$0/orders")" = 201 || exit 1; done' \
	"$SANDBOX_API_HTTP_URL"
out=$("$T_SANDBOX/traffic" --rps 40 --seconds 2 --no-ws 2>&1)
echo "$out" | sed 's/^/# /'
check "traffic is clean again" bash -c '! grep -E "status .*5[0-9][0-9]:" <<<"$0"' "$out"

# Rollout: 30 % fails about a third.
check "flag new-checkout on, rollout 30" rcli hset flags:production new-checkout '{"enabled":true,"rollout":30}'
# Every replica has read it: 6 answers of GET /flags in a row say so.
flags_seen() {
	local i
	for i in 1 2 3 4 5 6; do
		curl -s --max-time 5 "$SANDBOX_API_HTTP_URL/flags" | jq -e "$1" >/dev/null || return 1
	done
}
eventually 5 "every api replica sees rollout 30" flags_seen '.flags["new-checkout"] | .enabled and .rollout == 30'
fails=0
for ((i = 0; i < 60; i++)); do
	[[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$SANDBOX_API_HTTP_URL/orders?limit=1") == 500 ]] && fails=$((fails + 1))
done
check "rollout 30: between 5 and 35 of 60 requests fail ($fails)" test "$fails" -ge 5 -a "$fails" -le 35
rcli hset flags:production new-checkout '{"enabled":false,"rollout":0}' >/dev/null
rcli hset flags:staging new-checkout '{"enabled":true,"rollout":100}' >/dev/null
eventually 5 "every api replica sees production's new-checkout off" flags_seen '.flags["new-checkout"].enabled == false'
sleep 1
check "flag on in staging does not affect production" bash -c \
	'for i in 1 2 3 4 5 6; do test "$(curl -s -o /dev/null -w "%{http_code}" --max-time 5 "$0/orders?limit=1")" = 200 || exit 1; done' \
	"$SANDBOX_API_HTTP_URL"
