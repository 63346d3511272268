// quality.js -- #/projects/ID/quality: a manager's view of how far the
// project's data can be trusted.
//
//   GET  /v1/projects/ID                          the name (any role)
//   GET  /v1/projects/ID/quality                  the figures (manager)
//   POST /v1/projects/ID/aggregate                "Refit model"
//   POST /v1/projects/ID/workers/UID/pause        {reason}
//   POST /v1/projects/ID/workers/UID/reinstate
//
// A caller who is not a manager gets the server's 403, shown as it is in
// [data-testid=error].  Charts are SVG drawn with attributes (width,
// height, x, y, fill): the page's CSP allows no inline style.
//
// The workers table with its pause dialog (workersTable), the agreement
// figures (agreementSection) and the number formats are exported: the
// dashboard (dashboard.js) shows them too.

import { api } from './api.js';
import { h, svg, count, plural } from './dom.js';
import { setStatus } from './status.js';

export const DASH = '—';

/* 0.9123 -> "91.2%"; null -> "—". */
export function pct(x) {
  return Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : DASH;
}

function num(x, digits = 3) {
  return Number.isFinite(x) ? x.toFixed(digits) : DASH;
}

export { count, plural };

/* Seconds per task: "0.4 s", "12 s", "2 min 05 s", "1 h 03 min". */
export function seconds(x) {
  if (!Number.isFinite(x)) return DASH;
  if (x < 10) return `${x.toFixed(1)} s`;
  const t = Math.round(x);
  if (t < 60) return `${t} s`;
  if (t < 3600) return `${Math.floor(t / 60)} min ${String(t % 60).padStart(2, '0')} s`;
  return `${Math.floor(t / 3600)} h ${String(Math.floor((t % 3600) / 60)).padStart(2, '0')} min`;
}

function alphaText(a) {
  return Number.isFinite(a) ? a.toFixed(3) : 'not enough data yet';
}

/* How a level reads to a person. */
const LEVELS = {
  nominal: 'nominal (one choice per answer)',
  per_label: 'per label (mean of the labels’ alphas)',
  kind_score: 'kind score (distance 1 − the score of two answers)',
};

/* A rough reading of alpha, after Krippendorff's usual thresholds. */
function alphaReading(a) {
  if (!Number.isFinite(a)) return null;
  if (a >= 0.8) return 'reliable';
  if (a >= 0.667) return 'tentative';
  return 'low';
}

function section(testid, title, ...children) {
  const id = `quality-${testid}-title`;
  return h('section', { class: 'card panel quality-section', 'data-testid': testid, 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

function stat(name, value, attrs = {}) {
  return h('div', null, h('dt', null, name), h('dd', attrs, value));
}

/* ---- agreement ---- */

export function agreementSection(q) {
  const o = q?.agreement?.overall || {};
  const reading = alphaReading(o.alpha);
  return section(
    'agreement',
    'Agreement',
    h(
      'dl',
      { class: 'counts quality-stats' },
      stat("Krippendorff's alpha", alphaText(o.alpha), { 'data-testid': 'alpha', 'data-value': Number.isFinite(o.alpha) ? o.alpha : null, 'data-reading': reading }),
      stat('Level', LEVELS[o.level] || o.level || DASH, { 'data-testid': 'level', 'data-level': o.level || null, class: 'stat-text' }),
      Number.isFinite(o.fleiss_kappa) ? stat("Fleiss' kappa", num(o.fleiss_kappa), { 'data-testid': 'fleiss-kappa' }) : null,
      stat('Pairwise agreement', pct(o.pairwise_agreement), { 'data-testid': 'pairwise' }),
      stat('Tasks compared', count(o.tasks), { 'data-testid': 'tasks-compared' }),
      Number.isFinite(o.annotations) ? stat('Answers compared', count(o.annotations), { 'data-testid': 'answers-compared' }) : null,
    ),
    reading
      ? h('p', { class: 'muted' }, `Alpha reads as ${reading}: 0.8 and above is usually taken as reliable, 0.667 to 0.8 as tentative.`)
      : h('p', { class: 'muted' }, 'Alpha needs tasks with two or more answers that vary.'),
  );
}

/* ---- per label ---- */

const BAR_W = 120;
const BAR_H = 12;

function countBar(n, max) {
  const w = max > 0 ? Math.round((BAR_W * n) / max) : 0;
  return svg(
    'svg',
    { class: 'count-bar', width: BAR_W, height: BAR_H, viewBox: `0 0 ${BAR_W} ${BAR_H}`, 'aria-hidden': 'true', focusable: 'false' },
    svg('rect', { class: 'bar-track', x: 0, y: 0, width: BAR_W, height: BAR_H, rx: 2, fill: '#eef0f3' }),
    svg('rect', { class: 'bar-value', x: 0, y: 0, width: w, height: BAR_H, rx: 2, fill: '#2356c7', 'data-count': n }),
  );
}

function perLabelSection(q) {
  const rows = Array.isArray(q?.agreement?.per_label) ? q.agreement.per_label : [];
  if (!rows.length) {
    const o = q?.agreement?.overall || {};
    const why = o.level === 'kind_score' ? 'This kind of task has no fixed set of labels to count.' : 'No answers to count yet.';
    return section('per-label', 'By label', h('p', { class: 'muted', 'data-testid': 'per-label-empty' }, why));
  }
  const max = Math.max(0, ...rows.map((r) => r.annotations || 0));
  return section(
    'per-label',
    'By label',
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data-table' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Label'), h('th', { scope: 'col', class: 'num' }, 'Alpha'), h('th', { scope: 'col', class: 'num' }, 'Answers that picked it'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Share')))),
        h(
          'tbody',
          null,
          rows.map((r) =>
            h(
              'tr',
              { 'data-label': r.label },
              h('th', { scope: 'row' }, r.label),
              h('td', { class: 'num', 'data-field': 'alpha' }, Number.isFinite(r.alpha) ? r.alpha.toFixed(3) : DASH),
              h('td', { class: 'num', 'data-field': 'annotations' }, count(r.annotations)),
              h('td', { class: 'bar-cell' }, countBar(r.annotations || 0, max)),
            ),
          ),
        ),
      ),
    ),
  );
}

/* ---- confidence ---- */

const CH = { w: 520, h: 190, left: 34, right: 10, top: 16, bottom: 28 };

function histogram(bins) {
  const plotW = CH.w - CH.left - CH.right;
  const plotH = CH.h - CH.top - CH.bottom;
  const base = CH.top + plotH;
  const slot = plotW / 10;
  const gap = 4;
  const counts = Array.from({ length: 10 }, (_, i) => {
    const b = bins[i];
    return b && Number.isFinite(b.results) ? b.results : 0;
  });
  const max = Math.max(0, ...counts);
  const total = counts.reduce((a, b) => a + b, 0);
  const parts = [];
  // Axis and a faint top line at the largest count.
  parts.push(svg('line', { class: 'axis', x1: CH.left, y1: base, x2: CH.left + plotW, y2: base, stroke: '#aab2bb', 'stroke-width': 1 }));
  parts.push(svg('text', { class: 'axis-label', x: CH.left - 6, y: base, 'text-anchor': 'end', 'dominant-baseline': 'middle', 'font-size': 11, fill: '#59636e' }, '0'));
  if (max > 0) {
    parts.push(svg('line', { class: 'grid', x1: CH.left, y1: CH.top, x2: CH.left + plotW, y2: CH.top, stroke: '#e3e7eb', 'stroke-width': 1 }));
    parts.push(svg('text', { class: 'axis-label', x: CH.left - 6, y: CH.top, 'text-anchor': 'end', 'dominant-baseline': 'middle', 'font-size': 11, fill: '#59636e' }, String(max)));
  }
  counts.forEach((n, i) => {
    const hgt = max > 0 ? Math.round((plotH * n) / max) : 0;
    const x = CH.left + i * slot + gap / 2;
    const from = (i / 10).toFixed(1);
    const to = ((i + 1) / 10).toFixed(1);
    parts.push(
      svg(
        'rect',
        { class: 'hist-bar', 'data-bin': i, 'data-count': n, x: x.toFixed(1), y: base - hgt, width: (slot - gap).toFixed(1), height: hgt, fill: i < 5 ? '#8a5300' : '#2356c7' },
        svg('title', null, `${from}–${to}: ${n} result${n === 1 ? '' : 's'}`),
      ),
    );
    if (n > 0) parts.push(svg('text', { class: 'bar-label', x: (x + (slot - gap) / 2).toFixed(1), y: base - hgt - 3, 'text-anchor': 'middle', 'font-size': 10, fill: '#1b1f24' }, String(n)));
  });
  for (const t of [0, 0.5, 1]) {
    const x = CH.left + t * plotW;
    parts.push(svg('line', { x1: x, y1: base, x2: x, y2: base + 4, stroke: '#aab2bb', 'stroke-width': 1 }));
    parts.push(svg('text', { class: 'axis-label', 'data-axis': 'x', x, y: base + 16, 'text-anchor': 'middle', 'font-size': 11, fill: '#59636e' }, String(t)));
  }
  const desc = counts.map((n, i) => `${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}: ${n}`).join(', ');
  return svg(
    'svg',
    { class: 'histogram', 'data-testid': 'histogram', width: CH.w, height: CH.h, viewBox: `0 0 ${CH.w} ${CH.h}`, role: 'img', 'aria-label': `Results by confidence (${total} in all): ${desc}` },
    parts,
  );
}

function confidenceSection(q) {
  const c = q?.confidence || {};
  const results = c.results || 0;
  return section(
    'confidence',
    'Result confidence',
    h(
      'dl',
      { class: 'counts quality-stats' },
      stat('Results', count(results), { 'data-testid': 'results' }),
      stat('Mean confidence', Number.isFinite(c.mean) ? c.mean.toFixed(3) : DASH, { 'data-testid': 'mean-confidence' }),
      stat('Below 0.5', count(c.below_0_5), { 'data-testid': 'below-half' }),
    ),
    results ? null : h('p', { class: 'muted', 'data-testid': 'confidence-empty' }, 'No task has a result yet.'),
    h('figure', { class: 'chart' }, histogram(Array.isArray(c.histogram) ? c.histogram : []), h('figcaption', { class: 'muted' }, 'Results by confidence, from 0 to 1 in tenths; bars below 0.5 are in amber.')),
  );
}

/* ---- workers ---- */

function workerCells(w, onPause, onReinstate) {
  const gold = Number.isFinite(w.gold_accuracy) ? `${pct(w.gold_accuracy)} (${count(w.gold_answered)})` : DASH;
  const agreement = Number.isFinite(w.agreement_with_consensus) ? `${pct(w.agreement_with_consensus)} (${count(w.compared_with_consensus)})` : DASH;
  const state = w.paused
    ? h('span', { class: 'badge badge-warn' }, 'Paused')
    : h('span', { class: 'badge badge-ok' }, 'Active');
  const action = w.paused
    ? h('button', { type: 'button', 'data-action': 'reinstate', 'data-user-id': w.user_id, onclick: (ev) => onReinstate(w, ev.currentTarget) }, 'Reinstate')
    : h('button', { type: 'button', 'data-action': 'pause', 'data-user-id': w.user_id, onclick: () => onPause(w) }, 'Pause');
  return [
    h('th', { scope: 'row', 'data-field': 'email', class: 'email' }, w.email || `user ${w.user_id}`),
    h('td', { class: 'num', 'data-field': 'tasks_done' }, count(w.tasks_done)),
    h('td', { class: 'num', 'data-field': 'agreement', title: 'over the tasks compared with the consensus' }, agreement),
    h('td', { class: 'num', 'data-field': 'gold_accuracy', title: 'over the gold answers' }, gold),
    h('td', { class: 'num', 'data-field': 'skill' }, pct(w.skill)),
    h('td', { class: 'num', 'data-field': 'median_seconds' }, seconds(w.median_seconds_per_task)),
    h('td', { 'data-field': 'paused' }, state, w.paused && w.pause_reason ? h('span', { class: 'pause-reason' }, w.pause_reason) : null),
    h('td', { class: 'row-action' }, action),
  ];
}

function workerRow(w, onPause, onReinstate) {
  return h('tr', { 'data-user-id': w.user_id, 'data-paused': String(!!w.paused) }, workerCells(w, onPause, onReinstate));
}

/* The workers table of the quality report (GET /v1/projects/ID/quality's
 * `workers`, or GET .../workers) with pause -- a reason asked in a dialog
 * -- and reinstate: {el, update(rows), close()}.  el
 * ([data-testid=workers]) stays in place with its dialog while update()
 * redraws the rows, so a page that refreshes keeps an open dialog and the
 * focus of a row's button.  base is "/v1/projects/ID"; alive() says
 * whether the page is still shown. */
export function workersTable({ base, alive }) {
  const reasonInput = h('input', { id: 'pause-reason', name: 'pause-reason', type: 'text', autocomplete: 'off', maxlength: '1000', required: true });
  const pauseError = h('p', { class: 'error', 'data-testid': 'pause-error', role: 'alert', hidden: true });
  const pauseWho = h('span', null);
  const confirmPauseBtn = h('button', { type: 'submit', class: 'primary', 'data-action': 'confirm-pause' }, 'Pause');
  const pauseDialog = h(
    'dialog',
    { class: 'dialog', 'data-testid': 'pause-dialog', 'aria-labelledby': 'pause-title' },
    h(
      'form',
      { novalidate: true, onsubmit: (ev) => (ev.preventDefault(), confirmPause()) },
      h('h2', { id: 'pause-title' }, 'Pause ', pauseWho),
      h('p', { class: 'muted' }, 'Their open tasks in this project go back to the queue, and they get no more until reinstated.'),
      h('div', { class: 'field' }, h('label', { for: 'pause-reason' }, 'Reason (the worker sees it)'), reasonInput),
      pauseError,
      h('div', { class: 'form-actions' }, confirmPauseBtn, h('button', { type: 'button', 'data-action': 'cancel-pause', onclick: () => pauseDialog.close() }, 'Cancel')),
    ),
  );
  // The dialog stays right after the title; update() redraws what follows it.
  const el = section('workers', 'Workers', pauseDialog);
  let pausing = null; // the worker the dialog is for
  const name = (w) => w.email || `user ${w.user_id}`;
  const rowOf = (id) => el.querySelector(`tr[data-user-id="${CSS.escape(String(id))}"]`);

  function replaceRow(w) {
    const old = rowOf(w.user_id);
    const row = workerRow(w, openPause, reinstate);
    if (old) old.replaceWith(row);
    return row;
  }

  function openPause(w) {
    if (pauseDialog.open) return;
    pausing = w;
    pauseWho.textContent = name(w);
    reasonInput.value = '';
    pauseError.hidden = true;
    confirmPauseBtn.disabled = false;
    pauseDialog.showModal();
    reasonInput.focus();
  }

  async function confirmPause() {
    const w = pausing;
    if (!w || confirmPauseBtn.disabled) return;
    const reason = reasonInput.value.trim();
    if (!reason) {
      pauseError.textContent = 'Say why you pause them.';
      pauseError.hidden = false;
      reasonInput.focus();
      return;
    }
    confirmPauseBtn.disabled = true;
    pauseError.hidden = true;
    let got;
    try {
      got = await api.post(`${base}/workers/${encodeURIComponent(w.user_id)}/pause`, { reason });
    } catch (e) {
      confirmPauseBtn.disabled = false;
      if (!alive() || e.status === 401) return;
      pauseError.textContent = e.status === 0 ? 'Cannot reach the server. Try again.' : `Not paused. The server said: ${e.message}`;
      pauseError.hidden = false;
      return;
    }
    pausing = null;
    pauseDialog.close();
    if (!alive()) return;
    const row = replaceRow(got && typeof got === 'object' ? got : { ...w, paused: true, pause_reason: reason });
    setStatus(`Paused ${name(w)}`, 'ok');
    row.querySelector('button[data-action]')?.focus({ preventScroll: true });
  }

  pauseDialog.addEventListener('close', () => {
    const w = pausing;
    pausing = null;
    if (alive() && w) rowOf(w.user_id)?.querySelector('button[data-action=pause]')?.focus({ preventScroll: true });
  });

  async function reinstate(w, btn) {
    if (btn) btn.disabled = true;
    setStatus(`Reinstating ${name(w)}…`, 'busy');
    let got;
    try {
      got = await api.post(`${base}/workers/${encodeURIComponent(w.user_id)}/reinstate`);
    } catch (e) {
      if (btn) btn.disabled = false;
      if (!alive() || e.status === 401) return;
      setStatus(`${name(w)} was not reinstated: ${e.message}`, 'error');
      return;
    }
    if (!alive()) return;
    const row = replaceRow(got && typeof got === 'object' ? got : { ...w, paused: false, pause_reason: null });
    setStatus(`Reinstated ${name(w)}`, 'ok');
    row.querySelector('button[data-action]')?.focus({ preventScroll: true });
  }

  function update(workers) {
    const rows = Array.isArray(workers) ? workers : [];
    // A row's button that has the focus gets it back in the new row.
    const focused = el.contains(document.activeElement) ? document.activeElement.closest('tr[data-user-id]')?.dataset.userId : null;
    while (pauseDialog.nextSibling) pauseDialog.nextSibling.remove();
    if (!rows.length) {
      el.append(h('p', { class: 'muted', 'data-testid': 'workers-empty' }, 'No one has taken a task of this project yet.'));
      return;
    }
    el.append(
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'data-table workers-table' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', { scope: 'col' }, 'Worker'),
              h('th', { scope: 'col', class: 'num' }, 'Tasks done'),
              h('th', { scope: 'col', class: 'num' }, 'Agreement with consensus'),
              h('th', { scope: 'col', class: 'num' }, 'Gold accuracy'),
              h('th', { scope: 'col', class: 'num' }, 'Skill'),
              h('th', { scope: 'col', class: 'num' }, 'Median time per task'),
              h('th', { scope: 'col' }, 'State'),
              h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Action')),
            ),
          ),
          h('tbody', null, rows.map((w) => workerRow(w, openPause, reinstate))),
        ),
      ),
      h('p', { class: 'muted' }, 'In brackets: how many tasks or gold answers a figure rests on. Skill comes from the last refit.'),
    );
    if (focused) rowOf(focused)?.querySelector('button[data-action]')?.focus({ preventScroll: true });
  }

  return {
    el,
    update,
    close() {
      pausing = null;
      if (pauseDialog.open) pauseDialog.close();
    },
  };
}

/* ---- the page ---- */

export function renderQuality(root, { projectId }) {
  document.title = 'Quality · Loupe';
  let alive = true;
  let project = null;
  let loading = null;
  const base = `/v1/projects/${encodeURIComponent(projectId)}`;

  const title = h('h1', { class: 'ws-title', 'data-testid': 'project-name' }, 'Loading…');
  const method = h('span', { class: 'badge', 'data-testid': 'method', hidden: true });
  const refitBtn = h('button', { type: 'button', class: 'primary', 'data-action': 'refit', disabled: true, onclick: () => refit() }, 'Refit model');
  const refitResult = h('p', { class: 'note', 'data-testid': 'refit-result', role: 'status', hidden: true });
  const error = h('p', { class: 'error', 'data-testid': 'error', role: 'alert', hidden: true });
  const info = h('p', { class: 'muted' }, 'Loading the figures…');
  const body = h('div', { class: 'quality-body', 'aria-busy': 'true' });

  const workers = workersTable({ base, alive: () => alive });

  root.replaceChildren(
    h(
      'section',
      { class: 'quality' },
      h(
        'div',
        { class: 'ws-head' },
        h('a', { class: 'back', href: '#/projects' }, '← Projects'),
        title,
        h('div', { class: 'ws-tools' }, h('span', { class: 'muted' }, 'Aggregation'), method, refitBtn),
      ),
      refitResult,
      error,
      info,
      body,
    ),
  );

  function showError(e, what) {
    info.hidden = true;
    error.replaceChildren(e.status === 403 || e.status === 404 ? e.message : `${what}: ${e.message} `);
    if (!(e.status === 403 || e.status === 404)) error.append(h('button', { type: 'button', class: 'quiet', onclick: () => load() }, 'Try again'));
    error.hidden = false;
  }

  /* ---- loading ---- */

  function draw(q) {
    method.textContent = q.method || project?.aggregation || DASH;
    method.hidden = false;
    workers.update(q.workers);
    body.replaceChildren(agreementSection(q), perLabelSection(q), confidenceSection(q), workers.el);
  }

  function load() {
    if (loading) return loading;
    loading = (async () => {
      error.hidden = true;
      body.setAttribute('aria-busy', 'true');
      if (!body.firstChild) {
        info.hidden = false;
        info.textContent = 'Loading the figures…';
      }
      try {
        if (!project) {
          project = await api.get(base);
          if (!alive) return;
          title.textContent = project.name;
          document.title = `Quality: ${project.name} · Loupe`;
        }
        const q = await api.get(`${base}/quality`);
        if (!alive) return;
        info.hidden = true;
        draw(q);
        refitBtn.disabled = false;
      } catch (e) {
        if (!alive || e.status === 401) return;
        if (!project) title.textContent = 'Quality';
        body.replaceChildren();
        refitBtn.disabled = true;
        showError(e, 'The figures could not be loaded');
      } finally {
        body.setAttribute('aria-busy', 'false');
        loading = null;
      }
    })();
    return loading;
  }

  async function refit() {
    if (refitBtn.disabled) return;
    refitBtn.disabled = true;
    refitBtn.setAttribute('aria-busy', 'true');
    setStatus('Refitting the model…', 'busy');
    let r;
    try {
      r = await api.post(`${base}/aggregate`);
    } catch (e) {
      refitBtn.disabled = false;
      refitBtn.removeAttribute('aria-busy');
      if (!alive || e.status === 401) return;
      setStatus(`The refit failed: ${e.message}`, 'error');
      refitResult.textContent = `The refit failed: ${e.message}`;
      refitResult.hidden = false;
      return;
    }
    if (!alive) return;
    refitBtn.removeAttribute('aria-busy');
    const parts = [`${count(r.results)} result${r.results === 1 ? '' : 's'}, ${count(r.changed)} changed`];
    if (r.kept) parts.push(`${count(r.kept)} kept as they were`);
    const detail = [r.model || r.method, Number.isFinite(r.workers) ? `${count(r.workers)} workers` : null, Number.isFinite(r.annotations) ? `${count(r.annotations)} answers` : null].filter(Boolean).join(', ');
    refitResult.textContent = `Refit: ${parts.join('; ')}${detail ? ` (${detail})` : ''}.`;
    refitResult.hidden = false;
    setStatus('Model refitted', 'ok');
    await load(); // enables the button again once the figures are back
  }

  load();
  return () => {
    alive = false;
    workers.close();
  };
}
