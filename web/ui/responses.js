// responses.js -- what the comparison and ranking editors share: a task's
// data.responses as a list with ids and letters, and a response's text
// rendered as Markdown with fenced code blocks.
//
// data.responses (docs/KINDS.md, comparison): at least 2 items, each
// {"id", "text", "model"?} or a plain string; a plain string at index i has
// the id "i" (always a string).  The model is never shown: comparisons are
// blind.

import { h } from './dom.js';
import { renderMarkdown } from './markdown.js';

/* "A".."Z", then "AA", "AB"... for index 0, 1, ... */
export function letterOf(i) {
  let n = i + 1;
  let s = '';
  while (n > 0) {
    const r = (n - 1) % 26;
    s = String.fromCharCode(65 + r) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
}

/* The task's responses as {items: [{id, text, index, letter}], problems:
 * [text]}.  An item that is neither a string nor an object with a string
 * id, or whose id repeats an earlier one, is left out and named in
 * problems (the server refuses such tasks, so this is only a guard). */
export function taskResponses(task) {
  const data = task && typeof task.data === 'object' && task.data && !Array.isArray(task.data) ? task.data : {};
  const raw = Array.isArray(data.responses) ? data.responses : [];
  const items = [];
  const problems = [];
  const seen = new Set();
  raw.forEach((r, i) => {
    let id = null;
    let text = '';
    if (typeof r === 'string') {
      id = String(i);
      text = r;
    } else if (r && typeof r === 'object' && !Array.isArray(r)) {
      id = typeof r.id === 'string' && r.id !== '' ? r.id : typeof r.id === 'number' ? String(r.id) : null;
      text = typeof r.text === 'string' ? r.text : r.text == null ? '' : JSON.stringify(r.text);
    }
    if (id === null) {
      problems.push(`Response ${i + 1} has no id and is not shown.`);
      return;
    }
    if (seen.has(id)) {
      problems.push(`Response ${i + 1} repeats the id "${id}" and is not shown.`);
      return;
    }
    seen.add(id);
    items.push({ id, text, index: items.length, letter: letterOf(items.length) });
  });
  if (!Array.isArray(data.responses)) problems.push('This task has no list of responses (data.responses).');
  return { items, problems };
}

/* The task's prompt (data.prompt) if it is a non-empty string, else null. */
export function taskPrompt(task) {
  const p = task?.data?.prompt;
  return typeof p === 'string' && p.trim() ? p : null;
}

/* A response's (or prompt's) text as DOM (markdown.js: fenced code blocks
 * included); never parses HTML. */
export function renderRich(text) {
  const box = h('div', { class: 'md rich' }, renderMarkdown(text));
  if (!box.childNodes.length) box.append(h('p', { class: 'muted rich-empty' }, '(empty response)'));
  return box;
}

/* A short id for names that must be unique per editor instance (radio
 * groups, aria references): several instances share a page. */
export function instanceId(prefix) {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
}

/* "Pre-filled from the model X (score 0.8)" */
export function predictionSource(p) {
  const who = typeof p?.model === 'string' && p.model ? `the model ${p.model}` : 'a model';
  const score = typeof p?.score === 'number' && Number.isFinite(p.score) ? ` (score ${Math.round(p.score * 100) / 100})` : '';
  return `${who}${score}`;
}

/* The task's predictions, best score first (stable for equal scores). */
export function predictionsByScore(task) {
  const list = Array.isArray(task?.predictions) ? task.predictions.filter((p) => p && typeof p === 'object' && p.response && typeof p.response === 'object') : [];
  const score = (p) => (typeof p.score === 'number' && Number.isFinite(p.score) ? p.score : -Infinity);
  return list.map((p, i) => [p, i]).sort((a, b) => score(b[0]) - score(a[0]) || a[1] - b[1]).map(([p]) => p);
}
