// import_labels.test.mjs -- a manager imports labels written by other tools
// from the Import tab (POST /v1/projects/ID/tasks?format=coco): the choice
// of what the file holds comes from GET /v1/kinds; a COCO JSON file as
// pre-labels with a model name and an image URL prefix, into a new batch;
// a zip holding the COCO file and a PNG as final results (the image stored,
// the tasks completed); a COCO file with a bad annotation, whose invalid
// row is reported by its place in the file; a file that does not fit the
// chosen format refused in the browser; a kind with no label format shows
// no choice.  Every outcome is checked through the API.
import assert from 'node:assert/strict';
import { expectStatus, listAll, ADMIN_EMAIL, ADMIN_PASSWORD } from '../api/harness.mjs';
import { makeZip } from '../api/zip.mjs';
import { png } from './media.mjs';
import { serveUi, browserTest, login, screenshot, until, textOf, pageText, waitVisible, waitText } from './browser.mjs';

let srv;
serveUi((s) => (srv = s));

const LABELS = ['car', 'person', 'piéton'];

/* A COCO instances document: street.jpg (a box and a polygon), park.jpg
 * (a box), empty.jpg (nothing on it).  No image gives a URL, so they come
 * from the upload or the image URL prefix. */
function cocoDoc() {
  return {
    info: { description: 'browser test' },
    images: [
      { id: 1, file_name: 'street.jpg', width: 640, height: 480 },
      { id: 2, file_name: 'park.jpg', width: 800, height: 600 },
      { id: 3, file_name: 'empty.jpg', width: 320, height: 240 },
    ],
    categories: [
      { id: 1, name: 'car' },
      { id: 2, name: 'person' },
      { id: 3, name: 'piéton' },
    ],
    annotations: [
      { id: 10, image_id: 1, category_id: 1, bbox: [10, 20, 100, 50], area: 5000, iscrowd: 0, segmentation: [] },
      { id: 11, image_id: 1, category_id: 3, bbox: [0, 0, 4, 3], area: 6, iscrowd: 0, segmentation: [[0, 0, 4, 0, 4, 3, 0, 3]] },
      { id: 12, image_id: 2, category_id: 2, bbox: [300, 200, 60, 120], area: 7200, iscrowd: 0, segmentation: [] },
    ],
  };
}

async function newImageProject() {
  return expectStatus(await srv.api('POST', '/v1/projects', { name: `coco-${Math.random().toString(36).slice(2, 7)}`, kind: 'imageannotation', params: { labels: LABELS } }), 201);
}

async function tasksOf(pid) {
  return (await listAll(srv, `/v1/projects/${pid}/tasks`)).items.sort((a, b) => a.id - b.id);
}

/* Logs in as the admin and opens project p's settings on the Import tab. */
async function openImport(page, p) {
  await login(page, srv, ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.goto(`${srv.base}/#/projects/${p.id}/settings`);
  await waitVisible(page, '[role=tab][data-tab=import]', 'the import tab');
  await page.click('[role=tab][data-tab=import]');
  await waitVisible(page, '[role=tabpanel][data-panel=import] [data-testid=drop-zone]', 'the import panel');
}

/* The invalid rows of the result table, as {line|source, row, field, message}. */
async function invalidRows(page) {
  return page.$$eval('[data-testid=invalid-rows] tbody tr', (rows) =>
    rows.map((r) => Object.fromEntries([...r.querySelectorAll('[data-field]')].map((c) => [c.dataset.field, c.innerText.trim()]))),
  );
}

/* A screenshot of the whole page, scrolled to its end first so that the
 * fixed status bar is drawn at the bottom, not over the result. */
async function shot(page, name) {
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  return screenshot(page, name);
}

/* Every POST of an import the page sent, with its query and Content-Type. */
function recordImports(page, pid) {
  const sent = [];
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (req.method() === 'POST' && u.pathname === `/v1/projects/${pid}/tasks`) sent.push({ query: Object.fromEntries(u.searchParams), type: req.headers()['content-type'] });
  });
  return sent;
}

browserTest('COCO labels as pre-labels with a model and an image URL prefix, into a new batch', async ({ page }) => {
  const kinds = expectStatus(await srv.api('GET', '/v1/kinds'), 200).items;
  const imports = kinds.find((k) => k.name === 'imageannotation').imports;
  assert.ok(imports.some((f) => f.name === 'coco'), `GET /v1/kinds lists coco among imageannotation's imports: ${JSON.stringify(imports)}`);
  const p = await newImageProject();
  const sent = recordImports(page, p.id);
  await openImport(page, p);

  // The choice: Loupe tasks first (and chosen), then the kind's formats with their summaries.
  await waitVisible(page, '[data-testid=import-source]', 'the choice of what the file holds');
  const offered = await page.$$eval('input[data-import-format]', (rs) => rs.map((r) => [r.value, r.checked]));
  assert.deepEqual(offered, [['tasks', true], ...imports.map((f) => [f.name, false])], 'Loupe tasks, then every import format of the kind');
  const coco = imports.find((f) => f.name === 'coco');
  await waitText(page, 'label[for=pf-import-source-coco]', new RegExp(`COCO[\\s\\S]*${coco.summary.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.equal(await page.isVisible('[data-testid=import-labels]'), false, 'no labels options for Loupe tasks');

  await page.check('input[data-import-format=coco]');
  await waitVisible(page, '[data-testid=import-labels]', 'the labels options once COCO is chosen');
  await waitText(page, '[data-testid=drop-title]', /COCO.*\.json.*\.zip/);
  const accept = await page.getAttribute('[data-testid=import-file]', 'accept');
  assert.ok(accept.split(',').includes('.json') && accept.split(',').includes('.zip'), `the file input takes .json and .zip for COCO: ${accept}`);
  assert.equal(await page.isChecked('input[data-import-as=predictions]'), true, 'pre-labels is the default');
  assert.equal(await page.getAttribute('[data-testid=import-model]', 'placeholder'), 'import:coco');
  await waitText(page, '#pf-import-image-base-help', /for images not in the upload/i);
  assert.equal(await page.isVisible('[data-testid=row-help]'), false, 'the help on Loupe rows is hidden for a label format');

  // A file that is not JSON nor a zip is refused in the browser.
  await page.setInputFiles('[data-testid=import-file]', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello\n') });
  await waitText(page, '[data-testid=file-info]', /notes\.txt is not JSON/);
  assert.equal(await page.isDisabled('[data-action=import]'), true, 'Import stays disabled for a file that is not COCO');

  await page.setInputFiles('[data-testid=import-file]', { name: 'instances.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(cocoDoc(), null, 1)) });
  await waitText(page, '[data-testid=file-info]', /instances\.json.*COCO JSON file/);
  await page.fill('[data-testid=import-model]', 'detector-v2');
  // A prefix that is not a URL is caught before anything is sent.
  await page.fill('[data-testid=import-image-base]', 'cdn.example.com/street/');
  await page.check('input[data-batch-mode=new]');
  await page.fill('[data-testid=import-new-batch]', 'coco-wave');
  await page.click('[data-action=import]');
  await waitText(page, '[data-testid=image-base-error]', /http:\/\/ or https:\/\//);
  assert.equal(sent.length, 0, 'nothing was sent with a bad prefix');
  assert.deepEqual(expectStatus(await srv.api('GET', `/v1/projects/${p.id}/batches`), 200).items, [], 'no batch was made either');
  await page.fill('[data-testid=import-image-base]', 'https://cdn.example.com/street/');
  await shot(page, 'import-labels-coco-ready');
  await page.click('[data-action=import]');
  await waitText(page, '[data-testid=import-result] h3', /instances\.json/, 'the import result');
  assert.equal(await textOf(page, '[data-testid=import-result] [data-count=created]'), '3');
  assert.equal(await textOf(page, '[data-testid=import-result] [data-count=invalid]'), '0');
  await waitText(page, '[data-testid=labels-as]', /pre-labels.*detector-v2/);
  await waitText(page, '[data-testid=import-result] .note', /batch coco-wave, in staging/);
  assert.equal(await page.$('[data-testid=media-stored]'), null, 'no "stored" line for a JSON file');
  await shot(page, 'import-labels-coco-result');

  assert.equal(sent.length, 1, 'one import was sent');
  assert.match(sent[0].type, /^application\/json/);
  const batches = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/batches`), 200).items;
  assert.deepEqual(batches.map((b) => [b.name, b.status]), [['coco-wave', 'staging']]);
  assert.deepEqual(sent[0].query, { format: 'coco', as: 'predictions', model: 'detector-v2', image_base: 'https://cdn.example.com/street/', batch_id: String(batches[0].id) });

  const ts = await tasksOf(p.id);
  assert.deepEqual(ts.map((t) => t.unique_id), ['street.jpg', 'park.jpg', 'empty.jpg']);
  assert.deepEqual(ts.map((t) => t.status), ['pending', 'pending', 'pending'], 'pre-labelled tasks wait for annotators');
  assert.ok(ts.every((t) => t.batch_id === batches[0].id), 'every task is in the new batch');
  assert.deepEqual(ts.map((t) => t.attachments[0].url), ['street.jpg', 'park.jpg', 'empty.jpg'].map((n) => `https://cdn.example.com/street/${n}`), 'the images are the prefix + their file names');
  for (const t of ts) assert.deepEqual(t.predictions.map((x) => x.model), ['detector-v2'], `the predictions of ${t.unique_id} carry the model typed`);
  assert.deepEqual(ts[0].predictions[0].response.annotations, [
    { type: 'box', label: 'car', x: 10, y: 20, width: 100, height: 50 },
    { type: 'polygon', label: 'piéton', vertices: [{ x: 0, y: 0 }, { x: 4, y: 0 }, { x: 4, y: 3 }, { x: 0, y: 3 }] },
  ]);
  assert.deepEqual(ts[2].predictions[0].response.annotations, [], 'an image with nothing on it');
  assert.equal(ts[0].result ?? null, null, 'no result for pre-labels');

  // The same file again, no batch, model left empty: duplicates, and the default model name is the one sent.
  await page.check('input[data-batch-mode=none]');
  await page.fill('[data-testid=import-model]', '');
  await page.click('[data-action=import]');
  await waitText(page, '[data-testid=import-result] [data-count=duplicates]', /^3$/);
  assert.deepEqual(sent[1].query, { format: 'coco', as: 'predictions', image_base: 'https://cdn.example.com/street/' });
  assert.equal((await tasksOf(p.id)).length, 3);

  // Back to Loupe tasks: the labels options go away and an NDJSON file imports as before.
  await page.check('input[data-import-format=tasks]');
  assert.equal(await page.isVisible('[data-testid=import-labels]'), false);
  const row = JSON.stringify({ unique_id: 'by-hand', attachments: [{ type: 'image', url: 'https://img.example.com/by-hand.jpg' }] });
  await page.setInputFiles('[data-testid=import-file]', { name: 'more.ndjson', mimeType: 'application/x-ndjson', buffer: Buffer.from(row + '\n') });
  await waitText(page, '[data-testid=file-info]', /more\.ndjson.*NDJSON/);
  await page.click('[data-action=import]');
  await waitText(page, '[data-testid=import-result] h3', /more\.ndjson/);
  assert.equal(await textOf(page, '[data-testid=import-result] [data-count=created]'), '1');
  assert.deepEqual(sent[2], { query: {}, type: 'application/x-ndjson' }, 'a Loupe tasks import sends no format');
});

browserTest('a zip of COCO labels and a PNG imported as final results: the image stored, the tasks completed', async ({ page }) => {
  const p = await newImageProject();
  const sent = recordImports(page, p.id);
  const doc = cocoDoc();
  doc.images[0].file_name = 'street.png';
  doc.images[0].width = 64;
  doc.images[0].height = 48;
  doc.annotations[0].bbox = [4, 6, 30, 20];
  doc.annotations.push({ id: 13, image_id: 2, category_id: 1, bbox: [0, 0, 80, 60], area: 4800, iscrowd: 0, segmentation: [] });
  doc.images[1].coco_url = 'https://img.example.com/park.jpg';
  const zip = makeZip({ 'annotations/instances.json': JSON.stringify(doc), 'images/street.png': png(64, 48, (x, y) => [x * 4, y * 5, 120]), 'notes.docx': 'PK not really a document' });
  await openImport(page, p);
  await page.check('input[data-import-format=coco]');
  await page.check('input[data-import-as=results]');
  assert.equal(await page.isDisabled('[data-testid=import-model]'), true, 'no model name for final results');
  await page.fill('[data-testid=import-image-base]', 'https://cdn.example.com/set/');
  await page.setInputFiles('[data-testid=import-file]', { name: 'dataset.zip', mimeType: 'application/zip', buffer: zip });
  await waitText(page, '[data-testid=file-info]', /dataset\.zip.*a zip/);
  await shot(page, 'import-labels-zip-ready');
  await page.click('[data-action=import]');
  await waitText(page, '[data-testid=import-result] h3', /dataset\.zip/, 'the import result');
  assert.equal(await textOf(page, '[data-testid=import-result] [data-count=created]'), '3');
  await waitText(page, '[data-testid=media-stored]', /^1 image stored/);
  await waitText(page, '[data-testid=labels-as]', /completed/);
  await waitText(page, '[data-testid=files-left-out]', /^1 file of the zip left out: neither labels nor media/, 'the .docx of the zip counted as left out');
  await shot(page, 'import-labels-zip-result');

  assert.equal(sent.length, 1);
  assert.equal(sent[0].type, 'application/zip');
  assert.deepEqual(sent[0].query, { format: 'coco', as: 'results', image_base: 'https://cdn.example.com/set/' }, 'no model is sent for results');
  const ts = await tasksOf(p.id);
  assert.deepEqual(ts.map((t) => t.unique_id), ['street.png', 'park.jpg', 'empty.jpg']);
  assert.deepEqual(ts.map((t) => t.status), ['completed', 'completed', 'completed'], 'final results make completed tasks');
  const [street, park, empty] = ts;
  assert.match(street.attachments[0].file ?? '', /^[0-9a-f]{64}$/, `the PNG of the zip is stored and attached: ${JSON.stringify(street.attachments)}`);
  const stored = await srv.api('GET', `/v1/files/${street.attachments[0].file}`, undefined, { raw: true });
  assert.equal(stored.status, 200, 'the stored image can be fetched');
  assert.deepEqual(stored.buf.subarray(0, 8), png(1, 1).subarray(0, 8), 'it is the PNG');
  assert.equal(park.attachments[0].url, 'https://img.example.com/park.jpg', 'an image with a coco_url keeps it');
  assert.equal(empty.attachments[0].url, 'https://cdn.example.com/set/empty.jpg', 'an image neither in the zip nor given a URL: the prefix');
  assert.deepEqual(street.result.response.annotations, [
    { type: 'box', label: 'car', x: 4, y: 6, width: 30, height: 20 },
    { type: 'polygon', label: 'piéton', vertices: [{ x: 0, y: 0 }, { x: 4, y: 0 }, { x: 4, y: 3 }, { x: 0, y: 3 }] },
  ]);
  assert.deepEqual(park.result.response.annotations.map((a) => a.label), ['person', 'car']);
  const proj = expectStatus(await srv.api('GET', `/v1/projects/${p.id}`), 200);
  assert.equal(proj.counts.completed, 3);
});

browserTest('a COCO file with a bad annotation: its invalid row names its place in the file, the others import', async ({ page }) => {
  const p = await newImageProject();
  const doc = cocoDoc();
  doc.annotations.push({ id: 20, image_id: 99, category_id: 1, bbox: [1, 1, 2, 2], area: 4, iscrowd: 0, segmentation: [] });
  doc.annotations.push({ id: 21, image_id: 2, category_id: 2, bbox: [5, 5, -3, 4], area: 0, iscrowd: 0, segmentation: [] });
  await openImport(page, p);
  await page.check('input[data-import-format=coco]');
  await page.fill('[data-testid=import-image-base]', 'https://cdn.example.com/bad/');
  await page.setInputFiles('[data-testid=import-file]', { name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(doc)) });
  await waitText(page, '[data-testid=file-info]', /bad\.json/);
  await page.click('[data-action=import]');
  await waitText(page, '[data-testid=import-result] h3', /bad\.json/, 'the import result');
  const created = Number(await textOf(page, '[data-testid=import-result] [data-count=created]'));
  const invalid = Number(await textOf(page, '[data-testid=import-result] [data-count=invalid]'));
  const rows = await invalidRows(page);
  await shot(page, 'import-labels-invalid');
  assert.equal(invalid, rows.length, `the table lists every invalid row: ${JSON.stringify(rows)}`);
  assert.ok(rows.length >= 2, `two bad annotations give two invalid rows: ${JSON.stringify(rows)}`);
  assert.ok(rows.every((r) => r.source && r.line === undefined), `rows are named by their place in the file, not a line: ${JSON.stringify(rows)}`);
  const orphan = rows.find((r) => r.source === 'body: annotations[3]');
  assert.ok(orphan, `the annotation naming no image is reported at body: annotations[3]: ${JSON.stringify(rows)}`);
  assert.equal(orphan.field, 'image_id');
  assert.match(orphan.message, /99/);
  const park = rows.find((r) => /^body: images\[1\]/.test(r.source));
  assert.ok(park, `the image with a malformed bbox is reported at body: images[1]: ${JSON.stringify(rows)}`);
  assert.match(park.source, /park\.jpg/);
  assert.match(park.message, /annotations\[4\].*bbox/);
  assert.equal(await textOf(page, '[data-testid=invalid-rows] thead th:first-child'), 'Where in the file');
  // park.jpg (the bad bbox) is left out whole; street.jpg and empty.jpg import.
  const ts = await tasksOf(p.id);
  assert.equal(ts.length, created);
  assert.deepEqual(ts.map((t) => t.unique_id), ['street.jpg', 'empty.jpg']);
});

browserTest('a file that is not a zip, a blank file and a kind with no label format', async ({ page }) => {
  const kinds = expectStatus(await srv.api('GET', '/v1/kinds'), 200).items;
  const cat = kinds.find((k) => k.name === 'categorization');
  const p = expectStatus(await srv.api('POST', '/v1/projects', { name: 'no-labels', kind: 'categorization', params: { labels: ['pos', 'neg'] } }), 201);
  await openImport(page, p);
  if (!cat.imports?.length) {
    assert.equal(await page.$('[data-testid=import-source]'), null, 'no choice of format when the kind has no label format');
    assert.equal(await page.isVisible('[data-testid=import-labels]'), false);
    await waitText(page, '[data-testid=drop-title]', /\.json, \.ndjson or \.csv/);
    await shot(page, 'import-labels-none-for-categorization');
  } else {
    const offered = await page.$$eval('input[data-import-format]', (rs) => rs.map((r) => r.value));
    assert.deepEqual(offered, ['tasks', ...cat.imports.map((f) => f.name)], 'the categorization formats GET /v1/kinds lists');
  }
  // An image project: a .zip that is not a zip, and a blank JSON file.
  const q = await newImageProject();
  await page.goto(`${srv.base}/#/projects/${q.id}/settings`);
  await waitVisible(page, '[role=tab][data-tab=import]', 'the import tab');
  await page.click('[role=tab][data-tab=import]');
  await page.check('input[data-import-format=coco]');
  await page.setInputFiles('[data-testid=import-file]', { name: 'broken.zip', mimeType: 'application/zip', buffer: Buffer.from('not a zip at all') });
  await waitText(page, '[data-testid=file-info]', /broken\.zip is named as a zip but is not one/);
  assert.equal(await page.isDisabled('[data-action=import]'), true);
  await page.setInputFiles('[data-testid=import-file]', { name: 'blank.json', mimeType: 'application/json', buffer: Buffer.from('  \n') });
  await waitText(page, '[data-testid=file-info]', /blank\.json holds no labels/);
  assert.equal(await page.isDisabled('[data-action=import]'), true);
  // A JSON file the server cannot read as COCO: nothing imported, its message shown.
  await page.setInputFiles('[data-testid=import-file]', { name: 'other.json', mimeType: 'application/json', buffer: Buffer.from('{"hello": "world"}') });
  await waitText(page, '[data-testid=file-info]', /other\.json/);
  await page.click('[data-action=import]');
  await waitText(page, '[data-testid=import-error]', /^Nothing was imported: body: /);
  await until(async () => (await tasksOf(q.id)).length === 0 || null, async () => `no task should be made; the page shows ${await pageText(page)}`);
  assert.equal((await tasksOf(q.id)).length, 0);
});
