// project-links.js -- the row of links between a project's pages
// (labeling, review, dashboard, tasks, quality, leaderboard, report,
// settings), each shown when the caller's role and the project allow it,
// less the page it is drawn on. Used by the dashboard, the leaderboard and
// the report page.

import { h, append } from './dom.js';

/* Kinds whose votes rank models on a leaderboard. */
export const LEADERBOARD_KINDS = ['comparison', 'ranking'];

/* The title of a project's report page, or null when it has none: drafts
 * to review (textcollection with allow_reject) and red teaming. */
export function reportTitle(p) {
  if (p?.kind === 'redteam') return 'Red-team report';
  if (p?.kind === 'textcollection' && p.params?.allow_reject === true) return 'Draft review';
  return null;
}

/* Fills links (a nav element) for project p as seen by its caller; here
 * is the page it is drawn on ("dashboard", "leaderboard", "report"). */
export function drawProjectLinks(links, p, here) {
  const rank = { annotator: 1, reviewer: 2, manager: 3 }[p.role] ?? 3;
  const a = (what, text, cls = 'button') => (what === here ? null : h('a', { class: cls, href: `#/projects/${p.id}/${what}`, 'data-link': what }, text));
  links.replaceChildren();
  append(links, [
    a('queue', 'Start labeling', 'button primary'),
    p.review_levels > 0 && rank >= 2 ? a('review', 'Review') : null,
    rank >= 3 ? a('dashboard', 'Dashboard') : null,
    rank >= 2 ? a('tasks', 'Tasks') : null,
    rank >= 3 ? a('quality', 'Quality') : null,
    LEADERBOARD_KINDS.includes(p.kind) && rank >= 2 ? a('leaderboard', 'Leaderboard') : null,
    reportTitle(p) && rank >= 3 ? a('report', reportTitle(p)) : null,
    rank >= 3 ? a('settings', 'Settings', 'button quiet') : null,
  ]);
  links.hidden = false;
}
