// export_voc.test.mjs -- GET /v1/projects/{id}/export?format=voc: an
// imageannotation project's results as a zip of Pascal VOC XML files,
// unzipped and checked byte for byte: one Annotations/NAME.xml per image
// with folder, filename, size (depth 3) and one object per shape (name,
// pose Unspecified, truncated 0, difficult 0, bndbox in VOC's 1-based
// pixels: a box over the whole image is 1..width), polygons as their
// bounding box, an empty image's file with no object, non-ASCII names;
// points, lines, an image without a size and a task without a result left
// out and named in README.txt; the wrong kind is a 400.
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

const object = (name, xmin, ymin, xmax, ymax) =>
  `\t<object>\n\t\t<name>${name}</name>\n\t\t<pose>Unspecified</pose>\n\t\t<truncated>0</truncated>\n` +
  `\t\t<difficult>0</difficult>\n\t\t<bndbox>\n\t\t\t<xmin>${xmin}</xmin>\n\t\t\t<ymin>${ymin}</ymin>\n` +
  `\t\t\t<xmax>${xmax}</xmax>\n\t\t\t<ymax>${ymax}</ymax>\n\t\t</bndbox>\n\t</object>\n`;
const xml = (file, w, h, objects) =>
  `<annotation>\n\t<folder>JPEGImages</folder>\n\t<filename>${file}</filename>\n` +
  '\t<source>\n\t\t<database>Loupe</database>\n\t</source>\n' +
  `\t<size>\n\t\t<width>${w}</width>\n\t\t<height>${h}</height>\n\t\t<depth>3</depth>\n\t</size>\n` +
  `\t<segmented>0</segmented>\n${objects.join('')}</annotation>\n`;

describe('export format=voc', () => {
  let p, ids, sha;

  before(async () => {
    ({ p, ids, sha } = await imageProject(srv, makeProject, 'voc1@test.io'));
  });

  it('is a zip of one VOC XML per image and README.txt, byte for byte', async () => {
    const files = await download(srv, p.id, 'voc');
    // The street image's objects, in its result's order.
    const obj = {
      'box 0 0 100': object('car', 1, 1, 100, 50), // x 0..100: pixels 1..100
      'box 540 430 100': object('car', 541, 431, 640, 480), // to the bottom-right corner
      'box 0 0 640': object('car', 1, 1, 640, 480), // the whole image
      polygon: object('piéton', 1, 1, 4, 3), // the L polygon's extent
    };
    const order = await streetOrder(srv, ids);
    assert.equal(order.length, 6);
    assert.deepEqual(files, [
      ['Annotations/000123.xml', xml('000123.jpg', 640, 480, order.map((k) => obj[k] || ''))],
      ['Annotations/街道.xml', xml('街道.png', 1920, 1080, [object('行人', 961, 541, 1920, 1080)])],
      [`Annotations/${sha}.xml`, xml(sha, 800, 600, [])],
      ['README.txt', readme('voc', ids)],
    ]);
  });

  it('another kind gets a 400 naming format', async () => {
    const cat = await makeProject(srv);
    const e = expectError(await srv.api('GET', `/v1/projects/${cat.id}/export?format=voc`), 400, 'format');
    assert.equal(e.message, 'format: "voc" exports imageannotation projects; this one is categorization');
  });
});
