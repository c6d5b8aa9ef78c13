// Reading an image's layers, in order, for whoever applies them: in this thread one after the
// other, or in worker threads (fs/scan-worker.ts) several at once. Decompressing and hashing
// are most of the work and each layer's is independent, so on a machine with two or more cores
// the layers are read side by side while this thread applies their entries strictly in layer
// order; a layer read ahead waits, as compact batches, for the ones below it. Errors are
// reported in layer order too, so the first broken layer is the one named.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { LayerlensError } from '../image/errors.js';
import { Budget, resolveLimits, sharedBudgetCounters, type Limits } from '../image/limits.js';
import type { Layer } from '../image/model.js';
import type { Digest } from '../image/digest.js';
import { declaresCompressedLayer } from '../image/mediatypes.js';
import { checkLayerScan, hashBlobAt, scanLayer, type LayerScan } from '../layer/scan.js';
import { scanLayerEntries, type ContentSink } from './layer-entries.js';
import type { LayerEntry } from './entry.js';
import { Backlog } from './backlog.js';
import { endEarlyReaders, readerCount, takeReader } from './readers.js';
import { batchBytes, forEachEntry, type EntryBatch } from './entry-batch.js';
import type { ScanJob, ScanReply } from './scan-worker.js';

export interface FeedOptions {
  verify: boolean;
  file?: string;
  /** The file each layer lies in, by position, where they are not all `file`'s (two images read together). */
  files?: ReadonlyArray<string | undefined>;
  /** Told the stored bytes of `layer` read so far (for a progress line). */
  onProgress?: (layer: Layer, storedBytes: number) => void;
  /** Worker threads to read with; 0 reads in this thread. Default: workerCount(layers). */
  workers?: number;
  /**
   * Leave large files unhashed where their layer lies in a file (fs/layer-entries.ts `defer`):
   * their entries say where their content is (`contentAt`) instead, and get no digest
   * (fs/deferred.ts hashes the few that matter afterwards).
   */
  defer?: boolean;
  /** Hash no regular file's content (fs/layer-entries.ts `hashFiles`); default: hash them. */
  hashFiles?: boolean;
  /**
   * Regular files whose tar name matches `names`, of at most `maxBytes`, that a reading thread
   * keeps the content of, for `LayerVisitor.entry` (a few small files a command reads: package
   * databases). A pattern, not a function, as it crosses to the threads; the visitor decides.
   */
  keep?: { names: RegExp; maxBytes: number };
  /** Entries read and not yet applied (fs/backlog.ts), in batch bytes, beyond which readers stop: for tests. */
  backlogBytes?: number;
  /** Told the backlog's bytes as each batch arrives: for tests and measurements. */
  onBacklog?: (bytes: number) => void;
}

/** The file the layer at `position` lies in. */
function fileOf(options: FeedOptions, position: number): string | undefined {
  return options.files?.[position] ?? options.file;
}

/** What receives the layers: each layer's entries in tar order, between begin and end. */
export interface LayerVisitor {
  begin?(layer: Layer): void;
  /**
   * An entry; a regular file's sha256 (32 raw bytes in a latin1 string, the form FsNode keeps)
   * comes with it when already known (a worker read the layer), else it is given to the function
   * returned once its content has streamed past. A file left unhashed (`defer`) gets none. A sink
   * returned instead receives the content too, where this thread reads the layer; from a worker,
   * an entry comes with its digest and, if it is one to `keep`, its content.
   */
  entry(e: LayerEntry, sha256?: string, content?: Buffer): ((sha256: string) => void) | ContentSink | void;
  end?(layer: Layer, scan: LayerScan): void;
}

/**
 * How many worker threads to read these layers with: one per core up to the number of layers
 * (a single layer still gains a thread: reading and hashing it overlaps applying it), none for
 * small images or layers without a known location (a stream). LAYERLENS_WORKERS=N overrides
 * (0 = none).
 */
export function workerCount(layers: Layer[]): number {
  const where = layers.map((l) => l.locate?.());
  if (layers.length === 0 || where.some((w) => w === undefined)) return 0;
  // What is really there, not what a manifest claims.
  return readerCount(where.reduce((a, w) => a + w!.length, 0), layers.length);
}

/**
 * Read `layers` in order, verifying each; with a visitor, every entry is handed to it (each
 * regular file's content hashed), without one the layers are only verified. Returns the scans in
 * layer order. `budget` bounds the whole pass (its limits are the pass's limits).
 */
export async function feedLayers(layers: Layer[], options: FeedOptions, budget: Budget, visitor?: LayerVisitor): Promise<LayerScan[]> {
  const workers = options.workers ?? workerCount(layers);
  endEarlyReaders(workers);
  if (workers > 0) return feedInWorkers(layers, options, budget, workers, visitor);
  const scans: LayerScan[] = [];
  // Where the digest of the file being read goes (it comes before the next entry): one relay for
  // every file, not a closure each.
  let awaiting: ((sha256: string) => void) | undefined;
  const relay = (digest: string | undefined) => {
    if (digest !== undefined) awaiting!(digest);
  };
  for (const [i, layer] of layers.entries()) {
    const file = fileOf(options, i);
    visitor?.begin?.(layer);
    const onProgress = options.onProgress && ((bytes: number) => options.onProgress!(layer, bytes));
    const scan = visitor
      ? await scanLayerEntries(
          layer,
          options.verify,
          file,
          (e) => {
            const onDigest = visitor.entry(e);
            if (!onDigest || typeof onDigest === 'object') return onDigest;
            awaiting = onDigest;
            return relay;
          },
          { budget, onProgress, hex: false, defer: options.defer, hashFiles: options.hashFiles },
        )
      : await scanLayer(layer, { verify: options.verify, file, budget, onProgress });
    scans.push(scan);
    visitor?.end?.(layer, scan);
  }
  return scans;
}

interface Pending {
  batches: EntryBatch[];
  scan?: LayerScan;
  error?: Error;
}

async function feedInWorkers(layers: Layer[], options: FeedOptions, budget: Budget, count: number, visitor?: LayerVisitor): Promise<LayerScan[]> {
  // The pass's totals live in shared memory so that every thread counts into them.
  const counters = sharedBudgetCounters();
  counters[0] = BigInt(budget.bytes);
  counters[1] = BigInt(budget.entries);
  const pending: Pending[] = layers.map(() => ({ batches: [] }));
  const idle: Worker[] = [];
  const pool: Worker[] = [];
  /** Workers ended early: every layer was handed out, and they had nothing left to do. */
  const retired = new Set<Worker>();
  let wake: (() => void) | undefined;
  let failed: Error | undefined;
  /** The layer being applied. */
  let current = 0;
  /** Layers handed to a worker, and how many. */
  const started: boolean[] = layers.map(() => false);
  let startedCount = 0;
  // The layers by size as stored (which stands for the work of reading them), largest first.
  const stored = layers.map((l) => l.locate!()!.length);
  const bySize = layers.map((_, i) => i).sort((a, b) => stored[b]! - stored[a]! || a - b);
  /**
   * The next layer to read: the one to apply next if no worker has it yet, else the largest not
   * started. Largest first leaves the small layers to fill in at the end, so that both workers
   * finish together: in layer order, debian-big's gzip copy left one worker idle for 0.7 s while
   * the other read its largest layer, the seventh (analyze 4.07-4.36 s -> 3.95-4.15 s in
   * interleaved pairs; the other images the same either way).
   */
  const pick = (): number => (started[current] ? bySize.find((i) => !started[i])! : current);
  let done = false;
  /** Batches read and not yet applied. */
  const backlog = Backlog.forLayers(layers.length, options.backlogBytes);
  /** The blob digests this thread computes (one after another), by layer. */
  const blobDigests: Array<Promise<Digest | undefined> | undefined> = [];
  let hashingDone: Promise<void> = Promise.resolve();

  const start = () => {
    // A worker takes the next layer while the entries waiting for their turn stay under the
    // backlog's limit: a small layer after a large one is read meanwhile, and no layer is
    // started only to stop at once.
    while (idle.length > 0 && startedCount < layers.length) {
      const next = pick();
      if (next !== current && backlog.bytes >= backlog.limit) break;
      started[next] = true;
      startedCount++;
      if (next === current) backlog.currentRead();
      const layer = layers[next]!;
      const location = layer.locate!()!;
      // With a core to spare, this thread hashes a compressed blob while the worker inflates
      // it: the worker's own work (its tar's hash, the parse) is then what sets the pace.
      const hashHere = spareCore && declaresCompressedLayer(layer);
      if (hashHere) {
        const where = { file: fileOf(options, next), member: layer.member };
        const digest = hashingDone.then(() => hashBlobAt(location, () => done || failed !== undefined, where));
        // Awaited when the layer's turn comes; if something fails first, that is what is reported.
        digest.catch(() => {});
        hashingDone = digest.then(() => undefined, () => undefined);
        blobDigests[next] = digest;
      }
      const job: ScanJob = {
        id: next,
        layer: { index: layer.index, digest: layer.digest, size: layer.size, mediaType: layer.mediaType, mediaTypeAssumed: layer.mediaTypeAssumed, diffId: layer.diffId, member: layer.member },
        location,
        verify: options.verify,
        file: fileOf(options, next),
        limits: budget.limits,
        counters,
        entries: visitor !== undefined,
        spareCore,
        defer: options.defer ?? false,
        hashFiles: options.hashFiles ?? true,
        keep: options.keep && { names: options.keep.names.source, flags: options.keep.names.flags, maxBytes: options.keep.maxBytes },
        hashBlob: !hashHere,
        progress: options.onProgress !== undefined,
        backlog: backlog.shared,
        backlogBytes: backlog.limit,
      };
      idle.pop()!.postMessage(job);
    }
  };

  // Once every layer is handed out, an idle worker has nothing left to do: ended now, its memory
  // (an isolate, its heap and buffers: 10-20 MiB) is not there while the last layers are applied.
  const retire = () => {
    if (startedCount < layers.length) return;
    while (idle.length > 0) {
      const w = idle.pop()!;
      retired.add(w);
      void w.terminate();
    }
  };

  // A core to spare (one layer to read on two cores): reading a chunk ahead overlaps hashing.
  const spareCore = count < os.availableParallelism();
  try {
    for (let i = 0; i < count; i++) {
      const w = takeReader();
      w.on('message', (reply: ScanReply) => {
        const p = pending[reply.id]!;
        if (reply.kind === 'batch') {
          p.batches.push(reply.batch);
          options.onBacklog?.(backlog.bytes);
        }
        else if (reply.kind === 'progress') options.onProgress?.(layers[reply.id]!, reply.bytes);
        else {
          if (reply.kind === 'done') p.scan = reply.scan;
          else p.error = replyError(reply.error);
          idle.push(w);
          start();
          retire();
        }
        wake?.();
      });
      w.on('error', (e) => {
        failed = e;
        wake?.();
      });
      w.on('exit', (code) => {
        // Only terminate() ends a worker; any other exit loses its layer.
        if (!done && !retired.has(w)) failed ??= new Error(`a layer worker stopped (exit code ${code})`);
        wake?.();
      });
      pool.push(w);
      idle.push(w);
    }
    start();

    const scans: LayerScan[] = [];
    while (current < layers.length) {
      const layer = layers[current]!;
      const p = pending[current]!;
      visitor?.begin?.(layer);
      for (;;) {
        if (failed) throw failed;
        while (p.batches.length > 0) {
          const batch = p.batches.shift()!;
          if (visitor) {
            forEachEntry(batch, (e, digest, content) => visitor.entry(e, digest, content));
          }
          backlog.applied(current, batchBytes(batch));
        }
        if (p.error) throw p.error;
        if (p.scan) break;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      const scan = p.scan!;
      if (scan.digest === '') {
        // The worker left the blob digest, and so the checks, to this thread.
        const digest = await blobDigests[current];
        if (digest === undefined) throw new Error(`layer ${layer.index}: its blob digest was not computed`);
        scan.digest = digest;
        checkLayerScan(layer, scan, options.verify, { file: fileOf(options, current), member: layer.member });
      }
      pending[current] = { batches: [] };
      scans.push(scan);
      visitor?.end?.(layer, scan);
      current++;
      backlog.apply(current, started[current] ?? false);
      start();
    }
    budget.bytes = Number(counters[0]);
    budget.entries = Number(counters[1]);
    return scans;
  } finally {
    done = true;
    await Promise.all(pool.map((w) => w.terminate()));
  }
}

function replyError(e: Extract<ScanReply, { kind: 'error' }>['error']): Error {
  if ('internal' in e) return new Error(`layer worker failed: ${e.internal}`);
  return new LayerlensError(e.kind, e.message, { file: e.file, member: e.member });
}

/**
 * Read and verify every layer, without looking at entries (what `layers` reports): a blob listed
 * more than once is read once.
 */
export async function verifyLayers(layers: Layer[], options: FeedOptions & { limits?: Partial<Limits> }): Promise<LayerScan[]> {
  const budget = new Budget(resolveLimits(options.limits));
  const firstOf = new Map<string, Layer>();
  for (const l of layers) if (!firstOf.has(l.member)) firstOf.set(l.member, l);
  const unique = [...firstOf.values()];
  const scans = await feedLayers(unique, options, budget);
  const byMember = new Map(unique.map((l, i) => [l.member, scans[i]!]));
  return layers.map((l) => ({ ...byMember.get(l.member)!, index: l.index }));
}
