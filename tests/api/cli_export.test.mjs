// cli_export.test.mjs -- `loupe export`: the same bytes as GET
// /v1/projects/{id}/export for the same options (ndjson and json, with and
// without annotations, filtered), -o written whole or not at all, and bad
// options refused naming the option.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, it, runCli, expectStatus, makeProject, makeMember, assertNoSanitizerReport } from './harness.mjs';

let srv;

before(async () => {
  srv = await startServer();
});
after(async () => {
  await srv?.stop();
});

/* loupe export on the server's database; checks no sanitizer report. */
function cli(args) {
  const r = runCli(['export', ...args, '--data-dir', srv.dir], { cwd: srv.dir });
  assertNoSanitizerReport(r.stderr, 'loupe export');
  return r;
}

/* The HTTP export's body for a query string. */
async function http(pid, query = '') {
  const r = await srv.api('GET', `/v1/projects/${pid}/export${query}`);
  expectStatus(r, 200);
  return r.text;
}

/* Both exports with the same options (CLI args, HTTP query): the same bytes. */
async function same(pid, args, query) {
  const c = cli([String(pid), ...args]);
  assert.equal(c.status, 0, `loupe export ${args.join(' ')} failed: ${c.stderr}`);
  assert.equal(c.stderr, '');
  const h = await http(pid, query);
  assert.equal(c.stdout, h, `loupe export ${args.join(' ')} differs from GET ...export${query}`);
  return c.stdout;
}

describe('loupe export', () => {
  let p, batch, ids, ann;
  before(async () => {
    p = await makeProject(srv, { overlap: 1 });
    batch = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/batches`, { name: 'b1' }), 201);
    const rows = [
      { unique_id: 'a', batch_id: batch.id, data: { text: 'first' } },
      { unique_id: 'b', batch_id: batch.id, data: { text: 'second' }, tags: ['x'] },
      { unique_id: 'c', data: { text: 'third "quoted" ünï\nline' }, metadata: { src: 'cam' } },
    ];
    // more than one page (LP_EXPORT_PAGE = 500) so the page loop is crossed
    for (let i = 0; i < 1200; i++) rows.push({ unique_id: `n${i}`, data: { i } });
    const r = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, rows), 200);
    assert.equal(r.created, rows.length, JSON.stringify(r).slice(0, 300));
    ids = Object.fromEntries(rows.slice(0, 3).map((row, i) => [row.unique_id, r.rows[i].id]));
    expectStatus(await srv.api('POST', `/v1/batches/${batch.id}/finalize`), 200);
    ann = await makeMember(srv, 'cliexp@test.io');
    expectStatus(await srv.api('PUT', `/v1/projects/${p.id}/members/${ann.id}`, { role: 'annotator' }), 200);
    const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`, undefined, { key: ann.key }), 200).assignment;
    const body = { annotation_id: 'k1', response: { labels: ['dog'] } };
    expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, body, { key: ann.key }), 201);
  });

  it('ndjson (the default) is byte for byte the HTTP download, over several pages', async () => {
    const out = await same(p.id, [], '');
    const lines = out.trimEnd().split('\n');
    assert.equal(lines.length, 1203);
    const ts = lines.map((l) => JSON.parse(l));
    assert.deepEqual(ts.slice(0, 3).map((t) => t.id), [ids.a, ids.b, ids.c]);
    assert.equal(ts[2].data.text, 'third "quoted" ünï\nline');
    await same(p.id, ['--format', 'ndjson'], '?format=ndjson');
  });

  it('json and --include annotations match the HTTP export too', async () => {
    const j = await same(p.id, ['--format', 'json'], '?format=json');
    assert.equal(JSON.parse(j).length, 1203);
    const nd = await same(p.id, ['--include', 'annotations'], '?include=annotations');
    const withAnn = nd.trimEnd().split('\n').map((l) => JSON.parse(l)).filter((t) => t.annotations.length);
    assert.equal(withAnn.length, 1);
    assert.equal(withAnn[0].annotations[0].annotation_id, 'k1');
    await same(p.id, ['--format', 'json', '--include', 'annotations'], '?format=json&include=annotations');
    await same(p.id, ['--format', 'csv'], '?format=csv');
  });

  it('--status and --batch filter as status= and batch_id= do', async () => {
    const idsOf = (text) => text.trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l).id);
    assert.deepEqual(idsOf(await same(p.id, ['--batch', String(batch.id)], `?batch_id=${batch.id}`)), [ids.a, ids.b]);
    const done = idsOf(await same(p.id, ['--status', 'completed'], '?status=completed'));
    assert.equal(done.length, 1, 'the annotated task is completed (overlap 1)');
    await same(p.id, ['--status', 'pending', '--batch', String(batch.id), '--include', 'annotations'], `?status=pending&batch_id=${batch.id}&include=annotations`);
    assert.equal(await same(p.id, ['--status', 'canceled'], '?status=canceled'), '');
    assert.equal(await same(p.id, ['--status', 'canceled', '--format', 'json'], '?status=canceled&format=json'), '[]\n');
  });

  it('the task list\'s other filters: --tag, --unique-id, --exclude-gold, --reviewed and the time bounds', async () => {
    const idsOf = (text) => text.trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l).id);
    assert.deepEqual(idsOf(await same(p.id, ['--tag', 'x'], '?tag=x')), [ids.b]);
    assert.deepEqual(idsOf(await same(p.id, ['--unique-id', 'c', '--include', 'annotations'], '?unique_id=c&include=annotations')), [ids.c]);
    const gold = expectStatus(await srv.api('POST', '/v1/tasks', { project_id: p.id, unique_id: 'cli-gold', expected_response: { labels: ['cat'] } }), 201);
    const all = idsOf(await same(p.id, [], ''));
    assert.ok(all.includes(gold.id));
    const noGold = idsOf(await same(p.id, ['--exclude-gold'], '?exclude_gold=true'));
    assert.deepEqual(noGold, all.filter((id) => id !== gold.id));
    assert.equal(await same(p.id, ['--reviewed'], '?reviewed=true'), '', 'nothing here went through a review');
    const t = encodeURIComponent(gold.created_at);
    assert.deepEqual(idsOf(await same(p.id, ['--created-after', gold.created_at], `?created_after=${t}`)), [gold.id]);
    assert.equal(idsOf(await same(p.id, ['--created-before', gold.created_at, '--exclude-gold'], `?created_before=${t}&exclude_gold=true`)).length, 1203);
    await same(p.id, ['--updated-after', gold.created_at, '--format', 'json'], `?updated_after=${t}&format=json`);
    await same(p.id, ['--updated-before', gold.created_at, '--tag', 'x'], `?updated_before=${t}&tag=x`);
    for (const opt of ['--created-after', '--created-before', '--updated-after', '--updated-before']) {
      const r = cli([String(p.id), opt, 'yesterday']);
      assert.equal(r.status, 2);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, new RegExp(`${opt}: "yesterday" is not an RFC 3339 time`));
    }
    expectStatus(await srv.api('POST', `/v1/tasks/${gold.id}/cancel`), 200);
  });

  it('-o FILE writes the file whole, and a failed export leaves no file', async () => {
    const f = path.join(srv.dir, 'out.ndjson');
    const r = cli([String(p.id), '-o', f]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(fs.readFileSync(f, 'utf8'), await http(p.id));
    assert.ok(!fs.existsSync(f + '.tmp'), 'the temporary file is left behind');
    // A format that does not fit: no file at all, not even the .tmp.
    const g = path.join(srv.dir, 'bad.txt');
    const bad = cli([String(p.id), '--format', 'conll', '-o', g]);
    assert.equal(bad.status, 2);
    assert.ok(!fs.existsSync(g) && !fs.existsSync(g + '.tmp'));
    // A directory that does not exist: an error naming -o and the file.
    const nodir = path.join(srv.dir, 'no', 'such', 'x.ndjson');
    const e = cli([String(p.id), '-o', nodir]);
    assert.equal(e.status, 1);
    assert.match(e.stderr, /-o: cannot create .*x\.ndjson\.tmp/);
  });

  it('bad options are refused naming the option, before anything is written', async () => {
    const cases = [
      [[String(p.id), '--format', 'xml'], /--format: "xml" is not an export format \(one of: ndjson, json(, [a-z_]+)*\)\n?$/],
      [[String(p.id), '--format', 'conll'], /--format: "conll" exports \w+ projects; this one is categorization/],
      [[String(p.id), '--include', 'votes'], /--include: "votes" cannot be included/],
      [[String(p.id), '--status', 'done'], /--status: "done" is not a task status/],
      [[String(p.id), '--batch', 'x'], /--batch: "x" is not a batch id/],
      [[String(p.id), '--batch', '0'], /--batch: "0" is not a batch id/],
      [[String(p.id), '--format'], /--format needs a value/],
      [[String(p.id), '--frobnicate'], /unknown argument "--frobnicate"/],
      [['abc'], /"abc" is not a project id/],
      [[], /usage: loupe export PROJECT_ID/],
    ];
    for (const [args, re] of cases) {
      const r = cli(args);
      assert.equal(r.status, 2, `loupe export ${args.join(' ')}: status ${r.status}, ${r.stderr}`);
      assert.equal(r.stdout, '', `loupe export ${args.join(' ')} wrote to stdout`);
      assert.match(r.stderr, re);
    }
    const none = cli(['999999']);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /no project has id 999999/);
    assert.equal(none.stdout, '');
  });

  it('--help describes the command', () => {
    const r = runCli(['export', '--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /usage: loupe export PROJECT_ID \[--format NAME\]/);
    assert.match(r.stdout, /FILE\.tmp/);
  });
});
