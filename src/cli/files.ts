// Report files a command writes beside its output (--junit, --markdown, --json, -o): written
// whole to a temporary name in the same folder and renamed, so a reader never sees half a file;
// or appended (a CI system's step summary).
import fs from 'node:fs';
import path from 'node:path';
import { LayerlensError } from '../image/errors.js';

export function writeReportFile(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.partial-${process.pid}`);
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    const err = e as NodeJS.ErrnoException;
    throw new LayerlensError('io', `cannot write: ${err.code === 'ENOENT' ? 'no such directory' : err.message}`, { file });
  }
}

export function appendReportFile(file: string, text: string): void {
  try {
    fs.appendFileSync(file, text);
  } catch (e) {
    throw new LayerlensError('io', `cannot append: ${(e as Error).message}`, { file });
  }
}
