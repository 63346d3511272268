// editor-guards.test.mjs -- the editors' guards on what an answer may hold,
// each driven through the queue page and checked through the API:
//   video: unticking a boolean track attribute is a change (the draft gets
//     false, undo brings true back); a box dragged past the frame's right
//     edge stays inside it (the submit is accepted); Ctrl+Enter from a text
//     attribute still being typed in submits what was typed;
//   lidar: a new cuboid's required attributes are not pre-filled (only a
//     required yes/no starts at no), the problems line says what is
//     missing or out of range and the queue will not submit until it is
//     fixed; the next frame reached while its prefetch is in flight ends
//     ready;
//   segmentation: the current label's hidden layer is locked for the brush,
//     the fill and the polygon (a message says so), the eraser still works.
import assert from 'node:assert/strict';
import { expectStatus } from '../api/harness.mjs';
import { pcdAscii } from '../api/pointclouds.mjs';
import { png, upload } from './media.mjs';
import { serveUi, PASSWORD, browserTest, makeAnnotator, openQueue, screenshot, until, textOf, pageText, waitStatus, clearStatusLog } from './browser.mjs';

let srv;
serveUi((s) => (srv = s));

let users = 0;
const annotator = (project, what) => makeAnnotator(srv, `guards-${what}-${++users}@test.io`, PASSWORD, [project.id]);
const annotationsOf = async (task) => expectStatus(await srv.api('GET', `/v1/tasks/${task.id}/annotations`), 200).items;
const submitted = (task) =>
  until(async () => {
    const a = await annotationsOf(task);
    return a.length ? a[0] : null;
  }, 'the answer to reach the API');

/* The server's draft of the page's assignment for task, once pred(draft). */
async function serverDraft(assignments, task, pred, what) {
  const asg = await until(() => assignments.findLast((x) => x.task_id === task.id), 'the assignment of the task');
  let last;
  return until(
    async () => {
      last = expectStatus(await srv.api('GET', `/v1/assignments/${asg.id}`), 200).draft;
      return last && pred(last) ? last : null;
    },
    () => `${what}; the server's draft is ${JSON.stringify(last)}`,
  );
}

/* ---------------- video ---------------- */

const VA = '[data-testid=va-stage]';
const VW = 160;
const VH = 90;
let frameFiles = null;

/* Three small frames (uploaded once for the file's tests). */
async function videoFrames() {
  if (!frameFiles) {
    frameFiles = [];
    for (let n = 0; n < 3; n++) frameFiles.push((await upload(srv, png(VW, VH, (x, y) => (y > 60 ? [100, 100, 106] : [150 + 30 * n, 190, 230])), 'image/png', `guard${n}.png`)).sha256);
  }
  return frameFiles;
}

async function videoTask(name, attributes) {
  const files = await videoFrames();
  const project = expectStatus(await srv.api('POST', '/v1/projects', { name, kind: 'videoannotation', params: { labels: ['car'], geometries: ['box'], attributes, fps: 10 } }), 201);
  const task = expectStatus(await srv.api('POST', '/v1/tasks', { project_id: project.id, attachments: files.map((f) => ({ type: 'image', file: f })), data: { width: VW, height: VH } }), 201);
  return { project, task };
}

const vaState = (page) => page.evaluate((sel) => ({ ...document.querySelector(sel)?.dataset }), VA);

async function openVideo(page, project, who) {
  await openQueue(page, srv, await annotator(project, who), project);
  await until(
    async () => {
      const s = await vaState(page);
      return s.state === 'ready' && s.frame === '0' && s.shownFrame === '0';
    },
    async () => `the first frame to load; the stage says ${JSON.stringify(await vaState(page))}; the page shows ${await pageText(page)}`,
  );
}

/* The client position of frame pixel (x, y). */
async function vaAt(page, x, y) {
  const r = await page.$eval('[data-testid=va-overlay]', (c) => {
    const b = c.getBoundingClientRect();
    return { left: b.left, top: b.top, sx: b.width / c.width, sy: b.height / c.height };
  });
  return [r.left + x * r.sx, r.top + y * r.sy];
}

async function dragClient(page, [x0, y0], [x1, y1]) {
  await page.mouse.move(x0, y0);
  await page.mouse.down();
  await page.mouse.move((x0 + x1) / 2, (y0 + y1) / 2, { steps: 4 });
  await page.mouse.move(x1, y1, { steps: 4 });
  await page.mouse.up();
}

/* Draws a box with the box tool (b) from frame pixel a to b: one track. */
async function drawBox(page, a, b) {
  await page.keyboard.press('b');
  await dragClient(page, await vaAt(page, ...a), await vaAt(page, ...b));
  await until(async () => (await page.$$('[data-testid=va-tracks] li[data-track]')).length === 1, async () => `one track after drawing a box; the page shows ${await pageText(page)}`);
}

browserTest('video: unticking a boolean track attribute is recorded (draft false) and undo brings true back', async ({ page, assignments }) => {
  const { project, task } = await videoTask('guard-video-bool', [{ name: 'parked', type: 'boolean' }]);
  await openVideo(page, project, 'vbool');
  await drawBox(page, [20, 20], [60, 60]);
  const box = '[data-testid=va-inspector] [data-attr=parked] input[type=checkbox]';
  assert.equal(await page.isChecked(box), false, 'a new track\'s boolean attribute starts unticked');

  await page.check(box);
  await serverDraft(assignments, task, (d) => d.tracks?.[0]?.attributes?.parked === true, 'the draft to hold parked: true after ticking');
  await page.uncheck(box);
  assert.equal(await page.isChecked(box), false);
  await serverDraft(assignments, task, (d) => d.tracks?.[0]?.attributes?.parked === false, 'the draft to hold parked: false after unticking (the untick was not recorded as a change)');

  // Undo takes back the untick, not the tick before it.
  await page.keyboard.press('Control+z');
  await until(async () => page.isChecked(box), async () => `undo after the untick to tick parked again; the message says ${JSON.stringify(await textOf(page, '[data-testid=va-msg]'))}`);
  await serverDraft(assignments, task, (d) => d.tracks?.[0]?.attributes?.parked === true, 'the draft to hold parked: true after the undo');
  await page.keyboard.press('Control+y');
  await until(async () => !(await page.isChecked(box)), 'redo to untick parked again');

  await page.click('button[data-action=submit]');
  const item = await submitted(task);
  assert.deepEqual(item.response.tracks[0].attributes, { parked: false }, `the submitted track: ${JSON.stringify(item.response.tracks[0])}`);
});

browserTest("video: a box dragged past the frame's right edge stays inside it and the submit is accepted", async ({ page, requests }) => {
  const { project, task } = await videoTask('guard-video-edge', []);
  await openVideo(page, project, 'vedge');
  await drawBox(page, [20, 20], [60, 60]);
  await page.keyboard.press('v');
  // Grab the box near its left side and drop it well past the right edge:
  // its left side then lies beyond the frame (the pointer is captured).
  const from = await vaAt(page, 24, 40);
  const [farX, toY] = await vaAt(page, VW + 60, 40);
  const vw = await page.evaluate(() => window.innerWidth);
  const toX = Math.min(farX, vw - 4);
  const [edgeX] = await vaAt(page, VW, 40);
  const [x25] = await vaAt(page, 25, 40);
  const pxPerFrame = x25 - from[0];
  const leftAt = 20 + (toX - from[0]) / pxPerFrame;
  assert.ok(leftAt > VW + 2, `the drag cannot take the box past the edge in this window (its left side would be at ${leftAt.toFixed(1)}, the frame's edge at client x ${edgeX})`);
  await dragClient(page, from, [toX, toY]);
  await until(async () => /Keyframe of #1 at frame 0/.test((await textOf(page, '[data-testid=va-msg]')) ?? ''), async () => `the move to be taken; the message says ${JSON.stringify(await textOf(page, '[data-testid=va-msg]'))}`);
  await screenshot(page, 'guards-video-box-past-edge');

  await page.click('button[data-action=submit]');
  await until(
    () => requests.find((r) => r.method === 'POST' && /\/submit$/.test(r.path) && r.status !== undefined),
    'the submit to be answered',
  );
  const sub = requests.filter((r) => r.method === 'POST' && /\/submit$/.test(r.path));
  assert.deepEqual(
    sub.map((r) => r.status >= 200 && r.status < 300),
    [true],
    `the submit was refused (${sub.map((r) => r.status)}); it sent ${sub[0]?.body?.slice(0, 400)}; the page shows ${await pageText(page)}`,
  );
  const item = await submitted(task);
  const k = item.response.tracks[0].keyframes[0];
  // (1e-6: the server's tolerance for a sum of two-decimal numbers)
  assert.ok(k.x >= 0 && k.width > 0 && k.x + k.width <= VW + 1e-6, `the stored box leaves the ${VW} px wide frame: ${JSON.stringify(k)}`);
  assert.ok(k.x > VW - 1, `the box was not moved to the right edge: ${JSON.stringify(k)}`);
  assert.ok(k.y >= 0 && k.height > 0 && k.y + k.height <= VH + 1e-6, `the stored box leaves the frame: ${JSON.stringify(k)}`);
});

browserTest('video: Ctrl+Enter while typing in a text attribute submits the typed text', async ({ page }) => {
  const { project, task } = await videoTask('guard-video-text', [{ name: 'plate', type: 'text' }]);
  await openVideo(page, project, 'vtext');
  await drawBox(page, [20, 20], [60, 60]);
  const field = '[data-testid=va-inspector] [data-attr=plate] input';
  await page.click(field);
  await page.keyboard.type('KA-123');
  // No change event yet: the field still has the focus.
  assert.equal(await page.evaluate((sel) => document.activeElement === document.querySelector(sel), field), true, 'the text field lost the focus before Ctrl+Enter');
  await page.keyboard.press('Control+Enter');
  const item = await submitted(task);
  assert.equal(item.response.tracks[0].attributes?.plate, 'KA-123', `the submitted track lacks the typed text: ${JSON.stringify(item.response.tracks[0])}`);
});

/* ---------------- lidar ---------------- */

const LA = '[data-testid=la-stage]';
const laData = (page) => page.$eval(LA, (s) => ({ ...s.dataset })).catch(() => ({}));
const toClient = (page, p) => page.$eval(LA, (s, p) => s.lidar.toClient(p), p);

/* A small scene: a ground grid (step metres over ±10 m) and the faces of a
 * 4 x 2 x 1.5 m car centred at (3, 2). */
function cloud(step) {
  const pts = [];
  for (let x = -10; x <= 10; x += step) for (let y = -10; y <= 10; y += step) pts.push([x, y, -1.7, 30]);
  for (let u = 0; u <= 1; u += 0.1)
    for (let v = 0; v <= 1; v += 0.1) {
      const r = (a) => Math.round(a * 1000) / 1000;
      pts.push([r(1 + 4 * u), r(1 + 2 * v), -0.2, 200]); // the roof
      pts.push([r(1 + 4 * u), 1, r(-1.7 + 1.5 * v), 200]); // a side
      pts.push([1, r(1 + 2 * u), r(-1.7 + 1.5 * v), 200]); // the back
    }
  return pts;
}

async function openLidar(page, project, who) {
  await openQueue(page, srv, await annotator(project, who), project);
  await until(async () => (await laData(page)).state === 'ready', async () => `the point cloud to load; the stage is ${JSON.stringify(await laData(page))}; the page shows ${await pageText(page)}`);
}

async function dragWorld(page, from, to) {
  const a = await toClient(page, from);
  const b = await toClient(page, to);
  await page.mouse.move(a[0], a[1]);
  await page.mouse.down();
  for (let i = 1; i <= 8; i++) await page.mouse.move(a[0] + ((b[0] - a[0]) * i) / 8, a[1] + ((b[1] - a[1]) * i) / 8);
  await page.mouse.up();
}

browserTest('lidar: required attributes of a new cuboid are not pre-filled, the problems line asks for them and for a number in range, and the queue will not submit until then', async ({ page }) => {
  const project = expectStatus(
    await srv.api('POST', '/v1/projects', {
      name: 'guard-lidar-attrs',
      kind: 'lidarannotation',
      params: {
        labels: ['car', 'pedestrian'],
        attributes: [
          { name: 'color', type: 'category', choices: ['red', 'blue'], required: true },
          { name: 'parked', type: 'boolean', required: true },
          { name: 'speed', type: 'number', min: 0, max: 50 },
        ],
      },
    }),
    201,
  );
  const file = (await upload(srv, pcdAscii(cloud(0.5)), 'application/octet-stream', 'guard-attrs.pcd', project.id)).sha256;
  const task = expectStatus(await srv.api('POST', '/v1/tasks', { project_id: project.id, attachments: [{ type: 'pointcloud', file }] }), 201);
  await openLidar(page, project, 'lattr');

  await page.keyboard.press('b');
  await until(async () => (await laData(page)).view === 'top', 'the top view after b');
  const zt = (await page.$eval(LA, (s) => s.lidar.camera())).target[2];
  await dragWorld(page, [0.9, 0.9, zt], [5.1, 3.1, zt]);
  await until(async () => (await laData(page)).cuboids === '1', async () => `one cuboid after the drag; the page shows ${await pageText(page)}`);

  // Nothing chosen for the category; the required yes/no starts at no.
  assert.equal(await page.inputValue('[data-testid=la-attr-color]'), '', 'the required category was pre-filled');
  assert.equal(await page.isChecked('[data-testid=la-attr-parked]'), false);
  assert.equal(await page.inputValue('[data-testid=la-attr-speed]'), '', 'the number was pre-filled');
  assert.equal(await textOf(page, '[data-testid=la-problems]'), 'Before submitting: #1 frame 1: color is required.');
  assert.equal(await page.isDisabled('button[data-action=submit]'), true, 'Submit is offered with a required attribute unset');
  await screenshot(page, 'guards-lidar-problems');

  await waitStatus(page, /draft saved/i, '"Draft saved" after drawing');
  await clearStatusLog(page);
  await page.keyboard.press('Control+Enter');
  await waitStatus(page, /not complete/i, '"not complete" after Ctrl+Enter with color unset');

  // A number out of range is a problem too; choosing the colour leaves only it.
  await page.fill('[data-testid=la-attr-speed]', '99');
  await page.press('[data-testid=la-attr-speed]', 'Tab');
  await until(async () => /color is required\..*speed must be at most 50\./.test((await textOf(page, '[data-testid=la-problems]')) ?? ''), async () => `the problems to name color and speed; they say ${JSON.stringify(await textOf(page, '[data-testid=la-problems]'))}`);
  await page.selectOption('[data-testid=la-attr-color]', 'blue');
  await until(async () => (await textOf(page, '[data-testid=la-problems]')) === 'Before submitting: #1 frame 1: speed must be at most 50.', async () => `the problems to name speed only; they say ${JSON.stringify(await textOf(page, '[data-testid=la-problems]'))}`);
  assert.equal(await page.isDisabled('button[data-action=submit]'), true, 'Submit is offered with a number out of range');
  await waitStatus(page, /draft saved/i, '"Draft saved" after the attribute changes');
  await clearStatusLog(page);
  await page.keyboard.press('Control+Enter');
  await waitStatus(page, /not complete/i, '"not complete" after Ctrl+Enter with speed 99');
  assert.equal((await annotationsOf(task)).length, 0, 'an incomplete answer was submitted');

  await page.fill('[data-testid=la-attr-speed]', '20');
  await page.press('[data-testid=la-attr-speed]', 'Tab');
  await until(async () => (await textOf(page, '[data-testid=la-problems]')) === '', async () => `no problems once speed is 20; they say ${JSON.stringify(await textOf(page, '[data-testid=la-problems]'))}`);
  await until(async () => !(await page.isDisabled('button[data-action=submit]')), 'Submit to be offered once the answer is complete');
  await page.click('button[data-action=submit]');
  const item = await submitted(task);
  assert.equal(item.response.cuboids.length, 1);
  assert.deepEqual(item.response.cuboids[0].attributes, { color: 'blue', parked: false, speed: 20 });
});

browserTest('lidar: the next frame reached while its prefetch is still loading ends ready', async ({ page }) => {
  const project = expectStatus(await srv.api('POST', '/v1/projects', { name: 'guard-lidar-prefetch', kind: 'lidarannotation', params: { labels: ['car'] } }), 201);
  const c0 = cloud(1);
  const c1 = cloud(0.5);
  const f0 = (await upload(srv, pcdAscii(c0), 'application/octet-stream', 'guard-f0.pcd', project.id)).sha256;
  const f1 = (await upload(srv, pcdAscii(c1), 'application/octet-stream', 'guard-f1.pcd', project.id)).sha256;
  expectStatus(await srv.api('POST', '/v1/tasks', { project_id: project.id, attachments: [{ type: 'pointcloud', file: f0 }, { type: 'pointcloud', file: f1 }] }), 201);

  // Frame 2's points are held back until released: its prefetch (started
  // once frame 1 is shown) is in flight when the annotator goes there.
  let release;
  const gate = new Promise((r) => (release = r));
  let held = 0;
  await page.route(
    (url) => url.pathname === `/v1/files/${f1}/points`,
    async (route) => {
      held++;
      await gate;
      await route.continue().catch(() => {});
    },
  );
  try {
    await openLidar(page, project, 'lprefetch');
    assert.equal((await laData(page)).points, String(c0.length));
    await until(() => held > 0, "the prefetch of frame 2's points");
    await page.click('[data-testid=la-frame-next]');
    await until(async () => (await textOf(page, '[data-testid=la-frame]')) === 'Frame 2 / 2', async () => `the editor to go to frame 2; it says ${JSON.stringify(await textOf(page, '[data-testid=la-frame]'))}`);
    assert.equal((await laData(page)).state, 'loading', 'frame 2 is not loading while its points are held back');
    await page.waitForTimeout(200);
    release();
    await until(
      async () => {
        const d = await laData(page);
        return d.frame === '1' && d.state === 'ready';
      },
      async () => `frame 2 to be ready once its prefetched points arrived; the stage is ${JSON.stringify(await laData(page))}`,
    );
    assert.equal((await laData(page)).points, String(c1.length), "the stage does not show frame 2's points");
    assert.equal(held, 1, "frame 2's points were fetched again rather than the prefetch awaited");
  } finally {
    release();
  }
});

/* ---------------- segmentation ---------------- */

const SEG = '[data-testid=seg-stage]';
const SW = 120;
const SH = 90;

async function segAt(page, x, y) {
  return page.evaluate(
    ([x, y]) => {
      const s = document.querySelector('[data-testid=seg-stage]');
      const r = s.getBoundingClientRect();
      const [k, tx, ty] = s.dataset.view.split(',').map(Number);
      return [r.left + tx + x * k, r.top + ty + y * k];
    },
    [x, y],
  );
}
const segPixels = (page) => page.$$eval('[data-testid=seg-layer]', (rs) => Object.fromEntries(rs.map((r) => [r.dataset.label, Number(r.dataset.pixels)])));
const segMsg = async (page) => (await textOf(page, '[data-testid=seg-msg]')) ?? '';

async function segDrag(page, from, to) {
  const a = await segAt(page, ...from);
  const b = await segAt(page, ...to);
  await page.mouse.move(a[0], a[1]);
  await page.mouse.down();
  await page.mouse.move(b[0], b[1], { steps: 10 });
  await page.mouse.up();
}

async function segClick(page, x, y) {
  const p = await segAt(page, x, y);
  await page.mouse.click(p[0], p[1]);
}

browserTest("segmentation: the current label's hidden layer is locked for the brush, the fill and the polygon; the eraser still works", async ({ page }) => {
  const sha = (await upload(srv, png(SW, SH, (x, y) => (y < 45 ? [150, 190, 230] : [110, 112, 118])), 'image/png', 'guard-seg.png')).sha256;
  const project = expectStatus(await srv.api('POST', '/v1/projects', { name: 'guard-seg-hidden', kind: 'segmentation', params: { labels: ['road', 'car', 'sky'] } }), 201);
  const task = expectStatus(await srv.api('POST', '/v1/tasks', { project_id: project.id, attachments: [{ type: 'image', file: sha }], data: { width: SW, height: SH } }), 201);
  await openQueue(page, srv, await annotator(project, 'seg'), project);
  await until(
    () => page.evaluate(() => !!document.querySelector('[data-testid=seg-stage]')?.dataset.view && document.querySelector('[data-testid=seg-editor]')?.dataset.ready === 'true'),
    async () => `the segmentation editor to be ready; the page shows ${await pageText(page)}`,
  );

  // Some car to erase later.
  await page.keyboard.press('2');
  await segDrag(page, [10, 20], [110, 20]);
  const carPx = (
    await until(async () => {
      const p = await segPixels(page);
      return p.car > 0 ? p : null;
    }, 'the car stroke')
  ).car;
  assert.ok(carPx > 500, `the car stroke painted ${carPx} pixels`);

  // Road is the current label; h hides (locks) its layer.
  await page.keyboard.press('1');
  await page.keyboard.press('h');
  assert.equal(await textOf(page, '[data-testid=seg-layer][data-label=road] [data-testid=seg-eye]'), 'Show', 'h did not hide the current layer');
  await page.keyboard.press('b');
  await segDrag(page, [10, 65], [110, 65]);
  await page.waitForTimeout(150);
  assert.equal((await segPixels(page)).road, 0, 'the brush painted with the hidden road label');
  await until(async () => /road is hidden, so locked/.test(await segMsg(page)), async () => `a message that road is hidden; it says ${JSON.stringify(await segMsg(page))}`);

  await page.keyboard.press('f');
  await segClick(page, 60.5, 75.5);
  await page.waitForTimeout(150);
  assert.equal((await segPixels(page)).road, 0, 'the fill painted with the hidden road label');

  // A polygon started while road is shown, closed after it is hidden (the Hide button this time).
  await page.click('[data-testid=seg-layer][data-label=road] [data-testid=seg-eye]');
  assert.equal(await textOf(page, '[data-testid=seg-layer][data-label=road] [data-testid=seg-eye]'), 'Hide');
  await page.keyboard.press('p');
  for (const [x, y] of [[20, 50], [100, 50], [100, 85], [20, 85]]) await segClick(page, x, y);
  await page.click('[data-testid=seg-layer][data-label=road] [data-testid=seg-eye]');
  assert.equal(await textOf(page, '[data-testid=seg-layer][data-label=road] [data-testid=seg-eye]'), 'Show');
  await page.focus(SEG);
  await page.keyboard.press('Enter');
  await until(async () => /road is hidden, so locked/.test(await segMsg(page)), async () => `a message that road is hidden after Enter; it says ${JSON.stringify(await segMsg(page))}`);
  await page.waitForTimeout(150);
  assert.equal((await segPixels(page)).road, 0, 'Enter filled the polygon with the hidden road label');
  assert.equal((await annotationsOf(task)).length, 0, 'Enter on an open polygon submitted');
  await page.keyboard.press('Escape');
  await screenshot(page, 'guards-segmentation-hidden');

  // The eraser, with road still hidden and current, takes car pixels away.
  await page.keyboard.press('e');
  await segDrag(page, [60, 5], [60, 35]);
  const after = await until(async () => {
    const p = await segPixels(page);
    return p.car < carPx ? p : null;
  }, async () => `the eraser to remove car pixels; the layers hold ${JSON.stringify(await segPixels(page))}, the message says ${JSON.stringify(await segMsg(page))}`);
  assert.equal(after.road, 0);

  await page.focus(SEG);
  await page.keyboard.press('Enter');
  const item = await submitted(task);
  assert.deepEqual(item.response.masks.map((m) => m.label), ['car'], `the submitted masks: ${JSON.stringify(item.response).slice(0, 300)}`);
});
