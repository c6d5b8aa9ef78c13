// The streaming tar reader, on archives written byte by byte by the test builder.
import { describe, expect, it } from 'vitest';
import { LayerlensError } from '../src/image/errors.js';
import { TarReader, type TarEntry } from '../src/layer/tar-reader.js';
import { BLOCK, base256, tar, tarHeader } from './helpers/builders.js';

interface Read {
  entries: Array<TarEntry & { content: Buffer }>;
  ended: boolean;
}

/** Feed `archive` to a reader in chunks of `chunk` bytes (or at the given cut points) and collect every entry with its content. */
function read(archive: Buffer, chunk: number | number[] = archive.length, maxMetaBytes?: number): Read {
  const entries: Read['entries'] = [];
  const reader = new TarReader({
    where: { file: 'test.tar' },
    maxMetaBytes,
    onEntry: (e) => {
      const parts: Buffer[] = [];
      const rec = { ...e, content: Buffer.alloc(0) };
      entries.push(rec);
      return {
        // The reader hands out views of its input; copy as a real consumer that keeps data must.
        data: (c) => parts.push(Buffer.from(c)),
        end: () => {
          rec.content = Buffer.concat(parts);
        },
      };
    },
  });
  const cuts = Array.isArray(chunk) ? [...chunk, archive.length] : [];
  if (!Array.isArray(chunk)) for (let i = chunk; i < archive.length; i += chunk) cuts.push(i);
  let at = 0;
  for (const cut of [...cuts, archive.length]) {
    if (cut > at) reader.push(archive.subarray(at, cut));
    at = Math.max(at, cut);
  }
  reader.finish();
  return { entries, ended: reader.ended };
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

/** Entries reduced to what every chunking must agree on. */
function summary(r: Read): unknown[] {
  return r.entries.map((e) => ({ ...e, content: e.content.toString('hex'), xattrs: e.xattrs && Object.fromEntries([...e.xattrs].map(([k, v]) => [k, v.toString('hex')])) }));
}

const LONG_DIR = 'usr/share/' + 'deep-directory-name/'.repeat(6); // 130 bytes
const LONG_NAME = `${LONG_DIR}file-with-a-long-name.txt`;

/** Every header feature in one small archive. */
function everything(): Buffer {
  return tar()
    .globalPax({ comment: 'e0f1c2d3 built by a test' })
    .dir('etc/', { mode: 0o755, uid: 0, gid: 0 })
    .file('etc/hostname', 'box\n', { mode: 0o644, uid: 1000, gid: 1001, uname: 'ann', gname: 'staff', mtime: 1_600_000_000 })
    .file(LONG_NAME, 'prefix-split\n', { longName: 'prefix' })
    .file(`gnu/${'n'.repeat(150)}`, 'gnu long name\n', { longName: 'gnu' })
    .file(`pax/${'p'.repeat(200)}`, 'pax long name\n', { longName: 'pax', pax: { 'SCHILY.xattr.security.capability': Buffer.from([0x01, 0x00, 0x00, 0x02, 0xff]) } })
    .symlink('lib/long-link', `/${'t'.repeat(120)}`, { longLink: 'gnu' })
    .hardlink('lib/hard', `/${'h'.repeat(130)}`, { longLink: 'pax' })
    .special('char', 'dev/null', { devMajor: 1, devMinor: 3, mode: 0o666 })
    .special('block', 'dev/sda', { devMajor: 8, devMinor: 0 })
    .special('fifo', 'run/pipe')
    .special('contiguous', 'opt/contig', {}, Buffer.from('contiguous\n'))
    .file('big-ids', 'x', { uid: 3_000_000, gid: 4_000_000, base256: ['uid', 'gid'] })
    .file('pax-ids', 'y', { pax: { uid: '5000000', gid: '6000000', uname: 'ünïcode', mtime: '1700000000.123456789' } })
    .file('exactly-512', Buffer.alloc(512, 0x61))
    .build();
}

describe('tar headers', () => {
  it('reads every entry type with its mode, owner, times and device numbers', () => {
    const r = read(everything());
    const byPath = new Map(r.entries.map((e) => [e.path, e]));
    expect(r.entries.map((e) => [e.path, e.type])).toEqual([
      ['etc/', 'dir'],
      ['etc/hostname', 'file'],
      [LONG_NAME, 'file'],
      [`gnu/${'n'.repeat(150)}`, 'file'],
      [`pax/${'p'.repeat(200)}`, 'file'],
      ['lib/long-link', 'symlink'],
      ['lib/hard', 'hardlink'],
      ['dev/null', 'char'],
      ['dev/sda', 'block'],
      ['run/pipe', 'fifo'],
      ['opt/contig', 'file'],
      ['big-ids', 'file'],
      ['pax-ids', 'file'],
      ['exactly-512', 'file'],
    ]);
    const host = byPath.get('etc/hostname')!;
    expect({ mode: host.mode, uid: host.uid, gid: host.gid, uname: host.uname, gname: host.gname, mtime: host.mtime, size: host.size, content: host.content.toString() }).toEqual({
      mode: 0o644,
      uid: 1000,
      gid: 1001,
      uname: 'ann',
      gname: 'staff',
      mtime: 1_600_000_000,
      size: 4,
      content: 'box\n',
    });
    expect(byPath.get('etc/')!.mode).toBe(0o755);
    expect(byPath.get('dev/null')).toMatchObject({ typeflag: '3', devMajor: 1, devMinor: 3, mode: 0o666 });
    expect(byPath.get('dev/sda')).toMatchObject({ typeflag: '4', devMajor: 8, devMinor: 0 });
    expect(byPath.get('opt/contig')).toMatchObject({ typeflag: '7', size: 11 });
    expect(byPath.get('opt/contig')!.content.toString()).toBe('contiguous\n');
    expect(byPath.get('exactly-512')!.content).toEqual(Buffer.alloc(512, 0x61));
    expect(r.ended).toBe(true);
  });

  it('joins the ustar prefix field and the name with a slash', () => {
    const archive = tar().file(LONG_NAME, 'x', { longName: 'prefix' }).build();
    // The name really was split: bytes 345.. hold the directory part.
    expect(archive.toString('latin1', 345, 345 + LONG_DIR.length - 1)).toBe(LONG_DIR.slice(0, -1));
    expect(read(archive).entries[0]!.path).toBe(LONG_NAME);
  });

  it('ignores the prefix field of a GNU header (GNU tar keeps times there)', () => {
    const archive = tar().raw({ name: 'plain', format: 'gnu', patch: [{ offset: 345, bytes: Buffer.from('00000000000\u000000000000000') }] }, Buffer.from('z')).build();
    expect(read(archive).entries[0]!.path).toBe('plain');
  });

  it('takes long names and link targets from GNU L and K headers', () => {
    const r = read(everything());
    expect(r.entries[3]!.path).toBe(`gnu/${'n'.repeat(150)}`);
    expect(r.entries[3]!.content.toString()).toBe('gnu long name\n');
    expect(r.entries[5]!.linkname).toBe(`/${'t'.repeat(120)}`);
  });

  it('takes path, linkpath, size, uid, gid, uname, mtime and xattrs from PAX records', () => {
    const r = read(everything());
    const pax = r.entries[4]!;
    expect(pax.path).toBe(`pax/${'p'.repeat(200)}`);
    expect(pax.xattrs).toEqual(new Map([['security.capability', Buffer.from([0x01, 0x00, 0x00, 0x02, 0xff])]]));
    expect(r.entries[6]!.linkname).toBe(`/${'h'.repeat(130)}`);
    expect(r.entries[12]).toMatchObject({ path: 'pax-ids', uid: 5_000_000, gid: 6_000_000, uname: 'ünïcode', mtime: 1_700_000_000 });
  });

  it('reads a PAX size that overrides the header (files over 8 GiB are written so)', () => {
    const archive = tar()
      .pax({ size: '5' })
      .raw({ name: 'sized-by-pax', size: 0 })
      .bytes(Buffer.concat([Buffer.from('12345'), Buffer.alloc(BLOCK - 5)]))
      .file('after', 'next')
      .build();
    const r = read(archive);
    expect(r.entries.map((e) => [e.path, e.size, e.content.toString()])).toEqual([
      ['sized-by-pax', 5, '12345'],
      ['after', 4, 'next'],
    ]);
  });

  it('takes a PAX mtime of 0 (the epoch, as reproducible builds write) over the header\'s', () => {
    const [e] = read(tar().file('epoch', 'x', { mtime: 1_700_000_000, pax: { mtime: '0' } }).build()).entries;
    expect(e!.mtime).toBe(0);
  });

  it('treats an empty PAX value as no record: the header\'s value stands', () => {
    const archive = tar()
      .globalPax({ uname: 'global-user' })
      .file('kept-name', 'x', { uid: 42, uname: 'header-user', pax: { path: '', uid: '', uname: '' } })
      .build();
    const [e] = read(archive).entries;
    expect(e).toMatchObject({ path: 'kept-name', uid: 42, uname: 'header-user' });
  });

  it('refuses a PAX size that is not a number', () => {
    const archive = tar().file('bad', 'x', { pax: { size: 'lots' } }).build();
    const e = failure(() => read(archive));
    expect(e.kind).toBe('format');
    expect(e.message).toBe('PAX size "lots" is not a valid number');
  });

  it('reads base-256 sizes, ids and times, negative ones included', () => {
    const archive = tar()
      .file('b256', 'hello', { base256: ['size', 'uid', 'gid', 'mtime'], uid: 3_000_000, gid: 2 ** 40, mtime: 2 ** 34 })
      .file('before-1970', 'old', { base256: ['mtime'], mtime: -1 })
      .file('long-before-1970', 'older', { base256: ['mtime'], mtime: -86_400 * 365 * 50 })
      .build();
    const [a, b, c] = read(archive).entries;
    expect(a).toMatchObject({ path: 'b256', size: 5, uid: 3_000_000, gid: 2 ** 40, mtime: 2 ** 34 });
    expect(a!.content.toString()).toBe('hello');
    expect(b).toMatchObject({ path: 'before-1970', mtime: -1 });
    expect(c).toMatchObject({ path: 'long-before-1970', mtime: -86_400 * 365 * 50 });
  });

  it('writes base-256 fields the way GNU tar does (a check on the builder itself)', () => {
    expect(base256(3_000_000, 8)).toEqual(Buffer.from([0x80, 0, 0, 0, 0, 0x2d, 0xc6, 0xc0]));
    expect(base256(-1, 12)).toEqual(Buffer.alloc(12, 0xff));
  });

  it('applies no PAX global record as an entry, and keeps offsets right after one', () => {
    const archive = tar().globalPax({ comment: 'abc' }).file('a', 'A').build();
    const [a] = read(archive).entries;
    expect(read(archive).entries).toHaveLength(1);
    // global header (512) + its records (512), then a's header.
    expect(a).toMatchObject({ path: 'a', headerOffset: 1024, dataOffset: 1536 });
  });

  it('gives the offset of the first extended header of an entry and of its content', () => {
    const archive = tar().file('first', 'x').file(`gnu/${'n'.repeat(120)}`, 'y', { longName: 'gnu' }).build();
    const [, second] = read(archive).entries;
    // first: header + 1 block of content = 1024; then L header, L content, the entry's own header.
    expect(second).toMatchObject({ headerOffset: 1024, dataOffset: 1024 + 3 * BLOCK });
  });

  it('reads old v7 headers (no magic), where a trailing slash marks a directory', () => {
    const archive = tar()
      .raw({ name: 'v7-file', format: 'v7', typeflag: '\0' }, Buffer.from('seven'))
      .raw({ name: 'v7-dir/', format: 'v7', typeflag: '\0', mode: 0o755 })
      .build();
    const entries = read(archive).entries;
    expect(entries.map((e) => [e.path, e.type, e.content.toString()])).toEqual([
      ['v7-file', 'file', 'seven'],
      ['v7-dir/', 'dir', ''],
    ]);
  });

  it('reads an old GNU sparse file with extension blocks, one byte at a time, and expands it', () => {
    // isextended (byte 482) set on the header; the extension block has its own flag at 504 unset.
    const header = tarHeader({
      name: 'sparse-file',
      typeflag: 'S',
      format: 'gnu',
      size: 4,
      patch: [
        { offset: 386, bytes: Buffer.from('00000000000\u000000000000004\u0000') },
        { offset: 482, bytes: Buffer.from([1]) },
        { offset: 483, bytes: Buffer.from('00000100000\u0000') },
      ],
    });
    const extension = Buffer.alloc(BLOCK);
    Buffer.from('00000001000\u000000000000000\u0000').copy(extension, 0);
    const archive = tar()
      .bytes(header)
      .bytes(extension)
      .bytes(Buffer.concat([Buffer.from('data'), Buffer.alloc(BLOCK - 4)]))
      .file('after-sparse', 'ok')
      .build();
    for (const chunk of [archive.length, 1, 100]) {
      const entries = read(archive, chunk).entries;
      // The map: 4 bytes at 0, then (in the extension block) an empty region at 512; the real
      // size is 0o100000. The content is the file: the data, then zeros up to the real size.
      expect(entries.map((e) => [e.path, e.type, e.size, e.storedSize, e.sparse, e.content.length])).toEqual([
        ['sparse-file', 'file', 0o100000, 4, { format: 'gnu', map: [{ offset: 0, length: 4 }, { offset: 512, length: 0 }] }, 0o100000],
        ['after-sparse', 'file', 2, 2, undefined, 2],
      ]);
      expect(entries[0]!.content).toEqual(Buffer.concat([Buffer.from('data'), Buffer.alloc(0o100000 - 4)]));
      expect(entries[1]!.content.toString()).toBe('ok');
    }
  });

  it('keeps non-UTF-8 bytes in names as lone surrogates U+DC80..U+DCFF, and valid UTF-8 as text', () => {
    const archive = tar()
      .file(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74]), 'latin-1 name') // "café.txt" in Latin-1
      .file(Buffer.from([0x62, 0xff, 0xfe, 0x2f, 0x6f, 0x6b]), 'junk bytes')
      .file('日本語/ファイル', 'utf-8')
      .symlink('link', Buffer.from([0x74, 0x80]))
      .build();
    expect(read(archive).entries.map((e) => [e.path, e.linkname])).toEqual([
      ['caf\udce9.txt', ''],
      ['b\udcff\udcfe/ok', ''],
      ['日本語/ファイル', ''],
      ['link', 't\udc80'],
    ]);
  });
});

describe('streaming', () => {
  it('reads the same entries whatever the chunking, down to single bytes', () => {
    const archive = everything();
    const whole = summary(read(archive));
    expect(whole).toHaveLength(14);
    for (const chunk of [1, 7, 511, 512, 513, 1000]) {
      expect(summary(read(archive, chunk)), `chunks of ${chunk} bytes`).toEqual(whole);
    }
  });

  it('reads the same entries when split in two at every byte boundary', () => {
    const archive = tar()
      .file('a', 'alpha', { pax: { 'SCHILY.xattr.user.k': 'v' } })
      .file(`L/${'l'.repeat(101)}`, 'beta', { longName: 'gnu' })
      .symlink('c', 'a')
      .build({ endBlocks: 1 });
    const whole = JSON.stringify(summary(read(archive)));
    const wrong: number[] = [];
    for (let cut = 1; cut < archive.length; cut++) if (JSON.stringify(summary(read(archive, [cut]))) !== whole) wrong.push(cut);
    expect(wrong, 'cuts that change what is read').toEqual([]);
  });

  it('reads the same entries when split in three at every pair of nearby boundaries', () => {
    const archive = tar().file('x', 'one').file('y', 'two', { pax: { path: 'y-from-pax' } }).build({ endBlocks: 0 });
    const whole = summary(read(archive));
    expect(whole.map((e) => (e as TarEntry).path)).toEqual(['x', 'y-from-pax']);
    const expected = JSON.stringify(whole);
    const wrong: string[] = [];
    for (let a = 1; a < archive.length; a += 61) {
      for (let b = a; b < archive.length; b += 29) if (JSON.stringify(summary(read(archive, [a, b]))) !== expected) wrong.push(`${a},${b}`);
    }
    expect(wrong, 'cut pairs that change what is read').toEqual([]);
  });
});

describe('end of archive', () => {
  it('accepts an archive without end-of-archive blocks', () => {
    const r = read(tar().file('a', 'abc').build({ endBlocks: 0 }));
    expect(r.entries.map((e) => e.content.toString())).toEqual(['abc']);
    expect(r.ended).toBe(false);
  });

  it('accepts an archive without end-of-archive blocks and without the padding of its last entry', () => {
    const archive = tar().file('a', 'abc').file('b', 'last').build({ endBlocks: 0, padLast: false });
    expect(archive.length).toBe(3 * BLOCK + 4);
    const r = read(archive, 1);
    expect(r.entries.map((e) => [e.path, e.content.toString()])).toEqual([
      ['a', 'abc'],
      ['b', 'last'],
    ]);
  });

  it('accepts a single end-of-archive block, and record padding after the trailer', () => {
    expect(read(tar().file('a', 'abc').build({ endBlocks: 1 })).ended).toBe(true);
    const r = read(tar().file('a', 'abc').build({ recordSize: 10240 }));
    expect(r.entries).toHaveLength(1);
  });

  it('reports a tar that ends inside an entry\'s content as truncated, naming the entry', () => {
    const archive = tar().file('a', 'abc').file('usr/bin/tool', Buffer.alloc(2000, 1)).build();
    const cut = archive.subarray(0, 1024 + 512 + 700);
    for (const chunk of [cut.length, 1, 333]) {
      const e = failure(() => read(cut, chunk));
      expect(e.kind).toBe('truncated');
      expect(e.message).toBe('tar ends inside the content of "usr/bin/tool" (1300 bytes missing)');
      expect(e.file).toBe('test.tar');
    }
  });

  it('reports a tar that ends inside a header as truncated', () => {
    const archive = tar().file('a', 'abc').file('b', 'def').build();
    const e = failure(() => read(archive.subarray(0, 1024 + 100)));
    expect(e.kind).toBe('truncated');
    expect(e.message).toBe('tar ends inside a header at byte 1024');
  });

  it('reports a tar that ends inside, or right after, an extended header as truncated', () => {
    const archive = tar().file(`${'x'.repeat(120)}`, 'abc', { longName: 'pax' }).build();
    expect(failure(() => read(archive.subarray(0, 512 + 10))).kind).toBe('truncated');
    const e = failure(() => read(archive.subarray(0, 1024)));
    expect(e.kind).toBe('truncated');
    expect(e.message).toBe('tar ends after an extended header with no entry');
  });
});

describe('damaged headers', () => {
  it('names the byte offset of a header whose checksum is wrong', () => {
    const good = tar().file('a', 'abc').build();
    const bad = Buffer.concat([good.subarray(0, 1024), tarHeader({ name: 'b', size: 0, checksum: 1234 }), Buffer.alloc(1024)]);
    for (const chunk of [bad.length, 1]) {
      const e = failure(() => read(bad, chunk));
      expect(e.kind).toBe('format');
      expect(e.message).toBe('not a tar header at byte 1024 (checksum mismatch)');
    }
  });

  it('refuses a header whose number field is not a number, as Go archive/tar does; an empty one is 0', () => {
    // Read as NaN, an unreadable uid reached the listings, and export wrote it back as a PAX
    // record ("uid=NaN") that no tar, this one included, reads.
    const at = (offset: number) => tar().file('a', 'abc').raw({ name: 'b', patch: [{ offset, bytes: Buffer.from('zz\0') }] }).build();
    for (const [offset, field] of [[100, 'mode'], [108, 'uid'], [116, 'gid'], [136, 'mtime'], [329, 'device number'], [337, 'device number']] as const) {
      const e = failure(() => read(at(offset)));
      expect(e.kind).toBe('format');
      expect(e.message).toBe(`tar header at byte 1024 has an invalid ${field}`);
    }
    // Empty fields (NULs or spaces) are 0, and a v7 header's padding where ustar has device fields is not read.
    const empty = tar().raw({ name: 'c', patch: [{ offset: 108, bytes: Buffer.alloc(8) }, { offset: 329, bytes: Buffer.from('        ') }] }).build();
    expect(read(empty).entries.map((e) => [e.uid, e.devMajor])).toEqual([[0, 0]]);
    const v7 = tar().raw({ name: 'd', format: 'v7', patch: [{ offset: 329, bytes: Buffer.from('zz\0') }] }).build();
    expect(read(v7).entries.map((e) => e.path)).toEqual(['d']);
  });

  it('notices a single flipped byte in a header', () => {
    const archive = tar().file('a', 'abc').file('b', 'def').build();
    archive[1024 + 10] = archive[1024 + 10]! ^ 0x01;
    expect(failure(() => read(archive)).message).toBe('not a tar header at byte 1024 (checksum mismatch)');
  });

  it('accepts the signed checksum some old writers computed', () => {
    const block = tarHeader({ name: 'caf\u00e9', size: 0 });
    let signed = 0;
    for (let i = 0; i < BLOCK; i++) {
      const c = i >= 148 && i < 156 ? 0x20 : block[i]!;
      signed += c > 127 ? c - 256 : c;
    }
    const archive = tar().raw({ name: 'caf\u00e9', checksum: signed }).build();
    expect(read(archive).entries[0]!.path).toBe('café');
  });

  it('checks every checksum wherever the archive lies in memory, and decodes each user name from its own bytes', () => {
    // User names: the reader reuses the last one decoded when the bytes are the same; a byte
    // above 0x7f is never taken for the character of the same code (0xe9 alone is not UTF-8).
    const unames: Array<string | Buffer> = ['ann', 'ann', 'bob', 'é', Buffer.from([0xe9]), 'é', ''];
    const t = tar();
    unames.forEach((u, i) => t.file(`f${i}`, 'x', typeof u === 'string' ? { uname: u } : { patch: [{ offset: 265, bytes: Buffer.concat([u, Buffer.alloc(1)]) }] }));
    const archive = t.build();
    const expected = unames.map((u) => (typeof u === 'string' ? u : u.toString('utf8')));
    expect(expected[4]).toBe('\ufffd');
    // At each alignment in a small buffer, and in one of 5 MiB (summed through a view of its own).
    for (const size of [archive.length + 3, 5 * 1024 * 1024]) {
      for (let shift = 0; shift < 4; shift++) {
        const space = Buffer.alloc(size);
        archive.copy(space, shift);
        expect(read(space.subarray(shift, shift + archive.length)).entries.map((e) => e.uname)).toEqual(expected);
      }
    }
    // A buffer that grew (a resizable ArrayBuffer) after its first headers were summed.
    const growing = new ArrayBuffer(1024, { maxByteLength: 1 << 20 });
    const reader = new TarReader({ where: {}, onEntry: () => undefined });
    const one = tar().file('a', '').build();
    Buffer.from(growing).set(one.subarray(0, 1024));
    reader.push(Buffer.from(growing, 0, 512));
    growing.resize(4096);
    Buffer.from(growing, 1024).set(tar().file('b', '').build().subarray(0, 512));
    expect(() => reader.push(Buffer.from(growing, 1024, 512))).not.toThrow();
    expect(reader.entries).toBe(2);
    // A bad checksum after good ones in the same buffer is still caught.
    const bad = Buffer.concat([archive.subarray(0, 1024), tarHeader({ name: 'b', size: 0, checksum: 99 }), Buffer.alloc(1024)]);
    expect(failure(() => read(bad)).message).toBe('not a tar header at byte 1024 (checksum mismatch)');
  });

  it('refuses an extended header larger than the limit', () => {
    const archive = tar().file('x', 'y', { pax: { comment: 'z'.repeat(5000) } }).build();
    const e = failure(() => read(archive, archive.length, 4096));
    expect(e.kind).toBe('limit');
    expect(e.message).toMatch(/^extended tar header of 50\d\d bytes at byte 0 exceeds the 4096-byte limit$/);
  });

  it('refuses malformed PAX records', () => {
    const archive = tar().raw({ name: 'PaxHeaders/x', typeflag: 'x' }, Buffer.from('99 path=x\n')).file('x', '').build();
    const e = failure(() => read(archive));
    expect(e.kind).toBe('format');
    expect(e.message).toBe('malformed PAX extended header record');
  });
});
