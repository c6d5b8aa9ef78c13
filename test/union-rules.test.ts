// The union rules, one small in-memory archive each: whiteouts, opaque directories, replacement,
// duplicates, hard links, where a path lands (symlinked parents, `..`, absolute names), loops,
// implied parents, entries under files; what each layer's change set says; the filesystem at an
// intermediate layer; and the edge cases of the corpus's `tiny` image, layer by layer.
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { describeChange, type Change } from '../src/fs/changes.js';
import { flatten, type FlatRecord } from '../src/fs/flat.js';
import { Union } from '../src/fs/union.js';
import { WasteLedger } from '../src/fs/ledger.js';
import { baseName, hasParentKey, parentEnd, parentKey, splitPath } from '../src/fs/path.js';
import { goCleanComponents } from '../src/fs/dive-trees.js';
import fc from 'fast-check';
import { LayerlensError } from '../src/image/errors.js';
import { dockerArchive, image, tar, tempDir } from './helpers/builders.js';
import { parseJson, run } from './helpers/cli.js';
import { HAS_SHARED, corpus } from './helpers/shared.js';
import { layerEntries, listing, shape, stack } from './helpers/union.js';
import { clean } from './helpers/reference-union.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

function record(records: FlatRecord[], path: string): FlatRecord {
  const r = records.find((x) => x.path === path);
  if (!r) throw new Error(`${path} is not in the union: ${records.map((x) => x.path).join(' ')}`);
  return r;
}

/** A change as a short tuple: kind, description, type, size, path, and for a removal how many paths and bytes went, and how. */
function brief(c: Change): unknown[] {
  const out: unknown[] = [c.kind === 'removed' ? '-' : c.kind === 'added' ? '+' : '~', describeChange(c), c.type, c.size, c.path];
  if (c.kind === 'removed') out.push(c.removedPaths, c.removedBytes, c.via);
  return out;
}

/** A lower layer most tests start from. */
function base() {
  return tar()
    .dir('a/')
    .dir('a/b/')
    .file('a/b/c', 'ccc')
    .dir('a/b/d/')
    .file('a/b/d/e', 'eeee')
    .file('a/keep', 'keep')
    .file('x', 'xx');
}

describe('whiteouts', () => {
  it('remove the named path and everything beneath it from the layers below', async () => {
    const { union, changeSets } = await stack(base(), tar().file('a/.wh.b', '', { mode: 0 }));
    expect(shape(union)).toEqual(['/ d', '/a d', '/a/keep f', '/x f']);
    expect(changeSets[1]!.changes.map(brief)).toEqual([['-', 'removed', 'dir', 0, '/a/b', 4, 7, 'whiteout']]);
    expect(changeSets[1]!.warnings).toEqual([]);
  });

  it('at the top level, and of a path that is not there, remove what is named and nothing else', async () => {
    const { union, changeSets } = await stack(base(), tar().file('.wh.x').file('.wh.nothing-here').file('a/.wh.nope'));
    expect(shape(union)).toEqual(['/ d', '/a d', '/a/b d', '/a/b/c f', '/a/b/d d', '/a/b/d/e f', '/a/keep f']);
    expect(changeSets[1]!.changes.map(brief)).toEqual([['-', 'removed', 'file', 0, '/x', 1, 2, 'whiteout']]);
  });

  it('between entries of the same directory act on that directory, and the entries after them land in it', async () => {
    // The layer lists a/ entry by entry: each whiteout and marker is found in the directory of
    // the entry before it; the opaque marker comes after this layer's own a/new1, which stays.
    const upper = tar().file('a/new1', '1').file('a/.wh.keep').file('a/new2', '2').file('a/.wh.b').file('a/.wh..wh..opq').file('a/new3', '3').file('a/b', 'now a file').file('x', 'x2');
    const { union, changeSets } = await stack(base().dir('a/old/').file('a/old/o', 'o'), upper);
    expect(shape(union)).toEqual(['/ d', '/a d', '/a/b f', '/a/new1 f', '/a/new2 f', '/a/new3 f', '/x f']);
    expect(changeSets[1]!.changes.map(brief)).toEqual([
      ['~', 'modified (type, mode)', 'file', 10, '/a/b'],
      ['-', 'removed', 'file', 0, '/a/keep', 1, 4, 'whiteout'],
      ['+', 'added', 'file', 1, '/a/new1'],
      ['+', 'added', 'file', 1, '/a/new2'],
      ['+', 'added', 'file', 1, '/a/new3'],
      ['-', 'removed', 'dir', 0, '/a/old', 2, 1, 'opaque'],
      ['~', 'modified (content)', 'file', 2, '/x'],
    ]);
  });

  it('in a row, first in their directory, or through a symlinked parent, act where they are named', async () => {
    const lower = base().symlink('l', 'a/b').file('a/b/f', 'f').file('a/b/g', 'g');
    // Three whiteouts in a row open a/b; an entry follows in a/b; then l/ (a link to a/b) is
    // walked through for a whiteout and for an entry; a whiteout of a directory that is not there.
    const upper = tar().file('a/b/.wh.c').file('a/b/.wh.f').file('a/b/.wh.d').file('a/b/new', 'n').file('l/.wh.g').file('l/via', 'v').file('q/.wh.x').file('q/r', 'r');
    const { union } = await stack(lower, upper);
    expect(shape(union)).toEqual(['/ d', '/a d', '/a/b d', '/a/b/new f', '/a/b/via f', '/a/keep f', '/l l', '/q d', '/q/r f', '/x f']);
  });

  it('are never entries themselves', async () => {
    const { union } = await stack(tar().file('.wh.ghost').dir('d/').file('d/.wh..wh..opq'));
    expect(shape(union)).toEqual(['/ d', '/d d']);
  });
});

describe('opaque directories', () => {
  it('hide everything the layers below had in the directory, and keep the directory', async () => {
    const upper = tar().file('a/.wh..wh..opq', '', { mode: 0 }).dir('a/', { mode: 0o750 }).file('a/new', 'new');
    const { union, changeSets } = await stack(base(), upper);
    expect(shape(union)).toEqual(['/ d', '/a d', '/a/new f', '/x f']);
    expect(record(flatten(union), '/a').mode).toBe(0o750);
    expect(changeSets[1]!.changes.map(brief)).toEqual([
      ['~', 'modified (chmod only)', 'dir', 0, '/a'],
      ['-', 'removed', 'dir', 0, '/a/b', 4, 7, 'opaque'],
      ['-', 'removed', 'file', 0, '/a/keep', 1, 4, 'opaque'],
      ['+', 'added', 'file', 3, '/a/new'],
    ]);
  });

  it('hide nothing outside the directory, and nothing when the directory is new', async () => {
    const { union } = await stack(base(), tar().file('a/b/.wh..wh..opq').file('n/.wh..wh..opq').file('n/m', 'm'));
    expect(shape(union)).toEqual(['/ d', '/a d', '/a/b d', '/a/keep f', '/n d', '/n/m f', '/x f']);
  });
});

describe("a layer's own entries are never hidden by its whiteouts", () => {
  const lower = () => tar().file('f', 'old').dir('d/').file('d/old', 'old');

  it('a whiteout before the entry it names', async () => {
    const { union } = await stack(lower(), tar().file('.wh.f').file('f', 'new'));
    expect(record(flatten(union), '/f').sha256).toBe(sha('new'));
  });

  it('a whiteout after the entry it names', async () => {
    const { union, changeSets } = await stack(lower(), tar().file('f', 'new').file('.wh.f'));
    expect(record(flatten(union), '/f').sha256).toBe(sha('new'));
    expect(changeSets[1]!.changes.map(brief)).toEqual([['~', 'modified (content)', 'file', 3, '/f']]);
  });

  it('a whiteout of a path the same layer adds, with nothing below', async () => {
    const { union } = await stack(tar().file('y', 'y').file('.wh.y'));
    expect(shape(union)).toEqual(['/ d', '/y f']);
  });

  it("a whiteout after the layer's own entry for the same directory hides only what was below", async () => {
    const { union } = await stack(lower(), tar().dir('d/', { mode: 0o700 }).file('d/mine', 'm').file('.wh.d'));
    expect(shape(union)).toEqual(['/ d', '/d d', '/d/mine f', '/f f']);
    expect(record(flatten(union), '/d')).toMatchObject({ mode: 0o700, layer: 1 });
  });

  it('an opaque marker after entries deeper down keeps them, and hides the rest of each lower subdirectory', async () => {
    const lower2 = tar().dir('o/').dir('o/sub/').file('o/sub/old', 'old').file('o/gone', 'gone');
    const { union } = await stack(lower2, tar().file('o/sub/new', 'new').file('o/.wh..wh..opq'));
    expect(shape(union)).toEqual(['/ d', '/o d', '/o/sub d', '/o/sub/new f']);
  });

  it('an opaque marker before its directory entry (as umoci writes it) and after the directory and its children', async () => {
    const before = await stack(lower(), tar().file('d/.wh..wh..opq').dir('d/').file('d/new', 'n'));
    const after = await stack(lower(), tar().dir('d/').file('d/new', 'n').file('d/.wh..wh..opq'));
    for (const { union } of [before, after]) expect(shape(union)).toEqual(['/ d', '/d d', '/d/new f', '/f f']);
  });
});

describe('replacing', () => {
  it('a non-directory replaces a directory and everything under it', async () => {
    const { union, changeSets } = await stack(base(), tar().file('a', 'now a file'));
    expect(shape(union)).toEqual(['/ d', '/a f', '/x f']);
    expect(changeSets[1]!.changes.map(brief)).toEqual([
      ['~', 'modified (type, mode)', 'file', 10, '/a'],
      ['-', 'removed', 'dir', 0, '/a/b', 4, 7, 'replaced'],
      ['-', 'removed', 'file', 0, '/a/keep', 1, 4, 'replaced'],
    ]);
  });

  it('a symlink replaces a directory the same way', async () => {
    const { union } = await stack(base(), tar().symlink('a', 'x'));
    expect(shape(union)).toEqual(['/ d', '/a l', '/x f']);
  });

  it('a directory over a directory keeps the children and takes the new owner and mode', async () => {
    const { union, changeSets } = await stack(base(), tar().dir('a/', { mode: 0o700, uid: 5, gid: 6 }));
    expect(shape(union)).toEqual(['/ d', '/a d', '/a/b d', '/a/b/c f', '/a/b/d d', '/a/b/d/e f', '/a/keep f', '/x f']);
    expect(record(flatten(union), '/a')).toMatchObject({ mode: 0o700, uid: 5, gid: 6, size: 11, layer: 1 });
    expect(changeSets[1]!.changes.map(brief)).toEqual([['~', 'modified (chmod and chown only)', 'dir', 0, '/a']]);
  });

  it('a directory replaces a file', async () => {
    const { union, changeSets } = await stack(base(), tar().dir('x/').file('x/in', 'i'));
    expect(shape(union)).toEqual(['/ d', '/a d', '/a/b d', '/a/b/c f', '/a/b/d d', '/a/b/d/e f', '/a/keep f', '/x d', '/x/in f']);
    expect(changeSets[1]!.changes.map(brief)).toEqual([
      ['~', 'modified (type, mode)', 'dir', 0, '/x'],
      ['+', 'added', 'file', 1, '/x/in'],
    ]);
  });

  it('a whiteout below a path this layer made a regular file is legal and changes nothing (umoci repack writes it)', async () => {
    // Directory → file, as tiny's layer 3 does for /srv/was-dir: the file, then a whiteout of the old child.
    const withWhiteout = await stack(base(), tar().file('a', 'file').file('a/.wh.keep', '', { mode: 0 }));
    const without = await stack(base(), tar().file('a', 'file'));
    expect(listing(withWhiteout.union)).toEqual(listing(without.union));
    expect(withWhiteout.changeSets[1]).toEqual(without.changeSets[1]);
    expect(withWhiteout.changeSets[1]!.changes.map(brief)).toEqual([
      ['~', 'modified (type, mode)', 'file', 4, '/a'],
      ['-', 'removed', 'dir', 0, '/a/b', 4, 7, 'replaced'],
      ['-', 'removed', 'file', 0, '/a/keep', 1, 4, 'replaced'],
    ]);
    // A file that was a file below, and one that is new: the whiteout under it does nothing at all.
    for (const lower of [tar().file('f', 'old'), tar()]) {
      const w = await stack(lower, tar().file('f', 'new').file('f/.wh.child'));
      const wo = await stack(lower, tar().file('f', 'new'));
      expect(listing(w.union)).toEqual(listing(wo.union));
      expect(w.changeSets[1]).toEqual(wo.changeSets[1]);
    }
  });

  it('a later duplicate in one layer wins', async () => {
    const { union, changeSets } = await stack(
      tar().file('f', 'first').file('f', 'second', { mode: 0o600 }).dir('d/').file('d/in', 'in').file('d', 'file now').symlink('s', 'f').dir('s/'),
    );
    const records = flatten(union);
    expect(shape(union)).toEqual(['/ d', '/d f', '/f f', '/s d']);
    expect(record(records, '/f')).toMatchObject({ sha256: sha('second'), size: 6, mode: 0o600 });
    expect(record(records, '/d').sha256).toBe(sha('file now'));
    expect(changeSets[0]!.changes.map(brief)).toEqual([
      ['+', 'added', 'file', 8, '/d'],
      ['+', 'added', 'file', 6, '/f'],
      ['+', 'added', 'dir', 0, '/s'],
    ]);
  });
});

describe('a lower non-directory written over', () => {
  // The node is renewed in place: nothing of what it was may be left on it (link target, device
  // numbers, xattrs, a hard link's group and content source), whether the layer's changes are
  // tracked or not, and the waste ledger must still see what was there.
  const lower = () =>
    tar()
      .file('f', 'same', { mode: 0o644, pax: { 'SCHILY.xattr.user.a': 'x' } })
      .hardlink('h', 'f')
      .symlink('l', 'target')
      .special('char', 'c', { mode: 0o600, devmajor: 1, devminor: 3 })
      .file('g', 'old g')
      .file('k', 'kept');
  const upper = () =>
    tar()
      .file('f', 'same', { mode: 0o600 })
      .file('h', 'new h')
      .file('l', 'now a file')
      .symlink('c', 'elsewhere')
      .hardlink('g', 'k');

  async function untracked() {
    const union = new Union();
    const ledger = new WasteLedger();
    union.observer = ledger;
    for (const [i, l] of [lower(), upper()].entries()) {
      const applier = union.beginLayer(i, false);
      ledger.beginLayer(i);
      for (const e of await layerEntries(l, i)) ledger.entry(e, applier.add(e));
      applier.finish();
      ledger.endLayer();
    }
    return { union, ledger };
  }

  it('leaves nothing of the old node, tracked or not', async () => {
    const tracked = await stack(lower(), upper());
    const { union, ledger } = await untracked();
    const records = flatten(union);
    expect(listing(union)).toEqual(listing(tracked.union));
    expect(record(records, '/f')).toMatchObject({ type: 'file', mode: 0o600, sha256: sha('same'), hardlinkGroup: null, links: 1, layer: 1 });
    expect(record(records, '/h')).toMatchObject({ type: 'file', sha256: sha('new h'), linkTarget: null, hardlinkGroup: null, links: 1 });
    expect(record(records, '/l')).toMatchObject({ type: 'file', sha256: sha('now a file'), linkTarget: null, size: 10 });
    expect(record(records, '/c')).toMatchObject({ type: 'symlink', linkTarget: 'elsewhere', devMajor: null, devMinor: null, mode: 0o777 });
    expect(record(records, '/g')).toMatchObject({ type: 'hardlink', sha256: sha('kept'), linkTarget: '/k', links: 2 });
    expect(union.lookup('/f')!.xattrs).toBeUndefined();
    expect(tracked.changeSets[1]!.changes.map(brief)).toEqual([
      ['~', 'modified (type, mode)', 'symlink', 0, '/c'],
      ['~', 'modified (mode, xattrs)', 'file', 4, '/f'],
      ['~', 'modified (content, size)', 'hardlink', 0, '/g'],
      ['~', 'modified (content, size, xattrs)', 'file', 5, '/h'],
      ['~', 'modified (type, mode)', 'file', 10, '/l'],
    ]);
    // What the ledger was told of each copy hidden: its path, size, layer and why.
    const hidden = Array.from({ length: ledger.hiddenCount }, (_, i) => ledger.copy(i)).map((c) => [c.path, c.size, c.layer, c.by, c.why]);
    expect(hidden.sort()).toEqual([
      ['/f', 4, 0, 1, 'metadata-only'],
      ['/g', 5, 0, 1, 'overwritten'],
    ]);
  });

  it('is the same node, renewed, where changes are not tracked', async () => {
    const union = new Union();
    const first = union.beginLayer(0, false);
    for (const e of await layerEntries(lower(), 0)) first.add(e);
    first.finish();
    const before = ['/f', '/h', '/l', '/c', '/g'].map((p) => union.lookup(p));
    const second = union.beginLayer(1, false);
    for (const e of await layerEntries(upper(), 1)) second.add(e);
    second.finish();
    // /g is a hard link now: made anew, as a hard link entry always is.
    expect(['/f', '/h', '/l', '/c', '/g'].map((p, i) => union.lookup(p) === before[i])).toEqual([true, true, true, true, false]);
  });
});

describe('hard links', () => {
  it('to a lower-layer file: the same content, one group', async () => {
    const { union, changeSets } = await stack(tar().file('a', 'hello', { mode: 0o640, uid: 3 }), tar().hardlink('h', 'a'));
    const records = flatten(union);
    expect(record(records, '/a')).toMatchObject({ type: 'file', links: 2, hardlinkGroup: '/a' });
    expect(record(records, '/h')).toMatchObject({ type: 'hardlink', linkTarget: '/a', size: 5, sha256: sha('hello'), mode: 0o640, uid: 3, links: 2, hardlinkGroup: '/a' });
    expect(changeSets[1]!.changes.map(brief)).toEqual([['+', 'added', 'hardlink', 0, '/h']]);
  });

  it('keep the content the target had when the target is later removed', async () => {
    const { union } = await stack(tar().file('a', 'v1'), tar().hardlink('h', 'a'), tar().file('.wh.a'));
    expect(shape(union)).toEqual(['/ d', '/h f']);
    expect(record(flatten(union), '/h')).toMatchObject({ type: 'file', sha256: sha('v1'), size: 2, links: 1, hardlinkGroup: null, linkTarget: null });
  });

  it('keep the content the target had when the target is later replaced, in a later layer or the same one', async () => {
    for (const layers of [
      [tar().file('a', 'v1'), tar().hardlink('h', 'a'), tar().file('a', 'v2!')],
      [tar().file('a', 'v1'), tar().hardlink('h', 'a').file('a', 'v2!')],
    ]) {
      const { union } = await stack(...layers);
      const records = flatten(union);
      expect(record(records, '/a')).toMatchObject({ type: 'file', sha256: sha('v2!'), links: 1, hardlinkGroup: null });
      expect(record(records, '/h')).toMatchObject({ type: 'file', sha256: sha('v1'), size: 2, links: 1, hardlinkGroup: null });
    }
  });

  it('three names of one inode form one group named by the bytewise-smallest path', async () => {
    const { union } = await stack(tar().file('z', 'zz').hardlink('m', 'z').hardlink('b', 'm'));
    const records = flatten(union);
    expect(records.filter((r) => r.type !== 'dir').map((r) => [r.path, r.type, r.links, r.hardlinkGroup])).toEqual([
      ['/b', 'hardlink', 3, '/b'],
      ['/m', 'hardlink', 3, '/b'],
      ['/z', 'file', 3, '/b'],
    ]);
  });

  it('to a symlink or a device: a second name of that symlink or device, not a regular file', async () => {
    const { union } = await stack(tar().symlink('s', 'target').special('char', 'null', { devMajor: 1, devMinor: 3 }), tar().hardlink('s2', 's').hardlink('null2', 'null'));
    const lines = listing(union);
    expect(lines).toContain('/s2\tl\t0777\t0\t0\t-\t-\ttarget\t-');
    expect(lines).toContain('/null2\tc\t0644\t0\t0\t-\t-\t1,3\t-');
  });

  it('to a missing path or a directory: ignored with a warning', async () => {
    const { union, changeSets } = await stack(tar().dir('d/'), tar().hardlink('h1', 'nothing').hardlink('h2', 'd'));
    expect(shape(union)).toEqual(['/ d', '/d d']);
    expect(changeSets[1]!.warnings).toEqual(['h1: hardlink to a missing path nothing; entry ignored', 'h2: hardlink to a directory d; entry ignored']);
  });
});

describe('where a path lands', () => {
  it('a parent that is a symlink is followed inside the root: a/link -> ../../../tmp, then a/link/x is /tmp/x', async () => {
    const { union, changeSets } = await stack(tar().dir('a/').symlink('a/link', '../../../tmp'), tar().file('a/link/x', 'pwned'));
    expect(listing(union)).toEqual([
      '/\td\t0755\t0\t0\t-\t-\t-\t-',
      '/a\td\t0755\t0\t0\t-\t-\t-\t-',
      '/a/link\tl\t0777\t0\t0\t-\t-\t../../../tmp\t-',
      '/tmp\td\t0755\t0\t0\t-\t-\t-\t-',
      `/tmp/x\tf\t0644\t0\t0\t5\t${sha('pwned')}\t-\t-`,
    ]);
    expect(changeSets[1]!.changes.map(brief)).toEqual([
      ['+', 'added', 'dir', 0, '/tmp'],
      ['+', 'added', 'file', 5, '/tmp/x'],
    ]);
  });

  it('an absolute symlink in a parent is followed from the root', async () => {
    const { union } = await stack(tar().dir('etc/').dir('usr/').symlink('usr/etc', '/etc'), tar().file('usr/etc/passwd', 'root'));
    expect(shape(union)).toEqual(['/ d', '/etc d', '/etc/passwd f', '/usr d', '/usr/etc l']);
  });

  it('`../../x` lands at /x, `/abs` at /abs, `./a/../b` at /b', async () => {
    const { union } = await stack(tar().file('../../x', 'x').file('/abs', 'abs').file('./a/../b', 'b'));
    expect(shape(union)).toEqual(['/ d', '/abs f', '/b f', '/x f']);
  });

  it('whiteouts and opaque markers are resolved through symlinked parents too', async () => {
    const lower = tar().dir('real/').file('real/f', 'f').file('real/g', 'g').dir('other/').file('other/h', 'h').symlink('link', 'real').symlink('olink', '/other');
    const { union } = await stack(lower, tar().file('link/.wh.f').file('olink/.wh..wh..opq'));
    expect(shape(union)).toEqual(['/ d', '/link l', '/olink l', '/other d', '/real d', '/real/g f']);
  });

  it('a whiteout after entries this layer put inside the directory it names keeps them, in a fresh directory', async () => {
    const { union, changeSets } = await stack(tar().dir('d/', { mode: 0o700, uid: 5 }).file('d/old', 'old'), tar().file('d/new', 'new').file('.wh.d'));
    expect(flatten(union).map((r) => [r.path, r.type, r.mode, r.uid, r.layer])).toEqual([
      ['/', 'dir', 0o755, 0, -1],
      ['/d', 'dir', 0o755, 0, -1],
      ['/d/new', 'file', 0o644, 0, 1],
    ]);
    expect(changeSets[1]!.changes.map(brief)).toEqual([
      ['~', 'modified (chmod and chown only)', 'dir', 0, '/d'],
      ['+', 'added', 'file', 3, '/d/new'],
      ['-', 'removed', 'file', 0, '/d/old', 1, 3, 'whiteout'],
    ]);
  });

  it('a symlink has no mode of its own: it is listed 0777 whatever its header says, as extraction makes it', async () => {
    const { union, changeSets } = await stack(tar().symlink('s', 'a', { mode: 0o755 }), tar().symlink('s', 'a', { mode: 0o700 }));
    expect(listing(union)).toContain('/s\tl\t0777\t0\t0\t-\t-\ta\t-');
    expect(changeSets[1]!.changes.map(brief)).toEqual([['~', 'modified (identical copy)', 'symlink', 0, '/s']]);
  });

  it('resolving a path follows a final symlink from where the link really is, not from the path that named it', async () => {
    // /lnk -> x/y, and /x/y/l -> ../f: /lnk/l is /x/f (not /f).
    const { union } = await stack(tar().dir('x/').dir('x/y/').file('x/f', 'x/f').file('f', '/f').symlink('x/y/l', '../f').symlink('lnk', 'x/y'));
    expect(union.resolve('/lnk/l')?.path).toBe('/x/f');
    expect(union.resolve('/x/y/l')?.path).toBe('/x/f');
    expect(union.lookup('/lnk/l')?.path).toBe('/x/y/l');
  });

  it('a symlink loop in a parent is a clear error, not a hang', async () => {
    const entries = await layerEntries(tar().file('a/x', 'x'), 1);
    const union = new Union();
    union.apply(await layerEntries(tar().symlink('a', 'b').symlink('b', 'a')), 0);
    expect(() => union.apply(entries, 1)).toThrow(LayerlensError);
    expect(() => union.apply(entries, 1)).toThrow(/too many levels of symbolic links/);
  });

  it('missing parents are made as 0755 directories owned by root, whatever the entry', async () => {
    const { union } = await stack(tar().file('deep/er/file', 'f', { uid: 7, gid: 8, mode: 0o600 }));
    expect(flatten(union).map((r) => [r.path, r.type, r.mode, r.uid, r.gid, r.layer])).toEqual([
      ['/', 'dir', 0o755, 0, 0, -1],
      ['/deep', 'dir', 0o755, 0, 0, -1],
      ['/deep/er', 'dir', 0o755, 0, 0, -1],
      ['/deep/er/file', 'file', 0o600, 7, 8, 0],
    ]);
  });

  it('an entry under a regular file is ignored with a warning', async () => {
    const { union, changeSets } = await stack(tar().file('f', 'f'), tar().file('f/x', 'x').dir('f/d/'));
    expect(shape(union)).toEqual(['/ d', '/f f']);
    expect(changeSets[1]!.changes).toEqual([]);
    expect(changeSets[1]!.warnings).toEqual([
      'f/x: a parent is not a directory; entry ignored (tar and umoci would fail here)',
      'f/d/: a parent is not a directory; entry ignored (tar and umoci would fail here)',
    ]);
  });
});

describe('change sets', () => {
  const lower = () =>
    tar()
      .file('content', 'aaaa')
      .file('size', 'aaaa')
      .file('mode', 'm', { mode: 0o644 })
      .file('owner', 'o', { uid: 1, gid: 1 })
      .file('type', 't')
      .symlink('link', 'one')
      .file('xattrs', 'x', { pax: { 'SCHILY.xattr.user.k': 'v1' } })
      .file('mtime', 'm', { mtime: 1_700_000_000 })
      .file('same', 's')
      .file('both', 'b', { mode: 0o644, uid: 0 });

  it('say how each path was modified', async () => {
    const upper = tar()
      .file('content', 'bbbb')
      .file('size', 'aaaaaa')
      .file('mode', 'm', { mode: 0o755 })
      .file('owner', 'o', { uid: 2, gid: 1 })
      .symlink('type', 'content')
      .symlink('link', 'two')
      .file('xattrs', 'x', { pax: { 'SCHILY.xattr.user.k': 'v2' } })
      .file('mtime', 'm', { mtime: 1_700_000_001 })
      .file('same', 's')
      .file('both', 'b', { mode: 0o600, uid: 9 })
      .file('new', 'nnn');
    const { changeSets } = await stack(lower(), upper);
    expect(changeSets[1]!.changes.map((c) => [c.path, c.kind, c.reasons, describeChange(c), c.type, c.size])).toEqual([
      ['/both', 'modified', ['mode', 'owner'], 'modified (chmod and chown only)', 'file', 1],
      ['/content', 'modified', ['content'], 'modified (content)', 'file', 4],
      ['/link', 'modified', ['linkTarget'], 'modified (linkTarget)', 'symlink', 0],
      ['/mode', 'modified', ['mode'], 'modified (chmod only)', 'file', 1],
      ['/mtime', 'modified', ['mtime'], 'modified (mtime only)', 'file', 1],
      ['/new', 'added', [], 'added', 'file', 3],
      ['/owner', 'modified', ['owner'], 'modified (chown only)', 'file', 1],
      ['/same', 'modified', [], 'modified (identical copy)', 'file', 1],
      ['/size', 'modified', ['content', 'size'], 'modified (content, size)', 'file', 6],
      ['/type', 'modified', ['type', 'mode'], 'modified (type, mode)', 'symlink', 0],
      ['/xattrs', 'modified', ['xattrs'], 'modified (xattrs)', 'file', 1],
    ]);
  });

  it('count the paths and bytes each removal took, and how (whiteout, opaque, replaced)', async () => {
    const lower2 = tar().dir('w/').file('w/1', '1').dir('w/sub/').file('w/sub/2', '22').dir('o/').file('o/3', '333').dir('o/sub/').file('o/sub/4', '4444').dir('r/').file('r/5', '55555');
    const upper = tar().file('.wh.w').file('o/.wh..wh..opq').dir('o/').symlink('r', 'o');
    const { changeSets } = await stack(lower2, upper);
    expect(changeSets[1]!.changes.map(brief)).toEqual([
      ['-', 'removed', 'file', 0, '/o/3', 1, 3, 'opaque'],
      ['-', 'removed', 'dir', 0, '/o/sub', 2, 4, 'opaque'],
      ['~', 'modified (type, mode)', 'symlink', 0, '/r'],
      ['-', 'removed', 'file', 0, '/r/5', 1, 5, 'replaced'],
      ['-', 'removed', 'dir', 0, '/w', 4, 3, 'whiteout'],
    ]);
  });

  it('do not list a directory a layer only re-emits as the parent of a change', async () => {
    const { changeSets } = await stack(tar().dir('d/', { mtime: 1 }).file('d/f', 'f'), tar().dir('d/', { mtime: 2 }).file('d/g', 'g'));
    expect(changeSets[1]!.changes.map(brief)).toEqual([['+', 'added', 'file', 1, '/d/g']]);
  });
});

describe('the CLI at an intermediate layer (--layer)', async () => {
  const im = image({
    layers: [
      { tar: tar().dir('etc/').file('etc/a', 'a1').file('etc/b', 'b1') },
      { tar: tar().dir('etc/').file('etc/.wh.a').file('etc/b', 'b2-longer').file('etc/c', 'c') },
      { tar: tar().file('etc/.wh..wh..opq').dir('etc/').file('etc/d', 'd') },
    ],
  });
  const file = tmp.file('layers.tar', dockerArchive([{ image: im, repoTags: ['layers:1'] }]).toTar());
  const paths = async (n: string) => parseJson<FlatRecord[]>(await run(['tree', file, '--flat', '--format', 'json', '--layer', n])).map((r) => r.path);

  it('tree --layer N is the filesystem after layer N (negative counts from the top)', async () => {
    expect(await paths('0')).toEqual(['/', '/etc', '/etc/a', '/etc/b']);
    expect(await paths('1')).toEqual(['/', '/etc', '/etc/b', '/etc/c']);
    expect(await paths('2')).toEqual(['/', '/etc', '/etc/d']);
    expect(await paths('-2')).toEqual(await paths('1'));
  });

  it('changes --layer N is what layer N did to the layers below it', async () => {
    const r = await run(['changes', file, '--layer', '1', '--format', 'json']);
    expect(r.code).toBe(0);
    const [l] = parseJson<Array<{ layer: number; summary: Record<string, number>; changes: Change[] }>>(r);
    expect(l!.layer).toBe(1);
    expect(l!.summary).toEqual({ added: 1, modified: 1, removed: 1, addedBytes: 1, modifiedBytes: 9, removedBytes: 2 });
    expect(l!.changes.map((c) => [c.path, c.kind])).toEqual([
      ['/etc/a', 'removed'],
      ['/etc/b', 'modified'],
      ['/etc/c', 'added'],
    ]);
  });

  it('a layer out of range is a usage error (exit 2, one line)', async () => {
    const r = await run(['tree', file, '--layer', '3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('layerlens: error: --layer 3 is out of range: the image has 3 layers (0 to 2, or -1 for the last)\n');
  });

  it('a symlink loop in a parent fails with one line naming the file and the layer', async () => {
    const loop = image({ layers: [{ tar: tar().symlink('a', 'b').symlink('b', 'a') }, { tar: tar().file('a/x', 'x') }] });
    const f = tmp.file('loop.tar', dockerArchive([{ image: loop, repoTags: ['loop:1'] }]).toTar());
    const r = await run(['tree', f]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stderr.startsWith(`layerlens: error: ${f}: `)).toBe(true);
    expect(r.stderr.slice(`layerlens: error: ${f}: `.length)).toMatch(/^[0-9a-f]{64}\/layer\.tar: too many levels of symbolic links resolving \/a \(limit: --max-link-depth 40\)\n$/);
  });
});

// The `tiny` table of the corpus README, through the CLI on the sample copy of tiny's docker-archive.
describe('tiny, layer by layer: the corpus edge cases', () => {
  const TINY = fileURLToPath(new URL('../samples/tiny.docker-archive.tar', import.meta.url));
  interface LayerJson {
    layer: number;
    createdBy: string;
    summary: Record<string, number>;
    changes: Change[];
    warnings: string[];
  }
  const changes = async (n: number) => {
    const r = await run(['changes', TINY, '--layer', String(n), '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const [l] = parseJson<LayerJson[]>(r);
    return l!;
  };
  const flat = async (n: number) => parseJson<FlatRecord[]>(await run(['tree', TINY, '--flat', '--format', 'json', '--layer', String(n)]));

  it('layer 0: the base, everything added', async () => {
    const l = await changes(0);
    expect(l.summary).toEqual({ added: 129, modified: 0, removed: 0, addedBytes: 553131, modifiedBytes: 0, removedBytes: 0 });
    expect(l.changes.every((c) => c.kind === 'added')).toBe(true);
    expect(l.warnings).toEqual([]);
  });

  it('layer 1: rewrites, a whiteout, chmod and chown only, hard links, odd names and modes', async () => {
    const l = await changes(1);
    expect(l.createdBy).toBe('RUN modify, delete, chmod, chown, add edge-case entries (umoci repack)');
    expect(l.summary).toEqual({ added: 26, modified: 6, removed: 1, addedBytes: 65842, modifiedBytes: 262234, removedBytes: 31 });
    const long = 'd'.repeat(80);
    expect(l.changes.map(brief)).toEqual([
      ['~', 'modified (content)', 'file', 262144, '/data/blob.bin'],
      ['+', 'added', 'file', 0, '/empty-file'],
      ['~', 'modified (content)', 'file', 17, '/etc/config.txt'],
      ['~', 'modified (chmod only)', 'file', 25, '/etc/perm-only.sh'],
      ['+', 'added', 'file', 44, '/srv/biguid.txt'],
      ['~', 'modified (chmod only)', 'dir', 0, '/srv/dir-perm'],
      ['+', 'added', 'file', 10, '/srv/nomode.txt'],
      ['~', 'modified (chown only)', 'file', 48, '/srv/owned.txt'],
      ['+', 'added', 'dir', 0, '/srv/shared'],
      ['+', 'added', 'dir', 0, '/usr/local'],
      ['+', 'added', 'dir', 0, '/usr/local/bin'],
      ['+', 'added', 'symlink', 0, '/usr/local/bin/relative-link'],
      ['+', 'added', 'file', 13, '/usr/local/bin/suid-tool'],
      ['+', 'added', 'symlink', 0, '/usr/share/corpus/dangling-link'],
      ['+', 'added', 'file', 23, '/usr/share/corpus/hardlinks/a'],
      ['+', 'added', 'hardlink', 0, '/usr/share/corpus/hardlinks/b'],
      ['+', 'added', 'file', 65, '/usr/share/corpus/hardlinks/base-link.txt'],
      // The layer-0 file re-emitted as a hard link to its new name: same content, same metadata,
      // and no bytes stored again.
      ['~', 'modified (relinked)', 'hardlink', 0, '/usr/share/corpus/hardlinks/base.txt'],
      ['+', 'added', 'hardlink', 0, '/usr/share/corpus/hardlinks/c'],
      ['+', 'added', 'dir', 0, '/usr/share/corpus/long'],
      ['+', 'added', 'dir', 0, `/usr/share/corpus/long/${long}`],
      ['+', 'added', 'file', 27, `/usr/share/corpus/long/${long}/${'f'.repeat(40)}.txt`],
      ['+', 'added', 'symlink', 0, '/usr/share/corpus/long/link-with-long-target'],
      ['+', 'added', 'file', 35, `/usr/share/corpus/long/${'n'.repeat(120)}.txt`],
      ['+', 'added', 'dir', 0, '/usr/share/corpus/special'],
      ['+', 'added', 'fifo', 0, '/usr/share/corpus/special/fifo'],
      ['+', 'added', 'char', 0, '/usr/share/corpus/special/null-like'],
      ['+', 'added', 'dir', 0, '/usr/share/corpus/unicode'],
      ['+', 'added', 'file', 22, '/usr/share/corpus/unicode/name with spaces.txt'],
      ['+', 'added', 'file', 16, '/usr/share/corpus/unicode/naïve café ✓ 日本語.txt'],
      ['+', 'added', 'file', 51, '/usr/share/corpus/xattr.txt'],
      ['-', 'removed', 'file', 0, '/var/tmp/deleteme.txt', 1, 31, 'whiteout'],
      ['+', 'added', 'file', 65536, '/var/tmp/scratch.bin'],
    ]);
    expect(l.changes.find((c) => c.path === '/etc/perm-only.sh')!.reasons).toEqual(['mode']);
    expect(l.changes.find((c) => c.path === '/srv/owned.txt')!.reasons).toEqual(['owner']);

    // What those entries are, in the filesystem after layer 1.
    const records = await flat(1);
    const at = (p: string) => record(records, p);
    const pick = (p: string) => {
      const r = at(p);
      return [r.type, r.mode.toString(8), r.uid, r.gid, r.size, r.linkTarget, r.devMajor, r.devMinor, r.links, r.hardlinkGroup];
    };
    expect(pick('/empty-file')).toEqual(['file', '644', 0, 0, 0, null, null, null, 1, null]);
    expect(at('/empty-file').sha256).toBe(sha(''));
    expect(pick('/etc/perm-only.sh')).toEqual(['file', '755', 0, 0, 25, null, null, null, 1, null]);
    expect(pick('/srv/dir-perm')).toEqual(['dir', '700', 0, 0, 0, null, null, null, 1, null]);
    expect(pick('/srv/owned.txt')).toEqual(['file', '644', 1000, 1000, 48, null, null, null, 1, null]);
    expect(pick('/srv/biguid.txt')).toEqual(['file', '644', 3000000, 3000000, 44, null, null, null, 1, null]);
    expect(pick('/srv/nomode.txt')).toEqual(['file', '0', 0, 0, 10, null, null, null, 1, null]);
    expect(pick('/srv/shared')).toEqual(['dir', '2775', 0, 1000, 0, null, null, null, 1, null]);
    expect(pick('/usr/local/bin/suid-tool')).toEqual(['file', '4755', 0, 0, 13, null, null, null, 1, null]);
    expect(pick('/usr/local/bin/relative-link')).toEqual(['symlink', '777', 0, 0, 0, '../../../etc/os-release', null, null, 1, null]);
    expect(pick('/usr/share/corpus/dangling-link')).toEqual(['symlink', '777', 0, 0, 0, '/nonexistent/target', null, null, 1, null]);
    expect(pick('/usr/share/corpus/long/link-with-long-target')).toEqual([
      'symlink', '777', 0, 0, 0, `/usr/share/corpus/long/${long}/${'f'.repeat(40)}.txt`, null, null, 1, null,
    ]);
    expect(Buffer.byteLength(at('/usr/share/corpus/long/link-with-long-target').linkTarget!)).toBe(148);
    expect(Buffer.byteLength(`usr/share/corpus/long/${long}/${'f'.repeat(40)}.txt`)).toBe(147);
    expect(pick('/usr/share/corpus/special/fifo')).toEqual(['fifo', '644', 0, 0, 0, null, null, null, 1, null]);
    expect(pick('/usr/share/corpus/special/null-like')).toEqual(['char', '644', 0, 0, 0, null, 1, 3, 1, null]);
    expect(pick('/usr/share/corpus/hardlinks/b')).toEqual(['hardlink', '644', 0, 0, 23, '/usr/share/corpus/hardlinks/a', null, null, 3, '/usr/share/corpus/hardlinks/a']);
    expect(pick('/usr/share/corpus/hardlinks/base.txt')).toEqual([
      'hardlink', '644', 0, 0, 65, '/usr/share/corpus/hardlinks/base-link.txt', null, null, 2, '/usr/share/corpus/hardlinks/base-link.txt',
    ]);
    expect(pick('/var/tmp/scratch.bin')).toEqual(['file', '644', 0, 0, 65536, null, null, null, 1, null]);
    expect(pick('/var/tmp')).toEqual(['dir', '1777', 0, 0, 65536, null, null, null, 1, null]);
    expect(records.some((r) => r.path === '/var/tmp/deleteme.txt')).toBe(false);
  });

  it('layer 2: a directory replaced wholesale, trees deleted, dir→file with a whiteout below the file, file→dir, file→symlink', async () => {
    const l = await changes(2);
    expect(l.summary).toEqual({ added: 2, modified: 4, removed: 11, addedBytes: 10, modifiedBytes: 48, removedBytes: 65650 });
    expect(l.warnings).toEqual([]);
    expect(l.changes.map(brief)).toEqual([
      ['-', 'removed', 'file', 0, '/opt/app/README', 1, 14, 'whiteout'],
      ['+', 'added', 'file', 4, '/opt/app/VERSION'],
      ['~', 'modified (content)', 'file', 22, '/opt/app/bin/app.sh'],
      ['-', 'removed', 'dir', 0, '/opt/app/lib', 3, 18, 'whiteout'],
      ['~', 'modified (type, mode)', 'file', 26, '/srv/was-dir'],
      // The file replaced the directory; the whiteout of its old child that follows changes nothing.
      ['-', 'removed', 'file', 0, '/srv/was-dir/child', 1, 51, 'replaced'],
      ['~', 'modified (type, mode)', 'dir', 0, '/srv/was-file'],
      ['~', 'modified (type, mode)', 'symlink', 0, '/srv/was-file-now-link'],
      ['+', 'added', 'file', 6, '/srv/was-file/child'],
      ['-', 'removed', 'dir', 0, '/var/cache/olddir', 5, 31, 'whiteout'],
      // Added by layer 1, removed by layer 2: pure waste.
      ['-', 'removed', 'file', 0, '/var/tmp/scratch.bin', 1, 65536, 'whiteout'],
    ]);
  });

  it('layer 3: a real opaque directory, its marker before the directory entry, in a tar without trailer or padding', async () => {
    const l = await changes(3);
    expect(l.createdBy).toBe('umoci insert --opaque opaque.d /etc/opaque.d');
    expect(l.warnings).toEqual([]);
    expect(l.changes.map(brief)).toEqual([
      ['+', 'added', 'file', 5, '/etc/opaque.d/new1.conf'],
      ['-', 'removed', 'file', 0, '/etc/opaque.d/old1.conf', 1, 5, 'opaque'],
      // Hidden by the opaque marker, then written again by the layer.
      ['~', 'modified (content, size)', 'file', 14, '/etc/opaque.d/old2.conf'],
    ]);
    const paths = (await flat(3)).map((r) => r.path).filter((p) => p.startsWith('/etc/opaque.d'));
    expect(paths).toEqual(['/etc/opaque.d', '/etc/opaque.d/new1.conf', '/etc/opaque.d/old2.conf']);
  });

  it('layer 4: a layer that holds only one whiteout', async () => {
    const l = await changes(4);
    expect(l.changes.map(brief)).toEqual([['-', 'removed', 'symlink', 0, '/usr/share/corpus/dangling-link', 1, 0, 'whiteout']]);
    expect(l.summary).toEqual({ added: 0, modified: 0, removed: 1, addedBytes: 0, modifiedBytes: 0, removedBytes: 0 });
  });

  it.skipIf(!HAS_SHARED)('every layer of the sample agrees with the corpus copy of the same image', async () => {
    // (The sample is a byte copy of the corpus's tiny.docker-archive.tar.)
    const r1 = await run(['changes', TINY, '--format', 'json']);
    const r2 = await run(['changes', corpus('tiny', 'tiny.docker-archive.tar'), '--format', 'json']);
    expect(r1.stdout).toBe(r2.stdout);
  });
});

describe('path cleaning', () => {
  // The plain forms of splitPath (the reference model's) and goCleanComponents, before they were
  // made to scan in place.
  const splitReference = clean;
  const goReference = (name: string) => {
    const rooted = name.startsWith('/');
    const out: string[] = [];
    for (const part of name.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
        else if (!rooted) out.push('..');
        continue;
      }
      out.push(part);
    }
    return { skip: out.length === 0 && !rooted, components: out };
  };

  it('splits and cleans any path as the plain forms do', () => {
    const piece = fc.constantFrom('a', 'b.c', '.', '..', '...', '.x', '', '/', '//', '\udcff', 'é');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), fc.array(piece, { maxLength: 12 }), (pieces, others) => {
        const p = pieces.join('');
        // The key compared without making it: the same answer as making it.
        const other = parentKey(others.join(''));
        expect(hasParentKey(p, parentEnd(p), other)).toBe(other !== undefined && parentKey(p) === other);
        expect(hasParentKey(p, parentEnd(p), parentKey(p))).toBe(parentKey(p) !== undefined);
        expect(splitPath(p)).toEqual(splitReference(p));
        expect(goCleanComponents(p)).toEqual(goReference(p));
        // An entry whose parent key is the last entry's starts from the last entry's parent.
        const key = parentKey(p);
        if (key !== undefined) {
          const base = p.replace(/\/+$/, '').slice(key.length + 1);
          expect(baseName(p)).toBe(base);
          expect(goCleanComponents(p).components).toEqual([...goCleanComponents(key).components, base]);
          expect(splitPath(p)).toEqual([...splitPath(key), base]);
        }
      }),
      { numRuns: 2000, seed: 7 },
    );
  });
});
