#!/usr/bin/env bash
# The console against the sandbox's Railway emulator, driven like a person
# would in tmux: the provider's panes show the project; deploy v2 (typed
# confirmation in the protected environment), the front serves v2; roll
# back to v1 from the deployments pane (the dialog says what it undoes);
# the crashing v3 ends FAILED on screen while v1 keeps serving; restart;
# scale to 3 and back to 2 from the replicas pane; a variable set and a
# redeploy show in /health; a reveal shows the value and is audited;
# --read-only refuses and audits the refusal.  Then the audit file has a
# line for every action, and no secret.
#
# Needs SIGNALBOX_BIN (set by CTest).
. "$(dirname "$0")/lib.sh"
: "${SIGNALBOX_BIN:?SIGNALBOX_BIN must name the signalbox binary}"
t_setup 31100

t_up
E=$RAILWAY_ENVIRONMENT_ID
export XDG_STATE_HOME=$SANDBOX_RUN_DIR/state
AUDIT=$XDG_STATE_HOME/signalbox/audit.jsonl
SOCK=sbx-tui-$$

. "$(dirname "$0")/tui.sh"

trap 'tui_stop; t_teardown' EXIT

# ---- helpers over the front ----------------------------------------------------------
front_versions() {   # N: the versions N answers of the api front gave
	local i
	for ((i = 0; i < $1; i++)); do
		curl -s --max-time 3 --noproxy '*' "$SANDBOX_API_HTTP_URL/health" | jq -r '.version // "none"'
	done | sort -u | tr '\n' ' '
}
serves() { [[ $(front_versions 8) == "$1 " ]]; }
set_source() {       # VERSION: what "deploy latest" deploys next
	curl -sS --max-time 5 --noproxy '*' -X POST -H 'Content-Type: application/json' \
		-H "Authorization: Bearer $RAILWAY_TOKEN" \
		--data "{\"service\":\"api\",\"version\":\"$1\"}" "${RAILWAY_API_URL%/graphql/v2}/admin/source" >/dev/null
}
audit_has() {        # JQ-FILTER: some audit line matches
	[[ -s $AUDIT ]] && jq -e -s "any(.[]; $1)" "$AUDIT" >/dev/null
}

# ---- the panes show the project --------------------------------------------------------
tui_start
check "tabs: Overview first, then the provider's panes" on_screen 10 '1 Overview +2 Health +3 Deploys +4 Replicas +5 Vars'
check "overview lists api, ws, worker, billing with SUCCESS" on_screen 15 'SUCCESS +billing'
check "overview: api runs 2/2 and is healthy" on_screen 15 'SUCCESS +api +v1 .* 2/2 OK'
check "status bar: railway:ok" on_screen 5 'railway:ok'

# ---- deploy v2 -----------------------------------------------------------------------
set_source v2
keys 3
check "deployments pane" on_screen 5 'Deploys +[0-9]+ deployments'
keys g
# the api row: filter to it, then the newest one is on top
filter_to api
check "filtered to api" on_screen 5 "filter 'api'"
keys D
check "deploy asks for the typed confirmation" on_screen 5 'Deploy api in production'
confirm_typed "tui test: deploy v2"
check "status line: deploy sent or done" on_screen 10 'deploy api: (sent|done)'
check "the new deployment shows SUCCESS with v2" on_screen 60 'SUCCESS +api +[0-9a-f]{8} +v2'
eventually 20 "the front serves v2" serves v2

# ---- rollback to v1 --------------------------------------------------------------------
# filtered to api, newest first: the v2 deployment, then the removed v1
keys g j
check "the v1 deployment is selected" on_screen 5 'api v1 REMOVED'
keys R
check "rollback dialog says what it undoes" on_screen 5 'undoes v2'
confirm_typed "tui test: rollback"
check "rollback done" on_screen 10 'rollback api: (sent|done)'
eventually 60 "the front serves v1 again" serves v1

# ---- v3 fails, v1 keeps serving ----------------------------------------------------------
set_source v3
keys g D
confirm_typed "tui test: deploy v3"
check "the v3 deployment shows FAILED" on_screen 90 'FAILED +api +[0-9a-f]{8} +v3'
check "v1 still serves" serves v1
check "the deployments badge counts the failure" on_screen 5 '3 Deploys \(1 failed\)'
set_source v1

# ---- restart -------------------------------------------------------------------------
before=$(curl -s --max-time 3 "$SANDBOX_API_HTTP_URL/health" | jq -r .instance)
keys X
check "restart asks" on_screen 5 'Restart api in production'
confirm_typed "tui test: restart"
check "restart done" on_screen 15 'restart api: done'
eventually 30 "v1 serves after the restart" serves v1

# ---- scale to 3 and back ------------------------------------------------------------------
esc
keys 4
check "replicas pane: api 2/2" on_screen 10 'api +us-west2 +2/2'
keys : ; typed "scale api 3" ; keys Enter
check "scale plan: api 2 → 3" on_screen 5 'api: 2 → 3 replicas in us-west2'
confirm_typed "tui test: scale up"
check "api converges to 3/3" on_screen 60 'api +us-west2 +3/3'
keys : ; typed "scale api 2" ; keys Enter
confirm_typed "tui test: scale down"
check "api back to 2/2" on_screen 60 'api +us-west2 +2/2'
keys : ; typed "scale api 0" ; keys Enter
check "scaling to 0 warns and is confirmed twice" on_screen 5 'Scale api in production'
esc
check "cancelled: nothing changed" on_screen 5 'api +us-west2 +2/2'

# ---- a variable, a redeploy, /health shows it ---------------------------------------------
keys 5
check "vars pane: api's FLAGS_ENV masked" on_screen 10 'FLAGS_ENV +•••• \(10 bytes'
keys : ; typed "var-set FLAGS_ENV staging" ; keys Enter
confirm_typed "tui test: var-set"
check "var-set done (staged)" on_screen 15 'var-set api FLAGS_ENV: done'
check "a redeploy is offered at once, to apply it" on_screen 10 'Redeploy api in production'
check "the offer says what it applies, and what Cancel means" on_screen 5 'FLAGS_ENV set takes effect now; Cancel leaves it for the next deploy'
esc
check "declined: the offer is gone" bash -c '! tmux -L "$0" capture-pane -p | grep -q "Redeploy api in production"' "$SOCK-$RUNS"
# the serving deployment: filtered to api, under the failed v3
keys 3
filter_to api
keys g j
check "the serving v1 deployment is selected" on_screen 5 'api v1 SUCCESS +● serving'
keys : ; typed "redeploy" ; keys Enter
confirm_typed "tui test: redeploy"
check "redeploy done" on_screen 15 'redeploy api: done'
health_env() { health_is "$SANDBOX_API_HTTP_URL/health" 200 '.env == "staging"'; }
eventually 60 "/health shows env staging after the redeploy" health_env

# ---- reveal ----------------------------------------------------------------------------------
keys 5 g
filter_to FLAGS_ENV
keys E
check "reveal asks (protected environment)" on_screen 5 'Reveal FLAGS_ENV of api in production'
sleep 0.4
keys Tab Enter
check "the value shows: staging" on_screen 10 'FLAGS_ENV +staging'
keys j
hidden() { ! screen | grep -Eq 'FLAGS_ENV +staging'; }
eventually 5 "moving away hides it again" hidden
tui_stop

# ---- read-only ------------------------------------------------------------------------------
tui_start -- --read-only
check "read-only console starts" on_screen 15 'SUCCESS +api'
keys 3 D
check "deploy refused in read-only mode" on_screen 5 'deploy refused'
tui_stop

# ---- the audit trail --------------------------------------------------------------------------
check "audit: deploy allowed then ok" audit_has '.action == "deploy" and .result == "ok" and .reason == "tui test: deploy v2"'
check "audit: rollback ok" audit_has '.action == "rollback" and .result == "ok"'
check "audit: the v3 deploy was sent (ok: the API accepted it)" audit_has '.action == "deploy" and .reason == "tui test: deploy v3" and .result == "ok"'
check "audit: restart ok" audit_has '.action == "restart" and .result == "ok"'
check "audit: scale 2 → 3 ok" audit_has '.action == "scale" and .result == "ok" and .reason == "tui test: scale up"'
check "audit: scale to 0 cancelled" audit_has '.action == "scale" and .result == "cancelled"'
check "audit: var-set ok, value not in it" audit_has '.action == "var-set" and .result == "ok" and .params.value.secret == true'
check "audit: reveal ok" audit_has '.action == "var-reveal" and .result == "ok"'
check "audit: the declined redeploy offer is recorded as cancelled" audit_has '.action == "redeploy" and .result == "cancelled"'
check "audit: read-only deploy refused" audit_has '.action == "deploy" and .result == "refused"'
check "audit: every line has time, operator, project, environment" bash -c \
	'jq -e -s "all(.[]; .time and .operator and .project == \"sandbox\" and .environment == \"production\")" "$0" >/dev/null' "$AUDIT"
check "audit: the secret value never appears" bash -c '! grep -q "\"staging\"" "$0"' "$AUDIT"
