'use strict';
// Per-token request budgets like Railway's public API: an hourly budget
// (fixed window from the token's first request) and a per-second budget
// (sliding second). Every reply carries X-RateLimit-Limit (the hourly limit),
// X-RateLimit-Remaining and X-RateLimit-Reset (epoch seconds of the hourly
// window's end); a spent budget answers 429 with Retry-After (seconds).
//
// The rate-limit fault spends every budget now; the budgets refill after
// the fault's window (default 30 s) or when the fault is turned off.

const HOUR = 3600 * 1000;

class RateLimiter {
  constructor({ perHour, perSecond }) {
    this.perHour = perHour;
    this.perSecond = perSecond;
    this.buckets = new Map(); // key -> {windowStart, used, recent: number[]}
    this.fault = null; // {until}
  }

  bucket(key, now) {
    let b = this.buckets.get(key);
    if (!b || now - b.windowStart >= HOUR) {
      b = { windowStart: now, used: 0, recent: [] };
      this.buckets.set(key, b);
      if (this.buckets.size > 10000) {
        for (const [k, v] of this.buckets) { if (now - v.windowStart >= HOUR) this.buckets.delete(k); }
      }
    }
    return b;
  }

  setFault(on, seconds) {
    if (on) this.fault = { until: Date.now() + Math.max(1, seconds || 30) * 1000 };
    else this.fault = null;
  }

  faultActive(now) {
    if (this.fault && now >= this.fault.until) this.fault = null;
    return Boolean(this.fault);
  }

  // Count one request for key. Returns {allowed, headers, retryAfter, reason}.
  take(key, now = Date.now()) {
    const b = this.bucket(key, now);
    b.recent = b.recent.filter((t) => now - t < 1000);
    const resetSec = Math.ceil((b.windowStart + HOUR) / 1000);
    const headers = (remaining, reset) => ({
      'X-RateLimit-Limit': String(this.perHour),
      'X-RateLimit-Remaining': String(Math.max(0, remaining)),
      'X-RateLimit-Reset': String(reset),
    });
    if (this.faultActive(now)) {
      const retry = Math.max(1, Math.ceil((this.fault.until - now) / 1000));
      return { allowed: false, retryAfter: retry, reason: 'hour', headers: headers(0, Math.ceil(this.fault.until / 1000)) };
    }
    if (b.used >= this.perHour) {
      const retry = Math.max(1, Math.ceil((b.windowStart + HOUR - now) / 1000));
      return { allowed: false, retryAfter: retry, reason: 'hour', headers: headers(0, resetSec) };
    }
    if (b.recent.length >= this.perSecond) {
      const retry = Math.max(1, Math.ceil((b.recent[0] + 1000 - now) / 1000));
      return { allowed: false, retryAfter: retry, reason: 'second', headers: headers(this.perHour - b.used, resetSec) };
    }
    b.used++;
    b.recent.push(now);
    return { allowed: true, headers: headers(this.perHour - b.used, resetSec) };
  }

  // For User.apiTokenRateLimit: remaining points and reset time.
  peek(key, now = Date.now()) {
    const b = this.bucket(key, now);
    if (this.faultActive(now)) return { remainingPoints: 0, resetsAt: new Date(this.fault.until).toISOString() };
    return { remainingPoints: Math.max(0, this.perHour - b.used), resetsAt: new Date(b.windowStart + HOUR).toISOString() };
  }
}

module.exports = { RateLimiter };
