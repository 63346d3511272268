// editors.js -- the answer editor of each kind of task, by kind name, as
// the server's kind table (src/kind.c) lists the kinds.  A kind without an
// entry here has no editor in the browser; the workspace says so.
//
// Every editor is an object (one module per kind, editor-KIND.js):
//   kind          the kind's name
//   shortcuts     [[key, what it does], ...] for the workspace's help list
//   showsTask     true: the editor draws the task's input itself (an image
//                 to draw on, a text to select spans in, responses to
//                 compare); the workspace then shows only the task's id and
//                 any review comment.  false or absent: the workspace draws
//                 the task (task.js renderTask) above the editor.
//   mount(el, {params, task, value, onChange, readOnly})
//                 draws the editor in el and returns an instance.  params:
//                 the project's normalised params (docs/KINDS.md); task:
//                 the task object (data, attachments, predictions); value:
//                 a response or saved draft to start from, or null (an
//                 editor may then start from the task's best prediction and
//                 say so); onChange(response) after every change the user
//                 makes; readOnly: show value, allow no change (a reviewer
//                 looking at an annotation).  Several instances may be
//                 mounted at once (a review shows every annotation).
//                 The workspace also passes assignment (the lease being
//                 worked, {id, ...}) to editors that call the server on
//                 the lease's behalf (redteam's live chat); review and the
//                 task browser do not.
//
// An instance:
//   value()       the response as it stands (JSON, as the API takes it)
//   valid()       true when value() may be submitted
//   keys(ev)      handles a keydown the workspace did not take (the
//                 workspace has already skipped keys typed into inputs and
//                 textareas); true: handled, the workspace prevents the
//                 default
//   unmount()     stops timers and listeners; el is then dropped

import { categorizationEditor } from './editor-categorization.js';
import { imageannotationEditor } from './editor-imageannotation.js';
import { nerEditor } from './editor-ner.js';
import { transcriptionEditor } from './editor-transcription.js';
import { comparisonEditor } from './editor-comparison.js';
import { rankingEditor } from './editor-ranking.js';
import { ratingEditor } from './editor-rating.js';
import { textcollectionEditor } from './editor-textcollection.js';
import { redteamEditor } from './editor-redteam.js';
import { lidarannotationEditor } from './editor-lidarannotation.js';
import { segmentationEditor } from './editor-segmentation.js';
import { videoannotationEditor } from './editor-videoannotation.js';

const editors = new Map(
  [categorizationEditor, imageannotationEditor, nerEditor, transcriptionEditor, comparisonEditor, rankingEditor, ratingEditor, textcollectionEditor, redteamEditor, lidarannotationEditor, segmentationEditor, videoannotationEditor].filter(Boolean).map((e) => [e.kind, e]),
);

export function editorFor(kind) {
  return editors.get(kind) || null;
}

export function editorKinds() {
  return [...editors.keys()];
}
