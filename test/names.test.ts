// Names that are not valid UTF-8 are kept as bytes and shown escaped: read losslessly (each
// stray byte as a lone surrogate U+DC80..U+DCFF), shown as \xNN in tables, text, JSON and error
// messages, found again by that \xNN form, and written back as the original bytes by export.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeName, encodeName, escapeName, unescapeName } from '../src/layer/names.js';
import { TarReader, type TarEntry } from '../src/layer/tar-reader.js';
import { encodeHeader } from '../src/layer/tar-writer.js';
import { showName } from '../src/report/format.js';
import { parseJson, run } from './helpers/cli.js';
import { dockerArchive, image, tar, tempDir } from './helpers/builders.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const GNU_TAR = '/usr/bin/tar';
const HAS_GNU_TAR = fs.existsSync(GNU_TAR) && /GNU tar/.test(spawnSync(GNU_TAR, ['--version']).stdout?.toString() ?? '');
if (!HAS_GNU_TAR) console.warn(`[layerlens tests] GNU tar (${GNU_TAR}) is absent: the check that GNU tar extracts exported non-UTF-8 names is skipped.`);

const b = (...parts: Array<string | number[] | Buffer>) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

const FF = b([0xff]); // a byte that never occurs in UTF-8
const C3_28 = b([0xc3, 0x28]); // a lead byte followed by no continuation: "\xc3("
const CAFE = b('caf', [0xe9]); // "café" in Latin-1
const DIR = b('d', [0xe9]);

function entries(archive: Buffer): TarEntry[] {
  const out: TarEntry[] = [];
  const r = new TarReader({ where: {}, onEntry: (e) => void out.push(e) });
  r.push(archive);
  r.finish();
  return out;
}

describe('decoding and encoding names', () => {
  it('decodes stray bytes as lone surrogates and encodes them back', () => {
    expect(decodeName(FF)).toBe('\udcff');
    expect(decodeName(C3_28)).toBe('\udcc3(');
    expect(decodeName(CAFE)).toBe('caf\udce9');
    for (const raw of [FF, C3_28, CAFE]) expect(encodeName(decodeName(raw))).toEqual(raw);
  });

  it('leaves valid UTF-8 alone, characters past U+FFFF included, next to stray bytes', () => {
    const raw = Buffer.concat([Buffer.from('日本/😀'), FF, Buffer.from('é'), b([0xf0, 0x9f])]);
    expect(decodeName(raw)).toBe('日本/😀\udcffé\udcf0\udc9f');
    expect(encodeName(decodeName(raw))).toEqual(raw);
    expect(decodeName(Buffer.from('plain/ascii'))).toBe('plain/ascii');
  });

  it('escapes overlong forms and encoded surrogates byte by byte, as a strict decoder refuses them', () => {
    expect(escapeName(decodeName(b([0xc0, 0xaf])))).toBe('\\xc0\\xaf'); // overlong "/"
    expect(escapeName(decodeName(b([0xed, 0xa0, 0x80])))).toBe('\\xed\\xa0\\x80'); // U+D800 encoded
  });

  it('round-trips any bytes', () => {
    const wrong: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const raw = randomBytes(1 + (i % 40));
      if (!encodeName(decodeName(raw)).equals(raw)) wrong.push(raw.toString('hex'));
    }
    expect(wrong).toEqual([]);
  });

  it('shows stray bytes as \\xNN, and reads that form back', () => {
    expect(escapeName('caf\udce9/\udcc3(/\udcff')).toBe('caf\\xe9/\\xc3(/\\xff');
    expect(showName('😀\udcff')).toBe('😀\\xff');
    expect(unescapeName('caf\\xe9/\\xff')).toBe('caf\udce9/\udcff');
    // ASCII escapes (as in systemd unit names) are text, not bytes.
    expect(unescapeName('dev-disk-by\\x2duuid')).toBe('dev-disk-by\\x2duuid');
  });

  it('writes the original bytes in a PAX path record marked hdrcharset=BINARY', () => {
    const h = encodeHeader({ path: decodeName(CAFE), type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, mtime: 0, linkname: decodeName(FF) });
    expect(h.includes(b('21 hdrcharset=BINARY\n'))).toBe(true);
    expect(h.includes(b('13 path=', CAFE, '\n'))).toBe(true);
    expect(h.includes(b('14 linkpath=', FF, '\n'))).toBe(true);
    const [e] = entries(Buffer.concat([h, Buffer.alloc(1024)]));
    expect([e!.path, e!.linkname]).toEqual([decodeName(CAFE), decodeName(FF)]);
  });

  it('writes ustar numbers at their fields’ widths, and leaves a field that cannot hold its number empty', () => {
    // Each number at the largest its octal field holds (7 digits, 11 for size and mtime), and a
    // device major one past it: ustar has no room for it and no PAX record carries it, so the
    // field stays zero rather than holding its low digits.
    const max7 = 8 ** 7 - 1;
    const h = encodeHeader({ path: 'dev/x', type: 'char', mode: 0o7777, uid: max7, gid: 1, size: 0, mtime: 8 ** 11 - 1, devMajor: 8 ** 7, devMinor: max7 });
    expect(h.length).toBe(512);
    expect(h.subarray(100, 108).toString('latin1')).toBe('0007777\0');
    expect(h.subarray(108, 116).toString('latin1')).toBe('7777777\0');
    expect(h.subarray(136, 148).toString('latin1')).toBe('77777777777\0');
    expect(h.subarray(329, 337).equals(Buffer.alloc(8))).toBe(true);
    expect(h.subarray(337, 345).toString('latin1')).toBe('7777777\0');
    const [e] = entries(Buffer.concat([h, Buffer.alloc(1024)]));
    expect([e!.path, e!.type, e!.mode, e!.uid, e!.gid, e!.mtime, e!.devMajor, e!.devMinor]).toEqual(['dev/x', 'char', 0o7777, max7, 1, 8 ** 11 - 1, 0, max7]);
  });
});

describe('an image whose names are not UTF-8', () => {
  let file: string;
  beforeAll(() => {
    const layer0 = tar()
      .file(FF, 'ff\n')
      .file(C3_28, 'c3 28\n')
      .file(CAFE, 'latin-1\n')
      .dir(b(DIR, '/'))
      .file(b(DIR, '/inner.txt'), 'inner\n')
      .symlink('link', CAFE)
      .hardlink(b('hard', [0xff]), FF)
      .hardlink('dangling', b('gone', [0xff]));
    const layer1 = tar().file(b('.wh.', DIR), '').file(b('na', [0xef], 've'), 'new\n');
    file = tmp.file('names.tar', dockerArchive([{ image: image({ layers: [{ tar: layer0 }, { tar: layer1 }] }), repoTags: ['names:1'] }]).toTar());
  });

  const noLoneSurrogates = /[\ud800-\udfff\ufffd]/;

  it('tree shows the stray bytes as \\xNN', async () => {
    const r = await run(['tree', file, '--human=false']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(noLoneSurrogates);
    const names = r.stdout.trimEnd().split('\n').map((l) => l.replace(/^.*[─ ] /, ''));
    expect(names).toEqual(expect.arrayContaining(['\\xff', '\\xc3(', 'caf\\xe9', 'hard\\xff link to /\\xff', 'link → caf\\xe9', 'na\\xefve']));
  });

  it('tree --flat shows them so in text and in JSON', async () => {
    const text = await run(['tree', file, '--flat', '--human=false']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).not.toMatch(noLoneSurrogates);
    for (const p of ['/\\xff', '/\\xc3(', '/caf\\xe9', '/link → caf\\xe9', '/na\\xefve']) expect(text.stdout).toContain(`  ${p}\n`);
    const json = await run(['tree', file, '--flat', '--format', 'json']);
    expect(json.stdout).not.toMatch(/\\u[dD][89a-fA-F]/);
    const records = parseJson<Array<{ path: string; linkTarget: string | null; size: number }>>(json);
    // (The hardlink to a missing path is ignored, with a warning.)
    expect(records.map((r) => r.path).sort()).toEqual(['/', '/\\xc3(', '/\\xff', '/caf\\xe9', '/hard\\xff', '/link', '/na\\xefve'].sort());
    expect(records.find((r) => r.path === '/link')!.linkTarget).toBe('caf\\xe9');
    expect(records.find((r) => r.path === '/hard\\xff')!.linkTarget).toBe('/\\xff');
  });

  it('changes shows them so, warnings included', async () => {
    const text = await run(['changes', file, '--human=false']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).not.toMatch(noLoneSurrogates);
    expect(text.stdout).toContain('/d\\xe9');
    expect(text.stdout).toContain('/na\\xefve');
    expect(text.stdout).toMatch(/warning: .*gone\\xff/);
    const [l0, l1] = parseJson<Array<{ changes: Array<{ path: string; kind: string }>; warnings: string[] }>>(await run(['changes', file, '--format', 'json']));
    expect(l0!.changes.map((c) => c.path)).toEqual(expect.arrayContaining(['/\\xff', '/\\xc3(', '/caf\\xe9', '/d\\xe9', '/d\\xe9/inner.txt']));
    expect(l0!.warnings.join('\n')).toMatch(/gone\\xff/);
    expect(l1!.changes.map((c) => [c.path, c.kind])).toEqual(expect.arrayContaining([['/d\\xe9', 'removed'], ['/na\\xefve', 'added']]));
  });

  it('cat finds a file by the \\xNN form that tree shows', async () => {
    const r = await run(['cat', file, '/caf\\xe9']);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, 'latin-1\n', '']);
    expect((await run(['cat', file, '/hard\\xff'])).stdout).toBe('ff\n');
  });

  it('export writes the original bytes, which the reader gets back', async () => {
    const out = tmp.file('names-export.tar');
    const r = await run(['export', file, out]);
    expect(r.code, r.stderr).toBe(0);
    const archive = fs.readFileSync(out);
    // The names are in PAX path records, as the bytes they were read from.
    for (const raw of [FF, C3_28, CAFE, b('na', [0xef], 've')]) expect(archive.includes(Buffer.concat([b(' path='), raw, b('\n')])), raw.toString('hex')).toBe(true);
    expect(archive.includes(b('linkpath=', CAFE, '\n'))).toBe(true);
    expect(archive.includes(b('\\x'))).toBe(false);
    const read = entries(archive);
    expect(read.map((e) => e.path).filter((p) => p !== './').sort()).toEqual(['link', 'na\udcefve', 'caf\udce9', '\udcc3(', '\udcff', 'hard\udcff'].sort());
    expect(read.find((e) => e.path === 'link')!.linkname).toBe('caf\udce9');
  });

  it.skipIf(!HAS_GNU_TAR)('GNU tar lists and extracts the exported names as the original bytes', async () => {
    const out = tmp.file('names-export-gnu.tar');
    const r = await run(['export', file, out]);
    expect(r.code, r.stderr).toBe(0);
    {
      const listed = execFileSync(GNU_TAR, ['-tf', out, '--quoting-style=literal']);
      const lines = splitLines(listed);
      for (const raw of [FF, C3_28, CAFE, b('hard', [0xff])]) expect(lines.some((l) => l.equals(raw)), raw.toString('hex')).toBe(true);
      const into = path.join(tmp.dir, 'names-extracted');
      fs.mkdirSync(into);
      execFileSync(GNU_TAR, ['-xf', out, '-C', into]);
      const names = (fs.readdirSync(into, { encoding: 'buffer' }) as Buffer[]).map((n) => n.toString('hex')).sort();
      expect(names).toEqual([FF, C3_28, CAFE, b('hard', [0xff]), b('link'), b('na', [0xef], 've')].map((n) => n.toString('hex')).sort());
      expect(fs.readFileSync(path.join(into, 'link'), 'utf8')).toBe('latin-1\n');
      expect(fs.readlinkSync(path.join(into, 'link'), { encoding: 'buffer' })).toEqual(CAFE);
    }
  });

  it('quotes such a name escaped in an error message', async () => {
    const layer = tar().file('first', 'x').file(CAFE, Buffer.alloc(2000, 1)).build().subarray(0, 1024 + 512 + 700);
    const broken = tmp.file('names-truncated.tar', dockerArchive([{ image: image({ layers: [{ tar: layer }] }) }]).toTar());
    const r = await run(['tree', broken]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/: tar ends inside the content of "caf\\xe9" \(1300 bytes missing\)\n$/);
  });
});

function splitLines(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, at)) {
    out.push(buf.subarray(at, i));
    at = i + 1;
  }
  return out;
}
