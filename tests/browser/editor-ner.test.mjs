// editor-ner.test.mjs -- the namedentityrecognition editor (web/ui/editor-ner.js):
// an annotator marks spans with a mouse drag, a double-click and the keyboard,
// nests two spans, changes a label, narrows and widens a span, deletes one that
// has a relation, relates spans with the mouse and the keyboard, and submits
// with Enter; the stored answer has exact code-point offsets although an emoji
// and accented letters come first.  Also: a draft survives a reload, a model's
// prediction starts the answer, and read-only instances (several on one page)
// show spans and relations without any way to change them.
import assert from 'node:assert/strict';
import { expectStatus } from '../api/harness.mjs';
import fs from 'node:fs';
import path from 'node:path';
import { serveUi, PASSWORD, browserTest, makeAnnotator, openQueue, login, screenshot, until, textOf, pageText, waitVisible, waitStatus, clearStatusLog, SCREENSHOT_DIR } from './browser.mjs';

let srv;
serveUi((s) => (srv = s));

const TEXT = '👋🏽 Hello! Zoë Ångström lives in New York City and works for the University of Zürich in Switzerland.';

/* The code-point offsets [start, end) of the n-th occurrence of sub in text
 * (what the server counts), never UTF-16 indexes. */
function cp(text, sub, n = 0) {
  let at = -1;
  for (let i = 0; i <= n; i++) {
    at = text.indexOf(sub, at + 1);
    assert.ok(at >= 0, `${JSON.stringify(sub)} (#${n}) is not in the test text`);
  }
  const start = Array.from(text.slice(0, at)).length;
  return { start, end: start + Array.from(sub).length, text: sub };
}

async function makeNerProject(extra = {}) {
  return expectStatus(
    await srv.api('POST', '/v1/projects', {
      name: `ner-${Math.random().toString(36).slice(2, 8)}`,
      kind: 'namedentityrecognition',
      params: { labels: ['PER', 'LOC', { name: 'ORG', description: 'companies, universities' }], relations: ['lives_in'], instructions: 'Mark people, places and organisations.' },
      overlap: 1,
      ...extra,
    }),
    201,
  );
}

async function makeTask(project, body) {
  return expectStatus(await srv.api('POST', '/v1/tasks', { project_id: project.id, ...body }), 201);
}

async function annotationsOf(task) {
  return expectStatus(await srv.api('GET', `/v1/tasks/${task.id}/annotations`), 200).items;
}

const ROOT = '[data-testid=ner]';

/* A close-up of the editor's text (its bars and arrows) in build/screenshots/NAME.png. */
async function shotText(page, name, root = ROOT) {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.locator(`${root} .ner-doc`).first().screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`) });
}

/* The spans listed by the editor, in its order: {start, end, label}. */
async function rows(page, root = ROOT) {
  return page.$$eval(`${root} [data-testid=ner-span-row]`, (trs) => trs.map((tr) => ({ start: Number(tr.dataset.start), end: Number(tr.dataset.end), label: tr.dataset.label })));
}

async function relRows(page, root = ROOT) {
  return page.$$eval(`${root} [data-testid=ner-rel-row]`, (lis) => lis.map((li) => ({ from: Number(li.dataset.from), to: Number(li.dataset.to), label: li.dataset.label })));
}

const fmt = (spans) => JSON.stringify(spans.map((s) => `${s.label}[${s.start},${s.end})`));

/* Waits until the editor lists exactly these spans (any order). */
async function waitRows(page, want, what) {
  const key = (s) => `${s.label}:${s.start}:${s.end}`;
  const wanted = want.map(key).sort().join(' ');
  let seen = [];
  return until(
    async () => {
      seen = await rows(page);
      return seen.map(key).sort().join(' ') === wanted;
    },
    async () => `${what}: expected the spans ${fmt(want)}, the editor lists ${fmt(seen)}; message: ${JSON.stringify(await textOf(page, '[data-testid=ner-msg]'))}`,
  );
}

/* The on-screen box of the code point at offset i of the editor's text. */
async function charBox(page, i, root = ROOT) {
  const r = await page.evaluate(
    ([sel, i]) => {
      const text = document.querySelector(`${sel} [data-testid=ner-text]`);
      for (const seg of text.querySelectorAll('.ner-seg')) {
        const a = Number(seg.dataset.start);
        const b = Number(seg.dataset.end);
        if (i < a || i >= b) continue;
        const vr = seg.getBoundingClientRect();
        if (vr.top < 0 || vr.bottom > innerHeight) seg.scrollIntoView({ block: 'center' });
        const node = seg.firstChild;
        const cps = Array.from(node.data);
        const u = cps.slice(0, i - a).join('').length;
        const range = document.createRange();
        range.setStart(node, u);
        range.setEnd(node, u + cps[i - a].length);
        const q = [...range.getClientRects()].find((x) => x.width > 0) || range.getBoundingClientRect();
        return { x: q.left, y: q.top, w: q.width, h: q.height };
      }
      return null;
    },
    [root, i],
  );
  assert.ok(r && r.w > 0, `code point ${i} of the editor's text has no box on the screen`);
  return r;
}

/* A real mouse drag from the first to the last code point of [start, end). */
async function drag(page, { start, end }) {
  const a = await charBox(page, start);
  const b = await charBox(page, end - 1);
  await page.mouse.move(a.x + 1, a.y + a.h / 2);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, b.y + b.h / 2, { steps: 4 });
  await page.mouse.move(b.x + b.w - 1, b.y + b.h / 2, { steps: 4 });
  await page.mouse.up();
}

async function dblclickAt(page, i) {
  const q = await charBox(page, i);
  await page.mouse.dblclick(q.x + q.w / 2, q.y + q.h / 2);
}

async function clickAt(page, i) {
  const q = await charBox(page, i);
  await page.mouse.click(q.x + q.w / 2, q.y + q.h / 2);
}

async function pressed(page) {
  return page.$$eval(`${ROOT} button[data-label][aria-pressed=true]`, (bs) => bs.map((b) => b.dataset.label));
}

async function waitPressedLabel(page, label, what) {
  return until(
    async () => JSON.stringify(await pressed(page)) === JSON.stringify([label]),
    async () => `${what}: expected only ${label} pressed, pressed: ${JSON.stringify(await pressed(page))}`,
  );
}

async function waitEditor(page) {
  await waitVisible(page, `${ROOT} [data-testid=ner-text]`, 'the NER editor');
  await until(
    async () => ((await textOf(page, `${ROOT} [data-testid=ner-text]`)) ?? '').includes('Zoë Ångström'),
    async () => `the editor's text does not show the task's text; the page shows ${await pageText(page)}`,
  );
}

browserTest('an annotator marks, nests, relabels, resizes, relates and deletes spans with mouse and keyboard; the API stores exact code-point offsets', async ({ page }) => {
  const project = await makeNerProject();
  const task = await makeTask(project, { unique_id: 'ner-1', data: { text: TEXT, source: 'newswire' } });
  const ann = await makeAnnotator(srv, 'ann-ner@test.io', PASSWORD, [project.id]);
  await openQueue(page, srv, ann, project);
  await waitEditor(page);
  assert.deepEqual(await page.$$eval(`${ROOT} button[data-label]`, (bs) => bs.map((b) => b.dataset.label)), ['PER', 'LOC', 'ORG'], "the label buttons are not the project's labels");
  await waitPressedLabel(page, 'PER', 'the first label is the one for new spans at the start');
  assert.match((await textOf(page, '.ner-more')) ?? '', /newswire/, 'the task\'s other data (source) is not shown below the text');

  const hello = cp(TEXT, 'Hello');
  const zoe = cp(TEXT, 'Zoë Ångström');
  const nyc = cp(TEXT, 'New York City');
  const uni = cp(TEXT, 'University of Zürich');
  const zurich = cp(TEXT, 'Zürich');
  const swiss = cp(TEXT, 'Switzerland');
  assert.equal(zoe.start, 10, 'the emoji (2 code points, 4 UTF-16 units) puts Zoë at code point 10');
  assert.notEqual(zoe.start, TEXT.indexOf('Zoë'), 'the test text must make code points and UTF-16 differ');

  // A double-click marks one word with the chosen label (PER): a mistake to delete later.
  await dblclickAt(page, hello.start + 2);
  await waitRows(page, [{ ...hello, label: 'PER' }], 'double-clicking "Hello"');
  // A mouse drag over two words.
  await drag(page, zoe);
  await waitRows(page, [{ ...hello, label: 'PER' }, { ...zoe, label: 'PER' }], 'dragging over "Zoë Ångström"');
  // "2" picks LOC; a drag over three words.
  await page.keyboard.press('2');
  await waitPressedLabel(page, 'LOC', 'pressing 2');
  await drag(page, nyc);
  await dblclickAt(page, zurich.start + 1);
  await waitRows(
    page,
    [
      { ...hello, label: 'PER' },
      { ...zoe, label: 'PER' },
      { ...nyc, label: 'LOC' },
      { ...zurich, label: 'LOC' },
    ],
    'dragging over "New York City" and double-clicking "Zürich" with LOC',
  );

  // The keyboard: a click on "the" puts the word cursor there; → moves it,
  // Shift+→ extends it, m marks it: ORG over "University of Zürich", which
  // holds the LOC span "Zürich".
  await page.click(`${ROOT} button[data-label=ORG]`);
  await waitPressedLabel(page, 'ORG', 'clicking ORG');
  await clickAt(page, cp(TEXT, 'the').start + 1);
  await waitVisible(page, `${ROOT} .ner-box.is-cursor`, 'the word cursor after a click on plain text');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Shift+ArrowRight');
  await page.keyboard.press('Shift+ArrowRight');
  await page.keyboard.press('m');
  const nested = [
    { ...hello, label: 'PER' },
    { ...zoe, label: 'PER' },
    { ...nyc, label: 'LOC' },
    { ...uni, label: 'ORG' },
    { ...zurich, label: 'LOC' },
  ];
  await waitRows(page, nested, 'the keyboard path (→, Shift+→ twice, m) marking "University of Zürich" as ORG');
  // Nested spans get their bars on different rows, each with its label.
  const bars = await page.$$eval(`${ROOT} [data-testid=ner-bar]`, (bs) => bs.map((b) => ({ start: Number(b.dataset.start), label: b.dataset.label, level: Number(b.dataset.level), text: b.textContent, top: b.getBoundingClientRect().top })));
  const uniBar = bars.find((b) => b.start === uni.start && b.label === 'ORG');
  const zBar = bars.find((b) => b.start === zurich.start && b.label === 'LOC');
  assert.ok(uniBar && zBar, `no bars for the nested spans: ${JSON.stringify(bars)}`);
  assert.notEqual(uniBar.level, zBar.level, `nested spans share a row of bars: ${JSON.stringify(bars)}`);
  assert.ok(uniBar.top > zBar.top, 'the outer span\'s bar should be under the inner one\'s');
  assert.equal(uniBar.text, 'ORG', "the ORG bar does not show its label");

  // ORG by mistake on "Switzerland", then a click on it and "2" makes it LOC.
  await dblclickAt(page, swiss.start + 3);
  await waitRows(page, [...nested, { ...swiss, label: 'ORG' }], 'double-clicking "Switzerland" with ORG');
  await clickAt(page, swiss.start + 3);
  await waitVisible(page, `${ROOT} [data-testid=ner-selected]`, 'the selected span panel after clicking a span');
  await page.keyboard.press('2');
  const six = [...nested, { ...swiss, label: 'LOC' }];
  await waitRows(page, six, 'pressing 2 with "Switzerland" selected makes it LOC');

  // Boundaries: "}" narrows the end by a word, "]" widens it back.
  await page.click(`${ROOT} [data-testid=ner-span-row][data-start="${nyc.start}"] [data-action=select-span]`);
  await page.keyboard.press('}');
  await waitRows(page, six.map((s) => (s.start === nyc.start ? { ...cp(TEXT, 'New York'), label: 'LOC' } : s)), '"}" narrowing "New York City" to "New York"');
  await page.keyboard.press(']');
  await waitRows(page, six, '"]" widening "New York" back to "New York City"');

  // Relations: with the mouse (Zoë → New York City) ...
  await page.click(`${ROOT} [data-testid=ner-span-row][data-start="${zoe.start}"] [data-action=select-span]`);
  await page.click(`${ROOT} [data-action=relate]`);
  await waitVisible(page, `${ROOT} [data-testid=ner-relating]`, 'the relating banner after "Relate to…"');
  await clickAt(page, nyc.start + 4);
  // ... and with the keyboard from "Hello": r, then a click on "Zürich" (the
  // inner LOC span, not the ORG around it).
  await clickAt(page, hello.start + 1);
  await waitVisible(page, `${ROOT} [data-testid=ner-selected]`, 'selecting "Hello"');
  await page.keyboard.press('r');
  await waitVisible(page, `${ROOT} [data-testid=ner-relating]`, 'the relating banner after pressing r');
  await clickAt(page, zurich.start + 2);
  // Text order: Hello 0, Zoë 1, NYC 2, University 3, Zürich 4, Switzerland 5.
  await until(
    async () => JSON.stringify(await relRows(page)) === JSON.stringify([{ from: 1, to: 2, label: 'lives_in' }, { from: 0, to: 4, label: 'lives_in' }]),
    async () => `expected the relations 1→2 and 0→4, the list shows ${JSON.stringify(await relRows(page))}`,
  );
  assert.equal(await page.locator(`${ROOT} [data-testid=ner-arc]`).count(), 2, 'two relations should draw two arrows');
  await page.hover(`${ROOT} [data-testid=ner-rel-row] >> nth=0`);
  await until(() => page.locator(`${ROOT} [data-testid=ner-arc].is-hover`).count(), 'hovering a relation highlights its arrow');
  await page.mouse.move(5, 5);
  await screenshot(page, 'ner-overlap-relations');
  await shotText(page, 'ner-overlap-relations-text');

  // Deleting "Hello" deletes its relation and renumbers the other.
  await clickAt(page, hello.start + 1);
  await waitVisible(page, `${ROOT} [data-testid=ner-selected]`, 'selecting "Hello" again');
  await page.keyboard.press('Delete');
  const final = six.filter((s) => s.start !== hello.start);
  await waitRows(page, final, 'Delete removing the selected "Hello"');
  await until(
    async () => JSON.stringify(await relRows(page)) === JSON.stringify([{ from: 0, to: 1, label: 'lives_in' }]),
    async () => `after deleting "Hello" expected only the relation 0→1, the list shows ${JSON.stringify(await relRows(page))}`,
  );
  await page.keyboard.press('Escape');
  await screenshot(page, 'ner-final');

  // Enter submits.
  await clearStatusLog(page);
  await page.keyboard.press('Enter');
  await waitStatus(page, /submitted/i, '"Submitted" after Enter');
  const items = await until(async () => {
    const a = await annotationsOf(task);
    return a.length ? a : null;
  }, `task ${task.id} got no annotation after Enter`);
  assert.equal(items.length, 1);
  assert.equal(items[0].status, 'accepted', `the annotation is ${items[0].status}: ${items[0].reason}`);
  const got = items[0].response;
  const want = {
    spans: [
      { start: zoe.start, end: zoe.end, label: 'PER', text: 'Zoë Ångström' },
      { start: nyc.start, end: nyc.end, label: 'LOC', text: 'New York City' },
      { start: uni.start, end: uni.end, label: 'ORG', text: 'University of Zürich' },
      { start: zurich.start, end: zurich.end, label: 'LOC', text: 'Zürich' },
      { start: swiss.start, end: swiss.end, label: 'LOC', text: 'Switzerland' },
    ],
    relations: [{ from: 0, to: 1, label: 'lives_in' }],
  };
  assert.deepEqual(got, want, `the stored response is not the spans marked (code points): ${JSON.stringify(got)}`);
  for (const s of got.spans) assert.equal(Array.from(TEXT).slice(s.start, s.end).join(''), s.text, `span ${JSON.stringify(s)} is not the code-point slice`);
});

browserTest('a draft of spans and a relation survives a reload', async ({ page }) => {
  const project = await makeNerProject();
  await makeTask(project, { unique_id: 'ner-draft', data: { text: TEXT } });
  const ann = await makeAnnotator(srv, 'ann-ner-draft@test.io', PASSWORD, [project.id]);
  await openQueue(page, srv, ann, project);
  await waitEditor(page);
  const zoe = cp(TEXT, 'Zoë Ångström');
  const swiss = cp(TEXT, 'Switzerland');
  await drag(page, zoe);
  await page.keyboard.press('2');
  await dblclickAt(page, swiss.start + 2);
  const want = [
    { ...zoe, label: 'PER' },
    { ...swiss, label: 'LOC' },
  ];
  await waitRows(page, want, 'two spans before the reload');
  await page.click(`${ROOT} [data-testid=ner-span-row][data-start="${zoe.start}"] [data-action=select-span]`);
  await page.keyboard.press('r');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('m');
  await until(
    async () => JSON.stringify(await relRows(page)) === JSON.stringify([{ from: 0, to: 1, label: 'lives_in' }]),
    async () => `r, ↓, m should relate Zoë to Switzerland; the list shows ${JSON.stringify(await relRows(page))}`,
  );
  await waitStatus(page, /draft saved/i, '"Draft saved" after marking spans');
  await page.reload();
  await waitEditor(page);
  await waitRows(page, want, 'the same spans after a reload');
  assert.deepEqual(await relRows(page), [{ from: 0, to: 1, label: 'lives_in' }], 'the relation did not survive the reload');
  await waitVisible(page, `${ROOT} [data-testid=ner-arc]`, 'the relation arrow after the reload');
  assert.equal(await page.locator('[data-testid=prediction-note]').count(), 0, 'a restored draft is not a prediction');
});

browserTest('a prediction pre-fills the spans and relations, with a note; submitting keeps them', async ({ page }) => {
  const project = await makeNerProject();
  const zoe = cp(TEXT, 'Zoë Ångström');
  const zurich = cp(TEXT, 'Zürich');
  const uni = cp(TEXT, 'University of Zürich');
  const best = {
    spans: [
      { start: zoe.start, end: zoe.end, label: 'PER', text: zoe.text },
      { start: zurich.start, end: zurich.end, label: 'LOC' },
      { start: uni.start, end: uni.end, label: 'ORG' },
    ],
    relations: [{ from: 0, to: 1, label: 'lives_in' }],
  };
  const task = await makeTask(project, {
    unique_id: 'ner-pred',
    // The text as an attachment this time.
    attachments: [{ type: 'text', content: TEXT, name: 'article.txt' }],
    predictions: [
      { model: 'weak-ner', score: 0.2, response: { spans: [{ start: 0, end: 2, label: 'ORG' }] } },
      { model: 'ner-large', score: 0.87, response: best },
    ],
  });
  const ann = await makeAnnotator(srv, 'ann-ner-pred@test.io', PASSWORD, [project.id]);
  await openQueue(page, srv, ann, project);
  await waitEditor(page);
  await waitVisible(page, '[data-testid=prediction-note]', 'the prediction note');
  assert.match(await textOf(page, '[data-testid=prediction-note]'), /ner-large.*0\.87.*3 spans.*1 relation/, 'the note names the best model, its score and what it marked');
  await waitRows(page, best.spans, 'the best prediction\'s spans');
  assert.deepEqual(await relRows(page), [{ from: 0, to: 2, label: 'lives_in' }], 'the prediction\'s relation, in text order (Zoë 0, University 1, Zürich 2)');
  await screenshot(page, 'ner-prediction');
  await clearStatusLog(page);
  await page.keyboard.press('Enter');
  await waitStatus(page, /submitted/i, '"Submitted" after Enter');
  const [a] = await until(async () => {
    const x = await annotationsOf(task);
    return x.length ? x : null;
  }, 'no annotation');
  const text = (s) => Array.from(TEXT).slice(s.start, s.end).join('');
  assert.deepEqual(
    a.response,
    {
      spans: [best.spans[0], best.spans[2], best.spans[1]].map((s) => ({ start: s.start, end: s.end, label: s.label, text: text(s) })),
      relations: [{ from: 0, to: 2, label: 'lives_in' }],
    },
    'the accepted prediction was not stored as it was shown',
  );
});

browserTest('read-only instances, several on one page, show nested and crossing spans and relations, and change nothing', async ({ page }) => {
  const project = await makeNerProject();
  const ann = await makeAnnotator(srv, 'ann-ner-ro@test.io', PASSWORD, [project.id]);
  await login(page, srv, ann.email, ann.password, { project });
  const zoe = cp(TEXT, 'Zoë Ångström');
  const nyc = cp(TEXT, 'New York City');
  const york = cp(TEXT, 'York City and works');
  const uni = cp(TEXT, 'University of Zürich');
  const zurich = cp(TEXT, 'Zürich');
  const value = {
    spans: [
      { start: zoe.start, end: zoe.end, label: 'PER' },
      { start: nyc.start, end: nyc.end, label: 'LOC' },
      { start: york.start, end: york.end, label: 'ORG' }, // crosses "New York City"
      { start: uni.start, end: uni.end, label: 'ORG' },
      { start: zurich.start, end: zurich.end, label: 'LOC' },
      { start: 3, end: 999, label: 'PER' }, // outside the text: left out, with a note
    ],
    relations: [
      { from: 0, to: 1, label: 'lives_in' },
      { from: 0, to: 4, label: 'lives_in' },
    ],
  };
  const result = await page.evaluate(
    async ({ params, value, text }) => {
      const { nerEditor } = await import('/ui/editor-ner.js');
      const box = document.createElement('div');
      box.id = 'ner-ro';
      document.querySelector('main').append(box);
      const changes = [];
      const insts = [];
      for (let i = 0; i < 2; i++) {
        const el = document.createElement('div');
        el.className = `ro-${i} card panel`;
        box.append(el);
        insts.push(nerEditor.mount(el, { params, task: { data: { text } }, value, readOnly: true, onChange: (v) => changes.push(v) }));
      }
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const ev = new KeyboardEvent('keydown', { key: 'Delete' });
      return { handled: insts.map((x) => x.keys(ev)), values: insts.map((x) => x.value()), changes: changes.length, kind: nerEditor.kind, showsTask: nerEditor.showsTask };
    },
    { params: { labels: [{ name: 'PER' }, { name: 'LOC' }, { name: 'ORG' }], relations: [{ name: 'lives_in' }] }, value, text: TEXT },
  );
  assert.equal(result.kind, 'namedentityrecognition');
  assert.equal(result.showsTask, true);
  assert.deepEqual(result.handled, [false, false], 'a read-only instance must not take keys');
  for (const v of result.values) assert.equal(v.spans.length, 5, `the read-only value lost spans or kept the bad one: ${JSON.stringify(v)}`);
  for (const i of [0, 1]) {
    const root = `.ro-${i} ${ROOT}`;
    await waitVisible(page, `${root} [data-testid=ner-arc]`, `the arrows of read-only instance ${i}`);
    const drawn = await page.$$eval(`${root} [data-testid=ner-bar]`, (bs) => new Set(bs.map((b) => `${b.dataset.label}:${b.dataset.start}:${b.dataset.end}`)).size);
    assert.equal(drawn, 5, `instance ${i} should draw bars for 5 spans`);
    assert.equal(await page.locator(`${root} [data-testid=ner-arc]`).count(), 2, `instance ${i} should draw 2 arrows`);
    assert.equal((await rows(page, root)).length, 5, `instance ${i} should list 5 spans`);
    assert.equal(await page.locator(`${root} button[data-label], ${root} [data-action=delete-span], ${root} [data-action=delete-relation]`).count(), 0, `instance ${i} offers editing controls`);
    assert.match((await textOf(page, `${root} [data-testid=ner-dropped]`)) ?? '', /1 span/, `instance ${i} does not say a span was left out`);
  }
  // Crossing spans (New York City / York City and works) sit on different rows.
  const levels = await page.$$eval(`.ro-0 ${ROOT} [data-testid=ner-bar]`, (bs) => Object.fromEntries(bs.map((b) => [`${b.dataset.label}${b.dataset.start}`, Number(b.dataset.level)])));
  assert.notEqual(levels[`LOC${nyc.start}`], levels[`ORG${york.start}`], `crossing spans share a row: ${JSON.stringify(levels)}`);
  // A drag in a read-only text marks nothing.
  const a = await charBox(page, cp(TEXT, 'Hello').start, `.ro-0 ${ROOT}`);
  await page.mouse.move(a.x + 1, a.y + a.h / 2);
  await page.mouse.down();
  await page.mouse.move(a.x + 60, a.y + a.h / 2, { steps: 4 });
  await page.mouse.up();
  assert.equal((await rows(page, `.ro-0 ${ROOT}`)).length, 5, 'a drag changed a read-only instance');
  await screenshot(page, 'ner-readonly');
  await shotText(page, 'ner-readonly-text', `.ro-1 ${ROOT}`);
  const after = await page.evaluate(() => document.querySelectorAll('#ner-ro [data-testid=ner]').length);
  assert.equal(after, 2);
});

browserTest('on its own page: a relation label picked by number, Escape cancels, exact boundaries typed in, a task without text', async ({ page }) => {
  const project = await makeNerProject();
  const ann = await makeAnnotator(srv, 'ann-ner-page@test.io', PASSWORD, [project.id]);
  await login(page, srv, ann.email, ann.password, { project });
  const text = '🇨🇭 Zoë works for Acme in Zürich.';
  await page.evaluate(async (text) => {
    const { nerEditor } = await import('/ui/editor-ner.js');
    const { isTyping } = await import('/ui/dom.js');
    const el = document.createElement('div');
    el.className = 'solo card panel';
    document.querySelector('main').replaceChildren(el);
    window.__nerChanges = [];
    const inst = nerEditor.mount(el, {
      params: { labels: [{ name: 'PER' }, { name: 'ORG' }, { name: 'LOC' }], relations: [{ name: 'lives_in' }, { name: 'works_for' }] },
      task: { data: { lang: 'en' }, attachments: [{ type: 'image', url: 'https://example.com/x.png' }, { type: 'text', content: text }] },
      value: null,
      onChange: (v) => window.__nerChanges.push(v),
    });
    window.__ner = inst;
    // What the workspace does with keys.
    document.addEventListener('keydown', (ev) => {
      if (ev.defaultPrevented || isTyping(ev.target)) return;
      if (inst.keys(ev)) ev.preventDefault();
    });
  }, text);
  await waitVisible(page, `${ROOT} [data-testid=ner-text]`, 'the editor mounted on its own');
  const zoe = cp(text, 'Zoë');
  const acme = cp(text, 'Acme');
  const zurich = cp(text, 'Zürich');
  assert.equal(zoe.start, 3, 'a flag emoji is 2 code points (4 UTF-16 units)');
  await drag(page, zoe);
  await page.keyboard.press('2');
  await dblclickAt(page, acme.start + 1);
  await page.keyboard.press('3');
  await dblclickAt(page, zurich.start + 1);
  await waitRows(
    page,
    [
      { ...zoe, label: 'PER' },
      { ...acme, label: 'ORG' },
      { ...zurich, label: 'LOC' },
    ],
    'three spans',
  );

  // Escape stops relating.
  await clickAt(page, zoe.start + 1);
  await page.keyboard.press('r');
  await waitVisible(page, `${ROOT} [data-testid=ner-relating]`, 'relating after r');
  await page.keyboard.press('Escape');
  await until(async () => !(await page.locator(`${ROOT} [data-testid=ner-relating]`).isVisible()), 'Escape did not stop relating');

  // Two relation labels: after the target, a number picks one.
  await clickAt(page, zoe.start + 1);
  await page.keyboard.press('r');
  await clickAt(page, acme.start + 1);
  await waitVisible(page, `${ROOT} [data-testid=ner-relating] button[data-relation-label=works_for]`, 'the relation labels to pick from');
  await screenshot(page, 'ner-relation-label');
  await page.keyboard.press('2');
  await until(
    async () => JSON.stringify(await relRows(page)) === JSON.stringify([{ from: 0, to: 1, label: 'works_for' }]),
    async () => `pressing 2 should add Zoë → Acme (works_for); the list shows ${JSON.stringify(await relRows(page))}`,
  );

  // Exact boundaries typed in: "Zürich" → "Züric"; an end before the start is refused.
  await clickAt(page, zurich.start + 1);
  await waitVisible(page, `${ROOT} [data-testid=ner-selected]`, 'the selected span panel');
  await page.fill(`${ROOT} [data-testid=ner-end]`, String(zurich.end - 1));
  await page.keyboard.press('Tab');
  await waitRows(
    page,
    [
      { ...zoe, label: 'PER' },
      { ...acme, label: 'ORG' },
      { start: zurich.start, end: zurich.end - 1, label: 'LOC' },
    ],
    'typing the end offset',
  );
  await page.fill(`${ROOT} [data-testid=ner-end]`, '1');
  await page.keyboard.press('Tab');
  await until(async () => /start < end/.test((await textOf(page, `${ROOT} [data-testid=ner-msg]`)) ?? ''), 'an end before the start is not refused with a message');
  const last = await page.evaluate(() => window.__nerChanges.at(-1));
  assert.deepEqual(
    last,
    {
      spans: [
        { start: 3, end: 6, label: 'PER', text: 'Zoë' },
        { start: acme.start, end: acme.end, label: 'ORG', text: 'Acme' },
        { start: zurich.start, end: zurich.end - 1, label: 'LOC', text: 'Züric' },
      ],
      relations: [{ from: 0, to: 1, label: 'works_for' }],
    },
    'the last onChange value',
  );
  assert.match((await textOf(page, '.ner-more')) ?? '', /lang/, 'the other data is not shown');

  // A task without any text says so, and cannot be submitted.
  const none = await page.evaluate(async () => {
    window.__ner.unmount();
    const { nerEditor } = await import('/ui/editor-ner.js');
    const el = document.createElement('div');
    document.querySelector('main').replaceChildren(el);
    const inst = nerEditor.mount(el, { params: { labels: ['PER'] }, task: { data: { title: 'x' }, attachments: [] }, value: null, onChange: () => {} });
    return { valid: inst.valid(), text: el.textContent };
  });
  assert.equal(none.valid, false, 'a task without text must not be valid to submit');
  assert.match(none.text, /no text/i);
});
