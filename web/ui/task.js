// task.js -- shows a task's input: data.text, its attachments (images,
// audio, video, text, links to the rest) and any other data fields.  Text
// is always set as text, never parsed as HTML; addresses are used only if
// they are http(s) or one of this server's files.

import { h } from './dom.js';

const SHA256 = /^[0-9a-f]{64}$/;

export function attachmentUrl(a) {
  if (typeof a?.file === 'string' && SHA256.test(a.file)) return `/v1/files/${a.file}`;
  if (typeof a?.url === 'string') {
    if (/^\/v1\/files\/[0-9a-f]{64}$/.test(a.url)) return a.url;
    try {
      const u = new URL(a.url);
      if (u.protocol === 'http:' || u.protocol === 'https:') return u.href;
    } catch {
      /* not an address */
    }
  }
  return null;
}

function link(url, text) {
  return h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, text);
}

function renderAttachment(a, i) {
  const type = typeof a?.type === 'string' ? a.type : 'other';
  const name = typeof a?.name === 'string' ? a.name : '';
  const fig = h('figure', { class: `attachment attachment-${type}`, 'data-attachment-type': type });
  const caption = name ? h('figcaption', null, name) : null;
  if (typeof a?.content === 'string') {
    fig.append(h('div', { class: 'task-text' }, a.content));
    if (caption) fig.append(caption);
    return fig;
  }
  const url = attachmentUrl(a);
  if (!url) {
    fig.append(h('p', { class: 'note' }, `Attachment ${i + 1} (${type}) has no address this page can open.`));
    return fig;
  }
  const label = name || `${type} ${i + 1}`;
  if (type === 'image') {
    const img = h('img', { src: url, alt: name || `Image ${i + 1} of the task`, loading: 'lazy', decoding: 'async' });
    img.addEventListener('error', () => img.replaceWith(h('p', { class: 'note' }, 'The image could not be loaded: ', link(url, 'open it'))), { once: true });
    fig.append(img);
  } else if (type === 'audio') {
    fig.append(h('audio', { controls: true, preload: 'metadata', src: url }, link(url, `Download the audio (${label})`)));
  } else if (type === 'video') {
    fig.append(h('video', { controls: true, preload: 'metadata', src: url }, link(url, `Download the video (${label})`)));
  } else {
    fig.append(h('p', null, link(url, `Open ${label}`), ` (${type})`));
    return fig;
  }
  if (caption) fig.append(caption);
  return fig;
}

function valueNode(v) {
  if (typeof v === 'string') return h('div', { class: 'task-text' }, v);
  return h('pre', { class: 'task-json' }, JSON.stringify(v, null, 2));
}

/* The reviewer's comment when the task was sent back to annotation, or
 * null. */
export function renderReviewNote(task) {
  if (!(task?.review && task.review.action && /reject/.test(task.review.action) && task.review.comment)) return null;
  return h('p', { class: 'note review-note', 'data-testid': 'review-comment' }, 'A reviewer sent this task back: ', h('q', null, task.review.comment));
}

/* The task's input.  With {input: false} only the review note (for editors
 * that draw the input themselves: editors.js showsTask). */
export function renderTask(task, { input = true } = {}) {
  const box = h('article', { class: 'task', 'data-testid': 'task', 'aria-label': 'The task' });
  const data = task && task.data && typeof task.data === 'object' && !Array.isArray(task.data) ? task.data : {};
  const note = renderReviewNote(task);
  if (note) box.append(note);
  if (!input) {
    box.hidden = !note;
    return box;
  }
  if (typeof data.text === 'string') box.append(h('div', { class: 'task-text task-main-text', 'data-testid': 'task-text' }, data.text));
  // A prompt and a model's response (rating, comparison and rewrite tasks):
  // shown first, as two labelled turns, the response set apart.
  const turns = [
    ['prompt', 'Prompt'],
    ['response', 'Response'],
  ].filter(([k]) => typeof data[k] === 'string');
  if (turns.length)
    box.append(
      h(
        'div',
        { class: 'task-turns' },
        turns.map(([k, title]) => h('section', { class: `task-turn task-turn-${k}`, 'data-testid': `task-${k}` }, h('h3', { class: 'task-turn-title' }, title), h('div', { class: 'task-text' }, data[k]))),
      ),
    );
  const attachments = Array.isArray(task?.attachments) ? task.attachments : [];
  attachments.forEach((a, i) => box.append(renderAttachment(a, i)));
  const rest = Object.keys(data).filter((k) => k !== 'text' && !turns.some(([t]) => t === k));
  if (rest.length) {
    const dl = h('dl', { class: 'task-data' });
    for (const k of rest) dl.append(h('dt', null, k), h('dd', null, valueNode(data[k])));
    box.append(dl);
  }
  if (!box.childElementCount) box.append(h('p', { class: 'note' }, 'This task has no text or attachment to show.'));
  return box;
}

/* The model's prediction to start from: of task.predictions, the one with
 * the highest score (the first on a tie; no score counts lowest) whose
 * response has an array at key ("annotations", "masks", ...), as
 * {model, score, response}, or null. */
export function bestPrediction(predictions, key) {
  if (!Array.isArray(predictions)) return null;
  let best = null;
  for (const p of predictions) {
    if (!Array.isArray(p?.response?.[key])) continue;
    const score = typeof p.score === 'number' && Number.isFinite(p.score) ? p.score : -Infinity;
    if (!best || score > best.score) best = { model: typeof p.model === 'string' ? p.model : '', score, response: p.response };
  }
  return best;
}
