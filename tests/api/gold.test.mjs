// gold.test.mjs -- gold tasks and worker quality over HTTP: gold mixed into
// the queue at gold_rate, calibration, scoring against expected_response,
// the workers table, pausing below min_gold_accuracy, and reinstatement.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, it, expectError, expectStatus, makeProject, makeMember } from './harness.mjs';

let srv;

before(async () => {
  srv = await startServer();
});
after(async () => {
  await srv?.stop();
});

/* A categorization project (cat, dog) with n real tasks and the gold
 * answers given (one gold task each). */
async function project(extra, { real = 0, gold = [] } = {}) {
  const p = await makeProject(srv, extra);
  const rows = [];
  for (let i = 0; i < real; i++) rows.push({ unique_id: `r${i}` });
  gold.forEach((label, i) => rows.push({ unique_id: `g${i}`, expected_response: { labels: [label] } }));
  if (rows.length) {
    const b = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, rows.map((r) => JSON.stringify(r)).join('\n')), 200);
    assert.equal(b.created, rows.length);
  }
  return p;
}

let seq = 0;
async function annotator(p) {
  const m = await makeMember(srv, `gold-${++seq}@test.io`);
  expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${m.id}`, { role: 'annotator' }), 200);
  return m;
}

const next = async (p, who) => expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: who.key }), 200).assignment;
const isGold = async (taskId) => expectStatus(await srv.api('GET', `/v1/tasks/${taskId}`), 200).is_gold;
const submit = (a, who, label) =>
  srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `s-${a.id}`, response: { labels: [label] } }, { key: who.key });
const workers = async (p) => expectStatus(await srv.api('GET', `/v1/projects/${p.id}/workers`), 200).items;

describe('gold tasks in the queue', () => {
  it('a gold task is created in status gold, counted apart, and never offered without gold_rate', async () => {
    const p = await project({ overlap: 1 }, { real: 2, gold: ['cat'] });
    const full = expectStatus(await srv.api('GET', `/v1/projects/${p.id}`), 200);
    assert.equal(full.counts.gold, 1);
    assert.equal(full.counts.pending, 2);
    assert.equal(full.min_gold_count, 5);
    assert.equal(full.calibration_count, 0);
    const listed = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/tasks?status=gold`), 200);
    assert.equal(listed.items.length, 1);
    assert.equal(listed.items[0].is_gold, true);
    const ann = await annotator(p);
    for (let i = 0; i < 2; i++) {
      const a = await next(p, ann);
      assert.equal(await isGold(a.task_id), false);
      expectStatus(await submit(a, ann, 'cat'), 201);
    }
    assert.equal(await next(p, ann), null, 'with gold_rate 0 a gold task must not be served');
  });

  it('gold_rate 1 serves gold while the worker has unseen gold; it looks like any task and never completes', async () => {
    const p = await project({ overlap: 2, gold_rate: 1 }, { real: 3, gold: ['cat', 'dog'] });
    const ann = await annotator(p);
    const kinds = [];
    for (let i = 0; i < 5; i++) {
      const a = await next(p, ann);
      const gold = await isGold(a.task_id);
      kinds.push(gold);
      assert.equal(a.task.status, 'in_progress', 'a gold task shows as work in progress');
      assert.ok(!('is_gold' in a.task) && !('expected_response' in a.task));
      const s = expectStatus(await submit(a, ann, 'cat'), 201);
      assert.ok(!('score' in s), 'the submit must not reveal a score');
      if (gold) assert.equal(s.task_status, 'in_progress');
    }
    assert.deepEqual(kinds, [true, true, false, false, false]);
    assert.equal(await next(p, ann), null);
    // Gold is exempt from overlap: a second worker answers the same gold tasks.
    const ann2 = await annotator(p);
    const a = await next(p, ann2);
    assert.equal(await isGold(a.task_id), true);
    expectStatus(await submit(a, ann2, 'dog'), 201);
    const g = expectStatus(await srv.api('GET', `/v1/tasks/${a.task_id}`), 200);
    assert.equal(g.status, 'gold');
    assert.equal(g.result, undefined, 'a gold task has no consensus result');
    // Gold is mixed into real work only: with no real task, no gold.
    const empty = await project({ overlap: 1, gold_rate: 1 }, { gold: ['cat'] });
    assert.equal(await next(empty, await annotator(empty)), null, 'gold served with no real work');
  });

  it('gold_rate 0.5 mixes about half gold, at no fixed pattern', async () => {
    const p = await project({ overlap: 1, gold_rate: 0.5 }, { real: 80, gold: Array(80).fill('cat') });
    const ann = await annotator(p);
    const seen = [];
    for (let i = 0; i < 60; i++) {
      const a = await next(p, ann);
      seen.push(await isGold(a.task_id));
      expectStatus(await submit(a, ann, 'cat'), 201);
    }
    const gold = seen.filter(Boolean).length;
    // Binomial(60, 0.5): outside 12..48 has probability below 1e-5.
    assert.ok(gold >= 12 && gold <= 48, `${gold} gold tasks in 60 leases at gold_rate 0.5`);
  });

  it('calibration: a new worker\'s first calibration_count tasks are gold, even before real work exists', async () => {
    const p = await project({ overlap: 1, calibration_count: 2 }, { gold: ['cat', 'dog', 'cat'] });
    const ann = await annotator(p);
    for (let i = 0; i < 2; i++) {
      const a = await next(p, ann);
      assert.equal(await isGold(a.task_id), true);
      expectStatus(await submit(a, ann, 'cat'), 201);
    }
    assert.equal(await next(p, ann), null, 'after calibration, gold only comes at gold_rate');
    const r = expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id, unique_id: 'late' }), 201);
    const a = await next(p, ann);
    assert.equal(a.task_id, r.id);
  });

  it('a gold task in a batch does not hold the batch open; a gold task can be canceled', async () => {
    const p = await makeProject(srv, { overlap: 1 });
    const b = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/batches`, { name: 'b1' }), 201);
    const rows = [{ batch_id: b.id, unique_id: 'x' }, { batch_id: b.id, unique_id: 'g', expected_response: { labels: ['cat'] } }];
    expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, rows.map((r) => JSON.stringify(r)).join('\n')), 200);
    expectStatus(await srv.api('POST', `/v1/batches/${b.id}/finalize`), 200);
    const ann = await annotator(p);
    const a = await next(p, ann);
    expectStatus(await submit(a, ann, 'cat'), 201);
    const batch = expectStatus(await srv.api('GET', `/v1/batches/${b.id}`), 200);
    assert.equal(batch.status, 'completed');
    assert.equal(batch.counts.gold, 1);
    const g = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/tasks?status=gold`), 200).items[0];
    const c = expectStatus(await srv.api('POST', `/v1/tasks/${g.id}/cancel`), 200);
    assert.equal(c.status, 'canceled');
  });

  it('the new quality fields are validated and named', async () => {
    expectError(await srv.api('POST', '/v1/projects', { name: 'q', kind: 'categorization', params: { labels: ['a'] }, min_gold_count: 0 }), 422, 'min_gold_count');
    expectError(await srv.api('POST', '/v1/projects', { name: 'q', kind: 'categorization', params: { labels: ['a'] }, calibration_count: -1 }), 422, 'calibration_count');
    expectError(await srv.api('POST', '/v1/projects', { name: 'q', kind: 'categorization', params: { labels: ['a'] }, calibration_count: 'two' }), 422, 'calibration_count');
    const p = await makeProject(srv, { min_gold_count: 3, calibration_count: 4 });
    const u = expectStatus(await srv.api('PATCH', `/v1/projects/${p.id}`, { min_gold_count: 7 }), 200);
    assert.equal(u.min_gold_count, 7);
    assert.equal(u.calibration_count, 4);
  });
});

describe('worker quality', () => {
  it('gold accuracy is scored per answer; a worker below min_gold_accuracy is paused, then reinstated', async () => {
    const p = await project({ overlap: 1, gold_rate: 1, min_gold_accuracy: 0.7, min_gold_count: 3 },
      { real: 10, gold: ['cat', 'cat', 'cat', 'cat', 'cat', 'cat'] });
    const good = await annotator(p);
    const bad = await annotator(p);
    // The good worker answers three gold tasks right.
    for (let i = 0; i < 3; i++) expectStatus(await submit(await next(p, good), good, 'cat'), 201);
    // The bad worker: right, wrong, then wrong -- 1/3 after three gold answers.
    expectStatus(await submit(await next(p, bad), bad, 'cat'), 201);
    expectStatus(await submit(await next(p, bad), bad, 'dog'), 201);
    const row = (await workers(p)).find((w) => w.user_id === bad.id);
    assert.equal(row.paused, false, 'two gold answers are fewer than min_gold_count');
    assert.equal(row.gold_answered, 2);
    assert.equal(row.gold_accuracy, 0.5);
    expectStatus(await submit(await next(p, bad), bad, 'dog'), 201);
    const r = await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: bad.key });
    expectError(r, 403);
    assert.equal(r.body.error.code, 'paused');
    assert.match(r.body.error.message, /gold accuracy 0\.33 over 3 gold tasks is below the project's minimum 0\.70/);
    expectError(await srv.api('GET', `/v1/projects/${p.id}/reviews/next`, undefined, { key: bad.key }), 403);
    const table = await workers(p);
    const b = table.find((w) => w.user_id === bad.id);
    const g = table.find((w) => w.user_id === good.id);
    assert.equal(b.paused, true);
    assert.match(b.pause_reason, /below the project's minimum/);
    assert.equal(b.gold_answered, 3);
    assert.ok(Math.abs(b.gold_accuracy - 1 / 3) < 1e-9);
    assert.equal(g.paused, false);
    assert.equal(g.gold_accuracy, 1);
    assert.equal(g.gold_answered, 3);
    // Only a manager reinstates; then the worker works again and accuracy
    // counts afresh (one more wrong answer does not pause at once).
    expectError(await srv.api('POST', `/v1/projects/${p.id}/workers/${bad.id}/reinstate`, undefined, { key: good.key }), 403);
    const back = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/workers/${bad.id}/reinstate`), 200);
    assert.equal(back.paused, false);
    assert.equal(back.gold_answered, 3, 'the answer is the worker\'s whole row');
    const a = await next(p, bad);
    assert.ok(a, 'a reinstated worker gets work');
    expectStatus(await submit(a, bad, 'dog'), 201);
    assert.ok(await next(p, bad));
  });

  it('a manager pauses a worker: their open lease is given back and a late submit is kept as rejected', async () => {
    const p = await project({ overlap: 1 }, { real: 1 });
    const w1 = await annotator(p);
    const w2 = await annotator(p);
    const a = await next(p, w1);
    expectError(await srv.api('POST', `/v1/projects/${p.id}/workers/${w1.id}/pause`, {}), 422, 'reason');
    expectError(await srv.api('POST', `/v1/projects/${p.id}/workers/${w1.id}/pause`), 422, 'reason');
    expectError(await srv.api('POST', `/v1/projects/${p.id}/workers/999999/pause`, { reason: 'x' }), 404);
    const row = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/workers/${w1.id}/pause`, { reason: 'spam answers' }), 200);
    assert.equal(row.paused, true);
    assert.equal(row.pause_reason, 'spam answers');
    const lease = expectStatus(await srv.api('GET', `/v1/assignments/${a.id}`, undefined, { key: w1.key }), 200);
    assert.equal(lease.status, 'released');
    assert.equal(lease.reason, 'paused');
    // The freed slot goes to the other worker.
    const b = await next(p, w2);
    assert.equal(b.task_id, a.task_id);
    // The paused worker's late submit is refused but kept.
    const late = await submit(a, w1, 'cat');
    expectError(late, 409);
    assert.match(late.body.error.message, /paused/);
    const anns = expectStatus(await srv.api('GET', `/v1/tasks/${a.task_id}/annotations`), 200).items;
    assert.equal(anns.length, 1);
    assert.equal(anns[0].status, 'rejected');
    const paused = (await workers(p)).find((w) => w.user_id === w1.id);
    assert.equal(paused.paused, true);
  });

  it('a worker paused before working here still shows in the table', async () => {
    const p = await project({ overlap: 1 }, { real: 1 });
    const w = await annotator(p);
    expectStatus(await srv.api('POST', `/v1/projects/${p.id}/workers/${w.id}/pause`, { reason: 'not trained yet' }), 200);
    const row = (await workers(p)).find((x) => x.user_id === w.id);
    assert.equal(row.paused, true);
    assert.equal(row.tasks_done, 0);
  });

  it('agreement with consensus is the kind\'s score against the result', async () => {
    const p = await project({ overlap: 3 }, { real: 1 });
    const ws = [await annotator(p), await annotator(p), await annotator(p)];
    const labels = ['cat', 'cat', 'dog'];
    for (let i = 0; i < 3; i++) expectStatus(await submit(await next(p, ws[i]), ws[i], labels[i]), 201);
    const table = await workers(p);
    assert.deepEqual(ws.map((w) => table.find((x) => x.user_id === w.id).agreement_with_consensus), [1, 1, 0]);
  });
});
