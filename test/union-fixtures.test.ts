// The union against other projects' own expectations, on their own test data:
// - container-diff (pkg/util TestUnTar): each layer tar of util/testTars, extracted onto the
//   `la-croix-starter` directory (the whiteout, update and dir-update cases) or onto nothing (the
//   plain ones), must give its `-actual` directory;
// - go-containerregistry (pkg/v1/mutate TestExtractWhiteout, TestExtractWhiteoutDir,
//   TestExtractOverwrittenFile, TestNoopCondition): the flattened image of its testdata archives.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { readLayerEntries } from '../src/fs/build.js';
import { flatten, type FlatRecord } from '../src/fs/flat.js';
import { Union } from '../src/fs/union.js';
import { openImage } from '../src/source/open-image.js';
import { parseJson, run } from './helpers/cli.js';
import { HAS_SHARED, fixture } from './helpers/shared.js';
import { directoryTar, layerEntries, readDirectory, rootfsLine, shape, stack } from './helpers/union.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe.skipIf(!HAS_SHARED)('container-diff testTars: a layer applied onto a directory gives the -actual directory', () => {
  const dir = HAS_SHARED ? fixture('container-diff', 'util', 'testTars') : '';
  const tars = HAS_SHARED ? fs.readdirSync(dir).filter((f) => f.endsWith('.tar')).sort() : [];
  // As container-diff's TestUnTar sets them up: these three start from a copy of la-croix-starter.
  const ONTO_STARTER = new Set(['la-croix-wh.tar', 'la-croix-update.tar', 'la-croix-dir-update.tar']);
  // A nested tar whose -actual copy differs (in its header checksum and mtime) from the member.
  const KNOWN_DIFFERENT = new Map([
    [
      'la-croix3.tar:/nested-dir.tar',
      { actual: '560b9862890f0c82e2cc941e54aa39ad8bae3499caa71ffdb7d9cb39af365f6b', member: '854868143964fe1af1a3d6fedf3867fe690459b318a0559449c00e2c0277a0ca' },
    ],
  ]);

  it('has the six cases container-diff tests', () => {
    expect(tars).toEqual(['la-croix-dir-update.tar', 'la-croix-update.tar', 'la-croix-wh.tar', 'la-croix1.tar', 'la-croix2.tar', 'la-croix3.tar']);
  });

  it.each(tars)('%s', async (name) => {
    const starter = ONTO_STARTER.has(name) ? directoryTar(path.join(dir, 'la-croix-starter')) : Buffer.alloc(1024);
    const { union, changeSets } = await stack(starter, fs.readFileSync(path.join(dir, name)));
    const want = readDirectory(path.join(dir, name.replace(/\.tar$/, '-actual')));
    expect(shape(union)).toEqual(want.shape);
    const records = flatten(union);
    for (const [p, bytes] of want.files) {
      const r = records.find((x) => x.path === p)!;
      const known = KNOWN_DIFFERENT.get(`${name}:${p}`);
      if (known) {
        // The -actual copy is not the member's bytes (container-diff compares names only): the
        // union must hold what la-croix3.tar holds, which is what `tar -x` gives.
        expect(sha(bytes)).toBe(known.actual);
        expect([p, r.size, r.sha256]).toEqual([p, bytes.length, known.member]);
      } else {
        expect([p, r.size, r.sha256]).toEqual([p, bytes.length, sha(bytes)]);
      }
    }
    expect(changeSets[1]!.warnings).toEqual([]);
  });

  it('la-croix-wh.tar: its whiteouts take a file and a whole directory of the starter, and nothing of the layer', async () => {
    const { changeSets } = await stack(directoryTar(path.join(dir, 'la-croix-starter')), fs.readFileSync(path.join(dir, 'la-croix-wh.tar')));
    expect(changeSets[1]!.changes.map((c) => [c.kind, c.type, c.path, c.removedPaths ?? null, c.via ?? null])).toEqual([
      ['removed', 'file', '/lime.txt', 1, 'whiteout'],
      ['removed', 'dir', '/nest', 2, 'whiteout'],
      ['added', 'dir', '/nest2', null, null],
      ['added', 'file', '/nest2/hello', null, null],
    ]);
  });

  it('la-croix-dir-update.tar: a directory over a directory keeps the starter child and takes the new mode', async () => {
    const { union } = await stack(directoryTar(path.join(dir, 'la-croix-starter')), fs.readFileSync(path.join(dir, 'la-croix-dir-update.tar')));
    const nest = flatten(union).find((r) => r.path === '/nest')!;
    expect(nest.mode).toBe(0o750);
    expect(shape(union).filter((l) => l.startsWith('/nest'))).toEqual(['/nest d', '/nest/f1.txt f', '/nest/f2.txt f']);
  });
});

describe.skipIf(!HAS_SHARED)("go-containerregistry mutate testdata: what its Extract tests expect", () => {
  const data = (name: string) => fixture('go-containerregistry', 'pkg', 'v1', 'mutate', 'testdata', name);

  async function flat(file: string): Promise<FlatRecord[]> {
    const r = await run(['tree', file, '--flat', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    return parseJson<FlatRecord[]>(r);
  }

  /** The entries of `layerlens export FILE -`, read back with layerlens's own tar reader. */
  async function exported(file: string): Promise<{ names: string[]; bytes: Buffer }> {
    const r = await runBinary(['export', file, '-']);
    const entries = await layerEntries(r);
    return { names: entries.map((e) => e.path), bytes: r };
  }

  it('whiteout_image.tar (TestExtractWhiteout): the whiteout removes foo.txt; no foo in the union or in the export', async () => {
    const file = data('whiteout_image.tar');
    const records = await flat(file);
    expect(records.map(rootfsLine)).toEqual(['/\td\t0755\t0\t0\t-\t-\t-\t-', `/bar.txt\tf\t0555\t0\t0\t4\t${sha('bar\n')}\t-\t-`]);
    const { names } = await exported(file);
    expect(names.filter((n) => n.includes('foo'))).toEqual([]);
    expect(names.filter((n) => n.includes('.wh.'))).toEqual([]);
    expect(names).toContain('bar.txt');
  });

  it('whiteout_dir.tar (TestExtractWhiteoutDir): .wh.a removes the directory a and its foo; the later a/baz is a new a', async () => {
    const file = data('whiteout_dir.tar');
    const records = await flat(file);
    expect(records.map((r) => `${r.path} ${r.type}`)).toEqual(['/ dir', '/a dir', '/a/baz file', '/b dir', '/b/bar file']);
    const { names } = await exported(file);
    expect(names.filter((n) => path.basename(n) === 'foo')).toEqual([]);
    const changes = parseJson<Array<{ changes: Array<{ path: string; kind: string; removedPaths?: number; via?: string }> }>>(await run(['changes', file, '--layer', '2', '--format', 'json']));
    expect(changes[0]!.changes).toMatchObject([{ path: '/a', kind: 'removed', removedPaths: 2, via: 'whiteout' }]);
  });

  it('overwritten_file.tar (TestExtractOverwrittenFile): foo.txt is now a symlink to bar.txt; its old bytes are gone', async () => {
    const file = data('overwritten_file.tar');
    const records = await flat(file);
    // The symlink's header says 0755; a symlink on Linux has no mode of its own (extraction gives 0777).
    expect(records.map(rootfsLine)).toEqual([
      '/\td\t0755\t0\t0\t-\t-\t-\t-',
      `/bar.txt\tf\t0555\t0\t0\t4\t${sha('bar\n')}\t-\t-`,
      '/foo.txt\tl\t0777\t0\t0\t-\t-\tbar.txt\t-',
    ]);
    const cat = await runBinary(['cat', file, '/foo.txt']);
    expect(cat.toString()).toBe('bar\n');
    const { bytes } = await exported(file);
    expect(bytes.includes('foo\n')).toBe(false);
  });

  it('source_image.tar (TestNoopCondition): a layer with nothing in it changes nothing', async () => {
    const file = data('source_image.tar');
    const records = await flat(file);
    expect(records.map((r) => r.path)).toEqual(['/', '/bar', '/foo']);
    // The same union built through the library, then a layer without entries applied on top.
    const union = new Union();
    const built = await openImage(file, { verify: true });
    try {
      for (const l of built.image.layers) union.apply((await readLayerEntries(l, true)).entries, l.index);
      const before = flatten(union);
      const set = union.apply([], built.image.layers.length);
      expect(set).toEqual({ layer: built.image.layers.length, changes: [], warnings: [] });
      expect(flatten(union)).toEqual(before);
      expect(before.map(rootfsLine)).toEqual(records.map(rootfsLine));
    } finally {
      await built.file.close();
    }
  });
});

/** Run the CLI and return stdout as bytes (exit 0 expected). */
async function runBinary(args: string[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const errs: Buffer[] = [];
  const out = new Writable({ write: (c, _e, cb) => (chunks.push(Buffer.from(c)), cb()) });
  const err = new Writable({ write: (c, _e, cb) => (errs.push(Buffer.from(c)), cb()) });
  const code = await main(['node', 'layerlens', ...args], { stdout: out, stderr: err, stdin: Readable.from([]), now: () => 0 });
  if (code !== 0) throw new Error(`layerlens ${args.join(' ')} exited ${code}: ${Buffer.concat(errs).toString()}`);
  return Buffer.concat(chunks);
}
