'use strict';
// A service's front door: an HTTP (and, when configured, HTTPS) reverse proxy
// on a fixed loopback port that round-robins requests and WebSocket upgrades
// over the service's active replicas, like Railway's edge. Every proxied
// request becomes an HTTP log line; bytes are counted per replica (the
// network figures of the metrics).

const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const crypto = require('node:crypto');

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

function requestId() {
  return crypto.randomBytes(16).toString('base64url').slice(0, 22);
}

class Front {
  // opts: {name, host, http, https, tls:{cert,key}, onHttpLog(rec), onBytes(replicaId, rx, tx), journal}
  constructor(opts) {
    this.opts = opts;
    this.backends = [];
    this.rr = 0;
    this.servers = [];
    this.sockets = new Set();
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 32, timeout: 60000 });
  }

  // list: [{port, replicaId, deploymentId, region}]
  setBackends(list) {
    this.backends = list.slice();
  }

  pick() {
    const n = this.backends.length;
    if (!n) return null;
    const b = this.backends[this.rr % n];
    this.rr = (this.rr + 1) % 1000000;
    return b;
  }

  async listen() {
    const host = this.opts.host || '127.0.0.1';
    const mk = async (server, port, proto) => {
      server.on('request', (req, res) => this.onRequest(req, res, proto));
      server.on('upgrade', (req, sock, head) => this.onUpgrade(req, sock, head, proto));
      server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
      server.on('secureConnection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
      server.on('clientError', (err, s) => { try { s.destroy(); } catch (_) { /* gone */ } });
      server.keepAliveTimeout = 65000;
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host }, () => { server.off('error', reject); resolve(); });
      });
      this.servers.push(server);
    };
    if (this.opts.http) await mk(http.createServer(), this.opts.http, 'http');
    if (this.opts.https) {
      if (!this.opts.tls) throw new Error(`service ${this.opts.name}: front.https needs tls in the config`);
      const srv = https.createServer(this.tlsOptions());
      await mk(srv, this.opts.https, 'https');
      this.httpsServer = srv;
    }
  }

  tlsOptions() {
    return { cert: fs.readFileSync(this.opts.tls.cert), key: fs.readFileSync(this.opts.tls.key) };
  }

  // Re-read the certificate (SIGHUP): a renewed cert is served without restart.
  reloadTls() {
    if (!this.httpsServer) return;
    this.httpsServer.setSecureContext(this.tlsOptions());
  }

  forwardHeaders(req, proto, rid) {
    const h = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k)) h[k] = v;
    const ip = req.socket.remoteAddress || '';
    h['x-forwarded-for'] = h['x-forwarded-for'] ? `${h['x-forwarded-for']}, ${ip}` : ip;
    h['x-forwarded-proto'] = proto;
    h['x-forwarded-host'] = req.headers.host || '';
    h['x-real-ip'] = ip;
    h['x-request-start'] = String(Date.now());
    h['x-railway-request-id'] = rid;
    return h;
  }

  onRequest(req, res, proto) {
    const t0 = process.hrtime.bigint();
    const rid = requestId();
    const b = this.pick();
    let rx = 0;
    let tx = 0;
    let upstreamStart = 0n;
    let upstreamMs = 0;
    let logged = false;
    const log = (status, details, upErr) => {
      if (logged || !this.opts.onHttpLog) return;
      logged = true;
      this.opts.onHttpLog({
        requestId: rid,
        method: req.method,
        path: req.url,
        host: req.headers.host || '',
        httpStatus: status,
        totalDuration: Number((process.hrtime.bigint() - t0) / 1000000n),
        upstreamRqDuration: upstreamMs,
        rxBytes: rx,
        txBytes: tx,
        srcIp: req.socket.remoteAddress || '',
        clientUa: String(req.headers['user-agent'] || ''),
        deploymentId: b ? b.deploymentId : '',
        deploymentInstanceId: b ? b.replicaId : '',
        edgeRegion: b ? b.region : '',
        downstreamProto: proto === 'https' ? 'HTTP/1.1 TLS' : `HTTP/${req.httpVersion}`,
        upstreamProto: 'HTTP/1.1',
        upstreamAddress: b ? `http://127.0.0.1:${b.port}` : '',
        responseDetails: details || '',
        upstreamErrors: upErr || '',
      });
    };
    res.setHeader('x-railway-request-id', rid);
    res.setHeader('x-railway-edge', 'sandbox-edge');
    if (!b) {
      const body = JSON.stringify({ status: 'error', code: 502, message: 'Application failed to respond', request_id: rid });
      res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      tx = body.length;
      req.resume();
      log(502, 'no active replicas', '');
      return;
    }
    upstreamStart = process.hrtime.bigint();
    const preq = http.request({
      host: '127.0.0.1', port: b.port, method: req.method, path: req.url,
      headers: this.forwardHeaders(req, proto, rid), agent: this.agent,
    });
    req.on('data', (c) => { rx += c.length; if (this.opts.onBytes) this.opts.onBytes(b.replicaId, c.length, 0); });
    preq.on('response', (pres) => {
      upstreamMs = Number((process.hrtime.bigint() - upstreamStart) / 1000000n);
      const headers = {};
      for (const [k, v] of Object.entries(pres.headers)) if (!HOP.has(k)) headers[k] = v;
      headers['x-railway-request-id'] = rid;
      headers['x-railway-edge'] = 'sandbox-edge';
      res.writeHead(pres.statusCode, pres.statusMessage, headers);
      pres.on('data', (c) => { tx += c.length; if (this.opts.onBytes) this.opts.onBytes(b.replicaId, 0, c.length); });
      pres.pipe(res);
      pres.on('end', () => log(pres.statusCode, '', ''));
      pres.on('error', () => { log(pres.statusCode, 'upstream reset', 'upstream connection reset'); res.destroy(); });
    });
    preq.on('error', (e) => {
      if (!res.headersSent) {
        const body = JSON.stringify({ status: 'error', code: 502, message: 'Application failed to respond', request_id: rid });
        res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        tx += body.length;
        log(502, 'upstream connect error', e.code || e.message);
      } else {
        res.destroy();
        log(res.statusCode, 'upstream reset', e.code || e.message);
      }
    });
    res.on('close', () => { if (!res.writableFinished) { preq.destroy(); log(res.statusCode || 499, 'client closed', ''); } });
    req.pipe(preq);
  }

  onUpgrade(req, sock, head, proto) {
    const b = this.pick();
    const rid = requestId();
    if (!b) {
      sock.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const up = net.connect({ port: b.port, host: '127.0.0.1' });
    const kill = () => { sock.destroy(); up.destroy(); };
    up.on('connect', () => {
      const h = this.forwardHeaders(req, proto, rid);
      h.connection = 'Upgrade';
      h.upgrade = req.headers.upgrade || 'websocket';
      let s = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (const [k, v] of Object.entries(h)) {
        for (const one of Array.isArray(v) ? v : [v]) s += `${k}: ${String(one).replace(/[\r\n]/g, '')}\r\n`;
      }
      up.write(`${s}\r\n`);
      if (head && head.length) up.write(head);
      sock.pipe(up);
      up.pipe(sock);
    });
    sock.on('data', (c) => this.opts.onBytes && this.opts.onBytes(b.replicaId, c.length, 0));
    up.on('data', (c) => this.opts.onBytes && this.opts.onBytes(b.replicaId, 0, c.length));
    up.on('error', () => {
      if (!sock.destroyed && up.bytesRead === 0 && up.bytesWritten === 0) {
        sock.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      }
      kill();
    });
    sock.on('error', kill);
    up.on('close', () => sock.destroy());
    sock.on('close', () => up.destroy());
    this.sockets.add(up);
    up.on('close', () => this.sockets.delete(up));
  }

  async close() {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.agent.destroy();
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(() => r()))));
    this.servers = [];
  }
}

module.exports = { Front };
