// mlbackend.test.mjs -- a project's ML backend (issue 9), against a Label
// Studio ML backend of the tests' own (mlserver.mjs): set-up with the
// project's labeling config, predictions in batches with a concurrency
// limit, training events for accepted annotations, and a backend that is
// slow, fails and answers garbage -- while annotators and imports go on
// unhindered, errors are reported, and nothing is lost.
import { describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, it, expectError, expectStatus, makeMember, sleep, SLOW, until } from './harness.mjs';
import { startMlBackend } from './mlserver.mjs';


describe('ML backends', () => {
  let srv, ml, ann;
  before(async () => {
    srv = await startServer({ args: ['--allow-private-outbound', '--ml-poll-ms', '50', '--ml-retry-ms', '100'] });
    ml = await startMlBackend();
    ann = await makeMember(srv, 'ml-ann@test.io');
  });
  after(async () => {
    await srv?.stop();
    await ml?.close();
  });
  beforeEach(() => {
    ml.state.mode = 'ok';
    ml.state.delayMs = 0;
  });

  let seq = 0;
  async function project(n, text = (i) => (i % 2 ? `a good film ${i}` : `a dull film ${i}`)) {
    const p = expectStatus(await srv.api('POST', '/v1/projects', { name: `ml-${++seq}`, kind: 'categorization', params: { labels: ['pos', 'neg'] }, overlap: 1 }), 201);
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${ann.id}`, { role: 'annotator' }), 200);
    if (n) await addTasks(p, n, text);
    return p;
  }
  async function addTasks(p, n, text, from = 0) {
    const tasks = [];
    for (let i = from; i < from + n; i++) tasks.push({ unique_id: `t${i}`, data: { text: text(i) } });
    expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, tasks), 200);
  }
  const tasksOf = async (p) => (await srv.api('GET', `/v1/projects/${p.id}/tasks?limit=1000`)).body.items;
  const status = async (p) => expectStatus(await srv.api('GET', `/v1/projects/${p.id}/ml-backend`), 200);
  const predicted = (t, model = 'fake-v1') => t.predictions?.find((x) => x.model === model);

  it('refuses bad settings with the field named, and kinds without Label Studio regions', async () => {
    const p = await project(0);
    const put = (body) => srv.api('PUT', `/v1/projects/${p.id}/ml-backend`, body);
    expectError(await put({}), 422, 'url');
    expectError(await put({ url: 'ftp://x.example' }), 422, 'url');
    expectError(await put({ url: ml.url, batch_size: 0 }), 422, 'batch_size');
    expectError(await put({ url: ml.url, timeout_ms: 5 }), 422, 'timeout_ms');
    expectError(await put({ url: ml.url, max_concurrency: 99 }), 422, 'max_concurrency');
    expectError(await put({ url: ml.url, retries: -1 }), 422, 'retries');
    expectError(await put({ url: ml.url, train: 'yes' }), 422, 'train');
    expectError(await put({ url: ml.url, colour: 'red' }), 422, 'colour');
    expectError(await srv.api('GET', `/v1/projects/${p.id}/ml-backend`), 404);
    const cmp = expectStatus(await srv.api('POST', '/v1/projects', { name: 'ml-cmp', kind: 'comparison', params: {} }), 201);
    expectError(await srv.api('PUT', `/v1/projects/${cmp.id}/ml-backend`, { url: ml.url }), 422, 'project');
    expectError(await srv.api('POST', `/v1/projects/${p.id}/ml-backend/predict`, { tasks: 'all' }), 404);
  });

  it('refuses a private address unless the admin allows private outbound', async () => {
    const strict = await startServer({ env: { LOUPE_ALLOW_PRIVATE_OUTBOUND: '0' } });
    try {
      const p = expectStatus(await strict.api('POST', '/v1/projects', { name: 'strict', kind: 'categorization', params: { labels: ['a', 'b'] } }), 201);
      const e = expectError(await strict.api('PUT', `/v1/projects/${p.id}/ml-backend`, { url: ml.url }), 422, 'url');
      assert.match(e.message, /loopback.*--allow-private-outbound/);
    } finally {
      await strict.stop();
    }
  });

  it('sets the backend up, predicts every task in batches within the concurrency limit, and reports it', async () => {
    const p = await project(30);
    ml.state.batches = [];
    ml.state.maxInflight = 0;
    ml.state.delayMs = 100;
    const s0 = expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/ml-backend`, { url: `${ml.url}/`, batch_size: 4, max_concurrency: 2 }), 200);
    assert.equal(s0.url, `${ml.url}/`);
    assert.equal(s0.batch_size, 4);
    assert.equal(s0.timeout_ms, 30000);
    assert.equal(s0.train, true);
    const tasks = await until('every task predicted', async () => {
      const ts = await tasksOf(p);
      return ts.every((t) => predicted(t)) && ts;
    });
    ml.state.delayMs = 0;
    for (const t of tasks) {
      const pr = predicted(t);
      assert.deepEqual(pr.response, { labels: [t.data.text.includes('good') ? 'pos' : 'neg'] });
      assert.equal(pr.score, 0.9);
    }
    assert.ok(ml.state.batches.every((n) => n >= 1 && n <= 4), `batch sizes ${ml.state.batches}`);
    // Eight batches of 100 ms each: two at a time, never more.
    assert.equal(ml.state.maxInflight, 2, `${ml.state.maxInflight} calls at once`);
    const setup = ml.state.setups.find((x) => x.project?.startsWith(`${p.id}.`));
    assert.ok(setup, 'no /setup for the project');
    assert.match(setup.schema, /<Choices name="label" toName="text"/);
    assert.match(setup.schema, /<Choice value="pos"\/>/);
    const s = await until('the status to count 30', async () => {
      const x = await status(p);
      return x.predicted === 30 && x;
    });
    assert.equal(s.state, 'ok');
    assert.equal(s.set_up, true);
    assert.equal(s.model_version, 'fake-v1');
    assert.equal(s.queue.done, 30);
    assert.equal(s.queue.waiting + s.queue.failed, 0);
    assert.equal(s.failures, 0);
    // The queue follows the predictions: the uncertainty of the tasks fell.
    const stats = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/predictions/stats`), 200);
    assert.equal(stats.models.find((m) => m.model === 'fake-v1').tasks, 30);
    // New tasks are predicted as they arrive.
    await addTasks(p, 5, (i) => `good news ${i}`, 100);
    await until('the new tasks predicted', async () => (await tasksOf(p)).filter((t) => predicted(t)).length === 35);
    // Asked again, every task is sent again.
    const before = ml.state.calls.predict;
    const q = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/ml-backend/predict`, { tasks: 'all' }), 200);
    assert.equal(q.queued, 35);
    await until('the tasks sent again', async () => (await status(p)).predicted === 70);
    assert.ok(ml.state.calls.predict > before);
    expectError(await srv.api('POST', `/v1/projects/${p.id}/ml-backend/predict`, { tasks: 'some' }), 422, 'tasks');
    expectError(await srv.api('POST', `/v1/projects/${p.id}/ml-backend/predict`, { task_ids: [999999] }), 422, 'task_ids[0]');
  });

  it('sends each accepted annotation made after connecting to /webhook for training, once, in Label Studio form', async () => {
    const p = await project(4);
    const submit = async (n) => {
      const as = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ann.key }), 200).assignment;
      expectStatus(await srv.api('POST', `/v1/assignments/${as.id}/submit`, { annotation_id: `w${p.id}-${n}`, response: { labels: ['neg'] } }, { key: ann.key }), 201);
    };
    await submit('before'); // made before the backend: not sent, as Label Studio would not
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/ml-backend`, { url: ml.url }), 200);
    const mine = () => ml.state.webhooks.filter((w) => w.project?.id === p.id);
    for (let n = 0; n < 2; n++) {
      const as = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ann.key }), 200).assignment;
      expectStatus(await srv.api('POST', `/v1/assignments/${as.id}/submit`, { annotation_id: `w${p.id}-${n}`, response: { labels: ['neg'] } }, { key: ann.key }), 201);
    }
    await until('two training events', async () => mine().length >= 2);
    await sleep(500); // (a duplicate would arrive meanwhile)
    const events = mine();
    assert.equal(events.length, 2, `events for annotations ${events.map((e) => e.annotation.id)}`);
    for (const ev of events) {
      assert.equal(ev.action, 'ANNOTATION_CREATED');
      assert.deepEqual(ev.annotation.result.map((r) => [r.type, r.from_name, r.to_name, r.value.choices]), [['choices', 'label', 'text', ['neg']]]);
      assert.equal(typeof ev.task.data.text, 'string');
      assert.equal(ev.annotation.task, ev.task.id);
      assert.match(ev.project.label_config, /<Choices name="label" toName="text"/);
      assert.match(ev.annotation.created_at, /^\d{4}-\d\d-\d\dT/);
    }
    assert.equal(new Set(events.map((e) => e.annotation.id)).size, events.length, 'an annotation sent twice');
    await until('the status to count them', async () => (await status(p)).trained === 2);
  });

  it('a failing backend is retried with growing pauses, reported, and hinders no one', async () => {
    const p = await project(0);
    ml.state.mode = 'fail';
    ml.state.predictTimes = [];
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/ml-backend`, { url: ml.url, batch_size: 10, retries: 20, train: false }), 200);
    const t0 = Date.now();
    await addTasks(p, 10, (i) => `good ${i}`);
    assert.ok(Date.now() - t0 < 3000 * SLOW, 'the import waited for the backend');
    const s = await until('the failures reported', async () => {
      const x = await status(p);
      return x.failures >= 4 && x;
    });
    assert.match(s.last_error, /\/predict answered HTTP 500: .*fell over/);
    assert.ok(['failing', 'paused'].includes(s.state), s.state);
    assert.ok(s.failures_in_a_row >= 4);
    assert.ok(s.task_errors.length > 0 && s.task_errors.every((e) => /HTTP 500/.test(e.error)));
    // The pauses grow (100 ms doubling, +-20%).
    const ts = ml.state.predictTimes;
    const gaps = ts.slice(1).map((t, i) => t - ts[i]);
    assert.ok(gaps.length >= 3, `gaps ${gaps}`);
    assert.ok(gaps[gaps.length - 1] > gaps[0], `the pauses did not grow: ${gaps}`);
    // The annotator works on, quickly.
    const as = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ann.key }), 200).assignment;
    assert.ok(as);
    const t1 = Date.now();
    expectStatus(await srv.api('POST', `/v1/assignments/${as.id}/submit`, { annotation_id: `f${p.id}`, response: { labels: ['pos'] } }, { key: ann.key }), 201);
    assert.ok(Date.now() - t1 < 2000 * SLOW);
    // It recovers: the open tasks get their predictions.
    ml.state.mode = 'ok';
    await until('the open tasks predicted after the recovery', async () => {
      const open = (await tasksOf(p)).filter((t) => t.status === 'pending');
      return open.length === 9 && open.every((t) => predicted(t));
    });
    const after = await until('the status back to ok', async () => {
      const x = await status(p);
      return x.state === 'ok' && x;
    });
    assert.equal(after.failures_in_a_row, 0);
    assert.equal((await tasksOf(p)).length, 10, 'a task was lost');
  });

  it('a backend that hangs is cut off by the time-out; annotators and imports do not wait', async () => {
    const p = await project(0);
    ml.state.mode = 'hang';
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/ml-backend`, { url: ml.url, timeout_ms: 300, retries: 20, train: false, max_concurrency: 4 }), 200);
    const t0 = Date.now();
    await addTasks(p, 200, (i) => `text ${i}`);
    assert.ok(Date.now() - t0 < 3000 * SLOW, 'the import waited for the backend');
    const s = await until('the time-out reported', async () => {
      const x = await status(p);
      return x.failures >= 1 && x;
    });
    assert.match(s.last_error, /\/predict: no complete reply within 300 ms/);
    for (let n = 0; n < 5; n++) {
      const t1 = Date.now();
      const as = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ann.key }), 200).assignment;
      expectStatus(await srv.api('POST', `/v1/assignments/${as.id}/submit`, { annotation_id: `h${p.id}-${n}`, response: { labels: ['neg'] } }, { key: ann.key }), 201);
      assert.ok(Date.now() - t1 < 1000 * SLOW, `an annotator waited ${Date.now() - t1} ms`);
    }
    ml.state.mode = 'ok';
    await until('the predictions after the backend answers again', async () => (await status(p)).predicted >= 195, 60000 * SLOW);
  });

  it('garbage is reported: a body that is not JSON, a wrong number of results, a label the project lacks', async () => {
    const p = await project(6, (i) => (i < 2 ? `odd one ${i}` : `good one ${i}`));
    ml.state.mode = 'garbage';
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/ml-backend`, { url: ml.url, batch_size: 6, retries: 20, train: false }), 200);
    await until('the garbage reported', async () => /answered something that is not JSON/.test((await status(p)).last_error ?? ''));
    ml.state.mode = 'short';
    await until('the short answer reported', async () => /answered 5 results for 6 tasks/.test((await status(p)).last_error ?? ''));
    // One task's bad prediction fails that task alone; with retries 0 it is
    // marked failed at once.
    ml.state.mode = 'badlabel';
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/ml-backend`, { url: ml.url, batch_size: 6, retries: 0, train: false }), 200);
    const s = await until('the bad tasks failed and the others predicted', async () => {
      const x = await status(p);
      return x.queue.failed === 2 && x.queue.done === 4 && x;
    });
    assert.equal(s.task_errors.filter((e) => e.state === 'failed').length, 2);
    assert.ok(s.task_errors.every((e) => /nope/.test(e.error)), JSON.stringify(s.task_errors));
    const ts = await tasksOf(p);
    assert.equal(ts.filter((t) => predicted(t)).length, 4);
    assert.ok(ts.filter((t) => t.data.text.startsWith('odd')).every((t) => !predicted(t)));
    // Fixed, the failed ones are asked for again.
    ml.state.mode = 'ok';
    const q = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/ml-backend/predict`, { tasks: 'failed' }), 200);
    assert.equal(q.queued, 2);
    await until('all six predicted', async () => (await tasksOf(p)).every((t) => predicted(t)));
  });

  it('image tasks get one labeling config with an Image in /setup, /predict and /webhook', async () => {
    const p = expectStatus(await srv.api('POST', '/v1/projects', { name: `ml-img-${++seq}`, kind: 'categorization', params: { labels: ['pos', 'neg'] }, overlap: 1 }), 201);
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${ann.id}`, { role: 'annotator' }), 200);
    const tasks = [0, 1].map((i) => ({ unique_id: `img${i}`, attachments: [{ type: 'image', url: `https://img.example/${i}.png` }] }));
    expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, tasks), 200);
    const before = ml.state.batches.length;
    ml.state.lastPredict = null;
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/ml-backend`, { url: ml.url }), 200);
    await until('predicted', async () => (await tasksOf(p)).every((t) => predicted(t)));
    assert.ok(ml.state.batches.length > before);
    const setup = ml.state.setups.find((x) => x.project?.startsWith(`${p.id}.`));
    assert.match(setup.schema, /<Image name="image" value="\$image"\/>/);
    assert.match(setup.schema, /<Choices name="label" toName="image"/);
    const req = ml.state.predictRequests.find((r) => r.project.startsWith(`${p.id}.`));
    assert.equal(req.label_config, setup.schema);
    assert.ok(req.tasks.every((t) => /^https:\/\/img\.example\/\d\.png$/.test(t.data.image)), JSON.stringify(req.tasks));
    const as = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ann.key }), 200).assignment;
    expectStatus(await srv.api('POST', `/v1/assignments/${as.id}/submit`, { annotation_id: `img-${p.id}`, response: { labels: ['pos'] } }, { key: ann.key }), 201);
    const ev = await until('the training event', async () => ml.state.webhooks.find((w) => w.project?.id === p.id));
    assert.equal(ev.project.label_config, setup.schema);
    assert.equal(ev.annotation.result[0].to_name, 'image');
  });

  it("a backend may read Loupe with Label Studio's Token scheme (LABEL_STUDIO_API_KEY)", async () => {
    const ok = await fetch(`${srv.base}/v1/me`, { headers: { Authorization: `Token ${srv.key}` } });
    assert.equal(ok.status, 200);
    const bad = await fetch(`${srv.base}/v1/me`, { headers: { Authorization: 'Token nope' } });
    assert.equal(bad.status, 401);
    const odd = await fetch(`${srv.base}/v1/me`, { headers: { Authorization: `Digest ${srv.key}` } });
    assert.equal(odd.status, 401);
    assert.match((await odd.json()).error.message, /Bearer KEY.*Token KEY/);
  });

  it('a server stopped while a call hangs stops at once, records nothing of the cut-off call, and predicts after its restart', async () => {
    const own = await startServer({ args: ['--allow-private-outbound', '--ml-poll-ms', '50', '--ml-retry-ms', '100'] });
    let again = null;
    try {
      const p = expectStatus(await own.api('POST', '/v1/projects', { name: 'ml-stop', kind: 'categorization', params: { labels: ['pos', 'neg'] } }), 201);
      expectStatus(await own.api('POST', `/v1/projects/${p.id}/tasks`, [{ data: { text: 'good' } }, { data: { text: 'bad' } }]), 200);
      ml.state.mode = 'hang';
      const hungBefore = ml.state.calls.predict;
      expectStatus(await own.api('PUT', `/v1/projects/${p.id}/ml-backend`, { url: ml.url, timeout_ms: 600000, retries: 0, train: false }), 200);
      await until('the call to hang', async () => ml.state.calls.predict > hungBefore);
      const t0 = Date.now();
      await own.stop({ keepDir: true });
      assert.ok(Date.now() - t0 < 5000 * SLOW, `the stop took ${Date.now() - t0} ms with a call in flight`);
      ml.state.mode = 'ok';
      again = await startServer({ dir: own.dir, key: own.key, args: ['--allow-private-outbound', '--ml-poll-ms', '50', '--ml-retry-ms', '100'] });
      const s0 = expectStatus(await again.api('GET', `/v1/projects/${p.id}/ml-backend`), 200);
      assert.equal(s0.failures, 0, `the cut-off call was recorded: ${s0.last_error}`);
      assert.equal(s0.queue.failed, 0);
      // The stopping server gave its claims back (else they would lapse only
      // after the time-out, 10 minutes): the tasks are sent at once.
      await until('predicted after the restart', async () => (await again.api('GET', `/v1/projects/${p.id}/tasks?limit=10`)).body.items.every((t) => t.predictions?.length));
    } finally {
      await again?.stop();
    }
  });

  it('disconnecting keeps the predictions', async () => {
    const p = await project(3);
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/ml-backend`, { url: ml.url }), 200);
    await until('predicted', async () => (await tasksOf(p)).every((t) => predicted(t)));
    expectStatus(await srv.api('DELETE', `/v1/projects/${p.id}/ml-backend`), 200);
    expectError(await srv.api('GET', `/v1/projects/${p.id}/ml-backend`), 404);
    expectError(await srv.api('DELETE', `/v1/projects/${p.id}/ml-backend`), 404);
    assert.ok((await tasksOf(p)).every((t) => predicted(t)));
  });
});
