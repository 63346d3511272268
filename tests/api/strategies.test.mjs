// strategies.test.mjs -- the queue strategies of issue 9 over HTTP:
// disagreement (the task whose accepted annotations disagree most gets its
// next annotator first, and a task sent back to annotation disputes
// nothing), the project's uncertainty_measure (least confidence and margin
// order a crafted pair of tasks differently; changing the measure rescores
// the tasks; predictions added later follow it), and the 422s that name
// a bad measure or a bad probabilities field.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, it, expectError, expectStatus, makeProject, makeMember } from './harness.mjs';

describe('queue strategies', () => {
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  async function annotator(p, email) {
    const a = await makeMember(srv, email);
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${a.id}`, { role: 'annotator' }), 200);
    return a;
  }
  const next = async (p, a) => expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: a.key }), 200).assignment;
  const submit = async (as, a, label) =>
    expectStatus(await srv.api('POST', `/v1/assignments/${as.id}/submit`, { annotation_id: `s-${as.id}`, response: { labels: [label] } }, { key: a.key }), 201);
  const skip = async (as, a) => expectStatus(await srv.api('POST', `/v1/assignments/${as.id}/skip`, { reason: 'later' }, { key: a.key }), 200);

  it('strategy disagreement: the disputed task gets its next annotator first; sent back to annotation it disputes nothing', async () => {
    const p = await makeProject(srv, { strategy: 'disagreement', overlap: 3 });
    assert.equal(p.strategy, 'disagreement');
    expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, ['t0', 't1', 't2', 't3'].map((u) => ({ unique_id: u, data: { text: u } }))), 200);
    const list = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/tasks?limit=10`), 200).items;
    const id = Object.fromEntries(list.map((t) => [t.unique_id, t.id]));
    const [a1, a2, a3, a4] = await Promise.all(['d1', 'd2', 'd3', 'd4'].map((n) => annotator(p, `${n}@strat.io`)));
    // a1 answers cat on t0, t1, t2 (nothing to disagree on yet: id order).
    for (const u of ['t0', 't1', 't2']) {
      const as = await next(p, a1);
      assert.equal(as.task_id, id[u]);
      await submit(as, a1, 'cat');
    }
    // a2 passes t0, agrees on t1, disagrees on t2.
    let as = await next(p, a2);
    assert.equal(as.task_id, id.t0);
    await skip(as, a2);
    as = await next(p, a2);
    assert.equal(as.task_id, id.t1);
    await submit(as, a2, 'cat');
    as = await next(p, a2);
    assert.equal(as.task_id, id.t2);
    await submit(as, a2, 'dog');
    // a3: t2 (cat vs dog) first, before the older t0 (one answer) and t1 (agreed).
    as = await next(p, a3);
    assert.equal(as.task_id, id.t2, 'the disputed task comes first');
    await submit(as, a3, 'dog'); // t2 has its three answers: completed
    as = await next(p, a3);
    assert.equal(as.task_id, id.t0, 'then the others in order: one answer ties with none at 0');
    expectStatus(await srv.api('POST', `/v1/assignments/${as.id}/release`, {}, { key: a3.key }), 200);
    // The customer rejects t2: its answers are returned, so it disputes nothing
    // and a new annotator starts from the oldest task again.
    const au = expectStatus(await srv.api('POST', `/v1/tasks/${id.t2}/audit`, { accepted: false, comment: 'redo' }), 200);
    assert.equal(au.status, 'pending');
    as = await next(p, a4);
    assert.equal(as.task_id, id.t0, 'a task sent back keeps no disagreement');
  });

  it('uncertainty_measure: least confidence and margin order a crafted pair differently, a change rescores the tasks, and new predictions follow it', async () => {
    const p = await makeProject(srv, { strategy: 'uncertainty', overlap: 5, params: { labels: ['cat', 'dog', 'bird'] } });
    assert.equal(p.uncertainty_measure, 'least_confidence', 'the default');
    const pr = (probabilities, score) => [{ model: 'm', response: { labels: ['cat'] }, score, probabilities }];
    // close: (0.55, 0.45) -- least confidence 0.45, margin 0.9;
    // spread: (0.5, 0.25, 0.25) -- least confidence 0.5, margin 0.75.
    expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, [
      { unique_id: 'close', data: { text: 'a' }, predictions: pr({ cat: 0.55, dog: 0.45 }, 0.55) },
      { unique_id: 'spread', data: { text: 'b' }, predictions: pr({ cat: 0.5, dog: 0.25, bird: 0.25 }, 0.5) },
      { unique_id: 'sure', data: { text: 'c' }, predictions: pr({ cat: 0.9, dog: 0.05, bird: 0.05 }, 0.9) },
    ]), 200);
    const list = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/tasks?limit=10`), 200).items;
    const id = Object.fromEntries(list.map((t) => [t.unique_id, t.id]));
    assert.deepEqual(list.find((t) => t.unique_id === 'close').predictions[0].probabilities, { cat: 0.55, dog: 0.45 });
    const first = async (email) => (await next(p, await annotator(p, email))).task_id;
    assert.equal(await first('lc@strat.io'), id.spread, 'least confidence: 1 - 0.5 > 1 - 0.55');
    const up = expectStatus(await srv.api('PATCH', `/v1/projects/${p.id}`, { uncertainty_measure: 'margin' }), 200);
    assert.equal(up.uncertainty_measure, 'margin');
    assert.equal(expectStatus(await srv.api('GET', `/v1/projects/${p.id}`), 200).uncertainty_measure, 'margin');
    assert.equal(await first('m1@strat.io'), id.close, 'margin: 1 - 0.1 > 1 - 0.25');
    // A prediction added now is scored under margin: 'sure' becomes a near tie.
    expectStatus(await srv.api('POST', `/v1/projects/${p.id}/predictions`, [{ unique_id: 'sure', model: 'm', response: { labels: ['cat'] }, score: 0.34, probabilities: { cat: 0.34, dog: 0.33, bird: 0.33 } }]), 200);
    assert.equal(await first('m2@strat.io'), id.sure, 'margin: 1 - 0.01');
    // Entropy (over log K): the near-uniform 'sure' (1.00) stays first, then
    // close (0.99, two outcomes) before spread (0.95, three).
    expectStatus(await srv.api('PATCH', `/v1/projects/${p.id}`, { uncertainty_measure: 'entropy' }), 200);
    const e = await annotator(p, 'e1@strat.io');
    const order = [];
    for (let as; (as = await next(p, e)); ) {
      order.push(as.task_id);
      await submit(as, e, 'cat');
    }
    assert.deepEqual(order, [id.sure, id.close, id.spread]);
  });

  it('a bad measure or strategy names its field; bad probabilities name theirs, by index', async () => {
    const p = await makeProject(srv, {});
    expectError(await srv.api('PATCH', `/v1/projects/${p.id}`, { uncertainty_measure: 'confusion' }), 422, 'uncertainty_measure');
    expectError(await srv.api('PATCH', `/v1/projects/${p.id}`, { uncertainty_measure: 3 }), 422, 'uncertainty_measure');
    expectError(await srv.api('POST', '/v1/projects', { name: 'x', kind: 'categorization', params: { labels: ['a'] }, uncertainty_measure: '' }), 422, 'uncertainty_measure');
    expectError(await srv.api('PATCH', `/v1/projects/${p.id}`, { strategy: 'disputes' }), 422, 'strategy');
    expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, [{ unique_id: 'x', data: { text: 'x' } }]), 200);
    const item = (probabilities) => ({ unique_id: 'x', model: 'm', response: { labels: ['cat'] }, score: 0.5, probabilities });
    const r = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/predictions`, [
      item({ cat: 0.5, dog: 0.5 }),
      item({ cat: 1.5 }),
      item({ cat: 0.7, dog: 0.4 }),
      item(['cat']),
      item({}),
      item({ cat: 'high' }),
    ]), 200);
    assert.equal(r.updated, 1);
    assert.deepEqual(r.errors.map((x) => [x.index, x.field]), [
      [1, '[1].probabilities.cat'],
      [2, '[2].probabilities'],
      [3, '[3].probabilities'],
      [4, '[4].probabilities'],
      [5, '[5].probabilities.cat'],
    ]);
    assert.match(r.errors[1].message, /sum to 1\.1/);
    expectError(await srv.api('POST', '/v1/tasks', { project_id: p.id, data: { text: 'y' }, predictions: [{ model: 'm', response: { labels: ['cat'] }, probabilities: { cat: -1 } }] }), 422, 'predictions[0].probabilities.cat');
  });
});
