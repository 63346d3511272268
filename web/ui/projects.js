// projects.js -- #/projects: every project the user has a role in
// (GET /v1/projects, following next_token), each a card with its kind,
// its counts, a "Start labeling" link to its queue and a "Quality" link to
// its quality figures (#/projects/ID/quality: managers only, the server
// answers 403 to anyone else).

import { h } from './dom.js';
import { getAll } from './api.js';
import { editorFor } from './editors.js';

function count(n) {
  return Number.isFinite(n) ? n.toLocaleString() : '0';
}

function projectCard(p) {
  const c = p.counts || {};
  const total = c.total || 0;
  const completed = c.completed || 0;
  const href = `#/projects/${encodeURIComponent(p.id)}/queue`;
  const titleId = `project-${p.id}-name`;
  return h(
    'li',
    { class: 'card project-card', 'data-testid': 'project-card', 'data-id': p.id, 'aria-labelledby': titleId },
    h('div', { class: 'project-head' }, h('h2', { id: titleId }, p.name), h('span', { class: 'badge', 'data-testid': 'project-kind' }, p.kind)),
    h(
      'dl',
      { class: 'counts', 'data-testid': 'counts' },
      h('div', null, h('dt', null, 'Pending'), h('dd', { 'data-count': 'pending' }, count(c.pending))),
      h('div', null, h('dt', null, 'In progress'), h('dd', { 'data-count': 'in_progress' }, count(c.in_progress))),
      h('div', null, h('dt', null, 'Completed'), h('dd', { 'data-count': 'completed' }, count(completed))),
      h('div', null, h('dt', null, 'Total'), h('dd', { 'data-count': 'total' }, count(total))),
    ),
    total ? h('progress', { max: total, value: completed, 'aria-label': `${completed} of ${total} tasks completed` }) : null,
    editorFor(p.kind) ? null : h('p', { class: 'note' }, 'This kind has no editor in the browser yet.'),
    h(
      'div',
      { class: 'card-actions' },
      h('a', { class: 'button primary', href, 'data-project-id': p.id }, 'Start labeling'),
      h('a', { class: 'button', href: `#/projects/${encodeURIComponent(p.id)}/quality`, 'data-quality-project-id': p.id }, 'Quality'),
    ),
  );
}

export function renderProjects(root) {
  document.title = 'Projects · Loupe';
  let alive = true;
  const list = h('ul', { class: 'project-list', 'data-testid': 'projects', 'aria-busy': 'true' });
  const info = h('p', { class: 'muted' }, 'Loading projects…');
  const error = h('p', { class: 'error', 'data-testid': 'error', role: 'alert', hidden: true });
  root.replaceChildren(h('section', { class: 'projects' }, h('h1', null, 'Projects'), info, error, list));

  const load = async () => {
    list.replaceChildren();
    list.setAttribute('aria-busy', 'true');
    error.hidden = true;
    info.hidden = false;
    info.textContent = 'Loading projects…';
    try {
      const all = await getAll('/v1/projects?limit=100', (items) => {
        if (alive) for (const p of items) list.append(projectCard(p));
      });
      if (!alive) return;
      if (all.length) info.hidden = true;
      else info.textContent = 'You have no projects yet. A manager can add you to one.';
    } catch (e) {
      if (!alive || e.status === 401) return;
      info.hidden = true;
      error.replaceChildren(`The projects could not be loaded: ${e.message} `, h('button', { type: 'button', class: 'quiet', onclick: load }, 'Try again'));
      error.hidden = false;
    } finally {
      list.setAttribute('aria-busy', 'false');
    }
  };
  load();
  return () => {
    alive = false;
  };
}
