// harness.mjs -- starts the real Loupe server for the API tests and talks
// HTTP to it.
//
//   const srv = await startServer();          // admin user + key, serving
//   const r = await srv.api('GET', '/v1/me');  // {status, headers, body, text, buf}
//   await srv.stop();                          // SIGTERM, exit 0, sanitizer check
//
// LOUPE_BIN (default ./loupe) is the binary; LOUPE_SANITIZED=1 makes stop()
// fail when the server's stderr holds an AddressSanitizer, UBSan or
// LeakSanitizer report.  LOUPE_TEST_DB_URL (a postgres:// URL) runs loupe
// on PostgreSQL: each data dir gets a schema of its own in that database.
// Server output goes to DATA_DIR/server.stderr.log; tests declared with
// this module's `test`/`it` attach its tail to the failure.
import { spawn, spawnSync } from 'node:child_process';
import { test as nodeTest } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const LOUPE_BIN = path.resolve(process.env.LOUPE_BIN || './loupe');
export const TEST_DB_URL = process.env.LOUPE_TEST_DB_URL || '';
export const SANITIZED = process.env.LOUPE_SANITIZED === '1';
/* Sanitizer builds are ~3x slower: scale waits with this. */
export const SLOW = SANITIZED ? 4 : 1;

export const ADMIN_EMAIL = 'admin@test.io';
export const ADMIN_PASSWORD = 'admin-password-123';

const SANITIZER_MARKS = ['ERROR: AddressSanitizer', 'runtime error:', 'LeakSanitizer'];

/* Servers started by this test file and not yet stopped (for failure logs). */
const live = new Set();
/* A test file that dies must not leave its servers running. */
process.on('exit', () => {
  for (const s of live) {
    try {
      s.proc.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
});

/* The environment for a loupe process: ours without LOUPE_* settings (so a
 * developer's shell cannot change what the tests see), plus extra. */
export function loupeEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LOUPE_')) env[k] = v;
  if (!env.ASAN_OPTIONS) env.ASAN_OPTIONS = 'detect_leaks=1:abort_on_error=0:halt_on_error=1';
  if (!env.UBSAN_OPTIONS) env.UBSAN_OPTIONS = 'print_stacktrace=1:halt_on_error=1';
  return { ...env, ...extra };
}

/* With LOUPE_TEST_DB_URL, {LOUPE_DB: URL} for a data dir: the database with
 * a new schema (made with psql) on its search_path, one per dir, so that
 * each server starts empty as on SQLite.  Else {}. */
const dbByDir = new Map();
function dbEnvFor(dir) {
  if (!TEST_DB_URL || !dir) return {};
  const key = path.resolve(dir);
  if (!dbByDir.has(key)) {
    const schema = `api_${process.pid}_${dbByDir.size}_${Math.random().toString(36).slice(2, 8)}`;
    const r = spawnSync('psql', [TEST_DB_URL, '-qAtc', `CREATE SCHEMA ${schema}`], { encoding: 'utf8' });
    assert.equal(r.status, 0, `psql could not create schema ${schema}: ${r.stderr ?? r.error}`);
    const sep = TEST_DB_URL.includes('?') ? '&' : '?';
    dbByDir.set(key, `${TEST_DB_URL}${sep}options=${encodeURIComponent(`-csearch_path=${schema}`)}`);
  }
  return { LOUPE_DB: dbByDir.get(key) };
}

/* A free loopback TCP port: listen on port 0, read it, close. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix = 'loupe-api-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/* Runs `loupe ARGS` to completion: {status, signal, stdout, stderr,
 * timedOut} (killed with SIGTERM after timeout ms). */
export function runCli(args, { input, env = {}, cwd, timeout = 30000 * SLOW } = {}) {
  const i = args.indexOf('--data-dir');
  const db = args.includes('--db') ? {} : dbEnvFor(i >= 0 ? args[i + 1] : env.LOUPE_DATA_DIR);
  const r = spawnSync(LOUPE_BIN, args, {
    input: input ?? '',
    env: loupeEnv({ ...db, ...env }),
    cwd: cwd ?? os.tmpdir(),
    timeout,
    encoding: 'utf8',
  });
  if (r.error && r.error.code !== 'ETIMEDOUT') throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', timedOut: r.error?.code === 'ETIMEDOUT' };
}

/* Fails when text holds a sanitizer report. */
export function assertNoSanitizerReport(text, what = 'loupe') {
  if (!SANITIZED) return;
  for (const m of SANITIZER_MARKS)
    if (text.includes(m)) assert.fail(`${what} reported "${m}":\n${tail(text, 6000)}`);
}

function tail(s, n) {
  return s.length > n ? '...' + s.slice(s.length - n) : s;
}

/* Creates the admin user and its API key in dir with the CLI; returns the key. */
export function makeAdmin(dir, email = ADMIN_EMAIL, password = ADMIN_PASSWORD) {
  // The settings are also given as LOUPE_DATA_DIR so that a CLI which
  // ignores --data-dir after positional arguments still uses dir (the CLI
  // test checks the flag itself).
  const env = { LOUPE_DATA_DIR: dir };
  const add = runCli(['user', 'add', email, '--role', 'admin', '--password-stdin', '--data-dir', dir], {
    input: password + '\n',
    env,
    cwd: dir,
  });
  assert.equal(add.status, 0, `loupe user add failed: ${add.stderr}`);
  assertNoSanitizerReport(add.stderr, 'loupe user add');
  const key = runCli(['key', 'create', email, '--data-dir', dir], { env, cwd: dir });
  assert.equal(key.status, 0, `loupe key create failed: ${key.stderr}`);
  assertNoSanitizerReport(key.stderr, 'loupe key create');
  const k = key.stdout.trim();
  assert.match(k, /^lpk_[A-Za-z0-9_-]{20,}$/, `loupe key create printed ${JSON.stringify(key.stdout)}`);
  return k;
}

/* Makes an API key for an existing user with the CLI (no password needed). */
export function cliKey(dir, email) {
  const r = runCli(['key', 'create', email, '--data-dir', dir], { env: { LOUPE_DATA_DIR: dir }, cwd: dir });
  assert.equal(r.status, 0, `loupe key create ${email} failed: ${r.stderr}`);
  return r.stdout.trim();
}

/* Starts `loupe serve` and waits for /healthz.
 * opts.dir: reuse this data dir (it is then not removed by stop());
 * opts.key: the admin key already made in opts.dir (skips user creation);
 * opts.listenViaEnv: give the address as LOUPE_LISTEN instead of --listen;
 * opts.args: extra serve arguments; opts.env: extra environment;
 * opts.dbUrl: the LOUPE_DB to serve (e.g. another server's srv.dbUrl: an
 * existing PostgreSQL schema) instead of a new schema for the data dir;
 * opts.shareWith: another server whose database, secret and admin key this
 * one shares (a second process on the same PostgreSQL schema). */
export async function startServer(opts = {}) {
  if (opts.shareWith) {
    const peer = opts.shareWith;
    assert.ok(peer.dbUrl, 'shareWith: the other server has no LOUPE_DB URL (PostgreSQL only)');
    const dir = opts.dir ?? tempDir();
    // Processes on one database must share the secret that hashes keys.
    const own = path.join(dir, 'secret.key');
    if (!fs.existsSync(own)) fs.copyFileSync(path.join(peer.dir, 'secret.key'), own);
    const { shareWith, ...rest } = opts;
    const srv = await startServer({ ...rest, dir, key: opts.key ?? peer.key, dbUrl: opts.dbUrl ?? peer.dbUrl, ownsDir: !opts.dir });
    return srv;
  }
  const ownsDir = opts.ownsDir ?? !opts.dir;
  const dir = opts.dir ?? tempDir();
  const key = opts.key ?? makeAdmin(dir);
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await launch({ ...opts, dir, key, port, ownsDir });
    } catch (e) {
      lastErr = e;
      if (!e.portInUse) break; // only a lost race for the port is retried
    }
  }
  if (ownsDir) fs.rmSync(dir, { recursive: true, force: true });
  throw lastErr;
}

async function launch({ dir, key, port, ownsDir, listenViaEnv, dbUrl, args = [], env = {} }) {
  const listen = `127.0.0.1:${port}`;
  const logPath = path.join(dir, 'server.stderr.log');
  const outPath = path.join(dir, 'server.stdout.log');
  const errFd = fs.openSync(logPath, 'a');
  const outFd = fs.openSync(outPath, 'a');
  const logStart = fs.fstatSync(errFd).size;
  const argv = ['serve', ...(listenViaEnv ? [] : ['--listen', listen]), '--data-dir', dir, ...args];
  const dbEnv = args.includes('--db') ? {} : dbUrl ? { LOUPE_DB: dbUrl } : dbEnvFor(dir);
  const proc = spawn(LOUPE_BIN, argv, {
    env: loupeEnv({
      // The tests' callback receivers listen on 127.0.0.1: allowed unless a
      // test says otherwise (security_net.test.mjs).
      LOUPE_ALLOW_PRIVATE_OUTBOUND: '1',
      ...dbEnv,
      ...(listenViaEnv ? { LOUPE_LISTEN: listen } : {}),
      ...env,
    }),
    cwd: dir,
    stdio: ['ignore', outFd, errFd],
  });
  fs.closeSync(errFd);
  fs.closeSync(outFd);
  // A server a failed test never stopped must not keep this test file's
  // process alive (it would hang the run until the watchdog): the exit hook
  // above kills whatever is still live.
  proc.unref();
  let exited = null;
  const exitP = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      exited = { code, signal };
      live.delete(srv);
      resolve(exited);
    });
  });
  const base = `http://${listen}`;
  const readLog = () => {
    try {
      return fs.readFileSync(logPath, 'utf8').slice(logStart);
    } catch {
      return '';
    }
  };
  const srv = {
    base,
    port,
    key,
    dir,
    dbUrl: env.LOUPE_DB ?? dbEnv.LOUPE_DB ?? '',
    proc,
    logPath,
    readLog,
    exited: () => exited,
    api: (method, p, body, o) => request(base, key, method, p, body, o),
    async stop({ keepDir = false, timeoutMs = 45000 * SLOW } = {}) {
      let res = exited;
      if (!res) {
        proc.ref(); /* waiting for it now: keep this process alive until it exits */
        proc.kill('SIGTERM');
        let timer;
        res = await Promise.race([exitP, new Promise((r) => (timer = setTimeout(() => r(null), timeoutMs)))]);
        clearTimeout(timer);
        if (!res) {
          proc.kill('SIGKILL');
          await exitP;
        }
      }
      const log = readLog();
      try {
        assert.ok(res, `the server did not exit within ${timeoutMs} ms of SIGTERM\n${tail(log, 4000)}`);
        assert.equal(res.signal, null, `the server died of ${res.signal}\n${tail(log, 4000)}`);
        assert.equal(res.code, 0, `the server exited ${res.code} after SIGTERM\n${tail(log, 4000)}`);
        assertNoSanitizerReport(log, 'the server');
      } finally {
        if (ownsDir && !keepDir) fs.rmSync(dir, { recursive: true, force: true });
      }
      return res;
    },
  };
  live.add(srv);
  const deadline = Date.now() + 20000 * SLOW;
  for (;;) {
    if (exited) {
      const log = readLog();
      const err = new Error(`loupe serve exited (${exited.code ?? exited.signal}) before answering /healthz:\n${tail(log, 4000)}`);
      err.portInUse = /cannot listen|in use/i.test(log);
      throw err;
    }
    try {
      const r = await fetch(base + '/healthz', { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      if (r.status === 200) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      proc.ref();
      proc.kill('SIGKILL');
      await exitP;
      throw new Error(`loupe serve did not answer GET /healthz with 200 within 20 s:\n${tail(readLog(), 4000)}`);
    }
    await sleep(50);
  }
  return srv;
}

/* Polls fn every 50 ms until it returns something truthy (returned), or
 * fails the test after ms (scaled for sanitized builds). */
export async function until(what, fn, ms = 30000 * SLOW) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/* One HTTP request.  body: undefined (none), a string/Buffer (sent as is),
 * anything else (sent as JSON).  o.key: the API key (null: no
 * Authorization); o.headers: more headers (they win); o.raw: body as a
 * Buffer only, no JSON parsing. */
async function request(base, defaultKey, method, p, body, o = {}) {
  const headers = {};
  const key = 'key' in o ? o.key : defaultKey;
  if (key) headers['authorization'] = `Bearer ${key}`;
  let payload;
  if (body !== undefined) {
    if (typeof body === 'string' || body instanceof Uint8Array || body instanceof ReadableStream) {
      payload = body;
    } else {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
  }
  for (const [k, v] of Object.entries(o.headers || {})) {
    if (v === null || v === undefined) delete headers[k.toLowerCase()];
    else headers[k.toLowerCase()] = v;
  }
  const init = { method, headers, redirect: 'manual', signal: AbortSignal.timeout(o.timeout ?? 120000 * SLOW) };
  if (payload !== undefined) {
    init.body = payload;
    if (payload instanceof ReadableStream) init.duplex = 'half';
  }
  const res = await fetch(base + p, init);
  const buf = Buffer.from(await res.arrayBuffer());
  const out = { status: res.status, headers: res.headers, buf };
  if (o.raw) return out;
  out.text = buf.toString('utf8');
  out.body = out.text;
  if ((res.headers.get('content-type') || '').includes('json') && out.text.length) {
    try {
      out.body = JSON.parse(out.text);
    } catch {
      /* leave the text: a test asserting on the JSON will say so */
    }
  }
  return out;
}

/* Sends raw bytes on a new connection and collects what comes back until
 * the server closes or a complete response (by Content-Length) arrived.
 * Resolves {text, status, headers, body, closed, error}. */
export function rawRequest(port, data, { timeout = 20000 * SLOW, onWritten } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks = [];
    let done = false;
    const finish = (extra = {}) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ ...parseResponse(text), text, ...extra });
    };
    const timer = setTimeout(() => finish({ timedOut: true }), timeout);
    sock.on('connect', () => {
      sock.write(data, () => onWritten && onWritten());
    });
    sock.on('data', (d) => {
      chunks.push(d);
      const r = parseResponse(Buffer.concat(chunks).toString('latin1'));
      if (r.complete) finish();
    });
    sock.on('end', () => finish({ closed: true }));
    sock.on('error', (e) => finish({ error: e }));
  });
}

function parseResponse(text) {
  const i = text.indexOf('\r\n\r\n');
  if (i < 0) return { status: 0, headers: {}, body: '', complete: false };
  const lines = text.slice(0, i).split('\r\n');
  const status = Number((lines[0].match(/^HTTP\/1\.[01] (\d{3})/) || [])[1] || 0);
  const headers = {};
  for (const l of lines.slice(1)) {
    const c = l.indexOf(':');
    if (c > 0) headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
  }
  const body = text.slice(i + 4);
  const len = headers['content-length'] !== undefined ? Number(headers['content-length']) : -1;
  return { status, headers, body, complete: len >= 0 && Buffer.byteLength(body, 'latin1') >= len };
}

/* node:test's test() whose failures carry the tail of every live server's
 * stderr, so a failing assertion shows what the server logged. */
export function test(name, opts, fn) {
  if (typeof opts === 'function') [opts, fn] = [{}, opts];
  return nodeTest(name, opts, async (t) => {
    try {
      return await fn(t);
    } catch (e) {
      const logs = [...live].map((s) => `--- server ${s.base} stderr (${s.logPath}) ---\n${tail(s.readLog(), 3000)}`);
      if (logs.length && e && typeof e === 'object') {
        try {
          e.message = `${e.message}\n${logs.join('\n')}`;
        } catch {
          /* read-only message */
        }
      }
      throw e;
    }
  });
}
export const it = test;

/* ---- small helpers shared by the test files ---------------------------- */

/* Asserts the error body shape and returns error. */
export function expectError(r, status, field) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text}`);
  assert.equal(typeof r.body, 'object', `error body is not JSON: ${r.text}`);
  const e = r.body.error;
  assert.ok(e && typeof e === 'object', `no "error" object in ${r.text}`);
  assert.equal(typeof e.code, 'string', `error.code is not a string in ${r.text}`);
  assert.ok(e.code.length > 0, 'error.code is empty');
  assert.equal(typeof e.message, 'string', `error.message is not a string in ${r.text}`);
  assert.ok(e.message.length > 0, 'error.message is empty');
  if (field !== undefined) {
    if (field instanceof RegExp) assert.match(e.field ?? '', field, `error.field in ${r.text}`);
    else assert.equal(e.field, field, `error.field in ${r.text}`);
  }
  return e;
}

export function expectStatus(r, status) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${(r.text ?? '').slice(0, 2000)}`);
  return r.body;
}

/* Creates a categorization project as the given key (default: admin). */
export async function makeProject(srv, extra = {}, key) {
  const r = await srv.api(
    'POST',
    '/v1/projects',
    { name: `p-${Math.random().toString(36).slice(2, 8)}`, kind: 'categorization', params: { labels: ['cat', 'dog'] }, ...extra },
    key ? { key } : {},
  );
  return expectStatus(r, 201);
}

export async function getProject(srv, id) {
  return expectStatus(await srv.api('GET', `/v1/projects/${id}`), 200);
}

/* Walks every page of a list; returns {items, pages}. */
export async function listAll(srv, pathWithQuery, { limit = 1000, key } = {}) {
  const items = [];
  let pages = 0;
  let token = null;
  const sep = pathWithQuery.includes('?') ? '&' : '?';
  for (;;) {
    let p = `${pathWithQuery}${sep}limit=${limit}`;
    if (token) p += `&next_token=${encodeURIComponent(token)}`;
    const r = await srv.api('GET', p, undefined, key ? { key } : {});
    const b = expectStatus(r, 200);
    assert.ok(Array.isArray(b.items), `no items array in ${r.text.slice(0, 200)}`);
    items.push(...b.items);
    pages++;
    assert.ok(pages < 10000, 'paging does not end');
    if (b.next_token === null || b.next_token === undefined) break;
    token = b.next_token;
  }
  return { items, pages };
}

/* Creates a member user (no password) and an API key for them (CLI). */
export async function makeMember(srv, email) {
  const r = await srv.api('POST', '/v1/users', { email, role: 'member' });
  const u = expectStatus(r, 201);
  return { ...u, key: cliKey(srv.dir, email) };
}

/* Runs one SQL statement with psql on a server's PostgreSQL database (its
 * schema on the search_path) and returns the rows as arrays of strings. */
export function psql(dbUrl, sql) {
  const r = spawnSync('psql', [dbUrl, '-qAt', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' });
  assert.equal(r.status, 0, `psql failed on ${sql}: ${r.stderr ?? r.error}`);
  return r.stdout.split('\n').filter((l) => l.length).map((l) => l.split('\t'));
}
