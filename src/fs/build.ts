// Reading an image's layers into the union: each layer is scanned once (verified, hashed), and
// its entries applied on top of the layers below as they stream past, each file's sha256 set
// when its content has gone by.
import { createHash } from 'node:crypto';
import { Budget, resolveLimits, type Limits } from '../image/limits.js';
import type { Layer } from '../image/model.js';
import { scanLayer, type LayerScan, type ScanOptions } from '../layer/scan.js';
import type { TarEntry } from '../layer/tar-reader.js';
import type { ChangeSet } from './changes.js';
import type { LayerEntry } from './entry.js';
import type { BuildObserver, UnionObserver } from './observe.js';
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
}

export interface UnionResult {
  union: Union;
  scans: LayerScan[];
  changeSets: ChangeSet[];
}

const EMPTY_SHA256 = createHash('sha256').digest();

/**
 * What a visitor wants of a regular file's content: the digest when it is known, and
 * optionally the bytes themselves as they stream past (for the few files a command keeps).
 */
export type EntryVisit = ((sha256: Buffer) => void) | { data(chunk: Buffer): void; done(sha256: Buffer): void } | void;

/**
 * Scan one layer, handing each entry to `visit` as it streams past. Each regular file's
 * content is hashed on the way; `visit` may return a function that receives the digest, or a
 * sink that also receives the content.
 */
export async function scanLayerEntries(
  layer: Layer,
  verify: boolean,
  file: string | undefined,
  visit: (e: LayerEntry) => EntryVisit,
  scan: Pick<ScanOptions, 'limits' | 'budget' | 'onProgress'> = {},
): Promise<LayerScan> {
  let ordinal = 0;
  return scanLayer(layer, {
    verify,
    file,
    limits: scan.limits,
    budget: scan.budget,
    onProgress: scan.onProgress,
    onEntry: (t: TarEntry) => {
      const e: LayerEntry = {
        ordinal: ordinal++,
        path: t.path,
        type: t.type,
        mode: t.mode,
        uid: t.uid,
        gid: t.gid,
        mtime: t.mtime,
        size: t.type === 'file' ? t.size : 0,
        linkname: t.linkname,
        devMajor: t.devMajor,
        devMinor: t.devMinor,
        xattrs: t.xattrs,
        tarSize: t.size,
      };
      const visited = visit(e);
      if (t.type !== 'file') return;
      const hashed = typeof visited === 'function' ? visited : visited?.done;
      const keep = typeof visited === 'object' ? visited : undefined;
      if (t.size === 0) {
        e.sha256 = EMPTY_SHA256.toString('hex');
        hashed?.(EMPTY_SHA256);
        return;
      }
      // A sparse file's content reaches the sink expanded (holes as zeros), so its sha256 is
      // that of the file as extracted.
      const hash = createHash('sha256');
      return {
        data: keep
          ? (chunk) => {
              hash.update(chunk);
              keep.data(chunk);
            }
          : (chunk) => hash.update(chunk),
        end: () => {
          const digest = hash.digest();
          e.sha256 = digest.toString('hex');
          hashed?.(digest);
        },
      };
    },
  });
}

/** Scan one layer and return all its entries, each regular file's content hashed in passing. */
export async function readLayerEntries(layer: Layer, verify: boolean, file?: string): Promise<{ scan: LayerScan; entries: LayerEntry[] }> {
  const entries: LayerEntry[] = [];
  const scan = await scanLayerEntries(layer, verify, file, (e) => {
    entries.push(e);
  });
  return { scan, entries };
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
  for (const layer of layers.slice(0, last + 1)) {
    // Entries are applied as they stream past: a layer's entries are never all held at once.
    const keep = options.keepChanges?.(layer.index) ?? true;
    const applier = union.beginLayer(layer.index, keep);
    for (const o of observers) o.beginLayer?.(layer.index);
    const scan = await scanLayerEntries(layer, options.verify, options.file, (e) => {
      const node = applier.add(e);
      for (const o of observers) o.entry?.(e, node);
      if (node && e.type === 'file') return (digest) => (node.digest = digest.toString('latin1'));
    }, { budget, onProgress: options.onProgress && ((bytes) => options.onProgress!(layer, bytes)) });
    const changes = applier.finish();
    for (const o of observers) o.endLayer?.(layer.index);
    scans.push(scan);
    changeSets.push(changes);
    options.onLayer?.(scan, changes, union);
  }
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
