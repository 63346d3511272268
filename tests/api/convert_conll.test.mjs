// convert_conll.test.mjs -- POST /v1/projects/{id}/tasks?format=conll and
// `loupe import --format conll`: CoNLL-2003 entity tags read into
// namedentityrecognition tasks.  The round trip through the real server
// (tasks with spans the export must resolve -> export conll -> import as
// results -> export conll: the same bytes), a foreign file (IOB1, two
// columns, tabs, Windows line ends, non-ASCII words, sentences in a
// document, no -DOCSTART-), predictions, bad rows with their source,
// unique_ids making a second import duplicates, a zip of two files, and
// the CLI.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, it, runCli, tempDir, expectError, expectStatus, makeProject, listAll, assertNoSanitizerReport } from './harness.mjs';

let srv, scratch;

const LABELS = ['PER', 'LOC', 'ORG', 'MISC', 'BIG ORG'];
const DOC = '-DOCSTART- -X- -X- O\n\n';

before(async () => {
  srv = await startServer();
  scratch = tempDir('loupe-conll-');
});
after(async () => {
  await srv?.stop();
  fs.rmSync(scratch, { recursive: true, force: true });
});

const nerProject = () => makeProject(srv, { kind: 'namedentityrecognition', params: { labels: LABELS }, overlap: 1 });

async function importConll(pid, text, query = '', type = 'text/plain') {
  return srv.api('POST', `/v1/projects/${pid}/tasks?format=conll${query}`, text, { headers: { 'content-type': type } });
}

async function exportConll(pid) {
  const r = await srv.api('GET', `/v1/projects/${pid}/export?format=conll`);
  expectStatus(r, 200);
  return r.text;
}

async function tasks(pid) {
  return (await listAll(srv, `/v1/projects/${pid}/tasks`)).items;
}

/* A task's entities as "label:text" by its spans' offsets in code points
 * (JavaScript strings count UTF-16 units, so through Array.from). */
function entities(t, response) {
  const cps = Array.from(t.data.text);
  return response.spans.map((s) => `${s.label}:${cps.slice(s.start, s.end).join('')}`);
}

describe('import format=conll', () => {
  it('round trip: an export of spans it resolves, imported as results and exported again, is the same bytes', async () => {
    const p = await nerProject();
    // Overlapping spans (the export keeps the first longest), two LOC side
    // by side, a span cutting a token, a label with a space, non-ASCII
    // words, a task without entities.
    const rows = [
      { unique_id: 'overlap', data: { text: 'Bank of Paris opened' }, result: { spans: [{ start: 5, end: 13, label: 'PER' }, { start: 0, end: 13, label: 'ORG' }] } },
      { unique_id: 'adjacent', data: { text: 'New York Boston' }, result: { spans: [{ start: 0, end: 8, label: 'LOC' }, { start: 9, end: 15, label: 'LOC' }] } },
      { unique_id: 'cut', data: { text: 'x Zürich-based, Zoë: 東京!' }, result: { spans: [{ start: 4, end: 10, label: 'LOC' }, { start: 16, end: 19, label: 'PER' }, { start: 21, end: 23, label: 'LOC' }] } },
      { unique_id: 'space', data: { text: 'Acme  Corp\nsells 😀 toys' }, result: { spans: [{ start: 0, end: 10, label: 'BIG ORG' }] } },
      { unique_id: 'none', data: { text: 'Nothing here.' }, result: { spans: [] } },
    ];
    const r = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, rows), 200);
    assert.equal(r.created, 5, JSON.stringify(r.rows));
    const first = await exportConll(p.id);
    assert.ok(first.includes('Bank -X- -X- B-ORG\nof -X- -X- I-ORG\nParis -X- -X- I-ORG\nopened -X- -X- O\n'), first);
    assert.ok(first.includes('York -X- -X- I-LOC\nBoston -X- -X- B-LOC\n'), first);
    assert.ok(first.includes('Acme -X- -X- B-BIG_ORG\nCorp -X- -X- I-BIG_ORG\n'), first);

    const q = await nerProject();
    const imp = expectStatus(await importConll(q.id, first, '&as=results'), 200);
    assert.deepEqual([imp.created, imp.duplicates, imp.invalid], [5, 0, 0], JSON.stringify(imp.rows));
    const ts = await tasks(q.id);
    assert.deepEqual(ts.map((t) => t.status), Array(5).fill('completed'));
    // The words joined by spaces; spans in code points; "BIG_ORG" is the label "BIG ORG".
    assert.equal(ts[2].data.text, 'x Zürich - based , Zoë : 東 京 !');
    assert.deepEqual(entities(ts[2], ts[2].result.response), ['LOC:Zürich - based', 'PER:Zoë', 'LOC:東 京']);
    assert.deepEqual(ts[2].result.response.spans[1], { start: 19, end: 22, label: 'PER', text: 'Zoë' });
    assert.deepEqual(entities(ts[3], ts[3].result.response), ['BIG ORG:Acme Corp']);
    assert.deepEqual(ts[4].result.response.spans, []);
    assert.equal(await exportConll(q.id), first);
  });

  it('a foreign file: IOB1, two columns, tabs, CRLF, sentences, non-ASCII; the export has the same entities', async () => {
    const p = await nerProject();
    // A document of two sentences (IOB1: I- starts an entity after O, B-
    // splits two PER), then a document without entities.
    const file = '-DOCSTART-\tO\r\n\r\nZoë\tI-PER\r\nmet\tO\r\nRolf\tI-PER\r\nAnn\tB-PER\r\nin\tO\r\n\r\n' +
      'Tōkyō\tI-LOC\r\nand\tO\r\n東京\tI-LOC\r\n\r\n-DOCSTART-\tO\r\n\r\nNothing\tO\r\nhere\tO\r\n';
    const imp = expectStatus(await importConll(p.id, file, '&as=results'), 200);
    assert.deepEqual([imp.created, imp.invalid], [2, 0], JSON.stringify(imp.rows));
    const ts = await tasks(p.id);
    assert.equal(ts[0].data.text, 'Zoë met Rolf Ann in\nTōkyō and 東京');
    assert.deepEqual(ts[0].result.response.spans, [
      { start: 0, end: 3, label: 'PER', text: 'Zoë' },
      { start: 8, end: 12, label: 'PER', text: 'Rolf' },
      { start: 13, end: 16, label: 'PER', text: 'Ann' },
      { start: 20, end: 25, label: 'LOC', text: 'Tōkyō' },
      { start: 30, end: 32, label: 'LOC', text: '東京' },
    ]);
    assert.equal(ts[1].data.text, 'Nothing here');
    assert.deepEqual(ts[1].result.response.spans, []);
    // The same tags, written IOB2 in four columns, a document a block; the
    // ideographs are a token each to the export, both in the entity.
    assert.equal(
      await exportConll(p.id),
      DOC + 'Zoë -X- -X- B-PER\nmet -X- -X- O\nRolf -X- -X- B-PER\nAnn -X- -X- B-PER\nin -X- -X- O\n' +
        'Tōkyō -X- -X- B-LOC\nand -X- -X- O\n東 -X- -X- B-LOC\n京 -X- -X- I-LOC\n\n' +
        DOC + 'Nothing -X- -X- O\nhere -X- -X- O\n\n',
    );
    // The same file again: duplicates, not copies.
    const again = expectStatus(await importConll(p.id, file, '&as=results'), 200);
    assert.deepEqual([again.created, again.duplicates], [0, 2]);
    assert.deepEqual(again.rows.map((r) => r.id), ts.map((t) => t.id));
  });

  it('without -DOCSTART- each sentence is a task; as predictions by default, or of model M', async () => {
    const p = await nerProject();
    const file = 'EU B-ORG\nrejects O\nGerman B-MISC\n\nPeter B-PER\nBlackburn I-PER\n';
    const imp = expectStatus(await importConll(p.id, file), 200);
    assert.equal(imp.created, 2);
    const ts = await tasks(p.id);
    assert.deepEqual(ts.map((t) => t.status), ['pending', 'pending']);
    assert.deepEqual(ts.map((t) => t.data.text), ['EU rejects German', 'Peter Blackburn']);
    assert.equal(ts[0].predictions.length, 1);
    assert.equal(ts[0].predictions[0].model, 'import:conll');
    assert.deepEqual(entities(ts[0], ts[0].predictions[0].response), ['ORG:EU', 'MISC:German']);
    assert.ok(!ts[0].result);
    const q = await nerProject();
    expectStatus(await importConll(q.id, file, '&as=predictions&model=ner-v2'), 200);
    assert.deepEqual((await tasks(q.id)).map((t) => t.predictions[0].model), ['ner-v2', 'ner-v2']);
  });

  it('bad lines: the whole document is one invalid row with its source; good documents import', async () => {
    const p = await nerProject();
    const file = DOC + 'A O\nlonely\nB X-PER\n\n' + DOC + 'Good B-PER\n\n' + DOC + 'Who B-ALIEN\n\n' + DOC;
    const imp = expectStatus(await importConll(p.id, file, '&as=results'), 200);
    assert.deepEqual([imp.created, imp.duplicates, imp.invalid], [1, 0, 3], JSON.stringify(imp.rows));
    const byIndex = Object.fromEntries(imp.rows.map((r) => [r.index, r]));
    // Tasks first (the good one, the one with an unknown label), then the
    // converter's bad items.
    assert.equal(byIndex[0].status, 'created');
    assert.deepEqual(byIndex[1].source, 'body:11');
    assert.equal(byIndex[1].error.field, 'result.spans[0].label');
    assert.match(byIndex[1].error.message, /"ALIEN" is not in the project's labels/);
    assert.equal(byIndex[2].source, 'body:4');
    assert.equal(byIndex[2].error.field, 'tag');
    assert.match(byIndex[2].error.message, /^line 4 has one column, "lonely": .*; the document from line 1 is left out \(2 bad lines\)$/);
    assert.equal(byIndex[3].source, 'body:15');
    assert.equal(byIndex[3].error.field, 'tokens');
    const ts = await tasks(p.id);
    assert.deepEqual(ts.map((t) => t.data.text), ['Good']);
    // A body without words.
    const empty = expectStatus(await importConll(p.id, '\n\n'), 200);
    assert.deepEqual([empty.created, empty.invalid], [0, 1]);
    assert.equal(empty.rows[0].source, 'body');
    assert.match(empty.rows[0].error.message, /holds no word lines/);
  });

  it('a zip of two CoNLL files and a JSON file; 400s naming as, body and format', async () => {
    const p = await nerProject();
    const zip = path.join(scratch, 'splits.zip');
    const py = 'import sys,zipfile\nz=zipfile.ZipFile(sys.argv[1],"w")\n' +
      'z.writestr("data/train.conll","Paris B-LOC\\n\\nx O\\n")\nz.writestr("data/dev.conll","Paris B-LOC\\n")\n' +
      'z.writestr("data/meta.json","{}")\nz.close()';
    execFileSync('python3', ['-c', py, zip]);
    const imp = expectStatus(await importConll(p.id, fs.readFileSync(zip), '&as=results', 'application/zip'), 200);
    // "Paris" twice: the second copy of one text is a task of its own.
    assert.deepEqual([imp.created, imp.duplicates, imp.invalid], [3, 0, 0], JSON.stringify(imp.rows));
    const ts = await tasks(p.id);
    assert.deepEqual(ts.map((t) => t.data.text), ['Paris', 'Paris', 'x']);
    assert.equal(new Set(ts.map((t) => t.unique_id)).size, 3);
    assert.match(ts[0].unique_id, /^conll:[0-9a-f]{16}$/);
    assert.equal(ts[1].unique_id, `${ts[0].unique_id}:2`);

    expectError(await importConll(p.id, 'x O\n', '&as=gold'), 400, 'as');
    expectError(await importConll(p.id, 'not a zip', '', 'application/zip'), 400, 'body');
    const cat = await makeProject(srv);
    const e = expectError(await importConll(cat.id, 'x O\n'), 422, 'format');
    assert.match(e.message, /conll reads labels for namedentityrecognition projects, not categorization/);
  });

  it('loupe import --format conll: the same import from the command line', async () => {
    const p = await nerProject();
    const file = path.join(scratch, 'train.conll');
    fs.writeFileSync(file, DOC + 'Zoë B-PER\nlives O\n\n' + DOC + 'bad\n\n');
    const cli = (args) => {
      const r = runCli(['import', String(p.id), 'train.conll', '--format', 'conll', ...args, '--data-dir', srv.dir], { cwd: scratch });
      assert.equal(r.signal, null, r.stderr);
      assertNoSanitizerReport(r.stderr, 'loupe import');
      return r;
    };
    const r = cli(['--as', 'results']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /train\.conll: 1 created, 0 duplicates, 1 invalid/);
    assert.match(r.stderr, /^train\.conll:8: tag: line 8 has one column, "bad"/m);
    const ts = await tasks(p.id);
    assert.equal(ts.length, 1);
    assert.equal(ts[0].status, 'completed');
    assert.deepEqual(ts[0].result.response.spans, [{ start: 0, end: 3, label: 'PER', text: 'Zoë' }]);
    // Through the API, the same document is a duplicate of the CLI's.
    const api = expectStatus(await importConll(p.id, DOC + 'Zoë B-PER\nlives O\n', '&as=results'), 200);
    assert.deepEqual([api.created, api.duplicates], [0, 1]);
  });
});
