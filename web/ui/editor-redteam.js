// editor-redteam.js -- the answer editor for `redteam` projects
// (docs/KINDS.md): the attack brief (data.goal), the conversation with the
// project's model, a box to write the next attack turn, and the labels:
// did the attack succeed, the harm category, its severity, notes.
//
// Sending a turn POSTs the conversation so far and the new message to
// /v1/assignments/{id}/chat, which answers with server-sent events: the
// model's text arrives in "delta" events and is drawn as it comes, then a
// "done" event closes the turn (or an "error" event, shown inline with a
// Retry).  The turn joins the conversation only once the model has
// answered, so the conversation (and the response given to onChange, which
// the workspace saves as a draft) always alternates and ends with the
// model.  Sending stops after params.max_turns turns.
//
// The response is {"conversation": [{role, content, model?}], "success",
// "category"?, "severity"?, "notes"?} exactly as KINDS.md says: severity
// only when the attack succeeded.
//
// Keys (when not typing): y / n the attack succeeded or not; 1-9 the
// severity (the k-th point of the scale); c the category; m the message
// box, where Ctrl+Enter sends; Esc leaves a box.  The interface every
// editor follows is in editors.js.

import { h } from './dom.js';
import { request, csrfToken } from './api.js';
import { instanceId } from './responses.js';

function categoriesOf(params) {
  const list = Array.isArray(params?.harm_categories) ? params.harm_categories : [];
  return list.map((c) => (typeof c === 'string' ? { name: c } : c)).filter((c) => c && typeof c.name === 'string' && c.name !== '');
}

/* The turns of a stored conversation that fit the rules (user first,
 * alternating, strings), cut to whole turns. */
function cleanConversation(v) {
  const out = [];
  if (!Array.isArray(v)) return out;
  for (const m of v) {
    const want = out.length % 2 === 0 ? 'user' : 'assistant';
    if (!m || m.role !== want || typeof m.content !== 'string') break;
    const t = { role: m.role, content: m.content };
    if (typeof m.model === 'string' && m.model) t.model = m.model;
    out.push(t);
  }
  if (out.length % 2) out.pop();
  return out;
}

/* Reads a server-sent event stream, calling onEvent with each event's
 * parsed data. */
async function readEvents(body, onEvent) {
  const reader = body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const ev = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = ev
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).trimStart())
        .join('\n');
      if (data) onEvent(JSON.parse(data));
    }
  }
}

export const redteamEditor = {
  kind: 'redteam',
  showsTask: true,

  shortcuts: [
    ['m', 'write the next attack turn (Ctrl+Enter sends it)'],
    ['y / n', 'the attack succeeded / failed'],
    ['1 – 9', 'the severity (the k-th point of the scale)'],
    ['c', 'choose the harm category'],
    ['Esc', 'leave the message or notes box'],
  ],

  mount(el, { params, task, value, onChange, readOnly = false, assignment = null }) {
    const uid = instanceId('rtm');
    const cats = categoriesOf(params);
    const sevMin = Number.isInteger(params?.severity?.min) ? params.severity.min : 1;
    const sevMax = Number.isInteger(params?.severity?.max) && params.severity.max > sevMin ? params.severity.max : Math.max(sevMin + 1, 5);
    const maxTurns = Number.isInteger(params?.max_turns) && params.max_turns > 0 ? params.max_turns : 5;
    const goal = typeof task?.data?.goal === 'string' ? task.data.goal : '';
    const suggested = typeof task?.data?.category === 'string' ? task.data.category : '';
    const canChat = !readOnly && !!assignment && assignment.id != null;
    let alive = true;
    let inflight = null; // the AbortController of the turn being streamed

    // ---- the state ----
    const st = {
      conv: cleanConversation(value?.conversation),
      success: typeof value?.success === 'boolean' ? value.success : null,
      category: typeof value?.category === 'string' && cats.some((c) => c.name === value.category) ? value.category : '',
      severity: Number.isInteger(value?.severity) && value.severity >= sevMin && value.severity <= sevMax ? value.severity : null,
      notes: typeof value?.notes === 'string' ? value.notes : '',
      pending: null, // {text, answer, error} while a turn is out or failed
    };

    const turns = () => st.conv.length / 2;

    function current() {
      const out = { conversation: st.conv.map((m) => ({ ...m })) };
      if (st.success !== null) out.success = st.success;
      if (st.category) out.category = st.category;
      if (st.success === true && st.severity !== null) out.severity = st.severity;
      const notes = st.notes.trim();
      if (notes) out.notes = notes;
      return out;
    }

    function missing() {
      const out = [];
      if (!st.conv.length) out.push('at least one attack and the model\u2019s answer');
      if (st.success === null) out.push('whether the attack succeeded');
      if (st.success === true && !st.category) out.push('the harm category');
      if (st.success === true && st.severity === null) out.push('the severity');
      return out;
    }

    const changed = () => {
      render();
      onChange?.(current());
    };

    // ---- the brief ----
    const brief = h(
      'section',
      { class: 'rtm-brief', 'data-testid': 'rtm-goal', 'aria-labelledby': `${uid}-goal` },
      h('h3', { class: 'rtm-title', id: `${uid}-goal` }, 'Goal'),
      goal ? h('p', { class: 'rtm-goal-text' }, goal) : h('p', { class: 'muted' }, 'No goal given: probe the model for any of the harm categories below.'),
      suggested ? h('p', { class: 'rtm-suggest muted' }, 'Suggested category: ', h('strong', null, suggested)) : null,
    );

    // ---- the conversation ----
    const log = h('ol', { class: 'rtm-log', 'data-testid': 'rtm-transcript', 'aria-live': 'polite', 'aria-label': 'Conversation' });
    const turnCount = h('span', { class: 'rtm-count muted', 'data-testid': 'rtm-turns' });

    function bubble(role, text, { model = '', streaming = false, testid = null } = {}) {
      return h(
        'li',
        { class: `rtm-msg rtm-${role}${streaming ? ' is-streaming' : ''}`, 'data-role': role, 'data-testid': testid },
        h('span', { class: 'rtm-who' }, role === 'user' ? 'You' : model ? `Model \u00b7 ${model}` : 'Model'),
        h('div', { class: 'rtm-text' }, text, streaming ? h('span', { class: 'rtm-caret', 'aria-hidden': 'true' }) : null),
      );
    }

    const errorBox = h('div', { class: 'rtm-error', role: 'alert', 'data-testid': 'rtm-error', hidden: true });

    function renderLog() {
      const items = st.conv.map((m) => bubble(m.role, m.content, { model: m.model }));
      if (st.pending) {
        items.push(bubble('user', st.pending.text, { testid: 'rtm-pending' }));
        if (!st.pending.error) items.push(bubble('assistant', st.pending.answer, { streaming: true, testid: 'rtm-streaming' }));
      }
      if (!items.length) items.push(h('li', { class: 'rtm-empty muted' }, readOnly ? 'No conversation.' : 'No turns yet: write the first attack below.'));
      log.replaceChildren(...items);
      log.scrollTop = log.scrollHeight;
      turnCount.textContent = `Turn ${Math.min(turns() + (st.pending ? 1 : 0), maxTurns)} of ${maxTurns}`;
      if (st.pending?.error) {
        errorBox.replaceChildren(
          h('span', null, `The model did not answer: ${st.pending.error}`),
          h('button', { type: 'button', class: 'rtm-retry', 'data-action': 'retry', onclick: () => send(st.pending.text) }, 'Retry'),
          h('button', { type: 'button', class: 'link', 'data-action': 'discard', onclick: () => discard() }, 'Discard'),
        );
        errorBox.hidden = false;
      } else {
        errorBox.hidden = true;
      }
    }

    // ---- the composer ----
    const box = h('textarea', {
      class: 'rtm-input',
      rows: 3,
      id: `${uid}-input`,
      'data-testid': 'rtm-input',
      placeholder: 'Write the next attack turn\u2026',
      'aria-keyshortcuts': 'Control+Enter',
      onkeydown: (ev) => {
        if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
          ev.preventDefault();
          ev.stopPropagation();
          sendBox();
        } else if (ev.key === 'Escape') {
          box.blur();
        }
      },
      oninput: () => renderComposer(),
    });
    const sendBtn = h('button', { type: 'button', class: 'primary', 'data-action': 'send', 'data-testid': 'rtm-send', onclick: () => sendBox() }, 'Send ', h('kbd', { 'aria-hidden': 'true' }, 'Ctrl+Enter'));
    const composerNote = h('p', { class: 'rtm-note muted', 'data-testid': 'rtm-composer-note' });
    const composer = canChat
      ? h(
          'div',
          { class: 'rtm-composer' },
          h('label', { class: 'rtm-label', for: `${uid}-input` }, 'Your next message ', turnCount),
          box,
          h('div', { class: 'rtm-composer-actions' }, composerNote, sendBtn),
        )
      : null;

    function renderComposer() {
      if (!composer) return;
      const busy = !!st.pending && !st.pending.error;
      const full = turns() >= maxTurns;
      box.disabled = busy || full || !!st.pending?.error;
      sendBtn.disabled = box.disabled || !box.value.trim();
      composerNote.textContent = busy
        ? 'The model is answering\u2026'
        : full
          ? `The conversation has reached its ${maxTurns} turn${maxTurns > 1 ? 's' : ''}: label it below.`
          : st.pending?.error
            ? 'Retry or discard the failed turn first.'
            : '';
    }

    function sendBox() {
      const text = box.value.trim();
      if (!text || box.disabled) return;
      send(text);
    }

    function discard() {
      if (st.pending?.error) box.value = st.pending.text;
      st.pending = null;
      render();
    }

    /* Sends text as the next user turn and streams the answer in. */
    async function send(text) {
      if (!canChat || turns() >= maxTurns || (st.pending && !st.pending.error)) return;
      st.pending = { text, answer: '', error: null };
      box.value = '';
      render();
      const messages = [...st.conv.map(({ role, content }) => ({ role, content })), { role: 'user', content: text }];
      const ac = new AbortController();
      inflight = ac;
      let done = null;
      let failure = null;
      try {
        for (let attempt = 0; ; attempt++) {
          const headers = { 'Content-Type': 'application/json', Accept: 'text/event-stream', 'X-Requested-With': 'fetch' };
          const token = csrfToken();
          if (token) headers['X-CSRF-Token'] = token;
          const res = await fetch(`/v1/assignments/${assignment.id}/chat`, {
            method: 'POST',
            credentials: 'same-origin',
            cache: 'no-store',
            headers,
            body: JSON.stringify({ messages }),
            signal: ac.signal,
          });
          if ((res.headers.get('Content-Type') || '').startsWith('text/event-stream')) {
            await readEvents(res.body, (ev) => {
              if (!alive || !st.pending) return;
              if (typeof ev.delta === 'string') {
                st.pending.answer += ev.delta;
                const live = log.querySelector('[data-testid="rtm-streaming"] .rtm-text');
                if (live) live.firstChild.textContent = st.pending.answer;
                else renderLog();
                log.scrollTop = log.scrollHeight;
              } else if (ev.done) done = ev;
              else if (typeof ev.error === 'string') failure = ev.error;
            });
            if (!done && !failure) failure = 'the answer was cut off';
            break;
          }
          let body = null;
          try {
            body = await res.json();
          } catch {
            /* not JSON */
          }
          const err = body?.error || {};
          // The session's token changed (another tab): get it again, once.
          if (res.status === 403 && err.field === 'X-CSRF-Token' && attempt === 0) {
            await request('GET', '/v1/me');
            continue;
          }
          failure = err.message || `the server answered ${res.status}`;
          break;
        }
      } catch (e) {
        if (e?.name === 'AbortError' || !alive) return;
        failure = 'cannot reach the server';
      } finally {
        if (inflight === ac) inflight = null;
      }
      if (!alive) return;
      if (done) {
        const reply = { role: 'assistant', content: typeof done.content === 'string' ? done.content : st.pending.answer };
        if (typeof done.model === 'string' && done.model) reply.model = done.model;
        st.conv.push({ role: 'user', content: text }, reply);
        st.pending = null;
        changed();
        if (turns() < maxTurns) box.focus();
      } else {
        st.pending.error = failure;
        render();
      }
    }

    // ---- the labels ----
    const yes = h('button', { type: 'button', class: 'rtm-opt', 'data-success': 'true', 'aria-pressed': 'false', 'aria-keyshortcuts': 'y', disabled: readOnly, onclick: () => setSuccess(true) }, h('kbd', { class: 'key', 'aria-hidden': 'true' }, 'y'), ' Succeeded');
    const no = h('button', { type: 'button', class: 'rtm-opt', 'data-success': 'false', 'aria-pressed': 'false', 'aria-keyshortcuts': 'n', disabled: readOnly, onclick: () => setSuccess(false) }, h('kbd', { class: 'key', 'aria-hidden': 'true' }, 'n'), ' Failed');
    const successRow = h('div', { class: 'rtm-row' }, h('span', { class: 'rtm-label', id: `${uid}-success` }, 'Did the attack succeed?'), h('div', { class: 'rtm-seg', role: 'group', 'aria-labelledby': `${uid}-success`, 'data-testid': 'rtm-success' }, yes, no));

    const select = h(
      'select',
      { id: `${uid}-cat`, class: 'rtm-select', 'data-testid': 'rtm-category', disabled: readOnly, 'aria-keyshortcuts': 'c', onchange: () => setCategory(select.value) },
      h('option', { value: '' }, '\u2014 choose \u2014'),
      ...cats.map((c) => h('option', { value: c.name, title: c.description || null }, c.name)),
    );
    const catRow = h('div', { class: 'rtm-row' }, h('label', { class: 'rtm-label', for: `${uid}-cat` }, 'Harm category'), select);

    const sevButtons = [];
    for (let v = sevMin, k = 1; v <= sevMax; v++, k++) {
      sevButtons.push(
        h(
          'button',
          { type: 'button', class: 'rtm-sev', 'data-severity': String(v), 'aria-pressed': 'false', disabled: readOnly, title: k <= 9 ? `key ${k}` : null, onclick: () => setSeverity(v) },
          String(v),
        ),
      );
    }
    const sevRow = h(
      'div',
      { class: 'rtm-row', 'data-testid': 'rtm-severity-row' },
      h('span', { class: 'rtm-label', id: `${uid}-sev` }, 'Severity'),
      h('div', { class: 'rtm-sevs', role: 'group', 'aria-labelledby': `${uid}-sev`, 'data-testid': 'rtm-severity' }, ...sevButtons),
      h('span', { class: 'rtm-scale muted' }, `${sevMin} = least harmful, ${sevMax} = most`),
    );

    const notes = h('textarea', {
      id: `${uid}-notes`,
      class: 'rtm-notes',
      rows: 2,
      'data-testid': 'rtm-notes',
      disabled: readOnly,
      value: st.notes,
      placeholder: 'What worked, what the model said that it should not have\u2026',
      oninput: () => {
        st.notes = notes.value;
        onChange?.(current());
        renderStatus();
      },
      onkeydown: (ev) => ev.key === 'Escape' && notes.blur(),
    });
    const notesRow = h('div', { class: 'rtm-row rtm-row-notes' }, h('label', { class: 'rtm-label', for: `${uid}-notes` }, 'Notes ', h('span', { class: 'muted' }, '(optional)')), notes);
    const status = h('p', { class: 'rtm-status muted', 'data-testid': 'rtm-status', 'aria-live': 'polite' });

    const labels = h('section', { class: 'rtm-labels', 'aria-label': 'Labels', 'data-testid': 'rtm-labels' }, h('h3', { class: 'rtm-title' }, 'Labels'), successRow, catRow, sevRow, notesRow, readOnly ? null : status);

    function setSuccess(v) {
      if (readOnly) return;
      st.success = v;
      if (v && !st.category && suggested && cats.some((c) => c.name === suggested)) st.category = suggested;
      changed();
    }
    function setCategory(v) {
      if (readOnly) return;
      st.category = v;
      changed();
    }
    function setSeverity(v) {
      if (readOnly || st.success !== true) return;
      st.severity = st.severity === v ? null : v;
      changed();
    }

    function renderStatus() {
      const m = missing();
      status.textContent = m.length ? `Still needed: ${m.join(', ')}.` : 'Ready to submit.';
      status.classList.toggle('is-ready', !m.length);
    }

    function render() {
      renderLog();
      renderComposer();
      yes.setAttribute('aria-pressed', String(st.success === true));
      no.setAttribute('aria-pressed', String(st.success === false));
      select.value = st.category;
      const sevOn = st.success === true;
      sevRow.classList.toggle('is-disabled', !sevOn);
      for (const b of sevButtons) {
        b.setAttribute('aria-pressed', String(sevOn && Number(b.dataset.severity) === st.severity));
        b.disabled = readOnly || !sevOn;
      }
      renderStatus();
    }

    el.replaceChildren(
      h(
        'div',
        { class: `rtm${readOnly ? ' rtm-readonly' : ''}`, 'data-testid': 'rtm-editor' },
        brief,
        h('section', { class: 'rtm-chat', 'aria-label': 'Conversation with the model' }, h('h3', { class: 'rtm-title' }, 'Conversation'), log, errorBox, composer),
        labels,
      ),
    );
    if (!canChat && !readOnly) log.after(h('p', { class: 'muted rtm-note' }, 'The conversation cannot go on here: only its annotator can chat, while they hold the task.'));
    render();

    return {
      value: current,
      valid: () => missing().length === 0 && !(st.pending && !st.pending.error),
      keys(ev) {
        if (readOnly || ev.ctrlKey || ev.metaKey || ev.altKey) return false;
        const k = ev.key;
        if (k === 'y' || k === 'Y') return setSuccess(true), true;
        if (k === 'n' || k === 'N') return setSuccess(false), true;
        if (k === 'c') return select.focus(), true;
        if (k === 'm' && composer && !box.disabled) return box.focus(), true;
        if (/^[1-9]$/.test(k)) {
          const b = sevButtons[Number(k) - 1];
          if (b && st.success === true) return setSeverity(Number(b.dataset.severity)), true;
        }
        return false;
      },
      unmount() {
        alive = false;
        inflight?.abort();
      },
    };
  },
};
