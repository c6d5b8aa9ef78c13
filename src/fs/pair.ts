// Two images' union filesystems, built together so that what they share is read once: the
// leading layers with equal diff_ids are applied to one union, which is then cloned and
// continued for each side; a later layer that both images hold (a common subsequence of
// diff_ids, as when a rebuilt base keeps an identical COPY layer on top) is also read once and
// applied to both unions in the same pass. A few files' contents (package databases) can be
// kept as they stream past, so that reading them costs no second pass over any layer.
import { Budget, resolveLimits, type Limits } from '../image/limits.js';
import type { Layer } from '../image/model.js';
import type { LayerScan } from '../layer/scan.js';
import type { LayerEntry } from './entry.js';
import { ContentCopy, type ContentSink } from './layer-entries.js';
import { feedLayers, type FeedOptions } from './layer-feed.js';
import type { FsNode } from './node.js';
import { joinPath, splitPath } from './path.js';
import { Union } from './union.js';

/** Contents kept while building, by where their bytes are: `layer:entry` (see `contentKey`). */
export type KeptContents = Map<string, { path: string; data: Buffer }>;

export function contentKey(layer: number, entry: number): string {
  return `${layer}:${entry}`;
}

export interface PairSide {
  union: Union;
  /** Uncompressed bytes of each layer (known for every layer, read on this side or the other). */
  layerSizes: number[];
  /** Where each layer was read: 'self', or 'other' when the other image's copy was read instead. */
  readFrom: Array<'self' | 'other'>;
  /** Scans of the layers read from this side's own blobs. */
  scans: LayerScan[];
  kept: KeptContents;
}

export interface PairResult {
  a: PairSide;
  b: PairSide;
  /** Leading layers with equal diff_ids, applied once to a union both sides started from. */
  sharedPrefix: number;
  /** Later layers held by both (index in A, index in B), read once for both. */
  sharedLater: Array<[number, number]>;
  /** Every layer blob read, in order: which side's copy, its index there, and its stored bytes. */
  reads: Array<{ side: 'a' | 'b'; index: number; bytes: number }>;
}

export interface PairOptions {
  verify: boolean;
  fileA?: string;
  fileB?: string;
  /** Keep the content of regular files at these paths (cleaned, absolute) as they stream past. */
  keep?: (path: string, size: number) => boolean;
  /**
   * The tar names of every path `keep` may accept match this (it may match more): a layer read
   * in a worker thread keeps the content of such files for `keep` to decide on. Without it, what
   * a worker read is not kept, and is left to be read again.
   */
  keepNames?: RegExp;
  /** Largest file kept (default 64 MiB); larger ones are left to be read on demand. */
  maxKeepBytes?: number;
  /**
   * Most bytes each side keeps at once (default 256 MiB): a file that would pass it is not kept
   * (left to be read on demand), so that an image of many large files at kept paths cannot take
   * the memory whole.
   */
  maxKeepTotal?: number;
  /** Safety limits; bytes and entries are counted over every layer read, for both images. */
  limits?: Partial<Limits>;
  /** Worker threads to read the layers with (fs/layer-feed.ts); default: chosen by the layers' size and the cores. */
  workers?: number;
}

export const DEFAULT_MAX_KEEP = 64 * 1024 * 1024;
export const DEFAULT_MAX_KEEP_TOTAL = 256 * 1024 * 1024;

/** Longest common subsequence of two diff_id lists, as index pairs. */
export function commonLayers(a: Array<string | undefined>, b: Array<string | undefined>): Array<[number, number]> {
  const n = a.length;
  const m = b.length;
  const len: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      len[i]![j] = a[i] !== undefined && a[i] === b[j] ? len[i + 1]![j + 1]! + 1 : Math.max(len[i + 1]![j]!, len[i]![j + 1]!);
    }
  }
  const out: Array<[number, number]> = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] !== undefined && a[i] === b[j]) {
      out.push([i++, j++]);
    } else if (len[i + 1]![j]! >= len[i]![j + 1]!) {
      i++;
    } else {
      j++;
    }
  }
  return out;
}

/**
 * Of two copies of one layer (same diff_id), the one cheaper to read: the larger blob, which is
 * the less compressed (an uncompressed one needs no decoding at all); A on a tie.
 */
function cheaper(a: Layer, b: Layer): 'a' | 'b' {
  return b.size > a.size ? 'b' : 'a';
}

/** One layer to read and the unions it is applied to: A's at `a`, B's at `b` (its index there). */
interface Read {
  layer: Layer;
  from: 'a' | 'b';
  a?: number;
  b?: number;
}

export async function buildUnionPair(layersA: Layer[], layersB: Layer[], options: PairOptions): Promise<PairResult> {
  const maxKeep = options.maxKeepBytes ?? DEFAULT_MAX_KEEP;
  const maxKeepTotal = options.maxKeepTotal ?? DEFAULT_MAX_KEEP_TOTAL;
  const limits = resolveLimits(options.limits);
  const budget = new Budget(limits);
  const reads: PairResult['reads'] = [];
  const scansRead = { a: [] as LayerScan[], b: [] as LayerScan[] };
  const sizes = { a: new Array<number>(layersA.length).fill(0), b: new Array<number>(layersB.length).fill(0) };

  // What to read, in order: the shared base (applied once, to A's union, which B's then copies),
  // then each side's own layers and, in their places, the later layers both hold (read once,
  // applied to both).
  const idsA = layersA.map((l) => l.diffId);
  const idsB = layersB.map((l) => l.diffId);
  let k = 0;
  while (k < layersA.length && k < layersB.length && idsA[k] !== undefined && idsA[k] === idsB[k]) k++;
  const plan: Read[] = [];
  for (let i = 0; i < k; i++) {
    const from = cheaper(layersA[i]!, layersB[i]!);
    plan.push({ layer: from === 'a' ? layersA[i]! : layersB[i]!, from, a: i });
  }
  const parts = k < layersA.length || k < layersB.length;
  const sharedLater: Array<[number, number]> = [];
  if (parts) {
    const matches = commonLayers(idsA.slice(k), idsB.slice(k)).map(([i, j]): [number, number] => [i + k, j + k]);
    let i = k;
    let j = k;
    for (const [mi, mj] of matches) {
      for (; i < mi; i++) plan.push({ layer: layersA[i]!, from: 'a', a: i });
      for (; j < mj; j++) plan.push({ layer: layersB[j]!, from: 'b', b: j });
      const from = cheaper(layersA[mi]!, layersB[mj]!);
      plan.push({ layer: from === 'a' ? layersA[mi]! : layersB[mj]!, from, a: mi, b: mj });
      sharedLater.push([mi, mj]);
      i = mi + 1;
      j = mj + 1;
    }
    for (; i < layersA.length; i++) plan.push({ layer: layersA[i]!, from: 'a', a: i });
    for (; j < layersB.length; j++) plan.push({ layer: layersB[j]!, from: 'b', b: j });
  }

  const unionA = new Union();
  unionA.limits = limits;
  const keptA: KeptContents = new Map();
  let unionB = unionA;
  let keptB = keptA;
  interface Target {
    union: Union;
    kept: KeptContents;
    index: number;
    side: 'a' | 'b';
    applier: ReturnType<Union['beginLayer']>;
  }
  let position = 0;
  let targets: Target[] = [];
  const target = (union: Union, kept: KeptContents, index: number, side: 'a' | 'b'): Target => ({ union, kept, index, side, applier: union.beginLayer(index, false) });
  /** The bytes each side keeps now. */
  const keptBytes = new Map<KeptContents, number>([[keptA, 0]]);
  /** Keep `data` for each target where entry `e` made a node (`nodes`, by target), while the side has room. */
  const keepContent = (e: LayerEntry, nodes: Array<FsNode | undefined>, path: string, data: Buffer) => {
    targets.forEach((t, i) => {
      const held = keptBytes.get(t.kept)!;
      if (!nodes[i] || held + data.length > maxKeepTotal) return;
      t.kept.set(contentKey(t.index, e.ordinal), { path, data });
      keptBytes.set(t.kept, held + data.length);
    });
  };
  const feed: FeedOptions = {
    verify: options.verify,
    file: options.fileA,
    files: plan.map((r) => (r.from === 'a' ? options.fileA : options.fileB)),
    workers: options.workers,
    keep: options.keep && options.keepNames && { names: options.keepNames, maxBytes: maxKeep },
  };
  // Read side by side in worker threads where the layers lie in files (fs/layer-feed.ts), each
  // applied here in the plan's order.
  await feedLayers(plan.map((r) => r.layer), feed, budget, {
    begin: () => {
      const r = plan[position]!;
      if (position === k && parts) {
        // The two part here: B continues on a copy.
        unionB = unionA.clone();
        keptB = new Map(keptA);
        keptBytes.set(keptB, keptBytes.get(keptA)!);
      }
      targets = [];
      if (r.a !== undefined) targets.push(target(unionA, keptA, r.a, 'a'));
      if (r.b !== undefined) targets.push(target(unionB, keptB, r.b, 'b'));
    },
    entry: (e, sha256, content): ((sha256: string) => void) | ContentSink | void => {
      const nodes: Array<FsNode | undefined> = targets.map((t) => t.applier.add(e));
      if (e.type !== 'file') return;
      const setDigest = (d: string | undefined) => {
        if (d === undefined) return;
        for (const n of nodes) if (n) n.digest = d;
      };
      if (sha256 !== undefined) {
        // Read by a worker: the digest is here, and the content if its name was one to keep.
        setDigest(sha256);
        if (content === undefined) return;
        const path = joinPath(splitPath(e.path));
        if (options.keep!(path, e.size)) keepContent(e, nodes, path, content);
        return;
      }
      if (!options.keep || e.size > maxKeep) return setDigest;
      const path = joinPath(splitPath(e.path));
      if (!options.keep(path, e.size)) return setDigest;
      const copy = new ContentCopy(e.size);
      return {
        data: (chunk) => copy.data(chunk),
        done: (d) => {
          setDigest(d);
          keepContent(e, nodes, path, copy.buffer());
        },
      };
    },
    end: (layer, scan) => {
      const r = plan[position]!;
      for (const t of targets) t.applier.finish();
      reads.push({ side: r.from, index: layer.index, bytes: scan.compressedSize });
      scansRead[r.from].push(scan);
      for (const t of targets) {
        sizes[t.side][t.index] = scan.size;
        keptBytes.set(t.kept, keptBytes.get(t.kept)! - prune(t.union, t.kept));
      }
      // The shared base is B's too.
      if (position < k) sizes.b[position] = sizes.a[position]!;
      position++;
    },
  });
  const side = (s: 'a' | 'b', union: Union, kept: KeptContents, count: number): PairSide => {
    const scans = scansRead[s].slice().sort((x, y) => x.index - y.index);
    const own = new Set(scans.map((sc) => sc.index));
    return { union, kept, layerSizes: sizes[s], scans, readFrom: Array.from({ length: count }, (_, i) => (own.has(i) ? 'self' : 'other')) };
  };
  return { a: side('a', unionA, keptA, layersA.length), b: side('b', unionB, keptB, layersB.length), sharedPrefix: k, sharedLater, reads };
}

/** Drop kept contents that the union no longer shows at their path; returns their bytes. */
function prune(union: Union, kept: KeptContents): number {
  let freed = 0;
  for (const [key, { path, data }] of kept) {
    let node: FsNode | undefined;
    try {
      node = union.lookup(path);
    } catch {
      node = undefined;
    }
    const c = node?.content;
    if (!c || contentKey(c.layer, c.entry) !== key) {
      kept.delete(key);
      freed += data.length;
    }
  }
  return freed;
}
