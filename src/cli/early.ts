// Reading threads started as a command that reads layers begins, before its own code is loaded
// and the image is opened (fs/readers.ts startReadersEarly): judged from the command line alone,
// by the size of what its first argument that exists on disk names.
import fs from 'node:fs';
import path from 'node:path';
import { earlyReaderCount, earlyReadersGone, endEarlyReaders, startReadersEarly } from '../fs/readers.js';
import { splitPathRef } from '../source/select.js';
import { seekableStdinSize } from '../source/stdin.js';

/** The commands that read layers (through fs/layer-feed.ts). */
const READS_LAYERS = new Set(['layers', 'analyze', 'tree', 'changes', 'cat', 'export', 'ci', 'report', 'waste', 'diff']);

/** Whether the command of a command line (`argv` as process.argv) reads layers. */
export function readsLayers(argv: readonly string[]): boolean {
  return READS_LAYERS.has(argv[2] ?? '');
}

/**
 * For a command line (`argv` as process.argv) whose command reads layers, start its reading
 * threads; whether it reads layers. The command line asks twice, in its prelude and in main():
 * threads already waiting mean its image has been sized, and it is not looked at again.
 */
export function startReadersForCommand(argv: readonly string[]): boolean {
  if (!readsLayers(argv)) return false;
  if (earlyReaderCount() === 0) {
    const bytes = storedBytes(argv.slice(3));
    if (bytes > 0) startReadersEarly(bytes);
  }
  return true;
}

/**
 * The threads started early that no pass took (the command failed before reading, or read less
 * than the size promised), ended as the command ends, and gone when this resolves: a process that
 * goes on after it (the library's main(), a test, the fuzzer) is not left holding them or their
 * file descriptors.
 */
export async function endUnusedReaders(): Promise<void> {
  endEarlyReaders(0);
  await earlyReadersGone();
}

/** The bytes stored in what the first argument naming a file or a directory (FILE[:REF]) names; 0 for none. */
export function storedBytes(args: readonly string[]): number {
  for (const arg of args) {
    // Standard input redirected from a file is sized as the file; `-` can also be an option's
    // value (`report -o - FILE`), so past anything else the search goes on.
    if (arg === '-' || arg.startsWith('-:')) {
      const size = seekableStdinSize();
      if (size !== undefined) return size;
    }
    if (arg.startsWith('-')) continue;
    const { path: file } = splitPathRef(arg);
    const stats = fs.statSync(file, { throwIfNoEntry: false });
    if (stats) return stats.isFile() ? stats.size : stats.isDirectory() ? blobBytes(file) : 0;
  }
  return 0;
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
