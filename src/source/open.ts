// Opening what the user named and finding the images in it, by content and never by file name:
// a directory or a tar (plain, gzip or zstd, or standard input) holding a docker-archive
// (`manifest.json`), an OCI image layout (`index.json`), or both (Docker 25+).
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { LayerlensError } from '../image/errors.js';
import { resolveLimits, type Limits } from '../image/limits.js';
import type { Container, Image, ImageFile } from '../image/model.js';
import { sniffCompression } from '../layer/compression.js';
import type { VerifyPolicy } from './blobs.js';
import { DirStore } from './dir-store.js';
import { readDockerArchive } from './docker-archive.js';
import { readOciLayout } from './oci-layout.js';
import { spool } from './spool.js';
import { seekableStdinSize } from './stdin.js';
import type { Store } from './store.js';
import { TarStore } from './tar-store.js';

export interface OpenOptions {
  /** Check manifest and config digests (layers are checked when they are read). Default true. */
  verify?: boolean;
  /** Where '-' reads from. Default process.stdin. */
  stdin?: Readable;
  /**
   * Safety limits (defaults: DEFAULT_LIMITS). Opening uses maxBytes (a compressed archive as it
   * is decompressed), maxEntries, maxPathLength and maxLinkDepth (the outer archive's members)
   * and maxJsonBytes; pass the same to the layer scans.
   */
  limits?: Partial<Limits>;
  /**
   * False for a caller that reads no layer's content (the image's metadata only): an archive that
   * must first be copied (standard input, a compressed archive) has only the members small enough
   * to be JSON documents copied (--max-json-bytes). Default true.
   */
  readLayers?: boolean;
}

export async function openStore(file: string, stdin?: Readable, limitsIn?: Partial<Limits>, readLayers = true): Promise<Store> {
  const limits = resolveLimits(limitsIn);
  const keepAtMost = readLayers ? Infinity : limits.maxJsonBytes;
  if (file === '-') {
    const input = stdin ?? process.stdin;
    // This process's own standard input, redirected from an uncompressed tar: read in place
    // (stdin.ts), never closed here.
    if (input === process.stdin && seekableStdinSize() !== undefined && sniffAt(0) === 'none') return TarStore.open('-', 0, 'tar', false, limits);
    const { fd, compression, notKept } = await spool(input, '-', limits.maxBytes, keepAtMost);
    return TarStore.open('-', fd, containerOf(compression), true, limits, notKept);
  }
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new LayerlensError('usage', code === 'ENOENT' ? 'no such file or directory' : `cannot open: ${(e as Error).message}`, { file });
  }
  if (st.isDirectory()) return new DirStore(file);
  if (!st.isFile()) throw new LayerlensError('usage', 'is neither a file nor a directory', { file });
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (e) {
    throw new LayerlensError('io', `cannot open: ${(e as Error).message}`, { file });
  }
  const compression = sniffAt(fd);
  if (compression === 'none') return TarStore.open(file, fd, 'tar', true, limits);
  fs.closeSync(fd);
  const spooled = await spool(fs.createReadStream(file, { highWaterMark: 1024 * 1024 }), file, limits.maxBytes, keepAtMost);
  return TarStore.open(file, spooled.fd, containerOf(spooled.compression), true, limits, spooled.notKept);
}

/** How the file open at `fd` is compressed, from its first bytes (read by offset: the file's own offset stays). */
function sniffAt(fd: number): 'gzip' | 'zstd' | 'none' {
  const head = Buffer.alloc(4);
  const n = fs.readSync(fd, head, 0, 4, 0);
  return sniffCompression(head.subarray(0, n));
}

function containerOf(c: 'gzip' | 'zstd' | 'none'): Container {
  return c === 'gzip' ? 'tar+gzip' : c === 'zstd' ? 'tar+zstd' : 'tar';
}

export async function openImageFile(file: string, options: OpenOptions = {}): Promise<ImageFile> {
  const store = await openStore(file, options.stdin, options.limits, options.readLayers);
  try {
    return await readImages(store, options);
  } catch (e) {
    await store.close();
    throw e;
  }
}

async function readImages(store: Store, options: OpenOptions): Promise<ImageFile> {
  const policy: VerifyPolicy = { verify: options.verify !== false, unverified: [], maxJsonBytes: resolveLimits(options.limits).maxJsonBytes };
  const hasDocker = store.has('manifest.json');
  const hasOci = store.has('index.json');
  const base = { file: store.file, container: store.container, close: () => store.close() };
  if (!hasDocker && !hasOci) {
    const top = store.topLevel();
    const shown = top.slice(0, 8).join(', ') + (top.length > 8 ? `, … (${top.length} in all)` : '');
    const legacy = store.has('repositories') ? ' (a docker save from before Docker 1.10 has no manifest.json and is not supported)' : '';
    throw new LayerlensError('format', `not a container image: no manifest.json or index.json${legacy}; found ${top.length ? shown : 'nothing'}`, { file: store.file });
  }
  if (!hasDocker) {
    const layout = await readOciLayout(store, policy);
    const result: ImageFile = { ...base, format: 'oci-layout', images: layout.images, unavailable: layout.unavailable, skipped: layout.skipped, warnings: [...layout.warnings, ...policy.unverified] };
    return finish(result);
  }
  const archive = await readDockerArchive(store, policy);
  const warnings: string[] = [];
  let skipped: ImageFile['skipped'] = [];
  if (hasOci) {
    // Docker 25+: the same images are also an OCI layout; take their manifests from it.
    try {
      const layout = await readOciLayout(store, policy);
      skipped = layout.skipped;
      for (const image of archive.images) attachManifest(image, layout.images);
    } catch (e) {
      if (!(e instanceof LayerlensError)) throw e;
      warnings.push(`the OCI layout beside manifest.json could not be read: ${e.oneLine()}`);
    }
  }
  return finish({ ...base, format: 'docker-archive', images: archive.images, unavailable: archive.unavailable, skipped, warnings: [...warnings, ...policy.unverified] });
}

function attachManifest(image: Image, layoutImages: Image[]): void {
  const match = layoutImages.find((o) => o.id === image.id && o.layers.length === image.layers.length);
  if (!match?.manifest) return;
  image.manifest = match.manifest;
  image.platform = match.platform ?? image.platform;
  for (const n of match.refNames) if (!image.refNames.includes(n)) image.refNames.push(n);
  image.layers = image.layers.map((l, i) => {
    const o = match.layers[i]!;
    return { ...l, mediaType: o.mediaType, mediaTypeAssumed: false, digest: l.digest ?? o.digest };
  });
}

function finish(f: ImageFile): ImageFile {
  if (f.images.length === 0) {
    if (f.unavailable.length > 0) {
      throw f.unavailable[0]!.error;
    }
    const why = f.skipped.length > 0 ? `; skipped ${f.skipped.map((s) => `${s.digest}: ${s.reason}`).join('; ')}` : ' (its index lists no manifests)';
    throw new LayerlensError('format', `holds no images${why}`, { file: f.file });
  }
  return f;
}
