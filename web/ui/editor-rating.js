// editor-rating.js -- the answer editor for `rating` (not written yet).
export const ratingEditor = null;
export default ratingEditor;
