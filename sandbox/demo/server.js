#!/usr/bin/env node
// signalbox demo server: real HTTP, HTTPS and WebSocket health endpoints on
// loopback, one state per route, so `make demo` and the end-to-end tests have
// something true to look at.  Node built-ins only.
//
// Ports (DEMO_PORT_BASE, default 27100):
//   base     http   "api"      /health /health/degraded /500 /hang /close /slow /ws /admin/fault
//   base+1   https  "api"      same routes, strict security headers
//   base+2   https  "billing"  same routes, weak security headers (no HSTS, unsafe-inline CSP)
//
// Environment:
//   DEMO_PORT_BASE   first port (default 27100)
//   DEMO_CERT_DIR    directory holding server.pem + server-key.pem (HTTPS is
//                    skipped, with a log line, when they are missing)
//   DEMO_VERSION     the "version" reported by /health (default v2)
//
// Every log line on stdout is one JSON object.
'use strict';

const http = require('node:http');
const https = require('node:https');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const HOST = '127.0.0.1';
const BASE = parsePort(process.env.DEMO_PORT_BASE || '27100');
const CERT_DIR = process.env.DEMO_CERT_DIR || '';
const VERSION = process.env.DEMO_VERSION || 'v2';
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const WS_MAX_MESSAGE = 1 << 20;
const SLOW_MS = 800;

function parsePort(s) {
	const n = Number(s);
	if (!Number.isInteger(n) || n < 1 || n > 65533) {
		process.stderr.write(`server.js: DEMO_PORT_BASE must be 1..65533, got '${s}'\n`);
		process.exit(2);
	}
	return n;
}

function log(level, msg, fields) {
	process.stdout.write(JSON.stringify(Object.assign(
		{ ts: new Date().toISOString(), level, msg }, fields || {})) + '\n');
}

// Components a fault can turn off; /health reports them.
const faults = { db: false, redis: false };

const STRICT_HEADERS = {
	'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
	'Content-Security-Policy': "default-src 'self'",
	'X-Content-Type-Options': 'nosniff',
	'X-Frame-Options': 'DENY',
	'Referrer-Policy': 'strict-origin-when-cross-origin',
};

// billing: what a service looks like when nobody reviewed its headers.
const WEAK_HEADERS = {
	'Content-Security-Policy': "default-src 'self' 'unsafe-inline'",
	'X-Content-Type-Options': 'nosniff',
};

function healthBody(forceRedisFail) {
	const db = faults.db ? 'fail' : 'ok';
	const redis = faults.redis || forceRedisFail ? 'fail' : 'ok';
	const status = db === 'ok' && redis === 'ok' ? 'ok' : 'degraded';
	return { status, db, redis, version: VERSION };
}

function makeHandler(svc, secHeaders) {
	return (req, res) => {
		const t0 = process.hrtime.bigint();
		const url = new URL(req.url, `http://${HOST}`);
		res.on('finish', () => {
			log('info', 'request', {
				svc, method: req.method, path: url.pathname + url.search,
				status: res.statusCode,
				ms: Number(process.hrtime.bigint() - t0) / 1e6,
			});
		});
		const send = (status, obj, extra) => {
			const body = typeof obj === 'string' ? obj : JSON.stringify(obj) + '\n';
			res.writeHead(status, Object.assign({
				'Content-Type': typeof obj === 'string' ? 'text/plain; charset=utf-8'
					: 'application/json',
				'Content-Length': Buffer.byteLength(body),
				'Cache-Control': 'no-store',
			}, secHeaders, extra || {}));
			res.end(req.method === 'HEAD' ? undefined : body);
		};

		switch (url.pathname) {
		case '/health':
			return send(200, healthBody(false));
		case '/health/degraded':
			return send(200, healthBody(true));
		case '/500':
			return send(500, { status: 'error', error: 'internal server error' });
		case '/slow':
			setTimeout(() => send(200, healthBody(false)), SLOW_MS);
			return;
		case '/hang':
			// Never answer; the socket stays open until the client gives up.
			log('info', 'hang', { svc });
			return;
		case '/close':
			log('info', 'close', { svc });
			req.socket.destroy();
			return;
		case '/admin/fault': {
			if (req.method !== 'POST')
				return send(405, { error: 'use POST' }, { Allow: 'POST' });
			const name = url.searchParams.get('name');
			const on = url.searchParams.get('on');
			if (!Object.prototype.hasOwnProperty.call(faults, name) ||
			    (on !== '0' && on !== '1'))
				return send(400, { error: 'expected ?name=db|redis&on=0|1' });
			faults[name] = on === '1';
			log('warn', 'fault', { svc, name, on: faults[name] });
			return send(200, { faults });
		}
		case '/':
			return send(200, `signalbox demo (${svc}): /health /health/degraded ` +
				'/500 /hang /close /slow /ws, POST /admin/fault?name=redis&on=1\n');
		default:
			return send(404, { error: 'not found', path: url.pathname });
		}
	};
}

// ---- WebSocket (RFC 6455), by hand --------------------------------------

function wsAccept(key) {
	return crypto.createHash('sha1').update(key + WS_GUID).digest('base64');
}

function wsFrame(opcode, payload) {
	const len = payload.length;
	let head;
	if (len < 126) {
		head = Buffer.from([0x80 | opcode, len]);
	} else if (len < 65536) {
		head = Buffer.alloc(4);
		head[0] = 0x80 | opcode; head[1] = 126; head.writeUInt16BE(len, 2);
	} else {
		head = Buffer.alloc(10);
		head[0] = 0x80 | opcode; head[1] = 127; head.writeBigUInt64BE(BigInt(len), 2);
	}
	return Buffer.concat([head, payload]);
}

function wsUpgrade(svc, req, socket, head) {
	const url = new URL(req.url, `http://${HOST}`);
	const key = req.headers['sec-websocket-key'];
	const reject = (status, text) => {
		log('warn', 'ws reject', { svc, path: url.pathname, status, why: text });
		socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\n` +
			'Content-Length: 0\r\n\r\n');
	};
	if (url.pathname !== '/ws')
		return reject(404, 'Not Found');
	if (!key || Buffer.from(key, 'base64').length !== 16 ||
	    req.headers['sec-websocket-version'] !== '13' ||
	    !/\bwebsocket\b/i.test(req.headers.upgrade || ''))
		return reject(400, 'Bad Request');

	const lines = [
		'HTTP/1.1 101 Switching Protocols',
		'Upgrade: websocket',
		'Connection: Upgrade',
		`Sec-WebSocket-Accept: ${wsAccept(key)}`,
	];
	// Accept the first offered subprotocol: an echo speaks any of them.
	const offered = (req.headers['sec-websocket-protocol'] || '')
		.split(',').map((s) => s.trim()).filter(Boolean);
	if (offered.length)
		lines.push(`Sec-WebSocket-Protocol: ${offered[0]}`);
	socket.write(lines.join('\r\n') + '\r\n\r\n');
	socket.setNoDelay(true);
	log('info', 'ws open', { svc, protocol: offered[0] || null });

	let buf = head && head.length ? Buffer.from(head) : Buffer.alloc(0);
	let fragments = [];
	let fragOpcode = 0;
	let fragLen = 0;
	let closing = false;
	let messages = 0;

	const close = (code, reason) => {
		if (closing)
			return;
		closing = true;
		const p = Buffer.alloc(2 + Buffer.byteLength(reason || ''));
		p.writeUInt16BE(code, 0);
		if (reason)
			p.write(reason, 2);
		socket.end(wsFrame(0x8, p));
		// A client that never answers the close gets the socket closed.
		setTimeout(() => socket.destroy(), 2000).unref();
	};

	const onFrame = (fin, opcode, payload) => {
		if (opcode >= 0x8) {            // control frames: never fragmented
			if (!fin || payload.length > 125)
				return close(1002, 'bad control frame');
			if (opcode === 0x9) {           // ping
				socket.write(wsFrame(0xA, payload));
			} else if (opcode === 0x8) {    // close: echo the code
				const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1000;
				log('info', 'ws close', { svc, code, messages });
				if (!closing) {
					closing = true;
					const p = payload.length >= 2 ? payload.subarray(0, 2) : Buffer.alloc(0);
					socket.end(wsFrame(0x8, p));
				} else {
					socket.end();
				}
			} else if (opcode !== 0xA) {
				close(1002, 'unknown control opcode');
			}
			return;
		}
		if (opcode === 0x0) {
			if (!fragOpcode)
				return close(1002, 'continuation without start');
		} else if (opcode === 0x1 || opcode === 0x2) {
			if (fragOpcode)
				return close(1002, 'new message inside fragmented one');
			fragOpcode = opcode;
		} else {
			return close(1002, 'unknown opcode');
		}
		fragLen += payload.length;
		if (fragLen > WS_MAX_MESSAGE)
			return close(1009, 'message too big');
		fragments.push(payload);
		if (!fin)
			return;
		const msg = Buffer.concat(fragments);
		const op = fragOpcode;
		fragments = []; fragOpcode = 0; fragLen = 0;
		if (op === 0x1) {
			const text = msg.toString('utf8');
			if (!Buffer.from(text, 'utf8').equals(msg))
				return close(1007, 'invalid utf-8');
		}
		messages++;
		socket.write(wsFrame(op, msg));  // echo
	};

	const parse = () => {
		for (let guard = 0; guard < 100000; guard++) {
			if (buf.length < 2)
				return;
			const fin = (buf[0] & 0x80) !== 0;
			if (buf[0] & 0x70)
				return close(1002, 'reserved bits set');
			const opcode = buf[0] & 0x0f;
			const masked = (buf[1] & 0x80) !== 0;
			let len = buf[1] & 0x7f;
			let off = 2;
			if (!masked)
				return close(1002, 'client frames must be masked');
			if (len === 126) {
				if (buf.length < 4)
					return;
				len = buf.readUInt16BE(2); off = 4;
			} else if (len === 127) {
				if (buf.length < 10)
					return;
				const big = buf.readBigUInt64BE(2);
				if (big > BigInt(WS_MAX_MESSAGE))
					return close(1009, 'message too big');
				len = Number(big); off = 10;
			}
			if (buf.length < off + 4 + len)
				return;
			const mask = buf.subarray(off, off + 4);
			const payload = Buffer.from(buf.subarray(off + 4, off + 4 + len));
			for (let i = 0; i < payload.length; i++)
				payload[i] ^= mask[i & 3];
			buf = buf.subarray(off + 4 + len);
			onFrame(fin, opcode, payload);
			if (closing)
				return;
		}
	};

	socket.on('data', (d) => {
		if (closing)
			return;
		buf = buf.length ? Buffer.concat([buf, d]) : d;
		parse();
	});
	socket.on('error', (err) => log('warn', 'ws socket error', { svc, error: err.message }));
	socket.on('close', () => log('info', 'ws gone', { svc, messages }));
	parse();
}

// ---- servers --------------------------------------------------------------

const allSockets = new Set();
const servers = [];

function listen(svc, port, tls, secHeaders) {
	const handler = makeHandler(svc, secHeaders);
	const srv = tls ? https.createServer(tls, handler) : http.createServer(handler);
	// Clients reuse connections across check intervals (5 s in the demo):
	// keep idle ones longer than that so a reuse never races our close.
	srv.keepAliveTimeout = 65000;
	srv.headersTimeout = 66000;
	srv.requestTimeout = 0;     // /hang must really hang
	srv.on('connection', (s) => {
		allSockets.add(s);
		s.on('close', () => allSockets.delete(s));
	});
	srv.on('secureConnection', (s) => {
		allSockets.add(s);
		s.on('close', () => allSockets.delete(s));
	});
	srv.on('upgrade', (req, socket, head) => wsUpgrade(svc, req, socket, head));
	srv.on('clientError', (err, socket) => {
		if (socket.writable)
			socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
	});
	srv.on('tlsClientError', (err) => log('warn', 'tls error', { svc, error: err.message }));
	return new Promise((resolve, reject) => {
		srv.once('error', reject);
		srv.listen(port, HOST, () => {
			srv.removeListener('error', reject);
			servers.push(srv);
			log('info', 'listening', { svc, url: `${tls ? 'https' : 'http'}://${HOST}:${port}` });
			resolve(srv);
		});
	});
}

function loadTls() {
	if (!CERT_DIR)
		return null;
	const cert = path.join(CERT_DIR, 'server.pem');
	const key = path.join(CERT_DIR, 'server-key.pem');
	try {
		return { cert: fs.readFileSync(cert), key: fs.readFileSync(key) };
	} catch (err) {
		log('error', 'cannot read certificate', { error: err.message });
		process.exit(1);
	}
}

function shutdown(sig) {
	log('info', 'stopping', { signal: sig });
	for (const s of servers)
		s.close();
	for (const s of allSockets)
		s.destroy();
	setTimeout(() => process.exit(0), 200).unref();
}

async function main() {
	const tls = loadTls();
	try {
		await listen('api', BASE, null, {});
		if (tls) {
			await listen('api', BASE + 1, tls, STRICT_HEADERS);
			await listen('billing', BASE + 2, tls, WEAK_HEADERS);
		} else {
			log('warn', 'no DEMO_CERT_DIR: https services not started');
		}
	} catch (err) {
		log('error', 'listen failed', { error: err.message, code: err.code });
		process.stderr.write(`server.js: ${err.message}\n`);
		process.exit(1);
	}
	log('info', 'ready', { pid: process.pid, version: VERSION });
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
main();
