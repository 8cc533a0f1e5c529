#!/usr/bin/env node
// Unleash 7.5.1 for the signalbox sandbox (sandbox/up --with unleash).
// Database in the sandbox's PostgreSQL; no calls to the outside (version
// check, telemetry and analytics off); one admin API token and one backend
// token created at start.  Environment (set by sandbox/lib/components.sh):
//   UNLEASH_PORT, UNLEASH_DATABASE_URL, UNLEASH_ADMIN_TOKEN, UNLEASH_CLIENT_TOKEN
'use strict';

for (const [k, v] of Object.entries({
	SEND_TELEMETRY: 'false', CHECK_VERSION: 'false', SCARF_ANALYTICS: 'false', DO_NOT_TRACK: '1',
	TZ: 'UTC', LOG_LEVEL: 'warn',
}))
	process.env[k] = process.env[k] || v;
process.env.INIT_ADMIN_API_TOKENS = process.env.UNLEASH_ADMIN_TOKEN || '';
process.env.INIT_BACKEND_API_TOKENS = process.env.UNLEASH_CLIENT_TOKEN || '';

const port = Number(process.env.UNLEASH_PORT || 4242);
const url = new URL(process.env.UNLEASH_DATABASE_URL || 'postgres://unleash@127.0.0.1/unleash');

import('unleash-server').then(({ start }) => start({
	server: { host: '127.0.0.1', port, unleashUrl: `http://127.0.0.1:${port}`, gracefulShutdownEnable: true },
	db: {
		host: url.hostname, port: Number(url.port || 5432), database: url.pathname.slice(1),
		user: decodeURIComponent(url.username), password: decodeURIComponent(url.password),
		ssl: false, pool: { min: 0, max: 4 },
	},
	versionCheck: { enable: false },
	telemetry: false,
	authentication: { type: 'open-source', enableApiToken: true, createAdminUser: true },
})).then(
	() => console.log(JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'unleash listening', port })),
	(e) => { console.error(e); process.exit(1); });
