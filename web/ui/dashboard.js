// dashboard.js -- #/projects/ID/dashboard: a manager's view of how a
// project is going, drawn where a person would rather look than read.
//
//   GET /v1/projects/ID                 name, kind, role, review levels
//   GET /v1/projects/ID/stats?bucket=   tasks by status, throughput per day
//                                       or hour, labels, time per task
//   GET /v1/projects/ID/quality         agreement and the workers table
//   POST .../workers/UID/pause|reinstate  (quality.js's workers table)
//
// Sections: progress (a stacked bar of the tasks by status, with a legend
// and the numbers), throughput (an SVG bar chart of accepted annotations
// and completed tasks per UTC day or hour, with axes and a tooltip per
// bucket), agreement (from the quality report, linking to it), labels
// (results and annotations per label as horizontal bars), time per task
// (median and 90th percentile) and the workers, who can be paused or
// reinstated here.  The Refresh button reloads everything; so does a timer
// every 30 s while the page is visible (and on coming back to a page left
// hidden for longer), stopped when the page is left.  A refresh redraws the
// figures in place: the bucket switch and an open pause dialog stay.
//
// A caller who is not a manager gets the API's 403, explained, with the
// links their role allows.  Charts are SVG with geometry attributes and
// classes (colours in dashboard.css): the CSP allows no inline style.
//
// data-* for tests: [data-testid=progress] rect[data-status][data-count]
// and [data-count=STATUS]; [data-testid=throughput] g[data-start]
// [data-annotations][data-completed]; [data-testid=labels]
// tr[data-label] [data-field=results|annotations]; [data-testid=workers]
// (quality.js).

import { api } from './api.js';
import { h, svg, append, plural } from './dom.js';
import { setStatus } from './status.js';
import { agreementSection, count, pct, seconds, workersTable } from './quality.js';
import { drawProjectLinks } from './project-links.js';

const REFRESH_MS = 30000;

/* Tasks by status, in the order the bar stacks them. */
const STATUSES = [
  ['completed', 'Completed'],
  ['review', 'In review'],
  ['in_progress', 'In progress'],
  ['pending', 'Pending'],
  ['canceled', 'Canceled'],
  ['gold', 'Gold'],
];

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

const n0 = (x) => (Number.isFinite(x) ? x : 0);

/* A card with a title whose content set() replaces: the card itself (and
 * anything in its head, such as a switch) stays. */
function panel(testid, title, ...tools) {
  const id = `dash-${testid}-title`;
  const body = h('div', { class: 'dash-body' });
  const el = h('section', { class: 'card panel dash-section', 'data-testid': testid, 'aria-labelledby': id }, h('div', { class: 'dash-head' }, h('h2', { id }, title), ...tools), body);
  return {
    el,
    set(...children) {
      body.replaceChildren();
      append(body, children);
    },
  };
}

/* ---- progress ---- */

const BAR = { w: 1000, h: 28 };

/* The tasks by status as one bar, each status its share of the total (a
 * status with any task keeps a sliver you can see). */
function stackedBar(c, total) {
  const present = STATUSES.filter(([k]) => n0(c[k]) > 0);
  const min = 4;
  const raw = present.map(([k]) => Math.max(min, (BAR.w * n0(c[k])) / total));
  const scale = BAR.w / raw.reduce((a, b) => a + b, 0);
  let x = 0;
  const segs = present.map(([k, name], i) => {
    const w = raw[i] * scale;
    const n = n0(c[k]);
    const r = svg('rect', { class: `seg seg-${k}`, 'data-status': k, 'data-count': n, x: x.toFixed(2), y: 0, width: w.toFixed(2), height: BAR.h }, svg('title', null, `${name}: ${count(n)} (${pct(n / total)})`));
    x += w;
    return r;
  });
  const desc = present.map(([k, name]) => `${name} ${count(n0(c[k]))}`).join(', ');
  return svg(
    'svg',
    { class: 'stacked-bar', 'data-testid': 'status-bar', width: '100%', height: BAR.h, viewBox: `0 0 ${BAR.w} ${BAR.h}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': `Tasks by status: ${desc}` },
    svg('rect', { class: 'seg-track', x: 0, y: 0, width: BAR.w, height: BAR.h }),
    segs,
  );
}

function progressContent(c, links) {
  c = c || {};
  const total = n0(c.total);
  if (!total)
    return h('p', { class: 'muted', 'data-testid': 'progress-empty' }, 'No tasks yet. ', links.settings ? h('a', { href: links.settings }, 'Import tasks in Settings') : null, links.settings ? '.' : null);
  const work = total - n0(c.canceled) - n0(c.gold);
  const done = n0(c.completed);
  const headline = work > 0 ? `${count(done)} of ${plural(work, 'task')} completed (${pct(done / work)})` : 'No task left to work on';
  const notes = [];
  if (n0(c.gold)) notes.push(`${plural(c.gold, 'gold task')} for checking workers`);
  if (n0(c.canceled)) notes.push(`${count(c.canceled)} canceled`);
  return [
    h('p', { class: 'dash-headline', 'data-testid': 'progress-headline' }, headline, notes.length ? h('span', { class: 'muted' }, ` · not counted: ${notes.join(', ')}`) : null),
    stackedBar(c, total),
    h(
      'ul',
      { class: 'legend', 'aria-label': 'Tasks by status' },
      STATUSES.map(([k, name]) =>
        h(
          'li',
          { 'data-status': k, class: n0(c[k]) ? null : 'legend-zero' },
          h('span', { class: `swatch seg-${k}`, 'aria-hidden': 'true' }),
          h('span', { class: 'legend-name' }, name),
          h('strong', { 'data-count': k }, count(n0(c[k]))),
          h('span', { class: 'muted legend-share' }, pct(n0(c[k]) / total)),
        ),
      ),
      h('li', { class: 'legend-total' }, h('span', { class: 'legend-name' }, 'Total'), h('strong', { 'data-count': 'total' }, count(total))),
    ),
  ];
}

/* ---- throughput ---- */

const TP = { w: 760, h: 250, left: 44, right: 12, top: 14, bottom: 42 };

/* A round top for the y axis and its step: at most five steps, whole numbers. */
function yScale(max) {
  if (!(max > 0)) return { top: 1, step: 1 };
  const rough = max / 4;
  const mag = 10 ** Math.floor(Math.log10(rough));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= rough));
  return { top: Math.ceil(max / step) * step, step };
}

function dayName(d) {
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
}

function hourName(d) {
  return `${String(d.getUTCHours()).padStart(2, '0')}:00`;
}

/* "Tue 3 Nov 2026" or "3 Nov 2026, 14:00–15:00" (UTC). */
function bucketTitle(d, hourly) {
  const day = `${dayName(d)} ${d.getUTCFullYear()}`;
  if (!hourly) return `${DAYS[d.getUTCDay()]} ${day}`;
  const end = new Date(d.getTime() + 3600000);
  return `${day}, ${hourName(d)}–${hourName(end)}`;
}

function throughputChart(tp) {
  const buckets = Array.isArray(tp?.buckets) ? tp.buckets : [];
  const hourly = tp?.bucket === 'hour';
  const n = buckets.length;
  const plotW = TP.w - TP.left - TP.right;
  const plotH = TP.h - TP.top - TP.bottom;
  const base = TP.top + plotH;
  const max = Math.max(0, ...buckets.map((b) => Math.max(n0(b.annotations), n0(b.completed))));
  const { top, step } = yScale(max);
  const y = (v) => base - (plotH * v) / top;
  const parts = [];
  for (let v = 0; v <= top; v += step) {
    parts.push(svg('line', { class: v ? 'grid' : 'axis', x1: TP.left, x2: TP.left + plotW, y1: y(v), y2: y(v) }));
    parts.push(svg('text', { class: 'axis-label', 'data-axis': 'y', x: TP.left - 6, y: y(v), 'text-anchor': 'end', 'dominant-baseline': 'middle' }, count(v)));
  }
  const slot = n ? plotW / n : plotW;
  const barW = Math.max(1, Math.min(16, (slot * 0.78) / 2));
  const every = Math.max(1, Math.ceil(n / 8));
  let lastDay = null;
  buckets.forEach((b, i) => {
    const d = new Date(b.start);
    const a = n0(b.annotations);
    const c = n0(b.completed);
    const x0 = TP.left + i * slot;
    const mid = x0 + slot / 2;
    const hA = a ? Math.max(1, base - y(a)) : 0;
    const hC = c ? Math.max(1, base - y(c)) : 0;
    const valid = !Number.isNaN(d.getTime());
    parts.push(
      svg(
        'g',
        { class: 'tp-bucket', 'data-start': b.start, 'data-annotations': a, 'data-completed': c },
        svg('title', null, `${valid ? bucketTitle(d, hourly) : b.start} (UTC): ${plural(a, 'annotation')}, ${plural(c, 'task')} completed`),
        svg('rect', { class: 'tp-hit', x: x0.toFixed(2), y: TP.top, width: slot.toFixed(2), height: plotH }),
        svg('rect', { class: 'tp-ann', x: (mid - barW).toFixed(2), y: (base - hA).toFixed(2), width: barW.toFixed(2), height: hA.toFixed(2) }),
        svg('rect', { class: 'tp-done', x: mid.toFixed(2), y: (base - hC).toFixed(2), width: barW.toFixed(2), height: hC.toFixed(2) }),
      ),
    );
    if ((n - 1 - i) % every || !valid) return;
    parts.push(svg('line', { class: 'axis', x1: mid, x2: mid, y1: base, y2: base + 4 }));
    const day = dayName(d);
    parts.push(svg('text', { class: 'axis-label', 'data-axis': 'x', x: mid, y: base + 16, 'text-anchor': 'middle' }, hourly ? hourName(d) : day));
    if (hourly && day !== lastDay) parts.push(svg('text', { class: 'axis-label axis-date', x: mid, y: base + 30, 'text-anchor': 'middle' }, day));
    lastDay = day;
  });
  const span = hourly ? plural(n, 'hour') : plural(n, 'day');
  return svg(
    'svg',
    {
      class: 'throughput-chart',
      'data-testid': 'throughput-chart',
      'data-bucket': hourly ? 'hour' : 'day',
      width: TP.w,
      height: TP.h,
      viewBox: `0 0 ${TP.w} ${TP.h}`,
      role: 'img',
      'aria-label': `Per ${hourly ? 'hour' : 'day'} over ${span}: ${plural(n0(tp?.annotations), 'annotation')} accepted and ${plural(n0(tp?.completed), 'task')} completed; the busiest ${hourly ? 'hour' : 'day'} had ${count(max)}`,
    },
    parts,
  );
}

/* The chart's numbers as a table, for screen readers and for copying. */
function throughputTable(tp) {
  const hourly = tp?.bucket === 'hour';
  const rows = (tp?.buckets || []).filter((b) => n0(b.annotations) || n0(b.completed));
  return h(
    'details',
    { class: 'dash-details' },
    h('summary', null, 'As a table'),
    rows.length
      ? h(
          'table',
          { class: 'data-table' },
          h('thead', null, h('tr', null, h('th', { scope: 'col' }, hourly ? 'Hour (UTC)' : 'Day (UTC)'), h('th', { scope: 'col', class: 'num' }, 'Annotations'), h('th', { scope: 'col', class: 'num' }, 'Tasks completed'))),
          h(
            'tbody',
            null,
            rows.map((b) => h('tr', null, h('th', { scope: 'row' }, bucketTitle(new Date(b.start), hourly)), h('td', { class: 'num' }, count(b.annotations)), h('td', { class: 'num' }, count(b.completed)))),
          ),
        )
      : h('p', { class: 'muted' }, 'Nothing in this period.'),
  );
}

function throughputContent(tp) {
  const hourly = tp?.bucket === 'hour';
  const n = Array.isArray(tp?.buckets) ? tp.buckets.length : 0;
  const a = n0(tp?.annotations);
  const c = n0(tp?.completed);
  const when = hourly ? `the last ${plural(n, 'hour')}` : `the last ${plural(n, 'day')}`;
  return [
    h('p', { class: 'dash-headline', 'data-testid': 'throughput-summary' }, `${plural(a, 'annotation')} accepted and ${plural(c, 'task')} completed in ${when}`),
    h(
      'ul',
      { class: 'legend legend-inline', 'aria-hidden': 'true' },
      h('li', null, h('span', { class: 'swatch tp-ann' }), 'Annotations accepted'),
      h('li', null, h('span', { class: 'swatch tp-done' }), 'Tasks completed'),
    ),
    h('figure', { class: 'chart dash-chart' }, h('div', { class: 'chart-scroll' }, throughputChart(tp)), h('figcaption', { class: 'muted' }, `Per ${hourly ? 'hour' : 'day'}, in UTC. Point at a bar for its numbers.`)),
    a || c ? null : h('p', { class: 'muted', 'data-testid': 'throughput-empty' }, 'Nothing was submitted in this period.'),
    throughputTable(tp),
  ];
}

/* ---- labels ---- */

const LB = { w: 220, h: 22 };

function labelBars(r, max) {
  const len = (v) => (max > 0 && v > 0 ? Math.max(1, (LB.w * v) / max) : 0);
  return svg(
    'svg',
    { class: 'label-bars', width: LB.w, height: LB.h, viewBox: `0 0 ${LB.w} ${LB.h}`, 'aria-hidden': 'true', focusable: 'false' },
    svg('rect', { class: 'lb-results', 'data-count': n0(r.results), x: 0, y: 1, width: len(n0(r.results)).toFixed(1), height: 9 }, svg('title', null, `${r.label}: ${plural(n0(r.results), 'result')}`)),
    svg('rect', { class: 'lb-ann', 'data-count': n0(r.annotations), x: 0, y: 12, width: len(n0(r.annotations)).toFixed(1), height: 9 }, svg('title', null, `${r.label}: ${plural(n0(r.annotations), 'annotation')}`)),
  );
}

function labelsContent(labels, kind) {
  const rows = Array.isArray(labels) ? labels : [];
  if (!rows.length)
    return h('p', { class: 'muted', 'data-testid': 'labels-empty' }, `Answers of this kind (${kind || 'unknown'}) do not pick from a fixed set of labels, so there is nothing to count here.`);
  const max = Math.max(0, ...rows.map((r) => Math.max(n0(r.results), n0(r.annotations))));
  return [
    h(
      'ul',
      { class: 'legend legend-inline', 'aria-hidden': 'true' },
      h('li', null, h('span', { class: 'swatch lb-results' }), 'Results (completed or in review)'),
      h('li', null, h('span', { class: 'swatch lb-ann' }), 'Annotations accepted'),
    ),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data-table labels-table' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Label'), h('th', { scope: 'col', class: 'num' }, 'Results'), h('th', { scope: 'col', class: 'num' }, 'Annotations'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Bars')))),
        h(
          'tbody',
          null,
          rows.map((r) =>
            h(
              'tr',
              { 'data-label': r.label },
              h('th', { scope: 'row', class: 'label-name' }, r.label),
              h('td', { class: 'num', 'data-field': 'results' }, count(n0(r.results))),
              h('td', { class: 'num', 'data-field': 'annotations' }, count(n0(r.annotations))),
              h('td', { class: 'bar-cell' }, labelBars(r, max)),
            ),
          ),
        ),
      ),
    ),
    max ? null : h('p', { class: 'muted', 'data-testid': 'labels-none-yet' }, 'No label has been given yet.'),
  ];
}

/* ---- time per task ---- */

function stat(name, value, attrs) {
  return h('div', null, h('dt', null, name), h('dd', attrs, value));
}

function timeContent(t) {
  const n = n0(t?.annotations);
  return [
    h(
      'dl',
      { class: 'counts dash-stats' },
      stat('Median', seconds(t?.median_seconds), { 'data-testid': 'median-time', 'data-value': Number.isFinite(t?.median_seconds) ? t.median_seconds : null }),
      stat('90th percentile', seconds(t?.p90_seconds), { 'data-testid': 'p90-time', 'data-value': Number.isFinite(t?.p90_seconds) ? t.p90_seconds : null }),
      stat('Answers timed', count(n), { 'data-testid': 'timed' }),
    ),
    h('p', { class: 'muted' }, n ? 'From taking a task to submitting it, over every accepted answer. Nine in ten took at most the 90th percentile.' : 'No accepted answer yet.'),
  ];
}

/* ---- the page ---- */

export function renderDashboard(root, { projectId }) {
  document.title = 'Dashboard · Loupe';
  let alive = true;
  let loading = null;
  let project = null;
  let lastLoaded = 0;
  let bucket = 'day';
  let chartLeft = null; // where the reader scrolled the chart to (null: its end)
  const id = encodeURIComponent(projectId);
  const base = `/v1/projects/${id}`;
  const href = (what) => `#/projects/${id}/${what}`;

  const title = h('h1', { class: 'ws-title', 'data-testid': 'project-name' }, 'Loading…');
  const kind = h('span', { class: 'badge', 'data-testid': 'project-kind', hidden: true });
  const updated = h('span', { class: 'muted dash-updated', 'data-testid': 'updated', 'aria-live': 'off' });
  const refreshBtn = h('button', { type: 'button', 'data-action': 'refresh', onclick: () => refresh() }, 'Refresh');
  const links = h('nav', { class: 'dash-links', 'aria-label': 'This project', hidden: true });
  const error = h('div', { class: 'error', 'data-testid': 'error', role: 'alert', hidden: true });
  const info = h('p', { class: 'muted' }, 'Loading the figures…');
  const body = h('div', { class: 'dash', 'aria-busy': 'true', hidden: true });

  const switchBtns = ['day', 'hour'].map((b) =>
    h('button', { type: 'button', class: 'seg-btn', 'data-bucket': b, 'aria-pressed': String(b === bucket), onclick: () => setBucket(b) }, b === 'day' ? 'By day' : 'By hour'),
  );
  const progress = panel('progress', 'Progress');
  const throughput = panel('throughput', 'Throughput', h('div', { class: 'seg-switch', role: 'group', 'aria-label': 'Count per' }, switchBtns));
  const agreement = h('div', { class: 'dash-agreement' });
  const times = panel('time-per-task', 'Time per task');
  const labels = panel('labels', 'Labels');
  const workers = workersTable({ base, alive: () => alive });
  body.append(progress.el, throughput.el, h('div', { class: 'dash-grid' }, agreement, times.el), labels.el, workers.el);

  root.replaceChildren(
    h(
      'section',
      { class: 'dashboard' },
      h(
        'div',
        { class: 'ws-head' },
        h('a', { class: 'back', href: '#/projects' }, '← Projects'),
        h('div', { class: 'dash-title' }, title, kind),
        h('div', { class: 'ws-tools' }, updated, refreshBtn),
      ),
      links,
      error,
      info,
      body,
    ),
  );

  function drawProject(p) {
    project = p;
    title.textContent = p.name;
    kind.textContent = p.kind;
    kind.hidden = false;
    document.title = `Dashboard: ${p.name} · Loupe`;
    drawProjectLinks(links, p, 'dashboard');
  }

  function drawStats(s) {
    progress.set(progressContent(s.counts, { settings: href('settings') }));
    throughput.set(throughputContent(s.throughput));
    // Where the chart is wider than the screen, the latest buckets show,
    // unless the reader scrolled back to earlier ones.
    const scroller = throughput.el.querySelector('.chart-scroll');
    if (scroller) {
      scroller.addEventListener('scroll', () => {
        chartLeft = scroller.scrollLeft + scroller.clientWidth >= scroller.scrollWidth - 2 ? null : scroller.scrollLeft;
      });
      scroller.scrollLeft = chartLeft ?? scroller.scrollWidth;
    }
    times.set(timeContent(s.time_per_task));
    labels.set(labelsContent(s.labels, project?.kind));
  }

  function drawQuality(q) {
    const sec = agreementSection(q);
    sec.append(h('p', { class: 'dash-more' }, h('a', { href: href('quality'), 'data-testid': 'quality-link' }, 'Agreement by label, result confidence and the model refit: Quality →')));
    agreement.replaceChildren(sec);
    workers.update(q.workers);
  }

  /* The quality report could not be had though the stats could: say so
   * where its figures go. */
  function qualityFailed(e) {
    agreement.replaceChildren(
      h('section', { class: 'card panel', 'data-testid': 'agreement' }, h('h2', null, 'Agreement'), h('p', { class: 'error', role: 'alert' }, `The agreement figures could not be loaded: ${e.message}`)),
    );
  }

  function showError(e) {
    info.hidden = true;
    const forbidden = e.status === 403;
    error.replaceChildren(
      h('p', null, e.message),
      forbidden
        ? h('p', null, 'The dashboard shows a project’s progress, its workers and their quality to the project’s managers. Ask a manager of this project if you need to see it.')
        : e.status === 404
          ? h('p', null, h('a', { href: '#/projects' }, 'Back to your projects'))
          : h('button', { type: 'button', class: 'quiet', onclick: () => refresh() }, 'Try again'),
    );
    error.hidden = false;
  }

  function stamp() {
    lastLoaded = Date.now();
    const t = new Date(lastLoaded);
    updated.textContent = `Updated ${t.toLocaleTimeString()}`;
    updated.dataset.at = t.toISOString();
  }

  /* Loads everything (the stats only with statsOnly) and redraws it.  A
   * refresh that fails keeps the figures already shown and says why. */
  function refresh({ statsOnly = false, quiet = false } = {}) {
    if (loading) return loading;
    loading = (async () => {
      // (Not disabled: the button would lose the keyboard focus.)
      refreshBtn.setAttribute('aria-busy', 'true');
      body.setAttribute('aria-busy', 'true');
      if (!quiet && project) setStatus('Refreshing the dashboard…', 'busy');
      const shown = !body.hidden;
      try {
        const [p, s, q] = await Promise.allSettled([
          statsOnly && project ? Promise.resolve(project) : api.get(base),
          api.get(`${base}/stats?bucket=${bucket}`),
          statsOnly ? Promise.resolve(null) : api.get(`${base}/quality`),
        ]);
        if (!alive) return;
        const failed = [p, s].find((r) => r.status === 'rejected');
        if (p.status === 'fulfilled') drawProject(p.value);
        if (failed) {
          const e = failed.reason;
          if (e.status === 401) return;
          if (!project) title.textContent = 'Dashboard';
          if (shown && e.status !== 403 && e.status !== 404) {
            setStatus(`The dashboard could not be refreshed: ${e.message}`, 'error');
            return;
          }
          body.hidden = true;
          showError(e);
          setStatus('', 'info');
          return;
        }
        error.hidden = true;
        info.hidden = true;
        body.hidden = false; // first, so that the chart can be scrolled
        drawStats(s.value);
        if (q.status === 'fulfilled' && q.value) drawQuality(q.value);
        else if (q.status === 'rejected' && q.reason.status !== 401) qualityFailed(q.reason);
        stamp();
        if (!quiet) setStatus('Dashboard up to date', 'ok');
      } finally {
        refreshBtn.removeAttribute('aria-busy');
        body.setAttribute('aria-busy', 'false');
        loading = null;
      }
    })();
    return loading;
  }

  async function setBucket(b) {
    if (b === bucket) return;
    bucket = b;
    chartLeft = null;
    for (const btn of switchBtns) btn.setAttribute('aria-pressed', String(btn.dataset.bucket === b));
    if (loading) await loading;
    if (alive) refresh({ statsOnly: true });
  }

  const timer = setInterval(() => {
    if (document.visibilityState === 'visible' && !body.hidden) refresh({ quiet: true });
  }, REFRESH_MS);
  const onVisibility = () => {
    if (document.visibilityState === 'visible' && !body.hidden && Date.now() - lastLoaded >= REFRESH_MS) refresh({ quiet: true });
  };
  document.addEventListener('visibilitychange', onVisibility);

  refresh({ quiet: true });
  return () => {
    alive = false;
    clearInterval(timer);
    document.removeEventListener('visibilitychange', onVisibility);
    workers.close();
  };
}

