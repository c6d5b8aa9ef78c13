// Standard input and compressed outer archives (`docker save | gzip`) cannot be seeked, so they
// are decompressed once into an unlinked temporary file and read from there like any tar: memory
// stays flat and nothing is left behind on disk. A command that reads no layer (images, inspect,
// history) has only the members small enough to be JSON documents written: the others' content
// is left a hole in the file (the tar's offsets stay), which costs the disk nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { LayerlensError } from '../image/errors.js';
import { DEFAULT_LIMITS, limitError } from '../image/limits.js';
import { createDecoder, sniffCompression, SNIFF_BYTES, type Compression, type Decoder } from '../layer/compression.js';
import { TarReader } from '../layer/tar-reader.js';

export interface Spooled {
  fd: number;
  compression: Compression;
  /** Where the content of each member that was not written starts (`keepAtMost`). */
  notKept: Set<number>;
}

/**
 * Spool `input` (decompressed) to an unlinked temporary file of at most `maxBytes` bytes
 * (`--max-bytes`). Members larger than `keepAtMost` bytes are not written (their content reads as
 * zeros): for a caller that reads none of them.
 */
export async function spool(input: Readable, file: string, maxBytes: number = DEFAULT_LIMITS.maxBytes, keepAtMost = Infinity): Promise<Spooled> {
  const fd = temporaryFile(file);
  const where = { file };
  let position = 0;
  const notKept = new Set<number>();
  // The content ranges not to write, [start, end) in the tar, in order: found by reading the
  // members' headers as they pass. Where the tar cannot be read, the rest is written as it
  // comes, and indexing the copy says what is wrong with it.
  const skips: number[] = [];
  let headers: TarReader | undefined =
    keepAtMost === Infinity
      ? undefined
      : new TarReader({
          where,
          onEntry: (e) => {
            if (e.size <= keepAtMost || e.storedSize === 0) return;
            notKept.add(e.dataOffset);
            skips.push(e.dataOffset, e.dataOffset + e.storedSize);
          },
        });
  const writeAt = (chunk: Buffer, at: number) => {
    let done = 0;
    while (done < chunk.length) done += fs.writeSync(fd, chunk, done, chunk.length - done, at + done);
  };
  const write = (chunk: Buffer) => {
    if (position + chunk.length > maxBytes) {
      throw limitError('maxBytes', compression === 'none' ? 'the archive is too large' : `the archive is too large once ${compression}-decompressed`, maxBytes, where);
    }
    if (headers) {
      try {
        headers.push(chunk);
      } catch {
        headers = undefined;
      }
    }
    let from = position;
    const end = position + chunk.length;
    while (skips.length > 0 && from < end) {
      const skipStart = skips[0]!;
      const skipEnd = skips[1]!;
      if (skipStart > from) writeAt(chunk.subarray(from - position, Math.min(skipStart, end) - position), from);
      from = Math.max(from, Math.min(skipEnd, end));
      if (skipEnd <= end) skips.splice(0, 2);
      else break;
    }
    if (from < end) writeAt(chunk.subarray(from - position), from);
    position = end;
  };
  let decoder: Decoder | undefined;
  let compression: Compression = 'none';
  let head: Buffer | undefined;
  try {
    for await (const c of input) {
      const chunk = c as Buffer;
      if (decoder) {
        await decoder.write(chunk);
        continue;
      }
      head = head ? Buffer.concat([head, chunk]) : chunk;
      if (head.length >= SNIFF_BYTES) {
        compression = sniffCompression(head);
        decoder = createDecoder(compression, write, where);
        await decoder.write(head);
        head = undefined;
      }
    }
    if (!decoder) {
      compression = sniffCompression(head ?? Buffer.alloc(0));
      decoder = createDecoder(compression, write, where);
      if (head) await decoder.write(head);
    }
    await decoder.end();
    // A member left unwritten at the end still counts in the file's size.
    fs.ftruncateSync(fd, position);
  } catch (e) {
    decoder?.abort?.();
    fs.closeSync(fd);
    if (e instanceof LayerlensError) throw e;
    throw new LayerlensError('io', `cannot read: ${(e as Error).message}`, where, { cause: e });
  }
  return { fd, compression, notKept };
}

/** An unlinked temporary file, open for reading and writing: nothing of it outlives the process. */
function temporaryFile(file: string): number {
  let dir: string | undefined;
  try {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-'));
    const tmp = path.join(dir, 'spool.tar');
    const fd = fs.openSync(tmp, 'w+', 0o600);
    fs.unlinkSync(tmp);
    return fd;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new LayerlensError('io', `cannot make a temporary file in ${os.tmpdir()} to copy it to (${err.code ?? err.message}; TMPDIR names the folder)`, { file });
  } finally {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}
