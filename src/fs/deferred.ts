// Content digests left for later. Reading a layer, its tar is hashed for the diff_id anyway;
// hashing each large file's bytes a second time, for a digest that is almost never looked at,
// costs as much again (an uncompressed layer) or a third more (a compressed one). With `defer`
// (fs/build.ts), such files are noted by where their bytes lie in the layer's tar instead, and
// once the union is built, only the digests a comparison can need are computed: the files that
// share their size with another visible file (duplicates), and those the build's watchers ask
// for (a copy replaced by content of the same size: metadata-only or not). An uncompressed
// layer's bytes are read again by offset; a compressed layer is read, verified and decompressed
// again, once for all its files that are needed.
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import { LayerlensError } from '../image/errors.js';
import type { Limits } from '../image/limits.js';
import type { Layer } from '../image/model.js';
import type { Compression } from '../layer/compression.js';
import { scanLayer } from '../layer/scan.js';
import type { LayerEntry } from './entry.js';
import { oneShotSha256 } from './layer-entries.js';
import { contentKey } from './ledger.js';
import type { FsNode } from './node.js';
import type { BuildObserver } from './observe.js';
import type { Union } from './union.js';

/** Read size when hashing a content again. */
const CHUNK = 1024 * 1024;

const layerOf = (key: number) => Math.floor(key / 4294967296);
const ordinalOf = (key: number) => key % 4294967296;

/** The contents left unhashed in a build, by content key (fs/ledger.ts `contentKey`). */
export class DeferredContents {
  private readonly offsets = new Map<number, number>();
  private readonly sizes = new Map<number, number>();
  private readonly layers = new Map<number, { layer: Layer; compression?: Compression }>();
  /** The size of the smallest content left unhashed. */
  smallest = Infinity;

  /** `verify` and `limits`: the build's, for reading a layer again (--no-verify holds there too). */
  constructor(
    private readonly verify: boolean,
    private readonly limits?: Partial<Limits>,
  ) {}

  /** How many contents were left unhashed. */
  get count(): number {
    return this.offsets.size;
  }

  /** Entry `e` of `layer` was left unhashed (`e.contentAt` is set). */
  note(layer: Layer, e: LayerEntry): void {
    if (e.contentAt === undefined) return;
    if (!this.layers.has(layer.index)) this.layers.set(layer.index, { layer });
    const key = contentKey(layer.index, e.ordinal);
    this.offsets.set(key, e.contentAt);
    this.sizes.set(key, e.size);
    this.smallest = Math.min(this.smallest, e.size);
  }

  /** `layer` has been read: how it is stored says how to read its files again. */
  layerRead(layer: Layer, compression: Compression): void {
    const l = this.layers.get(layer.index);
    if (l) l.compression = compression;
  }

  has(key: number): boolean {
    return this.offsets.has(key);
  }

  /** The sha256 of each of `keys` that was left unhashed, as 32 raw bytes in a latin1 string. */
  async digests(keys: Iterable<number>): Promise<Map<number, string>> {
    const byLayer = new Map<number, number[]>();
    for (const k of new Set(keys)) {
      if (!this.offsets.has(k)) continue;
      const l = layerOf(k);
      const list = byLayer.get(l);
      if (list) list.push(k);
      else byLayer.set(l, [k]);
    }
    const out = new Map<number, string>();
    for (const [index, wanted] of byLayer) {
      const { layer, compression } = this.layers.get(index)!;
      const where = layer.locate?.();
      if (compression === 'none' && where) {
        // In file order: reads moving forward.
        wanted.sort((a, b) => this.offsets.get(a)! - this.offsets.get(b)!);
        const name = where.path ?? 'the image';
        const fd = where.fd ?? openAgain(where.path!);
        try {
          const buffer = Buffer.allocUnsafe(CHUNK);
          for (const key of wanted) out.set(key, hashRange(fd, where.start + this.offsets.get(key)!, this.sizes.get(key)!, buffer, name).toString('latin1'));
        } finally {
          if (where.fd === undefined) fs.closeSync(fd);
        }
      } else {
        await this.readAgain(layer, wanted, out);
      }
    }
    return out;
  }

  /** Decompress `layer` again (verified again, unless the build was not), hashing the files of `keys` as they pass. */
  private async readAgain(layer: Layer, keys: number[], out: Map<number, string>): Promise<void> {
    const wanted = new Map(keys.map((k) => [ordinalOf(k), k]));
    let ordinal = 0;
    await scanLayer(layer, {
      verify: this.verify,
      limits: this.limits,
      onEntry: () => {
        const key = wanted.get(ordinal++);
        if (key === undefined) return;
        const hash = createHash('sha256');
        return { data: (chunk: Buffer) => void hash.update(chunk), end: () => void out.set(key, hash.digest().toString('latin1')) };
      },
    });
  }
}

function openAgain(file: string): number {
  try {
    return fs.openSync(file, 'r');
  } catch (e) {
    throw new LayerlensError('io', `cannot open ${file} again to hash a file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * sha256 of `size` bytes of `fd` from `offset`. Read in this thread, synchronously: the build
 * is over, nothing else waits, and a read from the page cache returns at once (an fs.read per
 * piece through the thread pool took 180 ms where this takes 50 for debian-big's 46 MB).
 */
function hashRange(fd: number, offset: number, size: number, buffer: Buffer, name: string): Buffer {
  const read = (at: number, want: number) => {
    try {
      return fs.readSync(fd, buffer, 0, want, at);
    } catch (e) {
      throw new LayerlensError('io', `${name}: ${(e as Error).message}`);
    }
  };
  let hash: Hash | undefined;
  let done = 0;
  while (done < size) {
    const want = Math.min(CHUNK, size - done);
    const n = read(offset + done, want);
    // The bytes were all there a moment ago, when the layer was read and verified.
    if (n === 0) throw new LayerlensError('io', `${name} changed while it was being read (shorter than before)`);
    if (n === size) return oneShotSha256(buffer.subarray(0, n));
    (hash ??= createHash('sha256')).update(buffer.subarray(0, n));
    done += n;
  }
  return (hash ?? createHash('sha256')).digest();
}

/**
 * After a build that deferred: compute the digests that matter and put them on the nodes of the
 * final tree (hard links included), then tell the watchers. A digest no one compares stays unset.
 */
export async function settleDeferred(union: Union, deferred: DeferredContents, observers: BuildObserver[]): Promise<void> {
  if (deferred.count === 0) return;
  // Distinct contents by size, among the visible files large enough to have been deferred.
  const bySize = new Map<number, number[]>();
  walkFiles(union.root, (n, key) => {
    if (n.size < deferred.smallest) return;
    const same = bySize.get(n.size);
    if (!same) bySize.set(n.size, [key]);
    else if (!same.includes(key)) same.push(key);
  });
  const wanted: number[] = [];
  for (const keys of bySize.values()) if (keys.length > 1) for (const k of keys) if (deferred.has(k)) wanted.push(k);
  for (const o of observers) if (o.digestsWanted) for (const k of o.digestsWanted()) if (deferred.has(k)) wanted.push(k);
  const digests = await deferred.digests(wanted);
  if (digests.size > 0) {
    walkFiles(union.root, (n, key) => {
      if (n.digest === undefined) n.digest = digests.get(key);
    });
  }
  for (const o of observers) o.digestsSettled?.((k) => digests.get(k));
}

/** Every regular file under `root` (hard links included), with its content key. */
function walkFiles(root: FsNode, visit: (n: FsNode, key: number) => void): void {
  const stack: FsNode[] = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (n.children) {
      for (const c of n.children.values()) stack.push(c);
      continue;
    }
    if (n.type !== 'file' || n.size === 0) continue;
    const c = n.content!;
    visit(n, contentKey(c.layer, c.entry));
  }
}
