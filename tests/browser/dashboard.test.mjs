// dashboard.test.mjs -- a manager's dashboard (#/projects/ID/dashboard):
// two annotators answer through the API; the admin opens the dashboard
// from the project list and finds the API's numbers: tasks by status (bar
// and legend), throughput per day and per hour (each bucket's data
// attributes), labels, time per task, agreement and the workers; pauses a
// worker from the dashboard; sees new work after Refresh and after the
// 30 s timer (the page's clock driven by Playwright), and no more requests
// once the page is left.  An empty project shows empty states and no NaN;
// an annotator sees the API's 403, explained.
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { expectStatus, ADMIN_EMAIL, ADMIN_PASSWORD } from '../api/harness.mjs';
import { serveUi, PASSWORD, browserTest, makeAnnotator, makeTextProject, login, screenshot, until, textOf, pageText, waitVisible, waitText } from './browser.mjs';

let srv;
serveUi((s) => (srv = s));

const STATUSES = ['pending', 'in_progress', 'review', 'completed', 'canceled', 'gold'];

/* Leases up to `max` tasks as the annotator and answers each with
 * pick(task) as its one label (undefined: skip it). */
async function answer(user, project, pick, max = 100) {
  let n = 0;
  while (n < max) {
    const next = expectStatus(await srv.api('GET', `/v1/projects/${project.id}/queue/next`, undefined, { key: user.key }), 200);
    if (!next.assignment) break;
    const a = next.assignment;
    const label = pick(a.task);
    if (label === undefined) {
      expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/skip`, { reason: 'not sure' }, { key: user.key }), 200);
      continue;
    }
    const r = await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `${user.email}-${a.task_id}`, response: { labels: [label] } }, { key: user.key });
    assert.equal(r.status, 201, `${user.email}'s submit on task ${a.task_id}: ${r.text}`);
    n++;
  }
  return n;
}

const stats = async (project, bucket = 'day') => expectStatus(await srv.api('GET', `/v1/projects/${project.id}/stats?bucket=${bucket}`), 200);

/* What the page shows, read from its data attributes and cells. */
async function shown(page) {
  return page.evaluate(() => {
    const q = (s) => document.querySelector(s);
    const counts = {};
    for (const el of document.querySelectorAll('[data-testid=progress] li [data-count]')) counts[el.dataset.count] = el.textContent.trim();
    const segments = Object.fromEntries([...document.querySelectorAll('[data-testid=progress] rect[data-status]')].map((r) => [r.dataset.status, Number(r.dataset.count)]));
    const chart = q('[data-testid=throughput-chart]');
    const buckets = [...document.querySelectorAll('[data-testid=throughput] g[data-start]')].map((g) => ({ start: g.dataset.start, annotations: Number(g.dataset.annotations), completed: Number(g.dataset.completed) }));
    const labels = [...document.querySelectorAll('[data-testid=labels] tr[data-label]')].map((tr) => ({
      label: tr.dataset.label,
      results: Number(tr.querySelector('[data-field=results]').textContent.replace(/\D/g, '')),
      annotations: Number(tr.querySelector('[data-field=annotations]').textContent.replace(/\D/g, '')),
    }));
    const value = (s) => (q(s)?.dataset.value === undefined ? null : Number(q(s).dataset.value));
    return { counts, segments, bucket: chart?.dataset.bucket ?? null, buckets, labels, median: value('[data-testid=median-time]'), p90: value('[data-testid=p90-time]'), updated: q('[data-testid=updated]')?.dataset.at ?? null };
  });
}

/* The text of each cell of a worker's row, by data-field. */
async function workerRow(page, user) {
  return page
    .$$eval(`[data-testid=workers] tr[data-user-id="${user.id}"] [data-field]`, (cs) => Object.fromEntries(cs.map((c) => [c.dataset.field, c.innerText.trim()])))
    .catch(() => ({}));
}

/* What the page should show for the API's stats s, in the shape of shown(). */
function expected(s) {
  const counts = s.counts.total ? Object.fromEntries([...STATUSES, 'total'].map((k) => [k, s.counts[k].toLocaleString()])) : {};
  return {
    counts,
    segments: Object.fromEntries(STATUSES.filter((k) => s.counts[k] > 0).map((k) => [k, s.counts[k]])),
    bucket: s.throughput.bucket,
    buckets: s.throughput.buckets,
    labels: s.labels,
    median: s.time_per_task.median_seconds,
    p90: s.time_per_task.p90_seconds,
  };
}

/* Waits until every figure the page shows is the API's stats s (a refresh
 * may still be on its way), then checks each for a precise message. */
async function checkAgainst(page, s, what) {
  const want = expected(s);
  let got;
  // Until it matches or the wait ends; the asserts below then say what differs.
  await until(async () => {
    const { updated, ...g } = (got = await shown(page));
    return isDeepStrictEqual(g, want);
  }, `${what}: the API's figures`).catch(() => {});
  assert.deepEqual(got.counts, want.counts, `${what}: the legend`);
  assert.deepEqual(got.segments, want.segments, `${what}: the status bar's segments`);
  assert.equal(got.bucket, want.bucket, `${what}: the chart's bucket`);
  assert.deepEqual(got.buckets, want.buckets, `${what}: the throughput bars' data`);
  assert.deepEqual(got.labels, want.labels, `${what}: the labels`);
  assert.equal(got.median, want.median, `${what}: the median time per task`);
  assert.equal(got.p90, want.p90, `${what}: the 90th percentile`);
  return got;
}

/* GET .../stats requests the page made so far. */
const statsRequests = (requests, project) => requests.filter((r) => r.method === 'GET' && r.path === `/v1/projects/${project.id}/stats`).length;

browserTest('a manager opens the dashboard from the project list and sees the API\'s figures, switches to hours, pauses a worker, refreshes', async ({ page, requests }) => {
  await page.clock.install();
  const texts = ['D1: a cat naps.', 'D2: a dog fetches.', 'D3: a kitten purrs.', 'D4: a puppy barks.', 'D5: a parrot talks.', 'D6: not sure.'];
  const { project, tasks } = await makeTextProject(srv, { labels: ['cat', 'dog', 'bird'], texts, overlap: 2, aggregation: 'majority' });
  expectStatus(await srv.api('POST', `/v1/tasks/${tasks[5].id}/cancel`), 200);
  const ann1 = await makeAnnotator(srv, 'dash-one@test.io', PASSWORD, [project.id]);
  const ann2 = await makeAnnotator(srv, 'dash-two@test.io', PASSWORD, [project.id]);
  const ann3 = await makeAnnotator(srv, 'dash-three@test.io', PASSWORD, [project.id]);
  const truth = new Map(tasks.map((t, i) => [t.id, ['cat', 'dog', 'cat', 'dog', 'bird'][i]]));
  assert.equal(await answer(ann1, project, (t) => truth.get(t.id)), 5);
  // The second agrees except on D3, and skips D5 (left open).
  assert.equal(await answer(ann2, project, (t) => (t.id === tasks[4].id ? undefined : t.id === tasks[2].id ? 'dog' : truth.get(t.id))), 4);
  const day = await stats(project);
  assert.deepEqual([day.counts.completed, day.counts.in_progress, day.counts.canceled], [4, 1, 1], `the project's counts: ${JSON.stringify(day.counts)}`);
  assert.deepEqual([day.throughput.annotations, day.throughput.completed], [9, 4]);
  const q = expectStatus(await srv.api('GET', `/v1/projects/${project.id}/quality`), 200);

  await login(page, srv, ADMIN_EMAIL, ADMIN_PASSWORD, { project });
  const link = `a[data-dashboard-project-id="${project.id}"]`;
  await waitVisible(page, link, 'the Dashboard link on the project card');
  await page.click(link);
  await until(
    async () => (await page.evaluate(() => location.hash)) === `#/projects/${project.id}/dashboard`,
    async () => `clicking Dashboard did not go to #/projects/${project.id}/dashboard but to ${await page.evaluate(() => location.hash)}`,
  );
  await waitText(page, '[data-testid=project-name]', new RegExp(project.name), 'the project name in the header');
  await waitText(page, '[data-testid=project-kind]', /^categorization$/, 'the kind in the header');
  await checkAgainst(page, day, 'by day');
  assert.match(await textOf(page, '[data-testid=progress-headline]'), /^4 of 5 tasks completed \(80\.0%\)/, 'the progress headline leaves the canceled task out');
  assert.match(await textOf(page, '[data-testid=throughput-summary]'), /9 annotations accepted and 4 tasks completed in the last 30 days/);
  // Every bucket explains itself on hover (an SVG title).
  const title = await page.$eval(`[data-testid=throughput] g[data-start="${day.throughput.buckets.at(-1).start}"] > title`, (t) => t.textContent).catch(() => null);
  const lastDay = day.throughput.buckets.at(-1);
  assert.match(title ?? '', new RegExp(`${lastDay.annotations} annotations?, ${lastDay.completed} tasks? completed`), `the last bucket's tooltip: ${title}`);
  // The links a manager has.
  const hrefs = await page.$$eval('nav.dash-links a[data-link]', (as) => Object.fromEntries(as.map((a) => [a.dataset.link, a.getAttribute('href')])));
  const base = `#/projects/${project.id}`;
  assert.deepEqual(hrefs, { queue: `${base}/queue`, tasks: `${base}/tasks`, quality: `${base}/quality`, settings: `${base}/settings` }, 'the links (no Review: the project has no review levels)');
  // Agreement: the API's alpha, and a link to Quality.
  const alpha = q.agreement.overall.alpha;
  await waitText(page, '[data-testid=agreement] [data-testid=alpha]', new RegExp(`^${alpha.toFixed(3).replace('.', '\\.')}$`), `alpha ${alpha.toFixed(3)}`);
  assert.equal(await page.getAttribute('[data-testid=quality-link]', 'href'), `${base}/quality`);
  // Workers: the quality report's rows.
  for (const u of [ann1, ann2]) {
    const row = await workerRow(page, u);
    const api = q.workers.find((w) => w.user_id === u.id);
    assert.equal(row.email, u.email, `no row for ${u.email}: ${await textOf(page, '[data-testid=workers]')}`);
    assert.equal(row.tasks_done, String(api.tasks_done), `${u.email}'s tasks done`);
    assert.equal(row.agreement.split(' ')[0], `${(api.agreement_with_consensus * 100).toFixed(1)}%`, `${u.email}'s agreement`);
    assert.match(row.paused, /active/i);
  }
  assert.equal(await page.locator('text=NaN').count(), 0, 'NaN on the page');
  await screenshot(page, 'dashboard');
  // On a phone the chart scrolls, its latest buckets in view.
  await page.setViewportSize({ width: 420, height: 900 });
  await page.click('button[data-action=refresh]');
  await until(
    () => page.$eval('[data-testid=throughput] .chart-scroll', (e) => e.scrollWidth > e.clientWidth && e.scrollLeft + e.clientWidth >= e.scrollWidth - 1),
    'the narrow chart scrolled to its latest buckets',
  );
  await screenshot(page, 'dashboard-narrow');
  await page.setViewportSize({ width: 1280, height: 800 });

  // By hour: 48 buckets, the API's.
  await page.click('[data-testid=throughput] button[data-bucket=hour]');
  const hour = await stats(project, 'hour');
  await checkAgainst(page, hour, 'by hour');
  assert.equal(await page.getAttribute('button[data-bucket=hour]', 'aria-pressed'), 'true');
  assert.equal(await page.getAttribute('button[data-bucket=day]', 'aria-pressed'), 'false');
  await screenshot(page, 'dashboard-hour');

  // Pause the second annotator from the dashboard.
  await page.click(`[data-testid=workers] tr[data-user-id="${ann2.id}"] button[data-action=pause]`);
  await waitVisible(page, 'input[name=pause-reason]', 'the pause reason after clicking Pause');
  await page.fill('input[name=pause-reason]', 'left D5 open too long');
  await screenshot(page, 'dashboard-pause-dialog');
  await page.click('button[data-action=confirm-pause]');
  await until(
    async () => /paused/i.test((await workerRow(page, ann2)).paused ?? ''),
    async () => `expected ${ann2.email}'s row to say paused; it shows ${JSON.stringify(await workerRow(page, ann2))}`,
  );
  const workers = expectStatus(await srv.api('GET', `/v1/projects/${project.id}/workers`), 200).items;
  assert.equal(workers.find((w) => w.user_id === ann2.id)?.paused, true, 'the API does not have the worker paused');
  assert.equal(workers.find((w) => w.user_id === ann2.id)?.pause_reason, 'left D5 open too long');
  assert.equal(workers.find((w) => w.user_id === ann1.id)?.paused, false, 'the other worker was paused too');

  // New work, then Refresh: the new figures (still by hour).
  assert.equal(await answer(ann3, project, () => 'bird', 1), 1);
  await page.click('button[data-action=refresh]');
  const after1 = await stats(project, 'hour');
  assert.deepEqual([after1.throughput.annotations, after1.throughput.completed], [10, 5]);
  await checkAgainst(page, after1, 'after Refresh');
  assert.match((await workerRow(page, ann2)).paused, /paused/i, 'the refreshed table still has the worker paused');
  assert.equal((await workerRow(page, ann3)).tasks_done, '1', 'the refreshed table has the new worker');

  // The 30 s timer: more work shows up without a click.
  expectStatus(await srv.api('POST', '/v1/tasks', { project_id: project.id, unique_id: 'extra', data: { text: 'D7: a bird sings.' } }), 201);
  assert.equal(await answer(ann3, project, () => 'bird', 1), 1);
  const before = statsRequests(requests, project);
  await page.clock.fastForward(31000);
  const after2 = await stats(project, 'hour');
  assert.equal(after2.throughput.annotations, 11);
  await checkAgainst(page, after2, 'after the 30 s refresh');
  assert.ok(statsRequests(requests, project) > before, 'the timer made no request');

  // Leaving the page stops the timer.
  await page.click('a.back');
  await waitVisible(page, link, 'the project list after leaving the dashboard');
  const left = statsRequests(requests, project);
  await page.clock.fastForward(65000);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(statsRequests(requests, project), left, 'the dashboard kept refreshing after it was left');
});

browserTest('an empty project has empty states, zero bars and no NaN', async ({ page }) => {
  const { project } = await makeTextProject(srv, { labels: ['cat', 'dog'], texts: [] });
  const s = await stats(project);
  await login(page, srv, ADMIN_EMAIL, ADMIN_PASSWORD, { project });
  await page.goto(`${srv.base}/#/projects/${project.id}/dashboard`);
  await waitVisible(page, '[data-testid=progress-empty]', 'the empty progress');
  await checkAgainst(page, s, 'empty');
  await waitVisible(page, '[data-testid=throughput-empty]', 'the empty throughput note');
  await waitVisible(page, '[data-testid=labels-none-yet]', 'the labels note');
  await waitVisible(page, '[data-testid=workers-empty]', 'the empty workers table');
  assert.equal(await textOf(page, '[data-testid=median-time]'), '—');
  assert.match(await textOf(page, '[data-testid=agreement] [data-testid=alpha]'), /not enough data/);
  const text = await pageText(page, 100000);
  assert.ok(!/NaN|undefined|Infinity/.test(text), `the page shows NaN, undefined or Infinity: ${text}`);
  const heights = await page.$$eval('[data-testid=throughput] g[data-start] rect.tp-ann, [data-testid=throughput] g[data-start] rect.tp-done', (rs) => rs.map((r) => r.getAttribute('height')));
  assert.equal(heights.length, 60);
  assert.ok(heights.every((v) => v === '0.00'), `bars of an empty project: ${heights}`);
  await screenshot(page, 'dashboard-empty');
});

browserTest('an annotator sees no Dashboard link, and the address shows the API\'s 403 explained', async ({ page }) => {
  const { project } = await makeTextProject(srv, { labels: ['cat', 'dog'], texts: ['F1: a cat.'] });
  const ann = await makeAnnotator(srv, 'dash-annotator@test.io', PASSWORD, [project.id]);
  const direct = await srv.api('GET', `/v1/projects/${project.id}/stats`, undefined, { key: ann.key });
  assert.equal(direct.status, 403, `an annotator's GET .../stats answered ${direct.status}`);
  await login(page, srv, ann.email, ann.password, { project });
  assert.equal(await page.locator(`a[data-dashboard-project-id="${project.id}"]`).count(), 0, 'an annotator is offered the Dashboard link');
  await page.goto(`${srv.base}/#/projects/${project.id}/dashboard`);
  await waitVisible(page, '[data-testid=error]', 'the error for a non-manager');
  const err = await textOf(page, '[data-testid=error]');
  assert.ok(err.includes(direct.body.error.message), `the error ${JSON.stringify(err)} is not the API's ${JSON.stringify(direct.body.error.message)}`);
  assert.match(err, /managers/, 'the error does not explain who may see the dashboard');
  assert.equal(await page.locator('[data-testid=workers]:visible').count(), 0, 'a non-manager sees the workers table');
  const links = await page.$$eval('nav.dash-links a[data-link]', (as) => as.map((a) => a.dataset.link));
  assert.deepEqual(links, ['queue'], 'an annotator is offered only Start labeling');
  await screenshot(page, 'dashboard-forbidden');
});
