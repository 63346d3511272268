// editor-transcription.test.mjs -- the `transcription` editor in the
// annotator's workspace.  A WAV made here (two bursts of a tone with silence
// around them) is uploaded with POST /v1/files; the waveform must show the
// bursts.  With segments: two segments drawn by dragging on the waveform,
// their texts and speakers typed, a boundary typed into its box, an overlap
// refused (typed) and stopped (dragged) with a message, a segment marked
// with keys and deleted, shortcuts that work while typing, a draft that
// survives a reload, and the submitted segments read back from the API.
// Without segments: the code-point counter, an answer over max_length held
// back, an image shown beside the text.  A model's prediction pre-fills
// the answer; an audio on another site gets a timeline without a waveform;
// two read-only instances on one page.
//
// Headless chromium may not play sound, so nothing here waits for playback
// to advance: seeking is checked through the <audio> element's currentTime.
import assert from 'node:assert/strict';
import { expectStatus } from '../api/harness.mjs';
import { wav, upload as uploadFile } from './media.mjs';
import {
  serveUi,
  PASSWORD,
  browserTest,
  makeAnnotator,
  openQueue,
  screenshot,
  until,
  textOf,
  pageText,
  waitVisible,
  waitText,
  waitStatus,
  clearStatusLog,
} from './browser.mjs';

let srv;
serveUi((s) => (srv = s));

const DURATION = 3;
const BURSTS = [
  [0.3, 1.2],
  [1.8, 2.7],
];

function makeWav(opts = {}) {
  return wav({ seconds: DURATION, bursts: BURSTS, ...opts });
}

/* A small SVG "scan" with a line of text, for OCR. */
const SVG = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="480" height="160" viewBox="0 0 480 160">' +
    '<rect width="480" height="160" fill="#fffdf5"/><text x="30" y="95" font-family="serif" font-size="44" fill="#222">Zoë drinks tea</text></svg>',
);

function upload(bytes, type, filename, projectId = null) {
  return uploadFile(srv, bytes, type, filename, projectId);
}

async function makeProject(params) {
  return expectStatus(
    await srv.api('POST', '/v1/projects', { name: `transcribe-${Math.random().toString(36).slice(2, 8)}`, kind: 'transcription', params, overlap: 1 }),
    201,
  );
}

async function makeTask(project, uniqueId, body) {
  return expectStatus(await srv.api('POST', '/v1/tasks', { project_id: project.id, unique_id: uniqueId, ...body }), 201);
}

async function annotationsOf(task) {
  return expectStatus(await srv.api('GET', `/v1/tasks/${task.id}/annotations`), 200).items;
}

/* The timeline's geometry in the page: its inner left edge and width (CSS
 * px), and the seconds it shows. */
async function timeline(page) {
  await page.locator('[data-testid=timeline]').scrollIntoViewIfNeeded();
  return page.$eval('[data-testid=timeline]', (v) => {
    const r = v.getBoundingClientRect();
    return { left: r.left + v.clientLeft, top: r.top + v.clientTop, width: v.clientWidth, height: v.clientHeight };
  });
}

const xOf = (g, t) => g.left + (t / DURATION) * g.width;

/* Clicks the timeline at second t. */
async function clickTimeline(page, t) {
  const g = await timeline(page);
  await page.mouse.click(xOf(g, t), g.top + g.height * 0.7);
}

/* Drags on the timeline from second a to second b. */
async function dragTimeline(page, a, b, { y = 0.7 } = {}) {
  const g = await timeline(page);
  const yy = g.top + g.height * y;
  await page.mouse.move(xOf(g, a), yy);
  await page.mouse.down();
  await page.mouse.move((xOf(g, a) + xOf(g, b)) / 2, yy, { steps: 4 });
  await page.mouse.move(xOf(g, b), yy, { steps: 4 });
  await page.mouse.up();
}

/* The segment rows as the page shows them. */
async function segmentRows(page) {
  return page.$$eval('[data-testid=segment]', (rows) =>
    rows.map((r) => ({
      start: r.querySelector('[data-field=start]').value,
      end: r.querySelector('[data-field=end]').value,
      startMs: Number(r.querySelector('[data-field=start]').dataset.ms),
      endMs: Number(r.querySelector('[data-field=end]').dataset.ms),
      speaker: r.querySelector('[data-field=speaker]').value ?? r.querySelector('[data-field=speaker]').textContent,
      text: r.querySelector('[data-field=text]').value ?? r.querySelector('[data-field=text]').textContent,
      invalid: r.dataset.invalid === 'true',
    })),
  );
}

async function waitRows(page, n, what) {
  let rows;
  return until(
    async () => {
      rows = await segmentRows(page);
      return rows.length === n ? rows : null;
    },
    async () => `expected ${n} segment rows (${what}); the page has ${JSON.stringify(rows)}; it shows ${await pageText(page)}`,
  );
}

async function currentTime(page) {
  return page.$eval('[data-testid=media]', (m) => m.currentTime);
}

async function waitTime(page, t, what, tol = 0.02) {
  let seen;
  return until(
    async () => {
      seen = await currentTime(page);
      return Math.abs(seen - t) <= tol;
    },
    () => `expected the audio's currentTime to be ${t} ± ${tol} (${what}); it is ${seen}`,
  );
}

/* Heights (device px) of the waveform drawn in the canvas's columns at
 * these seconds: the painted pixels below the ruler. */
async function waveHeights(page, times) {
  return page.$eval(
    '[data-testid=waveform]',
    (c, { times, duration }) => {
      const g = c.getContext('2d');
      const top = Math.round(c.height * (18 / 120)) + 2;
      const out = [];
      for (const t of times) {
        const x = Math.min(c.width - 1, Math.round((t / duration) * c.width));
        const col = g.getImageData(x, top, 1, c.height - top).data;
        let n = 0;
        for (let i = 3; i < col.length; i += 4) if (col[i] > 0) n++;
        out.push({ t, painted: n, of: c.height - top });
      }
      return out;
    },
    { times, duration: DURATION },
  );
}

/* The message line's text, or null while it is hidden. */
async function message(page) {
  return textOf(page, '[data-testid=segment-message]:not([hidden])');
}

/* Waits until the server holds the page's draft of the assignment the
 * page was given for task, and it passes check(draft). */
async function waitDraft(assignments, task, check, what) {
  let draft;
  return until(
    async () => {
      const a = assignments.findLast((x) => x.task_id === task.id);
      if (!a) return null;
      draft = expectStatus(await srv.api('GET', `/v1/assignments/${a.id}`), 200).draft;
      return draft && check(draft) ? draft : null;
    },
    () => `the server's draft for task ${task.id} should hold ${what}; it is ${JSON.stringify(draft)}`,
  );
}

browserTest('segments: a waveform, segments drawn by dragging, typed and adjusted, overlaps refused, a draft kept over a reload, submitted as seconds', async ({ page, assignments }) => {
  const wav = await upload(makeWav(), 'audio/wav', 'call.wav');
  const project = await makeProject({ segments: true, max_length: 60, instructions: 'Verbatim, including fillers.' });
  const task = await makeTask(project, 'call-1', { attachments: [{ type: 'audio', file: wav.sha256, name: 'call.wav' }], data: { duration: DURATION } });
  const ann = await makeAnnotator(srv, 'ann-transcribe-seg@test.io', PASSWORD, [project.id]);
  await openQueue(page, srv, ann, project);

  // The waveform is decoded and drawn: tall in the bursts, flat between them.
  await waitVisible(page, '[data-testid=transcription][data-mode=segments]', 'the transcription editor with segments');
  await until(
    async () => (await page.$eval('[data-testid=waveform]', (c) => c.dataset.state).catch(() => null)) === 'drawn',
    async () => `the waveform was not drawn: canvas state ${await page.$eval('[data-testid=waveform]', (c) => c.dataset.state).catch(() => '?')}, note ${JSON.stringify(await textOf(page, '[data-testid=wave-note]'))}`,
  );
  const heights = await waveHeights(page, [0.1, 0.75, 1.5, 2.25, 2.9]);
  const [before0, burst1, gap, burst2, after2] = heights;
  for (const b of [burst1, burst2]) assert.ok(b.painted > b.of * 0.5, `the waveform should be tall in a burst (at ${b.t} s): ${JSON.stringify(heights)}`);
  for (const q of [before0, gap, after2]) assert.ok(q.painted < q.of * 0.1, `the waveform should be flat in silence (at ${q.t} s): ${JSON.stringify(heights)}`);
  assert.ok(Number(await page.$eval('[data-testid=waveform]', (c) => c.dataset.columns)) > 100, 'the canvas reports almost no drawn columns');
  await until(
    () => page.$eval('[data-testid=transcription]', (r) => r.dataset.mediaReady === 'true'),
    'the audio element never loaded its metadata',
  );
  assert.equal(await textOf(page, '[data-testid=time]'), '0:00.000 / 0:03.000', 'the time display');
  assert.equal((await page.$$('[data-testid=segment]')).length, 0, 'a new task starts with no segments');
  await screenshot(page, 'transcription-segments-empty');

  // A click on the timeline seeks.
  await clickTimeline(page, 1.5);
  await waitTime(page, 1.5, 'after a click at 1.5 s on the timeline');
  await waitText(page, '[data-testid=time]', /^0:01\.5\d\d \/ 0:03\.000$/, 'the time display after the click');

  // Two segments, drawn by dragging across the bursts.
  await dragTimeline(page, 0.3, 1.2);
  let rows = await waitRows(page, 1, 'after dragging from 0.3 s to 1.2 s');
  const tol = 20; // ms: a pixel is ~3.5 ms here
  assert.ok(Math.abs(rows[0].startMs - 300) <= tol && Math.abs(rows[0].endMs - 1200) <= tol, `the dragged segment is ${rows[0].start} – ${rows[0].end}, not 0.3 – 1.2 s`);
  assert.ok(
    await page.$eval('[data-testid=segment] [data-field=text]', (t) => document.activeElement === t),
    'after drawing a segment, its text box should have the focus, ready to type',
  );
  await page.keyboard.type('Hello, how can I help?');
  await dragTimeline(page, 2.7, 1.8); // right to left works too
  rows = await waitRows(page, 2, 'after dragging from 2.7 s back to 1.8 s');
  assert.ok(Math.abs(rows[1].startMs - 1800) <= tol && Math.abs(rows[1].endMs - 2700) <= tol, `the second segment is ${rows[1].start} – ${rows[1].end}, not 1.8 – 2.7 s`);
  assert.equal(await page.locator('[data-testid=region]').count(), 2, 'two regions on the timeline');
  const seg = (i) => page.locator('[data-testid=segment]').nth(i);
  await seg(1).locator('[data-field=text]').fill('Um, my parcel is late.');
  await seg(0).locator('[data-field=speaker]').fill('agent');
  await seg(0).locator('[data-field=speaker]').press('Tab');
  assert.deepEqual(
    await page.$$eval('[data-testid=transcription] datalist option', (os) => os.map((o) => o.value)),
    ['agent'],
    'the speakers used so far are offered to the next speaker box',
  );
  assert.equal(await seg(1).locator('[data-field=speaker]').getAttribute('list'), await page.$eval('[data-testid=transcription] datalist', (d) => d.id));
  await seg(1).locator('[data-field=speaker]').fill('caller');

  // The counter counts what is left of max_length (60).
  await waitText(page, '[data-testid=segment]:nth-child(2) [data-testid=counter]', /^38 of 60 characters left$/, 'the counter of segment 2 ("Um, my parcel is late." is 22 characters)');

  // A boundary typed into its box (seconds or minutes:seconds).
  await seg(0).locator('[data-field=end]').fill('1.25');
  await seg(0).locator('[data-field=end]').press('Enter');
  await until(async () => (await segmentRows(page))[0].end === '0:01.250', async () => `segment 1's end box should read 0:01.250, rows: ${JSON.stringify(await segmentRows(page))}`);
  await seg(0).locator('[data-field=start]').fill('0:00.3');
  await seg(0).locator('[data-field=start]').press('Tab');
  await until(async () => (await segmentRows(page))[0].startMs === 300, async () => `segment 1 should start at 300 ms, rows: ${JSON.stringify(await segmentRows(page))}`);

  // An overlap typed in is refused, with a message, and the box goes back.
  const before2 = (await segmentRows(page))[1];
  await seg(1).locator('[data-field=start]').fill('1.0');
  await seg(1).locator('[data-field=start]').press('Enter');
  const refusal = await waitText(page, '[data-testid=segment-message]', /must not overlap/, 'a message refusing the overlap');
  assert.match(refusal, /segment 1 runs until 0:01\.250/, 'the message says which segment is in the way');
  rows = await segmentRows(page);
  assert.equal(rows[1].startMs, before2.startMs, `the refused start must not be kept: ${JSON.stringify(rows[1])}`);
  assert.equal(rows[1].start, before2.start, 'the box shows the start again');
  await screenshot(page, 'transcription-segments-overlap-refused');

  // Nonsense is refused too.
  await seg(1).locator('[data-field=end]').fill('soon');
  await seg(1).locator('[data-field=end]').press('Enter');
  await waitText(page, '[data-testid=segment-message]', /is not a time/, 'a message for a time that is not one');

  // Dragging segment 2's start over segment 1 stops at segment 1's end.
  const g2 = await timeline(page);
  const y = g2.top + g2.height * 0.7;
  const handle = await page.$eval('[data-testid=region][data-index="1"] [data-edge=start]', (h) => {
    const r = h.getBoundingClientRect();
    return r.left + r.width / 2;
  });
  await page.mouse.move(handle, y);
  await page.mouse.down();
  await page.mouse.move(xOf(g2, 1.0), y, { steps: 6 });
  await page.mouse.up();
  await waitText(page, '[data-testid=segment-message]', /Stopped at segment 1: segments must not overlap/, 'a message when a drag reaches the neighbour');
  rows = await segmentRows(page);
  assert.equal(rows[1].startMs, 1250, `segment 2's start should stop at segment 1's end (1.250), rows ${JSON.stringify(rows)}`);
  await seg(1).locator('[data-field=start]').fill('1.8');
  await seg(1).locator('[data-field=start]').press('Enter');
  await until(async () => (await segmentRows(page))[1].startMs === 1800, 'segment 2 back at 1.8 s');

  // Keys: m marks a start and an end at the playhead, Delete removes the
  // selected segment, Undo brings it back, Delete again.
  await clickTimeline(page, 2.8);
  await waitTime(page, 2.8, 'after a click at 2.8 s', 0.01);
  await page.keyboard.press('m');
  await waitText(page, '[data-testid=segment-message]', /Start marked at 0:02\.8/, 'the mark message');
  await page.keyboard.press('Escape');
  await until(async () => (await message(page)) === null, 'Escape cancels the mark');
  await page.keyboard.press('m');
  await waitText(page, '[data-testid=segment-message]', /Start marked at 0:02\.8/, 'the mark message');
  await page.keyboard.press('ArrowRight'); // +1 s, stops at the end (3 s)
  await waitTime(page, 3.0, 'after → from 2.8 s (the end of the audio)', 0.01);
  await page.keyboard.press('m');
  rows = await waitRows(page, 3, 'after m at 2.8 s and m at 3 s');
  assert.equal(rows[2].endMs, 3000, `the marked segment should end at the end: ${JSON.stringify(rows[2])}`);
  await page.locator('[data-testid=timeline]').focus();
  await page.keyboard.press('Delete');
  await waitRows(page, 2, 'after Delete on the selected (new) segment');
  await page.click('[data-action=undo-delete]');
  await waitRows(page, 3, 'after Undo');
  await page.locator('[data-testid=timeline]').focus();
  await page.keyboard.press('Delete');
  await waitRows(page, 2, 'after Delete again');

  // While typing: Alt+L / Alt+J move the playhead, Ctrl+Space types nothing.
  await clickTimeline(page, 1.0);
  await waitTime(page, 1.0, 'after a click at 1 s', 0.01);
  const box = seg(0).locator('[data-field=text]');
  await box.focus();
  await page.keyboard.press('Alt+L');
  await waitTime(page, DURATION, 'after Alt+L while typing (1 s + 3 s, stopped at the end)', 0.01);
  await page.keyboard.press('Alt+J');
  await waitTime(page, 0, 'after Alt+J while typing (-3 s)', 0.01);
  await page.keyboard.press('Control+Space');
  await page.keyboard.press('Control+Space');
  assert.equal(await box.inputValue(), 'Hello, how can I help?', 'the shortcuts typed into the text box');
  assert.ok(await box.evaluate((t) => document.activeElement === t), 'the text box kept the focus');

  // The draft survives a reload.
  const drafted = await segmentRows(page);
  await waitDraft(
    assignments,
    task,
    (d) => d.segments?.length === 2 && d.segments[1].speaker === 'caller' && d.segments[0].end === 1.25 && d.segments[1].start === 1.8,
    'the two segments as edited',
  );
  await page.reload();
  await waitVisible(page, '[data-testid=transcription][data-mode=segments]', 'the editor after a reload');
  rows = await waitRows(page, 2, 'the drafted segments after a reload');
  assert.deepEqual(rows, drafted, 'the segments after a reload are those before it');
  await until(async () => (await page.locator('[data-testid=region]').count()) === 2, 'the regions after a reload');
  await page.locator('[data-testid=region][data-index="0"]').click();
  await until(async () => page.$eval('[data-testid=segment]', (r) => r.classList.contains('is-selected')), 'clicking a region selects its row');
  await screenshot(page, 'transcription-segments');

  // Submit, and read it back.
  assert.ok(await page.isEnabled('button[data-action=submit]'), 'submit should be enabled');
  await clearStatusLog(page);
  await page.click('button[data-action=submit]');
  await waitStatus(page, /submitted/i, '"Submitted"');
  const items = await annotationsOf(task);
  assert.equal(items.length, 1, `one annotation expected: ${JSON.stringify(items)}`);
  assert.equal(items[0].status, 'accepted', JSON.stringify(items[0]));
  assert.deepEqual(items[0].response, {
    segments: [
      { start: drafted[0].startMs / 1000, end: 1.25, text: 'Hello, how can I help?', speaker: 'agent' },
      { start: 1.8, end: drafted[1].endMs / 1000, text: 'Um, my parcel is late.', speaker: 'caller' },
    ],
  });
  assert.equal(drafted[0].startMs, 300);
  assert.ok(Math.abs(drafted[1].endMs - 2700) <= tol, `segment 2 ends at ${drafted[1].endMs} ms`);
});

browserTest('one text: the counter counts code points, an answer over max_length is held back; an image is shown beside the text box', async ({ page }) => {
  const wav = await upload(makeWav(), 'audio/wav', 'memo.wav');
  const svg = await upload(SVG, 'image/svg+xml', 'receipt.svg');
  const project = await makeProject({ max_length: 20 });
  const memo = await makeTask(project, 'memo', { attachments: [{ type: 'audio', file: wav.sha256 }] });
  const scan = await makeTask(project, 'scan', { attachments: [{ type: 'image', url: svg.url, name: 'receipt' }], data: { page: 3 } });
  const ann = await makeAnnotator(srv, 'ann-transcribe-text@test.io', PASSWORD, [project.id]);
  await openQueue(page, srv, ann, project);

  // Audio without data.duration: the timeline takes the file's length.
  await waitVisible(page, '[data-testid=transcription][data-mode=text][data-media=audio]', 'the transcription editor with one text box');
  await until(
    async () => (await page.$eval('[data-testid=waveform]', (c) => c.dataset.state).catch(() => null)) === 'drawn',
    async () => `the waveform was not drawn; note ${JSON.stringify(await textOf(page, '[data-testid=wave-note]'))}`,
  );
  await waitText(page, '[data-testid=time]', /^0:00\.000 \/ 0:03\.000$/, 'the length of the audio file');
  assert.equal(await page.locator('[data-testid=segment], [data-testid=region]').count(), 0, 'no segments without params.segments');
  await clickTimeline(page, 2.25);
  await waitTime(page, 2.25, 'a click on the timeline seeks in text mode too');

  // Zoom: the view shows half as much around the playhead, a scroll bar
  // appears, and a click still lands at the right second.
  await page.click('[data-action=zoom-in]');
  const view = await until(
    () => page.$eval('[data-testid=timeline]', (v) => ({ start: Number(v.dataset.viewStart), end: Number(v.dataset.viewEnd) })).then((v) => (Math.abs(v.end - v.start - 1.5) < 0.01 ? v : null)),
    'zooming in should show 1.5 s of the 3 s',
  );
  assert.ok(view.start <= 2.25 && view.end >= 2.25, `the playhead (2.25 s) should stay in view: ${JSON.stringify(view)}`);
  await waitVisible(page, '[data-action=pan]', 'the scroll bar of a zoomed timeline');
  {
    const g = await timeline(page);
    await page.mouse.click(g.left + g.width / 2, g.top + g.height * 0.7);
  }
  await waitTime(page, (view.start + view.end) / 2, 'a click in the middle of the zoomed view', 0.01);
  await page.click('[data-action=zoom-fit]');
  await until(async () => (await page.$eval('[data-testid=timeline]', (v) => v.dataset.viewEnd)) === '3.000', 'Fit shows the whole audio again');
  await until(async () => !(await page.isVisible('[data-action=pan]')), 'no scroll bar when everything is shown');
  await clickTimeline(page, 2.25);
  await waitTime(page, 2.25, 'back at 2.25 s');

  const box = page.locator('[data-testid=transcript]');
  await box.fill('Zoë 🎧 ok'); // 8 code points, 9 UTF-16 units
  await waitText(page, '[data-testid=counter]', /^12 of 20 characters left$/, 'the counter in code points ("Zoë 🎧 ok" has 8)');
  assert.ok(await page.isEnabled('button[data-action=submit]'), 'submit enabled within max_length');
  await box.fill('Zoë 🎧 ok, and far too much more');
  await waitText(page, '[data-testid=counter]', /^11 characters too many \(at most 20\)$/, 'the counter over the limit');
  await until(async () => !(await page.isEnabled('button[data-action=submit]')), 'submit should be disabled over max_length');
  // Shortcuts while typing move the playhead and type nothing.
  await box.focus();
  await page.keyboard.press('Alt+J');
  await waitTime(page, 0, 'Alt+J while typing (2.25 s - 3 s, stopped at 0)', 0.01);
  assert.equal(await box.inputValue(), 'Zoë 🎧 ok, and far too much more');
  await box.fill('Zoë 🎧 ok');
  await waitText(page, '[data-testid=counter]', /^12 of 20 characters left$/, 'the counter after shortening');
  await screenshot(page, 'transcription-text-audio');
  await clearStatusLog(page);
  await page.click('button[data-action=submit]');
  await waitStatus(page, /submitted/i, '"Submitted" for the audio task');
  let items = await annotationsOf(memo);
  assert.equal(items.length, 1, JSON.stringify(items));
  assert.deepEqual(items[0].response, { text: 'Zoë 🎧 ok' });

  // An image: shown beside the text box, with the task's other data below.
  await waitVisible(page, '[data-testid=transcription][data-mode=text][data-media=image]', 'the next task (an image)');
  await until(() => page.$eval('[data-testid=media]', (img) => img.complete && img.naturalWidth > 0), 'the image did not load');
  const [imgBox, textBox] = await Promise.all([page.locator('.tr-img-box').boundingBox(), page.locator('[data-testid=transcript]').boundingBox()]);
  assert.ok(imgBox.x + imgBox.width <= textBox.x + 1, `the image should be beside the text box: image ${JSON.stringify(imgBox)}, text ${JSON.stringify(textBox)}`);
  assert.match((await textOf(page, '[data-testid=task-context]')) ?? '', /page\s*3/, "the task's other data is shown");
  await page.click('[data-action=zoom-in]');
  await until(() => page.$eval('[data-testid=media]', (img) => img.classList.contains('is-zoomed')), 'zoom in enlarges the image');
  // e (outside text fields) goes to the text box.
  await page.locator('.tr-img-box').focus();
  await page.keyboard.press('e');
  await until(() => page.$eval('[data-testid=transcript]', (t) => document.activeElement === t), 'e should put the focus in the text box');
  await page.keyboard.type('Zoë drinks tea');
  await waitText(page, '[data-testid=counter]', /^6 of 20 characters left$/, 'the counter for the image');
  await screenshot(page, 'transcription-text-image');
  await clearStatusLog(page);
  await page.click('button[data-action=submit]');
  await waitStatus(page, /submitted/i, '"Submitted" for the image task');
  items = await annotationsOf(scan);
  assert.deepEqual(items.map((a) => a.response), [{ text: 'Zoë drinks tea' }]);
});

browserTest("a model's segments pre-fill the answer; an audio on another site gets a timeline without a waveform; read-only instances side by side", async ({ page }) => {
  const project = await makeProject({ segments: true });
  const predicted = {
    segments: [
      { start: 0.3, end: 1.2, text: 'Hello there.', speaker: 'agent' },
      { start: 1.8, end: 2.7, text: 'Hi.' },
    ],
  };
  const task = await makeTask(project, 'remote', {
    attachments: [{ type: 'audio', url: 'https://media.example.invalid/call.mp3' }],
    data: { duration: DURATION },
    predictions: [
      { model: 'asr-small', score: 0.4, response: { segments: [] } },
      { model: 'asr-large', score: 0.9, response: predicted },
    ],
  });
  const ann = await makeAnnotator(srv, 'ann-transcribe-pred@test.io', PASSWORD, [project.id]);
  await openQueue(page, srv, ann, project);

  await waitText(page, '[data-testid=prediction-note]', /2 segments of the model asr-large \(score 0\.9\)/, 'a note naming the best prediction');
  const rows = await waitRows(page, 2, "the prediction's segments");
  assert.deepEqual(
    rows.map((r) => [r.startMs, r.endMs, r.text, r.speaker]),
    [
      [300, 1200, 'Hello there.', 'agent'],
      [1800, 2700, 'Hi.', ''],
    ],
  );
  await waitText(page, '[data-testid=wave-note]', /another site \(media\.example\.invalid\)/, 'why there is no waveform');
  assert.equal(await page.$eval('[data-testid=waveform]', (c) => c.dataset.state), 'none');
  await until(async () => (await page.locator('[data-testid=region]:visible').count()) === 2, 'the two regions on a timeline as long as data.duration');
  await screenshot(page, 'transcription-prediction-remote');
  await clearStatusLog(page);
  await page.click('button[data-action=submit]');
  await waitStatus(page, /submitted/i, '"Submitted"');
  const items = await annotationsOf(task);
  assert.deepEqual(items.map((a) => a.response), [predicted], 'the accepted prediction is submitted as it was');

  // Read-only: three instances on one page (as a review shows them), then unmounted.
  const wav = await upload(makeWav(), 'audio/wav', 'review.wav', project.id);
  await page.goto(`${srv.base}/#/projects`);
  await waitVisible(page, `a[data-project-id="${project.id}"]`, 'the project list');
  await page.evaluate(
    async ({ url, duration, predicted }) => {
      const { transcriptionEditor: ed } = await import('/ui/editor-transcription.js');
      const host = document.createElement('div');
      host.id = 'ro-host';
      document.querySelector('main').append(host);
      const box = () => host.appendChild(document.createElement('div'));
      const task = { attachments: [{ type: 'audio', url }], data: { duration } };
      window.__ro = [
        ed.mount(box(), { params: { segments: true }, task, value: predicted, readOnly: true }),
        ed.mount(box(), { params: { segments: true }, task, value: { segments: [{ start: 0.5, end: 2.5, text: 'All of it.', speaker: 'caller' }] }, readOnly: true }),
        ed.mount(box(), { params: {}, task, value: { text: 'Just the text.' }, readOnly: true }),
      ];
    },
    { url: wav.url, duration: DURATION, predicted },
  );
  const host = page.locator('#ro-host');
  await until(
    async () => (await host.locator('[data-testid=waveform][data-state=drawn]').count()) === 3,
    async () => `each read-only instance should draw its waveform: ${JSON.stringify(await page.$$eval('#ro-host [data-testid=waveform]', (cs) => cs.map((c) => c.dataset.state)))}`,
  );
  assert.equal(await host.locator('[data-testid=region]').count(), 3, 'regions of both segment answers');
  assert.equal(await host.locator('textarea, input[type=text]:not([readonly]), [data-action=delete-segment], [data-action=add-segment]').count(), 0, 'nothing editable in read-only mode');
  assert.equal((await textOf(page, '#ro-host [data-testid=transcript]')) ?? '', 'Just the text.');
  assert.match((await textOf(page, '#ro-host [data-testid=transcription]:nth-child(1) [data-testid=segments]')) ?? '', /Hello there\.[\s\S]*Hi\./);
  assert.deepEqual(await page.evaluate(() => window.__ro.map((i) => i.value())), [predicted, { segments: [{ start: 0.5, end: 2.5, text: 'All of it.', speaker: 'caller' }] }, { text: 'Just the text.' }]);
  // Each instance seeks its own audio.
  await host.locator('[data-testid=transcription]').nth(1).locator('[data-testid=region]').click();
  await until(
    () => page.$$eval('#ro-host [data-testid=media]', (ms) => ms.map((m) => m.currentTime > 0.4 && m.currentTime < 2.6)).then((v) => v[1] && !v[0] && !v[2]),
    'clicking a region of the second instance seeks only its own audio',
  );
  await screenshot(page, 'transcription-readonly');
  await page.evaluate(() => window.__ro.forEach((i) => i.unmount()));
  assert.equal(await page.$$eval('#ro-host [data-testid=media]', (ms) => ms.filter((m) => m.getAttribute('src')).length), 0, 'unmount releases every audio element');
});

browserTest('a saved draft that breaks the rules shows what is wrong, and cannot be submitted until it is fixed', async ({ page }) => {
  const wav = await upload(makeWav(), 'audio/wav', 'draft.wav');
  const project = await makeProject({ segments: true, max_length: 10 });
  const task = await makeTask(project, 'bad-draft', { attachments: [{ type: 'audio', file: wav.sha256 }], data: { duration: DURATION } });
  const ann = await makeAnnotator(srv, 'ann-transcribe-draft@test.io', PASSWORD, [project.id]);
  // The annotator's lease, with a draft saved through the API (drafts are not checked).
  const lease = expectStatus(await srv.api('GET', `/v1/projects/${project.id}/queue/next`, undefined, { key: ann.key }), 200).assignment;
  assert.equal(lease.task_id, task.id);
  const draft = {
    segments: [
      { start: 0.5, end: 2, text: 'Overlapped', speaker: 'a' },
      { start: 1.5, end: 3.5, text: 'Much too long a text' },
    ],
  };
  expectStatus(await srv.api('PUT', `/v1/assignments/${lease.id}/draft`, draft, { key: ann.key }), 200);
  await openQueue(page, srv, ann, project);

  const rows = await waitRows(page, 2, 'the drafted segments');
  assert.deepEqual(
    rows.map((r) => r.invalid),
    [false, true],
    'the second segment is marked as breaking the rules',
  );
  const errors = (await textOf(page, '[data-testid=segment]:nth-child(2) [data-testid=segment-errors]')) ?? '';
  assert.match(errors, /overlaps segment 1, which ends at 0:02\.000/, 'the overlap is named');
  assert.match(errors, /ends after 0:03\.000/, 'the end past data.duration is named');
  assert.match(errors, /longer than 10 characters/, 'the text over max_length is named');
  await waitText(page, '[data-testid=segment]:nth-child(2) [data-testid=counter]', /^10 characters too many \(at most 10\)$/, 'the counter over the limit');
  assert.ok(!(await page.isEnabled('button[data-action=submit]')), 'submit must be disabled while a segment breaks the rules');
  await screenshot(page, 'transcription-invalid-draft');

  const seg = page.locator('[data-testid=segment]').nth(1);
  await seg.locator('[data-field=start]').fill('2');
  await seg.locator('[data-field=start]').press('Enter');
  await seg.locator('[data-field=end]').fill('3');
  await seg.locator('[data-field=end]').press('Enter');
  await seg.locator('[data-field=text]').fill('Short one');
  await until(async () => (await segmentRows(page)).every((r) => !r.invalid), async () => `every segment should be valid now: ${JSON.stringify(await segmentRows(page))}`);
  await until(() => page.isEnabled('button[data-action=submit]'), 'submit enabled once fixed');
  await clearStatusLog(page);
  await page.click('button[data-action=submit]');
  await waitStatus(page, /submitted/i, '"Submitted"');
  const items = await annotationsOf(task);
  assert.deepEqual(
    items.map((a) => a.response),
    [
      {
        segments: [
          { start: 0.5, end: 2, text: 'Overlapped', speaker: 'a' },
          { start: 2, end: 3, text: 'Short one' },
        ],
      },
    ],
  );
});

browserTest('a video gets the same timeline, without a waveform, and segments drawn on it', async ({ page }) => {
  // A WAV served as a video plays in a <video> element (with no picture).
  const file = await upload(makeWav({ freq: 330 }), 'audio/wav', 'clip.wav');
  const project = await makeProject({ segments: true });
  const task = await makeTask(project, 'clip', { attachments: [{ type: 'video', file: file.sha256, name: 'clip' }] });
  const ann = await makeAnnotator(srv, 'ann-transcribe-video@test.io', PASSWORD, [project.id]);
  await openQueue(page, srv, ann, project);
  await waitVisible(page, '[data-testid=transcription][data-media=video] video[data-testid=media]', 'the video player');
  await until(() => page.$eval('[data-testid=transcription]', (r) => r.dataset.mediaReady === 'true'), 'the video never loaded its metadata');
  await waitText(page, '[data-testid=time]', /^0:00\.000 \/ 0:03\.000$/, "the video's length");
  assert.equal(await page.$eval('[data-testid=waveform]', (c) => c.dataset.state), 'none', 'no waveform for a video');
  await clickTimeline(page, 1.2);
  await waitTime(page, 1.2, 'a click on the timeline seeks the video');
  await page.locator('[data-testid=timeline]').focus();
  await page.keyboard.press('j');
  await waitTime(page, 0, 'j goes back 3 s (to the start)', 0.01);
  await dragTimeline(page, 0.5, 2.5);
  const rows = await waitRows(page, 1, 'a segment dragged on the video timeline');
  await page.locator('[data-testid=segment] [data-field=text]').fill('Narrator speaks.');
  await screenshot(page, 'transcription-video');
  await clearStatusLog(page);
  await page.click('button[data-action=submit]');
  await waitStatus(page, /submitted/i, '"Submitted"');
  const items = await annotationsOf(task);
  assert.deepEqual(items.map((a) => a.response), [{ segments: [{ start: rows[0].startMs / 1000, end: rows[0].endMs / 1000, text: 'Narrator speaks.' }] }]);
});
