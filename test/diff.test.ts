// `layerlens diff`: the app v1/v2 images of the samples and the corpus pinned against what the
// corpus notes (Containerfile.v1/.v2, NOTES.txt) and the umoci golden (rootfs-v1-v2.diff) say
// changed; images against themselves and their recompressed copies; config, --semantic,
// --ignore and package databases on images built in memory; and what is read, and how often.
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImageDiff } from '../src/analysis/diff.js';
import { compileGlob, pathMatcher } from '../src/fs/glob.js';
import { DATABASE_NAMES, databaseKind, isReadable, parseApkInstalled, parseDpkgStatus, parsePythonMetadata } from '../src/analysis/packages.js';
import { isBerkeleyHash, parseRpmBerkeley, rpmVersion } from '../src/analysis/rpmdb.js';
import { diffImagePair } from '../src/cli/diff.js';
import { readContents } from '../src/fs/cat.js';
import { DEFAULT_MAX_KEEP, buildUnionPair } from '../src/fs/pair.js';
import { openImage } from '../src/source/open-image.js';
import { parseJson, run } from './helpers/cli.js';
import { image, ociLayout, tar, tempDir, type BuiltImage, type HistoryInput, type TarBuilder } from './helpers/builders.js';
import { HAS_SHARED, corpus } from './helpers/shared.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const APP = 'samples/app-oci';
const MULTI = 'samples/app-v1-v2.multi.docker-archive.tar';

interface DiffJson extends ImageDiff {
  a: string;
  b: string;
  warnings: string[];
}

async function diffJson(a: string, b: string, ...flags: string[]): Promise<{ code: number; d: DiffJson; stderr: string }> {
  const r = await run(['diff', a, b, '--format', 'json', ...flags]);
  return { code: r.code, d: parseJson<DiffJson>(r), stderr: r.stderr };
}

/** What the files section says, in the terms of the golden: path → kind (and for a modification, what changed). */
function fileSummary(d: DiffJson): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of d.files.added) out[r.path] = 'added';
  for (const r of d.files.removed) out[r.path] = 'removed';
  for (const m of d.files.modified) out[m.path] = `modified: ${m.changes.join(', ')}`;
  return out;
}

// What the corpus says changed from v1 to v2 (Containerfile.v2, NOTES.txt, goldens/rootfs-v1-v2.diff).
const APP_FILES = {
  '/app/conf/app.conf': 'modified: content, mode', // echo port=9090 > app.conf; chmod 0600
  '/app/conf/debug.conf': 'removed', // rm /app/conf/debug.conf
  '/app/static': 'modified: owner', // chown -R web:web /app/static
  '/app/static/big.bin': 'removed', // rm -rf /app/static (opaque whiteout), site-v2 has no big.bin
  '/app/static/index.htm': 'added', // ln index.html index.htm
  '/app/static/index.html': 'modified: content, owner, hardlink',
  '/app/static/new.txt': 'added',
  '/app/static/style.css': 'modified: content, size, owner',
  '/etc/group': 'modified: content, size', // echo web:x:1001: >> /etc/group
  '/etc/passwd': 'modified: content, size', // echo web:x:1001:... >> /etc/passwd
  '/srv-www': 'added', // ln -s /app/static /srv-www
};

const APP_CONFIG = [
  { field: 'Labels', key: 'org.opencontainers.image.version', kind: 'changed', a: '1', b: '2' },
  { field: 'ExposedPorts', key: '8080/tcp', kind: 'removed', a: null },
  { field: 'ExposedPorts', key: '9090/tcp', kind: 'added', b: null },
  { field: 'Entrypoint', kind: 'added', b: ['httpd', '-f'] },
  { field: 'Cmd', kind: 'changed', a: ['httpd', '-f', '-p', '8080', '-h', '/app/static'], b: ['-p', '9090', '-h', '/app/static'] },
  { field: 'User', kind: 'added', b: 'web' },
];

const SHARED_DIFF_IDS = [
  'sha256:0cc8ef5acbd7b8600ec15529cdd8e26f09594527b19d09df34996d307f468bf9',
  'sha256:cc639d1c5839ab6b9fa44ba5be6b21d7a1eb06b05c14d346ac450e94df86bb27',
  'sha256:01ee5fa872fd538088fea0e944784cdce3bd8014ffb28aba272d74309afc8391',
];
const V2_DIFF_IDS = [
  'sha256:facb09b5c4e8586a3b275b975a8fa6d9ead15358ad8d3ac16cc7c4b3343760e4',
  'sha256:66b1ea5eff106599b74a8d5d98c2b2701715e115ac926d87a0a638656918b69b',
  'sha256:9d5e7e3bcf3c81c105d9c9e94870ad67a5f1e8ce88749f55a4a74ec248789717',
];

/** Every section of the app v1 → v2 diff, as the corpus describes it. */
function expectAppDiff(d: DiffJson): void {
  expect(d.summary).toMatchObject({
    same: false,
    semantic: false,
    identity: { counted: ['id', 'layers'] },
    layers: { shared: 3, a: 0, b: 3, counted: true },
    config: { added: 3, removed: 1, changed: 2 },
    history: { compared: true, added: 8, removed: 3 },
    files: { added: 3, removed: 2, modified: 6, addedBytes: 23, removedBytes: 131084, sizeDelta: -131007 },
    packages: { added: 0, removed: 0, changed: 0 },
  });
  const id = d.identity.find((f) => f.field === 'id')!;
  expect([id.a, id.b]).toEqual([
    'sha256:6308e6c02743f2e1892d7216ff1f81e3921c45a3884d81fe86869b8408f6e226',
    'sha256:364257f137bd03d1acbc7b9e776bad44e05aab36eb6f258ee4ef400720d5d9d9',
  ]);
  expect(d.identity.find((f) => f.field === 'platform')).toMatchObject({ a: 'linux/amd64', b: 'linux/amd64', same: true });
  expect(d.identity.find((f) => f.field === 'created')).toMatchObject({ a: '2023-11-14T22:13:20Z', same: true });
  expect(d.identity.find((f) => f.field === 'size')).toMatchObject({ a: 498176, b: 517632, delta: 19456 });
  // The shared base is v1's three layers; v2 adds the RUN, the COPY of site-v2 and the chown RUN.
  expect(d.layers.shared.map((l) => l.diffId)).toEqual(SHARED_DIFF_IDS);
  expect(d.layers.a).toEqual([]);
  expect(d.layers.b.map((l) => [l.index, l.diffId, l.size, l.inOther])).toEqual([
    [3, V2_DIFF_IDS[0], 5120, null],
    [4, V2_DIFF_IDS[1], 5120, null],
    [5, V2_DIFF_IDS[2], 9216, null],
  ]);
  expect(d.layers.b[0]!.createdBy).toContain('rm -rf /app/static');
  expect(d.config).toEqual(APP_CONFIG);
  // WORKDIR /app, and everything up to the COPY of site-v1, are in both; the rest was replaced.
  expect(d.history.removed.map((h) => [h.index, h.createdBy])).toEqual([
    [4, '/bin/sh -c #(nop) LABEL org.opencontainers.image.title="corpus app" org.opencontainers.image.version="1"'],
    [5, '/bin/sh -c #(nop) EXPOSE 8080'],
    [7, '/bin/sh -c #(nop) CMD ["httpd", "-f", "-p", "8080", "-h", "/app/static"]'],
  ]);
  expect(d.history.added.map((h) => h.index)).toEqual([4, 5, 6, 7, 8, 9, 11, 12]);
  expect(d.history.added.map((h) => h.createdBy.replace(/^\/bin\/sh -c (#\(nop\) )?/, '').slice(0, 24))).toEqual([
    '--mount=type=bind,source',
    'COPY dir:3889ea7ac629475',
    '--mount=type=bind,source',
    'LABEL org.opencontainers',
    'EXPOSE 9090',
    'USER web',
    'ENTRYPOINT ["httpd", "-f',
    'CMD ["-p", "9090", "-h",',
  ]);
  expect(fileSummary(d)).toEqual(APP_FILES);
  const mod = (p: string) => d.files.modified.find((m) => m.path === p)!;
  expect([mod('/app/conf/app.conf').before.mode, mod('/app/conf/app.conf').after.mode]).toEqual([0o644, 0o600]);
  expect([mod('/app/static').before.uid, mod('/app/static').after.uid, mod('/app/static').after.gid]).toEqual([0, 1001, 1001]);
  expect(mod('/app/static/style.css')).toMatchObject({ sizeDelta: 9, before: { size: 7 }, after: { size: 16, sha256: '74d94aede163ac74eb42fe7cac4066626820fa15001ddf02c3b2d25df8e6c771' } });
  expect(mod('/app/static/index.html').after).toMatchObject({ type: 'hardlink', hardlinkGroup: '/app/static/index.htm', linkTarget: '/app/static/index.htm' });
  expect(d.files.added.find((r) => r.path === '/srv-www')).toMatchObject({ type: 'symlink', linkTarget: '/app/static' });
  expect(d.files.removed.find((r) => r.path === '/app/static/big.bin')).toMatchObject({ size: 131072 });
  // Summed per directory, the biggest movers first.
  expect(d.files.directories.map((x) => [x.path, x.added, x.removed, x.modified, x.sizeDelta])).toEqual([
    ['/', 3, 2, 6, -131007],
    ['/app', 2, 2, 4, -131052],
    ['/app/static', 2, 1, 2, -131040],
    ['/etc', 0, 0, 2, 45],
    ['/app/conf', 0, 1, 1, -12],
  ]);
  expect(d.packages).toEqual({ databases: [], added: [], removed: [], changed: [], notes: [] });
}

describe('diff of the app images, v1 → v2', () => {
  it('pins every section of the OCI layout with two ref names, and exits 1', async () => {
    const { code, d } = await diffJson(`${APP}:v1`, `${APP}:v2`);
    expect(code).toBe(1);
    expect(Object.keys(d)).toEqual(['schemaVersion', 'a', 'b', 'summary', 'identity', 'layers', 'config', 'history', 'files', 'packages', 'warnings']);
    expectAppDiff(d);
  });

  it('says the same of the two images inside one multi-image docker-archive', async () => {
    const { code, d } = await diffJson(`${MULTI}:v1`, `${MULTI}:v2`);
    expect(code).toBe(1);
    expectAppDiff(d);
    // A docker-archive stores no manifest blob, so there is no manifest digest to compare.
    expect(d.identity.find((f) => f.field === 'manifest')).toMatchObject({ a: null, b: null });
    expect(d.identity.find((f) => f.field === 'names')).toMatchObject({ a: ['localhost/corpus/app:v1'], b: ['localhost/corpus/app:v2'] });
  });

  it('prints the summary first, then each section, largest changes first', async () => {
    const r = await run(['diff', `${APP}:v1`, `${APP}:v2`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines.slice(0, 10)).toEqual([
      'A  samples/app-oci:v1',
      'B  samples/app-oci:v2',
      '',
      'Summary: the images differ',
      '  layers: 3 shared, 0 only in A, 3 only in B',
      '  config: 3 added, 1 removed, 2 changed',
      '  history: 8 added, 3 removed',
      '  files: 3 added (23B), 2 removed (131kB), 6 modified; net -131kB',
      '  packages: no package database found',
      '',
    ]);
    const sections = lines.filter((l) => /^[A-Z][a-z]+$/.test(l));
    expect(sections).toEqual(['Identity', 'Layers', 'Config', 'History', 'Files']);
    // The removed 128 KiB file leads the file list; metadata-only changes come last.
    const fileRows = lines.filter((l) => /^│ [-+~] │/.test(l) && l.includes('/'));
    expect(fileRows.at(-2)).toContain('owner 0:0→1001:1001');
    expect(lines.find((l) => l.includes('/app/static/big.bin'))).toMatch(/│ - │ removed +│ file +│ +131kB │ +-131kB │ \/app\/static\/big\.bin +│/);
    expect(lines.find((l) => l.includes('/app/conf/app.conf'))).toContain('mode 0644→0600');
    expect(lines.find((l) => l.includes('/srv-www'))).toContain('/srv-www → /app/static');
    expect(lines.find((l) => l.includes('Labels org.opencontainers.image.version'))).toMatch(/│ ~ │ Labels org\.opencontainers\.image\.version │ 1 +│ 2 +│/);
  });

  it('writes markdown for a pull-request comment, the file list folded', async () => {
    const r = await run(['diff', `${APP}:v1`, `${APP}:v2`, '--format', 'markdown']);
    expect(r.code).toBe(1);
    expect(r.stdout.startsWith('## layerlens diff\n\n**A** `samples/app-oci:v1` → **B** `samples/app-oci:v2`\n\n**The images differ.**\n\n- layers: 3 shared')).toBe(true);
    expect(r.stdout).toContain('\n### Config\n\n|  | FIELD | A | B |\n| --- | --- | --- | --- |\n| ~ | Labels org.opencontainers.image.version | 1 | 2 |\n');
    expect(r.stdout).toContain('<details><summary>11 paths changed</summary>');
    expect(r.stdout).toContain('| - | removed | file | 131kB | -131kB | /app/static/big.bin |');
  });

  it('cuts long lists at --limit in tables, never in JSON', async () => {
    const r = await run(['diff', `${APP}:v1`, `${APP}:v2`, '--limit', '2']);
    expect(r.stdout).toContain('… and 9 more (--limit 0 shows all)');
    expect(r.stdout).toContain('… and 3 more directories');
    const { d } = await diffJson(`${APP}:v1`, `${APP}:v2`, '--limit', '2');
    expect(d.files.added.length + d.files.removed.length + d.files.modified.length).toBe(11);
  });

  it.skipIf(!HAS_SHARED)('agrees exactly with the golden diff -u of the two umoci rootfs listings', async () => {
    // Each golden line is `path type mode uid gid size sha256 link hardlink_group`; a path on a
    // `-` and a `+` line was modified, and its differing columns are what changed.
    const golden = fs.readFileSync(corpus('app', 'goldens', 'rootfs-v1-v2.diff'), 'utf8').split('\n');
    const minus = new Map<string, string[]>();
    const plus = new Map<string, string[]>();
    for (const l of golden) {
      if (/^[-+]\//.test(l)) (l[0] === '-' ? minus : plus).set(l.slice(1).split('\t')[0]!, l.slice(1).split('\t'));
    }
    const COLUMN = ['path', 'type', 'mode', 'owner', 'owner', 'size', 'content', 'linkTarget', 'hardlink'];
    const expected: Record<string, string> = {};
    for (const [p, cols] of minus) {
      const after = plus.get(p);
      if (!after) {
        expected[p] = 'removed';
        continue;
      }
      const changed = [...new Set(cols.flatMap((c, i) => (c !== after[i] ? [COLUMN[i]!] : [])))];
      const order = ['type', 'content', 'size', 'mode', 'owner', 'linkTarget', 'hardlink'];
      expected[p] = `modified: ${changed.sort((x, y) => order.indexOf(x) - order.indexOf(y)).join(', ')}`;
    }
    for (const p of plus.keys()) if (!minus.has(p)) expected[p] = 'added';
    for (const [a, b] of [
      [`${corpus('app', 'oci')}:v1`, `${corpus('app', 'oci')}:v2`],
      [`${corpus('app', 'app-v1-v2.multi.docker-archive.tar')}:v1`, `${corpus('app', 'app-v1-v2.multi.docker-archive.tar')}:v2`],
      [corpus('app', 'app-v1.docker-archive.tar'), corpus('app', 'app-v2.oci-archive.tar')],
    ] as const) {
      const { code, d } = await diffJson(a, b);
      expect(code).toBe(1);
      expect(fileSummary(d)).toEqual(expected);
      expect(fileSummary(d)).toEqual(APP_FILES);
      expect(d.config).toEqual(APP_CONFIG);
    }
  });
});

describe('no difference', () => {
  it('an image against itself: exit 0, every section empty', async () => {
    const r = await run(['diff', `${APP}:v2`, `${APP}:v2`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Summary: the images are the same\n  image ID: the same\n  layers: 6 shared, 0 only in A, 0 only in B\n  config: no change\n  history: no change\n  files: no change\n');
    const { code, d } = await diffJson(`${MULTI}:v1`, `${APP}:v1`);
    expect(code).toBe(0);
    expect(d.summary.same).toBe(true);
    expect(d.files).toEqual({ added: [], removed: [], modified: [], directories: [] });
    expect([d.config, d.history.added, d.history.removed, d.layers.a, d.layers.b]).toEqual([[], [], [], [], []]);
    // Stored differently (a docker-archive of plain tars against gzip blobs): shown, not counted.
    expect(d.identity.find((f) => f.field === 'storedSize')).toMatchObject({ a: 498176, b: 231341, same: false, counts: false });
  });

  it('the tiny image as a docker-archive against its zstd OCI archive copy', async () => {
    const { code, d } = await diffJson('samples/tiny.docker-archive.tar', 'samples/tiny-zstd.oci-archive.tar');
    expect(code).toBe(0);
    expect(d.summary.same).toBe(true);
    expect(d.layers.shared).toHaveLength(5);
    expect(d.identity.filter((f) => !f.same).map((f) => f.field)).toEqual(['names', 'manifest', 'format', 'storedSize']);
  });

  it.skipIf(!HAS_SHARED)('the corpus compression copies, gzip, zstd and uncompressed, against each other', async () => {
    const dirs = ['gzip', 'zstd', 'uncompressed'].map((c) => corpus('compression', c));
    for (const [a, b] of [
      [dirs[0]!, dirs[1]!],
      [dirs[1]!, dirs[2]!],
      [dirs[2]!, dirs[0]!],
    ]) {
      const r = await run(['diff', a, b]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('Summary: the images are the same');
    }
  });
});

describe('what is read', () => {
  it('reads the shared base once, then only the layers each image has alone', async () => {
    const a = await openImage(`${APP}:v1`);
    const b = await openImage(`${APP}:v2`);
    try {
      const { pair } = await diffImagePair(a.image, b.image);
      expect(pair.sharedPrefix).toBe(3);
      // Three shared layers, read from A's copies, and B's three own: six reads, not nine.
      expect(pair.reads.map((r) => `${r.side}${r.index}`)).toEqual(['a0', 'a1', 'a2', 'b3', 'b4', 'b5']);
      expect(pair.b.readFrom).toEqual(['other', 'other', 'other', 'self', 'self', 'self']);
      const same = await diffImagePair(a.image, a.image);
      expect(same.pair.reads).toHaveLength(3);
      expect(same.pair.a.union).toBe(same.pair.b.union);
    } finally {
      await a.file.close();
      await b.file.close();
    }
  });

  it('reads the uncompressed copy of a shared layer rather than the compressed one', async () => {
    const a = await openImage('samples/tiny-zstd.oci-archive.tar');
    const b = await openImage('samples/tiny.docker-archive.tar');
    try {
      const { pair } = await diffImagePair(a.image, b.image);
      expect(pair.reads.map((r) => r.side)).toEqual(['b', 'b', 'b', 'b', 'b']);
    } finally {
      await a.file.close();
      await b.file.close();
    }
  });

  it('reads a layer both images hold above different bases once, applied to both', async () => {
    const top = tar().dir('app/').file('app/run.sh', 'echo hi\n', { mode: 0o755 });
    const A = image({ layers: [{ tar: tar().file('etc/os-release', 'ID=one\n') }, { tar: top }] });
    const B = image({ layers: [{ tar: tar().file('etc/os-release', 'ID=two\n') }, { tar: top }, { tar: tar().file('extra', 'x') }] });
    const file = tmp.file('rebased.tar', ociLayout([{ image: A, refName: 'a' }, { image: B, refName: 'b' }]).toTar());
    const a = await openImage(`${file}:a`);
    const b = await openImage(`${file}:b`);
    try {
      const { pair, diff } = await diffImagePair(a.image, b.image);
      expect(pair.sharedPrefix).toBe(0);
      expect(pair.sharedLater).toEqual([[1, 1]]);
      expect(pair.reads.map((r) => `${r.side}${r.index}`)).toEqual(['a0', 'b0', 'a1', 'b2']);
      expect(fileSummary(diff as DiffJson)).toEqual({ '/etc/os-release': 'modified: content', '/extra': 'added' });
      expect(diff.layers.a.map((l) => l.inOther)).toEqual([null, 1]);
    } finally {
      await a.file.close();
      await b.file.close();
    }
  });
});

describe('read in worker threads', () => {
  // A base both share, a layer both hold above their own ones, package databases written in
  // each part: as two gzip OCI layouts (two files) and as one.
  const status = (v: string) => `Package: base-files\nStatus: install ok installed\nVersion: ${v}\n`;
  const base = tar().file('etc/os-release', 'ID=debian\n').file('var/lib/dpkg/status', status('1'));
  const shared = tar().dir('app/').file('app/run.sh', 'echo hi\n', { mode: 0o755 }).file('app/node_modules/left-pad/package.json', '{"name":"left-pad","version":"1.3.0"}');
  const A = image({ layers: [{ tar: base, compression: 'gzip' }, { tar: tar().file('var/lib/dpkg/status', status('2')).file('a-only', 'a'), compression: 'gzip' }, { tar: shared, compression: 'gzip' }] });
  const B = image({
    layers: [
      { tar: base, compression: 'gzip' },
      { tar: tar().file('var/lib/dpkg/status', status('3')).file('.wh.etc', ''), compression: 'gzip' },
      { tar: shared, compression: 'gzip' },
      { tar: tar().file('app/node_modules/left-pad/package.json', '{"name":"left-pad","version":"1.4.0"}'), compression: 'gzip' },
    ],
  });
  const one = tmp.file('pair-one.tar', ociLayout([{ image: A, refName: 'a' }, { image: B, refName: 'b' }]).toTar());
  const fileA = tmp.file('pair-a.tar', ociLayout([{ image: A, refName: 'a' }]).toTar());
  const fileB = tmp.file('pair-b.tar', ociLayout([{ image: B, refName: 'b' }]).toTar());

  it('gives the diff, the reads and the packages that one thread gives', async () => {
    for (const [x, y] of [
      [`${one}:a`, `${one}:b`],
      [fileA, fileB],
    ] as const) {
      const a = await openImage(x);
      const b = await openImage(y);
      try {
        const here = await diffImagePair(a.image, b.image, { workers: 0 });
        expect(here.pair.sharedPrefix).toBe(1);
        expect(here.pair.sharedLater).toEqual([[2, 2]]);
        expect(here.diff.packages.changed.map((p) => `${p.ecosystem} ${p.name} ${p.a} ${p.b}`)).toEqual(['deb base-files 2 3', 'npm left-pad 1.3.0 1.4.0']);
        for (const workers of [1, 2]) {
          const there = await diffImagePair(a.image, b.image, { workers });
          expect(there.diff, `${workers} workers`).toEqual(here.diff);
          expect(there.pair.reads).toEqual(here.pair.reads);
          expect(there.pair.a.layerSizes).toEqual(here.pair.a.layerSizes);
          expect(there.pair.b.readFrom).toEqual(here.pair.b.readFrom);
          // The databases were kept as the threads read them, not read a second time.
          for (const side of ['a', 'b'] as const) {
            expect([...there.pair[side].kept].map(([k, v]) => [k, v.path, v.data.toString()]), `${workers} workers, ${side}`).toEqual([...here.pair[side].kept].map(([k, v]) => [k, v.path, v.data.toString()]));
          }
        }
      } finally {
        await a.file.close();
        await b.file.close();
      }
    }
  });

  it("names the file of the layer that fails, the second image's included", async () => {
    // A byte of B's own top layer flipped: its blob digest no longer matches.
    const bytes = fs.readFileSync(fileB);
    const at = bytes.indexOf(B.layers[3]!.bytes);
    expect(at).toBeGreaterThan(0);
    bytes[at + 20] ^= 0xff;
    const broken = tmp.file('pair-b-broken.tar', bytes);
    const a = await openImage(fileA);
    const b = await openImage(broken);
    try {
      for (const workers of [0, 2]) {
        const err = await diffImagePair(a.image, b.image, { workers }).then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        expect(err?.message, `${workers} workers`).toMatch(/gzip stream is corrupt|blob digest mismatch/);
        expect((err as { file?: string }).file ?? '', `${workers} workers`).toBe(broken);
      }
    } finally {
      await a.file.close();
      await b.file.close();
    }
  });
});

describe('package databases kept while reading', () => {
  // Three npm manifests of 10,000 bytes in one layer, read as the layers stream (in this thread
  // and in workers) with room for two of them on each side.
  const manifest = (name: string) => {
    const head = `{"name":"${name}","version":"1.0.0","description":"`;
    return head + 'x'.repeat(10_000 - head.length - 2) + '"}';
  };
  const names = ['a', 'b', 'c'];
  const A = image({ layers: [{ tar: names.reduce((t, n) => t.file(`app/node_modules/${n}/package.json`, manifest(n)), tar()), compression: 'gzip' }] });
  const B = image({ layers: [{ tar: tar().file('etc/hostname', 'b\n'), compression: 'gzip' }] });
  const file = tmp.file('kept-total.tar', ociLayout([{ image: A, refName: 'a' }, { image: B, refName: 'b' }]).toTar());

  it('keeps no more than maxKeepTotal bytes a side; what is left is read afterwards, within maxTotal', async () => {
    const a = await openImage(`${file}:a`);
    const b = await openImage(`${file}:b`);
    try {
      for (const workers of [0, 2]) {
        const pair = await buildUnionPair(a.image.layers, b.image.layers, { verify: true, fileA: a.image.file, fileB: b.image.file, workers, keep: (p) => p.endsWith('/package.json'), keepNames: DATABASE_NAMES, maxKeepTotal: 25_000 });
        const kept = [...pair.a.kept.values()];
        expect(kept.map((k) => k.path), `${workers} workers`).toEqual(['/app/node_modules/a/package.json', '/app/node_modules/b/package.json']);
        expect(kept.reduce((n, k) => n + k.data.length, 0)).toBe(20_000);
      }
      // Read afterwards: each file once, the later ones left out once the total would pass.
      const layer = a.image.layers[0]!;
      const data = await readContents([0, 1, 2].map((entry) => ({ layer, entry, file: a.image.file })), { verify: true, maxBytes: DEFAULT_MAX_KEEP, maxTotal: 25_000 });
      expect(data.map((d) => d?.length)).toEqual([10_000, 10_000, undefined]);
      // And the diff lists all three packages all the same.
      const { diff } = await diffImagePair(a.image, b.image);
      expect(diff.packages.removed.map((p) => p.name)).toEqual(['a', 'b', 'c']);
    } finally {
      await a.file.close();
      await b.file.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Images built in memory

function layout(a: BuiltImage, b: BuiltImage, name: string): string {
  return tmp.file(`${name}.tar`, ociLayout([{ image: a, refName: 'a' }, { image: b, refName: 'b' }]).toTar());
}

describe('config, field by field', () => {
  const base = {
    Env: ['PATH=/usr/bin:/bin', 'LANG=C', 'FOO'],
    Labels: { team: 'web', tier: 'front' },
    ExposedPorts: { '80/tcp': {} },
    Volumes: { '/data': {} },
    Entrypoint: ['/entry'],
    Cmd: ['serve'],
    User: 'app',
    WorkingDir: '/srv',
    StopSignal: 'SIGTERM',
    Healthcheck: { Test: ['CMD', 'true'], Interval: 30_000_000_000 },
  };
  const layers = [{ tar: tar().file('x', 'x') }];

  it('names each variable, label, port and volume added, removed or changed, and each other field', async () => {
    const A = image({ layers, config: base });
    const B = image({
      layers,
      config: {
        Env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'FOO', 'TZ=UTC'],
        Labels: { team: 'web', owner: 'ops' },
        ExposedPorts: { '443/tcp': {} },
        Volumes: { '/data': {}, '/cache': {} },
        Entrypoint: ['/entry', '--json'],
        Cmd: ['serve'],
        User: '1000:1000',
        WorkingDir: '/srv',
        StopSignal: 'SIGQUIT',
        Healthcheck: { Test: ['CMD', 'true'], Interval: 10_000_000_000 },
      },
    });
    const { code, d } = await diffJson(`${layout(A, B, 'config')}:a`, `${layout(A, B, 'config')}:b`);
    expect(code).toBe(1);
    expect(d.config).toEqual([
      { field: 'Env', key: 'PATH', kind: 'changed', a: '/usr/bin:/bin', b: '/usr/local/bin:/usr/bin:/bin' },
      { field: 'Env', key: 'LANG', kind: 'removed', a: 'C' },
      { field: 'Env', key: 'TZ', kind: 'added', b: 'UTC' },
      { field: 'Labels', key: 'tier', kind: 'removed', a: 'front' },
      { field: 'Labels', key: 'owner', kind: 'added', b: 'ops' },
      { field: 'ExposedPorts', key: '80/tcp', kind: 'removed', a: null },
      { field: 'ExposedPorts', key: '443/tcp', kind: 'added', b: null },
      { field: 'Volumes', key: '/cache', kind: 'added', b: null },
      { field: 'Entrypoint', kind: 'changed', a: ['/entry'], b: ['/entry', '--json'] },
      { field: 'User', kind: 'changed', a: 'app', b: '1000:1000' },
      { field: 'StopSignal', kind: 'changed', a: 'SIGTERM', b: 'SIGQUIT' },
      { field: 'Healthcheck', kind: 'changed', a: base.Healthcheck, b: { Test: ['CMD', 'true'], Interval: 10_000_000_000 } },
    ]);
    expect(d.summary.config).toEqual({ added: 4, removed: 3, changed: 5 });
    // The same files: only the config differs.
    expect(d.summary.files).toMatchObject({ added: 0, removed: 0, modified: 0 });
  });

  it('treats empty values as absent, as tools write them differently', async () => {
    const A = image({ layers, config: { ...base, Volumes: null, OnBuild: [], Domainname: '' } });
    const B = image({ layers, config: { ...base, Labels: { tier: 'front', team: 'web' } } });
    const { code, d } = await diffJson(`${layout(A, B, 'empty')}:a`, `${layout(A, B, 'empty')}:b`);
    expect(d.config).toEqual([{ field: 'Volumes', key: '/data', kind: 'added', b: null }]);
    expect(code).toBe(1);
  });
});

describe('--semantic and --ignore', () => {
  const files = (mtime: number, extra: (t: TarBuilder) => TarBuilder = (t) => t) =>
    extra(tar().dir('app/', { mtime }).file('app/main.js', 'main()\n', { mtime }).dir('var/', { mtime }).dir('var/log/', { mtime }).file('var/log/build.log', `built at ${mtime}\n`, { mtime }));
  const hist = (t: string): HistoryInput[] => [{ created: t, created_by: 'COPY . /app' }];

  it('a rebuild that changed only times: different by default, the same with --semantic', async () => {
    const A = image({ created: '2024-01-01T00:00:00Z', history: hist('2024-01-01T00:00:00Z'), layers: [{ tar: files(1_700_000_000) }] });
    const B = image({ created: '2024-06-01T00:00:00Z', history: hist('2024-06-01T00:00:00Z'), layers: [{ tar: files(1_710_000_000) }], extra: { docker_version: '26.1.0' } });
    const file = layout(A, B, 'rebuild');
    const strict = await diffJson(`${file}:a`, `${file}:b`);
    expect(strict.code).toBe(1);
    expect(strict.d.summary.identity.counted).toEqual(['id', 'created']);
    expect(strict.d.files.modified.map((m) => [m.path, m.changes])).toEqual([
      ['/app', ['mtime']],
      ['/app/main.js', ['mtime']],
      ['/var', ['mtime']],
      ['/var/log', ['mtime']],
      ['/var/log/build.log', ['content', 'mtime']],
    ]);
    expect(strict.d.config).toEqual([{ field: 'docker_version', kind: 'added', b: '26.1.0' }]);

    const semantic = await diffJson(`${file}:a`, `${file}:b`, '--semantic');
    expect(semantic.d.files.modified.map((m) => [m.path, m.changes])).toEqual([['/var/log/build.log', ['content']]]);
    expect(semantic.d.history).toEqual({ compared: false, added: [], removed: [] });
    expect(semantic.d.config).toEqual([]);
    expect(semantic.code).toBe(1);

    const quiet = await run(['diff', `${file}:a`, `${file}:b`, '--semantic', '--ignore', '/var/log/**']);
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toContain('Summary: the images are the same (with --semantic --ignore /var/log/**)\n');
    expect(quiet.stdout).toContain('  history: not compared (--semantic)\n');
  });

  it('--ignore drops paths from the files and packages, with ** at any depth', async () => {
    const history = [{ created: '2024-01-01T00:00:00Z', created_by: 'COPY . /' }];
    const A = image({ history, layers: [{ tar: tar().file('app/a.pyc', '1').file('app/lib/b.pyc', '1').file('app/keep.py', '1').file('tmp/x', '1') }] });
    const B = image({ history, layers: [{ tar: tar().file('app/a.pyc', '2').file('app/lib/b.pyc', '2').file('app/keep.py', '2').file('tmp/y', '1') }] });
    const file = layout(A, B, 'ignore');
    const all = await diffJson(`${file}:a`, `${file}:b`);
    expect(Object.keys(fileSummary(all.d)).sort()).toEqual(['/app/a.pyc', '/app/keep.py', '/app/lib/b.pyc', '/tmp/x', '/tmp/y']);
    const some = await diffJson(`${file}:a`, `${file}:b`, '--ignore', '**/*.pyc', '--ignore', '/tmp');
    expect(fileSummary(some.d)).toEqual({ '/app/keep.py': 'modified: content' });
    expect(some.code).toBe(1);
    const none = await run(['diff', `${file}:a`, `${file}:b`, '--ignore', '*.pyc', '--ignore', 'tmp/**', '--ignore', '/app/keep.py']);
    // The image IDs differ, but with --ignore only what is inside counts: the same.
    expect(none.code).toBe(0);
  });

  it('globs: * within a name, ** across names, anchored when the pattern has a slash', () => {
    const m = (p: string) => pathMatcher([p])!;
    expect(m('/var/log/**')('/var/log/apt/history.log')).toBe(true);
    expect(m('/var/log/**')('/var/log')).toBe(false);
    expect(m('/var/log')('/var/log/apt/history.log')).toBe(true);
    expect(m('**/*.pyc')('/x.pyc')).toBe(true);
    expect(m('**/*.pyc')('/usr/lib/python3/a/b.pyc')).toBe(true);
    expect(m('*.pyc')('/usr/lib/b.pyc')).toBe(true);
    expect(m('*.pyc')('/usr/lib/b.pyc.txt')).toBe(false);
    expect(m('usr/*/b.pyc')('/usr/lib/b.pyc')).toBe(true);
    expect(m('usr/*/b.pyc')('/usr/lib/x/b.pyc')).toBe(false);
    expect(m('/usr/**/b.pyc')('/usr/b.pyc')).toBe(true);
    expect(m('/etc/[ab]*')('/etc/apt')).toBe(true);
    expect(m('/etc/[!ab]*')('/etc/apt')).toBe(false);
    expect(m('/etc/?')('/etc/x')).toBe(true);
    expect(m('/a\\*b')('/a*b')).toBe(true);
    expect(m('/a\\*b')('/axb')).toBe(false);
    expect(m('**')('/')).toBe(false);
    expect(compileGlob('/var/log/**').source).toBe('^var\\/log\\/.*(?:\\/.*)?$');
  });
});

describe('packages', () => {
  const STATUS_A = [
    'Package: base-files\nStatus: install ok installed\nArchitecture: amd64\nVersion: 12.4+deb12u5\nDescription: base\n multi-line description\n',
    'Package: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88.1-10+deb12u4\n',
    'Package: libc6\nStatus: install ok installed\nMulti-Arch: same\nArchitecture: amd64\nVersion: 2.36-9+deb12u3\n',
    'Package: oldpkg\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1.0\n',
  ].join('\n');
  const STATUS_B = [
    'Package: base-files\nStatus: install ok installed\nArchitecture: amd64\nVersion: 12.4+deb12u6\n',
    'Package: libc6\nStatus: install ok installed\nMulti-Arch: same\nArchitecture: amd64\nVersion: 2.36-9+deb12u3\n',
    'Package: libc6\nStatus: install ok installed\nMulti-Arch: same\nArchitecture: i386\nVersion: 2.36-9+deb12u3\n',
    'Package: wget\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.21.3-1+b2\n',
  ].join('\n');
  const APK_A = 'C:Q1abc=\nP:musl\nV:1.2.4-r1\nA:x86_64\n\nC:Q1def=\nP:busybox\nV:1.36.1-r2\nA:x86_64\n\n';
  const APK_B = 'C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\n\nC:Q1ghi=\nP:ca-certificates\nV:20230506-r0\nA:x86_64\n\n';
  const pkgJson = (name: string, version: string) => JSON.stringify({ name, version, description: 'x' });
  const metadata = (name: string, version: string) => `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nSummary: s\n\nName: not-a-header\n`;

  function imageA(): BuiltImage {
    return image({
      layers: [
        { tar: tar().file('var/lib/dpkg/status', 'Package: base-files\nStatus: install ok installed\nVersion: 12.0\n').file('lib/apk/db/installed', APK_A) },
        {
          tar: tar()
            .file('var/lib/dpkg/status', STATUS_A)
            .file('usr/lib/node_modules/npm/package.json', pkgJson('npm', '9.8.1'))
            .file('app/node_modules/left-pad/package.json', pkgJson('left-pad', '1.3.0'))
            .file('app/node_modules/@types/node/package.json', pkgJson('@types/node', '20.1.0'))
            .file('app/node_modules/left-pad/lib/package.json', pkgJson('not-a-package', '0.0.0'))
            .file('usr/lib/python3/dist-packages/Requests-2.28.1.dist-info/METADATA', metadata('Requests', '2.28.1'))
            .file('var/lib/rpm/rpmdb.sqlite', 'SQLite format 3\0...'),
        },
      ],
    });
  }

  function imageB(): BuiltImage {
    return image({
      layers: [
        {
          tar: tar()
            .file('var/lib/dpkg/status', STATUS_B)
            .file('lib/apk/db/installed', APK_B)
            .file('usr/lib/node_modules/npm/package.json', pkgJson('npm', '10.2.0'))
            .file('app/node_modules/@types/node/package.json', pkgJson('@types/node', '20.1.0'))
            .file('app/node_modules/@scope/util/package.json', pkgJson('@scope/util', '0.1.0'))
            .file('usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA', metadata('requests', '2.31.0'))
            .file('usr/lib/python3/dist-packages/Flask-3.0.0.dist-info/METADATA', metadata('Flask', '3.0.0'))
            .file('var/lib/rpm/rpmdb.sqlite', 'SQLite format 3\0.,.'),
        },
      ],
    });
  }

  it('lists packages added, removed and with another version, per ecosystem', async () => {
    const file = layout(imageA(), imageB(), 'packages');
    const { code, d } = await diffJson(`${file}:a`, `${file}:b`);
    expect(code).toBe(1);
    expect(d.packages.changed).toEqual([
      { ecosystem: 'apk', name: 'musl', a: '1.2.4-r1', b: '1.2.4-r2' },
      { ecosystem: 'deb', name: 'base-files', a: '12.4+deb12u5', b: '12.4+deb12u6' },
      { ecosystem: 'npm', name: 'npm', a: '9.8.1', b: '10.2.0' },
      { ecosystem: 'python', name: 'requests', a: '2.28.1', b: '2.31.0' },
    ]);
    expect(d.packages.added).toEqual([
      { ecosystem: 'apk', name: 'ca-certificates', version: '20230506-r0' },
      { ecosystem: 'deb', name: 'libc6:i386', version: '2.36-9+deb12u3' },
      { ecosystem: 'deb', name: 'wget', version: '1.21.3-1+b2' },
      { ecosystem: 'npm', name: '@scope/util', version: '0.1.0' },
      { ecosystem: 'python', name: 'flask', version: '3.0.0' },
    ]);
    expect(d.packages.removed).toEqual([
      { ecosystem: 'apk', name: 'busybox', version: '1.36.1-r2' },
      { ecosystem: 'deb', name: 'curl', version: '7.88.1-10+deb12u4' },
      { ecosystem: 'npm', name: 'left-pad', version: '1.3.0' },
    ]);
    expect(d.packages.databases).toEqual([
      { ecosystem: 'apk', kind: 'apk-installed', path: '/lib/apk/db/installed', a: 2, b: 2 },
      { ecosystem: 'deb', kind: 'dpkg-status', path: '/var/lib/dpkg/status', a: 3, b: 4 },
      { ecosystem: 'rpm', kind: 'rpm-sqlite', path: '/var/lib/rpm/rpmdb.sqlite', a: null, b: null },
      { ecosystem: 'npm', kind: 'npm-package.json', path: '**/node_modules/*/package.json', a: 3, b: 3 },
      { ecosystem: 'python', kind: 'python-metadata', path: '**/*.dist-info/METADATA', a: 1, b: 2 },
    ]);
    // SQLite cannot be read without a dependency: said, not guessed.
    expect(d.packages.notes).toEqual([
      '/var/lib/rpm/rpmdb.sqlite: an rpm database (SQLite), in both images, with different content; layerlens does not read SQLite without rpm, so rpm packages are not compared',
    ]);
    const r = await run(['diff', `${file}:a`, `${file}:b`]);
    expect(r.stdout).toContain('  packages: 5 added, 3 removed, 4 changed\n');
    expect(r.stdout).toContain('  deb /var/lib/dpkg/status: 3 → 4 packages\n');
    expect(r.stdout).toMatch(/│ ~ │ deb +│ base-files +│ 12\.4\+deb12u5 +│ 12\.4\+deb12u6 +│/);
    expect(r.stdout).toContain('note: /var/lib/rpm/rpmdb.sqlite: an rpm database (SQLite)');
  });

  it('reads a database whose bytes no layer pass kept (a hard link to a file of a lower layer) in one more pass', async () => {
    const A = image({ layers: [{ tar: tar().file('var/lib/dpkg/status', 'Package: a\nVersion: 1\n') }] });
    const B = image({ layers: [{ tar: tar().file('srv/saved-status', 'Package: a\nVersion: 2\n') }, { tar: tar().dir('var/').dir('var/lib/').dir('var/lib/dpkg/').hardlink('var/lib/dpkg/status', 'srv/saved-status') }] });
    const file = layout(A, B, 'hardlinked-db');
    const { d } = await diffJson(`${file}:a`, `${file}:b`);
    expect(d.packages.changed).toEqual([{ ecosystem: 'deb', name: 'a', a: '1', b: '2' }]);
  });

  it('leaves out databases under --ignore', async () => {
    const file = layout(imageA(), imageB(), 'packages-ignored');
    const { d } = await diffJson(`${file}:a`, `${file}:b`, '--ignore', '**/node_modules', '--ignore', '/var/lib/rpm/**');
    expect(d.packages.databases.map((x) => x.ecosystem)).toEqual(['apk', 'deb', 'python']);
    expect(d.packages.notes).toEqual([]);
  });

  // Real Berkeley DB files with real rpm headers, checked with rpm itself (test/fixtures/rpm/README.md).
  const RPM_A = fs.readFileSync('test/fixtures/rpm/Packages-a');
  const RPM_B = fs.readFileSync('test/fixtures/rpm/Packages-b');

  it('reads the rpm database in its Berkeley DB form without rpm', async () => {
    expect(isBerkeleyHash(RPM_A)).toBe(true);
    expect(parseRpmBerkeley(RPM_A)).toEqual([
      { name: 'hello', epoch: null, version: '1.0', release: '3', arch: 'noarch' },
      { name: 'world', epoch: 2, version: '2.5.1', release: '1', arch: 'noarch' },
    ]);
    expect(parseRpmBerkeley(RPM_B).map((p) => `${p.name} ${rpmVersion(p)}`)).toEqual(['hello 1.1-1', 'extra 0.1-1']);
    const A = image({ layers: [{ tar: tar().file('var/lib/rpm/Packages', RPM_A) }] });
    const B = image({ layers: [{ tar: tar().file('var/lib/rpm/Packages', RPM_B) }] });
    const file = layout(A, B, 'rpm');
    const { code, d } = await diffJson(`${file}:a`, `${file}:b`);
    expect(code).toBe(1);
    expect(d.packages).toEqual({
      databases: [{ ecosystem: 'rpm', kind: 'rpm-bdb', path: '/var/lib/rpm/Packages', a: 2, b: 2 }],
      added: [{ ecosystem: 'rpm', name: 'extra', version: '0.1-1' }],
      removed: [{ ecosystem: 'rpm', name: 'world', version: '2:2.5.1-1' }],
      changed: [{ ecosystem: 'rpm', name: 'hello', a: '1.0-3', b: '1.1-1' }],
      notes: [],
    });
  });

  it('says so when a database is larger than it reads, with the bounds it reads within', async () => {
    const STATUS = 'Package: base-files\nStatus: install ok installed\nVersion: 12.0\n';
    // One byte past the largest database kept while reading and read afterwards.
    const huge = Buffer.alloc(DEFAULT_MAX_KEEP + 1, 0x20);
    Buffer.from(STATUS).copy(huge);
    const A = image({ layers: [{ tar: tar().file('var/lib/dpkg/status', STATUS) }] });
    const B = image({ layers: [{ tar: tar().file('var/lib/dpkg/status', huge) }] });
    const file = layout(A, B, 'dpkg-huge');
    const { code, d } = await diffJson(`${file}:a`, `${file}:b`);
    expect(code).toBe(1);
    expect(d.packages.notes).toEqual(['/var/lib/dpkg/status in the second image: not read: larger than layerlens reads (64 MiB a database, 256 MiB of them in all)']);
    expect(d.packages.removed).toEqual([]);
  });

  it('says so when a database cannot be read, and goes on', async () => {
    const A = image({ layers: [{ tar: tar().file('var/lib/rpm/Packages', RPM_A) }] });
    const B = image({ layers: [{ tar: tar().file('var/lib/rpm/Packages', Buffer.alloc(4096, 7)) }] });
    const file = layout(A, B, 'rpm-broken');
    const { code, d } = await diffJson(`${file}:a`, `${file}:b`);
    expect(code).toBe(1);
    expect(d.packages.notes).toEqual(['/var/lib/rpm/Packages in the second image: not read: not a Berkeley DB hash database']);
    expect(d.packages.databases).toEqual([{ ecosystem: 'rpm', kind: 'rpm-bdb', path: '/var/lib/rpm/Packages', a: 2, b: null }]);
    // Not read is not the same as removed.
    expect(d.packages.removed).toEqual([]);
  });

  it('parses each database format', () => {
    expect(parseDpkgStatus('Package: x\nVersion: 1:2.0-1\nStatus: install ok installed\n\nPackage: y\nStatus: purge ok not-installed\n')).toEqual([{ ecosystem: 'deb', name: 'x', version: '1:2.0-1' }]);
    expect(parseApkInstalled('P:a\nV:1\n\nP:b\nV:2')).toEqual([
      { ecosystem: 'apk', name: 'a', version: '1' },
      { ecosystem: 'apk', name: 'b', version: '2' },
    ]);
    expect(parsePythonMetadata('Name: Zope.Interface\nVersion: 6.0\n')).toEqual([{ ecosystem: 'python', name: 'zope-interface', version: '6.0' }]);
    expect(databaseKind('/var/lib/dpkg/status.d/libc6')).toBe('dpkg-status.d');
    expect(databaseKind('/var/lib/dpkg/status.d/libc6.md5sums')).toBeUndefined();
    expect(databaseKind('/usr/lib/sysimage/rpm/rpmdb.sqlite')).toBe('rpm-sqlite');
    expect(databaseKind('/var/lib/rpm/Packages')).toBe('rpm-bdb');
    expect(databaseKind('/a/node_modules/.bin/package.json')).toBeUndefined();
    expect(databaseKind('/a/node_modules/@s/n/package.json')).toBe('npm-package.json');
    expect(databaseKind('/a/node_modules/@s/package.json')).toBeUndefined();
  });

  it('DATABASE_NAMES matches the tar name of every database that is read, however the name is spelled', () => {
    const read = [
      '/var/lib/dpkg/status',
      '/var/lib/dpkg/status.d/libc6',
      '/lib/apk/db/installed',
      '/usr/lib/apk/db/installed',
      '/usr/lib/node_modules/npm/package.json',
      '/app/node_modules/@types/node/package.json',
      '/node_modules/x/package.json',
      '/usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA',
      '/var/lib/rpm/Packages',
      '/usr/lib/sysimage/rpm/Packages',
      '/usr/share/rpm/Packages',
    ];
    for (const p of read) {
      const kind = databaseKind(p);
      expect(kind !== undefined && isReadable(kind), p).toBe(true);
      for (const name of [p, p.slice(1), `.${p}`]) expect(DATABASE_NAMES.test(name), name).toBe(true);
    }
    // Not every file: a thread keeps only what may be a database.
    for (const name of ['etc/status', 'app/package.json', 'usr/share/doc/METADATA', 'var/lib/rpm/rpmdb.sqlite']) expect(DATABASE_NAMES.test(name), name).toBe(false);
  });
});

describe('errors', () => {
  it('exits 2 with one line when an image cannot be opened', async () => {
    const r = await run(['diff', `${APP}:v1`, 'no-such-file.tar']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^layerlens: error: no-such-file\.tar: .*\n$/);
  });

  it('reads two images of one stream on standard input, reading it once', async () => {
    const r = await run(['diff', '--format', 'json', '--', '-:v1', '-:v2'], { stdin: fs.readFileSync(MULTI) });
    expect(r.code).toBe(1);
    expect(fileSummary(parseJson<DiffJson>(r))).toEqual(APP_FILES);
  });

  it('exits 2 on a bad flag value', async () => {
    expect((await run(['diff', `${APP}:v1`, `${APP}:v2`, '--limit', 'many'])).code).toBe(2);
    expect((await run(['diff', `${APP}:v1`, `${APP}:v2`, '--platform', 'linux'])).code).toBe(2);
  });

  it('chooses per side with --platform A,B', async () => {
    const { code, d } = await diffJson('samples/multiarch-oci:latest', 'samples/multiarch-oci:latest', '--platform', 'linux/amd64,linux/arm64/v8');
    expect(code).toBe(1);
    expect(d.identity.find((f) => f.field === 'platform')).toMatchObject({ a: 'linux/amd64', b: 'linux/arm64/v8', counts: true });
  });
});

