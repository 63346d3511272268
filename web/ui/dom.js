// dom.js -- building DOM nodes without ever parsing HTML.
//
//   h('button', {type: 'button', 'data-action': 'skip', onclick: fn}, 'Skip')
//
// Attributes are set with setAttribute (true: present and empty; false,
// null or undefined: left out); `on…` keys that hold functions become event
// listeners; children are nodes, strings (always text nodes, never markup),
// arrays of them, or null/false (skipped).

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
      else if (k === 'class') el.className = v;
      else if (k === 'value') el.value = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/* h() for SVG: the element is made in the SVG namespace, attributes are
 * set with setAttribute (so width, height, x, y and fill are attributes,
 * never a style), children as for h(). */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/* True when the event's target is a place where the user types, so that
 * keyboard shortcuts must leave the key alone. */
export function isTyping(target) {
  if (!target || !(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  const t = target.closest('input, textarea, select');
  if (!t) return false;
  if (t.tagName === 'INPUT') {
    const type = (t.getAttribute('type') || 'text').toLowerCase();
    return !['button', 'submit', 'reset', 'checkbox', 'radio', 'range', 'color', 'file', 'image'].includes(type);
  }
  return true;
}

/* Ends an edit in progress inside container: a focused field that commits
 * on 'change' (a text or number input) is blurred, which fires its change,
 * so that what was typed is in the answer before the answer is read or the
 * field is rebuilt. */
export function commitEdits(container) {
  const el = document.activeElement;
  if (container && el && el !== container && container.contains(el) && typeof el.blur === 'function') el.blur();
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/* s with its first letter in capitals. */
export function capitalize(s) {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/* The server's message as a sentence: capital first, full stop last. */
export function sentence(msg) {
  const t = String(msg || '').trim();
  if (!t) return '';
  return t[0].toUpperCase() + t.slice(1) + (/[.!?)]$/.test(t) ? '' : '.');
}

/* "9:05" for 545 000 ms; "1:02:03" past an hour. */
export function formatDuration(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const hrs = Math.floor(total / 3600);
  const min = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  const ss = String(sec).padStart(2, '0');
  return hrs ? `${hrs}:${String(min).padStart(2, '0')}:${ss}` : `${min}:${ss}`;
}

/* Copies text to the clipboard; falls back to a selected textarea where
 * the Clipboard API is missing (plain http on another host than localhost). */
export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    /* fall through to the old way */
  }
  const ta = h('textarea', { class: 'visually-hidden', 'aria-hidden': 'true', readonly: true });
  ta.value = text;
  document.body.append(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  ta.remove();
  return ok;
}

/* A number for people: 12,345 (0 for what is not a number). */
export function count(n) {
  return Number.isFinite(n) ? n.toLocaleString() : '0';
}

/* "1 task", "12,345 tasks", "2 replies" (many given). */
export const plural = (n, one, many = `${one}s`) => `${count(n)} ${n === 1 ? one : many}`;

/* A named list of params (labels, attributes, choices) as objects with a
 * name, without duplicates: strings become {name}, items without a name
 * are left out. */
export function namedList(list) {
  if (!Array.isArray(list)) return [];
  const out = [];
  const seen = new Set();
  for (const item of list) {
    const o = typeof item === 'string' ? { name: item } : item && typeof item === 'object' ? item : null;
    if (!o || typeof o.name !== 'string' || o.name === '' || seen.has(o.name)) continue;
    seen.add(o.name);
    out.push(o);
  }
  return out;
}
