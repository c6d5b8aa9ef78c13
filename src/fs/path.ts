// Paths inside an image. Entries name paths as `./etc/passwd`, `etc/passwd` or `/etc/passwd`;
// all mean the same. `..` can never climb above the root: it stops there, as umoci and
// containerd confine extraction to the rootfs.
import { encodeName } from '../layer/names.js';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

/** Components of a cleaned path; [] is the root. */
export function splitPath(p: string): string[] {
  return cleanComponents(p, false);
}

/**
 * The components of `p` with `.` and empty ones dropped and `..` applied. At the top, `..` is
 * dropped (the root's parent is the root), or kept with `keepLeadingDotDot` (Go's path.Clean
 * of a relative path: `../a` stays `../a`).
 */
export function cleanComponents(p: string, keepLeadingDotDot: boolean): string[] {
  // Once per tar entry: scanned with indexOf rather than split(), which makes an array of every
  // part first (twice as slow on a layer of 100,000 files).
  const out: string[] = [];
  const n = p.length;
  let i = 0;
  while (i < n) {
    let j = p.indexOf('/', i);
    if (j === -1) j = n;
    const len = j - i;
    if (len > 0) {
      if (p.charCodeAt(i) === DOT && (len === 1 || (len === 2 && p.charCodeAt(i + 1) === DOT))) {
        if (len === 2) {
          if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
          else if (keepLeadingDotDot) out.push('..');
        }
      } else out.push(p.slice(i, j));
    }
    i = j + 1;
  }
  return out;
}

const DOT = 0x2e;

/**
 * The name up to its last component when that component is a plain name (so that cleaning the
 * whole is cleaning this part and adding the name), else undefined. `a/b/` and `a/b` give `a`.
 */
export function parentKey(name: string): string | undefined {
  const end = parentEnd(name);
  return end < 0 ? undefined : name.slice(0, end);
}

/** The length of parentKey(name), or -1 where there is none: to compare without making the key. */
export function parentEnd(name: string): number {
  // The union and dive's trees each ask of every entry's name, one after the other.
  if (name === lastName) return lastEnd;
  lastName = name;
  lastEnd = findParentEnd(name);
  return lastEnd;
}

let lastName = '';
let lastEnd = -1;

function findParentEnd(name: string): number {
  let end = name.length;
  while (end > 0 && name.charCodeAt(end - 1) === 0x2f) end--;
  const slash = name.lastIndexOf('/', end - 1);
  if (slash <= 0) return -1;
  const len = end - slash - 1;
  if (len === 0) return -1;
  if (name.charCodeAt(slash + 1) === DOT && (len === 1 || (len === 2 && name.charCodeAt(slash + 2) === DOT))) return -1;
  return slash;
}

/** parentKey(name) is `key`, where `end` is parentEnd(name): checked without making the key (once per tar entry). */
export function hasParentKey(name: string, end: number, key: string | undefined): boolean {
  return end > 0 && key !== undefined && key.length === end && name.startsWith(key);
}

/** The last component of `name`, trailing slashes aside (for a name parentKey() accepts: a plain name). */
export function baseName(name: string): string {
  let end = name.length;
  while (end > 0 && name.charCodeAt(end - 1) === 0x2f) end--;
  return name.slice(name.lastIndexOf('/', end - 1) + 1, end);
}

export function joinPath(components: readonly string[]): string {
  return '/' + components.join('/');
}

/** The path of `name` in the directory at `dir` (an absolute, cleaned path: `/` for the root). */
export function childPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/**
 * Bytewise comparison of the byte forms of two paths (the order of `sort` in the C locale and of
 * the goldens). ASCII is compared as it stands; from the first difference involving anything
 * else, the rest of both is encoded back to bytes (names that are not UTF-8 keep their bytes as
 * U+DC80..U+DCFF, see layer/names.ts).
 */
export function comparePaths(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0x80 && y < 0x80) return x - y;
    // Never start in the middle of a surrogate pair.
    const from = i > 0 && a.charCodeAt(i - 1) >= 0xd800 && a.charCodeAt(i - 1) <= 0xdbff ? i - 1 : i;
    return Buffer.compare(encodeName(a.slice(from)), encodeName(b.slice(from)));
  }
  return a.length - b.length;
}

/** A character past ASCII, where the order of UTF-16 code units and of UTF-8 bytes may part. */
const NOT_ASCII = /[^\u0000-\u007f]/;

/**
 * Sort records in comparePaths order of their paths. Paths all in ASCII, nearly always, are
 * compared as JavaScript compares strings, which is that order for them and runs natively
 * (comparePaths' loop over common prefixes was a third of a layer's change set on 120,000
 * changes).
 */
export function sortByPath<T extends { path: string }>(records: T[]): T[] {
  let ascii = true;
  for (let i = 0; i < records.length && ascii; i++) ascii = !NOT_ASCII.test(records[i]!.path);
  return ascii ? records.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) : records.sort((a, b) => comparePaths(a.path, b.path));
}
