// errors.test.mjs -- the error format and the HTTP edge: bad JSON, nesting
// and size limits, unknown routes, wrong methods, bad ids, media types.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, it, expectError, expectStatus, makeProject, getProject, rawRequest, SLOW } from './harness.mjs';

let srv, project;
const MB = 1024 * 1024;

function rawHead(method, path, headers) {
  const lines = [`${method} ${path} HTTP/1.1`, `Host: 127.0.0.1:${srv.port}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return lines.join('\r\n') + '\r\n\r\n';
}

/* A body stream of n bytes of JSON-ish text, sent chunked (no Content-Length). */
function streamOf(n, chunk = 64 * 1024) {
  let sent = 0;
  const piece = new Uint8Array(chunk).fill(0x20);
  return new ReadableStream({
    pull(c) {
      if (sent === 0) {
        c.enqueue(new TextEncoder().encode('{"name":"'));
        sent += 9;
        return;
      }
      if (sent >= n) return c.close();
      const k = Math.min(chunk, n - sent);
      c.enqueue(k === chunk ? piece : piece.subarray(0, k));
      sent += k;
    },
  });
}

describe('errors', () => {
  before(async () => {
    srv = await startServer();
    project = await makeProject(srv, { name: 'errors' });
  });
  after(async () => {
    await srv?.stop();
  });

  it('every error body is {"error":{"code","message"[,"field"]}} as JSON', async () => {
    const cases = [
      ['GET', '/v1/me', undefined, { key: null }, 401],
      ['GET', '/v1/nowhere', undefined, {}, 404],
      ['DELETE', '/v1/projects', undefined, {}, 405],
      ['POST', '/v1/projects', '{nope', { headers: { 'content-type': 'application/json' } }, 400],
      ['POST', '/v1/projects', { name: 'x', kind: 'nope' }, {}, 422],
      ['POST', '/v1/projects', '{}', { headers: { 'content-type': 'application/xml' } }, 415],
      ['GET', `/v1/tasks?project_id=${project.id}&status=nope`, undefined, {}, 400],
      ['GET', '/v1/projects/987654', undefined, {}, 404],
      ['POST', `/v1/projects/${project.id}/batches`, { name: 'twice' }, {}, 201],
      ['POST', `/v1/projects/${project.id}/batches`, { name: 'twice' }, {}, 409],
    ];
    for (const [m, p, body, o, status] of cases) {
      const r = await srv.api(m, p, body, o);
      if (status < 400) {
        expectStatus(r, status);
        continue;
      }
      expectError(r, status);
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/, `${m} ${p}: content-type`);
      assert.deepEqual(Object.keys(r.body), ['error'], `${m} ${p}: extra top-level keys in ${r.text}`);
      const extra = Object.keys(r.body.error).filter((k) => !['code', 'message', 'field'].includes(k));
      assert.deepEqual(extra, [], `${m} ${p}: unexpected error keys in ${r.text}`);
      if ('field' in r.body.error) assert.equal(typeof r.body.error.field, 'string');
    }
  });

  it('a path segment that is not UTF-8 (any route, any byte) gets a JSON 404 with the bytes escaped, and the server lives', async () => {
    for (const bad of ['%FF', '%C3%28', '%ED%A0%80', '%F4%90%80%80', '%C0%AF', 'a%E2%82']) {
      for (const [method, p] of [['GET', `/v1/tasks/${bad}`], ['POST', `/v1/assignments/${bad}/submit`], ['GET', `/v1/projects/${bad}/tasks`], ['GET', `/v1/files/${bad}`], ['DELETE', `/v1/keys/${bad}`], ['GET', `/v1/${bad}`]]) {
        const r = await srv.api(method, p, method === 'POST' ? { annotation_id: 'x', response: {} } : undefined);
        assert.ok(r.status === 404 || r.status === 405, `${method} ${p}: ${r.status} ${r.text}`);
        assert.equal(typeof r.body?.error?.message, 'string', `${method} ${p}: ${r.text}`);
        assert.doesNotMatch(r.text, /\ufffd/, 'bytes were replaced instead of escaped');
      }
    }
    expectStatus(await srv.api('GET', '/healthz', undefined, { key: null }), 200);
  });

  it('a body that is not valid JSON gets 400 naming "body"', async () => {
    for (const body of ['{"name": "x",}', '{"name": "x"', 'name=x', '\u00ff\u00fe', '{"a":1}{"b":2}']) {
      const r = await srv.api('POST', '/v1/projects', body, { headers: { 'content-type': 'application/json' } });
      expectError(r, 400, 'body');
    }
  });

  it('invalid UTF-8 and duplicate keys are refused with 400', async () => {
    const bad = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28]), Buffer.from('","kind":"categorization","params":{"labels":["a"]}}')]);
    expectError(await srv.api('POST', '/v1/projects', bad, { headers: { 'content-type': 'application/json' } }), 400, 'body');
    const dup = '{"name":"a","name":"b","kind":"categorization","params":{"labels":["a"]}}';
    expectError(await srv.api('POST', '/v1/projects', dup, { headers: { 'content-type': 'application/json' } }), 400, 'body');
  });

  it('an empty body or a non-object where an object is needed gets 400 naming "body"', async () => {
    expectError(await srv.api('POST', '/v1/projects', '', { headers: { 'content-type': 'application/json' } }), 400, 'body');
    expectError(await srv.api('POST', '/v1/projects', [1, 2]), 400, 'body');
    expectError(await srv.api('POST', '/v1/projects', '"a string"', { headers: { 'content-type': 'application/json' } }), 400, 'body');
  });

  it('JSON nested 100 deep gets 422 (depth limit); moderate nesting is fine', async () => {
    const deep = '['.repeat(100) + ']'.repeat(100);
    expectError(await srv.api('POST', '/v1/projects', deep, { headers: { 'content-type': 'application/json' } }), 422, 'body');
    let md = {};
    for (let i = 0; i < 99; i++) md = { d: md };
    const r = await srv.api('POST', '/v1/projects', { name: 'deep', kind: 'categorization', params: { labels: ['a'] }, metadata: md });
    expectError(r, 422, 'body');
    let ok = {};
    for (let i = 0; i < 20; i++) ok = { d: ok };
    const p = expectStatus(await srv.api('POST', '/v1/projects', { name: 'ok', kind: 'categorization', params: { labels: ['a'] }, metadata: ok }), 201);
    assert.deepEqual(p.metadata, ok);
    // brackets inside strings do not count
    const s = '['.repeat(500);
    const q = expectStatus(await srv.api('POST', '/v1/projects', { name: s.slice(0, 200), kind: 'categorization', params: { labels: ['a'] }, metadata: { s } }), 201);
    assert.equal(q.metadata.s, s);
  });

  it('a body over the 10 MB limit gets 413 (streamed, no Content-Length)', async () => {
    const r = await srv.api('POST', '/v1/projects', streamOf(11 * MB), { headers: { 'content-type': 'application/json' }, timeout: 60000 * SLOW });
    expectError(r, 413);
    expectStatus(await srv.api('GET', '/healthz', undefined, { key: null }), 200);
  });

  it('a Content-Length over the limit is refused before the body is sent (Expect: 100-continue)', async () => {
    // A client that asks before sending gets the 413 instead of "100 Continue".
    const head = rawHead('POST', '/v1/projects', {
      Authorization: `Bearer ${srv.key}`,
      'Content-Type': 'application/json',
      'Content-Length': String(11 * MB),
      Expect: '100-continue',
    });
    const t0 = Date.now();
    const r = await rawRequest(srv.port, head, { timeout: 10000 * SLOW });
    assert.equal(r.status, 413, `no 413 without the body: ${JSON.stringify(r.text.slice(0, 300))}${r.timedOut ? ' (timed out waiting)' : ''}`);
    assert.ok(Date.now() - t0 < 5000 * SLOW, 'the 413 waited for the body');
    const body = JSON.parse(r.body.slice(0, Number(r.headers['content-length'])));
    assert.equal(typeof body.error.code, 'string');
  });

  it('an upload without a key is refused after its headers, whatever its size', async () => {
    const head = rawHead('POST', '/v1/files', { 'Content-Type': 'application/octet-stream', 'Content-Length': String(1024 * MB) });
    const r = await rawRequest(srv.port, head, { timeout: 10000 * SLOW });
    assert.equal(r.status, 401, `got ${JSON.stringify(r.text.slice(0, 300))}${r.timedOut ? ' (timed out waiting)' : ''}`);
  });

  it('a 9 MB body (under the limit) is accepted', async () => {
    const t = expectStatus(await srv.api('POST', '/v1/tasks', { project_id: project.id }), 201);
    const big = Array(9).fill('x'.repeat(MB)); // each string at the 1 MiB limit (limits.test.mjs)
    const r = await srv.api('PUT', `/v1/tasks/${t.id}/metadata`, { big });
    const u = expectStatus(r, 200);
    assert.deepEqual(u.metadata.big, big);
  });

  it('an unknown route gets 404', async () => {
    for (const p of ['/v1/nowhere', '/v2/projects', '/v1/projects/1/nothing', '/nowhere', '/v1/tasks/1/labels']) {
      const r = await srv.api('GET', p);
      expectError(r, 404);
    }
  });

  it('a wrong method on a known route gets 405 with Allow', async () => {
    const r1 = await srv.api('DELETE', '/v1/projects');
    expectError(r1, 405);
    assert.match(r1.headers.get('allow') ?? '', /GET/);
    assert.match(r1.headers.get('allow') ?? '', /POST/);
    const r2 = await srv.api('PUT', `/v1/projects/${project.id}`, { name: 'x' });
    expectError(r2, 405);
    assert.match(r2.headers.get('allow') ?? '', /PATCH/);
    expectError(await srv.api('POST', '/healthz', '{}'), 405);
    expectError(await srv.api('GET', '/v1/sessions'), 405);
  });

  it('a malformed id in the path gets 404', async () => {
    for (const id of ['abc', '-1', '0', '1.5', '1e3', '99999999999999999999', '0x10', ' 1']) {
      const r = await srv.api('GET', `/v1/projects/${encodeURIComponent(id)}`);
      expectError(r, 404);
    }
    expectError(await srv.api('GET', '/v1/tasks/abc'), 404);
    expectError(await srv.api('POST', '/v1/tasks/abc/cancel'), 404);
    expectError(await srv.api('PUT', '/v1/projects/abc/members/1', { role: 'annotator' }), 404);
  });

  it('Content-Type multipart/form-data on a JSON route gets 415 naming Content-Type; nothing is created', async () => {
    const before = (await getProject(srv, project.id)).counts.total;
    const r = await srv.api('POST', '/v1/tasks', JSON.stringify({ project_id: project.id }), { headers: { 'content-type': 'multipart/form-data; boundary=zz' } });
    expectError(r, 415, 'Content-Type');
    assert.equal((await getProject(srv, project.id)).counts.total, before);
  });

  it('JSON labelled text/plain or form-urlencoded (curl -d) is accepted', async () => {
    const body = JSON.stringify({ project_id: project.id });
    expectStatus(await srv.api('POST', '/v1/tasks', body, { headers: { 'content-type': 'text/plain' } }), 201);
    expectStatus(await srv.api('POST', '/v1/tasks', body, { headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 201);
    expectStatus(await srv.api('POST', '/v1/tasks', body, { headers: { 'content-type': 'application/json; charset=utf-8' } }), 201);
  });

  it('HEAD on a GET route answers without a body', async () => {
    const r = await srv.api('HEAD', `/v1/projects/${project.id}`, undefined, { raw: true });
    assert.equal(r.status, 200);
    assert.equal(r.buf.length, 0);
  });

  it('the server is still healthy after all of that', async () => {
    const r = await srv.api('GET', '/healthz', undefined, { key: null });
    assert.equal(expectStatus(r, 200).status, 'ok');
  });
});
