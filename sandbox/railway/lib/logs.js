'use strict';
// Log storage (bounded per deployment and per environment), Railway's filter
// syntax, and the queries/subscriptions over them.
//
// Filter syntax (as documented for the public API):
//   plain terms and "quoted phrases"  substring of the message, case-insensitive
//   -term / -"phrase" / -@key:value  negation
//   AND / OR, parentheses            AND binds tighter; juxtaposition is AND
//   @level:error                     severity (warn/warning, err/error are aliases)
//   @key:value                       attribute equality (case-insensitive);
//                                    numeric attributes also take >N >=N <N <=N N..M
//   @service:ID @deployment:ID @replica:ID   tags (environment logs)

const { EventEmitter } = require('node:events');
const { nowNs, nsToRfc3339, rfc3339ToNs, boundedIterator } = require('./util');

const MAX_LINE = 64 * 1024;
const MAX_FILTER = 2000;

function normLevel(v) {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') {
    if (v >= 60) return 'fatal';
    if (v >= 50) return 'error';
    if (v >= 40) return 'warn';
    if (v >= 30) return 'info';
    return 'debug';
  }
  const s = String(v).toLowerCase().trim();
  if (s === 'warning') return 'warn';
  if (s === 'err') return 'error';
  if (s === 'critical' || s === 'crit' || s === 'panic' || s === 'emerg' || s === 'alert') return 'fatal';
  if (s === 'trace') return 'debug';
  return s || null;
}

// Turn one raw output line into {message, severity, attributes}.
function parseLine(line, stream) {
  const text = line.length > MAX_LINE ? line.slice(0, MAX_LINE) : line;
  const fallback = stream === 'stderr' ? 'error' : 'info';
  const t = text.trim();
  if (t.startsWith('{') && t.endsWith('}')) {
    let obj = null;
    try { obj = JSON.parse(t); } catch (_) { obj = null; }
    if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
      let message = '';
      let levelRaw;
      const attributes = [];
      for (const [k, v] of Object.entries(obj)) {
        const kl = k.toLowerCase();
        if ((kl === 'msg' || kl === 'message') && message === '' && typeof v === 'string') { message = v; continue; }
        if ((kl === 'level' || kl === 'severity' || kl === 'lvl') && levelRaw === undefined) { levelRaw = v; continue; }
        attributes.push({ key: k, value: JSON.stringify(v) === undefined ? 'null' : JSON.stringify(v) });
      }
      const severity = normLevel(levelRaw) || fallback;
      attributes.unshift({ key: 'level', value: JSON.stringify(severity) });
      return { message, severity, attributes };
    }
  }
  return { message: text, severity: fallback, attributes: [{ key: 'level', value: JSON.stringify(fallback) }] };
}

// ------------------------------------------------------------------ filters

function tokenize(s) {
  const toks = [];
  let i = 0;
  let guard = 0;
  while (i < s.length && guard++ < MAX_FILTER) {
    const c = s[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '(' || c === ')') { toks.push({ t: c }); i++; continue; }
    let neg = false;
    if (c === '-' && i + 1 < s.length && !/\s/.test(s[i + 1])) { neg = true; i++; }
    if (s[i] === '"') {
      const j = s.indexOf('"', i + 1);
      const end = j < 0 ? s.length : j;
      toks.push({ t: 'term', v: s.slice(i + 1, end), neg, phrase: true });
      i = end + 1;
      continue;
    }
    let j = i;
    // an @key:"quoted value" keeps its spaces
    if (s[i] === '@') {
      const colon = s.indexOf(':', i);
      if (colon > 0 && s[colon + 1] === '"' && !/\s/.test(s.slice(i, colon))) {
        const q = s.indexOf('"', colon + 2);
        const end = q < 0 ? s.length : q;
        toks.push({ t: 'attr', k: s.slice(i + 1, colon), v: s.slice(colon + 2, end), neg });
        i = end + 1;
        continue;
      }
    }
    while (j < s.length && !/\s/.test(s[j]) && s[j] !== '(' && s[j] !== ')') j++;
    const word = s.slice(i, j);
    i = j;
    if (!neg && (word === 'AND' || word === 'OR' || word === 'NOT')) { toks.push({ t: word }); continue; }
    const m = /^@([^:]+):(.*)$/.exec(word);
    if (m) toks.push({ t: 'attr', k: m[1], v: m[2], neg });
    else toks.push({ t: 'term', v: word, neg });
  }
  return toks;
}

// Parse into a predicate over records {message, severity, attributes, tags}.
function compileFilter(filter) {
  const src = typeof filter === 'string' ? filter.slice(0, MAX_FILTER).trim() : '';
  if (!src) return () => true;
  const toks = tokenize(src);
  let pos = 0;
  const peek = () => toks[pos];
  function parseOr(depth) {
    let left = parseAnd(depth);
    while (peek() && peek().t === 'OR') {
      pos++;
      const right = parseAnd(depth);
      const l = left;
      left = (r) => l(r) || right(r);
    }
    return left;
  }
  function parseAnd(depth) {
    let left = parseUnary(depth);
    for (;;) {
      const t = peek();
      if (!t || t.t === 'OR' || t.t === ')') break;
      if (t.t === 'AND') pos++;
      const right = parseUnary(depth);
      const l = left;
      left = (r) => l(r) && right(r);
    }
    return left;
  }
  function parseUnary(depth) {
    const t = peek();
    if (!t) return () => true;
    if (t.t === 'NOT') { pos++; const inner = parseUnary(depth); return (r) => !inner(r); }
    if (t.t === '(') {
      pos++;
      const inner = depth > 20 ? () => true : parseOr(depth + 1);
      if (peek() && peek().t === ')') pos++;
      return inner;
    }
    if (t.t === ')') { pos++; return () => true; }
    pos++;
    if (t.t === 'AND' || t.t === 'OR') return () => true;
    const p = t.t === 'attr' ? attrPredicate(t.k, t.v) : termPredicate(t.v);
    return t.neg ? (r) => !p(r) : p;
  }
  const pred = parseOr(0);
  return pred;
}

function termPredicate(v) {
  const needle = v.toLowerCase();
  if (!needle) return () => true;
  return (r) => String(r.message || '').toLowerCase().includes(needle);
}

function decodeAttr(value) {
  try {
    const v = JSON.parse(value);
    return v;
  } catch (_) {
    return value;
  }
}

function attrPredicate(key, want) {
  const k = key.toLowerCase();
  const wantL = want.toLowerCase();
  if (k === 'level' || k === 'severity') {
    const lv = normLevel(want);
    return (r) => normLevel(r.severity) === lv;
  }
  const tagKeys = { service: 'serviceId', deployment: 'deploymentId', replica: 'deploymentInstanceId', deploymentinstance: 'deploymentInstanceId', environment: 'environmentId', snapshot: 'snapshotId' };
  if (tagKeys[k]) return (r) => Boolean(r.tags && String(r.tags[tagKeys[k]] || '').toLowerCase() === wantL);
  let num = null;
  const m = /^(>=|<=|>|<)?(-?\d+(?:\.\d+)?)(?:\.\.(-?\d+(?:\.\d+)?))?$/.exec(want);
  if (m) num = { op: m[1] || (m[3] !== undefined ? '..' : '='), a: Number(m[2]), b: m[3] !== undefined ? Number(m[3]) : null };
  return (r) => {
    for (const a of r.attributes || []) {
      if (a.key.toLowerCase() !== k) continue;
      const v = decodeAttr(a.value);
      if (num && typeof v === 'number') {
        if (num.op === '=' && v === num.a) return true;
        if (num.op === '>' && v > num.a) return true;
        if (num.op === '>=' && v >= num.a) return true;
        if (num.op === '<' && v < num.a) return true;
        if (num.op === '<=' && v <= num.a) return true;
        if (num.op === '..' && v >= num.a && v <= num.b) return true;
        continue;
      }
      if (String(v).toLowerCase() === wantL) return true;
    }
    return false;
  };
}

// ------------------------------------------------------------------ store

class Ring {
  constructor(max) { this.max = max; this.items = []; }
  push(e) {
    this.items.push(e);
    if (this.items.length > this.max + 256) this.items.splice(0, this.items.length - this.max);
  }
}

function clampLimit(v, dflt) {
  if (v === undefined || v === null) return dflt;
  if (!Number.isInteger(v) || v < 0) return dflt;
  return Math.min(v, 5000);
}

// Pick from a time-ordered array the lines a query asks for.
function selectWindow(items, pred, opts) {
  const start = opts.startNs;
  const end = opts.endNs;
  const inRange = (e) => (start === null || e.ns >= start) && (end === null || e.ns <= end);
  if (opts.anchorNs !== undefined) {
    const before = [];
    const after = [];
    for (const e of items) {
      if (!inRange(e) || !pred(e)) continue;
      if (e.ns <= opts.anchorNs) before.push(e); else after.push(e);
    }
    const b = before.slice(Math.max(0, before.length - opts.beforeLimit));
    const a = after.slice(0, opts.afterLimit);
    return b.concat(a);
  }
  const matched = items.filter((e) => inRange(e) && pred(e));
  if (start !== null && end === null) return matched.slice(0, opts.limit);
  return matched.slice(Math.max(0, matched.length - opts.limit));
}

class LogStore extends EventEmitter {
  constructor(limits) {
    super();
    this.setMaxListeners(0);
    this.limits = limits;
    this.deploy = new Map(); // deploymentId -> Ring
    this.build = new Map();
    this.env = new Map(); // environmentId -> Ring
    this.http = new Map(); // deploymentId -> Ring
  }
  ring(map, key, max) {
    let r = map.get(key);
    if (!r) { r = new Ring(max); map.set(key, r); }
    return r;
  }
  entry(tags, parsed) {
    const ns = nowNs();
    return { ns, timestamp: nsToRfc3339(ns), message: parsed.message, severity: parsed.severity, attributes: parsed.attributes, tags };
  }
  // A runtime line of a replica (or the platform speaking about a deployment).
  addDeployLog(tags, parsed) {
    const e = this.entry(tags, parsed);
    this.ring(this.deploy, tags.deploymentId, this.limits.logLinesPerDeployment).push(e);
    this.ring(this.env, tags.environmentId, this.limits.logLinesPerEnvironment).push(e);
    this.emit('deploy', e);
    return e;
  }
  addBuildLog(tags, message, severity = 'info') {
    const e = this.entry(tags, { message, severity, attributes: [{ key: 'level', value: JSON.stringify(severity) }] });
    this.ring(this.build, tags.deploymentId, this.limits.logLinesPerDeployment).push(e);
    this.emit('build', e);
    return e;
  }
  addHttpLog(rec) {
    const ns = nowNs();
    const e = { ns, ...rec, timestamp: nsToRfc3339(ns) };
    e.message = `${e.method} ${e.path} ${e.httpStatus}`;
    e.tags = { deploymentId: e.deploymentId, deploymentInstanceId: e.deploymentInstanceId };
    e.attributes = Object.entries(rec).map(([k, v]) => ({ key: k, value: JSON.stringify(v) }));
    this.ring(this.http, e.deploymentId, this.limits.httpLogsPerDeployment).push(e);
    this.emit('http', e);
    return e;
  }

  static queryOpts(args, dfltLimit = 100) {
    const toNs = (v) => (v === undefined || v === null || v === '' ? null : rfc3339ToNs(String(v)));
    const o = {
      startNs: toNs(args.startDate !== undefined ? args.startDate : args.beforeDate),
      endNs: toNs(args.endDate !== undefined ? args.endDate : args.afterDate),
      limit: clampLimit(args.limit, dfltLimit),
    };
    if (args.anchorDate || args.beforeLimit !== undefined || args.afterLimit !== undefined) {
      const an = toNs(args.anchorDate);
      o.anchorNs = an === null ? nowNs() : an;
      const bothMissing = (args.beforeLimit === undefined || args.beforeLimit === null) && (args.afterLimit === undefined || args.afterLimit === null);
      o.beforeLimit = clampLimit(args.beforeLimit, bothMissing ? dfltLimit : 0);
      o.afterLimit = clampLimit(args.afterLimit, bothMissing ? dfltLimit : 0);
    }
    return o;
  }

  query(kind, key, args) {
    const map = { deploy: this.deploy, build: this.build, env: this.env, http: this.http }[kind];
    const r = map.get(key);
    const items = r ? r.items : [];
    return selectWindow(items, compileFilter(args.filter), LogStore.queryOpts(args));
  }

  // Subscription: first the query's answer (if any), then every new matching
  // line, as arrays (one array per burst).
  subscribe(kind, key, args) {
    const pred = compileFilter(args.filter);
    const event = { deploy: 'deploy', build: 'build', env: 'deploy', http: 'http' }[kind];
    const keyOf = kind === 'env' ? (e) => e.tags.environmentId : (e) => (e.tags ? e.tags.deploymentId : e.deploymentId);
    let pending = [];
    let scheduled = false;
    let lastNs = -1n;
    const it = boundedIterator(() => this.off(event, onEntry), 1000);
    const flush = () => {
      scheduled = false;
      if (pending.length) { it.push(pending); pending = []; }
    };
    const onEntry = (e) => {
      if (keyOf(e) !== key || e.ns <= lastNs || !pred(e)) return;
      lastNs = e.ns;
      pending.push(e);
      if (pending.length >= 500) flush();
      if (!scheduled) { scheduled = true; setTimeout(flush, 20); }
    };
    const initArgs = { ...args };
    delete initArgs.afterDate; // live lines come after the initial batch anyway
    if (initArgs.limit === undefined && initArgs.beforeLimit === undefined && initArgs.anchorDate === undefined) initArgs.limit = 100;
    const initial = this.query(kind, key, initArgs);
    if (initial.length) {
      lastNs = initial[initial.length - 1].ns;
      it.push(initial);
    }
    this.on(event, onEntry);
    return it;
  }

  forget(deploymentId) {
    this.deploy.delete(deploymentId);
    this.build.delete(deploymentId);
    this.http.delete(deploymentId);
  }
}

// Splits a stream into lines, bounded.
function lineSplitter(onLine) {
  let buf = '';
  return {
    write(chunk) {
      buf += chunk.toString('utf8');
      let idx;
      let guard = 0;
      while ((idx = buf.indexOf('\n')) >= 0 && guard++ < 100000) {
        const line = buf.slice(0, idx).replace(/\r$/, '');
        buf = buf.slice(idx + 1);
        if (line.length) onLine(line);
      }
      if (buf.length > MAX_LINE) { onLine(buf.slice(0, MAX_LINE)); buf = ''; }
    },
    end() { if (buf.length) onLine(buf); buf = ''; },
  };
}

module.exports = { LogStore, parseLine, compileFilter, lineSplitter, normLevel };
