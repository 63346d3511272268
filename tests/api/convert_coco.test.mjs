// convert_coco.test.mjs -- POST /v1/projects/{id}/tasks?format=coco and
// `loupe import --format coco`: a COCO file (alone, or in a zip or a
// folder with its images) read into imageannotation tasks.  Boxes at the
// border, polygons, keypoints, a crowd RLE mask (list and compressed
// counts) outlined, images of different sizes, an image with nothing on
// it, non-ASCII labels; labels as predictions or as results; bad
// annotations reported by their place while the other images import; a
// file that is not COCO refused whole; and the round trip: import as
// results, export COCO, the same images, categories and shapes.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, it, runCli, tempDir, expectError, expectStatus, makeProject, listAll, assertNoSanitizerReport } from './harness.mjs';
import { makeZip } from './zip.mjs';
import { png } from '../browser/media.mjs';

let srv;
before(async () => {
  srv = await startServer();
});
after(async () => {
  await srv?.stop();
});

const LABELS = ['person', 'car', 'piéton', 'nose', 'left_eye'];

/* COCO's compressed counts (pycocotools' rleToString), written here from
 * the format's definition to feed the server a string form. */
function rleString(counts) {
  let s = '';
  counts.forEach((c, i) => {
    let x = i > 2 ? c - counts[i - 2] : c;
    for (let more = true; more;) {
      let ch = x & 0x1f;
      x >>= 5;
      more = ch & 0x10 ? x !== -1 : x !== 0;
      if (more) ch |= 0x20;
      s += String.fromCharCode(ch + 48);
    }
  });
  return s;
}

// A 2 x 2 square at x 10..11, y 5..6 of a 100 x 50 mask, column-major.
const SQUARE = [10 * 50 + 5, 2, 48, 2, 43 + 88 * 50];

function cocoDoc() {
  return {
    info: { description: 'test' },
    images: [
      { id: 7, file_name: 'street.jpg', width: 640, height: 480, coco_url: 'https://img.example.com/street.jpg' },
      { id: 8, file_name: 'crowd.png', width: 100, height: 50 },
      { id: 9, file_name: 'empty.jpg', width: 1920, height: 1080, coco_url: 'https://img.example.com/empty.jpg' },
    ],
    categories: [
      { id: 1, name: 'person', keypoints: ['nose', 'left_eye', 'right_eye'], skeleton: [] },
      { id: 2, name: 'car' },
      { id: 3, name: 'piéton' },
    ],
    annotations: [
      // a box touching the right and bottom border
      { id: 1, image_id: 7, category_id: 2, bbox: [600, 440, 40, 40], area: 1600, iscrowd: 0, segmentation: [] },
      // a non-convex polygon
      { id: 2, image_id: 7, category_id: 3, bbox: [0, 0, 4, 3], area: 6, iscrowd: 0, segmentation: [[0, 0, 4, 0, 4, 1, 1, 1, 1, 3, 0, 3]] },
      // keypoints: the nose labelled, the left eye labelled but hidden, the right eye not labelled
      { id: 3, image_id: 7, category_id: 1, bbox: [100, 100, 0, 0], area: 0, iscrowd: 0, segmentation: [], num_keypoints: 2, keypoints: [120, 130, 2, 125, 128, 1, 0, 0, 0] },
      // a crowd RLE with list counts, and the same square as a string
      { id: 4, image_id: 8, category_id: 1, bbox: [10, 5, 2, 2], area: 4, iscrowd: 1, segmentation: { size: [50, 100], counts: SQUARE } },
      { id: 5, image_id: 8, category_id: 2, bbox: [10, 5, 2, 2], area: 4, iscrowd: 1, segmentation: { size: [50, 100], counts: rleString(SQUARE) } },
    ],
  };
}

async function tasksOf(pid) {
  return (await listAll(srv, `/v1/projects/${pid}/tasks`)).items.sort((a, b) => a.id - b.id);
}

describe('import format=coco', () => {
  it('reads boxes, polygons, keypoints and RLE masks as predictions, images from coco_url or the zip', async () => {
    const p = await makeProject(srv, { kind: 'imageannotation', params: { labels: LABELS } });
    const zip = makeZip({ 'annotations/instances.json': JSON.stringify(cocoDoc()), 'images/crowd.png': png(100, 50) });
    const r = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks?format=coco`, zip, { headers: { 'content-type': 'application/zip' } }), 200);
    assert.equal(r.created, 3, JSON.stringify(r));
    assert.equal(r.invalid, 0);
    assert.equal(r.media_stored, 1);
    const ts = await tasksOf(p.id);
    assert.deepEqual(ts.map((t) => t.unique_id), ['street.jpg', 'crowd.png', 'empty.jpg']);
    assert.deepEqual(ts.map((t) => t.status), ['pending', 'pending', 'pending']);
    const [street, crowd, empty] = ts;
    assert.deepEqual(street.attachments, [{ type: 'image', url: 'https://img.example.com/street.jpg', name: 'street.jpg' }]);
    assert.deepEqual(street.data, { width: 640, height: 480 });
    assert.equal(crowd.attachments[0].name, 'crowd.png');
    assert.match(crowd.attachments[0].file, /^[0-9a-f]{64}$/);
    assert.equal(street.predictions.length, 1);
    assert.equal(street.predictions[0].model, 'import:coco');
    assert.deepEqual(street.predictions[0].response.annotations, [
      { type: 'box', label: 'car', x: 600, y: 440, width: 40, height: 40 },
      { type: 'polygon', label: 'piéton', vertices: [[0, 0], [4, 0], [4, 1], [1, 1], [1, 3], [0, 3]].map(([x, y]) => ({ x, y })) },
      { type: 'point', label: 'nose', x: 120, y: 130 },
      { type: 'point', label: 'left_eye', x: 125, y: 128 },
    ]);
    const square = [[10, 5], [12, 5], [12, 7], [10, 7]].map(([x, y]) => ({ x, y }));
    assert.deepEqual(crowd.predictions[0].response.annotations, [
      { type: 'polygon', label: 'person', vertices: square },
      { type: 'polygon', label: 'car', vertices: square },
    ]);
    assert.deepEqual(empty.predictions[0].response.annotations, []);
    // the same file again, sent as curl --data-binary sends it (a zip known by its first
    // bytes): duplicates, nothing new
    const again = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks?format=coco&model=detector-v2`, zip, { headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 200);
    assert.equal(again.duplicates, 3);
    assert.equal(again.created, 0);
  });

  it('round trip: imported as results, exported as COCO, the same images, categories and shapes', async () => {
    const p = await makeProject(srv, { kind: 'imageannotation', params: { labels: LABELS } });
    const doc = cocoDoc();
    doc.annotations = doc.annotations.filter((a) => a.id <= 2); // shapes Loupe's export writes back as such
    doc.annotations.push({ id: 6, image_id: 9, category_id: 2, bbox: [0, 0, 1920, 1080], area: 1920 * 1080, iscrowd: 0, segmentation: [] });
    const r = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks?format=coco&as=results&image_base=https://cdn.example.com/set/`, doc), 200);
    assert.equal(r.created, 3, JSON.stringify(r));
    const ts = await tasksOf(p.id);
    assert.deepEqual(ts.map((t) => t.status), ['completed', 'completed', 'completed']);
    assert.equal(ts[0].result.method, 'import');
    const proj = expectStatus(await srv.api('GET', `/v1/projects/${p.id}`), 200);
    assert.equal(proj.counts.completed, 3);
    assert.equal(proj.counts.pending, 0);
    assert.equal(proj.counts.total, 3);
    assert.equal(ts[1].attachments[0].url, 'https://cdn.example.com/set/crowd.png');
    const v = expectStatus(await srv.api('GET', `/v1/tasks/${ts[0].id}/versions`), 200);
    assert.equal(v.items?.[0]?.source ?? v[0]?.source, 'import');

    const out = await srv.api('GET', `/v1/projects/${p.id}/export?format=coco`);
    expectStatus(out, 200);
    const back = JSON.parse(out.text);
    const norm = (d) => {
      const name = Object.fromEntries(d.categories.map((c) => [c.id, c.name]));
      const file = Object.fromEntries(d.images.map((i) => [i.id, i.file_name]));
      return {
        images: d.images.map((i) => [i.file_name, i.width, i.height]).sort(),
        annotations: d.annotations.map((a) => JSON.stringify([file[a.image_id], name[a.category_id], a.bbox, a.segmentation, a.area])).sort(),
      };
    };
    assert.deepEqual(norm(back), norm(doc));
  });

  it('bad annotations are reported by their place; their image is left out, the others import', async () => {
    const p = await makeProject(srv, { kind: 'imageannotation', params: { labels: LABELS } });
    const doc = cocoDoc();
    doc.images[1].coco_url = 'https://img.example.com/crowd.png';
    doc.annotations.push({ id: 10, image_id: 99, category_id: 2, bbox: [0, 0, 1, 1] });
    doc.annotations.push({ id: 11, image_id: 9, category_id: 42, bbox: [0, 0, 1, 1] });
    doc.annotations.push({ id: 12, image_id: 8, category_id: 2, bbox: [0, 0, 1, 1], segmentation: [[0, 0, 1]] });
    doc.annotations.push({ id: 13, image_id: 7, category_id: 2, bbox: [630, 0, 20, 10], segmentation: [] }); // past the edge
    const r = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks?format=coco`, doc), 200);
    assert.equal(r.created, 0, JSON.stringify(r));
    const bad = r.rows.filter((x) => x.status === 'invalid');
    assert.equal(bad.length, 4, JSON.stringify(r.rows));
    const by = Object.fromEntries(bad.map((x) => [x.source, x.error]));
    assert.match(by['body: images[0] street.jpg'].field, /^result|predictions\[0\]\.response\.annotations\[4\]/);
    assert.match(by['body: images[0] street.jpg'].message, /640/);
    assert.match(by['body: images[1] crowd.png'].message, /annotations\[7\].*polygon/);
    assert.match(by['body: images[2] empty.jpg'].message, /annotations\[6\] names no category/);
    assert.equal(by['body: annotations[5]'].field, 'image_id');
  });

  it('an image with no picture found, a file that is not COCO, the wrong kind', async () => {
    const p = await makeProject(srv, { kind: 'imageannotation', params: { labels: LABELS } });
    const doc = cocoDoc();
    delete doc.images[0].coco_url;
    const r = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks?format=coco`, doc), 200);
    assert.equal(r.created, 1); // empty.jpg has its coco_url; crowd.png and street.jpg have nothing
    const miss = r.rows.filter((x) => x.status === 'invalid');
    assert.deepEqual(miss.map((x) => x.error.field), ['file_name', 'file_name']);
    assert.match(miss[0].error.message, /image_base/);
    expectError(await srv.api('POST', `/v1/projects/${p.id}/tasks?format=coco`, '{"images": [', { headers: { 'content-type': 'application/json' } }), 400, 'body');
    expectError(await srv.api('POST', `/v1/projects/${p.id}/tasks?format=coco`, { annotations: [] }), 400, 'body');
    expectError(await srv.api('POST', `/v1/projects/${p.id}/tasks?format=coco&as=everything`, doc), 400, 'as');
    expectError(await srv.api('POST', `/v1/projects/${p.id}/tasks?format=kitti`, doc), 400, 'format');
    const q = await makeProject(srv, { kind: 'categorization', params: { labels: ['a', 'b'] } });
    expectError(await srv.api('POST', `/v1/projects/${q.id}/tasks?format=coco`, doc), 422, 'format');
    expectError(await srv.api('POST', `/v1/projects/${p.id}/tasks?format=coco`, Buffer.from('PK\x03\x04broken'), { headers: { 'content-type': 'application/zip' } }), 400, 'body');
  });
});

describe('loupe import --format coco', () => {
  it('a folder with the COCO file and its images; bad rows printed with their place', async () => {
    const p = await makeProject(srv, { kind: 'imageannotation', params: { labels: LABELS } });
    const dir = path.join(tempDir('loupe-coco-'), 'dataset');
    fs.mkdirSync(path.join(dir, 'images'), { recursive: true });
    const doc = cocoDoc();
    doc.annotations.push({ id: 20, image_id: 77, category_id: 2, bbox: [0, 0, 1, 1] });
    fs.writeFileSync(path.join(dir, 'instances.json'), JSON.stringify(doc));
    fs.writeFileSync(path.join(dir, 'images', 'crowd.png'), png(100, 50));
    fs.writeFileSync(path.join(dir, 'notes.bin'), 'x');
    const r = runCli(['import', p.id, dir, '--format', 'coco', '--as', 'results', '--data-dir', srv.dir]);
    assertNoSanitizerReport(r.stderr, 'loupe import');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /3 created, 0 duplicates, 1 invalid, 1 media file stored, 1 file neither text nor media left out/);
    assert.match(r.stderr, /instances\.json: annotations\[5\]: image_id: 77 names no image/);
    const ts = await tasksOf(p.id);
    assert.equal(ts.length, 3);
    assert.ok(ts.every((t) => t.status === 'completed'));
    const bad = runCli(['import', p.id, dir, '--format', 'coco', '--as', 'final', '--data-dir', srv.dir]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--as must be predictions or results/);
  });
});
