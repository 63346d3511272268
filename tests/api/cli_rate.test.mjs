// cli_rate.test.mjs -- `loupe rate` on CSV files, no server: evalica's
// golden Bradley-Terry and Elo scores from the reference pairwise data
// (read in place), every output format, the same output for the same seed,
// winners given by model name, and malformed input answered with the line
// and field at fault.
import { describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { it, runCli, tempDir, assertNoSanitizerReport } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const DATA = path.resolve(process.env.LOUPE_SHARED_DATA || path.join(here, '../../../shared/data'));
const pairwise = (f) => path.join(DATA, 'pairwise', f);

const dirs = [];
function file(name, text) {
  const d = tempDir('loupe-rate-');
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

function golden(set) {
  const g = { bradley_terry: {}, elo: {} };
  for (const line of fs.readFileSync(pairwise(`${set}-golden.csv`), 'utf8').trim().split('\n').slice(1)) {
    const [alg, item, score] = line.split(',');
    if (g[alg]) g[alg][item] = Number(score);
  }
  return g;
}

describe('loupe rate', () => {
  after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  for (const set of ['simple', 'food']) {
    it(`reproduces the golden Bradley-Terry and Elo scores of ${set}`, () => {
      const out = JSON.parse(ok(runCli(['rate', pairwise(`${set}.csv`), '--format', 'json', '--rounds', '300']), set).stdout);
      const g = golden(set);
      assert.equal(out.models.length, 5);
      assert.equal(out.models_compared, 5);
      for (const m of out.models) {
        assert.ok(Math.abs(m.strength - g.bradley_terry[m.model]) < 1e-6, `${m.model} ${m.strength}`);
        assert.ok(Math.abs(m.elo - g.elo[m.model]) < 1e-6, `${m.model} elo ${m.elo}`);
        assert.ok(m.lower <= m.rating && m.rating <= m.upper, `${m.model} ${m.lower} ${m.rating} ${m.upper}`);
        assert.ok(m.rank >= 1 && m.rank <= 5);
        assert.equal(m.games, m.wins + m.ties + m.losses);
      }
      // Best first, and the mean rating is the anchor.
      for (let i = 1; i < 5; i++) assert.ok(out.models[i - 1].rating >= out.models[i].rating);
      const mean = out.models.reduce((a, m) => a + m.rating, 0) / 5;
      assert.ok(Math.abs(mean - 1000) < 1e-6);
      assert.equal(out.method.rounds, 300);
      assert.equal(out.win_rate.rates.length, 5);
      assert.equal(out.win_rate.rates[0][0], null);
      const pb = out.position_bias;
      assert.equal(pb.left + pb.right + pb.ties, out.comparisons);
    });
  }

  it('the same seed gives the same output; another seed other intervals', () => {
    const args = ['rate', pairwise('food.csv'), '--format', 'csv', '--rounds', '500'];
    const a = ok(runCli([...args, '--seed', '42']), 'seed 42').stdout;
    const b = ok(runCli([...args, '--seed', '42']), 'seed 42 again').stdout;
    const c = ok(runCli([...args, '--seed', '43']), 'seed 43').stdout;
    assert.equal(a, b);
    assert.notEqual(a, c);
    const lines = a.trim().split('\n');
    assert.equal(lines[0], 'rank,model,rating,lower,upper,elo,games,wins,ties,losses,win_rate');
    assert.equal(lines.length, 6);
    assert.match(lines[1], /^1,Tacos,1159\.\d\d,[\d.]+,[\d.]+,1013\.\d\d,13,/);
  });

  it('text: a table best first, intervals, Elo, comparisons, win rate and the position bias', () => {
    const r = ok(runCli(['rate', pairwise('food.csv'), '--k', '8', '--level', '0.9']), 'text');
    assert.match(r.stdout, /^30 comparisons of 5 models; .*90% intervals from 1000 bootstrap rounds \(seed 1\); Elo K = 8$/m);
    assert.match(r.stdout, /^rank\s+model\s+rating\s+interval\s+elo\s+comparisons\s+win rate$/m);
    assert.match(r.stdout, /^\s+1\s+Tacos\s+1159\.8\s+\[[\d.]+, [\d.]+\]\s+[\d.]+\s+13\s+0\.769$/m);
    assert.match(r.stdout, /position bias: the left answer won 46\.4% of 28 decisive votes/);
    const none = ok(runCli(['rate', pairwise('food.csv'), '--rounds', '0']), 'no rounds').stdout;
    assert.doesNotMatch(none, /\[/);
  });

  it('a winner may be the model\'s name; names with commas and quotes come back quoted', () => {
    const byWord = file('w.csv', 'left,right,winner\n"gpt,4",llama,left\nllama,"gpt,4",tie\nmistral,llama,right\nllama,mistral,left\n"gpt,4",mistral,right\n');
    const byName = file('n.csv', 'winner,left,right,note\n"gpt,4","gpt,4",llama,x\ntie,llama,"gpt,4",\nllama,mistral,llama,\nllama,llama,mistral,\nmistral,"gpt,4",mistral,\n');
    const a = ok(runCli(['rate', byWord, '--format', 'csv']), 'by word').stdout;
    const b = ok(runCli(['rate', byName, '--format', 'csv']), 'by name').stdout;
    assert.equal(a, b);
    assert.match(a, /^\d,"gpt,4",/m);
  });

  it('names the line and field of malformed input, exit status 1', () => {
    const cases = [
      ['left,right\na,b\n', /h\.csv line 1: the header has no "winner" column/],
      ['left,right,winner\na,b,left\nc,d\n', /h\.csv line 3: expected left,right,winner but the row has 2 fields/],
      ['left,right,winner\na,b,left\n\nb,c,right\n,c,tie\n', /h\.csv line 5: the left is empty/],
      ['left,right,winner\na,b,\n', /h\.csv line 2: the winner is empty/],
      ['left,right,winner\na,b,left\na,b,maybe\n', /h\.csv line 3: winner: "maybe" is neither left, right, tie nor the name of one of the two models/],
      ['left,right,winner\na,a,tie\n', /h\.csv line 2: right: the model "a" is compared with itself/],
      ['left,right,winner\nright,b,right\n', /h\.csv line 2: winner: "right" is ambiguous/],
      ['left,right,winner\na,b,"left\n', /h\.csv line 2/],
      ['left,right,winner\n', /has no comparisons/],
      ['', /is empty/],
    ];
    for (const [text, re] of cases) {
      const r = runCli(['rate', file('h.csv', text)]);
      assertNoSanitizerReport(r.stderr, String(re));
      assert.equal(r.status, 1, `${re}: exited ${r.status}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stdout, '');
    }
    const missing = runCli(['rate', '/nonexistent/pairs.csv']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /\/nonexistent\/pairs\.csv/);
  });

  it('usage errors exit 2; --help exits 0', () => {
    const p = pairwise('simple.csv');
    for (const [args, re] of [
      [['--rounds', '-1', p], /--rounds is a whole number/],
      [['--rounds', '1e9', p], /--rounds is a whole number/],
      [['--seed', 'x', p], /--seed is a whole number/],
      [['--k', 'nan', p], /--k is a number/],
      [['--level', '1', p], /--level is a number between 0 and 1/],
      [['--format', 'xml', p], /--format is text, json or csv/],
      [[], /which file\?/],
      [[p, p], /unexpected argument/],
      [[p, '--rounds'], /a value is missing after "--rounds"/],
    ]) {
      const r = runCli(['rate', ...args]);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.status} ${r.stderr}`);
      assert.match(r.stderr, re);
    }
    const help = ok(runCli(['rate', '--help']), 'help');
    assert.match(help.stdout, /^usage: loupe rate FILE/);
    assert.match(ok(runCli(['--help']), 'main help').stdout, /rate FILE/);
  });
});
