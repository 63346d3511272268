// editor-ranking.js -- the answer editor for `ranking` (not written yet).
export const rankingEditor = null;
export default rankingEditor;
