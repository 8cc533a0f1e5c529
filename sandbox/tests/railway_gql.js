#!/usr/bin/env node
// Small GraphQL client for sandbox/tests/test_railway_flow.sh: talks to the
// sandbox's Railway API emulator with the account token from <run>/env
// (RAILWAY_API_URL, RAILWAY_TOKEN).  Node 20 built-ins, plus graphql-ws and
// ws from sandbox/railway/node_modules for subscriptions.  Every wait is
// bounded.
//
//   query DOC [VARS] [--timeout S]      print .data as JSON; exit 1 on GraphQL
//                                       errors or a non-200 answer (body on stderr)
//   raw DOC [VARS] [--timeout S]        print {"status","ms","headers","body"}
//                                       whatever the answer (exit 1 only when none)
//   wait-deployment ID STATUSES TIMEOUT_S
//                                       poll deployment(id).status until it is one
//                                       of STATUSES (comma-separated); exit 1 at
//                                       the timeout or at a final status not wanted
//   wait-workflow ID TIMEOUT_S          poll workflowStatus until Complete (exit 0),
//                                       Error or NotFound (exit 1), or the timeout
//   subscribe DOC [VARS] [--timeout S] [--ready FILE] [--until REGEX]...
//                                       graphql-transport-ws on the same URL, the
//                                       Bearer token in connection_init; print each
//                                       payload as one JSON line; FILE is created
//                                       when the first payload arrived; exit 0 once
//                                       the --until regexes matched payloads in
//                                       that order (or, without any, at the first
//                                       payload), 1 at the timeout, 3 when the
//                                       socket closes or the server sends an error
//                                       ("closed CODE" / the message on stderr)
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');

const URL_ = process.env.RAILWAY_API_URL;
const TOKEN = process.env.RAILWAY_TOKEN;
const RAILWAY_DIR = path.resolve(__dirname, '..', 'railway');

function die(msg, code = 2) {
	process.stderr.write(`railway_gql: ${msg}\n`);
	process.exit(code);
}

if (!URL_ || !TOKEN)
	die('RAILWAY_API_URL and RAILWAY_TOKEN must be set (. <run>/env)');

// argv: positional arguments and --name value options (--until repeats).
function parseArgs(argv) {
	const pos = [];
	const opt = { until: [] };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a.startsWith('--')) {
			const k = a.slice(2);
			if (i + 1 >= argv.length)
				die(`${a} needs a value`);
			const v = argv[++i];
			if (k === 'until')
				opt.until.push(new RegExp(v));
			else
				opt[k] = v;
		} else {
			pos.push(a);
		}
	}
	return { pos, opt };
}

function vars(s) {
	if (s === undefined || s === '')
		return undefined;
	try { return JSON.parse(s); } catch (e) { return die(`variables are not JSON: ${e.message}`); }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function post(query, variables, timeoutS = 15) {
	const t0 = Date.now();
	const res = await fetch(URL_, {
		method: 'POST',
		headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
		body: JSON.stringify({ query, variables }),
		signal: AbortSignal.timeout(timeoutS * 1000),
	});
	const text = await res.text();
	let json = null;
	try { json = JSON.parse(text); } catch (_) { /* not JSON */ }
	return { status: res.status, ms: Date.now() - t0, headers: Object.fromEntries(res.headers), text, json };
}

// data, or throw with the answer
async function q(query, variables, timeoutS) {
	const r = await post(query, variables, timeoutS);
	if (r.status !== 200 || !r.json || r.json.errors)
		throw new Error(`HTTP ${r.status}: ${r.text.slice(0, 1000)}`);
	return r.json.data;
}

const FINAL = new Set(['SUCCESS', 'FAILED', 'REMOVED', 'SKIPPED']);

async function waitDeployment(id, wanted, timeoutS) {
	const want = new Set(wanted.split(','));
	const end = Date.now() + timeoutS * 1000;
	let last = '(none)';
	while (Date.now() < end) {
		try {
			const d = await q('query($id: String!) { deployment(id: $id) { status } }', { id }, 10);
			last = d.deployment.status;
			if (want.has(last)) {
				console.log(last);
				return 0;
			}
			if (FINAL.has(last)) {
				console.log(last);
				process.stderr.write(`railway_gql: deployment ${id} ended ${last}, wanted ${wanted}\n`);
				return 1;
			}
		} catch (e) {
			last = e.message;
		}
		await sleep(250);
	}
	console.log(last);
	process.stderr.write(`railway_gql: deployment ${id} not ${wanted} within ${timeoutS}s (last: ${last})\n`);
	return 1;
}

async function waitWorkflow(id, timeoutS) {
	const end = Date.now() + timeoutS * 1000;
	let last = '(none)';
	while (Date.now() < end) {
		try {
			const w = (await q('query($id: String!) { workflowStatus(workflowId: $id) { status error } }', { id }, 10)).workflowStatus;
			last = w.status;
			if (w.status === 'Complete') {
				console.log(JSON.stringify(w));
				return 0;
			}
			if (w.status === 'Error' || w.status === 'NotFound') {
				console.log(JSON.stringify(w));
				process.stderr.write(`railway_gql: workflow ${id}: ${w.status} ${w.error || ''}\n`);
				return 1;
			}
		} catch (e) {
			last = e.message;
		}
		await sleep(250);
	}
	process.stderr.write(`railway_gql: workflow ${id} not Complete within ${timeoutS}s (last: ${last})\n`);
	return 1;
}

function subscribe(query, variables, opt) {
	const req = createRequire(path.join(RAILWAY_DIR, 'package.json'));
	const WebSocket = req('ws');
	const { createClient } = req('graphql-ws');
	const timeoutS = Number(opt.timeout || 20);
	const wsUrl = URL_.replace(/^http/, 'ws');
	return new Promise((resolve) => {
		let done = false;
		let next = 0;           // index of the --until regex to match next
		let dispose = () => {};
		const client = createClient({
			url: wsUrl,
			webSocketImpl: WebSocket,
			connectionParams: { Authorization: `Bearer ${TOKEN}` },
			retryAttempts: 0,
			lazy: true,
		});
		const finish = (code, msg) => {
			if (done)
				return;
			done = true;
			clearTimeout(timer);
			if (msg)
				process.stderr.write(`railway_gql: ${msg}\n`);
			try { dispose(); } catch (_) { /* closing anyway */ }
			client.dispose();
			resolve(code);
		};
		const timer = setTimeout(() => finish(1, `subscription: timeout after ${timeoutS}s` +
			(opt.until.length ? ` (matched ${next} of ${opt.until.length} --until)` : '')), timeoutS * 1000);
		let first = true;
		dispose = client.subscribe({ query, variables }, {
			next: (v) => {
				if (done)
					return;
				const line = JSON.stringify(v);
				process.stdout.write(`${line}\n`);
				if (first) {
					first = false;
					if (opt.ready)
						fs.writeFileSync(opt.ready, 'ready\n');
				}
				if (v.errors)
					return finish(3, `subscription error: ${v.errors.map((e) => e.message).join('; ')}`);
				while (next < opt.until.length && opt.until[next].test(line))
					next++;
				if (next >= opt.until.length)
					finish(0);
			},
			error: (e) => {
				let msg;
				if (e && e.code !== undefined && !(e instanceof Error))
					msg = `closed ${e.code} ${e.reason || ''}`.trim();
				else if (Array.isArray(e))
					msg = e.map((x) => x.message).join('; ');
				else
					msg = (e && e.message) || JSON.stringify(e);
				finish(3, msg);
			},
			complete: () => finish(3, 'subscription completed by the server'),
		});
	});
}

async function main() {
	const [cmd, ...rest] = process.argv.slice(2);
	const { pos, opt } = parseArgs(rest);
	const timeoutS = Number(opt.timeout || 15);
	switch (cmd) {
	case 'query': {
		if (!pos[0])
			die('query DOC [VARS]');
		const r = await post(pos[0], vars(pos[1]), timeoutS);
		if (r.status !== 200 || !r.json || r.json.errors) {
			process.stderr.write(`railway_gql: HTTP ${r.status}: ${r.text.slice(0, 2000)}\n`);
			return 1;
		}
		console.log(JSON.stringify(r.json.data));
		return 0;
	}
	case 'raw': {
		if (!pos[0])
			die('raw DOC [VARS]');
		const r = await post(pos[0], vars(pos[1]), timeoutS);
		console.log(JSON.stringify({ status: r.status, ms: r.ms, headers: r.headers, body: r.json === null ? r.text : r.json }));
		return 0;
	}
	case 'wait-deployment':
		if (pos.length !== 3)
			die('wait-deployment ID STATUSES TIMEOUT_S');
		return waitDeployment(pos[0], pos[1], Number(pos[2]));
	case 'wait-workflow':
		if (pos.length !== 2)
			die('wait-workflow ID TIMEOUT_S');
		return waitWorkflow(pos[0], Number(pos[1]));
	case 'subscribe':
		if (!pos[0])
			die('subscribe DOC [VARS] [--timeout S] [--ready FILE] [--until REGEX]...');
		return subscribe(pos[0], vars(pos[1]), opt);
	default:
		return die(`unknown command '${cmd || ''}' (query, raw, wait-deployment, wait-workflow, subscribe)`);
	}
}

main().then((code) => process.exit(code), (e) => die(e.message, 1));
