// editor-lidar.test.mjs -- the lidarannotation editor in the browser: a
// 1,000,000-point binary PCD made here loads (load time and the time of a
// redraw printed), an annotator draws a cuboid by dragging a rectangle in
// the top view (its height taken from the points inside), moves it with
// the mouse, turns it with keys, labels it and sets an attribute, undoes and
// redoes a delete, looks from the side, the front and in 3D, goes to the
// next frame (the track is carried over), moves it there, sees it
// projected on the camera image, reloads (the draft comes back) and
// submits.  Read-only instances share a page and change nothing; a
// malformed point cloud says why it cannot be shown.  The answer is checked
// through the API; screenshots in build/screenshots/lidar-*.png.
import assert from 'node:assert/strict';
import { expectStatus } from '../api/harness.mjs';
import { pcdBinary, pcdAscii } from '../api/pointclouds.mjs';
import { png, upload } from './media.mjs';
import { serveUi, PASSWORD, browserTest, makeAnnotator, login, openQueue, screenshot, until, pageText, waitStatus } from './browser.mjs';

let srv;
serveUi((s) => (srv = s));

const STAGE = '[data-testid=la-stage]';
const N = 1000000;

/* A street scene, deterministic: ground at z = -1.7 over 60 x 40 m, and a
 * car 4 x 2 x 1.5 m centred at (10, 2) (its points on the box's faces). */
function scene(n, carX) {
  let seed = 12345; // mulberry32: an LCG's consecutive pairs would draw stripes on the ground
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const car = Math.floor(n / 10);
  return (k) => {
    if (k < car) {
      const u = rnd(), v = rnd(), face = k % 3;
      // face 0: a front or back end, 1: a side, 2: the roof
      const x = carX - 2 + 4 * (face === 0 ? k % 2 : u), y = 1 + 2 * (face === 1 ? k % 2 : v), z = -1.7 + 1.5 * (face === 2 ? 1 : face === 0 ? u : v);
      return [x, y, z, 200];
    }
    return [-20 + 60 * rnd(), -20 + 40 * rnd(), -1.7 + 0.05 * rnd(), 20 + 60 * rnd()];
  };
}

const fields = (page) =>
  page.evaluate(() => Object.fromEntries(['x', 'y', 'z', 'length', 'width', 'height', 'yaw'].map((k) => [k, Number(document.querySelector(`[data-testid=la-field-${k}]`)?.value)])));
const stageData = (page) => page.$eval(STAGE, (s) => ({ ...s.dataset }));
const toClient = (page, p) => page.$eval(STAGE, (s, p) => s.lidar.toClient(p), p);

async function dragWorld(page, from, to) {
  const a = await toClient(page, from), b = await toClient(page, to);
  await page.mouse.move(a[0], a[1]);
  await page.mouse.down();
  for (let i = 1; i <= 8; i++) await page.mouse.move(a[0] + ((b[0] - a[0]) * i) / 8, a[1] + ((b[1] - a[1]) * i) / 8);
  await page.mouse.up();
}

browserTest('a cuboid drawn, moved, turned, labelled and tracked over two frames of a 1,000,000-point cloud, projected on a camera, submitted', { timeout: 300000 }, async ({ page }) => {
  const t0 = Date.now();
  const big = pcdBinary(N, scene(N, 10));
  const cloud0 = (await upload(srv, big, 'application/octet-stream', 'frame0.pcd')).sha256;
  const small = [];
  const f1 = scene(20000, 11);
  for (let k = 0; k < 20000; k++) small.push(f1(k).map((v) => Math.round(v * 1000) / 1000));
  const cloud1 = (await upload(srv, pcdAscii(small), 'application/octet-stream', 'frame1.pcd')).sha256;
  const image = (await upload(srv, png(320, 240, (x, y) => (y < 110 ? [150, 190, 230] : [100, 104, 110])), 'image/png', 'cam.png')).sha256;
  console.log(`# made and uploaded a ${(big.length / 1e6).toFixed(1)} MB binary PCD of ${N} points in ${Date.now() - t0} ms`);
  const project = expectStatus(await srv.api('POST', '/v1/projects', {
    name: 'lidar browser', kind: 'lidarannotation', overlap: 1,
    params: { labels: ['car', 'pedestrian'], attributes: [{ name: 'moving', type: 'boolean' }] },
  }), 201);
  // A camera 0.5 m behind the origin looking along +x (KITTI's axes).
  const cal = { image: 2, K: [[160, 0, 160], [0, 160, 120], [0, 0, 1]], extrinsic: [[0, -1, 0, 0], [0, 0, -1, 0], [1, 0, 0, 0.5], [0, 0, 0, 1]], name: 'front camera' };
  const task = expectStatus(await srv.api('POST', '/v1/tasks', {
    project_id: project.id, unique_id: 'drive-1',
    attachments: [{ type: 'pointcloud', file: cloud0 }, { type: 'pointcloud', file: cloud1 }, { type: 'image', file: image }],
    data: { calibration: [cal] },
  }), 201);
  const ann = await makeAnnotator(srv, 'lidar@test.io', PASSWORD, [project.id]);
  const opened = Date.now();
  await openQueue(page, srv, ann, project);
  await until(async () => (await stageData(page).catch(() => ({}))).state === 'ready', async () => `the point cloud to load; the stage is ${JSON.stringify(await stageData(page).catch(() => null))}; the page shows ${await pageText(page)}`, 120000);
  const st = await stageData(page);
  assert.equal(st.points, String(N));
  const frameMs = await page.$eval(STAGE, (s) => s.lidar.bench(20));
  // While the view moves, a point budget adapted to this machine: the first
  // 20 moving frames tune it towards 30 ms a frame, the next 20 are timed.
  const firstMoving = await page.$eval(STAGE, (s) => s.lidar.bench(1, true));
  await page.$eval(STAGE, (s) => s.lidar.bench(20, true));
  const movingMs = await page.$eval(STAGE, (s) => s.lidar.bench(20, true));
  const drawn = Number((await stageData(page)).drawn);
  assert.ok(drawn >= 20000 && drawn < N, `while the view moves, a subset of the points is drawn (${drawn})`);
  if (frameMs > 90) assert.ok(movingMs < frameMs / 3, `moving frames ${movingMs.toFixed(1)} ms against ${frameMs.toFixed(1)} ms for every point: the budget did not adapt (${drawn} points)`);
  console.log(`# ${N} points: fetched, parsed and in a GL buffer ${st.loadMs} ms after the request, ${st.readyMs} ms after the editor was mounted (the queue page opened to ready: ${Date.now() - opened} ms, logging in included); one redraw of every point ${frameMs.toFixed(1)} ms; while the view moves, the first frame (250,000 points) ${firstMoving.toFixed(1)} ms, then ${movingMs.toFixed(1)} ms a frame with the adapted budget of ${drawn} points (software WebGL, means of 20)`);
  const renders = Number((await stageData(page)).renders);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(Number((await stageData(page)).renders), renders, 'the stage redraws only on a change');
  await page.$eval(STAGE, (s) => s.lidar.bench(1)); // the full cloud again
  await screenshot(page, 'lidar-loaded-3d');
  // Visible, not dim dark-blue dots on near-black: the points cover most of
  // the ground they stand on and the picture is bright.
  const picture = async (what, minCovered, minLuma) => {
    const p = await page.$eval(STAGE, (s) => s.lidar.picture());
    console.log(`# ${what}: points cover ${(100 * p.covered).toFixed(0)}% of the stage, mean brightness ${p.luma.toFixed(0)}/255`);
    assert.ok(p.covered >= minCovered && p.luma >= minLuma, `${what}: ${JSON.stringify(p)}`);
  };
  await picture('3D, colour by height', 0.3, 40);

  // Draw: the cuboid tool switches to the top view; a rectangle round the car.
  await page.keyboard.press('b');
  await until(async () => (await stageData(page)).view === 'top', 'the top view after b');
  const zt = (await page.$eval(STAGE, (s) => s.lidar.camera())).target[2];
  // Zoom in on the car with the wheel (the view fits the whole 60 m scene).
  const carAt = await toClient(page, [10, 2, zt]);
  await page.mouse.move(carAt[0], carAt[1]);
  await page.mouse.wheel(0, -900);
  await until(async () => (await page.$eval(STAGE, (s) => s.lidar.camera())).dist < 20, 'zoomed in after the wheel');
  await dragWorld(page, [7.9, 0.9, zt], [12.1, 3.1, zt]);
  await until(async () => (await stageData(page)).cuboids === '1', async () => `one cuboid after the drag; the page shows ${await pageText(page)}`);
  let f = await fields(page);
  assert.ok(Math.abs(f.x - 10) < 0.1 && Math.abs(f.y - 2) < 0.1, JSON.stringify(f));
  assert.ok(Math.abs(f.length - 4.2) < 0.1 && Math.abs(f.width - 2.2) < 0.1, JSON.stringify(f));
  assert.ok(Math.abs(f.height - 1.55) < 0.1 && Math.abs(f.z - -0.95) < 0.1, `height and z from the points inside: ${JSON.stringify(f)}`);
  assert.equal(f.yaw, 0);
  await screenshot(page, 'lidar-drawn-top');
  await picture('top view, zoomed on the car', 0.6, 70);

  // Move it 1 m along x with the mouse (select tool), then turn it 30 degrees with Shift+Q.
  await page.keyboard.press('v');
  await dragWorld(page, [f.x, f.y, f.z], [f.x + 1, f.y, f.z]);
  f = await fields(page);
  assert.ok(Math.abs(f.x - 11) < 0.05 && Math.abs(f.y - 2) < 0.05, `moved 1 m: ${JSON.stringify(f)}`);
  for (let i = 0; i < 3; i++) await page.keyboard.press('Shift+Q');
  f = await fields(page);
  assert.equal(f.yaw, 30);
  // The label and the attribute in the inspector.
  await page.selectOption('[data-testid=la-label]', 'pedestrian');
  await page.selectOption('[data-testid=la-label]', 'car');
  await page.check('[data-testid=la-attr-moving]');
  // Delete, undo, redo the undo: the cuboid is back as it was.
  await page.click(STAGE, { position: { x: 5, y: 5 } }).catch(() => {});
  const c = await toClient(page, [f.x, f.y, f.z]);
  await page.mouse.click(c[0], c[1]);
  await page.keyboard.press('Delete');
  await until(async () => (await stageData(page)).cuboids === '0', 'no cuboid after Delete');
  await page.keyboard.press('Control+z');
  await until(async () => (await stageData(page)).cuboids === '1', 'the cuboid back after Ctrl+Z');
  await page.mouse.click(c[0], c[1]);
  assert.equal((await fields(page)).yaw, 30);
  await screenshot(page, 'lidar-turned-top');

  for (const [key, view] of [['l', 'side'], ['f', 'front'], ['p', 'perspective']]) {
    await page.keyboard.press(key);
    await until(async () => (await stageData(page)).view === view, `the ${view} view after ${key}`);
    await screenshot(page, `lidar-view-${view}`);
  }
  // Orbit with a drag on empty space: the moving budget's points while it moves, all once it rests.
  const corner = await page.$eval(STAGE, (s) => { const b = s.getBoundingClientRect(); return [b.left + 30, b.top + 30]; });
  await page.mouse.move(corner[0], corner[1]);
  await page.mouse.down();
  await page.mouse.move(corner[0] + 40, corner[1] + 10, { steps: 4 });
  await until(async () => Number((await stageData(page)).drawn) < N, 'a subset of the points drawn while orbiting');
  await page.mouse.up();
  await until(async () => (await stageData(page)).drawn === '1000000', 'every point drawn once the orbit ends');
  await page.keyboard.press('c');
  await until(async () => (await stageData(page)).color === 'intensity', 'colour by intensity after c');
  await screenshot(page, 'lidar-intensity');
  await picture('3D, colour by intensity', 0.5, 60);

  // The next frame: the selected track is carried there; move it 1 m on.
  await page.keyboard.press('.');
  await until(async () => (await stageData(page)).frame === '1' && (await stageData(page)).state === 'ready', 'frame 2 ready');
  assert.equal((await stageData(page)).cuboids, '1');
  await page.fill('[data-testid=la-field-x]', '12');
  await page.press('[data-testid=la-field-x]', 'Tab');
  await until(async () => (await fields(page)).x === 12, 'x 12 in frame 2');
  await page.keyboard.press('t');
  await screenshot(page, 'lidar-frame2-top');
  await until(async () => page.$eval('[data-testid=la-camera-image]', (i) => i.naturalWidth > 0), 'the camera image');
  await page.$eval('[data-testid=la-cameras]', (e) => e.scrollIntoView());
  await screenshot(page, 'lidar-camera');

  // The draft on the server holds both cuboids; a reload starts from it.
  await waitStatus(page, /draft saved/i, '"Draft saved"');
  const a = expectStatus(await srv.api('GET', `/v1/projects/${project.id}/queue/next`, undefined, { key: ann.key }), 200).assignment;
  await until(async () => expectStatus(await srv.api('GET', `/v1/assignments/${a.id}`), 200).draft?.cuboids?.[1]?.x === 12, 'the server draft to hold the cuboid moved in frame 2');
  await page.reload();
  await until(async () => (await stageData(page).catch(() => ({}))).state === 'ready', 'the point cloud after a reload', 120000);
  assert.equal((await stageData(page)).cuboids, '1', 'the cuboid of frame 1 after the reload');
  await page.keyboard.press('.');
  await until(async () => (await stageData(page)).frame === '1' && (await stageData(page)).cuboids === '1', 'frame 2 with its cuboid after the reload');
  await page.click('[data-testid=la-row]');
  assert.equal((await fields(page)).x, 12);
  await page.click('button[data-action=submit]');
  await waitStatus(page, /submitted/i, '"Submitted"');
  const got = expectStatus(await srv.api('GET', `/v1/tasks/${task.id}/annotations`), 200).items;
  assert.equal(got.length, 1);
  const cub = got[0].response.cuboids;
  assert.equal(cub.length, 2, JSON.stringify(cub));
  assert.deepEqual(cub.map((x) => [x.track, x.frame, x.label, x.attributes]), [[1, 0, 'car', { moving: true }], [1, 1, 'car', { moving: true }]]);
  assert.ok(Math.abs(cub[0].x - 11) < 0.05 && cub[1].x === 12, JSON.stringify(cub));
  assert.ok(Math.abs(cub[0].yaw - Math.PI / 6) < 1e-3, `yaw ${cub[0].yaw}`);
});

browserTest('read-only instances share a page, draw the cuboids and change nothing; a malformed cloud says what is wrong', async ({ page }) => {
  const pts = [];
  for (let k = 0; k < 2000; k++) pts.push([(k % 50) - 25, Math.floor(k / 50) - 20, -1.7, k % 100]);
  const project = expectStatus(await srv.api('POST', '/v1/projects', { name: 'lidar read-only', kind: 'lidarannotation', params: { labels: ['car'] } }), 201);
  const good = (await upload(srv, pcdAscii(pts), 'application/octet-stream', 'ro.pcd', project.id)).sha256;
  const bad = (await upload(srv, Buffer.from('FIELDS x y\nSIZE 4 4\nTYPE F F\nWIDTH 1\nHEIGHT 1\nDATA ascii\n1 2\n'), 'application/octet-stream', 'bad.pcd', project.id)).sha256;
  const ann = await makeAnnotator(srv, 'lidar-ro@test.io', PASSWORD, [project.id]);
  await login(page, srv, ann.email, ann.password);
  const value = { cuboids: [{ track: 3, frame: 0, label: 'car', x: 1, y: 2, z: -1, length: 4, width: 2, height: 1.5, yaw: 0.3 }, { track: 4, frame: 0, label: 'car', x: 'left' }] };
  const result = await page.evaluate(async ({ good, bad, value }) => {
    const { lidarannotationEditor: ed } = await import('/ui/editor-lidarannotation.js');
    const box = document.createElement('div');
    document.querySelector('main').append(box);
    const changes = [];
    const params = { labels: [{ name: 'car' }], attributes: [] };
    const insts = [];
    for (let i = 0; i < 2; i++) {
      const el = document.createElement('div');
      el.className = `ro-${i} card panel`;
      box.append(el);
      insts.push(ed.mount(el, { params, task: { attachments: [{ type: 'pointcloud', file: good }] }, value, readOnly: true, onChange: (v) => changes.push(v) }));
    }
    const el = document.createElement('div');
    el.className = 'broken card panel';
    box.append(el);
    insts.push(ed.mount(el, { params, task: { attachments: [{ type: 'pointcloud', file: bad }] }, value: null, onChange: (v) => changes.push(v) }));
    // An editable instance with no saved answer starts from the best prediction.
    const pe = document.createElement('div');
    pe.className = 'predicted card panel';
    box.append(pe);
    const predictions = [
      { model: 'weak', score: 0.2, response: { cuboids: [] } },
      { model: 'pointpillars', score: 0.9, response: { cuboids: [{ track: 7, frame: 0, label: 'car', x: 5, y: 0, z: -1, length: 4, width: 2, height: 1.5, yaw: 0 }] } },
    ];
    insts.push(ed.mount(pe, { params, task: { attachments: [{ type: 'pointcloud', file: good }], predictions }, value: null, onChange: (v) => changes.push(v) }));
    window.__la = { insts, changes };
    const ev = new KeyboardEvent('keydown', { key: 'Delete' });
    return { handled: insts.slice(0, 2).map((x) => x.keys(ev)), values: insts.map((x) => x.value()) };
  }, { good, bad, value });
  assert.deepEqual(result.handled, [false, false], 'a read-only instance took Delete');
  assert.deepEqual(result.values[0].cuboids.map((c) => c.track), [3], 'the unreadable cuboid is left out, the other kept');
  assert.deepEqual(result.values[3].cuboids.map((c) => [c.track, c.x]), [[7, 5]], 'the predicted instance starts from the best-scored prediction');
  assert.match(await page.$eval('.predicted [data-testid=prediction-note]', (e) => e.textContent), /Pre-drawn from the model pointpillars: 1 cuboid\./);
  for (const root of ['.ro-0', '.ro-1']) {
    await until(async () => (await page.$eval(`${root} ${STAGE}`, (s) => s.dataset.state)) === 'ready', `${root} ready`);
    assert.equal(await page.$eval(`${root} ${STAGE}`, (s) => s.dataset.points), '2000');
    assert.equal(await page.$eval(`${root} ${STAGE}`, (s) => s.dataset.cuboids), '1');
    assert.equal(await page.locator(`${root} [data-testid^=la-tool], ${root} [data-testid=la-delete], ${root} [data-testid=la-undo]`).count(), 0, `${root} offers editing controls`);
  }
  await until(async () => (await page.$eval(`.broken ${STAGE}`, (s) => s.dataset.state)) === 'failed', 'the malformed cloud to fail');
  assert.match(await page.$eval('.broken [data-testid=la-stage-msg]', (e) => e.textContent), /could not be loaded: PCD header: FIELDS has no z/);
  // A drag on a read-only instance orbits the view but changes no cuboid.
  const r = await page.$eval(`.ro-0 ${STAGE}`, (s) => { const b = s.getBoundingClientRect(); return [b.left + b.width / 2, b.top + b.height / 2]; });
  await page.mouse.move(r[0], r[1]);
  await page.mouse.down();
  await page.mouse.move(r[0] + 60, r[1] + 20, { steps: 5 });
  await page.mouse.up();
  assert.deepEqual(await page.evaluate(() => window.__la.changes.length), 0, 'a read-only instance reported a change');
  await page.$eval('.ro-0', (e) => e.scrollIntoView());
  await screenshot(page, 'lidar-readonly');
  await page.evaluate(() => window.__la.insts.forEach((x) => x.unmount()));
});
