// editor-textcollection.js -- the answer editor for `textcollection`
// projects (docs/KINDS.md): the annotator writes a text (an
// instruction-tuning demonstration, a rewrite, a summary), or one text per
// named field.  Each text box grows with its text, counts its length in
// code points (as the server does: an emoji is one) against the bounds,
// and has Write / Preview tabs (the preview is the safe Markdown of
// markdown.js).  When the task carries a text to rewrite (data.response,
// data.original, data.text or data.draft; with fields, data[field name]),
// "Start from the original" copies it in (and can be undone).
//
// The response is {"text": string}, or {"fields": {name: string}} with the
// required fields always and the optional ones only when written.
//
// Keys typed in a text box stay there (Enter is a new line); Esc leaves the
// box, after which the workspace's keys work again.  Outside the boxes:
// w writes (goes to the first box still to finish), 1 – 9 go to that
// field, p shows or hides the preview of the current box.
//
// The interface every editor follows is in editors.js.

import { h } from './dom.js';
import { renderMarkdown } from './markdown.js';

/* Task data keys that hold the text to rewrite, in order of preference
 * (without fields; with fields, a data key named like the field). */
const ORIGINAL_KEYS = ['response', 'original', 'text', 'draft'];

/* Code points, not UTF-16 units: "👍" is 1, as for the server. */
function codePoints(s) {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function whole(x, fallback) {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 ? x : fallback;
}

/* A unique id for label/aria links: several editors may share a page, and
 * no module-level counter is kept. */
function uid(prefix) {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
}

const fmt = (n) => n.toLocaleString();

/* The text boxes: the project's fields, or one unnamed text (name null). */
function boxesOf(params) {
  const min = whole(params?.min_length, 1);
  const max = Math.max(1, whole(params?.max_length, 10000));
  const list = Array.isArray(params?.fields) ? params.fields : [];
  const seen = new Set();
  const out = [];
  for (const raw of list) {
    const f = typeof raw === 'string' ? { name: raw } : raw;
    if (!f || typeof f.name !== 'string' || f.name === '' || seen.has(f.name)) continue;
    seen.add(f.name);
    const fmin = whole(f.min_length, min);
    out.push({
      name: f.name,
      description: typeof f.description === 'string' ? f.description : '',
      min: fmin,
      max: Math.max(fmin, whole(f.max_length, max)),
      required: f.required !== false,
    });
  }
  if (out.length || list.length) return { fields: true, boxes: out };
  return { fields: false, boxes: [{ name: null, description: '', min, max: Math.max(min, max), required: true }] };
}

/* Where a box's text stands against its bounds: {n, ok, state, message}.
 * state: 'empty' (nothing written), 'ok', 'under', 'over' or 'blank'
 * (only spaces in a text that must be written). */
function check(box, text) {
  const n = codePoints(text);
  const blank = text.trim() === '';
  if (!box.required && blank) return { n, ok: true, state: n ? 'ok' : 'empty', message: n ? 'only spaces: left out' : '' };
  if (n > box.max) return { n, ok: false, state: 'over', message: `${fmt(n - box.max)} over the limit` };
  if (n < box.min) {
    const left = box.min - n;
    const what = `at least ${fmt(box.min)} character${box.min === 1 ? '' : 's'}`;
    return { n, ok: false, state: n ? 'under' : 'empty', message: n ? `${what}: ${fmt(left)} to go` : what };
  }
  if (blank && box.min > 0) return { n, ok: false, state: 'blank', message: 'only spaces so far' };
  return { n, ok: true, state: n ? 'ok' : 'empty', message: '' };
}

/* The text to start from for box, from the task's data: {key, text} or
 * null. */
function originalFor(task, box, fields) {
  const data = task && task.data && typeof task.data === 'object' && !Array.isArray(task.data) ? task.data : {};
  const keys = fields ? [box.name] : ORIGINAL_KEYS;
  for (const k of keys) {
    const v = data[k];
    if (typeof v === 'string' && v.trim()) return { key: k, text: v };
  }
  return null;
}

/* The texts of a response (or prediction) for the boxes, as {name: text}
 * with '' for the unnamed box; null when it holds none. */
function textsOf(layout, r) {
  if (!r || typeof r !== 'object' || Array.isArray(r)) return null;
  if (!layout.fields) return typeof r.text === 'string' ? { '': r.text } : null;
  const given = r.fields;
  if (!given || typeof given !== 'object' || Array.isArray(given)) return null;
  const out = {};
  let any = false;
  for (const b of layout.boxes)
    if (typeof given[b.name] === 'string') {
      out[b.name] = given[b.name];
      any = true;
    }
  return any ? out : null;
}

function bestPrediction(predictions, layout) {
  if (!Array.isArray(predictions)) return null;
  let best = null;
  for (const p of predictions) {
    const texts = textsOf(layout, p?.response);
    if (!texts) continue;
    const score = typeof p.score === 'number' && Number.isFinite(p.score) ? p.score : -Infinity;
    if (!best || score > best.score) best = { model: typeof p.model === 'string' ? p.model : '', score, texts };
  }
  return best;
}

export const textcollectionEditor = {
  kind: 'textcollection',
  showsTask: false,

  shortcuts: [
    ['w', 'write: go to the first text still to finish'],
    ['1 – 9', 'go to that field (projects with several fields)'],
    ['p', 'show or hide the preview of the current text'],
    ['Esc', 'leave the text box (Enter then submits)'],
    ['a', 'a draft to review: keep it as it is'],
    ['r', 'a draft to review: reject it (or take the rejection back)'],
  ],

  mount(el, { params, task, value, onChange, readOnly = false }) {
    const layout = boxesOf(params);
    const keyOf = (b) => b.name ?? '';
    // Drafts to review (params.allow_reject: a model's synthetic items):
    // keep, fix, or reject with an optional reason.
    const allowReject = params?.allow_reject === true;
    let rejected = allowReject && value?.rejected === true;
    let reason = typeof value?.reason === 'string' ? value.reason : '';
    let texts = textsOf(layout, value);
    let note = null;
    if (!texts && !readOnly && (value === null || value === undefined)) {
      const p = bestPrediction(task?.predictions, layout);
      if (p) {
        texts = p.texts;
        const who = p.model ? `the model ${p.model}` : 'a model';
        const score = Number.isFinite(p.score) ? ` (score ${Math.round(p.score * 100) / 100})` : '';
        note = h('p', { class: 'note prediction-note', 'data-testid': 'prediction-note' }, `Pre-filled with the text of ${who}${score}. Read it and correct it before you submit.`);
      }
    }
    texts ||= {};

    let alive = true;
    let current = 0; // the box p and Esc act on
    const views = []; // per box: {box, wrap, ta, preview, counter, msg, tabs, showPreview(on), refresh()}

    const textOf = (b) => (typeof texts[keyOf(b)] === 'string' ? texts[keyOf(b)] : '');

    const valueNow = () => {
      if (rejected) return reason.trim() ? { rejected: true, reason: reason.trim() } : { rejected: true };
      if (!layout.fields) return { text: textOf(layout.boxes[0]) };
      const fields = {};
      for (const b of layout.boxes) {
        const t = textOf(b);
        if (b.required || t.trim()) fields[b.name] = t;
      }
      return { fields };
    };

    const changed = () => {
      if (alive && !readOnly) onChange?.(valueNow());
    };

    let lastWidth = 0;
    const grow = (ta) => {
      if (!ta.isConnected || ta.hidden || ta.offsetParent === null) return;
      ta.style.height = 'auto';
      ta.style.height = `${ta.scrollHeight + 2}px`;
    };
    const ro =
      typeof ResizeObserver === 'function'
        ? new ResizeObserver((entries) => {
            const w = Math.round(entries[0]?.contentRect?.width || 0);
            if (!alive || w === lastWidth) return;
            lastWidth = w;
            for (const v of views) if (v.ta) grow(v.ta);
          })
        : null;

    const root = h('div', { class: `tc${readOnly ? ' tc-readonly' : ''}`, 'data-testid': 'textcollection-editor' });

    /* ---- one box, read-only ---- */

    const viewBox = (b) => {
      const text = textOf(b);
      const md = h('div', { class: 'tc-rendered md', 'data-testid': 'tc-rendered' });
      const plain = h('div', { class: 'tc-plain', 'data-testid': 'tc-plain', hidden: true }, text);
      const toggle = h('button', {
        type: 'button',
        class: 'quiet tc-toggle',
        'aria-pressed': 'false',
        'data-action': 'show-source',
        onclick: () => {
          const on = plain.hidden;
          plain.hidden = !on;
          md.hidden = on;
          toggle.setAttribute('aria-pressed', String(on));
        },
      }, 'Plain text');
      if (text.trim()) md.append(renderMarkdown(text));
      const empty = !text.trim();
      const wrap = h(
        'section',
        { class: 'tc-field', 'data-field': keyOf(b) },
        h(
          'div',
          { class: 'tc-head' },
          b.name !== null ? h('span', { class: 'tc-name' }, b.name) : h('span', { class: 'tc-name' }, 'Text'),
          h('span', { class: 'tc-count muted', 'data-testid': 'counter', 'data-count': String(codePoints(text)) }, `${fmt(codePoints(text))} character${codePoints(text) === 1 ? '' : 's'}`),
          empty ? null : toggle,
        ),
        empty ? h('p', { class: 'muted tc-empty' }, b.name !== null && !(b.name in texts) ? 'Left out.' : 'Empty.') : h('div', { class: 'tc-view' }, md, plain),
      );
      views.push({ box: b, wrap });
      return wrap;
    };

    /* ---- one box, to write in ---- */

    const editBox = (b, index) => {
      const id = uid('tc-text');
      const descId = b.description ? uid('tc-desc') : null;
      const footId = uid('tc-foot');
      const v = { box: b, index };
      const original = originalFor(task, b, layout.fields);
      const ta = h('textarea', {
        id,
        class: 'tc-input',
        rows: b.max <= 300 ? '3' : '8',
        spellcheck: 'true',
        'data-testid': 'tc-input',
        'aria-describedby': [descId, footId].filter(Boolean).join(' '),
        'aria-required': b.required ? 'true' : null,
      });
      ta.value = textOf(b);
      const previewId = uid('tc-preview');
      const preview = h('div', { id: previewId, class: 'tc-preview md', 'data-testid': 'tc-preview', role: 'tabpanel', hidden: true, tabindex: '0' });
      const writeTab = h('button', { type: 'button', role: 'tab', class: 'tc-tab', 'aria-selected': 'true', 'aria-controls': id, 'data-tab': 'write', onclick: () => v.showPreview(false) }, 'Write');
      const previewTab = h('button', { type: 'button', role: 'tab', class: 'tc-tab', 'aria-selected': 'false', 'aria-controls': previewId, tabindex: '-1', 'data-tab': 'preview', onclick: () => v.showPreview(true) }, 'Preview');
      const counter = h('span', { class: 'tc-counter', 'data-testid': 'counter' });
      const msg = h('span', { class: 'tc-msg', 'data-testid': 'counter-message' });
      const undoBox = h('span', { class: 'tc-undo', hidden: true });
      let useBtn = null;
      if (original) {
        useBtn = h(
          'button',
          {
            type: 'button',
            class: 'quiet tc-original',
            'data-action': 'use-original',
            title: `Copies the task's "${original.key}" into this box`,
            onclick: () => v.useOriginal(),
          },
          'Start from the original',
        );
      }
      const nameEl = b.name !== null ? h('label', { for: id, class: 'tc-name' }, b.name) : h('label', { for: id, class: 'tc-name' }, 'Your text');
      v.wrap = h(
        'section',
        { class: 'tc-field', 'data-field': keyOf(b), 'data-required': b.required ? 'true' : 'false', tabindex: '-1' },
        h(
          'div',
          { class: 'tc-head' },
          nameEl,
          layout.fields ? (b.required ? h('span', { class: 'tc-req' }, 'required') : h('span', { class: 'tc-opt' }, 'optional')) : null,
          layout.fields && index < 9 ? h('kbd', { class: 'tc-key', title: `Press ${index + 1} to go to this field`, 'aria-hidden': 'true' }, String(index + 1)) : null,
        ),
        b.description ? h('p', { class: 'tc-desc', id: descId }, b.description) : null,
        h('div', { class: 'tc-bar' }, h('div', { class: 'tc-tabs', role: 'tablist', 'aria-label': `${b.name ?? 'Text'}: write or preview` }, writeTab, previewTab), useBtn),
        ta,
        preview,
        h('div', { class: 'tc-foot', id: footId }, counter, msg, undoBox),
      );

      v.ta = ta;
      v.preview = preview;
      v.refresh = () => {
        const t = textOf(b);
        const r = check(b, t);
        counter.textContent = `${fmt(r.n)} / ${fmt(b.max)}`;
        counter.dataset.count = String(r.n);
        msg.textContent = r.message;
        v.wrap.dataset.state = r.state;
        v.wrap.dataset.valid = r.ok ? 'true' : 'false';
        ta.setAttribute('aria-invalid', !r.ok && r.state !== 'empty' ? 'true' : 'false');
        if (!preview.hidden) drawPreview();
      };
      const drawPreview = () => {
        const t = textOf(b);
        if (t.trim()) preview.replaceChildren(renderMarkdown(t));
        else preview.replaceChildren(h('p', { class: 'muted' }, 'Nothing to preview yet.'));
      };
      v.showPreview = (on) => {
        preview.hidden = !on;
        ta.hidden = on;
        writeTab.setAttribute('aria-selected', String(!on));
        previewTab.setAttribute('aria-selected', String(on));
        writeTab.tabIndex = on ? -1 : 0;
        previewTab.tabIndex = on ? 0 : -1;
        v.wrap.dataset.mode = on ? 'preview' : 'write';
        if (on) {
          drawPreview();
          if (el.contains(document.activeElement)) previewTab.focus({ preventScroll: true });
        } else grow(ta);
      };
      v.focus = () => {
        if (ta.hidden) v.showPreview(false);
        ta.focus();
        v.wrap.scrollIntoView?.({ block: 'nearest' });
      };
      let undoText = null;
      v.setText = (t) => {
        texts[keyOf(b)] = t;
        ta.value = t;
        grow(ta);
        v.refresh();
        changed();
      };
      v.useOriginal = () => {
        if (!alive || !original) return;
        const before = textOf(b);
        if (before === original.text) {
          v.focus();
          return;
        }
        v.setText(original.text);
        if (before.trim()) {
          undoText = before;
          undoBox.replaceChildren(
            'Your text was replaced. ',
            h('button', { type: 'button', class: 'quiet tc-undo-btn', 'data-action': 'undo-original', onclick: () => v.undo() }, 'Undo'),
          );
          undoBox.hidden = false;
        }
        v.focus();
        ta.setSelectionRange(ta.value.length, ta.value.length);
      };
      v.undo = () => {
        if (undoText === null) return;
        const t = undoText;
        undoText = null;
        undoBox.hidden = true;
        v.setText(t);
        v.focus();
      };

      ta.addEventListener('input', () => {
        texts[keyOf(b)] = ta.value;
        if (undoText !== null) {
          undoText = null;
          undoBox.hidden = true;
        }
        grow(ta);
        v.refresh();
        changed();
      });
      ta.addEventListener('focus', () => (current = index));
      ta.addEventListener('keydown', (ev) => {
        if (ev.key === 'Escape' && !ev.isComposing) v.wrap.focus({ preventScroll: true });
      });
      v.wrap.addEventListener('focusin', () => (current = index));
      for (const tab of [writeTab, previewTab])
        tab.addEventListener('keydown', (ev) => {
          if (ev.key !== 'ArrowLeft' && ev.key !== 'ArrowRight') return;
          ev.preventDefault();
          v.showPreview(tab === writeTab);
          (tab === writeTab ? previewTab : writeTab).focus();
        });
      views.push(v);
      return v.wrap;
    };

    /* ---- the whole editor ---- */

    const hint = readOnly
      ? null
      : h(
          'p',
          { class: 'editor-hint' },
          layout.fields ? 'Write each field. ' : 'Write your text. ',
          'Markdown works (see Preview). ',
          h('kbd', null, 'Esc'),
          ' leaves the text box; then ',
          h('kbd', null, 'Enter'),
          ' submits.',
        );
    const list = h('div', { class: 'tc-list' });
    layout.boxes.forEach((b, i) => list.append(readOnly ? viewBox(b) : editBox(b, i)));
    if (!layout.boxes.length) list.append(h('p', { class: 'note' }, 'This project lists no fields to write.'));

    /* ---- a draft to review: keep it, or reject it ---- */
    let review = null;
    let keepDraft = () => {};
    let toggleReject = () => {};
    const draft = !layout.fields ? originalFor(task, layout.boxes[0], false) : null;
    if (allowReject && readOnly && rejected) {
      review = h('p', { class: 'note tc-rejected', 'data-testid': 'tc-rejected' }, h('strong', null, 'Rejected'), reason ? `: ${reason}` : '');
      list.hidden = true;
    } else if (allowReject && !readOnly) {
      const rejectBtn = h('button', { type: 'button', class: 'button', 'data-action': 'reject-draft', 'aria-pressed': String(rejected) }, 'Reject');
      const reasonIn = h('input', { type: 'text', class: 'tc-reason', 'data-testid': 'reject-reason', placeholder: 'Why (optional)', 'aria-label': 'Why the draft is rejected', value: reason, maxlength: '2000' });
      reasonIn.addEventListener('input', () => {
        reason = reasonIn.value;
        changed();
      });
      const show = () => {
        rejectBtn.setAttribute('aria-pressed', String(rejected));
        rejectBtn.textContent = rejected ? 'Take the rejection back' : 'Reject';
        reasonIn.hidden = !rejected;
        list.hidden = rejected;
      };
      toggleReject = () => {
        rejected = !rejected;
        show();
        changed();
        if (rejected) reasonIn.focus({ preventScroll: true });
      };
      keepDraft = () => {
        if (!draft) return;
        rejected = false;
        show();
        if (views[0]?.setText) views[0].setText(draft.text);
        else changed();
      };
      rejectBtn.addEventListener('click', toggleReject);
      const keepBtn = draft ? h('button', { type: 'button', class: 'button', 'data-action': 'keep-draft' }, 'Keep the draft as it is') : null;
      keepBtn?.addEventListener('click', keepDraft);
      review = h('div', { class: 'tc-review', 'data-testid': 'draft-review' }, h('span', { class: 'tc-review-label' }, 'A draft to review:'), keepBtn, rejectBtn, reasonIn);
      show();
    }
    root.append(...[hint, note, review, list].filter(Boolean));
    el.replaceChildren(root);
    for (const v of views) v.refresh?.();
    if (ro) ro.observe(root);
    requestAnimationFrame(() => {
      if (!alive) return;
      for (const v of views) if (v.ta) grow(v.ta);
    });
    // Ready to type at once, unless something else on the page has the
    // focus (the page itself, or a container of the editor, does not count).
    if (!readOnly && views.length && el.isConnected) {
      const a = document.activeElement;
      if (!a || a.contains(el) || el.contains(a)) {
        const first = views.find((v) => !v.wrap.dataset.valid || v.wrap.dataset.valid === 'false') || views[0];
        current = views.indexOf(first);
        first.ta.focus({ preventScroll: true });
      }
    }

    return {
      value: valueNow,
      valid() {
        if (rejected) return true;
        return layout.boxes.length > 0 && layout.boxes.every((b) => check(b, textOf(b)).ok);
      },
      keys(ev) {
        if (!alive || readOnly || !views.length || ev.ctrlKey || ev.metaKey || ev.altKey) return false;
        const key = ev.key;
        if (allowReject && (key === 'r' || key === 'R')) {
          toggleReject();
          return true;
        }
        if (allowReject && draft && (key === 'a' || key === 'A')) {
          keepDraft();
          return true;
        }
        if (key === 'w' || key === 'W') {
          const v = views.find((x) => !check(x.box, textOf(x.box)).ok) || views[current] || views[0];
          current = views.indexOf(v);
          v.focus();
          return true;
        }
        if (key === 'p' || key === 'P') {
          const v = views[current] || views[0];
          v.showPreview(v.preview.hidden);
          return true;
        }
        if (layout.fields && /^[1-9]$/.test(key)) {
          const v = views[Number(key) - 1];
          if (!v) return false;
          current = Number(key) - 1;
          v.focus();
          return true;
        }
        return false;
      },
      unmount() {
        alive = false;
        ro?.disconnect();
      },
    };
  },
};

export default textcollectionEditor;
