#!/usr/bin/env bash
# sandbox: the non-interactive Railway commands of signalbox (status,
# deploy, redeploy, restart, rollback, scale, vars) against the full
# sandbox, through the same policy and audit log as the console: status
# --json lists every service → deploy in the protected production refused
# without --yes/--confirm-env/--reason (audited) → deploy v2 --wait, the
# front serves v2 → rollback --wait, v1 served → a crash-looping deploy
# --wait exits 1 with FAILED while v1 keeps serving → restart --wait (new
# processes) → scale 3 and back to 2 → scale to 0 refused without
# --confirm-zero → vars set from stdin --skip-deploys, redeploy, /health
# shows it → --reveal prints it and is audited without it → --read-only
# refused and audited → a bad token exits 3 with words → the audit file
# holds one line per step and never the secret.
#
#   SIGNALBOX_BIN   the binary under test (ctest sets it; else the newest
#                   build*/signalbox of this checkout)
. "$(dirname "$0")/lib.sh"
t_setup 30800

SB=${SIGNALBOX_BIN:-}
if [[ -z $SB ]]; then
	# shellcheck disable=SC2012
	SB=$(ls -t "$T_SANDBOX"/../build*/signalbox 2>/dev/null | head -n 1)
fi
[[ -n $SB && -x $SB ]] || bail "no signalbox binary: build it, or set SIGNALBOX_BIN"
SB=$(cd "$(dirname "$SB")" && pwd)/$(basename "$SB")
echo "# binary: $SB"

TMP=$SANDBOX_RUN_DIR.cli
mkdir -p "$TMP"
export XDG_STATE_HOME=$TMP/state	# the audit log is this test's own
AUDIT=$XDG_STATE_HOME/signalbox/audit.jsonl
trap 'rc=$?; rm -rf "$TMP"; (exit "$rc"); t_teardown' EXIT

ms_now() { date +%s%3N; }
lap() { echo "# $1: $(($(ms_now) - LAP)) ms"; LAP=$(ms_now); }

# sb NAME ARGS...: run signalbox (bounded) with the sandbox's config; its
# output in $TMP/NAME.out and .err, its exit status in RC.  Standard input
# is $SB_IN when set, else /dev/null.
sb() {
	local name=$1
	shift
	RC=0
	timeout -s TERM 150 "$SB" -c "$CFG" "$@" <"${SB_IN:-/dev/null}" \
		>"$TMP/$name.out" 2>"$TMP/$name.err" || RC=$?
}
# rc_is NAME CODE DESCRIPTION: the last sb exited CODE; shows its output if not.
rc_is() {
	if [[ $RC == "$2" ]]; then
		ok "$3 (exit $RC)"
	else
		not_ok "$3 (exit $RC, expected $2)"
		sed 's/^/#   out: /' "$TMP/$1.out" | tail -n 15
		sed 's/^/#   err: /' "$TMP/$1.err" | tail -n 15
	fi
}
has() { grep -qE -- "$2" "$TMP/$1"; }	# FILE REGEX
# audit lines written since line N (1-based count of lines before)
audit_since() { tail -n +"$(($1 + 1))" "$AUDIT" 2>/dev/null; }
audit_lines() { [[ -f $AUDIT ]] && wc -l <"$AUDIT" || echo 0; }
# audit_has N JQ: some line after the first N satisfies JQ
audit_has() { audit_since "$1" | jq -e -s "any(.[]; $2)" >/dev/null; }

front_health() {	# N: "CODE VERSION INSTANCE ENV" per answer of the api front
	local i out
	for ((i = 0; i < $1; i++)); do
		out=$(curl -s -w '\n%{http_code}' --max-time 3 --noproxy '*' "$SANDBOX_API_HTTP_URL/health")
		echo "${out##*$'\n'} $(jq -r '"\(.version) \(.instance) \(.env)"' <<<"${out%$'\n'*}" 2>/dev/null)"
	done
}
served() {	# VERSION [N]: N answers, all 200 with VERSION
	local bad
	bad=$(front_health "${2:-10}" | awk -v v="$1" '$1 != 200 || $2 != v')
	[[ -z $bad ]] || { echo "# unexpected answers: $(tr '\n' ';' <<<"$bad")" >&2; return 1; }
}
instances() { front_health "$1" | awk '$1 == 200 { print $3 }' | sort -u | wc -l; }
env_served() {	# VALUE N: every answer's /health env is VALUE
	[[ -z $(front_health "$2" | awk -v v="$1" '$1 != 200 || $4 != v') ]]
}
# pids of the running replicas of api's active production deployment
api_pids() {
	curl -s --max-time 3 "http://127.0.0.1:$P_EMU/admin/state" | jq -r \
		'[.deployments[] | select(.service == "api" and .environment == "production" and .status == "SUCCESS") | .replicas[] | select(.status == "RUNNING") | .pid] | sort | join(" ")'
}

# ---- up ------------------------------------------------------------------------
LAP=$(ms_now)
t_up
CFG=$SANDBOX_RUN_DIR/signalbox.yml
grep -q '^provider:' "$CFG" || bail "the sandbox config has no provider section"
lap "up"
YES=(--yes --confirm-env production --reason "test_cli_railway")

# ---- status ----------------------------------------------------------------------
sb status status --json
rc_is status 0 "status --json: every latest deployment SUCCESS"
check "status --json lists api, ws, worker, billing, postgres, each SUCCESS with replicas" jq -e \
	'([.services[].name] | sort == ["api", "billing", "postgres", "worker", "ws"]) and .ok == true and .environment == "production" and all(.services[]; .status == "SUCCESS" and .replicas.running >= 1)' "$TMP/status.out"
check "status --json: api runs v1 with 2/2 replicas in us-west2" jq -e \
	'.services[] | select(.name == "api") | .version == "v1" and .replicas.running == 2 and .replicas.desired == 2 and .replicas.regions[0].name == "us-west2"' "$TMP/status.out"
sb status-text status
rc_is status-text 0 "status (text)"
check "status text: one row per service with version and replicas" \
	grep -qE '^api +SUCCESS +v1 +[0-9]+[smhd] +[0-9a-f]{8} +2/2 us-west2' "$TMP/status-text.out"
lap "status"

# ---- deploy in the protected environment: refused without the confirmation --------
# "a push to the branch": deploy latest now deploys v2
curl -s --max-time 5 -X POST -H 'Content-Type: application/json' \
	-d '{"service":"api","version":"v2"}' "http://127.0.0.1:$P_EMU/admin/source" >/dev/null
A0=$(audit_lines)
sb deploy-bare deploy api
rc_is deploy-bare 4 "deploy api without flags: refused"
check "it says how to confirm in a protected environment" \
	has deploy-bare.err 'protected environment: confirm with --yes --confirm-env production --reason TEXT'
sb deploy-yes deploy api --yes
rc_is deploy-yes 4 "deploy api --yes in production: refused (protected)"
sb deploy-wrong deploy api --yes --reason "x" --confirm-env staging
rc_is deploy-wrong 4 "deploy api --confirm-env staging in production: refused"
sb deploy-noreason deploy api --yes --confirm-env production --reason " "
rc_is deploy-noreason 4 "deploy api with a blank --reason: refused"
check "four refusals audited (deploy, api, production, refused, with the reason in words)" bash -c \
	'[[ $(tail -n +$(($1 + 1)) "$2" | jq -s "[.[] | select(.action == \"deploy\" and .target == \"api\" and .environment == \"production\" and .result == \"refused\" and (.error | length) > 0)] | length") == 4 ]]' _ "$A0" "$AUDIT"
check "nothing was deployed" served v1 6

# ---- deploy v2 --wait -----------------------------------------------------------------------
A1=$(audit_lines)
sb deploy deploy api "${YES[@]}" --wait
rc_is deploy 0 "deploy api --yes --confirm-env production --reason … --wait: SUCCESS"
check "the plan named the change (api: v1 → v2)" has deploy.err 'api: v1 \([0-9a-f]{8}\) → v2'
check "--wait printed the transitions with elapsed time, ending in SUCCESS" bash -c \
	'grep -qE "^ +[0-9]+\.[0-9]s +(BUILDING|DEPLOYING|QUEUED|INITIALIZING)" "$0" && grep -qE "is SUCCESS after" "$0"' "$TMP/deploy.out"
check "the api front serves v2 only" served v2 12
check "audited: allowed then ok, with the reason" audit_has "$A1" \
	'.action == "deploy" and .result == "ok" and .reason == "test_cli_railway" and (.after | startswith("deployment "))'
check "  … and the allowed line before it" audit_has "$A1" '.action == "deploy" and .result == "allowed"'
lap "deploy v2"

# ---- rollback --wait ----------------------------------------------------------------------------
sb rollback rollback api "${YES[@]}" --wait
rc_is rollback 0 "rollback api --wait: SUCCESS"
check "it said what it undoes (the v2 deployment, its age)" has rollback.err 'undoes v2 \([0-9a-f]{8}\) SUCCESS, [0-9]+[smh] ago'
check "the api front serves v1 again" served v1 12
lap "rollback"

# ---- a deploy that crash-loops: FAILED, exit 1, the old version keeps serving ---------------------
"$T_SANDBOX/fault" crash-loop on --service api >/dev/null || not_ok "fault crash-loop on"
sb crash deploy api "${YES[@]}" --wait
"$T_SANDBOX/fault" crash-loop off --service api >/dev/null || not_ok "fault crash-loop off"
rc_is crash 1 "deploy api with the crash-loop fault, --wait: exit 1"
check "it reports FAILED and what still runs" bash -c \
	'grep -qE "ended (FAILED|CRASHED) after" "$0" && grep -qE "api still runs v1" "$0"' "$TMP/crash.err"
check "it shows the failed deployment's last log lines" bash -c \
	'grep -q "the deployment.s last log lines:" "$0" && grep -qE "^  [0-9T:.-]+Z  error  boot failed" "$0"' "$TMP/crash.err"
check "status exits 1 now (api's latest deployment FAILED)" bash -c \
	'timeout 60 "$0" -c "$1" status --json >/dev/null 2>&1; [[ $? == 1 ]]' "$SB" "$CFG"
check "v1 keeps serving" served v1 12
CRASH_ID=$(sed -n 's/.*accepted in [0-9]* ms, deployment \([0-9a-f-]*\)$/\1/p' "$TMP/crash.out")
sb rb-bad rollback api --to "$CRASH_ID" "${YES[@]}"
rc_is rb-bad 3 "rollback --to the FAILED deployment: the API refuses"
check "… and the API's words are printed" has rb-bad.err 'rollback api failed: .*never succeeded'
lap "crash-loop"

# ---- restart --wait ----------------------------------------------------------------------------
before=$(api_pids)
sb restart restart api "${YES[@]}" --wait
rc_is restart 0 "restart api --wait: every replica running again"
after=$(api_pids)
check "new replica processes ($before → $after)" bash -c \
	'[[ -n $1 && $(wc -w <<<"$1") == 2 && -z $(comm -12 <(tr " " "\n" <<<"$0" | sort) <(tr " " "\n" <<<"$1" | sort)) ]]' "$before" "$after"
check "v1 served after the restart" served v1 6
lap "restart"

# ---- scale ----------------------------------------------------------------------------------------
sb scale3 scale api 3 "${YES[@]}" --wait
rc_is scale3 0 "scale api 3 --wait"
check "the plan line: api: 2 → 3 replicas in us-west2" has scale3.err 'api: 2 → 3 replicas in us-west2'
eventually 20 "3 distinct replicas answer on the api front" bash -c \
	"$(declare -f front_health instances); export SANDBOX_API_HTTP_URL=$SANDBOX_API_HTTP_URL; test \$(instances 15) = 3"
sb scale2 scale api 2 "${YES[@]}" --wait
rc_is scale2 0 "scale api 2 --wait"
eventually 20 "2 replicas answer again" bash -c \
	"$(declare -f front_health instances); export SANDBOX_API_HTTP_URL=$SANDBOX_API_HTTP_URL; test \$(instances 12) = 2"
A2=$(audit_lines)
sb scale0 scale api 0 "${YES[@]}"
rc_is scale0 4 "scale api 0 with --yes but without --confirm-zero: refused"
check "it asks for --confirm-zero" has scale0.err 'confirm-zero'
check "audited as refused (not confirmed twice)" audit_has "$A2" \
	'.action == "scale" and .result == "refused" and .params.to == 0 and (.error | test("twice"))'
sb scale0b scale api 3 --confirm-zero "${YES[@]}"
rc_is scale0b 2 "--confirm-zero with a count other than 0: usage error"
check "still 2 replicas serving" served v1 6
lap "scale"

# ---- variables: set from stdin, staged; redeploy; reveal ---------------------------------------------
SECRET="cli-canary-$RANDOM$RANDOM"
printf '%s\n' "$SECRET" >"$TMP/value"
SB_IN=$TMP/value sb varset vars set api FLAGS_ENV - --skip-deploys "${YES[@]}"
rc_is varset 0 "vars set api FLAGS_ENV - --skip-deploys (value from stdin)"
check "the value is not echoed anywhere" bash -c '! grep -qF -- "$0" "$1" "$2"' "$SECRET" "$TMP/varset.out" "$TMP/varset.err"
check "staged: the replicas still report env production" env_served production 4
sb vars vars api --json
rc_is vars 0 "vars api --json"
check "vars: FLAGS_ENV masked as its length and a fingerprint, no value" bash -c \
	'jq -e --argjson n "${#0}" ".variables[] | select(.name == \"FLAGS_ENV\") | .length == \$n and (.fingerprint | test(\"^[0-9a-f]{8}$\")) and (has(\"value\") | not)" "$1" >/dev/null && ! grep -qF -- "$0" "$1"' "$SECRET" "$TMP/vars.out"
sb redeploy redeploy api "${YES[@]}" --wait
rc_is redeploy 0 "redeploy api --wait"
check "/health shows the new FLAGS_ENV on every answer" env_served "$SECRET" 8
sb reveal-no vars api --reveal FLAGS_ENV
rc_is reveal-no 4 "vars --reveal in the protected environment without --yes: refused"
A3=$(audit_lines)
sb reveal vars api --reveal FLAGS_ENV --yes
rc_is reveal 0 "vars api --reveal FLAGS_ENV --yes"
check "it prints the value, and only the value, on stdout" bash -c '[[ $(cat "$1") == "$0" ]]' "$SECRET" "$TMP/reveal.out"
check "the reveal is audited (var-reveal, FLAGS_ENV, ok)" audit_has "$A3" \
	'.action == "var-reveal" and .params.name == "FLAGS_ENV" and .result == "ok"'
lap "variables"

# ---- read-only mode and a bad token ----------------------------------------------------------------------
A4=$(audit_lines)
sb ro --read-only deploy api "${YES[@]}"
rc_is ro 4 "signalbox --read-only deploy api: refused"
check "it says why" has ro.err 'read-only mode'
check "audited as refused (read-only)" audit_has "$A4" \
	'.action == "deploy" and .result == "refused" and (.error | test("read-only"))'
RAILWAY_TOKEN=not-a-token sb badtoken status
rc_is badtoken 3 "a bad token: exit 3"
check "… with the API's words and what to check" has badtoken.err 'Not Authorized: check RAILWAY_TOKEN'
(unset RAILWAY_TOKEN; sb notoken status; exit "$RC") && RC=0 || RC=$?
rc_is notoken 3 "no token: exit 3"
lap "read-only, tokens"

# ---- the audit log ------------------------------------------------------------------------------------------
check "the audit log is private (0600)" test "$(stat -c %a "$AUDIT")" = 600
check "every line has time, operator, project, environment, target, action, result" jq -e -s \
	'length > 0 and all(.[]; (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")) and (.operator | length > 0) and .project == "sandbox" and .environment == "production" and (.target | length > 0) and (.action | length > 0) and (.result | IN("allowed", "refused", "ok", "failed")))' "$AUDIT"
# actions carried out: deploy, rollback, crash deploy, restart, scale 3, scale 2,
# var-set, redeploy, reveal = 9, each allowed then ok; the rollback the API
# refused: allowed then failed; refused by the policy: 4 deploys, scale 0, reveal
# without --yes, read-only = 7
check "one allowed + one outcome line per action sent (10: 9 ok, 1 failed), 7 refusals" jq -e -s \
	'([.[] | select(.result == "allowed")] | length) == 10 and ([.[] | select(.result == "ok")] | length) == 9 and ([.[] | select(.result == "failed" and .action == "rollback" and (.error | test("never succeeded")))] | length) == 1 and ([.[] | select(.result == "refused")] | length) == 7 and length == 27' "$AUDIT"
check "the secret value appears nowhere in the audit log" bash -c '! grep -qF -- "$0" "$1"' "$SECRET" "$AUDIT"
check "var-set is recorded as length and fingerprint" jq -e -s --argjson n "${#SECRET}" \
	'any(.[]; .action == "var-set" and .result == "ok" and .params.value.secret == true and .params.value.length == $n and .params.skip_deploys == true)' "$AUDIT"
lap "audit"
