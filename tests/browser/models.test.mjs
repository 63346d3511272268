// models.test.mjs -- the Models tab of a project's settings: a manager
// connects an ML backend (the tests' Label Studio backend, mlserver.mjs),
// sees a bad setting refused next to its field, watches the tasks get
// predicted and the backend's state, sees its failures reported as they
// happen, sees how each model's pre-labels fared, and disconnects it.
import assert from 'node:assert/strict';
import { expectStatus, ADMIN_EMAIL, ADMIN_PASSWORD } from '../api/harness.mjs';
import { startMlBackend } from '../api/mlserver.mjs';
import { serveUi, browserTest, login, screenshot, makeTextProject, waitVisible, waitText, waitStatus } from './browser.mjs';
import { after } from 'node:test';

let srv;
serveUi((s) => (srv = s), { args: ['--ml-poll-ms', '50', '--ml-retry-ms', '100'] });
let ml;
after(async () => ml?.close());

browserTest('a manager connects an ML backend, watches it predict and fail, and disconnects it', async ({ page }) => {
  ml = await startMlBackend({ version: 'sentiment-v3' });
  const { project } = await makeTextProject(srv, { labels: ['pos', 'neg'], texts: ['a good day', 'a dull day', 'good food', 'rain', 'good news', 'cold'] });
  await login(page, srv, ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.goto(`${srv.base}/#/projects/${project.id}/settings`);
  await page.click('[data-tab=models]');
  await waitVisible(page, '[data-testid=ml-none]', 'the note that no backend is connected');

  // A bad URL is refused next to its field.
  await page.fill('[data-testid=ml-url]', 'ftp://models.example');
  await page.click('[data-action=ml-save]');
  await waitText(page, '[data-testid=ml-error-url]', /http:\/\/ or https:\/\//);

  await page.fill('[data-testid=ml-url]', ml.url);
  await page.fill('[data-testid=ml-batch_size]', '4');
  await page.click('[data-action=ml-save]');
  await waitStatus(page, /ML backend .* connected/);
  await waitText(page, '[data-testid=ml-predicted]', /^6$/, 'six tasks predicted');
  await waitText(page, '[data-testid=ml-state]', /^ok$/);
  await waitText(page, '[data-testid=ml-version]', /sentiment-v3/);
  await waitText(page, '[data-testid=ml-queue]', /0 waiting, 0 in flight, 6 done, 0 failed/);
  await waitVisible(page, '[data-testid=model-stats] tr[data-model=sentiment-v3]', 'the model in the table of how models fared');
  const s = expectStatus(await srv.api('GET', `/v1/projects/${project.id}/ml-backend`), 200);
  assert.equal(s.batch_size, 4);
  await screenshot(page, 'models-connected');

  // It fails: the tab shows it as it happens.
  ml.state.mode = 'fail';
  await page.click('[data-action=ml-predict-all]');
  await waitStatus(page, /6 tasks queued for prediction/);
  await waitText(page, '[data-testid=ml-last-error]', /HTTP 500/, 'the last error', 15000);
  await waitText(page, '[data-testid=ml-state]', /failing|paused/);
  await waitVisible(page, '[data-testid=ml-task-errors]', 'the table of task errors');
  await screenshot(page, 'models-failing');
  ml.state.mode = 'ok';
  await waitText(page, '[data-testid=ml-state]', /^ok$/, 'the backend back to ok', 20000);

  // Disconnecting keeps the predictions.
  page.once('dialog', (d) => d.accept());
  await page.click('[data-action=ml-delete]');
  await waitVisible(page, '[data-testid=ml-none]', 'no backend after disconnecting');
  expectStatus(await srv.api('GET', `/v1/projects/${project.id}/ml-backend`), 404);
  const tasks = expectStatus(await srv.api('GET', `/v1/projects/${project.id}/tasks?limit=100`), 200).items;
  assert.ok(tasks.every((t) => t.predictions?.some((p) => p.model === 'sentiment-v3')));
});
