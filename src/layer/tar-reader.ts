// A streaming tar reader: bytes in (any chunking), entries out. It never holds an entry's content;
// content is handed to the entry's sink as views of the incoming chunks. Extended headers (PAX,
// GNU long names) are gathered, bounded, and folded into the entry they describe.
import { LayerlensError } from '../image/errors.js';
import { BLOCK, decodeName, entryType, isMetaTypeflag, parseHeader, parsePax, type EntryType, type RawHeader } from './tar-header.js';

export interface TarEntry {
  /** The name as text (UTF-8, with invalid bytes shown as \xNN), exactly as stored. */
  path: string;
  type: EntryType;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  /** Content bytes stored in the archive for this entry. */
  size: number;
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  devMajor: number;
  devMinor: number;
  /** SCHILY.xattr.* records, values as bytes. */
  xattrs?: Map<string, Buffer>;
  /** For sparse files: the apparent size (size is what the archive stores). */
  sparseRealSize?: number;
  /** Byte offset of the entry's first header (extended headers included). */
  headerOffset: number;
  /** Byte offset of the entry's content. */
  dataOffset: number;
}

export interface EntrySink {
  data(chunk: Buffer): void;
  end(): void;
}

export interface TarReaderOptions {
  where: { file?: string; member?: string };
  onEntry(entry: TarEntry): EntrySink | void;
  /** Largest extended header accepted (a PAX header or GNU long name). */
  maxMetaBytes?: number;
}

const enum State {
  Header,
  Data,
  Meta,
  Padding,
  End,
}

export class TarReader {
  private state = State.Header;
  private offset = 0; // bytes consumed so far
  private headerBuf = Buffer.alloc(BLOCK);
  private headerFill = 0;
  private remaining = 0; // content bytes left in the current entry or meta entry
  private padding = 0;
  private sink: EntrySink | void = undefined;
  private meta: { typeflag: string; chunks: Buffer[]; size: number } | undefined;
  private pendingPax: Map<string, Buffer> | undefined;
  private globalPax: Map<string, Buffer> | undefined;
  private longName: Buffer | undefined;
  private longLink: Buffer | undefined;
  private firstHeaderOffset = -1;
  private sparseExtension: RawHeader | undefined;
  private readonly maxMeta: number;
  entries = 0;
  currentPath = '';

  constructor(private readonly opts: TarReaderOptions) {
    this.maxMeta = opts.maxMetaBytes ?? 1024 * 1024;
  }

  /** True once the end-of-archive marker was read. */
  get ended(): boolean {
    return this.state === State.End;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    const len = chunk.length;
    while (pos < len) {
      switch (this.state) {
        case State.End:
          this.offset += len - pos;
          return;
        case State.Header: {
          if (this.headerFill === 0 && len - pos >= BLOCK) {
            this.onHeaderBlock(chunk, pos, this.offset);
            pos += BLOCK;
            this.offset += BLOCK;
          } else {
            const take = Math.min(BLOCK - this.headerFill, len - pos);
            chunk.copy(this.headerBuf, this.headerFill, pos, pos + take);
            this.headerFill += take;
            pos += take;
            this.offset += take;
            if (this.headerFill === BLOCK) {
              this.headerFill = 0;
              this.onHeaderBlock(this.headerBuf, 0, this.offset - BLOCK);
            }
          }
          break;
        }
        case State.Data: {
          const take = Math.min(this.remaining, len - pos);
          if (this.sink) this.sink.data(chunk.subarray(pos, pos + take));
          pos += take;
          this.offset += take;
          this.remaining -= take;
          if (this.remaining === 0) this.endData();
          break;
        }
        case State.Meta: {
          const take = Math.min(this.remaining, len - pos);
          this.meta!.chunks.push(Buffer.from(chunk.subarray(pos, pos + take)));
          pos += take;
          this.offset += take;
          this.remaining -= take;
          if (this.remaining === 0) this.endMeta();
          break;
        }
        case State.Padding: {
          const take = Math.min(this.padding, len - pos);
          pos += take;
          this.offset += take;
          this.padding -= take;
          if (this.padding === 0) this.state = State.Header;
          break;
        }
      }
    }
  }

  /**
   * Bytes the reader needs before it can skip ahead: the rest of an extended header, or a
   * partial header block. 0 when it is at a point where `skipContent` applies or at a header.
   */
  get metaBytesWanted(): number {
    if (this.state === State.Meta) return this.remaining + this.padding;
    return 0;
  }

  /** Byte offset reached so far. */
  get position(): number {
    return this.offset;
  }

  /**
   * Pass over the current entry's content and padding without reading it (the caller seeks).
   * Returns how many bytes were passed over.
   */
  skipContent(): number {
    if (this.state === State.Data) {
      const n = this.remaining + this.padding;
      this.offset += n;
      this.remaining = 0;
      this.padding = 0;
      this.endData();
      return n;
    }
    if (this.state === State.Padding) {
      const n = this.padding;
      this.offset += n;
      this.padding = 0;
      this.state = State.Header;
      return n;
    }
    return 0;
  }

  /**
   * The input has ended. An archive may end without its two zero blocks, and even without the
   * padding after its last entry (umoci writes such layers); it may not end inside an entry.
   */
  finish(): void {
    const where = this.opts.where;
    if (this.state === State.Data || this.state === State.Meta) {
      throw new LayerlensError('truncated', `tar ends inside the content of ${JSON.stringify(this.currentPath)} (${this.remaining} bytes missing)`, where);
    }
    if (this.state === State.Header && this.headerFill > 0) {
      const partial = this.headerBuf.subarray(0, this.headerFill);
      if (partial.some((b) => b !== 0)) throw new LayerlensError('truncated', `tar ends inside a header at byte ${this.offset - this.headerFill}`, where);
    }
    if (this.meta || this.pendingPax || this.longName || this.longLink || this.sparseExtension) {
      throw new LayerlensError('truncated', 'tar ends after an extended header with no entry', where);
    }
  }

  private onHeaderBlock(b: Buffer, at: number, blockOffset: number): void {
    if (this.sparseExtension) {
      // GNU sparse extension blocks: more of the sparse map, not content; byte 504 says if
      // another follows.
      if (b[at + 504] === 0) {
        const h = this.sparseExtension;
        this.sparseExtension = undefined;
        this.startEntry(h, blockOffset + BLOCK);
      }
      return;
    }
    const header = parseHeader(b, at, this.opts.where, blockOffset);
    if (header === null) {
      // One zero block is enough: some writers emit only one; data after it is not an entry.
      this.state = State.End;
      return;
    }
    if (this.firstHeaderOffset < 0) this.firstHeaderOffset = blockOffset;
    if (isMetaTypeflag(header.typeflag)) {
      if (header.size > this.maxMeta) {
        throw new LayerlensError('limit', `extended tar header of ${header.size} bytes at byte ${blockOffset} exceeds the ${this.maxMeta}-byte limit`, this.opts.where);
      }
      this.meta = { typeflag: header.typeflag, chunks: [], size: header.size };
      this.remaining = header.size;
      this.padding = (BLOCK - (header.size % BLOCK)) % BLOCK;
      if (header.size === 0) this.endMeta();
      else this.state = State.Meta;
      return;
    }
    if (header.typeflag === 'S' && header.format === 'gnu' && b[at + 482] !== 0) {
      // The header's name and linkname are views of the block, which the next block overwrites
      // (the reader's own buffer, or a caller's reused one): keep copies until the entry starts.
      this.sparseExtension = { ...header, name: Buffer.from(header.name), linkname: Buffer.from(header.linkname) };
      return;
    }
    this.startEntry(header, blockOffset + BLOCK);
  }

  private endMeta(): void {
    const meta = this.meta!;
    this.meta = undefined;
    const data = Buffer.concat(meta.chunks);
    switch (meta.typeflag) {
      case 'x':
      case 'X': {
        const pax = parsePax(data, this.opts.where);
        if (!this.pendingPax) this.pendingPax = pax;
        else for (const [k, v] of pax) this.pendingPax.set(k, v);
        break;
      }
      case 'g': {
        const pax = parsePax(data, this.opts.where);
        this.globalPax ??= new Map();
        for (const [k, v] of pax) this.globalPax.set(k, v);
        this.firstHeaderOffset = -1; // a global header belongs to no entry
        break;
      }
      case 'L':
        this.longName = trimNul(data);
        break;
      case 'K':
        this.longLink = trimNul(data);
        break;
    }
    this.state = this.padding > 0 ? State.Padding : State.Header;
  }

  private startEntry(h: RawHeader, dataOffset: number): void {
    const merged = mergePax(this.globalPax, this.pendingPax);
    // A keyword with an empty value is cancelled (POSIX pax): the header's own field stands.
    const pax = merged && new Map([...merged].filter(([, v]) => v.length > 0));
    let nameBytes = this.longName ?? h.name;
    let linkBytes = this.longLink ?? h.linkname;
    let size = h.size;
    let uid = h.uid;
    let gid = h.gid;
    let mtime = h.mtime;
    let uname = h.uname;
    let gname = h.gname;
    let xattrs: Map<string, Buffer> | undefined;
    let sparseRealSize = h.gnuRealSize;
    if (pax) {
      const path = pax.get('path');
      if (path) nameBytes = path;
      const linkpath = pax.get('linkpath');
      if (linkpath) linkBytes = linkpath;
      size = paxNumber(pax, 'size', size, this.opts.where);
      uid = paxNumber(pax, 'uid', uid, this.opts.where);
      gid = paxNumber(pax, 'gid', gid, this.opts.where);
      const mt = pax.get('mtime');
      if (mt) {
        // Seconds since the epoch, maybe fractional or negative; 0 is a real time (the epoch).
        const seconds = Number(mt.toString('latin1'));
        if (Number.isFinite(seconds)) mtime = Math.floor(seconds);
      }
      if (pax.has('uname')) uname = pax.get('uname')!.toString('utf8');
      if (pax.has('gname')) gname = pax.get('gname')!.toString('utf8');
      for (const [k, v] of pax) {
        if (k.startsWith('SCHILY.xattr.')) (xattrs ??= new Map()).set(k.slice('SCHILY.xattr.'.length), v);
      }
      const real = pax.get('GNU.sparse.realsize') ?? pax.get('GNU.sparse.size');
      if (real) sparseRealSize = Number(real.toString('latin1'));
      const sparseName = pax.get('GNU.sparse.name');
      if (sparseName) nameBytes = sparseName;
    }
    this.pendingPax = undefined;
    this.longName = undefined;
    this.longLink = undefined;
    let type = entryType(h.typeflag);
    // Old tars mark a directory by a trailing slash on a regular-file entry; GNU tar and Go's
    // archive/tar read such an entry as a directory.
    if (h.typeflag === '0' && nameBytes.length > 0 && nameBytes[nameBytes.length - 1] === 0x2f) type = 'dir';
    // Whatever the type, `size` bytes of content follow the header and are skipped if unused.
    const entry: TarEntry = {
      path: decodeName(nameBytes),
      type,
      typeflag: h.typeflag,
      mode: h.mode,
      uid,
      gid,
      size,
      mtime,
      linkname: decodeName(linkBytes),
      uname,
      gname,
      devMajor: h.devMajor,
      devMinor: h.devMinor,
      xattrs,
      sparseRealSize,
      headerOffset: this.firstHeaderOffset >= 0 ? this.firstHeaderOffset : dataOffset - BLOCK,
      dataOffset,
    };
    this.firstHeaderOffset = -1;
    this.entries++;
    this.currentPath = entry.path;
    this.sink = this.opts.onEntry(entry);
    this.remaining = size;
    this.padding = (BLOCK - (this.remaining % BLOCK)) % BLOCK;
    if (this.remaining === 0) this.endData();
    else this.state = State.Data;
  }

  private endData(): void {
    if (this.sink) this.sink.end();
    this.sink = undefined;
    this.state = this.padding > 0 ? State.Padding : State.Header;
  }
}

function trimNul(b: Buffer): Buffer {
  const z = b.indexOf(0);
  return z >= 0 ? b.subarray(0, z) : b;
}

function mergePax(global: Map<string, Buffer> | undefined, local: Map<string, Buffer> | undefined): Map<string, Buffer> | undefined {
  if (!global) return local;
  if (!local) return global;
  const m = new Map(global);
  for (const [k, v] of local) m.set(k, v);
  return m;
}

function paxNumber(pax: Map<string, Buffer>, key: string, fallback: number, where: { file?: string; member?: string }): number {
  const v = pax.get(key);
  if (!v) return fallback;
  const n = Number(v.toString('latin1'));
  if (!Number.isSafeInteger(n) || n < 0) throw new LayerlensError('format', `PAX ${key} ${JSON.stringify(v.toString('latin1'))} is not a valid number`, where);
  return n;
}
