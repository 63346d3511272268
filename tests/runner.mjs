// runner.mjs -- the one test runner of the Node suites (tests/api,
// tests/browser): runs every DIR/*.test.mjs one file at a time, prints each
// failure with its details and the file's output, and ends with exactly
// "N passed, N failed"; exits non-zero if anything failed.  A watchdog ends
// a run that hangs.  FILTER words (argv) restrict the run to test files
// whose name contains one.
import { run } from 'node:test';
import fs from 'node:fs';
import path from 'node:path';

/* Ends the run before it starts, counted as one failure. */
export function cannotRun(why) {
  console.log(why);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

/* dir: the suite's directory; what: its name in messages ("API",
 * "browser"); limitMs: how long one test file may run (the watchdog ends
 * the whole run after limitMs per file); frames: the file names whose
 * stack frames a failure shows. */
export async function runSuite({ dir, what, limitMs, frames = /\.test\.mjs|harness\.mjs/ }) {
  const filters = process.argv.slice(2);
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.test.mjs'))
    .filter((f) => !filters.length || filters.some((w) => f.includes(w)))
    .sort()
    .map((f) => path.join(dir, f));

  const bin = path.resolve(process.env.LOUPE_BIN || './loupe');
  if (!fs.existsSync(bin)) {
    cannotRun(`LOUPE_BIN ${bin} does not exist (build it: make loupe)`);
  }

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
        const shown = String(err.stack)
          .split('\n')
          .filter((l) => /^\s+at /.test(l) && frames.test(l))
          .slice(0, 4);
        if (shown.length) lines.push(shown.join('\n'));
      }
      if (err.cause && depth < 3) lines.push(`cause: ${describeError(err.cause, depth + 1)}`);
    }
    return lines.filter(Boolean).join('\n');
  }

  // Watchdog: a hung server must not hang CI.
  const totalMs = limitMs * Math.max(1, files.length);
  const watchdog = setTimeout(() => {
    console.log(`the ${what} tests did not finish within ${totalMs / 1000} s (${files.length} files)`);
    console.log(`${passed} passed, ${failed + 1} failed`);
    process.exit(1);
  }, totalMs);
  watchdog.unref();

  const stream = run({ files, concurrency: 1, timeout: limitMs });
  // Tests declared through harness.mjs's wrapper report harness.mjs as their
  // file; files run one at a time, so the last test file seen is theirs.
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

}
