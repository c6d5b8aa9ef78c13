#!/usr/bin/env node
// The long mutation-fuzzing run (`npm run fuzz`): every good image in samples/,
// ../shared/corpus/out and ../shared/fixtures, broken thousands of ways (fuzz/lib.js), each
// case run by a worker process on the built CLI (dist/) under a time limit and a memory cap.
// Prints the cases tried and the failures found; each failing input is written, with how to
// replay it, to a folder outside the repository that it names.
//
//   npm run fuzz                                   # 10 minutes, 2 workers
//   node fuzz/run.js --minutes 20 --jobs 2 --seed 7 --out /tmp/ll-fuzz
//   node fuzz/run.js --cases 500                   # a fixed number of cases
//   node fuzz/run.js --replay /tmp/ll-fuzz/failure-0003
//
// Options: --minutes N | --cases N, --seed N (default: from the clock, printed), --jobs N,
// --out DIR (default: $TMPDIR/layerlens-fuzz-<time>), --time-limit MS (per case, default
// 90000; each case is given --max-bytes 2Gi, see lib.js), --memory MB (heap of a worker,
// default 1536; a worker whose resident memory passes twice that fails its case),
// --commands all|core (default all; core leaves out diff and waste), --inputs DIR... (instead
// of the defaults).
import { fork, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findInputs, loadInput, makeArgs, makeCase, materialize, seedOf, verdict } from './lib.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const CORE = ['images', 'inspect', 'history', 'layers', 'analyze', 'tree', 'changes', 'cat', 'export'];
const EXTRA = ['waste', 'diff'];

function parseArgs(argv) {
  const o = { minutes: undefined, cases: undefined, seed: undefined, jobs: 2, out: undefined, timeLimit: 90_000, memory: 1536, commands: 'all', inputs: [], replay: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--minutes') o.minutes = Number(v());
    else if (a === '--cases') o.cases = Number(v());
    else if (a === '--seed') o.seed = Number(v());
    else if (a === '--jobs') o.jobs = Number(v());
    else if (a === '--out') o.out = path.resolve(v());
    else if (a === '--time-limit') o.timeLimit = Number(v());
    else if (a === '--memory') o.memory = Number(v());
    else if (a === '--commands') o.commands = v();
    else if (a === '--inputs') while (argv[i + 1] && !argv[i + 1].startsWith('--')) o.inputs.push(path.resolve(argv[++i]));
    else if (a === '--replay') o.replay = path.resolve(v());
    else if (a === '--help' || a === '-h') {
      // The comment at the top of this file.
      const lines = fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1);
      console.log(lines.slice(0, lines.findIndex((l) => !l.startsWith('//'))).map((l) => l.slice(3)).join('\n'));
      process.exit(0);
    } else {
      console.error(`fuzz: unknown option ${a} (--help lists them)`);
      process.exit(2);
    }
  }
  if (o.minutes === undefined && o.cases === undefined) o.minutes = 10;
  o.seed ??= Date.now() % 1_000_000_007;
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const CLI = path.join(repo, 'bin', 'layerlens.js');

if (!fs.existsSync(path.join(repo, 'dist', 'cli', 'main.js'))) {
  console.error('fuzz: dist/ is missing: run `npm run build` first (npm run fuzz does)');
  process.exit(2);
}

if (opts.replay) {
  const c = JSON.parse(fs.readFileSync(path.join(opts.replay, 'case.json'), 'utf8'));
  const args = c.args.map((a) => a.split(c.dir).join(opts.replay));
  console.log(`node bin/layerlens.js ${args.map((a) => JSON.stringify(a)).join(' ')}`);
  const input = c.viaStdin ? fs.readFileSync(path.join(opts.replay, 'image.tar')) : undefined;
  if (c.viaStdin) console.log(`  (with ${path.join(opts.replay, 'image.tar')} on standard input)`);
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input, timeout: opts.timeLimit, maxBuffer: 256 * 1024 * 1024 });
  process.stderr.write(r.stderr ?? '');
  const problem = verdict({ code: r.status, stderr: r.stderr ?? '', timedOut: r.error?.code === 'ETIMEDOUT', crashed: r.signal ? `signal ${r.signal}` : undefined }, { timeLimitMs: opts.timeLimit, command: args[0] });
  console.log(problem ? `still fails: ${problem}` : `behaves now (exit ${r.status})`);
  process.exit(problem ? 1 : 0);
}

// Failures go outside the repository, where a stray `git add` cannot pick them up.
const out = opts.out ?? path.join(os.tmpdir(), `layerlens-fuzz-${new Date().toISOString().replace(/[:.]/g, '-')}`);
if (out === repo || out.startsWith(repo + path.sep)) {
  console.error(`fuzz: --out ${out} is inside the repository; choose a folder outside it`);
  process.exit(2);
}
fs.mkdirSync(out, { recursive: true });
const workRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-fuzz-work-'));

// ─── inputs: every good image, with the names that choose each of its images ───────────────

const roots = opts.inputs.length ? opts.inputs : [path.join(repo, 'samples'), path.resolve(repo, '../shared/corpus/out'), path.resolve(repo, '../shared/fixtures')].filter((p) => fs.existsSync(p));
const candidates = findInputs(roots);
const inputs = [];
for (const p of candidates) {
  const r = spawnSync(process.execPath, [CLI, 'images', p, '--format', 'json'], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) continue; // broken on purpose already: the good ones are the ones to break
  const rows = JSON.parse(r.stdout);
  const refs = [...new Set(rows.map((x) => (x.tag && x.tag !== '<none>' ? (x.repository !== '<none>' ? `${x.repository}:${x.tag}` : x.tag) : x.id?.slice(7, 19))).filter(Boolean))];
  inputs.push({ path: p, refs });
}
const commands = opts.commands === 'all' ? [...CORE, ...EXTRA.filter((c) => spawnSync(process.execPath, [CLI, c, '--help']).status === 0)] : CORE;
console.log(`fuzz: ${inputs.length} good images of ${candidates.length} found under ${roots.join(', ')}`);
console.log(`fuzz: seed ${opts.seed}, ${opts.jobs} workers, ${opts.minutes !== undefined ? `${opts.minutes} minutes` : `${opts.cases} cases`}, ${opts.timeLimit} ms and ${opts.memory} MB per case; commands: ${commands.join(' ')}`);
console.log(`fuzz: failing inputs go to ${out}`);
if (!inputs.length) {
  console.error('fuzz: no inputs');
  process.exit(2);
}

// ─── the run ───────────────────────────────────────────────────────────────────────────────

const started = Date.now();
const deadline = opts.minutes !== undefined ? started + opts.minutes * 60_000 : Infinity;
let next = 0;
let done = 0;
const failures = [];
const kinds = new Map();
const byCommand = new Map();
const outcomes = new Map();

/** What an error line says, without the file, the member or any number: to count outcomes by. */
function errorKind(line) {
  const msg = line.replace(/^layerlens: error: /, '').split(': ').slice(-1)[0] ?? '';
  return msg.replace(/"[^"]*"/g, '"…"').replace(/sha256:[0-9a-f]+/g, 'D').replace(/[0-9a-f]{12,}/g, 'H').replace(/\d+/g, 'N').slice(0, 90);
}
let inFlight = 0;

function jobFor(i) {
  const seed = seedOf(opts.seed, i);
  const input = inputs[seed % inputs.length];
  return { id: i, seed, input: input.path, refs: input.refs, commands, timeLimitMs: opts.timeLimit, workRoot };
}

/** Group failures by what went wrong, numbers and digests aside. */
function kindOf(problem) {
  return problem.replace(/[0-9a-f]{12,}/g, 'H').replace(/\d+/g, 'N').replace(/\/[^\s:]+/g, 'P').slice(0, 160);
}

function saveFailure(job, problem, details) {
  const n = failures.length;
  const dir = path.join(out, `failure-${String(n).padStart(4, '0')}`);
  fs.mkdirSync(dir, { recursive: true });
  // Made again from (input, seed): a case is fully determined by them.
  const c = makeCase(loadInput(job.input), job.seed);
  const target = materialize(c, dir);
  const args = details.args ?? makeArgs(c, target, path.join(dir, 'out.tar'), job.commands, job.refs);
  const caseDir = path.join(workRoot, `case-${job.id}`);
  const saved = { input: job.input, seed: job.seed, dir: caseDir, args, viaStdin: !!details.viaStdin, mutations: details.mutations ?? c.mutations, problem, ...details.result };
  fs.writeFileSync(path.join(dir, 'case.json'), JSON.stringify(saved, null, 2) + '\n');
  failures.push({ dir, problem, args });
  const k = kindOf(problem);
  kinds.set(k, (kinds.get(k) ?? 0) + 1);
  console.log(`fuzz: FAILURE ${path.basename(dir)}: ${problem}\n      ${args.join(' ')}\n      mutations: ${saved.mutations.join(' ')}`);
}

function spawnWorker() {
  const w = fork(path.join(here, 'worker.js'), [], { execArgv: [`--max-old-space-size=${opts.memory}`], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  w.stderr.on('data', () => {}); // a worker's own crash text: the verdict says what happened
  w.cases = 0;
  w.job = undefined;
  w.timer = undefined;
  w.on('message', (m) => {
    if (m.ready) return feed(w);
    clearTimeout(w.timer);
    const job = w.job;
    w.job = undefined;
    inFlight--;
    done++;
    w.cases++;
    if (m.harnessError) {
      console.log(`fuzz: harness error on case ${job.id} (${job.input}, seed ${job.seed}): ${m.harnessError.split('\n')[0]}`);
    } else {
      byCommand.set(m.args[0], (byCommand.get(m.args[0]) ?? 0) + 1);
      const last = m.result.stderr.trim().split('\n').pop() ?? '';
      const outcome = m.result.code === 0 ? 'exit 0' : `exit ${m.result.code}: ${errorKind(last)}`;
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      let problem = m.problem;
      if (!problem && m.rss > 2 * opts.memory * 1024 * 1024) problem = `runaway memory: ${Math.round(m.rss / 1048576)} MB resident after the case`;
      if (!problem && m.fdsLeaked > 8) problem = `leaked ${m.fdsLeaked} file descriptors`;
      if (problem) saveFailure(job, problem, m);
    }
    // A fresh worker now and then: resident memory and caches start over.
    if (w.cases >= 400 || m.rss > opts.memory * 1024 * 1024) {
      w.removeAllListeners('exit');
      w.kill('SIGKILL');
      spawnWorker();
    } else feed(w);
  });
  w.on('exit', (code, signal) => {
    clearTimeout(w.timer);
    if (w.job) {
      const job = w.job;
      inFlight--;
      done++;
      saveFailure(job, signal === 'SIGKILL' && w.timedOut ? `no answer within ${opts.timeLimit} ms` : `worker died (exit ${code}, signal ${signal}): out of memory or a crash`, {});
    }
    spawnWorker();
  });
  return w;
}

function feed(w) {
  const finished = Date.now() >= deadline || (opts.cases !== undefined && next >= opts.cases);
  if (finished) {
    w.removeAllListeners('exit');
    w.kill();
    if (inFlight === 0) finish();
    return;
  }
  const job = jobFor(next++);
  w.job = job;
  w.timedOut = false;
  inFlight++;
  w.timer = setTimeout(() => {
    w.timedOut = true;
    w.kill('SIGKILL');
  }, opts.timeLimit);
  w.send(job);
}

let finishedOnce = false;
function finish() {
  if (finishedOnce) return;
  finishedOnce = true;
  const secs = (Date.now() - started) / 1000;
  fs.rmSync(workRoot, { recursive: true, force: true });
  console.log(`fuzz: ${done} cases tried in ${Math.round(secs)} s (${(done / secs).toFixed(1)}/s), seed ${opts.seed}; by command: ${[...byCommand].map(([c, n]) => `${c} ${n}`).join(', ')}`);
  console.log(`fuzz: ${failures.length} failures${failures.length ? ` of ${kinds.size} kinds, written to ${out}` : ''}`);
  for (const [k, n] of kinds) console.log(`  ${n} × ${k}`);
  if (process.env.FUZZ_OUTCOMES) {
    console.log('fuzz: outcomes:');
    for (const [k, n] of [...outcomes].sort((a, b) => b[1] - a[1])) console.log(`  ${String(n).padStart(6)}  ${k}`);
  } else {
    const ok = outcomes.get('exit 0') ?? 0;
    console.log(`fuzz: ${ok} cases ended in a result, ${done - ok} in a one-line error (${outcomes.size - (ok ? 1 : 0)} distinct messages; FUZZ_OUTCOMES=1 lists them)`);
  }
  if (!failures.length) fs.rmSync(out, { recursive: true, force: true });
  process.exit(failures.length ? 1 : 0);
}

const progress = setInterval(() => {
  const secs = Math.round((Date.now() - started) / 1000);
  console.log(`fuzz: ${secs} s: ${done} cases, ${failures.length} failures`);
}, 60_000);
progress.unref();

for (let i = 0; i < Math.max(1, opts.jobs); i++) spawnWorker();
