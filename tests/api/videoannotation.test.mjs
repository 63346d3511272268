// videoannotation.test.mjs -- the videoannotation kind over HTTP: tasks
// and responses rejected with the field that is wrong, gold scored by IoU
// over time, three workers' tracks consolidated (overlap 3), and the
// exports (video JSON per frame, MOT ground truth, COCO per frame) with
// their contents checked; MOT sequences imported, and a malformed line
// reported with its line number; the MOT export imported back.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, it, expectError, expectStatus, makeProject, makeMember, listAll } from './harness.mjs';
import { download, makeZip } from './zip.mjs';
import { png } from '../browser/media.mjs';

let srv;
before(async () => {
  srv = await startServer();
});
after(async () => {
  await srv?.stop();
});

const PARAMS = { labels: ['car', 'person'], geometries: ['box', 'point', 'polygon'], frame_attributes: [{ name: 'occluded', type: 'boolean' }], events: ['crash'], fps: 10 };
const VIDEO = { attachments: [{ type: 'video', url: 'https://cdn.example.com/road.webm' }], data: { frames: 100, fps: 25, width: 640, height: 480 } };

/* A car box moving from x0 at frame 0 to x0 + 90 at frame 90, gone at 95. */
const moving = (x0 = 0, extra = {}) => ({
  tracks: [
    {
      label: 'car',
      shape: 'box',
      keyframes: [
        { frame: 0, x: x0, y: 10, width: 100, height: 50 },
        { frame: 90, x: x0 + 90, y: 10, width: 100, height: 50, ...extra },
        { frame: 95, outside: true },
      ],
    },
  ],
});

let seq = 0;
async function annotator(p) {
  const m = await makeMember(srv, `video-${++seq}@test.io`);
  expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${m.id}`, { role: 'annotator' }), 200);
  return m;
}

async function work(p, who, answer) {
  for (;;) {
    const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: who.key }), 200).assignment;
    if (!a) return;
    expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `v-${a.id}`, response: answer(a.task) }, { key: who.key }), 201);
  }
}

describe('videoannotation tasks and responses', () => {
  it('rejects bad params, tasks and responses naming the field', async () => {
    expectError(await srv.api('POST', '/v1/projects', { name: 'v', kind: 'videoannotation', params: { labels: ['car'], geometries: ['line'] } }), 422, 'params.geometries[0]');
    const p = await makeProject(srv, { kind: 'videoannotation', params: PARAMS });
    expectError(await srv.api('POST', '/v1/tasks', { project_id: p.id, attachments: [{ type: 'video', url: 'https://x/v.webm' }] }), 422, 'data.frames');
    expectError(await srv.api('POST', '/v1/tasks', { project_id: p.id, data: { frames: 3 } }), 422, 'attachments');
    const bad = [
      [{ tracks: [{ label: 'car', shape: 'box', keyframes: [{ frame: 100, x: 0, y: 0, width: 1, height: 1 }] }] }, 'expected_response.tracks[0].keyframes[0].frame'],
      [{ tracks: [{ label: 'car', shape: 'box', keyframes: [{ frame: 5, x: 0, y: 0, width: 1, height: 1 }, { frame: 4, outside: true }] }] }, 'expected_response.tracks[0].keyframes[1].frame'],
      [{ tracks: [{ label: 'bus', shape: 'box', keyframes: [{ frame: 5, outside: true }] }] }, 'expected_response.tracks[0].label'],
      [{ tracks: [{ label: 'car', shape: 'box', keyframes: [{ frame: 5, x: 600, y: 0, width: 100, height: 1 }] }] }, 'expected_response.tracks[0].keyframes[0].width'],
      [{ tracks: [{ label: 'car', shape: 'box', keyframes: [{ frame: 5, x: 0, y: 0, width: 1, height: 1, attributes: { occluded: 1 } }] }] }, 'expected_response.tracks[0].keyframes[0].attributes.occluded'],
      [{ tracks: [], events: [{ label: 'crash', start: 9, end: 3 }] }, 'expected_response.events[0].end'],
    ];
    for (const [response, field] of bad) expectError(await srv.api('POST', '/v1/tasks', { project_id: p.id, ...VIDEO, expected_response: response }), 422, field);
    expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id, ...VIDEO, expected_response: moving() }), 201);
    // A sequence of frames: the frame count is the number of images.
    const frames = { attachments: [1, 2, 3].map((i) => ({ type: 'image', url: `https://x/${i}.png` })) };
    expectError(await srv.api('POST', '/v1/tasks', { project_id: p.id, ...frames, expected_response: { tracks: [{ label: 'car', shape: 'point', keyframes: [{ frame: 3, x: 1, y: 1 }] }] } }), 422, 'expected_response.tracks[0].keyframes[0].frame');
    expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id, ...frames, expected_response: { tracks: [{ label: 'car', shape: 'point', keyframes: [{ frame: 2, x: 1, y: 1 }] }] } }), 201);
  });

  it('scores gold by IoU over time', async () => {
    const p = await makeProject(srv, { kind: 'videoannotation', params: PARAMS, overlap: 1, gold_rate: 1 });
    expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id, unique_id: 'g', ...VIDEO, expected_response: moving() }), 201);
    expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id, unique_id: 'real', ...VIDEO }), 201);
    const w = await annotator(p);
    // Right for frames 0..59 only: IoU over time 60 / 95.  (Under 0.5, the
    // tracks would not match at all: 0.)
    await work(p, w, () => ({ tracks: [{ label: 'car', shape: 'box', keyframes: [{ frame: 0, x: 0, y: 10, width: 100, height: 50 }, { frame: 59, x: 59, y: 10, width: 100, height: 50 }, { frame: 60, outside: true }] }] }));
    const items = expectStatus(await srv.api("GET", `/v1/projects/${p.id}/workers`), 200).items;
    const row = items.find((x) => x.user_id === w.id);
    assert.ok(row, JSON.stringify(items));
    assert.equal(row.gold_answered, 1);
    assert.ok(Math.abs(row.gold_accuracy - 60 / 95) < 1e-6, `gold accuracy ${row.gold_accuracy}`);
  });

  it('consolidates three workers: the majority track, averaged, reduced to keyframes; the stray track dropped', async () => {
    const p = await makeProject(srv, { kind: 'videoannotation', params: PARAMS, overlap: 3 });
    const t = expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id, unique_id: 'road', ...VIDEO }), 201);
    const answers = [
      moving(0),
      moving(4),
      { tracks: [...moving(8).tracks, { label: 'person', shape: 'point', keyframes: [{ frame: 10, x: 300, y: 300 }] }], events: [{ label: 'crash', start: 20, end: 30 }] },
    ];
    for (const r of answers) await work(p, await annotator(p), () => r);
    const task = expectStatus(await srv.api('GET', `/v1/tasks/${t.id}`), 200);
    assert.equal(task.status, 'completed');
    const res = task.result.response;
    assert.equal(res.tracks.length, 1, JSON.stringify(res));
    assert.equal(res.events, undefined, 'an event only one of three marked was kept');
    assert.deepEqual(res.tracks[0].keyframes, [
      { frame: 0, x: 4, y: 10, width: 100, height: 50 },
      { frame: 90, x: 94, y: 10, width: 100, height: 50 },
      { frame: 95, outside: true },
    ]);
    assert.ok(task.result.confidence > 0.9, `confidence ${task.result.confidence}`);
  });
});

describe('videoannotation exports', () => {
  let p, t1;
  before(async () => {
    p = await makeProject(srv, { kind: 'videoannotation', params: PARAMS, overlap: 1 });
    t1 = expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id, unique_id: 'clip', attachments: [{ type: 'video', url: 'https://x/v.webm' }], data: { frames: 6, fps: 25, width: 640, height: 480 } }), 201);
    const w = await annotator(p);
    await work(p, w, () => ({
      tracks: [
        { id: 7, label: 'person', shape: 'box', keyframes: [{ frame: 1, x: 10, y: 20, width: 30, height: 40 }, { frame: 3, x: 30, y: 20, width: 30, height: 40, attributes: { occluded: true } }, { frame: 5, outside: true }] },
        { id: 2, label: 'car', shape: 'polygon', keyframes: [{ frame: 4, vertices: [{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 0, y: 10 }] }] },
        { id: 3, label: 'car', shape: 'point', keyframes: [{ frame: 0, x: 5, y: 5 }] },
      ],
      events: [{ label: 'crash', start: 2, end: 3 }],
    }));
  });

  it('the kind lists its exports', async () => {
    const kinds = expectStatus(await srv.api('GET', '/v1/kinds'), 200).items;
    const k = kinds.find((x) => x.name === 'videoannotation');
    assert.deepEqual(k.exports.map((f) => f.name), ['ndjson', 'json', 'video', 'mot', 'coco_video']);
    assert.ok(k.imports.map((f) => f.name).includes('mot'));
  });

  it('video: every frame of every track, interpolated, with the frame attributes in force', async () => {
    const r = await srv.api('GET', `/v1/projects/${p.id}/export?format=video`, undefined, { raw: true });
    assert.equal(r.status, 200);
    const lines = r.buf.toString().trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 1);
    const v = lines[0];
    assert.equal(v.task_id, t1.id);
    assert.equal(v.frames, 6);
    assert.deepEqual(v.tracks[0].frames, [
      { frame: 1, x: 10, y: 20, width: 30, height: 40, keyframe: true },
      { frame: 2, x: 20, y: 20, width: 30, height: 40 },
      { frame: 3, x: 30, y: 20, width: 30, height: 40, keyframe: true, attributes: { occluded: true } },
      { frame: 4, x: 30, y: 20, width: 30, height: 40, attributes: { occluded: true } },
    ]);
    assert.deepEqual(v.tracks[1].frames.map((f) => f.frame), [4, 5]);
    assert.deepEqual(v.tracks[2].frames.map((f) => f.frame), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(v.events, [{ label: 'crash', start: 2, end: 3 }]);
  });

  it('mot: gt.txt per sequence, frames from 1, polygons as boxes, points left out', async () => {
    const files = Object.fromEntries(await download(srv, p.id, 'mot'));
    assert.equal(files['classes.txt'], '1,car\n2,person\n');
    assert.equal(
      files[`task_${t1.id}/gt/gt.txt`],
      ['2,7,10,20,30,40,1,2,1', '3,7,20,20,30,40,1,2,1', '4,7,30,20,30,40,1,2,1', '5,7,30,20,30,40,1,2,1', '5,2,0,0,10,10,1,1,1', '6,2,0,0,10,10,1,1,1'].join('\n') + '\n',
    );
    assert.match(files[`task_${t1.id}/seqinfo.ini`], /frameRate=25\nseqLength=6\nimWidth=640\nimHeight=480/);
    assert.match(files['README.txt'], /1 point track/);
  });

  it('coco_video: an image per frame, annotations with track_id', async () => {
    const r = await srv.api('GET', `/v1/projects/${p.id}/export?format=coco_video`, undefined, { raw: true });
    assert.equal(r.status, 200);
    const c = JSON.parse(r.buf.toString());
    assert.deepEqual(c.categories, [{ id: 1, name: 'car' }, { id: 2, name: 'person' }]);
    assert.equal(c.images.length, 6);
    assert.equal(c.images[2].file_name, `task_${t1.id}_frame_2`);
    assert.equal(c.annotations.length, 6);
    const a = c.annotations.find((x) => x.image_id === c.images[3].id && x.track_id === 7);
    assert.deepEqual(a.bbox, [30, 20, 30, 40]);
    assert.deepEqual(a.attributes, { occluded: true });
    const poly = c.annotations.find((x) => x.track_id === 2);
    assert.deepEqual(poly.segmentation, [[0, 0, 10, 0, 0, 10]]);
    assert.equal(poly.area, 50);
  });

  it('the wrong kind is a 400', async () => {
    const q = await makeProject(srv, { kind: 'categorization', params: { labels: ['a'] } });
    expectError(await srv.api('GET', `/v1/projects/${q.id}/export?format=mot`), 400, 'format');
  });
});

describe('import format=mot', () => {
  const importMot = (pid, body, query = '&as=results') =>
    srv.api('POST', `/v1/projects/${pid}/tasks?format=mot${query}`, body, { headers: { 'content-type': 'application/zip' } });

  it('makes a task per sequence, a track per id, keyframes reduced; a bad line is an invalid row naming it', async () => {
    const p = await makeProject(srv, { kind: 'videoannotation', params: { labels: ['pedestrian', 'car'] } });
    const frame = png(64, 48);
    // Sequence A: id 1 moves 2 px a frame over frames 1..5 (a line: two
    // keyframes), leaves, comes back at 8; id 2 (class 2: car) at frame 3,
    // partly left of the frame (clipped); an ignored row (conf 0).
    const gtA = ['1,1,10,10,20,20,1,1,1', '2,1,12,10,20,20,1,1,1', '3,1,14,10,20,20,1,1,1', '4,1,16,10,20,20,1,1,1', '5,1,18,10,20,20,1,1,1',
      '8,1,30,5,10,10,1,1,1', '3,2,-5,0,15,10,1,2,1', '4,3,1,1,5,5,0,1,1'].join('\n') + '\n';
    const files = {
      'classes.txt': '1,pedestrian\n2,car\n',
      'A/gt/gt.txt': gtA,
      'A/seqinfo.ini': '[Sequence]\nname=walk\nimDir=img1\nframeRate=25\nseqLength=10\nimWidth=64\nimHeight=48\nimExt=.png\n',
      'B/gt/gt.txt': '1,1,1,1,5,5,1,1,1\n2,1,x,1,5,5,1,1,1\n',
    };
    for (let i = 1; i <= 10; i++) files[`A/img1/${String(i).padStart(6, '0')}.png`] = frame;
    files['B/img1/000001.png'] = frame;
    const r = expectStatus(await importMot(p.id, makeZip(files)), 200);
    assert.equal(r.created, 1, JSON.stringify(r));
    assert.equal(r.invalid, 1);
    const bad = r.rows.find((x) => x.status === 'invalid');
    assert.equal(bad.source, 'B/gt/gt.txt:2');
    assert.deepEqual(bad.error, { field: 'line', message: 'is not a number' });
    const t = (await listAll(srv, `/v1/projects/${p.id}/tasks`)).items[0];
    assert.equal(t.unique_id, 'walk');
    assert.equal(t.attachments.length, 10);
    assert.deepEqual(t.data, { frames: 10, fps: 25, width: 64, height: 48 });
    assert.equal(t.status, 'completed');
    const tracks = t.result.response.tracks;
    assert.deepEqual(tracks.map((x) => [x.id, x.label]), [[1, 'pedestrian'], [2, 'car']]);
    assert.deepEqual(tracks[0].keyframes, [
      { frame: 0, x: 10, y: 10, width: 20, height: 20 },
      { frame: 4, x: 18, y: 10, width: 20, height: 20 },
      { frame: 5, outside: true },
      { frame: 7, x: 30, y: 5, width: 10, height: 10 },
      { frame: 8, outside: true },
    ]);
    assert.deepEqual(tracks[1].keyframes, [{ frame: 2, x: 0, y: 0, width: 10, height: 10 }, { frame: 3, outside: true }]);
  });

  it('reads back its own MOT export (round trip of the boxes)', async () => {
    const p = await makeProject(srv, { kind: 'videoannotation', params: { labels: ['car', 'person'] }, overlap: 1 });
    const task = expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id, attachments: [{ type: 'video', url: 'https://x/v.webm' }], data: { frames: 20, fps: 10, width: 200, height: 100 } }), 201);
    const w = await annotator(p);
    const answer = { tracks: [{ id: 4, label: 'person', shape: 'box', keyframes: [{ frame: 2, x: 10, y: 10, width: 20, height: 30 }, { frame: 12, x: 60, y: 20, width: 20, height: 30 }, { frame: 15, outside: true }] }] };
    await work(p, w, () => answer);
    const files = Object.fromEntries(await download(srv, p.id, 'mot'));
    // A video beside gt/ makes the frames.
    const zip = makeZip({ 'classes.txt': files['classes.txt'], [`task_${task.id}/gt/gt.txt`]: files[`task_${task.id}/gt/gt.txt`], [`task_${task.id}/seqinfo.ini`]: files[`task_${task.id}/seqinfo.ini`], [`task_${task.id}/clip.webm`]: Buffer.from('1a45dfa3', 'hex') });
    const q = await makeProject(srv, { kind: 'videoannotation', params: { labels: ['car', 'person'] } });
    const r = expectStatus(await importMot(q.id, zip), 200);
    assert.equal(r.created, 1, JSON.stringify(r));
    const back = (await listAll(srv, `/v1/projects/${q.id}/tasks`)).items[0];
    assert.equal(back.attachments[0].type, 'video');
    assert.deepEqual(back.result.response.tracks, [{ id: 4, label: 'person', shape: 'box', keyframes: answer.tracks[0].keyframes }]);
  });

  it('another kind refuses the format', async () => {
    const p = await makeProject(srv, { kind: 'imageannotation', params: { labels: ['car'] } });
    expectError(await importMot(p.id, makeZip({ 'gt/gt.txt': '1,1,1,1,5,5\n' })), 422, 'format');
  });
});
