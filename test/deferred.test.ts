// Digests left for later (fs/deferred.ts): the waste account of an uncompressed image whose large
// files were not hashed as they streamed past must be the account of the same image with every
// file hashed, in one thread or several; the digests that matter are computed, the others not.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DiveTally } from '../src/analysis/dive.js';
import { wasteReport } from '../src/analysis/waste.js';
import { buildUnion } from '../src/fs/build.js';
import { flatten } from '../src/fs/flat.js';
import { DeferredContents } from '../src/fs/deferred.js';
import { DEFER_MIN, DEFER_MIN_COMPRESSED } from '../src/fs/layer-entries.js';
import { WasteLedger } from '../src/fs/ledger.js';
import { LayerlensError } from '../src/image/errors.js';
import { openImage } from '../src/source/open-image.js';
import { dockerArchive, image, ociLayout, tar, tempDir, type Compression } from './helpers/builders.js';
import { parseJson, run } from './helpers/cli.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** `size` bytes that differ with `seed`: a 4 KiB block of its own, repeated. */
function content(seed: string, size: number): Buffer {
  const block = Buffer.concat(Array.from({ length: 64 }, (_, i) => createHash('sha512').update(`${seed}/${i}`).digest()));
  return Buffer.alloc(size, block);
}
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const K = DEFER_MIN;
const X = content('x', K + 100);
const Y = content('y', K + 200);
const D1 = content('d1', 2 * K);
const D2 = content('d2', 2 * K);
const E = content('e', 3 * K + 7);
const F = content('f', 4 * K);

/**
 * Every case a deferred digest can decide: duplicates (/a, /c; /k and the copy a hard link still
 * reaches), a chmod-only re-store (/b), an overwrite of the same size (/d), a file of a size no
 * other file has (/e), a hidden copy reached through a hard link (/f via /g).
 */
function layers(compression: Compression) {
  return [
    {
      compression,
      tar: tar().file('a', X).file('b', Y).file('c', X).file('d', D1).file('e', E).file('f', F).hardlink('g', 'f').file('small', 'tiny').file('same-size-other', content('o', K + 200)),
    },
    { compression, tar: tar().file('b', Y, { mode: 0o600 }).file('d', D2).file('.wh.f', '').file('k', F).file('e2', content('e2', 5 * K)) },
  ];
}

let n = 0;
function write(compression: Compression, as: 'oci' | 'docker'): string {
  const im = image({ layers: layers(compression) });
  const where = path.join(tmp.dir, `${as}-${compression}-${n++}`);
  return as === 'oci' ? ociLayout([{ image: im, refName: 'latest' }]).writeTo(where) : dockerArchive([{ image: im, repoTags: ['t:1'] }]).writeTo(`${where}.tar`);
}

async function account(target: string, defer: boolean, workers: number) {
  const { image: im, file } = await openImage(target);
  try {
    const ledger = new WasteLedger();
    const dive = new DiveTally();
    const built = await buildUnion(im.layers, { verify: true, file: im.file, observers: [ledger, dive], defer, workers });
    return { built, waste: wasteReport(ledger, built.union, dive.metrics(0), { top: 0, baseLayers: 1 }) };
  } finally {
    await file.close();
  }
}

describe('deferred digests', () => {
  it('leave the waste account as hashing every file gives it, in one thread or in workers', async () => {
    for (const as of ['oci', 'docker'] as const) {
      const plain = write('none', as);
      const { waste: all } = await account(plain, false, 0);
      // What the account must find, so that the comparison below means something.
      expect(all.duplicates.map((d) => [d.sha256, d.paths])).toEqual(
        [
          [sha(X), ['/a', '/c']],
          [sha(F), ['/g', '/k']],
        ].sort((p, q) => (p[0]! < q[0]! ? -1 : 1)),
      );
      const byPath = new Map(all.paths.map((p) => [p.path, p.detail.map((d) => d.why)]));
      expect(byPath.get('/b')).toEqual(['metadata-only']);
      expect(byPath.get('/d')).toEqual(['overwritten']);
      for (const workers of [0, 1, 2]) {
        const { built, waste } = await account(plain, true, workers);
        expect(waste, `${as}, ${workers} workers`).toEqual(all);
        // Only what a comparison needs was hashed: /e's size is its own.
        const e = built.union.lookup('/e')!;
        expect(e.sha256).toBeUndefined();
        expect(built.union.lookup('/a')!.sha256).toBe(sha(X));
        expect(built.union.lookup('/same-size-other')!.sha256).toBe(sha(content('o', K + 200)));
        expect(built.union.lookup('/small')!.sha256).toBe(sha(Buffer.from('tiny')));
      }
    }
  });

  it('a compressed layer: its small files hashed as they stream, its large ones decompressed again only if needed', async () => {
    // The same cases with files of DEFER_MIN_COMPRESSED bytes and more.
    const big = (seed: string, extra: number) => content(seed, DEFER_MIN_COMPRESSED + extra);
    const [x, y, d1, d2, e, f] = [big('x', 1), big('y', 2), big('d1', 3), big('d2', 3), big('e', 4), big('f', 5)];
    const ls = (compression: Compression) => [
      { compression, tar: tar().file('a', x).file('b', y).file('c', x).file('d', d1).file('e', e).file('f', f).hardlink('g', 'f').file('small', X) },
      { compression, tar: tar().file('b', y, { mode: 0o600 }).file('d', d2).file('.wh.f', '').file('k', f) },
    ];
    const at = (compression: Compression) => ociLayout([{ image: image({ layers: ls(compression) }), refName: 'latest' }]).writeTo(path.join(tmp.dir, `big-${compression}-${n++}`));
    const all = (await account(at('none'), false, 0)).waste;
    expect(all.duplicates.map((g) => g.paths)).toEqual(expect.arrayContaining([['/a', '/c'], ['/g', '/k']]));
    for (const compression of ['gzip', 'zstd'] as const) {
      const img = at(compression);
      for (const workers of [0, 2]) {
        const { built, waste } = await account(img, true, workers);
        expect(waste, `${compression}, ${workers} workers`).toEqual(all);
        expect(built.union.lookup('/e')!.sha256).toBeUndefined();
        expect(built.union.lookup('/small')!.sha256).toBe(sha(X));
      }
    }
    // Read again under --no-verify, a layer whose blob digest is wrong is not an error the second
    // time either. (The gzip header's time field: the bytes change, what they inflate to does not.)
    const gz = at('gzip');
    const before = await run(['waste', gz, '--format', 'json']);
    expect(before.code, before.stderr).toBe(0);
    const blobs = path.join(gz, 'blobs', 'sha256');
    const index = JSON.parse(fs.readFileSync(path.join(gz, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    const manifest = JSON.parse(fs.readFileSync(path.join(blobs, index.manifests[0]!.digest.slice(7)), 'utf8')) as { layers: Array<{ digest: string }> };
    const first = path.join(blobs, manifest.layers[0]!.digest.slice(7));
    const bytes = fs.readFileSync(first);
    bytes[4] ^= 0xff;
    fs.writeFileSync(first, bytes);
    const lax = await run(['waste', gz, '--format', 'json', '--no-verify']);
    expect(lax.code, lax.stderr).toBe(0);
    expect(lax.stdout).toBe(before.stdout);
    const strict = await run(['waste', gz, '--format', 'json']);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toMatch(/layer 0 blob digest mismatch/);
  });

  it('analyze, waste and ci give the same figures for the plain copy of an image (deferred) and the gzip one (not)', async () => {
    const plain = write('none', 'docker');
    const gz = write('gzip', 'oci');
    for (const args of [['analyze'], ['waste'], ['waste', '--ignore', '/c', '--top', '0']]) {
      const a = await run([args[0]!, plain, ...args.slice(1), '--format', 'json']);
      const b = await run([args[0]!, gz, ...args.slice(1), '--format', 'json']);
      expect(a.code, a.stderr).toBe(0);
      const w = (r: typeof a) => {
        const j = JSON.parse(r.stdout) as { waste?: unknown };
        return j.waste ?? j;
      };
      expect(w(a), args.join(' ')).toEqual(w(b));
    }
    // A rule file with an ignore list of its own: the ledger for that list settles its digests too.
    const rules = path.join(tmp.dir, 'rules.yml');
    fs.writeFileSync(rules, 'rules:\n  lowestEfficiency: 0.99\n  highestWastedBytes: 1\n  highestUserWastedPercent:\n    limit: 0.01\n    ignore: [/e2]\n');
    const verdicts = async (img: string) => {
      const out = path.join(tmp.dir, `ci-${n++}.json`);
      const r = await run(['ci', img, '--config', rules, '--json', out]);
      expect(r.code, r.stderr).toBe(1);
      return (JSON.parse(fs.readFileSync(out, 'utf8')) as { rules: unknown[] }).rules;
    };
    expect(await verdicts(plain)).toEqual(await verdicts(gz));
  });

  it('a file cut short after the layer was read: a one-line error, no digest made up', async () => {
    const file = path.join(tmp.dir, 'cut');
    fs.writeFileSync(file, content('c', 3 * K));
    const d = new DeferredContents(true);
    const layer = { index: 0, locate: () => ({ path: file, start: 0, length: 3 * K }) } as unknown as Parameters<DeferredContents['note']>[0];
    d.note(layer, { ordinal: 0, path: 'x', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 2 * K, linkname: '', devMajor: 0, devMinor: 0, contentAt: K });
    d.layerRead(layer, 'none');
    expect([...(await d.digests([0])).values()].map((v) => Buffer.from(v, 'latin1').toString('hex'))).toEqual([sha(content('c', 3 * K).subarray(K))]);
    fs.truncateSync(file, K + 10);
    await expect(d.digests([0])).rejects.toThrow(LayerlensError);
    await expect(d.digests([0])).rejects.toThrow(/changed while it was being read/);
  });
});

describe('files left unhashed (hashFiles: false)', () => {
  const everything = (built: Awaited<ReturnType<typeof buildUnion>>) =>
    flatten(built.union).map((r) => ({ ...r, sha256: null }));

  it('the union is the one hashing gives, without a single file digest, in one thread or in workers', async () => {
    for (const compression of ['none', 'gzip'] as const) {
      const img = write(compression, 'oci');
      const { image: im, file } = await openImage(img);
      try {
        const hashed = await buildUnion(im.layers, { verify: true, file: im.file, workers: 0 });
        // What the comparison below must see: files, a hard link, a whiteout, their digests.
        expect(hashed.union.lookup('/a')!.sha256).toBe(sha(X));
        expect(hashed.union.lookup('/f')).toBeUndefined();
        for (const workers of [0, 2]) {
          const bare = await buildUnion(im.layers, { verify: true, file: im.file, workers, hashFiles: false });
          expect(everything(bare), `${compression}, ${workers} workers`).toEqual(everything(hashed));
          const files = [...bare.union.root.descendants()].filter((n) => n.type === 'file');
          expect(files.length).toBeGreaterThan(5);
          expect(files.filter((n) => n.sha256 !== undefined).map((n) => n.path)).toEqual([]);
          // The layers' own digests are checked all the same.
          expect(bare.scans.map((s) => s.diffId)).toEqual(hashed.scans.map((s) => s.diffId));
        }
      } finally {
        await file.close();
      }
    }
  });

  it('tree and cat show what they showed; tree --flat lists digests and --changes sees a rewrite of the same size', async () => {
    const img = write('gzip', 'docker');
    const tree = await run(['tree', img, '--format', 'json']);
    expect(tree.code, tree.stderr).toBe(0);
    expect(JSON.stringify(JSON.parse(tree.stdout))).toContain('"name":"same-size-other"');
    const flat = parseJson<Array<{ path: string; sha256: string | null }>>(await run(['tree', img, '--flat', '--format', 'json']));
    expect(flat.find((r) => r.path === '/a')!.sha256).toBe(sha(X));
    // /d is written over in layer 1 by other content of its size: only its digest tells.
    const changes = await run(['tree', img, '--layer', '1', '--changes', '--format', 'json']);
    expect(changes.code, changes.stderr).toBe(0);
    const find = (v: { path: string; change?: string; children?: unknown[] }, p: string): { change?: string } | undefined =>
      v.path === p ? v : (v.children as (typeof v)[] | undefined)?.map((c) => find(c, p)).find(Boolean);
    expect(find(JSON.parse(changes.stdout), '/d')?.change).toMatch(/content/);
    const cat = await run(['cat', img, '/small']);
    expect(cat.code, cat.stderr).toBe(0);
    expect(cat.stdout).toBe('tiny');
  });
});
