// export.test.mjs -- GET /v1/projects/{id}/export: the task objects with
// their results and accepted annotations, NDJSON and JSON, the task list's
// filters, errors before the first byte, roles, and a 5,000-task project
// streamed completely and in order while other requests still get served.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, it, expectError, expectStatus, makeProject, makeMember, listAll, sleep, SLOW } from './harness.mjs';

let srv;

before(async () => {
  srv = await startServer();
});
after(async () => {
  await srv?.stop();
});

function exportOf(pid, query = '', o = {}) {
  return srv.api('GET', `/v1/projects/${pid}/export${query}`, undefined, o);
}

/* The text of a successful export. */
async function download(pid, query = '', o = {}) {
  const r = await exportOf(pid, query, o);
  expectStatus(r, 200);
  return r.text;
}

/* The lines of an NDJSON download, parsed; every line ends with \n. */
function ndjson(text) {
  if (text === '') return [];
  assert.ok(text.endsWith('\n'), `the NDJSON download does not end with a newline: ...${JSON.stringify(text.slice(-80))}`);
  return text
    .slice(0, -1)
    .split('\n')
    .map((l, i) => {
      try {
        return JSON.parse(l);
      } catch (e) {
        assert.fail(`line ${i + 1} of the download is not JSON (${e.message}): ${l.slice(0, 200)}`);
      }
    });
}

/* What the export must hold for these task ids, read through the API:
 * each task object, and with annotations its accepted ones. */
async function expected(ids, withAnnotations) {
  const out = [];
  for (const id of ids) {
    const t = expectStatus(await srv.api('GET', `/v1/tasks/${id}`), 200);
    if (withAnnotations) {
      const a = expectStatus(await srv.api('GET', `/v1/tasks/${id}/annotations`), 200);
      t.annotations = a.items
        .filter((x) => x.status === 'accepted')
        .map(({ id, annotation_id, user_id, response, created_at }) => ({ id, annotation_id, user_id, response, created_at }));
    }
    out.push(t);
  }
  return out;
}

async function annotator(p, email) {
  const m = await makeMember(srv, email);
  expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${m.id}`, { role: 'annotator' }), 200);
  return m;
}

/* Leases the next task as m, checks it is task want, and submits labels. */
async function annotate(p, m, want, labels, annotationId) {
  const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: m.key }), 200).assignment;
  assert.ok(a, `${m.email} got no task`);
  assert.equal(a.task_id, want, `${m.email} was given task ${a.task_id}, expected ${want}`);
  const body = { annotation_id: annotationId, response: { labels } };
  expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, body, { key: m.key }), 201);
}

describe('export', () => {
  // A small project: task c (no batch, priority 10) completed by two
  // annotators, task a (batch) with one accepted annotation, task b
  // (batch) untouched, and a gold task.
  let p, batch, ids, ann1, ann2;
  before(async () => {
    p = await makeProject(srv, { overlap: 2 });
    batch = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/batches`, { name: 'b1' }), 201);
    const rows = [
      { unique_id: 'a', batch_id: batch.id, data: { text: 'first' } },
      { unique_id: 'b', batch_id: batch.id, data: { text: 'second' }, tags: ['x'] },
      { unique_id: 'c', priority: 10, data: { text: 'third "quoted" ünï' }, metadata: { src: 'cam' } },
      { unique_id: 'g', expected_response: { labels: ['cat'] } },
    ];
    const r = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, rows), 200);
    assert.equal(r.created, 4, JSON.stringify(r));
    ids = Object.fromEntries(rows.map((row, i) => [row.unique_id, r.rows[i].id]));
    expectStatus(await srv.api('POST', `/v1/batches/${batch.id}/finalize`), 200);
    ann1 = await annotator(p, 'exp1@test.io');
    ann2 = await annotator(p, 'exp2@test.io');
    await annotate(p, ann1, ids.c, ['dog'], 'e1');
    await annotate(p, ann2, ids.c, ['dog'], 'e2');
    await annotate(p, ann1, ids.a, ['cat'], 'e3');
  });

  it('NDJSON by default: every task object with its result, as a download', async () => {
    const r = await exportOf(p.id);
    expectStatus(r, 200);
    assert.equal(r.headers.get('content-type'), 'application/x-ndjson');
    assert.equal(r.headers.get('transfer-encoding'), 'chunked');
    assert.equal(r.headers.get('content-disposition'), `attachment; filename="project-${p.id}-tasks.ndjson"`);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    assert.equal(r.headers.get('content-length'), null, 'a streamed export cannot know its length');
    const got = ndjson(r.text);
    assert.deepEqual(got, await expected([ids.a, ids.b, ids.c, ids.g], false));
    // The consolidated result of the completed task is there.
    const c = got.find((t) => t.id === ids.c);
    assert.equal(c.status, 'completed');
    assert.deepEqual(c.result.response, { labels: ['dog'] });
    assert.equal(c.result.confidence, 1);
    assert.equal(typeof c.result.method, 'string');
    assert.equal(c.data.text, 'third "quoted" ünï');
    assert.equal(got.find((t) => t.id === ids.a).result, undefined, 'a task without a result has none');
    assert.deepEqual(got.find((t) => t.id === ids.g).expected_response, { labels: ['cat'] });
    assert.ok(!got.some((t) => 'annotations' in t), 'annotations were not asked for');
  });

  it('include=annotations adds each task\'s accepted annotations', async () => {
    const got = ndjson(await download(p.id, '?include=annotations'));
    assert.deepEqual(got, await expected([ids.a, ids.b, ids.c, ids.g], true));
    const c = got.find((t) => t.id === ids.c);
    assert.deepEqual(
      c.annotations.map((x) => [x.user_id, x.annotation_id, x.response]),
      [
        [ann1.id, 'e1', { labels: ['dog'] }],
        [ann2.id, 'e2', { labels: ['dog'] }],
      ],
    );
    assert.match(c.annotations[0].created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(got.find((t) => t.id === ids.b).annotations, []);
    assert.equal(got.find((t) => t.id === ids.a).annotations.length, 1);
  });

  it('format=json is one array with the same objects', async () => {
    const r = await exportOf(p.id, '?format=json&include=annotations');
    expectStatus(r, 200);
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.equal(r.headers.get('content-disposition'), `attachment; filename="project-${p.id}-tasks.json"`);
    const arr = JSON.parse(r.text);
    assert.ok(Array.isArray(arr));
    const nd = ndjson(await download(p.id, '?format=ndjson&include=annotations'));
    assert.deepEqual(arr, nd);
  });

  it('filters: status, batch_id, tag and unique_id, as the task list takes them', async () => {
    const ids_of = async (q) => ndjson(await download(p.id, q)).map((t) => t.id);
    assert.deepEqual(await ids_of('?status=completed'), [ids.c]);
    assert.deepEqual(await ids_of('?status=pending'), [ids.b]);
    assert.deepEqual(await ids_of('?status=gold'), [ids.g]);
    assert.deepEqual(await ids_of(`?batch_id=${batch.id}`), [ids.a, ids.b]);
    assert.deepEqual(await ids_of(`?batch_id=${batch.id}&status=in_progress`), [ids.a]);
    assert.deepEqual(await ids_of('?tag=x'), [ids.b]);
    assert.deepEqual(await ids_of('?unique_id=c'), [ids.c]);
    // Annotations still land on the right task when filters skip some.
    const c = ndjson(await download(p.id, '?status=completed&include=annotations'));
    assert.deepEqual(c, await expected([ids.c], true));
    const a = ndjson(await download(p.id, `?batch_id=${batch.id}&include=annotations`));
    assert.deepEqual(a, await expected([ids.a, ids.b], true));
    // Nothing matches: an empty file, or an empty array.
    assert.equal(await download(p.id, '?status=canceled'), '');
    assert.equal(await download(p.id, '?status=canceled&format=json'), '[]\n');
  });

  it('bad parameters are a JSON 400 naming them, before any byte of the file', async () => {
    let e = expectError(await exportOf(p.id, '?format=xml'), 400, 'format');
    // Every format is named, in the registry's order.
    assert.match(e.message, /"xml" is not an export format \(one of: ndjson, json, csv, conll, coco, yolo, voc, trl, trl_conversational, openai_preference, openai_chat, texts, ratings, redteam, kitti, lidar, masks, video, mot, coco_video\)$/);
    e = expectError(await exportOf(p.id, '?include=votes'), 400, 'include');
    assert.match(e.message, /votes/);
    expectError(await exportOf(p.id, '?status=done'), 400, 'status');
    expectError(await exportOf(p.id, '?batch_id=x'), 400, 'batch_id');
    expectError(await exportOf(p.id, '?created_after=yesterday'), 400, 'created_after');
    expectError(await exportOf(999999), 404);
    expectError(await exportOf(p.id, '', { key: null }), 401);
  });

  it('reviewers may export; annotators and outsiders may not', async () => {
    const rev = await makeMember(srv, 'exp-rev@test.io');
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${rev.id}`, { role: 'reviewer' }), 200);
    assert.equal(ndjson(await download(p.id, '', { key: rev.key })).length, 4);
    const e = expectError(await exportOf(p.id, '', { key: ann1.key }), 403);
    assert.match(e.message, /reviewer/);
    const out = await makeMember(srv, 'exp-out@test.io');
    expectError(await exportOf(p.id, '', { key: out.key }), 404);
  });

  it('HEAD answers the headers only', async () => {
    const r = await srv.api('HEAD', `/v1/projects/${p.id}/export?format=json`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-disposition'), `attachment; filename="project-${p.id}-tasks.json"`);
    assert.equal(r.buf.length, 0);
  });

  it('5,000 tasks stream completely and in id order, while slow readers hold no database connection', async () => {
    const big = await makeProject(srv);
    const pad = 'x'.repeat(1000); // ~5 MB per export: more than the sockets buffer
    const N = 5000;
    const rows = Array.from({ length: N }, (_, i) => JSON.stringify({ unique_id: `big-${i}`, data: { i, pad } })).join('\n');
    const imp = expectStatus(await srv.api('POST', `/v1/projects/${big.id}/tasks`, rows, { headers: { 'content-type': 'application/x-ndjson' } }), 200);
    assert.equal(imp.created, N);
    const created = imp.rows.map((r) => r.id);

    const got = ndjson(await download(big.id));
    assert.equal(got.length, N, `${got.length} of ${N} tasks exported`);
    assert.deepEqual(got.map((t) => t.id), created, 'the export is not every task in id order');
    got.forEach((t, i) => assert.equal(t.data.i, i, `task ${t.id} holds row ${t.data.i}, expected ${i}`));
    const arr = JSON.parse(await download(big.id, '?format=json&include=annotations'));
    assert.equal(arr.length, N);
    assert.deepEqual(arr.map((t) => t.id), created);
    // The same through the task list (a cross-check of the filters' reuse).
    const listed = await listAll(srv, `/v1/projects/${big.id}/tasks?status=pending`);
    assert.deepEqual(ndjson(await download(big.id, '?status=pending')).map((t) => t.id), listed.items.map((t) => t.id));

    // More exports than the pool has connections, none of them read yet:
    // other requests are still served, then every export completes.
    const base = srv.base + `/v1/projects/${big.id}/export`;
    const slow = await Promise.all(
      Array.from({ length: 8 }, () => fetch(base, { headers: { authorization: `Bearer ${srv.key}` }, signal: AbortSignal.timeout(120000 * SLOW) })),
    );
    slow.forEach((r) => assert.equal(r.status, 200));
    const t0 = Date.now();
    expectStatus(await srv.api('GET', '/v1/me', undefined, { timeout: 10000 * SLOW }), 200);
    expectStatus(await srv.api('GET', `/v1/projects/${big.id}/tasks?limit=1`, undefined, { timeout: 10000 * SLOW }), 200);
    assert.ok(Date.now() - t0 < 8000 * SLOW, 'requests waited behind unread exports');
    for (const r of slow) {
      const lines = ndjson(await r.text());
      assert.equal(lines.length, N);
      assert.equal(lines[N - 1].id, created[N - 1]);
    }

    // A client that leaves part way: the server lets the export go (the
    // sanitizer build checks nothing leaks) and goes on serving.
    for (let k = 0; k < 3; k++) {
      const ac = new AbortController();
      const r = await fetch(base, { headers: { authorization: `Bearer ${srv.key}` }, signal: ac.signal });
      const reader = r.body.getReader();
      const first = await reader.read();
      assert.ok(first.value.length > 0);
      ac.abort();
      await reader.read().catch(() => {});
    }
    assert.equal(ndjson(await download(big.id, '?unique_id=big-4999')).length, 1);
  });

  it('exclude_gold and reviewed narrow the export (and the task list) to the tasks a training set wants', async () => {
    const q = await makeProject(srv, { name: 'exp reviewed', overlap: 1, review_levels: 1 });
    const tasks = [];
    for (const u of ['r0', 'r1', 'r2'])
      tasks.push(expectStatus(await srv.api('POST', '/v1/tasks', { project_id: q.id, unique_id: u, data: { text: u } }), 201));
    const gold = expectStatus(await srv.api('POST', '/v1/tasks', { project_id: q.id, unique_id: 'g', expected_response: { labels: ['cat'] } }), 201);
    const ann = await annotator(q, 'exp-reviewed-ann@test.io');
    for (const t of tasks) await annotate(q, ann, t.id, ['dog'], `rv-${t.unique_id}`);
    const rev = await makeMember(srv, 'exp-reviewed-rev@test.io');
    expectStatus(await srv.api('PUT', `/v1/projects/${q.id}/members/${rev.id}`, { role: 'reviewer' }), 200);
    // r0 accepted, r1 fixed, r2 rejected (back to pending).
    for (;;) {
      const r = expectStatus(await srv.api('GET', `/v1/projects/${q.id}/reviews/next`, undefined, { key: rev.key }), 200).assignment;
      if (!r) break;
      const body = { r0: { action: 'accept' }, r1: { action: 'fix', response: { labels: ['cat'] } }, r2: { action: 'reject', comment: 'look again' } }[r.task.unique_id];
      expectStatus(await srv.api('POST', `/v1/assignments/${r.id}/review`, body, { key: rev.key }), 200);
    }
    const ids = async (query) => ndjson(await download(q.id, query)).map((t) => t.unique_id);
    assert.deepEqual(await ids(''), ['r0', 'r1', 'r2', 'g']);
    assert.deepEqual(await ids('?exclude_gold=true'), ['r0', 'r1', 'r2']);
    assert.deepEqual(await ids('?reviewed=true'), ['r0', 'r1']);
    assert.deepEqual(await ids('?reviewed=true&exclude_gold=false'), ['r0', 'r1']);
    const listed = expectStatus(await srv.api('GET', `/v1/projects/${q.id}/tasks?exclude_gold=true`), 200).items.map((t) => t.unique_id);
    assert.deepEqual(listed, ['r0', 'r1', 'r2']);
    assert.equal(gold.status, 'gold');
    expectError(await exportOf(q.id, '?reviewed=yes'), 400, 'reviewed');
    expectError(await srv.api('GET', `/v1/projects/${q.id}/tasks?exclude_gold=1`), 400, 'exclude_gold');
  });

  it('a date range: created_after/before and updated_after/before keep the tasks made or changed in it', async () => {
    const d = await makeProject(srv, { name: 'exp dates', overlap: 1 });
    const make = async (u) => expectStatus(await srv.api('POST', '/v1/tasks', { project_id: d.id, unique_id: u, data: { text: u } }), 201);
    const t1 = await make('d1');
    await sleep(20);
    const t2 = await make('d2');
    await sleep(20);
    const t3 = await make('d3');
    assert.ok(t1.created_at < t2.created_at && t2.created_at < t3.created_at, 'the tasks were made in the same millisecond');
    // d1 is annotated last: only its updated_at moves on.
    await sleep(20);
    const ann = await annotator(d, 'exp-dates@test.io');
    await annotate(d, ann, t1.id, ['cat'], 'dt1');
    const d1 = expectStatus(await srv.api('GET', `/v1/tasks/${t1.id}`), 200);
    assert.ok(d1.updated_at > t3.updated_at);
    const uids = async (q) => ndjson(await download(d.id, q)).map((t) => t.unique_id);
    const at = (t) => encodeURIComponent(t);
    assert.deepEqual(await uids(`?created_after=${at(t2.created_at)}`), ['d2', 'd3'], 'created_after is inclusive');
    assert.deepEqual(await uids(`?created_before=${at(t2.created_at)}`), ['d1'], 'created_before is exclusive');
    assert.deepEqual(await uids(`?created_after=${at(t2.created_at)}&created_before=${at(t3.created_at)}`), ['d2']);
    assert.deepEqual(await uids(`?updated_after=${at(d1.updated_at)}`), ['d1']);
    assert.deepEqual(await uids(`?updated_before=${at(d1.updated_at)}`), ['d2', 'd3']);
    // with the other filters and with annotations
    const got = ndjson(await download(d.id, `?updated_after=${at(d1.updated_at)}&status=completed&include=annotations`));
    assert.deepEqual(got, await expected([t1.id], true));
    assert.deepEqual(await uids(`?created_after=${at(t3.created_at)}&status=completed`), []);
    for (const name of ['created_before', 'updated_after', 'updated_before'])
      expectError(await exportOf(d.id, `?${name}=2026-13-01`), 400, name);
  });
});
