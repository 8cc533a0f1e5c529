#!/usr/bin/env node
// emulator_live.js - the sandbox's Railway API emulator alone, for
// tests/unit/test_railway_live.c: started with the emulator tests' own
// helper (sandbox/railway/test/helpers.js: a generated config, the stand-in
// app as the services, no PostgreSQL or Redis), on free loopback ports.
//
// Prints one JSON line on stdout once the emulator answers /healthz:
//   {"url", "admin", "token", "projectToken", "projectId", "environmentId",
//    "apiId", "workerId"}
// and stops it (with every replica it started) when its stdin reaches end
// of file or on SIGTERM.
'use strict';

const path = require('path');

const helpers = require(path.join(__dirname, '..', '..', 'sandbox', 'railway', 'test', 'helpers.js'));

async function main() {
	const emu = await helpers.startEmulator({ timing: { buildMs: 50, drainMs: 50, metricsSampleMs: 250 } });
	let stopping = false;
	const stop = async () => {
		if (stopping)
			return;
		stopping = true;
		await emu.stop();
		process.exit(0);
	};
	process.stdin.on('end', stop);
	process.stdin.on('error', stop);
	process.on('SIGTERM', stop);
	process.on('SIGINT', stop);
	process.stdin.resume();
	process.stdout.write(JSON.stringify({
		url: emu.url, admin: emu.base, token: helpers.TOKEN, projectToken: helpers.PROJECT_TOKEN,
		projectId: helpers.IDS.project, environmentId: helpers.IDS.production,
		apiId: helpers.IDS.api, workerId: helpers.IDS.worker,
	}) + '\n');
}

process.on('SIGPIPE', () => {});
main().catch((e) => {
	process.stderr.write(`emulator_live: ${e.stack || e.message}\n`);
	process.exit(1);
});
