// The model every source produces and every command consumes: an Image with its Layers.
// A Layer carries `open()`, supplied by its source, so nothing above needs to know where the
// bytes live (a member of a tar, a blob file in a directory, a spooled copy of stdin).
import type { Readable } from 'node:stream';
import type { ImageConfig } from './config.js';
import type { Descriptor } from './descriptor.js';
import type { Digest } from './digest.js';
import type { Platform } from './platform.js';

/** How the images were stored: the two image formats. */
export type ImageFormat = 'docker-archive' | 'oci-layout';

/** How the user's file wrapped them. */
export type Container = 'directory' | 'tar' | 'tar+gzip' | 'tar+zstd';

/** A byte range of a file, by path or by an open descriptor: how a layer can be read directly. */
export interface BlobLocation {
  path?: string;
  fd?: number;
  start: number;
  length: number;
}

export interface Layer {
  /** 0 is the base layer. */
  index: number;
  /** The blob digest: the descriptor's in a manifest, the member's name in a docker-archive. */
  digest?: Digest;
  /** Bytes as stored (compressed size for a compressed blob). */
  size: number;
  mediaType: string;
  /**
   * True when the source did not say (a docker-archive member without LayerSources): mediaType is
   * then a default, and the bytes alone decide the compression.
   */
  mediaTypeAssumed?: boolean;
  /** rootfs.diff_ids[index] from the config: the sha256 of the uncompressed tar. */
  diffId?: Digest;
  /** Where the bytes are, for messages: a member path or a blob path. */
  member: string;
  /** Foreign (non-distributable) layers may be referenced by URL only. */
  urls: string[];
  open(): Readable;
  /** Where the blob's bytes lie, when the source can say (a faster path than `open()`). */
  locate?(): BlobLocation | undefined;
}

export interface Image {
  /** What the user named (a path, or '-' for standard input). */
  file: string;
  format: ImageFormat;
  container: Container;
  /** Docker-style tags (RepoTags of a docker-archive; normalised ref names of a layout). */
  repoTags: string[];
  /** org.opencontainers.image.ref.name values (and io.containerd.image.name), as written. */
  refNames: string[];
  /** The manifest, when a manifest blob exists. Legacy docker-archives have none. */
  manifest?: { descriptor: Descriptor; mediaType: string; annotations: Record<string, string> };
  /** The index the manifest was listed in, when it was nested (index.json itself has no digest). */
  indexDigest?: Digest;
  platform?: Platform;
  /** The image ID: the digest of the config blob. */
  id: Digest;
  configSize: number;
  configMediaType: string;
  config: ImageConfig;
  layers: Layer[];
  /** Non-fatal oddities found while opening (history/layer mismatch, missing oci-layout, ...). */
  warnings: string[];
}

/** A descriptor that names an image but could not be opened (a missing blob, say). */
export interface UnavailableImage {
  names: string[];
  error: import('./errors.js').LayerlensError;
  digest?: Digest;
  platform?: Platform;
  reason: string;
}

export interface ImageFile {
  file: string;
  format: ImageFormat;
  container: Container;
  images: Image[];
  unavailable: UnavailableImage[];
  /** Index entries skipped because they are not images (attestations, signatures, artifacts). */
  skipped: Array<{ digest: Digest; reason: string }>;
  warnings: string[];
  close(): Promise<void>;
}
