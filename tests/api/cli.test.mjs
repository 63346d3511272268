// cli.test.mjs -- the loupe command: help, user and key management, serve
// settings, refusing bad databases, and a graceful SIGTERM in the middle of
// a large bulk import.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  startServer, it, runCli, tempDir, freePort, rawRequest, sleep, expectStatus, expectError,
  makeProject, listAll, assertNoSanitizerReport, makeAdmin, SLOW, TEST_DB_URL,
} from './harness.mjs';

const dirs = [];
function scratch() {
  const d = tempDir('loupe-cli-');
  dirs.push(d);
  return d;
}

/* A clean exit: not killed by a signal, no sanitizer report. */
function assertNoCrash(r, what) {
  assert.equal(r.timedOut, false, `${what} did not finish`);
  assert.equal(r.signal, null, `${what} died of ${r.signal}:\n${r.stderr}`);
  assert.ok(r.status !== null && r.status < 128, `${what} exited ${r.status}:\n${r.stderr}`);
  assertNoSanitizerReport(r.stderr, what);
}

describe('cli', () => {
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('loupe --help exits 0 and documents --listen/--db/--data-dir and their environment variables', () => {
    const r = runCli(['--help']);
    assertNoCrash(r, 'loupe --help');
    assert.equal(r.status, 0);
    for (const w of ['--listen', '--db', '--data-dir', 'LOUPE_LISTEN', 'LOUPE_DB', 'LOUPE_DATA_DIR', 'serve', 'user add', 'key create'])
      assert.ok(r.stdout.includes(w), `loupe --help does not mention ${w}`);
  });

  it('loupe serve --help exits 0 and documents the same settings', () => {
    const r = runCli(['serve', '--help']);
    assertNoCrash(r, 'loupe serve --help');
    assert.equal(r.status, 0);
    for (const w of ['--listen', '--db', '--data-dir', 'LOUPE_LISTEN', 'LOUPE_DB', 'LOUPE_DATA_DIR'])
      assert.ok(r.stdout.includes(w), `loupe serve --help does not mention ${w}`);
  });

  it('loupe with no command exits 2 with the usage on stderr; an unknown command exits 2', () => {
    const r = runCli([]);
    assertNoCrash(r, 'loupe');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /usage/i);
    const u = runCli(['frobnicate']);
    assert.equal(u.status, 2);
    assert.match(u.stderr, /frobnicate/);
  });

  it('loupe version prints the version', () => {
    const r = runCli(['version']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^loupe \d+\.\d+\.\d+/);
  });

  describe('user and key', () => {
    let dir;
    before(() => {
      dir = scratch();
      makeAdmin(dir);
    });

    it('user add with a bad role exits 2 and says why', () => {
      const r = runCli(['user', 'add', 'x@test.io', '--role', 'boss'], { env: { LOUPE_DATA_DIR: dir } });
      assertNoCrash(r, 'loupe user add --role boss');
      assert.equal(r.status, 2);
      assert.match(r.stderr, /role/);
      const missing = runCli(['user', 'add', 'x@test.io'], { env: { LOUPE_DATA_DIR: dir } });
      assert.equal(missing.status, 2);
      assert.match(missing.stderr, /role/);
    });

    it('user add with a bad email or a short password exits 2', () => {
      const r = runCli(['user', 'add', 'not-an-email', '--role', 'member'], { env: { LOUPE_DATA_DIR: dir } });
      assert.equal(r.status, 2);
      assert.match(r.stderr, /email/);
      const p = runCli(['user', 'add', 'p@test.io', '--role', 'member', '--password-stdin'], { input: 'short\n', env: { LOUPE_DATA_DIR: dir } });
      assert.equal(p.status, 2);
      assert.match(p.stderr, /password/);
    });

    it('user add of an existing email exits 1 and says it exists', () => {
      const r = runCli(['user', 'add', 'ADMIN@test.io', '--role', 'member'], { env: { LOUPE_DATA_DIR: dir } });
      assertNoCrash(r, 'loupe user add (existing)');
      assert.equal(r.status, 1);
      assert.match(r.stderr, /exists/);
    });

    it('key create for an unknown email exits 1 and names it', () => {
      const r = runCli(['key', 'create', 'ghost@test.io'], { env: { LOUPE_DATA_DIR: dir } });
      assertNoCrash(r, 'loupe key create (unknown)');
      assert.equal(r.status, 1);
      assert.match(r.stderr, /ghost@test\.io/);
      assert.equal(r.stdout.trim(), '', 'a key was printed for an unknown user');
    });

    it('user list shows the users', () => {
      const r = runCli(['user', 'list'], { env: { LOUPE_DATA_DIR: dir } });
      assert.equal(r.status, 0);
      assert.match(r.stdout, /admin@test\.io\s+admin/);
    });

    it('--data-dir given after the command\'s arguments is used', () => {
      // `loupe user add EMAIL --role R --data-dir DIR`, as the help and the
      // docs write it; the user must land in DIR, not in ./data.
      const d = scratch();
      const cwd = scratch();
      const r = runCli(['user', 'add', 'flag@test.io', '--role', 'member', '--data-dir', d], { cwd });
      assertNoCrash(r, 'loupe user add --data-dir');
      assert.equal(r.status, 0, r.stderr);
      assert.ok(!fs.existsSync(path.join(cwd, 'data')), `--data-dir ${d} was ignored: the user went to ${path.join(cwd, 'data')}`);
      const listed = runCli(['user', '--data-dir', d, 'list'], { cwd });
      assert.match(listed.stdout, /flag@test\.io/, `the user is not in ${d}`);
      const k = runCli(['key', 'create', 'flag@test.io', '--data-dir', d], { cwd });
      assert.equal(k.status, 0, `key create --data-dir ${d}: ${k.stderr}`);
    });

    it('settings given before the command\'s arguments work', () => {
      const d = scratch();
      const r = runCli(['user', '--data-dir', d, 'add', 'before@test.io', '--role', 'member']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /password: \S{8,}/, 'no generated password printed');
      const listed = runCli(['user', '--data-dir', d, 'list']);
      assert.match(listed.stdout, /before@test\.io/);
    });

    it('migrate reports the schema version', () => {
      const r = runCli(['migrate', '--data-dir', dir]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /schema version \d+/);
    });
  });

  describe('serve', () => {
    it('LOUPE_LISTEN sets the address; users added with the CLI while it runs can log in', async () => {
      const srv = await startServer({ listenViaEnv: true });
      try {
        const me = expectStatus(await srv.api('GET', '/v1/me'), 200);
        assert.equal(me.email, 'admin@test.io');
        const add = runCli(['user', 'add', 'live@test.io', '--role', 'member'], { env: { LOUPE_DATA_DIR: srv.dir } });
        assert.equal(add.status, 0, add.stderr);
        const password = (add.stdout.match(/password: (\S+)/) || [])[1];
        assert.ok(password, `no password in ${add.stdout}`);
        const login = await srv.api('POST', '/v1/sessions', { email: 'live@test.io', password }, { key: null });
        expectStatus(login, 201);
      } finally {
        await srv.stop();
      }
    });

    it('serve --db postgres://... fails with a clear message, not a crash', async () => {
      const d = scratch();
      const port = await freePort();
      const r = runCli(['serve', '--db', 'postgres://x', '--data-dir', d, '--listen', `127.0.0.1:${port}`], { timeout: 15000 * SLOW });
      assertNoCrash(r, 'loupe serve --db postgres://x');
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /postgres/i);
      assert.ok(r.stderr.trim().split('\n').length <= 3, `too much output for a settings error:\n${r.stderr}`);
    });

    it('serve with an unknown database URL or option exits non-zero with a message', async () => {
      const d = scratch();
      const port = await freePort();
      const r = runCli(['serve', '--db', 'mysql://x', '--data-dir', d, '--listen', `127.0.0.1:${port}`], { timeout: 15000 * SLOW });
      assertNoCrash(r, 'loupe serve --db mysql://x');
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /mysql/);
      const o = runCli(['serve', '--data-dir', d, '--bogus'], { timeout: 15000 * SLOW });
      assertNoCrash(o, 'loupe serve --bogus');
      assert.equal(o.status, 2);
      assert.match(o.stderr, /--bogus/);
    });

    it('serve on a port that is taken exits 1 and says so', async () => {
      const d = scratch();
      const blocker = net.createServer();
      await new Promise((res) => blocker.listen(0, '127.0.0.1', res));
      try {
        const port = blocker.address().port;
        const r = runCli(['serve', '--data-dir', d, '--listen', `127.0.0.1:${port}`], { timeout: 15000 * SLOW });
        assertNoCrash(r, 'loupe serve on a taken port');
        assert.equal(r.status, 1);
        assert.match(r.stderr, new RegExp(`listen|${port}`));
      } finally {
        blocker.close();
      }
    });

    it('serve --listen with no port exits non-zero with a message', async () => {
      const d = scratch();
      const r = runCli(['serve', '--data-dir', d, '--listen', '127.0.0.1'], { timeout: 15000 * SLOW });
      assertNoCrash(r, 'loupe serve --listen 127.0.0.1');
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /listen/);
    });

    it('SIGTERM during a 50,000-task bulk import: the import finishes, exit 0, nothing half-applied', async () => {
      const N = 50000;
      const srv = await startServer();
      const dir = srv.dir;
      dirs.push(dir);
      let report;
      try {
        const p = await makeProject(srv);
        const body = Buffer.from(Array.from({ length: N }, (_, i) => JSON.stringify({ unique_id: `sig-${i}`, data: { i } })).join('\n') + '\n');
        const head = [
          `POST /v1/projects/${p.id}/tasks HTTP/1.1`,
          `Host: 127.0.0.1:${srv.port}`,
          `Authorization: Bearer ${srv.key}`,
          'Content-Type: application/x-ndjson',
          `Content-Length: ${body.length}`,
          'Connection: close',
        ].join('\r\n') + '\r\n\r\n';
        let written = false;
        const resP = rawRequest(srv.port, Buffer.concat([Buffer.from(head), body]), {
          timeout: 120000 * SLOW,
          onWritten: () => (written = true),
        });
        while (!written) await sleep(2);
        await sleep(50); // the server is reading or importing now
        srv.proc.kill('SIGTERM');
        const res = await resP;
        await srv.stop({ keepDir: true }); // asserts exit 0 and no sanitizer report
        report = res;
        if (res.status === 0) {
          // refused before a byte was answered: allowed only if nothing came back at all
          assert.equal(res.text, '', `a partial answer: ${JSON.stringify(res.text.slice(0, 300))}`);
        } else {
          assert.ok(!res.timedOut, 'the import answer never completed');
          const len = Number(res.headers['content-length']);
          assert.ok(Number.isFinite(len), `no Content-Length in ${JSON.stringify(res.text.slice(0, 300))}`);
          assert.equal(Buffer.byteLength(res.body, 'latin1'), len, 'the import answer was cut short');
          assert.equal(res.status, 200, res.body.slice(0, 300));
          const out = JSON.parse(res.body);
          assert.equal(out.created, N);
          assert.equal(out.rows.length, N);
        }
      } finally {
        if (srv.exited() === null) await srv.stop({ keepDir: true }).catch(() => {});
      }
      // restart on the same data and check that what is stored is whole
      const again = await startServer({ dir, key: srv.key });
      try {
        const projects = (await listAll(again, '/v1/projects')).items;
        assert.equal(projects.length, 1);
        const p = projects[0];
        const tasks = (await listAll(again, `/v1/projects/${p.id}/tasks`, { limit: 1000 })).items;
        assert.equal(p.counts.total, tasks.length, `counts.total ${p.counts.total} but ${tasks.length} tasks are stored`);
        assert.equal(p.counts.pending, tasks.length);
        if (report.status === 200) assert.equal(tasks.length, N, 'the import answered 200 but its tasks are not all stored');
        // a re-sent import completes the job either way
        const rest = Array.from({ length: N }, (_, i) => JSON.stringify({ unique_id: `sig-${i}`, data: { i } })).join('\n');
        const r = expectStatus(await again.api('POST', `/v1/projects/${p.id}/tasks`, rest, { headers: { 'content-type': 'application/x-ndjson' } }), 200);
        assert.equal(r.created + r.duplicates, N);
        assert.equal(r.duplicates, tasks.length);
        const after = expectStatus(await again.api('GET', `/v1/projects/${p.id}`), 200);
        assert.equal(after.counts.total, N);
      } finally {
        await again.stop();
      }
    });

    it('a second SIGTERM-free restart sees an empty data dir as a fresh install', async () => {
      // stop() then start on a new dir works and /healthz reports the database
      const srv = await startServer();
      try {
        const h = expectStatus(await srv.api('GET', '/healthz', undefined, { key: null }), 200);
        assert.equal(h.database, TEST_DB_URL ? 'postgres' : 'sqlite');
        expectError(await srv.api('GET', '/v1/projects/1'), 404);
      } finally {
        await srv.stop();
      }
    });
  });
});
