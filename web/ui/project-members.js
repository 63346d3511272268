// project-members.js -- the Members tab of a project's settings
// (#/projects/ID/settings): who has which role (GET
// /v1/projects/ID/members), changing a role, removing a member, and adding
// one by user id (or by email, for an admin, from GET /v1/users).

import { h, append, capitalize as cap } from './dom.js';
import { api, getAll } from './api.js';
import { setStatus } from './status.js';

const ROLES = ['annotator', 'reviewer', 'manager'];

export function membersPanel({ project, me, canManage }) {
  const pid = project.id;
  const isAdmin = me.role === 'admin';
  let usersP = null; // admins: every user, for adding by email
  const el = h('section', { class: 'pf-panel', 'data-testid': 'members' });
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const body = h('tbody');
  const table = h(
    'div',
    { class: 'table-wrap' },
    h('table', { class: 'data-table pf-members' }, h('caption', { class: 'visually-hidden' }, 'Members of the project'), h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Member'), h('th', { scope: 'col' }, 'Role'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))), body),
  );
  const userId = 'pf-member-user';
  const userInput = h('input', { type: 'text', id: userId, list: isAdmin ? 'pf-users' : null, autocomplete: 'off', placeholder: isAdmin ? 'email@example.com or a user id' : 'a user id, e.g. 12', 'data-testid': 'member-user', disabled: !canManage });
  const datalist = h('datalist', { id: 'pf-users' });
  const roleSel = h('select', { id: 'pf-member-role', 'data-testid': 'member-role', disabled: !canManage }, ROLES.map((r) => h('option', { value: r }, cap(r))));
  const addBtn = h('button', { type: 'submit', class: 'primary', 'data-action': 'add-member', disabled: !canManage }, 'Add member');
  const addError = h('p', { class: 'pf-field-error', role: 'alert', hidden: true, 'data-testid': 'member-error' });
  const addForm = h(
    'form',
    { class: 'pf-member-add', novalidate: true },
    h('div', { class: 'pf-field' }, h('label', { for: userId }, isAdmin ? 'User (email or id)' : 'User id'), userInput, datalist),
    h('div', { class: 'pf-field' }, h('label', { for: 'pf-member-role' }, 'Role'), roleSel),
    addBtn,
  );
  addForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    addMember();
  });
  append(el, [
    h('h2', null, 'Members'),
    h('p', { class: 'muted' }, 'Annotators label, reviewers also review and see all tasks, managers also change settings, import and manage members. Organisation admins are managers everywhere.'),
    error,
    table,
    canManage ? h('h3', null, 'Add a member') : h('p', { class: 'note' }, 'Only managers change who is in the project.'),
    canManage ? addForm : null,
    canManage ? addError : null,
    canManage && !isAdmin ? h('p', { class: 'pf-help' }, 'Only an organisation admin can look people up by email: ask them for the user id.') : null,
  ]);
  load();
  if (isAdmin && canManage) {
    usersP = getAll('/v1/users?limit=1000').catch(() => []);
    usersP.then((all) => datalist.replaceChildren(...all.filter((u) => !u.disabled).map((u) => h('option', { value: u.email }, u.name || u.email))));
  }
  return el;

  async function load() {
    try {
      const r = await api.get(`/v1/projects/${pid}/members`);
      error.hidden = true;
      body.replaceChildren(...r.items.map(row));
      if (!r.items.length) body.append(h('tr', null, h('td', { colspan: 3, class: 'muted' }, 'No members yet.')));
    } catch (e) {
      if (e.status === 401) return;
      error.textContent = `The members could not be loaded: ${e.message}`;
      error.hidden = false;
    }
  }

  function row(m) {
    const sel = h('select', { 'aria-label': `Role of ${m.email}`, 'data-role-of': m.user_id, disabled: !canManage }, ROLES.map((r) => h('option', { value: r }, cap(r))));
    sel.value = m.role;
    const rowError = h('span', { class: 'pf-row-error', role: 'alert' });
    const remove = h('button', { type: 'button', class: 'quiet', 'data-action': 'remove-member', disabled: !canManage }, 'Remove');
    const tr = h(
      'tr',
      { 'data-user-id': m.user_id },
      h('td', { class: 'email' }, h('span', { class: 'pf-member-name' }, m.name || m.email, m.user_id === me.id ? h('span', { class: 'badge' }, 'you') : null), m.name ? h('span', { class: 'muted pf-member-email' }, m.email) : null, h('span', { class: 'muted pf-member-email' }, `user ${m.user_id}`)),
      h('td', null, sel, rowError),
      h('td', { class: 'row-action' }, remove),
    );
    sel.addEventListener('change', async () => {
      rowError.textContent = '';
      sel.disabled = true;
      try {
        await api.put(`/v1/projects/${pid}/members/${m.user_id}`, { role: sel.value });
        m.role = sel.value;
        setStatus(`${m.email} is now ${sel.value}`, 'ok');
      } catch (e) {
        if (e.status === 401) return;
        sel.value = m.role;
        rowError.textContent = e.message;
        setStatus(`The role was not changed: ${e.message}`, 'error');
      } finally {
        sel.disabled = !canManage;
      }
    });
    remove.addEventListener('click', () => {
      if (remove.dataset.confirm !== 'true') {
        remove.dataset.confirm = 'true';
        remove.textContent = `Remove ${m.email}?`;
        remove.classList.remove('quiet');
        remove.classList.add('danger');
        setTimeout(() => {
          if (!remove.isConnected) return;
          remove.dataset.confirm = 'false';
          remove.textContent = 'Remove';
          remove.classList.add('quiet');
          remove.classList.remove('danger');
        }, 5000);
        return;
      }
      removeMember(m, remove, rowError);
    });
    return tr;
  }

  async function removeMember(m, btn, rowError) {
    btn.disabled = true;
    try {
      await api.del(`/v1/projects/${pid}/members/${m.user_id}`);
      setStatus(`${m.email} was removed from the project`, 'ok');
      await load();
    } catch (e) {
      if (e.status === 401) return;
      btn.disabled = false;
      rowError.textContent = e.message;
      setStatus(`Not removed: ${e.message}`, 'error');
    }
  }

  async function addMember() {
    addError.hidden = true;
    userInput.removeAttribute('aria-invalid');
    const v = userInput.value.trim();
    let id = null;
    if (/^\d+$/.test(v)) id = Number(v);
    else if (v && usersP) {
      const find = (all) => all.find((u) => u.email.toLowerCase() === v.toLowerCase())?.id ?? null;
      id = find(await usersP);
      if (!id) {
        // someone added since the page loaded: look again
        usersP = getAll('/v1/users?limit=1000').catch(() => []);
        id = find(await usersP);
      }
    }
    if (!id) {
      addError.textContent = !v ? 'Say who to add.' : isAdmin ? `No user with the email ${v}.` : 'Give the user id (a number).';
      addError.hidden = false;
      userInput.setAttribute('aria-invalid', 'true');
      userInput.focus();
      return;
    }
    addBtn.disabled = true;
    try {
      const r = await api.put(`/v1/projects/${pid}/members/${id}`, { role: roleSel.value });
      userInput.value = '';
      setStatus(`${r.email || `User ${id}`} is now ${r.role} of the project`, 'ok');
      await load();
      userInput.focus();
    } catch (e) {
      if (e.status === 401) return;
      addError.textContent = e.message;
      addError.hidden = false;
      userInput.setAttribute('aria-invalid', 'true');
    } finally {
      addBtn.disabled = false;
    }
  }
}

