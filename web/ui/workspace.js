// workspace.js -- the frame of a page that works on one task at a time: the
// annotator's workspace (queue.js) and the reviewer's page (review.js).
//
//   ← Projects   Title                 [lease] [tools…] [Instructions] [Shortcuts ?]
//   instructions panel (the project's markdown, toggled with i)
//   shortcuts overlay  (the page's keys in groups, toggled with ?)
//   [above…]
//   body               (the task, a loading line, or a message panel)
//   [after…]           (the page's dialogs)
//
// The page keeps its own wording, keys and tasks; this module draws the
// frame and its overlays the same way for both:
//
//   const ws = createWorkspace(root, { idPrefix: 'ws', title: 'Loading…', clearTask: () => stopTask(), ... });
//   ws.setInstructions(project.params?.instructions);
//   ws.drawShortcuts([{ heading: 'Reviewing', rows: [['a', 'accept']] }, ...]);
//   ws.toggleShortcuts(); ws.toggleInstructions(); ws.closeOverlay();
//   ws.loading('Loading the next task…'); ws.panel('empty', 'No more tasks', text, ...more);
//
// Keys: the page's keydown handler stays the page's (the order of its keys
// is its own), with plainKey(), offerKey() and enterOnControl() for the
// checks both make.

import { h, isTyping } from './dom.js';
import { renderMarkdown } from './markdown.js';

const TYPING_NOTE = 'Plain keys do nothing while you type in a text field; Ctrl and Alt shortcuts still work.';

/* Fills root with the page's frame.  Options:
 *   idPrefix   prefix of the overlays' ids ('ws' → ws-instructions, ws-shortcuts)
 *   title      the heading's text until the project is known
 *   className  the section's classes (default 'workspace')
 *   tools      elements between the lease timer and the Instructions button
 *   above      elements between the overlays and the body
 *   after      elements after the body (dialogs)
 *   clearTask  () => void, called before a loading line or a panel takes the
 *              body: the page drops the task on screen
 * Returns the elements (el, title, leaseEl, body, instructions, shortcuts,
 * instrBtn, keysBtn) and the functions below. */
export function createWorkspace(root, { idPrefix, title: titleText = 'Loading…', className = 'workspace', tools = [], above = [], after = [], clearTask = () => {} }) {
  const instrId = `${idPrefix}-instructions`;
  const keysId = `${idPrefix}-shortcuts`;

  const title = h('h1', { class: 'ws-title' }, titleText);
  const leaseEl = h('span', { class: 'lease', 'data-testid': 'lease', role: 'timer', hidden: true });
  const instrBtn = h(
    'button',
    { type: 'button', class: 'quiet', 'data-action': 'instructions', 'aria-expanded': 'false', 'aria-controls': instrId, hidden: true, onclick: () => toggleInstructions() },
    'Instructions',
  );
  const keysBtn = h(
    'button',
    { type: 'button', class: 'quiet', 'data-action': 'shortcuts', 'aria-expanded': 'false', 'aria-controls': keysId, onclick: () => toggleShortcuts() },
    'Shortcuts ',
    h('kbd', { 'aria-hidden': 'true' }, '?'),
  );
  const instructions = h('section', { id: instrId, class: 'instructions card', 'data-testid': 'instructions', 'aria-label': 'Instructions', hidden: true });
  const shortcuts = h('section', { id: keysId, class: 'shortcuts', 'data-testid': 'shortcuts', role: 'dialog', 'aria-label': 'Keyboard shortcuts', hidden: true });
  const body = h('div', { class: 'ws-body' }, h('p', { class: 'muted' }, 'Loading…'));

  const el = h(
    'section',
    { class: className },
    h('div', { class: 'ws-head' }, h('a', { class: 'back', href: '#/projects' }, '← Projects'), title, h('div', { class: 'ws-tools' }, leaseEl, tools, instrBtn, keysBtn)),
    instructions,
    shortcuts,
    above,
    body,
    after,
  );
  root.replaceChildren(el);

  /* ---- overlays ---- */

  /* Shows the project's instructions (markdown) and their button; without
   * any (not a string, or blank) both stay hidden and i does nothing. */
  function setInstructions(src) {
    const text = typeof src === 'string' ? src.trim() : '';
    if (!text) return;
    instructions.replaceChildren(h('h2', null, 'Instructions'), h('div', { class: 'md' }, renderMarkdown(text)));
    instrBtn.hidden = false;
  }

  /* Opens, closes (open given) or flips the instructions; false when the
   * project has none. */
  function toggleInstructions(open = instructions.hidden) {
    if (instrBtn.hidden) return false;
    instructions.hidden = !open;
    instrBtn.setAttribute('aria-expanded', String(open));
    return true;
  }

  /* Opens, closes or flips the shortcuts; opening puts the focus on it. */
  function toggleShortcuts(open = shortcuts.hidden) {
    shortcuts.hidden = !open;
    keysBtn.setAttribute('aria-expanded', String(open));
    if (open) shortcuts.querySelector('button')?.focus({ preventScroll: true });
  }

  /* The key list: groups = [{heading?, rows: [[key, what], ...]}], drawn in
   * order; a group without rows is left out, one without a heading has
   * no h3. */
  function drawShortcuts(groups) {
    const drawn = groups
      .filter((g) => g.rows.length)
      .flatMap((g) => [
        ...(g.heading ? [h('h3', null, g.heading)] : []),
        h('dl', null, g.rows.map(([k, what]) => h('div', { class: 'shortcut' }, h('dt', null, h('kbd', null, k)), h('dd', null, what)))),
      ]);
    shortcuts.replaceChildren(
      h('h2', null, 'Keyboard shortcuts'),
      ...drawn,
      h('p', { class: 'muted' }, TYPING_NOTE),
      h('button', { type: 'button', class: 'quiet', 'data-action': 'close-shortcuts', onclick: () => (toggleShortcuts(false), keysBtn.focus()) }, 'Close'),
    );
  }

  /* Closes the top overlay (Escape); false if none was open. */
  function closeOverlay() {
    if (!shortcuts.hidden) {
      toggleShortcuts(false);
      keysBtn.focus({ preventScroll: true });
      return true;
    }
    if (!instructions.hidden) {
      toggleInstructions(false);
      return true;
    }
    return false;
  }

  /* ---- the body without a task ---- */

  function clearBody(...kids) {
    clearTask();
    leaseEl.hidden = true;
    body.replaceChildren(...kids);
  }

  /* A line while the next task loads. */
  function loading(text) {
    clearBody(h('p', { class: 'muted', 'data-testid': 'loading' }, text));
  }

  /* A card in place of the task: heading, text (if any), then more
   * elements (null ones left out).  Returns the card. */
  function panel(testid, heading, text, ...more) {
    const card = h('div', { class: 'card panel', 'data-testid': testid }, h('h2', null, heading), text ? h('p', null, text) : null, ...more);
    clearBody(card);
    return card;
  }

  /* The 'error' panel (an alert) after a failed load: Try again when the
   * error is retryable (calls retry), and the way back. */
  function errorPanel(e, retry, heading, text) {
    const again = e.retryable ? h('button', { type: 'button', 'data-action': 'retry', onclick: retry }, 'Try again') : null;
    panel('error', heading, text, h('div', { class: 'form-actions' }, again, backLink())).setAttribute('role', 'alert');
  }

  return {
    el,
    title,
    leaseEl,
    body,
    instructions,
    shortcuts,
    instrBtn,
    keysBtn,
    setInstructions,
    toggleInstructions,
    toggleShortcuts,
    drawShortcuts,
    closeOverlay,
    loading,
    panel,
    errorPanel,
  };
}

/* The way back to the project list, for panels. */
export function backLink() {
  return h('a', { class: 'button', href: '#/projects' }, 'Back to projects');
}

/* True for a key meant as a shortcut: not typed into a text field, and
 * without Ctrl, Alt or Cmd. */
export function plainKey(ev) {
  return !isTyping(ev.target) && !(ev.ctrlKey || ev.metaKey || ev.altKey);
}

/* Offers the key to an editor instance; when it takes it, the key's
 * default is prevented and the keyboard stays on the answer (host): a
 * button clicked earlier (say Instructions) must not take the Enter that
 * follows.  True if the editor took it. */
export function offerKey(inst, ev, host) {
  if (!inst?.keys?.(ev)) return false;
  ev.preventDefault();
  if (!host.contains(document.activeElement)) host.focus({ preventScroll: true });
  return true;
}

/* True when Enter lands on a focused link or button outside the editor,
 * which does its own thing with it. */
export function enterOnControl(ev) {
  const control = ev.target instanceof Element ? ev.target.closest('a[href], button, summary, [role=button]') : null;
  return !!(control && !control.closest('[data-testid=editor]'));
}
