// quality.test.mjs -- a manager's quality page (#/projects/ID/quality): two
// annotators answer through the API, agreeing on three tasks of four; the
// admin opens the page from the project list and finds the API's alpha,
// the labels, the confidence histogram and both workers; refits the model
// and sees the summary and the skills; pauses a worker with a reason.  An
// annotator who opens the page sees the API's 403.
import assert from 'node:assert/strict';
import { expectStatus, ADMIN_EMAIL, ADMIN_PASSWORD } from '../api/harness.mjs';
import { serveUi, PASSWORD, browserTest, makeAnnotator, makeTextProject, login, screenshot, until, textOf, pageText, waitVisible, waitText } from './browser.mjs';

let srv;
serveUi((s) => (srv = s));


/* Leases every task the annotator can get and answers each with
 * pick(task) as its one label. */
async function answerAll(user, project, pick) {
  let n = 0;
  for (;;) {
    const next = expectStatus(await srv.api('GET', `/v1/projects/${project.id}/queue/next`, undefined, { key: user.key }), 200);
    if (!next.assignment) break;
    const a = next.assignment;
    const labels = [pick(a.task)];
    const r = await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `${user.email}-${a.task_id}`, response: { labels } }, { key: user.key });
    assert.equal(r.status, 201, `${user.email}'s submit on task ${a.task_id}: ${r.text}`);
    n++;
    assert.ok(n <= 10, 'the queue does not run dry');
  }
  return n;
}

async function quality(project) {
  return expectStatus(await srv.api('GET', `/v1/projects/${project.id}/quality`), 200);
}

/* The data-count and height of every rect[data-bin] of the histogram, by bin. */
async function histogramBars(page) {
  return page.$$eval('[data-testid=confidence] svg rect[data-bin]', (rs) =>
    rs.map((r) => ({ bin: r.getAttribute('data-bin'), count: Number(r.getAttribute('data-count')), height: Number(r.getAttribute('height')) })),
  );
}

/* The text of each cell of a worker's row, by data-field. */
async function workerRow(page, user) {
  return page
    .$$eval(`[data-testid=workers] tr[data-user-id="${user.id}"] [data-field]`, (cs) => Object.fromEntries(cs.map((c) => [c.dataset.field, c.innerText.trim()])))
    .catch(() => ({}));
}

const pct = (x) => `${(x * 100).toFixed(1)}%`;

browserTest('a manager opens Quality from the project list, checks the figures against the API, refits and pauses a worker', async ({ page, requests }) => {
  const texts = ['Q1: a cat naps.', 'Q2: a dog fetches.', 'Q3: a kitten purrs.', 'Q4: something furry, hard to say.'];
  const { project, tasks } = await makeTextProject(srv, { labels: ['cat', 'dog'], texts, overlap: 2 });
  const ann1 = await makeAnnotator(srv, 'qa-one@test.io', PASSWORD, [project.id]);
  const ann2 = await makeAnnotator(srv, 'qa-two@test.io', PASSWORD, [project.id]);
  const truth = new Map(tasks.map((t, i) => [t.id, i === 1 ? 'dog' : 'cat']));
  const last = tasks[3].id;
  assert.equal(await answerAll(ann1, project, (t) => truth.get(t.id)), 4, 'the first annotator should answer all 4 tasks');
  // The second agrees on three tasks and disagrees on the last.
  assert.equal(await answerAll(ann2, project, (t) => (t.id === last ? 'dog' : truth.get(t.id))), 4, 'the second annotator should answer all 4 tasks');

  const q = await quality(project);
  const alpha = q.agreement.overall.alpha;
  assert.ok(Number.isFinite(alpha), `the API gives no alpha for 3 agreements of 4: ${JSON.stringify(q.agreement)}`);
  assert.equal(q.confidence.histogram.length, 10, 'the API histogram should have 10 bins');

  await login(page, srv, ADMIN_EMAIL, ADMIN_PASSWORD, { project });
  const link = `a[data-quality-project-id="${project.id}"]`;
  await waitVisible(page, link, 'the Quality link on the project card');
  await page.click(link);
  await until(
    async () => (await page.evaluate(() => location.hash)) === `#/projects/${project.id}/quality`,
    async () => `clicking Quality did not go to #/projects/${project.id}/quality but to ${await page.evaluate(() => location.hash)}`,
  );
  await waitText(page, '[data-testid=project-name]', new RegExp(project.name), 'the project name in the header');
  await waitText(page, '[data-testid=method]', new RegExp(q.method), 'the aggregation method in the header');

  // Agreement: the API's alpha to 3 decimals.
  await waitText(page, '[data-testid=agreement] [data-testid=alpha]', new RegExp(`^${alpha.toFixed(3).replace('.', '\\.')}$`), `alpha ${alpha.toFixed(3)}`);
  const agreement = await textOf(page, '[data-testid=agreement]');
  assert.match(agreement, /nominal/i, `the agreement does not show its level: ${agreement}`);
  assert.ok(agreement.includes(pct(q.agreement.overall.pairwise_agreement)), `the agreement does not show the pairwise agreement ${pct(q.agreement.overall.pairwise_agreement)}: ${agreement}`);
  if (Number.isFinite(q.agreement.overall.fleiss_kappa))
    assert.equal(await textOf(page, '[data-testid=fleiss-kappa]'), q.agreement.overall.fleiss_kappa.toFixed(3), "Fleiss' kappa");
  assert.equal(await textOf(page, '[data-testid=tasks-compared]'), String(q.agreement.overall.tasks), 'tasks compared');

  // Per label: one row for cat and one for dog, with the API's counts and a bar each.
  for (const name of ['cat', 'dog']) {
    const row = `[data-testid=per-label] tr[data-label="${name}"]`;
    await waitVisible(page, row, `the per-label row for ${name}`);
    const api = q.agreement.per_label.find((l) => l.label === name);
    assert.ok(api, `the API has no per-label entry for ${name}`);
    assert.equal(await textOf(page, `${row} [data-field=annotations]`), String(api.annotations), `answers that picked ${name}`);
    assert.equal(await page.locator(`${row} svg rect[width]`).count() >= 1, true, `no bar (rect) in the ${name} row`);
  }
  const barWidths = await page.$$eval('[data-testid=per-label] tr[data-label] rect.bar-value', (rs) => Object.fromEntries(rs.map((r) => [r.closest('tr').dataset.label, Number(r.getAttribute('width'))])));
  const catN = q.agreement.per_label.find((l) => l.label === 'cat').annotations;
  const dogN = q.agreement.per_label.find((l) => l.label === 'dog').annotations;
  assert.equal(barWidths.cat > barWidths.dog, catN > dogN, `the bars ${JSON.stringify(barWidths)} do not follow the counts cat ${catN}, dog ${dogN}`);

  // Confidence: 10 bars whose counts are the API's, heights in proportion.
  const bars = await histogramBars(page);
  assert.deepEqual(
    bars.map((b) => b.bin),
    ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    'the histogram should have 10 rect[data-bin] 0..9',
  );
  assert.deepEqual(
    bars.map((b) => b.count),
    q.confidence.histogram.map((b) => b.results),
    "the histogram's counts are not the API's",
  );
  const max = Math.max(...bars.map((b) => b.count));
  const tallest = Math.max(...bars.map((b) => b.height));
  for (const b of bars) assert.ok(Math.abs(b.height - (tallest * b.count) / max) <= 1, `bin ${b.bin}'s height ${b.height} is not in proportion to its count ${b.count} (tallest ${tallest} for ${max})`);
  const confidence = await textOf(page, '[data-testid=confidence]');
  assert.ok(confidence.includes(q.confidence.mean.toFixed(3)), `the mean confidence ${q.confidence.mean.toFixed(3)} is not shown: ${confidence}`);
  assert.equal(await textOf(page, '[data-testid=below-half]'), String(q.confidence.below_0_5), 'results below 0.5');

  // Workers: both annotators, skill not known before a refit.
  for (const u of [ann1, ann2]) {
    const row = await workerRow(page, u);
    assert.equal(row.email, u.email, `the workers table has no row for ${u.email}: ${await textOf(page, '[data-testid=workers]')}`);
    assert.equal(row.tasks_done, '4', `${u.email} did 4 tasks`);
    assert.equal(row.skill, '—', `${u.email}'s skill before a refit`);
    assert.match(row.paused, /active/i, `${u.email} is not paused yet`);
  }
  const w1 = q.workers.find((w) => w.user_id === ann1.id);
  assert.equal((await workerRow(page, ann1)).agreement.split(' ')[0], pct(w1.agreement_with_consensus), "the first annotator's agreement with consensus");

  // Refit: the summary, then the skills.
  await page.click('button[data-action=refit]');
  const summary = await waitText(page, '[data-testid=refit-result]', /\d+ results?, \d+ changed/, 'the refit summary "N results, M changed"');
  const refits = requests.filter((r) => r.method === 'POST' && r.path === `/v1/projects/${project.id}/aggregate`);
  assert.equal(refits.length, 1, `expected one POST .../aggregate, saw ${refits.length}`);
  const after = await quality(project);
  const fitted = after.workers.find((w) => w.user_id === ann2.id);
  assert.ok(Number.isFinite(fitted.skill), `the API has no skill after the refit: ${JSON.stringify(after.workers)}`);
  assert.match(summary, new RegExp(`^Refit: ${after.confidence.results} results?`), `the summary ${JSON.stringify(summary)} does not count the API's ${after.confidence.results} results`);
  await until(
    async () => (await workerRow(page, ann2)).skill === pct(fitted.skill),
    async () => `expected ${ann2.email}'s skill ${pct(fitted.skill)} after the refit; the row shows ${JSON.stringify(await workerRow(page, ann2))}`,
  );
  assert.notEqual((await workerRow(page, ann1)).skill, '—', `${ann1.email}'s skill after the refit`);

  // Pause the second annotator with a reason.
  await page.click(`[data-testid=workers] tr[data-user-id="${ann2.id}"] button[data-action=pause]`);
  await waitVisible(page, 'input[name=pause-reason]', 'the pause reason after clicking Pause');
  await page.fill('input[name=pause-reason]', 'too many disagreements');
  await page.click('button[data-action=confirm-pause]');
  await until(
    async () => /paused/i.test((await workerRow(page, ann2)).paused ?? ''),
    async () => `expected ${ann2.email}'s row to say paused; it shows ${JSON.stringify(await workerRow(page, ann2))}`,
  );
  assert.match((await workerRow(page, ann2)).paused, /too many disagreements/, 'the row shows the pause reason');
  assert.equal(await page.locator(`[data-testid=workers] tr[data-user-id="${ann2.id}"] button[data-action=reinstate]`).count(), 1, 'a paused row offers Reinstate');
  assert.match((await workerRow(page, ann1)).paused, /active/i, 'the other worker stays active');
  const workers = expectStatus(await srv.api('GET', `/v1/projects/${project.id}/workers`), 200).items;
  const paused = workers.find((w) => w.user_id === ann2.id);
  assert.equal(paused?.paused, true, `the API does not have ${ann2.email} paused: ${JSON.stringify(paused)}`);
  assert.equal(paused.pause_reason, 'too many disagreements');
  assert.equal(workers.find((w) => w.user_id === ann1.id)?.paused, false, `${ann1.email} was paused too`);
  await screenshot(page, 'quality');

  // Reinstate from the row.
  await page.click(`[data-testid=workers] tr[data-user-id="${ann2.id}"] button[data-action=reinstate]`);
  await until(
    async () => /active/i.test((await workerRow(page, ann2)).paused ?? ''),
    async () => `expected ${ann2.email}'s row to say active after Reinstate; it shows ${JSON.stringify(await workerRow(page, ann2))}`,
  );
  const again = expectStatus(await srv.api('GET', `/v1/projects/${project.id}/workers`), 200).items.find((w) => w.user_id === ann2.id);
  assert.equal(again.paused, false, `the API still has ${ann2.email} paused after Reinstate`);
});

browserTest('an annotator who opens the quality page sees the API\'s 403', async ({ page }) => {
  const { project } = await makeTextProject(srv, { labels: ['cat', 'dog'], texts: ['R1: a cat.'] });
  const ann = await makeAnnotator(srv, 'qa-annotator@test.io', PASSWORD, [project.id]);
  const direct = await srv.api('GET', `/v1/projects/${project.id}/quality`, undefined, { key: ann.key });
  assert.equal(direct.status, 403, `an annotator's GET .../quality answered ${direct.status}`);
  const message = direct.body?.error?.message;
  await login(page, srv, ann.email, ann.password, { project });
  // The card offers Quality to managers only (the project's role); the address still opens it.
  assert.equal(await page.locator(`a[data-quality-project-id="${project.id}"]`).count(), 0, 'an annotator is offered the Quality link');
  await page.goto(`${srv.base}/#/projects/${project.id}/quality`);
  await waitVisible(page, '[data-testid=error]', 'the error for a non-manager');
  const err = await textOf(page, '[data-testid=error]');
  assert.ok(err.includes(message), `the error ${JSON.stringify(err)} is not the API's ${JSON.stringify(message)}; the page shows ${await pageText(page)}`);
  assert.equal(await page.locator('[data-testid=workers]').count(), 0, 'a non-manager must not see the workers table');
});
