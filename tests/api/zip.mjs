// zip.mjs -- helpers for the API tests of the image exports (coco, yolo,
// voc): reading a downloaded zip (node has no unzip of its own), and
// answering every task of an imageannotation project.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expectStatus, makeMember, tempDir } from './harness.mjs';

/* The files of zip buf as [[name, text], ...] in the zip's order, read by
 * python3's zipfile (which checks each CRC); Info-ZIP's unzip must also
 * find it whole. */
export function unzip(buf) {
  const file = path.join(tempDir('loupe-zip-'), 'export.zip');
  fs.writeFileSync(file, buf);
  const t = execFileSync('unzip', ['-tq', file], { encoding: 'utf8' });
  assert.match(t, /^No errors detected/, t);
  const py = 'import json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\n' +
    'print(json.dumps([[i.filename, z.read(i).decode("utf-8")] for i in z.infolist()]))';
  return JSON.parse(execFileSync('python3', ['-c', py, file], { encoding: 'utf8' }));
}

/* Downloads the export of project pid in format (a zip) and returns its
 * files as unzip does; checks the download's headers. */
export async function download(srv, pid, format, query = '') {
  const r = await srv.api('GET', `/v1/projects/${pid}/export?format=${format}${query}`, undefined, { raw: true });
  assert.equal(r.status, 200, r.buf.toString());
  assert.equal(r.headers.get('content-type'), 'application/zip');
  assert.equal(r.headers.get('content-disposition'), `attachment; filename="project-${pid}-tasks.zip"`);
  return unzip(r.buf);
}

/* Leases every task of project p as a new annotator (email) and submits
 * responses[task id]; a task leased without one is a failure. */
export async function answerAll(srv, p, email, responses) {
  const m = await makeMember(srv, email);
  expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${m.id}`, { role: 'annotator' }), 200);
  for (let k = 0; k < Object.keys(responses).length; k++) {
    const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: m.key }), 200).assignment;
    assert.ok(a, `no task left after ${k}`);
    const response = responses[a.task_id];
    assert.ok(response, `task ${a.task_id} was leased but has no response here`);
    expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `zip-${a.task_id}`, response }, { key: m.key }), 201);
  }
}

/* An imageannotation project with images of different sizes, one without
 * shapes, one without a size and one left unanswered; returns {p, ids,
 * sha}.  The street image (640x480) has boxes at the border, a non-convex
 * polygon, a point and a line; the wide one (1920x1080) a box in its
 * bottom-right quarter. */
export async function imageProject(srv, makeProject, email) {
  const p = await makeProject(srv, { kind: 'imageannotation', params: { labels: ['car', 'piéton', '行人'] } });
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
  const sha = expectStatus(await srv.api('POST', '/v1/files', png, { headers: { 'content-type': 'image/png' } }), 201).sha256;
  const rows = [
    { unique_id: 'street', attachments: [{ type: 'image', url: 'https://img.example.com/cam7/000123.jpg?sig=a%2Fb#top' }], data: { width: 640, height: 480 } },
    { unique_id: 'wide', attachments: [{ type: 'image', url: 'https://img.example.com/街道.png' }], data: { width: 1920, height: 1080 } },
    { unique_id: 'empty', attachments: [{ type: 'image', file: sha }], data: { width: 800, height: 600 } },
    { unique_id: 'nosize', attachments: [{ type: 'image', url: 'https://img.example.com/nosize.jpg' }] },
    { unique_id: 'pending', attachments: [{ type: 'image', url: 'https://img.example.com/never.jpg' }], data: { width: 10, height: 10 }, priority: -1 },
  ];
  const r = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, rows), 200);
  assert.equal(r.created, rows.length, JSON.stringify(r));
  const ids = Object.fromEntries(rows.map((row, i) => [row.unique_id, r.rows[i].id]));
  const box = (label, x, y, width, height) => ({ type: 'box', label, x, y, width, height });
  const V = (...xy) => xy.map(([x, y]) => ({ x, y }));
  await answerAll(srv, p, email, {
    [ids.street]: {
      annotations: [
        box('car', 0, 0, 100, 50), // top-left corner
        box('car', 540, 430, 100, 50), // bottom-right corner: x + width = 640
        box('car', 0, 0, 640, 480), // the whole image
        { type: 'polygon', label: 'piéton', vertices: V([0, 0], [4, 0], [4, 1], [1, 1], [1, 3], [0, 3]) },
        { type: 'point', label: 'piéton', x: 10.5, y: 20.25 },
        { type: 'line', label: 'car', vertices: V([1, 1], [5, 5]) },
      ],
    },
    [ids.wide]: { annotations: [box('行人', 960, 540, 960, 540)] },
    [ids.empty]: { annotations: [] },
    [ids.nosize]: { annotations: [box('行人', 5, 6, 7, 8)] },
  });
  return { p, ids, sha };
}

/* The street image's shapes in its result's order (the order of the
 * export's lines), each as 'box x y' / 'polygon' / 'point' / 'line'. */
export async function streetOrder(srv, ids) {
  const t = expectStatus(await srv.api('GET', `/v1/tasks/${ids.street}`), 200);
  return t.result.response.annotations.map((s) => (s.type === 'box' ? `box ${s.x} ${s.y} ${s.width}` : s.type));
}

/* README.txt of the export of imageProject in format. */
export function readme(format, ids) {
  return `Loupe imageannotation export, format ${format}: 3 images, 5 objects.\n\n` +
    'Left out:\n  1 task without a result\n' +
    '  1 image without data.width and data.height (coordinates cannot be placed)\n' +
    '  1 point (no form in this format)\n  1 line (no form in this format)\n\n' +
    `Images left out without a size:\n  nosize.jpg (task ${ids.nosize})\n`;
}

/* A zip of files ({name: Buffer|string}), written by python3's zipfile:
 * what a user uploads to an import. */
export function makeZip(files) {
  const dir = tempDir('loupe-mkzip-');
  const list = [];
  for (const [name, data] of Object.entries(files)) {
    const f = path.join(dir, 'f' + list.length);
    fs.writeFileSync(f, data);
    list.push([name, f]);
  }
  const out = path.join(dir, 'upload.zip');
  const py = 'import json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1],"w",zipfile.ZIP_DEFLATED)\n' +
    'for n,f in json.load(open(sys.argv[2])): z.write(f,n)\nz.close()';
  fs.writeFileSync(path.join(dir, 'list.json'), JSON.stringify(list));
  execFileSync('python3', ['-c', py, out, path.join(dir, 'list.json')]);
  return fs.readFileSync(out);
}
