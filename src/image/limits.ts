// Safety limits: what one command will read before it stops with a `limit` error. An image is
// untrusted input; these bound the time, memory and disk a crafted one can take (a
// decompression bomb, millions of empty entries, a path nested a million levels deep, a symlink
// chain, a gigabyte of JSON). Each has a default well above what real images need and a flag to
// change it; the defaults are listed in the README's "Security" section.
import { LayerlensError } from './errors.js';

export interface Limits {
  /**
   * Uncompressed bytes one command reads: the layers' tars (holes of sparse files included)
   * summed over every layer a pass reads, and a compressed outer archive as it is decompressed.
   */
  maxBytes: number;
  /**
   * Tar entries: summed over the layers a pass reads, and the members of the outer archive; and
   * the paths the filesystem tree makes (a deep entry implies many directories).
   */
  maxEntries: number;
  /**
   * Bytes of metadata the filesystem tree holds: every path it makes, counted in full, with its
   * link target and extended attributes. Bounds memory (and what listings print) where many
   * long paths, long link targets or large xattrs would pass the other limits.
   */
  maxMetadataBytes: number;
  /** Bytes in a path: a name or link target in a tar, and a path once symlinks are resolved. */
  maxPathLength: number;
  /** Symbolic links followed to resolve one path (in the image, and between archive members). */
  maxLinkDepth: number;
  /** Bytes of one JSON document (manifest.json, index.json, a manifest, an index, a config). */
  maxJsonBytes: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxBytes: 32 * 1024 ** 3,
  maxEntries: 2_000_000,
  maxMetadataBytes: 256 * 1024 ** 2,
  maxPathLength: 4096,
  maxLinkDepth: 40,
  maxJsonBytes: 16 * 1024 * 1024,
});

/** The flag that sets each limit, for messages. */
export const LIMIT_FLAGS: Readonly<Record<keyof Limits, string>> = Object.freeze({
  maxBytes: '--max-bytes',
  maxEntries: '--max-entries',
  maxMetadataBytes: '--max-metadata-bytes',
  maxPathLength: '--max-path-length',
  maxLinkDepth: '--max-link-depth',
  maxJsonBytes: '--max-json-bytes',
});

/** JSON nested deeper than this is refused (no image document nests more than a few levels). */
export const MAX_JSON_DEPTH = 512;

/** The defaults, with what the caller set. */
export function resolveLimits(partial?: Partial<Limits>): Limits {
  const out: Limits = { ...DEFAULT_LIMITS };
  if (partial) {
    for (const key of Object.keys(DEFAULT_LIMITS) as Array<keyof Limits>) {
      const v = partial[key];
      if (v !== undefined) out[key] = v;
    }
  }
  return out;
}

/**
 * The error for a limit that was hit: what was found, then the limit in force and the flag that
 * sets it, e.g. `the layers hold too many tar entries (limit: --max-entries 2000000)`.
 */
export function limitError(key: keyof Limits, what: string, value: number, where: { file?: string; member?: string } = {}): LayerlensError {
  return new LayerlensError('limit', `${what} (limit: ${LIMIT_FLAGS[key]} ${formatLimit(key, value)})`, where);
}

/** A limit's value as its flag takes it: sizes in Ki/Mi/Gi where they divide evenly. */
export function formatLimit(key: keyof Limits, value: number): string {
  if (!isSizeLimit(key)) return String(value);
  for (const [unit, n] of [['Ti', 1024 ** 4], ['Gi', 1024 ** 3], ['Mi', 1024 ** 2], ['Ki', 1024]] as const) {
    if (value >= n && value % n === 0) return `${value / n}${unit}`;
  }
  return String(value);
}

/** Limits that are sizes in bytes (the flags take 512Mi, 2G, ...). */
export function isSizeLimit(key: keyof Limits): boolean {
  return key === 'maxBytes' || key === 'maxJsonBytes' || key === 'maxMetadataBytes';
}

/** Running totals of one pass over an image's layers, checked against the limits as they grow. */
export class Budget {
  bytes = 0;
  entries = 0;

  /**
   * `shared`, when given, holds the running totals [bytes, entries] for several threads reading
   * the layers of one pass at once (a SharedArrayBuffer's view): the limits bound their sum.
   */
  constructor(
    readonly limits: Limits,
    readonly shared?: BigInt64Array,
  ) {}

  addBytes(n: number, where: { file?: string; member?: string }): void {
    this.bytes = this.shared ? Number(Atomics.add(this.shared, 0, BigInt(n))) + n : this.bytes + n;
    if (this.bytes > this.limits.maxBytes) {
      throw limitError('maxBytes', 'the layers hold too much uncompressed data', this.limits.maxBytes, where);
    }
  }

  addEntry(where: { file?: string; member?: string }): void {
    this.entries = this.shared ? Number(Atomics.add(this.shared, 1, 1n)) + 1 : this.entries + 1;
    if (this.entries > this.limits.maxEntries) {
      throw limitError('maxEntries', 'the layers hold too many tar entries', this.limits.maxEntries, where);
    }
  }
}

/** Totals that several threads can count into (see Budget). */
export function sharedBudgetCounters(): BigInt64Array {
  return new BigInt64Array(new SharedArrayBuffer(16));
}

/** Bytes of a name as tar stored it (each U+DC80..U+DCFF stands for one byte that was not UTF-8). */
export function nameBytes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else if (c >= 0xdc80 && c <= 0xdcff) n += 1;
    else n += 3;
  }
  return n;
}

/** Refuse a path (or link target) longer than the limit; `what` names it ("path", "link target of ..."). */
export function checkPathLength(s: string, max: number, what: string, where: { file?: string; member?: string }): void {
  // Every character is at least one byte: only a long string needs counting.
  if (s.length * 3 <= max) return;
  const n = nameBytes(s);
  if (n > max) {
    const shown = s.length > 60 ? `${JSON.stringify(s.slice(0, 60)).slice(0, -1)}…"` : JSON.stringify(s);
    throw limitError('maxPathLength', `${what} ${shown} is ${n} bytes long`, max, where);
  }
}
