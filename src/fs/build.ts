// Reading an image's layers into the union: each layer is scanned once (verified, hashed), and
// its entries applied on top of the layers below as they stream past, each file's sha256 set
// when its content has gone by.
import { Budget, resolveLimits, type Limits } from '../image/limits.js';
import type { Layer } from '../image/model.js';
import type { LayerScan } from '../layer/scan.js';
import type { ChangeSet } from './changes.js';
import type { BuildObserver, UnionObserver } from './observe.js';
import { DeferredContents, settleDeferred } from './deferred.js';
import { feedLayers } from './layer-feed.js';
export { scanLayerEntries, readLayerEntries, type EntryVisit } from './layer-entries.js';
import type { FsNode } from './node.js';
import { Union } from './union.js';

export interface BuildOptions {
  verify: boolean;
  file?: string;
  /** Stop after this layer (0-based); default: the last. */
  upTo?: number;
  /** Told the stored bytes of `layer` read so far, as they are read (for a progress line). */
  onProgress?: (layer: Layer, storedBytes: number) => void;
  /** Called as each layer is done, with the union as that layer left it. */
  onLayer?: (scan: LayerScan, changes: ChangeSet, union: Union) => void;
  /** Which layers' change sets to keep in the result (all by default); the others are dropped to save memory. */
  keepChanges?: (layer: number) => boolean;
  /** Watchers of the build (waste accounting, dive's layer trees), told of each layer, entry and hidden node. */
  observers?: BuildObserver[];
  /** Safety limits (defaults: DEFAULT_LIMITS); bytes and entries are counted over all the layers read. */
  limits?: Partial<Limits>;
  /** Worker threads to read the layers with (fs/layer-feed.ts); default: chosen by the image's size and the cores. */
  workers?: number;
  /**
   * Hash only the file contents a comparison needs (fs/deferred.ts): a large file (16 KiB in an
   * uncompressed layer, 4 MiB in a compressed one) then has no digest unless another visible
   * file has its size or it replaced a copy of its size. For waste accounting; listings and
   * diffs want every digest.
   */
  defer?: boolean;
  /**
   * Hash no regular file's content (default: hash every file, or with `defer` those a comparison
   * needs): every file's digest is then undefined, and a file written over by content of its own
   * size counts as unchanged in a change set. For views that show no digest and compare none
   * (`tree` without --flat or --changes, `cat`, `export`): on a 1.6 GB image, reading the files a
   * second time through sha256 is most of the work.
   */
  hashFiles?: boolean;
  /**
   * Let each layer's change records go once `onLayer` has seen them: the result's change sets
   * keep their warnings only. For a command that renders or records each layer as it ends (on
   * 318,000 tar entries, every layer's records held to the end were the peak of `changes`).
   */
  releaseChanges?: boolean;
}

export interface UnionResult {
  union: Union;
  scans: LayerScan[];
  changeSets: ChangeSet[];
}

export async function buildUnion(layers: Layer[], options: BuildOptions): Promise<UnionResult> {
  const limits = resolveLimits(options.limits);
  const union = new Union();
  union.limits = limits;
  const budget = new Budget(limits);
  const scans: LayerScan[] = [];
  const changeSets: ChangeSet[] = [];
  const last = options.upTo ?? layers.length - 1;
  const observers = options.observers ?? [];
  union.observer = unionObserver(observers);
  let applier: ReturnType<Union['beginLayer']> | undefined;
  let current: Layer | undefined;
  const deferred = options.defer ? new DeferredContents(options.verify, limits) : undefined;
  // The file whose digest is awaited (read in this thread: it comes once the content has gone
  // by, before the next entry), and one function that sets it: not a closure per file.
  let hashing: FsNode | undefined;
  const setDigest = (digest: string) => {
    hashing!.digest = digest;
  };
  await feedLayers(layers.slice(0, last + 1), { verify: options.verify, file: options.file, onProgress: options.onProgress, workers: options.workers, defer: options.defer, hashFiles: options.hashFiles }, budget, {
    begin: (layer) => {
      current = layer;
      // Entries are applied as they stream past: a layer's entries are never all held at once.
      applier = union.beginLayer(layer.index, options.keepChanges?.(layer.index) ?? true);
      for (const o of observers) o.beginLayer?.(layer.index);
    },
    entry: (e, sha256) => {
      const node = applier!.add(e);
      // (An index loop: once per entry, and for...of made an iterator each time.)
      for (let i = 0; i < observers.length; i++) observers[i]!.entry?.(e, node);
      if (e.contentAt !== undefined && node) deferred!.note(current!, e);
      if (node && e.type === 'file') {
        if (sha256 !== undefined) node.digest = sha256;
        else if (e.contentAt === undefined) {
          hashing = node;
          return setDigest;
        }
      }
    },
    end: (layer, scan) => {
      const changes = applier!.finish();
      deferred?.layerRead(layer, scan.compression);
      for (const o of observers) o.endLayer?.(layer.index);
      scans.push(scan);
      changeSets.push(changes);
      options.onLayer?.(scan, changes, union);
      if (options.releaseChanges) changes.changes = [];
    },
  });
  if (deferred) await settleDeferred(union, deferred, observers);
  return { union, scans, changeSets };
}

/** The union hooks of the observers, as one. */
function unionObserver(observers: BuildObserver[]): UnionObserver | undefined {
  const all = observers.flatMap((o) => (o.union ? [o.union] : []));
  if (all.length <= 1) return all[0];
  return {
    removed: (node, layer, via) => all.forEach((o) => o.removed(node, layer, via)),
    replaced: (old, now, layer) => all.forEach((o) => o.replaced(old, now, layer)),
  };
}
