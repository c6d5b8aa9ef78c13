// Where the bytes go: layerlens's account (each hidden copy once, why it is hidden, duplicates,
// base and ignored paths) on images built in memory and on the corpus's `tiny`, counted by hand;
// and dive's own figures, reproduced exactly: dive's unit tests on synthetic trees, the numbers
// dive's tests state for its fixtures, its quirks one by one, and Go's unstable sort.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DiveTally, type DiveMetrics } from '../src/analysis/dive.js';
import { goSortArray } from '../src/analysis/gosort.js';
import type { WasteResult } from '../src/analysis/waste.js';
import type { LayerEntry } from '../src/fs/entry.js';
import { buildUnion } from '../src/fs/build.js';
import { compileGlob, pathMatcher } from '../src/fs/glob.js';
import { openImage } from '../src/source/open-image.js';
import { dockerArchive, image, tar, tempDir, type TarBuilder } from './helpers/builders.js';
import { parseJson, run } from './helpers/cli.js';
import { HAS_SHARED, corpus, fixture } from './helpers/shared.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const TINY = path.join(here, '../samples/tiny.docker-archive.tar');
const tmp = tempDir();
afterAll(() => tmp.cleanup());

let n = 0;
/** A docker-archive of these layers, on disk. */
function archive(...layers: TarBuilder[]): string {
  return tmp.file(`img-${n++}.tar`, dockerArchive([{ image: image({ layers: layers.map((t) => ({ tar: t })) }), repoTags: ['waste:test'] }]).toTar());
}

type WasteJson = WasteResult & { schemaVersion: number; ignore: string[] };

async function waste(...args: string[]): Promise<WasteJson> {
  const r = await run(['waste', ...args, '--format', 'json']);
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return parseJson<WasteJson>(r);
}

/** The wasted paths as [path, bytes, why/change per copy]. */
function brief(w: WasteResult): Array<[string, number, string]> {
  return w.paths.map((p) => [p.path, p.wastedBytes, p.detail.map((d) => `${d.layer}→${d.hiddenBy} ${d.why} (${d.change})`).join('; ')]);
}

const x = (c: string, k: number) => c.repeat(k);

describe('layerlens waste: each hidden copy counted once, the visible one never', () => {
  it('overwritten, chmod-only, chown-only, removed by a whiteout, by an opaque directory, replaced by a directory or a link', async () => {
    const file = archive(
      tar()
        .file('over.txt', x('a', 100))
        .file('perm.sh', x('b', 40), { mode: 0o644 })
        .file('owned', x('c', 30))
        .file('gone.bin', x('d', 1000))
        .dir('cache/')
        .file('cache/one', x('e', 7))
        .file('cache/two', x('f', 8))
        .dir('opq/')
        .file('opq/old', x('g', 9))
        .file('was-file', x('h', 11))
        .file('was-link', x('i', 12)),
      tar()
        .file('over.txt', x('A', 120))
        .file('perm.sh', x('b', 40), { mode: 0o755 })
        .file('owned', x('c', 30), { uid: 1000, gid: 1000 })
        .file('.wh.gone.bin')
        .file('.wh.cache')
        .file('opq/.wh..wh..opq')
        .file('opq/new', x('j', 5))
        .dir('was-file/')
        .symlink('was-link', 'over.txt'),
    );
    const w = await waste(file);
    expect(brief(w)).toEqual([
      ['/gone.bin', 1000, '0→1 removed (whiteout)'],
      ['/over.txt', 100, '0→1 overwritten (content changed)'],
      ['/perm.sh', 40, '0→1 metadata-only (chmod only)'],
      ['/owned', 30, '0→1 metadata-only (chown only)'],
      ['/was-link', 12, '0→1 removed (replaced)'],
      ['/was-file', 11, '0→1 removed (replaced)'],
      ['/opq/old', 9, '0→1 removed (opaque directory)'],
      ['/cache/two', 8, '0→1 removed (whiteout)'],
      ['/cache/one', 7, '0→1 removed (whiteout)'],
    ]);
    // Stored: layer 0 100+40+30+1000+7+8+9+11+12 = 1217, layer 1 120+40+30+5 = 195.
    // Wasted: all of layer 0 (1217) but nothing of layer 1; visible = 195.
    expect(w).toMatchObject({ storedBytes: 1412, visibleBytes: 195, wastedBytes: 1217, hiddenCopies: 9, pathCount: 9 });
    expect(w.byReason).toEqual({ overwritten: 100, metadataOnly: 70, removed: 1047 });
    expect(w.efficiency).toBe(195 / 1412);
    expect(w.layers.map((l) => [l.index, l.storedBytes, l.storedFiles, l.visibleBytes, l.wastedBytes, l.hidesBytes, l.efficiency])).toEqual([
      [0, 1217, 9, 0, 1217, 0, 0],
      [1, 195, 4, 195, 0, 1217, 1],
    ]);
  });

  it('a file stored twice in one layer wastes the first copy; an identical re-store is metadata-only', async () => {
    const w = await waste(archive(tar().file('twice', x('a', 10)).file('twice', x('b', 20)), tar().file('twice', x('b', 20))));
    expect(brief(w)).toEqual([['/twice', 30, '0→0 overwritten (content changed); 0→1 metadata-only (identical copy)']]);
    expect(w.paths[0]).toMatchObject({ copies: 2, layers: [0], hiddenBy: [0, 1], why: ['overwritten', 'metadata-only'] });
    expect(w.layers.map((l) => [l.wastedBytes, l.hidesBytes])).toEqual([[30, 0], [0, 20]]);
  });

  it('a hidden file a hard link still reaches is not wasted; when the last name goes, it is', async () => {
    const base = tar().file('a', x('a', 50));
    const linked = tar().hardlink('b', 'a');
    const still = await waste(archive(base, linked, tar().file('.wh.a')));
    expect(still).toMatchObject({ storedBytes: 50, visibleBytes: 50, wastedBytes: 0, pathCount: 0 });
    const gone = await waste(archive(tar().file('a', x('a', 50)), tar().hardlink('b', 'a'), tar().file('.wh.a'), tar().file('.wh.b')));
    // The bytes were stored once (a hard link stores none) and both names are gone.
    expect(gone).toMatchObject({ storedBytes: 50, visibleBytes: 0, wastedBytes: 50 });
    expect(brief(gone)).toEqual([['/a', 50, '0→2 removed (whiteout)']]);
  });

  it('duplicates: identical contents at several visible paths, hard links to one copy counted once', async () => {
    const w = await waste(archive(tar().file('one', x('z', 300)).file('two', x('z', 300)).hardlink('one-link', 'one'), tar().file('three', x('z', 300)).file('other', x('y', 300))));
    // Three stored copies of one content (one, two, three; one-link is the same copy as one).
    expect(w.duplicates).toEqual([
      { sha256: expect.stringMatching(/^[0-9a-f]{64}$/), size: 300, copies: 3, savableBytes: 600, paths: ['/one', '/one-link', '/three', '/two'] },
    ]);
    expect(w).toMatchObject({ duplicateCount: 1, duplicateBytes: 600, wastedBytes: 0 });
  });

  it('--ignore leaves the paths out of every figure', async () => {
    const file = archive(tar().file('keep', x('k', 10)).dir('var/cache/').file('var/cache/a', x('a', 100)).file('x.pyc', x('p', 5)), tar().file('.wh.keep').file('var/cache/a', x('b', 100)).file('x.pyc', x('q', 5)));
    const all = await waste(file);
    expect(all).toMatchObject({ storedBytes: 220, wastedBytes: 115, excludedBytes: 0 });
    const some = await waste(file, '--ignore', '/var/cache', '--ignore', '*.pyc');
    // Left out: var/cache/a (100 + 100) and x.pyc (5 + 5); what remains is keep (10), wasted.
    expect(some).toMatchObject({ storedBytes: 10, visibleBytes: 0, wastedBytes: 10, excludedBytes: 210, ignore: ['/var/cache', '*.pyc'] });
    expect(brief(some)).toEqual([['/keep', 10, '0→1 removed (whiteout)']]);
  });

  it('--base-layers and --base-image split the base image from your layers', async () => {
    const l0 = tar().file('base/lib', x('l', 1000)).file('base/old', x('o', 200));
    const l1 = tar().file('base/.wh.old').file('base/tmp', x('t', 300));
    const l2 = tar().file('app/bin', x('b', 50)).file('base/lib', x('L', 1000));
    const baseImg = image({ layers: [{ tar: l0 }, { tar: l1 }] });
    const appImg = image({ layers: [{ tar: l0 }, { tar: l1 }, { tar: l2 }] });
    const app = tmp.file('app.tar', dockerArchive([{ image: appImg, repoTags: ['app:1'] }]).toTar());
    const base = tmp.file('base.tar', dockerArchive([{ image: baseImg, repoTags: ['base:1'] }]).toTar());
    const byCount = await waste(app, '--base-layers', '2');
    const byImage = await waste(app, '--base-image', base);
    for (const w of [byCount, byImage]) {
      // base: stored 1000 + 200 + 300; base/old (200) stored and hidden within the base.
      expect(w.base).toMatchObject({ layers: [0, 1], storedBytes: 1500, wastedBytes: 200 });
      // yours: stored 50 + 1000; base/lib of layer 0 (1000) hidden by your layer 2 counts as yours.
      expect(w.user).toMatchObject({ layers: [2], storedBytes: 1050, visibleBytes: 1050, wastedBytes: 1000, wastedPercent: 1000 / 1050 });
      expect(w.layers.map((l) => l.base)).toEqual([true, true, false]);
    }
    expect(byCount.base.source).toBe('--base-layers 2');
    expect(byImage.base.source).toBe(`--base-image ${base}`);
  });

  it('lists the top N paths, in a table by default, and refuses bad flags', async () => {
    const file = archive(tar().file('a', x('a', 30)).file('b', x('b', 20)).file('c', x('c', 10)), tar().file('.wh.a').file('.wh.b').file('.wh.c'));
    const w = await waste(file, '--top', '2');
    expect(w.pathCount).toBe(3);
    expect(w.paths.map((p) => p.path)).toEqual(['/a', '/b']);
    const r = await run(['waste', file, '--top', '2', '--human=false']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').slice(0, 4)).toEqual([
      'Stored      60 of file content in 2 layers',
      'Visible     0 (efficiency 0.0%)',
      'Wasted      60 in 3 hidden copies of 3 paths: 0 overwritten, 0 metadata-only, 60 removed',
      'Duplicates  none',
    ]);
    expect(r.stdout).toContain('Wasted paths (top 2 of 3, most bytes first)');
    // Ties in bytes go by path, bytewise, also where the cut falls among them; a path's copies by layer.
    const many = archive(
      tar().dir('m/').file('m/z', 'xx').file('a', 'xx').file('m/a', 'xx').file('B', 'xx').file('é', 'xx').file('a0', 'xx').file('zz', 'xxx').file('b', 'xx'),
      tar().dir('m/').file('m/z', 'yy').file('a', 'yy'),
      tar().file('.wh.m').file('.wh.a').file('.wh.B').file('.wh.é').file('.wh.a0').file('.wh.zz').file('.wh.b'),
    );
    const all = await waste(many, '--top', '0');
    expect(all.paths.map((p) => [p.path, p.wastedBytes])).toEqual([
      ['/a', 4],
      ['/m/z', 4],
      ['/zz', 3],
      ['/B', 2],
      ['/a0', 2],
      ['/b', 2],
      ['/m/a', 2],
      ['/é', 2],
    ]);
    expect(all.paths[0]!.detail.map((d) => [d.layer, d.hiddenBy])).toEqual([[0, 1], [1, 2]]);
    for (const top of [1, 2, 3, 4, 5, 7]) expect((await waste(many, '--top', String(top))).paths, `--top ${top}`).toEqual(all.paths.slice(0, top));
    expect(r.stdout).toMatch(/│\s+30 │\s+1 │ 0\s+│ 1\s+│ removed \(whiteout\)\s+│ \/a\s+│/);
    for (const bad of [['--top', '-1'], ['--base-layers', '3'], ['--base-layers', '1', '--base-image', file], ['--ignore', '']]) {
      const e = await run(['waste', file, ...bad]);
      expect(e.code, bad.join(' ')).toBe(2);
      expect(e.stderr.split('\n')).toHaveLength(2);
    }
  });
});

describe('the corpus image tiny, counted by hand', () => {
  it('wastes 328094 bytes: each wasteful step of its notes, with its bytes', async () => {
    const w = await waste(TINY, '--top', '0');
    // Layer 1 (index 0) stores what later layers hide:
    //   /data/blob.bin 262144 rewritten, /etc/config.txt 17 rewritten, /opt/app/bin/app.sh 22
    //   rewritten (layer 3 recreates /opt/app)                                   = 262183 overwritten
    //   /etc/perm-only.sh 25 (chmod only), /srv/owned.txt 48 (chown only),
    //   /usr/share/corpus/hardlinks/base.txt 65 (stored again as a hard link's target) = 138 metadata-only
    //   /var/tmp/deleteme.txt 31 (whiteout), /opt/app/README 14 and /opt/app/lib/{a,b}.txt 9+9
    //   (/opt/app replaced), /var/cache/olddir/{sub/z,x,y} 13+9+9 (deleted), /srv/was-dir/child 51
    //   (dir → file), /srv/was-file 42 (file → dir), /srv/was-file-now-link 40 (file → symlink),
    //   /etc/opaque.d/old{1,2}.conf 5+5 (opaque)                                    = 237 removed
    // Layer 2 (index 1): /var/tmp/scratch.bin 65536, deleted by the next layer      = 65536 removed
    // 262183 + 138 + 237 + 65536 = 328094.
    expect(w.byReason).toEqual({ overwritten: 262183, metadataOnly: 138, removed: 65773 });
    expect(w.wastedBytes).toBe(328094);
    expect(w.hiddenCopies).toBe(19);
    // Stored per layer: layer 2 (index 1) = 262144+17+25+44+10+48+13+23+65+27+35+22+16+51+65536 = 328076;
    // layer 3: 4+22+26+6 = 58; layer 4: 5+14 = 19; layer 5: a whiteout, nothing.
    expect(w.layers.map((l) => [l.storedBytes, l.wastedBytes, l.hidesBytes])).toEqual([
      [553131, 262558, 0],
      [328076, 65536, 262330],
      [58, 0, 65754],
      [19, 0, 10],
      [0, 0, 0],
    ]);
    expect(w.storedBytes).toBe(553131 + 328076 + 58 + 19);
    expect(w.visibleBytes).toBe(w.storedBytes - 328094);
    expect(brief(w).slice(0, 6)).toEqual([
      ['/data/blob.bin', 262144, '0→1 overwritten (content changed)'],
      ['/var/tmp/scratch.bin', 65536, '1→2 removed (whiteout)'],
      ['/usr/share/corpus/hardlinks/base.txt', 65, '0→1 metadata-only (identical copy)'],
      ['/srv/was-dir/child', 51, '0→2 removed (replaced)'],
      ['/srv/owned.txt', 48, '0→1 metadata-only (chown only)'],
      ['/srv/was-file', 42, '0→2 removed (replaced)'],
    ]);
  });

  it("gives dive's figures for it, every one of dive's quirks counted", async () => {
    const d = (await waste(TINY, '--top', '0')).dive;
    // dive counts every copy of a path named twice, the visible one too, and a whiteout of a
    // file as 0 bytes: blob.bin 2×262144, scratch.bin 65536+0, owned.txt 48+48, base.txt 65+0
    // (a hard link's header size), was-dir/child 51+0, perm-only.sh 25+25, app.sh 22+22,
    // was-file-now-link 40+0 (a symlink), config.txt 17+17, deleteme.txt 31+0, opaque.d/old2.conf
    // 5+14 (the opaque directory hides nothing for dive), opt/app/README 14+0, and two paths of
    // 0 bytes named twice (srv/dir-perm, corpus/dangling-link).
    expect(d.inefficientFiles.map((f) => [f.path, f.count, f.wastedBytes])).toEqual([
      ['/data/blob.bin', 2, 524288],
      ['/var/tmp/scratch.bin', 2, 65536],
      ['/srv/owned.txt', 2, 96],
      ['/usr/share/corpus/hardlinks/base.txt', 2, 65],
      ['/srv/was-dir/child', 2, 51],
      ['/etc/perm-only.sh', 2, 50],
      ['/opt/app/bin/app.sh', 2, 44],
      ['/srv/was-file-now-link', 2, 40],
      ['/etc/config.txt', 2, 34],
      ['/var/tmp/deleteme.txt', 2, 31],
      ['/etc/opaque.d/old2.conf', 2, 19],
      ['/opt/app/README', 2, 14],
      ['/srv/dir-perm', 2, 0],
      ['/usr/share/corpus/dangling-link', 2, 0],
    ]);
    expect(d.wastedBytes).toBe(590268);
    // Sizes: the tar header sizes; the user's are every layer's but the first.
    expect(d.sizeBytes).toBe(881284);
    expect(d.userSizeBytes).toBe(328076 + 58 + 19);
    expect(d.userWastedPercent).toBe(590268 / 328153);
    // Efficiency: Σ of every path's smallest copy / Σ of all copies. All copies: every entry's
    // size (881284), plus the bytes under the two removed directories (/var/cache/olddir 31,
    // /opt/app/lib 18), less /srv/was-dir (26): in layer 3 it is a file with `.wh.child` below it,
    // so no leaf, and dive never counts it. The repeated paths' copies beyond the smallest:
    // 262144+65536+48+65+51+25+22+40+17+31+14+14 = 328007.
    expect(d.efficiency).toBe((881307 - 328007) / 881307);
  });
});

/** Feed dive's tally synthetic layers: [path, size] pairs, a trailing `/` for a directory. */
function diveOf(...layers: Array<Array<[string, number] | string>>): DiveMetrics {
  const tally = new DiveTally();
  layers.forEach((entries, i) => {
    tally.beginLayer(i);
    for (const e of entries) {
      const [p, size] = typeof e === 'string' ? [e, 0] : e;
      tally.entry({ path: p, tarSize: size, size, type: p.endsWith('/') ? 'dir' : 'file' } as LayerEntry);
    }
    tally.endLayer();
  });
  return tally.metrics();
}

describe('analyze', () => {
  it('ends with the waste summary and the top 10 wasted paths; its JSON holds them under `waste`', async () => {
    const r = await run(['analyze', TINY]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const at = lines.indexOf('Waste');
    expect(lines.slice(at, at + 7)).toEqual([
      'Waste',
      'Stored      881kB of file content in 5 layers',
      'Visible     553kB (efficiency 62.8%)',
      'Wasted      328kB in 19 hidden copies of 19 paths: 262kB overwritten, 138B metadata-only, 65.8kB removed',
      'Duplicates  none',
      'dive        efficiency 62.78 %, wastedBytes 590268 bytes (590 kB), userWastedPercent 179.88 %',
      '',
    ]);
    expect(lines[at + 7]).toBe('Wasted paths (top 10 of 19; layerlens waste for the whole account)');
    const doc = parseJson<{ waste: { wastedBytes: number; pathCount: number; paths: unknown[]; dive: DiveMetrics } }>(await run(['analyze', TINY, '--format', 'json']));
    expect(doc.waste).toMatchObject({ wastedBytes: 328094, pathCount: 19 });
    expect(doc.waste.paths).toHaveLength(10);
    expect(doc.waste.dive).toMatchObject({ wastedBytes: 590268, inefficientFileCount: 14 });
    expect(doc.waste.dive.inefficientFiles).toHaveLength(10);
  });
});

describe("dive's figures: its own unit tests, on synthetic trees", () => {
  it('TestEfficency: a file rewritten, then its directory whited out (an implied directory counts 0)', () => {
    const d = diveOf(
      [['/etc/nginx/nginx.conf', 2000], ['/etc/nginx/public', 3000]],
      [['/etc/nginx/nginx.conf', 5000], ['/etc/athing', 10000]],
      ['/etc/.wh.nginx'],
    );
    expect(d.efficiency).toBe(0.75);
    expect(d.inefficientFiles).toEqual([{ path: '/etc/nginx/nginx.conf', count: 2, wastedBytes: 7000 }]);
  });

  it('TestEfficency_ScratchImage: one empty file, nothing wasted', () => {
    const d = diveOf([['/nothing', 0]], [], []);
    expect(d.efficiency).toBe(1);
    expect(d.inefficientFiles).toEqual([]);
  });

  it('a whiteout of a directory that a layer stored counts the bytes below it; of a file, 0', () => {
    // Layer 0 stores the directory: its removal counts 10 + 20 at /d (seen once: not inefficient).
    const dir = diveOf(['d/', ['d/a', 10], ['d/b', 20], ['f', 5]], ['.wh.d', '.wh.f']);
    // all copies: 10 + 20 + 5 + 30 (/d) + 0 (/f) = 65; /f's smallest copy is 0, so 65 - 5 = 60.
    expect(dir.efficiency).toBe(60 / 65);
    expect(dir.inefficientFiles).toEqual([{ path: '/f', count: 2, wastedBytes: 5 }]);
  });

  it('opaque directories hide nothing; a whiteout of a missing path stops the layer with -1 counted', () => {
    const opaque = diveOf([['o/x', 7]], ['o/.wh..wh..opq', ['o/y', 1]]);
    expect(opaque.efficiency).toBe(1);
    expect(opaque.inefficientFiles).toEqual([]);
    // Layer 1: `.wh.nope` sorts before `z`; the walk stops there, so /z is never counted, and
    // /nope stays in the map with a smallest copy of -1: (10 - 1) / 10.
    const stopped = diveOf([['a', 10]], ['.wh.nope', ['z', 99]]);
    expect(stopped.efficiency).toBe(9 / 10);
    // dive's sizes still count every entry.
    expect(stopped.sizeBytes).toBe(109);
  });

  // A whiteout leaf and a node of the same name in one layer (checked against dive's rules by hand).
  const sameName: Record<string, Array<Array<[string, number]>>> = {
    // One whiteout named twice is one leaf: the first one's.
    twice: [[['d/x', 10], ['d/y', 5]], [['d/.wh.x', 3], ['d/.wh.x', 7], ['d/y', 6]]],
    // A whiteout leaf whose name a later entry passes through is a directory instead (the leaf
    // is dropped): /w is counted at layer 0 twice (the file, and layer 0's `.wh.w`) and once above.
    leafThenDir: [[['w', 4], ['.wh.w', 0]], [['.wh.w', 9], ['.wh.w/c', 2], ['w', 1]]],
    dirThenLeaf: [[['w', 4]], [['.wh.w/c', 2], ['.wh.w', 9], ['w', 8]]],
    // Layer 0 keeps its whiteouts as nodes, and stacks them as whiteouts.
    layer0: [[['.wh.k', 5], ['k', 3], ['m/', 0], ['m/n', 2]], [['k', 1], ['.wh.m', 0]]],
  };
  const expected: Record<string, Pick<DiveMetrics, 'efficiency' | 'sizeBytes' | 'wastedBytes' | 'inefficientFiles'>> = {
    twice: { efficiency: 5 / 21, sizeBytes: 31, wastedBytes: 21, inefficientFiles: [{ path: '/d/y', count: 2, wastedBytes: 11 }, { path: '/d/x', count: 2, wastedBytes: 10 }] },
    leafThenDir: { efficiency: 2 / 7, sizeBytes: 16, wastedBytes: 5, inefficientFiles: [{ path: '/w', count: 3, wastedBytes: 5 }] },
    dirThenLeaf: { efficiency: 9 / 21, sizeBytes: 23, wastedBytes: 12, inefficientFiles: [{ path: '/w', count: 2, wastedBytes: 12 }] },
    layer0: { efficiency: 0.5, sizeBytes: 11, wastedBytes: 4, inefficientFiles: [{ path: '/k', count: 3, wastedBytes: 4 }] },
  };
  it('a whiteout named twice, or also a directory, in one layer: one node, as dive makes it', () => {
    for (const [name, layers] of Object.entries(sameName)) {
      const d = diveOf(...layers);
      expect({ efficiency: d.efficiency, sizeBytes: d.sizeBytes, wastedBytes: d.wastedBytes, inefficientFiles: d.inefficientFiles }, name).toEqual(expected[name]);
    }
  });

  it('gives the same figures whether the layers are read in worker threads or on this thread', async () => {
    const layers = Object.values(sameName).flat();
    const file = archive(...layers.map((l) => l.reduce((t, [p, size]) => (p.endsWith('/') ? t.dir(p) : t.file(p, 'x'.repeat(size))), tar())));
    const { image: im, file: handle } = await openImage(file);
    try {
      const figures = async (workers: number) => {
        const tally = new DiveTally();
        await buildUnion(im.layers, { verify: true, file: im.file, observers: [tally], workers });
        return tally.metrics();
      };
      const here = await figures(0);
      expect(here.inefficientFileCount).toBeGreaterThan(0);
      expect(await figures(2)).toEqual(here);
    } finally {
      await handle.close();
    }
  });

  it('sorts the inefficient files as Go sort.Sort does, then lists them largest first', () => {
    const d = diveOf([['a', 1], ['b', 2], ['c', 1]], [['a', 1], ['b', 2], ['c', 1]]);
    // Appended in the order found (a, b, c); sorted ascending, stable for so few: a, c, b; reversed.
    expect(d.inefficientFiles.map((f) => f.path)).toEqual(['/b', '/c', '/a']);
  });
});

describe("Go's sort.Sort, step for step", () => {
  // test/fixtures/go-sort/go1.19.txt is what test/fixtures/go-sort/main.go printed (Go 1.19.8):
  // cases of keys with many ties, sorted by key with sort.Sort; the order of the indexes is Go's.
  const lines = fs.readFileSync(path.join(here, 'fixtures/go-sort/go1.19.txt'), 'utf8').trim().split('\n');
  const keys = (count: number, mod: number, seed: number) => {
    const out: number[] = [];
    let v = seed >>> 0;
    for (let i = 0; i < count; i++) {
      v = (Math.imul(v, 1664525) + 1013904223) >>> 0;
      out.push((v >>> 16) % mod);
    }
    return out;
  };
  it.each(lines.map((l) => [l.slice(0, l.lastIndexOf(' ')), l]))('leaves equal keys where Go leaves them: %s', (_name, line) => {
    const parts = line.split(' ');
    const items =
      parts[0] === 'desc'
        ? Array.from({ length: Number(parts[1]) }, (_, i) => ({ key: Math.floor((Number(parts[1]) - i) / 3), idx: i }))
        : keys(Number(parts[0]), Number(parts[1]), Number(parts[2])).map((key, idx) => ({ key, idx }));
    const sorted = goSortArray(items, (a, b) => a.key < b.key, 'go1.19');
    expect(sorted.map((s) => s.idx).join(',')).toBe(parts[parts.length - 1]);
  });
});

describe('path patterns (--ignore)', () => {
  it('match names at any depth without a slash, anchored paths with one, and everything below a match', () => {
    const m = pathMatcher(['*.pyc', 'usr/share/doc', '/var/cache/**', 'a?c/[xy]z'])!;
    expect(['/x.pyc', '/a/b/c.pyc', '/usr/share/doc', '/usr/share/doc/deb/README', '/var/cache/apt/x', '/abc/yz'].filter((p) => !m(p))).toEqual([]);
    expect(['/pyc', '/x.pyc.txt', '/opt/usr/share/doc', '/var/cache', '/abbc/yz', '/abc/zz'].filter((p) => m(p))).toEqual([]);
    expect(pathMatcher([])).toBeUndefined();
    expect(() => compileGlob(' ')).toThrow(/empty path pattern/);
  });
});

describe.skipIf(!HAS_SHARED)("dive's fixtures: the numbers dive's own tests state", () => {
  const data = (name: string) => fixture('dive', '.data', name);

  it('test-docker-image.tar: as dive/image/docker/image_archive_analysis_test.go and the export test say', async () => {
    const w = await waste(data('test-docker-image.tar'), '--top', '0');
    // Test_Analysis: efficiency 0.9844212134184309, sizeBytes 1220598, userSizeBytes 66237,
    // wastedBytes 32025, wastedPercent 0.4834911001404049.
    expect(w.dive).toMatchObject({ efficiency: 0.9844212134184309, sizeBytes: 1220598, userSizeBytes: 66237, wastedBytes: 32025, userWastedPercent: 0.4834911001404049 });
    // Test_Export: the inefficient files, in dive's order (ties as Go's sort leaves them).
    expect(w.dive.inefficientFiles).toEqual([
      { path: '/root/saved.txt', count: 2, wastedBytes: 12810 },
      { path: '/root/example/somefile1.txt', count: 2, wastedBytes: 12810 },
      { path: '/root/example/somefile3.txt', count: 2, wastedBytes: 6405 },
    ]);
    // By hand: all copies = layer 0's entries (1154361, all leaves) + ten 6405-byte copies in
    // layers 1..13 + 2187 (layer 10's two scripts) + 12810 under /root/example when it is
    // removed = 1233408; copies beyond each path's smallest: 6405 × 3 = 19215.
    expect(w.dive.efficiency).toBe((1233408 - 19215) / 1233408);
  });

  it('test-docker-image.tar: layerlens counts each hidden copy once, and the removed directory', async () => {
    const w = await waste(data('test-docker-image.tar'), '--top', '0');
    // somefile1 (layer 3, chmod in 4; layer 4's copy removed with /root/example in 9),
    // somefile2 (layer 5, removed in 9), somefile3 (layer 6, moved away in 7),
    // saved.txt (layer 7, chmod +x in 13): five hidden copies of 6405 bytes. dive's 32025 is
    // the same total by chance: it misses somefile2 (rm -rf counted free) and counts the
    // visible saved.txt and somefile1's first copy twice over.
    expect(w.wastedBytes).toBe(5 * 6405);
    expect(w.byReason).toEqual({ overwritten: 0, metadataOnly: 2 * 6405, removed: 3 * 6405 });
    expect(brief(w)).toEqual([
      ['/root/example/somefile1.txt', 12810, '3→4 metadata-only (chmod only); 4→9 removed (whiteout)'],
      ['/root/example/somefile2.txt', 6405, '5→9 removed (whiteout)'],
      ['/root/example/somefile3.txt', 6405, '6→7 removed (whiteout)'],
      ['/root/saved.txt', 6405, '7→13 metadata-only (chmod only)'],
    ]);
    // The same 6405 bytes at five visible paths: four copies too many.
    expect(w.duplicates).toEqual([
      expect.objectContaining({ size: 6405, copies: 5, savableBytes: 4 * 6405, paths: ['/root/.data/saved.again2.txt', '/root/.saved.txt', '/root/saved.txt', '/somefile.txt', '/tmp/saved.again1.txt'] }),
    ]);
    expect(w.storedBytes).toBe(1220598);
  });

  it('test-kaniko-image.tar (the same steps built by kaniko, 9249-byte copies): the same account', async () => {
    const w = await waste(data('test-kaniko-image.tar'), '--top', '0');
    expect(w.wastedBytes).toBe(5 * 9249);
    expect(w.dive.inefficientFiles).toEqual([
      { path: '/root/saved.txt', count: 2, wastedBytes: 18498 },
      { path: '/root/example/somefile1.txt', count: 2, wastedBytes: 18498 },
      { path: '/root/example/somefile3.txt', count: 2, wastedBytes: 9249 },
    ]);
    // Users' layers: ten 9249-byte copies and layer 10's 917 + 1270 bytes.
    expect(w.dive).toMatchObject({ wastedBytes: 46245, userSizeBytes: 10 * 9249 + 2187, userWastedPercent: 46245 / 94677 });
    // All copies: layer 0 (1231733) + 10 × 9249 + 2187 + 18498 under /root/example = 1344908;
    // beyond the smallest: 9249 × 3.
    expect(w.dive.efficiency).toBe((1344908 - 27747) / 1344908);
  });

  it.each(['test-oci-uncompressed-image.tar', 'test-oci-gzip-image.tar', 'test-oci-zstd-image.tar', 'test-oci-estargz-image.tar'])('%s: one layer, one file, nothing wasted', async (name) => {
    const w = await waste(data(name));
    expect(w).toMatchObject({ wastedBytes: 0, efficiency: 1, pathCount: 0 });
    // dive divides 0 wasted bytes by 0 user bytes: no number.
    expect(w.dive).toMatchObject({ efficiency: 1, wastedBytes: 0, userSizeBytes: 0, userWastedPercent: null, inefficientFiles: [] });
    expect(w.dive.sizeBytes).toBe(w.storedBytes);
  });
});

describe.skipIf(!HAS_SHARED)('the corpus copies of tiny', () => {
  it.each(['tiny/oci', 'tiny/tiny.oci-archive.tar', 'compression/zstd'].filter((p) => fs.existsSync(corpus(p))))('%s gives the same account', async (p) => {
    const w = await waste(`${corpus(p)}:latest`);
    expect([w.wastedBytes, w.storedBytes, w.dive.wastedBytes, w.dive.efficiency]).toEqual([328094, 881284, 590268, (881307 - 328007) / 881307]);
  });
});
