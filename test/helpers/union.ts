// Union-filesystem test helpers: layers made from in-memory tars (or from a directory on disk)
// applied with `Union.apply`, and listings in the format of the corpus goldens (`rootfs.tsv`,
// written by `list-rootfs.sh` over `umoci unpack`).
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { readLayerEntries } from '../../src/fs/build.js';
import type { ChangeSet } from '../../src/fs/changes.js';
import type { LayerEntry } from '../../src/fs/entry.js';
import { flatten, type FlatRecord } from '../../src/fs/flat.js';
import { Union } from '../../src/fs/union.js';
import type { Layer } from '../../src/image/model.js';
import { tar, type TarBuilder } from './builders.js';

/** A Layer whose bytes are `tarBytes` (uncompressed); nothing to verify against. */
export function memoryLayer(tarBytes: Buffer, index = 0): Layer {
  return {
    index,
    size: -1,
    mediaType: 'application/vnd.oci.image.layer.v1.tar',
    member: `memory-layer-${index}`,
    urls: [],
    open: () => Readable.from([tarBytes]),
  };
}

/** What a layer's tar says, read by the same code the commands use (sha256 of each file included). */
export async function layerEntries(t: TarBuilder | Buffer, index = 0): Promise<LayerEntry[]> {
  const bytes = Buffer.isBuffer(t) ? t : t.build();
  const { entries } = await readLayerEntries(memoryLayer(bytes, index), false);
  return entries;
}

/** Apply the layers in order; returns the union and each layer's change set. */
export async function stack(...layers: Array<TarBuilder | Buffer>): Promise<{ union: Union; changeSets: ChangeSet[] }> {
  const union = new Union();
  const changeSets: ChangeSet[] = [];
  for (const [i, l] of layers.entries()) changeSets.push(union.apply(await layerEntries(l, i), i));
  return { union, changeSets };
}

const GOLDEN_TYPE: Record<FlatRecord['type'], string> = { file: 'f', hardlink: 'f', dir: 'd', symlink: 'l', fifo: 'p', char: 'c', block: 'b' };

/** One flat record as a `rootfs.tsv` line: path type mode uid gid size sha256 link hardlink_group. */
export function rootfsLine(r: FlatRecord): string {
  const regular = r.type === 'file' || r.type === 'hardlink';
  const link = r.type === 'symlink' ? r.linkTarget : r.type === 'char' || r.type === 'block' ? `${r.devMajor},${r.devMinor}` : '-';
  return [
    r.path,
    GOLDEN_TYPE[r.type],
    r.mode.toString(8).padStart(4, '0'),
    r.uid,
    r.gid,
    regular ? r.size : '-',
    regular ? r.sha256 ?? '?' : '-',
    link ?? '?',
    r.hardlinkGroup ?? '-',
  ].join('\t');
}

/** The lines of a `rootfs.tsv` (or of `list-rootfs.sh` output), without the header. */
export function rootfsLines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

export function readRootfsTsv(file: string): string[] {
  return rootfsLines(fs.readFileSync(file, 'utf8'));
}

/** The union as `rootfs.tsv` lines. */
export function listing(union: Union): string[] {
  return flatten(union).map(rootfsLine);
}

/** The union as `path type` pairs, for short expectations. */
export function shape(union: Union): string[] {
  return flatten(union).map((r) => `${r.path} ${GOLDEN_TYPE[r.type]}`);
}

/**
 * A tar of a directory on disk, as a layer would hold it: every path below `dir` (parents first,
 * names sorted), regular files with their content, mode and owner as they are on disk.
 */
export function directoryTar(dir: string): Buffer {
  const t = tar();
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const full = path.join(dir, r);
      const st = fs.lstatSync(full);
      const meta = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
      if (st.isDirectory()) {
        t.dir(`${r}/`, meta);
        walk(r);
      } else if (st.isSymbolicLink()) {
        t.symlink(r, fs.readlinkSync(full), meta);
      } else if (st.isFile()) {
        t.file(r, fs.readFileSync(full), meta);
      }
    }
  };
  walk('');
  return t.build();
}

/** Every path below `dir` on disk (as `/rel`), with `d`/`f`/`l`, and each regular file's bytes. */
export function readDirectory(dir: string): { shape: string[]; files: Map<string, Buffer> } {
  const shape: string[] = ['/ d'];
  const files = new Map<string, Buffer>();
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel))) {
      const r = `${rel}/${name}`;
      const full = path.join(dir, r);
      const st = fs.lstatSync(full);
      if (st.isDirectory()) {
        shape.push(`${r} d`);
        walk(r);
      } else if (st.isSymbolicLink()) {
        shape.push(`${r} l`);
      } else {
        shape.push(`${r} f`);
        files.set(r, fs.readFileSync(full));
      }
    }
  };
  walk('');
  shape.sort((a, b) => Buffer.compare(Buffer.from(a.split(' ')[0]!), Buffer.from(b.split(' ')[0]!)));
  return { shape, files };
}
