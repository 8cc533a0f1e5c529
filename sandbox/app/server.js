#!/usr/bin/env node
// The signalbox sandbox's sample application: one program, three roles.
//
//   SERVICE=api     HTTP API over Postgres + Redis: /health, /metrics,
//                   /orders, /customers/:id, /flags
//   SERVICE=ws      WebSocket echo + rooms fanned out through Redis pub/sub
//                   (/ws), plus /health and /metrics
//   SERVICE=worker  takes jobs from the Redis list `jobs` (BLPOP), logs and
//                   applies them; /health and /metrics on PORT
//
// Environment: PORT, HOST (127.0.0.1), VERSION (v1|v2|v3; v3 fails at boot),
// REPLICA_ID, REGION, DATABASE_URL, REDIS_URL, FLAGS_ENV (production),
// APP_HEADERS=weak (leave out some security headers).
//
// Feature flags come from the Redis hash `flags:<FLAGS_ENV>` (docs/flags.md),
// faults from the keys `fault:*` that sandbox/fault sets; both are re-read
// every FLAG_REFRESH_MS, so a change is seen within a second.  Every log line
// on stdout is one JSON object.
'use strict';

const http = require('node:http');
const crypto = require('node:crypto');
const fs = require('node:fs');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const Redis = require('ioredis');
const { Pool, types } = require('pg');

// bigint ids and sums fit in a double here; answer them as JSON numbers.
types.setTypeParser(20, (v) => Number(v));
const { WebSocketServer } = require('ws');

const SERVICE = process.env.SERVICE || 'api';
const HOST = process.env.HOST || '127.0.0.1';
const PORT = Number(process.env.PORT || 8080);
const VERSION = process.env.VERSION || 'v1';
const REPLICA_ID = process.env.REPLICA_ID || `${SERVICE}-${process.pid}`;
const REGION = process.env.REGION || 'local';
const DATABASE_URL = process.env.DATABASE_URL || '';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const FLAGS_ENV = process.env.FLAGS_ENV || 'production';
const WEAK_HEADERS = process.env.APP_HEADERS === 'weak';

const DEP_TIMEOUT_MS = 400;        // per dependency in /health: answers < 1 s
const FLAG_REFRESH_MS = 500;       // flags and faults are at most this old
const SHUTDOWN_GRACE_MS = 5000;
const STARTED = Date.now();

// ---- logging ----------------------------------------------------------------

function log(level, msg, fields) {
	process.stdout.write(JSON.stringify(Object.assign({
		time: new Date().toISOString(), level, msg,
		service: SERVICE, version: VERSION, replica: REPLICA_ID, region: REGION,
	}, fields || {})) + '\n');
}

// Log a dependency error once per change of state, not once per retry.
const depState = {};
function depEvent(name, ok, err) {
	if (depState[name] === ok)
		return;
	depState[name] = ok;
	if (ok)
		log('info', `${name} connection ready`, { dependency: name });
	else
		log('error', `${name} connection lost`, { dependency: name, error: String(err && err.message || err) });
}

// ---- boot checks --------------------------------------------------------------

if (!['api', 'ws', 'worker'].includes(SERVICE)) {
	log('error', `unknown SERVICE '${SERVICE}' (expected api, ws or worker)`);
	process.exit(2);
}
if (!Number.isInteger(PORT) || PORT < 1 || PORT > 65535) {
	log('error', `bad PORT '${process.env.PORT}'`);
	process.exit(2);
}
if (VERSION === 'v3') {
	// v3 is the broken release: it dies during boot, every time, so a deploy
	// of it never passes its health gate.
	log('info', 'starting', { port: PORT });
	log('error', 'boot failed: migration 0042_orders_currency has not been applied (schema version 41, need 42)',
		{ exit_code: 1 });
	process.stdout.write('', () => process.exit(1));
	return;
}

// ---- dependencies -------------------------------------------------------------

const redis = new Redis(REDIS_URL, {
	connectTimeout: 500,
	maxRetriesPerRequest: 1,
	enableOfflineQueue: false,      // fail at once while Redis is down
	retryStrategy: (n) => Math.min(100 * n, 1000),
	lazyConnect: false,
});
redis.on('ready', () => depEvent('redis', true));
let lastRedisError = '';
redis.on('error', (e) => { lastRedisError = e.message; depEvent('redis', false, e); });

const pool = DATABASE_URL && SERVICE !== 'ws' ? new Pool({
	connectionString: DATABASE_URL,
	max: 10,
	connectionTimeoutMillis: 3000,  // includes waiting for a free client; /health has its own 400 ms
	idleTimeoutMillis: 10000,
	query_timeout: 3000,
	statement_timeout: 3000,
	application_name: `${SERVICE}-${REPLICA_ID}`,
}) : null;
if (pool)
	pool.on('error', (e) => depEvent('postgres', false, e));   // idle client lost

function withTimeout(promise, ms, what) {
	let timer;
	return Promise.race([
		promise.finally(() => clearTimeout(timer)),
		new Promise((_, reject) => {
			timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
		}),
	]);
}

async function checkDeps() {
	const checks = [['redis', () => {
		if (redis.status !== 'ready')
			throw new Error(`not connected (${lastRedisError || redis.status})`);
		return redis.ping();
	}]];
	if (pool)
		checks.unshift(['db', () => pool.query('select 1')]);
	const out = {};
	await Promise.all(checks.map(async ([name, fn]) => {
		try {
			await withTimeout(Promise.resolve().then(fn), DEP_TIMEOUT_MS, name);
			out[name] = 'ok';
			if (name === 'db')
				depEvent('postgres', true);
		} catch (e) {
			out[name] = 'fail';
			out.error = Object.assign(out.error || {}, { [name]: String(e.message || e).slice(0, 200) });
			if (name === 'db')
				depEvent('postgres', false, e);
		}
	}));
	return out;
}

// ---- flags and faults -----------------------------------------------------------

// flags: name -> {enabled, rollout, ...} as stored in Redis (docs/flags.md)
let flags = {};
let faults = { errorSpike: 0, latencyMs: 0, logStorm: null };
let flagsReadAt = 0;

function pct(s, dflt) {
	const n = Number(s);
	return Number.isFinite(n) ? Math.max(0, Math.min(100, n)) : dflt;
}

async function refreshFlags() {
	try {
		const res = await redis.pipeline()
			.hgetall(`flags:${FLAGS_ENV}`)
			.mget('fault:error-spike', 'fault:latency', 'fault:log-storm')
			.exec();
		const [[e1, hash], [e2, vals]] = res;
		if (e1 || e2)
			throw e1 || e2;
		const next = {};
		for (const [name, raw] of Object.entries(hash || {})) {
			try {
				const f = JSON.parse(raw);
				next[name] = {
					enabled: f.enabled === true,
					rollout: pct(f.rollout, 100),
				};
			} catch (e) {
				next[name] = { enabled: false, rollout: 0, invalid: true };
			}
		}
		if (!flagsReadAt) {
			log('info', 'flags loaded', { env: FLAGS_ENV, flags: Object.keys(next).length });
		} else {
			for (const [name, f] of Object.entries(next)) {
				const old = flags[name];
				if (!old || old.enabled !== f.enabled || old.rollout !== f.rollout)
					log('info', 'flag changed', { flag: name, enabled: f.enabled, rollout: f.rollout, env: FLAGS_ENV });
			}
			for (const name of Object.keys(flags))
				if (!next[name])
					log('info', 'flag removed', { flag: name, env: FLAGS_ENV });
		}
		flags = next;
		let storm = null;
		if (vals[2]) {
			try { storm = JSON.parse(vals[2]); } catch (e) { storm = null; }
		}
		faults = {
			errorSpike: vals[0] == null ? 0 : pct(vals[0], 50),
			latencyMs: vals[1] == null ? 0 : Math.max(0, Math.min(60000, Number(vals[1]) || 0)),
			logStorm: storm,
		};
		flagsReadAt = Date.now();
	} catch (e) {
		// Redis down: keep the last flags we saw (what a real cache does).
	}
}

function flagHits(name) {
	const f = flags[name];
	return f && f.enabled && Math.random() * 100 < f.rollout;
}

// log-storm: N lines a second until the fault's end time, from every replica.
const STORM_LEVELS = ['info', 'info', 'info', 'warn', 'error', 'debug'];
let stormSeq = 0;
function stormTick() {
	const s = faults.logStorm;
	if (!s || !(Date.now() < Number(s.until)))
		return;
	const n = Math.max(1, Math.min(5000, Math.round(Number(s.rate) / 10) || 1));
	for (let i = 0; i < n; i++) {
		stormSeq++;
		const level = STORM_LEVELS[stormSeq % STORM_LEVELS.length];
		log(level, level === 'error' ? `upstream timeout talking to payments (storm line ${stormSeq})`
			: `cache miss for session key s:${crypto.randomBytes(4).toString('hex')} (storm line ${stormSeq})`,
		{ storm: true, seq: stormSeq });
	}
}

// ---- metrics --------------------------------------------------------------------

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const counters = new Map();      // 'name{labels}' -> number
const histos = new Map();        // route -> {counts[], sum, count}
const elDelay = monitorEventLoopDelay({ resolution: 20 });
elDelay.enable();

function labelStr(labels) {
	return Object.entries(labels)
		.map(([k, v]) => `${k}="${String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
		.join(',');
}

function inc(name, labels, by) {
	const key = `${name}{${labelStr(labels || {})}}`;
	counters.set(key, (counters.get(key) || 0) + (by === undefined ? 1 : by));
}

function observe(route, seconds) {
	let h = histos.get(route);
	if (!h) {
		h = { counts: new Array(BUCKETS.length).fill(0), sum: 0, count: 0 };
		histos.set(route, h);
	}
	for (let i = 0; i < BUCKETS.length; i++)
		if (seconds <= BUCKETS[i])
			h.counts[i]++;
	h.sum += seconds;
	h.count++;
}

// Recent responses, one slot a second, for the "errors" line of /health.
const WINDOW_S = 15;
const recent = Array.from({ length: WINDOW_S }, () => ({ sec: 0, total: 0, errors: 0 }));
function noteResponse(status) {
	const sec = Math.floor(Date.now() / 1000);
	const slot = recent[sec % WINDOW_S];
	if (slot.sec !== sec) {
		slot.sec = sec;
		slot.total = 0;
		slot.errors = 0;
	}
	slot.total++;
	if (status >= 500)
		slot.errors++;
}
function recentErrorRate() {
	const now = Math.floor(Date.now() / 1000);
	let total = 0, errors = 0;
	for (const s of recent) {
		if (now - s.sec < WINDOW_S) {
			total += s.total;
			errors += s.errors;
		}
	}
	return { total, errors, rate: total ? errors / total : 0 };
}

function procStat() {
	const out = { rss: process.memoryUsage().rss, vsize: 0, fds: 0 };
	try {
		const f = fs.readFileSync('/proc/self/stat', 'utf8');
		const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
		out.vsize = Number(fields[20]);
	} catch (e) { /* not Linux */ }
	try { out.fds = fs.readdirSync('/proc/self/fd').length; } catch (e) { /* ditto */ }
	return out;
}

const extraGauges = [];          // functions returning lines (role-specific)

function metricsText() {
	const lines = [];
	const byName = new Map();
	for (const [key, v] of counters) {
		const name = key.slice(0, key.indexOf('{'));
		if (!byName.has(name))
			byName.set(name, []);
		byName.get(name).push(`${key.replace('{}', '')} ${v}`);
	}
	const help = {
		http_requests_total: 'HTTP requests answered, by route, method and status.',
		app_errors_total: 'Requests that failed inside the application, by cause.',
		jobs_processed_total: 'Jobs taken from the Redis list and handled, by type and result.',
		ws_messages_total: 'WebSocket messages, by direction.',
		log_lines_total: 'Log lines written, by level.',
	};
	for (const [name, rows] of byName) {
		lines.push(`# HELP ${name} ${help[name] || name}`, `# TYPE ${name} counter`, ...rows);
	}
	lines.push('# HELP http_request_duration_seconds Time to answer an HTTP request, by route.',
		'# TYPE http_request_duration_seconds histogram');
	for (const [route, h] of histos) {
		const l = labelStr({ route });
		BUCKETS.forEach((b, i) => lines.push(`http_request_duration_seconds_bucket{${l},le="${b}"} ${h.counts[i]}`));
		lines.push(`http_request_duration_seconds_bucket{${l},le="+Inf"} ${h.count}`,
			`http_request_duration_seconds_sum{${l}} ${h.sum.toFixed(6)}`,
			`http_request_duration_seconds_count{${l}} ${h.count}`);
	}
	const cpu = process.cpuUsage();
	const ps = procStat();
	const mem = process.memoryUsage();
	lines.push(
		'# HELP app_info The running build.', '# TYPE app_info gauge',
		`app_info{${labelStr({ service: SERVICE, version: VERSION, replica: REPLICA_ID, region: REGION })}} 1`,
		'# HELP app_flag_enabled Whether a feature flag is on, as this replica last read it.', '# TYPE app_flag_enabled gauge',
		...Object.entries(flags).map(([n, f]) => `app_flag_enabled{${labelStr({ flag: n, env: FLAGS_ENV })}} ${f.enabled ? 1 : 0}`),
		'# HELP process_cpu_user_seconds_total User CPU time spent.', '# TYPE process_cpu_user_seconds_total counter',
		`process_cpu_user_seconds_total ${(cpu.user / 1e6).toFixed(6)}`,
		'# HELP process_cpu_system_seconds_total System CPU time spent.', '# TYPE process_cpu_system_seconds_total counter',
		`process_cpu_system_seconds_total ${(cpu.system / 1e6).toFixed(6)}`,
		'# HELP process_cpu_seconds_total Total user and system CPU time spent.', '# TYPE process_cpu_seconds_total counter',
		`process_cpu_seconds_total ${((cpu.user + cpu.system) / 1e6).toFixed(6)}`,
		'# HELP process_resident_memory_bytes Resident memory size.', '# TYPE process_resident_memory_bytes gauge',
		`process_resident_memory_bytes ${ps.rss}`,
		'# HELP process_virtual_memory_bytes Virtual memory size.', '# TYPE process_virtual_memory_bytes gauge',
		`process_virtual_memory_bytes ${ps.vsize}`,
		'# HELP process_heap_bytes Heap in use.', '# TYPE process_heap_bytes gauge',
		`process_heap_bytes ${mem.heapUsed}`,
		'# HELP process_open_fds Open file descriptors.', '# TYPE process_open_fds gauge',
		`process_open_fds ${ps.fds}`,
		'# HELP process_start_time_seconds Start time since the epoch.', '# TYPE process_start_time_seconds gauge',
		`process_start_time_seconds ${Math.floor(STARTED / 1000)}`,
		'# HELP nodejs_eventloop_lag_p99_seconds Event loop delay, 99th percentile.', '# TYPE nodejs_eventloop_lag_p99_seconds gauge',
		`nodejs_eventloop_lag_p99_seconds ${(elDelay.percentile(99) / 1e9).toFixed(6)}`,
	);
	for (const g of extraGauges)
		lines.push(...g());
	return lines.join('\n') + '\n';
}

// ---- HTTP plumbing ----------------------------------------------------------------

const STRICT = {
	'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
	'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
	'X-Content-Type-Options': 'nosniff',
	'X-Frame-Options': 'DENY',
	'Referrer-Policy': 'strict-origin-when-cross-origin',
};
// What a service looks like when nobody reviewed its headers: no HSTS, no
// frame options, no referrer policy, a CSP that allows inline scripts.
const WEAK = {
	'Content-Security-Policy': "default-src 'self' 'unsafe-inline'",
	'X-Content-Type-Options': 'nosniff',
};
const SECURITY_HEADERS = WEAK_HEADERS ? WEAK : STRICT;

class HttpError extends Error {
	constructor(status, msg) { super(msg); this.status = status; }
}

function send(res, status, body, extra) {
	const text = typeof body === 'string' ? body : JSON.stringify(body) + '\n';
	res.writeHead(status, Object.assign({
		'Content-Type': typeof body === 'string' ? 'text/plain; version=0.0.4; charset=utf-8' : 'application/json',
		'Content-Length': Buffer.byteLength(text),
		'Cache-Control': 'no-store',
		'X-Replica-Id': REPLICA_ID,
	}, SECURITY_HEADERS, extra || {}));
	res.end(res.req.method === 'HEAD' ? undefined : text);
}

function readJson(req, limit) {
	return new Promise((resolve, reject) => {
		let size = 0;
		const chunks = [];
		req.on('data', (c) => {
			size += c.length;
			if (size > limit) {
				reject(new HttpError(413, 'request body too large'));
				req.destroy();
				return;
			}
			chunks.push(c);
		});
		req.on('end', () => {
			const s = Buffer.concat(chunks).toString('utf8').trim();
			if (!s)
				return resolve({});
			try { resolve(JSON.parse(s)); } catch (e) { reject(new HttpError(400, 'body is not JSON')); }
		});
		req.on('error', reject);
	});
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// routes: [method, regexp, routeLabel, handler(req, res, match, ctx)]
function makeServer(routes) {
	return http.createServer(async (req, res) => {
		const t0 = process.hrtime.bigint();
		const reqId = (req.headers['x-request-id'] || '').toString().slice(0, 64) || crypto.randomUUID();
		const url = new URL(req.url, 'http://localhost');
		let route = 'unmatched', match = null, handler = null;
		for (const [m, re, label, fn] of routes) {
			const mm = url.pathname.match(re);
			if (mm && (m === req.method || (m === 'GET' && req.method === 'HEAD'))) {
				route = label; match = mm; handler = fn;
				break;
			}
			if (mm && route === 'unmatched')
				route = label;       // path known, method not: 405 below
		}
		res.setHeader('X-Request-Id', reqId);
		res.on('finish', () => {
			const secs = Number(process.hrtime.bigint() - t0) / 1e9;
			inc('http_requests_total', { route, method: req.method, status: res.statusCode });
			observe(route, secs);
			if (route !== '/metrics' && route !== '/health')
				noteResponse(res.statusCode);
			// Health and metrics are polled constantly; log them only when they fail.
			if ((route === '/health' || route === '/metrics') && res.statusCode < 400)
				return;
			const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
			log(level, `${req.method} ${url.pathname} ${res.statusCode}`, {
				route, method: req.method, status: res.statusCode,
				duration_ms: Math.round(secs * 1e6) / 1e3, request_id: reqId,
			});
		});
		try {
			if (!handler)
				throw new HttpError(route === 'unmatched' ? 404 : 405, route === 'unmatched' ? 'not found' : 'method not allowed');
			if (faults.latencyMs > 0 && route !== '/metrics')
				await sleep(faults.latencyMs);
			await handler(req, res, match, { url, reqId });
		} catch (e) {
			const status = e instanceof HttpError ? e.status : 500;
			if (status >= 500 && !(e instanceof HttpError))
				log('error', `request failed: ${e.message}`, { route, request_id: reqId, error: e.message, code: e.code });
			if (!res.headersSent)
				send(res, status, { error: status >= 500 && !(e instanceof HttpError) ? 'internal server error' : e.message, request_id: reqId });
			else
				res.destroy();
		}
	});
}

async function healthHandler(req, res) {
	const deps = await checkDeps();
	const body = { status: 'ok' };
	let failing = false;
	for (const name of ['db', 'redis']) {
		if (deps[name]) {
			body[name] = deps[name];
			failing = failing || deps[name] !== 'ok';
		}
	}
	body.version = VERSION;
	// A replica that keeps answering 5xx says so, without failing its
	// health check (it is up; its requests fail).
	const er = recentErrorRate();
	if (er.total >= 5 && er.rate >= 0.1) {
		body.errors = 'fail';
		body.error_rate = Math.round(er.rate * 1000) / 1000;
		body.status = 'degraded';
	}
	if (failing) {
		body.status = 'fail';
		body.error = deps.error;     // {"db": "why"}: an object, so not read as a component
	}
	body.instance = REPLICA_ID;
	body.env = FLAGS_ENV;        // a variable, so a redeploy with a new value shows here
	send(res, failing ? 503 : 200, body);
}

function metricsHandler(req, res) {
	send(res, 200, metricsText());
}

// ---- role: api ----------------------------------------------------------------------

function injectedFailure(route, reqId, isCheckout) {
	if (isCheckout && flagHits('new-checkout')) {
		inc('app_errors_total', { cause: 'new-checkout' });
		log('error', 'checkout failed: TypeError: Cannot read properties of undefined (reading \'currency\') in new checkout path',
			{ route, request_id: reqId, flag: 'new-checkout' });
		throw new HttpError(500, 'checkout failed');
	}
	if (faults.errorSpike > 0 && Math.random() * 100 < faults.errorSpike) {
		inc('app_errors_total', { cause: 'error-spike' });
		log('error', 'upstream payments service returned 502 Bad Gateway', { route, request_id: reqId, fault: 'error-spike' });
		throw new HttpError(500, 'upstream failure');
	}
}

function needDb() {
	if (!pool)
		throw new HttpError(503, 'no DATABASE_URL configured');
	return pool;
}

function intParam(v, dflt, min, max) {
	if (v === null || v === undefined || v === '')
		return dflt;
	const n = Number(v);
	if (!Number.isInteger(n) || n < min || n > max)
		throw new HttpError(400, `expected a whole number in ${min}..${max}, got '${v}'`);
	return n;
}

async function listOrders(req, res, m, ctx) {
	injectedFailure('/orders', ctx.reqId, true);
	const limit = intParam(ctx.url.searchParams.get('limit'), 20, 1, 200);
	const r = await needDb().query(
		`select o.id, o.customer_id, c.name as customer, o.status, o.total_cents, o.created_at
		   from orders o join customers c on c.id = o.customer_id
		  order by o.id desc limit $1`, [limit]);
	send(res, 200, { orders: r.rows, count: r.rowCount });
}

async function getOrder(req, res, m, ctx) {
	injectedFailure('/orders/:id', ctx.reqId, false);
	const id = intParam(m[1], 0, 1, Number.MAX_SAFE_INTEGER);
	const db = needDb();
	const o = await db.query('select id, customer_id, status, total_cents, created_at, processed_at from orders where id = $1', [id]);
	if (!o.rowCount)
		throw new HttpError(404, `no order ${id}`);
	const items = await db.query('select sku, qty, price_cents from order_items where order_id = $1 order by id', [id]);
	send(res, 200, Object.assign(o.rows[0], { items: items.rows }));
}

async function createOrder(req, res, m, ctx) {
	const body = await readJson(req, 64 * 1024);
	injectedFailure('/orders', ctx.reqId, true);
	const db = needDb();
	const client = await db.connect();
	let order;
	try {
		await client.query('begin');
		let customerId = body.customer_id;
		if (customerId === undefined) {
			const c = await client.query('select id from customers order by random() limit 1');
			if (!c.rowCount)
				throw new HttpError(409, 'no customers');
			customerId = c.rows[0].id;
		}
		customerId = intParam(customerId, 0, 1, Number.MAX_SAFE_INTEGER);
		let items = Array.isArray(body.items) ? body.items : null;
		if (!items) {
			const p = await client.query('select sku from products order by random() limit 1 + floor(random() * 3)::int');
			items = p.rows.map((r) => ({ sku: r.sku, qty: 1 + Math.floor(Math.random() * 3) }));
		}
		if (items.length < 1 || items.length > 50)
			throw new HttpError(400, 'an order has 1 to 50 items');
		const o = await client.query('insert into orders (customer_id) values ($1) returning id, created_at', [customerId])
			.catch((e) => { throw e.code === '23503' ? new HttpError(404, `no customer ${customerId}`) : e; });
		order = o.rows[0];
		let total = 0;
		for (const it of items) {
			const qty = intParam(it.qty, 1, 1, 1000);
			const p = await client.query('select price_cents from products where sku = $1', [String(it.sku)]);
			if (!p.rowCount)
				throw new HttpError(400, `unknown sku '${it.sku}'`);
			await client.query('insert into order_items (order_id, sku, qty, price_cents) values ($1, $2, $3, $4)',
				[order.id, String(it.sku), qty, p.rows[0].price_cents]);
			total += qty * p.rows[0].price_cents;
		}
		await client.query('update orders set total_cents = $2 where id = $1', [order.id, total]);
		await client.query('commit');
		order = { id: order.id, customer_id: customerId, status: 'new', total_cents: total, created_at: order.created_at };
	} catch (e) {
		await client.query('rollback').catch(() => {});
		throw e;
	} finally {
		client.release();
	}
	try {
		await withTimeout(redis.rpush('jobs', JSON.stringify({ type: 'order.created', order_id: order.id, request_id: ctx.reqId })),
			DEP_TIMEOUT_MS, 'redis');
	} catch (e) {
		log('warn', 'could not queue order.created job', { order_id: order.id, error: e.message, request_id: ctx.reqId });
	}
	send(res, 201, order);
}

async function getCustomer(req, res, m, ctx) {
	injectedFailure('/customers/:id', ctx.reqId, false);
	const id = intParam(m[1], 0, 1, Number.MAX_SAFE_INTEGER);
	const r = await needDb().query(
		`select c.id, c.name, c.email, c.region, c.created_at,
		        (select count(*)::int from orders o where o.customer_id = c.id) as orders
		   from customers c where c.id = $1`, [id]);
	if (!r.rowCount)
		throw new HttpError(404, `no customer ${id}`);
	send(res, 200, r.rows[0]);
}

function flagsHandler(req, res) {
	send(res, 200, { env: FLAGS_ENV, read_at: flagsReadAt ? new Date(flagsReadAt).toISOString() : null, flags, faults });
}

function rootHandler(req, res) {
	send(res, 200, {
		service: SERVICE, version: VERSION, replica: REPLICA_ID, region: REGION,
		uptime_s: Math.round((Date.now() - STARTED) / 1000),
		routes: ROUTES[SERVICE].map((r) => `${r[0]} ${r[2]}`),
	});
}

// ---- role: ws -----------------------------------------------------------------------

let wss = null;
const rooms = new Map();          // room -> Set(ws)
let sub = null;

function startWs(server) {
	wss = new WebSocketServer({ server, path: '/ws', maxPayload: 1 << 20 });
	sub = redis.duplicate({ enableOfflineQueue: true });
	sub.on('error', () => {});
	sub.psubscribe('room:*').catch(() => {});
	sub.on('pmessage', (pattern, channel, message) => {
		const set = rooms.get(channel.slice(5));
		if (!set)
			return;
		for (const c of set) {
			if (c.readyState === 1) {
				c.send(message);
				inc('ws_messages_total', { direction: 'out' });
			}
		}
	});
	wss.on('connection', (sock, req) => {
		sock.joined = new Set();
		inc('ws_connections_total', {});
		log('info', 'ws connected', { route: '/ws', remote: req.socket.remoteAddress });
		sock.on('message', (data, isBinary) => {
			inc('ws_messages_total', { direction: 'in' });
			let m = null;
			if (!isBinary && data.length < 65536 && data[0] === 0x7b /* { */) {
				try { m = JSON.parse(data.toString('utf8')); } catch (e) { m = null; }
			}
			const reply = (obj) => { sock.send(JSON.stringify(obj)); inc('ws_messages_total', { direction: 'out' }); };
			if (m && typeof m.join === 'string' && m.join) {
				const room = m.join.slice(0, 100);
				if (!rooms.has(room))
					rooms.set(room, new Set());
				rooms.get(room).add(sock);
				sock.joined.add(room);
				reply({ joined: room, replica: REPLICA_ID });
			} else if (m && typeof m.leave === 'string') {
				const set = rooms.get(m.leave);
				if (set) {
					set.delete(sock);
					if (!set.size)
						rooms.delete(m.leave);
				}
				sock.joined.delete(m.leave);
				reply({ left: m.leave });
			} else if (m && typeof m.room === 'string' && m.room && 'msg' in m) {
				const payload = JSON.stringify({ room: m.room, msg: m.msg, from: REPLICA_ID, at: new Date().toISOString() });
				redis.publish(`room:${m.room.slice(0, 100)}`, payload)
					.catch((e) => reply({ error: `room unavailable: ${e.message}` }));
			} else {
				sock.send(data, { binary: isBinary });          // echo
				inc('ws_messages_total', { direction: 'out' });
			}
		});
		sock.on('close', () => {
			for (const room of sock.joined) {
				const set = rooms.get(room);
				if (set) {
					set.delete(sock);
					if (!set.size)
						rooms.delete(room);
				}
			}
		});
		sock.on('error', () => {});
	});
	extraGauges.push(() => [
		'# HELP ws_connections Open WebSocket connections.', '# TYPE ws_connections gauge',
		`ws_connections ${wss.clients.size}`,
		'# HELP ws_rooms Rooms with at least one local member.', '# TYPE ws_rooms gauge',
		`ws_rooms ${rooms.size}`,
	]);
}

// ---- role: worker ---------------------------------------------------------------------

let working = false;
let blocker = null;

async function workLoop() {
	blocker = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
	blocker.on('error', () => {});
	working = true;
	while (working) {
		let item;
		try {
			item = await blocker.blpop('jobs', 1);
		} catch (e) {
			if (working)
				await sleep(500);
			continue;
		}
		if (!item)
			continue;
		const t0 = Date.now();
		let job;
		try { job = JSON.parse(item[1]); } catch (e) { job = { type: 'invalid', raw: item[1].slice(0, 200) }; }
		let result = 'ok';
		try {
			if (job.type === 'order.created' && pool) {
				await pool.query(`update orders set status = 'processed', processed_at = now() where id = $1`, [job.order_id]);
			} else if (job.type === 'invalid') {
				throw new Error('job is not JSON');
			}
			if (faults.latencyMs > 0)
				await sleep(faults.latencyMs);
		} catch (e) {
			result = 'failed';
			log('error', `job failed: ${e.message}`, { job_type: job.type, order_id: job.order_id, request_id: job.request_id });
		}
		inc('jobs_processed_total', { type: String(job.type).slice(0, 40), result });
		if (result === 'ok')
			log('info', `job ${job.type} done`, {
				job_type: job.type, order_id: job.order_id, request_id: job.request_id, duration_ms: Date.now() - t0,
			});
	}
}

// ---- start ------------------------------------------------------------------------------

const ROUTES = {
	api: [
		['GET', /^\/health$/, '/health', healthHandler],
		['GET', /^\/metrics$/, '/metrics', metricsHandler],
		['GET', /^\/orders$/, '/orders', listOrders],
		['POST', /^\/orders$/, '/orders', createOrder],
		['GET', /^\/orders\/([^/]+)$/, '/orders/:id', getOrder],
		['GET', /^\/customers\/([^/]+)$/, '/customers/:id', getCustomer],
		['GET', /^\/flags$/, '/flags', flagsHandler],
		['GET', /^\/$/, '/', rootHandler],
	],
	ws: [
		['GET', /^\/health$/, '/health', healthHandler],
		['GET', /^\/metrics$/, '/metrics', metricsHandler],
		['GET', /^\/flags$/, '/flags', flagsHandler],
		['GET', /^\/$/, '/', rootHandler],
	],
	worker: [
		['GET', /^\/health$/, '/health', healthHandler],
		['GET', /^\/metrics$/, '/metrics', metricsHandler],
		['GET', /^\/flags$/, '/flags', flagsHandler],
		['GET', /^\/$/, '/', rootHandler],
	],
};

// Count log lines by level (cheap, and lets tests see a log storm in /metrics).
{
	const write = process.stdout.write.bind(process.stdout);
	process.stdout.write = (chunk, ...rest) => {
		const s = typeof chunk === 'string' ? chunk : '';
		const m = s.match(/"level":"(\w+)"/);
		if (m)
			inc('log_lines_total', { level: m[1] });
		return write(chunk, ...rest);
	};
}

const server = makeServer(ROUTES[SERVICE]);
server.keepAliveTimeout = 5000;
server.on('error', (e) => {
	log('error', `cannot listen on ${HOST}:${PORT}: ${e.message}`);
	process.exit(1);
});
if (SERVICE === 'ws')
	startWs(server);

const timers = [setInterval(refreshFlags, FLAG_REFRESH_MS), setInterval(stormTick, 100)];
refreshFlags();

server.listen(PORT, HOST, () => {
	log('info', 'listening', { port: PORT, host: HOST, flags_env: FLAGS_ENV, headers: WEAK_HEADERS ? 'weak' : 'strict' });
	if (SERVICE === 'worker')
		workLoop();
});

let stopping = false;
function shutdown(sig) {
	if (stopping)
		return;
	stopping = true;
	log('info', 'shutting down', { signal: sig });
	timers.forEach(clearInterval);
	working = false;
	const hard = setTimeout(() => {
		log('warn', 'shutdown grace period over, exiting');
		process.exit(0);
	}, SHUTDOWN_GRACE_MS);
	hard.unref();
	if (wss)
		for (const c of wss.clients)
			c.close(1001, 'server shutting down');
	server.close(async () => {
		for (const c of [blocker, sub, redis])
			if (c)
				c.disconnect();        // at once, even while Redis is unreachable
		if (pool)
			await withTimeout(pool.end(), 2000, 'closing the pool').catch(() => {});
		log('info', 'stopped');
		process.exit(0);
	});
	server.closeIdleConnections();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
