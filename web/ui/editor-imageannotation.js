// editor-imageannotation.js -- the answer editor for `imageannotation` (not written yet).
export const imageannotationEditor = null;
export default imageannotationEditor;
