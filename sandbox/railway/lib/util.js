'use strict';
// Small shared helpers: stable ids, timestamps, a bounded event journal,
// bounded async queues for subscriptions, and a per-key serial executor.

const crypto = require('node:crypto');
const { EventEmitter } = require('node:events');

// Stable ids: a UUID-shaped digest of the config's project id, a kind and a
// counter, so the same config and the same sequence of actions give the same
// ids on every start.
function makeIdFactory(seed) {
  const counters = new Map();
  function derive(kind, key) {
    const h = crypto.createHash('sha1').update(`${seed}\0${kind}\0${key}`).digest('hex');
    const v = (parseInt(h[16], 16) & 0x3) | 0x8;
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${v.toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
  function next(kind) {
    const n = (counters.get(kind) || 0) + 1;
    counters.set(kind, n);
    return derive(kind, String(n));
  }
  return { derive, next };
}

// RFC 3339 with nanoseconds, strictly increasing within this process (log
// timestamps double as ordering keys, and clients dedupe on them).
let lastNs = 0n;
function nowNs() {
  let ns = BigInt(Date.now()) * 1000000n + (process.hrtime.bigint() % 1000000n);
  if (ns <= lastNs) ns = lastNs + 1n;
  lastNs = ns;
  return ns;
}
function nsToRfc3339(ns) {
  const ms = Number(ns / 1000000n);
  const iso = new Date(ms).toISOString(); // 2024-01-01T00:00:00.123Z
  const frac = (ns % 1000000000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${frac}Z`;
}
// Parse an RFC 3339 date (any fraction length) into ns since epoch, or null.
function rfc3339ToNs(s) {
  if (typeof s !== 'string') return null;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/.exec(s.trim());
  if (!m) {
    const t = Date.parse(s);
    return Number.isNaN(t) ? null : BigInt(t) * 1000000n;
  }
  const base = Date.parse(`${m[1]}${m[3] || 'Z'}`);
  if (Number.isNaN(base)) return null;
  const frac = BigInt((m[2] || '').padEnd(9, '0'));
  return BigInt(base) * 1000000n + frac;
}
function isoNow() {
  return new Date().toISOString();
}

// The admin journal: what the emulator did, newest last, bounded.
class Journal {
  constructor(max = 5000) {
    this.max = max;
    this.items = [];
    this.seq = 0;
  }
  add(type, fields) {
    const e = { seq: ++this.seq, time: isoNow(), type, ...fields };
    this.items.push(e);
    if (this.items.length > this.max) this.items.splice(0, this.items.length - this.max);
    return e;
  }
  since(seq, limit = 1000) {
    const out = this.items.filter((e) => e.seq > seq);
    return out.slice(Math.max(0, out.length - limit));
  }
}

// An async iterator fed by push(), bounded: when the consumer falls behind by
// more than `max` items the oldest are dropped (and counted).
function boundedIterator(onReturn, max = 10000) {
  const queue = [];
  const waiters = [];
  let done = false;
  let dropped = 0;
  const it = {
    push(v) {
      if (done) return;
      const w = waiters.shift();
      if (w) { w({ value: v, done: false }); return; }
      queue.push(v);
      if (queue.length > max) { queue.shift(); dropped++; }
    },
    get dropped() { return dropped; },
    next() {
      if (queue.length) return Promise.resolve({ value: queue.shift(), done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => waiters.push(resolve));
    },
    return() {
      if (!done) {
        done = true;
        queue.length = 0;
        for (const w of waiters.splice(0)) w({ value: undefined, done: true });
        try { onReturn && onReturn(); } catch (_) { /* ignore */ }
      }
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(e) {
      it.return();
      return Promise.reject(e);
    },
    [Symbol.asyncIterator]() { return it; },
  };
  return it;
}

// Run async jobs one at a time per key (a service instance's deploys, scales
// and restarts never interleave).
class Serial {
  constructor() { this.tails = new Map(); }
  run(key, fn) {
    const prev = this.tails.get(key) || Promise.resolve();
    const p = prev.then(fn, fn);
    const tail = p.catch(() => {});
    this.tails.set(key, tail);
    tail.then(() => { if (this.tails.get(key) === tail) this.tails.delete(key); });
    return p;
  }
}

const sleep = (ms) => new Promise((r) => { const t = setTimeout(r, ms); if (t.unref) t.unref(); });

module.exports = {
  makeIdFactory, nowNs, nsToRfc3339, rfc3339ToNs, isoNow, Journal, boundedIterator,
  Serial, sleep, EventEmitter,
};
