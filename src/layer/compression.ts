// Decompression chosen by the bytes themselves (magic numbers), not by what a media type or a
// file name claims: eStargz is gzip, many docker-archives hold gzip layers named `.tar`.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import type { Compression } from '../image/mediatypes.js';
import { LayerlensError } from '../image/errors.js';

export type { Compression };

/** Enough bytes to tell: gzip needs 2, zstd 4. */
export const SNIFF_BYTES = 4;

export function sniffCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  // A zstd skippable frame (0x184D2A50..5F, little-endian) may come first.
  if (head.length >= 4 && (head[0]! & 0xf0) === 0x50 && head[1] === 0x2a && head[2] === 0x4d && head[3] === 0x18) return 'zstd';
  return 'none';
}

/** A push decoder: write compressed chunks, get plain chunks through `onData`. */
export interface Decoder {
  write(chunk: Buffer): void | Promise<void>;
  end(): Promise<void>;
  /** The bytes will not all come (the reader failed): let go of what the decoder holds. */
  abort?(): void;
}

/**
 * `consumed`: told of each written chunk once the decoder is done with it (zlib, the zstd
 * program; fzstd may keep a chunk, so its are left to the garbage collector). `inflateHere`: run
 * zlib on this thread (for a thread that has nothing else to overlap it with); its output then
 * comes in one reused buffer, valid only during the onData call. `storedBytes`: the compressed
 * bytes to come, where known (a zstd stream this small is not worth starting the zstd program for).
 */
export function createDecoder(
  kind: Compression,
  onData: (chunk: Buffer) => void,
  where: { file?: string; member?: string },
  consumed?: (chunk: Buffer) => void,
  inflateHere = false,
  storedBytes?: number,
): Decoder {
  switch (kind) {
    case 'none':
      return { write: (c) => onData(c), end: async () => {} };
    case 'gzip':
      return (inflateHere && gzipDecoderHere(onData, where, consumed)) || gzipDecoder(onData, where, consumed);
    case 'zstd': {
      const program = storedBytes === undefined || storedBytes >= ZSTD_PROGRAM_MIN ? zstdProgram() : undefined;
      return program ? zstdProgramDecoder(program, onData, where, consumed) : zstdDecoder(onData, where);
    }
  }
}

/** Compressed bytes queued for inflate before a write waits: reading and hashing the next chunks overlaps inflating this one. */
const GZIP_AHEAD = 1024 * 1024;
/** Inflated bytes zlib may produce before they are taken: inflate runs ahead of the consumer. */
const GZIP_OUT_AHEAD = 1024 * 1024;

function gzipDecoder(onData: (chunk: Buffer) => void, where: { file?: string; member?: string }, consumed?: (chunk: Buffer) => void): Decoder {
  // The output is pulled ('readable'), not pushed ('data'): a 'data' handler runs inside zlib's
  // callback, before zlib starts on the next piece, so inflating and consuming would take turns.
  // Pulled, zlib inflates the next pieces on the thread pool while this thread consumes.
  // zlib passes stream options on to its Transform (the types do not say so).
  const gz = zlib.createGunzip({ chunkSize: 256 * 1024, writableHighWaterMark: GZIP_AHEAD, readableHighWaterMark: GZIP_OUT_AHEAD } as zlib.ZlibOptions);
  let failure: LayerlensError | undefined;
  let consumerError: unknown;
  const pump = () => {
    let c: Buffer | null;
    while (consumerError === undefined && (c = gz.read() as Buffer | null) !== null) {
      try {
        onData(c);
      } catch (e) {
        // The consumer (tar reader, a limit) failed: stop feeding it and report that error.
        consumerError = e;
        gz.destroy();
      }
    }
  };
  gz.on('readable', pump);
  const done = new Promise<void>((resolve) => {
    gz.on('end', resolve);
    gz.on('close', resolve);
    gz.on('error', (e: NodeJS.ErrnoException) => {
      if (consumerError === undefined) failure = gzipError(e, where);
      resolve();
    });
  });
  const check = () => {
    if (consumerError !== undefined) throw consumerError;
    if (failure) throw failure;
  };
  return {
    async write(chunk) {
      check();
      if (!gz.write(chunk, consumed && (() => consumed(chunk)))) {
        await new Promise<void>((resolve) => {
          const go = () => {
            gz.off('drain', go);
            gz.off('close', go);
            resolve();
          };
          gz.on('drain', go);
          gz.on('close', go);
        });
      }
      check();
    },
    async end() {
      check();
      gz.end();
      await done;
      check();
    },
  };
}

/** The output buffer of an in-thread gzip decoder, reused for every piece. */
const INFLATE_OUT = 256 * 1024;
const NO_INPUT = Buffer.alloc(0);
/**
 * One for every decoder of this thread, from layer to layer: each fills it and hands it to its
 * consumer within one synchronous write(), so two never hold it at once.
 */
const inflateOut = Buffer.allocUnsafeSlow(INFLATE_OUT);

/** What Node's zlib handle offers its own synchronous path (lib/zlib.js processChunkSync). */
interface ZlibHandle {
  writeSync(flush: number, input: Buffer, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number): void;
  onerror: (message: string, errno: number, code?: string) => void;
}

interface GunzipHandle {
  stream: zlib.Gunzip;
  handle: ZlibHandle;
  /** [output space left, input left] after each writeSync. */
  state: Uint32Array;
}

/** A gunzip stream's handle, to drive by hand; undefined where this Node does not have one that works as expected. */
function openGunzipHandle(): GunzipHandle | undefined {
  if (handleWorks === undefined) handleWorks = handleInflates();
  return handleWorks ? gunzipHandle() : undefined;
}

function gunzipHandle(): GunzipHandle | undefined {
  const stream = zlib.createGunzip({ chunkSize: INFLATE_OUT }) as zlib.Gunzip & { _handle?: ZlibHandle; _writeState?: Uint32Array };
  const handle = stream._handle;
  const state = stream._writeState;
  if (!handle || typeof handle.writeSync !== 'function' || !(state instanceof Uint32Array) || state.length < 2) {
    stream.close();
    return undefined;
  }
  return { stream, handle, state };
}

/**
 * The handle is Node's internal API (stable since Node 10, but not promised): once per thread,
 * a small stream is inflated through it and checked before any layer is.
 */
let handleWorks: boolean | undefined;

function handleInflates(): boolean {
  const gz = gunzipHandle();
  if (!gz) return false;
  try {
    const plain = Buffer.from('layerlens '.repeat(100));
    const input = zlib.gzipSync(plain);
    const out = inflateOut;
    let failed = false;
    gz.handle.onerror = () => (failed = true);
    gz.handle.writeSync(zlib.constants.Z_FINISH, input, 0, input.length, out, 0, INFLATE_OUT);
    const [availOut, availIn] = [gz.state[0]!, gz.state[1]!];
    return !failed && availIn === 0 && out.subarray(0, INFLATE_OUT - availOut).equals(plain);
  } catch {
    return false;
  } finally {
    gz.stream.close();
  }
}

/**
 * gzip inflated on this thread, through the zlib handle that Node's own synchronous functions
 * (gunzipSync) drive, a piece at a time. Beside a stream this saves the thread-pool hop and
 * callback per 256 KiB (a quarter of the CPU of inflating a text layer) and a fresh output buffer
 * for each piece. The engine is Node's, so concatenated members, zero padding and every error
 * read as they do in the stream. Undefined where the handle is not there to drive, or does not
 * pass its check (another runtime, another Node); the caller then uses the stream.
 */
function gzipDecoderHere(onData: (chunk: Buffer) => void, where: { file?: string; member?: string }, consumed?: (chunk: Buffer) => void): Decoder | undefined {
  const gz = openGunzipHandle();
  if (!gz) return undefined;
  const { stream, handle, state } = gz;
  let zlibError: NodeJS.ErrnoException | undefined;
  // The stream would destroy itself on an error; here it is kept to be thrown.
  handle.onerror = (message, errno, code) => {
    zlibError ??= Object.assign(new Error(message), { errno, code });
  };
  const out = inflateOut;
  let closed = false;
  const close = () => {
    if (!closed) stream.close();
    closed = true;
  };
  const run = (flush: number, input: Buffer) => {
    if (closed) return;
    let off = 0;
    let len = input.length;
    try {
      for (;;) {
        handle.writeSync(flush, input, off, len, out, 0, INFLATE_OUT);
        if (zlibError) throw gzipError(zlibError, where);
        const availOut = state[0]!;
        const availIn = state[1]!;
        if (availOut < INFLATE_OUT) onData(out.subarray(0, INFLATE_OUT - availOut));
        off += len - availIn;
        len = availIn;
        // Room left in the output: zlib has taken all it will of this input (a stream that has
        // ended leaves its zero padding unread).
        if (availOut !== 0) return;
      }
    } catch (e) {
      close();
      throw e;
    }
  };
  return {
    write(chunk) {
      run(zlib.constants.Z_NO_FLUSH, chunk);
      consumed?.(chunk);
    },
    async end() {
      run(zlib.constants.Z_FINISH, NO_INPUT);
      close();
    },
  };
}

function gzipError(e: NodeJS.ErrnoException, where: { file?: string; member?: string }): LayerlensError {
  if (e.code === 'Z_BUF_ERROR' || /unexpected end/i.test(e.message)) {
    return new LayerlensError('truncated', 'gzip stream ends early', where);
  }
  return new LayerlensError('format', `gzip stream is corrupt (${e.message})`, where);
}

function zstdDecoder(onData: (chunk: Buffer) => void, where: { file?: string; member?: string }): Decoder {
  let sawFinal = false;
  // The consumer's own failure (the tar reader, a limit, a bug) is passed on as it is, not taken
  // for fzstd's.
  let consumerError: { e: unknown } | undefined;
  const d = new ZstdDecompress((chunk: Uint8Array, final?: boolean) => {
    if (final) sawFinal = true;
    if (chunk.length === 0) return;
    try {
      onData(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    } catch (e) {
      consumerError = { e };
      throw e;
    }
  });
  const wrap = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      if (consumerError) throw consumerError.e;
      if (e instanceof LayerlensError) throw e;
      // fzstd's error code 5 is "unexpected EOF": the input stopped inside a frame.
      if ((e as { code?: unknown }).code === 5) throw new LayerlensError('truncated', 'zstd stream ends early', where);
      const message = (e as Error).message || String(e);
      throw new LayerlensError('format', `zstd stream is corrupt (${message})`, where);
    }
  };
  return {
    write(chunk) {
      wrap(() => d.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
    },
    async end() {
      wrap(() => d.push(new Uint8Array(0), true));
      void sawFinal;
    },
  };
}

/**
 * zstd streams at least this large are decoded by the zstd program, where there is one: fzstd
 * (JavaScript) decodes about 125 MB/s here, the program about 800 MB/s, and starting it costs
 * a few milliseconds.
 */
const ZSTD_PROGRAM_MIN = 256 * 1024;

let zstdOnPath: string | null | undefined;

/**
 * The zstd program to decode with: LAYERLENS_ZSTD names it, or is `js` for none (fzstd only);
 * otherwise `zstd` on PATH, if there is one.
 */
export function zstdProgram(): string | undefined {
  const chosen = process.env.LAYERLENS_ZSTD;
  if (chosen === 'js') return undefined;
  if (chosen) return chosen;
  if (zstdOnPath === undefined) {
    zstdOnPath = null;
    for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
      if (!dir) continue;
      const candidate = path.join(dir, 'zstd');
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        if (fs.statSync(candidate).isFile()) {
          zstdOnPath = candidate;
          break;
        }
      } catch {
        // not there, or not ours to run
      }
    }
  }
  return zstdOnPath ?? undefined;
}

/**
 * A zstd stream decoded by the zstd program: compressed chunks to its input, plain ones from its
 * output (64 KiB at a time, each its own buffer). Its errors read as fzstd's do: a stream cut
 * short is `truncated`, anything else it refuses `format`.
 */
function zstdProgramDecoder(program: string, onData: (chunk: Buffer) => void, where: { file?: string; member?: string }, consumed?: (chunk: Buffer) => void): Decoder {
  // -q: no progress line, only errors; the default memory limit (128 MiB of window) stands.
  const child = spawn(program, ['-d', '-c', '-q'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let consumerError: unknown;
  let startError: Error | undefined;
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    if (consumerError !== undefined) return;
    try {
      onData(chunk);
    } catch (e) {
      // The consumer (tar reader, a limit) failed: the program is stopped, and that error reported.
      consumerError = e;
      child.kill();
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    if (stderr.length < 4096) stderr += text;
  });
  // The program may stop reading before the input ends (it refused it): its exit says why.
  child.stdin.on('error', () => {});
  child.on('error', (e) => {
    startError = e;
  });
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const fail = (): never => {
    if (consumerError !== undefined) throw consumerError;
    if (startError) throw new LayerlensError('io', `cannot run ${program} to decode zstd (${(startError as NodeJS.ErrnoException).code ?? startError.message}; LAYERLENS_ZSTD=js decodes without it)`, where);
    // zstd's message, its error line first, without its own name and the input's
    // ("/*stdin*\ : Decoding error (36) : Frame requires too much memory for decoding").
    const lines = stderr.trim().split('\n');
    const said = (lines.find((l) => /error/i.test(l)) ?? lines[0] ?? '').replace(/^zstd: /, '').replace(/^[^:]*: */, '').trim();
    // Less than a frame's magic number is a stream cut short too, as fzstd calls it.
    if (written < 4 || /premature end|unexpected end|truncated/i.test(stderr)) throw new LayerlensError('truncated', 'zstd stream ends early', where);
    throw new LayerlensError('format', `zstd stream is corrupt (${said || 'the zstd program failed'})`, where);
  };
  let exited = false;
  void closed.then(() => (exited = true));
  let written = 0;
  return {
    async write(chunk) {
      if (exited || consumerError !== undefined || startError) fail();
      written += chunk.length;
      // The chunk is the program's until it is written (then `consumed`); past what the pipe
      // holds, wait: the reader gets no further ahead than the program.
      const room = child.stdin.write(chunk, (err) => {
        if (!err) consumed?.(chunk);
      });
      if (!room) await Promise.race([new Promise((resolve) => child.stdin.once('drain', resolve)), closed]);
    },
    async end() {
      child.stdin.end();
      const code = await closed;
      if (code !== 0 || consumerError !== undefined || startError) fail();
    },
    abort() {
      child.kill();
    },
  };
}
