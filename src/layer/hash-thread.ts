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
  /** The hex digest of everything added. */
  digest(): Promise<string>;
  close(): Promise<void>;
}

export class HashThread implements StreamHash {
  private readonly worker: Worker;
  private inFlight = 0;
  private waiting: (() => void) | undefined;
  private result: ((hex: string) => void) | undefined;
  private failure: Error | undefined;
  /** Buffers back from the hashing thread, to copy the next chunks into. */
  private readonly free: ArrayBuffer[] = [];

  constructor() {
    this.worker = new Worker(workerScript(import.meta.url, 'hash-worker.js', 'layer'));
    this.worker.on('message', (m: Uint8Array | string) => {
      if (typeof m !== 'string') {
        this.inFlight -= m.byteLength;
        this.free.push(m.buffer as ArrayBuffer);
        if (this.inFlight <= IN_FLIGHT / 2) this.wake();
      } else this.result?.(m);
    });
    this.worker.on('error', (e) => {
      this.failure = e;
      this.wake();
    });
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
      this.result = (hex) => {
        this.result = undefined;
        resolve(hex);
      };
      this.worker.postMessage('end');
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
