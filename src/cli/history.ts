import type { Command } from 'commander';
import { imageHistory } from '../analysis/summary.js';
import { renderHistory } from '../report/history.js';
import { addImageFlags, addOutputFlags, openOne, renderOptions, type CommonFlags, type Io } from './common.js';

export function registerHistory(program: Command, io: Io): void {
  const cmd = program
    .command('history')
    .description('how the image was built, as docker image history shows it (newest first)')
    .argument('<FILE[:REF]>', 'the image file, optionally with the image to pick');
  addImageFlags(addOutputFlags(cmd)).action(async (arg: string, flags: CommonFlags) => {
    const o = renderOptions(flags, io);
    const { file, image } = await openOne(arg, flags, io, false);
    try {
      io.stdout.write(renderHistory(imageHistory(image), o));
    } finally {
      await file.close();
    }
  });
}
