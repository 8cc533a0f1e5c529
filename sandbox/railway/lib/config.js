'use strict';
// The emulator's config file (written by sandbox/up): parse, check, fill
// defaults. Errors name the key that is wrong.

const fs = require('node:fs');
const path = require('node:path');

const REGION_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

function fail(file, msg) {
  const e = new Error(`${file}: ${msg}`);
  e.code = 'ECONFIG';
  throw e;
}

function isObj(v) { return v !== null && typeof v === 'object' && !Array.isArray(v); }

function loadConfig(file) {
  let raw;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    fail(file, `cannot read config: ${e.message}`);
  }
  return checkConfig(raw, file);
}

function checkConfig(raw, file = 'config') {
  if (!isObj(raw)) fail(file, 'top level must be an object');
  const c = {};
  const listen = raw.listen || {};
  c.listen = { host: listen.host || '127.0.0.1', port: listen.port === undefined ? 27310 : listen.port };
  if (!Number.isInteger(c.listen.port) || c.listen.port < 0 || c.listen.port > 65535) fail(file, 'listen.port must be a port number');
  for (const k of ['token', 'projectToken']) {
    if (typeof raw[k] !== 'string' || raw[k].length < 8) fail(file, `${k} must be a string of at least 8 characters`);
  }
  c.token = raw.token;
  c.projectToken = raw.projectToken;
  const rl = raw.rateLimit || {};
  c.rateLimit = { perHour: rl.perHour === undefined ? 1000 : rl.perHour, perSecond: rl.perSecond === undefined ? 10 : rl.perSecond };
  for (const k of ['perHour', 'perSecond']) {
    if (!Number.isInteger(c.rateLimit[k]) || c.rateLimit[k] < 0) fail(file, `rateLimit.${k} must be a non-negative integer`);
  }
  if (!isObj(raw.project) || typeof raw.project.id !== 'string' || !raw.project.id) fail(file, 'project.id is required');
  c.project = { id: raw.project.id, name: raw.project.name || 'sandbox', description: raw.project.description || null };
  c.user = Object.assign({ name: 'Sandbox Operator', email: 'operator@sandbox.invalid', username: 'sandbox' }, raw.user || {});
  c.workspace = Object.assign({ name: 'sandbox' }, raw.workspace || {});
  if (!Array.isArray(raw.environments) || raw.environments.length === 0) fail(file, 'environments must be a non-empty array');
  c.environments = raw.environments.map((e, i) => {
    if (!isObj(e) || typeof e.id !== 'string' || typeof e.name !== 'string') fail(file, `environments[${i}] needs id and name`);
    return { id: e.id, name: e.name };
  });
  if (!Array.isArray(raw.services)) fail(file, 'services must be an array');
  const names = new Set();
  const ports = new Set();
  c.services = raw.services.map((s, i) => {
    const at = `services[${i}]`;
    if (!isObj(s) || typeof s.id !== 'string' || typeof s.name !== 'string') fail(file, `${at} needs id and name`);
    if (names.has(s.name)) fail(file, `${at}: duplicate service name ${s.name}`);
    names.add(s.name);
    if (!Array.isArray(s.command) || s.command.length === 0 || !s.command.every((x) => typeof x === 'string')) fail(file, `${at}.command must be a non-empty array of strings`);
    const env = s.env || {};
    if (!isObj(env)) fail(file, `${at}.env must be an object`);
    const replicas = s.replicas || { 'us-west2': 1 };
    if (!isObj(replicas)) fail(file, `${at}.replicas must be an object {region: count}`);
    for (const [r, n] of Object.entries(replicas)) {
      if (!REGION_RE.test(r)) fail(file, `${at}.replicas: bad region name ${r}`);
      if (!Number.isInteger(n) || n < 0 || n > 50) fail(file, `${at}.replicas.${r} must be an integer 0..50`);
    }
    const front = s.front || {};
    for (const k of ['http', 'https']) {
      if (front[k] === undefined) continue;
      if (!Number.isInteger(front[k]) || front[k] <= 0 || front[k] > 65535) fail(file, `${at}.front.${k} must be a port`);
      if (ports.has(front[k])) fail(file, `${at}.front.${k}: port ${front[k]} used twice`);
      ports.add(front[k]);
    }
    return {
      id: s.id,
      name: s.name,
      command: s.command.slice(),
      cwd: s.cwd || null,
      env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
      version: s.version || 'v1',
      replicas: { ...replicas },
      front: { http: front.http || null, https: front.https || null },
      domain: s.domain || null,
      healthPath: s.healthPath || '/health',
      healthcheckTimeout: s.healthcheckTimeout || raw.healthcheckTimeout || 30,
      restartPolicyType: s.restartPolicyType || 'ON_FAILURE',
      restartPolicyMaxRetries: s.restartPolicyMaxRetries === undefined ? 10 : s.restartPolicyMaxRetries,
      icon: s.icon || null,
    };
  });
  const range = raw.replicaPortRange || [27400, 27599];
  if (!Array.isArray(range) || range.length !== 2 || !Number.isInteger(range[0]) || !Number.isInteger(range[1]) || range[0] > range[1]) fail(file, 'replicaPortRange must be [low, high]');
  c.replicaPortRange = range.slice();
  c.tls = null;
  if (raw.tls) {
    if (!raw.tls.cert || !raw.tls.key) fail(file, 'tls needs cert and key');
    c.tls = { cert: raw.tls.cert, key: raw.tls.key, ca: raw.tls.ca || null };
  }
  c.pgbackrest = null;
  if (raw.pgbackrest) {
    const p = raw.pgbackrest;
    for (const k of ['config', 'stanza', 'pgDataDir']) if (!p[k]) fail(file, `pgbackrest.${k} is required`);
    c.pgbackrest = {
      config: p.config,
      stanza: p.stanza,
      bin: p.bin || '/usr/bin/pgbackrest',
      pgDataDir: p.pgDataDir,
      runAs: p.runAs === undefined ? 'postgres' : p.runAs,
      pgCtl: p.pgCtl || '/usr/lib/postgresql/15/bin/pg_ctl',
      pgPort: p.pgPort || 5432,
      pgLogFile: p.pgLogFile || null,
      serviceName: p.serviceName || 'postgres',
      volumeName: p.volumeName || 'postgres-volume',
      mountPath: p.mountPath || '/var/lib/postgresql/data',
      timeoutSeconds: p.timeoutSeconds || 600,
    };
    if (names.has(c.pgbackrest.serviceName)) fail(file, `pgbackrest.serviceName ${c.pgbackrest.serviceName} clashes with a service`);
  }
  c.stateDir = raw.stateDir || null;
  const t = raw.timing || {};
  c.timing = {
    buildMs: t.buildMs === undefined ? 800 : t.buildMs,
    drainMs: t.drainMs === undefined ? 500 : t.drainMs,
    stopGraceMs: t.stopGraceMs === undefined ? 3000 : t.stopGraceMs,
    healthIntervalMs: t.healthIntervalMs === undefined ? 200 : t.healthIntervalMs,
    restartBackoffMs: t.restartBackoffMs === undefined ? 1000 : t.restartBackoffMs,
    gateRetries: t.gateRetries === undefined ? 2 : t.gateRetries,
    metricsSampleMs: t.metricsSampleMs === undefined ? 1000 : t.metricsSampleMs,
    slowApiMs: t.slowApiMs === undefined ? 5000 : t.slowApiMs,
  };
  const l = raw.limits || {};
  c.limits = {
    logLinesPerDeployment: l.logLinesPerDeployment || 5000,
    logLinesPerEnvironment: l.logLinesPerEnvironment || 20000,
    httpLogsPerDeployment: l.httpLogsPerDeployment || 5000,
    metricsSamples: l.metricsSamples || 200000,
    deploymentsPerService: l.deploymentsPerService || 200,
  };
  if (c.stateDir) c.stateDir = path.resolve(c.stateDir);
  return c;
}

module.exports = { loadConfig, checkConfig, REGION_RE };
