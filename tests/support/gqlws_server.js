#!/usr/bin/env node
// gqlws_server.js - a graphql-transport-ws server for tests/unit/test_gqlws.c.
//
// Usage: node gqlws_server.js
// Uses graphql, graphql-ws and ws from sandbox/railway/node_modules (run
// `npm ci` in sandbox/railway; the C test does it through the sandbox's
// ensure_npm).  Listens on 127.0.0.1, port 0, and prints one JSON line:
//   {"port":PORT,"closed":PORT}
// ("closed" was free a moment ago: nothing listens there).  Exits when its
// stdin reaches end of file (the test that started it went away).
//
// WebSocket endpoint: /graphql (subprotocol graphql-transport-ws).  Auth:
// "Authorization: Bearer good", "Project-Access-Token: good", or a
// connection_init payload {"authToken":"good"}; anything else is refused
// with 4403 Forbidden (graphql-ws' own refusal).  Query parameters of the
// upgrade URL change the behaviour of that connection:
//   deny=4401      refuse with close 4401 instead of 4403
//   upgrade=401    answer the upgrade request with HTTP 401
//   noack=1        never answer connection_init
//   nopong=1       never answer a ping
//
// Schema:
//   subscription { ticks(count: Int, intervalMs: Int, tag: String) { n tag } }
//       n = 0, 1, ... every intervalMs (default 20; 0 = as fast as possible),
//       `count` of them then complete (null = forever)
//   subscription { secret }   refused by onSubscribe: error "Not Authorized"
//   subscription { limited }  refused: error "Rate limit exceeded" RATE_LIMITED
//   subscription { boom }     one value, then the generator throws
//
// Admin (plain HTTP GET on the same port):
//   /stats          counters and what the clients sent (JSON)
//   /reset          zero the counters
//   /drop           destroy every WebSocket's TCP connection (no close frame)
//   /close?code=N   close every WebSocket with code N
//   /ping           send {"type":"ping"} to every WebSocket
//   /send?kind=K    send a hostile frame to every WebSocket: nonjson,
//                   unknown, notype, array, big (2 MiB next), binary,
//                   noid (next without id), strayid (next for id "999"),
//                   ack2 (a second connection_ack)
'use strict';

const path = require('path');
const http = require('http');
const net = require('net');
const { createRequire } = require('module');

const RAILWAY = path.resolve(__dirname, '../../sandbox/railway');
let graphql, WebSocketServer, useServer;
try {
	const req = createRequire(path.join(RAILWAY, 'package.json'));
	graphql = req('graphql');
	({ WebSocketServer } = req('ws'));
	({ useServer } = req('graphql-ws/use/ws'));
} catch (e) {
	process.stderr.write(`gqlws_server: cannot load graphql, graphql-ws and ws from ` +
	    `${RAILWAY}/node_modules (${e.message.split('\n')[0]}): run \`npm ci\` in sandbox/railway\n`);
	process.exit(3);
}
const { buildSchema, GraphQLError } = graphql;

const schema = buildSchema(`
	type Query { hello: String }
	type Tick { n: Int!, tag: String }
	type Subscription {
		ticks(count: Int, intervalMs: Int, tag: String): Tick!
		secret: Int
		limited: Int
		boom: Int
	}
`);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let stats;
function resetStats() {
	stats = {
		upgrades: 0,		// upgrade requests
		connections: 0,		// WebSockets opened
		open: 0,		// WebSockets open now
		acks: 0,
		refused: 0,
		types: {},		// client message type -> count
		subscribes: [],		// {id, query, variables}
		completes: [],		// ids the clients completed
		active: 0,		// tick generators running
		headers: [],		// {authorization, projectAccessToken}
		initPayloads: [],
	};
}
resetStats();

const roots = {
	subscription: {
		ticks: async function* ticks({ count, intervalMs, tag }) {
			const iv = intervalMs == null ? 20 : intervalMs;
			stats.active++;
			try {
				for (let i = 0; count == null || i < count; i++) {
					if (i > 0 && iv > 0)
						await sleep(iv);
					yield { ticks: { n: i, tag: tag == null ? null : tag } };
				}
			} finally {
				stats.active--;
			}
		},
		boom: async function* boom() {
			yield { boom: 1 };
			throw new Error('boom: the source failed');
		},
		secret: async function* secret() { yield { secret: 1 }; },
		limited: async function* limited() { yield { limited: 1 }; },
	},
};

function authorized(headers, params) {
	if (headers.authorization === 'Bearer good' || headers['project-access-token'] === 'good')
		return true;
	return !!(params && params.authToken === 'good');
}

const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
const server = http.createServer(admin);
server.on('upgrade', (req, socket, head) => {
	const url = new URL(req.url, 'http://127.0.0.1');
	stats.upgrades++;
	if (url.pathname !== '/graphql') {
		socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
		return;
	}
	if (url.searchParams.get('upgrade') === '401') {
		stats.refused++;
		socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
		return;
	}
	wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});

// Registered before useServer: sees every client message first, and can
// swallow the server's pongs.
wss.on('connection', (ws, req) => {
	const url = new URL(req.url, 'http://127.0.0.1');
	ws.gq = { nopong: url.searchParams.get('nopong') === '1' };
	stats.connections++;
	stats.open++;
	stats.headers.push({ authorization: req.headers.authorization || null,
	    projectAccessToken: req.headers['project-access-token'] || null });
	ws.on('close', () => { stats.open--; });
	ws.on('message', (data, isBinary) => {
		let m;
		try {
			m = JSON.parse(String(data));
		} catch (_) {
			stats.types['(invalid)'] = (stats.types['(invalid)'] || 0) + 1;
			return;
		}
		const t = m && typeof m.type === 'string' ? m.type : '(none)';
		stats.types[t] = (stats.types[t] || 0) + 1;
		if (t === 'subscribe')
			stats.subscribes.push({ id: m.id, query: m.payload && m.payload.query,
			    variables: (m.payload && m.payload.variables) || null });
		else if (t === 'complete')
			stats.completes.push(m.id);
		else if (t === 'connection_init')
			stats.initPayloads.push(m.payload === undefined ? null : m.payload);
	});
	const send = ws.send.bind(ws);
	ws.send = (data, ...rest) => {
		if (ws.gq.nopong && /"type":"pong"/.test(String(data))) {
			const cb = rest.find((x) => typeof x === 'function');
			if (cb)
				cb();
			return;
		}
		return send(data, ...rest);
	};
});

useServer({
	schema,
	roots,
	onConnect: async (ctx) => {
		const req = ctx.extra.request;
		const url = new URL(req.url, 'http://127.0.0.1');
		if (url.searchParams.get('noack') === '1')
			await new Promise(() => {});	// never
		if (!authorized(req.headers, ctx.connectionParams)) {
			stats.refused++;
			if (url.searchParams.get('deny') === '4401')
				ctx.extra.socket.close(4401, 'Unauthorized: bad token');
			return false;
		}
		stats.acks++;
		return true;
	},
	onSubscribe: (ctx, id, payload) => {
		const q = (payload && payload.query) || '';
		if (/\bsecret\b/.test(q))
			return [new GraphQLError('Not Authorized')];
		if (/\blimited\b/.test(q))
			return [new GraphQLError('Rate limit exceeded, retry after 1 seconds',
			    { extensions: { code: 'RATE_LIMITED', retryAfter: 1 } })];
		return undefined;
	},
}, wss, 0);

function each(fn) {
	let n = 0;
	for (const ws of wss.clients) {
		fn(ws);
		n++;
	}
	return n;
}

function hostile(kind) {
	switch (kind) {
	case 'nonjson': return 'hello {this is not json';
	case 'unknown': return '{"type":"bogus","id":"1"}';
	case 'notype': return '{"id":"1","payload":{}}';
	case 'array': return '[1,2,3]';
	case 'noid': return '{"type":"next","payload":{"data":{}}}';
	case 'strayid': return '{"id":"999","type":"next","payload":{"data":{"x":1}}}';
	case 'ack2': return '{"type":"connection_ack"}';
	case 'big': return `{"id":"1","type":"next","payload":{"data":{"x":"${'x'.repeat(2 * 1024 * 1024)}"}}}`;
	default: return null;
	}
}

function admin(req, res) {
	const url = new URL(req.url, 'http://127.0.0.1');
	const reply = (obj, status = 200) => {
		const body = JSON.stringify(obj);
		res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
		res.end(body);
	};
	switch (url.pathname) {
	case '/stats':
		return reply(stats);
	case '/reset':
		resetStats();
		stats.open = wss.clients.size;
		return reply({ ok: true });
	case '/drop':
		return reply({ dropped: each((ws) => ws._socket.destroy()) });
	case '/close': {
		const code = Number(url.searchParams.get('code') || 1000);
		return reply({ closed: each((ws) => ws.close(code, 'closed by the test')) });
	}
	case '/ping':
		return reply({ pinged: each((ws) => ws.send('{"type":"ping"}')) });
	case '/send': {
		const kind = url.searchParams.get('kind');
		if (kind === 'binary')
			return reply({ sent: each((ws) => ws.send(Buffer.from('{"type":"ping"}'), { binary: true })) });
		const frame = hostile(kind);
		if (frame === null)
			return reply({ error: `unknown kind ${kind}` }, 400);
		return reply({ sent: each((ws) => ws.send(frame)) });
	}
	default:
		return reply({ error: 'not found' }, 404);
	}
}

server.listen(0, '127.0.0.1', () => {
	const port = server.address().port;
	const probe = net.createServer();
	probe.listen(0, '127.0.0.1', () => {
		const closed = probe.address().port;
		probe.close(() => process.stdout.write(JSON.stringify({ port, closed }) + '\n'));
	});
});

process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
