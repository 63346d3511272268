// llm-generation.js -- #/llm/generations/ID: one generation, refreshed while
// it runs: its progress, per endpoint (outputs by state, mean latency,
// tokens and, for an evaluation set, exact match and F1 with their standard
// errors), the latest errors, cancel and retry, a paged table of its
// outputs, and "Make tasks" into a comparison, ranking, rating or textcollection project
// the caller manages.
//
//   GET  /v1/generations/ID                     progress, per endpoint, errors
//   GET  /v1/generations/ID/outputs?state=&limit=&next_token=
//   POST /v1/generations/ID/cancel | retry
//   GET  /v1/prompt-sets/SET                    does it have references?
//   GET  /v1/projects                           projects to make tasks in
//   POST /v1/projects/P/generation-tasks {generation_id, design, pairs_per_prompt, seed}

import { api, getAll } from './api.js';
import { h } from './dom.js';
import { setStatus } from './status.js';
import { LEADERBOARD_KINDS } from './leaderboard.js';
import { DASH, apiForm, card, count, excerpt, fill, ms, numberInput, numberOf, plural, progressBar, score, stateBadge, when } from './llm-util.js';

const REFRESH_MS = 1000;
const PAGE = 20;
const TASK_KINDS = ['comparison', 'ranking', 'rating', 'textcollection'];

export function renderGeneration(root, { id }) {
  document.title = 'Generation · LLM · Loupe';
  let alive = true;
  let timer = null;
  let gen = null;
  let set = null;
  let loading = null;
  const base = `/v1/generations/${encodeURIComponent(id)}`;

  const title = h('h2', { id: 'gen-title', 'data-testid': 'generation-name' }, `Generation ${id}`);
  const badge = h('span', { class: 'llm-state' });
  const cancelBtn = h('button', { type: 'button', 'data-action': 'cancel-generation', hidden: true, onclick: () => act('cancel') }, 'Cancel');
  const retryBtn = h('button', { type: 'button', 'data-action': 'retry-failed', hidden: true, onclick: () => act('retry') }, 'Retry failed');
  const facts = h('p', { class: 'muted', 'data-testid': 'generation-facts' });
  const progress = h('div', { 'data-testid': 'generation-progress' });
  const error = h('p', { class: 'error', role: 'alert', hidden: true, 'data-testid': 'error' });
  const perBox = h('div', { 'data-testid': 'per-endpoint' });
  const errBox = h('div', { 'data-testid': 'gen-errors' });

  // ---- outputs ----
  const stateFilter = h(
    'select',
    { id: 'out-state', 'data-testid': 'outputs-state' },
    h('option', { value: '' }, 'all'),
    h('option', { value: 'done' }, 'done'),
    h('option', { value: 'failed' }, 'failed'),
    h('option', { value: 'waiting' }, 'waiting'),
  );
  const outBox = h('div', { 'data-testid': 'outputs', 'aria-busy': 'true' });
  const prevBtn = h('button', { type: 'button', 'data-action': 'outputs-prev', disabled: true, onclick: () => page(-1) }, '← Previous');
  const nextBtn = h('button', { type: 'button', 'data-action': 'outputs-next', disabled: true, onclick: () => page(1) }, 'Next →');
  const pageNote = h('span', { class: 'muted', 'data-testid': 'outputs-page' });
  let tokens = [null]; // next_token of each page shown so far; the last is the current page's
  let nextToken = null;
  stateFilter.addEventListener('change', () => {
    tokens = [null];
    loadOutputs();
  });

  // ---- make tasks ----
  const tf = apiForm('mt');
  const projSelect = h('select', { 'data-testid': 'mt-project' });
  const design = h('select', { 'data-testid': 'mt-design' }, h('option', { value: 'all_pairs' }, 'every pair of answers'), h('option', { value: 'sampled' }, 'sampled pairs'));
  const perPrompt = numberInput({ min: 1, step: 1, value: 2, 'data-testid': 'mt-pairs' });
  const seedIn = numberInput({ min: 0, step: 1, placeholder: 'random', 'data-testid': 'mt-seed' });
  const designField = tf.field('design', 'Design', design, 'Every pair, or a few drawn at random for each prompt.');
  const perField = tf.field('pairs_per_prompt', 'Pairs per prompt', perPrompt);
  const split = h('select', { 'data-testid': 'mt-split' }, h('option', { value: 'items' }, 'each item the model listed'), h('option', { value: 'whole' }, 'the whole answer'));
  const splitField = tf.field('split', 'Drafts', split, 'A list of questions becomes one draft per question.');
  const makeBtn = h('button', { type: 'submit', class: 'primary', 'data-action': 'make-tasks' }, 'Make tasks');
  const made = h('div', { class: 'note', role: 'status', hidden: true, 'data-testid': 'mt-result' });
  const kindHelp = h('p', { class: 'muted', 'data-testid': 'mt-kind-help' });
  const tasksForm = h(
    'form',
    { novalidate: true, 'data-testid': 'make-tasks-form' },
    h('div', { class: 'llm-grid' }, tf.field('project', 'Project', projSelect), tf.field('seed', 'Seed', seedIn, 'The same seed draws the same design; empty: a random one, shown after.')),
    kindHelp,
    h('div', { class: 'llm-grid' }, designField, perField, splitField),
    tf.formError,
    h('div', { class: 'form-actions' }, makeBtn),
    made,
  );
  const tasksBox = h('div', null, h('p', { class: 'muted' }, 'Loading your projects…'));
  let projects = [];
  projSelect.addEventListener('change', drawKind);
  design.addEventListener('change', drawKind);
  tasksForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    makeTasks();
  });

  root.replaceChildren(
    h('p', { class: 'llm-back' }, h('a', { href: '#/llm/generations' }, '← Generations')),
    h(
      'section',
      { class: 'card panel llm-card', 'data-testid': 'generation', 'aria-labelledby': 'gen-title' },
      h('div', { class: 'llm-card-head' }, h('div', { class: 'dash-title' }, title, badge), h('div', { class: 'ws-tools' }, cancelBtn, retryBtn)),
      facts,
      progress,
      error,
    ),
    card('per-endpoint-card', 'By endpoint', perBox),
    card('errors-card', 'Latest errors', errBox),
    card('outputs-card', 'Outputs', h('div', { class: 'llm-toolbar' }, h('label', { for: 'out-state' }, 'State'), stateFilter, h('span', { class: 'llm-spacer' }), pageNote, prevBtn, nextBtn), outBox),
    card('make-tasks', 'Make tasks', h('p', { class: 'muted' }, 'Turn the finished answers into tasks for people: comparison (pairs), ranking (all answers to a prompt), rating (one answer a task), or drafts to keep, fix or reject (text collection). Annotators never see which model wrote what; asking again adds only what is missing.'), tasksBox),
  );

  const nameOf = (epId) => gen?.per_endpoint?.find((e) => e.endpoint_id === epId)?.name || `#${epId}`;

  /* ---- the generation ---- */

  function drawPer(g) {
    const rows = Array.isArray(g.per_endpoint) ? g.per_endpoint : [];
    const refs = (set?.with_reference ?? 0) > 0 || rows.some((r) => Number.isFinite(r.exact_match));
    if (!rows.length) return perBox.replaceChildren(h('p', { class: 'muted' }, 'No output yet.'));
    fill(
      perBox,
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'data-table llm-table' },
          h('caption', { class: 'visually-hidden' }, 'Outputs by endpoint'),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', { scope: 'col' }, 'Endpoint'),
              h('th', { scope: 'col', class: 'num' }, 'Done'),
              h('th', { scope: 'col', class: 'num' }, 'Failed'),
              h('th', { scope: 'col', class: 'num' }, 'Waiting'),
              h('th', { scope: 'col', class: 'num' }, 'Mean latency'),
              h('th', { scope: 'col', class: 'num' }, 'Tokens in / out'),
              refs ? h('th', { scope: 'col', class: 'num' }, h('abbr', { title: 'exact match, in %, ± its standard error' }, 'EM')) : null,
              refs ? h('th', { scope: 'col', class: 'num' }, h('abbr', { title: 'token F1, in %, ± its standard error' }, 'F1')) : null,
            ),
          ),
          h(
            'tbody',
            null,
            rows.map((r) =>
              h(
                'tr',
                { 'data-endpoint-id': r.endpoint_id, 'data-name': r.name },
                h('th', { scope: 'row' }, r.name || `#${r.endpoint_id}`, r.model && r.model !== r.name ? h('span', { class: 'llm-sub muted' }, r.model) : null),
                h('td', { class: 'num', 'data-field': 'done' }, count(r.done)),
                h('td', { class: 'num', 'data-field': 'failed' }, count(r.failed)),
                h('td', { class: 'num', 'data-field': 'waiting' }, count(r.waiting)),
                h('td', { class: 'num', 'data-field': 'latency' }, ms(r.mean_latency_ms)),
                h('td', { class: 'num', 'data-field': 'tokens' }, Number.isFinite(r.prompt_tokens) ? `${count(r.prompt_tokens)} / ${count(r.completion_tokens)}` : DASH),
                refs ? h('td', { class: 'num', 'data-field': 'exact_match' }, score(r.exact_match, r.exact_match_se)) : null,
                refs ? h('td', { class: 'num', 'data-field': 'f1' }, score(r.f1, r.f1_se)) : null,
              ),
            ),
          ),
        ),
      ),
      refs ? h('p', { class: 'muted' }, 'Exact match and F1 against the prompts’ references (SQuAD’s normalisation, the best over the references), in percent, ± one standard error.') : null,
    );
  }

  function drawErrors(g) {
    const errs = Array.isArray(g.errors) ? g.errors : [];
    if (!errs.length) return errBox.replaceChildren(h('p', { class: 'muted', 'data-testid': 'gen-errors-none' }, 'No errors.'));
    errBox.replaceChildren(
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'data-table llm-table' },
          h('caption', { class: 'visually-hidden' }, 'The latest errors'),
          h('thead', null, h('tr', null, ...['Output', 'Prompt', 'Endpoint', 'State', 'Attempts', 'Error', 'When'].map((t) => h('th', { scope: 'col' }, t)))),
          h(
            'tbody',
            null,
            errs.map((e) =>
              h('tr', { 'data-output-id': e.output_id }, h('td', null, String(e.output_id)), h('td', null, String(e.prompt_id)), h('td', null, nameOf(e.endpoint_id)), h('td', null, e.state), h('td', { class: 'num' }, count(e.attempts)), h('td', { class: 'llm-error-text' }, e.error), h('td', null, when(e.at))),
            ),
          ),
        ),
      ),
    );
  }

  function draw(g) {
    gen = g;
    title.textContent = g.name || `Generation ${g.id}`;
    document.title = `${title.textContent} · Generations · Loupe`;
    badge.replaceChildren(stateBadge(g.state));
    const o = g.outputs || {};
    const p = g.params && Object.keys(g.params).length ? Object.entries(g.params).map(([k, v]) => `${k.replace(/_/g, ' ')} ${v}`).join(', ') : 'the endpoints’ defaults';
    fill(
      facts,
      set ? ['Prompt set ', h('a', { href: `#/llm/prompt-sets/${set.id}` }, set.name), ', '] : `Prompt set ${g.prompt_set_id}, `,
      `${plural(g.samples ?? 1, 'sample')} per prompt and endpoint, ${p}. Started ${when(g.created_at)}.`,
    );
    progress.replaceChildren(progressBar(o, { wide: true }));
    cancelBtn.hidden = g.state !== 'running' || !(o.waiting > 0);
    retryBtn.hidden = !(o.failed > 0);
    drawPer(g);
    drawErrors(g);
  }

  async function load() {
    if (loading) return loading;
    loading = (async () => {
      try {
        const g = await api.get(base);
        if (!alive) return;
        if (!set) set = await api.get(`/v1/prompt-sets/${g.prompt_set_id}`).catch(() => null);
        if (!alive) return;
        const was = gen?.state;
        const moved = !gen || gen.outputs?.done !== g.outputs?.done || gen.outputs?.failed !== g.outputs?.failed;
        error.hidden = true;
        draw(g);
        if (moved || was !== g.state) await loadOutputs({ quiet: true });
        if (was === 'running' && g.state === 'done') setStatus(`Generation ${g.id} done: ${plural(g.outputs.done, 'answer')}, ${count(g.outputs.failed)} failed`, 'ok');
        clearTimeout(timer);
        if (g.state === 'running') timer = setTimeout(load, REFRESH_MS);
      } catch (e) {
        if (!alive || e.status === 401) return;
        error.textContent = gen ? `Could not refresh: ${e.message}` : e.message;
        error.hidden = false;
        clearTimeout(timer);
        if (gen && e.status !== 404) timer = setTimeout(load, REFRESH_MS * 5);
      } finally {
        loading = null;
      }
    })();
    return loading;
  }

  async function act(what) {
    const btn = what === 'cancel' ? cancelBtn : retryBtn;
    btn.disabled = true;
    try {
      const g = await api.post(`${base}/${what}`);
      if (!alive) return;
      setStatus(what === 'cancel' ? 'Generation cancelled: the waiting outputs stay unsent' : `${plural(g.requeued ?? 0, 'failed output')} queued again`, 'ok');
      gen = null; // redraw everything, outputs included
      draw(g);
      await loadOutputs({ quiet: true });
      clearTimeout(timer);
      if (g.state === 'running') timer = setTimeout(load, REFRESH_MS);
    } catch (e) {
      if (alive && e.status !== 401) setStatus(`${what === 'cancel' ? 'Not cancelled' : 'Not retried'}: ${e.message}`, 'error');
    } finally {
      btn.disabled = false;
    }
  }

  /* ---- outputs ---- */

  function outputsTable(items) {
    if (!items.length) return h('p', { class: 'muted', 'data-testid': 'outputs-empty' }, stateFilter.value ? `No ${stateFilter.value} output.` : 'No output.');
    const refs = items.some((o) => Number.isFinite(o.exact_match) || Number.isFinite(o.f1));
    return h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data-table llm-table llm-outputs' },
        h('caption', { class: 'visually-hidden' }, 'Outputs'),
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', { scope: 'col', class: 'num' }, 'Prompt'),
            h('th', { scope: 'col' }, 'Endpoint'),
            h('th', { scope: 'col' }, 'State'),
            h('th', { scope: 'col' }, 'Answer'),
            h('th', { scope: 'col', class: 'num' }, 'Latency'),
            h('th', { scope: 'col', class: 'num' }, 'Tokens'),
            refs ? h('th', { scope: 'col', class: 'num' }, 'EM / F1') : null,
          ),
        ),
        h(
          'tbody',
          null,
          items.map((o) =>
            h(
              'tr',
              { 'data-output-id': o.id, 'data-state': o.state },
              h('td', { class: 'num', 'data-field': 'prompt_id' }, String(o.prompt_id), o.sample ? h('span', { class: 'llm-sub muted' }, `sample ${o.sample}`) : null),
              h('td', { 'data-field': 'endpoint' }, nameOf(o.endpoint_id)),
              h('td', { 'data-field': 'state' }, h('span', { class: `badge ${o.state === 'done' ? 'badge-ok' : o.state === 'failed' ? 'badge-error' : ''}` }, o.state), o.attempts > 1 ? h('span', { class: 'llm-sub muted' }, `${o.attempts} attempts`) : null),
              h(
                'td',
                { class: 'llm-text', 'data-field': 'content' },
                o.content !== null && o.content !== undefined ? h('span', { title: o.content.length > 200 ? o.content : null }, excerpt(o.content, 200)) : null,
                o.error ? h('span', { class: 'llm-error-text', 'data-field': 'error' }, o.error) : null,
                o.content === null && !o.error ? h('span', { class: 'muted' }, DASH) : null,
              ),
              h('td', { class: 'num', 'data-field': 'latency' }, ms(o.latency_ms)),
              h('td', { class: 'num', 'data-field': 'tokens' }, Number.isFinite(o.completion_tokens) ? `${count(o.prompt_tokens)} / ${count(o.completion_tokens)}` : DASH),
              refs ? h('td', { class: 'num', 'data-field': 'em_f1' }, Number.isFinite(o.exact_match) ? `${o.exact_match ? 1 : 0} / ${o.f1.toFixed(2)}` : DASH) : null,
            ),
          ),
        ),
      ),
    );
  }

  async function loadOutputs({ quiet = false } = {}) {
    const token = tokens[tokens.length - 1];
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (stateFilter.value) q.set('state', stateFilter.value);
    if (token) q.set('next_token', token);
    if (!quiet) outBox.setAttribute('aria-busy', 'true');
    try {
      const r = await api.get(`${base}/outputs?${q}`);
      if (!alive) return;
      const items = Array.isArray(r?.items) ? r.items : [];
      nextToken = r?.next_token || null;
      outBox.replaceChildren(outputsTable(items));
      prevBtn.disabled = tokens.length <= 1;
      nextBtn.disabled = !nextToken;
      pageNote.textContent = items.length ? `Page ${tokens.length}` : '';
    } catch (e) {
      if (alive && e.status !== 401) outBox.replaceChildren(h('p', { class: 'error', role: 'alert' }, `The outputs could not be loaded: ${e.message}`));
    } finally {
      outBox.setAttribute('aria-busy', 'false');
    }
  }

  function page(dir) {
    if (dir > 0 && nextToken) tokens.push(nextToken);
    else if (dir < 0 && tokens.length > 1) tokens.pop();
    else return;
    loadOutputs();
  }

  /* ---- make tasks ---- */

  function drawKind() {
    const p = projects.find((x) => String(x.id) === projSelect.value);
    const cmp = p?.kind === 'comparison';
    splitField.hidden = p?.kind !== 'textcollection';
    designField.hidden = !cmp;
    perField.hidden = !cmp || design.value !== 'sampled';
    kindHelp.textContent = !p
      ? ''
      : cmp
        ? 'Comparison: pairs of answers from different endpoints to the same prompt, the left one drawn at random.'
        : p.kind === 'ranking'
          ? 'Ranking: one task per prompt with all its answers, shuffled.'
          : p.kind === 'textcollection'
            ? 'Drafts to review: each becomes a task that people keep, fix or reject (the project should allow rejecting); the draft report counts the outcome per template and model.'
            : 'Rating: one task per answer.';
  }

  function drawTasksForm() {
    if (!projects.length) {
      tasksBox.replaceChildren(h('p', { class: 'muted', 'data-testid': 'mt-none' }, 'You manage no comparison, ranking, rating or text collection project. ', h('a', { href: '#/projects/new' }, 'Create one'), ', then come back.'));
      return;
    }
    projSelect.replaceChildren(...projects.map((p) => h('option', { value: p.id }, `${p.name} (${p.kind})`)));
    drawKind();
    tasksBox.replaceChildren(tasksForm);
  }

  async function loadProjects() {
    try {
      const all = await getAll('/v1/projects?limit=100');
      if (!alive) return;
      projects = all.filter((p) => TASK_KINDS.includes(p.kind) && (!p.role || p.role === 'manager'));
      drawTasksForm();
    } catch (e) {
      if (alive && e.status !== 401) tasksBox.replaceChildren(h('p', { class: 'error', role: 'alert' }, `Your projects could not be loaded: ${e.message}`));
    }
  }

  async function makeTasks() {
    tf.clear();
    made.hidden = true;
    const p = projects.find((x) => String(x.id) === projSelect.value);
    if (!p) return;
    const body = { generation_id: Number(id) };
    if (p.kind === 'textcollection') body.split = split.value;
    if (p.kind === 'comparison') {
      body.design = design.value;
      if (design.value === 'sampled') body.pairs_per_prompt = numberOf(perPrompt);
    }
    const seed = numberOf(seedIn);
    if (seed !== undefined) body.seed = seed;
    makeBtn.disabled = true;
    try {
      const r = await api.post(`/v1/projects/${p.id}/generation-tasks`, body);
      if (!alive) return;
      const pid = encodeURIComponent(p.id);
      fill(
        made,
        h('p', null, h('strong', { 'data-testid': 'mt-created', 'data-value': r.created }, `${plural(r.created, 'task')} created`), ` in ${p.name}`, r.existing ? `, ${count(r.existing)} already there` : '', ` (seed ${r.seed}).`),
        h(
          'p',
          { class: 'llm-links' },
          h('a', { href: `#/projects/${pid}/tasks`, 'data-testid': 'mt-project-link' }, 'The project’s tasks'),
          h('a', { href: `#/projects/${pid}/queue` }, 'Start labeling'),
          LEADERBOARD_KINDS.includes(p.kind) ? h('a', { href: `#/projects/${pid}/leaderboard`, 'data-testid': 'mt-leaderboard-link' }, 'Leaderboard') : null,
        ),
      );
      made.hidden = false;
      seedIn.placeholder = `random (last: ${r.seed})`;
      setStatus(`${plural(r.created, 'task')} created in ${p.name}`, 'ok');
    } catch (e) {
      if (alive && e.status !== 401) tf.show(e);
    } finally {
      makeBtn.disabled = false;
    }
  }

  load();
  loadProjects();
  return () => {
    alive = false;
    clearTimeout(timer);
  };
}
