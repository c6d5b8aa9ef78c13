// Mutation fuzzing of layerlens's inputs: take a good image (a tar, compressed or not, or an OCI
// layout directory), break it in one or more of many ways, and say whether layerlens behaved:
// a result (exit 0) or one line `layerlens: error: ...` (exit 2), never an internal error, a
// stack trace, a hang, or a write outside the folder it was told to write to.
//
// Everything is decided by a seeded generator, so a case is named by (input, seed) and replays
// exactly. Used by the short run in `npm test` (test/fuzz.test.ts) and by `npm run fuzz`
// (fuzz/run.js).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import { BLOCK, entryBytes, header, parseTar, writeTar } from './tar.js';

// ─── randomness ────────────────────────────────────────────────────────────────────────────

/** A small seeded generator (mulberry32). */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = {
    next,
    int: (n) => Math.floor(next() * n),
    range: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    /** Pick by weight: [[weight, value], ...]. */
    weighted: (pairs) => {
      let total = 0;
      for (const [w] of pairs) total += w;
      let x = next() * total;
      for (const [w, v] of pairs) if ((x -= w) < 0) return v;
      return pairs[pairs.length - 1][1];
    },
  };
  return r;
}

/** A seed from any strings and numbers. */
export function seedOf(...parts) {
  return createHash('sha256').update(parts.join('\0')).digest().readUInt32LE(0);
}

const sha = (b) => createHash('sha256').update(b).digest('hex');

// ─── inputs ────────────────────────────────────────────────────────────────────────────────

const MAX_INPUT_BYTES = 64 * 1024 * 1024;

/**
 * The image inputs under some roots: tars (plain, gzip, zstd) and directories holding an
 * `index.json` or `manifest.json`. Sorted, so that a seed picks the same input everywhere.
 */
export function findInputs(roots) {
  const out = [];
  const visit = (p, depth) => {
    let st;
    try {
      st = fs.lstatSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      const names = fs.readdirSync(p);
      if (names.includes('index.json') || names.includes('manifest.json')) {
        out.push(p);
        return;
      }
      if (depth > 8) return;
      for (const n of names.sort()) if (!n.startsWith('.') || n === '.data') visit(path.join(p, n), depth + 1);
      return;
    }
    if (!st.isFile() || st.size < BLOCK || st.size > MAX_INPUT_BYTES) return;
    if (!/\.(tar|tgz|tar\.gz|tar\.zst)$/.test(p)) return;
    out.push(p);
  };
  for (const r of roots) visit(r, 0);
  return [...new Set(out)].sort();
}

function decompress(buf) {
  if (buf[0] === 0x1f && buf[1] === 0x8b) return { kind: 'gzip', data: zlib.gunzipSync(buf, { maxOutputLength: 512 * 1024 * 1024 }) };
  if (buf[0] === 0x28 && buf[1] === 0xb5 && buf[2] === 0x2f && buf[3] === 0xfd) return { kind: 'zstd', data: Buffer.from(zstdDecompress(buf)) };
  return { kind: 'none', data: buf };
}

/**
 * An input as a list of members: { name, kind: 'file'|'dir'|'symlink'|'hardlink', data,
 * target, entry (the tar entry it came from) }. `form` says how to write it back.
 */
export function loadInput(p) {
  const st = fs.statSync(p);
  if (st.isDirectory()) {
    const members = [];
    const walk = (rel) => {
      for (const name of fs.readdirSync(path.join(p, rel)).sort()) {
        const r = rel ? `${rel}/${name}` : name;
        const full = path.join(p, r);
        const s = fs.lstatSync(full);
        if (s.isDirectory()) {
          members.push({ name: r, kind: 'dir' });
          walk(r);
        } else if (s.isSymbolicLink()) members.push({ name: r, kind: 'symlink', target: fs.readlinkSync(full) });
        else if (s.isFile()) members.push({ name: r, kind: 'file', data: fs.readFileSync(full) });
      }
    };
    walk('');
    return { source: p, form: 'dir', outer: 'none', members };
  }
  const raw = fs.readFileSync(p);
  let outer = 'none';
  let tarBytes = raw;
  try {
    const d = decompress(raw);
    outer = d.kind;
    tarBytes = d.data;
  } catch {
    // Not decompressible: the fuzzer still flips its bytes.
  }
  const parsed = parseTar(tarBytes);
  const members = parsed.entries.map((e) => ({
    name: e.name,
    kind: e.typeflag === '5' ? 'dir' : e.typeflag === '2' ? 'symlink' : e.typeflag === '1' ? 'hardlink' : 'file',
    data: e.data,
    target: e.linkname,
    entry: e,
  }));
  return { source: p, form: 'tar', outer, members, parsed: parsed.complete && members.length > 0, raw: tarBytes };
}

/** A copy to mutate: the member list and each member are new objects; buffers are shared until replaced. */
function cloneModel(m) {
  return { ...m, members: m.members.map((x) => ({ ...x })) };
}

// ─── layers and JSON inside an input ───────────────────────────────────────────────────────

const layerCache = new WeakMap();

/** A member that holds a layer: its compression, its tar's entries, and the tar's sha256. */
function asLayer(member) {
  if (member.kind !== 'file' || !member.data || member.data.length < BLOCK) return undefined;
  if (layerCache.has(member.data)) return layerCache.get(member.data);
  let result;
  try {
    const d = decompress(member.data);
    const parsed = parseTar(d.data);
    if (parsed.entries.length > 0) result = { compression: d.kind, entries: parsed.entries, diffId: sha(d.data), plain: d.data };
  } catch {
    result = undefined;
  }
  layerCache.set(member.data, result);
  return result;
}

/** Nesting deeper than this is left alone: the fuzzer walks documents recursively too. */
function tooDeep(b) {
  let depth = 0;
  for (const c of b) {
    if (c === 0x5b || c === 0x7b) {
      if (++depth > 100) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

function asJson(member) {
  if (member.kind !== 'file' || !member.data || member.data.length > 4 * 1024 * 1024) return undefined;
  const first = member.data.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09 && b !== 0xef && b !== 0xbb && b !== 0xbf);
  if (first !== 0x7b && first !== 0x5b) return undefined;
  if (tooDeep(member.data)) return undefined;
  try {
    return JSON.parse(member.data.toString('utf8').replace(/^\uFEFF/, ''));
  } catch {
    return undefined;
  }
}

function compressAs(plain, kind) {
  // There is no zstd encoder in Node 20: a zstd layer comes back as gzip (layerlens notes the
  // media type that disagrees, and reads it).
  return kind === 'none' ? plain : zlib.gzipSync(plain, { level: 1 });
}

// ─── hostile values ────────────────────────────────────────────────────────────────────────

function deepNesting(r) {
  const depth = r.pick([600, 5_000, 100_000]);
  return r.chance(0.5) ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

/** A JSON value that is wrong for almost any field, as JSON text. */
function hostileJson(r, old) {
  return r.weighted([
    [3, () => 'null'],
    [2, () => 'true'],
    [3, () => r.pick(['-1', '-9007199254740993', '9007199254740993', '1e308', '1e999', '0.5', '-0', '18446744073709551616', '4294967296'])],
    [3, () => JSON.stringify(r.pick(['', 'x', 'sha256:', 'sha256:' + 'g'.repeat(64), 'sha512:' + 'a'.repeat(64), '../../../../etc/passwd', '/etc/passwd', '\u0000', '\ud800', 'a'.repeat(70_000)]))],
    [2, () => (typeof old === 'string' ? JSON.stringify(old + old) : '"' + 'A'.repeat(r.pick([1, 1000, 200_000])) + '"')],
    [2, () => '[]'],
    [2, () => '{}'],
    [2, () => JSON.stringify([old, old])],
    [1, () => deepNesting(r)],
    [1, () => JSON.stringify({ mediaType: 'application/vnd.oci.image.index.v1+json', digest: 'sha256:' + 'a'.repeat(64), size: 2 })],
  ])();
}

/** Every path to a value inside a JSON document (arrays by index), the root first. */
function jsonPaths(doc, limit = 2000) {
  const out = [[]];
  const stack = [[doc, []]];
  while (stack.length && out.length < limit) {
    const [v, p] = stack.pop();
    if (v && typeof v === 'object') {
      for (const k of Object.keys(v)) {
        const q = [...p, Array.isArray(v) ? Number(k) : k];
        out.push(q);
        stack.push([v[k], q]);
      }
    }
  }
  return out;
}

const PLACEHOLDER = '\u0000LAYERLENS_FUZZ\u0000';

/** The document with the value at `p` replaced by raw JSON text (which may be anything at all). */
function replaceAt(doc, p, text) {
  if (p.length === 0) return text;
  const copy = structuredClone(doc);
  let v = copy;
  for (const k of p.slice(0, -1)) v = v[k];
  v[p[p.length - 1]] = PLACEHOLDER;
  return JSON.stringify(copy).replace(JSON.stringify(PLACEHOLDER), () => text);
}

function getAt(doc, p) {
  let v = doc;
  for (const k of p) v = v?.[k];
  return v;
}

// ─── tar entry mutations (layers, and the outer archive) ───────────────────────────────────

const dirty = (fields) => ({ ...fields, dirty: true, data: fields.data ?? Buffer.alloc(0) });

/** One PAX record, `LEN key=value\n`. */
function paxBody(key, value) {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.from(`${len}${body}`);
}

/** New entries no honest layer holds. Each returns entries to insert. */
const HOSTILE_ENTRIES = [
  ['dotdot-names', (r) => [dirty({ name: r.pick(['../../escape.txt', '/abs.txt', 'a/../../../b.txt', './../x', '..', '.', '/']), data: Buffer.from('pwned\n') })]],
  [
    'symlink-escape',
    (r) => [
      dirty({ name: 'out', typeflag: '2', linkname: r.pick(['../../../../../../tmp', '/', '/etc', '..', '../../..']) }),
      dirty({ name: `out/${r.pick(['x', 'etc/passwd', 'pwned.txt'])}`, data: Buffer.from('through the link\n') }),
    ],
  ],
  [
    'symlink-loop',
    (r) => [
      dirty({ name: 'l1', typeflag: '2', linkname: 'l2' }),
      dirty({ name: 'l2', typeflag: '2', linkname: r.pick(['l1', '/l1', './l1', 'l1/.']) }),
      dirty({ name: r.pick(['l1/x', 'l2/.wh.x', 'l1/.wh..wh..opq', 'x']), data: Buffer.from('x') }),
      ...(r.chance(0.5) ? [dirty({ name: 'h', typeflag: '1', linkname: 'l1/x' })] : []),
    ],
  ],
  [
    'self-symlink',
    () => [dirty({ name: 's', typeflag: '2', linkname: 's' }), dirty({ name: 's/t', data: Buffer.from('t') })],
  ],
  [
    'deep-path',
    (r) => {
      const depth = r.pick([100, 1000, 2047, 3000, 20_000]);
      return [dirty({ name: 'd/'.repeat(depth) + 'f', data: Buffer.from('deep') })];
    },
  ],
  [
    'symlink-amplify',
    (r) => {
      // Each link's target is long; going through many of them leads very deep.
      const out = [];
      const seg = 'd/'.repeat(r.pick([100, 1000]));
      for (let i = 0; i < 8; i++) out.push(dirty({ name: `a${i}`, typeflag: '2', linkname: `/${seg}a${i + 1}` }));
      out.push(dirty({ name: `a0/${'x/'.repeat(10)}f`, data: Buffer.from('f') }));
      return out;
    },
  ],
  ['long-name', (r) => [dirty({ name: 'n'.repeat(r.pick([4097, 70_000, 1_000_000])), data: Buffer.from('long') })]],
  ['long-link', (r) => [dirty({ name: 'ln', typeflag: '2', linkname: '/t'.repeat(r.pick([3000, 40_000])) })]],
  [
    'hardlink-odd',
    (r) => [
      dirty({ name: 'hl', typeflag: '1', linkname: r.pick(['hl', '', '/', '..', 'missing', 'etc', '../../etc/passwd', 'hl/..']) }),
      ...(r.chance(0.5) ? [dirty({ name: 'hl2', typeflag: '1', linkname: 'hl' }), dirty({ name: 'hl', typeflag: '1', linkname: 'hl2' })] : []),
    ],
  ],
  [
    'whiteout-odd',
    (r) => [dirty({ name: r.pick(['.wh..wh..opq', '.wh.', '.wh..', '.wh...', 'a/.wh./b', '/.wh.etc', '.wh.', '.wh.\u0000', 'x/.wh..wh..opq/y']), mode: 0 })],
  ],
  [
    'device-odd',
    (r) => [dirty({ name: 'dev0', typeflag: r.pick(['3', '4', '6']), devMajor: r.pick([0, 2 ** 31, 2 ** 40, -1]), devMinor: r.pick([0, 2 ** 32, -5]) })],
  ],
  [
    'odd-typeflag',
    (r) => [dirty({ name: 'odd', typeflag: r.pick(['V', 'M', 'N', 'A', 'D', 'E', 'I', '\u00ff', '9', 'z']), data: Buffer.from('odd data') })],
  ],
  [
    'absurd-pax',
    (r) => [
      dirty({
        name: 'paxed',
        data: Buffer.from('p'),
        pax: r.pick([
          { size: '99999999999999999999' },
          { size: '-1' },
          { size: '1e3' },
          { size: String(2 ** 40) },
          { uid: '-1' },
          { mtime: '1e400' },
          { path: '' },
          { path: '../../../../etc/shadow' },
          { linkpath: 'x'.repeat(5000) },
          { 'SCHILY.xattr.user.big': 'v'.repeat(200_000) },
          { 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.realsize': '999999999999999', 'GNU.sparse.name': 'sp' },
          { 'GNU.sparse.map': '0,1,' + '9,1,'.repeat(10) + '5,1', 'GNU.sparse.size': '100' },
          { 'GNU.sparse.major': '7', 'GNU.sparse.minor': '7' },
        ]),
      }),
    ],
  ],
  [
    'sparse-bomb',
    (r) => {
      // An old GNU sparse file ('S') whose real size is huge, storing one byte: within the
      // default --max-bytes (its holes are hashed, and written out by export), or far past it.
      const real = r.pick([2 ** 28, 2 ** 30, 2 ** 36, 2 ** 50, 2 ** 62]);
      const b256 = (v, len) => {
        const out = Buffer.alloc(len);
        let x = BigInt(v);
        for (let i = len - 1; i >= 0; i--) {
          out[i] = Number(x & 0xffn);
          x >>= 8n;
        }
        out[0] |= 0x80;
        return out;
      };
      const h = header({
        name: 'sparse.bin',
        typeflag: 'S',
        gnu: true,
        size: 1,
        patch: [
          { offset: 386, bytes: b256(real - 1, 12) },
          { offset: 398, bytes: b256(1, 12) },
          { offset: 483, bytes: b256(real, 12) },
        ],
      });
      return [{ header: h, data: Buffer.from('s'), name: 'sparse.bin', typeflag: 'S' }];
    },
  ],
  [
    'many-entries',
    (r) => {
      const n = r.pick([1000, 20_000]);
      const out = [];
      for (let i = 0; i < n; i++) out.push(dirty({ name: `many/${i % 97}/${i}`, data: Buffer.alloc(0) }));
      return out;
    },
  ],
  [
    'many-pax-headers',
    (r) => {
      // Extended headers that merge into one entry, or global ones that apply to all.
      const typeflag = r.pick(['x', 'g']);
      const parts = [];
      for (let i = 0; i < r.pick([10, 200, 3000]); i++) {
        const body = paxBody(`key${String(i).padStart(12, '0')}`, 'v'.repeat(r.pick([8, 400])));
        parts.push(header({ name: 'PaxHeaders/p', typeflag, size: body.length }), body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK));
      }
      const e = entryBytes({ name: 'after-pax', data: Buffer.from('a') });
      return [{ header: Buffer.concat([...parts, e.subarray(0, BLOCK)]), data: Buffer.from('a'), name: 'after-pax', typeflag: '0' }];
    },
  ],
  [
    'replace-types',
    (r) => {
      const p = r.pick(['etc', 'bin', 'usr', 'app', 'var']);
      return [dirty({ name: p, data: Buffer.from('now a file') }), dirty({ name: `${p}/x`, typeflag: r.pick(['0', '5', '2']), linkname: '..' })];
    },
  ],
];

/** Mutations of a list of tar entries (in place); each returns what it did. */
function mutateEntries(entries, r) {
  const kind = r.weighted([
    [6, 'hostile'],
    [2, 'duplicate'],
    [2, 'reorder'],
    [2, 'drop'],
    [2, 'header-bytes'],
    [2, 'size-field'],
    [1, 'swap-data'],
    [1, 'rename'],
  ]);
  const at = () => r.int(entries.length + 1);
  switch (kind) {
    case 'hostile': {
      const [name, make] = r.pick(HOSTILE_ENTRIES);
      entries.splice(at(), 0, ...make(r));
      return `entries+${name}`;
    }
    case 'duplicate': {
      if (!entries.length) return 'none';
      const e = entries[r.int(entries.length)];
      entries.splice(at(), 0, ...Array.from({ length: r.pick([1, 2, 100]) }, () => ({ ...e })));
      return 'entries-duplicate';
    }
    case 'reorder': {
      for (let i = entries.length - 1; i > 0 && r.chance(0.8); i--) {
        const j = r.int(i + 1);
        [entries[i], entries[j]] = [entries[j], entries[i]];
      }
      return 'entries-reorder';
    }
    case 'drop': {
      if (!entries.length) return 'none';
      entries.splice(r.int(entries.length), r.pick([1, 1, 5]));
      return 'entries-drop';
    }
    case 'header-bytes': {
      if (!entries.length) return 'none';
      const i = r.int(entries.length);
      const e = entries[i];
      const h = Buffer.from(e.header ?? entryBytes(e).subarray(0, BLOCK));
      const n = r.pick([1, 2, 8]);
      for (let k = 0; k < n; k++) h[r.int(h.length)] = r.int(256);
      entries[i] = { ...e, header: h, dirty: false, data: e.data ?? Buffer.alloc(0) };
      return 'entries-header-bytes';
    }
    case 'size-field': {
      if (!entries.length) return 'none';
      const i = r.int(entries.length);
      const e = entries[i];
      if (!e.header) return 'none';
      const h = Buffer.from(e.header);
      const at0 = h.length - BLOCK + 124;
      const v = r.pick(['77777777777\0', '\x80\0\0\0\0\0\0\0\xff\xff\xff\xff', '\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xfe', '0000000000x\0', '           \0']);
      h.write(v, at0, 'latin1');
      if (r.chance(0.7)) {
        // With the checksum fixed, only the size is wrong.
        let sum = 0;
        const base = h.length - BLOCK;
        for (let k = 0; k < BLOCK; k++) sum += k >= 148 && k < 156 ? 32 : h[base + k];
        h.write(sum.toString(8).padStart(6, '0') + '\0 ', base + 148, 'latin1');
      }
      entries[i] = { ...e, header: h, dirty: false };
      return 'entries-size-field';
    }
    case 'swap-data': {
      if (entries.length < 2) return 'none';
      const i = r.int(entries.length);
      const j = r.int(entries.length);
      const a = entries[i];
      const b = entries[j];
      entries[i] = { ...a, data: b.data, dirty: true };
      entries[j] = { ...b, data: a.data, dirty: true };
      return 'entries-swap-data';
    }
    case 'rename': {
      if (!entries.length) return 'none';
      const i = r.int(entries.length);
      entries[i] = { ...entries[i], name: r.pick(['../' + entries[i].name, '/' + entries[i].name, entries[i].name + '/..', entries[i].name.replace(/[^/]+$/, '.wh.$&')]), dirty: true };
      return 'entries-rename';
    }
  }
  return 'none';
}

// ─── input mutations ───────────────────────────────────────────────────────────────────────

function files(model) {
  return model.members.filter((m) => m.kind === 'file' && m.data);
}

function flipBytes(buf, r) {
  const out = Buffer.from(buf);
  const n = r.pick([1, 1, 2, 4, 16, 64]);
  for (let i = 0; i < n && out.length; i++) {
    const at = r.int(out.length);
    out[at] = r.weighted([
      [3, () => out[at] ^ (1 << r.int(8))],
      [1, () => 0],
      [1, () => 0xff],
      [1, () => r.int(256)],
    ])();
  }
  return out;
}

function truncate(buf, r) {
  return buf.subarray(0, r.weighted([
    [2, () => r.int(buf.length)],
    [1, () => Math.max(0, buf.length - r.range(1, 1024))],
    [1, () => r.pick([0, 1, 4, 511, 512, 1024])],
  ])());
}

/** The mutations of a whole input; each changes `model` and returns a name, or undefined if it did not apply. */
const MUTATIONS = [
  [6, 'json-field', (model, r) => {
    const docs = files(model).map((m) => [m, asJson(m)]).filter(([, d]) => d !== undefined);
    if (!docs.length) return undefined;
    const [m, doc] = r.pick(docs);
    const paths = jsonPaths(doc);
    const p = r.pick(paths);
    m.data = Buffer.from(replaceAt(doc, p, hostileJson(r, getAt(doc, p))));
    return `json-field(${m.name}:${p.join('.')})`;
  }],
  [2, 'json-remove', (model, r) => {
    const docs = files(model).map((m) => [m, asJson(m)]).filter(([, d]) => d && typeof d === 'object');
    if (!docs.length) return undefined;
    const [m, doc] = r.pick(docs);
    const p = r.pick(jsonPaths(doc).filter((q) => q.length > 0));
    if (!p) return undefined;
    const copy = structuredClone(doc);
    const parent = getAt(copy, p.slice(0, -1));
    if (Array.isArray(parent)) parent.splice(p[p.length - 1], 1);
    else delete parent[p[p.length - 1]];
    m.data = Buffer.from(JSON.stringify(copy));
    return `json-remove(${m.name}:${p.join('.')})`;
  }],
  [2, 'json-repeat', (model, r) => {
    const docs = files(model).map((m) => [m, asJson(m)]).filter(([, d]) => d !== undefined);
    const arrays = docs.flatMap(([m, d]) => jsonPaths(d).filter((p) => Array.isArray(getAt(d, p)) && getAt(d, p).length).map((p) => [m, d, p]));
    if (!arrays.length) return undefined;
    const [m, doc, p] = r.pick(arrays);
    const arr = getAt(doc, p);
    const times = r.pick([2, 50, 3000]);
    const copy = structuredClone(doc);
    const target = p.length ? getAt(copy, p) : copy;
    for (let i = 0; i < times; i++) target.push(structuredClone(arr[r.int(arr.length)]));
    m.data = Buffer.from(JSON.stringify(copy));
    return `json-repeat(${m.name}:${p.join('.')}x${times})`;
  }],
  [2, 'json-text', (model, r) => {
    const docs = files(model).filter((m) => asJson(m) !== undefined);
    if (!docs.length) return undefined;
    const m = r.pick(docs);
    m.data = r.weighted([
      [2, () => truncate(m.data, r)],
      [1, () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), m.data])],
      [1, () => Buffer.concat([m.data, Buffer.from(r.pick(['x', '\u0000', ']', '}{}', ' '.repeat(100)]))])],
      [1, () => Buffer.from(deepNesting(r))],
      [1, () => flipBytes(m.data, r)],
    ])();
    return `json-text(${m.name})`;
  }],
  [2, 'json-digest-swap', (model, r) => {
    const docs = files(model).map((m) => [m, asJson(m)]).filter(([, d]) => d !== undefined);
    const descs = docs.flatMap(([m, d]) => jsonPaths(d).filter((p) => p[p.length - 1] === 'digest').map((p) => [m, d, p]));
    if (!descs.length) return undefined;
    const [m, doc, p] = r.pick(descs);
    const other = r.pick(descs)[1];
    const others = jsonPaths(other).filter((q) => q[q.length - 1] === 'digest').map((q) => getAt(other, q));
    m.data = Buffer.from(replaceAt(doc, p, JSON.stringify(r.pick(others))));
    return `json-digest-swap(${m.name}:${p.join('.')})`;
  }],
  [8, 'layer-entries', (model, r) => {
    const layers = files(model).filter((m) => asLayer(m));
    if (!layers.length) return undefined;
    const m = r.pick(layers);
    const layer = asLayer(m);
    const entries = layer.entries.map((e) => ({ ...e }));
    const done = [];
    for (let i = 0, n = r.pick([1, 1, 2, 3]); i < n; i++) done.push(mutateEntries(entries, r));
    const plain = writeTar(entries, { trailer: r.chance(0.8) });
    m.data = compressAs(plain, r.chance(0.2) ? r.pick(['none', 'gzip']) : layer.compression);
    m.newDiffId = sha(plain);
    m.oldDiffId = layer.diffId;
    return `layer(${m.name}:${done.join(',')})`;
  }],
  [3, 'member-bytes', (model, r) => {
    const fs_ = files(model);
    if (!fs_.length) return undefined;
    const m = r.pick(fs_);
    m.data = r.chance(0.7) ? flipBytes(m.data, r) : truncate(m.data, r);
    return `member-bytes(${m.name})`;
  }],
  [2, 'swap-blobs', (model, r) => {
    const fs_ = files(model);
    if (fs_.length < 2) return undefined;
    const a = r.pick(fs_);
    const b = r.pick(fs_);
    [a.data, b.data] = [b.data, a.data];
    return `swap-blobs(${a.name},${b.name})`;
  }],
  [2, 'drop-member', (model, r) => {
    if (!model.members.length) return undefined;
    const i = r.int(model.members.length);
    const [m] = model.members.splice(i, 1);
    return `drop-member(${m.name})`;
  }],
  [2, 'duplicate-member', (model, r) => {
    if (model.form !== 'tar' || !model.members.length) return undefined;
    const m = r.pick(model.members);
    const copy = { ...m, entry: undefined };
    if (copy.kind === 'file' && r.chance(0.5)) copy.data = Buffer.from('{"schemaVersion":2,"manifests":[]}');
    model.members.splice(r.int(model.members.length + 1), 0, copy);
    return `duplicate-member(${m.name})`;
  }],
  [1, 'reorder-members', (model, r) => {
    if (model.form !== 'tar') return undefined;
    const ms = model.members;
    for (let i = ms.length - 1; i > 0; i--) {
      const j = r.int(i + 1);
      [ms[i], ms[j]] = [ms[j], ms[i]];
    }
    return 'reorder-members';
  }],
  [2, 'member-link-out', (model, r) => {
    // A blob (or manifest.json, index.json) made a symlink that leads out of the layout, or into a loop.
    const fs_ = files(model);
    if (!fs_.length) return undefined;
    const m = r.pick(fs_.filter((x) => /blobs\/|\.json$|layer\.tar$|\.tar$/.test(x.name)).concat(fs_).slice(0, 50));
    const target = r.pick(['/etc/passwd', '../../../../../../etc/passwd', '../outside-secret', '../../outside-secret', '/dev/zero', '/proc/self/environ', 'LOOP']);
    if (target === 'LOOP') {
      model.members.push({ name: `${m.name}.a`, kind: 'symlink', target: path.posix.basename(m.name) + '.b' });
      model.members.push({ name: `${m.name}.b`, kind: 'symlink', target: path.posix.basename(m.name) + '.a' });
      Object.assign(m, { kind: 'symlink', target: path.posix.basename(m.name) + '.a', data: undefined, entry: undefined });
    } else {
      Object.assign(m, { kind: 'symlink', target, data: undefined, entry: undefined });
    }
    return `member-link-out(${m.name}->${target})`;
  }],
  [1, 'member-hardlink', (model, r) => {
    if (model.form !== 'tar') return undefined;
    const fs_ = files(model);
    if (fs_.length < 2) return undefined;
    const m = r.pick(fs_);
    const t = r.pick([...fs_.map((x) => x.name), m.name, '../x', '']);
    Object.assign(m, { kind: 'hardlink', target: t, data: undefined, entry: undefined });
    return `member-hardlink(${m.name}->${t})`;
  }],
  [1, 'member-rename', (model, r) => {
    if (!model.members.length) return undefined;
    const m = r.pick(model.members);
    const to = r.pick([`../${m.name}`, `/${m.name}`, `${m.name}/../../x`, `./${m.name}`, m.name.toUpperCase(), `${m.name}\u0000x`]);
    if (model.form === 'dir' && (to.startsWith('..') || to.includes('\0') || to.includes('/../'))) return undefined;
    Object.assign(m, { name: to, entry: undefined });
    return `member-rename(${to})`;
  }],
];

/**
 * After mutations: rename and re-point digests so that what changed verifies again (a blob that
 * no longer hashes to its name is caught at once; a consistent one reaches the code behind).
 * Follows the chain: a changed layer changes the config's diff_ids, which changes the config's
 * digest, which changes the manifest, which changes index.json.
 */
function fixDigests(model, original) {
  const before = new Map();
  for (const m of original.members) if (m.kind === 'file' && m.data) before.set(m.name, sha(m.data));
  for (let round = 0; round < 6; round++) {
    const renames = new Map();
    for (const m of model.members) {
      if (m.kind !== 'file' || !m.data) continue;
      const old = m.fixedFrom ?? before.get(m.name);
      const now = sha(m.data);
      if (old && old !== now) renames.set(old, { hex: now, size: m.data.length });
      m.fixedFrom = now;
      if (m.oldDiffId && m.newDiffId && m.oldDiffId !== m.newDiffId) {
        renames.set(m.oldDiffId, { hex: m.newDiffId, size: undefined });
        m.oldDiffId = m.newDiffId;
      }
    }
    if (renames.size === 0) return;
    const swap = (s) => {
      let out = s;
      for (const [o, n] of renames) if (out.includes(o)) out = out.split(o).join(n.hex);
      return out;
    };
    for (const m of model.members) {
      m.name = swap(m.name);
      if (m.target) m.target = swap(m.target);
      if (m.kind !== 'file' || !m.data) continue;
      const doc = asJson(m);
      if (doc === undefined) continue;
      const stack = [doc];
      while (stack.length) {
        const v = stack.pop();
        if (!v || typeof v !== 'object') continue;
        if (typeof v.digest === 'string') {
          const hex = v.digest.slice(v.digest.indexOf(':') + 1);
          const n = renames.get(hex);
          if (n && typeof v.size === 'number' && n.size !== undefined) v.size = n.size;
        }
        for (const k of Object.keys(v)) {
          if (typeof v[k] === 'string') v[k] = swap(v[k]);
          else stack.push(v[k]);
        }
      }
      const text = JSON.stringify(doc);
      if (text !== m.data.toString('utf8')) m.data = Buffer.from(text);
    }
  }
}

/**
 * One case: the input mutated by 1 to 4 mutations chosen by `seed`, and the command to run on
 * it. Returns { model, mutations, fixDigests, gzipOuter, bytes } (bytes: flips applied to the
 * final file).
 */
export function makeCase(input, seed) {
  const r = rng(seed);
  const model = cloneModel(input);
  const mutations = [];
  const n = model.form === 'tar' && !model.parsed ? 0 : r.weighted([[4, 1], [3, 2], [2, 3], [1, 4]]);
  for (let i = 0, tries = 0; i < n && tries < 20; tries++) {
    const [, name, fn] = r.weighted(MUTATIONS.map((m) => [m[0], m]));
    const did = fn(model, r);
    if (did) {
      mutations.push(did);
      i++;
    }
  }
  const fix = r.chance(0.5);
  if (fix) fixDigests(model, input);
  // An archive this reader could not follow is broken as bytes only.
  const finalBytes = model.form === 'tar' && (!model.parsed || r.chance(0.15)) ? r.pick(['flip', 'truncate']) : undefined;
  const gzipOuter = model.form === 'tar' && r.chance(0.1);
  // The outer archive's own entries broken as a layer's are (hostile members, bad headers).
  const outerEntries = model.form === 'tar' && model.parsed && !finalBytes && r.chance(0.15);
  if (outerEntries) mutations.push('outer-entries');
  return { model, mutations, fixDigests: fix, finalBytes, gzipOuter, outerEntries, r };
}

/** The names of the hostile entries the fuzzer puts in layers (see HOSTILE_ENTRIES). */
export const HOSTILE_KINDS = HOSTILE_ENTRIES.map(([name]) => name);

/**
 * A case that puts one kind of hostile entry in the input's last layer and makes every digest
 * agree again, so that it reaches the union filesystem however strict the verification.
 */
export function hostileCase(input, kind, seed) {
  const r = rng(seed);
  const model = cloneModel(input);
  const layers = files(model).filter((m) => asLayer(m));
  if (!layers.length) throw new Error(`${input.source} has no layer to put ${kind} in`);
  const m = layers[layers.length - 1];
  const layer = asLayer(m);
  const make = HOSTILE_ENTRIES.find(([name]) => name === kind)[1];
  const entries = [...layer.entries.map((e) => ({ ...e })), ...make(r)];
  const plain = writeTar(entries);
  m.data = compressAs(plain, layer.compression);
  m.newDiffId = sha(plain);
  m.oldDiffId = layer.diffId;
  fixDigests(model, input);
  return { model, mutations: [`layer(${m.name}:entries+${kind})`], fixDigests: true, r };
}

/** Write the mutated input under `dir`; returns the path to give layerlens. */
export function materialize(c, dir) {
  const { model } = c;
  fs.mkdirSync(dir, { recursive: true });
  if (model.form === 'dir') {
    const root = path.join(dir, 'layout');
    fs.mkdirSync(root);
    // What a symlinked blob may point at, outside the layout: it must never be read.
    fs.writeFileSync(path.join(dir, 'outside-secret'), 'outside the layout\n');
    for (const m of model.members) {
      const full = path.join(root, m.name);
      if (!full.startsWith(root + path.sep)) continue;
      try {
        fs.mkdirSync(path.dirname(full), { recursive: true });
        if (m.kind === 'dir') fs.mkdirSync(full, { recursive: true });
        else if (m.kind === 'symlink') fs.symlinkSync(m.target, full);
        else if (m.kind === 'file') fs.writeFileSync(full, m.data);
      } catch {
        // A name the mutations made impossible (a file where a directory is): leave it out.
      }
    }
    return root;
  }
  let bytes;
  if (!model.parsed) {
    bytes = model.raw;
  } else {
    const entries = model.members.map((m) => {
      if (m.entry && m.data === m.entry.data && m.name === m.entry.name && m.target === m.entry.linkname) return m.entry;
      const typeflag = m.kind === 'dir' ? '5' : m.kind === 'symlink' ? '2' : m.kind === 'hardlink' ? '1' : '0';
      return { name: m.name, typeflag, linkname: m.target, data: m.kind === 'file' ? m.data : Buffer.alloc(0), dirty: true };
    });
    if (c.outerEntries) c.mutations[c.mutations.length - 1] = `outer-entries(${mutateEntries(entries, c.r)})`;
    bytes = writeTar(entries);
  }
  if (c.finalBytes === 'flip') bytes = flipBytes(bytes, c.r);
  if (c.finalBytes === 'truncate') bytes = truncate(bytes, c.r);
  if (c.gzipOuter || (model.outer !== 'none' && c.r.chance(0.8))) bytes = zlib.gzipSync(bytes, { level: 1 });
  const file = path.join(dir, 'image.tar');
  fs.writeFileSync(file, bytes);
  return file;
}

// ─── commands and verdicts ─────────────────────────────────────────────────────────────────

/** Paths worth asking `cat` for: files the input's layers hold, and a few that may be links. */
function catPaths(model, r) {
  const names = [];
  for (const m of files(model).slice(0, 40)) {
    const layer = asLayer(m);
    if (layer) for (const e of layer.entries.slice(0, 200)) if (e.typeflag === '0' || e.typeflag === '2') names.push('/' + e.name.replace(/^\.?\//, ''));
  }
  return [...names, '/etc/os-release', '/etc/passwd', '/', '/out/x', '/l1/x', '/..', '/../../etc/passwd'][r.int(names.length + 7)] ?? '/';
}

/**
 * The command line for a case: one of the commands that read images, with or without
 * --no-verify, sometimes with small limits. `out` is where `export` may write.
 */
export function makeArgs(c, target, out, commands, refs = []) {
  const r = c.r;
  const cmd = r.pick(commands);
  const args = [];
  // A file of several images needs one chosen (mutations may have renamed it: then it fails clearly).
  if (refs.length > 1 && cmd !== 'images') target = `${target}:${r.pick(refs)}`;
  switch (cmd) {
    case 'tree':
      args.push('tree', target, '--flat', '--format', r.pick(['json', 'table']));
      break;
    case 'changes':
      args.push('changes', target, '--format', r.pick(['json', 'table']));
      break;
    case 'cat':
      args.push('cat', target, catPaths(c.model, r));
      break;
    case 'export':
      args.push('export', target, out);
      break;
    case 'diff':
      args.push('diff', target, c.model.source);
      break;
    default:
      args.push(cmd, target);
  }
  if (['tree', 'changes', 'cat', 'export'].includes(cmd) && r.chance(0.3)) args.push('--layer', String(r.pick([0, 1, -1, 2])));
  if (r.chance(0.5)) args.push('--no-verify');
  if (!r.chance(0.15)) {
    // Time grows with --max-bytes (a layer listed 3000 times is read 3000 times, within the
    // limit): each case may read 2 GiB per pass, which fits the time limit; the default of
    // 32 GiB would take minutes, by design.
    args.push('--max-bytes', '2Gi');
  } else {
    const [flag, value] = r.pick([
      ['--max-bytes', '100Ki'],
      ['--max-entries', '50'],
      ['--max-path-length', '40'],
      ['--max-link-depth', '1'],
      ['--max-json-bytes', '600'],
      ['--max-metadata-bytes', '2Ki'],
    ]);
    args.push(flag, value);
  }
  return args;
}

/**
 * Did layerlens behave? `result` is { code, stdout, stderr, ms, timedOut, crashed }. Returns
 * undefined when it did, or what went wrong.
 */
export function verdict(result, { timeLimitMs, command }) {
  if (result.crashed) return `crashed: ${result.crashed}`;
  if (result.timedOut) return `no answer within ${timeLimitMs} ms`;
  // A capture of very long output marks what it left out with a line `[…]`.
  const lines = result.stderr.split('\n').filter((l, i, all) => l !== '' && l !== '[…]' && !(all[i + 1] === '[…]'));
  if (lines.some((l) => /internal error/.test(l))) return `internal error: ${lines.find((l) => /internal error/.test(l))}`;
  if (lines.some((l) => /^\s+at /.test(l) || /^\w*Error: /.test(l))) return 'a stack trace on stderr';
  const stray = lines.find((l) => !l.startsWith('layerlens: '));
  if (stray) return `stderr line not from layerlens: ${stray.slice(0, 200)}`;
  // diff and ci say "different" or "a rule failed" with exit status 1.
  if (result.code === 0 || (result.code === 1 && (command === 'diff' || command === 'ci'))) {
    return lines.some((l) => l.startsWith('layerlens: error:')) ? `exit ${result.code} with an error line` : undefined;
  }
  if (result.code === 2) {
    const errors = lines.filter((l) => l.startsWith('layerlens: error:'));
    if (errors.length !== 1) return `exit 2 with ${errors.length} error lines`;
    if (lines[lines.length - 1] !== errors[0]) return 'the error is not the last line';
    return undefined;
  }
  return `exit status ${result.code}`;
}

/** What the folder a case ran in must hold afterwards: the input, and `out` only if it succeeded. */
export function strayFiles(dir, expected) {
  const found = [];
  const walk = (rel) => {
    for (const name of fs.readdirSync(path.join(dir, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      if (expected.some((e) => r === e || r.startsWith(e + '/'))) continue;
      found.push(r);
    }
  };
  walk('');
  return found;
}
