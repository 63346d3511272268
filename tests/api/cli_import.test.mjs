// cli_import.test.mjs -- `loupe import`: a folder of two PNGs and a WAV
// (stored in the file store as POST /v1/files stores them, one task each),
// a CSV file with a column mapping, a list of URLs, and bad rows printed as
// FILE:LINE with a non-zero exit while the good rows import.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, it, runCli, tempDir, expectStatus, makeProject, listAll, assertNoSanitizerReport } from './harness.mjs';
import { png, wav } from '../browser/media.mjs';

let srv, scratch;

function loupeImport(args) {
  const r = runCli(['import', ...args.map(String), '--data-dir', srv.dir], { cwd: scratch });
  assert.equal(r.signal, null, `loupe import died of ${r.signal}:\n${r.stderr}`);
  assertNoSanitizerReport(r.stderr, 'loupe import');
  return r;
}

async function tasks(pid) {
  return (await listAll(srv, `/v1/projects/${pid}/tasks`)).items;
}

describe('loupe import', () => {
  before(async () => {
    srv = await startServer();
    scratch = tempDir('loupe-import-');
  });
  after(async () => {
    await srv?.stop();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('a folder of two PNGs and a WAV: one task per file, each file stored and attached', async () => {
    const p = await makeProject(srv);
    const dir = path.join(scratch, 'media');
    fs.mkdirSync(dir);
    const files = { 'a.png': png(4, 3), 'b.PNG': png(2, 2, () => [255, 0, 0]), 'c.wav': wav({ seconds: 0.1 }) };
    for (const [name, bytes] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), bytes);
    fs.writeFileSync(path.join(dir, '.hidden'), 'skipped');
    const r = loupeImport([p.id, dir]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /3 created, 0 duplicates, 0 invalid/);
    const ts = await tasks(p.id);
    assert.deepEqual(ts.map((t) => t.unique_id).sort(), ['a.png', 'b.PNG', 'c.wav']);
    for (const t of ts) {
      const bytes = files[t.unique_id];
      const sha = crypto.createHash('sha256').update(bytes).digest('hex');
      assert.equal(t.attachments.length, 1);
      const a = t.attachments[0];
      assert.equal(a.type, t.unique_id.endsWith('.wav') ? 'audio' : 'image');
      assert.equal(a.file, sha);
      assert.equal(a.name, t.unique_id);
      // served back as POST /v1/files would serve it
      const got = await srv.api('GET', `/v1/files/${sha}`);
      assert.equal(got.status, 200);
      assert.equal(got.headers.get('content-type'), t.unique_id.endsWith('.wav') ? 'audio/wav' : 'image/png');
    }
    // run again: the files are stored once and the tasks come back as duplicates
    const again = loupeImport([p.id, dir]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /0 created, 3 duplicates/);
  });

  it('a CSV with --columns and --batch; a bad row is printed as tasks.csv:LINE and the exit is 1', async () => {
    const p = await makeProject(srv);
    const csv = path.join(scratch, 'tasks.csv');
    fs.writeFileSync(csv, 'id,review,prio\nk1,"good, very",1\nk2,"two\nlines",high\nk3,fine,3\n');
    const r = loupeImport([p.id, 'tasks.csv', '--columns', 'id:unique_id,review:data.text,prio:priority', '--batch', 'week-1']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^tasks\.csv:3: priority: /m);
    assert.match(r.stdout, /tasks\.csv: 2 created, 0 duplicates, 1 invalid/);
    const ts = await tasks(p.id);
    assert.deepEqual(ts.map((t) => [t.unique_id, t.data.text]), [['k1', 'good, very'], ['k3', 'fine']]);
    const batches = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/batches`), 200);
    const b = (batches.items ?? batches).find((x) => x.name === 'week-1');
    assert.ok(b, 'no batch week-1');
    assert.ok(ts.every((t) => t.batch_id === b.id), 'the tasks are not in the batch');
  });

  it('a mapping naming a missing column refuses the file before any row', async () => {
    const p = await makeProject(srv);
    fs.writeFileSync(path.join(scratch, 'm.csv'), 'text\nhello\n');
    const r = loupeImport([p.id, 'm.csv', '--columns', 'review:data.text']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /m\.csv: columns: the header has no column "review"/);
    assert.equal((await tasks(p.id)).length, 0);
  });

  it('NDJSON through the same import: a broken line is reported by its line', async () => {
    const p = await makeProject(srv);
    fs.writeFileSync(path.join(scratch, 't.ndjson'), '{"unique_id":"n1"}\n\n{"unique_id":\n{"unique_id":"n2"}\n');
    const r = loupeImport([p.id, 't.ndjson']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^t\.ndjson:3: invalid JSON/m);
    assert.match(r.stdout, /2 created, 0 duplicates, 1 invalid/);
  });

  it('--format urls: one task per URL, its type by the extension; a bad URL names its line', async () => {
    const p = await makeProject(srv);
    fs.writeFileSync(path.join(scratch, 'urls.txt'),
      '# cameras\nhttps://img.example.com/1.jpg\n\nhttps://cdn.example.com/clip.mp3?sig=abc\nftp://old.example.com/x.png\nhttps://example.com/page\n');
    const r = loupeImport([p.id, 'urls.txt', '--format', 'urls']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^urls\.txt:5: attachments\[0\]\.url: /m);
    assert.match(r.stdout, /3 created, 0 duplicates, 1 invalid/);
    const ts = await tasks(p.id);
    assert.deepEqual(ts.map((t) => t.attachments[0].type), ['image', 'audio', 'other']);
    assert.equal(ts[1].attachments[0].url, 'https://cdn.example.com/clip.mp3?sig=abc');
  });

  it('bad arguments exit 2: no format for an unknown extension, an unknown project exits 1', async () => {
    fs.writeFileSync(path.join(scratch, 'x.dat'), '');
    let r = loupeImport([1, 'x.dat']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--format/);
    r = loupeImport(['abc', 'x.dat']);
    assert.equal(r.status, 2);
    r = loupeImport([999999, 'x.dat', '--format', 'json']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no such project/);
  });
});
