// review.js -- #/projects/ID/review: the reviewer's queue, one task at a
// time, at the review level it waits at.
//
//   GET  /v1/projects/ID                    the project (kind, params, review_levels)
//   GET  /v1/projects/ID/reviews/next       a lease on the next task to review
//   GET  /v1/tasks/T/annotations            the answers the result was made from
//   GET  /v1/tasks/T/versions               the result's versions (shown with diffs)
//   GET  /v1/projects/ID/members            the workers' emails
//   POST /v1/assignments/A/heartbeat        when under a third of the lease is left
//   PUT  /v1/assignments/A/draft            a fix in progress (debounced), so a
//                                           reload does not lose it
//   POST /v1/assignments/A/review           {action: accept | reject + comment |
//                                           fix + response}
//   POST /v1/assignments/A/release          "Stop reviewing": give the task back
//
// The result and every annotation are drawn read-only by the kind's editor
// (editors.js); Fix mounts the result's editor editable, and Save fix shows
// the difference from the result (diff.js) before it is sent.

import { h, append, sleep, sentence, commitEdits } from './dom.js';
import { api, request } from './api.js';
import { setStatus } from './status.js';
import { editorFor } from './editors.js';
import { renderTask } from './task.js';
import { renderDiff, diffJson, formatPath, formatValue, sameJson } from './diff.js';
import { loadPeople, mountResponse, unmountAll, renderAnnotations, renderVersions, renderDecision } from './taskbrowser.js';
import { createLease } from './lease.js';
import { createWorkspace, backLink, plainKey, offerKey, enterOnControl } from './workspace.js';
import * as store from './store.js';

/* Replaces el's children; null and false children are left out. */
const fill = (el, ...kids) => {
  el.replaceChildren();
  return append(el, kids);
};

const DRAFT_DELAY_MS = 500;
const DRAFT_RETRY_MS = 5000;
const DECIDE_BACKOFF_START_MS = 500;
const DECIDE_BACKOFF_MAX_MS = 10000;
const DECIDE_TRIES = 8;
const ESC_AGAIN_MS = 3000;

const VIEW_SHORTCUTS = [
  ['a', 'accept the result'],
  ['r', 'reject: send the task back to annotation (asks why)'],
  ['f', 'fix the result in place'],
];
const FIX_SHORTCUTS = [
  ['Enter', 'while fixing: check the changes, then save the fix'],
  ['Esc', 'while fixing: stop fixing (twice if you changed something)'],
];
const GLOBAL_SHORTCUTS = [
  ['i', 'show or hide the instructions'],
  ['?', 'show or hide this list'],
  ['Esc', 'close this list, the instructions or a dialog'],
];

const DONE_WORDS = { accept: 'Accepted', reject: 'Sent back', fix: 'Fixed' };

export function renderReview(root, { projectId }) {
  let alive = true;
  const mounts = []; // read-only editor instances (annotations, versions)
  const s = {
    project: null,
    editor: null,
    people: new Map(),
    asg: null,
    mode: 'view', // 'view' | 'fix'
    inst: null, // the result's editor instance (read-only, or editable while fixing)
    fixChanged: false,
    escAt: 0,
    deciding: false,
    done: false,
    draftTimer: 0,
    draftInflight: null,
    draftAgain: false,
    loading: false,
    ui: null,
  };

  /* ---- the page's frame ---- */

  const tasksLink = h('a', { class: 'button quiet', href: `#/projects/${projectId}/tasks`, 'data-testid': 'tasks-link' }, 'All tasks');
  const lastDone = h('div', { class: 'rv-last', 'data-testid': 'last-done', hidden: true });

  // Reject: a comment is required.
  const comment = h('textarea', { id: 'rv-comment', name: 'comment', rows: '4', maxlength: '4000', required: true, 'aria-describedby': 'rv-comment-help' });
  const rejectError = h('p', { class: 'error', 'data-testid': 'reject-error', role: 'alert', hidden: true });
  const confirmRejectBtn = h('button', { type: 'submit', class: 'primary', 'data-action': 'confirm-reject' }, 'Send back to annotation');
  const rejectDialog = h(
    'dialog',
    { class: 'dialog', 'data-testid': 'reject-dialog', 'aria-labelledby': 'rv-reject-title' },
    h(
      'form',
      { novalidate: true, onsubmit: (ev) => (ev.preventDefault(), confirmReject()) },
      h('h2', { id: 'rv-reject-title' }, 'Reject this result'),
      h('p', { class: 'muted', id: 'rv-comment-help' }, 'The task goes back to annotation; its annotators see your comment. Ctrl+Enter sends.'),
      h('div', { class: 'field' }, h('label', { for: 'rv-comment' }, 'What should the annotators change?'), comment),
      rejectError,
      h('div', { class: 'form-actions' }, confirmRejectBtn, h('button', { type: 'button', 'data-action': 'cancel-reject', onclick: () => rejectDialog.close() }, 'Cancel')),
    ),
  );
  comment.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      confirmReject();
    }
  });
  comment.addEventListener('input', () => {
    rejectError.hidden = true;
  });

  // Save fix: the changes, shown before they are sent.
  const fixDiffBox = h('div', { class: 'rv-fix-diff' });
  const fixError = h('p', { class: 'error', 'data-testid': 'fix-error', role: 'alert', hidden: true });
  const fixConfirmBtn = h('button', { type: 'submit', class: 'primary', 'data-action': 'confirm-fix' }, 'Save fix');
  const fixTitle = h('h2', { id: 'rv-fix-title' }, 'Save this fix?');
  const fixDialog = h(
    'dialog',
    { class: 'dialog rv-fix-dialog', 'data-testid': 'fix-dialog', 'aria-labelledby': 'rv-fix-title' },
    h(
      'form',
      { novalidate: true, onsubmit: (ev) => (ev.preventDefault(), confirmFix()) },
      fixTitle,
      fixDiffBox,
      fixError,
      h('div', { class: 'form-actions' }, fixConfirmBtn, h('button', { type: 'button', 'data-action': 'keep-editing', onclick: () => fixDialog.close() }, 'Keep editing')),
    ),
  );

  const ws = createWorkspace(root, {
    idPrefix: 'rv',
    title: 'Review',
    className: 'workspace review',
    tools: [tasksLink],
    above: [lastDone],
    after: [rejectDialog, fixDialog],
    clearTask: () => stopTask(),
  });
  const { title, leaseEl, body } = ws;

  /* The lease on the assignment on screen: its timer and heartbeats. */
  const lease = createLease({
    timerEl: leaseEl,
    getAssignment: () => s.asg,
    isDone: () => s.done,
    isBusy: () => s.deciding,
    heldFor: 'your review',
    expiredText: 'Lease expired: another reviewer may take this task',
    onLost: (e) => setStatus(`Your lease on this review ended. ${sentence(e.message)}`, 'warn'),
  });

  /* ---- states without a task ---- */

  const message = ws.panel;

  function showEmpty(text) {
    message(
      'empty',
      'Nothing to review',
      `${text ? sentence(text) : 'No task waits for your review in this project right now.'} Tasks arrive here once they have all their answers; you never review a task you annotated, or one you reviewed at another level.`,
      h(
        'div',
        { class: 'form-actions' },
        h('button', { type: 'button', class: 'primary', 'data-action': 'check-again', onclick: () => loadNext() }, 'Check again'),
        h('a', { class: 'button', href: `#/projects/${projectId}/tasks` }, 'Browse the tasks'),
        backLink(),
      ),
    );
  }

  function showLoadError(e, retry) {
    if (e.code === 'paused') {
      message('paused', 'You are paused on this project', `${sentence(e.message)} Until then you cannot review here.`, h('div', { class: 'form-actions' }, backLink()));
      return;
    }
    if (e.status === 403) {
      message(
        'forbidden',
        'You are not a reviewer of this project',
        `Reviewing needs the reviewer or manager role in the project; a manager can give it to you. (The server said: ${sentence(e.message)})`,
        h('div', { class: 'form-actions' }, h('a', { class: 'button primary', href: `#/projects/${projectId}/queue` }, 'Label tasks instead'), backLink()),
      );
      return;
    }
    if (e.status === 404) {
      message('not-found', 'Project not found', 'This project does not exist, or you are not a member of it.', h('div', { class: 'form-actions' }, backLink()));
      return;
    }
    ws.errorPanel(e, retry, 'The review could not be loaded', e.status === 0 ? 'Cannot reach the server. Check your connection.' : sentence(e.message));
  }

  /* ---- loading ---- */

  async function init() {
    try {
      s.project = await api.get(`/v1/projects/${projectId}`);
    } catch (e) {
      if (!alive || e.status === 401) return;
      showLoadError(e, init);
      return;
    }
    if (!alive) return;
    const p = s.project;
    title.textContent = `Review · ${p.name}`;
    document.title = `Review · ${p.name} · Loupe`;
    s.editor = editorFor(p.kind);
    ws.setInstructions(p.params?.instructions);
    const editorRows = (s.editor?.shortcuts || []).map(([k, what]) => [k, `while fixing: ${what}`]);
    ws.drawShortcuts([
      { heading: 'Reviewing', rows: VIEW_SHORTCUTS },
      { heading: 'Fixing', rows: [...editorRows, ...FIX_SHORTCUTS] },
      { heading: 'Anywhere', rows: GLOBAL_SHORTCUTS },
    ]);
    if (!(p.review_levels > 0)) {
      message(
        'no-review',
        'This project has no review',
        'Its tasks are completed as soon as they have their answers. A manager can add review levels in the project settings.',
        h('div', { class: 'form-actions' }, h('a', { class: 'button', href: `#/projects/${projectId}/tasks` }, 'Browse the tasks'), backLink()),
      );
      return;
    }
    const people = await loadPeople(projectId).catch(() => null);
    if (!alive) return;
    if (people) s.people = people.people;
    await loadNext();
  }

  async function loadNext() {
    if (!alive || s.loading) return;
    s.loading = true;
    ws.loading('Loading the next task to review…');
    let r;
    try {
      r = await api.get(`/v1/projects/${projectId}/reviews/next`);
    } catch (e) {
      s.loading = false;
      if (!alive || e.status === 401) return;
      showLoadError(e, () => loadNext());
      return;
    }
    s.loading = false;
    if (!alive) return;
    if (!r || !r.assignment) showEmpty(r?.message);
    else showAssignment(r.assignment);
  }

  /* ---- one review assignment ---- */

  function stopTask() {
    clearTimeout(s.draftTimer);
    s.draftTimer = 0;
    try {
      s.inst?.unmount?.();
    } catch (e) {
      console.error(e);
    }
    s.inst = null;
    unmountAll(mounts);
    s.asg = null;
    s.ui = null;
    s.mode = 'view';
    s.fixChanged = false;
    s.done = false;
    s.deciding = false;
    if (rejectDialog.open) rejectDialog.close();
    if (fixDialog.open) fixDialog.close();
  }

  function result() {
    return s.asg?.task?.result || null;
  }

  function showAssignment(a) {
    stopTask();
    s.asg = a;
    lease.begin(a, s.project.lease_seconds);
    const task = a.task || {};
    const level = Number(a.level || task.review_level || 1);
    const levels = Number(s.project.review_levels) || level;
    const res = task.result;

    const error = h('div', { class: 'error', 'data-testid': 'error', role: 'alert', hidden: true });
    const resultHost = h('div', { class: 'rv-result-host' });
    const editorHost = h('fieldset', { class: 'editor rv-editor', 'data-testid': 'editor', 'data-mode': 'view', tabindex: '-1' }, h('legend', { class: 'visually-hidden' }, 'The result'), resultHost);
    const fixPreview = h('div', { class: 'rv-fix-preview', 'data-testid': 'fix-preview', 'aria-live': 'polite', hidden: true });
    const resultHeading = h('h2', { id: 'rv-result-title' }, 'The result to review');
    const conf = res && Number.isFinite(res.confidence) ? `${Math.round(res.confidence * 1000) / 10}%` : '—';
    const resultMeta = res
      ? h(
          'p',
          { class: 'rv-result-meta muted', 'data-testid': 'result-meta' },
          `Confidence ${conf} · method ${res.method ?? '—'} · from ${res.annotations ?? 0} ${res.annotations === 1 ? 'answer' : 'answers'}`,
        )
      : null;

    const btn = (action, text, key, cls, onclick) =>
      h('button', { type: 'button', class: cls || null, 'data-action': action, 'aria-keyshortcuts': key || null, onclick }, text, key ? h('kbd', { 'aria-hidden': 'true' }, key) : null);
    const acceptBtn = btn('accept', 'Accept ', 'a', 'primary', () => accept());
    const rejectBtn = btn('reject', 'Reject… ', 'r', null, () => openReject());
    const fixBtn = btn('fix', 'Fix ', 'f', null, () => enterFix());
    const saveFixBtn = btn('save-fix', 'Save fix… ', 'Enter', 'primary', () => saveFix());
    const cancelFixBtn = btn('cancel-fix', 'Stop fixing ', 'Esc', null, () => cancelFix());
    const releaseBtn = h('button', { type: 'button', class: 'quiet', 'data-action': 'release', onclick: () => release() }, 'Stop reviewing');
    const viewActions = h('div', { class: 'actions rv-actions', 'data-testid': 'review-actions' }, acceptBtn, rejectBtn, fixBtn, h('span', { class: 'rv-spacer' }), releaseBtn);
    const fixActions = h('div', { class: 'actions rv-actions', 'data-testid': 'fix-actions', hidden: true }, saveFixBtn, cancelFixBtn);
    const outcome = h('div', { class: 'card outcome', hidden: true });

    const annBox = h('div', null, h('p', { class: 'muted' }, 'Loading the annotations…'));
    const verBox = h('div', null, h('p', { class: 'muted' }, 'Loading the versions…'));
    s.ui = { error, editorHost, resultHost, fixPreview, resultHeading, acceptBtn, rejectBtn, fixBtn, saveFixBtn, cancelFixBtn, releaseBtn, viewActions, fixActions, outcome };

    const previous = renderDecision(task.review, s.people, { testid: 'previous-decision' });
    fill(body,
      h(
        'div',
        { class: 'rv-meta' },
        h('span', { class: 'task-meta muted' }, `Task ${a.task_id ?? task.id}`, task.unique_id ? ` · ${task.unique_id}` : ''),
        h('span', { class: 'badge rv-level', 'data-testid': 'review-level', 'data-level': level }, `Review level ${level} of ${levels}`),
        h('a', { class: 'rv-open', href: `#/tasks/${task.id}`, target: '_blank', rel: 'noopener' }, 'Open the full task ↗'),
      ),
      previous ? h('div', { class: 'rv-previous' }, h('p', { class: 'muted' }, 'The last decision on this task:'), previous) : null,
      renderTask(task, { input: !s.editor?.showsTask }),
      h('section', { class: 'rv-result card', 'aria-labelledby': 'rv-result-title', 'data-testid': 'result-section' }, resultHeading, resultMeta, editorHost, fixPreview),
      error,
      viewActions,
      fixActions,
      outcome,
      h('section', { class: 'rv-section', 'aria-label': 'Annotations', 'data-testid': 'review-annotations' }, h('h2', null, 'Annotations'), annBox),
      h('section', { class: 'rv-section', 'aria-label': 'Versions of the result', 'data-testid': 'review-versions' }, h('h2', null, 'Versions of the result'), verBox),
    );

    // A fix in progress (this browser's, else the server's draft) comes back.
    const local = store.readDraft(a.id);
    let draft = a.draft ?? null;
    let unsaved = false;
    if (local && !local.saved && local.value !== undefined) {
      unsaved = JSON.stringify(local.value) !== JSON.stringify(draft);
      draft = local.value;
    }
    if (!res) {
      resultHost.replaceChildren(h('p', { class: 'note' }, 'This task has no result to review. Reject it to send it back to annotation, or fix it.'));
    }
    if (draft !== null && draft !== undefined && s.editor) {
      enterFix(draft);
      setStatus('Your unfinished fix was restored', 'info');
      if (unsaved) scheduleDraft(0);
    } else {
      mountResult();
      setStatus(`Reviewing task ${task.id} at level ${level}`, 'info');
    }
    updateButtons();
    lease.update();
    loadDetails(a, annBox, verBox);
  }

  async function loadDetails(a, annBox, verBox) {
    const task = a.task || {};
    const [annR, verR] = await Promise.allSettled([api.get(`/v1/tasks/${task.id}/annotations`), api.get(`/v1/tasks/${task.id}/versions`)]);
    if (!alive || s.asg !== a) return;
    const ctx = { project: s.project, editor: s.editor, task, people: s.people, mounts, result: task.result, collapseOthers: true };
    if (annR.status === 'fulfilled') annBox.replaceChildren(renderAnnotations(annR.value?.items || [], ctx));
    else annBox.replaceChildren(h('p', { class: 'error' }, `The annotations could not be loaded: ${sentence(annR.reason?.message)}`));
    if (verR.status === 'fulfilled') verBox.replaceChildren(renderVersions(verR.value?.items || [], { people: s.people, current: task.result?.response }));
    else verBox.replaceChildren(h('p', { class: 'error' }, `The versions could not be loaded: ${sentence(verR.reason?.message)}`));
  }

  /* The result, read-only. */
  function mountResult() {
    const ui = s.ui;
    const res = result();
    try {
      s.inst?.unmount?.();
    } catch (e) {
      console.error(e);
    }
    s.inst = null;
    s.mode = 'view';
    ui.editorHost.dataset.mode = 'view';
    ui.resultHeading.textContent = 'The result to review';
    ui.fixPreview.hidden = true;
    if (!res) return;
    ui.resultHost.replaceChildren();
    const local = [];
    s.inst = mountResponse(ui.resultHost, { project: s.project, editor: s.editor, task: s.asg.task, value: res.response, mounts: local, testid: 'result' });
  }

  /* ---- fixing ---- */

  function enterFix(start) {
    const a = s.asg;
    if (!a || s.done || s.deciding || s.mode === 'fix') return;
    const ui = s.ui;
    if (!s.editor) {
      showError(`This kind (${s.project.kind}) has no editor in the browser yet, so the result cannot be fixed here. Accept or reject it, or fix it through the API.`);
      return;
    }
    ws.closeOverlay();
    const res = result();
    const value = start !== undefined ? start : res ? res.response : null;
    try {
      s.inst?.unmount?.();
    } catch (e) {
      console.error(e);
    }
    s.inst = null;
    const el = h('div', { class: 'editor-body' });
    ui.resultHost.replaceChildren(el);
    try {
      s.inst = s.editor.mount(el, { params: s.project.params || {}, task: a.task || {}, value, onChange: onFixChange });
    } catch (e) {
      console.error(e);
      showError('The editor could not be opened for this result.');
      mountResult();
      return;
    }
    s.mode = 'fix';
    s.escAt = 0;
    ui.editorHost.dataset.mode = 'fix';
    ui.resultHeading.textContent = 'Your fix of the result';
    s.fixChanged = !!(res && !sameJson(s.inst.value(), res.response));
    ui.fixPreview.hidden = false;
    drawFixPreview();
    showError('');
    updateButtons();
    ui.editorHost.focus({ preventScroll: true });
    setStatus('Fixing: change the answer, then save the fix (Enter)', 'info');
  }

  function drawFixPreview() {
    const ui = s.ui;
    const res = result();
    if (!ui || s.mode !== 'fix' || !s.inst) return;
    const value = s.inst.value();
    ui.fixPreview.replaceChildren(h('h3', null, 'Your changes to the result'), res ? renderDiff(res.response, value, { testid: 'fix-live-diff' }) : h('p', { class: 'muted' }, 'There was no result: your answer becomes it.'));
  }

  function onFixChange(value) {
    const a = s.asg;
    if (!a || s.mode !== 'fix' || s.done || s.deciding) return;
    const res = result();
    s.fixChanged = !res || !sameJson(value, res.response);
    s.escAt = 0;
    store.writeDraft(a.id, value, false);
    showError('');
    drawFixPreview();
    updateButtons();
    scheduleDraft(DRAFT_DELAY_MS);
  }

  function cancelFix() {
    const a = s.asg;
    if (!a || s.mode !== 'fix' || s.deciding) return;
    mountResult();
    s.fixChanged = false;
    // Forget the fix here and on the server.
    clearTimeout(s.draftTimer);
    s.draftTimer = 0;
    store.forget(a.id);
    request('PUT', `/v1/assignments/${a.id}/draft`, null).catch(() => {});
    updateButtons();
    s.ui.fixBtn.focus({ preventScroll: true });
    setStatus('Fix discarded', 'info');
  }

  function saveFix() {
    const a = s.asg;
    if (!a || s.mode !== 'fix' || s.done || s.deciding || fixDialog.open) return;
    commitEdits(s.ui.editorHost);
    if (s.inst?.valid && !s.inst.valid()) {
      setStatus('The fix is not complete yet', 'warn');
      showError('The fixed answer is not complete yet: finish it before saving.');
      return;
    }
    const res = result();
    const value = s.inst.value();
    fixError.hidden = true;
    fixConfirmBtn.disabled = false;
    if (res && sameJson(value, res.response)) {
      fixTitle.textContent = 'Nothing changed';
      fixDiffBox.replaceChildren(h('p', null, 'Your fix is the same as the result. Accept the result as it is instead?'));
      fixConfirmBtn.replaceChildren('Accept the result');
      fixConfirmBtn.dataset.then = 'accept';
    } else {
      fixTitle.textContent = 'Save this fix?';
      fixDiffBox.replaceChildren(
        h('p', { class: 'muted' }, 'Your fix replaces the result (a new version of it), then the task moves on as if accepted.'),
        res ? renderDiff(res.response, value, { testid: 'fix-diff', from: 'the result', to: 'your fix' }) : h('pre', { class: 'task-json' }, JSON.stringify(value, null, 2)),
      );
      fixConfirmBtn.replaceChildren('Save fix');
      fixConfirmBtn.dataset.then = 'fix';
    }
    fixDialog.showModal();
    fixConfirmBtn.focus();
  }

  async function confirmFix() {
    const a = s.asg;
    if (!a || fixConfirmBtn.disabled) return;
    if (fixConfirmBtn.dataset.then === 'accept') {
      fixDialog.close();
      await decide('accept', {});
      return;
    }
    fixConfirmBtn.disabled = true;
    const response = s.inst.value();
    await decide('fix', { response }, (text) => {
      fixError.textContent = text;
      fixError.hidden = false;
      fixConfirmBtn.disabled = false;
    });
  }

  /* ---- drafts of a fix ---- */

  function scheduleDraft(ms) {
    clearTimeout(s.draftTimer);
    s.draftTimer = setTimeout(() => saveDraft(), ms);
  }

  function saveDraft({ keepalive = false } = {}) {
    clearTimeout(s.draftTimer);
    s.draftTimer = 0;
    const a = s.asg;
    if (!a || s.mode !== 'fix' || s.done || s.deciding) return null;
    const local = store.readDraft(a.id);
    if (!local || local.saved) return null;
    if (s.draftInflight && !keepalive) {
      s.draftAgain = true;
      return s.draftInflight;
    }
    const value = local.value;
    const p = request('PUT', `/v1/assignments/${a.id}/draft`, value, { keepalive })
      .then(() => {
        store.markDraftSaved(a.id, value);
      })
      .catch((e) => {
        if (!alive || s.asg !== a || s.done || s.deciding || e.status === 401) return;
        if (e.retryable) scheduleDraft(DRAFT_RETRY_MS);
        else setStatus(`Your fix in progress was not saved on the server (it is kept in this browser). ${sentence(e.message)}`, 'warn');
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

  /* ---- buttons and errors ---- */

  function updateButtons() {
    const ui = s.ui;
    if (!ui) return;
    const locked = s.done || s.deciding;
    const fixing = s.mode === 'fix';
    ui.viewActions.hidden = fixing;
    ui.fixActions.hidden = !fixing;
    ui.acceptBtn.disabled = locked || !result();
    ui.rejectBtn.disabled = locked;
    ui.fixBtn.disabled = locked || !s.editor;
    ui.fixBtn.title = s.editor ? null : 'This kind has no editor in the browser yet';
    ui.releaseBtn.disabled = locked;
    ui.saveFixBtn.disabled = locked || !(s.inst && (s.inst.valid ? s.inst.valid() : true));
    ui.cancelFixBtn.disabled = locked;
    ui.editorHost.disabled = locked;
  }

  function showError(text) {
    if (!s.ui) return;
    s.ui.error.textContent = text || '';
    s.ui.error.hidden = !text;
  }

  /* ---- decisions ---- */

  function accept() {
    if (!s.asg || s.mode !== 'view' || s.done || s.deciding || !result()) return;
    decide('accept', {});
  }

  function openReject() {
    if (!s.asg || s.done || s.deciding || rejectDialog.open) return;
    ws.closeOverlay();
    comment.value = '';
    rejectError.hidden = true;
    confirmRejectBtn.disabled = false;
    rejectDialog.showModal();
    comment.focus();
  }

  async function confirmReject() {
    if (!s.asg || confirmRejectBtn.disabled) return;
    const why = comment.value.trim();
    if (!why) {
      rejectError.textContent = 'Say what the annotators should change: they will see your comment.';
      rejectError.hidden = false;
      comment.focus();
      return;
    }
    confirmRejectBtn.disabled = true;
    rejectError.hidden = true;
    await decide('reject', { comment: why }, (text) => {
      rejectError.textContent = text;
      rejectError.hidden = false;
      confirmRejectBtn.disabled = false;
    });
  }

  /* After a request that got no answer, whether the decision landed: the
   * assignment is then submitted with the action as its reason. */
  async function landed(a, action) {
    try {
      const r = await api.get(`/v1/assignments/${a.id}`);
      return r?.status === 'submitted' && r?.reason === action;
    } catch {
      return false;
    }
  }

  /* Sends the decision; on success goes to the next task.  onRefused(text)
   * shows a refusal where the decision was made (a dialog), else the page
   * shows it. */
  async function decide(action, extra, onRefused) {
    const a = s.asg;
    if (!a || s.done || s.deciding) return;
    s.deciding = true;
    clearTimeout(s.draftTimer);
    s.draftTimer = 0;
    showError('');
    updateButtons();
    setStatus(action === 'accept' ? 'Accepting…' : action === 'fix' ? 'Saving the fix…' : 'Sending back…', 'busy');
    const res = result();
    let delay = DECIDE_BACKOFF_START_MS;
    let unsure = false; // an earlier try may have landed
    let answer = null;
    for (let tries = 1; ; tries++) {
      try {
        answer = await api.post(`/v1/assignments/${a.id}/review`, { action, ...extra });
        break;
      } catch (e) {
        if (!alive || s.asg !== a) return;
        if (e.status === 401) {
          s.deciding = false;
          return;
        }
        if (e.status === 0) unsure = true;
        if (e.status === 409 && unsure && (await landed(a, action))) break;
        if (e.retryable && tries < DECIDE_TRIES) {
          setStatus('The server did not answer: trying again…', 'warn');
          await sleep(delay);
          delay = Math.min(delay * 2, DECIDE_BACKOFF_MAX_MS);
          if (!alive || s.asg !== a) return;
          continue;
        }
        s.deciding = false;
        if (e.status === 409) {
          refused(a, e);
          return;
        }
        const text = e.status === 0 ? 'Not saved: cannot reach the server. Try again.' : `Not saved. The server said: ${sentence(e.message)}`;
        setStatus('Not saved', 'error');
        if (onRefused) onRefused(text);
        else showError(text);
        updateButtons();
        return;
      }
    }
    if (!alive || s.asg !== a) return;
    store.forget(a.id);
    s.done = true;
    if (rejectDialog.open) rejectDialog.close();
    if (fixDialog.open) fixDialog.close();
    const taskStatus = answer?.task_status;
    const next = taskStatus === 'completed' ? 'it is completed' : taskStatus === 'pending' ? 'it is back in annotation' : taskStatus === 'review' ? 'it moves to the next review level' : '';
    setStatus(`${DONE_WORDS[action]}: task ${a.task_id}${next ? `, ${next}` : ''}`, 'ok');
    noteDone(a, action, extra, res, next);
    loadNext();
  }

  /* The decision just made, above the next task, with a link to the task. */
  function noteDone(a, action, extra, res, next) {
    const parts = [h('strong', null, `${DONE_WORDS[action]}:`), ' ', h('a', { href: `#/tasks/${a.task_id}`, 'data-testid': 'last-task-link' }, `task ${a.task_id}`), next ? ` (${next})` : ''];
    if (action === 'reject') parts.push(' with the comment ', h('q', null, extra.comment));
    if (action === 'fix' && res) {
      const changes = diffJson(res.response, extra.response);
      const shown = changes.slice(0, 3).map((c) => `${formatPath(c.path)}: ${c.op === 'add' ? `+ ${formatValue(c.new)}` : c.op === 'remove' ? `− ${formatValue(c.old)}` : c.op === 'move' ? `moved` : `${formatValue(c.old)} → ${formatValue(c.new)}`}`);
      if (shown.length) parts.push(' — ', h('span', { class: 'rv-last-diff', 'data-testid': 'last-diff' }, shown.join('; ') + (changes.length > 3 ? `; and ${changes.length - 3} more` : '')));
    }
    lastDone.dataset.action = action;
    lastDone.replaceChildren(h('p', null, ...parts));
    lastDone.hidden = false;
  }

  /* A 409: the lease ended or the task moved on; nothing was decided. */
  function refused(a, e) {
    s.done = true;
    store.forget(a.id);
    if (rejectDialog.open) rejectDialog.close();
    if (fixDialog.open) fixDialog.close();
    updateButtons();
    lease.update();
    setStatus('Not saved: this review is no longer yours', 'error');
    const ui = s.ui;
    ui.outcome.setAttribute('data-testid', 'lease-lost');
    ui.outcome.replaceChildren(
      h('h2', null, 'This review ended'),
      h('p', null, `Your decision was not saved: the lease on this task ended, or the task moved on. The server said: ${sentence(e.message)}`),
      h('div', { class: 'form-actions' }, h('button', { type: 'button', class: 'primary', 'data-action': 'next', onclick: () => loadNext() }, 'Next task')),
    );
    ui.outcome.hidden = false;
    ui.outcome.querySelector('button')?.focus();
  }

  async function release() {
    const a = s.asg;
    if (!a || s.done || s.deciding) return;
    s.deciding = true;
    updateButtons();
    try {
      await api.post(`/v1/assignments/${a.id}/release`, { reason: 'the reviewer stopped' });
    } catch (e) {
      s.deciding = false;
      if (!alive || s.asg !== a || e.status === 401) return;
      if (e.status !== 409) {
        updateButtons();
        showError(`The task was not given back. ${e.status === 0 ? 'Cannot reach the server.' : `The server said: ${sentence(e.message)}`}`);
        return;
      }
    }
    store.forget(a.id);
    s.done = true;
    setStatus(`Task ${a.task_id} given back for another reviewer`, 'ok');
    location.hash = '#/projects';
  }

  rejectDialog.addEventListener('close', () => {
    if (alive && s.ui && !s.done) s.ui.rejectBtn.focus({ preventScroll: true });
  });
  fixDialog.addEventListener('close', () => {
    if (alive && s.ui && !s.done && s.mode === 'fix') s.ui.editorHost.focus({ preventScroll: true });
  });

  /* ---- keyboard ---- */

  function onKey(ev) {
    if (ev.defaultPrevented || ev.isComposing || rejectDialog.open || fixDialog.open) return;
    if (ev.key === 'Escape') {
      if (ws.closeOverlay()) {
        ev.preventDefault();
        return;
      }
      if (s.mode === 'fix' && !s.deciding && !s.done) {
        ev.preventDefault();
        if (!s.fixChanged || (s.escAt && Date.now() - s.escAt < ESC_AGAIN_MS)) cancelFix();
        else {
          s.escAt = Date.now();
          setStatus('Press Esc again to discard your changes to the result', 'warn');
        }
      }
      return;
    }
    if (!plainKey(ev)) return;
    if (ev.key === '?') {
      ev.preventDefault();
      ws.toggleShortcuts();
      return;
    }
    const working = s.asg && !s.done && !s.deciding;
    if (s.mode === 'fix') {
      if (working && offerKey(s.inst, ev, s.ui.editorHost)) return;
      if (ev.key === 'Enter') {
        if (enterOnControl(ev) || !working) return;
        ev.preventDefault();
        if (!ev.repeat) saveFix();
        return;
      }
    } else if (working) {
      const k = ev.key.toLowerCase();
      if (k === 'a' && !ev.repeat) {
        ev.preventDefault();
        accept();
        return;
      }
      if (k === 'r') {
        ev.preventDefault();
        openReject();
        return;
      }
      if (k === 'f') {
        ev.preventDefault();
        enterFix();
        return;
      }
    }
    if (ev.key === 'i' || ev.key === 'I') {
      if (ws.toggleInstructions()) ev.preventDefault();
    }
  }

  function onBeforeUnload() {
    if (s.asg && !s.done && s.mode === 'fix') saveDraft({ keepalive: true });
  }

  function onVisibility() {
    if (document.visibilityState === 'hidden' && s.asg && !s.done && s.mode === 'fix') saveDraft({ keepalive: true });
  }

  document.addEventListener('keydown', onKey);
  window.addEventListener('beforeunload', onBeforeUnload);
  document.addEventListener('visibilitychange', onVisibility);
  lease.start();

  init();

  return () => {
    const pending = s.asg && !s.done && s.mode === 'fix' ? saveDraft({ keepalive: true }) : null;
    alive = false;
    lease.stop();
    document.removeEventListener('keydown', onKey);
    window.removeEventListener('beforeunload', onBeforeUnload);
    document.removeEventListener('visibilitychange', onVisibility);
    stopTask();
    return pending;
  };
}
