// sha256 on another thread: when one layer is all there is to read, its two digests (the blob's
// and the tar's, or the tar's and its files') would otherwise share one core. Each chunk is
// copied across (a decoder may still hold the original), and the copies in flight are bounded.
import { Worker } from 'node:worker_threads';
import { workerScript } from './threads.js';

/** Bytes sent but not yet hashed before update() makes the sender wait. */
const IN_FLIGHT = 8 * 1024 * 1024;

export interface StreamHash {
  /** Add bytes; a promise when the caller should wait before sending more. */
  update(chunk: Buffer): Promise<void> | void;
  /** The hex digest of everything added since the last digest(). */
  digest(): Promise<string>;
  close(): Promise<void>;
}

export class HashThread implements StreamHash {
  private started: Worker | undefined;
  private inFlight = 0;
  private waiting: (() => void) | undefined;
  /** Who waits for each digest asked for, in order (one stream may end before the last one's digest is back). */
  private readonly results: Array<{ resolve: (hex: string) => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;
  /** Buffers back from the hashing thread, to copy the next chunks into. */
  private readonly free: ArrayBuffer[] = [];

  /** The thread, started on first use (a layer may turn out to need none). */
  private get worker(): Worker {
    if (this.started) return this.started;
    const worker = (this.started = new Worker(workerScript(import.meta.url, 'hash-worker.js', 'layer')));
    worker.on('message', (m: Uint8Array | string) => {
      if (typeof m !== 'string') {
        this.inFlight -= m.byteLength;
        this.free.push(m.buffer as ArrayBuffer);
        if (this.inFlight <= IN_FLIGHT / 2) this.wake();
      } else this.results.shift()?.resolve(m);
    });
    worker.on('error', (e) => {
      this.failure = e;
      for (const r of this.results.splice(0)) r.reject(e);
      this.wake();
    });
    return worker;
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  update(chunk: Buffer): Promise<void> | void {
    if (this.failure) throw this.failure;
    let buffer = this.free.pop();
    if (!buffer || buffer.byteLength < chunk.length) buffer = new ArrayBuffer(Math.max(chunk.length, 1024 * 1024));
    const copy = new Uint8Array(buffer, 0, chunk.length);
    copy.set(chunk);
    this.inFlight += copy.byteLength;
    this.worker.postMessage(copy, [copy.buffer]);
    if (this.inFlight > IN_FLIGHT) return new Promise<void>((resolve) => (this.waiting = resolve));
  }

  digest(): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.results.push({ resolve, reject });
      this.worker.postMessage('end');
    });
  }

  async close(): Promise<void> {
    await this.started?.terminate();
  }
}
