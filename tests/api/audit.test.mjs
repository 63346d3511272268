// audit.test.mjs -- the audit log (issue 8): every request that may change
// something is recorded with who, what, when, from where and how it ended,
// refused ones too; never a secret; GETs are not; admins read all of it
// (GET /v1/audit) and a project's managers their project's; it survives a
// restart.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, it, expectError, expectStatus, listAll, makeProject, makeMember,
  ADMIN_EMAIL, ADMIN_PASSWORD,
} from './harness.mjs';

describe('audit log', () => {
  let srv, p, other, ann, mgr, otherMgr;
  const t0 = Date.now();
  before(async () => {
    srv = await startServer();
    p = await makeProject(srv, { overlap: 1 });
    other = await makeProject(srv);
    ann = await makeMember(srv, 'ann@audit.io');
    mgr = await makeMember(srv, 'mgr@audit.io');
    otherMgr = await makeMember(srv, 'om@audit.io');
    for (const [u, role, proj] of [[ann, 'annotator', p], [mgr, 'manager', p], [otherMgr, 'manager', other]])
      expectStatus(await srv.api('PUT', `/v1/projects/${proj.id}/members/${u.id}`, { role }), 200);
    expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id, data: { text: 'x' } }), 201);
  });
  after(async () => {
    await srv?.stop();
  });

  const newest = async (query = '') => expectStatus(await srv.api('GET', `/v1/audit?limit=1${query}`), 200).items[0];

  it('a POST that made something: the user, the key, the address, the route, the path, the id it made, the field names and the status', async () => {
    const q = await makeProject(srv, { metadata: { note: 'secret-ish' } });
    const e = await newest();
    assert.equal(e.method, 'POST');
    assert.equal(e.route, '/v1/projects');
    assert.equal(e.path, '/v1/projects');
    assert.equal(e.status, 201);
    assert.equal(e.object_id, q.id);
    assert.equal(e.user.email, ADMIN_EMAIL);
    const keys = expectStatus(await srv.api('GET', '/v1/keys'), 200).items.map((k) => k.id);
    assert.ok(keys.includes(e.key_id), `key_id ${e.key_id} is not one of the admin's keys ${keys}`);
    assert.equal(e.address, '127.0.0.1');
    assert.deepEqual([...e.detail.fields].sort(), ['kind', 'metadata', 'name', 'params']);
    assert.ok(!JSON.stringify(e).includes('secret-ish'), 'a value reached the log');
    assert.ok(Math.abs(Date.parse(e.at) - Date.now()) < 60e3, `at ${e.at}`);
  });

  it('a PATCH names the project and the fields it changed; an annotator\'s refused PATCH is recorded as 403', async () => {
    expectStatus(await srv.api('PATCH', `/v1/projects/${p.id}`, { overlap: 1, lease_seconds: 600 }), 200);
    let e = await newest();
    assert.equal(e.route, '/v1/projects/{}');
    assert.equal(e.path, `/v1/projects/${p.id}`);
    assert.equal(e.project_id, p.id);
    assert.deepEqual([...e.detail.fields].sort(), ['lease_seconds', 'overlap']);
    expectError(await srv.api('PATCH', `/v1/projects/${p.id}`, { overlap: 3 }, { key: ann.key }), 403);
    e = await newest();
    assert.equal(e.status, 403);
    assert.equal(e.user.email, 'ann@audit.io');
    assert.equal(e.project_id, p.id);
  });

  it('the annotator loop: a submit is recorded in its transaction, with its project and annotation; leases (GETs) are not', async () => {
    const before = await newest();
    const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ann.key }), 200).assignment;
    assert.equal((await newest()).id, before.id, 'a lease was recorded');
    const s = expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: 'au-1', response: { labels: ['cat'] } }, { key: ann.key }), 201);
    const e = await newest();
    assert.equal(e.route, '/v1/assignments/{}/submit');
    assert.equal(e.path, `/v1/assignments/${a.id}/submit`);
    assert.equal(e.project_id, p.id);
    assert.equal(e.user.email, 'ann@audit.io');
    assert.equal(e.status, 201);
    assert.equal(e.object_id, s.annotation?.id ?? s.id ?? e.object_id);
    assert.equal(e.detail, null, 'an annotation body is not parsed for the log');
  });

  it('logins: a failed one with the email it tried and no user, a good one with the user; never the password; logout too', async () => {
    const wrong = 'Wrong-password-4242';
    expectStatus(await srv.api('POST', '/v1/sessions', { email: ADMIN_EMAIL, password: wrong }, { key: null }), 401);
    let e = await newest();
    assert.equal(e.route, '/v1/sessions');
    assert.equal(e.status, 401);
    assert.equal(e.user, null);
    assert.equal(e.key_id, null);
    assert.deepEqual(e.detail, { email: ADMIN_EMAIL });
    const ok = await srv.api('POST', '/v1/sessions', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD }, { key: null });
    expectStatus(ok, 201);
    e = await newest();
    assert.equal(e.status, 201);
    assert.equal(e.user.email, ADMIN_EMAIL);
    assert.deepEqual([...e.detail.fields].sort(), ['email', 'password']);
    const cookie = ok.headers.getSetCookie().find((c) => c.startsWith('loupe_session=')).split(';')[0];
    expectStatus(await srv.api('DELETE', '/v1/sessions', undefined, { key: null, headers: { cookie, 'x-csrf-token': ok.body.csrf_token } }), 204);
    e = await newest();
    assert.equal(e.method, 'DELETE');
    assert.equal(e.user.email, ADMIN_EMAIL);
    // A new user's password: the field's name, never its value.
    const pw = 'Quite-long-pass-9876';
    expectStatus(await srv.api('POST', '/v1/users', { email: 'pw@audit.io', password: pw }), 201);
    e = await newest();
    assert.ok(e.detail.fields.includes('password'));
    const all = await listAll(srv, '/v1/audit');
    const text = JSON.stringify(all.items);
    assert.ok(!text.includes(pw) && !text.includes(wrong) && !text.includes(ADMIN_PASSWORD), 'a password reached the log');
  });

  it('a path that is not UTF-8 is recorded escaped, not refused; anonymous requests that say nothing and many field names do not grow the log', async () => {
    const r = await srv.api('POST', '/v1/assignments/%FF%C3/submit', { annotation_id: 'x', response: {} }, { key: ann.key });
    assert.equal(r.status, 404, r.text);
    let e = await newest();
    assert.equal(e.path, '/v1/assignments/%FF%C3/submit');
    assert.equal(e.status, 404);
    const before = e.id;
    expectError(await srv.api('POST', '/v1/sessions', { nothing: 1 }, { key: null }), 422);
    expectStatus(await srv.api('DELETE', '/v1/sessions', undefined, { key: null }), 204);
    assert.equal((await newest()).id, before, 'an anonymous request that names no one was recorded');
    const wide = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`${'k'.repeat(200)}${i}`, i]));
    expectError(await srv.api('PATCH', `/v1/projects/${p.id}`, wide), 422);
    e = await newest();
    assert.equal(e.detail.fields.length, 33);
    assert.equal(e.detail.fields.at(-1), '...');
    assert.ok(e.detail.fields.slice(0, 32).every((f) => f.length <= 64), 'a field name was not cut');
  });

  it('X-Forwarded-For is not believed unless the server runs --behind-proxy', async () => {
    expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id, data: { text: 'y' } }, { headers: { 'x-forwarded-for': '203.0.113.9' } }), 201);
    assert.equal((await newest()).address, '127.0.0.1');
  });

  it('admins only: members get 403 on GET /v1/audit; a manager reads their project\'s log, not another\'s; an annotator cannot', async () => {
    for (const u of [ann, mgr]) expectError(await srv.api('GET', '/v1/audit', undefined, { key: u.key }), 403);
    const mine = await listAll(srv, `/v1/projects/${p.id}/audit`, { key: mgr.key });
    assert.ok(mine.items.length >= 3, `only ${mine.items.length} rows`);
    assert.ok(mine.items.every((x) => x.project_id === p.id));
    expectError(await srv.api('GET', `/v1/projects/${p.id}/audit`, undefined, { key: otherMgr.key }), 404);
    expectError(await srv.api('GET', `/v1/projects/${p.id}/audit`, undefined, { key: ann.key }), 403);
    const byAdmin = await listAll(srv, `/v1/audit?project_id=${p.id}`);
    assert.deepEqual(byAdmin.items.map((x) => x.id), mine.items.map((x) => x.id));
  });

  it('filters (user, method, route, status, time) and pages newest first without gaps or repeats', async () => {
    const all = (await listAll(srv, '/v1/audit')).items;
    const ids = all.map((x) => x.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'not newest first');
    const paged = await listAll(srv, '/v1/audit', { limit: 2 });
    assert.deepEqual(paged.items.map((x) => x.id), ids);
    assert.ok(paged.pages >= Math.ceil(ids.length / 2));
    const check = async (q, pred) => {
      const got = (await listAll(srv, `/v1/audit?${q}`)).items.map((x) => x.id);
      assert.deepEqual(got, all.filter(pred).map((x) => x.id), q);
    };
    await check(`user_id=${ann.id}`, (x) => x.user?.id === ann.id);
    await check('method=PATCH', (x) => x.method === 'PATCH');
    await check(`route=${encodeURIComponent('/v1/projects/{}/members/{}')}`, (x) => x.route === '/v1/projects/{}/members/{}');
    await check('status=refused', (x) => x.status >= 400 && x.status < 500);
    await check('status=ok', (x) => x.status < 400);
    await check('status=201', (x) => x.status === 201);
    const mid = all[Math.floor(all.length / 2)].at;
    await check(`since=${encodeURIComponent(mid)}`, (x) => Date.parse(x.at) >= Date.parse(mid));
    await check(`until=${encodeURIComponent(mid)}`, (x) => Date.parse(x.at) < Date.parse(mid));
    assert.ok(Date.parse(all.at(-1).at) >= t0 - 1000);
    expectError(await srv.api('GET', '/v1/audit?user_id=x'), 400, 'user_id');
    expectError(await srv.api('GET', '/v1/audit?method=GET'), 400, 'method');
    expectError(await srv.api('GET', '/v1/audit?status=maybe'), 400, 'status');
    expectError(await srv.api('GET', '/v1/audit?since=yesterday'), 400, 'since');
    expectError(await srv.api('GET', '/v1/audit?next_token=zz'), 400, 'next_token');
  });

  it('GETs are not recorded, and the log is in the database: it survives a restart', async () => {
    const before = await newest();
    await srv.api('GET', `/v1/projects/${p.id}`);
    await srv.api('GET', '/v1/tasks?project_id=' + p.id);
    assert.equal((await newest()).id, before.id);
    const n = (await listAll(srv, '/v1/audit')).items.length;
    const dir = srv.dir, key = srv.key, dbUrl = srv.dbUrl;
    await srv.stop({ keepDir: true });
    srv = await startServer({ dir, key, dbUrl });
    assert.equal((await listAll(srv, '/v1/audit')).items.length, n);
  });
});
