'use strict';
// Child processes of the emulator (the replicas): spawn with a parent-death
// signal so none outlives the emulator, capture stdout/stderr by line, stop
// with SIGTERM then SIGKILL, and keep a pid file for `sandbox/down`.

const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { lineSplitter } = require('./logs');

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => {
  try { fs.accessSync(p, fs.constants.X_OK); return true; } catch (_) { return false; }
});

// Every live child, for the pid file and for the last-chance kill at exit.
const live = new Map(); // pid -> {pid, label, port}
let pidFile = null;

function setPidFile(file) {
  pidFile = file;
  writePidFile();
}

function writePidFile() {
  if (!pidFile) return;
  const body = JSON.stringify({ emulatorPid: process.pid, replicas: [...live.values()] }, null, 1);
  try {
    fs.mkdirSync(path.dirname(pidFile), { recursive: true });
    fs.writeFileSync(`${pidFile}.tmp`, body);
    fs.renameSync(`${pidFile}.tmp`, pidFile);
  } catch (_) { /* the pid file is a convenience */ }
}

// Synchronous: used from process.on('exit') and fatal paths.
function killAllSync(signal = 'SIGKILL') {
  for (const pid of live.keys()) {
    try { process.kill(pid, signal); } catch (_) { /* gone */ }
  }
}

function livePids() { return [...live.keys()]; }

class ChildProc {
  // opts: {command:[bin,...args], env, cwd, label, port, onLine(stream, line), onExit(code, signal)}
  constructor(opts) {
    this.opts = opts;
    this.child = null;
    this.pid = null;
    this.exited = false;
    this.exitCode = null;
    this.exitSignal = null;
    this.stopping = false;
    this.startedAt = null;
    this._exitWaiters = [];
  }

  start() {
    const [bin, ...args] = this.opts.command;
    const argv = SETPRIV ? ['--pdeathsig', 'KILL', '--', bin, ...args] : args;
    const file = SETPRIV || bin;
    const child = spawn(file, argv, {
      env: this.opts.env,
      cwd: this.opts.cwd || undefined,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: false,
    });
    this.child = child;
    this.startedAt = Date.now();
    const out = lineSplitter((l) => this.opts.onLine && this.opts.onLine('stdout', l));
    const err = lineSplitter((l) => this.opts.onLine && this.opts.onLine('stderr', l));
    child.stdout.on('data', (c) => out.write(c));
    child.stderr.on('data', (c) => err.write(c));
    child.stdout.on('end', () => out.end());
    child.stderr.on('end', () => err.end());
    child.on('error', (e) => {
      // spawn failure: report as an exit
      if (this.opts.onLine) this.opts.onLine('stderr', `failed to start: ${e.message}`);
      this._exited(127, null);
    });
    child.on('exit', (code, signal) => this._exited(code, signal));
    if (child.pid) {
      this.pid = child.pid;
      live.set(child.pid, { pid: child.pid, label: this.opts.label || '', port: this.opts.port || null });
      writePidFile();
    }
    return this;
  }

  _exited(code, signal) {
    if (this.exited) return;
    this.exited = true;
    this.exitCode = code;
    this.exitSignal = signal;
    if (this.pid) { live.delete(this.pid); writePidFile(); }
    for (const w of this._exitWaiters.splice(0)) w();
    if (this.opts.onExit) this.opts.onExit(code, signal);
  }

  waitExit() {
    if (this.exited || !this.child) return Promise.resolve();
    return new Promise((r) => this._exitWaiters.push(r));
  }

  signal(sig) {
    if (this.exited || !this.pid) return false;
    try { process.kill(this.pid, sig); return true; } catch (_) { return false; }
  }

  // SIGTERM, then SIGKILL after graceMs; resolves when the process is gone.
  async stop(graceMs = 3000) {
    this.stopping = true;
    if (this.exited || !this.child) return;
    this.signal('SIGTERM');
    let timer;
    const killed = new Promise((r) => {
      timer = setTimeout(() => { this.signal('SIGKILL'); r(); }, graceMs);
    });
    await Promise.race([this.waitExit(), killed]);
    clearTimeout(timer);
    // after SIGKILL the exit event follows promptly; bounded wait
    await Promise.race([this.waitExit(), new Promise((r) => setTimeout(r, 2000))]);
  }
}

// Ports for replicas, from a configured range; a port is handed out only if
// nothing listens on it.
class PortPool {
  constructor([lo, hi], host = '127.0.0.1') {
    this.lo = lo;
    this.hi = hi;
    this.host = host;
    this.used = new Set();
    this.cursor = lo;
  }
  static probe(port, host) {
    return new Promise((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(true)));
    });
  }
  async take() {
    const n = this.hi - this.lo + 1;
    for (let i = 0; i < n; i++) {
      const p = this.lo + ((this.cursor - this.lo + i) % n);
      if (this.used.has(p)) continue;
      this.used.add(p); // reserved while probing: concurrent takes skip it
      if (await PortPool.probe(p, this.host)) {
        this.cursor = p + 1 > this.hi ? this.lo : p + 1;
        return p;
      }
      this.used.delete(p);
    }
    throw new Error(`no free port in replicaPortRange ${this.lo}-${this.hi}`);
  }
  release(p) { this.used.delete(p); }
}

module.exports = { ChildProc, PortPool, setPidFile, killAllSync, livePids, SETPRIV };
