#!/usr/bin/env bash
# The console in tmux against the sandbox's Railway emulator while the
# emulator misbehaves (issue 5, "Faults"):
#
#   rate-limit  every request gets 429 + Retry-After for 20 s: the console
#               says so (status bar railway:stale with the wait, overview
#               title "stale: … rate limit reached (HTTP 429)"), sends
#               nothing more until Retry-After (the emulator's journal
#               counts its 429s), and a scale confirmed during the limit
#               waits in the queue and reaches the emulator only after the
#               window (journal), then shows done and is audited ok
#   ws-drop     the console polls over HTTP (no subscriptions are wired
#               yet): it stays railway:ok through a poll with the fault on
#   slow-api    every answer takes 5 s: while a request (a scale) is
#               pending the panes still switch at once (key to screen
#               measured through a tmux control-mode client, printed as a
#               "# " line; the check is only "within 1 s": no timing
#               thresholds in tests)
#   bad token   RAILWAY_TOKEN=wrong: the overview says "Not Authorized:
#               check RAILWAY_TOKEN", no crash, q exits 0; the CLI's
#               status exits 3 with the same words
#
# Every console run must quit on q with exit 0 and leave no sanitizer
# report (ASAN/UBSAN builds write them to files here).
#
# Needs SIGNALBOX_BIN (set by CTest).
. "$(dirname "$0")/lib.sh"
: "${SIGNALBOX_BIN:?SIGNALBOX_BIN must name the signalbox binary}"
t_setup 31400

t_up
export XDG_STATE_HOME=$SANDBOX_RUN_DIR/state
AUDIT=$XDG_STATE_HOME/signalbox/audit.jsonl
ADMIN=${RAILWAY_API_URL%/graphql/v2}
SOCK=sbx-flt-$$

. "$(dirname "$0")/tui.sh"

trap 'tui_stop; t_teardown' EXIT

# ---- the emulator's side -----------------------------------------------------------------
# remaining: X-RateLimit-Remaining of the console's token (one request itself)
remaining() {
	curl -s -D - -o /dev/null --max-time 15 --noproxy '*' -H "Authorization: Bearer $RAILWAY_TOKEN" \
		-H 'Content-Type: application/json' --data '{"query":"{ me { name } }"}' "$RAILWAY_API_URL" |
		tr -d '\r' | awk -F': *' 'tolower($1) == "x-ratelimit-remaining" { print $2 }'
}
# console_polled: within 25 s the console sends a request (the token's
# remaining budget drops by more than these probes' own requests)
console_polled() {
	local r0 r i
	r0=$(remaining)
	for ((i = 1; i <= 25; i++)); do
		sleep 1
		r=$(remaining)
		[[ -n $r0 && -n $r ]] && ((r0 - r > i)) && return 0
	done
	return 1
}
journal_seq() { curl -s --max-time 5 --noproxy '*' "$ADMIN/admin/events?limit=1" | jq -r .lastSeq; }
events_since() { curl -s --max-time 5 --noproxy '*' "$ADMIN/admin/events?since=$1&limit=5000"; }
audit_has() { [[ -s $AUDIT ]] && jq -e -s "any(.[]; $1)" "$AUDIT" >/dev/null; }
ms_now() { echo $((${EPOCHREALTIME/./} / 1000)); }

# Key to screen, measured through one tmux control-mode client (no fork per
# step): send a key, then capture the pane inside the tmux server until the
# screen shows what the key brings.  This covers tmux writing the key to the
# pty, the console reading it, drawing and writing the frame, and tmux
# parsing it; not a physical terminal's paint.  Keys 3 and 1 alternate
# (Deploys, Overview), 150 ms apart: the console draws at most 30 frames a
# second (src/ui/ui.c), so a key within 33 ms of the last frame waits for
# the next one, and back-to-back keys would measure that cap instead.
cat >"$SANDBOX_RUN_DIR/keylat.js" <<'EOF_JS'
// keylat.js SOCK N GAP_MS KEY1 REGEX1 KEY2 REGEX2: through one tmux
// control-mode client, N times: wait GAP_MS, send KEYi, then capture the
// pane (in the server, no fork) until it matches REGEXi; prints one latency
// in ms per line, "already" when it matched before the key, or "timeout"
// (1 s).  Keys alternate 1, 2, 1, 2 ...
'use strict';
const { spawn } = require('child_process');
const [sock, nStr, gapStr, k1, r1, k2, r2] = process.argv.slice(2);
const steps = [[k1, new RegExp(r1, 'm')], [k2, new RegExp(r2, 'm')]];
const t = spawn('tmux', ['-L', sock, '-C', 'attach-session'], { stdio: ['pipe', 'pipe', 'inherit'] });
let buf = '', block = null, mine = false;
const waiting = [];
t.stdout.on('data', (d) => {
  buf += d.toString('latin1');
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, i).replace(/\r$/, '');
    buf = buf.slice(i + 1);
    if (block === null && line.startsWith('%begin ')) { block = []; mine = line.split(' ')[3] === '1'; continue; }
    if (block !== null && (line.startsWith('%end ') || line.startsWith('%error '))) {
      const b = block; block = null;
      if (mine) { const w = waiting.shift(); if (w) w(b.join('\n')); }
      continue;
    }
    if (block !== null) block.push(line);
  }
});
const cmd = (c) => new Promise((res) => { waiting.push(res); t.stdin.write(c + '\n'); });
const now = () => Number(process.hrtime.bigint()) / 1e6;
(async () => {
  const size = await cmd("display-message -p '#{window_width}x#{window_height}'");
  process.stderr.write(`# control client attached, window ${size.trim()}\n`);
  for (let i = 0; i < Number(nStr); i++) {
    const [key, re] = steps[i % 2];
    await new Promise((r) => setTimeout(r, Number(gapStr)));
    const before = await cmd('capture-pane -p');
    if (re.test(before)) { console.log('already'); continue; }
    const t0 = now();
    await cmd(`send-keys ${key}`);
    let ms = null;
    while (now() - t0 < 1000) {
      if (re.test(await cmd('capture-pane -p'))) { ms = now() - t0; break; }
    }
    console.log(ms === null ? 'timeout' : ms.toFixed(2));
  }
  t.stdin.end();
})();
EOF_JS
OVERVIEW_TITLE='Overview +sandbox / production +[0-9]+ services'
DEPLOYS_TITLE='Deploys +(sandbox / production +)?[0-9]+ deployments'
# latency_samples N: N pane switches 3 → 1 → 3 …, their latencies in LAT[]
latency_samples() {
	local out
	LAT=()
	out=$(timeout 60 node "$SANDBOX_RUN_DIR/keylat.js" "$SOCK-$RUNS" "$1" 150 3 "$DEPLOYS_TITLE" 1 "$OVERVIEW_TITLE") ||
		{ echo "# keylat.js failed: $out" >&2; return 1; }
	mapfile -t LAT <<<"$out"
	if ((${#LAT[@]} != $1)) || printf '%s\n' "${LAT[@]}" | grep -qv '^[0-9.]*$'; then
		echo "# key to screen: $(tr '\n' ' ' <<<"$out")" >&2
		return 1
	fi
}
lat_summary() {	# min / median / max of LAT[]
	printf '%s\n' "${LAT[@]}" | sort -n | awk '{ v[NR] = $1 } END {
		printf "min %.1f / median %.1f / max %.1f ms (%d samples)", v[1], v[int((NR + 1) / 2)], v[NR], NR }'
}

# ---- the console, healthy ----------------------------------------------------------------
tui_start
check "the console shows the project" on_screen 15 'SUCCESS +api +v1 .* 2/2'
check "status bar: railway:ok" on_screen 10 'railway:ok'
keys 1
on_screen 5 "$OVERVIEW_TITLE" >/dev/null
if latency_samples 12; then
	ok "panes switch at once with nothing pending (baseline)"
	echo "# key to screen, no fault: $(lat_summary)"
else
	not_ok "panes switch at once with nothing pending (baseline)"
fi
keys 1

# ---- rate-limit ------------------------------------------------------------------------------
# The scale dialog is filled in before the console sees its first 429 and
# confirmed right after: the action is issued during the limit, whatever the
# poll timing.
SEQ_RL=$(journal_seq)
RL_OUT=$("$T_SANDBOX/fault" rate-limit on --seconds 20 2>&1) || not_ok "fault rate-limit on: $RL_OUT"
RL_UNTIL=$(curl -s --max-time 5 --noproxy '*' "$ADMIN/admin/fault" | jq -r '.["rate-limit"].until // empty')
[[ -n $RL_UNTIL ]] || not_ok "the emulator reports the rate-limit fault with its end"
echo "# rate-limit on until $RL_UNTIL"
# single-pane layout: the overview's title has the whole width for the reason
keys : ; typed "layout single" ; keys Enter
keys : ; typed "scale api 3" ; keys Enter
check "scale plan: api 2 → 3" on_screen 5 'api: 2 → 3 replicas in us-west2'
type_confirmation "faults test: scale during rate-limit"
check "status bar: railway:stale once the console got a 429" on_screen 20 'railway:stale'
check "overview title: stale, with the 429 in words" on_screen 3 \
	'Overview +sandbox / production .*stale: data [0-9]+[smh] old: .*rate limit reached \(HTTP 429\)'
echo "# overview title: $(screen | grep -m1 -Eo 'Overview +sandbox.*stale: data.*HTTP 429[^│]*' | sed 's/ *$//')"
keys Enter
CONFIRMED_AT=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
# confirmed during the limit: the status line says it waits, and how long
check "status line: scale waits for the rate limit" on_screen 5 \
	'scale api: waiting for the rate limit \([0-9]+s\), then sent'
echo "# status bar during the limit: $(status_bar)"
check "the status bar says the console waits for the rate limit" on_screen 3 'railway:stale .*(429 wait|waiting)'
check "confirmed while the limit is on ($CONFIRMED_AT < $RL_UNTIL)" test "$CONFIRMED_AT" \< "$RL_UNTIL"
no_mutation_yet() {
	[[ $(events_since "$SEQ_RL" | jq '[.events[] | select(.type == "graphql.mutation")] | length') == 0 ]]
}
check "nothing reached the emulator yet (queued behind Retry-After)" no_mutation_yet
check "status line: scale done after the wait" on_screen 40 'scale api: done in [0-9]+ ms'
echo "# $(screen | grep -Eo 'scale api: done in [0-9]+ ms')"
EV=$(events_since "$SEQ_RL")
N429=$(jq '[.events[] | select(.type == "ratelimit.429" and .key == "account")] | length' <<<"$EV")
echo "# 429s the console got during the 20 s limit: $N429 ($(jq -r '[.events[] | select(.type == "ratelimit.429" and .key == "account") | "\(.time[11:19]) retry \(.retryAfter)s"] | join(", ")' <<<"$EV"))"
# one per kind of request in flight when the limit began, at most
# (snapshot, history, variables, action): nothing is retried before Retry-After
check "the console did not hammer the API: $N429 refused requests in 20 s (≤ 4)" test "$N429" -ge 1 -a "$N429" -le 4
MUT=$(jq -c '[.events[] | select(.type == "graphql.mutation")]' <<<"$EV")
check "one mutation reached the emulator: environmentPatchCommit, no errors" jq -e \
	'length == 1 and .[0].fields == ["environmentPatchCommit"] and (.[0].errors == null)' <<<"$MUT"
check "… after the limit's end ($(jq -r '.[0].time // "none"' <<<"$MUT") ≥ $RL_UNTIL)" jq -e \
	--arg until "$RL_UNTIL" '.[0].time >= $until' <<<"$MUT"
audit_rl() {
	jq -e -s --arg u "$RL_UNTIL" 'any(.[]; .action == "scale" and .result == "allowed" and .time < $u and .reason == "faults test: scale during rate-limit") and any(.[]; .action == "scale" and .result == "ok" and .reason == "faults test: scale during rate-limit")' "$AUDIT" >/dev/null
}
check "audit: the scale allowed before the end of the limit, then ok" audit_rl
check "status bar back to railway:ok after the limit" on_screen 30 'railway:ok'
eventually 5 "overview title fresh again" not_on_screen 'stale: data'
keys 4
check "replicas pane: api converges to 3/3" on_screen 60 'api +us-west2 +3/3'
keys 1
keys : ; typed "layout auto" ; keys Enter
"$T_SANDBOX/fault" rate-limit off >/dev/null 2>&1 || true

# ---- ws-drop -----------------------------------------------------------------------------------
SEQ_WS=$(journal_seq)
WS_OUT=$("$T_SANDBOX/fault" ws-drop on 2>&1) || not_ok "fault ws-drop on: $WS_OUT"
echo "# ws-drop on: $(sed -n 's/.*"dropped":\([0-9]*\).*/\1/p' <<<"$WS_OUT") subscription sockets dropped"
check "ws-drop: the console polls the API while the fault is on" console_polled
check "ws-drop: status bar still railway:ok" on_screen 5 'railway:ok'
check "ws-drop: overview not stale" not_on_screen 'stale: data'
"$T_SANDBOX/fault" ws-drop off >/dev/null 2>&1 || not_ok "fault ws-drop off"
N_WS=$(events_since "$SEQ_WS" | jq '[.events[] | select(.type | startswith("ws."))] | length')
echo "# ws-drop: the console opened $N_WS subscription sockets (it does not subscribe yet: polling only)"
check "ws-drop off: still railway:ok" on_screen 5 'railway:ok'

# ---- slow-api ------------------------------------------------------------------------------------
# An action is the request we can start on cue: confirmed, it is pending for
# 5 s in the emulator (and the refresh after it for 5 s more).  Panes are
# switched meanwhile, timed from send-keys to the new pane on screen.
SL_OUT=$("$T_SANDBOX/fault" slow-api on 2>&1) || not_ok "fault slow-api on: $SL_OUT"
keys : ; typed "scale api 2" ; keys Enter
check "slow-api: scale plan api 3 → 2" on_screen 5 'api: 3 → 2 replicas in us-west2'
type_confirmation "faults test: scale during slow-api"
keys Enter
check "slow-api: status line: scale sent" on_screen 5 'scale api: sent'
SENT_MS=$(ms_now)
keys 1
on_screen 2 "$OVERVIEW_TITLE" >/dev/null
if latency_samples 12; then
	SAMPLED_MS=$(ms_now)
	ok "slow-api: panes switch while the request is pending (each within 1 s)"
	echo "# key to screen, slow-api, request pending: $(lat_summary)"
else
	SAMPLED_MS=$(ms_now)
	not_ok "slow-api: panes switch while the request is pending (each within 1 s)"
fi
check "slow-api: the scale is still pending after the samples" not_on_screen 'scale api: done'
check "slow-api: scale done, after the emulator's 5 s" on_screen 20 'scale api: done in ([5-9][0-9]{3}|[0-9]{5,}) ms'
echo "# $(screen | grep -Eo 'scale api: done in [0-9]+ ms'); samples took $((SAMPLED_MS - SENT_MS)) ms after 'sent'"
"$T_SANDBOX/fault" slow-api off >/dev/null 2>&1 || not_ok "fault slow-api off"
check "slow-api off: railway:ok" on_screen 30 'railway:ok'
check "audit: the scale during slow-api ok" audit_has \
	'.action == "scale" and .result == "ok" and .reason == "faults test: scale during slow-api"'
code=$(tui_quit)
check "q exits 0 (exit $code)" test "$code" = 0

# ---- invalid token -----------------------------------------------------------------------------------
tui_start RAILWAY_TOKEN=wrong
check "bad token: the overview says it in words" on_screen 15 'Not Authorized: check RAILWAY_TOKEN'
check "bad token: status bar railway:error" on_screen 5 'railway:error'
echo "# bad token: $(screen | grep -m1 -Eo 'Not Authorized[^│]*' | sed 's/ *$//')"
code=$(tui_quit)
check "bad token: q exits 0 (exit $code)" test "$code" = 0
CLI_RC=0
RAILWAY_TOKEN=wrong timeout 60 "$SIGNALBOX_BIN" -c "$SANDBOX_RUN_DIR/signalbox.yml" status \
	>"$SANDBOX_RUN_DIR/cli.out" 2>"$SANDBOX_RUN_DIR/cli.err" || CLI_RC=$?
check "CLI status with a bad token exits 3 (exit $CLI_RC)" test "$CLI_RC" = 3
check "… saying Not Authorized: check RAILWAY_TOKEN" grep -q 'Not Authorized: check RAILWAY_TOKEN' "$SANDBOX_RUN_DIR/cli.err"
echo "# CLI: $(head -n 1 "$SANDBOX_RUN_DIR/cli.err")"

# ---- no sanitizer report ------------------------------------------------------------------------
san=$(find "$SAN_DIR" -type f -size +0 2>/dev/null)
if [[ -z $san ]]; then
	ok "no sanitizer report from any console run"
else
	not_ok "sanitizer reports: $san"
	# shellcheck disable=SC2086
	head -n 30 $san | sed 's/^/#   /'
fi
