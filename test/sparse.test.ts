// Sparse files, in every format GNU tar writes them: read, expanded (holes as zeros), hashed,
// listed, streamed by `cat` and written by `export` as the regular files they stand for.
// Archives come from the test builder (always) and from GNU tar itself (when it is installed).
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { LayerlensError } from '../src/image/errors.js';
import { TarReader, type TarEntry } from '../src/layer/tar-reader.js';
import { NOW } from './helpers/cli.js';
import { BLOCK, dockerArchive, image, ociLayout, sparseContent, tar, tempDir, type SparseFormat, type SparseInput } from './helpers/builders.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const GNU_TAR = '/usr/bin/tar';
const HAS_GNU_TAR = fs.existsSync(GNU_TAR) && /GNU tar/.test(spawnSync(GNU_TAR, ['--version']).stdout?.toString() ?? '');
if (!HAS_GNU_TAR) console.warn(`[layerlens tests] GNU tar (${GNU_TAR}) is absent: the sparse tests on archives GNU tar writes are skipped.`);

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Read {
  entries: Array<TarEntry & { content: Buffer }>;
}

/** Feed `archive` to a reader in chunks and collect each entry with its (expanded) content. */
function read(archive: Buffer, chunk = archive.length, maxMetaBytes?: number): Read {
  const entries: Read['entries'] = [];
  const reader = new TarReader({
    where: { file: 'test.tar' },
    maxMetaBytes,
    onEntry: (e) => {
      const parts: Buffer[] = [];
      const rec = { ...e, content: Buffer.alloc(0) };
      entries.push(rec);
      return {
        data: (c) => parts.push(Buffer.from(c)),
        end: () => {
          rec.content = Buffer.concat(parts);
        },
      };
    },
  });
  for (let i = 0; i < archive.length; i += chunk) reader.push(archive.subarray(i, i + chunk));
  reader.finish();
  return { entries };
}

function failure(fn: () => unknown): LayerlensError {
  try {
    fn();
  } catch (e) {
    if (e instanceof LayerlensError) return e;
    throw e;
  }
  throw new Error('expected a LayerlensError, nothing was thrown');
}

/** Run the CLI in-process, stdout kept as bytes (cat writes binary content). */
async function runBytes(args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sink = (into: Buffer[]) =>
    new Writable({
      write(chunk, _enc, cb) {
        into.push(Buffer.from(chunk));
        cb();
      },
    });
  const code = await main(['node', 'layerlens', ...args], { stdout: sink(out), stderr: sink(err), now: () => NOW });
  return { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') };
}

/** A docker-archive holding one image whose only layer is `layerTar`. */
function archiveWith(name: string, layerTar: Buffer): string {
  return tmp.file(name, dockerArchive([{ image: image({ layers: [{ tar: layerTar }] }), repoTags: ['sparse:1'] }]).toTar());
}

interface FlatRecord {
  path: string;
  type: string;
  size: number;
  sha256: string | null;
}

async function flat(file: string): Promise<Map<string, FlatRecord>> {
  const r = await runBytes(['tree', file, '--flat', '--format', 'json']);
  expect(r.code, r.stderr).toBe(0);
  return new Map((JSON.parse(r.stdout.toString()) as FlatRecord[]).map((x) => [x.path, x]));
}

/** `export` to a file, read back: each entry with its content. */
async function exported(file: string, out: string): Promise<Map<string, TarEntry & { content: Buffer }>> {
  const r = await runBytes(['export', file, out]);
  expect(r.code, r.stderr).toBe(0);
  return new Map(read(fs.readFileSync(out)).entries.map((e) => [e.path, e]));
}

// Thirty data regions (the old GNU format needs two extension blocks for them), the first at
// offset 0, holes between them and a hole at the end, and the empty region at the real size that
// GNU tar ends its maps with.
const REGIONS = Array.from({ length: 30 }, (_, i) => ({ offset: i * 9000, data: `region ${i} `.repeat(i + 1) }));
const REAL_SIZE = 300_000;
const FORMATS: SparseFormat[] = ['gnu', 'pax-0.0', 'pax-0.1', 'pax-1.0'];

function input(format: SparseFormat, more: Partial<SparseInput> = {}): SparseInput {
  return { format, regions: [...REGIONS, { offset: REAL_SIZE, data: '' }], realSize: REAL_SIZE, ...more };
}

describe('sparse files built in memory', () => {
  const content = sparseContent(input('gnu'));
  const storedBytes = REGIONS.reduce((n, r) => n + r.data.length, 0);

  it.each(FORMATS)('%s: reports the real size, stores less, and hands sinks the expanded file whatever the chunking', (format) => {
    const archive = tar().sparse('var/lib/sparse.db', input(format)).file('after', 'next').build();
    for (const chunk of [archive.length, 1, 511, 513, 4096]) {
      const [e, after] = read(archive, chunk).entries;
      expect({ path: e!.path, type: e!.type, size: e!.size, storedSize: e!.storedSize, format: e!.sparse?.format, regions: e!.sparse?.map.length }, `chunks of ${chunk}`).toEqual({
        path: 'var/lib/sparse.db',
        type: 'file',
        size: REAL_SIZE,
        storedSize: storedBytes,
        format,
        regions: 31,
      });
      expect(e!.sparse!.map.slice(0, 2)).toEqual([
        { offset: 0, length: REGIONS[0]!.data.length },
        { offset: 9000, length: REGIONS[1]!.data.length },
      ]);
      expect(e!.content.length).toBe(REAL_SIZE);
      expect(sha(e!.content)).toBe(sha(content));
      expect([after!.path, after!.content.toString()]).toEqual(['after', 'next']);
    }
  });

  it('gives the offset of a PAX 1.0 file\'s data after its map, and its stored size without it', () => {
    const archive = tar().sparse('f', input('pax-1.0')).build();
    const [e] = read(archive).entries;
    // PAX header + records (1 block each), the entry's header, then the map (1 block).
    expect({ headerOffset: e!.headerOffset, dataOffset: e!.dataOffset, storedSize: e!.storedSize }).toEqual({ headerOffset: 0, dataOffset: 4 * BLOCK, storedSize: storedBytes });
    expect(archive.toString('latin1', 3 * BLOCK, 3 * BLOCK + 9)).toBe('31\n0\n9\n90');
  });

  it.each(FORMATS)('%s: a file that is all hole, and an empty sparse file', (format) => {
    const archive = tar()
      .sparse('holes', { format, regions: [{ offset: 1_000_000, data: '' }], realSize: 1_000_000 })
      .sparse('nothing', { format, regions: [], realSize: 0 })
      .build();
    const [holes, nothing] = read(archive).entries;
    expect([holes!.size, holes!.storedSize, holes!.content.length, holes!.content.every((b) => b === 0)]).toEqual([1_000_000, 0, 1_000_000, true]);
    expect([nothing!.size, nothing!.storedSize, nothing!.content.length]).toEqual([0, 0, 0]);
  });

  it('feeds holes to a sink that takes them as lengths, and as bounded zero chunks to one that does not', () => {
    const archive = tar().sparse('big', { format: 'pax-0.1', regions: [{ offset: 0, data: 'a' }, { offset: 50_000_000, data: 'z' }], realSize: 100_000_000 }).build();
    const events: Array<string | number> = [];
    let largest = 0;
    let total = 0;
    new TarReader({
      where: {},
      onEntry: () => ({ data: (c) => events.push(c.toString()), hole: (n) => events.push(n), end: () => events.push('end') }),
    }).push(archive);
    new TarReader({
      where: {},
      onEntry: () => ({
        data: (c) => {
          largest = Math.max(largest, c.length);
          total += c.length;
        },
        end: () => {},
      }),
    }).push(archive);
    expect(events).toEqual(['a', 49_999_999, 'z', 49_999_999, 'end']);
    expect(total).toBe(100_000_000);
    expect(largest).toBeLessThanOrEqual(64 * 1024);
  });

  describe('refuses maps that cannot describe the file', () => {
    const cases: Array<[string, SparseFormat, Partial<SparseInput>, 'format' | 'unsupported', RegExp]> = [
      ['regions out of order', 'pax-0.1', { regions: [{ offset: 100, data: 'b' }, { offset: 0, data: 'a' }], realSize: 1000 }, 'format', /^sparse map of "f" is out of order or overlapping: a region at 0 starts before 101$/],
      ['overlapping regions', 'gnu', { regions: [{ offset: 0, data: 'aaaaaaaaaa' }, { offset: 5, data: 'b' }] }, 'format', /^sparse map of "f" is out of order or overlapping: a region at 5 starts before 10$/],
      ['a region past the real size', 'pax-1.0', { regions: [{ offset: 0, data: 'a' }, { offset: 5000, data: 'b' }], realSize: 100 }, 'format', /^sparse map of "f" has a region \(5000\+1\) past the file's size of 100 bytes$/],
      ['more data stored than mapped', 'gnu', { map: [[0, 2]] }, 'format', /^sparse map of "f" describes 2 bytes of data, but the archive stores 4$/],
      ['less data stored than mapped', 'pax-0.0', { map: [[0, 2], [10, 9]] }, 'format', /^sparse map of "f" describes 11 bytes of data, but the archive stores 4$/],
      ['a PAX 0.1 map with an odd count of numbers', 'pax-0.1', { pax: [['GNU.sparse.map', '0,4,9']] }, 'format', /^sparse map of "f" has an odd number of values$/],
      ['a value that is not a number', 'pax-0.1', { pax: [['GNU.sparse.map', '0,4x']] }, 'format', /^sparse map of "f" holds a value that is not a valid number$/],
      ['a count of regions that disagrees with the map', 'pax-0.1', { pax: [['GNU.sparse.numblocks', '7']] }, 'format', /^sparse map of "f" has 1 entries, but GNU.sparse.numblocks says 7$/],
      ['a PAX 1.0 map that does not start with a count', 'pax-1.0', { mapText: 'many\n' }, 'format', /^sparse map of "f" does not start with a count of entries$/],
      ['a PAX 1.0 map longer than the data', 'pax-1.0', { mapText: '9\n0\n4\n' }, 'format', /^sparse map of "f" runs past the end of its data$/],
      ['an invalid real size', 'pax-1.0', { pax: [['GNU.sparse.realsize', '-5']] }, 'format', /^sparse file "f" has an invalid real size "-5"$/],
      ['a sparse format GNU tar never wrote', 'pax-1.0', { pax: [['GNU.sparse.major', '2']] }, 'unsupported', /^sparse file "f" is in GNU sparse format 2\.0, which layerlens does not read \(it reads 0\.0, 0\.1 and 1\.0\)$/],
    ];
    it.each(cases)('%s', (_what, format, more, kind, message) => {
      const archive = tar().sparse('f', { format, regions: [{ offset: 0, data: 'abcd' }], realSize: 100, ...more }).build();
      for (const chunk of [archive.length, 100]) {
        const e = failure(() => read(archive, chunk));
        expect([e.kind, e.message]).toEqual([kind, expect.stringMatching(message)]);
        expect(e.file).toBe('test.tar');
      }
    });

    it('PAX 0.0 offset and numbytes records out of turn', () => {
      const archive = tar()
        .pax([
          ['GNU.sparse.size', '10'],
          ['GNU.sparse.numbytes', '4'],
          ['GNU.sparse.offset', '0'],
        ])
        .raw({ name: 'f' }, Buffer.from('abcd'))
        .build();
      expect(failure(() => read(archive)).message).toBe('PAX sparse map (GNU.sparse.offset and GNU.sparse.numbytes records) is not in offset, numbytes order');
    });

    it('an S entry in a header that is not GNU\'s (star writes another layout)', () => {
      const archive = tar().raw({ name: 'star-sparse', typeflag: 'S', format: 'ustar' }, Buffer.from('x')).build();
      const e = failure(() => read(archive));
      expect([e.kind, e.message]).toEqual(['unsupported', 'sparse file "star-sparse" at byte 0 is not in GNU tar\'s format (typeflag S in a ustar header)']);
    });

    it('maps larger than the limit on extended headers, in each format', () => {
      const many = Array.from({ length: 400 }, (_, i) => ({ offset: i * 10, data: 'x' }));
      for (const format of FORMATS) {
        const archive = tar().sparse('f', { format, regions: many, realSize: 5000 }).build();
        // Within the default limit, such a map (several blocks of it, for PAX 1.0) is read whole.
        for (const chunk of [archive.length, 100]) {
          const [e] = read(archive, chunk).entries;
          expect(e!.sparse!.map).toHaveLength(400);
          expect(e!.content.equals(sparseContent({ regions: many, realSize: 5000 }))).toBe(true);
        }
        const e = failure(() => read(archive, archive.length, 2048));
        expect([format, e.kind, e.message]).toEqual([format, 'limit', expect.stringMatching(/(sparse map of "f"( at byte \d+)?|extended tar header of \d+ bytes at byte 0) exceeds the 2048-byte limit$/)]);
      }
    });

    it('a tar that ends inside a PAX 1.0 map', () => {
      const archive = tar().sparse('f', input('pax-1.0')).build();
      const e = failure(() => read(archive.subarray(0, 3 * BLOCK + 100)));
      expect([e.kind, e.message]).toEqual(['truncated', 'tar ends inside the sparse map of "f"']);
    });
  });

  describe('through the CLI', () => {
    const layerTar = tar().dir('data/').sparse('data/sparse.db', input('pax-1.0')).sparse('data/old.db', input('gnu')).file('data/plain.txt', 'plain\n').build();
    let file: string;
    beforeAll(() => {
      file = archiveWith('built.tar', layerTar);
    });

    it('tree --flat gives the real size and the sha256 of the expanded file', async () => {
      const records = await flat(file);
      for (const p of ['/data/sparse.db', '/data/old.db']) expect(records.get(p)).toMatchObject({ type: 'file', size: REAL_SIZE, sha256: sha(content) });
      expect(records.get('/data')!.size).toBe(2 * REAL_SIZE + 6);
    });

    it('cat streams the expanded file', async () => {
      for (const p of ['/data/sparse.db', '/data/old.db']) {
        const r = await runBytes(['cat', file, p]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout.equals(content)).toBe(true);
      }
    });

    it('export writes a sparse file as the regular file it stands for', async () => {
      const entries = await exported(file, tmp.file('built-export.tar'));
      for (const p of ['data/sparse.db', 'data/old.db']) {
        const e = entries.get(p)!;
        expect({ typeflag: e.typeflag, size: e.size, sparse: e.sparse }).toEqual({ typeflag: '0', size: REAL_SIZE, sparse: undefined });
        expect(e.content.equals(content)).toBe(true);
      }
    });

    it('cat writes a large hole at the pace of its reader, never holding it in memory', async () => {
      const big = archiveWith('big-hole.tar', tar().sparse('big', { format: 'gnu', regions: [{ offset: 0, data: 'start' }, { offset: 64 * 1024 * 1024 - 3, data: 'end' }], realSize: 64 * 1024 * 1024 }).build());
      let total = 0;
      let mostBuffered = 0;
      const slow = new Writable({
        highWaterMark: 64 * 1024,
        write(chunk: Buffer, _enc, cb) {
          total += chunk.length;
          mostBuffered = Math.max(mostBuffered, slow.writableLength);
          setImmediate(cb);
        },
      });
      const code = await main(['node', 'layerlens', 'cat', big, '/big'], { stdout: slow, stderr: new Writable({ write: (_c, _e, cb) => cb() }), now: () => NOW });
      expect(code).toBe(0);
      // What the command wrote last may still be in the stream's buffer: let it through.
      await new Promise<void>((resolve) => slow.end(resolve));
      expect(total).toBe(64 * 1024 * 1024);
      expect(mostBuffered).toBeLessThanOrEqual(256 * 1024);
    });
  });

  it('expands sparse members of an outer archive (an OCI layout tar whose layer blob is sparse)', async () => {
    const layerTar = tar().file('etc/hostname', 'box\n').file('big.bin', Buffer.alloc(20_000)).build();
    const im = image({ layers: [{ tar: layerTar }] });
    const layout = ociLayout([{ image: im, refName: 'v1' }]);
    const layerPath = `blobs/sha256/${im.layers[0]!.digest.slice(7)}`;
    for (const format of FORMATS) {
      const outer = tar();
      for (const [p, n] of layout.nodes) {
        if (n.kind !== 'file') continue;
        if (p === layerPath) outer.sparse(p, { format, regions: dataRegions(n.data), realSize: n.data.length });
        else outer.file(p, n.data);
      }
      const file = tmp.file(`outer-${format}.tar`, outer.build());
      const r = await runBytes(['tree', file, '--flat', '--format', 'json']);
      expect(r.code, `${format}: ${r.stderr}`).toBe(0);
      expect(JSON.parse(r.stdout.toString()).map((x: FlatRecord) => [x.path, x.size])).toEqual([
        ['/', 20_004],
        ['/big.bin', 20_000],
        ['/etc', 4],
        ['/etc/hostname', 4],
      ]);
    }
  });
});

/** The regions of non-zero 512-byte blocks of `b` (what GNU tar stores of a sparse file). */
function dataRegions(b: Buffer): Array<{ offset: number; data: Buffer }> {
  const out: Array<{ offset: number; data: Buffer }> = [];
  let start = -1;
  for (let at = 0; at <= b.length; at += BLOCK) {
    const zero = at === b.length || b.subarray(at, at + BLOCK).every((x) => x === 0);
    if (!zero && start < 0) start = at;
    if (zero && start >= 0) {
      out.push({ offset: start, data: b.subarray(start, at) });
      start = -1;
    }
  }
  return out;
}

describe.skipIf(!HAS_GNU_TAR)('sparse files written by GNU tar', () => {
  const dir = path.join(tmp.dir, 'gnu-src');
  const original = new Map<string, Buffer>();
  const sha256sum = new Map<string, string>();

  beforeAll(() => {
    fs.mkdirSync(dir);
    // A file with data at offset 0, 29 more writes 64 KiB apart, and a hole at the end; a file
    // that is one hole; a plain file.
    const sparse = path.join(dir, 'sparse.bin');
    execFileSync('truncate', ['-s', String(3 * 1024 * 1024), sparse]);
    const fd = fs.openSync(sparse, 'r+');
    for (let i = 0; i < 30; i++) fs.writeSync(fd, Buffer.from(`write ${i} `.repeat(50 + i)), 0, undefined, i * 65536 + (i % 3) * 100);
    fs.closeSync(fd);
    execFileSync('truncate', ['-s', String(1024 * 1024), path.join(dir, 'hole.bin')]);
    fs.writeFileSync(path.join(dir, 'plain.txt'), 'plain\n');
    for (const name of ['sparse.bin', 'hole.bin', 'plain.txt']) {
      original.set(name, fs.readFileSync(path.join(dir, name)));
      sha256sum.set(name, execFileSync('sha256sum', [path.join(dir, name)]).toString().split(' ')[0]!);
    }
  });

  const VARIANTS: Array<[SparseFormat, string[]]> = [
    ['gnu', ['--format=gnu']],
    ['pax-0.0', ['--format=posix', '--sparse-version=0.0']],
    ['pax-0.1', ['--format=posix', '--sparse-version=0.1']],
    ['pax-1.0', ['--format=posix', '--sparse-version=1.0']],
  ];

  describe.each(VARIANTS)('%s', (format, flags) => {
    let layerTar: Buffer;
    let file: string;
    beforeAll(() => {
      layerTar = execFileSync(GNU_TAR, ['--sparse', ...flags, '-cf', '-', '-C', dir, 'sparse.bin', 'hole.bin', 'plain.txt'], { maxBuffer: 64 * 1024 * 1024 });
      file = archiveWith(`gnu-${format}.tar`, layerTar);
    });

    it('reads the entries with their real sizes, in the format GNU tar used, whatever the chunking', () => {
      for (const chunk of [layerTar.length, 1000, 512]) {
        const entries = read(layerTar, chunk).entries;
        expect(entries.map((e) => [e.path, e.type, e.size, e.sparse?.format])).toEqual([
          ['sparse.bin', 'file', 3 * 1024 * 1024, format],
          ['hole.bin', 'file', 1024 * 1024, format],
          ['plain.txt', 'file', 6, undefined],
        ]);
        const [sparse, hole] = entries;
        // GNU tar stored only the data: 30 regions of whole blocks, and nothing of the hole.
        expect(sparse!.storedSize).toBeLessThan(40 * 4096);
        expect(sparse!.sparse!.map.filter((r) => r.length > 0).length).toBeGreaterThanOrEqual(30);
        expect(hole!.storedSize).toBe(0);
        for (const e of entries) expect(sha(e.content), e.path).toBe(sha256sum.get(e.path));
      }
    });

    it('tree --flat gives the size and sha256 that sha256sum gives of the original', async () => {
      const records = await flat(file);
      for (const name of ['sparse.bin', 'hole.bin', 'plain.txt']) {
        expect(records.get(`/${name}`)).toMatchObject({ type: 'file', size: original.get(name)!.length, sha256: sha256sum.get(name) });
      }
    });

    it('cat gives the original bytes', async () => {
      for (const name of ['sparse.bin', 'hole.bin']) {
        const r = await runBytes(['cat', file, `/${name}`]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout.equals(original.get(name)!), name).toBe(true);
      }
    });

    it('export round-trips: GNU tar extracts the original files from it', async () => {
      const out = tmp.file(`gnu-${format}-export.tar`);
      const entries = await exported(file, out);
      expect(entries.get('sparse.bin')).toMatchObject({ typeflag: '0', size: 3 * 1024 * 1024 });
      const into = path.join(tmp.dir, `gnu-${format}-extracted`);
      fs.mkdirSync(into);
      execFileSync(GNU_TAR, ['-xf', out, '-C', into]);
      for (const name of ['sparse.bin', 'hole.bin', 'plain.txt']) expect(fs.readFileSync(path.join(into, name)).equals(original.get(name)!), name).toBe(true);
    });
  });
});

describe('a layer that is not a tar', () => {
  it('says so, rather than calling it truncated', async () => {
    for (const [name, blob, message] of [
      ['text33.tar', Buffer.from('insert binary content here #9811\n'), 'not a tar archive: 33 bytes, too short for a tar header'],
      ['text600.tar', Buffer.from('not a tar, '.repeat(60)), 'not a tar archive: its first 512 bytes are not a tar header (checksum mismatch)'],
    ] as const) {
      const file = archiveWith(name, blob);
      const r = await runBytes(['layers', file]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^layerlens: error: .*: ${message.replace(/[()]/g, '\\$&')}\\n$`));
    }
  });
});
