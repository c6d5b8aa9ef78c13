// Reading one layer end to end in a single pass: the stored blob is hashed (its digest), sniffed
// and decompressed, the plain tar hashed (its diff_id) and parsed into entries. Nothing is kept
// but what the caller's entry handler keeps.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { LayerlensError } from '../image/errors.js';
import { Budget, checkPathLength, resolveLimits, type Limits } from '../image/limits.js';
import { sha256Digest, type Digest } from '../image/digest.js';
import type { BlobLocation, Layer } from '../image/model.js';
import fs from 'node:fs';
import { declaredLayerCompression, isEncryptedLayerMediaType } from '../image/mediatypes.js';
import { createDecoder, sniffCompression, SNIFF_BYTES, type Compression, type Decoder } from './compression.js';
import { TarReader, type EntrySink, type TarEntry } from './tar-reader.js';

export interface ScanOptions {
  /** Check the blob digest and the diff_id; a mismatch throws. Otherwise mismatches are listed. */
  verify: boolean;
  /** Called for each entry; return a sink to receive its content. */
  onEntry?: (entry: TarEntry) => EntrySink | void;
  /** File name for messages. */
  file?: string;
  /** Awaited after each chunk of input: lets a slow consumer of entry content hold reading back. */
  drain?: () => Promise<void> | undefined;
  /** Safety limits (defaults: DEFAULT_LIMITS): bytes, entries and path length are checked here. */
  limits?: Partial<Limits>;
  /**
   * Running totals shared by the layers of one pass, so that maxBytes and maxEntries bound the
   * whole pass; by default each scan counts on its own.
   */
  budget?: Budget;
  /** Told the stored bytes read so far as each chunk arrives (for a progress line). */
  onProgress?: (storedBytes: number) => void;
  /** Read the blob on the thread pool a chunk ahead (worth it where this thread has hashing to overlap it with). */
  readAhead?: boolean;
  /** Told the compression once the first bytes have shown it, before any entry. */
  onCompression?: (compression: Compression) => void;
  /**
   * false: another thread hashes this blob, if it turns out compressed (an uncompressed blob is
   * its own tar, hashed here for the diff_id anyway). The scan's `digest` is then '' and its
   * checks are left to that thread's checkLayerScan().
   */
  hashBlob?: boolean;
  /**
   * Inflate gzip on this thread rather than on the thread pool: for a worker that has the layer
   * to itself on a busy machine, where the pool's overlap only adds hops (layer/compression.ts).
   */
  inflateHere?: boolean;
}

export interface LayerScan {
  index: number;
  /** sha256 of the blob as stored. */
  digest: Digest;
  /** sha256 of the uncompressed tar. */
  diffId: Digest;
  compression: Compression;
  /** Bytes as stored. */
  compressedSize: number;
  /** Bytes of the uncompressed tar. */
  size: number;
  entries: number;
  /** Checks that failed but were let through because verification was off. */
  unverified: string[];
  /** Notes that are not failures (compression that contradicts the media type, ...). */
  notes: string[];
}

export async function scanLayer(layer: Layer, options: ScanOptions): Promise<LayerScan> {
  const where = { file: options.file, member: layer.member };
  if (isEncryptedLayerMediaType(layer.mediaType)) {
    throw new LayerlensError('unsupported', `layer ${layer.index} is encrypted (${layer.mediaType}); layerlens cannot read it`, where);
  }
  const blobHash = createHash('sha256');
  const diffHash = createHash('sha256');
  let compressedSize = 0;
  let size = 0;
  const budget = options.budget ?? new Budget(resolveLimits(options.limits));
  const maxPath = budget.limits.maxPathLength;
  const tar = new TarReader({
    where,
    onEntry: (e) => {
      budget.addEntry(where);
      checkPathLength(e.path, maxPath, 'path', where);
      if (e.linkname) checkPathLength(e.linkname, maxPath, `link target of ${JSON.stringify(e.path)}`, where);
      // The holes of a sparse file are content too (zeros that are hashed and written out).
      if (e.sparse) budget.addBytes(e.size - e.storedSize, where);
      return options.onEntry?.(e);
    },
  });
  // An uncompressed blob is its own tar: its digest is its diff_id, hashed once.
  let plainIsBlob = false;
  const onPlain = (chunk: Buffer) => {
    if (!plainIsBlob) diffHash.update(chunk);
    budget.addBytes(chunk.length, where);
    size += chunk.length;
    tar.push(chunk);
  };

  let decoder: Decoder | undefined;
  let compression: Compression = 'none';
  let hashBlob = true;
  let head: Buffer | undefined;
  const notes: string[] = [];
  // The first bytes show the compression; every chunk after them goes straight on.
  const start = async (first: Buffer) => {
    compression = sniffCompression(first);
    plainIsBlob = compression === 'none';
    hashBlob = options.hashBlob !== false || plainIsBlob;
    options.onCompression?.(compression);
    const declared = declaredLayerCompression(layer);
    if (declared && declared !== compression) {
      notes.push(`layer ${layer.index}: media type ${layer.mediaType} says ${declared} but the bytes are ${compression === 'none' ? 'not compressed' : compression}`);
    }
    // A chunk goes back to the pool once used: an uncompressed one at once (hashed and parsed
    // synchronously; whatever keeps bytes copies them), a compressed one when the decoder says
    // it is done with it.
    decoder = createDecoder(compression, onPlain, where, (c) => buffers.give(c), options.inflateHere === true, layer.size >= 0 ? layer.size : undefined);
    // The blob is hashed as its bytes go to the decoder.
    if (hashBlob) blobHash.update(first);
    await decoder.write(first);
    if (plainIsBlob) buffers.give(first);
  };

  const buffers = readBuffers;
  let stream: Readable | undefined;
  let source: AsyncIterable<unknown>;
  try {
    const location = layer.locate?.();
    // Reading a known byte range with plain reads is much faster than a stream from the
    // thread pool (the bytes are usually in the page cache).
    source = location ? readLocation(location, buffers, options.readAhead === true) : (stream = layer.open());
  } catch (e) {
    throw asLayerError(e, where);
  }
  try {
    for await (const c of source) {
      const chunk = c as Buffer;
      compressedSize += chunk.length;
      options.onProgress?.(compressedSize);
      if (decoder) {
        if (hashBlob) blobHash.update(chunk);
        await decoder.write(chunk);
        if (plainIsBlob) buffers.give(chunk);
        const wait = options.drain?.();
        if (wait) await wait;
      } else {
        head = head ? Buffer.concat([head, chunk]) : chunk;
        if (head.length >= SNIFF_BYTES) {
          const first = head;
          head = undefined;
          await start(first);
        }
      }
    }
    if (!decoder) await start(head ?? Buffer.alloc(0));
    await decoder!.end();
    tar.finish();
  } catch (e) {
    stream?.destroy();
    decoder?.abort?.();
    throw asLayerError(e, where);
  }

  // A compressed blob hashed by another thread leaves its digest, and so the checks, to it.
  const digest = hashBlob ? sha256Digest(blobHash.digest('hex')) : ('' as Digest);
  const diffId = plainIsBlob ? digest : sha256Digest(diffHash.digest('hex'));
  const scan: LayerScan = { index: layer.index, digest, diffId, compression, compressedSize, size, entries: tar.entries, unverified: [], notes };
  if (hashBlob) checkLayerScan(layer, scan, options.verify, where);
  return scan;
}

/**
 * The checks of a finished scan against what the manifest and config say: the blob digest, its
 * size, the diff_id, in that order. With `verify` the first mismatch throws; otherwise each is
 * added to `scan.unverified`.
 */
export function checkLayerScan(layer: Layer, scan: LayerScan, verify: boolean, where: { file?: string; member?: string }): void {
  const fail = (message: string) => {
    if (verify) throw new LayerlensError('digest', message, where);
    scan.unverified.push(message);
  };
  if (layer.digest && layer.digest.startsWith('sha256:') && layer.digest !== scan.digest) {
    fail(`layer ${layer.index} blob digest mismatch: expected ${layer.digest}, got ${scan.digest}`);
  }
  if (layer.size >= 0 && layer.size !== scan.compressedSize) {
    fail(`layer ${layer.index} size mismatch: expected ${layer.size} bytes, read ${scan.compressedSize}`);
  }
  if (layer.diffId && layer.diffId !== scan.diffId) {
    fail(`layer ${layer.index} diff_id mismatch: config says ${layer.diffId}, uncompressed content hashes to ${scan.diffId}`);
  }
}

const READ_CHUNK = 1024 * 1024;

/**
 * Read buffers to fill again: an uncompressed blob's chunk is used up before the next read, a
 * gzip chunk once zlib has taken it in (its write callback). Reusing them keeps memory flat
 * where fresh buffers would wait for the garbage collector.
 */
class ReadBuffers {
  private readonly free: ArrayBuffer[] = [];

  take(): Buffer {
    const b = this.free.pop();
    return b ? Buffer.from(b) : Buffer.allocUnsafeSlow(READ_CHUNK);
  }

  /** `chunk` (a view of a buffer from take()) will not be used again. */
  give(chunk: Buffer): void {
    if (chunk.buffer.byteLength === READ_CHUNK && this.free.length < 16) this.free.push(chunk.buffer as ArrayBuffer);
  }
}

/**
 * This thread's read buffers, kept from one read to the next: a pool per scan left each layer's
 * buffers to a major collection, which in a worker reading layer after layer came seldom
 * (debian-big: 5 -> 14 MiB of buffers held per worker by its tenth layer).
 */
const readBuffers = new ReadBuffers();

/**
 * The bytes of a location, each chunk in a buffer of `buffers` (given back by the consumer, or
 * not). With `ahead`, the next chunk is read on the thread pool while this one is worked on: the
 * copy out of the page cache (about 2 GB/s here, as much time as hashing) then overlaps it.
 */
async function* readLocation(loc: BlobLocation, buffers: ReadBuffers, ahead: boolean): AsyncGenerator<Buffer> {
  const fd = loc.fd ?? fs.openSync(loc.path!, 'r');
  const end = loc.start + loc.length;
  const read = (buf: Buffer, at: number, length: number, pos: number): number | Promise<number> =>
    ahead ? new Promise<number>((resolve, reject) => fs.read(fd, buf, at, length, pos, (e, bytes) => (e ? reject(e) : resolve(bytes)))) : fs.readSync(fd, buf, at, length, pos);
  const readAt = async (pos: number): Promise<Buffer> => {
    const want = Math.min(READ_CHUNK, end - pos);
    const buf = buffers.take().subarray(0, want);
    let got = 0;
    while (got < want) {
      const n = await read(buf, got, want - got, pos + got);
      if (n === 0) throw truncatedAt(loc, pos + got);
      got += n;
    }
    return buf;
  };
  let next: Promise<Buffer> | undefined;
  try {
    for (let pos = loc.start; pos < end; ) {
      const buf = await (next ?? readAt(pos));
      pos += buf.length;
      next = ahead && pos < end ? readAt(pos) : undefined;
      yield buf;
    }
  } finally {
    // A read still in flight finishes before the descriptor is closed (its error, if any, is moot).
    await next?.catch(() => undefined);
    if (loc.fd === undefined) fs.closeSync(fd);
  }
}

/**
 * The sha256 of the bytes at `loc`, read in this thread with plain reads (readLocation) and
 * hashed as they come. `between`, if given, is awaited after each chunk; reading stops, with
 * undefined, once `stop()` says so.
 */
export async function hashLocation(loc: BlobLocation, options: { between?: () => Promise<void>; stop?: () => boolean } = {}): Promise<Buffer | undefined> {
  const hash = createHash('sha256');
  for await (const chunk of readLocation(loc, readBuffers, false)) {
    hash.update(chunk);
    readBuffers.give(chunk);
    if (options.between) await options.between();
    if (options.stop?.()) return undefined;
  }
  return hash.digest();
}

/**
 * The digest of the blob at `loc`, read a chunk per turn of the event loop: for a thread that
 * has other work meanwhile (fs/layer-feed.ts hashes a lone compressed layer's blob this way
 * while a worker decompresses it). Gives up, with undefined, once `stop()` says so.
 */
export async function hashBlobAt(loc: BlobLocation, stop: () => boolean, where: { file?: string; member?: string }): Promise<Digest | undefined> {
  try {
    const digest = await hashLocation(loc, { between: () => new Promise<void>((resolve) => setImmediate(resolve)), stop });
    return digest && sha256Digest(digest.toString('hex'));
  } catch (e) {
    throw asLayerError(e, where);
  }
}

function truncatedAt(loc: BlobLocation, at: number): LayerlensError {
  return new LayerlensError('truncated', `blob ends after ${at - loc.start} of its ${loc.length} bytes`);
}

function asLayerError(e: unknown, where: { file?: string; member?: string }): LayerlensError {
  if (e instanceof LayerlensError) {
    if (e.member === undefined && e.file === undefined) return new LayerlensError(e.kind, e.message, where, { cause: e });
    return e;
  }
  const err = e as NodeJS.ErrnoException;
  if (err && err.code === 'ENOENT') return new LayerlensError('missing', 'layer blob is missing', where, { cause: e });
  return new LayerlensError('io', `cannot read layer: ${err?.message ?? String(e)}`, where, { cause: e });
}

export interface ScanImageOptions extends ScanOptions {
  /** Told the stored bytes of each layer read so far, as they are read (for a progress line). */
  onLayerProgress?: (layer: Layer, storedBytes: number) => void;
  /** Called as each layer finishes. */
  onLayer?: (scan: LayerScan) => void;
}

/** Scan every layer of an image in order; a blob listed twice is read once. */
export async function scanImageLayers(layers: Layer[], options: ScanImageOptions): Promise<LayerScan[]> {
  const out: LayerScan[] = [];
  const byMember = new Map<string, LayerScan>();
  // The limits on bytes and entries hold for the image, not for each layer.
  const each = { ...options, budget: options.budget ?? new Budget(resolveLimits(options.limits)) };
  for (const layer of layers) {
    const seen = options.onEntry ? undefined : byMember.get(layer.member);
    const progress = options.onLayerProgress;
    const scan = seen ? { ...seen, index: layer.index } : await scanLayer(layer, progress ? { ...each, onProgress: (b) => progress(layer, b) } : each);
    byMember.set(layer.member, scan);
    out.push(scan);
    options.onLayer?.(scan);
  }
  return out;
}
