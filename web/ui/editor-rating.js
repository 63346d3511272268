// editor-rating.js -- the answer editor for `rating` projects
// (docs/KINDS.md): Likert or numeric scales on named criteria.  One row per
// criterion (name, description, required or optional) with one button per
// point of its scale and the scale's labels under them (only the labelled
// points get one, so a scale labelled only at its ends reads as two
// anchors); a scale of more than MAX_BUTTONS points is a slider.  An
// optional comment follows.  The response is
// {"ratings": {criterion: number}, "comment"?: string}, the numbers being
// exactly the points of the scale (0.5, never 0.49999...).
//
// Keyboard (when not typing in the comment): ↑/↓ or j/k pick the current
// criterion; a number key scores it (the key shown on each point: the
// point's own value when every point is a whole number from 0 to 9, else
// the k-th point, 0 standing for the 10th) and moves to the next
// criterion; ←/→ move its score one point; Delete or Backspace clears it;
// c goes to the comment and Esc leaves it.
//
// The interface every editor follows is in editors.js.

import { h } from './dom.js';
import { setStatus } from './status.js';

/* Scales with more points than this are drawn as a slider. */
const MAX_BUTTONS = 11;
/* A scale with more points than this cannot be drawn at all (the server
 * allows any whole number of steps). */
const MAX_POINTS = 100001;
/* Relative slack when matching a stored score to a point, as the server's. */
const GRID_EPS = 1e-9;

/* Digits after the decimal point in x as JavaScript writes it (0.25: 2,
 * 1e-7: 7), at most 20. */
function decimals(x) {
  const s = String(x);
  const m = /^-?(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/i.exec(s);
  if (!m) return 0;
  const frac = m[2] ? m[2].length : 0;
  const exp = m[3] ? Number(m[3]) : 0;
  return Math.min(20, Math.max(0, frac - exp));
}

function finite(x, fallback) {
  return typeof x === 'number' && Number.isFinite(x) ? x : fallback;
}

/* A unique id for label/aria links: several editors may share a page, and
 * no module-level counter is kept. */
function uid(prefix) {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
}

/* The project's criteria with their scales worked out: points (exact
 * numbers), labels (one per point, '' for none) and the key of each point.
 * A criterion whose scale cannot be drawn gets `problem`. */
function criteriaOf(params) {
  const list = Array.isArray(params?.criteria) ? params.criteria : [];
  const seen = new Set();
  const out = [];
  for (const raw of list) {
    const c = typeof raw === 'string' ? { name: raw } : raw;
    if (!c || typeof c.name !== 'string' || c.name === '' || seen.has(c.name)) continue;
    seen.add(c.name);
    const min = finite(c.min, 1);
    const max = finite(c.max, 5);
    const step = finite(c.step, 1);
    const crit = {
      name: c.name,
      description: typeof c.description === 'string' ? c.description : '',
      required: c.required !== false,
      min,
      max,
      step,
      points: [],
      labels: [],
      keys: [],
      problem: null,
    };
    const n = Math.round((max - min) / step) + 1;
    if (!(max > min) || !(step > 0) || !Number.isFinite(n) || n < 2) {
      crit.problem = `its scale (from ${min} to ${max} in steps of ${step}) is not a valid scale`;
    } else if (n > MAX_POINTS) {
      crit.problem = `its scale has ${n} points, too many to show`;
    } else {
      const d = Math.max(decimals(min), decimals(step));
      for (let k = 0; k < n; k++) crit.points.push(Number((min + k * step).toFixed(d)));
      const labels = Array.isArray(c.labels) && c.labels.length === n ? c.labels : [];
      crit.labels = crit.points.map((_, k) => (typeof labels[k] === 'string' ? labels[k].trim() : ''));
      crit.keys = keysFor(crit.points);
    }
    out.push(crit);
  }
  return out;
}

/* The digit that picks each point (null: none).  When every point up to
 * the 10th is a whole number from 0 to 9, a digit picks the point of that
 * value (0..4, 1..5; and 0..10 or 1..100 in steps of 1, whose points past
 * 9 have no key); else the k-th point, 1 to 9 and 0 for the 10th (1..10,
 * 0..1 by 0.5, -2..2). */
function keysFor(points) {
  const first = points.slice(0, 10);
  const byValue =
    points.length <= 10
      ? first.every((v) => Number.isInteger(v) && v >= 0 && v <= 9)
      : Number.isInteger(points[0]) && points[0] >= 0 && points[0] <= 9 && points[1] - points[0] === 1;
  if (byValue) return points.map((v) => (Number.isInteger(v) && v >= 0 && v <= 9 ? String(v) : null));
  return points.map((_, k) => (k < 9 ? String(k + 1) : k === 9 ? '0' : null));
}

/* The index of x on c's scale, or -1 when x is not one of its points. */
function indexOf(c, x) {
  if (typeof x !== 'number' || !Number.isFinite(x) || !c.points.length) return -1;
  const k = Math.round((x - c.min) / c.step);
  if (k < 0 || k >= c.points.length) return -1;
  return Math.abs(x - c.points[k]) <= GRID_EPS * Math.max(1, Math.abs(x)) ? k : -1;
}

/* Scores of r.ratings that are on the criteria's scales, as {name: index}. */
function picksOf(criteria, ratings) {
  const out = new Map();
  if (!ratings || typeof ratings !== 'object' || Array.isArray(ratings)) return out;
  for (const c of criteria) {
    const k = indexOf(c, ratings[c.name]);
    if (k >= 0) out.set(c.name, k);
  }
  return out;
}

/* The prediction with the highest score (the first on a tie) that rates
 * at least one criterion on its scale, or null. */
function bestPrediction(predictions, criteria) {
  if (!Array.isArray(predictions)) return null;
  let best = null;
  for (const p of predictions) {
    const picks = picksOf(criteria, p?.response?.ratings);
    if (!picks.size) continue;
    const score = typeof p.score === 'number' && Number.isFinite(p.score) ? p.score : -Infinity;
    if (!best || score > best.score) {
      const comment = typeof p.response.comment === 'string' ? p.response.comment : '';
      best = { model: typeof p.model === 'string' ? p.model : '', score, picks, comment };
    }
  }
  return best;
}

/* "1", "0.5", "-2" */
function show(x) {
  return String(x);
}

/* Where each label of a scale goes in the grid under the buttons: the
 * labelled points share out the columns between them, so a label only at
 * the ends spans half the scale and sits flush with its end, while a fully
 * labelled scale gets one centred label per point. */
function labelCells(labels) {
  const at = labels.map((l, i) => (l ? i : -1)).filter((i) => i >= 0);
  const n = labels.length;
  return at.map((i, j) => {
    const prev = j > 0 ? at[j - 1] : -1;
    const next = j + 1 < at.length ? at[j + 1] : n;
    const start = prev < 0 ? 0 : Math.floor((prev + i) / 2) + 1;
    const end = next >= n ? n - 1 : Math.ceil((i + next) / 2) - 1;
    const from = Math.min(start, i);
    const to = Math.max(end, i);
    let align = 'center';
    if (to > from) {
      if (i === 0) align = 'start';
      else if (i === n - 1) align = 'end';
    }
    return { index: i, text: labels[i], from, to, align };
  });
}

function autoGrow(ta) {
  if (!ta.isConnected || ta.offsetParent === null) return;
  ta.style.height = 'auto';
  ta.style.height = `${ta.scrollHeight + 2}px`;
}

export const ratingEditor = {
  kind: 'rating',
  showsTask: false,

  shortcuts: [
    ['↑ ↓ or j k', 'go to the previous or next criterion'],
    ['1 – 9, 0', 'score the current criterion with the point showing that key, then go to the next'],
    ['← →', 'move the current score one point down or up'],
    ['Delete', "clear the current criterion's score"],
    ['c', 'write a comment (Esc leaves it)'],
  ],

  mount(el, { params, task, value, onChange, readOnly = false }) {
    const criteria = criteriaOf(params);
    const usable = criteria.filter((c) => !c.problem);
    let picks = new Map(); // criterion name -> index of its point
    let comment = '';
    let note = null;

    if (value && typeof value === 'object' && !Array.isArray(value)) {
      picks = picksOf(usable, value.ratings);
      if (typeof value.comment === 'string') comment = value.comment;
    } else if (!readOnly) {
      const p = bestPrediction(task?.predictions, usable);
      if (p) {
        picks = p.picks;
        comment = p.comment;
        const who = p.model ? `the model ${p.model}` : 'a model';
        const score = Number.isFinite(p.score) ? ` (score ${Math.round(p.score * 100) / 100})` : '';
        const what = usable
          .filter((c) => picks.has(c.name))
          .map((c) => `${c.name} ${show(c.points[picks.get(c.name)])}`)
          .join(', ');
        note = h('p', { class: 'note prediction-note', 'data-testid': 'prediction-note' }, `Pre-filled from ${who}${score}: ${what}. Check every score before you submit.`);
      }
    }

    let alive = true;
    let current = 0; // index into usable
    const rows = []; // per usable criterion: {c, section, buttons, slider, output, clear}

    const ratingsNow = () => {
      const out = {};
      for (const c of usable) if (picks.has(c.name)) out[c.name] = c.points[picks.get(c.name)];
      return out;
    };
    const valueNow = () => {
      const r = { ratings: ratingsNow() };
      const t = comment.trim();
      if (t) r.comment = t;
      return r;
    };
    const changed = () => {
      if (alive && !readOnly) onChange?.(valueNow());
    };

    /* ---- drawing ---- */

    const renderRow = (row) => {
      const { c } = row;
      const k = picks.has(c.name) ? picks.get(c.name) : -1;
      row.section.dataset.rated = k >= 0 ? 'true' : 'false';
      row.section.dataset.value = k >= 0 ? show(c.points[k]) : '';
      if (row.buttons) {
        row.buttons.forEach((b, i) => {
          b.setAttribute('aria-checked', i === k ? 'true' : 'false');
          if (!readOnly) b.tabIndex = i === (k >= 0 ? k : 0) ? 0 : -1;
        });
      }
      if (row.slider) {
        row.slider.value = String(k >= 0 ? k : Math.floor((c.points.length - 1) / 2));
        row.slider.dataset.unrated = k >= 0 ? 'false' : 'true';
        row.slider.setAttribute('aria-valuetext', k >= 0 ? pointText(c, k) : 'not rated');
        row.output.textContent = k >= 0 ? pointText(c, k) : readOnly ? 'Not rated' : 'Not rated: drag, or use ← →';
      }
      if (row.status) row.status.textContent = k >= 0 ? '' : readOnly ? 'Not rated' : '';
      if (row.clear) row.clear.hidden = k < 0;
      for (const lab of row.labelEls || []) lab.classList.toggle('is-chosen', Number(lab.dataset.index) === k);
    };

    const pointText = (c, k) => (c.labels[k] ? `${show(c.points[k])} (${c.labels[k]})` : show(c.points[k]));

    const setCurrent = (i, { focus = false } = {}) => {
      if (readOnly || !usable.length) return;
      current = Math.max(0, Math.min(usable.length - 1, i));
      rows.forEach((r, j) => {
        r.section.classList.toggle('is-current', j === current);
        if (j === current) r.section.setAttribute('aria-current', 'true');
        else r.section.removeAttribute('aria-current');
      });
      const row = rows[current];
      if (focus && el.contains(document.activeElement)) {
        const target = row.slider || row.buttons?.find((b) => b.tabIndex === 0) || row.section;
        target.focus({ preventScroll: true });
      }
      if (focus) row.section.scrollIntoView?.({ block: 'nearest' });
    };

    const pick = (row, k) => {
      if (!alive || readOnly) return;
      if (k === null) picks.delete(row.c.name);
      else picks.set(row.c.name, k);
      renderRow(row);
      changed();
    };

    const buildScale = (row, nameId) => {
      const { c } = row;
      const n = c.points.length;
      if (n > MAX_BUTTONS) {
        const slider = h('input', {
          type: 'range',
          class: 'rt-slider',
          min: '0',
          max: String(n - 1),
          step: '1',
          'aria-labelledby': nameId,
          'aria-required': c.required ? 'true' : null,
          'data-testid': 'rating-slider',
          disabled: readOnly,
        });
        const set = () => pick(row, Number(slider.value));
        slider.addEventListener('input', set);
        slider.addEventListener('click', set);
        const output = h('output', { class: 'rt-output', 'aria-live': 'polite' });
        row.slider = slider;
        row.output = output;
        const first = c.labels[0] ? `${show(c.points[0])}: ${c.labels[0]}` : show(c.points[0]);
        const last = c.labels[n - 1] ? `${show(c.points[n - 1])}: ${c.labels[n - 1]}` : show(c.points[n - 1]);
        return h('div', { class: 'rt-slider-box' }, h('div', { class: 'rt-slider-line' }, slider, output), h('div', { class: 'rt-ends', 'aria-hidden': 'true' }, h('span', null, first), h('span', null, last)));
      }
      const scale = h('div', {
        class: n > 7 ? 'rt-scale rt-many' : 'rt-scale',
        role: 'radiogroup',
        'aria-labelledby': nameId,
        'aria-required': c.required ? 'true' : null,
        'data-points': String(n),
      });
      scale.style.gridTemplateColumns = `repeat(${n}, minmax(0, 1fr))`;
      scale.style.maxWidth = `${n * 7}rem`;
      const sameKeys = c.keys.every((key, i) => key === null || key === show(c.points[i]));
      row.buttons = c.points.map((v, i) => {
        const key = c.keys[i];
        const b = h(
          'button',
          {
            type: 'button',
            class: 'rt-point',
            role: 'radio',
            'aria-checked': 'false',
            'aria-label': c.labels[i] ? `${show(v)}, ${c.labels[i]}` : show(v),
            'aria-keyshortcuts': !readOnly && key ? key : null,
            'data-value': show(v),
            'data-index': String(i),
            title: c.labels[i] || null,
            disabled: readOnly,
            onclick: () => {
              setCurrent(rows.indexOf(row));
              pick(row, i);
            },
          },
          h('span', { class: 'rt-value' }, show(v)),
          !readOnly && key && !sameKeys ? h('kbd', { class: 'rt-key', 'aria-hidden': 'true' }, key) : null,
        );
        b.style.gridColumn = String(i + 1);
        b.style.gridRow = '1';
        return b;
      });
      scale.append(...row.buttons);
      for (const cell of labelCells(c.labels)) {
        const lab = h('span', { class: `rt-label rt-label-${cell.align}`, 'aria-hidden': 'true', 'data-index': String(cell.index) }, cell.text);
        lab.style.gridColumn = `${cell.from + 1} / ${cell.to + 2}`;
        lab.style.gridRow = '2';
        (row.labelEls ||= []).push(lab);
        scale.append(lab);
      }
      return scale;
    };

    const root = h('div', { class: `rt${readOnly ? ' rt-readonly' : ''}`, 'data-testid': 'rating-editor' });
    const hint = readOnly
      ? null
      : h(
          'p',
          { class: 'editor-hint' },
          'Score each criterion: click a point, or pick a criterion with ',
          h('kbd', null, '↑'),
          ' ',
          h('kbd', null, '↓'),
          ' and press the number shown on a point.',
        );

    const list = h('div', { class: 'rt-list' });
    for (const c of criteria) {
      const nameId = uid('rt-name');
      if (c.problem) {
        list.append(
          h(
            'section',
            { class: 'rt-criterion rt-broken', 'data-criterion': c.name },
            h('div', { class: 'rt-head' }, h('span', { class: 'rt-name', id: nameId }, c.name)),
            h('p', { class: 'error' }, `This criterion cannot be scored here: ${c.problem}. Tell the project's manager.`),
          ),
        );
        continue;
      }
      const row = { c, section: null, buttons: null, slider: null, output: null, clear: null, status: null };
      const descId = c.description ? uid('rt-desc') : null;
      row.clear =
        readOnly || c.required
          ? null
          : h(
              'button',
              {
                type: 'button',
                class: 'quiet rt-clear',
                'data-action': 'clear-rating',
                'aria-label': `Clear the score of ${c.name}`,
                hidden: true,
                onclick: () => {
                  setCurrent(rows.indexOf(row));
                  pick(row, null);
                },
              },
              'Clear',
            );
      row.status = h('span', { class: 'rt-status muted' });
      const scale = buildScale(row, nameId);
      if (descId) scale.setAttribute('aria-describedby', descId);
      row.section = h(
        'section',
        { class: 'rt-criterion', 'data-criterion': c.name, 'data-required': c.required ? 'true' : 'false', 'aria-labelledby': nameId },
        h(
          'div',
          { class: 'rt-head' },
          h('span', { class: 'rt-name', id: nameId }, c.name),
          c.required ? h('span', { class: 'rt-req', title: 'A score is required' }, 'required') : h('span', { class: 'rt-opt' }, 'optional'),
          row.status,
          row.clear,
        ),
        c.description ? h('p', { class: 'rt-desc', id: descId }, c.description) : null,
        scale,
      );
      if (!readOnly) {
        row.section.addEventListener('focusin', () => setCurrent(rows.indexOf(row)));
        row.section.addEventListener('pointerdown', () => setCurrent(rows.indexOf(row)));
      }
      rows.push(row);
      list.append(row.section);
    }
    if (!criteria.length) list.append(h('p', { class: 'note' }, 'This project has no criteria to score.'));

    let commentBox = null;
    let commentArea = null;
    if (readOnly) {
      if (comment.trim()) commentBox = h('div', { class: 'rt-comment-view' }, h('span', { class: 'rt-comment-title' }, 'Comment'), h('p', { class: 'rt-comment-text', 'data-testid': 'rating-comment' }, comment));
    } else {
      const id = uid('rt-comment');
      commentArea = h('textarea', { id, class: 'rt-comment', rows: '2', 'data-testid': 'rating-comment', placeholder: 'Anything the scores do not say' });
      commentArea.value = comment;
      commentArea.addEventListener('input', () => {
        comment = commentArea.value;
        autoGrow(commentArea);
        changed();
      });
      commentArea.addEventListener('keydown', (ev) => {
        if (ev.key !== 'Escape' || ev.isComposing) return;
        const row = rows[current];
        const target = row?.slider || row?.buttons?.find((b) => b.tabIndex === 0) || null;
        if (target) target.focus({ preventScroll: true });
        else commentArea.blur();
      });
      commentBox = h('div', { class: 'rt-comment-box' }, h('label', { for: id }, 'Comment ', h('span', { class: 'rt-opt' }, 'optional')), commentArea);
    }

    root.append(...[hint, note, list, commentBox].filter(Boolean));
    el.replaceChildren(root);
    rows.forEach(renderRow);
    if (!readOnly && rows.length) {
      // Start on the first criterion still to score.
      const todo = rows.findIndex((r) => !picks.has(r.c.name));
      setCurrent(todo >= 0 ? todo : 0);
    }
    if (commentArea) requestAnimationFrame(() => alive && autoGrow(commentArea));

    /* ---- keys ---- */

    const move = (row, delta) => {
      const n = row.c.points.length;
      const k = picks.has(row.c.name) ? picks.get(row.c.name) : -1;
      const next = k < 0 ? (delta > 0 ? 0 : n - 1) : Math.max(0, Math.min(n - 1, k + delta));
      if (next !== k) pick(row, next);
      if (row.buttons && el.contains(document.activeElement)) row.buttons[next].focus({ preventScroll: true });
    };

    return {
      value: valueNow,
      valid() {
        return usable.every((c) => !c.required || picks.has(c.name)) && criteria.every((c) => !c.problem || !c.required);
      },
      keys(ev) {
        if (!alive || readOnly || !rows.length || ev.ctrlKey || ev.metaKey || ev.altKey) return false;
        const row = rows[current];
        const key = ev.key;
        if (key === 'ArrowDown' || key === 'j' || key === 'J') {
          if (current >= rows.length - 1) return key !== 'ArrowDown';
          setCurrent(current + 1, { focus: true });
          return true;
        }
        if (key === 'ArrowUp' || key === 'k' || key === 'K') {
          if (current <= 0) return key !== 'ArrowUp';
          setCurrent(current - 1, { focus: true });
          return true;
        }
        if (key === 'ArrowRight' || key === 'ArrowLeft') {
          move(row, key === 'ArrowRight' ? 1 : -1);
          return true;
        }
        if (key === 'Delete' || key === 'Backspace') {
          if (picks.has(row.c.name)) pick(row, null);
          return true;
        }
        if (key === 'c' || key === 'C') {
          commentArea?.focus();
          return !!commentArea;
        }
        if (/^[0-9]$/.test(key)) {
          const k = row.c.keys.indexOf(key);
          if (k < 0) {
            const c = row.c;
            setStatus(`${key} is not a key of ${c.name}'s scale (${show(c.min)} to ${show(c.max)}): use the keys shown on its points`, 'warn');
            return true;
          }
          pick(row, k);
          if (current < rows.length - 1) setCurrent(current + 1, { focus: true });
          else if (row.buttons && el.contains(document.activeElement)) row.buttons[k].focus({ preventScroll: true });
          return true;
        }
        return false;
      },
      unmount() {
        alive = false;
      },
    };
  },
};

export default ratingEditor;
