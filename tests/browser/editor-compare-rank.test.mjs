// editor-compare-rank.test.mjs -- the comparison and ranking editors in
// the annotator's workspace: a blind side-by-side comparison (prompt and
// responses rendered as Markdown with code blocks) answered with the
// keyboard and the mouse, with strength, aspects and a required
// justification; a tie and "both bad"; a ranking reordered by a mouse drag
// and by keys, with a tied group; drafts that survive a reload; and the
// read-only view with several instances on one page.  Every answer is
// checked through GET /v1/tasks/{id}/annotations.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { expectStatus } from '../api/harness.mjs';
import { serveUi, PASSWORD, browserTest, makeAnnotator, openQueue, screenshot, until, textOf, pageText, waitVisible, waitStatus, clearStatusLog, SCREENSHOT_DIR } from './browser.mjs';

let srv;
serveUi((s) => (srv = s));

const rnd = () => Math.random().toString(36).slice(2, 8);

async function makeProject(kind, params) {
  return expectStatus(await srv.api('POST', '/v1/projects', { name: `${kind}-${rnd()}`, kind, params, overlap: 1 }), 201);
}

async function makeTask(project, uniqueId, data, extra = {}) {
  return expectStatus(await srv.api('POST', '/v1/tasks', { project_id: project.id, unique_id: uniqueId, data, ...extra }), 201);
}

async function annotationsOf(task) {
  return expectStatus(await srv.api('GET', `/v1/tasks/${task.id}/annotations`), 200).items;
}

/* Waits until the task has one annotation, and checks it is by user and
 * holds exactly response. */
async function expectAnswer(task, user, response, what) {
  const items = await until(
    async () => {
      const a = await annotationsOf(task);
      return a.length ? a : null;
    },
    `an annotation of task ${task.id} (${what})`,
  );
  assert.equal(items.length, 1, `task ${task.id} should have exactly 1 annotation (${what}), has ${items.length}: ${JSON.stringify(items)}`);
  assert.equal(items[0].user_id, user.id, `task ${task.id}'s annotation is not by ${user.email}`);
  assert.equal(items[0].status, 'accepted', `task ${task.id}'s annotation is ${items[0].status}: ${items[0].reason}`);
  assert.deepEqual(items[0].response, response, `task ${task.id} (${what}) stored ${JSON.stringify(items[0].response)}, expected ${JSON.stringify(response)}`);
}

/* Waits until the workspace shows the task whose editor holds text. */
async function waitEditorText(page, text, what) {
  return until(
    async () => ((await textOf(page, '[data-testid=editor]')) ?? '').includes(text),
    async () => `expected the editor to show ${what} (${JSON.stringify(text)}); the page (${page.url()}) shows ${await pageText(page)}`,
  );
}

/* ---------------- comparison ---------------- */

/* What the comparison editor shows as chosen: {choice, strength, aspects,
 * justification, submitEnabled}. */
async function cmpState(page) {
  return page.evaluate(() => {
    const root = document.querySelector('[data-testid=editor] [data-testid=comparison]');
    if (!root) return null;
    const checked = (sel) => root.querySelector(`${sel} input:checked`)?.value ?? null;
    const aspects = {};
    for (const row of root.querySelectorAll('[data-aspect]')) aspects[row.dataset.aspect] = row.querySelector('input:checked')?.value ?? null;
    return {
      choice: checked('[data-testid=cmp-choice]'),
      strength: checked('[data-testid=cmp-strength]'),
      strengthDisabled: [...root.querySelectorAll('[data-testid=cmp-strength] input')].every((i) => i.disabled),
      aspects,
      justification: root.querySelector('textarea[data-testid=cmp-justification]')?.value ?? null,
      submitEnabled: !document.querySelector('button[data-action=submit]').disabled,
      chosenColumn: root.querySelector('.cmp-col.is-chosen')?.dataset.responseId ?? null,
    };
  });
}

async function waitCmp(page, want, what) {
  let seen;
  return until(
    async () => {
      seen = await cmpState(page);
      if (!seen) return false;
      return Object.entries(want).every(([k, v]) => JSON.stringify(seen[k]) === JSON.stringify(v));
    },
    async () => `expected ${what}: ${JSON.stringify(want)}; the comparison editor shows ${JSON.stringify(seen)}; the page shows ${await pageText(page)}`,
  );
}

const CMP_PARAMS = {
  allow_tie: true,
  strength: true,
  aspects: ['accuracy', { name: 'style', description: 'Clear, friendly, to the point' }],
  justification: 'required',
  instructions: 'Pick the response a careful engineer would rather get.',
};

const CODE_RESPONSE = [
  'Use a loop that halves the range:',
  '',
  '```python',
  'def search(xs, x):',
  '    lo, hi = 0, len(xs)',
  '    while lo < hi:',
  '        mid = (lo + hi) // 2',
  '        if xs[mid] < x: lo = mid + 1',
  '        else: hi = mid',
  '    return lo',
  '```',
  '',
  'It runs in **O(log n)**.',
].join('\n');

browserTest('comparison: keys and mouse pick a response, strength and aspects, a required justification; a draft survives a reload; Enter submits', async ({ page }) => {
  const project = await makeProject('comparison', CMP_PARAMS);
  const task = await makeTask(project, 'c1', {
    prompt: '**Write** a binary search in Python, and say how fast it is.\n\n- keep it short\n- use `while`',
    responses: [
      { id: 'r1', text: CODE_RESPONSE, model: 'secret-model-alpha' },
      { id: 'r2', text: 'Just call `bisect.bisect_left(xs, x)`: the standard library does it.', model: 'secret-model-beta' },
      'Sort the list, then look at *every* element until you find it.',
    ],
  });
  const ann = await makeAnnotator(srv, `cmp-${rnd()}@test.io`, PASSWORD, [project.id]);
  await openQueue(page, srv, ann, project);
  await waitVisible(page, '[data-testid=comparison]', 'the comparison editor');

  // The prompt and the responses, rendered; no model names.
  const prompt = page.locator('[data-testid=cmp-prompt]');
  assert.equal(await prompt.locator('strong').first().textContent(), 'Write', 'the prompt\'s **Write** is not bold');
  assert.equal(await prompt.locator('li').count(), 2, 'the prompt\'s bullet list is not a list');
  const cols = await page.$$eval('.cmp-col', (cs) => cs.map((c) => [c.dataset.responseId, c.dataset.letter]));
  assert.deepEqual(cols, [['r1', 'A'], ['r2', 'B'], ['2', 'C']], 'the responses are not in columns A, B, C with the task\'s ids (a plain string at index 2 has id "2")');
  const code = await page.locator('.cmp-col[data-response-id=r1] pre code').textContent();
  assert.match(code, /^def search\(xs, x\):\n {4}lo, hi = 0, len\(xs\)\n/, `the fenced code block is not kept as code with its indentation: ${JSON.stringify(code)}`);
  assert.equal(await page.locator('.cmp-col[data-response-id=r1] .rich-code[data-lang=python]').count(), 1, 'the code block does not name its language');
  assert.equal(await page.locator('.cmp-col[data-response-id=r1] strong').textContent(), 'O(log n)', 'markdown after the code block is not rendered');
  assert.equal(await page.locator('.cmp-col[data-response-id=r2] code').textContent(), 'bisect.bisect_left(xs, x)');
  const all = await pageText(page, 100000);
  assert.ok(!/secret-model/.test(all), `the page shows a response's model name (the comparison must be blind): ${all}`);
  await waitCmp(page, { choice: null, strength: null, submitEnabled: false }, 'nothing chosen on a new task');
  await screenshot(page, 'comparison-new');

  // Keyboard: 2 picks B; the mouse then picks A.
  await page.keyboard.press('2');
  await waitCmp(page, { choice: 'r2', chosenColumn: 'r2' }, '"2" picks response B');
  await page.click('[data-testid=cmp-choice] label[data-choice=r1]');
  await waitCmp(page, { choice: 'r1', chosenColumn: 'r1', submitEnabled: false }, 'clicking "A is best" picks A');
  // Strength: Shift+3 by key, then "Clearly better" by mouse.
  await page.keyboard.press('Shift+Digit3');
  await waitCmp(page, { strength: '3' }, 'Shift+3 sets "much better"');
  await page.click('[data-testid=cmp-strength] label[data-strength="2"]');
  await waitCmp(page, { strength: '2' }, 'clicking "Clearly better"');
  // Aspects: a click for accuracy; for style, focus its row and press 3 (C).
  await page.click('[data-aspect=accuracy] label[data-value=tie]');
  await page.focus('[data-aspect=style] input[value=r1]');
  await page.keyboard.press('3');
  await waitCmp(page, { choice: 'r1', aspects: { accuracy: 'tie', style: '2' }, submitEnabled: false }, 'accuracy a tie, style C (the focused row took the "3"), the overall choice still A');
  assert.match(await textOf(page, '[data-testid=cmp-missing]'), /justification/, 'the editor does not say the justification is still missing');

  // The justification: Enter in the box is a new line, not a submit.
  await page.click('textarea[data-testid=cmp-justification]');
  await page.keyboard.type('A is correct and shows the code.');
  await page.keyboard.press('Enter');
  await page.keyboard.type('B only names a library call.');
  await waitCmp(page, { justification: 'A is correct and shows the code.\nB only names a library call.', submitEnabled: true }, 'the justification typed, with a new line');
  assert.equal((await annotationsOf(task)).length, 0, 'Enter in the justification submitted the answer');
  await clearStatusLog(page);
  await waitStatus(page, /draft saved/i, '"Draft saved" after the changes');
  await screenshot(page, 'comparison-filled');

  // A reload keeps all of it.
  await page.reload();
  await waitVisible(page, '[data-testid=comparison]', 'the comparison editor after a reload');
  await waitCmp(
    page,
    { choice: 'r1', strength: '2', aspects: { accuracy: 'tie', style: '2' }, justification: 'A is correct and shows the code.\nB only names a library call.', submitEnabled: true },
    'the draft restored after a reload',
  );

  // Enter with the focus outside the box submits.
  await page.focus('[data-testid=cmp-choice] input[value=r1]');
  await clearStatusLog(page);
  await page.keyboard.press('Enter');
  await waitStatus(page, /submitted/i, '"Submitted" after Enter');
  await expectAnswer(task, ann, { choice: 'r1', strength: 2, aspects: { accuracy: 'tie', style: '2' }, justification: 'A is correct and shows the code.\nB only names a library call.' }, 'keys and mouse');
});

browserTest('comparison: a tie (no strength) and "both bad" (its own answer, both_bad), submitted with the button', async ({ page }) => {
  const project = await makeProject('comparison', CMP_PARAMS);
  const t1 = await makeTask(project, 'tie', { prompt: 'Say hello.', responses: ['Hello!', 'Hi there!'] });
  const t2 = await makeTask(project, 'bad', { prompt: 'What is 2 + 2?', responses: [{ id: 'x', text: 'Five.' }, { id: 'y', text: 'Twenty-two.' }] });
  const ann = await makeAnnotator(srv, `tie-${rnd()}@test.io`, PASSWORD, [project.id]);
  await openQueue(page, srv, ann, project);
  await waitEditorText(page, 'Hi there!', 'the first task');

  // A tie by key: strength is off; then the rest by mouse.
  await page.keyboard.press('1');
  await page.keyboard.press('Shift+Digit1');
  await waitCmp(page, { choice: '0', strength: '1' }, 'A, slightly better');
  await page.keyboard.press('t');
  await waitCmp(page, { choice: 'tie', strength: null, strengthDisabled: true, chosenColumn: null }, '"t" makes it a tie, and strength is off');
  await page.click('[data-aspect=accuracy] label[data-value=tie]');
  await page.click('[data-aspect=style] label[data-value="1"]');
  await page.fill('textarea[data-testid=cmp-justification]', 'Both greet; B is warmer.');
  await waitCmp(page, { submitEnabled: true }, 'a complete tie');
  await screenshot(page, 'comparison-tie');
  await page.setViewportSize({ width: 420, height: 900 });
  await screenshot(page, 'comparison-narrow');
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.click('button[data-action=submit]');
  await expectAnswer(t1, ann, { tie: true, aspects: { accuracy: 'tie', style: '1' }, justification: 'Both greet; B is warmer.' }, 'a tie');

  // Both bad: "b" moves to the note (the project requires a justification).
  await waitEditorText(page, 'Twenty-two.', 'the second task');
  await page.click('[data-aspect=accuracy] label[data-value=x]');
  await page.click('[data-aspect=style] label[data-value=tie]');
  await page.locator('[data-testid=editor]').focus();
  await page.keyboard.press('b');
  await waitCmp(page, { choice: 'bad', submitEnabled: false, strengthDisabled: true }, '"b" picks both bad, which needs the required note');
  assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'cmp-justification', '"b" did not move the focus to the note');
  await page.keyboard.type('Both are wrong: the answer is 4.');
  await waitCmp(page, { submitEnabled: true }, 'both bad with a note');
  await screenshot(page, 'comparison-both-bad');
  await page.click('button[data-action=submit]');
  await expectAnswer(t2, ann, { both_bad: true, aspects: { accuracy: 'x', style: 'tie' }, justification: 'Both are wrong: the answer is 4.' }, 'both bad');
});

/* ---------------- ranking ---------------- */

/* The places as the ranking editor shows them: [[id, ...], ...]. */
async function rankPlaces(page) {
  return page.$$eval('[data-testid=editor] [data-testid=rank-group]', (lis) => lis.map((li) => [...li.querySelectorAll('.rank-card')].map((c) => c.dataset.responseId)));
}

async function waitPlaces(page, want, what) {
  let seen;
  return until(
    async () => JSON.stringify((seen = await rankPlaces(page))) === JSON.stringify(want),
    async () => `expected ${what}: places ${JSON.stringify(want)}; the ranking editor shows ${JSON.stringify(seen)} (${await textOf(page, '[data-testid=rank-live]')})`,
  );
}

/* Drags the card of id by its handle so its middle lands on the middle of
 * the card of target, in small steps (pointer events, like a person). */
async function dragCard(page, id, target, { shot } = {}) {
  await page.evaluate(() => document.querySelector('[data-testid=rank-list]').scrollIntoView({ block: 'center' }));
  const handle = page.locator(`.rank-card[data-response-id="${id}"] [data-testid=rank-handle]`);
  const from = await handle.boundingBox();
  const to = await page.locator(`.rank-card[data-response-id="${target}"]`).boundingBox();
  assert.ok(from && to, `no box for the card ${id} or ${target}`);
  const x = from.x + from.width / 2;
  const y = from.y + from.height / 2;
  const up = to.y < from.y;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x, y + (up ? -8 : 8), { steps: 2 });
  const dy = to.y + to.height / 2 - y;
  await page.mouse.move(x, y + dy * 0.6, { steps: 8 });
  await page.mouse.move(x, y + dy + (up ? -10 : 10), { steps: 8 });
  // The viewport only: a full-page capture resizes the page under the drag.
  if (shot) {
    fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${shot}.png`) });
  }
  await page.mouse.up();
}

browserTest('ranking: a mouse drag and keys reorder, a tie group is made and split; the draft survives a reload; the exact ranking is stored', async ({ page }) => {
  const project = await makeProject('ranking', { allow_ties: true, instructions: 'Best first.' });
  const t1 = await makeTask(project, 'r1', {
    prompt: 'Name a fruit, and say one thing about it.',
    responses: ['Apple: crisp and **sweet**.', 'Carrot: it is a root, not a fruit.', { id: 'b', text: 'Banana:\n\n```\npeel(banana)\n```\nrich in potassium.' }, 'Durian: smells strong, tastes of custard.'],
  });
  const t2 = await makeTask(project, 'r2', { responses: ['First as given', 'Second as given', 'Third as given'] });
  const ann = await makeAnnotator(srv, `rank-${rnd()}@test.io`, PASSWORD, [project.id]);
  await openQueue(page, srv, ann, project);
  await waitVisible(page, '[data-testid=ranking]', 'the ranking editor');
  await waitPlaces(page, [['0'], ['1'], ['b'], ['3']], 'the task\'s order to start with');
  assert.match(await textOf(page, '[data-testid=rank-hint]'), /starting point/, 'the hint does not say the given order is only a starting point');
  assert.equal(await page.locator('.rank-card[data-response-id=b] pre code').textContent(), 'peel(banana)', 'the code block in a card is not rendered as code');
  assert.ok(!(await page.locator('button[data-action=submit]').isDisabled()), 'the given order must be submittable as it stands');
  await screenshot(page, 'ranking-new');

  // The mouse: drag D to the top.
  await dragCard(page, '3', '0', { shot: 'ranking-dragging' });
  await waitPlaces(page, [['3'], ['0'], ['1'], ['b']], 'D dragged to the top');
  assert.match(await textOf(page, '[data-testid=rank-live]'), /D is now 1st of 4/, 'the drop is not announced');
  // And C (b) dragged up above B (1).
  await dragCard(page, 'b', '1');
  await waitPlaces(page, [['3'], ['0'], ['b'], ['1']], 'C dragged above B');

  // Keys: ArrowUp moves C above A; k and j; Alt+ArrowDown.
  await page.focus('.rank-card[data-response-id=b]');
  await page.keyboard.press('ArrowUp');
  await waitPlaces(page, [['3'], ['b'], ['0'], ['1']], 'ArrowUp moves C above A');
  assert.match(await textOf(page, '[data-testid=rank-live]'), /C is now 2nd of 4/, 'the key move is not announced');
  await page.keyboard.press('k');
  await waitPlaces(page, [['b'], ['3'], ['0'], ['1']], 'k moves C to the top');
  await page.keyboard.press('j');
  await waitPlaces(page, [['3'], ['b'], ['0'], ['1']], 'j moves C back down');
  await page.focus('.rank-card[data-response-id="1"]');
  await page.keyboard.press('Alt+ArrowUp');
  await waitPlaces(page, [['3'], ['b'], ['1'], ['0']], 'Alt+ArrowUp moves B above A');
  await page.keyboard.press('Alt+ArrowDown');
  await waitPlaces(page, [['3'], ['b'], ['0'], ['1']], 'Alt+ArrowDown moves B back below A');

  // Ties: t joins A with the place above (C); the button joins B too, Untie splits it off.
  await page.focus('.rank-card[data-response-id="0"]');
  await page.keyboard.press('t');
  await waitPlaces(page, [['3'], ['b', '0'], ['1']], '"t" ties A with C');
  assert.match(await textOf(page, '[data-testid=rank-live]'), /tied with C/, 'the tie is not announced');
  await page.click('.rank-card[data-response-id="1"] button[data-action=tie]');
  await waitPlaces(page, [['3'], ['b', '0', '1']], '"Tie with above" joins B to the group');
  await screenshot(page, 'ranking-tied-three');
  await page.click('.rank-card[data-response-id="1"] button[data-action=tie]');
  await waitPlaces(page, [['3'], ['b', '0'], ['1']], '"Untie" gives B its own place again');
  assert.equal(await page.locator('.rank-group.is-tied .rank-place-tag').textContent(), 'tied', 'a tied group is not marked as tied');
  await clearStatusLog(page);
  await waitStatus(page, /draft saved/i, '"Draft saved" after the changes');
  await screenshot(page, 'ranking-tied');
  await page.setViewportSize({ width: 420, height: 900 });
  await screenshot(page, 'ranking-narrow');
  await page.setViewportSize({ width: 1280, height: 800 });

  // A reload keeps the order and the group.
  await page.reload();
  await waitVisible(page, '[data-testid=ranking]', 'the ranking editor after a reload');
  await waitPlaces(page, [['3'], ['b', '0'], ['1']], 'the draft restored after a reload');

  // Enter on a focused card submits.
  await page.focus('.rank-card[data-response-id="3"]');
  await clearStatusLog(page);
  await page.keyboard.press('Enter');
  await waitStatus(page, /submitted/i, '"Submitted" after Enter');
  await expectAnswer(t1, ann, { ranking: ['3', ['b', '0'], '1'] }, 'the reordered ranking with a tie');

  // The next task, unchanged: its given order is the answer.
  await waitEditorText(page, 'Third as given', 'the second task');
  await waitPlaces(page, [['0'], ['1'], ['2']], 'the second task in its given order');
  assert.equal(await page.locator('[data-testid=rank-prompt]').count(), 0, 'a task without a prompt shows a prompt box');
  await page.click('button[data-action=submit]');
  await expectAnswer(t2, ann, { ranking: ['0', '1', '2'] }, 'the given order, unchanged');
});

/* ---------------- read-only, several instances, predictions ---------------- */

browserTest('read-only answers: several instances of each editor on one page; a prediction pre-fills a new answer', async ({ page }) => {
  await page.goto(`${srv.base}/#/login`);
  await waitVisible(page, 'input[name=email]', 'the login page');
  const report = await page.evaluate(async () => {
    const { comparisonEditor } = await import('/ui/editor-comparison.js');
    const { rankingEditor } = await import('/ui/editor-ranking.js');
    document.querySelector('main').replaceChildren();
    const host = document.createElement('div');
    host.className = 'ro-host';
    document.querySelector('main').append(host);
    const params = { allow_tie: true, strength: true, aspects: [{ name: 'accuracy' }], justification: 'optional' };
    const task = { data: { prompt: 'Pick one.', responses: [{ id: 'p', text: 'Yes `x`', model: 'hidden-m' }, { id: 'q', text: 'No' }] } };
    const out = {};
    const mount = (editor, opts) => {
      const el = document.createElement('div');
      el.className = 'card';
      host.append(el);
      const inst = editor.mount(el, opts);
      return { el, inst };
    };
    const a = mount(comparisonEditor, { params, task, value: { choice: 'q', strength: 3, aspects: { accuracy: 'tie' }, justification: 'Shorter.' }, readOnly: true });
    const b = mount(comparisonEditor, { params, task, value: { both_bad: true, aspects: { accuracy: 'p' }, justification: 'Neither answers.' }, readOnly: true });
    out.cmp = [a, b].map(({ el, inst }) => ({
      choice: el.querySelector('[data-testid=cmp-choice] input:checked')?.value ?? null,
      disabled: [...el.querySelectorAll('input, textarea')].every((i) => i.disabled),
      textarea: el.querySelectorAll('textarea').length,
      justification: el.querySelector('[data-testid=cmp-justification]')?.innerText ?? null,
      value: inst.value(),
      hasModel: /hidden-m/.test(el.innerText),
    }));
    // Pressing keys on a read-only instance changes nothing.
    out.cmpKey = a.inst.keys(new KeyboardEvent('keydown', { key: '1' }));
    const rparams = { allow_ties: true };
    const rtask = { data: { responses: ['one', 'two', 'three'] } };
    const r1 = mount(rankingEditor, { params: rparams, task: rtask, value: { ranking: [['2', '0'], '1'] }, readOnly: true });
    const r2 = mount(rankingEditor, { params: rparams, task: rtask, value: { ranking: ['1', '2', '0'] }, readOnly: true });
    out.rank = [r1, r2].map(({ el, inst }) => ({
      places: [...el.querySelectorAll('[data-testid=rank-group]')].map((li) => [...li.querySelectorAll('.rank-card')].map((c) => c.dataset.responseId)),
      handles: el.querySelectorAll('[data-testid=rank-handle]').length,
      value: inst.value(),
    }));
    // Predictions pre-fill a new (not read-only) answer, the best score first.
    const changes = [];
    const ptask = {
      ...task,
      predictions: [
        { model: 'weak', score: 0.2, response: { choice: 'p', strength: 1, aspects: { accuracy: 'p' } } },
        { model: 'strong', score: 0.9, response: { choice: 'q', strength: 2, aspects: { accuracy: 'q' } } },
      ],
    };
    const c = mount(comparisonEditor, { params, task: ptask, value: null, onChange: (v) => changes.push(v) });
    out.pred = { note: c.el.querySelector('[data-testid=prediction-note]')?.innerText ?? null, value: c.inst.value(), valid: c.inst.valid() };
    const rp = mount(rankingEditor, {
      params: rparams,
      task: { ...rtask, predictions: [{ model: 'ranker', score: 0.5, response: { ranking: ['2', ['0', '1']] } }] },
      value: null,
      onChange: (v) => changes.push(v),
    });
    out.rpred = { note: rp.el.querySelector('[data-testid=prediction-note]')?.innerText ?? null, value: rp.inst.value() };
    out.changes = changes.length;
    window.__ro = { a, b, c, r1, r2, rp };
    return out;
  });
  assert.deepEqual(
    report.cmp.map((x) => x.choice),
    ['q', 'bad'],
    `read-only comparisons do not show their answers (both_bad shows as both bad): ${JSON.stringify(report.cmp)}`,
  );
  for (const x of report.cmp) {
    assert.ok(x.disabled && x.textarea === 0, `a read-only comparison can be edited: ${JSON.stringify(x)}`);
    assert.ok(!x.hasModel, 'a read-only comparison shows the model name');
  }
  assert.match(report.cmp[0].justification, /Shorter\./);
  assert.deepEqual(report.cmp[0].value, { choice: 'q', strength: 3, aspects: { accuracy: 'tie' }, justification: 'Shorter.' });
  assert.deepEqual(report.cmp[1].value, { both_bad: true, aspects: { accuracy: 'p' }, justification: 'Neither answers.' });
  assert.equal(report.cmpKey, false, 'a read-only comparison took a key');
  assert.deepEqual(report.rank[0].places, [['2', '0'], ['1']]);
  assert.deepEqual(report.rank[1].places, [['1'], ['2'], ['0']]);
  assert.deepEqual(report.rank[0].value, { ranking: [['2', '0'], '1'] });
  assert.ok(report.rank.every((r) => r.handles === 0), 'a read-only ranking has drag handles');
  assert.match(report.pred.note ?? '', /strong.*0\.9.*B is clearly better/, `the prediction note does not name the best model and its answer: ${report.pred.note}`);
  assert.deepEqual(report.pred.value, { choice: 'q', strength: 2, aspects: { accuracy: 'q' } }, 'the best prediction is not pre-filled');
  assert.equal(report.pred.valid, true, 'a pre-filled answer with an optional justification should be valid');
  assert.match(report.rpred.note ?? '', /ranker/, 'the ranking prediction note does not name the model');
  assert.deepEqual(report.rpred.value, { ranking: ['2', ['0', '1']] });
  assert.equal(report.changes, 0, 'mounting called onChange');
  await screenshot(page, 'compare-rank-readonly');
  // Unmounting every instance leaves no listener that throws.
  await page.evaluate(() => Object.values(window.__ro).forEach(({ inst }) => inst.unmount()));
});
