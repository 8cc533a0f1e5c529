#!/usr/bin/env bash
# The backups pane and `signalbox backup` against the sandbox's real
# PostgreSQL and pgBackRest, driven in tmux:
#   - the pane shows the stanza OK, the first full backup, the PITR window
#     and the archiver;
#   - a full backup taken from the pane (typed confirmation in the
#     protected environment) shows its progress and elapsed time, ends in a
#     new row, and is audited (allowed, ok);
#   - a restore drill of it from the pane shows its phases and ends PASSED
#     in the drill history with its RTO, audited;
#   - `signalbox backup drill --json` of the same backup passes and its
#     table counts match production's at the backup's time (recorded when
#     the pane took it);
#   - a drill with a custom check that does not hold is FAILED, names the
#     check, exits 1 and leaves no scratch directory and no server behind;
#   - archiving broken (archive_command = false) turns the pane and the
#     status bar DEGRADED with the reason; mended, it is OK again;
#   - `signalbox backup info --json` reports the backups, the exact
#     system-id and the PITR window;
#   - restore in place of the backup (typed confirmation, then a second one
#     saying what is lost): the server is stopped, restored and started,
#     the table created after the backup is gone, audited;
#   - the provider's volume (Railway volume backups, the emulator's real
#     pgBackRest) shows in the same pane and a volume backup taken from it
#     is listed and audited; the console quits 0, no sanitizer report.
#
# Needs SIGNALBOX_BIN (set by CTest).
. "$(dirname "$0")/lib.sh"
: "${SIGNALBOX_BIN:?SIGNALBOX_BIN must name the signalbox binary}"
t_setup 26000

t_up
export XDG_STATE_HOME=$SANDBOX_RUN_DIR/state
AUDIT=$XDG_STATE_HOME/signalbox/audit.jsonl
DRILLS=$XDG_STATE_HOME/signalbox/drills.jsonl
SOCK=sbx-bk-$$
sb_run_dir
sb_pg_paths

. "$(dirname "$0")/tui.sh"

cleanup() {
	# archiving back on whatever happened
	sb_psql -d postgres -c "alter system reset archive_command" -c "select pg_reload_conf()" \
		>/dev/null 2>&1
	tui_stop
	t_teardown
}
trap cleanup EXIT

audit_has() {        # JQ-FILTER: some audit line matches
	[[ -s $AUDIT ]] && jq -e -s "any(.[]; $1)" "$AUDIT" >/dev/null
}
cli() {              # signalbox backup ARGS... with the sandbox's environment
	(. "$SANDBOX_RUN_DIR/env" && "$SIGNALBOX_BIN" -c "$SANDBOX_RUN_DIR/signalbox.yml" backup "$@")
}
counts() {
	psql_app -c "select (select count(*) from customers) || ' ' || (select count(*) from orders) || ' ' || (select count(*) from order_items)"
}
no_scratch_left() { ! compgen -G "/var/tmp/signalbox-drill-*-$1" >/dev/null; }

check "the generated config has backups" grep -q 'stanza: main' "$SANDBOX_RUN_DIR/signalbox.yml"
check "config check accepts it" "$SIGNALBOX_BIN" -c "$SANDBOX_RUN_DIR/signalbox.yml" config check

# bulk, so that a full backup takes long enough to watch (~100 MB)
sb_psql -d app -c "create table if not exists bulk as select g, md5(g::text) as h, repeat('x', 200) as pad from generate_series(1, 400000) g" >/dev/null ||
	bail "could not create the bulk table"
sb_psql -d app -c "alter table bulk owner to app" >/dev/null

# ---- the pane -----------------------------------------------------------------------------
tui_start
check "the console starts" on_screen 15 'Health'
keys :
typed "pane backups"
keys Enter
check "pgBackRest OK for stanza main" on_screen 20 'pgBackRest +OK +stanza main'
check "the first full backup is listed" on_screen 5 '[0-9]{8}-[0-9]{6}F +full +20[0-9-]+ [0-9:]+'
check "the PITR window" on_screen 5 'PITR window +20[0-9-]+ [0-9:]+ → 20[0-9-]+ [0-9:]+ UTC'
check "the archiver" on_screen 15 'Archiver +last [0-9A-F]{24} '
check "the status bar has backups:ok" on_screen 5 'backups:ok'

# ---- a full backup from the pane ------------------------------------------------------------
before=$(counts)
keys :
typed "backup full"
keys Enter
check "the dialog names the backup" on_screen 5 'Take a full backup of main in production'
confirm_typed "backups test: full backup"
check "progress is shown with the elapsed time" on_screen 20 'Backup full .*[0-9]+%.* elapsed'
check "the status line says it is done, with its label" on_screen 120 'full backup done: [0-9]{8}-[0-9]{6}F'
label=$(screen | grep -Eo 'full backup done: [0-9]{8}-[0-9]{6}F' | tail -n 1 | awk '{print $4}')
top_row_is() { [[ $(screen | grep -A1 -E '^ +BACKUP +TYPE' | tail -n 1) =~ $1\ +full ]]; }
check "the new backup is the top row" top_row_is "$label"
check "audit: backup allowed with the reason" \
	audit_has '.action == "backup" and .result == "allowed" and .reason == "backups test: full backup"'
check "audit: backup ok" audit_has ".action == \"backup\" and .result == \"ok\""
check "the references were recorded" grep -q "\"label\":\"$label\"" "$XDG_STATE_HOME/signalbox/backup-refs.jsonl"

# ---- a drill of it from the pane --------------------------------------------------------------
keys g D
check "the drill asks" on_screen 5 "Restore drill of $label of main in production"
sleep 0.4
keys Tab Enter
check "the drill's phases show" on_screen 20 'Drill +(restore|start|recover|check)'
check "the drill passes, in the history with its RTO" on_screen 180 'PASSED +RTO [0-9]'
check "audit: drill allowed" audit_has '.action == "drill" and .result == "allowed"'
check "audit: drill ok" audit_has '.action == "drill" and .result == "ok"'
check "the history file has it" jq -e -s 'any(.[]; .verdict == "PASSED")' "$DRILLS"

# ---- the same backup from the command line, compared with production ------------------------
out=$(cli drill "$label" --yes --confirm-env production --reason "backups test: cli drill" --json)
rc=$?
echo "$out" >"$SANDBOX_RUN_DIR/drill-cli.json"
check "backup drill exits 0" test "$rc" = 0
check "its JSON says PASSED" jq -e '.verdict == "PASSED"' "$SANDBOX_RUN_DIR/drill-cli.json"
check "every phase that ran has a duration" jq -e '[.phases[] | select(.state == "ok") | .ms >= 0] | all and length >= 7' \
	"$SANDBOX_RUN_DIR/drill-cli.json"
check "RTO and RPO recorded" jq -e '.rto_ms > 0 and .rpo_ms >= 0' "$SANDBOX_RUN_DIR/drill-cli.json"
check "the tables match production at the backup" \
	jq -e '[.tables[] | select(.name == "customers" or .name == "orders" or .name == "order_items") | .match == "ok"] | length == 3 and all' \
	"$SANDBOX_RUN_DIR/drill-cli.json"
restored=$(jq -r '[(.tables[] | select(.name == "customers") | .count), (.tables[] | select(.name == "orders") | .count), (.tables[] | select(.name == "order_items") | .count)] | map(tostring) | join(" ")' "$SANDBOX_RUN_DIR/drill-cli.json")
check "restored counts equal production's before the backup ($before)" test "$restored" = "$before"
echo "# drill RTO: $(jq -r '.rto_ms' "$SANDBOX_RUN_DIR/drill-cli.json") ms, total $(jq -r '.total_ms' "$SANDBOX_RUN_DIR/drill-cli.json") ms"
dir=$(jq -r '.scratch_dir' "$SANDBOX_RUN_DIR/drill-cli.json")
check "the scratch directory is gone ($dir)" test ! -e "$dir"

# ---- a custom check that does not hold --------------------------------------------------------
sed 's/select count(\*) > 0 from customers/select count(*) = 0 from customers/' \
	"$SANDBOX_RUN_DIR/signalbox.yml" >"$SANDBOX_RUN_DIR/failing.yml"
check "the failing config differs" bash -c '! cmp -s "$0" "$1"' "$SANDBOX_RUN_DIR/signalbox.yml" \
	"$SANDBOX_RUN_DIR/failing.yml"
out=$(. "$SANDBOX_RUN_DIR/env" && "$SIGNALBOX_BIN" -c "$SANDBOX_RUN_DIR/failing.yml" backup drill --yes \
	--confirm-env production --reason "backups test: failing check" --json 2>"$SANDBOX_RUN_DIR/drill-fail.err")
rc=$?
echo "$out" >"$SANDBOX_RUN_DIR/drill-fail.json"
check "backup drill exits 1" test "$rc" = 1
check "FAILED, naming the check" jq -e '.verdict == "FAILED" and (.reason | test("customers-present"))' \
	"$SANDBOX_RUN_DIR/drill-fail.json"
dir=$(jq -r '.scratch_dir' "$SANDBOX_RUN_DIR/drill-fail.json")
check "its scratch directory is gone too" test ! -e "$dir"
port=$(jq -r '.port' "$SANDBOX_RUN_DIR/drill-fail.json")
check "nothing listens on its port $port" bash -c '! ss -ltn "( sport = :$0 )" | grep -q LISTEN' "$port"
keys r		# pgbackrest info again: the history file is read with it
check "the pane's history shows the failure" on_screen 20 'FAILED +.*customers-present'

# ---- archiving broken, then mended --------------------------------------------------------------
sb_psql -d postgres -c "alter system set archive_command = 'false'" -c "select pg_reload_conf()" >/dev/null
psql_app -c "create table if not exists bk_wal (x int); insert into bk_wal select generate_series(1, 1000)" >/dev/null
sb_psql -d postgres -c "select pg_switch_wal()" >/dev/null
check "the pane goes DEGRADED: archiving fails" on_screen 45 'pgBackRest +DEGRADED'
check "with the reason" on_screen 5 'DEGRADED: .*archiving fails'
check "the status bar says backups:degraded" on_screen 5 'backups:degraded'
sb_psql -d postgres -c "alter system reset archive_command" -c "select pg_reload_conf()" >/dev/null
check "OK again once archiving works" on_screen 90 'pgBackRest +OK'

# ---- info for scripts ---------------------------------------------------------------------------
cli info --json >"$SANDBOX_RUN_DIR/info.json"
check "backup info --json exits 0 when healthy" test "${PIPESTATUS[0]}" = 0
sysid=$(as_pg "$PG_BIN/pg_controldata" -D "$PG_DATA" | awk -F: '/Database system identifier/ { gsub(/ /, "", $2); print $2 }')
check "the system-id is exact ($sysid)" jq -e --arg s "$sysid" '.system_id == $s' "$SANDBOX_RUN_DIR/info.json"
check "both full backups are listed" jq -e '[.backups[] | select(.type == "full")] | length >= 2' \
	"$SANDBOX_RUN_DIR/info.json"
check "the PITR window is valid" jq -e '.pitr.valid and .pitr.latest_from_archiver' "$SANDBOX_RUN_DIR/info.json"

# ---- restore in place: the server goes back to the backup -------------------------------------
check "bk_wal exists before the restore" psql_app -c "select count(*) from bk_wal"
pm_before=$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null)
keys g R
check "the restore asks, saying what is lost" on_screen 5 "Restore $label over main in production"
check "the dialog warns" on_screen 5 "everything written after $label is lost"
confirm_typed "backups test: restore in place"
check "a second confirmation says what is lost" on_screen 5 'Really overwrite main in production'
sleep 0.4
keys Tab Enter
check "the restore runs, shown in the pane" on_screen 20 'Restore in place'
check "the status line says it is done" on_screen 240 "restore done: $label, the server is up"
eventually 30 "production answers again" psql_app -c "select 1"
check "the server was restarted (new postmaster)" \
	bash -c '[[ $(head -n 1 "$0/postmaster.pid") != "$1" ]]' "$PG_DATA" "$pm_before"
check "what was written after the backup is gone (bk_wal)" \
	bash -c '! psql "$0" -X -At -c "select 1 from bk_wal" >/dev/null 2>&1' "$DATABASE_URL"
check "the rows are those of the backup ($before)" test "$(counts)" = "$before"
check "audit: restore allowed with the reason" \
	audit_has '.action == "restore" and .result == "allowed" and .reason == "backups test: restore in place"'
check "audit: restore ok" audit_has '.action == "restore" and .result == "ok"'
check "Postgres OK again in the Data pane's source" on_screen 60 'postgres:ok'

# ---- the provider's volume (Railway volume backups) in the same pane ------------------------
check "the volume section shows the provider's volume" on_screen 60 'Volume of postgres +postgres-volume'
keys :
typed "volume-backup pane-test"
keys Enter
check "the volume backup asks" on_screen 5 'Back up the volume of postgres in production'
confirm_typed "backups test: volume backup"
check "the status line says it is done" on_screen 180 'volume-backup postgres: done'
keys r
check "the new volume backup is listed by its name" on_screen 60 'pane-test'
check "audit: volume-backup allowed and ok" \
	audit_has '.action == "volume-backup" and .result == "ok"'

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

