#!/usr/bin/env node
'use strict';
// Railway API emulator for the signalbox sandbox.
//
//   node sandbox/railway/server.js --config RUN/railway.json
//
// Serves a subset of Railway's public GraphQL API (schema.graphql) on
// listen.host:listen.port at /graphql/v2 (HTTP and graphql-transport-ws),
// with real effects: services are processes of the configured command,
// fronted by per-service HTTP(S) proxies on fixed ports. See
// docs/railway-emulator.md. SIGTERM stops every replica and exits 0.

const fs = require('node:fs');
const path = require('node:path');
const { loadConfig } = require('./lib/config');
const { makeIdFactory, Journal } = require('./lib/util');
const { LogStore } = require('./lib/logs');
const { Platform, ApiError } = require('./lib/platform');
const { PgDriver } = require('./lib/postgres');
const { Metrics } = require('./lib/metrics');
const { RateLimiter } = require('./lib/ratelimit');
const { makeResolvers, attachResolvers } = require('./lib/resolvers');
const { loadEmulatorSchema } = require('./lib/schemas');
const { Api } = require('./lib/api');
const procs = require('./lib/procs');

function usage() {
  process.stderr.write('usage: server.js --config FILE\n');
  process.exit(2);
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--config') out.config = argv[++i];
    else if (a.startsWith('--config=')) out.config = a.slice(9);
    else if (a === '-h' || a === '--help') usage();
    else { process.stderr.write(`server.js: unknown argument ${a}\n`); usage(); }
  }
  if (!out.config) usage();
  return out;
}

function say(obj) {
  try { process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...obj })}\n`); } catch (_) { /* stdout gone */ }
}

// Build the whole emulator from a checked config; returns {start, stop, app}.
function createEmulator(cfg) {
  const ids = makeIdFactory(cfg.project.id);
  const journal = new Journal(5000);
  const logs = new LogStore(cfg.limits);
  const stateDir = cfg.stateDir;
  if (stateDir) fs.mkdirSync(stateDir, { recursive: true });
  const pg = cfg.pgbackrest ? new PgDriver(cfg.pgbackrest, { journal, stateDir, ids, ApiError }) : null;
  const platform = new Platform(cfg, { journal, logs, ids, pg });
  const limiter = new RateLimiter(cfg.rateLimit);
  const metrics = new Metrics(platform, { sampleMs: cfg.timing.metricsSampleMs, maxSamples: cfg.limits.metricsSamples });
  const app = { cfg, ids, journal, logs, platform, limiter, metrics, pg };
  app.schema = attachResolvers(loadEmulatorSchema(), makeResolvers(app));
  let bootDeps = null;
  app.ready = () => Boolean(bootDeps) && platform.bootstrapDone(bootDeps);
  app.state = () => stateOf(app);
  const api = new Api(app);
  app.api = api;
  const origAdd = journal.add.bind(journal);
  journal.add = (type, fields) => {
    const e = origAdd(type, fields);
    if (cfg.echoEvents !== false) say({ level: type === 'error' ? 'error' : 'info', msg: type, ...fields });
    return e;
  };

  async function start() {
    if (stateDir) procs.setPidFile(path.join(stateDir, 'replicas.json'));
    await platform.startFronts();
    const port = await api.listen();
    bootDeps = platform.bootstrap();
    metrics.start();
    say({ level: 'info', msg: 'railway emulator listening', url: `http://${cfg.listen.host}:${port}/graphql/v2`, pid: process.pid });
    return port;
  }

  let stopping = null;
  function stop() {
    if (stopping) return stopping;
    stopping = (async () => {
      metrics.stop();
      if (pg) pg.stop();
      await platform.shutdown();
      await api.close();
      procs.killAllSync('SIGKILL');
    })();
    return stopping;
  }
  return { app, start, stop };
}

function stateOf(app) {
  const P = app.platform;
  return {
    pid: process.pid,
    ready: app.ready(),
    project: { id: P.project.id, name: P.project.name },
    environments: P.environments.map((e) => ({ id: e.id, name: e.name })),
    faults: app.api.faultState(),
    services: P.services.map((svc) => ({
      id: svc.id,
      name: svc.name,
      kind: svc.kind,
      front: svc.cfg.front,
      instances: P.environments.map((env) => {
        const inst = P.instance(env.id, svc.id);
        return {
          environment: env.name,
          id: inst.id,
          sourceVersion: inst.sourceVersion,
          multiRegionConfig: inst.multiRegionConfig,
          activeDeploymentId: inst.activeId,
          frontBackends: inst.front ? inst.front.backends.map((b) => ({ port: b.port, replicaId: b.replicaId })) : null,
          variables: [...P.vars(env.id, svc.id).keys()],
        };
      }),
    })),
    deployments: [...P.deployments.values()].sort((a, b) => b.seq - a.seq).map((d) => ({
      id: d.id,
      service: P.service(d.serviceId).name,
      environment: P.env(d.environmentId).name,
      status: d.status,
      version: d.version,
      reason: d.meta.reason,
      createdAt: d.createdAt,
      replicas: [...d.replicas.values()].map((r) => ({
        id: r.id, region: r.region, status: r.status, port: r.port, pid: r.pg ? r.pid : (r.proc && !r.proc.exited ? r.proc.pid : null), restarts: r.restarts,
      })),
    })),
    pids: procs.livePids(),
  };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  let cfg;
  try {
    cfg = loadConfig(args.config);
  } catch (e) {
    process.stderr.write(`railway emulator: ${e.message}\n`);
    process.exit(2);
  }
  const emu = createEmulator(cfg);
  // last-chance cleanup: never leave replicas behind
  process.on('exit', () => procs.killAllSync('SIGKILL'));
  process.on('uncaughtException', (e) => {
    say({ level: 'error', msg: 'uncaught exception', error: e.stack || String(e) });
    procs.killAllSync('SIGKILL');
    process.exit(1);
  });
  process.on('unhandledRejection', (e) => {
    say({ level: 'error', msg: 'unhandled rejection', error: (e && e.stack) || String(e) });
  });
  const shutdown = (sig) => {
    say({ level: 'info', msg: `${sig}: stopping replicas and fronts` });
    const hard = setTimeout(() => { procs.killAllSync('SIGKILL'); process.exit(0); }, 15000);
    emu.stop().then(() => { clearTimeout(hard); say({ level: 'info', msg: 'stopped' }); process.exit(0); },
      (e) => { say({ level: 'error', msg: 'stop failed', error: e.message }); procs.killAllSync('SIGKILL'); process.exit(0); });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGHUP', () => {
    for (const inst of emu.app.platform.instances.values()) {
      if (inst.front) {
        try { inst.front.reloadTls(); } catch (e) { say({ level: 'error', msg: 'tls reload failed', error: e.message }); }
      }
    }
    say({ level: 'info', msg: 'SIGHUP: TLS certificates reloaded' });
  });
  try {
    await emu.start();
  } catch (e) {
    say({ level: 'error', msg: 'start failed', error: e.message });
    process.stderr.write(`railway emulator: ${e.message}\n`);
    await emu.stop().catch(() => {});
    process.exit(1);
  }
}

if (require.main === module) main();

module.exports = { createEmulator };
