// The safety limits: each has a default, a flag on every command that reads an image, and a
// one-line `limit` error that names the limit and its flag when it is hit (exit status 2). The
// fixed bounds (JSON nesting, extended tar headers, global PAX records) hold too.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/main.js';
import { DEFAULT_LIMITS, LIMIT_FLAGS } from '../src/image/limits.js';
import { LayerlensError } from '../src/image/errors.js';
import { openImage } from '../src/source/open-image.js';
import { blob, blobPath, dockerArchive, image, ociLayout, tar, tempDir } from './helpers/builders.js';
import { run } from './helpers/cli.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

let n = 0;
/** An OCI layout (directory) holding one image of these layers. */
function layout(...layers: Array<ReturnType<typeof tar> | Buffer>): string {
  const im = image({ layers: layers.map((t) => ({ tar: t })) });
  return ociLayout([{ image: im, refName: 'latest' }]).writeTo(path.join(tmp.dir, `layout-${n++}`));
}

/** Exit 2 with exactly one line, the `limit` error of this flag. */
function expectLimit(r: { code: number; stdout: string; stderr: string }, flag: string, message: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^layerlens: error: /);
  expect(lines[0]).toMatch(message);
  expect(lines[0]).toContain(`(limit: ${flag} `);
}

describe('defaults', () => {
  it('are generous for real images and small enough to stop a bomb', () => {
    expect(DEFAULT_LIMITS).toEqual({
      maxBytes: 32 * 1024 ** 3,
      maxEntries: 2_000_000,
      maxMetadataBytes: 256 * 1024 ** 2,
      maxPathLength: 4096,
      maxLinkDepth: 40,
      maxJsonBytes: 16 * 1024 ** 2,
    });
  });

  it('every command that reads an image takes every limit flag', async () => {
    const program = await buildProgram({ stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, now: Date.now });
    for (const cmd of program.commands) {
      const flags = cmd.options.map((o) => o.long);
      for (const flag of Object.values(LIMIT_FLAGS)) expect(flags, `${cmd.name()} ${flag}`).toContain(flag);
    }
  });

  it('a flag that is not a size or a number is a usage error', async () => {
    const dir = layout(tar().file('a', 'a'));
    expect(await run(['tree', dir, '--max-bytes', 'lots'])).toEqual({ code: 2, stdout: '', stderr: 'layerlens: error: --max-bytes takes a size such as 100000, 512Mi or 2G, not "lots"\n' });
    expect((await run(['tree', dir, '--max-entries', '1.5'])).stderr).toBe('layerlens: error: --max-entries takes a whole number of 1 or more, not "1.5"\n');
    expect((await run(['tree', dir, '--max-link-depth', '-1'])).stderr).toBe('layerlens: error: --max-link-depth takes a whole number of 0 or more, not "-1"\n');
    for (const size of ['100000', '512Ki', '2M', '1.5Gi', '3GB', '1T']) expect((await run(['tree', dir, '--max-bytes', size])).code, size).toBe(0);
  });
});

describe('--max-bytes', () => {
  it('bounds the uncompressed bytes of all the layers a command reads', async () => {
    const dir = layout(tar().file('a', 'x'.repeat(3000)), tar().file('b', 'y'.repeat(3000)));
    expect((await run(['layers', dir, '--max-bytes', '20Ki'])).code).toBe(0);
    expectLimit(await run(['layers', dir, '--max-bytes', '5000']), '--max-bytes', /: the layers hold too much uncompressed data \(limit: --max-bytes 5000\)$/);
    expectLimit(await run(['tree', dir, '--max-bytes', '5000']), '--max-bytes', /too much uncompressed data/);
  });

  it("counts a sparse file's holes, which are hashed and exported as zeros", async () => {
    const t = tar().sparse('holes', { format: 'pax-0.1', regions: [{ offset: 1 << 20, data: 'x' }], realSize: 2 << 20 });
    const dir = layout(t);
    expect((await run(['tree', dir, '--max-bytes', '3Mi'])).code).toBe(0);
    expectLimit(await run(['tree', dir, '--max-bytes', '1Mi']), '--max-bytes', /too much uncompressed data \(limit: --max-bytes 1Mi\)$/);
  });

  it('bounds a compressed archive as it is decompressed (a gzip bomb stops early)', async () => {
    const archive = dockerArchive([{ image: image({ layers: [{ tar: tar().file('zeros', Buffer.alloc(4 << 20)) }] }), repoTags: ['bomb:1'] }]).toTar();
    const file = tmp.file('bomb.tar.gz', zlib.gzipSync(archive));
    expectLimit(await run(['images', file, '--max-bytes', '1Mi']), '--max-bytes', /: the archive is too large once gzip-decompressed \(limit: --max-bytes 1Mi\)$/);
    expectLimit(await run(['images', '-', '--max-bytes', '1Mi'], { stdin: zlib.gzipSync(archive) }), '--max-bytes', /^layerlens: error: -: the archive is too large/);
    expect((await run(['images', file])).code).toBe(0);
  });
});

describe('--max-entries', () => {
  const many = (prefix: string) => {
    const t = tar();
    for (let i = 0; i < 100; i++) t.file(`${prefix}${i}`, '');
    return t;
  };

  it('bounds the tar entries of the layers read', async () => {
    const dir = layout(many('a'), many('b'));
    expect((await run(['layers', dir, '--max-entries', '200'])).code).toBe(0);
    expectLimit(await run(['layers', dir, '--max-entries', '150']), '--max-entries', /the layers hold too many tar entries \(limit: --max-entries 150\)$/);
  });

  it('bounds the paths of the filesystem tree, which one deep entry can make many of', async () => {
    const dir = layout(tar().file(`${'d/'.repeat(45)}f`, 'deep'));
    expect((await run(['tree', dir, '--max-entries', '50'])).code).toBe(0);
    expectLimit(await run(['tree', dir, '--max-entries', '20']), '--max-entries', /the layers make too many paths \(limit: --max-entries 20\)$/);
  });

  it("bounds the outer archive's members", async () => {
    const file = tmp.file('members.tar', dockerArchive([{ image: image({ layers: [{}, {}, {}] }), repoTags: ['m:1'] }]).toTar());
    expectLimit(await run(['images', file, '--max-entries', '5']), '--max-entries', /the archive holds too many members \(limit: --max-entries 5\)$/);
  });
});

describe('--max-path-length', () => {
  it('refuses a name or link target longer than the limit', async () => {
    const long = `${'n'.repeat(150)}/f`;
    const dir = layout(tar().file(long, 'x', { longName: 'pax' }));
    expect((await run(['tree', dir, '--max-path-length', '200'])).code).toBe(0);
    expectLimit(await run(['layers', dir, '--max-path-length', '100']), '--max-path-length', /: path "n{60}…" is 152 bytes long \(limit: --max-path-length 100\)$/);
    const link = layout(tar().symlink('l', '/t'.repeat(80), { longLink: 'pax' }));
    expectLimit(await run(['tree', link, '--max-path-length', '100']), '--max-path-length', /link target of "l" ".*" is 160 bytes long/);
  });

  it('refuses a path that symbolic links lead deeper than the limit, though each name is short', async () => {
    // Each link's target is relative and 121 bytes long; going through three of them leads
    // 360 bytes deep.
    const seg = 'd/'.repeat(60);
    const t = tar()
      .symlink('a', `${seg}b`, { longLink: 'pax' })
      .symlink(`${seg}b`, `${seg}c`, { longName: 'pax', longLink: 'pax' })
      .symlink(`${seg}${seg}c`, `${seg}e`, { longName: 'pax', longLink: 'pax' })
      .file('a/x', 'x');
    expect((await run(['tree', layout(t), '--max-path-length', '1000'])).code).toBe(0);
    expectLimit(await run(['tree', layout(t), '--max-path-length', '300']), '--max-path-length', /resolves, through symbolic links, to .*, a path too long \(limit: --max-path-length 300\)$/);
  });

  it("bounds the outer archive's member names", async () => {
    const file = tmp.file('longmember.tar', tar().file(`${'m'.repeat(120)}/manifest.json`, '[]', { longName: 'pax' }).build());
    expectLimit(await run(['images', file, '--max-path-length', '100']), '--max-path-length', /member name "m+…" is 134 bytes long/);
  });
});

describe('--max-link-depth', () => {
  const chain = () => tar().dir('real/').symlink('l1', 'real').symlink('l2', 'l1').symlink('l3', 'l2').symlink('l4', 'l3').file('l4/x', 'x');

  it('bounds the symbolic links followed to resolve one path, in the layers and for cat', async () => {
    const dir = layout(chain());
    expect((await run(['tree', dir, '--max-link-depth', '4'])).code).toBe(0);
    expectLimit(await run(['tree', dir, '--max-link-depth', '3']), '--max-link-depth', /too many levels of symbolic links resolving \/l4 \(limit: --max-link-depth 3\)$/);
    expect((await run(['cat', dir, '/l4/x', '--max-link-depth', '4'])).stdout).toBe('x');
    expectLimit(await run(['cat', layout(tar().dir('real/').file('real/x', 'x').symlink('l1', 'real').symlink('l2', 'l1').symlink('l3', 'l2')), '/l3/x', '--max-link-depth', '2']), '--max-link-depth', /too many levels of symbolic links/);
  });

  it('bounds the links between members of the outer archive (docker save links layers)', async () => {
    const file = tmp.file('links.tar', dockerArchive([{ image: image(), repoTags: ['l:1'] }]).toTar());
    expect((await run(['layers', file, '--max-link-depth', '1'])).code).toBe(0);
    expectLimit(await run(['layers', file, '--max-link-depth', '0']), '--max-link-depth', /too many levels of links between archive members \(limit: --max-link-depth 0\)$/);
  });
});

describe('--max-json-bytes', () => {
  it('refuses a manifest, index or config larger than the limit', async () => {
    const dir = layout(tar().file('a', 'a'));
    expect((await run(['inspect', dir, '--max-json-bytes', '4Ki'])).code).toBe(0);
    expectLimit(await run(['inspect', dir, '--max-json-bytes', '100']), '--max-json-bytes', /^layerlens: error: .*: index\.json: is \d+ bytes, too large for a JSON document \(limit: --max-json-bytes 100\)$/);
  });

  it('refuses JSON nested more than 512 levels deep (a fixed bound), before parsing it', async () => {
    const deep = '['.repeat(600) + ']'.repeat(600);
    const im = image({ config: { Labels: { deep: 'x' } } });
    const t = ociLayout([{ image: im }]);
    const config = Buffer.from(im.config.bytes.toString().replace('"deep":"x"', `"deep":${deep}`));
    const configBlob = blob(im.config.mediaType, config);
    const manifestDoc = { ...im.manifestDoc, config: { mediaType: configBlob.mediaType, digest: configBlob.digest, size: configBlob.size } };
    const manifest = blob(im.manifest.mediaType, manifestDoc);
    t.put(blobPath(configBlob.digest), config).put(blobPath(manifest.digest), manifest.bytes);
    t.put('index.json', { schemaVersion: 2, manifests: [{ mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size }] });
    const r = await run(['inspect', t.writeTo(path.join(tmp.dir, 'deep'))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/: config nests arrays and objects more than 512 levels deep\n$/);
  });
});

describe('nesting', () => {
  // Found while probing --max-path-length: trees are walked recursively (listings, exports,
  // diffs, reports), and a raised limit let a path 3000 directories deep overflow the stack.
  it('paths up to 2048 levels (what PATH_MAX allows) work in every command; deeper is refused, whatever the flags', async () => {
    const ok = layout(tar().file(`${'d/'.repeat(2047)}f`, 'x', { longName: 'pax' }));
    for (const args of [['tree', ok], ['tree', ok, '--flat', '--format', 'json'], ['changes', ok], ['export', ok, path.join(tmp.dir, 'deep.tar')], ['waste', ok], ['diff', ok, ok]]) {
      const r = await run(args);
      expect([args[0], r.code, r.stderr.split('\n').filter((l) => l.includes('error'))]).toEqual([args[0], 0, []]);
    }
    const deep = layout(tar().file(`${'d/'.repeat(3000)}f`, 'x', { longName: 'pax' }));
    const r = await run(['tree', deep, '--max-path-length', '10000']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^layerlens: error: .*: \/d\/d\/d.*…\/d\/d\/d.* leads more than 2048 directories deep \(a fixed limit\)\n$/);
  });
});

describe('--max-metadata-bytes', () => {
  it('bounds the bytes of paths (each in full), link targets and xattrs the tree holds', async () => {
    const t = tar();
    for (let i = 0; i < 20; i++) t.symlink(`${'p'.repeat(40)}${i}`, '/'.padEnd(100, 't'));
    const dir = layout(t);
    expect((await run(['tree', dir, '--max-metadata-bytes', '4Ki'])).code).toBe(0);
    expectLimit(await run(['tree', dir, '--max-metadata-bytes', '2Ki']), '--max-metadata-bytes', /paths, link targets and xattrs of too many bytes in all \(limit: --max-metadata-bytes 2Ki\)$/);
  });
});

describe('fixed bounds in the tar reader', () => {
  it('global extended headers of more than 64 records, and extended headers that merge past 1 MiB', async () => {
    const records: Record<string, string> = {};
    for (let i = 0; i < 65; i++) records[`k${i}`] = 'v';
    const g = layout(tar().globalPax(records).file('a', 'a'));
    expect((await run(['layers', g])).stderr).toMatch(/global extended tar headers hold more than 64 records\n$/);
    const x = tar();
    for (let i = 0; i < 3; i++) x.pax({ [`key${i}`]: 'v'.repeat(400_000) });
    x.file('a', 'a');
    expect((await run(['layers', layout(x)])).stderr).toMatch(/extended tar headers before one entry hold more than 1048576 bytes of records\n$/);
  });
});

describe('the library', () => {
  it('takes the limits in OpenOptions and ScanOptions', async () => {
    const dir = layout(tar().file('a', 'a'));
    const err = await openImage(dir, { limits: { maxJsonBytes: 50 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LayerlensError);
    expect((err as LayerlensError).kind).toBe('limit');
    const { file } = await openImage(dir, { limits: { maxJsonBytes: 4096 } });
    await file.close();
    expect(fs.existsSync(dir)).toBe(true);
  });
});
