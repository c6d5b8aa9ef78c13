// `cat` and `export`: cat streams a file's exact bytes and follows symlinks without leaving the
// image; export writes the flattened filesystem as one tar, which GNU tar extracts into exactly
// what `umoci unpack` made of the same image, and it never leaves anything but the named file.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import type { FlatRecord } from '../src/fs/flat.js';
import { image, ociLayout, tar, tempDir } from './helpers/builders.js';
import { parseJson, run } from './helpers/cli.js';
import { HAS_SHARED, SHARED, corpus } from './helpers/shared.js';
import { layerEntries, readRootfsTsv, rootfsLines } from './helpers/union.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const TINY = fileURLToPath(new URL('../samples/tiny.docker-archive.tar', import.meta.url));
const APP = `${fileURLToPath(new URL('../samples/app-oci', import.meta.url))}:v2`;

/** Run the CLI with stdout kept as bytes. */
async function runBytes(args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new Writable({ write: (c, _e, cb) => (out.push(Buffer.from(c)), cb()) });
  const stderr = new Writable({ write: (c, _e, cb) => (err.push(Buffer.from(c)), cb()) });
  const code = await main(['node', 'layerlens', ...args], { stdout, stderr, stdin: Readable.from([]), now: () => 0 });
  return { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() };
}

describe('cat', () => {
  it('streams the exact bytes of every regular file of tiny (sha256 and size as the flat listing has them)', async () => {
    const records = parseJson<FlatRecord[]>(await run(['tree', TINY, '--flat', '--format', 'json']));
    const files = records.filter((r) => r.type === 'file' || r.type === 'hardlink');
    expect(files.length).toBe(67);
    for (const f of files) {
      const r = await runBytes(['cat', TINY, f.path]);
      expect([f.path, r.code, r.stderr, r.stdout.length, sha(r.stdout)]).toEqual([f.path, 0, '', f.size, f.sha256]);
    }
  });

  it('cat --layer N gives the file as it was after layer N', async () => {
    const before = await runBytes(['cat', TINY, '/etc/config.txt', '--layer', '0']);
    const after = await runBytes(['cat', TINY, '/etc/config.txt']);
    expect(before.code).toBe(0);
    expect(after.stdout.toString()).not.toBe(before.stdout.toString());
    expect(sha(after.stdout)).toBe('048a6ead59b36d2adf08a919e4eca9cb9cf1ffc4db52f30a7180c893d3f6609f');
  });

  it("follows tiny's relative symlink that climbs to the root", async () => {
    const link = await runBytes(['cat', TINY, '/usr/local/bin/relative-link']);
    const target = await runBytes(['cat', TINY, '/etc/os-release']);
    expect(link.code).toBe(0);
    expect(link.stdout.toString().split('\n')[0]).toBe('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"');
    expect(link.stdout.equals(target.stdout)).toBe(true);
  });

  describe('symlinks stay inside the image', () => {
    const im = image({
      layers: [
        {
          tar: tar()
            .dir('etc/')
            .file('etc/f', 'inside\n')
            .dir('a/')
            .dir('a/b/')
            .symlink('a/b/up', '../../../../../../etc/f')
            .symlink('abs', '/etc/f')
            .symlink('chain', 'abs')
            .symlink('etc-link', '/../../etc')
            .dir('x/')
            .dir('x/y/')
            .file('x/f', 'x/f\n')
            .file('f', '/f\n')
            .symlink('x/y/l', '../f')
            .symlink('lnk', 'x/y')
            .symlink('loop1', 'loop2')
            .symlink('loop2', 'loop1')
            .symlink('dangling', '/nowhere')
            .symlink('to-dir', 'etc')
            .special('fifo', 'pipe'),
        },
      ],
    });
    const layout = ociLayout([{ image: im, refName: 'latest' }]).writeTo(path.join(tmp.dir, 'links'));
    const cat = (p: string) => runBytes(['cat', layout, p]);

    it.each([
      ['/a/b/up', 'a relative target with more `..` than there are parents', 'inside\n'],
      ['/abs', 'an absolute target', 'inside\n'],
      ['/chain', 'a link to a link', 'inside\n'],
      ['/etc-link/f', 'an absolute target climbing above the root, in a parent', 'inside\n'],
      ['/lnk/l', "a relative target, from the link's real directory (its parent is a symlink)", 'x/f\n'],
    ])('%s: %s', async (p, _what, content) => {
      const r = await cat(p);
      expect(r).toEqual({ code: 0, stdout: Buffer.from(content), stderr: '' });
    });

    it.each([
      ['/etc', 'layerlens: error: %s: /etc is a directory'],
      ['/to-dir', 'layerlens: error: %s: /to-dir is a directory'],
      ['/nothing', 'layerlens: error: %s: no such file in the image: /nothing'],
      ['/dangling', 'layerlens: error: %s: no such file in the image: /dangling'],
      ['/pipe', 'layerlens: error: %s: /pipe is a fifo, not a regular file'],
      ['/loop1', 'layerlens: error: %s: too many levels of symbolic links resolving /loop1 (limit: --max-link-depth 40)'],
      ['/loop1/x', 'layerlens: error: %s: too many levels of symbolic links resolving /loop1 (limit: --max-link-depth 40)'],
    ])('%s is refused: exit 2, one line', async (p, line) => {
      const r = await cat(p);
      expect(r).toEqual({ code: 2, stdout: Buffer.alloc(0), stderr: `${line.replace('%s', layout)}\n` });
    });
  });
});

const IS_ROOT = process.getuid?.() === 0;
if (!IS_ROOT) console.warn('[layerlens tests] not running as root: the export round trips through GNU tar -x --same-owner are skipped.');
const LIST_ROOTFS = path.join(SHARED, 'corpus', 'list-rootfs.sh');

/** Extract a tar with GNU tar as umoci's goldens were made (owners, modes, xattrs) into a new folder. */
function extract(tarFile: string): string {
  const dir = fs.mkdtempSync(path.join(tmp.dir, 'rootfs-'));
  execFileSync('tar', ['-x', '--numeric-owner', '--same-owner', '-p', '--xattrs', '-f', tarFile, '-C', dir], { stdio: 'pipe' });
  return dir;
}

/** A folder as list-rootfs.sh lists it (the script behind the rootfs goldens). */
function listRootfs(dir: string): string[] {
  return rootfsLines(execFileSync('bash', [LIST_ROOTFS, dir], { encoding: 'utf8' }));
}

/** The `user.corpus` xattr of tiny's xattr.txt, as umoci's mtree of its unpacked rootfs records it. */
function mtreeXattr(): Buffer {
  const mtree = fs.readFileSync(corpus('tiny', 'goldens', 'oci', 'latest', 'umoci-unpack.mtree'), 'utf8');
  const m = /^\s*xattr\.txt .*xattr\.user\.corpus=(\S+)/m.exec(mtree);
  if (!m) throw new Error('no xattr.txt line with xattr.user.corpus in umoci-unpack.mtree');
  return Buffer.from(m[1]!, 'base64');
}

const PYTHON = '/usr/bin/python3';

function tarList(tarFile: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('tar', ['-tvf', tarFile, '--numeric-owner'], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!HAS_SHARED)('export, extracted by GNU tar, is what umoci unpack made', () => {
  it.skipIf(!IS_ROOT).each([
    [TINY, 'tiny/goldens/oci/latest/rootfs.tsv', 145],
    [APP, 'app/goldens/oci/v2/rootfs.tsv', 0],
  ])('%s', async (img, golden, entries) => {
    const out = path.join(tmp.dir, `${path.basename(img).replace(/[:.]/g, '-')}.tar`);
    const r = await run(['export', img, out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^layerlens: wrote ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\d+ entries, \\d+ bytes\\n$`));
    if (entries) expect(r.stderr).toContain(`: ${entries} entries, `);
    const listed = tarList(out);
    expect([listed.status, listed.stderr]).toEqual([0, '']);
    const dir = extract(out);
    expect(listRootfs(dir)).toEqual(readRootfsTsv(corpus(golden)));
    if (img === TINY && fs.existsSync(PYTHON)) {
      // The xattr survives too (umoci's mtree has it; list-rootfs.sh does not list xattrs).
      const value = execFileSync(PYTHON, ['-c', 'import os,sys; sys.stdout.buffer.write(os.getxattr(sys.argv[1], "user.corpus"))', path.join(dir, 'usr/share/corpus/xattr.txt')]);
      expect(value).toEqual(mtreeXattr());
    }
  });

  it('tiny: no whiteout is exported, the root comes first, hard links stay hard links, PAX carries ids, long names and the xattr', async () => {
    const r = await runBytes(['export', TINY, '-']);
    expect(r.code).toBe(0);
    const entries = await layerEntries(r.stdout);
    const names = entries.map((e) => e.path);
    expect(names[0]).toBe('./');
    expect(names.filter((n) => n.includes('.wh.'))).toEqual([]);
    const byName = (n: string) => entries.find((e) => e.path === n)!;
    expect(['usr/share/corpus/hardlinks/b', 'usr/share/corpus/hardlinks/c', 'usr/share/corpus/hardlinks/base.txt'].map((n) => [byName(n).type, byName(n).linkname])).toEqual([
      ['hardlink', 'usr/share/corpus/hardlinks/a'],
      ['hardlink', 'usr/share/corpus/hardlinks/a'],
      ['hardlink', 'usr/share/corpus/hardlinks/base-link.txt'],
    ]);
    expect([byName('srv/biguid.txt').uid, byName('srv/biguid.txt').gid]).toEqual([3000000, 3000000]);
    expect(byName('usr/share/corpus/xattr.txt').xattrs?.get('user.corpus')).toEqual(mtreeXattr());
    expect(byName('usr/share/corpus/special/null-like')).toMatchObject({ type: 'char', devMajor: 1, devMinor: 3 });
    expect(names).toContain(`usr/share/corpus/long/${'n'.repeat(120)}.txt`);
  });

  it.skipIf(!IS_ROOT)('the hostile path-traversal image exports only names inside the root, and extracts to what umoci made', async () => {
    const out = path.join(tmp.dir, 'traversal.tar');
    const r = await run(['export', corpus('malformed', 'path-traversal.oci'), out]);
    expect(r.code, r.stderr).toBe(0);
    const listed = tarList(out);
    expect([listed.status, listed.stderr]).toEqual([0, '']);
    const names = execFileSync('tar', ['-tf', out], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(names.filter((n) => n.startsWith('/') || n.split('/').includes('..'))).toEqual([]);
    const dir = extract(out);
    expect(listRootfs(dir)).toEqual(readRootfsTsv(corpus('malformed', 'path-traversal.goldens', 'umoci-rootfs.tsv')));
    // Nothing landed beside the extraction folder.
    expect(fs.readdirSync(path.dirname(dir)).filter((n) => /escape|abs\.txt|pwned/.test(n))).toEqual([]);
  });
});

describe('export writes the named file and nothing else', () => {
  const small = image({ layers: [{ tar: tar().dir('etc/').file('etc/hostname', 'box\n') }] });
  const layout = ociLayout([{ image: small, refName: 'latest' }]).writeTo(path.join(tmp.dir, 'small'));
  const fresh = () => fs.mkdtempSync(path.join(tmp.dir, 'out-'));

  it('writes OUT, and only OUT, in its folder', async () => {
    const dir = fresh();
    const r = await run(['export', layout, path.join(dir, 'rootfs.tar')]);
    expect(r.code).toBe(0);
    expect(fs.readdirSync(dir)).toEqual(['rootfs.tar']);
    const entries = await layerEntries(fs.readFileSync(path.join(dir, 'rootfs.tar')));
    expect(entries.map((e) => [e.path, e.type, e.size, e.sha256 ?? null])).toEqual([
      ['./', 'dir', 0, null],
      ['etc/', 'dir', 0, null],
      ['etc/hostname', 'file', 4, sha('box\n')],
    ]);
  });

  it('refuses an existing OUT without --force (exit 2, one line, OUT untouched), and replaces it with --force', async () => {
    const dir = fresh();
    const out = path.join(dir, 'rootfs.tar');
    fs.writeFileSync(out, 'keep me');
    const r = await run(['export', layout, out]);
    expect(r).toEqual({ code: 2, stdout: '', stderr: `layerlens: error: ${out} exists; use --force to overwrite it\n` });
    expect(fs.readFileSync(out, 'utf8')).toBe('keep me');
    expect(fs.readdirSync(dir)).toEqual(['rootfs.tar']);
    const forced = await run(['export', layout, out, '--force']);
    expect(forced.code).toBe(0);
    expect((await layerEntries(fs.readFileSync(out))).map((e) => e.path)).toEqual(['./', 'etc/', 'etc/hostname']);
    expect(fs.readdirSync(dir)).toEqual(['rootfs.tar']);
  });

  it('an image that cannot be read leaves no OUT and no partial file', async () => {
    const dir = fresh();
    const out = path.join(dir, 'rootfs.tar');
    const bad = ociLayout([{ image: small, refName: 'latest' }]);
    const blobPath = `blobs/${small.layers[0]!.digest.replace(':', '/')}`;
    const bytes = Buffer.from(bad.get(blobPath));
    bytes[1024] = bytes[1024]! ^ 0xff; // etc/hostname's first byte: same size, another digest
    bad.put(blobPath, bytes);
    const badLayout = bad.writeTo(path.join(tmp.dir, 'bad-layout'));
    const r = await run(['export', badLayout, out]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stderr).toContain('digest mismatch');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('OUT that is a directory, or in a folder that does not exist: exit 2, one line, nothing written', async () => {
    const dir = fresh();
    fs.mkdirSync(path.join(dir, 'sub'));
    for (const force of [[], ['--force']]) {
      const r = await run(['export', layout, path.join(dir, 'sub'), ...force]);
      expect(r).toEqual({ code: 2, stdout: '', stderr: `layerlens: error: ${path.join(dir, 'sub')} is a directory\n` });
    }
    expect(fs.readdirSync(dir)).toEqual(['sub']);
    expect(fs.readdirSync(path.join(dir, 'sub'))).toEqual([]);
    const missing = path.join(dir, 'no', 'such', 'rootfs.tar');
    const r = await run(['export', layout, missing]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^layerlens: error: cannot write ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*no such file or directory.*\\n$`, 'i'));
    expect(fs.readdirSync(dir)).toEqual(['sub']);
  });

  it('- writes the tar to stdout and no file', async () => {
    const dir = fresh();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const r = await runBytes(['export', layout, '-']);
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect((await layerEntries(r.stdout)).map((e) => e.path)).toEqual(['./', 'etc/', 'etc/hostname']);
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      process.chdir(cwd);
    }
  });
});
