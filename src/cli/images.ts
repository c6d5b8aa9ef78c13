import type { Command } from 'commander';
import { imageRows } from '../analysis/summary.js';
import { renderImages } from '../report/images.js';
import { addOutputFlags, openFile, renderOptions, warn, type CommonFlags, type Io } from './common.js';
import { addLimitFlags } from './limits.js';

export function registerImages(program: Command, io: Io): void {
  const cmd = program
    .command('images')
    .description('list the images in FILE, as docker images does')
    .argument('<FILE>', 'docker-archive or OCI layout (directory or tar, plain, gzip or zstd), or - for stdin')
    .option('--no-verify', "don't fail on manifest or config digest mismatches");
  addLimitFlags(addOutputFlags(cmd)).action(async (fileArg: string, flags: CommonFlags) => {
    const o = renderOptions(flags, io);
    const { file } = await openFile(fileArg, flags, io, false);
    try {
      for (const u of file.unavailable) warn(io, `warning: cannot open ${u.names.join(', ') || u.digest || 'an image'}: ${u.reason}`);
      io.stdout.write(renderImages(imageRows(file), o));
    } finally {
      await file.close();
    }
  });
}
