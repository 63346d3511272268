// sessions.test.mjs -- browser sessions (issue 8): the cookie's flags and
// lifetime, the CSRF token every cookie-authenticated write needs, logout,
// the login throttle per account and per client address, and the password
// rules of POST /v1/users, PATCH /v1/users/{id} and `loupe user add`.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, it, expectError, expectStatus, listAll, runCli, tempDir, makeAdmin, SLOW,
  ADMIN_EMAIL, ADMIN_PASSWORD,
} from './harness.mjs';

/* Logs in on srv; answers the response, the Set-Cookie value, the
 * "name=value" pair and the CSRF token. */
async function login(srv, email, password, headers = {}) {
  const r = await srv.api('POST', '/v1/sessions', { email, password }, { key: null, headers });
  const sc = r.headers.getSetCookie().find((c) => c.startsWith('loupe_session=')) ?? '';
  return { r, setCookie: sc, cookie: sc.split(';')[0], csrf: r.body?.csrf_token };
}

/* Options for a request with the session's cookie; its CSRF token unless
 * csrf says otherwise (null: none). */
function as(s, { csrf = s.csrf, headers = {} } = {}) {
  const h = { cookie: s.cookie, ...headers };
  if (csrf !== null) h['x-csrf-token'] = csrf;
  return { key: null, headers: h };
}

const PROJECT = { name: 'csrf', kind: 'categorization', params: { labels: ['a'] } };

describe('sessions', () => {
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  describe('the cookie', () => {
    it('is HttpOnly, SameSite=Strict, Path=/ and lasts the configured 7 days; Secure only behind an HTTPS proxy', async () => {
      const s = await login(srv, ADMIN_EMAIL, ADMIN_PASSWORD);
      expectStatus(s.r, 201);
      const attrs = s.setCookie.split(';').map((x) => x.trim());
      assert.ok(attrs.includes('HttpOnly'), s.setCookie);
      assert.ok(attrs.includes('SameSite=Strict'), s.setCookie);
      assert.ok(attrs.includes('Path=/'), s.setCookie);
      assert.ok(attrs.includes('Max-Age=604800'), s.setCookie);
      assert.ok(!attrs.includes('Secure'), `Secure over plain HTTP: ${s.setCookie}`);
      const exp = Date.parse(s.r.body.expires_at);
      assert.ok(Math.abs(exp - (Date.now() + 604800e3)) < 60e3, `expires_at ${s.r.body.expires_at}`);
      const tls = await login(srv, ADMIN_EMAIL, ADMIN_PASSWORD, { 'x-forwarded-proto': 'https' });
      assert.ok(tls.setCookie.split(';').map((x) => x.trim()).includes('Secure'), tls.setCookie);
    });
  });

  describe('CSRF token', () => {
    let s;
    before(async () => {
      s = await login(srv, ADMIN_EMAIL, ADMIN_PASSWORD);
      expectStatus(s.r, 201);
    });

    it('POST /v1/sessions and GET /v1/me (with the cookie) give the same per-session token; a key\'s /v1/me has none', async () => {
      assert.match(s.csrf ?? '', /^[A-Za-z0-9_-]{43}$/, `csrf_token ${s.csrf}`);
      const me = expectStatus(await srv.api('GET', '/v1/me', undefined, as(s, { csrf: null })), 200);
      assert.equal(me.csrf_token, s.csrf);
      const other = await login(srv, ADMIN_EMAIL, ADMIN_PASSWORD);
      assert.notEqual(other.csrf, s.csrf, 'two sessions share a CSRF token');
      assert.ok(!s.setCookie.includes(s.csrf), 'the CSRF token is the cookie');
      const byKey = expectStatus(await srv.api('GET', '/v1/me'), 200);
      assert.equal(byKey.csrf_token, undefined);
    });

    it('a cookie write without X-CSRF-Token, or with a wrong one, gets 403 naming X-CSRF-Token and does nothing', async () => {
      const other = await login(srv, ADMIN_EMAIL, ADMIN_PASSWORD);
      const before = (await listAll(srv, '/v1/projects')).items.length;
      for (const [what, csrf] of [['no token', null], ['a wrong token', 'x'.repeat(43)], ['another session\'s token', other.csrf], ['an empty token', '']]) {
        const r = await srv.api('POST', '/v1/projects', PROJECT, as(s, { csrf }));
        const e = expectError(r, 403, 'X-CSRF-Token');
        assert.match(e.message, /X-CSRF-Token/, `${what}: ${e.message}`);
      }
      assert.equal((await listAll(srv, '/v1/projects')).items.length, before, 'a write without the right token created a project');
      expectStatus(await srv.api('POST', '/v1/projects', PROJECT, as(s)), 201);
    });

    it('PATCH, PUT, DELETE and an upload need it too; GET does not', async () => {
      const me = expectStatus(await srv.api('GET', '/v1/me', undefined, as(s, { csrf: null })), 200);
      expectError(await srv.api('PATCH', `/v1/users/${me.id}`, { name: 'Mallory' }, as(s, { csrf: null })), 403, 'X-CSRF-Token');
      assert.equal(expectStatus(await srv.api('GET', '/v1/me'), 200).name, me.name, 'the PATCH without a token renamed the user');
      const key = expectStatus(await srv.api('POST', '/v1/keys', { name: 'victim' }), 201);
      expectError(await srv.api('DELETE', `/v1/keys/${key.id}`, undefined, as(s, { csrf: null })), 403, 'X-CSRF-Token');
      expectStatus(await srv.api('GET', '/v1/me', undefined, { key: key.key }), 200);
      const p = expectStatus(await srv.api('POST', '/v1/projects', PROJECT), 201);
      const t = expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id, data: { text: 'hi' } }), 201);
      expectError(await srv.api('PUT', `/v1/tasks/${t.id}/metadata`, { x: 1 }, as(s, { csrf: null })), 403, 'X-CSRF-Token');
      const up = await srv.api('POST', '/v1/files', Buffer.from('hello'),
        as(s, { csrf: null, headers: { 'content-type': 'text/plain' } }));
      expectError(up, 403, 'X-CSRF-Token');
      // with the token, the same requests go through
      expectStatus(await srv.api('PUT', `/v1/tasks/${t.id}/metadata`, { x: 1 }, as(s)), 200);
      assert.equal((await srv.api('DELETE', `/v1/keys/${key.id}`, undefined, as(s))).status, 204);
      expectStatus(await srv.api('GET', '/v1/projects', undefined, as(s, { csrf: null })), 200);
    });

    it('API-key requests, Bearer or Basic, need no token (and win over a cookie sent along)', async () => {
      expectStatus(await srv.api('POST', '/v1/projects', PROJECT), 201);
      const basic = Buffer.from(`${srv.key}:`).toString('base64');
      expectStatus(await srv.api('POST', '/v1/projects', PROJECT, { key: null, headers: { authorization: `Basic ${basic}` } }), 201);
      expectStatus(await srv.api('POST', '/v1/projects', PROJECT, { headers: { cookie: s.cookie } }), 201);
    });

    it('the Origin check stays: the right token from a foreign Origin gets 403 naming Origin', async () => {
      const r = await srv.api('POST', '/v1/projects', PROJECT, as(s, { headers: { origin: 'https://evil.example' } }));
      expectError(r, 403, 'Origin');
      expectStatus(await srv.api('POST', '/v1/projects', PROJECT, as(s, { headers: { origin: srv.base } })), 201);
    });
  });

  describe('logout', () => {
    it('DELETE /v1/sessions ends the session on the server and clears the cookie; other sessions live on', async () => {
      const s = await login(srv, ADMIN_EMAIL, ADMIN_PASSWORD);
      const keep = await login(srv, ADMIN_EMAIL, ADMIN_PASSWORD);
      expectStatus(await srv.api('GET', '/v1/me', undefined, as(s)), 200);
      const out = await srv.api('DELETE', '/v1/sessions', undefined, as(s));
      assert.equal(out.status, 204, out.text);
      const cleared = out.headers.getSetCookie().find((c) => c.startsWith('loupe_session=')) ?? '';
      assert.match(cleared, /^loupe_session=;/, `the cookie is not emptied: ${cleared}`);
      assert.match(cleared, /Max-Age=0/);
      assert.match(cleared, /HttpOnly/);
      // the browser would drop the cookie; a thief who kept it gets nothing
      expectError(await srv.api('GET', '/v1/me', undefined, as(s)), 401);
      expectError(await srv.api('POST', '/v1/projects', PROJECT, as(s)), 401);
      expectStatus(await srv.api('GET', '/v1/me', undefined, as(keep)), 200);
      // logging out again, or without a cookie, is harmless
      assert.equal((await srv.api('DELETE', '/v1/sessions', undefined, as(s))).status, 204);
      assert.equal((await srv.api('DELETE', '/v1/sessions', undefined, { key: null })).status, 204);
    });
  });

  describe('password rules', () => {
    it('POST /v1/users refuses a short, repetitive or email-like password with 422 naming password and the rule', async () => {
      const cases = [
        ['eleven-char', /at least 12 characters/],
        ['aaaaaaaaaaaaaaaa', /5 different characters/],
        ['abababababababab', /5 different characters/],
        ['rules@test.io-2026', /email/],
        ['RULES@TEST.IO', /email/],
      ];
      for (const [password, rule] of cases) {
        const e = expectError(await srv.api('POST', '/v1/users', { email: 'rules@test.io', password }), 422, 'password');
        assert.match(e.message, rule, `${password}: ${e.message}`);
      }
      const e = expectError(await srv.api('POST', '/v1/users', { email: 'a.long.local.part@test.io', password: 'A.Long.Local.Part' }), 422, 'password');
      assert.match(e.message, /email/);
      assert.ok(!(await listAll(srv, '/v1/users')).items.some((u) => u.email === 'rules@test.io'), 'a refused user was created');
      // twelve characters, five of them different: accepted
      expectStatus(await srv.api('POST', '/v1/users', { email: 'rules@test.io', password: 'abcdeabcdeab' }), 201);
    });

    it('PATCH /v1/users/{id} applies them to an admin\'s reset and to your own change (before the current password is checked)', async () => {
      const u = expectStatus(await srv.api('POST', '/v1/users', { email: 'patch@test.io', password: 'first-password-1' }), 201);
      const e = expectError(await srv.api('PATCH', `/v1/users/${u.id}`, { password: 'short-pw' }), 422, 'password');
      assert.match(e.message, /12 characters/);
      const s = await login(srv, 'patch@test.io', 'first-password-1');
      expectStatus(s.r, 201);
      expectError(await srv.api('PATCH', `/v1/users/${u.id}`, { password: 'patch@test.io!', current_password: 'first-password-1' }, as(s)), 422, 'password');
      expectStatus(await srv.api('PATCH', `/v1/users/${u.id}`, { password: 'second-password-2', current_password: 'first-password-1' }, as(s)), 200);
      expectStatus((await login(srv, 'patch@test.io', 'second-password-2')).r, 201);
    });

    it('loupe user add applies them too (exit 2, the rule on stderr)', () => {
      const dir = tempDir();
      makeAdmin(dir);
      const bad = runCli(['user', 'add', 'cli@test.io', '--role', 'member', '--password-stdin', '--data-dir', dir], { input: 'eleven-char\n' });
      assert.equal(bad.status, 2, bad.stderr);
      assert.match(bad.stderr, /password: must have at least 12 characters/);
      const same = runCli(['user', 'add', 'cli-user@test.io', '--role', 'member', '--password-stdin', '--data-dir', dir], { input: 'my cli-user@test.io\n' });
      assert.equal(same.status, 2, same.stderr);
      assert.match(same.stderr, /password: .*email/);
      const ok = runCli(['user', 'add', 'cli@test.io', '--role', 'member', '--password-stdin', '--data-dir', dir], { input: 'a-good-long-pass\n' });
      assert.equal(ok.status, 0, ok.stderr);
    });
  });
});

describe('session expiry', () => {
  let srv;
  before(async () => {
    srv = await startServer({ env: { LOUPE_SESSION_SECONDS: '2' } });
  });
  after(async () => {
    await srv?.stop();
  });

  it('--session-seconds sets the cookie\'s Max-Age, and the server refuses the session once it is over', async () => {
    const t0 = Date.now();
    const s = await login(srv, ADMIN_EMAIL, ADMIN_PASSWORD);
    expectStatus(s.r, 201);
    assert.match(s.setCookie, /Max-Age=2(;|$)/);
    const first = await srv.api('GET', '/v1/me', undefined, as(s));
    // on a slow machine the first look may come late; it must then be the 401
    if (Date.now() - t0 < 1500) expectStatus(first, 200);
    const deadline = Date.now() + 20000 * SLOW;
    let r;
    for (;;) {
      r = await srv.api('GET', '/v1/me', undefined, as(s));
      if (r.status !== 200 || Date.now() > deadline) break;
      await new Promise((ok) => setTimeout(ok, 100));
    }
    const e = expectError(r, 401);
    assert.match(e.message, /expired/);
    assert.ok(Date.now() - t0 >= 2000, `the session ended after ${Date.now() - t0} ms, before its 2 s`);
    expectError(await srv.api('POST', '/v1/projects', PROJECT, as(s)), 401);
  });
});

describe('session idle timeout', () => {
  let srv;
  before(async () => {
    srv = await startServer({ env: { LOUPE_SESSION_SECONDS: '600', LOUPE_SESSION_IDLE_SECONDS: '2' } });
  });
  after(async () => {
    await srv?.stop();
  });

  it('--session-idle-seconds: a session in use lives past its idle time; one left unused ends, and the login says after how long', async () => {
    const s = await login(srv, ADMIN_EMAIL, ADMIN_PASSWORD);
    expectStatus(s.r, 201);
    assert.equal(s.r.body.idle_seconds, 2);
    assert.ok(Date.parse(s.r.body.expires_at) - Date.now() > 590000, `expires_at ${s.r.body.expires_at} is not the session's whole life`);
    // used every 400 ms for 4 s (twice its idle time): alive throughout
    const t0 = Date.now();
    while (Date.now() - t0 < 4000) {
      expectStatus(await srv.api('GET', '/v1/me', undefined, as(s)), 200);
      await new Promise((ok) => setTimeout(ok, 400));
    }
    // left alone for longer than its idle time: ended
    await new Promise((ok) => setTimeout(ok, 3000));
    const e = expectError(await srv.api('GET', '/v1/me', undefined, as(s)), 401);
    assert.match(e.message, /expired/);
    // a new login works again
    const again = await login(srv, ADMIN_EMAIL, ADMIN_PASSWORD);
    expectStatus(await srv.api('GET', '/v1/me', undefined, as(again)), 200);
  });
});

describe('login throttle', () => {
  let srv;
  before(async () => {
    srv = await startServer({ args: ['--behind-proxy'] });
  });
  after(async () => {
    await srv?.stop();
  });

  const from = (addr) => ({ 'x-forwarded-for': addr });

  it('per account: 10 failures from 10 addresses, then 429 with Retry-After from any address, even with the right password', async () => {
    const email = 'victim@test.io', password = 'victim-password-1';
    expectStatus(await srv.api('POST', '/v1/users', { email, password }), 201);
    for (let i = 0; i < 10; i++) expectError((await login(srv, email, `wrong-guess-${i}`, from(`198.51.100.${i + 1}`))).r, 401);
    const s = await login(srv, email, password, from('198.51.100.200'));
    const e = expectError(s.r, 429);
    assert.match(e.message, /for this account/);
    const ra = Number(s.r.headers.get('retry-after'));
    assert.ok(ra > 800 && ra <= 900, `Retry-After ${s.r.headers.get('retry-after')}`);
    assert.equal(s.setCookie, '', 'a throttled login set a cookie');
    // that address may still log in to another account
    expectStatus((await login(srv, ADMIN_EMAIL, ADMIN_PASSWORD, from('198.51.100.200'))).r, 201);
  });

  it('per address: 50 failures on 50 accounts, then 429 for that address (the last X-Forwarded-For entry) only', async () => {
    for (let i = 0; i < 50; i++) expectError((await login(srv, `nobody${i}@test.io`, 'wrong-guess', from('203.0.113.7'))).r, 401);
    const s = await login(srv, ADMIN_EMAIL, ADMIN_PASSWORD, from('203.0.113.7'));
    const e = expectError(s.r, 429);
    assert.match(e.message, /from this address/);
    const ra = Number(s.r.headers.get('retry-after'));
    assert.ok(ra > 800 && ra <= 900, `Retry-After ${s.r.headers.get('retry-after')}`);
    // a client cannot dodge it by putting another address first: the proxy appends
    expectError((await login(srv, ADMIN_EMAIL, ADMIN_PASSWORD, from('10.9.9.9, 203.0.113.7'))).r, 429);
    expectStatus((await login(srv, ADMIN_EMAIL, ADMIN_PASSWORD, from('203.0.113.8'))).r, 201);
    // changing a password checks the current one under the same throttle
    const me = expectStatus(await srv.api('GET', '/v1/me'), 200);
    const a = await login(srv, ADMIN_EMAIL, ADMIN_PASSWORD, from('203.0.113.9'));
    const r = await srv.api('PATCH', `/v1/users/${me.id}`, { password: 'another-password-9', current_password: ADMIN_PASSWORD },
      as(a, { headers: from('203.0.113.7') }));
    expectError(r, 429);
  });
});

describe('login throttle without --behind-proxy', () => {
  let srv;
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  it('X-Forwarded-For is ignored: the connection\'s address is throttled whatever the header says', async () => {
    for (let i = 0; i < 50; i++) {
      const r = (await login(srv, `nobody${i}@test.io`, 'wrong-guess', { 'x-forwarded-for': `192.0.2.${i + 1}` })).r;
      expectError(r, 401);
    }
    const s = await login(srv, ADMIN_EMAIL, ADMIN_PASSWORD, { 'x-forwarded-for': '192.0.2.200' });
    expectError(s.r, 429);
    assert.match(s.r.body.error.message, /from this address/);
    // API keys are not logins: they still work
    expectStatus(await srv.api('GET', '/v1/me'), 200);
  });
});
