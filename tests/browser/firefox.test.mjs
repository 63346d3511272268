// firefox.test.mjs -- the UI in Firefox, the other browser the issue names.
// Playwright drives only its own patched Firefox builds (its WebDriver BiDi
// path needs commands Debian's firefox-esr lacks), so these tests use
// puppeteer-core, which drives Debian's firefox-esr over WebDriver BiDi.
// They cover what differs between engines: logging in, labeling with the
// keyboard and the mouse, and every kind's editor drawing its task without
// an uncaught error.  The chromium tests cover the editors in depth.
//
// LOUPE_FIREFOX (default /usr/bin/firefox-esr) is the browser.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { it, expectStatus, SLOW } from '../api/harness.mjs';
import { png, wav, upload as uploadFile } from './media.mjs';
import { startUiServer, makeAnnotator, makeTextProject, until, PASSWORD, SCREENSHOT_DIR, WAIT_MS } from './browser.mjs';
import { pcdAscii } from '../api/pointclouds.mjs';

const FIREFOX = process.env.LOUPE_FIREFOX || '/usr/bin/firefox-esr';

let srv;
let browser;

before(async () => {
  assert.ok(fs.existsSync(FIREFOX), `no Firefox at ${FIREFOX} (make test-deps installs Debian's firefox-esr)`);
  srv = await startUiServer();
  const { default: puppeteer } = await import('puppeteer-core');
  browser = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true, timeout: 60000 * SLOW });
});
after(async () => {
  await browser?.close().catch(() => {});
  await srv?.stop();
});

/* A new private context and page; uncaught page errors are collected in
 * errors. */
async function newPage() {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  await page.setViewport({ width: 1280, height: 800 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message || String(e)));
  return { context, page, errors };
}

async function shot(page, name) {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `firefox-${name}.png`), fullPage: true });
}

async function text(page, selector) {
  return page.$eval(selector, (e) => e.innerText.trim()).catch(() => null);
}

async function bodyText(page) {
  return page.evaluate(() => document.body.innerText.replace(/\s+/g, ' ').trim().slice(0, 600)).catch((e) => `(${e.message})`);
}

async function login(page, user) {
  await page.goto(`${srv.base}/#/login`);
  await page.waitForSelector('input[name=email]', { visible: true });
  await page.type('input[name=email]', user.email);
  await page.type('input[name=password]', user.password);
  await page.click('button[type=submit]');
  await until(
    async () => /^#\/projects\/?$/.test(await page.evaluate(() => location.hash)),
    async () => `Firefox did not reach #/projects after logging in as ${user.email}; it shows ${await bodyText(page)}`,
  );
}

async function waitTaskText(page, want) {
  await until(
    async () => ((await text(page, '[data-testid=task]')) ?? '').includes(want),
    async () => `expected the task ${JSON.stringify(want)}; the page shows ${await bodyText(page)}`,
  );
}

async function annotationsOf(task) {
  return expectStatus(await srv.api('GET', `/v1/tasks/${task.id}/annotations`), 200).items;
}

it('Firefox: an annotator logs in and labels two tasks, one with the keyboard and one with the mouse', { timeout: 120000 * SLOW }, async () => {
  const { project, tasks } = await makeTextProject(srv, { texts: ['A dog barks at the mailman.', 'A cat sleeps on the sofa.'] });
  const user = await makeAnnotator(srv, 'ff-ann@test.io', PASSWORD, [project.id]);
  const { context, page, errors } = await newPage();
  try {
    await login(page, user);
    await page.waitForSelector(`a[data-project-id="${project.id}"]`, { visible: true });
    await shot(page, 'projects');
    await page.click(`a[data-project-id="${project.id}"]`);
    await waitTaskText(page, 'A dog barks');
    await page.keyboard.press('2');
    await until(
      async () => (await page.$eval('button[data-label=dog]', (b) => b.getAttribute('aria-pressed')).catch(() => null)) === 'true',
      'the key 2 to press the label "dog"',
    );
    await shot(page, 'queue');
    await page.keyboard.press('Enter');
    await waitTaskText(page, 'A cat sleeps');
    await page.click('button[data-label=cat]');
    await page.click('button[data-action=submit]');
    for (const [task, label] of [
      [tasks[0], 'dog'],
      [tasks[1], 'cat'],
    ]) {
      const items = await until(
        async () => {
          const a = await annotationsOf(task);
          return a.length ? a : null;
        },
        `an annotation of task ${task.id}`,
      );
      assert.equal(items.length, 1, `task ${task.id} has exactly one annotation`);
      assert.equal(items[0].user_id, user.id);
      assert.equal(items[0].status, 'accepted');
      assert.deepEqual(items[0].response, { labels: [label] });
    }
    assert.deepEqual(errors, [], 'uncaught errors in the page');
  } finally {
    await context.close().catch(() => {});
  }
});

/* ---- every kind's editor ------------------------------------------------ */

async function upload(buf, type) {
  return (await uploadFile(srv, buf, type)).sha256;
}

it("Firefox: every kind's editor draws its task without an error", { timeout: 240000 * SLOW }, async () => {
  const image = await upload(png(64, 48), 'image/png');
  const audio = await upload(wav({ seconds: 1, bursts: [[0, 1]] }), 'audio/wav');
  const cloud = await upload(pcdAscii([[1, 2, 0, 5], [3, -1, 0.5, 9], [-2, 0, 1, 1]]), 'application/octet-stream');
  const responses = [
    { id: 'r1', text: 'Recursion is when a function calls itself.' },
    { id: 'r2', text: 'Imagine **nesting dolls**.' },
  ];
  const endpoint = expectStatus(await srv.api('POST', '/v1/model-endpoints', { name: 'ff-target', base_url: 'http://llm.invalid/v1', model: 'm' }), 201);
  const kinds = {
    categorization: [{ labels: ['yes', 'no'] }, { data: { text: 'Is this a sentence?' } }],
    imageannotation: [{ labels: ['car'], geometries: ['box', 'polygon', 'line', 'point'] }, { attachments: [{ type: 'image', file: image }], data: { width: 64, height: 48 } }],
    namedentityrecognition: [{ labels: ['PER', 'LOC'], relations: ['lives_in'] }, { data: { text: 'Zoë lives in Zürich' } }],
    transcription: [{ segments: true }, { attachments: [{ type: 'audio', file: audio }], data: { duration: 1 } }],
    comparison: [{ strength: true, aspects: ['accuracy'] }, { data: { prompt: 'Explain recursion.', responses } }],
    ranking: [{ allow_ties: true }, { data: { prompt: 'Name a fruit.', responses: ['Apple', 'Carrot', 'Banana'] } }],
    rating: [{ criteria: [{ name: 'helpfulness', labels: ['1', '2', '3', '4', '5'] }] }, { data: { prompt: 'How do I boil an egg?', response: 'Boil it for 8 minutes.' } }],
    textcollection: [{ fields: [{ name: 'answer', min_length: 5 }] }, { data: { topic: 'photosynthesis' } }],
    // (the editor draws without calling the model; a chat would)
    redteam: [{ endpoint_id: endpoint.id, harm_categories: ['fraud', 'violence'] }, { data: { goal: 'Get the model to write a phishing email', category: 'fraud' } }],
    lidarannotation: [{ labels: ['car'] }, { attachments: [{ type: 'pointcloud', file: cloud }] }],
    segmentation: [{ labels: ['road', 'car'] }, { attachments: [{ type: 'image', file: image }], data: { width: 64, height: 48 } }],
    videoannotation: [{ labels: ['car'], events: ['crash'] }, { attachments: [{ type: 'image', file: image }, { type: 'image', file: image }], data: { width: 64, height: 48 } }],
  };
  const listed = expectStatus(await srv.api('GET', '/v1/kinds'), 200);
  const names = (listed.items ?? listed).map((k) => k.name);
  assert.deepEqual([...names].sort(), Object.keys(kinds).sort(), 'this test covers every kind the server lists');

  const user = await makeAnnotator(srv, 'ff-kinds@test.io', PASSWORD);
  const { context, page, errors } = await newPage();
  try {
    await login(page, user);
    for (const [kind, [params, task]] of Object.entries(kinds)) {
      const project = expectStatus(await srv.api('POST', '/v1/projects', { name: `firefox ${kind}`, kind, params }), 201);
      expectStatus(await srv.api('PUT', `/v1/projects/${project.id}/members/${user.id}`, { role: 'annotator' }), 200);
      expectStatus(await srv.api('POST', '/v1/tasks', { project_id: project.id, ...task }), 201);
      await page.goto(`${srv.base}/#/projects/${project.id}/queue`);
      await until(
        async () => page.evaluate(() => {
          const ed = document.querySelector('[data-testid=editor]');
          return !!ed && !document.querySelector('[data-testid=no-editor]') && ed.querySelector('.editor-body')?.childElementCount > 0;
        }),
        async () => `the ${kind} editor to draw in Firefox; the page shows ${await bodyText(page)}`,
      );
      // What differs most between engines: decoding the audio for its
      // waveform, and the image under the shapes.
      if (kind === 'transcription')
        await until(
          async () => (await page.$eval('[data-testid=waveform]', (c) => c.dataset.state).catch(() => null)) === 'drawn',
          async () => `the waveform to be drawn in Firefox; it is ${await page.$eval('[data-testid=waveform]', (c) => c.dataset.state).catch(() => 'missing')}; the page shows ${await bodyText(page)}`,
        );
      if (kind === 'segmentation')
        await until(
          async () => (await page.$eval('[data-testid=seg-editor]', (e) => e.dataset.image).catch(() => null)) === 'loaded',
          async () => `the task's image to load in Firefox; the page shows ${await bodyText(page)}`,
        );
      if (kind === 'imageannotation')
        await until(
          async () => page.evaluate(() => [...document.querySelectorAll('[data-testid=editor] image, [data-testid=editor] img')].some((i) => (i.naturalWidth ?? 1) > 0 && (i.complete ?? true))),
          async () => `the task's image to load in Firefox; the page shows ${await bodyText(page)}`,
        );
      await shot(page, `editor-${kind}`);
      assert.deepEqual(errors, [], `uncaught errors in the page with the ${kind} editor`);
    }
  } finally {
    await context.close().catch(() => {});
  }
});

it('Firefox: an annotator draws a box with the mouse on an image and submits it', { timeout: 120000 * SLOW }, async () => {
  const image = await upload(png(200, 100), 'image/png');
  const project = expectStatus(await srv.api('POST', '/v1/projects', { name: 'firefox boxes', kind: 'imageannotation', params: { labels: ['car', 'person'], geometries: ['box'] } }), 201);
  const task = expectStatus(await srv.api('POST', '/v1/tasks', { project_id: project.id, attachments: [{ type: 'image', file: image }], data: { width: 200, height: 100 } }), 201);
  const user = await makeAnnotator(srv, 'ff-boxes@test.io', PASSWORD, [project.id]);
  const { context, page, errors } = await newPage();
  try {
    await login(page, user);
    await page.goto(`${srv.base}/#/projects/${project.id}/queue`);
    const stage = '[data-testid=ia-stage]';
    await until(
      async () => page.evaluate((sel) => document.querySelector(sel)?.dataset.state === 'ready', stage),
      async () => `the image editor to be ready in Firefox; the page shows ${await bodyText(page)}`,
    );
    /* The screen position of image pixel (x, y). */
    const at = (x, y) =>
      page.evaluate(
        (sel, x, y) => {
          const r = document.querySelector('[data-testid=ia-image]').getBoundingClientRect();
          const st = document.querySelector(sel).dataset;
          return { x: r.left + (x * r.width) / Number(st.width), y: r.top + (y * r.height) / Number(st.height) };
        },
        stage,
        x,
        y,
      );
    await page.keyboard.press('2'); // the label "person"
    const a = await at(20, 10);
    const b = await at(120, 60);
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    for (let i = 1; i <= 8; i++) await page.mouse.move(a.x + ((b.x - a.x) * i) / 8, a.y + ((b.y - a.y) * i) / 8);
    await page.mouse.up();
    await until(
      async () => page.evaluate(() => !document.querySelector('button[data-action=submit]').disabled),
      async () => `a drawn box to make the answer complete; the page shows ${await bodyText(page)}`,
    );
    await shot(page, 'image-box');
    await page.click('button[data-action=submit]');
    const items = await until(
      async () => {
        const got = await annotationsOf(task);
        return got.length ? got : null;
      },
      `the box submitted for task ${task.id}`,
    );
    const boxes = items[0].response.annotations;
    assert.equal(boxes.length, 1, JSON.stringify(items[0].response));
    const box = boxes[0];
    assert.equal(box.type, 'box');
    assert.equal(box.label, 'person');
    for (const [k, want] of Object.entries({ x: 20, y: 10, width: 100, height: 50 }))
      assert.ok(Math.abs(box[k] - want) <= 1.5, `the box's ${k} is ${box[k]}, not about ${want} (image pixels): ${JSON.stringify(box)}`);
    assert.deepEqual(errors, [], 'uncaught errors in the page');
  } finally {
    await context.close().catch(() => {});
  }
});
