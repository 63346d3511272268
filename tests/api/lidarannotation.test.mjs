// lidarannotation.test.mjs -- the lidarannotation kind over HTTP: point
// clouds of every format uploaded and served parsed (GET
// /v1/files/{sha}/points, decimation, a malformed file's 422), 422s naming
// fields in params, tasks and responses, gold scoring by 3D IoU and the
// consolidation of three workers' cuboids with tracks.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, it, expectError, expectStatus, makeProject, makeMember } from './harness.mjs';
import { download } from './zip.mjs';
import { pcdAscii, pcdBinary, pcdCompressed, plyBinary, scaleJson, readPoints } from './pointclouds.mjs';

let srv;
before(async () => {
  srv = await startServer();
});
after(async () => {
  await srv?.stop();
});

const POINTS = [[1, 2, 3, 10], [-4, 5.5, 0.25, 20], [7, -8, -1, 30], [0, 0, 2, 40], [3, 3, 3, 50]];
/* Stores buf (201, or 200 when the same bytes are already stored). */
async function upload(buf, type = 'application/octet-stream') {
  const r = await srv.api('POST', '/v1/files', buf, { headers: { 'content-type': type } });
  assert.ok(r.status === 201 || r.status === 200, r.text);
  return r.body.sha256;
}
const points = (sha, q = '') => srv.api('GET', `/v1/files/${sha}/points${q}`, undefined, { raw: true });

const cube = (track, frame, x, extra = {}) => ({ track, frame, label: 'car', x, y: 0, z: 0, length: 4, width: 2, height: 1.5, yaw: 0, ...extra });

describe('point clouds served parsed', () => {
  const files = {};
  before(async () => {
    files['pcd-ascii'] = await upload(pcdAscii(POINTS));
    files['pcd-binary'] = await upload(pcdBinary(POINTS.length, (k) => POINTS[k]));
    files['ply-binary-be'] = await upload(plyBinary(POINTS));
    files.json = await upload(scaleJson(POINTS), 'application/json');
  });

  it('every format gives the same float32 xyzi body, with counts and bounds in headers', async () => {
    for (const [format, sha] of Object.entries(files)) {
      const r = await points(sha);
      assert.equal(r.status, 200, `${format}: ${r.buf.toString()}`);
      assert.equal(r.headers.get('content-type'), 'application/octet-stream');
      assert.equal(r.headers.get('x-points-format'), format);
      assert.equal(r.headers.get('x-points-count'), '5');
      assert.equal(r.headers.get('x-points-total'), '5');
      assert.equal(r.headers.get('x-points-intensity'), '1');
      assert.equal(r.headers.get('x-points-bounds'), '-4,-8,-1,10,7,5.5,3,50');
      assert.deepEqual(readPoints(r.buf), POINTS, format);
    }
  });

  it('max decimates evenly and deterministically; a bad max is a 400', async () => {
    const r = await points(files['pcd-binary'], '?max=2');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-points-count'), '2');
    assert.equal(r.headers.get('x-points-total'), '5');
    // floor((j + 1) * 2 / 5) steps at j = 2 and j = 4.
    assert.deepEqual(readPoints(r.buf), [POINTS[2], POINTS[4]]);
    expectError(await srv.api('GET', `/v1/files/${files.json}/points?max=0`), 400, 'max');
    expectError(await srv.api('GET', `/v1/files/${files.json}/points?max=lots`), 400, 'max');
  });

  it('a malformed or truncated file is a 422 naming the problem; an unknown one a 404', async () => {
    const whole = pcdBinary(3, (k) => [k, k, k, k]);
    let e = expectError(await srv.api('GET', `/v1/files/${await upload(whole.subarray(0, whole.length - 5))}/points`), 422, 'file');
    assert.match(e.message, /PCD data is truncated: 3 points of 20 bytes need 60 bytes/);
    e = expectError(await srv.api('GET', `/v1/files/${await upload(Buffer.from('ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nend_header\n1\n'))}/points`), 422, 'file');
    assert.match(e.message, /vertex element has no y/);
    e = expectError(await srv.api('GET', `/v1/files/${await upload(Buffer.from('{"points": [{"x": 1, "y": 2}]}'), 'application/json')}/points`), 422, 'file');
    assert.equal(e.message, 'JSON point cloud: points[0].z is missing');
    expectError(await srv.api('GET', `/v1/files/${'0'.repeat(64)}/points`), 404);
  });

  it('PCD binary_compressed (LZF, column-major) serves the same points as its binary form', async () => {
    // A scan-like cloud: rings of points over a ground plane, so that LZF finds repeats.
    const n = 20000, pt = (k) => [Math.fround(Math.cos(k / 50) * (5 + (k % 7))), Math.fround(Math.sin(k / 50) * (5 + (k % 7))), k % 11 ? -1.7 : Math.fround(k / 20000), k % 256];
    const zipped = pcdCompressed(n, pt), plain = pcdBinary(n, pt);
    assert.ok(zipped.length < plain.length * 0.9, `compressed ${zipped.length} of ${plain.length}`);
    for (const q of ['', '?max=777']) {
      const a = await points(await upload(zipped), q), b = await points(await upload(plain), q);
      assert.equal(a.status, 200, a.buf.toString());
      assert.equal(a.headers.get('x-points-format'), 'pcd-binary-compressed');
      assert.equal(b.headers.get('x-points-format'), 'pcd-binary');
      for (const h of ['x-points-count', 'x-points-total', 'x-points-bounds', 'x-points-intensity'])
        assert.equal(a.headers.get(h), b.headers.get(h), h);
      assert.ok(a.buf.equals(b.buf), `the bodies differ (${q || 'all points'})`);
    }
    // Cut short, or a stream whose bytes were damaged: a 422 saying which.
    let e = expectError(await srv.api('GET', `/v1/files/${await upload(zipped.subarray(0, zipped.length - 100))}/points`), 422, 'file');
    assert.match(e.message, /binary_compressed data is truncated: \d+ compressed bytes declared/);
    const bad = Buffer.from(zipped), usize = zipped.indexOf('binary_compressed\n') + 18 + 4;
    bad.writeUInt32LE(bad.readUInt32LE(usize) + 20, usize);
    e = expectError(await srv.api('GET', `/v1/files/${await upload(bad)}/points`), 422, 'file');
    assert.match(e.message, /uncompressed size 400020 is not 20000 points x 20 bytes \(400000\)/);
  });

  it('limits: max at 5,000,000 and one past it; a file declaring 100,000,000 points and one more', async () => {
    let r = await points(files.json, '?max=5000000');
    assert.equal(r.status, 200);
    expectError(await srv.api('GET', `/v1/files/${files.json}/points?max=5000001`), 400, 'max');
    const head = (n) => Buffer.from(`FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nWIDTH ${n}\nHEIGHT 1\nDATA binary\n`);
    let e = expectError(await srv.api('GET', `/v1/files/${await upload(head(100000000))}/points`), 422, 'file');
    assert.equal(e.code, 'invalid_pointcloud');
    assert.match(e.message, /truncated: 100000000 points of 12 bytes need 1200000000 bytes/);
    e = expectError(await srv.api('GET', `/v1/files/${await upload(head(100000001))}/points`), 422, 'file');
    assert.equal(e.code, 'too_large');
    assert.match(e.message, /over 100000000 points/);
  });

  it('another user cannot read the points of a file they cannot read', async () => {
    const m = await makeMember(srv, 'stranger@test.io');
    expectError(await srv.api('GET', `/v1/files/${files.json}/points`, undefined, { key: m.key }), 404);
  });
});

describe('lidarannotation projects', () => {
  let p, cloud0, cloud1;
  before(async () => {
    cloud0 = await upload(pcdAscii(POINTS));
    cloud1 = await upload(pcdBinary(POINTS.length, (k) => POINTS[k]));
  });

  it('bad params, tasks and responses are 422s naming the field', async () => {
    let e = expectError(await srv.api('POST', '/v1/projects', { name: 'l0', kind: 'lidarannotation', params: { labels: [] } }), 422, 'params.labels');
    assert.match(e.message, /at least 1/);
    p = await makeProject(srv, { kind: 'lidarannotation', overlap: 3, params: { labels: ['car', 'pedestrian'], attributes: [{ name: 'moving', type: 'boolean' }] } });
    expectError(await srv.api('POST', '/v1/tasks', { project_id: p.id, unique_id: 'img', attachments: [{ type: 'image', url: 'https://x/1.png' }] }), 422, 'attachments');
    expectError(await srv.api('POST', '/v1/tasks', {
      project_id: p.id, unique_id: 'cal', attachments: [{ type: 'pointcloud', file: cloud0 }, { type: 'image', url: 'https://x/c.png' }],
      data: { calibration: [{ image: 1, K: [[700, 0, 320], [0, 700, 240]], extrinsic: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] }] },
    }), 422, 'data.calibration[0].K');
    expectError(await srv.api('POST', '/v1/tasks', {
      project_id: p.id, unique_id: 'badgold', attachments: [{ type: 'pointcloud', file: cloud0 }], expected_response: { cuboids: [cube(1, 0, 0, { length: -1 })] },
    }), 422, 'expected_response.cuboids[0].length');
    expectStatus(await srv.api('POST', '/v1/tasks', {
      project_id: p.id, unique_id: 'seq', attachments: [{ type: 'pointcloud', file: cloud0 }, { type: 'pointcloud', file: cloud1 }],
    }), 201);
  });

  it('three workers consolidate into one tracked car; a response in a frame the task lacks is a 422', async () => {
    const members = [];
    for (let k = 0; k < 3; k++) {
      const m = await makeMember(srv, `lidar-${k}@test.io`);
      expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${m.id}`, { role: 'annotator' }), 200);
      members.push(m);
    }
    const responses = [
      { cuboids: [cube(4, 0, 0, { attributes: { moving: true } }), cube(4, 1, 1, { attributes: { moving: true } }), { ...cube(5, 0, 30), label: 'pedestrian' }] },
      { cuboids: [cube(1, 0, 0.3, { yaw: Math.PI }), cube(1, 1, 1.3, { yaw: Math.PI, attributes: { moving: true } })] },
      { cuboids: [cube(9, 0, 0, { y: 0.3 }), cube(9, 1, 1, { y: 0.3 })] },
    ];
    let taskId;
    for (let k = 0; k < 3; k++) {
      const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: members[k].key }), 200).assignment;
      assert.ok(a);
      taskId = a.task_id;
      if (k === 0) {
        const bad = await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: 'bad', response: { cuboids: [cube(1, 2, 0)] } }, { key: members[k].key });
        expectError(bad, 422, 'response.cuboids[0].frame');
        const dup = await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: 'dup', response: { cuboids: [cube(1, 0, 0), cube(1, 0, 5)] } }, { key: members[k].key });
        assert.match(expectError(dup, 422, 'response.cuboids[1].track').message, /track 1 already has a cuboid in frame 0/);
      }
      expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `l-${k}`, response: responses[k] }, { key: members[k].key }), 201);
    }
    const t = expectStatus(await srv.api('GET', `/v1/tasks/${taskId}`), 200);
    assert.equal(t.status, 'completed');
    const got = t.result.response.cuboids;
    assert.equal(got.length, 2, JSON.stringify(got)); // the pedestrian one worker drew is left out
    assert.deepEqual(got.map((c) => [c.track, c.frame, c.label]), [[1, 0, 'car'], [1, 1, 'car']]);
    assert.ok(Math.abs(got[0].x - 0.1) < 1e-9 && Math.abs(got[0].y - 0.1) < 1e-9);
    assert.ok(Math.abs(Math.abs(got[0].yaw) % Math.PI) < 1e-9, `yaw ${got[0].yaw}: 0 and pi are one heading`);
    assert.deepEqual(got[1].attributes, { moving: true });
    assert.equal(got[0].attributes, undefined, 'one of three said moving in frame 0');
    assert.ok(t.result.confidence > 0.8 && t.result.confidence <= 1);
  });

  it('gold answers are scored by IoU-weighted F1 of cuboids', async () => {
    const g = await makeProject(srv, { kind: 'lidarannotation', overlap: 1, gold_rate: 1, params: { labels: ['car'] } });
    const rows = [
      { unique_id: 'r0', attachments: [{ type: 'pointcloud', file: cloud0 }] },
      { unique_id: 'g0', attachments: [{ type: 'pointcloud', file: cloud0 }], expected_response: { cuboids: [cube(1, 0, 0)] } },
    ];
    expectStatus(await srv.api('POST', `/v1/projects/${g.id}/tasks`, rows.map((r) => JSON.stringify(r)).join('\n')), 200);
    const m = await makeMember(srv, 'lidar-gold@test.io');
    expectStatus(await srv.api('PUT', `/v1/projects/${g.id}/members/${m.id}`, { role: 'annotator' }), 200);
    for (let k = 0; k < 2; k++) {
      const a = expectStatus(await srv.api('GET', `/v1/projects/${g.id}/queue/next`, undefined, { key: m.key }), 200).assignment;
      assert.ok(a);
      // 1 m off along the 4 m length: IoU 3/5.
      expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `g-${k}`, response: { cuboids: [cube(1, 0, 1)] } }, { key: m.key }), 201);
    }
    const w = expectStatus(await srv.api('GET', `/v1/projects/${g.id}/workers`), 200).items.find((x) => x.user_id === m.id || x.id === m.id);
    assert.ok(w, 'the worker is listed');
    assert.ok(Math.abs(w.gold_accuracy - 0.6) < 1e-9, `gold accuracy ${w.gold_accuracy}`);
  });

  it('exports KITTI labels (camera coordinates with calibration, lidar without) and Loupe lidar JSON', async () => {
    const k = await makeProject(srv, { kind: 'lidarannotation', overlap: 1, params: { labels: ['car', 'traffic cone'] } });
    const cal = { image: 1, K: [[700, 0, 320], [0, 700, 240], [0, 0, 1]], extrinsic: [[0, -1, 0, 0], [0, 0, -1, 0], [1, 0, 0, 0], [0, 0, 0, 1]] };
    const rows = [
      { unique_id: 'cam', attachments: [{ type: 'pointcloud', file: cloud0 }, { type: 'image', url: 'https://x/cam.png' }], data: { calibration: [cal] } },
      { unique_id: 'bare', attachments: [{ type: 'pointcloud', file: cloud0 }, { type: 'pointcloud', file: cloud1 }] },
      { unique_id: 'open', attachments: [{ type: 'pointcloud', file: cloud0 }] },
    ];
    expectStatus(await srv.api('POST', `/v1/projects/${k.id}/tasks`, rows.map((r) => JSON.stringify(r)).join('\n')), 200);
    const m = await makeMember(srv, 'lidar-export@test.io');
    expectStatus(await srv.api('PUT', `/v1/projects/${k.id}/members/${m.id}`, { role: 'annotator' }), 200);
    const ids = {};
    for (let n = 0; n < 2; n++) {
      const a = expectStatus(await srv.api('GET', `/v1/projects/${k.id}/queue/next`, undefined, { key: m.key }), 200).assignment;
      const uid = a.task.unique_id;
      ids[uid] = a.task_id;
      const response = uid === 'cam'
        ? { cuboids: [cube(1, 0, 10)] }
        : { cuboids: [cube(2, 1, 5, { yaw: 0.5 }), { ...cube(1, 0, 3), label: 'traffic cone', length: 0.4, width: 0.4, height: 0.7 }, cube(2, 0, 4)] };
      expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `x-${uid}`, response }, { key: m.key }), 201);
    }
    const files = await download(srv, k.id, 'kitti');
    const pad = (n) => String(n).padStart(6, '0');
    // Tasks in id order (cam was imported first), frames in order, README last.
    assert.ok(ids.cam < ids.bare);
    // A calibrated frame also has its calib file; no velodyne/ folder.
    assert.deepEqual(files.map(([n]) => n), [`label_2/${pad(ids.cam)}_000000.txt`, `calib/${pad(ids.cam)}_000000.txt`, `label_2/${pad(ids.bare)}_000000.txt`, `label_2/${pad(ids.bare)}_000001.txt`, 'README.txt']);
    const byName = Object.fromEntries(files);
    // KITTI's calib format: P2 is K with a zero translation, R0_rect the identity,
    // Tr_velo_to_cam the extrinsic's 3x4, the rest [I | 0].
    const calib = Object.fromEntries(byName[`calib/${pad(ids.cam)}_000000.txt`].trim().split('\n').map((l) => {
      const [name, ...v] = l.split(' ');
      return [name, v.map(Number)];
    }));
    const I34 = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0];
    assert.deepEqual(Object.keys(calib), ['P0:', 'P1:', 'P2:', 'P3:', 'R0_rect:', 'Tr_velo_to_cam:', 'Tr_imu_to_velo:']);
    assert.deepEqual(calib['P2:'], [700, 0, 320, 0, 0, 700, 240, 0, 0, 0, 1, 0]);
    assert.deepEqual(calib['R0_rect:'], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
    assert.deepEqual(calib['Tr_velo_to_cam:'], [0, -1, 0, 0, 0, 0, -1, 0, 1, 0, 0, 0]);
    for (const m of ['P0:', 'P1:', 'P3:', 'Tr_imu_to_velo:']) assert.deepEqual(calib[m], I34, m);
    assert.match(byName[`calib/${pad(ids.cam)}_000000.txt`], /^P0: 1\.000000000000e\+00 0\.000000000000e\+00 /);
    // The box projected with P2 · R0_rect · Tr_velo_to_cam, as KITTI's devkit does, lands on the label's 2D box.
    const P = (m, r, c) => m[4 * r + c];
    const corner = [10 - 2, -1, -0.75], cc = [0, 1, 2].map((r) => P(calib['Tr_velo_to_cam:'], r, 0) * corner[0] + P(calib['Tr_velo_to_cam:'], r, 1) * corner[1] + P(calib['Tr_velo_to_cam:'], r, 2) * corner[2] + P(calib['Tr_velo_to_cam:'], r, 3));
    const px = [0, 1].map((r) => (P(calib['P2:'], r, 0) * cc[0] + P(calib['P2:'], r, 1) * cc[1] + P(calib['P2:'], r, 2) * cc[2] + P(calib['P2:'], r, 3)) / cc[2]);
    // The car 10 m ahead: bottom centre (0, 0.75, 10) in the camera, heading along its z: rotation_y -pi/2.
    const camLine = byName[`label_2/${pad(ids.cam)}_000000.txt`].trim().split(' ');
    assert.equal(camLine[0], 'car');
    const v = camLine.slice(1).map(Number);
    const want = [0, 0, -Math.PI / 2, 232.5, 174.375, 407.5, 305.625, 1.5, 2, 4, 0, 0.75, 10, -Math.PI / 2];
    want.forEach((w, j) => assert.ok(Math.abs(v[j] - w) <= 0.006, `field ${j + 1}: ${v[j]} vs ${w}`));
    // The near bottom corner on the car's right (lidar y -1, camera x +1) is the 2D box's x2 and y2.
    assert.ok(Math.abs(px[0] - v[5]) < 0.01 && Math.abs(px[1] - v[6]) < 0.01, `corner at ${px} vs box ${v.slice(3, 7)}`);
    // Without calibration: lidar coordinates, bottom centre, yaw; tracks sorted, a label's space as _.
    assert.equal(byName[`label_2/${pad(ids.bare)}_000000.txt`],
      'traffic_cone 0.00 0 0.00 0.00 0.00 0.00 0.00 0.70 0.40 0.40 3.00 0.00 -0.35 0.00\n' +
      'car 0.00 0 0.00 0.00 0.00 0.00 0.00 1.50 2.00 4.00 4.00 0.00 -0.75 0.00\n');
    assert.equal(byName[`label_2/${pad(ids.bare)}_000001.txt`], 'car 0.00 0 0.00 0.00 0.00 0.00 0.00 1.50 2.00 4.00 5.00 0.00 -0.75 0.50\n');
    assert.match(byName['README.txt'], /^Loupe lidarannotation export, format kitti: 3 frames, 4 objects\./);
    assert.match(byName['README.txt'], /1 frame had data.calibration/);
    assert.match(byName['README.txt'], /calib\/TASK_FRAME.txt/);
    assert.match(byName['README.txt'], /2 frames had none/);
    assert.match(byName['README.txt'], /Left out: 1 task without a result\./);

    const r = await srv.api('GET', `/v1/projects/${k.id}/export?format=lidar`, undefined, { raw: true });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json');
    const tasks = JSON.parse(r.buf.toString());
    assert.equal(tasks.length, 2);
    const bare = tasks.find((t) => t.unique_id === 'bare');
    assert.equal(bare.id, ids.bare);
    assert.deepEqual(bare.frames.map((f) => [f.frame, f.pointcloud.file, f.cuboids.map((c) => [c.track, c.label])]),
      [[0, cloud0, [[1, 'traffic cone'], [2, 'car']]], [1, cloud1, [[2, 'car']]]]);
    assert.deepEqual(bare.tracks, [{ track: 1, label: 'traffic cone', frames: [0] }, { track: 2, label: 'car', frames: [0, 1] }]);
    assert.equal(bare.frames[1].cuboids[0].yaw, 0.5);
    expectError(await srv.api('GET', `/v1/projects/${p.id}/export?format=yolo`), 400, 'format');
  });
});
