// leaderboard.js -- #/projects/ID/leaderboard: which models the annotators
// of a comparison or ranking project preferred (managers and reviewers).
//
//   GET /v1/projects/ID                                name, kind, role
//   GET /v1/projects/ID/leaderboard?rounds=&seed=      the figures
//
// The ratings table draws each model's rating with its bootstrap interval
// as a small bar (interval.js), every bar on one scale so that intervals can be compared
// by eye (and each has a text alternative); the win-rate matrix is a table
// whose cells are shaded by class (heat-0 .. heat-10, colours in llm.css:
// the CSP allows no inline style); position bias is the share of decisive
// votes that went to the answer shown on the left, flagged when its p-value
// is below 0.05.  Rounds and seed are the page's controls: changing them
// asks again.  A project with no vote yet gets an empty state saying how
// votes come.
//
// data-* for tests: [data-testid=ratings] tr[data-model][data-rank]
// [data-field=rating|elo|comparisons|wlt|win_rate]; [data-testid=win-rate]
// td[data-row][data-col][data-value]; [data-testid=position-bias]
// [data-flagged]; [data-testid=lb-counts] [data-count=NAME].

import { api } from './api.js';
import { h, svg, plural } from './dom.js';
import { setStatus } from './status.js';
import { DASH, count, pct } from './quality.js';
import { intervalBar, linearScale } from './interval.js';
import { drawProjectLinks } from './project-links.js';

/* The kinds whose votes make a leaderboard. */
export { LEADERBOARD_KINDS } from './project-links.js';

const fixed = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : DASH);

function section(testid, title, ...children) {
  const id = `lb-${testid}-title`;
  return h('section', { class: 'card panel quality-section', 'data-testid': testid, 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

function stat(name, value, attrs = {}) {
  return h('div', null, h('dt', null, name), h('dd', attrs, value));
}

/* ---- ratings ---- */

/* The shared scale of the interval bars: every rating and bound, with a
 * little room either side. */
function scaleOf(models) {
  const xs = [];
  for (const m of models) for (const v of [m.rating, m.lower, m.upper]) if (Number.isFinite(v)) xs.push(v);
  if (!xs.length) return null;
  let lo = Math.min(...xs);
  let hi = Math.max(...xs);
  if (hi - lo < 1) {
    lo -= 10;
    hi += 10;
  }
  return linearScale(lo, hi);
}

function ratingBar(m, sc, levelPct) {
  const has = Number.isFinite(m.lower) && Number.isFinite(m.upper);
  const label = has
    ? `${m.model}: rating ${fixed(m.rating)}, ${levelPct} interval ${fixed(m.lower)} to ${fixed(m.upper)}`
    : `${m.model}: rating ${fixed(m.rating)}, no interval`;
  return intervalBar({ value: m.rating, lower: m.lower, upper: m.upper, scale: sc, label });
}

function ratingsSection(lb) {
  const models = lb.models;
  const sc = scaleOf(models);
  const levelPct = `${Math.round((lb.level || 0.95) * 100)}%`;
  const intervals = lb.rounds > 0;
  const table = h(
    'table',
    { class: 'data-table lb-table' },
    h('caption', { class: 'visually-hidden' }, 'Models, best first'),
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        h('th', { scope: 'col', class: 'num' }, 'Rank'),
        h('th', { scope: 'col' }, 'Model'),
        h('th', { scope: 'col', class: 'num' }, 'Rating'),
        h('th', { scope: 'col' }, intervals ? `${levelPct} interval` : 'Rating'),
        h('th', { scope: 'col', class: 'num' }, 'Elo'),
        h('th', { scope: 'col', class: 'num' }, 'Comparisons'),
        h('th', { scope: 'col', class: 'num' }, h('abbr', { title: 'wins / ties / losses' }, 'W / T / L')),
        h('th', { scope: 'col', class: 'num' }, 'Win rate'),
      ),
    ),
    h(
      'tbody',
      null,
      models.map((m) =>
        h(
          'tr',
          { 'data-model': m.model, 'data-rank': m.rank },
          h('td', { class: 'num lb-rank', 'data-field': 'rank' }, m.rank ? String(m.rank) : DASH),
          h('th', { scope: 'row', class: 'lb-model' }, m.model),
          h(
            'td',
            { class: 'num', 'data-field': 'rating' },
            fixed(m.rating),
            Number.isFinite(m.lower) && Number.isFinite(m.upper) ? h('span', { class: 'lb-bounds muted', 'data-field': 'interval' }, `${fixed(m.lower)}–${fixed(m.upper)}`) : null,
          ),
          h('td', { class: 'iv-cell' }, ratingBar(m, sc, levelPct)),
          h('td', { class: 'num', 'data-field': 'elo' }, fixed(m.elo)),
          h('td', { class: 'num', 'data-field': 'comparisons' }, count(m.comparisons)),
          h('td', { class: 'num', 'data-field': 'wlt' }, `${count(m.wins)} / ${count(m.ties)} / ${count(m.losses)}`),
          h('td', { class: 'num', 'data-field': 'win_rate' }, pct(m.win_rate)),
        ),
      ),
    ),
  );
  const scaleNote = sc ? h('span', { 'data-testid': 'lb-scale' }, ` The bars share one scale, from ${fixed(sc.lo)} to ${fixed(sc.hi)}; the dot is the rating.`) : null;
  return section(
    'ratings',
    'Ratings',
    h('div', { class: 'table-wrap' }, table),
    h(
      'p',
      { class: 'muted', 'data-testid': 'rank-note' },
      intervals
        ? `Ranks only separate models whose ${levelPct} intervals do not overlap: a model's rank is one more than the number of models whose whole interval lies above its own, so models can share a rank.`
        : 'With no bootstrap rounds there are no intervals, and ranks cannot tell close models apart: ask for some rounds.',
      scaleNote,
    ),
    h('p', { class: 'muted' }, 'Ratings are Bradley-Terry strengths on the Elo scale (a model of average strength reads 1000; 400 points apart is 10 to 1 odds). Elo is the online rating over the votes in the order they came. Win rate counts a tie as half a win.'),
    lb.prior
      ? h(
          'p',
          { class: 'note', 'data-testid': 'prior-note' },
          'Some model never lost, or never won, against the rest: without help its rating would be infinite, so the ratings were fitted with a weak prior that pulls them towards each other. More votes make the prior matter less.',
        )
      : null,
  );
}

/* ---- win rates ---- */

function winRateSection(lb) {
  const names = Array.isArray(lb.win_rate?.models) ? lb.win_rate.models : [];
  const rows = Array.isArray(lb.win_rate?.rows) ? lb.win_rate.rows : [];
  if (names.length < 2) return null;
  const heat = (v) => `heat heat-${Math.max(0, Math.min(10, Math.round(v * 10)))}`;
  return section(
    'win-rate',
    'Win rates',
    h('p', { class: 'muted' }, 'How often the model of the row beat the model of the column, over the games they played against each other (a tie counts half). Darker blue: the row wins more; darker amber: it loses more.'),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data-table lb-matrix' },
        h('caption', { class: 'visually-hidden' }, 'Win rate of the row model against the column model'),
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Row beats column')), names.map((n) => h('th', { scope: 'col', class: 'num' }, n)))),
        h(
          'tbody',
          null,
          names.map((r, i) =>
            h(
              'tr',
              { 'data-model': r },
              h('th', { scope: 'row' }, r),
              names.map((c, j) => {
                const v = rows[i]?.[j];
                const known = Number.isFinite(v);
                return h(
                  'td',
                  { class: `num ${known ? heat(v) : 'heat-none'}`, 'data-row': r, 'data-col': c, 'data-value': known ? v : null, title: known ? `${r} beat ${c} in ${pct(v)} of their games` : i === j ? null : `${r} and ${c} never met` },
                  known ? pct(v) : DASH,
                );
              }),
            ),
          ),
        ),
      ),
    ),
  );
}

/* ---- position bias ---- */

const PB = { w: 320, h: 36, pad: 10 };

function biasBar(pb) {
  const x = (v) => PB.pad + (PB.w - 2 * PB.pad) * v;
  const has = Number.isFinite(pb.lower) && Number.isFinite(pb.upper);
  const label = `${pct(pb.share)} of decisive votes went to the left answer${has ? ` (interval ${pct(pb.lower)} to ${pct(pb.upper)})` : ''}; 50% would be no bias`;
  return svg(
    'svg',
    { class: 'pb-bar', width: PB.w, height: PB.h, viewBox: `0 0 ${PB.w} ${PB.h}`, role: 'img', 'aria-label': label },
    svg('line', { class: 'iv-track', x1: x(0), x2: x(1), y1: 12, y2: 12 }),
    svg('line', { class: 'pb-half', x1: x(0.5), x2: x(0.5), y1: 2, y2: 22 }),
    has ? svg('rect', { class: 'iv-range', x: x(pb.lower).toFixed(1), y: 8, width: Math.max(1, x(pb.upper) - x(pb.lower)).toFixed(1), height: 8, rx: 2 }) : null,
    Number.isFinite(pb.share) ? svg('circle', { class: 'iv-point', cx: x(pb.share).toFixed(1), cy: 12, r: 4.5 }) : null,
    svg('text', { class: 'axis-label', x: x(0), y: 34, 'text-anchor': 'start' }, 'right always'),
    svg('text', { class: 'axis-label', x: x(0.5), y: 34, 'text-anchor': 'middle' }, '50%'),
    svg('text', { class: 'axis-label', x: x(1), y: 34, 'text-anchor': 'end' }, 'left always'),
  );
}

function biasSection(lb, kind) {
  const pb = lb.position_bias || {};
  const decisive = (pb.left || 0) + (pb.right || 0);
  const flagged = Number.isFinite(pb.p_value) && pb.p_value < 0.05;
  const p = Number.isFinite(pb.p_value) ? (pb.p_value < 0.001 ? '< 0.001' : pb.p_value.toFixed(3)) : DASH;
  return section(
    'position-bias',
    'Position bias',
    h(
      'div',
      { class: 'pb-row', 'data-flagged': String(flagged) },
      h(
        'dl',
        { class: 'counts quality-stats' },
        stat('Left answer won', pct(pb.share), { 'data-testid': 'pb-share', 'data-value': Number.isFinite(pb.share) ? pb.share : null }),
        stat(`${Math.round((lb.level || 0.95) * 100)}% interval`, Number.isFinite(pb.lower) ? `${pct(pb.lower)} – ${pct(pb.upper)}` : DASH, { 'data-testid': 'pb-interval', class: 'stat-text' }),
        stat('p-value', p, { 'data-testid': 'pb-p' }),
        stat('Left / right / tie', `${count(pb.left)} / ${count(pb.right)} / ${count(pb.ties)}`, { 'data-testid': 'pb-counts' }),
      ),
      decisive ? h('figure', { class: 'chart pb-chart' }, biasBar(pb)) : null,
    ),
    !decisive
      ? h('p', { class: 'muted', 'data-testid': 'pb-none' }, kind === 'ranking' ? 'Position bias is measured on votes between two answers where one won; the rankings of this project are not counted.' : 'No decisive vote between two answers yet.')
      : flagged
        ? h('p', { class: 'error lb-flag', 'data-testid': 'pb-flag', role: 'note' }, `The annotators favour the answer shown ${pb.share > 0.5 ? 'on the left' : 'on the right'} more than chance explains (p ${p}). Positions are drawn at random, so the ratings stay fair, but votes that follow the position say little about the models: check the instructions, or the annotators.`)
        : h('p', { class: 'muted', 'data-testid': 'pb-ok' }, 'No sign that the position of an answer sways the votes (p ≥ 0.05). Counted over votes with two answers where one won.'),
  );
}

/* ---- counts ---- */

function countsSection(lb) {
  const sk = lb.skipped || {};
  return section(
    'lb-counts',
    'Votes',
    h(
      'dl',
      { class: 'counts quality-stats' },
      stat('Votes', count(lb.votes), { 'data-count': 'votes' }),
      stat('Pairs compared', count(lb.comparisons), { 'data-count': 'comparisons' }),
      stat('Both bad', count(lb.both_bad), { 'data-count': 'both_bad' }),
      stat('Skipped: model unknown', count(sk.unknown_model), { 'data-count': 'unknown_model' }),
      stat('Skipped: same model', count(sk.same_model), { 'data-count': 'same_model' }),
    ),
    h('p', { class: 'muted' }, 'Every accepted answer is a vote; a ranking of n answers compares n(n−1)/2 pairs. "Both bad" counts as a tie. Pairs whose model is not known, or where a model meets itself, are left out.'),
  );
}

/* ---- the page ---- */

export function renderLeaderboard(root, { projectId }) {
  document.title = 'Leaderboard · Loupe';
  let alive = true;
  let project = null;
  let loading = null;
  const id = encodeURIComponent(projectId);
  const base = `/v1/projects/${id}`;

  const title = h('h1', { class: 'ws-title', 'data-testid': 'project-name' }, 'Loading…');
  const kind = h('span', { class: 'badge', 'data-testid': 'project-kind', hidden: true });
  const links = h('nav', { class: 'dash-links', 'aria-label': 'This project', hidden: true });
  const rounds = h('input', { type: 'number', id: 'lb-rounds', name: 'rounds', min: 0, max: 10000, step: 1, value: 1000, 'data-testid': 'lb-rounds' });
  const seed = h('input', { type: 'number', id: 'lb-seed', name: 'seed', min: 0, step: 1, value: 1, 'data-testid': 'lb-seed' });
  const applyBtn = h('button', { type: 'submit', 'data-action': 'recompute' }, 'Recompute');
  const ctlError = h('p', { class: 'pf-field-error lb-control-error', role: 'alert', hidden: true, 'data-testid': 'lb-control-error' });
  const controls = h(
    'form',
    { class: 'lb-controls', novalidate: true, 'aria-label': 'Bootstrap', onsubmit: (ev) => (ev.preventDefault(), load()) },
    h('div', { class: 'lb-control' }, h('label', { for: 'lb-rounds' }, 'Bootstrap rounds'), rounds),
    h('div', { class: 'lb-control' }, h('label', { for: 'lb-seed' }, 'Seed'), seed),
    applyBtn,
    ctlError,
  );
  const error = h('div', { class: 'error', 'data-testid': 'error', role: 'alert', hidden: true });
  const info = h('p', { class: 'muted' }, 'Loading the leaderboard…');
  const body = h('div', { class: 'lb-body', 'aria-busy': 'true' });

  root.replaceChildren(
    h(
      'section',
      { class: 'quality leaderboard llm' },
      h('div', { class: 'ws-head' }, h('a', { class: 'back', href: '#/projects' }, '← Projects'), h('div', { class: 'dash-title' }, title, kind)),
      links,
      controls,
      error,
      info,
      body,
    ),
  );

  function emptyState() {
    return h(
      'section',
      { class: 'card panel lb-empty', 'data-testid': 'lb-empty' },
      h('h2', null, 'No votes yet'),
      h('p', null, 'The leaderboard ranks models from the annotators’ votes, and none has been accepted in this project yet.'),
      h(
        'p',
        { class: 'muted' },
        'Make tasks from a generation’s answers (',
        h('a', { href: '#/llm/generations' }, 'LLM → Generations'),
        ', then “Make tasks”), or import tasks that name their models in metadata.models; the figures show here once annotators have voted.',
      ),
    );
  }

  function draw(lb) {
    const models = Array.isArray(lb.models) ? lb.models : [];
    if (!models.length) {
      body.replaceChildren(emptyState(), countsSection(lb));
      return;
    }
    body.replaceChildren(...[ratingsSection(lb), winRateSection(lb), biasSection(lb, project?.kind), countsSection(lb)].filter(Boolean));
  }

  function showError(e) {
    info.hidden = true;
    error.replaceChildren(h('p', null, e.message));
    if (e.status === 403) error.append(h('p', null, 'The leaderboard is for the project’s reviewers and managers.'));
    else if (e.status === 404 || e.status === 422) error.append(h('p', null, h('a', { href: '#/projects' }, 'Back to your projects')));
    else error.append(h('button', { type: 'button', class: 'quiet', onclick: () => load() }, 'Try again'));
    error.hidden = false;
  }

  function query() {
    const q = new URLSearchParams();
    for (const [name, el] of [
      ['rounds', rounds],
      ['seed', seed],
    ])
      if (el.value !== '') q.set(name, el.value);
    return q.toString();
  }

  function load() {
    if (loading) return loading;
    loading = (async () => {
      error.hidden = true;
      ctlError.hidden = true;
      rounds.removeAttribute('aria-invalid');
      seed.removeAttribute('aria-invalid');
      body.setAttribute('aria-busy', 'true');
      applyBtn.setAttribute('aria-busy', 'true');
      if (project) setStatus('Computing the leaderboard…', 'busy');
      try {
        if (!project) {
          project = await api.get(base);
          if (!alive) return;
          title.textContent = project.name;
          kind.textContent = project.kind;
          kind.hidden = false;
          document.title = `Leaderboard: ${project.name} · Loupe`;
          drawProjectLinks(links, project, 'leaderboard');
        }
        const q = query();
        const lb = await api.get(`${base}/leaderboard${q ? `?${q}` : ''}`);
        if (!alive) return;
        info.hidden = true;
        // The rounds asked stay in their box: the answer's are those run (0
        // with no vote).
        seed.value = String(lb.seed);
        controls.hidden = !(Array.isArray(lb.models) && lb.models.length);
        draw(lb);
        setStatus(`Leaderboard of ${plural(lb.votes, 'vote')}`, 'ok');
      } catch (e) {
        if (!alive || e.status === 401) return;
        if (!project) title.textContent = 'Leaderboard';
        if (e.status === 400 && (e.field === 'rounds' || e.field === 'seed')) {
          const what = e.field === 'rounds' ? 'Bootstrap rounds' : 'Seed';
          const el = e.field === 'rounds' ? rounds : seed;
          ctlError.textContent = `${what}: ${e.message.replace(/^\w+: /, '')}`;
          ctlError.hidden = false;
          el.setAttribute('aria-invalid', 'true');
          setStatus(`${e.field === 'rounds' ? 'Rounds' : 'Seed'}: ${e.message}`, 'error');
          el.focus();
          return;
        }
        body.replaceChildren();
        showError(e);
      } finally {
        body.setAttribute('aria-busy', 'false');
        applyBtn.removeAttribute('aria-busy');
        loading = null;
      }
    })();
    return loading;
  }

  load();
  return () => {
    alive = false;
  };
}
