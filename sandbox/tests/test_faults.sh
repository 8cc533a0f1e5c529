#!/usr/bin/env bash
# sandbox: the infrastructure faults really happen and `off` recovers them:
# redis-down and postgres-down show in /health (503 naming the component,
# answered in < 1 s), error-spike makes requests fail, latency adds 800 ms,
# log-storm floods the logs.  (The emulator's faults are tested with it.)
. "$(dirname "$0")/lib.sh"
t_setup 28800

t_up
api=$SANDBOX_API_URL

# ---- redis-down ----
check "fault redis-down on" "$T_SANDBOX/fault" redis-down on
check "redis really stopped" bash -c '! redis-cli -u "$REDIS_URL" --no-auth-warning ping >/dev/null 2>&1'
eventually 3 "api /health: 503, redis fail, db ok" health_is "$api/health" 503 '.status == "fail" and .redis == "fail" and .db == "ok"'
eventually 3 "ws /health: 503, redis fail" health_is "http://127.0.0.1:$P_WS/health" 503 '.redis == "fail"'
t=$(curl -s -o /dev/null -w '%{time_total}' --max-time 5 --cacert "$SANDBOX_CA" "$api/health")
check "/health answers in < 1 s with redis down (${t}s)" awk -v t="$t" 'BEGIN { exit !(t < 1.0) }'
check "status shows the fault" bash -c '"$0/status" --json | jq -e "any(.faults[]; .name == \"redis-down\")" >/dev/null' "$T_SANDBOX"
check "fault redis-down off" "$T_SANDBOX/fault" redis-down off
eventually 5 "api /health recovers (200, redis ok)" health_is "$api/health" 200 '.status == "ok" and .redis == "ok"'
eventually 5 "ws /health recovers" health_is "http://127.0.0.1:$P_WS/health" 200 '.redis == "ok"'
check "flags survived the restart" test "$(rcli hexists flags:production new-checkout)" = 1

# ---- postgres-down ----
check "fault postgres-down on" "$T_SANDBOX/fault" postgres-down on
check "postgres really stopped" bash -c '! psql "$DATABASE_URL" -X -At -c "select 1" >/dev/null 2>&1'
eventually 3 "api /health: 503, db fail, redis ok" health_is "$api/health" 503 '.status == "fail" and .db == "fail" and .redis == "ok"'
t=$(curl -s -o /dev/null -w '%{time_total}' --max-time 5 --cacert "$SANDBOX_CA" "$api/health")
check "/health answers in < 1 s with postgres down (${t}s)" awk -v t="$t" 'BEGIN { exit !(t < 1.0) }'
check "GET /orders fails with 5xx" bash -c 'c=$(curl -s -o /dev/null -w "%{http_code}" --max-time 5 "$0/orders"); [[ $c == 5?? ]]' "$SANDBOX_API_HTTP_URL"
check "fault postgres-down off" "$T_SANDBOX/fault" postgres-down off
eventually 5 "api /health recovers (200, db ok)" health_is "$api/health" 200 '.status == "ok" and .db == "ok"'
eventually 5 "GET /orders works again" bash -c 'test "$(curl -s -o /dev/null -w "%{http_code}" --max-time 5 "$0/orders?limit=3")" = 200' "$SANDBOX_API_HTTP_URL"

# ---- error-spike ----
check "fault error-spike on --percent 100" "$T_SANDBOX/fault" error-spike on --percent 100
eventually 3 "GET /customers/1 answers 500" bash -c 'test "$(curl -s -o /dev/null -w "%{http_code}" --max-time 5 "$0/customers/1")" = 500' "$SANDBOX_API_HTTP_URL"
# The front spreads requests over the api replicas, and /metrics is one
# replica's: enough requests that every replica counts some, then ask.
for i in $(seq 1 20); do curl -s -o /dev/null --max-time 5 "$SANDBOX_API_HTTP_URL/orders?limit=1"; done
spike_counted() { test "$(metric_sum "$SANDBOX_API_HTTP_URL/metrics" 'app_errors_total\{cause="error-spike"\}')" -ge 1; }
eventually 3 "app_errors_total{cause=error-spike} counts them" spike_counted
check "fault error-spike off" "$T_SANDBOX/fault" error-spike off
eventually 3 "GET /customers/1 answers 200 again" bash -c 'test "$(curl -s -o /dev/null -w "%{http_code}" --max-time 5 "$0/customers/1")" = 200' "$SANDBOX_API_HTTP_URL"

# ---- latency ----
check "fault latency on" "$T_SANDBOX/fault" latency on
slow() { local t; t=$(curl -s -o /dev/null -w '%{time_total}' --max-time 5 "$1"); awk -v t="$t" -v lo="$2" -v hi="$3" 'BEGIN { exit !(t >= lo && t < hi) }'; }
eventually 3 "/health takes >= 0.8 s" slow "$SANDBOX_API_HTTP_URL/health" 0.8 3
check "fault latency off" "$T_SANDBOX/fault" latency off
eventually 3 "/health is fast again (< 0.3 s)" slow "$SANDBOX_API_HTTP_URL/health" 0 0.3

# ---- log-storm ----
before=$(metric_sum "http://127.0.0.1:$P_WORKER/metrics" 'log_lines_total')
check "fault log-storm on --rate 500 --seconds 2" "$T_SANDBOX/fault" log-storm on --rate 500 --seconds 2
sleep 3
after=$(metric_sum "http://127.0.0.1:$P_WORKER/metrics" 'log_lines_total')
check "the worker wrote >= 500 storm lines ($before -> $after)" test $((after - before)) -ge 500
errs=$(metric_sum "http://127.0.0.1:$P_WORKER/metrics" 'log_lines_total\{level="error"\}')
check "the storm has error lines too ($errs)" test "$errs" -ge 50
sleep 1
a1=$(metric_sum "http://127.0.0.1:$P_WORKER/metrics" 'log_lines_total')
sleep 1
a2=$(metric_sum "http://127.0.0.1:$P_WORKER/metrics" 'log_lines_total')
check "the storm ends by itself ($a1 -> $a2)" test $((a2 - a1)) -lt 50
check "fault log-storm off" "$T_SANDBOX/fault" log-storm off

check "fault list shows nothing on" bash -c '! "$0/fault" list | grep -q " on "' "$T_SANDBOX"
check "unknown fault is refused" bash -c '! "$0/fault" no-such-fault on 2>/dev/null' "$T_SANDBOX"
check "everything healthy at the end" bash -c '"$0/status" >/dev/null' "$T_SANDBOX"
