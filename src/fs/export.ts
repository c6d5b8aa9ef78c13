// The flattened filesystem as one tar, as `crane export` writes it: what a container would see,
// with no whiteouts. The root, directories, symlinks and special files come first (parents
// before children), then each file's content streamed from the layer that holds it, in layer order,
// then the other names of hard-linked files as hardlink entries to the first.
import type { Writable } from 'node:stream';
import { Budget, resolveLimits, type Limits } from '../image/limits.js';
import type { Layer } from '../image/model.js';
import { scanLayer } from '../layer/scan.js';
import { END_OF_ARCHIVE, encodeHeader, paddingLength, type TarHeaderInput } from '../layer/tar-writer.js';
import type { FsNode } from './node.js';
import { childPath, comparePaths } from './path.js';
import type { Union } from './union.js';
import { writeWithBackpressure } from './write.js';

export interface ExportSummary {
  entries: number;
  bytes: number;
}

interface FileGroup {
  /** Bytewise-sorted paths sharing this content; the first carries it, the rest link to it. */
  paths: string[];
  node: FsNode;
}

function header(path: string, n: FsNode, overrides: Partial<TarHeaderInput> = {}): Buffer {
  const rel = path.replace(/^\//, '');
  return encodeHeader({
    path: rel,
    type: n.type === 'file' ? 'file' : n.type,
    mode: n.mode,
    uid: n.uid,
    gid: n.gid,
    size: 0,
    mtime: n.mtime,
    linkname: n.type === 'symlink' ? n.linkTarget : undefined,
    devMajor: n.devMajor,
    devMinor: n.devMinor,
    xattrs: n.xattrs,
    ...overrides,
  });
}

export async function exportUnion(union: Union, layers: Layer[], out: Writable, opts: { verify: boolean; file?: string; limits?: Partial<Limits> }): Promise<ExportSummary> {
  const writer = writeWithBackpressure(out);
  let entries = 0;
  let bytes = 0;
  const emit = async (b: Buffer) => {
    writer.write(b);
    bytes += b.length;
    const wait = writer.drain();
    if (wait) await wait;
  };

  const others: Array<[string, FsNode]> = [];
  const groups = new Map<number, FileGroup>();
  const walk = (n: FsNode, path: string) => {
    if (n.type === 'file') {
      const key = n.inode;
      const g = groups.get(key);
      if (g) g.paths.push(path);
      else groups.set(key, { paths: [path], node: n });
    } else if (n !== union.root) {
      others.push([path, n]);
    }
    if (n.children) for (const [name, c] of n.children) walk(c, childPath(path, name));
  };
  walk(union.root, '/');

  // 1. The root (`./`, so that extraction gives it the image's mode and owner, as umoci
  // unpack does), then directories, symlinks, devices, fifos.
  await emit(header('./', union.root));
  entries++;
  others.sort((a, b) => comparePaths(a[0], b[0]));
  for (const [path, n] of others) {
    await emit(header(path, n));
    entries++;
  }

  // 2. File contents, from the layer and entry that hold each.
  const bySource = new Map<number, Map<number, FileGroup>>();
  for (const g of groups.values()) {
    g.paths.sort(comparePaths);
    const c = g.node.content!;
    if (c.size === 0) {
      await emit(header(g.paths[0]!, g.node));
      entries++;
      continue;
    }
    let m = bySource.get(c.layer);
    if (!m) bySource.set(c.layer, (m = new Map()));
    m.set(c.entry, g);
  }
  // The content pass reads layers again: the limits on bytes and entries hold for all of it.
  const budget = new Budget(resolveLimits(opts.limits));
  for (const layerIndex of [...bySource.keys()].sort((a, b) => a - b)) {
    const wanted = bySource.get(layerIndex)!;
    const layer = layers[layerIndex]!;
    let ordinal = -1;
    await scanLayer(layer, {
      verify: opts.verify,
      file: opts.file,
      budget,
      drain: writer.drain,
      onEntry: () => {
        ordinal++;
        const g = wanted.get(ordinal);
        if (!g) return;
        const size = g.node.content!.size;
        const h = header(g.paths[0]!, g.node, { size });
        writer.write(h);
        bytes += h.length;
        entries++;
        let written = 0;
        // A sparse file is written expanded, as a regular file of its real size (as `crane
        // export` writes it): the reader hands over its content with the holes as lengths of
        // zeros, which the writer produces at the stream's pace.
        return {
          data: (chunk) => {
            const take = Math.min(chunk.length, size - written);
            if (take > 0) writer.write(take === chunk.length ? chunk : chunk.subarray(0, take));
            written += take;
          },
          hole: (n) => {
            const take = Math.min(n, size - written);
            writer.zeros(take);
            written += take;
          },
          end: () => {
            // Content shorter than the union recorded (a layer changed under --no-verify) is
            // padded so that the archive stays well-formed.
            if (written < size) writer.zeros(size - written);
            const pad = paddingLength(size);
            writer.zeros(pad);
            bytes += size + pad;
          },
        };
      },
    });
  }

  // 3. The other names of hard-linked files.
  for (const g of groups.values()) {
    for (const path of g.paths.slice(1)) {
      await emit(header(path, g.node, { type: 'hardlink', linkname: g.paths[0]!.replace(/^\//, ''), size: 0 }));
      entries++;
    }
  }
  await emit(END_OF_ARCHIVE);
  return { entries, bytes };
}
