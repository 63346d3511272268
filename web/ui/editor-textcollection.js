// editor-textcollection.js -- the answer editor for `textcollection` (not written yet).
export const textcollectionEditor = null;
export default textcollectionEditor;
