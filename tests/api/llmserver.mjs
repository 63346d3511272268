// llmserver.mjs -- an OpenAI-compatible chat completions server for the
// tests, on loopback: POST {base}/chat/completions, plain or streamed
// (server-sent events, as OpenAI's API sends them).  Answers are
// deterministic: "<model> says: <last user message>", unless the prompt
// has an entry in state.answers (by prompt text, a string, or a function
// of the model name).  A prompt can ask for trouble with directives in its
// text, counted per prompt and model:
//   [fail:N]     HTTP 500 for the first N calls
//   [ratelimit:N] HTTP 429 (with Retry-After) for the first N calls
//   [garbage:N]  200 with a body that is not JSON for the first N calls
//   [nochoices]  200 with {"choices": []} every time
//   [slow:MS]    waits MS before answering
//   [hang]       never answers
//   [badreq]     HTTP 400 with an OpenAI error object every time
// state.requireKey makes any call without "Authorization: Bearer <key>"
// a 401.  Every request is recorded (state.requests: headers and body),
// with the most calls in flight at once (state.maxInflight).
import http from 'node:http';

export async function startLlmServer() {
  const state = {
    requests: [],
    answers: {},
    requireKey: null,
    inflight: 0,
    maxInflight: 0,
    attempts: new Map(),
  };
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', async () => {
      const send = (status, obj, headers = {}) => {
        if (res.destroyed) return;
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
        res.end(typeof obj === 'string' ? obj : JSON.stringify(obj));
      };
      if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) return send(404, { error: { message: 'no such route' } });
      let json;
      try {
        json = JSON.parse(body);
      } catch {
        return send(400, { error: { message: 'not json' } });
      }
      state.requests.push({ headers: req.headers, body: json });
      if (state.requireKey && req.headers.authorization !== `Bearer ${state.requireKey}`) return send(401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } });
      const msgs = Array.isArray(json.messages) ? json.messages : [];
      const last = [...msgs].reverse().find((m) => m.role === 'user')?.content ?? '';
      const model = String(json.model ?? '');
      const key = `${model}\u0000${last}`;
      const n = (state.attempts.get(key) ?? 0) + 1;
      state.attempts.set(key, n);
      const directive = (name) => {
        const m = last.match(new RegExp(`\\[${name}(?::(\\d+))?\\]`));
        return m ? Number(m[1] ?? 1) : 0;
      };
      state.inflight++;
      state.maxInflight = Math.max(state.maxInflight, state.inflight);
      try {
        if (directive('hang')) return; // the client's time-out ends it
        const slow = directive('slow');
        if (slow) await new Promise((r) => setTimeout(r, slow));
        if (n <= directive('fail')) return send(500, { error: { message: 'upstream overloaded' } });
        if (n <= directive('ratelimit')) return send(429, { error: { message: 'Rate limit reached', type: 'rate_limit' } }, { 'Retry-After': '0' });
        if (n <= directive('garbage')) return send(200, '<html>oops</html>');
        if (directive('badreq')) return send(400, { error: { message: 'This model does not support that', type: 'invalid_request_error' } });
        if (directive('nochoices')) return send(200, { id: 'x', object: 'chat.completion', choices: [] });
        const a = state.answers[last];
        const text = typeof a === 'function' ? a(model, json) : a ?? `${model} says: ${last}`;
        const usage = { prompt_tokens: msgs.reduce((s, m) => s + String(m.content).split(/\s+/).length, 0), completion_tokens: text.split(/\s+/).length };
        if (json.stream) {
          res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
          const words = text.match(/\S+\s*/g) ?? [''];
          for (const w of words) {
            res.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: `${model}-0613`, choices: [{ index: 0, delta: { content: w }, finish_reason: null }] })}\n\n`);
            await new Promise((r) => setTimeout(r, 5));
          }
          res.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: `${model}-0613`, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
          res.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: `${model}-0613`, choices: [], usage })}\n\n`);
          res.end('data: [DONE]\n\n');
          return;
        }
        return send(200, {
          id: 'chatcmpl-1',
          object: 'chat.completion',
          model: `${model}-0613`,
          choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
          usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
        });
      } finally {
        state.inflight--;
      }
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/v1`;
  return {
    url,
    state,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
