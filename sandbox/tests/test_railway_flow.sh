#!/usr/bin/env bash
# sandbox: the Railway API emulator inside the full, real sandbox, end to end
# through its GraphQL API: up → every part healthy → deploy v2 → the front
# serves v2 → rollback → v1 served → scale api to 3 → 3 replicas answer →
# variable upsert + redeploy seen by the replicas → a deploymentLogs
# subscription receives the app's lines with the right severity → each
# emulator fault (kill-replica, crash-loop, rate-limit, ws-drop, slow-api)
# visible and recovered → volume backup create and restore through GraphQL,
# row counts checked → down leaves no process and no port open.
# GraphQL goes through railway_gql.js (next to this script).
. "$(dirname "$0")/lib.sh"
t_setup 30400

GQL=$T_SANDBOX/tests/railway_gql.js
TMP=$SANDBOX_RUN_DIR.tmp
mkdir -p "$TMP"
SUB_PIDS=
cleanup() {
	local p
	for p in $SUB_PIDS; do kill "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap 'rc=$?; cleanup; (exit "$rc"); t_teardown' EXIT

gql() { node "$GQL" query "$@"; }                   # DOC [VARS]: .data as JSON
gql_raw() { node "$GQL" raw "$@"; }
wait_dep() { node "$GQL" wait-deployment "$@"; }    # ID STATUSES TIMEOUT_S
# subscribe NAME DOC VARS [options]: a subscription in the background, its
# payloads in $TMP/NAME.out, stderr in $TMP/NAME.err, pid in SUB_PID.
subscribe() {
	local name=$1
	shift
	rm -f "$TMP/$name.ready"
	node "$GQL" subscribe "$@" --ready "$TMP/$name.ready" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	SUB_PID=$!
	SUB_PIDS+=" $SUB_PID"
}
# wait_sub PID SECONDS: its exit code (124 when it did not end in time).
wait_sub() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$1" 2>/dev/null; then
		kill "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		return 124
	fi
	wait "$1"
}
ms_now() { date +%s%3N; }
lap() { echo "# $1: $(($(ms_now) - LAP)) ms"; LAP=$(ms_now); }
# The api front's /health, N times: one line per answer, "CODE VERSION INSTANCE".
front_health() {
	local i out
	for ((i = 0; i < $1; i++)); do
		out=$(curl -s -w '\n%{http_code}' --max-time 3 --noproxy '*' "$SANDBOX_API_HTTP_URL/health")
		echo "${out##*$'\n'} $(jq -r '"\(.version) \(.instance)"' <<<"${out%$'\n'*}" 2>/dev/null)"
	done
}
# served VERSION [N]: N answers from the api front, all 200 with VERSION.
served() {
	local bad
	bad=$(front_health "${2:-10}" | awk -v v="$1" '$1 != 200 || $2 != v')
	[[ -z $bad ]] || { echo "# unexpected answers: $(tr '\n' ';' <<<"$bad")" >&2; return 1; }
}
# instances N: distinct instances among N answers of the api front.
instances() { front_health "$1" | awk '$1 == 200 { print $3 }' | sort -u; }
# newest deployment of a service: its JSON node.
newest() {
	gql 'query($s: String!, $e: String!) { deployments(first: 1, input: { serviceId: $s, environmentId: $e }) { edges { node { id status meta } } } }' \
		"{\"s\":\"$1\",\"e\":\"$E\"}" | jq -c '.deployments.edges[0].node'
}
# the active (SUCCESS) deployment of a service: its id.
active() {
	gql 'query($s: String!, $e: String!) { deployments(first: 1, input: { serviceId: $s, environmentId: $e, status: { in: [SUCCESS, CRASHED] } }) { edges { node { id } } } }' \
		"{\"s\":\"$1\",\"e\":\"$E\"}" | jq -r '.deployments.edges[0].node.id'
}
deploy() {        # SERVICE_ID VERSION: the new deployment's id
	gql 'mutation($s: String!, $e: String!, $c: String) { serviceInstanceDeployV2(serviceId: $s, environmentId: $e, commitSha: $c) }' \
		"{\"s\":\"$1\",\"e\":\"$E\",\"c\":\"$2\"}" | jq -r '.serviceInstanceDeployV2'
}
running_instances() {   # DEPLOYMENT_ID: how many of its instances are RUNNING
	gql 'query($id: String!) { deployment(id: $id) { instances { status } } }' "{\"id\":\"$1\"}" |
		jq '[.deployment.instances[] | select(.status == "RUNNING")] | length'
}
counts() {
	psql_app -c "select (select count(*) from customers) || ' ' || (select count(*) from orders) || ' ' || (select count(*) from order_items)"
}

# ---- up: every part healthy -----------------------------------------------------
LAP=$(ms_now)
t_up
lap "up"
E=$RAILWAY_ENVIRONMENT_ID
check "status --json: every part ok" bash -c '"$0/status" --json | jq -e ".ok == true" >/dev/null' "$T_SANDBOX"
check "emulator /healthz: ok, every service SUCCESS" bash -c \
	'curl -s --max-time 3 "http://127.0.0.1:$0/healthz" | jq -e ".status == \"ok\" and ([.services[]] | all(. == \"SUCCESS\")) and (.services | has(\"api\") and has(\"ws\") and has(\"worker\") and has(\"billing\") and has(\"postgres\"))"' "$P_EMU"
for url in "$SANDBOX_API_URL/health" "$SANDBOX_API_HTTP_URL/health" "$SANDBOX_BILLING_URL/health" "$SANDBOX_WORKER_URL/health"; do
	check "$url: 200, db ok, redis ok, v1" health_is "$url" 200 '.status == "ok" and .db == "ok" and .redis == "ok" and .version == "v1"'
done
check "ws /health: 200, redis ok" health_is "http://127.0.0.1:$P_WS/health" 200 '.status == "ok" and .redis == "ok"'

proj=$(gql "{ project(id: \"$RAILWAY_PROJECT_ID\") { services { edges { node { id name } } } } }") || bail "GraphQL project query with the account token"
svc_id() { jq -r --arg n "$1" '.project.services.edges[].node | select(.name == $n) | .id' <<<"$proj"; }
API=$(svc_id api) PGSVC=$(svc_id postgres)
[[ -n $API && -n $PGSVC && -n $E ]] || bail "service ids of api and postgres, environment id ($API, $PGSVC, $E)"
services_ok() { jq -e '[.project.services.edges[].node.name] | sort == ["api", "billing", "postgres", "worker", "ws"]' <<<"$proj"; }
check "GraphQL: the project has api, ws, worker, billing, postgres" services_ok
si=$(gql "{ serviceInstance(environmentId: \"$E\", serviceId: \"$API\") { numReplicas source { image } latestDeployment { id status } } }")
check "GraphQL: api runs 2 replicas of sandbox-app:v1, SUCCESS" jq -e \
	'.serviceInstance | .numReplicas == 2 and .source.image == "sandbox-app:v1" and .latestDeployment.status == "SUCCESS"' <<<"$si"
D1=$(jq -r '.serviceInstance.latestDeployment.id' <<<"$si")
check "its 2 instances are RUNNING" test "$(running_instances "$D1")" = 2
lap "health checks"

# ---- deploy v2 through GraphQL; the front serves v2 -----------------------------------
D2=$(deploy "$API" v2)
check "serviceInstanceDeployV2(commitSha: v2) answers a deployment id" test -n "$D2" -a "$D2" != null
check "v2 deployment reaches SUCCESS" wait_dep "$D2" SUCCESS 60
check "the api front serves v2 only (HTTP)" served v2 12
check "the HTTPS front serves v2" health_is "$SANDBOX_API_URL/health" 200 '.version == "v2"'
check "the v1 deployment is REMOVED" wait_dep "$D1" REMOVED 20
lap "deploy v2"

# ---- rollback to v1 --------------------------------------------------------------------
check "deploymentRollback to the v1 deployment" bash -c '[[ $(node "$0" query "mutation(\$id: String!) { deploymentRollback(id: \$id) }" "{\"id\":\"$1\"}") == "{\"deploymentRollback\":true}" ]]' "$GQL" "$D1"
rb=$(newest "$API")
RB=$(jq -r .id <<<"$rb")
check "a new rollback deployment targets the v1 one" jq -e --arg t "$D1" '.meta.reason == "rollback" and .meta.rollbackTargetDeploymentId == $t and .meta.version == "v1"' <<<"$rb"
check "rollback deployment reaches SUCCESS" wait_dep "$RB" SUCCESS 60
check "the api front serves v1 only" served v1 12
check "the v2 deployment is REMOVED" wait_dep "$D2" REMOVED 20
lap "rollback"

# ---- scale api to 3 ----------------------------------------------------------------------
scale() {
	gql 'mutation($e: String!, $p: EnvironmentConfig) { environmentPatchCommit(environmentId: $e, patch: $p, commitMessage: "scale api") }' \
		"{\"e\":\"$E\",\"p\":{\"services\":{\"$API\":{\"deploy\":{\"multiRegionConfig\":{\"us-west2\":{\"numReplicas\":$1}}}}}}}" >/dev/null
}
check "environmentPatchCommit: api numReplicas 3" scale 3
eventually 30 "3 distinct replicas answer on the api front" bash -c "$(declare -f front_health instances); export SANDBOX_API_HTTP_URL=$SANDBOX_API_HTTP_URL; test \"\$(instances 15 | wc -l)\" = 3"
check "scaled in place: still the same deployment, 3 instances RUNNING" test "$(active "$API"):$(running_instances "$RB")" = "$RB:3"
check "serviceInstance numReplicas is 3" bash -c '[[ $(node "$0" query "{ serviceInstance(environmentId: \"$1\", serviceId: \"$2\") { numReplicas } }" | jq .serviceInstance.numReplicas) == 3 ]]' "$GQL" "$E" "$API"
check "scale back to 2" scale 2
eventually 30 "2 replicas answer again" bash -c "$(declare -f front_health instances); export SANDBOX_API_HTTP_URL=$SANDBOX_API_HTTP_URL; test \"\$(instances 12 | wc -l)\" = 2"
lap "scale"

# ---- a variable upsert redeploys; the new replicas run with it -------------------------------
# The variable is FLAGS_ENV: /health reports it as "env" (a key the console
# reads as the service's, not a component), and so does GET /flags.
upsert() {      # NAME VALUE
	gql 'mutation($p: String!, $e: String!, $s: String, $n: String!, $v: String!) { variableUpsert(input: { projectId: $p, environmentId: $e, serviceId: $s, name: $n, value: $v }) }' \
		"{\"p\":\"$RAILWAY_PROJECT_ID\",\"e\":\"$E\",\"s\":\"$API\",\"n\":\"$1\",\"v\":\"$2\"}" | jq -e '.variableUpsert == true' >/dev/null
}
flags_env() {   # ENV N: every one of N answers of GET /flags says ENV
	local i
	for ((i = 0; i < $2; i++)); do
		[[ $(curl -s --max-time 3 "$SANDBOX_API_HTTP_URL/flags" | jq -r .env) == "$1" ]] || return 1
	done
}
before=$(instances 8)
check "variableUpsert FLAGS_ENV=staging on api" upsert FLAGS_ENV staging
dv=$(newest "$API")
DV=$(jq -r .id <<<"$dv")
check "it made a new deployment (reason variables)" jq -e --arg old "$RB" '.id != $old and .meta.reason == "variables"' <<<"$dv"
check "the variables deployment reaches SUCCESS" wait_dep "$DV" SUCCESS 60
check "variables query: FLAGS_ENV = staging" bash -c '[[ $(node "$0" query "{ variables(projectId: \"$1\", environmentId: \"$2\", serviceId: \"$3\") }" | jq -r .variables.FLAGS_ENV) == staging ]]' "$GQL" "$RAILWAY_PROJECT_ID" "$E" "$API"
after=$(instances 8)
check "/health: healthy v1 from new instances only ($(echo $after))" bash -c \
	'[[ $(wc -l <<<"$1") == 2 && -z $(comm -12 <(echo "$0") <(echo "$1")) ]]' "$before" "$after"
check "/health is 200 ok on every replica" served v1 6
health_env() {  # ENV N: every one of N /health answers says env ENV
	local i
	for ((i = 0; i < $2; i++)); do
		health_is "$SANDBOX_API_HTTP_URL/health" 200 ".env == \"$1\"" || return 1
	done
}
check "/health shows env staging on every replica" health_env staging 6
check "the replicas read flags:staging (GET /flags env)" flags_env staging 6
check "variableUpsert FLAGS_ENV=production" upsert FLAGS_ENV production
DV2=$(jq -r .id <<<"$(newest "$API")")
check "that redeploy reaches SUCCESS" bash -c '[[ $0 != "$1" ]] && node "$2" wait-deployment "$0" SUCCESS 60 >/dev/null' "$DV2" "$DV" "$GQL"
check "the replicas read flags:production again" flags_env production 6
lap "variables"

# ---- logs subscription: the app's lines with their severity -----------------------------------
DL=$(active "$API")
subscribe logs 'subscription($id: String!) { deploymentLogs(deploymentId: $id, limit: 1) { timestamp message severity attributes { key value } tags { deploymentId serviceId } } }' \
	"{\"id\":\"$DL\"}" --timeout 40 --until '"GET /orders 200"' --until '"GET /no-such-route 404"' --until '"GET /customers/1 500"'
LOGS_PID=$SUB_PID
eventually 10 "deploymentLogs subscription is live (graphql-transport-ws, token in connection_init)" test -e "$TMP/logs.ready"
curl -s -o /dev/null --max-time 5 -H 'X-Request-Id: rflow-info' "$SANDBOX_API_HTTP_URL/orders?limit=1"
curl -s -o /dev/null --max-time 5 -H 'X-Request-Id: rflow-warn' "$SANDBOX_API_HTTP_URL/no-such-route"
check "fault error-spike on --percent 100" "$T_SANDBOX/fault" error-spike on --percent 100
spike_500() { [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'X-Request-Id: rflow-error' "$SANDBOX_API_HTTP_URL/customers/1") == 500 ]]; }
eventually 5 "GET /customers/1 answers 500" spike_500
check "fault error-spike off" "$T_SANDBOX/fault" error-spike off
wait_sub "$LOGS_PID" 20
rc=$?
check "the subscription received the info, warn and error lines (rc $rc)" test "$rc" = 0
[[ $rc == 0 ]] || sed 's/^/#   /' "$TMP/logs.err"
lines=$(jq -c '.data.deploymentLogs[]' "$TMP/logs.out" 2>/dev/null)
line() { jq -c --arg m "$1" 'select(.message == $m)' <<<"$lines" | head -n1; }
reqid() { jq -r '.attributes[] | select(.key == "request_id") | .value' <<<"$1"; }
l_info=$(line "GET /orders 200") l_warn=$(line "GET /no-such-route 404") l_err=$(line "GET /customers/1 500")
l_up=$(line "upstream payments service returned 502 Bad Gateway")
check "GET /orders 200: severity info, request_id attribute" test "$(jq -r .severity <<<"$l_info") $(reqid "$l_info")" = 'info "rflow-info"'
check "GET /no-such-route 404: severity warn" test "$(jq -r .severity <<<"$l_warn")" = warn
check "GET /customers/1 500: severity error" test "$(jq -r .severity <<<"$l_err")" = error
spike_line_ok() { jq -e '.severity == "error" and any(.attributes[]; .key == "fault" and .value == "\"error-spike\"")' <<<"$l_up"; }
check "the error-spike line: severity error, fault attribute" spike_line_ok
all_tagged() { jq -se --arg d "$DL" --arg s "$API" 'length > 3 and all(.tags.deploymentId == $d and .tags.serviceId == $s)' <<<"$lines"; }
check "every line is tagged with the api deployment and service" all_tagged
ts_ok() {
	jq -se '[.[].timestamp] | all(test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{9}Z$")) and . == sort and (unique | length) == length' <<<"$lines"
}
check "timestamps are RFC 3339 with nanoseconds and increase" ts_ok
lap "logs subscription"

# ---- emulator faults -----------------------------------------------------------------------------
# kill-replica: CRASHED, restarted by the restart policy, SUCCESS again.
DK=$(active "$API")
subscribe dep 'subscription($id: String!) { deployment(id: $id) { id status instances { id status } } }' "{\"id\":\"$DK\"}" \
	--timeout 40 --until '"status":"CRASHED","instances"' --until '"status":"SUCCESS","instances"'
DEP_PID=$SUB_PID
eventually 10 "deployment subscription is live" test -e "$TMP/dep.ready"
seq0=$(curl -s --max-time 3 "http://127.0.0.1:$P_EMU/admin/events?limit=1" | jq .lastSeq)
out=$("$T_SANDBOX/fault" kill-replica on --service api 2>&1)
kill_json=$(sed -n 's/^[^{]*//p' <<<"$out" | head -n1)
kpid=$(jq -r '.pid // empty' <<<"$kill_json" 2>/dev/null)
krep=$(jq -r '.replicaId // empty' <<<"$kill_json" 2>/dev/null)
check "fault kill-replica killed an api replica (pid $kpid)" test -n "$kpid" -a -n "$krep"
eventually 5 "the killed process is gone" bash -c '! kill -0 "$0" 2>/dev/null' "${kpid:-0}"
wait_sub "$DEP_PID" 30
rc=$?
check "deployment subscription: CRASHED, then SUCCESS (rc $rc)" test "$rc" = 0
[[ $rc == 0 ]] || sed 's/^/#   /' "$TMP/dep.err"
check "the deployment is SUCCESS with 2 instances RUNNING" test "$(wait_dep "$DK" SUCCESS 30):$(running_instances "$DK")" = SUCCESS:2
check "the same replica restarted with a new process" bash -c \
	'curl -s --max-time 3 "http://127.0.0.1:$0/admin/events?since=$1&type=replica" | jq -e --arg r "$2" --argjson p "$3" "any(.events[]; .type == \"replica.start\" and .replicaId == \$r and .pid != \$p)" >/dev/null' \
	"$P_EMU" "$seq0" "$krep" "${kpid:-0}"
check "the front serves v1 from 2 replicas" bash -c "$(declare -f front_health instances served); export SANDBOX_API_HTTP_URL=$SANDBOX_API_HTTP_URL; served v1 8 && test \"\$(instances 8 | wc -l)\" = 2"
lap "kill-replica"

# crash-loop: the next deploy crashes at boot and FAILS, the old one keeps serving.
check "fault crash-loop on --service api" "$T_SANDBOX/fault" crash-loop on --service api
DC=$(deploy "$API" v2)
check "a v2 deploy under crash-loop ends FAILED" wait_dep "$DC" FAILED 90
check "the front still serves v1" served v1 8
check "the boot failure is an error line in the deployment's logs" bash -c \
	'node "$0" query "query(\$id: String!) { deploymentLogs(deploymentId: \$id, limit: 500, filter: \"@level:error\") { message severity } }" "{\"id\":\"$1\"}" |
		jq -e "any(.deploymentLogs[]; (.message | test(\"boot failed: migration 0042\")) and .severity == \"error\")" >/dev/null' "$GQL" "$DC"
check "fault crash-loop off" "$T_SANDBOX/fault" crash-loop off --service api
DG=$(deploy "$API" v2)
check "the next v2 deploy reaches SUCCESS" wait_dep "$DG" SUCCESS 60
check "the front serves v2" served v2 8
lap "crash-loop"

# rate-limit: 429 with Retry-After until off.
check "fault rate-limit on --seconds 30" "$T_SANDBOX/fault" rate-limit on --seconds 30
r=$(gql_raw '{ me { name } }')
check "GraphQL answers 429, Retry-After 1..30, code RATE_LIMITED" jq -e \
	'.status == 429 and (.headers["retry-after"] | tonumber) >= 1 and (.headers["retry-after"] | tonumber) <= 30 and .body.errors[0].extensions.code == "RATE_LIMITED"' <<<"$r"
node "$GQL" subscribe "subscription { environmentLogs(environmentId: \"$E\", beforeLimit: 1) { message } }" --timeout 10 >/dev/null 2>"$TMP/rl.err"
rc=$?
check "a subscription is refused too (rc $rc)" bash -c '[[ $0 == 3 ]] && grep -q "Rate limit exceeded" "$1"' "$rc" "$TMP/rl.err"
check "fault rate-limit off" "$T_SANDBOX/fault" rate-limit off
r=$(gql_raw '{ me { name } }')
check "GraphQL answers 200 again with budget left" jq -e \
	'.status == 200 and (.headers["x-ratelimit-remaining"] | tonumber) > 0 and .body.data.me.name != null' <<<"$r"
lap "rate-limit"

# ws-drop: live subscriptions dropped, new ones refused until off.
subscribe drop "subscription { environmentLogs(environmentId: \"$E\", beforeLimit: 1) { message } }" '' --timeout 40 --until 'no-such-line-ever'
DROP_PID=$SUB_PID
eventually 10 "an environmentLogs subscription is live" test -e "$TMP/drop.ready"
check "fault ws-drop on" "$T_SANDBOX/fault" ws-drop on
wait_sub "$DROP_PID" 10
rc=$?
check "the live subscription is dropped: closed 1006 (rc $rc)" bash -c '[[ $0 == 3 ]] && grep -q "closed 1006" "$1"' "$rc" "$TMP/drop.err"
node "$GQL" subscribe "subscription { environmentLogs(environmentId: \"$E\", beforeLimit: 1) { message } }" --timeout 10 >/dev/null 2>"$TMP/drop2.err"
rc=$?
check "a new subscription is refused while on (rc $rc: $(head -c 80 "$TMP/drop2.err"))" test "$rc" = 3
check "fault ws-drop off" "$T_SANDBOX/fault" ws-drop off
check "subscriptions work again" node "$GQL" subscribe "subscription { environmentLogs(environmentId: \"$E\", beforeLimit: 1) { message } }" --timeout 10
lap "ws-drop"

# slow-api: GraphQL answers after 5 s until off.
check "fault slow-api on" "$T_SANDBOX/fault" slow-api on
r=$(gql_raw '{ me { name } }' --timeout 20)
check "a query takes >= 4.5 s and still answers ($(jq .ms <<<"$r") ms)" jq -e '.status == 200 and .ms >= 4500 and .body.data.me.name != null' <<<"$r"
check "fault slow-api off" "$T_SANDBOX/fault" slow-api off
r=$(gql_raw '{ me { name } }')
check "a query takes < 1 s again ($(jq .ms <<<"$r") ms)" jq -e '.status == 200 and .ms < 1000' <<<"$r"
check "fault list: nothing on" bash -c '! "$0/fault" list | grep -q " on "' "$T_SANDBOX"
check "emulator /healthz ok after the faults" bash -c \
	'curl -s --max-time 3 "http://127.0.0.1:$0/healthz" | jq -e ".status == \"ok\"" >/dev/null' "$P_EMU"
lap "slow-api"

# ---- volume backup and restore through GraphQL ---------------------------------------------------
vis=$(gql "{ environment(id: \"$E\") { volumeInstances { edges { node { id state serviceId volume { name } } } } } }")
VI=$(jq -r '.environment.volumeInstances.edges[0].node.id' <<<"$vis")
check "the postgres volume instance is READY" jq -e --arg s "$PGSVC" \
	'.environment.volumeInstances.edges[0].node | .serviceId == $s and .state == "READY"' <<<"$vis"
at_backup=$(counts)
echo "# rows at backup (customers orders items): $at_backup"
name=railway-flow-$$
wf=$(gql "mutation { volumeInstanceBackupCreate(volumeInstanceId: \"$VI\", name: \"$name\") { workflowId } }" | jq -r .volumeInstanceBackupCreate.workflowId)
check "volumeInstanceBackupCreate answers a workflow" test -n "$wf" -a "$wf" != null
check "the backup workflow completes" node "$GQL" wait-workflow "$wf" 120
bk=$(gql "{ volumeInstanceBackupList(volumeInstanceId: \"$VI\") { id externalId name } }" | jq -c --arg n "$name" '[.volumeInstanceBackupList[] | select(.name == $n)][0]')
BK=$(jq -r .id <<<"$bk") BKX=$(jq -r .externalId <<<"$bk")
check "volumeInstanceBackupList has it ($BKX)" test -n "$BK" -a "$BK" != null
check "pgBackRest knows that backup" bash -c \
	'runuser -u postgres -- pgbackrest --config="$PGBACKREST_CONFIG" --stanza=main --output=json info | jq -e --arg l "$0" "any(.[0].backup[]; .label == \$l)" >/dev/null' "$BKX"
lap "backup"
for i in 1 2 3; do
	curl -s -o /dev/null --max-time 5 -X POST "$SANDBOX_API_HTTP_URL/orders"
done
now=$(counts)
check "rows written after the backup ($now)" test "$now" != "$at_backup"
wf=$(gql "mutation { volumeInstanceBackupRestore(volumeInstanceId: \"$VI\", volumeInstanceBackupId: \"$BK\") { workflowId } }" | jq -r .volumeInstanceBackupRestore.workflowId)
check "volumeInstanceBackupRestore: the workflow completes" node "$GQL" wait-workflow "$wf" 60
staged_ok() {
	gql "{ environmentStagedChanges(environmentId: \"$E\") { status patch } }" |
		jq -e --arg x "$BKX" '.environmentStagedChanges | .status == "STAGED" and ([.patch.volumes[]][0].backupRestore.externalId == $x)'
}
check "the restore is a staged change (environmentStagedChanges)" staged_ok
check "nothing restored before the commit" test "$(counts)" = "$now"
check "environmentPatchCommitStaged" bash -c \
	'node "$0" query "mutation { environmentPatchCommitStaged(environmentId: \"$1\", commitMessage: \"restore $2\") }" >/dev/null' "$GQL" "$E" "$name"
rd=$(newest "$PGSVC")
RD=$(jq -r .id <<<"$rd")
check "a postgres deployment does the restore" jq -e '.meta.reason == "restore"' <<<"$rd"
check "the restore deployment reaches SUCCESS" wait_dep "$RD" SUCCESS 120
restored=$(counts)
echo "# rows after the restore: $restored"
check "row counts equal those at the backup ($at_backup)" test "$restored" = "$at_backup"
eventually 20 "api /health recovers (200, db ok)" health_is "$SANDBOX_API_HTTP_URL/health" 200 '.status == "ok" and .db == "ok"'
check "the volume is READY again" bash -c \
	'node "$0" query "{ volumeInstance(id: \"$1\") { state } }" | jq -e ".volumeInstance.state == \"READY\"" >/dev/null' "$GQL" "$VI"
check "the api writes again" test "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST "$SANDBOX_API_HTTP_URL/orders")" = 201
lap "restore"

# ---- down: nothing left -----------------------------------------------------------------------
pids=$(cat "$SANDBOX_RUN_DIR"/pids/*.pid 2>/dev/null | tr '\n' ' ')
pids+=" $(head -n1 "$SANDBOX_PG_DATA/postmaster.pid" 2>/dev/null)"
pids+=" $(curl -s --max-time 3 "http://127.0.0.1:$P_EMU/admin/state" | jq -r '.pids[]?' | tr '\n' ' ')"
echo "# pids before down: $pids"
check "sandbox/down succeeds" "$T_SANDBOX/down"
alive() {       # a pid that exists and is not a zombie
	local p
	for p in $1; do
		kill -0 "$p" 2>/dev/null && [[ $(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) != Z ]] && return 0
	done
	return 1
}
eventually 5 "no process of ours is left (emulator, replicas, postgres, redis)" bash -c "$(declare -f alive); ! alive '$pids'"
check "no port in $SANDBOX_PORT_BASE..$P_LAST listens" bash -c \
	'! ss -Hltn | awk "{n = split(\$4, a, \":\"); p = a[n] + 0; if (p >= $0 && p <= $1) bad = 1} END {exit !bad}"' "$SANDBOX_PORT_BASE" "$P_LAST"
check "status after down exits 1" bash -c '"$0/status" >/dev/null 2>&1; test $? = 1' "$T_SANDBOX"
lap "down"
