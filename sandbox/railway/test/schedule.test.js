'use strict';
// The volume's backup schedule: volumeInstanceBackupScheduleList and
// volumeInstanceBackupScheduleUpdate as Railway's public schema types them
// (kinds DAILY, WEEKLY, MONTHLY; the update replaces the set and answers a
// Boolean), kept in the emulator's memory. The schedule needs no running
// PostgreSQL: the emulator is started with a pgbackrest section pointing at
// an empty directory, which is enough for the volume instance to exist.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { buildSchema } = require('graphql');
const { startEmulator, tmpDir, PROJECT_TOKEN } = require('./helpers');
const { loadEmulatorSchema, loadPublicSchema } = require('../lib/schemas');

const LIST = 'query L($id: String!) { volumeInstanceBackupScheduleList(volumeInstanceId: $id) { id kind name cron retentionSeconds createdAt } }';
const UPDATE = 'mutation U($id: String!, $kinds: [VolumeInstanceBackupScheduleKind!]!) { volumeInstanceBackupScheduleUpdate(volumeInstanceId: $id, kinds: $kinds) }';

test('the schedule fields are typed exactly as in the public schema', () => {
  const emu = loadEmulatorSchema();
  const pub = loadPublicSchema();
  const sig = (schema, root, name) => {
    const f = schema[root]().getFields()[name];
    assert.ok(f, `${root} ${name}`);
    return `${f.args.map((a) => `${a.name}: ${a.type}`).sort().join(', ')} -> ${f.type}`;
  };
  assert.equal(sig(emu, 'getQueryType', 'volumeInstanceBackupScheduleList'), sig(pub, 'getQueryType', 'volumeInstanceBackupScheduleList'));
  assert.equal(sig(emu, 'getMutationType', 'volumeInstanceBackupScheduleUpdate'), sig(pub, 'getMutationType', 'volumeInstanceBackupScheduleUpdate'));
  assert.equal(sig(emu, 'getQueryType', 'volumeInstanceBackupScheduleList'), 'volumeInstanceId: String! -> [VolumeInstanceBackupSchedule!]!');
  assert.equal(sig(emu, 'getMutationType', 'volumeInstanceBackupScheduleUpdate'), 'kinds: [VolumeInstanceBackupScheduleKind!]!, volumeInstanceId: String! -> Boolean!');
  assert.deepEqual(emu.getType('VolumeInstanceBackupScheduleKind').getValues().map((v) => v.name).sort(), ['DAILY', 'MONTHLY', 'WEEKLY']);
  // a self-check of the comparison: another type is told apart
  const other = buildSchema('type Query { volumeInstanceBackupScheduleList(volumeInstanceId: ID!): [String] }');
  assert.notEqual(sig(other, 'getQueryType', 'volumeInstanceBackupScheduleList'), sig(pub, 'getQueryType', 'volumeInstanceBackupScheduleList'));
});

test('volume backup schedule: empty at first, set, changed, read back, cleared; refusals', { timeout: 60000 }, async (t) => {
  const data = tmpDir('railway-sched-pg-');
  const emu = await startEmulator({
    services: [],
    extra: {
      pgbackrest: {
        config: path.join(data, 'pgbackrest.conf'), stanza: 'main', pgDataDir: data, runAs: '',
        pgCtl: '/bin/false', bin: '/bin/false', pgPort: 1,
      },
    },
  });
  t.after(() => emu.stop());

  const env = await emu.q(`{ environment(id: "${emu.cfg.environments[0].id}") { volumeInstances { edges { node { id serviceId mountPath } } } } }`);
  assert.equal(env.environment.volumeInstances.edges.length, 1, 'the database volume is there');
  const vi = env.environment.volumeInstances.edges[0].node.id;

  const list = async () => (await emu.q(LIST, { id: vi })).volumeInstanceBackupScheduleList;
  assert.deepEqual(await list(), [], 'no schedule at first');

  assert.equal((await emu.q(UPDATE, { id: vi, kinds: ['WEEKLY', 'DAILY', 'DAILY'] })).volumeInstanceBackupScheduleUpdate, true);
  const two = await list();
  assert.deepEqual(two.map((s) => s.kind), ['DAILY', 'WEEKLY'], 'one record per kind, in a fixed order');
  assert.deepEqual(two.map((s) => s.name), ['Daily', 'Weekly']);
  assert.equal(two[0].retentionSeconds, 6 * 86400);
  assert.equal(two[1].retentionSeconds, 30 * 86400);
  for (const s of two) {
    assert.match(s.id, /^[0-9a-f-]{36}$/);
    assert.match(s.cron, /^\S+ \S+ \S+ \S+ \S+$/);
    assert.ok(!Number.isNaN(Date.parse(s.createdAt)));
  }

  // WEEKLY kept (same record), DAILY dropped, MONTHLY added
  await emu.q(UPDATE, { id: vi, kinds: ['MONTHLY', 'WEEKLY'] });
  const changed = await list();
  assert.deepEqual(changed.map((s) => s.kind), ['WEEKLY', 'MONTHLY']);
  assert.equal(changed[0].id, two[1].id, 'a kind kept keeps its record');
  assert.equal(changed[0].createdAt, two[1].createdAt);
  assert.equal(changed[1].retentionSeconds, 90 * 86400);

  // an unknown kind is refused by the schema, and nothing changes
  const bad = await emu.gql(UPDATE, { id: vi, kinds: ['HOURLY'] });
  assert.ok(bad.json.errors && /HOURLY|VolumeInstanceBackupScheduleKind/.test(bad.json.errors[0].message), bad.text);
  assert.deepEqual((await list()).map((s) => s.kind), ['WEEKLY', 'MONTHLY']);

  // an unknown volume instance, and no token
  const unknown = await emu.gql(LIST, { id: 'no-such-volume' });
  assert.match(unknown.json.errors[0].message, /Volume instance not found/);
  const anon = await emu.gql(UPDATE, { id: vi, kinds: [] }, {});
  assert.equal(anon.json.errors[0].message, 'Not Authorized');
  assert.deepEqual((await list()).map((s) => s.kind), ['WEEKLY', 'MONTHLY'], 'refused updates changed nothing');

  // a project token of the environment may read and change it
  const pt = await emu.gql(LIST, { id: vi }, { 'project-access-token': PROJECT_TOKEN });
  assert.equal(pt.json.data.volumeInstanceBackupScheduleList.length, 2);

  // the empty list clears it
  await emu.q(UPDATE, { id: vi, kinds: [] });
  assert.deepEqual(await list(), []);

  const ev = await emu.events();
  const sched = ev.events.filter((e) => e.type === 'backup.schedule');
  assert.deepEqual(sched.map((e) => e.after), [['DAILY', 'WEEKLY'], ['WEEKLY', 'MONTHLY'], []]);
  assert.ok(fs.existsSync(data));
});
