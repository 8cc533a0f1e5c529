'use strict';
// Volume backups are real pgBackRest backups and a restore really restores:
// the test starts its own PostgreSQL 15 cluster (as the postgres user) with
// WAL archiving into a pgBackRest stanza, backs it up through GraphQL, adds
// rows, stages and commits the restore, and counts the rows again.
// It needs root (runuser), PostgreSQL 15 and pgBackRest; without them it
// FAILS saying what is missing.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const { startEmulator, until, freePortForTests } = require('./helpers');

const PGBIN = '/usr/lib/postgresql/15/bin';
const PGBACKREST = '/usr/bin/pgbackrest';

function asPostgres(bin, args, opts = {}) {
  return execFileSync('/usr/sbin/runuser', ['-u', 'postgres', '--', bin, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120000, ...opts });
}

function prerequisites() {
  const missing = [];
  if (process.getuid() !== 0) missing.push('root (to run PostgreSQL and pgBackRest as the postgres user through runuser)');
  for (const f of [`${PGBIN}/initdb`, `${PGBIN}/pg_ctl`, `${PGBIN}/psql`, PGBACKREST, '/usr/sbin/runuser']) if (!fs.existsSync(f)) missing.push(f);
  if (spawnSync('id', ['-u', 'postgres']).status !== 0) missing.push('the postgres user');
  return missing;
}

test('volume backup create, list, staged restore and commit: row counts come back (real pgBackRest)', { timeout: 110000 }, async (t) => {
  const missing = prerequisites();
  assert.deepEqual(missing, [], `backup test prerequisites missing: ${missing.join(', ')}`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'railway-pg-'));
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
  fs.chmodSync(dir, 0o755);
  fs.chownSync(dir, uid, gid);
  const data = path.join(dir, 'data');
  const repo = path.join(dir, 'repo');
  const sock = path.join(dir, 'sock');
  const logd = path.join(dir, 'log');
  for (const d of [repo, sock, logd]) { fs.mkdirSync(d); fs.chownSync(d, uid, gid); }
  const port = await freePortForTests();
  const conf = path.join(dir, 'pgbackrest.conf');
  fs.writeFileSync(conf, `[global]
repo1-path=${repo}
repo1-retention-full=4
log-path=${logd}
lock-path=${path.join(dir, 'lock')}
start-fast=y
log-level-console=warn

[main]
pg1-path=${data}
pg1-port=${port}
pg1-socket-path=${sock}
`);
  fs.chownSync(conf, uid, gid);
  let pgStarted = false;
  let emu = null;
  t.after(async () => {
    if (emu) await emu.stop();
    if (pgStarted) { try { asPostgres(`${PGBIN}/pg_ctl`, ['stop', '-D', data, '-m', 'immediate', '-w']); } catch (_) { /* already down */ } }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  asPostgres(`${PGBIN}/initdb`, ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  fs.appendFileSync(path.join(data, 'postgresql.conf'), `
listen_addresses = '127.0.0.1'
unix_socket_directories = '${sock}'
wal_level = replica
archive_mode = on
archive_command = '${PGBACKREST} --config=${conf} --stanza=main archive-push %p'
fsync = off
`);
  // started with -p on the command line: the emulator must restart it the same way
  asPostgres(`${PGBIN}/pg_ctl`, ['start', '-D', data, '-l', path.join(dir, 'pg.log'), '-w', '-o', `-p ${port}`]);
  pgStarted = true;
  asPostgres(PGBACKREST, [`--config=${conf}`, '--stanza=main', 'stanza-create']);
  const psql = (sql) => asPostgres(`${PGBIN}/psql`, ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-At', '-c', sql]).trim();
  psql('CREATE TABLE orders (id serial primary key, note text); INSERT INTO orders (note) SELECT md5(g::text) FROM generate_series(1, 1000) g;');
  assert.equal(psql('SELECT count(*) FROM orders'), '1000');

  emu = await startEmulator({
    services: [],
    extra: { pgbackrest: { config: conf, stanza: 'main', bin: PGBACKREST, pgDataDir: data, runAs: 'postgres', pgCtl: `${PGBIN}/pg_ctl`, pgPort: port } },
  });

  const proj = await emu.q(`{ project(id: "${emu.cfg.project.id}") { services { edges { node { id name } } } volumes { edges { node { id name } } } } }`);
  const pgSvc = proj.project.services.edges.map((e) => e.node).find((s) => s.name === 'postgres');
  assert.ok(pgSvc, 'the database is a service of the project');
  const env = await emu.q(`{ environment(id: "${emu.cfg.environments[0].id}") { volumeInstances { edges { node { id mountPath state volume { name } serviceId } } } } }`);
  const vi = env.environment.volumeInstances.edges[0].node;
  assert.equal(vi.serviceId, pgSvc.id);
  assert.equal(vi.state, 'READY');
  const pgDeps = async () => (await emu.q(`{ deployments(input: { serviceId: "${pgSvc.id}" }) { edges { node { id status meta } } } }`)).deployments.edges.map((e) => e.node);
  assert.equal((await pgDeps())[0].status, 'SUCCESS', 'the running postmaster is adopted');

  const waitWorkflow = (id) => until(async () => {
    const w = (await emu.q(`{ workflowStatus(workflowId: "${id}") { status error } }`)).workflowStatus;
    if (w.status === 'Error') throw Object.assign(new Error(`workflow failed: ${w.error}`), { fatal: true });
    return w.status === 'Complete' ? w : false;
  }, { timeout: 60000, interval: 250, what: `workflow ${id}` });

  // backup
  const c = await emu.q(`mutation { volumeInstanceBackupCreate(volumeInstanceId: "${vi.id}", name: "before-orders") { workflowId } }`);
  assert.equal((await emu.q(`{ workflowStatus(workflowId: "${c.volumeInstanceBackupCreate.workflowId}") { status } }`)).workflowStatus.status, 'Running');
  await waitWorkflow(c.volumeInstanceBackupCreate.workflowId);
  const list = (await emu.q(`{ volumeInstanceBackupList(volumeInstanceId: "${vi.id}") { id externalId name createdAt usedMB referencedMB } }`)).volumeInstanceBackupList;
  assert.equal(list.length, 1);
  assert.equal(list[0].name, 'before-orders');
  assert.match(list[0].externalId, /^\d{8}-\d{6}F$/, 'the pgBackRest label');
  assert.ok(list[0].usedMB > 0);
  const info = JSON.parse(asPostgres(PGBACKREST, [`--config=${conf}`, '--stanza=main', '--output=json', 'info']));
  assert.equal(info[0].backup.length, 1, 'pgbackrest itself knows the backup');

  // more rows after the backup
  psql('INSERT INTO orders (note) SELECT md5(g::text) FROM generate_series(1, 500) g;');
  assert.equal(psql('SELECT count(*) FROM orders'), '1500');

  // restore: a staged change...
  const r = await emu.q(`mutation { volumeInstanceBackupRestore(volumeInstanceId: "${vi.id}", volumeInstanceBackupId: "${list[0].id}") { workflowId } }`);
  await waitWorkflow(r.volumeInstanceBackupRestore.workflowId);
  const staged = await emu.q(`{ environmentStagedChanges(environmentId: "${emu.cfg.environments[0].id}") { id status patch } }`);
  assert.equal(staged.environmentStagedChanges.status, 'STAGED');
  assert.equal(Object.values(staged.environmentStagedChanges.patch.volumes)[0].backupRestore.externalId, list[0].externalId);
  assert.equal(psql('SELECT count(*) FROM orders'), '1500', 'nothing restored before the commit');
  // ...applied by committing the staged changes: a new deployment of the database
  await emu.q(`mutation { environmentPatchCommitStaged(environmentId: "${emu.cfg.environments[0].id}", commitMessage: "restore") }`);
  const dep = await until(async () => { const d = (await pgDeps())[0]; return d.meta.reason === 'restore' && ['SUCCESS', 'FAILED'].includes(d.status) ? d : false; }, { timeout: 60000, what: 'restore deployment' });
  if (dep.status !== 'SUCCESS') {
    const l = await emu.q(`{ deploymentLogs(deploymentId: "${dep.id}", limit: 200) { message } }`);
    let pglog = '';
    for (const f of [path.join(data, 'emulator-pg_ctl.log'), path.join(emu.cfg.stateDir, 'postgres-emulator.log')]) {
      try { pglog += `--- ${f}\n${fs.readFileSync(f, 'utf8').slice(-3000)}`; } catch (_) { /* absent */ }
    }
    assert.fail(`restore deployment FAILED:\n${l.deploymentLogs.map((x) => x.message).join('\n')}\n${pglog}`);
  }
  assert.equal(psql('SELECT count(*) FROM orders'), '1000', 'rows back to the backup');
  const deps = await pgDeps();
  assert.equal(deps[1].status, 'REMOVED');
  const logs = await emu.q(`{ deploymentLogs(deploymentId: "${dep.id}", limit: 500) { message } }`);
  assert.ok(logs.deploymentLogs.some((l) => /pgbackrest restore --delta/.test(l.message)));
  const ev = await emu.events();
  assert.ok(ev.events.some((e) => e.type === 'pgbackrest.restore' && e.code === 0));
  // the cluster was restarted with its own options (same port)
  assert.ok(fs.readFileSync(path.join(data, 'postmaster.opts'), 'utf8').includes(String(port)));
  // the database keeps working: a new backup after the restore
  const c2 = await emu.q(`mutation { volumeInstanceBackupCreate(volumeInstanceId: "${vi.id}") { workflowId } }`);
  await waitWorkflow(c2.volumeInstanceBackupCreate.workflowId);
  assert.equal((await emu.q(`{ volumeInstanceBackupList(volumeInstanceId: "${vi.id}") { id } }`)).volumeInstanceBackupList.length, 2);
});
