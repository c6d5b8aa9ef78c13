import type { Command } from 'commander';
import { alignHistory } from '../image/history.js';
import { renderChanges } from '../report/tree.js';
import { addImageFlags, addOutputFlags, openOne, renderOptions, type CommonFlags, type Io } from './common.js';
import { limitsFromFlags } from './limits.js';
import { parseLayer, unionAt } from './union.js';

interface ChangesFlags extends CommonFlags {
  layer?: string;
}

export function registerChanges(program: Command, io: Io): void {
  const cmd = program
    .command('changes')
    .description('what each layer (or layer N) added, modified (and how) and removed')
    .argument('<FILE[:REF]>', 'the image file, optionally with the image to pick')
    .option('--layer <N>', 'only layer N (0-based; -1 is the last)');
  addImageFlags(addOutputFlags(cmd)).action(async (arg: string, flags: ChangesFlags) => {
    const o = renderOptions(flags, io);
    const { file, image } = await openOne(arg, flags, io);
    try {
      const only = flags.layer === undefined ? undefined : parseLayer(flags.layer, image);
      const last = only ?? image.layers.length - 1;
      const { scans, changeSets } = await unionAt(image, last, flags.verify !== false, io, (l) => only === undefined || l === only, limitsFromFlags(flags));
      const history = alignHistory(image.config.history, image.layers.length);
      const layers = changeSets
        .filter((s) => only === undefined || s.layer === only)
        .map((set) => {
          const h = history.layerEntry[set.layer];
          return { set, digest: scans[set.layer]?.digest, createdBy: h === null || h === undefined ? undefined : image.config.history[h]?.createdBy };
        });
      io.stdout.write(renderChanges(layers, o));
    } finally {
      await file.close();
    }
  });
}
