// A worker thread that reads whole layers for the thread building the union: it reads the blob
// from where it lies (the file descriptor is the process's, shared by every thread), checks its
// digest and diff_id, decompresses, parses the tar and hashes each regular file, and posts the
// entries back in batches (fs/entry-batch.ts). See fs/layer-feed.ts for the other side.
import v8 from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { LayerlensError } from '../image/errors.js';
import { Budget, type Limits } from '../image/limits.js';
import type { BlobLocation, Layer } from '../image/model.js';
import { declaresCompressedLayer } from '../image/mediatypes.js';
import { scanLayer, type LayerScan } from '../layer/scan.js';
import { ContentCopy, scanLayerEntries, type ContentSink } from './layer-entries.js';
import type { LayerEntry } from './entry.js';
import { Backlog } from './backlog.js';
import { EntryBatcher, batchBytes, type EntryBatch } from './entry-batch.js';

/** What a layer is, without its functions (which cannot cross threads). */
export type LayerInfo = Pick<Layer, 'index' | 'digest' | 'size' | 'mediaType' | 'mediaTypeAssumed' | 'diffId' | 'member'>;

export interface ScanJob {
  /** The layer's position in the feed. */
  id: number;
  layer: LayerInfo;
  location: BlobLocation;
  verify: boolean;
  file?: string;
  limits: Limits;
  /** The pass's shared totals (Budget). */
  counters: BigInt64Array;
  /** Parse the tar and post its entries; otherwise only verify (what `layers` needs). */
  entries: boolean;
  /** A core is spare (one layer read on two cores): read a chunk ahead on the thread pool. */
  spareCore: boolean;
  /** Leave large files unhashed (fs/layer-entries.ts, `defer`). */
  defer: boolean;
  /** Hash regular files' content (fs/layer-entries.ts, `hashFiles`). */
  hashFiles: boolean;
  /** Keep the content of the regular files whose name matches (FeedOptions `keep`, its pattern as text). */
  keep?: { names: string; flags: string; maxBytes: number };
  /** Hash the blob here; false: the thread that posted the job hashes it, if compressed (layer/scan.ts `hashBlob`). */
  hashBlob: boolean;
  /** Post the stored bytes read so far as they are read (someone shows progress). */
  progress: boolean;
  /** The pass's backlog (fs/backlog.ts), shared, and its limit. */
  backlog: Int32Array;
  backlogBytes: number;
}

export type ScanReply =
  | { id: number; kind: 'batch'; batch: EntryBatch }
  | { id: number; kind: 'progress'; bytes: number }
  | { id: number; kind: 'done'; scan: LayerScan }
  | { id: number; kind: 'error'; error: { kind: LayerlensError['kind']; message: string; file?: string; member?: string } | { internal: string } };

/** A batch is posted once it holds this many entries, or at the end of an input chunk once it holds FLUSH_ENTRIES. */
const BATCH_ENTRIES = 4096;
const FLUSH_ENTRIES = 256;

/**
 * This thread's batcher: its buffers, grown to a batch's size, serve every layer it reads (each
 * job ends with a flush, so the next starts empty). What
 * a worker keeps from layer to layer (this, the read buffers, the inflate buffer) is what keeps
 * it flat: a layer's leftovers live long enough to be old, and V8 comes back for old garbage
 * seldom (fresh ones per layer: 1 MiB more per layer read, debian-big `analyze` 123-126 MB;
 * collecting everything after each layer instead cost 0.4 s of CPU there).
 */
const batcher = new EntryBatcher();

// The flags the starting thread asks for (fs/readers.ts setReaderV8Flags), first: making this
// thread's isolate has just put one of the command line's back to V8's default (cli/heap.ts).
for (const flag of (workerData as { v8Flags?: readonly string[] } | null)?.v8Flags ?? []) v8.setFlagsFromString(flag);

// V8 takes it that no ArrayBuffer is ever detached, until one is: then it throws away every
// optimized function that reads a typed array. The first batch posted detaches three buffers
// (they are transferred), by which time the tar reader's hot functions are optimized: eight of
// them were compiled twice in every reading thread. One buffer detached here, before anything is
// optimized, has V8 compile them once, with the check.
{
  const first = new ArrayBuffer(8);
  structuredClone(first, { transfer: [first] });
}

async function run(job: ScanJob, post: (reply: ScanReply, transfer?: ArrayBuffer[]) => void): Promise<void> {
  const { id } = job;
  const layer: Layer = {
    ...job.layer,
    urls: [],
    open: () => {
      throw new LayerlensError('io', 'layer has no known location');
    },
    locate: () => job.location,
  };
  const budget = new Budget(job.limits, job.counters);
  // The regular file whose digest is awaited (it comes before the next entry): one function for
  // all of them, not a closure per file.
  let file: LayerEntry | undefined;
  const addFile = (digest: string | undefined) => add(file!, digest);
  const keepNames = job.keep && new RegExp(job.keep.names, job.keep.flags);
  // A file to keep: its content, in a buffer of its own, goes to the other thread with the batch,
  // not copied again.
  const keeping = (e: LayerEntry): ContentSink => {
    const copy = new ContentCopy(e.size);
    return {
      data: (chunk) => copy.data(chunk),
      done: (digest) => add(e, digest, copy.content()),
    };
  };
  const backlog = new Backlog(job.backlog, job.backlogBytes);
  const flush = () => {
    if (batcher.count === 0) return;
    const batch = batcher.take();
    const bytes = batchBytes(batch);
    backlog.posted(id, bytes);
    post({ id, kind: 'batch', batch }, [batch.numbers.buffer as ArrayBuffer, batch.digests.buffer as ArrayBuffer, batch.names.buffer as ArrayBuffer, ...batch.contents.map(([, c]) => c.buffer as ArrayBuffer)]);
    // Too far ahead of the thread applying the entries: wait here, in the middle of the layer.
    backlog.waitTurn(id);
  };
  const compressed = declaresCompressedLayer(job.layer);
  // At the start of each input chunk, the entries of the last one go out if there are enough of
  // them to be worth a message (each costs its three buffers and a turn of the other thread's
  // loop); the stored bytes read so far only if someone shows them.
  const onProgress = (bytes: number) => {
    if (batcher.count >= FLUSH_ENTRIES) flush();
    if (job.progress) post({ id, kind: 'progress', bytes });
  };
  // Reading on the thread pool a chunk ahead overlaps the copy out of the page cache with
  // hashing: worth it for one layer with a core to spare, and for a compressed layer (whose
  // reads are small beside its inflating); for uncompressed layers read side by side it only
  // adds thread hops (debian-big's docker-archive: 1.42-1.55 s against 1.31 s).
  const readAhead = job.spareCore || compressed;
  // This thread inflates gzip itself: on the thread pool, every 256 KiB costs a hop there and a
  // callback back, and with a worker per core the pool only competes with the workers
  // (debian-big gzip analyze 4.8-4.9 s -> 3.9-4.2 s; bigfile, whose blob the main thread
  // hashes meanwhile, 4.1-4.3 s -> 3.5-3.6 s).
  const inflateHere = true;
  try {
    let scan: LayerScan;
    if (job.entries) {
      // A file's digest is in when its content has gone by, before the next entry: entries
      // reach the batch in tar order.
      scan = await scanLayerEntries(
        layer,
        job.verify,
        job.file,
        (e) => {
          if (e.type !== 'file') return add(e, undefined);
          if (keepNames && e.size <= job.keep!.maxBytes && keepNames.test(e.path)) return keeping(e);
          file = e;
          return addFile;
        },
        { budget, onProgress, hex: false, readAhead, defer: job.defer, hashFiles: job.hashFiles, hashBlob: job.hashBlob, inflateHere },
      );
      flush();
    } else {
      scan = await scanLayer(layer, { verify: job.verify, file: job.file, budget, onProgress, readAhead, hashBlob: job.hashBlob, inflateHere });
    }
    post({ id, kind: 'done', scan });
  } catch (e) {
    flush();
    post({ id, kind: 'error', error: e instanceof LayerlensError ? { kind: e.kind, message: e.message, file: e.file, member: e.member } : { internal: (e as Error)?.stack ?? String(e) } });
  }

  function add(e: LayerEntry, digest: string | undefined, content?: Uint8Array) {
    batcher.add(e, digest, content);
    if (batcher.count >= BATCH_ENTRIES) flush();
  }
}

const port = parentPort;
if (port) {
  port.on('message', (job: ScanJob) => {
    void run(job, (reply, transfer) => port.postMessage(reply, transfer ?? []));
  });
}
