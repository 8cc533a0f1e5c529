#!/usr/bin/env bash
# bench/api_budget.sh - Railway API requests an idle console spends watching
# the sandbox's project (issue 5: goal ≤ 300 an hour).
#
# The console runs in a 120x40 tmux pane with the sandbox's config
# (signalbox.yml written by sandbox/up) for BENCH_MINUTES minutes, nobody
# touching a key.  Requests are counted by the emulator, per token:
#
#   allowed  X-RateLimit-Remaining of the console's token (the account token,
#            $RAILWAY_TOKEN), read by a probe before the console starts, one
#            after the warm-up and one at the end: each probe is one request
#            itself, subtracted (sandbox/railway/lib/ratelimit.js counts
#            every allowed request of a token; nothing else in the sandbox
#            uses the token)
#   refused  the emulator's journal (GET /admin/events, type ratelimit):
#            one ratelimit.429 event per refused request, which the
#            remaining count does not include (none expected while idle)
#
# and prints requests, minutes and requests per hour for the whole run
# (start-up included: resolve, first snapshot, history, variables) and for
# the steady state after BENCH_WARMUP_S.  Files land in bench/out/api_budget/.
#
# Environment:
#   SIGNALBOX_BIN            binary to measure (default build/signalbox)
#   BENCH_MINUTES            idle minutes (default 10)
#   BENCH_WARMUP_S           start of the steady-state window (default 60 s)
#   SANDBOX_RUN_DIR          a running sandbox to use (its env file is read;
#                            it is left running).  Unset: a private sandbox in
#                            /tmp on BENCH_SANDBOX_PORT_BASE (default 31700),
#                            removed at the end with sandbox/down --purge.
#
# When a running sandbox is used, anything else using its account token
# (another console, a test) is counted too: use a sandbox of your own for a
# figure worth recording.
source "$(dirname "$0")/lib.sh"

BENCH_MINUTES=${BENCH_MINUTES:-10}
BENCH_WARMUP_S=${BENCH_WARMUP_S:-60}
[[ $BENCH_MINUTES =~ ^[0-9]+$ ]] && ((BENCH_MINUTES >= 1 && BENCH_MINUTES <= 55)) ||
	bench_die "BENCH_MINUTES must be whole minutes, 1..55 (the emulator's budget window is an hour)"
[[ $BENCH_WARMUP_S =~ ^[0-9]+$ ]] && ((BENCH_WARMUP_S < BENCH_MINUTES * 60)) ||
	bench_die "BENCH_WARMUP_S must be whole seconds, less than BENCH_MINUTES minutes"
for tool in jq curl; do
	command -v "$tool" >/dev/null || bench_die "$tool is required"
done

SB_DIR=$BENCH_SRC/sandbox
OWN_SANDBOX=0
SOCK=bench-api-$$
CONSOLE_PID=

cleanup() {
	local rc=$?
	if [[ -n $CONSOLE_PID ]] && kill -0 "$CONSOLE_PID" 2>/dev/null; then
		tmux -L "$SOCK" send-keys -t b q 2>/dev/null || true
		sleep 0.5
	fi
	bench_cleanup
	if ((OWN_SANDBOX)); then
		if ! "$SB_DIR/down" --purge >"$BENCH_OUT/sandbox-down.log" 2>&1; then
			echo "bench/$BENCH_NAME: sandbox/down --purge failed (see $BENCH_OUT/sandbox-down.log)" >&2
			rc=1
		fi
		[[ -d $SANDBOX_RUN_DIR ]] && rm -rf "$SANDBOX_RUN_DIR"
	fi
	exit "$rc"
}
trap cleanup EXIT

# ---- the sandbox ----------------------------------------------------------------------
if [[ -n ${SANDBOX_RUN_DIR:-} ]]; then
	[[ -f $SANDBOX_RUN_DIR/env && -f $SANDBOX_RUN_DIR/signalbox.yml ]] ||
		bench_die "SANDBOX_RUN_DIR=$SANDBOX_RUN_DIR has no env or signalbox.yml (run sandbox/up)"
	echo "# using the running sandbox in $SANDBOX_RUN_DIR (left running)"
else
	export SANDBOX_PORT_BASE=${BENCH_SANDBOX_PORT_BASE:-31700}
	export SANDBOX_RUN_DIR
	SANDBOX_RUN_DIR=$(mktemp -d /tmp/signalbox-bench-api.XXXXXX)
	chmod 755 "$SANDBOX_RUN_DIR"
	unset SANDBOX_WITH SANDBOX_APPS
	OWN_SANDBOX=1
	echo "# starting a sandbox in $SANDBOX_RUN_DIR, ports $SANDBOX_PORT_BASE.."
	"$SB_DIR/up" -q >"$BENCH_OUT/sandbox-up.log" 2>&1 ||
		{ tail -n 30 "$BENCH_OUT/sandbox-up.log" >&2; bench_die "sandbox/up failed"; }
fi
# shellcheck disable=SC1091
. "$SANDBOX_RUN_DIR/env"
grep -q '^provider:' "$SANDBOX_RUN_DIR/signalbox.yml" ||
	bench_die "the sandbox runs without the Railway emulator (no provider in signalbox.yml)"
ADMIN=${RAILWAY_API_URL%/graphql/v2}

# probe NAME: one request with the console's token; sets REMAINING, RESET,
# LIMIT and PROBE_AT (epoch s, fractional) from its reply.
probe() {
	local hdr=$BENCH_OUT/probe-$1.headers code
	code=$(curl -sS --noproxy '*' --max-time 15 -o "$BENCH_OUT/probe-$1.json" -D "$hdr" \
		-w '%{http_code}' -H "Authorization: Bearer $RAILWAY_TOKEN" \
		-H 'Content-Type: application/json' \
		--data '{"query":"{ me { apiTokenRateLimit { remainingPoints resetsAt } } }"}' \
		"$RAILWAY_API_URL") || bench_die "probe $1: the emulator does not answer"
	PROBE_AT=$EPOCHREALTIME
	[[ $code == 200 ]] || bench_die "probe $1: HTTP $code: $(head -c 300 "$BENCH_OUT/probe-$1.json")"
	REMAINING=$(tr -d '\r' <"$hdr" | awk -F': *' 'tolower($1) == "x-ratelimit-remaining" {print $2}')
	RESET=$(tr -d '\r' <"$hdr" | awk -F': *' 'tolower($1) == "x-ratelimit-reset" {print $2}')
	LIMIT=$(tr -d '\r' <"$hdr" | awk -F': *' 'tolower($1) == "x-ratelimit-limit" {print $2}')
	[[ $REMAINING =~ ^[0-9]+$ && $RESET =~ ^[0-9]+$ ]] ||
		bench_die "probe $1: no X-RateLimit-Remaining/Reset in the reply"
}
journal_seq() { curl -sS --noproxy '*' --max-time 10 "$ADMIN/admin/events?limit=1" | jq -r .lastSeq; }
# refused SINCE: 429s the account token got since journal seq SINCE
refused() {
	curl -sS --noproxy '*' --max-time 10 "$ADMIN/admin/events?since=$1&limit=5000&type=ratelimit" |
		jq '[.events[] | select(.type == "ratelimit.429" and .key == "account")] | length'
}
screen() { tmux -L "$SOCK" capture-pane -p -t b; }
status_bar() { screen | grep -E 'railway:' | tail -n 1 | sed 's/  */ /g'; }
sleep_until() {	# EPOCH-SECONDS (fractional)
	local left
	left=$(awk -v t="$1" -v now="$EPOCHREALTIME" 'BEGIN { d = t - now; print (d > 0 ? d : 0) }')
	sleep "$left"
}

# ---- the console, idle ----------------------------------------------------------------
probe before
R0=$REMAINING RESET0=$RESET T_START=$PROBE_AT
SEQ0=$(journal_seq)
mkdir -p "$BENCH_OUT/state"
bench_tmux "$SOCK" 120 40 "cd $(printf '%q' "$BENCH_OUT") && . $(printf '%q' "$SANDBOX_RUN_DIR/env") && \
exec env TERM=screen-256color XDG_STATE_HOME=$(printf '%q' "$BENCH_OUT/state") \
$(printf '%q' "$SIGNALBOX_BIN") -c $(printf '%q' "$SANDBOX_RUN_DIR/signalbox.yml") -v console.log"
CONSOLE_PID=$(bench_pane_pid "$SOCK")
for ((i = 0; i < 300; i++)); do
	screen | grep -q 'railway:ok' && break
	kill -0 "$CONSOLE_PID" 2>/dev/null || bench_die "the console exited at start-up"
	sleep 0.1
done
screen | grep -q 'railway:ok' || { screen >&2; bench_die "the console did not reach railway:ok within 30 s"; }
echo "# console pid $CONSOLE_PID up: $(status_bar)"

sleep_until "$(awk -v t="$T_START" -v w="$BENCH_WARMUP_S" 'BEGIN { printf "%.3f", t + w }')"
probe warm
R1=$REMAINING RESET1=$RESET T_WARM=$PROBE_AT
SEQ1=$(journal_seq)

sleep_until "$(awk -v t="$T_START" -v m="$BENCH_MINUTES" 'BEGIN { printf "%.3f", t + m * 60 }')"
kill -0 "$CONSOLE_PID" 2>/dev/null || bench_die "the console exited during the run"
probe after
R2=$REMAINING RESET2=$RESET T_END=$PROBE_AT
BAR=$(status_bar)
screen >"$BENCH_OUT/screen-end.txt"
tmux -L "$SOCK" send-keys -t b q
for ((i = 0; i < 50; i++)); do
	kill -0 "$CONSOLE_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$CONSOLE_PID" 2>/dev/null && echo "bench/$BENCH_NAME: the console did not quit on 'q'" >&2
tmux -L "$SOCK" kill-server 2>/dev/null || true

[[ $RESET0 == "$RESET1" && $RESET1 == "$RESET2" ]] ||
	bench_die "the token's hourly window was reset during the run (X-RateLimit-Reset $RESET0 → $RESET1 → $RESET2): counts are void, run again"
F_ALL=$(refused "$SEQ0") F_STEADY=$(refused "$SEQ1")
# each probe is one request of the token: the later probe of a pair is in
# the difference, the earlier one is not
A_ALL=$((R0 - R2 - 2)) A_STEADY=$((R1 - R2 - 1))
((A_ALL >= 0 && A_STEADY >= 0)) ||
	bench_die "negative counts (remaining $R0, $R1, $R2): something else reset the budget"
N_ALL=$((A_ALL + F_ALL)) N_STEADY=$((A_STEADY + F_STEADY))
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n * 3600 / (b - a) }'; }
mins() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b - a) / 60 }'; }

{
	echo "idle console on the sandbox's Railway project, ${BENCH_MINUTES} min; $(machine_line)"
	echo
	echo "| window | minutes | requests (allowed + 429) | requests/hour |"
	echo "|---|---:|---:|---:|"
	printf '| whole run, start-up included | %s | %d (%d + %d) | %s |\n' \
		"$(mins "$T_START" "$T_END")" "$N_ALL" "$A_ALL" "$F_ALL" "$(rate "$N_ALL" "$T_START" "$T_END")"
	printf '| steady state, after %d s | %s | %d (%d + %d) | %s |\n' "$BENCH_WARMUP_S" \
		"$(mins "$T_WARM" "$T_END")" "$N_STEADY" "$A_STEADY" "$F_STEADY" "$(rate "$N_STEADY" "$T_WARM" "$T_END")"
	echo
	echo "X-RateLimit-Remaining of the token: $R0 → $R1 → $R2 (limit $LIMIT/h, window resets at $RESET2);"
	echo "status bar at the end: $BAR"
} | tee "$BENCH_OUT/results.md"
