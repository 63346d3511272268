// export_coco.test.mjs -- GET /v1/projects/{id}/export?format=coco: an
// imageannotation project's results as one COCO "instances" JSON file,
// parsed whole and checked field by field against cocodataset.org's data
// format: images of different sizes (and one without a size), boxes at the
// border, a non-convex polygon (area by the shoelace formula), points as
// keypoints, lines left out, an image with no shapes still listed, a task
// without a result left out, non-ASCII labels; a project large enough that
// the annotations go out in several parts; the wrong kind is a 400.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, it, expectError, expectStatus, makeProject, tempDir } from './harness.mjs';
import { answerAll } from './zip.mjs';

let srv;

before(async () => {
  srv = await startServer();
});
after(async () => {
  await srv?.stop();
});

const LABELS = ['car', 'piéton', '行人'];

/* The parsed COCO file of project pid; checks the download's headers. */
async function coco(pid, query = '') {
  const r = await srv.api('GET', `/v1/projects/${pid}/export?format=coco${query}`);
  expectStatus(r, 200);
  assert.equal(r.headers.get('content-type'), 'application/json');
  assert.equal(r.headers.get('content-disposition'), `attachment; filename="project-${pid}-tasks.json"`);
  assert.ok(r.text.endsWith('}\n'), `the file does not end with }\\n: ${JSON.stringify(r.text.slice(-40))}`);
  let doc;
  try {
    doc = JSON.parse(r.text);
  } catch (e) {
    assert.fail(`the COCO file is not JSON (${e.message}): ${r.text.slice(0, 300)}`);
  }
  assert.deepEqual(Object.keys(doc).sort(), ['annotations', 'categories', 'images', 'info', 'licenses']);
  return doc;
}

describe('export format=coco', () => {
  let p, ids, sha;
  const box = (label, x, y, width, height) => ({ type: 'box', label, x, y, width, height });
  const V = (...xy) => xy.map(([x, y]) => ({ x, y }));
  // A non-convex L: its hull is 12, its area 4 + 2 = 6.
  const L = V([0, 0], [4, 0], [4, 1], [1, 1], [1, 3], [0, 3]);

  before(async () => {
    p = await makeProject(srv, { kind: 'imageannotation', params: { labels: LABELS } });
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    sha = expectStatus(await srv.api('POST', '/v1/files', png, { headers: { 'content-type': 'image/png' } }), 201).sha256;
    const rows = [
      { unique_id: 'street', attachments: [{ type: 'image', url: 'https://img.example.com/cam7/000123.jpg?sig=a%2Fb#top' }], data: { width: 640, height: 480 } },
      { unique_id: 'empty', attachments: [{ type: 'image', file: sha }], data: { width: 1920, height: 1080 } },
      { unique_id: 'nosize', attachments: [{ type: 'image', url: `/v1/files/${sha}` }] },
      { unique_id: 'pending', attachments: [{ type: 'image', url: 'https://img.example.com/never.jpg' }], data: { width: 10, height: 10 }, priority: -1 },
    ];
    const r = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, rows), 200);
    assert.equal(r.created, rows.length, JSON.stringify(r));
    ids = Object.fromEntries(rows.map((row, i) => [row.unique_id, r.rows[i].id]));
    await answerAll(srv, p, 'coco1@test.io', {
      [ids.street]: {
        annotations: [
          box('car', 0, 0, 100, 50), // top-left corner
          box('car', 540, 430, 100, 50), // bottom-right corner: x + width = 640
          { type: 'polygon', label: 'piéton', vertices: L },
          { type: 'line', label: 'car', vertices: V([1, 1], [5, 5]) },
          { type: 'point', label: 'piéton', x: 10.5, y: 20.25 },
          box('行人', 0.1, 0.2, 0.3, 0.4),
        ],
      },
      [ids.empty]: { annotations: [] },
      [ids.nosize]: { annotations: [box('行人', 5, 6, 7, 8)] },
    });
  });

  it('is one COCO object, checked field by field', async () => {
    const doc = await coco(p.id);
    // images: each task with a result, in id order; the pending one is not there.
    assert.deepEqual(doc.images, [
      { id: ids.street, file_name: '000123.jpg', width: 640, height: 480, coco_url: 'https://img.example.com/cam7/000123.jpg?sig=a%2Fb#top' },
      { id: ids.empty, file_name: sha, width: 1920, height: 1080 },
      { id: ids.nosize, file_name: sha, width: 0, height: 0 },
    ]);
    // categories: params.labels in order, ids from 1; piéton has a point.
    assert.deepEqual(doc.categories, [
      { id: 1, name: 'car', supercategory: '' },
      { id: 2, name: 'piéton', supercategory: '', keypoints: ['piéton'], skeleton: [] },
      { id: 3, name: '行人', supercategory: '' },
    ]);
    const s = ids.street;
    assert.deepEqual(doc.annotations, [
      { id: 1, image_id: s, category_id: 1, segmentation: [], area: 5000, bbox: [0, 0, 100, 50], iscrowd: 0 },
      { id: 2, image_id: s, category_id: 1, segmentation: [], area: 5000, bbox: [540, 430, 100, 50], iscrowd: 0 },
      {
        id: 3,
        image_id: s,
        category_id: 2,
        segmentation: [[0, 0, 4, 0, 4, 1, 1, 1, 1, 3, 0, 3]],
        area: 6,
        bbox: [0, 0, 4, 3],
        iscrowd: 0,
        keypoints: [0, 0, 0],
        num_keypoints: 0,
      },
      { id: 4, image_id: s, category_id: 2, segmentation: [], keypoints: [10.5, 20.25, 2], num_keypoints: 1, area: 0, bbox: [10.5, 20.25, 0, 0], iscrowd: 0 },
      { id: 5, image_id: s, category_id: 3, segmentation: [], area: 0.3 * 0.4, bbox: [0.1, 0.2, 0.3, 0.4], iscrowd: 0 },
      { id: 6, image_id: ids.nosize, category_id: 3, segmentation: [], area: 56, bbox: [5, 6, 7, 8], iscrowd: 0 },
    ]);
    // Every annotation points at a listed image and category.
    const images = new Set(doc.images.map((i) => i.id));
    const cats = new Set(doc.categories.map((c) => c.id));
    for (const a of doc.annotations) {
      assert.ok(images.has(a.image_id), `annotation ${a.id}: no image ${a.image_id}`);
      assert.ok(cats.has(a.category_id), `annotation ${a.id}: no category ${a.category_id}`);
    }
    // info: COCO's six fields; what was left out is said.
    assert.deepEqual(Object.keys(doc.info), ['year', 'version', 'description', 'contributor', 'url', 'date_created']);
    assert.equal(doc.info.year, new Date().getUTCFullYear());
    assert.match(doc.info.date_created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(
      doc.info.description,
      'Loupe imageannotation export: 3 images, 6 annotations. Left out: 1 task without a result; 1 line (COCO has no lines). 1 image without data.width and data.height: width and height 0',
    );
    assert.deepEqual(doc.licenses, []);
  });

  it('the task list filters apply; an export with no image is still a whole COCO file', async () => {
    let doc = await coco(p.id, `&unique_id=empty`);
    assert.deepEqual(doc.images, [{ id: ids.empty, file_name: sha, width: 1920, height: 1080 }]);
    assert.deepEqual(doc.annotations, []);
    assert.equal(doc.categories.length, 3);
    assert.ok(!('keypoints' in doc.categories[1]), 'no point was exported, so piéton has no keypoints');
    doc = await coco(p.id, '&status=canceled');
    assert.deepEqual([doc.images, doc.annotations], [[], []]);
    assert.equal(doc.info.description, 'Loupe imageannotation export: 0 images, 0 annotations');
  });

  it('another kind gets a 400 naming format', async () => {
    const cat = await makeProject(srv);
    const e = expectError(await srv.api('GET', `/v1/projects/${cat.id}/export?format=coco`), 400, 'format');
    assert.equal(e.message, 'format: "coco" exports imageannotation, segmentation projects; this one is categorization');
  });

  it('a project whose annotations take several parts of the download comes out whole and in order', async () => {
    const big = await makeProject(srv, { kind: 'imageannotation', params: { labels: ['a', 'b'], geometries: ['box'] } });
    const N = 150, PER = 40; // 6,000 annotations, ~0.8 MB: several parts of the end
    const rows = Array.from({ length: N }, (_, i) => ({ attachments: [{ type: 'image', url: `https://x.test/${i}.jpg` }], data: { width: 1000 + i, height: 500 } }));
    const r = expectStatus(await srv.api('POST', `/v1/projects/${big.id}/tasks`, rows), 200);
    const tids = r.rows.map((x) => x.id);
    const responses = Object.fromEntries(
      tids.map((id, i) => [id, { annotations: Array.from({ length: PER }, (_, k) => box(k % 2 ? 'b' : 'a', k, i, 1000 + i - k, 1 + k)) }]),
    );
    await answerAll(srv, big, 'coco2@test.io', responses);
    const doc = await coco(big.id);
    assert.deepEqual(
      doc.images.map((im) => [im.id, im.file_name, im.width, im.height]),
      tids.map((id, i) => [id, `${i}.jpg`, 1000 + i, 500]),
    );
    assert.equal(doc.annotations.length, N * PER);
    // Each image's annotations are its result's boxes in the result's order.
    let j = 0;
    for (const [i, id] of tids.entries()) {
      const result = expectStatus(await srv.api('GET', `/v1/tasks/${id}`), 200).result.response.annotations;
      assert.equal(result.length, PER);
      for (const b of result) {
        const a = doc.annotations[j++];
        assert.deepEqual(a, {
          id: j,
          image_id: id,
          category_id: b.label === 'a' ? 1 : 2,
          segmentation: [],
          area: b.width * b.height,
          bbox: [b.x, b.y, b.width, b.height],
          iscrowd: 0,
        }, `image ${i}, annotation ${j}`);
      }
    }
  });

  it('a spool that cannot be made is a 500 before the first byte, never a file that looks whole', async () => {
    const other = await startServer({ env: { TMPDIR: `${tempDir()}/missing` } });
    try {
      const q = await makeProject(other, { kind: 'imageannotation', params: { labels: ['car'] } });
      const r = await other.api('GET', `/v1/projects/${q.id}/export?format=coco`);
      const e = expectError(r, 500);
      assert.match(e.message, /input\/output error/);
      expectStatus(await other.api('GET', `/v1/projects/${q.id}/export?format=json`), 200);
    } finally {
      await other.stop();
    }
  });
});
