// learner.test.mjs -- the built-in model (issue 9): a categorization
// project with params.builtin_model learns its accepted annotations as
// they arrive and predicts its open tasks (model "loupe:builtin", the
// label's probability as the score), which the queue of a project with
// strategy uncertainty then follows; nothing happens to other projects.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, it, expectError, expectStatus, makeMember, sleep, psql, TEST_DB_URL } from './harness.mjs';

// Each sentence has three of its class's four words, so that twelve
// answers see every word whichever twelve the queue serves.
const GOOD = ['good', 'great', 'wonderful', 'lovely'];
const BAD = ['bad', 'awful', 'terrible', 'poor'];
const sentence = (words, i) => `the film was ${words[i % 4]}, ${words[(i + 1) % 4]} and ${words[(i + 2) % 4]} overall`;

describe('built-in model', () => {
  let srv, p, plain, ann, truth;
  before(async () => {
    srv = await startServer({ args: ['--learn-ms', '100'] });
    const body = (extra) => ({ name: `m-${Math.random()}`, kind: 'categorization', params: { labels: ['pos', 'neg'], ...extra }, overlap: 1 });
    p = expectStatus(await srv.api('POST', '/v1/projects', { ...body({ builtin_model: true }), strategy: 'uncertainty' }), 201);
    plain = expectStatus(await srv.api('POST', '/v1/projects', body({})), 201);
    truth = {};
    const tasks = [];
    for (let i = 0; i < 60; i++) {
      const pos = i % 2 === 0;
      const uid = `s${i}`;
      truth[uid] = pos ? 'pos' : 'neg';
      tasks.push({ unique_id: uid, data: { text: sentence(pos ? GOOD : BAD, i) } });
    }
    for (const proj of [p, plain]) expectStatus(await srv.api('POST', `/v1/projects/${proj.id}/tasks`, tasks), 200);
    ann = await makeMember(srv, 'learn@test.io');
    for (const proj of [p, plain]) expectStatus(await srv.api('PUT', `/v1/projects/${proj.id}/members/${ann.id}`, { role: 'annotator' }), 200);
  });
  after(async () => {
    await srv?.stop();
  });

  const openTasks = async (proj) => (await srv.api('GET', `/v1/projects/${proj.id}/tasks?status=pending&limit=1000`)).body.items;

  it('learns the annotations and predicts every open task, with the right label for nearly all', async () => {
    // No annotation yet: nothing learned, nothing predicted.
    await sleep(400);
    assert.ok((await openTasks(p)).every((t) => !t.predictions?.length), 'predicted before learning anything');
    // The annotator answers twelve tasks truthfully.
    for (let n = 0; n < 12; n++) {
      const as = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ann.key }), 200).assignment;
      const t = expectStatus(await srv.api('GET', `/v1/assignments/${as.id}`, undefined, { key: ann.key }), 200).task;
      expectStatus(await srv.api('POST', `/v1/assignments/${as.id}/submit`, { annotation_id: `l${n}`, response: { labels: [truth[t.unique_id]] } }, { key: ann.key }), 201);
    }
    // Wait until every open task is predicted and the predictions stay the
    // same for a while (the model has learned all twelve answers).
    let open = [];
    let last = '';
    let stableSince = 0;
    const deadline = Date.now() + 30000;
    for (;;) {
      open = await openTasks(p);
      const all = open.length && open.every((t) => t.predictions?.some((x) => x.model === 'loupe:builtin'));
      const now = JSON.stringify(open.map((t) => t.predictions));
      if (!all || now !== last) stableSince = Date.now();
      last = now;
      if (all && Date.now() - stableSince >= 1000) break;
      assert.ok(Date.now() < deadline, 'the open tasks were not all predicted, stably, within 30 s');
      await sleep(100);
    }
    assert.equal(open.length, 48);
    let right = 0;
    for (const t of open) {
      const pr = t.predictions.find((x) => x.model === 'loupe:builtin');
      assert.ok(pr.score >= 0.5 && pr.score <= 1, `score ${pr.score}`);
      assert.equal(pr.response.labels.length, 1);
      // every label's probability, for the margin and entropy measures
      const probs = Object.values(pr.probabilities ?? {});
      assert.equal(probs.length, 2, `probabilities ${JSON.stringify(pr.probabilities)}`);
      assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-9);
      assert.ok(Math.abs(pr.probabilities[pr.response.labels[0]] - pr.score) < 1e-9);
      if (pr.response.labels[0] === truth[t.unique_id]) right++;
    }
    assert.ok(right >= 43, `only ${right} of 48 predicted right`);
    // The project without the model has no predictions.
    assert.ok((await openTasks(plain)).every((t) => !t.predictions?.length));
  });

  it('the uncertainty queue then serves the least sure prediction first', async () => {
    const open = await openTasks(p);
    const scores = open.map((t) => t.predictions.find((x) => x.model === 'loupe:builtin').score);
    const least = Math.min(...scores);
    const as = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ann.key }), 200).assignment;
    const t = expectStatus(await srv.api('GET', `/v1/assignments/${as.id}`, undefined, { key: ann.key }), 200).task;
    const mine = (await srv.api('GET', `/v1/tasks/${t.id}`)).body.predictions.find((x) => x.model === 'loupe:builtin').score;
    assert.ok(mine <= least + 0.02, `served a task scored ${mine}; the least sure was ${least}`);
  });

  it('a task imported later is predicted without waiting for another annotation', async () => {
    expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, [{ unique_id: 'later', data: { text: sentence(GOOD, 2) } }]), 200);
    const deadline = Date.now() + 20000;
    for (;;) {
      const t = (await openTasks(p)).find((x) => x.unique_id === 'later');
      const pr = t?.predictions?.find((x) => x.model === 'loupe:builtin');
      if (pr) {
        assert.deepEqual(pr.response, { labels: ['pos'] });
        break;
      }
      assert.ok(Date.now() < deadline, 'the new task was not predicted');
      await sleep(100);
    }
  });

  it('builtin_model is a categorization setting: a boolean there, unknown elsewhere', async () => {
    expectError(await srv.api('POST', '/v1/projects', { name: 'x', kind: 'categorization', params: { labels: ['a', 'b'], builtin_model: 'yes' } }), 422, 'params.builtin_model');
    expectError(await srv.api('POST', '/v1/projects', { name: 'y', kind: 'rating', params: { criteria: [{ name: 'q', min: 1, max: 5 }], builtin_model: true } }), 422, 'params.builtin_model');
  });
});

// Several processes on one PostgreSQL database: one of them learns and
// predicts a project (the lease in worker_leases), and when it stops
// another takes the project over.
describe('built-in model with two processes on one database', { skip: !TEST_DB_URL && 'needs LOUPE_TEST_DB_URL (PostgreSQL)' }, () => {
  let a, b;
  after(async () => {
    await a?.stop();
    await b?.stop();
  });

  it('one process holds the project; when it stops, the other takes it over and predicts', async () => {
    a = await startServer({ args: ['--learn-ms', '100'] });
    b = await startServer({ shareWith: a, args: ['--learn-ms', '100'] });
    const p = expectStatus(await a.api('POST', '/v1/projects', { name: 'two', kind: 'categorization', params: { labels: ['pos', 'neg'], builtin_model: true }, overlap: 1 }), 201);
    const tasks = [];
    for (let i = 0; i < 20; i++) tasks.push({ unique_id: `d${i}`, data: { text: sentence(i % 2 ? GOOD : BAD, i) } });
    expectStatus(await a.api('POST', `/v1/projects/${p.id}/tasks`, tasks), 200);
    const who = await makeMember(a, 'two@test.io');
    expectStatus(await a.api('PUT', `/v1/projects/${p.id}/members/${who.id}`, { role: 'annotator' }), 200);
    const answer = async (srv, n) => {
      const as = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: who.key }), 200).assignment;
      const t = expectStatus(await srv.api('GET', `/v1/assignments/${as.id}`, undefined, { key: who.key }), 200).task;
      const label = t.data.text.includes('good') || t.data.text.includes('great') || t.data.text.includes('wonderful') || t.data.text.includes('lovely') ? 'pos' : 'neg';
      expectStatus(await srv.api('POST', `/v1/assignments/${as.id}/submit`, { annotation_id: `two-${n}`, response: { labels: [label] } }, { key: who.key }), 201);
    };
    for (let n = 0; n < 4; n++) await answer(n % 2 ? a : b, n);
    const leases = async () => {
      for (;;) {
        const rows = psql(a.dbUrl, `SELECT owner FROM worker_leases WHERE name = 'learner' AND project_id = ${p.id}`);
        if (rows.length) return rows;
        await sleep(50);
      }
    };
    const first = await leases();
    assert.equal(first.length, 1);
    await sleep(500); // many rounds of both: the lease stays with its holder
    assert.deepEqual(await leases(), first);
    const open = async () => (await a.api('GET', `/v1/projects/${p.id}/tasks?status=pending&limit=100`)).body.items;
    const deadline = Date.now() + 20000;
    while (!(await open()).every((t) => t.predictions?.some((x) => x.model === 'loupe:builtin'))) {
      assert.ok(Date.now() < deadline, 'the open tasks were not predicted');
      await sleep(100);
    }
    // Stop whichever holds it (its lease is given back at once); the other
    // takes over, learns from the database, and predicts a new task.
    // (which process holds it is not visible from outside: stop a, then see)
    await a.stop();
    a = null;
    const rest = b;
    expectStatus(await rest.api('POST', `/v1/projects/${p.id}/tasks`, [{ unique_id: 'late', data: { text: sentence(GOOD, 1) } }]), 200);
    const deadline2 = Date.now() + 20000;
    for (;;) {
      const late = (await rest.api('GET', `/v1/projects/${p.id}/tasks?limit=100`)).body.items.find((t) => t.unique_id === 'late');
      if (late.predictions?.some((x) => x.model === 'loupe:builtin')) break;
      assert.ok(Date.now() < deadline2, 'no process predicted the new task after one stopped');
      await sleep(100);
    }
    const now = psql(rest.dbUrl, `SELECT owner FROM worker_leases WHERE name = 'learner' AND project_id = ${p.id}`);
    assert.equal(now.length, 1);
  });
});
