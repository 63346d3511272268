// demo.test.mjs -- `loupe serve --demo` (what `make run` starts): on an empty
// database it creates an admin who can log in, an API key, and a demo
// project with tasks for every kind that needs no media file; on a database
// that has users it adds nothing.
import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { it, startServer, expectStatus, listAll, sleep } from './harness.mjs';

describe('serve --demo', () => {
  let srv;
  let out;
  before(async () => {
    srv = await startServer({ key: 'none', args: ['--demo'] });
    // The banner is printed before the server answers /healthz.
    for (let i = 0; i < 100 && !/API key:\s+\S+/.test(out ?? ''); i++) {
      if (i) await sleep(50);
      out = fs.readFileSync(path.join(srv.dir, 'server.stdout.log'), 'utf8');
    }
    assert.match(out, /API key:\s+\S+/, 'the demo login printed on standard output');
  });
  after(() => srv?.stop());

  it('prints a login that works, an API key and where to open the UI', async () => {
    assert.match(out, new RegExp(`open ${srv.base.replace(/[.]/g, '\\.')}/ in a browser`));
    const [, email, password] = /admin login:\s+(\S+) \/ (\S+)/.exec(out) ?? [];
    assert.ok(email && password, `no login in ${out}`);
    const r = await fetch(`${srv.base}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
    assert.equal(r.status, 201, `logging in with the printed password: ${await r.text()}`);
  });

  it('creates a project with tasks for each kind that needs no media', async () => {
    const key = /API key:\s+(\S+)/.exec(out)[1];
    const { items: projects } = await listAll(srv, '/v1/projects', { key });
    const kinds = Object.fromEntries(projects.map((p) => [p.kind, p]));
    for (const kind of ['categorization', 'namedentityrecognition', 'comparison', 'ranking', 'rating', 'textcollection']) {
      assert.ok(kinds[kind], `no demo project of kind ${kind} (got ${projects.map((p) => p.kind)})`);
      assert.ok(kinds[kind].counts.pending > 0, `the ${kind} demo project has no pending task`);
      assert.ok(kinds[kind].params.instructions, `the ${kind} demo project has no instructions`);
    }
    // Each demo task passes its kind's rules: the annotator can lease it.
    const next = expectStatus(await srv.api('GET', `/v1/projects/${kinds.namedentityrecognition.id}/queue/next`, undefined, { key }), 200);
    assert.match(next.assignment.task.data.text, /Zürich/);
  });

  it('adds nothing when the database already has users', async () => {
    const key = /API key:\s+(\S+)/.exec(out)[1];
    const before = (await listAll(srv, '/v1/projects', { key })).items.length;
    await srv.stop({ keepDir: true });
    srv = await startServer({ key, dir: srv.dir, args: ['--demo'], dbUrl: srv.dbUrl || undefined });
    assert.equal((await listAll(srv, '/v1/projects', { key })).items.length, before);
  });
});
