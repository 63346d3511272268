// projects.test.mjs -- creating, reading, updating and listing projects.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, it, expectError, expectStatus, makeProject, makeMember, getProject, listAll } from './harness.mjs';

let srv;
const STATUSES = ['pending', 'in_progress', 'review', 'completed', 'canceled', 'gold'];

describe('projects', () => {
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  it('POST /v1/projects creates a project (201) with its kind, params and defaults', async () => {
    const r = await srv.api('POST', '/v1/projects', {
      name: 'Sentiment',
      kind: 'categorization',
      params: { labels: ['positive', 'negative'], instructions: 'Pick one.' },
      overlap: 3,
      metadata: { team: 'nlp' },
    });
    const p = expectStatus(r, 201);
    assert.equal(typeof p.id, 'number');
    assert.equal(p.name, 'Sentiment');
    assert.equal(p.kind, 'categorization');
    assert.equal(p.overlap, 3);
    assert.equal(p.aggregation, 'auto');
    assert.equal(p.callback_url, null);
    assert.deepEqual(p.metadata, { team: 'nlp' });
    assert.match(p.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.equal(p.params.instructions, 'Pick one.');
    const again = await getProject(srv, p.id);
    assert.deepEqual(again.params, p.params);
    assert.equal(again.name, 'Sentiment');
  });

  it('params are normalised by the kind: label strings become objects, defaults filled', async () => {
    const p = await makeProject(srv, { params: { labels: ['cat', { name: 'dog', description: 'a dog' }] } });
    assert.deepEqual(p.params.labels, [{ name: 'cat' }, { name: 'dog', description: 'a dog' }]);
    assert.equal(p.params.multiple, false);
    const stored = await getProject(srv, p.id);
    assert.deepEqual(stored.params, p.params, 'the stored params differ from the answer');
  });

  it('the creator becomes the project\'s manager', async () => {
    const p = await makeProject(srv);
    const items = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/members`), 200).items;
    assert.equal(items.length, 1);
    assert.equal(items[0].email, 'admin@test.io');
    assert.equal(items[0].role, 'manager');
  });

  it('a project says the caller\'s role in it; an admin who is not a member is a manager', async () => {
    // A project a member made: the admin is not in it.
    const owner = await makeMember(srv, 'role-owner@test.io');
    const p = await makeProject(srv, {}, owner.key);
    assert.equal(p.role, 'manager', 'the creator is its manager');
    const ann = await makeMember(srv, 'role-annotator@test.io');
    const rev = await makeMember(srv, 'role-reviewer@test.io');
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${ann.id}`, { role: 'annotator' }, { key: owner.key }), 200);
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${rev.id}`, { role: 'reviewer' }, { key: owner.key }), 200);
    for (const [who, key, role] of [['the admin', undefined, 'manager'], ['the owner', owner.key, 'manager'], ['an annotator', ann.key, 'annotator'], ['a reviewer', rev.key, 'reviewer']]) {
      const opts = key ? { key } : {};
      assert.equal(expectStatus(await srv.api('GET', `/v1/projects/${p.id}`, undefined, opts), 200).role, role, `GET as ${who}`);
      const listed = (await listAll(srv, '/v1/projects', { key })).items.find((x) => x.id === p.id);
      assert.equal(listed?.role, role, `the list as ${who}`);
    }
    const patched = expectStatus(await srv.api('PATCH', `/v1/projects/${p.id}`, { name: 'renamed' }), 200);
    assert.equal(patched.role, 'manager', 'the admin\'s PATCH answer');
  });

  it('an unknown kind gets 422 naming "kind" and listing the kinds', async () => {
    const r = await srv.api('POST', '/v1/projects', { name: 'x', kind: 'telepathy', params: {} });
    const e = expectError(r, 422, 'kind');
    for (const k of ['categorization', 'imageannotation', 'namedentityrecognition', 'transcription', 'comparison', 'ranking', 'rating', 'textcollection'])
      assert.ok(e.message.includes(k), `the message does not list ${k}: ${e.message}`);
  });

  it('missing name or kind gets 422 naming it', async () => {
    expectError(await srv.api('POST', '/v1/projects', { kind: 'categorization', params: { labels: ['a'] } }), 422, 'name');
    expectError(await srv.api('POST', '/v1/projects', { name: 'x' }), 422, 'kind');
    expectError(await srv.api('POST', '/v1/projects', { name: '', kind: 'categorization', params: { labels: ['a'] } }), 422, 'name');
  });

  it('invalid params get 422 with a field under "params."', async () => {
    const bad = [
      { labels: [] },
      { labels: 'cat' },
      { labels: ['cat', 'cat'] },
      { labels: [42] },
      { labels: ['a'], multiple: 'yes' },
      { labels: ['a'], colour: 'red' },
    ];
    for (const params of bad) {
      const r = await srv.api('POST', '/v1/projects', { name: 'bad', kind: 'categorization', params });
      const e = expectError(r, 422);
      assert.match(e.field ?? '', /^params\./, `params ${JSON.stringify(params)}: field ${e.field}`);
    }
    expectError(await srv.api('POST', '/v1/projects', { name: 'bad', kind: 'categorization', params: ['a'] }), 422, /^params/);
  });

  it('an unknown top-level field gets 422 naming it', async () => {
    const r = await srv.api('POST', '/v1/projects', { name: 'x', kind: 'categorization', params: { labels: ['a'] }, colour: 'red' });
    expectError(r, 422, 'colour');
  });

  it('overlap outside 1..100 gets 422 naming "overlap"', async () => {
    for (const overlap of [0, -1, 101, 'three', 1.5]) {
      const r = await srv.api('POST', '/v1/projects', { name: 'o', kind: 'categorization', params: { labels: ['a'] }, overlap });
      expectError(r, 422, 'overlap');
    }
    const p = await makeProject(srv, { overlap: 100 });
    assert.equal(p.overlap, 100);
  });

  it('an unknown aggregation gets 422; a known one is kept', async () => {
    expectError(await srv.api('POST', '/v1/projects', { name: 'a', kind: 'categorization', params: { labels: ['a'] }, aggregation: 'vibes' }), 422, 'aggregation');
    const p = await makeProject(srv, { aggregation: 'dawid_skene' });
    assert.equal(p.aggregation, 'dawid_skene');
  });

  it('callback_url must be http(s)', async () => {
    for (const url of ['ftp://example.com/hook', 'javascript:alert(1)', 'example.com/hook', '']) {
      const r = await srv.api('POST', '/v1/projects', { name: 'cb', kind: 'categorization', params: { labels: ['a'] }, callback_url: url });
      expectError(r, 422, 'callback_url');
    }
    const p = await makeProject(srv, { callback_url: 'https://hooks.example.com/loupe' });
    assert.equal(p.callback_url, 'https://hooks.example.com/loupe');
  });

  describe('PATCH', () => {
    let p;
    before(async () => {
      p = await makeProject(srv, { name: 'before', overlap: 2, callback_url: 'https://a.example/x', metadata: { keep: 1 } });
    });

    it('updates name and overlap and keeps everything else', async () => {
      const r = await srv.api('PATCH', `/v1/projects/${p.id}`, { name: 'after', overlap: 5 });
      const u = expectStatus(r, 200);
      assert.equal(u.name, 'after');
      assert.equal(u.overlap, 5);
      assert.deepEqual(u.params, p.params);
      assert.equal(u.callback_url, 'https://a.example/x');
      assert.deepEqual(u.metadata, { keep: 1 });
      const g = await getProject(srv, p.id);
      assert.equal(g.name, 'after');
      assert.equal(g.overlap, 5);
      assert.ok(g.updated_at >= p.updated_at);
    });

    it('changing the kind gets 422 naming "kind"; the same kind is fine', async () => {
      expectError(await srv.api('PATCH', `/v1/projects/${p.id}`, { kind: 'ranking' }), 422, 'kind');
      expectStatus(await srv.api('PATCH', `/v1/projects/${p.id}`, { kind: 'categorization' }), 200);
      assert.equal((await getProject(srv, p.id)).kind, 'categorization');
    });

    it('bad values are refused and change nothing', async () => {
      expectError(await srv.api('PATCH', `/v1/projects/${p.id}`, { overlap: 0 }), 422, 'overlap');
      expectError(await srv.api('PATCH', `/v1/projects/${p.id}`, { overlap: 1000, name: 'never' }), 422, 'overlap');
      expectError(await srv.api('PATCH', `/v1/projects/${p.id}`, { aggregation: 'mean' }), 422, 'aggregation');
      expectError(await srv.api('PATCH', `/v1/projects/${p.id}`, { callback_url: 'gopher://x' }), 422, 'callback_url');
      expectError(await srv.api('PATCH', `/v1/projects/${p.id}`, { params: { labels: [] } }), 422, /^params\./);
      expectError(await srv.api('PATCH', `/v1/projects/${p.id}`, { name: '' }), 422, 'name');
      const g = await getProject(srv, p.id);
      assert.equal(g.name, 'after');
      assert.equal(g.overlap, 5);
      assert.equal(g.aggregation, 'auto');
      assert.equal(g.callback_url, 'https://a.example/x');
      assert.equal(g.params.labels.length, 2);
    });

    it('params are replaced and normalised; callback_url null clears it', async () => {
      const u = expectStatus(await srv.api('PATCH', `/v1/projects/${p.id}`, { params: { labels: ['x', 'y', 'z'], multiple: true }, callback_url: null }), 200);
      assert.deepEqual(u.params.labels, [{ name: 'x' }, { name: 'y' }, { name: 'z' }]);
      assert.equal(u.params.multiple, true);
      assert.equal(u.callback_url, null);
    });

    it('PATCH of a missing project gets 404', async () => {
      expectError(await srv.api('PATCH', '/v1/projects/987654', { name: 'x' }), 404);
    });
  });

  it('GET /v1/projects/{id} has counts {pending, ..., total} that follow the tasks', async () => {
    const p = await makeProject(srv);
    assert.deepEqual(p.counts, { pending: 0, in_progress: 0, review: 0, completed: 0, canceled: 0, gold: 0, total: 0 });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id }), 201).id);
    expectStatus(await srv.api('POST', `/v1/tasks/${ids[0]}/cancel`), 200);
    const c = (await getProject(srv, p.id)).counts;
    for (const s of STATUSES) assert.equal(typeof c[s], 'number', `counts.${s}`);
    assert.equal(c.pending, 2);
    assert.equal(c.canceled, 1);
    assert.equal(c.total, 3);
    assert.equal(STATUSES.reduce((a, s) => a + c[s], 0), c.total, 'total is not the sum of the statuses');
  });

  it('GET of a missing project gets 404', async () => {
    expectError(await srv.api('GET', '/v1/projects/987654'), 404);
  });

  it('listing with limit and next_token returns every project exactly once, in id order', async () => {
    for (let i = 0; i < 7; i++) await makeProject(srv, { name: `page-${i}` });
    const all = (await listAll(srv, '/v1/projects', { limit: 1000 })).items.map((p) => p.id);
    assert.ok(all.length >= 7);
    const paged = await listAll(srv, '/v1/projects', { limit: 3 });
    const ids = paged.items.map((p) => p.id);
    assert.deepEqual(ids, all, 'paging by 3 does not give the same projects as one page');
    assert.equal(new Set(ids).size, ids.length, 'a project is listed twice');
    assert.deepEqual([...ids].sort((a, b) => a - b), ids, 'not in id order');
    assert.equal(paged.pages, Math.ceil(all.length / 3), `${all.length} projects took ${paged.pages} pages of 3`);
    // each listed project carries counts
    assert.ok(paged.items.every((p) => p.counts && typeof p.counts.total === 'number'));
  });

  it('an exact multiple of the page size ends with next_token null, not an empty page', async () => {
    const all = (await listAll(srv, '/v1/projects')).items;
    const n = all.length;
    const r = expectStatus(await srv.api('GET', `/v1/projects?limit=${n}`), 200);
    assert.equal(r.items.length, n);
    assert.equal(r.next_token, null, 'a page holding the last project still offers a next_token');
  });

  it('bad limit or next_token gets 400 naming it', async () => {
    expectError(await srv.api('GET', '/v1/projects?limit=0'), 400, 'limit');
    expectError(await srv.api('GET', '/v1/projects?limit=1001'), 400, 'limit');
    expectError(await srv.api('GET', '/v1/projects?limit=ten'), 400, 'limit');
    expectError(await srv.api('GET', '/v1/projects?next_token=bogus!!'), 400, 'next_token');
  });
});
