// project-data.js -- the Import and Export tabs of a project's settings
// (#/projects/ID/settings).  The import uploads the File itself as the body
// (XMLHttpRequest, for its upload progress): the browser streams it,
// nothing is read into memory but the first few bytes (to tell a JSON array
// from NDJSON, or a zip from a document).  Besides Loupe's own tasks, it
// takes labels written by other tools (COCO...: POST .../tasks?format=NAME),
// in the formats GET /v1/kinds lists as the kind's imports.  The export is
// a link to GET /v1/projects/ID/export in one of the formats GET /v1/kinds
// lists for the project's kind.

import { h, append } from './dom.js';
import { api, getAll, csrfToken } from './api.js';
import { setStatus } from './status.js';

const STATUSES = ['pending', 'in_progress', 'review', 'completed', 'canceled', 'gold'];

/* An example task row per kind, for the import help. */
const EXAMPLE_ROWS = {
  categorization: { unique_id: 'review-1', data: { text: 'The parcel came two weeks late.' } },
  imageannotation: { unique_id: 'img-1', attachments: [{ type: 'image', url: 'https://example.com/street.jpg' }] },
  namedentityrecognition: { unique_id: 'doc-1', data: { text: 'Ada Lovelace was born in London.' } },
  transcription: { unique_id: 'clip-1', attachments: [{ type: 'audio', url: 'https://example.com/clip.mp3' }] },
  comparison: { unique_id: 'pair-1', data: { prompt: 'Say hi', responses: ['Hi!', 'Hello there.'] } },
  ranking: { unique_id: 'rank-1', data: { responses: ['A', 'B', 'C'] } },
  rating: { unique_id: 'answer-1', data: { prompt: 'How do I boil an egg?', response: 'Boil it for 8 minutes.' } },
  textcollection: { unique_id: 'prompt-1', data: { prompt: 'Explain photosynthesis to a child.' } },
};

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

const count = (n) => (Number.isFinite(n) ? n.toLocaleString() : '0');

/* ---- import ---- */

/* Reads the first bytes of file to tell a JSON array ('[') from NDJSON
 * ('{' on each line); a .csv file is CSV.  Returns 'json', 'ndjson',
 * 'csv' or null. */
async function sniffFormat(file) {
  if (/\.csv$/i.test(file.name) || file.type === 'text/csv') return 'csv';
  const head = await file.slice(0, 4096).text();
  const c = head.replace(/^\uFEFF/, '').trimStart()[0];
  if (c === '[') return 'json';
  if (c === '{') return 'ndjson';
  if (c === undefined) return /\.(ndjson|jsonl)$/i.test(file.name) ? 'ndjson' : /\.json$/i.test(file.name) ? 'json' : null;
  return null;
}

/* The label formats of other tools (POST .../tasks?format=NAME), as GET
 * /v1/kinds lists them per kind.  docs: the extensions of one document of
 * the format (a .zip is always accepted too); body: what such a document
 * starts with ('json': { or [, 'xml': <, 'text': any text); images: the
 * format names image files (so image_base applies). */
const LABEL_FORMATS = {
  coco: { title: 'COCO', docs: ['.json'], body: 'json', images: true, mime: ['application/json'] },
  yolo: { title: 'YOLO', docs: ['.txt'], body: 'text', images: true, mime: ['text/plain'] },
  voc: { title: 'Pascal VOC', docs: ['.xml'], body: 'xml', images: true, mime: ['application/xml', 'text/xml'] },
  conll: { title: 'CoNLL-2003', docs: ['.conll', '.txt'], body: 'text', images: false, mime: ['text/plain'] },
  labelstudio: { title: 'Label Studio JSON', docs: ['.json'], body: 'json', images: true, mime: ['application/json'] },
};

/* A format this page does not know yet: any document, images possible. */
const labelFormat = (name) => LABEL_FORMATS[name] || { title: name, docs: ['.json', '.txt', '.xml'], body: null, images: true, mime: [] };

const ZIP_TYPES = ['application/zip', 'application/x-zip-compressed'];

/* What a file chosen for label format fmt holds, from its first bytes and
 * name: {zip, type (the Content-Type to send), what (for people)} or
 * {error}. */
async function sniffLabels(file, name) {
  const fmt = labelFormat(name);
  const bytes = new Uint8Array(await file.slice(0, 4096).arrayBuffer());
  const isZip = bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && ((bytes[2] === 3 && bytes[3] === 4) || (bytes[2] === 5 && bytes[3] === 6));
  if (isZip) return { zip: true, type: 'application/zip', what: `a zip (${fmt.title} labels, and images if it holds them)` };
  const ext = (/\.[^./\\]+$/.exec(file.name)?.[0] || '').toLowerCase();
  const accepted = [...fmt.docs, '.zip'].join(', ');
  if (ext === '.zip' || ZIP_TYPES.includes(file.type)) return { error: `${file.name} is named as a zip but is not one (a zip starts with PK): is it damaged, or cut short?` };
  if (bytes.includes(0)) return { error: `${file.name} is not a text file nor a zip: ${fmt.title} labels come as ${accepted}.` };
  const head = new TextDecoder().decode(bytes).replace(/^\uFEFF/, '').trimStart();
  const c = head[0];
  if (c === undefined) return { error: `${file.name} holds no labels: it is blank.` };
  const body = fmt.body || (ext === '.json' ? 'json' : ext === '.xml' ? 'xml' : 'text');
  if (body === 'json' && c !== '{' && c !== '[') return { error: `${file.name} is not JSON (it should start with { or [): ${fmt.title} labels come as ${accepted}.` };
  if (body === 'xml' && c !== '<') return { error: `${file.name} is not XML (it should start with <): ${fmt.title} labels come as ${accepted}.` };
  const type = body === 'json' ? 'application/json' : body === 'xml' ? 'application/xml' : 'text/plain';
  return { zip: false, type, what: `a ${fmt.title} ${body === 'json' ? 'JSON' : body === 'xml' ? 'XML' : 'text'} file` };
}

/* The Loupe tasks choice, and what a file of it looks like. */
const TASKS = 'tasks';
const TASKS_ACCEPT = '.json,.ndjson,.jsonl,.csv,application/json,application/x-ndjson,text/csv';

export function importPanel({ project, imports, onImported, isAlive }) {
  const pid = project.id;
  const formats = (Array.isArray(imports) ? imports : []).filter((f) => f && typeof f.name === 'string' && f.name);
  let source = TASKS; // TASKS or the name of a label format
  let picked = null; // the last file chosen, valid or not
  let file = null; // the file to send, once checked
  let format = null; // for TASKS: 'json', 'ndjson' or 'csv'; for labels: sniffLabels' answer
  let checking = 0; // the last choose() call, so a slow read cannot undo a later one
  let xhr = null;
  const el = h('section', { class: 'pf-panel', 'data-testid': 'import' });
  const fileInput = h('input', { type: 'file', class: 'visually-hidden', tabindex: '-1', 'aria-hidden': 'true', accept: TASKS_ACCEPT, 'data-testid': 'import-file' });
  const chooseBtn = h('button', { type: 'button', 'data-action': 'choose-file', onclick: () => fileInput.click() }, 'Choose a file…');
  const fileInfo = h('p', { class: 'pf-file-info', 'data-testid': 'file-info', hidden: true });
  const dropTitle = h('p', { class: 'pf-drop-title', 'data-testid': 'drop-title' });
  const dropHelp = h('p', { class: 'muted', 'data-testid': 'drop-help' });
  const drop = h('div', { class: 'pf-drop', 'data-testid': 'drop-zone' }, dropTitle, dropHelp, chooseBtn, fileInput, fileInfo);
  for (const type of ['dragenter', 'dragover'])
    drop.addEventListener(type, (ev) => {
      ev.preventDefault();
      drop.classList.add('is-over');
    });
  drop.addEventListener('dragleave', (ev) => {
    if (!drop.contains(ev.relatedTarget)) drop.classList.remove('is-over');
  });
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('is-over');
    const f = ev.dataTransfer?.files?.[0];
    if (f) choose(f);
  });
  fileInput.addEventListener('change', () => {
    if (fileInput.files[0]) choose(fileInput.files[0]);
  });

  /* what the file holds: Loupe tasks or one of the kind's label formats */
  const sourceRadios = [];
  const sourceOption = (value, title, summary) => {
    const id = `pf-import-source-${value}`;
    const r = h('input', { type: 'radio', name: 'pf-import-source', id, value, 'data-import-format': value });
    r.checked = value === TASKS;
    r.addEventListener('change', () => {
      if (r.checked) setSource(value);
    });
    sourceRadios.push(r);
    return h('li', null, r, h('label', { for: id, class: 'pf-kind-option' }, h('span', { class: 'pf-kind-name' }, title), h('span', { class: 'pf-kind-summary' }, summary)));
  };
  const sourceBox = formats.length
    ? h(
        'fieldset',
        { class: 'pf-import-source', 'data-testid': 'import-source' },
        h('legend', null, 'What the file holds'),
        h(
          'ul',
          { class: 'pf-kind-list' },
          sourceOption(TASKS, 'Loupe tasks (JSON, NDJSON or CSV)', 'One task per row, in the task fields of the API: data, attachments, predictions, gold answers.'),
          formats.map((f) => sourceOption(f.name, labelFormat(f.name).title, f.summary || `Labels in the ${f.name} format`)),
        ),
      )
    : null;

  /* how labels are imported */
  const asRadios = {};
  const asOption = (value, title, help) => {
    const id = `pf-import-as-${value}`;
    const r = h('input', { type: 'radio', name: 'pf-import-as', id, value, 'data-import-as': value, 'aria-describedby': `${id}-help` });
    r.checked = value === 'predictions';
    r.addEventListener('change', syncLabels);
    asRadios[value] = r;
    return h('div', { class: 'pf-check' }, r, h('label', { for: id }, title), h('p', { class: 'pf-help', id: `${id}-help` }, help));
  };
  const modelInput = h('input', { type: 'text', id: 'pf-import-model', maxlength: 200, autocomplete: 'off', spellcheck: 'false', 'data-testid': 'import-model', 'aria-describedby': 'pf-import-model-help' });
  const modelHelp = h('p', { class: 'pf-help', id: 'pf-import-model-help' });
  const modelField = h('div', { class: 'pf-field' }, h('label', { class: 'pf-label', for: 'pf-import-model' }, 'Model name (optional)'), modelInput, modelHelp);
  const baseInput = h('input', { type: 'url', id: 'pf-import-image-base', placeholder: 'https://cdn.example.com/images/', autocomplete: 'off', spellcheck: 'false', 'data-testid': 'import-image-base', 'aria-describedby': 'pf-import-image-base-help' });
  const baseError = h('p', { class: 'pf-field-error', role: 'alert', hidden: true, 'data-testid': 'image-base-error' });
  const baseField = h(
    'div',
    { class: 'pf-field' },
    h('label', { class: 'pf-label', for: 'pf-import-image-base' }, 'Image URL prefix (optional)'),
    baseInput,
    h('p', { class: 'pf-help', id: 'pf-import-image-base-help' }, 'For images not in the upload (and given no URL by the file): each is attached as this prefix + its file name.'),
    baseError,
  );
  baseInput.addEventListener('input', () => {
    baseError.hidden = true;
    baseInput.removeAttribute('aria-invalid');
  });
  const labelsBox = h(
    'fieldset',
    { class: 'pf-import-labels', 'data-testid': 'import-labels', hidden: true },
    h('legend', null, 'Use the labels as'),
    asOption('predictions', 'Pre-labels (predictions)', 'Annotators start from them, then accept or correct them. The tasks go to the queue as usual.'),
    asOption('results', 'Final results', 'The tasks are imported completed, with the labels as their results: ground truth you already have. Nobody is asked to label them.'),
    h('div', { class: 'pf-grid' }, modelField, baseField),
  );

  /* batch */
  const batchRadios = {};
  const radio = (value, text) => {
    const id = `pf-batch-${value}`;
    const r = h('input', { type: 'radio', name: 'pf-batch', id, value, 'data-batch-mode': value });
    r.checked = value === 'none';
    r.addEventListener('change', syncBatch);
    batchRadios[value] = r;
    return h('span', { class: 'pf-check-inline' }, r, h('label', { for: id }, text));
  };
  const batchSel = h('select', { 'aria-label': 'Batch to import into', 'data-testid': 'import-batch', disabled: true });
  const newName = h('input', { type: 'text', 'aria-label': 'Name of the new batch', placeholder: 'e.g. 2026-06 week 1', 'data-testid': 'import-new-batch', disabled: true, maxlength: 200 });
  const batchError = h('p', { class: 'pf-field-error', role: 'alert', hidden: true });
  const batchHelp = h('p', { class: 'pf-help' });
  const batchBox = h(
    'fieldset',
    { class: 'pf-batch' },
    h('legend', null, 'Batch'),
    h('div', { class: 'pf-batch-row' }, radio('none', 'No batch')),
    h('div', { class: 'pf-batch-row' }, radio('existing', 'An existing batch in staging:'), batchSel),
    h('div', { class: 'pf-batch-row' }, radio('new', 'A new batch named'), newName),
    batchHelp,
    batchError,
  );
  const batchList = h('tbody');
  const batchTable = h(
    'div',
    { class: 'pf-batches', hidden: true },
    h('h3', null, 'Batches'),
    h('div', { class: 'table-wrap' }, h('table', { class: 'data-table', 'data-testid': 'batches' }, h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Batch'), h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col', class: 'num' }, 'Tasks'), h('th', { scope: 'col', class: 'num' }, 'Completed'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))), batchList)),
  );

  const importBtn = h('button', { type: 'button', class: 'primary', 'data-action': 'import', disabled: true, onclick: run }, 'Import');
  const cancelBtn = h('button', { type: 'button', 'data-action': 'cancel-import', hidden: true, onclick: () => xhr?.abort() }, 'Cancel upload');
  const progress = h('progress', { max: 1, value: 0, hidden: true, 'data-testid': 'import-progress', 'aria-label': 'Upload progress' });
  const progressText = h('p', { class: 'muted', 'data-testid': 'import-progress-text', 'aria-live': 'polite' });
  const result = h('div', { class: 'pf-result', 'data-testid': 'import-result', hidden: true });
  const example = JSON.stringify(EXAMPLE_ROWS[project.kind] || { unique_id: 'task-1', data: {} });
  const rowHelp = h(
    'details',
    { class: 'pf-format-help', 'data-testid': 'row-help' },
    h('summary', null, 'What a row looks like'),
    h('p', null, 'Each task is a JSON object with the task fields of the API: ', h('code', null, 'unique_id'), ' (makes re-importing safe), ', h('code', null, 'data'), ', ', h('code', null, 'attachments'), ', ', h('code', null, 'metadata'), ', ', h('code', null, 'tags'), ', ', h('code', null, 'priority'), ', ', h('code', null, 'expected_response'), ' (gold) and ', h('code', null, 'predictions'), '. For this project, for example:'),
    h('pre', { class: 'pf-example' }, example),
  );
  append(el, [h('h2', null, 'Import tasks'), sourceBox, drop, labelsBox, batchBox, h('div', { class: 'form-actions' }, importBtn, cancelBtn), progress, progressText, result, batchTable, rowHelp]);
  setSource(TASKS);
  loadBatches();
  return { el, loadBatches };

  /* Shows what the chosen source needs: the drop zone's words, the file
   * types offered, the labels options; a file already chosen is checked
   * again for the new choice. */
  function setSource(value) {
    source = value;
    const labels = value !== TASKS;
    const fmt = labelFormat(value);
    if (!labels) {
      dropTitle.textContent = 'Drop a .json, .ndjson or .csv file here';
      dropHelp.textContent = 'A JSON array of tasks, one task per line (NDJSON / JSONL), or CSV with a header row (a text column becomes data.text, image/audio/video columns attachments, any other column data.NAME). Up to the server\'s bulk limit (512 MB by default).';
      fileInput.accept = TASKS_ACCEPT;
      batchHelp.textContent = 'Rows that name their own batch keep it. A batch takes tasks while in staging; its tasks go to annotators once you start it (below).';
    } else {
      dropTitle.textContent = `Drop a ${fmt.title} ${fmt.docs.join(' or ')} file, or a .zip, here`;
      dropHelp.textContent =
        `${fmt.images ? 'Each image becomes a task with its labels; a .zip may hold the images too, which are stored on this server.' : 'Each sentence or document becomes a task with its labels; a .zip may hold several files.'}` +
        ' A label the project does not have makes its task invalid (listed after the import), and the others import. Importing the same file again gives duplicates, not new tasks.';
      fileInput.accept = [...fmt.docs, '.zip', ...fmt.mime, ...ZIP_TYPES].join(',');
      batchHelp.textContent = 'A batch takes tasks while in staging; its tasks go to annotators once you start it (below).';
      modelInput.placeholder = `import:${value}`;
      modelHelp.textContent = `Names where the pre-labels come from (e.g. detector-v2), shown to annotators; import:${value} if left empty.`;
    }
    labelsBox.hidden = !labels;
    baseField.hidden = !labels || !fmt.images;
    rowHelp.hidden = labels;
    syncLabels();
    if (picked && !xhr) choose(picked, { keepResult: true });
  }

  function asValue() {
    return asRadios.results.checked ? 'results' : 'predictions';
  }

  function syncLabels() {
    const pre = asValue() === 'predictions';
    modelInput.disabled = !pre;
    modelField.classList.toggle('is-disabled', !pre);
  }

  async function loadBatches() {
    try {
      const all = await getAll(`/v1/projects/${pid}/batches?limit=1000`);
      showBatches(all);
      const items = all.filter((b) => b.status === 'staging');
      const keep = batchSel.value;
      batchSel.replaceChildren(...items.map((b) => h('option', { value: b.id }, `${b.name} (${count(b.counts?.total)} tasks)`)));
      if (!items.length) batchSel.append(h('option', { value: '' }, 'none in staging'));
      if (items.some((b) => String(b.id) === keep)) batchSel.value = keep;
      batchRadios.existing.disabled = !items.length;
      syncBatch();
    } catch {
      batchRadios.existing.disabled = true;
    }
  }

  /* Every batch, with a button that starts a staging one (finalize). */
  function showBatches(all) {
    batchTable.hidden = !all.length;
    batchList.replaceChildren(
      ...all.map((b) => {
        const start = b.status === 'staging' ? h('button', { type: 'button', class: 'pf-small', 'data-action': 'finalize', onclick: () => finalize(b, start) }, 'Start work') : null;
        return h(
          'tr',
          { 'data-batch-id': b.id },
          h('td', null, b.name),
          h('td', null, h('span', { class: `badge${b.status === 'staging' ? ' badge-warn' : ''}`, 'data-field': 'status' }, b.status.replace('_', ' '))),
          h('td', { class: 'num' }, count(b.counts?.total)),
          h('td', { class: 'num' }, count(b.counts?.completed)),
          h('td', { class: 'row-action' }, start),
        );
      }),
    );
  }

  async function finalize(b, btn) {
    btn.disabled = true;
    try {
      await api.post(`/v1/batches/${b.id}/finalize`);
      setStatus(`Batch ${b.name} started: its tasks go to annotators`, 'ok');
      await loadBatches();
      onImported(null);
    } catch (e) {
      btn.disabled = false;
      if (e.status !== 401) setStatus(`Batch ${b.name} was not started: ${e.message}`, 'error');
    }
  }

  function mode() {
    return Object.values(batchRadios).find((r) => r.checked)?.value || 'none';
  }

  function syncBatch() {
    batchSel.disabled = mode() !== 'existing';
    newName.disabled = mode() !== 'new';
    batchError.hidden = true;
    if (mode() === 'new') newName.focus();
  }

  /* Checks file f for the current choice of source; keepResult: leave the
   * last import's result on the page (the source changed, not the file). */
  async function choose(f, { keepResult = false } = {}) {
    const me = ++checking;
    const src = source;
    picked = f;
    file = null;
    format = null;
    importBtn.disabled = true;
    if (!keepResult) result.hidden = true;
    fileInfo.hidden = false;
    fileInfo.classList.remove('error');
    fileInfo.textContent = `Reading ${f.name}…`;
    const fail = (msg) => {
      fileInfo.classList.add('error');
      fileInfo.textContent = msg;
    };
    if (src !== TASKS) {
      if (!f.size) return fail(`${f.name} is empty.`);
      let got;
      try {
        got = await sniffLabels(f, src);
      } catch {
        got = { error: `${f.name} could not be read.` };
      }
      if (me !== checking) return;
      if (got.error) return fail(got.error);
      file = f;
      format = got;
      fileInfo.replaceChildren(h('strong', null, f.name), ` · ${formatBytes(f.size)} · ${got.what}`);
      importBtn.disabled = false;
      progressText.textContent = '';
      return;
    }
    let fmt = null;
    try {
      fmt = await sniffFormat(f);
    } catch {
      fmt = null;
    }
    if (me !== checking) return;
    if (!fmt) {
      const other = formats.length ? ` For labels from another tool (${formats.map((x) => labelFormat(x.name).title).join(', ')}), choose its format above.` : '';
      return fail(`${f.name} does not look like JSON or NDJSON: it should start with [ (an array of tasks) or { (one task per line), or be a .csv file.${other}`);
    }
    if (!f.size) return fail(`${f.name} is empty.`);
    file = f;
    format = fmt;
    fileInfo.replaceChildren(h('strong', null, f.name), ` · ${formatBytes(f.size)} · `, fmt === 'json' ? 'a JSON array of tasks' : fmt === 'csv' ? 'CSV, one task per row' : 'NDJSON, one task per line');
    importBtn.disabled = false;
    progressText.textContent = '';
  }

  /* The import's query and Content-Type for the current choices, or null
   * (with the problem shown) when a field is not right. */
  function request(batchId) {
    const q = new URLSearchParams();
    if (source === TASKS) {
      if (batchId) q.set('batch_id', batchId);
      return { query: q, type: format === 'json' ? 'application/json' : format === 'csv' ? 'text/csv' : 'application/x-ndjson', labels: null };
    }
    const base = baseField.hidden ? '' : baseInput.value.trim();
    if (base && !/^https?:\/\/[^\s/]+\S*$/i.test(base)) {
      baseError.textContent = 'The prefix must be an http:// or https:// URL, such as https://cdn.example.com/images/.';
      baseError.hidden = false;
      baseInput.setAttribute('aria-invalid', 'true');
      baseInput.focus();
      return null;
    }
    const as = asValue();
    const model = as === 'predictions' ? modelInput.value.trim() : '';
    q.set('format', source);
    q.set('as', as);
    if (model) q.set('model', model);
    if (base) q.set('image_base', base);
    if (batchId) q.set('batch_id', batchId);
    return { query: q, type: format.type, labels: { format: source, as, model: model || `import:${source}`, zip: format.zip } };
  }

  async function run() {
    if (!file || xhr) return;
    batchError.hidden = true;
    if (!request(null)) return; // checks the labels fields before a batch is made
    let batchId = null;
    if (mode() === 'existing') batchId = batchSel.value || null;
    if (mode() === 'new') {
      const name = newName.value.trim();
      if (!name) {
        batchError.textContent = 'Name the new batch.';
        batchError.hidden = false;
        newName.focus();
        return;
      }
      importBtn.disabled = true;
      try {
        const b = await api.post(`/v1/projects/${pid}/batches`, { name });
        batchId = b.id;
        newName.value = '';
        batchRadios.existing.checked = true;
        await loadBatches();
        batchSel.value = String(b.id);
        syncBatch();
      } catch (e) {
        importBtn.disabled = false;
        if (e.status === 401) return;
        batchError.textContent = e.message;
        batchError.hidden = false;
        newName.focus();
        return;
      }
    }
    const req = request(batchId);
    if (!req) {
      importBtn.disabled = !file;
      return;
    }
    upload(file, req, batchId);
  }

  function upload(f, r, batchId) {
    const req = new XMLHttpRequest();
    xhr = req;
    importBtn.disabled = true;
    chooseBtn.disabled = true;
    for (const x of sourceRadios) x.disabled = true;
    cancelBtn.hidden = false;
    result.hidden = true;
    progress.hidden = false;
    progress.max = f.size || 1;
    progress.value = 0;
    progressText.textContent = `Uploading ${formatBytes(f.size)}…`;
    setStatus(`Importing ${f.name}…`, 'busy');
    const qs = r.query.toString();
    req.open('POST', `/v1/projects/${pid}/tasks${qs ? `?${qs}` : ''}`);
    req.setRequestHeader('Content-Type', r.type);
    req.setRequestHeader('Accept', 'application/json');
    if (csrfToken()) req.setRequestHeader('X-CSRF-Token', csrfToken());
    req.upload.addEventListener('progress', (ev) => {
      if (!ev.lengthComputable) return;
      progress.max = ev.total;
      progress.value = ev.loaded;
      progressText.textContent = `Uploading: ${formatBytes(ev.loaded)} of ${formatBytes(ev.total)} (${Math.floor((ev.loaded / ev.total) * 100)}%)`;
    });
    req.upload.addEventListener('load', () => {
      cancelBtn.hidden = true;
      progress.removeAttribute('value');
      progressText.textContent = r.labels
        ? `Uploaded ${formatBytes(f.size)}. The server is reading the ${labelFormat(r.labels.format).title} labels${r.labels.zip ? ' and storing the images' : ''}, then saving each task…`
        : `Uploaded ${formatBytes(f.size)}. The server is checking and saving each task…`;
    });
    const done = () => {
      xhr = null;
      chooseBtn.disabled = false;
      for (const x of sourceRadios) x.disabled = false;
      importBtn.disabled = !file;
      cancelBtn.hidden = true;
      progress.hidden = true;
    };
    req.addEventListener('load', () => {
      done();
      let data = null;
      try {
        data = JSON.parse(req.responseText);
      } catch {
        data = null;
      }
      if (req.status === 200 && data && typeof data.created === 'number') {
        progressText.textContent = '';
        const summary = `${f.name}: ${count(data.created)} created, ${count(data.duplicates)} duplicates, ${count(data.invalid)} invalid`;
        setStatus(summary, data.invalid ? 'warn' : 'ok');
        if (isAlive()) {
          showResult(f, data, batchId, r.labels);
          loadBatches();
          onImported(data);
        }
        return;
      }
      if (req.status === 401) {
        api.get('/v1/me').catch(() => {}); // lets the app take the user to the login page
        return;
      }
      const err = data?.error;
      const msg =
        req.status === 413
          ? `${f.name} (${formatBytes(f.size)}) is larger than the server accepts for one import: split it, or ask the admin to raise --bulk-limit-mb.`
          : err?.message || `The server answered ${req.status} ${req.statusText}`.trim();
      progressText.textContent = '';
      showFailure(`Nothing was imported: ${msg}`);
    });
    req.addEventListener('error', () => {
      done();
      showFailure(
        r.labels
          ? 'The upload failed: the server could not be reached. Importing the same file again is safe: tasks already created come back as duplicates.'
          : 'The upload failed: the server could not be reached. Rows of a file with unique_ids are safe to import again.',
      );
    });
    req.addEventListener('abort', () => {
      done();
      progressText.textContent = '';
      showFailure('Upload canceled: nothing was imported.');
    });
    req.send(f);
  }

  function showFailure(msg) {
    setStatus(msg, 'error');
    if (!isAlive()) return;
    result.replaceChildren(h('p', { class: 'error', 'data-testid': 'import-error' }, msg));
    result.hidden = false;
  }

  /* What the import of labels did besides the counts: images stored, files
   * of the zip left out, and what the labels became. */
  function labelNotes(data, labels) {
    if (!labels) return [];
    const media = Number(data.media_stored) || 0;
    const left = Number(data.files_left_out) || 0;
    const images = project.kind === 'imageannotation';
    const noun = (n) => (images ? (n === 1 ? 'image' : 'images') : n === 1 ? 'media file' : 'media files');
    const out = [];
    if (media) out.push(h('p', { class: 'pf-import-note', 'data-testid': 'media-stored' }, `${count(media)} ${noun(media)} stored on this server and attached to ${media === 1 ? 'its task' : 'their tasks'}.`));
    else if (labels.zip) out.push(h('p', { class: 'pf-import-note', 'data-testid': 'media-stored' }, `No ${noun(2)} in the zip: images are attached by the URL the file gives, or the image URL prefix.`));
    if (left) out.push(h('p', { class: 'pf-import-note muted', 'data-testid': 'files-left-out' }, `${count(left)} file${left === 1 ? '' : 's'} of the zip left out: neither labels nor media.`));
    if (data.created) {
      out.push(
        h(
          'p',
          { class: 'pf-import-note muted', 'data-testid': 'labels-as' },
          labels.as === 'results'
            ? `The new tasks are completed, with the ${labelFormat(labels.format).title} labels as their results.`
            : `The labels are pre-labels of the new tasks (model ${labels.model}): annotators start from them.`,
        ),
      );
    }
    return out;
  }

  function showResult(f, data, batchId, labels) {
    const staged = batchId && batchSel.querySelector(`option[value="${CSS.escape(String(batchId))}"]`);
    const invalid = (data.rows || []).filter((r) => r.status === 'invalid');
    const withSource = invalid.some((r) => r.line == null && r.source != null);
    const MAX = 200;
    const stat = (key, n, label) => h('div', { class: `pf-stat pf-stat-${key}` }, h('dt', null, label), h('dd', { 'data-count': key }, count(n)));
    result.replaceChildren();
    append(result, [
      h('h3', null, `Imported ${f.name}`),
      h('dl', { class: 'counts pf-counts' }, stat('created', data.created, 'Created'), stat('duplicates', data.duplicates, 'Duplicates'), stat('invalid', data.invalid, 'Invalid')),
      labelNotes(data, labels),
      data.duplicates ? h('p', { class: 'muted' }, labels ? 'Duplicates are already in the project (the same unique_id, e.g. the image\'s file name): they were left as they were.' : 'Duplicates have a unique_id already in the project: they were left as they were.') : null,
      staged && data.created ? h('p', { class: 'note' }, `The new tasks are in batch ${staged.textContent.replace(/ \(.*\)$/, '')}, in staging: annotators get them once you start it (Batches, below).`) : null,
      invalid.length
        ? h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'data-table pf-invalid', 'data-testid': 'invalid-rows' },
              h('caption', { class: 'pf-caption' }, invalid.length > MAX ? `The first ${MAX} of ${count(invalid.length)} invalid rows` : labels ? 'Invalid tasks (not imported)' : 'Invalid rows (not imported)'),
              h('thead', null, h('tr', null, withSource ? h('th', { scope: 'col' }, 'Where in the file') : h('th', { scope: 'col', class: 'num' }, 'Line'), h('th', { scope: 'col', class: 'num' }, 'Row'), h('th', { scope: 'col' }, 'Field'), h('th', { scope: 'col' }, 'Problem'))),
              h(
                'tbody',
                null,
                invalid.slice(0, MAX).map((r) => {
                  const where =
                    r.line != null
                      ? h('td', { class: withSource ? null : 'num', 'data-field': 'line' }, withSource ? `line ${r.line}` : String(r.line))
                      : r.source != null
                        ? h('td', { class: 'pf-source', 'data-field': 'source' }, h('code', null, String(r.source)))
                        : h('td', { class: withSource ? null : 'num', 'data-field': 'line' }, '—');
                  return h(
                    'tr',
                    { 'data-line': r.line ?? '', 'data-source': r.source ?? null, 'data-index': r.index },
                    where,
                    h('td', { class: 'num', 'data-field': 'row' }, String(r.index + 1)),
                    h('td', { 'data-field': 'field' }, r.error?.field ? h('code', null, r.error.field) : h('span', { class: 'muted' }, r.error?.field === '' ? 'the whole row' : '—')),
                    h('td', { 'data-field': 'message' }, rowMessage(r.error)),
                  );
                }),
              ),
            ),
          )
        : null,
      invalid.length
        ? h('p', { class: 'pf-help' }, labels ? 'Fix these places in the file (or add the missing labels to the project) and import it again: the tasks created now come back as duplicates.' : 'Fix these rows and import the file again: rows with a unique_id that were created now come back as duplicates.')
        : null,
    ]);
    result.hidden = false;
  }
}

/* A bulk row's error as a person reads it: a row that is not JSON is
 * parsed on its own, so "line 1" of jansson's message is the row's line. */
function rowMessage(err) {
  const m = String(err?.message ?? '');
  return err?.field === '' ? m.replace(/^invalid JSON at line 1, column (\d+)/, 'invalid JSON at character $1 of the row') : m;
}

/* ---- export ---- */

/* The export tab.  formats: the project's kind's export formats, as GET
 * /v1/kinds lists them ({name, summary}); Loupe's own two if unknown. */
export function exportPanel({ project, batches, formats }) {
  const pid = project.id;
  const el = h('section', { class: 'pf-panel', 'data-testid': 'export' });
  const list = Array.isArray(formats) && formats.length ? formats : [
    { name: 'ndjson', summary: 'Loupe tasks, one JSON object per line' },
    { name: 'json', summary: 'Loupe tasks as one JSON array' },
  ];
  const titles = { ndjson: 'NDJSON', json: 'JSON', csv: 'CSV', conll: 'CoNLL-2003', coco: 'COCO', yolo: 'YOLO', voc: 'Pascal VOC', trl: 'TRL', trl_conversational: 'TRL (conversational)', openai_preference: 'OpenAI preference', openai_chat: 'OpenAI chat', ratings: 'Ratings' };
  const titleOf = (v) => titles[v] || v;
  const fmtRadios = list.map((f) => [f.name, titleOf(f.name), f.summary]).map(([v, name, what]) => {
    const id = `pf-export-${v}`;
    const r = h('input', { type: 'radio', name: 'pf-export-format', id, value: v, 'data-export-format': v });
    r.checked = v === 'ndjson';
    r.addEventListener('change', update);
    return { r, el: h('span', { class: 'pf-check-inline' }, r, h('label', { for: id }, h('strong', null, name), ` — ${what}`)) };
  });
  const annId = 'pf-export-annotations';
  const ann = h('input', { type: 'checkbox', id: annId, 'data-testid': 'export-annotations' });
  ann.addEventListener('change', update);
  const statusSel = h('select', { id: 'pf-export-status', 'data-testid': 'export-status' }, h('option', { value: '' }, 'Every status'), STATUSES.map((s) => h('option', { value: s }, s.replace('_', ' '))));
  statusSel.addEventListener('change', update);
  const batchSel = h('select', { id: 'pf-export-batch', 'data-testid': 'export-batch' }, h('option', { value: '' }, 'Every batch'));
  batchSel.addEventListener('change', update);
  const workersSel = h(
    'select',
    { id: 'pf-export-workers', 'data-testid': 'export-workers' },
    h('option', { value: 'ids' }, 'User ids'),
    h('option', { value: 'pseudonyms' }, 'Pseudonyms (the same in every export of this project)'),
    h('option', { value: 'none' }, 'Left out'),
  );
  workersSel.addEventListener('change', update);
  const link = h('a', { class: 'button primary', download: '', 'data-testid': 'export-link' }, 'Download');
  const estimate = h('span', { class: 'muted', 'data-testid': 'export-estimate' });
  const apiLine = h('code', { class: 'pf-api-line', 'data-testid': 'export-url' });
  el.append(
    h('h2', null, 'Export tasks'),
    h('p', { class: 'muted' }, 'Every task with its result (response, confidence, method), in id order. The file is streamed: large projects download as fast as the network allows.'),
    h('fieldset', { class: 'pf-set' }, h('legend', null, 'Format'), h('div', { class: 'pf-set-options' }, fmtRadios.map((x) => x.el))),
    h('div', { class: 'pf-check' }, ann, h('label', { for: annId }, 'Include each task\'s accepted annotations (response, annotator id, time)')),
    h('div', { class: 'pf-grid' }, h('div', { class: 'pf-field' }, h('label', { for: 'pf-export-status' }, 'Status'), statusSel), h('div', { class: 'pf-field' }, h('label', { for: 'pf-export-batch' }, 'Batch'), batchSel), h('div', { class: 'pf-field' }, h('label', { for: 'pf-export-workers' }, 'Workers (who annotated and reviewed)'), workersSel)),
    h('div', { class: 'form-actions' }, link, estimate),
    h('p', { class: 'pf-help' }, 'The same file from the API (with an API key): ', apiLine),
  );
  setBatches(batches);
  return { el, setBatches, setProject };

  function setProject(p) {
    project = p;
    update();
  }

  function setBatches(list) {
    batches = list || [];
    const keep = batchSel.value;
    batchSel.replaceChildren(h('option', { value: '' }, 'Every batch'), batches.map((b) => h('option', { value: b.id }, `${b.name} (${b.status})`)));
    if (batches.some((b) => String(b.id) === keep)) batchSel.value = keep;
    update();
  }

  function update() {
    const q = new URLSearchParams();
    const fmt = fmtRadios.find((x) => x.r.checked)?.r.value || 'ndjson';
    q.set('format', fmt);
    if (ann.checked) q.set('include', 'annotations');
    if (statusSel.value) q.set('status', statusSel.value);
    if (batchSel.value) q.set('batch_id', batchSel.value);
    if (workersSel.value !== 'ids') q.set('workers', workersSel.value);
    const href = `/v1/projects/${pid}/export?${q}`;
    link.href = href;
    link.textContent = `Download ${titleOf(fmt)}`;
    apiLine.textContent = `GET ${href}`;
    const b = batches.find((x) => String(x.id) === batchSel.value);
    const counts = b ? b.counts : project.counts;
    const n = counts ? (statusSel.value ? counts[statusSel.value] : counts.total) : undefined;
    estimate.textContent = Number.isFinite(n) ? `${count(n)} task${n === 1 ? '' : 's'}` : '';
  }
}

