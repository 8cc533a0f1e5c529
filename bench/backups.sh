#!/usr/bin/env bash
# bench/backups.sh - issue 8's figures on the sandbox's real PostgreSQL and
# pgBackRest:
#   1. restore drills: RUNS drills (default 5) of the newest backup through
#      `signalbox backup drill --json`, each phase's duration, the RTO and the
#      total (median, min, max);
#   2. the datastores pane's cost on PostgreSQL: the console runs in tmux for
#      QUERY_S seconds (default 60) with only the datastores pane, as a role
#      of its own whose statements PostgreSQL logs (log_statement = all for
#      that role alone); statements per second are counted from the log.
#      Goal: at most 1 query/s per pane at the default refresh.
# Results go to bench/out/backups/ and are printed; bench/RESULTS.md records
# them by hand.  The sandbox runs on BACKUPS_PORT_BASE (default 27700).
source "$(dirname "$0")/lib.sh"

RUNS=${RUNS:-5}
QUERY_S=${QUERY_S:-60}
b=${BACKUPS_PORT_BASE:-27700}
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 && $RUNS -le 50 ]] || bench_die "RUNS must be 1..50"
[[ $QUERY_S =~ ^[0-9]+$ && $QUERY_S -ge 10 && $QUERY_S -le 3600 ]] || bench_die "QUERY_S must be 10..3600"
((b >= 1024 && b + 299 < 32768)) || bench_die "BACKUPS_PORT_BASE must leave base..base+299 below 32768"
command -v jq >/dev/null || bench_die "jq is required (sandbox packages)"

RUN=$(mktemp -d /tmp/signalbox-bench-backups.XXXXXX)
chmod 755 "$RUN"
SOCK=bench-backups-$$
backups_cleanup() {
	tmux -L "$SOCK" kill-server 2>/dev/null || true
	SANDBOX_RUN_DIR=$RUN "$BENCH_SRC/sandbox/down" --purge >"$BENCH_OUT/sandbox-down.log" 2>&1 ||
		echo "bench/backups: sandbox/down --purge failed, see $BENCH_OUT/sandbox-down.log" >&2
	[[ $RUN == /tmp/signalbox-bench-backups.* ]] && rm -rf "$RUN"
	bench_cleanup
}
trap backups_cleanup EXIT
say() { printf 'bench/backups: %s\n' "$*" >&2; }

say "sandbox on base $b in $RUN"
SANDBOX_RUN_DIR=$RUN SANDBOX_PORT_BASE=$b "$BENCH_SRC/sandbox/up" -q >"$BENCH_OUT/sandbox-up.log" 2>&1 ||
	{ tail -n 20 "$BENCH_OUT/sandbox-up.log" >&2; bench_die "sandbox/up failed"; }
export XDG_STATE_HOME=$BENCH_OUT/state
# shellcheck disable=SC1091
. "$RUN/env"

# ---- 1. drills -------------------------------------------------------------------------------
for ((i = 1; i <= RUNS; i++)); do
	"$SIGNALBOX_BIN" -c "$RUN/signalbox.yml" backup drill --yes --confirm-env production \
		--reason "bench/backups drill $i" --json >"$BENCH_OUT/drill-$i.json" 2>>"$BENCH_OUT/drill.err" ||
		bench_die "drill $i did not pass: $(jq -r .reason "$BENCH_OUT/drill-$i.json" 2>/dev/null)"
done
jq -s -r '
	def med: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	def row($name; xs): "| \($name) | \(xs | med) | \(xs | min) | \(xs | max) |";
	"| phase | median ms | min ms | max ms |", "|---|---:|---:|---:|",
	(["prepare", "restore", "start", "recover", "check", "smoke", "stop", "cleanup"][] as $p |
		row($p; [.[] | .phases[$p].ms // 0])),
	row("**RTO** (restore start to a usable copy)"; [.[] | .rto_ms]),
	row("total"; [.[] | .total_ms])
' "$BENCH_OUT"/drill-*.json | tee "$BENCH_OUT/drills.md"
size=$(psql "$DATABASE_URL" -X -At -c "select pg_size_pretty(pg_database_size('app'))")
label=$(jq -r .label "$BENCH_OUT/drill-1.json")
echo "database app: $size; backup $label ($(jq -r .backup_type "$BENCH_OUT/drill-1.json"))" | tee -a "$BENCH_OUT/drills.md"

# ---- 2. the datastores pane's statements per second ------------------------------------------
pw=$(openssl rand -hex 16)
port=$(sed -n 's/^port = //p' "$SANDBOX_PG_DATA/sandbox.conf")
sb() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -h "$SANDBOX_PG_SOCKET" -p "$port" -U postgres "$@"; }
sb -d postgres -c "create role bench_console login password '$pw' in role pg_monitor" \
	-c "alter role bench_console set log_statement = 'all'" >/dev/null ||
	bench_die "could not create the bench role"
cat >"$BENCH_OUT/ds.yml" <<EOF
project: bench
datastores:
  postgres: { url_env: BENCH_PG_URL }
EOF
log=$(ls "$(cat "$RUN/pgroot" 2>/dev/null || echo "$RUN/pg")"/postgresql.log)
# log_statement logs the extended protocol's statements as "execute <unnamed>:"
pat='bench_console@app LOG:  (statement|execute [^:]*):'
before=$(grep -Ec "$pat" "$log" || true)
tmux -L "$SOCK" -f /dev/null new-session -d -x 80 -y 24 \
	"env BENCH_PG_URL=postgres://bench_console:$pw@127.0.0.1:$port/app TERM=screen-256color $(printf '%q' "$SIGNALBOX_BIN") -c $(printf '%q' "$BENCH_OUT/ds.yml")"
sleep "$QUERY_S"
tmux -L "$SOCK" send-keys q
sleep 1
after=$(grep -Ec "$pat" "$log" || true)
n=$((after - before))
awk -v n="$n" -v s="$QUERY_S" 'BEGIN { printf "datastores pane: %d statements in %d s = %.2f statements/s (goal <= 1/s)\n", n, s, n / s }' |
	tee "$BENCH_OUT/query-cost.txt"
{ grep -E "$pat" "$log" || true; } | sed -E 's/.*(statement|execute [^:]*): //' | cut -c1-60 |
	sort | uniq -c | sort -rn | head -n 10 | tee -a "$BENCH_OUT/query-cost.txt"
