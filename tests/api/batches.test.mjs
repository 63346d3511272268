// batches.test.mjs -- batches: create, list, get with counts, finalize,
// and how tasks in batches are counted.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, it, expectError, expectStatus, makeProject, getProject, listAll } from './harness.mjs';

let srv, project;

async function getBatch(id) {
  return expectStatus(await srv.api('GET', `/v1/batches/${id}`), 200);
}

async function makeBatch(name, pid = project.id) {
  return expectStatus(await srv.api('POST', `/v1/projects/${pid}/batches`, { name }), 201);
}

describe('batches', () => {
  before(async () => {
    srv = await startServer();
    project = await makeProject(srv, { name: 'batches' });
  });
  after(async () => {
    await srv?.stop();
  });

  it('POST creates a staging batch (201) with zero counts', async () => {
    const r = await srv.api('POST', `/v1/projects/${project.id}/batches`, { name: 'week-1', metadata: { source: 'crawl' } });
    const b = expectStatus(r, 201);
    assert.equal(typeof b.id, 'number');
    assert.equal(b.project_id, project.id);
    assert.equal(b.name, 'week-1');
    assert.equal(b.status, 'staging');
    assert.deepEqual(b.metadata, { source: 'crawl' });
    assert.equal(b.counts.total, 0);
    assert.equal(b.counts.pending, 0);
  });

  it('a duplicate name in the same project gets 409 naming "name"; another project may reuse it', async () => {
    await makeBatch('dup');
    expectError(await srv.api('POST', `/v1/projects/${project.id}/batches`, { name: 'dup' }), 409, 'name');
    const other = await makeProject(srv);
    const b = await makeBatch('dup', other.id);
    assert.equal(b.project_id, other.id);
  });

  it('a missing or empty name gets 422 naming "name"', async () => {
    expectError(await srv.api('POST', `/v1/projects/${project.id}/batches`, {}), 422, 'name');
    expectError(await srv.api('POST', `/v1/projects/${project.id}/batches`, { name: '' }), 422, 'name');
    expectError(await srv.api('POST', `/v1/projects/${project.id}/batches`, { name: 'm', metadata: 'x' }), 422, 'metadata');
  });

  it('a batch in a missing project gets 404', async () => {
    expectError(await srv.api('POST', '/v1/projects/987654/batches', { name: 'x' }), 404);
    expectError(await srv.api('GET', '/v1/projects/987654/batches'), 404);
  });

  it('GET /v1/projects/{id}/batches lists the project\'s batches, pageable and filterable by status', async () => {
    const p = await makeProject(srv);
    const made = [];
    for (const n of ['a', 'b', 'c', 'd']) made.push((await makeBatch(n, p.id)).id);
    expectStatus(await srv.api('POST', `/v1/batches/${made[1]}/finalize`), 200);
    const all = (await listAll(srv, `/v1/projects/${p.id}/batches`, { limit: 3 })).items;
    assert.deepEqual(all.map((b) => b.id), made);
    assert.ok(all.every((b) => b.project_id === p.id && b.counts));
    const staging = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/batches?status=staging`), 200).items;
    assert.deepEqual(staging.map((b) => b.id), [made[0], made[2], made[3]]);
    const running = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/batches?status=in_progress`), 200).items;
    assert.deepEqual(running.map((b) => b.id), [made[1]]);
    expectError(await srv.api('GET', `/v1/projects/${p.id}/batches?status=done`), 400, 'status');
  });

  it('tasks created in a batch show in the batch\'s counts and the project\'s counts', async () => {
    const p = await makeProject(srv);
    const b1 = await makeBatch('one', p.id);
    const b2 = await makeBatch('two', p.id);
    for (let i = 0; i < 3; i++) expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id, batch_id: b1.id }), 201);
    const byName = expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id, batch: 'two' }), 201);
    assert.equal(byName.batch_id, b2.id, 'a task given a batch by name is not in that batch');
    expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id }), 201);
    const bulk = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, [{ batch_id: b2.id }, { batch: 'one' }]), 200);
    assert.equal(bulk.created, 2);
    assert.equal((await getBatch(b1.id)).counts.pending, 4);
    assert.equal((await getBatch(b1.id)).counts.total, 4);
    assert.equal((await getBatch(b2.id)).counts.total, 2);
    const pc = (await getProject(srv, p.id)).counts;
    assert.equal(pc.pending, 7);
    assert.equal(pc.total, 7);
    const listed = expectStatus(await srv.api('GET', `/v1/tasks?project_id=${p.id}&batch_id=${b1.id}`), 200).items;
    assert.equal(listed.length, 4);
    assert.ok(listed.every((t) => t.batch_id === b1.id));
  });

  it('cancelling a task in a batch moves it from pending to canceled in the batch counts', async () => {
    const p = await makeProject(srv);
    const b = await makeBatch('c', p.id);
    const t = expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id, batch_id: b.id }), 201);
    expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id, batch_id: b.id }), 201);
    expectStatus(await srv.api('POST', `/v1/tasks/${t.id}/cancel`), 200);
    const c = (await getBatch(b.id)).counts;
    assert.equal(c.pending, 1);
    assert.equal(c.canceled, 1);
    assert.equal(c.total, 2);
  });

  it('one bulk import spread over many batches counts each batch right', async () => {
    const p = await makeProject(srv);
    const batches = [];
    for (let i = 0; i < 12; i++) batches.push(await makeBatch(`many-${i}`, p.id));
    const rows = [];
    for (let round = 0; round < 3; round++)
      for (let i = 0; i < batches.length; i++) rows.push({ batch_id: batches[i].id, unique_id: `m-${round}-${i}` });
    rows.push({ unique_id: 'no-batch' });
    const r = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, rows), 200);
    assert.equal(r.created, rows.length, JSON.stringify(r.rows.filter((x) => x.status !== 'created')));
    for (const b of batches) {
      const c = (await getBatch(b.id)).counts;
      assert.equal(c.pending, 3, `batch ${b.name} counts ${JSON.stringify(c)}`);
      assert.equal(c.total, 3, `batch ${b.name} counts ${JSON.stringify(c)}`);
    }
    assert.equal((await getProject(srv, p.id)).counts.total, rows.length);
  });

  describe('finalize', () => {
    let p, b, other;
    before(async () => {
      p = await makeProject(srv);
      b = await makeBatch('to-finalize', p.id);
      other = await makeProject(srv);
      expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id, batch_id: b.id, unique_id: 'in-batch' }), 201);
    });

    it('finalizing a staging batch makes it in_progress', async () => {
      const r = await srv.api('POST', `/v1/batches/${b.id}/finalize`);
      const f = expectStatus(r, 200);
      assert.equal(f.status, 'in_progress');
      assert.equal(f.counts.total, 1);
      assert.equal((await getBatch(b.id)).status, 'in_progress');
    });

    it('finalizing twice gets 409', async () => {
      expectError(await srv.api('POST', `/v1/batches/${b.id}/finalize`), 409);
      assert.equal((await getBatch(b.id)).status, 'in_progress');
    });

    it('adding a task to a finalized batch gets 422 naming "batch_id" (or "batch" by name)', async () => {
      expectError(await srv.api('POST', '/v1/tasks', { project_id: p.id, batch_id: b.id }), 422, 'batch_id');
      expectError(await srv.api('POST', '/v1/tasks', { project_id: p.id, batch: 'to-finalize' }), 422, 'batch');
      const bulk = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, [{ batch_id: b.id }]), 200);
      assert.equal(bulk.created, 0);
      assert.equal(bulk.invalid, 1);
      assert.equal(bulk.rows[0].status, 'invalid');
      assert.equal(bulk.rows[0].error.field, 'batch_id');
      assert.equal((await getBatch(b.id)).counts.total, 1);
      assert.equal((await getProject(srv, p.id)).counts.total, 1);
    });

    it('re-sending a task that is already in the finalized batch is a duplicate, not an error', async () => {
      const bulk = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, [{ batch_id: b.id, unique_id: 'in-batch' }]), 200);
      assert.equal(bulk.duplicates, 1, JSON.stringify(bulk));
      assert.equal(bulk.rows[0].status, 'duplicate');
    });

    it('batch_id and batch together get 422', async () => {
      const s = await makeBatch('both', p.id);
      const r = await srv.api('POST', '/v1/tasks', { project_id: p.id, batch_id: s.id, batch: 'both' });
      expectError(r, 422, /^batch/);
      assert.equal((await getBatch(s.id)).counts.total, 0);
    });

    it('a batch of another project, or no such batch, gets 422', async () => {
      const ob = await makeBatch('elsewhere', other.id);
      expectError(await srv.api('POST', '/v1/tasks', { project_id: p.id, batch_id: ob.id }), 422, 'batch_id');
      expectError(await srv.api('POST', '/v1/tasks', { project_id: p.id, batch_id: 987654 }), 422, 'batch_id');
      expectError(await srv.api('POST', '/v1/tasks', { project_id: p.id, batch: 'no-such-batch' }), 422, 'batch');
      assert.equal((await getBatch(ob.id)).counts.total, 0);
    });

    it('missing or malformed batch ids get 404', async () => {
      expectError(await srv.api('GET', '/v1/batches/987654'), 404);
      expectError(await srv.api('POST', '/v1/batches/987654/finalize'), 404);
      expectError(await srv.api('GET', '/v1/batches/abc'), 404);
      expectError(await srv.api('GET', '/v1/batches/0'), 404);
    });
  });
});
