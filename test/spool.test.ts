// The copy of an archive that cannot be seeked (standard input, a compressed archive): written
// whole for a command that reads layers; for one that reads only metadata (images, inspect,
// history), the members too large to be JSON documents are left holes, whatever the chunks the
// stream arrives in.
import fs from 'node:fs';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import zlib from 'node:zlib';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../src/source/open.js';
import { spool } from '../src/source/spool.js';
import { TarReader } from '../src/layer/tar-reader.js';
import { dockerArchive, image, tar, tempDir } from './helpers/builders.js';
import { run } from './helpers/cli.js';

/** Bytes that are nowhere zero, so that a hole shows. */
function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = ((i * 31 + seed) % 251) + 1;
  return b;
}

const SMALL = Buffer.from('{"small":true}');
const BIG1 = pattern(300_000, 1);
const BIG2 = pattern(150_001, 2);
const builder = tar().file('a.json', SMALL);
const BIG1_AT = builder.length + 512;
builder.file('big1', BIG1).file('b.json', SMALL);
const BIG2_AT = builder.length + 512;
builder.file('big2', BIG2);
const TAR = builder.build();
/** TAR as the copy that leaves big1 and big2 out reads. */
const HOLED = Buffer.from(TAR);
HOLED.fill(0, BIG1_AT, BIG1_AT + BIG1.length);
HOLED.fill(0, BIG2_AT, BIG2_AT + BIG2.length);

/** `bytes` in chunks of the sizes given, in turn. */
function chunked(bytes: Buffer, sizes: number[]): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    chunks.push(bytes.subarray(at, at + n));
    at += n;
  }
  return Readable.from(chunks);
}

const open: number[] = [];
afterEach(() => {
  for (const fd of open.splice(0)) fs.closeSync(fd);
});

function readBack(fd: number): Buffer {
  open.push(fd);
  const size = fs.fstatSync(fd).size;
  const b = Buffer.alloc(size);
  fs.readSync(fd, b, 0, size, 0);
  return b;
}

describe('spooling an archive to a temporary file', () => {
  it('copies every byte by default', async () => {
    const s = await spool(chunked(TAR, [65536]), '-');
    expect(readBack(s.fd).equals(TAR)).toBe(true);
    expect(s.notKept.size).toBe(0);
  });

  for (const sizes of [[TAR.length], [512], [65536], [1000, 7, 4096, 513, 100_000], [BIG1_AT - 3, 5, 1]]) {
    it(`leaves out the members larger than asked, in chunks of ${sizes.join(', ')} bytes`, async () => {
      const s = await spool(chunked(TAR, sizes), '-', undefined, 100_000);
      const copy = readBack(s.fd);
      expect(copy.length).toBe(TAR.length);
      expect(copy.equals(HOLED)).toBe(true);
      expect([...s.notKept]).toEqual([BIG1_AT, BIG2_AT]);
    });
  }

  it('keeps a member of exactly the bound (a JSON document that large is still read)', async () => {
    const s = await spool(chunked(TAR, [65536]), '-', undefined, BIG2.length);
    const copy = readBack(s.fd);
    expect(copy.subarray(BIG2_AT, BIG2_AT + BIG2.length).equals(BIG2)).toBe(true);
    expect([...s.notKept]).toEqual([BIG1_AT]);
  });

  it('leaves a hole, not zeros written, and decompresses as it goes', async () => {
    const whole = await spool(Readable.from([zlib.gzipSync(TAR)]), '-');
    const holed = await spool(Readable.from([zlib.gzipSync(TAR)]), '-', undefined, 100_000);
    expect(holed.compression).toBe('gzip');
    expect(readBack(holed.fd).equals(HOLED)).toBe(true);
    readBack(whole.fd);
    // Blocks of 512 bytes on disk: the left-out members' 450,001 bytes take none.
    expect(fs.fstatSync(holed.fd).blocks * 512).toBeLessThan(fs.fstatSync(whole.fd).blocks * 512 - 400_000);
  });

  it('writes the rest whole once the stream is not a tar it can follow', async () => {
    const junk = Buffer.concat([TAR.subarray(0, BIG1_AT + 1000), Buffer.alloc(512, 'z'), pattern(200_000, 3)]);
    const s = await spool(chunked(junk, [4096]), '-', undefined, 100_000);
    const copy = readBack(s.fd);
    expect(copy.subarray(BIG1_AT + BIG1.length).equals(junk.subarray(BIG1_AT + BIG1.length))).toBe(true);
  });

  it('opens a store that refuses to read a member it left out, and reads the others', async () => {
    const store = await openStore('-', Readable.from([TAR]), { maxJsonBytes: 100_000 }, false);
    try {
      expect((await store.read('b.json', 100_000)).equals(SMALL)).toBe(true);
      expect(() => store.open('big1')).toThrow(/big1: its content was not copied/);
      expect(() => store.locate('big2')).toThrow(/big2: its content was not copied/);
    } finally {
      await store.close();
    }
  });
});

describe('the copy that leaves members out, on random archives', () => {
  // Files, directories and symlinks of random sizes and names (long ones through GNU and PAX
  // headers), cut into random chunks: the copy is the archive with exactly the content of the
  // members larger than the bound zeroed, where a walk of its headers in one piece (the same
  // reader) places them.
  it('zeroes exactly the content of the members over the bound, whatever the chunks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            size: fc.oneof(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 2000, max: 70_000 })),
            name: fc.integer({ min: 1, max: 160 }),
            how: fc.constantFrom('gnu' as const, 'pax' as const),
            kind: fc.constantFrom('file', 'file', 'file', 'dir', 'symlink'),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        fc.integer({ min: 0, max: 40_000 }),
        fc.array(fc.integer({ min: 1, max: 30_000 }), { minLength: 1, maxLength: 5 }),
        async (members, bound, chunks) => {
          const b = tar();
          members.forEach((m, i) => {
            const name = `${i}-${'n'.repeat(m.name)}`;
            const opts = name.length > 99 ? { longName: m.how } : {};
            if (m.kind === 'dir') b.dir(`${name}/`, opts);
            else if (m.kind === 'symlink') b.symlink(name, 'target', opts);
            else b.file(name, pattern(m.size, i), opts);
          });
          const archive = b.build();
          const expected = Buffer.from(archive);
          const left: number[] = [];
          const walk = new TarReader({
            where: {},
            onEntry: (e) => {
              if (e.size > bound && e.storedSize > 0) {
                expected.fill(0, e.dataOffset, e.dataOffset + e.storedSize);
                left.push(e.dataOffset);
              }
            },
          });
          walk.push(archive);
          const s = await spool(chunked(archive, chunks), '-', undefined, bound);
          const copy = readBack(s.fd);
          for (const fd of open.splice(0)) fs.closeSync(fd);
          return copy.equals(expected) && [...s.notKept].join() === left.join();
        },
      ),
      { numRuns: 150, seed: 7 },
    );
  });
});

describe('commands that read no layer, from standard input', () => {
  const IMG = image({ layers: [{ tar: tar().file('big', pattern(200_000, 4)) }] });
  const archive = dockerArchive([{ image: IMG, repoTags: ['app:v1'] }]).toTar();

  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('print what they print from the file', async () => {
    const file = tmp.file('app.tar', archive);
    for (const args of [['images'], ['inspect'], ['history', '--format', 'json']]) {
      const fromFile = await run([args[0]!, file, ...args.slice(1)]);
      const fromStdin = await run([args[0]!, '-', ...args.slice(1), '--max-json-bytes', '100Ki'], { stdin: zlib.gzipSync(archive) });
      expect(fromStdin.stderr).toBe('');
      expect(fromStdin.stdout).toBe(fromFile.stdout);
    }
  });

  it('fail as a command that reads layers does where the stream ends inside a member left out', async () => {
    const cut = archive.subarray(0, archive.indexOf(pattern(64, 4)) + 50_000);
    const images = await run(['images', '-', '--max-json-bytes', '100Ki'], { stdin: cut });
    const layers = await run(['layers', '-', '--max-json-bytes', '100Ki'], { stdin: cut });
    expect(images.code).toBe(2);
    expect(images.stderr).toMatch(/archive is truncated: it ends inside this member \(\d+ of its bytes are missing\)/);
    expect(images.stderr).toBe(layers.stderr);
  });
});
