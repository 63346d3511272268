// editor-ner.js -- the answer editor for `namedentityrecognition` (not written yet).
export const nerEditor = null;
export default nerEditor;
