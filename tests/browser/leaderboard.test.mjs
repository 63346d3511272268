// leaderboard.test.mjs -- a project's leaderboard (#/projects/ID/leaderboard):
// three models answer through the tests' OpenAI-compatible server, their
// answers become comparison tasks, and an annotator votes through the API
// with known preferences (strong beats everyone; middle beats weak, with a
// tie now and then, and one "both bad").  The admin opens the page from
// the project list and finds the API's order, ratings, intervals, Elo,
// wins, ties and losses, win rates (also in the heat-mapped matrix), the
// position bias and the counts; asks again with other rounds and seed; a
// judge who always picks the left answer is flagged; a project with no
// votes shows its empty state; other kinds get no link; an annotator gets
// the API's 403.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { expectStatus, ADMIN_EMAIL, ADMIN_PASSWORD, SLOW } from '../api/harness.mjs';
import { startLlmServer } from '../api/llmserver.mjs';
import { serveUi, browserTest, login, makeAnnotator, PASSWORD, screenshot, until, textOf, waitVisible, waitText } from './browser.mjs';

let srv;
serveUi((s) => (srv = s), { args: ['--allow-private-outbound', '--ml-poll-ms', '50', '--ml-retry-ms', '50'] });
let llm;
after(async () => llm?.close());

const strength = { strong: 3, middle: 2, weak: 1 };
const modelOf = (r) => r.text.split(' ')[0]; // "strong says: q3"
const pct = (x) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '—');
const fixed = (x) => (Number.isFinite(x) ? x.toFixed(0) : '—');

let gen = null;
let ann = null;

/* Three endpoints, twelve prompts, one generation: made once. */
async function generation() {
  if (gen) return gen;
  llm = await startLlmServer();
  ann = await makeAnnotator(srv, 'lb-ann@test.io', PASSWORD);
  const eps = [];
  for (const name of ['strong', 'middle', 'weak']) eps.push(expectStatus(await srv.api('POST', '/v1/model-endpoints', { name, base_url: llm.url, model: name }), 201));
  const set = expectStatus(await srv.api('POST', '/v1/prompt-sets', { name: 'lb', prompts: Array.from({ length: 12 }, (_, i) => ({ prompt: `q${i}` })) }), 201);
  gen = expectStatus(await srv.api('POST', '/v1/generations', { prompt_set_id: set.id, endpoints: eps.map((e) => e.id) }), 201);
  await until(async () => (await srv.api('GET', `/v1/generations/${gen.id}`)).body.state === 'done', 'the generation to finish', 30000 * SLOW);
  return gen;
}

let seq = 0;
async function arena(tasksBody) {
  const g = await generation();
  const p = expectStatus(await srv.api('POST', '/v1/projects', { name: `arena-${++seq}`, kind: 'comparison', params: {}, overlap: 1 }), 201);
  expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${ann.id}`, { role: 'annotator' }), 200);
  if (tasksBody) expectStatus(await srv.api('POST', `/v1/projects/${p.id}/generation-tasks`, { generation_id: g.id, ...tasksBody }), 200);
  return p;
}

/* The annotator works the whole queue; respond(task, n) makes each answer. */
async function vote(p, respond) {
  let n = 0;
  for (;;) {
    const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ann.key }), 200).assignment;
    if (!a) break;
    n++;
    expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `lb${p.id}-${n}`, response: respond(a.task, n) }, { key: ann.key }), 201);
  }
  return n;
}

/* The cells of each row of the ratings table, by data-field. */
async function ratingRows(page) {
  return page.$$eval('[data-testid=ratings] tbody tr', (rs) =>
    rs.map((r) => ({
      model: r.dataset.model,
      bar: r.querySelector('svg.iv-bar')?.getAttribute('aria-label') ?? null,
      ...Object.fromEntries([...r.querySelectorAll('[data-field]')].map((c) => [c.dataset.field, c.firstChild?.textContent.trim() ?? ''])),
    })),
  );
}

async function checkAgainst(page, lb, what) {
  const rows = await ratingRows(page);
  assert.deepEqual(
    rows.map((r) => r.model),
    lb.models.map((m) => m.model),
    `${what}: the order of the models`,
  );
  for (const [i, m] of lb.models.entries()) {
    const r = rows[i];
    assert.equal(r.rank, String(m.rank), `${what}: ${m.model}'s rank`);
    assert.equal(r.rating, fixed(m.rating), `${what}: ${m.model}'s rating`);
    assert.equal(r.interval, `${fixed(m.lower)}–${fixed(m.upper)}`, `${what}: ${m.model}'s interval`);
    assert.equal(r.elo, fixed(m.elo), `${what}: ${m.model}'s Elo`);
    assert.equal(r.comparisons, String(m.comparisons), `${what}: ${m.model}'s comparisons`);
    assert.equal(r.wlt, `${m.wins} / ${m.ties} / ${m.losses}`, `${what}: ${m.model}'s wins / ties / losses`);
    assert.equal(r.win_rate, pct(m.win_rate), `${what}: ${m.model}'s win rate`);
    assert.ok(r.bar.includes(`interval ${fixed(m.lower)} to ${fixed(m.upper)}`), `${what}: ${m.model}'s bar says its interval: ${r.bar}`);
  }
}

browserTest('a manager opens the leaderboard from the project list and finds the API’s figures, then asks with other rounds and seed', async ({ page, requests }) => {
  const p = await arena({ seed: 3 });
  let ties = 0;
  const votes = await vote(p, (t, n) => {
    const [a, b] = t.data.responses;
    const [ma, mb] = [modelOf(a), modelOf(b)];
    if (n === 5) return { both_bad: true };
    if (ma !== 'strong' && mb !== 'strong' && n % 4 === 0) return ties++, { tie: true };
    return { choice: strength[ma] > strength[mb] ? a.id : b.id };
  });
  assert.equal(votes, 36);
  assert.ok(ties > 0);
  const lb = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/leaderboard`), 200);
  assert.deepEqual(lb.models.map((m) => m.model), ['strong', 'middle', 'weak']);

  await login(page, srv, ADMIN_EMAIL, ADMIN_PASSWORD, { project: p });
  await page.click(`a[data-leaderboard-project-id="${p.id}"]`);
  await until(async () => (await page.evaluate(() => location.hash)) === `#/projects/${p.id}/leaderboard`, 'the Leaderboard link to go to the leaderboard');
  await waitText(page, '[data-testid=project-name]', new RegExp(p.name));
  await waitVisible(page, '[data-testid=ratings] tr[data-model]', 'the ratings table');
  await checkAgainst(page, lb, 'default rounds');
  assert.match(await textOf(page, '[data-testid=rank-note]'), /only separate models whose 95% intervals do not overlap/);
  assert.equal(await page.isVisible('[data-testid=prior-note]'), lb.prior, 'the prior note when the prior was used');

  // The bars share one scale: strong's dot is right of middle's, which is right of weak's.
  const dots = await page.$$eval('[data-testid=ratings] tbody tr circle.iv-point', (cs) => cs.map((c) => Number(c.getAttribute('cx'))));
  assert.ok(dots[0] > dots[1] && dots[1] > dots[2], `the dots follow the ratings: ${dots}`);

  // The win-rate matrix: the API's rows, the diagonal empty.
  const cells = await page.$$eval('[data-testid=win-rate] td[data-row]', (cs) => cs.map((c) => ({ row: c.dataset.row, col: c.dataset.col, value: c.dataset.value ?? null, text: c.textContent, cls: c.className })));
  for (const [i, r] of lb.win_rate.models.entries())
    for (const [j, c] of lb.win_rate.models.entries()) {
      const cell = cells.find((x) => x.row === r && x.col === c);
      const v = lb.win_rate.rows[i][j];
      assert.equal(cell.text, pct(v), `the win rate of ${r} over ${c}`);
      if (v === null) assert.match(cell.cls, /heat-none/);
      else assert.match(cell.cls, new RegExp(`heat-${Math.round(v * 10)}\\b`), `${r} over ${c} is shaded by its value`);
    }
  assert.equal(await page.locator('[data-testid=win-rate] thead th').count(), 4, 'a header for each column, and one over the row names');

  // Position bias and counts.
  const pb = lb.position_bias;
  assert.equal(await textOf(page, '[data-testid=pb-share]'), pct(pb.share));
  assert.equal(await textOf(page, '[data-testid=pb-counts]'), `${pb.left} / ${pb.right} / ${pb.ties}`);
  assert.equal(await page.getAttribute('[data-testid=position-bias] .pb-row', 'data-flagged'), String(pb.p_value < 0.05));
  assert.equal(await textOf(page, '[data-testid=lb-counts] [data-count=votes]'), '36');
  assert.equal(await textOf(page, '[data-testid=lb-counts] [data-count=both_bad]'), '1');
  assert.equal(await textOf(page, '[data-testid=lb-counts] [data-count=comparisons]'), String(lb.comparisons));
  await screenshot(page, 'leaderboard');

  // Other rounds and seed: asked again, and the figures are the API's for them.
  await page.fill('[data-testid=lb-rounds]', '200');
  await page.fill('[data-testid=lb-seed]', '9');
  await page.click('[data-action=recompute]');
  await until(() => requests.some((r) => r.path === `/v1/projects/${p.id}/leaderboard` && /rounds=200&seed=9/.test(r.url) && r.status === 200), 'a request with rounds=200 and seed=9');
  const lb2 = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/leaderboard?rounds=200&seed=9`), 200);
  await until(async () => (await ratingRows(page))[0]?.interval === `${fixed(lb2.models[0].lower)}–${fixed(lb2.models[0].upper)}`, 'the new intervals');
  await checkAgainst(page, lb2, 'rounds=200 seed=9');

  // No rounds: no intervals, and the page says why ranks cannot separate.
  await page.fill('[data-testid=lb-rounds]', '0');
  await page.click('[data-action=recompute]');
  await waitText(page, '[data-testid=rank-note]', /no bootstrap rounds/i);
  assert.equal(await page.locator('[data-testid=ratings] rect.iv-range').count(), 0, 'no interval bars');
  // A bad value is refused, the figures stay.
  await page.fill('[data-testid=lb-rounds]', '20000');
  await page.click('[data-action=recompute]');
  await waitText(page, '[data-testid=lb-control-error]', /Bootstrap rounds: /, 'the refusal of 20000 rounds next to the controls');
  assert.equal(await page.locator('[data-testid=ratings] tr[data-model]').count(), 3, 'the figures stay');

  // On a phone the page does not scroll sideways: wide tables scroll in their box.
  await page.setViewportSize({ width: 390, height: 800 });
  await page.fill('[data-testid=lb-rounds]', '100');
  await page.click('[data-action=recompute]');
  await waitVisible(page, '[data-testid=ratings] rect.iv-range', 'the interval bars again');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone's screen`);
  await screenshot(page, 'leaderboard-narrow');
});

browserTest('a judge who always picks the left answer is flagged', async ({ page }) => {
  const p = await arena({ design: 'sampled', pairs_per_prompt: 1, seed: 4 });
  assert.equal(await vote(p, (t) => ({ choice: t.data.responses[0].id })), 12);
  const lb = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/leaderboard`), 200);
  assert.ok(lb.position_bias.p_value < 0.05, JSON.stringify(lb.position_bias));
  await login(page, srv, ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.goto(`${srv.base}/#/projects/${p.id}/leaderboard`);
  await waitVisible(page, '[data-testid=pb-flag]', 'the position-bias flag');
  assert.match(await textOf(page, '[data-testid=pb-flag]'), /on the left/);
  assert.equal(await textOf(page, '[data-testid=pb-share]'), '100.0%');
  assert.equal(await page.getAttribute('[data-testid=position-bias] .pb-row', 'data-flagged'), 'true');
  assert.match(await page.getAttribute('[data-testid=position-bias] svg', 'aria-label'), /100\.0% of decisive votes went to the left answer/);
  await screenshot(page, 'leaderboard-left-bias');
});

browserTest('a ranking project has a leaderboard too, with no position-bias figure', async ({ page }) => {
  const g = await generation();
  const p = expectStatus(await srv.api('POST', '/v1/projects', { name: `ranks-${++seq}`, kind: 'ranking', params: {}, overlap: 1 }), 201);
  expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${ann.id}`, { role: 'annotator' }), 200);
  expectStatus(await srv.api('POST', `/v1/projects/${p.id}/generation-tasks`, { generation_id: g.id }), 200);
  assert.equal(await vote(p, (t) => ({ ranking: [...t.data.responses].sort((a, b) => strength[modelOf(b)] - strength[modelOf(a)]).map((r) => r.id) })), 12);
  const lb = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/leaderboard`), 200);
  await login(page, srv, ADMIN_EMAIL, ADMIN_PASSWORD, { project: p });
  await page.click(`a[data-leaderboard-project-id="${p.id}"]`);
  await waitVisible(page, '[data-testid=ratings] tr[data-model]', 'the ratings of a ranking project');
  await checkAgainst(page, lb, 'ranking');
  assert.equal(await textOf(page, '[data-testid=lb-counts] [data-count=comparisons]'), '36', 'three pairs per ranking of three');
  assert.match(await textOf(page, '[data-testid=pb-none]'), /rankings of this project are not counted/);
  assert.equal(await page.locator('[data-testid=position-bias] svg').count(), 0);
});

browserTest('a project with no votes shows an empty state; other kinds have no link; an annotator is refused', async ({ page, context }) => {
  const p = await arena({ seed: 1 });
  const cat = expectStatus(await srv.api('POST', '/v1/projects', { name: 'not an arena', kind: 'categorization', params: { labels: ['a', 'b'] } }), 201);
  await login(page, srv, ADMIN_EMAIL, ADMIN_PASSWORD, { project: p });
  assert.equal(await page.locator(`a[data-leaderboard-project-id="${cat.id}"]`).count(), 0, 'no leaderboard link for a categorization project');
  await page.goto(`${srv.base}/#/projects/${p.id}/dashboard`);
  await waitVisible(page, '[data-link=leaderboard]', 'the leaderboard link on the dashboard');
  await page.click('[data-link=leaderboard]');
  await waitVisible(page, '[data-testid=lb-empty]', 'the empty state');
  assert.match(await textOf(page, '[data-testid=lb-empty]'), /No votes yet/);
  assert.equal(await page.locator('[data-testid=ratings]').count(), 0, 'no ratings table');
  await screenshot(page, 'leaderboard-empty');

  await page.goto(`${srv.base}/#/projects/${cat.id}/leaderboard`);
  await waitVisible(page, '[data-testid=error]', 'the API’s refusal for a categorization project');

  await context.clearCookies();
  await login(page, srv, ann.email, ann.password);
  await page.goto(`${srv.base}/#/projects/${p.id}/leaderboard`);
  await waitText(page, '[data-testid=error]', /reviewers and managers/, 'the 403 explained');
  assert.equal(await page.locator(`a[data-leaderboard-project-id="${p.id}"]`).count(), 0);
});
