// Layers read in worker threads (fs/layer-feed.ts, fs/scan-worker.ts) must
// give exactly what reading them in this thread gives: the same union, digests, waste and
// layer rows, the same first error (the lowest broken layer), the same limits over the whole
// pass. LAYERLENS_WORKERS forces the number of threads (0 = none) whatever the image's size.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { forEachEntry, EntryBatcher } from '../src/fs/entry-batch.js';
import { feedLayers } from '../src/fs/layer-feed.js';
import { Budget, resolveLimits } from '../src/image/limits.js';
import type { Layer } from '../src/image/model.js';
import { openImage } from '../src/source/open-image.js';
import type { LayerEntry } from '../src/fs/entry.js';
import { image, ociLayout, tar, tempDir, type Compression } from './helpers/builders.js';
import { run, type RunResult } from './helpers/cli.js';
import { HAS_SHARED, corpus } from './helpers/shared.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const before = process.env.LAYERLENS_WORKERS;
afterEach(() => {
  if (before === undefined) delete process.env.LAYERLENS_WORKERS;
  else process.env.LAYERLENS_WORKERS = before;
});

async function withWorkers(n: number, args: string[]): Promise<RunResult> {
  process.env.LAYERLENS_WORKERS = String(n);
  try {
    return await run(args);
  } finally {
    delete process.env.LAYERLENS_WORKERS;
  }
}

const SAMPLES = path.resolve(import.meta.dirname, '..', 'samples');
const images: string[] = [
  path.join(SAMPLES, 'tiny.docker-archive.tar'),
  path.join(SAMPLES, 'tiny-zstd.oci-archive.tar'),
  `${path.join(SAMPLES, 'app-v1-v2.multi.docker-archive.tar')}:app:v2`,
  path.join(SAMPLES, 'app-oci') + ':v2',
  ...(HAS_SHARED ? [corpus('compression', 'gzip') + ':latest', corpus('compression', 'zstd') + ':latest', corpus('tiny', 'oci') + ':latest', corpus('malformed', 'path-traversal.oci')] : []),
];
const COMMANDS = [
  ['analyze', '--format', 'json'],
  ['tree', '--flat', '--format', 'json'],
  ['layers', '--format', 'json'],
  ['changes', '--format', 'json'],
];

describe('the same answers from worker threads as from one thread', () => {
  it.each(images)('%s', async (img) => {
    for (const [cmd, ...rest] of COMMANDS) {
      const args = [cmd!, img, ...rest];
      const one = await withWorkers(0, args);
      expect(one.code, one.stderr).toBe(0);
      for (const n of [1, 2]) {
        const r = await withWorkers(n, args);
        expect({ args, n, ...r }).toEqual({ args, n, ...one });
      }
    }
  });
});

let count = 0;
/** An OCI layout of these layers; `diffIds` may be given wrong on purpose. */
function layout(layers: Array<{ tar: ReturnType<typeof tar>; compression?: Compression }>, diffIds?: (ids: string[]) => string[]): string {
  let im = image({ layers });
  if (diffIds) im = image({ layers, diffIds: diffIds(im.layers.map((l) => l.diffId)) });
  return ociLayout([{ image: im, refName: 'latest' }]).writeTo(path.join(tmp.dir, `layout-${count++}`));
}

function files(layer: number, n: number): ReturnType<typeof tar> {
  const t = tar().dir(`l${layer}/`);
  for (let i = 0; i < n; i++) t.file(`l${layer}/f${i}`, `layer ${layer} file ${i}\n`.repeat(20));
  return t;
}

describe('errors and limits with several layers in flight', () => {
  it('names the lowest broken layer, though a later one is read (and fails) first', async () => {
    const img = layout(
      [0, 1, 2, 3].map((i) => ({ tar: files(i, 50), compression: 'gzip' as const })),
      (ids) => ids.map((d, i) => (i === 1 || i === 3 ? `sha256:${'0'.repeat(63)}${i}` : d)),
    );
    for (const cmd of ['analyze', 'layers', 'tree']) {
      const one = await withWorkers(0, [cmd, img]);
      expect(one.code).toBe(2);
      expect(one.stderr).toMatch(/layer 1 diff_id mismatch/);
      for (const n of [1, 2, 4]) expect(await withWorkers(n, [cmd, img])).toEqual(one);
    }
  });

  it('a truncated gzip layer under a good one: the same one-line error', async () => {
    const img = layout([0, 1, 2].map((i) => ({ tar: files(i, 30), compression: 'gzip' as const })));
    const one = await withWorkers(0, ['analyze', img, '--no-verify']);
    expect(one.code).toBe(0);
    // Cut the middle layer's blob short (its digest then fails too; --no-verify lets the cut show).
    const fs = await import('node:fs');
    const blobs = path.join(img, 'blobs', 'sha256');
    const index = JSON.parse(fs.readFileSync(path.join(img, 'index.json'), 'utf8'));
    const manifest = JSON.parse(fs.readFileSync(path.join(blobs, index.manifests[0].digest.slice(7)), 'utf8'));
    const middle = path.join(blobs, manifest.layers[1].digest.slice(7));
    fs.writeFileSync(middle, fs.readFileSync(middle).subarray(0, 100));
    const cut = await withWorkers(0, ['analyze', img]);
    expect(cut.code).toBe(2);
    expect(cut.stderr.trimEnd().split('\n')).toHaveLength(1);
    for (const n of [1, 2, 3]) expect(await withWorkers(n, ['analyze', img])).toEqual(cut);
  });

  it('a gzip blob whose digest is wrong: the same error and the same --no-verify listing, whichever thread hashes it', async () => {
    // One worker on two cores leaves the compressed blobs' digests to the main thread.
    const img = layout([0, 1].map((i) => ({ tar: files(i, 20), compression: 'gzip' as const })));
    const fs = await import('node:fs');
    const blobs = path.join(img, 'blobs', 'sha256');
    const index = JSON.parse(fs.readFileSync(path.join(img, 'index.json'), 'utf8'));
    const manifest = JSON.parse(fs.readFileSync(path.join(blobs, index.manifests[0].digest.slice(7)), 'utf8'));
    // The gzip header's time field: the bytes change, what they inflate to does not.
    const second = path.join(blobs, manifest.layers[1].digest.slice(7));
    const bytes = fs.readFileSync(second);
    bytes[4] ^= 0xff;
    fs.writeFileSync(second, bytes);
    for (const args of [['analyze', img], ['layers', img], ['layers', img, '--no-verify', '--format', 'json']]) {
      const one = await withWorkers(0, args);
      expect(one.code, one.stderr).toBe(args.includes('--no-verify') ? 0 : 2);
      expect(one.stderr).toMatch(/layer 1 blob digest mismatch/);
      for (const n of [1, 2]) expect(await withWorkers(n, args)).toEqual(one);
    }
  });

  it('--max-entries and --max-bytes bound the whole pass, counted across threads', async () => {
    const img = layout([0, 1, 2, 3].map((i) => ({ tar: files(i, 10) })));
    for (const n of [0, 2, 4]) {
      const entries = await withWorkers(n, ['analyze', img, '--max-entries', '25']);
      expect(entries.code).toBe(2);
      expect(entries.stderr).toMatch(/^layerlens: error: .*too many tar entries.*\(limit: --max-entries 25\)\n$/);
      const bytes = await withWorkers(n, ['layers', img, '--max-bytes', '20000']);
      expect(bytes.code).toBe(2);
      expect(bytes.stderr).toMatch(/^layerlens: error: .*too much uncompressed data.*\(limit: --max-bytes /);
      expect((await withWorkers(n, ['analyze', img, '--max-entries', '44'])).code).toBe(0);
    }
  });

  it('a blob listed twice is read once by layers, in either mode', async () => {
    const t = files(0, 5);
    const img = layout([{ tar: t }, { tar: t }, { tar: files(1, 5) }]);
    const one = await withWorkers(0, ['layers', img, '--format', 'json']);
    expect(one.code).toBe(0);
    expect(await withWorkers(2, ['layers', img, '--format', 'json'])).toEqual(one);
  });
});

describe('the order layers are read in', () => {
  it('the next to apply first, then the largest: the small ones fill in at the end', async () => {
    const sizes = [3, 1, 40, 2, 80, 5];
    const img = layout(sizes.map((n, i) => ({ tar: files(i, n) })));
    const { image: im, file } = await openImage(img);
    try {
      const started: number[] = [];
      const applied: number[] = [];
      const budget = new Budget(resolveLimits());
      const onProgress = (layer: Layer) => {
        if (!started.includes(layer.index)) started.push(layer.index);
      };
      const scans = await feedLayers(im.layers, { verify: true, file: im.file, workers: 1, onProgress }, budget, { entry: () => undefined, end: (l) => applied.push(l.index) });
      // One worker: each layer it takes is the lowest not yet started (the next to apply, when it
      // is not started) or the largest not yet started. Layer 0 is done before layer 0 is applied,
      // so the second is the largest.
      expect([...started].sort()).toEqual([0, 1, 2, 3, 4, 5]);
      expect(started.slice(0, 2)).toEqual([0, 4]);
      started.forEach((layer, k) => {
        const left = started.slice(k);
        const largest = left.reduce((a, b) => (sizes[b]! > sizes[a]! ? b : a));
        expect([largest, Math.min(...left)]).toContain(layer);
      });
      expect(applied).toEqual([0, 1, 2, 3, 4, 5]);
      expect(scans.map((s) => s.index)).toEqual([0, 1, 2, 3, 4, 5]);
    } finally {
      await file.close();
    }
  });
});

describe('the backlog: entries read ahead and not yet applied', () => {
  // A visitor that is slow on layer 0 (1.5 s), while layer 1 (20,000 files) is read meanwhile:
  // long enough for a reader that starts late on a loaded machine (300 ms was not, once in CI:
  // the unbounded case then saw layer 1 applied as it came and never waiting whole).
  const sleep = new Int32Array(new SharedArrayBuffer(4));
  const img = () => {
    const many = tar();
    for (let i = 0; i < 20000; i++) many.file(`m/${i}`, '');
    return layout([{ tar: files(0, 300) }, { tar: many }]);
  };
  async function feed(file: string, backlogBytes: number): Promise<{ max: number; entries: number[] }> {
    const { image: im, file: handle } = await openImage(file);
    try {
      let max = 0;
      const entries = [0, 0];
      let layer = 0;
      await feedLayers(im.layers, { verify: true, file: im.file, workers: 2, backlogBytes, onBacklog: (b) => (max = Math.max(max, b)) }, new Budget(resolveLimits()), {
        begin: (l) => (layer = l.index),
        entry: () => {
          if (layer === 0 && entries[0]! % 10 === 0) Atomics.wait(sleep, 0, 0, 50);
          entries[layer]!++;
        },
      });
      return { max, entries };
    } finally {
      await handle.close();
    }
  }

  it('stays within its limit, a layer read ahead stopping in its middle', async () => {
    const file = img();
    // Without a limit that matters, the whole of layer 1 waits while layer 0 is applied...
    const free = await feed(file, 1 << 30);
    expect(free.entries).toEqual([301, 20000]);
    expect(free.max).toBeGreaterThan(2e6);
    // ... with one, the reader stops once past it (a batch over it at most, per reader).
    const bounded = await feed(file, 64 * 1024);
    expect(bounded.entries).toEqual([301, 20000]);
    expect(bounded.max).toBeLessThan(1.2e6);
  });

  it('lets a stopped reader go on only once the batches are down to half the limit', async () => {
    // A reader posting 1 KiB batches against an 8 KiB limit, while this thread applies them one
    // at a time: each time the reader had stopped, it notes how much was waiting as it went on.
    // Both threads use the built module (the reader cannot load the source).
    const module = pathToFileURL(path.resolve(import.meta.dirname, '..', 'dist', 'fs', 'backlog.js')).href;
    const { Backlog } = (await import(module)) as typeof import('../src/fs/backlog.js');
    const backlog = Backlog.forLayers(1, 8 * 1024);
    const script = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.module).then(({ Backlog }) => {
        const backlog = new Backlog(workerData.shared, 8 * 1024);
        const resumedAt = [];
        for (let i = 0; i < 64; i++) {
          backlog.posted(0, 1024);
          const stops = backlog.bytes > 8 * 1024;
          backlog.waitTurn(0);
          if (stops) resumedAt.push(backlog.bytes);
        }
        parentPort.postMessage(resumedAt);
      });
    `;
    const reader = new Worker(script, { eval: true, workerData: { module, shared: backlog.shared } });
    const resumed = new Promise<number[]>((resolve) => reader.once('message', resolve));
    backlog.apply(0, true);
    for (let applied = 0; applied < 64; ) {
      if (backlog.bytes === 0) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        continue;
      }
      backlog.applied(0, 1024);
      applied++;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    const resumedAt = await resumed;
    await reader.terminate();
    // It stopped many times (64 batches, 8 at a time), and went on each time at half the limit
    // or below; woken at every batch applied, it went on at 8 KiB and stopped again at once.
    expect(resumedAt.length).toBeGreaterThan(4);
    for (const bytes of resumedAt) expect(bytes).toBeLessThanOrEqual(4 * 1024);
  });

  it('never stalls the pass, whichever layers are read ahead', async () => {
    // Largest layers in the middle and at the end, so that readers stop on layers read ahead
    // while the layer to apply next has no reader yet: those must then go on.
    for (const sizes of [[1, 2, 400, 300], [5, 1, 1, 600, 2, 500], [300, 1, 300, 1, 300]]) {
      const file = layout(sizes.map((n, i) => ({ tar: files(i, n) })));
      const { image: im, file: handle } = await openImage(file);
      try {
        for (const workers of [2, 3]) {
          const seen: number[] = sizes.map(() => 0);
          let layer = 0;
          await feedLayers(im.layers, { verify: true, file: im.file, workers, backlogBytes: 1 }, new Budget(resolveLimits()), {
            begin: (l) => (layer = l.index),
            entry: () => void seen[layer]!++,
          });
          expect(seen, `${sizes} ${workers}`).toEqual(sizes.map((n) => n + 1));
        }
      } finally {
        await handle.close();
      }
    }
  });
});

describe('workers with nothing left to read', () => {
  it('end as soon as every layer is handed out, not with the last layer applied', async () => {
    // Layer 2, the largest, is read by one worker while the other reads layers 0 and 1 and then
    // has nothing left: it must be gone while layer 2 is still being read and applied.
    const big = tar();
    for (let i = 0; i < 24; i++) big.file(`big/f${i}`, createHash('sha512').update(String(i)).digest().toString('hex').repeat(8192));
    const img = layout([{ tar: files(0, 3) }, { tar: files(1, 3) }, { tar: big }]);
    const { image: im, file } = await openImage(img);
    let exited = 0;
    const count = (w: import('node:worker_threads').Worker) => w.once('exit', () => exited++);
    process.on('worker', count);
    try {
      let exitedAtEnd = -1;
      const applied: number[] = [];
      await feedLayers(im.layers, { verify: true, file: im.file, workers: 2 }, new Budget(resolveLimits()), {
        entry: () => undefined,
        end: (l) => {
          applied.push(l.index);
          if (l.index === 2) exitedAtEnd = exited;
        },
      });
      expect(applied).toEqual([0, 1, 2]);
      expect(exitedAtEnd).toBe(1);
      // And the one that read the last layer ends with the pass, as before.
      await new Promise((r) => setTimeout(r, 50));
      expect(exited).toBe(2);
    } finally {
      process.off('worker', count);
      await file.close();
    }
  });
});

describe('large files in a layer read by a worker', () => {
  it('a layer of large files: the same listing, each large file in its place among the small ones', async () => {
    // Incompressible content, so that the layer is large as stored too.
    const big = (seed: number) => createHash('sha512').update(String(seed)).digest().toString('hex').repeat(9 * 8192).slice(0, 9 * 1024 * 1024 + seed);
    const t = tar().file('a.txt', 'a').file('big1', big(1)).file('c.txt', 'c').hardlink('link1', 'big1').file('big2', big(2)).dir('d/').file('d/e', 'e');
    for (const compression of ['gzip', 'none'] as const) {
      const img = layout([{ tar: t, compression }]);
      for (const args of [['tree', img, '--flat', '--format', 'json'], ['analyze', img, '--format', 'json']]) {
        const one = await withWorkers(0, args);
        expect(one.code, one.stderr).toBe(0);
        expect(await withWorkers(1, args)).toEqual(one);
      }
      const listing = JSON.parse((await withWorkers(1, ['tree', img, '--flat', '--format', 'json'])).stdout) as Array<{ path: string; sha256: string | null }>;
      expect(listing.find((r) => r.path === '/big2')!.sha256).toBe(createHash('sha256').update(big(2)).digest('hex'));
    }
  });
});

describe('entry batches', () => {
  it('carry every field across, names that are not UTF-8 and xattrs included', () => {
    // Digests travel as their 32 bytes in a latin1 string (bytes above 0x7f included).
    const entries: Array<[LayerEntry, string | undefined]> = [
      [{ ordinal: 0, path: './a\udcffb/', type: 'dir', mode: 0o2755, uid: 2 ** 40, gid: 0, mtime: 1.5, size: 0, linkname: '', devMajor: 0, devMinor: 0, tarSize: 0 }, undefined],
      [
        { ordinal: 1, path: 'a/f', type: 'file', mode: 0o644, uid: 1, gid: 2, mtime: -3, size: 9_000_000_000, linkname: '', devMajor: 0, devMinor: 0, tarSize: 4096, contentAt: 2 ** 40 + 512, xattrs: new Map([['user.x', Buffer.from([0, 1, 2])]]) },
        Buffer.alloc(32, 0xe7).toString('latin1'),
      ],
      [{ ordinal: 2, path: 'a/l', type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 0, size: 0, linkname: '../é/😀', devMajor: 0, devMinor: 0 }, undefined],
      [{ ordinal: 3, path: 'dev/null', type: 'char', mode: 0o666, uid: 0, gid: 0, mtime: 0, size: 0, linkname: '', devMajor: 1, devMinor: 3, tarSize: 0 }, undefined],
      [{ ordinal: 4, path: 'a/h', type: 'hardlink', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 0, linkname: 'a/f', devMajor: 0, devMinor: 0, tarSize: 0 }, undefined],
      [{ ordinal: 5, path: 'a/e', type: 'file', mode: 0o600, uid: 0, gid: 0, mtime: 0, size: 0, linkname: '', devMajor: 0, devMinor: 0, tarSize: 0 }, Buffer.alloc(32, 9).toString('latin1')],
    ];
    const b = new EntryBatcher();
    for (let i = 0; i < 300; i++) for (const [e, d] of entries) b.add({ ...e, ordinal: e.ordinal + i * 10 }, d);
    const batch = b.take();
    expect(b.count).toBe(0);
    const out: Array<[LayerEntry, string | undefined]> = [];
    // The entry object is filled anew for each entry: copies are kept.
    forEachEntry(structuredClone(batch), (e, d) => out.push([{ ...e }, d]));
    expect(out).toHaveLength(1800);
    for (let i = 0; i < out.length; i++) {
      const [e, d] = entries[i % entries.length]!;
      expect(out[i]).toEqual([{ ...e, ordinal: e.ordinal + Math.floor(i / entries.length) * 10 }, d]);
    }
  });

  it('carry names a byte per character where every name of the batch is latin1, else as UTF-16', () => {
    const entry = (ordinal: number, path: string, linkname = ''): LayerEntry => ({ ordinal, path, type: linkname ? 'symlink' : 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 0, linkname, devMajor: 0, devMinor: 0 });
    const round = (names: Array<[string, string?]>) => {
      const b = new EntryBatcher();
      names.forEach(([p, l], i) => b.add(entry(i, p, l), undefined));
      const batch = b.take();
      const out: string[] = [];
      forEachEntry(structuredClone(batch), (e) => out.push(e.path, e.linkname));
      expect(out).toEqual(names.flatMap(([p, l]) => [p, l ?? '']));
      return batch;
    };
    const narrow = round([['usr/bin/ls'], ['café/\u00ff'], ['a/l', '../b\u0000c']]);
    expect(narrow.wide).toBe(false);
    expect(narrow.names.byteLength).toBe('usr/bin/lscafé/\u00ffa/l../b\u0000c'.length);
    const wide = round([['usr/bin/ls'], ['a/€'], ['a/\udcff'], ['a/l', '😀']]);
    expect(wide.wide).toBe(true);
    expect(wide.names.byteLength).toBe(2 * 'usr/bin/lsa/€a/\udcffa/l😀'.length);
  });
});
