// login.js -- #/login: email and password -> POST /v1/sessions.

import { h } from './dom.js';
import { request } from './api.js';
import { clearStatus } from './status.js';

function loginError(e) {
  if (e.status === 401) return 'Wrong email or password.';
  if (e.status === 429) {
    const s = Number(e.retryAfter);
    const when = Number.isFinite(s) && s > 0 ? `in ${Math.max(1, Math.ceil(s / 60))} minutes` : 'later';
    return `Too many failed sign-ins for this email. Try again ${when}.`;
  }
  if (e.status === 0) return 'Cannot reach the server. Check your connection and try again.';
  return e.message || 'Signing in failed.';
}

export function renderLogin(root, { onLogin }) {
  document.title = 'Sign in · Loupe';
  const error = h('p', { class: 'error', 'data-testid': 'error', role: 'alert', id: 'login-error', hidden: true });
  const email = h('input', { id: 'login-email', name: 'email', type: 'email', autocomplete: 'username', required: true, spellcheck: 'false', autocapitalize: 'off' });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');

  const showError = (text) => {
    error.textContent = text;
    error.hidden = !text;
    for (const i of [email, password]) {
      if (text) i.setAttribute('aria-describedby', 'login-error');
      else i.removeAttribute('aria-describedby');
    }
  };

  let busy = false;
  const form = h(
    'form',
    {
      class: 'card login-card',
      novalidate: true,
      onsubmit: async (ev) => {
        ev.preventDefault();
        if (busy) return;
        const e = email.value.trim();
        const p = password.value;
        if (!e || !p) {
          showError(!e ? 'Enter your email.' : 'Enter your password.');
          (!e ? email : password).focus();
          return;
        }
        busy = true;
        button.disabled = true;
        button.textContent = 'Signing in…';
        showError('');
        try {
          const r = await request('POST', '/v1/sessions', { email: e, password: p }, { allow401: true });
          clearStatus();
          onLogin(r.data?.user || { email: e });
        } catch (err) {
          showError(loginError(err));
          password.focus();
          password.select();
        } finally {
          busy = false;
          button.disabled = false;
          button.textContent = 'Sign in';
        }
      },
    },
    h('h1', null, 'Sign in'),
    h('p', { class: 'muted' }, 'Sign in to Loupe with your email and password.'),
    h('div', { class: 'field' }, h('label', { for: 'login-email' }, 'Email'), email),
    h('div', { class: 'field' }, h('label', { for: 'login-password' }, 'Password'), password),
    error,
    h('div', { class: 'form-actions' }, button),
  );
  root.replaceChildren(h('section', { class: 'login' }, form));
  email.focus();
  return null;
}
