#!/usr/bin/env node
// layerlens's TarReader (dist/layer/tar-reader.js) against tar-stream's extract, parsing the same
// uncompressed layer tar from memory, fed in the same chunks.
//
//   node bench/tar-reader.js [--runs N] [--chunk KiB] [--max-mb N] [TARGET ...]
//
// TARGET is a plain tar file (a layer), or an image as bench/layers.js takes it (an image
// directory of build-big.sh, a docker-archive, an OCI layout), optionally FILE:REF; from an
// image the uncompressed layer with the most bytes is taken, and the one with the most entries
// if that is another (counted by a quick pass over the headers). Layers over --max-mb (default
// 3000) are left out. Without targets, the images under $LAYERLENS_BENCH_DIR; without those, two
// synthetic tars made in memory.
//
// Both parsers see every content byte (they count them), neither hashes nor keeps anything, so
// the difference is the parsing itself: headers, PAX records, and handing content on.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { DIST, ROOT, defaultTargets, expandTarget, locateBlobs, randomBytes, tarHeader } from './lib.js';

const require = createRequire(import.meta.url);

function parseArgs(argv) {
  const o = { runs: 5, chunkKiB: 1024, maxMB: 3000, targets: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') o.runs = Number(argv[++i]);
    else if (a === '--chunk') o.chunkKiB = Number(argv[++i]);
    else if (a === '--max-mb') o.maxMB = Number(argv[++i]);
    else if (a === '-h' || a === '--help') {
      console.log('usage: node bench/tar-reader.js [--runs N] [--chunk KiB] [--max-mb N] [TARGET ...]');
      process.exit(0);
    } else if (a.startsWith('-')) {
      console.error(`bench: unknown option ${a}`);
      process.exit(2);
    } else o.targets.push(a);
  }
  return o;
}

/** Read `size` bytes at `start` of `file` into one buffer. */
function load(file, start, size) {
  const buf = Buffer.allocUnsafe(size);
  const fd = fs.openSync(file, 'r');
  try {
    for (let done = 0; done < size; ) {
      const n = fs.readSync(fd, buf, done, Math.min(size - done, 1 << 30), start + done);
      if (n === 0) throw new Error(`${file}: short read`);
      done += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return buf;
}

/** Entry count by a header walk (plain ustar sizes; good enough to choose a layer). */
function countEntries(file, start, size) {
  const fd = fs.openSync(file, 'r');
  const h = Buffer.alloc(512);
  let n = 0;
  try {
    for (let pos = 0; pos + 512 <= size; ) {
      fs.readSync(fd, h, 0, 512, start + pos);
      if (h[0] === 0) break;
      const sz = h[124] & 0x80 ? Number(h.readBigUInt64BE(128)) : parseInt(h.toString('latin1', 124, 136).replace(/\0.*$/, '').trim() || '0', 8);
      if (!'xgLK'.includes(String.fromCharCode(h[156]))) n++;
      pos += 512 + Math.ceil(sz / 512) * 512;
    }
  } finally {
    fs.closeSync(fd);
  }
  return n;
}

async function layersOf(target, maxBytes) {
  let loc;
  try {
    loc = await locateBlobs(target);
  } catch (e) {
    // Not an image: a plain tar (a layer) is taken whole.
    const st = fs.statSync(target.path);
    if (!st.isFile() || st.size < 512 || load(target.path, 0, 512).toString('latin1', 257, 262) !== 'ustar') throw e;
    return [{ label: path.basename(target.path), file: target.path, start: 0, size: st.size }];
  }
  const plain = loc.blobs.filter((b) => b.compression === 'none' && b.size <= maxBytes);
  if (plain.length === 0) return [];
  const bySize = [...plain].sort((a, b) => b.size - a.size)[0];
  const withCounts = plain.map((b) => ({ b, n: countEntries(b.path, b.start, b.size) }));
  const byEntries = withCounts.sort((x, y) => y.n - x.n)[0].b;
  const picked = bySize === byEntries ? [bySize] : [bySize, byEntries];
  return picked.map((b) => ({ label: `${target.name} layer ${b.index}`, file: b.path, start: b.start, size: b.size }));
}

/** Synthetic tars for when no image is at hand: many small files, and a few large ones. */
function syntheticTars() {
  const many = [];
  for (let i = 0; i < 200000; i++) {
    const content = Buffer.alloc((i * 37) % 800, 0x61);
    many.push(tarHeader({ name: `data/d${i % 1000}/f${i}.txt`, size: content.length }));
    if (content.length) many.push(content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  many.push(Buffer.alloc(1024));
  const big = [];
  const block = randomBytes(0xabcdef, 64 << 20);
  for (let i = 0; i < 8; i++) big.push(tarHeader({ name: `blob/b${i}.bin`, size: block.length }), block);
  big.push(Buffer.alloc(1024));
  return [
    { label: 'synthetic: 200,000 small files', buf: Buffer.concat(many) },
    { label: 'synthetic: 8 files of 64 MiB', buf: Buffer.concat(big) },
  ];
}

function chunksOf(buf, size) {
  const out = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, Math.min(buf.length, i + size)));
  return out;
}

async function runTarReader(TarReader, chunks) {
  let bytes = 0;
  const sink = {
    data(c) {
      bytes += c.length;
    },
    end() {},
  };
  const t0 = process.hrtime.bigint();
  const r = new TarReader({ where: { file: 'bench' }, onEntry: () => sink });
  for (const c of chunks) r.push(c);
  r.finish();
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, entries: r.entries, bytes };
}

async function runTarStream(tarStream, chunks) {
  let bytes = 0;
  let entries = 0;
  const t0 = process.hrtime.bigint();
  const extract = tarStream.extract();
  extract.on('entry', (header, stream, next) => {
    entries++;
    stream.on('data', (c) => {
      bytes += c.length;
    });
    stream.on('end', next);
    stream.resume();
  });
  const done = new Promise((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  for (const c of chunks) {
    if (!extract.write(c)) await new Promise((resolve) => extract.once('drain', resolve));
  }
  extract.end();
  await done;
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, entries, bytes };
}

function fmt(n, digits = 0) {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const { TarReader } = await import(path.join(DIST, 'layer', 'tar-reader.js'));
  const tarStream = require('tar-stream');
  const tsVersion = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', 'tar-stream', 'package.json'), 'utf8')).version;

  const targets = o.targets.length ? o.targets.flatMap(expandTarget) : defaultTargets();
  let inputs = [];
  const seen = new Set();
  for (const t of targets) {
    for (const l of await layersOf(t, o.maxMB * 1e6)) {
      const key = `${l.file}@${l.start}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inputs.push(l);
    }
  }
  if (inputs.length === 0) {
    console.log(targets.length ? 'No uncompressed layer in the images given;' : 'No images given and $LAYERLENS_BENCH_DIR is not set;', 'using synthetic tars made in memory.\n');
    inputs = syntheticTars();
  }

  console.log(`TarReader (layerlens) vs tar-stream ${tsVersion}; node ${process.version}; ${o.chunkKiB} KiB chunks from memory; best of ${o.runs}\n`);
  const rows = [];
  for (const input of inputs) {
    const buf = input.buf ?? load(input.file, input.start, input.size);
    const chunks = chunksOf(buf, o.chunkKiB * 1024);
    const res = { TarReader: [], 'tar-stream': [] };
    let counts;
    for (let i = 0; i < o.runs; i++) {
      const a = await runTarReader(TarReader, chunks);
      const b = await runTarStream(tarStream, chunks);
      if (a.entries !== b.entries || a.bytes !== b.bytes) {
        console.log(`  note (${input.label}): TarReader saw ${a.entries} entries / ${a.bytes} content bytes, tar-stream ${b.entries} / ${b.bytes}`);
      }
      counts = a;
      res.TarReader.push(a.seconds);
      res['tar-stream'].push(b.seconds);
    }
    const mb = buf.length / 1e6;
    const tr = Math.min(...res.TarReader);
    const ts = Math.min(...res['tar-stream']);
    rows.push([input.label, fmt(mb), fmt(counts.entries), 'TarReader', fmt(tr, 3), fmt(counts.entries / tr), fmt(mb / tr)]);
    rows.push(['', '', '', 'tar-stream', fmt(ts, 3), fmt(counts.entries / ts), fmt(mb / ts)]);
    rows.push(['', '', '', 'tar-stream / TarReader', `${(ts / tr).toFixed(2)}×`, '', '']);
  }
  const headers = ['tar', 'MB', 'entries', 'parser', 'seconds', 'entries/s', 'MB/s'];
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i >= 4 || i === 1 || i === 2 ? c.padStart(w[i]) : c.padEnd(w[i]))).join('  ');
  console.log([line(headers), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n'));
}

main().catch((e) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
