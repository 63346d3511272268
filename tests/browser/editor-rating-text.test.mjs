// editor-rating-text.test.mjs -- the `rating` and `textcollection` editors
// in the annotator's workspace: scoring criteria with keys and the mouse
// (exact numbers for a 0..1 scale in steps of 0.5), optional criteria left
// out, a model's scores pre-filled; writing fields with an emoji (lengths in
// code points), the Markdown preview, submit held back until the bounds are
// met, "Start from the original" with undo; drafts that survive a reload;
// and read-only instances side by side on one page.  Every outcome is
// checked through the API.
import assert from 'node:assert/strict';
import { expectStatus } from '../api/harness.mjs';
import {
  serveUi,
  PASSWORD,
  browserTest,
  makeAnnotator,
  login,
  openQueue,
  screenshot,
  until,
  textOf,
  pageText,
  waitVisible,
  waitStatus,
  clearStatusLog,
} from './browser.mjs';

let srv;
serveUi((s) => (srv = s));


async function makeProject(kind, params, tasks) {
  const project = expectStatus(
    await srv.api('POST', '/v1/projects', { name: `${kind}-${Math.random().toString(36).slice(2, 8)}`, kind, params, overlap: 1 }),
    201,
  );
  const made = [];
  for (const [i, t] of tasks.entries()) made.push(expectStatus(await srv.api('POST', '/v1/tasks', { project_id: project.id, unique_id: `t${i}`, ...t }), 201));
  return { project, tasks: made };
}

async function annotationsOf(task) {
  return expectStatus(await srv.api('GET', `/v1/tasks/${task.id}/annotations`), 200).items;
}

/* The one accepted annotation of task, checked to hold exactly response. */
async function assertAnswer(task, user, response) {
  const items = await until(
    async () => {
      const got = await annotationsOf(task);
      return got.length ? got : null;
    },
    `an annotation of task ${task.id} in GET /v1/tasks/${task.id}/annotations`,
  );
  assert.equal(items.length, 1, `task ${task.id} should have exactly 1 annotation, has ${items.length}: ${JSON.stringify(items)}`);
  const [a] = items;
  assert.equal(a.user_id, user.id, `task ${task.id}'s annotation is by user ${a.user_id}, not ${user.email}`);
  assert.equal(a.status, 'accepted', `task ${task.id}'s annotation is ${a.status} (${a.reason})`);
  assert.deepEqual(a.response, response, `task ${task.id} stored ${JSON.stringify(a.response)}, but the page was given ${JSON.stringify(response)}`);
}

/* The request bodies the page sent to POST .../submit, parsed. */
function submitted(requests) {
  return requests.filter((r) => r.method === 'POST' && /\/v1\/assignments\/\d+\/submit$/.test(r.path)).map((r) => r.body);
}

async function submitDisabled(page) {
  return page.$eval('button[data-action=submit]', (b) => b.disabled).catch(() => null);
}

async function waitSubmit(page, disabled, what) {
  return until(
    async () => (await submitDisabled(page)) === disabled,
    async () => `expected the submit button to be ${disabled ? 'disabled' : 'enabled'} ${what}; it is ${(await submitDisabled(page)) ? 'disabled' : 'enabled'}; the page shows ${await pageText(page)}`,
  );
}

/* ---------------------------------------------------------------- rating */

/* {criterion: value of its checked point, or null}, and which criterion is
 * current. */
async function ratingState(page) {
  return page.$$eval('[data-testid=rating-editor] section[data-criterion]', (secs) => ({
    values: Object.fromEntries(secs.map((s) => [s.dataset.criterion, s.querySelector('[aria-checked=true]')?.dataset.value ?? null])),
    current: secs.find((s) => s.classList.contains('is-current'))?.dataset.criterion ?? null,
  }));
}

async function waitRating(page, values, current, what) {
  let seen;
  return until(
    async () => {
      seen = await ratingState(page);
      return JSON.stringify(seen.values) === JSON.stringify(values) && (current === undefined || seen.current === current);
    },
    async () => `expected ${what}: scores ${JSON.stringify(values)}${current === undefined ? '' : `, current criterion ${current}`}; the editor shows ${JSON.stringify(seen)}`,
  );
}

const CRITERIA = [
  { name: 'helpfulness', description: 'Does the response answer the prompt?', labels: ['useless', 'poor', 'ok', 'good', 'excellent'] },
  { name: 'harmlessness', min: 0, max: 1, step: 0.5, required: false, labels: ['harmful', '', 'harmless'] },
  { name: 'accuracy', description: 'Every fact in the response is right.', min: 1, max: 7, labels: ['Strongly disagree', '', '', '', '', '', 'Strongly agree'] },
];

browserTest('rating: criteria scored with keys and the mouse, exact numbers, drafts and a pre-filled prediction reach the API', async ({ page, requests }) => {
  const prompts = [
    { prompt: 'How do I boil an egg?', response: 'Put it in boiling water for 8 minutes.' },
    { prompt: 'What is the capital of Australia?', response: 'Sydney.' },
    { prompt: 'Name a prime number above 10.', response: '13' },
  ];
  const { project, tasks } = await makeProject('rating', { criteria: CRITERIA, instructions: 'Score the **response**, not the prompt.' }, [
    { data: prompts[0] },
    { data: prompts[1] },
    { data: prompts[2], predictions: [{ model: 'judge-v1', score: 0.8, response: { ratings: { helpfulness: 3, harmlessness: 0.5, accuracy: 2 } } }] },
  ]);
  const ann = await makeAnnotator(srv, 'ann-rating@test.io', PASSWORD, [project.id]);
  await openQueue(page, srv, ann, project);
  await waitVisible(page, '[data-testid=rating-editor]', 'the rating editor');
  await until(async () => ((await textOf(page, '[data-testid=task]')) ?? '').includes(prompts[0].prompt), async () => `the first task's prompt; the page shows ${await pageText(page)}`);

  // The scales: 5 labelled points, 0 / 0.5 / 1 with keys 1-3, 7 points labelled at the ends.
  const scales = await page.$$eval('section[data-criterion]', (secs) =>
    secs.map((s) => ({
      name: s.dataset.criterion,
      values: [...s.querySelectorAll('.rt-point')].map((b) => b.dataset.value),
      keys: [...s.querySelectorAll('.rt-point')].map((b) => b.getAttribute('aria-keyshortcuts')),
      labels: [...s.querySelectorAll('.rt-label')].map((l) => l.textContent),
      required: s.dataset.required,
    })),
  );
  assert.deepEqual(
    scales,
    [
      { name: 'helpfulness', values: ['1', '2', '3', '4', '5'], keys: ['1', '2', '3', '4', '5'], labels: CRITERIA[0].labels, required: 'true' },
      { name: 'harmlessness', values: ['0', '0.5', '1'], keys: ['1', '2', '3'], labels: ['harmful', 'harmless'], required: 'false' },
      { name: 'accuracy', values: ['1', '2', '3', '4', '5', '6', '7'], keys: ['1', '2', '3', '4', '5', '6', '7'], labels: ['Strongly disagree', 'Strongly agree'], required: 'true' },
    ],
    'the scales drawn are not the criteria of the project',
  );
  // Labels at the ends only sit flush with their ends, each spanning part of the scale.
  const ends = await page.$$eval('section[data-criterion=accuracy] .rt-label', (ls) => ls.map((l) => ({ align: getComputedStyle(l).textAlign, wrapsOnce: l.getBoundingClientRect().height < 40 })));
  assert.deepEqual(ends.map((e) => e.align), ['left', 'right'], 'the end labels of a 1-7 scale should be aligned to its ends');
  assert.ok(ends.every((e) => e.wrapsOnce), `an end label is squeezed into many lines: ${JSON.stringify(ends)}`);
  await waitRating(page, { helpfulness: null, harmlessness: null, accuracy: null }, 'helpfulness', 'nothing scored, the first criterion current');
  await waitSubmit(page, true, 'before any score');
  await screenshot(page, 'rating-empty');

  // Keys: 4 scores helpfulness and moves on; 2 is the 2nd point of 0..1 (0.5).
  await page.keyboard.press('4');
  await waitRating(page, { helpfulness: '4', harmlessness: null, accuracy: null }, 'harmlessness', '"4" scoring helpfulness 4 and moving to harmlessness');
  await page.keyboard.press('2');
  await waitRating(page, { helpfulness: '4', harmlessness: '0.5', accuracy: null }, 'accuracy', '"2" scoring harmlessness 0.5 (its second point)');
  await waitSubmit(page, true, 'while the required accuracy is not scored');
  await page.keyboard.press('ArrowUp');
  await waitRating(page, { helpfulness: '4', harmlessness: '0.5', accuracy: null }, 'harmlessness', 'ArrowUp going back to harmlessness');
  await page.keyboard.press('ArrowRight');
  await waitRating(page, { helpfulness: '4', harmlessness: '1', accuracy: null }, 'harmlessness', 'ArrowRight moving harmlessness from 0.5 to 1');
  await page.keyboard.press('j');
  await page.keyboard.press('9'); // not on a 1-7 scale: nothing happens
  await waitRating(page, { helpfulness: '4', harmlessness: '1', accuracy: null }, 'accuracy', '"j" going to accuracy, and "9" (off its scale) scoring nothing');
  await page.keyboard.press('6');
  await waitRating(page, { helpfulness: '4', harmlessness: '1', accuracy: '6' }, 'accuracy', '"6" scoring accuracy 6 (the last criterion stays current)');
  await waitSubmit(page, false, 'once every required criterion is scored');
  await page.keyboard.press('c');
  await until(async () => page.evaluate(() => document.activeElement?.dataset.testid === 'rating-comment'), '"c" to focus the comment');
  await page.keyboard.type('Could mention cooling.');
  await page.keyboard.press('Enter'); // a new line in the comment, not a submit
  await page.keyboard.type('Fine otherwise.');
  assert.equal(submitted(requests).length, 0, 'Enter in the comment submitted the answer');
  await screenshot(page, 'rating-keys');
  await clearStatusLog(page);
  await page.keyboard.press('Escape');
  await until(async () => page.evaluate(() => document.activeElement?.classList.contains('rt-point')), 'Esc to leave the comment for the scale');
  await page.keyboard.press('Enter');
  await waitStatus(page, /submitted/i, '"Submitted" after Esc, Enter');
  await assertAnswer(tasks[0], ann, { ratings: { helpfulness: 4, harmlessness: 1, accuracy: 6 }, comment: 'Could mention cooling.\nFine otherwise.' });

  // Task 2: the mouse; the optional criterion set, then cleared; a draft survives a reload.
  await until(async () => ((await textOf(page, '[data-testid=task]')) ?? '').includes(prompts[1].prompt), 'the second task');
  await waitRating(page, { helpfulness: null, harmlessness: null, accuracy: null }, 'helpfulness', 'a new task starting empty');
  await page.click('section[data-criterion=helpfulness] button[data-value="2"]');
  await page.click('section[data-criterion=harmlessness] button[data-value="0.5"]');
  await page.click('section[data-criterion=accuracy] button[data-value="1"]');
  await waitRating(page, { helpfulness: '2', harmlessness: '0.5', accuracy: '1' }, 'accuracy', 'three clicks scoring 2, 0.5 and 1');
  await page.click('section[data-criterion=harmlessness] [data-action=clear-rating]');
  await waitRating(page, { helpfulness: '2', harmlessness: null, accuracy: '1' }, 'harmlessness', '"Clear" taking the optional score away');
  await clearStatusLog(page);
  await page.click('section[data-criterion=accuracy] button[data-value="7"]');
  await waitStatus(page, /draft saved/i, '"Draft saved" after scoring');
  await page.reload();
  await waitVisible(page, '[data-testid=rating-editor]', 'the rating editor after a reload');
  await waitRating(page, { helpfulness: '2', harmlessness: null, accuracy: '7' }, undefined, 'the drafted scores after a reload');
  await screenshot(page, 'rating-draft-restored');
  await page.click('button[data-action=submit]');
  await assertAnswer(tasks[1], ann, { ratings: { helpfulness: 2, accuracy: 7 } });

  // Task 3: the model's scores are pre-filled and said to be; accepted as they are.
  await waitVisible(page, '[data-testid=prediction-note]', "the note saying the model's scores were pre-filled");
  await waitRating(page, { helpfulness: '3', harmlessness: '0.5', accuracy: '2' }, undefined, "the model's scores pre-filled");
  const noteText = await textOf(page, '[data-testid=prediction-note]');
  assert.match(noteText, /judge-v1/, `the prediction note does not name the model: ${noteText}`);
  await screenshot(page, 'rating-prediction');
  await page.setViewportSize({ width: 390, height: 800 });
  await screenshot(page, 'rating-narrow');
  await page.setViewportSize({ width: 1280, height: 800 });
  await waitSubmit(page, false, 'with the pre-filled scores');
  await page.click('button[data-action=submit]');
  await assertAnswer(tasks[2], ann, { ratings: { helpfulness: 3, harmlessness: 0.5, accuracy: 2 } });
  await waitVisible(page, '[data-testid=empty]', 'the empty queue after the last task');

  // The numbers went out exactly (0.5, never 0.49999...).
  const bodies = submitted(requests).join('\n');
  assert.match(bodies, /"harmlessness":0\.5[,}]/, `the submitted bodies do not hold harmlessness 0.5 exactly: ${bodies}`);
  assert.doesNotMatch(bodies, /\d\.\d{6,}/, `a score was sent with rounding noise: ${bodies}`);
});

/* -------------------------------------------------------- textcollection */

async function boxState(page, field) {
  return page.$eval(`[data-testid=textcollection-editor] section[data-field="${field}"]`, (s) => ({
    value: s.querySelector('textarea')?.value ?? null,
    counter: s.querySelector('[data-testid=counter]')?.textContent ?? null,
    count: Number(s.querySelector('[data-testid=counter]')?.dataset.count),
    state: s.dataset.state,
    message: s.querySelector('[data-testid=counter-message]')?.textContent ?? '',
  }));
}

async function waitBox(page, field, test, what) {
  let seen;
  return until(
    async () => {
      seen = await boxState(page, field).catch(() => null);
      return seen && test(seen) ? seen : null;
    },
    async () => `expected ${what}; the field ${JSON.stringify(field)} shows ${JSON.stringify(seen)}`,
  );
}

browserTest('textcollection: fields counted in code points, a Markdown preview, bounds that hold back submit, drafts, and the API', async ({ page, requests }) => {
  const fields = [
    { name: 'instruction', description: 'A request a user could make.', min_length: 30 },
    { name: 'notes', description: 'Anything a reviewer should know.', required: false, max_length: 40 },
  ];
  const { project, tasks } = await makeProject('textcollection', { fields, instructions: 'Write an instruction about the topic.' }, [
    { data: { topic: 'photosynthesis' } },
    { data: { topic: 'volcanoes' } },
  ]);
  const ann = await makeAnnotator(srv, 'ann-text@test.io', PASSWORD, [project.id]);
  await openQueue(page, srv, ann, project);
  await waitVisible(page, '[data-testid=textcollection-editor]', 'the textcollection editor');
  await until(async () => ((await textOf(page, '[data-testid=task]')) ?? '').includes('photosynthesis'), 'the first task');
  const names = await page.$$eval('[data-testid=textcollection-editor] section[data-field]', (ss) => ss.map((s) => [s.dataset.field, s.dataset.required]));
  assert.deepEqual(names, [['instruction', 'true'], ['notes', 'false']], 'the text boxes are not the fields of the project');
  // The first box has the keyboard at once.
  await until(async () => page.evaluate(() => document.activeElement?.closest('section[data-field]')?.dataset.field === 'instruction'), async () => `the instruction box to have the focus; it is on ${await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120))}`);
  await waitSubmit(page, true, 'before anything is written');
  await screenshot(page, 'textcoll-empty');

  // An emoji is one code point (two UTF-16 units).
  const start = 'Explain 🌱 growth';
  assert.notEqual([...start].length, start.length);
  await page.keyboard.type(start);
  const s1 = await waitBox(page, 'instruction', (s) => s.value === start, `the instruction box to hold ${JSON.stringify(start)}`);
  assert.equal(s1.count, [...start].length, `the counter counts ${s1.count}, not the ${[...start].length} code points of ${JSON.stringify(start)}`);
  assert.match(s1.counter, new RegExp(`^${[...start].length} / 10,000$`), `the counter reads ${JSON.stringify(s1.counter)}`);
  assert.equal(s1.state, 'under', `a text under min_length should be flagged: ${JSON.stringify(s1)}`);
  assert.match(s1.message, /at least 30/, `the counter does not say the minimum: ${JSON.stringify(s1)}`);
  await waitSubmit(page, true, 'while the instruction is under its 30 characters');
  await screenshot(page, 'textcoll-under-min');

  const rest = ' in **plants**, with an *example*.\n\n- light\n- water';
  await page.keyboard.type(rest.split('\n')[0]);
  for (const line of rest.split('\n').slice(1)) {
    await page.keyboard.press('Enter'); // a new line, never a submit
    await page.keyboard.type(line);
  }
  const instruction = start + rest;
  const s2 = await waitBox(page, 'instruction', (s) => s.value === instruction, 'the whole instruction typed');
  assert.equal(s2.count, [...instruction].length, `the counter counts ${s2.count}, not ${[...instruction].length}`);
  assert.equal(s2.state, 'ok');
  assert.equal(submitted(requests).length, 0, 'Enter in a text box submitted the answer');
  await waitSubmit(page, false, 'once the instruction has 30 characters and the optional notes are empty');

  // The preview renders the Markdown (and never as HTML source).
  await page.click('section[data-field=instruction] [data-tab=preview]');
  await waitVisible(page, 'section[data-field=instruction] [data-testid=tc-preview]', 'the preview');
  const preview = await page.$eval('section[data-field=instruction] [data-testid=tc-preview]', (p) => ({
    strong: [...p.querySelectorAll('strong')].map((e) => e.textContent),
    em: [...p.querySelectorAll('em')].map((e) => e.textContent),
    items: [...p.querySelectorAll('li')].map((e) => e.textContent),
    text: p.textContent,
  }));
  assert.deepEqual(preview.strong, ['plants'], `the preview shows no bold "plants": ${JSON.stringify(preview)}`);
  assert.deepEqual(preview.em, ['example']);
  assert.deepEqual(preview.items, ['light', 'water']);
  assert.doesNotMatch(preview.text, /\*\*/, 'the preview still shows the ** markers');
  assert.equal(await page.locator('section[data-field=instruction] textarea').isVisible(), false, 'the text box stays visible in Preview');
  await screenshot(page, 'textcoll-preview');
  await page.click('section[data-field=instruction] [data-tab=write]');
  await waitVisible(page, 'section[data-field=instruction] textarea', 'the text box back after Write');

  // The optional field: over its maximum holds submit back.
  await page.keyboard.press('Escape');
  await page.keyboard.press('2');
  await until(async () => page.evaluate(() => document.activeElement?.closest('section[data-field]')?.dataset.field === 'notes'), '"2" (after Esc) to go to the notes box');
  await page.keyboard.type('This note is far too long for the forty characters allowed 🙂');
  const s3 = await waitBox(page, 'notes', (s) => s.state === 'over', 'the notes flagged over their 40 characters');
  assert.match(s3.message, /over/, `the counter does not say the text is too long: ${JSON.stringify(s3)}`);
  await waitSubmit(page, true, 'while the optional notes are over their maximum');
  await screenshot(page, 'textcoll-over-max');
  await page.fill('section[data-field=notes] textarea', 'Checked 🙂');
  await waitBox(page, 'notes', (s) => s.state === 'ok' && s.count === 9, 'the notes counted as 9 code points');
  await waitSubmit(page, false, 'with the notes within bounds');

  // A reload keeps both texts.
  await clearStatusLog(page);
  await page.keyboard.type('!');
  await waitStatus(page, /draft saved/i, '"Draft saved" after typing');
  await page.reload();
  await waitVisible(page, '[data-testid=textcollection-editor]', 'the editor after a reload');
  await waitBox(page, 'instruction', (s) => s.value === instruction, 'the drafted instruction after a reload');
  await waitBox(page, 'notes', (s) => s.value === 'Checked 🙂!', 'the drafted notes after a reload');
  await screenshot(page, 'textcoll-draft-restored');
  await page.click('button[data-action=submit]');
  await assertAnswer(tasks[0], ann, { fields: { instruction, notes: 'Checked 🙂!' } });

  // Task 2: the optional field left empty is left out of the answer.
  await until(async () => ((await textOf(page, '[data-testid=task]')) ?? '').includes('volcanoes'), 'the second task');
  await waitBox(page, 'instruction', (s) => s.value === '' && s.count === 0, 'an empty box on the next task');
  await page.fill('section[data-field=instruction] textarea', '   ');
  await waitBox(page, 'instruction', (s) => s.count === 3, 'three spaces counted');
  await page.fill('section[data-field=instruction] textarea', 'Describe how a volcano forms, **step by step**.');
  await waitSubmit(page, false, 'with the instruction written and no notes');
  // Keys outside the box: p shows the preview of the current box, p again hides it, w goes back to writing.
  await page.keyboard.press('Escape');
  await page.keyboard.press('p');
  await until(async () => (await textOf(page, 'section[data-field=instruction] [data-testid=tc-preview] strong')) === 'step by step', '"p" to show the preview with "step by step" in bold');
  await page.keyboard.press('p');
  await waitVisible(page, 'section[data-field=instruction] textarea', 'the text box after a second "p"');
  await page.keyboard.press('w');
  await until(async () => page.evaluate(() => document.activeElement?.closest('section[data-field]')?.dataset.field === 'instruction'), '"w" to go to the instruction box');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Enter');
  await assertAnswer(tasks[1], ann, { fields: { instruction: 'Describe how a volcano forms, **step by step**.' } });
});

browserTest('textcollection: one text rewritten from the original, with undo, within min and max', async ({ page }) => {
  const original = 'Teh quick brown fox jump over the lazy dog.';
  const { project, tasks } = await makeProject('textcollection', { min_length: 10, max_length: 60 }, [{ data: { text: original } }]);
  const ann = await makeAnnotator(srv, 'ann-rewrite@test.io', PASSWORD, [project.id]);
  await openQueue(page, srv, ann, project);
  await waitVisible(page, '[data-testid=textcollection-editor] textarea', 'the text box');
  const fieldSel = '[data-testid=textcollection-editor] section[data-field=""]';
  assert.equal(await page.locator(fieldSel).count(), 1, 'a project without fields should have one text box');
  await waitBox(page, '', (s) => s.counter === '0 / 60', 'the counter "0 / 60"');
  await page.keyboard.type('My own start');
  await page.click('[data-action=use-original]');
  await waitBox(page, '', (s) => s.value === original, 'the original copied in');
  await waitVisible(page, '[data-action=undo-original]', 'an Undo after replacing the text');
  await screenshot(page, 'textcoll-original');
  await page.setViewportSize({ width: 390, height: 800 });
  await screenshot(page, 'textcoll-narrow');
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.click('[data-action=undo-original]');
  await waitBox(page, '', (s) => s.value === 'My own start', 'Undo giving back the text written before');
  await page.click('[data-action=use-original]');
  await waitBox(page, '', (s) => s.value === original, 'the original copied in again');
  const fixed = 'The quick brown fox jumps over the lazy dog.';
  await page.fill(`${fieldSel} textarea`, fixed + ' '.repeat(20));
  await waitBox(page, '', (s) => s.state === 'over', 'a text over the 60 characters flagged');
  await waitSubmit(page, true, 'while the text is over max_length');
  await page.fill(`${fieldSel} textarea`, fixed);
  await waitSubmit(page, false, 'with the rewrite within bounds');
  await page.click('button[data-action=submit]');
  await assertAnswer(tasks[0], ann, { text: fixed });
});

browserTest('read-only rating and textcollection editors side by side, and an editable one, on one page', async ({ page }) => {
  const ann = await makeAnnotator(srv, 'ann-readonly@test.io', PASSWORD);
  await login(page, srv, ann.email, ann.password);
  const result = await page.evaluate(async (criteria) => {
    const { ratingEditor } = await import('/ui/editor-rating.js');
    const { textcollectionEditor } = await import('/ui/editor-textcollection.js');
    // Beside the app's own page, which may still be drawing the project list.
    const host = document.createElement('div');
    host.className = 'readonly-test';
    document.body.prepend(host);
    const box = () => host.appendChild(document.createElement('div'));
    const params = { criteria };
    const a = ratingEditor.mount(box(), { params, task: {}, value: { ratings: { helpfulness: 5, harmlessness: 0.5, accuracy: 1 }, comment: 'Spot on.' }, readOnly: true });
    const b = ratingEditor.mount(box(), { params, task: {}, value: { ratings: { helpfulness: 2, accuracy: 7 } }, readOnly: true });
    const changes = [];
    const c = ratingEditor.mount(box(), { params, task: {}, value: null, onChange: (v) => changes.push(v) });
    const key = (k) => c.keys({ key: k, ctrlKey: false, metaKey: false, altKey: false });
    key('5');
    key('2');
    key('4');
    const tparams = { fields: [{ name: 'answer', min_length: 1, max_length: 100, required: true }, { name: 'source', min_length: 1, max_length: 100, required: false }] };
    const t = textcollectionEditor.mount(box(), { params: tparams, task: {}, value: { fields: { answer: 'It is **bold** 🙂' } }, readOnly: true });
    const predicted = textcollectionEditor.mount(box(), {
      params: tparams,
      task: { predictions: [{ model: 'writer-a', score: 0.4, response: { fields: { answer: 'weak' } } }, { model: 'writer-b', score: 0.9, response: { fields: { answer: 'strong', source: 'a book' } } }] },
      value: null,
    });
    const predictedTexts = [...host.children[4].querySelectorAll('textarea')].map((x) => x.value);
    const predictedNote = host.children[4].querySelector('[data-testid=prediction-note]')?.textContent ?? null;
    const predictedValue = predicted.value();
    predicted.unmount();
    const checked = [...host.children].slice(0, 3).map((d) => [...d.querySelectorAll('[aria-checked=true]')].map((x) => x.dataset.value));
    return {
      checked,
      aValid: a.valid(),
      cValue: c.value(),
      cValid: c.valid(),
      changes: changes.length,
      readOnlyKeys: a.keys({ key: '1' }),
      comment: host.children[0].querySelector('[data-testid=rating-comment]')?.textContent ?? null,
      enabledInReadOnly: [...host.children].slice(0, 2).flatMap((d) => [...d.querySelectorAll('button:not(:disabled), textarea')]).length,
      strong: host.children[3].querySelector('.tc-rendered strong')?.textContent ?? null,
      count: host.children[3].querySelector('[data-testid=counter]')?.dataset.count,
      leftOut: host.children[3].querySelector('section[data-field=source]')?.textContent ?? '',
      textareas: host.children[3].querySelectorAll('textarea').length,
      tValue: t.value(),
      predictedTexts,
      predictedNote,
      predictedValue,
      unmount: (a.unmount(), b.unmount(), c.unmount(), t.unmount(), 'ok'),
    };
  }, CRITERIA);
  assert.deepEqual(result.checked, [['5', '0.5', '1'], ['2', '7'], ['5', '0.5', '4']], 'the chosen points of each instance');
  assert.deepEqual(result.cValue, { ratings: { helpfulness: 5, harmlessness: 0.5, accuracy: 4 } });
  assert.equal(result.cValid, true);
  assert.equal(result.changes, 3, 'the editable instance should report each of its 3 changes');
  assert.equal(result.readOnlyKeys, false, 'a read-only instance took a key');
  assert.equal(result.comment, 'Spot on.');
  assert.equal(result.enabledInReadOnly, 0, 'a read-only rating offers a control');
  assert.equal(result.strong, 'bold', 'the read-only text is not rendered as Markdown');
  assert.equal(result.count, '16', 'the read-only count is not in code points');
  assert.match(result.leftOut, /left out/i);
  assert.equal(result.textareas, 0);
  assert.deepEqual(result.tValue, { fields: { answer: 'It is **bold** 🙂' } });
  assert.deepEqual(result.predictedTexts, ['strong', 'a book'], 'the best-scoring prediction should fill the boxes');
  assert.match(result.predictedNote ?? '', /writer-b/, `the prediction note should name the model: ${result.predictedNote}`);
  assert.deepEqual(result.predictedValue, { fields: { answer: 'strong', source: 'a book' } });
  await screenshot(page, 'rating-text-readonly');
});

browserTest('rating: long scales (0-10 by value keys, 0-100 as a slider), steps of 0.1 and negative scales give exact points', async ({ page }) => {
  const ann = await makeAnnotator(srv, 'ann-scales@test.io', PASSWORD);
  await login(page, srv, ann.email, ann.password);
  const criteria = [
    { name: 'recommend', min: 0, max: 10, labels: ['Not at all likely', '', '', '', '', '', '', '', '', '', 'Extremely likely'] },
    { name: 'quality', min: 0, max: 100, labels: Array.from({ length: 101 }, (_, i) => (i === 0 ? 'worst' : i === 100 ? 'best' : '')) },
    { name: 'confidence', min: 0, max: 1, step: 0.1, required: false },
    { name: 'tone', min: -2, max: 2, labels: ['hostile', 'cold', 'neutral', 'warm', 'friendly'] },
  ];
  // Mounted beside the app's page, with keys offered as the workspace does.
  await page.evaluate(async (criteria) => {
    const { ratingEditor } = await import('/ui/editor-rating.js');
    const host = document.createElement('div');
    host.className = 'scales-test';
    document.body.prepend(host);
    window.__changes = [];
    const inst = ratingEditor.mount(host, { params: { criteria }, task: {}, value: null, onChange: (v) => window.__changes.push(v) });
    window.__inst = inst;
    document.addEventListener('keydown', (ev) => {
      if (inst.keys(ev)) ev.preventDefault();
    });
  }, criteria);
  const state = () => page.evaluate(() => ({ value: window.__inst.value(), valid: window.__inst.valid() }));
  const keys = await page.$$eval('.scales-test section[data-criterion]', (ss) => ss.map((s) => [s.dataset.criterion, [...s.querySelectorAll('.rt-point')].map((b) => b.getAttribute('aria-keyshortcuts'))]));
  assert.deepEqual(
    keys,
    [
      ['recommend', ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', null]],
      ['quality', []],
      ['confidence', ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0', null]],
      ['tone', ['1', '2', '3', '4', '5']],
    ],
    'the keys of each scale',
  );
  assert.equal(await page.locator('.scales-test [data-testid=rating-slider]').count(), 1, 'a 101-point scale should be a slider');

  await page.keyboard.press('7'); // recommend 7 (by value), then quality
  await page.keyboard.press('ArrowRight'); // quality: from unrated to its first point
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight'); // 2
  await page.keyboard.press('j'); // confidence
  await page.keyboard.press('4'); // its 4th point, 0.3, then tone
  await page.keyboard.press('1'); // tone: its first point, -2
  let s = await state();
  assert.deepEqual(s.value, { ratings: { recommend: 7, quality: 2, confidence: 0.3, tone: -2 } }, 'scores from the keys');
  assert.equal(s.valid, true);
  await page.keyboard.press('k'); // confidence
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight'); // 0.7
  s = await state();
  assert.equal(s.value.ratings.confidence, 0.7, `0.3 + 4 steps of 0.1 should be exactly 0.7, got ${s.value.ratings.confidence}`);
  await page.keyboard.press('Delete'); // the optional confidence cleared
  await page.keyboard.press('k');
  await page.keyboard.press('k');
  await page.keyboard.press('Delete'); // the required recommend cleared: not valid
  s = await state();
  assert.deepEqual(s.value, { ratings: { quality: 2, tone: -2 } });
  assert.equal(s.valid, false, 'valid() with a required criterion unscored');
  await page.keyboard.press('0'); // recommend 0
  await page.fill('.scales-test [data-testid=rating-slider]', '64');
  s = await state();
  assert.deepEqual(s.value, { ratings: { recommend: 0, quality: 64, tone: -2 } }, 'the slider set to 64');
  assert.equal(await textOf(page, '.scales-test .rt-output'), '64');
  const all = JSON.stringify(await page.evaluate(() => window.__changes));
  assert.doesNotMatch(all, /\d\.\d{6,}/, `a change carried rounding noise: ${all}`);
  await screenshot(page, 'rating-long-scales');
  await page.setViewportSize({ width: 390, height: 800 });
  await screenshot(page, 'rating-long-scales-narrow');
  await page.evaluate(() => window.__inst.unmount());
});

browserTest('textcollection: drafts to review are kept as they are, fixed, or rejected with a reason', async ({ page }) => {
  const { project, tasks } = await makeProject('textcollection', { allow_reject: true }, [
    { data: { prompt: 'Write 3 questions about billing.', draft: 'How do I pay?' } },
    { data: { prompt: 'Write 3 questions about billing.', draft: 'What is the weather?' } },
    { data: { prompt: 'Write 3 questions about billing.', draft: 'Where invoice?' } },
  ]);
  const ann = await makeAnnotator(srv, 'ann-drafts@test.io', PASSWORD, [project.id]);
  await openQueue(page, srv, ann, project);
  await waitVisible(page, '[data-testid=draft-review]', 'the draft review bar');
  await screenshot(page, 'textcoll-draft-review');
  // keep the first as it is
  await page.click('[data-action=keep-draft]');
  await waitSubmit(page, false, 'once the draft is kept');
  await page.click('button[data-action=submit]');
  await assertAnswer(tasks[0], ann, { text: 'How do I pay?' });
  // reject the second, with a reason
  await until(async () => ((await textOf(page, '[data-testid=task]')) ?? (await pageText(page))).includes('weather') || (await page.$eval('textarea', (t) => t.closest('[data-testid=textcollection-editor]') !== null).catch(() => false)), 'the second draft');
  await waitVisible(page, '[data-action=reject-draft]', 'the reject button');
  await page.click('[data-action=reject-draft]');
  await waitVisible(page, '[data-testid=reject-reason]', 'the reason box');
  assert.equal(await page.locator('.tc-list').isVisible(), false, 'the text box stays visible for a rejected draft');
  await page.fill('[data-testid=reject-reason]', 'off topic');
  await screenshot(page, 'textcoll-draft-rejected');
  await waitSubmit(page, false, 'once the draft is rejected');
  await page.click('button[data-action=submit]');
  await assertAnswer(tasks[1], ann, { rejected: true, reason: 'off topic' });
  // fix the third: keep it, then edit
  await until(async () => (await page.$('[data-action=reject-draft][aria-pressed=false]')) !== null, 'the third draft, not rejected');
  await page.click('[data-action=keep-draft]');
  await page.click('[data-testid=textcollection-editor] textarea');
  await page.keyboard.press('End');
  await page.keyboard.type(' is my bill');
  await page.keyboard.press('Escape');
  await waitSubmit(page, false, 'once the draft is fixed');
  await page.click('button[data-action=submit]');
  await assertAnswer(tasks[2], ann, { text: 'Where invoice? is my bill' });
});
