'use strict';
// Log line parsing and Railway's filter syntax (unit tests, no processes).

const test = require('node:test');
const assert = require('node:assert/strict');
const { parseLine, compileFilter, LogStore } = require('../lib/logs');
const { RateLimiter } = require('../lib/ratelimit');

test('parseLine: JSON lines give message, severity and JSON-encoded attributes; plain lines by stream', () => {
  const a = parseLine('{"time":"2024-01-01T00:00:00Z","level":"warning","msg":"slow","route":"/api","status":200,"ok":true}', 'stdout');
  assert.equal(a.message, 'slow');
  assert.equal(a.severity, 'warn');
  assert.deepEqual(a.attributes, [
    { key: 'level', value: '"warn"' },
    { key: 'time', value: '"2024-01-01T00:00:00Z"' },
    { key: 'route', value: '"/api"' },
    { key: 'status', value: '200' },
    { key: 'ok', value: 'true' },
  ]);
  assert.equal(parseLine('{"level":50,"msg":"pino"}', 'stdout').severity, 'error');
  assert.equal(parseLine('{"message":"m","severity":"ERROR"}', 'stdout').severity, 'error');
  assert.deepEqual(parseLine('plain words', 'stdout'), { message: 'plain words', severity: 'info', attributes: [{ key: 'level', value: '"info"' }] });
  assert.equal(parseLine('Error: boom', 'stderr').severity, 'error');
  assert.equal(parseLine('{"msg":"no level"}', 'stderr').severity, 'error');
  assert.equal(parseLine('{not json', 'stdout').message, '{not json');
  assert.equal(parseLine('x'.repeat(100000), 'stdout').message.length, 64 * 1024);
});

function rec(message, severity = 'info', attrs = {}, tags = {}) {
  return { message, severity, attributes: Object.entries(attrs).map(([k, v]) => ({ key: k, value: JSON.stringify(v) })), tags };
}

test('filters: terms, phrases, negation, AND/OR, parentheses, @level, @attr, numeric comparisons, tags', () => {
  const lines = [
    rec('GET /api/orders done', 'info', { status: 200, route: '/api/orders' }, { serviceId: 's1' }),
    rec('GET /health done', 'info', { status: 200, route: '/health' }, { serviceId: 's1' }),
    rec('payment failed: card declined', 'error', { status: 502, route: '/api/pay' }, { serviceId: 's2' }),
    rec('slow query', 'warn', { duration_ms: 1500 }, { serviceId: 's2' }),
  ];
  const pick = (f) => lines.filter(compileFilter(f)).map((l) => l.message);
  assert.equal(pick('').length, 4);
  assert.deepEqual(pick('done'), ['GET /api/orders done', 'GET /health done']);
  assert.deepEqual(pick('done -health'), ['GET /api/orders done']);
  assert.deepEqual(pick('"card declined"'), ['payment failed: card declined']);
  assert.deepEqual(pick('"declined card"'), []);
  assert.deepEqual(pick('@level:error'), ['payment failed: card declined']);
  assert.deepEqual(pick('@level:warning'), ['slow query']);
  assert.deepEqual(pick('@level:error OR @level:warn'), ['payment failed: card declined', 'slow query']);
  assert.deepEqual(pick('-@level:info'), ['payment failed: card declined', 'slow query']);
  assert.deepEqual(pick('@status:200 AND -@route:/health'), ['GET /api/orders done']);
  assert.deepEqual(pick('@status:>=500'), ['payment failed: card declined']);
  assert.deepEqual(pick('@duration_ms:1000..2000'), ['slow query']);
  assert.deepEqual(pick('(@level:error OR slow) @service:s2'), ['payment failed: card declined', 'slow query']);
  assert.deepEqual(pick('@route:"/api/pay"'), ['payment failed: card declined']);
  // hostile input does not throw
  for (const f of ['(((((', ')))', 'AND OR', '"unterminated', '@:', '-', '@level:', 'a'.repeat(5000)]) assert.doesNotThrow(() => pick(f));
});

test('log store: deployment and environment queries, limits, anchors, subscription initial batch then live lines', async () => {
  const s = new LogStore({ logLinesPerDeployment: 10, logLinesPerEnvironment: 20, httpLogsPerDeployment: 10 });
  const tags = (d) => ({ environmentId: 'e', deploymentId: d, serviceId: 's' });
  for (let i = 0; i < 15; i++) s.addDeployLog(tags('d1'), { message: `line ${i}`, severity: i % 5 === 0 ? 'error' : 'info', attributes: [] });
  const q = s.query('deploy', 'd1', { limit: 100 });
  assert.ok(q.length >= 10 && q.length <= 15, 'bounded per deployment');
  assert.equal(q[q.length - 1].message, 'line 14');
  assert.deepEqual(s.query('deploy', 'd1', { limit: 2 }).map((l) => l.message), ['line 13', 'line 14']);
  assert.deepEqual(s.query('deploy', 'd1', { limit: 100, filter: '@level:error' }).map((l) => l.message).slice(-2), ['line 5', 'line 10']);
  const mid = s.query('deploy', 'd1', { limit: 100 })[5];
  const around = s.query('env', 'e', { anchorDate: mid.timestamp, beforeLimit: 2, afterLimit: 1 });
  assert.equal(around.length, 3);
  assert.equal(around[1].timestamp, mid.timestamp);
  const it = s.subscribe('deploy', 'd1', { limit: 3 });
  const first = await it.next();
  assert.deepEqual(first.value.map((l) => l.message), ['line 12', 'line 13', 'line 14']);
  s.addDeployLog(tags('d2'), { message: 'other deployment', severity: 'info', attributes: [] });
  s.addDeployLog(tags('d1'), { message: 'live', severity: 'info', attributes: [] });
  const second = await it.next();
  assert.deepEqual(second.value.map((l) => l.message), ['live']);
  await it.return();
  assert.equal(s.listenerCount('deploy'), 0, 'unsubscribed');
});

test('rate limiter: headers, hourly and per-second budgets, fault window', () => {
  const rl = new RateLimiter({ perHour: 3, perSecond: 2 });
  const t0 = 1_700_000_000_000;
  assert.equal(rl.take('k', t0).headers['X-RateLimit-Remaining'], '2');
  assert.equal(rl.take('k', t0 + 1).allowed, true);
  const s = rl.take('k', t0 + 2);
  assert.equal(s.allowed, false);
  assert.equal(s.reason, 'second');
  assert.equal(rl.take('k', t0 + 1500).allowed, true);
  const h = rl.take('k', t0 + 3000);
  assert.equal(h.allowed, false);
  assert.equal(h.reason, 'hour');
  assert.equal(h.retryAfter, 3597);
  assert.equal(rl.take('other', t0).allowed, true);
  assert.equal(rl.take('k', t0 + 3600 * 1000).allowed, true, 'a new hour refills');
});
