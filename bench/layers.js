#!/usr/bin/env node
// Benchmark of `layerlens analyze` (or another command) against the floors Node itself sets on
// the same bytes.
//
//   node bench/layers.js [--runs N] [--command analyze|layers|tree|waste|report] [--json FILE] [TARGET ...]
//
// TARGET is an image directory as build-big.sh writes it (one folder holding `oci/` and
// `NAME.docker-archive.tar`), or an image itself (a docker-archive tar, an OCI layout directory),
// optionally with `:REF`. Without targets, every image directory under $LAYERLENS_BENCH_DIR is
// measured. See bench/README.md.
//
// Per image and per format this measures, best of N runs (N = 5 by default):
//   layerlens  wall time of `node bin/layerlens.js analyze TARGET --format json` as a child
//              process (every blob digest and diff_id verified, the union built, the waste
//              computed), its CPU time and peak RSS;
//   floor      in this process, one layer after another, the work of one core:
//              uncompressed layers: sha256 of each stored blob (createHash over
//              fs.createReadStream); gzip layers: a gunzip-only pass plus the time spent in
//              sha256 of the gunzipped bytes (measured in a second pass that hashes);
//   blob sha256  sha256 of the stored blobs, for every image (for gzip images this is work
//              layerlens does on top of the floor: it must check the blob digest too).
// The child's output is checked against the digests the floor computed.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { DIST, HOW_TO_BUILD, ROOT, defaultTargets, expandTarget, locateBlobs } from './lib.js';

const BIN = path.join(ROOT, 'bin', 'layerlens.js');

/** Read size for every floor stream; layerlens reads blobs 1 MiB at a time too. */
const READ_CHUNK = 1024 * 1024;
/** Output chunk of the floor's gunzip (layerlens uses 256 KiB as well). */
const GUNZIP_CHUNK = 256 * 1024;

/**
 * Issue 7's targets, per image: plain layers 1.3x the sha256 floor; gzip layers 0.75x the
 * single-core gunzip+sha256 floor (both cores at work), 1.1x when one layer holds nearly
 * everything (90% of the bytes: nothing to read side by side); an image of 100,000 entries or
 * more 3x its floor; peak RSS 128 MiB, 200 MiB for the many-file image.
 */
function targetsFor(r) {
  const many = r.entries >= 100_000;
  let ratio;
  if (many) ratio = 3;
  else if (r.compression === 'none') ratio = 1.3;
  else if (r.compression === 'gzip') ratio = r.largestLayerShare >= 0.9 ? 1.1 : 0.75;
  return { ratio, rssMiB: many ? 200 : 128 };
}

// ---------------------------------------------------------------------------------- arguments

function usage() {
  return [
    'usage: node bench/layers.js [--runs N] [--command analyze|layers|tree|waste|report] [--json FILE] [TARGET ...]',
    '',
    '  TARGET   an image directory made by build-big.sh (holding oci/ and NAME.docker-archive.tar),',
    '           or an image: a docker-archive tar or an OCI layout directory, optionally FILE:REF.',
    '           Default: every image directory under $LAYERLENS_BENCH_DIR.',
    '  --runs N measurements per image and format; the best is reported (default 5)',
    '  --command C  what to time: analyze (default: every digest verified, the union built, the',
    '           waste computed), layers (every digest verified), tree (`tree --flat --format json`:',
    '           the union built and listed), waste (the union and the waste account) or report',
    '           (the HTML page, to stdout: the union, its changes, the waste and the timeline)',
    '  --json F also write the results as JSON to F (default .bench-out/layers-<time>.json)',
  ].join('\n');
}

function parseArgs(argv) {
  const out = { runs: 5, json: undefined, command: 'analyze', targets: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') out.runs = Number(argv[++i]);
    else if (a.startsWith('--runs=')) out.runs = Number(a.slice(7));
    else if (a === '--command') out.command = argv[++i];
    else if (a.startsWith('--command=')) out.command = a.slice(10);
    else if (a === '--json') out.json = argv[++i];
    else if (a.startsWith('--json=')) out.json = a.slice(7);
    else if (a === '-h' || a === '--help') {
      console.log(usage());
      process.exit(0);
    } else if (a.startsWith('-')) {
      console.error(`bench: unknown option ${a}\n${usage()}`);
      process.exit(2);
    } else out.targets.push(a);
  }
  if (!COMMANDS[out.command]) {
    console.error(`bench: --command takes ${Object.keys(COMMANDS).join(', ')}`);
    process.exit(2);
  }
  if (!Number.isInteger(out.runs) || out.runs < 1) {
    console.error('bench: --runs takes a positive integer');
    process.exit(2);
  }
  return out;
}

// --------------------------------------------------------------------------------- the floors

function readStream(blob) {
  return fs.createReadStream(blob.path, { start: blob.start, end: blob.start + blob.size - 1, highWaterMark: READ_CHUNK });
}

function sha256Blob(blob) {
  const h = createHash('sha256');
  if (blob.size === 0) return Promise.resolve(h.digest('hex'));
  return new Promise((resolve, reject) => {
    const rs = readStream(blob);
    rs.on('data', (c) => h.update(c));
    rs.on('error', reject);
    rs.on('end', () => resolve(h.digest('hex')));
  });
}

const now = () => process.hrtime.bigint();
const secs = (t0, t1 = now()) => Number(t1 - t0) / 1e9;
const cpuSince = (c0) => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
};

/**
 * Gunzip one blob, optionally hashing the output. Node runs zlib on its thread pool, so while a
 * hash is computed on the main thread the next chunk is being inflated: the wall time of this
 * pass is a two-thread pipeline. The time spent in hash.update is summed separately.
 */
function gunzipBlob(blob, withHash) {
  const h = withHash ? createHash('sha256') : undefined;
  let hashSeconds = 0;
  return new Promise((resolve, reject) => {
    const rs = readStream(blob);
    const gz = zlib.createGunzip({ chunkSize: GUNZIP_CHUNK });
    gz.on('data', (c) => {
      if (!h) return;
      const t0 = now();
      h.update(c);
      hashSeconds += secs(t0);
    });
    gz.on('error', reject);
    rs.on('error', reject);
    gz.on('end', () => resolve({ hex: h?.digest('hex'), hashSeconds }));
    rs.pipe(gz);
  });
}

async function zstdBlob(blob) {
  // Node 20's zlib has no zstd; fzstd (layerlens's own decoder) is the one at hand. It runs on
  // the main thread, like the hash.
  const { Decompress } = await import('fzstd');
  const h = createHash('sha256');
  let hashSeconds = 0;
  const d = new Decompress((chunk) => {
    const t0 = now();
    h.update(chunk);
    hashSeconds += secs(t0);
  });
  await new Promise((resolve, reject) => {
    const rs = readStream(blob);
    rs.on('data', (c) => d.push(c));
    rs.on('error', reject);
    rs.on('end', () => {
      d.push(new Uint8Array(0), true);
      resolve();
    });
  });
  return { hex: h.digest('hex'), hashSeconds };
}

/**
 * The floor, one layer after another.
 *   uncompressed blob: sha256 of the stored bytes (the wall time of that pass);
 *   gzip blob: single-core gunzip + sha256 = the wall time of a gunzip-only pass plus the time
 *     spent hashing the gunzipped bytes (measured inside a second, hashing pass);
 *   zstd blob: the wall time of fzstd + sha256 (both on the main thread already).
 * `pipelined` is the same work as Node does it when gunzip (thread pool) and sha256 (main
 * thread) simply run as one stream: the wall time of the hashing pass.
 */
async function floorRun(blobs) {
  const diffIds = [];
  let cpu = 0;
  let seconds = 0;
  let pipelined = 0;
  let gunzip = 0;
  let hash = 0;
  for (const b of blobs) {
    if (b.compression === 'gzip') {
      let t0 = now();
      await gunzipBlob(b, false);
      const g = secs(t0);
      t0 = now();
      const c0 = process.cpuUsage();
      const r = await gunzipBlob(b, true);
      cpu += cpuSince(c0);
      pipelined += secs(t0);
      diffIds.push(r.hex);
      gunzip += g;
      hash += r.hashSeconds;
      seconds += g + r.hashSeconds;
    } else {
      const t0 = now();
      const c0 = process.cpuUsage();
      const r = b.compression === 'zstd' ? await zstdBlob(b) : { hex: await sha256Blob(b), hashSeconds: undefined };
      const t = secs(t0);
      cpu += cpuSince(c0);
      diffIds.push(r.hex);
      seconds += t;
      pipelined += t;
      hash += r.hashSeconds ?? t;
    }
  }
  return { seconds, pipelined, gunzip, hash, diffIds, cpu };
}

async function blobShaRun(blobs) {
  const t0 = now();
  const digests = [];
  for (const b of blobs) digests.push(await sha256Blob(b));
  return { seconds: secs(t0), digests };
}

// ------------------------------------------------------------------------- layerlens itself

function gnuTimeWorks() {
  if (!fs.existsSync('/usr/bin/time')) return false;
  const r = spawnSync('/usr/bin/time', ['-f', '%M', '-o', '/dev/null', 'true']);
  return r.status === 0;
}
const HAVE_GNU_TIME = gnuTimeWorks();

/** The commands the bench can time, with their arguments after the image. */
const COMMANDS = {
  analyze: (arg) => ['analyze', arg, '--format', 'json'],
  layers: (arg) => ['layers', arg, '--format', 'json'],
  tree: (arg) => ['tree', arg, '--flat', '--format', 'json'],
  waste: (arg) => ['waste', arg, '--format', 'json'],
  report: (arg) => ['report', arg, '-o', '-'],
};

/** Run the CLI; wall seconds, peak RSS in KiB, and its parsed JSON output (for `layers`). */
function layerlensRun(target, command = 'layers') {
  const arg = target.ref ? `${target.path}:${target.ref}` : target.path;
  const cli = [BIN, ...COMMANDS[command](arg)];
  const tmp = path.join(os.tmpdir(), `layerlens-bench-${process.pid}.time`);
  const [cmd, args] = HAVE_GNU_TIME ? ['/usr/bin/time', ['-f', '%M %U %S', '-o', tmp, process.execPath, ...cli]] : [process.execPath, cli];
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => err.push(c));
    // Without GNU time: poll the child's high-water mark (VmHWM) until it exits.
    let hwm = 0;
    const poll = HAVE_GNU_TIME
      ? undefined
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'latin1'));
            if (m) hwm = Math.max(hwm, Number(m[1]));
          } catch {}
        }, 5);
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (poll) clearInterval(poll);
      const stderr = Buffer.concat(err).toString();
      if (code !== 0) return reject(new Error(`layerlens exited ${code}: ${stderr.trim()}`));
      let rssKiB = hwm;
      let cpu;
      if (HAVE_GNU_TIME) {
        const [m, u, s] = fs.readFileSync(tmp, 'utf8').trim().split('\n').pop().split(' ').map(Number);
        rssKiB = m;
        cpu = u + s;
        fs.rmSync(tmp, { force: true });
      }
      resolve({ seconds, rssKiB, cpu, layers: command === 'layers' ? JSON.parse(Buffer.concat(out).toString()) : undefined, stderr });
    });
  });
}

const METADATA_TARGET = 0.3;

/** Wall seconds of one CLI run whose output is not needed. */
function timeCommand(args) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    const err = [];
    child.stderr.on('data', (c) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`layerlens ${args.join(' ')} exited ${code}: ${Buffer.concat(err).toString().trim()}`));
      resolve({ seconds: Number(process.hrtime.bigint() - t0) / 1e9 });
    });
  });
}

/** Node start-up plus loading the CLI: the fixed cost in every layerlens time. */
async function startupSeconds() {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint();
    await new Promise((resolve, reject) => spawn(process.execPath, [BIN, '--version'], { stdio: 'ignore' }).on('close', resolve).on('error', reject));
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return Math.min(...times);
}

// --------------------------------------------------------------------------------- reporting

const best = (xs) => Math.min(...xs);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const MB = (n) => (n / 1e6).toFixed(n < 1e7 ? 1 : 0);

function table(headers, rows, numeric) {
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) => r.map((c, i) => (numeric.includes(i) ? String(c).padStart(w[i]) : String(c).padEnd(w[i]))).join('  ');
  return [line(headers), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

function checkOutput(caseName, blobs, layers, floor, blobSha) {
  // Every distinct blob: layerlens's digest and diff_id equal what the floor computed.
  const problems = [];
  if (!layers.every((l) => l.verified === true)) problems.push('a layer is reported unverified');
  for (let i = 0; i < blobs.length; i++) {
    const b = blobs[i];
    const row = layers.find((l) => l.diffId === `sha256:${floor.diffIds[i]}`);
    if (!row) problems.push(`no layer with diff_id ${floor.diffIds[i]} (${b.member})`);
    else if (row.digest !== `sha256:${blobSha.digests[i]}`) problems.push(`blob digest of ${b.member} differs`);
  }
  if (problems.length) throw new Error(`${caseName}: layerlens output disagrees with the floor: ${problems.join('; ')}`);
}

// ------------------------------------------------------------------------------------- main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(path.join(DIST, 'cli', 'main.js'))) {
    console.error('bench: dist/ is missing; run `npm run build` first (npm run bench does).');
    process.exit(2);
  }
  const targets = opts.targets.length ? opts.targets.flatMap(expandTarget) : defaultTargets();
  if (targets.length === 0) {
    console.log(HOW_TO_BUILD);
    return;
  }
  const cpus = os.cpus();
  console.log(`layerlens ${opts.command} benchmark (${['layerlens', ...COMMANDS[opts.command]('IMAGE')].join(' ')}), ${new Date().toISOString()}`);
  console.log(`node ${process.version}, ${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM`);
  const git = spawnSync('git', ['-C', ROOT, 'describe', '--always', '--dirty'], { encoding: 'utf8' });
  if (git.status === 0) console.log(`layerlens at ${git.stdout.trim()}`);
  console.log(`load average at start: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} (other work on the machine slows every number)`);
  console.log(`peak RSS from ${HAVE_GNU_TIME ? 'GNU time (%M)' : '/proc/PID/status VmHWM polled every 5 ms'}; ${opts.runs} run(s) each, best reported\n`);

  const startup = await startupSeconds();
  console.log(`start-up alone (node bin/layerlens.js --version, best of 5): ${startup.toFixed(2)} s; it is part of every layerlens time below\n`);
  const results = [];
  for (const target of targets) {
    const base = path.basename(target.path);
    const display = base === 'oci' || base === `${target.name}.docker-archive.tar` || base.startsWith(target.name) ? target.name : `${target.name}/${base}`;
    const label = `${target.name} ${base}${target.ref ? ':' + target.ref : ''}`;
    let loc;
    try {
      loc = await locateBlobs(target);
    } catch (e) {
      console.log(`skip ${label}: ${e.message}`);
      continue;
    }
    const kinds = [...new Set(loc.blobs.map((b) => b.compression))];
    const kind = kinds.length === 0 ? 'none' : kinds.length === 1 ? kinds[0] : kinds.join('+');
    const stored = loc.blobs.reduce((s, b) => s + b.size, 0);
    process.stdout.write(`${label}: ${loc.format}, ${loc.layers} layers, ${loc.blobs.length} blobs (${kind}), ${MB(stored)} MB stored; warming the page cache…`);
    await blobShaRun(loc.blobs);
    const r = { image: display + (target.ref ? ':' + target.ref : ''), path: target.path, ref: target.ref, format: loc.format, compression: kind, layers: loc.layers, blobs: loc.blobs.length, storedBytes: stored, layerlens: [], rssKiB: [], layerlensCpu: [], floor: [], floorCpu: [], pipelined: [], gunzip: [], hash: [], blobSha: [] };
    let floor;
    let blobSha;
    // The sizes and the digests to check come from one `layers` run.
    const reference = opts.command === 'layers' ? undefined : await layerlensRun(target, 'layers');
    for (let i = 0; i < opts.runs; i++) {
      const ll = await layerlensRun(target, opts.command);
      r.layerlens.push(ll.seconds);
      r.rssKiB.push(ll.rssKiB);
      if (ll.cpu !== undefined) r.layerlensCpu.push(ll.cpu);
      floor = await floorRun(loc.blobs);
      r.floor.push(floor.seconds);
      r.floorCpu.push(floor.cpu);
      r.pipelined.push(floor.pipelined);
      r.gunzip.push(floor.gunzip);
      r.hash.push(floor.hash);
      blobSha = await blobShaRun(loc.blobs);
      r.blobSha.push(blobSha.seconds);
      if (i === 0) {
        const layers = (reference ?? ll).layers;
        checkOutput(label, loc.blobs, layers, floor, blobSha);
        r.plainBytes = layers.reduce((s, l) => s + (l.size ?? 0), 0);
        r.entries = layers.reduce((s, l) => s + (l.entries ?? 0), 0);
        r.largestLayerShare = Math.max(...layers.map((l) => l.size ?? 0)) / Math.max(1, r.plainBytes);
      }
      process.stdout.write('.');
    }
    r.floorKind = kind === 'none' ? 'sha256' : kind === 'gzip' ? 'gunzip+sha256' : `${kind}: decompress+sha256`;
    r.startup = startup;
    r.best = { layerlens: best(r.layerlens), floor: best(r.floor), pipelined: best(r.pipelined), gunzip: best(r.gunzip), hash: best(r.hash), blobSha: best(r.blobSha), rssKiB: Math.max(...r.rssKiB) };
    r.median = { layerlens: median(r.layerlens), floor: median(r.floor), pipelined: median(r.pipelined), blobSha: median(r.blobSha) };
    r.ratio = r.best.layerlens / r.best.floor;
    r.pairedRatio = median(r.layerlens.map((x, i) => x / r.floor[i]));
    const t = targetsFor(r);
    r.target = t.ratio;
    r.rssTargetMiB = t.rssMiB;
    results.push(r);
    console.log(` done`);
  }
  if (results.length === 0) return;

  const headers = ['image', 'format', 'compression', 'layers', 'stored MB', 'tar MB', 'entries', 'layerlens s', 'floor s', 'floor', 'ratio', 'target', 'peak RSS MiB', 'RSS'];
  const rows = results.map((r) => [
    r.image,
    r.format === 'oci-layout' ? 'oci' : r.format,
    r.compression,
    r.layers,
    MB(r.storedBytes),
    MB(r.plainBytes),
    r.entries,
    r.best.layerlens.toFixed(2),
    r.best.floor.toFixed(2),
    r.floorKind,
    `${r.ratio.toFixed(2)}×`,
    r.target ? `${r.ratio <= r.target ? 'ok' : 'over'} (≤${r.target})` : '',
    (r.best.rssKiB / 1024).toFixed(0),
    r.best.rssKiB / 1024 <= r.rssTargetMiB ? `ok (≤${r.rssTargetMiB})` : `over (≤${r.rssTargetMiB})`,
  ]);
  console.log('\n' + table(headers, rows, [3, 4, 5, 6, 7, 8, 10, 12]));
  console.log(`\nbest of ${opts.runs} (seconds); peak RSS is the highest of the runs. Every run, and the parts of the floor:`);
  const f = (xs) => xs.map((x) => x.toFixed(2)).join(' ');
  for (const r of results) {
    console.log(`  ${r.image} ${r.format}:`);
    console.log(`    layerlens ${f(r.layerlens)} (median ${r.median.layerlens.toFixed(2)}; median of the per-run ratios ${r.pairedRatio.toFixed(2)}×), RSS MiB ${r.rssKiB.map((k) => (k / 1024).toFixed(0)).join(' ')}`);
    console.log(`    floor ${f(r.floor)} (median ${r.median.floor.toFixed(2)})` + (r.compression === 'none' ? '' : ` = decompress ${r.best.gunzip.toFixed(2)} + sha256 of the tar ${r.best.hash.toFixed(2)} (best)`));
    if (r.compression !== 'none') {
      console.log(`    gunzip and sha256 as one Node stream (zlib on the thread pool): ${f(r.pipelined)}; ratio to that ${(r.best.layerlens / r.best.pipelined).toFixed(2)}×`);
    }
    if (r.layerlensCpu.length) {
      console.log(`    CPU seconds (user+sys, all threads), best: layerlens ${best(r.layerlensCpu).toFixed(2)}, floor ${best(r.floorCpu).toFixed(2)} (for gzip: the hashing pass), ratio ${(best(r.layerlensCpu) / best(r.floorCpu)).toFixed(2)}×`);
    }
    console.log(`    sha256 of the stored blobs ${f(r.blobSha)}` + (r.compression === 'none' ? '' : ' (layerlens checks the blob digest too, on top of the floor)'));
  }
  // images, inspect and history must never read layer data: a fraction of a second whatever the size.
  console.log(`\nimages, inspect, history (best of 3 wall seconds, Node start-up included; target under ${METADATA_TARGET} s):`);
  for (const r of results) {
    const times = [];
    for (const command of ['images', 'inspect', 'history']) {
      let bestTime = Infinity;
      for (let i = 0; i < 3; i++) bestTime = Math.min(bestTime, (await timeCommand([command, r.ref ? `${r.path}:${r.ref}` : r.path])).seconds);
      times.push(`${command} ${bestTime.toFixed(2)}`);
      r[command] = bestTime;
    }
    const worst = Math.max(r.images, r.inspect, r.history);
    console.log(`  ${r.image} ${r.format}: ${times.join(', ')}  ${worst < METADATA_TARGET ? 'ok' : 'over'}`);
  }
  console.log(`\nload average at end: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log('floor, one layer after another in this process: sha256 = createHash over fs.createReadStream (1 MiB reads);');
  console.log('gunzip+sha256 = wall time of a gunzip-only pass (zlib.createGunzip, 256 KiB output chunks) + the time spent in');
  console.log('sha256 of the gunzipped bytes: the work of one core. layerlens times include Node start-up.');

  const jsonPath = opts.json ?? path.join(ROOT, '.bench-out', `${opts.command}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  fs.mkdirSync(path.dirname(jsonPath), { recursive: true });
  fs.writeFileSync(jsonPath, JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: cpus.length, cpu: cpus[0]?.model, runs: opts.runs, results }, null, 2) + '\n');
  console.log(`results: ${path.relative(process.cwd(), jsonPath) || jsonPath}`);
}

main().catch((e) => {
  console.error(`\nbench: ${e.message}`);
  process.exit(1);
});
