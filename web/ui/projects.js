// projects.js -- #/projects: every project the user has a role in
// (GET /v1/projects, following next_token), each a card with its kind, its
// counts and links to what the caller's role there (the project's `role`)
// lets them do: label (everyone), review (reviewers, when the project has
// review levels), and the dashboard, task browser, quality figures and
// settings (managers), and for comparison and ranking projects the
// leaderboard (reviewers and managers), and for red-team projects and text
// collections that review drafts the report (managers).  A "New project" button for everyone (any signed-in
// user may create one).

import { h } from './dom.js';
import { getAll } from './api.js';
import { editorFor } from './editors.js';
import { LEADERBOARD_KINDS } from './leaderboard.js';
import { reportTitle } from './report.js';

function count(n) {
  return Number.isFinite(n) ? n.toLocaleString() : '0';
}

const RANK = { annotator: 1, reviewer: 2, manager: 3 };

/* True when the caller's role in p is at least role (a project without a
 * role field, from an older server, shows everything: the server still
 * answers 403 where the role is too low). */
function atLeast(p, role) {
  return !(p.role in RANK) || RANK[p.role] >= RANK[role];
}

function projectCard(p) {
  const c = p.counts || {};
  const total = c.total || 0;
  const completed = c.completed || 0;
  const base = `#/projects/${encodeURIComponent(p.id)}`;
  const href = `${base}/queue`;
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
      p.review_levels > 0 && atLeast(p, 'reviewer') ? h('a', { class: 'button', href: `${base}/review`, 'data-review-project-id': p.id }, 'Review') : null,
      atLeast(p, 'manager') ? h('a', { class: 'button', href: `${base}/dashboard`, 'data-dashboard-project-id': p.id }, 'Dashboard') : null,
      atLeast(p, 'reviewer') ? h('a', { class: 'button', href: `${base}/tasks`, 'data-tasks-project-id': p.id }, 'Tasks') : null,
      atLeast(p, 'manager') ? h('a', { class: 'button', href: `${base}/quality`, 'data-quality-project-id': p.id }, 'Quality') : null,
      LEADERBOARD_KINDS.includes(p.kind) && atLeast(p, 'reviewer') ? h('a', { class: 'button', href: `${base}/leaderboard`, 'data-leaderboard-project-id': p.id }, 'Leaderboard') : null,
      reportTitle(p) && atLeast(p, 'manager') ? h('a', { class: 'button', href: `${base}/report`, 'data-report-project-id': p.id }, reportTitle(p)) : null,
      atLeast(p, 'manager') ? h('a', { class: 'button quiet', href: `${base}/settings`, 'data-settings-project-id': p.id }, 'Settings') : null,
    ),
  );
}

export function renderProjects(root) {
  document.title = 'Projects · Loupe';
  let alive = true;
  const list = h('ul', { class: 'project-list', 'data-testid': 'projects', 'aria-busy': 'true' });
  const info = h('p', { class: 'muted' }, 'Loading projects…');
  const error = h('p', { class: 'error', 'data-testid': 'error', role: 'alert', hidden: true });
  const head = h('div', { class: 'page-head' }, h('h1', null, 'Projects'), h('a', { class: 'button primary', href: '#/projects/new', 'data-action': 'new-project' }, 'New project'));
  root.replaceChildren(h('section', { class: 'projects' }, head, info, error, list));

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
      else info.textContent = 'You have no projects yet. Create one, or ask a manager to add you to theirs.';
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
