# shellcheck shell=bash
# Start and stop each part of the sandbox.  Sourced after common.sh by up,
# down and fault.  Every start_* is idempotent (a running part is left
# alone) and returns only once the part really answers, or fails with the
# tail of its log.  Every stop_* stops by pid and waits (bounded).

# ---- secrets and TLS ------------------------------------------------------------

ensure_secret() {      # NAME [BYTES]
	local f=$SB_SECRETS/$1
	if [[ ! -s $f ]]; then
		mkdir -p "$SB_SECRETS" && chmod 700 "$SB_SECRETS"
		(umask 077 && openssl rand -hex "${2:-24}" >"$f") || sb_die "cannot write $f"
	fi
}

# A stable UUID for NAME, derived from the port base (ids stay the same
# across ups of the same sandbox, and differ between sandboxes).
stable_uuid() {
	local h
	h=$(printf 'signalbox-sandbox:%s:%s' "$SB_BASE" "$1" | sha256sum | cut -c1-32)
	printf '%s-%s-4%s-a%s-%s\n' "${h:0:8}" "${h:8:4}" "${h:13:3}" "${h:17:3}" "${h:20:12}"
}

tls_ok() {
	[[ -s $SB_TLS/ca.pem && -s $SB_TLS/ca.key && -s $SB_TLS/server.pem && -s $SB_TLS/server.key ]] &&
		openssl x509 -in "$SB_TLS/server.pem" -noout -checkend 86400 >/dev/null 2>&1 &&
		openssl verify -CAfile "$SB_TLS/ca.pem" "$SB_TLS/server.pem" >/dev/null 2>&1
}

# A private CA and a 20-day server certificate for IP 127.0.0.1 (short, so
# the console's TLS-expiry warning has something to say).
ensure_tls() {
	tls_ok && return 0
	local tmp
	mkdir -p "$SB_TLS"
	tmp=$(mktemp -d "$SB_TLS/new.XXXXXX")
	if ! {
		openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 20 \
			-keyout "$tmp/ca.key" -out "$tmp/ca.pem" \
			-subj "/O=signalbox sandbox/CN=signalbox sandbox CA" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" &&
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
			-keyout "$tmp/server.key" -out "$tmp/server.csr" \
			-subj "/O=signalbox sandbox/CN=127.0.0.1" &&
		printf '%s\n' "basicConstraints=critical,CA:FALSE" \
			"keyUsage=critical,digitalSignature,keyEncipherment" \
			"extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" >"$tmp/server.ext" &&
		openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
			-CAcreateserial -days 20 -sha256 -extfile "$tmp/server.ext" -out "$tmp/server.pem"
	} >"$tmp/openssl.log" 2>&1; then
		cat "$tmp/openssl.log" >&2
		rm -rf "$tmp"
		sb_die "openssl could not make the sandbox certificates"
	fi
	chmod 600 "$tmp/ca.key" "$tmp/server.key"
	mv -f "$tmp/ca.pem" "$tmp/ca.key" "$tmp/server.pem" "$tmp/server.key" "$SB_TLS/"
	rm -rf "$tmp"
	sb_say "made a CA and a 20-day certificate for 127.0.0.1 in $SB_TLS"
}

# ---- PostgreSQL + pgBackRest ----------------------------------------------------------

pg_running() {
	[[ -s $PG_DATA/PG_VERSION ]] && as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

pg_pid() {
	[[ -s $PG_DATA/postmaster.pid ]] || return 1
	local pid
	pid=$(head -n1 "$PG_DATA/postmaster.pid")
	[[ $pid =~ ^[0-9]+$ ]] && sb_pid_matches "$pid" postgres && echo "$pid"
}

pg_ready() {
	as_pg "$PG_BIN/pg_isready" -q -h "$PG_SOCK" -p "$P_PG" -t 1
}

pg_write_config() {
	as_pg tee "$PG_DATA/sandbox.conf" >/dev/null <<EOF
# Written by sandbox/up at every start; postgresql.conf includes it.
listen_addresses = '127.0.0.1'
port = $P_PG
unix_socket_directories = '$PG_SOCK'
max_connections = 200
shared_buffers = 64MB
wal_level = replica
archive_mode = on
archive_command = '$PGBACKREST --config=$PGBR_CONF --stanza=main archive-push %p'
archive_timeout = 60
max_wal_senders = 3
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = 1000
log_connections = off
EOF
	as_pg tee "$PGBR_CONF" >/dev/null <<EOF
# pgBackRest configuration of the signalbox sandbox (written by sandbox/up).
# Use it as: pgbackrest --config=$PGBR_CONF --stanza=main <command>
[global]
repo1-path=$PGBR_REPO
repo1-retention-full=3
log-path=$PG_ROOT/backrest/log
lock-path=$PG_ROOT/backrest/lock
spool-path=$PG_ROOT/backrest/spool
log-level-console=warn
log-level-file=info
start-fast=y
compress-type=lz4
process-max=2

[main]
pg1-path=$PG_DATA
pg1-port=$P_PG
pg1-socket-path=$PG_SOCK
pg1-user=postgres
EOF
	chmod 640 "$PGBR_CONF"
}

pgbr() {
	as_pg "$PGBACKREST" --config="$PGBR_CONF" --stanza=main "$@"
}

start_postgres() {
	local fresh=0
	mkdir -p "$PG_ROOT"
	chown postgres:postgres "$PG_ROOT"
	chmod 750 "$PG_ROOT"
	as_pg mkdir -p "$PG_SOCK" "$PG_ROOT/backrest/repo" "$PG_ROOT/backrest/log" \
		"$PG_ROOT/backrest/lock" "$PG_ROOT/backrest/spool" "$PG_ROOT/state"
	if [[ ! -s $PG_DATA/PG_VERSION ]]; then
		as_pg rm -rf "$PG_DATA"
		as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
			--auth-local=peer --auth-host=scram-sha-256 --data-checksums \
			>"$SB_LOGS/initdb.log" 2>&1 9>&- || { cat "$SB_LOGS/initdb.log" >&2; sb_die "initdb failed"; }
		echo "include 'sandbox.conf'" | as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
		fresh=1
	fi
	sb_t "initdb done"
	pg_write_config
	if pg_running; then
		pg_ready || sb_wait 10 postgres pg_ready || sb_die "postgres runs but does not answer (see $PG_LOG)"
	else
		as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 20 start >"$SB_LOGS/pg_ctl.log" 2>&1 9>&- || {
			tail -n 20 "$PG_LOG" >&2
			sb_die "postgres did not start on 127.0.0.1:$P_PG (see $PG_LOG)"
		}
		sb_wait 10 postgres pg_ready || sb_die "postgres did not become ready (see $PG_LOG)"
	fi
	sb_t "postgres started"
	pg_provision
	(( fresh )) && sb_say "postgres: new cluster in $PG_DATA"
	return 0
}

# The pgBackRest stanza, roles and databases.  Each step runs once (a marker
# in <pgroot>/state records it).
pg_provision() {
	local st=$PG_ROOT/state app_pw exp_pw
	app_pw=$(sb_secret pg-app)
	exp_pw=$(sb_secret pg-exporter)
	# The stanza first: WAL written from here on is archived without a failure.
	if [[ ! -e $st/stanza ]]; then
		pgbr stanza-create >"$SB_LOGS/pgbackrest-stanza.log" 2>&1 9>&- ||
			{ cat "$SB_LOGS/pgbackrest-stanza.log" >&2; sb_die "pgbackrest stanza-create failed"; }
		touch "$st/stanza"
		sb_t "stanza-create"
	fi
	if [[ ! -e $st/roles ]]; then
		sb_psql -d postgres >/dev/null <<EOF || sb_die "could not create the sandbox roles"
select format('create role app login password %L', '$app_pw')
 where not exists (select 1 from pg_roles where rolname = 'app') \gexec
select format('create role exporter login password %L', '$exp_pw')
 where not exists (select 1 from pg_roles where rolname = 'exporter') \gexec
grant pg_monitor to exporter;
select 'create database app owner app'
 where not exists (select 1 from pg_database where datname = 'app') \gexec
EOF
		touch "$st/roles"
	fi
}

# The sample app's schema and seed rows (once).
pg_seed() {
	local st=$PG_ROOT/state
	if [[ ! -e $st/seeded ]]; then
		{ echo 'set role app;'; cat "$SB_HERE/app/db/schema.sql"; } | sb_psql -d app >/dev/null ||
			sb_die "could not apply sandbox/app/db/schema.sql"
		if [[ $(sb_psql -d app -At -c 'select count(*) from customers') == 0 ]]; then
			{ echo 'set role app;'; cat "$SB_HERE/app/db/seed.sql"; } | sb_psql -d app >/dev/null ||
				sb_die "could not apply sandbox/app/db/seed.sql"
		fi
		touch "$st/seeded"
		sb_t "schema and seed"
	fi
}

# The first full backup runs while the apps start (it takes a few seconds);
# up waits for it before it says "ready", so restores always have one.
pg_first_backup_begin() {
	[[ -e $PG_ROOT/state/first-backup ]] && return 0
	(
		pgbr --type=full backup >"$SB_LOGS/pgbackrest-backup.log" 2>&1 9>&- &&
			touch "$PG_ROOT/state/first-backup"
	) 9>&- &
	SB_BACKUP_PID=$!
}

pg_first_backup_end() {
	[[ -n ${SB_BACKUP_PID:-} ]] || return 0
	wait "$SB_BACKUP_PID" || true
	[[ -e $PG_ROOT/state/first-backup ]] ||
		{ cat "$SB_LOGS/pgbackrest-backup.log" >&2; sb_die "the first pgbackrest backup failed"; }
	sb_t "first full backup"
	sb_say "pgbackrest: stanza main created, first full backup taken"
}

stop_postgres() {
	local pid
	[[ -s $PG_DATA/PG_VERSION ]] || return 0
	pid=$(pg_pid) || return 0
	as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 20 stop >/dev/null 2>&1 9>&- ||
		sb_stop_pid "$pid" postgres 10
	sb_say "stopped postgres (pid $pid)"
}

# ---- Redis ------------------------------------------------------------------------------

redis_ready() {
	[[ $(sb_redis_cli ping 2>/dev/null) == PONG ]]
}

start_redis() {
	local dir=$SB_RUN/redis pid
	mkdir -p "$dir"
	(umask 077 && cat >"$dir/redis.conf") <<EOF
# Written by sandbox/up at every start.
bind 127.0.0.1
port $P_REDIS
protected-mode yes
requirepass $(sb_secret redis)
daemonize no
pidfile $dir/redis.pid
dir $dir
dbfilename dump.rdb
logfile ""
save 30 1
appendonly no
# flag changes are published for live updates (docs/flags.md)
notify-keyspace-events KEhg\$x
maxmemory 128mb
maxmemory-policy noeviction
EOF
	if pid=$(sb_pid redis redis-server); then
		redis_ready || sb_wait 5 redis redis_ready || sb_die "redis (pid $pid) does not answer on 127.0.0.1:$P_REDIS"
		return 0
	fi
	sb_port_listening "$P_REDIS" && sb_die "port $P_REDIS (redis) is taken by another process"
	sb_spawn redis "$SB_LOGS/redis.log" /usr/bin/redis-server "$dir/redis.conf" 9>&-
	sb_wait 10 redis redis_ready || { tail -n 20 "$SB_LOGS/redis.log" >&2; sb_die "redis did not start"; }
}

stop_redis() {
	sb_stop redis redis-server 15
}

# Flags every environment starts with (HSETNX: never overwrites a change).
seed_flags() {
	local env now
	now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	for env in production staging; do
		sb_redis_cli hsetnx "flags:$env" new-checkout \
			"{\"enabled\":false,\"rollout\":25,\"description\":\"New checkout flow (POST /orders); fails rollout% of orders while on\",\"updated_at\":\"$now\",\"updated_by\":\"sandbox/up\"}" >/dev/null
		sb_redis_cli hsetnx "flags:$env" dark-mode \
			"{\"enabled\":true,\"rollout\":100,\"description\":\"Dark theme for the web client\",\"updated_at\":\"$now\",\"updated_by\":\"sandbox/up\"}" >/dev/null
		sb_redis_cli hsetnx "flags:$env" search-v2 \
			"{\"enabled\":false,\"rollout\":10,\"description\":\"New search backend\",\"updated_at\":\"$now\",\"updated_by\":\"sandbox/up\"}" >/dev/null
	done
}

# ---- the Railway API emulator (it runs the app replicas and the fronts) ------------------

EMU_JS=$SB_HERE/railway/server.js

emulator_available() {
	[[ ${SANDBOX_APPS:-} != direct && -f $EMU_JS ]]
}

emulator_ready() {
	sb_http_ok "http://127.0.0.1:$P_EMU/healthz"
}

write_railway_json() {
	local app_env db_url redis_url
	db_url="postgres://app:$(sb_secret pg-app)@127.0.0.1:$P_PG/app"
	redis_url="redis://default:$(sb_secret redis)@127.0.0.1:$P_REDIS/0"
	(umask 077 && cat >"$SB_RUN/railway.json.tmp") <<EOF
{
  "listen": { "host": "127.0.0.1", "port": $P_EMU },
  "token": "$(sb_secret railway-token)",
  "projectToken": "$(sb_secret railway-project-token)",
  "rateLimit": { "perHour": ${SANDBOX_RATE_PER_HOUR:-1000}, "perSecond": ${SANDBOX_RATE_PER_SECOND:-50} },
  "project": { "id": "$(stable_uuid project)", "name": "sandbox" },
  "environments": [
    { "id": "$(stable_uuid env-production)", "name": "production" },
    { "id": "$(stable_uuid env-staging)", "name": "staging" }
  ],
  "services": [
    { "id": "$(stable_uuid svc-api)", "name": "api",
      "command": ["node", "$SB_HERE/app/server.js"],
      "env": { "SERVICE": "api", "DATABASE_URL": "$db_url", "REDIS_URL": "$redis_url", "FLAGS_ENV": "production" },
      "version": "v1", "replicas": { "us-west2": 2 },
      "front": { "http": $P_API, "https": $P_API_TLS }, "healthPath": "/health" },
    { "id": "$(stable_uuid svc-ws)", "name": "ws",
      "command": ["node", "$SB_HERE/app/server.js"],
      "env": { "SERVICE": "ws", "REDIS_URL": "$redis_url", "FLAGS_ENV": "production" },
      "version": "v1", "replicas": { "us-west2": 2 },
      "front": { "http": $P_WS }, "healthPath": "/health" },
    { "id": "$(stable_uuid svc-worker)", "name": "worker",
      "command": ["node", "$SB_HERE/app/server.js"],
      "env": { "SERVICE": "worker", "DATABASE_URL": "$db_url", "REDIS_URL": "$redis_url", "FLAGS_ENV": "production" },
      "version": "v1", "replicas": { "us-west2": 1 },
      "front": { "http": $P_WORKER }, "healthPath": "/health" },
    { "id": "$(stable_uuid svc-billing)", "name": "billing",
      "command": ["node", "$SB_HERE/app/server.js"],
      "env": { "SERVICE": "api", "APP_HEADERS": "weak", "DATABASE_URL": "$db_url", "REDIS_URL": "$redis_url", "FLAGS_ENV": "production" },
      "version": "v1", "replicas": { "us-west2": 1 },
      "front": { "http": $P_BILLING, "https": $P_BILLING_TLS }, "healthPath": "/health" }
  ],
  "replicaPortRange": [$P_REPLICA_LO, $P_REPLICA_HI],
  "tls": { "cert": "$SB_TLS/server.pem", "key": "$SB_TLS/server.key", "ca": "$SB_TLS/ca.pem" },
  "pgbackrest": { "config": "$PGBR_CONF", "stanza": "main", "bin": "$PGBACKREST", "pgDataDir": "$PG_DATA",
                  "runAs": "postgres", "pgCtl": "$PG_BIN/pg_ctl", "pgPort": $P_PG, "pgSocketDir": "$PG_SOCK",
                  "pgLogFile": "$PG_LOG" },
  "stateDir": "$SB_RUN/railway"
}
EOF
	mv -f "$SB_RUN/railway.json.tmp" "$SB_RUN/railway.json"
}

# Every public front answers /health with 200.
fronts_ready() {
	local ca=$SB_TLS/ca.pem
	sb_http_ok "http://127.0.0.1:$P_API/health" &&
		sb_http_ok "http://127.0.0.1:$P_WS/health" &&
		sb_http_ok "http://127.0.0.1:$P_WORKER/health" &&
		sb_http_ok "http://127.0.0.1:$P_BILLING/health" || return 1
	if emulator_available; then
		sb_http_ok "https://127.0.0.1:$P_API_TLS/health" "$ca" &&
			sb_http_ok "https://127.0.0.1:$P_BILLING_TLS/health" "$ca" || return 1
	fi
}

spawn_emulator() {
	write_railway_json
	mkdir -p "$SB_RUN/railway"
	sb_pid emulator "railway/server.js" >/dev/null && return 0
	sb_port_listening "$P_EMU" && sb_die "port $P_EMU (railway emulator) is taken by another process"
	sb_spawn emulator "$SB_LOGS/emulator.log" node "$EMU_JS" --config "$SB_RUN/railway.json" 9>&-
}

# /healthz answers 200 once the emulator's first deployments are up.
wait_emulator() {
	local pid i
	pid=$(sb_pid emulator "railway/server.js") || {
		tail -n 30 "$SB_LOGS/emulator.log" >&2
		sb_die "the railway emulator exited at start (log: $SB_LOGS/emulator.log)"
	}
	for ((i = 0; i < 300; i++)); do
		emulator_ready && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	tail -n 30 "$SB_LOGS/emulator.log" >&2
	sb_die "the railway emulator did not answer GET /healthz on 127.0.0.1:$P_EMU (log: $SB_LOGS/emulator.log)"
}

stop_emulator() {
	# The emulator stops its replicas on SIGTERM; give it time to.
	sb_stop emulator "railway/server.js" 20
}

# A sample-app process started for this sandbox: its environment holds our
# Redis password (secrets are per run dir, so another sandbox's replicas on
# the same ports never match).
our_app_process() {
	local pw
	pw=$(sb_secret redis) && [[ -n $pw ]] || return 1
	sb_pid_matches "$1" "$SB_HERE/app/server.js" &&
		tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null | grep -q "^REDIS_URL=.*:$pw@"
}

# Replicas left behind (emulator killed hard): our sample-app processes that
# listen inside the port range.  Stopped by pid.
stop_stray_replicas() {
	local port pid
	while read -r port pid; do
		[[ -n $pid ]] || continue
		if our_app_process "$pid"; then
			sb_stop_pid "$pid" "replica on :$port" 5 && sb_say "stopped stray replica on :$port (pid $pid)"
		fi
	done < <(sb_listeners)
}

# ---- direct mode: the app without the emulator (SANDBOX_APPS=direct) -------------------

DIRECT_SERVICES="api ws worker billing"

direct_port() {
	case $1 in
	api) echo "$P_API" ;; ws) echo "$P_WS" ;; worker) echo "$P_WORKER" ;; billing) echo "$P_BILLING" ;;
	esac
}

start_direct_apps() {
	local svc pid port role weak db_url redis_url
	db_url="postgres://app:$(sb_secret pg-app)@127.0.0.1:$P_PG/app"
	redis_url="redis://default:$(sb_secret redis)@127.0.0.1:$P_REDIS/0"
	for svc in $DIRECT_SERVICES; do
		pid=$(sb_pid "app-$svc" "$SB_HERE/app/server.js") && continue
		port=$(direct_port "$svc")
		role=$svc weak=
		[[ $svc == billing ]] && role=api weak=weak
		sb_port_listening "$port" && sb_die "port $port ($svc) is taken by another process"
		SERVICE=$role PORT=$port VERSION=${SANDBOX_APP_VERSION:-v1} REPLICA_ID=$svc-direct-1 REGION=us-west2 \
			DATABASE_URL=$db_url REDIS_URL=$redis_url FLAGS_ENV=production APP_HEADERS=$weak \
			sb_spawn "app-$svc" "$SB_LOGS/app-$svc.log" node "$SB_HERE/app/server.js" 9>&-
	done
}

stop_direct_apps() {
	local svc
	for svc in $DIRECT_SERVICES; do
		sb_stop "app-$svc" "$SB_HERE/app/server.js" 10
	done
}

# ---- Prometheus and exporters ------------------------------------------------------------

spawn_exporters() {
	local pid
	if ! pid=$(sb_pid node-exporter prometheus-node-exporter); then
		sb_spawn node-exporter "$SB_LOGS/node-exporter.log" /usr/bin/prometheus-node-exporter \
			--web.listen-address="127.0.0.1:$P_NODE_EXP" --no-collector.systemd 9>&-
	fi
	if ! pid=$(sb_pid postgres-exporter prometheus-postgres-exporter); then
		DATA_SOURCE_NAME="postgresql://exporter:$(sb_secret pg-exporter)@127.0.0.1:$P_PG/postgres?sslmode=disable" \
			sb_spawn postgres-exporter "$SB_LOGS/postgres-exporter.log" /usr/bin/prometheus-postgres-exporter \
			--web.listen-address="127.0.0.1:$P_PG_EXP" 9>&-
	fi
	if ! pid=$(sb_pid redis-exporter prometheus-redis-exporter); then
		REDIS_PASSWORD=$(sb_secret redis) \
			sb_spawn redis-exporter "$SB_LOGS/redis-exporter.log" /usr/bin/prometheus-redis-exporter \
			-redis.addr "redis://127.0.0.1:$P_REDIS" -web.listen-address "127.0.0.1:$P_REDIS_EXP" 9>&-
	fi
}

wait_exporters() {
	sb_wait 10 node-exporter sb_http_ok "http://127.0.0.1:$P_NODE_EXP/metrics" || sb_die "node exporter did not start (see $SB_LOGS/node-exporter.log)"
	sb_wait 10 postgres-exporter sb_http_ok "http://127.0.0.1:$P_PG_EXP/metrics" || sb_die "postgres exporter did not start (see $SB_LOGS/postgres-exporter.log)"
	sb_wait 10 redis-exporter sb_http_ok "http://127.0.0.1:$P_REDIS_EXP/metrics" || sb_die "redis exporter did not start (see $SB_LOGS/redis-exporter.log)"
}

stop_exporters() {
	sb_stop node-exporter prometheus-node-exporter 10
	sb_stop postgres-exporter prometheus-postgres-exporter 10
	sb_stop redis-exporter prometheus-redis-exporter 10
}

# Prometheus has real samples of postgres, redis and the api front.
prometheus_has_samples() {
	local q='count(up{job=~"postgres|redis|api"} == 1)'
	curl -fsS --max-time 2 --noproxy '*' "http://127.0.0.1:$P_PROM/api/v1/query" --data-urlencode "query=$q" |
		grep -q '"value":\[[0-9.]*,"3"\]'
}

spawn_prometheus() {
	local dir=$SB_RUN/prometheus pid
	mkdir -p "$dir/data"
	sed -e "s|@P_API@|$P_API|g" -e "s|@P_WS@|$P_WS|g" -e "s|@P_WORKER@|$P_WORKER|g" \
		-e "s|@P_BILLING@|$P_BILLING|g" -e "s|@P_PG_EXP@|$P_PG_EXP|g" -e "s|@P_REDIS_EXP@|$P_REDIS_EXP|g" \
		-e "s|@P_NODE_EXP@|$P_NODE_EXP|g" -e "s|@P_PROM@|$P_PROM|g" -e "s|@P_UNLEASH@|$P_UNLEASH|g" \
		-e "s|@P_EMU@|$P_EMU|g" -e "s|@STATE_DIR@|$SB_RUN/railway|g" \
		"$SB_HERE/prometheus/prometheus.yml.in" >"$dir/prometheus.yml.tmp"
	mv -f "$dir/prometheus.yml.tmp" "$dir/prometheus.yml"
	if pid=$(sb_pid prometheus "$dir/prometheus.yml"); then
		kill -HUP "$pid" 2>/dev/null || true          # reload the config
	else
		sb_port_listening "$P_PROM" && sb_die "port $P_PROM (prometheus) is taken by another process"
		sb_spawn prometheus "$SB_LOGS/prometheus.log" /usr/bin/prometheus \
			--config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
			--storage.tsdb.retention.time=2d --web.listen-address="127.0.0.1:$P_PROM" 9>&-
	fi
}

wait_prometheus() {
	sb_wait 20 "prometheus samples" prometheus_has_samples ||
		{ tail -n 20 "$SB_LOGS/prometheus.log" >&2; sb_die "prometheus has no samples after 20 s"; }
}

stop_prometheus() {
	sb_stop prometheus "$SB_RUN/prometheus/prometheus.yml" 15
}

# ---- Unleash -------------------------------------------------------------------------------

unleash_ready() {
	sb_http_ok "http://127.0.0.1:$P_UNLEASH/health"
}

spawn_unleash() {
	local pid pw
	ensure_secret unleash-db 24
	ensure_secret unleash-admin 24
	ensure_secret unleash-client 24
	pw=$(sb_secret unleash-db)
	sb_psql -d postgres >/dev/null <<EOF || sb_die "could not create the unleash database"
select format('create role unleash login password %L', '$pw')
 where not exists (select 1 from pg_roles where rolname = 'unleash') \gexec
select 'create database unleash owner unleash'
 where not exists (select 1 from pg_database where datname = 'unleash') \gexec
EOF
	if ! pid=$(sb_pid unleash "unleash/server.js"); then
		sb_port_listening "$P_UNLEASH" && sb_die "port $P_UNLEASH (unleash) is taken by another process"
		UNLEASH_PORT=$P_UNLEASH \
			UNLEASH_DATABASE_URL="postgres://unleash:$pw@127.0.0.1:$P_PG/unleash" \
			UNLEASH_ADMIN_TOKEN="*:*.$(sb_secret unleash-admin)" \
			UNLEASH_CLIENT_TOKEN="default:production.$(sb_secret unleash-client)" \
			sb_spawn unleash "$SB_LOGS/unleash.log" node "$SB_HERE/unleash/server.js" 9>&-
	fi
}

wait_unleash() {
	local i pid
	pid=$(sb_pid unleash "unleash/server.js") || sb_die "unleash exited at start (see $SB_LOGS/unleash.log)"
	for ((i = 0; i < 400; i++)); do
		unleash_ready && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	unleash_ready || { tail -n 30 "$SB_LOGS/unleash.log" >&2; sb_die "unleash did not answer /health on :$P_UNLEASH"; }
	UNLEASH_URL="http://127.0.0.1:$P_UNLEASH" UNLEASH_ADMIN_TOKEN="*:*.$(sb_secret unleash-admin)" \
		node "$SB_HERE/unleash/bootstrap.js" >>"$SB_LOGS/unleash.log" 2>&1 ||
		{ tail -n 10 "$SB_LOGS/unleash.log" >&2; sb_die "could not create the unleash flags"; }
}

stop_unleash() {
	sb_stop unleash "unleash/server.js" 15
}
