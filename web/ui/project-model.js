// project-model.js -- the Models tab of a project's settings
// (#/projects/ID/settings), for its managers: the project's ML backend
// (a model server speaking Label Studio's ML backend protocol; GET, PUT,
// DELETE /v1/projects/ID/ml-backend) -- connecting it, its settings, how it
// is doing (state, health, queue, the latest errors), asking for
// predictions again -- and how each model's pre-labels fared with the
// annotators (GET /v1/projects/ID/predictions/stats).  While the tab is
// shown, the status refreshes every few seconds.

import { h } from './dom.js';
import { api, ApiError } from './api.js';
import { setStatus } from './status.js';

const FIELDS = [
  // [key, label, min, max, default, help]
  ['batch_size', 'Batch size', 1, 100, 10, 'tasks in one /predict call'],
  ['timeout_ms', 'Time-out (ms)', 100, 600000, 30000, 'a call taking longer is abandoned and retried'],
  ['max_concurrency', 'Calls at once', 1, 16, 2, 'at most this many calls in flight'],
  ['retries', 'Retries', 0, 20, 5, 'attempts for a task before it is marked failed'],
];

const when = (ms) => (ms ? new Date(ms).toLocaleString() : '—');
const pct = (x) => (x === null || x === undefined ? '—' : `${Math.round(x * 1000) / 10}%`);

export function modelPanel({ project }) {
  const pid = project.id;
  const base = `/v1/projects/${pid}/ml-backend`;
  const el = h('section', { class: 'pf-panel', 'data-testid': 'models' });
  let backend = null; // the status, or null when none is connected
  let timer = null;

  // --- the settings form ---
  const urlInput = h('input', { type: 'url', id: 'ml-url', placeholder: 'http://ml-backend:9090', autocomplete: 'off', 'data-testid': 'ml-url', required: true });
  const inputs = {};
  const fieldErrors = {};
  const errorFor = (key) => (fieldErrors[key] = h('p', { class: 'pf-field-error', role: 'alert', hidden: true, 'data-testid': `ml-error-${key}` }));
  const numberFields = FIELDS.map(([key, label, min, max, dflt, help]) => {
    inputs[key] = h('input', { type: 'number', id: `ml-${key}`, min, max, value: dflt, 'data-testid': `ml-${key}` });
    return h('div', { class: 'pf-field' }, h('label', { for: `ml-${key}` }, label), inputs[key], h('p', { class: 'pf-help' }, help), errorFor(key));
  });
  const train = h('input', { type: 'checkbox', id: 'ml-train', checked: true, 'data-testid': 'ml-train' });
  const saveBtn = h('button', { type: 'submit', class: 'primary', 'data-action': 'ml-save' }, 'Connect');
  const removeBtn = h('button', { type: 'button', class: 'danger', 'data-action': 'ml-delete', hidden: true, onclick: disconnect }, 'Disconnect');
  const formError = h('p', { class: 'error', role: 'alert', hidden: true, 'data-testid': 'ml-form-error' });
  const form = h(
    'form',
    { class: 'pf-ml-form', novalidate: true },
    h('div', { class: 'pf-field' }, h('label', { for: 'ml-url' }, 'Backend URL'), urlInput, h('p', { class: 'pf-help' }, 'A Label Studio ML backend: Loupe calls its /setup, /predict, /webhook and /health.'), errorFor('url')),
    ...numberFields,
    h('div', { class: 'pf-field pf-check' }, train, h('label', { for: 'ml-train' }, 'Send accepted annotations to /webhook for training')),
    formError,
    h('div', { class: 'pf-actions' }, saveBtn, removeBtn),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    save();
  });

  // --- the status ---
  const statusBox = h('div', { class: 'pf-ml-status', 'data-testid': 'ml-status', 'aria-live': 'polite' });
  const statsBox = h('div', { class: 'pf-ml-stats', 'data-testid': 'model-stats' });

  el.append(
    h('h2', null, 'ML backend'),
    h('p', { class: 'note' }, 'Connect your own model: it pre-labels the open tasks, which annotators accept or fix. A slow or failing backend never holds anyone up; its errors show here.'),
    form,
    statusBox,
    h('h2', null, 'How the models fared'),
    statsBox,
  );

  function showErrors(e) {
    for (const p of Object.values(fieldErrors)) p.hidden = true;
    formError.hidden = true;
    if (!e) return;
    const target = e instanceof ApiError && e.field && fieldErrors[e.field];
    if (target) {
      target.textContent = e.message;
      target.hidden = false;
      (e.field === 'url' ? urlInput : inputs[e.field])?.focus();
    } else {
      formError.textContent = e.message;
      formError.hidden = false;
    }
  }

  function fill(s) {
    urlInput.value = s.url;
    for (const [key] of FIELDS) inputs[key].value = s[key];
    train.checked = !!s.train;
  }

  async function save() {
    showErrors(null);
    const body = { url: urlInput.value.trim(), train: train.checked };
    for (const [key] of FIELDS) if (inputs[key].value !== '') body[key] = Number(inputs[key].value);
    saveBtn.disabled = true;
    try {
      backend = await api.put(base, body);
      setStatus(`ML backend ${body.url} connected`, 'ok');
      render();
    } catch (e) {
      showErrors(e);
    } finally {
      saveBtn.disabled = false;
    }
  }

  async function disconnect() {
    if (!confirm('Disconnect the ML backend? Its predictions stay on the tasks.')) return;
    try {
      await api.del(base);
      backend = null;
      setStatus('ML backend disconnected', 'ok');
      render();
    } catch (e) {
      showErrors(e);
    }
  }

  async function requeue(tasks) {
    try {
      const r = await api.post(`${base}/predict`, { tasks });
      setStatus(`${r.queued} task${r.queued === 1 ? '' : 's'} queued for prediction`, 'ok');
      rounds = 0;
      refresh();
    } catch (e) {
      showErrors(e);
    }
  }

  function render() {
    saveBtn.textContent = backend ? 'Save settings' : 'Connect';
    removeBtn.hidden = !backend;
    if (!backend) {
      statusBox.replaceChildren(h('p', { class: 'note', 'data-testid': 'ml-none' }, 'No ML backend is connected.'));
      return;
    }
    const s = backend;
    const q = s.queue;
    const row = (k, v, id) => h('div', { class: 'pf-ml-row' }, h('dt', null, k), h('dd', id ? { 'data-testid': id } : null, v));
    const parts = [
      h(
        'dl',
        { class: 'pf-ml-facts' },
        row('State', h('span', { class: `pf-ml-state pf-ml-${s.state}` }, s.state), 'ml-state'),
        row('Health', s.health.status + (s.health.error ? ` — ${s.health.error}` : ''), 'ml-health'),
        row('Model version', s.model_version ?? '—', 'ml-version'),
        row('Predicted', String(s.predicted), 'ml-predicted'),
        row('Queue', `${q.waiting} waiting, ${q.in_flight} in flight, ${q.done} done, ${q.failed} failed`, 'ml-queue'),
        row('Calls', `${s.calls} (${s.failures} failed${s.failures_in_a_row ? `, ${s.failures_in_a_row} in a row` : ''})`),
        row('Training events', `${s.trained} sent${s.train_failures ? `, ${s.train_failures} dropped` : ''}`),
        row('Last success', when(s.last_ok_at)),
        s.paused_until ? row('Paused until', when(s.paused_until)) : null,
        s.last_error ? row('Last error', h('span', { class: 'pf-ml-error' }, `${s.last_error} (${when(s.last_error_at)})`), 'ml-last-error') : null,
      ),
      h(
        'div',
        { class: 'pf-actions' },
        h('button', { type: 'button', 'data-action': 'ml-predict-all', onclick: () => requeue('all') }, 'Predict all tasks again'),
        h('button', { type: 'button', 'data-action': 'ml-retry-failed', disabled: !q.failed, onclick: () => requeue('failed') }, 'Retry failed tasks'),
      ),
      s.task_errors.length
        ? h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'data-table', 'data-testid': 'ml-task-errors' },
              h('caption', { class: 'pf-ml-caption' }, 'Latest task errors'),
              h('thead', null, h('tr', null, ...['Task', 'State', 'Attempts', 'Error'].map((t) => h('th', { scope: 'col' }, t)))),
              h('tbody', null, ...s.task_errors.map((e) => h('tr', null, h('td', null, h('a', { href: `#/tasks/${e.task_id}` }, String(e.task_id))), h('td', null, e.state), h('td', null, String(e.attempts)), h('td', null, e.error)))),
            ),
          )
        : null,
    ];
    statusBox.replaceChildren(...parts.filter(Boolean));
  }

  function renderStats(stats) {
    const models = stats?.models ?? [];
    if (!models.length) {
      statsBox.replaceChildren(h('p', { class: 'note' }, 'No task has a prediction yet.'));
      return;
    }
    statsBox.replaceChildren(
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'data-table' },
          h('caption', { class: 'visually-hidden' }, 'Predictions by model'),
          h('thead', null, h('tr', null, ...['Model', 'Tasks', 'Annotated', 'Accepted unchanged', 'Agreement', 'Mean score'].map((t) => h('th', { scope: 'col' }, t)))),
          h(
            'tbody',
            null,
            ...models.map((m) =>
              h('tr', { 'data-model': m.model }, h('td', null, m.model), h('td', null, String(m.tasks)), h('td', null, String(m.annotated)), h('td', null, pct(m.unchanged_share)), h('td', null, pct(m.agreement)), h('td', null, m.mean_score === null ? '—' : m.mean_score.toFixed(2))),
            ),
          ),
        ),
      ),
    );
  }

  // The status is cheap and read every 3 s; how the models fared reads
  // every predicted task, so it is read when the tab opens, then when the
  // backend has predicted more (at most every 5 s), else every 30 s.
  let rounds = 0;
  let statsAt = 0;
  let statsPredicted = -1;
  async function refresh() {
    const since = Date.now() - statsAt;
    const withStats = rounds++ === 0 || since > 30000 || (since > 5000 && backend && backend.predicted !== statsPredicted);
    try {
      const [s, stats] = await Promise.all([
        api.get(base).catch((e) => (e instanceof ApiError && e.status === 404 ? null : Promise.reject(e))),
        withStats ? api.get(`/v1/projects/${pid}/predictions/stats`).catch(() => null) : undefined,
      ]);
      const first = backend === null && s !== null && !form.dataset.filled;
      backend = s;
      if (first) {
        fill(s);
        form.dataset.filled = '1';
      }
      render();
      if (withStats) {
        statsAt = Date.now();
        statsPredicted = s?.predicted ?? -1;
        renderStats(stats);
      }
    } catch (e) {
      statusBox.replaceChildren(h('p', { class: 'error', role: 'alert' }, `Could not read the ML backend's status: ${e.message}`));
    }
  }

  return {
    el,
    show() {
      rounds = 0;
      refresh();
      clearInterval(timer);
      timer = setInterval(() => (el.isConnected ? refresh() : clearInterval(timer)), 3000);
    },
    hide() {
      clearInterval(timer);
      timer = null;
    },
  };
}
