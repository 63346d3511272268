// annotate.test.mjs -- a person labeling in the browser: log in, open a
// project, label tasks with the keyboard and the mouse, drafts that survive a
// reload, a submit retried after a failure without a duplicate, skipping with
// a reason, and a wrong password.  Every outcome is checked through the API.
import assert from 'node:assert/strict';
import { expectStatus } from '../api/harness.mjs';
import {
  serveUi,
  PASSWORD,
  browserTest,
  makeAnnotator,
  makeTextProject,
  login,
  openQueue,
  screenshot,
  until,
  textOf,
  pageText,
  waitVisible,
  waitPressed,
  waitStatus,
  clearStatusLog,
  statusLog,
  WAIT_MS,
} from './browser.mjs';

let srv;
serveUi((s) => (srv = s));


/* Waits until [data-testid=task] shows text. */
async function waitTask(page, text, what = `the task ${JSON.stringify(text)}`, timeout = WAIT_MS) {
  return until(
    async () => ((await textOf(page, '[data-testid=task]')) ?? '').includes(text),
    async () => `expected [data-testid=task] to show ${what}; it shows ${JSON.stringify(await textOf(page, '[data-testid=task]'))}; the page (${page.url()}) shows ${await pageText(page)}`,
    timeout,
  );
}

/* The lease the page was given for task (from its queue/next answers). */
async function leaseOf(assignments, task) {
  return until(
    () => assignments.findLast((a) => a.task_id === task.id),
    () => `the page was given no assignment for task ${task.id} by GET /v1/projects/${task.project_id}/queue/next (it got ${JSON.stringify(assignments.map((a) => a.task_id))})`,
  );
}

async function annotationsOf(task) {
  return expectStatus(await srv.api('GET', `/v1/tasks/${task.id}/annotations`), 200).items;
}

/* The JSON bodies of the page's POST /v1/assignments/ID/submit requests. */
function submitsOf(requests, assignmentId) {
  return requests
    .filter((r) => r.method === 'POST' && r.path === `/v1/assignments/${assignmentId}/submit`)
    .map((r) => {
      try {
        return JSON.parse(r.body);
      } catch {
        return { unparsable: r.body };
      }
    });
}

async function hash(page) {
  return page.evaluate(() => location.hash);
}

/* Asserts that the task has exactly one annotation, accepted, by user, with
 * these labels, and that it is completed with that result. */
async function assertOneAnnotation(task, user, labels, assignmentId) {
  const items = await annotationsOf(task);
  assert.equal(items.length, 1, `task ${task.id} should have exactly 1 annotation, has ${items.length}: ${JSON.stringify(items)}`);
  const [a] = items;
  assert.equal(a.user_id, user.id, `task ${task.id}'s annotation is by user ${a.user_id}, not ${user.email} (${user.id})`);
  assert.equal(a.status, 'accepted', `task ${task.id}'s annotation is ${a.status} (${a.reason})`);
  assert.deepEqual(a.response, { labels }, `task ${task.id} stored ${JSON.stringify(a.response)}, but ${JSON.stringify(labels)} was chosen`);
  if (assignmentId !== undefined) assert.equal(a.assignment_id, assignmentId, `task ${task.id}'s annotation belongs to assignment ${a.assignment_id}`);
  const t = expectStatus(await srv.api('GET', `/v1/tasks/${task.id}`), 200);
  assert.equal(t.status, 'completed', `task ${task.id} is ${t.status}`);
  assert.equal(t.result?.annotations, 1, `task ${task.id}'s result counts ${t.result?.annotations} annotations`);
  assert.deepEqual(t.result.response, { labels });
}

browserTest('a person logs in, opens the project, labels three tasks with keys and mouse; the API has exactly those labels', async ({ page, requests, assignments }) => {
  const texts = ['Alpha: a small dog barks at the mailman.', 'Bravo: the cat sleeps on the warm windowsill.', 'Charlie: a robin sings in the garden at dawn.'];
  const { project, tasks } = await makeTextProject(srv, { texts });
  const ann = await makeAnnotator(srv, 'ann-roundtrip@test.io', PASSWORD, [project.id]);

  await login(page, srv, ann.email, ann.password, { shot: 'login' });
  const link = `a[data-project-id="${project.id}"]`;
  await waitVisible(page, link, 'the project list');
  assert.ok(await page.getByText(project.name).first().isVisible(), `the project list does not show the project's name ${project.name}: ${await pageText(page)}`);
  await screenshot(page, 'projects');
  await page.click(link);
  await until(
    async () => (await hash(page)) === `#/projects/${project.id}/queue`,
    async () => `clicking the project did not go to #/projects/${project.id}/queue but to ${await hash(page)}`,
  );

  // Task 1: the keyboard.  "2" picks the second label, Enter submits.
  await waitTask(page, texts[0]);
  await waitVisible(page, 'button[data-label="dog"]', 'the label buttons');
  assert.deepEqual(
    await page.$$eval('button[data-label]', (bs) => bs.map((b) => b.dataset.label)),
    ['cat', 'dog', 'bird'],
    "the label buttons are not the project's labels in order",
  );
  await waitPressed(page, [], 'no label selected on a new task');
  await screenshot(page, 'queue');
  const a1 = await leaseOf(assignments, tasks[0]);
  await clearStatusLog(page);
  await page.keyboard.press('2');
  await waitPressed(page, ['dog'], 'pressing "2" to select the second label (dog), and only it');
  await page.keyboard.press('Enter');
  await waitStatus(page, /submitted/i, '"Submitted" after pressing Enter');
  await waitTask(page, texts[1], 'the second task after submitting the first');
  await waitPressed(page, [], 'no label selected on the next task');

  // Task 2: the mouse.
  const a2 = await leaseOf(assignments, tasks[1]);
  await clearStatusLog(page);
  await page.click('button[data-label="cat"]');
  await waitPressed(page, ['cat'], 'clicking "cat" selects it');
  await page.click('button[data-action=submit]');
  await waitStatus(page, /submitted/i, '"Submitted" after clicking submit');
  await waitTask(page, texts[2], 'the third task after submitting the second');

  // Task 3: keys again (focus may still be on the submit button: one submit only).
  const a3 = await leaseOf(assignments, tasks[2]);
  await page.keyboard.press('3');
  await waitPressed(page, ['bird'], 'pressing "3" to select bird');
  await page.keyboard.press('Enter');
  await waitVisible(page, '[data-testid=empty]', 'the empty queue after the last task');
  await screenshot(page, 'empty-queue');

  await assertOneAnnotation(tasks[0], ann, ['dog'], a1.id);
  await assertOneAnnotation(tasks[1], ann, ['cat'], a2.id);
  await assertOneAnnotation(tasks[2], ann, ['bird'], a3.id);
  for (const a of [a1, a2, a3]) {
    const bodies = submitsOf(requests, a.id);
    assert.ok(bodies.length >= 1, `no POST /v1/assignments/${a.id}/submit was made`);
    assert.equal(new Set(bodies.map((b) => b.annotation_id)).size, 1, `assignment ${a.id} was submitted with several annotation_ids: ${JSON.stringify(bodies)}`);
  }
});

browserTest('a draft survives a reload, and reaches another browser', async ({ page, requests, assignments, browser }) => {
  const texts = ['Delta: two cats chase a string.', 'Echo: a parrot repeats a word.'];
  const { project, tasks } = await makeTextProject(srv, { texts });
  const ann = await makeAnnotator(srv, 'ann-draft@test.io', PASSWORD, [project.id]);
  await openQueue(page, srv, ann, project);
  await waitTask(page, texts[0]);
  const a = await leaseOf(assignments, tasks[0]);
  await clearStatusLog(page);
  await page.click('button[data-label="bird"]');
  await waitPressed(page, ['bird'], 'clicking "bird" selects it');
  await waitStatus(page, /draft saved/i, '"Draft saved" after picking a label');
  const puts = requests.filter((r) => r.method === 'PUT' && r.path === `/v1/assignments/${a.id}/draft`);
  assert.ok(puts.some((r) => r.status === 200), `"Draft saved" shown, but no PUT /v1/assignments/${a.id}/draft answered 200: ${JSON.stringify(puts)}`);
  const stored = expectStatus(await srv.api('GET', `/v1/assignments/${a.id}`), 200);
  assert.match(JSON.stringify(stored.draft), /"bird"/, `the server's draft of assignment ${a.id} does not hold "bird": ${JSON.stringify(stored.draft)}`);

  await page.reload();
  await waitTask(page, texts[0], 'the same task after a reload');
  await waitPressed(page, ['bird'], 'after a reload, the drafted label "bird" still selected (aria-pressed="true")');
  assert.equal((await annotationsOf(tasks[0])).length, 0, 'a draft must not submit anything');
  assert.equal(submitsOf(requests, a.id).length, 0, 'the page submitted without being asked');

  // Another browser (nothing kept locally) gets the draft from the server.
  const other = await browser.newContext();
  try {
    const page2 = await other.newPage();
    await openQueue(page2, srv, ann, project);
    await waitTask(page2, texts[0], 'the same task in another browser');
    await waitPressed(page2, ['bird'], 'in another browser, the drafted label "bird" selected from the server\'s draft');
  } finally {
    await other.close();
  }
});

/* Labels the first task of a new project and submits it while the first
 * POST .../submit fails as failFirst says; the UI must retry on its own with
 * the same annotation_id, and the server must hold one annotation. */
async function retriedSubmit({ page, requests, assignments }, name, failFirst) {
  const texts = [`${name}: a hamster runs in its wheel.`, `${name} 2: a goldfish circles its bowl.`];
  const { project, tasks } = await makeTextProject(srv, { texts });
  const ann = await makeAnnotator(srv, `ann-${name}@test.io`, PASSWORD, [project.id]);
  let calls = 0;
  await page.route('**/v1/assignments/*/submit', async (route) => {
    if (route.request().method() !== 'POST' || calls++ > 0) return route.continue();
    await failFirst(route);
  });
  await openQueue(page, srv, ann, project);
  await waitTask(page, texts[0]);
  const a = await leaseOf(assignments, tasks[0]);
  await clearStatusLog(page);
  await page.click('button[data-label="dog"]');
  await waitPressed(page, ['dog']);
  await page.click('button[data-action=submit]');
  // The UI retries by itself (with some back-off): allow it 20 s.
  await waitTask(page, texts[1], 'the next task once the retried submit went through', 20000);
  const seen = await statusLog(page);
  assert.ok(seen.some((t) => /retry/i.test(t)), `the status never said it was retrying ("Retrying…"); it showed ${JSON.stringify(seen)}`);
  assert.ok(seen.some((t) => /submitted/i.test(t)), `the status never said "Submitted"; it showed ${JSON.stringify(seen)}`);
  assert.ok(
    seen.findIndex((t) => /retry/i.test(t)) < seen.findLastIndex((t) => /submitted/i.test(t)),
    `"Submitted" must come after "Retrying…": ${JSON.stringify(seen)}`,
  );

  const bodies = submitsOf(requests, a.id);
  assert.ok(bodies.length >= 2, `the failed submit was not retried: ${bodies.length} POST /v1/assignments/${a.id}/submit`);
  const ids = new Set(bodies.map((b) => b.annotation_id));
  assert.equal(ids.size, 1, `the retry used another annotation_id: ${JSON.stringify(bodies.map((b) => b.annotation_id))}`);
  assert.ok(typeof bodies[0].annotation_id === 'string' && bodies[0].annotation_id.length > 0, `no annotation_id in ${JSON.stringify(bodies[0])}`);
  await assertOneAnnotation(tasks[0], ann, ['dog'], a.id);
}

browserTest('a submit answered 503 once is retried, with one annotation in the end', async (ctx) => {
  await retriedSubmit(ctx, 'retry503', (route) =>
    route.fulfill({
      status: 503,
      contentType: 'application/json',
      body: JSON.stringify({ error: { code: 'unavailable', message: 'the server is busy: try again' } }),
    }),
  );
});

browserTest('a submit whose answer is lost after the server stored it is retried without a duplicate', async (ctx) => {
  await retriedSubmit(ctx, 'retrylost', async (route) => {
    const res = await route.fetch(); // the server stores the annotation...
    assert.equal(res.status(), 201, `the first submit itself failed: ${await res.text()}`);
    await route.abort('connectionreset'); // ...and the page never hears of it
  });
});

browserTest('skipping with a reason moves on, and the API shows the assignment skipped', async ({ page, requests, assignments }) => {
  const texts = ['Foxtrot: an unreadable scan of something.', 'Golf: a horse in a field.'];
  const { project, tasks } = await makeTextProject(srv, { texts });
  const ann = await makeAnnotator(srv, 'ann-skip@test.io', PASSWORD, [project.id]);
  await openQueue(page, srv, ann, project);
  await waitTask(page, texts[0]);
  const a = await leaseOf(assignments, tasks[0]);
  await page.click('button[data-action=skip]');
  await waitVisible(page, 'input[name=reason]', 'the skip reason after clicking skip');
  await page.fill('input[name=reason]', 'the scan is unreadable');
  await page.click('button[data-action=confirm-skip]');
  await waitTask(page, texts[1], 'the next task after skipping');
  const skips = requests.filter((r) => r.method === 'POST' && r.path === `/v1/assignments/${a.id}/skip`);
  assert.equal(skips.length, 1, `expected one POST /v1/assignments/${a.id}/skip, saw ${skips.length}`);
  const got = expectStatus(await srv.api('GET', `/v1/assignments/${a.id}`), 200);
  assert.equal(got.status, 'skipped', `assignment ${a.id} is ${got.status}, not skipped`);
  assert.equal(got.reason, 'the scan is unreadable');
  assert.equal((await annotationsOf(tasks[0])).length, 0, 'skipping must not submit an annotation');
  assert.equal(submitsOf(requests, a.id).length, 0, 'the skipped assignment was submitted');
});

browserTest('the login page shows an error for a wrong password, then logs in with the right one', async ({ page }) => {
  const ann = await makeAnnotator(srv, 'ann-login@test.io', PASSWORD);
  await page.goto(`${srv.base}/#/login`);
  await waitVisible(page, 'input[name=email]', 'the login page');
  assert.equal(await page.locator('[data-testid=error]').filter({ visible: true }).count(), 0, 'the login page shows an error before any attempt');
  await page.fill('input[name=email]', ann.email);
  await page.fill('input[name=password]', 'not-the-password');
  await page.click('button[type=submit]');
  await waitVisible(page, '[data-testid=error]', 'an error after a wrong password');
  const err = await textOf(page, '[data-testid=error]');
  assert.match(err, /wrong|incorrect|invalid/i, `the error does not say the email or password is wrong: ${JSON.stringify(err)}`);
  assert.equal(await hash(page), '#/login', 'a wrong password must leave the person on the login page');
  await screenshot(page, 'login-error');
  const me = await page.evaluate(() => fetch('/v1/me').then((r) => r.status));
  assert.equal(me, 401, 'a wrong password must not start a session');

  await page.fill('input[name=password]', ann.password);
  await page.click('button[type=submit]');
  await until(
    async () => /^#\/projects\/?$/.test(await hash(page)),
    async () => `the right password after a wrong one did not lead to #/projects; at ${page.url()}: ${await pageText(page)}`,
  );
});

browserTest('the queue shows the lease and the instructions, and "?" toggles the shortcuts', async ({ page }) => {
  const texts = ['Hotel: a cow chews grass.'];
  const { project } = await makeTextProject(srv, { texts });
  const ann = await makeAnnotator(srv, 'ann-help@test.io', PASSWORD, [project.id]);
  await openQueue(page, srv, ann, project);
  await waitTask(page, texts[0]);
  await waitVisible(page, '[data-testid=lease]', 'the lease');
  assert.ok(await textOf(page, '[data-testid=lease]'), '[data-testid=lease] is empty');

  const shortcuts = page.locator('[data-testid=shortcuts]');
  assert.equal(await shortcuts.filter({ visible: true }).count(), 0, 'the shortcuts are shown before "?"');
  await page.keyboard.press('?');
  await waitVisible(page, '[data-testid=shortcuts]', 'the shortcuts after pressing "?"');
  await page.keyboard.press('?');
  await until(
    async () => (await shortcuts.filter({ visible: true }).count()) === 0,
    'the shortcuts to hide on a second "?"',
  );

  const instructions = page.getByText('Pick the animal the text is about.');
  if (!(await instructions.first().isVisible())) {
    await page.click('button[data-action=instructions]');
    await until(() => instructions.first().isVisible(), async () => `the project's instructions after clicking button[data-action=instructions]; the page shows ${await pageText(page)}`);
  }
});
