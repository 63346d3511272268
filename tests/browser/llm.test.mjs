// llm.test.mjs -- the LLM area (#/llm) driven end to end in the browser,
// against the tests' OpenAI-compatible server (tests/api/llmserver.mjs):
// an admin adds an endpoint through the form (a bad base URL is refused
// next to its field), edits it; creates a prompt set and imports prompts
// (a bad line is named, nothing is added; then NDJSON with references);
// starts a generation on two endpoints and watches it finish, with exact
// match per endpoint; makes comparison tasks into a project; an annotator
// votes through the API; the leaderboard shows the preferred model first.
// A member who is not an admin sees the endpoints without the form.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { expectStatus, ADMIN_EMAIL, ADMIN_PASSWORD } from '../api/harness.mjs';
import { startLlmServer } from '../api/llmserver.mjs';
import { serveUi, browserTest, login, makeAnnotator, PASSWORD, screenshot, until, textOf, pageText, waitVisible, waitText, waitStatus } from './browser.mjs';

let srv;
serveUi((s) => (srv = s), { args: ['--allow-private-outbound', '--ml-poll-ms', '50', '--ml-retry-ms', '50'] });
let llm;
after(async () => llm?.close());

const PROMPTS = [
  { prompt: 'Capital of France?', reference: ['Paris'] },
  { prompt: 'Capital of Italy?', reference: 'Rome' },
  { prompt: 'Two plus two?', reference: ['4', 'four'] },
];

browserTest('an admin adds endpoints, imports prompts, runs a generation, makes comparison tasks and sees the leaderboard', async ({ page, requests }) => {
  llm = await startLlmServer();
  // "strong" knows the capitals; "weak" only repeats the question.
  llm.state.answers = {
    'Capital of France?': (m) => (m === 'strong' ? 'Paris' : 'weak says: Capital of France?'),
    'Capital of Italy?': (m) => (m === 'strong' ? 'Rome.' : 'weak says: Capital of Italy?'),
    'Two plus two?': (m) => (m === 'strong' ? 'four' : 'weak says: Two plus two?'),
  };
  llm.state.requireKey = 'sk-test-123';
  const ann = await makeAnnotator(srv, 'llm-ann@test.io', PASSWORD);
  await login(page, srv, ADMIN_EMAIL, ADMIN_PASSWORD);

  // The top navigation leads to the LLM area, which opens on the endpoints.
  await page.click('[data-testid=topnav] a[data-nav=llm]');
  await waitVisible(page, '[data-testid=endpoints-empty]', 'the empty list of endpoints');
  assert.equal(await page.getAttribute('[data-testid=llm-tabs] a[data-tab=endpoints]', 'aria-current'), 'page');
  assert.equal(await page.getAttribute('[data-testid=topnav] a[data-nav=llm]', 'aria-current'), 'page');

  // A bad base URL is refused under its field.
  await page.click('[data-action=add-endpoint]');
  await page.fill('[data-testid=ep-name]', 'strong');
  await page.fill('[data-testid=ep-model]', 'strong');
  await page.fill('[data-testid=ep-base-url]', 'ftp://models.example/v1');
  await page.fill('[data-testid=ep-api-key]', 'sk-test-123');
  await page.fill('[data-testid=ep-temperature]', '0.2');
  await page.click('[data-action=save-endpoint]');
  await waitText(page, '[data-testid=ep-error-base_url]', /http:\/\/ or https:\/\//, 'the base URL error next to its field');
  assert.equal(await page.getAttribute('[data-testid=ep-base-url]', 'aria-invalid'), 'true');
  assert.equal(await page.isVisible('[data-testid=ep-form-error]'), false, 'the error is by the field, not at the foot of the form');
  // A temperature out of range is refused under its own field.
  await page.fill('[data-testid=ep-base-url]', llm.url);
  await page.fill('[data-testid=ep-temperature]', '3');
  await page.click('[data-action=save-endpoint]');
  await waitText(page, '[data-testid=ep-error-params-temperature]', /2/, 'the temperature error next to its field');
  assert.equal(await page.isVisible('[data-testid=ep-error-base_url]'), false, 'the base URL error is gone');
  await screenshot(page, 'llm-endpoint-field-error');
  await page.fill('[data-testid=ep-temperature]', '0.2');
  await page.click('[data-action=save-endpoint]');
  await waitStatus(page, /Endpoint strong added/);
  const row = '[data-testid=endpoints-table] tr[data-name=strong]';
  await waitVisible(page, row, 'the new endpoint in the list');
  assert.equal(await textOf(page, `${row} [data-field=base_url]`), llm.url);
  assert.match(await textOf(page, `${row} [data-field=has_api_key]`), /stored/);
  assert.doesNotMatch(await pageText(page, 5000), /sk-test-123/, 'the key is never shown');

  // A second one, then an edit: more retries, the key kept.
  await page.click('[data-action=add-endpoint]');
  await page.fill('[data-testid=ep-name]', 'weak');
  await page.fill('[data-testid=ep-model]', 'weak');
  await page.fill('[data-testid=ep-base-url]', llm.url);
  await page.fill('[data-testid=ep-api-key]', 'sk-test-123');
  await page.click('[data-action=save-endpoint]');
  await waitVisible(page, '[data-testid=endpoints-table] tr[data-name=weak]', 'the second endpoint');
  await page.click('[data-testid=endpoints-table] tr[data-name=weak] [data-action=edit-endpoint]');
  assert.equal(await page.inputValue('[data-testid=ep-name]'), 'weak', 'the form is filled with the endpoint');
  await page.fill('[data-testid=ep-retries]', '5');
  await page.click('[data-action=save-endpoint]');
  await waitText(page, '[data-testid=endpoints-table] tr[data-name=weak] [data-field=retries]', /^5$/, 'the new retries');
  const eps = expectStatus(await srv.api('GET', '/v1/model-endpoints'), 200).items;
  const weak = eps.find((e) => e.name === 'weak');
  assert.equal(weak.retries, 5);
  assert.equal(weak.has_api_key, true, 'editing without typing a key keeps it');
  assert.equal(eps.find((e) => e.name === 'strong').params.temperature, 0.2);
  await screenshot(page, 'llm-endpoints');

  // A prompt set, made from the form.
  await page.click('[data-testid=llm-tabs] a[data-tab=prompt-sets]');
  await waitVisible(page, '[data-testid=prompt-sets-empty]', 'no prompt set yet');
  await page.fill('[data-testid=ps-name]', 'capitals');
  await page.click('[data-action=create-prompt-set]');
  await waitText(page, '[data-testid=prompt-set-name]', /^capitals$/, 'the new set’s page');
  await waitVisible(page, '[data-testid=ps-preview-empty]', 'an empty preview');

  // A bad line is named and nothing is added.
  await page.fill('[data-testid=ps-import-text]', `${JSON.stringify(PROMPTS[0])}\n\n{"prompt": 5}\n`);
  await page.click('[data-action=import-prompts]');
  await waitText(page, '[data-testid=ps-import-error]', /Nothing was imported\. Line 3 \(prompt\):/, 'the error naming line 3');
  await page.fill('[data-testid=ps-import-text]', `${JSON.stringify(PROMPTS[0])}\n{"prompt": "oops"`);
  await page.click('[data-action=import-prompts]');
  await waitText(page, '[data-testid=ps-import-error]', /Nothing was imported\. Line 2 is not JSON/, 'the error naming line 2');
  assert.equal(expectStatus(await srv.api('GET', '/v1/prompt-sets'), 200).items[0].prompts, 0, 'nothing added');
  await screenshot(page, 'llm-import-error');

  // NDJSON from a file.
  await page.setInputFiles('[data-testid=ps-import-file]', { name: 'capitals.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(PROMPTS.map((p) => JSON.stringify(p)).join('\n') + '\n') });
  await until(async () => (await page.inputValue('[data-testid=ps-import-text]')).includes('Two plus two'), 'the file read into the text box');
  await page.click('[data-action=import-prompts]');
  await waitText(page, '[data-testid=ps-import-result]', /Added 3 prompts/, 'the import result');
  await waitText(page, '[data-testid=prompt-set-counts]', /3 prompts, 3 with reference/, 'the set’s counts');
  for (const p of PROMPTS) assert.ok((await textOf(page, '[data-testid=ps-preview]')).includes(p.prompt), `the preview shows ${p.prompt}`);
  await screenshot(page, 'llm-prompt-set');

  // A generation on both endpoints, started from the set's page.
  await page.click('[data-action=generate-from-set]');
  await waitVisible(page, '[data-testid=generation-form]', 'the generation form');
  assert.match(await page.$eval('[data-testid=gen-prompt-set]', (s) => s.selectedOptions[0].textContent), /capitals/);
  await page.click('[data-action=start-generation]');
  await waitText(page, '[data-testid=gen-error-endpoints]', /at least one endpoint/i, 'asking for an endpoint');
  for (const name of ['strong', 'weak']) await page.check(`[data-testid=gen-endpoints] input[data-endpoint-name=${name}]`);
  await page.fill('[data-testid=gen-name]', 'capitals run');
  await page.click('[data-action=start-generation]');
  await waitText(page, '[data-testid=generation-name]', /capitals run/, 'the generation’s page');
  await waitText(page, '[data-testid=generation] [data-testid=gen-state]', /^done$/, 'the generation done', 20000);
  await waitText(page, '[data-testid=generation-progress]', /6 done, 0 failed, 0 waiting of 6/);
  const strongRow = '[data-testid=per-endpoint] tr[data-name=strong]';
  await waitText(page, `${strongRow} [data-field=exact_match]`, /^100\.0 ± 0\.0$/, 'strong answers every reference');
  await waitText(page, '[data-testid=per-endpoint] tr[data-name=weak] [data-field=exact_match]', /^0\.0 ± 0\.0$/, 'weak answers none');
  assert.match(await textOf(page, `${strongRow} [data-field=latency]`), /\d+ ms|s$/);
  await waitVisible(page, '[data-testid=outputs] tr[data-state=done]', 'the outputs table');
  assert.equal(await page.locator('[data-testid=outputs] tr[data-output-id]').count(), 6);
  assert.ok((await textOf(page, '[data-testid=outputs]')).includes('Paris'), 'an answer shows in the outputs');
  assert.ok(llm.state.requests.every((r) => r.headers.authorization === 'Bearer sk-test-123'), 'every call carried the key');
  assert.equal(await page.isVisible('[data-action=cancel-generation]'), false, 'no cancel once done');
  await screenshot(page, 'llm-generation');

  // The outputs filter.
  await page.selectOption('[data-testid=outputs-state]', 'failed');
  await waitVisible(page, '[data-testid=outputs-empty]', 'no failed output');
  await page.selectOption('[data-testid=outputs-state]', '');

  // Comparison tasks into a project the admin manages.
  const project = expectStatus(await srv.api('POST', '/v1/projects', { name: 'capitals arena', kind: 'comparison', params: {}, overlap: 1 }), 201);
  expectStatus(await srv.api('PUT', `/v1/projects/${project.id}/members/${ann.id}`, { role: 'annotator' }), 200);
  expectStatus(await srv.api('POST', '/v1/projects', { name: 'not for tasks', kind: 'categorization', params: { labels: ['a', 'b'] } }), 201);
  await page.reload();
  await waitVisible(page, '[data-testid=make-tasks-form]', 'the make-tasks form');
  const options = await page.$$eval('[data-testid=mt-project] option', (os) => os.map((o) => o.textContent));
  assert.deepEqual(options, ['capitals arena (comparison)'], 'only projects that can take the answers are offered');
  await page.selectOption('[data-testid=mt-design]', 'sampled');
  await waitVisible(page, '[data-testid=mt-pairs]', 'pairs per prompt for a sampled design');
  await page.selectOption('[data-testid=mt-design]', 'all_pairs');
  await page.fill('[data-testid=mt-seed]', '7');
  await page.click('[data-action=make-tasks]');
  await waitText(page, '[data-testid=mt-result]', /3 tasks created in capitals arena \(seed 7\)/, 'the tasks made');
  const lastReq = requests.findLast((r) => r.path === `/v1/projects/${project.id}/generation-tasks`);
  assert.deepEqual(JSON.parse(lastReq.body), { generation_id: Number(new URL(page.url()).hash.split('/').pop()), design: 'all_pairs', seed: 7 });
  await page.click('[data-action=make-tasks]');
  await waitText(page, '[data-testid=mt-result]', /0 tasks created in capitals arena, 3 already there/, 'asking again adds nothing');
  await screenshot(page, 'llm-make-tasks');

  // The annotator prefers strong every time.
  let n = 0;
  for (;;) {
    const a = expectStatus(await srv.api('GET', `/v1/projects/${project.id}/queue/next`, undefined, { key: ann.key }), 200).assignment;
    if (!a) break;
    const win = a.task.data.responses.find((r) => !r.text.startsWith('weak says'));
    expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `llm-${++n}`, response: { choice: win.id } }, { key: ann.key }), 201);
  }
  assert.equal(n, 3);

  await page.click('[data-testid=mt-leaderboard-link]');
  await waitVisible(page, '[data-testid=ratings] tr[data-model]', 'the leaderboard');
  const order = await page.$$eval('[data-testid=ratings] tbody tr', (rs) => rs.map((r) => r.dataset.model));
  assert.deepEqual(order, ['strong', 'weak']);
  assert.equal(await textOf(page, '[data-testid=ratings] tr[data-model=strong] [data-field=wlt]'), '3 / 0 / 0');
  assert.equal(await textOf(page, '[data-testid=lb-counts] [data-count=votes]'), '3');
  await waitVisible(page, '[data-testid=prior-note]', 'the note that the prior was used (weak never won)');
});

browserTest('a member sees the endpoints but cannot add one, and starts nothing without a prompt set', async ({ page }) => {
  const u = await makeAnnotator(srv, 'llm-member@test.io', PASSWORD);
  await login(page, srv, u.email, u.password);
  await page.goto(`${srv.base}/#/llm`);
  await waitVisible(page, '[data-testid=endpoints-table]', 'the endpoints');
  assert.equal(await page.locator('[data-action=add-endpoint]').count(), 0, 'no add button');
  assert.equal(await page.locator('[data-action=edit-endpoint]').count(), 0, 'no edit button');
  await page.click('[data-testid=llm-tabs] a[data-tab=generations]');
  await waitText(page, '[data-testid=gen-form-missing]', /needs a prompt set/, 'the form says what is missing');
  await waitVisible(page, '[data-testid=generations-empty]', 'no generation of theirs');
});

browserTest('a generation that runs slowly and fails: progress while it runs, the errors, retry and cancel', async ({ page }) => {
  llm ??= await startLlmServer();
  llm.state.requireKey = null;
  const ep = expectStatus(await srv.api('POST', '/v1/model-endpoints', { name: 'flaky', base_url: llm.url, model: 'flaky', max_concurrency: 1, retries: 0 }), 201);
  const set = expectStatus(
    await srv.api('POST', '/v1/prompt-sets', { name: 'trouble', prompts: [{ prompt: 'refused [badreq]' }, ...Array.from({ length: 8 }, (_, i) => ({ prompt: `slow ${i} [slow:700]` }))] }),
    201,
  );
  await login(page, srv, ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.goto(`${srv.base}/#/llm/generations?set=${set.id}`);
  await waitVisible(page, '[data-testid=generation-form]', 'the generation form');
  await page.check(`[data-testid=gen-endpoints] input[value="${ep.id}"]`);
  await page.fill('[data-testid=gen-temperature]', '5');
  await page.click('[data-action=start-generation]');
  await waitText(page, '[data-testid=gen-error-params-temperature]', /2/, 'the temperature override refused next to its field');
  await page.fill('[data-testid=gen-temperature]', '0.5');
  await page.click('[data-action=start-generation]');
  await waitText(page, '[data-testid=generation] [data-testid=gen-state]', /^running$/, 'the generation running');
  await waitVisible(page, '[data-action=cancel-generation]', 'the cancel button while outputs wait');
  // The refused prompt fails at once, the slow ones come in one by one.
  await waitText(page, '[data-testid=generation-progress]', /[1-5] done, 1 failed, [2-7] waiting of 9/, 'some done, one failed, several waiting');
  await waitVisible(page, '[data-testid=gen-errors] tr[data-output-id]', 'the latest errors');
  assert.match(await textOf(page, '[data-testid=gen-errors]'), /does not support that/);
  await screenshot(page, 'llm-generation-running');
  await page.click('[data-action=cancel-generation]');
  await waitText(page, '[data-testid=generation] [data-testid=gen-state]', /^cancelled$/, 'the generation cancelled');
  const g = expectStatus(await srv.api('GET', `/v1/generations/${new URL(page.url()).hash.split('/').pop()}`), 200);
  assert.equal(g.state, 'cancelled');

  // The list shows it with its progress.
  await page.click('[data-testid=llm-tabs] a[data-tab=generations]');
  const row = `[data-testid=generations-table] tr[data-generation-id="${g.id}"]`;
  await waitVisible(page, row, 'the generation in the list');
  assert.match(await textOf(page, `${row} [data-testid=gen-progress]`), /done, 1 failed, [1-9] waiting of 9/);
  await page.click(`${row} th a`);

  // Retry runs it again: the failed one fails again, the waiting ones finish.
  await waitVisible(page, '[data-action=retry-failed]', 'the retry button');
  await page.click('[data-action=retry-failed]');
  await waitStatus(page, /1 failed output queued again/);
  await waitText(page, '[data-testid=generation] [data-testid=gen-state]', /^done$/, 'the generation done after the retry', 30000);
  await waitText(page, '[data-testid=generation-progress]', /8 done, 1 failed, 0 waiting of 9/);
  await page.selectOption('[data-testid=outputs-state]', 'failed');
  await waitText(page, '[data-testid=outputs] tr[data-state=failed] [data-field=error]', /does not support that/, 'the failed output with its error');
  await screenshot(page, 'llm-generation-failed');

  // The endpoint is removed once asked to confirm; its answers stay.
  await page.click('[data-testid=llm-tabs] a[data-tab=endpoints]');
  await waitVisible(page, '[data-testid=endpoints-table] tr[data-name=flaky]', 'the flaky endpoint');
  page.once('dialog', (d) => d.accept());
  await page.click('[data-testid=endpoints-table] tr[data-name=flaky] [data-action=delete-endpoint]');
  await waitStatus(page, /Endpoint flaky removed/);
  // (the list is drawn again after the status says so)
  await until(async () => (await page.locator('[data-testid=endpoints-table] tr[data-name=flaky]').count()) === 0, 'the removed endpoint off the list');
  expectStatus(await srv.api('GET', `/v1/model-endpoints/${ep.id}`), 404);
  assert.equal(expectStatus(await srv.api('GET', `/v1/generations/${g.id}`), 200).outputs.done, 8, 'the answers stay');

  // On a phone the page does not scroll sideways.
  await page.setViewportSize({ width: 390, height: 800 });
  await waitVisible(page, '[data-testid=endpoints-table]', 'the endpoints on a phone');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone's screen`);
  await screenshot(page, 'llm-endpoints-narrow');
});
