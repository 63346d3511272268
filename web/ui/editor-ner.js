// editor-ner.js -- the answer editor for `namedentityrecognition` projects
// (docs/KINDS.md): labelled spans of a text, and labelled relations between
// spans when the project has relation labels.
//
//   Mouse     pick a label (a button, or its number 1-9), then select text:
//             the selection becomes a span with that label (whitespace at
//             its ends is trimmed and, with "Snap to words" on, words cut
//             in two are taken whole); a double-click marks one word.  A
//             click on a span (or its bar under the text) selects it; more
//             clicks at the same place go through the spans nested there.
//   Keyboard  ←/→ move a word cursor, Shift+←/→ extend it, m or Space marks
//             it; ↑/↓ select the previous/next span; Delete deletes it;
//             [ ] widen it by a word at the start/end, { } narrow it; a
//             number changes its label; r relates it to another span.
//
// The response is {"spans": [{start, end, label, text}], "relations":
// [{from, to, label}]} ("relations" only when the project has relation
// labels).  Offsets count Unicode code points, as the server does, never
// UTF-16 units: the text is kept as an array of code points, and the DOM's
// UTF-16 offsets are converted at the edges.  Spans are sent in text order
// (start, then the longer first); relations refer to spans by their place
// in that list, so deleting a span drops its relations and the indexes of
// the others follow.
//
// Overlapping and nested spans are drawn as coloured bars under the text,
// one row ("level") per overlap, each with its label; relations as arrows
// above the text.  Bars and arrows are placed from the text's layout
// (Range.getClientRects) and redrawn when the width changes.
//
// The interface every editor follows is in editors.js.  Each mount keeps
// its own state; nothing is shared between instances.

import { h, svg, plural } from './dom.js';
import { renderTask } from './task.js';

const BAR_H = 15; // px, a span's bar under the text
const BAR_GAP = 2; // px between two rows of bars
const TOP_PLAIN = 6; // px above each line of text without relations
const TOP_RELATIONS = 30; // px above each line when arrows are drawn

const WORD = /[\p{L}\p{N}\p{M}_]/u;
const SPACE = /\s/u;

const HUES = [212, 24, 142, 330, 268, 45, 184, 2, 96, 300];

/* Colours of the label with index i: a solid one for bars (white text on
 * it stays readable) and a light one for the text's background. */
function colourOf(i) {
  const hue = i < HUES.length ? HUES[i] : Math.round((i * 137.508) % 360);
  const light = hue >= 40 && hue <= 110 ? 30 : 38; // yellows and greens are lighter: darken
  return { solid: `hsl(${hue} 65% ${light}%)`, soft: `hsl(${hue} 85% 50% / 0.17)` };
}

function namedList(list) {
  if (!Array.isArray(list)) return [];
  return list
    .map((l) => (typeof l === 'string' ? { name: l } : l))
    .filter((l) => l && typeof l.name === 'string' && l.name !== '');
}

/* The task's text as KINDS.md says: data.text, else the content of the
 * first text attachment that has content.  source: 'data', the index of
 * the attachment, or null when there is none. */
function taskText(task) {
  const data = task && task.data && typeof task.data === 'object' && !Array.isArray(task.data) ? task.data : {};
  if (typeof data.text === 'string') return { text: data.text, source: 'data' };
  const atts = Array.isArray(task?.attachments) ? task.attachments : [];
  const i = atts.findIndex((a) => a && a.type === 'text' && typeof a.content === 'string');
  if (i >= 0) return { text: atts[i].content, source: i };
  return { text: null, source: null };
}

const isInt = (n) => Number.isInteger(n) && n >= 0;

/* Reads a response ({spans, relations}) against the text (len code points)
 * and the project's names.  Returns {spans, rels, dropped, droppedRels}:
 * spans as fresh {start, end, label} objects without duplicates, relations
 * as {from, to, label} pointing at those objects. */
function readResponse(resp, len, labelNames, relNames) {
  const out = { spans: [], rels: [], dropped: 0, droppedRels: 0 };
  const list = resp && typeof resp === 'object' && Array.isArray(resp.spans) ? resp.spans : [];
  const byIndex = [];
  const seen = new Map();
  for (const s of list) {
    const ok = s && typeof s === 'object' && isInt(s.start) && isInt(s.end) && s.start < s.end && s.end <= len && labelNames.has(s.label);
    if (!ok) {
      out.dropped++;
      byIndex.push(null);
      continue;
    }
    const key = `${s.start}:${s.end}:${s.label}`;
    let span = seen.get(key);
    if (!span) {
      span = { start: s.start, end: s.end, label: s.label };
      seen.set(key, span);
      out.spans.push(span);
    }
    byIndex.push(span);
  }
  const rels = resp && typeof resp === 'object' && Array.isArray(resp.relations) ? resp.relations : [];
  for (const r of rels) {
    const from = r && isInt(r.from) ? byIndex[r.from] : null;
    const to = r && isInt(r.to) ? byIndex[r.to] : null;
    if (!from || !to || from === to || !relNames.has(r.label)) {
      out.droppedRels++;
      continue;
    }
    if (!out.rels.some((x) => x.from === from && x.to === to && x.label === r.label)) out.rels.push({ from, to, label: r.label });
  }
  return out;
}

/* The best-scoring prediction (the first on a tie) that has at least one
 * span this editor can show, read like a response; null if none. */
function bestPrediction(predictions, len, labelNames, relNames) {
  if (!Array.isArray(predictions)) return null;
  let best = null;
  for (const p of predictions) {
    if (!p || typeof p !== 'object') continue;
    const read = readResponse(p.response, len, labelNames, relNames);
    if (!read.spans.length) continue;
    const score = typeof p.score === 'number' && Number.isFinite(p.score) ? p.score : -Infinity;
    if (!best || score > best.score) best = { model: typeof p.model === 'string' ? p.model : '', score, read };
  }
  return best;
}

/* Tokens of the text for the keyboard cursor and the word steps: runs of
 * letters, digits and marks, and each other character that is not a space. */
function tokenize(cps) {
  const tokens = [];
  let i = 0;
  while (i < cps.length) {
    if (SPACE.test(cps[i])) {
      i++;
      continue;
    }
    const start = i;
    if (WORD.test(cps[i])) while (i < cps.length && WORD.test(cps[i])) i++;
    else i++;
    tokens.push({ start, end: i });
  }
  return tokens;
}

/* Spans in text order: start, then the longer first, then label order. */
function textOrder(spans, labelIndex) {
  return spans.slice().sort((a, b) => a.start - b.start || b.end - a.end || (labelIndex.get(a.label) ?? 0) - (labelIndex.get(b.label) ?? 0));
}

/* The row (level) of each span's bar: shorter spans nearer the text, and
 * no two overlapping spans on the same row. */
function levelsOf(spans) {
  const order = spans.slice().sort((a, b) => a.end - a.start - (b.end - b.start) || a.start - b.start);
  const rows = []; // rows[level] = spans on it
  const level = new Map();
  for (const s of order) {
    let l = 0;
    while (rows[l] && rows[l].some((o) => o.start < s.end && s.start < o.end)) l++;
    (rows[l] ||= []).push(s);
    level.set(s, l);
  }
  return { level, depth: rows.length };
}

export const nerEditor = {
  kind: 'namedentityrecognition',
  showsTask: true,

  shortcuts: [
    ['1 – 9', 'pick the label for new spans; with a span selected, change its label'],
    ['← →', 'move the word cursor (with Shift: extend it)'],
    ['m or Space', 'mark the words under the cursor with the label'],
    ['↑ ↓', 'select the previous or next span'],
    ['Delete', 'delete the selected span'],
    ['[ ]', 'widen the selected span by a word at its start or end'],
    ['{ }', 'narrow the selected span by a word at its start or end'],
    ['r', 'relate the selected span to another one (projects with relations)'],
    ['Esc', 'stop relating; deselect the span'],
  ],

  mount(el, { params, task, value, onChange, readOnly = false }) {
    const labels = namedList(params?.labels);
    const relLabels = namedList(params?.relations);
    const labelNames = new Set(labels.map((l) => l.name));
    const relNames = new Set(relLabels.map((l) => l.name));
    const labelIndex = new Map(labels.map((l, i) => [l.name, i]));
    const colours = new Map(labels.map((l, i) => [l.name, colourOf(i)]));
    const hasRelations = relLabels.length > 0;

    const { text, source } = taskText(task);
    const cps = text === null ? [] : Array.from(text);
    const len = cps.length;
    const u16 = new Array(len + 1);
    u16[0] = 0;
    for (let i = 0; i < len; i++) u16[i + 1] = u16[i] + cps[i].length;
    const slice = (a, b) => cps.slice(a, b).join('');
    const tokens = tokenize(cps);

    let alive = true;
    const st = {
      spans: [],
      rels: [],
      active: labels[0]?.name ?? null, // label for new spans
      sel: null, // the selected span
      hover: null, // {span} or {rel}
      cursor: null, // {anchor, focus}: token indexes of the keyboard cursor
      relate: null, // {from, to, stage: 'target'|'label'}
      snap: true,
    };

    /* ---- the starting answer ---- */

    let note = null;
    let droppedNote = null;
    if (text !== null) {
      let read = null;
      if (value && typeof value === 'object') {
        read = readResponse(value, len, labelNames, relNames);
      } else if (!readOnly) {
        const p = bestPrediction(task?.predictions, len, labelNames, relNames);
        if (p) {
          read = p.read;
          const who = p.model ? `the model ${p.model}` : 'a model';
          const score = Number.isFinite(p.score) ? ` (score ${Math.round(p.score * 100) / 100})` : '';
          const rels = hasRelations && read.rels.length ? ` and ${plural(read.rels.length, 'relation')}` : '';
          note = h(
            'p',
            { class: 'note prediction-note', 'data-testid': 'prediction-note' },
            `Pre-filled from ${who}${score}: ${plural(read.spans.length, 'span')}${rels}. Check them before you submit.`,
          );
          read.dropped = 0;
          read.droppedRels = 0;
        }
      }
      if (read) {
        st.spans = read.spans;
        st.rels = hasRelations ? read.rels : [];
        const parts = [];
        if (read.dropped) parts.push(`${plural(read.dropped, 'span')} outside the text or with a label the project does not have`);
        if (read.droppedRels) parts.push(`${plural(read.droppedRels, 'relation')} between missing spans or with an unknown label`);
        if (parts.length)
          droppedNote = h('p', { class: 'note ner-dropped', 'data-testid': 'ner-dropped' }, `Left out of this answer: ${parts.join('; ')}.`);
      }
    }

    /* ---- the response ---- */

    function current() {
      const order = textOrder(st.spans, labelIndex);
      const index = new Map(order.map((s, i) => [s, i]));
      const out = { spans: order.map((s) => ({ start: s.start, end: s.end, label: s.label, text: slice(s.start, s.end) })) };
      if (hasRelations) out.relations = st.rels.map((r) => ({ from: index.get(r.from), to: index.get(r.to), label: r.label }));
      return out;
    }

    /* ---- the frame ---- */

    const root = h('div', { class: 'ner', 'data-testid': 'ner', 'data-readonly': readOnly ? 'true' : null });
    if (text === null) {
      el.replaceChildren(
        h(
          'div',
          { class: 'ner', 'data-testid': 'ner' },
          h('p', { class: 'note', 'data-testid': 'ner-no-text' }, 'This task has no text to mark: it needs data.text, or an attachment of type "text" with its content.'),
        ),
      );
      return { value: () => ({ spans: [] }), valid: () => false, keys: () => false, unmount() {} };
    }

    const msg = h('p', { class: 'ner-msg', 'data-testid': 'ner-msg', role: 'status', 'aria-live': 'polite' });
    const say = (t, tone = 'info') => {
      msg.textContent = t || '';
      msg.dataset.tone = tone;
    };

    // Labels: buttons to pick (editing) or a legend (read-only).
    const labelButtons = new Map();
    let labelRow;
    if (readOnly) {
      labelRow = h(
        'ul',
        { class: 'ner-legend', 'aria-label': 'Span labels' },
        labels.map((l) => {
          const chip = h('li', { class: 'ner-chip', title: l.description || null }, l.name);
          chip.style.setProperty('--ner-c', colours.get(l.name).solid);
          return chip;
        }),
      );
    } else {
      labelRow = h('div', { class: 'label-row ner-labels', role: 'group', 'aria-label': 'Label for new spans' });
      labels.forEach((l, i) => {
        const key = i < 9 ? String(i + 1) : null;
        const b = h(
          'button',
          {
            type: 'button',
            class: 'label-btn ner-label-btn',
            'data-label': l.name,
            'aria-pressed': 'false',
            'aria-keyshortcuts': key,
            title: l.description || null,
            onclick: () => chooseLabel(l.name),
          },
          key ? h('kbd', { class: 'key', 'aria-hidden': 'true' }, key) : null,
          h('span', { class: 'ner-swatch', 'aria-hidden': 'true' }),
          h('span', { class: 'label-text' }, h('span', { class: 'label-name' }, l.name), l.description ? h('span', { class: 'label-desc' }, l.description) : null),
        );
        b.style.setProperty('--ner-c', colours.get(l.name).solid);
        labelButtons.set(l.name, b);
        labelRow.append(b);
      });
    }

    const snapBox = h('input', {
      type: 'checkbox',
      checked: true,
      'data-testid': 'ner-snap',
      onchange: () => {
        st.snap = snapBox.checked;
      },
    });
    const toolbar = readOnly
      ? h('div', { class: 'ner-toolbar' }, labelRow)
      : h('div', { class: 'ner-toolbar' }, labelRow, h('label', { class: 'ner-snap' }, snapBox, ' Snap to words'));
    const hint = readOnly
      ? null
      : h(
          'p',
          { class: 'editor-hint' },
          len
            ? 'Pick a label, then select text to mark it (a double-click marks one word). Click a span to change or delete it. Keyboard: ←/→ move, Shift+←/→ extend, m marks.'
            : 'The text of this task is empty: there is nothing to mark.',
        );

    const textEl = h('div', {
      class: 'ner-text',
      'data-testid': 'ner-text',
      tabindex: '0',
      role: 'group',
      'aria-roledescription': 'text to annotate',
      'aria-label': readOnly ? 'The text, with its spans' : 'The text: select words to mark them with the chosen label',
    });
    const layer = h('div', { class: 'ner-layer', 'aria-hidden': 'true' });
    const docEl = h('div', { class: 'ner-doc' }, textEl, layer);

    const selPanel = h('section', { class: 'ner-panel', 'data-testid': 'ner-selected', 'aria-label': 'Selected span', hidden: true });
    const relatePanel = h('section', { class: 'ner-relate', 'data-testid': 'ner-relating', 'aria-label': 'New relation', hidden: true });
    const spanList = h('section', { class: 'ner-list', 'data-testid': 'ner-spans', 'aria-label': 'Spans' });
    const relList = hasRelations ? h('section', { class: 'ner-list', 'data-testid': 'ner-relations', 'aria-label': 'Relations' }) : null;

    // The rest of the task (other data, other attachments), below.
    let more = null;
    {
      const data = task && task.data && typeof task.data === 'object' && !Array.isArray(task.data) ? { ...task.data } : {};
      if (source === 'data') delete data.text;
      const atts = (Array.isArray(task?.attachments) ? task.attachments : []).filter((_, i) => i !== source);
      const n = Object.keys(data).length + atts.length;
      if (n) {
        more = h(
          'details',
          { class: 'ner-more', open: true },
          h('summary', null, `More of the task (${plural(n, 'item')})`),
          renderTask({ data, attachments: atts }),
        );
      }
    }

    root.append(
      note || '',
      droppedNote || '',
      hint || '',
      toolbar,
      docEl,
      msg,
      readOnly ? '' : relatePanel,
      readOnly ? '' : selPanel,
      h('div', { class: 'ner-lists' }, spanList, relList || ''),
      more || '',
    );
    el.replaceChildren(root);

    /* ---- the text: one element per stretch between span boundaries ---- */

    let segs = []; // {start, end, el}

    function renderText() {
      const bounds = new Set([0, len]);
      for (const s of st.spans) bounds.add(s.start).add(s.end);
      const pts = [...bounds].sort((a, b) => a - b);
      segs = [];
      const nodes = [];
      for (let i = 0; i + 1 < pts.length; i++) {
        const a = pts[i];
        const b = pts[i + 1];
        const covering = st.spans.filter((s) => s.start <= a && s.end >= b).sort((x, y) => x.end - x.start - (y.end - y.start));
        const e = h('span', { class: 'ner-seg', 'data-start': a, 'data-end': b }, text.slice(u16[a], u16[b]));
        if (covering.length) {
          e.classList.add('is-covered');
          if (covering.length > 1) e.classList.add('is-multi');
          e.style.setProperty('--ner-soft', colours.get(covering[0].label).soft);
          e.title = covering.map((s) => `${s.label}: ${slice(s.start, s.end)}`).join('\n');
        }
        segs.push({ start: a, end: b, el: e });
        nodes.push(e);
      }
      textEl.replaceChildren(...nodes);
    }

    /* The DOM point of code point offset cp (0..len). */
    function domPoint(cp, preferEnd) {
      let seg = null;
      for (const s of segs) {
        if (preferEnd ? s.start < cp && cp <= s.end : s.start <= cp && cp < s.end) {
          seg = s;
          break;
        }
      }
      if (!seg) seg = preferEnd ? segs[0] : segs[segs.length - 1];
      const node = seg.el.firstChild;
      const off = Math.max(0, Math.min(u16[cp] - u16[seg.start], node.data.length));
      return [node, off];
    }

    function rangeOf(a, b) {
      const r = document.createRange();
      r.setStart(...domPoint(a, false));
      r.setEnd(...domPoint(b, true));
      return r;
    }

    /* The code point offset of a DOM point inside textEl. */
    function cpOf(node, offset) {
      if (node.nodeType === Node.TEXT_NODE) {
        const segEl = node.parentElement?.closest('.ner-seg');
        if (!segEl) return null;
        let off = offset;
        const d = node.data;
        if (off > 0 && off < d.length && /[\uD800-\uDBFF]/.test(d[off - 1])) off--; // never split a pair
        return Number(segEl.dataset.start) + Array.from(d.slice(0, off)).length;
      }
      if (node === textEl) {
        const c = textEl.children[offset];
        return c ? Number(c.dataset.start) : len;
      }
      if (node instanceof Element && node.classList.contains('ner-seg')) return offset === 0 ? Number(node.dataset.start) : Number(node.dataset.end);
      return null;
    }

    /* The selection in this text as code points [a, b), or null. */
    function selectionCps() {
      const sel = window.getSelection();
      if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
      const r = sel.getRangeAt(0);
      if (!r.intersectsNode(textEl)) return null;
      const full = document.createRange();
      full.selectNodeContents(textEl);
      const a = r.compareBoundaryPoints(Range.START_TO_START, full) <= 0 ? 0 : cpOf(r.startContainer, r.startOffset);
      const b = r.compareBoundaryPoints(Range.END_TO_END, full) >= 0 ? len : cpOf(r.endContainer, r.endOffset);
      if (a === null || b === null || a >= b) return null;
      return [a, b];
    }

    function clearSelection() {
      const sel = window.getSelection();
      if (sel && sel.rangeCount && sel.getRangeAt(0).intersectsNode(textEl)) sel.removeAllRanges();
    }

    /* [a, b) trimmed of whitespace and, with snapping, widened to whole words. */
    function tidy(a, b) {
      while (a < b && SPACE.test(cps[a])) a++;
      while (b > a && SPACE.test(cps[b - 1])) b--;
      if (a >= b) return null;
      if (st.snap) {
        while (a > 0 && WORD.test(cps[a - 1]) && WORD.test(cps[a])) a--;
        while (b < len && WORD.test(cps[b - 1]) && WORD.test(cps[b])) b++;
      }
      return [a, b];
    }

    /* ---- changes ---- */

    const quote = (s) => `“${s.end - s.start > 40 ? slice(s.start, s.start + 37) + '…' : slice(s.start, s.end)}”`;
    const duplicate = (start, end, label, except) => st.spans.some((s) => s !== except && s.start === start && s.end === end && s.label === label);

    function changed({ text: redraw = true } = {}) {
      if (redraw) renderText();
      refresh();
      onChange?.(current());
    }

    function addSpan(a, b, label = st.active) {
      if (!label) {
        say('This project has no labels to mark spans with.', 'warn');
        return null;
      }
      if (duplicate(a, b, label)) {
        say(`“${slice(a, b)}” is already marked ${label}.`, 'warn');
        return null;
      }
      const s = { start: a, end: b, label };
      st.spans.push(s);
      st.sel = null;
      say(`Marked ${quote(s)} as ${label}.`, 'ok');
      changed();
      return s;
    }

    function deleteSpan(s) {
      const gone = st.rels.filter((r) => r.from === s || r.to === s).length;
      st.spans = st.spans.filter((x) => x !== s);
      st.rels = st.rels.filter((r) => r.from !== s && r.to !== s);
      if (st.sel === s) st.sel = null;
      if (st.hover?.span === s || (st.hover?.rel && !st.rels.includes(st.hover.rel))) st.hover = null;
      if (st.relate && (st.relate.from === s || st.relate.to === s)) st.relate = null;
      say(`Deleted ${quote(s)} (${s.label})${gone ? ` and its ${plural(gone, 'relation')}` : ''}.`, 'ok');
      changed();
      textEl.focus({ preventScroll: true });
    }

    function setLabel(s, label) {
      if (s.label === label) return;
      if (duplicate(s.start, s.end, label, s)) {
        say(`${quote(s)} is already marked ${label} by another span.`, 'warn');
        return;
      }
      s.label = label;
      say(`${quote(s)} is now ${label}.`, 'ok');
      changed();
    }

    function setBounds(s, start, end) {
      if (!(isInt(start) && isInt(end) && start < end && end <= len)) {
        say(`A span needs 0 ≤ start < end ≤ ${len} (the text's length in characters).`, 'warn');
        refresh();
        return false;
      }
      if (start === s.start && end === s.end) return true;
      if (duplicate(start, end, s.label, s)) {
        say(`“${slice(start, end)}” is already marked ${s.label}.`, 'warn');
        refresh();
        return false;
      }
      s.start = start;
      s.end = end;
      say(`The span is now ${quote(s)}.`, 'ok');
      changed();
      return true;
    }

    /* Moves a boundary of s by one token: which 'start'|'end', dir -1|+1. */
    function stepBound(s, which, dir) {
      let start = s.start;
      let end = s.end;
      if (which === 'start') {
        if (dir < 0) {
          const t = tokens.findLast((t) => t.start < s.start);
          if (!t) return say('The span already starts at the first word.', 'warn');
          start = t.start;
        } else {
          const t = tokens.find((t) => t.start > s.start);
          if (!t || t.start >= s.end) return say('The span is one word long: it cannot be narrowed further.', 'warn');
          start = t.start;
        }
      } else if (dir > 0) {
        const t = tokens.find((t) => t.end > s.end);
        if (!t) return say('The span already ends at the last word.', 'warn');
        end = t.end;
      } else {
        const t = tokens.findLast((t) => t.end < s.end);
        if (!t || t.end <= s.start) return say('The span is one word long: it cannot be narrowed further.', 'warn');
        end = t.end;
      }
      setBounds(s, start, end);
    }

    function addRelation(from, to, label) {
      if (from === to) return say('A relation links two different spans.', 'warn');
      if (st.rels.some((r) => r.from === from && r.to === to && r.label === label)) {
        st.relate = null;
        refresh();
        return say(`${quote(from)} → ${quote(to)} is already related by ${label}.`, 'warn');
      }
      st.rels.push({ from, to, label });
      st.relate = null;
      st.sel = from;
      say(`Related ${quote(from)} → ${quote(to)} (${label}).`, 'ok');
      changed({ text: false });
    }

    function deleteRelation(r) {
      st.rels = st.rels.filter((x) => x !== r);
      if (st.hover?.rel === r) st.hover = null;
      say(`Deleted the relation ${quote(r.from)} → ${quote(r.to)} (${r.label}).`, 'ok');
      changed({ text: false });
    }

    /* ---- selecting, relating ---- */

    function select(s) {
      st.sel = s;
      if (s) {
        st.cursor = null;
        say('');
      }
      refresh();
    }

    function chooseLabel(name) {
      if (readOnly) return;
      st.active = name;
      if (st.sel) setLabel(st.sel, name);
      else {
        say(`New spans get the label ${name}.`);
        refresh();
      }
    }

    function startRelate() {
      if (!hasRelations || !st.sel) return;
      if (st.spans.length < 2) return say('Mark another span first: a relation links two spans.', 'warn');
      st.relate = { from: st.sel, to: null, stage: 'target' };
      say('');
      refresh();
    }

    function relateTo(target) {
      const r = st.relate;
      if (!r) return;
      if (target === r.from) return say('Pick another span: a relation links two different spans.', 'warn');
      r.to = target;
      if (relLabels.length === 1) return addRelation(r.from, target, relLabels[0].name);
      r.stage = 'label';
      refresh();
      relatePanel.querySelector('button[data-relation-label]')?.focus({ preventScroll: true });
    }

    function cancelRelate() {
      st.relate = null;
      refresh();
    }

    /* Spans covering the stretch [a, b), innermost first. */
    const covering = (a, b) => st.spans.filter((s) => s.start <= a && s.end >= b).sort((x, y) => x.end - x.start - (y.end - y.start) || x.start - y.start);

    function clickSeg(segEl) {
      const a = Number(segEl.dataset.start);
      const b = Number(segEl.dataset.end);
      const here = covering(a, b);
      if (st.relate?.stage === 'target') {
        const t = here.find((s) => s !== st.relate.from);
        if (t) relateTo(t);
        else say('Click another span (a marked stretch of text) to relate to.', 'warn');
        return;
      }
      if (!here.length) {
        // Plain text: put the keyboard cursor on the word clicked.
        const sel = window.getSelection();
        const cp = sel && sel.rangeCount ? cpOf(sel.anchorNode, sel.anchorOffset) : null;
        const ti = cp === null ? -1 : tokenIndexAt(cp);
        st.sel = null;
        st.cursor = ti >= 0 ? { anchor: ti, focus: ti } : null;
        refresh();
        return;
      }
      // Again on the same place: the next span out.
      const i = here.indexOf(st.sel);
      select(here[(i + 1) % here.length]);
    }

    function clickSpan(s) {
      if (st.relate?.stage === 'target') relateTo(s);
      else select(s);
    }

    /* ---- keyboard cursor ---- */

    /* The token containing cp, else the next one, else the last. */
    function tokenIndexAt(cp) {
      if (!tokens.length) return -1;
      let i = tokens.findIndex((t) => t.end > cp);
      if (i < 0) i = tokens.length - 1;
      return i;
    }

    function cursorCps() {
      if (!st.cursor) return null;
      const lo = Math.min(st.cursor.anchor, st.cursor.focus);
      const hi = Math.max(st.cursor.anchor, st.cursor.focus);
      return [tokens[lo].start, tokens[hi].end];
    }

    function moveCursor(dir, extend) {
      if (!tokens.length) return;
      if (!st.cursor) {
        let i;
        if (st.sel) i = dir > 0 ? tokenIndexAt(st.sel.end) : Math.max(0, tokenIndexAt(st.sel.start) - 1);
        else i = dir > 0 ? 0 : tokens.length - 1;
        st.cursor = { anchor: i, focus: i };
      } else {
        const f = Math.max(0, Math.min(tokens.length - 1, st.cursor.focus + dir));
        st.cursor = extend ? { anchor: st.cursor.anchor, focus: f } : { anchor: f, focus: f };
      }
      st.sel = null;
      refresh();
      scrollToCursor();
    }

    function scrollToCursor() {
      const c = cursorCps();
      if (!c) return;
      const rect = rangeOf(c[0], c[1]).getBoundingClientRect();
      if (rect.bottom > window.innerHeight - 80 || rect.top < 40) window.scrollBy({ top: rect.top - window.innerHeight / 2, behavior: 'auto' });
    }

    function markCursor() {
      const c = cursorCps();
      if (!c) return say('Move the word cursor with ← and → first (Shift+→ takes more words), or select text with the mouse.', 'warn');
      addSpan(c[0], c[1]);
    }

    function cycleSpan(dir) {
      const order = textOrder(st.spans, labelIndex);
      if (!order.length) return;
      const relating = st.relate?.stage === 'target';
      const list = relating ? order.filter((s) => s !== st.relate.from) : order;
      if (!list.length) return;
      const curr = relating ? st.relate.to : st.sel;
      let i = list.indexOf(curr);
      if (i < 0) {
        const c = cursorCps();
        if (c) i = dir > 0 ? list.findIndex((s) => s.start >= c[0]) - 1 : list.findIndex((s) => s.start >= c[0]);
        else i = dir > 0 ? -1 : 0;
      }
      const next = list[(((i + dir) % list.length) + list.length) % list.length];
      if (relating) {
        st.relate.to = next;
        refresh();
      } else select(next);
    }

    /* ---- drawing the parts below the text ---- */

    function spanName(s) {
      return h('span', { class: 'ner-span-ref' }, h('span', { class: 'ner-quote' }, quote(s)), ' ', chip(s.label));
    }

    function chip(label) {
      const c = h('span', { class: 'ner-chip' }, label);
      c.style.setProperty('--ner-c', colours.get(label)?.solid || '#59636e');
      return c;
    }

    function refreshLabels() {
      const pressed = st.sel ? st.sel.label : st.active;
      for (const [name, b] of labelButtons) b.setAttribute('aria-pressed', name === pressed ? 'true' : 'false');
    }

    function refreshSelPanel() {
      const s = st.sel;
      if (readOnly || !s || st.relate) {
        selPanel.hidden = true;
        selPanel.replaceChildren();
        return;
      }
      const num = (which) => {
        const inp = h('input', {
          type: 'number',
          min: '0',
          max: String(len),
          step: '1',
          inputmode: 'numeric',
          'data-testid': `ner-${which}`,
          value: String(s[which]),
          onchange: () => {
            const v = inp.value.trim() === '' ? NaN : Number(inp.value);
            const hadFocus = document.activeElement === inp;
            if (which === 'start') setBounds(s, v, s.end);
            else setBounds(s, s.start, v);
            if (hadFocus) selPanel.querySelector(`[data-testid=ner-${which}]`)?.focus({ preventScroll: true });
          },
        });
        return inp;
      };
      const step = (which, dir, text, key, what) =>
        h('button', { type: 'button', class: 'ner-step', 'data-action': `${which}-${dir < 0 ? 'left' : 'right'}`, title: `${what} (${key})`, 'aria-label': what, onclick: () => stepBound(s, which, dir) }, text);
      selPanel.replaceChildren(
        h('h3', null, 'Selected span'),
        h('p', { class: 'ner-sel-line' }, spanName(s), h('span', { class: 'muted' }, ` characters ${s.start}–${s.end}`)),
        h('p', { class: 'muted ner-sel-hint' }, 'Pick a label above (or press its number) to change it.'),
        h(
          'div',
          { class: 'ner-bounds' },
          h('label', null, 'Start ', num('start')),
          step('start', -1, '← word', '[', 'Start one word earlier'),
          step('start', 1, 'word →', '{', 'Start one word later'),
          h('label', null, 'End ', num('end')),
          step('end', -1, '← word', '}', 'End one word earlier'),
          step('end', 1, 'word →', ']', 'End one word later'),
        ),
        h(
          'div',
          { class: 'ner-sel-actions' },
          hasRelations ? h('button', { type: 'button', 'data-action': 'relate', 'aria-keyshortcuts': 'r', onclick: () => startRelate() }, 'Relate to… ', h('kbd', { 'aria-hidden': 'true' }, 'r')) : null,
          h('button', { type: 'button', class: 'danger', 'data-action': 'delete-span', 'aria-keyshortcuts': 'Delete', onclick: () => deleteSpan(s) }, 'Delete ', h('kbd', { 'aria-hidden': 'true' }, 'Del')),
          h('button', { type: 'button', class: 'quiet', 'data-action': 'deselect', onclick: () => (select(null), textEl.focus({ preventScroll: true })) }, 'Deselect ', h('kbd', { 'aria-hidden': 'true' }, 'Esc')),
        ),
      );
      selPanel.hidden = false;
    }

    function refreshRelatePanel() {
      const r = st.relate;
      if (readOnly || !r) {
        relatePanel.hidden = true;
        relatePanel.replaceChildren();
        return;
      }
      const cancel = h('button', { type: 'button', class: 'quiet', 'data-action': 'cancel-relate', onclick: () => (cancelRelate(), textEl.focus({ preventScroll: true })) }, 'Cancel ', h('kbd', { 'aria-hidden': 'true' }, 'Esc'));
      if (r.stage === 'target') {
        relatePanel.replaceChildren(
          h('p', null, h('strong', null, 'Relate '), spanName(r.from), h('strong', null, ' to…'), ' Click the other span in the text, or choose it with ↑/↓ and press m.'),
          r.to ? h('p', { class: 'muted' }, 'Chosen: ', spanName(r.to)) : '',
          h('div', { class: 'ner-sel-actions' }, r.to ? h('button', { type: 'button', class: 'primary', 'data-action': 'confirm-target', onclick: () => relateTo(r.to) }, 'Use this span') : null, cancel),
        );
      } else {
        relatePanel.replaceChildren(
          h('p', null, spanName(r.from), ' → ', spanName(r.to), ': which relation?'),
          h(
            'div',
            { class: 'label-row', role: 'group', 'aria-label': 'Relation label' },
            relLabels.map((l, i) =>
              h(
                'button',
                { type: 'button', class: 'label-btn', 'data-relation-label': l.name, title: l.description || null, 'aria-keyshortcuts': i < 9 ? String(i + 1) : null, onclick: () => addRelation(r.from, r.to, l.name) },
                i < 9 ? h('kbd', { class: 'key', 'aria-hidden': 'true' }, String(i + 1)) : null,
                h('span', { class: 'label-text' }, h('span', { class: 'label-name' }, l.name), l.description ? h('span', { class: 'label-desc' }, l.description) : null),
              ),
            ),
            cancel,
          ),
        );
      }
      relatePanel.hidden = false;
    }

    let spanRows = new Map(); // span -> tr
    let relRows = new Map(); // rel -> li

    function hoverOn(x) {
      st.hover = x;
      paintHover();
    }

    function refreshLists() {
      const order = textOrder(st.spans, labelIndex);
      const index = new Map(order.map((s, i) => [s, i]));
      spanRows = new Map();
      const head = h('h3', null, `Spans (${order.length})`);
      if (!order.length) {
        spanList.replaceChildren(
          head,
          h('p', { class: 'muted', 'data-testid': 'ner-no-spans' }, readOnly ? 'No spans.' : 'No spans yet. Submitting without any says the text has no entities.'),
        );
      } else {
        const tbody = h('tbody');
        for (const s of order) {
          const i = index.get(s);
          const tr = h(
            'tr',
            {
              'data-testid': 'ner-span-row',
              'data-index': i,
              'data-start': s.start,
              'data-end': s.end,
              'data-label': s.label,
              'aria-selected': st.sel === s ? 'true' : 'false',
              class: st.sel === s ? 'is-selected' : null,
              onmouseenter: () => hoverOn({ span: s }),
              onmouseleave: () => st.hover?.span === s && hoverOn(null),
            },
            h('td', { class: 'num muted' }, String(i)),
            h(
              'td',
              { class: 'ner-cell-text' },
              h('button', { type: 'button', class: 'ner-linkish', 'data-action': 'select-span', 'aria-label': `Select the span ${slice(s.start, s.end)} (${s.label})`, onclick: () => (clickSpan(s), textEl.focus({ preventScroll: true })) }, quote(s)),
            ),
            h('td', null, chip(s.label)),
            h('td', { class: 'num muted' }, `${s.start}–${s.end}`),
            readOnly
              ? null
              : h(
                  'td',
                  { class: 'row-action' },
                  h('button', { type: 'button', class: 'quiet ner-del', 'data-action': 'delete-span', 'aria-label': `Delete the span ${slice(s.start, s.end)} (${s.label})`, title: 'Delete', onclick: () => deleteSpan(s) }, '✕'),
                ),
          );
          spanRows.set(s, tr);
          tbody.append(tr);
        }
        spanList.replaceChildren(
          head,
          h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'data-table ner-table' },
              h('thead', null, h('tr', null, h('th', { class: 'num' }, '#'), h('th', null, 'Text'), h('th', null, 'Label'), h('th', { class: 'num' }, 'Characters'), readOnly ? null : h('th', null, h('span', { class: 'visually-hidden' }, 'Delete')))),
              tbody,
            ),
          ),
        );
      }
      if (!relList) return;
      relRows = new Map();
      const rhead = h('h3', null, `Relations (${st.rels.length})`);
      if (!st.rels.length) {
        relList.replaceChildren(
          rhead,
          h('p', { class: 'muted', 'data-testid': 'ner-no-relations' }, readOnly ? 'No relations.' : st.spans.length < 2 ? 'Mark two spans to relate them.' : 'None yet: select a span and choose “Relate to…” (r).'),
        );
        return;
      }
      const ul = h('ul', { class: 'ner-rels' });
      for (const r of st.rels) {
        let labelPart;
        if (!readOnly && relLabels.length > 1) {
          const sel = h(
            'select',
            { 'aria-label': 'Relation label', 'data-testid': 'ner-rel-label', onchange: () => ((r.label = sel.value), say(`The relation is now ${sel.value}.`, 'ok'), changed({ text: false })) },
            relLabels.map((l) => h('option', { value: l.name }, l.name)),
          );
          sel.value = r.label;
          labelPart = sel;
        } else labelPart = h('span', { class: 'ner-rel-label' }, r.label);
        const li = h(
          'li',
          {
            'data-testid': 'ner-rel-row',
            'data-from': index.get(r.from),
            'data-to': index.get(r.to),
            'data-label': r.label,
            onmouseenter: () => hoverOn({ rel: r }),
            onmouseleave: () => st.hover?.rel === r && hoverOn(null),
          },
          spanName(r.from),
          h('span', { class: 'ner-arrow', 'aria-hidden': 'true' }, ' —'),
          labelPart,
          h('span', { class: 'ner-arrow', 'aria-hidden': 'true' }, '→ '),
          h('span', { class: 'visually-hidden' }, ' to '),
          spanName(r.to),
          readOnly
            ? null
            : h(
                'span',
                { class: 'ner-rel-actions' },
                h('button', { type: 'button', class: 'quiet', 'data-action': 'swap-relation', title: 'Swap its direction', 'aria-label': 'Swap the direction of this relation', onclick: () => ([r.from, r.to] = [r.to, r.from], say('Swapped the relation.', 'ok'), changed({ text: false })) }, '⇄'),
                h('button', { type: 'button', class: 'quiet ner-del', 'data-action': 'delete-relation', title: 'Delete', 'aria-label': `Delete the relation ${r.label} from ${slice(r.from.start, r.from.end)} to ${slice(r.to.start, r.to.end)}`, onclick: () => deleteRelation(r) }, '✕'),
              ),
        );
        relRows.set(r, li);
        ul.append(li);
      }
      relList.replaceChildren(rhead, ul);
    }

    function paintHover() {
      for (const [s, tr] of spanRows) tr.classList.toggle('is-hover', st.hover?.span === s || st.hover?.rel?.from === s || st.hover?.rel?.to === s);
      for (const [r, li] of relRows) li.classList.toggle('is-hover', st.hover?.rel === r);
      layout();
    }

    function refresh() {
      if (!alive) return;
      if (st.sel && !st.spans.includes(st.sel)) st.sel = null;
      refreshLabels();
      refreshSelPanel();
      refreshRelatePanel();
      refreshLists();
      textEl.classList.toggle('is-relating', !!st.relate);
      layout();
    }

    /* ---- the layer: bars, boxes and arrows placed on the text's layout ---- */

    let lastWidth = -1;

    function layout() {
      if (!alive) return;
      layer.replaceChildren();
      if (!segs.length || !docEl.isConnected) return;
      const first = docEl.getBoundingClientRect();
      if (first.width === 0) return; // hidden: the resize observer calls again

      // Room above and below each line: the text's line-height, with the
      // segments aligned to the top of the line (editor-ner.css).
      const probe = document.createRange();
      probe.selectNodeContents(segs[0].el);
      const pr = probe.getClientRects()[0];
      const fontPx = parseFloat(getComputedStyle(textEl).fontSize) || 18;
      const C = pr && pr.height > 0 ? pr.height : fontPx * 1.25;
      const { level, depth } = levelsOf(st.spans);
      const top = st.rels.length ? TOP_RELATIONS : TOP_PLAIN;
      const bottom = 3 + Math.max(1, depth) * (BAR_H + BAR_GAP) + 2;
      const lh = `${Math.ceil(C + top + bottom)}px`;
      const slh = `${Math.ceil(C + 2 * top)}px`;
      if (textEl.style.lineHeight !== lh) textEl.style.lineHeight = lh;
      if (textEl.style.getPropertyValue('--ner-seg-lh') !== slh) textEl.style.setProperty('--ner-seg-lh', slh);

      const base = docEl.getBoundingClientRect();
      const W = base.width;
      const H = base.height;

      /* Line boxes of [a, b): one rect per line, relative to docEl. */
      const lines = (a, b) => {
        const out = [];
        const all = [...rangeOf(a, b).getClientRects()];
        for (const q of all) {
          if (q.width < 0.5 && all.length > 1) continue;
          const same = out.find((o) => Math.abs(o.top - q.top) < C / 2);
          if (same) {
            same.left = Math.min(same.left, q.left);
            same.right = Math.max(same.right, q.right);
            same.bottom = Math.max(same.bottom, q.bottom);
          } else out.push({ left: q.left, right: q.right, top: q.top, bottom: q.bottom });
        }
        out.sort((p, q) => p.top - q.top || p.left - q.left);
        return out.map((o) => ({ x: o.left - base.left, y: o.top - base.top, w: Math.max(o.right - o.left, 3), h: o.bottom - o.top }));
      };

      const box = (r, cls) => {
        const d = h('div', { class: `ner-box ${cls}` });
        d.style.left = `${r.x - 2}px`;
        d.style.top = `${r.y - 1}px`;
        d.style.width = `${r.w + 4}px`;
        d.style.height = `${r.h + 2}px`;
        return d;
      };

      const frag = document.createDocumentFragment();
      const firstLine = new Map();
      const hoverSpans = new Set();
      if (st.hover?.span) hoverSpans.add(st.hover.span);
      if (st.hover?.rel) hoverSpans.add(st.hover.rel.from).add(st.hover.rel.to);
      const relatingTo = st.relate?.to || null;

      for (const s of textOrder(st.spans, labelIndex)) {
        const ls = lines(s.start, s.end);
        if (!ls.length) continue;
        firstLine.set(s, ls[0]);
        const lv = level.get(s) ?? 0;
        const c = colours.get(s.label) || colourOf(0);
        ls.forEach((r, k) => {
          const bar = h(
            'div',
            {
              class: 'ner-bar',
              'data-testid': 'ner-bar',
              'data-start': s.start,
              'data-end': s.end,
              'data-label': s.label,
              'data-level': lv,
              title: `${s.label}: ${slice(s.start, s.end)} (characters ${s.start}–${s.end})`,
            },
            h('span', { class: 'ner-bar-label' }, k === 0 ? s.label : `… ${s.label}`),
          );
          if (k > 0) bar.classList.add('is-continued');
          if (k < ls.length - 1) bar.classList.add('is-cut');
          if (st.sel === s || (st.relate && st.relate.from === s)) bar.classList.add('is-selected');
          if (hoverSpans.has(s) || relatingTo === s) bar.classList.add('is-hover');
          bar.style.setProperty('--ner-c', c.solid);
          bar.style.left = `${r.x}px`;
          bar.style.top = `${r.y + r.h + 3 + lv * (BAR_H + BAR_GAP)}px`;
          bar.style.width = `${r.w}px`;
          bar.style.height = `${BAR_H}px`;
          bar.addEventListener('mousedown', (ev) => ev.preventDefault());
          bar.addEventListener('click', () => {
            clickSpan(s);
            textEl.focus({ preventScroll: true });
          });
          frag.append(bar);
        });
        if (st.sel === s || (st.relate && st.relate.from === s)) ls.forEach((r) => frag.append(box(r, 'is-selected')));
        else if (relatingTo === s) ls.forEach((r) => frag.append(box(r, 'is-candidate')));
        else if (hoverSpans.has(s)) ls.forEach((r) => frag.append(box(r, 'is-hover')));
      }

      const cur = cursorCps();
      if (cur && !readOnly) for (const r of lines(cur[0], cur[1])) frag.append(box(r, 'is-cursor'));

      if (st.rels.length) {
        const g = svg('svg', { class: 'ner-arcs', width: Math.ceil(W), height: Math.ceil(H), viewBox: `0 0 ${Math.ceil(W)} ${Math.ceil(H)}` });
        // Spread the ends of several relations on one span along its width.
        const ends = new Map();
        for (const r of st.rels) for (const s of [r.from, r.to]) ends.set(s, (ends.get(s) || 0) + 1);
        const used = new Map();
        const anchor = (s) => {
          const r = firstLine.get(s);
          const n = ends.get(s) || 1;
          const k = used.get(s) || 0;
          used.set(s, k + 1);
          return { x: r.x + (r.w * (k + 1)) / (n + 1), y: r.y - 1 };
        };
        const labelsToFit = [];
        for (const r of st.rels) {
          if (!firstLine.has(r.from) || !firstLine.has(r.to)) continue;
          const a = anchor(r.from);
          const b = anchor(r.to);
          const hovered = st.hover?.rel === r || (hoverSpans.size === 1 && (hoverSpans.has(r.from) || hoverSpans.has(r.to))) || st.sel === r.from || st.sel === r.to;
          const grp = svg('g', {
            class: `ner-arc${hovered ? ' is-hover' : ''}`,
            'data-testid': 'ner-arc',
            'data-from': r.from.start,
            'data-to': r.to.start,
            'data-label': r.label,
          });
          grp.append(svg('title', null, `${r.label}: ${slice(r.from.start, r.from.end)} → ${slice(r.to.start, r.to.end)}`));
          const f = (n) => n.toFixed(1);
          const addLabel = (mx, my, text) => {
            const bg = svg('rect', { class: 'ner-arc-bg', rx: 3, ry: 3 });
            const t = svg('text', { class: 'ner-arc-text', x: f(mx), y: f(my), 'text-anchor': 'middle', 'dominant-baseline': 'central' }, text);
            grp.append(bg, t);
            labelsToFit.push([t, bg, mx, my, text]);
          };
          if (Math.abs(a.y - b.y) < 2) {
            // On one line: an arc over the text between the two spans.
            const lift = Math.min(top - 3, 14 + Math.abs(b.x - a.x) * 0.05);
            grp.append(svg('path', { class: 'ner-arc-line', d: `M${f(a.x)},${f(a.y)} C${f(a.x)},${f(a.y - lift)} ${f(b.x)},${f(b.y - lift)} ${f(b.x)},${f(b.y)}` }));
            addLabel((a.x + b.x) / 2, a.y - lift * 0.75, r.label);
          } else {
            // On two lines: the arrow leaves the first span's line towards
            // the side the other span lies on, and comes back in on its line
            // from the other side, each half in its line's room above.
            const lift = top - 8;
            const pad = 4;
            const forward = b.y > a.y;
            const outX = forward ? W - pad : pad;
            const inX = forward ? pad : W - pad;
            const ra = Math.min(10, Math.abs(outX - a.x));
            const rb = Math.min(10, Math.abs(b.x - inX));
            const da = forward ? 1 : -1;
            grp.append(
              svg('path', { class: 'ner-arc-line', d: `M${f(a.x)},${f(a.y)} Q${f(a.x)},${f(a.y - lift)} ${f(a.x + da * ra)},${f(a.y - lift)} L${f(outX)},${f(a.y - lift)}` }),
              svg('path', { class: 'ner-arc-line', d: `M${f(inX)},${f(b.y - lift)} L${f(b.x - da * rb)},${f(b.y - lift)} Q${f(b.x)},${f(b.y - lift)} ${f(b.x)},${f(b.y)}` }),
            );
            addLabel((a.x + outX) / 2, a.y - lift, `${r.label} ${forward ? '↘' : '↖'}`);
            addLabel((inX + b.x) / 2, b.y - lift, r.label);
          }
          grp.append(svg('path', { class: 'ner-arc-head', d: `M${f(b.x)},${f(b.y)} l-4,-8 l8,0 z` }));
          g.append(grp);
        }
        frag.append(g);
        layer.append(frag);
        for (let [t, bg, mx, my, label] of labelsToFit) {
          let w = 0;
          try {
            w = t.getComputedTextLength();
          } catch {
            w = 0;
          }
          if (!w) w = label.length * 6.5;
          mx = Math.max(w / 2 + 10, Math.min(W - w / 2 - 10, mx));
          t.setAttribute('x', mx.toFixed(1));
          bg.setAttribute('x', (mx - w / 2 - 3).toFixed(1));
          bg.setAttribute('y', (my - 7).toFixed(1));
          bg.setAttribute('width', (w + 6).toFixed(1));
          bg.setAttribute('height', '14');
        }
        return;
      }
      layer.append(frag);
    }

    /* ---- events ---- */

    let upListening = false;
    function onMouseUp(ev) {
      document.removeEventListener('mouseup', onMouseUp, true);
      upListening = false;
      if (!alive) return;
      const range = selectionCps();
      if (range) {
        if (readOnly) return;
        if (root.closest('fieldset:disabled')) return; // the workspace is submitting
        clearSelection();
        if (st.relate) {
          say('Click a span to relate to, or cancel relating first.', 'warn');
          return;
        }
        const t = tidy(range[0], range[1]);
        if (!t) return say('Only spaces were selected: nothing to mark.', 'warn');
        st.cursor = null;
        addSpan(t[0], t[1]);
        return;
      }
      const segEl = ev.target instanceof Element ? ev.target.closest('.ner-seg') : null;
      if (segEl && textEl.contains(segEl)) clickSeg(segEl);
    }

    textEl.addEventListener('mousedown', (ev) => {
      if (ev.button !== 0 || upListening) return;
      upListening = true;
      document.addEventListener('mouseup', onMouseUp, true);
    });

    root.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Escape' || ev.defaultPrevented || readOnly) return;
      if (st.relate) cancelRelate();
      else if (st.sel || st.cursor) {
        st.sel = null;
        st.cursor = null;
        refresh();
      } else return;
      ev.preventDefault();
      if (!root.contains(document.activeElement)) textEl.focus({ preventScroll: true });
    });

    const ro = typeof ResizeObserver === 'function'
      ? new ResizeObserver(() => {
          const w = docEl.clientWidth;
          if (w !== lastWidth) {
            lastWidth = w;
            layout();
          }
        })
      : null;
    ro?.observe(docEl);
    let raf = requestAnimationFrame(() => {
      raf = 0;
      layout();
    });
    document.fonts?.ready?.then(() => alive && layout()).catch(() => {});

    renderText();
    refresh();

    return {
      value: current,
      valid: () => true,
      keys(ev) {
        if (!alive || readOnly || ev.ctrlKey || ev.metaKey || ev.altKey) return false;
        const k = ev.key;
        const target = ev.target instanceof Element ? ev.target : null;
        const onControl = !!target?.closest('button, a[href], input, select, textarea, summary');
        let done = true;
        if (k === 'Escape') {
          // (The workspace keeps Escape for its own overlays today; this is
          // for when it offers it, and for a focus outside the editor.)
          if (st.relate) cancelRelate();
          else if (st.sel || st.cursor) {
            st.sel = null;
            st.cursor = null;
            refresh();
          } else return false;
        } else if (/^[1-9]$/.test(k)) {
          if (st.relate?.stage === 'label') {
            const l = relLabels[Number(k) - 1];
            if (!l) return false;
            addRelation(st.relate.from, st.relate.to, l.name);
          } else {
            const l = labels[Number(k) - 1];
            if (!l) return false;
            chooseLabel(l.name);
          }
        } else if (k === 'ArrowRight' || k === 'ArrowLeft') {
          if (st.relate) return false;
          moveCursor(k === 'ArrowRight' ? 1 : -1, ev.shiftKey);
        } else if (k === 'ArrowDown' || k === 'ArrowUp') {
          // Left to the page (scrolling) unless the editor has the focus or a span is picked.
          if (!st.spans.length || st.relate?.stage === 'label') return false;
          if (!st.sel && !st.relate && !root.contains(document.activeElement)) return false;
          cycleSpan(k === 'ArrowDown' ? 1 : -1);
        } else if (k === 'm' || k === 'M' || (k === ' ' && !onControl && (st.cursor || st.relate?.to))) {
          if (st.relate?.stage === 'target') {
            if (st.relate.to) relateTo(st.relate.to);
            else say('Choose the other span with ↑/↓ first, or click it.', 'warn');
          } else if (st.relate) return false;
          else markCursor();
        } else if (k === 'Delete' || k === 'Backspace') {
          if (!st.sel || st.relate) return false;
          deleteSpan(st.sel);
        } else if (k === '[' || k === ']' || k === '{' || k === '}') {
          if (!st.sel || st.relate) return false;
          if (k === '[') stepBound(st.sel, 'start', -1);
          else if (k === '{') stepBound(st.sel, 'start', 1);
          else if (k === ']') stepBound(st.sel, 'end', 1);
          else stepBound(st.sel, 'end', -1);
        } else if (k === 'r' || k === 'R') {
          if (!hasRelations) return false;
          if (st.relate) cancelRelate();
          else if (st.sel) startRelate();
          else say('Select a span first (click it, or ↑/↓), then press r.', 'warn');
        } else done = false;
        if (done && !root.contains(document.activeElement)) textEl.focus({ preventScroll: true });
        return done;
      },
      unmount() {
        alive = false;
        ro?.disconnect();
        if (raf) cancelAnimationFrame(raf);
        if (upListening) document.removeEventListener('mouseup', onMouseUp, true);
        upListening = false;
      },
    };
  },
};

export default nerEditor;
