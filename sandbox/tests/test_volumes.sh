#!/usr/bin/env bash
# sandbox: the provider's volume backups from the command line (signalbox
# volumes, volume-backup, volume-schedule, volume-restore) against the full
# sandbox: the Railway emulator backs the database's volume up with real
# pgBackRest and restores it for real.  volumes --json shows the postgres
# volume and the backup up took → a service without a volume exits 2 →
# volume-backup refused without --yes (audited) → volume-backup NAME --wait:
# progress on stderr, the new backup in the list (newest, with its name)
# and in pgbackrest info → the schedule set to DAILY,WEEKLY and read back,
# then none; the same schedule again changes nothing; a bad kind is a usage
# error → volume-restore refused without --yes and without --confirm-twice
# (the hint names --confirm-twice) → refused by the provider call while
# something else is staged in the environment (nothing staged by it) →
# volume-restore --wait: staged, committed, the database redeploys, and the
# rows written after the backup are gone → the audit log has allowed + ok
# for each change and the refusals.
#
#   SIGNALBOX_BIN   the binary under test (ctest sets it; else the newest
#                   build*/signalbox of this checkout)
. "$(dirname "$0")/lib.sh"
t_setup 23000

SB=${SIGNALBOX_BIN:-}
if [[ -z $SB ]]; then
	# shellcheck disable=SC2012
	SB=$(ls -t "$T_SANDBOX"/../build*/signalbox 2>/dev/null | head -n 1)
fi
[[ -n $SB && -x $SB ]] || bail "no signalbox binary: build it, or set SIGNALBOX_BIN"
SB=$(cd "$(dirname "$SB")" && pwd)/$(basename "$SB")
echo "# binary: $SB"

TMP=$SANDBOX_RUN_DIR.vol
mkdir -p "$TMP"
export XDG_STATE_HOME=$TMP/state	# the audit log is this test's own
AUDIT=$XDG_STATE_HOME/signalbox/audit.jsonl
trap 'rc=$?; rm -rf "$TMP"; (exit "$rc"); t_teardown' EXIT

ms_now() { date +%s%3N; }
lap() { echo "# $1: $(($(ms_now) - LAP)) ms"; LAP=$(ms_now); }

# sb NAME ARGS...: run signalbox (bounded) with the sandbox's config; its
# output in $TMP/NAME.out and .err, its exit status in RC.
sb() {
	local name=$1
	shift
	RC=0
	timeout -s TERM 200 "$SB" -c "$CFG" "$@" </dev/null \
		>"$TMP/$name.out" 2>"$TMP/$name.err" || RC=$?
}
rc_is() {	# NAME CODE DESCRIPTION
	if [[ $RC == "$2" ]]; then
		ok "$3 (exit $RC)"
	else
		not_ok "$3 (exit $RC, expected $2)"
		sed 's/^/#   out: /' "$TMP/$1.out" | tail -n 15
		sed 's/^/#   err: /' "$TMP/$1.err" | tail -n 15
	fi
}
has() { grep -qE -- "$2" "$TMP/$1"; }	# FILE REGEX
audit_lines() { [[ -f $AUDIT ]] && wc -l <"$AUDIT" || echo 0; }
audit_since() { tail -n +"$(($1 + 1))" "$AUDIT" 2>/dev/null; }
audit_has() { audit_since "$1" | jq -e -s "any(.[]; $2)" >/dev/null; }	# N JQ
audit_count() { audit_since "$1" | jq -s "[.[] | select($2)] | length"; }	# N JQ

pgbr_info() { runuser -u postgres -- "$PGBACKREST" --config="$PGBACKREST_CONFIG" --stanza=main --output=json info; }
rows() { psql_app -c 'select count(*) from volume_test'; }
gql() { node "$T_SANDBOX/tests/railway_gql.js" query "$@"; }

# ---- up ----------------------------------------------------------------------------
LAP=$(ms_now)
t_up
CFG=$SANDBOX_RUN_DIR/signalbox.yml
PGBACKREST=$(command -v pgbackrest)
grep -q '^provider:' "$CFG" || bail "the sandbox config has no provider section"
YES=(--yes --confirm-env production --reason "test_volumes")
lap "up"

# ---- volumes ------------------------------------------------------------------------
sb list0 volumes postgres --json
rc_is list0 0 "volumes postgres --json"
check "the postgres volume: name, instance id, mount path, state READY" jq -e \
	'.service == "postgres" and .environment == "production" and .volume.name == "postgres-volume" and (.volume.instance_id | length) > 0 and (.volume.mount_path | startswith("/")) and .volume.state == "READY" and .volume.used_mb > 0' "$TMP/list0.out"
check "the backup up took is listed (id, pgBackRest label, created, size)" jq -e \
	'(.backups | length) >= 1 and all(.backups[]; (.id | length) > 0 and (.external_id | test("^[0-9]{8}-[0-9]{6}F")) and (.created | test("^20")) and .used_mb >= 0)' "$TMP/list0.out"
check "no schedule at first" jq -e '.schedule == [] and .schedules == []' "$TMP/list0.out"
N0=$(jq '.backups | length' "$TMP/list0.out")
INFO0=$(pgbr_info | jq '.[0].backup | length')
check "the list has every backup pgbackrest info knows ($N0 = $INFO0)" test "$N0" = "$INFO0"
sb list0t volumes postgres
rc_is list0t 0 "volumes postgres (text)"
check "text: the volume, the schedule, a row per backup with its id" bash -c \
	'grep -qE "^postgres in production: volume postgres-volume at /" "$0" && grep -qx "schedule: none" "$0" && grep -qE "^ID +NAME +CREATED +AGE +EXPIRES +SIZE" "$0" && grep -qF "$1" "$0"' \
	"$TMP/list0t.out" "$(jq -r '.backups[0].id' "$TMP/list0.out")"
sb novol volumes api
rc_is novol 2 "volumes api: a service without a volume"
check "… it says so" has novol.err 'api has no volume in production'
sb nosvc volumes nosuch
rc_is nosvc 2 "volumes of an unknown service"
lap "list"

# ---- volume-backup --------------------------------------------------------------------
psql_app -q -c 'drop table if exists volume_test; create table volume_test (id serial primary key, note text); insert into volume_test (note) select md5(g::text) from generate_series(1, 100) g' ||
	bail "cannot create the test table"
A0=$(audit_lines)
sb bk-no volume-backup postgres before-rows
rc_is bk-no 4 "volume-backup without --yes: refused"
check "it says how to confirm in the protected environment" has bk-no.err 'confirm with --yes --confirm-env production --reason TEXT'
check "the plan said what it does" has bk-no.err 'create a backup of the volume of postgres named before-rows'
check "audited as refused" audit_has "$A0" '.action == "volume-backup" and .target == "postgres" and .result == "refused"'
check "nothing was backed up" test "$(pgbr_info | jq '.[0].backup | length')" = "$INFO0"

A1=$(audit_lines)
sb bk volume-backup postgres before-rows "${YES[@]}" --wait
rc_is bk 0 "volume-backup postgres before-rows --wait"
check "progress on stderr: the workflow, then Complete" bash -c \
	'grep -qE "^ +[0-9]+\.[0-9]s +backing up: workflow [0-9a-f-]+" "$0" && grep -qE "^ +[0-9]+\.[0-9]s +backing up: Complete" "$0"' "$TMP/bk.err"
check "stdout: complete, and the new backup with its id and name" bash -c \
	'grep -qE "backup complete after [0-9.]+s \(workflow " "$0" && grep -qE "^new backup: [0-9a-f-]{36}  before-rows \(" "$0"' "$TMP/bk.out"
NEW_ID=$(sed -n 's/^new backup: \([0-9a-f-]*\) .*/\1/p' "$TMP/bk.out")
sb list1 volumes postgres --json
rc_is list1 0 "volumes postgres --json after the backup"
check "one more backup, the newest first, named before-rows, id $NEW_ID" jq -e --argjson n "$N0" --arg id "$NEW_ID" \
	'(.backups | length) == $n + 1 and .backups[0].id == $id and .backups[0].name == "before-rows" and .backups[0].used_mb >= 0' "$TMP/list1.out"
LABEL=$(jq -r '.backups[0].external_id' "$TMP/list1.out")
check "pgbackrest info has it too ($LABEL, annotated before-rows)" bash -c \
	'jq -e --arg l "$0" --argjson n "$1" "(.[0].backup | length) == \$n + 1 and (.[0].backup[-1].label == \$l) and (.[0].backup[-1].annotation.name == \"before-rows\")" <<<"$2" >/dev/null' \
	"$LABEL" "$INFO0" "$(pgbr_info)"
check "audited: allowed, then ok with the workflow" bash -c \
	'[[ $(tail -n +$(($0 + 1)) "$1" | jq -s "[.[] | select(.action == \"volume-backup\" and .target == \"postgres\" and .params.volume == \"postgres-volume\" and (.params.volume_instance | length) > 0 and .after != null)] | map(.result) == [\"allowed\", \"ok\"]") == true ]]' "$A1" "$AUDIT"
check "  … ok says the backup is complete" audit_has "$A1" '.action == "volume-backup" and .result == "ok" and (.after | test("^backup complete \\(workflow "))'
lap "backup"

# rows written after the backup
psql_app -q -c "insert into volume_test (note) select 'after' from generate_series(1, 50)"
check "150 rows now" test "$(rows)" = 150

# ---- volume-schedule --------------------------------------------------------------------
A2=$(audit_lines)
sb sc-bad volume-schedule postgres HOURLY "${YES[@]}"
rc_is sc-bad 2 "volume-schedule HOURLY: usage error"
check "it names the kinds" has sc-bad.err "'HOURLY' is not a backup schedule: DAILY, WEEKLY, MONTHLY"
sb sc-no volume-schedule postgres weekly,DAILY
rc_is sc-no 4 "volume-schedule without --yes: refused"
sb sc volume-schedule postgres weekly,DAILY "${YES[@]}"
rc_is sc 0 "volume-schedule postgres weekly,DAILY"
check "the plan: none → DAILY,WEEKLY" has sc.err 'postgres: none → DAILY,WEEKLY'
check "stdout: the new schedule and the old" has sc.out 'schedule DAILY,WEEKLY \(was none\)'
sb list2 volumes postgres --json
check "read back: DAILY and WEEKLY, with cron and retention" jq -e \
	'.schedule == ["DAILY", "WEEKLY"] and (.schedules | map(.retention_s)) == [518400, 2592000] and all(.schedules[]; (.cron | length) > 0 and (.id | length) > 0)' "$TMP/list2.out"
sb list2t volumes postgres
check "text: schedule: DAILY,WEEKLY" has list2t.out '^schedule: DAILY,WEEKLY$'
sb sc-same volume-schedule postgres DAILY,WEEKLY "${YES[@]}"
rc_is sc-same 0 "the same schedule again"
check "… changes nothing" has sc-same.out 'the schedule is DAILY,WEEKLY already: nothing to change'
sb sc-none volume-schedule postgres none "${YES[@]}"
rc_is sc-none 0 "volume-schedule postgres none"
check "the plan warned: no scheduled backups from now on" has sc-none.err 'warning: no scheduled backups of this volume from now on'
sb list3 volumes postgres --json
check "read back: no schedule" jq -e '.schedule == []' "$TMP/list3.out"
got=$(audit_since "$A2" | jq -c -s '[.[] | select(.action == "volume-schedule") | [.result, .before, .after]]')
want='[["refused","none","DAILY,WEEKLY"],["allowed","none","DAILY,WEEKLY"],["ok","none","schedule DAILY,WEEKLY"],["allowed","DAILY,WEEKLY","none"],["ok","DAILY,WEEKLY","schedule none"]]'
if [[ $got == "$want" ]]; then
	ok "audited: refused, then allowed+ok twice (none → DAILY,WEEKLY → none)"
else
	not_ok "audited: refused, then allowed+ok twice: got $got"
fi
lap "schedule"

# ---- volume-restore: refusals --------------------------------------------------------------
A3=$(audit_lines)
sb rs-unknown volume-restore postgres no-such-backup "${YES[@]}" --confirm-twice
rc_is rs-unknown 2 "volume-restore of an unknown backup: usage error"
sb rs-no volume-restore postgres "$NEW_ID"
rc_is rs-no 4 "volume-restore without --yes: refused"
check "the plan: stage, commit, what is lost" bash -c \
	'grep -q "stage the restore of volume backup before-rows" "$0" && grep -q "warning: what was written to the volume after that backup is lost" "$0"' "$TMP/rs-no.err"
sb rs-once volume-restore postgres "$NEW_ID" "${YES[@]}"
rc_is rs-once 4 "volume-restore --yes without --confirm-twice: refused"
check "it asks for --confirm-twice (not scale's --confirm-zero)" bash -c \
	'grep -q -- "--confirm-twice" "$0" && ! grep -q -- "--confirm-zero" "$0"' "$TMP/rs-once.err"
check "both refusals audited" test "$(audit_count "$A3" '.action == "volume-restore" and .result == "refused"')" = 2
check "nothing restored: 150 rows" test "$(rows)" = 150

# something else staged in the environment: the restore must not commit it
ENV_ID=$RAILWAY_ENVIRONMENT_ID
gql 'mutation($e: String!, $i: EnvironmentConfig!) { environmentStageChanges(environmentId: $e, input: $i, merge: false) { id } }' \
	"{\"e\":\"$ENV_ID\",\"i\":{\"sharedVariables\":{\"VOLUME_TEST\":{\"value\":\"1\"}}}}" >/dev/null ||
	not_ok "staging a foreign change"
A4=$(audit_lines)
sb rs-staged volume-restore postgres "${NEW_ID:0:8}" "${YES[@]}" --confirm-twice
rc_is rs-staged 3 "volume-restore while something else is staged: the call refuses"
check "… in words, naming what is staged, nothing staged by it" has rs-staged.err \
	'already has staged changes \(sharedVariables\).*Nothing was staged'
check "audited: allowed, then failed" bash -c \
	'[[ $(tail -n +$(($0 + 1)) "$1" | jq -c -s "[.[] | select(.action == \"volume-restore\") | .result]") == "[\"allowed\",\"failed\"]" ]]' "$A4" "$AUDIT"
staged=$(gql 'query($e: String!) { environmentStagedChanges(environmentId: $e) { patch } }' "{\"e\":\"$ENV_ID\"}")
check "the staged change is still only the foreign one" \
	jq -e '.environmentStagedChanges.patch | keys == ["sharedVariables"]' <<<"$staged"
gql 'mutation($e: String!) { environmentStageChanges(environmentId: $e, input: {}, merge: false) { id } }' \
	"{\"e\":\"$ENV_ID\"}" >/dev/null || not_ok "clearing the foreign change"
check "still 150 rows" test "$(rows)" = 150
lap "restore refusals"

# ---- volume-restore --wait ---------------------------------------------------------------------
A5=$(audit_lines)
sb rs volume-restore postgres "$NEW_ID" "${YES[@]}" --confirm-twice --wait
rc_is rs 0 "volume-restore postgres BACKUP --confirm-twice --wait"
what="progress: staging (workflow, Complete), checking the staged change, committing, committed"
if grep -qE "^ +[0-9.]+s +staging the restore: workflow [0-9a-f-]+$" "$TMP/rs.err" &&
	grep -qE "^ +[0-9.]+s +staging the restore: Complete$" "$TMP/rs.err" &&
	grep -qE "^ +[0-9.]+s +checking the staged change$" "$TMP/rs.err" &&
	grep -qE "^ +[0-9.]+s +committing$" "$TMP/rs.err" &&
	grep -qE "^ +[0-9.]+s +committed \(patch [0-9a-f-]+\)$" "$TMP/rs.err"; then
	ok "$what"
else
	not_ok "$what"
	sed 's/^/#   err: /' "$TMP/rs.err"
fi
check "stdout: staged and committed, then the new deployment is SUCCESS" bash -c \
	'grep -qE "before-rows \([0-9a-f]{8}\) of .* staged and committed in [0-9.]+s \(patch " "$0" && grep -qE "is SUCCESS after [0-9.]+s" "$0"' "$TMP/rs.out"
check "the rows written after the backup are gone: 100 rows" test "$(rows)" = 100
check "none of them is left" test "$(psql_app -c "select count(*) from volume_test where note = 'after'")" = 0
check "audited: allowed, then ok (staged and committed)" bash -c \
	'[[ $(tail -n +$(($0 + 1)) "$1" | jq -c -s "[.[] | select(.action == \"volume-restore\" and .params.target_id == \"$2\") | .result]") == "[\"allowed\",\"ok\"]" ]]' "$A5" "$AUDIT" "$NEW_ID"
check "  … ok names the committed patch" audit_has "$A5" '.action == "volume-restore" and .result == "ok" and (.after | test("^restore staged and committed \\(patch "))'
sb status status --json
check "postgres SUCCESS on a new deployment after the restore" jq -e \
	'.services[] | select(.name == "postgres") | .status == "SUCCESS"' "$TMP/status.out"
sb list4 volumes postgres --json
rc_is list4 0 "the volume lists again after the restore"
check "… READY, with its backups" jq -e --argjson n "$N0" '.volume.state == "READY" and (.backups | length) == $n + 1' "$TMP/list4.out"
lap "restore"

# ---- the audit log --------------------------------------------------------------------------------
check "the audit log is private (0600)" test "$(stat -c %a "$AUDIT")" = 600
# refused: backup 1, schedule 1, restore 2 = 4; allowed+ok: backup, schedule x2,
# restore = 4 each; allowed+failed: the restore while something was staged
check "4 refused, 5 allowed, 4 ok, 1 failed, nothing else" jq -e -s \
	'([.[] | select(.result == "refused")] | length) == 4 and ([.[] | select(.result == "allowed")] | length) == 5 and ([.[] | select(.result == "ok")] | length) == 4 and ([.[] | select(.result == "failed")] | length) == 1 and length == 14 and all(.[]; .environment == "production" and .target == "postgres" and (.action | startswith("volume-")))' "$AUDIT"
lap "audit"
