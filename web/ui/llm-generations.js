// llm-generations.js -- #/llm/generations: start a generation (a prompt set
// sent to one or more endpoints) and the list of the caller's generations
// with their state and progress, refreshed while any is running.
//
//   GET  /v1/prompt-sets, GET /v1/model-endpoints   the form's choices
//   POST /v1/generations {prompt_set_id, endpoints, samples, params, name}
//   GET  /v1/generations                            newest first
//
// #/llm/generations?set=ID picks that prompt set in the form.

import { api } from './api.js';
import { h } from './dom.js';
import { setStatus } from './status.js';
import { DASH, apiForm, card, numberInput, numberOf, plural, progressBar, stateBadge, when } from './llm-util.js';

const REFRESH_MS = 1500;

export function renderGenerations(root) {
  document.title = 'Generations · LLM · Loupe';
  let alive = true;
  let timer = null;
  let sets = [];
  let endpoints = [];

  const f = apiForm('gen');
  const setSelect = h('select', { 'data-testid': 'gen-prompt-set' });
  const epBox = h('div', { class: 'llm-checks', role: 'group', 'aria-labelledby': 'gen-endpoints-label', 'data-testid': 'gen-endpoints' });
  const epError = h('p', { class: 'pf-field-error', role: 'alert', hidden: true, 'data-testid': 'gen-error-endpoints' });
  const inp = {
    name: h('input', { type: 'text', autocomplete: 'off', maxlength: 200, placeholder: 'optional', 'data-testid': 'gen-name' }),
    samples: numberInput({ min: 1, max: 20, step: 1, value: 1, 'data-testid': 'gen-samples' }),
    temperature: numberInput({ min: 0, max: 2, step: 0.1, placeholder: 'endpoint’s', 'data-testid': 'gen-temperature' }),
    max_tokens: numberInput({ min: 1, step: 1, placeholder: 'endpoint’s', 'data-testid': 'gen-max-tokens' }),
    seed: numberInput({ step: 1, placeholder: 'none', 'data-testid': 'gen-seed' }),
  };
  const startBtn = h('button', { type: 'submit', class: 'primary', 'data-action': 'start-generation' }, 'Start');
  const formBox = h('div', null, h('p', { class: 'muted' }, 'Loading the prompt sets and endpoints…'));
  const form = h(
    'form',
    { novalidate: true, 'data-testid': 'generation-form' },
    h('div', { class: 'llm-grid' }, f.field('prompt_set_id', 'Prompt set', setSelect), f.field('name', 'Name', inp.name)),
    h('div', { class: 'pf-field' }, h('span', { class: 'pf-label', id: 'gen-endpoints-label' }, 'Endpoints'), epBox, epError),
    h(
      'div',
      { class: 'llm-grid llm-grid-4' },
      f.field('samples', 'Samples', inp.samples, 'Answers per prompt and endpoint, 1 to 20.'),
      f.field('params.temperature', 'Temperature', inp.temperature, 'Over each endpoint’s default.'),
      f.field('params.max_tokens', 'Max tokens', inp.max_tokens, 'Over each endpoint’s default.'),
      f.field('params.seed', 'Seed', inp.seed, 'Moves on by the sample’s number.'),
    ),
    f.formError,
    h('div', { class: 'form-actions' }, startBtn),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    start();
  });

  const listBox = h('div', { 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading the generations…'));
  root.replaceChildren(card('new-generation', 'Start a generation', formBox), card('generations', 'Generations', listBox));

  function drawForm() {
    if (!sets.length || !endpoints.length) {
      formBox.replaceChildren(
        h(
          'p',
          { class: 'muted', 'data-testid': 'gen-form-missing' },
          !sets.length ? ['A generation needs a prompt set: ', h('a', { href: '#/llm/prompt-sets' }, 'make one'), '.'] : null,
          !sets.length && !endpoints.length ? ' ' : null,
          !endpoints.length ? ['It needs a model endpoint too: ', h('a', { href: '#/llm/endpoints' }, 'see the endpoints'), '.'] : null,
        ),
      );
      return;
    }
    const want = new URLSearchParams(location.hash.split('?')[1] || '').get('set');
    setSelect.replaceChildren(...sets.map((s) => h('option', { value: s.id, selected: String(s.id) === want }, `${s.name} (${plural(s.prompts, 'prompt')})`)));
    epBox.replaceChildren(
      ...endpoints.map((e) =>
        h('label', { class: 'llm-check' }, h('input', { type: 'checkbox', value: e.id, name: 'endpoints', 'data-endpoint-name': e.name }), h('span', null, e.name), h('span', { class: 'muted' }, ` ${e.model}`)),
      ),
    );
    formBox.replaceChildren(form);
  }

  async function start() {
    f.clear();
    epError.hidden = true;
    const eps = [...epBox.querySelectorAll('input:checked')].map((c) => Number(c.value));
    if (!eps.length) {
      epError.textContent = 'Pick at least one endpoint.';
      epError.hidden = false;
      epBox.querySelector('input')?.focus();
      return;
    }
    const body = { prompt_set_id: Number(setSelect.value), endpoints: eps };
    const samples = numberOf(inp.samples);
    if (samples !== undefined) body.samples = samples;
    if (inp.name.value.trim()) body.name = inp.name.value.trim();
    const params = {};
    for (const k of ['temperature', 'max_tokens', 'seed']) {
      const v = numberOf(inp[k]);
      if (v !== undefined) params[k] = v;
    }
    if (Object.keys(params).length) body.params = params;
    startBtn.disabled = true;
    try {
      const g = await api.post('/v1/generations', body);
      if (!alive) return;
      setStatus(`Generation ${g.id} started: ${plural(g.outputs?.total ?? 0, 'output')} to make`, 'ok');
      location.hash = `#/llm/generations/${g.id}`;
    } catch (e) {
      if (!alive || e.status === 401) return;
      if (e.field && /^endpoints/.test(e.field)) {
        epError.textContent = e.message;
        epError.hidden = false;
      } else f.show(e);
    } finally {
      startBtn.disabled = false;
    }
  }

  function listTable(items) {
    if (!items.length) return h('p', { class: 'muted', 'data-testid': 'generations-empty' }, 'No generation yet.');
    const setName = new Map(sets.map((s) => [s.id, s.name]));
    return h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data-table llm-table', 'data-testid': 'generations-table' },
        h('caption', { class: 'visually-hidden' }, 'Generations, newest first'),
        h(
          'thead',
          null,
          h('tr', null, h('th', { scope: 'col' }, 'Generation'), h('th', { scope: 'col' }, 'Prompt set'), h('th', { scope: 'col' }, 'Endpoints'), h('th', { scope: 'col' }, 'State'), h('th', { scope: 'col' }, 'Progress'), h('th', { scope: 'col' }, 'Started')),
        ),
        h(
          'tbody',
          null,
          items.map((g) =>
            h(
              'tr',
              { 'data-generation-id': g.id, 'data-state': g.state },
              h('th', { scope: 'row' }, h('a', { href: `#/llm/generations/${g.id}` }, g.name || `Generation ${g.id}`)),
              h('td', null, setName.get(g.prompt_set_id) ?? `set ${g.prompt_set_id}`),
              h('td', { class: 'llm-eps' }, (g.per_endpoint || []).map((e) => e.name || `#${e.endpoint_id}`).join(', ') || DASH),
              h('td', null, stateBadge(g.state)),
              h('td', { class: 'llm-progress-cell' }, progressBar(g.outputs)),
              h('td', null, when(g.created_at)),
            ),
          ),
        ),
      ),
    );
  }

  async function loadList() {
    try {
      const r = await api.get('/v1/generations');
      if (!alive) return;
      const items = Array.isArray(r?.items) ? r.items : [];
      listBox.replaceChildren(listTable(items));
      clearTimeout(timer);
      if (items.some((g) => g.state === 'running')) timer = setTimeout(loadList, REFRESH_MS);
    } catch (e) {
      if (!alive || e.status === 401) return;
      listBox.replaceChildren(h('p', { class: 'error', role: 'alert', 'data-testid': 'error' }, `The generations could not be loaded: ${e.message} `, h('button', { type: 'button', class: 'quiet', onclick: loadList }, 'Try again')));
    } finally {
      listBox.setAttribute('aria-busy', 'false');
    }
  }

  (async () => {
    try {
      const [s, e] = await Promise.all([api.get('/v1/prompt-sets'), api.get('/v1/model-endpoints')]);
      if (!alive) return;
      sets = Array.isArray(s?.items) ? s.items : [];
      endpoints = Array.isArray(e?.items) ? e.items : [];
      drawForm();
    } catch (e) {
      if (!alive || e.status === 401) return;
      formBox.replaceChildren(h('p', { class: 'error', role: 'alert' }, `The prompt sets and endpoints could not be loaded: ${e.message}`));
    }
    loadList();
  })();

  return () => {
    alive = false;
    clearTimeout(timer);
  };
}
