// manage.test.mjs -- a manager's project pages in the browser: creating a
// categorization project (three labels, overlap 2) and a rating project
// (criteria with their scales), a server 422 shown next to the field it
// names, changing settings (only what changed is PATCHed, JSON editing
// round-trips with the form), members, importing an NDJSON file with a bad
// line into a new batch, and downloading the export.  Every outcome is
// checked through the API.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { expectStatus, ADMIN_EMAIL, ADMIN_PASSWORD } from '../api/harness.mjs';
import { serveUi, PASSWORD, browserTest, makeAnnotator, login, screenshot, until, textOf, pageText, waitVisible, waitText, waitStatus, clearStatusLog } from './browser.mjs';

let srv;
serveUi((s) => (srv = s));


const DEFAULT_POLICY = {
  overlap: 1,
  review_levels: 0,
  gold_rate: 0,
  calibration_count: 0,
  min_gold_accuracy: 0,
  min_gold_count: 5,
  aggregation: 'auto',
  lease_seconds: 600,
  strategy: 'fifo',
  uncertainty_measure: 'least_confidence',
  callback_url: null,
  metadata: {},
};

/* The policy fields of a project object. */
const policyOf = (p) => Object.fromEntries(Object.keys(DEFAULT_POLICY).map((k) => [k, p[k]]));

async function getProject(id) {
  return expectStatus(await srv.api('GET', `/v1/projects/${id}`), 200);
}

async function projectIds() {
  return expectStatus(await srv.api('GET', '/v1/projects?limit=1000'), 200).items.map((p) => p.id);
}

/* Opens the new-project form from the project list. */
async function openNewForm(page) {
  await login(page, srv, ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.click('a[data-action=new-project]');
  await waitVisible(page, '[data-testid=project-form]', 'the new-project form');
  await waitVisible(page, 'input[data-kind=categorization]', 'the kinds from GET /v1/kinds');
}

/* Adds items to the named list at path (params.labels...) by typing each
 * name in its "add" box and pressing Enter. */
async function addItems(page, path, names) {
  const box = `input[data-role=add][data-add-for="${path}"]`;
  for (const n of names) {
    await page.fill(box, n);
    await page.press(box, 'Enter');
  }
  await until(
    async () => (await page.$$eval(`[data-field="${path}"] > .pf-rows > li[data-index]`, (rows) => rows.length)) >= names.length,
    async () => `the list ${path} should have ${names.length} rows; the page shows ${await pageText(page)}`,
  );
}

/* The names in the rows of the list at path, in order. */
async function rowNames(page, path) {
  return page.$$eval(`[data-field="${path}"] > .pf-rows > li[data-index] input[data-role=name]`, (inputs) => inputs.map((i) => i.value));
}

/* Clicks save and waits for the page to go to the new project's settings;
 * returns its id. */
async function createAndWait(page) {
  await page.click('[data-action=save]');
  const hash = await until(
    async () => {
      const h = await page.evaluate(() => location.hash);
      return /^#\/projects\/\d+\/settings$/.test(h) ? h : null;
    },
    async () => `after Create the page should go to the project's settings; it is at ${page.url()} showing ${await pageText(page)}`,
  );
  return Number(/(\d+)/.exec(hash)[1]);
}

/* A project made through the API, opened at its settings in the browser. */
async function openSettings(page, body) {
  const p = expectStatus(await srv.api('POST', '/v1/projects', { name: `settings-${Math.random().toString(36).slice(2, 7)}`, kind: 'categorization', ...body }), 201);
  await login(page, srv, ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.goto(`${srv.base}/#/projects/${p.id}/settings`);
  await waitVisible(page, '[data-testid=project-form]', 'the settings form');
  await waitText(page, '[data-testid=project-name]', new RegExp(p.name));
  return p;
}

async function openTab(page, key) {
  await page.click(`[role=tab][data-tab=${key}]`);
  await waitVisible(page, `[role=tabpanel][data-panel=${key}]`, `the ${key} tab`);
}

browserTest('a manager creates a categorization project with three labels and overlap 2', async ({ page, requests }) => {
  const before = await projectIds();
  await openNewForm(page);
  await screenshot(page, 'manage-new-empty');
  await page.fill('[data-field=name] input', 'Animals in texts');
  await page.check('input[data-kind=categorization]');
  await addItems(page, 'params.labels', ['cat', 'dog', 'bird', 'oops']);
  // remove one, move one, describe one
  await page.click('[data-field="params.labels[3]"] [data-role=remove]');
  await page.click('[data-field="params.labels[2]"] [data-role=up]');
  assert.deepEqual(await rowNames(page, 'params.labels'), ['cat', 'bird', 'dog'], 'the labels after removing oops and moving bird up');
  await page.fill('[data-field="params.labels[2].description"]', 'a dog or a puppy');
  await page.fill('[data-testid=instructions]', 'Pick the **animal** the text is about.\n\n- one label\n- skip if unsure');
  await waitText(page, '[data-testid=instructions-preview] strong', /^animal$/, 'the live preview to render the bold word');
  assert.equal(await page.$$eval('[data-testid=instructions-preview] li', (li) => li.length), 2, 'the preview shows the list');
  await page.fill('[data-field=overlap] input', '2');
  await screenshot(page, 'manage-new-categorization');
  const id = await createAndWait(page);
  await waitStatus(page, /created/i);

  const posts = requests.filter((r) => r.method === 'POST' && r.path === '/v1/projects');
  assert.equal(posts.length, 1, 'one POST /v1/projects');
  const p = await getProject(id);
  assert.ok(!before.includes(id));
  assert.equal(p.name, 'Animals in texts');
  assert.equal(p.kind, 'categorization');
  assert.deepEqual(p.params, {
    labels: [{ name: 'cat' }, { name: 'bird' }, { name: 'dog', description: 'a dog or a puppy' }],
    multiple: false,
    instructions: 'Pick the **animal** the text is about.\n\n- one label\n- skip if unsure',
  });
  assert.deepEqual(policyOf(p), { ...DEFAULT_POLICY, overlap: 2 });

  // The new project's page opens on the import tab, with a word on what next.
  await waitVisible(page, '[data-testid=created-note]', 'the note after creating a project');
  assert.equal(await page.getAttribute('[role=tab][data-tab=import]', 'aria-selected'), 'true');
  await screenshot(page, 'manage-created-import-tab');
});

browserTest('a rating project with criteria, their scales and point names', async ({ page }) => {
  await openNewForm(page);
  await page.fill('[data-field=name] input', 'Answer quality');
  await page.check('input[data-kind=rating]');
  await waitVisible(page, 'input[data-add-for="params.criteria"]', 'the criteria editor');
  await addItems(page, 'params.criteria', ['helpfulness', 'harmlessness']);
  await page.fill('[data-field="params.criteria[0].description"]', 'Does it answer the question?');
  await page.fill('[data-field="params.criteria[0].max"] input', '4');
  await page.check('[data-field="params.criteria[0].labels"] input[data-key=labels]');
  await until(
    async () => (await page.$$('[data-field="params.criteria[0].labels"] .pf-point-list input')).length === 4,
    async () => `4 point names for a 1..4 scale; the page shows ${await pageText(page)}`,
  );
  await page.fill('[data-field="params.criteria[0].labels[0]"]', 'useless');
  await page.fill('[data-field="params.criteria[0].labels[3]"]', 'excellent');
  await page.fill('[data-field="params.criteria[1].min"] input', '0');
  await page.fill('[data-field="params.criteria[1].max"] input', '1');
  await page.fill('[data-field="params.criteria[1].step"] input', '0.5');
  await page.uncheck('[data-field="params.criteria[1].required"] input');
  await page.fill('[data-field="params.gold_tolerance"] input', '1');
  await page.fill('[data-field=review_levels] input', '1');
  await page.selectOption('[data-field=aggregation] select', 'majority');
  await screenshot(page, 'manage-new-rating');
  const id = await createAndWait(page);
  const p = await getProject(id);
  assert.equal(p.kind, 'rating');
  assert.deepEqual(p.params, {
    criteria: [
      { name: 'helpfulness', description: 'Does it answer the question?', min: 1, max: 4, step: 1, required: true, labels: ['useless', '', '', 'excellent'] },
      { name: 'harmlessness', min: 0, max: 1, step: 0.5, required: false },
    ],
    gold_tolerance: 1,
  });
  assert.deepEqual(policyOf(p), { ...DEFAULT_POLICY, review_levels: 1, aggregation: 'majority' });
});

browserTest('the other kinds\' params: image attributes with choices, comparison options, text fields; keyboard reordering', async ({ page }) => {
  await openNewForm(page);
  await page.fill('[data-field=name] input', 'Street scenes');
  await page.check('input[data-kind=imageannotation]');
  await addItems(page, 'params.labels', ['car', 'person']);
  // Alt+Down in a name moves its row; Enter goes to the add box.
  await page.focus('[data-field="params.labels[0].name"]');
  await page.keyboard.press('Alt+ArrowDown');
  await until(async () => (await rowNames(page, 'params.labels')).join() === 'person,car', async () => `Alt+Down should move car below person: ${await rowNames(page, 'params.labels')}`);
  assert.equal(await page.evaluate(() => document.activeElement?.dataset?.field), 'params.labels[1].name', 'the focus follows the moved name');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset?.role), 'add', 'Enter in a name goes to the add box');
  await page.uncheck('[data-field="params.geometries"] input[data-option=line]');
  await page.uncheck('[data-field="params.geometries"] input[data-option=point]');
  await addItems(page, 'params.attributes', ['color', 'occluded', 'confidence']);
  await page.selectOption('[data-field="params.attributes[0].type"] select', 'category');
  await waitVisible(page, 'input[data-add-for="params.attributes[0].choices"]', 'the choices of a category attribute');
  await addItems(page, 'params.attributes[0].choices', ['red', 'blue']);
  await page.check('[data-field="params.attributes[1].required"] input');
  await page.selectOption('[data-field="params.attributes[2].type"] select', 'number');
  await page.fill('[data-field="params.attributes[2].min"] input', '0');
  await page.fill('[data-field="params.attributes[2].max"] input', '1');
  await screenshot(page, 'manage-new-imageannotation');
  let id = await createAndWait(page);
  assert.deepEqual((await getProject(id)).params, {
    labels: [{ name: 'person' }, { name: 'car' }],
    geometries: ['box', 'polygon'],
    attributes: [
      { name: 'color', type: 'category', choices: [{ name: 'red' }, { name: 'blue' }], required: false },
      { name: 'occluded', type: 'boolean', required: true },
      { name: 'confidence', type: 'number', min: 0, max: 1, required: false },
    ],
  });

  await page.goto(`${srv.base}/#/projects/new`);
  await waitVisible(page, 'input[data-kind=comparison]', 'the new-project form again');
  await page.fill('[data-field=name] input', 'Which answer');
  await page.check('input[data-kind=comparison]');
  await page.uncheck('[data-field="params.allow_tie"] input');
  await page.uncheck('[data-field="params.allow_both_bad"] input');
  await page.check('[data-field="params.strength"] input');
  await addItems(page, 'params.aspects', ['accuracy', 'style']);
  await page.selectOption('[data-field="params.justification"] select', 'required');
  id = await createAndWait(page);
  assert.deepEqual((await getProject(id)).params, { allow_tie: false, allow_both_bad: false, strength: true, aspects: [{ name: 'accuracy' }, { name: 'style' }], justification: 'required' });

  await page.goto(`${srv.base}/#/projects/new`);
  await waitVisible(page, 'input[data-kind=textcollection]', 'the new-project form again');
  await page.fill('[data-field=name] input', 'Q and A');
  await page.check('input[data-kind=textcollection]');
  await page.fill('[data-field="params.max_length"] input', '2000');
  await addItems(page, 'params.fields', ['question', 'answer']);
  await page.fill('[data-field="params.fields[0].max_length"] input', '300');
  await page.uncheck('[data-field="params.fields[1].required"] input');
  await screenshot(page, 'manage-new-textcollection');
  id = await createAndWait(page);
  assert.deepEqual((await getProject(id)).params, {
    min_length: 1,
    max_length: 2000,
    fields: [
      { name: 'question', min_length: 1, max_length: 300, required: true },
      { name: 'answer', min_length: 1, max_length: 2000, required: false },
    ],
    allow_reject: false,
  });

  // a red-team project picks its target among the registered endpoints
  const a = expectStatus(await srv.api('POST', '/v1/model-endpoints', { name: 'target-a', base_url: 'http://llm.invalid/v1', model: 'ma' }), 201);
  const b = expectStatus(await srv.api('POST', '/v1/model-endpoints', { name: 'target-b', base_url: 'http://llm.invalid/v1', model: 'mb' }), 201);
  await page.goto(`${srv.base}/#/projects/new`);
  await waitVisible(page, 'input[data-kind=redteam]', 'the new-project form again');
  await page.fill('[data-field=name] input', 'Red team');
  await page.check('input[data-kind=redteam]');
  await waitVisible(page, '[data-field="params.endpoint_id"] select', 'the endpoint choice');
  const offered = await page.$$eval('[data-field="params.endpoint_id"] option', (os) => os.map((o) => o.textContent));
  assert.ok(offered.includes('target-a (ma)') && offered.includes('target-b (mb)'), offered.join('|'));
  await page.selectOption('[data-field="params.endpoint_id"] select', String(b.id));
  await addItems(page, 'params.harm_categories', ['fraud']);
  await screenshot(page, 'manage-new-redteam');
  id = await createAndWait(page);
  const rp = (await getProject(id)).params;
  assert.equal(rp.endpoint_id, b.id, `the project attacks ${rp.endpoint_id}, not ${b.id} (${a.id} was the other)`);

  // a segmentation project: its labels (the mask layers) and the overlay's opacity
  await page.goto(`${srv.base}/#/projects/new`);
  await waitVisible(page, 'input[data-kind=segmentation]', 'the new-project form again');
  await page.fill('[data-field=name] input', 'Street masks');
  await page.check('input[data-kind=segmentation]');
  await addItems(page, 'params.labels', ['road', 'car']);
  await page.fill('[data-field="params.opacity"] input', '0.3');
  await screenshot(page, 'manage-new-segmentation');
  id = await createAndWait(page);
  assert.deepEqual((await getProject(id)).params, { labels: [{ name: 'road' }, { name: 'car' }], opacity: 0.3 });
});

browserTest('a 422 from the server is shown next to the field it names', async ({ page, requests }) => {
  const before = await projectIds();
  await openNewForm(page);
  await page.fill('[data-field=name] input', 'Duplicates');
  await addItems(page, 'params.labels', ['yes', 'no', 'yes']);
  await page.click('[data-action=save]');
  const row = '[data-field="params.labels[2]"]';
  const msg = await waitText(page, `${row} [data-testid=field-error]`, /already the name of label 1/, 'the duplicate error in the third label\'s row');
  assert.ok(!/params\./.test(msg), `the message speaks of "label 1", not of params paths: ${msg}`);
  assert.equal(await page.getAttribute(`${row} input[data-role=name]`, 'aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset?.field), 'params.labels[2].name', 'the bad name has the focus');
  assert.equal(await page.$$eval('[data-testid=field-error]', (e) => e.length), 1, 'one error, at that field');
  await screenshot(page, 'manage-422-duplicate-label');
  const posted = requests.filter((r) => r.method === 'POST' && r.path === '/v1/projects');
  assert.equal(posted.length, 1);
  assert.equal(posted[0].status, 422, 'the error came from the server');
  // Typing a fix clears it; a policy value out of range is shown at its field.
  await page.fill(`${row} input[data-role=name]`, 'maybe');
  await until(async () => (await page.$$('[data-testid=field-error]')).length === 0, 'the error to clear when the name is fixed');
  await page.fill('[data-field=overlap] input', '500');
  await page.click('[data-action=save]');
  await waitText(page, '[data-field=overlap] [data-testid=field-error]', /between 1 and 100/, 'the overlap error next to the overlap field');
  await screenshot(page, 'manage-422-overlap');
  assert.deepEqual(await projectIds(), before, 'nothing was created by refused forms');
  await page.fill('[data-field=overlap] input', '3');
  const id = await createAndWait(page);
  const p = await getProject(id);
  assert.deepEqual(p.params.labels, [{ name: 'yes' }, { name: 'no' }, { name: 'maybe' }]);
  assert.equal(p.overlap, 3);
});

browserTest('settings: the form is filled from the project, a save PATCHes only what changed, JSON round-trips', async ({ page, requests }) => {
  const p = await openSettings(page, { params: { labels: ['cat', { name: 'dog', description: 'woof' }] }, overlap: 1, callback_url: 'https://hooks.example.com/x' });
  assert.deepEqual(await rowNames(page, 'params.labels'), ['cat', 'dog']);
  assert.equal(await page.inputValue('[data-field="params.labels[1].description"]'), 'woof');
  assert.equal(await page.inputValue('[data-field=overlap] input'), '1');
  assert.equal(await page.inputValue('[data-field=callback_url] input'), 'https://hooks.example.com/x');
  assert.match(await textOf(page, '[data-testid=kind]'), /categorization/);
  assert.equal(await page.$$('input[data-kind]').then((x) => x.length), 0, 'the kind cannot be changed');
  await screenshot(page, 'manage-settings');

  await page.fill('[data-field=overlap] input', '3');
  await page.fill('[data-field="params.labels[1].name"]', 'puppy');
  await page.check('[data-field="params.multiple"] input');
  await waitVisible(page, '[data-testid=dirty]', 'the unsaved-changes note');
  await clearStatusLog(page);
  await page.click('[data-action=save]');
  await waitStatus(page, /Saved/);
  const patches = requests.filter((r) => r.method === 'PATCH');
  assert.equal(patches.length, 1);
  assert.deepEqual(Object.keys(JSON.parse(patches[0].body)).sort(), ['overlap', 'params'], 'only the changed fields are sent');
  let got = await getProject(p.id);
  assert.equal(got.overlap, 3);
  assert.deepEqual(got.params, { labels: [{ name: 'cat' }, { name: 'puppy', description: 'woof' }], multiple: true });
  assert.equal(got.callback_url, 'https://hooks.example.com/x');

  // The uncertainty measure shows with the uncertainty strategy only.
  assert.equal(await page.isVisible('[data-field=uncertainty_measure] select'), false, 'no measure for fifo');
  await page.selectOption('[data-field=strategy] select', 'uncertainty');
  await waitVisible(page, '[data-field=uncertainty_measure] select', 'the measure, for active learning');
  await page.selectOption('[data-field=uncertainty_measure] select', 'margin');
  await waitText(page, '[data-field=uncertainty_measure] .pf-help', /closest call/);
  await clearStatusLog(page);
  await page.click('[data-action=save]');
  await waitStatus(page, /Saved/);
  assert.deepEqual(JSON.parse(requests.filter((r) => r.method === 'PATCH').at(-1).body), { strategy: 'uncertainty', uncertainty_measure: 'margin' });
  got = await getProject(p.id);
  assert.equal(got.strategy, 'uncertainty');
  assert.equal(got.uncertainty_measure, 'margin');
  await page.selectOption('[data-field=strategy] select', 'disagreement');
  assert.equal(await page.isVisible('[data-field=uncertainty_measure] select'), false, 'no measure for disagreement');
  await clearStatusLog(page);
  await page.click('[data-action=save]');
  await waitStatus(page, /Saved/);
  assert.equal((await getProject(p.id)).strategy, 'disagreement');

  // Nothing changed: nothing is sent.
  await clearStatusLog(page);
  await page.click('[data-action=save]');
  await waitStatus(page, /Nothing to save/);
  assert.equal(requests.filter((r) => r.method === 'PATCH').length, 3);

  // Edit as JSON: what the form holds, and back.
  await page.click('[data-action=toggle-json]');
  await waitVisible(page, '[data-testid=params-json]', 'the JSON editor');
  const shown = JSON.parse(await page.inputValue('[data-testid=params-json]'));
  assert.deepEqual(shown, got.params, 'the JSON is the params as stored');
  shown.labels.push({ name: 'fish', description: 'in water' });
  shown.instructions = 'Only *one* animal.';
  await page.fill('[data-testid=params-json]', JSON.stringify(shown, null, 2));
  await page.click('[data-action=toggle-json]');
  await waitVisible(page, '[data-field="params.labels[2]"]', 'the label added in JSON, back in the form');
  assert.deepEqual(await rowNames(page, 'params.labels'), ['cat', 'puppy', 'fish']);
  assert.equal(await page.inputValue('[data-testid=instructions]'), 'Only *one* animal.');
  await waitText(page, '[data-testid=instructions-preview] em', /^one$/);
  // Bad JSON stays in JSON mode with the error next to it.
  await page.click('[data-action=toggle-json]');
  await page.fill('[data-testid=params-json]', '{"labels": [');
  await page.click('[data-action=toggle-json]');
  await waitText(page, '[data-field=params] [data-testid=field-error]', /Not valid JSON/);
  await page.fill('[data-testid=params-json]', JSON.stringify(shown));
  await page.click('[data-action=toggle-json]');
  await waitVisible(page, '[data-field="params.labels[2]"]', 'the form again');
  await clearStatusLog(page);
  await page.click('[data-action=save]');
  await waitStatus(page, /Saved: params/);
  const last = requests.filter((r) => r.method === 'PATCH').at(-1);
  assert.deepEqual(Object.keys(JSON.parse(last.body)), ['params']);
  got = await getProject(p.id);
  assert.deepEqual(got.params.labels, [{ name: 'cat' }, { name: 'puppy', description: 'woof' }, { name: 'fish', description: 'in water' }]);
  assert.equal(got.params.instructions, 'Only *one* animal.');
  // Clearing the callback URL sends null.
  await page.fill('[data-field=callback_url] input', '');
  await clearStatusLog(page);
  await page.click('[data-action=save]');
  await waitStatus(page, /Saved: callback_url/);
  assert.equal((await getProject(p.id)).callback_url, null);
});

browserTest('auto-labeling: a manager sees the figures, a bad value is shown at its field, turning it on lets the model label; its tasks say so', async ({ page, requests }) => {
  // 20 tasks labelled by the admin after model m predicted them right
  // (0.95), five more it is surer of (0.97): the threshold is 0.95.
  const tasks = [];
  for (let i = 0; i < 25; i++) tasks.push({ unique_id: `a${i}`, data: { text: `task ${i}` }, predictions: [{ model: 'm', response: { labels: ['cat'] }, score: i < 20 ? 0.95 : 0.97 }] });
  const p = await openSettings(page, { params: { labels: ['cat', 'dog'] }, auto_label: { model: 'm', min_holdout: 20, target_precision: 0.9 } });
  expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, tasks), 200);
  for (let n = 0; n < 20; n++) {
    const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`), 200).assignment;
    expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `au-${a.id}`, response: { labels: ['cat'] } }), 201);
  }
  await page.reload();
  await waitVisible(page, '[data-testid=project-form]', 'the settings form');
  assert.equal(await page.isChecked('[data-field="auto_label.enabled"] input'), false);
  assert.equal(await page.inputValue('[data-field="auto_label.target_precision"] input'), '0.9');
  assert.equal(await page.inputValue('[data-field="auto_label.model"] input'), 'm');
  await waitText(page, '[data-testid=auto-label-figures]', /Threshold 0\.95: 100% right .* on the 20 held-out labels .* 5 open tasks eligible, 0 labeled by the model/, 'the figures of GET .../autolabel');
  await screenshot(page, 'manage-auto-label');
  // Out of range: the server's 422 at the field.
  await page.fill('[data-field="auto_label.target_precision"] input', '1.5');
  await page.click('[data-action=save]');
  await waitText(page, '[data-field="auto_label.target_precision"] [data-testid=field-error]', /between 0.5 and 1/, 'the error next to the target precision');
  // On, with no spot checks.
  await page.fill('[data-field="auto_label.target_precision"] input', '0.9');
  await page.fill('[data-field="auto_label.spot_check_rate"] input', '0');
  await page.check('[data-field="auto_label.enabled"] input');
  await clearStatusLog(page);
  await page.click('[data-action=save]');
  await waitStatus(page, /Saved/);
  const last = requests.filter((r) => r.method === 'PATCH').at(-1);
  assert.deepEqual(Object.keys(JSON.parse(last.body)), ['auto_label']);
  const got = await getProject(p.id);
  assert.deepEqual(got.auto_label, { enabled: true, model: 'm', target_precision: 0.9, spot_check_rate: 0, min_holdout: 20 });
  // The model labels the five (the learner's round, every 3 s by default).
  await until(
    async () => expectStatus(await srv.api('GET', `/v1/projects/${p.id}/autolabel`), 200).auto_labeled === 5,
    'the model to label the five tasks it is sure of',
    20000,
  );
  await page.goto(`${srv.base}/#/projects/${p.id}/tasks?status=completed`);
  await until(async () => (await page.$$('[data-testid=auto-label][data-auto-label=model]')).length === 5, async () => `five rows labeled by the model; the page shows ${await pageText(page)}`);
  const t = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/tasks?auto_label=model&limit=1`), 200).items[0];
  await page.goto(`${srv.base}/#/tasks/${t.id}`);
  await waitText(page, '[data-testid=auto-label]', /labeled by model/, 'the badge on the task');
  await waitText(page, '[data-field=method]', /labeled by a model/, "the result's method");
  await screenshot(page, 'task-auto-labeled');
});

browserTest('members: add a user by email, change their role, remove them; the last manager stays', async ({ page }) => {
  const p = await openSettings(page, { params: { labels: ['a', 'b'] } });
  const rita = await makeAnnotator(srv, 'rita-members@test.io', PASSWORD);
  await openTab(page, 'members');
  await waitVisible(page, '[data-testid=members] tr[data-user-id]', 'the member list');
  await page.fill('[data-testid=member-user]', rita.email);
  await page.selectOption('[data-testid=member-role]', 'reviewer');
  await page.click('[data-action=add-member]');
  const row = `[data-testid=members] tr[data-user-id="${rita.id}"]`;
  await waitVisible(page, row, 'the new member in the list');
  let members = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/members`), 200).items;
  assert.equal(members.find((m) => m.user_id === rita.id)?.role, 'reviewer');
  await screenshot(page, 'manage-members');

  await page.selectOption(`${row} select`, 'annotator');
  await until(async () => expectStatus(await srv.api('GET', `/v1/projects/${p.id}/members`), 200).items.find((m) => m.user_id === rita.id)?.role === 'annotator', 'the role change to reach the server');

  // The admin is the project's only manager: demoting them is refused, and the select goes back.
  const me = expectStatus(await srv.api('GET', '/v1/me'), 200);
  const mine = `[data-testid=members] tr[data-user-id="${me.id}"]`;
  await page.selectOption(`${mine} select`, 'reviewer');
  await waitText(page, `${mine} .pf-row-error`, /last manager/);
  assert.equal(await page.inputValue(`${mine} select`), 'manager');

  await page.click(`${row} [data-action=remove-member]`);
  await waitText(page, `${row} [data-action=remove-member]`, /Remove rita-members@test.io\?/, 'the remove button asking to confirm');
  await page.click(`${row} [data-action=remove-member]`);
  await until(async () => !(await page.$(row)), 'the removed member to leave the list');
  members = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/members`), 200).items;
  assert.ok(!members.some((m) => m.user_id === rita.id), 'the member was removed');
  // An unknown email is refused in the form, with nothing sent.
  await page.fill('[data-testid=member-user]', 'nobody@nowhere.io');
  await page.click('[data-action=add-member]');
  await waitText(page, '[data-testid=member-error]', /No user with the email nobody@nowhere.io/);
});

browserTest('a reviewer sees the settings read-only and may export; nothing lets them change the project', async ({ page, requests }) => {
  const p = expectStatus(await srv.api('POST', '/v1/projects', { name: 'read-only', kind: 'categorization', params: { labels: ['a', 'b'] } }), 201);
  const rev = await makeAnnotator(srv, 'reviewer-ro@test.io', PASSWORD);
  expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${rev.id}`, { role: 'reviewer' }), 200);
  await login(page, srv, rev.email, PASSWORD);
  await page.goto(`${srv.base}/#/projects/${p.id}/settings`);
  await waitVisible(page, '[data-testid=project-form]', 'the settings form');
  await waitText(page, '[data-panel=settings] .note', /Only a manager of this project can change its settings \(you are reviewer\)/);
  assert.equal(await page.isDisabled('[data-action=save]'), true);
  assert.equal(await page.isDisabled('[data-field="params.labels[0].name"]'), true);
  assert.equal(await page.$('[role=tab][data-tab=import]'), null, 'no import tab for a reviewer');
  await openTab(page, 'members');
  await waitVisible(page, '[data-testid=members] tr[data-user-id]', 'the member list');
  assert.equal(await page.$('[data-action=add-member]'), null);
  await openTab(page, 'export');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-link]')]);
  assert.equal(download.suggestedFilename(), `project-${p.id}-tasks.ndjson`);
  assert.equal(requests.filter((r) => !['GET', 'HEAD'].includes(r.method) && r.path !== '/v1/sessions').length, 0, 'nothing was sent but reads');
  await screenshot(page, 'manage-reviewer-readonly');
});

browserTest('import an NDJSON file with a bad line into a new batch; see the counts and the line', async ({ page, requests }) => {
  const p = await openSettings(page, { params: { labels: ['pos', 'neg'] } });
  await openTab(page, 'import');
  const lines = [
    JSON.stringify({ unique_id: 'r1', data: { text: 'great' } }),
    JSON.stringify({ unique_id: 'r2', data: { text: 'awful' } }),
    JSON.stringify({ unique_id: 'r3', priority: 'urgent' }),
    '',
    JSON.stringify({ unique_id: 'r4', data: { text: 'fine' }, tags: ['x'] }),
    '{"unique_id": "r5", "data": {',
    JSON.stringify({ unique_id: 'r6', data: { text: 'meh' } }),
  ];
  await page.setInputFiles('[data-testid=import-file]', { name: 'reviews.ndjson', mimeType: 'application/x-ndjson', buffer: Buffer.from(lines.join('\n') + '\n') });
  await waitText(page, '[data-testid=file-info]', /reviews\.ndjson.*NDJSON/);
  await page.check('input[data-batch-mode=new]');
  await page.fill('[data-testid=import-new-batch]', 'wave-1');
  await screenshot(page, 'manage-import-ready');
  await page.click('[data-action=import]');
  await waitVisible(page, '[data-testid=import-result] [data-count=created]', 'the import result');
  assert.equal(await textOf(page, '[data-testid=import-result] [data-count=created]'), '4');
  assert.equal(await textOf(page, '[data-testid=import-result] [data-count=duplicates]'), '0');
  assert.equal(await textOf(page, '[data-testid=import-result] [data-count=invalid]'), '2');
  const bad = await page.$$eval('[data-testid=invalid-rows] tbody tr', (rows) =>
    rows.map((r) => Object.fromEntries([...r.querySelectorAll('[data-field]')].map((c) => [c.dataset.field, c.innerText.trim()]))),
  );
  assert.equal(bad.length, 2);
  assert.equal(bad[0].line, '3');
  assert.equal(bad[0].field, 'priority');
  assert.match(bad[0].message, /integer|number/);
  assert.equal(bad[1].line, '6');
  assert.match(bad[1].message, /invalid JSON/);
  await screenshot(page, 'manage-import-result');

  const batches = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/batches`), 200).items;
  assert.deepEqual(batches.map((b) => b.name), ['wave-1']);
  assert.equal(batches[0].counts.total, 4);
  const tasks = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/tasks`), 200).items;
  assert.deepEqual(tasks.map((t) => t.unique_id), ['r1', 'r2', 'r4', 'r6']);
  assert.ok(tasks.every((t) => t.batch_id === batches[0].id), 'every task is in the new batch');

  // The batch is in staging; the page starts it.
  await waitText(page, '[data-testid=import-result] .note', /batch wave-1, in staging/);
  const brow = `[data-testid=batches] tr[data-batch-id="${batches[0].id}"]`;
  await waitVisible(page, `${brow} [data-action=finalize]`, 'the Start work button of the staging batch');
  await page.click(`${brow} [data-action=finalize]`);
  await waitText(page, `${brow} [data-field=status]`, /in progress/);
  assert.equal(expectStatus(await srv.api('GET', `/v1/batches/${batches[0].id}`), 200).status, 'in_progress');

  // The same file again, with no batch: all duplicates.
  await page.check('input[data-batch-mode=none]');
  await page.click('[data-action=import]');
  await waitText(page, '[data-testid=import-result] [data-count=duplicates]', /^4$/);
  // A JSON array dropped on the drop zone.
  const arr = JSON.stringify([{ unique_id: 'd1', data: { text: 'dropped' } }, { unique_id: 'd2', data: { text: 'too' } }], null, 2);
  await page.evaluate((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'dropped.json', { type: 'application/json' }));
    const zone = document.querySelector('[data-testid=drop-zone]');
    zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, arr);
  await waitText(page, '[data-testid=file-info]', /dropped\.json.*a JSON array of tasks/);
  await page.click('[data-action=import]');
  await waitText(page, '[data-testid=import-result] h3', /dropped\.json/);
  assert.equal(await textOf(page, '[data-testid=import-result] [data-count=created]'), '2');
  // A CSV file: a header row, a quoted field with a comma, a row with a
  // missing field reported by its line.
  const csv = 'unique_id,text,source\nc1,"Late, and cold",email\nc2,Fine\nc3,Great,chat\n';
  await page.setInputFiles('[data-testid=import-file]', { name: 'reviews.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await waitText(page, '[data-testid=file-info]', /reviews\.csv.*CSV, one task per row/);
  await page.click('[data-action=import]');
  await waitText(page, '[data-testid=import-result] h3', /reviews\.csv/);
  assert.equal(await textOf(page, '[data-testid=import-result] [data-count=created]'), '2');
  await waitText(page, '[data-testid=import-result] tr[data-line="3"] [data-field=message]', /has 2 fields, the header has 3/);
  const c1 = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/tasks?unique_id=c1`), 200).items[0];
  assert.deepEqual(c1.data, { text: 'Late, and cold', source: 'email' });
  const posted = requests.filter((r) => r.method === 'POST' && r.path === `/v1/projects/${p.id}/tasks`);
  assert.equal(posted.length, 4, 'four imports were sent');
  assert.equal((await getProject(p.id)).counts.total, 8);
  // A file that is not JSON is refused in the browser.
  await page.setInputFiles('[data-testid=import-file]', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello\n') });
  await waitText(page, '[data-testid=file-info]', /does not look like JSON/);
  assert.equal(await page.isDisabled('[data-action=import]'), true);
});

browserTest('export: the download holds the tasks with results and annotations, as the API says', async ({ page }) => {
  const p = expectStatus(await srv.api('POST', '/v1/projects', { name: 'exported', kind: 'categorization', params: { labels: ['cat', 'dog'] }, overlap: 1 }), 201);
  const rows = ['one', 'two', 'three'].map((t, i) => JSON.stringify({ unique_id: `e${i}`, data: { text: t } })).join('\n');
  expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, rows, { headers: { 'content-type': 'application/x-ndjson' } }), 200);
  const ann = await makeAnnotator(srv, 'exporter-ann@test.io', PASSWORD, [p.id]);
  const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ann.key }), 200).assignment;
  expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: 'x1', response: { labels: ['dog'] } }, { key: ann.key }), 201);

  await login(page, srv, ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.goto(`${srv.base}/#/projects/${p.id}/settings`);
  await waitVisible(page, '[role=tab][data-tab=export]', 'the export tab');
  await openTab(page, 'export');
  await page.check('input[data-export-format=json]');
  await page.check('[data-testid=export-annotations]');
  await waitText(page, '[data-testid=export-estimate]', /^3 tasks$/);
  await screenshot(page, 'manage-export');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-link]')]);
  assert.equal(download.suggestedFilename(), `project-${p.id}-tasks.json`);
  const got = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  const r = await srv.api('GET', `/v1/projects/${p.id}/export?format=json&include=annotations`);
  expectStatus(r, 200);
  const api = JSON.parse(r.text);
  assert.deepEqual(got, api);
  assert.equal(got.length, 3);
  const done = got.find((t) => t.id === a.task_id);
  assert.deepEqual(done.result.response, { labels: ['dog'] });
  assert.deepEqual(done.annotations.map((x) => [x.user_id, x.response]), [[ann.id, { labels: ['dog'] }]]);

  // NDJSON of the completed tasks only.
  await page.check('input[data-export-format=ndjson]');
  await page.uncheck('[data-testid=export-annotations]');
  await page.selectOption('[data-testid=export-status]', 'completed');
  await waitText(page, '[data-testid=export-estimate]', /^1 task$/);
  const [nd] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-link]')]);
  assert.equal(nd.suggestedFilename(), `project-${p.id}-tasks.ndjson`);
  const text = fs.readFileSync(await nd.path(), 'utf8');
  const lines = text.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((t) => t.id), [a.task_id]);
  assert.equal(lines[0].annotations, undefined);

  // Workers as pseudonyms: the download is the API's, with no user id in it.
  await page.check('[data-testid=export-annotations]');
  await page.selectOption('[data-testid=export-workers]', 'pseudonyms');
  await waitText(page, '[data-testid=export-url]', /workers=pseudonyms/);
  const [ps] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-link]')]);
  const psText = fs.readFileSync(await ps.path(), 'utf8');
  assert.equal(psText, (await srv.api('GET', `/v1/projects/${p.id}/export?format=ndjson&include=annotations&status=completed&workers=pseudonyms`)).text);
  assert.match(JSON.parse(psText.trim()).annotations[0].user_id, /^w_[0-9a-f]{12}$/);
  await page.selectOption('[data-testid=export-workers]', 'ids');
  await page.uncheck('[data-testid=export-annotations]');

  // The kind's own formats are offered too (GET /v1/kinds): CSV here.
  const offered = await page.$$eval('input[data-export-format]', (rs) => rs.map((r) => r.value));
  assert.deepEqual(offered, ['ndjson', 'json', 'csv'], 'the formats offered for a categorization project');
  await page.check('input[data-export-format=csv]');
  await waitText(page, '[data-testid=export-link]', /^Download CSV$/);
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-link]')]);
  assert.equal(csv.suggestedFilename(), `project-${p.id}-tasks.csv`);
  const csvText = fs.readFileSync(await csv.path(), 'utf8');
  assert.equal(csvText, (await srv.api('GET', `/v1/projects/${p.id}/export?format=csv&status=completed`)).text);
  assert.match(csvText, /"dog"/);
});
