// load.mjs -- annotators for the fault tests (backup, crash, disk full):
// a project with tasks in a batch, annotator users with their own API keys,
// and clients that work its queue as bench/annotate.c does
//
//     GET  /v1/projects/P/queue/next      -> 200 {"assignment":{"id":N}}
//     POST /v1/assignments/N/submit       -> 201 (acknowledged: durable)
//
// each on its own keep-alive connection with one request in flight, and
// recording every submit the server acknowledged as "USER_ID ANNOTATION_ID"
// (the key of the annotations table's UNIQUE (user_id, annotation_id)).
import http from 'node:http';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cliKey, expectStatus } from './harness.mjs';

/* One request on agent: {status, body} or throws (connection refused,
 * reset: the server died). */
export function call(agent, base, key, method, path, body) {
  const url = new URL(path, base);
  const payload = body === undefined ? null : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method,
        path: url.pathname + url.search,
        headers: {
          authorization: `Bearer ${key}`,
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
        },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed = null;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode, body: parsed, text });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(60000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/* A project (overlap `overlap`) with `tasks` tasks in one finalized batch,
 * and `annotators` annotator members with keys: {pid, batchId, workers:
 * [{uid, key}]}. */
export async function setupProject(srv, { tasks, annotators, overlap = 1 }) {
  const p = expectStatus(
    await srv.api('POST', '/v1/projects', {
      name: 'faults',
      kind: 'categorization',
      params: { labels: ['cat', 'dog'] },
      overlap,
    }),
    201,
  );
  const b = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/batches`, { name: 'b1' }), 201);
  const rows = [];
  for (let i = 0; i < tasks; i++)
    rows.push(JSON.stringify({ unique_id: `t${i}`, data: { text: `item ${i}` }, batch_id: b.id }));
  const imp = await srv.api('POST', `/v1/projects/${p.id}/tasks`, rows.join('\n') + '\n', {
    headers: { 'content-type': 'application/x-ndjson' },
  });
  expectStatus(imp, 200);
  assert.equal(imp.body.created, tasks, `bulk import: ${imp.text.slice(0, 300)}`);
  expectStatus(await srv.api('POST', `/v1/batches/${b.id}/finalize`), 200);
  const workers = [];
  for (let i = 0; i < annotators; i++) {
    const email = `annotator-${i}@faults.test`;
    const u = expectStatus(await srv.api('POST', '/v1/users', { email, name: `Annotator ${i}` }), 201);
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${u.id}`, { role: 'annotator' }), 200);
    workers.push({ uid: u.id, key: cliKey(srv.dir, email) });
  }
  return { pid: p.id, batchId: b.id, workers };
}

/* Starts one client per worker on srv's project; returns {stop(), done,
 * acked: Set of "UID AID", refused: [{status, text}], errors}.  A client
 * stops at stop(), when the queue is empty, or at its first failed request
 * (the server died): a submit whose answer was lost is neither acked nor
 * refused. */
export function startClients(base, pid, workers, { run = Math.random().toString(16).slice(2, 10), label = 'cat' } = {}) {
  const state = { stopped: false, acked: new Set(), refused: [], errors: 0, submits: 0, empty: 0 };
  const one = async (w, idx) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let n = 0;
    try {
      while (!state.stopped) {
        const lease = await call(agent, base, w.key, 'GET', `/v1/projects/${pid}/queue/next`);
        if (lease.status !== 200) {
          state.refused.push({ status: lease.status, text: lease.text });
          continue;
        }
        const a = lease.body?.assignment;
        if (!a) {
          state.empty++;
          break;
        }
        const aid = `${run}-c${idx}-${n++}`;
        state.submits++;
        const r = await call(agent, base, w.key, 'POST', `/v1/assignments/${a.id}/submit`, {
          annotation_id: aid,
          response: { labels: [label] },
        });
        if (r.status === 201) state.acked.add(`${w.uid} ${aid}`);
        else state.refused.push({ status: r.status, text: r.text, aid: `${w.uid} ${aid}` });
      }
    } catch {
      state.errors++;
    } finally {
      agent.destroy();
    }
  };
  const done = Promise.all(workers.map(one));
  return {
    state,
    acked: state.acked,
    done,
    async stop() {
      state.stopped = true;
      await done;
    },
  };
}

/* sqlite3 QUERY on the file db: its output lines. */
export function sqlite(db, sql) {
  const r = spawnSync('sqlite3', ['-batch', db, sql], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, `sqlite3 ${db} "${sql}": ${r.stderr ?? r.error}`);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/* The checks every fault test makes of a SQLite database file (no server
 * on it, or one that is idle): integrity_check ok, every task counter
 * equal to the rows; returns the set of "UID AID" of its annotations. */
export function checkDatabase(db, what) {
  assert.deepEqual(sqlite(db, 'PRAGMA integrity_check'), ['ok'], `${what}: PRAGMA integrity_check`);
  const counted = (sql) =>
    sqlite(db, sql)
      .filter((l) => !l.endsWith('|0'))
      .sort();
  assert.deepEqual(
    counted('SELECT project_id, status, n FROM project_counts'),
    counted('SELECT project_id, status, COUNT(*) FROM tasks GROUP BY project_id, status'),
    `${what}: project_counts against COUNT(*) of tasks`,
  );
  assert.deepEqual(
    counted('SELECT batch_id, status, n FROM batch_counts'),
    counted('SELECT batch_id, status, COUNT(*) FROM tasks WHERE batch_id IS NOT NULL GROUP BY batch_id, status'),
    `${what}: batch_counts against COUNT(*) of tasks`,
  );
  return new Set(sqlite(db, "SELECT user_id || ' ' || annotation_id FROM annotations"));
}

/* mulberry32: a small seeded generator, so that a failing run can be replayed. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
