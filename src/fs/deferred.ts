// Content digests left for later. Reading a layer, its tar is hashed for the diff_id anyway;
// hashing each large file's bytes a second time, for a digest that is almost never looked at,
// costs as much again (an uncompressed layer) or a third more (a compressed one). With `defer`
// (fs/build.ts), such files are noted by where their bytes lie in the layer's tar instead, and
// once the union is built, only the digests a comparison can need are computed: the files that
// share their size with another visible file (duplicates), and those the build's watchers ask
// for (a copy replaced by content of the same size: metadata-only or not). An uncompressed
// layer's bytes are read again by offset; a compressed layer is read, verified and decompressed
// again, once for all its files that are needed.
import { createHash } from 'node:crypto';
import { LayerlensError } from '../image/errors.js';
import type { Limits } from '../image/limits.js';
import type { Layer } from '../image/model.js';
import type { Compression } from '../layer/compression.js';
import { hashLocation, scanLayer } from '../layer/scan.js';
import type { LayerEntry } from './entry.js';
import { contentEntry, contentKey, contentLayer } from './ledger.js';
import type { FsNode } from './node.js';
import type { BuildObserver } from './observe.js';
import type { Union } from './union.js';

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

  /** The sha256 of each of `keys` that was left unhashed (the others are passed over), as 32 raw bytes in a latin1 string. */
  async digests(keys: Iterable<number>): Promise<Map<number, string>> {
    const byLayer = new Map<number, number[]>();
    for (const k of new Set(keys)) {
      if (!this.offsets.has(k)) continue;
      const l = contentLayer(k);
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
        for (const key of wanted) {
          const range = { path: where.path, fd: where.fd, start: where.start + this.offsets.get(key)!, length: this.sizes.get(key)! };
          const digest = await hashLocation(range).catch((e: unknown) => {
            throw readAgainError(e, where.path ?? 'the image');
          });
          out.set(key, digest!.toString('latin1'));
        }
      } else {
        await this.readAgain(layer, wanted, out);
      }
    }
    return out;
  }

  /** Decompress `layer` again (verified again, unless the build was not), hashing the files of `keys` as they pass. */
  private async readAgain(layer: Layer, keys: number[], out: Map<number, string>): Promise<void> {
    const wanted = new Map(keys.map((k) => [contentEntry(k), k]));
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

/** A file that cannot be read again as it was read a moment ago, in one line. */
function readAgainError(e: unknown, name: string): LayerlensError {
  // The bytes were all there when the layer was read and verified.
  if (e instanceof LayerlensError && e.kind === 'truncated') return new LayerlensError('io', `${name} changed while it was being read (shorter than before)`);
  const err = e as NodeJS.ErrnoException;
  return new LayerlensError('io', `cannot read ${name} again to hash a file: ${err.code ?? err.message}`);
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
  for (const keys of bySize.values()) if (keys.length > 1) wanted.push(...keys);
  for (const o of observers) if (o.digestsWanted) wanted.push(...o.digestsWanted());
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
    visit(n, contentKey(n.dataLayer, n.dataEntry));
  }
}
