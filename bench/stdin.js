#!/usr/bin/env node
// Standard input against the file itself: what `-` costs, for each docker-archive given (or
// found under $LAYERLENS_BENCH_DIR).
//
//   node bench/stdin.js [--runs N] [TARGET ...]
//
// Per image, best of N runs (default 3), wall seconds of:
//   file        layerlens CMD FILE
//   redirected  layerlens CMD - < FILE     (standard input a regular file: read in place)
//   piped       cat FILE | layerlens CMD -  (a pipe: copied to a temporary file first, or, for
//               images/inspect/history, read through without writing the layers)
// for CMD = images and analyze; and the floor of the piped runs, measured in the same run:
//   pipe floor  cat FILE | node (reading standard input to its end, 64 KiB at a time, as
//               layerlens's own reading does): the cost of the pipe alone, which no reader of a
//               pipe avoids.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DIST, HOW_TO_BUILD, ROOT, defaultTargets, expandTarget } from './lib.js';

const BIN = path.join(ROOT, 'bin', 'layerlens.js');

function parseArgs(argv) {
  const out = { runs: 3, targets: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') out.runs = Number(argv[++i]);
    else if (a === '-h' || a === '--help') {
      console.log('usage: node bench/stdin.js [--runs N] [TARGET ...]   (TARGET: a docker-archive tar, or a folder build-big.sh made)');
      process.exit(0);
    } else if (a.startsWith('-')) {
      console.error(`bench: unknown option ${a}`);
      process.exit(2);
    } else out.targets.push(a);
  }
  if (!Number.isInteger(out.runs) || out.runs < 1) {
    console.error('bench: --runs takes a positive integer');
    process.exit(2);
  }
  return out;
}

/** Wall seconds of a shell pipeline (its output discarded); it must succeed. */
function timeShell(script, env = {}) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('/bin/sh', ['-c', script], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    const err = [];
    child.stderr.on('data', (c) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${script} exited ${code}: ${Buffer.concat(err).toString().trim()}`));
      resolve(Number(process.hrtime.bigint() - t0) / 1e9);
    });
  });
}

const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
const READ_ALL = `let n = 0; process.stdin.on('data', (c) => (n += c.length)).on('end', () => process.exit(n > 0 ? 0 : 1));`;

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(path.join(DIST, 'cli', 'main.js'))) {
    console.error('bench: dist/ is missing; run `npm run build` first.');
    process.exit(2);
  }
  const targets = (opts.targets.length ? opts.targets.flatMap(expandTarget) : defaultTargets()).filter((t) => fs.statSync(t.path).isFile());
  if (targets.length === 0) {
    console.log(HOW_TO_BUILD);
    return;
  }
  console.log(`layerlens standard-input benchmark, ${new Date().toISOString()}, node ${process.version}; best of ${opts.runs}\n`);
  const rows = [];
  for (const t of targets) {
    const f = q(t.path);
    const ll = `${q(process.execPath)} ${q(BIN)}`;
    const cases = {
      'pipe floor': `cat ${f} | ${q(process.execPath)} -e ${q(READ_ALL)}`,
      'images FILE': `${ll} images ${f}`,
      'images - <FILE': `${ll} images - < ${f}`,
      'cat FILE | images -': `cat ${f} | ${ll} images -`,
      'analyze FILE': `${ll} analyze ${f}`,
      'analyze - <FILE': `${ll} analyze - < ${f}`,
      'cat FILE | analyze -': `cat ${f} | ${ll} analyze -`,
    };
    const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
    process.stdout.write(`${t.name} (${(fs.statSync(t.path).size / 1e6).toFixed(0)} MB)`);
    // Interleaved: each run measures every case once, so that the machine's minute hits them alike.
    for (let i = 0; i < opts.runs; i++) {
      for (const [k, script] of Object.entries(cases)) times[k].push(await timeShell(script));
      process.stdout.write('.');
    }
    console.log('');
    const best = (k) => Math.min(...times[k]);
    const floor = best('pipe floor');
    for (const k of Object.keys(cases)) {
      const piped = k.startsWith('cat ');
      rows.push([t.name, k, best(k).toFixed(2), times[k].map((x) => x.toFixed(2)).join(' '), piped ? `${(best(k) / floor).toFixed(2)}×` : '']);
    }
  }
  const headers = ['image', 'case', 'best s', 'runs', 'piped / pipe floor'];
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i >= 2 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  console.log('\n' + line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

main().catch((e) => {
  console.error(`bench: ${e.message}`);
  process.exit(2);
});
