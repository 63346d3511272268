// run.mjs -- runs every tests/browser/*.test.mjs (one file at a time, each
// starting its own server and chromium) with tests/runner.mjs: each failure
// with its details, then exactly "N passed, N failed".  Screenshots go to
// build/screenshots/.
//
//   LOUPE_BIN=./loupe node tests/browser/run.mjs [FILTER...]
//
// FILTER words restrict the run to test files whose name contains one.
// Needs Debian's chromium (LOUPE_CHROMIUM, default /usr/bin/chromium) and
// the npm dependencies (npm ci): make test-deps installs both.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { cannotRun, runSuite } from '../runner.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const chromium = process.env.LOUPE_CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(chromium))
  cannotRun(`the browser tests cannot run: no chromium at ${chromium} (make test-deps installs Debian's chromium)`);
try {
  createRequire(path.join(here, '..', '..', 'package.json')).resolve('playwright-core');
} catch {
  cannotRun('the browser tests cannot run: playwright-core is not installed (make test-deps runs npm ci)');
}

// The screenshots of failures are of this run only.
const shots = path.join(here, '..', '..', 'build', 'screenshots');
for (const f of fs.existsSync(shots) ? fs.readdirSync(shots) : [])
  if (f.startsWith('failed-') && f.endsWith('.png')) fs.rmSync(path.join(shots, f), { force: true });

// Tests declared through browser.mjs's browserTest report harness.mjs as
// their file (it wraps the harness's it), which the runner handles.
await runSuite({
  dir: here,
  what: 'browser',
  limitMs: Number(process.env.LOUPE_BROWSER_TEST_TIMEOUT_MS || (process.env.LOUPE_SANITIZED === '1' ? 600000 : 180000)),
  frames: /\.test\.mjs|browser\.mjs|harness\.mjs/,
});
