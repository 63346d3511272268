// convert_yolo_voc.test.mjs -- POST /v1/projects/{id}/tasks?format=yolo|voc
// and `loupe import --format yolo`: a dataset of real PNG images of
// different sizes with their labels, sent as a zip, imported as results
// and exported again in the same format, the same labels coming back
// (YOLO's normalised numbers within 1e-6 and its class names; VOC's
// objects exactly); boxes at the border, an empty image, a YOLO
// segmentation polygon, non-ASCII names; bad lines and broken files as
// invalid rows carrying their "source", and broken sources refused whole.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, it, runCli, tempDir, expectStatus, expectError, makeProject, listAll, assertNoSanitizerReport } from './harness.mjs';
import { download } from './zip.mjs';
import { png } from '../browser/media.mjs';

let srv;

before(async () => {
  srv = await startServer();
});
after(async () => {
  await srv?.stop();
});

/* Writes files ({path: Buffer|string}) under a new folder; returns it. */
function writeTree(files) {
  const dir = tempDir('loupe-dataset-');
  for (const [name, data] of Object.entries(files)) {
    fs.mkdirSync(path.join(dir, path.dirname(name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), data);
  }
  return dir;
}

/* The zip of files, in the order given (python3's zipfile, deflated). */
function zipOf(files) {
  const dir = writeTree(files);
  const out = path.join(tempDir('loupe-zipped-'), 'dataset.zip');
  const py = 'import sys,zipfile\nz=zipfile.ZipFile(sys.argv[1],"w",zipfile.ZIP_DEFLATED)\n' +
    'for n in sys.argv[3:]: z.write(sys.argv[2]+"/"+n, n)\nz.close()';
  execFileSync('python3', ['-c', py, out, dir, ...Object.keys(files)]);
  return fs.readFileSync(out);
}

async function importZip(pid, format, zip, query = '&as=results') {
  return srv.api('POST', `/v1/projects/${pid}/tasks?format=${format}${query}`, zip, { headers: { 'content-type': 'application/zip' } });
}

const LABELS = ['car', 'piéton', '行人'];

/* Parses YOLO label text into rows of numbers. */
const rowsOf = (text) => text.split('\n').filter((l) => l.trim()).map((l) => l.trim().split(/\s+/).map(Number));

/* Rows compared within 1e-6 (one unit of the six decimals: a box whose
 * rounded numbers reach past the border, 0.947917 + 0.104167 / 2 > 1, is
 * put on it, and its height then prints as 0.104166), plus the float
 * error of the comparison itself. */
function sameRows(got, want, what) {
  assert.equal(got.length, want.length, `${what}: ${JSON.stringify(got)}`);
  got.forEach((r, i) => {
    assert.equal(r.length, want[i].length, `${what} row ${i}`);
    assert.equal(r[0], want[i][0], `${what} row ${i} class`);
    for (let k = 1; k < r.length; k++) assert.ok(Math.abs(r[k] - want[i][k]) <= 1e-6 + 1e-12, `${what} row ${i}: ${r} against ${want[i]}`);
  });
}

// The YOLO dataset: four images of four sizes, in Ultralytics' layout.
const street = [
  '0 0.078125 0.052083 0.156250 0.104167', // top-left corner (as Loupe exports 0,0 100x50 of 640x480)
  '0 0.921875 0.947917 0.156250 0.104167', // bottom-right corner: x + width = the width
  '0 0.500000 0.500000 1.000000 1.000000', // the whole image
  '1 0.250000 0.500000 0.100000 0.200000',
];
const yoloFiles = {
  'data.yaml': 'path: .\ntrain: images/train\nval: images/val\nnc: 3\nnames:\n  0: car\n  1: "piéton"\n  2: 行人\n',
  'images/train/street.png': png(640, 480),
  'labels/train/street.txt': street.join('\n') + '\n',
  'images/val/wide.png': png(192, 108),
  'labels/val/wide.txt': '2 0.750000 0.750000 0.500000 0.500000\n1 0.1 0.1 0.3 0.1 0.3 0.4 0.1 0.4\n', // a box and a segmentation polygon
  'images/train/empty.png': png(80, 60),
  'labels/train/empty.txt': '',
  'images/train/background.png': png(10, 20), // no label file: a background image
  'images/train/bad.png': png(30, 30),
  'labels/train/bad.txt': '0 0.5 0.5 0.1 0.1\n3 0.5 0.5 0.1 0.1\n', // class 3: out of range
  'images/train/outside.png': png(40, 40),
  'labels/train/outside.txt': '0 0.9 0.5 0.5 0.5\n', // past the right edge: the kind's validation
};

describe('import format=yolo', () => {
  let p, r;

  before(async () => {
    p = await makeProject(srv, { kind: 'imageannotation', params: { labels: LABELS } });
    r = expectStatus(await importZip(p.id, 'yolo', zipOf(yoloFiles)), 200);
  });

  it('makes one task per image, bad lines and shapes outside the image invalid rows with their source', async () => {
    assert.equal(r.created, 4, JSON.stringify(r));
    assert.equal(r.invalid, 2, JSON.stringify(r));
    assert.equal(r.media_stored, 6);
    const bad = r.rows.filter((x) => x.status === 'invalid');
    assert.deepEqual(bad.map((x) => x.source).sort(), ['labels/train/bad.txt:2', 'labels/train/outside.txt']);
    const b = bad.find((x) => x.source === 'labels/train/bad.txt:2');
    assert.deepEqual(b.error, { field: 'class', message: '3 is not a class: the names run from 0 to 2' });
    const o = bad.find((x) => x.source === 'labels/train/outside.txt');
    assert.match(o.error.field, /^result\.annotations\[0\]\.width$/);
    const tasks = (await listAll(srv, `/v1/projects/${p.id}/tasks`)).items;
    const byId = Object.fromEntries(tasks.map((t) => [t.unique_id, t]));
    assert.deepEqual(Object.keys(byId).sort(), ['images/train/background.png', 'images/train/empty.png', 'images/train/street.png', 'images/val/wide.png']);
    assert.deepEqual(byId['images/val/wide.png'].data, { width: 192, height: 108 });
    assert.equal(byId['images/val/wide.png'].status, 'completed');
    assert.deepEqual(byId['images/train/street.png'].attachments[0].name, 'street.png');
  });

  it('exports the same label lines and class names (round trip)', async () => {
    const files = Object.fromEntries(await download(srv, p.id, 'yolo'));
    assert.match(files['data.yaml'], /nc: 3\nnames:\n  0: "car"\n  1: "piéton"\n  2: "行人"\n/);
    sameRows(rowsOf(files['labels/street.txt']), rowsOf(street.join('\n')), 'street');
    // the box comes back as it was; the polygon as its bounding box (YOLO
    // detection export), 0.1..0.3 x 0.1..0.4
    sameRows(rowsOf(files['labels/wide.txt']), [[2, 0.75, 0.75, 0.5, 0.5], [1, 0.2, 0.25, 0.2, 0.3]], 'wide');
    assert.equal(files['labels/empty.txt'], '');
    assert.equal(files['labels/background.txt'], '');
  });

  it('the polygon is stored as a polygon in pixels', async () => {
    const t = (await listAll(srv, `/v1/projects/${p.id}/tasks?unique_id=images/val/wide.png`)).items[0];
    const full = expectStatus(await srv.api('GET', `/v1/tasks/${t.id}`), 200);
    assert.equal(full.result.method, 'import', JSON.stringify(full.result));
    const poly = full.result.response.annotations.find((s) => s.type === 'polygon');
    assert.equal(poly.label, 'piéton');
    const round = (v) => Math.round(v * 1e6) / 1e6;
    assert.deepEqual(poly.vertices.map((v) => [round(v.x), round(v.y)]), [[19.2, 10.8], [57.6, 10.8], [57.6, 43.2], [19.2, 43.2]]);
  });

  it('the same zip again gives duplicates, not copies', async () => {
    const again = expectStatus(await importZip(p.id, 'yolo', zipOf(yoloFiles)), 200);
    assert.equal(again.created, 0);
    assert.equal(again.duplicates, 4);
  });

  it('a source without class names or with names it cannot read is refused with 400', async () => {
    const { 'data.yaml': _, ...noNames } = yoloFiles;
    let e = expectError(await importZip(p.id, 'yolo', zipOf(noNames)), 400, 'body');
    assert.match(e.message, /has no class names/);
    e = expectError(await importZip(p.id, 'yolo', zipOf({ ...yoloFiles, 'data.yaml': 'names: [car, piéton\n' })), 400, 'data.yaml');
    assert.equal(e.message, "data.yaml: line 2, column 1: did not find expected ',' or ']' (while parsing a flow sequence from line 1, column 8)");
    e = expectError(await srv.api('POST', `/v1/projects/${p.id}/tasks?format=yolo`, '0 0.5 0.5 0.1 0.1\n', { headers: { 'content-type': 'text/plain' } }), 400, 'body');
    assert.match(e.message, /holds no image/);
  });

  it('loupe import DIR --format yolo reads the same folder', async () => {
    const p2 = await makeProject(srv, { kind: 'imageannotation', params: { labels: LABELS } });
    const dir = writeTree(yoloFiles);
    const c = runCli(['import', String(p2.id), dir, '--format', 'yolo', '--as', 'results', '--data-dir', srv.dir]);
    assertNoSanitizerReport(c.stderr, 'loupe import');
    assert.equal(c.status, 1, c.stderr);
    assert.equal(c.stdout, `${dir}: 4 created, 0 duplicates, 2 invalid, 6 media files stored\n`);
    const lines = c.stderr.trim().split('\n');
    assert.ok(lines.includes(`${dir}: labels/train/bad.txt:2: class: 3 is not a class: the names run from 0 to 2`), c.stderr);
    assert.ok(lines.some((l) => l.startsWith(`${dir}: labels/train/outside.txt: result.annotations[0].width:`)), c.stderr);
    const files = Object.fromEntries(await download(srv, p2.id, 'yolo'));
    sameRows(rowsOf(files['labels/street.txt']), rowsOf(street.join('\n')), 'street via the CLI');
  });
});

// The VOC dataset: VOC's 1-based corner pixels, as export_voc.c writes them.
const obj = (name, x1, y1, x2, y2) =>
  `\t<object>\n\t\t<name>${name}</name>\n\t\t<pose>Unspecified</pose>\n\t\t<truncated>0</truncated>\n\t\t<difficult>0</difficult>\n` +
  `\t\t<bndbox>\n\t\t\t<xmin>${x1}</xmin>\n\t\t\t<ymin>${y1}</ymin>\n\t\t\t<xmax>${x2}</xmax>\n\t\t\t<ymax>${y2}</ymax>\n\t\t</bndbox>\n\t</object>\n`;
const ann = (file, w, h, objs) =>
  `<annotation>\n\t<folder>JPEGImages</folder>\n\t<filename>${file}</filename>\n\t<size>\n\t\t<width>${w}</width>\n\t\t<height>${h}</height>\n\t\t<depth>3</depth>\n\t</size>\n${objs}</annotation>\n`;
const vocFiles = {
  'Annotations/street.xml': ann('street.png', 640, 480, obj('car', 1, 1, 100, 50) + obj('car', 541, 431, 640, 480) + obj('car', 1, 1, 640, 480) + obj('piéton', 13, 7, 29, 41)),
  'JPEGImages/street.png': png(640, 480),
  'Annotations/wide.xml': ann('wide.png', 192, 108, obj('行人', 97, 55, 192, 108)),
  'JPEGImages/wide.png': png(192, 108),
  'Annotations/empty.xml': ann('empty.png', 80, 60, ''),
  'JPEGImages/empty.png': png(80, 60),
  'Annotations/cut.xml': '<annotation>\n\t<filename>street.png</filename>\n\t<object><name>car',
};

/* The objects of a VOC file as [name, xmin, ymin, xmax, ymax]. */
function objectsOf(xml) {
  return [...xml.matchAll(/<object>[\s\S]*?<name>(.*?)<\/name>[\s\S]*?<xmin>(\d+)<\/xmin>\s*<ymin>(\d+)<\/ymin>\s*<xmax>(\d+)<\/xmax>\s*<ymax>(\d+)<\/ymax>/g)].map((m) => [m[1], ...m.slice(2).map(Number)]);
}

describe('import format=voc', () => {
  let p, r;

  before(async () => {
    p = await makeProject(srv, { kind: 'imageannotation', params: { labels: LABELS } });
    r = expectStatus(await importZip(p.id, 'voc', zipOf(vocFiles)), 200);
  });

  it('makes one task per annotation file; a broken file is an invalid row naming its line', async () => {
    assert.equal(r.created, 3, JSON.stringify(r));
    assert.equal(r.invalid, 1);
    const bad = r.rows.find((x) => x.status === 'invalid');
    assert.equal(bad.source, 'Annotations/cut.xml:3');
    assert.equal(bad.error.field, 'annotation');
    assert.match(bad.error.message, /^is not well-formed XML: no element found/);
  });

  it('exports the same objects (round trip)', async () => {
    const files = Object.fromEntries(await download(srv, p.id, 'voc'));
    for (const name of ['street', 'wide', 'empty']) {
      const got = files[`Annotations/${name}.xml`];
      assert.ok(got, `no Annotations/${name}.xml in ${Object.keys(files)}`);
      assert.deepEqual(objectsOf(got), objectsOf(vocFiles[`Annotations/${name}.xml`]), name);
      assert.match(got, new RegExp(`<filename>${name}.png</filename>`));
    }
    assert.equal(objectsOf(files['Annotations/empty.xml']).length, 0);
  });

  it('one document that is not XML is refused with 400 naming body', async () => {
    const e = expectError(await srv.api('POST', `/v1/projects/${p.id}/tasks?format=voc`, '<annotation><filename>a.png</filename>\n<object>', { headers: { 'content-type': 'application/xml' } }), 400, 'body');
    assert.match(e.message, /^body: line 2: is not well-formed XML/);
  });
});
