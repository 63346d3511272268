// leaderboard.test.mjs -- a project's leaderboard (issue 10) from the
// votes on tasks made from a generation: models named though annotators
// never see them, Bradley-Terry ratings with intervals and overlap-aware
// ranks, Elo, the win-rate matrix, ties and "both bad", position bias, a
// ranking project, imported tasks naming their models in metadata, and
// bad parameters.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, it, expectError, expectStatus, makeMember, sleep, SLOW, until } from './harness.mjs';
import { startLlmServer } from './llmserver.mjs';


describe('leaderboard', () => {
  let srv, llm, ann, gen, eps;
  before(async () => {
    srv = await startServer({ args: ['--allow-private-outbound', '--ml-poll-ms', '50', '--ml-retry-ms', '50'] });
    llm = await startLlmServer();
    ann = await makeMember(srv, 'lb-ann@test.io');
    eps = [];
    for (const name of ['strong', 'middle', 'weak'])
      eps.push(expectStatus(await srv.api('POST', '/v1/model-endpoints', { name, base_url: llm.url, model: name }), 201));
    const set = expectStatus(await srv.api('POST', '/v1/prompt-sets', { name: 'lb', prompts: Array.from({ length: 30 }, (_, i) => ({ prompt: `q${i}` })) }), 201);
    gen = expectStatus(await srv.api('POST', '/v1/generations', { prompt_set_id: set.id, endpoints: eps.map((e) => e.id) }), 201);
    await until('the generation', async () => (await srv.api('GET', `/v1/generations/${gen.id}`)).body.state === 'done');
  });
  after(async () => {
    await srv?.stop();
    await llm?.close();
  });

  let seq = 0;
  async function project(kind, params = {}) {
    const p = expectStatus(await srv.api('POST', '/v1/projects', { name: `lb-${++seq}`, kind, params, overlap: 1 }), 201);
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${ann.id}`, { role: 'annotator' }), 200);
    return p;
  }
  // The annotator works the whole queue; respond(task) makes each response.
  async function work(p, respond) {
    const tasks = new Map((await srv.api('GET', `/v1/projects/${p.id}/tasks?limit=1000`)).body.items.map((t) => [t.id, t]));
    let n = 0;
    for (;;) {
      const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ann.key }), 200).assignment;
      if (!a) break;
      const body = { annotation_id: `v${p.id}-${++n}`, response: respond(tasks.get(a.task_id)) };
      expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, body, { key: ann.key }), 201);
    }
    return n;
  }
  const modelOf = (r) => r.text.split(' ')[0]; // "strong says: q3"
  const strength = { strong: 3, middle: 2, weak: 1 };
  const board = async (p, q = '') => expectStatus(await srv.api('GET', `/v1/projects/${p.id}/leaderboard${q}`), 200);

  it('ranks the models the annotators preferred, with intervals, Elo, win rates and no position bias', async () => {
    const p = await project('comparison');
    expectStatus(await srv.api('POST', `/v1/projects/${p.id}/generation-tasks`, { generation_id: gen.id, seed: 3 }), 200);
    // strong always beats the others; middle beats weak, except a tie on every fifth
    let k = 0;
    const votes = await work(p, (t) => {
      const [a, b] = t.data.responses;
      if (++k % 5 === 0 && modelOf(a) !== 'strong' && modelOf(b) !== 'strong') return { tie: true };
      return { choice: strength[modelOf(a)] > strength[modelOf(b)] ? a.id : b.id };
    });
    assert.equal(votes, 90);
    const lb = await board(p, '?rounds=200&seed=9');
    assert.equal(lb.votes, 90);
    assert.equal(lb.comparisons, 90);
    assert.deepEqual(lb.models.map((m) => m.model), ['strong', 'middle', 'weak']);
    const [s, m, w] = lb.models;
    assert.equal(s.comparisons, 60);
    assert.equal(s.wins, 60);
    assert.equal(s.win_rate, 1);
    assert.ok(s.lower <= s.rating && s.rating <= s.upper);
    assert.ok(m.ties > 0 && m.ties === w.ties);
    assert.equal(s.rank, 1);
    assert.ok(m.rank >= 1 && w.rank >= m.rank);
    assert.ok(s.elo > m.elo && m.elo > w.elo);
    assert.equal(lb.win_rate.models.join(), 'strong,middle,weak');
    assert.equal(lb.win_rate.rows[0][1], 1);
    assert.equal(lb.win_rate.rows[0][0], null, 'a model never meets itself');
    assert.ok(Math.abs(lb.win_rate.rows[1][2] + lb.win_rate.rows[2][1] - 1) < 1e-12);
    assert.equal(lb.prior, true, 'strong never lost: the plain MLE does not exist');
    assert.equal(lb.rounds, 200);
    assert.equal(lb.seed, 9);
    // the same seed gives the same intervals
    assert.deepEqual((await board(p, '?rounds=200&seed=9')).models, lb.models);
    // positions were drawn at random, and preferences follow models: no bias
    const pb = lb.position_bias;
    assert.equal(pb.left + pb.right + pb.ties, 90);
    assert.ok(pb.p_value > 0.001, JSON.stringify(pb));
  });

  it('finds a judge who always picks the left answer, and counts "both bad" as a tie', async () => {
    const p = await project('comparison');
    expectStatus(await srv.api('POST', `/v1/projects/${p.id}/generation-tasks`, { generation_id: gen.id, design: 'sampled', pairs_per_prompt: 1, seed: 4 }), 200);
    let k = 0;
    await work(p, (t) => (++k % 10 === 0 ? { both_bad: true } : { choice: t.data.responses[0].id }));
    const lb = await board(p, '?rounds=0');
    assert.equal(lb.votes, 30);
    assert.equal(lb.both_bad, 3);
    assert.deepEqual([lb.position_bias.left, lb.position_bias.right, lb.position_bias.ties], [27, 0, 3]);
    assert.equal(lb.position_bias.share, 1);
    assert.ok(lb.position_bias.p_value < 1e-6);
    assert.ok(lb.position_bias.upper <= 1 && lb.position_bias.lower > 0.8);
    assert.ok(lb.models.every((m) => m.lower === null && m.upper === null), 'no rounds: no intervals');
  });

  it('ranks from a ranking project, and from imported tasks that name their models in metadata', async () => {
    const pr = await project('ranking', { allow_ties: true });
    expectStatus(await srv.api('POST', `/v1/projects/${pr.id}/generation-tasks`, { generation_id: gen.id }), 200);
    await work(pr, (t) => ({ ranking: [...t.data.responses].sort((a, b) => strength[modelOf(b)] - strength[modelOf(a)]).map((r) => r.id) }));
    const lr = await board(pr, '?rounds=100');
    assert.equal(lr.votes, 30);
    assert.equal(lr.comparisons, 90, 'three pairs per ranking of three');
    assert.deepEqual(lr.models.map((m) => m.model), ['strong', 'middle', 'weak']);

    const pi = await project('comparison');
    const tasks = Array.from({ length: 12 }, (_, i) => ({
      unique_id: `imp${i}`,
      data: { prompt: `p${i}`, responses: [{ id: 'x', text: 'first' }, { id: 'y', text: 'second' }] },
      metadata: { models: i % 2 ? { x: 'alpha', y: 'beta' } : { x: 'beta', y: 'alpha' } },
    }));
    tasks.push({ unique_id: 'nomodel', data: { prompt: 'p', responses: [{ id: 'x', text: 'a' }, { id: 'y', text: 'b' }] } });
    expectStatus(await srv.api('POST', `/v1/projects/${pi.id}/tasks`, tasks), 200);
    await work(pi, (t) => ({ choice: t.metadata?.models?.x === 'alpha' ? 'x' : 'y' }));
    const li = await board(pi, '?rounds=50');
    assert.deepEqual(li.models.map((m) => m.model), ['alpha', 'beta']);
    assert.equal(li.models[0].wins, 12);
    assert.equal(li.skipped.unknown_model, 1);
  });

  it('refuses other kinds and bad parameters, and is for reviewers and managers', async () => {
    const pc = await project('categorization', { labels: ['a', 'b'] });
    expectError(await srv.api('GET', `/v1/projects/${pc.id}/leaderboard`), 422, 'project');
    const p = await project('comparison');
    expectError(await srv.api('GET', `/v1/projects/${p.id}/leaderboard?rounds=-1`), 400, 'rounds');
    expectError(await srv.api('GET', `/v1/projects/${p.id}/leaderboard?rounds=1.5`), 400, 'rounds');
    expectError(await srv.api('GET', `/v1/projects/${p.id}/leaderboard?level=2`), 400, 'level');
    expectError(await srv.api('GET', `/v1/projects/${p.id}/leaderboard?k=abc`), 400, 'k');
    const empty = await board(p);
    assert.deepEqual(empty.models, []);
    assert.equal(empty.votes, 0);
    assert.equal((await srv.api('GET', `/v1/projects/${p.id}/leaderboard`, undefined, { key: ann.key })).status, 403);
  });
});
