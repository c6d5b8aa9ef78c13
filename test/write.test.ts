// fs/write.ts: what export and cat write goes out in order, small pieces gathered into larger
// writes, runs of zeros never held whole, and the reader held back while the stream is full.
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { writeWithBackpressure } from '../src/fs/write.js';

/** A stream that takes `delayMs` per write and keeps what it got. */
function slowSink(highWaterMark: number, delayMs: number) {
  const writes: number[] = [];
  const hash = createHash('sha256');
  let total = 0;
  const stream = new Writable({
    highWaterMark,
    write(chunk: Buffer, _enc, cb) {
      writes.push(chunk.length);
      hash.update(chunk);
      total += chunk.length;
      setTimeout(cb, delayMs);
    },
  });
  return { stream, writes, total: () => total, digest: () => hash.digest('hex') };
}

describe('writeWithBackpressure', () => {
  it('writes every piece in order, small ones gathered, large ones and runs of zeros as they come', async () => {
    const sink = slowSink(64 * 1024, 0);
    const w = writeWithBackpressure(sink.stream);
    const expected = createHash('sha256');
    // The pieces are views of one reused buffer, as a reader hands them over.
    const scratch = Buffer.alloc(300 * 1024);
    let seed = 1;
    const piece = (n: number) => {
      for (let i = 0; i < n; i++) scratch[i] = (seed = (seed * 48271) % 2147483647) & 0xff;
      const view = scratch.subarray(0, n);
      expected.update(view);
      w.write(view);
    };
    const zeros = (n: number) => {
      expected.update(Buffer.alloc(n));
      w.zeros(n);
    };
    let expectedBytes = 0;
    const sizes = [512, 37, 0, 1024, 65536, 300 * 1024, 511, 200 * 1024, 3];
    for (let round = 0; round < 40; round++) {
      for (const n of sizes) {
        piece(n);
        expectedBytes += n;
      }
      zeros(round % 2 ? 700 : 300 * 1024 + 5);
      expectedBytes += round % 2 ? 700 : 300 * 1024 + 5;
      const wait = w.drain();
      if (wait) await wait;
    }
    await w.drain();
    await new Promise<void>((resolve) => sink.stream.end(resolve));
    expect(sink.total()).toBe(expectedBytes);
    expect(sink.digest()).toBe(expected.digest('hex'));
    // Nothing larger than a gathered buffer or a zeros run's piece ever went at once.
    expect(Math.max(...sink.writes)).toBeLessThanOrEqual(300 * 1024);
  });

  it('a thousand tar headers reach the stream in a few writes, not one each', async () => {
    const sink = slowSink(1024 * 1024, 0);
    const w = writeWithBackpressure(sink.stream);
    for (let i = 0; i < 1000; i++) w.write(Buffer.alloc(512, i & 0xff));
    await w.drain();
    await new Promise<void>((resolve) => sink.stream.end(resolve));
    expect(sink.total()).toBe(512_000);
    expect(sink.writes.length).toBeLessThanOrEqual(4);
  });

  it('holds the reader back while a slow stream is full: what waits stays near its buffer', async () => {
    const sink = slowSink(16 * 1024, 2);
    const w = writeWithBackpressure(sink.stream);
    let peak = 0;
    for (let i = 0; i < 200; i++) {
      for (let j = 0; j < 20; j++) w.write(Buffer.alloc(1000, j));
      peak = Math.max(peak, sink.stream.writableLength);
      const wait = w.drain();
      if (wait) await wait;
    }
    await w.drain();
    await new Promise<void>((resolve) => sink.stream.end(resolve));
    expect(sink.total()).toBe(200 * 20 * 1000);
    expect(peak).toBeLessThanOrEqual(16 * 1024 + 256 * 1024);
  });
});
