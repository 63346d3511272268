// editor-segmentation.js -- the answer editor for `segmentation` projects
// (docs/KINDS.md): pixel masks painted over the task's image, one layer
// per label.
//
// The answer lives in one label map, a byte per image pixel (0 background,
// i + 1 the project's label i): layers cannot overlap, as the server
// requires, because painting a label over another replaces it.  The map is
// drawn into an offscreen canvas of the image's size (one colour per label,
// only the changed rectangle redrawn), and the visible canvas draws the
// image and that overlay, at the overlay's opacity, under one transform
// (zoom and pan) per frame.  The response is made from the map only when
// asked for: one column-major pass gives every label's COCO counts, and
// rle.js writes them as the compressed string the server writes.
//
// Tools: brush and eraser (a disc of the brush size, stamped along the
// pointer's path), polygon (click corners; Enter, a double-click or a click
// on the first corner fills it), fill (the 4-connected region of the
// clicked pixel's label, or of unlabelled pixels, takes the current label).
// A hidden layer is also locked: no tool changes its pixels.
//
// Undo and redo keep, per change, the rectangle it touched before and
// after, not copies of the whole map.
//
// The interface every editor follows is in editors.js.

import { h, isTyping, plural, namedList } from './dom.js';
import { attachmentUrl, bestPrediction } from './task.js';
import { encodeCounts, labelMapCounts, paintCounts, rleCounts } from './rle.js';

export const PALETTE = ['#e6194b', '#1f9e45', '#2f6fe4', '#f58231', '#9b2fc4', '#0fa3b1', '#e034c8', '#a0701c', '#7f8f00', '#3b3fb6', '#d9a400', '#c2185b'];
const TOOLS = [
  { id: 'brush', key: 'b', name: 'Brush', hint: 'Drag to paint the current label. [ and ] change the brush size.' },
  { id: 'eraser', key: 'e', name: 'Eraser', hint: 'Drag to erase any label back to background.' },
  { id: 'polygon', key: 'p', name: 'Polygon', hint: 'Click corners; Enter, a double-click or a click on the first corner fills the polygon with the current label. Backspace removes the last corner, Esc cancels.' },
  { id: 'fill', key: 'f', name: 'Fill', hint: 'Click a region: its connected pixels of the same label (or unlabelled) take the current label.' },
];
const HISTORY_MAX = 200;
const MAX_ZOOM = 32;
const ZOOM_STEP = 1.25;
const MAX_BRUSH = 200;
const CLOSE_PX = 8; // screen px from the first corner that closes a polygon

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

function rgbOf(hex) {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  return m ? [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)] : [128, 128, 128];
}

function taskSize(task) {
  const d = task?.data;
  if (!d || typeof d !== 'object') return null;
  if (Number.isInteger(d.width) && Number.isInteger(d.height) && d.width > 0 && d.height > 0) return { w: d.width, h: d.height };
  return null;
}

/* The size of the first mask of list that has a sane one, or null. */
function maskSize(list) {
  for (const m of Array.isArray(list) ? list : []) {
    const s = m?.rle?.size;
    if (Array.isArray(s) && Number.isInteger(s[0]) && Number.isInteger(s[1]) && s[0] > 0 && s[1] > 0) return { w: s[1], h: s[0] };
  }
  return null;
}

/* A colour swatch (set through the CSSOM: the pages' CSP allows no inline
 * style attribute). */
function swatch(color) {
  const s = h('span', { class: 'seg-swatch' });
  s.style.background = color;
  return s;
}

export const segmentationEditor = {
  kind: 'segmentation',
  showsTask: true,

  shortcuts: [
    ['b  e  p  f', 'tool: brush, eraser, polygon, fill'],
    ['1 – 9', 'current label'],
    ['[  ]', 'smaller / larger brush'],
    ['h', 'hide or show the current label’s layer (a hidden layer is locked)'],
    ['Enter', 'fill the polygon being drawn (otherwise: submit)'],
    ['Esc / Backspace', 'cancel the polygon / remove its last corner'],
    ['+  −  0', 'zoom in, zoom out, fit the image'],
    ['Space + drag', 'pan (or the middle button); the wheel zooms'],
    ['Ctrl+Z', 'undo'],
    ['Ctrl+Shift+Z, Ctrl+Y', 'redo'],
  ],

  mount(el, options) {
    return mountEditor(el, options || {});
  },
};

function mountEditor(el, { params, task, value, onChange, readOnly = false }) {
  const labels = namedList(params?.labels).map((l, i) => ({ name: l.name, color: typeof l.color === 'string' && /^#[0-9a-f]{6}$/i.test(l.color) ? l.color : PALETTE[i % PALETTE.length] }));
  const rgb = labels.map((l) => rgbOf(l.color));
  const atts = Array.isArray(task?.attachments) ? task.attachments : [];
  const imageAtt = atts.find((a) => a && a.type === 'image');
  const imageUrl = imageAtt ? attachmentUrl(imageAtt) : null;

  /* ---- the starting masks ---- */
  let prediction = null;
  let source = null;
  if (value && typeof value === 'object' && Array.isArray(value.masks)) source = value.masks;
  else if (!readOnly) {
    prediction = bestPrediction(task?.predictions, 'masks');
    if (prediction) source = prediction.response.masks;
  }
  const dataSize = taskSize(task);

  /* ---- state ---- */
  let alive = true;
  let W = 0;
  let H = 0;
  let map = null; // Uint8Array W * H, row-major
  const area = new Array(labels.length + 1).fill(0); // pixels per value
  const hidden = labels.map(() => false);
  let current = 0;
  let tool = 'brush';
  let brush = 16;
  let opacity = isNum(params?.opacity) ? clamp(params.opacity, 0, 1) : 0.5;
  const view = { k: 1, tx: 0, ty: 0 };
  let fitted = true;
  let img = null;
  let imageReady = false;
  let stroke = null; // {snapshot, box, last}
  let poly = null; // [[x, y], ...] corners in image pixels while drawing
  let panning = null;
  let spaceHeld = false;
  let hover = null; // pointer in image pixels
  let raf = 0;
  let version = 0;
  let cached = null;
  let cachedVersion = -1;
  const history = [];
  const future = [];
  let unreadable = 0;

  /* ---- the frame ---- */
  const root = h('div', { class: `seg-editor ${readOnly ? 'seg-readonly' : 'seg-editable editor-wide'}`, 'data-testid': 'seg-editor', 'data-readonly': readOnly ? 'true' : 'false' });
  const msg = h('p', { class: 'seg-msg', 'data-testid': 'seg-msg', role: 'status', 'aria-live': 'polite' });
  const hint = h('p', { class: 'seg-hint', 'data-testid': 'seg-hint' });
  const btn = (attrs, ...children) => h('button', { type: 'button', class: 'seg-btn', ...attrs }, ...children);
  const toolButtons = new Map();
  const toolbar = h('div', { class: 'seg-toolbar', role: 'toolbar', 'aria-label': 'Mask tools' });
  const sizeInput = h('input', { type: 'range', min: 1, max: MAX_BRUSH, value: brush, 'data-testid': 'seg-size', 'aria-label': 'Brush size (pixels)', oninput: () => setBrush(Number(sizeInput.value)) });
  const sizeOut = h('span', { class: 'seg-out', 'data-testid': 'seg-size-value' });
  const opacityInput = h('input', { type: 'range', min: 0, max: 100, value: Math.round(opacity * 100), 'data-testid': 'seg-opacity', 'aria-label': 'Mask opacity (%)', oninput: () => setOpacity(Number(opacityInput.value) / 100) });
  const opacityOut = h('span', { class: 'seg-out', 'data-testid': 'seg-opacity-value' });
  const zoomOut = h('span', { class: 'seg-out seg-zoom', 'data-testid': 'seg-zoom' }, '—');
  const undoBtn = btn({ 'data-testid': 'seg-undo', 'aria-keyshortcuts': 'Control+Z', title: 'Undo (Ctrl+Z)', onclick: () => undo() }, 'Undo');
  const redoBtn = btn({ 'data-testid': 'seg-redo', 'aria-keyshortcuts': 'Control+Shift+Z', title: 'Redo (Ctrl+Shift+Z)', onclick: () => redo() }, 'Redo');
  if (!readOnly) {
    const group = h('div', { class: 'seg-group', role: 'group', 'aria-label': 'Tool' });
    for (const t of TOOLS) {
      const b = btn({ 'data-tool': t.id, 'aria-pressed': 'false', 'aria-keyshortcuts': t.key, title: `${t.name} (${t.key})`, onclick: () => setTool(t.id) }, t.name, ' ', h('kbd', null, t.key));
      toolButtons.set(t.id, b);
      group.append(b);
    }
    toolbar.append(group, h('label', { class: 'seg-group' }, 'Brush ', sizeInput, sizeOut), h('div', { class: 'seg-group' }, undoBtn, redoBtn));
  }
  toolbar.append(
    h('label', { class: 'seg-group' }, 'Opacity ', opacityInput, opacityOut),
    h(
      'div',
      { class: 'seg-group', role: 'group', 'aria-label': 'Zoom' },
      btn({ 'aria-label': 'Zoom out', title: 'Zoom out (−)', onclick: () => zoomBy(1 / ZOOM_STEP) }, '−'),
      zoomOut,
      btn({ 'aria-label': 'Zoom in', title: 'Zoom in (+)', onclick: () => zoomBy(ZOOM_STEP) }, '+'),
      btn({ title: 'Fit the image (0)', onclick: () => fit() }, 'Fit'),
    ),
  );
  const canvas = h('canvas', { class: 'seg-canvas', 'data-testid': 'seg-canvas' });
  const stage = h('div', { class: 'seg-stage', 'data-testid': 'seg-stage', tabindex: readOnly ? null : '0', 'aria-label': 'Image and masks' }, canvas);
  const stageMsg = h('div', { class: 'seg-stage-msg', 'data-testid': 'seg-stage-msg', hidden: true });
  stage.append(stageMsg);
  const layerList = h('ul', { class: 'seg-layers', 'data-testid': 'seg-layers', 'aria-label': 'Layers' });
  const rows = labels.map((l, i) => {
    const pick = h(
      'button',
      { type: 'button', class: 'seg-pick', 'aria-pressed': 'false', disabled: readOnly, onclick: () => setLabel(i) },
      swatch(l.color),
      h('span', { class: 'seg-name' }, l.name),
      i < 9 && !readOnly ? h('kbd', null, String(i + 1)) : null,
    );
    const count = h('span', { class: 'seg-count', 'data-testid': 'seg-count' });
    const eye = h('button', { type: 'button', class: 'seg-eye', 'data-testid': 'seg-eye', title: 'Show or hide this layer; a hidden layer is locked (h)', onclick: () => toggleHidden(i) }, 'Hide');
    const row = h('li', { class: 'seg-layer', 'data-testid': 'seg-layer', 'data-label': l.name }, pick, count, eye);
    layerList.append(row);
    return { row, pick, count, eye };
  });
  const notes = [];
  if (prediction) {
    const who = prediction.model ? `the model ${prediction.model}` : 'a model';
    notes.push(h('p', { class: 'note prediction-note', 'data-testid': 'prediction-note' }, `Started from the masks of ${who}; check and correct them.`));
  }
  const noteBox = h('div', { class: 'seg-notes' }, ...notes);
  root.append(toolbar, noteBox, h('div', { class: 'seg-layout' }, h('div', { class: 'seg-main' }, stage, readOnly ? null : hint, msg), h('aside', { class: 'seg-side' }, h('h3', null, 'Layers'), layerList)));
  el.append(root);
  const ctx = canvas.getContext('2d');
  let ov = null; // the overlay canvas, W x H
  let ovCtx = null;
  let ovData = null;

  /* ---- size and the label map ---- */

  function useSize(w, hh) {
    W = w;
    H = hh;
    map = new Uint8Array(W * H);
    ov = document.createElement('canvas');
    ov.width = W;
    ov.height = H;
    ovCtx = ov.getContext('2d');
    ovData = ovCtx.createImageData(W, H);
    stage.dataset.width = String(W);
    stage.dataset.height = String(H);
    for (const m of Array.isArray(source) ? source : []) {
      const i = labels.findIndex((l) => l.name === m?.label);
      const s = m?.rle?.size;
      const counts = i >= 0 && Array.isArray(s) && s[0] === H && s[1] === W ? rleCounts(m.rle, H, W) : null;
      if (!counts) {
        unreadable++;
        continue;
      }
      paintCounts(map, W, H, counts, i + 1);
    }
    area.fill(0);
    for (let p = 0; p < map.length; p++) area[map[p]]++;
    if (unreadable) noteBox.append(h('p', { class: 'note', 'data-testid': 'seg-unreadable' }, `${plural(unreadable, 'mask')} of the saved answer could not be read and ${unreadable === 1 ? 'is' : 'are'} left out.`));
    redrawOverlay(0, 0, W, H);
    updateCounts();
    fit();
  }

  /* Recolours the overlay over the box: one 32-bit store a pixel from a
   * table of each value's RGBA (transparent for background and hidden
   * layers), read through a little-endian view (every browser Loupe
   * supports runs little-endian). */
  function redrawOverlay(x0, y0, x1, y1) {
    const d32 = new Uint32Array(ovData.data.buffer);
    const lut = new Uint32Array(256);
    labels.forEach((l, i) => {
      const c = rgb[i];
      if (!hidden[i]) lut[i + 1] = (0xff000000 | (c[2] << 16) | (c[1] << 8) | c[0]) >>> 0;
    });
    for (let y = y0; y < y1; y++)
      for (let i = y * W + x0, e = y * W + x1; i < e; i++) d32[i] = lut[map[i]];
    ovCtx.putImageData(ovData, 0, 0, x0, y0, x1 - x0, y1 - y0);
    schedule();
  }

  function updateCounts() {
    labels.forEach((l, i) => {
      rows[i].count.textContent = area[i + 1] ? `${area[i + 1].toLocaleString('en')} px` : '—';
      rows[i].row.dataset.pixels = String(area[i + 1]);
    });
  }

  /* ---- changes ---- */

  /* Sets pixel i to v (0 erases) unless a hidden layer holds it; grows the
   * stroke's box. */
  function setPixel(i, v) {
    const old = map[i];
    if (old === v || (old && hidden[old - 1])) return;
    map[i] = v;
    area[old]--;
    area[v]++;
    const x = i % W;
    const y = (i / W) | 0;
    const b = stroke.box;
    if (x < b.x0) b.x0 = x;
    if (y < b.y0) b.y0 = y;
    if (x >= b.x1) b.x1 = x + 1;
    if (y >= b.y1) b.y1 = y + 1;
  }

  function begin() {
    stroke = { snapshot: map.slice(), box: { x0: W, y0: H, x1: 0, y1: 0 }, last: null };
  }

  function copyRect(src, b) {
    const w = b.x1 - b.x0;
    const out = new Uint8Array(w * (b.y1 - b.y0));
    for (let y = b.y0; y < b.y1; y++) out.set(src.subarray(y * W + b.x0, y * W + b.x1), (y - b.y0) * w);
    return out;
  }

  /* Ends the change begun: records it for undo, redraws, tells the
   * workspace. */
  function end() {
    const s = stroke;
    stroke = null;
    if (!s || s.box.x1 <= s.box.x0) return;
    history.push({ box: s.box, before: copyRect(s.snapshot, s.box), after: copyRect(map, s.box) });
    if (history.length > HISTORY_MAX) history.shift();
    future.length = 0;
    changed(s.box);
  }

  function changed(b) {
    version++;
    redrawOverlay(b.x0, b.y0, b.x1, b.y1);
    updateCounts();
    updateButtons();
    onChange?.(currentValue());
  }

  function writeRect(b, data) {
    const w = b.x1 - b.x0;
    for (let y = b.y0; y < b.y1; y++)
      for (let x = b.x0; x < b.x1; x++) {
        const i = y * W + x;
        area[map[i]]--;
        map[i] = data[(y - b.y0) * w + (x - b.x0)];
        area[map[i]]++;
      }
  }

  function undo() {
    if (readOnly || stroke || !history.length) return;
    const c = history.pop();
    writeRect(c.box, c.before);
    future.push(c);
    changed(c.box);
    say('Undone.');
  }

  function redo() {
    if (readOnly || stroke || !future.length) return;
    const c = future.pop();
    writeRect(c.box, c.after);
    history.push(c);
    changed(c.box);
    say('Redone.');
  }

  /* A disc of the brush's diameter at (cx, cy), image pixels. */
  function stamp(cx, cy, v) {
    const r = brush / 2;
    const fx = Math.floor(cx);
    const fy = Math.floor(cy);
    for (let y = Math.max(0, Math.floor(cy - r)); y < Math.min(H, Math.ceil(cy + r)); y++)
      for (let x = Math.max(0, Math.floor(cx - r)); x < Math.min(W, Math.ceil(cx + r)); x++) {
        const dx = x + 0.5 - cx;
        const dy = y + 0.5 - cy;
        if (dx * dx + dy * dy <= r * r || (x === fx && y === fy)) setPixel(y * W + x, v);
      }
  }

  /* Paints from the last pointer position to p and redraws the overlay
   * over this segment only (not the whole stroke: on a full-HD image a
   * long stroke's box would be millions of pixels a pointer move). */
  function strokeTo(p) {
    const v = tool === 'eraser' ? 0 : current + 1;
    const a = stroke.last || p;
    const dist = Math.hypot(p[0] - a[0], p[1] - a[1]);
    const steps = Math.max(1, Math.ceil(dist / Math.max(0.5, brush / 4)));
    for (let s = stroke.last ? 1 : 0; s <= steps; s++) stamp(a[0] + ((p[0] - a[0]) * s) / steps, a[1] + ((p[1] - a[1]) * s) / steps, v);
    stroke.last = p;
    const r = brush / 2 + 1;
    const x0 = clamp(Math.floor(Math.min(a[0], p[0]) - r), 0, W);
    const y0 = clamp(Math.floor(Math.min(a[1], p[1]) - r), 0, H);
    const x1 = clamp(Math.ceil(Math.max(a[0], p[0]) + r), 0, W);
    const y1 = clamp(Math.ceil(Math.max(a[1], p[1]) + r), 0, H);
    if (x1 > x0 && y1 > y0) redrawOverlay(x0, y0, x1, y1);
  }

  /* Fills polygon pts (image pixels) with the current label: the pixels
   * whose centres are inside (even-odd rule). */
  function fillPolygon(pts) {
    begin();
    const v = current + 1;
    const ys = pts.map((p) => p[1]);
    const y0 = Math.max(0, Math.floor(Math.min(...ys)));
    const y1 = Math.min(H, Math.ceil(Math.max(...ys)));
    for (let y = y0; y < y1; y++) {
      const yc = y + 0.5;
      const xs = [];
      for (let k = 0; k < pts.length; k++) {
        const [ax, ay] = pts[k];
        const [bx, by] = pts[(k + 1) % pts.length];
        if ((ay <= yc && yc < by) || (by <= yc && yc < ay)) xs.push(ax + ((yc - ay) * (bx - ax)) / (by - ay));
      }
      xs.sort((a, b) => a - b);
      for (let k = 0; k + 1 < xs.length; k += 2) {
        const from = Math.max(0, Math.ceil(xs[k] - 0.5));
        const to = Math.min(W, Math.ceil(xs[k + 1] - 0.5));
        for (let x = from; x < to; x++) setPixel(y * W + x, v);
      }
    }
    end();
  }

  /* The 4-connected region of pixel (x, y)'s value takes the current label.
   * A scanline fill: each run of the region's value in a row is filled at
   * once and the rows above and below it are scanned for runs to seed, one
   * seed a run; a filled pixel no longer holds that value, so none is
   * filled twice and no visited map is needed (a full-HD background fills
   * in a few ms, where a pixel-by-pixel stack took hundreds). */
  function floodFill(x, y) {
    const start = y * W + x;
    const from = map[start];
    const v = current + 1;
    if (from === v) return say('That region already has this label.');
    if (from && hidden[from - 1]) return say('That layer is hidden, so locked.');
    begin();
    let stack = new Int32Array(1024);
    let n = 0;
    stack[n++] = start;
    const b = stroke.box;
    let filled = 0;
    while (n) {
      const i = stack[--n];
      if (map[i] !== from) continue;
      const row = (i / W) | 0;
      const base = row * W;
      let l = i - base;
      let r = l;
      while (l > 0 && map[base + l - 1] === from) l--;
      while (r + 1 < W && map[base + r + 1] === from) r++;
      map.fill(v, base + l, base + r + 1);
      filled += r - l + 1;
      if (l < b.x0) b.x0 = l;
      if (r + 1 > b.x1) b.x1 = r + 1;
      if (row < b.y0) b.y0 = row;
      if (row + 1 > b.y1) b.y1 = row + 1;
      for (const ny of [row - 1, row + 1]) {
        if (ny < 0 || ny >= H) continue;
        const nb = ny * W;
        let run = false;
        for (let k = l; k <= r; k++) {
          if (map[nb + k] !== from) run = false;
          else if (!run) {
            run = true;
            if (n === stack.length) {
              const grown = new Int32Array(2 * n);
              grown.set(stack);
              stack = grown;
            }
            stack[n++] = nb + k;
          }
        }
      }
    }
    area[from] -= filled;
    area[v] += filled;
    end();
  }

  /* ---- the response ---- */

  function currentValue() {
    if (cachedVersion === version && cached) return cached;
    const masks = [];
    if (map) {
      const counts = labelMapCounts(map, W, H, labels.length);
      labels.forEach((l, i) => {
        if (counts[i]) masks.push({ label: l.name, rle: { size: [H, W], counts: encodeCounts(counts[i]) } });
      });
    } else if (Array.isArray(source)) {
      return { masks: source }; // not read yet: keep what was given
    }
    cached = { masks };
    cachedVersion = version;
    return cached;
  }

  /* ---- view ---- */

  function schedule() {
    if (!raf && alive) raf = requestAnimationFrame(render);
  }

  function resize() {
    const r = stage.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.max(1, Math.round(r.width * dpr));
    canvas.height = Math.max(1, Math.round(r.height * dpr));
    if (fitted) fit();
    else schedule();
  }

  function fit() {
    const r = stage.getBoundingClientRect();
    if (!W || !r.width || !r.height) return schedule();
    view.k = Math.min(r.width / W, r.height / H);
    view.tx = (r.width - W * view.k) / 2;
    view.ty = (r.height - H * view.k) / 2;
    fitted = true;
    viewChanged();
  }

  function viewChanged() {
    stage.dataset.view = `${view.k},${view.tx},${view.ty}`;
    zoomOut.textContent = `${Math.round(view.k * 100)}%`;
    schedule();
  }

  function zoomAt(f, sx, sy) {
    const k = clamp(view.k * f, 0.02, MAX_ZOOM);
    view.tx = sx - ((sx - view.tx) * k) / view.k;
    view.ty = sy - ((sy - view.ty) * k) / view.k;
    view.k = k;
    fitted = false;
    viewChanged();
  }

  function zoomBy(f) {
    const r = stage.getBoundingClientRect();
    zoomAt(f, r.width / 2, r.height / 2);
  }

  function render() {
    raf = 0;
    if (!alive) return;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!W) return;
    ctx.setTransform(dpr * view.k, 0, 0, dpr * view.k, dpr * view.tx, dpr * view.ty);
    ctx.imageSmoothingEnabled = view.k < 1;
    if (imageReady) ctx.drawImage(img, 0, 0, W, H);
    else {
      ctx.fillStyle = '#555b63';
      ctx.fillRect(0, 0, W, H);
    }
    ctx.imageSmoothingEnabled = false;
    ctx.globalAlpha = opacity;
    ctx.drawImage(ov, 0, 0);
    ctx.globalAlpha = 1;
    const px = 1 / view.k;
    if (poly) {
      ctx.strokeStyle = labels[current]?.color || '#fff';
      ctx.lineWidth = 2 * px;
      ctx.beginPath();
      poly.forEach((p, i) => (i ? ctx.lineTo(p[0], p[1]) : ctx.moveTo(p[0], p[1])));
      if (hover) ctx.lineTo(hover[0], hover[1]);
      ctx.stroke();
      ctx.fillStyle = '#fff';
      for (const p of poly) ctx.fillRect(p[0] - 3 * px, p[1] - 3 * px, 6 * px, 6 * px);
    } else if (hover && !readOnly && (tool === 'brush' || tool === 'eraser')) {
      ctx.strokeStyle = tool === 'eraser' ? '#fff' : labels[current]?.color || '#fff';
      ctx.lineWidth = 1.5 * px;
      ctx.beginPath();
      ctx.arc(hover[0], hover[1], Math.max(brush / 2, 0.5), 0, 2 * Math.PI);
      ctx.stroke();
    }
  }

  /* ---- controls ---- */

  function say(text) {
    msg.textContent = text;
  }

  function setTool(t) {
    if (readOnly || !TOOLS.some((x) => x.id === t)) return;
    if (t !== 'polygon') poly = null;
    tool = t;
    for (const [id, b] of toolButtons) b.setAttribute('aria-pressed', id === t ? 'true' : 'false');
    hint.textContent = TOOLS.find((x) => x.id === t).hint;
    root.dataset.tool = t;
    schedule();
  }

  function setLabel(i) {
    if (i < 0 || i >= labels.length) return;
    current = i;
    rows.forEach((r, j) => r.pick.setAttribute('aria-pressed', j === i ? 'true' : 'false'));
    root.dataset.label = labels[i].name;
    schedule();
  }

  function setBrush(n) {
    brush = clamp(Math.round(n) || 1, 1, MAX_BRUSH);
    sizeInput.value = String(brush);
    sizeOut.textContent = `${brush} px`;
    schedule();
  }

  function setOpacity(o) {
    opacity = clamp(o, 0, 1);
    opacityInput.value = String(Math.round(opacity * 100));
    opacityOut.textContent = `${Math.round(opacity * 100)}%`;
    root.dataset.opacity = String(opacity);
    schedule();
  }

  function toggleHidden(i) {
    hidden[i] = !hidden[i];
    rows[i].eye.textContent = hidden[i] ? 'Show' : 'Hide';
    rows[i].row.classList.toggle('seg-hidden', hidden[i]);
    if (map) redrawOverlay(0, 0, W, H);
  }

  function updateButtons() {
    undoBtn.disabled = !history.length;
    redoBtn.disabled = !future.length;
  }

  /* ---- pointer ---- */

  function imagePoint(ev) {
    const r = stage.getBoundingClientRect();
    return [(ev.clientX - r.left - view.tx) / view.k, (ev.clientY - r.top - view.ty) / view.k];
  }

  function closePolygon() {
    if (!poly) return false;
    if (hidden[current]) {
      say(`${labels[current]?.name ?? 'That label'} is hidden, so locked: show it to fill the polygon with it.`);
      return true;
    }
    const pts = poly.filter((p, i) => i === 0 || p[0] !== poly[i - 1][0] || p[1] !== poly[i - 1][1]);
    poly = null;
    if (pts.length < 3) {
      say('A polygon needs at least 3 corners.');
      schedule();
      return true;
    }
    fillPolygon(pts);
    say('Polygon filled.');
    return true;
  }

  function onPointerDown(ev) {
    if (!alive || !W) return;
    stage.focus({ preventScroll: true });
    if (ev.button === 1 || spaceHeld || readOnly) {
      panning = { x: ev.clientX, y: ev.clientY, tx: view.tx, ty: view.ty };
      stage.setPointerCapture?.(ev.pointerId);
      ev.preventDefault();
      return;
    }
    if (ev.button !== 0) return;
    ev.preventDefault();
    // A hidden layer is locked: nothing is painted with it either (the
    // eraser still works).
    if (tool !== 'eraser' && hidden[current]) return say(`${labels[current]?.name ?? 'That label'} is hidden, so locked: show it to paint with it.`);
    const p = imagePoint(ev);
    if (tool === 'brush' || tool === 'eraser') {
      begin();
      stage.setPointerCapture?.(ev.pointerId);
      strokeTo(p);
    } else if (tool === 'polygon') {
      if (poly && poly.length >= 3) {
        const f = poly[0];
        if (Math.hypot((p[0] - f[0]) * view.k, (p[1] - f[1]) * view.k) <= CLOSE_PX) {
          closePolygon();
          return;
        }
      }
      if (ev.detail >= 2 && poly) {
        closePolygon();
        return;
      }
      (poly ||= []).push([Math.round(p[0] * 100) / 100, Math.round(p[1] * 100) / 100]);
      schedule();
    } else if (tool === 'fill') {
      const x = Math.floor(p[0]);
      const y = Math.floor(p[1]);
      if (x >= 0 && y >= 0 && x < W && y < H) floodFill(x, y);
    }
  }

  function onPointerMove(ev) {
    if (!alive || !W) return;
    if (panning) {
      view.tx = panning.tx + ev.clientX - panning.x;
      view.ty = panning.ty + ev.clientY - panning.y;
      fitted = false;
      viewChanged();
      return;
    }
    hover = imagePoint(ev);
    if (stroke) strokeTo(hover);
    schedule();
  }

  function onPointerUp() {
    if (panning) panning = null;
    if (stroke) end();
  }

  function onLeave() {
    hover = null;
    schedule();
  }

  function onWheel(ev) {
    if (!W) return;
    ev.preventDefault();
    const r = stage.getBoundingClientRect();
    zoomAt(Math.exp(-ev.deltaY * 0.0015), ev.clientX - r.left, ev.clientY - r.top);
  }

  stage.addEventListener('pointerdown', onPointerDown);
  stage.addEventListener('pointermove', onPointerMove);
  stage.addEventListener('pointerup', onPointerUp);
  stage.addEventListener('pointercancel', onPointerUp);
  stage.addEventListener('pointerleave', onLeave);
  stage.addEventListener('wheel', onWheel, { passive: false });
  stage.addEventListener('contextmenu', (ev) => ev.preventDefault());

  /* ---- keys ---- */

  function keys(ev) {
    if (!alive || ev.ctrlKey || ev.metaKey || ev.altKey) return false;
    const k = ev.key;
    if (k === '+' || k === '=') return zoomBy(ZOOM_STEP), true;
    if (k === '-' || k === '_') return zoomBy(1 / ZOOM_STEP), true;
    if (k === '0') return fit(), true;
    if (readOnly) return false;
    if (k === 'Enter' && poly) return closePolygon();
    if (k === 'Escape' && poly) {
      poly = null;
      schedule();
      return true;
    }
    if (k === 'Backspace' && poly) {
      poly.pop();
      if (!poly.length) poly = null;
      schedule();
      return true;
    }
    if (k === '[') return setBrush(brush > 10 ? brush - 5 : brush - 1), true;
    if (k === ']') return setBrush(brush >= 10 ? brush + 5 : brush + 1), true;
    if (/^[1-9]$/.test(k) && Number(k) <= labels.length) return setLabel(Number(k) - 1), true;
    if (k === 'h') return toggleHidden(current), true;
    const t = TOOLS.find((x) => x.key === k.toLowerCase());
    if (t) return setTool(t.id), true;
    return false;
  }

  /* Ctrl+Z / Ctrl+Y and Space, which the workspace does not offer keys(). */
  function onDocKey(ev) {
    if (!alive || ev.defaultPrevented || ev.isComposing || !root.isConnected || isTyping(ev.target)) return;
    const other = ev.target instanceof Element ? ev.target.closest('.seg-editor') : null;
    if (other && other !== root) return;
    if ((ev.ctrlKey || ev.metaKey) && !ev.altKey) {
      const k = ev.key.toLowerCase();
      if (k === 'z') {
        ev.preventDefault();
        if (ev.shiftKey) redo();
        else undo();
      } else if (k === 'y' && !ev.shiftKey) {
        ev.preventDefault();
        redo();
      }
      return;
    }
    if (ev.key === ' ' && !ev.repeat && (other === root || ev.target === document.body)) {
      spaceHeld = true;
      stage.classList.add('seg-space');
      ev.preventDefault();
    }
    if (ev.key === 'Escape' && poly) {
      poly = null;
      schedule();
      ev.preventDefault();
    }
  }

  function onDocKeyUp(ev) {
    if (ev.key === ' ') {
      spaceHeld = false;
      stage.classList.remove('seg-space');
    }
  }

  if (!readOnly) {
    document.addEventListener('keydown', onDocKey);
    document.addEventListener('keyup', onDocKeyUp);
  }

  /* ---- the image ---- */

  const ro = typeof ResizeObserver === 'function' ? new ResizeObserver(() => resize()) : null;
  ro?.observe(stage);

  function showStageMsg(text) {
    stageMsg.textContent = text;
    stageMsg.hidden = !text;
  }

  const known = dataSize || maskSize(source);
  if (known) useSize(known.w, known.h);
  if (imageUrl) {
    img = new Image();
    img.onload = () => {
      if (!alive) return;
      imageReady = true;
      if (!W) useSize(img.naturalWidth, img.naturalHeight);
      else if (img.naturalWidth !== W || img.naturalHeight !== H)
        noteBox.append(h('p', { class: 'note', 'data-testid': 'seg-size-note' }, `The image is ${img.naturalWidth} × ${img.naturalHeight} pixels but the masks are ${W} × ${H}; the image is stretched to fit.`));
      root.dataset.ready = 'true';
      root.dataset.image = 'loaded';
      schedule();
    };
    img.onerror = () => {
      if (!alive) return;
      showStageMsg(W ? 'The image could not be loaded; the masks are drawn on grey.' : 'The image could not be loaded, and the task gives no size to paint on.');
      root.dataset.ready = 'true';
      root.dataset.image = 'failed';
    };
    img.src = imageUrl;
  } else {
    showStageMsg(W ? 'The task has no image; the masks are drawn on grey.' : 'The task has no image to paint on.');
    root.dataset.ready = 'true';
  }

  setTool('brush');
  setLabel(0);
  setBrush(brush);
  setOpacity(opacity);
  updateButtons();
  resize();

  return {
    value: () => currentValue(),
    valid: () => true,
    keys,
    unmount() {
      alive = false;
      if (raf) cancelAnimationFrame(raf);
      ro?.disconnect();
      document.removeEventListener('keydown', onDocKey);
      document.removeEventListener('keyup', onDocKeyUp);
    },
  };
}
