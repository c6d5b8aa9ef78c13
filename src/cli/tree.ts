import type { Command } from 'commander';
import { treeView } from '../analysis/tree.js';
import { LayerlensError } from '../image/errors.js';
import { once } from 'node:events';
import { flatten } from '../fs/flat.js';
import { jsonArrayChunks } from '../report/format.js';
import { unescapeName } from '../layer/names.js';
import { renderFlat, renderTree } from '../report/tree.js';
import { addImageFlags, addOutputFlags, openOne, renderOptions, type CommonFlags, type Io } from './common.js';
import { limitsFromFlags } from './limits.js';
import { parseLayer, unionAt } from './union.js';

interface TreeFlags extends CommonFlags {
  layer?: string;
  changes?: boolean;
  depth?: string;
  sort: string;
  flat?: boolean;
}

export function registerTree(program: Command, io: Io): void {
  const cmd = program
    .command('tree')
    .description('the file tree of the image (the union of its layers), or of PATH in it')
    .argument('<FILE[:REF]>', 'the image file, optionally with the image to pick')
    .argument('[PATH]', 'show only this directory', '/')
    .option('--layer <N>', 'the filesystem after layer N (0-based; -1 is the last)')
    .option('--changes', 'mark what layer N added (+), modified (~) or removed (-)')
    .option('--depth <D>', 'show D levels below PATH')
    .option('--sort <order>', 'name or size', 'name')
    .option('--flat', 'one line (or JSON record) per path instead of a tree');
  addImageFlags(addOutputFlags(cmd)).action(async (arg: string, path: string, flags: TreeFlags) => {
    const o = renderOptions(flags, io);
    if (flags.sort !== 'name' && flags.sort !== 'size') throw new LayerlensError('usage', `--sort takes name or size, not ${JSON.stringify(flags.sort)}`);
    let depth: number | undefined;
    if (flags.depth !== undefined) {
      depth = Number(flags.depth);
      if (!Number.isInteger(depth) || depth < 0) throw new LayerlensError('usage', `--depth takes a whole number, not ${JSON.stringify(flags.depth)}`);
    }
    const { file, image } = await openOne(arg, flags, io);
    try {
      const layer = parseLayer(flags.layer, image);
      // An image without layers has an empty filesystem: the root alone, as `umoci unpack` makes it.
      // The tree shows no digest: files are hashed only for --flat (which lists them) and
      // --changes (a file rewritten with content of its own size is `modified`).
      const hashFiles = !!flags.flat || !!flags.changes;
      const { union, changeSets } = await unionAt(image, layer, flags.verify !== false, io, (l) => !!flags.changes && l === layer, limitsFromFlags(flags), { hashFiles });
      // A name shown escaped (`\xNN`, bytes that are not UTF-8) finds the path it shows.
      const start = union.resolve(path) ?? (path.includes('\\x') ? union.resolve(unescapeName(path)) : undefined);
      if (!start) throw new LayerlensError('usage', `no such path in the image at layer ${layer}: ${path}`, { file: file.file });
      if (flags.flat) {
        const records = flatten(union, start);
        if (flags.sort === 'size') records.sort((a, b) => b.size - a.size);
        if (o.format === 'json') {
          // Hundreds of thousands of records: written in pieces, never as one string.
          for (const chunk of jsonArrayChunks(records)) if (!io.stdout.write(chunk)) await once(io.stdout, 'drain');
        } else {
          io.stdout.write(renderFlat(records, o));
        }
      } else {
        const view = treeView(start, { depth, sort: flags.sort as 'name' | 'size', changes: flags.changes ? changeSets[layer] : undefined });
        io.stdout.write(renderTree(view, o, !!flags.changes));
      }
    } finally {
      await file.close();
    }
  });
}
