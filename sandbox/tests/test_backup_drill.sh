#!/usr/bin/env bash
# sandbox: the restore drill (include/signalbox/drill.h, run by the
# tests/tools/drill_run driver) against the sandbox's PostgreSQL and
# pgBackRest.  A drill of the newest backup restores it into a fresh
# directory, starts a scratch server on base+9, checks the tables against
# production's counts and checksums read at the backup, runs a custom check
# and a smoke command, then stops and removes everything: PASSED with every
# phase timed.  A drill whose custom check fails is FAILED, names the check
# and still leaves nothing behind.  A point-in-time drill restores the rows
# as they were at the target.  Production is never touched: its postmaster
# and postmaster.pid stay the same, it answers throughout, and drills asked
# to use its port or a scratch directory inside its data directory are
# refused before anything is created.
#
#   DRILL_RUN_BIN   the driver (else tests/drill_run next to SIGNALBOX_BIN,
#                   else the newest build*/tests/drill_run of this checkout)
. "$(dirname "$0")/lib.sh"
t_setup 32400

DR=${DRILL_RUN_BIN:-}
if [[ -z $DR && -n ${SIGNALBOX_BIN:-} && -x $(dirname "$SIGNALBOX_BIN")/tests/drill_run ]]; then
	DR=$(dirname "$SIGNALBOX_BIN")/tests/drill_run
fi
if [[ -z $DR ]]; then
	DR=$(ls -t "$T_SANDBOX"/../build*/tests/drill_run 2>/dev/null | head -n 1)
fi
[[ -n $DR && -x $DR ]] || bail "no drill_run: build it (cmake --build BUILD --target drill_run) or set DRILL_RUN_BIN"
echo "# driver: $DR"

t_up
sb_run_dir
sb_pg_paths
scratch_port=$((SANDBOX_PORT_BASE + 9))
# PG_ROOT is the postgres user's and short enough for the scratch socket;
# production's data directory lives in it too, as a sibling of the drills.
scratch_root=$PG_ROOT
work=$SANDBOX_RUN_DIR/drill
mkdir -p "$work"

# Whatever happens, no scratch server may outlive the test.
stop_drills() {
	local d
	for d in "$scratch_root"/signalbox-drill-*; do
		[[ -d $d ]] || continue
		if [[ -s $d/data/postmaster.pid ]]; then
			as_pg "$PG_BIN/pg_ctl" -D "$d/data" -m immediate -w -t 20 stop >/dev/null 2>&1 || true
		fi
		rm -rf -- "$d"
	done
}
trap 'stop_drills; t_teardown' EXIT

pgbr_info() { as_pg "$PGBACKREST" --config="$PGBR_CONF" --stanza=main --output=json info; }
# The drill's own statement (drill_table_sql): "count md5".
table_ref() { psql_app -F ' ' -c "select count(*), md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) from \"$1\" t"; }
prod_pid() { head -n 1 "$PG_DATA/postmaster.pid"; }
pidfile_sum() { sha256sum "$PG_DATA/postmaster.pid" | cut -d' ' -f1; }
no_drill_dirs() { ! compgen -G "$scratch_root/signalbox-drill-*" >/dev/null; }
scratch_silent() { ! as_pg "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$scratch_port" -t 2; }
no_scratch_procs() { ! pgrep -f "signalbox-drill-" >/dev/null; }
orders_done() { test "$(psql_app -c "select count(*) from orders where status = 'new'")" = 0; }
archived_upto() {  # WAL-FILE
	test "$(psql_app -c "select coalesce(last_archived_wal, '') >= '$1' from pg_stat_archiver")" = t
}
# The password of production's URL appears in none of FILES.
no_password_in() {
	local pw=${DATABASE_URL#*://*:}
	pw=${pw%%@*}
	[[ -n $pw ]] && ! grep -qF -- "$pw" "$@"
}

# drill NAME ARGS...: run the driver (production's URL: $DRILL_URL, else
# $DATABASE_URL); JSON in $work/NAME.json, phases in $work/NAME.err, exit
# status in $rc.  drill_bg starts it in the background (pid in $dpid).
drill_bg() {
	local name=$1
	shift
	DATABASE_URL=${DRILL_URL:-$DATABASE_URL} "$DR" --wrapper "runuser -u postgres --" \
		--pgbackrest "$PGBACKREST" --pgbr-config "$PGBR_CONF" --stanza main --pg-bin "$PG_BIN" \
		--scratch "$scratch_root" --prod-data-dir "$PG_DATA" --prod-port "$P_PG" --timeout 5m \
		"$@" >"$work/$name.json" 2>"$work/$name.err" &
	dpid=$!
}
drill() {
	drill_bg "$@"
	wait "$dpid"
	rc=$?
	sed "s/^/#   [$1] /" "$work/$1.err"
}
j() { jq -e "$2" "$work/$1.json" >/dev/null; }

pid0=$(prod_pid)
sum0=$(pidfile_sum)
check "production's postmaster runs (pid $pid0)" kill -0 "$pid0"

# ---- the reference: rows at an incremental backup, more rows after it ------------------
for i in 1 2 3; do curl -s -o /dev/null --max-time 5 -X POST "$SANDBOX_API_HTTP_URL/orders"; done
# the worker marks new orders processed: let it finish, so nothing changes
# between reading the reference and the backup
eventually 20 "the worker processed every order" orders_done
declare -A ref
for t in customers orders order_items; do ref[$t]=$(table_ref "$t"); done
echo "# reference (count md5): customers ${ref[customers]}, orders ${ref[orders]}, items ${ref[order_items]}"
check "incremental backup" as_pg "$PGBACKREST" --config="$PGBR_CONF" --stanza=main --type=incr backup
newest=$(pgbr_info | jq -r '.[0].backup[-1].label')
full=$(pgbr_info | jq -r '[.[0].backup[] | select(.type == "full")][0].label')
for i in 1 2; do curl -s -o /dev/null --max-time 5 -X POST "$SANDBOX_API_HTTP_URL/orders"; done
check "rows written after the backup" test "$(table_ref orders)" != "${ref[orders]}"

# ---- a passing drill of the newest backup ------------------------------------------------------
expects=()
for t in customers orders order_items; do
	expects+=(--expect "$t=${ref[$t]%% *}:${ref[$t]##* }")
done
drill pass --port "$scratch_port" --table customers --table orders --table order_items "${expects[@]}" \
	--check 'customers-not-empty=select count(*) > 0 from customers=t' \
	--smoke 'test "$(psql "$DRILL_DATABASE_URL" -X -At -c "select inet_server_port()")" = "$PGPORT" && test "$PGHOST" = 127.0.0.1'
check "passing drill exits 0" test "$rc" = 0
check "verdict PASSED" j pass '.verdict == "PASSED" and .reason == null'
check "it restored the newest backup ($newest)" j pass ".label == \"$newest\""
check "every phase ran and has a duration" j pass \
	'[.phases[] | select(.state == "ok" and (.ms | type) == "number")] | length == 8'
check "RTO > 0 and below the total" j pass '.rto_ms > 0 and .rto_ms <= .total_ms'
check "recovery point and RPO recorded" j pass \
	'(.recovery_point | test("^20[0-9-]+T[0-9:.]+Z$")) and .rpo_ms >= 0 and (.recovery_point_source | type) == "string"'
for t in customers orders order_items; do
	check "restored $t: ${ref[$t]%% *} rows, production's checksum at the backup" j pass \
		".tables[] | select(.name == \"$t\") | .count == ${ref[$t]%% *} and .checksum == \"${ref[$t]##* }\" and .match == \"ok\""
done
check "custom check passed" j pass '.checks[0] | .name == "customers-not-empty" and .value == "t" and .ok == true'
check "smoke command ran against the scratch copy" j pass '.smoke.ok == true'
check "scratch directory removed" j pass '.scratch_removed == true'
check "no drill directory left" no_drill_dirs
check "nothing answers on the scratch port" scratch_silent
check "no scratch postgres process is left" no_scratch_procs
check "production's password is not in the drill's output" no_password_in "$work/pass.json" "$work/pass.err"
jq -r '"# phases (ms): " + ([.phases | to_entries[] | "\(.key) \(.value.ms)"] | join(", "))
	+ "\n# RTO \(.rto_ms) ms, RPO \(.rpo_ms) ms, total \(.total_ms) ms, recovery point \(.recovery_point) (\(.recovery_point_source))"' \
	"$work/pass.json"

# ---- a drill whose custom check fails ------------------------------------------------------------
drill failcheck --port "$scratch_port" --set "$full" --table customers \
	--check 'customers-not-empty=select count(*) > 0 from customers=f'
check "failing drill exits 1" test "$rc" = 1
check "verdict FAILED, the reason names the check" j failcheck \
	'.verdict == "FAILED" and .reason == "check '"'"'customers-not-empty'"'"': got t, expected f"'
check "it restored the chosen backup ($full)" j failcheck ".label == \"$full\""
check "the check phase failed, stop and cleanup ran" j failcheck \
	'.phases.check.state == "failed" and .phases.smoke.state == "skipped" and .phases.stop.state == "ok" and .phases.cleanup.state == "ok"'
check "scratch directory removed after the failure" no_drill_dirs
check "nothing answers on the scratch port after the failure" scratch_silent
check "no scratch postgres process is left after the failure" no_scratch_procs

# ---- a point in time: between two batches of orders -------------------------------------------------
orders_before=$(psql_app -c 'select count(*) from orders')
sleep 1.2
target=$(psql_app -c "select to_char(now() at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') || '+00'")
sleep 1.2
for i in 1 2; do curl -s -o /dev/null --max-time 5 -X POST "$SANDBOX_API_HTTP_URL/orders"; done
# the target's WAL must be in the archive: switch and wait for it
last_wal=$(sb_psql -d postgres -At -c 'select pg_walfile_name(pg_switch_wal())')
eventually 30 "WAL up to the target archived ($last_wal)" archived_upto "$last_wal"
drill pitr --port "$scratch_port" --target "$target" \
	--check "orders-at-target=select count(*) from orders=$orders_before"
check "point-in-time drill ($target) exits 0" test "$rc" = 0
check "it had the orders as they were at the target ($orders_before)" j pitr \
	'.verdict == "PASSED" and .checks[0].ok == true and .target != null'
check "its recovery point is at or before the target" j pitr \
	"(.recovery_point_ms != null) and (.recovery_point_ms <= $(date -d "${target%+00}Z" +%s%3N))"

# ---- the copy refuses the credentials: fails at once, cleans up ------------------------------------
pw=${DATABASE_URL#*://*:}
pw=${pw%%@*}
DRILL_URL=${DATABASE_URL/:$pw@/:not-the-password@} drill badpw --port "$scratch_port" --table customers
check "a drill with a wrong password exits 1" test "$rc" = 1
check "  the reason says the copy refused the credentials" j badpw \
	'.verdict == "FAILED" and (.reason | test("^recover: the scratch copy refuses production.s credentials: .*password authentication failed"))'
check "  without waiting for the timeout" j badpw '.phases.recover.ms < 30000'
check "  with the end of the server's log" j badpw '[.log_tail[] | select(test("password authentication failed"))] | length > 0'
check "  and stopped and removed its copy" j badpw '.phases.stop.state == "ok" and .scratch_removed == true'
check "  nothing answers on the scratch port" scratch_silent

# ---- SIGINT cancels: CANCELLED, the server stopped, the directory gone ------------------------------
drill_bg cancel --port "$scratch_port" --table customers
eventually 30 "the drill to cancel is restoring" grep -q "restore  running" "$work/cancel.err"
kill -INT "$dpid"
wait "$dpid"
rc=$?
sed "s/^/#   [cancel] /" "$work/cancel.err"
check "a cancelled drill exits 1" test "$rc" = 1
check "  verdict CANCELLED, the reason names the phase" j cancel \
	'.verdict == "CANCELLED" and (.reason | startswith("cancelled during "))'
check "  its directory was removed" j cancel '.scratch_removed == true and .phases.cleanup.state == "ok"'
check "  no drill directory left" no_drill_dirs
check "  nothing answers on the scratch port" scratch_silent
check "  no scratch postgres process is left" no_scratch_procs

# ---- refusals: nothing is created -----------------------------------------------------------------------
data_ls=$(ls -A "$PG_DATA")
drill prodport --port "$P_PG" --table customers
check "a drill on production's port is refused (exit 2)" test "$rc" = 2
check "  and says why" grep -q "port $P_PG is production's port" "$work/prodport.err"
drill inprod --port "$scratch_port" --scratch "$PG_DATA/pg_wal" --table customers
check "a drill inside production's data directory is refused (exit 2)" test "$rc" = 2
check "  and says why" grep -q "inside production's data directory" "$work/inprod.err"
drill isprod --port "$scratch_port" --scratch "$PG_DATA" --table customers
check "a drill in production's data directory itself is refused (exit 2)" test "$rc" = 2
check "  and says why" grep -q "is production's data directory" "$work/isprod.err"
check "refused drills created nothing" no_drill_dirs
check "production's data directory has the same entries" test "$(ls -A "$PG_DATA")" = "$data_ls"
check "nothing was made in pg_wal" bash -c '! ls -A "$0" | grep -q signalbox-drill' "$PG_DATA/pg_wal"

# ---- production throughout -------------------------------------------------------------------------------
check "production's postmaster is the same (pid $pid0)" test "$(prod_pid)" = "$pid0"
check "production's postmaster.pid is unchanged" test "$(pidfile_sum)" = "$sum0"
check "production still answers on port $P_PG" test "$(psql_app -c 'select 1')" = 1
check "production kept the rows written after the backups" test "$(table_ref orders)" != "${ref[orders]}"
check "production still archives without failures" test "$(psql_app -c 'select failed_count = 0 from pg_stat_archiver')" = t
