'use strict';
// Test helpers: start the emulator as a child process with a generated
// config and the stand-in app, talk GraphQL to it, stop it and prove that no
// process it started is left.

const fs = require('node:fs');
const os = require('node:os');
const net = require('node:net');
const path = require('node:path');
const http = require('node:http');
const https = require('node:https');
const { spawn, execFileSync } = require('node:child_process');
const WebSocket = require('ws');
const { createClient } = require('graphql-ws');

const ROOT = path.resolve(__dirname, '..');
const SERVER = path.join(ROOT, 'server.js');
const APP = path.join(__dirname, 'fixtures', 'app.js');

const IDS = {
  project: '0b5e1c2a-6f0e-4c5e-9a51-1f6f2d6a0001',
  production: '0b5e1c2a-6f0e-4c5e-9a51-1f6f2d6a0002',
  staging: '0b5e1c2a-6f0e-4c5e-9a51-1f6f2d6a0003',
  api: '0b5e1c2a-6f0e-4c5e-9a51-1f6f2d6a0010',
  ws: '0b5e1c2a-6f0e-4c5e-9a51-1f6f2d6a0011',
  worker: '0b5e1c2a-6f0e-4c5e-9a51-1f6f2d6a0012',
};
const TOKEN = 'test-account-token-0123456789';
const PROJECT_TOKEN = 'test-project-token-0123456789';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function request(url, { method = 'GET', headers = {}, body, ca } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(u, { method, headers, ca, agent: false, timeout: 15000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json = null;
        try { json = JSON.parse(text); } catch (_) { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    if (body !== undefined) req.write(typeof body === 'string' ? body : JSON.stringify(body));
    req.end();
  });
}

function makeCert(dir) {
  const key = path.join(dir, 'server.key');
  const cert = path.join(dir, 'server.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '20',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  return { key, cert, ca: cert };
}

// Temporary directories of this test process, removed when it exits
// (RAILWAY_TEST_KEEP=1 keeps them for a look).
const tmpDirs = [];
function tmpDir(prefix) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.push(d);
  return d;
}
process.on('exit', () => {
  if (process.env.RAILWAY_TEST_KEEP === '1') return;
  for (const d of tmpDirs) { try { fs.rmSync(d, { recursive: true, force: true }); } catch (_) { /* best effort */ } }
});

// opts: {rateLimit, tls:boolean, services, timing, replicaPorts:[lo,hi], extra}
async function startEmulator(opts = {}) {
  const dir = tmpDir('railway-emu-test-');
  const port = await freePort();
  const fronts = {};
  for (const n of ['api', 'ws', 'worker']) fronts[n] = { http: await freePort() };
  let tls = null;
  if (opts.tls) {
    tls = makeCert(dir);
    fronts.api.https = await freePort();
  }
  const svc = (name, replicas) => ({
    id: IDS[name], name, command: [process.execPath, APP], env: { SERVICE: name, FLAGS_ENV: 'production' },
    version: 'v1', replicas: { 'us-west2': replicas }, front: fronts[name], healthPath: '/health',
  });
  const services = opts.services || [svc('api', 2), svc('worker', 1)];
  const lo = opts.replicaPorts ? opts.replicaPorts[0] : 20000 + Math.floor(Math.random() * 400) * 100;
  const cfg = {
    listen: { host: '127.0.0.1', port },
    token: TOKEN,
    projectToken: PROJECT_TOKEN,
    rateLimit: opts.rateLimit || { perHour: 100000, perSecond: 1000 },
    project: { id: IDS.project, name: 'sandbox' },
    environments: [{ id: IDS.production, name: 'production' }, { id: IDS.staging, name: 'staging' }],
    services,
    replicaPortRange: opts.replicaPorts || [lo, lo + 99],
    healthcheckTimeout: 8,
    timing: { buildMs: 50, drainMs: 100, restartBackoffMs: 300, metricsSampleMs: 250, slowApiMs: 1500, ...(opts.timing || {}) },
    stateDir: path.join(dir, 'state'),
    ...(tls ? { tls } : {}),
    ...(opts.extra || {}),
  };
  const cfgFile = path.join(dir, 'railway.json');
  fs.writeFileSync(cfgFile, JSON.stringify(cfg, null, 2));
  const out = fs.openSync(path.join(dir, 'emulator.log'), 'a');
  const proc = spawn(process.execPath, [SERVER, '--config', cfgFile], { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const base = `http://127.0.0.1:${port}`;
  const exited = new Promise((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  let ok = false;
  for (let i = 0; i < 150 && !ok; i++) {
    if (proc.exitCode !== null) break;
    try {
      const r = await request(`${base}/healthz`);
      ok = r.status === 200;
    } catch (_) { /* not yet */ }
    if (!ok) await sleep(100);
  }
  if (!ok) {
    try { proc.kill('SIGKILL'); } catch (_) { /* gone */ }
    throw new Error(`emulator did not become ready:\n${fs.readFileSync(path.join(dir, 'emulator.log'), 'utf8').slice(-3000)}`);
  }
  const emu = {
    dir, cfg, cfgFile, proc, base, port, fronts, tls, exited,
    url: `${base}/graphql/v2`,
    log: () => fs.readFileSync(path.join(dir, 'emulator.log'), 'utf8'),
    async gql(query, variables, headers = { authorization: `Bearer ${TOKEN}` }) {
      const r = await request(emu.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: { query, variables } });
      return r;
    },
    // data or throw with the errors
    async q(query, variables) {
      const r = await emu.gql(query, variables);
      if (r.status !== 200 || !r.json || r.json.errors) throw new Error(`GraphQL failed (${r.status}): ${r.text.slice(0, 500)}`);
      return r.json.data;
    },
    state: async () => (await request(`${base}/admin/state`)).json,
    events: async (since = 0) => (await request(`${base}/admin/events?since=${since}`)).json,
    fault: async (body) => (await request(`${base}/admin/fault`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).json,
    front: (name, p = '/health') => request(`http://127.0.0.1:${fronts[name].http}${p}`),
    wsClient(headers = { Authorization: `Bearer ${TOKEN}` }, extra = {}) {
      const H = headers;
      class WS extends WebSocket { constructor(u, p) { super(u, p, { headers: H }); } }
      return createClient({ url: `ws://127.0.0.1:${port}/graphql/v2`, webSocketImpl: WS, retryAttempts: 0, lazy: true, ...extra });
    },
    async stop() {
      const st = await emu.state().catch(() => null);
      const pids = st ? st.pids : [];
      if (proc.exitCode === null) proc.kill('SIGTERM');
      let timer;
      const res = await Promise.race([exited, new Promise((r) => { timer = setTimeout(() => r({ timeout: true }), 15000); })]);
      clearTimeout(timer);
      if (res.timeout) { try { proc.kill('SIGKILL'); } catch (_) { /* gone */ } }
      return { ...res, pids };
    },
  };
  return emu;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    // a zombie is not alive for our purposes
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) Z /.test(st);
  } catch (_) {
    return false;
  }
}

// Poll fn until it returns truthy (bounded); returns the value or throws.
async function until(fn, { timeout = 15000, interval = 100, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) { last = e; }
    await sleep(interval);
  }
  throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

// Collect next-payloads of a subscription until `n` arrived or `stop(v, got)`
// says so (bounded by timeout).
function collect(client, payload, { n = 1, timeout = 10000, stop } = {}) {
  return new Promise((resolve, reject) => {
    const got = [];
    let dispose = null;
    let done = false;
    const timer = setTimeout(() => { done = true; if (dispose) dispose(); reject(new Error(`subscription: got ${got.length} messages, wanted ${stop ? 'a stop condition' : n}`)); }, timeout);
    dispose = client.subscribe(payload, {
      next: (v) => {
        if (done) return;
        got.push(v);
        if (got.length >= n || (stop && stop(v, got))) { done = true; clearTimeout(timer); setImmediate(() => dispose()); resolve(got); }
      },
      error: (e) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        let err = e;
        if (!(e instanceof Error)) {
          if (e && e.code !== undefined) err = new Error(`closed ${e.code} ${e.reason || ''}`);
          else if (e && typeof e.message === 'string') err = new Error(e.message);
          else if (Array.isArray(e)) err = new Error(e.map((x) => x.message).join('; '));
          else err = new Error(JSON.stringify(e));
        }
        reject(err);
      },
      complete: () => { if (done) return; done = true; clearTimeout(timer); resolve(got); },
    });
  });
}

module.exports = { startEmulator, tmpDir, freePortForTests: freePort, request, until, collect, alive, sleep, IDS, TOKEN, PROJECT_TOKEN, APP, ROOT };
