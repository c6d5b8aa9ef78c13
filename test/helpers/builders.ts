// Container images built in memory, byte by byte, for tests of edge cases.
//
// `tar()` writes tar archives itself (no library), so a test controls every header field: ustar
// names split into prefix + name, PAX `x` and `g` records, GNU `L`/`K` long names, base-256
// numbers, every entry type, and whether the end-of-archive blocks and the last entry's padding
// are written at all. `sparse()` writes GNU tar's sparse files in each of its formats (old GNU
// 'S' headers with extension blocks, PAX 0.0, 0.1 and 1.0), maps breakable at will.
//
// `image()` builds one image (layers, config, manifest) with correct digests and diff_ids;
// `ociLayout()` and `dockerArchive()` lay images out as files (a `Tree`), which become a
// directory (`tree.writeTo(dir)`) or a tar (`tree.toTar()`). A Tree can be edited before it is
// written (`remove`, `put`) to break it: a missing blob, a blob that does not hash to its name.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

export const BLOCK = 512;

// ---------------------------------------------------------------------------------------------
// Tar headers

export type NumericField = 'mode' | 'uid' | 'gid' | 'size' | 'mtime' | 'devMajor' | 'devMinor';

export interface HeaderFields {
  name: string | Buffer;
  mode?: number;
  uid?: number;
  gid?: number;
  /** The size written in the header (defaults to the content's length). */
  size?: number;
  mtime?: number;
  /** One character; '\0' writes a NUL byte (the pre-POSIX regular file). */
  typeflag?: string;
  linkname?: string | Buffer;
  uname?: string;
  gname?: string;
  devMajor?: number;
  devMinor?: number;
  /** The ustar prefix field (bytes 345..500); only meaningful with format 'ustar'. */
  prefix?: string | Buffer;
  /** 'ustar' (POSIX, default), 'gnu' ("ustar  \0"), or 'v7' (no magic). */
  format?: 'ustar' | 'gnu' | 'v7';
  /** Fields written in base-256 (high bit set, big-endian two's complement) instead of octal. */
  base256?: NumericField[];
  /** Write this checksum instead of the right one. */
  checksum?: number;
  /** Raw bytes to place at given offsets inside the block after the fields are written (GNU sparse maps, ...). */
  patch?: Array<{ offset: number; bytes: Buffer }>;
}

const FIELD: Record<NumericField, [number, number]> = {
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  devMajor: [329, 8],
  devMinor: [337, 8],
};

function bytes(v: string | Buffer): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

function putText(block: Buffer, offset: number, length: number, value: string | Buffer, what: string): void {
  const b = bytes(value);
  if (b.length > length) throw new Error(`tar builder: ${what} is ${b.length} bytes, the field holds ${length}`);
  b.copy(block, offset);
}

/** Octal, zero-padded, NUL-terminated, as POSIX writers do. */
function putOctal(block: Buffer, offset: number, length: number, value: number, what: string): void {
  const text = value.toString(8).padStart(length - 1, '0');
  if (value < 0 || text.length > length - 1) throw new Error(`tar builder: ${what} ${value} does not fit in octal; use base256`);
  block.write(text, offset, 'latin1');
  block[offset + length - 1] = 0;
}

/** Base-256: big-endian two's complement with the top bit of the first byte set, as GNU tar writes. */
export function base256(value: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let v = BigInt(value);
  const negative = v < 0n;
  if (negative) v = (1n << BigInt(8 * length)) + v; // two's complement over the whole field
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  out[0] = negative ? out[0]! | 0x80 : 0x80 | (out[0]! & 0x7f);
  return out;
}

/** One 512-byte header block. */
export function tarHeader(f: HeaderFields): Buffer {
  const block = Buffer.alloc(BLOCK);
  const format = f.format ?? 'ustar';
  putText(block, 0, 100, f.name, 'name');
  const numbers: Record<NumericField, number> = {
    mode: f.mode ?? 0o644,
    uid: f.uid ?? 0,
    gid: f.gid ?? 0,
    size: f.size ?? 0,
    mtime: f.mtime ?? 1_700_000_000,
    devMajor: f.devMajor ?? 0,
    devMinor: f.devMinor ?? 0,
  };
  for (const key of Object.keys(FIELD) as NumericField[]) {
    const [offset, length] = FIELD[key];
    if (format === 'v7' && (key === 'devMajor' || key === 'devMinor')) continue;
    if (f.base256?.includes(key)) base256(numbers[key], length).copy(block, offset);
    else putOctal(block, offset, length, numbers[key], key);
  }
  const typeflag = f.typeflag ?? '0';
  block[156] = typeflag === '\0' ? 0 : typeflag.charCodeAt(0);
  if (f.linkname !== undefined) putText(block, 157, 100, f.linkname, 'linkname');
  if (format === 'ustar') {
    block.write('ustar\u000000', 257, 'latin1');
  } else if (format === 'gnu') {
    block.write('ustar  \u0000', 257, 'latin1');
  }
  if (format !== 'v7') {
    putText(block, 265, 32, f.uname ?? '', 'uname');
    putText(block, 297, 32, f.gname ?? '', 'gname');
  }
  if (f.prefix !== undefined) putText(block, 345, 155, f.prefix, 'prefix');
  for (const p of f.patch ?? []) p.bytes.copy(block, p.offset);
  const sum = f.checksum ?? headerChecksum(block);
  // Six octal digits, NUL, space: what tar(1) writes.
  block.write(sum.toString(8).padStart(6, '0') + '\u0000 ', 148, 'latin1');
  return block;
}

/** The unsigned sum of the block with the checksum field counted as spaces. */
export function headerChecksum(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum;
}

/** PAX records `LEN key=value\n`, LEN counting itself; a list of pairs may repeat a key. */
export function paxRecords(records: Record<string, string | Buffer> | Array<[string, string | Buffer]>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of Array.isArray(records) ? records : Object.entries(records)) {
    const body = Buffer.concat([Buffer.from(` ${key}=`, 'utf8'), bytes(value), Buffer.from('\n')]);
    let len = body.length + 1;
    while (String(len).length + body.length !== len) len = String(len).length + body.length;
    parts.push(Buffer.from(String(len), 'latin1'), body);
  }
  return Buffer.concat(parts);
}

function padTo512(n: number): number {
  return (BLOCK - (n % BLOCK)) % BLOCK;
}

// ---------------------------------------------------------------------------------------------
// Tar archives

export type EntryKind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'contiguous';

const TYPEFLAG: Record<EntryKind, string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6', contiguous: '7' };

export interface EntryOptions extends Partial<Omit<HeaderFields, 'name' | 'linkname'>> {
  /** How a name longer than 100 bytes is written: ustar prefix, GNU `L`, or PAX `path`. */
  longName?: 'prefix' | 'gnu' | 'pax';
  /** How a link target longer than 100 bytes is written: GNU `K` or PAX `linkpath`. */
  longLink?: 'gnu' | 'pax';
  /** PAX records written in an `x` header before this entry. */
  pax?: Record<string, string | Buffer>;
}

export interface BuildOptions {
  /** End-of-archive zero blocks: 2 (default), 1 or 0. */
  endBlocks?: 0 | 1 | 2;
  /** Pad the last entry's content to a whole block (default true). */
  padLast?: boolean;
  /** Pad the archive to a multiple of this many bytes (tar(1) uses 10240). */
  recordSize?: number;
}

export class TarBuilder {
  private readonly parts: Buffer[] = [];
  /** Where the unpadded content of the last entry ends; `build` can drop the padding after it. */
  private lastContentEnd = 0;

  /** Parts already counted in `counted` (parts are only ever appended). */
  private countedParts = 0;
  private counted = 0;

  /** Bytes written so far (useful to compute expected offsets). */
  get length(): number {
    for (; this.countedParts < this.parts.length; this.countedParts++) this.counted += this.parts[this.countedParts]!.length;
    return this.counted;
  }

  /** A regular file. */
  file(name: string | Buffer, content: string | Buffer = '', opts: EntryOptions = {}): this {
    return this.entry('file', name, bytes(content), undefined, opts);
  }

  dir(name: string | Buffer, opts: EntryOptions = {}): this {
    return this.entry('dir', name, Buffer.alloc(0), undefined, { mode: 0o755, ...opts });
  }

  symlink(name: string | Buffer, target: string | Buffer, opts: EntryOptions = {}): this {
    return this.entry('symlink', name, Buffer.alloc(0), target, { mode: 0o777, ...opts });
  }

  hardlink(name: string | Buffer, target: string | Buffer, opts: EntryOptions = {}): this {
    return this.entry('hardlink', name, Buffer.alloc(0), target, opts);
  }

  /** char, block, fifo, contiguous (or file/dir/links with explicit content). */
  special(kind: EntryKind, name: string | Buffer, opts: EntryOptions = {}, content: Buffer = Buffer.alloc(0)): this {
    return this.entry(kind, name, content, undefined, opts);
  }

  /** A PAX global header (`g`): records for all entries that follow. */
  globalPax(records: Record<string, string | Buffer>, name = 'pax_global_header'): this {
    return this.meta('g', name, paxRecords(records));
  }

  /** A PAX extended header (`x`) on its own: records for the next entry. */
  pax(records: Record<string, string | Buffer> | Array<[string, string | Buffer]>, name = 'PaxHeaders.0/entry'): this {
    return this.meta('x', name, paxRecords(records));
  }

  /**
   * A sparse file as GNU tar writes it with `--sparse` in the given format: only the regions'
   * data is stored, with a map of where it goes. `sparseContent(input)` is the file it stands for.
   */
  sparse(name: string | Buffer, input: SparseInput, opts: Pick<EntryOptions, 'mode' | 'uid' | 'gid' | 'mtime'> = {}): this {
    const data = Buffer.concat(input.regions.map((r) => bytes(r.data)));
    const map = input.map ?? input.regions.map((r): [number, number] => [r.offset, bytes(r.data).length]);
    const nameBytes = bytes(name);
    if (input.format === 'gnu') {
      // Old GNU: 4 map entries in the header at 386, then extension blocks of 21 while needed.
      const entry = (b: Buffer, at: number, [offset, length]: [number, number]) => {
        putOctal(b, at, 12, offset, 'sparse offset');
        putOctal(b, at + 12, 12, length, 'sparse length');
      };
      const head = Buffer.alloc(4 * 24 + 1);
      map.slice(0, 4).forEach((m, i) => entry(head, i * 24, m));
      head[96] = map.length > 4 ? 1 : 0;
      const real = Buffer.alloc(12);
      putOctal(real, 0, 12, input.realSize, 'real size');
      this.parts.push(
        tarHeader({ name: nameBytes, typeflag: 'S', format: 'gnu', size: input.storedSize ?? data.length, ...opts, patch: [{ offset: 386, bytes: head }, { offset: 483, bytes: real }] }),
      );
      for (let i = 4; i < map.length; i += 21) {
        const ext = Buffer.alloc(BLOCK);
        map.slice(i, i + 21).forEach((m, j) => entry(ext, j * 24, m));
        ext[504] = i + 21 < map.length ? 1 : 0;
        this.parts.push(ext);
      }
      this.push(data);
      return this;
    }
    const records: Array<[string, string | Buffer]> = [];
    let headerName: Buffer = nameBytes;
    let stored = data;
    if (input.format === 'pax-0.0') {
      records.push(['GNU.sparse.size', String(input.realSize)], ['GNU.sparse.numblocks', String(map.length)]);
      for (const [offset, length] of map) records.push(['GNU.sparse.offset', String(offset)], ['GNU.sparse.numbytes', String(length)]);
    } else if (input.format === 'pax-0.1') {
      records.push(['GNU.sparse.size', String(input.realSize)], ['GNU.sparse.numblocks', String(map.length)], ['GNU.sparse.name', nameBytes], ['GNU.sparse.map', map.flat().join(',')]);
      headerName = Buffer.concat([Buffer.from('./GNUSparseFile.0/'), nameBytes]).subarray(0, 100);
    } else {
      records.push(['GNU.sparse.major', '1'], ['GNU.sparse.minor', '0'], ['GNU.sparse.name', nameBytes], ['GNU.sparse.realsize', String(input.realSize)]);
      headerName = Buffer.concat([Buffer.from('./GNUSparseFile.0/'), nameBytes]).subarray(0, 100);
      const text = Buffer.from(input.mapText ?? `${map.length}\n${map.map(([o, l]) => `${o}\n${l}\n`).join('')}`, 'latin1');
      stored = Buffer.concat([text, Buffer.alloc(padTo512(text.length)), data]);
    }
    this.pax([...records, ...(input.pax ?? [])]);
    this.parts.push(tarHeader({ name: headerName, typeflag: '0', size: input.storedSize ?? stored.length, ...opts }));
    this.push(stored);
    return this;
  }

  /** A bare GNU long-name (`L`) or long-link (`K`) header, content NUL-terminated. */
  gnuLong(typeflag: 'L' | 'K', value: string | Buffer): this {
    return this.meta(typeflag, '././@LongLink', Buffer.concat([bytes(value), Buffer.alloc(1)]), 'gnu');
  }

  /** A header and content exactly as given (the content is padded to a block). */
  raw(header: HeaderFields, content: Buffer = Buffer.alloc(0)): this {
    this.parts.push(tarHeader({ size: content.length, ...header }));
    this.push(content);
    return this;
  }

  /** Bytes appended verbatim (no padding). */
  bytes(b: Buffer): this {
    this.parts.push(b);
    this.lastContentEnd = this.length;
    return this;
  }

  build(opts: BuildOptions = {}): Buffer {
    let out = Buffer.concat(this.parts);
    if (opts.padLast === false) out = out.subarray(0, this.lastContentEnd);
    const end = Buffer.alloc(BLOCK * (opts.endBlocks ?? 2));
    out = Buffer.concat([out, end]);
    if (opts.recordSize) out = Buffer.concat([out, Buffer.alloc((opts.recordSize - (out.length % opts.recordSize)) % opts.recordSize)]);
    return out;
  }

  private meta(typeflag: string, name: string, content: Buffer, format: HeaderFields['format'] = 'ustar'): this {
    this.parts.push(tarHeader({ name, typeflag, size: content.length, mode: 0o644, mtime: 0, format }));
    this.push(content);
    return this;
  }

  private push(content: Buffer): void {
    if (content.length) this.parts.push(content);
    this.lastContentEnd = this.length;
    const pad = padTo512(content.length);
    if (pad) this.parts.push(Buffer.alloc(pad));
  }

  private entry(kind: EntryKind, name: string | Buffer, content: Buffer, link: string | Buffer | undefined, opts: EntryOptions): this {
    const { longName, longLink, pax, ...fields } = opts;
    const nameBytes = bytes(name);
    const linkBytes = link === undefined ? undefined : bytes(link);
    const records: Record<string, string | Buffer> = { ...(pax ?? {}) };
    let headerName: Buffer = nameBytes;
    let prefix: Buffer | undefined;
    if (nameBytes.length > 100 || longName) {
      switch (longName ?? 'fail') {
        case 'prefix': {
          // Split at a slash so that name <= 100 and prefix <= 155.
          let cut = -1;
          for (let i = nameBytes.length - 1; i >= 0; i--) {
            if (nameBytes[i] === 0x2f && nameBytes.length - i - 1 <= 100 && i <= 155) {
              cut = i;
              break;
            }
          }
          if (cut <= 0) throw new Error(`tar builder: ${nameBytes.toString()} cannot be split into ustar prefix and name`);
          prefix = nameBytes.subarray(0, cut);
          headerName = nameBytes.subarray(cut + 1);
          break;
        }
        case 'gnu':
          this.gnuLong('L', nameBytes);
          headerName = nameBytes.subarray(0, 100);
          break;
        case 'pax':
          records.path = nameBytes;
          headerName = nameBytes.subarray(0, 100);
          break;
        default:
          throw new Error(`tar builder: name of ${nameBytes.length} bytes needs longName`);
      }
    }
    let headerLink = linkBytes;
    if (linkBytes && (linkBytes.length > 100 || longLink)) {
      if (longLink === 'gnu') this.gnuLong('K', linkBytes);
      else if (longLink === 'pax') records.linkpath = linkBytes;
      else throw new Error(`tar builder: link target of ${linkBytes.length} bytes needs longLink`);
      headerLink = linkBytes.subarray(0, 100);
    }
    if (Object.keys(records).length) this.pax(records);
    const format = fields.format ?? (longName === 'gnu' || longLink === 'gnu' ? 'gnu' : 'ustar');
    this.parts.push(
      tarHeader({
        typeflag: TYPEFLAG[kind],
        size: content.length,
        ...fields,
        format,
        name: headerName,
        prefix: prefix ?? fields.prefix,
        linkname: headerLink,
      }),
    );
    this.push(content);
    return this;
  }
}

export function tar(): TarBuilder {
  return new TarBuilder();
}

export type SparseFormat = 'gnu' | 'pax-0.0' | 'pax-0.1' | 'pax-1.0';

export interface SparseInput {
  format: SparseFormat;
  /** The file's data regions, in order; everything else up to realSize is holes. */
  regions: Array<{ offset: number; data: string | Buffer }>;
  realSize: number;
  /** Write this map (offset, length pairs) instead of the regions' own (to break it). */
  map?: Array<[number, number]>;
  /** Write this size in the header instead of the bytes stored (to break it). */
  storedSize?: number;
  /** More PAX records after the sparse ones (PAX formats). */
  pax?: Array<[string, string | Buffer]>;
  /** PAX 1.0: this text as the map at the start of the data, instead of the right one. */
  mapText?: string;
}

/** The file a sparse entry stands for: zeros, with each region's data in place. */
export function sparseContent(input: Pick<SparseInput, 'regions' | 'realSize'>): Buffer {
  const out = Buffer.alloc(input.realSize);
  for (const r of input.regions) bytes(r.data).copy(out, r.offset);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Compression and digests

export type Compression = 'none' | 'gzip' | 'zstd';

export const ZSTD_CLI = '/usr/bin/zstd';
/** zstd compression needs the zstd program (Node 20 has no zstd encoder). */
export const HAS_ZSTD = fs.existsSync(ZSTD_CLI);
if (!HAS_ZSTD) console.warn(`[layerlens tests] ${ZSTD_CLI} is absent: tests that build zstd data are skipped.`);

export function zstd(data: Buffer): Buffer {
  if (!HAS_ZSTD) throw new Error(`${ZSTD_CLI} is absent (guard the test with HAS_ZSTD)`);
  return execFileSync(ZSTD_CLI, ['-q', '-c', '-3'], { input: data, maxBuffer: 256 * 1024 * 1024 });
}

export function compress(data: Buffer, how: Compression): Buffer {
  if (how === 'gzip') return zlib.gzipSync(data);
  if (how === 'zstd') return zstd(data);
  return data;
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function hex(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1);
}

/** A well-formed sha256 digest that names nothing. */
export function fakeDigest(seed = 'nothing'): string {
  return sha256(`fake:${seed}`);
}

// ---------------------------------------------------------------------------------------------
// Images

export const MT = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export interface Blob {
  mediaType: string;
  digest: string;
  size: number;
  bytes: Buffer;
}

export function blob(mediaType: string, data: Buffer | string | object): Blob {
  const b = Buffer.isBuffer(data) ? data : Buffer.from(typeof data === 'string' ? data : JSON.stringify(data));
  return { mediaType, digest: sha256(b), size: b.length, bytes: b };
}

export interface LayerInput {
  /** The layer's tar (a builder or finished bytes). Default: one small file. */
  tar?: TarBuilder | Buffer;
  compression?: Compression;
  /** Override the media type written in the manifest. */
  mediaType?: string;
}

export interface BuiltLayer extends Blob {
  /** The uncompressed tar. */
  tar: Buffer;
  diffId: string;
  compression: Compression;
}

export interface HistoryInput {
  created?: string;
  created_by?: string;
  comment?: string;
  author?: string;
  empty_layer?: boolean;
}

export interface ImageInput {
  layers?: LayerInput[];
  os?: string;
  architecture?: string;
  variant?: string;
  created?: string;
  author?: string;
  /** The execution parameters (`config` in the config document). */
  config?: Record<string, unknown>;
  /** History entries; default: one `ADD` per layer, in order. */
  history?: HistoryInput[];
  /** Replace rootfs.diff_ids (to break them). */
  diffIds?: string[];
  /** Extra top-level fields of the config document. */
  extra?: Record<string, unknown>;
  /** Manifest flavour: OCI (default) or Docker v2 schema 2. */
  manifestType?: 'oci' | 'docker';
  manifestAnnotations?: Record<string, string>;
}

export interface BuiltImage {
  config: Blob;
  configDoc: Record<string, unknown>;
  layers: BuiltLayer[];
  manifest: Blob;
  manifestDoc: Record<string, unknown>;
  platform: { os: string; architecture: string; variant?: string };
}

export function layer(input: LayerInput = {}): BuiltLayer {
  const plain = input.tar === undefined ? tar().file('hello.txt', 'hello\n').build() : Buffer.isBuffer(input.tar) ? input.tar : input.tar.build();
  const compression = input.compression ?? 'none';
  const stored = compress(plain, compression);
  const mediaType = input.mediaType ?? (compression === 'gzip' ? MT.ociLayerGzip : compression === 'zstd' ? MT.ociLayerZstd : MT.ociLayer);
  return { ...blob(mediaType, stored), tar: plain, diffId: sha256(plain), compression };
}

export const CREATED = '2024-05-01T10:00:00Z';

export function image(input: ImageInput = {}): BuiltImage {
  const layers = (input.layers ?? [{}]).map(layer);
  const platform = { os: input.os ?? 'linux', architecture: input.architecture ?? 'amd64', ...(input.variant ? { variant: input.variant } : {}) };
  const history =
    input.history ?? layers.map((l, i) => ({ created: CREATED, created_by: `/bin/sh -c #(nop) ADD file:${hex(l.diffId).slice(0, 12)} in /layer${i}` }));
  const configDoc: Record<string, unknown> = {
    created: input.created ?? CREATED,
    ...(input.author ? { author: input.author } : {}),
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: input.config ?? { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: input.diffIds ?? layers.map((l) => l.diffId) },
    history,
    ...(input.extra ?? {}),
  };
  const docker = input.manifestType === 'docker';
  const config = blob(docker ? MT.dockerConfig : MT.ociConfig, configDoc);
  const manifestDoc: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: docker ? MT.dockerManifest : MT.ociManifest,
    config: descriptor(config),
    layers: layers.map((l) => descriptor(docker && l.compression === 'gzip' ? { ...l, mediaType: MT.dockerLayerGzip } : l)),
    ...(input.manifestAnnotations ? { annotations: input.manifestAnnotations } : {}),
  };
  const manifest = blob(manifestDoc.mediaType as string, manifestDoc);
  return { config, configDoc, layers, manifest, manifestDoc, platform };
}

export function descriptor(b: Blob, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { mediaType: b.mediaType, digest: b.digest, size: b.size, ...extra };
}

export function blobPath(digest: string): string {
  return `blobs/${digest.replace(':', '/')}`;
}

// ---------------------------------------------------------------------------------------------
// Files: a directory or a tar

export type Node = { kind: 'file'; data: Buffer } | { kind: 'symlink'; target: string } | { kind: 'hardlink'; target: string } | { kind: 'dir' };

/** Files in insertion order, written out as a directory or as a tar. */
export class Tree {
  readonly nodes = new Map<string, Node>();

  put(p: string, data: Buffer | string | object): this {
    const b = Buffer.isBuffer(data) ? data : Buffer.from(typeof data === 'string' ? data : JSON.stringify(data));
    this.nodes.set(p, { kind: 'file', data: b });
    return this;
  }

  symlink(p: string, target: string): this {
    this.nodes.set(p, { kind: 'symlink', target });
    return this;
  }

  /** A hard link to another file of the tree (a tar `1` entry; a real link on disk). */
  hardlink(p: string, target: string): this {
    this.nodes.set(p, { kind: 'hardlink', target });
    return this;
  }

  dir(p: string): this {
    this.nodes.set(p, { kind: 'dir' });
    return this;
  }

  remove(p: string): this {
    if (!this.nodes.delete(p)) throw new Error(`tree has no ${p}`);
    return this;
  }

  get(p: string): Buffer {
    const n = this.nodes.get(p);
    if (n?.kind !== 'file') throw new Error(`tree has no file ${p}`);
    return n.data;
  }

  paths(): string[] {
    return [...this.nodes.keys()];
  }

  /**
   * A tar of the tree; parent directories get entries of their own (as docker save writes them).
   * `names` writes every member's name the given way (ustar prefix for names with a slash, GNU
   * `L`, or PAX `path`) instead of only the names longer than 100 bytes (PAX).
   */
  toTar(opts: BuildOptions & { dirs?: boolean; names?: 'prefix' | 'gnu' | 'pax' } = {}): Buffer {
    const t = tar();
    const seen = new Set<string>();
    for (const [p, n] of this.nodes) {
      if (opts.dirs !== false) {
        const parts = p.split('/');
        for (let i = 1; i < parts.length; i++) {
          const d = parts.slice(0, i).join('/');
          if (!seen.has(d) && !this.nodes.has(d)) {
            seen.add(d);
            t.dir(`${d}/`, { mtime: 0 });
          }
        }
      }
      seen.add(p);
      const forced = opts.names && (opts.names !== 'prefix' || p.includes('/')) ? opts.names : undefined;
      const long = forced ? { longName: forced } : Buffer.byteLength(p) > 100 ? ({ longName: 'pax' } as const) : {};
      if (n.kind === 'file') t.file(p, n.data, { mtime: 0, ...long });
      else if (n.kind === 'symlink') t.symlink(p, n.target, { mtime: 0, ...long });
      else if (n.kind === 'hardlink') t.hardlink(p, n.target, { mtime: 0, ...long });
      else t.dir(`${p}/`, { mtime: 0, ...long });
    }
    return t.build(opts);
  }

  /** Write the tree under `dir` (created); returns `dir`. */
  writeTo(dir: string): string {
    fs.mkdirSync(dir, { recursive: true });
    for (const [p, n] of this.nodes) {
      const full = path.join(dir, p);
      fs.mkdirSync(path.dirname(full), { recursive: true });
      if (n.kind === 'file') fs.writeFileSync(full, n.data);
      else if (n.kind === 'symlink') fs.symlinkSync(n.target, full);
      else if (n.kind === 'hardlink') fs.linkSync(path.join(dir, n.target), full);
      else fs.mkdirSync(full, { recursive: true });
    }
    return dir;
  }
}

/** A fresh temporary folder, removed by `cleanup()` (call it in afterAll). */
export function tempDir(): { dir: string; file: (name: string, data?: Buffer) => string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-test-'));
  return {
    dir,
    file: (name, data) => {
      const p = path.join(dir, name);
      if (data !== undefined) {
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.writeFileSync(p, data);
      }
      return p;
    },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

// ---------------------------------------------------------------------------------------------
// OCI image layout

export interface IndexChild {
  image?: BuiltImage;
  index?: BuiltIndex;
  /** org.opencontainers.image.ref.name */
  refName?: string;
  annotations?: Record<string, string>;
  /** Write the image's platform in the descriptor (default: true inside an index blob, false in index.json). */
  platform?: boolean | { os: string; architecture: string; variant?: string };
  /** Override the descriptor's media type (or leave it out with ''). */
  mediaType?: string;
}

export interface BuiltIndex extends Blob {
  children: IndexChild[];
  doc: Record<string, unknown>;
}

function childDescriptor(c: IndexChild, platformByDefault: boolean): Record<string, unknown> {
  const b = c.image ? c.image.manifest : c.index;
  if (!b) throw new Error('index child needs image or index');
  const annotations = { ...(c.annotations ?? {}), ...(c.refName ? { 'org.opencontainers.image.ref.name': c.refName } : {}) };
  const d: Record<string, unknown> = descriptor(b);
  if (c.mediaType !== undefined) {
    if (c.mediaType === '') delete d.mediaType;
    else d.mediaType = c.mediaType;
  }
  const wantPlatform = c.platform ?? platformByDefault;
  if (wantPlatform && c.image) d.platform = typeof wantPlatform === 'object' ? wantPlatform : c.image.platform;
  if (Object.keys(annotations).length) d.annotations = annotations;
  return d;
}

/** An image index blob (a manifest list), e.g. one per platform. */
export function imageIndex(children: IndexChild[], annotations?: Record<string, string>): BuiltIndex {
  const doc = { schemaVersion: 2, mediaType: MT.ociIndex, manifests: children.map((c) => childDescriptor(c, true)), ...(annotations ? { annotations } : {}) };
  return { ...blob(MT.ociIndex, doc), children, doc };
}

function putImageBlobs(t: Tree, im: BuiltImage): void {
  t.put(blobPath(im.manifest.digest), im.manifest.bytes);
  t.put(blobPath(im.config.digest), im.config.bytes);
  for (const l of im.layers) t.put(blobPath(l.digest), l.bytes);
}

function putChildBlobs(t: Tree, c: IndexChild): void {
  if (c.image) putImageBlobs(t, c.image);
  if (c.index) {
    t.put(blobPath(c.index.digest), c.index.bytes);
    for (const cc of c.index.children) putChildBlobs(t, cc);
  }
}

export interface LayoutOptions {
  /** Write the `oci-layout` file (default true). */
  ociLayoutFile?: boolean;
}

/** An OCI image layout: oci-layout, index.json, blobs/sha256/... */
export function ociLayout(children: IndexChild[], opts: LayoutOptions = {}): Tree {
  const t = new Tree();
  if (opts.ociLayoutFile !== false) t.put('oci-layout', '{"imageLayoutVersion":"1.0.0"}');
  t.put('index.json', { schemaVersion: 2, mediaType: MT.ociIndex, manifests: children.map((c) => childDescriptor(c, false)) });
  for (const c of children) putChildBlobs(t, c);
  return t;
}

// ---------------------------------------------------------------------------------------------
// docker-archive

export interface ArchiveImage {
  image: BuiltImage;
  repoTags?: string[];
}

export interface DockerArchiveOptions {
  /**
   * 'legacy': `<hex>.json` configs, `<hex>.tar` layers (hex of the stored blob), and `<id>/layer.tar`
   * symlinks to them which manifest.json lists. 'docker25': an OCI layout plus manifest.json
   * pointing into blobs/.
   */
  style?: 'legacy' | 'docker25';
  /** legacy: list `<hex>.tar` in manifest.json directly rather than the `<id>/layer.tar` links. */
  directLayers?: boolean;
  /** legacy: name the config by this digest instead of its own (to break it). */
  configDigest?: (im: BuiltImage) => string;
}

/** The legacy layer ID docker derives from the chain; any stable 64-hex string does here. */
function v1Id(im: BuiltImage, i: number): string {
  return hex(sha256(`${im.config.digest}/${i}`));
}

export function dockerArchive(images: ArchiveImage[], opts: DockerArchiveOptions = {}): Tree {
  const t = new Tree();
  const style = opts.style ?? 'legacy';
  const manifest: Array<Record<string, unknown>> = [];
  if (style === 'docker25') {
    const children: IndexChild[] = images.map(({ image: im, repoTags }) => {
      const tag = repoTags?.[0];
      const annotations: Record<string, string> = {};
      if (tag) {
        annotations['io.containerd.image.name'] = tag.includes('/') ? tag : `docker.io/library/${tag}`;
        annotations['org.opencontainers.image.ref.name'] = tag.slice(tag.lastIndexOf(':') + 1);
      }
      return { image: im, annotations };
    });
    const layout = ociLayout(children);
    for (const [p, n] of layout.nodes) t.nodes.set(p, n);
    for (const { image: im, repoTags } of images) {
      manifest.push({ Config: blobPath(im.config.digest), RepoTags: repoTags ?? null, Layers: im.layers.map((l) => blobPath(l.digest)) });
    }
    t.put('manifest.json', manifest);
    return t;
  }
  const repositories: Record<string, Record<string, string>> = {};
  for (const { image: im, repoTags } of images) {
    const configName = `${hex(opts.configDigest ? opts.configDigest(im) : im.config.digest)}.json`;
    t.put(configName, im.config.bytes);
    const layerPaths: string[] = [];
    im.layers.forEach((l, i) => {
      const name = `${hex(l.digest)}.tar`;
      t.put(name, l.bytes);
      if (opts.directLayers) {
        layerPaths.push(name);
      } else {
        const id = v1Id(im, i);
        t.put(`${id}/VERSION`, '1.0');
        t.symlink(`${id}/layer.tar`, `../${name}`);
        layerPaths.push(`${id}/layer.tar`);
      }
    });
    manifest.push({ Config: configName, RepoTags: repoTags ?? null, Layers: layerPaths });
    for (const tag of repoTags ?? []) {
      const colon = tag.lastIndexOf(':');
      (repositories[tag.slice(0, colon)] ??= {})[tag.slice(colon + 1)] = v1Id(im, im.layers.length - 1);
    }
  }
  t.put('manifest.json', manifest);
  if (Object.keys(repositories).length) t.put('repositories', repositories);
  return t;
}
