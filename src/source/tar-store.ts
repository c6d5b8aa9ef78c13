// A tar file (docker save output, an OCI archive) as a Store. The archive is indexed by its
// headers alone, seeking over member content, so listing a multi-gigabyte archive reads a few
// kilobytes; members are then streamed from their offsets. Links between members (docker save
// writes `<id>/layer.tar` as a symlink to the real layer) are followed inside the archive only.
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { LayerlensError } from '../image/errors.js';
import { checkPathLength, limitError, resolveLimits, type Limits } from '../image/limits.js';
import type { BlobLocation, Container } from '../image/model.js';
import { expandSparseStream, type SparseRegion } from '../layer/sparse.js';
import { BLOCK } from '../layer/tar-header.js';
import { TarReader, type TarEntry } from '../layer/tar-reader.js';
import { cleanMemberPath, type Store } from './store.js';

interface Member {
  type: TarEntry['type'];
  /** Content size (a sparse member's real size). */
  size: number;
  /** Bytes stored from dataOffset. */
  storedSize: number;
  dataOffset: number;
  linkname: string;
  /** A sparse member's map: its content is expanded when read. */
  sparse?: SparseRegion[];
}

export class TarStore implements Store {
  private readonly members = new Map<string, Member>();

  private constructor(
    readonly file: string,
    readonly container: Container,
    private readonly fd: number,
    private readonly ownsFd: boolean,
    private readonly limits: Limits,
    private readonly notKept: ReadonlySet<number>,
  ) {}

  /**
   * Index the tar open at `fd`. The file's size bounds every member; `limits` bound the number
   * of members, their names' length and the links followed between them.
   */
  static async open(file: string, fd: number, container: Container, ownsFd: boolean, limits?: Partial<Limits>, notKept: ReadonlySet<number> = new Set()): Promise<TarStore> {
    const store = new TarStore(file, container, fd, ownsFd, resolveLimits(limits), notKept);
    try {
      await store.index();
    } catch (e) {
      await store.close();
      throw e;
    }
    return store;
  }

  private async index(): Promise<void> {
    const fileSize = fs.fstatSync(this.fd).size;
    const where = { file: this.file };
    let last: { path: string; end: number } | undefined;
    const reader = new TarReader({
      where,
      onEntry: (e) => {
        if (reader.entries > this.limits.maxEntries) {
          throw limitError('maxEntries', 'the archive holds too many members', this.limits.maxEntries, where);
        }
        checkPathLength(e.path, this.limits.maxPathLength, 'member name', where);
        if (e.linkname) checkPathLength(e.linkname, this.limits.maxPathLength, `link target of member ${JSON.stringify(e.path)}`, where);
        const clean = cleanMemberPath(e.path);
        // Members that climb out with `..` name nothing an image format can refer to.
        if (clean === undefined || clean === '') return;
        this.members.set(clean, { type: e.type, size: e.size, storedSize: e.storedSize, dataOffset: e.dataOffset, linkname: e.linkname, sparse: e.sparse?.map });
        last = { path: clean, end: e.dataOffset + e.storedSize };
      },
    });
    const block = Buffer.alloc(BLOCK);
    let pos = 0;
    for (;;) {
      if (reader.ended) break;
      const n = await readAt(this.fd, block, BLOCK, pos);
      if (n === 0) break;
      if (pos === 0 && n === BLOCK) {
        try {
          reader.push(block);
        } catch (e) {
          throw new LayerlensError('format', this.notATar(), where, { cause: e });
        }
      } else {
        reader.push(n === BLOCK ? block : block.subarray(0, n));
      }
      pos += n;
      if (n < BLOCK) break;
      // Extended headers, and the sparse map a PAX 1.0 sparse member keeps before its data.
      let want: number;
      while ((want = reader.metaBytesWanted) > 0) {
        if (pos + want > fileSize) throw new LayerlensError('truncated', `archive is truncated: it ends inside an extended header at byte ${pos}`, where);
        const meta = Buffer.alloc(want);
        await readAt(this.fd, meta, want, pos);
        reader.push(meta);
        pos += want;
      }
      pos += reader.skipContent();
      if (last && last.end > fileSize) {
        throw new LayerlensError('truncated', `archive is truncated: it ends inside this member (${last.end - fileSize} of its bytes are missing)`, { file: this.file, member: last.path });
      }
    }
    if (this.members.size === 0 && pos < BLOCK) {
      throw new LayerlensError('format', fileSize === 0 ? 'is empty' : this.notATar(), where);
    }
    reader.finish();
  }

  private notATar(): string {
    if (this.container === 'tar') return 'not a container image: neither a tar archive nor a gzip- or zstd-compressed one';
    return `not a container image: it is ${this.container === 'tar+zstd' ? 'zstd' : 'gzip'}-compressed, but what it holds is not a tar archive`;
  }

  /** Follow links to a regular member; undefined when absent or dangling; a loop is an error. */
  private lookup(member: string): { path: string; m: Member } | undefined {
    let p = cleanMemberPath(member);
    for (let hops = 0; p !== undefined; hops++) {
      if (hops > this.limits.maxLinkDepth) {
        throw limitError('maxLinkDepth', 'too many levels of links between archive members', this.limits.maxLinkDepth, { file: this.file, member });
      }
      const m = this.members.get(p);
      if (!m) return undefined;
      if (m.type === 'file') return { path: p, m };
      if (m.type === 'symlink') {
        const target = m.linkname.startsWith('/') ? m.linkname : path.posix.join(path.posix.dirname(p), m.linkname);
        p = cleanMemberPath(target);
      } else if (m.type === 'hardlink') {
        p = cleanMemberPath(m.linkname);
      } else {
        return undefined;
      }
    }
    return undefined;
  }

  /** lookup(), for reading the content: a copy that left it out (spool.ts `keepAtMost`) was made for a caller that reads none. */
  private kept(member: string): { path: string; m: Member } | undefined {
    const found = this.lookup(member);
    if (found && this.notKept.has(found.m.dataOffset)) throw new Error(`${this.file}: ${found.path}: its content was not copied (opened for no layer's content)`);
    return found;
  }

  has(member: string): boolean {
    return this.lookup(member) !== undefined;
  }

  size(member: string): number | undefined {
    return this.lookup(member)?.m.size;
  }

  async read(member: string, limit: number): Promise<Buffer> {
    const found = this.lookup(member);
    if (!found) throw new LayerlensError('missing', 'is missing', { file: this.file, member });
    if (found.m.size > limit) {
      throw limitError('maxJsonBytes', `is ${found.m.size} bytes, too large for a JSON document`, limit, { file: this.file, member });
    }
    if (found.m.sparse) {
      const parts: Buffer[] = [];
      for await (const c of this.open(member)) parts.push(c as Buffer);
      return Buffer.concat(parts);
    }
    const buf = Buffer.alloc(found.m.size);
    const n = await readAt(this.fd, buf, found.m.size, found.m.dataOffset);
    if (n !== found.m.size) throw new LayerlensError('truncated', 'archive is truncated: it ends inside this member', { file: this.file, member });
    return buf;
  }

  open(member: string): Readable {
    const found = this.kept(member);
    if (!found) throw new LayerlensError('missing', 'is missing', { file: this.file, member });
    const { dataOffset, storedSize, sparse, size } = found.m;
    const stored = storedSize === 0 ? Readable.from([]) : fs.createReadStream('', { fd: this.fd, start: dataOffset, end: dataOffset + storedSize - 1, autoClose: false, highWaterMark: 1024 * 1024 });
    if (sparse) return Readable.from(expandSparseStream(stored, sparse, size, found.path, { file: this.file, member }));
    return stored;
  }

  locate(member: string): BlobLocation | undefined {
    const found = this.kept(member);
    if (!found || found.m.sparse) return undefined;
    return { fd: this.fd, start: found.m.dataOffset, length: found.m.storedSize };
  }

  topLevel(): string[] {
    const top = new Set<string>();
    for (const p of this.members.keys()) top.add(p.split('/')[0]!);
    return [...top].sort();
  }

  async close(): Promise<void> {
    if (this.ownsFd) await new Promise<void>((resolve) => fs.close(this.fd, () => resolve()));
  }
}

async function readAt(fd: number, buf: Buffer, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const bytesRead = await new Promise<number>((resolve, reject) =>
      fs.read(fd, buf, done, length - done, position + done, (err, n) => (err ? reject(err) : resolve(n))),
    );
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

