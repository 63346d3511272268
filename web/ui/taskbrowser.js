// taskbrowser.js -- a project's task browser (not written yet).
import { h } from './dom.js';

function notYet(root, what) {
  root.replaceChildren(h('section', { class: 'card panel', 'data-testid': 'not-built' }, h('h1', null, 'Not built yet'), h('p', null, `The browser has no page for ${what} yet.`)));
  return null;
}

export function renderTaskBrowser(root) {
  return notYet(root, "a project's task browser");
}

export function renderTaskView(root) {
  return notYet(root, 'the full view of a task');
}
