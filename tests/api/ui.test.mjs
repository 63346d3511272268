// ui.test.mjs -- the browser UI's files as the server hands them out: the
// page with its security headers, modules with their types, revalidation
// with ETags, no way out of the directory, and a clear 404 when no UI is
// installed.  (The UI itself is tested in a real browser: tests/browser.)
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, it, tempDir, rawRequest } from './harness.mjs';

let srv, bare, web;

before(async () => {
  web = tempDir('loupe-web-');
  fs.mkdirSync(path.join(web, 'ui'));
  fs.writeFileSync(path.join(web, 'index.html'), '<!doctype html><title>Loupe</title><script type="module" src="/ui/app.js"></script>');
  fs.writeFileSync(path.join(web, 'ui', 'app.js'), 'export const ok = 1;\n');
  fs.writeFileSync(path.join(web, 'ui', 'style.css'), 'body { margin: 0 }\n');
  fs.writeFileSync(path.join(web, 'secret.txt'), 'outside ui/');
  srv = await startServer({ args: ['--web-dir', web] });
  bare = await startServer({ args: ['--web-dir', path.join(web, 'nowhere')] });
});
after(async () => {
  // Both are stopped even when the first stop fails (and reports why).
  const stops = await Promise.allSettled([srv?.stop(), bare?.stop()]);
  fs.rmSync(web, { recursive: true, force: true });
  for (const s of stops) if (s.status === 'rejected') throw s.reason;
});

describe('the browser UI', () => {
  it('GET / is the page, with a CSP that keeps scripts and calls on this server', async () => {
    const r = await fetch(`${srv.base}/`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/html/);
    assert.match(await r.text(), /<title>Loupe<\/title>/);
    const csp = r.headers.get('content-security-policy');
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /connect-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(r.headers.get('cache-control'), 'no-cache');
  });

  it('modules and styles come with their types; an unchanged file answers 304', async () => {
    const js = await fetch(`${srv.base}/ui/app.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type'), /^text\/javascript/);
    const css = await fetch(`${srv.base}/ui/style.css`);
    assert.match(css.headers.get('content-type'), /^text\/css/);
    const etag = js.headers.get('etag');
    assert.ok(etag);
    const again = await fetch(`${srv.base}/ui/app.js`, { headers: { 'If-None-Match': etag } });
    assert.equal(again.status, 304);
    fs.writeFileSync(path.join(web, 'ui', 'app.js'), 'export const ok = 2; // changed\n');
    const changed = await fetch(`${srv.base}/ui/app.js`, { headers: { 'If-None-Match': etag } });
    assert.equal(changed.status, 200, 'a changed file is sent again');
  });

  it('nothing outside web/ui can be named', async () => {
    for (const p of ['/ui/..%2fsecret.txt', '/ui/.%2e/secret.txt', '/ui/%2e%2e', '/ui/.hidden', '/ui/missing.js', '/secret.txt', '/ui/']) {
      const r = await rawRequest(srv.port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.match(r.text, /^HTTP\/1\.1 404/, `${p}: ${r.text.slice(0, 200)}`);
      assert.doesNotMatch(r.text, /outside ui/);
    }
  });

  it('without a UI the server says so and the API still works', async () => {
    const r = await fetch(`${bare.base}/`);
    assert.equal(r.status, 404);
    assert.match((await r.json()).error.message, /browser UI is not installed/);
    assert.equal((await fetch(`${bare.base}/healthz`)).status, 200);
  });
});
