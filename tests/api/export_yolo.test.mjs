// export_yolo.test.mjs -- GET /v1/projects/{id}/export?format=yolo: an
// imageannotation project's results as a zip in the Ultralytics YOLO
// detection format, unzipped and checked byte for byte: data.yaml (nc and
// names from the labels, non-ASCII kept), one labels/NAME.txt per image
// with "class x_center y_center width height" normalised by that image's
// size (boxes at the border exactly 0 or 1), polygons as their bounding
// box, an empty image's empty file, points, lines, an image without a size
// and a task without a result left out and named in README.txt; the wrong
// kind is a 400.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, it, expectError, makeProject } from './harness.mjs';
import { download, imageProject, readme, streetOrder } from './zip.mjs';

let srv;

before(async () => {
  srv = await startServer();
});
after(async () => {
  await srv?.stop();
});

describe('export format=yolo', () => {
  let p, ids, sha;

  before(async () => {
    ({ p, ids, sha } = await imageProject(srv, makeProject, 'yolo1@test.io'));
  });

  it('is a zip of data.yaml, a label file per image and README.txt, byte for byte', async () => {
    const files = await download(srv, p.id, 'yolo');
    // The street image's lines, in its result's order.
    const line = {
      'box 0 0 100': '0 0.078125 0.052083 0.156250 0.104167\n', // 0,0 100x50 of 640x480
      'box 540 430 100': '0 0.921875 0.947917 0.156250 0.104167\n', // its mirror at the bottom-right corner
      'box 0 0 640': '0 0.500000 0.500000 1.000000 1.000000\n', // the whole image
      polygon: '1 0.003125 0.003125 0.006250 0.006250\n', // the L polygon's extent 4x3
    };
    const order = await streetOrder(srv, ids);
    assert.equal(order.length, 6);
    assert.deepEqual(files, [
      ['data.yaml', '# Loupe export (YOLO detection). Put each image in images/ beside labels/;\n' +
        '# labels/NAME.txt holds the boxes of image NAME.jpg (or .png, ...).\n' +
        'train: images\nval: images\nnc: 3\nnames:\n  0: "car"\n  1: "piéton"\n  2: "行人"\n'],
      ['labels/000123.txt', order.map((k) => line[k] || '').join('')],
      ['labels/街道.txt', '2 0.750000 0.750000 0.500000 0.500000\n'],
      [`labels/${sha}.txt`, ''],
      ['README.txt', readme('yolo', ids)],
    ]);
  });

  it('the task list filters apply; an export with no image is still a whole zip', async () => {
    let files = await download(srv, p.id, 'yolo', '&unique_id=empty');
    assert.deepEqual(files.map(([n]) => n), ['data.yaml', `labels/${sha}.txt`, 'README.txt']);
    assert.equal(files[2][1], 'Loupe imageannotation export, format yolo: 1 image, 0 objects.\n');
    files = await download(srv, p.id, 'yolo', '&status=canceled');
    assert.deepEqual(files.map(([n]) => n), ['data.yaml', 'README.txt']);
  });

  it('another kind gets a 400 naming format', async () => {
    const cat = await makeProject(srv);
    const e = expectError(await srv.api('GET', `/v1/projects/${cat.id}/export?format=yolo`), 400, 'format');
    assert.equal(e.message, 'format: "yolo" exports imageannotation projects; this one is categorization');
  });
});
