import type { Command } from 'commander';
import { inspectImage } from '../analysis/summary.js';
import { json } from '../report/format.js';
import { addImageFlags, openOne, renderOptions, type CommonFlags, type Io } from './common.js';

export function registerInspect(program: Command, io: Io): void {
  const cmd = program
    .command('inspect')
    .description("the image's metadata, as docker image inspect prints it (a JSON array of one object)")
    .argument('<FILE[:REF]>', 'the image file, optionally with the image to pick')
    .option('--format <format>', 'json (the only format; docker prints inspect as JSON too)', 'json');
  addImageFlags(cmd).action(async (arg: string, flags: CommonFlags) => {
    renderOptions({ ...flags, human: true, trunc: true }, io, ['json']);
    const { file, image } = await openOne(arg, flags, io, false);
    try {
      // docker indents inspect output with four spaces.
      io.stdout.write(json([inspectImage(image)], 4));
    } finally {
      await file.close();
    }
  });
}
