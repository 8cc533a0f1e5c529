'use strict';
// Auth errors in Railway's shape, token scopes, rate limits (429 +
// Retry-After + X-RateLimit-*), the rate-limit and slow-api faults.

const test = require('node:test');
const assert = require('node:assert/strict');
const { startEmulator, request, collect, sleep, IDS, TOKEN, PROJECT_TOKEN } = require('./helpers');

test('auth: missing, wrong and misplaced tokens get "Not Authorized" (HTTP 200, data null); scopes hold', async (t) => {
  const emu = await startEmulator({ services: [] });
  t.after(() => emu.stop());

  const cases = [
    ['no token', {}],
    ['wrong bearer', { authorization: 'Bearer wrong-token' }],
    ['project token as bearer', { authorization: `Bearer ${PROJECT_TOKEN}` }],
    ['wrong project token', { 'project-access-token': 'nope' }],
    ['account token in project header', { 'project-access-token': TOKEN }],
  ];
  for (const [what, headers] of cases) {
    const r = await emu.gql('query Me { me { id email } }', undefined, headers);
    assert.equal(r.status, 200, what);
    assert.equal(r.json.data, null, what);
    assert.equal(r.json.errors.length, 1, what);
    assert.equal(r.json.errors[0].message, 'Not Authorized', what);
    assert.deepEqual(r.json.errors[0].path, ['me'], what);
    assert.deepEqual(r.json.errors[0].locations, [{ line: 1, column: 12 }], what);
    assert.ok(r.headers['x-ratelimit-limit'], `${what}: rate limit headers on error replies too`);
  }

  // account token: everything
  const ok = await emu.gql('{ me { id email workspaces { name } } projects { edges { node { id name } } } }');
  assert.equal(ok.status, 200);
  assert.equal(ok.json.errors, undefined, ok.text);
  assert.equal(ok.json.data.projects.edges[0].node.id, IDS.project);

  // project token: its project and primary environment, not `me`, not staging
  const pt = { 'project-access-token': PROJECT_TOKEN };
  let r = await emu.gql('{ projectToken { projectId environmentId } }', undefined, pt);
  assert.deepEqual(r.json.data.projectToken, { projectId: IDS.project, environmentId: IDS.production });
  r = await emu.gql(`{ project(id: "${IDS.project}") { name environments { edges { node { name } } } } }`, undefined, pt);
  assert.deepEqual(r.json.data.project.environments.edges.map((e) => e.node.name), ['production']);
  r = await emu.gql(`{ environment(id: "${IDS.staging}") { name } }`, undefined, pt);
  assert.equal(r.json.errors[0].message, 'Not Authorized');
  r = await emu.gql('{ me { id } }', undefined, pt);
  assert.equal(r.json.errors[0].message, 'Not Authorized');

  // unknown ids are errors with the entity named, not crashes
  r = await emu.gql('{ deployment(id: "nope") { id } }');
  assert.equal(r.status, 200);
  assert.equal(r.json.errors[0].message, 'Deployment not found');

  // invalid documents are rejected against the emulator schema
  r = await emu.gql('{ regions { name } }');
  assert.equal(r.status, 400);
  assert.match(r.json.errors[0].message, /Cannot query field "regions"/);

  // WebSocket: a bad token is refused (4403) at connection_init
  const bad = emu.wsClient({ Authorization: 'Bearer nope' });
  await assert.rejects(collect(bad, { query: `subscription { environmentLogs(environmentId: "${IDS.production}") { message } }` }, { timeout: 5000 }), /4403/);
  await bad.dispose();
});

test('rate limits: hourly budget, 429 with Retry-After, per-token buckets, per-second budget', async (t) => {
  const emu = await startEmulator({ services: [], rateLimit: { perHour: 5, perSecond: 100 } });
  t.after(() => emu.stop());
  const seen = [];
  for (let i = 0; i < 5; i++) {
    const r = await emu.gql('{ me { id } }');
    assert.equal(r.status, 200);
    seen.push(Number(r.headers['x-ratelimit-remaining']));
    assert.equal(r.headers['x-ratelimit-limit'], '5');
    const reset = Number(r.headers['x-ratelimit-reset']);
    assert.ok(reset > Date.now() / 1000 && reset <= Date.now() / 1000 + 3601, `reset ${reset} is epoch seconds within the hour`);
  }
  assert.deepEqual(seen, [4, 3, 2, 1, 0]);
  const r = await emu.gql('{ me { id } }');
  assert.equal(r.status, 429);
  assert.ok(Number(r.headers['retry-after']) > 0 && Number(r.headers['retry-after']) <= 3600, `Retry-After ${r.headers['retry-after']}`);
  assert.equal(r.headers['x-ratelimit-remaining'], '0');
  assert.match(r.json.errors[0].message, /Rate limit/);
  // the project token has its own budget
  const p = await emu.gql('{ projectToken { projectId } }', undefined, { 'project-access-token': PROJECT_TOKEN });
  assert.equal(p.status, 200);
  assert.equal(p.headers['x-ratelimit-remaining'], '4');
  // spent budgets show in me.apiTokenRateLimit for the other token too (counted)
  const ev = await emu.events();
  assert.ok(ev.events.some((e) => e.type === 'ratelimit.429'));
  // subscriptions count against the same budget
  const c = emu.wsClient();
  await assert.rejects(collect(c, { query: `subscription { environmentLogs(environmentId: "${IDS.production}") { message } }` }, { timeout: 5000 }), /Rate limit exceeded/);
  await c.dispose();

  const fast = await startEmulator({ services: [], rateLimit: { perHour: 1000, perSecond: 3 } });
  t.after(() => fast.stop());
  const rs = await Promise.all([0, 1, 2, 3, 4].map(() => fast.gql('{ me { id } }')));
  const statuses = rs.map((x) => x.status).sort();
  assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  const limited = rs.find((x) => x.status === 429);
  assert.equal(limited.headers['retry-after'], '1');
  await sleep(1100);
  assert.equal((await fast.gql('{ me { id } }')).status, 200);
});

test('faults: rate-limit spends the budget until its window ends or it is turned off; slow-api delays answers', async (t) => {
  const emu = await startEmulator({ services: [] });
  t.after(() => emu.stop());
  assert.equal((await emu.gql('{ me { id } }')).status, 200);
  const f = await emu.fault({ name: 'rate-limit', on: true, seconds: 2 });
  assert.equal(f.ok, true);
  let r = await emu.gql('{ me { id } }');
  assert.equal(r.status, 429);
  assert.ok(Number(r.headers['retry-after']) >= 1 && Number(r.headers['retry-after']) <= 2);
  await sleep(Number(r.headers['retry-after']) * 1000 + 100);
  r = await emu.gql('{ me { id } }');
  assert.equal(r.status, 200, 'budget refilled after Retry-After');
  await emu.fault({ name: 'rate-limit', on: true });
  assert.equal((await emu.gql('{ me { id } }')).status, 429);
  await emu.fault({ name: 'rate-limit', on: false });
  assert.equal((await emu.gql('{ me { id } }')).status, 200);

  await emu.fault({ name: 'slow-api', on: true });
  const t0 = Date.now();
  assert.equal((await emu.gql('{ me { id } }')).status, 200);
  const slow = Date.now() - t0;
  assert.ok(slow >= 1400, `slow-api answered in ${slow} ms`);
  // the admin side is not slowed
  const t1 = Date.now();
  await request(`${emu.base}/healthz`);
  assert.ok(Date.now() - t1 < 500);
  await emu.fault({ name: 'slow-api', on: false });
  const t2 = Date.now();
  await emu.gql('{ me { id } }');
  assert.ok(Date.now() - t2 < 1000);

  const unknown = await request(`${emu.base}/admin/fault`, { method: 'POST', body: { name: 'nope', on: true } });
  assert.equal(unknown.status, 400);
  assert.match(unknown.json.error, /known: kill-replica/);
});
