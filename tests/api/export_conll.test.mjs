// export_conll.test.mjs -- GET /v1/projects/{id}/export?format=conll: the
// CoNLL-2003 bytes (four columns, IOB2 tags, -DOCSTART- per task) of a
// namedentityrecognition project answered through the API: non-ASCII text,
// adjacent entities of one label, overlapping spans, a span cutting a
// token, an empty answer, a task without a result; a 400 naming format for
// other kinds.
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

describe('export format=conll', () => {
  it('one document per task with a result, IOB2 tags in the fourth column', async () => {
    const p = await makeProject(srv, { kind: 'namedentityrecognition', params: { labels: ['PER', 'LOC', 'ORG'] }, overlap: 1 });
    const rows = [
      { unique_id: 'n1', data: { text: 'Zoë lives in Zürich, 😀 Ünïcode.' } },
      { unique_id: 'n2', data: { text: 'New York Boston' } },
      { unique_id: 'n3', data: { text: 'Bank of Paris opened' } },
      { unique_id: 'n4', data: { text: 'Nothing here' } },
      { unique_id: 'n5', data: { text: 'Not answered' } },
    ];
    const answers = {
      // Zoë; "rich" inside Zürich takes the token; Ünïcode after an emoji.
      n1: { spans: [{ start: 0, end: 3, label: 'PER', text: 'Zoë' }, { start: 15, end: 19, label: 'LOC' }, { start: 23, end: 30, label: 'ORG' }] },
      // Two LOC entities side by side: B- then B-.
      n2: { spans: [{ start: 0, end: 8, label: 'LOC' }, { start: 9, end: 15, label: 'LOC' }] },
      // Overlapping: ORG over all three words is kept, PER over the last two dropped.
      n3: { spans: [{ start: 5, end: 13, label: 'PER' }, { start: 0, end: 13, label: 'ORG' }] },
      n4: { spans: [] },
    };
    const r = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, rows), 200);
    const uid = Object.fromEntries(rows.map((row, i) => [r.rows[i].id, row.unique_id]));
    for (let n = 4, tries = 0; n > 0; tries++) {
      assert.ok(tries < 50, 'the queue keeps serving the task without an answer');
      const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`), 200).assignment;
      const response = answers[uid[a.task_id]];
      if (!response) {
        expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/release`), 200);
        continue;
      }
      expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `a-${a.id}`, response }), 201);
      n--;
    }
    const got = await srv.api('GET', `/v1/projects/${p.id}/export?format=conll`);
    expectStatus(got, 200);
    assert.equal(got.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(got.headers.get('content-disposition'), `attachment; filename="project-${p.id}-tasks.conll"`);
    const doc = '-DOCSTART- -X- -X- O\n\n';
    assert.equal(
      got.text,
      doc +
        'Zoë -X- -X- B-PER\nlives -X- -X- O\nin -X- -X- O\nZürich -X- -X- B-LOC\n, -X- -X- O\n😀 -X- -X- O\nÜnïcode -X- -X- B-ORG\n. -X- -X- O\n\n' +
        doc +
        'New -X- -X- B-LOC\nYork -X- -X- I-LOC\nBoston -X- -X- B-LOC\n\n' +
        doc +
        'Bank -X- -X- B-ORG\nof -X- -X- I-ORG\nParis -X- -X- I-ORG\nopened -X- -X- O\n\n' +
        doc +
        'Nothing -X- -X- O\nhere -X- -X- O\n\n',
    );
  });

  it('another kind is a 400 naming format', async () => {
    const p = await makeProject(srv);
    const e = expectError(await srv.api('GET', `/v1/projects/${p.id}/export?format=conll`), 400, 'format');
    assert.match(e.message, /"conll" exports namedentityrecognition projects; this one is categorization/);
  });
});
