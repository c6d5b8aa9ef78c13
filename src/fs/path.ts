// Paths inside an image. Entries name paths as `./etc/passwd`, `etc/passwd` or `/etc/passwd`;
// all mean the same. `..` can never climb above the root: it stops there, as umoci and
// containerd confine extraction to the rootfs.

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

/** Components of a cleaned path; [] is the root. */
export function splitPath(p: string): string[] {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      out.pop(); // at the root, `..` is the root
      continue;
    }
    out.push(part);
  }
  return out;
}

export function joinPath(components: readonly string[]): string {
  return '/' + components.join('/');
}

/**
 * Bytewise comparison of the UTF-8 forms of two paths (the order of `sort` in the C locale and
 * of the goldens), without encoding them: UTF-16 code units order the same as UTF-8 bytes except
 * that a surrogate (a character above U+FFFF) sorts after U+E000..U+FFFF in UTF-8.
 */
export function comparePaths(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys && (xs ? y : x) >= 0xe000) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}
