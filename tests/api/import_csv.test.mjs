// import_csv.test.mjs -- POST /v1/projects/{id}/tasks with a text/csv body:
// the default column mapping, ?columns=, quoting and multi-line fields,
// non-ASCII text, bad rows reported with the line they start on while the
// good rows are created, and documents refused before any row.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, it, expectError, expectStatus, makeProject } from './harness.mjs';

let srv;
const CSV = { headers: { 'content-type': 'text/csv' } };

function importCsv(pid, body, query = '') {
  return srv.api('POST', `/v1/projects/${pid}/tasks${query}`, body, CSV);
}

async function task(id) {
  return expectStatus(await srv.api('GET', `/v1/tasks/${id}`), 200);
}

describe('csv import', () => {
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  it('the default mapping: text, unique_id, priority, tags, image and other columns', async () => {
    const p = await makeProject(srv);
    const body =
      'unique_id,text,priority,tags,image,source\r\n' +
      'r1,hello world,5,a|b | c,https://img.example.com/1.jpg,web\r\n' +
      'r2,second,,,,\r\n';
    const res = expectStatus(await importCsv(p.id, body), 200);
    assert.equal(res.created, 2, JSON.stringify(res));
    const t = await task(res.rows[0].id);
    assert.equal(t.unique_id, 'r1');
    assert.equal(t.priority, 5);
    assert.deepEqual(t.tags, ['a', 'b', 'c']);
    assert.deepEqual(t.data, { text: 'hello world', source: 'web' });
    assert.deepEqual(t.attachments, [{ type: 'image', url: 'https://img.example.com/1.jpg' }]);
    const t2 = await task(res.rows[1].id);
    assert.equal(t2.unique_id, 'r2');
    assert.deepEqual(t2.attachments, [], 'an empty image cell made an attachment');
    assert.deepEqual(t2.tags, []);
  });

  it('?columns= maps named columns, skips "-" columns and keeps the default for the others', async () => {
    const p = await makeProject(srv);
    const body = 'review,img,id,notes,lang\nGreat product,https://x.example/a.png,k1,internal,en\n';
    const q = '?columns=' + encodeURIComponent('review:data.text,img:attachments.image,id:unique_id,notes:-,lang:metadata.lang');
    const res = expectStatus(await importCsv(p.id, body, q), 200);
    assert.equal(res.created, 1, JSON.stringify(res));
    const t = await task(res.rows[0].id);
    assert.equal(t.unique_id, 'k1');
    assert.deepEqual(t.data, { text: 'Great product' });
    assert.deepEqual(t.metadata, { lang: 'en' });
    assert.deepEqual(t.attachments, [{ type: 'image', url: 'https://x.example/a.png' }]);
  });

  it('quoted fields: commas, doubled quotes and line breaks; a bad row reports the line it starts on', async () => {
    const p = await makeProject(srv);
    const body = [
      'unique_id,text,priority', //                      line 1
      'q1,"a, b and ""c""",1', //                         line 2
      'q2,"first line', //                                line 3
      'second line",2', //                                line 4
      'q3,"spans', //                                     line 5: a bad row starting here
      'two lines",not-a-number', //                       line 6
      'q4,only two fields', //                            line 7: two fields, not three
      'q5,good,3', //                                     line 8
    ].join('\n') + '\n';
    const res = expectStatus(await importCsv(p.id, body), 200);
    assert.deepEqual(res.rows.map((r) => r.status), ['created', 'created', 'invalid', 'invalid', 'created'], JSON.stringify(res));
    assert.equal((await task(res.rows[0].id)).data.text, 'a, b and "c"');
    assert.equal((await task(res.rows[1].id)).data.text, 'first line\nsecond line');
    assert.equal(res.rows[2].line, 5);
    assert.equal(res.rows[2].error.field, 'priority');
    assert.equal(res.rows[3].line, 7);
    assert.match(res.rows[3].error.message, /2 fields, the header has 3/);
    assert.equal(res.rows[4].index, 4);
    assert.equal(res.created, 3);
    assert.equal(res.invalid, 2);
  });

  it('non-ASCII text and header names, and a byte-order mark, come through unchanged', async () => {
    const p = await makeProject(srv);
    const body = '\uFEFFtext,第一列\n"Ça coûte 5 €, naïve",日本語 🙂\n';
    const res = expectStatus(await importCsv(p.id, body), 200);
    assert.equal(res.created, 1, JSON.stringify(res));
    const t = await task(res.rows[0].id);
    assert.deepEqual(t.data, { text: 'Ça coûte 5 €, naïve', 第一列: '日本語 🙂' });
  });

  it('a row all in or all out: a bad attachment URL fails the row, the next row is created', async () => {
    const p = await makeProject(srv);
    const body = 'unique_id,image\na1,ftp://nope/x.png\na2,https://ok.example/y.png\n';
    const res = expectStatus(await importCsv(p.id, body), 200);
    assert.deepEqual(res.rows.map((r) => r.status), ['invalid', 'created']);
    assert.equal(res.rows[0].line, 2);
    assert.equal(res.rows[0].error.field, 'attachments[0].url');
    const list = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/tasks?unique_id=a1`), 200);
    assert.equal(list.items.length, 0, 'the invalid row left a task behind');
  });

  it('refused before any row: a mapping naming a missing column, a bad target, a syntax error, an empty body', async () => {
    const p = await makeProject(srv);
    const body = 'text\nhello\n';
    let e = expectError(await importCsv(p.id, body, '?columns=review:data.text'), 400, 'columns');
    assert.match(e.message, /no column "review"/);
    e = expectError(await importCsv(p.id, body, '?columns=text:answer'), 400, 'columns');
    assert.match(e.message, /not a target/);
    expectError(await importCsv(p.id, 'a,b\nx,y\n', '?columns=a:unique_id,b:unique_id'), 400, 'columns');
    e = expectError(await importCsv(p.id, 'text\ngood\n"never closed\n'), 400, 'body');
    assert.equal(e.code, 'invalid_csv');
    assert.match(e.message, /line 3/);
    expectError(await importCsv(p.id, ''), 400, 'body');
    expectError(await importCsv(p.id, 'text,text\na,b\n'), 400, 'body');
    expectError(await srv.api('POST', `/v1/projects/${p.id}/tasks?columns=a:data.a`, [{ data: {} }]), 400, 'columns');
    const list = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/tasks`), 200);
    assert.equal(list.items.length, 0, 'a refused document created tasks');
  });

  it('a header and no records creates nothing and answers an empty report', async () => {
    const p = await makeProject(srv);
    const res = expectStatus(await importCsv(p.id, 'unique_id,text\r\n'), 200);
    assert.deepEqual(res, { created: 0, duplicates: 0, invalid: 0, rows: [] });
  });

  it('a retried CSV import with unique_ids reports duplicates', async () => {
    const p = await makeProject(srv);
    const body = 'unique_id,text\nd1,x\nd2,y\n';
    const first = expectStatus(await importCsv(p.id, body), 200);
    const again = expectStatus(await importCsv(p.id, body), 200);
    assert.equal(again.duplicates, 2);
    assert.deepEqual(again.rows.map((r) => r.id), first.rows.map((r) => r.id));
  });
});
