// editor-comparison.js -- the answer editor for `comparison` (not written yet).
export const comparisonEditor = null;
export default comparisonEditor;
