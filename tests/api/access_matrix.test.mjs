// access_matrix.test.mjs -- every route of the route table (src/api.c)
// against every kind of caller, with the status each must get.
//
// The routes are read from the table itself: a route added there without a
// row here fails the first test.  Callers (the columns):
//   anon     no credentials
//   revoked  the admin's key, revoked
//   other    the manager of another project (B)
//   projkey  an admin's key scoped to project B (project A is out of scope)
//   readkey  the manager of A with a read-only key
//   ann, rev, mgr  annotator, reviewer and manager of project A
//   admin    an organisation admin
// Everything is about project A.  Each row says how to make its path and
// body; rows that change or use up what they act on make it afresh for each
// caller.  Whatever an annotator receives is also checked for gold answers
// and for other workers' identities.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, it, expectStatus, expectError, makeProject, makeMember, runCli } from './harness.mjs';

/* The source tree this test belongs to. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const ROLES = ['anon', 'revoked', 'other', 'projkey', 'readkey', 'ann', 'rev', 'mgr', 'admin'];

/* The route table, as "METHOD PATTERN" strings, read from src/api.c. */
function routeTable() {
  const src = fs.readFileSync(path.join(ROOT, 'src/api.c'), 'utf8');
  const table = src.slice(src.indexOf('lp_api_routes[] = {'), src.indexOf('};', src.indexOf('lp_api_routes[] = {')));
  return [...table.matchAll(/\{"([A-Z]+)",\s*"([^"]+)"/g)].map((m) => `${m[1]} ${m[2]}`);
}

let srv;
const f = {}; // fixtures: users, keys, projects, objects
let seq = 0;
const uniq = (p) => `${p}-${++seq}-${Math.random().toString(36).slice(2, 6)}`;

const admin = (method, path, body) => srv.api(method, path, body);
async function adminOk(method, path, body, status) {
  return expectStatus(await admin(method, path, body), status);
}

/* A new task in A; returns its id. */
async function newTask(extra = {}) {
  return (await adminOk('POST', '/v1/tasks', { project_id: f.A.id, unique_id: uniq('t'), ...extra }, 201)).id;
}
/* A new lease of the annotator on a new task of A; returns the assignment. */
async function newLease() {
  await newTask();
  const a = expectStatus(await srv.api('GET', `/v1/projects/${f.A.id}/queue/next`, undefined, { key: f.keys.ann }), 200).assignment;
  assert.ok(a, 'the annotator got no lease');
  return a;
}
/* A task of A completed by the annotator; returns {task, assignment}. */
async function completedTask() {
  const a = await newLease();
  expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: uniq('an'), response: { labels: ['cat'] } }, { key: f.keys.ann }), 201);
  return { task: a.task_id, assignment: a.id };
}

// One row per route: [route, make(role) -> {path, body}, expected statuses in ROLES order].
// make runs before each caller's request (async: it may build what the row needs).
const A = () => f.A.id;
const MATRIX = [
  // route                                       make                                                     anon rvk  oth  pkey rkey ann  rev  mgr  admin
  ['GET /', () => ({ path: '/' }), [200, 200, 200, 200, 200, 200, 200, 200, 200]],
  ['GET /ui/{}', () => ({ path: '/ui/app.js' }), [200, 200, 200, 200, 200, 200, 200, 200, 200]],
  ['GET /healthz', () => ({ path: '/healthz' }), [200, 200, 200, 200, 200, 200, 200, 200, 200]],
  ['GET /metrics', () => ({ path: '/metrics' }), [401, 401, 403, 403, 403, 403, 403, 403, 200]],
  ['GET /v1/kinds', () => ({ path: '/v1/kinds' }), [401, 401, 200, 200, 200, 200, 200, 200, 200]],
  ['POST /v1/sessions', () => ({ path: '/v1/sessions', body: { email: 'nobody@test.io', password: 'wrong-password-1' } }), [401, 401, 401, 401, 401, 401, 401, 401, 401]],
  ['DELETE /v1/sessions', () => ({ path: '/v1/sessions' }), [204, 204, 204, 204, 204, 204, 204, 204, 204]],
  ['GET /v1/me', () => ({ path: '/v1/me' }), [401, 401, 200, 200, 200, 200, 200, 200, 200]],
  ['GET /v1/users', () => ({ path: '/v1/users' }), [401, 401, 403, 403, 403, 403, 403, 403, 200]],
  ['POST /v1/users', () => ({ path: '/v1/users', body: { email: `${uniq('u')}@test.io`, role: 'member' } }), [401, 401, 403, 403, 403, 403, 403, 403, 201]],
  ['GET /v1/users/{}', () => ({ path: `/v1/users/${f.users.rev.id}` }), [401, 401, 403, 403, 403, 403, 200, 403, 200]],
  ['PATCH /v1/users/{}', () => ({ path: `/v1/users/${f.users.rev.id}`, body: { name: 'Rev' } }), [401, 401, 403, 403, 403, 403, 200, 403, 200]],
  ['GET /v1/keys', () => ({ path: '/v1/keys' }), [401, 401, 200, 403, 200, 200, 200, 200, 200]],
  ['POST /v1/keys', () => ({ path: '/v1/keys', body: { name: 'matrix' } }), [401, 401, 201, 403, 403, 201, 201, 201, 201]],
  ['DELETE /v1/keys/{}', async () => ({ path: `/v1/keys/${(await adminOk('POST', '/v1/keys', { name: 'spare' }, 201)).id}` }), [401, 401, 404, 403, 403, 404, 404, 404, 204]],
  ['POST /v1/projects', () => ({ path: '/v1/projects', body: { name: uniq('p'), kind: 'categorization', params: { labels: ['cat', 'dog'] } } }), [401, 401, 201, 403, 403, 201, 201, 201, 201]],
  ['GET /v1/projects', () => ({ path: '/v1/projects' }), [401, 401, 200, 200, 200, 200, 200, 200, 200]],
  ['GET /v1/projects/{}', () => ({ path: `/v1/projects/${A()}` }), [401, 401, 404, 404, 200, 200, 200, 200, 200]],
  ['PATCH /v1/projects/{}', () => ({ path: `/v1/projects/${A()}`, body: { gold_rate: 0 } }), [401, 401, 404, 404, 403, 403, 403, 200, 200]],
  ['GET /v1/projects/{}/stats', () => ({ path: `/v1/projects/${A()}/stats` }), [401, 401, 404, 404, 200, 403, 403, 200, 200]],
  ['GET /v1/projects/{}/members', () => ({ path: `/v1/projects/${A()}/members` }), [401, 401, 404, 404, 200, 403, 200, 200, 200]],
  ['PUT /v1/projects/{}/members/{}', () => ({ path: `/v1/projects/${A()}/members/${f.users.spare.id}`, body: { role: 'annotator' } }), [401, 401, 404, 404, 403, 403, 403, 200, 200]],
  ['DELETE /v1/projects/{}/members/{}', async () => {
    await adminOk('PUT', `/v1/projects/${A()}/members/${f.users.spare.id}`, { role: 'annotator' }, 200);
    return { path: `/v1/projects/${A()}/members/${f.users.spare.id}` };
  }, [401, 401, 404, 404, 403, 403, 403, 204, 204]],
  ['POST /v1/projects/{}/batches', () => ({ path: `/v1/projects/${A()}/batches`, body: { name: uniq('b') } }), [401, 401, 404, 404, 403, 403, 403, 201, 201]],
  ['GET /v1/projects/{}/batches', () => ({ path: `/v1/projects/${A()}/batches` }), [401, 401, 404, 404, 200, 403, 200, 200, 200]],
  ['POST /v1/projects/{}/tasks', () => ({ path: `/v1/projects/${A()}/tasks`, body: JSON.stringify({ unique_id: uniq('bulk') }) }), [401, 401, 404, 404, 403, 403, 403, 200, 200]],
  ['GET /v1/projects/{}/tasks', () => ({ path: `/v1/projects/${A()}/tasks` }), [401, 401, 404, 404, 200, 403, 200, 200, 200]],
  ['GET /v1/projects/{}/export', () => ({ path: `/v1/projects/${A()}/export` }), [401, 401, 404, 404, 200, 403, 200, 200, 200]],
  ['GET /v1/batches/{}', () => ({ path: `/v1/batches/${f.batch}` }), [401, 401, 404, 404, 200, 403, 200, 200, 200]],
  ['POST /v1/batches/{}/finalize', async () => ({ path: `/v1/batches/${(await adminOk('POST', `/v1/projects/${A()}/batches`, { name: uniq('fb') }, 201)).id}/finalize` }), [401, 401, 404, 404, 403, 403, 403, 200, 200]],
  ['POST /v1/tasks', () => ({ path: '/v1/tasks', body: { project_id: A(), unique_id: uniq('t') } }), [401, 401, 404, 404, 403, 403, 403, 201, 201]],
  ['GET /v1/tasks', () => ({ path: `/v1/tasks?project_id=${A()}` }), [401, 401, 404, 404, 200, 403, 200, 200, 200]],
  ['GET /v1/tasks/{}', () => ({ path: `/v1/tasks/${f.task}` }), [401, 401, 404, 404, 200, 403, 200, 200, 200]],
  ['POST /v1/tasks/{}/cancel', async () => ({ path: `/v1/tasks/${await newTask()}/cancel` }), [401, 401, 404, 404, 403, 403, 403, 200, 200]],
  ['PUT /v1/tasks/{}/metadata', () => ({ path: `/v1/tasks/${f.task}/metadata`, body: { source: 'matrix' } }), [401, 401, 404, 404, 403, 403, 403, 200, 200]],
  ['POST /v1/tasks/{}/tags', () => ({ path: `/v1/tasks/${f.task}/tags`, body: { tags: ['x'] } }), [401, 401, 404, 404, 403, 403, 403, 200, 200]],
  ['DELETE /v1/tasks/{}/tags/{}', async () => {
    await adminOk('POST', `/v1/tasks/${f.task}/tags`, { tags: ['gone'] }, 200);
    return { path: `/v1/tasks/${f.task}/tags/gone` };
  }, [401, 401, 404, 404, 403, 403, 403, 200, 200]],
  ['GET /v1/projects/{}/queue/next', () => ({ path: `/v1/projects/${A()}/queue/next` }), [401, 401, 404, 404, 403, 200, 200, 200, 200]],
  ['GET /v1/assignments/{}', () => ({ path: `/v1/assignments/${f.lease.id}` }), [401, 401, 404, 404, 200, 200, 404, 200, 200]],
  ['POST /v1/assignments/{}/heartbeat', () => ({ path: `/v1/assignments/${f.lease.id}/heartbeat` }), [401, 401, 404, 404, 403, 200, 404, 404, 404]],
  ['POST /v1/assignments/{}/skip', async () => ({ path: `/v1/assignments/${(await newLease()).id}/skip`, body: { reason: 'matrix' } }), [401, 401, 404, 404, 403, 200, 404, 404, 404]],
  ['POST /v1/assignments/{}/release', async () => ({ path: `/v1/assignments/${(await newLease()).id}/release` }), [401, 401, 404, 404, 403, 200, 404, 404, 404]],
  ['PUT /v1/assignments/{}/draft', () => ({ path: `/v1/assignments/${f.lease.id}/draft`, body: { labels: ['dog'] } }), [401, 401, 404, 404, 403, 200, 404, 404, 404]],
  ['POST /v1/assignments/{}/submit', async () => ({ path: `/v1/assignments/${(await newLease()).id}/submit`, body: { annotation_id: uniq('an'), response: { labels: ['cat'] } } }), [401, 401, 404, 404, 403, 201, 404, 404, 404]],
  ['GET /v1/tasks/{}/annotations', () => ({ path: `/v1/tasks/${f.done.task}/annotations` }), [401, 401, 404, 404, 200, 403, 200, 200, 200]],
  ['GET /v1/projects/{}/reviews/next', () => ({ path: `/v1/projects/${A()}/reviews/next` }), [401, 401, 404, 404, 403, 403, 200, 200, 200]],
  // A review is its reviewer's assignment: the annotator's own is not one (422).
  ['POST /v1/assignments/{}/review', () => ({ path: `/v1/assignments/${f.done.assignment}/review`, body: { action: 'accept' } }), [401, 401, 404, 404, 403, 422, 404, 404, 404]],
  ['POST /v1/tasks/{}/audit', async () => ({ path: `/v1/tasks/${(await completedTask()).task}/audit`, body: { accepted: true } }), [401, 401, 404, 404, 403, 403, 403, 200, 200]],
  ['GET /v1/tasks/{}/versions', () => ({ path: `/v1/tasks/${f.done.task}/versions` }), [401, 401, 404, 404, 200, 403, 200, 200, 200]],
  ['GET /v1/projects/{}/workers', () => ({ path: `/v1/projects/${A()}/workers` }), [401, 401, 404, 404, 200, 403, 403, 200, 200]],
  ['POST /v1/projects/{}/workers/{}/pause', () => ({ path: `/v1/projects/${A()}/workers/${f.users.worker.id}/pause`, body: { reason: 'matrix' } }), [401, 401, 404, 404, 403, 403, 403, 200, 200]],
  ['POST /v1/projects/{}/workers/{}/reinstate', () => ({ path: `/v1/projects/${A()}/workers/${f.users.worker.id}/reinstate` }), [401, 401, 404, 404, 403, 403, 403, 200, 200]],
  ['GET /v1/projects/{}/quality', () => ({ path: `/v1/projects/${A()}/quality` }), [401, 401, 404, 404, 200, 403, 403, 200, 200]],
  ['POST /v1/projects/{}/aggregate', () => ({ path: `/v1/projects/${A()}/aggregate` }), [401, 401, 404, 404, 403, 403, 403, 200, 200]],
  ['POST /v1/webhooks', () => ({ path: '/v1/webhooks', body: { url: 'http://127.0.0.1:9/hook', project_id: A() } }), [401, 401, 404, 404, 403, 403, 403, 201, 201]],
  ['GET /v1/webhooks', () => ({ path: '/v1/webhooks' }), [401, 401, 200, 200, 200, 200, 200, 200, 200]],
  ['DELETE /v1/webhooks/{}', async () => ({ path: `/v1/webhooks/${(await adminOk('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', project_id: A() }, 201)).id}` }), [401, 401, 404, 404, 403, 403, 403, 204, 204]],
  ['GET /v1/projects/{}/callback_secret', () => ({ path: `/v1/projects/${A()}/callback_secret` }), [401, 401, 404, 404, 403, 403, 403, 200, 200]],
  ['GET /v1/projects/{}/deliveries', () => ({ path: `/v1/projects/${A()}/deliveries` }), [401, 401, 404, 404, 200, 403, 403, 200, 200]],
  ['GET /v1/deliveries/{}', () => ({ path: `/v1/deliveries/${f.delivery}` }), [401, 401, 404, 404, 200, 403, 403, 200, 200]],
  ['POST /v1/deliveries/{}/redeliver', () => ({ path: `/v1/deliveries/${f.delivery}/redeliver` }), [401, 401, 404, 404, 403, 403, 403, 202, 202]],
  ['POST /v1/projects/{}/predictions', () => ({ path: `/v1/projects/${A()}/predictions`, body: [{ task_id: f.done.task, model: 'matrix', response: { labels: ['cat'] } }] }), [401, 401, 404, 404, 403, 403, 403, 200, 200]],
  ['GET /v1/projects/{}/predictions/stats', () => ({ path: `/v1/projects/${A()}/predictions/stats` }), [401, 401, 404, 404, 200, 403, 403, 200, 200]],
  ['PUT /v1/projects/{}/ml-backend', () => ({ path: `/v1/projects/${A()}/ml-backend`, body: { url: 'http://ml.invalid:9090', timeout_ms: 500 } }), [401, 401, 404, 404, 403, 403, 403, 200, 200]],
  ['GET /v1/projects/{}/ml-backend', async () => {
    await adminOk('PUT', `/v1/projects/${A()}/ml-backend`, { url: 'http://ml.invalid:9090', timeout_ms: 500 }, 200);
    return { path: `/v1/projects/${A()}/ml-backend` };
  }, [401, 401, 404, 404, 200, 403, 403, 200, 200]],
  ['POST /v1/projects/{}/ml-backend/predict', async () => {
    await adminOk('PUT', `/v1/projects/${A()}/ml-backend`, { url: 'http://ml.invalid:9090', timeout_ms: 500 }, 200);
    return { path: `/v1/projects/${A()}/ml-backend/predict`, body: { tasks: 'failed' } };
  }, [401, 401, 404, 404, 403, 403, 403, 200, 200]],
  ['DELETE /v1/projects/{}/ml-backend', async () => {
    await adminOk('PUT', `/v1/projects/${A()}/ml-backend`, { url: 'http://ml.invalid:9090', timeout_ms: 500 }, 200);
    return { path: `/v1/projects/${A()}/ml-backend` };
  }, [401, 401, 404, 404, 403, 403, 403, 200, 200]],
  // (A is a categorization project: the holder's chat and the report say so with 422;
  // redteam.test.mjs covers a redteam project's)
  ['POST /v1/assignments/{}/chat', async () => ({ path: `/v1/assignments/${(await newLease()).id}/chat`, body: { messages: [{ role: 'user', content: 'hi' }] } }), [401, 401, 404, 404, 403, 422, 404, 404, 404]],
  ['GET /v1/projects/{}/redteam-report', () => ({ path: `/v1/projects/${A()}/redteam-report` }), [401, 401, 404, 404, 422, 403, 422, 422, 422]],
  ['GET /v1/projects/{}/autolabel', () => ({ path: `/v1/projects/${A()}/autolabel` }), [401, 401, 404, 404, 200, 403, 403, 200, 200]],
  ['GET /v1/audit', () => ({ path: '/v1/audit' }), [401, 401, 403, 403, 403, 403, 403, 403, 200]],
  ['GET /v1/projects/{}/audit', () => ({ path: `/v1/projects/${A()}/audit` }), [401, 401, 404, 404, 200, 403, 403, 200, 200]],
  ['POST /v1/files', () => ({ path: '/v1/files', body: Buffer.from(`matrix ${uniq('f')}`), headers: { 'Content-Type': 'text/plain' } }), [401, 401, 201, 201, 403, 201, 201, 201, 201]],
  ['GET /v1/files/{}', () => ({ path: `/v1/files/${f.file}` }), [401, 401, 404, 404, 200, 200, 200, 200, 200]],
  // (the fixture is text, not a point cloud: a reader is told so with 422; lidarannotation.test.mjs reads real clouds)
  ['GET /v1/files/{}/points', () => ({ path: `/v1/files/${f.file}/points` }), [401, 401, 404, 404, 422, 422, 422, 422, 422]],
  // model endpoints: admins register them, every account may list them (never their keys)
  ['POST /v1/model-endpoints', () => ({ path: '/v1/model-endpoints', body: { name: uniq('ep'), base_url: 'http://llm.invalid:9090/v1', model: 'm' } }), [401, 401, 403, 403, 403, 403, 403, 403, 201]],
  ['GET /v1/model-endpoints', () => ({ path: '/v1/model-endpoints' }), [401, 401, 200, 403, 200, 200, 200, 200, 200]],
  ['GET /v1/model-endpoints/{}', () => ({ path: `/v1/model-endpoints/${f.endpoint}` }), [401, 401, 200, 403, 200, 200, 200, 200, 200]],
  ['PATCH /v1/model-endpoints/{}', () => ({ path: `/v1/model-endpoints/${f.endpoint}`, body: { timeout_ms: 500 } }), [401, 401, 403, 403, 403, 403, 403, 403, 200]],
  ['DELETE /v1/model-endpoints/{}', async () => ({ path: `/v1/model-endpoints/${(await adminOk('POST', '/v1/model-endpoints', { name: uniq('ep'), base_url: 'http://llm.invalid:9090/v1', model: 'm' }, 201)).id}` }), [401, 401, 403, 403, 403, 403, 403, 403, 200]],
  // prompt sets and generations: any account's, each its maker's (here A's manager's)
  ['POST /v1/prompt-sets', () => ({ path: '/v1/prompt-sets', body: { name: uniq('ps'), prompts: [{ prompt: 'hi' }] } }), [401, 401, 201, 403, 403, 201, 201, 201, 201]],
  ['GET /v1/prompt-sets', () => ({ path: '/v1/prompt-sets' }), [401, 401, 200, 403, 200, 200, 200, 200, 200]],
  ['GET /v1/prompt-sets/{}', () => ({ path: `/v1/prompt-sets/${f.pset}` }), [401, 401, 404, 403, 200, 404, 404, 200, 200]],
  ['POST /v1/prompt-sets/{}/prompts', () => ({ path: `/v1/prompt-sets/${f.pset}/prompts`, body: [{ prompt: uniq('q') }] }), [401, 401, 404, 403, 403, 404, 404, 200, 200]],
  ['GET /v1/prompt-sets/{}/prompts', () => ({ path: `/v1/prompt-sets/${f.pset}/prompts` }), [401, 401, 404, 403, 200, 404, 404, 200, 200]],
  ['POST /v1/generations', () => ({ path: '/v1/generations', body: { prompt_set_id: f.pset, endpoints: [f.endpoint] } }), [401, 401, 422, 403, 403, 422, 422, 201, 201]],
  ['GET /v1/generations', () => ({ path: '/v1/generations' }), [401, 401, 200, 403, 200, 200, 200, 200, 200]],
  ['GET /v1/generations/{}', () => ({ path: `/v1/generations/${f.gen}` }), [401, 401, 404, 403, 200, 404, 404, 200, 200]],
  ['GET /v1/generations/{}/outputs', () => ({ path: `/v1/generations/${f.gen}/outputs` }), [401, 401, 404, 403, 200, 404, 404, 200, 200]],
  ['POST /v1/generations/{}/cancel', () => ({ path: `/v1/generations/${f.gen}/cancel` }), [401, 401, 404, 403, 403, 404, 404, 200, 200]],
  ['POST /v1/generations/{}/retry', () => ({ path: `/v1/generations/${f.gen}/retry` }), [401, 401, 404, 403, 403, 404, 404, 200, 200]],
  // (A is a categorization project: a 422 naming "project" means the caller got through)
  ['GET /v1/projects/{}/draft-report', () => ({ path: `/v1/projects/${A()}/draft-report` }), [401, 401, 404, 404, 422, 403, 403, 422, 422]],
  ['GET /v1/tasks/{}/chat-turns', async () => ({ path: `/v1/tasks/${await newTask()}/chat-turns` }), [401, 401, 404, 404, 200, 403, 200, 200, 200]],
  ['GET /v1/projects/{}/leaderboard', () => ({ path: `/v1/projects/${A()}/leaderboard` }), [401, 401, 404, 404, 422, 403, 422, 422, 422]],
  ['POST /v1/projects/{}/generation-tasks', () => ({ path: `/v1/projects/${A()}/generation-tasks`, body: { generation_id: f.gen } }), [401, 401, 404, 404, 403, 403, 403, 422, 422]],
];

/* The credentials of a caller: {key} or {noAuth}. */
function credsOf(role) {
  return { key: role === 'anon' ? null : f.keys[role] };
}

before(async () => {
  // The UI from this tree, wherever the binary is (a sanitizer build's has none beside it).
  srv = await startServer({ args: ['--web-dir', path.join(ROOT, 'web')] });
  // A gold task comes first to a new annotator (calibration_count 1).
  f.A = await makeProject(srv, { overlap: 1, calibration_count: 1 });
  f.B = await makeProject(srv);
  f.users = {};
  for (const r of ['ann', 'rev', 'mgr', 'other', 'spare', 'worker']) f.users[r] = await makeMember(srv, `${r}@matrix.io`);
  const role = { ann: 'annotator', rev: 'reviewer', mgr: 'manager', worker: 'annotator' };
  for (const [r, name] of Object.entries(role)) await adminOk('PUT', `/v1/projects/${f.A.id}/members/${f.users[r].id}`, { role: name }, 200);
  await adminOk('PUT', `/v1/projects/${f.B.id}/members/${f.users.other.id}`, { role: 'manager' }, 200);
  f.keys = { admin: srv.key, ann: f.users.ann.key, rev: f.users.rev.key, mgr: f.users.mgr.key, other: f.users.other.key };
  f.keys.readkey = expectStatus(await srv.api('POST', '/v1/keys', { name: 'ro', scope: 'read' }, { key: f.keys.mgr }), 201).key;
  f.endpoint = (await adminOk('POST', '/v1/model-endpoints', { name: 'matrix', base_url: 'http://llm.invalid:9090/v1', model: 'm', timeout_ms: 500 }, 201)).id;
  f.pset = expectStatus(await srv.api('POST', '/v1/prompt-sets', { name: 'matrix', prompts: [{ prompt: 'hello' }] }, { key: f.keys.mgr }), 201).id;
  f.gen = expectStatus(await srv.api('POST', '/v1/generations', { prompt_set_id: f.pset, endpoints: [f.endpoint] }, { key: f.keys.mgr }), 201).id;
  f.keys.projkey = (await adminOk('POST', '/v1/keys', { name: 'pk', project_id: f.B.id }, 201)).key;
  const dead = await adminOk('POST', '/v1/keys', { name: 'dead' }, 201);
  await adminOk('DELETE', `/v1/keys/${dead.id}`, undefined, 204);
  f.keys.revoked = dead.key;
  f.batch = (await adminOk('POST', `/v1/projects/${f.A.id}/batches`, { name: 'b0' }, 201)).id;
  // A webhook that fails, so that a completed task leaves a delivery.
  await adminOk('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/hook', project_id: f.A.id }, 201);
  f.task = await newTask({ data: { text: 'x' } });
  await newTask({ expected_response: { labels: ['dog'] } });
  f.gold = await completedTask();
  f.done = await completedTask();
  f.lease = await newLease();
  const dl = await adminOk('GET', `/v1/projects/${f.A.id}/deliveries`, undefined, 200);
  assert.ok(dl.items.length > 0, 'no delivery to test with');
  f.delivery = dl.items[0].id;
  f.file = (await srv.api('POST', `/v1/files?project_id=${f.A.id}`, Buffer.from('matrix file'), { headers: { 'Content-Type': 'text/plain' } })).body.sha256;
  assert.ok(f.file, 'no file to test with');
});
after(async () => {
  await srv?.stop();
});

describe('access matrix', () => {
  it('has one row per route of the route table, and none for a route it lacks', () => {
    const table = routeTable();
    assert.ok(table.length > 50, `read only ${table.length} routes from src/api.c`);
    const rows = MATRIX.map((r) => r[0]);
    assert.deepEqual(rows.filter((r) => !table.includes(r)), [], 'matrix rows for routes that do not exist');
    assert.deepEqual(table.filter((r) => !rows.includes(r)), [], 'routes without a matrix row: add one');
    assert.equal(new Set(rows).size, rows.length, 'a route has two rows');
  });

  it('every caller gets the expected status on every route; annotators never see gold answers or other workers', async () => {
    const wrong = [];
    const annSeen = [];
    for (const [route, make, expected] of MATRIX) {
      assert.equal(expected.length, ROLES.length, `${route}: one status per caller`);
      const method = route.split(' ')[0];
      for (let i = 0; i < ROLES.length; i++) {
        const { path, body, headers } = await make(ROLES[i]);
        const r = await srv.api(method, path, body, { ...credsOf(ROLES[i]), headers });
        if (r.status !== expected[i]) wrong.push(`${route} as ${ROLES[i]} (${path}): ${r.status}, expected ${expected[i]}: ${r.text.slice(0, 160)}`);
        if (ROLES[i] === 'ann' && r.status < 300) annSeen.push({ route, text: r.text });
      }
    }
    assert.deepEqual(wrong, [], `${wrong.length} statuses differ`);
    checkAnnotatorViews(annSeen);
  });
});

describe('what an annotator sees', () => {
  it('a gold task leased to an annotator shows no answer in queue/next or the assignment; the task itself is refused', async () => {
    const u = await makeMember(srv, 'gold-view@matrix.io');
    await adminOk('PUT', `/v1/projects/${f.A.id}/members/${u.id}`, { role: 'annotator' }, 200);
    const next = await srv.api('GET', `/v1/projects/${f.A.id}/queue/next`, undefined, { key: u.key });
    const a = expectStatus(next, 200).assignment;
    const full = await adminOk('GET', `/v1/tasks/${a.task_id}`, undefined, 200);
    assert.ok(full.expected_response, 'the first lease of a new annotator is the gold task (calibration_count 1)');
    const got = await srv.api('GET', `/v1/assignments/${a.id}`, undefined, { key: u.key });
    expectStatus(got, 200);
    for (const [what, r] of [['queue/next', next], ['the assignment', got]]) {
      assert.ok(!r.text.includes('expected_response'), `${what} shows the gold answer: ${r.text}`);
      assert.ok(!r.text.includes('"is_gold"'), `${what} tells the annotator it is gold`);
    }
    // Even the task they hold a lease on: annotators see tasks through their assignments only.
    assert.equal((await srv.api('GET', `/v1/tasks/${a.task_id}`, undefined, { key: u.key })).status, 403);
    assert.equal((await srv.api('GET', '/v1/tasks/999999', undefined, { key: u.key })).status, 404);
  });

  it('a task sent back by a reviewer shows the annotator the decision, not who made it', async () => {
    const p = await makeProject(srv, { overlap: 1, review_levels: 1 });
    const ann = await makeMember(srv, 'sent-back@matrix.io');
    const rev = await makeMember(srv, 'sender@matrix.io');
    await adminOk('PUT', `/v1/projects/${p.id}/members/${ann.id}`, { role: 'annotator' }, 200);
    await adminOk('PUT', `/v1/projects/${p.id}/members/${rev.id}`, { role: 'reviewer' }, 200);
    await adminOk('POST', '/v1/tasks', { project_id: p.id, unique_id: 'back' }, 201);
    const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ann.key }), 200).assignment;
    expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: 'b1', response: { labels: ['cat'] } }, { key: ann.key }), 201);
    const r = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/reviews/next`, undefined, { key: rev.key }), 200).assignment;
    assert.ok(r, 'the reviewer got nothing to review');
    expectStatus(await srv.api('POST', `/v1/assignments/${r.id}/review`, { action: 'reject', comment: 'it is a dog' }, { key: rev.key }), 200);
    const full = await adminOk('GET', `/v1/tasks/${a.task_id}`, undefined, 200);
    assert.equal(full.review.by, rev.id, 'the full view says who decided (the test needs it there)');
    const next = await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ann.key });
    const again = expectStatus(next, 200).assignment;
    assert.equal(again?.task_id, a.task_id, 'the rejected task comes back to its annotator');
    assert.equal(again.task.review.comment, 'it is a dog');
    const got = await srv.api('GET', `/v1/assignments/${again.id}`, undefined, { key: ann.key });
    checkAnnotatorViews([{ route: 'queue/next', text: next.text }, { route: 'GET /v1/assignments/{}', text: expectStatus(got, 200) && got.text }], ann.id, [rev]);
  });
});

/* No gold answer, no other user's id or email in what the annotator got. */
function checkAnnotatorViews(seen, self = f.users.ann.id, others = Object.entries(f.users).filter(([r]) => r !== 'ann').map(([, u]) => u)) {
  for (const { route, text } of seen) {
    if (!text.startsWith('{')) continue;
    assert.ok(!text.includes('expected_response'), `${route} showed the annotator a gold answer: ${text.slice(0, 300)}`);
    for (const u of [...others, { email: 'admin@test.io', id: 1 }])
      assert.ok(!text.includes(u.email), `${route} showed the annotator ${u.email}`);
    for (const m of text.matchAll(/"(\w*user\w*|\w*by|\w*worker\w*|\w*annotator\w*|\w*reviewer\w*)"\s*:\s*(\d+)/g))
      assert.equal(Number(m[2]), self, `${route} showed the annotator ${m[1]}=${m[2]}, not their own id`);
  }
}

describe('scoped API keys', () => {
  it('a read-only key reads, and is refused every change with a 403 naming its scope', async () => {
    const ro = f.keys.readkey;
    expectStatus(await srv.api('GET', `/v1/projects/${f.A.id}/tasks`, undefined, { key: ro }), 200);
    const r = await srv.api('POST', '/v1/tasks', { project_id: f.A.id, unique_id: uniq('ro') }, { key: ro });
    expectError(r, 403, 'scope');
    assert.match(r.body.error.message, /read scope/);
    // queue/next is a GET but takes a lease: a change.
    expectError(await srv.api('GET', `/v1/projects/${f.A.id}/queue/next`, undefined, { key: ro }), 403, 'scope');
    // The same user's full key still may.
    expectStatus(await srv.api('POST', '/v1/tasks', { project_id: f.A.id, unique_id: uniq('rw') }, { key: f.keys.mgr }), 201);
  });

  it('a project-scoped key acts in its project only: other projects are not found, account routes refused', async () => {
    const pk = f.keys.projkey; // an admin's key, scoped to B
    expectStatus(await srv.api('GET', `/v1/projects/${f.B.id}`, undefined, { key: pk }), 200);
    expectStatus(await srv.api('POST', '/v1/tasks', { project_id: f.B.id, unique_id: uniq('pk') }, { key: pk }), 201);
    expectError(await srv.api('POST', '/v1/tasks', { project_id: f.A.id, unique_id: uniq('pk') }, { key: pk }), 404);
    expectError(await srv.api('GET', `/v1/tasks/${f.task}`, undefined, { key: pk }), 404);
    const listed = expectStatus(await srv.api('GET', '/v1/projects', undefined, { key: pk }), 200);
    assert.deepEqual(listed.items.map((p) => p.id), [f.B.id], 'the key lists its project only');
    const r = await srv.api('POST', '/v1/keys', { name: 'escape' }, { key: pk });
    expectError(r, 403, 'project_id');
    assert.match(r.body.error.message, new RegExp(`scoped to project ${f.B.id}`));
    expectError(await srv.api('GET', '/v1/users', undefined, { key: pk }), 403, 'project_id');
  });

  it('POST /v1/keys checks scope and project_id; GET /v1/keys shows each key\'s scope', async () => {
    expectError(await srv.api('POST', '/v1/keys', { scope: 'write' }, { key: f.keys.ann }), 422, 'scope');
    expectError(await srv.api('POST', '/v1/keys', { project_id: 'one' }, { key: f.keys.ann }), 422, 'project_id');
    // A project the caller has no role in is not found, as everywhere.
    expectError(await srv.api('POST', '/v1/keys', { project_id: f.B.id }, { key: f.keys.ann }), 404);
    const k = expectStatus(await srv.api('POST', '/v1/keys', { name: 'mine', scope: 'read', project_id: f.A.id }, { key: f.keys.ann }), 201);
    assert.equal(k.scope, 'read');
    assert.equal(k.project_id, f.A.id);
    assert.match(k.key, /^lpk_/);
    const keys = expectStatus(await srv.api('GET', '/v1/keys', undefined, { key: f.keys.ann }), 200).items;
    const mine = keys.find((x) => x.id === k.id);
    assert.equal(mine.scope, 'read');
    assert.equal(mine.project_id, f.A.id);
    assert.ok(keys.some((x) => x.scope === 'full' && x.project_id === null), 'the CLI-made key is full and unscoped');
    // The new key works, within its scope.
    expectStatus(await srv.api('GET', `/v1/projects/${f.A.id}`, undefined, { key: k.key }), 200);
    expectError(await srv.api('PUT', `/v1/assignments/${f.lease.id}/draft`, { labels: ['cat'] }, { key: k.key }), 403, 'scope');
  });

  it('a project-scoped key manages its own project\'s webhooks, and no other subscription', async () => {
    const pk = { key: f.keys.projkey }; // an admin's key, scoped to project B
    const mine = expectStatus(await srv.api('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/b', project_id: f.B.id }, pk), 201);
    expectError(await srv.api('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/all' }, pk), 403, 'project_id');
    const global = expectStatus(await srv.api('POST', '/v1/webhooks', { url: 'http://127.0.0.1:9/all' }), 201);
    const listed = expectStatus(await srv.api('GET', '/v1/webhooks', undefined, pk), 200).items;
    assert.ok(listed.length > 0 && listed.every((h) => h.project_id === f.B.id), JSON.stringify(listed));
    assert.ok(listed.some((h) => h.id === mine.id));
    expectError(await srv.api('DELETE', `/v1/webhooks/${global.id}`, undefined, pk), 404);
    expectStatus(await srv.api('DELETE', `/v1/webhooks/${mine.id}`, undefined, pk), 204);
    expectStatus(await srv.api('DELETE', `/v1/webhooks/${global.id}`), 204);
  });

  it('loupe key create --read-only --project ID makes a scoped key', async () => {
    const k = runCli(['key', 'create', 'mgr@matrix.io', '--read-only', '--project', String(f.A.id), '--data-dir', srv.dir], { env: { LOUPE_DATA_DIR: srv.dir } });
    assert.equal(k.status, 0, k.stderr);
    const key = k.stdout.trim();
    expectStatus(await srv.api('GET', `/v1/projects/${f.A.id}/tasks`, undefined, { key }), 200);
    expectError(await srv.api('POST', `/v1/projects/${f.A.id}/batches`, { name: uniq('cli') }, { key }), 403, 'scope');
    const mine = expectStatus(await srv.api('GET', '/v1/keys', undefined, { key: f.keys.mgr }), 200).items;
    assert.ok(mine.some((x) => x.scope === 'read' && x.project_id === f.A.id), 'the CLI key is listed with its scope');
    const bad = runCli(['key', 'create', 'mgr@matrix.io', '--project', '999999', '--data-dir', srv.dir], { env: { LOUPE_DATA_DIR: srv.dir } });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /no project has id 999999/);
    const junk = runCli(['key', 'create', 'mgr@matrix.io', '--project', 'x', '--data-dir', srv.dir], { env: { LOUPE_DATA_DIR: srv.dir } });
    assert.equal(junk.status, 2);
    assert.match(junk.stderr, /--project/);
  });
});
