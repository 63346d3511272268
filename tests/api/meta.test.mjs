// meta.test.mjs -- /healthz, /metrics (Prometheus text) and /v1/kinds.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, it, expectError, expectStatus, makeProject, runCli, cliKey, ADMIN_EMAIL } from './harness.mjs';

let srv;
const KINDS = ['categorization', 'imageannotation', 'namedentityrecognition', 'transcription', 'comparison', 'ranking', 'rating', 'textcollection', 'redteam', 'lidarannotation', 'segmentation', 'videoannotation'];

/* Parses Prometheus text into [{name, labels, value}], checking each line. */
function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/);
    assert.ok(m, `not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels = {};
    if (m[3]) {
      for (const kv of m[3].match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? []) {
        const i = kv.indexOf('=');
        labels[kv.slice(0, i)] = kv.slice(i + 2, -1);
      }
    }
    const value = Number(m[4] === '+Inf' ? Infinity : m[4]);
    assert.ok(!Number.isNaN(value), `bad value in ${line}`);
    out.push({ name: m[1], labels, value });
  }
  return out;
}

async function metrics() {
  const r = await srv.api('GET', '/metrics');
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
  return { text: r.text, samples: parseMetrics(r.text) };
}

function value(samples, name, labels) {
  const s = samples.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  return s.length ? s.reduce((a, x) => a + x.value, 0) : undefined;
}

describe('meta', () => {
  before(async () => {
    srv = await startServer();
  });
  after(async () => {
    await srv?.stop();
  });

  it('GET /healthz answers 200 without authentication', async () => {
    const r = await srv.api('GET', '/healthz', undefined, { key: null });
    const b = expectStatus(r, 200);
    assert.equal(b.status, 'ok');
  });

  it('/metrics needs an admin\'s key (a read-only one will do) unless the server runs --public-metrics', async () => {
    expectError(await srv.api('GET', '/metrics', undefined, { key: null }), 401);
    const m = expectStatus(await srv.api('POST', '/v1/users', { email: 'm@meta.io', role: 'member' }), 201);
    expectError(await srv.api('GET', '/metrics', undefined, { key: cliKey(srv.dir, 'm@meta.io') }), 403);
    const ro = runCli(['key', 'create', ADMIN_EMAIL, '--read-only', '--data-dir', srv.dir], { env: { LOUPE_DATA_DIR: srv.dir } });
    assert.equal(ro.status, 0, ro.stderr);
    const roKey = ro.stdout.trim();
    expectStatus(await srv.api('GET', '/metrics', undefined, { key: roKey }), 200);
    assert.ok(m.id);
    const pub = await startServer({ args: ['--public-metrics'] });
    try {
      expectStatus(await pub.api('GET', '/metrics', undefined, { key: null }), 200);
      expectError(await pub.api('GET', '/v1/users', undefined, { key: null }), 401);
    } finally {
      await pub.stop();
    }
  });

  it('/metrics is Prometheus text with request counts by route and status', async () => {
    const before = value((await metrics()).samples, 'loupe_http_requests_total', { route: '/healthz', status: '200' }) ?? 0;
    for (let i = 0; i < 3; i++) await srv.api('GET', '/healthz', undefined, { key: null });
    expectError(await srv.api('GET', '/v1/projects/987654'), 404);
    const { text, samples } = await metrics();
    assert.match(text, /# TYPE loupe_http_requests_total counter/);
    const after = value(samples, 'loupe_http_requests_total', { route: '/healthz', status: '200' });
    assert.equal(after, before + 3, 'three GET /healthz were not counted');
    const withMethod = samples.find((s) => s.name === 'loupe_http_requests_total' && s.labels.route === '/healthz');
    assert.equal(withMethod.labels.method, 'GET');
    assert.ok(value(samples, 'loupe_http_requests_total', { route: '/v1/projects/{}', status: '404' }) >= 1,
      'the 404 on /v1/projects/{id} is not counted under its route pattern');
    assert.ok(!text.includes('987654'), 'a raw id leaked into a metric label');
  });

  it('/metrics has a request-duration histogram', async () => {
    const { text, samples } = await metrics();
    assert.match(text, /# TYPE loupe_http_request_duration_seconds histogram/);
    const buckets = samples.filter((s) => s.name === 'loupe_http_request_duration_seconds_bucket' && s.labels.route === '/healthz');
    assert.ok(buckets.length >= 2, 'no buckets for /healthz');
    assert.ok(buckets.every((b) => 'le' in b.labels));
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i].value >= buckets[i - 1].value, 'buckets are not cumulative');
    const inf = buckets.find((b) => b.labels.le === '+Inf');
    assert.ok(inf, 'no +Inf bucket');
    const count = value(samples, 'loupe_http_request_duration_seconds_count', { route: '/healthz' });
    assert.equal(inf.value, count, '+Inf bucket differs from _count');
  });

  it('loupe_tasks{status} follows created and canceled tasks', async () => {
    const p = await makeProject(srv);
    const res = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, Array.from({ length: 7 }, () => ({}))), 200);
    assert.equal(res.created, 7);
    let s = (await metrics()).samples;
    assert.equal(value(s, 'loupe_tasks', { status: 'pending' }), 7);
    for (const row of res.rows.slice(0, 2)) expectStatus(await srv.api('POST', `/v1/tasks/${row.id}/cancel`), 200);
    s = (await metrics()).samples;
    assert.equal(value(s, 'loupe_tasks', { status: 'pending' }), 5);
    assert.equal(value(s, 'loupe_tasks', { status: 'canceled' }), 2);
  });

  it('group commit figures: every lease and submit is committed, flushed, and batched', async () => {
    const onPg = Boolean(process.env.LOUPE_TEST_DB_URL);
    let s = (await metrics()).samples;
    if (onPg) { // PostgreSQL makes each commit durable itself: no figures
      assert.equal(value(s, 'loupe_db_syncs_total', {}), undefined);
      return;
    }
    const c0 = value(s, 'loupe_db_commits_total', {}), y0 = value(s, 'loupe_db_syncs_total', {});
    const b0 = value(s, 'loupe_db_batched_writes_total', {});
    const p = await makeProject(srv, { overlap: 1 });
    expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, [{}, {}]), 200);
    for (let i = 0; i < 2; i++) {
      const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`), 200).assignment;
      expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `m${i}`, response: { labels: ['cat'] } }), 201);
    }
    s = (await metrics()).samples;
    assert.ok(value(s, 'loupe_db_commits_total', {}) > c0, 'no commit counted');
    assert.ok(value(s, 'loupe_db_syncs_total', {}) > y0, 'no flush counted');
    assert.ok(value(s, 'loupe_db_batched_writes_total', {}) >= b0 + 4, 'two leases and two submits were not batched writes');
    assert.ok(value(s, 'loupe_db_syncs_total', {}) <= value(s, 'loupe_db_commits_total', {}), 'more flushes than commits');
  });

  it('GET /v1/kinds needs a key and lists every kind with summaries', async () => {
    expectError(await srv.api('GET', '/v1/kinds', undefined, { key: null }), 401);
    const b = expectStatus(await srv.api('GET', '/v1/kinds'), 200);
    const names = b.items.map((k) => k.name);
    assert.deepEqual([...names].sort(), [...KINDS].sort());
    for (const k of b.items) assert.ok(typeof k.summary === 'string' && k.summary.length > 10, `${k.name} has no summary`);
  });

  it('each kind lists the export formats that fit it, each with a summary', async () => {
    const b = expectStatus(await srv.api('GET', '/v1/kinds'), 200);
    const exports = Object.fromEntries(b.items.map((k) => [k.name, k.exports.map((f) => f.name)]));
    for (const k of b.items) {
      assert.deepEqual(exports[k.name].slice(0, 2), ['ndjson', 'json'], `${k.name}: Loupe's own formats first`);
      for (const f of k.exports) assert.ok(f.summary.length > 10, `${k.name}: ${f.name} has no summary`);
    }
    assert.deepEqual(exports.imageannotation, ['ndjson', 'json', 'coco', 'yolo', 'voc']);
    assert.deepEqual(exports.namedentityrecognition, ['ndjson', 'json', 'conll']);
    assert.deepEqual(exports.comparison, ['ndjson', 'json', 'trl', 'trl_conversational', 'openai_preference', 'ratings']);
    assert.deepEqual(exports.textcollection, ['ndjson', 'json', 'csv', 'openai_chat', 'texts']);
    assert.deepEqual(exports.redteam, ['ndjson', 'json', 'redteam']);
    assert.deepEqual(exports.lidarannotation, ['ndjson', 'json', 'kitti', 'lidar']);
    assert.deepEqual(exports.segmentation, ['ndjson', 'json', 'coco', 'masks']);
    assert.deepEqual(exports.videoannotation, ['ndjson', 'json', 'video', 'mot', 'coco_video']);
    // What a kind lists, the export of a project of that kind accepts.
    const p = expectStatus(await srv.api('POST', '/v1/projects', { name: 'exports of a kind', kind: 'rating', params: { criteria: ['clarity'] } }), 201);
    for (const f of exports.rating) assert.equal((await srv.api('GET', `/v1/projects/${p.id}/export?format=${f}`, undefined, { raw: true })).status, 200, f);
    expectError(await srv.api('GET', `/v1/projects/${p.id}/export?format=coco`), 400, 'format');
  });

  it('each kind lists the label formats it imports, and a project of another kind refuses them', async () => {
    const b = expectStatus(await srv.api('GET', '/v1/kinds'), 200);
    const imports = Object.fromEntries(b.items.map((k) => [k.name, k.imports.map((f) => f.name)]));
    for (const k of b.items) for (const f of k.imports) assert.ok(f.summary.length > 10, `${k.name}: ${f.name} has no summary`);
    assert.ok(imports.imageannotation.includes('coco'));
    assert.deepEqual(imports.segmentation, ['coco', 'masks']);
    const p = expectStatus(await srv.api('POST', '/v1/projects', { name: 'imports of a kind', kind: 'rating', params: { criteria: ['clarity'] } }), 201);
    const all = new Set(Object.values(imports).flat());
    for (const f of all)
      if (!imports.rating.includes(f)) expectError(await srv.api('POST', `/v1/projects/${p.id}/tasks?format=${f}`, '{}', { headers: { 'content-type': 'application/json' } }), 422, 'format');
  });

  it('every listed kind is accepted as a project kind', async () => {
    const b = expectStatus(await srv.api('GET', '/v1/kinds'), 200);
    for (const { name } of b.items) {
      const r = await srv.api('POST', '/v1/projects', { name: `kind ${name}`, kind: name, params: {} });
      if (r.status === 201) {
        assert.equal(r.body.kind, name);
      } else {
        const e = expectError(r, 422);
        assert.notEqual(e.field, 'kind', `kind ${name} is listed but refused: ${r.text}`);
        assert.match(e.field ?? '', /^params/, `kind ${name}: ${r.text}`);
      }
    }
  });
});
