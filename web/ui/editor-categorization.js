// editor-categorization.js -- the answer editor for `categorization`
// projects (docs/KINDS.md): one button per label; a click or the label's
// number (1-9) picks it, or toggles it when params.multiple allows several.
// The response is {"labels": [names]}, in the project's label order.
//
// The interface every editor follows is in editors.js.

import { h } from './dom.js';

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


export const categorizationEditor = {
  kind: 'categorization',

  shortcuts: [['1 – 9', 'pick the label with that number (with several labels allowed: turn it on or off)']],

  mount(el, { params, task, value, onChange, readOnly = false }) {
    const labels = labelsOf(params);
    const multiple = params?.multiple === true;
    const names = new Set(labels.map((l) => l.name));
    let initial = [];
    let note = null;
    if (value && typeof value === 'object' && Array.isArray(value.labels)) {
      initial = value.labels.filter((n) => names.has(n));
    } else if (!readOnly) {
      const p = bestPrediction(task?.predictions, names);
      if (p) {
        initial = p.labels;
        const who = p.model ? `the model ${p.model}` : 'a model';
        const score = Number.isFinite(p.score) ? ` (score ${Math.round(p.score * 100) / 100})` : '';
        note = h(
          'p',
          { class: 'note prediction-note', 'data-testid': 'prediction-note' },
          `Pre-selected from ${who}${score}: ${p.labels.join(', ')}. Check it before you submit.`,
        );
      }
    }
    if (!multiple) initial = initial.slice(0, 1);
    let selected = new Set(initial);
    const buttons = new Map();
    let alive = true;

    const current = () => ({ labels: labels.map((l) => l.name).filter((n) => selected.has(n)) });
    const render = () => {
      for (const [name, b] of buttons) b.setAttribute('aria-pressed', selected.has(name) ? 'true' : 'false');
    };
    const pick = (name) => {
      if (!alive || readOnly) return;
      if (multiple) {
        if (selected.has(name)) selected.delete(name);
        else selected.add(name);
      } else {
        if (selected.size === 1 && selected.has(name)) return;
        selected = new Set([name]);
      }
      render();
      onChange?.(current());
    };

    const row = h('div', {
      class: 'label-row',
      role: 'group',
      'aria-label': multiple ? 'Labels: pick every one that applies' : 'Labels: pick one',
    });
    labels.forEach((l, i) => {
      const key = i < 9 && !readOnly ? String(i + 1) : null;
      const b = h(
        'button',
        {
          type: 'button',
          class: 'label-btn',
          'data-label': l.name,
          'aria-pressed': 'false',
          'aria-keyshortcuts': key,
          title: l.description || null,
          disabled: readOnly,
          onclick: () => pick(l.name),
        },
        key ? h('kbd', { class: 'key', 'aria-hidden': 'true' }, key) : null,
        h('span', { class: 'label-text' }, h('span', { class: 'label-name' }, l.name), l.description ? h('span', { class: 'label-desc' }, l.description) : null),
      );
      buttons.set(l.name, b);
      row.append(b);
    });
    const hint = readOnly ? null : h('p', { class: 'editor-hint' }, multiple ? 'Pick every label that applies.' : 'Pick one label.');
    if (!labels.length) row.append(h('p', { class: 'note' }, 'This project has no labels.'));
    el.replaceChildren(hint || '', note || '', row);
    render();

    return {
      value: current,
      valid() {
        const n = selected.size;
        return multiple ? n >= 1 : n === 1;
      },
      keys(ev) {
        if (!alive || readOnly || ev.ctrlKey || ev.metaKey || ev.altKey) return false;
        if (!/^[1-9]$/.test(ev.key)) return false;
        const l = labels[Number(ev.key) - 1];
        if (!l) return false;
        pick(l.name);
        return true;
      },
      unmount() {
        alive = false;
      },
    };
  },
};

export default categorizationEditor;
