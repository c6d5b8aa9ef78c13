import type { Command } from 'commander';
import { alignHistory } from '../image/history.js';
import { changesOutput, renderLayerChanges } from '../report/tree.js';
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
      const history = alignHistory(image.config.history, image.layers.length);
      // Each layer's part is made into text as soon as the layer is read, and its change records
      // let go: on 318,000 tar entries, the records of every layer and the objects and text made
      // from them all at once were the peak (421 MiB for JSON). The text is printed when every
      // layer has been read and verified, so that an error leaves no half output.
      const parts: string[] = [];
      await unionAt(image, last, flags.verify !== false, io, (l) => only === undefined || l === only, limitsFromFlags(flags), {
        onLayer: (scan, set) => {
          if (only !== undefined && set.layer !== only) return;
          const h = history.layerEntry[set.layer];
          const l = { set, digest: scan.digest, createdBy: h === null || h === undefined ? undefined : image.config.history[h]?.createdBy };
          parts.push(renderLayerChanges(l, o));
        },
        releaseChanges: true,
      });
      for (const text of changesOutput(parts, o)) io.stdout.write(text);
    } finally {
      await file.close();
    }
  });
}
