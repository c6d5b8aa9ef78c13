// The command line on images built in memory: each command's JSON, its table, exit codes and
// usage errors.
import { afterAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/main.js';
import { NOW, parseJson, run } from './helpers/cli.js';
import { dockerArchive, hex, image, ociLayout, tar, tempDir, type BuiltImage, type HistoryInput } from './helpers/builders.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const BASE_CMD = '/bin/sh -c #(nop) ADD file:0123456789abcdef0123456789abcdef0123456789abcdef in / ';
const HISTORY: HistoryInput[] = [
  { created: '2026-11-20T00:00:00Z', created_by: BASE_CMD },
  { created: '2026-11-20T00:00:01Z', created_by: '/bin/sh -c #(nop)  CMD ["/bin/sh"]', empty_layer: true },
  { created: '2026-11-26T12:00:00Z', created_by: 'RUN /bin/sh -c apk add --no-cache curl\tca-certificates # buildkit', comment: 'buildkit.dockerfile.v0' },
];

/** Two plain layers of fixed content (so their sizes are fixed), three history entries. */
function build(history: HistoryInput[] = HISTORY, layers = 2): BuiltImage {
  const tars = [tar().dir('bin/').file('bin/sh', 'x'.repeat(1500), { mode: 0o755 }), tar().dir('usr/').file('usr/bin/curl', 'y'.repeat(100), { mode: 0o755 }), tar().file('extra', 'z')];
  return image({
    created: '2026-11-26T12:00:00Z',
    layers: tars.slice(0, layers).map((t) => ({ tar: t })),
    history,
    config: { Env: ['PATH=/usr/bin:/bin'], Cmd: ['/bin/sh'], WorkingDir: '/app', User: 'app' },
  });
}

const IMG = build();
const ARCHIVE = tmp.file('app.tar', dockerArchive([{ image: IMG, repoTags: ['app:v1'] }]).toTar());
const SHORT = hex(IMG.config.digest).slice(0, 12);
const [L0, L1] = IMG.layers as [BuiltImage['layers'][0], BuiltImage['layers'][0]];

describe('images', () => {
  it('prints one docker-style row per tag', async () => {
    const r = await run(['images', ARCHIVE]);
    expect(r).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        'REPOSITORY   TAG       IMAGE ID       CREATED        SIZE      PLATFORM',
        `app          v1        ${SHORT}   12 hours ago   6.14kB    linux/amd64`,
        '',
      ].join('\n'),
    });
    // SIZE is the layers as stored: 3584 + 2560 bytes of plain tar.
    expect([L0.size, L1.size]).toEqual([3584, 2560]);
  });

  it('prints exact bytes and RFC 3339 times with --human=false, and full IDs with --no-trunc', async () => {
    const r = await run(['images', ARCHIVE, '--human=false', '--no-trunc']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`REPOSITORY   TAG       ${'IMAGE ID'.padEnd(71 + 3)}CREATED AT             SIZE      PLATFORM`);
    expect(r.stdout.split('\n')[1]).toBe(`app          v1        ${IMG.config.digest}   2026-11-26T12:00:00Z   6144      linux/amd64`);
  });

  it('gives JSON records of repository, tag, id, manifestDigest, created, size, platform, layers', async () => {
    const r = await run(['images', ARCHIVE, '--format', 'json']);
    expect(r.code).toBe(0);
    expect(parseJson(r)).toEqual([
      { repository: 'app', tag: 'v1', id: IMG.config.digest, manifestDigest: null, created: '2026-11-26T12:00:00Z', size: 6144, platform: 'linux/amd64', layers: 2 },
    ]);
  });
});

describe('inspect', () => {
  it("prints docker image inspect's fields as a JSON array of one object, indented by four", async () => {
    const r = await run(['inspect', ARCHIVE]);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('[\n    {\n        "Id": ')).toBe(true);
    expect(parseJson(r)).toEqual([
      {
        Id: IMG.config.digest,
        RepoTags: ['app:v1'],
        RepoDigests: [],
        Parent: '',
        Comment: '',
        Created: '2026-11-26T12:00:00Z',
        DockerVersion: '',
        Author: '',
        Config: { Env: ['PATH=/usr/bin:/bin'], Cmd: ['/bin/sh'], WorkingDir: '/app', User: 'app' },
        Architecture: 'amd64',
        Os: 'linux',
        Size: 6144,
        RootFS: { Type: 'layers', Layers: [L0.diffId, L1.diffId] },
        Metadata: { LastTagTime: '0001-01-01T00:00:00Z' },
      },
    ]);
  });

  it('adds the manifest descriptor and RepoDigests where a manifest exists', async () => {
    const dir = ociLayout([{ image: IMG, refName: 'docker.io/library/app:v1' }]).writeTo(`${tmp.dir}/layout`);
    const [doc] = parseJson<Array<Record<string, unknown>>>(await run(['inspect', dir]));
    expect(doc!.RepoTags).toEqual(['docker.io/library/app:v1']);
    expect(doc!.RepoDigests).toEqual([`app@${IMG.manifest.digest}`]);
    expect(doc!.Descriptor).toEqual({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: IMG.manifest.digest, size: IMG.manifest.size });
  });
});

describe('history', () => {
  it("prints docker history's table: newest first, commands cut to 45 columns, tabs as spaces", async () => {
    const r = await run(['history', ARCHIVE]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        'IMAGE          CREATED        CREATED BY                                      SIZE      COMMENT',
        `${SHORT}   12 hours ago   RUN /bin/sh -c apk add --no-cache curl ca-ce…   2.56kB    buildkit.dockerfile.v0`,
        '<missing>      7 days ago     /bin/sh -c #(nop)  CMD ["/bin/sh"]              0B        ',
        '<missing>      7 days ago     /bin/sh -c #(nop) ADD file:0123456789abcdef0…   3.58kB    ',
        '',
      ].join('\n'),
    );
  });

  it('prints whole IDs and commands with --no-trunc, and bytes and times with --human=false', async () => {
    const r = await run(['history', ARCHIVE, '--no-trunc', '--human=false']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^IMAGE +CREATED AT +CREATED BY +SIZE +COMMENT$/);
    expect(lines[1]).toMatch(new RegExp(`^${IMG.config.digest} +2026-11-26T12:00:00Z +RUN /bin/sh -c apk add --no-cache curl ca-certificates # buildkit +2560 +buildkit\\.dockerfile\\.v0$`));
    expect(lines[3]).toContain(BASE_CMD);
  });

  it('gives one JSON record per history entry in config order: created, createdBy, comment, emptyLayer, layerIndex, size', async () => {
    const r = await run(['history', ARCHIVE, '--format', 'json']);
    expect(r.code).toBe(0);
    expect(parseJson(r)).toEqual([
      { created: '2026-11-20T00:00:00Z', createdBy: BASE_CMD, comment: '', emptyLayer: false, layerIndex: 0, size: L0.size },
      { created: '2026-11-20T00:00:01Z', createdBy: '/bin/sh -c #(nop)  CMD ["/bin/sh"]', comment: '', emptyLayer: true, layerIndex: null, size: 0 },
      { created: '2026-11-26T12:00:00Z', createdBy: HISTORY[2]!.created_by, comment: 'buildkit.dockerfile.v0', emptyLayer: false, layerIndex: 1, size: L1.size },
    ]);
  });

  it('reports, and does not crash on, history with more layer-making entries than layers', async () => {
    const im = build([...HISTORY, { created: '2026-11-26T13:00:00Z', created_by: 'COPY . /app' }]);
    const file = tmp.file('more.tar', dockerArchive([{ image: im, repoTags: ['more:1'] }]).toTar());
    const json = await run(['history', file, '--format', 'json']);
    expect(json.code).toBe(0);
    expect(parseJson<Array<{ layerIndex: number | null; size: number }>>(json).map((h) => [h.layerIndex, h.size])).toEqual([
      [0, L0.size],
      [null, 0],
      [1, L1.size],
      [null, 0],
    ]);
    const table = await run(['history', file]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('\nnote: history has 3 entries that made a layer but the image has 2 layers\n');
  });

  it('reports, and does not crash on, history with fewer layer-making entries than layers', async () => {
    const im = build(HISTORY.slice(0, 2), 3);
    const file = tmp.file('fewer.tar', dockerArchive([{ image: im, repoTags: ['fewer:1'] }]).toTar());
    const json = await run(['history', file, '--format', 'json']);
    expect(json.code).toBe(0);
    expect(parseJson<Array<{ layerIndex: number | null }>>(json).map((h) => h.layerIndex)).toEqual([0, null]);
    const table = await run(['history', file]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('\nnote: history has 1 entry that made a layer but the image has 3 layers (layers 1, 2 have no history entry)\n');
    const analyze = await run(['analyze', file, '--format', 'json']);
    expect(analyze.code).toBe(0);
    expect(parseJson<{ warnings: string[] }>(analyze).warnings).toEqual(['history has 1 entry that made a layer but the image has 3 layers']);
  });

  it('prints an image without history as an empty table', async () => {
    const im = build([]);
    const file = tmp.file('nohistory.tar', dockerArchive([{ image: im }]).toTar());
    const r = await run(['history', file, '--format', 'json']);
    expect(r.code).toBe(0);
    expect(parseJson(r)).toEqual([]);
  });
});

describe('layers', () => {
  it('reads every layer and gives index, digest, diffId, mediaType, compression, sizes, entries, createdBy, verified', async () => {
    const r = await run(['layers', ARCHIVE, '--format', 'json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(parseJson(r)).toEqual([
      { index: 0, digest: L0.digest, diffId: L0.diffId, mediaType: 'application/vnd.docker.image.rootfs.diff.tar', compression: 'none', compressedSize: L0.size, size: L0.tar.length, entries: 2, createdBy: BASE_CMD, verified: true },
      { index: 1, digest: L1.digest, diffId: L1.diffId, mediaType: 'application/vnd.docker.image.rootfs.diff.tar', compression: 'none', compressedSize: L1.size, size: L1.tar.length, entries: 2, createdBy: HISTORY[2]!.created_by, verified: true },
    ]);
  });
});

describe('analyze', () => {
  it('gives the image, its layers, its history and warnings in one JSON document', async () => {
    const r = await run(['analyze', ARCHIVE, '--format', 'json']);
    expect(r.code).toBe(0);
    const doc = parseJson<{ image: unknown; layers: unknown[]; history: unknown[]; warnings: unknown[] }>(r);
    expect(Object.keys(doc)).toEqual(['schemaVersion', 'image', 'layers', 'history', 'waste', 'warnings']);
    expect((doc as unknown as { schemaVersion: number }).schemaVersion).toBe(1);
    // bin/sh (1500 bytes) and usr/bin/curl (100 bytes), both visible: nothing wasted.
    expect((doc as unknown as { waste: unknown }).waste).toMatchObject({ storedBytes: 1600, visibleBytes: 1600, wastedBytes: 0, efficiency: 1, pathCount: 0, paths: [] });
    expect(doc.image).toEqual({
      id: IMG.config.digest,
      repoTags: ['app:v1'],
      refNames: [],
      manifestDigest: null,
      manifestMediaType: null,
      format: 'docker-archive',
      container: 'tar',
      platform: 'linux/amd64',
      created: '2026-11-26T12:00:00Z',
      author: null,
      user: 'app',
      workingDir: '/app',
      entrypoint: null,
      cmd: ['/bin/sh'],
      storedSize: 6144,
      size: 6144,
      layerCount: 2,
    });
    expect(doc.layers).toHaveLength(2);
    expect(doc.history).toEqual(parseJson(await run(['history', ARCHIVE, '--format', 'json'])));
    expect(doc.warnings).toEqual([]);
  });

  it('prints a readable overview by default', async () => {
    const r = await run(['analyze', ARCHIVE]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').slice(0, 10)).toEqual([
      'Image       app:v1',
      `ID          ${IMG.config.digest}`,
      'Manifest    none (this archive stores no manifest blob)',
      'Platform    linux/amd64',
      'Format      docker-archive (tar)',
      'Created     2026-11-26T12:00:00Z (12 hours ago)',
      'Size        6.14kB uncompressed, 6.14kB stored, 2 layers',
      'User        app',
      'WorkingDir  /app',
      'Command     ["/bin/sh"]',
    ]);
  });
});

describe('changes', () => {
  it('prints, layer by layer as each is read, what one rendering of all the layers prints', async () => {
    const { openImage } = await import('../src/source/open-image.js');
    const { buildUnion } = await import('../src/fs/build.js');
    const { alignHistory } = await import('../src/image/history.js');
    const { renderChanges } = await import('../src/report/tree.js');
    for (const target of ['samples/tiny.docker-archive.tar', 'samples/app-oci:v2']) {
      const { image: im, file } = await openImage(target);
      try {
        const { scans, changeSets } = await buildUnion(im.layers, { verify: true, file: im.file });
        const history = alignHistory(im.config.history, im.layers.length);
        const layers = changeSets.map((set) => {
          const h = history.layerEntry[set.layer];
          return { set, digest: scans[set.layer]?.digest, createdBy: h === null || h === undefined ? undefined : im.config.history[h]?.createdBy };
        });
        expect(layers.flatMap((l) => l.set.changes).length).toBeGreaterThan(10);
        for (const format of ['json', 'table', 'markdown'] as const) {
          const r = await run(['changes', target, '--format', format]);
          expect(r.code, r.stderr).toBe(0);
          expect(r.stdout, `${target} ${format}`).toBe(renderChanges(layers, { format, human: true, noTrunc: false, now: NOW, color: false }));
        }
      } finally {
        await file.close();
      }
    }
  });

  it('writes JSON arrays in pieces as json() writes them whole', async () => {
    const { json, jsonArrayChunks, jsonArrayFrom, jsonArrayItems } = await import('../src/report/format.js');
    const items = [{ a: 1, b: [1, 2, { c: 'x' }], d: {} }, [], 'caf\udce9', null, { e: [] }];
    for (const n of [0, 1, 2, 5]) {
      const some = items.slice(0, n);
      expect([...jsonArrayChunks(some, 2)].join('')).toBe(json(some));
      expect([...jsonArrayFrom(some.map((x) => jsonArrayItems([x])))].join('')).toBe(json(some));
    }
  });
});

describe('exit codes and usage errors', () => {
  it('exits 0 on success and 2 on an image that cannot be read', async () => {
    expect((await run(['images', ARCHIVE])).code).toBe(0);
    const broken = tmp.file('broken.tar', Buffer.from(ARCHIVE).subarray(0, 0));
    expect((await run(['images', broken])).code).toBe(2);
  });

  it.each([
    [['images'], /^layerlens: error: missing required argument 'FILE' \(run with --help for usage\)\n$/],
    [['images', 'x.tar', '--bogus'], /^layerlens: error: unknown option '--bogus' \(run with --help for usage\)\n$/],
    [['imagez', 'x.tar'], /^layerlens: error: unknown command 'imagez' \(Did you mean images\?\) \(run with --help for usage\)\n$/],
    [['history', 'a.tar', 'b.tar'], /^layerlens: error: too many arguments for 'history'\. Expected 1 argument but got 2\. \(run with --help for usage\)\n$/],
  ])('%j exits 2 with one line', async (args, stderr) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(stderr);
  });

  it.each([
    [['images', '<archive>', '--format', 'xml'], 'layerlens: error: unknown --format "xml"; use one of table, json, markdown\n'],
    [['images', '<archive>', '--human=maybe'], 'layerlens: error: --human takes true or false, not "maybe"\n'],
    [['inspect', '<archive>', '--format', 'table'], 'layerlens: error: unknown --format "table"; use one of json\n'],
    [['history', '<archive>', '--platform', 'linux'], 'layerlens: error: --platform "linux" is not os/arch[/variant]\n'],
    [['history', '<archive>:app:v1', '--image', 'app:v2'], 'layerlens: error: two different images asked for: "app:v1" and --image "app:v2"\n'],
    [['history', '<archive>:nope'], `layerlens: error: <archive>: no image matches "nope"; it holds app:v1 (linux/amd64, ID ${SHORT})\n`],
  ])('%j exits 2 with one line that says what is wrong', async (args, stderr) => {
    const r = await run(args.map((a) => a.replace('<archive>', ARCHIVE)));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(stderr.replace('<archive>', ARCHIVE));
  });

  it('picks the image FILE:REF names, as --image does', async () => {
    const a = await run(['history', `${ARCHIVE}:app:v1`, '--format', 'json']);
    const b = await run(['history', ARCHIVE, '--image', 'app:v1', '--format', 'json']);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
  });

  it('prints help and exits 0 with --help', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: layerlens /);
  });
});

describe('start-up', () => {
  const io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, now: Date.now };
  it('a run of one command builds only that command; help and unknown commands see them all', async () => {
    expect((await buildProgram(io, 'images')).commands.map((c) => c.name())).toEqual(['images']);
    expect((await buildProgram(io, 'report')).commands.map((c) => c.name())).toEqual(['report']);
    const all = ['images', 'inspect', 'history', 'layers', 'analyze', 'tree', 'changes', 'cat', 'export', 'diff', 'ci', 'report', 'waste'];
    expect((await buildProgram(io)).commands.map((c) => c.name())).toEqual(all);
    expect((await buildProgram(io, '--help')).commands.map((c) => c.name())).toEqual(all);
    expect((await buildProgram(io, '--version')).commands).toEqual([]);
    expect((await run(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    const r = await run(['imags', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'imags' \(Did you mean images\?\)/);
    expect((await run(['--help'])).stdout).toContain('waste [options]');
  });
});
