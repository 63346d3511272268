// editor-video.test.mjs -- the videoannotation editor in the browser: an
// annotator draws a track on a sequence of frames, steps frames, moves the
// box on a later frame (a keyframe), checks the interpolated box between,
// marks the object outside, marks an event, undoes and redoes, and submits;
// the API gets the track.  Another edits a polygon's corners at a middle
// frame (drag, add, remove, undo) and drags a point.  Then a WebM recorded in the page itself
// (canvas.captureStream + MediaRecorder) as a video task with 50 tracks
// over 9,000 frames: frame steps and playback are timed and printed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { expectStatus, ADMIN_EMAIL, ADMIN_PASSWORD } from '../api/harness.mjs';
import { png, upload as uploadFile } from './media.mjs';
import { ROOT, serveUi, PASSWORD, browserTest, makeAnnotator, openQueue, login, screenshot, until, textOf, pageText, waitStatus } from './browser.mjs';

let srv;
serveUi((s) => (srv = s));

const STAGE = '[data-testid=va-stage]';
const W = 320;
const H = 180;
const FRAMES = 20;

/* Frame n of a sequence: a grey road, and a red square whose x moves 8 px a
 * frame, so a misplaced frame is visible in a screenshot. */
function framePixel(n) {
  return (x, y) => {
    if (x >= 20 + 8 * n && x < 60 + 8 * n && y >= 60 && y < 100) return [210, 40, 40];
    return y > 120 ? [100, 100, 106] : [150, 190, 230];
  };
}

async function stageState(page) {
  return page.evaluate((sel) => ({ ...document.querySelector(sel)?.dataset }), STAGE);
}

async function waitFrame(page, f) {
  return until(
    async () => {
      const s = await stageState(page);
      return s.frame === String(f) && s.shownFrame === String(f);
    },
    async () => `the editor to show frame ${f}; the stage says ${JSON.stringify(await stageState(page))}; the page shows ${await pageText(page)}`,
  );
}

/* The screen position of frame pixel (x, y). */
async function at(page, x, y) {
  const r = await page.$eval('[data-testid=va-overlay]', (c) => {
    const b = c.getBoundingClientRect();
    return { left: b.left, top: b.top, sx: b.width / c.width, sy: b.height / c.height };
  });
  return [r.left + x * r.sx, r.top + y * r.sy];
}

async function drag(page, from, to) {
  const [x0, y0] = await at(page, ...from);
  const [x1, y1] = await at(page, ...to);
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  await page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, { steps: 3 });
  await page.mouse.move(x1, y1, { steps: 3 });
  await page.mouse.up();
}

async function annotationsOf(task) {
  return expectStatus(await srv.api('GET', `/v1/tasks/${task.id}/annotations`), 200).items;
}

browserTest('an annotator tracks a box through frames: keyframes, interpolation, outside, an event, undo; the API gets the track', { timeout: 180000 }, async ({ page }) => {
  const files = [];
  for (let n = 0; n < FRAMES; n++) files.push((await uploadFile(srv, png(W, H, framePixel(n)), 'image/png', `f${n}.png`)).sha256);
  const project = expectStatus(
    await srv.api('POST', '/v1/projects', {
      name: 'video-frames',
      kind: 'videoannotation',
      params: { labels: ['car', 'person'], geometries: ['box', 'point', 'polygon'], frame_attributes: [{ name: 'occluded', type: 'boolean' }], events: ['crash'], fps: 10 },
    }),
    201,
  );
  const task = expectStatus(await srv.api('POST', '/v1/tasks', { project_id: project.id, attachments: files.map((f) => ({ type: 'image', file: f })), data: { width: W, height: H } }), 201);
  const ann = await makeAnnotator(srv, 'ann-video@test.io', PASSWORD, [project.id]);
  await openQueue(page, srv, ann, project);
  await until(async () => (await stageState(page)).state === 'ready', async () => `the first frame to load; the page shows ${await pageText(page)}`);
  await waitFrame(page, 0);
  await screenshot(page, 'video-editor-empty');

  // A box on frame 0 around the red square (20..60, 60..100).
  await page.keyboard.press('b');
  await drag(page, [20, 60], [60, 100]);
  await until(async () => (await page.$$('[data-testid=va-tracks] li[data-track]')).length === 1, 'one track after drawing a box');

  // Ten frames on (Shift+→): the square is at x = 100; the box is still at 20.
  await page.keyboard.press('Shift+ArrowRight');
  await waitFrame(page, 10);
  assert.match((await textOf(page, '[data-testid=va-state]')) ?? '', /Frame 10: interpolated/, 'frame 10 is not shown as interpolated before the move');
  // Drag the box onto the square: a keyframe at 10.
  await page.keyboard.press('v');
  await drag(page, [40, 80], [120, 80]);
  await until(async () => /Frame 10: keyframe/.test((await textOf(page, '[data-testid=va-state]')) ?? ''), 'frame 10 to become a keyframe after the move');

  // Frame 5, between the keyframes: interpolated, dashed, on the square.
  await page.fill('[data-testid=va-frame]', '5');
  await page.press('[data-testid=va-frame]', 'Enter');
  await page.click('[data-testid=va-time]');
  await waitFrame(page, 5);
  assert.match((await textOf(page, '[data-testid=va-state]')) ?? '', /Frame 5: interpolated/);
  await screenshot(page, 'video-editor-interpolated');

  // Outside from frame 15 (o), an event from 2 to 6 ([ ]).
  await page.keyboard.press('Shift+ArrowRight');
  await waitFrame(page, 15);
  await page.keyboard.press('o');
  assert.match((await textOf(page, '[data-testid=va-state]')) ?? '', /absent/, 'o did not make the object absent');
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await waitFrame(page, 2);
  await page.keyboard.press('[');
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight');
  await waitFrame(page, 6);
  await page.keyboard.press(']');
  assert.match((await textOf(page, '[data-testid=va-events]')) ?? '', /crash: 2–6/);

  // Undo takes the event back; redo restores it.
  await page.keyboard.press('Control+z');
  assert.equal(await textOf(page, '[data-testid=va-events]'), '', 'undo left the event');
  await page.keyboard.press('Control+y');
  assert.match((await textOf(page, '[data-testid=va-events]')) ?? '', /crash: 2–6/, 'redo did not bring the event back');

  // Frame attribute: occluded from frame 6 on (a keyframe at 6).
  await page.check('[data-frame-attr=occluded] input');
  await screenshot(page, 'video-editor-track');

  // The draft survives a reload: the track, its keyframes and the event.
  await waitStatus(page, /draft saved/i, '"Draft saved" after the edits');
  await page.reload();
  await until(async () => (await stageState(page)).state === 'ready', 'the frames after the reload');
  assert.match((await textOf(page, '[data-testid=va-tracks]')) ?? '', /#1 car · Box · 4 keys/, 'the track after the reload is not the draft');
  assert.match((await textOf(page, '[data-testid=va-events]')) ?? '', /crash: 2–6/, 'the event after the reload is not the draft');

  // A point (d) and a polygon (g, clicks, Enter) at frame 6, as person (2).
  await page.fill('[data-testid=va-frame]', '6');
  await page.press('[data-testid=va-frame]', 'Enter');
  await page.click('[data-testid=va-time]');
  await waitFrame(page, 6);
  await page.keyboard.press('2');
  await page.keyboard.press('d');
  const [px, py] = await at(page, 250, 150);
  await page.mouse.click(px, py);
  await page.keyboard.press('g');
  for (const [x, y] of [[200, 20], [260, 20], [230, 60]]) {
    const [cx, cy] = await at(page, x, y);
    await page.mouse.click(cx, cy);
  }
  await page.keyboard.press('Enter');
  await until(async () => (await page.$$('[data-testid=va-tracks] li[data-track]')).length === 3, 'three tracks after a point and a polygon');
  await screenshot(page, 'video-editor-shapes');
  await page.click('button[data-action=submit]');
  const items = await until(async () => {
    const a = await annotationsOf(task);
    return a.length ? a : null;
  }, 'the annotation to reach the API');
  const r = items[0].response;
  assert.equal(r.tracks.length, 3);
  const t = r.tracks[0];
  const [pt, poly] = [r.tracks[1], r.tracks[2]];
  assert.deepEqual([pt.label, pt.shape, pt.keyframes.length, pt.keyframes[0].frame], ['person', 'point', 1, 6]);
  assert.ok(Math.abs(pt.keyframes[0].x - 250) < 1.5 && Math.abs(pt.keyframes[0].y - 150) < 1.5, `the point ${JSON.stringify(pt.keyframes[0])}`);
  assert.deepEqual([poly.label, poly.shape, poly.keyframes[0].frame, poly.keyframes[0].vertices.length], ['person', 'polygon', 6, 3]);
  assert.equal(t.label, 'car');
  assert.equal(t.shape, 'box');
  assert.deepEqual(
    t.keyframes.map((k) => [k.frame, !!k.outside]),
    [
      [0, false],
      [6, false],
      [10, false],
      [15, true],
    ],
  );
  const [k0, k6, k10] = t.keyframes;
  assert.ok(Math.abs(k0.x - 20) < 1.5 && Math.abs(k0.y - 60) < 1.5 && Math.abs(k0.width - 40) < 1.5, `frame 0 box ${JSON.stringify(k0)}`);
  assert.ok(Math.abs(k10.x - 100) < 1.5 && Math.abs(k10.y - 60) < 1.5, `frame 10 box ${JSON.stringify(k10)}`);
  // The keyframe the attribute made at 6 lies on the line between 0 and 10.
  assert.ok(Math.abs(k6.x - (k0.x + 0.6 * (k10.x - k0.x))) < 0.02, `frame 6 box ${JSON.stringify(k6)} is not interpolated`);
  assert.deepEqual(k6.attributes, { occluded: true });
  assert.deepEqual(r.events, [{ label: 'crash', start: 2, end: 6 }]);
});

/* Goes to frame f through the frame box. */
async function goFrame(page, f) {
  await page.fill('[data-testid=va-frame]', String(f));
  await page.press('[data-testid=va-frame]', 'Enter');
  await page.click('[data-testid=va-time]');
  await waitFrame(page, f);
}

/* A click at frame pixel (x, y) with modifier keys held. */
async function clickWith(page, keys, x, y) {
  const [cx, cy] = await at(page, x, y);
  for (const k of keys) await page.keyboard.down(k);
  await page.mouse.click(cx, cy);
  for (const k of keys.reverse()) await page.keyboard.up(k);
}

async function stateText(page) {
  return (await textOf(page, '[data-testid=va-state]')) ?? '';
}

browserTest("an annotator edits a polygon's corners at a middle frame and drags a point; undo covers it; the API gets the keyframes", { timeout: 180000 }, async ({ page }) => {
  const files = [];
  for (let n = 0; n < 11; n++) files.push((await uploadFile(srv, png(W, H, framePixel(n)), 'image/png', `c${n}.png`)).sha256);
  const project = expectStatus(
    await srv.api('POST', '/v1/projects', { name: 'video-corners', kind: 'videoannotation', params: { labels: ['car', 'person'], geometries: ['point', 'polygon'], fps: 10 } }),
    201,
  );
  const task = expectStatus(await srv.api('POST', '/v1/tasks', { project_id: project.id, attachments: files.map((f) => ({ type: 'image', file: f })), data: { width: W, height: H } }), 201);
  const ann = await makeAnnotator(srv, 'ann-video-corners@test.io', PASSWORD, [project.id]);
  await openQueue(page, srv, ann, project);
  await until(async () => (await stageState(page)).state === 'ready', async () => `the first frame to load; the page shows ${await pageText(page)}`);
  await waitFrame(page, 0);

  // A square polygon at frame 0, moved whole by +100 px at frame 10.
  await page.keyboard.press('g');
  for (const [x, y] of [[40, 40], [120, 40], [120, 120], [40, 120]]) await clickWith(page, [], x, y);
  await page.keyboard.press('Enter');
  await until(async () => (await page.$$('[data-testid=va-tracks] li[data-track]')).length === 1, 'one track after the polygon');
  await page.keyboard.press('v');
  await goFrame(page, 10);
  await drag(page, [80, 80], [180, 80]);
  await until(async () => /Frame 10: keyframe, 4 corners/.test(await stateText(page)), async () => `frame 10 to become a keyframe; the state says ${await stateText(page)}`);

  // Frame 5 is interpolated (x 90..170); dragging corner 1 makes a keyframe there.
  await goFrame(page, 5);
  assert.match(await stateText(page), /Frame 5: interpolated, 4 corners/);
  await drag(page, [90, 40], [70, 20]);
  await until(async () => /Frame 5: keyframe, 4 corners/.test(await stateText(page)), async () => `frame 5 to become a keyframe after the corner drag; the state says ${await stateText(page)}`);
  assert.equal(await textOf(page, '[data-testid=va-corner-note]'), null, 'a note about corner counts while they are equal');

  // Shift-click on the right edge adds a corner; the note says 0 and 10 no longer morph into 5.
  await clickWith(page, ['Shift'], 170, 80);
  await until(async () => /Frame 5: keyframe, 5 corners/.test(await stateText(page)), async () => `a fifth corner; the state says ${await stateText(page)}, the message ${await textOf(page, '[data-testid=va-msg]')}`);
  assert.match((await textOf(page, '[data-testid=va-corner-note]')) ?? '', /Keyframe 0 has 4 and 10 has 4 corners, this one 5: the polygon does not morph/);
  await screenshot(page, 'video-editor-polygon-corners');
  await page.keyboard.press('Control+z');
  await until(async () => /4 corners/.test(await stateText(page)), 'undo to take the added corner back');
  await page.keyboard.press('Control+y');
  await until(async () => /5 corners/.test(await stateText(page)), 'redo to add the corner again');

  // Click the new corner to choose it, Delete removes it; Alt-click removes another, down to 3.
  await clickWith(page, [], 170, 80);
  await page.keyboard.press('Delete');
  await until(async () => /Frame 5: keyframe, 4 corners/.test(await stateText(page)), async () => `Delete to remove the chosen corner; the state says ${await stateText(page)}`);
  assert.equal((await page.$$('[data-testid=va-tracks] li[data-track]')).length, 1, 'Delete on a chosen corner deleted more than the corner');
  await clickWith(page, ['Alt'], 170, 120);
  await until(async () => /3 corners/.test(await stateText(page)), async () => `Alt-click to remove a corner; the state says ${await stateText(page)}`);
  await clickWith(page, ['Alt'], 170, 40);
  assert.match((await textOf(page, '[data-testid=va-msg]')) ?? '', /at least 3 corners/);
  assert.match(await stateText(page), /3 corners/);
  await page.keyboard.press('Control+z');
  await until(async () => /Frame 5: keyframe, 4 corners/.test(await stateText(page)), 'undo to bring the fourth corner back');

  // A point at frame 5, dragged with the point tool at frame 8: a keyframe, no new track.
  await page.keyboard.press('Escape'); // unselect the polygon: 2 would relabel it
  await page.keyboard.press('2');
  await page.keyboard.press('d');
  await clickWith(page, [], 250, 150);
  await goFrame(page, 8);
  await drag(page, [250, 150], [270, 130]);
  await until(async () => /Frame 8: keyframe/.test(await stateText(page)), async () => `the point's keyframe at 8; the state says ${await stateText(page)}`);
  assert.equal((await page.$$('[data-testid=va-tracks] li[data-track]')).length, 2, 'dragging the point made a new track');
  await screenshot(page, 'video-editor-point-dragged');

  await page.click('button[data-action=submit]');
  const items = await until(async () => {
    const a = await annotationsOf(task);
    return a.length ? a : null;
  }, 'the annotation to reach the API');
  const [poly, pt] = items[0].response.tracks;
  const near = (a, b) => a.length === b.length && a.every((v, i) => Math.abs(v.x - b[i][0]) < 1.5 && Math.abs(v.y - b[i][1]) < 1.5);
  assert.deepEqual([poly.label, poly.shape], ['car', 'polygon']);
  assert.deepEqual(poly.keyframes.map((k) => [k.frame, k.vertices.length]), [[0, 4], [5, 4], [10, 4]]);
  // Corner 1 where it was dropped, the others where frames 0 and 10 put them at 5.
  assert.ok(near(poly.keyframes[1].vertices, [[70, 20], [170, 40], [170, 120], [90, 120]]), `frame 5 corners ${JSON.stringify(poly.keyframes[1].vertices)}`);
  assert.ok(near(poly.keyframes[2].vertices, [[140, 40], [220, 40], [220, 120], [140, 120]]), `frame 10 corners ${JSON.stringify(poly.keyframes[2].vertices)}`);
  assert.deepEqual([pt.label, pt.shape], ['person', 'point']);
  assert.deepEqual(pt.keyframes.map((k) => k.frame), [5, 8]);
  assert.ok(Math.abs(pt.keyframes[0].x - 250) < 1.5 && Math.abs(pt.keyframes[0].y - 150) < 1.5, `the point at 5 ${JSON.stringify(pt.keyframes[0])}`);
  assert.ok(Math.abs(pt.keyframes[1].x - 270) < 1.5 && Math.abs(pt.keyframes[1].y - 130) < 1.5, `the point at 8 ${JSON.stringify(pt.keyframes[1])}`);
});

browserTest('a manager creates a video annotation project in the form: labels, shapes, events, fps', async ({ page }) => {
  await login(page, srv, ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.click('a[data-action=new-project]');
  await page.waitForSelector('input[data-kind=videoannotation]');
  await page.fill('[data-field=name] input', 'Street tracks');
  await page.check('input[data-kind=videoannotation]');
  for (const [path, names] of [
    ['params.labels', ['car', 'cyclist']],
    ['params.events', ['overtake']],
  ]) {
    const box = `input[data-role=add][data-add-for="${path}"]`;
    for (const n of names) {
      await page.fill(box, n);
      await page.press(box, 'Enter');
    }
  }
  await page.fill('[data-field="params.fps"] input', '25');
  await screenshot(page, 'video-project-form');
  await page.click('[data-action=save]');
  const id = await until(async () => {
    const m = /^#\/projects\/(\d+)\/settings$/.exec(await page.evaluate(() => location.hash));
    return m ? Number(m[1]) : null;
  }, async () => `the project's settings after Create; the page shows ${await pageText(page)}`);
  const p = expectStatus(await srv.api('GET', `/v1/projects/${id}`), 200);
  assert.equal(p.kind, 'videoannotation');
  assert.deepEqual(p.params.labels.map((l) => l.name), ['car', 'cyclist']);
  assert.deepEqual(p.params.events.map((l) => l.name), ['overtake']);
  assert.equal(p.params.fps, 25);
  assert.deepEqual(p.params.geometries, ['box', 'point', 'polygon']);
});

browserTest('read-only instances show the tracks, step frames and change nothing', async ({ page }) => {
  const ann = await makeAnnotator(srv, 'ann-video-ro@test.io', PASSWORD, []);
  await login(page, srv, ann.email, ann.password);
  const params = { labels: ['car', 'person'], geometries: ['box', 'point', 'polygon'], events: ['crash'], fps: 10 };
  const value = {
    tracks: [
      { id: 3, label: 'car', shape: 'box', keyframes: [{ frame: 0, x: 10, y: 10, width: 50, height: 30 }, { frame: 8, x: 90, y: 10, width: 50, height: 30 }] },
      { id: 5, label: 'person', shape: 'polygon', keyframes: [{ frame: 2, vertices: [{ x: 200, y: 40 }, { x: 240, y: 60 }, { x: 220, y: 120 }] }, { frame: 6, outside: true }] },
      { id: 6, label: 'person', shape: 'point', keyframes: [{ frame: 1, x: 150, y: 150 }] },
    ],
    events: [{ label: 'crash', start: 3, end: 5 }],
  };
  const result = await page.evaluate(
    async ({ params, value }) => {
      const { videoannotationEditor: ed } = await import('/ui/editor-videoannotation.js');
      const changes = [];
      const insts = [];
      for (let i = 0; i < 2; i++) {
        const el = document.createElement('div');
        el.className = `ro-${i} card panel`;
        document.querySelector('main').append(el);
        const task = { attachments: [], data: { frames: 10, width: 320, height: 180 } };
        insts.push(ed.mount(el, { params, task, value, readOnly: true, onChange: (v) => changes.push(v) }));
      }
      window.__vaInsts = insts;
      const key = (k) => insts.map((x) => x.keys(new KeyboardEvent('keydown', { key: k })));
      // An editable instance whose project requires a track attribute the
      // answer lacks: not valid, and it says why.
      const el = document.createElement('div');
      el.className = 'needs card panel';
      document.querySelector('main').append(el);
      const strict = { ...params, attributes: [{ name: 'color', type: 'category', choices: ['red'], required: true }] };
      const needs = ed.mount(el, { params: strict, task: { attachments: [], data: { frames: 10 } }, value, onChange: () => {} });
      const problems = el.querySelector('[data-testid=va-problems]').textContent;
      return { del: key('Delete'), out: key('o'), step: key('ArrowRight'), values: insts.map((x) => x.value()), valid: insts.map((x) => x.valid()), changes: changes.length, needsValid: needs.valid(), problems };
    },
    { params, value },
  );
  assert.deepEqual(result.del, [false, false], 'a read-only instance took Delete');
  assert.deepEqual(result.out, [false, false], 'a read-only instance took o');
  assert.deepEqual(result.step, [true, true], 'a read-only instance does not step frames');
  for (const v of result.values) assert.deepEqual(v, value, 'the read-only value is not the answer shown');
  assert.equal(result.changes, 0);
  assert.equal(result.needsValid, false, 'a track without its required attribute is valid');
  assert.match(result.problems, /#3: color is required/);
  assert.equal(await page.locator('.ro-0 button[data-tool], .ro-0 [data-action=undo], .ro-0 [data-action=delete-track]').count(), 0, 'a read-only instance offers editing controls');
  // A drag on the box at frame 1 moves nothing.
  const box = await page.$eval('.ro-0 [data-testid=va-overlay]', (c) => {
    const b = c.getBoundingClientRect();
    return { x: b.left + (30 / c.width) * b.width, y: b.top + (25 / c.height) * b.height };
  });
  await page.mouse.move(box.x, box.y);
  await page.mouse.down();
  await page.mouse.move(box.x + 40, box.y + 20, { steps: 4 });
  await page.mouse.up();
  assert.match((await textOf(page, '.ro-0 [data-testid=va-state]')) ?? '', /Track #3|Frame/, 'a click on the read-only box does not show its track');
  const after = await page.evaluate(() => window.__vaInsts.map((x) => x.value()));
  assert.deepEqual(after[0], value, 'a drag changed a read-only instance');
  await screenshot(page, 'video-editor-read-only');
});

/* Records a WebM of seconds at fps in the page: a canvas with moving
 * squares and the frame number, through captureStream and MediaRecorder.
 * Returns its bytes as base64. */
async function recordWebm(page, { w, h, fps, seconds }) {
  return page.evaluate(
    async ({ w, h, fps, seconds }) => {
      const c = document.createElement('canvas');
      c.width = w;
      c.height = h;
      const ctx = c.getContext('2d');
      const stream = c.captureStream(fps);
      const type = ['video/webm;codecs=vp9', 'video/webm;codecs=vp8', 'video/webm'].find((t) => MediaRecorder.isTypeSupported(t));
      const rec = new MediaRecorder(stream, { mimeType: type, videoBitsPerSecond: 2e6 });
      const chunks = [];
      rec.ondataavailable = (e) => e.data.size && chunks.push(e.data);
      const done = new Promise((r) => (rec.onstop = r));
      rec.start(250);
      const total = Math.round(seconds * fps);
      for (let n = 0; n < total; n++) {
        ctx.fillStyle = '#8ab';
        ctx.fillRect(0, 0, w, h);
        for (let i = 0; i < 6; i++) {
          ctx.fillStyle = ['#c33', '#3a3', '#33c', '#cc3', '#c3c', '#3cc'][i];
          ctx.fillRect(((n * (2 + i)) % w) | 0, 20 + i * 50, 40, 30);
        }
        ctx.fillStyle = '#000';
        ctx.font = '28px sans-serif';
        ctx.fillText(`frame ${n}`, 10, h - 12);
        await new Promise((r) => setTimeout(r, 1000 / fps));
      }
      rec.stop();
      await done;
      const blob = new Blob(chunks, { type: 'video/webm' });
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let s = '';
      for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(s);
    },
    { w, h, fps, seconds },
  );
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

browserTest('a recorded WebM with 50 tracks over 9,000 frames steps frames and plays without stalls', { timeout: 240000 }, async ({ page }) => {
  await page.goto(`${srv.base}/`);
  const FPS = 30;
  const N = 9000;
  const webm = Buffer.from(await recordWebm(page, { w: 640, h: 360, fps: FPS, seconds: 4 }), 'base64');
  assert.ok(webm.length > 1000, `the recording is ${webm.length} bytes`);
  const file = (await uploadFile(srv, webm, 'video/webm', 'moving.webm')).sha256;

  // 50 box tracks, each with a keyframe every 300 frames moving across,
  // outside for a stretch in the middle: the model's prediction.
  const tracks = [];
  for (let i = 0; i < 50; i++) {
    const keyframes = [];
    for (let f = 0; f < N; f += 300) {
      const x = (37 * i + f / 10) % 560;
      keyframes.push(f === 4500 && i % 5 === 0 ? { frame: f, outside: true } : { frame: f, x, y: (i * 7) % 300, width: 60, height: 40 });
    }
    tracks.push({ id: i + 1, label: i % 2 ? 'car' : 'person', shape: 'box', keyframes });
  }
  const project = expectStatus(await srv.api('POST', '/v1/projects', { name: 'video-50', kind: 'videoannotation', params: { labels: ['car', 'person'], geometries: ['box'] } }), 201);
  expectStatus(
    await srv.api('POST', '/v1/tasks', {
      project_id: project.id,
      attachments: [{ type: 'video', file }],
      data: { frames: N, fps: FPS, width: 640, height: 360 },
      predictions: [{ model: 'tracker', response: { tracks } }],
    }),
    201,
  );
  const ann = await makeAnnotator(srv, 'ann-video50@test.io', PASSWORD, [project.id]);
  await openQueue(page, srv, ann, project);
  await until(async () => (await stageState(page)).state === 'ready', async () => `the video to load; the stage says ${JSON.stringify(await stageState(page))}; the page shows ${await pageText(page)}`);
  assert.equal(await page.$$eval('[data-testid=va-tracks] li[data-track]', (l) => l.length), 50);

  // Frame steps in the recorded part, timed in the page from the key to
  // the video showing the frame (its seeked event: data-shown-frame).
  await page.click('[data-testid=va-time]');
  const steps = await page.evaluate(async (n) => {
    const stage = document.querySelector('[data-testid=va-stage]');
    const times = [];
    for (let i = 1; i <= n; i++) {
      const shown = new Promise((resolve) => {
        const mo = new MutationObserver(() => {
          if (stage.dataset.shownFrame === String(i)) {
            mo.disconnect();
            resolve();
          }
        });
        mo.observe(stage, { attributes: true });
      });
      const t0 = performance.now();
      document.activeElement.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true, cancelable: true }));
      await shown;
      times.push(performance.now() - t0);
    }
    return times;
  }, 60);
  await waitFrame(page, 60);
  await screenshot(page, 'video-editor-50-tracks');
  // Playback from frame 0 for 3 s: the shapes follow the video (before the
  // sweep below takes the video past its recorded end).
  await page.keyboard.press('Home');
  await waitFrame(page, 0); // the seek back done, so that playing starts from there
  await page.click('[data-testid=va-time]');
  const before = Number((await stageState(page)).renders);
  await page.keyboard.press(' ');
  await page.waitForTimeout(3000);
  const s = await stageState(page);
  await page.keyboard.press(' ');
  const drawn = Number(s.renders) - before;
  // Rendering the overlay across the whole 9,000 frames (beyond the
  // recording the video holds its last frame; the shapes still move).
  const render = await page.evaluate(async (n) => {
    const input = document.querySelector('[data-testid=va-frame]');
    const stage = document.querySelector('[data-testid=va-stage]');
    const times = [];
    for (let f = 0; f < n; f += 37) {
      const t0 = performance.now();
      input.value = String(f);
      input.dispatchEvent(new Event('change'));
      times.push(performance.now() - t0);
    }
    return { times, mean: Number(stage.dataset.renderMs), max: Number(stage.dataset.renderMax), timeline: Number(stage.dataset.timelineMs) };
  }, N);
  // The reference, in the same page and run: a bare <video> of the same
  // file seeking frame by frame with nothing drawn over it.
  const bare = await page.evaluate(
    async ({ url, fps }) => {
      const v = document.createElement('video');
      v.muted = true;
      v.src = url;
      document.body.append(v);
      await new Promise((r) => v.addEventListener('loadeddata', r, { once: true }));
      const times = [];
      for (let f = 1; f <= 60; f++) {
        const t0 = performance.now();
        v.currentTime = (f + 0.5) / fps;
        await new Promise((r) => v.addEventListener('seeked', r, { once: true }));
        times.push(performance.now() - t0);
      }
      v.remove();
      return times;
    },
    { url: `/v1/files/${file}`, fps: FPS },
  );
  const figures = {
    bare_seek_p50_ms: Number(pct(bare, 50).toFixed(1)),
    bare_seek_p95_ms: Number(pct(bare, 95).toFixed(1)),
    step_p50_ms: Number(pct(steps, 50).toFixed(1)),
    step_p95_ms: Number(pct(steps, 95).toFixed(1)),
    seek_and_draw_p95_ms: Number(pct(render.times, 95).toFixed(2)),
    render_mean_ms: render.mean,
    render_max_ms: render.max,
    timeline_draw_ms: render.timeline,
    play_frames_drawn_3s: drawn,
    play_max_gap_ms: Number(s.maxGap),
    played_to_frame: Number(s.frame),
  };
  console.log(`  videoannotation editor, 50 tracks x 9,000 frames: ${JSON.stringify(figures)}`);
  // (The runner shows output only for failures: the figures also go to a file.)
  fs.mkdirSync(path.join(ROOT, 'build'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'build', 'video-editor-bench.json'), `${JSON.stringify(figures, null, 1)}\n`);
  // Bounds with room for a machine shared with other work: a step within
  // 3 bare seeks plus 50 ms, a frame's shapes within one 60 Hz frame, at
  // least a third of the frames drawn while playing (the browser presents
  // fewer frames itself when the machine is loaded: 44 of 81 at a load of
  // 7.8 on 2 cores), no stall of a second.
  assert.ok(figures.step_p95_ms < 3 * figures.bare_seek_p95_ms + 50, `frame steps are slow: p95 ${figures.step_p95_ms} ms (a bare seek: ${figures.bare_seek_p95_ms} ms)`);
  assert.ok(figures.seek_and_draw_p95_ms < 16, `a frame's shapes took ${figures.seek_and_draw_p95_ms} ms to draw (p95)`);
  assert.ok(drawn >= 30, `only ${drawn} frames were drawn in 3 s of playback`);
  assert.ok(figures.play_max_gap_ms < 1000, `playback stalled for ${figures.play_max_gap_ms} ms`);
  assert.ok(Number(s.frame) >= 45, `playback only reached frame ${s.frame}`);
});
