// convert_labelstudio.test.mjs -- POST /v1/projects/{id}/tasks?format=labelstudio
// and `loupe import --format labelstudio`: Label Studio JSON exports
// (written here after Label Studio's documented task format) imported as
// results and as predictions through the real server.  Boxes in percents
// of images of different sizes (one drawn to the border) come back in
// pixels from GET /tasks and from the COCO export; images sent in a zip
// with the export are stored and attached; a cancelled annotation, the
// ground truth, a task without annotations; predictions with model_version
// and score; NER offsets in UTF-16 units after an emoji and CJK; bad
// regions as invalid rows with their source; a broken document is a 400
// naming body; the CLI imports the same file.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, it, expectError, expectStatus, makeProject, listAll, runCli, tempDir, assertNoSanitizerReport } from './harness.mjs';
import { png } from '../browser/media.mjs';

let srv, scratch;

before(async () => {
  srv = await startServer();
  scratch = tempDir('loupe-ls-');
});
after(async () => {
  await srv?.stop();
  fs.rmSync(scratch, { recursive: true, force: true });
});

/* A zip of files {name: Buffer|string}, made by python3's zipfile. */
function zip(files) {
  const dir = tempDir('loupe-lszip-');
  for (const [name, data] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), data);
  const out = path.join(dir, 'out.zip');
  const py = 'import sys,zipfile,os\nz=zipfile.ZipFile(sys.argv[1],"w")\n' + 'for n in sys.argv[3:]: z.write(os.path.join(sys.argv[2],n),n)\nz.close()';
  execFileSync('python3', ['-c', py, out, dir, ...Object.keys(files)]);
  return fs.readFileSync(out);
}

const rect = (id, x, y, width, height, label, ow, oh, rotation = 0) => ({
  id,
  from_name: 'label',
  to_name: 'image',
  type: 'rectanglelabels',
  original_width: ow,
  original_height: oh,
  image_rotation: 0,
  value: { x, y, width, height, rotation, rectanglelabels: [label] },
});

async function tasksOf(pid) {
  const all = (await listAll(srv, `/v1/projects/${pid}/tasks`)).items;
  return Object.fromEntries(all.map((t) => [t.unique_id, t]));
}

async function importLs(pid, body, query = '', headers) {
  return srv.api('POST', `/v1/projects/${pid}/tasks?format=labelstudio${query}`, body, headers ? { headers } : undefined);
}

const close = (a, b, what) => assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} is not ${b}`);

describe('import format=labelstudio', () => {
  it('image export with its images in a zip: results in pixels, history kept, COCO export in pixels', async () => {
    const p = await makeProject(srv, { kind: 'imageannotation', params: { labels: ['car', 'person'] } });
    const tasks = [
      {
        id: 21,
        data: { image: '/data/upload/4/1a2b3c4d-street.png' },
        meta: { camera: 7 },
        annotations: [
          { id: 1, completed_by: 3, created_at: '2024-05-02T09:00:00.000000Z', was_cancelled: true, ground_truth: false, result: [rect('c', 0, 0, 10, 10, 'car', 640, 480)] },
          {
            id: 2,
            completed_by: 4,
            created_at: '2024-05-01T09:00:00.000000Z',
            was_cancelled: false,
            ground_truth: false,
            lead_time: 12.5,
            result: [
              rect('r1', 50, 75, 50, 25, 'car', 640, 480), // to the bottom-right corner
              { id: 'p1', type: 'polygonlabels', original_width: 640, original_height: 480, value: { points: [[0, 0], [25, 0], [0, 50]], polygonlabels: ['person'] } },
              { id: 'k1', type: 'keypointlabels', original_width: 640, original_height: 480, value: { x: 12.5, y: 12.5, width: 1, keypointlabels: ['person'] } },
            ],
          },
        ],
      },
      {
        id: 22,
        data: { image: '/data/upload/4/wide.png' },
        annotations: [
          { id: 3, ground_truth: true, created_at: '2024-05-01T00:00:00Z', result: [rect('w1', 0, 0, 100, 100, 'person', 1920, 1080)] },
          { id: 4, ground_truth: false, created_at: '2024-05-03T00:00:00Z', result: [rect('w2', 10, 10, 10, 10, 'car', 1920, 1080)] },
        ],
      },
      { id: 23, data: { image: 'https://img.example.com/none.jpg' }, annotations: [] },
      { id: 24, data: { image: 'https://img.example.com/rot.jpg' }, annotations: [{ id: 5, result: [rect('x', 1, 1, 5, 5, 'car', 100, 100, 45)] }] },
      { id: 25, data: { image: 'https://img.example.com/dog.jpg' }, annotations: [{ id: 6, result: [rect('d', 1, 1, 5, 5, 'dog', 100, 100)] }] },
    ];
    const body = zip({ 'export.json': JSON.stringify(tasks), 'street.png': png(640, 480), 'wide.png': png(1920, 1080) });
    const r = expectStatus(await importLs(p.id, body, '&as=results', { 'content-type': 'application/zip' }), 200);
    assert.equal(r.created, 3, JSON.stringify(r));
    assert.equal(r.invalid, 2);
    assert.equal(r.media_stored, 2);
    const bad = r.rows.filter((row) => row.status === 'invalid');
    assert.deepEqual(
      bad.map((row) => [row.source, row.error.field]),
      [
        ['export.json: tasks[4] id 25', 'result.annotations[0].label'], // the kind's own check
        ['export.json: tasks[3] id 24', 'tasks[3].annotations[0].result[0]'],
      ],
    );
    assert.match(bad[1].error.message, /rotated by 45 degrees/);

    const ts = await tasksOf(p.id);
    const street = ts['labelstudio:21'];
    assert.equal(street.status, 'completed');
    assert.equal(street.attachments[0].type, 'image');
    assert.equal(street.attachments[0].name, 'street.png');
    assert.match(street.attachments[0].file, /^[0-9a-f]{64}$/);
    assert.deepEqual(street.data, { width: 640, height: 480 });
    assert.equal(street.metadata.camera, 7);
    const [box, poly, pt] = street.result.response.annotations;
    assert.deepEqual(box, { id: 'r1', type: 'box', label: 'car', x: 320, y: 360, width: 320, height: 120 });
    assert.deepEqual(poly.vertices, [{ x: 0, y: 0 }, { x: 160, y: 0 }, { x: 0, y: 240 }]);
    assert.deepEqual([pt.type, pt.x, pt.y], ['point', 80, 60]);
    const hist = street.metadata.labelstudio_annotations;
    assert.equal(hist.length, 2);
    assert.equal(hist[0].was_cancelled, true);
    assert.equal(hist[0].result[0].id, 'c');
    assert.deepEqual(hist[1], { id: 2, completed_by: 4, created_at: '2024-05-01T09:00:00.000000Z', lead_time: 12.5, was_cancelled: false, ground_truth: false, imported_as: 'result' });
    // The ground truth wins over a later annotation.
    const wide = ts['labelstudio:22'];
    assert.deepEqual(wide.result.response.annotations, [{ id: 'w1', type: 'box', label: 'person', x: 0, y: 0, width: 1920, height: 1080 }]);
    assert.equal(wide.metadata.labelstudio_annotations[1].result[0].id, 'w2');
    const none = ts['labelstudio:23'];
    assert.equal(none.status, 'pending');
    assert.equal(none.attachments[0].url, 'https://img.example.com/none.jpg');

    // COCO export: the boxes in pixels of each image's own size.
    const c = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/export?format=coco`), 200);
    const img = Object.fromEntries(c.images.map((i) => [i.id, i]));
    assert.deepEqual([img[street.id].width, img[street.id].height], [640, 480]);
    assert.deepEqual([img[wide.id].width, img[wide.id].height], [1920, 1080]);
    const bboxes = c.annotations.filter((a) => a.bbox[2] > 0 && !a.segmentation.length).map((a) => [a.image_id, a.bbox]);
    assert.deepEqual(bboxes, [
      [street.id, [320, 360, 320, 120]],
      [wide.id, [0, 0, 1920, 1080]],
    ]);

    // The same file again: duplicates, not copies.
    const again = expectStatus(await importLs(p.id, body, '&as=results', { 'content-type': 'application/zip' }), 200);
    assert.equal(again.duplicates, 3, JSON.stringify(again));
  });

  it('predictions keep model_version and score; annotations stand in when a task has none', async () => {
    const p = await makeProject(srv, { kind: 'categorization', params: { labels: ['pos', 'neg', 'neu'], multiple: true } });
    const choices = (...c) => [{ from_name: 'sentiment', to_name: 'text', type: 'choices', value: { choices: c } }];
    const tasks = [
      { id: 1, data: { text: 'fine' }, predictions: [{ model_version: 'bert-v2', score: 0.9, result: choices('pos', 'neu') }], annotations: [{ id: 1, result: choices('neg') }] },
      { id: 2, data: { text: 'bad' }, annotations: [{ id: 2, created_at: '2024-01-01T00:00:00Z', result: choices('neg') }, { id: 3, was_cancelled: true, result: [] }] },
    ];
    const r = expectStatus(await importLs(p.id, tasks, '&model=team-a'), 200);
    assert.equal(r.created, 2, JSON.stringify(r));
    const ts = await tasksOf(p.id);
    assert.deepEqual(ts['labelstudio:1'].predictions, [{ model: 'bert-v2', response: { labels: ['pos', 'neu'] }, score: 0.9 }]);
    assert.equal(ts['labelstudio:1'].status, 'pending');
    assert.deepEqual(ts['labelstudio:2'].predictions, [{ model: 'team-a', response: { labels: ['neg'] } }]);
    assert.equal(ts['labelstudio:2'].metadata.labelstudio_annotations[0].imported_as, 'prediction');
    assert.equal(ts['labelstudio:2'].metadata.labelstudio_annotations[1].was_cancelled, true);
  });

  it('NER offsets count UTF-16 units: spans after an emoji and CJK land on the same characters', async () => {
    const p = await makeProject(srv, { kind: 'namedentityrecognition', params: { labels: ['PER', 'LOC'] } });
    const text = '😀 東京で Zoë Ng'; // 😀 is 2 UTF-16 units, 1 code point
    const span = (id, s, label) => ({ id, type: 'labels', from_name: 'ner', to_name: 'text', value: { start: text.indexOf(s), end: text.indexOf(s) + s.length, text: s, labels: [label] } });
    const tasks = [{ id: 8, data: { text }, annotations: [{ id: 1, result: [span('a', '東京', 'LOC'), span('b', 'Zoë Ng', 'PER')] }] }];
    const r = expectStatus(await importLs(p.id, tasks, '&as=results'), 200);
    assert.equal(r.created, 1, JSON.stringify(r));
    const t = (await tasksOf(p.id))['labelstudio:8'];
    const cps = [...text];
    for (const s of t.result.response.spans) assert.equal(cps.slice(s.start, s.end).join(''), s.text);
    assert.deepEqual(
      t.result.response.spans.map((s) => [s.start, s.end, s.label]),
      [
        [2, 4, 'LOC'],
        [6, 12, 'PER'],
      ],
    );
  });

  it('transcriptions: the audio URL attached, per-region textareas as timed segments with speakers', async () => {
    const p = await makeProject(srv, { kind: 'transcription', params: { segments: true } });
    const region = (id, start, end, type, value) => ({ id, from_name: type === 'labels' ? 'speaker' : 'transcript', to_name: 'audio', type, value: { start, end, ...value } });
    const tasks = [
      {
        id: 51,
        data: { audio: 'https://audio.example.com/call-17.mp3', customer: 'C-9' },
        annotations: [
          {
            id: 1,
            result: [
              region('b', 3.2, 7.9, 'textarea', { text: ['Um, my parcel is late.'] }),
              region('a', 0, 3.2, 'labels', { labels: ['agent'] }),
              region('a', 0, 3.2, 'textarea', { text: ['Hello, how can I help?'] }),
              region('b', 3.2, 7.9, 'labels', { labels: ['caller'] }),
            ],
          },
        ],
      },
    ];
    const r = expectStatus(await importLs(p.id, tasks, '&as=results'), 200);
    assert.equal(r.created, 1, JSON.stringify(r));
    const t = (await tasksOf(p.id))['labelstudio:51'];
    assert.deepEqual(t.attachments, [{ type: 'audio', url: 'https://audio.example.com/call-17.mp3', name: 'call-17.mp3' }]);
    assert.deepEqual(t.data, { customer: 'C-9' });
    assert.deepEqual(t.result.response, {
      segments: [
        { start: 0, end: 3.2, text: 'Hello, how can I help?', speaker: 'agent' },
        { start: 3.2, end: 7.9, text: 'Um, my parcel is late.', speaker: 'caller' },
      ],
    });
  });

  it('what is not a Label Studio export: 400 naming body; a kind it cannot fill: 422 naming format', async () => {
    const p = await makeProject(srv, { kind: 'categorization', params: { labels: ['a'] } });
    expectError(await importLs(p.id, '[{"id": 1, "data": ', '', { 'content-type': 'application/json' }), 400, 'body');
    expectError(await importLs(p.id, 'text,label\nx,a\n', '', { 'content-type': 'text/plain' }), 400, 'body');
    const min = expectError(await importLs(p.id, [{ id: 1, text: 'x', sentiment: 'a' }]), 400, 'body');
    assert.match(min.message, /JSON-MIN/);
    const cmp = await makeProject(srv, { kind: 'comparison', params: {} });
    const fmt = expectError(await importLs(cmp.id, [{ id: 1, data: {} }]), 422, 'format');
    assert.equal(fmt.message, 'format: labelstudio reads labels for imageannotation, categorization, namedentityrecognition, transcription, textcollection, rating projects, not comparison');
    // A region the kind cannot take: an invalid row naming it.
    const r = expectStatus(await importLs(p.id, [{ id: 3, data: { text: 'x' }, annotations: [{ result: [{ type: 'labels', value: { start: 0, end: 1, labels: ['a'] } }] }] }], '&as=results'), 200);
    assert.deepEqual(r.rows, [
      {
        index: 0,
        source: 'body: tasks[0] id 3',
        status: 'invalid',
        error: { field: 'tasks[0].annotations[0].result[0]', message: 'a "labels" region, which a categorization project cannot take (it reads choices)' },
      },
    ]);
  });

  it('loupe import --format labelstudio imports the same file', async () => {
    const p = await makeProject(srv, { kind: 'imageannotation', params: { labels: ['car'] } });
    const file = path.join(scratch, 'ls-export.json');
    fs.writeFileSync(
      file,
      JSON.stringify([
        { id: 31, data: { image: 'https://img.example.com/a.jpg' }, annotations: [{ id: 1, result: [rect('a', 25, 25, 50, 50, 'car', 800, 600)] }] },
        { id: 32, data: { image: 'https://img.example.com/b.jpg' }, annotations: [{ id: 2, result: [rect('b', 0, 0, 5, 5, 'car', 800, 600, 10)] }] },
      ]),
    );
    const r = runCli(['import', String(p.id), file, '--format', 'labelstudio', '--as', 'results', '--data-dir', srv.dir], { cwd: scratch });
    assertNoSanitizerReport(r.stderr, 'loupe import');
    assert.notEqual(r.status, 0, 'a bad row makes the exit status non-zero');
    assert.match(r.stdout, /1 created, 0 duplicates, 1 invalid/);
    assert.match(r.stderr, /ls-export\.json: tasks\[1\] id 32: tasks\[1\]\.annotations\[0\]\.result\[0\]: is rotated by 10 degrees/);
    const t = (await tasksOf(p.id))['labelstudio:31'];
    assert.deepEqual(t.result.response.annotations, [{ id: 'a', type: 'box', label: 'car', x: 200, y: 150, width: 400, height: 300 }]);
    assert.deepEqual(t.data, { width: 800, height: 600 });
  });
});
