// Streaming one file's content out of the layer that holds it. The path is resolved inside the
// image's root: symlinks are followed but can never lead out of it, and a loop is an error.
import type { Writable } from 'node:stream';
import { LayerlensError } from '../image/errors.js';
import type { Layer } from '../image/model.js';
import { scanLayer } from '../layer/scan.js';
import type { Union } from './union.js';
import { writeWithBackpressure } from './write.js';

export async function catFile(union: Union, layers: Layer[], path: string, out: Writable, opts: { verify: boolean; file?: string }): Promise<number> {
  const node = union.resolve(path);
  const where = { file: opts.file };
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
    drain: writer.drain,
    onEntry: (e) => {
      ordinal++;
      if (ordinal !== content.entry) return;
      if (e.sparseRealSize !== undefined) throw new LayerlensError('unsupported', `${path} is stored as a sparse file, which cat does not expand yet`, { file: opts.file, member: layer.member });
      return {
        data: (chunk) => {
          written += chunk.length;
          writer.write(chunk);
        },
        end: () => {},
      };
    },
  });
  await writer.drain();
  return written;
}
