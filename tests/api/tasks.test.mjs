// tasks.test.mjs -- one task at a time: create, read, cancel, metadata,
// tags, list filters, cursor paging, gold tasks, predictions, attachments.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startServer, it, expectError, expectStatus, makeProject, getProject, listAll, sleep } from './harness.mjs';

let srv, project;

async function createTask(body, pid = project.id) {
  return expectStatus(await srv.api('POST', '/v1/tasks', { project_id: pid, ...body }), 201);
}

async function getTask(id) {
  return expectStatus(await srv.api('GET', `/v1/tasks/${id}`), 200);
}

async function list(query) {
  return expectStatus(await srv.api('GET', `/v1/tasks?${query}`), 200);
}

const q = encodeURIComponent;

describe('tasks', () => {
  before(async () => {
    srv = await startServer();
    project = await makeProject(srv, { name: 'tasks', params: { labels: ['cat', 'dog'] } });
  });
  after(async () => {
    await srv?.stop();
  });

  describe('create and read', () => {
    let first;

    it('POST /v1/tasks creates a task (201) with everything it was given', async () => {
      const body = {
        project_id: project.id,
        unique_id: 'img-0001',
        attachments: [{ type: 'image', url: 'https://cdn.example.com/1.jpg', name: 'front' }, { type: 'text', content: 'caption' }],
        data: { camera: 'A', n: 3 },
        metadata: { source: 'crawl' },
        tags: ['b', 'a', 'b'],
        priority: 5,
      };
      const r = await srv.api('POST', '/v1/tasks', body);
      const t = expectStatus(r, 201);
      first = t;
      assert.equal(typeof t.id, 'number');
      assert.equal(t.project_id, project.id);
      assert.equal(t.unique_id, 'img-0001');
      assert.equal(t.status, 'pending');
      assert.equal(t.batch_id, null);
      assert.deepEqual(t.attachments, body.attachments);
      assert.deepEqual(t.data, body.data);
      assert.deepEqual(t.metadata, body.metadata);
      assert.deepEqual(t.tags, ['a', 'b'], 'tags are not sorted and de-duplicated');
      assert.equal(t.priority, 5);
      assert.equal(t.is_gold, false);
      assert.match(t.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      assert.deepEqual(await getTask(t.id), t, 'GET differs from the create answer');
    });

    it('a task with no optional fields gets the defaults', async () => {
      const t = await createTask({});
      assert.deepEqual(t.attachments, []);
      assert.deepEqual(t.data, {});
      assert.deepEqual(t.metadata, {});
      assert.deepEqual(t.tags, []);
      assert.equal(t.priority, 0);
      assert.equal(t.unique_id, null);
    });

    it('a duplicate unique_id gets 409 with error.existing_id and the existing task; nothing is counted', async () => {
      const before = (await getProject(srv, project.id)).counts.total;
      const r = await srv.api('POST', '/v1/tasks', { project_id: project.id, unique_id: 'img-0001', data: { other: true } });
      const e = expectError(r, 409, 'unique_id');
      assert.equal(e.existing_id, first.id);
      assert.ok(r.body.task && typeof r.body.task === 'object', `no "task" in ${r.text}`);
      assert.equal(r.body.task.id, first.id);
      assert.deepEqual(r.body.task.data, first.data, 'the duplicate overwrote the first task');
      assert.equal((await getProject(srv, project.id)).counts.total, before);
      // the same unique_id in another project is a different task
      const other = await makeProject(srv);
      const t = await createTask({ unique_id: 'img-0001' }, other.id);
      assert.notEqual(t.id, first.id);
    });

    it('missing or bad project_id gets 422 naming "project_id"; a missing project 404', async () => {
      expectError(await srv.api('POST', '/v1/tasks', { data: {} }), 422, 'project_id');
      expectError(await srv.api('POST', '/v1/tasks', { project_id: 'one' }), 422, 'project_id');
      expectError(await srv.api('POST', '/v1/tasks', { project_id: 987654 }), 404);
    });

    it('bad fields get 422 naming them', async () => {
      const cases = [
        [{ colour: 'red' }, 'colour'],
        [{ priority: 'high' }, 'priority'],
        [{ priority: 2e9 }, 'priority'],
        [{ unique_id: '' }, 'unique_id'],
        [{ unique_id: 42 }, 'unique_id'],
        [{ data: [1, 2] }, 'data'],
        [{ metadata: 'x' }, 'metadata'],
        [{ tags: 'a' }, 'tags'],
        [{ tags: [''] }, 'tags[0]'],
        [{ tags: ['ok', 'a/b'] }, 'tags[1]'],
        [{ tags: ['x'.repeat(65)] }, 'tags[0]'],
      ];
      const before = (await getProject(srv, project.id)).counts.total;
      for (const [body, field] of cases) {
        const r = await srv.api('POST', '/v1/tasks', { project_id: project.id, ...body });
        expectError(r, 422, field);
      }
      assert.equal((await getProject(srv, project.id)).counts.total, before, 'an invalid task was counted');
    });

    it('GET of a missing task gets 404', async () => {
      expectError(await srv.api('GET', '/v1/tasks/987654'), 404);
    });
  });

  describe('cancel, metadata and tags', () => {
    let p, t;
    before(async () => {
      p = await makeProject(srv);
      t = await createTask({ metadata: { a: 1, b: 2 }, tags: ['a', 'b'] }, p.id);
      await createTask({}, p.id);
    });

    it('cancel sets status canceled and moves the count from pending to canceled', async () => {
      const before = (await getProject(srv, p.id)).counts;
      assert.equal(before.pending, 2);
      await sleep(5);
      const c = expectStatus(await srv.api('POST', `/v1/tasks/${t.id}/cancel`), 200);
      assert.equal(c.status, 'canceled');
      assert.ok(c.updated_at > t.updated_at, 'updated_at did not move');
      assert.equal((await getTask(t.id)).status, 'canceled');
      const after = (await getProject(srv, p.id)).counts;
      assert.equal(after.pending, 1);
      assert.equal(after.canceled, 1);
      assert.equal(after.total, 2);
    });

    it('cancelling again gets 409 and the counts stay', async () => {
      expectError(await srv.api('POST', `/v1/tasks/${t.id}/cancel`), 409);
      const c = (await getProject(srv, p.id)).counts;
      assert.equal(c.pending, 1);
      assert.equal(c.canceled, 1);
      expectError(await srv.api('POST', '/v1/tasks/987654/cancel'), 404);
    });

    it('concurrent cancels of one task: exactly one wins, counted once', async () => {
      const x = await createTask({}, p.id);
      const before = (await getProject(srv, p.id)).counts;
      const rs = await Promise.all(Array.from({ length: 6 }, () => srv.api('POST', `/v1/tasks/${x.id}/cancel`)));
      const codes = rs.map((r) => r.status).sort();
      assert.deepEqual(codes, [200, 409, 409, 409, 409, 409]);
      const after = (await getProject(srv, p.id)).counts;
      assert.equal(after.canceled, before.canceled + 1);
      assert.equal(after.pending, before.pending - 1);
      assert.equal(after.total, before.total);
    });

    it('PUT metadata replaces it whole', async () => {
      const r = expectStatus(await srv.api('PUT', `/v1/tasks/${t.id}/metadata`, { c: 3, nested: { x: [1] } }), 200);
      assert.deepEqual(r.metadata, { c: 3, nested: { x: [1] } });
      assert.deepEqual((await getTask(t.id)).metadata, { c: 3, nested: { x: [1] } });
      expectError(await srv.api('PUT', `/v1/tasks/${t.id}/metadata`, [1, 2]), 400, 'body');
      expectError(await srv.api('PUT', '/v1/tasks/987654/metadata', { a: 1 }), 404);
      assert.deepEqual((await getTask(t.id)).metadata, { c: 3, nested: { x: [1] } });
    });

    it('POST tags adds them, sorted and without repeats', async () => {
      const r = expectStatus(await srv.api('POST', `/v1/tasks/${t.id}/tags`, { tags: ['d', 'c', 'a', 'c'] }), 200);
      assert.deepEqual(r.tags, ['a', 'b', 'c', 'd']);
      assert.deepEqual((await getTask(t.id)).tags, ['a', 'b', 'c', 'd']);
      const sp = expectStatus(await srv.api('POST', `/v1/tasks/${t.id}/tags`, { tags: ['needs review'] }), 200);
      assert.deepEqual(sp.tags, ['a', 'b', 'c', 'd', 'needs review']);
    });

    it('a non-ASCII tag can be added, filtered on and removed through the URL', async () => {
      const tag = 'größe ✓';
      expectStatus(await srv.api('POST', `/v1/tasks/${t.id}/tags`, { tags: [tag] }), 200);
      const found = expectStatus(await srv.api('GET', `/v1/tasks?project_id=${p.id}&tag=${q(tag)}`), 200).items;
      assert.deepEqual(found.map((x) => x.id), [t.id]);
      const r = expectStatus(await srv.api('DELETE', `/v1/tasks/${t.id}/tags/${q(tag)}`), 200);
      assert.ok(!r.tags.includes(tag), `the tag is still there: ${JSON.stringify(r.tags)}`);
    });

    it('bad tags get 422 and change nothing', async () => {
      expectError(await srv.api('POST', `/v1/tasks/${t.id}/tags`, { tags: [] }), 422, 'tags');
      expectError(await srv.api('POST', `/v1/tasks/${t.id}/tags`, { tags: ['ok', ''] }), 422, 'tags[1]');
      expectError(await srv.api('POST', `/v1/tasks/${t.id}/tags`, { tags: 'x' }), 422, 'tags');
      expectError(await srv.api('POST', `/v1/tasks/${t.id}/tags`, {}), 422, 'tags');
      assert.deepEqual((await getTask(t.id)).tags, ['a', 'b', 'c', 'd', 'needs review']);
    });

    it('DELETE tags/{tag} removes one tag', async () => {
      const r = expectStatus(await srv.api('DELETE', `/v1/tasks/${t.id}/tags/b`), 200);
      assert.deepEqual(r.tags, ['a', 'c', 'd', 'needs review']);
      const r2 = expectStatus(await srv.api('DELETE', `/v1/tasks/${t.id}/tags/${q('needs review')}`), 200);
      assert.deepEqual(r2.tags, ['a', 'c', 'd']);
      const r3 = expectStatus(await srv.api('DELETE', `/v1/tasks/${t.id}/tags/not-there`), 200);
      assert.deepEqual(r3.tags, ['a', 'c', 'd']);
      assert.deepEqual((await getTask(t.id)).tags, ['a', 'c', 'd']);
    });

    it('the tag filter follows added and removed tags', async () => {
      const withC = expectStatus(await srv.api('GET', `/v1/tasks?project_id=${p.id}&tag=c`), 200).items;
      assert.deepEqual(withC.map((x) => x.id), [t.id]);
      const withB = expectStatus(await srv.api('GET', `/v1/tasks?project_id=${p.id}&tag=b`), 200).items;
      assert.deepEqual(withB, [], 'a removed tag still finds the task');
    });
  });

  describe('list filters', () => {
    let p, batch, a, b, c, d;
    before(async () => {
      p = await makeProject(srv);
      batch = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/batches`, { name: 'f' }), 201);
      a = await createTask({ unique_id: 'fa', tags: ['red'] }, p.id);
      await sleep(15);
      b = await createTask({ unique_id: 'fb', batch_id: batch.id, tags: ['red', 'blue'] }, p.id);
      await sleep(15);
      c = await createTask({ unique_id: 'fc', batch_id: batch.id }, p.id);
      await sleep(15);
      d = await createTask({ unique_id: 'fd' }, p.id);
      expectStatus(await srv.api('POST', `/v1/tasks/${d.id}/cancel`), 200);
      d = await getTask(d.id);
      await sleep(15);
      b = expectStatus(await srv.api('PUT', `/v1/tasks/${b.id}/metadata`, { touched: true }), 200);
    });

    const ids = (r) => r.items.map((t) => t.id);

    it('by status', async () => {
      assert.deepEqual(ids(await list(`project_id=${p.id}&status=canceled`)), [d.id]);
      assert.deepEqual(ids(await list(`project_id=${p.id}&status=pending`)), [a.id, b.id, c.id]);
      assert.deepEqual(ids(await list(`project_id=${p.id}&status=completed`)), []);
    });

    it('by batch_id', async () => {
      assert.deepEqual(ids(await list(`project_id=${p.id}&batch_id=${batch.id}`)), [b.id, c.id]);
      assert.deepEqual(ids(await list(`project_id=${p.id}&batch_id=${batch.id}&status=canceled`)), []);
    });

    it('by unique_id', async () => {
      assert.deepEqual(ids(await list(`project_id=${p.id}&unique_id=fc`)), [c.id]);
      assert.deepEqual(ids(await list(`project_id=${p.id}&unique_id=nope`)), []);
    });

    it('by tag', async () => {
      assert.deepEqual(ids(await list(`project_id=${p.id}&tag=red`)), [a.id, b.id]);
      assert.deepEqual(ids(await list(`project_id=${p.id}&tag=blue`)), [b.id]);
      assert.deepEqual(ids(await list(`project_id=${p.id}&tag=red&batch_id=${batch.id}`)), [b.id]);
    });

    it('by created_after / created_before (RFC 3339)', async () => {
      assert.deepEqual(ids(await list(`project_id=${p.id}&created_after=${q(b.created_at)}`)), [b.id, c.id, d.id]);
      assert.deepEqual(ids(await list(`project_id=${p.id}&created_before=${q(b.created_at)}`)), [a.id]);
      assert.deepEqual(ids(await list(`project_id=${p.id}&created_after=${q(a.created_at)}&created_before=${q(c.created_at)}`)), [a.id, b.id]);
      // the same instant with an explicit offset
      const plus = b.created_at.replace('Z', '+00:00');
      assert.deepEqual(ids(await list(`project_id=${p.id}&created_after=${q(plus)}`)), [b.id, c.id, d.id]);
      assert.deepEqual(ids(await list(`project_id=${p.id}&created_before=2000-01-01T00:00:00Z`)), []);
      assert.deepEqual(ids(await list(`project_id=${p.id}&created_before=1970-01-01T00:00:00Z`)), [], 'the epoch as a bound is ignored');
      assert.deepEqual(ids(await list(`project_id=${p.id}&updated_before=1970-01-01T00:00:00Z`)), []);
      assert.deepEqual(ids(await list(`project_id=${p.id}&created_after=2000-01-01T00:00:00Z`)), [a.id, b.id, c.id, d.id]);
    });

    it('by updated_after / updated_before', async () => {
      // b was updated last, d (cancelled) before it
      assert.deepEqual(ids(await list(`project_id=${p.id}&updated_after=${q(b.updated_at)}`)), [b.id]);
      assert.deepEqual(ids(await list(`project_id=${p.id}&updated_after=${q(d.updated_at)}`)), [b.id, d.id]);
      assert.deepEqual(ids(await list(`project_id=${p.id}&updated_before=${q(d.updated_at)}`)), [a.id, c.id]);
    });

    it('the same filters work on /v1/projects/{id}/tasks', async () => {
      const r = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/tasks?status=pending&tag=red`), 200);
      assert.deepEqual(ids(r), [a.id, b.id]);
    });

    it('an invalid status gets 400 naming "status"', async () => {
      expectError(await srv.api('GET', `/v1/tasks?project_id=${p.id}&status=done`), 400, 'status');
    });

    it('a missing or bad project_id gets 400 naming "project_id"', async () => {
      expectError(await srv.api('GET', '/v1/tasks'), 400, 'project_id');
      expectError(await srv.api('GET', '/v1/tasks?project_id=abc'), 400, 'project_id');
      expectError(await srv.api('GET', '/v1/tasks?project_id=987654'), 404);
    });

    it('bad times and batch ids get 400 naming the parameter', async () => {
      expectError(await srv.api('GET', `/v1/tasks?project_id=${p.id}&created_after=yesterday`), 400, 'created_after');
      expectError(await srv.api('GET', `/v1/tasks?project_id=${p.id}&updated_before=2026-13-01T00:00:00Z`), 400, 'updated_before');
      expectError(await srv.api('GET', `/v1/tasks?project_id=${p.id}&batch_id=x`), 400, 'batch_id');
    });
  });

  describe('cursor paging', () => {
    let p, created;
    before(async () => {
      p = await makeProject(srv);
      const rows = Array.from({ length: 250 }, (_, i) => ({ unique_id: `page-${i}`, data: { i }, tags: i % 2 ? ['odd'] : ['even'] }));
      const r = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, rows), 200);
      assert.equal(r.created, 250);
      created = r.rows.map((x) => x.id);
    });

    it('pages of 100 by next_token give all 250 tasks once, in id order; the last next_token is null', async () => {
      const seen = [];
      const sizes = [];
      let token = null;
      for (let page = 0; page < 10; page++) {
        const r = await list(`project_id=${p.id}&limit=100${token ? `&next_token=${q(token)}` : ''}`);
        sizes.push(r.items.length);
        seen.push(...r.items.map((t) => t.id));
        if (r.next_token === null) break;
        assert.equal(typeof r.next_token, 'string');
        token = r.next_token;
      }
      assert.deepEqual(sizes, [100, 100, 50]);
      assert.equal(new Set(seen).size, 250, 'a task came twice');
      assert.deepEqual(seen, [...created].sort((x, y) => x - y));
    });

    it('the default page is 100 and limit 1000 is the most', async () => {
      const r = await list(`project_id=${p.id}`);
      assert.equal(r.items.length, 100);
      assert.notEqual(r.next_token, null);
      const all = await list(`project_id=${p.id}&limit=1000`);
      assert.equal(all.items.length, 250);
      assert.equal(all.next_token, null);
      expectError(await srv.api('GET', `/v1/tasks?project_id=${p.id}&limit=1001`), 400, 'limit');
      expectError(await srv.api('GET', `/v1/tasks?project_id=${p.id}&limit=0`), 400, 'limit');
    });

    it('the project route pages the same way', async () => {
      const all = await listAll(srv, `/v1/projects/${p.id}/tasks`, { limit: 64 });
      assert.deepEqual(all.items.map((t) => t.id), [...created].sort((x, y) => x - y));
      assert.equal(all.pages, 4);
    });

    it('paging with a tag or status filter gives each matching task once', async () => {
      const even = (await listAll(srv, `/v1/tasks?project_id=${p.id}&tag=even`, { limit: 30 })).items.map((t) => t.id);
      const want = created.filter((_, i) => i % 2 === 0).sort((x, y) => x - y);
      assert.deepEqual(even, want);
      const pending = (await listAll(srv, `/v1/tasks?project_id=${p.id}&status=pending`, { limit: 70 })).items;
      assert.equal(pending.length, 250);
      assert.equal(new Set(pending.map((t) => t.id)).size, 250);
    });

    it('a tampered next_token gets 400 naming "next_token"', async () => {
      const first = await list(`project_id=${p.id}&limit=100`);
      const good = first.next_token;
      for (const bad of [good + '!!', 'not a token', Buffer.from('b100').toString('base64url'), Buffer.from('a-5').toString('base64url'), Buffer.from('ahello').toString('base64url')]) {
        const r = await srv.api('GET', `/v1/tasks?project_id=${p.id}&limit=100&next_token=${q(bad)}`);
        expectError(r, 400, 'next_token');
      }
      // the genuine token still works
      assert.equal((await list(`project_id=${p.id}&limit=100&next_token=${q(good)}`)).items.length, 100);
    });
  });

  describe('gold tasks and predictions', () => {
    it('expected_response valid for the kind makes a gold task', async () => {
      const t = await createTask({ expected_response: { labels: ['cat'] } });
      assert.equal(t.is_gold, true);
      assert.deepEqual(t.expected_response, { labels: ['cat'] });
      assert.equal((await getTask(t.id)).is_gold, true);
    });

    it('an expected_response the kind refuses gets 422 with the field inside it', async () => {
      expectError(await srv.api('POST', '/v1/tasks', { project_id: project.id, expected_response: { labels: ['cow'] } }), 422, 'expected_response.labels[0]');
      expectError(await srv.api('POST', '/v1/tasks', { project_id: project.id, expected_response: { labels: ['cat', 'dog'] } }), 422, 'expected_response.labels');
      expectError(await srv.api('POST', '/v1/tasks', { project_id: project.id, expected_response: { labels: [] } }), 422, 'expected_response.labels');
      expectError(await srv.api('POST', '/v1/tasks', { project_id: project.id, expected_response: { label: 'cat' } }), 422, /^expected_response\.label/);
      expectError(await srv.api('POST', '/v1/tasks', { project_id: project.id, expected_response: 'cat' }), 422, 'expected_response');
    });

    it('predictions with a valid response and score are kept', async () => {
      const preds = [{ model: 'resnet', response: { labels: ['dog'] }, score: 0.9 }, { model: 'vit', response: { labels: ['cat'] }, score: 0 }];
      const t = await createTask({ predictions: preds });
      assert.deepEqual(t.predictions, preds);
      assert.equal(t.is_gold, false);
    });

    it('bad predictions get 422 naming predictions[i]', async () => {
      const send = (predictions) => srv.api('POST', '/v1/tasks', { project_id: project.id, predictions });
      expectError(await send([{ response: { labels: ['dog'] }, score: 1.5 }]), 422, 'predictions[0].score');
      expectError(await send([{ response: { labels: ['dog'] }, score: -0.1 }]), 422, 'predictions[0].score');
      expectError(await send([{ response: { labels: ['dog'] } }, { response: { labels: ['dog'] }, score: 'high' }]), 422, 'predictions[1].score');
      expectError(await send([{ response: { labels: ['cow'] } }]), 422, 'predictions[0].response.labels[0]');
      expectError(await send([{ model: 'm' }]), 422, 'predictions[0].response');
      expectError(await send([{ response: { labels: ['dog'] }, extra: 1 }]), 422, 'predictions[0].extra');
      expectError(await send({ response: {} }), 422, 'predictions');
    });
  });

  describe('attachments', () => {
    const send = (attachments) => srv.api('POST', '/v1/tasks', { project_id: project.id, attachments });

    it('a bad type gets 422 naming attachments[i].type', async () => {
      expectError(await send([{ type: 'hologram', url: 'https://x.example/1' }]), 422, 'attachments[0].type');
      expectError(await send([{ type: 'image', url: 'https://x.example/1' }, { type: 'smell', content: 'x' }]), 422, 'attachments[1].type');
      expectError(await send([{ url: 'https://x.example/1' }]), 422, 'attachments[0].type');
    });

    it('exactly one of url, file or content', async () => {
      expectError(await send([{ type: 'image', url: 'https://x.example/1', content: 'x' }]), 422, 'attachments[0]');
      expectError(await send([{ type: 'image' }]), 422, 'attachments[0]');
    });

    it('a url must be http(s) or /v1/files/...', async () => {
      expectError(await send([{ type: 'image', url: 'ftp://x.example/1' }]), 422, 'attachments[0].url');
      expectError(await send([{ type: 'image', url: 'javascript:alert(1)' }]), 422, 'attachments[0].url');
    });

    it('a file reference to an unknown sha256 gets 422 naming attachments[i].file', async () => {
      expectError(await send([{ type: 'image', file: '0'.repeat(64) }]), 422, 'attachments[0].file');
      expectError(await send([{ type: 'image', file: 'not-a-sha' }]), 422, 'attachments[0].file');
    });

    it('a file uploaded first can then be referenced', async () => {
      const bytes = crypto.randomBytes(2048);
      const sha = crypto.createHash('sha256').update(bytes).digest('hex');
      const up = await srv.api('POST', '/v1/files', bytes, { headers: { 'content-type': 'image/png' } });
      assert.equal(expectStatus(up, 201).sha256, sha);
      const t = await createTask({ attachments: [{ type: 'image', file: sha }, { type: 'image', url: `/v1/files/${sha}` }] });
      assert.equal(t.attachments[0].file, sha);
      assert.equal(t.attachments[1].url, `/v1/files/${sha}`);
    });

    it('an unknown attachment field gets 422 naming it', async () => {
      expectError(await send([{ type: 'image', url: 'https://x.example/1', size: 3 }]), 422, 'attachments[0].size');
      expectError(await send('https://x.example/1'), 422, 'attachments');
    });
  });
});
