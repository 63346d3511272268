// review.test.mjs -- a reviewer's queue (#/projects/ID/review): an annotator
// answers three tasks through the API in a project with one review level;
// a reviewer in the browser accepts the first (key a), rejects the second
// with a comment (the annotator then sees it), and fixes the third in the
// result's editor (the fix's difference shown before it is saved; the
// result becomes review_fix with a new version, whose difference the task
// view shows).  An unfinished fix survives a reload; an annotator is told
// plainly that the page is not for them; diff.js's structural diff.
// Every outcome is checked through the API.
import assert from 'node:assert/strict';
import { expectStatus, cliKey } from '../api/harness.mjs';
import {
  serveUi,
  PASSWORD,
  browserTest,
  makeAnnotator,
  makeTextProject,
  login,
  screenshot,
  until,
  textOf,
  pageText,
  waitVisible,
  waitText,
  waitStatus,
  clearStatusLog,
} from './browser.mjs';

let srv;
serveUi((s) => (srv = s));


/* A member with the reviewer role in each project (PUT .../members/ID
 * {"role": "reviewer"}), with a password and an API key. */
async function makeReviewer(email, projectIds) {
  const u = expectStatus(await srv.api('POST', '/v1/users', { email, role: 'member', name: email.split('@')[0], password: PASSWORD }), 201);
  for (const p of projectIds) {
    const m = expectStatus(await srv.api('PUT', `/v1/projects/${p}/members/${u.id}`, { role: 'reviewer' }), 200);
    assert.equal(m.role, 'reviewer', `PUT /v1/projects/${p}/members/${u.id} answered ${JSON.stringify(m)}`);
  }
  return { ...u, password: PASSWORD, key: cliKey(srv.dir, email) };
}

/* The annotator leases every task and answers with answers[task.unique_id]. */
async function answerAll(user, project, answers) {
  for (let n = 0; ; n++) {
    assert.ok(n <= 10, 'the queue does not run dry');
    const next = expectStatus(await srv.api('GET', `/v1/projects/${project.id}/queue/next`, undefined, { key: user.key }), 200);
    if (!next.assignment) break;
    const a = next.assignment;
    const labels = [answers[a.task.unique_id]];
    const r = await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `${user.email}-${a.task_id}-${n}`, response: { labels } }, { key: user.key });
    assert.equal(r.status, 201, `${user.email}'s submit on task ${a.task_id}: ${r.text}`);
    assert.equal(r.body.task_status, 'review', `with review_levels 1, a task with its answer should wait in review: ${r.text}`);
  }
}

async function getTask(task) {
  return expectStatus(await srv.api('GET', `/v1/tasks/${task.id}`), 200);
}

/* Waits until the review page shows the task with this text. */
async function waitReviewOf(page, text, what) {
  return until(
    async () => ((await textOf(page, '[data-testid=task]')) ?? '').includes(text) && (await page.locator('[data-testid=review-actions]').isVisible().catch(() => false)),
    async () => `expected the review page to show ${what} (${JSON.stringify(text)}); it shows ${await pageText(page)}`,
  );
}

/* aria-pressed of each label button in the result's editor. */
async function resultLabels(page) {
  return page.$$eval('[data-testid=result-section] button[data-label]', (bs) => Object.fromEntries(bs.map((b) => [b.dataset.label, b.getAttribute('aria-pressed')]))).catch(() => ({}));
}

async function waitResultLabel(page, label, what) {
  let seen;
  return until(
    async () => {
      seen = await resultLabels(page);
      return Object.keys(seen).length > 0 && Object.entries(seen).every(([k, v]) => (v === 'true') === (k === label));
    },
    async () => `expected ${what}: only "${label}" pressed in the result's editor; aria-pressed is ${JSON.stringify(seen)}; the page shows ${await pageText(page)}`,
  );
}

browserTest('a reviewer accepts (a), rejects with a comment (r) and fixes (f) results; the API has each decision', async ({ page, requests }) => {
  const texts = ['Kilo: a tabby cat naps in a box.', 'Lima: a parrot repeats the word hello.', 'Mike: a sparrow hops on the fence.'];
  const { project, tasks } = await makeTextProject(srv, { texts, review_levels: 1 });
  const ann = await makeAnnotator(srv, 'ann-review@test.io', PASSWORD, [project.id]);
  const rev = await makeReviewer('rita-review@test.io', [project.id]);
  await answerAll(ann, project, { t0: 'cat', t1: 'dog', t2: 'bird' });
  for (const t of tasks) assert.equal((await getTask(t)).status, 'review', `task ${t.id} should wait for review`);

  await login(page, srv, rev.email, rev.password);
  await waitVisible(page, `a[data-review-project-id="${project.id}"]`, 'the Review button on the project card');
  await page.click(`a[data-review-project-id="${project.id}"]`);
  await until(
    async () => (await page.evaluate(() => location.hash)) === `#/projects/${project.id}/review`,
    async () => `the Review button went to ${await page.evaluate(() => location.hash)}`,
  );

  // Task 1: everything a reviewer needs is on the page.
  await waitReviewOf(page, texts[0], 'the first task');
  await waitText(page, '[data-testid=review-level]', /review level 1 of 1/i, 'the level under review');
  await waitResultLabel(page, 'cat', 'the result of task 1 (cat) shown read-only');
  assert.ok(await page.locator('[data-testid=result-section] button[data-label="cat"]').isDisabled(), 'the result is shown read-only until Fix');
  await waitVisible(page, '[data-testid=review-annotations] [data-testid=annotation]', 'the annotation of task 1');
  const worker = await textOf(page, '[data-testid=review-annotations] [data-testid=annotation-worker]');
  assert.equal(worker, ann.email, `the annotation should name its worker ${ann.email}, shows ${JSON.stringify(worker)}`);
  assert.match(await textOf(page, '[data-testid=review-annotations] [data-testid=annotation]'), /accepted/i, 'the annotation shows its status');
  await waitVisible(page, '[data-testid=review-versions] [data-testid=version]', 'the versions of the result');
  await waitText(page, '[data-testid=lease]', /lease: \d+:\d\d left/i, 'the lease timer');
  await screenshot(page, 'review-task');

  // ? lists the page's keys.
  await page.keyboard.press('?');
  await waitVisible(page, '[data-testid=shortcuts]', 'the shortcuts list after ?');
  const keys = await textOf(page, '[data-testid=shortcuts]');
  for (const k of ['accept', 'reject', 'fix']) assert.match(keys, new RegExp(k, 'i'), `the shortcuts list does not mention ${k}: ${keys}`);
  await screenshot(page, 'review-shortcuts');
  await page.keyboard.press('Escape');
  await until(async () => !(await page.locator('[data-testid=shortcuts]').isVisible()), 'Escape closes the shortcuts list');

  // a: accept.
  await clearStatusLog(page);
  await page.keyboard.press('a');
  await waitStatus(page, /accepted/i, '"Accepted" after pressing a');
  await waitReviewOf(page, texts[1], 'the second task after accepting the first');
  const t0 = await getTask(tasks[0]);
  assert.equal(t0.status, 'completed', `task 1 should be completed after the accept, is ${t0.status}`);
  assert.equal(t0.review?.action, 'accept', `task 1's review: ${JSON.stringify(t0.review)}`);
  assert.equal(t0.review?.by, rev.id, `task 1 was reviewed by user ${t0.review?.by}, not the reviewer ${rev.id}`);
  await waitText(page, '[data-testid=last-done]', /accepted/i, 'the last decision above the next task');

  // r: reject, with a comment (required).
  await page.keyboard.press('r');
  await waitVisible(page, '[data-testid=reject-dialog]', 'the reject dialog after pressing r');
  await page.click('[data-action=confirm-reject]');
  await waitText(page, '[data-testid=reject-error]', /say what/i, 'a reject without a comment refused by the page');
  assert.equal((await getTask(tasks[1])).status, 'review', 'an empty reject must not reach the server');
  const comment = 'This is about a parrot: pick bird, not dog.';
  await page.fill('#rv-comment', comment);
  await screenshot(page, 'review-reject-dialog');
  await clearStatusLog(page);
  await page.keyboard.press('Control+Enter');
  await waitStatus(page, /sent back/i, '"Sent back" after rejecting');
  await waitReviewOf(page, texts[2], 'the third task after rejecting the second');
  const t1 = await getTask(tasks[1]);
  assert.equal(t1.status, 'pending', `task 2 should be back in annotation (pending) after the reject, is ${t1.status}`);
  assert.equal(t1.review?.action, 'reject');
  assert.equal(t1.review?.comment, comment, `task 2's review comment: ${JSON.stringify(t1.review)}`);

  // f: fix the result (bird -> cat), see the difference, save.
  await waitResultLabel(page, 'bird', 'the result of task 3 (bird)');
  await page.keyboard.press('f');
  await waitVisible(page, '[data-testid=fix-actions]', 'the fix actions after pressing f');
  assert.ok(!(await page.locator('[data-testid=result-section] button[data-label="cat"]').isDisabled()), 'after f the result is editable');
  await page.click('[data-testid=result-section] button[data-label="cat"]');
  await waitResultLabel(page, 'cat', 'cat picked in the fix');
  await waitText(page, '[data-testid=fix-live-diff]', /bird[\s\S]*cat/, 'the live difference of the fix (bird → cat)');
  await screenshot(page, 'review-fixing');
  await page.keyboard.press('Enter');
  await waitVisible(page, '[data-testid=fix-dialog]', 'the confirmation of the fix after Enter');
  const row = page.locator('[data-testid=fix-dialog] [data-testid=fix-diff] .diff-row[data-path="labels[0]"]');
  await row.waitFor({ state: 'visible' }).catch(() => {});
  assert.equal(await row.getAttribute('data-op').catch(() => null), 'change', `the fix dialog should show labels[0] changed; it shows ${await textOf(page, '[data-testid=fix-dialog]')}`);
  assert.equal(await textOf(page, '[data-testid=fix-dialog] [data-testid=diff-old]'), '"bird"');
  assert.equal(await textOf(page, '[data-testid=fix-dialog] [data-testid=diff-new]'), '"cat"');
  await screenshot(page, 'review-fix-dialog');
  assert.equal((await getTask(tasks[2])).status, 'review', 'the fix must not be sent before it is confirmed');
  await clearStatusLog(page);
  await page.keyboard.press('Enter');
  await waitStatus(page, /fixed/i, '"Fixed" after confirming the fix');
  await waitVisible(page, '[data-testid=empty]', 'the empty review queue after the last task');
  await waitText(page, '[data-testid=last-diff]', /labels\[0\]: "bird" → "cat"/, 'the fix summarised above the empty queue');
  await screenshot(page, 'review-empty');

  const t2 = await getTask(tasks[2]);
  assert.equal(t2.status, 'completed', `task 3 is ${t2.status} after the fix`);
  assert.equal(t2.result?.method, 'review_fix', `task 3's result: ${JSON.stringify(t2.result)}`);
  assert.deepEqual(t2.result.response, { labels: ['cat'] });
  const versions = expectStatus(await srv.api('GET', `/v1/tasks/${tasks[2].id}/versions`), 200).items;
  assert.deepEqual(
    versions.map((v) => [v.source, v.response.labels[0]]),
    [
      ['aggregate', 'bird'],
      ['fix', 'cat'],
    ],
    `task 3's versions: ${JSON.stringify(versions)}`,
  );
  const reviews = requests.filter((r) => r.method === 'POST' && /^\/v1\/assignments\/\d+\/review$/.test(r.path));
  assert.deepEqual(
    reviews.map((r) => JSON.parse(r.body).action),
    ['accept', 'reject', 'fix'],
    `the page sent these decisions: ${JSON.stringify(reviews.map((r) => r.body))}`,
  );

  // The annotator is shown the reviewer's comment on the rejected task.
  const back = expectStatus(await srv.api('GET', `/v1/projects/${project.id}/queue/next`, undefined, { key: ann.key }), 200);
  assert.equal(back.assignment?.task_id, tasks[1].id, `the annotator's next task should be the rejected one: ${JSON.stringify(back)}`);
  assert.equal(back.assignment.task.review?.comment, comment, `the annotator's task carries review ${JSON.stringify(back.assignment.task.review)}`);

  // The difference between the versions is on the task's page.
  await page.click('[data-testid=last-task-link]');
  await waitVisible(page, '[data-testid=versions] [data-testid=version-diff]', "the versions' difference on the task's page");
  assert.equal(await page.locator('[data-testid=versions] [data-testid=version]').count(), 2, 'two versions listed');
  const vd = await textOf(page, '[data-testid=version-diff]');
  assert.match(vd, /labels\[0\][\s\S]*"bird"[\s\S]*"cat"/, `the difference between versions 1 and 2 shows ${JSON.stringify(vd)}`);
  await waitText(page, '[data-testid=last-decision]', /fixed/i, "the fix as the task's last decision");
  await screenshot(page, 'review-fixed-task-view');
});

browserTest('an unfinished fix survives a reload, and Esc twice discards it', async ({ page }) => {
  const texts = ['November: an owl hoots at night.'];
  const { project, tasks } = await makeTextProject(srv, { texts, review_levels: 1 });
  const ann = await makeAnnotator(srv, 'ann-review-draft@test.io', PASSWORD, [project.id]);
  const rev = await makeReviewer('rita-review-draft@test.io', [project.id]);
  await answerAll(ann, project, { t0: 'dog' });

  await login(page, srv, rev.email, rev.password);
  await page.goto(`${srv.base}/#/projects/${project.id}/review`);
  await waitReviewOf(page, texts[0], 'the task to review');
  await page.click('[data-action=fix]');
  await waitVisible(page, '[data-testid=fix-actions]', 'fix mode after clicking Fix');
  await page.keyboard.press('3'); // the editor's key: the third label, bird
  await waitResultLabel(page, 'bird', 'bird picked with the key 3 while fixing');
  await until(
    async () => {
      const r = await srv.api('GET', `/v1/projects/${project.id}/reviews/next`, undefined, { key: rev.key });
      return JSON.stringify(r.body?.assignment?.draft) === JSON.stringify({ labels: ['bird'] });
    },
    'the fix in progress saved as the review assignment\'s draft on the server',
  );

  await page.reload();
  await waitVisible(page, '[data-testid=fix-actions]', 'fix mode restored after a reload');
  await waitResultLabel(page, 'bird', 'the unfinished fix (bird) after a reload');
  await waitText(page, '[data-testid=fix-live-diff]', /"dog"[\s\S]*"bird"/, 'the difference of the restored fix');

  // Esc once warns, Esc again discards.
  await page.keyboard.press('Escape');
  await waitStatus(page, /esc again/i, 'a warning before the changes are discarded');
  assert.ok(await page.locator('[data-testid=fix-actions]').isVisible(), 'one Esc must not discard the fix');
  await page.keyboard.press('Escape');
  await waitVisible(page, '[data-testid=review-actions]', 'back to the review actions after Esc twice');
  await waitResultLabel(page, 'dog', 'the result as it was (dog)');
  assert.equal((await getTask(tasks[0])).status, 'review', 'discarding a fix decides nothing');
});

browserTest('an annotator is told the review page is not theirs; diff.js describes changes by path', async ({ page }) => {
  const { project } = await makeTextProject(srv, { texts: ['Oscar: a goat on a hill.'], review_levels: 1 });
  const ann = await makeAnnotator(srv, 'ann-not-reviewer@test.io', PASSWORD, [project.id]);
  await login(page, srv, ann.email, ann.password);
  await page.goto(`${srv.base}/#/projects/${project.id}/review`);
  await waitText(page, '[data-testid=forbidden]', /not a reviewer/i, 'the 403 explained');
  assert.match(await textOf(page, '[data-testid=forbidden]'), /reviewer role/i);
  await screenshot(page, 'review-forbidden');

  const out = await page.evaluate(async () => {
    const d = await import('/ui/diff.js');
    const rows = (a, b) => d.diffJson(a, b).map((c) => `${c.op} ${d.formatPath(c.path)}${c.op === 'move' ? ` from ${c.from}` : ''}`);
    return {
      change: rows({ labels: ['cat'] }, { labels: ['dog'] }),
      remove: rows({ boxes: [{ x: 1 }, { x: 2 }, { x: 3 }] }, { boxes: [{ x: 2 }, { x: 3 }] }),
      nested: rows({ boxes: [{ x: 1, y: 2 }] }, { boxes: [{ y: 2, x: 5 }] }),
      keys: rows({ a: 1, b: { c: 2 } }, { b: { c: 2 }, a: 1 }),
      added: rows({ a: 1 }, { a: 1, 'a key': [1] }),
      moved: rows({ order: ['x', 'y', 'z'] }, { order: ['y', 'z', 'x'] }),
      summary: d.summarize(d.diffJson({ a: 1, b: 2 }, { a: 2, c: 3 })),
    };
  });
  assert.deepEqual(out.change, ['change labels[0]']);
  assert.deepEqual(out.remove, ['remove boxes[0]'], 'removing the first of three elements is one removal');
  assert.deepEqual(out.nested, ['change boxes[0].x'], 'a changed field of an element is named by its path');
  assert.deepEqual(out.keys, [], 'key order is not a difference');
  assert.deepEqual(out.added, ['add ["a key"]']);
  assert.deepEqual(out.moved, ['move order[2] from 0'], 'a reordered element is a move');
  assert.equal(out.summary, '3 changes: 1 changed, 1 added, 1 removed.');
});
