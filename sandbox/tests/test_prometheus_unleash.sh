#!/usr/bin/env bash
# sandbox: up --with prometheus --with unleash.  Prometheus scrapes the app
# fronts and the postgres, redis and node exporters at 1 s and has real
# samples; Unleash (7.5.1, database in the sandbox's PostgreSQL) answers its
# admin API with the generated token and has the sandbox's flags; a plain up
# afterwards keeps both; down stops them all.
. "$(dirname "$0")/lib.sh"
t_setup 30000

t_up --with prometheus --with unleash
prom=$PROMETHEUS_URL
pq() { curl -s --max-time 3 "$prom/api/v1/query" --data-urlencode "query=$1"; }

check "exporters answer" bash -c 'for p in "$@"; do curl -fs -o /dev/null --max-time 3 "http://127.0.0.1:$p/metrics" || exit 1; done' \
	_ "$P_NODE_EXP" "$P_PG_EXP" "$P_REDIS_EXP"
for job in api billing ws worker postgres redis node; do
	eventually 15 "prometheus scrapes job $job (up == 1)" bash -c \
		'curl -s --max-time 3 "$0/api/v1/query" --data-urlencode "query=up{job=\"$1\"}" | jq -e ".data.result[0].value[1] == \"1\"" >/dev/null' "$prom" "$job"
done
check "postgres exporter reaches postgres (pg_up 1)" bash -c 'pq() { curl -s --max-time 3 "$0/api/v1/query" --data-urlencode "query=$1"; }; pq pg_up | jq -e ".data.result[0].value[1] == \"1\""' "$prom"
check "redis exporter reaches redis (redis_up 1)" bash -c 'curl -s --max-time 3 "$0/api/v1/query" --data-urlencode "query=redis_up" | jq -e ".data.result[0].value[1] == \"1\""' "$prom"
"$T_SANDBOX/traffic" --rps 30 --seconds 3 --no-ws >/dev/null 2>&1
eventually 10 "prometheus has the app's request counter" bash -c \
	'curl -s --max-time 3 "$0/api/v1/query" --data-urlencode "query=sum(http_requests_total{job=\"api\",route=\"/orders\"})" | jq -e "(.data.result[0].value[1] | tonumber) > 0"' "$prom"
check "scrape interval is 1 s" bash -c 'curl -s --max-time 3 "$0/api/v1/status/config" | jq -r .data.yaml | grep -q "scrape_interval: 1s"' "$prom"

# Unleash
check "unleash /health" bash -c 'curl -fs --max-time 3 "$0/health" | jq -e ".health == \"GOOD\""' "http://127.0.0.1:$P_UNLEASH"
check "admin token works, flags are there" bash -c \
	'curl -fs --max-time 5 -H "Authorization: $UNLEASH_ADMIN_TOKEN" "$0/admin/projects/default/features" |
	jq -e "[.features[].name] | index(\"new-checkout\") != null and index(\"dark-mode\") != null"' "$UNLEASH_URL"
check "a wrong token is refused" bash -c \
	'test "$(curl -s -o /dev/null -w "%{http_code}" --max-time 5 -H "Authorization: *:*.wrong" "$0/admin/projects/default/features")" = 401' "$UNLEASH_URL"
check "client token sees production flags" bash -c \
	'curl -fs --max-time 5 -H "Authorization: $UNLEASH_CLIENT_TOKEN" "$0/client/features" | jq -e "any(.features[]; .name == \"dark-mode\" and .enabled)"' "$UNLEASH_URL"
check "unleash database lives in the sandbox postgres" bash -c \
	'runuser -u postgres -- psql -X -At -h "$0" -p "$1" -d unleash -c "select count(*) from features where name = '"'"'new-checkout'"'"'" | grep -qx 1' \
	"$SANDBOX_PG_SOCKET" "$P_PG"

# A plain up keeps the extras (recorded in the run dir) and their processes.
pids=$(cat "$SANDBOX_RUN_DIR"/pids/{prometheus,unleash}.pid | tr '\n' ' ')
check "plain up afterwards" "$T_SANDBOX/up" -q
check "prometheus and unleash kept running" test "$(cat "$SANDBOX_RUN_DIR"/pids/{prometheus,unleash}.pid | tr '\n' ' ')" = "$pids"
check "status lists prometheus, exporters and unleash as up" bash -c \
	'"$0/status" --json | jq -e "[.components[] | select(.state == \"up\") | .name] as \$u |
		all(\"prometheus\", \"node-exporter\", \"postgres-exporter\", \"redis-exporter\", \"unleash\"; . as \$n | \$u | index(\$n) != null)"' "$T_SANDBOX"
check "sandbox/down" "$T_SANDBOX/down"
check "nothing listens in the range" bash -c \
	'! ss -Hltn | awk "{n = split(\$4, a, \":\"); p = a[n] + 0; if (p >= $0 && p <= $1) bad = 1} END {exit !bad}"' "$SANDBOX_PORT_BASE" "$P_LAST"
