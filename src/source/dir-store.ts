// A directory (an OCI image layout, or an unpacked docker-archive) as a Store. Every member path
// is resolved inside the directory, and a symlink that leads out of it is refused.
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { LayerlensError } from '../image/errors.js';
import { limitError } from '../image/limits.js';
import type { BlobLocation } from '../image/model.js';
import { cleanMemberPath, type Store } from './store.js';

export class DirStore implements Store {
  readonly container = 'directory' as const;
  private readonly root: string;

  constructor(readonly file: string) {
    this.root = fs.realpathSync(file);
  }

  private resolve(member: string): string | undefined {
    const clean = cleanMemberPath(member);
    if (clean === undefined || clean === '') return undefined;
    const full = path.join(this.root, clean);
    let real: string;
    try {
      real = fs.realpathSync(full);
    } catch {
      return undefined;
    }
    if (real !== this.root && !real.startsWith(this.root + path.sep)) return undefined;
    return real;
  }

  has(member: string): boolean {
    return this.size(member) !== undefined;
  }

  size(member: string): number | undefined {
    const p = this.resolve(member);
    if (!p) return undefined;
    try {
      const st = fs.statSync(p);
      return st.isFile() ? st.size : undefined;
    } catch {
      return undefined;
    }
  }

  async read(member: string, limit: number): Promise<Buffer> {
    const p = this.resolve(member);
    const size = p ? this.size(member) : undefined;
    if (!p || size === undefined) throw new LayerlensError('missing', 'is missing', { file: this.file, member });
    if (size > limit) throw limitError('maxJsonBytes', `is ${size} bytes, too large for a JSON document`, limit, { file: this.file, member });
    try {
      return await fs.promises.readFile(p);
    } catch (e) {
      throw new LayerlensError('io', `cannot read: ${(e as Error).message}`, { file: this.file, member });
    }
  }

  open(member: string): Readable {
    const p = this.resolve(member);
    if (!p || this.size(member) === undefined) throw new LayerlensError('missing', 'is missing', { file: this.file, member });
    return fs.createReadStream(p, { highWaterMark: 1024 * 1024 });
  }

  locate(member: string): BlobLocation | undefined {
    const p = this.resolve(member);
    const size = p ? this.size(member) : undefined;
    return p && size !== undefined ? { path: p, start: 0, length: size } : undefined;
  }

  topLevel(): string[] {
    try {
      return fs.readdirSync(this.root).sort();
    } catch {
      return [];
    }
  }

  async close(): Promise<void> {}
}
