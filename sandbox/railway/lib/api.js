'use strict';
// The emulator's HTTP surface: GraphQL over HTTP (POST /graphql/v2), GraphQL
// over WebSocket (graphql-transport-ws, same path), and the admin endpoints
// (/healthz, /admin/events, /admin/state, /admin/fault, /admin/source).

const http = require('node:http');
const crypto = require('node:crypto');
const { parse, validate, execute, getOperationAST, GraphQLError, Source } = require('graphql');
const { WebSocketServer } = require('ws');
const { useServer } = require('graphql-ws/use/ws');
const { sleep } = require('./util');

const GRAPHQL_PATH = '/graphql/v2';
const MAX_BODY = 1024 * 1024;
const FAULTS = ['kill-replica', 'crash-loop', 'rate-limit', 'ws-drop', 'slow-api'];

function sha(s) { return crypto.createHash('sha256').update(s).digest('hex').slice(0, 12); }

function readBody(req, max = MAX_BODY) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let n = 0;
    req.on('data', (c) => {
      n += c.length;
      if (n > max) { reject(Object.assign(new Error('request body too large'), { status: 413 })); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res, status, obj, headers = {}) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

class Api {
  constructor(app) {
    this.app = app; // {cfg, platform, limiter, schema, journal, ...}
    this.faults = { slowApi: false, wsDrop: false, rateLimit: false };
    this.server = http.createServer((req, res) => this.onRequest(req, res).catch((e) => {
      if (!res.headersSent) sendJson(res, 500, { errors: [{ message: `internal error: ${e.message}` }] });
      else res.destroy();
    }));
    this.server.on('clientError', (err, s) => { try { s.destroy(); } catch (_) { /* gone */ } });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY });
    this.authBySocket = new WeakMap();
    this.server.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
    this.wsDisposable = useServer({
      schema: app.schema,
      onConnect: (ctx) => {
        let a = this.authOf(ctx.extra.request.headers);
        if (!a.kind && ctx.connectionParams) a = this.authOf(lowerKeys(ctx.connectionParams));
        if (!a.kind) {
          this.event('ws.refused', { reason: 'Not Authorized' });
          return false;
        }
        this.authBySocket.set(ctx.extra.socket, a);
        return true;
      },
      context: (ctx) => ({ auth: this.authBySocket.get(ctx.extra.socket) || null }),
      onSubscribe: (ctx, id, payload) => {
        const a = this.authBySocket.get(ctx.extra.socket);
        const rl = this.app.limiter.take(a ? a.key : 'anon');
        if (!rl.allowed) {
          this.event('ratelimit.429', { via: 'ws', key: a ? a.kind : 'anon', retryAfter: rl.retryAfter });
          return [new GraphQLError(`Rate limit exceeded, retry after ${rl.retryAfter} seconds`, { extensions: { code: 'RATE_LIMITED', retryAfter: rl.retryAfter } })];
        }
        return undefined;
      },
    }, this.wss, 12000);
  }

  event(type, fields) { return this.app.journal.add(type, fields); }

  // Which token a request carries: {kind: 'account'|'project'|null, key}.
  authOf(headers) {
    const cfg = this.app.cfg;
    const pat = headers['project-access-token'];
    if (pat !== undefined) {
      const t = String(pat).trim();
      if (t === cfg.projectToken) return { kind: 'project', key: 'project' };
      return { kind: null, key: `bad:${sha(t)}` };
    }
    const h = headers.authorization;
    if (h !== undefined) {
      const m = /^Bearer\s+(.+)$/i.exec(String(h).trim());
      if (m && m[1].trim() === cfg.token) return { kind: 'account', key: 'account' };
      return { kind: null, key: `bad:${sha(String(h))}` };
    }
    return { kind: null, key: 'anon' };
  }

  listen() {
    const { host, port } = this.app.cfg.listen;
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => { this.server.off('error', reject); resolve(this.server.address().port); });
    });
  }

  async close() {
    for (const c of this.wss.clients) c.terminate();
    try { await this.wsDisposable.dispose(); } catch (_) { /* closing anyway */ }
    this.server.closeAllConnections && this.server.closeAllConnections();
    await new Promise((r) => this.server.close(() => r()));
  }

  onUpgrade(req, socket, head) {
    const path = (req.url || '').split('?')[0];
    if (path !== GRAPHQL_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (this.faults.wsDrop) {
      this.event('ws.refused', { reason: 'ws-drop fault' });
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
  }

  async onRequest(req, res) {
    const url = new URL(req.url, 'http://127.0.0.1');
    const p = url.pathname;
    if (p === GRAPHQL_PATH || p === `${GRAPHQL_PATH}/`) return this.graphql(req, res);
    if (p === '/healthz' && req.method === 'GET') return this.healthz(res);
    if (p === '/admin/events' && req.method === 'GET') {
      const since = Number(url.searchParams.get('since') || 0);
      const limit = Math.min(5000, Number(url.searchParams.get('limit') || 1000));
      const type = url.searchParams.get('type');
      let ev = this.app.journal.since(Number.isFinite(since) ? since : 0, 5000);
      if (type) ev = ev.filter((e) => e.type === type || e.type.startsWith(`${type}.`));
      ev = ev.slice(Math.max(0, ev.length - limit));
      return sendJson(res, 200, { lastSeq: this.app.journal.seq, events: ev });
    }
    if (p === '/admin/state' && req.method === 'GET') return sendJson(res, 200, this.app.state());
    if (p === '/admin/fault' && req.method === 'POST') return this.fault(req, res);
    if (p === '/admin/fault' && req.method === 'GET') return sendJson(res, 200, this.faultState());
    if (p === '/admin/source' && req.method === 'POST') return this.source(req, res);
    return sendJson(res, 404, { error: 'not found' });
  }

  healthz(res) {
    const ready = this.app.ready();
    const services = {};
    for (const svc of this.app.platform.services) {
      const inst = this.app.platform.instance(this.app.platform.primaryEnv.id, svc.id);
      const d = this.app.platform.latestDeployment(inst);
      services[svc.name] = d ? d.status : null;
    }
    const allGood = Object.values(services).every((s) => s === 'SUCCESS' || s === null);
    sendJson(res, ready ? 200 : 503, { status: ready ? (allGood ? 'ok' : 'degraded') : 'starting', ready, services });
  }

  async jsonBody(req, res) {
    let body;
    try {
      const text = await readBody(req, 64 * 1024);
      body = text ? JSON.parse(text) : {};
    } catch (e) {
      sendJson(res, 400, { error: `bad JSON body: ${e.message}` });
      return null;
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) { sendJson(res, 400, { error: 'body must be a JSON object' }); return null; }
    return body;
  }

  faultState() {
    return {
      'crash-loop': [...this.app.platform.faults.crashLoop],
      'rate-limit': this.app.limiter.fault ? { until: new Date(this.app.limiter.fault.until).toISOString() } : false,
      'ws-drop': this.faults.wsDrop,
      'slow-api': this.faults.slowApi,
    };
  }

  async fault(req, res) {
    const b = await this.jsonBody(req, res);
    if (!b) return;
    const name = b.name;
    const on = b.on !== false && b.on !== 'off';
    if (!FAULTS.includes(name)) return sendJson(res, 400, { error: `unknown fault ${JSON.stringify(name)}; known: ${FAULTS.join(', ')}` });
    const P = this.app.platform;
    let detail = {};
    try {
      if (name === 'kill-replica') {
        if (on) detail = P.killReplica(b.service);
      } else if (name === 'crash-loop') {
        let key = '*';
        if (b.service) {
          const svc = P.serviceByName(b.service);
          if (!svc || svc.kind !== 'app') return sendJson(res, 400, { error: `unknown app service ${b.service}` });
          key = svc.id;
        }
        if (on) P.faults.crashLoop.add(key); else if (b.service) P.faults.crashLoop.delete(key); else P.faults.crashLoop.clear();
      } else if (name === 'rate-limit') {
        this.app.limiter.setFault(on, b.seconds);
      } else if (name === 'ws-drop') {
        this.faults.wsDrop = on;
        if (on) {
          let n = 0;
          for (const c of this.wss.clients) { c.terminate(); n++; }
          detail = { dropped: n };
        }
      } else if (name === 'slow-api') {
        this.faults.slowApi = on;
        if (b.ms !== undefined && Number.isInteger(b.ms) && b.ms >= 0 && b.ms <= 60000) this.app.cfg.timing.slowApiMs = b.ms;
      }
    } catch (e) {
      return sendJson(res, 409, { error: e.message });
    }
    this.event('fault', { name, on, service: b.service || null, ...detail });
    sendJson(res, 200, { ok: true, name, on, ...detail, faults: this.faultState() });
  }

  // POST /admin/source {"service":"api","version":"v2"}: what "deploy latest"
  // deploys from now on (like a push to the service's branch).
  async source(req, res) {
    const b = await this.jsonBody(req, res);
    if (!b) return;
    const P = this.app.platform;
    const svc = P.serviceByName(b.service);
    if (!svc || svc.kind !== 'app') return sendJson(res, 400, { error: `unknown app service ${b.service}` });
    const env = b.environment ? P.environments.find((e) => e.name === b.environment || e.id === b.environment) : P.primaryEnv;
    if (!env) return sendJson(res, 400, { error: `unknown environment ${b.environment}` });
    if (typeof b.version !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(b.version)) return sendJson(res, 400, { error: 'version must be like v2' });
    const inst = P.instance(env.id, svc.id);
    inst.sourceVersion = b.version;
    this.event('source.push', { service: svc.name, environment: env.name, version: b.version });
    sendJson(res, 200, { ok: true, service: svc.name, environment: env.name, version: b.version });
  }

  async graphql(req, res) {
    const auth = this.authOf(req.headers);
    if (req.method === 'OPTIONS') { res.writeHead(204, { allow: 'POST, OPTIONS' }); res.end(); return; }
    const rl = this.app.limiter.take(auth.key);
    const headers = { ...rl.headers };
    if (!rl.allowed) {
      headers['Retry-After'] = String(rl.retryAfter);
      this.event('ratelimit.429', { via: 'http', key: auth.kind || 'anon', reason: rl.reason, retryAfter: rl.retryAfter });
      req.resume();
      return sendJson(res, 429, { errors: [{ message: 'Rate limit exceeded. Please wait before making more requests.', extensions: { code: 'RATE_LIMITED', retryAfter: rl.retryAfter } }] }, headers);
    }
    if (req.method !== 'POST') {
      req.resume();
      return sendJson(res, 405, { errors: [{ message: 'Only POST requests are supported' }] }, { ...headers, allow: 'POST' });
    }
    let body;
    try {
      body = JSON.parse(await readBody(req));
    } catch (e) {
      return sendJson(res, e.status || 400, { errors: [{ message: e.status ? e.message : `Invalid JSON body: ${e.message}` }] }, headers);
    }
    if (!body || typeof body !== 'object' || Array.isArray(body) || typeof body.query !== 'string') {
      return sendJson(res, 400, { errors: [{ message: 'Body must be a JSON object with a "query" string' }] }, headers);
    }
    if (this.faults.slowApi) await sleep(this.app.cfg.timing.slowApiMs);
    let document;
    try {
      document = parse(new Source(body.query, 'request'));
    } catch (e) {
      return sendJson(res, 400, { errors: [e.toJSON ? e.toJSON() : { message: e.message }] }, headers);
    }
    const verrs = validate(this.app.schema, document);
    if (verrs.length) return sendJson(res, 400, { errors: verrs.map((e) => e.toJSON()) }, headers);
    const op = getOperationAST(document, body.operationName || undefined);
    if (!op) return sendJson(res, 400, { errors: [{ message: 'Could not determine which operation to run (operationName)' }] }, headers);
    if (op.operation === 'subscription') return sendJson(res, 400, { errors: [{ message: 'Subscriptions are served over WebSocket (graphql-transport-ws) at /graphql/v2' }] }, headers);
    const variables = body.variables && typeof body.variables === 'object' ? body.variables : undefined;
    const result = await execute({
      schema: this.app.schema, document, variableValues: variables, operationName: body.operationName || undefined,
      contextValue: { auth: auth.kind ? auth : null },
    });
    if (op.operation === 'mutation') {
      this.event('graphql.mutation', {
        operationName: body.operationName || (op.name && op.name.value) || null,
        fields: op.selectionSet.selections.map((s) => (s.name ? s.name.value : '?')),
        auth: auth.kind || 'none',
        errors: result.errors ? result.errors.map((e) => e.message).slice(0, 5) : undefined,
      });
    }
    const out = {};
    if (result.errors) out.errors = result.errors.map((e) => e.toJSON());
    out.data = result.data === undefined ? null : result.data;
    sendJson(res, 200, out, headers);
  }
}

function lowerKeys(o) {
  const out = {};
  for (const [k, v] of Object.entries(o || {})) out[k.toLowerCase()] = v;
  return out;
}

module.exports = { Api, GRAPHQL_PATH, FAULTS };
