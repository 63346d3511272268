// editor-transcription.js -- the answer editor for `transcription` projects
// (docs/KINDS.md): write down what an audio, video, image or document says.
//
// The editor draws the task itself (showsTask): the first attachment of
// type audio, video, image or document.  Audio and video get a player with
// a timeline: for audio stored on this server (/v1/files/SHA) a waveform
// decoded in the browser (the page may fetch only its own server); for
// anything else a plain timeline, and a note that says why.  Images and
// documents are shown beside the text box.
//
//   params.segments false: one text box            -> {"text": "..."}
//   params.segments true:  timed segments          -> {"segments": [{start, end, text, speaker?}]}
//
// Segments are drawn on the timeline: drag across the waveform to add one,
// drag its edges to resize it, drag its middle to move it, click it to
// select it (r plays just that segment).  The list below has each
// segment's start and end (editable), speaker (with the speakers used so
// far offered) and text.  Segments stay sorted and never overlap: a drag
// stops at the neighbour, a typed time that would overlap is refused, and
// the message line says why.  Times are kept in whole milliseconds.
//
// Keys: the workspace offers plain keys typed outside text fields to
// keys(); the Ctrl/Alt shortcuts that also work while typing are handled by
// a keydown listener on the editor's root (removed in unmount).
//
// The interface every editor follows is in editors.js.

import { h } from './dom.js';
import { attachmentUrl, renderTask } from './task.js';

const MEDIA_TYPES = ['audio', 'video', 'image', 'document'];
const MIN_MS = 10; // the shortest segment
const NEW_MS = 2000; // a segment added at the playhead, at most
const JUMP_S = 3; // j / l
const STEP_S = 1; // arrows
const FINE_S = 0.1; // shift + arrows
const RATES = [0.5, 0.75, 1, 1.25, 1.5, 2];
const FETCH_LIMIT = 150 * 1024 * 1024; // larger files are streamed, not drawn
const WAVE_H = 120; // CSS px, the timeline's height
const RULER_H = 18; // CSS px at the top of it, for the time ruler
const DRAG_PX = 4; // a press that moves less is a click

/* ---- pure helpers ---- */

/* Lengths count Unicode code points (docs/KINDS.md), not UTF-16 units. */
function codePoints(s) {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
const toMs = (sec) => Math.round(sec * 1000);
/* The last whole millisecond within a duration in seconds (3.3 -> 3300). */
const floorMs = (sec) => Math.floor(sec * 1000 + 1e-3);

/* "0:01.250" for 1250 ms, "1:02:03.000" past an hour; "?" for no time. */
function fmtMs(ms) {
  if (!isNum(ms)) return '?';
  const neg = ms < 0;
  let t = Math.round(Math.abs(ms));
  const milli = t % 1000;
  t = (t - milli) / 1000;
  const sec = t % 60;
  t = (t - sec) / 60;
  const min = t % 60;
  const hrs = (t - min) / 60;
  const tail = `${String(sec).padStart(2, '0')}.${String(milli).padStart(3, '0')}`;
  return (neg ? '-' : '') + (hrs ? `${hrs}:${String(min).padStart(2, '0')}:${tail}` : `${min}:${tail}`);
}

/* A ruler label: "0:05", "1:02:00", or with tenths when ticks are close. */
function fmtTick(sec, step) {
  const cs = Math.round(sec * 100);
  const whole = Math.floor(cs / 100);
  const rem = cs % 100;
  const s = whole % 60;
  const m = Math.floor(whole / 60) % 60;
  const hr = Math.floor(whole / 3600);
  let ss = String(s).padStart(2, '0');
  if (step < 0.1) ss += `.${String(rem).padStart(2, '0')}`;
  else if (step < 1) ss += `.${Math.floor(rem / 10)}`;
  return hr ? `${hr}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/* Seconds from "12.5", "12,5", "1:02.5" or "1:02:03.250"; NaN otherwise. */
function parseTime(str) {
  const t = String(str ?? '')
    .trim()
    .replace(',', '.')
    .replace(/\s*s$/, '');
  if (/^(\d+(\.\d*)?|\.\d+)$/.test(t)) return Number(t);
  let m = /^(\d+):(\d{1,2}(?:\.\d*)?)$/.exec(t);
  if (m) return Number(m[2]) < 60 ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  m = /^(\d+):(\d{1,2}):(\d{1,2}(?:\.\d*)?)$/.exec(t);
  if (m) return Number(m[2]) < 60 && Number(m[3]) < 60 ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : NaN;
  return NaN;
}

/* The media to transcribe: the first attachment of a type this kind reads. */
function mediaOf(task) {
  const list = Array.isArray(task?.attachments) ? task.attachments : [];
  const i = list.findIndex((a) => a && MEDIA_TYPES.includes(a.type));
  return i < 0 ? null : { att: list[i], index: i };
}

/* The prediction with the highest score (the first on a tie) that fits
 * the project (text or segments); null if none does. */
function bestPrediction(predictions, segmentsMode) {
  if (!Array.isArray(predictions)) return null;
  let best = null;
  for (const p of predictions) {
    const r = p?.response;
    if (!r || typeof r !== 'object') continue;
    if (segmentsMode ? !Array.isArray(r.segments) : typeof r.text !== 'string') continue;
    const score = isNum(p.score) ? p.score : -Infinity;
    if (!best || score > best.score) best = { model: typeof p.model === 'string' ? p.model : '', score, response: r };
  }
  return best;
}

/* Segments of a response or draft, as the editor keeps them: times in
 * whole ms (NaN when missing: flagged, never guessed), text, speaker. */
function segmentsFrom(list) {
  return (Array.isArray(list) ? list : [])
    .filter((x) => x && typeof x === 'object')
    .map((x) => ({
      s: isNum(x.start) ? toMs(x.start) : NaN,
      e: isNum(x.end) ? toMs(x.end) : NaN,
      text: typeof x.text === 'string' ? x.text : '',
      speaker: typeof x.speaker === 'string' ? x.speaker : '',
    }));
}

/* "the model whisper-large (score 0.91)" */
function modelName(p) {
  const who = p.model ? `the model ${p.model}` : 'a model';
  return `${who}${isNum(p.score) ? ` (score ${Math.round(p.score * 100) / 100})` : ''}`;
}

/* The distance between ruler ticks, in seconds, for px pixels per second. */
function tickStep(pxPerSec) {
  const steps = [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];
  return steps.find((s) => s * pxPerSec >= 70) ?? 7200;
}

/* Reads a same-origin file, at most limit bytes: {bytes, type} or
 * {tooBig: size}. */
async function fetchCapped(url, limit, signal) {
  const res = await fetch(url, { credentials: 'same-origin', signal });
  if (!res.ok) throw new Error(`the server answered ${res.status}`);
  const type = res.headers.get('content-type') || '';
  const len = Number(res.headers.get('content-length'));
  if (len > limit) {
    res.body?.cancel().catch(() => {});
    return { tooBig: len };
  }
  if (!res.body) {
    const buf = await res.arrayBuffer();
    return buf.byteLength > limit ? { tooBig: buf.byteLength } : { bytes: new Uint8Array(buf), type };
  }
  const reader = res.body.getReader();
  const parts = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      reader.cancel().catch(() => {});
      return { tooBig: total };
    }
    parts.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.byteLength;
  }
  return { bytes, type };
}

/* Decodes audio bytes and reduces them to min/max peaks: bps blocks a
 * second (at most 1000, and at most ~2 million blocks in all), all
 * channels together.  The decoded samples are dropped at once.  An
 * OfflineAudioContext decodes without opening the sound device (nothing to
 * close); a low sample rate keeps an hour of audio within ~230 MB while it
 * is decoded. */
async function decodePeaks(bytes) {
  const Ctx = window.OfflineAudioContext || window.webkitOfflineAudioContext;
  if (!Ctx) throw new Error('this browser cannot decode audio');
  const rate = bytes.byteLength > 20e6 ? 8000 : 16000;
  let ctx = new Ctx(1, 1, rate);
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  const buf = whole ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const audio = await ctx.decodeAudioData(buf);
  ctx = null;
  const dur = audio.duration;
  if (!(dur > 0)) throw new Error('the audio is empty');
  const chans = [];
  for (let c = 0; c < audio.numberOfChannels; c++) chans.push(audio.getChannelData(c));
  const n = audio.length;
  const bps = Math.max(1, Math.min(1000, Math.floor(2e6 / dur)));
  const blocks = Math.max(1, Math.ceil(dur * bps));
  const per = audio.sampleRate / bps;
  const mins = new Float32Array(blocks);
  const maxs = new Float32Array(blocks);
  let peak = 0;
  for (let b = 0; b < blocks; b++) {
    const i0 = Math.floor(b * per);
    const i1 = Math.min(n, Math.max(i0 + 1, Math.floor((b + 1) * per)));
    let lo = 0;
    let hi = 0;
    for (const ch of chans) {
      for (let i = i0; i < i1; i++) {
        const v = ch[i];
        if (v < lo) lo = v;
        else if (v > hi) hi = v;
      }
    }
    mins[b] = lo;
    maxs[b] = hi;
    if (hi > peak) peak = hi;
    if (-lo > peak) peak = -lo;
  }
  // Quiet recordings are scaled up to fill the height (at most 20 times).
  const gain = peak > 0 ? Math.min(0.95 / peak, 20) : 1;
  return { mins, maxs, bps, gain, duration: dur };
}

/* ---- the editor ---- */

export const transcriptionEditor = {
  kind: 'transcription',
  showsTask: true,

  shortcuts: [
    ['Space / k', 'play or pause'],
    ['Ctrl+Space / Alt+K', 'play or pause, also while typing'],
    ['j / l', `back / forward ${JUMP_S} seconds (Alt+J / Alt+L also while typing)`],
    ['← / →', `back / forward ${STEP_S} second (with Shift: ${FINE_S} s)`],
    ['- / +', 'slower / faster playback'],
    ['m', "mark a new segment's start, then its end, at the playhead (Alt+M also while typing; Esc cancels)"],
    ['b', 'split the segment under the playhead in two'],
    ['[ / ]', 'select the previous / next segment'],
    ['r', 'play the selected segment (Alt+R also while typing)'],
    ['Alt+[ / Alt+]', "set the selected segment's start / end to the playhead"],
    ['e', 'type in the selected segment (or the text box)'],
    ['Delete', 'delete the selected segment'],
  ],

  mount(el, { params, task, value, onChange, readOnly = false }) {
    const segMode = params?.segments === true;
    const maxLen = Number.isInteger(params?.max_length) && params.max_length > 0 ? params.max_length : 0;
    const data = task?.data && typeof task.data === 'object' && !Array.isArray(task.data) ? task.data : {};
    const dataDur = isNum(data.duration) && data.duration > 0 ? data.duration : null;
    const found = mediaOf(task);
    const mtype = found?.att.type ?? null;
    const timed = mtype === 'audio' || mtype === 'video';
    const url = found ? attachmentUrl(found.att) : null;
    const uid = `tr-${Math.random().toString(36).slice(2, 10)}`;
    const ac = new AbortController(); // every listener outside the elements, and the fetch
    const on = (target, type, fn, opts = {}) => target.addEventListener(type, fn, { ...opts, signal: ac.signal });
    let alive = true;

    /* ---- the answer ---- */

    let nextId = 1;
    let segs = []; // {id, s, e, text, speaker}, sorted by s; times in ms
    let text = '';
    let note = null;
    const fromValue = value && typeof value === 'object' ? value : null;
    if (segMode && fromValue && Array.isArray(fromValue.segments)) {
      segs = segmentsFrom(fromValue.segments);
    } else if (!segMode && fromValue && typeof fromValue.text === 'string') {
      text = fromValue.text;
    } else if (fromValue && !readOnly) {
      note = h('p', { class: 'note', 'data-testid': 'draft-note' }, "A saved answer did not fit this project's settings, so it was not loaded.");
    } else if (!fromValue && !readOnly) {
      const p = bestPrediction(task?.predictions, segMode);
      if (p) {
        if (segMode) {
          segs = segmentsFrom(p.response.segments);
          const n = segs.length;
          note = `Started from the ${n} segment${n === 1 ? '' : 's'} of ${modelName(p)}. Check every time and word before you submit.`;
        } else {
          text = p.response.text;
          note = `Started from the transcript of ${modelName(p)}. Listen or look again and correct it before you submit.`;
        }
        note = h('p', { class: 'note prediction-note', 'data-testid': 'prediction-note' }, note);
      }
    }
    segs.forEach((x) => (x.id = nextId++));
    // A draft may hold anything: keep its order unless it is plainly unsorted.
    if (segs.every((x) => isNum(x.s))) segs.sort((a, b) => a.s - b.s);

    const current = () =>
      segMode
        ? {
            segments: segs.map((x) => {
              const o = { start: isNum(x.s) ? x.s / 1000 : null, end: isNum(x.e) ? x.e / 1000 : null, text: x.text };
              const sp = x.speaker.trim();
              if (sp) o.speaker = sp;
              return o;
            }),
          }
        : { text };

    const changed = () => {
      if (alive && !readOnly) onChange?.(current());
    };

    /* ---- durations ---- */

    let mediaDur = null; // from the media element
    let peaks = null; // from decodePeaks
    const timelineS = () => {
      const known = [dataDur, mediaDur, peaks?.duration].filter((d) => isNum(d) && d > 0);
      return known.length ? Math.max(...known) : null;
    };
    /* The latest a segment may end, in ms: the task's duration (the server
     * checks it), else the media's. */
    const maxMs = () => {
      if (dataDur) return floorMs(dataDur);
      const d = mediaDur || peaks?.duration;
      return d ? floorMs(d) : Infinity;
    };

    /* The problems of each segment (by index), as sentences. */
    function problems() {
      const out = segs.map(() => []);
      const lim = maxMs();
      segs.forEach((x, i) => {
        const p = out[i];
        if (!isNum(x.s)) p.push('It has no start time.');
        else if (x.s < 0) p.push('It starts before 0.');
        if (!isNum(x.e)) p.push('It has no end time.');
        else if (isNum(x.s) && x.e <= x.s) p.push('It ends before it starts.');
        else if (x.e > lim) p.push(`It ends after ${fmtMs(lim)}, the end of the ${mtype || 'media'}.`);
        const prev = segs[i - 1];
        if (prev && isNum(prev.s) && isNum(x.s) && x.s < prev.s) p.push(`It starts before segment ${i}: segments must be in time order.`);
        else if (prev && isNum(prev.e) && isNum(x.s) && x.s < prev.e) p.push(`It overlaps segment ${i}, which ends at ${fmtMs(prev.e)}.`);
        if (maxLen && codePoints(x.text) > maxLen) p.push(`Its text is longer than ${maxLen} characters.`);
      });
      return out;
    }

    function isValid() {
      if (!segMode) return !maxLen || codePoints(text) <= maxLen;
      return problems().every((p) => !p.length);
    }

    /* ---- the frame ---- */

    const root = h('div', {
      class: `tr${readOnly ? ' tr-readonly' : ''}`,
      'data-testid': 'transcription',
      'data-mode': segMode ? 'segments' : 'text',
      'data-media': mtype || 'none',
    });
    el.replaceChildren(root);

    const msg = h('div', { class: 'tr-msg', 'data-testid': 'segment-message', role: 'status', 'aria-live': 'polite', hidden: true });
    /* Shows a message (tone: info, warn, error), with an optional button. */
    function say(textOrNull, tone = 'info', action = null) {
      if (!textOrNull) {
        msg.hidden = true;
        msg.replaceChildren();
        return;
      }
      msg.dataset.tone = tone;
      msg.replaceChildren(h('span', null, textOrNull));
      if (action) msg.append(h('button', { type: 'button', class: 'quiet tr-msg-action', 'data-action': action.name, onclick: action.fn }, action.label));
      msg.hidden = false;
    }

    /* ---- the media ---- */

    let media = null; // the <audio> or <video>
    let blobUrl = null;
    const waveNote = h('p', { class: 'tr-wave-note muted', 'data-testid': 'wave-note', hidden: true });
    const setWaveNote = (t) => {
      waveNote.textContent = t || '';
      waveNote.hidden = !t;
    };
    const timeEl = h('span', { class: 'tr-time', 'data-testid': 'time', 'aria-live': 'off' }, '0:00.000');
    const playBtn = h('button', { type: 'button', class: 'tr-play', 'data-action': 'play', 'aria-keyshortcuts': 'k Control+Space Alt+K', title: 'Play or pause (Space or k; Ctrl+Space or Alt+K while typing)' }, '▶ Play');
    const rateSel = h(
      'select',
      { class: 'tr-rate', 'data-action': 'rate', 'aria-label': 'Playback speed' },
      RATES.map((r) => h('option', { value: String(r), selected: r === 1 }, `${r}×`)),
    );

    let pendingSeek = null; // a seek before the media could take it
    let segStop = null; // seconds: pause there (playing one segment)
    let raf = 0;
    let drawQueued = 0;

    const now = () => (media && media.readyState > 0 ? media.currentTime : (pendingSeek ?? 0));

    function seek(t, { show = true } = {}) {
      if (!media) return;
      const d = timelineS();
      const to = clamp(t, 0, d ?? Math.max(0, t));
      segStop = null;
      if (media.readyState > 0) media.currentTime = to;
      else pendingSeek = to;
      if (show) ensureVisible(to);
      updatePlayhead();
    }

    function play() {
      if (!media) return;
      if (!media.getAttribute('src')) {
        say(`The ${mtype} is still loading.`, 'info');
        return;
      }
      const p = media.play();
      if (p && p.catch)
        p.catch((e) => {
          if (!alive || e?.name === 'AbortError') return;
          say(`The browser did not start playback: ${e?.message || e}`, 'warn');
        });
    }

    function togglePlay() {
      if (!media) return false;
      if (media.paused || media.ended) {
        if (segStop !== null && now() >= segStop - 0.01) segStop = null;
        play();
      } else media.pause();
      return true;
    }

    function setRate(r) {
      if (!media) return;
      media.playbackRate = r;
      rateSel.value = String(r);
    }

    function stepRate(dir) {
      if (!media) return false;
      const i = RATES.indexOf(media.playbackRate);
      const j = clamp((i < 0 ? RATES.indexOf(1) : i) + dir, 0, RATES.length - 1);
      setRate(RATES[j]);
      say(`Playback speed ${RATES[j]}×`);
      return true;
    }

    function tick() {
      raf = 0;
      if (!alive || !media) return;
      if (segStop !== null && media.currentTime >= segStop) {
        media.pause();
        media.currentTime = segStop;
        segStop = null;
      }
      followPlayhead();
      updatePlayhead();
      if (!media.paused) raf = requestAnimationFrame(tick);
    }

    function updateTransport() {
      if (!media) return;
      const playing = !media.paused && !media.ended;
      playBtn.textContent = playing ? '❚❚ Pause' : '▶ Play';
      playBtn.setAttribute('aria-pressed', String(playing));
      root.dataset.playing = String(playing);
    }

    /* ---- the timeline (audio and video) ---- */

    const canvas = h('canvas', { class: 'tr-wave', 'data-testid': 'waveform', 'data-state': 'loading', 'aria-hidden': 'true' });
    const playhead = h('div', { class: 'tr-playhead', 'data-testid': 'playhead', 'aria-hidden': 'true' });
    const markEl = h('div', { class: 'tr-mark', 'aria-hidden': 'true', hidden: true });
    const ghost = h('div', { class: 'tr-region tr-ghost', 'aria-hidden': 'true', hidden: true });
    // Each segment is two boxes at the same place: its fill and handles
    // under the waveform (the canvas lets the pointer through), its outline
    // and label over it.
    const regionLayer = h('div', { class: 'tr-regions' });
    const outlineLayer = h('div', { class: 'tr-outlines', 'aria-hidden': 'true' });
    const viewLabel = segMode && !readOnly ? 'Timeline: click to move the playhead, drag across it to add a segment, drag a segment to move it or its edges to resize it' : 'Timeline: click to move the playhead';
    const view = h(
      'div',
      { class: 'tr-view', 'data-testid': 'timeline', tabindex: '0', role: 'group', 'aria-label': viewLabel, 'aria-describedby': `${uid}-time` },
      regionLayer,
      canvas,
      outlineLayer,
      ghost,
      markEl,
      playhead,
      h('p', { class: 'tr-view-empty muted', 'data-testid': 'timeline-empty' }, 'Loading…'),
    );
    timeEl.id = `${uid}-time`;
    const pan = h('input', { type: 'range', class: 'tr-pan', 'data-action': 'pan', min: '0', max: '0', step: '1', value: '0', 'aria-label': 'Scroll the timeline', hidden: true });
    const zoomOut = h('button', { type: 'button', class: 'quiet tr-zoom', 'data-action': 'zoom-out', 'aria-label': 'Zoom out', title: 'Zoom out (Ctrl + mouse wheel)' }, '−');
    const zoomFit = h('button', { type: 'button', class: 'quiet tr-zoom', 'data-action': 'zoom-fit', title: 'Show the whole timeline' }, 'Fit');
    const zoomIn = h('button', { type: 'button', class: 'quiet tr-zoom', 'data-action': 'zoom-in', 'aria-label': 'Zoom in', title: 'Zoom in (Ctrl + mouse wheel)' }, '+');

    let v0 = 0; // the view's first second
    let span = 0; // seconds shown; 0: the whole timeline
    const viewSpan = () => {
      const d = timelineS();
      return d ? (span > 0 ? Math.min(span, d) : d) : 0;
    };
    const viewW = () => view.clientWidth || 0;
    const timeAtX = (x) => v0 + (x / Math.max(1, viewW())) * viewSpan();
    const xAtTime = (t) => ((t - v0) / Math.max(1e-9, viewSpan())) * viewW();

    function clampView() {
      const d = timelineS();
      if (!d) return;
      if (span >= d) span = 0;
      v0 = clamp(v0, 0, Math.max(0, d - viewSpan()));
    }

    function setSpan(newSpan, anchorT) {
      const d = timelineS();
      if (!d) return;
      const old = viewSpan();
      const frac = old ? clamp((anchorT - v0) / old, 0, 1) : 0.5;
      span = clamp(newSpan, Math.min(d, 0.5), d);
      if (span >= d) span = 0;
      v0 = anchorT - frac * viewSpan();
      clampView();
      requestDraw();
    }

    function zoom(factor, anchorT) {
      const cur = viewSpan();
      if (!cur) return;
      const ph = now();
      const anchor = anchorT ?? (ph >= v0 && ph <= v0 + cur ? ph : v0 + cur / 2);
      setSpan(cur / factor, anchor);
    }

    function ensureVisible(t) {
      const s = viewSpan();
      if (!s || span === 0) return;
      if (t < v0 || t > v0 + s) {
        v0 = t - s * 0.1;
        clampView();
        requestDraw();
      }
    }

    function followPlayhead() {
      const s = viewSpan();
      if (!s || span === 0 || !media || media.paused) return;
      const t = media.currentTime;
      if (t > v0 + s * 0.97 || t < v0) {
        v0 = t - s * 0.03;
        clampView();
        requestDraw();
      }
    }

    function requestDraw() {
      if (drawQueued || !alive) return;
      drawQueued = requestAnimationFrame(() => {
        drawQueued = 0;
        if (alive) drawAll();
      });
    }

    function drawAll() {
      if (!timed) return;
      clampView();
      drawWave();
      layoutRegions();
      updatePlayhead();
      const d = timelineS();
      const s = viewSpan();
      view.dataset.viewStart = v0.toFixed(3);
      view.dataset.viewEnd = (v0 + s).toFixed(3);
      pan.hidden = !d || span === 0;
      if (!pan.hidden) {
        pan.max = String(Math.max(0, Math.round((d - s) * 1000)));
        pan.value = String(Math.round(v0 * 1000));
      }
      zoomOut.disabled = !d || span === 0;
      zoomFit.disabled = !d || span === 0;
      zoomIn.disabled = !d || s <= Math.min(d, 0.5) + 1e-9;
      view.querySelector('.tr-view-empty').hidden = !!d;
    }

    function drawWave() {
      const dpr = window.devicePixelRatio || 1;
      const cssW = viewW();
      if (!cssW) return;
      const W = Math.round(cssW * dpr);
      const H = Math.round(WAVE_H * dpr);
      if (canvas.width !== W) canvas.width = W;
      if (canvas.height !== H) canvas.height = H;
      const g = canvas.getContext('2d');
      if (!g) return;
      g.setTransform(1, 0, 0, 1, 0, 0);
      g.clearRect(0, 0, W, H);
      const d = timelineS();
      if (!d) return;
      const cs = getComputedStyle(canvas);
      const color = (name, fallback) => cs.getPropertyValue(name).trim() || fallback;
      const s = viewSpan();
      const top = Math.round(RULER_H * dpr);
      const mid = top + (H - top) / 2;
      const amp = (H - top) / 2 - 2 * dpr;

      // Beyond the task's duration: no segment may go there.
      const lim = maxMs() / 1000;
      if (lim < d) {
        const x = Math.max(0, Math.round(((lim - v0) / s) * W));
        if (x < W) {
          g.fillStyle = color('--tr-beyond', '#eceef1');
          g.fillRect(x, top, W - x, H - top);
        }
      }

      // The waveform: one bar from min to max per device pixel column.
      let drawn = 0;
      if (peaks) {
        g.fillStyle = color('--tr-wave', '#6d8fd6');
        const { mins, maxs, bps, gain } = peaks;
        const n = mins.length;
        for (let x = 0; x < W; x++) {
          const ta = v0 + (x / W) * s;
          const tb = v0 + ((x + 1) / W) * s;
          let b0 = Math.floor(ta * bps);
          let b1 = Math.max(b0 + 1, Math.floor(tb * bps));
          if (b0 >= n) break;
          b1 = Math.min(n, b1);
          let lo = 0;
          let hi = 0;
          for (let b = b0; b < b1; b++) {
            if (mins[b] < lo) lo = mins[b];
            if (maxs[b] > hi) hi = maxs[b];
          }
          const y0 = mid - hi * gain * amp;
          const y1 = mid - lo * gain * amp;
          if (hi - lo > 0.02 / gain) drawn++;
          g.fillRect(x, Math.floor(y0), 1, Math.max(1, Math.ceil(y1 - y0)));
        }
      }
      // The centre line.
      g.fillStyle = color('--tr-axis', '#c3cad3');
      g.fillRect(0, Math.round(mid), W, Math.max(1, Math.round(dpr)));

      // The ruler.
      const step = tickStep(cssW / s);
      g.fillStyle = color('--tr-ruler-bg', '#f3f5f8');
      g.fillRect(0, 0, W, top);
      g.fillStyle = color('--tr-tick', '#8a949f');
      g.font = `${Math.round(11 * dpr)}px system-ui, sans-serif`;
      g.textBaseline = 'middle';
      for (let k = Math.ceil(v0 / step - 1e-9); k * step <= v0 + s + 1e-9; k++) {
        const t = k * step;
        const x = Math.round(((t - v0) / s) * W);
        g.fillRect(x, Math.round(top * 0.55), Math.max(1, Math.round(dpr)), top - Math.round(top * 0.55));
        g.fillText(fmtTick(t, step), x + 3 * dpr, Math.round(top * 0.4));
      }
      canvas.dataset.state = peaks ? 'drawn' : canvas.dataset.state === 'loading' ? 'loading' : 'none';
      canvas.dataset.columns = String(drawn);
    }

    function updatePlayhead() {
      if (!timed) return;
      const t = now();
      const d = timelineS();
      timeEl.textContent = `${fmtMs(toMs(t))} / ${d ? fmtMs(toMs(d)) : '–:––'}`;
      const s = viewSpan();
      if (!s) {
        playhead.hidden = true;
        return;
      }
      const x = xAtTime(t);
      playhead.hidden = x < -1 || x > viewW() + 1;
      playhead.style.left = `${x}px`;
      root.dataset.time = t.toFixed(3);
    }

    /* The regions on the timeline, one per segment with both times. */
    const regions = new Map(); // id -> {box, outline, label}
    function layoutRegions() {
      const s = viewSpan();
      const W = viewW();
      const seen = new Set();
      const probs = segMode ? problems() : [];
      segs.forEach((x, i) => {
        if (!segMode) return;
        let r = regions.get(x.id);
        if (!r) {
          const label = h('span', { class: 'tr-region-label' });
          const box = h(
            'div',
            { class: 'tr-region', 'data-testid': 'region', 'data-id': String(x.id) },
            readOnly ? null : h('div', { class: 'tr-handle', 'data-edge': 'start', title: 'Drag to move the start' }),
            readOnly ? null : h('div', { class: 'tr-handle', 'data-edge': 'end', title: 'Drag to move the end' }),
          );
          const outline = h('div', { class: 'tr-outline' }, label);
          r = { box, outline, label };
          regions.set(x.id, r);
          regionLayer.append(box);
          outlineLayer.append(outline);
        }
        seen.add(x.id);
        const ok = isNum(x.s) && isNum(x.e) && x.e > x.s && s > 0;
        const left = ok ? xAtTime(x.s / 1000) : 0;
        const right = ok ? xAtTime(x.e / 1000) : 0;
        for (const b of [r.box, r.outline]) {
          b.hidden = !ok || right < 0 || left > W;
          b.style.left = `${left}px`;
          b.style.width = `${Math.max(3, right - left)}px`;
          b.classList.toggle('is-selected', x.id === selectedId);
          b.classList.toggle('is-narrow', right - left < 44);
          b.classList.toggle('is-invalid', probs[i].length > 0);
        }
        r.box.dataset.index = String(i);
        const sp = x.speaker.trim();
        const snippet = x.text.trim().replace(/\s+/g, ' ');
        r.label.textContent = `${i + 1}${sp ? ` · ${sp}` : ''}${snippet ? ` — ${snippet}` : ''}`;
        r.box.title = `Segment ${i + 1}: ${fmtMs(x.s)} – ${fmtMs(x.e)}${sp ? `, ${sp}` : ''}`;
      });
      for (const [id, r] of regions) {
        if (!seen.has(id)) {
          r.box.remove();
          r.outline.remove();
          regions.delete(id);
        }
      }
      if (mark !== null && s > 0) {
        const x = xAtTime(mark / 1000);
        markEl.hidden = x < 0 || x > W;
        markEl.style.left = `${x}px`;
      } else markEl.hidden = true;
    }

    /* ---- segments: selection and editing ---- */

    let selectedId = null;
    let mark = null; // ms: a start marked with m
    let lastDeleted = null; // {seg}: for Undo

    const indexOf = (id) => segs.findIndex((x) => x.id === id);
    const selected = () => segs.find((x) => x.id === selectedId) || null;

    function select(id, { scroll = false } = {}) {
      selectedId = id;
      for (const [sid, row] of rows) row.li.classList.toggle('is-selected', sid === id);
      for (const [sid, row] of rows) row.li.setAttribute('aria-current', sid === id ? 'true' : 'false');
      if (scroll) rows.get(id)?.li.scrollIntoView({ block: 'nearest' });
      requestDraw();
    }

    /* The free stretch of time around t (ms): [lo, hi] between the
     * segments before and after it. */
    function gapAround(t) {
      let lo = 0;
      let hi = maxMs();
      for (const x of segs) {
        if (isNum(x.e) && x.e <= t && x.e > lo) lo = x.e;
        if (isNum(x.s) && x.s >= t && x.s < hi) hi = x.s;
      }
      return [lo, hi];
    }
    const inside = (t) => segs.findIndex((x) => isNum(x.s) && isNum(x.e) && t > x.s && t < x.e);

    /* Adds a segment [s, e] (ms, already checked) in time order. */
    function insertSeg(s, e, textValue = '', speaker = '', { focus = true } = {}) {
      const seg = { id: nextId++, s, e, text: textValue, speaker };
      let i = segs.findIndex((x) => isNum(x.s) && x.s > s);
      if (i < 0) i = segs.length;
      segs.splice(i, 0, seg);
      renderList();
      select(seg.id, { scroll: true });
      changed();
      if (focus) focusText(seg.id);
      return seg;
    }

    function focusText(id) {
      const row = rows.get(id);
      if (!row) return false;
      row.text.focus({ preventScroll: true });
      row.li.scrollIntoView({ block: 'nearest' });
      const n = row.text.value.length;
      row.text.setSelectionRange(n, n);
      return true;
    }

    /* A segment of at most NEW_MS from the playhead, in the free time
     * there (after the segment under the playhead, if any). */
    function addAtPlayhead() {
      let t = toMs(now());
      const k = inside(t);
      if (k >= 0) t = segs[k].e;
      const last = segs.length ? segs[segs.length - 1] : null;
      if (!timed && last && isNum(last.e)) t = Math.max(t, last.e);
      const [lo, hi] = gapAround(t);
      const s = Math.max(lo, t);
      const e = Math.min(hi, s + NEW_MS);
      if (!(e - s >= MIN_MS)) {
        say(`There is no free time at ${fmtMs(s)}: move the playhead to a gap between segments.`, 'warn');
        return false;
      }
      say(null);
      insertSeg(s, e);
      return true;
    }

    /* m: the first press marks the start at the playhead, the second the
     * end, and the segment between them is added. */
    function markAtPlayhead() {
      const t = toMs(now());
      if (mark === null) {
        const k = inside(t);
        if (k >= 0) {
          say(`The playhead is inside segment ${k + 1} (${fmtMs(segs[k].s)} – ${fmtMs(segs[k].e)}): move it to free time to start a new segment.`, 'warn');
          return true;
        }
        if (t > maxMs()) {
          say(`The playhead is past ${fmtMs(maxMs())}, the end of the ${mtype}.`, 'warn');
          return true;
        }
        mark = t;
        say(`Start marked at ${fmtMs(t)}. Press m (Alt+M while typing) again at the end of the segment, or Esc to cancel.`, 'info', { name: 'cancel-mark', label: 'Cancel', fn: cancelMark });
        requestDraw();
        return true;
      }
      const a = mark;
      if (Math.abs(t - a) < MIN_MS) {
        say('Move the playhead to where the segment ends, then press m again.', 'warn', { name: 'cancel-mark', label: 'Cancel', fn: cancelMark });
        return true;
      }
      mark = null;
      const [lo, hi] = gapAround(a);
      let s = Math.min(a, t);
      let e = Math.max(a, t);
      const clipped = s < lo || e > hi;
      s = Math.max(s, lo);
      e = Math.min(e, hi);
      if (e - s < MIN_MS) {
        say('No free time there: segments must not overlap.', 'warn');
        requestDraw();
        return true;
      }
      say(clipped ? `Added ${fmtMs(s)} – ${fmtMs(e)}: it stops where the next segment begins, as segments must not overlap.` : null, 'warn');
      insertSeg(s, e);
      return true;
    }

    function splitAtPlayhead() {
      const t = toMs(now());
      const k = segs.findIndex((x) => isNum(x.s) && isNum(x.e) && t >= x.s + MIN_MS && t <= x.e - MIN_MS);
      if (k < 0) {
        say('To split a segment, put the playhead inside it first (not at its very edge).', 'warn');
        return true;
      }
      const x = segs[k];
      const second = { id: nextId++, s: t, e: x.e, text: '', speaker: x.speaker };
      x.e = t;
      segs.splice(k + 1, 0, second);
      renderList();
      select(second.id, { scroll: true });
      say(`Segment ${k + 1} split at ${fmtMs(t)}; its text stays in the first part.`);
      changed();
      return true;
    }

    function playSegment(id) {
      const x = segs.find((y) => y.id === id);
      if (!x || !media || !isNum(x.s) || !isNum(x.e)) return false;
      select(id);
      seek(x.s / 1000);
      segStop = x.e / 1000;
      play();
      return true;
    }

    function selectNeighbour(dir) {
      if (!segs.length) return false;
      const i = indexOf(selectedId);
      let j;
      if (i >= 0) j = clamp(i + dir, 0, segs.length - 1);
      else {
        const t = toMs(now());
        j = dir > 0 ? segs.findIndex((x) => x.s >= t) : segs.findLastIndex((x) => x.s < t);
        if (j < 0) j = dir > 0 ? segs.length - 1 : 0;
      }
      const x = segs[j];
      select(x.id, { scroll: true });
      if (isNum(x.s)) seek(x.s / 1000);
      return true;
    }

    function deleteSeg(id) {
      const i = indexOf(id);
      if (i < 0) return false;
      const hadFocus = rows.get(id)?.li.contains(document.activeElement);
      const [x] = segs.splice(i, 1);
      lastDeleted = x;
      renderList();
      const next = segs[i] || segs[i - 1] || null;
      select(next ? next.id : null);
      if (hadFocus) (next ? rows.get(next.id)?.num : addBtn)?.focus({ preventScroll: true });
      say(`Segment ${i + 1} (${fmtMs(x.s)} – ${fmtMs(x.e)}) deleted.`, 'info', { name: 'undo-delete', label: 'Undo', fn: undoDelete });
      changed();
      return true;
    }

    function undoDelete() {
      const x = lastDeleted;
      if (!x) return;
      const [lo, hi] = isNum(x.s) ? gapAround(x.s) : [0, Infinity];
      if (isNum(x.s) && isNum(x.e) && (x.s < lo || x.e > hi)) {
        say('The deleted segment cannot come back: its time is taken by another segment now.', 'warn');
        return;
      }
      lastDeleted = null;
      say(null);
      insertSeg(x.s, x.e, x.text, x.speaker, { focus: false });
    }

    /* Sets a segment's start or end (seconds, or the text typed) after
     * checking it; refuses what would break the order.  True if set. */
    function setTime(id, edge, raw) {
      const i = indexOf(id);
      if (i < 0) return false;
      const x = segs[i];
      const name = edge === 'start' ? 'start' : 'end';
      const sec = typeof raw === 'number' ? raw : parseTime(raw);
      const refuse = (why) => {
        say(why, 'error');
        updateRow(x, i, true);
        return false;
      };
      if (!Number.isFinite(sec)) return refuse(`“${String(raw).trim()}” is not a time: write seconds (12.5) or minutes:seconds (1:02.5).`);
      let ms = toMs(sec);
      let adjusted = '';
      const lim = maxMs();
      if (ms > lim) {
        ms = lim;
        adjusted = ` (the ${mtype || 'media'} ends at ${fmtMs(lim)})`;
      }
      if (ms === (edge === 'start' ? x.s : x.e)) {
        updateRow(x, i, true);
        return true;
      }
      const prev = segs[i - 1];
      const next = segs[i + 1];
      if (edge === 'start') {
        if (isNum(x.e) && ms >= x.e) return refuse(`Segment ${i + 1} cannot start at ${fmtMs(ms)}: it ends at ${fmtMs(x.e)}, and the start must come before the end.`);
        if (prev && isNum(prev.e) && ms < prev.e)
          return refuse(`Segment ${i + 1} cannot start at ${fmtMs(ms)}: segment ${i} runs until ${fmtMs(prev.e)}, and segments must not overlap. Shorten segment ${i} first.`);
        x.s = ms;
      } else {
        if (isNum(x.s) && ms <= x.s) return refuse(`Segment ${i + 1} cannot end at ${fmtMs(ms)}: it starts at ${fmtMs(x.s)}, and the end must come after the start.`);
        if (next && isNum(next.s) && ms > next.s)
          return refuse(`Segment ${i + 1} cannot end at ${fmtMs(ms)}: segment ${i + 2} starts at ${fmtMs(next.s)}, and segments must not overlap. Move segment ${i + 2} first.`);
        x.e = ms;
      }
      say(adjusted ? `The ${name} of segment ${i + 1} was set to ${fmtMs(ms)}${adjusted}.` : null, 'warn');
      updateAll(true);
      changed();
      return true;
    }

    function setEdgeToPlayhead(edge) {
      const x = selected();
      if (!x) {
        say('Select a segment first (click it, or press [ or ]).', 'warn');
        return true;
      }
      setTime(x.id, edge, toMs(now()) / 1000);
      return true;
    }

    /* ---- the segment list ---- */

    const rows = new Map(); // id -> {li, num, start, end, len, speaker, text, counter, errors}
    const list = h('ol', { class: 'tr-list', 'data-testid': 'segments', 'aria-label': 'Segments' });
    const empty = h('p', { class: 'muted tr-empty', 'data-testid': 'no-segments' });
    const speakers = h('datalist', { id: `${uid}-speakers` });
    const addBtn = h('button', { type: 'button', 'data-action': 'add-segment', onclick: () => addAtPlayhead() }, '+ Add segment at the playhead');
    const markBtn = h('button', { type: 'button', class: 'quiet', 'data-action': 'mark', 'aria-keyshortcuts': 'm Alt+M', title: "Mark a segment's start, then its end (m)", onclick: () => markAtPlayhead() }, 'Mark ', h('kbd', { 'aria-hidden': 'true' }, 'm'));

    function refreshSpeakers() {
      const names = [];
      for (const x of segs) {
        const sp = x.speaker.trim();
        if (sp && !names.includes(sp)) names.push(sp);
      }
      const have = [...speakers.options].map((o) => o.value);
      if (have.join('\n') !== names.join('\n')) speakers.replaceChildren(...names.map((n) => h('option', { value: n })));
    }

    function counterText(n) {
      if (!maxLen) return `${n} character${n === 1 ? '' : 's'}`;
      const left = maxLen - n;
      return left >= 0 ? `${left} of ${maxLen} characters left` : `${-left} character${left === -1 ? '' : 's'} too many (at most ${maxLen})`;
    }

    function setCounter(node, s) {
      const n = codePoints(s);
      node.textContent = counterText(n);
      node.dataset.count = String(n);
      node.dataset.tone = maxLen && n > maxLen ? 'error' : maxLen && n > maxLen * 0.9 ? 'warn' : '';
    }

    function makeRow(x) {
      const id = x.id;
      const timeInput = (edge) => {
        const input = h('input', { type: 'text', class: 'tr-time-input', inputmode: 'decimal', autocomplete: 'off', spellcheck: 'false', 'data-field': edge, readonly: readOnly });
        if (!readOnly) {
          input.addEventListener('change', () => setTime(id, edge, input.value));
          input.addEventListener('keydown', (ev) => {
            if (ev.key === 'Enter') {
              ev.preventDefault();
              setTime(id, edge, input.value);
            } else if ((ev.key === 'ArrowUp' || ev.key === 'ArrowDown') && !ev.altKey && !ev.ctrlKey && !ev.metaKey) {
              ev.preventDefault();
              const y = segs.find((z) => z.id === id);
              const cur = y && isNum(edge === 'start' ? y.s : y.e) ? (edge === 'start' ? y.s : y.e) : 0;
              const d = (ev.shiftKey ? 1000 : 100) * (ev.key === 'ArrowUp' ? 1 : -1);
              setTime(id, edge, Math.max(0, cur + d) / 1000);
            }
          });
        }
        return input;
      };
      const start = timeInput('start');
      const end = timeInput('end');
      const num = h('button', { type: 'button', class: 'tr-num quiet', 'data-action': 'select-segment', onclick: () => (select(id), isNum(segs[indexOf(id)]?.s) && seek(segs[indexOf(id)].s / 1000)) });
      const len = h('span', { class: 'tr-len muted' });
      const playSeg = h('button', { type: 'button', class: 'quiet tr-play-seg', 'data-action': 'play-segment', onclick: () => playSegment(id) }, '▶');
      const speaker = readOnly
        ? h('span', { class: 'tr-speaker-ro', 'data-field': 'speaker' })
        : h('input', { type: 'text', class: 'tr-speaker-input', list: speakers.id, autocomplete: 'off', 'data-field': 'speaker', placeholder: 'Speaker', maxlength: '200' });
      const counter = h('span', { class: 'tr-counter', 'data-testid': 'counter', id: `${uid}-c${id}` });
      const textBox = readOnly
        ? h('div', { class: 'tr-text-ro', 'data-field': 'text' })
        : h('textarea', { class: 'tr-seg-text', rows: '2', 'data-field': 'text', placeholder: 'What is said in this segment', 'aria-describedby': counter.id, spellcheck: 'true' });
      const errors = h('p', { class: 'tr-errors', 'data-testid': 'segment-errors', hidden: true });
      const del = readOnly ? null : h('button', { type: 'button', class: 'quiet tr-delete', 'data-action': 'delete-segment', onclick: () => deleteSeg(id) }, 'Delete');
      if (!readOnly) {
        speaker.addEventListener('input', () => {
          const y = segs.find((z) => z.id === id);
          if (!y) return;
          y.speaker = speaker.value;
          requestDraw();
          changed();
        });
        speaker.addEventListener('change', refreshSpeakers);
        textBox.addEventListener('input', () => {
          const y = segs.find((z) => z.id === id);
          if (!y) return;
          y.text = textBox.value;
          setCounter(counter, y.text);
          updateErrors();
          requestDraw();
          changed();
        });
      }
      const li = h(
        'li',
        { class: 'tr-seg', 'data-testid': 'segment', 'data-id': String(id) },
        h(
          'div',
          { class: 'tr-seg-head' },
          num,
          h('label', { class: 'tr-field' }, h('span', null, 'Start'), start),
          h('label', { class: 'tr-field' }, h('span', null, 'End'), end),
          len,
          playSeg,
          readOnly ? speaker : h('label', { class: 'tr-field tr-field-speaker' }, h('span', null, 'Speaker'), speaker),
          del,
        ),
        textBox,
        readOnly ? null : counter,
        errors,
      );
      li.addEventListener('focusin', () => {
        if (selectedId !== id) select(id);
      });
      return { li, num, start, end, len, playSeg, speaker, text: textBox, counter, errors, del };
    }

    function updateRow(x, i, force = false) {
      const row = rows.get(x.id);
      if (!row) return;
      const n = i + 1;
      row.num.textContent = String(n);
      row.num.setAttribute('aria-label', `Segment ${n}: select it and move the playhead to its start`);
      row.li.dataset.index = String(i);
      for (const [edge, ms] of [
        ['start', x.s],
        ['end', x.e],
      ]) {
        const input = row[edge];
        input.setAttribute('aria-label', `${edge === 'start' ? 'Start' : 'End'} of segment ${n} (seconds, or minutes:seconds)`);
        const shown = isNum(ms) ? fmtMs(ms) : '';
        if (force || document.activeElement !== input) input.value = shown;
        input.dataset.ms = isNum(ms) ? String(ms) : '';
      }
      row.len.textContent = isNum(x.s) && isNum(x.e) ? `${((x.e - x.s) / 1000).toFixed(2)} s` : '';
      row.playSeg.setAttribute('aria-label', `Play segment ${n}`);
      row.playSeg.title = `Play segment ${n} only (r)`;
      row.playSeg.disabled = !media;
      if (readOnly) {
        row.speaker.textContent = x.speaker.trim();
        row.speaker.hidden = !x.speaker.trim();
        row.text.textContent = x.text;
        row.text.classList.toggle('is-empty', !x.text);
      } else {
        row.speaker.setAttribute('aria-label', `Speaker of segment ${n} (optional)`);
        row.text.setAttribute('aria-label', `Text of segment ${n}`);
        row.del.setAttribute('aria-label', `Delete segment ${n}`);
        if (row.speaker.value !== x.speaker) row.speaker.value = x.speaker;
        if (row.text.value !== x.text) row.text.value = x.text;
        setCounter(row.counter, x.text);
      }
      row.li.classList.toggle('is-selected', x.id === selectedId);
      row.li.setAttribute('aria-current', x.id === selectedId ? 'true' : 'false');
    }

    function updateErrors() {
      const all = problems();
      segs.forEach((x, i) => {
        const row = rows.get(x.id);
        if (!row) return;
        const p = all[i];
        row.errors.textContent = p.join(' ');
        row.errors.hidden = !p.length;
        row.li.classList.toggle('is-invalid', p.length > 0);
        if (p.length) row.li.dataset.invalid = 'true';
        else delete row.li.dataset.invalid;
      });
      root.dataset.valid = String(isValid());
    }

    function renderList() {
      if (!segMode) return;
      const live = new Set(segs.map((x) => x.id));
      for (const [id, row] of rows) {
        if (!live.has(id)) {
          row.li.remove();
          rows.delete(id);
        }
      }
      segs.forEach((x, i) => {
        let row = rows.get(x.id);
        if (!row) {
          row = makeRow(x);
          rows.set(x.id, row);
        }
        if (list.children[i] !== row.li) list.insertBefore(row.li, list.children[i] || null);
        updateRow(x, i);
      });
      empty.hidden = segs.length > 0;
      empty.textContent = readOnly
        ? 'No segments: nothing was transcribed.'
        : timed
          ? 'No segments yet. Drag across the timeline, press m at the start and the end, or add one at the playhead. Submitting none says there is nothing to transcribe.'
          : 'No segments yet: add one, and type its times.';
      refreshSpeakers();
      updateErrors();
      requestDraw();
    }

    function updateAll(force = false) {
      segs.forEach((x, i) => updateRow(x, i, force));
      updateErrors();
      requestDraw();
    }

    /* ---- pointer on the timeline ---- */

    let drag = null;

    function onDown(ev) {
      if (ev.button !== 0 || !timelineS() || drag) return;
      view.focus({ preventScroll: true });
      ev.preventDefault();
      const rect = view.getBoundingClientRect();
      const ox = rect.left + view.clientLeft;
      const t = timeAtX(ev.clientX - ox);
      const handle = ev.target.closest?.('.tr-handle');
      const regionEl = ev.target.closest?.('.tr-region:not(.tr-ghost)');
      const id = regionEl ? Number(regionEl.dataset.id) : null;
      const x = id !== null ? segs.find((y) => y.id === id) : null;
      let mode = 'seek';
      if (segMode && !readOnly) {
        if (x && handle) mode = handle.dataset.edge === 'start' ? 'resize-start' : 'resize-end';
        else if (x) mode = 'move';
        else mode = 'create';
      } else if (x) mode = 'pick';
      drag = { mode, pointerId: ev.pointerId, x0: ev.clientX, t0: t, moved: false, id: x?.id ?? null, orig: x ? { s: x.s, e: x.e } : null, ox, clipped: '' };
      try {
        view.setPointerCapture(ev.pointerId);
      } catch {
        /* the pointer is gone already */
      }
    }

    function dragTime(ev) {
      return timeAtX(ev.clientX - drag.ox);
    }

    function onMove(ev) {
      if (!drag || ev.pointerId !== drag.pointerId) return;
      if (!drag.moved && Math.abs(ev.clientX - drag.x0) < DRAG_PX) return;
      if (!drag.moved && (drag.mode === 'seek' || drag.mode === 'pick')) return;
      drag.moved = true;
      const t = toMs(dragTime(ev));
      const lim = maxMs();
      if (drag.mode === 'create') {
        const a = clamp(toMs(drag.t0), 0, lim);
        const [lo, hi] = gapAround(a);
        let s = Math.min(a, t);
        let e = Math.max(a, t);
        drag.clipped = s < lo ? (lo > 0 ? 'prev' : '') : e > hi ? (hi < lim ? 'next' : 'end') : '';
        s = Math.max(s, lo);
        e = Math.min(e, hi);
        drag.s = s;
        drag.e = e;
        ghost.hidden = false;
        const l = xAtTime(s / 1000);
        ghost.style.left = `${l}px`;
        ghost.style.width = `${Math.max(1, xAtTime(e / 1000) - l)}px`;
        return;
      }
      const i = indexOf(drag.id);
      if (i < 0) return;
      const x = segs[i];
      const prev = segs[i - 1];
      const next = segs[i + 1];
      const lo = prev && isNum(prev.e) ? prev.e : 0;
      const hi = next && isNum(next.s) ? next.s : lim;
      drag.clipped = '';
      if (drag.mode === 'resize-start') {
        const top = isNum(x.e) ? x.e - MIN_MS : t;
        if (t < lo && prev) drag.clipped = 'prev';
        x.s = clamp(t, Math.min(lo, top), top);
      } else if (drag.mode === 'resize-end') {
        const bottom = isNum(x.s) ? x.s + MIN_MS : t;
        if (t > hi && next) drag.clipped = 'next';
        x.e = clamp(t, bottom, Math.max(hi, bottom));
      } else if (drag.mode === 'move' && isNum(drag.orig.s) && isNum(drag.orig.e)) {
        const length = drag.orig.e - drag.orig.s;
        const want = drag.orig.s + (t - toMs(drag.t0));
        if ((want < lo && prev) || (want + length > hi && next)) drag.clipped = want < lo ? 'prev' : 'next';
        const s = clamp(want, lo, Math.max(lo, hi - length));
        x.s = s;
        x.e = s + length;
      }
      updateRow(x, i, true);
      requestDraw();
    }

    function onUp(ev) {
      if (!drag || ev.pointerId !== drag.pointerId) return;
      const d = drag;
      drag = null;
      ghost.hidden = true;
      try {
        view.releasePointerCapture(ev.pointerId);
      } catch {
        /* already released */
      }
      if (!d.moved) {
        if (d.id !== null) select(d.id);
        seek(timeAtX(ev.clientX - d.ox), { show: false });
        return;
      }
      const overlapMsg = (n) => `Stopped at segment ${n}: segments must not overlap.`;
      if (d.mode === 'create') {
        if (!(d.e - d.s >= MIN_MS)) {
          say(d.clipped ? 'No free time there: segments must not overlap.' : 'Too short for a segment: drag further.', 'warn');
          return;
        }
        const nextIdx = segs.findIndex((x) => isNum(x.s) && x.s >= d.e);
        const prevIdx = segs.findLastIndex((x) => isNum(x.e) && x.e <= d.s);
        say(
          d.clipped === 'next' ? overlapMsg(nextIdx + 1) : d.clipped === 'prev' ? overlapMsg(prevIdx + 1) : d.clipped === 'end' ? `Stopped at ${fmtMs(maxMs())}, the end of the ${mtype}.` : null,
          'warn',
        );
        insertSeg(d.s, d.e);
        return;
      }
      const i = indexOf(d.id);
      if (i < 0) return;
      select(d.id);
      say(d.clipped === 'prev' ? overlapMsg(i) : d.clipped === 'next' ? overlapMsg(i + 2) : null, 'warn');
      updateAll(true);
      const x = segs[i];
      if (x.s !== d.orig.s || x.e !== d.orig.e) changed();
    }

    function onCancel(ev) {
      if (!drag || ev.pointerId !== drag.pointerId) return;
      cancelDrag();
    }

    /* Puts back what a drag changed (pointercancel, or Escape). */
    function cancelDrag() {
      const d = drag;
      if (!d) return false;
      drag = null;
      ghost.hidden = true;
      try {
        view.releasePointerCapture(d.pointerId);
      } catch {
        /* already released */
      }
      const x = segs.find((y) => y.id === d.id);
      if (x && d.orig) {
        x.s = d.orig.s;
        x.e = d.orig.e;
        updateAll(true);
      }
      return true;
    }

    function cancelMark() {
      if (mark === null) return false;
      mark = null;
      say(null);
      requestDraw();
      return true;
    }

    function onWheel(ev) {
      const d = timelineS();
      if (!d) return;
      const rect = view.getBoundingClientRect();
      if (ev.ctrlKey || ev.metaKey) {
        ev.preventDefault();
        zoom(ev.deltaY < 0 ? 1.25 : 0.8, timeAtX(ev.clientX - rect.left - view.clientLeft));
      } else if (span > 0 && Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) {
        ev.preventDefault();
        v0 += (ev.deltaX / Math.max(1, viewW())) * viewSpan();
        clampView();
        requestDraw();
      }
    }

    /* ---- keys ---- */

    const focusMain = () => {
      if (segMode) {
        const x = selected() || segs[0];
        if (x) return focusText(x.id);
        return false;
      }
      textArea?.focus({ preventScroll: true });
      textArea?.scrollIntoView({ block: 'nearest' });
      return !!textArea;
    };

    /* Plain keys typed outside text fields (the workspace offers them). */
    function keys(ev) {
      if (!alive || readOnly || ev.ctrlKey || ev.metaKey || ev.altKey) return false;
      // Escape comes here even from text fields (when no overlay is open).
      if (ev.key === 'Escape') return cancelDrag() || cancelMark();
      if (ev.target === pan && /^Arrow/.test(ev.key)) return false;
      const k = ev.key;
      if (k === 'e' || k === 'E') return focusMain();
      if (mtype === 'image' || mtype === 'document') {
        if (k === '+' || k === '=') return imgZoom?.(1.25) ?? false;
        if (k === '-' || k === '_') return imgZoom?.(0.8) ?? false;
        return false;
      }
      if (segMode && (k === 'Delete' || k === 'Backspace')) return selectedId !== null ? deleteSeg(selectedId) : false;
      if (segMode && k === '[') return selectNeighbour(-1);
      if (segMode && k === ']') return selectNeighbour(1);
      if (!media) return false;
      switch (k) {
        case ' ':
        case 'k':
        case 'K':
          return togglePlay();
        case 'j':
        case 'J':
          seek(now() - JUMP_S);
          return true;
        case 'l':
        case 'L':
          seek(now() + JUMP_S);
          return true;
        case 'ArrowLeft':
          seek(now() - (ev.shiftKey ? FINE_S : STEP_S));
          return true;
        case 'ArrowRight':
          seek(now() + (ev.shiftKey ? FINE_S : STEP_S));
          return true;
        case '-':
        case '_':
          return stepRate(-1);
        case '+':
        case '=':
          return stepRate(1);
        default:
      }
      if (!segMode) return false;
      if (k === 'm' || k === 'M') return markAtPlayhead();
      if (k === 'b' || k === 'B') return splitAtPlayhead();
      if (k === 'r' || k === 'R') {
        const x = selected();
        if (x) return playSegment(x.id);
        say('Select a segment first (click it, or press [ or ]).', 'warn');
        return true;
      }
      return false;
    }

    /* Ctrl/Alt shortcuts, which also work while typing: the workspace
     * leaves them alone, so the editor's root listens itself.  ev.code, so
     * that Alt on a Mac (which types other characters) works too. */
    function onRootKey(ev) {
      if (!alive || ev.defaultPrevented || ev.isComposing || !media) return;
      let done = false;
      if (ev.ctrlKey && !ev.altKey && !ev.metaKey && (ev.code === 'Space' || ev.key === ' ')) done = togglePlay();
      else if (ev.altKey && !ev.ctrlKey && !ev.metaKey) {
        switch (ev.code) {
          case 'KeyK':
            done = togglePlay();
            break;
          case 'KeyJ':
            seek(now() - JUMP_S);
            done = true;
            break;
          case 'KeyL':
            seek(now() + JUMP_S);
            done = true;
            break;
          default:
            if (!segMode || readOnly) break;
            if (ev.code === 'KeyM') done = markAtPlayhead();
            else if (ev.code === 'KeyR') {
              const x = selected();
              done = x ? playSegment(x.id) : (say('Select a segment first (click it, or press [ or ]).', 'warn'), true);
            } else if (ev.code === 'BracketLeft') done = setEdgeToPlayhead('start');
            else if (ev.code === 'BracketRight') done = setEdgeToPlayhead('end');
        }
      }
      if (done) ev.preventDefault();
    }

    /* ---- building the page ---- */

    let textArea = null;
    let imgZoom = null;

    const mediaBox = h('div', { class: 'tr-media' });
    if (!found) {
      mediaBox.append(h('p', { class: 'note', 'data-testid': 'no-media' }, 'This task has no audio, video, image or document attachment to transcribe.'));
    } else if (typeof found.att.content === 'string') {
      mediaBox.append(h('div', { class: 'task-text tr-doc-text', 'data-testid': 'media' }, found.att.content));
    } else if (!url) {
      mediaBox.append(h('p', { class: 'note', 'data-testid': 'no-media' }, `The ${mtype} of this task has no address this page can open.`));
    } else if (timed) {
      media = h(mtype, { class: `tr-${mtype}`, preload: 'auto', 'data-testid': 'media', 'data-tr-media': '' });
      if (mtype === 'video') media.setAttribute('playsinline', '');
      if (mtype === 'audio') media.setAttribute('aria-hidden', 'true');
      const name = typeof found.att.name === 'string' && found.att.name ? found.att.name : null;
      const openLink = h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', class: 'tr-open' }, `Open the ${mtype}${name ? ` (${name})` : ''}`);
      mediaBox.append(
        mtype === 'video' ? media : h('div', { hidden: true }, media),
        h(
          'div',
          { class: 'tr-transport', role: 'toolbar', 'aria-label': 'Player' },
          playBtn,
          timeEl,
          h('label', { class: 'tr-rate-label' }, h('span', null, 'Speed'), rateSel),
          h('span', { class: 'tr-zooms', role: 'group', 'aria-label': 'Zoom' }, zoomOut, zoomFit, zoomIn),
          segMode && !readOnly ? markBtn : '',
        ),
        view,
        pan,
        h('div', { class: 'tr-media-foot' }, waveNote, openLink),
      );
    } else {
      // An image or a document: shown beside the text.
      const alt = typeof found.att.name === 'string' && found.att.name ? found.att.name : `The ${mtype} to transcribe`;
      const img = h('img', { src: url, alt, class: 'tr-img', 'data-testid': 'media', decoding: 'async' });
      const box = h('div', { class: 'tr-img-box', tabindex: '0', 'aria-label': `${alt}: scroll to see all of it when zoomed in` }, img);
      let scale = 0; // 0: fit the box
      const zoomLabel = h('span', { class: 'tr-img-scale muted', 'aria-live': 'polite' }, 'Fit');
      imgZoom = (f) => {
        if (!img.naturalWidth) return false;
        const fit = box.clientWidth / img.naturalWidth;
        const cur = scale || fit;
        scale = f === 0 ? 0 : clamp(cur * f, Math.min(fit, 0.1), 8);
        if (scale && Math.abs(scale - fit) < 0.01) scale = 0;
        img.style.width = scale ? `${Math.round(img.naturalWidth * scale)}px` : '';
        img.classList.toggle('is-zoomed', !!scale);
        zoomLabel.textContent = scale ? `${Math.round(scale * 100)}%` : 'Fit';
        return true;
      };
      img.addEventListener(
        'error',
        () => {
          const what = mtype === 'document' ? 'This document cannot be shown here (it may be a PDF or another format the browser does not show in a page)' : 'The image could not be loaded';
          box.replaceWith(h('p', { class: 'note', 'data-testid': 'media-error' }, `${what}: `, h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, `open the ${mtype} in a new tab`), '.'));
          imgTools.hidden = true;
        },
        { once: true },
      );
      const imgTools = h(
        'div',
        { class: 'tr-img-tools', role: 'toolbar', 'aria-label': 'Zoom' },
        h('button', { type: 'button', class: 'quiet tr-zoom', 'data-action': 'zoom-out', 'aria-label': 'Zoom out (-)', onclick: () => imgZoom(0.8) }, '−'),
        h('button', { type: 'button', class: 'quiet tr-zoom', 'data-action': 'zoom-fit', onclick: () => imgZoom(0) }, 'Fit'),
        h('button', { type: 'button', class: 'quiet tr-zoom', 'data-action': 'zoom-in', 'aria-label': 'Zoom in (+)', onclick: () => imgZoom(1.25) }, '+'),
        zoomLabel,
        h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', class: 'tr-open' }, `Open the ${mtype}`),
      );
      mediaBox.append(imgTools, box);
    }

    // What else the task carries (other attachments, data fields).
    let context = null;
    {
      const others = (Array.isArray(task?.attachments) ? task.attachments : []).filter((_, i) => i !== found?.index);
      const rest = Object.fromEntries(Object.entries(data).filter(([k]) => k !== 'duration'));
      if (others.length || Object.keys(rest).length) {
        context = renderTask({ data: rest, attachments: others });
        context.setAttribute('data-testid', 'task-context');
        context.setAttribute('aria-label', 'More about the task');
        context.classList.add('tr-context');
      }
    }

    // The answer.
    let answer;
    if (!segMode) {
      if (readOnly) {
        answer = h('div', { class: 'tr-answer' }, h('div', { class: `tr-text-ro tr-transcript-ro${text ? '' : ' is-empty'}`, 'data-testid': 'transcript' }, text || 'Empty: nothing to transcribe.'));
      } else {
        const counter = h('span', { class: 'tr-counter', 'data-testid': 'counter', id: `${uid}-counter` });
        textArea = h('textarea', {
          id: `${uid}-text`,
          class: 'tr-transcript',
          'data-testid': 'transcript',
          rows: mtype === 'image' || mtype === 'document' ? '14' : '8',
          spellcheck: 'true',
          'aria-describedby': counter.id,
          placeholder: timed ? 'Type what you hear. Ctrl+Space or Alt+K plays and pauses while you type.' : 'Type the text you see.',
        });
        textArea.value = text;
        setCounter(counter, text);
        textArea.addEventListener('input', () => {
          text = textArea.value;
          setCounter(counter, text);
          root.dataset.valid = String(isValid());
          changed();
        });
        answer = h(
          'div',
          { class: 'tr-answer' },
          h('label', { for: textArea.id, class: 'tr-answer-label' }, 'Transcript'),
          textArea,
          h('div', { class: 'tr-answer-foot' }, counter, h('span', { class: 'muted tr-hint' }, 'Leave it empty if there is nothing to transcribe.')),
        );
      }
    } else {
      answer = h(
        'div',
        { class: 'tr-answer' },
        h('h3', { class: 'tr-answer-label' }, 'Segments'),
        list,
        empty,
        speakers,
        readOnly ? null : h('div', { class: 'tr-list-actions' }, addBtn),
      );
    }

    const hint =
      readOnly || !timed
        ? null
        : h(
            'p',
            { class: 'editor-hint tr-keys' },
            segMode ? `Drag across the ${mtype === 'audio' ? 'waveform' : 'timeline'} to add a segment, then type. ` : '',
            'While typing: ',
            h('kbd', null, 'Ctrl+Space'),
            ' or ',
            h('kbd', null, 'Alt+K'),
            ' play/pause, ',
            h('kbd', null, 'Alt+J'),
            ' / ',
            h('kbd', null, 'Alt+L'),
            ` ∓${JUMP_S} s`,
            segMode ? [', ', h('kbd', null, 'Alt+M'), ' mark start/end'] : null,
            '. ',
            h('kbd', null, '?'),
            ' lists every key.',
          );

    if (mtype === 'image' || mtype === 'document') {
      root.append(note || '', h('div', { class: 'tr-side' }, mediaBox, h('div', { class: 'tr-side-answer' }, msg, answer)), context || '');
    } else {
      root.append(hint || '', mediaBox, note || '', msg, answer, context || '');
    }

    renderList();

    /* ---- media events, loading, the waveform ---- */

    if (media) {
      on(media, 'loadedmetadata', () => {
        if (isNum(media.duration) && media.duration > 0) mediaDur = media.duration;
        if (dataDur && mediaDur && Math.abs(dataDur - mediaDur) > 0.5)
          setWaveNote(
            `${waveNote.textContent ? `${waveNote.textContent} ` : ''}The task says the ${mtype} lasts ${fmtMs(toMs(dataDur))}, the file lasts ${fmtMs(toMs(mediaDur))}; segments may end at ${fmtMs(maxMs())} at the latest.`,
          );
        if (pendingSeek !== null) {
          media.currentTime = clamp(pendingSeek, 0, mediaDur || pendingSeek);
          pendingSeek = null;
        }
        root.dataset.mediaReady = 'true';
        updateErrors();
        requestDraw();
        updateAll();
      });
      on(media, 'play', () => {
        // One player at a time on the page (a review shows several).
        for (const m of document.querySelectorAll('[data-tr-media]')) if (m !== media && !m.paused) m.pause();
        updateTransport();
        if (!raf) raf = requestAnimationFrame(tick);
      });
      for (const type of ['pause', 'ended']) on(media, type, () => (updateTransport(), updatePlayhead()));
      on(media, 'pause', () => {
        if (segStop !== null && media.currentTime < segStop - 0.05) segStop = null;
      });
      for (const type of ['timeupdate', 'seeked']) on(media, type, () => updatePlayhead());
      on(media, 'ratechange', () => (rateSel.value = String(media.playbackRate)));
      on(media, 'error', () => {
        const code = media.error?.code;
        const why = code === 4 ? 'the file cannot be reached or its format is not supported by this browser' : code === 2 ? 'of a network error' : code === 3 ? 'it could not be decoded' : 'of an error';
        mediaBox.querySelector('[data-testid=media-error]')?.remove();
        mediaBox.insertBefore(
          h('p', { class: 'note tr-media-error', 'data-testid': 'media-error' }, `The ${mtype} cannot be played here because ${why}. `, h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, 'Open it in a new tab'), ' (type its times by hand).'),
          mediaBox.firstChild,
        );
        playBtn.disabled = true;
        view.querySelector('.tr-view-empty').textContent = `The length of the ${mtype} is not known: type the segments' times by hand.`;
      });
      if (mtype === 'video') on(media, 'click', () => togglePlay());
      on(playBtn, 'click', () => togglePlay());
      on(rateSel, 'change', () => setRate(Number(rateSel.value) || 1));
      on(zoomIn, 'click', () => zoom(2));
      on(zoomOut, 'click', () => zoom(0.5));
      on(zoomFit, 'click', () => ((span = 0), (v0 = 0), requestDraw()));
      on(pan, 'input', () => {
        v0 = Number(pan.value) / 1000;
        clampView();
        requestDraw();
      });
      on(view, 'pointerdown', onDown);
      on(view, 'pointermove', onMove);
      on(view, 'pointerup', onUp);
      on(view, 'pointercancel', onCancel);
      on(view, 'wheel', onWheel, { passive: false });
      on(view, 'dblclick', (ev) => {
        const r = ev.target.closest?.('.tr-region:not(.tr-ghost)');
        if (r) playSegment(Number(r.dataset.id));
      });
      updateTransport();
      loadMedia();
    }
    on(root, 'keydown', onRootKey);

    const resize = typeof ResizeObserver === 'function' ? new ResizeObserver(() => requestDraw()) : null;
    if (timed) resize?.observe(view);
    requestDraw();

    async function loadMedia() {
      let local = false;
      try {
        const u = new URL(url, location.href);
        local = u.origin === location.origin && /^\/v1\/files\/[0-9a-f]{64}$/.test(u.pathname);
      } catch {
        local = false;
      }
      if (!local) {
        media.src = url;
        if (mtype === 'audio') {
          let host = '';
          try {
            host = new URL(url).host;
          } catch {
            /* shown without a host */
          }
          canvas.dataset.state = 'none';
          setWaveNote(
            `No waveform: the audio is on another site${host ? ` (${host})` : ''}, which this page is not allowed to read. Upload the file to Loupe to see its waveform.`,
          );
        } else canvas.dataset.state = 'none';
        return;
      }
      setWaveNote(mtype === 'audio' ? 'Loading the waveform…' : '');
      let got;
      try {
        got = await fetchCapped(url, FETCH_LIMIT, ac.signal);
      } catch (e) {
        if (!alive) return;
        media.src = url;
        canvas.dataset.state = 'none';
        setWaveNote(mtype === 'audio' ? `No waveform: the audio could not be read (${e?.message || e}).` : '');
        return;
      }
      if (!alive) return;
      if (got.tooBig) {
        // Streamed instead: the server does not answer Range requests, so
        // seeking may be limited to what the browser has buffered.
        media.src = url;
        canvas.dataset.state = 'none';
        const mb = Math.round(got.tooBig / (1024 * 1024));
        setWaveNote(`No waveform: the ${mtype} is ${mb} MB, too large to load into the page at once. Playback streams it.`);
        return;
      }
      // Played from memory: the file server has no Range requests, and a
      // blob lets the player seek anywhere.
      blobUrl = URL.createObjectURL(new Blob([got.bytes], got.type ? { type: got.type } : {}));
      media.src = blobUrl;
      if (mtype !== 'audio') {
        canvas.dataset.state = 'none';
        return;
      }
      try {
        peaks = await decodePeaks(got.bytes);
      } catch (e) {
        if (!alive) return;
        canvas.dataset.state = 'none';
        setWaveNote(`No waveform: this browser could not decode the audio (${e?.message || e?.name || e}). Playback may still work.`);
        requestDraw();
        return;
      }
      if (!alive) {
        peaks = null;
        return;
      }
      setWaveNote(waveNote.textContent === 'Loading the waveform…' ? '' : waveNote.textContent);
      updateErrors();
      updateAll();
      requestDraw();
    }

    root.dataset.valid = String(isValid());

    return {
      value: current,
      valid: isValid,
      keys,
      unmount() {
        alive = false;
        ac.abort();
        resize?.disconnect();
        if (raf) cancelAnimationFrame(raf);
        if (drawQueued) cancelAnimationFrame(drawQueued);
        raf = 0;
        drawQueued = 0;
        if (media) {
          media.pause();
          media.removeAttribute('src');
          media.load();
        }
        if (blobUrl) URL.revokeObjectURL(blobUrl);
        blobUrl = null;
        peaks = null;
        drag = null;
      },
    };
  },
};

export default transcriptionEditor;
