// Reading threads started as a command that reads layers begins, before its own code is loaded
// and the image is opened (fs/readers.ts startReadersEarly): judged from the command line alone,
// by the size of what its first argument that exists on disk names.
import fs from 'node:fs';
import path from 'node:path';
import { startReadersEarly } from '../fs/readers.js';

/** `args`: a layer-reading command's arguments. */
export function startReadersFor(args: readonly string[]): void {
  const bytes = storedBytes(args);
  if (bytes > 0) startReadersEarly(bytes);
}

/** The bytes stored in what the first argument naming a file or a directory (FILE[:REF]) names; 0 for none. */
export function storedBytes(args: readonly string[]): number {
  for (const arg of args) {
    if (arg.startsWith('-')) continue;
    const found = existing(arg);
    if (found) return found.stats.isFile() ? found.stats.size : found.stats.isDirectory() ? blobBytes(found.path) : 0;
  }
  return 0;
}

/** The longest prefix of FILE[:REF] that exists, as source/select.ts reads it. */
function existing(arg: string): { path: string; stats: fs.Stats } | undefined {
  for (let end = arg.length; end > 0; end = arg.lastIndexOf(':', end - 1)) {
    const stats = fs.statSync(arg.slice(0, end), { throwIfNoEntry: false });
    if (stats) return { path: arg.slice(0, end), stats };
  }
  return undefined;
}

/** The sizes of an OCI layout's blobs (0 for a directory that is not one). */
function blobBytes(dir: string): number {
  const blobs = path.join(dir, 'blobs');
  let total = 0;
  try {
    for (const alg of fs.readdirSync(blobs)) {
      for (const blob of fs.readdirSync(path.join(blobs, alg))) total += fs.statSync(path.join(blobs, alg, blob), { throwIfNoEntry: false })?.size ?? 0;
    }
  } catch {
    return 0;
  }
  return total;
}
