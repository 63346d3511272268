// diff.js -- a readable, structural difference between two JSON values
// (two versions of a task's result, an annotation and the result, a
// reviewer's fix and the result): the paths that were added, removed or
// changed, each with its old and new value.  Not a text diff: key order
// does not count, arrays are aligned by their elements (so removing the
// first of three boxes reads "boxes[0] removed", not three changes), and a
// long text that changed shows which words changed.
//
//   diffJson(a, b)        [{op: 'add'|'remove'|'change'|'move', path: [...], old, new}]
//                         (a move: an array element now at path, before at
//                         index `from`)
//   formatPath(path)      'labels[0]', 'boxes[2].x', 'data["a key"]'
//   renderDiff(a, b, o)   the changes as DOM ([data-testid=diff])
//   sameJson(a, b)        true when a and b are the same JSON value
//
// Styles: .diff* in review.css (loaded on every page).

import { h } from './dom.js';

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/* A canonical text of a JSON value: object keys sorted, so that two
 * objects that differ only in key order compare equal. */
export function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObject(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  }
  if (v === undefined) return 'null';
  return JSON.stringify(v);
}

export function sameJson(a, b) {
  return canonical(a) === canonical(b);
}

/* The longest common subsequence of two arrays of strings, as a list of
 * steps: ['=', i, j], ['-', i], ['+', j].  Common ends are trimmed first;
 * a middle too large for the table (over ~1M cells) is paired by index. */
function align(as, bs) {
  const steps = [];
  let start = 0;
  while (start < as.length && start < bs.length && as[start] === bs[start]) steps.push(['=', start, start++]);
  let endA = as.length;
  let endB = bs.length;
  const tail = [];
  while (endA > start && endB > start && as[endA - 1] === bs[endB - 1]) tail.unshift(['=', --endA, --endB]);
  const n = endA - start;
  const m = endB - start;
  if (n * m > 1e6) {
    for (let k = 0; k < Math.max(n, m); k++) {
      if (k < n) steps.push(['-', start + k]);
      if (k < m) steps.push(['+', start + k]);
    }
    return steps.concat(tail);
  }
  // len[i][j]: LCS length of as[start+i..endA) and bs[start+j..endB).
  const len = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--) len[i][j] = as[start + i] === bs[start + j] ? len[i + 1][j + 1] + 1 : Math.max(len[i + 1][j], len[i][j + 1]);
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && as[start + i] === bs[start + j]) {
      steps.push(['=', start + i, start + j]);
      i++;
      j++;
    } else if (j < m && (i === n || len[i][j + 1] >= len[i + 1][j])) {
      steps.push(['+', start + j]);
      j++;
    } else {
      steps.push(['-', start + i]);
      i++;
    }
  }
  return steps.concat(tail);
}

function diffArrays(a, b, path, out) {
  const ka = a.map(canonical);
  const kb = b.map(canonical);
  // Runs of removed and inserted elements between the common ones.
  const runs = [];
  let run = null;
  for (const s of align(ka, kb)) {
    if (s[0] === '=') {
      run = null;
      continue;
    }
    if (!run) runs.push((run = { dels: [], ins: [] }));
    (s[0] === '-' ? run.dels : run.ins).push(s[1]);
  }
  // An element removed in one place and inserted in another moved.
  const moved = [];
  const freeIns = new Map();
  for (const r of runs) for (const j of r.ins) (freeIns.get(kb[j]) || freeIns.set(kb[j], []).get(kb[j])).push(j);
  const movedIns = new Set();
  for (const r of runs) {
    r.dels = r.dels.filter((i) => {
      const js = freeIns.get(ka[i]);
      if (!js || !js.length) return true;
      const j = js.shift();
      movedIns.add(j);
      moved.push({ op: 'move', path: [...path, j], from: i, new: b[j] });
      return false;
    });
  }
  for (const r of runs) {
    r.ins = r.ins.filter((j) => !movedIns.has(j));
    // A removal next to an insertion is one element that changed.
    const pairs = Math.min(r.dels.length, r.ins.length);
    for (let k = 0; k < pairs; k++) diffInto(a[r.dels[k]], b[r.ins[k]], [...path, r.ins[k]], out);
    for (let k = pairs; k < r.dels.length; k++) out.push({ op: 'remove', path: [...path, r.dels[k]], old: a[r.dels[k]] });
    for (let k = pairs; k < r.ins.length; k++) out.push({ op: 'add', path: [...path, r.ins[k]], new: b[r.ins[k]] });
  }
  moved.sort((x, y) => x.path[x.path.length - 1] - y.path[y.path.length - 1]);
  out.push(...moved);
}

function diffInto(a, b, path, out) {
  if (isObject(a) && isObject(b)) {
    const keys = [...Object.keys(a), ...Object.keys(b).filter((k) => !Object.hasOwn(a, k))];
    for (const k of keys) {
      const inA = Object.hasOwn(a, k);
      const inB = Object.hasOwn(b, k);
      if (inA && inB) diffInto(a[k], b[k], [...path, k], out);
      else if (inA) out.push({ op: 'remove', path: [...path, k], old: a[k] });
      else out.push({ op: 'add', path: [...path, k], new: b[k] });
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    diffArrays(a, b, path, out);
    return;
  }
  if (canonical(a) !== canonical(b)) out.push({ op: 'change', path, old: a, new: b });
}

/* The differences from a to b, in the order of a's keys (then b's new
 * ones) and of the arrays' elements. */
export function diffJson(a, b) {
  const out = [];
  diffInto(a === undefined ? null : a, b === undefined ? null : b, [], out);
  return out;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function formatPath(path) {
  if (!path || !path.length) return '(the whole value)';
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else if (IDENT.test(p)) s += s ? `.${p}` : p;
    else s += `[${JSON.stringify(p)}]`;
  }
  return s;
}

const MAX_VALUE_CHARS = 400;

/* A value as compact JSON, cut short when very long. */
export function formatValue(v) {
  const t = v === undefined ? 'null' : JSON.stringify(v);
  return t.length > MAX_VALUE_CHARS ? `${t.slice(0, MAX_VALUE_CHARS)}… (${t.length - MAX_VALUE_CHARS} more characters)` : t;
}

/* Words and the spaces between them, for a text's word diff. */
function tokens(s) {
  return s.match(/\s+|[^\s]+/g) || [];
}

/* Two texts as one line with the removed words struck out and the added
 * ones marked, or null when they are too long to compare word by word. */
function wordDiff(a, b) {
  const ta = tokens(a);
  const tb = tokens(b);
  if (ta.length * tb.length > 250000) return null;
  const line = h('span', { class: 'diff-text' });
  let run = null;
  const add = (kind, text) => {
    if (run && run.kind === kind) run.text += text;
    else {
      if (run) emit(run);
      run = { kind, text };
    }
  };
  const emit = (r) => line.append(r.kind === '=' ? r.text : h(r.kind === '-' ? 'del' : 'ins', null, r.text));
  for (const s of align(ta, tb)) add(s[0], s[0] === '+' ? tb[s[1]] : ta[s[1]]);
  if (run) emit(run);
  return line;
}

const OP_WORDS = { add: 'added', remove: 'removed', change: 'changed', move: 'moved' };

/* A sentence counting the changes: "2 changes: 1 added, 1 changed." */
export function summarize(changes) {
  if (!changes.length) return 'No difference.';
  const n = { add: 0, remove: 0, change: 0, move: 0 };
  for (const c of changes) n[c.op]++;
  const parts = ['change', 'add', 'remove', 'move'].filter((k) => n[k]).map((k) => `${n[k]} ${OP_WORDS[k]}`);
  return `${changes.length} ${changes.length === 1 ? 'change' : 'changes'}: ${parts.join(', ')}.`;
}

function changeRow(c) {
  const path = formatPath(c.path);
  const row = h(
    'li',
    { class: 'diff-row', 'data-op': c.op, 'data-path': path },
    h('span', { class: `diff-op diff-op-${c.op}` }, OP_WORDS[c.op]),
    h('code', { class: 'diff-path' }, path),
  );
  const vals = h('span', { class: 'diff-values' });
  if (c.op === 'add') vals.append(h('ins', { class: 'diff-new', 'data-testid': 'diff-new' }, formatValue(c.new)));
  else if (c.op === 'remove') vals.append(h('del', { class: 'diff-old', 'data-testid': 'diff-old' }, formatValue(c.old)));
  else if (c.op === 'move') vals.append(h('span', { class: 'diff-moved' }, formatValue(c.new)), h('span', { class: 'muted' }, ` (was at [${c.from}])`));
  else {
    const words = typeof c.old === 'string' && typeof c.new === 'string' && Math.max(c.old.length, c.new.length) > 40 ? wordDiff(c.old, c.new) : null;
    vals.append(
      h('del', { class: 'diff-old', 'data-testid': 'diff-old' }, formatValue(c.old)),
      h('span', { class: 'diff-arrow', 'aria-label': 'becomes' }, ' → '),
      h('ins', { class: 'diff-new', 'data-testid': 'diff-new' }, formatValue(c.new)),
    );
    if (words) vals.append(h('span', { class: 'diff-words' }, h('span', { class: 'visually-hidden' }, 'Word by word: '), words));
  }
  row.append(vals);
  return row;
}

const MAX_ROWS = 200;

/* The changes from a to b as a list.  opts: {testid, from, to} (from and to
 * name the two sides in the summary, e.g. 'version 1', 'version 2';
 * label: a heading line above the list). */
export function renderDiff(a, b, opts = {}) {
  const changes = diffJson(a, b);
  const box = h('div', { class: 'diff', 'data-testid': opts.testid || 'diff', 'data-changes': changes.length });
  if (opts.label) box.append(h('p', { class: 'diff-label' }, opts.label));
  const sides = opts.from && opts.to ? ` (from ${opts.from} to ${opts.to})` : '';
  box.append(h('p', { class: 'diff-summary' }, changes.length ? `${summarize(changes).replace(/\.$/, '')}${sides}.` : `No difference${sides}.`));
  if (changes.length) {
    const list = h('ul', { class: 'diff-list' }, changes.slice(0, MAX_ROWS).map(changeRow));
    box.append(list);
    if (changes.length > MAX_ROWS) box.append(h('p', { class: 'muted' }, `… and ${changes.length - MAX_ROWS} more changes.`));
  }
  return box;
}
