// Helpers shared by the benchmarks: finding the images to measure, and locating layer blobs
// inside a tar by reading its headers (independently of layerlens's own reader, so that the
// floors do not depend on the code being measured).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = path.join(ROOT, 'dist');

export const HOW_TO_BUILD = `No images to measure.

The benchmark needs large images. Build them (as root, Debian 12; about 20 minutes on 2 cores and 6.3 GB):

  apt-get install -y umoci skopeo buildah debootstrap jq zstd time
  ../shared/corpus/build-big.sh /var/tmp/layerlens-big     # keep them outside this repository

then run

  LAYERLENS_BENCH_DIR=/var/tmp/layerlens-big npm run bench

or name images yourself: npm run bench -- /var/tmp/layerlens-big/debian-big some-image.tar
A smaller synthetic pair (no root, no network) is made by: node bench/make-image.js OUTDIR`;

// ------------------------------------------------------------------------------ finding images

export function isImage(p) {
  try {
    const st = fs.statSync(p);
    if (st.isFile()) return true;
    return fs.existsSync(path.join(p, 'index.json')) || fs.existsSync(path.join(p, 'manifest.json'));
  } catch {
    return false;
  }
}

/** The images to measure in one image directory: its OCI layout and its docker-archive(s). */
export function imagesInDir(dir) {
  const found = [];
  const names = fs.readdirSync(dir).sort();
  for (const n of names) {
    const p = path.join(dir, n);
    if (n.endsWith('.docker-archive.tar') && fs.statSync(p).isFile()) found.push({ name: path.basename(dir), path: p });
  }
  for (const n of names) {
    const p = path.join(dir, n);
    if (fs.statSync(p).isDirectory() && fs.existsSync(path.join(p, 'index.json'))) found.push({ name: path.basename(dir), path: p });
  }
  return found;
}

export function expandTarget(arg) {
  // FILE:REF when FILE exists
  let file = arg;
  let ref;
  if (!fs.existsSync(arg)) {
    for (let i = arg.lastIndexOf(':'); i > 0; i = arg.lastIndexOf(':', i - 1)) {
      if (fs.existsSync(arg.slice(0, i))) {
        file = arg.slice(0, i);
        ref = arg.slice(i + 1) || undefined;
        break;
      }
    }
  }
  if (!fs.existsSync(file)) throw new Error(`${arg}: no such file or directory`);
  if (isImage(file)) {
    // An OCI layout named `oci` is called after the folder that holds it, as build-big.sh lays them out.
    const base = path.basename(path.resolve(file));
    const name = base === 'oci' ? path.basename(path.dirname(path.resolve(file))) : base.replace(/\.docker-archive\.tar$|\.tar$/, '');
    return [{ name, path: file, ref }];
  }
  const inside = imagesInDir(file);
  if (inside.length === 0) throw new Error(`${arg}: neither an image nor a directory holding oci/ or *.docker-archive.tar`);
  return inside;
}

export function defaultTargets() {
  const dir = process.env.LAYERLENS_BENCH_DIR;
  if (!dir) return [];
  if (!fs.existsSync(dir)) throw new Error(`LAYERLENS_BENCH_DIR=${dir}: no such directory`);
  if (isImage(dir) || imagesInDir(dir).length > 0) return expandTarget(dir);
  const out = [];
  for (const n of fs.readdirSync(dir).sort()) {
    const p = path.join(dir, n);
    if (fs.statSync(p).isDirectory()) out.push(...imagesInDir(p));
  }
  return out;
}

// --------------------------------------------------------------------- where the blobs live

/** Member name → { type, start, size, linkname } of a tar file, by reading its headers only. */
export function indexTar(file) {
  const fd = fs.openSync(file, 'r');
  try {
    const fileSize = fs.fstatSync(fd).size;
    const members = new Map();
    const h = Buffer.alloc(512);
    let pos = 0;
    let pax = {};
    let longName;
    let longLink;
    const str = (b, s, n) => {
      const e = b.indexOf(0, s);
      return b.toString('utf8', s, e < 0 || e > s + n ? s + n : e);
    };
    const num = (b, s, n) => {
      if (b[s] & 0x80) {
        let v = 0;
        for (let i = s; i < s + n; i++) v = v * 256 + (i === s ? b[i] & 0x7f : b[i]);
        return v;
      }
      return parseInt(str(b, s, n).trim() || '0', 8);
    };
    while (pos + 512 <= fileSize) {
      fs.readSync(fd, h, 0, 512, pos);
      if (h.every((x) => x === 0)) break;
      const size = num(h, 124, 12);
      const type = h[156] === 0 ? '0' : String.fromCharCode(h[156]);
      const data = pos + 512;
      if (type === 'x' || type === 'L' || type === 'K') {
        const buf = Buffer.alloc(size);
        fs.readSync(fd, buf, 0, size, data);
        if (type === 'L') longName = str(buf, 0, size);
        else if (type === 'K') longLink = str(buf, 0, size);
        else {
          for (let i = 0; i < buf.length; ) {
            const sp = buf.indexOf(0x20, i);
            const len = parseInt(buf.toString('latin1', i, sp), 10);
            const rec = buf.toString('utf8', sp + 1, i + len - 1);
            const eq = rec.indexOf('=');
            pax[rec.slice(0, eq)] = rec.slice(eq + 1);
            i += len;
          }
        }
      } else if (type !== 'g') {
        let name = str(h, 0, 100);
        if (h.toString('latin1', 257, 262) === 'ustar' && h[345] !== 0) name = `${str(h, 345, 155)}/${name}`;
        name = pax.path ?? longName ?? name;
        const linkname = pax.linkpath ?? longLink ?? str(h, 157, 100);
        const realSize = pax.size !== undefined ? Number(pax.size) : size;
        members.set(cleanPath(name), { type, start: data, size: realSize, linkname });
        pax = {};
        longName = longLink = undefined;
        pos = data + Math.ceil(realSize / 512) * 512;
        continue;
      }
      pos = data + Math.ceil(size / 512) * 512;
    }
    return members;
  } finally {
    fs.closeSync(fd);
  }
}

export function cleanPath(p) {
  const out = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out.join('/');
}

export function resolveMember(members, member) {
  let p = cleanPath(member);
  for (let hops = 0; hops < 40; hops++) {
    const m = members.get(p);
    if (!m) return undefined;
    if (m.type === '0' || m.type === '7') return m;
    if (m.type === '2') p = cleanPath(m.linkname.startsWith('/') ? m.linkname : path.posix.join(path.posix.dirname(p), m.linkname));
    else if (m.type === '1') p = cleanPath(m.linkname);
    else return undefined;
  }
  return undefined;
}

export function sniff(file, start) {
  const fd = fs.openSync(file, 'r');
  const b = Buffer.alloc(4);
  const n = fs.readSync(fd, b, 0, 4, start);
  fs.closeSync(fd);
  if (n >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (n >= 4 && b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}


/** Where every distinct layer blob of an image lies on disk, from layerlens's own model. */
export async function locateBlobs(target) {
  const { openImageFile } = await import(path.join(DIST, 'source', 'open.js'));
  const { selectImage } = await import(path.join(DIST, 'source', 'select.js'));
  const file = await openImageFile(target.path);
  try {
    const { image } = selectImage(file, { ref: target.ref });
    if (file.container !== 'directory' && file.container !== 'tar') {
      throw new Error(`${target.path}: a ${file.container} archive is decompressed to a spool file first; the floor is only measured on plain tars and directories`);
    }
    const members = file.container === 'tar' ? indexTar(target.path) : undefined;
    const blobs = [];
    const seen = new Set();
    for (const layer of image.layers) {
      if (seen.has(layer.member)) continue;
      seen.add(layer.member);
      let loc;
      if (members) {
        const m = resolveMember(members, layer.member);
        if (!m) throw new Error(`${target.path}: layer member ${layer.member} not found by the bench's tar index`);
        loc = { path: target.path, start: m.start, size: m.size };
      } else {
        const p = path.join(target.path, layer.member);
        loc = { path: p, start: 0, size: fs.statSync(p).size };
      }
      blobs.push({ ...loc, index: layer.index, member: layer.member, compression: loc.size ? sniff(loc.path, loc.start) : 'none', digest: layer.digest, diffId: layer.diffId });
    }
    return { format: file.format, layers: image.layers.length, blobs };
  } finally {
    await file.close();
  }
}

// ------------------------------------------------------------------ writing synthetic tars

/** One ustar header block (names under 100 bytes; that is all the synthetic images use). */
export function tarHeader({ name, size = 0, mode = 0o644, type = '0', linkname = '', mtime = 1700000000, uid = 0, gid = 0 }) {
  if (Buffer.byteLength(name) > 99 || Buffer.byteLength(linkname) > 99) throw new Error(`name too long for a plain ustar header: ${name}`);
  const h = Buffer.alloc(512);
  const octal = (off, len, n) => h.write(n.toString(8).padStart(len - 1, '0') + '\0', off, len, 'latin1');
  h.write(name, 0, 100, 'utf8');
  octal(100, 8, mode);
  octal(108, 8, uid);
  octal(116, 8, gid);
  octal(124, 12, size);
  octal(136, 12, mtime);
  h.fill(0x20, 148, 156);
  h.write(type, 156, 1, 'latin1');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\u000000', 257, 8, 'latin1');
  h.write('root', 265, 32, 'latin1');
  h.write('root', 297, 32, 'latin1');
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += h[i];
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return h;
}

/** Deterministic pseudo-random bytes (xorshift32); gzip cannot shrink them. */
export function randomBytes(seed, n) {
  const words = new Uint32Array(Math.ceil(n / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    words[i] = x;
  }
  return Buffer.from(words.buffer, 0, n);
}
