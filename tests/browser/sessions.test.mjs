// sessions.test.mjs -- the UI and the session's CSRF token (issue 8): every
// write the UI makes carries X-CSRF-Token, the token survives a reload
// (from GET /v1/me), a session replaced in another tab is recovered from
// (the 403 naming X-CSRF-Token makes api.js fetch the token again and
// resend once), and logging out ends the session on the server.  Calls go
// through the page's own api.js module, as the UI's pages make them.
import assert from 'node:assert/strict';
import { expectStatus } from '../api/harness.mjs';
import { serveUi, PASSWORD, browserTest, makeAnnotator, login, until } from './browser.mjs';

let srv;
serveUi((s) => (srv = s));

/* POSTs /v1/keys with the page's api.js; answers the key's name, or the
 * error as "STATUS FIELD". */
function postKey(page, name) {
  return page.evaluate(async (n) => {
    const { api } = await import('/ui/api.js');
    try {
      return (await api.post('/v1/keys', { name: n })).name;
    } catch (e) {
      return `${e.status} ${e.field}`;
    }
  }, name);
}

async function keyNames(user) {
  return expectStatus(await srv.api('GET', '/v1/keys', undefined, { key: user.key }), 200).items.map((k) => k.name);
}

browserTest('the UI sends the CSRF token with its writes, keeps it across a reload, and recovers it when the session changes', async ({ page }) => {
  const user = await makeAnnotator(srv, 'csrf-ui@test.io', PASSWORD);
  const writes = [];
  page.on('request', (r) => {
    if (r.url().includes('/v1/') && r.method() !== 'GET') writes.push({ method: r.method(), url: r.url(), csrf: r.headers()['x-csrf-token'] });
  });
  await login(page, srv, user.email, user.password);
  assert.equal(await postKey(page, 'first'), 'first');
  const w = writes.find((x) => x.url.endsWith('/v1/keys'));
  assert.match(w?.csrf ?? '', /^[A-Za-z0-9_-]{43}$/, `the UI's POST /v1/keys carried X-CSRF-Token ${w?.csrf}`);

  // a reload: the token comes back with GET /v1/me
  await page.reload();
  await until(async () => /^#\/projects/.test(await page.evaluate(() => location.hash)), 'the project list after a reload');
  assert.equal(await postKey(page, 'after-reload'), 'after-reload');

  // another tab logs in again: the cookie now names a new session, whose
  // token this page does not have yet
  const again = await page.request.post(`${srv.base}/v1/sessions`, { data: { email: user.email, password: user.password } });
  assert.equal(again.status(), 201);
  const fresh = (await again.json()).csrf_token;
  writes.length = 0;
  assert.equal(await postKey(page, 'new-session'), 'new-session');
  const tries = writes.filter((x) => x.url.endsWith('/v1/keys'));
  assert.equal(tries.length, 2, `expected one refused POST and one resent: ${JSON.stringify(tries)}`);
  assert.notEqual(tries[0].csrf, fresh);
  assert.equal(tries[1].csrf, fresh, 'the resent POST did not carry the new session\'s token');
  const names = await keyNames(user);
  assert.deepEqual(names.filter((n) => ['first', 'after-reload', 'new-session'].includes(n)), ['first', 'after-reload', 'new-session'], `keys: ${names}`);

  // logging out ends the session on the server: the old cookie is refused
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'loupe_session');
  assert.ok(session && session.httpOnly && session.sameSite === 'Strict', `the cookie: ${JSON.stringify(session)}`);
  const out = await page.evaluate(async () => {
    const { request } = await import('/ui/api.js');
    return (await request('DELETE', '/v1/sessions', undefined, { allow401: true })).status;
  });
  assert.equal(out, 204);
  const r = await srv.api('GET', '/v1/me', undefined, { key: null, headers: { cookie: `loupe_session=${session.value}` } });
  assert.equal(r.status, 401, 'the session still works after logging out');
  assert.equal((await page.context().cookies()).filter((c) => c.name === 'loupe_session').length, 0, 'the browser kept the cookie');
});
