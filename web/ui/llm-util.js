// llm-util.js -- what the pages of the LLM area (llm.js) share: form
// fields whose API errors (422 with error.field) show next to them, a
// request with a raw body (NDJSON imports), a generation's progress bar,
// state badges and number formats.

import { ApiError, csrfToken } from './api.js';
import { h, svg, append, sentence } from './dom.js';
import { DASH, count } from './quality.js';

export { DASH, count };

/* el's children replaced by children (nested arrays, null and false
 * skipped, as h() takes them). */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/* The API's message without the field it starts with ("params.temperature:
 * must be ..." -> "must be ..."), for showing next to that field. */
export function bare(message, field) {
  const m = String(message || '');
  return field && m.startsWith(`${field}: `) ? m.slice(field.length + 2) : m;
}

export { plural } from './dom.js';

/* 1234.5 ms -> "1.23 s"; 87 -> "87 ms". */
export function ms(x) {
  if (!Number.isFinite(x)) return DASH;
  return x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`;
}

/* 0.8123 -> "81.2"; with se: "81.2 ± 3.1" (both as percentages). */
export function score(x, se) {
  if (!Number.isFinite(x)) return DASH;
  const v = (x * 100).toFixed(1);
  return Number.isFinite(se) ? `${v} ± ${(se * 100).toFixed(1)}` : v;
}

export function when(t) {
  if (!t) return DASH;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toLocaleString();
}

/* A card of the LLM area with its title. */
export function card(testid, title, ...children) {
  const id = `llm-${testid}-title`;
  return h('section', { class: 'card panel llm-card', 'data-testid': testid, 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

/* A form whose fields are named by the API's field names, so that a 422
 * naming one (error.field, "params.temperature" included) shows under that
 * field and marks it invalid; any other error shows at the form's foot.
 *
 *   const f = apiForm('ep');
 *   f.field('name', 'Name', input, 'help');   // a .pf-field with its error
 *   f.show(e) / f.clear()
 */
export function apiForm(prefix) {
  const fields = new Map(); // API field -> {input, error}
  const formError = h('p', { class: 'error', role: 'alert', hidden: true, 'data-testid': `${prefix}-form-error` });
  return {
    formError,
    field(name, label, input, help, { check = false } = {}) {
      const id = input.id || `${prefix}-${name.replace(/\W+/g, '-')}`;
      input.id = id;
      if (!input.name) input.name = name;
      const error = h('p', { class: 'pf-field-error', id: `${id}-error`, role: 'alert', hidden: true, 'data-testid': `${prefix}-error-${name.replace(/\W+/g, '-')}` });
      fields.set(name, { input, error });
      const helpEl = help ? h('p', { class: 'pf-help', id: `${id}-help` }, help) : null;
      if (helpEl) input.setAttribute('aria-describedby', `${id}-help`);
      if (check) return h('div', { class: 'pf-field pf-check' }, input, h('label', { for: id }, label), helpEl, error);
      return h('div', { class: 'pf-field' }, h('label', { for: id }, label), input, helpEl, error);
    },
    clear() {
      formError.hidden = true;
      for (const { input, error } of fields.values()) {
        error.hidden = true;
        input.removeAttribute('aria-invalid');
      }
    },
    /* Shows e where it belongs; true when it went next to a field. */
    show(e) {
      this.clear();
      const name = e instanceof ApiError && e.field ? String(e.field) : null;
      // "params.temperature" or "params" -> the closest field registered.
      let f = null;
      for (let n = name; n && !f; n = n.includes('.') ? n.slice(0, n.lastIndexOf('.')) : null) f = fields.get(n) || null;
      if (f) {
        f.error.textContent = sentence(bare(e.message, name));
        f.error.hidden = false;
        f.input.setAttribute('aria-invalid', 'true');
        f.input.setAttribute('aria-describedby', f.error.id);
        f.input.focus();
        return true;
      }
      formError.textContent = e.status === 0 ? 'Cannot reach the server. Try again.' : `${name ? `${name}: ` : ''}${sentence(e.message)}`;
      formError.hidden = false;
      return false;
    },
  };
}

/* A number input; '' when left empty. */
export function numberInput(attrs = {}) {
  return h('input', { type: 'number', inputmode: 'decimal', ...attrs });
}

/* The value of a number input as a number, or undefined when empty. */
export function numberOf(input) {
  const v = input.value.trim();
  return v === '' ? undefined : Number(v);
}

/* POSTs text as it is (an NDJSON import) with the session's CSRF token;
 * answers the parsed JSON or throws ApiError like api.js. */
export async function postRaw(path, text, contentType) {
  let res;
  let body = null;
  try {
    const headers = { Accept: 'application/json', 'Content-Type': contentType, 'X-Requested-With': 'fetch' };
    const t = csrfToken();
    if (t) headers['X-CSRF-Token'] = t;
    res = await fetch(path, { method: 'POST', credentials: 'same-origin', cache: 'no-store', headers, body: text });
    const raw = await res.text();
    body = raw ? JSON.parse(raw) : null;
  } catch {
    if (!res) throw new ApiError(0, 'network', 'Cannot reach the server. Check your connection.');
  }
  if (!res.ok) {
    const err = (body && body.error) || {};
    throw new ApiError(res.status, err.code || `http_${res.status}`, err.message || `The server answered ${res.status}`, { field: err.field ?? null, body });
  }
  return body;
}

/* A badge for a generation's state. */
export function stateBadge(state) {
  const tone = { running: 'badge-run', done: 'badge-ok', cancelled: 'badge-warn' }[state] || '';
  return h('span', { class: `badge ${tone}`, 'data-testid': 'gen-state', 'data-state': state }, state || DASH);
}

const PG = { w: 240, h: 10 };

/* A generation's outputs as one bar: done, failed, waiting, of the total;
 * the text beside it says the same. */
export function progressBar(o, { wide = false } = {}) {
  const total = o?.total || 0;
  const done = o?.done || 0;
  const failed = o?.failed || 0;
  const waiting = o?.waiting || 0;
  const w = wide ? 1000 : PG.w;
  const x = (n) => (total ? (w * n) / total : 0);
  const text = `${count(done)} done, ${count(failed)} failed, ${count(waiting)} waiting of ${count(total)}`;
  return h(
    'div',
    { class: `gen-progress${wide ? ' gen-progress-wide' : ''}`, 'data-testid': 'gen-progress', 'data-done': done, 'data-failed': failed, 'data-waiting': waiting, 'data-total': total },
    svg(
      'svg',
      { class: 'gen-bar', width: wide ? '100%' : w, height: PG.h, viewBox: `0 0 ${w} ${PG.h}`, preserveAspectRatio: 'none', 'aria-hidden': 'true', focusable: 'false' },
      svg('rect', { class: 'gp-track', x: 0, y: 0, width: w, height: PG.h }),
      svg('rect', { class: 'gp-done', x: 0, y: 0, width: x(done).toFixed(2), height: PG.h }),
      svg('rect', { class: 'gp-failed', x: x(done).toFixed(2), y: 0, width: x(failed).toFixed(2), height: PG.h }),
    ),
    h('span', { class: 'gen-progress-text' }, text),
  );
}

/* The text of a prompt's last user message, from its messages. */
export function promptText(p) {
  const msgs = Array.isArray(p?.messages) ? p.messages : [];
  const last = [...msgs].reverse().find((m) => m.role === 'user');
  return last ? String(last.content ?? '') : '';
}

export function excerpt(s, n = 160) {
  const t = String(s ?? '').replace(/\s+/g, ' ').trim();
  return t.length > n ? `${t.slice(0, n - 1)}…` : t;
}
