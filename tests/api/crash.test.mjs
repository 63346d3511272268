// crash.test.mjs -- 64 annotators submit; the server is killed with
// SIGKILL at a random moment and restarted, twenty times in a row.  After
// each kill, on the database file (sqlite3, no server on it):
//  - every submit the server acknowledged (201) is there, in every round so far;
//  - PRAGMA integrity_check is ok;
//  - project_counts and batch_counts equal COUNT(*) of the tasks by status.
// The moments come from a seeded generator: the seed is printed, and
// LOUPE_CRASH_SEED=N replays a run.  SQLite only (on PostgreSQL the
// database is PostgreSQL's to recover: the suite says it is skipped).
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, it, TEST_DB_URL, SANITIZED, SLOW, sleep } from './harness.mjs';
import { setupProject, startClients, checkDatabase, rng } from './load.mjs';

// Twenty rounds; under the sanitizers (which look for memory errors, not lost
// writes, and run this ten times slower) five.
const ROUNDS = Number(process.env.LOUPE_CRASH_ROUNDS || (SANITIZED ? 5 : 20));
const CLIENTS = 64;

describe('crash: SIGKILL under load, twenty times', { skip: TEST_DB_URL ? 'PostgreSQL recovers its own database: SQLite only' : false }, () => {
  let srv, setup;
  const dirs = [];
  before(async () => {
    srv = await startServer();
    dirs.push(srv.dir);
    setup = await setupProject(srv, { tasks: 20000, annotators: CLIENTS, overlap: 3 });
  });
  after(async () => {
    if (srv && !srv.exited()) await srv.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('loses no acknowledged submit, and the database stays whole with its counters right', async () => {
    const seed = Number(process.env.LOUPE_CRASH_SEED || (Date.now() % 1000000007));
    console.log(`# crash test seed ${seed} (LOUPE_CRASH_SEED=${seed} replays it)`);
    const random = rng(seed);
    const db = path.join(srv.dir, 'loupe.db');
    const acked = new Set();
    const figures = [];
    let cur = srv;
    for (let round = 0; round < ROUNDS; round++) {
      const load = startClients(cur.base, setup.pid, setup.workers, { run: `r${round}` });
      // Kill once the load runs (some submits acknowledged), at a moment
      // from 50 to 1500 ms after that.
      const deadline = Date.now() + 20000 * SLOW;
      while (load.acked.size < 20 && Date.now() < deadline) await sleep(5);
      assert.ok(load.acked.size >= 20, `round ${round}: only ${load.acked.size} submits acknowledged in 20 s`);
      const wait = Math.floor(50 + random() * 1450);
      await sleep(wait);
      cur.proc.kill('SIGKILL');
      await load.done; // every client ends at its first failed request
      const deadline2 = Date.now() + 10000;
      while (!cur.exited() && Date.now() < deadline2) await sleep(5);
      assert.equal(cur.exited()?.signal, 'SIGKILL', `round ${round}: the server did not die of SIGKILL`);
      assert.deepEqual(load.state.refused, [], `round ${round}: requests refused before the kill`);
      for (const k of load.acked) acked.add(k);
      const stored = checkDatabase(db, `round ${round}`);
      const lost = [...acked].filter((k) => !stored.has(k));
      assert.deepEqual(lost.slice(0, 10), [], `round ${round} (seed ${seed}): ${lost.length} acknowledged submits lost`);
      figures.push(`${load.acked.size}@${wait}ms`);
      if (round + 1 < ROUNDS) cur = await startServer({ dir: srv.dir, key: srv.key });
    }
    console.log(`# ${ROUNDS} kills; acknowledged submits per round (at kill delay): ${figures.join(' ')}; ${acked.size} in all, none lost`);
    // The last server was killed: serve once more and stop cleanly.
    srv = await startServer({ dir: srv.dir, key: srv.key });
    const s = await srv.api('GET', `/v1/projects/${setup.pid}/stats`);
    assert.equal(s.status, 200);
    assert.equal(s.body.counts.total, 20000);
  });
});
