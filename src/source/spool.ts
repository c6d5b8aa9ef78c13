// Standard input and compressed outer archives (`docker save | gzip`) cannot be seeked, so they
// are decompressed once into an unlinked temporary file and read from there like any tar: memory
// stays flat and nothing is left behind on disk.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { LayerlensError } from '../image/errors.js';
import { DEFAULT_LIMITS, limitError } from '../image/limits.js';
import { createDecoder, sniffCompression, SNIFF_BYTES, type Compression, type Decoder } from '../layer/compression.js';

export interface Spooled {
  fd: number;
  compression: Compression;
}

/** Spool `input` (decompressed) to an unlinked temporary file of at most `maxBytes` bytes (`--max-bytes`). */
export async function spool(input: Readable, file: string, maxBytes: number = DEFAULT_LIMITS.maxBytes): Promise<Spooled> {
  const fd = temporaryFile(file);
  let position = 0;
  const write = (chunk: Buffer) => {
    if (position + chunk.length > maxBytes) {
      throw limitError('maxBytes', compression === 'none' ? 'the archive is too large' : `the archive is too large once ${compression}-decompressed`, maxBytes, { file });
    }
    let done = 0;
    while (done < chunk.length) done += fs.writeSync(fd, chunk, done, chunk.length - done, position + done);
    position += chunk.length;
  };
  const where = { file };
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
  } catch (e) {
    fs.closeSync(fd);
    if (e instanceof LayerlensError) throw e;
    throw new LayerlensError('io', `cannot read: ${(e as Error).message}`, where, { cause: e });
  }
  return { fd, compression };
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
