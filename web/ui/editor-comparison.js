// editor-comparison.js -- the answer editor for `comparison` projects
// (docs/KINDS.md): the prompt, then the model responses side by side
// (labelled A, B, C...; the model that wrote each is never shown), then
// which one is better (or a tie), by how much, per aspect, and why.
//
// The response is {"choice", "tie"?, "both_bad"?, "strength"?, "aspects"?,
// "justification"?} exactly as KINDS.md says: "Both bad" (offered unless
// the project sets allow_both_bad false) is {"both_bad": true}.
//
// Keys: 1-9 pick response A, B, ... (for the aspect row that has the
// focus, else the overall choice); t or 0 a tie; b both bad; Shift+1-3 the
// strength.  The interface every editor follows is in editors.js.

import { h } from './dom.js';
import { taskResponses, taskPrompt, renderRich, instanceId, predictionSource, predictionsByScore } from './responses.js';

const STRENGTHS = [
  [1, 'Slightly better'],
  [2, 'Clearly better'],
  [3, 'Much better'],
];

function aspectsOf(params) {
  const list = Array.isArray(params?.aspects) ? params.aspects : [];
  return list
    .map((a) => (typeof a === 'string' ? { name: a } : a))
    .filter((a) => a && typeof a.name === 'string' && a.name !== '');
}

/* A segmented choice (radio buttons drawn as buttons): returns {el, inputs,
 * set(value)}.  options: [{value, label, key?, desc?, attrs?}]. */
function segmented({ name, label, options, onPick, readOnly, testid, className = '' }) {
  const inputs = new Map();
  const group = h('div', { class: `cmp-seg ${className}`.trim(), role: 'radiogroup', 'aria-label': label, 'data-testid': testid });
  for (const o of options) {
    const input = h('input', {
      type: 'radio',
      class: 'cmp-seg-input',
      name,
      value: o.value,
      disabled: readOnly,
      'aria-keyshortcuts': o.key && !readOnly ? o.key : null,
      onchange: () => input.checked && onPick(o.value),
    });
    inputs.set(o.value, input);
    group.append(
      h(
        'label',
        { class: 'cmp-seg-opt', ...(o.attrs || {}) },
        input,
        h(
          'span',
          { class: 'cmp-seg-face' },
          o.key && !readOnly ? h('kbd', { class: 'key', 'aria-hidden': 'true' }, o.key) : null,
          h('span', { class: 'cmp-seg-text' }, h('span', { class: 'cmp-seg-label' }, o.label), o.desc ? h('span', { class: 'cmp-seg-desc' }, o.desc) : null),
        ),
      ),
    );
  }
  return {
    el: group,
    inputs,
    set(value) {
      for (const [v, input] of inputs) input.checked = v === value;
    },
    disable(off) {
      for (const input of inputs.values()) input.disabled = readOnly || off;
      group.classList.toggle('is-disabled', !!off);
      if (off) group.setAttribute('aria-disabled', 'true');
      else group.removeAttribute('aria-disabled');
    },
  };
}

export const comparisonEditor = {
  kind: 'comparison',
  showsTask: true,

  shortcuts: [
    ['1 – 9', 'pick response A, B, C… as the better one (in an aspect row that has the focus: for that aspect)'],
    ['t or 0', 'a tie (when the project allows ties)'],
    ['b', 'both (all) bad (when the project allows it)'],
    ['Shift+1 – 3', 'how much better: slightly, clearly, much'],
    ['Tab, ← →', 'move between the choices and aspect rows'],
  ],

  mount(el, { params, task, value, onChange, readOnly = false }) {
    const { items, problems } = taskResponses(task);
    const ids = new Set(items.map((r) => r.id));
    const byId = new Map(items.map((r) => [r.id, r]));
    const allowTie = params?.allow_tie !== false;
    const askStrength = params?.strength === true;
    const mode = ['required', 'optional', 'none'].includes(params?.justification) ? params.justification : 'optional';
    const aspects = aspectsOf(params);
    const offerBad = params?.allow_both_bad !== false;
    const badWord = items.length > 2 ? 'All bad' : 'Both bad';
    const uid = instanceId('cmp');
    let alive = true;

    // ---- the state ----
    const st = { choice: null, strength: null, aspects: new Map(), note: '' };

    /* Takes a response (a draft, an annotation or a prediction) into st;
     * parts that do not fit the project or the task are dropped. */
    function load(v) {
      if (!v || typeof v !== 'object') return false;
      let any = false;
      const just = typeof v.justification === 'string' ? v.justification : '';
      if (v.both_bad === true && offerBad) {
        st.choice = 'bad';
        st.note = just;
        any = true;
      } else if (v.tie === true && allowTie) {
        st.choice = 'tie';
        st.note = just;
        any = true;
      } else {
        if (typeof v.choice === 'string' && ids.has(v.choice)) {
          st.choice = v.choice;
          any = true;
        }
        st.note = just;
      }
      if (mode === 'none') st.note = '';
      if (Number.isInteger(v.strength) && v.strength >= 1 && v.strength <= 3) st.strength = v.strength;
      if (v.aspects && typeof v.aspects === 'object') {
        for (const a of aspects) {
          const x = v.aspects[a.name];
          if ((typeof x === 'string' && ids.has(x)) || (x === 'tie' && allowTie)) {
            st.aspects.set(a.name, x);
            any = true;
          }
        }
      }
      return any || !!st.note;
    }

    let note = null;
    if (value && typeof value === 'object') {
      load(value);
    } else if (!readOnly) {
      for (const p of predictionsByScore(task)) {
        Object.assign(st, { choice: null, strength: null, aspects: new Map(), note: '' });
        if (!load(p.response)) continue;
        note = h(
          'p',
          { class: 'note prediction-note', 'data-testid': 'prediction-note' },
          `Pre-filled from ${predictionSource(p)}: ${summary()}. Check it before you submit.`,
        );
        break;
      }
      if (!note) Object.assign(st, { choice: null, strength: null, aspects: new Map(), note: '' });
    }

    function summary() {
      if (st.choice === 'tie') return 'a tie';
      if (st.choice === 'bad') return badWord.toLowerCase();
      const r = byId.get(st.choice);
      if (!r) return 'no choice yet';
      const s = askStrength && st.strength ? STRENGTHS[st.strength - 1][1].toLowerCase() : 'better';
      return `${r.letter} is ${s}`;
    }

    const isTie = () => st.choice === 'tie' || st.choice === 'bad';

    function current() {
      const out = {};
      if (st.choice === 'bad') out.both_bad = true;
      else if (st.choice === 'tie') out.tie = true;
      else out.choice = st.choice;
      if (askStrength && !isTie() && st.strength) out.strength = st.strength;
      if (aspects.length) {
        const a = {};
        for (const x of aspects) if (st.aspects.has(x.name)) a[x.name] = st.aspects.get(x.name);
        out.aspects = a;
      }
      if (mode !== 'none') {
        const text = st.note.trim();
        if (text) out.justification = text;
      }
      return out;
    }

    /* What is still missing, as short phrases (empty: complete). */
    function missing() {
      const out = [];
      if (items.length < 2) return ['a task with at least two responses'];
      if (!st.choice) out.push('which response is better');
      else if (askStrength && !isTie() && !st.strength) out.push('how much better');
      const open = aspects.filter((a) => !st.aspects.has(a.name));
      if (open.length) out.push(`the aspect${open.length > 1 ? 's' : ''} ${open.map((a) => a.name).join(', ')}`);
      if (mode === 'required' && !st.note.trim()) out.push(st.choice === 'bad' ? 'a note on what is wrong' : 'a justification');
      return out;
    }

    const changed = () => {
      render();
      onChange?.(current());
    };

    // ---- the prompt and the responses ----
    const prompt = taskPrompt(task);
    const promptBox = h(
      'section',
      { class: 'cmp-prompt', 'data-testid': 'cmp-prompt', 'aria-labelledby': `${uid}-prompt` },
      h('h3', { class: 'cmp-section-title', id: `${uid}-prompt` }, 'Prompt'),
      prompt ? renderRich(prompt) : h('p', { class: 'muted' }, 'This task has no prompt.'),
    );

    const columns = new Map();
    const grid = h('div', { class: 'cmp-responses', 'data-count': String(Math.min(items.length, 5)), 'data-testid': 'cmp-responses' });
    for (const r of items) {
      const badge = h('span', { class: 'cmp-col-badge' });
      const col = h(
        'section',
        { class: 'cmp-col', 'data-response-id': r.id, 'data-letter': r.letter, 'aria-labelledby': `${uid}-col-${r.index}` },
        h('header', { class: 'cmp-col-head' }, h('h3', { class: 'cmp-col-title', id: `${uid}-col-${r.index}` }, h('span', { class: 'cmp-letter' }, r.letter), ` Response ${r.letter}`), badge),
        h('div', { class: 'cmp-col-body' }, renderRich(r.text)),
      );
      columns.set(r.id, { col, badge });
      grid.append(col);
    }

    // ---- the answer ----
    const better = items.length > 2 ? 'best' : 'better';
    const choiceOpts = items.map((r, i) => ({
      value: r.id,
      label: `${r.letter} is ${better}`,
      key: i < 9 ? String(i + 1) : null,
      attrs: { 'data-choice': r.id, 'data-letter': r.letter },
    }));
    if (allowTie) choiceOpts.push({ value: 'tie', label: 'Tie', desc: 'equally good', key: 't', attrs: { 'data-choice': 'tie' } });
    if (offerBad) choiceOpts.push({ value: 'bad', label: badWord, desc: items.length > 2 ? 'none is usable' : 'neither is usable', key: 'b', attrs: { 'data-choice': 'bad' } });
    const choiceSeg = segmented({
      name: `${uid}-choice`,
      label: `Which response is ${better}?`,
      options: choiceOpts,
      readOnly,
      testid: 'cmp-choice',
      className: 'cmp-choice',
      onPick: (v) => pick(v),
    });

    let strengthSeg = null;
    const strengthNote = h('p', { class: 'cmp-aside muted', 'data-testid': 'cmp-strength-note' });
    if (askStrength) {
      strengthSeg = segmented({
        name: `${uid}-strength`,
        label: 'How much better?',
        options: STRENGTHS.map(([n, label]) => ({ value: String(n), label, key: `⇧${n}`, attrs: { 'data-strength': String(n) } })),
        readOnly,
        testid: 'cmp-strength',
        className: 'cmp-strength',
        onPick: (v) => setStrength(Number(v)),
      });
    }

    const aspectSegs = new Map();
    const aspectRows = aspects.map((a) => {
      const opts = items.map((r) => ({ value: r.id, label: r.letter, attrs: { 'data-value': r.id, title: `${r.letter} is ${better} on ${a.name}` } }));
      if (allowTie) opts.push({ value: 'tie', label: 'Tie', attrs: { 'data-value': 'tie', title: `A tie on ${a.name}` } });
      const seg = segmented({
        name: `${uid}-aspect-${aspects.indexOf(a)}`,
        label: `${a.name}: which response is ${better}?`,
        options: opts,
        readOnly,
        testid: 'cmp-aspect-choice',
        className: 'cmp-aspect-seg',
        onPick: (v) => setAspect(a.name, v),
      });
      aspectSegs.set(a.name, seg);
      return h(
        'div',
        { class: 'cmp-aspect', 'data-aspect': a.name, 'data-testid': 'cmp-aspect' },
        h('div', { class: 'cmp-aspect-name' }, h('span', { class: 'cmp-aspect-title' }, a.name), a.description ? h('span', { class: 'cmp-aspect-desc' }, a.description) : null),
        seg.el,
      );
    });

    let textarea = null;
    let justLabel = null;
    let justBox = null;
    if (mode !== 'none') {
      if (readOnly) {
        justBox = h('section', { class: 'cmp-field cmp-justification-view', 'data-testid': 'cmp-justification' });
      } else {
        textarea = h('textarea', {
          id: `${uid}-just`,
          class: 'cmp-justification',
          rows: '4',
          'data-testid': 'cmp-justification',
          'aria-required': mode === 'required' ? 'true' : null,
          'aria-describedby': `${uid}-just-hint`,
          oninput: () => {
            st.note = textarea.value;
            changed();
          },
        });
        textarea.value = st.note;
        justLabel = h('label', { for: `${uid}-just`, class: 'cmp-field-label' });
        justBox = h('div', { class: 'cmp-field' }, justLabel, textarea, h('p', { id: `${uid}-just-hint`, class: 'cmp-aside muted' }, 'Keys do not act while you type here; press Tab to leave the box, then Enter to submit.'));
      }
    }

    const missingEl = h('p', { class: 'cmp-missing muted', 'data-testid': 'cmp-missing', 'aria-live': 'polite' });

    const answer = h(
      'div',
      { class: 'cmp-answer' },
      h('div', { class: 'cmp-field' }, h('h3', { class: 'cmp-field-label' }, `Which response is ${better}?`), choiceSeg.el),
      strengthSeg ? h('div', { class: 'cmp-field', 'data-testid': 'cmp-strength-field' }, h('h3', { class: 'cmp-field-label' }, 'How much better?'), strengthSeg.el, strengthNote) : null,
      aspectRows.length
        ? h('div', { class: 'cmp-field' }, h('h3', { class: 'cmp-field-label' }, 'By aspect'), h('div', { class: 'cmp-aspects', 'data-testid': 'cmp-aspects' }, aspectRows))
        : null,
      justBox,
      readOnly ? null : missingEl,
    );

    const problemEls = problems.map((p) => h('p', { class: 'note', 'data-testid': 'cmp-problem' }, p));
    if (items.length < 2) problemEls.push(h('p', { class: 'note', 'data-testid': 'cmp-problem' }, 'This task has fewer than two responses, so there is nothing to compare. Skip it and tell the project manager.'));
    const hint = readOnly
      ? null
      : h(
          'p',
          { class: 'editor-hint' },
          `Read the prompt and the ${items.length} responses, then say which is ${better}. The responses are anonymous: judge the text, not who wrote it.`,
        );
    const emptyNote = readOnly && !(value && typeof value === 'object') ? h('p', { class: 'note' }, 'No answer to show.') : null;

    const root = h('div', { class: `cmp-editor${readOnly ? ' is-readonly' : ' editor-wide'}`, 'data-testid': 'comparison' }, hint, note, problemEls, promptBox, grid, emptyNote, answer);
    el.replaceChildren(root);

    // ---- changes ----
    function pick(v) {
      if (!alive || readOnly) return;
      if (v !== 'tie' && v !== 'bad' && !ids.has(v)) return;
      if (v === 'tie' && !allowTie) return;
      if (v === 'bad' && !offerBad) return;
      if (st.choice === v) return render();
      st.choice = v;
      changed();
    }
    function setStrength(n) {
      if (!alive || readOnly || !askStrength || isTie() || !st.choice) return false;
      if (st.strength !== n) {
        st.strength = n;
        changed();
      } else render();
      return true;
    }
    function setAspect(name, v) {
      if (!alive || readOnly) return;
      if (!(ids.has(v) || (v === 'tie' && allowTie))) return;
      if (st.aspects.get(name) === v) return render();
      st.aspects.set(name, v);
      changed();
    }

    function render() {
      choiceSeg.set(st.choice);
      for (const [id, { col, badge }] of columns) {
        const chosen = st.choice === id;
        col.classList.toggle('is-chosen', chosen);
        col.classList.toggle('is-other', !!st.choice && !isTie() && !chosen);
        col.classList.toggle('is-tie', st.choice === 'tie');
        col.classList.toggle('is-bad', st.choice === 'bad');
        badge.textContent = chosen ? (askStrength && st.strength ? STRENGTHS[st.strength - 1][1] : better === 'best' ? 'Best' : 'Better') : st.choice === 'tie' ? 'Tie' : st.choice === 'bad' ? 'Bad' : '';
        badge.hidden = !badge.textContent;
      }
      if (strengthSeg) {
        strengthSeg.set(isTie() ? null : st.strength === null ? null : String(st.strength));
        strengthSeg.disable(!st.choice || isTie());
        strengthNote.textContent = isTie() ? (st.choice === 'bad' ? 'No strength when all are bad.' : 'No strength for a tie.') : !st.choice ? 'Choose a response first.' : '';
        strengthNote.hidden = !strengthNote.textContent;
      }
      for (const [name, seg] of aspectSegs) seg.set(st.aspects.get(name) ?? null);
      if (justLabel) {
        const bad = st.choice === 'bad';
        justLabel.replaceChildren(
          ...[
            bad ? `What is wrong with ${items.length > 2 ? 'all of them' : 'both'}? ` : 'Why? ',
            h('span', { class: 'cmp-req muted' }, mode === 'required' ? '(required)' : '(optional)'),
          ].filter(Boolean),
        );
        textarea.setAttribute('aria-required', mode === 'required' ? 'true' : 'false');
        textarea.placeholder = bad ? 'What is wrong with them…' : 'What makes one response better than the other…';
      }
      if (readOnly && justBox) {
        const text = st.note.trim();
        justBox.replaceChildren(
          h('h3', { class: 'cmp-field-label' }, st.choice === 'bad' ? `${badWord}: why` : 'Justification'),
          text ? h('p', { class: 'cmp-justification-text' }, text) : h('p', { class: 'muted' }, 'None given.'),
        );
      }
      if (!readOnly) {
        const m = missing();
        missingEl.textContent = m.length ? `Still to do: ${m.join('; ')}.` : 'Complete: press Enter or Submit.';
        missingEl.classList.toggle('is-complete', !m.length);
      }
    }
    render();

    /* The aspect row (name) that holds the focus, or null. */
    function focusedAspect(target) {
      const row = target instanceof Element ? target.closest('[data-aspect]') : null;
      return row && root.contains(row) ? row.getAttribute('data-aspect') : null;
    }

    return {
      value: current,
      valid() {
        return missing().length === 0;
      },
      keys(ev) {
        if (!alive || readOnly || ev.ctrlKey || ev.metaKey || ev.altKey) return false;
        const aspect = focusedAspect(ev.target);
        if (/^[1-9]$/.test(ev.key)) {
          const r = items[Number(ev.key) - 1];
          if (!r) return false;
          if (aspect) setAspect(aspect, r.id);
          else pick(r.id);
          return true;
        }
        if (ev.shiftKey && /^Digit[1-3]$/.test(ev.code || '')) return setStrength(Number(ev.code.slice(5)));
        if (ev.key === 't' || ev.key === 'T' || ev.key === '0') {
          if (!allowTie) return false;
          if (aspect) setAspect(aspect, 'tie');
          else pick('tie');
          return true;
        }
        if ((ev.key === 'b' || ev.key === 'B') && offerBad && !aspect) {
          pick('bad');
          textarea?.focus({ preventScroll: false });
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

export default comparisonEditor;
