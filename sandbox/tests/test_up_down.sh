#!/usr/bin/env bash
# sandbox: up brings every part up healthy with its seed data and writes the
# console config and env file; a second up is idempotent; down leaves no
# process and no listening port; --purge removes the data.
. "$(dirname "$0")/lib.sh"
t_setup 28400

t_up
check "status --json says ok" bash -c '"$0/status" --json | jq -e ".ok == true and (.components | length) >= 7" >/dev/null' "$T_SANDBOX"

# Every public front answers /health with 200 and the per-component JSON.
for url in "$SANDBOX_API_URL/health" "$SANDBOX_API_HTTP_URL/health" "$SANDBOX_BILLING_URL/health"; do
	check "$url is healthy (db ok, redis ok, version v1)" \
		health_is "$url" 200 '.status == "ok" and .db == "ok" and .redis == "ok" and .version == "v1"'
done
check "ws /health is healthy" health_is "http://127.0.0.1:$P_WS/health" 200 '.status == "ok" and .redis == "ok"'
check "worker /health is healthy" health_is "$SANDBOX_WORKER_URL/health" 200 '.status == "ok" and .db == "ok"'

# Security headers: strict on api, weak on billing.
api_h=$(curl -sSI --max-time 3 --cacert "$SANDBOX_CA" "$SANDBOX_API_URL/health")
bil_h=$(curl -sSI --max-time 3 --cacert "$SANDBOX_CA" "$SANDBOX_BILLING_URL/health")
check "api sends HSTS, CSP, nosniff, X-Frame-Options, Referrer-Policy" bash -c '
	for h in "strict-transport-security: max-age=31536000; includeSubDomains" content-security-policy \
		"x-content-type-options: nosniff" "x-frame-options: DENY" referrer-policy; do
		grep -qi "^$h" <<<"$0" || { echo "# missing $h" >&2; exit 1; }
	done' "$api_h"
check "billing lacks HSTS and X-Frame-Options" bash -c '! grep -qi "^strict-transport-security" <<<"$0" && ! grep -qi "^x-frame-options" <<<"$0"' "$bil_h"

# TLS: when the HTTPS fronts run, the certificate is ours, for 127.0.0.1, ~20 days.
if [[ $SANDBOX_API_URL == https://* ]]; then
	end=$(echo | openssl s_client -connect "127.0.0.1:$P_API_TLS" -CAfile "$SANDBOX_CA" 2>/dev/null |
		openssl x509 -noout -enddate 2>/dev/null | cut -d= -f2)
	days=$(( ($(date -d "$end" +%s) - $(date +%s)) / 86400 ))
	check "https front certificate expires in 19..20 days ($days)" test "$days" -ge 19 -a "$days" -le 20
fi

# WebSocket echo through the ws front.
check "ws echo round-trip" node -e '
	const WebSocket = require(process.argv[1]);
	const ws = new WebSocket(process.argv[2]);
	const t = setTimeout(() => process.exit(1), 3000);
	ws.on("open", () => ws.send("signalbox-ping"));
	ws.on("message", (m) => { clearTimeout(t); process.exit(String(m) === "signalbox-ping" ? 0 : 1); });
	ws.on("error", () => process.exit(1));' "$T_SANDBOX/app/node_modules/ws" "$SANDBOX_WS_URL"

# Rooms: two clients (the front spreads them over the ws replicas) join a
# room; a message from one reaches the other through Redis pub/sub.
check "ws rooms fan out through Redis" node -e '
	const WebSocket = require(process.argv[1]);
	const url = process.argv[2];
	const t = setTimeout(() => { console.error("# ws rooms: timeout"); process.exit(1); }, 5000);
	const a = new WebSocket(url), b = new WebSocket(url);
	let joined = 0;
	const onJoin = (m) => {
		const j = JSON.parse(m);
		if (j.joined !== "t1" || ++joined < 2) return;
		a.send(JSON.stringify({ room: "t1", msg: "hello from a" }));
	};
	a.on("open", () => a.send(JSON.stringify({ join: "t1" })));
	b.on("open", () => b.send(JSON.stringify({ join: "t1" })));
	a.once("message", onJoin);
	b.once("message", (m) => {
		onJoin(m);
		b.on("message", (m2) => {
			const j = JSON.parse(m2);
			if (j.room === "t1" && j.msg === "hello from a") { clearTimeout(t); process.exit(0); }
		});
	});' "$T_SANDBOX/app/node_modules/ws" "$SANDBOX_WS_URL"

# Seed data.
check "seed: 2000 customers" test "$(psql_app -c 'select count(*) from customers')" = 2000
check "seed: 60 products" test "$(psql_app -c 'select count(*) from products')" = 60
check "seed: >= 5000 orders" test "$(psql_app -c 'select count(*) from orders')" -ge 5000
check "seed: order items for every order" test "$(psql_app -c 'select count(*) from orders o where not exists (select 1 from order_items i where i.order_id = o.id)')" = 0
check "WAL archiving to pgBackRest works" bash -c \
	'test "$(psql "$0" -X -At -c "select archived_count > 0 and failed_count = 0 from pg_stat_archiver")" = t' "$DATABASE_URL"
check "flags seeded in Redis" test "$(rcli hexists flags:production new-checkout)" = 1

# Real routes: read and write Postgres; the worker applies the job.
new=$(curl -s --max-time 5 -X POST -H 'Content-Type: application/json' -d '{"customer_id": 7, "items": [{"sku": "SKU-0001", "qty": 2}]}' \
	"$SANDBOX_API_HTTP_URL/orders")
id=$(jq -r '.id // empty' <<<"$new")
check "POST /orders creates an order ($id)" test -n "$id"
check "GET /customers/7 counts it" health_is "$SANDBOX_API_HTTP_URL/customers/7" 200 '.orders >= 1 and .email == "customer7@example.com"'
eventually 5 "the worker marks order $id processed" bash -c \
	'test "$(psql "$0" -X -At -c "select status from orders where id = $1")" = processed' "$DATABASE_URL" "$id"

# Console config and env file.
yml=$SANDBOX_RUN_DIR/signalbox.yml
check "signalbox.yml lists api, billing, ws and worker" bash -c \
	'for n in api billing ws worker; do grep -q "name: $n," "$0" || exit 1; done' "$yml"
check "signalbox.yml points ws at the ws front" grep -q "ws://127.0.0.1:$P_WS/ws" "$yml"
check "env file is private" test "$(stat -c %a "$SANDBOX_RUN_DIR/env")" = 600
check "env file has the Railway ids and tokens" bash -c \
	'. "$0/env" && [[ -n $RAILWAY_TOKEN && -n $RAILWAY_PROJECT_ID && $RAILWAY_API_URL == http://127.0.0.1:* ]]' "$SANDBOX_RUN_DIR"

# Idempotent: a second up changes nothing that runs.
pids_before=$(cat "$SANDBOX_RUN_DIR"/pids/*.pid | sort | tr '\n' ' ')
t0=$(date +%s%N)
"$T_SANDBOX/up" >/dev/null 2>&1
ms=$((($(date +%s%N) - t0) / 1000000))
check "second up succeeds in ${ms} ms, < 10 s" test "$ms" -lt 10000
check "second up keeps the same processes" test "$(cat "$SANDBOX_RUN_DIR"/pids/*.pid | sort | tr '\n' ' ')" = "$pids_before"

# down: nothing left.
pg_pid=$(head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null || head -n1 "$(cat "$SANDBOX_RUN_DIR/pgroot")/data/postmaster.pid")
all_pids="$pids_before $pg_pid"
check "sandbox/down succeeds" "$T_SANDBOX/down"
alive() {       # a pid that exists and is not a zombie waiting for init
	local p
	for p in $1; do
		kill -0 "$p" 2>/dev/null && [[ $(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) != Z ]] && return 0
	done
	return 1
}
eventually 3 "no process of ours is left" bash -c "$(declare -f alive); ! alive '$all_pids'"
check "no port in $SANDBOX_PORT_BASE..$P_LAST listens" bash -c \
	'! ss -Hltn | awk "{n = split(\$4, a, \":\"); p = a[n] + 0; if (p >= $0 && p <= $1) bad = 1} END {exit !bad}"' "$SANDBOX_PORT_BASE" "$P_LAST"
check "status after down exits 1" bash -c '"$0/status" >/dev/null; test $? = 1' "$T_SANDBOX"
check "down --purge removes the run dir" bash -c '"$0/down" --purge >/dev/null && test ! -e "$1"' "$T_SANDBOX" "$SANDBOX_RUN_DIR"
