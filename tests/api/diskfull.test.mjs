// diskfull.test.mjs -- the data directory on a small tmpfs, filled up by a
// file while the server runs:
//  - requests that need space fail with 507 insufficient_storage naming
//    the full disk (never 500, never a crash);
//  - nothing is half-written: a submit is acknowledged and stored, or
//    refused and absent; a bulk import keeps whole rows only, and sent again
//    once space returns, creates exactly the rows missing;
//  - once the filler is deleted, the next requests succeed;
//  - the database passes integrity_check with its counters equal to its rows.
// Needs mount(2) (root); skipped with the reason otherwise, and on
// PostgreSQL (whose disk is not the data directory).
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startServer, it, tempDir, expectError, expectStatus, TEST_DB_URL } from './harness.mjs';
import { setupProject, call, sqlite, checkDatabase } from './load.mjs';

const SIZE = '24m';
const IMPORT_ROWS = 20000;

/* Mounts a tmpfs of SIZE on a new directory: its path, or the reason it cannot. */
function mountSmall() {
  const dir = tempDir('loupe-full-');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${SIZE}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status === 0) return { dir };
  fs.rmSync(dir, { recursive: true, force: true });
  return { reason: `cannot mount a tmpfs (needs root): ${(r.stderr || String(r.error)).trim()}` };
}

const mnt = TEST_DB_URL ? { reason: 'PostgreSQL: its disk is not the data directory' } : mountSmall();

/* Fills the file system of dir with one file, to the last page but
 * `spare` bytes: its path. */
function fill(dir, spare) {
  const file = path.join(dir, 'filler');
  const fd = fs.openSync(file, 'w');
  for (const size of [1 << 20, 4096, 512]) {
    const buf = Buffer.alloc(size, 0x61);
    for (;;) {
      try {
        fs.writeSync(fd, buf);
      } catch (e) {
        if (e.code !== 'ENOSPC') throw e;
        break;
      }
    }
  }
  fs.ftruncateSync(fd, fs.fstatSync(fd).size - spare);
  fs.closeSync(fd);
  return file;
}

function rows(n, prefix) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(JSON.stringify({ unique_id: `${prefix}${i}`, data: { text: `${prefix} row ${i} `.repeat(4) } }));
  return out.join('\n') + '\n';
}

describe('disk full', { skip: mnt.reason || false }, () => {
  let srv, setup, agent;
  before(async () => {
    srv = await startServer({ dir: mnt.dir });
    setup = await setupProject(srv, { tasks: 3000, annotators: 2 });
    agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  });
  after(async () => {
    agent?.destroy();
    if (srv && !srv.exited()) await srv.stop();
    spawnSync('umount', [mnt.dir]);
    fs.rmSync(mnt.dir, { recursive: true, force: true });
  });

  it('refuses with 507 while the disk is full, half-writes nothing, and recovers', async () => {
    const w = setup.workers[0];
    const api = (method, p, body) => call(agent, srv.base, w.key, method, p, body);
    // A second annotator holds a lease from before the disk fills: a submit
    // to try when the first one's leases are refused too.
    const w2 = setup.workers[1];
    const api2 = (method, p, body) => call(agent, srv.base, w2.key, method, p, body);
    let held = expectStatus(await api2('GET', `/v1/projects/${setup.pid}/queue/next`), 200).assignment;
    const filler = fill(mnt.dir, 3 << 20); // room for part of the import

    // A bulk import larger than the space left: refused part way (its
    // chunks of 5,000 rows committed before stay, whole).
    const body = rows(IMPORT_ROWS, 'imp-');
    const imp = await srv.api('POST', `/v1/projects/${setup.pid}/tasks`, body, { headers: { 'content-type': 'application/x-ndjson' } });
    assert.equal(imp.body?.error?.code, 'insufficient_storage', `bulk import on a full disk: ${imp.status} ${imp.text.slice(0, 300)}`);
    assert.equal(imp.status, 507);

    // Submits until the database cannot grow: each one 201 or 507.
    const acked = [], refused = [], acked2 = [], refused2 = [];
    let lastLease = null, n = 0, leasesRefused = 0;
    while (refused.length + refused2.length < 5 && n < 3000) {
      const lease = await api('GET', `/v1/projects/${setup.pid}/queue/next`);
      let assignment;
      if (lease.status === 200) assignment = lease.body.assignment;
      else {
        expectError(lease, 507);
        assignment = lastLease; // the lease itself needs space: submit the last one again
      }
      if (!assignment) { // refused with no lease left to submit: the other annotator's
        leasesRefused++;
        const aid = `full-${n++}`;
        if (!held) continue;
        const r = await api2('POST', `/v1/assignments/${held.id}/submit`, { annotation_id: aid, response: { labels: ['dog'] } });
        if (r.status === 201) {
          acked2.push(aid);
          held = null;
        } else {
          expectError(r, 507);
          refused2.push(aid);
        }
        continue;
      }
      lastLease = assignment;
      const aid = `full-${n++}`;
      const r = await api('POST', `/v1/assignments/${assignment.id}/submit`, { annotation_id: aid, response: { labels: ['dog'] } });
      if (r.status === 201) {
        acked.push(aid);
        lastLease = null;
      } else {
        const e = expectError(r, 507);
        assert.equal(e.code, 'insufficient_storage');
        assert.match(e.message, /disk is full: the change was not saved/);
        refused.push(aid);
      }
    }
    assert.ok(refused.length + refused2.length >= 5, `no submit was refused after ${n} tries on a full disk`);

    // An upload too.
    const up = await srv.api('POST', '/v1/files?filename=x.bin', Buffer.alloc(256 << 10, 7), { headers: { 'content-type': 'application/octet-stream' } });
    expectError(up, 507);
    assert.ok(srv.exited() === null, 'the server died on the full disk');

    // Space returns: nothing refused was stored; the next requests succeed.
    fs.rmSync(filler);
    const db = path.join(mnt.dir, 'loupe.db');
    const stored = new Set(sqlite(db, `SELECT annotation_id FROM annotations WHERE user_id = ${w.uid}`));
    assert.deepEqual(acked.filter((a) => !stored.has(a)), [], 'acknowledged submits missing');
    assert.deepEqual(refused.filter((a) => stored.has(a)), [], 'refused submits stored');
    const stored2 = new Set(sqlite(db, `SELECT annotation_id FROM annotations WHERE user_id = ${w2.uid}`));
    assert.deepEqual(acked2.filter((a) => !stored2.has(a)), [], 'acknowledged submits missing');
    assert.deepEqual(refused2.filter((a) => stored2.has(a)), [], 'refused submits stored');
    const whole = sqlite(db, "SELECT unique_id, json_extract(data, '$.text') FROM tasks WHERE unique_id LIKE 'imp-%'");
    for (const line of whole) {
      const [uid, text] = line.split('|');
      assert.equal(text, `imp- row ${uid.slice(4)} `.repeat(4), `task ${uid} half-written`);
    }
    if (!lastLease) lastLease = expectStatus(await api('GET', `/v1/projects/${setup.pid}/queue/next`), 200).assignment;
    const again = await api('POST', `/v1/assignments/${lastLease.id}/submit`, { annotation_id: 'after', response: { labels: ['cat'] } });
    assert.equal(again.status, 201, `the first submit after space returned: ${again.text}`);
    const imp2 = await srv.api('POST', `/v1/projects/${setup.pid}/tasks`, body, { headers: { 'content-type': 'application/x-ndjson' } });
    assert.equal(imp2.status, 200, imp2.text.slice(0, 300));
    assert.equal(imp2.body.duplicates, whole.length);
    assert.equal(imp2.body.created, IMPORT_ROWS - whole.length);
    const up2 = await srv.api('POST', '/v1/files?filename=x.bin', Buffer.alloc(256 << 10, 7), { headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(up2.status, 201, up2.text);
    console.log(`# disk full: ${acked.length + acked2.length} submits acknowledged then ${refused.length + refused2.length} refused with 507 (and ${leasesRefused} leases); the import kept ${whole.length} whole rows of ${IMPORT_ROWS}; all accepted again after`);
    // The refusals are counted apart, for an alert on a full disk.
    const m = await srv.api('GET', '/metrics');
    if (refused.length + refused2.length) assert.match(m.text, /route="\/v1\/assignments\/\{\}\/submit",status="507"\} [1-9]/);
    if (leasesRefused) assert.match(m.text, /route="\/v1\/projects\/\{\}\/queue\/next",status="507"\} [1-9]/);
    await srv.stop();
    checkDatabase(db, 'after the disk was full');
  });
});
