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

/** Bytewise comparison of UTF-8 paths (the order of `sort` in the C locale and of the goldens). */
export function comparePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
