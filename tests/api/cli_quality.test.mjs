// cli_quality.test.mjs -- `loupe aggregate` and `loupe agreement` on CSV
// files, no server: the reference data in ../shared/data (read in place),
// every output format, and malformed input answered with the line at fault.
import { describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { it, runCli, tempDir, assertNoSanitizerReport } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const DATA = path.resolve(process.env.LOUPE_SHARED_DATA || path.join(here, '../../../shared/data'));
const crowd = (set, f) => path.join(DATA, 'crowd', set, f);

const dirs = [];
function file(name, text) {
  const d = tempDir('loupe-cliq-');
  dirs.push(d);
  const p = path.join(d, name);
  fs.writeFileSync(p, text);
  return p;
}

function ok(r, what) {
  assertNoSanitizerReport(r.stderr, what);
  assert.equal(r.status, 0, `${what} exited ${r.status}: ${r.stderr}`);
  return r;
}

describe('loupe aggregate', () => {
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('auto on the product set: a label per item, accuracy and per-class F1 against the truth', () => {
    const r = ok(runCli(['aggregate', crowd('product', 'answers.csv'), '--truth', crowd('product', 'truth.csv')]), 'aggregate');
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], 'item,label,confidence');
    assert.equal(lines.length, 8316);
    for (const l of lines.slice(1, 50)) assert.match(l, /^[^,]+,[01],(0\.\d+|1\.0+)$/);
    const acc = Number(/accuracy ([\d.]+) on 8315 items/.exec(r.stderr)?.[1]);
    assert.ok(acc >= 0.93, `accuracy ${acc}\n${r.stderr}`);
    assert.match(r.stderr, /^1\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+1011$/m);
  });

  it('json carries posteriors, per-worker skill and the evaluation', () => {
    const r = ok(runCli(['aggregate', '--method', 'dawid_skene', crowd('bluebird', 'answers.csv'), '--truth', crowd('bluebird', 'truth.csv'), '--format', 'json']), 'aggregate json');
    const out = JSON.parse(r.stdout);
    assert.equal(out.method, 'dawid_skene');
    assert.equal(out.items.length, 108);
    assert.equal(out.workers.length, 39);
    for (const it of out.items) {
      const sum = Object.values(it.posterior).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-6);
      assert.equal(it.confidence, it.posterior[it.label]);
    }
    for (const w of out.workers) assert.ok(w.skill >= 0 && w.skill <= 1 && w.answers === 108);
    assert.ok(out.evaluation.accuracy >= 0.88, `accuracy ${out.evaluation.accuracy}`);
  });

  it('numeric methods on the emotion set: MAE and RMSE', () => {
    const r = ok(runCli(['aggregate', '--method', 'mean', crowd('emotion', 'answers.csv'), '--truth', crowd('emotion', 'truth.csv')]), 'aggregate mean');
    const m = /MAE ([\d.]+), RMSE ([\d.]+) on 700 items/.exec(r.stderr);
    assert.ok(m, r.stderr);
    assert.ok(Math.abs(Number(m[1]) - 12.02) < 0.01, `MAE ${m[1]}`);
    assert.ok(Math.abs(Number(m[2]) - 17.84) < 0.01, `RMSE ${m[2]}`);
    assert.equal(r.stdout.split('\n')[0], 'item,estimate,stderr');
  });

  it('names the line of a malformed row, and of a non-number for a numeric method', () => {
    const short = file('a.csv', 'item,worker,label\n1,w1,cat\n2,w2\n');
    let r = runCli(['aggregate', short]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /a\.csv line 3: expected item,worker,label but the row has 2 fields/);
    assert.equal(r.stdout, '');
    const quote = file('b.csv', 'item,worker,label\n1,w1,"cat\n');
    r = runCli(['aggregate', quote]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /line 2/);
    const empty = file('c.csv', 'item,worker,label\n1,,cat\n');
    r = runCli(['aggregate', empty]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /line 2: the worker is empty/);
    const words = file('d.csv', 'item,worker,label\n1,w1,3\n1,w2,lots\n');
    r = runCli(['aggregate', '--method', 'median', words]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /line 3: the label "lots" is not a number/);
    const header = file('e.csv', 'item,label\n1,cat\n');
    r = runCli(['aggregate', header]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /line 1: the header has no "worker" column/);
    r = runCli(['aggregate', '--method', 'vibes', short]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown --method "vibes"/);
    r = runCli(['aggregate', '--method', 'gold_weighted', file('f.csv', '1,w1,a\n')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /gold_weighted needs --gold/);
    r = runCli(['aggregate', '/nonexistent.csv']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot read \/nonexistent\.csv/);
  });

  it('columns by header name in any order; no header means item,worker,label; names are quoted back', () => {
    const byName = file('h.csv', 'label,annotator,task,extra\ncat,w1,"a,1",x\ncat,w2,"a,1",y\ndog,w3,"a,1",z\n');
    let r = ok(runCli(['aggregate', '--method', 'majority', byName]), 'by name');
    assert.equal(r.stdout, 'item,label,confidence\n"a,1",cat,0.666667\n');
    const bare = file('i.csv', 'x,w1,dog\nx,w2,dog\n');
    r = ok(runCli(['aggregate', '--method', 'majority', bare]), 'bare');
    assert.equal(r.stdout, 'item,label,confidence\nx,dog,1.000000\n');
  });
});

describe('loupe aggregate --multi-label', () => {
  it('a worker\'s rows on an item are their label set; each label is voted on its own', () => {
    const answers = file('ml.csv', 'item,worker,label\n1,a,x\n1,a,y\n1,b,x\n1,c,x\n1,c,y\n2,a,\n2,b,z\n2,c,\n3,a,z\n3,b,z\n3,c,x\n');
    const truth = file('mlt.csv', 'item,truth\n1,x\n1,y\n2,\n3,z\n');
    const r = ok(runCli(['aggregate', '--multi-label', '--method', 'majority', answers, '--truth', truth]), 'multi');
    assert.equal(r.stdout, 'item,labels,confidence\n1,x;y,0.833333\n2,,0.666667\n3,z,0.666667\n');
    assert.match(r.stderr, /exact label sets: accuracy 1\.0000 on 3 items/);
    const j = JSON.parse(ok(runCli(['aggregate', '--multi-label', answers, '--format', 'json']), 'multi json').stdout);
    assert.equal(j.multi_label, true);
    assert.deepEqual(j.items.map((x) => x.labels), [['x', 'y'], [], ['z']]);
    assert.equal(j.workers.length, 3);
    const bad = runCli(['aggregate', '--multi-label', '--method', 'mean', answers]);
    assert.equal(bad.status, 2);
    // Without --multi-label an empty label is still an error.
    const strict = runCli(['aggregate', answers]);
    assert.equal(strict.status, 1);
    assert.match(strict.stderr, /line 7: the label is empty/);
  });
});

describe('loupe agreement', () => {
  it('reproduces the published alphas from reliability matrices', () => {
    const cases = [
      ['krippendorff2011_exampleC.csv', { nominal: 0.743, ordinal: 0.815, interval: 0.849, ratio: 0.797 }, 3],
      ['wikipedia_krippendorff_3x15.csv', { nominal: 0.691358, interval: 0.810845 }, 6],
      ['krippendorff2011_exampleA_binary.csv', { nominal: 0.095 }, 3],
    ];
    for (const [f, want, digits] of cases) {
      const r = ok(runCli(['agreement', path.join(DATA, 'agreement', f), '--format', 'json']), f);
      const out = JSON.parse(r.stdout);
      for (const [level, v] of Object.entries(want))
        assert.ok(Math.abs(out.alpha[level] - v) <= 0.5 * 10 ** -digits, `${f} ${level} ${out.alpha[level]} vs ${v}`);
    }
  });

  it('rows of item,worker,label: alpha, Fleiss, Cohen for two coders, and the text report', () => {
    // Krippendorff's example A again, as rows: alpha 0.095, Cohen 0.0909.
    const A = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0];
    const B = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0];
    const rows = ['item,worker,label', ...A.map((v, i) => `u${i},A,${v}`), ...B.map((v, i) => `u${i},B,${v}`)];
    const p = file('rows.csv', rows.join('\n') + '\n');
    const out = JSON.parse(ok(runCli(['agreement', p, '--format', 'json']), 'rows').stdout);
    assert.ok(Math.abs(out.alpha.nominal - 0.095238) < 1e-6);
    assert.ok(Math.abs(out.cohen_kappa - 1 / 11) < 1e-9);
    assert.ok(Math.abs(out.fleiss_kappa - 0.047619) < 1e-6);
    assert.equal(out.units, 10);
    assert.equal(out.coders, 2);
    const text = ok(runCli(['agreement', p, '--level', 'nominal']), 'text').stdout;
    assert.match(text, /nominal\s+0\.095238/);
    assert.doesNotMatch(text, /interval/);
    assert.match(text, /Cohen's kappa\s+0\.090909/);
    const bad = runCli(['agreement', p, '--level', 'loud']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /not "loud"/);
  });

  it('a matrix row with the wrong number of values names its line', () => {
    const p = file('m.csv', 'coder,u1,u2,u3\nA,1,2,3\nB,1,2\n');
    const r = runCli(['agreement', p]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /line 3: the header names 3 units but this row has 2 values/);
  });
});
