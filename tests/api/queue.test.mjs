// queue.test.mjs -- the annotator loop over HTTP: leases, drafts, skips,
// idempotent submits, and 64 annotators working one project at once.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, it, expectError, expectStatus, makeProject, makeMember, SLOW } from './harness.mjs';

let srv;

before(async () => {
  srv = await startServer();
});
after(async () => {
  await srv?.stop();
});

async function withTasks(n, extra = {}) {
  const p = await makeProject(srv, extra);
  const rows = Array.from({ length: n }, (_, i) => JSON.stringify({ unique_id: `t${i}` })).join('\n');
  const b = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, rows), 200);
  assert.equal(b.created, n);
  return p;
}

async function annotator(p, email) {
  const m = await makeMember(srv, email);
  expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${m.id}`, { role: 'annotator' }), 200);
  return m;
}

describe('the annotator loop', () => {
  it('lease, draft, resume, submit, and a retried submit counts once', async () => {
    const p = await withTasks(2, { overlap: 1 });
    const ann = await annotator(p, 'loop@test.io');
    const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ann.key }), 200).assignment;
    assert.equal(a.status, 'active');
    assert.ok(Date.parse(a.expires_at) > Date.now());
    assert.equal(a.task.project_id, p.id);
    expectStatus(await srv.api('PUT', `/v1/assignments/${a.id}/draft`, { labels: ['dog'] }, { key: ann.key }), 200);
    const again = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ann.key }), 200).assignment;
    assert.equal(again.id, a.id, 'asking again resumes the same lease');
    assert.deepEqual(again.draft, { labels: ['dog'] });
    const body = { annotation_id: 'loop-1', response: { labels: ['dog'] } };
    const s1 = expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, body, { key: ann.key }), 201);
    assert.equal(s1.status, 'accepted');
    assert.equal(s1.task_status, 'completed');
    const s2 = expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, body, { key: ann.key }), 200);
    assert.equal(s2.annotation, s1.annotation);
    assert.equal(s2.repeated, true);
    const list = expectStatus(await srv.api('GET', `/v1/tasks/${a.task_id}/annotations`), 200);
    assert.equal(list.items.length, 1);
    // The completed task carries its result: majority vote, with a confidence.
    const t = expectStatus(await srv.api('GET', `/v1/tasks/${a.task_id}`), 200);
    assert.equal(t.status, 'completed');
    assert.deepEqual(t.result, { response: { labels: ['dog'] }, confidence: 1, method: 'auto', annotations: 1 });
    // Someone else's assignment does not exist for them.
    const other = await annotator(p, 'other@test.io');
    expectError(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: 'x', response: { labels: ['cat'] } }, { key: other.key }), 404);
  });

  it('a bad response names its field; skip needs a reason; a skipped task goes to someone else', async () => {
    const p = await withTasks(1, { overlap: 1 });
    const a1 = await annotator(p, 'skip1@test.io');
    const a2 = await annotator(p, 'skip2@test.io');
    const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: a1.key }), 200).assignment;
    expectError(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: 'b', response: { labels: ['cow'] } }, { key: a1.key }), 422, 'response.labels[0]');
    expectError(await srv.api('POST', `/v1/assignments/${a.id}/skip`, {}, { key: a1.key }), 422, 'reason');
    expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/skip`, { reason: 'blurry' }, { key: a1.key }), 200);
    expectError(await srv.api('POST', `/v1/assignments/${a.id}/heartbeat`, undefined, { key: a1.key }), 409);
    const none = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: a1.key }), 200);
    assert.equal(none.assignment, null, 'a skipped task must not come back to the same worker');
    const b = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: a2.key }), 200).assignment;
    assert.equal(b.task_id, a.task_id);
  });

  it('a gold task looks like any other to the annotator: no answer, no is_gold', async () => {
    const p = await makeProject(srv, { overlap: 1, calibration_count: 1 });
    expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id, unique_id: 'g1', expected_response: { labels: ['dog'] } }), 201);
    const ann = await annotator(p, 'gold-view@test.io');
    const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ann.key }), 200).assignment;
    assert.equal(a.kind, 'annotate');
    assert.ok(!('expected_response' in a.task), 'the gold answer was shown to the annotator');
    assert.ok(!('is_gold' in a.task), 'the annotator can tell a gold task');
    const full = expectStatus(await srv.api('GET', `/v1/tasks/${a.task_id}`), 200);
    assert.equal(full.is_gold, true);
    assert.deepEqual(full.expected_response, { labels: ['dog'] });
  });

  it('review: a reviewer accepts, fixes or rejects with a comment; an audit reopens a task', async () => {
    const p = await withTasks(1, { overlap: 1, review_levels: 1 });
    const ann = await annotator(p, 'rv-ann@test.io');
    const rev = await makeMember(srv, 'rv-rev@test.io');
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${rev.id}`, { role: 'reviewer' }), 200);
    const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ann.key }), 200).assignment;
    const s = expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: 'r1', response: { labels: ['cat'] } }, { key: ann.key }), 201);
    assert.equal(s.task_status, 'review');
    // An annotator may not take reviews; the reviewer gets the task with its result.
    expectError(await srv.api('GET', `/v1/projects/${p.id}/reviews/next`, undefined, { key: ann.key }), 403);
    const r = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/reviews/next`, undefined, { key: rev.key }), 200).assignment;
    assert.equal(r.task_id, a.task_id);
    assert.deepEqual(r.task.result.response, { labels: ['cat'] });
    expectError(await srv.api('POST', `/v1/assignments/${r.id}/review`, { action: 'reject' }, { key: rev.key }), 422, 'comment');
    expectError(await srv.api('POST', `/v1/assignments/${r.id}/review`, { action: 'shrug' }, { key: rev.key }), 422, 'action');
    expectError(await srv.api('POST', `/v1/assignments/${r.id}/submit`, { annotation_id: 'x', response: { labels: ['cat'] } }, { key: rev.key }), 422);
    const d = expectStatus(await srv.api('POST', `/v1/assignments/${r.id}/review`, { action: 'reject', comment: 'it is a dog' }, { key: rev.key }), 200);
    assert.equal(d.task_status, 'pending');
    // Back to the annotator, who sees why.
    const again = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ann.key }), 200).assignment;
    assert.equal(again.task_id, a.task_id);
    assert.equal(again.task.review.comment, 'it is a dog');
    expectStatus(await srv.api('POST', `/v1/assignments/${again.id}/submit`, { annotation_id: 'r2', response: { labels: ['dog'] } }, { key: ann.key }), 201);
    const r2 = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/reviews/next`, undefined, { key: rev.key }), 200).assignment;
    assert.equal(r2, null, 'the reviewer already reviewed this task');
    const rev2 = await makeMember(srv, 'rv-rev2@test.io');
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${rev2.id}`, { role: 'reviewer' }), 200);
    const r3 = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/reviews/next`, undefined, { key: rev2.key }), 200).assignment;
    const fx = expectStatus(await srv.api('POST', `/v1/assignments/${r3.id}/review`, { action: 'fix', response: { labels: ['cat'] } }, { key: rev2.key }), 200);
    assert.equal(fx.task_status, 'completed');
    const t = expectStatus(await srv.api('GET', `/v1/tasks/${a.task_id}`), 200);
    assert.deepEqual(t.result.response, { labels: ['cat'] });
    assert.equal(t.result.method, 'review_fix');
    const v = expectStatus(await srv.api('GET', `/v1/tasks/${a.task_id}/versions`), 200).items;
    assert.deepEqual(v.map((x) => x.source), ['aggregate', 'aggregate', 'fix']);
    const anns = expectStatus(await srv.api('GET', `/v1/tasks/${a.task_id}/annotations`), 200).items;
    assert.deepEqual(anns.map((x) => x.status), ['returned', 'accepted'], 'every version of the work is kept');
    // The customer audit.
    expectError(await srv.api('POST', `/v1/tasks/${a.task_id}/audit`, { accepted: false }), 422, 'comment');
    const au = expectStatus(await srv.api('POST', `/v1/tasks/${a.task_id}/audit`, { accepted: false, comment: 'not a cat' }), 200);
    assert.equal(au.status, 'pending');
    assert.equal(au.review.action, 'audit_reject');
    expectError(await srv.api('POST', `/v1/tasks/${a.task_id}/audit`, { accepted: true }), 409);
    expectError(await srv.api('POST', `/v1/tasks/${a.task_id}/audit`, { accepted: true }, { key: rev.key }), 403);
  });

  it('the workers table: tasks done, skips, time per task, agreement with the consensus', async () => {
    const p = await withTasks(2, { overlap: 3 });
    const ws = [];
    for (let i = 0; i < 3; i++) ws.push(await annotator(p, `wt${i}@test.io`));
    // Task 1: cat, cat, dog -> the consensus is cat.  Worker 0 skips task 2 first.
    const first = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ws[0].key }), 200).assignment;
    const t1 = first.task_id;
    for (let i = 0; i < 3; i++) {
      let a = i === 0 ? first : expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ws[i].key }), 200).assignment;
      assert.equal(a.task_id, t1);
      expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `wt-${i}`, response: { labels: [i === 2 ? 'dog' : 'cat'] } }, { key: ws[i].key }), 201);
    }
    const a2 = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ws[0].key }), 200).assignment;
    expectStatus(await srv.api('POST', `/v1/assignments/${a2.id}/skip`, { reason: 'later' }, { key: ws[0].key }), 200);
    const table = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/workers`), 200).items;
    const row = (w) => table.find((x) => x.user_id === w.id);
    assert.equal(table.length, 3);
    assert.equal(row(ws[0]).tasks_done, 1);
    assert.equal(row(ws[0]).skipped, 1);
    assert.equal(row(ws[0]).agreement_with_consensus, 1);
    assert.equal(row(ws[1]).agreement_with_consensus, 1);
    assert.equal(row(ws[2]).agreement_with_consensus, 0);
    assert.equal(row(ws[2]).compared_with_consensus, 1);
    assert.ok(row(ws[1]).median_seconds_per_task >= 0 && row(ws[1]).median_seconds_per_task < 60);
    assert.equal(row(ws[2]).email, 'wt2@test.io');
    expectError(await srv.api('GET', `/v1/projects/${p.id}/workers`, undefined, { key: ws[0].key }), 403);
  });

  it('a client that stalls in the middle of a submit body does not hold up anyone else\'s writes', async () => {
    const p = await withTasks(4, { overlap: 1 });
    const slow = await annotator(p, 'stall-slow@test.io');
    const fast = await annotator(p, 'stall-fast@test.io');
    const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: slow.key }), 200).assignment;
    // Headers and half the body of a submit, then nothing: the server counts
    // it as a write on its way to the writer.
    const body = JSON.stringify({ annotation_id: 'stall-1', response: { labels: ['cat'] } });
    const sock = net.connect(srv.port, '127.0.0.1');
    await new Promise((resolve) => sock.once('connect', resolve));
    sock.write(`POST /v1/assignments/${a.id}/submit HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${slow.key}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
    try {
      // Others lease and submit meanwhile, promptly.
      for (let i = 0; i < 3; i++) {
        const t0 = Date.now();
        const b = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: fast.key }), 200).assignment;
        expectStatus(await srv.api('POST', `/v1/assignments/${b.id}/submit`, { annotation_id: `fast-${i}`, response: { labels: ['dog'] } }, { key: fast.key }), 201);
        assert.ok(Date.now() - t0 < 2000 * SLOW, `a lease and submit took ${Date.now() - t0} ms beside a stalled client`);
      }
      // The stalled client finishes; its submit lands.
      const reply = new Promise((resolve) => {
        let got = '';
        sock.on('data', (d) => {
          got += d;
          if (got.includes('\r\n\r\n') && got.includes('}')) resolve(got);
        });
      });
      sock.write(body.slice(10));
      assert.match(await reply, /^HTTP\/1\.1 201/);
    } finally {
      sock.destroy();
    }
  });

  it('64 annotators on 2,000 tasks with overlap 3: exactly 3 distinct annotations each, nothing lost', async () => {
    const N = SLOW > 1 ? 600 : 2000, W = 64, OVERLAP = 3;
    const p = await withTasks(N, { overlap: OVERLAP });
    const workers = [];
    for (let i = 0; i < W; i++) workers.push(await annotator(p, `w${i}@test.io`));
    const acked = new Map(); // annotation id -> {task, user}
    let retries = 0, skips = 0;
    async function work(w, wi) {
      for (let n = 0; ; n++) {
        const r = await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: w.key });
        const a = expectStatus(r, 200).assignment;
        if (!a) return;
        if ((wi * 7919 + n) % 50 === 0) { // now and then, give the task back
          expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/skip`, { reason: 'not sure' }, { key: w.key }), 200);
          skips++;
          continue;
        }
        const body = { annotation_id: `${w.id}-${a.task_id}`, response: { labels: [n % 2 ? 'cat' : 'dog'] } };
        const s = await srv.api('POST', `/v1/assignments/${a.id}/submit`, body, { key: w.key });
        const b = expectStatus(s, 201);
        assert.equal(b.status, 'accepted');
        acked.set(b.annotation, { task: a.task_id, user: w.id });
        if (n % 20 === 0) { // a retry, as after a lost response
          const again = expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, body, { key: w.key }), 200);
          assert.equal(again.annotation, b.annotation);
          retries++;
        }
      }
    }
    await Promise.all(workers.map((w, i) => work(w, i)));
    assert.ok(retries > 0 && skips > 0);
    const proj = expectStatus(await srv.api('GET', `/v1/projects/${p.id}`), 200);
    assert.equal(proj.counts.completed, N, JSON.stringify(proj.counts));
    // Each completed task's result is the majority of its 3 responses.
    const sample = expectStatus(await srv.api('GET', `/v1/tasks?project_id=${p.id}&status=completed&limit=50`), 200).items;
    for (const t of sample) {
      assert.equal(t.result.annotations, OVERLAP);
      assert.ok([1 / 3, 2 / 3, 1].some((c) => Math.abs(t.result.confidence - c) < 1e-9), `confidence ${t.result.confidence}`);
      assert.equal(t.result.method, 'auto');
    }
    assert.equal(acked.size, N * OVERLAP, 'every task got exactly its overlap of acknowledged submits');
    // Every task: exactly 3 accepted annotations from 3 distinct workers,
    // and every acknowledged annotation is among them.
    const byTask = new Map();
    for (const [id, v] of acked) {
      if (!byTask.has(v.task)) byTask.set(v.task, []);
      byTask.get(v.task).push({ id, user: v.user });
    }
    const tasks = [...byTask.keys()];
    assert.equal(tasks.length, N);
    for (let i = 0; i < tasks.length; i += 32) {
      await Promise.all(tasks.slice(i, i + 32).map(async (t) => {
        const items = expectStatus(await srv.api('GET', `/v1/tasks/${t}/annotations`), 200).items.filter((x) => x.status === 'accepted');
        assert.equal(items.length, OVERLAP, `task ${t} has ${items.length} accepted annotations`);
        assert.equal(new Set(items.map((x) => x.user_id)).size, OVERLAP, `task ${t}: a worker annotated twice`);
        const ids = new Set(items.map((x) => x.id));
        for (const a of byTask.get(t)) assert.ok(ids.has(a.id), `acknowledged annotation ${a.id} of task ${t} is missing`);
      }));
    }
  });
});
