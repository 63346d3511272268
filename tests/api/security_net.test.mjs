// security_net.test.mjs -- issue 8's network-facing guards: callbacks and
// webhooks never reach loopback, private or link-local addresses unless the
// server allows it (--allow-private-outbound: the harness passes it, the
// `guarded` server here does not), checked at registration for a literal
// address and after resolution at delivery; uploaded files cannot render as
// pages of our origin; no request path leaves the UI directory; every reply
// carries the security headers.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startServer, it, expectError, expectStatus, makeProject, rawRequest, sleep, tempDir, SLOW } from './harness.mjs';

let guarded, open, receiver, port, web;
const got = []; // requests the receiver saw: {path, body}

before(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ path: req.url, body });
      // /redirect answers 302 to /followed: a follower would show up there.
      if (req.url === '/redirect') res.writeHead(302, { location: '/followed' }).end();
      else res.writeHead(200).end();
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  port = receiver.address().port;
  web = tempDir('loupe-web-');
  fs.mkdirSync(path.join(web, 'ui'));
  fs.writeFileSync(path.join(web, 'index.html'), '<!doctype html><title>Loupe</title>');
  fs.writeFileSync(path.join(web, 'ui', 'app.js'), 'export const ok = 1;\n');
  fs.writeFileSync(path.join(web, '..', `${path.basename(web)}-outside.txt`), 'outside web');
  fs.symlinkSync(path.join(web, '..', `${path.basename(web)}-outside.txt`), path.join(web, 'ui', 'out.js'));
  fs.symlinkSync(path.join(web, 'ui', 'app.js'), path.join(web, 'ui', 'in.js'));
  const fast = { LOUPE_CALLBACK_RETRY_MS: '100', LOUPE_CALLBACK_POLL_MS: '50' };
  guarded = await startServer({ env: { ...fast, LOUPE_ALLOW_PRIVATE_OUTBOUND: '0' }, args: ['--web-dir', web] });
  open = await startServer({ env: fast });
});
after(async () => {
  const stops = await Promise.allSettled([guarded?.stop(), open?.stop()]);
  await new Promise((r) => receiver.close(r));
  fs.rmSync(path.join(web, '..', `${path.basename(web)}-outside.txt`), { force: true });
  fs.rmSync(web, { recursive: true, force: true });
  for (const s of stops) if (s.status === 'rejected') throw s.reason;
});

/* Completes one task of project p on srv, so that task.completed is sent. */
async function completeOne(srv, p) {
  expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, JSON.stringify({ unique_id: 't1' })), 200);
  const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`), 200).assignment;
  expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `s-${a.id}`, response: { labels: ['cat'] } }), 201);
}

/* Polls until the project's first delivery has an attempt; returns it with its log. */
async function firstAttempt(srv, pid) {
  for (let i = 0; i < 200 * SLOW; i++) {
    const items = expectStatus(await srv.api('GET', `/v1/projects/${pid}/deliveries`), 200).items;
    if (items.length && items[0].attempts > 0) return expectStatus(await srv.api('GET', `/v1/deliveries/${items[0].id}`), 200);
    await sleep(50);
  }
  assert.fail('no delivery attempt was made');
}

const refusedUrls = [
  ['http://127.0.0.1:9/cb', /loopback/],
  ['http://127.1/cb', /loopback/],
  ['http://2130706433/cb', /loopback/],
  ['http://0x7f.0.0.1/cb', /loopback/],
  ['http://[::1]:9/cb', /loopback/],
  ['http://[::ffff:127.0.0.1]/cb', /loopback/],
  ['http://[::ffff:a00:1]/cb', /private/],
  ['http://0.0.0.0/cb', /this network/],
  ['http://10.1.2.3/cb', /private/],
  ['http://172.20.0.1/cb', /private/],
  ['https://192.168.1.1/cb', /private/],
  ['http://100.64.0.1/cb', /shared/],
  ['http://169.254.169.254/latest/meta-data', /link-local/],
  ['http://[fe80::1]/cb', /link-local/],
  ['http://[fd12:3456::1]/cb', /unique local/],
  ['http://224.0.0.1/cb', /multicast/],
  ['http://[ff02::1]/cb', /multicast/],
  ['http://[64:ff9b::7f00:1]/cb', /loopback/],
  ['http://255.255.255.255/cb', /reserved/],
];

describe('outbound requests', () => {
  it('a callback_url or webhook url with a literal private address is refused at registration (422 naming the field)', async () => {
    const p = await makeProject(guarded);
    for (const [url, why] of refusedUrls) {
      const r = await guarded.api('POST', '/v1/projects', { name: 'x', kind: 'categorization', params: { labels: ['a'] }, callback_url: url });
      expectError(r, 422, 'callback_url');
      assert.match(r.body.error.message, why, url);
      assert.match(r.body.error.message, /--allow-private-outbound/);
      expectError(await guarded.api('PATCH', `/v1/projects/${p.id}`, { callback_url: url }), 422, 'callback_url');
      const h = await guarded.api('POST', '/v1/webhooks', { url, project_id: p.id });
      expectError(h, 422, 'url');
      assert.match(h.body.error.message, why, url);
    }
    // Public addresses and host names pass registration (names are checked when delivering).
    for (const url of ['http://93.184.216.34/cb', `http://localhost:${port}/cb`, 'https://example.com/cb', 'http://[2606:4700::1]/cb']) {
      expectStatus(await guarded.api('PATCH', `/v1/projects/${p.id}`, { callback_url: url }), 200);
      expectStatus(await guarded.api('POST', '/v1/webhooks', { url, project_id: p.id }), 201);
    }
    // With the setting, the same private addresses are accepted.
    const q = await makeProject(open);
    for (const [url] of refusedUrls) expectStatus(await open.api('PATCH', `/v1/projects/${q.id}`, { callback_url: url }), 200);
  });

  it('a host name that resolves to loopback is refused at delivery, with the reason recorded; nothing is sent', async () => {
    const before = got.length;
    const p = await makeProject(guarded, { overlap: 1, callback_url: `http://localhost:${port}/guarded` });
    await completeOne(guarded, p);
    const d = await firstAttempt(guarded, p.id);
    assert.equal(d.status, 'pending', 'retried on schedule (a name may resolve elsewhere later)');
    assert.equal(d.last_status, null);
    assert.match(d.last_error, /localhost resolves to (127\.0\.0\.1|::1), a loopback address/);
    assert.match(d.last_error, /--allow-private-outbound/);
    assert.equal(d.attempt_log[0].http_status, null);
    assert.match(d.attempt_log[0].error, /loopback/);
    assert.equal(got.slice(before).filter((m) => m.path === '/guarded').length, 0, 'the receiver was reached');
  });

  it('with --allow-private-outbound the same callback is delivered; a redirect is not followed', async () => {
    const p = await makeProject(open, { overlap: 1, callback_url: `http://localhost:${port}/open` });
    await completeOne(open, p);
    const d = await firstAttempt(open, p.id);
    assert.equal(d.status, 'delivered', JSON.stringify(d));
    assert.ok(got.some((m) => m.path === '/open' && JSON.parse(m.body).type === 'task.completed'));

    const q = await makeProject(open, { overlap: 1, callback_url: `http://127.0.0.1:${port}/redirect` });
    await completeOne(open, q);
    const r = await firstAttempt(open, q.id);
    assert.equal(r.attempt_log[0].http_status, 302);
    assert.equal(r.status, 'pending', 'a 3xx is a failed attempt');
    assert.ok(!got.some((m) => m.path === '/followed'), 'the redirect was followed');
  });
});

describe('files', () => {
  async function upload(bytes, ctype, name) {
    return expectStatus(await guarded.api('POST', `/v1/files?filename=${encodeURIComponent(name)}`, bytes, { headers: { 'content-type': ctype } }), 201);
  }

  it('HTML and SVG are served as attachments in a sandbox; images inline; never sniffed', async () => {
    const html = await upload('<html><script>alert(document.cookie)</script>', 'text/html', 'evil page.html');
    const svg = await upload('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 'image/svg+xml', 'x.svg');
    const png = await upload(Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), 'image/png', 'cat.png');
    const mp3 = await upload(Buffer.from('ID3\x03\x00 audio'), 'audio/mpeg', 'a.mp3');
    for (const [f, disp] of [
      [html, "attachment; filename*=UTF-8''evil%20page.html"],
      [svg, "attachment; filename*=UTF-8''x.svg"],
      [png, "inline; filename*=UTF-8''cat.png"],
      [mp3, "inline; filename*=UTF-8''a.mp3"],
    ]) {
      const r = await guarded.api('GET', f.url, undefined, { raw: true });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-disposition'), disp, f.url);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      assert.match(r.headers.get('content-security-policy'), /^sandbox; default-src 'none'/);
    }
  });

  it('no file path from a request reaches the file system: traversal, encoded slashes, NUL, not-hex names', async () => {
    const paths = [
      '/v1/files/..%2F..%2Fsecret.key',
      '/v1/files/%2e%2e%2f%2e%2e%2fsecret.key',
      '/v1/files/../secret.key',
      `/v1/files/${'a'.repeat(63)}%00`,
      `/v1/files/${'A'.repeat(64)}`,
      `/v1/files/${'.'.repeat(64)}`,
      `/v1/files/${'0'.repeat(62)}%2F0`,
      '/ui/..%2f..%2fsecret.key',
      '/ui/%2e%2e%2fsecret.key',
      '/ui/out.js',
      '/ui/app.js%2f..%2f..%2findex.html',
      '/ui/app.js%00.html',
      '/ui/app.js%00',
      '/../secret.key',
    ];
    for (const p of paths) {
      const r = await rawRequest(guarded.port, `GET ${p} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${guarded.key}\r\nConnection: close\r\n\r\n`);
      assert.match(r.text, /^HTTP\/1\.1 (400|404)/, `${p}: ${r.text.slice(0, 300)}`);
      assert.doesNotMatch(r.text, /outside web/);
      assert.match(r.headers['content-type'] ?? '', /application\/json/, p);
    }
    // A file's hash followed by an encoded NUL is not that file.
    const f = expectStatus(await guarded.api('POST', '/v1/files', 'nul', { headers: { 'content-type': 'text/plain' } }), 201);
    expectError(await guarded.api('GET', `${f.url}%00.html`), 404);
    expectStatus(await guarded.api('GET', f.url, undefined, { raw: true }), 200);
    // A link inside web/ still works; the one leading out of it (above) does not.
    assert.equal((await fetch(`${guarded.base}/ui/in.js`)).status, 200);
  });
});

describe('security headers', () => {
  it('every route family, success or error, carries CSP, nosniff, frame and referrer policies; no HSTS over plain HTTP', async () => {
    const f = expectStatus(await guarded.api('POST', '/v1/files', 'hello', { headers: { 'content-type': 'text/plain' } }), 201);
    const p = await makeProject(guarded);
    const reqs = [
      ['GET', '/healthz'],
      ['GET', '/metrics'],
      ['GET', '/'],
      ['GET', '/ui/app.js'],
      ['GET', '/ui/missing.js'],
      ['GET', '/v1/me'],
      ['GET', '/v1/me', undefined, { key: null }],
      ['GET', '/v1/kinds'],
      ['GET', '/v1/projects'],
      ['POST', '/v1/projects', { name: 1 }],
      ['GET', `/v1/projects/${p.id}/tasks`],
      ['GET', `/v1/projects/${p.id}/queue/next`],
      ['GET', `/v1/projects/${p.id}/deliveries`],
      ['GET', '/v1/tasks/999999'],
      ['GET', '/v1/batches/999999'],
      ['POST', '/v1/assignments/999999/submit', {}],
      ['GET', '/v1/users'],
      ['GET', '/v1/keys'],
      ['GET', '/v1/webhooks'],
      ['GET', '/v1/deliveries/999999'],
      ['POST', '/v1/sessions', { email: 'nobody@x.io', password: 'wrong-password' }, { key: null }],
      ['GET', f.url],
      ['GET', f.url, undefined, { headers: { 'if-none-match': `"${f.sha256}"` } }],
      ['GET', '/v1/nowhere'],
      ['DELETE', '/healthz'],
    ];
    for (const [method, url, body, o = {}] of reqs) {
      const r = await guarded.api(method, url, body, { raw: true, ...o });
      const what = `${method} ${url} (${r.status})`;
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', what);
      assert.equal(r.headers.get('x-frame-options'), 'DENY', what);
      assert.equal(r.headers.get('referrer-policy'), 'same-origin', what);
      assert.match(r.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, what);
      assert.equal(r.headers.get('strict-transport-security'), null, what);
      if (/text\/html/.test(r.headers.get('content-type') ?? '')) assert.match(r.headers.get('content-security-policy'), /script-src 'self'/, what);
    }
  });
});
