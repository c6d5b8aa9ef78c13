// Counterexamples found by the differential tests (union-property.test.ts against umoci unpack,
// and the mutation fuzzer), shrunk by hand to the entries that matter and kept here once fixed.
// Each pins what layerlens does now and, where umoci is installed and the tests run as root,
// that umoci unpack agrees (or refuses the layers where layerlens reads on with a warning).
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tar, tempDir } from './helpers/builders.js';
import type { RefEntry } from './helpers/reference-union.js';
import { writeStackLayout } from './helpers/stacks.js';
import { UMOCI_MISSING, listRootfs, umociUnpack } from './helpers/umoci.js';
import { listing, shape, stack } from './helpers/union.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

let n = 0;
/** umoci's listing of these layers (written as an OCI layout), or its one-line refusal. */
function umoci(layers: RefEntry[][]): string[] | { refused: string } {
  const dir = path.join(tmp.dir, `umoci-${n++}`);
  const layout = writeStackLayout(layers.map((entries) => ({ entries, compression: 'none' })), path.join(dir, 'layout'));
  const r = umociUnpack(layout, 'latest', path.join(dir, 'bundle'));
  return r.ok ? listRootfs(r.rootfs) : { refused: r.error };
}

const file = (name: string, content = ''): RefEntry => ({ kind: 'file', name, content, mode: 0o644, uid: 0, gid: 0 });
const dir = (name: string): RefEntry => ({ kind: 'dir', name, mode: 0o755, uid: 0, gid: 0 });
const whiteout = (name: string): RefEntry => ({ kind: 'file', name, content: '', mode: 0, uid: 0, gid: 0 });

describe('hard links', () => {
  // Found by the property test: layer 1 makes a/b a hard link to a/b/a. Making the link clears
  // a/b first, and a/b/a with it, so the link has no target: umoci fails ("link: no such file
  // or directory"). layerlens used to make a/b a regular file holding the removed file's bytes.
  it('a hard link into the directory it replaces is ignored with a warning, like a link to a missing path', async () => {
    const { union, changeSets } = await stack(tar().file('a/b/a', 'inside'), tar().hardlink('a/b', 'a/b/a'));
    expect(shape(union)).toEqual(['/ d', '/a d', '/a/b d', '/a/b/a f']);
    expect(changeSets[1]!.changes).toEqual([]);
    expect(changeSets[1]!.warnings).toEqual(['a/b: hardlink to a/b/a, which is inside the directory the link replaces; entry ignored']);
  });

  it.skipIf(!!UMOCI_MISSING)('umoci refuses that layer', () => {
    expect(umoci([[file('a/b/a', 'inside')], [{ kind: 'hardlink', name: 'a/b', target: 'a/b/a' }]])).toEqual({ refused: expect.stringMatching(/a\/b: link: no such file or directory$/) });
  });
});

describe('a symlink whose target passes through a directory that is not there', () => {
  // Found by the property test. While it applies a layer, umoci resolves a path as securejoin
  // does: a missing component is taken as a name, and a later `..` leaves it again. layerlens
  // stopped at the missing component instead: it made a stray directory for it (entries), or
  // found nothing (whiteouts), or missed a loop through it.
  const lower: RefEntry[] = [dir('real/'), file('real/f', 'f'), { kind: 'symlink', name: 's', target: 'missing/../real' }];
  const upper: RefEntry[] = [whiteout('s/.wh.f'), file('s/new', 'n')];

  it('an entry through it lands where the target leads, and no directory is made for the missing part', async () => {
    const { union } = await stack(tar().dir('real/').file('real/f', 'f').symlink('s', 'missing/../real'), tar().file('s/new', 'n'));
    expect(shape(union)).toEqual(['/ d', '/real d', '/real/f f', '/real/new f', '/s l']);
  });

  it('a whiteout through it removes what the target leads to', async () => {
    const { union, changeSets } = await stack(tar().dir('real/').file('real/f', 'f').symlink('s', 'missing/../real'), tar().file('s/.wh.f', '', { mode: 0 }).file('s/new', 'n'));
    expect(shape(union)).toEqual(['/ d', '/real d', '/real/new f', '/s l']);
    expect(changeSets[1]!.changes.map((c) => [c.kind, c.path])).toEqual([
      ['removed', '/real/f'],
      ['added', '/real/new'],
    ]);
  });

  it('a symlink that comes back to itself through a missing directory is a loop, for a whiteout too', async () => {
    // c/b -> a/../b: from /c, a is missing, `..` is /c again, and b is the link once more.
    await expect(stack(tar().symlink('c/b', 'a/../b').file('c/b/.wh.a', '', { mode: 0 }))).rejects.toThrow(
      'too many levels of symbolic links resolving /c/b (limit: --max-link-depth 40)',
    );
  });

  it.skipIf(!!UMOCI_MISSING)('umoci agrees', async () => {
    const { union } = await stack(tar().dir('real/').file('real/f', 'f').symlink('s', 'missing/../real'), tar().file('s/.wh.f', '', { mode: 0 }).file('s/new', 'n'));
    expect(umoci([lower, upper])).toEqual(listing(union));
    expect(umoci([[{ kind: 'symlink', name: 'c/b', target: 'a/../b' }, whiteout('c/b/.wh.a')]])).toEqual({ refused: expect.stringMatching(/too many levels of symbolic links$/) });
  });

  it('a path named by the user (cat, tree) is still resolved as the kernel would: a missing directory is not there', async () => {
    const { union } = await stack(tar().dir('real/').file('real/f', 'f').symlink('s', 'missing/../real'));
    expect(union.resolve('/s/f')).toBeUndefined();
    expect(union.resolve('/real/f')?.path).toBe('/real/f');
  });
});
