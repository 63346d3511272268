// editors.js -- the answer editor of each kind of task, by kind name, as
// the server's kind table (src/kind.c) lists the kinds.  A kind without an
// entry here has no editor in the browser yet; the workspace says so.
// The interface every editor follows is described in
// editor-categorization.js.

import { categorizationEditor } from './editor-categorization.js';

const editors = new Map([[categorizationEditor.kind, categorizationEditor]]);

export function editorFor(kind) {
  return editors.get(kind) || null;
}

export function editorKinds() {
  return [...editors.keys()];
}
