// quality.test.mjs -- the quality engine over HTTP: GET /v1/projects/{id}/quality
// (agreement overall and per label, the workers table, result confidence)
// on data whose agreement is known, and POST /v1/projects/{id}/aggregate,
// which refits the project's method and rewrites results a spammer had
// swayed.
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

let seq = 0;
async function annotator(p) {
  const m = await makeMember(srv, `quality-${++seq}@test.io`);
  expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${m.id}`, { role: 'annotator' }), 200);
  return m;
}

async function withTasks(p, ids) {
  const body = ids.map((id) => JSON.stringify({ unique_id: id, data: { text: id } })).join('\n');
  expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, body), 200);
}

/* Works the queue as `who` until it is empty, answering answer(unique_id)
 * (undefined: skip the task). */
async function work(p, who, answer) {
  for (;;) {
    const r = await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: who.key });
    const a = expectStatus(r, 200).assignment;
    if (!a) return;
    const response = answer(a.task.unique_id);
    if (response === undefined) {
      expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/skip`, { reason: 'not mine' }, { key: who.key }), 200);
      continue;
    }
    expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `q-${a.id}`, response }, { key: who.key }), 201);
  }
}

const quality = async (p, key) => srv.api('GET', `/v1/projects/${p.id}/quality`, undefined, key ? { key } : {});

describe('GET /v1/projects/{id}/quality', () => {
  it('reproduces Krippendorff\'s binary example: alpha 0.095, Fleiss 0.048, per label too', async () => {
    // Krippendorff (2011), example A: two observers, ten units.
    const A = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0];
    const B = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0];
    const p = await makeProject(srv, { overlap: 2, params: { labels: ['0', '1'] }, aggregation: 'majority' });
    const units = A.map((_, i) => `u${i}`);
    await withTasks(p, units);
    const [a, b] = [await annotator(p), await annotator(p)];
    await work(p, a, (u) => ({ labels: [String(A[units.indexOf(u)])] }));
    await work(p, b, (u) => ({ labels: [String(B[units.indexOf(u)])] }));
    const q = expectStatus(await quality(p), 200);
    assert.equal(q.method, 'majority');
    const o = q.agreement.overall;
    assert.equal(o.level, 'nominal');
    assert.equal(o.tasks, 10);
    assert.equal(o.annotations, 20);
    assert.ok(Math.abs(o.alpha - 0.095238) < 1e-6, `alpha ${o.alpha}`);
    assert.ok(Math.abs(o.fleiss_kappa - 0.047619) < 1e-6, `kappa ${o.fleiss_kappa}`);
    assert.ok(Math.abs(o.pairwise_agreement - 0.6) < 1e-9);
    // With two labels, each label's yes/no alpha is the overall alpha.
    assert.deepEqual(q.agreement.per_label.map((l) => l.label), ['0', '1']);
    for (const l of q.agreement.per_label) assert.ok(Math.abs(l.alpha - 0.095238) < 1e-6);
    assert.deepEqual(q.agreement.per_label.map((l) => l.annotations), [14, 6]);
    // Ten results: six unanimous (confidence 1), four split (0.5).
    assert.equal(q.confidence.results, 10);
    assert.equal(q.confidence.below_0_5, 0);
    assert.equal(q.confidence.histogram.length, 10);
    assert.equal(q.confidence.histogram[9].results, 6);
    assert.equal(q.confidence.histogram[5].results, 4);
    assert.ok(Math.abs(q.confidence.mean - 0.8) < 1e-9);
    assert.equal(q.workers.length, 2);
    for (const w of q.workers) assert.equal(w.tasks_done, 10);
  });

  it('is for managers: an annotator gets 403, an unknown project 404', async () => {
    const p = await makeProject(srv);
    const ann = await annotator(p);
    expectError(await quality(p, ann.key), 403);
    expectError(await srv.api('GET', '/v1/projects/999999/quality'), 404);
    // An empty project has nothing to measure yet, and says so with nulls.
    const q = expectStatus(await quality(p), 200);
    assert.equal(q.agreement.overall.alpha, null);
    assert.equal(q.confidence.results, 0);
    assert.equal(q.confidence.mean, null);
  });

  it('a kind without categories is measured with its own score (ratings)', async () => {
    const p = await makeProject(srv, { kind: 'rating', overlap: 3, params: { criteria: ['helpful'] } });
    await withTasks(p, ['a', 'b', 'c', 'd']);
    const truth = { a: 1, b: 2, c: 4, d: 5 };
    const ws = [await annotator(p), await annotator(p), await annotator(p)];
    for (const [i, w] of ws.entries()) await work(p, w, (u) => ({ ratings: { helpful: i === 2 && u === 'a' ? 5 : truth[u] } }));
    const q = expectStatus(await quality(p), 200);
    const o = q.agreement.overall;
    assert.equal(o.level, 'kind_score');
    assert.equal(o.tasks, 4);
    // 11 of 12 pairs agree exactly: pairwise 10/12; alpha well above 0.
    assert.ok(Math.abs(o.pairwise_agreement - 10 / 12) < 1e-9, `pairwise ${o.pairwise_agreement}`);
    assert.ok(o.alpha > 0.6 && o.alpha < 1, `alpha ${o.alpha}`);
    // The result is the median: the outlier on a does not move it.
    const tasks = expectStatus(await srv.api('GET', `/v1/tasks?project_id=${p.id}&status=completed`), 200).items;
    const a = tasks.find((t) => t.unique_id === 'a');
    assert.equal(a.result.response.ratings.helpful, 1);
    assert.ok(Math.abs(a.result.confidence - 2 / 3) < 1e-9);
    const refit = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/aggregate`), 200);
    assert.equal(refit.model, 'consolidation');
    assert.equal(refit.results, 4);
    assert.equal(refit.changed, 0);
  });
});

describe('POST /v1/projects/{id}/aggregate', () => {
  it('refits Dawid-Skene: a spammer who split the votes loses, skills are stored', async () => {
    // Twelve tasks, truth alternating; A, B and C are each wrong on two
    // tasks, D answers "cat" to everything.  On those six tasks the four
    // votes split 2-2, and the vote at completion can follow the spammer.
    const ids = Array.from({ length: 12 }, (_, i) => `t${i}`);
    const truth = (u) => (Number(u.slice(1)) % 2 ? 'dog' : 'cat');
    const flip = (l) => (l === 'cat' ? 'dog' : 'cat');
    const wrongFor = [[1, 3], [5, 7], [9, 11]];
    const p = await makeProject(srv, { overlap: 4, aggregation: 'dawid_skene' });
    await withTasks(p, ids);
    const ws = [await annotator(p), await annotator(p), await annotator(p), await annotator(p)];
    for (let i = 0; i < 3; i++) await work(p, ws[i], (u) => ({ labels: [wrongFor[i].includes(Number(u.slice(1))) ? flip(truth(u)) : truth(u)] }));
    await work(p, ws[3], () => ({ labels: ['cat'] }));
    const before = expectStatus(await srv.api('GET', `/v1/tasks?project_id=${p.id}&status=completed&limit=50`), 200).items;
    assert.equal(before.length, 12);
    const r = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/aggregate`), 200);
    assert.equal(r.method, 'dawid_skene');
    assert.equal(r.model, 'dawid_skene');
    assert.equal(r.annotations, 48);
    assert.equal(r.workers, 4);
    assert.equal(r.results, 12);
    const after = expectStatus(await srv.api('GET', `/v1/tasks?project_id=${p.id}&status=completed&limit=50`), 200).items;
    for (const t of after) {
      assert.deepEqual(t.result.response, { labels: [truth(t.unique_id)] }, `task ${t.unique_id}`);
      assert.ok(t.result.confidence > 0.5 && t.result.confidence <= 1);
      assert.equal(t.result.method, 'dawid_skene');
    }
    const wrongBefore = before.filter((t) => t.result.response.labels[0] !== truth(t.unique_id)).length;
    assert.equal(r.changed, wrongBefore, 'a new version for each result that changed, none for the rest');
    // Skills: the spammer's is the lowest; each is a probability.
    const q = expectStatus(await quality(p), 200);
    const skill = (w) => q.workers.find((x) => x.user_id === w.id).skill;
    for (const w of ws) assert.ok(skill(w) >= 0 && skill(w) <= 1);
    for (let i = 0; i < 3; i++) assert.ok(skill(ws[i]) > skill(ws[3]), `worker ${i} ${skill(ws[i])} vs spammer ${skill(ws[3])}`);
    // A second refit changes nothing and makes no versions.
    const again = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/aggregate`), 200);
    assert.equal(again.changed, 0);
    const versions = expectStatus(await srv.api('GET', `/v1/tasks/${after[0].id}/versions`), 200).items;
    assert.ok(versions.length <= 2);
  });

  it('leaves a result a reviewer fixed as they left it; gold calibrates the workers', async () => {
    // Two annotators say dog on both tasks; a reviewer fixes t0 to cat.
    // A gold task (cat) that both answered dog tells the model they are
    // wrong, yet the fixed result stays and the other keeps the workers' vote.
    const p = await makeProject(srv, { overlap: 2, review_levels: 1, aggregation: 'dawid_skene', gold_rate: 1 });
    await withTasks(p, ['t0', 't1']);
    expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, JSON.stringify({ unique_id: 'g0', expected_response: { labels: ['cat'] } })), 200);
    const [a, b] = [await annotator(p), await annotator(p)];
    await work(p, a, () => ({ labels: ['dog'] }));
    await work(p, b, () => ({ labels: ['dog'] }));
    const rev = await makeMember(srv, `quality-rev-${++seq}@test.io`);
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${rev.id}`, { role: 'reviewer' }), 200);
    for (;;) {
      const r = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/reviews/next`, undefined, { key: rev.key }), 200).assignment;
      if (!r) break;
      const body = r.task.unique_id === 't0' ? { action: 'fix', response: { labels: ['cat'] } } : { action: 'accept' };
      expectStatus(await srv.api('POST', `/v1/assignments/${r.id}/review`, body, { key: rev.key }), 200);
    }
    const out = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/aggregate`), 200);
    assert.equal(out.gold_tasks, 1);
    // Only t1 is looked at.  The model, taught by gold that these workers
    // say dog for cat, prefers cat there, which no one answered: the kind
    // makes that response ({"labels": ["cat"]}).
    assert.equal(out.results, 1, JSON.stringify(out));
    assert.equal(out.kept, 0);
    const tasks = expectStatus(await srv.api('GET', `/v1/tasks?project_id=${p.id}&status=completed`), 200).items;
    const byId = Object.fromEntries(tasks.map((t) => [t.unique_id, t]));
    assert.deepEqual(byId.t0.result.response, { labels: ['cat'] });
    assert.equal(byId.t0.result.method, 'review_fix');
    const v = expectStatus(await srv.api('GET', `/v1/tasks/${byId.t0.id}/versions`), 200).items;
    assert.equal(v.at(-1).source, 'fix');
    assert.deepEqual(byId.t1.result.response, { labels: ['cat'] });
    assert.equal(byId.t1.result.method, 'dawid_skene');
    // The gold answer says both workers were wrong once: their skill shows it.
    const q = expectStatus(await quality(p), 200);
    for (const w of q.workers) assert.ok(w.skill < 0.9, `skill ${w.skill}`);
  });

  it('several labels: each label is fitted on its own and the spammer who ticks everything loses', async () => {
    // Items t0..t7 have label a when bit 0 of the index is set, b on bit 1,
    // c on bit 2.  Workers 0-1 answer right; worker 2 ticks every label;
    // worker 3 is right except that it always adds c.
    const ids = Array.from({ length: 8 }, (_, i) => `t${i}`);
    const truth = (u) => ['a', 'b', 'c'].filter((_, l) => (Number(u.slice(1)) >> l) & 1);
    const p = await makeProject(srv, { overlap: 4, params: { labels: ['a', 'b', 'c'], multiple: true }, aggregation: 'dawid_skene' });
    await withTasks(p, ids);
    const ws = [await annotator(p), await annotator(p), await annotator(p), await annotator(p)];
    const pick = (l) => ({ labels: l.length ? l : ['a'] });
    await work(p, ws[0], (u) => pick(truth(u)));
    await work(p, ws[1], (u) => pick(truth(u)));
    await work(p, ws[2], () => ({ labels: ['a', 'b', 'c'] }));
    await work(p, ws[3], (u) => pick([...new Set([...truth(u), 'c'])]));
    const q = expectStatus(await quality(p), 200);
    assert.equal(q.agreement.overall.level, 'per_label');
    assert.deepEqual(q.agreement.per_label.map((l) => l.label), ['a', 'b', 'c']);
    const r = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/aggregate`), 200);
    assert.equal(r.model, 'dawid_skene');
    assert.equal(r.results, 8);
    const tasks = expectStatus(await srv.api('GET', `/v1/tasks?project_id=${p.id}&status=completed`), 200).items;
    for (const t of tasks) {
      const want = truth(t.unique_id);
      assert.deepEqual([...t.result.response.labels].sort(), want.length ? want : ['a'], `task ${t.unique_id}`);
      assert.ok(t.result.confidence > 0.5 && t.result.confidence <= 1);
    }
    const skills = expectStatus(await quality(p), 200).workers.map((w) => w.skill);
    assert.ok(skills[0] > skills[2] && skills[1] > skills[2], JSON.stringify(skills));
  });

  it('is for managers', async () => {
    const p = await makeProject(srv);
    const ann = await annotator(p);
    expectError(await srv.api('POST', `/v1/projects/${p.id}/aggregate`, undefined, { key: ann.key }), 403);
  });
});
