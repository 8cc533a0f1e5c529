#!/usr/bin/env bash
# `signalbox flags` against the sandbox's real Redis and PostgreSQL:
#   Redis (flags: { store: redis }, the hash flags:<env> of docs/flags.md)
#   - list shows new-checkout, dark-mode and search-v2 with their states;
#   - set new-checkout on (protected production: --yes --confirm-env
#     --reason) flips it, keeps its description, writes updated_by, and
#     the sample app's GET /flags has it on within ~1 s;
#   - a concurrent change (another writer HSETs the flag between the CLI's
#     read and its write, the window opened by SIGNALBOX_FLAGS_TEST_DELAY_MS)
#     is a conflict: exit 5, the other writer's value stays;
#   - a malformed value (set with redis-cli) is listed INVALID with the
#     reason, a toggle of it is refused (exit 6) and it is not touched;
#   - watch prints the flags again when another writer changes one
#     (keyspace notifications);
#   - the audit log has the sets allowed and ok / failed with before/after;
#   - read-only mode and a missing --confirm-env are refused (exit 4).
#   PostgreSQL (flags: { store: postgres }, sql/flags_postgres.sql)
#   - migrate creates the table (twice: idempotent); set, list, a conflict
#     through a concurrent UPDATE, and watch hears a change through
#     LISTEN/NOTIFY.
#
# Needs SIGNALBOX_BIN (set by CTest).
. "$(dirname "$0")/lib.sh"
: "${SIGNALBOX_BIN:?SIGNALBOX_BIN must name the signalbox binary}"
t_setup 22000

watcher=
stop_watcher() {
	local rc=$?
	[[ -n $watcher ]] && kill -TERM "$watcher" 2>/dev/null
	(exit "$rc")
	t_teardown
}
trap stop_watcher EXIT

t_up
export XDG_STATE_HOME=$SANDBOX_RUN_DIR/state
AUDIT=$XDG_STATE_HOME/signalbox/audit.jsonl
RCFG=$SANDBOX_RUN_DIR/flags-redis.yml
PCFG=$SANDBOX_RUN_DIR/flags-pg.yml
{ cat "$SANDBOX_RUN_DIR/signalbox.yml"; echo "flags: { store: redis, url_env: REDIS_URL }"; } >"$RCFG"
{ cat "$SANDBOX_RUN_DIR/signalbox.yml"; echo "flags: { store: postgres, url_env: DATABASE_URL }"; } >"$PCFG"

audit_has() {        # JQ-FILTER: some audit line matches
	[[ -s $AUDIT ]] && jq -e -s "any(.[]; $1)" "$AUDIT" >/dev/null
}
fl() {               # CONFIG ARGS...: signalbox flags with the sandbox's environment
	local cfg=$1
	shift
	(. "$SANDBOX_RUN_DIR/env" && "$SIGNALBOX_BIN" -c "$cfg" flags "$@")
}
app_flag() {         # NAME JQ-FILTER: the app's GET /flags, flag NAME matches
	http_body "$SANDBOX_API_HTTP_URL/flags" | jq -e ".flags[\"$1\"] | $2" >/dev/null
}
hget() { rcli HGET flags:production "$1"; }
yes_prod=(--yes --confirm-env production --reason "flags e2e")

check "config check accepts flags: (redis)" "$SIGNALBOX_BIN" -c "$RCFG" config check
check "config check accepts flags: (postgres)" "$SIGNALBOX_BIN" -c "$PCFG" config check

# ---- Redis: list ------------------------------------------------------------------------------
out=$(fl "$RCFG" list --env production)
check "list shows new-checkout off (25%)" grep -Eq '^new-checkout +off +25%' <<<"$out"
check "list shows dark-mode on (100%)" grep -Eq '^dark-mode +on +100%' <<<"$out"
check "list shows search-v2 off (10%)" grep -Eq '^search-v2 +off +10%' <<<"$out"
json=$(fl "$RCFG" list --env staging --json)
check "list --json of staging" jq -e '.environment == "staging" and .store == "redis" and
	([.flags[].name] | sort == ["dark-mode", "new-checkout", "search-v2"])' <<<"$json"

# ---- Redis: set -------------------------------------------------------------------------------
desc_before=$(hget new-checkout | jq -r .description)
check "set without --confirm-env in production is refused (exit 4)" \
	bash -c '[[ $1 == 4 ]]' _ "$(fl "$RCFG" set new-checkout on --env production --yes 2>/dev/null; echo $?)"
check "set in read-only mode is refused (exit 4)" \
	bash -c '[[ $1 == 4 ]]' _ "$(fl "$RCFG" -r set new-checkout on --env production "${yes_prod[@]}" 2>/dev/null; echo $?)"
check "nothing was written by the refusals" bash -c '[[ $(redis-cli -u "$REDIS_URL" --no-auth-warning HGET flags:production new-checkout | jq .enabled) == false ]]'
err=$(fl "$RCFG" set new-checkout on --env production "${yes_prod[@]}" 2>&1 >/dev/null)
rc=$?
check "set new-checkout on exits 0" test "$rc" = 0
check "it says before and after" grep -q 'new-checkout in production: off (25%) → on (25%)' <<<"$err"
check "the stored value is on, rollout and description kept" jq -e --arg d "$desc_before" \
	'.enabled == true and .rollout == 25 and .description == $d and
	 (.updated_by | test("@")) and (.updated_at | test("^20[0-9-]+T[0-9:.]+Z$"))' <<<"$(hget new-checkout)"
eventually 2 "the app's GET /flags has new-checkout on within ~1 s" app_flag new-checkout '.enabled == true'
check "audited allowed with before/after" audit_has \
	'.action == "flag-set" and .result == "allowed" and .target == "new-checkout" and .before == "off (25%)" and .after == "on (25%)"'
check "audited ok" audit_has '.action == "flag-set" and .result == "ok" and .target == "new-checkout"'

# ---- Redis: a concurrent change ----------------------------------------------------------------
SIGNALBOX_FLAGS_TEST_DELAY_MS=1500 fl "$RCFG" set search-v2 on --env production "${yes_prod[@]}" \
	>/dev/null 2>"$SANDBOX_RUN_DIR/race.err" &
racer=$!
sleep 0.7
other='{"enabled":false,"rollout":50,"description":"changed by another writer","updated_by":"other@test"}'
rcli HSET flags:production search-v2 "$other" >/dev/null
wait "$racer"
rc=$?
check "the stale write is a conflict (exit 5)" test "$rc" = 5
check "the conflict is reported with the new state" grep -q 'conflict: changed underneath: search-v2 is now off (50%) (by other@test' "$SANDBOX_RUN_DIR/race.err"
check "the other writer's value was not overwritten" test "$(hget search-v2)" = "$other"
check "the conflict is audited failed" audit_has \
	'.action == "flag-set" and .result == "failed" and .target == "search-v2" and (.error | test("changed underneath"))'

# ---- Redis: a malformed value -------------------------------------------------------------------
rcli HSET flags:production broken-flag 'not json{' >/dev/null
out=$(fl "$RCFG" list --env production)
check "a malformed value is listed INVALID with the reason" grep -Eq '^broken-flag +INVALID .*not JSON' <<<"$out"
check "the others are still listed" grep -Eq '^dark-mode +on' <<<"$out"
check "--json says invalid" jq -e '.flags[] | select(.name == "broken-flag") | .state == "invalid" and .reason == "not JSON"' \
	<<<"$(fl "$RCFG" list --env production --json)"
err=$(fl "$RCFG" set broken-flag on --env production "${yes_prod[@]}" 2>&1 >/dev/null)
rc=$?
check "a toggle of it is refused (exit 6)" test "$rc" = 6
check "with a clear message" grep -q 'malformed (not JSON).*--replace-invalid' <<<"$err"
check "it was not touched" test "$(hget broken-flag)" = 'not json{'
check "the refusal is audited" audit_has '.action == "flag-set" and .result == "refused" and .target == "broken-flag"'
fl "$RCFG" set broken-flag off --env production --replace-invalid "${yes_prod[@]}" >/dev/null 2>&1
check "--replace-invalid sets it explicitly" jq -e '.enabled == false' <<<"$(hget broken-flag)"
rcli HDEL flags:production broken-flag >/dev/null

# ---- Redis: live updates ------------------------------------------------------------------------
# the binary itself in the background (t_up sourced <run>/env), so that the
# signal reaches it: background jobs of a script ignore SIGINT, so TERM
"$SIGNALBOX_BIN" -c "$RCFG" flags watch --env staging >"$SANDBOX_RUN_DIR/watch.out" 2>&1 &
watcher=$!
eventually 5 "watch prints the flags" grep -q '^dark-mode' "$SANDBOX_RUN_DIR/watch.out"
rcli HSET flags:staging dark-mode '{"enabled":false,"rollout":100,"description":"x"}' >/dev/null
eventually 3 "watch hears another writer's change (keyspace notification)" \
	grep -Eq '^dark-mode +off' "$SANDBOX_RUN_DIR/watch.out"
kill -TERM "$watcher" 2>/dev/null
wait "$watcher"
check "watch ends 0 on SIGTERM" test $? = 0

# ---- PostgreSQL ---------------------------------------------------------------------------------
check "migrate creates signalbox_flags" fl "$PCFG" migrate
check "migrate again (idempotent)" fl "$PCFG" migrate
check "the table, its check and trigger exist" bash -c \
	'[[ $(psql "$DATABASE_URL" -X -At -c "select count(*) from pg_trigger where tgname = '"'"'signalbox_flags_notify'"'"'") == 1 ]]'
psql_app -c "insert into signalbox_flags (environment, name, enabled, rollout, description, updated_by)
	values ('production', 'new-checkout', false, 25, 'New checkout flow', 'seed'),
	       ('production', 'search-v2', false, 10, null, 'seed')" >/dev/null
out=$(fl "$PCFG" list --env production)
check "pg: list shows the rows" grep -Eq '^new-checkout +off +25% .*seed +New checkout flow' <<<"$out"
check "pg: set new-checkout 60% exits 0" fl "$PCFG" set new-checkout 60% --env production "${yes_prod[@]}"
check "pg: the row is on at 60% with updated_by" bash -c \
	'[[ $(psql "$DATABASE_URL" -X -At -c "select enabled, rollout, updated_by like '"'"'%@%'"'"' from signalbox_flags where name = '"'"'new-checkout'"'"'") == "t|60|t" ]]'
check "pg: audited ok" audit_has '.action == "flag-set" and .result == "ok" and (.after | endswith("→ on (60%)"))'
SIGNALBOX_FLAGS_TEST_DELAY_MS=1500 fl "$PCFG" set search-v2 on --env production "${yes_prod[@]}" \
	>/dev/null 2>"$SANDBOX_RUN_DIR/race-pg.err" &
racer=$!
sleep 0.7
psql_app -c "update signalbox_flags set rollout = 77, updated_at = clock_timestamp(), updated_by = 'other@test' where name = 'search-v2'" >/dev/null
wait "$racer"
rc=$?
check "pg: the stale write is a conflict (exit 5)" test "$rc" = 5
check "pg: reported with the new state" grep -q 'search-v2 is now off (77%) (by other@test' "$SANDBOX_RUN_DIR/race-pg.err"
check "pg: the other writer's row stays" bash -c \
	'[[ $(psql "$DATABASE_URL" -X -At -c "select enabled, rollout, updated_by from signalbox_flags where name = '"'"'search-v2'"'"'") == "f|77|other@test" ]]'
"$SIGNALBOX_BIN" -c "$PCFG" flags watch --env production >"$SANDBOX_RUN_DIR/watch-pg.out" 2>&1 &
watcher=$!
eventually 5 "pg: watch prints the flags" grep -q '^search-v2' "$SANDBOX_RUN_DIR/watch-pg.out"
psql_app -c "update signalbox_flags set enabled = true, updated_at = clock_timestamp() where name = 'search-v2'" >/dev/null
eventually 3 "pg: watch hears the change (LISTEN/NOTIFY)" grep -Eq '^search-v2 +on +77%' "$SANDBOX_RUN_DIR/watch-pg.out"
kill -TERM "$watcher" 2>/dev/null
wait "$watcher"

# ---- kill switch (Redis) -----------------------------------------------------------------------
check "kill without --confirm-twice is refused (exit 4)" \
	bash -c '[[ $1 == 4 ]]' _ "$(fl "$RCFG" kill --env production "${yes_prod[@]}" 2>/dev/null; echo $?)"
check "kill --confirm-twice turns every flag off" fl "$RCFG" kill --env production "${yes_prod[@]}" --confirm-twice
check "no flag of production is on" bash -c \
	'! redis-cli -u "$REDIS_URL" --no-auth-warning HVALS flags:production | jq -e "select(.enabled == true)" >/dev/null'
check "the kill switch is audited ok" audit_has '.action == "flag-kill" and .result == "ok"'
check "no sanitizer report" bash -c '! grep -q "Sanitizer" "$1"/*.err "$1"/watch*.out' _ "$SANDBOX_RUN_DIR"
