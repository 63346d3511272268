// mlserver.mjs -- a Label Studio ML backend for the tests, on loopback:
// GET /health, POST /setup, /predict and /webhook in the shapes Label
// Studio's SDK serves them.  It labels a text "pos" when it says "good",
// else "neg", and can be switched at run time into the ways real backends
// fail:
//   ok        answers (after delayMs, when set)
//   fail      HTTP 500
//   hang      never answers (the client's time-out must end the call)
//   garbage   200 with a body that is not JSON
//   short     one result fewer than the tasks sent
//   badlabel  a label the project does not have, for texts saying "odd"
// It records every call (state.calls), the batches' sizes, how many
// /predict calls were in flight at once (state.maxInflight), the set-ups
// and the training events.
import http from 'node:http';

export async function startMlBackend({ version = 'fake-v1' } = {}) {
  const state = {
    mode: 'ok',
    delayMs: 0,
    version,
    calls: { health: 0, setup: 0, predict: 0, webhook: 0 },
    predictTimes: [],
    batches: [],
    predictRequests: [],
    inflight: 0,
    maxInflight: 0,
    setups: [],
    webhooks: [],
    webhookStatus: 201,
  };
  const hung = new Set();
  const label = (task) => (String(task.data?.text ?? '').includes('good') ? 'pos' : 'neg');
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      const send = (status, obj) => {
        const text = typeof obj === 'string' ? obj : JSON.stringify(obj);
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(text);
      };
      const path = req.url.split('?')[0];
      if (req.method === 'GET' && path === '/health') {
        state.calls.health++;
        return send(200, { status: 'UP', model_class: 'Fake' });
      }
      let json = null;
      try {
        json = JSON.parse(body || 'null');
      } catch {
        return send(400, { error: 'not json' });
      }
      if (path === '/setup') {
        state.calls.setup++;
        state.setups.push(json);
        return send(200, { model_version: state.version });
      }
      if (path === '/webhook') {
        state.calls.webhook++;
        state.webhooks.push(json);
        return send(state.webhookStatus, {});
      }
      if (path !== '/predict') return send(404, { error: 'no such path' });
      state.calls.predict++;
      state.predictTimes.push(Date.now());
      state.batches.push(json.tasks.length);
      state.predictRequests.push(json);
      state.inflight++;
      state.maxInflight = Math.max(state.maxInflight, state.inflight);
      const done = () => state.inflight--;
      if (state.mode === 'hang') {
        hung.add(res);
        res.on('close', () => {
          hung.delete(res);
          done();
        });
        return;
      }
      if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
      done();
      if (state.mode === 'fail') return send(500, { error: 'the model fell over' });
      if (state.mode === 'garbage') return send(200, '<html>Bad gateway</html>');
      const results = json.tasks.map((t) => ({
        model_version: state.version,
        score: 0.9,
        result: [{ from_name: 'label', to_name: 'text', type: 'choices', value: { choices: [state.mode === 'badlabel' && String(t.data?.text).includes('odd') ? 'nope' : label(t)] } }],
      }));
      if (state.mode === 'short') results.pop();
      return send(200, { results });
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    state,
    async close() {
      for (const res of hung) res.destroy();
      server.closeAllConnections?.();
      await new Promise((r) => server.close(r));
    },
  };
}
