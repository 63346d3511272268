// project-form.js -- a manager's project pages:
//
//   #/projects/new           create a project: name, kind (GET /v1/kinds),
//                            the kind's params, instructions, quality policy
//   #/projects/ID/settings   the same form filled from GET /v1/projects/ID
//                            (PATCH sends only what changed; the kind is
//                            fixed), and tabs for members
//                            (project-members.js), importing tasks from a
//                            file and exporting them (project-data.js), and
//                            the project's models (project-model.js)
//
// The params editor is driven by a small schema per kind (SCHEMAS below,
// from docs/KINDS.md): named lists (labels, relations, aspects, criteria,
// fields, attributes and their choices) edited row by row, booleans,
// numbers and options.  It edits one params object in place, so "Edit as
// JSON" shows exactly what will be sent and what the JSON says comes back
// to the form.  A 422 from the server names a field (params.labels[2],
// overlap, ...): every control carries data-field with its path, and the
// error is shown at the closest one.

import { h, append, capitalize as cap } from './dom.js';
import { membersPanel } from './project-members.js';
import { modelPanel } from './project-model.js';
import { importPanel, exportPanel } from './project-data.js';
import { api, request, getAll } from './api.js';
import { renderMarkdown } from './markdown.js';
import { setStatus } from './status.js';
import { PALETTE } from './editor-segmentation.js';

/* ---- what each kind's params look like (docs/KINDS.md) ---- */

const named = (key, title, noun, opts = {}) => ({ type: 'names', key, title, noun, min: 0, extras: [], ...opts });

const CHOICE_LIST = named('choices', 'Choices', 'choice', { min: 1, compact: true, help: 'The values annotators pick from.' });

const ATTRIBUTE_EXTRAS = [
  {
    type: 'select',
    key: 'type',
    title: 'Type',
    dflt: 'boolean',
    structural: true,
    options: [
      ['boolean', 'Yes / no'],
      ['category', 'One of a list'],
      ['number', 'Number'],
      ['text', 'Text'],
    ],
  },
  { ...CHOICE_LIST, showIf: (a) => a.type === 'category' },
  { type: 'number', key: 'min', title: 'Min', showIf: (a) => a.type === 'number' },
  { type: 'number', key: 'max', title: 'Max', showIf: (a) => a.type === 'number' },
  { type: 'bool', key: 'required', title: 'Required', dflt: false },
];

const CRITERION_EXTRAS = [
  { type: 'number', key: 'min', title: 'From', dflt: 1, structural: true },
  { type: 'number', key: 'max', title: 'To', dflt: 5, structural: true },
  { type: 'number', key: 'step', title: 'Step', dflt: 1, structural: true },
  { type: 'bool', key: 'required', title: 'Required', dflt: true },
  { type: 'pointLabels', key: 'labels', title: 'Name the points of the scale' },
];

/* A segmentation label's colour: the editor's palette by position until
 * one is picked. */
const COLOR_EXTRAS = [{ type: 'color', key: 'color', title: 'Colour', dflt: (i) => PALETTE[i % PALETTE.length] }];

const FIELD_EXTRAS = [
  { type: 'int', key: 'min_length', title: 'Min length', min: 0 },
  { type: 'int', key: 'max_length', title: 'Max length', min: 1 },
  { type: 'bool', key: 'required', title: 'Required', dflt: true },
];

const SCHEMAS = {
  categorization: [
    named('labels', 'Labels', 'label', { min: 1, help: 'What annotators choose from. Keys 1 to 9 pick the first nine labels.' }),
    { type: 'bool', key: 'multiple', title: 'Annotators may pick several labels', dflt: false },
    { type: 'bool', key: 'builtin_model', title: 'Pre-label text with the built-in model', dflt: false, help: "A text classifier learns every accepted answer and predicts the open tasks (model loupe:builtin); annotators start from its label, and the queue's active-learning order follows its doubts." },
  ],
  imageannotation: [
    named('labels', 'Labels', 'label', { min: 1, help: 'Each shape gets one of these.' }),
    {
      type: 'set',
      key: 'geometries',
      title: 'Shapes annotators may draw',
      options: [
        ['box', 'Boxes'],
        ['polygon', 'Polygons'],
        ['line', 'Lines'],
        ['point', 'Points'],
      ],
    },
    named('attributes', 'Attributes', 'attribute', {
      extras: ATTRIBUTE_EXTRAS,
      newItem: (name) => ({ name, type: 'boolean' }),
      help: 'More questions about each shape (occluded? color?).',
    }),
  ],
  namedentityrecognition: [
    named('labels', 'Entity labels', 'label', { min: 1, help: 'The kinds of span annotators mark.' }),
    named('relations', 'Relations', 'relation', { help: 'Labelled links between two spans. Leave empty for none.' }),
  ],
  transcription: [
    { type: 'bool', key: 'segments', title: 'Timed segments (start, end and text each)', dflt: false },
    { type: 'int', key: 'max_length', title: 'Longest text', min: 1, help: 'In characters, per segment with segments. Empty: no limit.' },
  ],
  comparison: [
    { type: 'bool', key: 'allow_tie', title: 'Allow "equally good"', dflt: true },
    { type: 'bool', key: 'allow_both_bad', title: 'Allow "both bad" (a pair to leave out of preference training)', dflt: true },
    { type: 'bool', key: 'strength', title: 'Ask how much better (slightly, clearly, much)', dflt: false },
    named('aspects', 'Aspects', 'aspect', { help: 'Also pick the better response per aspect (accuracy, style…).' }),
    {
      type: 'select',
      key: 'justification',
      title: 'Written reason',
      dflt: 'optional',
      options: [
        ['optional', 'Optional'],
        ['required', 'Required'],
        ['none', 'Not asked'],
      ],
    },
  ],
  ranking: [{ type: 'bool', key: 'allow_ties', title: 'Allow ties (several responses at the same rank)', dflt: false }],
  rating: [
    named('criteria', 'Criteria', 'criterion', {
      min: 1,
      extras: CRITERION_EXTRAS,
      help: 'Each is a scale from a value to another in steps (1 to 5 by default).',
    }),
    { type: 'int', key: 'gold_tolerance', title: 'Gold tolerance (steps)', min: 0, dflt: 0, help: 'How many steps a score may be off and still match a gold answer.' },
  ],
  textcollection: [
    { type: 'int', key: 'min_length', title: 'Min length', min: 0, dflt: 1, help: 'In characters.' },
    { type: 'int', key: 'max_length', title: 'Max length', min: 1, dflt: 10000 },
    named('fields', 'Fields', 'field', { extras: FIELD_EXTRAS, help: 'Named texts to write (question, answer…). Leave empty for one text.' }),
    { type: 'bool', key: 'allow_reject', title: 'Drafts to review: annotators may reject a draft', dflt: false },
  ],
  redteam: [
    {
      type: 'select',
      key: 'endpoint_id',
      title: 'Model under attack',
      numeric: true,
      pickFirst: true,
      options: () => endpointOptions,
      help: 'A model endpoint (admins register them under LLM → Model endpoints). The system prompt and the severity scale are set through the API.',
    },
    named('harm_categories', 'Harm categories', 'category', { min: 1, help: 'What a successful attack is labelled with.' }),
    { type: 'int', key: 'max_turns', title: 'Turns per conversation', min: 1, max: 50, dflt: 5, help: 'How many attack messages an annotator may send on one task.' },
  ],
  lidarannotation: [
    named('labels', 'Labels', 'label', { min: 1, help: 'Each cuboid gets one of these.' }),
    named('attributes', 'Attributes', 'attribute', {
      extras: ATTRIBUTE_EXTRAS,
      newItem: (name) => ({ name, type: 'boolean' }),
      help: 'More questions about each cuboid (moving? occluded?).',
    }),
  ],
  segmentation: [
    named('labels', 'Labels', 'label', { min: 1, extras: COLOR_EXTRAS, help: 'One mask layer each (at most 254), in its colour (the palette\'s until one is picked; the masks export paints it too). Keys 1 to 9 pick the first nine.' }),
    { type: 'number', key: 'opacity', title: 'Mask opacity the editor starts with (0 to 1)', min: 0, max: 1, dflt: 0.5 },
  ],
  videoannotation: [
    named('labels', 'Labels', 'label', { min: 1, help: 'Each track (one object through the video) gets one of these.' }),
    {
      type: 'set',
      key: 'geometries',
      title: 'Shapes a track may have',
      options: [
        ['box', 'Boxes'],
        ['point', 'Points'],
        ['polygon', 'Polygons'],
      ],
    },
    named('attributes', 'Track attributes', 'attribute', { extras: ATTRIBUTE_EXTRAS, newItem: (name) => ({ name, type: 'boolean' }), help: 'Questions about the whole object (its colour…).' }),
    named('frame_attributes', 'Frame attributes', 'attribute', { extras: ATTRIBUTE_EXTRAS, newItem: (name) => ({ name, type: 'boolean' }), help: 'Questions that change over time (occluded?), set at keyframes.' }),
    named('events', 'Events', 'event', { help: 'Labels of time ranges (a crash, a lane change). Leave empty for none.' }),
    { type: 'int', key: 'fps', title: 'Frames per second', min: 1, max: 1000, dflt: 30, help: "When a task's data.fps does not say." },
  ],
};

const KIND_TITLES = {
  categorization: 'Categorization',
  imageannotation: 'Image annotation',
  namedentityrecognition: 'Named entities',
  transcription: 'Transcription',
  comparison: 'Comparison',
  ranking: 'Ranking',
  rating: 'Rating',
  textcollection: 'Text collection',
  redteam: 'Red teaming',
  lidarannotation: 'Lidar cuboids',
  segmentation: 'Segmentation',
  videoannotation: 'Video annotation',
};

/* ---- the quality policy and the rest of a project ---- */

const AGGREGATIONS = [
  ['auto', 'Automatic (recommended)'],
  ['majority', 'Majority vote'],
  ['gold_weighted', 'Gold-weighted vote'],
  ['dawid_skene', 'Dawid-Skene'],
  ['one_coin', 'One-coin'],
  ['glad', 'GLAD'],
  ['mace', 'MACE'],
  ['ebcc', 'EBCC'],
  ['bwa', 'BWA'],
];

const AGGREGATION_HELP = {
  auto: 'MACE and Dawid-Skene together: the method that did best on public crowd data without tuning.',
  majority: 'Every answer counts the same.',
  gold_weighted: "Each answer weighs by its author's accuracy on gold tasks.",
  dawid_skene: "Learns each worker's confusions between labels (Dawid & Skene, 1979).",
  one_coin: 'One accuracy per worker, errors spread evenly.',
  glad: 'Worker ability and task difficulty (Whitehill et al., 2009).',
  mace: 'Tells careful workers from spammers (Hovy et al., 2013).',
  ebcc: 'Bayesian combination with correlated workers (Li et al., 2019).',
  bwa: 'Bayesian weighted average (Li et al., 2019).',
};

const WORKFLOW = [
  { type: 'int', key: 'overlap', title: 'Annotators per task', min: 1, max: 100, dflt: 1, help: 'How many different people label each task (overlap).' },
  { type: 'int', key: 'review_levels', title: 'Review passes', min: 0, max: 5, dflt: 0, help: 'Reviews after labeling. 0: none.' },
  { type: 'int', key: 'lease_seconds', title: 'Time to finish a task (seconds)', min: 30, max: 86400, dflt: 600, help: 'Then an unfinished task goes back to the queue.' },
  {
    type: 'select',
    key: 'strategy',
    title: 'Queue order',
    dflt: 'fifo',
    options: [
      ['fifo', 'Oldest first'],
      ['random', 'Random among the next 64'],
      ['uncertainty', 'Least sure model first (active learning)'],
      ['disagreement', 'Most disputed first'],
    ],
    describe: {
      fifo: 'Among tasks of the same priority and batch, the oldest first.',
      random: 'Among tasks of the same priority and batch, one drawn at random among the next 64.',
      uncertainty: "The tasks the models' predictions are least sure of first (a task with none counts as least sure).",
      disagreement: 'The tasks whose annotators disagree most get their next annotator first (with 3 or more annotators per task).',
    },
  },
  {
    type: 'select',
    key: 'uncertainty_measure',
    title: 'How sure a model is',
    dflt: 'least_confidence',
    onlyIf: (policy) => policy.strategy === 'uncertainty',
    options: [
      ['least_confidence', 'Least confidence'],
      ['margin', 'Margin'],
      ['entropy', 'Entropy'],
    ],
    describe: {
      least_confidence: 'Least sure: the lowest probability of the likeliest answer.',
      margin: 'Least sure: the closest call between the two likeliest answers.',
      entropy: 'Least sure: the probability spread most evenly over all answers.',
    },
  },
];

const QUALITY = [
  { type: 'number', key: 'gold_rate', title: 'Share of gold tasks', min: 0, max: 1, step: 0.01, dflt: 0, help: 'The chance, 0 to 1, that a task given out is a gold task (one with a known answer).' },
  { type: 'int', key: 'calibration_count', title: 'Calibration tasks', min: 0, max: 1000, dflt: 0, help: "A new annotator's first tasks that are all gold." },
  { type: 'number', key: 'min_gold_accuracy', title: 'Minimum gold accuracy', min: 0, max: 1, step: 0.01, dflt: 0, help: 'An annotator whose mean gold score falls below it is paused. 0: never.' },
  { type: 'int', key: 'min_gold_count', title: 'Gold answers before pausing', min: 1, max: 10000, dflt: 5 },
  { type: 'select', key: 'aggregation', title: 'Combining answers', dflt: 'auto', options: AGGREGATIONS, describe: AGGREGATION_HELP },
];

const POLICY = [...WORKFLOW, ...QUALITY];

/* Auto-labeling (the project's auto_label): a model completes the open
 * tasks it predicts at or above a threshold chosen, on held-out human
 * labels, for the target precision. */
const AUTO_LABEL = [
  { type: 'bool', key: 'enabled', title: 'Let the model label the tasks it is sure of', dflt: false, help: 'Tasks its prediction scores at or above the threshold are completed by the model and marked so; the rest go to annotators.' },
  { type: 'number', key: 'target_precision', title: 'Target precision', min: 0.5, max: 1, step: 0.01, dflt: 0.95, help: 'The share of its labels that must be right on held-out human labels at or above the threshold.' },
  { type: 'number', key: 'spot_check_rate', title: 'Spot-check share', min: 0, max: 1, step: 0.01, dflt: 0.05, help: 'Of the tasks the model is sure of, the share kept for annotators, which measures its labels as they go.' },
  { type: 'int', key: 'min_holdout', title: 'Human labels before it starts', min: 20, max: 1000000, dflt: 100, help: 'Tasks labelled by annotators that the model predicted beforehand.' },
];
const AUTO_LABEL_MODEL = { key: 'model', title: 'Model', maxlength: 200, placeholder: 'loupe:builtin', help: 'The predictions of which model (loupe:builtin: the built-in text model).' };
const AUTO_LABEL_DEFAULTS = { enabled: false, model: 'loupe:builtin', target_precision: 0.95, spot_check_rate: 0.05, min_holdout: 100 };

/* The figures of GET /v1/projects/{id}/autolabel, in a sentence. */
function autoLabelSummary(r) {
  const pct = (x) => `${Math.round(x * 1000) / 10}%`;
  if (r.threshold === null || r.threshold === undefined)
    return `No threshold yet: ${r.holdout} held-out human labels (${r.min_holdout} needed), and none that meets the target precision.`;
  const spot = r.spot_checks_labeled ? `, of which ${r.spot_checks_labeled} checked by annotators: ${pct(r.spot_check_precision)} right` : '';
  return `Threshold ${r.threshold}: ${pct(r.holdout_precision)} right (95% interval ${pct(r.holdout_precision_low)}–${pct(r.holdout_precision_high)}) on the ${r.holdout_above} held-out labels at or above it. ${r.eligible} open tasks eligible, ${r.auto_labeled} labeled by the model, ${r.spot_checks} spot checks${spot}.`;
}

/* The model endpoints a redteam project may attack, as select options
 * (loaded with the form). */
let endpointOptions = [];

/* The project created last, so that its settings open on the import tab. */
let justCreated = null;

/* ---- small helpers ---- */

/* JSON with sorted keys: equal values give equal text. */
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v ?? null);
}

const same = (a, b) => canonical(a) === canonical(b);
const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

/* The field path one level up: params.labels[2].name -> params.labels[2]. */
function parentField(f) {
  const m = /(\.[^.[\]]+|\[\d+\])$/.exec(f);
  return m && m.index > 0 ? f.slice(0, m.index) : null;
}

/* A server message without its leading "field: ", and with list paths
 * said the way the form says them ("label 1" for params.labels[0]). */
function humanMessage(message, field, kind) {
  let m = String(message || '');
  if (field && m.startsWith(`${field}: `)) m = m.slice(field.length + 2);
  const nouns = {};
  for (const s of SCHEMAS[kind] || []) if (s.type === 'names') nouns[s.key] = s.noun;
  return m.replace(/params\.(\w+)\[(\d+)\]/g, (all, key, i) => (nouns[key] ? `${nouns[key]} ${Number(i) + 1}` : all));
}

/* A field path as the form names it: params.labels[2].name -> "label 3 name". */
function fieldLabel(field, kind) {
  return humanMessage(field, '', kind)
    .replace(/^params\./, '')
    .replace(/\./g, ' ');
}

/* ---- field errors: shown next to the control whose data-field is the
 * field, or its closest parent ---- */

function findField(scope, field) {
  const all = [...scope.querySelectorAll('[data-field]')];
  for (let f = field; f; f = parentField(f)) {
    const el = all.find((e) => e.dataset.field === f && !e.closest('[hidden]'));
    if (el) return el;
  }
  return null;
}

let errorSeq = 0;

/* Shows message at el's error host; returns the control to focus. */
function showErrorAt(el, message) {
  const host = el.closest('.pf-err-host') || el;
  const target = el.matches('input, select, textarea') ? el : host.querySelector('input, select, textarea') || el;
  const id = `pf-error-${++errorSeq}`;
  host.append(h('p', { class: 'pf-field-error', id, role: 'alert', 'data-testid': 'field-error', 'data-for': el.dataset.field || '' }, message));
  host.classList.add('pf-has-error');
  target.setAttribute('aria-invalid', 'true');
  target.setAttribute('aria-describedby', id);
  return target;
}

function clearErrors(scope) {
  for (const e of scope.querySelectorAll('.pf-field-error')) e.remove();
  for (const e of scope.querySelectorAll('.pf-has-error')) e.classList.remove('pf-has-error');
  for (const e of scope.querySelectorAll('[aria-invalid]')) {
    e.removeAttribute('aria-invalid');
    e.removeAttribute('aria-describedby');
  }
}

/* Clears the error shown at the host of el (the user is fixing it). */
function clearErrorNear(el) {
  const host = el.closest('.pf-err-host');
  if (host && host.classList.contains('pf-has-error')) clearErrors(host);
}

/* ---- controls: each edits obj[spec.key] in place ---- */

/* ctx: {uid(), changed(), rerender(focusField, focusRole), disabled} */

function fieldWrap(spec, path, id, input, ctx, { inline = false } = {}) {
  return h(
    'div',
    { class: `pf-field pf-err-host${inline ? ' pf-inline' : ''}`, 'data-field': path },
    h('label', { for: id }, spec.title),
    input,
    spec.help && !inline ? h('p', { class: 'pf-help' }, spec.help) : null,
  );
}

function boolControl(spec, obj, path, ctx) {
  const id = ctx.uid();
  const input = h('input', { type: 'checkbox', id, 'data-key': spec.key, disabled: ctx.disabled });
  input.checked = !!(obj[spec.key] ?? spec.dflt);
  input.addEventListener('change', () => {
    obj[spec.key] = input.checked;
    clearErrorNear(input);
    ctx.changed();
  });
  return h(
    'div',
    { class: 'pf-check pf-err-host', 'data-field': path },
    input,
    h('label', { for: id }, spec.title),
    spec.help ? h('p', { class: 'pf-help' }, spec.help) : null,
  );
}

function numberControl(spec, obj, path, ctx, opts = {}) {
  const id = ctx.uid();
  const input = h('input', {
    type: 'number',
    id,
    class: 'pf-number',
    inputmode: spec.type === 'int' ? 'numeric' : 'decimal',
    step: spec.step ?? (spec.type === 'int' ? 1 : 'any'),
    min: spec.min,
    max: spec.max,
    placeholder: spec.dflt ?? '',
    'data-key': spec.key,
    disabled: ctx.disabled,
  });
  input.value = obj[spec.key] ?? '';
  const update = () => {
    clearErrorNear(input);
    if (input.value === '') delete obj[spec.key];
    else if (Number.isFinite(Number(input.value))) obj[spec.key] = Number(input.value);
    ctx.changed();
  };
  input.addEventListener('input', () => {
    update();
    if (spec.structural) ctx.refreshRow?.();
  });
  return fieldWrap(spec, path, id, input, ctx, opts);
}

function selectControl(spec, obj, path, ctx, opts = {}) {
  const id = ctx.uid();
  const options = typeof spec.options === 'function' ? spec.options() : spec.options;
  const input = h('select', { id, 'data-key': spec.key, disabled: ctx.disabled }, options.map(([v, text]) => h('option', { value: v }, text)));
  // (numeric: the value is a number, such as an endpoint's id; pickFirst:
  // a required choice starts on the first option)
  if (obj[spec.key] === undefined && spec.pickFirst && options.length) obj[spec.key] = spec.numeric ? Number(options[0][0]) : options[0][0];
  const cur = obj[spec.key] ?? spec.dflt;
  if (cur !== undefined && !options.some(([v]) => v === String(cur))) input.append(h('option', { value: String(cur) }, String(cur)));
  input.value = cur === undefined ? '' : String(cur);
  const described = spec.describe ? h('p', { class: 'pf-help', 'aria-live': 'polite' }, spec.describe[input.value] ?? '') : null;
  input.addEventListener('change', () => {
    obj[spec.key] = spec.numeric ? Number(input.value) : input.value;
    if (described) described.textContent = spec.describe[input.value] ?? '';
    clearErrorNear(input);
    ctx.changed();
    if (spec.structural) ctx.rerender(path);
  });
  const wrap = fieldWrap(spec, path, id, input, ctx, opts);
  if (described) wrap.append(described);
  return wrap;
}

function textControl(spec, obj, path, ctx) {
  const id = ctx.uid();
  const input = h('input', { type: spec.inputType || 'text', id, maxlength: spec.maxlength, placeholder: spec.placeholder, 'data-key': spec.key, disabled: ctx.disabled, autocomplete: 'off' });
  input.value = obj[spec.key] ?? '';
  input.addEventListener('input', () => {
    clearErrorNear(input);
    obj[spec.key] = input.value;
    ctx.changed();
  });
  return fieldWrap(spec, path, id, input, ctx);
}

function setControl(spec, obj, path, ctx) {
  const chosen = new Set(Array.isArray(obj[spec.key]) ? obj[spec.key] : spec.options.map(([v]) => v));
  const boxes = spec.options.map(([v, text]) => {
    const id = ctx.uid();
    const box = h('input', { type: 'checkbox', id, value: v, 'data-option': v, disabled: ctx.disabled });
    box.checked = chosen.has(v);
    box.addEventListener('change', () => {
      if (box.checked) chosen.add(v);
      else chosen.delete(v);
      obj[spec.key] = spec.options.map(([o]) => o).filter((o) => chosen.has(o));
      clearErrorNear(box);
      ctx.changed();
    });
    return h('span', { class: 'pf-check-inline' }, box, h('label', { for: id }, text));
  });
  return h('fieldset', { class: 'pf-set pf-err-host', 'data-field': path, 'data-key': spec.key }, h('legend', null, spec.title), h('div', { class: 'pf-set-options' }, boxes));
}

/* A colour (#rrggbb) of a list item: spec.dflt(index) is shown until one
 * is picked, and a reset button goes back to it (the key removed). */
function colorControl(spec, obj, path, ctx, opts = {}) {
  const id = ctx.uid();
  const dflt = spec.dflt(ctx.index ?? 0);
  const input = h('input', { type: 'color', id, class: 'pf-color', 'data-key': spec.key, disabled: ctx.disabled });
  input.value = typeof obj[spec.key] === 'string' && /^#[0-9a-f]{6}$/i.test(obj[spec.key]) ? obj[spec.key].toLowerCase() : dflt;
  const reset = h('button', { type: 'button', class: 'quiet pf-tool', 'data-role': 'color-reset', title: 'Back to the palette\'s colour', 'aria-label': 'Back to the palette\'s colour', disabled: ctx.disabled, hidden: obj[spec.key] === undefined }, '↺');
  input.addEventListener('input', () => {
    obj[spec.key] = input.value;
    reset.hidden = false;
    clearErrorNear(input);
    ctx.changed();
  });
  reset.addEventListener('click', () => {
    delete obj[spec.key];
    input.value = dflt;
    reset.hidden = true;
    ctx.changed();
    input.focus();
  });
  const wrap = fieldWrap(spec, path, id, input, ctx, opts);
  wrap.append(reset);
  return wrap;
}

/* A rating criterion's point labels: one text per point of its scale. */
function pointLabelsControl(spec, obj, path, ctx) {
  const lo = obj.min ?? 1;
  const hi = obj.max ?? 5;
  const step = obj.step ?? 1;
  const n = Math.round((hi - lo) / step) + 1;
  const ok = Number.isFinite(n) && n >= 2 && n <= 101 && Math.abs(lo + (n - 1) * step - hi) < 1e-9 * Math.max(1, Math.abs(hi));
  const id = ctx.uid();
  const on = Array.isArray(obj.labels);
  const box = h('input', { type: 'checkbox', id, 'data-key': 'labels', disabled: ctx.disabled || (!ok && !on) });
  box.checked = on;
  box.addEventListener('change', () => {
    if (box.checked) obj.labels = Array.from({ length: ok ? n : 0 }, () => '');
    else delete obj.labels;
    ctx.changed();
    ctx.rerender(path, 'labels');
  });
  const wrap = h('div', { class: 'pf-points pf-err-host', 'data-field': path }, h('div', { class: 'pf-check' }, box, h('label', { for: id }, spec.title)));
  if (!on) return wrap;
  if (!ok || obj.labels.length !== n) {
    wrap.append(
      h('p', { class: 'pf-help' }, ok ? `The scale has ${n} points but ${obj.labels.length} names: ` : 'The scale does not divide into whole steps: ', h('button', { type: 'button', class: 'quiet', onclick: fix, disabled: ctx.disabled }, ok ? `make ${n} names` : 'name nothing')),
    );
  }
  const list = h('ol', { class: 'pf-point-list' });
  obj.labels.forEach((text, i) => {
    const value = lo + i * step;
    const pid = ctx.uid();
    const input = h('input', { type: 'text', id: pid, 'data-field': `${path}[${i}]`, placeholder: '(no name)', disabled: ctx.disabled });
    input.value = text;
    input.addEventListener('input', () => {
      obj.labels[i] = input.value;
      clearErrorNear(input);
      ctx.changed();
    });
    list.append(h('li', { class: 'pf-err-host' }, h('label', { for: pid, class: 'pf-point-value' }, ok ? String(Math.round(value * 1e9) / 1e9) : `#${i + 1}`), input));
  });
  wrap.append(list);
  return wrap;

  function fix() {
    if (ok) obj.labels = Array.from({ length: n }, (_, i) => obj.labels[i] ?? '');
    else delete obj.labels;
    ctx.changed();
    ctx.rerender(path, 'labels');
  }
}

function control(spec, obj, parentPath, ctx, opts) {
  const path = parentPath ? `${parentPath}.${spec.key}` : spec.key;
  switch (spec.type) {
    case 'bool':
      return boolControl(spec, obj, path, ctx);
    case 'int':
    case 'number':
      return numberControl(spec, obj, path, ctx, opts);
    case 'select':
      return selectControl(spec, obj, path, ctx, opts);
    case 'set':
      return setControl(spec, obj, path, ctx);
    case 'names':
      return namesEditor(spec, obj, path, ctx);
    case 'pointLabels':
      return pointLabelsControl(spec, obj, path, ctx);
    case 'color':
      return colorControl(spec, obj, path, ctx, opts);
    default:
      return null;
  }
}

/* A named list (labels, criteria...): one row per item with its name,
 * description and the list's extra keys; add, remove, reorder, rename.
 * Enter in a name goes to the "add" box; Alt+Up/Down moves a row; a paste
 * of several lines into the add box adds one item per line. */
function namesEditor(spec, obj, path, ctx) {
  const wrap = h('fieldset', { class: `pf-names pf-err-host${spec.compact ? ' pf-compact' : ''}`, 'data-field': path, 'data-list': spec.key });
  wrap.append(h('legend', null, spec.title));
  if (spec.help) wrap.append(h('p', { class: 'pf-help' }, spec.help));
  if (obj[spec.key] !== undefined && !Array.isArray(obj[spec.key])) {
    wrap.append(h('p', { class: 'error' }, `This is not a list in the params: fix it with "Edit as JSON".`));
    return wrap;
  }
  const list = (obj[spec.key] ||= []);
  list.forEach((item, i) => {
    if (typeof item === 'string') list[i] = { name: item };
  });
  const rows = h('ol', { class: 'pf-rows' });
  list.forEach((item, i) => rows.append(row(item, i)));
  if (!list.length) rows.append(h('li', { class: 'pf-empty muted' }, spec.min ? `No ${spec.noun}s yet: add at least ${spec.min}.` : `No ${spec.noun}s.`));
  const addId = ctx.uid();
  const addInput = h('input', { type: 'text', id: addId, class: 'pf-add-input', placeholder: `New ${spec.noun} name`, 'data-role': 'add', 'data-add-for': path, disabled: ctx.disabled, autocomplete: 'off' });
  const addBtn = h('button', { type: 'button', 'data-action': 'add-item', 'data-add-for': path, disabled: ctx.disabled, onclick: () => add([addInput.value]) }, `Add ${spec.noun}`);
  addInput.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      add([addInput.value]);
    }
  });
  addInput.addEventListener('paste', (ev) => {
    const text = ev.clipboardData?.getData('text') ?? '';
    if (!/[\r\n]/.test(text)) return;
    ev.preventDefault();
    add(text.split(/\r?\n/));
  });
  wrap.append(rows, h('div', { class: 'pf-add' }, h('label', { for: addId, class: 'visually-hidden' }, `New ${spec.noun} name`), addInput, addBtn));
  if (!spec.compact) wrap.append(h('p', { class: 'pf-help' }, `Enter adds the ${spec.noun}; paste several lines to add several.`));
  return wrap;

  function add(names) {
    const fresh = names.map((s) => s.trim()).filter(Boolean);
    if (!fresh.length) {
      addInput.focus();
      return;
    }
    for (const name of fresh) list.push(spec.newItem ? spec.newItem(name) : { name });
    ctx.changed();
    ctx.rerender(path, 'add');
  }

  /* Moves item i to index to; the focus goes to role in the moved row (its
   * name, or the button used, or the other one once that is disabled). */
  function move(i, to, role) {
    if (to < 0 || to >= list.length) return;
    list.splice(to, 0, list.splice(i, 1)[0]);
    ctx.changed();
    const edge = (role === 'down' && to === list.length - 1) || (role === 'up' && to === 0);
    ctx.rerender(`${path}[${to}]`, edge ? (role === 'up' ? 'down' : 'up') : role);
  }

  function remove(i) {
    list.splice(i, 1);
    ctx.changed();
    if (list.length) ctx.rerender(`${path}[${Math.min(i, list.length - 1)}]`, 'name');
    else ctx.rerender(path, 'add');
  }

  function row(item, i) {
    const rowPath = `${path}[${i}]`;
    const nameId = ctx.uid();
    const name = h('input', { type: 'text', id: nameId, class: 'pf-name', 'data-role': 'name', 'data-field': `${rowPath}.name`, disabled: ctx.disabled, autocomplete: 'off' });
    name.value = item.name ?? '';
    name.addEventListener('input', () => {
      item.name = name.value;
      clearErrorNear(name);
      ctx.changed();
    });
    name.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter') {
        ev.preventDefault();
        addInput.focus();
      } else if (ev.altKey && (ev.key === 'ArrowUp' || ev.key === 'ArrowDown')) {
        ev.preventDefault();
        move(i, ev.key === 'ArrowUp' ? i - 1 : i + 1, 'name');
      }
    });
    const desc = h('input', { type: 'text', class: 'pf-desc', placeholder: 'Description (optional)', 'aria-label': `${cap(spec.noun)} ${i + 1} description`, 'data-role': 'description', 'data-field': `${rowPath}.description`, disabled: ctx.disabled, autocomplete: 'off' });
    desc.value = item.description ?? '';
    desc.addEventListener('input', () => {
      if (desc.value) item.description = desc.value;
      else delete item.description;
      clearErrorNear(desc);
      ctx.changed();
    });
    /* Controls that depend on other keys of the item (a criterion's point
     * names on its scale) are remade in place as those keys change. */
    const rowCtx = { ...ctx, refreshRow, index: i };
    const live = new Map();
    const build = (x) => {
      const c = control(x, item, rowPath, rowCtx, { inline: x.type !== 'names' && x.type !== 'pointLabels' && x.type !== 'bool' });
      if (x.type === 'pointLabels') live.set(x, c);
      return c;
    };
    function refreshRow() {
      for (const [x, old] of live) {
        const fresh = build(x);
        old.replaceWith(fresh);
      }
    }
    const tool = (role, text, label, fn, off) => h('button', { type: 'button', class: 'quiet pf-tool', 'data-role': role, 'aria-label': label, title: label, disabled: ctx.disabled || off, onclick: fn }, text);
    const extras = spec.extras.filter((x) => !x.showIf || x.showIf(item)).map(build);
    return h(
      'li',
      { class: 'pf-row pf-err-host', 'data-field': rowPath, 'data-index': i },
      h(
        'div',
        { class: 'pf-row-main' },
        h('label', { for: nameId, class: 'pf-row-num', title: `${cap(spec.noun)} ${i + 1}` }, h('span', { class: 'visually-hidden' }, `${cap(spec.noun)} ${i + 1} name`), h('span', { 'aria-hidden': 'true' }, String(i + 1))),
        name,
        desc,
        h(
          'div',
          { class: 'pf-row-tools' },
          tool('up', '↑', `Move ${spec.noun} ${i + 1} up`, () => move(i, i - 1, 'up'), i === 0),
          tool('down', '↓', `Move ${spec.noun} ${i + 1} down`, () => move(i, i + 1, 'down'), i === list.length - 1),
          tool('remove', '✕', `Remove ${spec.noun} ${i + 1}`, () => remove(i), false),
        ),
      ),
      extras.length ? h('div', { class: 'pf-row-extras' }, extras) : null,
    );
  }
}

/* ---- the project form ---- */

/* Builds the form for a new project (project null) or an existing one.
 * Returns {el, focusFirst()}. */
function projectForm({ project, kinds, canEdit, onSaved }) {
  const isNew = !project;
  let seq = 0;
  const uid = () => `pf-${++seq}`;
  const original = project ? clone(project) : null;
  const state = {
    name: project?.name ?? '',
    kind: project?.kind ?? null,
    params: clone(project?.params) ?? {},
    policy: {},
    callback_url: project?.callback_url ?? '',
    metadata: JSON.stringify(project?.metadata ?? {}, null, 2),
    autoLabel: clone(project?.auto_label) ?? { ...AUTO_LABEL_DEFAULTS },
  };
  for (const s of POLICY) if (project && project[s.key] !== undefined) state.policy[s.key] = project[s.key];
  if (isNew) for (const s of POLICY) state.policy[s.key] = s.dflt;
  if (isNew && kinds.length) {
    state.kind = kinds[0].name;
    state.params = defaultParams(state.kind, null);
  }
  let jsonMode = false;
  let busy = false;

  const form = h('form', { class: 'pf-form', novalidate: true, 'data-testid': 'project-form' });
  const topError = h('div', { class: 'error', role: 'alert', 'data-testid': 'form-error', hidden: true });
  const dirtyNote = h('span', { class: 'pf-dirty', 'data-testid': 'dirty', hidden: true }, 'Unsaved changes');
  const submitBtn = h('button', { type: 'submit', class: 'primary', 'data-action': 'save', disabled: !canEdit }, isNew ? 'Create project' : 'Save changes');

  const ctx = { uid, disabled: !canEdit, changed, rerender: () => {} };

  /* basics */
  const nameCtl = textControl({ key: 'name', title: 'Name', maxlength: 200, placeholder: 'e.g. Street signs, June' }, state, 'name', ctx);
  const kindBox = h('div', { class: 'pf-kind-area' });
  const basics = h('section', { class: 'card pf-section', 'aria-labelledby': 'pf-basics-h' }, h('h2', { id: 'pf-basics-h' }, 'Project'), nameCtl, kindBox);

  /* params */
  const paramsHost = h('div', { class: 'pf-params', 'data-testid': 'params-editor' });
  const jsonId = uid();
  const jsonArea = h('textarea', { id: jsonId, class: 'pf-json', rows: 16, spellcheck: 'false', 'data-testid': 'params-json', disabled: !canEdit });
  const jsonWrap = h('div', { class: 'pf-field pf-err-host', 'data-field': 'params', hidden: true }, h('label', { for: jsonId }, 'params (JSON)'), jsonArea, h('p', { class: 'pf-help' }, 'Exactly what is sent as the project\'s params, instructions included. See KINDS.md for each kind.'));
  const jsonBtn = h('button', { type: 'button', class: 'pf-small', 'data-action': 'toggle-json', 'aria-pressed': 'false', onclick: toggleJson }, 'Edit as JSON');
  jsonArea.addEventListener('input', () => {
    clearErrorNear(jsonArea);
    try {
      const v = JSON.parse(jsonArea.value);
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        state.params = v;
        refreshDirty();
      }
    } catch {
      /* shown when leaving JSON mode or saving */
    }
  });
  const paramsSection = h(
    'section',
    { class: 'card pf-section', 'aria-labelledby': 'pf-params-h' },
    h('div', { class: 'pf-section-head' }, h('h2', { id: 'pf-params-h' }, 'What annotators do'), jsonBtn),
    paramsHost,
    jsonWrap,
  );

  /* instructions */
  const instrId = uid();
  const instr = h('textarea', { id: instrId, class: 'pf-instructions', rows: 10, 'data-testid': 'instructions', disabled: !canEdit, placeholder: 'What to look for, how to decide, examples of hard cases…' });
  const preview = h('div', { class: 'md pf-preview', 'data-testid': 'instructions-preview', 'aria-live': 'polite' });
  const instrWrap = h(
    'div',
    { class: 'pf-field pf-err-host', 'data-field': 'params.instructions' },
    h('label', { for: instrId }, 'Instructions (Markdown)'),
    h('div', { class: 'pf-md' }, instr, h('div', { class: 'pf-preview-box' }, h('p', { class: 'pf-preview-title' }, 'Preview'), preview)),
    h('p', { class: 'pf-help' }, '**bold**, *italic*, `code`, lists (- or 1.), # headings and [links](https://…). Annotators open them with the i key.'),
  );
  const jsonInstrNote = h('p', { class: 'note', hidden: true }, 'The instructions are in the JSON while you edit the params as JSON.');
  instr.addEventListener('input', () => {
    if (instr.value) state.params.instructions = instr.value;
    else delete state.params.instructions;
    clearErrorNear(instr);
    showPreview();
    changed();
  });
  const instrSection = h('section', { class: 'card pf-section', 'aria-labelledby': 'pf-instr-h' }, h('h2', { id: 'pf-instr-h' }, 'Instructions'), instrWrap, jsonInstrNote);

  /* policy */
  const autoFigures = h('p', { class: 'pf-help', 'data-testid': 'auto-label-figures', 'aria-live': 'polite' });
  const grid = (specs) => h('div', { class: 'pf-grid' }, specs.map((s) => control(s, state.policy, '', ctx)));
  const policySection = h(
    'section',
    { class: 'card pf-section', 'aria-labelledby': 'pf-policy-h' },
    h('h2', { id: 'pf-policy-h' }, 'Workflow'),
    grid(WORKFLOW),
    h('h2', { class: 'pf-subhead' }, 'Gold and quality'),
    grid(QUALITY),
    h('h2', { class: 'pf-subhead' }, 'Auto-labeling'),
    h('div', { class: 'pf-grid', 'data-testid': 'auto-label' }, AUTO_LABEL.map((s) => control(s, state.autoLabel, 'auto_label', ctx)), textControl(AUTO_LABEL_MODEL, state.autoLabel, 'auto_label.model', ctx)),
    autoFigures,
  );
  /* A field that means something only with another's value (the measure,
   * with the uncertainty strategy) is hidden otherwise; it is still sent. */
  const showPolicy = () => {
    for (const spec of POLICY.filter((x) => x.onlyIf)) {
      const f = policySection.querySelector(`[data-field="${spec.key}"]`);
      if (f) f.hidden = !spec.onlyIf(state.policy);
    }
  };
  policySection.addEventListener('change', showPolicy);
  showPolicy();
  if (!isNew && canEdit)
    api
      .get(`/v1/projects/${project.id}/autolabel`)
      .then((r) => (autoFigures.textContent = autoLabelSummary(r)))
      .catch(() => {});

  /* integration */
  const cb = textControl({ key: 'callback_url', title: 'Callback URL', inputType: 'url', placeholder: 'https://… (empty: none)' }, state, 'callback_url', ctx);
  cb.append(h('p', { class: 'pf-help' }, 'Loupe posts each completed task and batch there, signed (Standard Webhooks).'));
  const metaId = uid();
  const metaArea = h('textarea', { id: metaId, class: 'pf-json', rows: 4, spellcheck: 'false', disabled: !canEdit, 'data-testid': 'metadata' });
  metaArea.value = state.metadata;
  metaArea.addEventListener('input', () => {
    state.metadata = metaArea.value;
    clearErrorNear(metaArea);
    changed();
  });
  const meta = h('div', { class: 'pf-field pf-err-host', 'data-field': 'metadata' }, h('label', { for: metaId }, 'Metadata (a JSON object, yours to use)'), metaArea);
  const advanced = h('details', { class: 'card pf-section pf-advanced' }, h('summary', null, h('h2', null, 'Integration')), cb, meta);
  if (project?.callback_url || (project && Object.keys(project.metadata || {}).length)) advanced.open = true;

  const cancel = h('a', { class: 'button quiet', href: isNew ? '#/projects' : '#/projects' }, isNew ? 'Cancel' : 'Back to projects');
  const actions = h('div', { class: 'form-actions pf-actions' }, submitBtn, cancel, dirtyNote);

  form.append(topError, basics, paramsSection, instrSection, policySection, advanced, actions);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    save();
  });
  form.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      save();
    }
  });

  renderKind();
  renderParams();
  fillInstructions();

  return {
    el: form,
    focusFirst: () => form.querySelector('input:not([disabled])')?.focus(),
    get dirty() {
      return Object.keys(changes()).length > 0;
    },
  };

  /* -- kind -- */

  function renderKind() {
    if (!isNew) {
      const k = kinds.find((x) => x.name === state.kind);
      kindBox.replaceChildren(
        h(
          'div',
          { class: 'pf-field', 'data-field': 'kind' },
          h('span', { class: 'pf-label' }, 'Kind'),
          h('p', { class: 'pf-kind-fixed', 'data-testid': 'kind' }, h('strong', null, KIND_TITLES[state.kind] || state.kind), ' ', h('code', null, state.kind), k ? h('span', { class: 'muted' }, ` — ${k.summary}`) : null),
          h('p', { class: 'pf-help' }, "A project's kind cannot change. Make a new project for another kind of work."),
        ),
      );
      return;
    }
    const radios = kinds.map((k) => {
      const id = uid();
      const r = h('input', { type: 'radio', name: 'pf-kind', id, value: k.name, 'data-kind': k.name });
      r.checked = state.kind === k.name;
      r.addEventListener('change', () => {
        if (!r.checked) return;
        const old = state.params;
        state.kind = k.name;
        state.params = defaultParams(k.name, old);
        clearErrorNear(r);
        renderParams();
        fillInstructions();
        changed();
      });
      return h('li', null, r, h('label', { for: id, class: 'pf-kind-option' }, h('span', { class: 'pf-kind-name' }, KIND_TITLES[k.name] || k.name), h('span', { class: 'pf-kind-summary' }, k.summary)));
    });
    kindBox.replaceChildren(h('fieldset', { class: 'pf-kinds pf-err-host', 'data-field': 'kind', 'data-testid': 'kinds' }, h('legend', null, 'Kind of task'), h('ul', { class: 'pf-kind-list' }, radios)));
  }

  /* -- params -- */

  function renderParams(focusField, focusRole) {
    const schema = SCHEMAS[state.kind];
    paramsHost.replaceChildren();
    if (!state.kind) {
      paramsHost.append(h('p', { class: 'muted' }, 'Pick a kind of task first.'));
      return;
    }
    if (!schema) {
      paramsHost.append(h('p', { class: 'note' }, `This browser has no form for the params of "${state.kind}": edit them as JSON.`));
      if (!jsonMode) toggleJson();
      return;
    }
    ctx.rerender = (f, role) => {
      renderParams(f, role);
    };
    for (const spec of schema) paramsHost.append(control(spec, state.params, 'params', ctx));
    if (focusField) {
      const el = [...paramsHost.querySelectorAll('[data-field]')].find((e) => e.dataset.field === focusField);
      const target =
        (focusRole && (el?.querySelector(`[data-role="${focusRole}"]`) || el?.querySelector(`[data-key="${focusRole}"]`) || (focusRole === 'add' && el?.querySelector('[data-role=add]')))) ||
        (el?.matches('input, select, textarea') ? el : el?.querySelector('input:not([disabled]), select, textarea'));
      if (target && !target.disabled) target.focus();
      else el?.querySelector('button:not([disabled])')?.focus();
    }
  }

  function fillInstructions() {
    instr.value = typeof state.params.instructions === 'string' ? state.params.instructions : '';
    showPreview();
  }

  function showPreview() {
    preview.replaceChildren(instr.value.trim() ? renderMarkdown(instr.value) : h('p', { class: 'muted' }, 'Nothing yet.'));
  }

  function toggleJson() {
    if (!jsonMode) {
      jsonArea.value = JSON.stringify(state.params, null, 2);
      jsonMode = true;
    } else {
      const v = parseParams();
      if (!v) return;
      state.params = v;
      jsonMode = false;
      renderParams();
      fillInstructions();
    }
    jsonBtn.setAttribute('aria-pressed', String(jsonMode));
    jsonBtn.textContent = jsonMode ? 'Back to the form' : 'Edit as JSON';
    paramsHost.hidden = jsonMode && !!SCHEMAS[state.kind];
    jsonWrap.hidden = !jsonMode;
    instrWrap.hidden = jsonMode;
    jsonInstrNote.hidden = !jsonMode;
    if (jsonMode) jsonArea.focus();
  }

  /* The JSON text as params, or null with the error shown. */
  function parseParams() {
    clearErrors(jsonWrap);
    let v;
    try {
      v = JSON.parse(jsonArea.value);
    } catch (e) {
      showErrorAt(jsonArea, `Not valid JSON: ${e.message}`).focus();
      return null;
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) {
      showErrorAt(jsonArea, 'The params must be a JSON object ({…}).').focus();
      return null;
    }
    return v;
  }

  /* -- changes and saving -- */

  function changed() {
    refreshDirty();
  }

  function refreshDirty() {
    if (isNew) return;
    dirtyNote.hidden = Object.keys(changes()).length === 0;
  }

  function policyValue(s) {
    return state.policy[s.key] ?? s.dflt;
  }

  function metadataValue() {
    const t = state.metadata.trim();
    if (!t) return {};
    try {
      return JSON.parse(t);
    } catch {
      return undefined;
    }
  }

  /* The fields of a PATCH: only those that differ from the project. */
  function changes() {
    if (isNew) return {};
    const out = {};
    if (state.name !== original.name) out.name = state.name;
    if (!same(state.params, original.params)) out.params = state.params;
    for (const s of POLICY) if (!same(policyValue(s), original[s.key])) out[s.key] = policyValue(s);
    if (!same(state.autoLabel, original.auto_label ?? AUTO_LABEL_DEFAULTS)) out.auto_label = state.autoLabel;
    const url = state.callback_url.trim() || null;
    if (url !== (original.callback_url ?? null)) out.callback_url = url;
    const md = metadataValue();
    if (md === undefined || !same(md, original.metadata ?? {})) out.metadata = md;
    return out;
  }

  /* Problems the browser can see before sending (a number field holding
   * text, JSON that does not parse); shows them and returns false. */
  function checkLocally() {
    let first = null;
    const note = (el, msg) => {
      const t = showErrorAt(el, msg);
      first ||= t;
    };
    for (const input of form.querySelectorAll('input[type=number]')) if (input.validity.badInput && input.offsetParent !== null) note(input, 'Enter a number.');
    if (!isNew && !state.name.trim()) note(nameCtl.querySelector('input'), 'A project needs a name.');
    if (isNew && !state.kind) note(kindBox.querySelector('input') || kindBox, 'Pick a kind of task.');
    if (metadataValue() === undefined || (metadataValue() && (typeof metadataValue() !== 'object' || Array.isArray(metadataValue())))) {
      advanced.open = true;
      note(metaArea, 'The metadata must be a JSON object ({…}).');
    }
    if (first) first.focus();
    return !first;
  }

  async function save() {
    if (busy || !canEdit) return;
    clearErrors(form);
    topError.hidden = true;
    if (jsonMode) {
      const v = parseParams();
      if (!v) return;
      state.params = v;
    }
    if (!checkLocally()) {
      setStatus('Fix the highlighted field first', 'warn');
      return;
    }
    let body;
    if (isNew) {
      body = { name: state.name, kind: state.kind, params: state.params };
      for (const s of POLICY) body[s.key] = policyValue(s);
      body.auto_label = state.autoLabel;
      const url = state.callback_url.trim();
      if (url) body.callback_url = url;
      const md = metadataValue();
      if (md && Object.keys(md).length) body.metadata = md;
    } else {
      body = changes();
      if (!Object.keys(body).length) {
        setStatus('Nothing to save: no changes', 'info');
        return;
      }
    }
    busy = true;
    submitBtn.disabled = true;
    setStatus(isNew ? 'Creating the project…' : 'Saving…', 'busy');
    try {
      const saved = isNew ? await api.post('/v1/projects', body) : (await request('PATCH', `/v1/projects/${original.id}`, body)).data;
      onSaved(saved, Object.keys(body));
    } catch (e) {
      if (e.status === 401) return;
      showServerError(e);
    } finally {
      busy = false;
      submitBtn.disabled = !canEdit;
    }
  }

  function showServerError(e) {
    const message = humanMessage(e.message, e.field, state.kind);
    let el = e.field ? findField(form, e.field) : null;
    if (el && jsonMode && e.field.startsWith('params')) el = jsonArea;
    if (el && e.status >= 400 && e.status < 500) {
      const details = el.closest('details');
      if (details) details.open = true;
      const target = showErrorAt(el, jsonMode && e.field.startsWith('params') ? `${e.field}: ${message}` : message);
      target.scrollIntoView({ block: 'center' });
      target.focus({ preventScroll: true });
      const label = el.closest('.pf-field')?.querySelector(':scope > label')?.textContent || fieldLabel(e.field, state.kind);
      setStatus(`Not saved: ${label}: ${message}`, 'error');
      return;
    }
    topError.replaceChildren(isNew ? 'The project was not created: ' : 'Not saved: ', e.field ? `${e.field}: ` : '', message);
    topError.hidden = false;
    topError.scrollIntoView({ block: 'center' });
    setStatus(isNew ? 'The project was not created' : 'Not saved', 'error');
  }
}

/* Params for a newly picked kind: its lists start empty, except those the
 * previous kind had too (labels), and the instructions stay. */
function defaultParams(kind, old) {
  const p = {};
  for (const s of SCHEMAS[kind] || []) if (s.type === 'names') p[s.key] = Array.isArray(old?.[s.key]) && old[s.key].every((x) => x && typeof x === 'object' && Object.keys(x).every((k) => k === 'name' || k === 'description')) ? old[s.key] : [];
  if (typeof old?.instructions === 'string') p.instructions = old.instructions;
  return p;
}

/* ---- the page ---- */

export function renderProjectForm(root, { projectId } = {}) {
  const isNew = !projectId;
  let alive = true;
  let form = null;
  document.title = isNew ? 'New project · Loupe' : 'Project settings · Loupe';
  const info = h('p', { class: 'loading' }, 'Loading…');
  const error = h('div', { class: 'error', role: 'alert', 'data-testid': 'error', hidden: true });
  const title = h('h1', { class: 'ws-title', 'data-testid': 'page-title' }, isNew ? 'New project' : 'Project settings');
  const tools = h('div', { class: 'ws-tools' });
  const body = h('div', { class: 'pf-body' });
  root.replaceChildren(h('section', { class: 'pf', 'data-testid': 'project-page' }, h('div', { class: 'ws-head' }, h('a', { class: 'back', href: '#/projects' }, '← Projects'), title, tools), error, info, body));

  const onBeforeUnload = (ev) => {
    if (form?.dirty) {
      ev.preventDefault();
      ev.returnValue = '';
    }
  };
  window.addEventListener('beforeunload', onBeforeUnload);

  start();
  return () => {
    alive = false;
    window.removeEventListener('beforeunload', onBeforeUnload);
    if (form?.dirty) setStatus('Unsaved changes to the project were left behind', 'warn');
  };

  async function start() {
    try {
      const [kinds, me, project, endpoints] = await Promise.all([
        api.get('/v1/kinds').then((r) => r.items || []),
        api.get('/v1/me'),
        isNew ? null : api.get(`/v1/projects/${projectId}`),
        api.get('/v1/model-endpoints').then((r) => r.items || []).catch(() => []),
      ]);
      endpointOptions = endpoints.map((e) => [String(e.id), `${e.name} (${e.model})`]);
      if (!alive) return;
      if (isNew) return showNew(kinds);
      let role = me.role === 'admin' ? 'manager' : null;
      if (!role) {
        role = await api
          .get(`/v1/projects/${projectId}/members`)
          .then((r) => r.items.find((m) => m.user_id === me.id)?.role || 'reviewer')
          .catch(() => 'annotator');
      }
      const batches = await getAll(`/v1/projects/${projectId}/batches?limit=1000`).catch(() => []);
      if (!alive) return;
      showSettings(kinds, me, project, role, batches);
    } catch (e) {
      if (!alive || e.status === 401) return;
      info.hidden = true;
      error.replaceChildren(isNew ? `The form could not be loaded: ${e.message} ` : `This project could not be loaded: ${e.message} `);
      if (e.status !== 404 && e.status !== 403) error.append(h('button', { type: 'button', class: 'quiet', onclick: () => location.reload() }, 'Try again'));
      error.hidden = false;
    }
  }

  function showNew(kinds) {
    info.hidden = true;
    form = projectForm({
      project: null,
      kinds,
      canEdit: true,
      onSaved(p) {
        form = null; // saved: nothing to warn about
        justCreated = p.id;
        setStatus(`Project "${p.name}" created`, 'ok');
        location.hash = `#/projects/${p.id}/settings`;
      },
    });
    body.replaceChildren(form.el);
    form.focusFirst();
  }

  function showSettings(kinds, me, project, role, batches) {
    info.hidden = true;
    const canManage = role === 'manager';
    const canExport = canManage || role === 'reviewer';
    const setTitle = (p) => {
      title.replaceChildren('Settings · ', h('span', { 'data-testid': 'project-name' }, p.name));
      document.title = `${p.name} · Settings · Loupe`;
    };
    setTitle(project);
    tools.replaceChildren();
    append(tools, [
      canManage ? h('a', { class: 'button quiet', href: `#/projects/${project.id}/dashboard` }, 'Dashboard') : null,
      canExport ? h('a', { class: 'button quiet', href: `#/projects/${project.id}/tasks` }, 'Tasks') : null,
      h('a', { class: 'button quiet', href: `#/projects/${project.id}/queue` }, 'Label'),
    ]);
    const panels = {};
    let exporter = null;
    let importer = null;
    const makeForm = (p) => {
      form = projectForm({
        project: p,
        kinds,
        canEdit: canManage,
        onSaved(saved, fields) {
          project = saved;
          setTitle(saved);
          setStatus(`Saved: ${fields.join(', ')}`, 'ok');
          makeForm(saved);
          form.el.querySelector('[data-action=save]')?.focus({ preventScroll: true });
          exporter?.setProject(saved);
        },
      });
      panels.settings.replaceChildren(...(canManage ? [] : [h('p', { class: 'note' }, `Only a manager of this project can change its settings (you are ${role}).`)]), form.el);
    };
    const tabDefs = [
      ['settings', 'Settings'],
      ['members', 'Members'],
      canManage ? ['import', 'Import tasks'] : null,
      canExport ? ['export', 'Export'] : null,
      canManage ? ['models', 'Models'] : null,
    ].filter(Boolean);
    const tabList = h('div', { class: 'pf-tabs', role: 'tablist', 'aria-label': 'Project pages' });
    const tabs = {};
    for (const [key, text] of tabDefs) {
      tabs[key] = h('button', { type: 'button', role: 'tab', id: `pf-tab-${key}`, 'aria-controls': `pf-panel-${key}`, 'data-tab': key, onclick: () => select(key) }, text);
      panels[key] = h('div', { role: 'tabpanel', id: `pf-panel-${key}`, 'aria-labelledby': `pf-tab-${key}`, class: 'pf-tabpanel', 'data-panel': key });
      tabList.append(tabs[key]);
    }
    tabList.addEventListener('keydown', (ev) => {
      const keys = tabDefs.map(([k]) => k);
      const i = keys.indexOf(document.activeElement?.dataset?.tab);
      if (i < 0) return;
      let j = null;
      if (ev.key === 'ArrowRight') j = (i + 1) % keys.length;
      else if (ev.key === 'ArrowLeft') j = (i - 1 + keys.length) % keys.length;
      else if (ev.key === 'Home') j = 0;
      else if (ev.key === 'End') j = keys.length - 1;
      if (j === null) return;
      ev.preventDefault();
      select(keys[j]);
      tabs[keys[j]].focus();
    });
    makeForm(project);
    panels.members.append(membersPanel({ project, me, canManage }));
    const models = canManage ? modelPanel({ project }) : null;
    if (models) panels.models.append(models.el);
    if (canExport) {
      exporter = exportPanel({ project, batches, formats: kinds.find((k) => k.name === project.kind)?.exports });
      panels.export.append(exporter.el);
    }
    if (canManage) {
      importer = importPanel({
        project,
        imports: kinds.find((k) => k.name === project.kind)?.imports,
        isAlive: () => alive,
        async onImported() {
          const [p, bs] = await Promise.all([api.get(`/v1/projects/${project.id}`).catch(() => null), getAll(`/v1/projects/${project.id}/batches?limit=1000`).catch(() => null)]);
          if (!alive) return;
          if (p) {
            project = { ...project, counts: p.counts };
            exporter?.setProject(project);
          }
          if (bs) exporter?.setBatches(bs);
        },
      });
      panels.import.append(importer.el);
    }
    body.replaceChildren(tabList, ...Object.values(panels));
    const first = justCreated === project.id && canManage ? 'import' : 'settings';
    if (first === 'import') panels.import.prepend(h('p', { class: 'note', 'data-testid': 'created-note' }, `The project is ready. Next, import its tasks from a file (or with the API), then add members.`));
    justCreated = null;
    select(first);

    function select(key) {
      for (const [k] of tabDefs) {
        tabs[k].setAttribute('aria-selected', String(k === key));
        tabs[k].tabIndex = k === key ? 0 : -1;
        panels[k].hidden = k !== key;
      }
      if (models && key === 'models') models.show();
      else if (models) models.hide();
    }
  }
}
