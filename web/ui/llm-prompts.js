// llm-prompts.js -- prompt sets: the list and a new one
// (#/llm/prompt-sets), and one set (#/llm/prompt-sets/ID) with its import
// and a preview of its first prompts.
//
//   GET  /v1/prompt-sets, POST /v1/prompt-sets {name}
//   GET  /v1/prompt-sets/ID                  prompts, with_reference
//   POST /v1/prompt-sets/ID/prompts          a JSON list, or NDJSON
//   GET  /v1/prompt-sets/ID/prompts?limit=   the preview
//
// An import is pasted or read from a .jsonl/.json file.  Text that parses
// as one JSON list (or {"prompts": [...]}) goes as JSON; anything else as
// NDJSON, one prompt a line.  The server checks every prompt before adding
// any; its error names the line (NDJSON: "line 4", or "lines[2].prompt",
// the third prompt line, which this page turns back into the line number
// of the text) or the item ("prompts[1].reference"), shown as such.

import { api } from './api.js';
import { h, sentence } from './dom.js';
import { setStatus } from './status.js';
import { DASH, apiForm, bare, card, count, excerpt, fill, plural, postRaw, promptText, when } from './llm-util.js';

const PREVIEW = 20;

export function renderPromptSets(root) {
  document.title = 'Prompt sets · LLM · Loupe';
  let alive = true;
  const listBox = h('div', { 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading the prompt sets…'));
  const f = apiForm('ps');
  const name = h('input', { type: 'text', autocomplete: 'off', maxlength: 200, 'data-testid': 'ps-name' });
  const createBtn = h('button', { type: 'submit', class: 'primary', 'data-action': 'create-prompt-set' }, 'Create');
  const form = h('form', { class: 'llm-inline-form', novalidate: true, 'data-testid': 'prompt-set-form' }, f.field('name', 'Name of a new set', name), h('div', { class: 'llm-inline-actions' }, createBtn), f.formError);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    f.clear();
    createBtn.disabled = true;
    try {
      const s = await api.post('/v1/prompt-sets', { name: name.value.trim() });
      if (!alive) return;
      setStatus(`Prompt set ${s.name} created`, 'ok');
      location.hash = `#/llm/prompt-sets/${s.id}`;
    } catch (e) {
      if (alive && e.status !== 401) f.show(e);
    } finally {
      createBtn.disabled = false;
    }
  });

  root.replaceChildren(
    card('prompt-sets', 'Prompt sets', h('p', { class: 'muted' }, 'Lists of prompts to send to the models. A set whose prompts have reference answers is an evaluation set: its answers get exact match and F1.'), listBox),
    card('new-prompt-set', 'New prompt set', form),
  );

  (async () => {
    try {
      const r = await api.get('/v1/prompt-sets');
      if (!alive) return;
      const items = Array.isArray(r?.items) ? r.items : [];
      listBox.replaceChildren(
        items.length
          ? h(
              'div',
              { class: 'table-wrap' },
              h(
                'table',
                { class: 'data-table llm-table', 'data-testid': 'prompt-sets-table' },
                h('caption', { class: 'visually-hidden' }, 'Prompt sets'),
                h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col', class: 'num' }, 'Prompts'), h('th', { scope: 'col', class: 'num' }, 'With references'), h('th', { scope: 'col' }, 'Created'))),
                h(
                  'tbody',
                  null,
                  items.map((s) =>
                    h(
                      'tr',
                      { 'data-prompt-set-id': s.id },
                      h('th', { scope: 'row' }, h('a', { href: `#/llm/prompt-sets/${s.id}` }, s.name)),
                      h('td', { class: 'num', 'data-field': 'prompts' }, count(s.prompts)),
                      h('td', { class: 'num', 'data-field': 'with_reference' }, count(s.with_reference)),
                      h('td', null, when(s.created_at)),
                    ),
                  ),
                ),
              ),
            )
          : h('p', { class: 'muted', 'data-testid': 'prompt-sets-empty' }, 'No prompt set yet: create one below, then import its prompts.'),
      );
    } catch (e) {
      if (alive && e.status !== 401) listBox.replaceChildren(h('p', { class: 'error', role: 'alert', 'data-testid': 'error' }, `The prompt sets could not be loaded: ${e.message}`));
    } finally {
      listBox.setAttribute('aria-busy', 'false');
    }
  })();
  return () => {
    alive = false;
  };
}

/* How the text is sent: {body, type, lines} where lines maps the i-th
 * prompt line of NDJSON to its line number in the text. */
function encode(text) {
  const t = text.trim();
  try {
    const v = JSON.parse(t);
    if (Array.isArray(v) || (v && typeof v === 'object' && Array.isArray(v.prompts))) return { body: t, type: 'application/json', json: true };
  } catch {
    /* NDJSON */
  }
  const lines = [];
  text.split('\n').forEach((l, i) => {
    if (l.trim()) lines.push(i + 1);
  });
  return { body: text, type: 'application/x-ndjson', json: false, lines };
}

/* The API's field as a person reads it: "Line 4", "Line 7 (prompt)",
 * "Item 2 (reference)". */
function where(field, enc) {
  if (!field) return null;
  let m = /^line (\d+)$/.exec(field);
  if (m) return `Line ${m[1]}`;
  m = /^(lines|prompts|)\[(\d+)\](?:\.(.+))?$/.exec(field);
  if (m) {
    const i = Number(m[2]);
    const rest = m[3] ? ` (${m[3]})` : '';
    if (m[1] === 'lines' && enc.lines) return `Line ${enc.lines[i] ?? i + 1}${rest}`;
    return `Item ${i + 1}${rest}`;
  }
  return field;
}

function referenceText(r) {
  if (r === null || r === undefined) return null;
  return Array.isArray(r) ? r.join(' | ') : String(r);
}

export function renderPromptSet(root, { id }) {
  document.title = 'Prompt set · LLM · Loupe';
  let alive = true;
  const base = `/v1/prompt-sets/${encodeURIComponent(id)}`;
  const title = h('h2', { id: 'ps-title', 'data-testid': 'prompt-set-name' }, 'Loading…');
  const facts = h('p', { class: 'muted', 'data-testid': 'prompt-set-counts' });
  const text = h('textarea', { id: 'ps-import', rows: 8, spellcheck: 'false', class: 'llm-code', 'data-testid': 'ps-import-text', placeholder: '{"prompt": "Capital of France?", "reference": ["Paris"]}\n{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]}' });
  const file = h('input', { type: 'file', id: 'ps-file', accept: '.jsonl,.ndjson,.json,application/json', 'data-testid': 'ps-import-file' });
  const fileNote = h('span', { class: 'muted', 'aria-live': 'polite' });
  const importBtn = h('button', { type: 'submit', class: 'primary', 'data-action': 'import-prompts' }, 'Import');
  const result = h('p', { class: 'note', role: 'status', hidden: true, 'data-testid': 'ps-import-result' });
  const importError = h('p', { class: 'error', role: 'alert', hidden: true, 'data-testid': 'ps-import-error' });
  const preview = h('div', { 'data-testid': 'ps-preview', 'aria-busy': 'true' });
  const genLink = h('a', { class: 'button', href: `#/llm/generations?set=${encodeURIComponent(id)}`, 'data-action': 'generate-from-set', hidden: true }, 'Start a generation with this set');

  file.addEventListener('change', async () => {
    const fl = file.files?.[0];
    if (!fl) return;
    text.value = await fl.text();
    fileNote.textContent = `${fl.name}: ${plural(text.value.split('\n').filter((l) => l.trim()).length, 'line')} read.`;
  });

  const form = h(
    'form',
    { novalidate: true, 'data-testid': 'ps-import-form' },
    h('div', { class: 'pf-field' }, h('label', { for: 'ps-import' }, 'Prompts'), h('p', { class: 'pf-help', id: 'ps-import-help' }, 'One JSON object a line (NDJSON), or one JSON list. Each is {"prompt": "…"} with an optional "system", or {"messages": [...]} ending with a user message; optionally "unique_id", "reference" (an answer or a list) and "metadata".'), text),
    h('div', { class: 'pf-field llm-file' }, h('label', { for: 'ps-file' }, 'Or read a file (.jsonl or .json)'), file, fileNote),
    importError,
    h('div', { class: 'form-actions' }, importBtn, genLink),
    result,
  );
  text.setAttribute('aria-describedby', 'ps-import-help');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    doImport();
  });

  root.replaceChildren(
    h('p', { class: 'llm-back' }, h('a', { href: '#/llm/prompt-sets' }, '← Prompt sets')),
    h('section', { class: 'card panel llm-card', 'data-testid': 'prompt-set', 'aria-labelledby': 'ps-title' }, title, facts),
    card('ps-import-card', 'Import prompts', form),
    card('ps-preview-card', 'First prompts', preview),
  );

  async function doImport() {
    importError.hidden = true;
    result.hidden = true;
    text.removeAttribute('aria-invalid');
    if (!text.value.trim()) {
      importError.textContent = 'Paste some prompts, or choose a file.';
      importError.hidden = false;
      text.focus();
      return;
    }
    const enc = encode(text.value);
    importBtn.disabled = true;
    setStatus('Importing the prompts…', 'busy');
    try {
      const r = await postRaw(`${base}/prompts`, enc.body, enc.type);
      if (!alive) return;
      result.textContent = `Added ${plural(r.added, 'prompt')}${r.existing ? `; ${count(r.existing)} already in the set (same unique_id) left as they were` : ''}.`;
      result.hidden = false;
      setStatus(`${plural(r.added, 'prompt')} imported`, 'ok');
      text.value = '';
      file.value = '';
      fileNote.textContent = '';
      await load();
    } catch (e) {
      if (!alive || e.status === 401) return;
      // "line 2 is not JSON: ..." names its line already.
      const at = /^line \d+$/.test(e.field || '') ? null : where(e.field, enc);
      importError.textContent = `Nothing was imported. ${at ? `${at}: ` : ''}${sentence(bare(e.message, e.field))}`;
      importError.hidden = false;
      text.setAttribute('aria-invalid', 'true');
      setStatus('The prompts were not imported', 'error');
    } finally {
      importBtn.disabled = false;
    }
  }

  function previewTable(items) {
    if (!items.length) return h('p', { class: 'muted', 'data-testid': 'ps-preview-empty' }, 'No prompt yet: import some above.');
    return h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data-table llm-table' },
        h('caption', { class: 'visually-hidden' }, `The first ${PREVIEW} prompts`),
        h('thead', null, h('tr', null, h('th', { scope: 'col', class: 'num' }, 'ID'), h('th', { scope: 'col' }, 'Unique ID'), h('th', { scope: 'col' }, 'Prompt'), h('th', { scope: 'col' }, 'Reference'))),
        h(
          'tbody',
          null,
          items.map((p) => {
            const msgs = Array.isArray(p.messages) ? p.messages : [];
            const sys = msgs.find((m) => m.role === 'system');
            const turns = msgs.filter((m) => m.role === 'user').length;
            return h(
              'tr',
              { 'data-prompt-id': p.id },
              h('td', { class: 'num' }, String(p.id)),
              h('td', null, p.unique_id ? h('code', null, p.unique_id) : h('span', { class: 'muted' }, DASH)),
              h(
                'td',
                { class: 'llm-text', 'data-field': 'prompt' },
                excerpt(promptText(p), 200),
                sys || turns > 1 ? h('span', { class: 'llm-sub muted' }, [sys ? `system: ${excerpt(sys.content, 60)}` : null, turns > 1 ? `${turns} user turns` : null].filter(Boolean).join(' · ')) : null,
              ),
              h('td', { class: 'llm-text', 'data-field': 'reference' }, referenceText(p.reference) ?? h('span', { class: 'muted' }, DASH)),
            );
          }),
        ),
      ),
    );
  }

  async function load() {
    preview.setAttribute('aria-busy', 'true');
    try {
      const [s, page] = await Promise.all([api.get(base), api.get(`${base}/prompts?limit=${PREVIEW}`)]);
      if (!alive) return;
      title.textContent = s.name;
      document.title = `${s.name} · Prompt sets · Loupe`;
      facts.textContent = `${plural(s.prompts, 'prompt')}, ${count(s.with_reference)} with reference answers.`;
      facts.dataset.prompts = s.prompts;
      genLink.hidden = !s.prompts;
      const items = Array.isArray(page?.items) ? page.items : [];
      fill(preview, previewTable(items), s.prompts > items.length ? h('p', { class: 'muted' }, `The first ${count(items.length)} of ${count(s.prompts)}.`) : null);
    } catch (e) {
      if (!alive || e.status === 401) return;
      title.textContent = 'Prompt set';
      preview.replaceChildren(h('p', { class: 'error', role: 'alert', 'data-testid': 'error' }, `The prompt set could not be loaded: ${e.message}`));
    } finally {
      preview.setAttribute('aria-busy', 'false');
    }
  }

  load();
  return () => {
    alive = false;
  };
}
