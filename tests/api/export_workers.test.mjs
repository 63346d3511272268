// export_workers.test.mjs -- GET /v1/projects/{id}/export?workers=ids|pseudonyms|none
// and `loupe export --workers`: with pseudonyms every worker id (an
// annotation's user_id, a review's by) is "w_" and 12 hex digits, the same
// worker the same pseudonym in every export of a project and another one in
// another project's, and nothing in the file's bytes names the worker; with
// none the ids are gone; a bad value is a 400 naming workers.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, it, runCli, expectError, expectStatus, makeProject, makeMember, assertNoSanitizerReport } from './harness.mjs';

let srv;

before(async () => {
  srv = await startServer();
});
after(async () => {
  await srv?.stop();
});

async function download(pid, query = '') {
  const r = await srv.api('GET', `/v1/projects/${pid}/export${query}`);
  expectStatus(r, 200);
  return r.text;
}

const lines = (text) => text.trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l));

async function member(p, email, role) {
  const m = await makeMember(srv, email);
  expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${m.id}`, { role }), 200);
  return m;
}

/* Leases the next task of p as m and submits labels. */
async function annotate(p, m, labels, annotationId) {
  const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: m.key }), 200).assignment;
  assert.ok(a, `${m.email} got no task`);
  const body = { annotation_id: annotationId, response: { labels } };
  expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, body, { key: m.key }), 201);
  return a.task_id;
}

/* Every worker id in an export's tasks, in order: [where, value]. */
function workersOf(tasks) {
  const out = [];
  for (const t of tasks) {
    for (const a of t.annotations ?? []) out.push([`task ${t.unique_id} annotation ${a.annotation_id}`, a.user_id]);
    if (t.review) out.push([`task ${t.unique_id} review`, t.review.by]);
  }
  return out;
}

const PSEUDONYM = /^w_[0-9a-f]{12}$/;

describe('export workers', () => {
  // Project p: two tasks, each annotated by two annotators (overlap 2),
  // then reviewed (one accepted, one fixed) by a reviewer.  Project q: the
  // first annotator again.
  let p, q, ann1, ann2, rev, users;
  before(async () => {
    p = await makeProject(srv, { name: 'workers p', overlap: 2, review_levels: 1 });
    const rows = [
      { unique_id: 't1', data: { text: 'one' } },
      { unique_id: 't2', data: { text: 'two' } },
      { unique_id: 't3', data: { text: 'three' } },
    ];
    expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, rows), 200);
    ann1 = await member(p, 'pseudo-ann1@test.io', 'annotator');
    ann2 = await member(p, 'pseudo-ann2@test.io', 'annotator');
    rev = await member(p, 'pseudo-rev@test.io', 'reviewer');
    for (const [m, k] of [
      [ann1, 'a'],
      [ann2, 'b'],
    ])
      for (let i = 1; i <= 2; i++) await annotate(p, m, ['cat'], `${k}${i}`);
    for (;;) {
      const r = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/reviews/next`, undefined, { key: rev.key }), 200).assignment;
      if (!r) break;
      const body = r.task.unique_id === 't1' ? { action: 'accept' } : { action: 'fix', response: { labels: ['dog'] } };
      expectStatus(await srv.api('POST', `/v1/assignments/${r.id}/review`, body, { key: rev.key }), 200);
    }
    q = await makeProject(srv, { name: 'workers q', overlap: 1 });
    expectStatus(await srv.api('POST', `/v1/projects/${q.id}/tasks`, [{ unique_id: 'u1', data: { text: 'x' } }]), 200);
    expectStatus(await srv.api('PUT', `/v1/projects/${q.id}/members/${ann1.id}`, { role: 'annotator' }), 200);
    await annotate(q, ann1, ['dog'], 'q1');
    users = [ann1, ann2, rev];
  });

  it('ids (the default) writes the user ids as they are', async () => {
    const def = await download(p.id, '?include=annotations');
    assert.equal(await download(p.id, '?include=annotations&workers=ids'), def);
    const w = workersOf(lines(def));
    assert.deepEqual(
      w.map(([, v]) => v),
      [ann1.id, ann2.id, rev.id, ann1.id, ann2.id, rev.id],
      JSON.stringify(w),
    );
  });

  it('pseudonyms: one per worker, stable across exports, mapping the ids one to one', async () => {
    const ids = lines(await download(p.id, '?include=annotations'));
    const text = await download(p.id, '?include=annotations&workers=pseudonyms');
    assert.equal(await download(p.id, '?include=annotations&workers=pseudonyms'), text, 'a second export differs');
    const got = lines(text);
    const byId = workersOf(ids), byPseudonym = workersOf(got);
    assert.equal(byPseudonym.length, 6);
    const map = new Map();
    byPseudonym.forEach(([where, v], i) => {
      assert.match(String(v), PSEUDONYM, `${where}: ${JSON.stringify(v)} is not a pseudonym`);
      const id = byId[i][1];
      if (map.has(id)) assert.equal(v, map.get(id), `${where}: user ${id} has two pseudonyms`);
      map.set(id, v);
    });
    assert.equal(new Set(map.values()).size, 3, 'three workers, three pseudonyms');
    // Everything else is the ids export's, byte for byte once the ids are mapped.
    const mapped = ids.map((t) => ({
      ...t,
      annotations: t.annotations.map((a) => ({ ...a, user_id: map.get(a.user_id) })),
      ...(t.review ? { review: { ...t.review, by: map.get(t.review.by) } } : {}),
    }));
    assert.deepEqual(got, mapped);
    // The JSON format carries the same pseudonyms.
    assert.deepEqual(JSON.parse(await download(p.id, '?format=json&include=annotations&workers=pseudonyms')), got);
  });

  it('pseudonyms: nothing in the bytes names a worker', async () => {
    for (const fmt of ['ndjson', 'json']) {
      const text = await download(p.id, `?format=${fmt}&include=annotations&workers=pseudonyms`);
      assert.doesNotMatch(text, /"user_id":\s*\d/, `${fmt}: a numeric user_id is left`);
      assert.doesNotMatch(text, /"by":\s*\d/, `${fmt}: a numeric review by is left`);
      for (const u of users) {
        assert.ok(!text.includes(u.email), `${fmt}: ${u.email} is in the export`);
        if (u.name) assert.ok(!text.includes(u.name), `${fmt}: ${u.name} is in the export`);
      }
      // User ids are small numbers that other fields hold too: look for a
      // number under any key that could name a person, at any depth.
      const walk = (v, where) => {
        if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${where}[${i}]`));
        else if (v && typeof v === 'object')
          for (const [k, x] of Object.entries(v)) {
            if (/user|^by$|worker|annotator|reviewer|member|email/i.test(k))
              assert.ok(typeof x !== 'number', `${fmt}: ${where}.${k} is ${x}, a user id`);
            walk(x, `${where}.${k}`);
          }
      };
      walk(JSON.parse(fmt === 'json' ? text : `[${text.trimEnd().split('\n').join(',')}]`), 'export');
    }
  });

  it('pseudonyms differ across projects for the same worker', async () => {
    const inP = workersOf(lines(await download(p.id, '?include=annotations&workers=pseudonyms')))[0][1];
    const inQ = lines(await download(q.id, '?include=annotations&workers=pseudonyms'))[0].annotations[0].user_id;
    assert.match(inQ, PSEUDONYM);
    assert.notEqual(inP, inQ, `${ann1.email} has the same pseudonym in two projects`);
    // and the project's key is not shown with the project
    const proj = expectStatus(await srv.api('GET', `/v1/projects/${p.id}`), 200);
    assert.ok(!('export_secret' in proj), 'the export key is in the project object');
    assert.doesNotMatch(JSON.stringify(proj), /[0-9a-f]{64}/);
  });

  it('none leaves every worker id out', async () => {
    const ids = lines(await download(p.id, '?include=annotations'));
    const text = await download(p.id, '?include=annotations&workers=none');
    assert.ok(!text.includes('"user_id"'), 'a user_id is left');
    assert.ok(!text.includes('"by"'), 'a review by is left');
    const want = ids.map((t) => {
      const o = { ...t, annotations: t.annotations.map(({ user_id, ...a }) => a) };
      if (t.review) {
        const { by, ...r } = t.review;
        o.review = r;
      }
      return o;
    });
    assert.deepEqual(lines(text), want);
  });

  it('a bad value is a 400 naming workers', async () => {
    for (const v of ['hashed', '', 'IDS']) {
      const e = expectError(await srv.api('GET', `/v1/projects/${p.id}/export?workers=${v}`), 400, 'workers');
      assert.match(e.message, /^workers: ".*" is not a way to write workers \(one of: ids, pseudonyms, none\)$/);
    }
  });

  it('loupe export --workers gives the API\'s bytes, pseudonyms included', async () => {
    const cli = (args) => {
      const r = runCli(['export', String(p.id), ...args, '--data-dir', srv.dir], { cwd: srv.dir });
      assertNoSanitizerReport(r.stderr, 'loupe export');
      return r;
    };
    for (const [args, query] of [
      [['--include', 'annotations', '--workers', 'pseudonyms'], '?include=annotations&workers=pseudonyms'],
      [['--workers', 'pseudonyms'], '?workers=pseudonyms'],
      [['--include', 'annotations', '--workers', 'none'], '?include=annotations&workers=none'],
      [['--include', 'annotations', '--workers', 'ids'], '?include=annotations'],
    ]) {
      const r = cli(args);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, await download(p.id, query), `loupe export ${args.join(' ')}`);
    }
    const bad = cli(['--workers', 'hashed']);
    assert.equal(bad.status, 2);
    assert.equal(bad.stdout, '');
    assert.match(bad.stderr, /--workers: "hashed" is not a way to write workers \(one of: ids, pseudonyms, none\)/);
  });
});
