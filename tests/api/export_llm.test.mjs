// export_llm.test.mjs -- the language-model export formats through the
// API: projects made and answered through the queue, then exported as
// trl, trl_conversational, openai_preference, openai_chat and ratings, and
// the download's bytes compared with what each published layout says.
// Covers ties and "both bad" (no line), three and plain-string responses,
// rankings with ties, non-ASCII text with newlines and quotes, tasks not
// completed (left out), and formats asked of the wrong kind of project.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, it, expectError, expectStatus, makeProject, makeMember } from './harness.mjs';

let srv;
let seq = 0;

before(async () => {
  srv = await startServer();
});
after(async () => {
  await srv?.stop();
});

async function member(p) {
  const m = await makeMember(srv, `llm-${++seq}@test.io`);
  expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${m.id}`, { role: 'annotator' }), 200);
  return m;
}

async function withTasks(p, rows) {
  const r = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, rows), 200);
  assert.equal(r.created, rows.length, `bulk import: ${JSON.stringify(r)}`);
}

/* Works the queue as who until it is empty, answering answer(unique_id). */
async function work(p, who, answer) {
  for (;;) {
    const r = await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: who.key });
    const a = expectStatus(r, 200).assignment;
    if (!a) return;
    const body = { annotation_id: `llm-${a.id}`, response: answer(a.task.unique_id) };
    expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, body, { key: who.key }), 201);
  }
}

/* The download of format for project p, after checking its headers. */
async function download(p, format, query = '') {
  const r = await srv.api('GET', `/v1/projects/${p.id}/export?format=${format}${query}`);
  expectStatus(r, 200);
  assert.equal(r.headers.get('content-type'), 'application/x-ndjson');
  assert.equal(r.headers.get('content-disposition'), `attachment; filename="project-${p.id}-tasks.jsonl"`);
  return r.text;
}

/* The JSON Lines text of these objects, as JSON.stringify writes them
 * (the same bytes as the server's compact, key-ordered output). */
function jsonl(objects) {
  return objects.map((o) => JSON.stringify(o) + '\n').join('');
}

/* Every line of text parsed, each ending with \n. */
function lines(text) {
  if (text === '') return [];
  assert.ok(text.endsWith('\n'), `does not end with a newline: ${JSON.stringify(text.slice(-80))}`);
  return text.slice(0, -1).split('\n').map((l) => JSON.parse(l));
}

const user = (content) => ({ role: 'user', content });
const assistant = (content) => ({ role: 'assistant', content });

describe('LLM exports of a comparison project', () => {
  const hard = 'Zoë fragt: "Warum?"\nZweite Zeile — 日本語 🙂';
  let p;
  before(async () => {
    p = await makeProject(srv, { kind: 'comparison', params: { aspects: ['accuracy'] } });
    await withTasks(p, [
      { unique_id: 'two', data: { prompt: 'Say hi', responses: [{ id: 'a', text: 'Hi' }, { id: 'b', text: 'Hello' }] } },
      { unique_id: 'tie', data: { prompt: 'Tie?', responses: ['same', 'same too'] } },
      { unique_id: 'bad', data: { prompt: 'Bad?', responses: ['wrong', 'worse'] } },
      { unique_id: 'three', data: { system: 'Be kind.', prompt: hard, responses: ['eins', 'zwei "2"\n', 'drei\t3 ü'] } },
    ]);
    const answers = {
      two: { choice: 'b', aspects: { accuracy: 'tie' } },
      tie: { tie: true, aspects: { accuracy: 'tie' } },
      bad: { both_bad: true, aspects: { accuracy: '1' } },
      three: { choice: '2', aspects: { accuracy: '2' }, justification: 'Am besten' },
    };
    await work(p, await member(p), (u) => answers[u]);
    // Added after the work: never answered, so it has no result.
    await withTasks(p, [{ unique_id: 'pending', data: { prompt: 'Later', responses: ['x', 'y'] } }]);
  });

  it('trl: a line per (chosen, rejected) pair; ties, "both bad" and pending tasks make none', async () => {
    const text = await download(p, 'trl');
    assert.equal(
      text,
      jsonl([
        { prompt: 'Say hi', chosen: 'Hello', rejected: 'Hi' },
        { prompt: hard, chosen: 'drei\t3 ü', rejected: 'eins' },
        { prompt: hard, chosen: 'drei\t3 ü', rejected: 'zwei "2"\n' },
      ]),
    );
    // Non-ASCII goes out as UTF-8, never as \u escapes, and every line parses.
    assert.ok(text.includes('Zoë') && text.includes('🙂'));
    assert.equal(lines(text).length, 3);
  });

  it('trl_conversational: the same pairs as user and assistant messages, data.system first', async () => {
    assert.equal(
      await download(p, 'trl_conversational'),
      jsonl([
        { prompt: [user('Say hi')], chosen: [assistant('Hello')], rejected: [assistant('Hi')] },
        { prompt: [{ role: 'system', content: 'Be kind.' }, user(hard)], chosen: [assistant('drei\t3 ü')], rejected: [assistant('eins')] },
        { prompt: [{ role: 'system', content: 'Be kind.' }, user(hard)], chosen: [assistant('drei\t3 ü')], rejected: [assistant('zwei "2"\n')] },
      ]),
    );
  });

  it('openai_preference: input.messages, preferred_output and non_preferred_output', async () => {
    const sys = { role: 'system', content: 'Be kind.' };
    assert.equal(
      await download(p, 'openai_preference'),
      jsonl([
        { input: { messages: [user('Say hi')] }, preferred_output: [assistant('Hello')], non_preferred_output: [assistant('Hi')] },
        { input: { messages: [sys, user(hard)] }, preferred_output: [assistant('drei\t3 ü')], non_preferred_output: [assistant('eins')] },
        { input: { messages: [sys, user(hard)] }, preferred_output: [assistant('drei\t3 ü')], non_preferred_output: [assistant('zwei "2"\n')] },
      ]),
    );
  });

  it('ratings: the overall call and the aspects of every completed task, ties included', async () => {
    const tasks = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/tasks?limit=100`), 200).items;
    const id = Object.fromEntries(tasks.map((t) => [t.unique_id, t.id]));
    const got = await download(p, 'ratings');
    assert.deepEqual(
      lines(got),
      [
        { task_id: id.two, unique_id: 'two', choice: 'b', aspects: { accuracy: 'tie' }, confidence: 1 },
        { task_id: id.tie, unique_id: 'tie', choice: 'tie', aspects: { accuracy: 'tie' }, confidence: 1 },
        { task_id: id.bad, unique_id: 'bad', choice: 'both_bad', aspects: { accuracy: '1' }, confidence: 1 },
        { task_id: id.three, unique_id: 'three', choice: '2', aspects: { accuracy: '2' }, justification: 'Am besten', confidence: 1 },
      ],
    );
    // The keys in this order, the confidence as the task object writes it.
    assert.ok(got.startsWith(`{"task_id":${id.two},"unique_id":"two","choice":"b","aspects":{"accuracy":"tie"},"confidence":1.0}\n`), got);
  });

  it('the export filters apply (unique_id, status)', async () => {
    assert.equal(await download(p, 'trl', '&unique_id=two'), jsonl([{ prompt: 'Say hi', chosen: 'Hello', rejected: 'Hi' }]));
    assert.equal(await download(p, 'trl', '&status=pending'), '');
  });
});

describe('LLM exports of a ranking project', () => {
  it('trl: every better response over every worse one; responses tied in the ranking make no pair', async () => {
    const p = await makeProject(srv, { kind: 'ranking', params: { allow_ties: true } });
    await withTasks(p, [
      { unique_id: 'r1', data: { prompt: 'Name a fruit.', responses: ['Apple', 'Carrot', 'Banana', 'Rock'] } },
      { unique_id: 'r2', data: { prompt: 'All equal', responses: ['x', 'y'] } },
      { unique_id: 'r3', data: { responses: ['no', 'prompt'] } },
    ]);
    const answers = { r1: { ranking: [['0', '2'], '1', '3'] }, r2: { ranking: [['0', '1']] }, r3: { ranking: ['1', '0'] } };
    await work(p, await member(p), (u) => answers[u]);
    const q = 'Name a fruit.';
    assert.equal(
      await download(p, 'trl'),
      jsonl([
        { prompt: q, chosen: 'Apple', rejected: 'Carrot' },
        { prompt: q, chosen: 'Apple', rejected: 'Rock' },
        { prompt: q, chosen: 'Banana', rejected: 'Carrot' },
        { prompt: q, chosen: 'Banana', rejected: 'Rock' },
        { prompt: q, chosen: 'Carrot', rejected: 'Rock' },
      ]),
    );
    const oa = lines(await download(p, 'openai_preference'));
    assert.equal(oa.length, 5);
    assert.deepEqual(oa[4], { input: { messages: [user(q)] }, preferred_output: [assistant('Carrot')], non_preferred_output: [assistant('Rock')] });
  });
});

describe('openai_chat of a textcollection project', () => {
  it('without fields: data.prompt (or data.instruction) is the user, the result text the assistant', async () => {
    const p = await makeProject(srv, { kind: 'textcollection', params: {} });
    await withTasks(p, [
      { unique_id: 't1', data: { system: 'You translate.', prompt: 'Übersetze: "Hallo"\nbitte' } },
      { unique_id: 't2', data: { instruction: 'Write a haiku' } },
      { unique_id: 't3', data: { topic: 'no prompt at all' } },
    ]);
    const answers = { t1: { text: '"Hello"\n— done' }, t2: { text: 'Old pond, frog 🐸' }, t3: { text: 'orphan' } };
    await work(p, await member(p), (u) => answers[u]);
    await withTasks(p, [{ unique_id: 't4', data: { prompt: 'pending' } }]);
    assert.equal(
      await download(p, 'openai_chat'),
      jsonl([
        { messages: [{ role: 'system', content: 'You translate.' }, user('Übersetze: "Hallo"\nbitte'), assistant('"Hello"\n— done')] },
        { messages: [user('Write a haiku'), assistant('Old pond, frog 🐸')] },
      ]),
    );
  });

  it('with fields: instruction and answer fields (any case) are the turns; other fields are left out', async () => {
    const p = await makeProject(srv, {
      kind: 'textcollection',
      params: { fields: [{ name: 'Question' }, { name: 'answer' }, { name: 'source', required: false }] },
    });
    await withTasks(p, [{ unique_id: 'f1', data: { topic: 'photosynthesis' } }]);
    await work(p, await member(p), () => ({ fields: { Question: 'What is photosynthesis?', answer: 'Plants make sugar from light.', source: 'book' } }));
    assert.equal(
      await download(p, 'openai_chat'),
      jsonl([{ messages: [user('What is photosynthesis?'), assistant('Plants make sugar from light.')] }]),
    );
  });

  it('fields with no answer field are a 400 naming format, before any byte', async () => {
    const p = await makeProject(srv, { kind: 'textcollection', params: { fields: ['summary', 'notes'] } });
    const e = expectError(await srv.api('GET', `/v1/projects/${p.id}/export?format=openai_chat`), 400, 'format');
    assert.equal(
      e.message,
      'format: "openai_chat" takes the assistant\'s turn from a field named answer, response, output or completion ' +
        '(and the user\'s from one named instruction, prompt, question or input, or from data.prompt or data.instruction); ' +
        'this project\'s fields are summary, notes',
    );
  });
});

describe('ratings of a rating project', () => {
  it('per task the result\'s scores and confidence, and with include=annotations each annotator\'s', async () => {
    const p = await makeProject(srv, {
      kind: 'rating',
      overlap: 2,
      params: { criteria: ['helpful', { name: 'safe', min: 0, max: 1, step: 0.5 }] },
    });
    await withTasks(p, [{ unique_id: 'x', data: { prompt: 'How do I boil an egg?' } }]);
    const a = await member(p);
    const b = await member(p);
    await work(p, a, () => ({ ratings: { helpful: 4, safe: 0.5 }, comment: 'Zoë says "ok"\n' }));
    await work(p, b, () => ({ ratings: { helpful: 4, safe: 1 } }));
    await withTasks(p, [{ unique_id: 'y', data: {} }]);
    const [t] = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/tasks?unique_id=x`), 200).items;
    const got = lines(await download(p, 'ratings'));
    assert.deepEqual(got, [{ task_id: t.id, unique_id: 'x', ratings: t.result.response.ratings, confidence: t.result.confidence }]);
    assert.equal(got[0].ratings.helpful, 4);

    const anns = expectStatus(await srv.api('GET', `/v1/tasks/${t.id}/annotations`), 200).items;
    const byUser = Object.fromEntries(anns.map((x) => [x.user_id, x.annotation_id]));
    const full = lines(await download(p, 'ratings', '&include=annotations'));
    assert.deepEqual(full[0].annotations, [
      { annotation_id: byUser[a.id], user_id: a.id, ratings: { helpful: 4, safe: 0.5 }, comment: 'Zoë says "ok"\n' },
      { annotation_id: byUser[b.id], user_id: b.id, ratings: { helpful: 4, safe: 1 } },
    ]);
    assert.equal(full.length, 1, 'task y has no result');
    // workers=pseudonyms and none reach the format's annotations too
    const pseud = lines(await download(p, 'ratings', '&include=annotations&workers=pseudonyms'))[0].annotations.map((x) => x.user_id);
    assert.equal(pseud.length, 2);
    pseud.forEach((u) => assert.match(u, /^w_[0-9a-f]{12}$/));
    assert.notEqual(pseud[0], pseud[1]);
    const none = lines(await download(p, 'ratings', '&include=annotations&workers=none'))[0].annotations;
    assert.deepEqual(none, full[0].annotations.map(({ user_id, ...x }) => x));
  });
});

describe('LLM exports and the kind of project', () => {
  it('a format asked of a project of another kind is a 400 naming format and the kinds it exports', async () => {
    const cat = await makeProject(srv);
    const tc = await makeProject(srv, { kind: 'textcollection', params: {} });
    const cases = [
      [cat, 'trl', 'format: "trl" exports comparison, ranking projects; this one is categorization'],
      [cat, 'trl_conversational', 'format: "trl_conversational" exports comparison, ranking projects; this one is categorization'],
      [tc, 'openai_preference', 'format: "openai_preference" exports comparison, ranking projects; this one is textcollection'],
      [cat, 'openai_chat', 'format: "openai_chat" exports textcollection projects; this one is categorization'],
      [tc, 'ratings', 'format: "ratings" exports rating, comparison projects; this one is textcollection'],
    ];
    for (const [p, format, message] of cases) {
      const e = expectError(await srv.api('GET', `/v1/projects/${p.id}/export?format=${format}`), 400, 'format');
      assert.equal(e.message, message);
    }
  });
});
