#!/usr/bin/env node
// A synthetic image for the benchmarks when the big corpus cannot be built (it needs root, a
// Debian mirror and buildah): no network, no root, only Node.
//
//   node bench/make-image.js OUTDIR [--scale N]
//
// writes OUTDIR/synthetic/oci (an OCI image layout, gzip layers, ref `latest`) and
// OUTDIR/synthetic/synthetic.docker-archive.tar (the same layers uncompressed), the same shape as
// an image directory of build-big.sh. At --scale 1 (default) the layers are, uncompressed:
//   0  40,000 small text files in 400 directories (~90 MB as tar; compresses well)
//   1  60 files of 4 MiB, half pseudo-random and half text (~250 MB; gzip halves it)
//   2  one file of 256 MiB, a pseudo-random 1 MiB block repeated (gzip cannot shrink it)
//   3  10,000 small files rewritten, 5,000 deleted (whiteouts), an opaque directory
// Everything is deterministic: two runs give the same digests.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { randomBytes, tarHeader } from './lib.js';

const args = process.argv.slice(2);
let scale = 1;
const si = args.findIndex((a) => a === '--scale');
if (si >= 0) {
  scale = Number(args[si + 1]);
  args.splice(si, 2);
}
if (args.length !== 1 || !(scale > 0)) {
  console.error('usage: node bench/make-image.js OUTDIR [--scale N]');
  process.exit(2);
}
const OUT = path.resolve(args[0], 'synthetic');
const EPOCH = 1700000000;
const WORDS = 'layer image digest config manifest index whiteout opaque blob tar gzip entry header padding file directory link mode owner size'.split(' ');

/** A tar file written block by block, hashed as it goes. */
class TarWriter {
  constructor(file) {
    this.fd = fs.openSync(file, 'w');
    this.hash = createHash('sha256');
    this.size = 0;
    this.entries = 0;
    this.buf = [];
    this.bufLen = 0;
  }
  write(b) {
    this.hash.update(b);
    this.buf.push(b);
    this.bufLen += b.length;
    this.size += b.length;
    if (this.bufLen >= 4 << 20) this.flush();
  }
  flush() {
    if (this.bufLen) fs.writeSync(this.fd, Buffer.concat(this.buf));
    this.buf = [];
    this.bufLen = 0;
  }
  entry(header, content) {
    const size = content ? content.length : 0;
    this.write(tarHeader({ mtime: EPOCH, ...header, size }));
    if (size) {
      this.write(content);
      if (size % 512) this.write(Buffer.alloc(512 - (size % 512)));
    }
    this.entries++;
  }
  dir(name, mode = 0o755) {
    this.entry({ name: name.endsWith('/') ? name : name + '/', type: '5', mode });
  }
  close() {
    this.write(Buffer.alloc(1024));
    this.flush();
    fs.closeSync(this.fd);
    return { diffId: `sha256:${this.hash.digest('hex')}`, size: this.size, entries: this.entries };
  }
}

function text(seed, n) {
  const parts = [];
  let len = 0;
  let x = seed >>> 0 || 7;
  while (len < n) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const w = WORDS[x % WORDS.length];
    parts.push(w);
    len += w.length + 1;
  }
  return Buffer.from(parts.join(' ').slice(0, n));
}

function smallFile(d, f, tag) {
  const n = (d * 37 + f * 101) % 3000;
  return Buffer.concat([Buffer.from(`${tag} d${d} f${f}\n`), text(d * 1000 + f + 1, n)]);
}

const n = (k) => Math.max(1, Math.round(k * scale));

const layers = [
  {
    createdBy: 'synthetic: 40,000 small text files in 400 directories',
    write(t) {
      t.dir('data');
      for (let d = 0; d < n(400); d++) {
        t.dir(`data/d${d}`);
        for (let f = 0; f < 100; f++) t.entry({ name: `data/d${d}/f${f}.txt` }, smallFile(d, f, 'L0'));
      }
    },
  },
  {
    createdBy: 'synthetic: 60 files of 4 MiB, half pseudo-random and half text',
    write(t) {
      t.dir('opt');
      t.dir('opt/bin');
      for (let i = 0; i < n(60); i++) {
        const parts = [];
        for (let k = 0; k < 128; k++) parts.push(k % 2 ? text(i * 128 + k + 1, 32768) : randomBytes(0x9e3779b9 ^ (i * 128 + k), 32768));
        t.entry({ name: `opt/bin/tool${i}`, mode: 0o755 }, Buffer.concat(parts));
      }
    },
  },
  {
    createdBy: 'synthetic: one pseudo-random file of 256 MiB',
    write(t) {
      t.dir('blob');
      const size = n(256) * 1024 * 1024;
      const block = randomBytes(0x12345678, 1 << 20);
      t.write(tarHeader({ name: 'blob/random.bin', size, mtime: EPOCH }));
      // A 1 MiB pseudo-random block repeated: gzip (a 32 KiB window) cannot shrink it.
      for (let done = 0; done < size; done += block.length) t.write(done + block.length <= size ? block : block.subarray(0, size - done));
      t.entries++;
    },
  },
  {
    createdBy: 'synthetic: 10,000 files rewritten, 5,000 deleted, an opaque directory',
    write(t) {
      const dirs = n(400);
      for (let d = 0; d < dirs; d++) {
        for (let f = 0; f < 25; f++) t.entry({ name: `data/d${d}/f${f}.txt` }, smallFile(d, f, 'L3'));
        for (let f = 50; f < 62; f++) t.entry({ name: `data/d${d}/.wh.f${f}.txt`, mode: 0 });
      }
      t.dir('opt/bin');
      t.entry({ name: 'opt/bin/.wh..wh..opq', mode: 0 });
      t.entry({ name: 'opt/bin/tool0', mode: 0o755 }, text(99, 4096));
    },
  },
];

async function gzipFile(src, dst) {
  const hash = createHash('sha256');
  let size = 0;
  const gz = zlib.createGzip({ level: 6 });
  gz.on('data', (c) => {
    hash.update(c);
    size += c.length;
  });
  await pipeline(fs.createReadStream(src, { highWaterMark: 1 << 20 }), gz, fs.createWriteStream(dst));
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

function writeBlob(dir, bytes) {
  const hex = createHash('sha256').update(bytes).digest('hex');
  fs.writeFileSync(path.join(dir, hex), bytes);
  return { digest: `sha256:${hex}`, size: bytes.length };
}

function copyInto(fd, src, pos) {
  const buf = Buffer.allocUnsafe(1 << 20);
  const s = fs.openSync(src, 'r');
  let n;
  let at = 0;
  while ((n = fs.readSync(s, buf, 0, buf.length, at)) > 0) {
    fs.writeSync(fd, buf, 0, n, pos + at);
    at += n;
  }
  fs.closeSync(s);
  return at;
}

async function main() {
  fs.rmSync(OUT, { recursive: true, force: true });
  const work = path.join(OUT, '.work');
  const blobs = path.join(OUT, 'oci', 'blobs', 'sha256');
  fs.mkdirSync(work, { recursive: true });
  fs.mkdirSync(blobs, { recursive: true });
  const done = [];
  for (let i = 0; i < layers.length; i++) {
    const tarPath = path.join(work, `layer${i}.tar`);
    const t = new TarWriter(tarPath);
    layers[i].write(t);
    const info = t.close();
    const gzPath = path.join(work, `layer${i}.tar.gz`);
    const gz = await gzipFile(tarPath, gzPath);
    fs.renameSync(gzPath, path.join(blobs, gz.digest.slice(7)));
    done.push({ ...info, tarPath, gz, createdBy: layers[i].createdBy });
    console.log(`layer ${i}: ${(info.size / 1e6).toFixed(0)} MB tar, ${info.entries} entries, ${(gz.size / 1e6).toFixed(0)} MB gzip`);
  }
  const created = (k) => new Date((EPOCH + k * 3600) * 1000).toISOString().replace('.000Z', 'Z');
  const config = Buffer.from(
    JSON.stringify({
      created: created(layers.length),
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'] },
      rootfs: { type: 'layers', diff_ids: done.map((l) => l.diffId) },
      history: done.map((l, k) => ({ created: created(k), created_by: l.createdBy })),
    }),
  );

  // OCI layout, gzip layers
  const cfg = writeBlob(blobs, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...cfg },
      layers: done.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l.gz })),
    }),
  );
  const man = writeBlob(blobs, manifest);
  fs.writeFileSync(path.join(OUT, 'oci', 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  fs.writeFileSync(
    path.join(OUT, 'oci', 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...man, annotations: { 'org.opencontainers.image.ref.name': 'latest' } }] }),
  );

  // docker-archive, uncompressed layers named by diff_id, as skopeo writes them
  const members = [
    [`${cfg.digest.slice(7)}.json`, config],
    ...done.map((l) => [`${l.diffId.slice(7)}.tar`, l.tarPath, l.size]),
    ['manifest.json', Buffer.from(JSON.stringify([{ Config: `${cfg.digest.slice(7)}.json`, RepoTags: ['localhost/bench/synthetic:latest'], Layers: done.map((l) => `${l.diffId.slice(7)}.tar`) }]))],
  ];
  const archive = path.join(OUT, 'synthetic.docker-archive.tar');
  const fd = fs.openSync(archive, 'w');
  let pos = 0;
  for (const [name, content, size] of members) {
    const len = typeof content === 'string' ? size : content.length;
    fs.writeSync(fd, tarHeader({ name, size: len, mtime: EPOCH }), 0, 512, pos);
    pos += 512;
    if (typeof content === 'string') copyInto(fd, content, pos);
    else fs.writeSync(fd, content, 0, len, pos);
    pos += Math.ceil(len / 512) * 512;
  }
  fs.writeSync(fd, Buffer.alloc(1024), 0, 1024, pos);
  fs.closeSync(fd);
  fs.rmSync(work, { recursive: true, force: true });
  console.log(`wrote ${path.join(OUT, 'oci')} and ${archive}`);
}

main().catch((e) => {
  console.error(`make-image: ${e.message}`);
  process.exit(1);
});
