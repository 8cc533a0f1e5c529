'use strict';
// The emulator's schema is a subset of Railway's public schema, and
// validate.js checks client documents against both. Without the public
// schema these tests FAIL (they say where the file was expected).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { buildSchema } = require('graphql');
const { tmpDir } = require('./helpers');
const {
  loadEmulatorSchema, loadPublicSchema, publicSchemaPath, subsetProblems,
  SHARED_SCHEMA_PATH, VENDORED_SCHEMA_PATH,
} = require('../lib/schemas');

const VALIDATE = path.join(__dirname, '..', 'validate.js');

test('the public Railway schema is present', () => {
  const file = publicSchemaPath();
  assert.ok(fs.existsSync(file), `public Railway schema not found at ${file}: these tests need ../shared/railway/schema.graphql (or RAILWAY_PUBLIC_SCHEMA)`);
});

test('the vendored public schema is the workplace reference, byte for byte (when that is beside the repository)', (t) => {
  assert.ok(fs.existsSync(VENDORED_SCHEMA_PATH), `missing ${VENDORED_SCHEMA_PATH}`);
  if (!fs.existsSync(SHARED_SCHEMA_PATH)) {
    t.diagnostic(`no ${SHARED_SCHEMA_PATH}: using the vendored copy`);
    return;
  }
  assert.ok(fs.readFileSync(VENDORED_SCHEMA_PATH).equals(fs.readFileSync(SHARED_SCHEMA_PATH)),
    `sandbox/railway/public/schema.graphql differs from ${SHARED_SCHEMA_PATH}: copy the reference over it`);
});

test('every type, field, argument, input field and enum value of the emulator exists in the public schema with the same type', () => {
  const emu = loadEmulatorSchema();
  const pub = loadPublicSchema(); // throws, with the expected path, when absent
  const problems = subsetProblems(emu, pub);
  assert.deepEqual(problems, [], `the emulator schema is not a subset of the public schema:\n  ${problems.join('\n  ')}`);
  // and it is not trivially small: the fields signalbox needs are there
  const q = emu.getQueryType().getFields();
  const m = emu.getMutationType().getFields();
  const s = emu.getSubscriptionType().getFields();
  for (const f of ['me', 'projects', 'project', 'environment', 'service', 'serviceInstance', 'deployments', 'deployment', 'variables', 'deploymentLogs', 'environmentLogs', 'buildLogs', 'metrics', 'volumeInstanceBackupList', 'workflowStatus']) assert.ok(q[f], `Query.${f}`);
  for (const f of ['serviceInstanceDeployV2', 'deploymentRedeploy', 'deploymentRollback', 'deploymentRestart', 'deploymentStop', 'deploymentRemove', 'environmentPatchCommit', 'variableUpsert', 'variableCollectionUpsert', 'variableDelete', 'volumeInstanceBackupCreate', 'volumeInstanceBackupRestore']) assert.ok(m[f], `Mutation.${f}`);
  for (const f of ['deploymentLogs', 'environmentLogs', 'buildLogs']) assert.ok(s[f], `Subscription.${f}`);
  const statuses = emu.getType('DeploymentStatus').getValues().map((v) => v.name);
  for (const v of ['BUILDING', 'DEPLOYING', 'SUCCESS', 'FAILED', 'CRASHED', 'REMOVED']) assert.ok(statuses.includes(v), v);
});

test('the subset check catches differences (self-test)', () => {
  const pub = buildSchema('type Query { a(x: Int!): String b: Int } enum E { A B } input I { r: String! o: Int }');
  const bad = buildSchema('type Query { a: Int c: Int } enum E { A C } input I { o: String } type Extra { z: Int }');
  const problems = subsetProblems(bad, pub).join('\n');
  for (const needle of ['field Query.a: type Int here, String', 'field Query.c: not in the public schema', 'argument Query.a(x): required in the public schema', 'enum value E.C', 'input field I.o: type String here, Int', 'input field I.r: required', 'type Extra: not in the public schema']) {
    assert.ok(problems.includes(needle), `expected problem "${needle}" in:\n${problems}`);
  }
  assert.deepEqual(subsetProblems(pub, pub), []);
});

test('loading the public schema fails clearly when the file is absent', () => {
  const prev = process.env.RAILWAY_PUBLIC_SCHEMA;
  process.env.RAILWAY_PUBLIC_SCHEMA = path.join(os.tmpdir(), 'definitely-not-here', 'schema.graphql');
  try {
    assert.throws(() => loadPublicSchema(), (e) => e.code === 'ENOPUBLICSCHEMA' && /not found at .*definitely-not-here/.test(e.message));
  } finally {
    if (prev === undefined) delete process.env.RAILWAY_PUBLIC_SCHEMA; else process.env.RAILWAY_PUBLIC_SCHEMA = prev;
  }
});

test('validate.js: valid documents pass, invalid ones fail with the schema named, a missing public schema is an error', () => {
  const dir = tmpDir('railway-validate-');
  const good = path.join(dir, 'good.graphql');
  const bad = path.join(dir, 'bad.graphql');
  fs.writeFileSync(good, `query Deployments($serviceId: String!, $environmentId: String!) {
  deployments(first: 10, input: { serviceId: $serviceId, environmentId: $environmentId }) {
    edges { node { id status createdAt meta instances { id status } } }
    pageInfo { hasNextPage endCursor }
  }
}
subscription Logs($id: String!) { deploymentLogs(deploymentId: $id, filter: "@level:error") { timestamp message severity attributes { key value } } }
`);
  // exists in the public schema but not in the emulator's
  fs.writeFileSync(bad, 'query { me { id } regions { name } }\n');
  let r = spawnSync(process.execPath, [VALIDATE, good], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^ok {3}.*good\.graphql/m);
  r = spawnSync(process.execPath, [VALIDATE, good, bad], { encoding: 'utf8' });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /FAIL .*bad\.graphql/);
  assert.match(r.stdout, /\[emulator\] Cannot query field "regions"/);
  assert.doesNotMatch(r.stdout, /\[public\]/);
  r = spawnSync(process.execPath, [VALIDATE, good], { encoding: 'utf8', env: { ...process.env, RAILWAY_PUBLIC_SCHEMA: path.join(dir, 'missing.graphql') } });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /public Railway schema not found/);
  const { validateFiles } = require('../validate');
  assert.equal(validateFiles([good]).ok, true);
  assert.equal(validateFiles([bad]).ok, false);
});
