// autolabel.test.mjs -- auto-labeling (issue 9): once a model's precision
// on held-out human labels is known, the open tasks it predicts at or
// above the threshold chosen for the target precision are completed by the
// model (result method "auto_label", task auto_label "model", a
// task.completed callback like a human completion), a drawn share stays
// with humans as spot checks, the rest go to humans; the figures of
// GET /v1/projects/{id}/autolabel; bad settings are refused naming the
// field.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, it, expectError, expectStatus, makeProject, makeMember, listAll, sleep, SLOW } from './harness.mjs';

const other = (l) => (l === 'cat' ? 'dog' : 'cat');

describe('auto-labeling', () => {
  let srv, receiver, base, p, ann;
  const events = []; // task.completed bodies received
  const truth = {}; // unique_id -> label
  const predicted = {}; // unique_id -> {label, score}
  before(async () => {
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        events.push(JSON.parse(body));
        res.writeHead(200).end();
      });
    });
    await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${receiver.address().port}`;
    srv = await startServer({ args: ['--learn-ms', '200'], env: { LOUPE_CALLBACK_POLL_MS: '50' } });
    p = await makeProject(srv, {
      overlap: 1,
      callback_url: `${base}/cb`,
      auto_label: { model: 'm', target_precision: 0.9, spot_check_rate: 0.5, min_holdout: 40 },
    });
    // h0..h39, labelled by humans first: 30 sure and right (0.99 down to
    // 0.95), then ten from 0.70 down to 0.61, wrong and right in turn.
    // Going down, precision is 30/31 at 0.70 ... 33/36 = 0.917 at 0.65,
    // 33/37 = 0.892 at 0.64, and below 0.9 from there: the threshold for
    // 0.9 is 0.65.  Then t0..t39: twenty predicted at 0.9 (one in four
    // wrong), twenty at 0.5, all wrong (so that, labelled by humans, they
    // never bring the threshold down to 0.5 while the test runs).
    const tasks = [];
    const add = (uid, label, predLabel, score) => {
      truth[uid] = label;
      predicted[uid] = { label: predLabel, score };
      tasks.push({ unique_id: uid, data: { text: uid }, predictions: [{ model: 'm', response: { labels: [predLabel] }, score }] });
    };
    for (let i = 0; i < 30; i++) add(`h${i}`, i % 2 ? 'cat' : 'dog', i % 2 ? 'cat' : 'dog', 0.99 - 0.04 * (i / 29));
    for (let i = 0; i < 10; i++) add(`h${30 + i}`, 'cat', i % 2 ? 'cat' : 'dog', Number((0.7 - 0.01 * i).toFixed(2)));
    for (let i = 0; i < 40; i++) {
      const label = i % 2 ? 'cat' : 'dog';
      if (i < 20) add(`t${i}`, label, i % 4 === 3 ? other(label) : label, 0.9);
      else add(`t${i}`, label, other(label), 0.5);
    }
    expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, tasks), 200);
    ann = await makeMember(srv, 'auto@test.io');
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${ann.id}`, { role: 'annotator' }), 200);
  });
  after(async () => {
    await srv?.stop();
    await new Promise((r) => receiver?.close(r));
  });

  const report = async () => expectStatus(await srv.api('GET', `/v1/projects/${p.id}/autolabel`), 200);
  const allTasks = async () => Object.fromEntries((await listAll(srv, `/v1/projects/${p.id}/tasks`)).items.map((t) => [t.unique_id, t]));
  // The annotator answers n tasks the queue serves, truthfully; returns their unique_ids.
  const label = async (n) => {
    const seen = [];
    for (let k = 0; k < n; k++) {
      const as = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ann.key }), 200).assignment;
      if (!as) break;
      const t = expectStatus(await srv.api('GET', `/v1/assignments/${as.id}`, undefined, { key: ann.key }), 200).task;
      assert.equal(t.auto_label, undefined, 'an annotator is told a task is a spot check');
      expectStatus(await srv.api('POST', `/v1/assignments/${as.id}/submit`, { annotation_id: `a${as.id}`, response: { labels: [truth[t.unique_id]] } }, { key: ann.key }), 201);
      seen.push(t.unique_id);
    }
    return seen;
  };

  it('the setting is returned with its defaults, and bad values are refused naming the field', async () => {
    const plain = await makeProject(srv);
    assert.deepEqual(plain.auto_label, { enabled: false, model: 'loupe:builtin', target_precision: 0.95, spot_check_rate: 0.05, min_holdout: 100 });
    assert.deepEqual(p.auto_label, { enabled: false, model: 'm', target_precision: 0.9, spot_check_rate: 0.5, min_holdout: 40 });
    const body = (al) => ({ name: 'x', kind: 'categorization', params: { labels: ['a', 'b'] }, auto_label: al });
    expectError(await srv.api('POST', '/v1/projects', body({ target_precision: 1.5 })), 422, 'auto_label.target_precision');
    expectError(await srv.api('POST', '/v1/projects', body({ spot_check_rate: -0.1 })), 422, 'auto_label.spot_check_rate');
    expectError(await srv.api('POST', '/v1/projects', body({ min_holdout: 3 })), 422, 'auto_label.min_holdout');
    expectError(await srv.api('POST', '/v1/projects', body({ enabled: 'yes' })), 422, 'auto_label.enabled');
    expectError(await srv.api('POST', '/v1/projects', body({ threshold: 0.9 })), 422, 'auto_label.threshold');
    expectError(await srv.api('POST', '/v1/projects', body('on')), 422, 'auto_label');
    expectError(await srv.api('PATCH', `/v1/projects/${plain.id}`, { auto_label: { model: '' } }), 422, 'auto_label.model');
    // An update changes the keys it names and keeps the others; null resets.
    const u = expectStatus(await srv.api('PATCH', `/v1/projects/${plain.id}`, { auto_label: { target_precision: 0.99 } }), 200);
    assert.equal(u.auto_label.target_precision, 0.99);
    assert.equal(u.auto_label.spot_check_rate, 0.05);
    const r = expectStatus(await srv.api('PATCH', `/v1/projects/${plain.id}`, { auto_label: null }), 200);
    assert.equal(r.auto_label.target_precision, 0.95);
    // The figures are for managers.
    expectError(await srv.api('GET', `/v1/projects/${p.id}/autolabel`, undefined, { key: ann.key }), 403);
  });

  it('no threshold until min_holdout held-out pairs exist', async () => {
    const first = await label(20);
    assert.deepEqual(first, Array.from({ length: 20 }, (_, i) => `h${i}`));
    const r = await report();
    assert.equal(r.holdout, 20);
    assert.equal(r.threshold, null);
    assert.equal(r.eligible, 0);
  });

  it('the threshold is the lowest score meeting the target on the held-out pairs, reported with its interval', async () => {
    await label(20);
    const r = await report();
    assert.equal(r.holdout, 40);
    assert.equal(r.holdout_accuracy, 35 / 40);
    assert.equal(r.threshold, 0.65);
    assert.equal(r.holdout_above, 36);
    assert.ok(Math.abs(r.holdout_precision - 33 / 36) < 1e-9);
    assert.ok(r.holdout_precision_low < r.holdout_precision && r.holdout_precision < r.holdout_precision_high);
    assert.ok(Math.abs(r.holdout_precision_low - 0.7817) < 0.002, `Wilson low ${r.holdout_precision_low}`);
    assert.equal(r.eligible, 20); // t0..t19 at 0.9; t20..t39 at 0.5 are not
    assert.equal(r.auto_labeled, 0); // not enabled: nothing done
    await sleep(600);
    assert.equal((await report()).auto_labeled, 0);
    // A task leased and given back (in_progress, no lease) is still open.
    const ann2 = await makeMember(srv, 'auto2@test.io');
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${ann2.id}`, { role: 'annotator' }), 200);
    const as = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ann2.key }), 200).assignment;
    expectStatus(await srv.api('POST', `/v1/assignments/${as.id}/release`, undefined, { key: ann2.key }), 200);
    const t0 = expectStatus(await srv.api('GET', `/v1/tasks/${as.task_id}`), 200);
    assert.equal(t0.unique_id, 't0');
    assert.equal(t0.status, 'in_progress');
    assert.equal((await report()).eligible, 20);
  });

  it('enabled, the model completes the eligible tasks but the spot checks, once; humans get the rest', async () => {
    expectStatus(await srv.api('PATCH', `/v1/projects/${p.id}`, { auto_label: { enabled: true } }), 200);
    let r;
    const deadline = Date.now() + 20000 * SLOW;
    do {
      await sleep(100);
      r = await report();
      assert.ok(Date.now() < deadline, `the rounds did not decide the eligible tasks: ${JSON.stringify(r)}`);
    } while (r.auto_labeled + r.spot_checks < 20);
    assert.equal(r.auto_labeled + r.spot_checks, 20);
    assert.ok(r.spot_checks >= 1 && r.spot_checks <= 19, `${r.spot_checks} spot checks of 20 at rate 0.5`);
    assert.equal(r.eligible, 0);
    const ts = await allTasks();
    const byModel = Object.values(ts).filter((t) => t.auto_label === 'model');
    const spots = Object.values(ts).filter((t) => t.auto_label === 'spot_check');
    assert.equal(byModel.length, r.auto_labeled);
    for (const t of byModel) {
      assert.match(t.unique_id, /^t/);
      assert.ok(Number(t.unique_id.slice(1)) < 20);
      assert.equal(t.status, 'completed');
      assert.equal(t.result.method, 'auto_label');
      assert.equal(t.result.model, 'm');
      assert.equal(t.result.confidence, 0.9);
      assert.deepEqual(t.result.response, { labels: [predicted[t.unique_id].label] });
    }
    for (const t of spots) assert.ok(['pending', 'in_progress'].includes(t.status));
    assert.ok(['model', 'spot_check'].includes(ts.t0.auto_label), 'the task given back was decided too');
    // The low-scored tasks are untouched.
    for (let i = 20; i < 40; i++) assert.equal(ts[`t${i}`].auto_label, undefined);
    // The list filters by it.
    const listed = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/tasks?auto_label=model&limit=100`), 200).items;
    assert.deepEqual(listed.map((t) => t.id).sort(), byModel.map((t) => t.id).sort());
    expectError(await srv.api('GET', `/v1/projects/${p.id}/tasks?auto_label=maybe`), 400, 'auto_label');
    // Later rounds draw no spot check again.
    await sleep(800);
    const later = await report();
    assert.equal(later.spot_checks, r.spot_checks);
    assert.equal(later.auto_labeled, r.auto_labeled);
    // Each auto-label sent task.completed, saying it was the model's.
    const deadline2 = Date.now() + 10000 * SLOW;
    const auto = () => events.filter((e) => e.type === 'task.completed' && e.data.auto_label === 'model');
    while (auto().length < byModel.length && Date.now() < deadline2) await sleep(100);
    assert.equal(auto().length, byModel.length);
    assert.ok(auto().every((e) => e.data.result.method === 'auto_label' && e.data.status === 'completed'));

    // The humans get the spot checks and the low-scored tasks, never a task
    // the model labelled.
    const served = await label(100);
    assert.equal(served.length, spots.length + 20);
    const spotIds = new Set(spots.map((t) => t.unique_id));
    assert.ok(served.every((u) => spotIds.has(u) || Number(u.slice(1)) >= 20));
    // The spot checks measure the auto-labels: right when the prediction was.
    const right = spots.filter((t) => predicted[t.unique_id].label === truth[t.unique_id]).length;
    const fin = await report();
    assert.equal(fin.spot_checks_labeled, spots.length);
    assert.ok(Math.abs(fin.spot_check_precision - right / spots.length) < 1e-9);
    assert.ok(fin.spot_check_precision_low <= fin.spot_check_precision);
    // The spot checks and the low-scored tasks join the held-out pairs.
    assert.equal(fin.holdout, 40 + spots.length + 20);
  });

  it('an audit that rejects a model label sends it to humans, and the model does not label it again', async () => {
    const t = Object.values(await allTasks()).find((x) => x.auto_label === 'model');
    expectStatus(await srv.api('POST', `/v1/tasks/${t.id}/audit`, { accepted: false, comment: 'wrong' }), 200);
    await sleep(600);
    const again = expectStatus(await srv.api('GET', `/v1/tasks/${t.id}`), 200);
    assert.equal(again.auto_label, 'returned');
    assert.equal(again.status, 'pending');
    assert.deepEqual(await label(5), [t.unique_id]);
  });

  it('a prediction put on a task humans already labelled says so, and is not held out', async () => {
    const before = (await report()).holdout;
    const r = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/predictions`, [{ unique_id: 'h0', model: 'm', response: { labels: ['dog'] }, score: 0.99 }]), 200);
    assert.equal(r.updated, 1);
    const h0 = (await allTasks()).h0;
    assert.equal(h0.predictions[0].after_labels, true);
    assert.equal((await report()).holdout, before - 1);
  });
});

// The built-in model end to end: it learns the first answers, predicts the
// open tasks, the next answers are its held-out sample, and then it labels
// the tasks it is sure of by itself.
const GOOD = ['good', 'great', 'wonderful', 'lovely'];
const BAD = ['bad', 'awful', 'terrible', 'poor'];
const sentence = (words, i) => `the film was ${words[i % 4]}, ${words[(i + 1) % 4]} and ${words[(i + 2) % 4]} overall`;

describe('auto-labeling with the built-in model', () => {
  let srv, p, ann;
  const truth = {};
  before(async () => {
    srv = await startServer({ args: ['--learn-ms', '100'] });
    p = await makeProject(srv, {
      params: { labels: ['pos', 'neg'], builtin_model: true },
      overlap: 1,
      auto_label: { enabled: true, target_precision: 0.9, spot_check_rate: 0, min_holdout: 20 },
    });
    const tasks = [];
    for (let i = 0; i < 120; i++) {
      const pos = i % 2 === 0;
      truth[`s${i}`] = pos ? 'pos' : 'neg';
      tasks.push({ unique_id: `s${i}`, data: { text: sentence(pos ? GOOD : BAD, i) } });
    }
    expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, tasks), 200);
    ann = await makeMember(srv, 'builtin-auto@test.io');
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${ann.id}`, { role: 'annotator' }), 200);
  });
  after(async () => {
    await srv?.stop();
  });

  const report = async () => expectStatus(await srv.api('GET', `/v1/projects/${p.id}/autolabel`), 200);
  const answer = async () => {
    const as = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ann.key }), 200).assignment;
    if (!as) return null;
    const t = expectStatus(await srv.api('GET', `/v1/assignments/${as.id}`, undefined, { key: ann.key }), 200).task;
    expectStatus(await srv.api('POST', `/v1/assignments/${as.id}/submit`, { annotation_id: `b${as.id}`, response: { labels: [truth[t.unique_id]] } }, { key: ann.key }), 201);
    return t;
  };

  it('labels the tasks it is sure of once its held-out precision is known, and right', async () => {
    for (let n = 0; n < 8; n++) await answer();
    // Wait for its predictions on the open tasks.
    const deadline = Date.now() + 20000 * SLOW;
    for (;;) {
      const open = (await listAll(srv, `/v1/projects/${p.id}/tasks?status=pending`)).items;
      if (open.length && open.every((t) => t.predictions?.some((x) => x.model === 'loupe:builtin'))) break;
      assert.ok(Date.now() < deadline, 'the open tasks were not predicted');
      await sleep(100);
    }
    // Before min_holdout answers on predicted tasks, nothing is labelled by the model.
    assert.equal((await report()).auto_labeled, 0);
    // The next answers are held out: each was predicted before it was answered.
    for (let n = 0; n < 30; n++) {
      const t = await answer();
      if (!t) break;
      assert.ok(t.predictions?.some((x) => x.model === 'loupe:builtin'), `task ${t.unique_id} served without a prediction`);
    }
    let r;
    const deadline2 = Date.now() + 20000 * SLOW;
    do {
      await sleep(150);
      r = await report();
      assert.ok(Date.now() < deadline2, `nothing was auto-labeled: ${JSON.stringify(r)}`);
    } while (r.auto_labeled === 0 || r.eligible > 0);
    assert.ok(r.holdout >= 20, `holdout ${r.holdout}`);
    assert.ok(r.threshold >= 0.5 && r.threshold <= 1);
    assert.ok(r.holdout_precision >= 0.9);
    const done = (await listAll(srv, `/v1/projects/${p.id}/tasks?auto_label=model`)).items;
    assert.equal(done.length, r.auto_labeled);
    const right = done.filter((t) => t.result.response.labels[0] === truth[t.unique_id]).length;
    assert.ok(right >= 0.9 * done.length, `${right} of ${done.length} auto-labels right`);
    for (const t of done) {
      const pr = t.predictions.find((x) => x.model === 'loupe:builtin');
      assert.equal(t.result.model, 'loupe:builtin');
      assert.equal(t.result.confidence, pr.score);
      assert.deepEqual(t.result.response, pr.response);
    }
  });
});
