// app.js -- Loupe's browser UI: the header, the status line and hash
// routing.
//
//   #/login                  login.js
//   #/projects               projects.js
//   #/projects/new           project-form.js (a new project)
//   #/projects/ID/settings   project-form.js (its settings, import, export)
//   #/projects/ID/queue      queue.js (the annotator's workspace)
//   #/projects/ID/review     review.js (the reviewer's queue)
//   #/projects/ID/dashboard  dashboard.js (a manager's dashboard)
//   #/projects/ID/quality    quality.js (a manager's quality figures)
//   #/projects/ID/leaderboard  leaderboard.js (models ranked by the votes)
//   #/projects/ID/report     report.js (draft review, red-team report)
//   #/projects/ID/tasks      taskbrowser.js (tasks with filters)
//   #/tasks/ID               taskbrowser.js (one task in full)
//   #/llm[/SECTION[/ID]]     llm.js (model endpoints, prompt sets, generations)
//
// On load it asks GET /v1/me; without a session (401) it goes to #/login
// and, once logged in, back to the page that was asked for.  A 401 from
// any later call does the same (api.js onUnauthorized).

import { api, request, onUnauthorized } from './api.js';
import { h } from './dom.js';
import { setStatus } from './status.js';
import { renderLogin } from './login.js';
import { renderProjects } from './projects.js';
import { renderQueue } from './queue.js';
import { renderQuality } from './quality.js';
import { renderLeaderboard } from './leaderboard.js';
import { renderReport } from './report.js';
import { renderLlm, parseLlmRoute } from './llm.js';
import { renderReview } from './review.js';
import { renderDashboard } from './dashboard.js';
import { renderTaskBrowser, renderTaskView } from './taskbrowser.js';
import { renderProjectForm } from './project-form.js';
import { sweep } from './store.js';

const AFTER_LOGIN_KEY = 'loupe.after-login';

const main = document.getElementById('main');
const account = document.querySelector('[data-testid=account]');
const emailEl = document.querySelector('[data-testid=user-email]');
const logoutBtn = document.querySelector('[data-action=logout]');
const topnav = document.querySelector('[data-testid=topnav]');

let me = null;
let leave = null; // the current view's cleanup

function parseRoute(hash) {
  // A query after the path (#/projects/2/tasks?status=completed) belongs to
  // the page (the task browser's filters), not to the route.
  const path = (hash || '').replace(/^#/, '').replace(/\?.*$/, '').replace(/\/+$/, '') || '/';
  if (path === '/login') return { name: 'login' };
  if (path === '/' || path === '/projects') return { name: 'projects' };
  if (path === '/projects/new') return { name: 'new-project' };
  const m = /^\/projects\/(\d+)\/(queue|review|dashboard|quality|leaderboard|report|tasks|settings)$/.exec(path);
  if (m) return { name: m[2], projectId: Number(m[1]) };
  const llm = parseLlmRoute(path);
  if (llm) return { name: 'llm', ...llm };
  const t = /^\/tasks\/(\d+)$/.exec(path);
  if (t) return { name: 'task', taskId: Number(t[1]) };
  return { name: 'notfound', path };
}

function showAccount() {
  account.hidden = !me;
  if (topnav) topnav.hidden = !me;
  emailEl.textContent = me ? me.email : '';
}

function rememberRoute() {
  const r = parseRoute(location.hash);
  if (r.name === 'login') return;
  try {
    sessionStorage.setItem(AFTER_LOGIN_KEY, location.hash || '#/projects');
  } catch {
    /* not kept */
  }
}

function takeRememberedRoute() {
  let hash = null;
  try {
    hash = sessionStorage.getItem(AFTER_LOGIN_KEY);
    sessionStorage.removeItem(AFTER_LOGIN_KEY);
  } catch {
    hash = null;
  }
  const r = parseRoute(hash || '');
  return hash && r.name !== 'login' && r.name !== 'notfound' ? hash : '#/projects';
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function leaveView() {
  const f = leave;
  leave = null;
  if (!f) return null;
  try {
    return f() || null;
  } catch (e) {
    console.error(e);
    return null;
  }
}

/* Marks the top navigation's link of the area shown (aria-current). */
function markNav(r) {
  if (!topnav) return;
  const area = r.name === 'llm' ? 'llm' : r.name === 'login' || r.name === 'notfound' ? null : 'projects';
  for (const a of topnav.querySelectorAll('a[data-nav]')) {
    if (a.dataset.nav === area) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function route() {
  leaveView();
  const r = parseRoute(location.hash);
  markNav(r);
  if (r.name === 'login') {
    if (me) {
      go('#/projects');
      return;
    }
    leave = renderLogin(main, {
      onLogin(user) {
        me = user;
        showAccount();
        go(takeRememberedRoute());
      },
    });
    return;
  }
  if (!me) {
    rememberRoute();
    go('#/login');
    return;
  }
  if (r.name === 'projects') leave = renderProjects(main);
  else if (r.name === 'queue') leave = renderQueue(main, { projectId: r.projectId });
  else if (r.name === 'quality') leave = renderQuality(main, { projectId: r.projectId });
  else if (r.name === 'leaderboard') leave = renderLeaderboard(main, { projectId: r.projectId });
  else if (r.name === 'report') leave = renderReport(main, { projectId: r.projectId });
  else if (r.name === 'llm') leave = renderLlm(main, { me, section: r.section, id: r.id });
  else if (r.name === 'review') leave = renderReview(main, { projectId: r.projectId });
  else if (r.name === 'dashboard') leave = renderDashboard(main, { projectId: r.projectId });
  else if (r.name === 'tasks') leave = renderTaskBrowser(main, { projectId: r.projectId });
  else if (r.name === 'task') leave = renderTaskView(main, { taskId: r.taskId });
  else if (r.name === 'new-project') leave = renderProjectForm(main, {});
  else if (r.name === 'settings') leave = renderProjectForm(main, { projectId: r.projectId });
  else {
    document.title = 'Not found · Loupe';
    main.replaceChildren(
      h('section', { class: 'card panel', 'data-testid': 'not-found' }, h('h1', null, 'Page not found'), h('p', null, 'There is no page at this address.'), h('a', { class: 'button', href: '#/projects' }, 'Go to your projects')),
    );
  }
  main.focus({ preventScroll: true });
}

onUnauthorized(() => {
  if (!me && parseRoute(location.hash).name === 'login') return;
  me = null;
  showAccount();
  rememberRoute();
  setStatus('Your session ended: sign in again', 'warn');
  go('#/login');
});

logoutBtn.addEventListener('click', async () => {
  logoutBtn.disabled = true;
  try {
    // Let the workspace send an unsaved draft while the session still works.
    const pending = leaveView();
    if (pending) await Promise.race([pending.catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
    await request('DELETE', '/v1/sessions', undefined, { allow401: true }).catch(() => {});
  } finally {
    logoutBtn.disabled = false;
  }
  me = null;
  showAccount();
  setStatus('Signed out', 'info');
  go('#/login');
});

async function start() {
  sweep();
  try {
    me = await api.get('/v1/me', { allow401: true });
  } catch (e) {
    if (e.status !== 401) {
      main.replaceChildren(
        h(
          'section',
          { class: 'card panel', 'data-testid': 'error', role: 'alert' },
          h('h1', null, 'Loupe cannot start'),
          h('p', null, e.message),
          h('button', { type: 'button', class: 'primary', onclick: () => location.reload() }, 'Try again'),
        ),
      );
      return;
    }
    me = null;
  }
  showAccount();
  window.addEventListener('hashchange', route);
  route();
}

start();
