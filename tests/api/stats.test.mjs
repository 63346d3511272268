// stats.test.mjs -- GET /v1/projects/{id}/stats, the manager's dashboard
// figures: tasks by status, throughput per day or hour (accepted
// annotations, and tasks completed, at the review decision when there is
// one), labels given in results and annotations for any kind with
// categories, and the median and 90th percentile of the time from lease
// to submit.  Exact numbers on small projects built here; bad windows get
// 400 naming the field; annotators 403.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, it, expectError, expectStatus, makeProject, makeMember, sleep } from './harness.mjs';

let srv;

before(async () => {
  srv = await startServer();
});
after(async () => {
  await srv?.stop();
});

const DAY = 86400000;
const HOUR = 3600000;

let seq = 0;
async function member(p, role = 'annotator') {
  const m = await makeMember(srv, `stats-${++seq}@test.io`);
  expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${m.id}`, { role }), 200);
  return m;
}

async function withTasks(p, rows) {
  const body = rows.map((r) => JSON.stringify(r)).join('\n');
  const out = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, body), 200);
  assert.equal(out.created, rows.length, `bulk import: ${JSON.stringify(out)}`);
}

/* Works the queue as `who` until it is empty, answering answer(unique_id)
 * (undefined: skip).  Returns the assignments it submitted. */
async function work(p, who, answer) {
  const done = [];
  for (;;) {
    const r = await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: who.key });
    const a = expectStatus(r, 200).assignment;
    if (!a) return done;
    const response = answer(a.task.unique_id);
    if (response === undefined) {
      expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/skip`, { reason: 'not sure' }, { key: who.key }), 200);
      continue;
    }
    expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `s-${a.id}`, response }, { key: who.key }), 201);
    done.push(a);
  }
}

const stats = async (p, query = '', key) => srv.api('GET', `/v1/projects/${p.id}/stats${query}`, undefined, key ? { key } : {});

/* Type-7 quantile of numbers (the server's definition). */
function quantile(values, q) {
  const v = [...values].sort((a, b) => a - b);
  const at = (v.length - 1) * q;
  const i = Math.floor(at);
  return i + 1 < v.length ? v[i] + (at - i) * (v[i + 1] - v[i]) : v[i];
}

/* Lease-to-submit seconds of every accepted annotation of the tasks. */
async function leaseToSubmit(p) {
  const tasks = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/tasks?limit=1000`), 200).items;
  const out = [];
  for (const t of tasks) {
    const anns = expectStatus(await srv.api('GET', `/v1/tasks/${t.id}/annotations`), 200).items;
    for (const an of anns.filter((x) => x.status === 'accepted')) {
      const a = expectStatus(await srv.api('GET', `/v1/assignments/${an.assignment_id}`), 200);
      out.push((Date.parse(an.created_at) - Date.parse(a.created_at)) / 1000);
    }
  }
  return out;
}

/* Checks the buckets' shape: n consecutive UTC-aligned starts of width ms,
 * the last one holding `now`, and returns the sums. */
function checkBuckets(tp, n, width, now) {
  assert.equal(tp.buckets.length, n, `expected ${n} buckets, got ${tp.buckets.length}`);
  const starts = tp.buckets.map((b) => Date.parse(b.start));
  for (const [i, s] of starts.entries()) {
    assert.equal(s % width, 0, `bucket ${i} starts at ${tp.buckets[i].start}, not on a UTC ${width === DAY ? 'day' : 'hour'}`);
    if (i) assert.equal(s - starts[i - 1], width, `buckets ${i - 1} and ${i} are not consecutive`);
  }
  const last = starts[n - 1];
  assert.ok(now >= last && now < last + width + 60000, `the last bucket ${tp.buckets[n - 1].start} does not hold now (${new Date(now).toISOString()})`);
  const sum = (k) => tp.buckets.reduce((s, b) => s + b[k], 0);
  assert.equal(sum('annotations'), tp.annotations, 'the buckets do not add up to the annotations total');
  assert.equal(sum('completed'), tp.completed, 'the buckets do not add up to the completed total');
  return { annotations: sum('annotations'), completed: sum('completed') };
}

describe('GET /v1/projects/{id}/stats', () => {
  it('counts, throughput per day and hour, labels and time per task on a small project', async () => {
    const p = await makeProject(srv, { params: { labels: ['cat', 'dog', 'bird'] }, overlap: 2, aggregation: 'majority' });
    await withTasks(p, ['t0', 't1', 't2', 't3'].map((u) => ({ unique_id: u, data: { text: u } })));
    const a = await member(p);
    const b = await member(p);
    const A = { t0: 'cat', t1: 'dog', t2: 'cat' }; // skips t3
    const B = { t0: 'cat', t1: 'dog', t2: 'dog', t3: 'cat' };
    await work(p, a, (u) => (A[u] ? { labels: [A[u]] } : undefined));
    await work(p, b, (u) => ({ labels: [B[u]] }));
    const now = Date.now();

    const s = expectStatus(await stats(p), 200);
    assert.deepEqual(Object.keys(s), ['counts', 'throughput', 'labels', 'time_per_task']);
    // Counts: the project's.
    const proj = expectStatus(await srv.api('GET', `/v1/projects/${p.id}`), 200);
    assert.deepEqual(s.counts, proj.counts);
    assert.equal(s.counts.completed, 3);
    assert.equal(s.counts.total, 4);

    // Throughput: 30 days by default; 7 accepted annotations, 3 tasks completed, all today.
    assert.equal(s.throughput.bucket, 'day');
    const day = checkBuckets(s.throughput, 30, DAY, now);
    assert.deepEqual(day, { annotations: 7, completed: 3 });
    const busy = s.throughput.buckets.filter((x) => x.annotations || x.completed);
    assert.ok(busy.length >= 1 && busy.length <= 2, `work lands in today's bucket (or yesterday's, across midnight): ${JSON.stringify(busy)}`);
    assert.equal(Date.parse(s.throughput.buckets[0].start), Date.parse(s.throughput.since), 'the default window starts with its first bucket');

    const hours = expectStatus(await stats(p, '?bucket=hour'), 200);
    assert.equal(hours.throughput.bucket, 'hour');
    assert.deepEqual(checkBuckets(hours.throughput, 48, HOUR, now), { annotations: 7, completed: 3 });

    // A window before any work: every bucket there, all zero.
    const past = expectStatus(await stats(p, '?since=2020-01-01T00:00:00Z&until=2020-01-03T00:00:00Z'), 200).throughput;
    assert.deepEqual(past.buckets, [
      { start: '2020-01-01T00:00:00.000Z', annotations: 0, completed: 0 },
      { start: '2020-01-02T00:00:00.000Z', annotations: 0, completed: 0 },
    ]);
    assert.equal(past.since, '2020-01-01T00:00:00.000Z');
    assert.equal(past.until, '2020-01-03T00:00:00.000Z');
    // A window that ends before the work: nothing counted; one that holds it, everything.
    const before = new Date(now - 10 * 60000).toISOString();
    const justBefore = expectStatus(await stats(p, `?bucket=hour&since=${new Date(now - 5 * HOUR).toISOString()}&until=${before}`), 200).throughput;
    assert.equal(justBefore.annotations + justBefore.completed, 0, `nothing was done more than 10 minutes ago: ${JSON.stringify(justBefore)}`);
    const around = expectStatus(await stats(p, `?bucket=hour&since=${before}&until=${new Date(now + 60000).toISOString()}`), 200).throughput;
    assert.deepEqual([around.annotations, around.completed], [7, 3]);

    // Labels: the project's, in its order.  Results: t0 cat, t1 dog, t2 a
    // tie that goes to the first vote (cat).  Annotations: cat 4, dog 3.
    assert.deepEqual(s.labels, [
      { label: 'cat', results: 2, annotations: 4 },
      { label: 'dog', results: 1, annotations: 3 },
      { label: 'bird', results: 0, annotations: 0 },
    ]);

    // Time per task: the median and p90 of lease-to-submit, as the annotations and assignments say.
    const secs = await leaseToSubmit(p);
    assert.equal(secs.length, 7);
    const t = s.time_per_task;
    assert.equal(t.annotations, 7);
    assert.ok(Math.abs(t.median_seconds - quantile(secs, 0.5)) < 1e-9, `median ${t.median_seconds}, expected ${quantile(secs, 0.5)} from ${secs}`);
    assert.ok(Math.abs(t.p90_seconds - quantile(secs, 0.9)) < 1e-9, `p90 ${t.p90_seconds}, expected ${quantile(secs, 0.9)} from ${secs}`);
    assert.ok(t.p90_seconds >= t.median_seconds);
  });

  it('a worker alone: the project median is the workers table median', async () => {
    const p = await makeProject(srv, { overlap: 1 });
    await withTasks(p, ['a', 'b', 'c', 'd'].map((u) => ({ unique_id: u, data: { text: u } })));
    const w = await member(p);
    await work(p, w, () => ({ labels: ['cat'] }));
    const s = expectStatus(await stats(p), 200);
    const row = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/workers`), 200).items.find((x) => x.user_id === w.id);
    assert.equal(s.time_per_task.annotations, 4);
    assert.equal(s.time_per_task.median_seconds, row.median_seconds_per_task);
  });

  it('with review, a task counts as completed when the review accepts it; a rejected one is not, nor are its annotations', async () => {
    const p = await makeProject(srv, { overlap: 1, review_levels: 1 });
    await withTasks(p, ['r0', 'r1', 'r2'].map((u) => ({ unique_id: u, data: { text: u } })));
    const w = await member(p);
    await work(p, w, (u) => ({ labels: [u === 'r2' ? 'dog' : 'cat'] }));
    let s = expectStatus(await stats(p), 200);
    assert.equal(s.counts.review, 3);
    assert.deepEqual([s.throughput.annotations, s.throughput.completed], [3, 0], 'in review is not completed');
    assert.deepEqual(s.labels, [
      { label: 'cat', results: 2, annotations: 2 },
      { label: 'dog', results: 1, annotations: 1 },
    ]);
    // The admin (a manager who annotated nothing) reviews: accept, reject, and leaves one in review.
    const decide = async (action) => {
      const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/reviews/next`), 200).assignment;
      assert.ok(a, 'a task waits for review');
      const body = action === 'reject' ? { action, comment: 'look again' } : { action };
      expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/review`, body), 200);
      return a.task.unique_id;
    };
    await sleep(20);
    const reviewsFrom = new Date().toISOString();
    const accepted = await decide('accept');
    const rejected = await decide('reject');
    s = expectStatus(await stats(p), 200);
    assert.deepEqual([s.counts.completed, s.counts.review, s.counts.pending], [1, 1, 1]);
    assert.deepEqual([s.throughput.annotations, s.throughput.completed], [2, 1], `accepted ${accepted}, rejected ${rejected}: ${JSON.stringify(s.throughput)}`);
    const total = (k) => s.labels.reduce((n, l) => n + l[k], 0);
    assert.equal(total('results'), 2, 'the rejected task lost its result');
    assert.equal(total('annotations'), 2, 'the rejected task\'s annotation is returned, not accepted');
    // The completion is at the review decision, after every annotation.
    const late = expectStatus(await stats(p, `?bucket=hour&since=${reviewsFrom}`), 200).throughput;
    assert.deepEqual([late.annotations, late.completed], [0, 1], `since the reviews began (${reviewsFrom}): ${JSON.stringify(late)}`);
  });

  it('counts the categories of any kind that has them (comparison choices), none for kinds without', async () => {
    const p = await makeProject(srv, { kind: 'comparison', params: {}, overlap: 2 });
    await withTasks(p, [0, 1, 2].map((i) => ({ unique_id: `c${i}`, data: { prompt: `p${i}`, responses: [{ id: 'left', text: 'L' }, { id: 'right', text: 'R' }] } })));
    const a = await member(p);
    const b = await member(p);
    await work(p, a, () => ({ choice: 'left' }));
    await work(p, b, (u) => (u === 'c2' ? { tie: true } : { choice: 'left' }));
    const s = expectStatus(await stats(p), 200);
    const byLabel = Object.fromEntries(s.labels.map((l) => [l.label, [l.results, l.annotations]]));
    assert.deepEqual(byLabel, { left: [3, 5], tie: [0, 1] }, JSON.stringify(s.labels));

    const r = await makeProject(srv, { kind: 'rating', params: { criteria: ['helpful'] } });
    await withTasks(r, [{ unique_id: 'x', data: { text: 'x' } }]);
    await work(r, await member(r), () => ({ ratings: { helpful: 4 } }));
    const rs = expectStatus(await stats(r), 200);
    assert.deepEqual(rs.labels, []);
    assert.equal(rs.throughput.annotations, 1);
  });

  it('an empty project has zeros and nulls, never a missing bucket', async () => {
    const p = await makeProject(srv);
    const s = expectStatus(await stats(p), 200);
    assert.equal(s.counts.total, 0);
    assert.equal(s.throughput.buckets.length, 30);
    assert.ok(s.throughput.buckets.every((b) => b.annotations === 0 && b.completed === 0));
    assert.deepEqual(s.labels.map((l) => [l.label, l.results, l.annotations]), [['cat', 0, 0], ['dog', 0, 0]]);
    assert.deepEqual(s.time_per_task, { annotations: 0, median_seconds: null, p90_seconds: null });
  });

  it('a bad window is a 400 naming the field', async () => {
    const p = await makeProject(srv);
    let e = expectError(await stats(p, '?bucket=week'), 400, 'bucket');
    assert.match(e.message, /hour or day/);
    expectError(await stats(p, '?since=yesterday'), 400, 'since');
    expectError(await stats(p, '?until=2026-02-30T99:00:00Z'), 400, 'until');
    e = expectError(await stats(p, '?since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z'), 400, 'since');
    assert.match(e.message, /before until/);
    // 1000 buckets are fine, 1001 are not.
    expectStatus(await stats(p, '?bucket=hour&since=2026-01-01T00:00:00Z&until=2026-02-11T16:00:00Z'), 200);
    e = expectError(await stats(p, '?bucket=hour&since=2026-01-01T00:00:00Z&until=2026-02-11T16:00:01Z'), 400, 'since');
    assert.match(e.message, /1001 hour buckets/);
    expectError(await stats(p, '?since=2000-01-01T00:00:00Z&until=2026-01-01T00:00:00Z'), 400, 'since');
  });

  it('is for managers: an annotator or reviewer gets 403, an outsider or unknown project 404', async () => {
    const p = await makeProject(srv);
    const ann = await member(p);
    const rev = await member(p, 'reviewer');
    const outsider = await makeMember(srv, `stats-out-${++seq}@test.io`);
    let e = expectError(await stats(p, '', ann.key), 403);
    assert.match(e.message, /manager/);
    expectError(await stats(p, '', rev.key), 403);
    expectError(await stats(p, '', outsider.key), 404);
    expectError(await srv.api('GET', '/v1/projects/999999/stats'), 404);
    // A manager who is not an admin may.
    const mgr = await member(p, 'manager');
    expectStatus(await stats(p, '', mgr.key), 200);
  });
});
