// status.js -- the status line at the bottom of every page
// ([data-testid=status], aria-live), always visible.

let el = null;

/* tone: 'info', 'busy', 'ok', 'warn' or 'error' (only the look changes). */
export function setStatus(text, tone = 'info') {
  el ||= document.querySelector('[data-testid=status]');
  if (!el) return;
  el.textContent = text || '';
  el.dataset.tone = tone;
}

export function clearStatus() {
  setStatus('', 'info');
}
