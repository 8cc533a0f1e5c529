#!/usr/bin/env node
// Steady, bounded request load on the sandbox's public fronts (loopback
// only).  Run through sandbox/traffic, which passes the URLs.
//
//   node traffic.js --rps N --seconds S --api URL [--billing URL] [--ws URL] [--ca FILE]
//
// Mix: GET /orders?limit=20 (45 %), GET /customers/:id (20 %), POST /orders
// (15 %), GET /orders/:id (10 %), GET / (5 %), billing GET /orders (5 %);
// with --ws, one WebSocket joins room "traffic" and says something each
// second.  Prints a summary (requests by status, latency percentiles) and
// exits 1 only when no request got an HTTP answer at all.
'use strict';

const http = require('node:http');
const https = require('node:https');
const fs = require('node:fs');
const path = require('node:path');

function args(argv) {
	const out = { rps: 10, seconds: 10, api: '', billing: '', ws: '', ca: '' };
	for (let i = 0; i < argv.length; i += 2) {
		const k = argv[i].replace(/^--/, ''), v = argv[i + 1];
		if (!(k in out) || v === undefined)
			fail(`unknown or incomplete option '${argv[i]}'`);
		out[k] = v;
	}
	out.rps = Number(out.rps);
	out.seconds = Number(out.seconds);
	if (!Number.isInteger(out.rps) || out.rps < 1 || out.rps > 2000)
		fail('--rps must be a whole number in 1..2000');
	if (!Number.isInteger(out.seconds) || out.seconds < 1 || out.seconds > 3600)
		fail('--seconds must be a whole number in 1..3600');
	for (const k of ['api', 'billing', 'ws']) {
		if (out[k] && !/^(https?|wss?):\/\/127\.0\.0\.1(:\d+)?(\/|$)/.test(out[k]))
			fail(`--${k} must be a loopback URL (127.0.0.1), got '${out[k]}'`);
	}
	if (!out.api)
		fail('--api URL is required');
	return out;
}

function fail(msg) {
	process.stderr.write(`sandbox/traffic: ${msg}\n`);
	process.exit(2);
}

const opt = args(process.argv.slice(2));
const ca = opt.ca ? fs.readFileSync(opt.ca) : undefined;
const agents = {
	'http:': new http.Agent({ keepAlive: true, maxSockets: 32 }),
	'https:': new https.Agent({ keepAlive: true, maxSockets: 32, ca }),
};
const MAX_IN_FLIGHT = 256;
const TIMEOUT_MS = 5000;

const stats = { sent: 0, skipped: 0, byStatus: {}, netErrors: 0, lat: [] };
let inFlight = 0;

function request(base, method, p, body) {
	const u = new URL(p, base);
	const mod = u.protocol === 'https:' ? https : http;
	const t0 = process.hrtime.bigint();
	inFlight++;
	stats.sent++;
	const payload = body ? JSON.stringify(body) : null;
	const req = mod.request(u, {
		method, agent: agents[u.protocol], timeout: TIMEOUT_MS,
		headers: Object.assign({ 'User-Agent': 'signalbox-sandbox-traffic' },
			payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
	}, (res) => {
		res.resume();
		res.on('end', () => {
			inFlight--;
			stats.byStatus[res.statusCode] = (stats.byStatus[res.statusCode] || 0) + 1;
			stats.lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
		});
	});
	req.on('timeout', () => req.destroy(new Error('timeout')));
	req.on('error', () => {
		inFlight--;
		stats.netErrors++;
	});
	req.end(payload || undefined);
}

const rnd = (n) => 1 + Math.floor(Math.random() * n);
function one() {
	if (inFlight >= MAX_IN_FLIGHT) {
		stats.skipped++;
		return;
	}
	const r = Math.random() * 100;
	if (r < 45) request(opt.api, 'GET', '/orders?limit=20');
	else if (r < 65) request(opt.api, 'GET', `/customers/${rnd(2000)}`);
	else if (r < 80) request(opt.api, 'POST', '/orders', {});
	else if (r < 90) request(opt.api, 'GET', `/orders/${rnd(5000)}`);
	else if (r < 95 || !opt.billing) request(opt.api, 'GET', '/');
	else request(opt.billing, 'GET', '/orders?limit=5');
}

// A WebSocket client, via the app's own ws package.
let wsClient = null, wsSent = 0, wsReceived = 0;
function startWs() {
	if (!opt.ws)
		return;
	let WebSocket;
	try {
		WebSocket = require(path.join(__dirname, '..', 'app', 'node_modules', 'ws'));
	} catch (e) {
		return;
	}
	wsClient = new WebSocket(opt.ws, { ca, handshakeTimeout: 3000 });
	wsClient.on('open', () => wsClient.send(JSON.stringify({ join: 'traffic' })));
	wsClient.on('message', () => wsReceived++);
	wsClient.on('error', () => {});
}

const total = opt.rps * opt.seconds;
const started = Date.now();
let issued = 0;
startWs();
const tick = setInterval(() => {
	const due = Math.min(total, Math.floor((Date.now() - started) * opt.rps / 1000));
	for (; issued < due; issued++)
		one();
	if (wsClient && wsClient.readyState === 1 && Math.floor((Date.now() - started) / 1000) > wsSent) {
		wsClient.send(JSON.stringify({ room: 'traffic', msg: `hello ${wsSent}` }));
		wsSent++;
	}
	if (issued >= total) {
		clearInterval(tick);
		finish();
	}
}, 10);

function finish() {
	const deadline = Date.now() + TIMEOUT_MS + 500;
	const wait = setInterval(() => {
		if (inFlight > 0 && Date.now() < deadline)
			return;
		clearInterval(wait);
		if (wsClient)
			wsClient.terminate();
		const lat = stats.lat.sort((a, b) => a - b);
		const q = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(1) : '-');
		const answered = lat.length;
		const statuses = Object.entries(stats.byStatus).map(([k, v]) => `${k}:${v}`).join(' ');
		console.log(`sandbox/traffic: ${stats.sent} requests in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
			`(${opt.rps}/s target), answered ${answered}, network errors ${stats.netErrors}, skipped ${stats.skipped}`);
		console.log(`  status ${statuses || '-'}`);
		console.log(`  latency ms p50 ${q(0.5)} p95 ${q(0.95)} p99 ${q(0.99)} max ${lat.length ? lat[lat.length - 1].toFixed(1) : '-'}`);
		if (opt.ws)
			console.log(`  ws sent ${wsSent}, received ${wsReceived}`);
		for (const a of Object.values(agents))
			a.destroy();
		process.exit(answered > 0 ? 0 : 1);
	}, 50);
}
