#!/usr/bin/env bash
# sandbox: pgBackRest really backs up the sandbox's PostgreSQL: up leaves a
# full backup; an incremental backup taken now restores into a scratch
# directory, a scratch server (on base+9, its own socket, archiving off)
# starts from it with WAL replay, and its row counts are those at the backup,
# without the rows written after it.
. "$(dirname "$0")/lib.sh"
t_setup 29600

t_up
sb_run_dir
sb_pg_paths
scratch=$PG_ROOT/restore-test
scratch_port=$((SANDBOX_PORT_BASE + 9))

stop_scratch() {
	if [[ -s $scratch/data/postmaster.pid ]]; then
		as_pg "$PG_BIN/pg_ctl" -D "$scratch/data" -m immediate -w -t 20 stop >/dev/null 2>&1 || true
	fi
	rm -rf "$scratch"
}
trap 'stop_scratch; t_teardown' EXIT

pgbr_info() { as_pg "$PGBACKREST" --config="$PGBR_CONF" --stanza=main --output=json info; }
counts() {     # psql-args...: "customers orders order_items"
	"$@" -X -At -c "select (select count(*) from customers) || ' ' || (select count(*) from orders) || ' ' || (select count(*) from order_items)"
}

check "up left a full backup" bash -c '[[ $(jq -r "[.[0].backup[] | select(.type == \"full\")] | length" <<<"$0") -ge 1 ]]' "$(pgbr_info)"

# Write some rows, back up, write more.
for i in 1 2 3; do curl -s -o /dev/null --max-time 5 -X POST "$SANDBOX_API_HTTP_URL/orders"; done
at_backup=$(counts psql "$DATABASE_URL")
echo "# rows at backup (customers orders items): $at_backup"
t0=$(date +%s%N)
check "incremental backup" as_pg "$PGBACKREST" --config="$PGBR_CONF" --stanza=main --type=incr backup
echo "# backup took $((($(date +%s%N) - t0) / 1000000)) ms"
for i in 1 2; do curl -s -o /dev/null --max-time 5 -X POST "$SANDBOX_API_HTTP_URL/orders"; done
now=$(counts psql "$DATABASE_URL")
check "rows written after the backup ($now)" test "$now" != "$at_backup"
check "pgbackrest info lists full + incr" bash -c \
	'jq -e ".[0].backup | (map(.type) | index(\"full\") != null and index(\"incr\") != null)" <<<"$0"' "$(pgbr_info)"

# Restore the latest backup into a scratch directory (postgres-owned).
stop_scratch
as_pg mkdir -p "$scratch/data" "$scratch/socket"
as_pg chmod 700 "$scratch/data"
t0=$(date +%s%N)
check "restore into $scratch/data" as_pg "$PGBACKREST" --config="$PGBR_CONF" --stanza=main \
	--pg1-path="$scratch/data" --archive-mode=off --type=immediate --target-action=promote restore
echo "# restore took $((($(date +%s%N) - t0) / 1000000)) ms"
check "scratch server starts (port $scratch_port, archiving off)" as_pg "$PG_BIN/pg_ctl" -D "$scratch/data" \
	-l "$scratch/postgresql.log" -w -t 30 start \
	-o "-p $scratch_port -k $scratch/socket -c listen_addresses='' -c archive_mode=off"
eventually 20 "scratch server accepts connections" as_pg "$PG_BIN/pg_isready" -q -h "$scratch/socket" -p "$scratch_port"
eventually 20 "scratch server finished recovery" bash -c \
	'test "$(runuser -u postgres -- psql -X -At -h "$0" -p "$1" -d app -c "select pg_is_in_recovery()")" = f' "$scratch/socket" "$scratch_port"
restored=$(cd / && counts runuser -u postgres -- psql -h "$scratch/socket" -p "$scratch_port" -d app)
echo "# rows restored: $restored"
check "restored row counts equal those at the backup ($at_backup)" test "$restored" = "$at_backup"
check "the live database kept its newer rows" test "$(counts psql "$DATABASE_URL")" = "$now"
check "the live server still archives without failures" bash -c \
	'test "$(psql "$0" -X -At -c "select failed_count = 0 from pg_stat_archiver")" = t' "$DATABASE_URL"
stop_scratch
check "scratch server stopped and removed" test ! -e "$scratch"
