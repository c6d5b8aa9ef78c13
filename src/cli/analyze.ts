import type { Command } from 'commander';
import { imageHistory, layerRecords, storedSize } from '../analysis/summary.js';
import { renderAnalyze } from '../report/analyze.js';
import { addImageFlags, addOutputFlags, openOne, renderOptions, type CommonFlags, type Io } from './common.js';
import { limitsFromFlags } from './limits.js';
import { wasteOf } from './waste.js';

export function registerAnalyze(program: Command, io: Io): void {
  const cmd = program
    .command('analyze')
    .description('everything at once: identity, platform, sizes, layers, history and where the bytes are wasted (reads and verifies every layer)')
    .argument('<FILE[:REF]>', 'the image file, optionally with the image to pick');
  addImageFlags(addOutputFlags(cmd)).action(async (arg: string, flags: CommonFlags) => {
    const o = renderOptions(flags, io);
    const { file, image } = await openOne(arg, flags, io);
    try {
      // One pass: the layers are read into the union, which the waste account watches.
      const { built, result: waste } = await wasteOf(image, { top: 10, ignore: [], baseLayers: 0, baseSource: null }, flags.verify !== false, io, limitsFromFlags(flags));
      const scans = built.scans;
      const history = imageHistory(image);
      const warnings = [...image.warnings, ...(history.mismatch ? [history.mismatch] : []), ...scans.flatMap((s) => s.unverified)];
      io.stdout.write(
        renderAnalyze(
          { image, layers: layerRecords(image, scans), history, storedSize: storedSize(image), size: scans.reduce((a, s) => a + s.size, 0), warnings, waste },
          o,
        ),
      );
    } finally {
      await file.close();
    }
  });
}
