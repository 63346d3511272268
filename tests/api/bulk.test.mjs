// bulk.test.mjs -- POST /v1/projects/{id}/tasks: JSON arrays and NDJSON,
// per-row results, all-or-nothing framing, and a 20,000-task import.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, it, expectError, expectStatus, makeProject, getProject, SLOW } from './harness.mjs';

let srv;
const NDJSON = { headers: { 'content-type': 'application/x-ndjson' } };

function bulk(pid, body, opts, query = '') {
  return srv.api('POST', `/v1/projects/${pid}/tasks${query}`, body, opts);
}

/* Checks the result's shape and that its totals match its rows. */
function checkResult(res, n) {
  assert.equal(typeof res.created, 'number');
  assert.equal(typeof res.duplicates, 'number');
  assert.equal(typeof res.invalid, 'number');
  assert.ok(Array.isArray(res.rows), 'no rows array');
  assert.equal(res.rows.length, n, `${n} rows sent, ${res.rows.length} reported`);
  res.rows.forEach((r, i) => assert.equal(r.index, i, `row ${i} reports index ${r.index}`));
  const count = (s) => res.rows.filter((r) => r.status === s).length;
  assert.equal(res.created, count('created'));
  assert.equal(res.duplicates, count('duplicate'));
  assert.equal(res.invalid, count('invalid'));
  assert.equal(res.created + res.duplicates + res.invalid, n);
  for (const r of res.rows) {
    if (r.status === 'invalid') {
      assert.ok(r.error && typeof r.error.message === 'string' && r.error.message, `row ${r.index}: no error message`);
      assert.equal(typeof r.error.field, 'string', `row ${r.index}: no error field`);
    } else {
      assert.equal(typeof r.id, 'number', `row ${r.index}: no id`);
    }
  }
}

describe('bulk import', () => {
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  it('a JSON array: per-row created / duplicate / invalid with totals', async () => {
    const p = await makeProject(srv);
    const rows = [
      { unique_id: 'a', data: { n: 1 } },
      { unique_id: 'b', expected_response: { labels: ['cat'] } },
      { unique_id: 'a', data: { n: 2 } },
      { unique_id: 'c', expected_response: { labels: ['cow'] } },
      { data: { no_unique_id: true } },
      { unique_id: 'd', priority: 'urgent' },
    ];
    const r = await bulk(p.id, rows);
    const res = expectStatus(r, 200);
    checkResult(res, rows.length);
    assert.deepEqual(res.rows.map((x) => x.status), ['created', 'created', 'duplicate', 'invalid', 'created', 'invalid']);
    assert.equal(res.rows[2].id, res.rows[0].id, 'the duplicate does not name the first task');
    assert.equal(res.rows[3].error.field, 'expected_response.labels[0]');
    assert.equal(res.rows[5].error.field, 'priority');
    assert.equal(res.created, 3);
    assert.equal(res.duplicates, 1);
    assert.equal(res.invalid, 2);
    const c = (await getProject(srv, p.id)).counts;
    assert.equal(c.total, 3);
    assert.equal(c.pending, 2);
    assert.equal(c.gold, 1, 'a task with an expected_response is gold');
    const t = expectStatus(await srv.api('GET', `/v1/tasks/${res.rows[0].id}`), 200);
    assert.deepEqual(t.data, { n: 1 }, 'the duplicate row overwrote the task');
    assert.equal(expectStatus(await srv.api('GET', `/v1/tasks/${res.rows[1].id}`), 200).is_gold, true);
  });

  it('NDJSON: a line that is not JSON is reported invalid and the others are created', async () => {
    const p = await makeProject(srv);
    const body = ['{"unique_id":"n1"}', '{"unique_id": "n2", oops}', '', '{"unique_id":"n3","tags":["x"]}', '   ', '["not an object"]', '{"unique_id":"n4"}', ''].join('\n');
    const res = expectStatus(await bulk(p.id, body, NDJSON), 200);
    checkResult(res, 5); // blank lines are not rows
    assert.deepEqual(res.rows.map((x) => x.status), ['created', 'invalid', 'created', 'invalid', 'created']);
    // An invalid row says on which line of the body it starts (blank lines count).
    assert.deepEqual(res.rows.filter((x) => x.status === 'invalid').map((x) => x.line), [2, 6]);
    assert.ok(res.rows.every((x) => x.status === 'invalid' || !('line' in x)), 'only invalid rows carry a line');
    assert.equal(res.created, 3);
    assert.equal(res.invalid, 2);
    assert.equal((await getProject(srv, p.id)).counts.total, 3);
    const listed = expectStatus(await srv.api('GET', `/v1/tasks?project_id=${p.id}&tag=x`), 200).items;
    assert.deepEqual(listed.map((t) => t.unique_id), ['n3']);
  });

  it('NDJSON with CRLF line ends and no Content-Type works', async () => {
    const p = await makeProject(srv);
    // a Buffer body: fetch adds no Content-Type of its own
    const res = expectStatus(await bulk(p.id, Buffer.from('{"unique_id":"w1"}\r\n{"unique_id":"w2"}\r\n'), { headers: { 'content-type': null } }), 200);
    checkResult(res, 2);
    assert.equal(res.created, 2);
  });

  it('a truncated JSON array gets 400 and creates nothing', async () => {
    const p = await makeProject(srv);
    const body = JSON.stringify(Array.from({ length: 50 }, (_, i) => ({ unique_id: `t${i}` }))).slice(0, -1);
    const r = await bulk(p.id, body);
    expectError(r, 400, 'body');
    assert.equal((await getProject(srv, p.id)).counts.total, 0, 'a truncated array created tasks');
    const l = expectStatus(await srv.api('GET', `/v1/tasks?project_id=${p.id}`), 200);
    assert.deepEqual(l.items, []);
    // cut in the middle of an element, too
    expectError(await bulk(p.id, '[{"unique_id":"x1"},{"unique_id":"x'), 400, 'body');
    assert.equal((await getProject(srv, p.id)).counts.total, 0);
  });

  it('NDJSON whose last line is cut short gets 400 and creates nothing', async () => {
    const p = await makeProject(srv);
    const r = await bulk(p.id, '{"unique_id":"c1"}\n{"unique_id":"c2"}\n{"unique_id":"c3", "data": {"te', NDJSON);
    expectError(r, 400, 'body');
    assert.equal((await getProject(srv, p.id)).counts.total, 0);
  });

  it('an empty or blank body gets 400; an empty array creates nothing', async () => {
    const p = await makeProject(srv);
    expectError(await bulk(p.id, ''), 400);
    expectError(await bulk(p.id, '  \n\n '), 400);
    const res = expectStatus(await bulk(p.id, '[]'), 200);
    assert.equal(res.created, 0);
    assert.deepEqual(res.rows, []);
    expectError(await bulk(p.id, '[] trailing'), 400, 'body');
    assert.equal((await getProject(srv, p.id)).counts.total, 0);
  });

  it('a body labelled as something else than JSON gets 415', async () => {
    const p = await makeProject(srv);
    expectError(await bulk(p.id, '{"unique_id":"m"}', { headers: { 'content-type': 'multipart/form-data; boundary=x' } }), 415);
    assert.equal((await getProject(srv, p.id)).counts.total, 0);
  });

  it('a row naming another project is invalid', async () => {
    const p = await makeProject(srv);
    const other = await makeProject(srv);
    const res = expectStatus(await bulk(p.id, [{ project_id: other.id }, { project_id: p.id }, {}]), 200);
    checkResult(res, 3);
    assert.deepEqual(res.rows.map((x) => x.status), ['invalid', 'created', 'created']);
    assert.equal(res.rows[0].error.field, 'project_id');
    assert.equal((await getProject(srv, other.id)).counts.total, 0);
  });

  it('a missing project gets 404', async () => {
    expectError(await bulk(987654, '[{}]'), 404);
  });

  it('20,000 tasks in one request are all created and counted; re-sent, all 20,000 are duplicates', async () => {
    const p = await makeProject(srv);
    const N = 20000;
    const body = Array.from({ length: N }, (_, i) => JSON.stringify({ unique_id: `big-${i}`, data: { i }, tags: i % 1000 === 0 ? ['k'] : undefined })).join('\n') + '\n';
    const first = expectStatus(await bulk(p.id, body, { ...NDJSON, timeout: 120000 * SLOW }), 200);
    assert.equal(first.created, N);
    assert.equal(first.duplicates, 0);
    assert.equal(first.invalid, 0);
    assert.equal(first.rows.length, N);
    const ids = first.rows.map((r) => r.id);
    assert.equal(new Set(ids).size, N, 'ids repeat');
    assert.ok(first.rows.every((r, i) => r.index === i && r.status === 'created'));
    let c = (await getProject(srv, p.id)).counts;
    assert.equal(c.total, N);
    assert.equal(c.pending, N);
    const tagged = expectStatus(await srv.api('GET', `/v1/tasks?project_id=${p.id}&tag=k&limit=1000`), 200).items;
    assert.equal(tagged.length, N / 1000);

    const again = expectStatus(await bulk(p.id, body, { ...NDJSON, timeout: 120000 * SLOW }), 200);
    assert.equal(again.created, 0);
    assert.equal(again.duplicates, N);
    assert.equal(again.invalid, 0);
    assert.deepEqual(again.rows.map((r) => r.id), ids, 'duplicates do not name the original tasks');
    c = (await getProject(srv, p.id)).counts;
    assert.equal(c.total, N, 're-sending changed the counts');
    // the last task is really there
    const last = expectStatus(await srv.api('GET', `/v1/tasks?project_id=${p.id}&unique_id=big-${N - 1}`), 200).items;
    assert.equal(last.length, 1);
    assert.deepEqual(last[0].data, { i: N - 1 });
  });

  it('concurrent overlapping imports: every unique_id created once, counts exact', async () => {
    const p = await makeProject(srv);
    const rows = (from, to) => Array.from({ length: to - from }, (_, i) => JSON.stringify({ unique_id: `cc-${from + i}` })).join('\n');
    const bodies = [rows(0, 6000), rows(3000, 9000), rows(1000, 7000), rows(8500, 9000)];
    const singles = Array.from({ length: 20 }, (_, i) => srv.api('POST', '/v1/tasks', { project_id: p.id, unique_id: `cc-${i * 450}` }));
    const results = await Promise.all([...bodies.map((b) => bulk(p.id, b, { ...NDJSON, timeout: 120000 * SLOW })), ...singles]);
    const imports = results.slice(0, bodies.length).map((r) => expectStatus(r, 200));
    const singleCreated = results.slice(bodies.length).filter((r) => r.status === 201).length;
    for (const r of results.slice(bodies.length)) assert.ok([201, 409].includes(r.status), `single create: ${r.status} ${r.text}`);
    for (const r of imports) assert.equal(r.invalid, 0, JSON.stringify(r.rows.find((x) => x.status === 'invalid')));
    const created = imports.reduce((a, r) => a + r.created, 0) + singleCreated;
    assert.equal(created, 9000, 'some unique_id was created twice or never');
    const c = (await getProject(srv, p.id)).counts;
    assert.equal(c.total, 9000);
    assert.equal(c.pending, 9000);
    const listed = expectStatus(await srv.api('GET', `/v1/tasks?project_id=${p.id}&unique_id=cc-4500`), 200).items;
    assert.equal(listed.length, 1);
  });

  it('a bulk body over the 10 MB JSON limit is accepted (bulk imports have their own limit)', async () => {
    const p = await makeProject(srv);
    const pad = 'p'.repeat(100 * 1024);
    const body = Array.from({ length: 120 }, (_, i) => JSON.stringify({ unique_id: `pad-${i}`, data: { pad } })).join('\n');
    assert.ok(body.length > 11 * 1024 * 1024);
    const res = expectStatus(await bulk(p.id, body, { ...NDJSON, timeout: 120000 * SLOW }), 200);
    assert.equal(res.created, 120);
    assert.equal((await getProject(srv, p.id)).counts.total, 120);
  });

  it('a JSON array: an invalid element gives the line it starts on', async () => {
    const p = await makeProject(srv);
    const body = '[\n  {"unique_id": "j1"},\n  {"unique_id": "j2",\n   "priority": "high"},\n\n  {"unique_id": "j3", "tags": [1]}\n]\n';
    const res = expectStatus(await bulk(p.id, body), 200);
    checkResult(res, 3);
    assert.deepEqual(
      res.rows.map((x) => [x.status, x.line, x.error?.field]),
      [
        ['created', undefined, undefined],
        ['invalid', 3, 'priority'],
        ['invalid', 6, 'tags[0]'],
      ],
    );
  });

  it('?batch_id= puts the rows that name no batch into that batch', async () => {
    const p = await makeProject(srv);
    const b1 = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/batches`, { name: 'into' }), 201);
    const b2 = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/batches`, { name: 'own' }), 201);
    const body = ['{"unique_id":"q1"}', '{"unique_id":"q2","batch":"own"}', `{"unique_id":"q3","batch_id":${b2.id}}`, '{"unique_id":"q4"}'].join('\n');
    const res = expectStatus(await bulk(p.id, body, NDJSON, `?batch_id=${b1.id}`), 200);
    assert.equal(res.created, 4, JSON.stringify(res));
    const batchOf = async (r) => expectStatus(await srv.api('GET', `/v1/tasks/${r.id}`), 200).batch_id;
    assert.deepEqual(await Promise.all(res.rows.map(batchOf)), [b1.id, b2.id, b2.id, b1.id]);
    assert.equal(expectStatus(await srv.api('GET', `/v1/batches/${b1.id}`), 200).counts.pending, 2);
    // A batch that cannot take tasks refuses the whole import up front.
    expectError(await bulk(p.id, body, NDJSON, '?batch_id=abc'), 400, 'batch_id');
    let e = expectError(await bulk(p.id, body, NDJSON, '?batch_id=999999'), 400, 'batch_id');
    assert.match(e.message, /no batch 999999 in this project/);
    expectStatus(await srv.api('POST', `/v1/batches/${b1.id}/finalize`), 200);
    e = expectError(await bulk(p.id, '{"unique_id":"q5"}', NDJSON, `?batch_id=${b1.id}`), 400, 'batch_id');
    assert.match(e.message, /in_progress/);
    const other = await makeProject(srv);
    expectError(await bulk(other.id, '{"unique_id":"q6"}', NDJSON, `?batch_id=${b2.id}`), 400, 'batch_id');
    assert.equal((await getProject(srv, p.id)).counts.total, 4);
    assert.equal((await getProject(srv, other.id)).counts.total, 0);
  });

  it('a half-retried import: only the new rows are created', async () => {
    const p = await makeProject(srv);
    const rows = (from, to) => Array.from({ length: to - from }, (_, i) => ({ unique_id: `r-${from + i}` }));
    expectStatus(await bulk(p.id, rows(0, 600)), 200);
    const res = expectStatus(await bulk(p.id, rows(0, 1200)), 200);
    assert.equal(res.duplicates, 600);
    assert.equal(res.created, 600);
    assert.equal((await getProject(srv, p.id)).counts.total, 1200);
  });
});
