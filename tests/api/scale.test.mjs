// scale.test.mjs -- PostgreSQL scale-out: several `loupe serve` processes on
// one database, and a database restart under load.  Runs only with
// LOUPE_TEST_DB_URL (a postgres:// URL); the restart also needs
// LOUPE_TEST_PG_DIR, the scripts/pg-cluster directory behind that URL.
//
//   1. three servers share one schema; 64 annotators, each request to a
//      random server; overlap 3; a callback_url: exactly 3 distinct accepted
//      annotations per task, never more than 3 leases at once, every
//      acknowledged submit stored once, counters right, every task.completed
//      delivered once, signed.
//   2. two servers under load while the cluster is stopped for ~2.5 s and
//      started again: every request is answered (503 while the database is
//      away), every acknowledged submit is stored, nothing half-applied, and
//      the same processes serve normally again.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import crypto from 'node:crypto';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  startServer, it, expectStatus, makeProject, makeMember, listAll, psql, sleep, SLOW, TEST_DB_URL,
} from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const PG_DIR = process.env.LOUPE_TEST_PG_DIR || '';
const PG_CLUSTER = path.resolve(here, '../../scripts/pg-cluster');
const REQ_TIMEOUT = 15000 * SLOW;

const servers = [];
after(async () => {
  // Stopped here, not in the tests, so that a failing test still shows
  // their logs (harness.mjs attaches live servers' stderr).
  for (const s of servers.splice(0)) await s.stop();
});
/* Stops these servers (a test that passed: a failing one leaves them to
 * after(), so that its failure shows their logs). */
async function stopAll(list) {
  for (const s of list) {
    servers.splice(servers.indexOf(s), 1);
    await s.stop();
  }
}

/* One request that never throws: {status: 0, error} on a connection-level
 * failure or timeout.  Each call is appended to log when given. */
async function call(srv, key, method, p, body, log) {
  const t0 = Date.now();
  let r;
  try {
    r = await srv.api(method, p, body, key === undefined ? { timeout: REQ_TIMEOUT } : { key, timeout: REQ_TIMEOUT });
  } catch (e) {
    const c = e.cause;
    r = { status: 0, error: `${e.name}: ${e.message}${c ? ` (${c.code ?? ''} ${c.message ?? ''})` : ''}`, text: '' };
  }
  if (log) log.push({ t0, t1: Date.now(), port: srv.port, method, path: p, status: r.status, error: r.error, text: r.status >= 300 ? r.text.slice(0, 300) : undefined, retryAfter: r.headers?.get('retry-after') ?? null });
  return r;
}

const describeResp = (srv, what, r) => `${what} on :${srv.port} answered ${r.status ? r.status : 'nothing'}: ${r.error ?? (r.text ?? '').slice(0, 300)}`;

async function withTasks(srv, n, extra) {
  const p = await makeProject(srv, extra);
  const rows = Array.from({ length: n }, (_, i) => JSON.stringify({ unique_id: `s${i}` })).join('\n');
  const b = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, rows), 200);
  assert.equal(b.created, n);
  return p;
}

async function annotators(srv, p, n, prefix) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const m = await makeMember(srv, `${prefix}${i}@test.io`);
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${m.id}`, { role: 'annotator' }), 200);
    out.push(m);
  }
  return out;
}

/* Runs fn over items, `width` at a time. */
async function inParallel(items, width, fn) {
  let i = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (i < items.length) {
      const x = items[i++];
      await fn(x);
    }
  }));
}

/* The checks both tests end with, through the API: the project's counters
 * equal the task list; each task has exactly `overlap` accepted annotations
 * from distinct workers; every acknowledged submit is there exactly once;
 * and, in the database, each task's done/leased counters equal its accepted
 * annotations and active leases. */
async function checkFinalState(srv, p, N, OVERLAP, acked) {
  const proj = expectStatus(await srv.api('GET', `/v1/projects/${p.id}`), 200);
  const { items: tasks } = await listAll(srv, `/v1/projects/${p.id}/tasks`);
  assert.equal(tasks.length, N);
  const real = {};
  for (const t of tasks) real[t.status] = (real[t.status] ?? 0) + 1;
  assert.equal(proj.counts.total, N, `counts.total: ${JSON.stringify(proj.counts)}`);
  for (const [st, n] of Object.entries(proj.counts)) if (st !== 'total') assert.equal(n, real[st] ?? 0, `counts.${st} is ${n}, the task list has ${real[st] ?? 0}: ${JSON.stringify(proj.counts)} vs ${JSON.stringify(real)}`);
  for (const [st, n] of Object.entries(real)) assert.equal(proj.counts[st], n, `the task list has ${n} ${st}, counts say ${proj.counts[st]}`);
  assert.equal(real.completed, N, `not every task completed: ${JSON.stringify(real)}`);

  const byTask = new Map();
  for (const a of acked) {
    if (!byTask.has(a.task)) byTask.set(a.task, []);
    byTask.get(a.task).push(a);
  }
  const problems = [];
  await inParallel(tasks, 32, async (t) => {
    const all = expectStatus(await srv.api('GET', `/v1/tasks/${t.id}/annotations`), 200).items;
    const acc = all.filter((x) => x.status === 'accepted');
    if (acc.length !== OVERLAP) problems.push(`task ${t.id} has ${acc.length} accepted annotations`);
    if (new Set(acc.map((x) => x.user_id)).size !== acc.length) problems.push(`task ${t.id}: a worker has two accepted annotations`);
    const mine = byTask.get(t.id) ?? [];
    for (const a of mine) {
      const found = all.filter((x) => x.user_id === a.user && x.annotation_id === a.annotationId);
      if (found.length !== 1) problems.push(`acknowledged submit ${a.annotationId} (annotation ${a.ann}) of task ${t.id} is stored ${found.length} times`);
      else if (found[0].id !== a.ann || found[0].status !== 'accepted') problems.push(`acknowledged submit ${a.annotationId} of task ${t.id}: stored as ${found[0].id} ${found[0].status}, acknowledged as ${a.ann} accepted`);
    }
    const ackIds = new Set(mine.map((a) => a.ann));
    for (const x of acc) if (!ackIds.has(x.id)) problems.push(`task ${t.id}: accepted annotation ${x.id} (${x.annotation_id}) was never acknowledged`);
    if (t.result?.annotations !== OVERLAP) problems.push(`task ${t.id}: result ${JSON.stringify(t.result)}`);
  });
  assert.deepEqual(problems.slice(0, 20), [], `${problems.length} problems`);
  assert.equal(acked.length, N * OVERLAP, 'acknowledged submits');
  assert.deepEqual(counterMismatches(srv.dbUrl, p.id), [], 'tasks.done/leased vs annotations/assignments');
}

/* Tasks whose done/leased counters disagree with their accepted annotations
 * and active leases (one statement: one snapshot, so it may run under load). */
function counterMismatches(dbUrl, pid) {
  return psql(dbUrl, `SELECT t.id, t.status, t.done, t.leased,
      (SELECT count(*) FROM annotations a WHERE a.task_id = t.id AND a.status = 'accepted'),
      (SELECT count(*) FROM assignments s WHERE s.task_id = t.id AND s.status = 'active' AND s.kind = 'annotate')
    FROM tasks t WHERE t.project_id = ${Number(pid)}`)
    .filter(([, , done, leased, acc, act]) => done !== acc || leased !== act)
    .map(([id, st, done, leased, acc, act]) => `task ${id} (${st}): done ${done}, leased ${leased}; accepted annotations ${acc}, active leases ${act}`)
    .slice(0, 20);
}

function verify(secret, m) {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const mac = crypto.createHmac('sha256', key).update(`${m.id}.${m.ts}.${m.body}`).digest('base64');
  return m.sig === `v1,${mac}`;
}

function pgCluster(cmd) {
  return new Promise((resolve) => {
    const c = spawn(PG_CLUSTER, [cmd, PG_DIR], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    c.on('exit', (code) => resolve({ code, out }));
  });
}

it('three servers on one PostgreSQL schema: 64 annotators, overlap 3, callbacks once each',
  { skip: !TEST_DB_URL && 'needs LOUPE_TEST_DB_URL (PostgreSQL)' }, async () => {
    const N = 800, W = 64, OVERLAP = 3;
    const got = []; // every callback post: {id, ts, sig, body}
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        got.push({ id: req.headers['webhook-id'], ts: req.headers['webhook-timestamp'], sig: req.headers['webhook-signature'], body, path: req.url });
        res.writeHead(200).end();
      });
    });
    await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      const env = { LOUPE_CALLBACK_RETRY_MS: '200', LOUPE_CALLBACK_POLL_MS: '50' };
      const a = await startServer({ env });
      servers.push(a);
      for (let i = 0; i < 2; i++) servers.push(await startServer({ shareWith: a, env }));
      const srvs = servers.slice(-3);
      const pick = () => srvs[Math.floor(Math.random() * srvs.length)];

      const p = await withTasks(a, N, { overlap: OVERLAP, callback_url: `http://127.0.0.1:${receiver.address().port}/cb` });
      const { secret } = expectStatus(await a.api('GET', `/v1/projects/${p.id}/callback_secret`), 200);
      const workers = await annotators(a, p, W, 'sc');

      const acked = []; // {ann, annotationId, task, user}
      const leases = []; // {id, task, user, from, to, end}: surely active from..to
      const failures = [];
      let retries = 0, skips = 0;
      const fail = (m) => { failures.push(m); };
      async function work(w, wi) {
        for (let n = 0; !failures.length; n++) {
          const s1 = pick();
          const r = await call(s1, w.key, 'GET', `/v1/projects/${p.id}/queue/next`);
          if (r.status !== 200) return fail(describeResp(s1, `GET queue/next for ${w.email}`, r));
          const asg = r.body.assignment;
          if (!asg) return;
          const from = Date.now();
          if (asg.user_id !== w.id || asg.status !== 'active') return fail(`queue/next on :${s1.port} for user ${w.id} gave ${JSON.stringify(asg).slice(0, 300)}`);
          await sleep(5 + Math.random() * 20); // looking at the task: leases overlap
          if ((wi * 7919 + n) % 40 === 0) {
            const s2 = pick(), to = Date.now();
            const k = await call(s2, w.key, 'POST', `/v1/assignments/${asg.id}/skip`, { reason: 'not sure' });
            if (k.status !== 200) return fail(describeResp(s2, `skip of assignment ${asg.id}`, k));
            leases.push({ id: asg.id, task: asg.task_id, user: w.id, from, to, end: 'skipped' });
            skips++;
            continue;
          }
          const body = { annotation_id: `${w.id}-${asg.task_id}`, response: { labels: [n % 2 ? 'cat' : 'dog'] } };
          const s2 = pick(), to = Date.now();
          const s = await call(s2, w.key, 'POST', `/v1/assignments/${asg.id}/submit`, body);
          if (s.status !== 201 || s.body.status !== 'accepted') return fail(describeResp(s2, `submit of assignment ${asg.id} (task ${asg.task_id})`, s));
          leases.push({ id: asg.id, task: asg.task_id, user: w.id, from, to, end: 'submitted' });
          acked.push({ ann: s.body.annotation, annotationId: body.annotation_id, task: asg.task_id, user: w.id });
          if (n % 15 === 0) { // a retry, as after a lost response, to another server
            const s3 = srvs[(srvs.indexOf(s2) + 1) % srvs.length];
            const again = await call(s3, w.key, 'POST', `/v1/assignments/${asg.id}/submit`, body);
            if (again.status !== 200 || again.body.annotation !== s.body.annotation || again.body.repeated !== true)
              return fail(describeResp(s3, `retried submit of assignment ${asg.id} (first answer: annotation ${s.body.annotation})`, again));
            retries++;
          }
        }
      }
      const t0 = Date.now();
      await Promise.all(workers.map((w, i) => work(w, i)));
      const loadMs = Date.now() - t0;
      assert.deepEqual(failures.slice(0, 10), [], `${failures.length} requests failed under load`);
      assert.ok(retries > 0 && skips > 0);

      // Every server sees the same, complete, state.
      for (const s of srvs) {
        const c = expectStatus(await s.api('GET', `/v1/projects/${p.id}`), 200).counts;
        assert.equal(c.completed, N, `:${s.port} counts ${JSON.stringify(c)}`);
      }
      await checkFinalState(a, p, N, OVERLAP, acked);

      // Leases: each ended as the client saw; never more than 3 surely-active
      // leases on one task at once.
      const leaseProblems = [];
      await inParallel(leases, 32, async (l) => {
        const s = pick();
        const g = await call(s, undefined, 'GET', `/v1/assignments/${l.id}`);
        if (g.status !== 200) return leaseProblems.push(describeResp(s, `GET assignment ${l.id}`, g));
        if (g.body.status !== l.end || g.body.task_id !== l.task || g.body.user_id !== l.user)
          leaseProblems.push(`assignment ${l.id}: ${g.body.status} task ${g.body.task_id} user ${g.body.user_id}, expected ${l.end} task ${l.task} user ${l.user}`);
      });
      assert.deepEqual(leaseProblems.slice(0, 10), [], `${leaseProblems.length} assignments differ`);
      const byTask = new Map();
      for (const l of leases) {
        if (!byTask.has(l.task)) byTask.set(l.task, []);
        byTask.get(l.task).push([l.from, 1], [l.to, -1]);
      }
      let maxActive = 0;
      for (const [task, ev] of byTask) {
        ev.sort((x, y) => x[0] - y[0] || x[1] - y[1]); // ends first at equal times
        let n = 0;
        for (const [, d] of ev) {
          n += d;
          if (n > maxActive) maxActive = n;
          assert.ok(n <= OVERLAP, `task ${task} had ${n} active leases at once`);
        }
      }
      assert.equal(new Set(leases.map((l) => l.id)).size, leases.length, 'an assignment id was handed out twice');
      const overAssigned = psql(a.dbUrl, `SELECT task_id, count(*) FROM assignments WHERE project_id = ${p.id} AND status = 'submitted' GROUP BY task_id HAVING count(*) <> ${OVERLAP} LIMIT 10`);
      assert.deepEqual(overAssigned, [], 'tasks with other than 3 submitted assignments');

      // Callbacks: every task.completed once, signed, whichever server's
      // delivery thread posted it.
      const deadline = Date.now() + 60000 * SLOW;
      for (;;) {
        const pending = expectStatus(await a.api('GET', `/v1/projects/${p.id}/deliveries?status=pending&limit=1`), 200).items;
        if (pending.length === 0 && new Set(got.map((m) => m.id)).size >= N) break;
        assert.ok(Date.now() < deadline, `after 60 s: ${got.length} posts received, deliveries still pending`);
        await sleep(100);
      }
      await sleep(1500); // a late duplicate would show up here
      const ids = new Map();
      for (const m of got) ids.set(m.id, (ids.get(m.id) ?? 0) + 1);
      const dup = [...ids].filter(([, n]) => n > 1);
      assert.deepEqual(dup.slice(0, 10), [], `${dup.length} webhook-ids were posted more than once (${got.length} posts for ${ids.size} ids)`);
      assert.equal(got.length, N, 'one post per task');
      const taskIds = new Set();
      for (const m of got) {
        assert.equal(m.path, '/cb');
        assert.ok(verify(secret, m), `signature of ${m.id} does not verify`);
        const b = JSON.parse(m.body);
        assert.equal(b.type, 'task.completed');
        assert.equal(b.data.project_id, p.id);
        assert.equal(b.data.status, 'completed');
        taskIds.add(b.data.id);
      }
      assert.equal(taskIds.size, N, 'every task has its task.completed');
      const { items: dels } = await listAll(a, `/v1/projects/${p.id}/deliveries`, { limit: 500 });
      assert.equal(dels.length, N);
      const bad = dels.filter((d) => d.status !== 'delivered' || d.attempts !== 1);
      assert.deepEqual(bad.slice(0, 5).map((d) => ({ id: d.id, status: d.status, attempts: d.attempts, last_error: d.last_error })), [], `${bad.length} deliveries not delivered in one attempt`);
      await stopAll(srvs);
      console.log(`scale: ${N} tasks x ${OVERLAP} on 3 servers in ${loadMs} ms (${((N * OVERLAP) / (loadMs / 1000)).toFixed(0)} submits/s), ${skips} skips, ${retries} retried submits, max ${maxActive} surely-active leases on a task; ${got.length} callbacks`);
    } finally {
      await new Promise((r) => receiver.close(r));
    }
  });

it('a PostgreSQL restart under load: 503 while it is away, nothing acknowledged lost, nothing half-applied, same processes recover',
  { skip: (!TEST_DB_URL && 'needs LOUPE_TEST_DB_URL (PostgreSQL)') || (!PG_DIR && 'needs LOUPE_TEST_PG_DIR (the cluster dir, to stop and start it)') }, async () => {
    const N = 1000, W = 32, OVERLAP = 3, OUTAGE_MS = 2500;
    const a = await startServer();
    servers.push(a);
    const b = await startServer({ shareWith: a });
    servers.push(b);
    const srvs = [a, b];
    const pids = srvs.map((s) => s.proc.pid);
    const pick = () => srvs[Math.floor(Math.random() * srvs.length)];
    const p = await withTasks(a, N, { overlap: OVERLAP });
    const workers = await annotators(a, p, W, 'rs');

    const log = []; // every request of the load
    const acked = [];
    let stopLoad = false;
    const backoff = () => sleep(40 + Math.random() * 40);
    // Repeats a request (same body: submits are idempotent by annotation_id)
    // until it is answered with something other than 503 or a connection
    // error.
    async function persist(what, key, method, pth, body) {
      for (;;) {
        if (stopLoad) return null;
        const s = pick();
        const r = await call(s, key, method, pth, body, log);
        if (r.status !== 503 && r.status !== 0) return { s, r };
        await backoff();
      }
    }
    const unexpected = [];
    async function work(w) {
      for (let n = 0; ; n++) {
        const q = await persist('queue/next', w.key, 'GET', `/v1/projects/${p.id}/queue/next`);
        if (!q) return;
        if (q.r.status !== 200) { unexpected.push(describeResp(q.s, `GET queue/next for ${w.email}`, q.r)); await backoff(); continue; }
        const asg = q.r.body.assignment;
        if (!asg) return;
        const body = { annotation_id: `${w.id}-${asg.task_id}`, response: { labels: [n % 2 ? 'cat' : 'dog'] } };
        const s = await persist('submit', w.key, 'POST', `/v1/assignments/${asg.id}/submit`, body);
        if (!s) return;
        if ((s.r.status === 201 || s.r.status === 200) && s.r.body.status === 'accepted') {
          acked.push({ ann: s.r.body.annotation, annotationId: body.annotation_id, task: asg.task_id, user: w.id, at: Date.now() });
        } else {
          unexpected.push(describeResp(s.s, `submit of assignment ${asg.id} (task ${asg.task_id})`, s.r));
          await backoff();
        }
      }
    }
    const loadP = Promise.all(workers.map((w) => work(w)));

    // Stop the cluster once a fifth of the work is acknowledged.
    let tStop0, tStop1, tStart0, tStart1, healthy = null, stoppedAt = 0;
    const clusterLog = [];
    try {
      const until = Date.now() + 60000 * SLOW;
      while (acked.length < (N * OVERLAP) / 5 && Date.now() < until) await sleep(5);
      stoppedAt = acked.length;
      tStop0 = Date.now();
      const st = await pgCluster('stop');
      tStop1 = Date.now();
      clusterLog.push(`stop: exit ${st.code} ${st.out.trim()}`);
      assert.equal(st.code, 0, `pg-cluster stop failed: ${st.out}`);
      await sleep(OUTAGE_MS);
    } finally {
      tStart0 = Date.now();
      const sr = await pgCluster('start');
      tStart1 = Date.now();
      clusterLog.push(`start: exit ${sr.code} ${sr.out.trim()}`);
      assert.equal(sr.code, 0, `pg-cluster start failed: ${sr.out}`);
    }
    // Each server answers /healthz 200 again, without a restart.
    const recovered = {};
    const hDeadline = Date.now() + 15000 * SLOW;
    for (const s of srvs) {
      for (;;) {
        const h = await call(s, null, 'GET', '/healthz');
        if (h.status === 200) { recovered[s.port] = Date.now() - tStart1; break; }
        if (Date.now() > hDeadline) { recovered[s.port] = `not within 15 s: last ${h.status} ${h.error ?? h.text}`; break; }
        await sleep(50);
      }
    }
    healthy = Object.values(recovered).every((v) => typeof v === 'number');
    // Under load, right after the restart: one snapshot of the counters.
    const midMismatch = healthy ? counterMismatches(a.dbUrl, p.id) : ['(skipped: not healthy)'];
    const ackedAtRestart = acked.length;
    // Let the load finish (it should, once the servers are back).
    const doneBy = Date.now() + 90000 * SLOW;
    while (Date.now() < doneBy) {
      const r = await Promise.race([loadP.then(() => true), sleep(200).then(() => false)]);
      if (r) break;
    }
    stopLoad = true;
    await loadP;

    // What the clients saw.
    const hist = (rows) => rows.reduce((m, x) => ((m[x.status || 'no answer'] = (m[x.status || 'no answer'] ?? 0) + 1), m), {});
    const outage = log.filter((x) => x.t0 >= tStop1 && x.t1 <= tStart0);
    const noAnswer = log.filter((x) => x.status === 0);
    const odd = log.filter((x) => x.status !== 0 && x.status !== 503 && x.status >= 300);
    const no503Retry = log.filter((x) => x.status === 503 && !x.retryAfter);
    const summary = `stop ${tStop1 - tStop0} ms after ${stoppedAt} acks, down ${tStart0 - tStop1} ms, start ${tStart1 - tStart0} ms; ` +
      `${log.length} requests: ${JSON.stringify(hist(log))}; during the outage ${JSON.stringify(hist(outage))}; ` +
      `${no503Retry.length} 503s without Retry-After; healthz back after ${JSON.stringify(recovered)} ms; acked ${ackedAtRestart} at restart, ${acked.length} at the end; ${clusterLog.join('; ')}`;
    const slowest = Math.max(0, ...outage.map((x) => x.t1 - x.t0));
    console.log(`restart: ${summary}; slowest answer during the outage ${slowest} ms`);
    for (const s of srvs) {
      const lines = new Map(); // server log lines without their time, counted
      for (const l of s.readLog().split('\n').filter(Boolean)) {
        const k = l.replace(/^\S+ /, '').replace(/\d+/g, 'N').slice(0, 200);
        lines.set(k, (lines.get(k) ?? 0) + 1);
      }
      console.log(`restart: server :${s.port} logged ${[...lines].slice(0, 12).map(([k, n]) => `${n}x ${k}`).join(' | ')}`);
    }
    const show = (rows) => rows.slice(0, 8).map((x) => `${x.method} ${x.path} :${x.port} at +${x.t0 - tStop0} ms -> ${x.status || x.error} ${x.text ?? ''}`).join('\n');
    assert.equal(noAnswer.length, 0, `${noAnswer.length} requests got no HTTP answer:\n${show(noAnswer)}\n${summary}`);
    assert.ok(outage.length > 0, `no request was answered while the database was down: ${summary}`);
    assert.ok(outage.every((x) => x.status === 503), `while the database was down, not every answer was 503:\n${show(outage.filter((x) => x.status !== 503))}\n${summary}`);
    assert.equal(odd.length, 0, `unexpected answers:\n${show(odd)}\n${summary}`);
    assert.deepEqual(unexpected.slice(0, 10), [], summary);
    assert.ok(healthy, `a server did not answer /healthz 200 again: ${JSON.stringify(recovered)}`);
    assert.deepEqual(srvs.map((s) => s.exited()), [null, null], 'a server exited');
    assert.deepEqual(srvs.map((s) => s.proc.pid), pids);
    assert.ok(acked.length > ackedAtRestart, 'work went on after the restart');
    assert.deepEqual(midMismatch, [], 'counters right after the restart');
    // And the end state: everything done, nothing lost, counters right.
    for (const s of srvs) {
      const c = expectStatus(await s.api('GET', `/v1/projects/${p.id}`), 200).counts;
      assert.equal(c.completed, N, `:${s.port} counts ${JSON.stringify(c)} (${summary})`);
    }
    await checkFinalState(a, p, N, OVERLAP, acked);
    await stopAll(srvs);
  });
