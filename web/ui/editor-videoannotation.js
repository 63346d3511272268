// editor-videoannotation.js -- the answer editor for `videoannotation`
// projects (docs/KINDS.md): object tracks (boxes, points, polygons at
// keyframes, interpolated between them, `outside` where the object is
// absent) and events (labelled frame ranges) on a video or a sequence of
// frames.
//
// Frames are decoded by the browser: a <video> element (frame n is shown by
// seeking to (n + 0.5) / fps; requestVideoFrameCallback, where there is
// one, says which frame is on screen while playing), or one <img> whose
// source steps through the task's image attachments (the next frames are
// fetched ahead).  Over it, one canvas draws only the current frame's
// shapes: each track's shape is found by binary search over its keyframes,
// so a frame costs O(T log K) for T tracks of K keyframes.  The timeline
// (one row per track: where it is present, its keyframes; a row of events)
// is a second canvas redrawn only when the tracks change; the cursor is a
// third, cleared and drawn on every frame.
//
// Undo and redo keep snapshots of the answer (tracks and events as JSON).
// The response is {"tracks": [{id, label, shape, attributes?, keyframes:
// [{frame, outside?, x, y, width, height | vertices, attributes?}]}],
// "events"?: [{label, start, end}]}, coordinates rounded to 0.01 px.
//
// The interface every editor follows is in editors.js.

import { h, isTyping, namedList, commitEdits } from './dom.js';
import { attachmentUrl, bestPrediction } from './task.js';
import { attributeDefs, attributeProblems, problemsLine } from './attributes.js';

const SHAPES = ['box', 'point', 'polygon'];
const SHAPE_NAMES = { box: 'Box', point: 'Point', polygon: 'Polygon' };
const TOOLS = [
  { id: 'select', key: 'v', name: 'Select', hint: 'Click a shape to select its track; drag it, a box corner, a polygon corner or a point to move it: that makes a keyframe at this frame. On a selected polygon, Alt- or Shift-click an edge to add a corner; Alt-click a corner (or select it and press Delete) to remove it.' },
  { id: 'box', key: 'b', name: 'Box', hint: 'Drag on the frame to draw a box: a new track with a keyframe here.' },
  { id: 'point', key: 'd', name: 'Point', hint: 'Click to place a point: a new track with a keyframe here; drag a point to move it (a keyframe here).' },
  { id: 'polygon', key: 'g', name: 'Polygon', hint: 'Click to add corners; Enter or a double-click closes the polygon (a new track); Esc cancels.' },
];
const COLORS = ['#e6194b', '#1f9e45', '#2f6fe4', '#f58231', '#9b2fc4', '#0fa3b1', '#e034c8', '#a0701c', '#7f8f00', '#3b3fb6', '#d9a400', '#c2185b'];
const SPEEDS = [0.25, 0.5, 1, 1.5, 2, 4];
const HISTORY_MAX = 200;
const HANDLE = 8; // screen px
const ROW = 14; // timeline row height, css px
const PRELOAD = 12; // image frames fetched ahead

const r2 = (v) => Math.round(v * 100) / 100;
const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));


/* ---- track math (the same rules as src/track.c) ---- */

/* The index of the last keyframe at or before frame f, or -1. */
export function findKey(kfs, f) {
  let lo = 0;
  let hi = kfs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (kfs[mid].frame <= f) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

function hasGeometry(k, shape) {
  return shape === 'polygon' ? Array.isArray(k.vertices) && k.vertices.length >= 3 : isNum(k.x) && isNum(k.y);
}

/* The shape of track t at frame f: null when absent, else {geometry,
 * key: the keyframe at f or null (interpolated)}. */
export function shapeAt(t, f) {
  const i = findKey(t.keyframes, f);
  if (i < 0) return null;
  const a = t.keyframes[i];
  if (a.outside || !hasGeometry(a, t.shape)) return null;
  const key = a.frame === f ? a : null;
  const b = t.keyframes[i + 1];
  const moves = b && !b.outside && hasGeometry(b, t.shape) && (t.shape !== 'polygon' || b.vertices.length === a.vertices.length);
  if (key || !moves) return { g: geometryOf(a, t.shape), key };
  const u = (f - a.frame) / (b.frame - a.frame);
  const mix = (p, q) => p + u * (q - p);
  if (t.shape === 'polygon') return { g: { vertices: a.vertices.map((v, j) => ({ x: mix(v.x, b.vertices[j].x), y: mix(v.y, b.vertices[j].y) })) }, key: null };
  const g = { x: mix(a.x, b.x), y: mix(a.y, b.y) };
  if (t.shape === 'box') Object.assign(g, { width: mix(a.width, b.width), height: mix(a.height, b.height) });
  return { g, key: null };
}

function geometryOf(k, shape) {
  if (shape === 'polygon') return { vertices: k.vertices.map((v) => ({ x: v.x, y: v.y })) };
  if (shape === 'point') return { x: k.x, y: k.y };
  return { x: k.x, y: k.y, width: k.width, height: k.height };
}

/* The geometry the object last had at or before f (or first has after),
 * for a keyframe that makes it visible again. */
function lastGeometry(t, f) {
  const i = findKey(t.keyframes, f);
  for (let j = i; j >= 0; j--) if (hasGeometry(t.keyframes[j], t.shape)) return geometryOf(t.keyframes[j], t.shape);
  for (let j = i + 1; j < t.keyframes.length; j++) if (hasGeometry(t.keyframes[j], t.shape)) return geometryOf(t.keyframes[j], t.shape);
  return null;
}

/* ---- reading and writing answers ---- */

function readTrack(x, labels, shapes) {
  if (!x || typeof x !== 'object' || !SHAPES.includes(x.shape) || !Array.isArray(x.keyframes)) return null;
  const t = { id: Number.isInteger(x.id) && x.id >= 0 ? x.id : null, label: typeof x.label === 'string' ? x.label : labels[0]?.name || '', shape: x.shape, attributes: {}, keyframes: [] };
  if (!shapes.includes(t.shape)) return null;
  if (x.attributes && typeof x.attributes === 'object') Object.assign(t.attributes, x.attributes);
  for (const k of x.keyframes) {
    if (!k || !Number.isInteger(k.frame) || k.frame < 0) continue;
    const o = { frame: k.frame, outside: k.outside === true, attributes: k.attributes && typeof k.attributes === 'object' ? { ...k.attributes } : {} };
    if (t.shape === 'polygon' && Array.isArray(k.vertices) && k.vertices.every((v) => v && isNum(v.x) && isNum(v.y))) o.vertices = k.vertices.map((v) => ({ x: v.x, y: v.y }));
    else if (isNum(k.x) && isNum(k.y)) Object.assign(o, { x: k.x, y: k.y }, t.shape === 'box' && isNum(k.width) && isNum(k.height) ? { width: k.width, height: k.height } : {});
    if (!o.outside && !hasGeometry(o, t.shape)) continue;
    if (t.shape === 'box' && !o.outside && !isNum(o.width)) continue;
    t.keyframes.push(o);
  }
  t.keyframes.sort((a, b) => a.frame - b.frame);
  t.keyframes = t.keyframes.filter((k, i, a) => i === 0 || a[i - 1].frame !== k.frame);
  return t.keyframes.length ? t : null;
}

function outKeyframe(k, shape) {
  const o = { frame: k.frame };
  if (k.outside) o.outside = true;
  if (hasGeometry(k, shape)) {
    if (shape === 'polygon') o.vertices = k.vertices.map((v) => ({ x: r2(v.x), y: r2(v.y) }));
    else {
      Object.assign(o, { x: r2(k.x), y: r2(k.y) });
      if (shape === 'box') Object.assign(o, { width: r2(k.width), height: r2(k.height) });
    }
  }
  if (k.attributes && Object.keys(k.attributes).length) o.attributes = { ...k.attributes };
  return o;
}

/* The frames the task shows: a video or image frames. */
function taskMedia(task, params) {
  const atts = Array.isArray(task?.attachments) ? task.attachments : [];
  const data = task?.data && typeof task.data === 'object' ? task.data : {};
  const fps = isNum(data.fps) && data.fps > 0 ? data.fps : isNum(params?.fps) && params.fps > 0 ? params.fps : 30;
  const video = atts.find((a) => a?.type === 'video');
  const images = atts.filter((a) => a?.type === 'image').map((a) => attachmentUrl(a));
  const frames = Number.isInteger(data.frames) && data.frames > 0 ? data.frames : video ? 1 : images.length;
  const size = isNum(data.width) && isNum(data.height) && data.width > 0 && data.height > 0 ? { w: data.width, h: data.height } : null;
  return { fps, frames: Math.max(1, frames), video: video ? attachmentUrl(video) : null, images: video ? [] : images, size };
}

export const videoannotationEditor = {
  kind: 'videoannotation',
  showsTask: true,

  shortcuts: [
    ['Space', 'play / pause'],
    ['← / →', 'previous / next frame (Shift: 10 frames)'],
    ['Home / End', 'first / last frame'],
    ['v  b  d  g', 'tool: select, box, point, polygon'],
    ['1 – 9', 'label for new tracks (and the selected track)'],
    ['o', 'toggle outside (the object absent from this frame on)'],
    ['k', 'make a keyframe of the selected track at this frame'],
    ['Delete', "delete the selected track's keyframe at this frame (Shift: the whole track)"],
    ['n / Shift+N', 'select the next / previous track'],
    ['[  ]', 'mark the start / end of an event'],
    ['Esc', 'cancel the polygon being drawn, or unselect'],
    ['Alt/Shift+click', 'on a selected polygon\'s edge: add a corner; Alt+click on a corner: remove it'],
    ['Ctrl+Z', 'undo'],
    ['Ctrl+Shift+Z, Ctrl+Y', 'redo'],
  ],

  mount(el, options) {
    return mountEditor(el, options || {});
  },
};

function mountEditor(el, { params, task, value, onChange, readOnly = false }) {
  const labels = namedList(params?.labels);
  const labelIndex = new Map(labels.map((l, i) => [l.name, i]));
  const shapes = Array.isArray(params?.geometries) ? SHAPES.filter((s) => params.geometries.includes(s)) : SHAPES.slice();
  const trackAttrs = attributeDefs(params?.attributes);
  const frameAttrs = attributeDefs(params?.frame_attributes);
  const eventLabels = namedList(params?.events);
  const media = taskMedia(task, params);
  const last = media.frames - 1;

  /* ---- state ---- */
  let alive = true;
  let tracks = [];
  let events = [];
  let nextId = 1;
  let frame = 0;
  let shownFrame = -1; // the frame the media shows (video: after the seek)
  let size = media.size ? { ...media.size } : null;
  let selected = null; // a track
  let tool = readOnly ? 'select' : shapes.includes('box') ? 'box' : 'select';
  let newLabel = labels[0]?.name || '';
  let eventLabel = eventLabels[0]?.name || '';
  let eventStart = null;
  let playing = false;
  let speed = 1;
  let drag = null;
  let drawing = null; // polygon corners being clicked
  let corner = -1; // the selected polygon's chosen corner (Delete removes it), or -1
  let history = [];
  let future = [];
  let timelineDirty = true;
  let playTimer = 0;
  const imageCache = new Map();
  const stats = { renders: 0, renderMs: 0, renderMax: 0, lastDraw: 0, maxGap: 0 };

  let start = value && Array.isArray(value.tracks) ? value : null;
  let predicted = null;
  if (!start && !readOnly) {
    predicted = bestPrediction(task?.predictions, 'tracks');
    if (predicted) start = predicted.response;
  }
  if (start) load(start);

  /* ---- the DOM ---- */
  const root = h('div', { class: 'va-editor', 'data-testid': 'va-editor' });
  const btn = (attrs, text) => h('button', { type: 'button', class: 'va-btn', ...attrs }, text);
  const msg = h('p', { class: 'va-msg', 'data-testid': 'va-msg', role: 'status', 'aria-live': 'polite' });
  const problemsEl = h('p', { class: 'va-problems', 'data-testid': 'va-problems' });

  const mediaEl = media.video
    ? h('video', { class: 'va-media', 'data-testid': 'va-video', src: media.video, muted: true, playsinline: true, preload: 'auto' })
    : h('img', { class: 'va-media', 'data-testid': 'va-frame-img', alt: '' });
  if (media.video) mediaEl.muted = true;
  const overlay = h('canvas', { class: 'va-overlay', 'data-testid': 'va-overlay' });
  const stage = h('div', { class: 'va-stage', 'data-testid': 'va-stage', 'data-state': media.video || media.images.length ? 'loading' : 'none', 'data-frame': '0' }, mediaEl, overlay);

  const playBtn = btn({ 'data-action': 'play', title: 'Play / pause (Space)' }, 'Play');
  const prevBtn = btn({ 'data-action': 'prev', title: 'Previous frame (←)' }, '◀');
  const nextBtn = btn({ 'data-action': 'next', title: 'Next frame (→)' }, '▶');
  const frameInput = h('input', { type: 'number', class: 'va-frame', 'data-testid': 'va-frame', min: 0, max: last, value: 0, 'aria-label': 'Frame' });
  const speedSel = h('select', { 'data-testid': 'va-speed', 'aria-label': 'Speed' }, SPEEDS.map((s) => h('option', { value: String(s), selected: s === 1 }, `${s}×`)));
  const timeText = h('span', { class: 'va-time', 'data-testid': 'va-time' });
  const transport = h('div', { class: 'va-transport', role: 'group', 'aria-label': 'Playback' }, prevBtn, playBtn, nextBtn, h('label', {}, 'Frame ', frameInput, ` / ${last}`), speedSel, timeText);

  const toolBtns = TOOLS.filter((t) => t.id === 'select' || shapes.includes(t.id)).map((t) => btn({ 'data-tool': t.id, title: `${t.name} (${t.key}): ${t.hint}`, 'aria-pressed': String(tool === t.id) }, t.name));
  const labelSel = h('select', { 'data-testid': 'va-new-label', 'aria-label': 'Label for new tracks' }, labels.map((l, i) => h('option', { value: l.name }, `${i < 9 ? `${i + 1} ` : ''}${l.name}`)));
  const undoBtn = btn({ 'data-action': 'undo', title: 'Undo (Ctrl+Z)', disabled: true }, 'Undo');
  const redoBtn = btn({ 'data-action': 'redo', title: 'Redo (Ctrl+Y)', disabled: true }, 'Redo');
  const outsideBtn = btn({ 'data-action': 'outside', title: 'Toggle outside at this frame (o)' }, 'Outside');
  const keyBtn = btn({ 'data-action': 'keyframe', title: 'Keyframe here (k)' }, 'Keyframe');
  const toolbar = readOnly
    ? null
    : h('div', { class: 'va-toolbar', role: 'toolbar', 'aria-label': 'Video annotation tools' }, toolBtns, h('label', {}, 'Label ', labelSel), keyBtn, outsideBtn, undoBtn, redoBtn);

  const timeline = h('canvas', { class: 'va-timeline', 'data-testid': 'va-timeline' });
  const cursor = h('canvas', { class: 'va-cursor' });
  const tlWrap = h('div', { class: 'va-tl-wrap', 'data-testid': 'va-timeline-wrap' }, timeline, cursor);

  const trackList = h('ul', { class: 'va-tracks', 'data-testid': 'va-tracks', 'aria-label': 'Tracks' });
  const inspector = h('div', { class: 'va-inspector', 'data-testid': 'va-inspector' });
  const eventSel = eventLabels.length ? h('select', { 'data-testid': 'va-event-label', 'aria-label': 'Event label' }, eventLabels.map((l) => h('option', { value: l.name }, l.name))) : null;
  const eventList = h('ul', { class: 'va-events', 'data-testid': 'va-events' });
  const eventBox = eventLabels.length
    ? h('div', { class: 'va-event-box' }, h('h4', {}, 'Events'), readOnly ? null : h('div', {}, eventSel, btn({ 'data-action': 'event-start', title: 'Start an event here ([)' }, 'Start ['), btn({ 'data-action': 'event-end', title: 'End the event here (])' }, 'End ]')), eventList)
    : null;
  const side = h('div', { class: 'va-side' }, inspector, h('h4', {}, 'Tracks'), trackList, eventBox);
  root.append(toolbar || '', h('div', { class: 'va-main' }, h('div', { class: 'va-view' }, stage, transport, tlWrap), side), problemsEl, msg);
  if (predicted) say(`Started from the prediction of ${predicted.model || 'a model'}; check every track.`);
  el.append(root);

  /* ---- loading ---- */
  function load(v) {
    tracks = [];
    events = [];
    for (const x of Array.isArray(v.tracks) ? v.tracks : []) {
      const t = readTrack(x, labels, shapes);
      if (t) tracks.push(t);
    }
    nextId = 1 + tracks.reduce((m, t) => Math.max(m, t.id ?? 0), 0);
    for (const t of tracks) if (t.id === null) t.id = nextId++;
    for (const e of Array.isArray(v.events) ? v.events : [])
      if (e && typeof e.label === 'string' && Number.isInteger(e.start) && Number.isInteger(e.end) && e.start <= e.end) events.push({ label: e.label, start: e.start, end: e.end });
  }

  function snapshot() {
    return JSON.stringify({ tracks, events, nextId });
  }

  function restore(s) {
    const o = JSON.parse(s);
    tracks = o.tracks;
    events = o.events;
    nextId = o.nextId;
    selected = selected ? tracks.find((t) => t.id === selected.id) || null : null;
    corner = -1;
  }

  /* Runs fn as one undoable change. */
  function change(fn) {
    if (readOnly) return;
    const before = snapshot();
    if (fn() === false) return;
    history.push(before);
    if (history.length > HISTORY_MAX) history.shift();
    future = [];
    changed();
  }

  function changed() {
    timelineDirty = true;
    undoBtn.disabled = !history.length;
    redoBtn.disabled = !future.length;
    render();
    renderList();
    renderInspector();
    renderEvents();
    renderProblems();
    onChange?.(val());
  }

  /* What keeps the answer from being submitted, said under the frame. */
  function renderProblems() {
    const p = readOnly ? [] : problems();
    problemsEl.textContent = problemsLine(p);
  }

  function undo() {
    if (!history.length) return say('Nothing to undo.');
    future.push(snapshot());
    restore(history.pop());
    changed();
    say('Undone.');
  }

  function redo() {
    if (!future.length) return say('Nothing to redo.');
    history.push(snapshot());
    restore(future.pop());
    changed();
    say('Redone.');
  }

  function say(text) {
    msg.textContent = text;
  }

  /* ---- the frames ---- */
  function imageFor(f) {
    const url = media.images[f];
    if (!url) return null;
    let im = imageCache.get(f);
    if (!im) {
      im = new Image();
      im.src = url;
      imageCache.set(f, im);
      if (imageCache.size > 4 * PRELOAD) imageCache.delete(imageCache.keys().next().value);
    }
    return im;
  }

  function showFrame() {
    if (media.video) {
      if (!mediaEl.readyState) return;
      const t = (frame + 0.5) / media.fps;
      if (!playing && Math.abs(mediaEl.currentTime - t) > 0.25 / media.fps) mediaEl.currentTime = Math.min(t, mediaEl.duration || t);
      else if (!playing) markShown(frame);
    } else if (media.images.length) {
      const im = imageFor(frame);
      if (im && mediaEl.getAttribute('src') !== im.src) mediaEl.src = im.src;
      for (let i = 1; i <= PRELOAD && frame + i <= last; i++) imageFor(frame + i);
    }
  }

  function markShown(f) {
    shownFrame = f;
    stage.dataset.shownFrame = String(f);
  }

  if (media.video) {
    mediaEl.addEventListener('loadedmetadata', () => {
      if (!size && mediaEl.videoWidth) size = { w: mediaEl.videoWidth, h: mediaEl.videoHeight };
      stage.dataset.state = 'ready';
      fit();
      showFrame();
    });
    mediaEl.addEventListener('seeked', () => {
      if (!playing) markShown(frame);
    });
    mediaEl.addEventListener('error', () => {
      stage.dataset.state = 'failed';
      say('The video could not be loaded.');
    });
    // (An ended event queued by an earlier seek to the end may come after
    // playing started again from the beginning: only the real end pauses.)
    mediaEl.addEventListener('ended', () => {
      if (mediaEl.ended) pause();
    });
  } else if (media.images.length) {
    mediaEl.addEventListener('load', () => {
      if (!size && mediaEl.naturalWidth) {
        size = { w: mediaEl.naturalWidth, h: mediaEl.naturalHeight };
        fit();
      }
      stage.dataset.state = 'ready';
      const f = media.images.indexOf(mediaEl.getAttribute('src'));
      markShown(f >= 0 ? f : frame);
    });
    mediaEl.addEventListener('error', () => {
      stage.dataset.state = 'failed';
      say(`Frame ${frame} could not be loaded.`);
    });
  }

  function fit() {
    const s = size || { w: 640, h: 360 };
    overlay.width = s.w;
    overlay.height = s.h;
    stage.style.aspectRatio = `${s.w} / ${s.h}`;
    render();
  }

  /* Goes to frame f (clamped) and draws it. */
  function seek(f) {
    f = clamp(Math.round(f), 0, last);
    if (playing && media.video) {
      mediaEl.currentTime = (f + 0.5) / media.fps;
    }
    frame = f;
    if (!playing || !media.video) showFrame();
    drawFrame();
  }

  function drawFrame() {
    stage.dataset.frame = String(frame);
    if (document.activeElement !== frameInput) frameInput.value = String(frame);
    timeText.textContent = `${(frame / media.fps).toFixed(2)} s`;
    render();
    drawCursor();
    renderInspector();
  }

  function play() {
    if (playing) return;
    playing = true;
    playBtn.textContent = 'Pause';
    stage.dataset.playing = 'true';
    if (frame >= last) frame = 0;
    if (media.video) {
      mediaEl.playbackRate = speed;
      mediaEl.currentTime = (frame + 0.5) / media.fps;
      stats.playStarted = false;
      mediaEl.play().catch(() => {
        if (mediaEl.paused) pause();
      });
      const onFrame = (now, meta) => {
        if (!playing || !alive) return;
        stats.playStarted = true;
        const f = clamp(Math.floor((meta?.mediaTime ?? mediaEl.currentTime) * media.fps + 1e-3), 0, last);
        frame = f;
        markShown(f);
        drawFrame();
        mediaEl.requestVideoFrameCallback(onFrame);
      };
      if (mediaEl.requestVideoFrameCallback) mediaEl.requestVideoFrameCallback(onFrame);
      else {
        const tick = () => {
          if (!playing || !alive) return;
          frame = clamp(Math.floor(mediaEl.currentTime * media.fps), 0, last);
          markShown(frame);
          drawFrame();
          playTimer = requestAnimationFrame(tick);
        };
        playTimer = requestAnimationFrame(tick);
      }
    } else {
      const t0 = performance.now();
      const f0 = frame;
      stats.playStarted = true;
      const tick = (now) => {
        if (!playing || !alive) return;
        const f = Math.min(last, f0 + Math.floor(((now - t0) / 1000) * media.fps * speed));
        if (f !== frame) seek(f);
        if (f >= last) return pause();
        playTimer = requestAnimationFrame(tick);
      };
      playTimer = requestAnimationFrame(tick);
    }
  }

  function pause() {
    if (!playing) return;
    playing = false;
    cancelAnimationFrame(playTimer);
    playBtn.textContent = 'Play';
    stage.dataset.playing = 'false';
    if (media.video) {
      mediaEl.pause();
      showFrame();
    }
  }

  /* ---- drawing the frame's shapes ---- */
  function color(label) {
    const i = labelIndex.get(label);
    return i === undefined ? '#7a828c' : COLORS[i % COLORS.length];
  }

  function scale() {
    const r = overlay.getBoundingClientRect();
    return r.width > 0 ? overlay.width / r.width : 1;
  }

  function render() {
    const t0 = performance.now();
    const ctx = overlay.getContext('2d');
    ctx.clearRect(0, 0, overlay.width, overlay.height);
    const px = scale();
    for (const t of tracks) {
      const s = t === drag?.track ? { g: drag.g, key: true } : shapeAt(t, frame);
      if (!s) continue;
      const sel = t === selected;
      ctx.strokeStyle = color(t.label);
      ctx.fillStyle = color(t.label);
      ctx.lineWidth = (sel ? 3 : 2) * px;
      ctx.setLineDash(s.key ? [] : [6 * px, 4 * px]);
      const g = s.g;
      if (t.shape === 'box') {
        ctx.strokeRect(g.x, g.y, g.width, g.height);
        if (sel) {
          ctx.globalAlpha = 0.15;
          ctx.fillRect(g.x, g.y, g.width, g.height);
          ctx.globalAlpha = 1;
          for (const [x, y] of corners(g)) ctx.fillRect(x - (HANDLE / 2) * px, y - (HANDLE / 2) * px, HANDLE * px, HANDLE * px);
        }
      } else if (t.shape === 'point') {
        ctx.beginPath();
        ctx.arc(g.x, g.y, (sel ? 7 : 5) * px, 0, 2 * Math.PI);
        ctx.fill();
      } else {
        ctx.beginPath();
        g.vertices.forEach((v, i) => (i ? ctx.lineTo(v.x, v.y) : ctx.moveTo(v.x, v.y)));
        ctx.closePath();
        ctx.stroke();
        if (sel && !readOnly)
          g.vertices.forEach((v, i) => {
            const r = (i === corner ? HANDLE + 4 : HANDLE) * px;
            ctx.fillRect(v.x - r / 2, v.y - r / 2, r, r);
            if (i === corner) {
              ctx.strokeStyle = '#fff';
              ctx.lineWidth = 1.5 * px;
              ctx.strokeRect(v.x - r / 2, v.y - r / 2, r, r);
              ctx.strokeStyle = color(t.label);
            }
          });
      }
      const tx = t.shape === 'polygon' ? g.vertices[0].x : g.x;
      const ty = t.shape === 'polygon' ? g.vertices[0].y : g.y;
      ctx.setLineDash([]);
      ctx.font = `${12 * px}px sans-serif`;
      ctx.fillText(`#${t.id} ${t.label}`, tx + 2 * px, Math.max(12 * px, ty - 3 * px));
    }
    if (drawing) {
      ctx.strokeStyle = color(newLabel);
      ctx.lineWidth = 2 * px;
      ctx.setLineDash([]);
      ctx.beginPath();
      drawing.forEach((v, i) => (i ? ctx.lineTo(v.x, v.y) : ctx.moveTo(v.x, v.y)));
      ctx.stroke();
    }
    if (drag?.kind === 'new') {
      ctx.strokeStyle = color(newLabel);
      ctx.lineWidth = 2 * px;
      ctx.strokeRect(drag.g.x, drag.g.y, drag.g.width, drag.g.height);
    }
    const ms = performance.now() - t0; // the shapes only: the timeline is drawn apart
    stats.renders++;
    stats.renderMs += ms;
    stats.renderMax = Math.max(stats.renderMax, ms);
    if (playing && stats.lastDraw) stats.maxGap = Math.max(stats.maxGap, t0 - stats.lastDraw);
    stats.lastDraw = playing && shownFrame >= 0 && stats.playStarted ? t0 : 0;
    stage.dataset.renders = String(stats.renders);
    stage.dataset.renderMs = (stats.renderMs / stats.renders).toFixed(3);
    stage.dataset.renderMax = stats.renderMax.toFixed(3);
    stage.dataset.maxGap = stats.maxGap.toFixed(1);
    if (timelineDirty) {
      const t1 = performance.now();
      drawTimeline();
      stage.dataset.timelineMs = (performance.now() - t1).toFixed(3);
    }
  }

  function corners(g) {
    return [
      [g.x, g.y],
      [g.x + g.width, g.y],
      [g.x, g.y + g.height],
      [g.x + g.width, g.y + g.height],
    ];
  }

  /* ---- the timeline ---- */
  function tlSize() {
    const w = Math.max(100, tlWrap.clientWidth || 600);
    const rows = tracks.length + 1;
    return { w, hgt: rows * ROW + 4, dpr: window.devicePixelRatio || 1 };
  }

  const xOf = (f, w) => (f / Math.max(1, media.frames)) * w;

  function drawTimeline() {
    timelineDirty = false;
    const { w, hgt, dpr } = tlSize();
    for (const c of [timeline, cursor]) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(hgt * dpr);
      c.style.height = `${hgt}px`;
    }
    const ctx = timeline.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, hgt);
    ctx.fillStyle = '#f1f3f5';
    ctx.fillRect(0, 0, w, ROW);
    for (const e of events) {
      ctx.fillStyle = '#6c5ce7';
      ctx.fillRect(xOf(e.start, w), 2, Math.max(2, xOf(e.end + 1, w) - xOf(e.start, w)), ROW - 4);
    }
    tracks.forEach((t, r) => {
      const y = (r + 1) * ROW;
      if (t === selected) {
        ctx.fillStyle = '#e7f0ff';
        ctx.fillRect(0, y, w, ROW);
      }
      ctx.fillStyle = color(t.label);
      const k = t.keyframes;
      for (let i = 0; i < k.length; i++) {
        if (k[i].outside) continue;
        const end = i + 1 < k.length ? k[i + 1].frame : media.frames;
        ctx.globalAlpha = 0.45;
        ctx.fillRect(xOf(k[i].frame, w), y + 3, Math.max(1, xOf(end, w) - xOf(k[i].frame, w)), ROW - 6);
      }
      ctx.globalAlpha = 1;
      for (const kf of k) {
        const x = xOf(kf.frame, w);
        ctx.fillStyle = kf.outside ? '#555' : color(t.label);
        ctx.fillRect(x - 1.5, y + 1, 3, ROW - 2);
      }
    });
    drawCursor();
  }

  function drawCursor() {
    const { w, hgt } = { w: cursor.width / (window.devicePixelRatio || 1), hgt: cursor.height / (window.devicePixelRatio || 1) };
    const ctx = cursor.getContext('2d');
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, hgt);
    const x = xOf(frame + 0.5, w);
    ctx.fillStyle = '#d00';
    ctx.fillRect(x - 1, 0, 2, hgt);
    if (eventStart !== null) {
      ctx.fillStyle = 'rgba(108, 92, 231, 0.35)';
      const a = Math.min(eventStart, frame);
      const b = Math.max(eventStart, frame);
      ctx.fillRect(xOf(a, w), 0, xOf(b + 1, w) - xOf(a, w), ROW);
    }
  }

  function onTimeline(ev) {
    const r = cursor.getBoundingClientRect();
    const f = Math.floor(((ev.clientX - r.left) / r.width) * media.frames);
    const row = Math.floor((ev.clientY - r.top) / ROW) - 1;
    if (row >= 0 && tracks[row]) select(tracks[row]);
    seek(f);
  }
  cursor.addEventListener('pointerdown', (ev) => {
    onTimeline(ev);
    const move = (e) => onTimeline(e);
    const up = () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  });

  /* ---- editing ---- */
  function frameAttrDefaults(t, f) {
    const i = findKey(t.keyframes, f);
    return i >= 0 ? { ...t.keyframes[i].attributes } : {};
  }

  /* Sets the keyframe of t at frame f to geometry g (visible). */
  function setKey(t, f, g, extra = {}) {
    const i = findKey(t.keyframes, f);
    if (i >= 0 && t.keyframes[i].frame === f) {
      const k = t.keyframes[i];
      delete k.x;
      delete k.y;
      delete k.width;
      delete k.height;
      delete k.vertices;
      Object.assign(k, roundG(g), { outside: false }, extra);
      return k;
    }
    const k = { frame: f, outside: false, attributes: frameAttrDefaults(t, f), ...roundG(g), ...extra };
    t.keyframes.splice(i + 1, 0, k);
    return k;
  }

  function roundG(g) {
    if (g.vertices) return { vertices: g.vertices.map((v) => ({ x: r2(v.x), y: r2(v.y) })) };
    const o = { x: r2(g.x), y: r2(g.y) };
    if (isNum(g.width)) Object.assign(o, { width: r2(g.width), height: r2(g.height) });
    return o;
  }

  function defaultTrackAttrs() {
    const out = {};
    for (const a of trackAttrs) if (a.type === 'boolean') out[a.name] = false;
    return out;
  }

  function addTrack(shape, g) {
    change(() => {
      const t = { id: nextId++, label: newLabel, shape, attributes: defaultTrackAttrs(), keyframes: [] };
      const fa = {};
      for (const a of frameAttrs) if (a.type === 'boolean') fa[a.name] = false;
      t.keyframes.push({ frame, outside: false, attributes: fa, ...roundG(clipG(g)) });
      tracks.push(t);
      selected = t;
    });
    say(`Track #${selected.id} (${selected.label}) added at frame ${frame}.`);
  }

  /* g kept inside the frame, as the server checks it (lp_v_box, lp_v_point):
   * a box at least 0.01 px wide and high that ends by the right and bottom
   * edges once rounded to 0.01 px; before the frame's size is known, only
   * inside the top left corner. */
  function clipG(g) {
    const W = size ? size.w : Infinity;
    const H = size ? size.h : Infinity;
    const cx = (x) => clamp(x, 0, W);
    const cy = (y) => clamp(y, 0, H);
    if (g.vertices) return { vertices: g.vertices.map((v) => ({ x: cx(v.x), y: cy(v.y) })) };
    if (!isNum(g.width)) return { x: cx(g.x), y: cy(g.y) };
    const side = (a, len, max) => {
      const lo = r2(clamp(a, 0, Math.max(0, max - 0.01)));
      const hi = Math.min(a + len, max);
      return [lo, Math.max(0.01, Math.floor((hi - lo) * 100 + 1e-6) / 100)];
    };
    const [x, width] = side(g.x, g.width, W);
    const [y, height] = side(g.y, g.height, H);
    return { x, y, width, height };
  }

  function toggleOutside() {
    const t = selected;
    if (!t) return say('Select a track first.');
    change(() => {
      const i = findKey(t.keyframes, frame);
      const here = i >= 0 && t.keyframes[i].frame === frame ? t.keyframes[i] : null;
      const s = shapeAt(t, frame);
      if (s) {
        if (here) here.outside = true;
        else t.keyframes.splice(i + 1, 0, { frame, outside: true, attributes: frameAttrDefaults(t, frame), ...roundG(s.g) });
        say(`#${t.id} is outside from frame ${frame}.`);
      } else {
        const g = lastGeometry(t, frame);
        if (!g) return false;
        setKey(t, frame, g);
        say(`#${t.id} is visible again from frame ${frame}.`);
      }
    });
  }

  function makeKeyframe() {
    const t = selected;
    if (!t) return say('Select a track first.');
    const s = shapeAt(t, frame);
    if (!s) return say(`#${t.id} is not in this frame; press o to bring it back.`);
    if (s.key) return say(`Frame ${frame} is already a keyframe of #${t.id}.`);
    change(() => setKey(t, frame, s.g));
    say(`Keyframe of #${t.id} at frame ${frame}.`);
  }

  function deleteHere(whole) {
    const t = selected;
    if (!t) return false;
    const i = findKey(t.keyframes, frame);
    const here = i >= 0 && t.keyframes[i].frame === frame;
    if (!whole && here && t.keyframes.length > 1) {
      change(() => t.keyframes.splice(i, 1));
      say(`Keyframe ${frame} of #${t.id} deleted.`);
      return true;
    }
    if (!whole && !here) {
      say(`No keyframe of #${t.id} at frame ${frame}; Shift+Delete deletes the track.`);
      return true;
    }
    change(() => {
      tracks = tracks.filter((x) => x !== t);
      selected = null;
    });
    say(`Track #${t.id} deleted.`);
    return true;
  }

  function select(t) {
    if (t !== selected) corner = -1;
    selected = t;
    timelineDirty = true;
    render();
    renderList();
    renderInspector();
  }

  function setTool(id) {
    if (readOnly || !TOOLS.some((t) => t.id === id) || (id !== 'select' && !shapes.includes(id))) return false;
    tool = id;
    drawing = null;
    for (const b of toolBtns) b.setAttribute('aria-pressed', String(b.dataset.tool === id));
    say(TOOLS.find((t) => t.id === id).hint);
    render();
    return true;
  }

  function pickLabel(name) {
    newLabel = name;
    labelSel.value = name;
    if (selected && selected.label !== name) change(() => (selected.label = name));
  }

  function markEvent(end) {
    if (!eventLabels.length) return false;
    if (!end) {
      eventStart = frame;
      drawCursor();
      say(`Event starts at frame ${frame}; go to its end and press ].`);
      return true;
    }
    if (eventStart === null) {
      say('Press [ at the start of the event first.');
      return true;
    }
    const a = Math.min(eventStart, frame);
    const b = Math.max(eventStart, frame);
    eventStart = null;
    change(() => events.push({ label: eventLabel, start: a, end: b }));
    say(`Event ${eventLabel} from frame ${a} to ${b}.`);
    return true;
  }

  /* ---- the pointer on the frame ---- */
  function toFrame(ev) {
    const r = overlay.getBoundingClientRect();
    return { x: ((ev.clientX - r.left) / r.width) * overlay.width, y: ((ev.clientY - r.top) / r.height) * overlay.height };
  }

  function hit(p) {
    const px = scale();
    if (selected?.shape === 'box') {
      const s = shapeAt(selected, frame);
      if (s) {
        const cs = corners(s.g);
        for (let c = 0; c < 4; c++) if (Math.abs(p.x - cs[c][0]) <= HANDLE * px && Math.abs(p.y - cs[c][1]) <= HANDLE * px) return { track: selected, corner: c, g: s.g };
      }
    }
    if (selected?.shape === 'polygon') {
      const s = shapeAt(selected, frame);
      if (s) {
        const vs = s.g.vertices;
        for (let i = vs.length - 1; i >= 0; i--) if (Math.abs(p.x - vs[i].x) <= HANDLE * px && Math.abs(p.y - vs[i].y) <= HANDLE * px) return { track: selected, corner: -1, vertex: i, g: s.g };
        for (let i = 0; i < vs.length; i++) {
          const q = nearestOnSegment(p, vs[i], vs[(i + 1) % vs.length]);
          if (Math.hypot(p.x - q.x, p.y - q.y) <= 5 * px) return { track: selected, corner: -1, edge: i, at: q, g: s.g };
        }
      }
    }
    for (let i = tracks.length - 1; i >= 0; i--) {
      const t = tracks[i];
      const s = shapeAt(t, frame);
      if (!s) continue;
      const g = s.g;
      let inside = false;
      if (t.shape === 'box') inside = p.x >= g.x - 3 * px && p.x <= g.x + g.width + 3 * px && p.y >= g.y - 3 * px && p.y <= g.y + g.height + 3 * px;
      else if (t.shape === 'point') inside = Math.hypot(p.x - g.x, p.y - g.y) <= 8 * px;
      else inside = pointInPolygon(p, g.vertices);
      if (inside) return { track: t, corner: -1, g };
    }
    return null;
  }

  /* The point of segment a-b nearest p. */
  function nearestOnSegment(p, a, b) {
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const l = dx * dx + dy * dy;
    const u = l > 0 ? clamp(((p.x - a.x) * dx + (p.y - a.y) * dy) / l, 0, 1) : 0;
    return { x: a.x + u * dx, y: a.y + u * dy };
  }

  /* Says what a change of the corner count of t at this frame does to
   * interpolation: shapes move only between keyframes of as many corners. */
  function cornerNote(t) {
    const i = findKey(t.keyframes, frame);
    const n = t.keyframes[i].vertices.length;
    const near = [t.keyframes[i - 1], t.keyframes[i + 1]].filter((k) => k && !k.outside && Array.isArray(k.vertices));
    const other = near.filter((k) => k.vertices.length !== n);
    if (!other.length) return '';
    return ` Keyframe ${other.map((k) => `${k.frame} has ${k.vertices.length}`).join(' and ')} corners, this one ${n}: the polygon does not morph between keyframes of different corner counts (it holds until the next); give them the same count to interpolate.`;
  }

  /* Sets the polygon t at this frame to vertices vs (a keyframe here). */
  function setCorners(t, vs, what) {
    change(() => setKey(t, frame, clipG({ vertices: vs })));
    say(`#${t.id}: ${what} at frame ${frame} (a keyframe of ${vs.length} corners).${cornerNote(t)}`);
  }

  /* Removes corner i of the selected polygon at this frame, keeping 3. */
  function removeCorner(i) {
    const t = selected;
    const s = t && t.shape === 'polygon' ? shapeAt(t, frame) : null;
    if (!s || i < 0 || i >= s.g.vertices.length) return false;
    if (s.g.vertices.length <= 3) {
      say('A polygon keeps at least 3 corners; Delete without a chosen corner deletes the keyframe.');
      return true;
    }
    corner = -1;
    setCorners(t, s.g.vertices.filter((v, j) => j !== i), `corner ${i + 1} removed`);
    return true;
  }

  function pointInPolygon(p, vs) {
    let inside = false;
    for (let i = 0, j = vs.length - 1; i < vs.length; j = i++)
      if (vs[i].y > p.y !== vs[j].y > p.y && p.x < ((vs[j].x - vs[i].x) * (p.y - vs[i].y)) / (vs[j].y - vs[i].y) + vs[i].x) inside = !inside;
    return inside;
  }

  overlay.addEventListener('pointerdown', (ev) => {
    if (ev.button !== 0) return;
    pause();
    const p = toFrame(ev);
    const hitAt = hit(p);
    if (readOnly) {
      if (hitAt) select(hitAt.track);
      return;
    }
    ev.preventDefault();
    if (tool === 'polygon') {
      drawing = drawing || [];
      drawing.push(p);
      render();
      return;
    }
    if (hitAt && hitAt.vertex >= 0 && ev.altKey) {
      removeCorner(hitAt.vertex);
      return;
    }
    if (hitAt && hitAt.edge >= 0 && (ev.altKey || ev.shiftKey)) {
      const vs = hitAt.g.vertices.map((v) => ({ ...v }));
      vs.splice(hitAt.edge + 1, 0, hitAt.at);
      corner = hitAt.edge + 1;
      setCorners(hitAt.track, vs, `corner ${corner + 1} added`);
      return;
    }
    if (hitAt && hitAt.vertex >= 0) {
      corner = hitAt.vertex;
      drag = { kind: 'move', track: hitAt.track, corner: -1, vertex: hitAt.vertex, from: p, g0: hitAt.g, g: hitAt.g, moved: false };
      render();
    } else if (hitAt && (tool === 'select' || hitAt.corner >= 0 || hitAt.track === selected || (tool === 'point' && hitAt.track.shape === 'point'))) {
      select(hitAt.track);
      drag = { kind: 'move', track: hitAt.track, corner: hitAt.corner, from: p, g0: hitAt.g, g: hitAt.g, moved: false };
    } else if (tool === 'box') {
      drag = { kind: 'new', from: p, g: { x: p.x, y: p.y, width: 0, height: 0 } };
    } else if (tool === 'point') {
      addTrack('point', p);
      return;
    } else if (hitAt) {
      select(hitAt.track);
      drag = { kind: 'move', track: hitAt.track, corner: -1, from: p, g0: hitAt.g, g: hitAt.g, moved: false };
    } else {
      select(null);
      return;
    }
    overlay.setPointerCapture(ev.pointerId);
  });

  overlay.addEventListener('pointermove', (ev) => {
    if (!drag) return;
    const p = toFrame(ev);
    const dx = p.x - drag.from.x;
    const dy = p.y - drag.from.y;
    if (drag.kind === 'new') {
      drag.g = { x: Math.min(p.x, drag.from.x), y: Math.min(p.y, drag.from.y), width: Math.abs(dx), height: Math.abs(dy) };
    } else {
      drag.moved = drag.moved || Math.hypot(dx, dy) > 2 * scale();
      const g0 = drag.g0;
      if (drag.vertex >= 0) drag.g = { vertices: g0.vertices.map((v, i) => (i === drag.vertex ? { x: p.x, y: p.y } : v)) };
      else if (drag.corner >= 0) {
        const cs = corners(g0);
        const opp = cs[3 - drag.corner];
        drag.g = { x: Math.min(p.x, opp[0]), y: Math.min(p.y, opp[1]), width: Math.abs(p.x - opp[0]), height: Math.abs(p.y - opp[1]) };
      } else if (g0.vertices) drag.g = { vertices: g0.vertices.map((v) => ({ x: v.x + dx, y: v.y + dy })) };
      else drag.g = { ...g0, x: g0.x + dx, y: g0.y + dy };
    }
    render();
  });

  function endDrag() {
    const d = drag;
    drag = null;
    if (!d) return;
    if (d.kind === 'new') {
      if (d.g.width >= 2 && d.g.height >= 2) addTrack('box', d.g);
      else render();
      return;
    }
    if (!d.moved) return render();
    if (d.vertex >= 0) return setCorners(d.track, d.g.vertices, `corner ${d.vertex + 1} moved`);
    change(() => setKey(d.track, frame, clipG(d.g)));
    say(`Keyframe of #${d.track.id} at frame ${frame}.`);
  }
  overlay.addEventListener('pointerup', endDrag);
  overlay.addEventListener('pointercancel', () => {
    drag = null;
    render();
  });
  overlay.addEventListener('dblclick', () => finishPolygon());

  function finishPolygon() {
    if (!drawing) return false;
    const vs = drawing.filter((v, i, a) => i === 0 || Math.hypot(v.x - a[i - 1].x, v.y - a[i - 1].y) > 1);
    drawing = null;
    if (vs.length >= 3) addTrack('polygon', { vertices: vs });
    else render();
    return true;
  }

  /* ---- the side panel ---- */
  function renderList() {
    trackList.replaceChildren(
      ...tracks.map((t) =>
        h(
          'li',
          { class: `va-track${t === selected ? ' va-selected' : ''}`, 'data-track': String(t.id), onclick: () => select(t) },
          h('span', { class: 'va-swatch', style: `background:${color(t.label)}` }),
          `#${t.id} ${t.label} · ${SHAPE_NAMES[t.shape]} · ${t.keyframes.length} key${t.keyframes.length === 1 ? '' : 's'}`,
        ),
      ),
    );
    if (!tracks.length) trackList.append(h('li', { class: 'va-empty' }, readOnly ? 'No tracks.' : 'No tracks yet: draw a shape on the frame.'));
  }

  function attrInput(a, v, onset) {
    const dis = readOnly;
    if (a.type === 'boolean') return h('input', { type: 'checkbox', checked: v === true, disabled: dis, onchange: (e) => onset(e.target.checked) });
    if (a.type === 'category')
      return h('select', { disabled: dis, onchange: (e) => onset(e.target.value === '' ? undefined : e.target.value) }, h('option', { value: '' }, '—'), a.choices.map((c) => h('option', { value: c.name, selected: c.name === v }, c.name)));
    if (a.type === 'number') return h('input', { type: 'number', value: isNum(v) ? String(v) : '', min: a.min ?? undefined, max: a.max ?? undefined, disabled: dis, onchange: (e) => onset(e.target.value === '' ? undefined : Number(e.target.value)) });
    return h('input', { type: 'text', value: typeof v === 'string' ? v : '', disabled: dis, onchange: (e) => onset(e.target.value === '' ? undefined : e.target.value) });
  }

  function renderInspector() {
    commitEdits(inspector); // a field being typed in keeps what was typed
    const t = selected;
    if (!t) {
      inspector.replaceChildren(h('p', { class: 'va-hint' }, readOnly ? 'Click a shape to see its track.' : 'Draw a shape to start a track, or click one to select it.'));
      return;
    }
    const i = findKey(t.keyframes, frame);
    const here = i >= 0 && t.keyframes[i].frame === frame ? t.keyframes[i] : null;
    const present = !!shapeAt(t, frame);
    const rows = [
      h('h4', {}, `Track #${t.id}`),
      h(
        'label',
        {},
        'Label ',
        h('select', { 'data-testid': 'va-track-label', disabled: readOnly, onchange: (e) => change(() => (t.label = e.target.value)) }, labels.map((l) => h('option', { value: l.name, selected: l.name === t.label }, l.name))),
      ),
      ...trackAttrs.map((a) =>
        h('label', { class: 'va-attr', 'data-attr': a.name }, `${a.name}${a.required ? ' *' : ''} `, attrInput(a, t.attributes[a.name], (v) =>
            change(() => {
              if (v === undefined) delete t.attributes[a.name];
              else t.attributes[a.name] = v;
            }),
          ),
        ),
      ),
      h('p', { class: 'va-state', 'data-testid': 'va-state' }, `Frame ${frame}: ${present ? (here ? 'keyframe' : 'interpolated') : 'absent'}${here?.outside ? ' (outside)' : ''}${present && t.shape === 'polygon' ? `, ${shapeAt(t, frame).g.vertices.length} corners` : ''}`),
    ];
    const note = here && !here.outside && t.shape === 'polygon' && !readOnly ? cornerNote(t) : '';
    if (note) rows.push(h('p', { class: 'va-hint', 'data-testid': 'va-corner-note' }, note.trim()));
    if (frameAttrs.length && present) {
      const cur = i >= 0 ? t.keyframes[i].attributes || {} : {};
      for (const a of frameAttrs)
        rows.push(
          h(
            'label',
            { class: 'va-attr', 'data-frame-attr': a.name },
            `${a.name} (this frame on) `,
            attrInput(a, cur[a.name], (v) =>
              change(() => {
                const s = shapeAt(t, frame);
                const k = here || (s ? setKey(t, frame, s.g) : null);
                if (!k) return false;
                k.attributes = { ...(k.attributes || {}) };
                if (v === undefined) delete k.attributes[a.name];
                else k.attributes[a.name] = v;
              }),
            ),
          ),
        );
    }
    if (!readOnly)
      rows.push(
        h('div', { class: 'va-actions' }, btn({ 'data-action': 'delete-key', onclick: () => deleteHere(false), disabled: !here || t.keyframes.length < 2 }, 'Delete keyframe'), btn({ 'data-action': 'delete-track', onclick: () => deleteHere(true) }, 'Delete track')),
      );
    inspector.replaceChildren(...rows);
  }

  function renderEvents() {
    if (!eventBox) return;
    eventList.replaceChildren(
      ...events.map((e, i) =>
        h(
          'li',
          { 'data-event': String(i) },
          h('button', { type: 'button', class: 'va-link', onclick: () => seek(e.start) }, `${e.label}: ${e.start}–${e.end}`),
          readOnly ? null : btn({ 'data-action': 'delete-event', title: 'Delete the event', onclick: () => change(() => events.splice(i, 1)) }, '×'),
        ),
      ),
    );
  }

  /* ---- the answer ---- */
  function val() {
    const out = {
      tracks: tracks.map((t) => {
        const o = { id: t.id, label: t.label, shape: t.shape };
        if (Object.keys(t.attributes).length) o.attributes = { ...t.attributes };
        o.keyframes = t.keyframes.map((k) => outKeyframe(k, t.shape));
        return o;
      }),
    };
    if (events.length) out.events = events.map((e) => ({ ...e }));
    return out;
  }

  function problems() {
    const out = [];
    for (const t of tracks) {
      out.push(...attributeProblems(trackAttrs, t.attributes, `#${t.id}: `));
      for (const k of t.keyframes) if (!k.outside) out.push(...attributeProblems(frameAttrs, k.attributes, `#${t.id} frame ${k.frame}: `));
    }
    return out;
  }

  /* ---- controls and keys ---- */
  playBtn.addEventListener('click', () => (playing ? pause() : play()));
  prevBtn.addEventListener('click', () => seek(frame - 1));
  nextBtn.addEventListener('click', () => seek(frame + 1));
  frameInput.addEventListener('change', () => seek(Number(frameInput.value) || 0));
  speedSel.addEventListener('change', () => {
    speed = Number(speedSel.value) || 1;
    if (media.video) mediaEl.playbackRate = speed;
  });
  if (toolbar) {
    toolbar.addEventListener('click', (ev) => {
      const b = ev.target.closest('button');
      if (!b) return;
      if (b.dataset.tool) setTool(b.dataset.tool);
      else if (b.dataset.action === 'undo') undo();
      else if (b.dataset.action === 'redo') redo();
      else if (b.dataset.action === 'outside') toggleOutside();
      else if (b.dataset.action === 'keyframe') makeKeyframe();
    });
    labelSel.addEventListener('change', () => pickLabel(labelSel.value));
  }
  if (eventBox && !readOnly) {
    eventSel.addEventListener('change', () => (eventLabel = eventSel.value));
    eventBox.addEventListener('click', (ev) => {
      const a = ev.target.closest('button')?.dataset.action;
      if (a === 'event-start') markEvent(false);
      else if (a === 'event-end') markEvent(true);
    });
  }

  function keys(ev) {
    if (!alive || ev.ctrlKey || ev.metaKey || ev.altKey) return false;
    const k = ev.key;
    const onControl = ev.target instanceof Element && !!ev.target.closest('button, select, input, a[href], summary, textarea');
    if (k === ' ') {
      if (onControl) return false;
      if (playing) pause();
      else play();
      return true;
    }
    if (k === 'ArrowRight' || k === 'ArrowLeft') {
      pause();
      seek(frame + (k === 'ArrowRight' ? 1 : -1) * (ev.shiftKey ? 10 : 1));
      return true;
    }
    if (k === 'Home' || k === 'End') {
      pause();
      seek(k === 'Home' ? 0 : last);
      return true;
    }
    if (k === 'n' || k === 'N') {
      if (!tracks.length) return false;
      const i = selected ? tracks.indexOf(selected) : -1;
      select(tracks[(i + (ev.shiftKey ? -1 : 1) + tracks.length) % tracks.length]);
      return true;
    }
    if (readOnly) return false;
    if (k === 'Escape') {
      if (drawing) {
        drawing = null;
        render();
      } else if (corner >= 0) {
        corner = -1;
        render();
      } else if (selected) select(null);
      else return false;
      return true;
    }
    if (k === 'Enter' && drawing) return finishPolygon();
    const t = TOOLS.find((x) => x.key === k);
    if (t) return setTool(t.id);
    if (/^[1-9]$/.test(k)) {
      const l = labels[Number(k) - 1];
      if (!l) return false;
      pickLabel(l.name);
      return true;
    }
    if (k === 'o' || k === 'O') {
      toggleOutside();
      return true;
    }
    if (k === 'k') {
      makeKeyframe();
      return true;
    }
    if ((k === 'Delete' || k === 'Backspace') && !ev.shiftKey && corner >= 0 && selected?.shape === 'polygon') return removeCorner(corner);
    if (k === 'Delete' || k === 'Backspace') return deleteHere(ev.shiftKey);
    if (k === '[' || k === ']') return markEvent(k === ']');
    return false;
  }

  function onDocKey(ev) {
    if (!alive || readOnly || ev.defaultPrevented || !root.isConnected || isTyping(ev.target)) return;
    const other = ev.target instanceof Element ? ev.target.closest('.va-editor') : null;
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
    }
  }
  document.addEventListener('keydown', onDocKey);
  const onResize = () => {
    timelineDirty = true;
    render();
  };
  window.addEventListener('resize', onResize);

  fit();
  renderList();
  renderInspector();
  renderEvents();
  renderProblems();
  requestAnimationFrame(() => {
    if (!alive) return;
    timelineDirty = true;
    drawFrame();
  });
  showFrame();
  if (!readOnly && !predicted) say(TOOLS.find((t) => t.id === tool).hint);

  return {
    value: val,
    valid: () => problems().length === 0,
    keys,
    unmount() {
      alive = false;
      pause();
      document.removeEventListener('keydown', onDocKey);
      window.removeEventListener('resize', onResize);
      if (media.video) mediaEl.removeAttribute('src');
    },
  };
}
