// A small tar reader and writer of its own for the fuzzer: it splits a tar into entries (keeping
// each entry's original header blocks, extended headers included, so an entry that is not
// mutated is written back byte for byte) and writes new entries (ustar, with a PAX header for
// what does not fit). Deliberately independent of src/layer: the fuzzer must not share the
// reader it is testing. It reads good archives; on bytes it cannot follow it stops, and says so.

export const BLOCK = 512;

function octal(buf, at, len) {
  const first = buf[at];
  if (first & 0x80) {
    let v = 0n;
    for (let i = at; i < at + len; i++) v = (v << 8n) | BigInt(i === at ? buf[i] & 0x7f : buf[i]);
    return Number(v);
  }
  const text = buf.toString('latin1', at, at + len).replace(/[\0 ]+$/g, '').replace(/^[ \0]+/, '');
  return text === '' ? 0 : parseInt(text, 8);
}

function cstr(buf, at, len) {
  let end = at;
  while (end < at + len && buf[end] !== 0) end++;
  return buf.subarray(at, end);
}

function paxRecords(data) {
  const out = new Map();
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = Number(data.toString('latin1', i, sp));
    if (!Number.isSafeInteger(len) || len <= 0 || i + len > data.length) break;
    const rec = data.subarray(sp + 1, i + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq > 0) out.set(rec.toString('utf8', 0, eq), rec.subarray(eq + 1));
    i += len;
  }
  return out;
}

/**
 * Entries of a tar: { header (all header blocks, extended ones included), name, linkname,
 * typeflag, mode, uid, gid, data }. `complete` is false when the bytes stopped making sense.
 */
export function parseTar(buf) {
  const entries = [];
  let pos = 0;
  let pendingStart = -1;
  let longName;
  let longLink;
  let pax;
  while (pos + BLOCK <= buf.length) {
    const h = buf.subarray(pos, pos + BLOCK);
    if (h.every((b) => b === 0)) return { entries, complete: true, end: pos };
    const magic = h.toString('latin1', 257, 262);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
    if (octal(h, 148, 8) !== sum) return { entries, complete: false, end: pos };
    const typeflag = h[156] === 0 ? '0' : String.fromCharCode(h[156]);
    const size = octal(h, 124, 12);
    if (!Number.isSafeInteger(size) || size < 0) return { entries, complete: false, end: pos };
    const dataStart = pos + BLOCK;
    const next = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (dataStart + size > buf.length) return { entries, complete: false, end: pos };
    const data = buf.subarray(dataStart, dataStart + size);
    if (pendingStart < 0) pendingStart = pos;
    if (typeflag === 'L' || typeflag === 'K' || typeflag === 'x' || typeflag === 'g') {
      if (typeflag === 'L') longName = cstr(data, 0, data.length);
      if (typeflag === 'K') longLink = cstr(data, 0, data.length);
      if (typeflag === 'x') pax = paxRecords(data);
      if (typeflag === 'g') {
        // A global header stands alone: keep it as an entry of its own.
        entries.push({ header: buf.subarray(pendingStart, dataStart), name: 'pax_global_header', linkname: '', typeflag, mode: 0, uid: 0, gid: 0, data });
        pendingStart = -1;
      }
      pos = next;
      continue;
    }
    let name = cstr(h, 0, 100);
    if (magic === 'ustar' && h[345] !== 0) name = Buffer.concat([cstr(h, 345, 155), Buffer.from('/'), name]);
    if (longName) name = longName;
    if (pax?.get('path')) name = pax.get('path');
    let linkname = cstr(h, 157, 100);
    if (longLink) linkname = longLink;
    if (pax?.get('linkpath')) linkname = pax.get('linkpath');
    const sparse = typeflag === 'S' || pax?.has('GNU.sparse.major') || pax?.has('GNU.sparse.map');
    entries.push({
      header: buf.subarray(pendingStart, dataStart),
      name: name.toString('utf8'),
      linkname: linkname.toString('utf8'),
      typeflag,
      mode: octal(h, 100, 8) & 0o7777,
      uid: octal(h, 108, 8),
      gid: octal(h, 116, 8),
      data,
      sparse,
    });
    pendingStart = -1;
    longName = longLink = pax = undefined;
    pos = next;
  }
  return { entries, complete: pos === buf.length, end: pos };
}

function putOctal(b, at, len, v) {
  if (v < 0 || v >= 8 ** (len - 1)) {
    // Base-256, as GNU tar writes big and negative numbers.
    let x = BigInt(v);
    if (x < 0n) x = (1n << BigInt(8 * len)) + x;
    for (let i = at + len - 1; i >= at; i--) {
      b[i] = Number(x & 0xffn);
      x >>= 8n;
    }
    b[at] |= 0x80;
    return;
  }
  b.write(v.toString(8).padStart(len - 1, '0') + '\0', at, 'latin1');
}

function pax(records) {
  const parts = [];
  for (const [k, v] of records) {
    const body = Buffer.concat([Buffer.from(` ${k}=`), Buffer.isBuffer(v) ? v : Buffer.from(String(v)), Buffer.from('\n')]);
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    parts.push(Buffer.from(String(len)), body);
  }
  return Buffer.concat(parts);
}

/**
 * A header block. `fields` may override anything (size as written, typeflag, a raw checksum),
 * so that the fuzzer can write what no honest writer would.
 */
export function header(fields) {
  const b = Buffer.alloc(BLOCK);
  const name = Buffer.from(fields.name ?? '');
  name.copy(b, 0, 0, Math.min(100, name.length));
  putOctal(b, 100, 8, fields.mode ?? 0o644);
  putOctal(b, 108, 8, fields.uid ?? 0);
  putOctal(b, 116, 8, fields.gid ?? 0);
  putOctal(b, 124, 12, fields.size ?? 0);
  putOctal(b, 136, 12, fields.mtime ?? 1_700_000_000);
  b[156] = (fields.typeflag ?? '0').charCodeAt(0);
  const link = Buffer.from(fields.linkname ?? '');
  link.copy(b, 157, 0, Math.min(100, link.length));
  b.write(fields.gnu ? 'ustar  \0' : 'ustar\x0000', 257, 'latin1');
  putOctal(b, 329, 8, fields.devMajor ?? 0);
  putOctal(b, 337, 8, fields.devMinor ?? 0);
  for (const p of fields.patch ?? []) p.bytes.copy(b, p.offset);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : b[i];
  b.write((fields.checksum ?? sum).toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return b;
}

const pad = (n) => Buffer.alloc((BLOCK - (n % BLOCK)) % BLOCK);

/**
 * One entry's bytes: a PAX header first when the name or link target is long (or `pax` records
 * are given), then the header, the content and its padding.
 */
export function entryBytes(e) {
  const data = e.data ?? Buffer.alloc(0);
  const records = new Map(Object.entries(e.pax ?? {}));
  if (Buffer.byteLength(e.name) > 100) records.set('path', e.name);
  if (e.linkname && Buffer.byteLength(e.linkname) > 100) records.set('linkpath', e.linkname);
  const parts = [];
  if (records.size) {
    const body = pax(records);
    parts.push(header({ name: 'PaxHeaders/x', typeflag: 'x', size: body.length }), body, pad(body.length));
  }
  parts.push(header({ ...e, size: e.size ?? data.length }), data, pad(data.length));
  return Buffer.concat(parts);
}

/** A tar of entries: each kept as read (`header` and `data`) unless it was rewritten (`dirty`). */
export function writeTar(entries, { trailer = true } = {}) {
  const parts = [];
  for (const e of entries) {
    if (e.header && !e.dirty) parts.push(e.header, e.data, pad(e.data.length));
    else parts.push(entryBytes(e));
  }
  if (trailer) parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}
