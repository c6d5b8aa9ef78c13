#!/usr/bin/env node
// A copy of an OCI image layout with every gzip layer recompressed by the zstd program (what
// BuildKit's `compression=zstd` pushes): a new manifest and index, the same config, so the
// diff_ids and everything layerlens reports from the layers' content stay the same.
//
//   node bench/zstd-copy.js SRC_LAYOUT DEST [LEVEL]      (LEVEL: zstd's, default 3)
//
// Then `node bench/layers.js DEST`, and again with LAYERLENS_ZSTD=js for fzstd alone.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const [src, dest, level = '3'] = process.argv.slice(2);
if (!src || !dest) {
  console.error('usage: node bench/zstd-copy.js SRC_LAYOUT DEST [LEVEL]');
  process.exit(2);
}
if (spawnSync('zstd', ['--version']).status !== 0) {
  console.error('zstd-copy: the zstd program is needed (apt-get install zstd)');
  process.exit(2);
}

const blob = (root, digest) => path.join(root, 'blobs', ...digest.split(':'));
const sha256 = (buf) => `sha256:${createHash('sha256').update(buf).digest('hex')}`;
/** Write `bytes` as a blob of `dest`; its descriptor's digest and size. */
function put(bytes) {
  const digest = sha256(bytes);
  fs.mkdirSync(path.dirname(blob(dest, digest)), { recursive: true });
  fs.writeFileSync(blob(dest, digest), bytes);
  return { digest, size: bytes.length };
}

const index = JSON.parse(fs.readFileSync(path.join(src, 'index.json'), 'utf8'));
fs.rmSync(dest, { recursive: true, force: true });
fs.mkdirSync(dest, { recursive: true });
fs.writeFileSync(path.join(dest, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
const manifests = [];
for (const m of index.manifests) {
  const manifest = JSON.parse(fs.readFileSync(blob(src, m.digest), 'utf8'));
  put(fs.readFileSync(blob(src, manifest.config.digest)));
  manifest.layers = manifest.layers.map((l) => {
    let plain = fs.readFileSync(blob(src, l.digest));
    if (plain[0] === 0x1f && plain[1] === 0x8b) plain = zlib.gunzipSync(plain);
    const zst = execFileSync('zstd', [`-${level}`, '-q', '-c'], { input: plain, maxBuffer: 2 ** 32 });
    process.stdout.write(`${l.digest.slice(7, 19)}: ${plain.length} -> ${zst.length} bytes\n`);
    return { ...l, mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', ...put(zst) };
  });
  manifests.push({ ...m, ...put(Buffer.from(JSON.stringify(manifest))) });
}
fs.writeFileSync(path.join(dest, 'index.json'), JSON.stringify({ ...index, manifests }));
console.log(`wrote ${dest}`);
