// syncfail.test.mjs -- a flush that fails (issue 8, faults): with
// build/failsync.so preloaded, fdatasync() fails with EIO while a trigger
// file exists.  The server must not retry the flush (after a failed fsync
// the kernel may have dropped the pages: a second fsync can succeed over
// lost data), must acknowledge nothing written since the last flush, must
// stop with exit status 1 and a message saying why, and a restart must
// find every acknowledged submit, a sound database and counters equal to
// the rows.  SQLite only (PostgreSQL flushes its own WAL); not under
// the sanitizers (their runtime must be the first preloaded library).
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startServer, it, expectStatus, sleep, tempDir, TEST_DB_URL, SANITIZED } from './harness.mjs';
import { setupProject, call, sqlite, checkDatabase } from './load.mjs';

const SHIM = path.resolve('build/failsync.so');
const skip = TEST_DB_URL ? 'SQLite only' : SANITIZED ? 'not under the sanitizers' : !fs.existsSync(SHIM) ? `${SHIM} is not built (make build/failsync.so)` : false;

describe('a failed flush', { skip }, () => {
  let srv, setup, agent, trigger, dir;
  before(async () => {
    dir = tempDir('loupe-syncfail-');
    trigger = path.join(dir, 'fail-sync-now');
    srv = await startServer({ dir, env: { LD_PRELOAD: SHIM, LOUPE_FAILSYNC_FILE: trigger } });
    setup = await setupProject(srv, { tasks: 200, annotators: 4 });
    agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  });
  after(async () => {
    agent?.destroy();
    if (srv && srv.exited() === null) await srv.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers every waiting write with an error, acknowledges nothing after, stops with status 1, and a restart finds every acknowledged submit', async () => {
    const acked = [];
    const refused = [];
    let leasesRefused = 0;
    // Each annotator submits in a loop; the trigger appears part way.
    let n = 0;
    const worker = async (w) => {
      const api = (method, p, body) => call(agent, srv.base, w.key, method, p, body);
      for (;;) {
        let lease;
        try {
          lease = await api('GET', `/v1/projects/${setup.pid}/queue/next`);
        } catch {
          leasesRefused++; // the server is gone
          return;
        }
        if (lease.status !== 200) { // a lease is a write too
          assert.ok([503, 507].includes(lease.status), `lease answered ${lease.status}: ${lease.text}`);
          leasesRefused++;
          return;
        }
        const aid = `sf-${w.uid}-${n++}`;
        let r;
        try {
          r = await api('POST', `/v1/assignments/${lease.body.assignment.id}/submit`, { annotation_id: aid, response: { labels: ['cat'] } });
        } catch {
          refused.push(aid); // no answer: not acknowledged
          return;
        }
        if (r.status === 201) acked.push(aid);
        else {
          assert.ok([503, 507].includes(r.status), `submit answered ${r.status}: ${r.text}`);
          refused.push(aid);
          return;
        }
      }
    };
    const runs = setup.workers.map(worker);
    while (acked.length < 40) await sleep(5);
    fs.writeFileSync(trigger, '');
    await Promise.all(runs);
    // It stops by itself, with status 1 and the reason.
    const deadline = Date.now() + 30000;
    while (srv.exited() === null && Date.now() < deadline) await sleep(50);
    const res = srv.exited();
    assert.ok(res, 'the server did not stop after a failed flush');
    assert.equal(res.code, 1, `exit ${res.code} ${res.signal}`);
    const log = srv.readLog();
    assert.match(log, /flushing the database to disk failed \(.*\)/);
    assert.match(log, /loupe exits \(status 1\)/);
    assert.doesNotMatch(log, /retrying/);
    assert.ok(refused.length + leasesRefused > 0, 'no write was refused');
    // Restarted without the fault: every acknowledged submit is there.
    fs.rmSync(trigger);
    srv = await startServer({ dir, key: srv.key });
    const db = path.join(dir, 'loupe.db');
    const stored = new Set(sqlite(db, 'SELECT annotation_id FROM annotations'));
    assert.deepEqual(acked.filter((a) => !stored.has(a)), [], 'acknowledged submits lost');
    checkDatabase(db, 'after the failed flush');
    // And it works again.
    const w = setup.workers[0];
    const lease = expectStatus(await call(agent, srv.base, w.key, 'GET', `/v1/projects/${setup.pid}/queue/next`), 200);
    expectStatus(await call(agent, srv.base, w.key, 'POST', `/v1/assignments/${lease.assignment.id}/submit`, { annotation_id: 'sf-after', response: { labels: ['dog'] } }), 201);
    console.log(`# failed flush: ${acked.length} submits acknowledged before it, ${refused.length} submits and ${leasesRefused} leases refused or unanswered; all acknowledged ones found after the restart`);
  });
});
