// copy.test.mjs -- `loupe migrate --from URL --to URL`: an installation built
// through the real server is copied to another database, verified, and
// served from there with the same data, ids and API keys; a target that
// holds data is refused; --verify-only notices a target that has changed.
// SQLite to SQLite always; with LOUPE_TEST_DB_URL, SQLite to a fresh
// PostgreSQL schema and back to SQLite.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  startServer, it, runCli, tempDir, expectStatus, makeProject, listAll, assertNoSanitizerReport,
  ADMIN_EMAIL, ADMIN_PASSWORD, TEST_DB_URL,
} from './harness.mjs';

const dirs = [];
const schemas = [];
function scratch() {
  const d = tempDir('loupe-copy-');
  dirs.push(d);
  return d;
}

const sqliteUrl = (dir) => `sqlite:${path.join(dir, 'loupe.db')}`;

/* A fresh PostgreSQL schema at TEST_DB_URL, as a URL with it on the search_path. */
function pgSchemaUrl() {
  const schema = `copy_${process.pid}_${schemas.length}_${Math.random().toString(36).slice(2, 8)}`;
  const r = spawnSync('psql', [TEST_DB_URL, '-qAtc', `CREATE SCHEMA ${schema}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, `psql could not create schema ${schema}: ${r.stderr ?? r.error}`);
  schemas.push(schema);
  const sep = TEST_DB_URL.includes('?') ? '&' : '?';
  return `${TEST_DB_URL}${sep}options=${encodeURIComponent(`-csearch_path=${schema}`)}`;
}

/* `loupe ARGS` with --db and --data-dir given, so that neither the
 * environment nor the harness picks another database. */
function cli(args, dir, db, opts = {}) {
  const r = runCli([...args, '--data-dir', dir, '--db', db], { cwd: dir, ...opts });
  assertNoSanitizerReport(r.stderr, `loupe ${args.join(' ')}`);
  assert.equal(r.signal, null, `loupe ${args.join(' ')} died of ${r.signal}:\n${r.stderr}`);
  return r;
}

function migrate(from, to, extra = []) {
  const r = runCli(['migrate', '--from', from, '--to', to, ...extra], { timeout: 120000 });
  assertNoSanitizerReport(r.stderr, 'loupe migrate');
  assert.equal(r.signal, null, `loupe migrate died of ${r.signal}:\n${r.stderr}`);
  assert.equal(r.timedOut, false, 'loupe migrate did not finish');
  return r;
}

/* Serves db from dir with the admin key (dir needs the secret the key was hashed under). */
function serve(dir, db, key) {
  return startServer({ dir, key, args: ['--db', db] });
}

/* A data dir for the copy: the secret that hashes keys and sessions goes
 * with the database, as the command's output says. */
function newDataDir(from) {
  const d = scratch();
  fs.copyFileSync(path.join(from, 'secret.key'), path.join(d, 'secret.key'));
  return d;
}

/* The project's export with its workers as pseudonyms. */
async function pseudonymous(srv, pid) {
  const r = await srv.api('GET', `/v1/projects/${pid}/export?include=annotations&workers=pseudonyms`);
  expectStatus(r, 200);
  return r.text;
}

/* Everything the API shows of the installation, to compare across copies. */
async function snapshot(srv, ids) {
  const get = async (p) => expectStatus(await srv.api('GET', p), 200);
  return {
    me: await get('/v1/me'),
    users: (await listAll(srv, '/v1/users')).items,
    projects: (await listAll(srv, '/v1/projects')).items,
    members: await get(`/v1/projects/${ids.project}/members`),
    batches: (await listAll(srv, `/v1/projects/${ids.project}/batches`)).items,
    tasks: (await listAll(srv, `/v1/projects/${ids.project}/tasks`, { limit: 7 })).items,
    night: (await listAll(srv, `/v1/projects/${ids.project}/tasks?tag=night`)).items.map((t) => t.id),
    done: await get(`/v1/tasks/${ids.done}`),
    annotations: await get(`/v1/tasks/${ids.done}/annotations`),
    memberMe: expectStatus(await srv.api('GET', '/v1/me', undefined, { key: ids.memberKey }), 200),
    // the project's export key goes with it: the same pseudonyms after a copy
    pseudonymous: await pseudonymous(srv, ids.project),
  };
}

/* Adds a task and completes another through the queue: the copy takes new
 * rows (PostgreSQL's generated ids go on after the copied ones). */
async function writeMore(srv, ids, tag) {
  const before = (await listAll(srv, `/v1/projects/${ids.project}/tasks`)).items;
  const t = expectStatus(await srv.api('POST', '/v1/tasks', { project_id: ids.project, unique_id: `after-${tag}`, data: { tag } }), 201);
  assert.ok(before.every((x) => x.id < t.id), `new task id ${t.id} is not after the copied ids`);
  const a = expectStatus(await srv.api('GET', `/v1/projects/${ids.project}/queue/next`, undefined, { key: ids.memberKey }), 200).assignment;
  assert.ok(a, 'no task leased after the copy');
  const s = expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `after-${tag}`, response: { labels: ['dog'] } }, { key: ids.memberKey }), 201);
  assert.equal(s.task_status, 'completed');
  const u = expectStatus(await srv.api('POST', '/v1/users', { email: `after-${tag}@test.io`, role: 'member' }), 201);
  assert.ok(u.id > ids.memberId, `new user id ${u.id} is not after the copied ids`);
}

function assertVerified(r, what) {
  assert.equal(r.status, 0, `${what} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  for (const t of ['users', 'api_keys', 'projects', 'project_members', 'batches', 'tasks', 'task_tags', 'project_counts', 'assignments', 'annotations', 'result_versions'])
    assert.match(r.stdout, new RegExp(`^${t}\\s+\\d+\\s+[0-9a-f]{16}\\s+ok$`, 'm'), `${what}: no verified line for ${t}:\n${r.stdout}`);
  assert.doesNotMatch(r.stdout, /DIFFERS/);
  assert.match(r.stdout, /DATA_DIR\/files/, 'the output does not say that uploaded files are copied separately');
  assert.match(r.stdout, /secret\.key/, 'the output does not mention the secret');
}

describe('migrate --from --to', () => {
  let A, key, ids, before0;

  before(async () => {
    // an installation on SQLite, built through the API
    A = scratch();
    const db = sqliteUrl(A);
    const add = cli(['user', 'add', ADMIN_EMAIL, '--role', 'admin', '--password-stdin'], A, db, { input: ADMIN_PASSWORD + '\n' });
    assert.equal(add.status, 0, add.stderr);
    const k = cli(['key', 'create', ADMIN_EMAIL], A, db);
    assert.equal(k.status, 0, k.stderr);
    key = k.stdout.trim();
    const srv = await serve(A, db, key);
    try {
      const m = expectStatus(await srv.api('POST', '/v1/users', { email: 'ann@test.io', role: 'member', name: 'Ann Ötzi' }), 201);
      const mk = cli(['key', 'create', 'ann@test.io'], A, db);
      assert.equal(mk.status, 0, mk.stderr);
      const p = await makeProject(srv, { gold_rate: 0.05, min_gold_accuracy: 0.8, metadata: { team: 'percepción' } });
      expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${m.id}`, { role: 'annotator' }), 200);
      const b = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/batches`, { name: 'first' }), 201);
      const rows = Array.from({ length: 40 }, (_, i) => JSON.stringify({
        unique_id: `img-${i}`,
        batch_id: i % 2 ? b.id : undefined,
        data: { i, caption: `caf\u00e9 #${i}` },
        tags: i % 3 ? ['night'] : ['day', 'Night'],
        priority: i % 4,
      })).join('\n');
      const bulk = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, rows, { headers: { 'content-type': 'application/x-ndjson' } }), 200);
      assert.equal(bulk.created, 40);
      const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: mk.stdout.trim() }), 200).assignment;
      const s = expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: 'a-1', response: { labels: ['cat'] } }, { key: mk.stdout.trim() }), 201);
      assert.equal(s.task_status, 'completed');
      ids = { project: p.id, done: a.task_id, memberKey: mk.stdout.trim(), memberId: m.id };
      before0 = await snapshot(srv, ids);
      assert.equal(before0.done.status, 'completed');
      assert.equal(before0.annotations.items.length, 1);
      assert.match(before0.pseudonymous, /"user_id":"w_[0-9a-f]{12}"/);
    } finally {
      await srv.stop();
    }
  });

  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    for (const s of schemas) spawnSync('psql', [TEST_DB_URL, '-qAtc', `DROP SCHEMA IF EXISTS ${s} CASCADE`]);
  });

  it('copies SQLite to SQLite: verified table by table, then served with the same data, ids and keys', async () => {
    const B = newDataDir(A);
    const r = migrate(sqliteUrl(A), sqliteUrl(B));
    assertVerified(r, 'migrate sqlite -> sqlite');
    assert.match(r.stdout, /^tasks\s+40\s/m);
    assert.match(r.stdout, /copied tasks\s+40 rows/, 'no progress line for tasks');
    const srv = await serve(B, sqliteUrl(B), key);
    try {
      assert.deepEqual(await snapshot(srv, ids), before0);
      await writeMore(srv, ids, 'sqlite');
    } finally {
      await srv.stop();
    }
    // the target changed since: --verify-only says which table differs
    const v = migrate(sqliteUrl(A), sqliteUrl(B), ['--verify-only']);
    assert.equal(v.status, 1, v.stdout + v.stderr);
    assert.match(v.stdout, /^tasks\s+40\s+[0-9a-f]{16}\s+DIFFERS \(target: 41 rows/m);
    assert.match(v.stdout, /^batches\s+\d+\s+[0-9a-f]{16}\s+ok$/m);
    assert.match(v.stderr, /users|tasks/);
  });

  it('refuses a target that holds data, naming the table, and leaves it as it was', () => {
    const B = newDataDir(A);
    assertVerified(migrate(sqliteUrl(A), sqliteUrl(B)), 'first copy');
    const size = fs.statSync(path.join(B, 'loupe.db')).size;
    const r = migrate(sqliteUrl(A), sqliteUrl(B));
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /already holds data \(table users/);
    assert.ok(r.stderr.trim().split('\n').length <= 2, `too much output for a refusal:\n${r.stderr}`);
    assert.equal(fs.statSync(path.join(B, 'loupe.db')).size, size);
    const same = migrate(sqliteUrl(B), sqliteUrl(B));
    assert.equal(same.status, 2);
    assert.match(same.stderr, /same database/);
  });

  it('bad arguments and sources get a clear message and a non-zero exit', () => {
    const d = scratch();
    const missing = migrate(`sqlite:${path.join(d, 'nope.db')}`, sqliteUrl(d));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /nope\.db does not exist/);
    assert.ok(!fs.existsSync(path.join(d, 'nope.db')), 'a missing source was created');
    const mysql = migrate('mysql://x/y', sqliteUrl(d));
    assert.equal(mysql.status, 1);
    assert.match(mysql.stderr, /source.*mysql/);
    const empty = scratch();
    fs.writeFileSync(path.join(empty, 'loupe.db'), '');
    const e = migrate(sqliteUrl(empty), sqliteUrl(d));
    assert.equal(e.status, 1);
    assert.match(e.stderr, /no Loupe database/);
    const half = runCli(['migrate', '--from', sqliteUrl(A)]);
    assert.equal(half.status, 2);
    assert.match(half.stderr, /--to/);
    const help = runCli(['migrate', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--from URL --to URL/);
  });

  it('copies SQLite to PostgreSQL and back (LOUPE_TEST_DB_URL)', { skip: !TEST_DB_URL && 'LOUPE_TEST_DB_URL is not set' }, async () => {
    const pg = pgSchemaUrl();
    const P = newDataDir(A);
    const r = migrate(sqliteUrl(A), pg);
    assertVerified(r, 'migrate sqlite -> postgres');
    assert.match(r.stdout, /\(postgres\)/);
    let after1;
    const srv = await serve(P, pg, key);
    try {
      const h = expectStatus(await srv.api('GET', '/healthz', undefined, { key: null }), 200);
      assert.equal(h.database, 'postgres');
      assert.deepEqual(await snapshot(srv, ids), before0);
      await writeMore(srv, ids, 'postgres');
      after1 = await snapshot(srv, ids);
    } finally {
      await srv.stop();
    }
    // and back to a new SQLite file, with what was written on PostgreSQL
    const S = newDataDir(A);
    assertVerified(migrate(pg, sqliteUrl(S)), 'migrate postgres -> sqlite');
    const back = await serve(S, sqliteUrl(S), key);
    try {
      assert.deepEqual(await snapshot(back, ids), after1);
    } finally {
      await back.stop();
    }
  });
});
