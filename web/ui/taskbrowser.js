// taskbrowser.js -- a project's tasks, for reviewers and managers.
//
//   #/projects/ID/tasks[?filters]   renderTaskBrowser: a table of the tasks
//       GET /v1/projects/ID                     name, kind, counts
//       GET /v1/projects/ID/batches             the batch filter's choices
//       GET /v1/projects/ID/tasks?...           50 at a time ("Load more")
//     Filters (status, batch_id, tag, unique_id, created_after,
//     created_before) live in the address's query, so a reload, a link or
//     the back button keeps them.  A row opens the task.
//
//   #/tasks/ID                      renderTaskView: one task in full
//       GET /v1/tasks/ID, /v1/projects/P, /v1/tasks/ID/annotations,
//       /v1/tasks/ID/versions, /v1/projects/P/members (workers' emails),
//       /v1/batches/B
//       POST /v1/tasks/ID/audit                 a manager's verdict on a
//                                               completed task
//
// The pieces that show answers (a read-only editor per response, the
// annotations, the result's versions with their differences, the last
// review decision) are exported for the review queue (review.js).

import { h, append, isTyping, sentence } from './dom.js';
import { api, getAll } from './api.js';
import { setStatus } from './status.js';
import { editorFor } from './editors.js';
import { renderTask } from './task.js';
import { renderDiff, sameJson } from './diff.js';

/* Replaces el's children; null and false children are left out. */
const fill = (el, ...kids) => {
  el.replaceChildren();
  return append(el, kids);
};

/* ---------------------------------------------------------------------
 * Shared pieces (also used by review.js)
 * ------------------------------------------------------------------- */

const STATUS_WORDS = {
  pending: 'Pending',
  in_progress: 'In progress',
  review: 'In review',
  completed: 'Completed',
  canceled: 'Canceled',
  gold: 'Gold',
  accepted: 'Accepted',
  rejected: 'Rejected',
  returned: 'Returned',
};

export function statusBadge(status, extra = {}) {
  const s = String(status || 'unknown');
  return h('span', { class: `badge status status-${s.replace(/[^a-z_]/g, '')}`, 'data-status': s, ...extra }, STATUS_WORDS[s] || s);
}

/* What auto-labeling did with a task (its auto_label), as a badge, or
 * null: labelled by the model, kept for humans as a spot check of the
 * model, or a model's label sent back by an audit. */
export function autoLabelBadge(t) {
  const model = t?.result?.model;
  const words = { model: 'labeled by model', spot_check: 'spot check', returned: 'model label returned' };
  if (!t || !words[t.auto_label]) return null;
  const title = {
    model: `Completed by the model${model ? ` ${model}` : ''}, not by annotators (auto-labeling)`,
    spot_check: 'The model was sure of this task; it was kept for annotators to check the model',
    returned: "An audit sent the model's label back to annotators",
  }[t.auto_label];
  return h('span', { class: `badge ${t.auto_label === 'model' ? 'badge-ok' : ''}`.trim(), 'data-testid': 'auto-label', 'data-auto-label': t.auto_label, title }, words[t.auto_label]);
}

/* A <time> with the local date and time, the exact time as its title. */
export function when(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return h('span', null, String(iso));
  return h('time', { datetime: iso, title: iso }, d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }));
}

/* Who user id is: their email when known, else "user ID". */
export function whoIs(people, id) {
  if (id === null || id === undefined) return 'the server';
  return people?.get(Number(id)) || `user ${id}`;
}

/* {me, people: Map(user id -> email)} for a project: the members list
 * (reviewers and up may read it) and GET /v1/me. */
export async function loadPeople(projectId) {
  const people = new Map();
  let me = null;
  const [meR, membersR] = await Promise.allSettled([api.get('/v1/me'), api.get(`/v1/projects/${projectId}/members`)]);
  if (meR.status === 'fulfilled' && meR.value) {
    me = meR.value;
    if (me.email) people.set(Number(me.id), me.email);
  }
  if (membersR.status === 'fulfilled' && Array.isArray(membersR.value?.items)) {
    for (const m of membersR.value.items) if (m.email) people.set(Number(m.user_id), m.email);
  }
  return { me, people };
}

/* A short text to recognise a task by: its text, prompt, first text
 * attachment, or a file name. */
export function taskPreview(task, max = 90) {
  const data = task?.data && typeof task.data === 'object' ? task.data : {};
  const atts = Array.isArray(task?.attachments) ? task.attachments : [];
  let t = '';
  if (typeof data.text === 'string' && data.text.trim()) t = data.text;
  else if (typeof data.prompt === 'string' && data.prompt.trim()) t = data.prompt;
  else {
    const withText = atts.find((a) => typeof a?.content === 'string' && a.content.trim());
    if (withText) t = withText.content;
    else if (atts.length) {
      const a = atts[0];
      const name = a?.name || (typeof a?.url === 'string' ? a.url.split(/[/?#]/).filter(Boolean).pop() : '') || (a?.file ? `file ${String(a.file).slice(0, 12)}…` : '');
      t = `${a?.type || 'attachment'}: ${name || '(no name)'}${atts.length > 1 ? ` (+${atts.length - 1} more)` : ''}`;
    } else if (Object.keys(data).length) t = JSON.stringify(data);
  }
  t = t.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/* Shows value (a response of the project's kind) read-only in host: the
 * kind's editor when the browser has one, else formatted JSON.  The
 * editor instance is pushed onto mounts (unmount them when leaving). */
export function mountResponse(host, { project, editor, task, value, mounts, testid = 'response' }) {
  const body = h('div', { class: 'response-body' });
  const box = h('div', { class: 'response', 'data-testid': testid, 'data-readonly': 'true' }, body);
  host.append(box);
  const json = () => h('pre', { class: 'task-json response-json', 'data-testid': 'response-json' }, value === undefined ? 'null' : JSON.stringify(value, null, 2));
  if (editor) {
    try {
      const inst = editor.mount(body, { params: project?.params || {}, task: task || {}, value: value ?? null, readOnly: true, onChange() {} });
      if (inst) mounts?.push(inst);
      box.append(h('details', { class: 'response-raw' }, h('summary', null, 'JSON'), json()));
      return inst || null;
    } catch (e) {
      console.error(e);
      body.replaceChildren(h('p', { class: 'note' }, `The ${project?.kind || ''} editor could not show this answer; here it is as JSON.`), json());
      return null;
    }
  }
  body.replaceChildren(json());
  return null;
}

export function unmountAll(mounts) {
  for (const m of mounts.splice(0)) {
    try {
      m?.unmount?.();
    } catch (e) {
      console.error(e);
    }
  }
}

const DECISIONS = {
  accept: 'Accepted',
  fix: 'Fixed',
  reject: 'Sent back to annotation',
  audit_accept: 'Audit: accepted',
  audit_reject: 'Audit: rejected, reopened for annotation',
};

/* The last review or audit decision (task.review), or null. */
export function renderDecision(review, people, { testid = 'last-decision' } = {}) {
  if (!review || typeof review !== 'object' || !review.action) return null;
  const level = Number(review.level) > 0 ? ` at review level ${review.level}` : '';
  return h(
    'div',
    { class: `decision decision-${String(review.action).replace(/[^a-z_]/g, '')}`, 'data-testid': testid, 'data-action': review.action },
    h('p', { class: 'decision-line' }, h('strong', null, DECISIONS[review.action] || review.action), `${level} by ${whoIs(people, review.by)}, `, when(review.at)),
    review.comment ? h('blockquote', { class: 'decision-comment', 'data-testid': 'decision-comment' }, review.comment) : null,
  );
}

/* The task's annotations, each read-only with its worker and status;
 * accepted ones first.  With collapseOthers, the refused and returned
 * ones sit in a closed <details>. */
export function renderAnnotations(items, { project, editor, task, people, mounts, result, collapseOthers = false }) {
  const box = h('div', { class: 'annotations', 'data-testid': 'annotations', 'data-count': items.length });
  if (!items.length) {
    box.append(h('p', { class: 'muted', 'data-testid': 'no-annotations' }, 'No annotation yet.'));
    return box;
  }
  const card = (a) => {
    const matches = result && a.response !== undefined ? sameJson(a.response, result.response) : null;
    const c = h(
      'article',
      { class: 'annotation-card card', 'data-testid': 'annotation', 'data-annotation-id': a.id, 'data-status': a.status, 'data-user-id': a.user_id },
      h(
        'div',
        { class: 'annotation-head' },
        h('span', { class: 'annotation-worker', 'data-testid': 'annotation-worker' }, whoIs(people, a.user_id)),
        statusBadge(a.status),
        matches === null ? null : h('span', { class: `badge ${matches ? 'badge-ok' : 'badge-warn'}`, 'data-testid': 'matches-result' }, matches ? 'same as the result' : 'differs from the result'),
        h('span', { class: 'annotation-when muted' }, when(a.created_at)),
      ),
      a.reason ? h('p', { class: 'annotation-reason muted', 'data-testid': 'annotation-reason' }, `Reason: ${a.reason}`) : null,
      matches === false
        ? h(
            'details',
            { class: 'annotation-vs', 'data-testid': 'vs-result' },
            h('summary', null, 'How it differs from the result'),
            renderDiff(result.response, a.response, { testid: 'vs-result-diff', from: 'the result', to: 'this answer' }),
          )
        : null,
    );
    mountResponse(c, { project, editor, task, value: a.response, mounts, testid: 'annotation-response' });
    return c;
  };
  const current = items.filter((a) => a.status === 'accepted');
  const others = items.filter((a) => a.status !== 'accepted');
  if (!collapseOthers) {
    box.append(h('div', { class: 'annotation-grid' }, [...current, ...others].map(card)));
    return box;
  }
  if (current.length) box.append(h('div', { class: 'annotation-grid' }, current.map(card)));
  else box.append(h('p', { class: 'muted' }, 'No accepted annotation.'));
  if (others.length) {
    box.append(
      h(
        'details',
        { class: 'other-annotations', 'data-testid': 'other-annotations' },
        h('summary', null, `Earlier or refused answers (${others.length})`),
        h('div', { class: 'annotation-grid' }, others.map(card)),
      ),
    );
  }
  return box;
}

function versionSource(v, people) {
  if (v.source === 'fix') return `fixed by ${whoIs(people, v.user_id)} in review`;
  if (v.source === 'aggregate') return v.user_id ? `made from the answers (by ${whoIs(people, v.user_id)})` : 'made from the answers';
  return `${v.source || 'unknown source'}${v.user_id ? ` by ${whoIs(people, v.user_id)}` : ''}`;
}

/* Every version of the result, oldest first, each after the first with
 * what changed since the one before. */
export function renderVersions(versions, { people, current } = {}) {
  const box = h('div', { class: 'versions-box', 'data-testid': 'versions', 'data-count': versions.length });
  if (!versions.length) {
    box.append(h('p', { class: 'muted', 'data-testid': 'no-versions' }, 'The result has no version yet.'));
    return box;
  }
  const list = h('ol', { class: 'versions' });
  versions.forEach((v, i) => {
    const isCurrent = i === versions.length - 1 && current !== undefined && current !== null && sameJson(v.response, current);
    const li = h(
      'li',
      { class: 'version', 'data-testid': 'version', 'data-version-id': v.id, 'data-source': v.source },
      h(
        'div',
        { class: 'version-head' },
        h('strong', null, `Version ${i + 1}`),
        h('span', null, versionSource(v, people)),
        isCurrent ? h('span', { class: 'badge badge-ok' }, 'current result') : null,
        h('span', { class: 'muted' }, when(v.created_at)),
      ),
    );
    if (i > 0) li.append(renderDiff(versions[i - 1].response, v.response, { testid: 'version-diff', from: `version ${i}`, to: `version ${i + 1}` }));
    li.append(
      h(
        'details',
        { class: 'version-value' },
        h('summary', null, `The response of version ${i + 1}`),
        h('pre', { class: 'task-json' }, JSON.stringify(v.response, null, 2)),
      ),
    );
    list.append(li);
  });
  box.append(list);
  return box;
}

function section(testid, title, ...children) {
  return h('section', { class: 'tv-section', 'data-testid': testid, 'aria-label': title }, h('h2', null, title), ...children);
}

/* ---------------------------------------------------------------------
 * The task browser: #/projects/ID/tasks
 * ------------------------------------------------------------------- */

const PAGE_SIZE = 50;
const FILTERS = ['status', 'batch_id', 'tag', 'unique_id', 'created_after', 'created_before'];
const STATUSES = ['pending', 'in_progress', 'review', 'completed', 'canceled', 'gold'];
const LAST_QUERY_KEY = 'loupe.tasks-query.';

/* The filters in the address (#/projects/ID/tasks?status=completed). */
function filtersFromHash() {
  const hash = location.hash || '';
  const i = hash.indexOf('?');
  const q = new URLSearchParams(i >= 0 ? hash.slice(i + 1) : '');
  const f = {};
  for (const k of FILTERS) {
    const v = (q.get(k) || '').trim();
    if (v) f[k] = v;
  }
  return f;
}

function queryOf(f) {
  const q = new URLSearchParams();
  for (const k of FILTERS) if (f[k]) q.set(k, f[k]);
  return q.toString();
}

function rememberQuery(projectId, qs) {
  try {
    sessionStorage.setItem(LAST_QUERY_KEY + projectId, qs);
  } catch {
    /* not kept */
  }
}

/* The task list of a project as the user last filtered it. */
export function taskListHref(projectId) {
  let qs = '';
  try {
    qs = sessionStorage.getItem(LAST_QUERY_KEY + projectId) || '';
  } catch {
    qs = '';
  }
  return `#/projects/${projectId}/tasks${qs ? `?${qs}` : ''}`;
}

const FILTER_LABELS = {
  status: 'status',
  batch_id: 'batch',
  tag: 'tag',
  unique_id: 'unique ID',
  created_after: 'created on or after',
  created_before: 'created before',
};

export function renderTaskBrowser(root, { projectId }) {
  let alive = true;
  let filters = filtersFromHash();
  let project = null;
  let batches = new Map();
  let nextToken = null;
  let shown = 0;
  let loadSeq = 0;
  let loading = false;

  document.title = 'Tasks · Loupe';
  const title = h('h1', { class: 'ws-title' }, 'Tasks');
  const statusBar = h('div', { class: 'tb-statuses', role: 'group', 'aria-label': 'Show tasks by status', 'data-testid': 'status-filter' });
  const batchSel = h('select', { id: 'tb-batch', name: 'batch_id', 'data-filter': 'batch_id' }, h('option', { value: '' }, 'All batches'));
  const tagIn = h('input', { id: 'tb-tag', name: 'tag', type: 'text', autocomplete: 'off', maxlength: '64', 'data-filter': 'tag', placeholder: 'any tag' });
  const uidIn = h('input', { id: 'tb-uid', name: 'unique_id', type: 'text', autocomplete: 'off', maxlength: '255', 'data-filter': 'unique_id', placeholder: 'exact match' });
  const afterIn = h('input', { id: 'tb-after', name: 'created_after', type: 'date', 'data-filter': 'created_after' });
  const beforeIn = h('input', { id: 'tb-before', name: 'created_before', type: 'date', 'data-filter': 'created_before' });
  const inputs = { batch_id: batchSel, tag: tagIn, unique_id: uidIn, created_after: afterIn, created_before: beforeIn };
  const clearBtn = h('button', { type: 'button', class: 'quiet', 'data-action': 'clear-filters', onclick: () => apply({}) }, 'Clear filters');
  const form = h(
    'form',
    { class: 'tb-filters card', 'data-testid': 'filters', 'aria-label': 'Filters', novalidate: true, onsubmit: (ev) => (ev.preventDefault(), applyForm()) },
    h('div', { class: 'field' }, h('label', { for: 'tb-batch' }, 'Batch'), batchSel),
    h('div', { class: 'field' }, h('label', { for: 'tb-tag' }, 'Tag'), tagIn),
    h('div', { class: 'field' }, h('label', { for: 'tb-uid' }, 'Unique ID'), uidIn),
    h('div', { class: 'field' }, h('label', { for: 'tb-after' }, 'Created on or after'), afterIn),
    h('div', { class: 'field' }, h('label', { for: 'tb-before' }, 'Created before'), beforeIn),
    h('div', { class: 'tb-filter-actions' }, h('button', { type: 'submit', class: 'primary', 'data-action': 'apply-filters' }, 'Apply'), clearBtn),
  );
  form.addEventListener('change', (ev) => {
    // Choices apply at once; typed text on Enter or Apply (or when the
    // field is left: 'change' fires then too).
    if (ev.target instanceof Element && ev.target.matches('[data-filter]')) applyForm();
  });
  const summary = h('p', { class: 'tb-summary muted', 'data-testid': 'summary', 'aria-live': 'polite' });
  const error = h('div', { class: 'error', 'data-testid': 'error', role: 'alert', hidden: true });
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'data-table tb-table', 'data-testid': 'tasks', 'aria-busy': 'true' },
    h('caption', { class: 'visually-hidden' }, 'Tasks of the project'),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col', class: 'num' }, 'ID'),
        h('th', { scope: 'col' }, 'Unique ID'),
        h('th', { scope: 'col' }, 'Status'),
        h('th', { scope: 'col' }, 'Batch'),
        h('th', { scope: 'col' }, 'Tags'),
        h('th', { scope: 'col' }, 'Updated'),
        h('th', { scope: 'col' }, 'Preview'),
      ),
    ),
    tbody,
  );
  const empty = h('div', { class: 'card panel', 'data-testid': 'no-tasks', hidden: true });
  const moreBtn = h('button', { type: 'button', 'data-action': 'load-more', hidden: true, onclick: () => loadPage(false) }, `Load ${PAGE_SIZE} more`);
  const head = h(
    'div',
    { class: 'ws-head' },
    h('a', { class: 'back', href: '#/projects' }, '← Projects'),
    title,
    h('div', { class: 'ws-tools' }, h('a', { class: 'button quiet', href: `#/projects/${projectId}/review`, 'data-testid': 'review-link', hidden: true }, 'Review queue')),
  );
  const content = h(
    'div',
    { class: 'tb-content', hidden: true },
    statusBar,
    form,
    error,
    summary,
    h('div', { class: 'table-wrap' }, table),
    empty,
    h('div', { class: 'tb-more' }, moreBtn),
    h('p', { class: 'muted tb-keys' }, h('kbd', null, 'j'), ' / ', h('kbd', null, 'k'), ' move between rows, ', h('kbd', null, 'Enter'), ' opens a task, ', h('kbd', null, '/'), ' goes to the filters.'),
  );
  const message = h('div', { hidden: true });
  root.replaceChildren(h('section', { class: 'taskbrowser' }, head, message, content));

  function fatal(testid, heading, text) {
    content.hidden = true;
    message.hidden = false;
    message.replaceChildren(
      h('div', { class: 'card panel', 'data-testid': testid, role: testid === 'error' ? 'alert' : null }, h('h2', null, heading), h('p', null, text), h('div', { class: 'form-actions' }, h('a', { class: 'button', href: '#/projects' }, 'Back to projects'))),
    );
  }

  /* ---- filters ---- */

  function drawStatuses() {
    const batch = filters.batch_id ? batches.get(Number(filters.batch_id)) : null;
    const counts = (batch || project)?.counts || {};
    const mk = (status, label, n) =>
      h(
        'button',
        {
          type: 'button',
          class: 'tb-status',
          'data-status': status || 'all',
          'aria-pressed': String((filters.status || '') === status),
          onclick: () => apply({ ...filters, status: status || undefined }),
        },
        h('span', null, label),
        Number.isFinite(n) ? h('span', { class: 'tb-count' }, n.toLocaleString()) : null,
      );
    statusBar.replaceChildren(mk('', 'All', counts.total), ...STATUSES.map((s) => mk(s, STATUS_WORDS[s], counts[s])));
    if (filters.status && !STATUSES.includes(filters.status)) statusBar.append(h('span', { class: 'badge badge-warn' }, `status=${filters.status}`));
    statusBar.title = batch ? `Tasks of the batch ${batch.name} by status` : 'Tasks of the project by status (the other filters are not counted)';
  }

  function fillForm() {
    batchSel.value = filters.batch_id || '';
    if (filters.batch_id && batchSel.value !== filters.batch_id) {
      batchSel.append(h('option', { value: filters.batch_id }, `batch ${filters.batch_id} (unknown)`));
      batchSel.value = filters.batch_id;
    }
    tagIn.value = filters.tag || '';
    uidIn.value = filters.unique_id || '';
    for (const inp of [afterIn, beforeIn]) {
      const v = filters[inp.name] || '';
      inp.type = 'date';
      inp.value = v;
      // A full time from the address (2026-06-01T12:00Z) does not fit a
      // date field: show it as text.
      if (v && inp.value !== v) {
        inp.type = 'text';
        inp.value = v;
      }
    }
    for (const inp of Object.values(inputs)) inp.removeAttribute('aria-invalid');
    const active = FILTERS.filter((k) => filters[k] && k !== 'status').length;
    clearBtn.disabled = !FILTERS.some((k) => filters[k]);
    form.dataset.active = String(active);
  }

  function applyForm() {
    const f = { status: filters.status };
    for (const [k, inp] of Object.entries(inputs)) {
      const v = inp.value.trim();
      if (v) f[k] = v;
    }
    apply(f);
  }

  function apply(f) {
    const clean = {};
    for (const k of FILTERS) if (f[k]) clean[k] = String(f[k]);
    const qs = queryOf(clean);
    if (qs === queryOf(filters)) return;
    filters = clean;
    // A new history entry without re-rendering the page: the back button
    // then goes to the previous filters (app.js re-renders on hashchange).
    history.pushState(null, '', `#/projects/${projectId}/tasks${qs ? `?${qs}` : ''}`);
    rememberQuery(projectId, qs);
    drawStatuses();
    fillForm();
    loadPage(true);
  }

  /* ---- rows ---- */

  function row(t) {
    const batch = t.batch_id ? batches.get(Number(t.batch_id)) : null;
    const href = `#/tasks/${t.id}`;
    const preview = taskPreview(t);
    const tr = h(
      'tr',
      { class: 'tb-row', 'data-task-id': t.id, 'data-status': t.status },
      h('td', { class: 'num' }, h('a', { class: 'task-link', href, 'aria-label': `Task ${t.id}` }, String(t.id))),
      h('td', { class: 'tb-uid', 'data-field': 'unique_id' }, t.unique_id ?? h('span', { class: 'muted' }, '—')),
      h('td', { 'data-field': 'status' }, statusBadge(t.status), autoLabelBadge(t)),
      h('td', { 'data-field': 'batch' }, t.batch_id ? (batch ? batch.name : `#${t.batch_id}`) : h('span', { class: 'muted' }, '—')),
      h('td', { 'data-field': 'tags' }, (Array.isArray(t.tags) ? t.tags : []).map((g) => h('span', { class: 'tag' }, g))),
      h('td', { 'data-field': 'updated_at', class: 'tb-when' }, when(t.updated_at)),
      h('td', { class: 'tb-preview', 'data-field': 'preview', title: preview || null }, preview || h('span', { class: 'muted' }, '—')),
    );
    tr.addEventListener('click', (ev) => {
      if (ev.target instanceof Element && ev.target.closest('a, button')) return;
      if (window.getSelection()?.toString()) return; // selecting text, not opening
      location.hash = href;
    });
    return tr;
  }

  function showSummary() {
    const active = FILTERS.filter((k) => filters[k]).map((k) => {
      if (k === 'status') return STATUS_WORDS[filters.status] || filters.status;
      if (k === 'batch_id') return `batch ${batches.get(Number(filters.batch_id))?.name ?? filters.batch_id}`;
      return `${FILTER_LABELS[k]} ${filters[k]}`;
    });
    const what = active.length ? ` (${active.join(', ')})` : '';
    summary.textContent = shown ? `Showing ${shown.toLocaleString()} ${shown === 1 ? 'task' : 'tasks'}${what}${nextToken ? '; more below' : ''}.` : '';
  }

  async function loadPage(reset) {
    if (!alive || (loading && !reset)) return;
    const seq = ++loadSeq;
    loading = true;
    error.hidden = true;
    table.setAttribute('aria-busy', 'true');
    moreBtn.disabled = true;
    if (reset) {
      nextToken = null;
      shown = 0;
      tbody.replaceChildren(h('tr', { class: 'tb-loading' }, h('td', { colspan: '7', class: 'muted' }, 'Loading tasks…')));
      table.hidden = false;
      empty.hidden = true;
      moreBtn.hidden = true;
      summary.textContent = '';
    }
    const q = new URLSearchParams();
    for (const k of FILTERS) if (filters[k]) q.set(k, filters[k]);
    q.set('limit', String(PAGE_SIZE));
    if (!reset && nextToken) q.set('next_token', nextToken);
    let page;
    try {
      page = await api.get(`/v1/projects/${projectId}/tasks?${q}`);
    } catch (e) {
      if (!alive || seq !== loadSeq || e.status === 401) return;
      loading = false;
      table.setAttribute('aria-busy', 'false');
      moreBtn.disabled = false;
      if (reset) {
        tbody.replaceChildren();
        table.hidden = true;
      }
      const inp = e.field && inputs[e.field];
      if (inp) inp.setAttribute('aria-invalid', 'true');
      const which = e.field && FILTER_LABELS[e.field] ? `The ${FILTER_LABELS[e.field]} filter is not valid. ` : '';
      fill(error,
        `${which}${e.status === 0 ? 'Cannot reach the server.' : `The server said: ${sentence(e.message)}`} `,
        e.retryable ? h('button', { type: 'button', class: 'quiet', 'data-action': 'retry', onclick: () => loadPage(reset) }, 'Try again') : null,
        which ? h('button', { type: 'button', class: 'quiet', 'data-action': 'clear-bad-filter', onclick: () => apply({ ...filters, [e.field]: undefined }) }, `Remove the ${FILTER_LABELS[e.field]} filter`) : null,
      );
      error.hidden = false;
      setStatus('The tasks could not be loaded', 'error');
      return;
    }
    if (!alive || seq !== loadSeq) return;
    loading = false;
    const items = Array.isArray(page?.items) ? page.items : [];
    if (reset) tbody.replaceChildren();
    for (const t of items) tbody.append(row(t));
    shown += items.length;
    nextToken = page?.next_token || null;
    table.setAttribute('aria-busy', 'false');
    moreBtn.hidden = !nextToken;
    moreBtn.disabled = false;
    table.hidden = shown === 0;
    if (!shown) {
      const any = FILTERS.some((k) => filters[k]);
      fill(empty,
        h('h2', null, any ? 'No task matches these filters' : 'This project has no tasks yet'),
        any
          ? h('p', null, 'Change or clear the filters to see more.')
          : h('p', null, 'A manager adds tasks through the API or the project settings (import).'),
        any ? h('button', { type: 'button', 'data-action': 'clear-filters', onclick: () => apply({}) }, 'Clear filters') : null,
      );
      empty.hidden = false;
    } else empty.hidden = true;
    showSummary();
    if (!reset) setStatus(`${items.length} more ${items.length === 1 ? 'task' : 'tasks'} loaded`, 'info');
  }

  /* ---- start ---- */

  async function init() {
    try {
      project = await api.get(`/v1/projects/${projectId}`);
    } catch (e) {
      if (!alive || e.status === 401) return;
      if (e.status === 404) fatal('error', 'Project not found', 'This project does not exist, or you are not a member of it.');
      else fatal('error', 'The project could not be loaded', sentence(e.message));
      return;
    }
    if (!alive) return;
    title.textContent = `Tasks · ${project.name}`;
    document.title = `Tasks · ${project.name} · Loupe`;
    head.querySelector('[data-testid=review-link]').hidden = !(project.review_levels > 0);
    try {
      const list = await getAll(`/v1/projects/${projectId}/batches?limit=1000`);
      if (!alive) return;
      batches = new Map(list.map((b) => [Number(b.id), b]));
      for (const b of list) batchSel.append(h('option', { value: String(b.id) }, `${b.name} (${b.status.replace('_', ' ')})`));
    } catch (e) {
      if (!alive || e.status === 401) return;
      if (e.status === 403) {
        fatal('forbidden', 'You cannot browse the tasks of this project', `Browsing tasks needs the reviewer or manager role. ${sentence(e.message)}`);
        return;
      }
      // The list still works without the batch names.
      setStatus(`The batches could not be loaded: ${sentence(e.message)}`, 'warn');
    }
    content.hidden = false;
    rememberQuery(projectId, queryOf(filters));
    drawStatuses();
    fillForm();
    await loadPage(true);
  }

  function onKey(ev) {
    if (ev.defaultPrevented || ev.isComposing || ev.ctrlKey || ev.metaKey || ev.altKey || isTyping(ev.target)) return;
    if (ev.key === '/') {
      ev.preventDefault();
      tagIn.focus();
      return;
    }
    if (ev.key !== 'j' && ev.key !== 'k') return;
    const links = [...tbody.querySelectorAll('a.task-link')];
    if (!links.length) return;
    ev.preventDefault();
    const at = links.indexOf(document.activeElement);
    const next = at < 0 ? (ev.key === 'j' ? 0 : links.length - 1) : Math.max(0, Math.min(links.length - 1, at + (ev.key === 'j' ? 1 : -1)));
    links[next].focus();
    links[next].closest('tr')?.scrollIntoView({ block: 'nearest' });
  }

  document.addEventListener('keydown', onKey);
  init();
  return () => {
    alive = false;
    document.removeEventListener('keydown', onKey);
  };
}

/* ---------------------------------------------------------------------
 * One task in full: #/tasks/ID
 * ------------------------------------------------------------------- */

export function renderTaskView(root, { taskId }) {
  let alive = true;
  const mounts = [];
  document.title = `Task ${taskId} · Loupe`;
  const back = h('a', { class: 'back', href: '#/projects' }, '← Projects');
  const title = h('h1', { class: 'ws-title' }, `Task ${taskId}`);
  const badges = h('div', { class: 'ws-tools' });
  const body = h('div', { class: 'tv-body' }, h('p', { class: 'muted', 'data-testid': 'loading' }, 'Loading the task…'));

  const comment = h('textarea', { id: 'audit-comment', name: 'comment', rows: '4', maxlength: '4000', required: true });
  const auditError = h('p', { class: 'error', 'data-testid': 'audit-error', role: 'alert', hidden: true });
  const confirmRejectBtn = h('button', { type: 'submit', class: 'primary', 'data-action': 'confirm-audit-reject' }, 'Reject and reopen');
  const rejectDialog = h(
    'dialog',
    { class: 'dialog', 'data-testid': 'audit-dialog', 'aria-labelledby': 'audit-title' },
    h(
      'form',
      { novalidate: true, onsubmit: (ev) => (ev.preventDefault(), audit(false)) },
      h('h2', { id: 'audit-title' }, 'Reject this task'),
      h('p', { class: 'muted' }, 'The task goes back to annotation; its annotators see your comment.'),
      h('div', { class: 'field' }, h('label', { for: 'audit-comment' }, 'What is wrong?'), comment),
      auditError,
      h('div', { class: 'form-actions' }, confirmRejectBtn, h('button', { type: 'button', 'data-action': 'cancel-audit', onclick: () => rejectDialog.close() }, 'Cancel')),
    ),
  );
  comment.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      audit(false);
    }
  });
  comment.addEventListener('input', () => {
    auditError.hidden = true;
  });

  root.replaceChildren(h('section', { class: 'taskview' }, h('div', { class: 'ws-head' }, back, title, badges), body, rejectDialog));

  let ctx = null; // {task, project, editor, people, role}

  async function load({ quiet = false } = {}) {
    let task;
    try {
      task = await api.get(`/v1/tasks/${taskId}`);
    } catch (e) {
      if (!alive || e.status === 401) return;
      const text = e.status === 404 ? 'This task does not exist, or you have no role in its project.' : e.status === 403 ? `Only reviewers and managers may open a task. ${sentence(e.message)}` : sentence(e.message);
      body.replaceChildren(
        h(
          'div',
          { class: 'card panel', 'data-testid': e.status === 404 ? 'not-found' : 'error', role: 'alert' },
          h('h2', null, e.status === 404 ? 'Task not found' : 'The task could not be loaded'),
          h('p', null, text),
          h('div', { class: 'form-actions' }, e.retryable ? h('button', { type: 'button', onclick: () => load() }, 'Try again') : null, h('a', { class: 'button', href: '#/projects' }, 'Back to projects')),
        ),
      );
      return;
    }
    if (!alive) return;
    const pid = task.project_id;
    const [projectR, annR, verR, peopleR, batchR] = await Promise.allSettled([
      api.get(`/v1/projects/${pid}`),
      api.get(`/v1/tasks/${taskId}/annotations`),
      api.get(`/v1/tasks/${taskId}/versions`),
      loadPeople(pid),
      task.batch_id ? api.get(`/v1/batches/${task.batch_id}`) : Promise.resolve(null),
    ]);
    if (!alive) return;
    const project = projectR.status === 'fulfilled' ? projectR.value : { id: pid, name: `Project ${pid}`, kind: '', params: {} };
    const editor = editorFor(project.kind);
    const { people } = peopleR.status === 'fulfilled' ? peopleR.value : { people: new Map() };
    const role = project.role ?? null; // the caller's role in the project
    ctx = { task, project, editor, people, role };
    draw({
      task,
      project,
      editor,
      people,
      role,
      annotations: annR.status === 'fulfilled' ? annR.value?.items || [] : null,
      annotationsError: annR.status === 'rejected' ? annR.reason : null,
      versions: verR.status === 'fulfilled' ? verR.value?.items || [] : null,
      versionsError: verR.status === 'rejected' ? verR.reason : null,
      batch: batchR.status === 'fulfilled' ? batchR.value : null,
    });
    if (!quiet) setStatus(`Task ${task.id} loaded`, 'info');
  }

  function draw({ task, project, editor, people, role, annotations, annotationsError, versions, versionsError, batch }) {
    unmountAll(mounts);
    back.href = taskListHref(project.id);
    back.textContent = `← Tasks of ${project.name}`;
    title.textContent = `Task ${task.id}`;
    document.title = `Task ${task.id} · ${project.name} · Loupe`;
    fill(badges, statusBadge(task.status, { 'data-testid': 'task-status' }), task.is_gold && task.status !== 'gold' ? h('span', { class: 'badge badge-warn' }, 'gold task') : null, autoLabelBadge(task));

    const meta = h(
      'dl',
      { class: 'tv-meta', 'data-testid': 'task-meta' },
      h('div', null, h('dt', null, 'Unique ID'), h('dd', { 'data-field': 'unique_id' }, task.unique_id ?? '—')),
      h('div', null, h('dt', null, 'Batch'), h('dd', { 'data-field': 'batch' }, task.batch_id ? (batch ? `${batch.name} (${batch.status.replace('_', ' ')})` : `#${task.batch_id}`) : '—')),
      h('div', null, h('dt', null, 'Priority'), h('dd', null, String(task.priority ?? 0))),
      h('div', null, h('dt', null, 'Tags'), h('dd', { 'data-field': 'tags' }, task.tags?.length ? task.tags.map((g) => h('span', { class: 'tag' }, g)) : '—')),
      task.review_level && task.status === 'review' ? h('div', null, h('dt', null, 'Review level'), h('dd', null, `${task.review_level} of ${project.review_levels ?? '?'}`)) : null,
      h('div', null, h('dt', null, 'Created'), h('dd', null, when(task.created_at))),
      h('div', null, h('dt', null, 'Updated'), h('dd', null, when(task.updated_at))),
    );

    const parts = [meta];

    // A manager's audit of a completed task.
    if (role === 'manager' && task.status === 'completed') {
      parts.push(
        h(
          'section',
          { class: 'tv-audit card', 'data-testid': 'audit', 'aria-label': 'Audit' },
          h('h2', null, 'Audit'),
          h('p', { class: 'muted' }, 'Your verdict on this completed task. Rejecting it reopens it for annotation, with your comment.'),
          h(
            'div',
            { class: 'form-actions' },
            h('button', { type: 'button', class: 'primary', 'data-action': 'audit-accept', onclick: () => audit(true) }, 'Accept'),
            h('button', { type: 'button', 'data-action': 'audit-reject', onclick: () => openReject() }, 'Reject…'),
          ),
        ),
      );
    }

    // The input: the task as the annotators saw it.
    const input = section('task-input', 'Input');
    if (editor?.showsTask) mountResponse(input, { project, editor, task, value: null, mounts, testid: 'task-input-view' });
    else input.append(renderTask(task));
    parts.push(input);

    // The result.
    const res = section('task-result', 'Result');
    if (task.result) {
      const r = task.result;
      const conf = Number.isFinite(r.confidence) ? `${Math.round(r.confidence * 1000) / 10}%` : '—';
      res.append(
        h(
          'dl',
          { class: 'tv-meta tv-result-meta' },
          h('div', null, h('dt', null, 'Confidence'), h('dd', { 'data-field': 'confidence' }, conf)),
          h('div', null, h('dt', null, 'Method'), h('dd', { 'data-field': 'method' }, r.method === 'review_fix' ? 'fixed in review (review_fix)' : r.method === 'auto_label' ? 'labeled by a model (auto_label)' : String(r.method ?? '—'))),
          h('div', null, h('dt', null, 'From'), h('dd', { 'data-field': 'from' }, r.method === 'auto_label' ? `the model ${r.model ?? ''}, its score as confidence` : `${r.annotations ?? 0} ${r.annotations === 1 ? 'answer' : 'answers'}`)),
        ),
      );
      mountResponse(res, { project, editor, task, value: r.response, mounts, testid: 'result' });
    } else {
      res.append(h('p', { class: 'muted', 'data-testid': 'no-result' }, task.status === 'canceled' ? 'The task was canceled.' : task.is_gold ? 'A gold task has no result: its answer is given below.' : `No result yet: the task is ${(STATUS_WORDS[task.status] || task.status).toLowerCase()}.`));
    }
    parts.push(res);

    if (task.is_gold && task.expected_response !== undefined) {
      const g = section('gold', 'Gold answer');
      g.append(h('p', { class: 'muted' }, "The expected answer annotators' answers are scored against."));
      mountResponse(g, { project, editor, task, value: task.expected_response, mounts, testid: 'gold-response' });
      parts.push(g);
    }

    const ann = section('task-annotations', `Annotations${annotations ? ` (${annotations.length})` : ''}`);
    if (annotations) ann.append(renderAnnotations(annotations, { project, editor, task, people, mounts, result: task.result }));
    else ann.append(h('p', { class: 'error' }, `The annotations could not be loaded: ${sentence(annotationsError?.message)}`));
    parts.push(ann);

    const rev = section('review-history', 'Review');
    const decision = renderDecision(task.review, people);
    rev.append(decision ? h('div', null, h('h3', null, 'Last decision'), decision) : h('p', { class: 'muted' }, 'No review or audit decision yet.'));
    rev.append(h('h3', null, 'Versions of the result'));
    if (versions) rev.append(renderVersions(versions, { people, current: task.result?.response }));
    else rev.append(h('p', { class: 'error' }, `The versions could not be loaded: ${sentence(versionsError?.message)}`));
    parts.push(rev);

    if (Array.isArray(task.predictions) && task.predictions.length) {
      const pr = section('predictions', `Model predictions (${task.predictions.length})`);
      const grid = h('div', { class: 'annotation-grid' });
      for (const p of task.predictions) {
        const c = h(
          'article',
          { class: 'annotation-card card', 'data-testid': 'prediction' },
          h(
            'div',
            { class: 'annotation-head' },
            h('span', { class: 'annotation-worker' }, p.model || 'a model'),
            Number.isFinite(p.score) ? h('span', { class: 'badge' }, `score ${Math.round(p.score * 100) / 100}`) : null,
          ),
        );
        mountResponse(c, { project, editor, task, value: p.response, mounts, testid: 'prediction-response' });
        grid.append(c);
      }
      pr.append(grid);
      parts.push(pr);
    }

    if (task.metadata && typeof task.metadata === 'object' && Object.keys(task.metadata).length) {
      parts.push(section('metadata', 'Metadata', h('pre', { class: 'task-json' }, JSON.stringify(task.metadata, null, 2))));
    }
    body.replaceChildren(...parts);
  }

  function openReject() {
    if (rejectDialog.open) return;
    comment.value = '';
    auditError.hidden = true;
    confirmRejectBtn.disabled = false;
    rejectDialog.showModal();
    comment.focus();
  }

  let auditing = false;
  async function audit(accepted) {
    if (!ctx || auditing) return;
    const why = comment.value.trim();
    if (!accepted && !why) {
      auditError.textContent = 'Say what is wrong: the annotators will see it.';
      auditError.hidden = false;
      comment.focus();
      return;
    }
    auditing = true;
    confirmRejectBtn.disabled = true;
    for (const b of body.querySelectorAll('[data-testid=audit] button')) b.disabled = true;
    setStatus(accepted ? 'Accepting…' : 'Rejecting…', 'busy');
    try {
      await api.post(`/v1/tasks/${taskId}/audit`, accepted ? { accepted: true } : { accepted: false, comment: why });
    } catch (e) {
      auditing = false;
      confirmRejectBtn.disabled = false;
      if (!alive || e.status === 401) return;
      for (const b of body.querySelectorAll('[data-testid=audit] button')) b.disabled = false;
      const text = e.status === 409 ? `The task cannot be audited now: ${sentence(e.message)} Reload to see its state.` : `Not saved. ${e.status === 0 ? 'Cannot reach the server.' : `The server said: ${sentence(e.message)}`}`;
      if (rejectDialog.open) {
        auditError.textContent = text;
        auditError.hidden = false;
      }
      setStatus(text, 'error');
      return;
    }
    auditing = false;
    if (!alive) return;
    if (rejectDialog.open) rejectDialog.close();
    setStatus(accepted ? `Task ${taskId} accepted in audit` : `Task ${taskId} rejected in audit: it is back in annotation`, 'ok');
    await load({ quiet: true });
  }

  load();

  return () => {
    alive = false;
    if (rejectDialog.open) rejectDialog.close();
    unmountAll(mounts);
  };
}
