// callbacks.test.mjs -- the outbox: task.completed and batch.completed go to
// the project's callback_url and to webhooks, signed (Standard Webhooks),
// retried after failures, each attempt recorded, delivered exactly once.
import { describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import crypto from 'node:crypto';
import { startServer, it, expectError, expectStatus, makeProject, sleep, SLOW } from './harness.mjs';

let srv, receiver, base;
const got = []; // {id, ts, sig, body, answered}
const tries = new Map(); // webhook-id -> attempts seen

before(async () => {
  // A receiver that fails the first two attempts of every message.
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const id = req.headers['webhook-id'];
      const n = (tries.get(id) || 0) + 1;
      tries.set(id, n);
      const answered = n <= 2 ? 500 : 200;
      got.push({ id, ts: req.headers['webhook-timestamp'], sig: req.headers['webhook-signature'], body, answered, path: req.url });
      res.writeHead(answered).end();
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${receiver.address().port}`;
  srv = await startServer({ env: { LOUPE_CALLBACK_RETRY_MS: '100', LOUPE_CALLBACK_POLL_MS: '50' } });
});
after(async () => {
  await srv?.stop();
  await new Promise((r) => receiver.close(r));
});

function verify(secret, m) {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const mac = crypto.createHmac('sha256', key).update(`${m.id}.${m.ts}.${m.body}`).digest('base64');
  return m.sig === `v1,${mac}`;
}

async function settle(pid) {
  for (let i = 0; i < 200 * SLOW; i++) {
    const pending = expectStatus(await srv.api('GET', `/v1/projects/${pid}/deliveries?status=pending`), 200).items;
    if (pending.length === 0) return;
    await sleep(50);
  }
  assert.fail('deliveries still pending');
}

describe('callbacks and webhooks', () => {
  it('every event is delivered once after failures, signed, with its attempts recorded', async () => {
    const p = await makeProject(srv, { overlap: 1, callback_url: `${base}/callback` });
    const hook = expectStatus(await srv.api('POST', '/v1/webhooks', { url: `${base}/hook`, project_id: p.id, events: ['task.completed'] }), 201);
    assert.match(hook.secret, /^whsec_/);
    const { secret } = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/callback_secret`), 200);
    const batch = expectStatus(await srv.api('POST', `/v1/projects/${p.id}/batches`, { name: 'b1' }), 201);
    const rows = [1, 2, 3].map((i) => JSON.stringify({ unique_id: `c${i}`, batch_id: batch.id })).join('\n');
    expectStatus(await srv.api('POST', `/v1/projects/${p.id}/tasks`, rows), 200);
    expectStatus(await srv.api('POST', `/v1/batches/${batch.id}/finalize`), 200);
    for (let i = 0; i < 3; i++) {
      const a = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/queue/next`), 200).assignment;
      expectStatus(await srv.api('POST', `/v1/assignments/${a.id}/submit`, { annotation_id: `c-${a.id}`, response: { labels: ['cat'] } }), 201);
    }
    assert.equal(expectStatus(await srv.api('GET', `/v1/batches/${batch.id}`), 200).status, 'completed');
    await settle(p.id);
    // 3 task.completed to the callback and to the webhook, 1 batch.completed to the callback.
    const ok = got.filter((m) => m.answered === 200);
    const ids = new Set(ok.map((m) => m.id));
    assert.equal(ok.length, 7, `delivered ${ok.length} times: ${JSON.stringify(ok.map((m) => m.path))}`);
    assert.equal(ids.size, 7, 'an event was delivered twice');
    for (const m of ok) {
      assert.equal(tries.get(m.id), 3, 'two failures, then the delivery');
      const body = JSON.parse(m.body);
      if (m.path === '/callback') assert.ok(verify(secret, m), 'callback signature does not verify');
      else assert.ok(verify(hook.secret, m), 'webhook signature does not verify');
      assert.ok(['task.completed', 'batch.completed'].includes(body.type));
      if (body.type === 'task.completed') assert.equal(body.data.status, 'completed');
      if (body.type === 'batch.completed') assert.equal(body.data.id, batch.id);
      assert.ok(Math.abs(Number(m.ts) - Date.now() / 1000) < 60, 'webhook-timestamp is seconds now');
    }
    assert.equal(ok.filter((m) => m.path === '/hook').length, 3, 'the webhook asked only for task.completed');
    // Every attempt is visible through the API.
    const list = expectStatus(await srv.api('GET', `/v1/projects/${p.id}/deliveries`), 200).items;
    assert.equal(list.length, 7);
    assert.ok(list.every((d) => d.status === 'delivered' && d.attempts === 3));
    const one = expectStatus(await srv.api('GET', `/v1/deliveries/${list[0].id}`), 200);
    assert.deepEqual(one.attempt_log.map((x) => x.http_status), [500, 500, 200]);
    // A manual redeliver sends it again, with the same webhook-id.
    expectStatus(await srv.api('POST', `/v1/deliveries/${list[0].id}/redeliver`), 202);
    await settle(p.id);
    const again = got.filter((m) => m.id === list[0].message_id && m.answered === 200);
    assert.equal(again.length, 2);
  });

  it('webhook input is checked and scoped', async () => {
    expectError(await srv.api('POST', '/v1/webhooks', { url: 'ftp://x' }), 422, 'url');
    expectError(await srv.api('POST', '/v1/webhooks', { url: `${base}/x`, events: ['task.exploded'] }), 422, 'events[0]');
    const h = expectStatus(await srv.api('POST', '/v1/webhooks', { url: `${base}/all` }), 201);
    assert.equal(h.project_id, null);
    assert.ok(expectStatus(await srv.api('GET', '/v1/webhooks'), 200).items.some((x) => x.id === h.id));
    expectStatus(await srv.api('DELETE', `/v1/webhooks/${h.id}`), 204);
    expectError(await srv.api('DELETE', `/v1/webhooks/${h.id}`), 404);
  });
});
