// taskbrowser.test.mjs -- a project's task browser (#/projects/ID/tasks) and
// the full view of a task (#/tasks/ID).  A reviewer filters by status,
// batch, tag and creation date and sees the rows the API lists for the same
// filters; the filters stay in the address across a reload and the back
// button; a bad filter is explained; a row opens the task, with its input,
// result, annotation (and worker), decision and versions.  A manager audits
// a completed task (accept, then reject with a comment); "Load more" pages
// through 60 tasks.  Every outcome is checked through the API.
import assert from 'node:assert/strict';
import { expectStatus, cliKey, listAll, ADMIN_EMAIL, ADMIN_PASSWORD } from '../api/harness.mjs';
import { serveUi, PASSWORD, browserTest, makeAnnotator, login, screenshot, until, textOf, pageText, waitVisible, waitText, waitStatus } from './browser.mjs';

let srv;
serveUi((s) => (srv = s));


async function makeReviewer(email, projectIds) {
  const u = expectStatus(await srv.api('POST', '/v1/users', { email, role: 'member', name: email.split('@')[0], password: PASSWORD }), 201);
  for (const p of projectIds) expectStatus(await srv.api('PUT', `/v1/projects/${p}/members/${u.id}`, { role: 'reviewer' }), 200);
  return { ...u, password: PASSWORD, key: cliKey(srv.dir, email) };
}

/* A categorization project: two tasks outside any batch, three in the
 * batch "week-1" (finalized, one with a model's prediction), one canceled,
 * one gold; an annotator answers the first three the queue gives out.
 * Returns {project, batch, tasks, ann}. */
async function makeProject(name) {
  const project = expectStatus(
    await srv.api('POST', '/v1/projects', { name, kind: 'categorization', params: { labels: ['cat', 'dog', 'bird'], instructions: 'Pick the animal.' }, overlap: 1 }),
    201,
  );
  const batch = expectStatus(await srv.api('POST', `/v1/projects/${project.id}/batches`, { name: 'week-1' }), 201);
  const specs = [
    { unique_id: 'p0', data: { text: 'Papa: a cat chases a moth.' }, tags: ['night'] },
    { unique_id: 'p1', data: { text: 'Quebec: a dog digs in the sand.' }, tags: ['rain'], batch: 'week-1' },
    { unique_id: 'p2', data: { text: 'Romeo: a heron stands in the reeds.' }, tags: ['night', 'rain'], batch: 'week-1' },
    { unique_id: 'p3', data: { text: 'Sierra: a kitten sleeps on a rug.' } },
    { unique_id: 'p4', data: { text: 'Tango: canceled before anyone saw it.' } },
    { unique_id: 'p5', data: { text: 'Uniform: a puppy fetches a stick.' }, batch: 'week-1', predictions: [{ model: 'petnet-2', score: 0.87, response: { labels: ['dog'] } }] },
    { unique_id: 'g0', data: { text: 'Whiskey: a gold question about a cat.' }, expected_response: { labels: ['cat'] } },
  ];
  const tasks = [];
  for (const s of specs) tasks.push(expectStatus(await srv.api('POST', '/v1/tasks', { project_id: project.id, ...s }), 201));
  expectStatus(await srv.api('POST', `/v1/batches/${batch.id}/finalize`), 200);
  expectStatus(await srv.api('POST', `/v1/tasks/${tasks[4].id}/cancel`), 200);
  const ann = await makeAnnotator(srv, `ann-${name}@test.io`, PASSWORD, [project.id]);
  for (let n = 0; n < 3; n++) {
    const next = expectStatus(await srv.api('GET', `/v1/projects/${project.id}/queue/next`, undefined, { key: ann.key }), 200);
    assert.ok(next.assignment, `the annotator got no task #${n + 1}`);
    const text = next.assignment.task.data.text;
    const label = /cat|kitten/.test(text) ? 'cat' : /dog|puppy/.test(text) ? 'dog' : 'bird';
    expectStatus(await srv.api('POST', `/v1/assignments/${next.assignment.id}/submit`, { annotation_id: `a-${n}`, response: { labels: [label] } }, { key: ann.key }), 201);
  }
  return { project, batch, tasks, ann };
}

async function apiIds(project, query = '') {
  const { items } = await listAll(srv, `/v1/projects/${project.id}/tasks${query ? `?${query}` : ''}`);
  return items.map((t) => t.id);
}

async function rowIds(page) {
  return page.$$eval('[data-testid=tasks] tbody tr[data-task-id]', (rs) => rs.map((r) => Number(r.dataset.taskId))).catch(() => []);
}

/* Waits until the table lists exactly the tasks the API lists for query. */
async function waitRows(page, project, query, what) {
  const want = await apiIds(project, query);
  let seen;
  await until(
    async () => {
      seen = await rowIds(page);
      const busy = await page.getAttribute('[data-testid=tasks]', 'aria-busy').catch(() => 'true');
      if (busy !== 'false') return false;
      if (!want.length) return seen.length === 0 && (await page.locator('[data-testid=no-tasks]').isVisible());
      return JSON.stringify(seen) === JSON.stringify(want);
    },
    async () => `expected ${what}: the rows of GET /v1/projects/${project.id}/tasks?${query} (${JSON.stringify(want)}); the table shows ${JSON.stringify(seen)}; the page (${page.url()}) shows ${await pageText(page)}`,
  );
  return want;
}

async function hashQuery(page) {
  const hash = await page.evaluate(() => location.hash);
  const i = hash.indexOf('?');
  return Object.fromEntries(new URLSearchParams(i >= 0 ? hash.slice(i + 1) : ''));
}

browserTest('a reviewer filters the tasks (status, batch, tag, date): the rows are the API\'s, and the address keeps the filters', async ({ page }) => {
  const { project, batch, tasks, ann } = await makeProject('browse');
  const rev = await makeReviewer('rita-browse@test.io', [project.id]);
  await login(page, srv, rev.email, rev.password);
  await waitVisible(page, `a[data-tasks-project-id="${project.id}"]`, 'the Tasks button on the project card');
  await page.click(`a[data-tasks-project-id="${project.id}"]`);

  const all = await waitRows(page, project, '', 'every task');
  assert.equal(all.length, 7);
  const firstRow = await page.$$eval(`tr[data-task-id="${tasks[1].id}"] [data-field]`, (cs) => Object.fromEntries(cs.map((c) => [c.dataset.field, c.innerText.trim()])));
  assert.equal(firstRow.unique_id, 'p1');
  assert.equal(firstRow.batch, 'week-1', `the batch column shows the batch's name: ${JSON.stringify(firstRow)}`);
  assert.match(firstRow.tags, /rain/);
  assert.match(firstRow.preview, /Quebec: a dog digs/);
  assert.match(await textOf(page, '[data-testid=status-filter] [data-status=completed]'), /3/, 'the Completed filter counts 3 tasks');
  await screenshot(page, 'tasks-all');

  // Status.
  await page.click('[data-testid=status-filter] button[data-status=completed]');
  const completed = await waitRows(page, project, 'status=completed', 'the completed tasks');
  assert.equal(completed.length, 3);
  assert.deepEqual(await hashQuery(page), { status: 'completed' }, 'the address keeps the status filter');
  await page.click('[data-testid=status-filter] button[data-status=canceled]');
  await waitRows(page, project, 'status=canceled', 'the canceled task');
  assert.deepEqual(await rowIds(page), [tasks[4].id]);
  await page.click('[data-testid=status-filter] button[data-status=completed]');
  await waitRows(page, project, 'status=completed', 'the completed tasks again');
  await screenshot(page, 'tasks-completed');

  // A reload keeps the filter.
  await page.reload();
  await waitRows(page, project, 'status=completed', 'the completed tasks after a reload');
  assert.equal(await page.getAttribute('[data-testid=status-filter] button[data-status=completed]', 'aria-pressed'), 'true', 'the status filter is shown as chosen after a reload');

  // Batch, with the status.
  await page.selectOption('#tb-batch', String(batch.id));
  await waitRows(page, project, `status=completed&batch_id=${batch.id}`, 'the completed tasks of week-1');
  assert.deepEqual(await hashQuery(page), { status: 'completed', batch_id: String(batch.id) });

  // All statuses, the batch, then a tag.
  await page.click('[data-testid=status-filter] button[data-status=all]');
  await waitRows(page, project, `batch_id=${batch.id}`, 'every task of week-1');
  await page.fill('#tb-tag', 'rain');
  await page.press('#tb-tag', 'Enter');
  const rainy = await waitRows(page, project, `batch_id=${batch.id}&tag=rain`, 'the tasks of week-1 tagged rain');
  assert.deepEqual(rainy, [tasks[1].id, tasks[2].id]);
  assert.deepEqual(await hashQuery(page), { batch_id: String(batch.id), tag: 'rain' });
  await screenshot(page, 'tasks-batch-tag');

  // Back: the previous filters.
  await page.goBack();
  await waitRows(page, project, `batch_id=${batch.id}`, 'the previous filters (week-1, no tag) after the back button');
  assert.equal(await page.inputValue('#tb-tag'), '', 'the tag field is empty again after going back');
  assert.equal(await page.inputValue('#tb-batch'), String(batch.id));

  // Creation dates: nothing was created after tomorrow, everything before it.
  await page.click('[data-action=clear-filters]');
  await waitRows(page, project, '', 'every task after Clear filters');
  const tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
  await page.fill('#tb-after', tomorrow);
  await waitRows(page, project, `created_after=${tomorrow}`, 'no task created on or after tomorrow');
  await waitText(page, '[data-testid=no-tasks]', /no task matches/i, 'the empty result explained');
  await screenshot(page, 'tasks-none');
  await page.fill('#tb-after', '');
  await page.fill('#tb-before', tomorrow);
  await waitRows(page, project, `created_before=${tomorrow}`, 'every task created before tomorrow');

  // A bad filter in the address is explained.
  await page.goto(`${srv.base}/#/projects/${project.id}/tasks?created_after=yesterday`);
  await waitText(page, '[data-testid=error]', /created on or after[\s\S]*not an RFC 3339 time/i, 'the bad created_after filter explained');
  assert.equal(await page.getAttribute('#tb-after', 'aria-invalid'), 'true', 'the bad field is marked');
  await screenshot(page, 'tasks-bad-filter');
  await page.click('[data-action=clear-bad-filter]');
  await waitRows(page, project, '', 'every task once the bad filter is removed');

  // A row opens the task in full.
  const done = expectStatus(await srv.api('GET', `/v1/projects/${project.id}/tasks?status=completed&limit=1`), 200).items[0];
  await page.click(`tr[data-task-id="${done.id}"] [data-field=preview]`);
  await until(async () => (await page.evaluate(() => location.hash)) === `#/tasks/${done.id}`, `clicking the row of task ${done.id} opens #/tasks/${done.id}`);
  await waitVisible(page, '[data-testid=task-annotations] [data-testid=annotation]', "the task's annotation");
  assert.equal(await textOf(page, '[data-testid=task-status]'), 'Completed');
  assert.ok(((await textOf(page, '[data-testid=task-input]')) ?? '').includes(done.data.text), 'the task view shows the input text');
  const label = done.result.response.labels[0];
  assert.equal(await page.getAttribute(`[data-testid=task-result] button[data-label="${label}"]`, 'aria-pressed'), 'true', `the result (${label}) shown in the editor`);
  assert.equal(await textOf(page, '[data-testid=task-annotations] [data-testid=annotation-worker]'), ann.email, "the annotation names its worker's email");
  assert.equal(await page.locator('[data-testid=versions] [data-testid=version]').count(), 1, 'one version of the result');
  assert.match(await textOf(page, '[data-testid=task-result] [data-field=method]'), /auto|majority/);
  assert.equal(await page.locator('[data-testid=audit]').count(), 0, 'a reviewer is not offered the audit');
  await screenshot(page, 'task-view');

  // Back to the list as it was.
  await page.click('a.back');
  await waitRows(page, project, '', 'the list after the back link');
});

browserTest('a manager audits a completed task: accept, then reject with a comment', async ({ page }) => {
  const { project, tasks } = await makeProject('audit');
  const done = expectStatus(await srv.api('GET', `/v1/projects/${project.id}/tasks?status=completed&limit=1`), 200).items[0];
  await login(page, srv, ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.goto(`${srv.base}/#/tasks/${done.id}`);
  await waitVisible(page, '[data-testid=audit]', 'the audit actions for a manager on a completed task');

  await page.click('[data-action=audit-accept]');
  await waitStatus(page, /accepted in audit/i, 'the audit accept confirmed');
  await waitText(page, '[data-testid=last-decision]', /audit: accepted/i, 'the audit as the last decision');
  let t = expectStatus(await srv.api('GET', `/v1/tasks/${done.id}`), 200);
  assert.equal(t.review?.action, 'audit_accept', `the task's review: ${JSON.stringify(t.review)}`);
  assert.equal(t.status, 'completed');

  await page.click('[data-action=audit-reject]');
  await waitVisible(page, '[data-testid=audit-dialog]', 'the audit reject dialog');
  await page.click('[data-action=confirm-audit-reject]');
  await waitText(page, '[data-testid=audit-error]', /say what is wrong/i, 'a reject without a comment refused');
  const comment = 'The customer says this is a different animal.';
  await page.fill('#audit-comment', comment);
  await screenshot(page, 'task-audit-dialog');
  await page.click('[data-action=confirm-audit-reject]');
  await waitText(page, '[data-testid=task-status]', /pending/i, 'the task back in annotation after the audit reject');
  await waitText(page, '[data-testid=decision-comment]', new RegExp(comment.replace(/\./g, '\\.')), 'the audit comment on the page');
  t = expectStatus(await srv.api('GET', `/v1/tasks/${done.id}`), 200);
  assert.equal(t.status, 'pending', `after the audit reject the task is ${t.status}`);
  assert.equal(t.review?.action, 'audit_reject');
  assert.equal(t.review?.comment, comment);
  assert.equal(await page.locator('[data-testid=audit]').count(), 0, 'no audit on a task that is not completed');
  const anns = expectStatus(await srv.api('GET', `/v1/tasks/${done.id}/annotations`), 200).items;
  await until(
    async () => (await page.$$eval('[data-testid=annotation]', (as) => as.map((a) => a.dataset.status))).join() === anns.map((a) => a.status).join(),
    "the annotations' statuses (returned) on the page",
  );
  await screenshot(page, 'task-after-audit');

  // A gold task shows its expected answer; a task with a prediction, the model's answer.
  const gold = tasks.find((x) => x.unique_id === 'g0');
  await page.goto(`${srv.base}/#/tasks/${gold.id}`);
  await waitVisible(page, '[data-testid=gold]', "the gold task's expected answer");
  assert.equal(await page.getAttribute('[data-testid=gold] button[data-label="cat"]', 'aria-pressed'), 'true', 'the expected answer (cat) shown in the editor');
  await screenshot(page, 'task-gold');
  const predicted = tasks.find((x) => x.unique_id === 'p5');
  await page.goto(`${srv.base}/#/tasks/${predicted.id}`);
  await waitText(page, '[data-testid=predictions]', /petnet-2[\s\S]*0\.87/, "the model's prediction with its score");
  assert.equal(await page.getAttribute('[data-testid=predictions] button[data-label="dog"]', 'aria-pressed'), 'true', "the model's answer (dog) shown in the editor");
});

browserTest('"Load more" pages through 60 tasks, 50 at a time', async ({ page }) => {
  const project = expectStatus(await srv.api('POST', '/v1/projects', { name: 'paging', kind: 'categorization', params: { labels: ['a', 'b'] } }), 201);
  const rows = Array.from({ length: 60 }, (_, i) => ({ unique_id: `row-${i}`, data: { text: `Row ${i}` } }));
  const imp = expectStatus(await srv.api('POST', `/v1/projects/${project.id}/tasks`, rows), 200);
  assert.equal(imp.created, 60, JSON.stringify(imp).slice(0, 300));
  await login(page, srv, ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.goto(`${srv.base}/#/projects/${project.id}/tasks`);
  const want = await apiIds(project);
  await until(async () => (await rowIds(page)).length === 50, async () => `the first page should hold 50 rows; the page shows ${(await rowIds(page)).length}`);
  await waitText(page, '[data-testid=summary]', /showing 50 tasks; more below/i, 'the summary of the first page');
  await page.click('[data-action=load-more]');
  await until(async () => JSON.stringify(await rowIds(page)) === JSON.stringify(want), async () => `after Load more the rows should be all 60 of the API's; they are ${JSON.stringify(await rowIds(page))}`);
  await until(async () => !(await page.locator('[data-action=load-more]').isVisible()), 'no Load more once every task is shown');
  await waitText(page, '[data-testid=summary]', /showing 60 tasks\.$/i, 'the summary once all are loaded');

  // The keyboard: j moves down the rows, Enter opens the task.
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  const focused = await page.evaluate(() => document.activeElement?.closest('tr')?.dataset.taskId);
  assert.equal(Number(focused), want[1], 'j twice focuses the second row');
  await page.keyboard.press('Enter');
  await until(async () => (await page.evaluate(() => location.hash)) === `#/tasks/${want[1]}`, 'Enter opens the focused task');
  await waitText(page, '[data-testid=task-input]', /Row 1\b/, 'the second task opened from the keyboard');
});

browserTest('an annotator is told plainly that the task browser is for reviewers', async ({ page }) => {
  const project = expectStatus(await srv.api('POST', '/v1/projects', { name: 'closed', kind: 'categorization', params: { labels: ['a', 'b'] } }), 201);
  const task = expectStatus(await srv.api('POST', '/v1/tasks', { project_id: project.id, data: { text: 'Victor: a secret task.' } }), 201);
  const ann = await makeAnnotator(srv, 'ann-closed@test.io', PASSWORD, [project.id]);
  await login(page, srv, ann.email, ann.password);
  await page.goto(`${srv.base}/#/projects/${project.id}/tasks`);
  await waitText(page, '[data-testid=forbidden]', /reviewer or manager role/i, 'the 403 on the task list explained');
  await screenshot(page, 'tasks-forbidden');
  await page.goto(`${srv.base}/#/tasks/${task.id}`);
  await waitText(page, '[data-testid=error]', /only reviewers and managers/i, 'the 403 on a task explained');
  assert.ok(!((await pageText(page, 5000)).includes('Victor: a secret task')), 'the task must not be shown to an annotator');
});
