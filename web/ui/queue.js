// queue.js -- #/projects/ID/queue: the annotator's workspace, one task at
// a time.
//
//   GET  /v1/projects/ID                  the project (kind, params, lease_seconds)
//   GET  /v1/projects/ID/queue/next       a lease on the next task, or none
//   PUT  /v1/assignments/A/draft          every change, debounced (500 ms)
//   POST /v1/assignments/A/heartbeat      when under a third of the lease is left
//   POST /v1/assignments/A/submit         {annotation_id, response}, retried with
//                                         the same annotation_id until it lands
//   POST /v1/assignments/A/skip           {reason}
//
// The answer is drawn by the kind's editor (editors.js).  Work is never
// lost: each change is kept in localStorage at once and saved as the
// assignment's draft on the server; a reload gets the same assignment back
// from queue/next and restores it.

import { h, sleep, copyText, sentence, commitEdits } from './dom.js';
import { api, request } from './api.js';
import { setStatus } from './status.js';
import { editorFor } from './editors.js';
import { renderTask } from './task.js';
import { createLease } from './lease.js';
import { createWorkspace, backLink, plainKey, offerKey, enterOnControl } from './workspace.js';
import * as store from './store.js';

const DRAFT_DELAY_MS = 500;
const DRAFT_RETRY_MS = 5000;
const SUBMIT_BACKOFF_START_MS = 500;
const SUBMIT_BACKOFF_MAX_MS = 10000;

const GLOBAL_SHORTCUTS = [
  ['Enter', 'submit the answer'],
  ['Ctrl+Enter', 'submit the answer, also from inside a text box'],
  ['s', 'skip the task (asks why)'],
  ['i', 'show or hide the instructions'],
  ['?', 'show or hide this list'],
  ['Esc', 'close this list, the instructions or a dialog'],
];

export function renderQueue(root, { projectId }) {
  let alive = true;
  const s = {
    project: null,
    editor: null,
    inst: null, // the editor mounted for s.asg
    asg: null, // the assignment on screen
    mounted: false, // the editor is drawn for s.asg
    loading: false,
    submitting: false,
    done: false, // submitted, skipped or refused: no more edits
    draftTimer: 0,
    draftInflight: null,
    draftAgain: false,
    ui: null, // the per-task elements
  };

  /* ---- the page's frame ---- */

  const reason = h('input', { id: 'skip-reason', name: 'reason', type: 'text', autocomplete: 'off', maxlength: '1000', required: true });
  const skipError = h('p', { class: 'error', 'data-testid': 'skip-error', role: 'alert', hidden: true });
  const confirmSkipBtn = h('button', { type: 'submit', class: 'primary', 'data-action': 'confirm-skip' }, 'Skip this task');
  const skipDialog = h(
    'dialog',
    { class: 'dialog', 'data-testid': 'skip-dialog', 'aria-labelledby': 'skip-title' },
    h(
      'form',
      { novalidate: true, onsubmit: (ev) => (ev.preventDefault(), confirmSkip()) },
      h('h2', { id: 'skip-title' }, 'Skip this task'),
      h('p', { class: 'muted' }, 'The task goes back to the queue for someone else.'),
      h('div', { class: 'field' }, h('label', { for: 'skip-reason' }, 'Why are you skipping it?'), reason),
      skipError,
      h('div', { class: 'form-actions' }, confirmSkipBtn, h('button', { type: 'button', 'data-action': 'cancel-skip', onclick: () => skipDialog.close() }, 'Cancel')),
    ),
  );

  const ws = createWorkspace(root, { idPrefix: 'ws', title: 'Loading…', after: [skipDialog], clearTask: () => stopTask() });
  const { title, leaseEl, body } = ws;

  /* The lease on the assignment on screen: its timer and heartbeats. */
  const lease = createLease({
    timerEl: leaseEl,
    getAssignment: () => s.asg,
    isDone: () => s.done,
    isBusy: () => s.submitting,
    heldFor: 'you',
    expiredText: 'Lease expired: submitting still works while the task needs you',
    onLost: (e) => setStatus(`The lease on this task ended. ${sentence(e.message)}`, 'warn'),
  });

  /* ---- showing states ---- */

  const message = ws.panel;

  function showEmpty(text) {
    message(
      'empty',
      'No more tasks',
      text ? sentence(text) : 'There is nothing for you to label in this project right now.',
      h('div', { class: 'form-actions' }, backLink(), h('button', { type: 'button', 'data-action': 'check-again', onclick: () => loadNext() }, 'Check again')),
    );
  }

  function showLoadError(e, retry) {
    if (e.code === 'paused') {
      message('paused', 'You are paused on this project', `The server said: ${e.message}`, h('div', { class: 'form-actions' }, backLink()));
      return;
    }
    ws.errorPanel(e, retry, 'The task could not be loaded', sentence(e.message));
  }

  /* ---- loading ---- */

  async function init() {
    try {
      s.project = await api.get(`/v1/projects/${projectId}`);
    } catch (e) {
      if (!alive || e.status === 401) return;
      title.textContent = 'Project';
      if (e.status === 404) message('error', 'Project not found', 'This project does not exist, or you are not a member of it.', h('div', { class: 'form-actions' }, backLink()));
      else showLoadError(e, init);
      return;
    }
    if (!alive) return;
    const p = s.project;
    title.textContent = p.name;
    document.title = `${p.name} · Loupe`;
    s.editor = editorFor(p.kind);
    ws.setInstructions(p.params?.instructions);
    ws.drawShortcuts([{ rows: [...(s.editor?.shortcuts || []), ...GLOBAL_SHORTCUTS] }]);
    await loadNext();
  }

  async function loadNext() {
    if (!alive || s.loading) return;
    s.loading = true;
    ws.loading('Loading the next task…');
    let r;
    try {
      r = await api.get(`/v1/projects/${projectId}/queue/next`);
    } catch (e) {
      s.loading = false;
      if (!alive || e.status === 401) return;
      showLoadError(e, () => loadNext());
      return;
    } finally {
      s.loading = false;
    }
    if (!alive) return;
    if (!r || !r.assignment) showEmpty(r?.message);
    else showAssignment(r.assignment);
  }

  /* ---- one assignment ---- */

  function stopTask() {
    clearTimeout(s.draftTimer);
    s.draftTimer = 0;
    if (s.mounted) s.inst?.unmount?.();
    s.mounted = false;
    s.inst = null;
    s.asg = null;
    s.ui = null;
    s.done = false;
    s.submitting = false;
    if (skipDialog.open) skipDialog.close();
  }

  function showAssignment(a) {
    stopTask();
    s.asg = a;
    lease.begin(a, s.project.lease_seconds);

    const error = h('div', { class: 'error', 'data-testid': 'error', role: 'alert', hidden: true });
    const editorEl = h('div', { class: 'editor-body' });
    const editorHost = h('fieldset', { class: 'editor', 'data-testid': 'editor', tabindex: '-1' }, h('legend', { class: 'visually-hidden' }, 'Your answer'), editorEl);
    const submitBtn = h(
      'button',
      { type: 'button', class: 'primary', 'data-action': 'submit', disabled: true, 'aria-keyshortcuts': 'Enter', onclick: () => submit() },
      'Submit ',
      h('kbd', { 'aria-hidden': 'true' }, 'Enter'),
    );
    const skipBtn = h('button', { type: 'button', 'data-action': 'skip', 'aria-keyshortcuts': 's', onclick: () => openSkip() }, 'Skip');
    const outcome = h('div', { class: 'card outcome', hidden: true });
    s.ui = { error, editorHost, submitBtn, skipBtn, outcome };

    body.replaceChildren(
      h('p', { class: 'task-meta muted' }, `Task ${a.task_id ?? a.task?.id ?? ''}`),
      renderTask(a.task || {}, { input: !s.editor?.showsTask }),
      editorHost,
      error,
      h('div', { class: 'actions' }, submitBtn, skipBtn),
      outcome,
    );

    // The draft: the browser's copy if the server never got it, else the server's.
    let value = a.draft ?? null;
    let restored = a.draft !== null && a.draft !== undefined;
    const local = store.readDraft(a.id);
    let unsaved = false;
    if (local && !local.saved && local.value !== undefined && local.value !== null) {
      unsaved = JSON.stringify(local.value) !== JSON.stringify(value);
      value = local.value;
      restored = true;
    }

    if (s.editor) {
      s.inst = s.editor.mount(editorEl, { params: s.project.params || {}, task: a.task || {}, value, onChange, assignment: a });
      s.mounted = true;
    } else {
      editorEl.replaceChildren(
        h(
          'p',
          { class: 'note', 'data-testid': 'no-editor' },
          `This kind has no editor in the browser yet (${s.project.kind}). You can skip the task, or answer it through the API.`,
        ),
      );
    }
    updateButtons();
    lease.update();
    if (restored && s.editor) setStatus('Draft restored', 'info');
    if (unsaved) scheduleDraft(0);
  }

  function valid() {
    return !!(s.mounted && s.inst && (s.inst.valid ? s.inst.valid() : true));
  }

  function updateButtons() {
    if (!s.ui) return;
    const locked = s.done || s.submitting;
    s.ui.submitBtn.disabled = locked || !valid();
    s.ui.skipBtn.disabled = locked;
    s.ui.editorHost.disabled = s.done || s.submitting;
  }

  function showError(text) {
    if (!s.ui) return;
    s.ui.error.textContent = text || '';
    s.ui.error.hidden = !text;
  }

  /* ---- drafts ---- */

  function onChange(value) {
    const a = s.asg;
    if (!a || s.done || s.submitting) return;
    store.writeDraft(a.id, value, false);
    showError('');
    updateButtons();
    scheduleDraft(DRAFT_DELAY_MS);
  }

  function scheduleDraft(ms) {
    clearTimeout(s.draftTimer);
    s.draftTimer = setTimeout(() => saveDraft(), ms);
  }

  /* Sends the browser's unsaved draft of the assignment on screen; one
   * request at a time, the last value wins. */
  function saveDraft({ keepalive = false } = {}) {
    clearTimeout(s.draftTimer);
    s.draftTimer = 0;
    const a = s.asg;
    if (!a || !s.mounted || s.done || s.submitting) return null;
    const local = store.readDraft(a.id);
    if (!local || local.saved) return null;
    if (s.draftInflight && !keepalive) {
      s.draftAgain = true;
      return s.draftInflight;
    }
    const value = local.value;
    if (!keepalive) setStatus('Saving draft…', 'busy');
    const p = request('PUT', `/v1/assignments/${a.id}/draft`, value, { keepalive })
      .then(() => {
        store.markDraftSaved(a.id, value);
        if (alive && s.asg === a && !s.done && !s.submitting) setStatus('Draft saved', 'ok');
      })
      .catch((e) => {
        if (!alive || s.asg !== a || s.done || s.submitting || e.status === 401) return;
        if (e.retryable) {
          setStatus('Draft not saved yet: it is kept in this browser, and will be sent again', 'warn');
          scheduleDraft(DRAFT_RETRY_MS);
        } else {
          setStatus(`Draft not saved. ${sentence(e.message)}`, 'error');
        }
      });
    if (keepalive) return p;
    s.draftInflight = p.finally(() => {
      s.draftInflight = null;
      if (s.draftAgain) {
        s.draftAgain = false;
        saveDraft();
      }
    });
    return s.draftInflight;
  }

  /* ---- submit ---- */

  async function submit() {
    const a = s.asg;
    if (!a || !s.mounted || s.submitting || s.done) return;
    commitEdits(s.ui.editorHost); // Ctrl+Enter from a field not yet committed
    if (!valid()) {
      setStatus('Your answer is not complete yet', 'warn');
      return;
    }
    const response = s.inst.value();
    const annotationId = store.annotationId(a.id);
    store.writeDraft(a.id, response, store.readDraft(a.id)?.saved ?? false);
    clearTimeout(s.draftTimer);
    s.draftTimer = 0;
    s.submitting = true;
    showError('');
    updateButtons();
    setStatus('Submitting…', 'busy');
    let delay = SUBMIT_BACKOFF_START_MS;
    for (;;) {
      try {
        await request('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: annotationId, response });
      } catch (e) {
        if (!alive || s.asg !== a) return;
        if (e.status === 401) {
          s.submitting = false; // the login page comes; the annotation_id is kept for the retry
          return;
        }
        if (e.retryable) {
          setStatus('Retrying…', 'warn');
          await sleep(delay);
          delay = Math.min(delay * 2, SUBMIT_BACKOFF_MAX_MS);
          if (!alive || s.asg !== a) return;
          continue;
        }
        s.submitting = false;
        if (e.status === 409) refused(a, e, response);
        else {
          showError(`Not submitted. The server said: ${e.message}`);
          setStatus('Not submitted', 'error');
          updateButtons();
        }
        return;
      }
      break;
    }
    store.forget(a.id);
    s.submitting = false;
    s.done = true;
    setStatus('Submitted', 'ok');
    if (alive) loadNext();
  }

  /* A 409: the answer is kept by the server but not counted.  Say why,
   * and keep the answer on screen to copy. */
  function refused(a, e, response) {
    s.done = true;
    store.forget(a.id);
    updateButtons();
    lease.update();
    const leaseLost = /lease|assignment|no longer active/i.test(e.message);
    showError(`${leaseLost ? 'Your lease on this task was lost, so this answer was not counted.' : 'This answer was not counted.'} The server said: ${e.message}`);
    setStatus('Not submitted', 'error');
    const compact = JSON.stringify(response);
    const text = compact && compact.length > 80 ? JSON.stringify(response, null, 2) : compact;
    const copied = h('span', { class: 'muted', role: 'status' });
    const ui = s.ui;
    ui.outcome.setAttribute('data-testid', leaseLost ? 'lease-lost' : 'refused');
    ui.outcome.replaceChildren(
      h('h2', null, leaseLost ? 'Lease lost' : 'Answer not counted'),
      h('p', null, leaseLost ? 'Someone else now holds this task. Here is your answer, so you can keep it:' : 'Here is your answer, so you can keep it:'),
      h('pre', { class: 'answer', 'data-testid': 'answer' }, text),
      h(
        'div',
        { class: 'form-actions' },
        h(
          'button',
          {
            type: 'button',
            'data-action': 'copy-answer',
            onclick: async () => {
              copied.textContent = (await copyText(text)) ? 'Copied.' : 'Copying failed: select the text above and copy it.';
            },
          },
          'Copy answer',
        ),
        h('button', { type: 'button', class: 'primary', 'data-action': 'next', onclick: () => loadNext() }, 'Next task'),
        copied,
      ),
    );
    ui.outcome.hidden = false;
  }

  /* ---- skip ---- */

  function openSkip() {
    if (!s.asg || s.done || s.submitting || skipDialog.open) return;
    ws.closeOverlay();
    reason.value = '';
    skipError.hidden = true;
    confirmSkipBtn.disabled = false;
    skipDialog.showModal();
    reason.focus();
  }

  async function confirmSkip() {
    const a = s.asg;
    if (!a || s.done || confirmSkipBtn.disabled) return;
    const why = reason.value.trim();
    if (!why) {
      skipError.textContent = 'Say why you skip the task.';
      skipError.hidden = false;
      reason.focus();
      return;
    }
    confirmSkipBtn.disabled = true;
    skipError.hidden = true;
    clearTimeout(s.draftTimer);
    s.draftTimer = 0;
    try {
      await api.post(`/v1/assignments/${a.id}/skip`, { reason: why });
    } catch (e) {
      confirmSkipBtn.disabled = false;
      if (!alive || s.asg !== a || e.status === 401) return;
      if (e.status === 409) {
        skipDialog.close();
        refused(a, e, s.inst && s.mounted ? s.inst.value() : null);
        return;
      }
      skipError.textContent = e.status === 0 ? 'Cannot reach the server. Try again.' : `Not skipped. The server said: ${e.message}`;
      skipError.hidden = false;
      return;
    }
    store.forget(a.id);
    s.done = true;
    skipDialog.close();
    setStatus('Skipped', 'ok');
    if (alive) loadNext();
  }

  skipDialog.addEventListener('close', () => {
    if (alive && s.ui && !s.done) s.ui.skipBtn.focus({ preventScroll: true });
  });

  /* ---- keyboard ---- */

  function onKey(ev) {
    if (ev.defaultPrevented || ev.isComposing || skipDialog.open) return;
    if (ev.key === 'Escape') {
      // An open overlay first; else the editor may use it (cancel a shape
      // being drawn, leave a mode).
      if (ws.closeOverlay()) ev.preventDefault();
      else if (s.asg && s.mounted && !s.done && !s.submitting && s.inst?.keys?.(ev)) ev.preventDefault();
      return;
    }
    // Ctrl+Enter (Cmd+Enter on a Mac) submits from anywhere, text boxes
    // included, where a plain Enter is a new line.
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey) && !ev.altKey && !ev.shiftKey) {
      if (!(s.asg && s.mounted && !s.done && !s.submitting)) return;
      ev.preventDefault();
      if (!ev.repeat) submit();
      return;
    }
    if (!plainKey(ev)) return;
    if (ev.key === '?') {
      ev.preventDefault();
      ws.toggleShortcuts();
      return;
    }
    const working = s.asg && s.mounted && !s.done && !s.submitting;
    if (working && offerKey(s.inst, ev, s.ui.editorHost)) return;
    if (ev.key === 'Enter') {
      if (enterOnControl(ev) || !working) return;
      ev.preventDefault();
      if (!ev.repeat) submit();
      return;
    }
    if (ev.key === 's' || ev.key === 'S') {
      if (s.asg && !s.done && !s.submitting) {
        ev.preventDefault();
        openSkip();
      }
      return;
    }
    if (ev.key === 'i' || ev.key === 'I') {
      if (ws.toggleInstructions()) ev.preventDefault();
    }
  }

  function onBeforeUnload(ev) {
    if (s.asg && !s.done) saveDraft({ keepalive: true });
    if (s.submitting) {
      ev.preventDefault();
      ev.returnValue = '';
    }
  }

  function onVisibility() {
    if (document.visibilityState === 'hidden' && s.asg && !s.done) saveDraft({ keepalive: true });
  }

  document.addEventListener('keydown', onKey);
  window.addEventListener('beforeunload', onBeforeUnload);
  document.addEventListener('visibilitychange', onVisibility);
  lease.start();

  init();

  return () => {
    // Leaving the page: send what is not saved yet, then stop.
    const pending = s.asg && !s.done ? saveDraft({ keepalive: true }) : null;
    alive = false;
    lease.stop();
    document.removeEventListener('keydown', onKey);
    window.removeEventListener('beforeunload', onBeforeUnload);
    document.removeEventListener('visibilitychange', onVisibility);
    stopTask();
    return pending;
  };
}
