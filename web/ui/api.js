// api.js -- every call to Loupe's JSON API under /v1.
//
// Requests carry the session cookie (credentials: 'same-origin') and send
// JSON bodies as application/json.  An error answer becomes an ApiError
// with the server's status, code, message and field; a request that never
// got an answer becomes an ApiError with status 0 (code 'network').  A 401
// anywhere tells the app (onUnauthorized), which goes to #/login, unless
// the caller expects one (the login form: {allow401: true}).
//
// CSRF: a request made with the session cookie that is not a GET must
// carry the session's token in X-CSRF-Token.  The server hands it out with
// the login (POST /v1/sessions) and with GET /v1/me, which the app asks on
// every load; request() keeps it from those answers and sends it with
// every other method.  A 403 naming X-CSRF-Token (the session changed in
// another tab) gets the token again from /v1/me and sends the request once
// more.

export class ApiError extends Error {
  constructor(status, code, message, { field = null, body = null, retryAfter = null } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
    this.body = body;
    this.retryAfter = retryAfter;
  }

  /* A request worth sending again as it was: no answer, or the server
   * could not do it just now (5xx, 503 included). */
  get retryable() {
    return this.status === 0 || this.status >= 500;
  }
}

const unauthorizedListeners = new Set();

export function onUnauthorized(fn) {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

/* The server's clock minus ours, from the Date header, so that a lease's
 * time left is right even on a machine whose clock is off. */
let skewMs = 0;

export function serverNow() {
  return Date.now() + skewMs;
}

function noteDate(header) {
  if (!header) return;
  const t = Date.parse(header);
  if (Number.isNaN(t)) return;
  const d = t - Date.now();
  // The header has whole seconds: only trust a clearly wrong clock.
  skewMs = Math.abs(d) > 2000 ? d : 0;
}

let csrf = null;

/* The session's CSRF token, for requests not made with request() (an
 * upload's XMLHttpRequest): set it as the X-CSRF-Token header. */
export function csrfToken() {
  return csrf;
}

/* Keeps the token of a login or of GET /v1/me; forgets it on logout. */
function noteCsrf(method, path, data) {
  const p = path.split('?')[0];
  if (p === '/v1/sessions' && method === 'DELETE') csrf = null;
  else if ((p === '/v1/sessions' && method === 'POST') || (p === '/v1/me' && method === 'GET')) {
    if (data && typeof data.csrf_token === 'string') csrf = data.csrf_token;
  }
}

/* Sends one request and answers {status, data, headers}; throws ApiError. */
export async function request(method, path, body, opts = {}) {
  try {
    return await send(method, path, body, opts);
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 403 || e.field !== 'X-CSRF-Token' || opts.csrfRetried) throw e;
    await send('GET', '/v1/me', undefined, {});
    return send(method, path, body, { ...opts, csrfRetried: true });
  }
}

async function send(method, path, body, opts) {
  const init = {
    method,
    credentials: 'same-origin',
    cache: 'no-store',
    // X-Requested-With: the server then leaves out its Basic challenge on a
    // 401, which would make Firefox ask for a password in a dialog.
    headers: { Accept: 'application/json', 'X-Requested-With': 'fetch' },
  };
  if (method !== 'GET' && method !== 'HEAD' && csrf) init.headers['X-CSRF-Token'] = csrf;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (opts.keepalive) init.keepalive = true;
  if (opts.signal) init.signal = opts.signal;
  let res;
  let text = '';
  try {
    res = await fetch(path, init);
    text = res.status === 204 || res.status === 304 ? '' : await res.text();
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'Cannot reach the server. Check your connection.');
  }
  noteDate(res.headers.get('Date'));
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (res.ok) noteCsrf(method, path, data);
  if (!res.ok) {
    const err = (data && typeof data === 'object' && data.error) || {};
    const message = typeof err.message === 'string' && err.message ? err.message : `The server answered ${res.status} ${res.statusText || ''}`.trim();
    const e = new ApiError(res.status, err.code || `http_${res.status}`, message, {
      field: err.field ?? null,
      body: data,
      retryAfter: res.headers.get('Retry-After'),
    });
    if (res.status === 401 && !opts.allow401) for (const fn of unauthorizedListeners) fn(e);
    throw e;
  }
  return { status: res.status, data, headers: res.headers };
}

export const api = {
  get: (path, opts) => request('GET', path, undefined, opts).then((r) => r.data),
  post: (path, body, opts) => request('POST', path, body, opts).then((r) => r.data),
  put: (path, body, opts) => request('PUT', path, body, opts).then((r) => r.data),
  del: (path, opts) => request('DELETE', path, undefined, opts).then((r) => r.data),
};

/* Every item of a paged list (GET ... -> {items, next_token}), following
 * next_token; onPage(items) sees each page as it arrives. */
export async function getAll(path, onPage) {
  const items = [];
  let token = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await api.get(token ? `${path}${sep}next_token=${encodeURIComponent(token)}` : path);
    const got = Array.isArray(page?.items) ? page.items : [];
    items.push(...got);
    if (onPage) onPage(got);
    token = page?.next_token || null;
  } while (token);
  return items;
}
