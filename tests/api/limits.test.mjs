// limits.test.mjs -- every limit of docs/API.md "Limits" (src/limit.h and
// the size settings), hit exactly at the limit (accepted) and one past it
// (413 for a body's size, 422 "limit_exceeded" naming the field, the limit
// and the value otherwise).
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, it, expectError, expectStatus, makeProject } from './harness.mjs';

const MIB = 1024 * 1024;
const DEPTH = 64; // LP_LIMIT_JSON_DEPTH
const STRING = MIB; // LP_LIMIT_STRING_BYTES
const ITEMS = 10000; // LP_LIMIT_RESPONSE_ITEMS
const TASKS = 3; // --max-tasks, as this server is started

let srv;

/* The error of a limit: 422, code limit_exceeded, the field, and a message
 * naming the limit and giving both the value and the limit. */
function expectLimit(r, field, name, value, limit) {
  const e = expectError(r, 422, field);
  assert.equal(e.code, 'limit_exceeded', JSON.stringify(e));
  assert.match(e.message, new RegExp(name), e.message);
  assert.match(e.message, new RegExp(`\\b${value}\\b`), e.message);
  assert.match(e.message, new RegExp(`\\b${limit}\\b`), e.message);
}

/* A project of kind with one task (data, an attachment of type att if
 * given), and an assignment on it. */
async function assignment(kind, params, data, att) {
  const task = att ? { data, attachments: [{ type: att, url: `https://media.example.com/x.${att}` }] } : { data };
  const p = await makeProject(srv, { kind, params });
  const r = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, [task]), 200);
  assert.equal(r.created, 1, JSON.stringify(r));
  return expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`), 200).assignment;
}

/* Submits a response of n items (item(i)) one past the limit, then at it. */
async function atAndPast(a, list, item, limit = ITEMS) {
  const response = (n) => ({ [list]: Array.from({ length: n }, (_, i) => item(i)) });
  const past = await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `past-${a.id}`, response: response(limit + 1) });
  const e = expectError(past, 422, `response.${list}`);
  assert.match(e.message, new RegExp(`at most ${limit} items \\(has ${limit + 1}\\)`), e.message);
  const at = await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `at-${a.id}`, response: response(limit) });
  expectStatus(at, 201);
}

describe('limits', () => {
  before(async () => {
    srv = await startServer({ args: ['--body-limit-mb', '2', '--max-tasks', String(TASKS)] });
  });
  after(async () => {
    await srv?.stop();
  });

  it('body size (--body-limit-mb, here 2 MiB): exactly the limit is read, one byte more is 413', async () => {
    const json = JSON.stringify({ name: 'body-at-limit', kind: 'categorization', params: { labels: ['a'] } });
    const at = json + ' '.repeat(2 * MIB - json.length);
    expectStatus(await srv.api('POST', '/v1/projects', at, { headers: { 'content-type': 'application/json' } }), 201);
    const e = expectError(await srv.api('POST', '/v1/projects', at + ' ', { headers: { 'content-type': 'application/json' } }), 413, 'body');
    assert.equal(e.code, 'too_large');
    assert.match(e.message, new RegExp(`${2 * MIB + 1} bytes; the limit is ${2 * MIB}`), e.message);
  });

  it(`JSON depth: ${DEPTH} levels are parsed, ${DEPTH + 1} are 422 naming max_json_depth`, async () => {
    // The body's object is one level; metadata holds the rest.
    const metadata = (d) => (d === 0 ? 1 : { d: metadata(d - 1) });
    const body = (d) => ({ name: 'deep', kind: 'categorization', params: { labels: ['a'] }, metadata: metadata(d - 1) });
    const made = expectStatus(await srv.api('POST', '/v1/projects', body(DEPTH)), 201);
    assert.deepEqual(made.metadata, body(DEPTH).metadata);
    expectLimit(await srv.api('POST', '/v1/projects', body(DEPTH + 1)), 'body', 'max_json_depth', DEPTH + 1, DEPTH);
  });

  it(`string length: ${STRING} bytes are taken, ${STRING + 1} are 422 naming the field and max_string_bytes`, async () => {
    const project = (n) => ({ name: 'long', kind: 'categorization', params: { labels: ['a'], instructions: 'é'.repeat(n / 2) + 'x'.repeat(n % 2) } });
    const made = expectStatus(await srv.api('POST', '/v1/projects', project(STRING)), 201);
    assert.equal(Buffer.byteLength(made.params.instructions), STRING);
    expectLimit(await srv.api('POST', '/v1/projects', project(STRING + 1)), 'params.instructions', 'max_string_bytes', STRING + 1, STRING);
    // A key counts as a string too.
    const key = `{"name":"k","kind":"categorization","params":{"labels":["a"]},"${'k'.repeat(STRING + 1)}":1}`;
    expectLimit(await srv.api('POST', '/v1/projects', key, { headers: { 'content-type': 'application/json' } }), '(a key)', 'max_string_bytes', STRING + 1, STRING);
  });

  it(`objects per annotation: ${ITEMS} spans of a NER response are taken, ${ITEMS + 1} are 422`, async () => {
    const a = await assignment('namedentityrecognition', { labels: ['X'] }, { text: 'ab'.repeat(ITEMS + 1) });
    await atAndPast(a, 'spans', (i) => ({ start: 2 * i, end: 2 * i + 1, label: 'X' }));
  });

  it(`objects per annotation: ${ITEMS} shapes of an image annotation are taken, ${ITEMS + 1} are 422`, async () => {
    const a = await assignment('imageannotation', { labels: ['car'] }, { width: 640, height: 480 }, 'image');
    await atAndPast(a, 'annotations', (i) => ({ type: 'box', label: 'car', x: i % 600, y: 1, width: 2, height: 2 }));
  });

  it(`objects per annotation: ${ITEMS} segments of a transcription are taken, ${ITEMS + 1} are 422`, async () => {
    const a = await assignment('transcription', { segments: true }, { duration: 20000 }, 'audio');
    await atAndPast(a, 'segments', (i) => ({ start: i, end: i + 1, text: 'w' }));
  });

  it(`objects per annotation: ${ITEMS} vertices of one polygon are taken, ${ITEMS + 1} are 422`, async () => {
    const a = await assignment('imageannotation', { labels: ['car'] }, { width: 100000, height: 480 }, 'image');
    const polygon = (n) => ({ annotations: [{ type: 'polygon', label: 'car', vertices: Array.from({ length: n }, (_, i) => ({ x: i, y: i % 2 ? 0 : 10 })) }] });
    const past = await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: 'v-past', response: polygon(ITEMS + 1) });
    const e = expectError(past, 422, 'response.annotations[0].vertices');
    assert.match(e.message, new RegExp(`at most ${ITEMS} items \\(has ${ITEMS + 1}\\)`), e.message);
    expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: 'v-at', response: polygon(ITEMS) }), 201);
  });

  it(`tasks per request (--max-tasks, here ${TASKS}): ${TASKS} are imported, ${TASKS + 1} are 422 and none is`, async () => {
    const p = await makeProject(srv);
    const tasks = (n, tag) => Array.from({ length: n }, (_, i) => ({ data: { text: `${tag}-${i}` } }));
    for (const [ctype, encode] of [
      ['application/json', (t) => JSON.stringify(t)],
      ['application/x-ndjson', (t) => t.map((x) => JSON.stringify(x)).join('\n') + '\n'],
    ]) {
      const past = await srv.api('POST', `/v1/projects/${p.id}/tasks`, encode(tasks(TASKS + 1, `past-${ctype}`)), { headers: { 'content-type': ctype } });
      expectLimit(past, 'body', 'max_tasks', TASKS + 1, TASKS);
    }
    const csv = 'text\n' + Array.from({ length: TASKS + 1 }, (_, i) => `csv-${i}`).join('\n') + '\n';
    expectLimit(await srv.api('POST', `/v1/projects/${p.id}/tasks`, csv, { headers: { 'content-type': 'text/csv' } }), 'body', 'max_tasks', TASKS + 1, TASKS);
    const none = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/tasks`), 200);
    assert.equal(none.items.length, 0, 'a refused import created tasks');
    const r = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, tasks(TASKS, 'at')), 200);
    assert.equal(r.created, TASKS, JSON.stringify(r));
  });

  it('in an import, a row over the depth or string limit is an invalid row; the others go in', async () => {
    const p = await makeProject(srv);
    const rows = [{ data: { text: 'ok' } }, { data: { text: 'x'.repeat(STRING + 1) } }, { data: { text: 'ok2', deep: JSON.parse('['.repeat(DEPTH) + ']'.repeat(DEPTH)) } }];
    const body = rows.map((x) => JSON.stringify(x)).join('\n') + '\n';
    const r = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, body, { headers: { 'content-type': 'application/x-ndjson' } }), 200);
    assert.equal(r.created, 1, JSON.stringify(r).slice(0, 2000));
    const bad = r.rows.filter((x) => x.status !== 'created');
    assert.deepEqual(bad.map((x) => [x.index, x.status, x.error?.field]), [
      [1, 'invalid', 'data.text'],
      [2, 'invalid', 'body'],
    ]);
    assert.match(bad[0].error.message, /max_string_bytes/);
    assert.match(bad[1].error.message, /max_json_depth/);
  });
});
