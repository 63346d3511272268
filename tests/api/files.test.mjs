// files.test.mjs -- uploaded attachments: POST /v1/files (raw bytes,
// content-addressed) and GET /v1/files/{sha256}.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startServer, it, expectError, expectStatus, makeMember, makeProject, rawRequest, SLOW } from './harness.mjs';

let srv;
const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');

function upload(bytes, contentType = 'application/octet-stream', o = {}) {
  return srv.api('POST', `/v1/files${o.query ?? ''}`, bytes, { ...o, headers: { 'content-type': contentType, ...(o.headers ?? {}) } });
}

describe('files', () => {
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  let png, pngSha;

  it('uploading raw bytes answers 201 with the sha256, size and url', async () => {
    png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), crypto.randomBytes(100000)]);
    pngSha = sha256(png);
    const r = await upload(png, 'image/png', { query: '?filename=cat.png' });
    const f = expectStatus(r, 201);
    assert.equal(f.sha256, pngSha);
    assert.equal(f.size, png.length);
    assert.equal(f.url, `/v1/files/${pngSha}`);
    assert.equal(f.content_type, 'image/png');
    assert.equal(f.filename, 'cat.png');
  });

  it('the same bytes again give the same sha256 and url, and do not change the stored file', async () => {
    const r = await upload(png, 'application/octet-stream');
    assert.ok([200, 201].includes(r.status), `re-upload answered ${r.status}: ${r.text}`);
    assert.equal(r.body.sha256, pngSha);
    assert.equal(r.body.url, `/v1/files/${pngSha}`);
    assert.equal(r.body.size, png.length);
    const g = await srv.api('GET', `/v1/files/${pngSha}`, undefined, { raw: true });
    assert.equal(g.headers.get('content-type'), 'image/png', 'a re-upload changed the stored content type');
  });

  it('GET returns the bytes, the content type and a sandboxing Content-Security-Policy', async () => {
    const r = await srv.api('GET', `/v1/files/${pngSha}`, undefined, { raw: true });
    assert.equal(r.status, 200);
    assert.ok(r.buf.equals(png), `got ${r.buf.length} bytes, not the ${png.length} uploaded`);
    assert.equal(r.headers.get('content-type'), 'image/png');
    assert.match(r.headers.get('content-security-policy') ?? '', /sandbox/);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(Number(r.headers.get('content-length')), png.length);
  });

  it('an uploaded HTML file is served sandboxed', async () => {
    const html = Buffer.from('<html><script>alert(document.cookie)</script></html>');
    const f = expectStatus(await upload(html, 'text/html'), 201);
    const r = await srv.api('GET', f.url, undefined, { raw: true });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-security-policy') ?? '', /sandbox/);
    assert.ok(r.buf.equals(html));
  });

  it('a 3 MB upload (many chunks) hashes and reads back exactly', async () => {
    const big = crypto.randomBytes(3 * 1024 * 1024 + 17);
    const f = expectStatus(await upload(big, 'application/octet-stream'), 201);
    assert.equal(f.sha256, sha256(big));
    assert.equal(f.size, big.length);
    const r = await srv.api('GET', f.url, undefined, { raw: true });
    assert.equal(r.status, 200);
    assert.equal(sha256(r.buf), f.sha256);
  });

  it('a streamed (chunked) upload with no Content-Length works', async () => {
    const parts = [crypto.randomBytes(70000), crypto.randomBytes(70000), crypto.randomBytes(5)];
    const all = Buffer.concat(parts);
    const stream = new ReadableStream({
      start(c) {
        for (const p of parts) c.enqueue(new Uint8Array(p));
        c.close();
      },
    });
    const f = expectStatus(await upload(stream, 'application/octet-stream'), 201);
    assert.equal(f.sha256, sha256(all));
    assert.equal(f.size, all.length);
  });

  it('without a key: upload and download get 401', async () => {
    expectError(await srv.api('GET', `/v1/files/${pngSha}`, undefined, { key: null }), 401);
    const r = await upload(Buffer.from('anonymous'), 'text/plain', { key: null });
    expectError(r, 401);
    // and it was not stored
    expectError(await srv.api('GET', `/v1/files/${sha256(Buffer.from('anonymous'))}`), 404);
  });

  it('a file is read by its uploader, admins and the members of a project whose tasks name it; to anyone else it does not exist', async () => {
    const m = await makeMember(srv, 'reader@test.io');
    const up = await makeMember(srv, 'uploader@test.io');
    const get = (sha, key) => srv.api('GET', `/v1/files/${sha}`, undefined, { key, raw: true });
    const ask = (sha, key) => srv.api('GET', `/v1/files/${sha}`, undefined, { key });
    expectError(await ask(pngSha, m.key), 404);
    // A member's own upload: theirs, not another member's.
    const mine = Buffer.from(`mine ${Date.now()}`);
    const mineSha = expectStatus(await srv.api('POST', '/v1/files', mine, { key: up.key, headers: { 'content-type': 'text/plain' } }), 201).sha256;
    assert.equal((await get(mineSha, up.key)).status, 200);
    expectError(await ask(mineSha, m.key), 404);
    assert.equal((await get(mineSha, srv.key)).status, 200, 'an admin reads every file');
    // Whoever uploads the same bytes may read them too (having them is proof enough).
    const twin = makeMember(srv, 'twin@test.io');
    const tw = await twin;
    expectStatus(await srv.api('POST', '/v1/files', mine, { key: tw.key, headers: { 'content-type': 'text/plain' } }), 200);
    assert.equal((await get(mineSha, tw.key)).status, 200);
    // Named by a task of a project (an attachment's file, or a URL in its
    // data or attachments): the project's members read it, others do not.
    const p = await makeProject(srv);
    const q = await makeProject(srv);
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${m.id}`, { role: 'annotator' }), 200);
    const viaUrl = Buffer.from(`url ${Date.now()}`);
    const urlSha = expectStatus(await srv.api('POST', '/v1/files', viaUrl, { headers: { 'content-type': 'text/plain' } }), 201).sha256;
    expectError(await ask(urlSha, m.key), 404);
    expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, [
      { data: { text: 'a' }, attachments: [{ type: 'image', file: pngSha }] },
      { data: { image: `/v1/files/${urlSha}`, text: 'b' } },
    ]), 200);
    assert.ok((await get(pngSha, m.key)).buf.equals(png));
    assert.ok((await get(urlSha, m.key)).buf.equals(viaUrl));
    const other = await makeMember(srv, 'other-reader@test.io');
    expectStatus(await srv.api('PUT', `/v1/projects/${q.id}/members/${other.id}`, { role: 'manager' }), 200);
    expectError(await ask(urlSha, other.key), 404);
    // A manager cannot open someone else's file to their project by naming
    // its hash in a task: the task is stored, the file stays closed.
    expectStatus(await srv.api('POST', `/v1/projects/${q.id}/tasks`, [{ data: { image: `/v1/files/${mineSha}`, text: 'c' } }], { key: other.key }), 200);
    expectError(await ask(mineSha, other.key), 404);
    // An admin's key scoped to project q cannot link a file it cannot read
    // there either (it is linked to p, not q).
    const scoped = expectStatus(await srv.api('POST', '/v1/keys', { name: 'q only', project_id: q.id }), 201).key;
    expectStatus(await srv.api('POST', `/v1/projects/${q.id}/tasks`, [{ data: { image: `/v1/files/${urlSha}`, text: 'd' } }], { key: scoped }), 200);
    expectError(await ask(urlSha, scoped), 404);
    expectError(await ask(urlSha, other.key), 404);
    // ?project_id on upload: the project's members read it at once; only
    // its managers may upload to it.
    const pre = Buffer.from(`pre ${Date.now()}`);
    const preSha = expectStatus(await srv.api('POST', `/v1/files?project_id=${p.id}`, pre, { headers: { 'content-type': 'text/plain' } }), 201).sha256;
    assert.ok((await get(preSha, m.key)).buf.equals(pre));
    expectError(await srv.api('POST', `/v1/files?project_id=${p.id}`, Buffer.from('x1'), { key: m.key, headers: { 'content-type': 'text/plain' } }), 403);
    expectError(await srv.api('POST', `/v1/files?project_id=${p.id}`, Buffer.from('x2'), { key: other.key, headers: { 'content-type': 'text/plain' } }), 404);
    expectError(await srv.api('POST', '/v1/files?project_id=abc', Buffer.from('x3'), { headers: { 'content-type': 'text/plain' } }), 400, 'project_id');
  });

  it('an unknown or malformed sha256 gets 404', async () => {
    expectError(await srv.api('GET', `/v1/files/${'0'.repeat(64)}`), 404);
    expectError(await srv.api('GET', `/v1/files/${pngSha.slice(0, 63)}`), 404);
    expectError(await srv.api('GET', '/v1/files/not-a-sha'), 404);
    expectError(await srv.api('GET', `/v1/files/${'..%2F'.repeat(5)}secret.key`), 404);
  });

  it('a multipart upload gets 415', async () => {
    const body = '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello\r\n--xyz--\r\n';
    const r = await upload(body, 'multipart/form-data; boundary=xyz');
    expectError(r, 415);
    expectError(await srv.api('GET', `/v1/files/${sha256(Buffer.from(body))}`), 404);
  });

  it('an empty upload gets 400', async () => {
    expectError(await upload(Buffer.alloc(0), 'image/png'), 400);
    expectError(await srv.api('POST', '/v1/files', undefined), 400);
  });

  describe('with --file-limit-mb 1', () => {
    let small;
    before(async () => {
      small = await startServer({ args: ['--file-limit-mb', '1'] });
    });
    after(async () => {
      await small?.stop();
    });

    it('a file up to the limit is stored; one byte more gets 413 and is not stored', async () => {
      const ok = crypto.randomBytes(1024 * 1024);
      const f = expectStatus(await small.api('POST', '/v1/files', ok, { headers: { 'content-type': 'application/octet-stream' } }), 201);
      assert.equal(f.size, ok.length);
      const big = crypto.randomBytes(1024 * 1024 + 1);
      const r = await small.api('POST', '/v1/files', big, { headers: { 'content-type': 'application/octet-stream' } });
      expectError(r, 413);
      expectError(await small.api('GET', `/v1/files/${sha256(big)}`), 404);
    });

    it('a declared Content-Length over the file limit is refused before the body is sent', async () => {
      const head = [
        'POST /v1/files HTTP/1.1',
        `Host: 127.0.0.1:${small.port}`,
        `Authorization: Bearer ${small.key}`,
        'Content-Type: application/octet-stream',
        `Content-Length: ${50 * 1024 * 1024}`,
      ].join('\r\n') + '\r\n\r\n';
      const r = await rawRequest(small.port, head, { timeout: 3000 * Math.min(SLOW, 2) });
      assert.equal(r.status, 413, `a 50 MB upload declared in Content-Length (limit 1 MB) was not refused after its headers${r.timedOut ? ': the server waited for the body' : `: ${r.text.slice(0, 200)}`}`);
    });
  });

  it('an upload refused at its headers (no key) still gets its 401, not a reset', async () => {
    // The client sends the whole body without asking first: the server reads
    // and drops it before answering, so the answer is not lost.
    const body = crypto.randomBytes(2 * 1024 * 1024);
    const r = await srv.api('POST', '/v1/files', body, { key: null, headers: { 'content-type': 'application/octet-stream' } });
    expectError(r, 401);
  });

  it('a Range request gets 206 with exactly those bytes, so media players can seek', async () => {
    const get = (range) => srv.api('GET', `/v1/files/${pngSha}`, undefined, { raw: true, headers: { range } });
    const whole = await srv.api('GET', `/v1/files/${pngSha}`, undefined, { raw: true });
    assert.equal(whole.headers.get('accept-ranges'), 'bytes', 'the full answer does not say ranges work');
    const n = png.length;
    for (const [range, from, to] of [
      ['bytes=0-99', 0, 99],
      ['bytes=5000-', 5000, n - 1],
      ['bytes=-10', n - 10, n - 1],
      ['bytes=99990-200000', 99990, n - 1],
    ]) {
      const r = await get(range);
      assert.equal(r.status, 206, `${range}: ${r.status}`);
      assert.equal(r.headers.get('content-range'), `bytes ${from}-${to}/${n}`, range);
      assert.ok(r.buf.equals(png.subarray(from, to + 1)), `${range}: got ${r.buf.length} bytes, not bytes ${from}-${to}`);
      assert.equal(Number(r.headers.get('content-length')), to - from + 1, range);
      assert.match(r.headers.get('content-security-policy') ?? '', /sandbox/);
    }
    const past = await get(`bytes=${n}-`);
    assert.equal(past.status, 416);
    assert.equal(JSON.parse(past.buf.toString()).error.field, 'Range');
    assert.equal(past.headers.get('content-range'), `bytes */${n}`);
    // Several ranges, or a malformed header, get the whole file (RFC 9110 allows it).
    for (const range of ['bytes=0-1,5-6', 'bytes=x-y', 'lines=1-2']) {
      const r = await get(range);
      assert.equal(r.status, 200, range);
      assert.equal(r.buf.length, n, range);
    }
  });

  it('If-None-Match with the ETag answers 304 with no body', async () => {
    const r1 = await srv.api('GET', `/v1/files/${pngSha}`, undefined, { raw: true });
    const etag = r1.headers.get('etag');
    assert.ok(etag, 'no ETag');
    const r2 = await srv.api('GET', `/v1/files/${pngSha}`, undefined, { raw: true, headers: { 'if-none-match': etag } });
    assert.equal(r2.status, 304);
    assert.equal(r2.buf.length, 0);
  });
});
