// Names in tar headers are bytes. Most are UTF-8; some are not (Latin-1 names from old systems,
// stray bytes). A name is kept as text losslessly: valid UTF-8 decodes as usual, and each byte that
// is not part of a valid sequence becomes a lone surrogate U+DC80..U+DCFF (the "surrogateescape"
// scheme of Python's os.fsdecode), which no valid UTF-8 can produce. `encodeName` gives back the
// original bytes (for writing tars); `escapeName` shows those bytes as `\xNN` (for people).
import { isUtf8 } from 'node:buffer';

/** A name as text: UTF-8 where it is valid, every other byte as U+DC00 + the byte. */
export function decodeName(b: Buffer): string {
  if (b.length === 0) return '';
  let ascii = true;
  for (let i = 0; i < b.length; i++) {
    if (b[i]! > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return b.toString('latin1');
  if (isUtf8(b)) return b.toString('utf8');
  // Some bytes are not UTF-8: decode the valid runs, escape the rest byte by byte.
  let out = '';
  let i = 0;
  let run = 0; // start of the current run of valid bytes
  while (i < b.length) {
    const len = sequenceLength(b, i);
    if (len > 0) {
      i += len;
      continue;
    }
    out += b.toString('utf8', run, i) + String.fromCharCode(0xdc00 + b[i]!);
    i++;
    run = i;
  }
  return out + b.toString('utf8', run, b.length);
}

const cont = (c: number | undefined) => c !== undefined && c >= 0x80 && c <= 0xbf;

/**
 * The length of the valid UTF-8 sequence at `i`, or 0 if there is none: the well-formed byte
 * sequences of the Unicode standard (no overlong forms, no encoded surrogates, nothing past
 * U+10FFFF), which is what a strict decoder accepts.
 */
function sequenceLength(b: Buffer, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const c1 = b[i + 1];
  if (c >= 0xc2 && c <= 0xdf) return cont(c1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const lo = c === 0xe0 ? 0xa0 : 0x80;
    const hi = c === 0xed ? 0x9f : 0xbf;
    return c1 !== undefined && c1 >= lo && c1 <= hi && cont(b[i + 2]) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const lo = c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xf4 ? 0x8f : 0xbf;
    return c1 !== undefined && c1 >= lo && c1 <= hi && cont(b[i + 2]) && cont(b[i + 3]) ? 4 : 0;
  }
  return 0;
}

const SURROGATE = /[\ud800-\udfff]/;

/** The bytes a name was decoded from (the inverse of decodeName). */
export function encodeName(s: string): Buffer {
  if (!SURROGATE.test(s)) return Buffer.from(s, 'utf8');
  const parts: Buffer[] = [];
  let run = '';
  // Iterating by code point keeps surrogate pairs (characters past U+FFFF) together.
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && c >= 0xdc80 && c <= 0xdcff) {
      if (run) parts.push(Buffer.from(run, 'utf8'));
      run = '';
      parts.push(Buffer.of(c - 0xdc00));
    } else {
      run += ch;
    }
  }
  if (run) parts.push(Buffer.from(run, 'utf8'));
  return Buffer.concat(parts);
}

/** A name for display: its non-UTF-8 bytes as `\xNN` (lowercase hex), everything else as is. */
export function escapeName(s: string): string {
  if (!SURROGATE.test(s)) return s;
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    out += ch.length === 1 && c >= 0xdc80 && c <= 0xdcff ? `\\x${(c - 0xdc00).toString(16).padStart(2, '0')}` : ch;
  }
  return out;
}

/** A name in double quotes for a message: escaped as escapeName does, quotes and control characters as in JSON. */
export function quoteName(s: string): string {
  return `"${escapeName(s).replace(/[\u0000-\u001f"]/g, (c) => JSON.stringify(c).slice(1, -1))}"`;
}

/**
 * The name a displayed `\xNN` form stands for (what a user types after reading escapeName's
 * output): each `\x80`..`\xff` becomes the byte it shows.
 */
export function unescapeName(s: string): string {
  return s.replace(/\\x([89a-fA-F][0-9a-fA-F])/g, (_m, h: string) => String.fromCharCode(0xdc00 + parseInt(h, 16)));
}
