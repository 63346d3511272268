// run.mjs -- runs every tests/api/*.test.mjs (one file at a time, each
// starting its own server) with tests/runner.mjs: each failure with its
// details, then exactly "N passed, N failed".
//
//   LOUPE_BIN=./loupe node tests/api/run.mjs [FILTER...]
//
// FILTER words restrict the run to test files whose name contains one.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSuite } from '../runner.mjs';

await runSuite({
  dir: path.dirname(fileURLToPath(import.meta.url)),
  what: 'API',
  limitMs: Number(process.env.LOUPE_API_TEST_TIMEOUT_MS || (process.env.LOUPE_SANITIZED === '1' ? 900000 : 300000)),
});
