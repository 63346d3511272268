// export_csv.test.mjs -- GET /v1/projects/{id}/export?format=csv: the bytes
// of the download for categorization (several labels), rating and
// textcollection projects answered through the API, with commas, quotes,
// line breaks and non-ASCII text, and a 400 naming format for other kinds.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, it, expectError, expectStatus, makeProject } from './harness.mjs';

let srv;

before(async () => {
  srv = await startServer();
});
after(async () => {
  await srv?.stop();
});

/* A project of kind with params and the tasks rows; answers each task
 * once (overlap 1) with answers[unique_id], leaving tasks without one
 * unanswered.  Returns the project and the tasks' ids by unique_id. */
async function answered(kind, params, rows, answers) {
  const p = await makeProject(srv, { kind, params, overlap: 1 });
  const r = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, rows), 200);
  assert.equal(r.created, rows.length, JSON.stringify(r));
  const ids = Object.fromEntries(rows.map((row, i) => [row.unique_id, r.rows[i].id]));
  const byId = Object.fromEntries(rows.map((row, i) => [r.rows[i].id, row.unique_id]));
  for (let n = Object.keys(answers).length, tries = 0; n > 0; tries++) {
    assert.ok(tries < 50, 'the queue keeps serving tasks without an answer');
    const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`), 200).assignment;
    assert.ok(a, 'the queue ran dry before every answer was given');
    const response = answers[byId[a.task_id]];
    if (!response) {
      expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/release`), 200);
      continue;
    }
    expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `a-${a.id}`, response }), 201);
    n--;
  }
  return { p, ids };
}

async function csv(pid, query = '') {
  const r = await srv.api('GET', `/v1/projects/${pid}/export?format=csv${query}`);
  expectStatus(r, 200);
  assert.equal(r.headers.get('content-type'), 'text/csv; charset=utf-8');
  assert.equal(r.headers.get('content-disposition'), `attachment; filename="project-${pid}-tasks.csv"`);
  return r.text;
}

/* The method the API gives a task's result. */
async function method(id) {
  return expectStatus(await srv.api('GET', `/v1/tasks/${id}`), 200).result.method;
}

describe('export format=csv', () => {
  it('categorization: label joined with |, quoting that survives commas, quotes, line breaks', async () => {
    const { p, ids } = await answered(
      'categorization',
      { labels: ['pos', 'neg, "bad"', 'ünï'], multiple: true },
      [
        { unique_id: 'u,1', data: { text: 'Line one\nsaid "hi", Zoë 😀' } },
        { unique_id: 'u2', data: { prompt: 'only a prompt' } },
      ],
      { 'u,1': { labels: ['neg, "bad"', 'ünï'] } },
    );
    const m = await method(ids['u,1']);
    assert.equal(
      await csv(p.id),
      '"task_id","unique_id","status","label","confidence","method","input_text"\r\n' +
        `"${ids['u,1']}","u,1","completed","neg, ""bad""|ünï","1","${m}","Line one\nsaid ""hi"", Zoë 😀"\r\n` +
        `"${ids.u2}","u2","pending","","","","only a prompt"\r\n`,
    );
    // The filters still apply.
    assert.equal((await csv(p.id, '&status=pending')).split('\r\n').length, 3);
  });

  it('rating: one column per criterion in params order, then comment', async () => {
    const { p, ids } = await answered(
      'rating',
      { criteria: ['helpfulness', { name: 'harm, less', min: 0, max: 1, step: 0.1, required: false }] },
      [
        { unique_id: 'r1', data: { prompt: 'Boil an egg?' } },
        { unique_id: 'r2', data: {} },
      ],
      { r1: { ratings: { 'harm, less': 0.3, helpfulness: 4 }, comment: 'ok\r\nfine' }, r2: { ratings: { helpfulness: 2 } } },
    );
    const m = await method(ids.r1);
    assert.equal(
      await csv(p.id),
      '"task_id","unique_id","status","helpfulness","harm, less","comment","confidence","method","input_text"\r\n' +
        `"${ids.r1}","r1","completed","4","0.3","","1","${m}","Boil an egg?"\r\n` +
        `"${ids.r2}","r2","completed","2","","","1","${m}",""\r\n`,
    );
  });

  it('textcollection: one text, or one column per field', async () => {
    let { p, ids } = await answered('textcollection', {}, [{ unique_id: 't1', data: { text: 'in' } }], {
      t1: { text: 'out, "quoted"\nnext' },
    });
    let m = await method(ids.t1);
    assert.equal(
      await csv(p.id),
      '"task_id","unique_id","status","text","confidence","method","input_text"\r\n' +
        `"${ids.t1}","t1","completed","out, ""quoted""\nnext","1","${m}","in"\r\n`,
    );
    ({ p, ids } = await answered(
      'textcollection',
      { fields: ['instruction', 'answer', { name: 'source', required: false }] },
      [{ unique_id: 'f1', data: {} }],
      { f1: { fields: { answer: 'Ja, größer', instruction: 'Say' } } },
    ));
    m = await method(ids.f1);
    assert.equal(
      await csv(p.id),
      '"task_id","unique_id","status","instruction","answer","source","confidence","method","input_text"\r\n' +
        `"${ids.f1}","f1","completed","Say","Ja, größer","","1","${m}",""\r\n`,
    );
  });

  it('another kind is a 400 naming format', async () => {
    const p = await makeProject(srv, { kind: 'namedentityrecognition', params: { labels: ['PER'] } });
    const e = expectError(await srv.api('GET', `/v1/projects/${p.id}/export?format=csv`), 400, 'format');
    assert.match(e.message, /"csv" exports categorization, rating, textcollection projects; this one is namedentityrecognition/);
  });
});
