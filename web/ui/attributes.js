// attributes.js -- the attributes a shape, track or cuboid carries (the
// image, video and lidar editors): their definitions read from a project's
// params, and what is wrong with a value, as the server checks it
// (lp_v_attribute_values in src/valid.c), so that an editor says so before
// a submit is refused.
import { namedList } from './dom.js';

const TYPES = ['category', 'number', 'text', 'boolean'];
const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

/* The definitions in list (params.attributes or the like): {name,
 * description, type, choices: [{name, description}], min, max, required};
 * unknown types are left out. */
export function attributeDefs(list) {
  return namedList(list)
    .filter((a) => TYPES.includes(a.type))
    .map((a) => ({
      name: a.name,
      description: typeof a.description === 'string' ? a.description : '',
      type: a.type,
      choices: a.type === 'category' ? namedList(a.choices) : [],
      min: a.type === 'number' && isNum(a.min) ? a.min : null,
      max: a.type === 'number' && isNum(a.max) ? a.max : null,
      required: a.required === true,
    }));
}

/* What is wrong with value v of attribute a (undefined: not set), or null. */
export function attrProblem(a, v) {
  if (v === undefined) return a.required ? `${a.name} is required.` : null;
  switch (a.type) {
    case 'category':
      return a.choices.some((c) => c.name === v) ? null : `${a.name}: ${JSON.stringify(v)} is not one of its choices.`;
    case 'number':
      if (!isNum(v)) return `${a.name} must be a number.`;
      if (a.min !== null && v < a.min) return `${a.name} must be at least ${a.min}.`;
      if (a.max !== null && v > a.max) return `${a.name} must be at most ${a.max}.`;
      return null;
    case 'text':
      return typeof v === 'string' ? null : `${a.name} must be a text.`;
    case 'boolean':
      return typeof v === 'boolean' ? null : `${a.name} must be yes or no.`;
    default:
      return null;
  }
}

/* The problems of the attributes object attributes against defs, each
 * prefixed by prefix. */
export function attributeProblems(defs, attributes, prefix = '') {
  const out = [];
  for (const a of defs) {
    const why = attrProblem(a, attributes?.[a.name]);
    if (why) out.push(prefix + why);
  }
  return out;
}

/* The line under an editor that says what keeps the answer from being
 * submitted: the first three problems and how many more. */
export function problemsLine(p) {
  return p.length ? `Before submitting: ${p.slice(0, 3).join(' ')}${p.length > 3 ? ` (and ${p.length - 3} more)` : ''}` : '';
}
