import fs from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { LayerlensError } from '../image/errors.js';
import { exportUnion } from '../fs/export.js';
import { addImageFlags, openOne, warn, type CommonFlags, type Io } from './common.js';
import { parseLayer, unionAt } from './union.js';

export function registerExport(program: Command, io: Io): void {
  const cmd = program
    .command('export')
    .description('write the flattened filesystem as one tar (as crane export does), to OUT or - for stdout')
    .argument('<FILE[:REF]>', 'the image file, optionally with the image to pick')
    .argument('<OUT>', 'the tar to write, or - for stdout')
    .option('--layer <N>', 'as the filesystem was after layer N (0-based; -1 is the last)')
    .option('--force', 'overwrite OUT if it exists');
  addImageFlags(cmd).action(async (arg: string, outPath: string, flags: CommonFlags & { layer?: string; force?: boolean }) => {
    if (outPath !== '-' && fs.existsSync(outPath) && !flags.force) {
      throw new LayerlensError('usage', `${outPath} exists; use --force to overwrite it`);
    }
    const { file, image } = await openOne(arg, flags, io);
    try {
      const layer = parseLayer(flags.layer, image);
      const { union } = await unionAt(image, layer, flags.verify !== false, io);
      if (outPath === '-') {
        await exportUnion(union, image.layers, io.stdout as never, { verify: flags.verify !== false, file: file.file });
        return;
      }
      const tmp = `${outPath}.partial-${process.pid}`;
      const out = fs.createWriteStream(tmp, { flags: 'wx', mode: 0o644 });
      try {
        const summary = await exportUnion(union, image.layers, out, { verify: flags.verify !== false, file: file.file });
        out.end();
        await finished(out);
        fs.renameSync(tmp, outPath);
        warn(io, `wrote ${outPath}: ${summary.entries} entries, ${summary.bytes} bytes`);
      } catch (e) {
        out.destroy();
        fs.rmSync(tmp, { force: true });
        throw e;
      }
    } finally {
      await file.close();
    }
  });
}
