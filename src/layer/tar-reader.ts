// A streaming tar reader: bytes in (any chunking), entries out. It never holds an entry's content;
// content is handed to the entry's sink as views of the incoming chunks. Extended headers (PAX,
// GNU long names) are gathered, bounded, and folded into the entry they describe. Sparse files
// (every GNU tar format, see sparse.ts) are expanded on the way: the sink receives the file's
// content, holes as zeros, never the stored form.
import { LayerlensError } from '../image/errors.js';
import { decodeName, quoteName } from './names.js';
import { parseSparseMap1x0, parseSparseMapList, SparseExpander, validateSparseMap, type SparseInfo, type SparseRegion } from './sparse.js';
import { BLOCK, entryType, isMetaTypeflag, parseHeader, parsePax, readOldGnuSparseEntries, type EntryType, type RawHeader } from './tar-header.js';

export interface TarEntry {
  /**
   * The name as text, exactly as stored: UTF-8, with each byte that is not valid UTF-8 kept as a
   * lone surrogate U+DC80..U+DCFF (`encodeName` gives the bytes back, `escapeName` shows \xNN).
   */
  path: string;
  type: EntryType;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  /**
   * Content size: the bytes an entry sink receives. For a sparse file, its real (apparent) size,
   * holes included; otherwise the bytes stored.
   */
  size: number;
  /** Bytes stored in the archive from `dataOffset` (for a sparse file, its data regions only). */
  storedSize: number;
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  devMajor: number;
  devMinor: number;
  /** SCHILY.xattr.* records, values as bytes. */
  xattrs?: Map<string, Buffer>;
  /** Sparse files: the format and the map of data regions (`size` is the real size). */
  sparse?: SparseInfo;
  /** Byte offset of the entry's first header (extended headers included). */
  headerOffset: number;
  /** Byte offset of the entry's stored content (for a PAX 1.0 sparse file, after its map). */
  dataOffset: number;
}

/**
 * Receives an entry's content, in order, as views of the reader's input (or of a shared zero
 * buffer): a sink copies what it keeps and never writes into a chunk.
 */
export interface EntrySink {
  data(chunk: Buffer): void;
  /**
   * Optional: a run of `length` zero bytes (a hole of a sparse file), given as a length rather
   * than as zero chunks, for sinks that can produce zeros themselves at their own pace.
   */
  hole?(length: number): void;
  end(): void;
}

export interface TarReaderOptions {
  where: { file?: string; member?: string };
  onEntry(entry: TarEntry): EntrySink | void;
  /** Largest extended header accepted (a PAX header or GNU long name). */
  maxMetaBytes?: number;
}

/** Records a global extended header (`g`) may hold: they are merged into every entry that follows. */
const MAX_GLOBAL_RECORDS = 64;

const enum State {
  Header,
  Data,
  Meta,
  /** The sparse map at the start of a PAX 1.0 sparse entry's data. */
  SparseMap,
  Padding,
  End,
}

interface SparseMapRead {
  entry: TarEntry;
  sparse: SparseInfo;
  block: Buffer;
  fill: number;
  /** Map bytes read so far (whole blocks). */
  bytes: number;
  lines: string[];
  partial: string;
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
  private pendingPaxBytes = 0;
  private globalPax: Map<string, Buffer> | undefined;
  private globalPaxBytes = 0;
  private longName: Buffer | undefined;
  private longLink: Buffer | undefined;
  private firstHeaderOffset = -1;
  /** An old GNU sparse header whose map continues in extension blocks. */
  private oldSparse: { header: RawHeader; map: SparseRegion[]; blocks: number } | undefined;
  private mapRead: SparseMapRead | undefined;
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
        case State.SparseMap: {
          const m = this.mapRead!;
          const take = Math.min(this.remaining, BLOCK - m.fill, len - pos);
          chunk.copy(m.block, m.fill, pos, pos + take);
          m.fill += take;
          pos += take;
          this.offset += take;
          this.remaining -= take;
          if (m.fill === BLOCK || this.remaining === 0) this.onSparseMapBlock();
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
    // A PAX 1.0 sparse map is read a block at a time, until it is complete.
    if (this.state === State.SparseMap) return Math.min(this.remaining, BLOCK - this.mapRead!.fill);
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
      throw new LayerlensError('truncated', `tar ends inside the content of ${quoteName(this.currentPath)} (${this.remaining} bytes missing)`, where);
    }
    if (this.state === State.SparseMap) {
      throw new LayerlensError('truncated', `tar ends inside the sparse map of ${quoteName(this.mapRead!.entry.path)}`, where);
    }
    if (this.state === State.Header && this.headerFill > 0) {
      const partial = this.headerBuf.subarray(0, this.headerFill);
      const at = this.offset - this.headerFill;
      if (partial.some((b) => b !== 0)) {
        // Fewer bytes than one header from the start: this never was a tar (a placeholder, a
        // text file), not a tar cut short.
        if (at === 0) throw new LayerlensError('format', `not a tar archive: ${this.headerFill} byte${this.headerFill === 1 ? '' : 's'}, too short for a tar header`, where);
        throw new LayerlensError('truncated', `tar ends inside a header at byte ${at}`, where);
      }
    }
    if (this.meta || this.pendingPax || this.longName || this.longLink || this.oldSparse) {
      throw new LayerlensError('truncated', 'tar ends after an extended header with no entry', where);
    }
  }

  private onHeaderBlock(b: Buffer, at: number, blockOffset: number): void {
    if (this.oldSparse) {
      // GNU sparse extension blocks: 21 more map entries each, not content; byte 504 says if
      // another follows.
      const s = this.oldSparse;
      if (++s.blocks * BLOCK > this.maxMeta) {
        throw new LayerlensError('limit', `sparse map of ${quoteName(decodeName(this.longName ?? s.header.name))} at byte ${blockOffset} exceeds the ${this.maxMeta}-byte limit`, this.opts.where);
      }
      readOldGnuSparseEntries(b, at, 21, s.map);
      if (b[at + 504] === 0) {
        this.oldSparse = undefined;
        this.startEntry(s.header, blockOffset + BLOCK, s.map);
      }
      return;
    }
    let header: RawHeader | null;
    try {
      header = parseHeader(b, at, this.opts.where, blockOffset);
    } catch (e) {
      // Bytes that do not even start like a tar: say so, rather than name a header at byte 0.
      if (blockOffset === 0 && e instanceof LayerlensError && e.message.endsWith('(checksum mismatch)')) {
        throw new LayerlensError('format', 'not a tar archive: its first 512 bytes are not a tar header (checksum mismatch)', this.opts.where, { cause: e });
      }
      throw e;
    }
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
    if (header.typeflag === 'S') {
      if (!header.gnuSparse) {
        // star writes 'S' entries with another layout; nothing that builds images does.
        throw new LayerlensError('unsupported', `sparse file ${quoteName(decodeName(this.longName ?? header.name))} at byte ${blockOffset} is not in GNU tar's format (typeflag S in a ${header.format} header)`, this.opts.where);
      }
      if (header.gnuSparse.extended) {
        // The header's name and linkname are views of the block, which the next block overwrites
        // (the reader's own buffer, or a caller's reused one): keep copies until the entry starts.
        this.oldSparse = { header: { ...header, name: Buffer.from(header.name), linkname: Buffer.from(header.linkname) }, map: [...header.gnuSparse.map], blocks: 0 };
        return;
      }
    }
    this.startEntry(header, blockOffset + BLOCK, header.gnuSparse?.map);
  }

  private endMeta(): void {
    const meta = this.meta!;
    this.meta = undefined;
    const data = Buffer.concat(meta.chunks);
    switch (meta.typeflag) {
      case 'x':
      case 'X': {
        const pax = parsePax(data, this.opts.where);
        this.pendingPax ??= new Map();
        // Several extended headers in a row merge: together they are held to the same limit.
        this.pendingPaxBytes = mergeInto(this.pendingPax, pax, this.pendingPaxBytes);
        this.checkMetaSize(this.pendingPaxBytes, 'extended tar headers before one entry');
        break;
      }
      case 'g': {
        const pax = parsePax(data, this.opts.where);
        this.globalPax ??= new Map();
        this.globalPaxBytes = mergeInto(this.globalPax, pax, this.globalPaxBytes);
        this.checkMetaSize(this.globalPaxBytes, 'global extended tar headers');
        // Every entry after it reads these records again: a handful is all any writer emits.
        if (this.globalPax.size > MAX_GLOBAL_RECORDS) {
          throw new LayerlensError('limit', `global extended tar headers hold more than ${MAX_GLOBAL_RECORDS} records`, this.opts.where);
        }
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

  /** Merged PAX records are kept (for one entry, or for all): bound them as one extended header is. */
  private checkMetaSize(bytes: number, what: string): void {
    if (bytes > this.maxMeta) throw new LayerlensError('limit', `${what} hold more than ${this.maxMeta} bytes of records`, this.opts.where);
  }

  private startEntry(h: RawHeader, dataOffset: number, gnuSparseMap?: SparseRegion[]): void {
    const where = this.opts.where;
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
    if (pax) {
      const path = pax.get('path');
      if (path) nameBytes = path;
      const linkpath = pax.get('linkpath');
      if (linkpath) linkBytes = linkpath;
      size = paxNumber(pax, 'size', size, where);
      uid = paxNumber(pax, 'uid', uid, where);
      gid = paxNumber(pax, 'gid', gid, where);
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
      // GNU tar's sparse formats 0.1 and 1.0 store the file under a made-up name
      // (`./GNUSparseFile.PID/NAME`) and the real one here.
      const sparseName = pax.get('GNU.sparse.name');
      if (sparseName) nameBytes = sparseName;
    }
    this.pendingPax = undefined;
    this.pendingPaxBytes = 0;
    this.longName = undefined;
    this.longLink = undefined;
    let type = entryType(h.typeflag);
    // Old tars mark a directory by a trailing slash on a regular-file entry; GNU tar and Go's
    // archive/tar read such an entry as a directory.
    if (h.typeflag === '0' && nameBytes.length > 0 && nameBytes[nameBytes.length - 1] === 0x2f) type = 'dir';
    const path = decodeName(nameBytes);

    // Sparse files: the header (old GNU) or the PAX records (0.0, 0.1) carry the map; 1.0 keeps
    // it at the start of the data, read below before the entry is passed on.
    let sparse: SparseInfo | undefined;
    let realSize = size;
    if (gnuSparseMap) {
      sparse = { format: 'gnu', map: gnuSparseMap };
      realSize = h.gnuRealSize ?? NaN;
    } else if (pax && type === 'file') {
      sparse = paxSparse(pax, path, where);
      if (sparse) {
        const real = pax.get('GNU.sparse.size') ?? pax.get('GNU.sparse.realsize');
        if (real) realSize = decimalValue(real);
        if (!Number.isSafeInteger(realSize)) throw new LayerlensError('format', `sparse file ${quoteName(path)} has an invalid real size ${JSON.stringify(real?.toString('latin1'))}`, where);
      }
    }

    // Whatever the type, `size` bytes of content follow the header and are skipped if unused.
    const entry: TarEntry = {
      path,
      type,
      typeflag: h.typeflag,
      mode: h.mode,
      uid,
      gid,
      size: sparse ? realSize : size,
      storedSize: size,
      mtime,
      linkname: decodeName(linkBytes),
      uname,
      gname,
      devMajor: h.devMajor,
      devMinor: h.devMinor,
      xattrs,
      sparse,
      headerOffset: this.firstHeaderOffset >= 0 ? this.firstHeaderOffset : dataOffset - BLOCK,
      dataOffset,
    };
    this.firstHeaderOffset = -1;
    this.currentPath = entry.path;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (sparse?.format === 'pax-1.0') {
      this.mapRead = { entry, sparse, block: Buffer.alloc(BLOCK), fill: 0, bytes: 0, lines: [], partial: '' };
      this.remaining = size;
      if (size === 0) throw new LayerlensError('format', `sparse file ${quoteName(path)} has no room for its sparse map`, where);
      this.state = State.SparseMap;
      return;
    }
    this.emitEntry(entry);
  }

  /** One block (or the last bytes) of a PAX 1.0 sparse map. */
  private onSparseMapBlock(): void {
    const m = this.mapRead!;
    const where = this.opts.where;
    m.bytes += m.fill;
    if (m.bytes > this.maxMeta) throw new LayerlensError('limit', `sparse map of ${quoteName(m.entry.path)} exceeds the ${this.maxMeta}-byte limit`, where);
    const lines = (m.partial + m.block.toString('latin1', 0, m.fill)).split('\n');
    m.partial = lines.pop()!;
    m.fill = 0;
    for (const l of lines) m.lines.push(l);
    const map = parseSparseMap1x0(m.lines, m.entry.path, where);
    if (!map) {
      if (this.remaining === 0) throw new LayerlensError('format', `sparse map of ${quoteName(m.entry.path)} runs past the end of its data`, where);
      return;
    }
    // The map is padded to a whole block; the data follows.
    this.mapRead = undefined;
    m.sparse.map = map;
    m.entry.storedSize = this.remaining;
    m.entry.dataOffset += m.bytes;
    this.emitEntry(m.entry);
  }

  /** Pass an entry on and get ready for its content (padding is already set). */
  private emitEntry(entry: TarEntry): void {
    const where = this.opts.where;
    // The map's size is bounded where it is read (a PAX header, extension blocks, the 1.0 map).
    if (entry.sparse) validateSparseMap(entry.sparse.map, entry.size, entry.storedSize, entry.path, where);
    this.entries++;
    this.currentPath = entry.path;
    const sink = this.opts.onEntry(entry);
    this.sink = sink && entry.sparse ? new SparseExpander(entry.sparse.map, entry.size, sink, { path: entry.path, where }) : sink;
    this.remaining = entry.storedSize;
    if (this.remaining === 0) this.endData();
    else this.state = State.Data;
  }

  private endData(): void {
    if (this.sink) this.sink.end();
    this.sink = undefined;
    this.state = this.padding > 0 ? State.Padding : State.Header;
  }
}

/** Set `from`'s records in `into`; returns the bytes `into` holds afterwards, given what it held. */
function mergeInto(into: Map<string, Buffer>, from: Map<string, Buffer>, bytes: number): number {
  for (const [k, v] of from) {
    const old = into.get(k);
    bytes += old ? v.length - old.length : k.length + v.length;
    into.set(k, v);
  }
  return bytes;
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

function decimalValue(v: Buffer): number {
  const text = v.toString('latin1');
  return /^[0-9]{1,16}$/.test(text) ? Number(text) : NaN;
}

/** The sparse map a PAX header describes (GNU tar's formats 0.0, 0.1 and 1.0), if any. */
function paxSparse(pax: Map<string, Buffer>, path: string, where: { file?: string; member?: string }): SparseInfo | undefined {
  const major = pax.get('GNU.sparse.major')?.toString('latin1');
  const minor = pax.get('GNU.sparse.minor')?.toString('latin1');
  let format: SparseInfo['format'];
  if (major !== undefined || minor !== undefined) {
    if (major === '1' && minor === '0') return { format: 'pax-1.0', map: [] };
    if (major !== '0' || (minor !== '0' && minor !== '1')) {
      throw new LayerlensError('unsupported', `sparse file ${quoteName(path)} is in GNU sparse format ${major ?? '?'}.${minor ?? '?'}, which layerlens does not read (it reads 0.0, 0.1 and 1.0)`, where);
    }
    format = minor === '0' ? 'pax-0.0' : 'pax-0.1';
  } else if (pax.has('GNU.sparse.map')) {
    // 0.0 and 0.1 name no version: 0.0 is told by its repeated offset/numbytes records.
    format = pax.has('GNU.sparse.offset') ? 'pax-0.0' : 'pax-0.1';
  } else {
    return undefined;
  }
  const map = parseSparseMapList(pax.get('GNU.sparse.map')?.toString('latin1') ?? '', path, where);
  const numblocks = pax.get('GNU.sparse.numblocks');
  if (numblocks && decimalValue(numblocks) !== map.length) {
    throw new LayerlensError('format', `sparse map of ${quoteName(path)} has ${map.length} entries, but GNU.sparse.numblocks says ${numblocks.toString('latin1')}`, where);
  }
  return { format, map };
}
