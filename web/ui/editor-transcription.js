// editor-transcription.js -- the answer editor for `transcription` (not written yet).
export const transcriptionEditor = null;
export default transcriptionEditor;
