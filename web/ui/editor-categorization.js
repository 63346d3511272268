// editor-categorization.js -- the answer editor for `categorization`
// projects (docs/KINDS.md): one button per label; a click or the label's
// number (1-9) picks it, or toggles it when params.multiple allows several.
// The response is {"labels": [names]}, in the project's label order.
//
// Every editor has this shape (editors.js maps kind name -> editor):
//   kind                      the kind's name
//   mount(el, {params, task, value, onChange})
//                             draws the editor in el; value is the saved
//                             draft (or null); onChange(response) after
//                             every change the user makes
//   value()                   the response as it stands
//   valid()                   true when value() may be submitted
//   keys(ev) -> boolean       handles a keydown (true: handled)
//   shortcuts                 [[key, what it does], ...] for the help list
//   unmount()                 forgets the task

import { h } from './dom.js';

let st = null; // {labels, multiple, selected: Set, onChange, buttons: Map}

function labelsOf(params) {
  const list = Array.isArray(params?.labels) ? params.labels : [];
  return list
    .map((l) => (typeof l === 'string' ? { name: l } : l))
    .filter((l) => l && typeof l.name === 'string' && l.name !== '');
}

/* The prediction with the highest score (the first one on a tie), with its
 * labels narrowed to the project's; null if none has any. */
function bestPrediction(predictions, names) {
  if (!Array.isArray(predictions)) return null;
  let best = null;
  for (const p of predictions) {
    const labels = p?.response?.labels;
    if (!Array.isArray(labels)) continue;
    const score = typeof p.score === 'number' ? p.score : -Infinity;
    const known = labels.filter((n) => names.has(n));
    if (!known.length) continue;
    if (!best || score > best.score) best = { model: typeof p.model === 'string' ? p.model : '', score, labels: known };
  }
  return best;
}

function render() {
  for (const [name, b] of st.buttons) b.setAttribute('aria-pressed', st.selected.has(name) ? 'true' : 'false');
}

function pick(name) {
  if (!st) return;
  if (st.multiple) {
    if (st.selected.has(name)) st.selected.delete(name);
    else st.selected.add(name);
  } else {
    if (st.selected.size === 1 && st.selected.has(name)) return;
    st.selected = new Set([name]);
  }
  render();
  st.onChange?.(categorizationEditor.value());
}

export const categorizationEditor = {
  kind: 'categorization',

  shortcuts: [['1 – 9', 'pick the label with that number (with several labels allowed: turn it on or off)']],

  mount(el, { params, task, value, onChange }) {
    const labels = labelsOf(params);
    const multiple = params?.multiple === true;
    const names = new Set(labels.map((l) => l.name));
    let selected = [];
    let note = null;
    if (value && typeof value === 'object' && Array.isArray(value.labels)) {
      selected = value.labels.filter((n) => names.has(n));
    } else {
      const p = bestPrediction(task?.predictions, names);
      if (p) {
        selected = p.labels;
        const who = p.model ? `the model ${p.model}` : 'a model';
        const score = Number.isFinite(p.score) ? ` (score ${Math.round(p.score * 100) / 100})` : '';
        note = h(
          'p',
          { class: 'note prediction-note', 'data-testid': 'prediction-note' },
          `Pre-selected from ${who}${score}: ${p.labels.join(', ')}. Check it before you submit.`,
        );
      }
    }
    if (!multiple) selected = selected.slice(0, 1);
    st = { labels, multiple, selected: new Set(selected), onChange, buttons: new Map() };

    const row = h('div', {
      class: 'label-row',
      role: 'group',
      'aria-label': multiple ? 'Labels: pick every one that applies' : 'Labels: pick one',
    });
    labels.forEach((l, i) => {
      const key = i < 9 ? String(i + 1) : null;
      const b = h(
        'button',
        {
          type: 'button',
          class: 'label-btn',
          'data-label': l.name,
          'aria-pressed': 'false',
          'aria-keyshortcuts': key,
          title: l.description || null,
          onclick: () => pick(l.name),
        },
        key ? h('kbd', { class: 'key', 'aria-hidden': 'true' }, key) : null,
        h('span', { class: 'label-text' }, h('span', { class: 'label-name' }, l.name), l.description ? h('span', { class: 'label-desc' }, l.description) : null),
      );
      st.buttons.set(l.name, b);
      row.append(b);
    });
    const hint = h('p', { class: 'editor-hint' }, multiple ? 'Pick every label that applies.' : 'Pick one label.');
    if (!labels.length) row.append(h('p', { class: 'note' }, 'This project has no labels.'));
    el.replaceChildren(hint, note || '', row);
    render();
  },

  value() {
    if (!st) return { labels: [] };
    return { labels: st.labels.map((l) => l.name).filter((n) => st.selected.has(n)) };
  },

  valid() {
    if (!st) return false;
    const n = st.selected.size;
    return st.multiple ? n >= 1 : n === 1;
  },

  keys(ev) {
    if (!st || ev.ctrlKey || ev.metaKey || ev.altKey) return false;
    if (!/^[1-9]$/.test(ev.key)) return false;
    const l = st.labels[Number(ev.key) - 1];
    if (!l) return false;
    pick(l.name);
    return true;
  },

  unmount() {
    st = null;
  },
};

export default categorizationEditor;
