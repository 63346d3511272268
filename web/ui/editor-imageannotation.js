// editor-imageannotation.js -- the answer editor for `imageannotation`
// projects (docs/KINDS.md): boxes, polygons, lines and points drawn on the
// task's image, each with a label and the project's attributes.
//
// The image (the task's first image attachment) is drawn in an SVG whose
// world group is in image pixels: zoom and pan change one transform, never
// the shapes, so coordinates stay image pixels whatever the zoom.  Each
// shape is one SVG element (a line has a second, wider and invisible one to
// be easy to hit) made once; a change redraws that element only, and a drag
// redraws it at most once per animation frame.  The shape list beside the
// image has one row per shape, updated row by row.
//
// Undo and redo keep the changes (added, removed, changed shape: its data
// before and after), not copies of the whole answer.  The response is
// {"annotations": [{id, type, label, x, y, width, height | vertices,
// attributes?}]}, coordinates rounded to 0.01 px.
//
// Keys: the workspace offers them to keys(), but not Ctrl+Z / Ctrl+Y (it
// leaves keys with Ctrl alone) and perhaps not Escape, so an editable
// instance also listens for those on the document (a key some handler
// already took is left alone), and removes that listener in unmount.
//
// The interface every editor follows is in editors.js.

import { h, svg, isTyping, plural, namedList } from './dom.js';
import { attachmentUrl, renderTask, bestPrediction } from './task.js';
import { attributeDefs, attrProblem } from './attributes.js';

const GEOMETRIES = ['box', 'polygon', 'line', 'point'];
const TYPE_NAMES = { box: 'Box', polygon: 'Polygon', line: 'Line', point: 'Point' };
const TOOLS = [
  { id: 'select', key: 'v', name: 'Select', hint: 'Click a shape to select it; drag it to move it; drag its handles to resize it or to move a corner (Alt+click a corner removes it). Drag empty space to pan.' },
  { id: 'box', key: 'b', name: 'Box', hint: 'Drag on the image to draw a box.' },
  { id: 'polygon', key: 'p', name: 'Polygon', hint: 'Click to add corners. Enter, a double-click or a click on the first corner closes the polygon; Backspace removes the last corner; Esc cancels.' },
  { id: 'line', key: 'l', name: 'Line', hint: 'Click to add points. Enter or a double-click ends the line; Backspace removes the last point; Esc cancels.' },
  { id: 'point', key: 'o', name: 'Point', hint: 'Click to place a point.' },
];
const PALETTE_SIZE = 12;
const HISTORY_MAX = 500;
const DRAG_THRESHOLD = 3; // screen px a press moves before it is a drag
const POINT_RADIUS = 5.5; // screen px
const HANDLE_SIZE = 10; // screen px
const MAX_ZOOM = 64;
const ZOOM_STEP = 1.25;
const NUDGE_PAN = 60; // screen px the arrow keys pan by when nothing is selected

const r2 = (v) => Math.round(v * 100) / 100;
const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

function geometriesOf(params) {
  const g = Array.isArray(params?.geometries) ? GEOMETRIES.filter((x) => params.geometries.includes(x)) : [];
  return g.length ? g : GEOMETRIES.slice();
}

function attrText(a, v) {
  if (a.type === 'boolean') return v ? 'yes' : 'no';
  return String(v);
}

/* A shape of a response (a draft, a prediction, an answer) as the
 * editor's data, or null when it cannot be drawn.  Attributes the project
 * does not have are left out and their names added to dropped. */
function readShape(a, attrNames, dropped) {
  if (!a || typeof a !== 'object' || Array.isArray(a) || !GEOMETRIES.includes(a.type)) return null;
  const d = { id: typeof a.id === 'string' && a.id !== '' ? a.id : null, type: a.type, label: typeof a.label === 'string' ? a.label : '' };
  if (a.type === 'box') {
    if (![a.x, a.y, a.width, a.height].every(isNum)) return null;
    Object.assign(d, { x: a.x, y: a.y, width: a.width, height: a.height });
  } else if (a.type === 'point') {
    if (![a.x, a.y].every(isNum)) return null;
    Object.assign(d, { x: a.x, y: a.y });
  } else {
    if (!Array.isArray(a.vertices)) return null;
    const vs = a.vertices.map((v) => (v && isNum(v.x) && isNum(v.y) ? { x: v.x, y: v.y } : null));
    if (vs.some((v) => !v)) return null;
    d.vertices = vs;
  }
  d.attributes = {};
  if (a.attributes && typeof a.attributes === 'object' && !Array.isArray(a.attributes)) {
    for (const [k, v] of Object.entries(a.attributes)) {
      if (v === null || v === undefined) continue;
      if (attrNames.has(k)) d.attributes[k] = v;
      else dropped.add(k);
    }
  }
  return d;
}

/* The response form of a shape's data: keys in a stable order, no empty
 * attributes. */
function outShape(d) {
  const o = { id: d.id, type: d.type, label: d.label };
  if (d.type === 'box') Object.assign(o, { x: d.x, y: d.y, width: d.width, height: d.height });
  else if (d.type === 'point') Object.assign(o, { x: d.x, y: d.y });
  else o.vertices = d.vertices.map((v) => ({ x: v.x, y: v.y }));
  if (Object.keys(d.attributes).length) o.attributes = { ...d.attributes };
  return o;
}

function bbox(d) {
  if (d.type === 'box') return { x1: d.x, y1: d.y, x2: d.x + d.width, y2: d.y + d.height };
  if (d.type === 'point') return { x1: d.x, y1: d.y, x2: d.x, y2: d.y };
  let x1 = Infinity;
  let y1 = Infinity;
  let x2 = -Infinity;
  let y2 = -Infinity;
  for (const v of d.vertices) {
    x1 = Math.min(x1, v.x);
    y1 = Math.min(y1, v.y);
    x2 = Math.max(x2, v.x);
    y2 = Math.max(y2, v.y);
  }
  if (!d.vertices.length) return { x1: 0, y1: 0, x2: 0, y2: 0 };
  return { x1, y1, x2, y2 };
}

function translated(d, dx, dy) {
  if (d.type === 'box' || d.type === 'point') return { ...d, x: r2(d.x + dx), y: r2(d.y + dy) };
  return { ...d, vertices: d.vertices.map((v) => ({ x: r2(v.x + dx), y: r2(v.y + dy) })) };
}

function pointsAttr(vs) {
  let s = '';
  for (const v of vs) s += `${v.x},${v.y} `;
  return s;
}

/* The natural size the task gives (data.width and data.height), or null. */
function taskSize(task) {
  const d = task?.data;
  if (!d || typeof d !== 'object') return null;
  if (isNum(d.width) && isNum(d.height) && d.width > 0 && d.height > 0) return { w: d.width, h: d.height };
  return null;
}

function taskImage(task) {
  const atts = Array.isArray(task?.attachments) ? task.attachments : [];
  const index = atts.findIndex((a) => a && a.type === 'image');
  return { index, url: index >= 0 ? attachmentUrl(atts[index]) : null, name: index >= 0 && typeof atts[index].name === 'string' ? atts[index].name : '' };
}

/* The task's input other than the image the editor draws on (other
 * attachments, data fields but width and height), or null. */
function restOfTask(task, image, sized) {
  const atts = (Array.isArray(task?.attachments) ? task.attachments : []).filter((_, i) => i !== image.index);
  const data = task?.data && typeof task.data === 'object' && !Array.isArray(task.data) ? { ...task.data } : {};
  if (sized) {
    delete data.width;
    delete data.height;
  }
  if (!atts.length && !Object.keys(data).length) return null;
  const box = renderTask({ attachments: atts, data });
  box.classList.add('ia-task-rest');
  return box;
}

export const imageannotationEditor = {
  kind: 'imageannotation',
  showsTask: true,

  shortcuts: [
    ['v  b  p  l  o', 'tool: select, box, polygon, line, point'],
    ['1 – 9', 'label for new shapes (and for the selected shape)'],
    ['Enter', 'finish the polygon or line being drawn (otherwise: submit)'],
    ['Esc', 'cancel the shape being drawn, or unselect'],
    ['Backspace', 'remove the last point of the shape being drawn'],
    ['Delete', 'delete the selected shape'],
    ['Arrows', 'move the selected shape by 1 pixel (Shift: 10); with none selected, pan'],
    ['n / Shift+N', 'select the next / previous shape'],
    ['h / Shift+H', 'hide or show the selected shape / all shapes'],
    ['+  −  0', 'zoom in, zoom out, fit the image'],
    ['Space + drag', 'pan (or the middle button, Ctrl + drag, or a drag on empty space with Select)'],
    ['Ctrl+Z', 'undo'],
    ['Ctrl+Shift+Z, Ctrl+Y', 'redo'],
  ],

  mount(el, options) {
    return mountEditor(el, options || {});
  },
};

function mountEditor(el, { params, task, value, onChange, readOnly = false }) {
  const uid = `ia-${Math.random().toString(36).slice(2, 9)}`;
  const labels = namedList(params?.labels);
  const labelIndex = new Map(labels.map((l, i) => [l.name, i]));
  const geometries = geometriesOf(params);
  const attrs = attributeDefs(params?.attributes);
  const attrNames = new Set(attrs.map((a) => a.name));
  const dataSize = taskSize(task);
  const image = taskImage(task);

  /* ---- state (all of it per instance) ---- */
  let alive = true;
  let size = dataSize ? { ...dataSize } : null; // the image's coordinate space
  let sizeGuessed = false; // size is only the shapes' extent (no image, no data.width/height)
  let imageState = image.url ? 'loading' : 'none'; // loading | ready | failed | none
  const objects = []; // in response order
  const byId = new Map();
  const invalid = new Set(); // ids of shapes that cannot be submitted as they are
  const usedIds = new Set();
  let nextId = 1;
  let selected = null;
  let tool = 'select';
  let currentLabel = labels[0]?.name ?? '';
  const view = { k: 1, tx: 0, ty: 0 };
  let fitted = true; // the view is the fitted one: refit when the stage changes size
  let viewReady = false;
  let drag = null;
  let drawing = null; // {type, vertices} while a polygon or line is being clicked in
  let hover = null; // the pointer in image pixels while drawing
  let spaceHeld = false;
  let raf = 0;
  let pendingPointer = null;
  let viewDirty = false;
  let radiusK = 0; // the zoom point radii were drawn for
  const history = [];
  const future = [];
  let coalesceKey = null;
  let insp = null; // the inspector's fields for the selected shape
  let loading = true;

  /* ---- the starting shapes ---- */
  const dropped = new Set();
  let unreadable = 0;
  let source = null;
  let prediction = null;
  if (value && typeof value === 'object' && Array.isArray(value.annotations)) source = value.annotations;
  else if (!readOnly) {
    prediction = bestPrediction(task?.predictions, 'annotations');
    if (prediction) source = prediction.response.annotations;
  }
  const initial = [];
  for (const a of source || []) {
    const d = readShape(a, attrNames, dropped);
    if (d) initial.push(d);
    else unreadable++;
  }
  for (const d of initial) {
    if (d.id && !usedIds.has(d.id)) usedIds.add(d.id);
    else d.id = null;
  }
  for (const d of initial) if (!d.id) d.id = newId();

  function newId() {
    let id;
    do id = `a${nextId++}`;
    while (usedIds.has(id));
    usedIds.add(id);
    return id;
  }

  /* ---- the frame ---- */
  const root = h('div', { class: `ia-editor ${readOnly ? 'ia-readonly' : 'ia-editable editor-wide'}`, 'data-testid': 'ia-editor', 'data-readonly': readOnly ? 'true' : 'false' });
  const msg = h('p', { class: 'ia-msg', 'data-testid': 'ia-msg', role: 'status', 'aria-live': 'polite' });
  const hint = h('p', { class: 'ia-hint', id: `${uid}-hint`, 'data-testid': 'ia-hint' });

  const toolButtons = new Map();
  const labelButtons = new Map();
  const zoomLabel = h('span', { class: 'ia-zoom', 'data-testid': 'ia-zoom', 'aria-live': 'off', title: 'Zoom: 100% shows one image pixel per screen pixel' }, '—');
  const btn = (attrs, ...children) => h('button', { type: 'button', class: 'ia-btn', ...attrs }, ...children);
  const viewGroup = h(
    'div',
    { class: 'ia-group', role: 'group', 'aria-label': 'Zoom' },
    btn({ 'data-action': 'zoom-out', 'aria-label': 'Zoom out', 'aria-keyshortcuts': '-', title: 'Zoom out (−)', onclick: () => zoomBy(1 / ZOOM_STEP) }, '−'),
    zoomLabel,
    btn({ 'data-action': 'zoom-in', 'aria-label': 'Zoom in', 'aria-keyshortcuts': '+', title: 'Zoom in (+)', onclick: () => zoomBy(ZOOM_STEP) }, '+'),
    btn({ 'data-action': 'zoom-fit', title: 'Fit the image in view (0)', 'aria-keyshortcuts': '0', onclick: () => fitView() }, 'Fit'),
  );
  const undoBtn = btn({ 'data-action': 'undo', 'aria-keyshortcuts': 'Control+Z', title: 'Undo (Ctrl+Z)', disabled: true, onclick: () => undo() }, 'Undo');
  const redoBtn = btn({ 'data-action': 'redo', 'aria-keyshortcuts': 'Control+Shift+Z', title: 'Redo (Ctrl+Shift+Z or Ctrl+Y)', disabled: true, onclick: () => redo() }, 'Redo');

  let toolbar = null;
  let labelBar = null;
  if (!readOnly) {
    const toolGroup = h('div', { class: 'ia-group', role: 'group', 'aria-label': 'Tools' });
    for (const t of TOOLS) {
      if (t.id !== 'select' && !geometries.includes(t.id)) continue;
      const b = btn(
        { class: 'ia-btn ia-tool', 'data-tool': t.id, 'aria-pressed': 'false', 'aria-keyshortcuts': t.key, title: `${t.name} (${t.key})`, onclick: () => setTool(t.id) },
        t.name,
        h('kbd', { 'aria-hidden': 'true' }, t.key),
      );
      toolButtons.set(t.id, b);
      toolGroup.append(b);
    }
    toolbar = h('div', { class: 'ia-toolbar', role: 'toolbar', 'aria-label': 'Image annotation tools' }, toolGroup, viewGroup, h('div', { class: 'ia-group', role: 'group', 'aria-label': 'History' }, undoBtn, redoBtn));
    labelBar = h('div', { class: 'ia-labels', role: 'group', 'aria-label': 'Label for new shapes' });
    labels.forEach((l, i) => {
      const key = i < 9 ? String(i + 1) : null;
      const b = btn(
        {
          class: 'ia-btn ia-label-btn',
          'data-label': l.name,
          'aria-pressed': 'false',
          'aria-keyshortcuts': key,
          title: l.description || null,
          onclick: () => pickLabel(l.name),
        },
        h('span', { class: `ia-swatch ia-bg-c${i % PALETTE_SIZE}`, 'aria-hidden': 'true' }),
        key ? h('kbd', { 'aria-hidden': 'true' }, key) : null,
        l.name,
      );
      labelButtons.set(l.name, b);
      labelBar.append(b);
    });
    if (!labels.length) labelBar.append(h('p', { class: 'note' }, 'This project has no labels, so no shape can be submitted.'));
  } else {
    toolbar = h('div', { class: 'ia-toolbar ia-toolbar-view' }, viewGroup);
  }

  const frameRect = svg('rect', { class: 'ia-frame', x: 0, y: 0, width: 0, height: 0 });
  const imageEl = svg('image', { class: 'ia-image', 'data-testid': 'ia-image', x: 0, y: 0, width: 0, height: 0, preserveAspectRatio: 'none' });
  const shapesLayer = svg('g', { class: 'ia-shapes', 'data-testid': 'ia-shapes' });
  const draftLayer = svg('g', { class: 'ia-draft', 'data-testid': 'ia-draft' });
  const handleLayer = svg('g', { class: 'ia-handles', 'data-testid': 'ia-handles' });
  const world = svg('g', { class: 'ia-world' }, frameRect, imageEl, shapesLayer, draftLayer, handleLayer);
  const svgEl = svg('svg', { class: 'ia-svg', 'aria-hidden': 'true' }, world);
  const stageMsg = h('div', { class: 'ia-stage-msg', 'data-testid': 'ia-stage-msg', role: 'alert', hidden: true });
  const stage = h(
    'div',
    {
      class: 'ia-stage',
      'data-testid': 'ia-stage',
      'data-state': imageState,
      tabindex: '0',
      role: 'application',
      'aria-roledescription': 'image annotation canvas',
      'aria-label': image.name ? `The image ${image.name} and its shapes` : 'The image and its shapes',
      'aria-describedby': readOnly ? null : hint.id,
    },
    svgEl,
    stageMsg,
  );

  const inspector = h('section', { class: 'ia-inspector', 'data-testid': 'ia-inspector', 'aria-label': 'Selected shape' });
  const listCount = h('span', { class: 'ia-count', 'data-testid': 'ia-count' });
  const hideAllBtn = btn({ class: 'ia-btn ia-small', 'data-action': 'toggle-all', 'aria-keyshortcuts': 'Shift+H', onclick: () => toggleAll() }, 'Hide all');
  const list = h('ul', { class: 'ia-list', 'data-testid': 'ia-list', 'aria-label': 'Shapes' });
  const summary = h('p', { class: 'ia-summary', 'data-testid': 'ia-summary', hidden: true });
  const emptyList = h('p', { class: 'ia-list-empty', 'data-testid': 'ia-list-empty', hidden: true }, readOnly ? 'No shapes.' : 'No shapes yet.');
  const side = h('div', { class: 'ia-side' }, inspector, h('div', { class: 'ia-list-head' }, listCount, hideAllBtn), summary, list, emptyList);

  const notes = [];
  if (prediction) {
    const who = prediction.model ? `the model ${prediction.model}` : 'a model';
    const score = isNum(prediction.score) ? ` (score ${Math.round(prediction.score * 100) / 100})` : '';
    notes.push(
      h(
        'p',
        { class: 'note prediction-note', 'data-testid': 'prediction-note' },
        initial.length ? `Pre-drawn from ${who}${score}: ${plural(initial.length, 'shape')}. Check and correct them before you submit.` : `${who[0].toUpperCase()}${who.slice(1)}${score} found no shapes on this image.`,
      ),
    );
  }
  if (unreadable) notes.push(h('p', { class: 'note', 'data-testid': 'ia-unreadable' }, `${plural(unreadable, 'shape')} of the saved answer could not be read and ${unreadable === 1 ? 'is' : 'are'} left out.`));
  if (dropped.size) notes.push(h('p', { class: 'note', 'data-testid': 'ia-dropped' }, `Attributes this project does not have were left out: ${[...dropped].join(', ')}.`));
  const sizeNote = h('p', { class: 'note', 'data-testid': 'ia-size-note', hidden: true });

  root.append(
    ...notes,
    toolbar,
    labelBar || '',
    h('div', { class: 'ia-layout' }, h('div', { class: 'ia-main' }, stage, readOnly ? null : hint, msg), side),
    sizeNote,
  );
  const rest = restOfTask(task, image, !!dataSize);
  if (rest) root.append(rest);
  el.replaceChildren(root);

  /* ---- shapes ---- */

  function colorOf(label) {
    return labelIndex.has(label) ? labelIndex.get(label) % PALETTE_SIZE : 'x';
  }

  function limits() {
    return size && !sizeGuessed ? size : { w: Infinity, h: Infinity };
  }

  function problemsOf(d) {
    const p = [];
    if (!d.label) p.push('It has no label.');
    else if (!labelIndex.has(d.label)) p.push(`Its label ${JSON.stringify(d.label)} is not one of the project's labels.`);
    if (!geometries.includes(d.type)) p.push(`This project does not take ${d.type}s.`);
    if (d.type === 'box' && !(d.width > 0 && d.height > 0)) p.push('A box needs a width and a height.');
    if (d.type === 'polygon' && d.vertices.length < 3) p.push('A polygon needs at least 3 corners.');
    if (d.type === 'line' && d.vertices.length < 2) p.push('A line needs at least 2 points.');
    const b = bbox(d);
    if (b.x1 < 0 || b.y1 < 0) p.push('It reaches past the top or left edge of the image.');
    else if (dataSize && (b.x2 > dataSize.w || b.y2 > dataSize.h)) p.push('It reaches past the edge of the image.');
    for (const a of attrs) {
      const why = attrProblem(a, d.attributes[a.name]);
      if (why) p.push(why);
    }
    return p;
  }

  function makeObject(d) {
    const tag = d.type === 'box' ? 'rect' : d.type === 'polygon' ? 'polygon' : d.type === 'line' ? 'polyline' : 'circle';
    const o = { data: d, el: null, hit: null, row: null, hidden: false, problems: [] };
    o.el = svg(tag, { 'data-id': d.id, 'data-type': d.type, 'data-testid': 'ia-shape' });
    if (d.type === 'line') o.hit = svg('polyline', { class: 'ia-hit', 'data-id': d.id });
    const swatch = h('span', { class: 'ia-swatch', 'aria-hidden': 'true' });
    const name = h('span', { class: 'ia-row-label' });
    const meta = h('span', { class: 'ia-row-meta' });
    const warn = h('span', { class: 'ia-row-warn', hidden: true }, '!');
    const main = h('button', { type: 'button', class: 'ia-row-main', 'data-act': 'select' }, swatch, h('span', { class: 'ia-row-text' }, name, meta), warn);
    const eye = h('button', { type: 'button', class: 'ia-row-btn', 'data-act': 'visibility', 'aria-pressed': 'false' }, 'Hide');
    const del = readOnly ? null : h('button', { type: 'button', class: 'ia-row-btn ia-row-del', 'data-act': 'delete', 'aria-label': 'Delete', title: 'Delete' }, '✕');
    o.row = h('li', { class: 'ia-row', 'data-id': d.id, 'data-testid': 'ia-object' }, main, eye, del);
    o.parts = { swatch, name, meta, warn, main, eye, del };
    drawObject(o);
    o.problems = problemsOf(d);
    if (o.problems.length) invalid.add(d.id);
    decorate(o);
    return o;
  }

  /* Sets the element's geometry from o.data. */
  function drawObject(o) {
    const d = o.data;
    const e = o.el;
    if (d.type === 'box') {
      e.setAttribute('x', d.x);
      e.setAttribute('y', d.y);
      e.setAttribute('width', Math.max(0, d.width));
      e.setAttribute('height', Math.max(0, d.height));
    } else if (d.type === 'point') {
      e.setAttribute('cx', d.x);
      e.setAttribute('cy', d.y);
      e.setAttribute('r', POINT_RADIUS / view.k);
    } else {
      const pts = pointsAttr(d.vertices);
      e.setAttribute('points', pts);
      if (o.hit) o.hit.setAttribute('points', pts);
    }
  }

  /* Colour, selection, visibility, problems: the element's class and its
   * row. */
  function decorate(o) {
    const d = o.data;
    const c = colorOf(d.label);
    const sel = o === selected;
    o.el.setAttribute('class', `ia-shape ia-${d.type} ia-c${c}${sel ? ' is-selected' : ''}${o.problems.length ? ' is-invalid' : ''}`);
    for (const e of [o.el, o.hit]) {
      if (!e) continue;
      if (o.hidden) e.setAttribute('display', 'none');
      else e.removeAttribute('display');
    }
    const p = o.parts;
    o.row.className = `ia-row${sel ? ' is-selected' : ''}${o.hidden ? ' is-hidden' : ''}${o.problems.length ? ' is-invalid' : ''}`;
    o.row.dataset.label = d.label;
    o.row.dataset.type = d.type;
    o.row.dataset.hidden = o.hidden ? 'true' : 'false';
    p.swatch.className = `ia-swatch ia-bg-c${c}`;
    p.name.textContent = d.label || '(no label)';
    const summaryText = attrs
      .filter((a) => d.attributes[a.name] !== undefined && d.attributes[a.name] !== '')
      .map((a) => `${a.name}: ${attrText(a, d.attributes[a.name])}`)
      .join(' · ');
    p.meta.textContent = summaryText ? `${TYPE_NAMES[d.type]} · ${summaryText}` : TYPE_NAMES[d.type];
    p.main.setAttribute('aria-current', sel ? 'true' : 'false');
    p.main.setAttribute('aria-label', `${d.label || 'no label'}, ${TYPE_NAMES[d.type].toLowerCase()}${o.problems.length ? ', needs attention' : ''}${o.hidden ? ', hidden' : ''}`);
    p.main.title = o.problems.length ? o.problems.join(' ') : '';
    p.warn.hidden = !o.problems.length;
    p.eye.textContent = o.hidden ? 'Show' : 'Hide';
    p.eye.setAttribute('aria-pressed', o.hidden ? 'true' : 'false');
    p.eye.setAttribute('aria-label', `${o.hidden ? 'Show' : 'Hide'} this ${TYPE_NAMES[d.type].toLowerCase()}`);
  }

  function firstNode(o) {
    return o.hit || o.el;
  }

  function insertObject(index, d) {
    const o = makeObject(d);
    const after = objects[index];
    objects.splice(index, 0, o);
    byId.set(d.id, o);
    usedIds.add(d.id);
    if (o.hit) shapesLayer.insertBefore(o.hit, after ? firstNode(after) : null);
    shapesLayer.insertBefore(o.el, after ? firstNode(after) : null);
    list.insertBefore(o.row, after ? after.row : null);
    updateSummary();
    return o;
  }

  function removeObject(id) {
    const o = byId.get(id);
    if (!o) return;
    if (selected === o) select(null);
    const i = objects.indexOf(o);
    if (i >= 0) objects.splice(i, 1);
    byId.delete(id);
    invalid.delete(id);
    o.el.remove();
    o.hit?.remove();
    o.row.remove();
    updateSummary();
  }

  /* Replaces o's data (never changed in place: history keeps the old). */
  function setData(o, d) {
    o.data = d;
    drawObject(o);
    o.problems = problemsOf(d);
    if (o.problems.length) invalid.add(d.id);
    else invalid.delete(d.id);
    decorate(o);
    if (o === selected) {
      drawHandles();
      refreshInspector();
    }
    updateSummary();
  }

  /* During a drag: the geometry only, once a frame. */
  function setGeometry(o, d) {
    o.data = d;
    drawObject(o);
    if (o === selected) drawHandles();
  }

  function updateSummary() {
    if (loading) return;
    const hidden = objects.reduce((n, o) => n + (o.hidden ? 1 : 0), 0);
    listCount.textContent = `${plural(objects.length, 'shape')}${hidden ? ` (${hidden} hidden)` : ''}`;
    root.dataset.count = String(objects.length);
    root.dataset.invalid = String(invalid.size);
    hideAllBtn.textContent = objects.length && objects.every((o) => o.hidden) ? 'Show all' : 'Hide all';
    hideAllBtn.disabled = !objects.length;
    list.hidden = !objects.length;
    emptyList.hidden = !!objects.length;
    if (!invalid.size || readOnly) {
      summary.hidden = true;
      return;
    }
    summary.hidden = false;
    summary.replaceChildren(
      `${plural(invalid.size, 'shape needs', 'shapes need')} attention before you can submit. `,
      h(
        'button',
        {
          type: 'button',
          class: 'ia-link',
          'data-action': 'next-invalid',
          onclick: () => {
            const start = selected ? objects.indexOf(selected) : -1;
            const n = objects.length;
            for (let i = 1; i <= n; i++) {
              const o = objects[(start + i + n) % n];
              if (o.problems.length) {
                select(o, { reveal: true });
                break;
              }
            }
          },
        },
        'Show the next one',
      ),
    );
  }

  /* ---- selection, handles, inspector ---- */

  function select(o, { reveal = false } = {}) {
    if (o && !byId.has(o.data.id)) o = null;
    const prev = selected;
    selected = o;
    if (prev && prev !== o && byId.get(prev.data.id) === prev) decorate(prev);
    if (o) {
      decorate(o);
      scrollRow(o.row);
      if (reveal) revealObject(o);
    }
    drawHandles();
    if (prev !== o || !insp) renderInspector();
  }

  function scrollRow(row) {
    const top = row.offsetTop;
    const bottom = top + row.offsetHeight;
    if (top < list.scrollTop) list.scrollTop = top;
    else if (bottom > list.scrollTop + list.clientHeight) list.scrollTop = bottom - list.clientHeight;
  }

  /* Pans (keeping the zoom) so that o is in view. */
  function revealObject(o) {
    if (!viewReady) return;
    const b = bbox(o.data);
    const w = stage.clientWidth;
    const hh = stage.clientHeight;
    const x1 = b.x1 * view.k + view.tx;
    const x2 = b.x2 * view.k + view.tx;
    const y1 = b.y1 * view.k + view.ty;
    const y2 = b.y2 * view.k + view.ty;
    if (x1 >= 0 && y1 >= 0 && x2 <= w && y2 <= hh) return;
    view.tx += w / 2 - (x1 + x2) / 2;
    view.ty += hh / 2 - (y1 + y2) / 2;
    fitted = false;
    renderView();
  }

  /* The selected shape's handles (box corners and edges, polygon and line
   * corners and edge middles) and its label, sized for the zoom.  While a
   * drag changes the shape, the same nodes are moved, not made again. */
  let handleKey = '';
  function drawHandles() {
    const o = selected;
    const specs = []; // [tag, fixed attributes, geometry]
    if (o && !o.hidden) {
      const d = o.data;
      const s = HANDLE_SIZE / view.k;
      if (!readOnly && d.type === 'box') {
        const xs = { w: d.x, c: d.x + d.width / 2, e: d.x + d.width };
        const ys = { n: d.y, c: d.y + d.height / 2, s: d.y + d.height };
        for (const name of ['nw', 'n', 'ne', 'e', 'se', 's', 'sw', 'w']) {
          const hx = xs[name.includes('w') ? 'w' : name.includes('e') ? 'e' : 'c'];
          const hy = ys[name.includes('n') ? 'n' : name.includes('s') ? 's' : 'c'];
          specs.push(['rect', { class: `ia-handle ia-h-${name}`, 'data-handle': name }, { x: hx - s / 2, y: hy - s / 2, width: s, height: s }]);
        }
      } else if (!readOnly && (d.type === 'polygon' || d.type === 'line')) {
        const vs = d.vertices;
        const n = vs.length;
        const edges = d.type === 'polygon' ? n : n - 1;
        for (let i = 0; i < edges; i++) {
          const a = vs[i];
          const b = vs[(i + 1) % n];
          specs.push(['circle', { class: 'ia-mid', 'data-mid': i }, { cx: (a.x + b.x) / 2, cy: (a.y + b.y) / 2, r: s / 3 }]);
        }
        vs.forEach((v, i) => specs.push(['circle', { class: 'ia-vertex', 'data-vertex': i }, { cx: v.x, cy: v.y, r: s / 2 }]));
      }
      const b = bbox(d);
      const fs = 12 / view.k;
      specs.push(['text', { class: 'ia-tag' }, { x: b.x1 + (d.type === 'point' ? s / 2 : s * 0.7), y: Math.max(b.y1 - 4 / view.k, fs), 'font-size': fs }]);
    }
    const key = o && specs.length ? `${o.data.id}:${specs.length}` : '';
    const label = o ? o.data.label || '(no label)' : '';
    if (key && key === handleKey && handleLayer.childNodes.length === specs.length) {
      specs.forEach(([, , geo], i) => {
        const n = handleLayer.childNodes[i];
        for (const [k, v] of Object.entries(geo)) n.setAttribute(k, v);
      });
      const tag = handleLayer.lastChild;
      if (tag.textContent !== label) tag.textContent = label;
      return;
    }
    handleKey = key;
    handleLayer.replaceChildren(...specs.map(([tag, fixed, geo]) => svg(tag, { ...fixed, ...geo }, tag === 'text' ? label : null)));
  }

  function renderInspector() {
    const o = selected;
    insp = null;
    if (!o) {
      inspector.replaceChildren(
        h('p', { class: 'ia-muted', 'data-testid': 'ia-no-selection' }, readOnly
            ? 'Click a shape or a row to see its label and attributes.'
            : objects.length
              ? 'Nothing selected. Click a shape (Select tool) or a row below to change its label and attributes.'
              : 'No shapes yet: draw one on the image with a tool above.'),
      );
      return;
    }
    const d = o.data;
    const labelSel = h('select', { id: `${uid}-label`, class: 'ia-input', 'data-field': 'label', disabled: readOnly });
    const fillLabels = () => {
      const opts = labels.map((l) => h('option', { value: l.name }, l.name));
      if (!labelIndex.has(o.data.label)) opts.unshift(h('option', { value: o.data.label }, o.data.label ? `${o.data.label} (not a label of this project)` : '(no label)'));
      labelSel.replaceChildren(...opts);
      labelSel.value = o.data.label;
    };
    fillLabels();
    labelSel.addEventListener('change', () => {
      if (labelIndex.has(labelSel.value)) changeLabel(o, labelSel.value);
    });
    const fields = new Map();
    const attrNodes = attrs.map((a, i) => {
      const id = `${uid}-attr-${i}`;
      const descId = a.description ? `${id}-desc` : null;
      let input;
      const common = { id, class: 'ia-input', 'data-attr': a.name, disabled: readOnly, 'aria-describedby': descId, 'aria-required': a.required ? 'true' : null };
      if (a.type === 'category') {
        input = h('select', common, h('option', { value: '' }, '— not set —'), a.choices.map((c) => h('option', { value: c.name, title: c.description || null }, c.name)));
        input.addEventListener('change', () => setAttr(o, a, input.value === '' ? undefined : input.value));
      } else if (a.type === 'number') {
        input = h('input', { ...common, type: 'number', step: 'any', min: a.min ?? null, max: a.max ?? null, inputmode: 'decimal', autocomplete: 'off' });
        input.addEventListener('input', () => {
          if (input.value === '') {
            if (input.validity.badInput) return; // a half-typed number
            setAttr(o, a, undefined, `attr:${o.data.id}:${a.name}`);
            return;
          }
          const v = Number(input.value);
          if (Number.isFinite(v)) setAttr(o, a, v, `attr:${o.data.id}:${a.name}`);
        });
      } else if (a.type === 'text') {
        input = h('input', { ...common, type: 'text', autocomplete: 'off', maxlength: '10000' });
        input.addEventListener('input', () => setAttr(o, a, input.value === '' ? undefined : input.value, `attr:${o.data.id}:${a.name}`));
      } else {
        input = h('input', { ...common, type: 'checkbox' });
        input.addEventListener('change', () => setAttr(o, a, input.checked));
      }
      input.addEventListener('blur', () => {
        coalesceKey = null;
      });
      fields.set(a.name, { a, input });
      const label = h('label', { for: id }, a.name, a.required ? h('span', { class: 'ia-req', 'aria-hidden': 'true' }, ' *') : null, a.required ? h('span', { class: 'visually-hidden' }, ' (required)') : null);
      const desc = a.description ? h('span', { class: 'ia-desc', id: descId }, a.description) : null;
      const range = a.type === 'number' && (a.min !== null || a.max !== null) ? h('span', { class: 'ia-desc' }, a.min !== null && a.max !== null ? `${a.min} to ${a.max}` : a.min !== null ? `at least ${a.min}` : `at most ${a.max}`) : null;
      if (a.type === 'boolean') return h('div', { class: 'ia-field ia-field-check', 'data-attr-field': a.name }, input, label, desc);
      return h('div', { class: 'ia-field', 'data-attr-field': a.name }, label, input, desc, range);
    });
    const problems = h('ul', { class: 'ia-problems', 'data-testid': 'ia-problems' });
    const actions = readOnly
      ? null
      : h(
          'div',
          { class: 'ia-insp-actions' },
          btn({ class: 'ia-btn ia-small', 'data-action': 'hide-selected', 'aria-keyshortcuts': 'h', onclick: () => toggleHidden(o) }, o.hidden ? 'Show' : 'Hide'),
          btn({ class: 'ia-btn ia-small ia-danger', 'data-action': 'delete-selected', 'aria-keyshortcuts': 'Delete', onclick: () => deleteObject(o) }, 'Delete'),
        );
    inspector.replaceChildren(
      h('div', { class: 'ia-insp-head' }, h('strong', null, TYPE_NAMES[d.type]), h('span', { class: 'ia-muted ia-id', 'data-testid': 'ia-selected-id' }, d.id)),
      h('div', { class: 'ia-field' }, h('label', { for: labelSel.id }, 'Label'), labelSel),
      ...attrNodes,
      problems,
      actions || '',
    );
    insp = { o, labelSel, fillLabels, fields, problems, actions };
    refreshInspector();
  }

  /* Shows the selected shape's values in the inspector without rebuilding
   * it (the field being typed in keeps its text). */
  function refreshInspector() {
    const o = selected;
    if (!insp || insp.o !== o) {
      renderInspector();
      return;
    }
    const d = o.data;
    if (insp.labelSel.value !== d.label || !labelIndex.has(d.label)) insp.fillLabels();
    for (const { a, input } of insp.fields.values()) {
      const v = d.attributes[a.name];
      const bad = attrProblem(a, v);
      if (input !== document.activeElement) {
        if (a.type === 'boolean') {
          input.checked = v === true;
          input.indeterminate = v === undefined;
        } else if (a.type === 'category') {
          if (v !== undefined && !a.choices.some((c) => c.name === v) && ![...input.options].some((op) => op.value === v)) input.append(h('option', { value: String(v) }, `${v} (not a choice)`));
          input.value = v === undefined ? '' : String(v);
        } else input.value = v === undefined ? '' : String(v);
      }
      if (bad) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
    insp.problems.replaceChildren(...o.problems.map((t) => h('li', null, t)));
    insp.problems.hidden = !o.problems.length;
    const hideBtn = insp.actions?.querySelector('[data-action=hide-selected]');
    if (hideBtn) hideBtn.textContent = o.hidden ? 'Show' : 'Hide';
  }

  /* ---- history ---- */

  /* Records ops (already applied).  key: consecutive records with the same
   * key and one update of the same shape make one step (typing, nudges). */
  function commit(ops, key = null) {
    if (!ops.length) return;
    const last = history[history.length - 1];
    if (key && coalesceKey === key && last && last.ops.length === 1 && ops.length === 1 && last.ops[0].op === 'update' && ops[0].op === 'update' && last.ops[0].id === ops[0].id) {
      last.ops[0].after = ops[0].after;
    } else {
      history.push({ ops });
      if (history.length > HISTORY_MAX) history.shift();
    }
    coalesceKey = key;
    future.length = 0;
    updateHistoryButtons();
    emit();
  }

  function change(o, after, key = null) {
    const before = o.data;
    setData(o, after);
    commit([{ op: 'update', id: after.id, before, after }], key);
  }

  function applyOp(op, forward) {
    if (op.op === 'update') {
      const o = byId.get(op.id);
      if (o) setData(o, forward ? op.after : op.before);
      return o || null;
    }
    if ((op.op === 'add') === forward) return insertObject(Math.min(op.index, objects.length), op.data);
    removeObject(op.data.id);
    return null;
  }

  function undo() {
    if (readOnly || !alive) return false;
    if (drawing) {
      removeLastVertex();
      return true;
    }
    cancelDrag();
    const e = history.pop();
    if (!e) {
      say('Nothing to undo.');
      return true;
    }
    let focus = null;
    for (const op of [...e.ops].reverse()) focus = applyOp(op, false) || focus;
    future.push(e);
    coalesceKey = null;
    select(focus, { reveal: true });
    updateHistoryButtons();
    say('Undone.');
    emit();
    return true;
  }

  function redo() {
    if (readOnly || !alive) return false;
    if (drawing) return true;
    cancelDrag();
    const e = future.pop();
    if (!e) {
      say('Nothing to redo.');
      return true;
    }
    let focus = null;
    for (const op of e.ops) focus = applyOp(op, true) || focus;
    history.push(e);
    coalesceKey = null;
    select(focus, { reveal: true });
    updateHistoryButtons();
    say('Redone.');
    emit();
    return true;
  }

  function updateHistoryButtons() {
    undoBtn.disabled = !history.length;
    redoBtn.disabled = !future.length;
  }

  function current() {
    return { annotations: objects.map((o) => outShape(o.data)) };
  }

  function emit() {
    if (readOnly || !alive) return;
    onChange?.(current());
  }

  function say(text) {
    msg.textContent = text;
  }

  /* ---- editing ---- */

  function defaultAttributes() {
    const out = {};
    for (const a of attrs) if (a.type === 'boolean') out[a.name] = false;
    return out;
  }

  function createShape(g) {
    const d = { id: newId(), type: g.type, label: currentLabel };
    if (g.type === 'box') Object.assign(d, { x: r2(g.x), y: r2(g.y), width: r2(g.width), height: r2(g.height) });
    else if (g.type === 'point') Object.assign(d, { x: r2(g.x), y: r2(g.y) });
    else d.vertices = g.vertices.map((v) => ({ x: r2(v.x), y: r2(v.y) }));
    d.attributes = defaultAttributes();
    const index = objects.length;
    const o = insertObject(index, d);
    commit([{ op: 'add', index, data: d }]);
    select(o);
    const need = o.problems.length ? ` It needs: ${o.problems.join(' ')}` : '';
    say(`${TYPE_NAMES[d.type]} added${d.label ? ` as ${d.label}` : ''}.${need}`);
    return o;
  }

  function deleteObject(o) {
    if (readOnly || !o || !byId.has(o.data.id)) return;
    const index = objects.indexOf(o);
    const d = o.data;
    removeObject(d.id);
    commit([{ op: 'remove', index, data: d }]);
    say(`${TYPE_NAMES[d.type]}${d.label ? ` (${d.label})` : ''} deleted. Ctrl+Z brings it back.`);
  }

  function changeLabel(o, name) {
    if (readOnly || o.data.label === name) return;
    change(o, { ...o.data, label: name });
    say(`Label: ${name}.`);
  }

  function setAttr(o, a, v, key = null) {
    if (readOnly || !byId.has(o.data.id)) return;
    const attributes = { ...o.data.attributes };
    if (v === undefined) delete attributes[a.name];
    else attributes[a.name] = v;
    if (JSON.stringify(attributes) === JSON.stringify(o.data.attributes)) return;
    change(o, { ...o.data, attributes }, key);
  }

  function pickLabel(name) {
    if (readOnly || !labelIndex.has(name)) return;
    currentLabel = name;
    for (const [n, b] of labelButtons) b.setAttribute('aria-pressed', n === name ? 'true' : 'false');
    if (selected) changeLabel(selected, name);
    else say(`New shapes get the label ${name}.`);
  }

  function toggleHidden(o) {
    if (!o) return;
    o.hidden = !o.hidden;
    decorate(o);
    if (o === selected) {
      drawHandles();
      refreshInspector();
    }
    updateSummary();
  }

  function toggleAll() {
    const hide = objects.some((o) => !o.hidden);
    for (const o of objects) {
      if (o.hidden === hide) continue;
      o.hidden = hide;
      decorate(o);
    }
    drawHandles();
    if (insp) refreshInspector();
    updateSummary();
    say(hide ? 'Every shape is hidden.' : 'Every shape is shown.');
  }

  /* dx, dy limited so that the shape stays inside the image. */
  function clampDelta(d, dx, dy) {
    const b = bbox(d);
    const lim = limits();
    return { dx: clamp(dx, -b.x1, lim.w - b.x2), dy: clamp(dy, -b.y1, lim.h - b.y2) };
  }

  function nudge(dx, dy) {
    const o = selected;
    if (!o || o.hidden) return false;
    const c = clampDelta(o.data, dx, dy);
    if (!c.dx && !c.dy) return true;
    change(o, translated(o.data, c.dx, c.dy), `nudge:${o.data.id}`);
    return true;
  }

  function removeVertex(o, i) {
    const d = o.data;
    const min = d.type === 'polygon' ? 3 : 2;
    if (d.vertices.length <= min) {
      say(`A ${d.type} needs at least ${min} ${d.type === 'polygon' ? 'corners' : 'points'}: delete the ${d.type} instead.`);
      return;
    }
    change(o, { ...d, vertices: d.vertices.filter((_, j) => j !== i) });
  }

  function selectStep(step) {
    const visible = objects.filter((o) => !o.hidden);
    if (!visible.length) return false;
    const at = selected ? visible.indexOf(selected) : -1;
    const next = at < 0 ? (step > 0 ? 0 : visible.length - 1) : (at + step + visible.length) % visible.length;
    select(visible[next], { reveal: true });
    return true;
  }

  /* ---- tools and drawing ---- */

  function canDraw() {
    return !!size && !sizeGuessed;
  }

  function setTool(t) {
    if (readOnly || !toolButtons.has(t)) return false;
    if (drawing && t !== tool) cancelDrawing();
    tool = t;
    for (const [id, b] of toolButtons) b.setAttribute('aria-pressed', id === t ? 'true' : 'false');
    stage.dataset.tool = t;
    const info = TOOLS.find((x) => x.id === t);
    hint.textContent = t !== 'select' && !canDraw() && imageState !== 'loading' ? 'Shapes cannot be drawn: the image could not be loaded and the task does not give its size.' : info.hint;
    return true;
  }

  function clampPoint(p) {
    const lim = limits();
    return { x: r2(clamp(p.x, 0, lim.w)), y: r2(clamp(p.y, 0, lim.h)) };
  }

  function startDrawing(type, p) {
    select(null); // a label key while drawing is for the new shape
    drawing = { type, vertices: [p] };
    hover = p;
    drawDraft();
    say(type === 'polygon' ? 'Polygon started: click the next corners.' : 'Line started: click the next points.');
  }

  function finishDrawing() {
    if (!drawing) return false;
    const need = drawing.type === 'polygon' ? 3 : 2;
    if (drawing.vertices.length < need) {
      say(`A ${drawing.type} needs at least ${need} ${drawing.type === 'polygon' ? 'corners' : 'points'}: add more, or press Esc to cancel it.`);
      return false;
    }
    const g = { type: drawing.type, vertices: drawing.vertices };
    drawing = null;
    hover = null;
    drawDraft();
    createShape(g);
    return true;
  }

  function cancelDrawing() {
    if (!drawing) return false;
    drawing = null;
    hover = null;
    drawDraft();
    say('Shape cancelled.');
    return true;
  }

  function removeLastVertex() {
    if (!drawing) return false;
    drawing.vertices.pop();
    if (!drawing.vertices.length) cancelDrawing();
    else drawDraft();
    return true;
  }

  /* The shape being drawn: the box being dragged, or the polygon or line
   * being clicked in with a segment to the pointer. */
  function drawDraft() {
    const nodes = [];
    const k = view.k;
    if (drag && drag.kind === 'newbox' && drag.started && drag.box) {
      const b = drag.box;
      nodes.push(svg('rect', { class: `ia-draft-shape ia-c${colorOf(currentLabel)}`, x: b.x, y: b.y, width: b.width, height: b.height }));
    }
    if (drawing) {
      const vs = drawing.vertices;
      const pts = hover ? [...vs, hover] : vs;
      const c = colorOf(currentLabel);
      if (drawing.type === 'polygon' && pts.length >= 3) nodes.push(svg('polygon', { class: `ia-draft-fill ia-c${c}`, points: pointsAttr(pts) }));
      nodes.push(svg('polyline', { class: `ia-draft-shape ia-c${c}`, points: pointsAttr(pts) }));
      vs.forEach((v, i) => nodes.push(svg('circle', { class: `ia-draft-vertex${i === 0 && drawing.type === 'polygon' && vs.length >= 3 ? ' is-first' : ''}`, cx: v.x, cy: v.y, r: (i === 0 ? 5 : 3.5) / k })));
    }
    draftLayer.replaceChildren(...nodes);
  }

  /* ---- view ---- */

  function fitScale() {
    const s = size;
    const w = stage.clientWidth;
    const hh = stage.clientHeight;
    if (!s || !w || !hh) return 0;
    const pad = Math.min(16, w / 10, hh / 10);
    return Math.max(1e-4, Math.min((w - 2 * pad) / s.w, (hh - 2 * pad) / s.h));
  }

  function fitView() {
    const k = fitScale();
    if (!k) return;
    view.k = k;
    view.tx = (stage.clientWidth - size.w * k) / 2;
    view.ty = (stage.clientHeight - size.h * k) / 2;
    fitted = true;
    viewReady = true;
    renderView();
  }

  function zoomAt(factor, sx, sy) {
    if (!viewReady) return;
    const min = Math.min(fitScale() / 4 || 0.01, 1);
    const k = clamp(view.k * factor, min, MAX_ZOOM);
    const f = k / view.k;
    view.tx = sx - (sx - view.tx) * f;
    view.ty = sy - (sy - view.ty) * f;
    view.k = k;
    fitted = false;
    renderView();
  }

  function zoomBy(factor) {
    zoomAt(factor, stage.clientWidth / 2, stage.clientHeight / 2);
  }

  function panBy(dx, dy) {
    if (!viewReady) return;
    view.tx += dx;
    view.ty += dy;
    fitted = false;
    renderView();
  }

  /* The transform now; the zoom-dependent sizes (point radii, handles) on
   * the next frame. */
  function renderView() {
    world.setAttribute('transform', `matrix(${view.k} 0 0 ${view.k} ${view.tx} ${view.ty})`);
    zoomLabel.textContent = `${Math.round(view.k * 100)}%`;
    stage.dataset.zoom = String(Math.round(view.k * 1000) / 1000);
    stage.classList.toggle('ia-pixelated', view.k >= 3);
    viewDirty = true;
    schedule();
  }

  function resizeForZoom() {
    if (radiusK === view.k) return;
    radiusK = view.k;
    const r = POINT_RADIUS / view.k;
    for (const o of objects) if (o.data.type === 'point') o.el.setAttribute('r', r);
    drawHandles();
    drawDraft();
  }

  function schedule() {
    if (!raf && alive) raf = requestAnimationFrame(onFrame);
  }

  function onFrame() {
    raf = 0;
    if (!alive) return;
    if (pendingPointer && drag) {
      const p = pendingPointer;
      pendingPointer = null;
      dragTo(p);
    }
    if (viewDirty) {
      viewDirty = false;
      resizeForZoom();
    }
    if (drawing) drawDraft();
  }

  function toImage(clientX, clientY) {
    const r = svgEl.getBoundingClientRect();
    return { x: (clientX - r.left - view.tx) / view.k, y: (clientY - r.top - view.ty) / view.k };
  }

  /* ---- the pointer ---- */

  function disabled() {
    return !alive || !!el.closest('fieldset[disabled]');
  }

  function shapeAt(target) {
    const e = target instanceof Element ? target.closest('[data-id]') : null;
    return e && shapesLayer.contains(e) ? byId.get(e.getAttribute('data-id')) || null : null;
  }

  function startDrag(ev, d) {
    drag = { ...d, pointerId: ev.pointerId, sx0: ev.clientX, sy0: ev.clientY, started: false, data0: d.o ? d.o.data : null };
    try {
      stage.setPointerCapture(ev.pointerId);
    } catch {
      /* the pointer is already gone */
    }
  }

  function startPan(ev) {
    startDrag(ev, { kind: 'pan', tx0: view.tx, ty0: view.ty });
    drag.started = ev.button === 1 || spaceHeld || ev.ctrlKey || ev.metaKey;
    if (drag.started) stage.classList.add('ia-panning');
  }

  function onPointerDown(ev) {
    if (!alive || drag) return;
    if (ev.pointerType === 'mouse' && ev.button !== 0 && ev.button !== 1) return;
    if (!readOnly && disabled()) return;
    if (document.activeElement !== stage) stage.focus({ preventScroll: true });
    if (!viewReady) return;
    ev.preventDefault();
    const target = ev.target instanceof Element ? ev.target : null;
    if (ev.button === 1 || spaceHeld || ev.ctrlKey || ev.metaKey) {
      startPan(ev);
      return;
    }
    const p = toImage(ev.clientX, ev.clientY);
    if (readOnly) {
      const o = shapeAt(target);
      if (o) select(o);
      startPan(ev);
      drag.clickClears = !o;
      return;
    }
    const hd = target && selected ? target.closest('[data-handle],[data-vertex],[data-mid]') : null;
    if (hd && handleLayer.contains(hd)) {
      const o = selected;
      if (hd.hasAttribute('data-vertex')) {
        const i = Number(hd.getAttribute('data-vertex'));
        if (ev.altKey) removeVertex(o, i);
        else startDrag(ev, { kind: 'vertex', o, index: i });
      } else if (hd.hasAttribute('data-mid')) startDrag(ev, { kind: 'mid', o, index: Number(hd.getAttribute('data-mid')) });
      else startDrag(ev, { kind: 'resize', o, handle: hd.getAttribute('data-handle') });
      return;
    }
    if (drawing) {
      const vs = drawing.vertices;
      const q = clampPoint(p);
      const px = (a, b) => Math.hypot(a.x - b.x, a.y - b.y) * view.k;
      if (drawing.type === 'polygon' && vs.length >= 3 && px(p, vs[0]) <= HANDLE_SIZE) {
        finishDrawing();
        return;
      }
      if (px(q, vs[vs.length - 1]) < 2) return;
      vs.push(q);
      hover = q;
      drawDraft();
      return;
    }
    if (tool === 'select') {
      const o = shapeAt(target);
      if (o) {
        select(o);
        startDrag(ev, { kind: 'move', o });
      } else {
        select(null);
        startPan(ev);
      }
      return;
    }
    if (!canDraw()) {
      say('Shapes cannot be drawn here: the image could not be loaded and the task does not give its size.');
      return;
    }
    const q = clampPoint(p);
    if (tool === 'box') startDrag(ev, { kind: 'newbox', start: q, target });
    else if (tool === 'polygon' || tool === 'line') startDrawing(tool, q);
    else if (tool === 'point') createShape({ type: 'point', x: q.x, y: q.y });
  }

  function onPointerMove(ev) {
    if (drag && ev.pointerId === drag.pointerId) {
      pendingPointer = { x: ev.clientX, y: ev.clientY };
      schedule();
    } else if (drawing && viewReady) {
      hover = clampPoint(toImage(ev.clientX, ev.clientY));
      schedule();
    }
  }

  function dragTo(ptr) {
    const d = drag;
    const dxs = ptr.x - d.sx0;
    const dys = ptr.y - d.sy0;
    if (!d.started) {
      if (Math.hypot(dxs, dys) < DRAG_THRESHOLD) return;
      d.started = true;
      if (d.kind === 'pan') stage.classList.add('ia-panning');
    }
    const k = view.k;
    const lim = limits();
    switch (d.kind) {
      case 'pan':
        view.tx = d.tx0 + dxs;
        view.ty = d.ty0 + dys;
        fitted = false;
        renderView();
        break;
      case 'move': {
        const c = clampDelta(d.data0, dxs / k, dys / k);
        setGeometry(d.o, translated(d.data0, c.dx, c.dy));
        break;
      }
      case 'resize': {
        const p = clampPoint(toImage(ptr.x, ptr.y));
        const b = d.data0;
        let x1 = b.x;
        let y1 = b.y;
        let x2 = b.x + b.width;
        let y2 = b.y + b.height;
        if (d.handle.includes('w')) x1 = p.x;
        if (d.handle.includes('e')) x2 = p.x;
        if (d.handle.includes('n')) y1 = p.y;
        if (d.handle.includes('s')) y2 = p.y;
        let x = Math.min(x1, x2);
        let y = Math.min(y1, y2);
        const w = Math.max(0.01, Math.abs(x2 - x1));
        const hh = Math.max(0.01, Math.abs(y2 - y1));
        x = Math.min(x, lim.w - w);
        y = Math.min(y, lim.h - hh);
        setGeometry(d.o, { ...b, x: r2(x), y: r2(y), width: r2(w), height: r2(hh) });
        break;
      }
      case 'mid':
      case 'vertex': {
        const p = clampPoint(toImage(ptr.x, ptr.y));
        const vs = d.data0.vertices.slice();
        if (d.kind === 'mid') vs.splice(d.index + 1, 0, p);
        else vs[d.index] = p;
        setGeometry(d.o, { ...d.data0, vertices: vs });
        break;
      }
      case 'newbox': {
        const p = clampPoint(toImage(ptr.x, ptr.y));
        const s = d.start;
        d.box = { x: Math.min(s.x, p.x), y: Math.min(s.y, p.y), width: Math.abs(p.x - s.x), height: Math.abs(p.y - s.y) };
        drawDraft();
        break;
      }
      default:
        break;
    }
  }

  function endDrag(ev, cancelled = false) {
    const d = drag;
    if (!d) return;
    if (!cancelled && pendingPointer) {
      const p = pendingPointer;
      pendingPointer = null;
      dragTo(p);
    }
    pendingPointer = null;
    drag = null;
    stage.classList.remove('ia-panning');
    try {
      if (ev && stage.hasPointerCapture(d.pointerId)) stage.releasePointerCapture(d.pointerId);
    } catch {
      /* released already */
    }
    if (d.kind === 'newbox') {
      drawDraft();
      if (cancelled) return;
      const b = d.box;
      if (d.started && b && b.width * view.k >= DRAG_THRESHOLD && b.height * view.k >= DRAG_THRESHOLD && b.width > 0 && b.height > 0) {
        createShape({ type: 'box', ...b });
      } else if (!d.started) {
        const o = shapeAt(d.target);
        if (o) select(o);
        else say('Drag on the image to draw a box.');
      } else say('That box is too small: drag further.');
      return;
    }
    if (d.kind === 'pan') {
      if (!d.started && d.clickClears) select(null);
      return;
    }
    const o = d.o;
    if (!byId.has(o.data.id)) return;
    if (cancelled || !d.started) {
      if (o.data !== d.data0) setGeometry(o, d.data0);
      return;
    }
    const after = o.data;
    o.data = d.data0;
    if (JSON.stringify(outShape(after)) !== JSON.stringify(outShape(d.data0))) change(o, after);
    else setData(o, d.data0);
  }

  function cancelDrag() {
    if (drag) endDrag(null, true);
  }

  stage.addEventListener('pointerdown', onPointerDown);
  stage.addEventListener('pointermove', onPointerMove);
  stage.addEventListener('pointerup', (ev) => {
    if (drag && ev.pointerId === drag.pointerId) endDrag(ev);
  });
  stage.addEventListener('pointercancel', (ev) => {
    if (drag && ev.pointerId === drag.pointerId) endDrag(ev, true);
  });
  stage.addEventListener('pointerleave', () => {
    if (drawing && hover && !drag) {
      hover = null;
      drawDraft();
    }
  });
  stage.addEventListener('dblclick', (ev) => {
    if (readOnly || !drawing) return;
    ev.preventDefault();
    const vs = drawing.vertices;
    // The double-click's second press may have added a point beside the first.
    if (vs.length >= 2) {
      const a = vs[vs.length - 1];
      const b = vs[vs.length - 2];
      if (Math.hypot(a.x - b.x, a.y - b.y) * view.k < 6) vs.pop();
    }
    finishDrawing();
  });
  stage.addEventListener('contextmenu', (ev) => {
    if (readOnly || !selected) return;
    const v = ev.target instanceof Element ? ev.target.closest('[data-vertex]') : null;
    if (!v || !handleLayer.contains(v)) return;
    ev.preventDefault();
    removeVertex(selected, Number(v.getAttribute('data-vertex')));
  });
  stage.addEventListener('mousedown', (ev) => {
    // No text selection, no middle-button autoscroll.
    ev.preventDefault();
  });
  stage.addEventListener('auxclick', (ev) => {
    if (ev.button === 1) ev.preventDefault();
  });
  stage.addEventListener(
    'wheel',
    (ev) => {
      if (!viewReady || (readOnly && !ev.ctrlKey)) return;
      ev.preventDefault();
      let dy = ev.deltaY;
      if (ev.deltaMode === 1) dy *= 16;
      else if (ev.deltaMode === 2) dy *= 400;
      const r = svgEl.getBoundingClientRect();
      zoomAt(Math.exp(-clamp(dy, -600, 600) * 0.002), ev.clientX - r.left, ev.clientY - r.top);
    },
    { passive: false },
  );

  list.addEventListener('click', (ev) => {
    const b = ev.target instanceof Element ? ev.target.closest('button[data-act]') : null;
    const row = b?.closest('li[data-id]');
    const o = row ? byId.get(row.dataset.id) : null;
    if (!o) return;
    const act = b.dataset.act;
    if (act === 'select') {
      if (o.hidden) toggleHidden(o);
      select(o, { reveal: true });
    } else if (act === 'visibility') toggleHidden(o);
    else if (act === 'delete' && !disabled()) deleteObject(o);
  });

  /* ---- keys ---- */

  function keys(ev) {
    if (readOnly || !alive || ev.ctrlKey || ev.metaKey || ev.altKey) return false;
    const k = ev.key;
    // (A workspace may offer Escape here; the document listener below takes
    // it otherwise.)
    if (k === 'Escape') return !isTyping(ev.target) && escape();
    const onControl = ev.target instanceof Element && !!ev.target.closest('button, select, input, a[href], summary, textarea');
    if (drawing) {
      if (k === 'Enter') {
        if (!ev.repeat) finishDrawing();
        return true;
      }
      if (k === 'Backspace' || k === 'Delete') return removeLastVertex();
    }
    if (k === 'Enter') return false;
    if (k === ' ') {
      if (onControl) return false;
      spaceHeld = true;
      stage.classList.add('ia-space');
      return true;
    }
    const t = TOOLS.find((x) => x.key === k);
    if (t) return setTool(t.id) || false;
    if (/^[1-9]$/.test(k)) {
      const l = labels[Number(k) - 1];
      if (!l) return false;
      pickLabel(l.name);
      return true;
    }
    if (k === 'Delete' || k === 'Backspace') {
      if (!selected) return false;
      deleteObject(selected);
      return true;
    }
    if (k.startsWith('Arrow')) {
      const step = ev.shiftKey ? 10 : 1;
      const dx = k === 'ArrowLeft' ? -1 : k === 'ArrowRight' ? 1 : 0;
      const dy = k === 'ArrowUp' ? -1 : k === 'ArrowDown' ? 1 : 0;
      if (selected && !selected.hidden) return nudge(dx * step, dy * step);
      if (!viewReady) return false;
      panBy(-dx * NUDGE_PAN * (ev.shiftKey ? 4 : 1), -dy * NUDGE_PAN * (ev.shiftKey ? 4 : 1));
      return true;
    }
    if (k === '+' || k === '=') {
      zoomBy(ZOOM_STEP);
      return true;
    }
    if (k === '-' || k === '_') {
      zoomBy(1 / ZOOM_STEP);
      return true;
    }
    if (k === '0') {
      fitView();
      return true;
    }
    if (k === 'n' || k === 'N') return selectStep(ev.shiftKey ? -1 : 1);
    if (k === 'h') {
      if (!selected) return false;
      toggleHidden(selected);
      return true;
    }
    if (k === 'H') {
      toggleAll();
      return true;
    }
    return false;
  }

  /* Ctrl+Z, Ctrl+Y and Escape, which the workspace keeps from keys(). */
  function onDocKey(ev) {
    if (!alive || ev.defaultPrevented || ev.isComposing || !root.isConnected) return;
    if (isTyping(ev.target) || disabled()) return;
    const other = ev.target instanceof Element ? ev.target.closest('.ia-editor') : null;
    if (other && other !== root) return;
    if (ev.target instanceof Element && ev.target.closest('dialog[open]')) return;
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
    if (ev.key === 'Escape' && escape()) ev.preventDefault();
  }

  /* Escape: cancels a drag or the shape being drawn, else unselects; false
   * if there was nothing to do. */
  function escape() {
    if (drag) cancelDrag();
    else if (drawing) cancelDrawing();
    else if (selected) select(null);
    else return false;
    return true;
  }

  function onDocKeyUp(ev) {
    if (ev.key === ' ' && spaceHeld) {
      spaceHeld = false;
      stage.classList.remove('ia-space');
    }
  }

  function onBlur() {
    spaceHeld = false;
    stage.classList.remove('ia-space');
    cancelDrag();
  }

  if (!readOnly) {
    document.addEventListener('keydown', onDocKey);
    document.addEventListener('keyup', onDocKeyUp);
    window.addEventListener('blur', onBlur);
  }

  /* ---- the image ---- */

  function showStageMsg(text, tone = 'info') {
    stageMsg.textContent = text;
    stageMsg.dataset.tone = tone;
    stageMsg.hidden = !text;
  }

  /* The coordinate space is known (or guessed): size the image and fit. */
  function useSize() {
    frameRect.setAttribute('width', size.w);
    frameRect.setAttribute('height', size.h);
    imageEl.setAttribute('width', size.w);
    imageEl.setAttribute('height', size.h);
    stage.dataset.width = String(size.w);
    stage.dataset.height = String(size.h);
    fitView();
    setTool(tool);
  }

  function extentOfShapes() {
    let w = 0;
    let hh = 0;
    for (const o of objects) {
      const b = bbox(o.data);
      w = Math.max(w, b.x2);
      hh = Math.max(hh, b.y2);
    }
    return w > 0 && hh > 0 ? { w: Math.ceil(w * 1.05), h: Math.ceil(hh * 1.05) } : { w: 640, h: 480 };
  }

  function imageFailed(text) {
    imageState = image.url ? 'failed' : 'none';
    stage.dataset.state = imageState;
    if (dataSize) {
      showStageMsg(`${text} ${readOnly ? 'The shapes are drawn on a blank canvas of its size.' : 'You can still draw on a blank canvas of its size, but check the image first.'}`, 'warn');
    } else {
      size = extentOfShapes();
      sizeGuessed = true;
      showStageMsg(`${text} The task does not give the image's size, so ${readOnly ? 'the shapes are drawn on a blank canvas.' : 'no shape can be drawn; the shapes there are can still be labelled or deleted.'}`, 'error');
    }
    useSize();
  }

  let probe = null;
  if (image.url) {
    imageEl.setAttribute('href', image.url);
    probe = new Image();
    probe.decoding = 'async';
    probe.onload = () => {
      if (!alive) return;
      const nat = { w: probe.naturalWidth, h: probe.naturalHeight };
      if (!nat.w || !nat.h) {
        imageFailed('The image has no size (is it an image?).');
        return;
      }
      imageState = 'ready';
      stage.dataset.state = 'ready';
      showStageMsg('');
      if (!size) size = nat;
      else if (Math.abs(nat.w - size.w) > 0.5 || Math.abs(nat.h - size.h) > 0.5) {
        sizeNote.textContent = `The image is ${nat.w} × ${nat.h} pixels but the task gives ${size.w} × ${size.h}: the image is stretched to that size, and shapes use the task's coordinates.`;
        sizeNote.hidden = false;
      }
      useSize();
    };
    probe.onerror = () => {
      if (!alive) return;
      imageFailed('The image could not be loaded.');
      const link = h('a', { href: image.url, target: '_blank', rel: 'noopener noreferrer' }, 'Open it in a new tab');
      stageMsg.append(' ', link, '.');
    };
    probe.src = image.url;
    showStageMsg('Loading the image…');
    if (size) useSize(); // draw on the known size while the image arrives
  } else {
    imageFailed(image.index >= 0 ? 'The image has no address this page can open.' : 'This task has no image.');
  }

  const ro = new ResizeObserver(() => {
    if (!alive || !size) return;
    if (fitted || !viewReady) fitView();
    else renderView();
  });
  ro.observe(stage);

  /* ---- first draw ---- */
  {
    const shapesFrag = document.createDocumentFragment();
    const rowsFrag = document.createDocumentFragment();
    for (const d of initial) {
      const o = makeObject(d);
      objects.push(o);
      byId.set(d.id, o);
      if (o.hit) shapesFrag.append(o.hit);
      shapesFrag.append(o.el);
      rowsFrag.append(o.row);
    }
    shapesLayer.append(shapesFrag);
    list.append(rowsFrag);
    loading = false;
    updateSummary();
    // Showing only the task's image (no answer): no empty list beside it.
    if (readOnly && !objects.length) side.hidden = true;
    if (!readOnly) {
      setTool(objects.length || !geometries.length ? 'select' : geometries[0]);
      pickLabelQuiet(currentLabel);
    }
    renderInspector();
    updateHistoryButtons();
  }

  function pickLabelQuiet(name) {
    for (const [n, b] of labelButtons) b.setAttribute('aria-pressed', n === name ? 'true' : 'false');
  }

  return {
    value: current,
    valid() {
      return invalid.size === 0;
    },
    keys,
    unmount() {
      if (!alive) return;
      cancelDrag();
      alive = false;
      if (raf) cancelAnimationFrame(raf);
      raf = 0;
      ro.disconnect();
      if (probe) {
        probe.onload = null;
        probe.onerror = null;
      }
      if (!readOnly) {
        document.removeEventListener('keydown', onDocKey);
        document.removeEventListener('keyup', onDocKeyUp);
        window.removeEventListener('blur', onBlur);
      }
    },
  };
}

export default imageannotationEditor;
