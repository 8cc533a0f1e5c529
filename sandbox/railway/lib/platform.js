'use strict';
// The emulated platform: project, environments, services, service instances,
// deployments and replicas, with real effects. A deployment is a set of
// replica processes of the service's command; its front (lib/front.js)
// round-robins over the active deployment's healthy replicas.
//
// Everything that changes a service instance (deploy, scale, restart, stop)
// runs through one serial queue per instance, so they never interleave.
// Replica crashes are handled outside that queue (restart policy).

const fs = require('node:fs');
const path = require('node:path');
const http = require('node:http');
const crypto = require('node:crypto');
const { EventEmitter } = require('node:events');
const { ChildProc, PortPool } = require('./procs');
const { Front } = require('./front');
const { parseLine } = require('./logs');
const { Serial, sleep, isoNow } = require('./util');
const { REGION_RE } = require('./config');

const ACTIVE_STATES = new Set(['SUCCESS', 'CRASHED']);
const IN_PROGRESS = new Set(['QUEUED', 'INITIALIZING', 'WAITING', 'BUILDING', 'DEPLOYING']);
const TERMINAL = new Set(['FAILED', 'REMOVED', 'SKIPPED']);
const VERSION_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

class ApiError extends Error {}

function commitHashOf(version) {
  return crypto.createHash('sha1').update(`sandbox-app@${version}`).digest('hex');
}

function clone(v) { return v === undefined ? undefined : JSON.parse(JSON.stringify(v)); }

function regionsList(mrc) {
  const out = [];
  for (const [region, v] of Object.entries(mrc || {})) {
    const n = v && Number.isInteger(v.numReplicas) ? v.numReplicas : 0;
    for (let i = 0; i < n; i++) out.push(region);
  }
  return out;
}

function totalReplicas(mrc) { return regionsList(mrc).length; }

class Platform extends EventEmitter {
  constructor(cfg, { journal, logs, ids, pg }) {
    super();
    this.setMaxListeners(0);
    this.cfg = cfg;
    this.journal = journal;
    this.logs = logs;
    this.ids = ids;
    this.pg = pg || null; // lib/postgres.js driver, when pgbackrest is configured
    this.serial = new Serial();
    this.ports = new PortPool(cfg.replicaPortRange, '127.0.0.1');
    this.started = isoNow();
    this.shuttingDown = false;
    this.faults = { crashLoop: new Set() };
    this.bytes = new Map(); // replicaId -> {rx, tx}

    this.user = {
      id: ids.derive('user', 'me'), name: cfg.user.name, email: cfg.user.email, username: cfg.user.username,
      avatar: null, createdAt: this.started, isAdmin: false, isVerified: true, has2FA: false,
    };
    this.workspace = { id: ids.derive('workspace', 'main'), name: cfg.workspace.name, createdAt: this.started, updatedAt: this.started };
    this.project = {
      id: cfg.project.id, name: cfg.project.name, description: cfg.project.description,
      createdAt: this.started, updatedAt: this.started, workspaceId: this.workspace.id,
      baseEnvironmentId: cfg.environments[0].id,
    };
    this.environments = cfg.environments.map((e) => ({ ...e, projectId: this.project.id, createdAt: this.started, updatedAt: this.started }));
    this.primaryEnv = this.environments[0];
    this.services = cfg.services.map((s) => ({
      id: s.id, name: s.name, kind: 'app', icon: s.icon, projectId: this.project.id,
      createdAt: this.started, updatedAt: this.started, cfg: s,
    }));
    if (cfg.pgbackrest) {
      this.services.push({
        id: ids.derive('service', 'postgres'), name: cfg.pgbackrest.serviceName, kind: 'postgres', icon: null,
        projectId: this.project.id, createdAt: this.started, updatedAt: this.started,
        cfg: { healthPath: null, replicas: { [this.defaultRegion()]: 1 }, version: '15', front: {}, env: {}, restartPolicyType: 'NEVER', restartPolicyMaxRetries: 0, healthcheckTimeout: 60 },
      });
      this.volume = { id: ids.derive('volume', 'postgres'), name: cfg.pgbackrest.volumeName, projectId: this.project.id, createdAt: this.started };
      this.volumeInstance = {
        id: ids.derive('volumeInstance', `${this.primaryEnv.id}`), volumeId: this.volume.id,
        serviceId: this.services[this.services.length - 1].id, environmentId: this.primaryEnv.id,
        mountPath: cfg.pgbackrest.mountPath, createdAt: this.started, externalId: ids.derive('volumeExternal', 'postgres'),
        sizeMB: 5000, region: this.defaultRegion(),
      };
    }

    this.instances = new Map();
    this.variables = new Map(); // envId -> {shared: Map, services: Map(svcId -> Map)}
    for (const env of this.environments) {
      const services = new Map();
      for (const svc of this.services) {
        const c = svc.cfg;
        this.instances.set(this.key(env.id, svc.id), {
          id: ids.derive('serviceInstance', `${env.id}:${svc.id}`),
          envId: env.id, svcId: svc.id, createdAt: this.started, updatedAt: this.started,
          sourceVersion: c.version,
          multiRegionConfig: Object.fromEntries(Object.entries(c.replicas).map(([r, n]) => [r, { numReplicas: n }])),
          healthcheckPath: c.healthPath, healthcheckTimeout: c.healthcheckTimeout,
          restartPolicyType: c.restartPolicyType, restartPolicyMaxRetries: c.restartPolicyMaxRetries,
          drainingSeconds: null, overlapSeconds: null, sleepApplication: false, startCommand: null,
          activeId: null, front: null,
        });
        services.set(svc.id, new Map(Object.entries(c.env || {})));
      }
      this.variables.set(env.id, { shared: new Map(), services });
    }
    this.deployments = new Map();
    this.seqCounter = 0;
    this.patches = new Map(); // id -> EnvironmentPatch record
    this.staged = new Map(); // envId -> patch id
  }

  defaultRegion() {
    for (const s of this.cfg.services) for (const r of Object.keys(s.replicas)) return r;
    return 'us-west2';
  }

  key(envId, svcId) { return `${envId}:${svcId}`; }

  event(type, fields) {
    const e = this.journal.add(type, fields);
    this.emit('journal', e);
    return e;
  }

  // ------------------------------------------------------------ lookups

  env(id) { return this.environments.find((e) => e.id === id) || null; }
  service(id) { return this.services.find((s) => s.id === id) || null; }
  serviceByName(name) { return this.services.find((s) => s.name === name) || null; }
  instance(envId, svcId) { return this.instances.get(this.key(envId, svcId)) || null; }
  instanceById(id) { for (const i of this.instances.values()) if (i.id === id) return i; return null; }
  deployment(id) { return this.deployments.get(id) || null; }

  mustEnv(id) { const e = this.env(id); if (!e) throw new ApiError('Environment not found'); return e; }
  mustService(id) { const s = this.service(id); if (!s) throw new ApiError('Service not found'); return s; }
  mustInstance(envId, svcId) {
    this.mustEnv(envId);
    this.mustService(svcId);
    return this.instance(envId, svcId);
  }
  mustDeployment(id) { const d = this.deployment(id); if (!d) throw new ApiError('Deployment not found'); return d; }

  deploymentsOf(envId, svcId) {
    return [...this.deployments.values()].filter((d) => (!envId || d.environmentId === envId) && (!svcId || d.serviceId === svcId));
  }

  latestDeployment(inst) {
    let best = null;
    for (const d of this.deployments.values()) {
      if (d.environmentId === inst.envId && d.serviceId === inst.svcId && (!best || d.seq > best.seq)) best = d;
    }
    return best;
  }

  activeDeployments(inst) {
    const out = [];
    for (const d of this.deployments.values()) {
      if (d.environmentId === inst.envId && d.serviceId === inst.svcId && (d.id === inst.activeId || d.status === 'REMOVING')) out.push(d);
    }
    return out.sort((a, b) => b.seq - a.seq);
  }

  domainOf(svc) {
    const c = svc.cfg;
    if (c.domain) return c.domain;
    if (c.front && c.front.https) return `127.0.0.1:${c.front.https}`;
    return null;
  }

  // ------------------------------------------------------------ variables

  vars(envId, svcId) {
    const v = this.variables.get(envId);
    if (!v) throw new ApiError('Environment not found');
    if (!svcId) return v.shared;
    const m = v.services.get(svcId);
    if (!m) throw new ApiError('Service not found');
    return m;
  }

  railwayVars(envId, svcId) {
    const env = this.env(envId);
    const svc = this.service(svcId);
    const out = {
      RAILWAY_ENVIRONMENT: env.name, RAILWAY_ENVIRONMENT_NAME: env.name, RAILWAY_ENVIRONMENT_ID: env.id,
      RAILWAY_PROJECT_NAME: this.project.name, RAILWAY_PROJECT_ID: this.project.id,
      RAILWAY_SERVICE_NAME: svc.name, RAILWAY_SERVICE_ID: svc.id,
      RAILWAY_PRIVATE_DOMAIN: `${svc.name}.railway.internal`,
    };
    const dom = env.id === this.primaryEnv.id ? this.domainOf(svc) : null;
    if (dom) out.RAILWAY_PUBLIC_DOMAIN = dom;
    return out;
  }

  // Render ${{shared.X}}, ${{X}}, ${{Service.X}} references.
  render(envId, svcId, raw, shared, depth = 0) {
    const out = {};
    const svcName = (name) => this.services.find((s) => s.name === name);
    const lookup = (ref) => {
      const r = ref.trim();
      const dot = r.indexOf('.');
      if (dot < 0) return raw[r] !== undefined ? raw[r] : (this.railwayVars(envId, svcId)[r] || '');
      const ns = r.slice(0, dot);
      const name = r.slice(dot + 1);
      if (ns === 'shared') return shared[name] !== undefined ? shared[name] : '';
      const other = svcName(ns);
      if (!other || depth > 2) return '';
      const ov = Object.fromEntries(this.vars(envId, other.id));
      const rendered = this.render(envId, other.id, ov, shared, depth + 1);
      return rendered[name] !== undefined ? rendered[name] : (this.railwayVars(envId, other.id)[name] || '');
    };
    for (const [k, v] of Object.entries(raw)) {
      out[k] = String(v).replace(/\$\{\{([^}]{1,200})\}\}/g, (_, ref) => {
        const val = lookup(ref);
        return typeof val === 'string' ? val.replace(/\$\{\{[^}]*\}\}/g, '') : String(val);
      });
    }
    return out;
  }

  variablesView(envId, svcId, unrendered) {
    const raw = Object.fromEntries(this.vars(envId, svcId));
    const shared = Object.fromEntries(this.vars(envId, null));
    if (!svcId) return raw;
    const base = { ...this.railwayVars(envId, svcId), ...raw };
    if (unrendered) return base;
    return { ...this.railwayVars(envId, svcId), ...this.render(envId, svcId, raw, shared) };
  }

  checkVarName(name) {
    if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.-]{0,255}$/.test(name)) throw new ApiError(`Invalid variable name: ${JSON.stringify(String(name).slice(0, 64))}`);
  }

  // Returns the service ids whose variables changed (for redeploys).
  upsertVariables(envId, svcId, entries, replace) {
    this.mustEnv(envId);
    if (svcId) this.mustService(svcId);
    const m = this.vars(envId, svcId);
    for (const [k] of entries) this.checkVarName(k);
    if (replace) m.clear();
    for (const [k, v] of entries) m.set(k, v === null || v === undefined ? '' : String(v));
    this.event('variables.upsert', { environmentId: envId, serviceId: svcId || null, names: entries.map(([k]) => k), replace: Boolean(replace) });
    return svcId ? [svcId] : this.servicesReferencingShared(envId, entries.map(([k]) => k));
  }

  deleteVariable(envId, svcId, name) {
    this.mustEnv(envId);
    if (svcId) this.mustService(svcId);
    const m = this.vars(envId, svcId);
    if (!m.has(name)) throw new ApiError(`Variable ${name} not found`);
    m.delete(name);
    this.event('variables.delete', { environmentId: envId, serviceId: svcId || null, name });
  }

  servicesReferencingShared(envId, names) {
    const out = [];
    for (const svc of this.services) {
      const m = this.vars(envId, svc.id);
      for (const v of m.values()) {
        if (names.some((n) => v.includes(`shared.${n}`))) { out.push(svc.id); break; }
      }
    }
    return out;
  }

  // ------------------------------------------------------------ versions

  // commitSha may name a version ("v2", "sandbox-app:v2") or be the commit
  // hash the emulator reports for a version.
  resolveVersion(inst, commitSha) {
    if (commitSha === undefined || commitSha === null || commitSha === '') return inst.sourceVersion;
    const s = String(commitSha).trim();
    const m = /^(?:sandbox-app[:@])?(.+)$/.exec(s);
    if (m && VERSION_RE.test(m[1]) && !/^[0-9a-f]{40}$/.test(m[1])) return m[1];
    for (const d of this.deployments.values()) if (d.meta.commitHash === s) return d.version;
    for (const v of this.knownVersions()) if (commitHashOf(v) === s) return v;
    throw new ApiError(`Commit ${s.slice(0, 64)} not found`);
  }

  knownVersions() {
    const set = new Set(['v1', 'v2', 'v3']);
    for (const i of this.instances.values()) set.add(i.sourceVersion);
    for (const d of this.deployments.values()) set.add(d.version);
    return [...set];
  }

  // ------------------------------------------------------------ deployments

  newDeployment(inst, { version, variables, reason, extraMeta }) {
    const svc = this.service(inst.svcId);
    const id = this.ids.next('deployment');
    const now = isoNow();
    const vars = variables || {
      service: Object.fromEntries(this.vars(inst.envId, inst.svcId)),
      shared: Object.fromEntries(this.vars(inst.envId, null)),
    };
    const dom = inst.envId === this.primaryEnv.id ? this.domainOf(svc) : null;
    const dep = {
      id, seq: ++this.seqCounter,
      projectId: this.project.id, environmentId: inst.envId, serviceId: inst.svcId,
      createdAt: now, updatedAt: now, statusUpdatedAt: now, status: 'QUEUED',
      version, variables: vars, everSucceeded: false, deploymentStopped: false, cancelled: false,
      crashLoop: svc.kind === 'app' && (this.faults.crashLoop.has(svc.id) || this.faults.crashLoop.has('*')),
      snapshotId: this.ids.next('snapshot'),
      replicas: new Map(),
      staticUrl: dom, url: dom ? `https://${dom}` : null,
      meta: {
        reason, version, image: svc.kind === 'app' ? `sandbox-app:${version}` : `postgres:${version}`,
        commitHash: commitHashOf(version), commitMessage: `sandbox-app ${version}`, commitAuthor: this.user.name, branch: 'main',
        serviceManifest: this.manifest(inst, version),
        ...(extraMeta || {}),
      },
    };
    this.deployments.set(id, dep);
    this.event('deployment.create', { deploymentId: id, service: svc.name, environment: this.env(inst.envId).name, version, reason });
    this.emit('deployment', dep);
    this.prune(inst);
    return dep;
  }

  manifest(inst, version) {
    return {
      deploy: {
        multiRegionConfig: clone(inst.multiRegionConfig), numReplicas: totalReplicas(inst.multiRegionConfig),
        healthcheckPath: inst.healthcheckPath, healthcheckTimeout: inst.healthcheckTimeout,
        restartPolicyType: inst.restartPolicyType, restartPolicyMaxRetries: inst.restartPolicyMaxRetries,
        startCommand: inst.startCommand,
      },
      source: { image: `sandbox-app:${version}` },
    };
  }

  prune(inst) {
    const all = this.deploymentsOf(inst.envId, inst.svcId).sort((a, b) => a.seq - b.seq);
    const max = this.cfg.limits.deploymentsPerService;
    let excess = all.length - max;
    for (const d of all) {
      if (excess <= 0) break;
      if (!TERMINAL.has(d.status) || d.id === inst.activeId) continue;
      this.deployments.delete(d.id);
      this.logs.forget(d.id);
      excess--;
    }
  }

  setStatus(dep, status, why) {
    if (dep.status === status) return;
    const from = dep.status;
    dep.status = status;
    dep.updatedAt = dep.statusUpdatedAt = isoNow();
    if (status === 'SUCCESS') dep.everSucceeded = true;
    const svc = this.service(dep.serviceId);
    this.event('deployment.status', { deploymentId: dep.id, service: svc.name, environment: this.env(dep.environmentId).name, from, to: status, why: why || undefined });
    this.platformLog(dep, `Deployment ${status.toLowerCase()}${why ? `: ${why}` : ''}`, status === 'FAILED' || status === 'CRASHED' ? 'error' : 'info');
    this.emit('deployment', dep);
  }

  // A line the platform says about a deployment (shown in its logs, like
  // Railway's own "Starting Container" lines).
  platformLog(dep, msg, severity = 'info', replicaId = null) {
    this.logs.addDeployLog(this.tags(dep, replicaId), { message: msg, severity, attributes: [{ key: 'level', value: JSON.stringify(severity) }] });
  }

  buildLog(dep, msg, severity = 'info') {
    this.logs.addBuildLog(this.tags(dep, null), msg, severity);
  }

  tags(dep, replicaId) {
    return {
      projectId: dep.projectId, environmentId: dep.environmentId, serviceId: dep.serviceId,
      deploymentId: dep.id, deploymentInstanceId: replicaId || null, snapshotId: dep.snapshotId,
    };
  }

  // Queue a deployment of inst; returns the deployment (its run continues in
  // the background).
  deploy(inst, opts) {
    const svc = this.service(inst.svcId);
    if (this.shuttingDown) throw new ApiError('The emulator is shutting down');
    if (svc.kind === 'postgres' && inst.envId !== this.primaryEnv.id) throw new ApiError(`${svc.name} runs only in the ${this.primaryEnv.name} environment of the sandbox`);
    const dep = this.newDeployment(inst, opts);
    this.serial.run(inst.id, () => this.runDeployment(inst, dep)).catch((e) => {
      this.event('error', { where: 'runDeployment', deploymentId: dep.id, message: e.message });
      if (!TERMINAL.has(dep.status) && !ACTIVE_STATES.has(dep.status)) this.setStatus(dep, 'FAILED', e.message);
    });
    return dep;
  }

  async runDeployment(inst, dep) {
    if (dep.cancelled || dep.status !== 'QUEUED') return;
    // a newer queued deployment of the same instance supersedes this one
    for (const d of this.deployments.values()) {
      if (d !== dep && d.environmentId === dep.environmentId && d.serviceId === dep.serviceId && d.status === 'QUEUED' && d.seq > dep.seq) {
        this.setStatus(dep, 'SKIPPED', `superseded by ${d.id}`);
        return;
      }
    }
    if (this.shuttingDown) { this.setStatus(dep, 'REMOVED', 'emulator shutting down'); return; }
    const svc = this.service(inst.svcId);
    this.setStatus(dep, 'BUILDING');
    dep.meta.serviceManifest = this.manifest(inst, dep.version);
    if (svc.kind === 'postgres') return this.pg.runDeployment(this, inst, dep);

    this.buildLog(dep, `[emulator] build of ${svc.name} ${dep.meta.image} (commit ${dep.meta.commitHash.slice(0, 7)})`);
    this.buildLog(dep, `[emulator] no build step: the sandbox app runs from source (${svc.cfg.command.join(' ')})`);
    await sleep(this.cfg.timing.buildMs);
    this.buildLog(dep, `[emulator] image sandbox-app:${dep.version} ready`);
    if (dep.cancelled) { this.setStatus(dep, 'REMOVED', 'cancelled'); return; }

    this.setStatus(dep, 'DEPLOYING');
    const regions = regionsList(inst.multiRegionConfig);
    if (dep.crashLoop) this.platformLog(dep, 'crash-loop fault is on: replicas of this deployment crash at boot', 'warn');
    const reps = [];
    for (const region of regions) reps.push(this.newReplica(dep, region));
    const results = await Promise.all(reps.map((r) => this.startAndGate(inst, dep, r, { gate: true })));
    const ok = results.every(Boolean);
    if (!ok || dep.cancelled) {
      await Promise.all(reps.map((r) => this.stopReplica(r, r.status === 'CRASHED' ? 'CRASHED' : 'REMOVED')));
      if (dep.cancelled) { this.setStatus(dep, 'REMOVED', 'cancelled'); return; }
      this.setStatus(dep, 'FAILED', 'Healthcheck failed');
      return;
    }
    // switch: new replicas serve, then the old deployment drains and stops
    const old = inst.activeId ? this.deployment(inst.activeId) : null;
    inst.activeId = dep.id;
    inst.updatedAt = isoNow();
    this.updateFront(inst);
    this.setStatus(dep, 'SUCCESS');
    this.event('front.switch', { service: svc.name, environment: this.env(inst.envId).name, deploymentId: dep.id, from: old ? old.id : null });
    if (old && old !== dep) await this.retire(old, 'REMOVED');
    // anything else left active (e.g. after a crash during deploy) goes too
    for (const d of this.deploymentsOf(inst.envId, inst.svcId)) {
      if (d !== dep && ACTIVE_STATES.has(d.status)) await this.retire(d, 'REMOVED');
    }
    // desired replicas may have changed while deploying
    await this.reconcileNow(inst);
  }

  async retire(dep, finalStatus) {
    this.setStatus(dep, 'REMOVING');
    await sleep(this.cfg.timing.drainMs);
    await Promise.all([...dep.replicas.values()].map((r) => this.stopReplica(r, 'REMOVED')));
    this.setStatus(dep, finalStatus);
  }

  newReplica(dep, region) {
    const r = {
      id: this.ids.next('replica'), deploymentId: dep.id, region, port: null, proc: null,
      status: 'INITIALIZING', restarts: 0, inFront: false, healthyAt: 0, stopping: false, crashTimer: null, gating: false,
    };
    dep.replicas.set(r.id, r);
    return r;
  }

  replicaEnv(inst, dep, r) {
    const svc = this.service(inst.svcId);
    const rendered = this.render(inst.envId, inst.svcId, dep.variables.service, dep.variables.shared);
    const base = {};
    for (const k of ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'NODE_PATH']) if (process.env[k]) base[k] = process.env[k];
    if (!base.PATH) base.PATH = '/usr/local/bin:/usr/bin:/bin';
    return {
      ...base,
      NODE_ENV: 'production',
      ...this.railwayVars(inst.envId, inst.svcId),
      ...rendered,
      RAILWAY_DEPLOYMENT_ID: dep.id,
      RAILWAY_REPLICA_ID: r.id,
      RAILWAY_REPLICA_REGION: r.region,
      RAILWAY_SNAPSHOT_ID: dep.snapshotId,
      RAILWAY_GIT_COMMIT_SHA: dep.meta.commitHash,
      PORT: String(r.port),
      VERSION: dep.crashLoop ? 'v3' : dep.version,
      REPLICA_ID: r.id,
      REGION: r.region,
      SERVICE: rendered.SERVICE || svc.name,
    };
  }

  async spawnReplica(inst, dep, r) {
    const svc = this.service(inst.svcId);
    if (r.port === null) r.port = await this.ports.take();
    const env = this.replicaEnv(inst, dep, r);
    const proc = new ChildProc({
      command: svc.cfg.command, env, cwd: svc.cfg.cwd, label: `${svc.name}/${dep.id}/${r.id}`, port: r.port,
      onLine: (stream, line) => this.logs.addDeployLog(this.tags(dep, r.id), parseLine(line, stream)),
      onExit: (code, signal) => this.onReplicaExit(inst, dep, r, proc, code, signal),
    });
    r.proc = proc;
    r.stopping = false;
    proc.start();
    this.platformLog(dep, `Starting Container (replica ${r.id.slice(0, 8)} in ${r.region}, pid ${proc.pid}, port ${r.port})`, 'info', r.id);
    this.event('replica.start', { service: svc.name, deploymentId: dep.id, replicaId: r.id, region: r.region, pid: proc.pid, port: r.port, version: env.VERSION });
  }

  // Start r and wait until it answers its health check. With gate (a
  // deploy), a replica that dies at boot is retried a few times, then the
  // gate fails. Resolves true when healthy.
  async startAndGate(inst, dep, r, { gate }) {
    const svc = this.service(inst.svcId);
    const retries = gate ? this.cfg.timing.gateRetries : 0;
    const deadline = Date.now() + (inst.healthcheckTimeout || 30) * 1000;
    r.gating = true;
    try {
      for (let attempt = 0; attempt <= retries; attempt++) {
        if (dep.cancelled || this.shuttingDown) return false;
        r.status = attempt === 0 ? 'INITIALIZING' : 'RESTARTING';
        await this.spawnReplica(inst, dep, r);
        const healthy = await this.waitHealthy(inst, r, deadline, dep);
        if (healthy) {
          r.status = 'RUNNING';
          r.healthyAt = Date.now();
          this.platformLog(dep, `Healthcheck succeeded for replica ${r.id.slice(0, 8)} (${inst.healthcheckPath})`, 'info', r.id);
          this.emit('deployment', dep);
          return true;
        }
        if (!r.proc.exited) {
          if (dep.cancelled || this.shuttingDown || r.stopping) return false;
          this.platformLog(dep, `Healthcheck failed for replica ${r.id.slice(0, 8)}: no 200 from ${inst.healthcheckPath} within ${inst.healthcheckTimeout}s`, 'error', r.id);
          r.stopping = true;
          await r.proc.stop(this.cfg.timing.stopGraceMs);
          r.stopping = false;
          r.unhealthy = true;
          r.status = 'CRASHED';
          return false;
        }
        r.status = 'CRASHED';
        if (Date.now() >= deadline) break;
        if (attempt < retries) await sleep(this.cfg.timing.restartBackoffMs * (2 ** attempt));
      }
      this.event('replica.gate_failed', { service: svc.name, deploymentId: dep.id, replicaId: r.id });
      return false;
    } finally {
      r.gating = false;
    }
  }

  waitHealthy(inst, r, deadline, dep) {
    const path = inst.healthcheckPath || '/';
    const interval = this.cfg.timing.healthIntervalMs;
    return new Promise((resolve) => {
      let done = false;
      const finish = (v) => { if (!done) { done = true; resolve(v); } };
      const tick = () => {
        if (done) return;
        if (r.proc.exited || (dep && dep.cancelled) || this.shuttingDown || r.stopping) return finish(false);
        if (Date.now() >= deadline) return finish(false);
        const req = http.get({ host: '127.0.0.1', port: r.port, path, timeout: 2000, agent: false, headers: { 'user-agent': 'RailwayHealthCheck/1.0' } }, (res) => {
          res.resume();
          if (res.statusCode === 200) return finish(true);
          setTimeout(tick, interval);
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', () => setTimeout(tick, interval));
      };
      setTimeout(tick, Math.min(interval, 100));
    });
  }

  async stopReplica(r, finalStatus) {
    r.stopping = true;
    if (r.crashTimer) { clearTimeout(r.crashTimer); r.crashTimer = null; }
    if (r.inFront) this.dropFromFront(r);
    if (r.proc && !r.proc.exited) {
      if (finalStatus === 'REMOVED') r.status = 'REMOVING';
      await r.proc.stop(this.cfg.timing.stopGraceMs);
    }
    if (r.port !== null) { this.ports.release(r.port); r.port = null; }
    r.status = finalStatus;
  }

  onReplicaExit(inst, dep, r, proc, code, signal) {
    const svc = this.service(inst.svcId);
    this.event('replica.exit', { service: svc.name, deploymentId: dep.id, replicaId: r.id, pid: proc.pid, code, signal, requested: r.stopping || false });
    if (r.proc !== proc) return; // an older process of this replica
    if (r.stopping || this.shuttingDown) return;
    this.platformLog(dep, `Replica ${r.id.slice(0, 8)} exited (code ${code}${signal ? `, signal ${signal}` : ''})`, code === 0 && !signal ? 'info' : 'error', r.id);
    if (r.gating) return; // startAndGate handles it
    this.handleCrash(inst, dep, r, code, signal);
  }

  // A replica of a deployment died on its own: status, front, restart policy.
  handleCrash(inst, dep, r, code, signal) {
    if (r.stopping || this.shuttingDown) return;
    if (r.port !== null) { this.ports.release(r.port); r.port = null; }
    if (r.inFront) this.dropFromFront(r);
    const isActive = inst.activeId === dep.id;
    if (!isActive) { r.status = 'EXITED'; return; }
    const failure = code !== 0 || Boolean(signal) || Boolean(r.unhealthy);
    r.unhealthy = false;
    r.status = failure ? 'CRASHED' : 'EXITED';
    if (dep.status === 'SUCCESS') this.setStatus(dep, 'CRASHED', `replica ${r.id.slice(0, 8)} exited (code ${code}${signal ? `, ${signal}` : ''})`);
    this.emit('deployment', dep);
    const policy = inst.restartPolicyType;
    if (policy === 'NEVER' || (policy === 'ON_FAILURE' && !failure)) return;
    if (r.healthyAt && Date.now() - r.healthyAt > 60000) r.restarts = 0;
    r.healthyAt = 0;
    if (r.restarts >= inst.restartPolicyMaxRetries) {
      this.platformLog(dep, `Replica ${r.id.slice(0, 8)} reached the restart limit (${inst.restartPolicyMaxRetries}); not restarting`, 'error', r.id);
      return;
    }
    r.restarts++;
    const delay = Math.min(this.cfg.timing.restartBackoffMs * (2 ** (r.restarts - 1)), 30000);
    this.platformLog(dep, `Restarting replica ${r.id.slice(0, 8)} in ${delay} ms (attempt ${r.restarts} of ${inst.restartPolicyMaxRetries}, policy ${policy})`, 'warn', r.id);
    r.status = 'RESTARTING';
    r.crashTimer = setTimeout(() => {
      r.crashTimer = null;
      if (inst.activeId !== dep.id || r.stopping || this.shuttingDown) return;
      this.restartCrashed(inst, dep, r).catch((e) => this.event('error', { where: 'restartCrashed', message: e.message }));
    }, delay);
  }

  async restartCrashed(inst, dep, r) {
    const ok = await this.startAndGate(inst, dep, r, { gate: false });
    if (!ok) {
      // died or unhealthy again: treat like a crash (policy decides)
      if (r.proc && r.proc.exited && !r.stopping) this.handleCrash(inst, dep, r, r.proc.exitCode === null ? 1 : r.proc.exitCode, r.proc.exitSignal);
      return;
    }
    if (inst.activeId !== dep.id || r.stopping) return;
    this.updateFront(inst);
    this.maybeRecovered(dep);
  }

  maybeRecovered(dep) {
    if (dep.status !== 'CRASHED') return;
    const live = [...dep.replicas.values()].filter((x) => x.status !== 'REMOVED');
    if (live.length && live.every((x) => x.status === 'RUNNING')) this.setStatus(dep, 'SUCCESS', 'all replicas running again');
  }

  updateFront(inst) {
    const svc = this.service(inst.svcId);
    const front = inst.front;
    const dep = inst.activeId ? this.deployment(inst.activeId) : null;
    const list = [];
    if (dep) {
      for (const r of dep.replicas.values()) {
        const ok = r.status === 'RUNNING' && r.proc && !r.proc.exited && r.port !== null;
        r.inFront = Boolean(ok && front);
        if (ok) list.push({ port: r.port, replicaId: r.id, deploymentId: dep.id, region: r.region });
      }
    }
    if (front) front.setBackends(list);
    this.emit('front', { service: svc.name, backends: list.length });
    this.writeScrapeTargets(inst, list);
  }

  // Prometheus file_sd targets of the primary environment's replicas:
  // <stateDir>/prometheus/<service>.json, one target per serving replica.
  writeScrapeTargets(inst, list) {
    if (!this.cfg.stateDir || inst.envId !== this.primaryEnv.id) return;
    const svc = this.service(inst.svcId);
    if (svc.kind !== 'app') return;
    const dep = inst.activeId ? this.deployment(inst.activeId) : null;
    const body = list.map((b) => ({
      targets: [`127.0.0.1:${b.port}`],
      labels: { service: svc.name, replica: b.replicaId, region: b.region, deployment: b.deploymentId, version: dep ? dep.version : '', environment: this.primaryEnv.name },
    }));
    const dir = path.join(this.cfg.stateDir, 'prometheus');
    const file = path.join(dir, `${svc.name}.json`);
    try {
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(body, null, 1)}\n`);
      fs.renameSync(`${file}.tmp`, file);
    } catch (e) {
      this.event('error', { where: 'writeScrapeTargets', message: e.message });
    }
  }

  dropFromFront(r) {
    r.inFront = false;
    const dep = this.deployment(r.deploymentId);
    if (!dep) return;
    const inst = this.instance(dep.environmentId, dep.serviceId);
    if (inst && inst.front) {
      inst.front.setBackends(inst.front.backends.filter((b) => b.replicaId !== r.id));
      this.writeScrapeTargets(inst, inst.front.backends);
    }
  }

  // ------------------------------------------------------------ scaling

  setMultiRegion(inst, mrc) {
    const svc = this.service(inst.svcId);
    const next = clone(inst.multiRegionConfig);
    for (const [region, v] of Object.entries(mrc || {})) {
      if (!REGION_RE.test(region)) throw new ApiError(`Invalid region: ${JSON.stringify(region.slice(0, 64))}`);
      if (v === null) { delete next[region]; continue; }
      if (typeof v !== 'object' || !Number.isInteger(v.numReplicas) || v.numReplicas < 0 || v.numReplicas > 50) throw new ApiError(`Invalid numReplicas for region ${region} (0..50)`);
      next[region] = { numReplicas: v.numReplicas };
    }
    if (svc.kind === 'postgres' && totalReplicas(next) !== 1) throw new ApiError('Services with a volume cannot have more than one replica');
    const before = clone(inst.multiRegionConfig);
    inst.multiRegionConfig = next;
    inst.updatedAt = isoNow();
    this.event('service.scale', { service: svc.name, environment: this.env(inst.envId).name, from: before, to: next });
    return next;
  }

  reconcile(inst) {
    return this.serial.run(inst.id, () => this.reconcileNow(inst));
  }

  async reconcileNow(inst) {
    const dep = inst.activeId ? this.deployment(inst.activeId) : null;
    const svc = this.service(inst.svcId);
    if (!dep || !ACTIVE_STATES.has(dep.status) || svc.kind !== 'app') return;
    const want = {};
    for (const r of regionsList(inst.multiRegionConfig)) want[r] = (want[r] || 0) + 1;
    const have = {};
    for (const r of dep.replicas.values()) {
      if (r.status === 'REMOVED' || r.status === 'REMOVING' || r.stopping) continue;
      (have[r.region] = have[r.region] || []).push(r);
    }
    const starts = [];
    const stops = [];
    for (const region of new Set([...Object.keys(want), ...Object.keys(have)])) {
      const w = want[region] || 0;
      const cur = have[region] || [];
      for (let i = cur.length; i < w; i++) starts.push(this.newReplica(dep, region));
      if (cur.length > w) {
        // stop the crashed ones first, then the newest
        const order = cur.slice().sort((a, b) => (a.status === 'RUNNING') - (b.status === 'RUNNING') || b.id.localeCompare(a.id));
        stops.push(...order.slice(0, cur.length - w));
      }
    }
    dep.meta.serviceManifest.deploy.multiRegionConfig = clone(inst.multiRegionConfig);
    dep.meta.serviceManifest.deploy.numReplicas = totalReplicas(inst.multiRegionConfig);
    if (!starts.length && !stops.length) return;
    this.platformLog(dep, `Scaling ${svc.name}: +${starts.length} -${stops.length} replicas`);
    for (const r of stops) this.dropFromFront(r);
    await Promise.all(stops.map((r) => this.stopReplica(r, 'REMOVED')));
    const ok = await Promise.all(starts.map((r) => this.startAndGate(inst, dep, r, { gate: false })));
    ok.forEach((good, i) => {
      const r = starts[i];
      if (!good && r.proc && r.proc.exited && !r.stopping) this.handleCrash(inst, dep, r, r.proc.exitCode === null ? 1 : r.proc.exitCode, r.proc.exitSignal);
    });
    this.updateFront(inst);
    this.maybeRecovered(dep);
    this.emit('deployment', dep);
  }

  // ------------------------------------------------------------ actions

  restart(dep) {
    const inst = this.instance(dep.environmentId, dep.serviceId);
    if (inst.activeId !== dep.id) throw new ApiError('Only the active deployment can be restarted');
    const svc = this.service(dep.serviceId);
    this.event('deployment.restart', { deploymentId: dep.id, service: svc.name });
    return this.serial.run(inst.id, async () => {
      if (inst.activeId !== dep.id) return;
      if (svc.kind === 'postgres') return this.pg.restartDeployment(this, inst, dep);
      this.platformLog(dep, 'Restarting deployment');
      for (const r of [...dep.replicas.values()]) {
        if (r.status === 'REMOVED' || r.stopping) continue;
        this.dropFromFront(r);
        r.status = 'RESTARTING';
        if (r.crashTimer) { clearTimeout(r.crashTimer); r.crashTimer = null; }
        if (r.proc && !r.proc.exited) {
          r.stopping = true;
          await r.proc.stop(this.cfg.timing.stopGraceMs);
        }
        if (r.port !== null) { this.ports.release(r.port); r.port = null; }
        r.restarts = 0;
        const ok = await this.startAndGate(inst, dep, r, { gate: false });
        if (ok) this.updateFront(inst);
        else if (r.proc && r.proc.exited && !r.stopping) this.handleCrash(inst, dep, r, r.proc.exitCode === null ? 1 : r.proc.exitCode, r.proc.exitSignal);
      }
      this.updateFront(inst);
      this.maybeRecovered(dep);
    });
  }

  stop(dep, { remove }) {
    const inst = this.instance(dep.environmentId, dep.serviceId);
    const svc = this.service(dep.serviceId);
    if (IN_PROGRESS.has(dep.status)) { this.cancel(dep); return Promise.resolve(); }
    if (inst.activeId !== dep.id) {
      if (!remove) throw new ApiError('Only the active deployment can be stopped');
      if (!TERMINAL.has(dep.status)) this.setStatus(dep, 'REMOVED');
      return Promise.resolve();
    }
    if (svc.kind === 'postgres') throw new ApiError(`The ${svc.name} service of the sandbox cannot be stopped through the API`);
    this.event(remove ? 'deployment.remove' : 'deployment.stop', { deploymentId: dep.id, service: svc.name });
    return this.serial.run(inst.id, async () => {
      if (inst.activeId !== dep.id) return;
      inst.activeId = null;
      this.updateFront(inst);
      this.setStatus(dep, 'REMOVING');
      await Promise.all([...dep.replicas.values()].map((r) => this.stopReplica(r, remove ? 'REMOVED' : 'STOPPED')));
      if (!remove) dep.deploymentStopped = true;
      this.setStatus(dep, 'REMOVED', remove ? 'removed' : 'stopped');
    });
  }

  cancel(dep) {
    if (!IN_PROGRESS.has(dep.status)) throw new ApiError('Deployment is not in progress');
    dep.cancelled = true;
    this.event('deployment.cancel', { deploymentId: dep.id });
    if (dep.status === 'QUEUED') this.setStatus(dep, 'REMOVED', 'cancelled');
  }

  rollback(target) {
    if (!target.everSucceeded) throw new ApiError('Cannot rollback to a deployment that never succeeded');
    const inst = this.instance(target.environmentId, target.serviceId);
    // restore the service's variables to the target's, then deploy them
    const m = this.vars(inst.envId, inst.svcId);
    m.clear();
    for (const [k, v] of Object.entries(target.variables.service)) m.set(k, v);
    this.event('variables.rollback', { serviceId: inst.svcId, environmentId: inst.envId, to: target.id });
    return this.deploy(inst, { version: target.version, variables: clone(target.variables), reason: 'rollback', extraMeta: { rollbackTargetDeploymentId: target.id } });
  }

  redeploy(dep) {
    const inst = this.instance(dep.environmentId, dep.serviceId);
    return this.deploy(inst, { version: dep.version, reason: 'redeploy', extraMeta: { redeployOf: dep.id } });
  }

  // Redeploy after a variable/config change: the latest active version, the
  // current variables.
  redeployLatest(inst, reason) {
    const active = inst.activeId ? this.deployment(inst.activeId) : null;
    const good = this.deploymentsOf(inst.envId, inst.svcId).filter((d) => d.everSucceeded).sort((a, b) => b.seq - a.seq)[0];
    const latest = active || good || null;
    const version = latest ? latest.version : inst.sourceVersion;
    if (!latest && !this.latestDeployment(inst) && inst.envId !== this.primaryEnv.id) return null; // never deployed there
    if (this.service(inst.svcId).kind === 'postgres' && inst.envId !== this.primaryEnv.id) return null;
    return this.deploy(inst, { version, reason });
  }

  // ------------------------------------------------------------ environment patches

  // Apply an EnvironmentConfig patch. Replica counts scale the running
  // deployment in place; other changes redeploy the service (unless
  // skipDeploys). Returns the EnvironmentPatch record.
  applyPatch(envId, patch, { message, skipDeploys, status = 'COMMITTED' }) {
    const env = this.mustEnv(envId);
    if (patch !== null && patch !== undefined && (typeof patch !== 'object' || Array.isArray(patch))) throw new ApiError('Invalid patch: expected an object');
    const p = patch || {};
    const plan = [];
    // validate everything before changing anything
    const services = p.services || {};
    if (typeof services !== 'object' || Array.isArray(services)) throw new ApiError('Invalid patch: services must be an object');
    for (const [sid, sp] of Object.entries(services)) {
      const svc = this.service(sid);
      if (!svc) throw new ApiError(`Service ${sid} not found`);
      if (sp === null || typeof sp !== 'object') throw new ApiError(`Invalid patch for service ${svc.name}`);
      plan.push([svc, sp]);
    }
    const ignored = [];
    const redeploy = new Set();
    const rescale = new Set();
    for (const [svc, sp] of plan) {
      const inst = this.instance(env.id, svc.id);
      for (const k of Object.keys(sp)) if (!['deploy', 'variables', 'source'].includes(k)) ignored.push(`services.${svc.name}.${k}`);
      const d = sp.deploy || {};
      if (d.multiRegionConfig !== undefined) { this.setMultiRegion(inst, d.multiRegionConfig || {}); rescale.add(inst); }
      if (d.numReplicas !== undefined && d.multiRegionConfig === undefined) {
        const regions = Object.keys(inst.multiRegionConfig);
        const region = regions[0] || this.defaultRegion();
        const mrc = {};
        regions.forEach((r) => { mrc[r] = r === region ? { numReplicas: d.numReplicas } : null; });
        if (!regions.length) mrc[region] = { numReplicas: d.numReplicas };
        this.setMultiRegion(inst, mrc);
        rescale.add(inst);
      }
      for (const k of ['healthcheckPath', 'healthcheckTimeout', 'restartPolicyType', 'restartPolicyMaxRetries', 'drainingSeconds', 'overlapSeconds', 'startCommand', 'sleepApplication']) {
        if (d[k] !== undefined) { inst[k] = d[k]; redeploy.add(inst); }
      }
      for (const k of Object.keys(d)) if (!['multiRegionConfig', 'numReplicas', 'healthcheckPath', 'healthcheckTimeout', 'restartPolicyType', 'restartPolicyMaxRetries', 'drainingSeconds', 'overlapSeconds', 'startCommand', 'sleepApplication'].includes(k)) ignored.push(`services.${svc.name}.deploy.${k}`);
      if (sp.source && sp.source.image) {
        inst.sourceVersion = this.versionFromImage(sp.source.image);
        redeploy.add(inst);
      }
      if (sp.variables && typeof sp.variables === 'object') {
        const ups = [];
        for (const [k, v] of Object.entries(sp.variables)) {
          if (v === null) { if (this.vars(env.id, svc.id).has(k)) this.deleteVariable(env.id, svc.id, k); } else ups.push([k, typeof v === 'object' ? v.value : v]);
        }
        if (ups.length) this.upsertVariables(env.id, svc.id, ups, false);
        redeploy.add(inst);
      }
    }
    if (p.sharedVariables && typeof p.sharedVariables === 'object') {
      const ups = [];
      for (const [k, v] of Object.entries(p.sharedVariables)) {
        if (v === null) { if (this.vars(env.id, null).has(k)) this.deleteVariable(env.id, null, k); } else ups.push([k, typeof v === 'object' ? v.value : v]);
      }
      if (ups.length) for (const sid of this.upsertVariables(env.id, null, ups, false)) redeploy.add(this.instance(env.id, sid));
    }
    for (const k of Object.keys(p)) if (!['services', 'sharedVariables', 'volumes'].includes(k)) ignored.push(k);
    const restores = [];
    if (p.volumes && typeof p.volumes === 'object') {
      for (const [vid, vp] of Object.entries(p.volumes)) {
        if (!this.volume || vid !== this.volume.id) throw new ApiError(`Volume ${vid} not found`);
        if (vp && vp.backupRestore) restores.push(vp.backupRestore);
      }
    }
    const rec = this.recordPatch(env.id, p, message, status);
    if (ignored.length) this.event('patch.ignored', { patchId: rec.id, keys: ignored });
    this.event('patch.commit', { patchId: rec.id, environment: env.name, services: plan.map(([s]) => s.name), skipDeploys: Boolean(skipDeploys) });
    for (const inst of rescale) if (!redeploy.has(inst) || skipDeploys) this.reconcile(inst);
    if (!skipDeploys) for (const inst of redeploy) this.redeployLatest(inst, 'config');
    for (const r of restores) this.pg.applyRestore(this, r, rec);
    return rec;
  }

  versionFromImage(image) {
    const m = /^(?:[^:@]+[:@])?([A-Za-z0-9][A-Za-z0-9._-]{0,63})$/.exec(String(image));
    if (!m) throw new ApiError(`Invalid image: ${String(image).slice(0, 64)}`);
    return m[1];
  }

  recordPatch(envId, patch, message, status) {
    const now = isoNow();
    const rec = {
      id: this.ids.next('patch'), environmentId: envId, patch: clone(patch), message: message || null,
      status, createdAt: now, updatedAt: now, appliedAt: status === 'COMMITTED' ? now : null, lastAppliedError: null,
    };
    this.patches.set(rec.id, rec);
    return rec;
  }

  stagedPatch(envId) {
    this.mustEnv(envId);
    const id = this.staged.get(envId);
    if (id && this.patches.get(id) && this.patches.get(id).status === 'STAGED') return this.patches.get(id);
    const rec = this.recordPatch(envId, {}, null, 'STAGED');
    this.staged.set(envId, rec.id);
    return rec;
  }

  stageChanges(envId, input, merge) {
    const rec = this.stagedPatch(envId);
    rec.patch = merge === false ? clone(input) : deepMerge(rec.patch, clone(input));
    rec.updatedAt = isoNow();
    this.event('patch.stage', { patchId: rec.id, environmentId: envId });
    this.emit('staged', rec);
    return rec;
  }

  commitStaged(envId, message, skipDeploys) {
    const rec = this.stagedPatch(envId);
    const applied = this.applyPatch(envId, rec.patch, { message: message || rec.message, skipDeploys });
    rec.status = 'COMMITTED';
    rec.appliedAt = applied.appliedAt;
    rec.updatedAt = isoNow();
    this.staged.delete(envId);
    this.emit('staged', rec);
    return applied.id;
  }

  // ------------------------------------------------------------ faults

  killReplica(svcName) {
    const svc = svcName ? this.serviceByName(svcName) : this.services.find((s) => s.kind === 'app');
    if (!svc || svc.kind !== 'app') throw new ApiError(`unknown app service ${svcName}`);
    const inst = this.instance(this.primaryEnv.id, svc.id);
    const dep = inst.activeId ? this.deployment(inst.activeId) : null;
    const r = dep && [...dep.replicas.values()].find((x) => x.status === 'RUNNING' && x.proc && !x.proc.exited);
    if (!r) throw new ApiError(`${svc.name} has no running replica`);
    const pid = r.proc.pid;
    r.proc.signal('SIGKILL');
    this.event('fault.kill_replica', { service: svc.name, deploymentId: dep.id, replicaId: r.id, pid });
    return { service: svc.name, deploymentId: dep.id, replicaId: r.id, pid };
  }

  // ------------------------------------------------------------ lifecycle

  async startFronts() {
    for (const svc of this.services) {
      if (svc.kind !== 'app') continue;
      const f = svc.cfg.front;
      if (!f.http && !f.https) continue;
      const inst = this.instance(this.primaryEnv.id, svc.id);
      const front = new Front({
        name: svc.name, host: '127.0.0.1', http: f.http, https: f.https, tls: this.cfg.tls,
        onHttpLog: (rec) => this.logs.addHttpLog(rec),
        onBytes: (rid, rx, tx) => {
          let b = this.bytes.get(rid);
          if (!b) { b = { rx: 0, tx: 0 }; this.bytes.set(rid, b); }
          b.rx += rx;
          b.tx += tx;
        },
      });
      await front.listen();
      inst.front = front;
    }
  }

  // The first deployment of every service in the primary environment.
  bootstrap() {
    const deps = [];
    for (const svc of this.services) {
      const inst = this.instance(this.primaryEnv.id, svc.id);
      if (svc.kind === 'postgres') { deps.push(this.pg.adopt(this, inst)); continue; }
      deps.push(this.deploy(inst, { version: inst.sourceVersion, reason: 'initial' }));
    }
    return deps;
  }

  bootstrapDone(deps) {
    return deps.every((d) => !IN_PROGRESS.has(d.status));
  }

  async shutdown() {
    this.shuttingDown = true;
    for (const d of this.deployments.values()) d.cancelled = d.cancelled || IN_PROGRESS.has(d.status);
    const stops = [];
    for (const d of this.deployments.values()) {
      for (const r of d.replicas.values()) {
        if (r.crashTimer) { clearTimeout(r.crashTimer); r.crashTimer = null; }
        if (r.proc && !r.proc.exited) { r.stopping = true; stops.push(r.proc.stop(this.cfg.timing.stopGraceMs)); }
      }
    }
    await Promise.all(stops);
    for (const inst of this.instances.values()) if (inst.front) await inst.front.close();
  }

  metricTargets() {
    const out = this.pg ? this.pg.metricTargets(this) : [];
    for (const d of this.deployments.values()) {
      for (const r of d.replicas.values()) {
        if (!r.proc || r.proc.exited || !r.proc.pid) continue;
        out.push({ pids: [r.proc.pid], projectId: d.projectId, environmentId: d.environmentId, serviceId: d.serviceId, deploymentId: d.id, replicaId: r.id, region: r.region });
      }
    }
    return out;
  }
}

function deepMerge(a, b) {
  if (!a || typeof a !== 'object' || Array.isArray(a)) return b;
  if (!b || typeof b !== 'object' || Array.isArray(b)) return b;
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = k in out ? deepMerge(out[k], v) : v;
  return out;
}

module.exports = { Platform, ApiError, commitHashOf, IN_PROGRESS, ACTIVE_STATES, TERMINAL, regionsList, totalReplicas };
