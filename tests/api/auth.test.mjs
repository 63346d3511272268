// auth.test.mjs -- API keys (Bearer, Basic), login sessions, the login
// throttle, cross-site cookie requests, key management, admin-only routes
// and per-project roles.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, it, expectError, expectStatus, makeProject, makeMember, listAll,
  ADMIN_EMAIL, ADMIN_PASSWORD,
} from './harness.mjs';

let srv;

/* Logs in; returns the Set-Cookie header value, the "name=value" pair and
 * the session's CSRF token. */
async function login(email, password) {
  const r = await srv.api('POST', '/v1/sessions', { email, password }, { key: null });
  const setCookies = r.headers.getSetCookie();
  const sc = setCookies.find((c) => c.startsWith('loupe_session=')) ?? '';
  return { r, setCookie: sc, cookie: sc.split(';')[0], csrf: r.body?.csrf_token };
}

/* Request options for a session: the cookie, and its CSRF token when s is
 * a login (a bare cookie string sends none). */
function withCookie(s, headers = {}) {
  if (typeof s === 'string') return { key: null, headers: { cookie: s, ...headers } };
  return { key: null, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, ...headers } };
}

describe('auth', () => {
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  describe('API keys', () => {
    it('a Bearer key authenticates GET /v1/me as its user', async () => {
      const me = expectStatus(await srv.api('GET', '/v1/me'), 200);
      assert.equal(me.email, ADMIN_EMAIL);
      assert.equal(me.role, 'admin');
      assert.equal(me.auth, 'api_key');
    });

    it('HTTP Basic with the key as user name and an empty password works', async () => {
      const basic = Buffer.from(`${srv.key}:`).toString('base64');
      const r = await srv.api('GET', '/v1/me', undefined, { key: null, headers: { authorization: `Basic ${basic}` } });
      const me = expectStatus(r, 200);
      assert.equal(me.email, ADMIN_EMAIL);
      assert.equal(me.auth, 'api_key');
    });

    it('Basic with a wrong key as user name is refused', async () => {
      const basic = Buffer.from('lpk_not-a-real-key:').toString('base64');
      const r = await srv.api('GET', '/v1/me', undefined, { key: null, headers: { authorization: `Basic ${basic}` } });
      expectError(r, 401);
    });

    it('an unknown key gets 401 with WWW-Authenticate', async () => {
      const r = await srv.api('GET', '/v1/me', undefined, { key: 'lpk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
      const e = expectError(r, 401);
      assert.equal(e.code, 'unauthorized');
      assert.match(r.headers.get('www-authenticate') ?? '', /Bearer/);
    });

    it('no credentials at all gets 401 with WWW-Authenticate', async () => {
      for (const p of ['/v1/me', '/v1/projects', '/v1/kinds', '/v1/tasks?project_id=1']) {
        const r = await srv.api('GET', p, undefined, { key: null });
        expectError(r, 401);
        assert.ok(r.headers.get('www-authenticate'), `${p}: no WWW-Authenticate header`);
      }
    });

    it("a script's request (X-Requested-With) is challenged with Bearer only: Basic would open a browser's password dialog", async () => {
      const plain = await srv.api('GET', '/v1/me', undefined, { key: null });
      expectError(plain, 401);
      assert.equal(plain.headers.get('www-authenticate'), 'Bearer realm="loupe", Basic realm="loupe"');
      const script = await srv.api('GET', '/v1/me', undefined, { key: null, headers: { 'x-requested-with': 'fetch' } });
      expectError(script, 401);
      assert.equal(script.headers.get('www-authenticate'), 'Bearer realm="loupe"');
    });

    it('an unknown Authorization scheme gets 401', async () => {
      const r = await srv.api('GET', '/v1/me', undefined, { key: null, headers: { authorization: `Digest ${srv.key}` } });
      expectError(r, 401);
    });

    it('an unauthenticated write is refused and does nothing', async () => {
      const before = (await listAll(srv, '/v1/projects')).items.length;
      const r = await srv.api('POST', '/v1/projects', { name: 'x', kind: 'categorization', params: { labels: ['a'] } }, { key: null });
      expectError(r, 401);
      assert.equal((await listAll(srv, '/v1/projects')).items.length, before);
    });

    it('POST /v1/keys shows the key once; GET lists its prefix only; DELETE revokes it', async () => {
      const created = expectStatus(await srv.api('POST', '/v1/keys', { name: 'ci' }), 201);
      assert.match(created.key, /^lpk_/);
      assert.equal(created.name, 'ci');
      assert.equal(typeof created.id, 'number');
      // the new key works
      expectStatus(await srv.api('GET', '/v1/me', undefined, { key: created.key }), 200);
      // listed, by prefix, never the key itself
      const list = await srv.api('GET', '/v1/keys');
      const items = expectStatus(list, 200).items;
      const mine = items.find((k) => k.id === created.id);
      assert.ok(mine, 'the new key is not listed');
      assert.equal(mine.name, 'ci');
      assert.ok(created.key.startsWith(mine.prefix), `prefix ${mine.prefix} does not start the key`);
      assert.ok(mine.prefix.length < created.key.length);
      assert.equal(mine.key, undefined, 'GET /v1/keys returns the key');
      assert.ok(!list.text.includes(created.key), 'the full key appears in GET /v1/keys');
      // revoke: 204, then the key is refused and no longer listed
      const del = await srv.api('DELETE', `/v1/keys/${created.id}`);
      assert.equal(del.status, 204, del.text);
      const r = await srv.api('GET', '/v1/me', undefined, { key: created.key });
      expectError(r, 401);
      assert.ok(r.headers.get('www-authenticate'));
      const after = expectStatus(await srv.api('GET', '/v1/keys'), 200).items;
      assert.ok(!after.some((k) => k.id === created.id), 'a revoked key is still listed');
      // revoking again: 404
      expectError(await srv.api('DELETE', `/v1/keys/${created.id}`), 404);
    });

    it('a user cannot revoke another user\'s key', async () => {
      const m = await makeMember(srv, 'keythief@test.io');
      const admins = expectStatus(await srv.api('GET', '/v1/keys'), 200).items;
      assert.ok(admins.length > 0);
      expectError(await srv.api('DELETE', `/v1/keys/${admins[0].id}`, undefined, { key: m.key }), 404);
      expectStatus(await srv.api('GET', '/v1/me'), 200);
    });
  });

  describe('sessions', () => {
    let session;

    it('POST /v1/sessions sets an HttpOnly SameSite=Strict loupe_session cookie that authenticates', async () => {
      session = await login(ADMIN_EMAIL, ADMIN_PASSWORD);
      expectStatus(session.r, 201);
      assert.equal(session.r.body.user.email, ADMIN_EMAIL);
      assert.match(session.setCookie, /^loupe_session=[^;]+/);
      assert.match(session.setCookie, /;\s*HttpOnly/i);
      assert.match(session.setCookie, /;\s*SameSite=Strict/i);
      const me = expectStatus(await srv.api('GET', '/v1/me', undefined, withCookie(session.cookie)), 200);
      assert.equal(me.email, ADMIN_EMAIL);
      assert.equal(me.auth, 'session');
    });

    it('the login email is case-insensitive; behind an HTTPS proxy the cookie is Secure', async () => {
      assert.ok(!/;\s*Secure/i.test(session.setCookie), 'a cookie over plain HTTP is marked Secure');
      const r = await srv.api('POST', '/v1/sessions', { email: ADMIN_EMAIL.toUpperCase(), password: ADMIN_PASSWORD },
        { key: null, headers: { 'x-forwarded-proto': 'https' } });
      expectStatus(r, 201);
      const sc = r.headers.getSetCookie().find((c) => c.startsWith('loupe_session=')) ?? '';
      assert.match(sc, /;\s*Secure/i, `no Secure flag behind an HTTPS proxy: ${sc}`);
    });

    it('a wrong password gets 401 and no cookie', async () => {
      const s = await login(ADMIN_EMAIL, 'not-the-password');
      expectError(s.r, 401);
      assert.equal(s.setCookie, '');
    });

    it('an unknown email gets 401', async () => {
      expectError((await login('nobody@test.io', 'whatever-123')).r, 401);
    });

    it('a missing password gets 422 naming "password"', async () => {
      const r = await srv.api('POST', '/v1/sessions', { email: ADMIN_EMAIL }, { key: null });
      expectError(r, 422, 'password');
    });

    it('a made-up session cookie gets 401', async () => {
      expectError(await srv.api('GET', '/v1/me', undefined, withCookie('loupe_session=lps_forged')), 401);
    });

    it('a cookie-authenticated POST with a foreign Origin gets 403 and does nothing', async () => {
      assert.ok(session, 'needs the login test');
      const before = (await listAll(srv, '/v1/projects')).items.length;
      const body = JSON.stringify({ name: 'csrf', kind: 'categorization', params: { labels: ['a'] } });
      const r = await srv.api('POST', '/v1/projects', body,
        withCookie(session, { origin: 'https://evil.example', 'content-type': 'application/json' }));
      expectError(r, 403);
      assert.equal((await listAll(srv, '/v1/projects')).items.length, before, 'the cross-site POST created a project');
    });

    it('a cookie-authenticated POST from the same origin is allowed', async () => {
      const body = JSON.stringify({ name: 'same-origin', kind: 'categorization', params: { labels: ['a'] } });
      const r = await srv.api('POST', '/v1/projects', body,
        withCookie(session, { origin: srv.base, 'content-type': 'application/json' }));
      expectStatus(r, 201);
    });

    it('a key-authenticated POST with a foreign Origin is allowed (keys are not ambient)', async () => {
      const r = await srv.api('POST', '/v1/projects', { name: 'key-cors', kind: 'categorization', params: { labels: ['a'] } },
        { headers: { origin: 'https://elsewhere.example' } });
      expectStatus(r, 201);
    });

    it('DELETE /v1/sessions logs out: the cookie stops working', async () => {
      const s = await login(ADMIN_EMAIL, ADMIN_PASSWORD);
      expectStatus(s.r, 201);
      expectStatus(await srv.api('GET', '/v1/me', undefined, withCookie(s.cookie)), 200);
      const out = await srv.api('DELETE', '/v1/sessions', undefined, withCookie(s.cookie));
      assert.equal(out.status, 204, out.text);
      const cleared = out.headers.getSetCookie().find((c) => c.startsWith('loupe_session='));
      assert.ok(cleared, 'logout does not clear the cookie');
      assert.match(cleared, /Max-Age=0/i);
      expectError(await srv.api('GET', '/v1/me', undefined, withCookie(s.cookie)), 401);
      // the other session is unaffected
      expectStatus(await srv.api('GET', '/v1/me', undefined, withCookie(session.cookie)), 200);
    });

    it('10 failed logins for an email, then 429 with Retry-After (even with the right password)', async () => {
      const email = 'throttled@test.io';
      const password = 'right-password-1';
      expectStatus(await srv.api('POST', '/v1/users', { email, role: 'member', password }), 201);
      for (let i = 0; i < 10; i++) {
        // the throttle must not be dodged by changing the email's case
        const as = i % 2 ? email.toUpperCase() : email;
        const r = await srv.api('POST', '/v1/sessions', { email: as, password: `wrong-${i}-pass` }, { key: null });
        expectError(r, 401);
      }
      const r = await srv.api('POST', '/v1/sessions', { email, password }, { key: null });
      expectError(r, 429);
      const ra = Number(r.headers.get('retry-after'));
      assert.ok(Number.isFinite(ra) && ra > 0, `Retry-After is ${r.headers.get('retry-after')}`);
      assert.equal(r.headers.getSetCookie().length, 0, 'a throttled login set a cookie');
      // another email is not throttled
      expectStatus((await login(ADMIN_EMAIL, ADMIN_PASSWORD)).r, 201);
    });

    it('a member logs in and makes their own API key with the session cookie', async () => {
      const email = 'cookiekey@test.io';
      const password = 'member-pass-77';
      const u = expectStatus(await srv.api('POST', '/v1/users', { email, role: 'member', password }), 201);
      const s = await login(email, password);
      expectStatus(s.r, 201);
      const k = await srv.api('POST', '/v1/keys', { name: 'laptop' },
        withCookie(s, { origin: srv.base }));
      const created = expectStatus(k, 201);
      const me = expectStatus(await srv.api('GET', '/v1/me', undefined, { key: created.key }), 200);
      assert.equal(me.id, u.id);
      assert.equal(me.role, 'member');
      assert.equal(me.auth, 'api_key');
    });

    it('a disabled user\'s key and session stop working', async () => {
      const email = 'disabled@test.io';
      const password = 'disabled-pass-1';
      const u = expectStatus(await srv.api('POST', '/v1/users', { email, role: 'member', password }), 201);
      const s = await login(email, password);
      expectStatus(s.r, 201);
      const m = { key: (await srv.api('POST', '/v1/keys', {}, withCookie(s))).body.key };
      assert.match(m.key ?? '', /^lpk_/);
      expectStatus(await srv.api('GET', '/v1/me', undefined, { key: m.key }), 200);
      const patched = expectStatus(await srv.api('PATCH', `/v1/users/${u.id}`, { disabled: true }), 200);
      assert.equal(patched.disabled, true);
      // a disabled account is told so (403), its session ended, its login refused
      expectError(await srv.api('GET', '/v1/me', undefined, { key: m.key }), 403);
      const viaCookie = await srv.api('GET', '/v1/me', undefined, withCookie(s.cookie));
      assert.ok([401, 403].includes(viaCookie.status), `the disabled user's session got ${viaCookie.status}`);
      expectError((await login(email, password)).r, 401);
      // enabled again, the key works again
      expectStatus(await srv.api('PATCH', `/v1/users/${u.id}`, { disabled: false }), 200);
      expectStatus(await srv.api('GET', '/v1/me', undefined, { key: m.key }), 200);
    });
  });

  describe('users (admin only)', () => {
    let member;
    before(async () => {
      member = await makeMember(srv, 'plain@test.io');
    });

    it('GET and POST /v1/users as a member get 403', async () => {
      expectError(await srv.api('GET', '/v1/users', undefined, { key: member.key }), 403);
      const r = await srv.api('POST', '/v1/users', { email: 'sneaky@test.io', role: 'admin' }, { key: member.key });
      expectError(r, 403);
      const all = (await listAll(srv, '/v1/users')).items;
      assert.ok(!all.some((u) => u.email === 'sneaky@test.io'), 'a member created a user');
    });

    it('GET /v1/users as admin lists users without password hashes', async () => {
      const r = await srv.api('GET', '/v1/users');
      const b = expectStatus(r, 200);
      assert.ok(b.items.some((u) => u.email === ADMIN_EMAIL));
      assert.ok(b.items.some((u) => u.email === 'plain@test.io'));
      assert.ok(!/password|\$argon2/i.test(r.text), 'user list leaks password data');
    });

    it('POST /v1/users validates role and email, and refuses a taken email', async () => {
      expectError(await srv.api('POST', '/v1/users', { email: 'r@test.io', role: 'superuser' }), 422, 'role');
      expectError(await srv.api('POST', '/v1/users', { email: 'not-an-email', role: 'member' }), 422, 'email');
      expectError(await srv.api('POST', '/v1/users', { role: 'member' }), 422, 'email');
      expectError(await srv.api('POST', '/v1/users', { email: 'short@test.io', password: 'short' }), 422, 'password');
      expectError(await srv.api('POST', '/v1/users', { email: 'short@test.io', password: 'eleven-char' }), 422, 'password');
      expectError(await srv.api('POST', '/v1/users', { email: 'PLAIN@test.io', role: 'member' }), 409, 'email');
    });

    it('a member cannot read or change another user, nor make themselves admin', async () => {
      expectError(await srv.api('GET', '/v1/users/1', undefined, { key: member.key }), 403);
      expectError(await srv.api('PATCH', '/v1/users/1', { name: 'pwned' }, { key: member.key }), 403);
      const r = await srv.api('PATCH', `/v1/users/${member.id}`, { role: 'admin' }, { key: member.key });
      expectError(r, 403, 'role');
      const me = expectStatus(await srv.api('GET', '/v1/me', undefined, { key: member.key }), 200);
      assert.equal(me.role, 'member');
      // but may rename themselves
      const ok = expectStatus(await srv.api('PATCH', `/v1/users/${member.id}`, { name: 'Plain Person' }, { key: member.key }), 200);
      assert.equal(ok.name, 'Plain Person');
    });

    it('changing your own password needs the current one', async () => {
      const email = 'pwchange@test.io';
      const u = expectStatus(await srv.api('POST', '/v1/users', { email, role: 'member', password: 'old-password-12' }), 201);
      const s = await login(email, 'old-password-12');
      expectStatus(s.r, 201);
      const as = withCookie(s);
      expectError(await srv.api('PATCH', `/v1/users/${u.id}`, { password: 'new-password-23' }, as), 422, 'current_password');
      expectError(await srv.api('PATCH', `/v1/users/${u.id}`, { password: 'new-password-23', current_password: 'guess-guess' }, as), 403, 'current_password');
      expectError((await login(email, 'new-password-23')).r, 401);
      expectStatus(await srv.api('PATCH', `/v1/users/${u.id}`, { password: 'new-password-23', current_password: 'old-password-12' }, as), 200);
      expectStatus((await login(email, 'new-password-23')).r, 201);
      expectError((await login(email, 'old-password-12')).r, 401);
    });

    it('an admin cannot demote or disable themselves', async () => {
      const me = expectStatus(await srv.api('GET', '/v1/me'), 200);
      expectError(await srv.api('PATCH', `/v1/users/${me.id}`, { role: 'member' }), 422, 'role');
      expectError(await srv.api('PATCH', `/v1/users/${me.id}`, { disabled: true }), 422, 'disabled');
      const again = expectStatus(await srv.api('GET', '/v1/me'), 200);
      assert.equal(again.role, 'admin');
    });
  });

  describe('project roles', () => {
    let project, outsider, annotator, reviewer, manager, task;

    before(async () => {
      project = await makeProject(srv, { name: 'roles' });
      [outsider, annotator, reviewer, manager] = [
        await makeMember(srv, 'outsider@test.io'),
        await makeMember(srv, 'annotator@test.io'),
        await makeMember(srv, 'reviewer@test.io'),
        await makeMember(srv, 'manager@test.io'),
      ];
      for (const [u, role] of [[annotator, 'annotator'], [reviewer, 'reviewer'], [manager, 'manager']]) {
        const r = await srv.api('PUT', `/v1/projects/${project.id}/members/${u.id}`, { role });
        const m = expectStatus(r, 200);
        assert.equal(m.role, role);
        assert.equal(m.user_id, u.id);
      }
      task = expectStatus(await srv.api('POST', '/v1/tasks', { project_id: project.id, unique_id: 'r1' }), 201);
    });

    it('a member with no role in the project gets 404 for it and its tasks', async () => {
      const k = { key: outsider.key };
      expectError(await srv.api('GET', `/v1/projects/${project.id}`, undefined, k), 404);
      expectError(await srv.api('GET', `/v1/projects/${project.id}/tasks`, undefined, k), 404);
      expectError(await srv.api('GET', `/v1/tasks?project_id=${project.id}`, undefined, k), 404);
      expectError(await srv.api('GET', `/v1/tasks/${task.id}`, undefined, k), 404);
      expectError(await srv.api('POST', '/v1/tasks', { project_id: project.id }, k), 404);
      expectError(await srv.api('PATCH', `/v1/projects/${project.id}`, { name: 'x' }, k), 404);
    });

    it('an outsider cannot tell whether a task or batch id exists in a project they are not in', async () => {
      const b = expectStatus(await srv.api('POST', `/v1/projects/${project.id}/batches`, { name: 'hidden' }), 201);
      const k = { key: outsider.key };
      const norm = (e, id) => ({ code: e.code, message: e.message.replaceAll(String(id), 'N') });
      const existing = expectError(await srv.api('GET', `/v1/tasks/${task.id}`, undefined, k), 404);
      const missing = expectError(await srv.api('GET', '/v1/tasks/987654', undefined, k), 404);
      assert.deepEqual(norm(existing, task.id), norm(missing, 987654));
      const eb = expectError(await srv.api('GET', `/v1/batches/${b.id}`, undefined, k), 404);
      const mb = expectError(await srv.api('GET', '/v1/batches/987654', undefined, k), 404);
      assert.deepEqual(norm(eb, b.id), norm(mb, 987654));
    });

    it('an annotator can GET the project but not list or create tasks', async () => {
      const k = { key: annotator.key };
      const p = expectStatus(await srv.api('GET', `/v1/projects/${project.id}`, undefined, k), 200);
      assert.equal(p.id, project.id);
      expectError(await srv.api('GET', `/v1/projects/${project.id}/tasks`, undefined, k), 403);
      expectError(await srv.api('GET', `/v1/tasks?project_id=${project.id}`, undefined, k), 403);
      expectError(await srv.api('POST', '/v1/tasks', { project_id: project.id }, k), 403);
      expectError(await srv.api('POST', `/v1/projects/${project.id}/tasks`, '[{}]', k), 403);
      expectError(await srv.api('POST', `/v1/projects/${project.id}/batches`, { name: 'a' }, k), 403);
    });

    it('an annotator cannot promote themselves to manager', async () => {
      const r = await srv.api('PUT', `/v1/projects/${project.id}/members/${annotator.id}`, { role: 'manager' }, { key: annotator.key });
      expectError(r, 403);
      expectError(await srv.api('GET', `/v1/projects/${project.id}/tasks`, undefined, { key: annotator.key }), 403);
    });

    it('a reviewer can list and read tasks but not create tasks or batches', async () => {
      const k = { key: reviewer.key };
      const l = expectStatus(await srv.api('GET', `/v1/projects/${project.id}/tasks`, undefined, k), 200);
      assert.ok(l.items.some((t) => t.id === task.id));
      expectStatus(await srv.api('GET', `/v1/tasks?project_id=${project.id}`, undefined, k), 200);
      expectStatus(await srv.api('GET', `/v1/tasks/${task.id}`, undefined, k), 200);
      expectStatus(await srv.api('GET', `/v1/projects/${project.id}/members`, undefined, k), 200);
      expectError(await srv.api('POST', '/v1/tasks', { project_id: project.id }, k), 403);
      expectError(await srv.api('POST', `/v1/projects/${project.id}/tasks`, '[{}]', k), 403);
      expectError(await srv.api('POST', `/v1/projects/${project.id}/batches`, { name: 'r' }, k), 403);
      expectError(await srv.api('POST', `/v1/tasks/${task.id}/cancel`, undefined, k), 403);
      expectError(await srv.api('PATCH', `/v1/projects/${project.id}`, { name: 'renamed' }, k), 403);
      const t = expectStatus(await srv.api('GET', `/v1/tasks/${task.id}`), 200);
      assert.equal(t.status, 'pending', 'a reviewer canceled a task');
    });

    it('a manager can create tasks and batches and assign roles', async () => {
      const k = { key: manager.key };
      const t = expectStatus(await srv.api('POST', '/v1/tasks', { project_id: project.id, unique_id: 'by-manager' }, k), 201);
      assert.equal(t.project_id, project.id);
      const b = expectStatus(await srv.api('POST', `/v1/projects/${project.id}/batches`, { name: 'mgr-batch' }, k), 201);
      assert.equal(b.status, 'staging');
      const bulk = expectStatus(await srv.api('POST', `/v1/projects/${project.id}/tasks`, '{"unique_id":"mgr-bulk"}\n', k), 200);
      assert.equal(bulk.created, 1);
      // the manager makes the outsider a reviewer, then removes them again
      const put = expectStatus(await srv.api('PUT', `/v1/projects/${project.id}/members/${outsider.id}`, { role: 'reviewer' }, k), 200);
      assert.equal(put.role, 'reviewer');
      expectStatus(await srv.api('GET', `/v1/projects/${project.id}/tasks`, undefined, { key: outsider.key }), 200);
      const del = await srv.api('DELETE', `/v1/projects/${project.id}/members/${outsider.id}`, undefined, k);
      assert.equal(del.status, 204, del.text);
      expectError(await srv.api('GET', `/v1/projects/${project.id}`, undefined, { key: outsider.key }), 404);
    });

    it('members list shows each member with their role', async () => {
      const items = expectStatus(await srv.api('GET', `/v1/projects/${project.id}/members`), 200).items;
      const role = (email) => items.find((m) => m.email === email)?.role;
      assert.equal(role(ADMIN_EMAIL), 'manager', 'the creator is manager');
      assert.equal(role('annotator@test.io'), 'annotator');
      assert.equal(role('reviewer@test.io'), 'reviewer');
      assert.equal(role('manager@test.io'), 'manager');
      assert.equal(role('outsider@test.io'), undefined);
    });

    it('an invalid role gets 422 naming "role"; an unknown user gets 404', async () => {
      expectError(await srv.api('PUT', `/v1/projects/${project.id}/members/${outsider.id}`, { role: 'owner' }), 422, 'role');
      expectError(await srv.api('PUT', `/v1/projects/${project.id}/members/${outsider.id}`, {}), 422, 'role');
      expectError(await srv.api('PUT', `/v1/projects/${project.id}/members/999999`, { role: 'annotator' }), 404);
      expectError(await srv.api('GET', `/v1/projects/${project.id}`, undefined, { key: outsider.key }), 404);
    });

    it('changing a role takes effect at once', async () => {
      const u = await makeMember(srv, 'flipper@test.io');
      const url = `/v1/projects/${project.id}/members/${u.id}`;
      expectStatus(await srv.api('PUT', url, { role: 'reviewer' }), 200);
      expectStatus(await srv.api('GET', `/v1/projects/${project.id}/tasks`, undefined, { key: u.key }), 200);
      expectStatus(await srv.api('PUT', url, { role: 'annotator' }), 200);
      expectError(await srv.api('GET', `/v1/projects/${project.id}/tasks`, undefined, { key: u.key }), 403);
    });

    it('the last manager of a project cannot demote or remove themselves', async () => {
      const own = await makeProject(srv, { name: 'sole-manager' }, manager.key);
      const url = `/v1/projects/${own.id}/members/${manager.id}`;
      expectError(await srv.api('PUT', url, { role: 'annotator' }, { key: manager.key }), 409, 'role');
      expectError(await srv.api('DELETE', url, undefined, { key: manager.key }), 409);
      const items = expectStatus(await srv.api('GET', `/v1/projects/${own.id}/members`, undefined, { key: manager.key }), 200).items;
      assert.equal(items.find((m) => m.user_id === manager.id)?.role, 'manager');
      expectStatus(await srv.api('POST', '/v1/tasks', { project_id: own.id }, { key: manager.key }), 201);
      // with a second manager, stepping down works
      expectStatus(await srv.api('PUT', `/v1/projects/${own.id}/members/${reviewer.id}`, { role: 'manager' }, { key: manager.key }), 200);
      const down = expectStatus(await srv.api('PUT', url, { role: 'reviewer' }, { key: manager.key }), 200);
      assert.equal(down.role, 'reviewer');
      expectError(await srv.api('POST', '/v1/tasks', { project_id: own.id }, { key: manager.key }), 403);
    });

    it('GET /v1/projects as a member lists only their projects', async () => {
      const own = await makeProject(srv, { name: 'reviewer-own' }, reviewer.key);
      const other = await makeProject(srv, { name: 'admin-only' });
      const mine = (await listAll(srv, '/v1/projects', { key: reviewer.key })).items.map((p) => p.id);
      assert.ok(mine.includes(project.id), 'the project they review is missing');
      assert.ok(mine.includes(own.id), 'the project they created is missing');
      assert.ok(!mine.includes(other.id), 'a project they have no role in is listed');
      assert.equal(new Set(mine).size, mine.length);
      const outsiders = (await listAll(srv, '/v1/projects', { key: outsider.key })).items;
      assert.deepEqual(outsiders, []);
      // the creator of a project is its manager
      const t = await srv.api('POST', '/v1/tasks', { project_id: own.id }, { key: reviewer.key });
      expectStatus(t, 201);
    });
  });
});
