// Reading an image's layers into the union: each layer is scanned once (verified, hashed), its
// entries gathered with each file's sha256, then applied on top of the layers below.
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
}

export interface UnionResult {
  union: Union;
  scans: LayerScan[];
  changeSets: ChangeSet[];
}

const EMPTY_SHA256 = createHash('sha256').digest('hex');

/** Scan one layer and return its entries, each regular file's content hashed in passing. */
export async function readLayerEntries(layer: Layer, verify: boolean, file?: string): Promise<{ scan: LayerScan; entries: LayerEntry[] }> {
  const entries: LayerEntry[] = [];
  const scan = await scanLayer(layer, {
    verify,
    file,
    onEntry: (t: TarEntry) => {
      const e: LayerEntry = {
        ordinal: entries.length,
        path: t.path,
        type: t.type,
        mode: t.mode,
        uid: t.uid,
        gid: t.gid,
        mtime: t.mtime,
        size: t.type === 'file' ? (t.sparseRealSize ?? t.size) : 0,
        linkname: t.linkname,
        devMajor: t.devMajor,
        devMinor: t.devMinor,
        xattrs: t.xattrs,
      };
      entries.push(e);
      if (t.type !== 'file') return;
      if (t.size === 0 && t.sparseRealSize === undefined) {
        e.sha256 = EMPTY_SHA256;
        return;
      }
      // Sparse files are stored without their holes: their stored bytes are not the content.
      if (t.sparseRealSize !== undefined) return;
      const hash = createHash('sha256');
      return {
        data: (chunk) => hash.update(chunk),
        end: () => {
          e.sha256 = hash.digest('hex');
        },
      };
    },
  });
  return { scan, entries };
}

export async function buildUnion(layers: Layer[], options: BuildOptions): Promise<UnionResult> {
  const union = new Union();
  const scans: LayerScan[] = [];
  const changeSets: ChangeSet[] = [];
  const last = options.upTo ?? layers.length - 1;
  for (const layer of layers.slice(0, last + 1)) {
    const { scan, entries } = await readLayerEntries(layer, options.verify, options.file);
    const changes = union.apply(entries, layer.index);
    scans.push(scan);
    changeSets.push(changes);
    options.onLayer?.(scan, changes);
  }
  return { union, scans, changeSets };
}
