'use strict';
// No process outlives the emulator: SIGTERM in the middle of a deploy, and
// SIGKILL of the emulator itself (replicas carry a parent-death signal).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startEmulator, until, alive, sleep, IDS } = require('./helpers');

async function startedPids(emu) {
  const ev = await emu.events();
  return ev.events.filter((e) => e.type === 'replica.start').map((e) => e.pid);
}

test('SIGTERM during a deploy: exit 0, every replica ever started is gone, the pid file is empty', async () => {
  const emu = await startEmulator({ timing: { buildMs: 50, restartBackoffMs: 400 } });
  const id = (await emu.q(`mutation { serviceInstanceDeployV2(serviceId: "${IDS.api}", environmentId: "${IDS.production}", commitSha: "v3") }`)).serviceInstanceDeployV2;
  await until(async () => (await emu.q(`{ deployment(id: "${id}") { status } }`)).deployment.status === 'DEPLOYING', { what: 'DEPLOYING' });
  await sleep(150);
  const pids = await startedPids(emu);
  assert.ok(pids.length >= 3);
  const res = await emu.stop();
  assert.equal(res.code, 0, emu.log().slice(-2000));
  for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} survived`);
  const pf = JSON.parse(fs.readFileSync(path.join(emu.cfg.stateDir, 'replicas.json'), 'utf8'));
  assert.deepEqual(pf.replicas, []);
  // nothing was started after the shutdown began
  const log = emu.log();
  const stopAt = log.indexOf('SIGTERM: stopping');
  assert.ok(stopAt > 0);
  assert.equal(/"msg":"replica.start"/.test(log.slice(stopAt)), false, 'no replica started during shutdown');
});

test('SIGKILL of the emulator: the replicas die with it (parent-death signal)', async () => {
  const emu = await startEmulator();
  const st = await emu.state();
  assert.ok(st.pids.length >= 3);
  emu.proc.kill('SIGKILL');
  await emu.exited;
  await until(() => st.pids.every((p) => !alive(p)), { timeout: 5000, what: 'replicas to die with the emulator' });
});
