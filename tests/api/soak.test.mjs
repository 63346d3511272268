// soak.test.mjs -- steady load on one server for SOAK_SECONDS (120 in `make
// test`, 1800 with `make soak`):
//  - annotators lease and submit (overlap 2), with a short think time;
//  - "abandoners" lease and never submit: the project's lease_seconds is 30
//    (the least allowed), so their leases expire during the run and the
//    tasks go back to the queue;
//  - reviewers review (review_levels 1): accept, or reject with a comment
//    (the task goes back to annotation);
//  - a feeder imports tasks whenever few are pending;
//  - every task.completed / batch.completed goes to the project's
//    callback_url: a receiver here that answers 500 or holds the request past
//    the server's 15 s timeout part of the time (seeded), so deliveries are
//    retried.
// The server's RSS (/proc/PID/status VmRSS) and open descriptors (entries of
// /proc/PID/fd) are sampled every 2 s; both series are printed.  Passes when:
//  - memory is flat: after the warm-up, the median RSS of the last third of
//    the samples is at most RSS_PCT % and RSS_MIB MiB above the first third's;
//  - descriptors do not grow: the last third's median at most FD_SLACK above
//    the first third's;
//  - nothing is lost: every acknowledged submit is in the database; every
//    task's status agrees with its annotations and its last review; every
//    accepted review completed its task; the counters equal COUNT(*) by
//    status; every delivery the outbox holds reached the receiver with a 2xx
//    exactly once (delivered) or never (still pending, attempts recorded),
//    with one attempt recorded per request the receiver saw; one
//    task.completed per completed task.
// LOUPE_SOAK_SEED=N replays the receiver's failures and the reviewers' choices.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startServer, it, expectStatus, TEST_DB_URL, SANITIZED, SLOW, sleep, psql, cliKey } from './harness.mjs';
import { setupProject, call, sqlite, checkDatabase, rng } from './load.mjs';

// Under the sanitizers (ten times slower, and looking for memory errors, not
// leaks of the slow kind) the run is 45 s: long enough for a 30 s lease to
// expire.  Their quarantine (freed memory held back to catch use-after-free,
// up to 256 MiB) makes RSS climb and wander: only the memory threshold is
// looser there.
const SECONDS = Number(process.env.SOAK_SECONDS || (SANITIZED ? 45 : 120));
// ASan's quarantine fills for the first 10-12 s (RSS climbs to ~400 MiB).
const WARMUP_S = SANITIZED ? 15 : Math.min(20, SECONDS / 5);
const SAMPLE_MS = 2000;
// Measured on SQLite over 120 s (3 runs, ./loupe): the server settles near
// 20 MiB and the last third's median is 0.9-1.8 MiB (4-9 %) above the first
// third's (SQLite's page cache filling as the database grows).  A leak of
// 1 KiB per submit (about 110 submits/s) would add some 7 MiB between them.
// Under the sanitizers (45 s, once) it settled near 410 MiB and the last
// third was 18 MiB (4 %) above the first: looser there, 50 % and 128 MiB.
const RSS_PCT = SANITIZED ? 50 : 25;
const RSS_MIB = SANITIZED ? 128 : 8;
const FD_SLACK = 4;
const ANNOTATORS = 6;
const ABANDONERS = 2;
const REVIEWERS = 3;
const THINK_MS = 50; // an annotator's pause between a submit and the next lease
const OVERLAP = 2;
const LEASE_S = 30;
const P_500 = 0.2; // the receiver answers 500
const P_HOLD = 0.05; // ... or holds the request (at most one at a time, one per 20 s)

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}

/* The server's resident memory (KiB) and its open descriptors. */
function sample(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = status.match(/^VmRSS:\s+(\d+) kB/m);
  return { t: Date.now(), rssKiB: Number(m[1]), fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

let srv, receiver, recvBase;
const seed = Number(process.env.LOUPE_SOAK_SEED || Date.now() % 1000000007);
const random = rng(seed);
const hits = new Map(); // webhook-id -> {n, ok, event}
const recv = { healthy: false, held: 0, lastHold: 0, n500: 0, nHold: 0, nOk: 0 };
const heldRes = new Set();

before(async () => {
  receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = req.headers['webhook-id'];
      const h = hits.get(id) || { n: 0, ok: 0 };
      h.n++;
      hits.set(id, h);
      const r = random();
      const now = Date.now();
      if (!recv.healthy && r < P_HOLD && recv.held === 0 && now - recv.lastHold > 20000) {
        // No answer: the server's request times out (15 s), then it retries.
        recv.held++;
        recv.nHold++;
        recv.lastHold = now;
        heldRes.add(res);
        res.on('close', () => {
          recv.held--;
          heldRes.delete(res);
        });
        return;
      }
      if (!recv.healthy && r < P_HOLD + P_500) {
        recv.n500++;
        res.writeHead(500).end('flaky');
        return;
      }
      h.ok++;
      recv.nOk++;
      res.writeHead(200).end();
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  recvBase = `http://127.0.0.1:${receiver.address().port}`;
  srv = await startServer({ env: { LOUPE_CALLBACK_RETRY_MS: '200', LOUPE_CALLBACK_POLL_MS: '50' } });
});
after(async () => {
  await srv?.stop();
  for (const res of heldRes) res.destroy();
  await new Promise((r) => receiver.close(r));
});

/* One SQL query on the server's database (SQLite file or PostgreSQL schema):
 * rows as arrays of strings. */
function q(sql) {
  if (TEST_DB_URL) return psql(srv.dbUrl, sql);
  return sqlite(path.join(srv.dir, 'loupe.db'), sql).map((l) => l.split('|'));
}

describe('soak: steady load with expiring leases, reviews and a flaky callback receiver', () => {
  it(`holds memory and descriptors flat and loses nothing over ${SECONDS} s`, async () => {
    console.log(`# soak ${SECONDS} s, seed ${seed} (LOUPE_SOAK_SEED=${seed} replays the receiver and the reviewers)`);
    const setup = await setupProject(srv, { tasks: 1000, annotators: ANNOTATORS + ABANDONERS, overlap: OVERLAP });
    const { pid } = setup;
    expectStatus(
      await srv.api('PATCH', `/v1/projects/${pid}`, { review_levels: 1, lease_seconds: LEASE_S, callback_url: `${recvBase}/callback` }),
      200,
    );
    const reviewers = [];
    for (let i = 0; i < REVIEWERS; i++) {
      const email = `reviewer-${i}@soak.test`;
      const u = expectStatus(await srv.api('POST', '/v1/users', { email, name: `Reviewer ${i}` }), 201);
      expectStatus(await srv.api('PUT', `/v1/projects/${pid}/members/${u.id}`, { role: 'reviewer' }), 200);
      reviewers.push({ uid: u.id, key: cliKey(srv.dir, email) });
    }
    const annotators = setup.workers.slice(0, ANNOTATORS);
    const abandoners = setup.workers.slice(ANNOTATORS);

    const st = {
      stopped: false,
      acked: new Set(), // "UID AID" of every 201 submit
      refused: [], // anything but the expected answers
      accepted: new Set(), // task ids a review accepted (200)
      rejects: 0,
      abandoned: [], // {id, key}
      imported: 1000,
      submits: 0,
      retried: 0, // submits sent again after a 503 (Retry-After)
    };
    const refuse = (what, r) => st.refused.push(`${what}: ${r.status} ${r.text.slice(0, 200)}`);

    /* A worker's loop on its own keep-alive connection: lease from
     * leasePath (waiting a little when there is nothing), then act on the
     * assignment. */
    const worker = (leasePath, act) => async (w, idx) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const ctx = { agent, w, idx, n: 0, choose: rng(seed + 1 + idx) };
      try {
        while (!st.stopped) {
          const lease = await call(agent, srv.base, w.key, 'GET', `/v1/projects/${pid}/${leasePath}`);
          const a = lease.status === 200 ? lease.body.assignment : null;
          if (lease.status !== 200) refuse(leasePath, lease);
          if (!a) await sleep(200);
          else await act(ctx, a);
        }
      } finally {
        agent.destroy();
      }
    };
    const annotate = worker('queue/next', async (c, a) => {
      const aid = `c${c.idx}-${c.n++}`;
      st.submits++;
      const body = { annotation_id: aid, response: { labels: [(c.idx + c.n) % 3 ? 'cat' : 'dog'] } };
      let r = await call(c.agent, srv.base, c.w.key, 'POST', `/v1/assignments/${a.id}/submit`, body);
      // A 503 says nothing was saved and to send it again (Retry-After), as
      // a client does: the same annotation_id, so a retry can never count
      // twice. (PostgreSQL may cancel one of two transactions that
      // deadlock.) Counted, and reported below.
      for (let k = 0; r.status === 503 && k < 3 && !st.stopped; k++) {
        st.retried++;
        await sleep(1000); // (the server's Retry-After is 1 s)
        r = await call(c.agent, srv.base, c.w.key, 'POST', `/v1/assignments/${a.id}/submit`, body);
      }
      if (r.status === 201) st.acked.add(`${c.w.uid} ${aid}`);
      else refuse('submit', r);
      await sleep(THINK_MS);
    });
    const abandon = worker('queue/next', async (c, a) => {
      st.abandoned.push({ id: a.id, key: c.w.key, expires: Date.parse(a.expires_at) });
      // Hold it past its expiry, then lease again (which expires it).
      const until = Date.parse(a.expires_at) + 1000;
      while (!st.stopped && Date.now() < until) await sleep(250);
    });
    const review = worker('reviews/next', async (c, a) => {
      const accept = c.choose() < 0.8;
      const body = accept ? { action: 'accept' } : { action: 'reject', comment: 'look again' };
      const r = await call(c.agent, srv.base, c.w.key, 'POST', `/v1/assignments/${a.id}/review`, body);
      if (r.status !== 200) refuse('review', r);
      else if (accept) st.accepted.add(String(a.task_id));
      else st.rejects++;
      await sleep(THINK_MS / 5);
    });
    const feed = async () => {
      let k = 0;
      while (!st.stopped) {
        const p = expectStatus(await srv.api('GET', `/v1/projects/${pid}`), 200);
        if (p.counts.pending < 300) {
          const rows = [];
          for (let i = 0; i < 500; i++) rows.push(JSON.stringify({ unique_id: `f${k}-${i}`, data: { text: `fed ${k} ${i}` } }));
          k++;
          const r = await srv.api('POST', `/v1/projects/${pid}/tasks`, rows.join('\n') + '\n', {
            headers: { 'content-type': 'application/x-ndjson' },
          });
          if (r.status !== 200) refuse('import', r);
          else st.imported += r.body.created;
        }
        await sleep(1000);
      }
    };

    const pidOfServer = srv.proc.pid;
    const samples = [];
    const t0 = Date.now();
    const workers = [
      ...annotators.map(annotate),
      ...abandoners.map((w, i) => abandon(w, ANNOTATORS + i)),
      ...reviewers.map(review),
      feed(),
    ];
    const all = Promise.all(workers);
    let failed = null;
    all.catch((e) => {
      failed = e;
      st.stopped = true;
    });
    while (Date.now() - t0 < SECONDS * 1000 && !failed) {
      samples.push(sample(pidOfServer));
      await sleep(SAMPLE_MS);
    }
    st.stopped = true;
    await all;
    samples.push(sample(pidOfServer));
    const loadS = (Date.now() - t0) / 1000;

    // The load: what was done, and that nothing was refused.
    const expiredNow = [];
    for (const a of st.abandoned.filter((x) => x.expires < Date.now() - 1000)) {
      const r = await srv.api('GET', `/v1/assignments/${a.id}`, undefined, { key: a.key });
      expiredNow.push(expectStatus(r, 200).status);
    }
    const expired = expiredNow.filter((s) => s === 'expired').length;
    console.log(
      `# load ${loadS.toFixed(0)} s: ${st.acked.size} submits acknowledged (${(st.acked.size / loadS).toFixed(1)}/s), ` +
        `${st.accepted.size} reviews accepted, ${st.rejects} rejected, ${st.abandoned.length} leases abandoned ` +
        `(${expired} seen expired), ${st.imported} tasks imported, ${st.retried} submits sent again after a 503`,
    );
    // a retry is the protocol, but not the norm: a few at most
    assert.ok(st.retried <= 5, `${st.retried} submits answered 503 (busy): more than a rare deadlock`);
    assert.deepEqual(st.refused.slice(0, 5), [], `${st.refused.length} requests refused`);
    assert.ok(st.acked.size > 100 * (SANITIZED ? 0.1 : 1), `only ${st.acked.size} submits acknowledged`);
    assert.ok(st.accepted.size > 0 && st.rejects > 0, 'reviews both accepted and rejected');
    if (SECONDS > LEASE_S + 5) assert.ok(expired > 0, 'no abandoned lease expired during the run');

    // Memory and descriptors.
    const mib = (k) => (k / 1024).toFixed(1);
    const steady = samples.filter((s) => s.t - t0 >= WARMUP_S * 1000);
    const third = Math.max(1, Math.floor(steady.length / 3));
    const first = steady.slice(0, third);
    const last = steady.slice(-third);
    const rss1 = median(first.map((s) => s.rssKiB));
    const rss3 = median(last.map((s) => s.rssKiB));
    const fd1 = median(first.map((s) => s.fds));
    const fd3 = median(last.map((s) => s.fds));
    console.log(`# RSS MiB every ${SAMPLE_MS / 1000} s: ${samples.map((s) => mib(s.rssKiB)).join(' ')}`);
    console.log(`# open fds every ${SAMPLE_MS / 1000} s: ${samples.map((s) => s.fds).join(' ')}`);
    console.log(
      `# after ${WARMUP_S} s warm-up, ${steady.length} samples: RSS median first third ${mib(rss1)} MiB, last third ${mib(rss3)} MiB ` +
        `(${(((rss3 - rss1) / rss1) * 100).toFixed(1)} %, limit ${RSS_PCT} % and ${RSS_MIB} MiB); ` +
        `fds median ${fd1} -> ${fd3} (limit +${FD_SLACK})`,
    );
    assert.ok(steady.length >= 6, `only ${steady.length} samples after the warm-up`);
    assert.ok(rss3 <= rss1 * (1 + RSS_PCT / 100), `RSS grew from ${mib(rss1)} to ${mib(rss3)} MiB (more than ${RSS_PCT} %)`);
    assert.ok(rss3 - rss1 <= RSS_MIB * 1024, `RSS grew from ${mib(rss1)} to ${mib(rss3)} MiB (more than ${RSS_MIB} MiB)`);
    assert.ok(fd3 <= fd1 + FD_SLACK, `open descriptors grew from ${fd1} to ${fd3}`);

    // Drain the outbox: the receiver now answers 200; give the deliveries
    // due a while (the ones far in their backoff may stay pending).
    recv.healthy = true;
    for (const res of heldRes) res.destroy();
    const drainUntil = Date.now() + 30000 * SLOW;
    let pending;
    for (;;) {
      pending = Number(q("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'")[0][0]);
      if (pending === 0 || Date.now() > drainUntil) break;
      await sleep(250);
    }
    // The server is idle now (nothing due for a while, or nothing left).
    const deliveries = q('SELECT message_id, status, attempts, event FROM deliveries');
    const attemptsRecorded = new Map(q('SELECT delivery_id, COUNT(*) FROM delivery_attempts GROUP BY delivery_id').map(([d, n]) => [d, Number(n)]));
    const ids = new Map(q('SELECT message_id, id FROM deliveries'));
    const counts = { delivered: 0, pending: 0, other: 0, retried: 0, attempts: 0 };
    const inDb = new Set();
    for (const [mid, status, attemptsS, event] of deliveries) {
      const attempts = Number(attemptsS);
      const h = hits.get(mid) || { n: 0, ok: 0 };
      inDb.add(mid);
      counts.attempts += attempts;
      if (attempts > 1) counts.retried++;
      assert.equal(attemptsRecorded.get(ids.get(mid)) || 0, attempts, `delivery ${mid}: attempts column against delivery_attempts rows`);
      if (status === 'delivered') {
        counts.delivered++;
        assert.equal(h.ok, 1, `delivery ${mid} (${event}) delivered, the receiver answered 2xx ${h.ok} times`);
        assert.equal(h.n, attempts, `delivery ${mid}: ${attempts} attempts recorded, the receiver saw ${h.n}`);
      } else if (status === 'pending') {
        counts.pending++;
        assert.equal(h.ok, 0, `delivery ${mid} pending, but the receiver answered 2xx ${h.ok} times`);
        assert.ok(attempts >= 1, `delivery ${mid} pending with no attempt recorded`);
      } else {
        counts.other++;
        assert.fail(`delivery ${mid} is ${status}`);
      }
    }
    for (const [mid, h] of hits) assert.ok(inDb.has(mid) || h.ok === 0, `the receiver got ${mid}, which the outbox does not hold`);
    console.log(
      `# receiver: ${recv.nOk} answered 200, ${recv.n500} answered 500, ${recv.nHold} held past the timeout; ` +
        `outbox: ${deliveries.length} deliveries, ${counts.delivered} delivered exactly once, ${counts.pending} still pending ` +
        `(with attempts), ${counts.retried} retried, ${counts.attempts} attempts`,
    );

    // The database: acknowledged submits, counters, task states.
    let stored;
    if (TEST_DB_URL) {
      stored = new Set(q("SELECT user_id || ' ' || annotation_id FROM annotations").map((r) => r[0]));
      const counted = (sql) => q(sql).map((r) => r.join('|')).filter((l) => !l.endsWith('|0')).sort();
      assert.deepEqual(counted('SELECT project_id, status, n FROM project_counts'), counted('SELECT project_id, status, COUNT(*) FROM tasks GROUP BY project_id, status'), 'project_counts against COUNT(*)');
      assert.deepEqual(
        counted('SELECT batch_id, status, n FROM batch_counts'),
        counted('SELECT batch_id, status, COUNT(*) FROM tasks WHERE batch_id IS NOT NULL GROUP BY batch_id, status'),
        'batch_counts against COUNT(*)',
      );
    } else {
      stored = checkDatabase(path.join(srv.dir, 'loupe.db'), 'after the soak');
    }
    const lost = [...st.acked].filter((k) => !stored.has(k));
    assert.deepEqual(lost.slice(0, 10), [], `${lost.length} acknowledged submits lost`);
    const tasks = q(
      "SELECT t.id, t.status, t.review, (SELECT COUNT(*) FROM annotations a WHERE a.task_id = t.id AND a.status = 'accepted') " +
        `FROM tasks t WHERE t.project_id = ${pid}`,
    );
    const byStatus = {};
    const completed = new Set();
    for (const [id, status, rev, acc] of tasks) {
      byStatus[status] = (byStatus[status] || 0) + 1;
      const accepted = Number(acc);
      const last = rev ? JSON.parse(rev) : null;
      assert.ok(accepted <= OVERLAP, `task ${id}: ${accepted} accepted annotations, overlap ${OVERLAP}`);
      if (status === 'completed') {
        completed.add(id);
        assert.equal(accepted, OVERLAP, `task ${id} completed with ${accepted} accepted annotations`);
        assert.equal(last?.action, 'accept', `task ${id} completed, its last review is ${rev}`);
        assert.ok(st.accepted.has(id), `task ${id} completed, no review accepted it`);
      } else if (status === 'review') {
        assert.equal(accepted, OVERLAP, `task ${id} in review with ${accepted} accepted annotations`);
      } else {
        assert.ok(['pending', 'in_progress'].includes(status), `task ${id} is ${status}`);
        assert.ok(accepted < OVERLAP, `task ${id} ${status} with ${accepted} accepted annotations`);
        if (last) assert.equal(last.action, 'reject', `task ${id} ${status} after a review ${rev}`);
      }
    }
    for (const id of st.accepted) assert.ok(completed.has(id), `task ${id}: its review was accepted, it is not completed`);
    const p = expectStatus(await srv.api('GET', `/v1/projects/${pid}`), 200);
    for (const s of ['pending', 'in_progress', 'review', 'completed']) assert.equal(p.counts[s], byStatus[s] || 0, `project counts.${s}`);
    const taskEvents = deliveries.filter((d) => d[3] === 'task.completed').length;
    assert.equal(taskEvents, completed.size, 'one task.completed event per completed task');
    console.log(`# tasks by status ${JSON.stringify(byStatus)}; ${st.acked.size} acknowledged submits all stored; ${taskEvents} task.completed events`);
  });
});
