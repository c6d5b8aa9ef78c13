// Writing tar headers: ustar where the values fit, with a PAX extended header before the entry
// for whatever does not (long or non-ASCII paths and link targets, large ids and sizes, xattrs),
// as GNU tar --format=posix and crane export do. Names are written as the bytes they were read
// from (`encodeName`): a name that is not UTF-8 goes in a PAX record marked `hdrcharset=BINARY`,
// as libarchive writes it.
import { isUtf8 } from 'node:buffer';
import { encodeName } from './names.js';
import { BLOCK } from './tar-header.js';

export interface TarHeaderInput {
  path: string;
  type: 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: string;
  devMajor?: number;
  devMinor?: number;
  xattrs?: Map<string, Buffer>;
}

const TYPEFLAG: Record<TarHeaderInput['type'], string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };

/**
 * `value` in octal, zero-padded, and a NUL, in the `len` bytes at `offset`; false (nothing
 * written) where it does not fit. A negative value, or no number at all (a device number a
 * crafted header left unreadable), is written as 0.
 */
function octal(buf: Buffer, offset: number, len: number, value: number): boolean {
  let v = Math.floor(value);
  if (!(v > 0)) v = 0;
  const digits = len - 1;
  if (v >= 8 ** digits) return false;
  // The digits written in place, last first (a string made and encoded per field before).
  for (let i = offset + digits - 1; i >= offset; i--) {
    buf[i] = 0x30 + (v % 8);
    v = Math.floor(v / 8);
  }
  buf[offset + digits] = 0;
  return true;
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len), 'latin1'), body]);
}

function isPortable(b: Buffer, max: number): boolean {
  if (b.length > max) return false;
  for (const c of b) if (c < 0x20 || c > 0x7e) return false;
  return true;
}

/** A stand-in for the ustar field when the real value is in a PAX record: printable ASCII only. */
function asciiStandIn(b: Buffer, max: number): string {
  return b.subarray(0, max).toString('latin1').replace(/[^\x20-\x7e]/g, '_');
}

function rawHeader(h: { name: string; mode: number; uid: number; gid: number; size: number; mtime: number; typeflag: string; linkname: string; devMajor: number; devMinor: number }): Buffer {
  // (From Node's pool of small buffers, then zeroed: alloc() makes a memory block of its own per header.)
  const b = Buffer.allocUnsafe(BLOCK).fill(0);
  b.write(h.name, 0, 100, 'latin1');
  octal(b, 100, 8, h.mode & 0o7777);
  octal(b, 108, 8, h.uid);
  octal(b, 116, 8, h.gid);
  octal(b, 124, 12, h.size);
  octal(b, 136, 12, h.mtime);
  b.write(h.typeflag, 156, 1, 'latin1');
  b.write(h.linkname, 157, 100, 'latin1');
  b.write('ustar\u000000', 257, 8, 'latin1');
  octal(b, 329, 8, h.devMajor);
  octal(b, 337, 8, h.devMinor);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return b;
}

/** Printable ASCII: a name ustar holds as it is, whose bytes are its characters. */
const PORTABLE = /^[\x20-\x7e]*$/;

/** The header block(s) for one entry: a PAX header first when needed. Content and padding follow separately. */
export function encodeHeader(e: TarHeaderInput): Buffer {
  const path = e.type === 'dir' && !e.path.endsWith('/') ? `${e.path}/` : e.path;
  const link = e.linkname ?? '';
  const fits = (v: number, digits: number) => v >= 0 && v < 8 ** digits;
  // Nearly every entry: names of printable ASCII that fit, numbers that fit, no xattrs. Its header
  // is the ustar fields alone, written without the names' byte forms.
  if (path.length <= 100 && link.length <= 100 && PORTABLE.test(path) && PORTABLE.test(link) && fits(e.uid, 7) && fits(e.gid, 7) && fits(e.size, 11) && fits(e.mtime, 11) && !(e.xattrs && e.xattrs.size > 0)) {
    return rawHeader({ name: path, mode: e.mode, uid: e.uid, gid: e.gid, size: e.size, mtime: e.mtime, typeflag: TYPEFLAG[e.type], linkname: link, devMajor: e.devMajor ?? 0, devMinor: e.devMinor ?? 0 });
  }
  const pax: Buffer[] = [];
  const nameBytes = encodeName(path);
  const linkBytes = encodeName(link);
  if (!isUtf8(nameBytes) || !isUtf8(linkBytes)) pax.push(paxRecord('hdrcharset', Buffer.from('BINARY')));
  let name = nameBytes.toString('latin1');
  if (!isPortable(nameBytes, 100)) {
    pax.push(paxRecord('path', nameBytes));
    name = asciiStandIn(nameBytes, 99);
  }
  let linkname = linkBytes.toString('latin1');
  if (!isPortable(linkBytes, 100)) {
    pax.push(paxRecord('linkpath', linkBytes));
    linkname = '';
  }
  if (!fits(e.uid, 7)) pax.push(paxRecord('uid', Buffer.from(String(e.uid))));
  if (!fits(e.gid, 7)) pax.push(paxRecord('gid', Buffer.from(String(e.gid))));
  if (!fits(e.size, 11)) pax.push(paxRecord('size', Buffer.from(String(e.size))));
  if (!fits(e.mtime, 11)) pax.push(paxRecord('mtime', Buffer.from(String(Math.floor(e.mtime)))));
  if (e.xattrs) for (const [k, v] of e.xattrs) pax.push(paxRecord(`SCHILY.xattr.${k}`, v));
  const header = rawHeader({
    name,
    mode: e.mode,
    uid: fits(e.uid, 7) ? e.uid : 0,
    gid: fits(e.gid, 7) ? e.gid : 0,
    size: fits(e.size, 11) ? e.size : 0,
    mtime: fits(e.mtime, 11) ? e.mtime : 0,
    typeflag: TYPEFLAG[e.type],
    linkname,
    devMajor: e.devMajor ?? 0,
    devMinor: e.devMinor ?? 0,
  });
  if (pax.length === 0) return header;
  const body = Buffer.concat(pax);
  const paxHeader = rawHeader({ name: 'PaxHeaders/' + name.slice(0, 80), mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: 0, typeflag: 'x', linkname: '', devMajor: 0, devMinor: 0 });
  return Buffer.concat([paxHeader, body, padding(body.length), header]);
}

/** The zeros after `size` bytes of content, to the end of their last block. */
export function paddingLength(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function padding(size: number): Buffer {
  return Buffer.alloc(paddingLength(size));
}

/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
