// backup.test.mjs -- `loupe backup PATH` while annotators submit, and
// `loupe restore PATH` into a new data dir that a server then serves:
//  - every submit acknowledged before the backup started is in the copy,
//    and every annotation in it is the source's (the copy is one moment of
//    the source: a prefix of its history, counters equal to its rows);
//  - PRAGMA integrity_check is ok;
//  - a backup of the idle source restores to the same rows in every table;
//  - restore refuses while a server has the database open, backup refuses
//    an existing PATH, and on PostgreSQL both name pg_dump / pg_restore.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  startServer, it, runCli, tempDir, expectStatus, assertNoSanitizerReport, loupeEnv, LOUPE_BIN,
  TEST_DB_URL, SLOW, sleep,
} from './harness.mjs';
import { setupProject, startClients, sqlite, checkDatabase } from './load.mjs';

const dirs = [];
function scratch() {
  const d = tempDir('loupe-backup-');
  dirs.push(d);
  return d;
}

/* `loupe ARGS --data-dir DIR` without blocking the event loop (the clients
 * keep submitting meanwhile): {status, stdout, stderr}. */
function cliAsync(args, dir) {
  return new Promise((resolve, reject) => {
    const p = spawn(LOUPE_BIN, [...args, '--data-dir', dir], { env: loupeEnv(), cwd: dir });
    let stdout = '', stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    p.on('error', reject);
    p.on('exit', (status, signal) => {
      assertNoSanitizerReport(stderr, `loupe ${args[0]}`);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

/* Every table's rows, in a fixed order (sqlite3's dump of each table). */
function tables(db) {
  const names = sqlite(db, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name");
  const out = {};
  for (const t of names) out[t] = sqlite(db, `SELECT * FROM "${t}" ORDER BY 1`).join('\n');
  return out;
}

describe('loupe backup and restore (SQLite)', { skip: TEST_DB_URL ? 'PostgreSQL: see the next suite' : false }, () => {
  let srv, setup;
  before(async () => {
    srv = await startServer();
    setup = await setupProject(srv, { tasks: 6000, annotators: 16 });
  });
  after(async () => {
    await srv?.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('copies one moment of a database that is being written, and the copy serves', async () => {
    const load = startClients(srv.base, setup.pid, setup.workers);
    // Wait until the load is well under way.
    const deadline = Date.now() + 20000 * SLOW;
    while (load.acked.size < 300 && Date.now() < deadline) await sleep(20);
    assert.ok(load.acked.size >= 300, `only ${load.acked.size} submits acknowledged in 20 s`);
    const before = new Set(load.acked);
    const out = scratch();
    const file = path.join(out, 'loupe-backup.db');
    const t0 = Date.now();
    const b = await cliAsync(['backup', file], srv.dir);
    const ms = Date.now() - t0;
    const during = load.acked.size - before.size;
    // The server kept acknowledging submits after the backup too.
    const after = load.acked.size;
    const deadline2 = Date.now() + 20000 * SLOW;
    while (load.acked.size < after + 100 && Date.now() < deadline2) await sleep(20);
    await load.stop();
    assert.equal(b.status, 0, `loupe backup: ${b.stderr}`);
    assert.match(b.stdout, /^backed up to .*integrity ok/);
    assert.ok(load.acked.size >= after + 100, 'the server stopped acknowledging submits after the backup');
    assert.deepEqual(load.state.refused, [], 'a request of the load was refused');
    console.log(`# backup of a database under load: ${ms} ms, ${during} submits acknowledged meanwhile, ${load.acked.size} in all`);
    assert.ok(!fs.existsSync(file + '.tmp'), 'the temporary copy was left behind');

    // The copy on its own: checked, counters equal to rows, every submit
    // acknowledged before the backup started is in it.
    const inCopy = checkDatabase(file, 'the backup');
    const missing = [...before].filter((k) => !inCopy.has(k));
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} submits acknowledged before the backup are not in it`);
    // ... and nothing the source does not hold: every annotation of the
    // copy is the source's, byte for byte.
    const q = 'SELECT id, annotation_id, assignment_id, task_id, user_id, response, status FROM annotations ORDER BY id';
    const src = new Set(sqlite(path.join(srv.dir, 'loupe.db'), q));
    const copy = sqlite(file, q);
    assert.ok(copy.length >= before.size && copy.length <= load.acked.size + setup.workers.length);
    const foreign = copy.filter((r) => !src.has(r));
    assert.deepEqual(foreign.slice(0, 5), [], 'annotations in the copy that the source does not hold');

    // Restore into a new data dir (with the secret the keys are hashed
    // under) and serve it: the same tasks by status, and it takes work.
    const dir = scratch();
    fs.copyFileSync(path.join(srv.dir, 'secret.key'), path.join(dir, 'secret.key'));
    const r = runCli(['restore', file, '--data-dir', dir]);
    assertNoSanitizerReport(r.stderr, 'loupe restore');
    assert.equal(r.status, 0, `loupe restore: ${r.stderr}`);
    assert.match(r.stdout, /^restored .*loupe\.db from .*integrity ok/);
    const restored = await startServer({ dir, key: srv.key });
    try {
      const counts = expectStatus(await restored.api('GET', `/v1/projects/${setup.pid}/stats`), 200).counts;
      const expected = Object.fromEntries(sqlite(file, `SELECT status, COUNT(*) FROM tasks WHERE project_id = ${setup.pid} GROUP BY status`).map((l) => l.split('|')));
      for (const [status, n] of Object.entries(expected)) assert.equal(counts[status], Number(n), `${status} tasks`);
      assert.equal(counts.total, 6000);
      // Restoring over a database a server has open is refused, nothing changed.
      const busy = runCli(['restore', file, '--data-dir', dir]);
      assert.equal(busy.status, 1);
      assert.match(busy.stderr, /open in a running loupe serve: stop it first \(nothing was changed\)/);
      const more = startClients(restored.base, setup.pid, setup.workers.slice(0, 2), { run: 'restored' });
      const deadline3 = Date.now() + 20000 * SLOW;
      while (more.acked.size < 20 && Date.now() < deadline3) await sleep(20);
      await more.stop();
      assert.ok(more.acked.size >= 20, 'the restored server does not take submits');
      assert.deepEqual(more.state.refused, []);
    } finally {
      await restored.stop();
    }
    checkDatabase(path.join(dir, 'loupe.db'), 'the restored database after serving');
  });

  it('a backup of the idle database restores to the same rows in every table', async () => {
    const out = scratch();
    const file = path.join(out, 'idle.db');
    const b = runCli(['backup', file, '--data-dir', srv.dir]);
    assert.equal(b.status, 0, b.stderr);
    const dir = scratch();
    const r = runCli(['restore', file, '--data-dir', dir]);
    assert.equal(r.status, 0, r.stderr);
    const a = tables(path.join(srv.dir, 'loupe.db'));
    const c = tables(path.join(dir, 'loupe.db'));
    assert.deepEqual(Object.keys(c), Object.keys(a));
    for (const t of Object.keys(a)) assert.ok(a[t] === c[t], `table ${t} differs after backup and restore`);
    assert.ok(a.annotations.split('\n').length > 300);
    // An existing PATH is never replaced.
    const again = runCli(['backup', file, '--data-dir', srv.dir]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already exists: name a new file/);
    // A damaged backup is refused before anything is touched.
    const bad = path.join(out, 'bad.db');
    const bytes = fs.readFileSync(file);
    bytes.fill(0x5a, 8192, 8192 + 4096); // one page of the tables overwritten
    fs.writeFileSync(bad, bytes);
    const before = fs.readFileSync(path.join(dir, 'loupe.db'));
    const rb = runCli(['restore', bad, '--data-dir', dir]);
    assert.equal(rb.status, 1, `restore of a damaged file: ${rb.stdout}${rb.stderr}`);
    assert.match(rb.stderr, /integrity_check|malformed/);
    assert.ok(before.equals(fs.readFileSync(path.join(dir, 'loupe.db'))), 'the database changed');
  });
});

describe('loupe backup and restore (PostgreSQL)', { skip: TEST_DB_URL ? false : 'SQLite: see the suite above' }, () => {
  it('point to pg_dump and pg_restore and exit 2', () => {
    const dir = scratch();
    for (const cmd of ['backup', 'restore']) {
      const r = runCli([cmd, path.join(dir, 'x.db'), '--data-dir', dir]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /is PostgreSQL: .*pg_dump -Fc.*pg_restore/s);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
