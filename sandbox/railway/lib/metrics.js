'use strict';
// Resource metrics from the replicas' real /proc figures: CPU (vCPUs used,
// from utime+stime deltas), memory (RSS), and network (bytes through the
// service's front, counted per replica). Sampled periodically into a bounded
// buffer; the `metrics` query buckets them per sampleRateSeconds and groups
// them by the requested tags.

const fs = require('node:fs');
const os = require('node:os');
const { execFileSync } = require('node:child_process');

let CLK_TCK = 100;
try { CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch (_) { /* default */ }
let PAGE = 4096;
try { PAGE = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()) || 4096; } catch (_) { /* default */ }
const GB = 1024 * 1024 * 1024;

function readStat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z' || rest[0] === 'X') return null; // exited, not reaped yet
    const ppid = Number(rest[1]);
    const ticks = Number(rest[11]) + Number(rest[12]);
    const rssPages = Number(rest[21]);
    return { ppid, ticks, rss: rssPages * PAGE };
  } catch (_) {
    return null;
  }
}

// The pid and all its descendants (bounded scan of /proc).
function processTree(root) {
  const children = new Map();
  let names = [];
  try { names = fs.readdirSync('/proc'); } catch (_) { return [root]; }
  let n = 0;
  for (const name of names) {
    if (!/^\d+$/.test(name) || n++ > 20000) continue;
    const st = readStat(name);
    if (!st) continue;
    if (!children.has(st.ppid)) children.set(st.ppid, []);
    children.get(st.ppid).push(Number(name));
  }
  const out = [];
  const stack = [root];
  while (stack.length && out.length < 5000) {
    const p = stack.pop();
    out.push(p);
    for (const c of children.get(p) || []) stack.push(c);
  }
  return out;
}

const MEASUREMENTS = {
  CPU_USAGE: 'cpu', CPU_USAGE_2: 'cpu', MEMORY_USAGE_GB: 'mem', NETWORK_RX_GB: 'rx', NETWORK_TX_GB: 'tx',
  CPU_LIMIT: 'cpuLimit', MEMORY_LIMIT_GB: 'memLimit', DISK_USAGE_GB: 'disk', EPHEMERAL_DISK_USAGE_GB: 'zero', BACKUP_USAGE_GB: 'zero',
};
const TAGS = {
  DEPLOYMENT_ID: 'deploymentId', DEPLOYMENT_INSTANCE_ID: 'deploymentInstanceId', ENVIRONMENT_ID: 'environmentId',
  PROJECT_ID: 'projectId', REGION: 'region', SERVICE_ID: 'serviceId', VOLUME_ID: 'volumeId', VOLUME_INSTANCE_ID: 'volumeInstanceId',
};

class Metrics {
  constructor(platform, { sampleMs, maxSamples }) {
    this.platform = platform;
    this.sampleMs = sampleMs;
    this.max = maxSamples;
    this.samples = [];
    this.prev = new Map(); // replicaId -> {ticks, t}
    this.timer = null;
    this.cpuLimit = os.cpus().length;
    this.memLimitGB = os.totalmem() / GB;
  }

  start() {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.sampleMs);
    this.timer.unref();
  }

  stop() { if (this.timer) clearInterval(this.timer); }

  sample() {
    const now = Date.now();
    const seen = new Set();
    for (const t of this.platform.metricTargets()) {
      const pids = t.tree ? processTree(t.pids[0]) : t.pids;
      let ticks = 0;
      let rss = 0;
      let alive = false;
      for (const pid of pids) {
        const st = readStat(pid);
        if (!st) continue;
        alive = true;
        ticks += st.ticks;
        rss += st.rss;
      }
      if (!alive) continue;
      seen.add(t.replicaId);
      const prev = this.prev.get(t.replicaId);
      this.prev.set(t.replicaId, { ticks, t: now });
      let cpu = 0;
      if (prev && now > prev.t && ticks >= prev.ticks) cpu = (ticks - prev.ticks) / CLK_TCK / ((now - prev.t) / 1000);
      const b = this.platform.bytes.get(t.replicaId) || { rx: 0, tx: 0 };
      this.samples.push({
        ts: now, projectId: t.projectId, environmentId: t.environmentId, serviceId: t.serviceId, deploymentId: t.deploymentId,
        deploymentInstanceId: t.replicaId, region: t.region, volumeId: t.volumeId || null, volumeInstanceId: t.volumeInstanceId || null,
        cpu, mem: rss, rx: b.rx, tx: b.tx, disk: t.volumeId && this.platform.pg ? this.platform.pg.sizeMB * 1024 * 1024 : 0,
      });
    }
    for (const k of this.prev.keys()) if (!seen.has(k)) this.prev.delete(k);
    if (this.samples.length > this.max + 1000) this.samples.splice(0, this.samples.length - this.max);
  }

  // args: the `metrics` query's arguments. Returns [MetricsResult].
  query(args) {
    const start = Date.parse(args.startDate);
    const end = args.endDate ? Date.parse(args.endDate) : Date.now();
    if (Number.isNaN(start) || Number.isNaN(end)) throw new Error('Invalid startDate or endDate');
    const span = Math.max(1, (end - start) / 1000);
    let step = args.sampleRateSeconds && args.sampleRateSeconds > 0 ? args.sampleRateSeconds : Math.max(1, Math.ceil(this.sampleMs / 1000));
    if (span / step > 2000) step = Math.ceil(span / 2000);
    const groupKeys = (args.groupBy || []).map((g) => TAGS[g]).filter(Boolean);
    const filt = (s) => s.ts >= start && s.ts <= end
      && (!args.projectId || s.projectId === args.projectId)
      && (!args.environmentId || s.environmentId === args.environmentId)
      && (!args.serviceId || s.serviceId === args.serviceId)
      && (!args.volumeId || s.volumeId === args.volumeId)
      && (!args.volumeInstanceExternalId || (this.platform.volumeInstance && this.platform.volumeInstance.externalId === args.volumeInstanceExternalId && s.volumeId));
    const rows = this.samples.filter(filt);
    // group -> bucket -> replica -> samples
    const groups = new Map();
    for (const s of rows) {
      const gk = groupKeys.map((k) => s[k] || '').join('\0');
      let g = groups.get(gk);
      if (!g) { g = { tags: {}, buckets: new Map() }; groupKeys.forEach((k) => { g.tags[k] = s[k] || null; }); groups.set(gk, g); }
      const b = Math.floor((s.ts / 1000 - start / 1000) / step);
      let bucket = g.buckets.get(b);
      if (!bucket) { bucket = new Map(); g.buckets.set(b, bucket); }
      let rs = bucket.get(s.deploymentInstanceId);
      if (!rs) { rs = []; bucket.set(s.deploymentInstanceId, rs); }
      rs.push(s);
    }
    // first sample per replica before each bucket, for network deltas
    const firstSeen = new Map();
    for (const s of rows) if (!firstSeen.has(s.deploymentInstanceId)) firstSeen.set(s.deploymentInstanceId, s);
    const baseTags = {};
    if (args.projectId) baseTags.projectId = args.projectId;
    if (args.environmentId) baseTags.environmentId = args.environmentId;
    if (args.serviceId) baseTags.serviceId = args.serviceId;
    if (args.volumeId) baseTags.volumeId = args.volumeId;
    const out = [];
    const groupList = groups.size ? [...groups.values()] : (groupKeys.length ? [] : [{ tags: {}, buckets: new Map() }]);
    for (const m of args.measurements || []) {
      const kind = MEASUREMENTS[m];
      for (const g of groupList) {
        const values = [];
        const lastTx = new Map();
        const idx = [...g.buckets.keys()].sort((a, b) => a - b);
        for (const b of idx) {
          const bucket = g.buckets.get(b);
          let v = 0;
          for (const [rid, rs] of bucket) {
            if (kind === 'cpu') v += rs.reduce((a, s) => a + s.cpu, 0) / rs.length;
            else if (kind === 'mem') v += rs.reduce((a, s) => a + s.mem, 0) / rs.length / GB;
            else if (kind === 'disk') v += rs[rs.length - 1].disk / GB;
            else if (kind === 'rx' || kind === 'tx') {
              const prev = lastTx.get(rid) || firstSeen.get(rid);
              const last = rs[rs.length - 1];
              v += Math.max(0, last[kind] - (prev ? prev[kind] : 0)) / GB;
              lastTx.set(rid, last);
            }
          }
          if (kind === 'cpuLimit') v = this.cpuLimit;
          if (kind === 'memLimit') v = this.memLimitGB;
          values.push({ ts: Math.floor(start / 1000) + b * step, value: Number(v.toFixed(9)) });
        }
        if (kind === undefined) continue;
        out.push({ measurement: m, tags: { ...baseTags, ...g.tags }, values });
      }
    }
    return out;
  }
}

module.exports = { Metrics, processTree, readStat };
