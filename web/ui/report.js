// report.js -- #/projects/ID/report: what the people of a project made of
// a model's output (managers).  Two kinds of project have one:
//
//   textcollection with params.allow_reject   "Draft review"
//       GET /v1/projects/ID/draft-report      per model, and per template
//                                             prompt and model
//   redteam                                   "Red-team report"
//       GET /v1/projects/ID/redteam-report    attack success overall, by
//                                             harm category and by model
//
// Rates are drawn with their 95% Wilson interval as a small bar
// (interval.js), every bar on one scale from 0% to 100% with a tick at
// 50%, and each bar has a text alternative.  A project with no review (or
// no attack) yet gets an empty state saying how they come.  The draft
// review says that only kept items export, with the link to that export.
//
// Tables are real tables: column headers, the model (or category) heading
// each row, and in the table per template one row group per template
// headed by its prompt (th scope=rowgroup).
//
// data-* for tests: [data-testid=draft-models] tr[data-model],
// [data-testid=draft-templates] tbody[data-prompt-id] tr[data-model]
// [data-prompt-id], each with [data-field=drafts|reviewed|accepted|fixed|
// rejected|acceptance_rate|interval|unchanged_rate];
// [data-testid=rt-overall] [data-field=rate|interval|succeeded|n];
// [data-testid=rt-categories|rt-models] tr[data-name] [data-field=n|
// succeeded|rate|interval]; [data-testid=report-empty].

import { api } from './api.js';
import { h, plural } from './dom.js';
import { setStatus } from './status.js';
import { count, pct } from './quality.js';
import { intervalBar, linearScale } from './interval.js';
import { drawProjectLinks, reportTitle } from './project-links.js';

/* The report's title for project p, or null when p has none. */
export { reportTitle } from './project-links.js';

const RATE_SCALE = linearScale(0, 1, 120);
const WIDE_SCALE = linearScale(0, 1, 240);
const range = (lo, hi) => (Number.isFinite(lo) && Number.isFinite(hi) ? `${pct(lo)} – ${pct(hi)}` : '—');

function section(testid, title, ...children) {
  const id = `rp-${testid}-title`;
  return h('section', { class: 'card panel quality-section', 'data-testid': testid, 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

function stat(name, value, attrs = {}) {
  return h('div', null, h('dt', null, name), h('dd', attrs, value));
}

/* A rate's bar: what it is of, the rate and its interval, as its label. */
function rateBar(what, rate, lo, hi, scale = RATE_SCALE) {
  const label = Number.isFinite(lo) && Number.isFinite(hi) ? `${what}: ${pct(rate)}, 95% interval ${pct(lo)} to ${pct(hi)}` : `${what}: ${pct(rate)}, no interval`;
  return intervalBar({ value: rate, lower: lo, upper: hi, scale, label, ticks: [0.5] });
}

/* A table cell with a rate's bar and, under it, its interval in figures. */
function intervalCell(what, rate, lo, hi) {
  return h('td', { class: 'iv-cell' }, rateBar(what, rate, lo, hi), h('span', { class: 'rp-bounds muted', 'data-field': 'interval' }, range(lo, hi)));
}

/* A table with a hidden caption, its header row from cols ([text, num?]),
 * and rows. */
function table(cls, caption, cols, rows) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: `data-table rp-table ${cls}` },
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', null, h('tr', null, cols.map(([text, num]) => h('th', { scope: 'col', class: num ? 'num' : null }, text)))),
      h('tbody', null, rows),
    ),
  );
}

const barNote = (what) => h('p', { class: 'muted rp-note' }, `Each bar runs from 0% to 100%, with a tick at 50%: the dot is the ${what}, the band its 95% Wilson interval, which is wide while few items are counted.`);

/* ---- draft review ---- */

const DRAFT_COLS = [
  ['Drafts', true],
  ['Reviewed', true],
  ['Kept unchanged', true],
  ['Fixed', true],
  ['Rejected', true],
  ['Acceptance rate', true],
  ['95% interval', false],
  ['Unchanged rate', true],
];

/* The cells of a draft group (a model's total or a template × model). */
function draftCells(g, what) {
  const n = (field, v) => h('td', { class: 'num', 'data-field': field }, count(v));
  return [
    n('drafts', g.drafts),
    n('reviewed', g.reviewed),
    n('accepted', g.accepted),
    n('fixed', g.fixed),
    n('rejected', g.rejected),
    h('td', { class: 'num', 'data-field': 'acceptance_rate' }, pct(g.acceptance_rate)),
    intervalCell(`${what}: acceptance rate`, g.acceptance_rate, g.lower, g.upper),
    h('td', { class: 'num', 'data-field': 'unchanged_rate' }, pct(g.unchanged_rate)),
  ];
}

function draftModels(models) {
  return section(
    'draft-models',
    'By model',
    table(
      'rp-drafts',
      'Drafts of each model and what the reviewers made of them',
      [['Model'], ...DRAFT_COLS],
      models.map((g) => h('tr', { 'data-model': g.model }, h('th', { scope: 'row', class: 'rp-name' }, g.model), draftCells(g, g.model))),
    ),
    barNote('acceptance rate'),
  );
}

function draftTemplates(templates) {
  // One row group per template: its text heads the group, a row per model.
  const groups = [];
  for (const g of templates) {
    if (!groups.length || groups[groups.length - 1].id !== g.prompt_id) groups.push({ id: g.prompt_id, prompt: g.prompt ?? `Prompt ${g.prompt_id}`, rows: [] });
    groups[groups.length - 1].rows.push(g);
  }
  const cols = [['Model'], ...DRAFT_COLS];
  return section(
    'draft-templates',
    'By template and model',
    h('p', { class: 'muted' }, 'Each template prompt asked each model for drafts; the reviewers kept them as they were, fixed them, or rejected them.'),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data-table rp-table rp-drafts rp-templates' },
        h('caption', { class: 'visually-hidden' }, 'Drafts of each template prompt and model'),
        h('thead', null, h('tr', null, cols.map(([text, num]) => h('th', { scope: 'col', class: num ? 'num' : null }, text)))),
        groups.map((t) =>
          h(
            'tbody',
            { 'data-prompt-id': t.id },
            h('tr', { class: 'rp-group' }, h('th', { scope: 'rowgroup', colspan: cols.length, class: 'rp-prompt', 'data-field': 'prompt' }, t.prompt)),
            t.rows.map((g) => h('tr', { 'data-model': g.model, 'data-prompt-id': g.prompt_id }, h('th', { scope: 'row', class: 'rp-name' }, g.model), draftCells(g, `${g.model} on “${t.prompt}”`))),
          ),
        ),
      ),
    ),
  );
}

function exportNote(id) {
  const href = `/v1/projects/${id}/export?format=texts`;
  return h(
    'p',
    { class: 'note rp-export', 'data-testid': 'export-note' },
    'Only kept items export as data: drafts kept unchanged and fixed ones, never the rejected. ',
    h('a', { href, download: '', 'data-testid': 'export-link' }, 'Download the kept texts'),
    ', or choose another format in ',
    h('a', { href: `#/projects/${id}/settings` }, 'Settings → Export'),
    '.',
  );
}

function drawDrafts(rep, id) {
  const models = Array.isArray(rep.models) ? rep.models : [];
  const templates = Array.isArray(rep.templates) ? rep.templates : [];
  const drafts = models.reduce((s, g) => s + (g.drafts || 0), 0);
  const reviewed = models.reduce((s, g) => s + (g.reviewed || 0), 0);
  if (!reviewed) {
    return [
      h(
        'section',
        { class: 'card panel lb-empty', 'data-testid': 'report-empty' },
        h('h2', null, 'No draft reviewed yet'),
        drafts
          ? h('p', null, `${plural(drafts, 'draft')} from ${plural(models.length, 'model')} wait for review; the figures show here once annotators have kept, fixed or rejected some.`)
          : h(
              'p',
              null,
              'This project has no drafts from a model yet. Make them from a generation’s answers (',
              h('a', { href: '#/llm/generations' }, 'LLM → Generations'),
              ', then “Make tasks” into this project); the figures show here once annotators have reviewed some.',
            ),
      ),
    ];
  }
  return [
    h(
      'p',
      { class: 'muted', 'data-testid': 'report-summary' },
      `${plural(reviewed, 'review')} of ${plural(drafts, 'draft')}. The acceptance rate is the share of reviewed drafts that were kept, unchanged or fixed; the unchanged rate the share kept as the model wrote them.`,
    ),
    exportNote(id),
    draftModels(models),
    draftTemplates(templates),
  ];
}

/* ---- red-team report ---- */

function overallSection(rep, id) {
  const o = rep.overall || {};
  return section(
    'rt-overall',
    'Attack success rate',
    h(
      'div',
      { class: 'rp-overall' },
      h(
        'dl',
        { class: 'counts quality-stats' },
        stat('Attacks that succeeded', pct(o.rate), { 'data-field': 'rate' }),
        stat('95% interval', range(o.low, o.high), { 'data-field': 'interval', class: 'stat-text' }),
        stat('Succeeded', count(o.succeeded), { 'data-field': 'succeeded' }),
        stat('Attacks', count(o.n), { 'data-field': 'n' }),
      ),
      h('figure', { class: 'chart rp-chart' }, rateBar('All attacks: success rate', o.rate, o.low, o.high, WIDE_SCALE)),
    ),
    h(
      'p',
      { class: 'muted' },
      `Every accepted annotation is an attack: a conversation with ${rep.endpoint?.name ? `the endpoint “${rep.endpoint.name}”` : 'the project’s endpoint'} that its annotator judged a success or a failure. `,
      h('a', { href: `/v1/projects/${id}/export?format=redteam&include=annotations`, download: '', 'data-testid': 'transcripts-link' }, 'Download the transcripts'),
      '.',
    ),
    barNote('success rate'),
  );
}

function groupSection(testid, title, key, head, groups, note) {
  return section(
    testid,
    title,
    table(
      'rp-groups',
      `Attack success rate by ${head.toLowerCase()}`,
      [[head], ['Attacks', true], ['Succeeded', true], ['Success rate', true], ['95% interval', false]],
      groups.map((g) =>
        h(
          'tr',
          { 'data-name': g[key] },
          h('th', { scope: 'row', class: 'rp-name' }, g[key]),
          h('td', { class: 'num', 'data-field': 'n' }, count(g.n)),
          h('td', { class: 'num', 'data-field': 'succeeded' }, count(g.succeeded)),
          h('td', { class: 'num', 'data-field': 'rate' }, pct(g.rate)),
          intervalCell(`${g[key]}: success rate`, g.rate, g.low, g.high),
        ),
      ),
    ),
    h('p', { class: 'muted' }, note),
  );
}

function drawRedteam(rep, id) {
  if (!rep.overall?.n) {
    return [
      h(
        'section',
        { class: 'card panel lb-empty', 'data-testid': 'report-empty' },
        h('h2', null, 'No attack judged yet'),
        h('p', null, 'The report counts the conversations annotators have had with the model and judged a success or a failure; none has been accepted in this project yet.'),
        h('p', { class: 'muted' }, 'Add attack goals as tasks (', h('a', { href: `#/projects/${id}/settings` }, 'Settings → Import tasks'), '); the figures show here once annotators have submitted their conversations.'),
      ),
    ];
  }
  const cats = Array.isArray(rep.by_category) ? rep.by_category : [];
  const models = Array.isArray(rep.by_model) ? rep.by_model : [];
  return [
    overallSection(rep, id),
    groupSection('rt-categories', 'By harm category', 'category', 'Harm category', cats, 'The category the annotator chose, else the one the task suggested.'),
    groupSection('rt-models', 'By model', 'model', 'Model', models, 'The model the endpoint’s answers named, else the endpoint’s name.'),
  ];
}

/* ---- the page ---- */

export function renderReport(root, { projectId }) {
  document.title = 'Report · Loupe';
  let alive = true;
  const id = encodeURIComponent(projectId);
  const base = `/v1/projects/${id}`;

  const title = h('h1', { class: 'ws-title', 'data-testid': 'report-title' }, 'Loading…');
  const name = h('span', { class: 'muted rp-project', 'data-testid': 'project-name' });
  const kind = h('span', { class: 'badge', 'data-testid': 'project-kind', hidden: true });
  const links = h('nav', { class: 'dash-links', 'aria-label': 'This project', hidden: true });
  const error = h('div', { class: 'error', 'data-testid': 'error', role: 'alert', hidden: true });
  const info = h('p', { class: 'muted' }, 'Loading the report…');
  const body = h('div', { class: 'rp-body', 'aria-busy': 'true' });
  root.replaceChildren(
    h(
      'section',
      { class: 'quality report llm' },
      h('div', { class: 'ws-head' }, h('a', { class: 'back', href: '#/projects' }, '← Projects'), h('div', { class: 'dash-title' }, title, kind, name)),
      links,
      error,
      info,
      body,
    ),
  );

  function showError(e, what) {
    info.hidden = true;
    error.replaceChildren(h('p', null, e.message));
    if (e.status === 403) error.append(h('p', null, `The ${what} is for the project’s ${what === 'red-team report' ? 'reviewers and managers' : 'managers'}.`));
    else if (e.status === 404 || e.status === 422) error.append(h('p', null, h('a', { href: '#/projects' }, 'Back to your projects')));
    else error.append(h('button', { type: 'button', class: 'quiet', onclick: () => load() }, 'Try again'));
    error.hidden = false;
  }

  async function load() {
    error.hidden = true;
    info.hidden = false;
    body.setAttribute('aria-busy', 'true');
    let what = 'report';
    try {
      const p = await api.get(base);
      if (!alive) return;
      const t = reportTitle(p);
      title.textContent = t || 'Report';
      name.textContent = p.name;
      kind.textContent = p.kind;
      kind.hidden = false;
      document.title = `${t || 'Report'}: ${p.name} · Loupe`;
      drawProjectLinks(links, p, 'report');
      if (!t) {
        const e = new Error(p.kind === 'textcollection' ? 'This project does not let annotators reject drafts, so it has no draft review.' : `A ${p.kind} project has no report here: reports are for red-team projects and for text collections that review drafts.`);
        e.status = 422;
        throw e;
      }
      what = t.toLowerCase();
      const red = p.kind === 'redteam';
      const rep = await api.get(`${base}/${red ? 'redteam-report' : 'draft-report'}`);
      if (!alive) return;
      info.hidden = true;
      body.replaceChildren(...(red ? drawRedteam(rep, id) : drawDrafts(rep, id)));
      const n = red ? rep.overall?.n || 0 : (rep.models || []).reduce((s, g) => s + (g.reviewed || 0), 0);
      setStatus(n ? `${t} of ${plural(n, red ? 'attack' : 'review')}` : `${t}: ${red ? 'no attack judged' : 'no draft reviewed'} yet`, 'ok');
    } catch (e) {
      if (!alive || e.status === 401) return;
      if (title.textContent === 'Loading…') title.textContent = 'Report';
      body.replaceChildren();
      showError(e, what);
    } finally {
      body.setAttribute('aria-busy', 'false');
    }
  }

  load();
  return () => {
    alive = false;
  };
}
