'use strict';
// Real effects through GraphQL, against the stand-in app: blue-green deploys,
// a failing deploy that leaves the old version serving, rollback, scaling,
// variables, restart, restart policy, logs over graphql-transport-ws, faults,
// metrics, and a clean teardown.

const test = require('node:test');
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const { startEmulator, request, until, collect, alive, sleep, IDS } = require('./helpers');

const ENV = IDS.production;
const API = IDS.api;

const DEPLOYMENTS = `query D($s: String!, $e: String!) {
  deployments(first: 50, input: { serviceId: $s, environmentId: $e }) {
    edges { node { id status createdAt canRollback canRedeploy meta instances { id status } } }
  }
}`;

async function deploymentsOf(emu, svc = API) {
  return (await emu.q(DEPLOYMENTS, { s: svc, e: ENV })).deployments.edges.map((e) => e.node);
}
async function statusOf(emu, id) {
  return (await emu.q('query($id: String!) { deployment(id: $id) { status } }', { id })).deployment.status;
}
async function waitStatus(emu, id, wanted, timeout = 20000) {
  const set = Array.isArray(wanted) ? wanted : [wanted];
  return until(async () => { const s = await statusOf(emu, id); return set.includes(s) ? s : false; }, { timeout, what: `deployment ${id} ${set.join('|')}` });
}
async function versionsServed(emu, n = 8) {
  const out = new Set();
  for (let i = 0; i < n; i++) {
    const r = await emu.front('api');
    assert.equal(r.status, 200, `front answered ${r.status}: ${r.text}`);
    out.add(r.json.version);
  }
  return [...out].sort();
}
async function replicasServed(emu, n = 12) {
  const out = new Set();
  for (let i = 0; i < n; i++) out.add((await emu.front('api')).json.replica);
  return out;
}
async function deploy(emu, commitSha) {
  const d = await emu.q('mutation($s: String!, $e: String!, $c: String) { serviceInstanceDeployV2(serviceId: $s, environmentId: $e, commitSha: $c) }', { s: API, e: ENV, c: commitSha });
  return d.serviceInstanceDeployV2;
}
async function statusEvents(emu, id) {
  const ev = await emu.events();
  return ev.events.filter((e) => e.type === 'deployment.status' && e.deploymentId === id).map((e) => e.to);
}

test('deploy, fail, rollback, scale, variables, restart, restart policy, logs, faults, teardown', { timeout: 110000 }, async (t) => {
  const emu = await startEmulator({ tls: true, timing: { buildMs: 300 } });
  let stopped = false;
  t.after(async () => { if (!stopped) await emu.stop(); });

  let initial;
  await t.test('boot: every service deployed, the fronts serve v1 over HTTP and HTTPS', async () => {
    const deps = await deploymentsOf(emu);
    assert.equal(deps.length, 1);
    initial = deps[0];
    assert.equal(initial.status, 'SUCCESS');
    assert.equal(initial.instances.length, 2);
    assert.ok(initial.instances.every((i) => i.status === 'RUNNING'));
    assert.deepEqual(await versionsServed(emu), ['v1']);
    const r = await request(`https://127.0.0.1:${emu.fronts.api.https}/health`, { ca: require('node:fs').readFileSync(emu.tls.ca) });
    assert.equal(r.status, 200);
    assert.equal(r.json.version, 'v1');
    assert.equal(r.headers['strict-transport-security'], 'max-age=63072000', 'app headers pass through');
    assert.ok(r.headers['x-railway-request-id']);
    const si = await emu.q(`{ serviceInstance(environmentId: "${ENV}", serviceId: "${API}") { numReplicas serviceName domains { serviceDomains { domain } } latestDeployment { id } source { image } } }`);
    assert.equal(si.serviceInstance.numReplicas, 2);
    assert.equal(si.serviceInstance.domains.serviceDomains[0].domain, `127.0.0.1:${emu.fronts.api.https}`);
    assert.equal(si.serviceInstance.source.image, 'sandbox-app:v1');
    // staging exists but was never deployed
    const st = await emu.q(`{ serviceInstance(environmentId: "${IDS.staging}", serviceId: "${API}") { latestDeployment { id } } }`);
    assert.equal(st.serviceInstance.latestDeployment, null);
  });

  let v2;
  await t.test('deploy v2: BUILDING → DEPLOYING → SUCCESS, blue-green with no failed request, old deployment REMOVED', async () => {
    let failures = 0;
    let requests = 0;
    let hammering = true;
    const hammer = (async () => {
      while (hammering && requests < 2000) {
        const r = await emu.front('api').catch(() => ({ status: 0 }));
        requests++;
        if (r.status !== 200) failures++;
      }
    })();
    v2 = await deploy(emu, 'v2');
    const client = emu.wsClient();
    const got = await collect(client, { query: 'subscription($id: String!) { deployment(id: $id) { id status } }', variables: { id: v2 } }, {
      n: 100, timeout: 15000, stop: (v) => v.data.deployment.status === 'SUCCESS',
    });
    const seen = got.map((v) => v.data.deployment.status);
    await client.dispose();
    await waitStatus(emu, v2, 'SUCCESS');
    await waitStatus(emu, initial.id, 'REMOVED');
    hammering = false;
    await hammer;
    assert.deepEqual(await statusEvents(emu, v2), ['BUILDING', 'DEPLOYING', 'SUCCESS']);
    assert.deepEqual(await statusEvents(emu, initial.id), ['BUILDING', 'DEPLOYING', 'SUCCESS', 'REMOVING', 'REMOVED']);
    assert.ok(seen.includes('SUCCESS'), `subscription saw ${seen}`);
    assert.deepEqual(await versionsServed(emu), ['v2']);
    assert.ok(requests > 5, `only ${requests} requests during the deploy`);
    assert.equal(failures, 0, `${failures} of ${requests} requests failed during the blue-green switch`);
    const logs = await emu.q('query($id: String!) { buildLogs(deploymentId: $id) { message } }', { id: v2 });
    assert.ok(logs.buildLogs.some((l) => /sandbox-app:v2/.test(l.message)));
  });

  let v3;
  await t.test('deploy v3 (crashes at boot): FAILED, v2 keeps serving, the crash is in its logs', async () => {
    v3 = await deploy(emu, 'v3');
    await waitStatus(emu, v3, 'FAILED');
    assert.deepEqual(await versionsServed(emu), ['v2']);
    assert.equal(await statusOf(emu, v2), 'SUCCESS');
    const l = await emu.q('query($id: String!) { deploymentLogs(deploymentId: $id, limit: 500, filter: "@level:error") { message severity } }', { id: v3 });
    assert.ok(l.deploymentLogs.some((x) => /fatal: v3 cannot start/.test(x.message) && x.severity === 'error'), JSON.stringify(l.deploymentLogs));
    assert.ok(l.deploymentLogs.every((x) => x.severity === 'error'));
    const deps = await deploymentsOf(emu);
    const failed = deps.find((d) => d.id === v3);
    assert.equal(failed.canRollback, false);
  });

  await t.test('rollback to the first deployment: v1 served again, with its variables', async () => {
    const deps = await deploymentsOf(emu);
    assert.equal(deps.find((d) => d.id === initial.id).canRollback, true);
    const r = await emu.q('mutation($id: String!) { deploymentRollback(id: $id) }', { id: initial.id });
    assert.equal(r.deploymentRollback, true);
    const rb = (await deploymentsOf(emu))[0];
    assert.equal(rb.meta.reason, 'rollback');
    assert.equal(rb.meta.rollbackTargetDeploymentId, initial.id);
    await waitStatus(emu, rb.id, 'SUCCESS');
    assert.deepEqual(await versionsServed(emu), ['v1']);
    await waitStatus(emu, v2, 'REMOVED');
  });

  await t.test('scale to 3 through environmentPatchCommit: 3 distinct replicas answer; back to 1', async () => {
    const patch = { services: { [API]: { deploy: { multiRegionConfig: { 'us-west2': { numReplicas: 3 } } } } } };
    const before = (await deploymentsOf(emu)).length;
    const id = await emu.q('mutation($e: String!, $p: EnvironmentConfig) { environmentPatchCommit(environmentId: $e, patch: $p, commitMessage: "scale api") }', { e: ENV, p: patch });
    assert.ok(id.environmentPatchCommit);
    await until(async () => (await replicasServed(emu)).size === 3, { what: '3 replicas answering' });
    assert.equal((await deploymentsOf(emu)).length, before, 'scaling changes the running deployment in place');
    const env = await emu.q('query($e: String!) { environment(id: $e) { config } }', { e: ENV });
    assert.deepEqual(env.environment.config.services[API].deploy.multiRegionConfig, { 'us-west2': { numReplicas: 3 } });
    const active = (await deploymentsOf(emu))[0];
    assert.equal(active.instances.filter((i) => i.status === 'RUNNING').length, 3);
    assert.equal(active.meta.serviceManifest.deploy.numReplicas, 3);
    const sd = JSON.parse(require('node:fs').readFileSync(require('node:path').join(emu.cfg.stateDir, 'prometheus', 'api.json'), 'utf8'));
    assert.equal(sd.length, 3, 'Prometheus file_sd lists the 3 serving replicas');
    assert.equal(new Set(sd.map((x) => x.targets[0])).size, 3);
    // metrics: one series per replica when grouped by instance.  A replica
    // sampled right after its fork is still small: wait for a sample of
    // every replica taken once node runs.
    const start = new Date(Date.now() - 60000).toISOString();
    const running = new Set(active.instances.map((i) => i.id));
    const metricsNow = () => emu.q(`query($s: String!, $start: DateTime!) { metrics(serviceId: $s, environmentId: "${ENV}", startDate: $start, measurements: [CPU_USAGE, MEMORY_USAGE_GB, NETWORK_TX_GB], groupBy: [DEPLOYMENT_INSTANCE_ID], sampleRateSeconds: 5) { measurement tags { deploymentInstanceId serviceId } values { ts value } } }`, { s: API, start });
    const memOf = (m) => m.metrics.filter((x) => x.measurement === 'MEMORY_USAGE_GB' && running.has(x.tags.deploymentInstanceId));
    await until(async () => {
      const mm = memOf(await metricsNow());
      return mm.length === 3 && mm.every((x) => x.values.some((v) => v.value > 0.005));
    }, { what: 'a memory sample above 5 MB from each of the 3 replicas' });
    const m = await metricsNow();
    const mem = memOf(m);
    assert.ok(mem.length === 3, JSON.stringify(mem.map((x) => x.tags)));
    assert.ok(mem.every((x) => x.values.length && x.values.every((v) => v.value > 0 && v.value < 2)), `RSS in GB: ${JSON.stringify(mem.map((x) => x.values))}`);
    assert.ok(mem.every((x) => Math.max(...x.values.map((v) => v.value)) > 0.005), 'a running node process uses more than 5 MB');
    const tx = m.metrics.filter((x) => x.measurement === 'NETWORK_TX_GB');
    assert.ok(tx.some((x) => x.values.some((v) => v.value > 0)), 'bytes through the front are counted');
    // and back down
    await emu.q('mutation($e: String!, $p: EnvironmentConfig) { environmentPatchCommit(environmentId: $e, patch: $p) }', { e: ENV, p: { services: { [API]: { deploy: { multiRegionConfig: { 'us-west2': { numReplicas: 1 } } } } } } });
    await until(async () => (await replicasServed(emu, 6)).size === 1, { what: '1 replica answering' });
    await until(async () => (await deploymentsOf(emu))[0].instances.length === 1, { what: 'instances shrink to 1' });
  });

  await t.test('variables: skipDeploys waits for the next deploy; an upsert without it redeploys', async () => {
    const vars = { p: IDS.project, e: ENV, s: API };
    const count = (await deploymentsOf(emu)).length;
    await emu.q('mutation($p: String!, $e: String!, $s: String) { variableUpsert(input: { projectId: $p, environmentId: $e, serviceId: $s, name: "SANDBOX_ECHO", value: "one-${{shared.SUFFIX}}", skipDeploys: true }) }', vars);
    await emu.q('mutation($p: String!, $e: String!) { variableUpsert(input: { projectId: $p, environmentId: $e, name: "SUFFIX", value: "x", skipDeploys: true }) }', vars);
    const v = await emu.q('query($p: String!, $e: String!, $s: String) { variables(projectId: $p, environmentId: $e, serviceId: $s) raw: variables(projectId: $p, environmentId: $e, serviceId: $s, unrendered: true) }', vars);
    assert.equal(v.variables.SANDBOX_ECHO, 'one-x');
    assert.equal(v.raw.SANDBOX_ECHO, 'one-${{shared.SUFFIX}}');
    assert.equal(v.variables.RAILWAY_SERVICE_NAME, 'api');
    await sleep(300);
    assert.equal((await deploymentsOf(emu)).length, count, 'skipDeploys: no deployment');
    assert.equal((await emu.front('api')).json.echo, null, 'not live before a deploy');
    const active = (await deploymentsOf(emu))[0];
    const re = await emu.q('mutation($id: String!) { deploymentRedeploy(id: $id) { id status } }', { id: active.id });
    await waitStatus(emu, re.deploymentRedeploy.id, 'SUCCESS');
    assert.equal((await emu.front('api')).json.echo, 'one-x');
    // a collection upsert without skipDeploys deploys by itself
    await emu.q('mutation($p: String!, $e: String!, $s: String) { variableCollectionUpsert(input: { projectId: $p, environmentId: $e, serviceId: $s, variables: { SANDBOX_ECHO: "two" } }) }', vars);
    await until(async () => (await emu.front('api')).json.echo === 'two', { what: 'echo two after the automatic redeploy' });
    await emu.q('mutation($p: String!, $e: String!, $s: String) { variableDelete(input: { projectId: $p, environmentId: $e, serviceId: $s, name: "SANDBOX_ECHO" }) }', vars);
    const after = await emu.q('query($p: String!, $e: String!, $s: String) { variables(projectId: $p, environmentId: $e, serviceId: $s) }', vars);
    assert.equal(after.variables.SANDBOX_ECHO, undefined);
    const del = await emu.gql('mutation($p: String!, $e: String!, $s: String) { variableDelete(input: { projectId: $p, environmentId: $e, serviceId: $s, name: "NOPE" }) }', vars);
    assert.equal(del.json.errors[0].message, 'Variable NOPE not found');
  });

  await t.test('restart: new processes, same deployment, still SUCCESS', async () => {
    await until(async () => (await statusOf(emu, (await deploymentsOf(emu))[0].id)) === 'SUCCESS', { what: 'latest SUCCESS' });
    const active = (await deploymentsOf(emu))[0];
    const pidBefore = (await emu.front('api')).json.pid;
    await emu.q('mutation($id: String!) { deploymentRestart(id: $id) }', { id: active.id });
    await until(async () => { const r = await emu.front('api'); return r.status === 200 && r.json.pid !== pidBefore; }, { what: 'a new pid' });
    assert.equal(await statusOf(emu, active.id), 'SUCCESS');
    assert.equal((await deploymentsOf(emu))[0].id, active.id);
  });

  await t.test('kill-replica fault: the deployment goes CRASHED, the replica restarts, back to SUCCESS', async () => {
    const active = (await deploymentsOf(emu))[0];
    const seq = (await emu.events()).lastSeq;
    const f = await emu.fault({ name: 'kill-replica', on: true, service: 'api' });
    assert.equal(f.ok, true);
    assert.ok(f.pid > 0);
    await until(() => !alive(f.pid), { what: 'killed pid gone' });
    const transitions = async () => (await emu.events(seq)).events.filter((e) => e.type === 'deployment.status' && e.deploymentId === active.id).map((e) => e.to);
    await until(async () => (await transitions()).includes('SUCCESS'), { what: 'CRASHED then SUCCESS' });
    assert.deepEqual(await transitions(), ['CRASHED', 'SUCCESS']);
    assert.equal(await statusOf(emu, active.id), 'SUCCESS');
    const restarted = (await emu.events(seq)).events.find((e) => e.type === 'replica.start' && e.replicaId === f.replicaId);
    assert.ok(restarted && restarted.pid !== f.pid, 'the same replica restarted with a new process');
    assert.equal((await emu.front('api')).status, 200);
  });

  await t.test('crash-loop fault: the next deploy crashes at boot and FAILS; off: deploys work again', async () => {
    await emu.fault({ name: 'crash-loop', on: true, service: 'api' });
    const bad = await deploy(emu, 'v2');
    await waitStatus(emu, bad, 'FAILED');
    assert.deepEqual(await versionsServed(emu, 4), ['v1']);
    await emu.fault({ name: 'crash-loop', on: false, service: 'api' });
    const good = await deploy(emu, 'v2');
    await waitStatus(emu, good, 'SUCCESS');
    assert.deepEqual(await versionsServed(emu, 4), ['v2']);
  });

  await t.test('logs: deploymentLogs subscription over graphql-transport-ws streams the app lines with severity and filters', async () => {
    const active = (await deploymentsOf(emu))[0];
    const client = emu.wsClient();
    const lines = [];
    const all = collect(client, { query: 'subscription($id: String!) { deploymentLogs(deploymentId: $id, limit: 0) { timestamp message severity attributes { key value } tags { deploymentId deploymentInstanceId } } }', variables: { id: active.id } }, {
      n: 1000, timeout: 8000,
      stop: (v) => { for (const l of v.data.deploymentLogs) lines.push(l); return lines.some((l) => l.message === 'zz-stderr'); },
    });
    const errorsOnly = [];
    const filtered = collect(client, { query: 'subscription($id: String!) { deploymentLogs(deploymentId: $id, filter: "@level:error -ignored", limit: 0) { message severity } }', variables: { id: active.id } }, {
      n: 1000, timeout: 8000, stop: (v) => { errorsOnly.push(...v.data.deploymentLogs); return errorsOnly.length >= 2; },
    });
    await sleep(300);
    await emu.front('api', '/log?level=info&msg=zz-info');
    await emu.front('api', '/log?level=warning&msg=zz-warn');
    await emu.front('api', '/log?level=error&msg=zz-error');
    await emu.front('api', '/log?level=error&msg=zz-error-ignored');
    await emu.front('api', '/log?stderr=1&msg=zz-stderr');
    await all;
    await filtered;
    await client.dispose();
    const by = Object.fromEntries(lines.filter((l) => l.message.startsWith('zz-')).map((l) => [l.message, l]));
    assert.equal(by['zz-info'].severity, 'info');
    assert.equal(by['zz-warn'].severity, 'warn');
    assert.equal(by['zz-error'].severity, 'error');
    assert.equal(by['zz-stderr'].severity, 'error', 'stderr lines are errors');
    assert.deepEqual(by['zz-error'].attributes.find((a) => a.key === 'route'), { key: 'route', value: '"/log"' });
    assert.equal(by['zz-error'].tags.deploymentId, active.id);
    assert.ok(by['zz-error'].tags.deploymentInstanceId);
    assert.match(by['zz-info'].timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    assert.deepEqual(errorsOnly.map((l) => l.message), ['zz-error', 'zz-stderr']);
    // the same lines through the query, with a phrase and a negation
    const q = await emu.q('query($id: String!) { deploymentLogs(deploymentId: $id, filter: "\\"zz-error\\" -ignored") { message } }', { id: active.id });
    assert.deepEqual(q.deploymentLogs.map((l) => l.message), ['zz-error']);
  });

  await t.test('ws-drop fault: live subscriptions are dropped and new connections refused until off', async () => {
    const client = emu.wsClient();
    const dropped = collect(client, { query: `subscription { environmentLogs(environmentId: "${ENV}") { message } }` }, { n: 1000, timeout: 10000 })
      .then(() => new Error('subscription ended without an error'), (e) => e);
    await sleep(500);
    const f = await emu.fault({ name: 'ws-drop', on: true });
    assert.ok(f.dropped >= 1, `dropped ${f.dropped}`);
    assert.match((await dropped).message, /closed 1006/);
    const c2 = emu.wsClient();
    await assert.rejects(collect(c2, { query: `subscription { environmentLogs(environmentId: "${ENV}") { message } }` }, { timeout: 5000 }), /503|Unexpected server response|1006|closed/);
    await c2.dispose().catch(() => {});
    await emu.fault({ name: 'ws-drop', on: false });
    const c3 = emu.wsClient();
    const got = await collect(c3, { query: `subscription { environmentLogs(environmentId: "${ENV}", beforeLimit: 1) { message } }` }, { n: 1, timeout: 5000 });
    assert.equal(got.length, 1);
    await c3.dispose();
    await client.dispose().catch(() => {});
  });

  await t.test('WebSocket upgrades go through the front to a replica', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${emu.fronts.api.http}/ws`);
    const first = await new Promise((resolve, reject) => { ws.once('message', (m) => resolve(JSON.parse(String(m)))); ws.once('error', reject); });
    assert.equal(first.version, 'v2');
    const echo = await new Promise((resolve) => { ws.once('message', (m) => resolve(String(m))); ws.send('ping-through-front'); });
    assert.equal(echo, 'ping-through-front');
    ws.close();
  });

  await t.test('stop: the front has no replica (502); a deploy brings it back', async () => {
    const active = (await deploymentsOf(emu))[0];
    await emu.q('mutation($id: String!) { deploymentStop(id: $id) }', { id: active.id });
    await until(async () => (await emu.front('api')).status === 502, { what: '502 after stop' });
    await waitStatus(emu, active.id, 'REMOVED');
    assert.equal((await emu.q(`query { deployment(id: "${active.id}") { deploymentStopped instances { id } } }`)).deployment.deploymentStopped, true);
    const again = await deploy(emu, null);
    await waitStatus(emu, again, 'SUCCESS');
    assert.deepEqual(await versionsServed(emu, 3), ['v1'], 'deploy latest = the service source (v1)');
  });

  await t.test('teardown: SIGTERM stops every replica and exits 0', async () => {
    const st = await emu.state();
    assert.ok(st.pids.length >= 2);
    const res = await emu.stop();
    stopped = true;
    assert.equal(res.code, 0, `exit ${JSON.stringify(res)}\n${emu.log().slice(-2000)}`);
    for (const pid of res.pids) assert.equal(alive(pid), false, `replica pid ${pid} still alive`);
    const frontUp = await request(`http://127.0.0.1:${emu.fronts.api.http}/health`).then(() => true, () => false);
    assert.equal(frontUp, false, 'front closed');
  });
});
