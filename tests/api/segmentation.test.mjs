// segmentation.test.mjs -- the segmentation kind over HTTP: a project and
// its params' errors, a task on an uploaded PNG, masks submitted and
// refused with the field named (an unknown label, overlapping layers, the
// wrong size, counts that do not add up), gold scoring by mean IoU, three
// workers' masks consolidated by a per-pixel vote, the COCO export (RLE,
// area, bbox, categories), the index-mask export (palette PNGs decoded
// here with zlib) and the COCO import of RLE masks and polygons;
// the counts the server writes are the ones web/ui/rle.js writes.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, it, expectError, expectStatus, makeMember, tempDir } from './harness.mjs';
import { png, upload } from '../browser/media.mjs';
import zlib from 'node:zlib';
import { makeZip, unzip } from './zip.mjs';
import { decodeCounts, encodeCounts, paintCounts, labelMapCounts } from '../../web/ui/rle.js';

let srv;
before(async () => {
  srv = await startServer();
});
after(async () => {
  await srv?.stop();
});

const W = 40;
const H = 30;
const LABELS = ['road', 'car'];

/* A label map (row-major, 0 background) from a painter (x, y) -> value. */
function mapOf(paint) {
  const m = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) m[y * W + x] = paint(x, y);
  return m;
}

/* The response of a label map, encoded in JS as the editor does. */
function responseOf(map, labels = LABELS) {
  const counts = labelMapCounts(map, W, H, labels.length);
  return { masks: labels.flatMap((l, i) => (counts[i] ? [{ label: l, rle: { size: [H, W], counts: encodeCounts(counts[i]) } }] : [])) };
}

/* A response's masks back as a label map. */
function decode(response, labels = LABELS) {
  const m = new Uint8Array(W * H);
  for (const mask of response.masks) paintCounts(m, W, H, typeof mask.rle.counts === 'string' ? decodeCounts(mask.rle.counts) : mask.rle.counts, labels.indexOf(mask.label) + 1);
  return m;
}

/* The files of a zip as [name, Buffer] (python3's zipfile, which checks
 * each CRC). */
function unzipBinary(buf) {
  const file = path.join(tempDir('loupe-zip-'), 'masks.zip');
  fs.writeFileSync(file, buf);
  const py = 'import base64,json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\n' +
    'print(json.dumps([[i.filename, base64.b64encode(z.read(i)).decode()] for i in z.infolist()]))';
  return JSON.parse(execFileSync('python3', ['-c', py, file], { encoding: 'utf8' })).map(([n, b]) => [n, Buffer.from(b, 'base64')]);
}

const road = (x, y) => (y >= 20 ? 1 : 0);
const car = (x0) => (x, y) => (y >= 20 ? 1 : x >= x0 && x < x0 + 10 && y >= 10 && y < 18 ? 2 : 0);

async function project(extra = {}) {
  return expectStatus(await srv.api('POST', '/v1/projects', { name: `seg-${Math.random().toString(36).slice(2, 8)}`, kind: 'segmentation', params: { labels: LABELS }, ...extra }), 201);
}

async function annotator(p, email) {
  const m = await makeMember(srv, email);
  expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${m.id}`, { role: 'annotator' }), 200);
  return m;
}

const next = async (p, who) => expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: who.key }), 200).assignment;
const submit = (a, who, response) => srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `seg-${a.id}`, response }, { key: who.key });

/* An 8-bit palette PNG's size, palette and pixel values (rows unfiltered,
 * as export_masks.c writes them). */
function readPng(buf) {
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'not a PNG');
  let at = 8;
  let w = 0;
  let h = 0;
  let plte = null;
  const idat = [];
  while (at < buf.length) {
    const len = buf.readUInt32BE(at);
    const type = buf.toString('ascii', at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      w = data.readUInt32BE(0);
      h = data.readUInt32BE(4);
      assert.equal(data[8], 8, 'bit depth');
      assert.equal(data[9], 3, 'colour type: palette');
    } else if (type === 'PLTE') plte = data;
    else if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const px = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    assert.equal(raw[y * (w + 1)], 0, `row ${y} is filtered`);
    px.set(raw.subarray(y * (w + 1) + 1, (y + 1) * (w + 1)), y * w);
  }
  return { w, h, plte, px };
}

describe('segmentation projects', () => {
  it('params are checked and normalised; a task needs an image', async () => {
    expectError(await srv.api('POST', '/v1/projects', { name: 'bad', kind: 'segmentation', params: { labels: [{ name: 'x', color: 'red' }] } }), 422, 'params.labels[0].color');
    expectError(await srv.api('POST', '/v1/projects', { name: 'bad', kind: 'segmentation', params: { labels: ['x'], opacity: 2 } }), 422, 'params.opacity');
    const p = await project();
    assert.deepEqual(p.params, { labels: [{ name: 'road' }, { name: 'car' }], opacity: 0.5 });
    expectError(await srv.api('POST', '/v1/tasks', { project_id: p.id, data: { width: W, height: H } }), 422, 'attachments');
  });

  it('masks are submitted from an uploaded image; bad ones are refused naming the field', async () => {
    const p = await project();
    const sha = (await upload(srv, png(W, H), 'image/png', 'street.png')).sha256;
    const t = expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id, attachments: [{ type: 'image', file: sha }], data: { width: W, height: H } }), 201);
    const who = await annotator(p, 'seg-sub@test.io');
    const a = await next(p, who);
    assert.equal(a.task_id, t.id);
    const good = responseOf(mapOf(car(5)));
    const bad = [
      [{ masks: [{ label: 'tree', rle: good.masks[0].rle }] }, 'response.masks[0].label'],
      [{ masks: [good.masks[0], { label: 'car', rle: { size: [H, W], counts: [0, W * H] } }] }, 'response.masks[1].rle.counts'],
      [{ masks: [{ label: 'road', rle: { size: [W, H], counts: [W * H] } }] }, 'response.masks[0].rle.size'],
      [{ masks: [{ label: 'road', rle: { size: [H, W], counts: [W * H - 1] } }] }, 'response.masks[0].rle.counts'],
      [{ masks: [{ label: 'road', rle: { size: [H, W], counts: 'X' } }] }, 'response.masks[0].rle.counts'],
      [{ masks: [good.masks[0], good.masks[0]] }, 'response.masks[1].label'],
    ];
    for (const [response, field] of bad) {
      const e = expectError(await submit(a, who, response), 422, field);
      assert.ok(e.message.length > 10, e.message);
    }
    const r = expectStatus(await submit(a, who, good), 201);
    assert.equal(r.status ?? 'accepted', 'accepted');
    const [item] = expectStatus(await srv.api('GET', `/v1/tasks/${t.id}/annotations`), 200).items;
    assert.deepEqual(item.response, good);
    // overlap 1: the result is the answer, re-encoded by the server in C -- the same bytes
    const task = expectStatus(await srv.api('GET', `/v1/tasks/${t.id}`), 200);
    assert.deepEqual(task.result.response, good, 'the C encoding differs from the JS one');
    // a list of counts is accepted too, and consolidated into the string form
    const p2 = await project();
    const t2 = expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p2.id, attachments: [{ type: 'image', file: sha }], data: { width: W, height: H } }), 201);
    const who2 = await annotator(p2, 'seg-sub2@test.io');
    const listForm = { masks: good.masks.map((m) => ({ label: m.label, rle: { size: m.rle.size, counts: decodeCounts(m.rle.counts) } })) };
    expectStatus(await submit(await next(p2, who2), who2, listForm), 201);
    assert.deepEqual(expectStatus(await srv.api('GET', `/v1/tasks/${t2.id}`), 200).result.response, good);
  });

  it('a gold task scores each answer by mean IoU per label', async () => {
    const p = await project({ overlap: 1, gold_rate: 1 });
    const gold = responseOf(mapOf(car(5)));
    expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id, unique_id: 'g', attachments: [{ type: 'image', url: 'https://x.example/1.png' }], data: { width: W, height: H }, expected_response: gold }), 201);
    expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id, unique_id: 'r', attachments: [{ type: 'image', url: 'https://x.example/2.png' }], data: { width: W, height: H } }), 201);
    const who = await annotator(p, 'seg-gold@test.io');
    // the car 5 pixels off: road IoU 1, car IoU 5*8 / 15*8 = 1/3; mean 2/3
    for (let a; (a = await next(p, who)); ) expectStatus(await submit(a, who, responseOf(mapOf(car(10)))), 201);
    const row = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/workers`), 200).items.find((w) => w.user_id === who.id);
    assert.equal(row.gold_answered, 1);
    assert.ok(Math.abs(row.gold_accuracy - 2 / 3) < 1e-9, `gold accuracy ${row.gold_accuracy}, expected 2/3`);
  });

  it('three workers consolidate by a per-pixel vote', async () => {
    const p = await project({ overlap: 3 });
    const t = expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id, attachments: [{ type: 'image', url: 'https://x.example/2.png' }], data: { width: W, height: H } }), 201);
    // cars at x 5..14, 7..16 and 20..29: pixels in two of three are 7..14
    const maps = [mapOf(car(5)), mapOf(car(7)), mapOf(car(20))];
    for (const [i, m] of maps.entries()) {
      const who = await annotator(p, `seg-vote-${i}@test.io`);
      expectStatus(await submit(await next(p, who), who, responseOf(m)), 201);
    }
    const task = expectStatus(await srv.api('GET', `/v1/tasks/${t.id}`), 200);
    assert.equal(task.status, 'completed');
    const got = decode(task.result.response);
    const want = mapOf((x, y) => (y >= 20 ? 1 : x >= 7 && x < 15 && y >= 10 && y < 18 ? 2 : 0));
    assert.deepEqual([...got], [...want], 'the vote is not the pixels two of three workers labelled');
    assert.deepEqual(task.result.response, responseOf(want), 'the server encoding differs from the JS one');
    assert.ok(task.result.confidence > 0.5 && task.result.confidence < 1, `confidence ${task.result.confidence}`);
  });

  it('exports COCO RLE masks and imports COCO RLE and polygons', async () => {
    const p = await project({ overlap: 1 });
    const sha = (await upload(srv, png(W, H), 'image/png', 'street.png')).sha256;
    const t = expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id, attachments: [{ type: 'image', file: sha, name: 'street.png' }], data: { width: W, height: H } }), 201);
    const who = await annotator(p, 'seg-export@test.io');
    const answer = responseOf(mapOf(car(5)));
    expectStatus(await submit(await next(p, who), who, answer), 201);
    const r = await srv.api('GET', `/v1/projects/${p.id}/export?format=coco`);
    expectStatus(r, 200);
    const doc = JSON.parse(r.text);
    assert.deepEqual(doc.images, [{ id: t.id, file_name: 'street.png', width: W, height: H }]);
    assert.deepEqual(doc.categories.map((c) => [c.id, c.name]), [[1, 'road'], [2, 'car']]);
    assert.deepEqual(
      doc.annotations.map((a) => ({ ...a, segmentation: undefined })),
      [
        { id: 1, image_id: t.id, category_id: 1, area: W * 10, bbox: [0, 20, W, 10], iscrowd: 0, segmentation: undefined },
        { id: 2, image_id: t.id, category_id: 2, area: 80, bbox: [5, 10, 10, 8], iscrowd: 0, segmentation: undefined },
      ],
    );
    assert.deepEqual(doc.annotations.map((a) => a.segmentation), answer.masks.map((m) => m.rle));

    // Index masks: one palette PNG whose values are the label map, and labels.txt.
    const zr = await srv.api('GET', `/v1/projects/${p.id}/export?format=masks`, undefined, { raw: true });
    assert.equal(zr.status, 200, zr.buf.toString());
    assert.equal(zr.headers.get('content-type'), 'application/zip');
    const files = Object.fromEntries(unzipBinary(zr.buf));
    assert.deepEqual(Object.keys(files).sort(), ['README.txt', 'labels.txt', 'masks/street.png']);
    assert.equal(files['labels.txt'].toString(), '_background_\nroad\ncar\n');
    const pngMask = readPng(files['masks/street.png']);
    assert.equal(pngMask.w, W);
    assert.equal(pngMask.h, H);
    assert.deepEqual([...pngMask.px], [...mapOf(car(5))], 'the PNG values are not the label map');
    assert.deepEqual([...pngMask.plte.subarray(0, 3)], [0, 0, 0], 'background is not black');
    assert.match(files['README.txt'].toString(), /segmentation export, format masks: 1 image, 2 objects/);

    // ... and imported back (format=masks) beside its image: the same masks.
    const mp = await project();
    const mzip = makeZip({ 'labels.txt': files['labels.txt'], 'masks/street.png': files['masks/street.png'], 'images/street.png': png(W, H), 'images/other.png': png(W, H) });
    const mi = expectStatus(await srv.api('POST', `/v1/projects/${mp.id}/tasks?format=masks&as=results`, mzip, { headers: { 'content-type': 'application/zip' } }), 200);
    assert.equal(mi.created, 2, JSON.stringify(mi));
    const mtasks = expectStatus(await srv.api('GET', `/v1/tasks?project_id=${mp.id}`), 200).items;
    const street = mtasks.find((x) => x.unique_id === 'street.png');
    assert.deepEqual(street.result.response, answer, 'the imported masks differ from the exported ones');
    assert.deepEqual(street.data, { width: W, height: H });
    assert.equal(mtasks.find((x) => x.unique_id === 'other.png').status, 'pending', 'an image without a mask is a task to label');
    // labels.txt naming a label the project lacks: the import is refused, naming the file.
    const bad = makeZip({ 'labels.txt': '_background_\ntree\n', 'masks/street.png': files['masks/street.png'], 'street.png': png(W, H) });
    expectError(await srv.api('POST', `/v1/projects/${mp.id}/tasks?format=masks`, bad, { headers: { 'content-type': 'application/zip' } }), 400, 'labels.txt');
    // A value labels.txt does not name (car is 2; only road is named): the mask is a bad item.
    const short = makeZip({ 'labels.txt': '_background_\nroad\n', 'masks/a.png': files['masks/street.png'], 'a.png': png(W, H) });
    const sr = expectStatus(await srv.api('POST', `/v1/projects/${mp.id}/tasks?format=masks`, short, { headers: { 'content-type': 'application/zip' } }), 200);
    assert.equal(sr.invalid, 1, JSON.stringify(sr));
    assert.match(JSON.stringify(sr), /value 2, which labels.txt does not name/);

    // Import it back as results into a new project: the same masks.
    const q = await project();
    const zip = makeZip({ 'annotations.json': r.text, 'street.png': png(W, H) });
    const imp = expectStatus(await srv.api('POST', `/v1/projects/${q.id}/tasks?format=coco&as=results`, zip, { headers: { 'content-type': 'application/zip' } }), 200);
    assert.equal(imp.created, 1, JSON.stringify(imp));
    const [back] = expectStatus(await srv.api('GET', `/v1/tasks?project_id=${q.id}`), 200).items;
    assert.deepEqual(back.result.response, answer);

    // Polygons (a car square), uncompressed RLE (the road) and a later annotation painting over it.
    const roadCounts = labelMapCounts(mapOf(road), W, H, 1)[0];
    const coco = {
      images: [{ id: 7, file_name: 'street.png', width: W, height: H }],
      categories: [{ id: 1, name: 'road' }, { id: 2, name: 'car' }],
      annotations: [
        { id: 1, image_id: 7, category_id: 1, segmentation: { size: [H, W], counts: roadCounts }, iscrowd: 1 },
        { id: 2, image_id: 7, category_id: 2, segmentation: [[5, 10, 15, 10, 15, 18, 5, 18]], iscrowd: 0 },
        { id: 3, image_id: 7, category_id: 2, segmentation: [[0, 25, 4, 25, 4, 30, 0, 30]], iscrowd: 0 },
      ],
    };
    const z = await project();
    const imp2 = expectStatus(await srv.api('POST', `/v1/projects/${z.id}/tasks?format=coco`, makeZip({ 'a.json': JSON.stringify(coco), 'street.png': png(W, H) }), { headers: { 'content-type': 'application/zip' } }), 200);
    assert.equal(imp2.created, 1, JSON.stringify(imp2));
    const [pre] = expectStatus(await srv.api('GET', `/v1/tasks?project_id=${z.id}`), 200).items;
    const m = decode(pre.predictions[0].response);
    const want = mapOf((x, y) => (x < 4 && y >= 25 ? 2 : y >= 20 ? 1 : x >= 5 && x < 15 && y >= 10 && y < 18 ? 2 : 0));
    assert.deepEqual([...m], [...want], 'the imported masks are not the painted polygons over the RLE road');

    // A category the project does not have: the image is a bad item naming it.
    coco.categories.push({ id: 3, name: 'tree' });
    coco.annotations.push({ id: 4, image_id: 7, category_id: 3, bbox: [1, 1, 2, 2] });
    coco.images[0].file_name = 'other.png';
    const imp3 = expectStatus(await srv.api('POST', `/v1/projects/${z.id}/tasks?format=coco`, makeZip({ 'a.json': JSON.stringify(coco), 'other.png': png(W, H) }), { headers: { 'content-type': 'application/zip' } }), 200);
    assert.equal(imp3.created, 0, JSON.stringify(imp3));
    assert.equal(imp3.invalid, 1);
    assert.match(JSON.stringify(imp3.errors ?? imp3), /tree/);
  });
});
