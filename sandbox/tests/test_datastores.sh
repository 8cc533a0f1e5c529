#!/usr/bin/env bash
# The datastores pane against the sandbox's real PostgreSQL and Redis,
# driven in tmux: the pane shows Postgres connections and Redis memory; a
# long pg_sleep shows with its duration; a row lock held by one session
# and waited for by another shows as blocked, with its blocker; the
# sleeping query is cancelled from the pane (typed confirmation in the
# protected environment) and the audit file has it; Redis stopped by its
# pid turns DOWN with the error and comes back OK once restarted;
# PostgreSQL stopped turns DOWN and comes back.  No password is ever on
# the screen, the console quits with 0 and no sanitizer report.
#
# Needs SIGNALBOX_BIN (set by CTest).
. "$(dirname "$0")/lib.sh"
: "${SIGNALBOX_BIN:?SIGNALBOX_BIN must name the signalbox binary}"
t_setup 25000

t_up
export XDG_STATE_HOME=$SANDBOX_RUN_DIR/state
AUDIT=$XDG_STATE_HOME/signalbox/audit.jsonl
SOCK=sbx-ds-$$
PIDS=()

. "$(dirname "$0")/tui.sh"

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	tui_stop
	t_teardown
}
trap cleanup EXIT

audit_has() {        # JQ-FILTER: some audit line matches
	[[ -s $AUDIT ]] && jq -e -s "any(.[]; $1)" "$AUDIT" >/dev/null
}
pg_pw=${DATABASE_URL#*://*:}
pg_pw=${pg_pw%%@*}
redis_pw=${REDIS_URL#*://*:}
redis_pw=${redis_pw%%@*}
no_password() { ! screen | grep -qF -e "$pg_pw" -e "$redis_pw"; }

check "the generated config names both datastores" \
	grep -q 'postgres: { url_env: DATABASE_URL }' "$SANDBOX_RUN_DIR/signalbox.yml"

# ---- the pane shows both servers ---------------------------------------------------------
tui_start
check "the console starts" on_screen 15 'Health'
keys :
typed "pane datastores"
keys Enter
check "Postgres is OK with its connections" on_screen 20 'Postgres +OK +app@127\.0\.0\.1:[0-9]+/app'
check "connections used of max_connections" on_screen 5 'connections [0-9]+/[0-9]+ '
check "Redis is OK with its memory" on_screen 10 'Redis +OK +127\.0\.0\.1:[0-9]+/0'
check "Redis memory used of maxmemory" on_screen 5 'memory [0-9.]+ [kMG]?B / '
check "the status bar has both sources" on_screen 5 'postgres:ok( [0-9]+/[0-9]+)? .*redis:ok'
check "no password on the screen" no_password

# ---- a long query, with its duration -----------------------------------------------------
psql_app -c "select pg_sleep(300)" >"$SANDBOX_RUN_DIR/sleep.out" 2>&1 &
SLEEP_PID=$!
PIDS+=("$SLEEP_PID")
check "pg_sleep shows as active with its duration" \
	on_screen 20 '[0-9]+ +([5-9]|[1-9][0-9])s +active +app +app +Timeout:PgSleep +select pg_sleep\(300\)'
sleep_backend=$(psql_app -c "select pid from pg_stat_activity where query = 'select pg_sleep(300)'")
check "the sleeping backend is known" test -n "$sleep_backend"

# ---- a lock held by one session, waited for by another -------------------------------------
psql_app -c "create table ds_lock (id int primary key, v int); insert into ds_lock values (1, 0)" >/dev/null
psql_app -c "begin; update ds_lock set v = v + 1 where id = 1; select pg_sleep(120); commit;" \
	>/dev/null 2>&1 &
PIDS+=($!)
sleep 1
psql_app -c "update ds_lock set v = v + 2 where id = 1" >/dev/null 2>&1 &
PIDS+=($!)
holder=$(psql_app -c "select pid from pg_stat_activity where query like 'begin; update ds_lock%'")
check "the pane counts the blocked session" on_screen 20 'locks: 1 session blocked'
check "the blocked one waits for the holder" on_screen 5 "pid [0-9]+ waits [0-9]+s for $holder"
check "the rows say blocked and blocking" on_screen 5 "$holder +[0-9]+s +blocking"
check "the tab badge says it" on_screen 5 'Data \(1 blocked\)'

# ---- cancel the sleeping query from the pane ------------------------------------------------
# longest first: the pg_sleep(300) is the top row
keys g X
check "the cancel asks, naming the backend" on_screen 5 "Cancel query $sleep_backend on postgres in production"
check "the dialog says what runs" on_screen 5 'now: active for [0-9]+s as app: select pg_sleep\(300\)'
confirm_typed "ds test: cancel the sleep"
check "status line: pg-cancel done" on_screen 10 "pg-cancel $sleep_backend: done"
wait "$SLEEP_PID"
check "the client got the cancel" grep -q 'canceling statement due to user request' "$SANDBOX_RUN_DIR/sleep.out"
gone() { ! screen | grep -q 'select pg_sleep(300)'; }
eventually 15 "the query is gone from the pane" gone
check "audit: pg-cancel allowed with the reason" \
	audit_has ".action == \"pg-cancel\" and .result == \"allowed\" and .params.target_id == \"$sleep_backend\" and .reason == \"ds test: cancel the sleep\""
check "audit: pg-cancel ok" \
	audit_has ".action == \"pg-cancel\" and .result == \"ok\" and .params.target_id == \"$sleep_backend\" and .environment == \"production\""

# ---- Redis stopped by its pid, then back ---------------------------------------------------
redis_pid=$(cat "$SANDBOX_RUN_DIR/pids/redis.pid")
check "redis has a pid" test -n "$redis_pid"
kill "$redis_pid"
check "Redis DOWN" on_screen 15 'Redis +DOWN'
check "with the error" on_screen 10 'Server closed the connection|Connection refused'
check "its last data is shown with its age" on_screen 10 'Redis +DOWN .*data [0-9]+s old'
check "the status bar says redis:stale" on_screen 5 'redis:stale'
check "Postgres stays OK" on_screen 5 'Postgres +OK'
"$T_SANDBOX/fault" redis-down off >/dev/null 2>&1 || bail "restart redis"
check "Redis OK again after the restart" on_screen 45 'Redis +OK'

# ---- PostgreSQL stopped, then back -----------------------------------------------------------
"$T_SANDBOX/fault" postgres-down on >/dev/null 2>&1 || bail "stop postgres"
check "Postgres DOWN" on_screen 15 'Postgres +DOWN'
check "with the server's error" on_screen 15 'terminating connection|server closed the connection|Connection refused|could not connect'
"$T_SANDBOX/fault" postgres-down off >/dev/null 2>&1 || bail "start postgres"
check "Postgres OK again" on_screen 45 'Postgres +OK'
check "still no password on the screen" no_password

code=$(tui_quit)
check "the console quits with 0" test "$code" = 0

san=$(find "$SAN_DIR" -type f -size +0 2>/dev/null)
if [[ -z $san ]]; then
	ok "no sanitizer report"
else
	not_ok "sanitizer reports: $san"
	# shellcheck disable=SC2086
	head -n 30 $san | sed 's/^/#   /'
fi
check "the -v log never has a password" bash -c '! grep -qF -e "$1" -e "$2" "$3"' _ \
	"$pg_pw" "$redis_pw" "$SANDBOX_RUN_DIR/tui-1.log"
