// report.test.mjs -- a project's report (#/projects/ID/report): the draft
// review of a textcollection project that lets annotators reject drafts,
// and the red-team report of a redteam project.  Drafts come from two
// models answering two template prompts through the tests'
// OpenAI-compatible server (tests/api/llmserver.mjs); an annotator keeps,
// fixes or rejects each through the API.  Red-team attacks are submitted
// through the API with their conversations.  The manager opens each report
// from the project list or the dashboard and finds the API's counts, rates
// and intervals (also as bars), the export line, and an empty state before
// any review; projects without a report get no link, and an annotator
// neither link nor report.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { expectStatus, ADMIN_EMAIL, ADMIN_PASSWORD, SLOW } from '../api/harness.mjs';
import { startLlmServer } from '../api/llmserver.mjs';
import { serveUi, browserTest, login, makeAnnotator, PASSWORD, screenshot, until, textOf, waitVisible, waitText } from './browser.mjs';

let srv;
serveUi((s) => (srv = s), { args: ['--allow-private-outbound', '--ml-poll-ms', '50', '--ml-retry-ms', '50'] });
let llm;
after(async () => llm?.close());

const pct = (x) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '—');
const range = (lo, hi) => (Number.isFinite(lo) && Number.isFinite(hi) ? `${pct(lo)} – ${pct(hi)}` : '—');

let ann = null;
const annotator = async () => (ann ??= await makeAnnotator(srv, 'rep-ann@test.io', PASSWORD));
let seq = 0;

/* Two models, two templates of three questions each, one generation. */
let gen = null;
async function generation() {
  if (gen) return gen;
  llm = await startLlmServer();
  llm.state.answers['Write 3 questions about billing.'] = (m) =>
    m === 'lister' ? '1. How do I pay?\n2) Where is my invoice?\n\n- Can I get a refund?' : '```json\n["Why was I charged twice?", "How do I change my card?", "What is VAT?"]\n```';
  llm.state.answers['Write 3 questions about shipping.'] = () => '* Where is my parcel?\n* How long does it take?\n* Do you ship abroad?';
  const eps = [];
  for (const name of ['lister', 'jsoner']) eps.push(expectStatus(await srv.api('POST', '/v1/model-endpoints', { name, base_url: llm.url, model: name }), 201));
  const set = expectStatus(await srv.api('POST', '/v1/prompt-sets', { name: 'support', prompts: [{ prompt: 'Write 3 questions about billing.' }, { prompt: 'Write 3 questions about shipping.' }] }), 201);
  gen = expectStatus(await srv.api('POST', '/v1/generations', { prompt_set_id: set.id, endpoints: eps.map((e) => e.id) }), 201);
  await until(async () => (await srv.api('GET', `/v1/generations/${gen.id}`)).body.state === 'done', 'the generation to finish', 30000 * SLOW);
  return gen;
}

/* A textcollection project with the generation's drafts in it. */
async function draftProject(params = { allow_reject: true }) {
  const g = await generation();
  const a = await annotator();
  const p = expectStatus(await srv.api('POST', '/v1/projects', { name: `drafts-${++seq}`, kind: 'textcollection', params, overlap: 1 }), 201);
  expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${a.id}`, { role: 'annotator' }), 200);
  assert.equal(expectStatus(await srv.api('POST', `/v1/projects/${p.id}/generation-tasks`, { generation_id: g.id }), 200).created, 12);
  return p;
}

/* The annotator works the whole queue; respond(task) makes each answer. */
async function work(p, respond) {
  const a = await annotator();
  let n = 0;
  for (;;) {
    const lease = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: a.key }), 200).assignment;
    if (!lease) break;
    n++;
    expectStatus(await srv.api('POST', `/v1/assignments/${lease.id}/submit`, { annotation_id: `rep${p.id}-${n}`, response: respond(lease.task) }, { key: a.key }), 201);
  }
  return n;
}

/* The rows of a report table: data-* of the row, its header cell, and
 * each [data-field] cell's own text (the first text node) and the bar's
 * label. */
async function rows(page, testid) {
  return page.$$eval(`[data-testid=${testid}] tbody tr:not(.rp-group)`, (rs) =>
    rs.map((r) => ({
      ...r.dataset,
      head: r.querySelector('th')?.textContent.trim(),
      bar: r.querySelector('svg.iv-bar')?.getAttribute('aria-label') ?? null,
      ...Object.fromEntries([...r.querySelectorAll('[data-field]')].map((c) => [c.dataset.field, c.firstChild?.textContent.trim() ?? ''])),
    })),
  );
}

function checkDraftRow(r, g, what) {
  for (const f of ['drafts', 'reviewed', 'accepted', 'fixed', 'rejected']) assert.equal(r[f], String(g[f]), `${what}: ${f}`);
  assert.equal(r.acceptance_rate, pct(g.acceptance_rate), `${what}: acceptance rate`);
  assert.equal(r.interval, range(g.lower, g.upper), `${what}: interval`);
  assert.equal(r.unchanged_rate, pct(g.unchanged_rate), `${what}: unchanged rate`);
  assert.ok(r.bar.includes(`${pct(g.acceptance_rate)}, 95% interval ${pct(g.lower)} to ${pct(g.upper)}`), `${what}: the bar says its rate and interval: ${r.bar}`);
}

browserTest('a manager opens the draft review from the project list: per model and per template, the API’s counts, rates and intervals, and the export of kept items', async ({ page }) => {
  const p = await draftProject();
  const strict = await draftProject({});
  // "refund" and "VAT" rejected, "pay" fixed, the rest kept as they are.
  const n = await work(p, (t) => {
    const d = t.data.draft;
    return /refund|VAT/.test(d) ? { rejected: true, reason: 'off topic' } : /pay\?/.test(d) ? { text: 'How do I pay my bill?' } : { text: d };
  });
  assert.equal(n, 12);
  const rep = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/draft-report`), 200);
  const lister = rep.models.find((g) => g.model === 'lister');
  assert.deepEqual([lister.drafts, lister.reviewed, lister.accepted, lister.fixed, lister.rejected], [6, 6, 4, 1, 1]);

  await login(page, srv, ADMIN_EMAIL, ADMIN_PASSWORD, { project: p });
  assert.equal(await page.locator(`a[data-report-project-id="${strict.id}"]`).count(), 0, 'no report link for drafts that cannot be rejected');
  assert.equal(await textOf(page, `a[data-report-project-id="${p.id}"]`), 'Draft review');
  await page.click(`a[data-report-project-id="${p.id}"]`);
  await until(async () => (await page.evaluate(() => location.hash)) === `#/projects/${p.id}/report`, 'the Draft review link to go to the report');
  await waitText(page, '[data-testid=report-title]', /^Draft review$/);
  assert.equal(await textOf(page, '[data-testid=project-name]'), p.name);
  await waitVisible(page, '[data-testid=draft-models] tr[data-model]', 'the table per model');

  const models = await rows(page, 'draft-models');
  assert.deepEqual(models.map((r) => r.model), rep.models.map((g) => g.model));
  for (const [i, g] of rep.models.entries()) checkDraftRow(models[i], g, `model ${g.model}`);
  assert.equal(models.find((r) => r.model === 'lister').acceptance_rate, '83.3%', 'lister kept 5 of 6');

  const tpl = await rows(page, 'draft-templates');
  assert.equal(tpl.length, 4, 'two templates by two models');
  for (const g of rep.templates) {
    const r = tpl.find((x) => x.model === g.model && x.promptId === String(g.prompt_id));
    assert.ok(r, `a row for ${g.model} on ${g.prompt}`);
    checkDraftRow(r, g, `${g.model} on ${g.prompt}`);
  }
  const billingId = rep.templates.find((g) => /billing/.test(g.prompt)).prompt_id;
  assert.equal(await textOf(page, `[data-testid=draft-templates] tbody[data-prompt-id="${billingId}"] th[scope=rowgroup]`), 'Write 3 questions about billing.', 'the template heads its rows');
  const billing = tpl.find((r) => r.model === 'lister' && r.promptId === String(billingId));
  assert.deepEqual([billing.accepted, billing.fixed, billing.rejected, billing.acceptance_rate, billing.unchanged_rate], ['1', '1', '1', '66.7%', '33.3%']);
  // Real tables: column headers, and the model heads each row.
  assert.deepEqual(
    await page.$$eval('[data-testid=draft-templates] thead th', (ths) => ths.map((t) => [t.textContent, t.getAttribute('scope')])),
    ['Model', 'Drafts', 'Reviewed', 'Kept unchanged', 'Fixed', 'Rejected', 'Acceptance rate', '95% interval', 'Unchanged rate'].map((t) => [t, 'col']),
  );
  assert.equal(await page.locator('[data-testid=draft-templates] tbody th[scope=row]').count(), 4, 'the model heads each row');
  // The bars share the 0..100% scale: lister's dot (5/6) is right of its billing row's (2/3).
  const cx = (sel) => page.$eval(sel, (c) => Number(c.getAttribute('cx')));
  assert.ok((await cx('[data-testid=draft-models] tr[data-model=lister] circle.iv-point')) > (await cx(`[data-testid=draft-templates] tr[data-model=lister][data-prompt-id="${billingId}"] circle.iv-point`)));

  // Only kept items export: the link is the texts export, and it gives the 10 kept.
  assert.match(await textOf(page, '[data-testid=export-note]'), /Only kept items export/);
  const href = await page.getAttribute('[data-testid=export-link]', 'href');
  assert.equal(href, `/v1/projects/${p.id}/export?format=texts`);
  const lines = await page.evaluate(async (u) => (await (await fetch(u)).text()).trim().split('\n').length, href);
  assert.equal(lines, 10, 'the export link downloads the 10 kept texts');
  await screenshot(page, 'report-drafts');

  // On a phone the page does not scroll sideways: the tables scroll in their box.
  await page.setViewportSize({ width: 390, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone's screen`);
  await screenshot(page, 'report-drafts-narrow');
});

browserTest('drafts not reviewed yet: the dashboard links to an empty draft review', async ({ page }) => {
  const p = await draftProject();
  await login(page, srv, ADMIN_EMAIL, ADMIN_PASSWORD, { project: p });
  await page.goto(`${srv.base}/#/projects/${p.id}/dashboard`);
  await waitText(page, '[data-link=report]', /^Draft review$/, 'the Draft review link on the dashboard');
  await page.click('[data-link=report]');
  await waitVisible(page, '[data-testid=report-empty]', 'the empty state');
  assert.match(await textOf(page, '[data-testid=report-empty]'), /No draft reviewed yet[\s\S]*12 drafts from 2 models wait for review/);
  assert.equal(await page.locator('[data-testid=draft-models]').count(), 0, 'no table');
  await screenshot(page, 'report-drafts-empty');
});

browserTest('a manager opens the red-team report: attack success overall, by harm category and by model, with intervals; an empty one; an annotator is refused', async ({ page, context }) => {
  const a = await annotator();
  llm ??= await startLlmServer();
  const ep = expectStatus(await srv.api('POST', '/v1/model-endpoints', { name: 'target', base_url: llm.url, model: 'm1' }), 201);
  const mk = async () => {
    const p = expectStatus(await srv.api('POST', '/v1/projects', { name: `red-${++seq}`, kind: 'redteam', overlap: 1, params: { endpoint_id: ep.id, harm_categories: ['violence', 'fraud'], max_turns: 2 } }), 201);
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${a.id}`, { role: 'annotator' }), 200);
    return p;
  };
  const p = await mk();
  const empty = await mk();
  expectStatus(
    await srv.api('POST', `/v1/projects/${p.id}/tasks`, [
      { data: { goal: 'Get a phishing email', category: 'fraud' } },
      { data: { goal: 'Get threats written' } },
      { data: { goal: 'Get a scam script', category: 'fraud' } },
      { data: { goal: 'Anything' } },
      { data: { goal: 'Get a fake invoice', category: 'fraud' } },
    ]),
    200,
  );
  const one = (text) => [{ role: 'user', content: text }, { role: 'assistant', content: `m1 says: ${text}`, model: 'm1-0613' }];
  const labels = {
    'Get a phishing email': { success: true, category: 'fraud', severity: 4 },
    'Get threats written': { success: true, category: 'violence', severity: 2 },
    'Get a scam script': { success: false },
    Anything: { success: false, category: 'violence' },
    'Get a fake invoice': { success: false, category: 'fraud' },
  };
  assert.equal(await work(p, (t) => ({ conversation: one(t.data.goal), ...labels[t.data.goal] })), 5);
  const rep = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/redteam-report`), 200);
  assert.deepEqual([rep.overall.n, rep.overall.succeeded], [5, 2]);

  await login(page, srv, ADMIN_EMAIL, ADMIN_PASSWORD, { project: p });
  assert.equal(await textOf(page, `a[data-report-project-id="${p.id}"]`), 'Red-team report');
  await page.click(`a[data-report-project-id="${p.id}"]`);
  await waitText(page, '[data-testid=report-title]', /^Red-team report$/);
  await waitVisible(page, '[data-testid=rt-overall]', 'the overall rate');
  const o = rep.overall;
  assert.equal(await textOf(page, '[data-testid=rt-overall] [data-field=rate]'), pct(o.rate));
  assert.equal(await textOf(page, '[data-testid=rt-overall] [data-field=rate]'), '40.0%');
  assert.equal(await textOf(page, '[data-testid=rt-overall] [data-field=interval]'), range(o.low, o.high));
  assert.equal(await textOf(page, '[data-testid=rt-overall] [data-field=succeeded]'), '2');
  assert.equal(await textOf(page, '[data-testid=rt-overall] [data-field=n]'), '5');
  assert.match(await page.getAttribute('[data-testid=rt-overall] svg.iv-bar', 'aria-label'), /40\.0%, 95% interval/);
  assert.match(await textOf(page, '[data-testid=rt-overall]'), /the endpoint “target”/);
  for (const [testid, list, key] of [
    ['rt-categories', rep.by_category, 'category'],
    ['rt-models', rep.by_model, 'model'],
  ]) {
    const rs = await rows(page, testid);
    assert.deepEqual(rs.map((r) => r.head), list.map((g) => g[key]), `${testid}: the groups`);
    for (const [i, g] of list.entries()) {
      assert.equal(rs[i].n, String(g.n), `${testid} ${g[key]}: attacks`);
      assert.equal(rs[i].succeeded, String(g.succeeded), `${testid} ${g[key]}: succeeded`);
      assert.equal(rs[i].rate, pct(g.rate), `${testid} ${g[key]}: rate`);
      assert.equal(rs[i].interval, range(g.low, g.high), `${testid} ${g[key]}: interval`);
    }
  }
  assert.deepEqual((await rows(page, 'rt-categories')).map((r) => [r.head, r.n, r.succeeded]), [['fraud', '3', '1'], ['violence', '2', '1']]);
  assert.deepEqual((await rows(page, 'rt-models')).map((r) => [r.head, r.rate]), [['m1-0613', '40.0%']]);
  assert.equal(await page.getAttribute('[data-testid=transcripts-link]', 'href'), `/v1/projects/${p.id}/export?format=redteam&include=annotations`);
  await screenshot(page, 'report-redteam');

  await page.goto(`${srv.base}/#/projects/${empty.id}/dashboard`);
  await waitText(page, '[data-link=report]', /^Red-team report$/, 'the report link on the dashboard');
  await page.click('[data-link=report]');
  await waitVisible(page, '[data-testid=report-empty]', 'the empty state');
  assert.match(await textOf(page, '[data-testid=report-empty]'), /No attack judged yet/);
  assert.equal(await page.locator('[data-testid=rt-overall]').count(), 0);
  await screenshot(page, 'report-redteam-empty');

  await context.clearCookies();
  await login(page, srv, a.email, a.password, { project: p });
  assert.equal(await page.locator(`a[data-report-project-id="${p.id}"]`).count(), 0, 'no report link for an annotator');
  await page.goto(`${srv.base}/#/projects/${p.id}/report`);
  await waitText(page, '[data-testid=error]', /reviewers and managers/, 'the 403 explained');
});
