// The rpm database in its Berkeley DB form (`/var/lib/rpm/Packages`: CentOS and RHEL up to 8,
// Amazon Linux 2), read without rpm: a Berkeley DB hash file whose values are rpm header blobs.
// Pure functions over the file's bytes.
//
// Berkeley DB: page 0 is the hash metadata (magic 0x061561 at byte 12, in the byte order of the
// machine that wrote it; page size at 20; last page number at 32). Hash pages (type 13, or 2 on
// RHEL 5) hold an index of item offsets after their 26-byte header; keys and values alternate,
// and a value too large for the page is an "off-page" item (type 3) naming the first of a chain
// of overflow pages (type 7), each holding as many bytes as its header's `hf_offset` says, linked
// by `next_pgno`. Small values may be stored in the page itself (type 1).
//
// An rpm header blob: the number of index entries and of data bytes (big-endian int32s), the
// entries (tag, type, offset, count: 16 bytes each), then the data. NAME, VERSION, RELEASE,
// EPOCH and ARCH are what a package list needs.

const HASH_MAGIC = 0x061561;
const PAGE_HEADER = 26;
const P_HASH_UNSORTED = 2;
const P_HASH = 13;
const P_OVERFLOW = 7;
const H_KEYDATA = 1;
const H_OFFPAGE = 3;

export interface RpmPackage {
  name: string;
  epoch: number | null;
  version: string;
  release: string;
  arch: string;
}

/** Whether the bytes are a Berkeley DB hash database (either byte order). */
export function isBerkeleyHash(data: Buffer): boolean {
  return data.length >= 512 && (data.readUInt32LE(12) === HASH_MAGIC || data.readUInt32BE(12) === HASH_MAGIC);
}

/** Every value of a Berkeley DB hash database that is stored off-page or in-page, in page order. */
export function berkeleyHashValues(data: Buffer): Buffer[] {
  if (!isBerkeleyHash(data)) throw new Error('not a Berkeley DB hash database');
  const le = data.readUInt32LE(12) === HASH_MAGIC;
  const u32 = (off: number) => (le ? data.readUInt32LE(off) : data.readUInt32BE(off));
  const u16 = (off: number) => (le ? data.readUInt16LE(off) : data.readUInt16BE(off));
  const pageSize = u32(20);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) throw new Error(`unexpected page size ${pageSize}`);
  const lastPage = Math.min(u32(32), Math.floor(data.length / pageSize) - 1);
  const values: Buffer[] = [];
  for (let p = 1; p <= lastPage; p++) {
    const base = p * pageSize;
    const type = data[base + 25];
    if (type !== P_HASH && type !== P_HASH_UNSORTED) continue;
    const entries = u16(base + 20);
    // Items are laid from the end of the page down: an item ends where the one before it starts.
    const offsets: number[] = [];
    for (let i = 0; i < entries; i++) offsets.push(u16(base + PAGE_HEADER + 2 * i));
    for (let i = 1; i < entries; i += 2) {
      const at = offsets[i]!;
      if (at >= pageSize) continue;
      const itemType = data[base + at];
      if (itemType === H_OFFPAGE) {
        values.push(overflow(data, u32(base + at + 4), u32(base + at + 8), pageSize, u32, u16));
      } else if (itemType === H_KEYDATA) {
        const end = offsets[i - 1]! > at ? offsets[i - 1]! : pageSize;
        values.push(data.subarray(base + at + 1, base + Math.min(end, pageSize)));
      }
    }
  }
  return values;
}

function overflow(data: Buffer, first: number, total: number, pageSize: number, u32: (o: number) => number, u16: (o: number) => number): Buffer {
  const parts: Buffer[] = [];
  let got = 0;
  const seen = new Set<number>();
  for (let p = first; p !== 0 && got < total; ) {
    if (seen.has(p) || (p + 1) * pageSize > data.length) throw new Error(`broken overflow chain at page ${p}`);
    seen.add(p);
    const base = p * pageSize;
    if (data[base + 25] !== P_OVERFLOW) throw new Error(`page ${p} is not an overflow page`);
    const len = Math.min(u16(base + 22), pageSize - PAGE_HEADER);
    parts.push(data.subarray(base + PAGE_HEADER, base + PAGE_HEADER + len));
    got += len;
    p = u32(base + 16);
  }
  return Buffer.concat(parts).subarray(0, total);
}

const TAG = { name: 1000, version: 1001, release: 1002, epoch: 1003, arch: 1022 };
const TYPE_INT32 = 4;
const TYPE_STRING = 6;
const TYPE_I18NSTRING = 9;

/** NAME, EPOCH, VERSION, RELEASE and ARCH from an rpm header blob, or undefined if it is not one. */
export function parseRpmHeader(blob: Buffer): RpmPackage | undefined {
  if (blob.length < 8) return undefined;
  const il = blob.readInt32BE(0);
  const dl = blob.readInt32BE(4);
  const dataStart = 8 + il * 16;
  if (il <= 0 || dl < 0 || il > 0xffff || dataStart + dl > blob.length) return undefined;
  const strings = new Map<number, string>();
  let epoch: number | null = null;
  for (let i = 0; i < il; i++) {
    const e = 8 + i * 16;
    const tag = blob.readInt32BE(e);
    const type = blob.readInt32BE(e + 4);
    const offset = blob.readInt32BE(e + 8);
    if (offset < 0 || offset >= dl) continue;
    const at = dataStart + offset;
    if (tag === TAG.epoch && type === TYPE_INT32 && at + 4 <= dataStart + dl) epoch = blob.readInt32BE(at);
    else if ((type === TYPE_STRING || type === TYPE_I18NSTRING) && Object.values(TAG).includes(tag)) {
      const end = blob.indexOf(0, at);
      strings.set(tag, blob.toString('utf8', at, end < 0 || end > dataStart + dl ? dataStart + dl : end));
    }
  }
  const name = strings.get(TAG.name);
  if (!name) return undefined;
  return { name, epoch, version: strings.get(TAG.version) ?? '', release: strings.get(TAG.release) ?? '', arch: strings.get(TAG.arch) ?? '' };
}

/** The packages of a Berkeley DB rpm database, in its order. */
export function parseRpmBerkeley(data: Buffer): RpmPackage[] {
  const out: RpmPackage[] = [];
  for (const v of berkeleyHashValues(data)) {
    const p = parseRpmHeader(v);
    if (p) out.push(p);
  }
  return out;
}

/** `[EPOCH:]VERSION-RELEASE`, as rpm writes an EVR. */
export function rpmVersion(p: RpmPackage): string {
  return `${p.epoch !== null ? `${p.epoch}:` : ''}${p.version}${p.release ? `-${p.release}` : ''}`;
}
