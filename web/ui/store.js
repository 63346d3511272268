// store.js -- what the browser keeps per assignment in localStorage, so a
// reload or a lost connection loses no work:
//   loupe.aid.ID    the submit's annotation_id, made once per assignment,
//                   so a retried submit is the same submit
//   loupe.draft.ID  the answer as last edited, and whether the server has it
// Entries older than two weeks are dropped at start-up.  Without
// localStorage (a private window that refuses it) the values live in
// memory for as long as the page.

const PREFIX = 'loupe.';
const MAX_AGE_MS = 14 * 24 * 3600 * 1000;
const memory = new Map();

/* This page's own value first: it is the newest, also when localStorage
 * refused it. */
function read(key) {
  if (memory.has(key)) return memory.get(key);
  try {
    const s = localStorage.getItem(key);
    if (s !== null) return JSON.parse(s);
  } catch {
    /* nothing kept */
  }
  return null;
}

/* Drops the drafts the server already has (other than keep): localStorage
 * is full. */
function freeSpace(keep) {
  for (let i = localStorage.length - 1; i >= 0; i--) {
    const k = localStorage.key(i);
    if (!k || k === keep || !k.startsWith(`${PREFIX}draft.`)) continue;
    try {
      if (JSON.parse(localStorage.getItem(k))?.saved === true) localStorage.removeItem(k);
    } catch {
      localStorage.removeItem(k);
    }
  }
}

function write(key, value) {
  const v = { ...value, t: Date.now() };
  memory.set(key, v);
  const s = JSON.stringify(v);
  try {
    localStorage.setItem(key, s);
  } catch {
    // Full: make room and try once more; failing that, an older value must
    // not be restored after a reload in place of this one.
    try {
      freeSpace(key);
      localStorage.setItem(key, s);
    } catch {
      try {
        localStorage.removeItem(key);
      } catch {
        /* memory only */
      }
    }
  }
}

function remove(key) {
  memory.delete(key);
  try {
    localStorage.removeItem(key);
  } catch {
    /* nothing kept */
  }
}

function uuid() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // crypto.randomUUID needs a secure context; getRandomValues does not.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((n) => n.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/* The annotation_id of the assignment's submit: made on first use, then
 * the same for every retry, also after a reload. */
export function annotationId(assignmentId) {
  const key = `${PREFIX}aid.${assignmentId}`;
  const r = read(key);
  if (r && typeof r.id === 'string' && r.id) return r.id;
  const id = uuid();
  write(key, { id });
  return id;
}

export function readDraft(assignmentId) {
  const r = read(`${PREFIX}draft.${assignmentId}`);
  return r && typeof r === 'object' && 'value' in r ? r : null;
}

export function writeDraft(assignmentId, value, saved) {
  write(`${PREFIX}draft.${assignmentId}`, { value, saved: !!saved });
}

/* Marks the draft saved if it still holds exactly `value`. */
export function markDraftSaved(assignmentId, value) {
  const r = readDraft(assignmentId);
  if (r && JSON.stringify(r.value) === JSON.stringify(value)) writeDraft(assignmentId, r.value, true);
}

/* Forgets everything about a finished assignment. */
export function forget(assignmentId) {
  remove(`${PREFIX}aid.${assignmentId}`);
  remove(`${PREFIX}draft.${assignmentId}`);
}

export function sweep() {
  try {
    const now = Date.now();
    for (let i = localStorage.length - 1; i >= 0; i--) {
      const key = localStorage.key(i);
      if (!key || !key.startsWith(PREFIX)) continue;
      let t = 0;
      try {
        t = JSON.parse(localStorage.getItem(key))?.t || 0;
      } catch {
        t = 0;
      }
      if (now - t > MAX_AGE_MS) localStorage.removeItem(key);
    }
  } catch {
    /* no localStorage */
  }
}
