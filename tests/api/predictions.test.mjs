// predictions.test.mjs -- pre-labels (issue 9): predictions added to tasks
// that exist (POST /v1/projects/{id}/predictions), one per model on a task,
// checked as the kind's responses, reported item by item; and how each
// model fared with the annotators (GET .../predictions/stats): the share
// of its pre-labels accepted unchanged, its agreement with the annotations
// and with the results.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, it, expectError, expectStatus, makeProject, makeMember } from './harness.mjs';

describe('predictions', () => {
  let srv, p, ids, ann1, ann2;
  before(async () => {
    srv = await startServer();
    p = await makeProject(srv, { overlap: 2 });
    const tasks = Array.from({ length: 4 }, (_, i) => ({ unique_id: `t${i}`, data: { text: `text ${i}` } }));
    expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, tasks), 200);
    const list = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/tasks?limit=100`), 200).items;
    ids = Object.fromEntries(list.map((t) => [t.unique_id, t.id]));
    ann1 = await makeMember(srv, 'p1@pred.io');
    ann2 = await makeMember(srv, 'p2@pred.io');
    for (const a of [ann1, ann2]) expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${a.id}`, { role: 'annotator' }), 200);
  });
  after(async () => {
    await srv?.stop();
  });

  it('adds predictions by task_id or unique_id, one per model (a new one replaces the old), and reports each bad item by index and field', async () => {
    const r = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/predictions`, [
      { task_id: ids.t0, model: 'm-v1', response: { labels: ['cat'] }, score: 0.9 },
      { unique_id: 't1', model: 'm-v1', response: { labels: ['dog'] }, score: 0.6 },
      { unique_id: 't2', model: 'm-v1', response: { labels: ['cow'] } },
      { unique_id: 'nope', model: 'm-v1', response: { labels: ['cat'] } },
      { task_id: ids.t3, response: { labels: ['cat'] } },
      { task_id: ids.t3, unique_id: 't3', model: 'm-v1', response: { labels: ['cat'] } },
      { unique_id: 't2', model: 'm-v1', response: { labels: ['cat'] }, score: 2 },
      { unique_id: 't2', model: 'm-v1', response: { labels: ['cat'] }, extra: 1 },
      { unique_id: 't2', model: 'm-v1', response: { labels: ['cat'] }, score: 0.7 },
      { unique_id: 't0', model: 'm-v2', response: { labels: ['dog'] }, score: 0.55 },
    ]), 200);
    assert.equal(r.updated, 4);
    assert.deepEqual(r.errors.map((e) => [e.index, e.field]), [
      [2, '[2].response.labels[0]'],
      [3, '[3].unique_id'],
      [4, '[4].model'],
      [5, '[5]'],
      [6, '[6].score'],
      [7, '[7].extra'],
    ]);
    const t0 = expectStatus(await srv.api('GET', `/v1/tasks/${ids.t0}`), 200);
    assert.deepEqual(t0.predictions.map((x) => x.model), ['m-v1', 'm-v2']);
    // The same model again replaces its prediction.
    expectStatus(await srv.api('POST', `/v1/projects/${p.id}/predictions`, [{ task_id: ids.t0, model: 'm-v1', response: { labels: ['cat'] }, score: 0.95 }]), 200);
    const again = expectStatus(await srv.api('GET', `/v1/tasks/${ids.t0}`), 200);
    assert.deepEqual(again.predictions, [
      { model: 'm-v1', response: { labels: ['cat'] }, score: 0.95 },
      { model: 'm-v2', response: { labels: ['dog'] }, score: 0.55 },
    ]);
  });

  it('refuses a body that is not a non-empty array, tasks of another project, and callers who are not managers', async () => {
    expectError(await srv.api('POST', `/v1/projects/${p.id}/predictions`, { model: 'x' }), 422, 'body');
    expectError(await srv.api('POST', `/v1/projects/${p.id}/predictions`, []), 422, 'body');
    const q = await makeProject(srv);
    const r = expectStatus(await srv.api('POST', `/v1/projects/${q.id}/predictions`, [{ task_id: ids.t0, model: 'x', response: { labels: ['cat'] } }]), 200);
    assert.equal(r.updated, 0);
    assert.equal(r.errors[0].field, '[0].task_id');
    expectError(await srv.api('POST', `/v1/projects/${p.id}/predictions`, [{ task_id: ids.t0, model: 'x', response: { labels: ['cat'] } }], { key: ann1.key }), 403);
    expectError(await srv.api('GET', `/v1/projects/${p.id}/predictions/stats`, undefined, { key: ann1.key }), 403);
  });

  it('strategy uncertainty: the queue serves the tasks the models are least sure of first (no score counts as unsure), and follows new predictions', async () => {
    const u = await makeProject(srv, { strategy: 'uncertainty', overlap: 1 });
    const pred = (score) => [{ model: 'm', response: { labels: ['cat'] }, ...(score === undefined ? {} : { score }) }];
    expectStatus(await srv.api('POST', `/v1/projects/${u.id}/tasks`, [
      { unique_id: 'sure', data: { text: 'a' }, predictions: pred(0.99) },
      { unique_id: 'mid', data: { text: 'b' }, predictions: pred(0.7) },
      { unique_id: 'none', data: { text: 'c' } },
      { unique_id: 'noscore', data: { text: 'd' }, predictions: pred() },
      { unique_id: 'unsure', data: { text: 'e' }, predictions: pred(0.51) },
      { unique_id: 'later', data: { text: 'f' }, predictions: pred(0.95) },
    ]), 200);
    // A second model grows sure of one task: its best score counts.
    expectStatus(await srv.api('POST', `/v1/projects/${u.id}/predictions`, [{ unique_id: 'later', model: 'm2', response: { labels: ['dog'] }, score: 0.6 }, { unique_id: 'mid', model: 'm2', response: { labels: ['dog'] }, score: 0.98 }]), 200);
    const a = await makeMember(srv, 'u1@pred.io');
    expectStatus(await srv.api('PUT', `/v1/projects/${u.id}/members/${a.id}`, { role: 'annotator' }), 200);
    const order = [];
    for (;;) {
      const as = expectStatus(await srv.api('GET', `/v1/projects/${u.id}/queue/next`, undefined, { key: a.key }), 200).assignment;
      if (!as) break;
      const t = expectStatus(await srv.api('GET', `/v1/assignments/${as.id}`, undefined, { key: a.key }), 200);
      order.push(t.task.unique_id);
      expectStatus(await srv.api('POST', `/v1/assignments/${as.id}/submit`, { annotation_id: `u-${as.id}`, response: { labels: ['cat'] } }, { key: a.key }), 201);
    }
    // none and noscore (1), unsure (0.49), later (0.05: its best is 0.95), mid (0.02), sure (0.01)
    assert.deepEqual(order, ['none', 'noscore', 'unsure', 'later', 'mid', 'sure']);
    expectError(await srv.api('PATCH', `/v1/projects/${u.id}`, { strategy: 'confused' }), 422, 'strategy');
  });

  it('reports per model the share of pre-labels accepted unchanged and the agreement with annotations and results', async () => {
    // t0: m-v1 says cat, m-v2 dog; t1: m-v1 dog; t2: m-v1 cat.  Both
    // annotators answer cat everywhere.
    for (const a of [ann1, ann2]) {
      for (;;) {
        const lease = await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: a.key });
        const as = expectStatus(lease, 200).assignment;
        if (!as) break;
        expectStatus(await srv.api('POST', `/v1/assignments/${as.id}/submit`, { annotation_id: `${a.id}-${as.id}`, response: { labels: ['cat'] } }, { key: a.key }), 201);
      }
    }
    const s = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/predictions/stats`), 200);
    const v1 = s.models.find((m) => m.model === 'm-v1');
    const v2 = s.models.find((m) => m.model === 'm-v2');
    assert.equal(s.models[0].model, 'm-v1', 'most predicted tasks first');
    assert.equal(v1.tasks, 3);
    assert.equal(v1.annotated, 3);
    assert.equal(v1.annotations, 6);
    assert.equal(v1.unchanged, 4); // t0 and t2, twice each
    assert.ok(Math.abs(v1.unchanged_share - 4 / 6) < 1e-9);
    assert.ok(Math.abs(v1.agreement - 4 / 6) < 1e-9);
    assert.ok(Math.abs(v1.result_agreement - 2 / 3) < 1e-9, `result agreement ${v1.result_agreement}`);
    assert.ok(Math.abs(v1.mean_score - (0.95 + 0.6 + 0.7) / 3) < 1e-9);
    assert.equal(v2.tasks, 1);
    assert.equal(v2.unchanged, 0);
    assert.equal(v2.unchanged_share, 0);
    assert.equal(v2.result_agreement, 0);
  });
});
