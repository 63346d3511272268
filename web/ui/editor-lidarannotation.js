// editor-lidarannotation.js -- the answer editor for `lidarannotation`
// projects (docs/KINDS.md): 3D cuboids drawn in lidar point clouds, frame by
// frame, with tracks, labels and attributes.
//
// The points of the current frame come from GET /v1/files/{sha}/points as
// float32 x, y, z, intensity and go to WebGL2 as they are: one buffer, one
// gl.POINTS draw call, the colour computed in the vertex shader from height
// or intensity (a uniform switches), so a million points cost one upload
// when the frame loads and one draw per redraw.  Redraws happen on demand,
// at most once per animation frame.  The cuboids are few: they are drawn on
// a 2D canvas over the GL one, their 8 corners projected with the same
// matrix in JavaScript, which also makes hit testing simple (screen
// space).
//
// The camera orbits a target: azimuth, elevation and distance.  Top, front
// and side views are orthographic (boxes keep their shape at any depth, as
// in CVAT 3D); the perspective view is not.  A screen point is unprojected
// into a ray and met with a plane: the ground under the target when
// drawing, the plane through a cuboid facing the camera when moving it, so
// the same code moves boxes in every view.
//
// Undo and redo keep copies of the cuboid list (a few hundred at most).
// The response is {"cuboids": [{track, frame, label, x, y, z, length,
// width, height, yaw, attributes?}]}, coordinates rounded to 1 mm, yaw to
// 1e-4 rad.
//
// The interface every editor follows is in editors.js.

import { h, isTyping, namedList, commitEdits } from './dom.js';
import { attachmentUrl, bestPrediction } from './task.js';
import { attributeDefs, attributeProblems, problemsLine } from './attributes.js';

const MAX_POINTS = 1000000;
// While the view moves (a drag, the wheel), at most a budget of points is
// drawn: every k-th point through the same buffer (a stride of 16k bytes),
// so orbiting stays fluid where the GPU is slow; the full cloud is drawn
// again as soon as the view rests.  The budget starts at MOVING_POINTS and
// adapts to the machine: each moving frame is timed (a one-pixel read
// waits for the GPU) and the budget scaled towards MOVING_FRAME_MS, within
// MIN_MOVING_POINTS and MAX_POINTS, as point-cloud viewers keep a point
// budget per frame.
const MOVING_POINTS = 250000;
const MIN_MOVING_POINTS = 20000;
const MOVING_FRAME_MS = 30;
const REST_MS = 150;
const HISTORY_MAX = 300;
const DRAG_THRESHOLD = 3;
const HANDLE_PX = 7;
const FOV = (50 * Math.PI) / 180;
// The label colours; the same as .la-bg-cN in editor-lidarannotation.css
// (inline styles are refused by the UI's CSP).
const PALETTE = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45', '#fabed4', '#469990'];
const VIEWS = {
  top: { name: 'Top', key: 't', az: Math.PI, el: Math.PI / 2, ortho: true },
  front: { name: 'Front', key: 'f', az: 0, el: 0, ortho: true },
  side: { name: 'Side', key: 'l', az: -Math.PI / 2, el: 0, ortho: true },
  perspective: { name: '3D', key: 'p', az: Math.PI + 0.6, el: 0.6, ortho: false },
};

/* ---- small 4x4 matrix helpers (column-major, as WebGL takes them) ---- */

function mul(a, b) {
  const o = new Float64Array(16);
  for (let c = 0; c < 4; c++)
    for (let r = 0; r < 4; r++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[k * 4 + r] * b[c * 4 + k];
      o[c * 4 + r] = s;
    }
  return o;
}
function lookAt(eye, target, up) {
  const f = norm(sub(target, eye));
  const s = norm(cross(f, up));
  const u = cross(s, f);
  return Float64Array.from([s[0], u[0], -f[0], 0, s[1], u[1], -f[1], 0, s[2], u[2], -f[2], 0, -dot(s, eye), -dot(u, eye), dot(f, eye), 1]);
}
function perspective(fovy, aspect, near, far) {
  const t = 1 / Math.tan(fovy / 2);
  return Float64Array.from([t / aspect, 0, 0, 0, 0, t, 0, 0, 0, 0, (far + near) / (near - far), -1, 0, 0, (2 * far * near) / (near - far), 0]);
}
function ortho(hw, hh, near, far) {
  return Float64Array.from([1 / hw, 0, 0, 0, 0, 1 / hh, 0, 0, 0, 0, -2 / (far - near), 0, 0, 0, -(far + near) / (far - near), 1]);
}
function invert(m) {
  const inv = new Float64Array(16);
  const [a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33] = m;
  const b00 = a00 * a11 - a01 * a10, b01 = a00 * a12 - a02 * a10, b02 = a00 * a13 - a03 * a10, b03 = a01 * a12 - a02 * a11;
  const b04 = a01 * a13 - a03 * a11, b05 = a02 * a13 - a03 * a12, b06 = a20 * a31 - a21 * a30, b07 = a20 * a32 - a22 * a30;
  const b08 = a20 * a33 - a23 * a30, b09 = a21 * a32 - a22 * a31, b10 = a21 * a33 - a23 * a31, b11 = a22 * a33 - a23 * a32;
  const det = b00 * b11 - b01 * b10 + b02 * b09 + b03 * b08 - b04 * b07 + b05 * b06;
  if (!det) return null;
  const d = 1 / det;
  inv[0] = (a11 * b11 - a12 * b10 + a13 * b09) * d;
  inv[1] = (a02 * b10 - a01 * b11 - a03 * b09) * d;
  inv[2] = (a31 * b05 - a32 * b04 + a33 * b03) * d;
  inv[3] = (a22 * b04 - a21 * b05 - a23 * b03) * d;
  inv[4] = (a12 * b08 - a10 * b11 - a13 * b07) * d;
  inv[5] = (a00 * b11 - a02 * b08 + a03 * b07) * d;
  inv[6] = (a32 * b02 - a30 * b05 - a33 * b01) * d;
  inv[7] = (a20 * b05 - a22 * b02 + a23 * b01) * d;
  inv[8] = (a10 * b10 - a11 * b08 + a13 * b06) * d;
  inv[9] = (a01 * b08 - a00 * b10 - a03 * b06) * d;
  inv[10] = (a30 * b04 - a31 * b02 + a33 * b00) * d;
  inv[11] = (a21 * b02 - a20 * b04 - a23 * b00) * d;
  inv[12] = (a11 * b07 - a10 * b09 - a12 * b06) * d;
  inv[13] = (a00 * b09 - a01 * b07 + a02 * b06) * d;
  inv[14] = (a31 * b01 - a30 * b03 - a32 * b00) * d;
  inv[15] = (a20 * b03 - a21 * b01 + a22 * b00) * d;
  return inv;
}
function xform(m, p) {
  const [x, y, z] = p;
  const w = m[3] * x + m[7] * y + m[11] * z + m[15];
  return [(m[0] * x + m[4] * y + m[8] * z + m[12]) / w, (m[1] * x + m[5] * y + m[9] * z + m[13]) / w, (m[2] * x + m[6] * y + m[10] * z + m[14]) / w, w];
}
const sub = (a, b) => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const add = (a, b) => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
const scale = (a, k) => [a[0] * k, a[1] * k, a[2] * k];
const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a, b) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
function norm(a) {
  const l = Math.hypot(a[0], a[1], a[2]) || 1;
  return [a[0] / l, a[1] / l, a[2] / l];
}

/* ---- reading params, the task and a saved answer ---- */

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);


/* The task's point clouds (one per frame) as URLs of their points. */
function framesOf(task) {
  const out = [];
  for (const a of Array.isArray(task?.attachments) ? task.attachments : []) {
    if (a?.type !== 'pointcloud') continue;
    const url = attachmentUrl(a);
    const m = url && /^\/v1\/files\/([0-9a-f]{64})$/.exec(url);
    out.push(m ? `/v1/files/${m[1]}/points?max=${MAX_POINTS}` : null);
  }
  return out;
}

/* The cameras of data.calibration whose image can be shown. */
function camerasOf(task) {
  const atts = Array.isArray(task?.attachments) ? task.attachments : [];
  const cal = Array.isArray(task?.data?.calibration) ? task.data.calibration : [];
  const out = [];
  for (const c of cal) {
    const url = Number.isInteger(c?.image) ? attachmentUrl(atts[c.image]) : null;
    const K = c?.K, E = c?.extrinsic;
    if (!url || !Array.isArray(K) || !Array.isArray(E)) continue;
    out.push({ url, K, E, name: typeof c.name === 'string' ? c.name : `Camera ${out.length + 1}` });
  }
  return out;
}

function readCuboid(c) {
  if (!c || typeof c !== 'object') return null;
  for (const k of ['x', 'y', 'z', 'length', 'width', 'height', 'yaw']) if (!isNum(c[k])) return null;
  if (!(c.length > 0 && c.width > 0 && c.height > 0) || !Number.isInteger(c.track) || !Number.isInteger(c.frame)) return null;
  const o = { track: c.track, frame: c.frame, label: String(c.label ?? ''), x: c.x, y: c.y, z: c.z, length: c.length, width: c.width, height: c.height, yaw: c.yaw };
  if (c.attributes && typeof c.attributes === 'object') o.attributes = { ...c.attributes };
  return o;
}

const r3 = (v) => Math.round(v * 1000) / 1000;
const wrap = (a) => Math.atan2(Math.sin(a), Math.cos(a));

/* The 8 corners of cuboid c: bottom 4 then top 4, counter-clockwise from
 * the front left seen from above (front: +length along the heading). */
function corners(c) {
  const co = Math.cos(c.yaw), si = Math.sin(c.yaw);
  const out = [];
  for (const dz of [-0.5, 0.5])
    for (const [u, v] of [[0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5], [0.5, -0.5]]) {
      const lx = u * c.length, ly = v * c.width;
      out.push([c.x + lx * co - ly * si, c.y + lx * si + ly * co, c.z + dz * c.height]);
    }
  return out;
}
const EDGES = [[0, 1], [1, 2], [2, 3], [3, 0], [4, 5], [5, 6], [6, 7], [7, 4], [0, 4], [1, 5], [2, 6], [3, 7]];

/* The convex hull of screen points (monotone chain), for hit tests. */
function hull(pts) {
  const p = pts.slice().sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (p.length < 3) return p;
  const c = (o, a, b) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lo = [], hi = [];
  for (const q of p) {
    while (lo.length >= 2 && c(lo[lo.length - 2], lo[lo.length - 1], q) <= 0) lo.pop();
    lo.push(q);
  }
  for (let i = p.length - 1; i >= 0; i--) {
    while (hi.length >= 2 && c(hi[hi.length - 2], hi[hi.length - 1], p[i]) <= 0) hi.pop();
    hi.push(p[i]);
  }
  return lo.slice(0, -1).concat(hi.slice(0, -1));
}
function inside(poly, x, y) {
  let s = 0;
  for (let i = 0; i < poly.length; i++) {
    const a = poly[i], b = poly[(i + 1) % poly.length];
    const cr = (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]);
    if (cr !== 0) {
      if (s === 0) s = Math.sign(cr);
      else if (Math.sign(cr) !== s) return false;
    }
  }
  return poly.length >= 3;
}

/* ---- shaders ---- */

/* How wide a point is drawn, in metres (see the vertex shader), and the
 * part of a cloud's heights and intensities the colour ramp spans: between
 * these percentiles, so a few stray points (a bird, a retro-reflector) do
 * not squeeze every other colour into one end of it. */
const POINT_METRES = 0.06;
const RANGE_PERCENTILES = [0.02, 0.98];
const RANGE_SAMPLE = 16384;

/* The RANGE_PERCENTILES of component c (2 height, 3 intensity) of the n
 * points in data, from an even sample of at most RANGE_SAMPLE of them (a
 * few ms for any cloud); [lo, hi] (the bounds) when they are equal. */
export function robustRange(data, n, c, lo, hi) {
  const m = Math.min(n, RANGE_SAMPLE), s = new Float32Array(m);
  for (let j = 0; j < m; j++) s[j] = data[4 * Math.floor((j * n) / m) + c];
  s.sort();
  const a = s[Math.floor(RANGE_PERCENTILES[0] * (m - 1))], b = s[Math.ceil(RANGE_PERCENTILES[1] * (m - 1))];
  return m && b > a ? [a, b] : [lo, hi];
}

const VS = `#version 300 es
in vec4 aPoint;
uniform mat4 uMVP;
uniform int uMode;
uniform vec2 uRange;
uniform vec3 uSize; // smallest and largest size in pixels, pixels a metre covers
uniform int uOrtho;
out vec3 vColor;
// Turbo (Mikhailov, Google 2019), its published polynomial fit: a bright
// perceptual rainbow.  Only 0.1 to 0.9 of it: both ends are dark and would
// be lost on the dark background.
vec3 ramp(float t) {
  float x = 0.1 + 0.8 * clamp(t, 0.0, 1.0);
  vec4 v4 = vec4(1.0, x, x * x, x * x * x);
  vec2 v2 = v4.zw * v4.z;
  return clamp(vec3(
    dot(v4, vec4(0.13572138, 4.61539260, -42.66032258, 132.13108234)) + dot(v2, vec2(-152.94239396, 59.28637943)),
    dot(v4, vec4(0.09140261, 2.19418839, 4.84296658, -14.18503333)) + dot(v2, vec2(4.27729857, 2.82956604)),
    dot(v4, vec4(0.10667330, 12.64194608, -60.58204836, 110.36276771)) + dot(v2, vec2(-89.90310912, 27.34824973))), 0.0, 1.0);
}
void main() {
  gl_Position = uMVP * vec4(aPoint.xyz, 1.0);
  // Behind the eye: outside the clip volume, explicitly (some software
  // rasterisers place a point by its centre after the divide, mirrored).
  if (gl_Position.w <= 0.0) gl_Position = vec4(2.0, 2.0, 2.0, 1.0);
  float v = uMode == 0 ? aPoint.z : aPoint.w;
  vColor = ramp((v - uRange.x) / max(uRange.y - uRange.x, 1e-6));
  // A point is about POINT_METRES across: it grows as the view zooms in (and,
  // in 3D, as it comes nearer), never below a pixel or two nor beyond uSize.y.
  float px = ${POINT_METRES.toFixed(3)} * uSize.z / (uOrtho == 1 ? 1.0 : max(gl_Position.w, 1e-3));
  gl_PointSize = clamp(px, uSize.x, uSize.y);
}`;
const FS = `#version 300 es
precision mediump float;
in vec3 vColor;
out vec4 color;
void main() { color = vec4(vColor, 1.0); }`;

export const lidarannotationEditor = {
  kind: 'lidarannotation',
  showsTask: true,
  shortcuts: [
    ['t  f  l  p', 'view: top, front, side (lateral), 3D'],
    ['v  b', 'tool: select, cuboid (drag a rectangle in the top view)'],
    ['1 – 9', 'label for new cuboids (and for the selected one)'],
    ['Drag / Shift+drag or right-drag / wheel', 'orbit / pan / zoom'],
    ['Arrows, PageUp/PageDown', 'move the selected cuboid 0.1 m (Shift: 1 m); up and down'],
    ['q  e', 'turn the selected cuboid 1° left / right (Shift: 10°)'],
    [',  .', 'previous / next frame (the selected track is carried to the next)'],
    ['c', 'colour by height or intensity'],
    ['n', 'select the next cuboid'],
    ['Delete', 'delete the selected cuboid'],
    ['Ctrl+Z, Ctrl+Shift+Z', 'undo, redo'],
  ],
  mount(el, options) {
    return mountEditor(el, options || {});
  },
};

function mountEditor(el, { params, task, value, onChange, readOnly = false }) {
  const labels = namedList(params?.labels).map((l) => l.name);
  const attrs = attributeDefs(params?.attributes);
  const frames = framesOf(task);
  const cameras = camerasOf(task);
  const nFrames = Math.max(1, frames.length);
  const mountedAt = performance.now();

  /* ---- state ---- */
  let alive = true;
  let cuboids = [];
  // No saved answer: start from the model's best prediction, if any.
  const prediction = !Array.isArray(value?.cuboids) && !readOnly ? bestPrediction(task?.predictions, 'cuboids') : null;
  for (const c of Array.isArray(value?.cuboids) ? value.cuboids : prediction ? prediction.response.cuboids : []) {
    const o = readCuboid(c);
    if (o) cuboids.push(o);
  }
  let frame = 0;
  let selected = null; // the selected cuboid object (in cuboids)
  let tool = readOnly ? 'select' : 'select';
  let viewName = 'perspective';
  let colorMode = 0; // 0 height, 1 intensity
  let currentLabel = labels[0] ?? '';
  const cam = { target: [0, 0, 0], dist: 40, az: VIEWS.perspective.az, el: VIEWS.perspective.el, ortho: false };
  const clouds = new Map(); // frame -> {state, n, bounds, data, buffer, intensity}
  const history = [];
  const future = [];
  let drag = null;
  let raf = 0;
  let mvp = null, inv = null;
  let W = 1, H = 1;

  /* ---- DOM ---- */
  const btn = (attrs, ...kids) => h('button', { type: 'button', class: 'la-btn', ...attrs }, ...kids);
  const root = h('div', { class: `la-editor ${readOnly ? 'la-readonly' : 'editor-wide'}`, 'data-testid': 'la-editor', 'data-readonly': readOnly ? 'true' : 'false' });
  const viewButtons = new Map();
  const viewGroup = h('div', { class: 'la-group', role: 'group', 'aria-label': 'View' });
  for (const [id, v] of Object.entries(VIEWS)) {
    const b = btn({ 'data-testid': `la-view-${id}`, 'aria-pressed': 'false', 'aria-keyshortcuts': v.key, title: `${v.name} view (${v.key})`, onclick: () => setView(id) }, v.name, h('kbd', {}, v.key));
    viewButtons.set(id, b);
    viewGroup.append(b);
  }
  const colorBtn = btn({ 'data-testid': 'la-color', 'aria-keyshortcuts': 'c', title: 'Colour the points by height or intensity (c)', onclick: () => toggleColor() }, 'Colour: height');
  const frameLabel = h('span', { class: 'la-frame', 'data-testid': 'la-frame' }, '');
  const prevBtn = btn({ 'data-testid': 'la-frame-prev', 'aria-keyshortcuts': ',', title: 'Previous frame (,)', onclick: () => goFrame(frame - 1) }, '◀');
  const nextBtn = btn({ 'data-testid': 'la-frame-next', 'aria-keyshortcuts': '.', title: 'Next frame (.): the selected track is carried over', onclick: () => goFrame(frame + 1, true) }, '▶');
  const frameGroup = h('div', { class: 'la-group', role: 'group', 'aria-label': 'Frames' }, prevBtn, frameLabel, nextBtn);
  const toolButtons = new Map();
  const undoBtn = btn({ 'data-testid': 'la-undo', title: 'Undo (Ctrl+Z)', disabled: true, onclick: () => undo() }, 'Undo');
  const redoBtn = btn({ 'data-testid': 'la-redo', title: 'Redo (Ctrl+Shift+Z)', disabled: true, onclick: () => redo() }, 'Redo');
  const toolbar = h('div', { class: 'la-toolbar', role: 'toolbar', 'aria-label': 'Point cloud tools' });
  if (!readOnly) {
    const tg = h('div', { class: 'la-group', role: 'group', 'aria-label': 'Tools' });
    for (const [id, name, key] of [['select', 'Select', 'v'], ['cuboid', 'Cuboid', 'b']]) {
      const b = btn({ 'data-testid': `la-tool-${id}`, 'aria-pressed': 'false', 'aria-keyshortcuts': key, title: `${name} (${key})`, onclick: () => setTool(id) }, name, h('kbd', {}, key));
      toolButtons.set(id, b);
      tg.append(b);
    }
    toolbar.append(tg);
  }
  toolbar.append(viewGroup, colorBtn, frameGroup);
  if (!readOnly) toolbar.append(h('div', { class: 'la-group', role: 'group', 'aria-label': 'History' }, undoBtn, redoBtn));
  const labelButtons = new Map();
  const labelBar = h('div', { class: 'la-labels', role: 'group', 'aria-label': 'Label for new cuboids' });
  if (!readOnly)
    labels.forEach((l, i) => {
      const b = btn({ 'data-label': l, 'aria-pressed': 'false', onclick: () => pickLabel(l) }, h('span', { class: `la-swatch la-bg-c${i % PALETTE.length}` }), i < 9 ? h('kbd', {}, String(i + 1)) : null, l);
      labelButtons.set(l, b);
      labelBar.append(b);
    });

  const glCanvas = h('canvas', { class: 'la-gl', 'data-testid': 'la-gl' });
  const overlay = h('canvas', { class: 'la-overlay' });
  const stageMsg = h('div', { class: 'la-stage-msg', 'data-testid': 'la-stage-msg', role: 'alert', hidden: true });
  const stage = h('div', { class: 'la-stage', 'data-testid': 'la-stage', 'data-state': 'loading', tabindex: '0', role: 'application', 'aria-roledescription': 'point cloud', 'aria-label': 'The point cloud and its cuboids' }, glCanvas, overlay, stageMsg);
  const inspector = h('section', { class: 'la-inspector', 'data-testid': 'la-inspector', 'aria-label': 'Selected cuboid' });
  const list = h('ul', { class: 'la-list', 'data-testid': 'la-list', 'aria-label': 'Cuboids in this frame' });
  const camPanel = h('div', { class: 'la-cameras', 'data-testid': 'la-cameras', hidden: !cameras.length });
  const side = h('div', { class: 'la-side' }, inspector, h('h4', {}, 'Cuboids'), list, camPanel);
  root.append(toolbar, labelBar);
  if (prediction)
    root.append(h('p', { class: 'note prediction-note', 'data-testid': 'prediction-note' }, `Pre-drawn from ${prediction.model ? `the model ${prediction.model}` : 'a model'}: ${cuboids.length} cuboid${cuboids.length === 1 ? '' : 's'}. Check and correct them before you submit.`));
  const problemsEl = h('p', { class: 'la-problems', 'data-testid': 'la-problems' });
  root.append(h('div', { class: 'la-main' }, stage, side), problemsEl);
  el.append(root);

  const camViews = cameras.map((c) => {
    const img = h('img', { src: c.url, alt: c.name, 'data-testid': 'la-camera-image' });
    const cv = h('canvas', { class: 'la-cam-overlay', 'data-testid': 'la-camera-overlay' });
    const box = h('figure', { class: 'la-camera' }, h('div', { class: 'la-cam-wrap' }, img, cv), h('figcaption', {}, c.name));
    camPanel.append(box);
    img.addEventListener('load', () => drawCameras());
    return { ...c, img, cv };
  });

  /* ---- WebGL ---- */
  const gl = glCanvas.getContext('webgl2', { antialias: false, preserveDrawingBuffer: true });
  let prog = null, loc = null, vao = null;
  if (gl) {
    const sh = (type, src) => {
      const s = gl.createShader(type);
      gl.shaderSource(s, src);
      gl.compileShader(s);
      return s;
    };
    prog = gl.createProgram();
    gl.attachShader(prog, sh(gl.VERTEX_SHADER, VS));
    gl.attachShader(prog, sh(gl.FRAGMENT_SHADER, FS));
    gl.bindAttribLocation(prog, 0, 'aPoint');
    gl.linkProgram(prog);
    loc = { mvp: gl.getUniformLocation(prog, 'uMVP'), mode: gl.getUniformLocation(prog, 'uMode'), range: gl.getUniformLocation(prog, 'uRange'), size: gl.getUniformLocation(prog, 'uSize'), ortho: gl.getUniformLocation(prog, 'uOrtho') };
    vao = gl.createVertexArray();
  } else {
    showMsg('This browser cannot show point clouds (no WebGL 2).');
    stage.dataset.state = 'failed';
  }

  function showMsg(text) {
    stageMsg.textContent = text;
    stageMsg.hidden = !text;
  }
  // A browser drops the oldest WebGL context when too many are open: say so
  // rather than leave a black view.
  glCanvas.addEventListener('webglcontextlost', () => {
    if (!alive) return;
    stage.dataset.state = 'failed';
    showMsg('The 3D view was dropped by the browser (too many open); reload the page to see it again. Your boxes are kept.');
  });

  /* ---- loading a frame's points ---- */
  /* The frame's entry once loaded: a frame being fetched (say by the
   * prefetch of the frame before) is waited for, not left loading; one that
   * failed is fetched again. */
  function load(f) {
    const old = clouds.get(f);
    if (old && old.state !== 'failed') return old.done;
    const entry = { state: 'loading', n: 0, bounds: null, data: null, buffer: null, ms: 0 };
    clouds.set(f, entry);
    entry.done = fetchCloud(f, entry);
    return entry.done;
  }

  async function fetchCloud(f, entry) {
    const url = frames[f];
    if (!url) {
      entry.state = 'failed';
      entry.error = 'This frame\'s point cloud is not a stored file.';
      return entry;
    }
    const t0 = performance.now();
    try {
      const r = await fetch(url, { credentials: 'same-origin' });
      if (!r.ok) {
        let m = `HTTP ${r.status}`;
        try {
          m = (await r.json()).error.message;
        } catch {
          /* not JSON */
        }
        throw new Error(m);
      }
      const buf = await r.arrayBuffer();
      entry.data = new Float32Array(buf);
      entry.n = Number(r.headers.get('x-points-count')) || entry.data.length / 4;
      const b = (r.headers.get('x-points-bounds') || '').split(',').map(Number);
      entry.bounds = b.length === 8 && b.every(Number.isFinite) ? { lo: b.slice(0, 4), hi: b.slice(4) } : { lo: [-10, -10, -2, 0], hi: [10, 10, 2, 1] };
      entry.intensity = r.headers.get('x-points-intensity') === '1';
      const { lo, hi } = entry.bounds;
      entry.range = [2, 3].map((c) => robustRange(entry.data, entry.n, c, lo[c], hi[c]));
      entry.total = Number(r.headers.get('x-points-total')) || entry.n;
      if (!alive) return entry;
      if (gl) {
        entry.buffer = gl.createBuffer();
        gl.bindBuffer(gl.ARRAY_BUFFER, entry.buffer);
        gl.bufferData(gl.ARRAY_BUFFER, entry.data, gl.STATIC_DRAW);
      }
      entry.state = 'ready';
    } catch (e) {
      entry.state = 'failed';
      entry.error = `The point cloud could not be loaded: ${e.message}`;
    }
    entry.ms = performance.now() - t0;
    return entry;
  }

  async function showFrame(f, fit) {
    stage.dataset.state = 'loading';
    const entry = await load(f);
    if (!alive || f !== frame) return;
    stage.dataset.state = entry.state;
    stage.dataset.points = String(entry.n);
    stage.dataset.loadMs = String(Math.round(entry.ms));
    if (!stage.dataset.readyMs) stage.dataset.readyMs = String(Math.round(performance.now() - mountedAt));
    showMsg(entry.state === 'failed' ? entry.error : '');
    if (fit && entry.bounds) {
      const { lo, hi } = entry.bounds;
      cam.target = [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2];
      cam.dist = Math.max(5, Math.hypot(hi[0] - lo[0], hi[1] - lo[1]) * 0.8);
    }
    // Prefetch the next frame while this one is looked at.
    if (f + 1 < frames.length) load(f + 1);
    redraw();
  }

  /* ---- camera ---- */
  function eye() {
    const ce = Math.cos(cam.el);
    return add(cam.target, scale([ce * Math.cos(cam.az), ce * Math.sin(cam.az), Math.sin(cam.el)], cam.dist));
  }
  function matrices() {
    const e = eye();
    const up = Math.abs(Math.sin(cam.el)) > 0.999 ? [-Math.cos(cam.az), -Math.sin(cam.az), 0] : [0, 0, 1];
    const view = lookAt(e, cam.target, up);
    const aspect = W / H;
    const far = cam.dist * 4 + 2000;
    let proj;
    if (cam.ortho) {
      const hh = cam.dist * Math.tan(FOV / 2);
      proj = ortho(hh * aspect, hh, -far, far);
    } else proj = perspective(FOV, aspect, Math.max(0.05, cam.dist / 1000), far);
    mvp = mul(proj, view);
    inv = invert(mvp);
  }
  /* World point -> [x, y] in stage pixels, or null behind the camera. */
  function toScreen(p) {
    const q = xform(mvp, p);
    if (q[3] <= 0 && !cam.ortho) return null;
    return [((q[0] + 1) / 2) * W, ((1 - q[1]) / 2) * H];
  }
  /* The ray under stage pixel (x, y): [origin, direction]. */
  function ray(x, y) {
    const nx = (x / W) * 2 - 1, ny = 1 - (y / H) * 2;
    const a = xform(inv, [nx, ny, -1]), b = xform(inv, [nx, ny, 1]);
    return [a.slice(0, 3), norm(sub(b.slice(0, 3), a.slice(0, 3)))];
  }
  /* Where the ray under (x, y) meets the plane through p0 with normal n. */
  function onPlane(x, y, p0, n) {
    const [o, d] = ray(x, y);
    const den = dot(d, n);
    if (Math.abs(den) < 1e-9) return null;
    const t = dot(sub(p0, o), n) / den;
    return add(o, scale(d, t));
  }
  function forward() {
    return norm(sub(cam.target, eye()));
  }

  /* ---- drawing ---- */
  function redraw() {
    if (!raf && alive) raf = requestAnimationFrame(render);
  }
  function resize() {
    const r = stage.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    W = Math.max(1, r.width);
    H = Math.max(1, r.height);
    // (A canvas given its size again is cleared and reallocated: only on a change.)
    for (const c of [glCanvas, overlay]) {
      const w = Math.round(W * dpr), hh = Math.round(H * dpr);
      if (c.width !== w) c.width = w;
      if (c.height !== hh) c.height = hh;
    }
  }
  let movingPoints = MOVING_POINTS;
  const onePixel = new Uint8Array(4);
  function drawPoints(moving = false) {
    if (!gl) return;
    gl.viewport(0, 0, glCanvas.width, glCanvas.height);
    gl.clearColor(0.09, 0.1, 0.12, 1);
    gl.enable(gl.DEPTH_TEST); // the nearer point wins, whatever the file's order
    gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
    const entry = clouds.get(frame);
    if (!entry || entry.state !== 'ready' || !entry.n) return;
    gl.useProgram(prog);
    gl.bindVertexArray(vao);
    gl.bindBuffer(gl.ARRAY_BUFFER, entry.buffer);
    gl.enableVertexAttribArray(0);
    const t0 = moving ? performance.now() : 0;
    const k = moving && entry.n > movingPoints ? Math.ceil(entry.n / movingPoints) : 1;
    gl.vertexAttribPointer(0, 4, gl.FLOAT, false, 16 * k, 0);
    gl.uniformMatrix4fv(loc.mvp, false, Float32Array.from(mvp));
    gl.uniform1i(loc.mode, colorMode);
    gl.uniform2f(loc.range, ...entry.range[colorMode]);
    // Pixels a metre covers: at the target's distance in an orthographic
    // view, at distance 1 (divided by the depth in the shader) in 3D.
    const dpr = window.devicePixelRatio || 1, hh = Math.tan(FOV / 2) * (cam.ortho ? cam.dist : 1);
    gl.uniform3f(loc.size, dpr * (entry.n > 300000 ? 1.5 : 2.5), dpr * 6, (glCanvas.height / 2) / hh);
    gl.uniform1i(loc.ortho, cam.ortho ? 1 : 0);
    gl.drawArrays(gl.POINTS, 0, Math.floor(entry.n / k));
    stage.dataset.drawn = String(Math.floor(entry.n / k));
    if (moving) {
      gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, onePixel);
      adaptBudget(performance.now() - t0, Math.floor(entry.n / k));
    }
  }
  /* Scales the moving budget by how long drawing `drawn` points took. */
  function adaptBudget(ms, drawn) {
    if (!(ms > 0)) return;
    const want = (drawn * MOVING_FRAME_MS) / ms;
    // move part way (frames are noisy), never more than 4x at once
    const next = movingPoints * Math.min(4, Math.max(0.25, Math.sqrt(want / movingPoints)));
    movingPoints = Math.round(Math.min(MAX_POINTS, Math.max(MIN_MOVING_POINTS, next)));
    stage.dataset.budget = String(movingPoints);
  }
  function colorOf(c) {
    const i = labels.indexOf(c.label);
    return i < 0 ? '#aaa' : PALETTE[i % PALETTE.length];
  }
  function drawOverlay() {
    const ctx = overlay.getContext('2d');
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    for (const c of cuboids) {
      if (c.frame !== frame) continue;
      const s = corners(c).map(toScreen);
      if (s.some((p) => !p)) continue;
      const sel = c === selected;
      ctx.strokeStyle = colorOf(c);
      ctx.lineWidth = sel ? 2.5 : 1.5;
      ctx.beginPath();
      for (const [a, b] of EDGES) {
        ctx.moveTo(s[a][0], s[a][1]);
        ctx.lineTo(s[b][0], s[b][1]);
      }
      ctx.stroke();
      // The heading: a cross on the front face and a line from the centre.
      const front = toScreen(frontCentre(c)), centre = toScreen([c.x, c.y, c.z]);
      if (front && centre) {
        ctx.beginPath();
        ctx.moveTo(s[0][0], s[0][1]);
        ctx.lineTo(s[7][0], s[7][1]);
        ctx.moveTo(s[3][0], s[3][1]);
        ctx.lineTo(s[4][0], s[4][1]);
        ctx.moveTo(centre[0], centre[1]);
        ctx.lineTo(front[0], front[1]);
        ctx.stroke();
      }
      if (centre) {
        ctx.fillStyle = colorOf(c);
        ctx.font = '12px sans-serif';
        ctx.fillText(`${c.label} #${c.track}`, Math.min(...s.map((p) => p[0])), Math.min(...s.map((p) => p[1])) - 4);
      }
      if (sel && !readOnly) for (const hd of handles(c)) drawHandle(ctx, hd);
    }
    if (drag?.mode === 'create' && drag.moved) {
      const pts = rectCorners(drag.p0, drag.p1, drag.z).map(toScreen);
      if (pts.every(Boolean)) {
        ctx.strokeStyle = '#fff';
        ctx.setLineDash([4, 3]);
        ctx.beginPath();
        pts.forEach((p, i) => (i ? ctx.lineTo(p[0], p[1]) : ctx.moveTo(p[0], p[1])));
        ctx.closePath();
        ctx.stroke();
        ctx.setLineDash([]);
      }
    }
  }
  function drawHandle(ctx, hd) {
    const p = toScreen(hd.at);
    if (!p) return;
    ctx.fillStyle = hd.kind === 'rotate' ? '#ffd400' : '#fff';
    ctx.strokeStyle = '#000';
    ctx.lineWidth = 1;
    ctx.beginPath();
    if (hd.kind === 'rotate') ctx.arc(p[0], p[1], HANDLE_PX * 0.8, 0, 2 * Math.PI);
    else ctx.rect(p[0] - HANDLE_PX / 2, p[1] - HANDLE_PX / 2, HANDLE_PX, HANDLE_PX);
    ctx.fill();
    ctx.stroke();
  }
  function render() {
    raf = 0;
    stage.dataset.renders = String(Number(stage.dataset.renders || 0) + 1);
    if (!alive) return;
    resize();
    matrices();
    const moving = !!(drag && (drag.mode === 'orbit' || drag.mode === 'pan') && drag.moved) || performance.now() - wheelAt < REST_MS;
    drawPoints(moving);
    drawOverlay();
    drawCameras();
    if (moving && !drag) setTimeout(redraw, REST_MS); // the full cloud once the wheel rests
    stage.dataset.view = viewName;
    stage.dataset.frame = String(frame);
  }

  /* ---- the cuboids' geometry ---- */
  function axes(c) {
    const co = Math.cos(c.yaw), si = Math.sin(c.yaw);
    return { fwd: [co, si, 0], left: [-si, co, 0], up: [0, 0, 1] };
  }
  function frontCentre(c) {
    const { fwd } = axes(c);
    return add([c.x, c.y, c.z], scale(fwd, c.length / 2));
  }
  /* The resize handles on the faces that do not face the camera head on,
   * and the rotation handle ahead of the front face. */
  function handles(c) {
    const { fwd, left, up } = axes(c);
    const ctr = [c.x, c.y, c.z];
    const f = forward();
    const out = [];
    for (const [axis, size, key] of [[fwd, c.length, 'length'], [left, c.width, 'width'], [up, c.height, 'height']])
      for (const sgn of [1, -1]) {
        if (Math.abs(dot(axis, f)) > 0.9) continue;
        out.push({ kind: 'resize', key, axis: scale(axis, sgn), at: add(ctr, scale(axis, (sgn * size) / 2)) });
      }
    if (Math.abs(f[2]) > 0.3) out.push({ kind: 'rotate', at: add(ctr, scale(fwd, c.length / 2 + Math.max(0.8, c.length * 0.25))) });
    return out;
  }
  function rectCorners(p0, p1, z) {
    return [[p0[0], p0[1], z], [p1[0], p0[1], z], [p1[0], p1[1], z], [p0[0], p1[1], z]];
  }
  function hitCuboid(x, y) {
    let best = null, bestD = Infinity;
    for (const c of cuboids) {
      if (c.frame !== frame) continue;
      const s = corners(c).map(toScreen);
      if (s.some((p) => !p)) continue;
      if (!inside(hull(s), x, y)) continue;
      const ctr = toScreen([c.x, c.y, c.z]);
      const d = Math.hypot(ctr[0] - x, ctr[1] - y);
      if (d < bestD) {
        bestD = d;
        best = c;
      }
    }
    return best;
  }
  function hitHandle(x, y) {
    if (!selected || readOnly || selected.frame !== frame) return null;
    for (const hd of handles(selected)) {
      const p = toScreen(hd.at);
      if (p && Math.hypot(p[0] - x, p[1] - y) <= HANDLE_PX + 2) return hd;
    }
    return null;
  }

  /* ---- changes ---- */
  const snapshot = () => cuboids.map((c) => ({ ...c, attributes: c.attributes ? { ...c.attributes } : undefined }));
  function remember() {
    history.push({ cuboids: snapshot(), sel: selected ? cuboids.indexOf(selected) : -1 });
    if (history.length > HISTORY_MAX) history.shift();
    future.length = 0;
    updateHistory();
  }
  function restore(s) {
    cuboids = s.cuboids.map((c) => ({ ...c }));
    for (const c of cuboids) if (!c.attributes) delete c.attributes;
    selected = s.sel >= 0 ? cuboids[s.sel] : null;
    // Only a box of the frame on screen stays selected: keys act on it.
    if (selected && selected.frame !== frame) selected = null;
    changed();
  }
  function undo() {
    if (!history.length || readOnly) return false;
    future.push({ cuboids: snapshot(), sel: selected ? cuboids.indexOf(selected) : -1 });
    restore(history.pop());
    return true;
  }
  function redo() {
    if (!future.length || readOnly) return false;
    history.push({ cuboids: snapshot(), sel: selected ? cuboids.indexOf(selected) : -1 });
    restore(future.pop());
    return true;
  }
  function updateHistory() {
    undoBtn.disabled = !history.length;
    redoBtn.disabled = !future.length;
  }
  function changed() {
    updateHistory();
    renderInspector();
    renderList();
    renderProblems();
    redraw();
    if (!readOnly && onChange) onChange(current());
  }
  /* What keeps the answer from being submitted: each cuboid's label and
   * attributes as the server checks them. */
  function problems() {
    const out = [];
    for (const c of cuboids) {
      const at = `#${c.track} frame ${c.frame + 1}: `;
      if (!labels.includes(c.label)) out.push(`${at}"${c.label}" is not one of the labels.`);
      out.push(...attributeProblems(attrs, c.attributes, at));
    }
    return out;
  }
  function renderProblems() {
    const p = readOnly ? [] : problems();
    problemsEl.textContent = problemsLine(p);
  }
  function nextTrack() {
    return cuboids.reduce((m, c) => Math.max(m, c.track), 0) + 1;
  }

  /* z range of the points inside the ground rectangle (x0..x1, y0..y1). */
  function zRange(x0, x1, y0, y1) {
    const entry = clouds.get(frame);
    if (!entry?.data) return null;
    const d = entry.data;
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < entry.n * 4; i += 4) {
      const x = d[i], y = d[i + 1];
      if (x < x0 || x > x1 || y < y0 || y > y1) continue;
      const z = d[i + 2];
      if (z < lo) lo = z;
      if (z > hi) hi = z;
    }
    return lo <= hi ? [lo, hi] : null;
  }

  function createFromRect(p0, p1) {
    const x0 = Math.min(p0[0], p1[0]), x1 = Math.max(p0[0], p1[0]), y0 = Math.min(p0[1], p1[1]), y1 = Math.max(p0[1], p1[1]);
    if (x1 - x0 < 0.05 || y1 - y0 < 0.05) return;
    const zr = zRange(x0, x1, y0, y1);
    const zlo = zr ? zr[0] : cam.target[2] - 0.75, zhi = zr && zr[1] - zr[0] > 0.1 ? zr[1] : zlo + 1.5;
    // Along the longer side: the heading follows the rectangle's longer side.
    const alongX = x1 - x0 >= y1 - y0;
    remember();
    const c = {
      track: nextTrack(),
      frame,
      label: currentLabel,
      x: r3((x0 + x1) / 2),
      y: r3((y0 + y1) / 2),
      z: r3((zlo + zhi) / 2),
      length: r3(alongX ? x1 - x0 : y1 - y0),
      width: r3(alongX ? y1 - y0 : x1 - x0),
      height: r3(zhi - zlo),
      yaw: alongX ? 0 : r3(Math.PI / 2),
    };
    defaultAttributes(c);
    cuboids.push(c);
    selected = c;
    changed();
  }
  /* A new cuboid's required yes/no attributes start at no (a checkbox has no
   * "not set"); the others are left for the annotator to set, which the
   * problems under the view ask for. */
  function defaultAttributes(c) {
    for (const a of attrs)
      if (a.required && a.type === 'boolean') {
        c.attributes = c.attributes || {};
        c.attributes[a.name] = false;
      }
  }
  function deleteSelected() {
    if (!selected || readOnly) return false;
    remember();
    cuboids = cuboids.filter((c) => c !== selected);
    selected = null;
    changed();
    return true;
  }
  function nudge(dv) {
    if (!selected || readOnly) return false;
    remember();
    selected.x = r3(selected.x + dv[0]);
    selected.y = r3(selected.y + dv[1]);
    selected.z = r3(selected.z + dv[2]);
    changed();
    return true;
  }
  function turn(d) {
    if (!selected || readOnly) return false;
    remember();
    selected.yaw = Math.round(wrap(selected.yaw + d) * 1e4) / 1e4;
    changed();
    return true;
  }
  function pickLabel(l) {
    currentLabel = l;
    for (const [n, b] of labelButtons) b.setAttribute('aria-pressed', n === l ? 'true' : 'false');
    if (selected && selected.label !== l && !readOnly) {
      remember();
      selected.label = l;
      changed();
    }
  }

  /* ---- views, tools, frames ---- */
  function setView(id) {
    const v = VIEWS[id];
    if (!v) return;
    viewName = id;
    cam.az = v.az;
    cam.el = v.el;
    cam.ortho = v.ortho;
    if (selected && selected.frame === frame) cam.target = [selected.x, selected.y, selected.z];
    for (const [n, b] of viewButtons) b.setAttribute('aria-pressed', n === id ? 'true' : 'false');
    redraw();
  }
  function setTool(id) {
    if (readOnly) return;
    tool = id;
    for (const [n, b] of toolButtons) b.setAttribute('aria-pressed', n === id ? 'true' : 'false');
    stage.dataset.tool = id;
    if (id === 'cuboid' && viewName !== 'top') setView('top');
  }
  function toggleColor() {
    colorMode = 1 - colorMode;
    colorBtn.textContent = `Colour: ${colorMode ? 'intensity' : 'height'}`;
    stage.dataset.color = colorMode ? 'intensity' : 'height';
    redraw();
  }
  function goFrame(f, carry = false) {
    if (f < 0 || f >= nFrames || f === frame) return;
    // The selected track goes on into the next frame where it has no box.
    if (carry && selected && !readOnly && f === frame + 1 && !cuboids.some((c) => c.track === selected.track && c.frame === f)) {
      remember();
      const c = { ...selected, frame: f, attributes: selected.attributes ? { ...selected.attributes } : undefined };
      if (!c.attributes) delete c.attributes;
      cuboids.push(c);
      selected = c;
      frame = f;
      changed();
    } else {
      const track = selected?.track;
      frame = f;
      selected = cuboids.find((c) => c.frame === f && c.track === track) || null;
      renderInspector();
      renderList();
    }
    frameLabel.textContent = `Frame ${frame + 1} / ${nFrames}`;
    prevBtn.disabled = frame === 0;
    nextBtn.disabled = frame >= nFrames - 1;
    showFrame(frame, false);
  }

  /* ---- the inspector and the list ---- */
  function field(label, testid, input) {
    return h('label', { class: 'la-field' }, h('span', {}, label), input);
  }
  function renderInspector() {
    commitEdits(inspector); // a field being typed in keeps what was typed
    inspector.replaceChildren();
    const c = selected;
    if (!c) {
      inspector.append(h('p', { class: 'note' }, readOnly ? 'Select a cuboid to see it.' : 'No cuboid selected. Choose Cuboid (b) and drag a rectangle in the top view to draw one.'));
      return;
    }
    inspector.append(h('h4', { 'data-testid': 'la-selected' }, `Track ${c.track} · frame ${c.frame + 1}`));
    const labelSel = h('select', { 'data-testid': 'la-label', disabled: readOnly, onchange: (e) => pickLabel(e.target.value) }, ...labels.map((l) => h('option', { value: l, selected: l === c.label }, l)));
    inspector.append(field('Label', 'la-label', labelSel));
    const grid = h('div', { class: 'la-grid' });
    for (const [key, name, step, toUi, fromUi] of [
      ['x', 'x (m)', 0.1],
      ['y', 'y (m)', 0.1],
      ['z', 'z (m)', 0.1],
      ['length', 'length', 0.1],
      ['width', 'width', 0.1],
      ['height', 'height', 0.1],
      ['yaw', 'yaw (°)', 1, (v) => Math.round((v * 180 * 10) / Math.PI) / 10, (v) => Math.round(wrap((v * Math.PI) / 180) * 1e4) / 1e4],
    ]) {
      const shown = toUi ? toUi(c[key]) : c[key];
      const input = h('input', {
        type: 'number',
        step: String(step),
        value: String(shown),
        'data-testid': `la-field-${key}`,
        disabled: readOnly,
        onchange: (e) => {
          const v = Number(e.target.value);
          if (!Number.isFinite(v) || (['length', 'width', 'height'].includes(key) && !(v > 0))) {
            e.target.value = String(shown);
            return;
          }
          remember();
          c[key] = fromUi ? fromUi(v) : r3(v);
          changed();
        },
      });
      grid.append(field(name, `la-field-${key}`, input));
    }
    inspector.append(grid);
    for (const a of attrs) {
      const cur = c.attributes?.[a.name];
      const set = (v) => {
        remember();
        c.attributes = c.attributes || {};
        if (v === undefined) delete c.attributes[a.name];
        else c.attributes[a.name] = v;
        if (!Object.keys(c.attributes).length) delete c.attributes;
        changed();
      };
      let input;
      if (a.type === 'boolean') input = h('input', { type: 'checkbox', checked: cur === true, disabled: readOnly, 'data-testid': `la-attr-${a.name}`, onchange: (e) => set(e.target.checked) });
      else if (a.type === 'category')
        input = h('select', { disabled: readOnly, 'data-testid': `la-attr-${a.name}`, onchange: (e) => set(e.target.value || undefined) }, h('option', { value: '' }, '—'), ...a.choices.map((ch) => h('option', { value: ch.name, selected: ch.name === cur }, ch.name)));
      else if (a.type === 'number') input = h('input', { type: 'number', value: isNum(cur) ? String(cur) : '', min: a.min ?? undefined, max: a.max ?? undefined, disabled: readOnly, 'data-testid': `la-attr-${a.name}`, onchange: (e) => set(e.target.value === '' ? undefined : Number(e.target.value)) });
      else input = h('input', { type: 'text', value: typeof cur === 'string' ? cur : '', disabled: readOnly, 'data-testid': `la-attr-${a.name}`, onchange: (e) => set(e.target.value === '' ? undefined : e.target.value) });
      inspector.append(field(a.required ? `${a.name} *` : a.name, `la-attr-${a.name}`, input));
    }
    if (!readOnly) inspector.append(btn({ 'data-testid': 'la-delete', class: 'la-btn la-danger', onclick: () => deleteSelected() }, 'Delete cuboid'));
  }
  function renderList() {
    list.replaceChildren();
    const here = cuboids.filter((c) => c.frame === frame).sort((a, b) => a.track - b.track);
    if (!here.length) list.append(h('li', { class: 'note' }, 'No cuboids in this frame.'));
    for (const c of here)
      list.append(
        h(
          'li',
          { 'data-testid': 'la-row', 'data-track': String(c.track), class: c === selected ? 'la-row la-row-selected' : 'la-row', onclick: () => select(c) },
          h('span', { class: `la-swatch la-bg-c${labels.includes(c.label) ? labels.indexOf(c.label) % PALETTE.length : 'x'}` }),
          `#${c.track} ${c.label}`,
        ),
      );
    stage.dataset.cuboids = String(here.length);
  }
  function select(c) {
    selected = c;
    renderInspector();
    renderList();
    redraw();
  }

  /* ---- the camera images ---- */
  function drawCameras() {
    for (const v of camViews) {
      const { img, cv, K, E } = v;
      if (!img.naturalWidth) continue;
      const w = img.clientWidth, hgt = img.clientHeight;
      cv.width = w;
      cv.height = hgt;
      const ctx = cv.getContext('2d');
      ctx.clearRect(0, 0, w, hgt);
      const sx = w / img.naturalWidth, sy = hgt / img.naturalHeight;
      const proj = (p) => {
        const q = [0, 1, 2].map((r) => E[r][0] * p[0] + E[r][1] * p[1] + E[r][2] * p[2] + E[r][3]);
        if (!(q[2] > 0.1)) return null;
        return [((K[0][0] * q[0] + K[0][1] * q[1] + K[0][2] * q[2]) / q[2]) * sx, ((K[1][0] * q[0] + K[1][1] * q[1] + K[1][2] * q[2]) / q[2]) * sy];
      };
      for (const c of cuboids) {
        if (c.frame !== frame) continue;
        const s = corners(c).map(proj);
        if (s.some((p) => !p)) continue;
        ctx.strokeStyle = colorOf(c);
        ctx.lineWidth = c === selected ? 2.5 : 1.5;
        ctx.beginPath();
        for (const [a, b] of EDGES) {
          ctx.moveTo(s[a][0], s[a][1]);
          ctx.lineTo(s[b][0], s[b][1]);
        }
        ctx.stroke();
      }
    }
  }

  /* ---- the pointer ---- */
  function local(ev) {
    const r = stage.getBoundingClientRect();
    return [ev.clientX - r.left, ev.clientY - r.top];
  }
  function onDown(ev) {
    if (!alive || stage.dataset.state !== 'ready') return;
    stage.focus({ preventScroll: true });
    const [x, y] = local(ev);
    const pan = ev.button === 2 || ev.shiftKey || ev.button === 1;
    let mode = pan ? 'pan' : 'orbit';
    let target = null;
    if (!pan && !readOnly) {
      const hd = hitHandle(x, y);
      if (hd) {
        mode = hd.kind;
        target = hd;
      } else if (tool === 'cuboid') mode = 'create';
      else {
        const c = hitCuboid(x, y);
        if (c) {
          mode = 'move';
          if (c !== selected) select(c);
        }
      }
    } else if (!pan && readOnly) {
      const c = hitCuboid(x, y);
      if (c) select(c);
    }
    const c = selected;
    drag = { mode, x0: x, y0: y, moved: false, handle: target, cam: { ...cam, target: cam.target.slice() }, start: c ? { ...c } : null };
    if (mode === 'create') {
      drag.z = cam.target[2];
      drag.p0 = onPlane(x, y, [0, 0, drag.z], [0, 0, 1]);
      drag.p1 = drag.p0;
    }
    if (mode === 'move' || mode === 'resize') {
      drag.n = scale(forward(), -1);
      drag.a0 = onPlane(x, y, mode === 'move' ? [c.x, c.y, c.z] : target.at, drag.n);
    }
    if (mode === 'rotate') drag.a0 = onPlane(x, y, [c.x, c.y, c.z], [0, 0, 1]);
    stage.setPointerCapture?.(ev.pointerId);
    ev.preventDefault();
  }
  function onMove(ev) {
    if (!drag) return;
    const [x, y] = local(ev);
    if (!drag.moved && Math.hypot(x - drag.x0, y - drag.y0) < DRAG_THRESHOLD) return;
    if (!drag.moved && ['move', 'resize', 'rotate'].includes(drag.mode)) remember();
    drag.moved = true;
    const dx = x - drag.x0, dy = y - drag.y0;
    const c = selected;
    if (drag.mode === 'orbit') {
      cam.az = drag.cam.az - dx * 0.006;
      if (viewName !== 'top') {
        cam.el = Math.max(-0.2, Math.min(Math.PI / 2, drag.cam.el + dy * 0.006));
        if (viewName !== 'perspective') {
          viewName = 'perspective';
          cam.ortho = false;
          for (const [n, b] of viewButtons) b.setAttribute('aria-pressed', n === 'perspective' ? 'true' : 'false');
        }
      }
    } else if (drag.mode === 'pan') {
      const hh = drag.cam.dist * Math.tan(FOV / 2);
      const k = (2 * hh) / H;
      const f = forward();
      const right = norm(cross(f, Math.abs(f[2]) > 0.999 ? [-Math.cos(cam.az), -Math.sin(cam.az), 0] : [0, 0, 1]));
      const up = cross(right, f);
      cam.target = add(drag.cam.target, add(scale(right, -dx * k), scale(up, dy * k)));
    } else if (drag.mode === 'create') {
      drag.p1 = onPlane(x, y, [0, 0, drag.z], [0, 0, 1]) || drag.p1;
    } else if (drag.mode === 'move' && drag.a0) {
      const p = onPlane(x, y, [drag.start.x, drag.start.y, drag.start.z], drag.n);
      if (p) {
        const d = sub(p, drag.a0);
        c.x = r3(drag.start.x + d[0]);
        c.y = r3(drag.start.y + d[1]);
        c.z = r3(drag.start.z + d[2]);
      }
    } else if (drag.mode === 'resize' && drag.a0) {
      const p = onPlane(x, y, drag.handle.at, drag.n);
      if (p) {
        const axis = drag.handle.axis, key = drag.handle.key;
        const d = dot(sub(p, drag.a0), axis);
        const size = Math.max(0.05, drag.start[key] + d);
        const shift = (size - drag.start[key]) / 2;
        c[key] = r3(size);
        c.x = r3(drag.start.x + axis[0] * shift);
        c.y = r3(drag.start.y + axis[1] * shift);
        c.z = r3(drag.start.z + axis[2] * shift);
      }
    } else if (drag.mode === 'rotate') {
      const p = onPlane(x, y, [drag.start.x, drag.start.y, drag.start.z], [0, 0, 1]);
      if (p) c.yaw = Math.round(wrap(Math.atan2(p[1] - drag.start.y, p[0] - drag.start.x)) * 1e4) / 1e4;
    }
    if (['move', 'resize', 'rotate'].includes(drag.mode)) renderInspector();
    redraw();
  }
  function onUp(ev) {
    if (!drag) return;
    const d = drag;
    drag = null;
    stage.releasePointerCapture?.(ev.pointerId);
    if (d.mode === 'create' && d.moved && d.p0 && d.p1) createFromRect(d.p0, d.p1);
    else if (['move', 'resize', 'rotate'].includes(d.mode) && d.moved) changed();
    else if (!d.moved && (d.mode === 'orbit' || d.mode === 'create')) {
      const [x, y] = local(ev);
      const c = hitCuboid(x, y);
      if (c !== selected) select(c);
    }
    redraw();
  }
  let wheelAt = -Infinity;
  function onWheel(ev) {
    ev.preventDefault();
    wheelAt = performance.now();
    cam.dist = Math.max(0.5, Math.min(5000, cam.dist * Math.exp(ev.deltaY * 0.0015)));
    redraw();
  }
  stage.addEventListener('pointerdown', onDown);
  stage.addEventListener('pointermove', onMove);
  stage.addEventListener('pointerup', onUp);
  stage.addEventListener('pointercancel', onUp);
  stage.addEventListener('wheel', onWheel, { passive: false });
  stage.addEventListener('contextmenu', (ev) => ev.preventDefault());

  /* ---- keys ---- */
  function keys(ev) {
    if (!alive || ev.ctrlKey || ev.metaKey || ev.altKey) return false;
    const k = ev.key;
    for (const [id, v] of Object.entries(VIEWS))
      if (k === v.key) {
        setView(id);
        return true;
      }
    if (k === 'c') return toggleColor() || true;
    if (k === ',') return goFrame(frame - 1) || true;
    if (k === '.') return goFrame(frame + 1, true) || true;
    if (k === 'n') {
      const here = cuboids.filter((c) => c.frame === frame).sort((a, b) => a.track - b.track);
      if (!here.length) return false;
      select(here[(here.indexOf(selected) + 1) % here.length]);
      return true;
    }
    if (readOnly) return false;
    if (k === 'v') return setTool('select') || true;
    if (k === 'b') return setTool('cuboid') || true;
    if (/^[1-9]$/.test(k) && labels[Number(k) - 1]) return pickLabel(labels[Number(k) - 1]) || true;
    if (k === 'Delete' || k === 'Backspace') return deleteSelected();
    if (k === 'Escape' && selected) return select(null) || true;
    const step = ev.shiftKey ? 1 : 0.1;
    if (k.startsWith('Arrow') && selected) {
      // Arrows move in the screen's directions as seen from above.
      const f = forward();
      const fw = norm(Math.hypot(f[0], f[1]) > 1e-3 ? [f[0], f[1], 0] : [-Math.cos(cam.az), -Math.sin(cam.az), 0]);
      const right = [fw[1], -fw[0], 0];
      const dir = k === 'ArrowUp' ? fw : k === 'ArrowDown' ? scale(fw, -1) : k === 'ArrowRight' ? right : scale(right, -1);
      return nudge(scale(dir, step));
    }
    if (k === 'PageUp' || k === 'PageDown') return nudge([0, 0, k === 'PageUp' ? step : -step]);
    if (k === 'q' || k === 'Q') return turn((ev.shiftKey ? 10 : 1) * (Math.PI / 180));
    if (k === 'e' || k === 'E') return turn(-(ev.shiftKey ? 10 : 1) * (Math.PI / 180));
    return false;
  }
  function onDocKey(ev) {
    if (!alive || readOnly || ev.defaultPrevented || isTyping(ev.target)) return;
    if (!(ev.ctrlKey || ev.metaKey)) return;
    const k = ev.key.toLowerCase();
    if (k === 'z' && !ev.shiftKey) {
      if (undo()) ev.preventDefault();
    } else if ((k === 'z' && ev.shiftKey) || k === 'y') {
      if (redo()) ev.preventDefault();
    }
  }
  if (!readOnly) document.addEventListener('keydown', onDocKey);

  const ro = new ResizeObserver(() => redraw());
  ro.observe(stage);

  function current() {
    const out = cuboids
      .slice()
      .sort((a, b) => a.frame - b.frame || a.track - b.track)
      .map((c) => {
        const o = { track: c.track, frame: c.frame, label: c.label, x: r3(c.x), y: r3(c.y), z: r3(c.z), length: r3(c.length), width: r3(c.width), height: r3(c.height), yaw: Math.round(c.yaw * 1e4) / 1e4 };
        if (c.attributes && Object.keys(c.attributes).length) o.attributes = { ...c.attributes };
        return o;
      });
    return { cuboids: out };
  }

  /* A test hook on the stage: project a world point to client pixels,
   * and time n redraws of the points (each finished with gl.finish). */
  stage.lidar = {
    toClient(p) {
      matrices();
      const s = toScreen(p);
      const r = stage.getBoundingClientRect();
      return s ? [r.left + s[0], r.top + s[1]] : null;
    },
    bench(n = 30, moving = false) {
      const px = new Uint8Array(4);
      resize();
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        cam.az += 0.01;
        matrices();
        drawPoints(moving);
        drawOverlay();
        // (readPixels waits for the GPU, which finish() need not)
        if (gl) gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, px);
      }
      return (performance.now() - t0) / n;
    },
    camera: () => ({ ...cam }),
    /* The points as drawn now: the share of the stage's pixels they cover
     * and the mean brightness (Rec. 709 luma, 0-255) of the whole picture,
     * so that a test tells a dim or sparse cloud from a visible one. */
    picture() {
      if (!gl) return null;
      resize();
      matrices();
      drawPoints();
      const w = glCanvas.width, hh = glCanvas.height, px = new Uint8Array(4 * w * hh);
      gl.readPixels(0, 0, w, hh, gl.RGBA, gl.UNSIGNED_BYTE, px);
      let covered = 0, luma = 0;
      for (let i = 0; i < px.length; i += 4) {
        luma += 0.2126 * px[i] + 0.7152 * px[i + 1] + 0.0722 * px[i + 2];
        if (Math.abs(px[i] - 23) + Math.abs(px[i + 1] - 26) + Math.abs(px[i + 2] - 31) > 12) covered++;
      }
      return { covered: covered / (w * hh), luma: luma / (w * hh) };
    },
  };

  /* ---- start ---- */
  frameLabel.textContent = `Frame 1 / ${nFrames}`;
  prevBtn.disabled = true;
  nextBtn.disabled = nFrames <= 1;
  setView('perspective');
  if (!readOnly) {
    setTool(cuboids.length ? 'select' : 'select');
    pickLabel(currentLabel);
  }
  stage.dataset.color = 'height';
  renderInspector();
  renderList();
  renderProblems();
  if (!frames.length) {
    stage.dataset.state = 'failed';
    showMsg('This task has no point cloud.');
  } else showFrame(0, true);

  return {
    value: current,
    valid() {
      return labels.length > 0 && problems().length === 0;
    },
    keys,
    unmount() {
      if (!alive) return;
      alive = false;
      if (raf) cancelAnimationFrame(raf);
      ro.disconnect();
      if (!readOnly) document.removeEventListener('keydown', onDocKey);
      if (gl) {
        for (const e of clouds.values()) if (e.buffer) gl.deleteBuffer(e.buffer);
        // Give the context back now: a browser keeps only about 16, and the
        // review page mounts an editor per answer.
        if (prog) gl.deleteProgram(prog);
        if (vao) gl.deleteVertexArray(vao);
        gl.getExtension('WEBGL_lose_context')?.loseContext();
      }
      clouds.clear();
    },
  };
}

export default lidarannotationEditor;
