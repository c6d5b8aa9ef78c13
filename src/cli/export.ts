import fs from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { LayerlensError } from '../image/errors.js';
import { exportUnion } from '../fs/export.js';
import { addImageFlags, openOne, warn, type CommonFlags, type Io } from './common.js';
import { limitsFromFlags } from './limits.js';
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
    if (outPath !== '-') {
      const exists = lstatOrUndefined(outPath) !== undefined;
      if (exists && statOrUndefined(outPath)?.isDirectory()) throw new LayerlensError('usage', `${outPath} is a directory`);
      if (exists && !flags.force) throw new LayerlensError('usage', `${outPath} exists; use --force to overwrite it`);
    }
    const { file, image } = await openOne(arg, flags, io);
    try {
      const layer = parseLayer(flags.layer, image);
      const limits = limitsFromFlags(flags);
      const { union } = await unionAt(image, layer, flags.verify !== false, io, () => false, limits, { hashFiles: false });
      if (outPath === '-') {
        await exportUnion(union, image.layers, io.stdout as never, { verify: flags.verify !== false, file: file.file, limits });
        return;
      }
      // Written beside OUT and renamed at the end: a failed export leaves nothing behind.
      const tmp = `${outPath}.partial-${process.pid}`;
      let fd: number;
      try {
        fd = fs.openSync(tmp, 'wx', 0o644);
      } catch (e) {
        throw writeError(outPath, e);
      }
      const out = fs.createWriteStream(tmp, { fd });
      out.on('error', () => {}); // reported by finished() or by the pending write
      try {
        const summary = await exportUnion(union, image.layers, out, { verify: flags.verify !== false, file: file.file, limits });
        out.end();
        await finished(out);
        fs.renameSync(tmp, outPath);
        warn(io, `wrote ${outPath}: ${summary.entries} entries, ${summary.bytes} bytes`);
      } catch (e) {
        out.destroy();
        fs.rmSync(tmp, { force: true });
        throw writeError(outPath, e);
      }
    } finally {
      await file.close();
    }
  });
}

function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}

function statOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch {
    return undefined;
  }
}

/** What the operating system refused, as one line naming OUT (never the temporary name). */
function writeError(outPath: string, e: unknown): LayerlensError {
  if (e instanceof LayerlensError) return e;
  const err = e as NodeJS.ErrnoException;
  const why =
    err?.code === 'ENOENT' ? 'no such file or directory (its folder does not exist)'
    : err?.code === 'EACCES' || err?.code === 'EPERM' ? 'permission denied'
    : err?.code === 'ENOSPC' ? 'no space left on the device'
    : err?.code === 'EISDIR' ? 'it is a directory'
    : (err?.message ?? String(e));
  return new LayerlensError('io', `cannot write ${outPath}: ${why}`, {}, { cause: e });
}
