#!/usr/bin/env node
// Create the sandbox's flags in Unleash through its admin API (idempotent:
// existing flags and strategies are left as they are).  Unleash OSS has two
// environments, development and production, and cannot create more; the
// sandbox's "staging" is Unleash's "development" (docs/flags.md).
//   UNLEASH_URL=http://127.0.0.1:PORT UNLEASH_ADMIN_TOKEN=... node bootstrap.js
'use strict';

const base = process.env.UNLEASH_URL;
const token = process.env.UNLEASH_ADMIN_TOKEN;
if (!base || !/^http:\/\/127\.0\.0\.1:\d+$/.test(base) || !token) {
	console.error('bootstrap.js: set UNLEASH_URL (http://127.0.0.1:PORT) and UNLEASH_ADMIN_TOKEN');
	process.exit(2);
}

// name, description, type, rollout %, on in production, on in development
const FLAGS = [
	['new-checkout', 'New checkout flow (POST /orders); fails rollout% of orders while on', 'release', 25, false, true],
	['dark-mode', 'Dark theme for the web client', 'release', 100, true, true],
	['search-v2', 'New search backend', 'experiment', 10, false, false],
	['kill-legacy-export', 'Turn off the legacy CSV export', 'kill-switch', 100, false, false],
];

async function api(method, path, body) {
	const res = await fetch(base + path, {
		method,
		headers: { Authorization: token, 'Content-Type': 'application/json' },
		body: body ? JSON.stringify(body) : undefined,
		signal: AbortSignal.timeout(5000),
	});
	const text = await res.text();
	return { status: res.status, body: text ? JSON.parse(text) : null };
}

(async () => {
	for (const [name, description, type, rollout, prodOn, devOn] of FLAGS) {
		const c = await api('POST', '/api/admin/projects/default/features', { name, description, type });
		if (c.status !== 201 && c.status !== 409)
			throw new Error(`create ${name}: HTTP ${c.status} ${JSON.stringify(c.body)}`);
		if (c.status === 409)
			continue;                 // exists: leave its state alone
		for (const [env, on] of [['production', prodOn], ['development', devOn]]) {
			const s = await api('POST', `/api/admin/projects/default/features/${name}/environments/${env}/strategies`, {
				name: 'flexibleRollout',
				parameters: { rollout: String(rollout), stickiness: 'default', groupId: name },
			});
			if (s.status !== 200)
				throw new Error(`strategy ${name}/${env}: HTTP ${s.status}`);
			if (on) {
				const o = await api('POST', `/api/admin/projects/default/features/${name}/environments/${env}/on`);
				if (o.status !== 200)
					throw new Error(`enable ${name}/${env}: HTTP ${o.status}`);
			}
		}
		console.log(JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'flag created', flag: name }));
	}
})().catch((e) => {
	console.error(`bootstrap.js: ${e.message}`);
	process.exit(1);
});
