// Streaming one file's content out of the layer that holds it. The path is resolved inside the
// image's root: symlinks are followed but can never lead out of it, and a loop is an error.
import type { Writable } from 'node:stream';
import { LayerlensError } from '../image/errors.js';
import type { Limits } from '../image/limits.js';
import type { Layer } from '../image/model.js';
import { unescapeName } from '../layer/names.js';
import { scanLayer } from '../layer/scan.js';
import { ContentCopy } from './layer-entries.js';
import type { Union } from './union.js';
import { writeWithBackpressure } from './write.js';

export async function catFile(union: Union, layers: Layer[], path: string, out: Writable, opts: { verify: boolean; file?: string; limits?: Partial<Limits> }): Promise<number> {
  const where = { file: opts.file };
  let node;
  try {
    // A name that is not UTF-8 is listed with its bytes as \xNN; that form finds it too.
    node = union.resolve(path) ?? (path.includes('\\x') ? union.resolve(unescapeName(path)) : undefined);
  } catch (e) {
    // A symlink loop: say which image it is in.
    if (e instanceof LayerlensError && e.file === undefined) throw new LayerlensError(e.kind, e.message, where, { cause: e });
    throw e;
  }
  if (!node) throw new LayerlensError('usage', `no such file in the image: ${path}`, where);
  if (node.type === 'dir') throw new LayerlensError('usage', `${path} is a directory`, where);
  if (node.type !== 'file' || !node.content) throw new LayerlensError('usage', `${path} is a ${node.type}, not a regular file`, where);
  const content = node.content;
  if (content.size === 0) return 0;
  const layer = layers[content.layer];
  if (!layer) throw new LayerlensError('missing', `layer ${content.layer} holding ${path} is not in the image`, where);
  const writer = writeWithBackpressure(out);
  let ordinal = -1;
  let written = 0;
  await scanLayer(layer, {
    verify: opts.verify,
    file: opts.file,
    limits: opts.limits,
    drain: writer.drain,
    onEntry: (e) => {
      ordinal++;
      if (ordinal !== content.entry) return;
      // A sparse file arrives expanded; its holes come as lengths, written as zeros at the
      // stream's pace.
      return {
        data: (chunk) => {
          written += chunk.length;
          writer.write(chunk);
        },
        hole: (n) => {
          written += n;
          writer.zeros(n);
        },
        end: () => {},
      };
    },
  });
  await writer.drain();
  return written;
}

/** One file's content to fetch: the layer that holds its bytes and the entry's ordinal there. */
export interface ContentRequest {
  layer: Layer;
  entry: number;
  /** The file the layer lies in, for messages (default: readContents' `file`). */
  file?: string;
}

/**
 * The contents of many small files, each layer that holds any of them read once for all of
 * them (two requests for one layer's entries, or for two copies of one layer with the same
 * diff_id, cost one pass). Returns the bytes by request, in order; a file larger than
 * `maxBytes` is left out (undefined), and so is every file read once `maxTotal` bytes are held
 * (the caller's bounds: diff reads with those it kept files with while building, fs/pair.ts).
 */
export async function readContents(requests: ContentRequest[], opts: { verify: boolean; file?: string; maxBytes: number; maxTotal?: number; limits?: Partial<Limits> }): Promise<Array<Buffer | undefined>> {
  const max = opts.maxBytes;
  let room = opts.maxTotal ?? Infinity;
  const byLayer = new Map<string, { layer: Layer; file?: string; entries: Map<number, number[]> }>();
  requests.forEach((r, i) => {
    const id = r.layer.diffId ?? `${r.layer.member}#${r.layer.index}`;
    let g = byLayer.get(id);
    if (!g) byLayer.set(id, (g = { layer: r.layer, file: r.file ?? opts.file, entries: new Map() }));
    const list = g.entries.get(r.entry) ?? [];
    list.push(i);
    g.entries.set(r.entry, list);
  });
  const out: Array<Buffer | undefined> = new Array(requests.length).fill(undefined);
  for (const { layer, file, entries } of byLayer.values()) {
    let ordinal = -1;
    await scanLayer(layer, {
      verify: opts.verify,
      file,
      limits: opts.limits,
      onEntry: (e) => {
        ordinal++;
        const wanted = entries.get(ordinal);
        if (!wanted) return;
        if (e.type !== 'file' || e.size > max || e.size > room) return;
        room -= e.size;
        const copy = new ContentCopy(e.size);
        return {
          data: (chunk) => copy.data(chunk),
          end: () => {
            const data = copy.buffer();
            for (const i of wanted) out[i] = data;
          },
        };
      },
    });
  }
  return out;
}
