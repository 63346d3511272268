// llm-endpoints.js -- #/llm/endpoints: the model endpoints (OpenAI-compatible
// chat completions servers) generations send prompts to.
//
//   GET    /v1/model-endpoints         everyone
//   POST   /v1/model-endpoints         admins: add one
//   PATCH  /v1/model-endpoints/ID      admins: change one
//   DELETE /v1/model-endpoints/ID      admins (409 while a generation still
//                                      waits on it)
//
// The API key is never shown back: the list says whether one is stored,
// and the edit form keeps it unless a new one is typed or "remove" is
// ticked.  A 422 naming a field shows under it (llm-util.js apiForm).

import { api, request } from './api.js';
import { h } from './dom.js';
import { setStatus } from './status.js';
import { apiForm, card, count, ms, numberInput, numberOf } from './llm-util.js';

/* The sampling defaults this form edits; any other params an endpoint has
 * (top_p, stop...) are kept as they are. */
function paramsText(p) {
  const parts = [];
  if (p && Number.isFinite(p.temperature)) parts.push(`temperature ${p.temperature}`);
  if (p && Number.isFinite(p.max_tokens)) parts.push(`max tokens ${count(p.max_tokens)}`);
  for (const k of Object.keys(p || {})) if (k !== 'temperature' && k !== 'max_tokens') parts.push(`${k.replace(/_/g, ' ')} ${JSON.stringify(p[k])}`);
  return parts.length ? parts.join(', ') : 'server defaults';
}

export function renderEndpoints(root, { isAdmin }) {
  document.title = 'Model endpoints · LLM · Loupe';
  let alive = true;
  let editing = null; // the endpoint the form edits, or null for a new one
  let items = [];

  const listBox = h('div', { 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading the endpoints…'));
  const addBtn = isAdmin ? h('button', { type: 'button', class: 'primary', 'data-action': 'add-endpoint', onclick: () => openForm(null) }, 'Add an endpoint') : null;

  // ---- the form ----
  const f = apiForm('ep');
  const inp = {
    name: h('input', { type: 'text', autocomplete: 'off', maxlength: 100, 'data-testid': 'ep-name' }),
    base_url: h('input', { type: 'text', inputmode: 'url', autocomplete: 'off', spellcheck: 'false', placeholder: 'https://api.openai.com/v1', 'data-testid': 'ep-base-url' }),
    model: h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'gpt-4o-mini', 'data-testid': 'ep-model' }),
    api_key: h('input', { type: 'password', autocomplete: 'new-password', spellcheck: 'false', 'data-testid': 'ep-api-key' }),
    remove_key: h('input', { type: 'checkbox', 'data-testid': 'ep-remove-key' }),
    temperature: numberInput({ min: 0, max: 2, step: 0.1, placeholder: 'model default', 'data-testid': 'ep-temperature' }),
    max_tokens: numberInput({ min: 1, step: 1, placeholder: 'model default', 'data-testid': 'ep-max-tokens' }),
    max_concurrency: numberInput({ min: 1, max: 64, step: 1, value: 4, 'data-testid': 'ep-concurrency' }),
    timeout_ms: numberInput({ min: 100, max: 600000, step: 100, value: 60000, 'data-testid': 'ep-timeout' }),
    retries: numberInput({ min: 0, max: 10, step: 1, value: 3, 'data-testid': 'ep-retries' }),
  };
  const keyHelp = h('span', null, 'Sent as Authorization: Bearer …; stored sealed and never shown again.');
  const removeKeyField = f.field('remove_key', 'Remove the stored key', inp.remove_key, null, { check: true });
  const formTitle = h('h2', { id: 'ep-form-title' }, 'Add an endpoint');
  const saveBtn = h('button', { type: 'submit', class: 'primary', 'data-action': 'save-endpoint' }, 'Add endpoint');
  const form = h(
    'form',
    { class: 'card panel llm-form', novalidate: true, 'data-testid': 'endpoint-form', 'aria-labelledby': 'ep-form-title', hidden: true },
    formTitle,
    h(
      'div',
      { class: 'llm-grid' },
      f.field('name', 'Name', inp.name, 'How the leaderboard names this model; unique.'),
      f.field('model', 'Model', inp.model, 'The model field sent with each call.'),
    ),
    f.field('base_url', 'Base URL', inp.base_url, 'Loupe posts to {base URL}/chat/completions (OpenAI, vLLM, llama.cpp, Ollama, TGI, LiteLLM…).'),
    f.field('api_key', 'API key', inp.api_key, keyHelp),
    removeKeyField,
    h('h3', { class: 'llm-subhead' }, 'Sampling defaults'),
    h(
      'div',
      { class: 'llm-grid' },
      f.field('params.temperature', 'Temperature', inp.temperature, '0 to 2; empty: the model’s own.'),
      f.field('params.max_tokens', 'Max tokens', inp.max_tokens, 'Longest answer; empty: the model’s own.'),
    ),
    h('h3', { class: 'llm-subhead' }, 'Calls'),
    h(
      'div',
      { class: 'llm-grid llm-grid-3' },
      f.field('max_concurrency', 'Calls at once', inp.max_concurrency, '1 to 64, per Loupe process.'),
      f.field('timeout_ms', 'Time-out (ms)', inp.timeout_ms, 'The whole call, 100 to 600 000.'),
      f.field('retries', 'Retries', inp.retries, 'After a time-out, 429 or 5xx; 0 to 10.'),
    ),
    f.formError,
    h('div', { class: 'form-actions' }, saveBtn, h('button', { type: 'button', 'data-action': 'cancel-endpoint', onclick: () => closeForm() }, 'Cancel')),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    save();
  });

  root.replaceChildren(
    card(
      'endpoints',
      'Model endpoints',
      h('p', { class: 'muted' }, isAdmin ? 'Servers speaking OpenAI’s chat completions API. Everyone can use them in generations; only admins add, change or remove them.' : 'Servers speaking OpenAI’s chat completions API, for your generations. Only admins add, change or remove them: ask one for another.'),
      listBox,
      addBtn ? h('div', { class: 'form-actions' }, addBtn) : null,
    ),
    form,
  );

  function openForm(ep) {
    editing = ep;
    f.clear();
    formTitle.textContent = ep ? `Edit ${ep.name}` : 'Add an endpoint';
    saveBtn.textContent = ep ? 'Save changes' : 'Add endpoint';
    const p = ep?.params || {};
    inp.name.value = ep?.name ?? '';
    inp.base_url.value = ep?.base_url ?? '';
    inp.model.value = ep?.model ?? '';
    inp.api_key.value = '';
    inp.api_key.placeholder = ep?.has_api_key ? 'stored: type a new one to replace it' : ep ? 'none stored' : 'optional';
    inp.remove_key.checked = false;
    removeKeyField.hidden = !ep?.has_api_key;
    inp.temperature.value = Number.isFinite(p.temperature) ? String(p.temperature) : '';
    inp.max_tokens.value = Number.isFinite(p.max_tokens) ? String(p.max_tokens) : '';
    inp.max_concurrency.value = String(ep?.max_concurrency ?? 4);
    inp.timeout_ms.value = String(ep?.timeout_ms ?? 60000);
    inp.retries.value = String(ep?.retries ?? 3);
    form.hidden = false;
    if (addBtn) addBtn.hidden = true;
    form.scrollIntoView({ block: 'nearest' });
    inp.name.focus();
  }

  function closeForm() {
    form.hidden = true;
    if (addBtn) addBtn.hidden = false;
    const back = editing ? root.querySelector(`tr[data-endpoint-id="${editing.id}"] [data-action=edit-endpoint]`) : addBtn;
    editing = null;
    back?.focus();
  }

  function body() {
    const b = { name: inp.name.value.trim(), base_url: inp.base_url.value.trim(), model: inp.model.value.trim() };
    for (const k of ['max_concurrency', 'timeout_ms', 'retries']) {
      const v = numberOf(inp[k]);
      if (v !== undefined) b[k] = v;
    }
    const params = { ...(editing?.params || {}) };
    for (const k of ['temperature', 'max_tokens']) {
      const v = numberOf(inp[k]);
      if (v === undefined) delete params[k];
      else params[k] = v;
    }
    b.params = params;
    const key = inp.api_key.value;
    if (key) b.api_key = key;
    else if (editing && inp.remove_key.checked) b.api_key = null;
    return b;
  }

  async function save() {
    f.clear();
    const b = body();
    saveBtn.disabled = true;
    try {
      const ep = editing ? (await request('PATCH', `/v1/model-endpoints/${editing.id}`, b)).data : await api.post('/v1/model-endpoints', b);
      if (!alive) return;
      setStatus(editing ? `Endpoint ${ep.name} saved` : `Endpoint ${ep.name} added`, 'ok');
      editing = null;
      form.hidden = true;
      if (addBtn) addBtn.hidden = false;
      await load();
      root.querySelector(`tr[data-endpoint-id="${ep.id}"] th`)?.focus?.();
    } catch (e) {
      if (!alive || e.status === 401) return;
      f.show(e);
    } finally {
      saveBtn.disabled = false;
    }
  }

  async function remove(ep, btn) {
    if (!confirm(`Remove the endpoint ${ep.name}? Generations keep the answers it gave.`)) return;
    btn.disabled = true;
    try {
      await api.del(`/v1/model-endpoints/${ep.id}`);
      if (!alive) return;
      setStatus(`Endpoint ${ep.name} removed`, 'ok');
      if (editing?.id === ep.id) closeForm();
      await load();
    } catch (e) {
      btn.disabled = false;
      if (!alive || e.status === 401) return;
      setStatus(`${ep.name} was not removed: ${e.message}`, 'error');
    }
  }

  function table() {
    if (!items.length)
      return h('p', { class: 'muted', 'data-testid': 'endpoints-empty' }, isAdmin ? 'No endpoint yet. Add one to start generating.' : 'No endpoint yet: an admin has to add one before you can generate.');
    return h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data-table llm-table', 'data-testid': 'endpoints-table' },
        h('caption', { class: 'visually-hidden' }, 'Model endpoints'),
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', { scope: 'col' }, 'Name'),
            h('th', { scope: 'col' }, 'Model'),
            h('th', { scope: 'col' }, 'Base URL'),
            h('th', { scope: 'col' }, 'Key'),
            h('th', { scope: 'col', class: 'num' }, 'Calls at once'),
            h('th', { scope: 'col', class: 'num' }, 'Time-out'),
            h('th', { scope: 'col', class: 'num' }, 'Retries'),
            isAdmin ? h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')) : null,
          ),
        ),
        h(
          'tbody',
          null,
          items.map((ep) =>
            h(
              'tr',
              { 'data-endpoint-id': ep.id, 'data-name': ep.name },
              h('th', { scope: 'row', tabindex: '-1' }, ep.name, h('span', { class: 'llm-sub muted' }, paramsText(ep.params))),
              h('td', { 'data-field': 'model' }, h('code', null, ep.model)),
              h('td', { 'data-field': 'base_url', class: 'llm-url' }, ep.base_url),
              h('td', { 'data-field': 'has_api_key' }, ep.has_api_key ? h('span', { class: 'badge badge-ok' }, 'stored') : h('span', { class: 'muted' }, 'none')),
              h('td', { class: 'num', 'data-field': 'max_concurrency' }, count(ep.max_concurrency)),
              h('td', { class: 'num', 'data-field': 'timeout_ms' }, ms(ep.timeout_ms)),
              h('td', { class: 'num', 'data-field': 'retries' }, count(ep.retries)),
              isAdmin
                ? h(
                    'td',
                    { class: 'row-action' },
                    h('button', { type: 'button', 'data-action': 'edit-endpoint', 'aria-label': `Edit ${ep.name}`, onclick: () => openForm(ep) }, 'Edit'),
                    h('button', { type: 'button', class: 'quiet', 'data-action': 'delete-endpoint', 'aria-label': `Remove ${ep.name}`, onclick: (ev) => remove(ep, ev.currentTarget) }, 'Remove'),
                  )
                : null,
            ),
          ),
        ),
      ),
    );
  }

  async function load() {
    listBox.setAttribute('aria-busy', 'true');
    try {
      const r = await api.get('/v1/model-endpoints');
      if (!alive) return;
      items = Array.isArray(r?.items) ? r.items : [];
      listBox.replaceChildren(table());
    } catch (e) {
      if (!alive || e.status === 401) return;
      listBox.replaceChildren(h('p', { class: 'error', role: 'alert', 'data-testid': 'error' }, `The endpoints could not be loaded: ${e.message} `, h('button', { type: 'button', class: 'quiet', onclick: load }, 'Try again')));
    } finally {
      listBox.setAttribute('aria-busy', 'false');
    }
  }

  load();
  return () => {
    alive = false;
  };
}
