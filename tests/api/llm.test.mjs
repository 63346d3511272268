// llm.test.mjs -- model endpoints, prompt sets and generation jobs
// (issue 10), against an OpenAI-compatible server of the tests' own
// (llmserver.mjs): the key sealed at rest and never returned, the real
// client path (parameters, usage, latency), retries with backoff on 500,
// 429 and malformed replies, time-outs, failures that should not be
// retried, a concurrency limit, a job resumed after a restart, and tasks
// made from the outputs with positions drawn and recorded.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, it, expectError, expectStatus, makeMember, sleep, SLOW, TEST_DB_URL, psql, until } from './harness.mjs';
import { startLlmServer } from './llmserver.mjs';


const ARGS = ['--allow-private-outbound', '--ml-poll-ms', '50', '--ml-retry-ms', '50'];

describe('model endpoints and generations', () => {
  let srv, llm, member;
  before(async () => {
    srv = await startServer({ args: ARGS });
    llm = await startLlmServer();
    member = await makeMember(srv, 'llm-member@test.io');
  });
  after(async () => {
    await srv?.stop();
    await llm?.close();
  });

  let seq = 0;
  const endpoint = async (extra = {}) =>
    expectStatus(await srv.api('POST', '/v1/model-endpoints', { name: `ep-${++seq}`, base_url: llm.url, model: `m${seq}`, ...extra }), 201);
  const promptSet = async (prompts) => expectStatus(await srv.api('POST', '/v1/prompt-sets', { name: `ps-${++seq}`, prompts }), 201);
  const gen = async (body) => expectStatus(await srv.api('POST', '/v1/generations', body), 201);
  const status = async (g) => expectStatus(await srv.api('GET', `/v1/generations/${g.id}`), 200);
  const finished = (g) => until(`generation ${g.id} to finish`, async () => {
    const s = await status(g);
    return s.state === 'done' ? s : null;
  });
  const outputs = async (g, q = '') => expectStatus(await srv.api('GET', `/v1/generations/${g.id}/outputs?limit=1000${q}`), 200).items;

  it('registers endpoints: admins only, fields checked, the key sealed and never returned', async () => {
    const post = (b, key) => srv.api('POST', '/v1/model-endpoints', b, key ? { key } : {});
    expectError(await post({ base_url: llm.url, model: 'x' }), 422, 'name');
    expectError(await post({ name: 'a', base_url: 'ftp://x', model: 'x' }), 422, 'base_url');
    expectError(await post({ name: 'a', base_url: `${llm.url}?q=1`, model: 'x' }), 422, 'base_url');
    expectError(await post({ name: 'a', base_url: llm.url }), 422, 'model');
    expectError(await post({ name: 'a', base_url: llm.url, model: 'x', params: { temperature: 3 } }), 422, 'params.temperature');
    expectError(await post({ name: 'a', base_url: llm.url, model: 'x', params: { logit_bias: {} } }), 422, 'params.logit_bias');
    expectError(await post({ name: 'a', base_url: llm.url, model: 'x', params: { stop: ['a', 'b', 'c', 'd', 'e'] } }), 422, 'params.stop');
    expectError(await post({ name: 'a', base_url: llm.url, model: 'x', timeout_ms: 5 }), 422, 'timeout_ms');
    expectError(await post({ name: 'a', base_url: llm.url, model: 'x', api_key: 7 }), 422, 'api_key');
    assert.equal((await post({ name: 'a', base_url: llm.url, model: 'x' }, member.key)).status, 403);

    const ep = expectStatus(await post({ name: 'keyed', base_url: `${llm.url}/`, model: 'gpt-test', api_key: 'sk-secret-123', params: { temperature: 0.2 } }), 201);
    assert.equal(ep.base_url, llm.url, 'trailing slash trimmed');
    assert.equal(ep.has_api_key, true);
    assert.ok(!JSON.stringify(ep).includes('sk-secret'));
    expectError(await post({ name: 'keyed', base_url: llm.url, model: 'y' }), 409, 'name');
    // members see endpoints (to use them) but never the key
    const list = expectStatus(await srv.api('GET', '/v1/model-endpoints', undefined, { key: member.key }), 200);
    assert.ok(list.items.some((x) => x.id === ep.id));
    assert.ok(!JSON.stringify(list).includes('sk-secret'));
    // sealed at rest: the database file does not hold the key in clear
    if (!TEST_DB_URL) {
      const db = fs.readFileSync(path.join(srv.dir, 'loupe.db'));
      const wal = fs.existsSync(path.join(srv.dir, 'loupe.db-wal')) ? fs.readFileSync(path.join(srv.dir, 'loupe.db-wal')) : Buffer.alloc(0);
      assert.ok(!db.includes('sk-secret-123') && !wal.includes('sk-secret-123'), 'the API key is stored in clear');
    } else {
      const rows = psql(srv.dbUrl, `SELECT api_key FROM model_endpoints WHERE id = ${ep.id}`);
      assert.ok(rows[0][0].startsWith('v1.') && !rows[0][0].includes('sk-secret'));
    }
    // PATCH: a new key, a rename; null removes the key
    const p1 = expectStatus(await srv.api('PATCH', `/v1/model-endpoints/${ep.id}`, { model: 'gpt-test-2', params: { temperature: 0.7, max_tokens: 50 } }), 200);
    assert.equal(p1.model, 'gpt-test-2');
    assert.deepEqual(p1.params, { temperature: 0.7, max_tokens: 50 });
    assert.equal(p1.has_api_key, true);
    const p2 = expectStatus(await srv.api('PATCH', `/v1/model-endpoints/${ep.id}`, { api_key: null }), 200);
    assert.equal(p2.has_api_key, false);
    assert.equal((await srv.api('PATCH', `/v1/model-endpoints/${ep.id}`, { model: 'z' }, { key: member.key })).status, 403);
    assert.equal((await srv.api('GET', '/v1/model-endpoints/999999')).status, 404);
    expectStatus(await srv.api('DELETE', `/v1/model-endpoints/${ep.id}`), 200);
    assert.equal((await srv.api('GET', `/v1/model-endpoints/${ep.id}`)).status, 404);
  });

  it('imports prompt sets as JSON or NDJSON, with errors naming the item or line', async () => {
    const post = (b) => srv.api('POST', '/v1/prompt-sets', b);
    expectError(await post({}), 422, 'name');
    expectError(await post({ name: 'x', prompts: [{}] }), 422, 'prompts[0].prompt');
    expectError(await post({ name: 'x', prompts: [{ prompt: 'a', messages: [] }] }), 422, 'prompts[0].prompt');
    expectError(await post({ name: 'x', prompts: [{ messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }] }] }), 422, 'prompts[0].messages[1]');
    expectError(await post({ name: 'x', prompts: [{ messages: [{ role: 'robot', content: 'a' }] }] }), 422, 'prompts[0].messages[0].role');
    expectError(await post({ name: 'x', prompts: [{ prompt: 'a', reference: [] }] }), 422, 'prompts[0].reference');
    expectError(await post({ name: 'x', prompts: [{ prompt: 'a', colour: 1 }] }), 422, 'prompts[0].colour');
    const set = await promptSet([{ prompt: 'one', unique_id: 'p1' }, { system: 'be brief', prompt: 'two' }]);
    assert.equal(set.prompts, 2);
    const nd = '{"prompt":"three","reference":"3"}\n\n{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"},{"role":"user","content":"four?"}]}\n{"prompt":"one","unique_id":"p1"}\n';
    const r = await srv.api('POST', `/v1/prompt-sets/${set.id}/prompts`, nd, { headers: { 'Content-Type': 'application/x-ndjson' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { added: 2, existing: 1 });
    const bad = await srv.api('POST', `/v1/prompt-sets/${set.id}/prompts`, '{"prompt":"ok"}\n{nope\n', { headers: { 'Content-Type': 'application/x-ndjson' } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /line 2/);
    const items = expectStatus(await srv.api('GET', `/v1/prompt-sets/${set.id}/prompts`), 200).items;
    assert.equal(items.length, 4);
    assert.deepEqual(items[1].messages, [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'two' }]);
    assert.deepEqual(items[2].reference, ['3']);
    // another member does not see it
    assert.equal((await srv.api('GET', `/v1/prompt-sets/${set.id}`, undefined, { key: member.key })).status, 404);
    assert.equal(expectStatus(await srv.api('GET', '/v1/prompt-sets', undefined, { key: member.key }), 200).items.length, 0);
  });

  it('runs a generation against two endpoints: parameters sent, usage, latency and model recorded', async () => {
    llm.state.requireKey = 'sk-good';
    const a = await endpoint({ api_key: 'sk-good', params: { temperature: 0.3, max_tokens: 64 } });
    const b = await endpoint({ api_key: 'sk-good' });
    const set = await promptSet([{ prompt: 'capital of France?' }, { system: 'terse', prompt: 'two plus two?' }]);
    const before = llm.state.requests.length;
    const g = await gen({ prompt_set_id: set.id, endpoints: [a.id, b.id], params: { temperature: 0.9, seed: 7 }, samples: 2, name: 'first' });
    assert.equal(g.outputs.total, 8);
    const s = await finished(g);
    assert.equal(s.outputs.done, 8);
    assert.equal(s.outputs.failed, 0);
    assert.equal(s.per_endpoint.length, 2);
    assert.ok(s.per_endpoint[0].completion_tokens > 0);
    assert.ok(s.per_endpoint[0].mean_latency_ms >= 0);
    const outs = await outputs(g);
    assert.equal(outs.length, 8);
    const o = outs.find((x) => x.endpoint_id === a.id && x.sample === 1);
    assert.equal(o.state, 'done');
    assert.equal(o.model, `${a.model}-0613`, 'the model as it names itself');
    assert.match(o.content, new RegExp(`^${a.model} says: `));
    assert.deepEqual(o.params, { temperature: 0.9, max_tokens: 64, seed: 8 }, 'job params over endpoint defaults; sample 1 moves the seed');
    assert.ok(o.prompt_tokens > 0 && o.completion_tokens > 0 && o.latency_ms >= 0);
    const sent = llm.state.requests.slice(before);
    assert.equal(sent.length, 8);
    assert.ok(sent.every((r) => r.headers.authorization === 'Bearer sk-good'));
    const sys = sent.find((r) => r.body.messages.length === 2);
    assert.deepEqual(sys.body.messages[0], { role: 'system', content: 'terse' });
    llm.state.requireKey = null;
  });

  it('retries 500, 429 and malformed replies with backoff; fails 4xx at once; the job still finishes', async () => {
    const ep = await endpoint({ retries: 3 });
    const set = await promptSet([
      { prompt: 'flaky [fail:2]' },
      { prompt: 'busy [ratelimit:2]' },
      { prompt: 'broken [garbage:1]' },
      { prompt: 'always down [fail:99]' },
      { prompt: 'refused [badreq]' },
      { prompt: 'empty [nochoices]' },
      { prompt: 'fine' },
    ]);
    const g = await gen({ prompt_set_id: set.id, endpoints: [ep.id] });
    const s = await finished(g);
    const outs = await outputs(g);
    const by = (p) => outs.find((o) => o.content?.includes(p)) ?? null;
    assert.equal(s.outputs.done, 4, JSON.stringify(s.errors));
    assert.equal(s.outputs.failed, 3);
    const failed = await outputs(g, '&state=failed');
    assert.equal(failed.length, 3);
    const errs = failed.map((f) => f.error).join('\n');
    assert.match(errs, /HTTP 500/);
    assert.match(errs, /HTTP 400: the model answered with an error: This model does not support that/);
    assert.match(errs, /no choices/);
    const down = failed.find((f) => /HTTP 500/.test(f.error));
    assert.equal(down.attempts, 4, 'one try and three retries');
    const refused = failed.find((f) => /HTTP 400/.test(f.error));
    assert.equal(refused.attempts, 1, 'a 400 is not tried again');
    assert.ok(by('flaky') && by('busy') && by('broken') && by('fine'));
    assert.equal(outs.find((o) => o.content?.includes('flaky')).attempts, 3);
    // retry the failed ones: the job runs again and fails them again
    const r = expectStatus(await srv.api('POST', `/v1/generations/${g.id}/retry`), 200);
    assert.equal(r.requeued, 3);
    assert.equal(r.state, 'running');
    const s2 = await finished(g);
    assert.equal(s2.outputs.failed, 3);
  });

  it('bounds each call by the time-out and the endpoint concurrency limit', async () => {
    const slowEp = await endpoint({ timeout_ms: 300, retries: 0 });
    const set = await promptSet([{ prompt: 'never [hang]' }, ...Array.from({ length: 8 }, (_, i) => ({ prompt: `slowish ${i} [slow:150]` }))]);
    const limited = await endpoint({ max_concurrency: 2 });
    llm.state.maxInflight = 0;
    const g1 = await gen({ prompt_set_id: set.id, endpoints: [slowEp.id] });
    const s1 = await finished(g1);
    const hung = (await outputs(g1, '&state=failed'))[0];
    assert.match(hung.error, /no complete reply within 300 ms/);
    assert.ok(s1.outputs.done === 8);
    const set2 = await promptSet(Array.from({ length: 8 }, (_, i) => ({ prompt: `queued ${i} [slow:100]` })));
    llm.state.maxInflight = 0;
    const g2 = await gen({ prompt_set_id: set2.id, endpoints: [limited.id] });
    await finished(g2);
    assert.ok(llm.state.maxInflight <= 2, `at most 2 at once, saw ${llm.state.maxInflight}`);
  });

  it('scores an evaluation set with SQuAD exact match and F1, with standard errors per endpoint', async () => {
    const good = await endpoint();
    const wordy = await endpoint();
    llm.state.answers['Capital of France?'] = (m) => (m === good.model ? 'Paris.' : 'It is Paris');
    llm.state.answers['Largest planet?'] = (m) => (m === good.model ? 'the planet Jupiter' : 'Saturn');
    llm.state.answers['Who wrote Hamlet?'] = (m) => (m === good.model ? 'Shakespeare' : 'William Shakespeare');
    const set = await promptSet([
      { prompt: 'Capital of France?', reference: ['Paris'] },
      { prompt: 'Largest planet?', reference: ['Jupiter', 'planet Jupiter'] },
      { prompt: 'Who wrote Hamlet?', reference: 'William Shakespeare' },
      { prompt: 'no reference here' },
    ]);
    assert.equal(set.with_reference, 3);
    const g = await gen({ prompt_set_id: set.id, endpoints: [good.id, wordy.id] });
    const s = await finished(g);
    const row = (ep) => s.per_endpoint.find((x) => x.endpoint_id === ep.id);
    // good: EM 1 (Paris), 1 ("planet Jupiter" after dropping "the"), 0 -> mean 2/3;
    // F1: 1, 1, 2/3 (shakespeare vs william shakespeare: P 1, R 1/2)
    assert.ok(Math.abs(row(good).exact_match - 2 / 3) < 1e-9, JSON.stringify(row(good)));
    assert.ok(Math.abs(row(good).f1 - (1 + 1 + 2 / 3) / 3) < 1e-9);
    // sample standard deviation of (1, 1, 0) over sqrt(3)
    assert.ok(Math.abs(row(good).exact_match_se - Math.sqrt(1 / 3) / Math.sqrt(3)) < 1e-9);
    // wordy: EM 0, 0, 1; F1 0.5 ("it is paris" vs "paris"), 0, 1
    assert.ok(Math.abs(row(wordy).exact_match - 1 / 3) < 1e-9);
    assert.ok(Math.abs(row(wordy).f1 - 0.5) < 1e-9);
    const outs = await outputs(g);
    const free = outs.filter((o) => o.exact_match === null);
    assert.equal(free.length, 2, 'a prompt without reference is not scored');
  });

  it('drafts synthetic items from a template; people accept, fix or reject them; the acceptance rate per template and model; only kept items export', async () => {
    const lister = await endpoint();
    const jsoner = await endpoint();
    llm.state.answers['Write 3 questions about billing.'] = (m) =>
      m === lister.model ? '1. How do I pay?\n2) Where is my invoice?\n\n- Can I get a refund?' : '```json\n["Why was I charged twice?", "How do I change my card?", "What is VAT?"]\n```';
    llm.state.answers['Write 3 questions about shipping.'] = () => '* Where is my parcel?\n* How long does it take?\n* Do you ship abroad?';
    const set = await promptSet([{ prompt: 'Write 3 questions about billing.' }, { prompt: 'Write 3 questions about shipping.' }]);
    const g = await gen({ prompt_set_id: set.id, endpoints: [lister.id, jsoner.id] });
    await finished(g);
    const p = expectStatus(await srv.api('POST', '/v1/projects', { name: `drafts-${++seq}`, kind: 'textcollection', params: { allow_reject: true }, overlap: 1 }), 201);
    expectError(await srv.api('POST', `/v1/projects/${p.id}/generation-tasks`, { generation_id: g.id, split: 'words' }), 422, 'split');
    const made = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/generation-tasks`, { generation_id: g.id }), 200);
    assert.equal(made.created, 12, '3 items x 2 templates x 2 models');
    const tasks = (await srv.api('GET', `/v1/projects/${p.id}/tasks?limit=100`)).body.items;
    const drafts = tasks.map((t) => t.data.draft).sort();
    assert.ok(drafts.includes('How do I pay?') && drafts.includes('Where is my invoice?') && drafts.includes('Can I get a refund?'), drafts.join('|'));
    assert.ok(drafts.includes('Why was I charged twice?') && drafts.includes('Do you ship abroad?'));
    assert.ok(tasks.every((t) => /^Write 3 questions about/.test(t.data.prompt)));
    // an annotator reviews: questions with "refund" or "VAT" rejected, "pay" fixed, the rest kept as they are
    const ann = member;
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${ann.id}`, { role: 'annotator' }), 200);
    const byId = new Map(tasks.map((t) => [t.id, t]));
    for (let n = 0; ; n++) {
      const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ann.key }), 200).assignment;
      if (!a) break;
      const d = byId.get(a.task_id).data.draft;
      const response = /refund|VAT/.test(d) ? { rejected: true, reason: 'off topic' } : /pay\?/.test(d) ? { text: 'How do I pay my bill?' } : { text: d };
      expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `d${n}`, response }, { key: ann.key }), 201);
    }
    const rep = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/draft-report`), 200);
    const row = (model, tpl) => rep.templates.find((r) => r.model === model && r.prompt.includes(tpl));
    const lb = row(lister.name, 'billing');
    assert.deepEqual([lb.drafts, lb.reviewed, lb.accepted, lb.fixed, lb.rejected], [3, 3, 1, 1, 1]);
    assert.ok(Math.abs(lb.acceptance_rate - 2 / 3) < 1e-12 && Math.abs(lb.unchanged_rate - 1 / 3) < 1e-12);
    assert.ok(lb.lower < 2 / 3 && lb.upper > 2 / 3);
    const jb = row(jsoner.name, 'billing');
    assert.deepEqual([jb.accepted, jb.fixed, jb.rejected], [2, 0, 1]);
    const total = rep.models.find((r) => r.model === jsoner.name);
    assert.deepEqual([total.drafts, total.reviewed, total.rejected], [6, 6, 1]);
    // only kept items export as data
    const ex = await srv.api('GET', `/v1/projects/${p.id}/export?format=texts`);
    assert.equal(ex.status, 200);
    const lines = ex.text.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 10, "12 drafts, 2 rejected");
    assert.ok(lines.every((l) => !/refund|VAT/.test(l.text)));
    const fixed = lines.find((l) => l.text === 'How do I pay my bill?');
    assert.equal(fixed.draft, 'How do I pay?');
    assert.equal(fixed.changed, true);
    // rejecting only where the project allows it
    const strict = expectStatus(await srv.api('POST', '/v1/projects', { name: `strict-${++seq}`, kind: 'textcollection', params: {}, overlap: 1 }), 201);
    expectStatus(await srv.api('POST', `/v1/projects/${strict.id}/generation-tasks`, { generation_id: g.id, split: 'whole' }), 200);
    assert.equal((await srv.api('GET', `/v1/projects/${strict.id}/tasks?limit=100`)).body.items.length, 4);
    expectError(await srv.api('GET', `/v1/projects/${strict.id}/leaderboard`), 422, 'project');
  });

  it('checks a generation\'s fields, and keeps others\' jobs out of sight', async () => {
    const ep = await endpoint();
    const set = await promptSet([{ prompt: 'x' }]);
    const empty = expectStatus(await srv.api('POST', '/v1/prompt-sets', { name: 'empty' }), 201);
    const post = (b, key) => srv.api('POST', '/v1/generations', b, key ? { key } : {});
    expectError(await post({ endpoints: [ep.id] }), 422, 'prompt_set_id');
    expectError(await post({ prompt_set_id: set.id }), 422, 'endpoints');
    expectError(await post({ prompt_set_id: set.id, endpoints: [] }), 422, 'endpoints');
    expectError(await post({ prompt_set_id: set.id, endpoints: [999999] }), 422, 'endpoints[0]');
    expectError(await post({ prompt_set_id: set.id, endpoints: [ep.id, ep.id] }), 422, 'endpoints[1]');
    expectError(await post({ prompt_set_id: empty.id, endpoints: [ep.id] }), 422, 'prompt_set_id');
    expectError(await post({ prompt_set_id: set.id, endpoints: [ep.id], samples: 0 }), 422, 'samples');
    expectError(await post({ prompt_set_id: set.id, endpoints: [ep.id], params: { top_p: 2 } }), 422, 'params.top_p');
    expectError(await post({ prompt_set_id: set.id, endpoints: [ep.id] }, member.key), 422, 'prompt_set_id');
    const g = await gen({ prompt_set_id: set.id, endpoints: [ep.id] });
    assert.equal((await srv.api('GET', `/v1/generations/${g.id}`, undefined, { key: member.key })).status, 404);
    assert.equal((await srv.api('POST', `/v1/generations/${g.id}/cancel`, {}, { key: member.key })).status, 404);
    await finished(g);
  });

  it('makes comparison tasks from outputs: pairs across endpoints, positions drawn and recorded, blind to annotators', async () => {
    const eps = [await endpoint(), await endpoint(), await endpoint()];
    const set = await promptSet(Array.from({ length: 10 }, (_, i) => ({ prompt: `question ${i}` })));
    const g = await gen({ prompt_set_id: set.id, endpoints: eps.map((e) => e.id) });
    await finished(g);
    const p = expectStatus(await srv.api('POST', '/v1/projects', { name: `cmp-${++seq}`, kind: 'comparison', params: {}, overlap: 1 }), 201);
    const post = (b) => srv.api('POST', `/v1/projects/${p.id}/generation-tasks`, b);
    expectError(await post({}), 422, 'generation_id');
    expectError(await post({ generation_id: 999999 }), 422, 'generation_id');
    expectError(await post({ generation_id: g.id, design: 'some' }), 422, 'design');
    const all = expectStatus(await post({ generation_id: g.id, seed: 42 }), 200);
    assert.deepEqual(all, { created: 30, existing: 0, seed: 42 }, '3 pairs x 10 prompts');
    const again = expectStatus(await post({ generation_id: g.id, seed: 42 }), 200);
    assert.deepEqual(again, { created: 0, existing: 30, seed: 42 });
    const tasks = (await srv.api('GET', `/v1/projects/${p.id}/tasks?limit=1000`)).body.items;
    assert.equal(tasks.length, 30);
    const t = tasks[0];
    assert.match(t.data.prompt, /^question \d$/);
    assert.equal(t.data.responses.length, 2);
    assert.ok(t.data.responses.every((r) => /^o\d+$/.test(r.id) && / says: question/.test(r.text)));
    assert.ok(!JSON.stringify(t).includes('"model"'), 'annotators must not see which model wrote what');
    // positions: each endpoint shows up on the left about as often as on the right
    const lefts = new Map();
    for (const x of tasks) {
      const m = x.data.responses[0].text.split(' ')[0];
      lefts.set(m, (lefts.get(m) ?? 0) + 1);
    }
    assert.equal([...lefts.values()].reduce((a, b) => a + b, 0), 30);
    assert.ok([...lefts.values()].every((n) => n >= 3 && n <= 17), JSON.stringify([...lefts]));
    // a sampled design: one pair per prompt
    const p2 = expectStatus(await srv.api('POST', '/v1/projects', { name: `cmp-${++seq}`, kind: 'comparison', params: {}, overlap: 1 }), 201);
    const s1 = expectStatus(await srv.api('POST', `/v1/projects/${p2.id}/generation-tasks`, { generation_id: g.id, design: 'sampled', pairs_per_prompt: 1, seed: 5 }), 200);
    assert.equal(s1.created, 10);
    // ranking and rating projects
    const pr = expectStatus(await srv.api('POST', '/v1/projects', { name: `rank-${++seq}`, kind: 'ranking', params: {}, overlap: 1 }), 201);
    assert.equal(expectStatus(await srv.api('POST', `/v1/projects/${pr.id}/generation-tasks`, { generation_id: g.id }), 200).created, 10);
    const rt = (await srv.api('GET', `/v1/projects/${pr.id}/tasks?limit=1`)).body.items[0];
    assert.equal(rt.data.responses.length, 3);
    const prt = expectStatus(await srv.api('POST', '/v1/projects', { name: `rate-${++seq}`, kind: 'rating', params: { criteria: ['helpful'] }, overlap: 1 }), 201);
    assert.equal(expectStatus(await srv.api('POST', `/v1/projects/${prt.id}/generation-tasks`, { generation_id: g.id }), 200).created, 30);
    expectError(await srv.api('POST', `/v1/projects/${prt.id}/generation-tasks`, { generation_id: g.id, design: 'sampled' }), 422, 'design');
    const pc = expectStatus(await srv.api('POST', '/v1/projects', { name: `cat-${++seq}`, kind: 'categorization', params: { labels: ['a', 'b'] }, overlap: 1 }), 201);
    expectError(await srv.api('POST', `/v1/projects/${pc.id}/generation-tasks`, { generation_id: g.id }), 422, 'project');
  });
});

describe('generation jobs across a restart', () => {
  it('a job cut off by a stop goes on where it stopped, nothing sent twice once done', async () => {
    const llm = await startLlmServer();
    let srv = await startServer({ args: ARGS });
    try {
      const ep = expectStatus(await srv.api('POST', '/v1/model-endpoints', { name: 'restart', base_url: llm.url, model: 'r', max_concurrency: 2 }), 201);
      const set = expectStatus(await srv.api('POST', '/v1/prompt-sets', { name: 'r', prompts: Array.from({ length: 12 }, (_, i) => ({ prompt: `item ${i} [slow:200]` })) }), 201);
      const g = expectStatus(await srv.api('POST', '/v1/generations', { prompt_set_id: set.id, endpoints: [ep.id] }), 201);
      await until('some outputs', async () => (await srv.api('GET', `/v1/generations/${g.id}`)).body.outputs.done >= 2);
      const dir = srv.dir;
      await srv.stop({ keepDir: true });
      srv = await startServer({ args: ARGS, dir, key: srv.key, dbUrl: srv.dbUrl });
      const s = await until('the job to finish', async () => {
        const x = (await srv.api('GET', `/v1/generations/${g.id}`)).body;
        return x.state === 'done' ? x : null;
      });
      assert.equal(s.outputs.done, 12);
      const outs = (await srv.api('GET', `/v1/generations/${g.id}/outputs?limit=100`)).body.items;
      assert.ok(outs.every((o) => o.state === 'done' && o.content.startsWith('r says: item')));
    } finally {
      await srv.stop();
      await llm.close();
    }
  });
});
