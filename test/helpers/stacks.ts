// Random layer stacks for the differential tests: fast-check arbitraries that make layers of
// abstract entries (reference-union.ts) over a tiny namespace, so that paths collide often —
// nested paths, every entry type, whiteouts and opaque markers anywhere in a layer, hard links
// across layers, files replaced by directories and back, symlinked parents — and the writers
// that turn such a stack into a real OCI image layout on disk.
import fc from 'fast-check';
import { image, ociLayout, tar, type Compression } from './builders.js';
import { withoutUmociRefusals, type RefEntry } from './reference-union.js';

export interface StackLayer {
  entries: RefEntry[];
  compression: Compression;
}

const NAMES = ['a', 'b', 'c'] as const;
const name = fc.constantFrom(...NAMES);
const relPath = fc.array(name, { minLength: 1, maxLength: 3 }).map((p) => p.join('/'));
/** How a tar spells a path: `a/b`, `./a/b` or `/a/b` all mean the same. */
const spelled = fc.tuple(fc.constantFrom('', '', './', '/'), relPath).map(([prefix, p]) => prefix + p);
const dirPart = fc.array(name, { maxLength: 2 }).map((p) => (p.length ? p.join('/') + '/' : ''));

const fileMode = fc.constantFrom(0o644, 0o644, 0o755, 0o600, 0o4755, 0o2755, 0o000, 0o444);
const dirMode = fc.constantFrom(0o755, 0o755, 0o700, 0o1777, 0o2775, 0o555);
const owner = fc.constantFrom(0, 0, 1, 1000, 65534);
const content = fc.constantFrom('', 'x', 'hello\n', 'other content', 'x'.repeat(700));
const symlinkTarget = fc.oneof(
  relPath,
  relPath.map((p) => `/${p}`),
  relPath.map((p) => `../${p}`),
  fc.constantFrom('.', '..', '/', 'nowhere', '../../../..', 'a/../b', '/c/..'),
);

export const entryArb: fc.Arbitrary<RefEntry> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('file' as const), name: spelled, content, mode: fileMode, uid: owner, gid: owner }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('dir' as const), name: spelled.map((p) => `${p}/`), mode: dirMode, uid: owner, gid: owner }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('dir' as const), name: fc.constant('./'), mode: dirMode, uid: owner, gid: owner }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('symlink' as const), name: spelled, target: symlinkTarget }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('hardlink' as const), name: spelled, target: spelled }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constantFrom('char' as const, 'block' as const),
      name: spelled,
      major: fc.constantFrom(1, 7),
      minor: fc.constantFrom(0, 3),
      mode: fc.constantFrom(0o644, 0o600, 0o666),
      uid: owner,
      gid: owner,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fifo' as const), name: spelled, mode: fc.constantFrom(0o644, 0o600), uid: owner, gid: owner }) },
  // Whiteouts and opaque markers are empty regular files with mode 0, as umoci and buildah write them.
  { weight: 3, arbitrary: fc.tuple(dirPart, name).map(([d, n]): RefEntry => ({ kind: 'file', name: `${d}.wh.${n}`, content: '', mode: 0, uid: 0, gid: 0 })) },
  { weight: 2, arbitrary: dirPart.map((d): RefEntry => ({ kind: 'file', name: `${d}.wh..wh..opq`, content: '', mode: 0, uid: 0, gid: 0 })) },
);

export const layerArb: fc.Arbitrary<StackLayer> = fc.record({
  entries: fc.array(entryArb, { maxLength: 9 }),
  // umoci 0.4.7 reads plain and gzip layers (not zstd).
  compression: fc.constantFrom<Compression>('none', 'none', 'gzip'),
});

/**
 * Stacks of 1 to 4 layers. Most hard links are then pointed at a file written earlier (in that
 * layer or below), since a link to a path that is not there is refused by umoci and compares
 * nothing; `picks` chooses which.
 */
export const stackArb: fc.Arbitrary<StackLayer[]> = fc
  .tuple(fc.array(layerArb, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { minLength: 40, maxLength: 40 }), fc.nat(3))
  .map(([layers, picks, keepRefused]) => {
    const files: string[] = [];
    let i = 0;
    const linked = layers.map((l) => ({
      ...l,
      entries: l.entries.map((e) => {
        const pick = picks[i++ % picks.length]!;
        if (e.kind === 'file' && !e.name.includes('.wh.')) files.push(e.name);
        if (e.kind !== 'hardlink' || files.length === 0 || pick % 4 === 0) return e;
        return { ...e, target: files[pick % files.length]! };
      }),
    }));
    // Three stacks in four lose the entries umoci would refuse, so that most can be compared with it.
    if (keepRefused === 0) return linked;
    const kept = withoutUmociRefusals(linked.map((l) => l.entries));
    return linked.map((l, j) => ({ ...l, entries: kept[j]! }));
  });

/** A layer's tar, entry by entry, as written (names and link targets exactly as generated). */
export function layerTar(entries: RefEntry[]): Buffer {
  const t = tar();
  for (const e of entries) {
    switch (e.kind) {
      case 'file':
        t.file(e.name, e.content, { mode: e.mode, uid: e.uid, gid: e.gid });
        break;
      case 'dir':
        t.dir(e.name, { mode: e.mode, uid: e.uid, gid: e.gid });
        break;
      case 'symlink':
        t.symlink(e.name, e.target);
        break;
      case 'hardlink':
        t.hardlink(e.name, e.target);
        break;
      case 'char':
      case 'block':
        t.special(e.kind, e.name, { devMajor: e.major, devMinor: e.minor, mode: e.mode, uid: e.uid, gid: e.gid });
        break;
      case 'fifo':
        t.special('fifo', e.name, { mode: e.mode, uid: e.uid, gid: e.gid });
        break;
    }
  }
  return t.build();
}

/** The stack as an OCI image layout in `dir`, its one image named `latest`. */
export function writeStackLayout(stack: StackLayer[], dir: string): string {
  const im = image({ layers: stack.map((l) => ({ tar: layerTar(l.entries), compression: l.compression })) });
  return ociLayout([{ image: im, refName: 'latest' }]).writeTo(dir);
}

/** A stack as TypeScript, to paste into a regression test. */
export function showStack(stack: StackLayer[]): string {
  return JSON.stringify(stack.map((l) => l.entries.map((e) => ({ ...e, ...('mode' in e ? { mode: `0o${e.mode.toString(8)}` } : {}) }))), null, 1);
}
