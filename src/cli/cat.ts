import type { Command } from 'commander';
import { catFile } from '../fs/cat.js';
import { addImageFlags, openOne, type CommonFlags, type Io } from './common.js';
import { limitsFromFlags } from './limits.js';
import { parseLayer, unionAt } from './union.js';

export function registerCat(program: Command, io: Io): void {
  const cmd = program
    .command('cat')
    .description("write a file's content to stdout, streamed from the layer that holds it (symlinks followed inside the image)")
    .argument('<FILE[:REF]>', 'the image file, optionally with the image to pick')
    .argument('<PATH>', 'the path inside the image')
    .option('--layer <N>', 'as the filesystem was after layer N (0-based; -1 is the last)');
  addImageFlags(cmd).action(async (arg: string, path: string, flags: CommonFlags & { layer?: string }) => {
    const { file, image } = await openOne(arg, flags, io);
    try {
      const layer = parseLayer(flags.layer, image);
      const limits = limitsFromFlags(flags);
      const { union } = await unionAt(image, layer, flags.verify !== false, io, () => false, limits, { hashFiles: false });
      await catFile(union, image.layers, path, io.stdout as never, { verify: flags.verify !== false, file: file.file, limits });
    } finally {
      await file.close();
    }
  });
}
