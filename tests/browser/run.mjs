// run.mjs -- runs every tests/browser/*.test.mjs (one file at a time, each
// starting its own server and chromium), prints each failure with its
// details, and ends with exactly "N passed, N failed".  Exits non-zero if
// anything failed.  Screenshots go to build/screenshots/.
//
//   LOUPE_BIN=./loupe node tests/browser/run.mjs [FILTER...]
//
// FILTER words restrict the run to test files whose name contains one.
// Needs Debian's chromium (LOUPE_CHROMIUM, default /usr/bin/chromium) and
// the npm dependencies (npm ci): make test-deps installs both.
import { run } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const files = fs
  .readdirSync(here)
  .filter((f) => f.endsWith('.test.mjs'))
  .filter((f) => !filters.length || filters.some((w) => f.includes(w)))
  .sort()
  .map((f) => path.join(here, f));

function cannotRun(why) {
  console.log(`the browser tests cannot run: ${why}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const bin = path.resolve(process.env.LOUPE_BIN || './loupe');
if (!fs.existsSync(bin)) cannotRun(`LOUPE_BIN ${bin} does not exist (build it: make loupe)`);
const chromium = process.env.LOUPE_CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(chromium)) cannotRun(`no chromium at ${chromium} (make test-deps installs Debian's chromium)`);
try {
  createRequire(path.join(here, '..', '..', 'package.json')).resolve('playwright-core');
} catch {
  cannotRun('playwright-core is not installed (make test-deps runs npm ci)');
}

// The screenshots of failures are of this run only.
const shots = path.join(here, '..', '..', 'build', 'screenshots');
for (const f of fs.existsSync(shots) ? fs.readdirSync(shots) : [])
  if (f.startsWith('failed-') && f.endsWith('.png')) fs.rmSync(path.join(shots, f), { force: true });

let passed = 0;
let failed = 0;
const failures = [];
const stderrByFile = new Map();
const started = Date.now();

function describeError(err, depth = 0) {
  if (!err) return '';
  const lines = [];
  const msg = err.message ?? String(err);
  if (err.failureType && err.failureType !== 'testCodeFailure') lines.push(`(${err.failureType})`);
  // node:test wraps the test's own error as err.cause
  if (err.cause && depth < 3 && err.code === 'ERR_TEST_FAILURE') {
    lines.push(describeError(err.cause, depth + 1));
  } else {
    lines.push(msg);
    if (err.stack) {
      const frames = String(err.stack)
        .split('\n')
        .filter((l) => /^\s+at /.test(l) && /\.test\.mjs|browser\.mjs|harness\.mjs/.test(l))
        .slice(0, 4);
      if (frames.length) lines.push(frames.join('\n'));
    }
    if (err.cause && depth < 3) lines.push(`cause: ${describeError(err.cause, depth + 1)}`);
  }
  return lines.filter(Boolean).join('\n');
}

// Watchdog: a hung server must not hang CI.
const limitMs = Number(process.env.LOUPE_BROWSER_TEST_TIMEOUT_MS || (process.env.LOUPE_SANITIZED === '1' ? 600000 : 180000));
const watchdog = setTimeout(() => {
  console.log(`the browser tests did not finish within ${limitMs / 1000} s`);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
}, limitMs);
watchdog.unref();

const stream = run({ files, concurrency: 1, timeout: limitMs });
// Tests declared through harness.mjs's wrapper (browser.mjs's browserTest
// uses it) report harness.mjs as their file; files run one at a time, so
// the last test file seen is theirs.
let currentFile = null;
const fileOf = (d) => (d.file && d.file.endsWith('.test.mjs') ? d.file : currentFile ?? d.file);
for await (const ev of stream) {
  const d = ev.data ?? {};
  if (d.file && d.file.endsWith('.test.mjs')) currentFile = d.file;
  switch (ev.type) {
    case 'test:pass':
      if (d.details?.type !== 'suite' && !d.skip && !d.todo) passed++;
      break;
    case 'test:fail': {
      const err = d.details?.error;
      const isSuite = d.details?.type === 'suite';
      // A suite fails when a test in it failed (already counted); it counts
      // itself only when its own hook failed.
      if (isSuite && err?.failureType === 'subtestsFailed') break;
      if (d.todo) break;
      failed++;
      failures.push({ name: d.name, file: fileOf(d), err });
      break;
    }
    case 'test:stderr':
    case 'test:stdout': {
      const f = fileOf(d) ?? '?';
      const prev = stderrByFile.get(f) ?? '';
      if (prev.length < 20000) stderrByFile.set(f, prev + (d.message ?? ''));
      break;
    }
    default:
      break;
  }
}

if (failures.length) {
  console.log('\nFAILURES\n');
  for (const f of failures) {
    console.log(`✗ ${path.basename(f.file ?? '?')} › ${f.name}`);
    console.log(describeError(f.err).replace(/^/gm, '    '));
    console.log('');
  }
  const failedFiles = new Set(failures.map((f) => f.file));
  for (const f of failedFiles) {
    const out = stderrByFile.get(f);
    if (out) console.log(`--- output of ${path.basename(f ?? '?')} ---\n${out.slice(-6000)}`);
  }
}
console.log(`\n${files.length} files in ${((Date.now() - started) / 1000).toFixed(1)} s (${bin})`);
clearTimeout(watchdog);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed || !files.length ? 1 : 0;
