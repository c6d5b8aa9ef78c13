// Reading an image's layers into the union: each layer is scanned once (verified, hashed), and
// its entries applied on top of the layers below as they stream past, each file's sha256 set
// when its content has gone by.
import { createHash } from 'node:crypto';
import type { Layer } from '../image/model.js';
import { scanLayer, type LayerScan } from '../layer/scan.js';
import type { TarEntry } from '../layer/tar-reader.js';
import type { ChangeSet } from './changes.js';
import type { LayerEntry } from './entry.js';
import { Union } from './union.js';

export interface BuildOptions {
  verify: boolean;
  file?: string;
  /** Stop after this layer (0-based); default: the last. */
  upTo?: number;
  onLayer?: (scan: LayerScan, changes: ChangeSet) => void;
  /** Which layers' change sets to keep in the result (all by default); the others are dropped to save memory. */
  keepChanges?: (layer: number) => boolean;
}

export interface UnionResult {
  union: Union;
  scans: LayerScan[];
  changeSets: ChangeSet[];
}

const EMPTY_SHA256 = createHash('sha256').digest();

/**
 * Scan one layer, handing each entry to `visit` as it streams past. Each regular file's
 * content is hashed on the way; `visit` may return a function that receives the digest.
 */
export async function scanLayerEntries(
  layer: Layer,
  verify: boolean,
  file: string | undefined,
  visit: (e: LayerEntry) => ((sha256: Buffer) => void) | void,
): Promise<LayerScan> {
  let ordinal = 0;
  return scanLayer(layer, {
    verify,
    file,
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
      };
      const hashed = visit(e);
      if (t.type !== 'file') return;
      if (t.size === 0) {
        e.sha256 = EMPTY_SHA256.toString('hex');
        hashed?.(EMPTY_SHA256);
        return;
      }
      // A sparse file's content reaches the sink expanded (holes as zeros), so its sha256 is
      // that of the file as extracted.
      const hash = createHash('sha256');
      return {
        data: (chunk) => hash.update(chunk),
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
  const union = new Union();
  const scans: LayerScan[] = [];
  const changeSets: ChangeSet[] = [];
  const last = options.upTo ?? layers.length - 1;
  for (const layer of layers.slice(0, last + 1)) {
    // Entries are applied as they stream past: a layer's entries are never all held at once.
    const keep = options.keepChanges?.(layer.index) ?? true;
    const applier = union.beginLayer(layer.index, keep);
    const scan = await scanLayerEntries(layer, options.verify, options.file, (e) => {
      const node = applier.add(e);
      if (node && e.type === 'file') return (digest) => (node.digest = digest.toString('latin1'));
    });
    const changes = applier.finish();
    scans.push(scan);
    changeSets.push(changes);
    options.onLayer?.(scan, changes);
  }
  return { union, scans, changeSets };
}
