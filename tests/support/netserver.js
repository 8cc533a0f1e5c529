#!/usr/bin/env node
// netserver.js - HTTP, HTTPS and WebSocket peer for the network unit tests.
//
// Usage: node netserver.js [--cert FILE --key FILE]
// Listens on 127.0.0.1, port 0, and prints one JSON line on stdout:
//   {"http":PORT,"https":PORT,"closed":PORT}
// ("https" only with --cert/--key; "closed" is a port that was free a moment
// ago, for connection-refused tests).  Runs until killed or until its stdin
// reaches end of file (the test that started it went away).
//
// Routes (HTTP and HTTPS alike):
//   /ok        200 {"status":"ok"}
//   /500       500
//   /hang      never answers
//   /close     destroys the socket without a response
//   /big       3 MiB body
//   /redirect  301 to /ok
//   /headers   200 with security headers
//   /echo      200, JSON of the method, headers and body it received
//   /ws        WebSocket echo (subprotocol "signalbox.v1" accepted, others
//              ignored).  Text commands: "frag" answers "hello world" in
//              three fragments, "big:N" answers N bytes in 64 KiB
//              fragments, "close:CODE" makes the server close with CODE,
//              "header:NAME" answers the handshake's header NAME,
//              "lastclose" answers "lastclose:CODE" with the close code the
//              server last received from a client (0 = none yet).
//   /ws-hang   accepts the upgrade request and never answers it
'use strict';

const http = require('http');
const https = require('https');
const net = require('net');
const crypto = require('crypto');
const fs = require('fs');

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const BIG = Buffer.alloc(3 * 1024 * 1024, 'x');
let lastClose = 0;

function route(req, res) {
	const path = req.url.split('?')[0];
	switch (path) {
	case '/ok':
		res.writeHead(200, { 'Content-Type': 'application/json' });
		return res.end('{"status":"ok"}');
	case '/500':
		res.writeHead(500, { 'Content-Type': 'text/plain' });
		return res.end('internal error\n');
	case '/hang':
		return;
	case '/close':
		return req.socket.destroy();
	case '/big':
		res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
		return res.end(BIG);
	case '/redirect':
		res.writeHead(301, { 'Location': '/ok' });
		return res.end('moved\n');
	case '/headers':
		res.writeHead(200, {
			'Content-Type': 'text/plain',
			'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
			'X-Content-Type-Options': 'nosniff',
			'X-Frame-Options': 'DENY',
			'Content-Security-Policy': "default-src 'self'",
			'Referrer-Policy': 'no-referrer',
		});
		return res.end('secure\n');
	case '/echo': {
		const chunks = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', () => {
			res.writeHead(200, { 'Content-Type': 'application/json' });
			res.end(JSON.stringify({ method: req.method, headers: req.headers,
			    body: Buffer.concat(chunks).toString() }));
		});
		return;
	}
	default:
		res.writeHead(404, { 'Content-Type': 'text/plain' });
		return res.end('not found\n');
	}
}

// One WebSocket frame from the server (never masked).
function frame(opcode, payload, fin = true) {
	const len = payload.length;
	let head;
	if (len < 126) {
		head = Buffer.from([(fin ? 0x80 : 0) | opcode, len]);
	} else if (len < 65536) {
		head = Buffer.from([(fin ? 0x80 : 0) | opcode, 126, len >> 8, len & 255]);
	} else {
		head = Buffer.alloc(10);
		head[0] = (fin ? 0x80 : 0) | opcode;
		head[1] = 127;
		head.writeBigUInt64BE(BigInt(len), 2);
	}
	return Buffer.concat([head, payload]);
}

function closePayload(code, reason) {
	const b = Buffer.alloc(2 + Buffer.byteLength(reason));
	b.writeUInt16BE(code, 0);
	b.write(reason, 2);
	return b;
}

function wsCommand(sock, req, text) {
	if (text === 'lastclose') {
		sock.write(frame(1, Buffer.from('lastclose:' + lastClose)));
		return true;
	}
	if (text.startsWith('header:')) {
		sock.write(frame(1, Buffer.from(String(req.headers[text.slice(7).toLowerCase()]))));
		return true;
	}
	if (text === 'frag') {
		sock.write(frame(1, Buffer.from('hello '), false));
		sock.write(frame(0, Buffer.from('wor'), false));
		sock.write(frame(0, Buffer.from('ld'), true));
		return true;
	}
	if (text.startsWith('big:')) {
		const n = parseInt(text.slice(4), 10);
		const step = 65536;
		for (let off = 0; off < n; off += step) {
			const len = Math.min(step, n - off);
			sock.write(frame(off === 0 ? 1 : 0, Buffer.alloc(len, 'b'), off + len >= n));
		}
		return true;
	}
	if (text.startsWith('close:')) {
		const code = parseInt(text.slice(6), 10);
		sock.write(frame(8, closePayload(code, 'server says bye')));
		sock.closing = true;
		return true;
	}
	return false;
}

function upgrade(req, sock) {
	const key = req.headers['sec-websocket-key'];
	if (req.url.split('?')[0] === '/ws-hang') {
		sock.on('error', () => {});
		return;
	}
	if (req.url.split('?')[0] !== '/ws' || !key) {
		sock.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
		return;
	}
	const accept = crypto.createHash('sha1').update(key + WS_GUID).digest('base64');
	const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket',
	    'Connection: Upgrade', 'Sec-WebSocket-Accept: ' + accept];
	const offered = (req.headers['sec-websocket-protocol'] || '').split(',').map((s) => s.trim());
	if (offered.includes('signalbox.v1'))
		lines.push('Sec-WebSocket-Protocol: signalbox.v1');
	sock.write(lines.join('\r\n') + '\r\n\r\n');

	let buf = Buffer.alloc(0);
	let msg = [];
	let msgOp = 0;
	let sawClose = false;
	sock.on('close', () => {
		if (!sawClose)
			lastClose = 1006;
	});
	sock.on('data', (d) => {
		buf = Buffer.concat([buf, d]);
		for (;;) {
			if (buf.length < 2)
				return;
			const fin = (buf[0] & 0x80) !== 0;
			const op = buf[0] & 0x0f;
			const masked = (buf[1] & 0x80) !== 0;
			let len = buf[1] & 0x7f;
			let off = 2;
			if (len === 126) {
				if (buf.length < 4)
					return;
				len = buf.readUInt16BE(2);
				off = 4;
			} else if (len === 127) {
				if (buf.length < 10)
					return;
				len = Number(buf.readBigUInt64BE(2));
				off = 10;
			}
			const mask = masked ? buf.subarray(off, off + 4) : null;
			if (masked)
				off += 4;
			if (buf.length < off + len)
				return;
			const payload = Buffer.from(buf.subarray(off, off + len));
			buf = buf.subarray(off + len);
			if (mask)
				for (let i = 0; i < payload.length; i++)
					payload[i] ^= mask[i & 3];
			if (op === 8) {		// close: echo the code, then hang up
				lastClose = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
				sawClose = true;
				if (!sock.closing)
					sock.write(frame(8, payload.subarray(0, 2)));
				sock.end();
				return;
			}
			if (op === 9) {		// ping
				sock.write(frame(10, payload));
				continue;
			}
			if (op === 10)
				continue;
			if (op !== 0)
				msgOp = op;
			msg.push(payload);
			if (!fin)
				continue;
			const whole = Buffer.concat(msg);
			msg = [];
			if (msgOp === 1 && wsCommand(sock, req, whole.toString()))
				continue;
			sock.write(frame(msgOp, whole));
		}
	});
	sock.on('error', () => {});
}

function serve(server) {
	server.on('upgrade', upgrade);
	server.on('clientError', (err, sock) => sock.destroy());
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

function freePort() {
	return new Promise((resolve) => {
		const s = net.createServer();
		s.listen(0, '127.0.0.1', () => {
			const port = s.address().port;
			s.close(() => resolve(port));
		});
	});
}

async function main() {
	const args = process.argv.slice(2);
	const opt = {};
	for (let i = 0; i + 1 < args.length; i += 2)
		opt[args[i].replace(/^--/, '')] = args[i + 1];
	const ports = {};
	ports.http = await serve(http.createServer(route));
	if (opt.cert && opt.key) {
		ports.https = await serve(https.createServer({
			cert: fs.readFileSync(opt.cert), key: fs.readFileSync(opt.key) }, route));
	}
	ports.closed = await freePort();
	process.stdout.write(JSON.stringify(ports) + '\n');
}

process.on('SIGPIPE', () => {});
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
main();
