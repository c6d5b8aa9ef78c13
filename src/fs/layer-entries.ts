// A layer's entries as the union reads them: each tar entry reduced to a LayerEntry, and each
// regular file's content hashed as it streams past.
import crypto, { createHash, type Hash } from 'node:crypto';
import type { Layer } from '../image/model.js';
import { scanLayer, type LayerScan, type ScanOptions } from '../layer/scan.js';
import type { StreamHash } from '../layer/hash-thread.js';
import type { TarEntry } from '../layer/tar-reader.js';
import type { LayerEntry } from './entry.js';

const EMPTY_SHA256 = createHash('sha256').digest();

/** sha256 of one buffer without a hash object (crypto.hash, Node 20.12 and later). */
const oneShotSha256: (data: Buffer) => Buffer =
  typeof (crypto as { hash?: unknown }).hash === 'function'
    ? (data) => (crypto as unknown as { hash(alg: string, data: Buffer, enc: 'buffer'): Buffer }).hash('sha256', data, 'buffer')
    : (data) => createHash('sha256').update(data).digest();

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
  scan: Pick<ScanOptions, 'limits' | 'budget' | 'onProgress' | 'blobHash' | 'readAhead'> & {
    /** Give each entry its hex sha256 as well (default true). */
    hex?: boolean;
    /**
     * Where to hash files of BIG_FILE bytes or more of a compressed layer, when not in this
     * thread: their digests then reach `visit`'s callbacks later, and are all in before the scan
     * returns. (In an uncompressed layer this thread has only that hash to compute besides
     * reading, and the copy to another thread would cost more than it saves.)
     */
    bigFileHash?: StreamHash;
  } = {},
): Promise<LayerScan> {
  // The hex digest on each entry is for callers that compare entries; the union keeps raw bytes.
  const hex = scan.hex ?? true;
  let side: StreamHash | undefined;
  let waiting: Promise<void> | undefined;
  const digests: Promise<void>[] = [];
  let ordinal = 0;
  const result = await scanLayer(layer, {
    verify,
    file,
    limits: scan.limits,
    budget: scan.budget,
    onProgress: scan.onProgress,
    blobHash: scan.blobHash,
    readAhead: scan.readAhead,
    onCompression: (c) => (side = c === 'none' ? undefined : scan.bigFileHash),
    // The side thread holds reading back when it falls behind.
    drain: scan.bigFileHash
      ? () => {
          const w = waiting;
          waiting = undefined;
          return w;
        }
      : undefined,
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
        if (hex) e.sha256 = EMPTY_SHA256.toString('hex');
        hashed?.(EMPTY_SHA256);
        return;
      }
      // A sparse file's content reaches the sink expanded (holes as zeros), so its sha256 is
      // that of the file as extracted.
      if (side && e.size >= BIG_FILE && !keep) {
        const to = side;
        return {
          data: (chunk) => {
            const w = to.update(chunk);
            if (w) waiting = w;
          },
          end: () => {
            const digest = to.digest().then((h) => {
              if (hex) e.sha256 = h;
              hashed?.(Buffer.from(h, 'hex'));
            });
            // Awaited below; if the scan fails first, its own error is the one reported.
            digest.catch(() => {});
            digests.push(digest);
          },
        };
      }
      // Most files arrive in one piece: hashed in one call, without a hash object.
      let hash: Hash | undefined;
      let whole: Buffer | undefined;
      const size = e.size;
      const update = (chunk: Buffer) => {
        if (hash === undefined && whole === undefined && chunk.length === size) whole = oneShotSha256(chunk);
        else (hash ??= createHash('sha256')).update(chunk);
      };
      return {
        data: keep
          ? (chunk) => {
              update(chunk);
              keep.data(chunk);
            }
          : update,
        end: () => {
          const digest = whole ?? (hash ?? createHash('sha256')).digest();
          if (hex) e.sha256 = digest.toString('hex');
          hashed?.(digest);
        },
      };
    },
  });
  await Promise.all(digests);
  return result;
}

/** Files this large are worth sending to a hashing thread. */
const BIG_FILE = 8 * 1024 * 1024;

/** Scan one layer and return all its entries, each regular file's content hashed in passing. */
export async function readLayerEntries(layer: Layer, verify: boolean, file?: string): Promise<{ scan: LayerScan; entries: LayerEntry[] }> {
  const entries: LayerEntry[] = [];
  const scan = await scanLayerEntries(layer, verify, file, (e) => {
    entries.push(e);
  });
  return { scan, entries };
}

