// Compression is told by the bytes: gzip and zstd magic numbers, never a name or a media type.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LayerlensError } from '../src/image/errors.js';
import { createDecoder, sniffCompression, type Compression } from '../src/layer/compression.js';
import { HAS_ZSTD, ZSTD_CLI, tar, zstd } from './helpers/builders.js';

/** Some bytes that compress, but not to nothing. */
function sample(n = 300_000): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7919 + (i >> 9)) % 251;
  return b;
}

/** Decode `input` written in chunks; the plain bytes, or the LayerlensError raised. */
async function decodeWith(kind: Compression, input: Buffer, chunk = 64 * 1024, inflateHere = false): Promise<Buffer> {
  const out: Buffer[] = [];
  // Copied: an in-thread decoder hands out one reused buffer.
  const d = createDecoder(kind, (c) => out.push(Buffer.from(c)), { file: 'image.tar', member: 'blobs/sha256/abc' }, undefined, inflateHere);
  for (let i = 0; i < input.length; i += chunk) await d.write(input.subarray(i, i + chunk));
  await d.end();
  return Buffer.concat(out);
}

function decode(kind: Compression, input: Buffer, chunk?: number): Promise<Buffer> {
  return decodeWith(kind, input, chunk);
}

/** Compare bytes by digest: deep equality over large buffers is slow and prints unreadably. */
function digestOf(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

async function failure(p: Promise<unknown>): Promise<LayerlensError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof LayerlensError) return e;
    throw e;
  }
  throw new Error('expected a LayerlensError, nothing was thrown');
}

const zstdIt = HAS_ZSTD ? it : it.skip;

describe('sniffing', () => {
  it('knows gzip by 1f 8b', () => {
    expect(sniffCompression(zlib.gzipSync(Buffer.from('x')))).toBe('gzip');
    expect(sniffCompression(Buffer.from([0x1f, 0x8b]))).toBe('gzip');
  });

  it('knows zstd by its frame magic 28 b5 2f fd, and by a skippable frame first', () => {
    expect(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x04]))).toBe('zstd');
    expect(sniffCompression(Buffer.from([0x50, 0x2a, 0x4d, 0x18]))).toBe('zstd');
    expect(sniffCompression(Buffer.from([0x5f, 0x2a, 0x4d, 0x18]))).toBe('zstd');
    expect(sniffCompression(Buffer.from([0x60, 0x2a, 0x4d, 0x18]))).toBe('none');
  });

  it('calls a tar, and anything too short to tell, uncompressed', () => {
    expect(sniffCompression(tar().file('a', 'b').build())).toBe('none');
    expect(sniffCompression(Buffer.from([0x1f]))).toBe('none');
    expect(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f]))).toBe('none');
    expect(sniffCompression(Buffer.alloc(0))).toBe('none');
  });

  zstdIt('sniffs what the zstd program writes', () => {
    expect(sniffCompression(zstd(Buffer.from('hello')))).toBe('zstd');
  });
});

// The same expectations whether zlib runs on the thread pool (a stream) or on this thread.
describe.each([
  ['on the thread pool', false],
  ['on this thread', true],
])('gzip inflated %s', (_, here) => {
  const decodeGzip = (kind: Compression, input: Buffer, chunk?: number) => decodeWith(kind, input, chunk, here);

  it('decodes whatever the chunking, one byte at a time included', async () => {
    const data = sample(20_000);
    const gz = zlib.gzipSync(data);
    expect(digestOf(await decodeGzip('gzip', gz))).toBe(digestOf(data));
    expect(digestOf(await decodeGzip('gzip', gz, 1))).toBe(digestOf(data));
    expect(digestOf(await decodeGzip('gzip', gz, 1000))).toBe(digestOf(data));
  });

  it('decodes concatenated members (pigz, `cat a.gz b.gz`) and ignores zero padding after the last', async () => {
    const a = sample(5000);
    const b = Buffer.from('second member');
    expect(digestOf(await decodeGzip('gzip', Buffer.concat([zlib.gzipSync(a), zlib.gzipSync(b)])))).toBe(digestOf(Buffer.concat([a, b])));
    expect(digestOf(await decodeGzip('gzip', Buffer.concat([zlib.gzipSync(a), Buffer.alloc(1024)])))).toBe(digestOf(a));
  });

  it('reports a stream cut short as truncated', async () => {
    const gz = zlib.gzipSync(sample());
    for (const cut of [gz.length - 1, gz.length - 4, gz.length - 100, 20]) {
      const e = await failure(decodeGzip('gzip', gz.subarray(0, cut)));
      expect(e.kind, `cut at ${cut}`).toBe('truncated');
      expect(e.oneLine()).toBe('image.tar: blobs/sha256/abc: gzip stream ends early');
    }
  });

  it('reports corrupt data as a format error that says why', async () => {
    const gz = zlib.gzipSync(sample());
    const badCrc = Buffer.from(gz);
    badCrc[gz.length - 6] = badCrc[gz.length - 6]! ^ 0xff; // inside the CRC-32 of the trailer
    const e = await failure(decodeGzip('gzip', badCrc));
    expect(e.kind).toBe('format');
    expect(e.message).toBe('gzip stream is corrupt (incorrect data check)');

    const badHeader = Buffer.from(gz);
    badHeader[2] = 0x07; // compression method other than deflate
    expect((await failure(decodeGzip('gzip', badHeader))).kind).toBe('format');

    const garbage = Buffer.concat([gz, Buffer.from('garbage after the stream')]);
    expect((await failure(decodeGzip('gzip', garbage))).message).toBe('gzip stream is corrupt (incorrect header check)');
  });

  it('calls an empty stream truncated', async () => {
    expect((await failure(decodeGzip('gzip', Buffer.alloc(0)))).kind).toBe('truncated');
  });

  it('decodes members whose output crosses many 256 KiB pieces, in one write', async () => {
    const a = sample(700_000);
    const b = sample(600_001).reverse();
    expect(digestOf(await decodeGzip('gzip', Buffer.concat([zlib.gzipSync(a), zlib.gzipSync(b)]), 1 << 30))).toBe(digestOf(Buffer.concat([a, b])));
  });

  it(here ? 'inflates during write(), in this thread' : 'inflates after write() returns, on the thread pool', async () => {
    const pieces: number[] = [];
    const d = createDecoder('gzip', (c) => pieces.push(c.length), {}, undefined, here);
    const pending = d.write(zlib.gzipSync(sample()));
    expect(pieces.length > 0).toBe(here);
    await pending;
    await d.end();
    expect(pieces.reduce((a, n) => a + n, 0)).toBe(300_000);
  });

  it('passes on the error of the consumer rather than a gzip one', async () => {
    const gz = zlib.gzipSync(sample());
    const boom = new LayerlensError('limit', 'consumer says stop');
    const d = createDecoder(
      'gzip',
      () => {
        throw boom;
      },
      {},
      undefined,
      here,
    );
    const e = await failure(
      (async () => {
        await d.write(gz);
        await d.end();
      })(),
    );
    expect(e).toBe(boom);
  });
});

// Both ways a zstd stream is decoded: by the zstd program where there is one (LAYERLENS_ZSTD names
// it), and by fzstd in this thread (LAYERLENS_ZSTD=js): the same bytes out, the same errors.
for (const [how, program] of [
  ['the zstd program', ZSTD_CLI],
  ['fzstd', 'js'],
] as const) {
  describe(`zstd, decoded by ${how}`, () => {
    let before: string | undefined;
    beforeEach(() => {
      before = process.env.LAYERLENS_ZSTD;
      process.env.LAYERLENS_ZSTD = program;
    });
    afterEach(() => {
      if (before === undefined) delete process.env.LAYERLENS_ZSTD;
      else process.env.LAYERLENS_ZSTD = before;
    });

    zstdIt('decodes a stream from the zstd program whatever the chunking', async () => {
      const data = sample();
      const zs = zstd(data);
      expect(digestOf(await decode('zstd', zs))).toBe(digestOf(data));
      expect(digestOf(await decode('zstd', zs, 97))).toBe(digestOf(data));
    });

    zstdIt('decodes concatenated frames, and a skippable frame before them', async () => {
      const skippable = Buffer.alloc(12);
      skippable.writeUInt32LE(0x184d2a50, 0);
      skippable.writeUInt32LE(4, 4);
      const input = Buffer.concat([skippable, zstd(Buffer.from('one,')), zstd(Buffer.from('two'))]);
      expect(sniffCompression(input)).toBe('zstd');
      expect((await decode('zstd', input)).toString()).toBe('one,two');
    });

    zstdIt('reports a stream cut short as truncated', async () => {
      const zs = zstd(sample());
      for (const cut of [zs.length - 10, 20, 3]) {
        const e = await failure(decode('zstd', zs.subarray(0, cut)));
        expect(e.kind, `cut at ${cut}`).toBe('truncated');
        expect(e.oneLine()).toBe('image.tar: blobs/sha256/abc: zstd stream ends early');
      }
    });

    zstdIt('reports bytes that are not zstd as a format error', async () => {
      const zs = zstd(sample());
      for (const input of [Buffer.concat([zs, Buffer.from('garbage after the frame')]), Buffer.concat([zs.subarray(0, 4), Buffer.alloc(5000, 0x5a)])]) {
        const e = await failure(decode('zstd', input));
        expect(e.kind).toBe('format');
        expect(e.message).toMatch(/^zstd stream is corrupt \(.+\)$/);
      }
    });

    zstdIt('refuses a stream that asks for a window of 2 GiB', async () => {
      const input = execFileSync(ZSTD_CLI, ['-q', '-c', '--long=31'], { input: sample(400_000) });
      const e = await failure(decode('zstd', input));
      expect(e.kind).toBe('format');
      expect(e.message).toMatch(/^zstd stream is corrupt \(.+\)$/);
    });

    zstdIt('stops, and reports the error, when what takes the bytes fails', async () => {
      const boom = new Error('boom');
      const d = createDecoder('zstd', () => {
        throw boom;
      }, {});
      const input = zstd(sample(2_000_000));
      const run = (async () => {
        for (let i = 0; i < input.length; i += 4096) await d.write(input.subarray(i, i + 4096));
        await d.end();
      })();
      await expect(run).rejects.toBe(boom);
    });
  });
}

describe('zstd, the program', () => {
  zstdIt('is let go of when the reading stops half-way', async () => {
    process.env.LAYERLENS_ZSTD = ZSTD_CLI;
    try {
      const d = createDecoder('zstd', () => {}, {});
      await d.write(zstd(sample()).subarray(0, 1000));
      // Without abort() the program would wait for the rest of its input, and this process for it.
      d.abort?.();
      await expect(d.end()).rejects.toThrow(LayerlensError);
    } finally {
      delete process.env.LAYERLENS_ZSTD;
    }
  });

  zstdIt('checks each frame\'s checksum, as Go\'s decoder (containerd) does; fzstd does not', async () => {
    const zs = Buffer.from(zstd(sample()));
    zs[zs.length - 1]! ^= 0xff; // the checksum, the content intact
    process.env.LAYERLENS_ZSTD = ZSTD_CLI;
    try {
      const e = await failure(decode('zstd', zs));
      expect(e.message).toBe('zstd stream is corrupt (Decoding error (36) : Restored data doesn\'t match checksum)');
      process.env.LAYERLENS_ZSTD = 'js';
      expect(digestOf(await decode('zstd', zs))).toBe(digestOf(sample()));
    } finally {
      delete process.env.LAYERLENS_ZSTD;
    }
  });

  it('that is not there is a one-line error saying how to do without it', async () => {
    process.env.LAYERLENS_ZSTD = '/nonexistent/zstd';
    try {
      const e = await failure(decode('zstd', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0])));
      expect(e.kind).toBe('io');
      expect(e.oneLine()).toBe('image.tar: blobs/sha256/abc: cannot run /nonexistent/zstd to decode zstd (ENOENT; LAYERLENS_ZSTD=js decodes without it)');
    } finally {
      delete process.env.LAYERLENS_ZSTD;
    }
  });

  it('is not started for a small stream whose size is known', () => {
    process.env.LAYERLENS_ZSTD = '/nonexistent/zstd';
    try {
      const d = createDecoder('zstd', () => {}, {}, undefined, false, 1000);
      expect(d.abort).toBeUndefined();
    } finally {
      delete process.env.LAYERLENS_ZSTD;
    }
  });
});

describe('no compression', () => {
  it('passes bytes through unchanged', async () => {
    const data = sample(1000);
    expect(digestOf(await decode('none', data, 7))).toBe(digestOf(data));
  });
});
