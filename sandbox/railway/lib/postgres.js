'use strict';
// The sandbox's PostgreSQL as a Railway service with a volume: the emulator
// does not start it (sandbox/up does) but adopts the running postmaster as
// the service's single replica, watches it, restarts it on request, and
// backs its volume up and restores it with real pgBackRest commands.
//
// Railway semantics kept: backup create/restore are asynchronous workflows
// polled with workflowStatus; a restore is a STAGED change of the
// environment, applied by environmentPatchCommitStaged, which rolls out a new
// deployment of the database service (stop, pgbackrest restore --delta,
// start).

const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');
const { lineSplitter } = require('./logs');
const { isoNow, sleep } = require('./util');

class ApiErrorLocal extends Error {}

// Railway's backup schedules: how often, and how long each backup is kept
// (its documentation: daily ones 6 days, weekly ones a month, monthly ones
// three months).
const SCHEDULE = {
  DAILY: { name: 'Daily', cron: '0 0 * * *', retentionDays: 6 },
  WEEKLY: { name: 'Weekly', cron: '0 0 * * 0', retentionDays: 30 },
  MONTHLY: { name: 'Monthly', cron: '0 0 1 * *', retentionDays: 90 },
};
const SCHEDULE_KINDS = Object.keys(SCHEDULE);

function userIds(name) {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch (_) {
    return null;
  }
}

class PgDriver {
  constructor(cfg, { journal, stateDir, ids, ApiError }) {
    this.cfg = cfg; // config.pgbackrest
    this.journal = journal;
    this.stateDir = stateDir;
    this.ids = ids;
    this.ApiError = ApiError || ApiErrorLocal;
    this.workflows = new Map(); // id -> {status, error, kind, startedAt, endedAt}
    this.schedules = new Map(); // VolumeInstanceBackupScheduleKind -> schedule record (in memory)
    this.busy = null; // description of the running pgBackRest/pg_ctl operation
    this.opts = null; // postmaster options captured from postmaster.opts
    this.watchTimer = null;
    this.sizeMB = 0;
    this.sizeTimer = null;
    this.asUser = this.cfg.runAs && process.getuid && process.getuid() === 0 ? this.cfg.runAs : null;
  }

  event(type, fields) { return this.journal.add(type, fields); }

  // ------------------------------------------------------------ commands

  // Run BIN ARGS as the configured user; lines go to onLine. Resolves
  // {code, lines}. Bounded by timeoutMs.
  run(bin, args, { onLine, timeoutMs } = {}) {
    const file = this.asUser ? '/usr/sbin/runuser' : bin;
    const argv = this.asUser ? ['-u', this.asUser, '--', bin, ...args] : args;
    return new Promise((resolve) => {
      const lines = [];
      const keep = (stream, l) => {
        lines.push(l);
        if (lines.length > 400) lines.shift();
        if (onLine) onLine(stream, l);
      };
      let child;
      try {
        child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' });
      } catch (e) {
        resolve({ code: 127, lines: [e.message] });
        return;
      }
      const out = lineSplitter((l) => keep('stdout', l));
      const err = lineSplitter((l) => keep('stderr', l));
      child.stdout.on('data', (c) => out.write(c));
      child.stderr.on('data', (c) => err.write(c));
      const timer = setTimeout(() => { try { child.kill('SIGKILL'); } catch (_) { /* gone */ } }, timeoutMs || this.cfg.timeoutSeconds * 1000);
      child.on('error', (e) => { keep('stderr', e.message); });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        out.end();
        err.end();
        resolve({ code: code === null ? (signal ? 128 : 1) : code, lines });
      });
    });
  }

  pgbr(args, o) {
    return this.run(this.cfg.bin, [`--config=${this.cfg.config}`, `--stanza=${this.cfg.stanza}`, ...args], o);
  }

  // ------------------------------------------------------------ postmaster

  postmasterPid() {
    try {
      const first = fs.readFileSync(path.join(this.cfg.pgDataDir, 'postmaster.pid'), 'utf8').split('\n')[0];
      const pid = Number(first);
      if (!Number.isInteger(pid) || pid <= 0) return null;
      process.kill(pid, 0);
      return pid;
    } catch (_) {
      return null;
    }
  }

  // The options the running cluster was started with (pg_ctl writes them to
  // postmaster.opts), minus -D: reused when the emulator starts it again.
  captureOpts() {
    try {
      const text = fs.readFileSync(path.join(this.cfg.pgDataDir, 'postmaster.opts'), 'utf8');
      const args = [];
      const re = /"((?:[^"\\]|\\.)*)"/g;
      let m;
      let guard = 0;
      while ((m = re.exec(text)) && guard++ < 200) args.push(m[1]);
      if (args.length && /\/(postgres|postmaster)$/.test(args[0])) args.shift();
      // first the server binary (unquoted), then every argument in quotes
      const out = [];
      for (let i = 0; i < args.length; i++) {
        if (args[i] === '-D') { i++; continue; }
        out.push(args[i]);
      }
      if (!out.includes('-p') && !out.some((a) => a.startsWith('port='))) out.push('-p', String(this.cfg.pgPort));
      this.opts = out;
    } catch (_) {
      if (!this.opts) this.opts = ['-p', String(this.cfg.pgPort)];
    }
    return this.opts;
  }

  // Where pg_ctl -l writes when the emulator starts the cluster: the
  // configured pgLogFile, else a file in stateDir, else one in the data
  // directory, whichever the server's user can append to.
  logFile() {
    if (this.cfg.pgLogFile) return this.cfg.pgLogFile;
    if (this._logFile) return this._logFile;
    const ids = this.asUser ? userIds(this.asUser) : null;
    const candidates = [];
    if (this.stateDir) candidates.push(path.join(this.stateDir, 'postgres-emulator.log'));
    candidates.push(path.join(this.cfg.pgDataDir, 'emulator-pg_ctl.log'));
    for (const f of candidates) {
      try {
        if (!f.startsWith(this.cfg.pgDataDir)) {
          fs.mkdirSync(path.dirname(f), { recursive: true });
          fs.closeSync(fs.openSync(f, 'a'));
          if (ids) fs.chownSync(f, ids.uid, ids.gid);
        }
        if (this.asUser) execFileSync('/usr/sbin/runuser', ['-u', this.asUser, '--', '/bin/sh', '-c', ': >> "$1"', 'sh', f], { stdio: 'ignore', timeout: 10000 });
        this._logFile = f;
        return f;
      } catch (_) { /* next candidate */ }
    }
    this._logFile = '/dev/null';
    return this._logFile;
  }

  tcpReady(timeoutMs = 1000) {
    return new Promise((resolve) => {
      const s = net.connect({ port: this.cfg.pgPort, host: '127.0.0.1' });
      const t = setTimeout(() => { s.destroy(); resolve(false); }, timeoutMs);
      s.on('connect', () => { clearTimeout(t); s.destroy(); resolve(true); });
      s.on('error', () => { clearTimeout(t); resolve(false); });
    });
  }

  async stopPg(onLine) {
    if (!this.postmasterPid()) return { code: 0, lines: ['not running'] };
    this.captureOpts();
    return this.run(this.cfg.pgCtl, ['stop', '-D', this.cfg.pgDataDir, '-m', 'fast', '-w', '-t', '60'], { onLine, timeoutMs: 90000 });
  }

  async startPg(onLine) {
    if (this.postmasterPid()) return { code: 0, lines: ['already running'] };
    const opts = (this.opts || this.captureOpts()).map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const r = await this.run(this.cfg.pgCtl, ['start', '-D', this.cfg.pgDataDir, '-w', '-t', '120', '-l', this.logFile(), '-o', opts], { onLine, timeoutMs: 150000 });
    const pid = this.postmasterPid();
    this.event('postgres.start', { pid, code: r.code });
    return r;
  }

  // ------------------------------------------------------------ as a service

  adopt(platform, inst) {
    this.captureOpts();
    const dep = platform.newDeployment(inst, { version: inst.sourceVersion, reason: 'initial' });
    dep.meta.image = 'postgres:15';
    dep.meta.commitMessage = 'PostgreSQL managed by sandbox/up';
    const r = platform.newReplica(dep, Object.keys(inst.multiRegionConfig)[0] || platform.defaultRegion());
    r.pg = true;
    r.pid = this.postmasterPid();
    r.status = r.pid ? 'RUNNING' : 'CRASHED';
    inst.activeId = dep.id;
    platform.setStatus(dep, 'BUILDING');
    platform.setStatus(dep, 'DEPLOYING');
    platform.setStatus(dep, r.pid ? 'SUCCESS' : 'CRASHED', r.pid ? `adopted postmaster pid ${r.pid}` : 'postmaster not running');
    dep.everSucceeded = true;
    this.watch(platform, inst);
    this.measure();
    return dep;
  }

  watch(platform, inst) {
    const tick = () => {
      if (this.busy || platform.shuttingDown) return;
      const dep = inst.activeId ? platform.deployment(inst.activeId) : null;
      if (!dep) return;
      const r = [...dep.replicas.values()].find((x) => x.pg && x.status !== 'REMOVED');
      if (!r) return;
      const pid = this.postmasterPid();
      if (!pid && r.status === 'RUNNING') {
        r.status = 'CRASHED';
        platform.event('postgres.down', { lastPid: r.pid });
        platform.platformLog(dep, `postmaster ${r.pid} is gone`, 'error', r.id);
        if (dep.status === 'SUCCESS') platform.setStatus(dep, 'CRASHED', 'postmaster exited');
      } else if (pid && (r.status !== 'RUNNING' || pid !== r.pid)) {
        r.pid = pid;
        r.status = 'RUNNING';
        this.captureOpts();
        platform.event('postgres.up', { pid });
        platform.platformLog(dep, `postmaster running (pid ${pid})`, 'info', r.id);
        if (dep.status === 'CRASHED') platform.setStatus(dep, 'SUCCESS', 'postmaster running again');
      }
    };
    this.watchTimer = setInterval(tick, 1000);
    this.watchTimer.unref();
  }

  // Size of the data directory (bounded walk), refreshed every 30 s.
  measure() {
    const walk = () => {
      let total = 0;
      let n = 0;
      const stack = [this.cfg.pgDataDir];
      while (stack.length && n < 200000) {
        const d = stack.pop();
        let ents = [];
        try { ents = fs.readdirSync(d, { withFileTypes: true }); } catch (_) { continue; }
        for (const e of ents) {
          n++;
          const p = path.join(d, e.name);
          if (e.isDirectory()) stack.push(p);
          else if (e.isFile()) { try { total += fs.statSync(p).size; } catch (_) { /* raced */ } }
        }
      }
      this.sizeMB = total / (1024 * 1024);
    };
    walk();
    this.sizeTimer = setInterval(walk, 30000);
    this.sizeTimer.unref();
  }

  metricTargets(platform) {
    const out = [];
    for (const d of platform.deployments.values()) {
      for (const r of d.replicas.values()) {
        if (!r.pg || r.status !== 'RUNNING' || !r.pid) continue;
        out.push({ pids: [r.pid], tree: true, projectId: d.projectId, environmentId: d.environmentId, serviceId: d.serviceId, deploymentId: d.id, replicaId: r.id, region: r.region, volumeId: platform.volume.id, volumeInstanceId: platform.volumeInstance.id });
      }
    }
    return out;
  }

  // A deployment of the database service: restart the cluster (and, for a
  // restore, restore the volume while it is stopped).
  async runDeployment(platform, inst, dep) {
    const log = (m, sev) => platform.platformLog(dep, m, sev);
    const lineTo = (stream, l) => platform.logs.addDeployLog(platform.tags(dep, null), { message: l, severity: stream === 'stderr' ? 'error' : 'info', attributes: [{ key: 'level', value: JSON.stringify(stream === 'stderr' ? 'error' : 'info') }] });
    if (this.busy) { platform.setStatus(dep, 'FAILED', `${this.busy} in progress`); return; }
    this.busy = dep.meta.reason === 'restore' ? 'restore' : 'restart';
    try {
      platform.buildLog(dep, `[emulator] ${dep.meta.reason === 'restore' ? `restore of backup ${dep.meta.backupLabel}` : 'restart'} of ${this.cfg.serviceName}`);
      platform.setStatus(dep, 'DEPLOYING');
      const old = inst.activeId ? platform.deployment(inst.activeId) : null;
      log('Stopping PostgreSQL');
      const st = await this.stopPg(lineTo);
      if (st.code !== 0) throw new Error(`pg_ctl stop failed (exit ${st.code})`);
      if (old) for (const r of old.replicas.values()) if (r.pg) r.status = 'STOPPED';
      let restoreErr = null;
      if (dep.meta.reason === 'restore') {
        log(`pgbackrest restore --delta --set=${dep.meta.backupLabel} --type=immediate`);
        const rr = await this.pgbr(['--delta', `--set=${dep.meta.backupLabel}`, '--type=immediate', '--target-action=promote', '--log-level-console=info', 'restore'], { onLine: lineTo });
        this.event('pgbackrest.restore', { label: dep.meta.backupLabel, code: rr.code });
        if (rr.code !== 0) restoreErr = `pgbackrest restore failed (exit ${rr.code})`;
      }
      log('Starting PostgreSQL');
      const sr = await this.startPg(lineTo);
      const pid = this.postmasterPid();
      let ready = false;
      for (let i = 0; i < 60 && pid && !ready; i++) { ready = await this.tcpReady(); if (!ready) await sleep(500); }
      const r = platform.newReplica(dep, Object.keys(inst.multiRegionConfig)[0] || platform.defaultRegion());
      r.pg = true;
      r.pid = pid;
      r.status = pid && ready ? 'RUNNING' : 'CRASHED';
      if (!pid || !ready || sr.code !== 0 || restoreErr) {
        throw new Error(restoreErr || `PostgreSQL did not start (pg_ctl exit ${sr.code})`);
      }
      inst.activeId = dep.id;
      platform.setStatus(dep, 'SUCCESS', `postmaster pid ${pid}`);
      if (old && old !== dep) {
        for (const x of old.replicas.values()) if (x.pg) x.status = 'REMOVED';
        platform.setStatus(old, 'REMOVED');
      }
    } catch (e) {
      platform.event('postgres.deploy_failed', { deploymentId: dep.id, message: e.message });
      // never leave the database down because of us
      if (!this.postmasterPid()) await this.startPg(lineTo);
      platform.setStatus(dep, 'FAILED', e.message);
    } finally {
      this.busy = null;
    }
  }

  async restartDeployment(platform, inst, dep) {
    if (this.busy) throw new this.ApiError(`${this.busy} in progress`);
    this.busy = 'restart';
    const lineTo = (stream, l) => platform.logs.addDeployLog(platform.tags(dep, null), { message: l, severity: stream === 'stderr' ? 'error' : 'info', attributes: [] });
    try {
      platform.platformLog(dep, 'Restarting PostgreSQL');
      const r = [...dep.replicas.values()].find((x) => x.pg && x.status !== 'REMOVED');
      if (r) r.status = 'RESTARTING';
      await this.stopPg(lineTo);
      await this.startPg(lineTo);
      const pid = this.postmasterPid();
      if (r) { r.pid = pid; r.status = pid ? 'RUNNING' : 'CRASHED'; }
      if (!pid) platform.setStatus(dep, 'CRASHED', 'PostgreSQL did not start');
      else if (dep.status === 'CRASHED') platform.setStatus(dep, 'SUCCESS');
      platform.emit('deployment', dep);
    } finally {
      this.busy = null;
    }
  }

  // ------------------------------------------------------------ backups

  async info() {
    const r = await this.pgbr(['--output=json', 'info'], { timeoutMs: 60000 });
    if (r.code !== 0) throw new this.ApiError(`pgbackrest info failed (exit ${r.code}): ${r.lines.slice(-3).join(' ')}`);
    let parsed;
    try { parsed = JSON.parse(r.lines.join('\n')); } catch (e) { throw new this.ApiError(`pgbackrest info: unreadable output (${e.message})`); }
    const stanza = (Array.isArray(parsed) ? parsed : []).find((s) => s.name === this.cfg.stanza);
    return stanza ? stanza.backup || [] : [];
  }

  backupRecord(b) {
    const MB = 1024 * 1024;
    const ann = b.annotation || {};
    const info = b.info || {};
    const repo = info.repository || {};
    return {
      id: this.ids.derive('backup', b.label),
      externalId: b.label,
      name: ann.name || null,
      creatorId: ann.creator || null,
      createdAt: new Date(((b.timestamp && b.timestamp.stop) || 0) * 1000).toISOString(),
      expiresAt: null,
      scheduleId: null,
      usedMB: Math.round((info.size || 0) / MB),
      referencedMB: Math.round((repo.size || 0) / MB),
      volumeInstanceSizeMB: Math.round((info.size || 0) / MB),
    };
  }

  async list() {
    const backups = await this.info();
    return backups.map((b) => this.backupRecord(b)).sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
  }

  newWorkflow(kind) {
    const id = this.ids.next('workflow');
    const w = { id, kind, status: 'Running', error: null, startedAt: isoNow(), endedAt: null };
    this.workflows.set(id, w);
    return w;
  }

  endWorkflow(w, err) {
    w.status = err ? 'Error' : 'Complete';
    w.error = err ? String(err.message || err) : null;
    w.endedAt = isoNow();
    this.event('workflow.end', { workflowId: w.id, kind: w.kind, status: w.status, error: w.error || undefined });
  }

  workflow(id) { return this.workflows.get(id) || null; }

  create(name, userId) {
    if (this.busy) throw new this.ApiError(`A ${this.busy} of this volume is in progress`);
    const w = this.newWorkflow('backup');
    this.busy = 'backup';
    this.event('pgbackrest.backup_start', { workflowId: w.id, name: name || null });
    const args = ['--start-fast', '--log-level-console=info'];
    if (name) args.push(`--annotation=name=${String(name).slice(0, 200)}`);
    if (userId) args.push(`--annotation=creator=${userId}`);
    args.push('backup');
    this.pgbr(args).then((r) => {
      this.busy = null;
      this.event('pgbackrest.backup', { workflowId: w.id, code: r.code });
      this.endWorkflow(w, r.code === 0 ? null : new Error(`pgbackrest backup failed (exit ${r.code}): ${r.lines.slice(-3).join(' ')}`));
    }, (e) => { this.busy = null; this.endWorkflow(w, e); });
    return w;
  }

  // volumeInstanceBackupRestore: check the backup exists, then stage the
  // restore in the environment. The workflow completes when staged.
  restoreStage(platform, backupId) {
    const w = this.newWorkflow('restore');
    (async () => {
      const backups = await this.info();
      const b = backups.find((x) => this.ids.derive('backup', x.label) === backupId || x.label === backupId);
      if (!b) throw new Error(`Backup ${backupId} not found`);
      platform.stageChanges(platform.primaryEnv.id, {
        volumes: { [platform.volume.id]: { backupRestore: { backupId: this.ids.derive('backup', b.label), externalId: b.label, workflowId: w.id } } },
      }, true);
      this.event('pgbackrest.restore_staged', { workflowId: w.id, label: b.label });
    })().then(() => this.endWorkflow(w, null), (e) => this.endWorkflow(w, e));
    return w;
  }

  // ------------------------------------------------------------ schedule

  // The volume's backup schedule, as volumeInstanceBackupScheduleList
  // returns it: one record per kind, DAILY, WEEKLY, MONTHLY in that order.
  // Kept in memory only, and nothing runs on it: the sandbox takes its
  // backups when asked.
  scheduleList() {
    return SCHEDULE_KINDS.filter((k) => this.schedules.has(k)).map((k) => this.schedules.get(k));
  }

  // volumeInstanceBackupScheduleUpdate: KINDS replaces the schedule (an
  // empty list removes it). A kind kept keeps its record (id, createdAt).
  scheduleUpdate(kinds, volumeInstanceId) {
    const want = new Set(kinds || []);
    for (const k of want) if (!SCHEDULE[k]) throw new this.ApiError(`Unknown backup schedule kind ${String(k).slice(0, 32)}`);
    const before = this.scheduleList().map((s) => s.kind);
    for (const k of [...this.schedules.keys()]) if (!want.has(k)) this.schedules.delete(k);
    for (const k of SCHEDULE_KINDS) {
      if (!want.has(k) || this.schedules.has(k)) continue;
      const d = SCHEDULE[k];
      this.schedules.set(k, {
        id: this.ids.next('backupSchedule'), kind: k, name: d.name, cron: d.cron,
        retentionSeconds: d.retentionDays * 86400, createdAt: isoNow(), volumeInstanceId,
      });
    }
    this.event('backup.schedule', { volumeInstanceId, before, after: this.scheduleList().map((s) => s.kind) });
    return true;
  }

  // Applying a staged restore: a new deployment of the database service.
  applyRestore(platform, spec, patchRec) {
    const svc = platform.services.find((s) => s.kind === 'postgres');
    const inst = platform.instance(platform.primaryEnv.id, svc.id);
    const dep = platform.deploy(inst, {
      version: inst.sourceVersion, reason: 'restore',
      extraMeta: { backupId: spec.backupId, backupLabel: spec.externalId, patchId: patchRec.id, image: 'postgres:15' },
    });
    return dep;
  }

  stop() {
    if (this.watchTimer) clearInterval(this.watchTimer);
    if (this.sizeTimer) clearInterval(this.sizeTimer);
  }
}

module.exports = { PgDriver };
