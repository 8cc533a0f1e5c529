#!/usr/bin/env node
// gqlserver.js - a scripted GraphQL peer for tests/unit/test_railway.c.
//
// Usage: node gqlserver.js FIXTURE_DIR [--log FILE]
// Listens on 127.0.0.1, port 0, and prints one JSON line on stdout:
//   {"http":PORT}
// Runs until killed or until its stdin reaches end of file.
//
// POST /SCENARIO/ANYTHING answers from FIXTURE_DIR/scenarios.json:
//   { "SCENARIO": { "rateLimit": {"limit": N, "remaining": N},   (optional)
//                   "OperationName": [REPLY, REPLY, ...],
//                   "*": [REPLY, ...] } }                        (any other)
// The Nth request of an operation on one path gets the Nth reply (the last
// one repeats), so every test uses its own path ("/normal/t1").  A REPLY is
// a file name in FIXTURE_DIR, served verbatim with status 200, or
//   {"status": 429, "file": F | "body": TEXT | "bigBody": BYTES,
//    "headers": {...}, "contentType": T, "delayMs": MS, "hang": true}
// Every reply carries X-RateLimit-Limit/Remaining/Reset (the remaining
// budget falls by one per request on the path) unless it sets them itself.
// With --log, one JSON line per request is appended to FILE before the
// reply: {"path", "op", "authorization", "projectAccessToken",
// "contentType", "variables"}.
'use strict';

const http = require('http');
const fs = require('fs');
const path = require('path');

const dir = process.argv[2];
const logIx = process.argv.indexOf('--log');
const logFile = logIx > 0 ? process.argv[logIx + 1] : null;
const scenarios = JSON.parse(fs.readFileSync(path.join(dir, 'scenarios.json'), 'utf8'));
const counters = new Map();	// path + op -> requests seen
const budgets = new Map();	// path -> remaining

function opName(query) {
	const m = /\b(query|mutation|subscription)\s+([A-Za-z_][A-Za-z0-9_]*)/.exec(query || '');
	return m ? m[2] : '';
}

function answer(req, res, raw) {
	const parts = req.url.split('?')[0].split('/').filter((s) => s !== '');
	const scenario = scenarios[parts[0]];
	let body = {};
	try { body = JSON.parse(raw); } catch (_) { /* logged as is */ }
	const op = opName(body.query);
	if (logFile) {
		fs.appendFileSync(logFile, JSON.stringify({
			path: req.url, op,
			authorization: req.headers.authorization || null,
			projectAccessToken: req.headers['project-access-token'] || null,
			contentType: req.headers['content-type'] || null,
			variables: body.variables === undefined ? null : body.variables,
		}) + '\n');
	}
	if (!scenario || req.method !== 'POST') {
		res.writeHead(404, { 'Content-Type': 'text/plain' });
		return res.end('no such scenario\n');
	}
	const list = scenario[op] || scenario['*'];
	if (!list) {
		res.writeHead(400, { 'Content-Type': 'application/json' });
		return res.end(JSON.stringify({ errors: [{ message: `scenario ${parts[0]} has no reply for ${op}` }] }));
	}
	const key = req.url + '\0' + op;
	const n = counters.get(key) || 0;
	counters.set(key, n + 1);
	let spec = list[Math.min(n, list.length - 1)];
	if (typeof spec === 'string')
		spec = { file: spec };

	const rl = scenario.rateLimit || {};
	const remaining = budgets.has(req.url) ? budgets.get(req.url) :
	    (rl.remaining !== undefined ? rl.remaining : 999);
	budgets.set(req.url, Math.max(0, remaining - 1));
	const headers = {
		'Content-Type': spec.contentType || 'application/json; charset=utf-8',
		'X-RateLimit-Limit': String(rl.limit !== undefined ? rl.limit : 1000),
		'X-RateLimit-Remaining': String(remaining),
		'X-RateLimit-Reset': String(Math.floor(Date.now() / 1000) + 3600),
		...(spec.headers || {}),
	};
	let out;
	if (spec.file)
		out = fs.readFileSync(path.join(dir, spec.file));
	else if (spec.bigBody)
		out = Buffer.alloc(spec.bigBody, ' ');
	else
		out = Buffer.from(spec.body || '');
	if (spec.hang)
		return;
	const send = () => {
		res.writeHead(spec.status || 200, headers);
		res.end(out);
	};
	if (spec.delayMs)
		setTimeout(send, spec.delayMs);
	else
		send();
}

const server = http.createServer((req, res) => {
	const chunks = [];
	req.on('data', (c) => chunks.push(c));
	req.on('end', () => answer(req, res, Buffer.concat(chunks).toString('utf8')));
});
server.on('clientError', (err, sock) => sock.destroy());
server.listen(0, '127.0.0.1', () => {
	process.stdout.write(JSON.stringify({ http: server.address().port }) + '\n');
});

process.on('SIGPIPE', () => {});
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
