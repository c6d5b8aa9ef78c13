// Every way an image can be stored, built in memory: OCI layouts (directory, tar, gzip, zstd,
// standard input, nested indexes) and docker-archives (legacy and Docker 25+); and how broken ones
// fail.
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImageFile } from '../src/image/model.js';
import { scanImageLayers } from '../src/layer/scan.js';
import { openImageFile } from '../src/source/open.js';
import { parseJson, run } from './helpers/cli.js';
import {
  CREATED,
  HAS_ZSTD,
  MT,
  blobPath,
  dockerArchive,
  fakeDigest,
  hex,
  image,
  imageIndex,
  ociLayout,
  tar,
  tempDir,
  zstd,
  Tree,
  type BuiltImage,
} from './helpers/builders.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

let serial = 0;
/** Write a tree as a directory in the temporary folder. */
function asDir(t: Tree): string {
  return t.writeTo(path.join(tmp.dir, `dir-${++serial}`));
}
/** Write bytes as a file in the temporary folder. */
function asFile(bytes: Buffer, ext = 'tar'): string {
  return tmp.file(`file-${++serial}.${ext}`, bytes);
}

/** Two layers (one gzip, one plain), an ENV that made no layer, and a docker-ish history. */
function sampleImage(extra: Partial<Parameters<typeof image>[0]> = {}): BuiltImage {
  return image({
    layers: [
      { tar: tar().dir('etc/').file('etc/os-release', 'ID=test\n'), compression: 'gzip' },
      { tar: tar().dir('app/').file('app/run.sh', '#!/bin/sh\necho hi\n', { mode: 0o755 }) },
    ],
    history: [
      { created: CREATED, created_by: '/bin/sh -c #(nop) ADD file:base in /' },
      { created: CREATED, created_by: '/bin/sh -c #(nop)  ENV A=1', empty_layer: true },
      { created: CREATED, created_by: 'COPY run.sh /app/ # buildkit', comment: 'buildkit.dockerfile.v0' },
    ],
    ...extra,
  });
}

const IMG = sampleImage();

async function open(p: string, opts: { verify?: boolean; stdin?: Buffer } = {}): Promise<ImageFile> {
  const { Readable } = await import('node:stream');
  return openImageFile(p, { verify: opts.verify, stdin: opts.stdin ? Readable.from([opts.stdin]) : undefined });
}

/** Open, check the one image against what was built, read and verify every layer. */
async function expectSampleImage(file: ImageFile, expected: { format: string; container: string; manifest: boolean }): Promise<void> {
  try {
    expect({ format: file.format, container: file.container, images: file.images.length }).toEqual({ format: expected.format, container: expected.container, images: 1 });
    const im = file.images[0]!;
    expect(im.id).toBe(IMG.config.digest);
    expect(im.manifest?.descriptor.digest).toBe(expected.manifest ? IMG.manifest.digest : undefined);
    expect(im.layers.map((l) => l.diffId)).toEqual(IMG.layers.map((l) => l.diffId));
    expect(im.config.history.map((h) => h.emptyLayer)).toEqual([false, true, false]);
    const scans = await scanImageLayers(im.layers, { verify: true, file: file.file });
    expect(scans.map((s) => [s.digest, s.diffId, s.compression, s.entries])).toEqual([
      [IMG.layers[0]!.digest, IMG.layers[0]!.diffId, 'gzip', 2],
      [IMG.layers[1]!.digest, IMG.layers[1]!.diffId, 'none', 2],
    ]);
  } finally {
    await file.close();
  }
}

describe('OCI image layouts', () => {
  const layout = () => ociLayout([{ image: IMG, refName: 'v1' }]);

  it('reads a layout directory', async () => {
    await expectSampleImage(await open(asDir(layout())), { format: 'oci-layout', container: 'directory', manifest: true });
  });

  it('reads a layout tar', async () => {
    await expectSampleImage(await open(asFile(layout().toTar())), { format: 'oci-layout', container: 'tar', manifest: true });
  });

  it('reads a layout tar compressed with gzip, whatever the file is called', async () => {
    await expectSampleImage(await open(asFile(zlib.gzipSync(layout().toTar()), 'tar')), { format: 'oci-layout', container: 'tar+gzip', manifest: true });
  });

  it.runIf(HAS_ZSTD)('reads a layout tar compressed with zstd', async () => {
    await expectSampleImage(await open(asFile(zstd(layout().toTar()), 'bin')), { format: 'oci-layout', container: 'tar+zstd', manifest: true });
  });

  it('reads a layout tar from standard input, plain and gzip-compressed', async () => {
    await expectSampleImage(await open('-', { stdin: layout().toTar() }), { format: 'oci-layout', container: 'tar', manifest: true });
    await expectSampleImage(await open('-', { stdin: zlib.gzipSync(layout().toTar()) }), { format: 'oci-layout', container: 'tar+gzip', manifest: true });
  });

  it('reads a layout tarred from inside its folder, every member named ./…', async () => {
    const t = layout();
    const dotted = new Tree();
    for (const [p, n] of t.nodes) dotted.nodes.set(`./${p}`, n);
    await expectSampleImage(await open(asFile(dotted.toTar())), { format: 'oci-layout', container: 'tar', manifest: true });
  });

  it.each(['prefix', 'gnu', 'pax'] as const)('reads a layout tar whose member names are all written as %s names', async (names) => {
    await expectSampleImage(await open(asFile(layout().toTar({ names }))), { format: 'oci-layout', container: 'tar', manifest: true });
  });

  it('reads a layout tar that starts with a PAX global header (as git archive writes)', async () => {
    const bytes = Buffer.concat([tar().globalPax({ comment: 'c0ffee' }).build({ endBlocks: 0 }), layout().toTar()]);
    await expectSampleImage(await open(asFile(bytes)), { format: 'oci-layout', container: 'tar', manifest: true });
  });

  it('reads a layout tar without end-of-archive blocks', async () => {
    await expectSampleImage(await open(asFile(layout().toTar({ endBlocks: 0 }))), { format: 'oci-layout', container: 'tar', manifest: true });
  });

  it('names images by their ref names, full references doubling as docker tags', async () => {
    const a = sampleImage({ created: '2024-01-01T00:00:00Z' });
    const b = sampleImage({ created: '2024-02-01T00:00:00Z' });
    const file = await open(
      asDir(
        ociLayout([
          { image: a, refName: 'v1' },
          { image: b, refName: 'localhost/app:v2', annotations: { 'io.containerd.image.name': 'localhost/app:v2-containerd' } },
          { image: a, refName: 'latest' },
        ]),
      ),
    );
    try {
      expect(file.images.map((im) => [im.id, im.refNames, im.repoTags])).toEqual([
        [a.config.digest, ['v1', 'latest'], []],
        [b.config.digest, ['localhost/app:v2', 'localhost/app:v2-containerd'], ['localhost/app:v2', 'localhost/app:v2-containerd']],
      ]);
    } finally {
      await file.close();
    }
  });

  it('walks a nested index, giving each image the name and digest of the index that listed it', async () => {
    const amd = sampleImage();
    const arm = sampleImage({ architecture: 'arm64', variant: 'v8' });
    const index = imageIndex([{ image: amd }, { image: arm }]);
    const outer = imageIndex([{ index }]);
    const file = await open(asFile(ociLayout([{ index: outer, refName: 'multi' }]).toTar()));
    try {
      expect(file.images.map((im) => [im.id, im.refNames, im.indexDigest, im.platform])).toEqual([
        [amd.config.digest, ['multi'], index.digest, { os: 'linux', architecture: 'amd64' }],
        [arm.config.digest, ['multi'], index.digest, { os: 'linux', architecture: 'arm64', variant: 'v8' }],
      ]);
    } finally {
      await file.close();
    }
  });

  it('tells an index from a manifest by its content when the descriptor has no media type', async () => {
    const arm = sampleImage({ architecture: 'arm64' });
    const index = imageIndex([{ image: IMG, mediaType: '' }, { image: arm, mediaType: '' }]);
    const file = await open(asDir(ociLayout([{ index, refName: 'untyped', mediaType: '' }])));
    try {
      expect(file.images.map((im) => [im.id, im.refNames, im.indexDigest])).toEqual([
        [IMG.config.digest, ['untyped'], index.digest],
        [arm.config.digest, ['untyped'], index.digest],
      ]);
    } finally {
      await file.close();
    }
  });

  it('skips attestation manifests that BuildKit lists beside the images', async () => {
    const att = image({ layers: [{ tar: tar().file('sbom.json', '{}') }] });
    const index = imageIndex([
      { image: IMG },
      { image: att, platform: { os: 'unknown', architecture: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest' } },
    ]);
    const file = await open(asDir(ociLayout([{ index }])));
    try {
      expect(file.images.map((im) => im.id)).toEqual([IMG.config.digest]);
      expect(file.skipped).toEqual([{ digest: att.manifest.digest, reason: 'attestation manifest' }]);
    } finally {
      await file.close();
    }
  });

  it('warns, on stderr, about a layout without an oci-layout file, and reads it', async () => {
    const dir = asDir(ociLayout([{ image: IMG }], { ociLayoutFile: false }));
    const r = await run(['images', dir, '--format', 'json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`layerlens: warning: ${dir}: no oci-layout file; reading index.json anyway\n`);
    expect(parseJson<Array<{ id: string }>>(r)[0]!.id).toBe(IMG.config.digest);
  });

  it('fails with one line naming the digest of a missing layer blob', async () => {
    const t = ociLayout([{ image: IMG }]);
    const missing = IMG.layers[1]!.digest;
    t.remove(blobPath(missing));
    const file = asFile(t.toTar());
    const r = await run(['images', file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`layerlens: error: ${file}: ${blobPath(missing)}: layer 1 blob ${missing} is missing\n`);
  });

  it('fails with one line when a manifest blob does not hash to its digest, and reads on under --no-verify', async () => {
    const t = ociLayout([{ image: IMG }]);
    const member = blobPath(IMG.manifest.digest);
    t.put(member, Buffer.concat([IMG.manifest.bytes, Buffer.from(' ')])); // one more byte: a different digest and size
    const dir = asDir(t);
    const r = await run(['images', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^layerlens: error: ${dir}: ${member}: manifest blob digest mismatch: expected ${IMG.manifest.digest}, got sha256:[0-9a-f]{64}\\n$`));

    const lax = await run(['images', dir, '--no-verify', '--format', 'json']);
    expect(lax.code).toBe(0);
    expect(parseJson<unknown[]>(lax)).toHaveLength(1);
    expect(lax.stderr.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(new RegExp(`^layerlens: warning: ${dir}: ${member}: manifest blob digest mismatch: expected ${IMG.manifest.digest}, got sha256:[0-9a-f]{64}$`)),
      `layerlens: warning: ${dir}: ${member}: manifest blob size mismatch: expected ${IMG.manifest.size} bytes, found ${IMG.manifest.size + 1}`,
      'layerlens: warning: --no-verify: digest mismatches are reported, not treated as errors',
    ]);
  });

  it('fails when a layer does not hash to its digest, and under --no-verify says so on stderr and exits 0', async () => {
    const t = ociLayout([{ image: IMG }]);
    const layer = IMG.layers[1]!;
    const other = tar().dir('app/').file('app/run.sh', '#!/bin/sh\necho HI\n', { mode: 0o755 }).build(); // same length, other bytes
    expect(other.length).toBe(layer.bytes.length);
    t.put(blobPath(layer.digest), other);
    const dir = asDir(t);
    const r = await run(['layers', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^layerlens: error: ${dir}: ${blobPath(layer.digest)}: layer 1 blob digest mismatch: expected ${layer.digest}, got sha256:[0-9a-f]{64}\\n$`));

    const lax = await run(['layers', dir, '--no-verify', '--format', 'json']);
    expect(lax.code).toBe(0);
    const rows = parseJson<Array<{ verified: boolean }>>(lax);
    expect(rows.map((x) => x.verified)).toEqual([true, false]);
    expect(lax.stderr).toContain('layerlens: warning: --no-verify: digest mismatches are reported, not treated as errors\n');
    expect(lax.stderr).toContain(`layerlens: warning: not verified: layer 1 blob digest mismatch: expected ${layer.digest}`);
    expect(lax.stderr).toContain(`layerlens: warning: not verified: layer 1 diff_id mismatch: config says ${layer.diffId}`);
  });

  it('fails when a diff_id is wrong, naming both', async () => {
    const wrong = fakeDigest('diff');
    const im = sampleImage({ diffIds: [IMG.layers[0]!.diffId, wrong] });
    const dir = asDir(ociLayout([{ image: im }]));
    const r = await run(['layers', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`layerlens: error: ${dir}: ${blobPath(im.layers[1]!.digest)}: layer 1 diff_id mismatch: config says ${wrong}, uncompressed content hashes to ${im.layers[1]!.diffId}\n`);
  });

  it('fails with a truncated error for a layout tar cut short inside a blob', async () => {
    const bytes = ociLayout([{ image: IMG }]).toTar();
    const file = asFile(bytes.subarray(0, bytes.length - 1024 - 700));
    const r = await run(['images', file]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(new RegExp(`^layerlens: error: ${file}: ${blobPath(IMG.layers[1]!.digest)}: archive .*ends inside this member \\(700 of its bytes are missing\\)\\n$`));
  });
});

describe('docker-archives', () => {
  it('reads a legacy docker save: <hex>.json config, <id>/layer.tar links to <hex>.tar layers', async () => {
    const t = dockerArchive([{ image: IMG, repoTags: ['app:v1'] }]);
    expect(t.paths()).toContain(`${hex(IMG.config.digest)}.json`);
    await expectSampleImage(await open(asFile(t.toTar())), { format: 'docker-archive', container: 'tar', manifest: false });
    const file = await open(asFile(t.toTar()));
    try {
      const im = file.images[0]!;
      expect(im.repoTags).toEqual(['app:v1']);
      // manifest.json lists the links; each leads to the layer stored under its blob digest.
      expect(im.layers.map((l) => t.nodes.get(l.member))).toEqual(IMG.layers.map((l) => ({ kind: 'symlink', target: `../${hex(l.digest)}.tar` })));
      // A link's name is no content digest: the layer's digest stays unknown until it is read.
      expect(im.layers.map((l) => l.digest)).toEqual([undefined, undefined]);
    } finally {
      await file.close();
    }
  });

  it('reads a legacy docker save unpacked into a directory (its links followed inside it)', async () => {
    const t = dockerArchive([{ image: IMG, repoTags: ['app:v1'] }]);
    await expectSampleImage(await open(asDir(t)), { format: 'docker-archive', container: 'directory', manifest: false });
  });

  it('takes a layer\'s digest from a <hex>.tar member name listed directly', async () => {
    const file = await open(asFile(dockerArchive([{ image: IMG }], { directLayers: true }).toTar()));
    try {
      expect(file.images[0]!.layers.map((l) => [l.member, l.digest])).toEqual(IMG.layers.map((l) => [`${hex(l.digest)}.tar`, l.digest]));
      expect(file.images[0]!.repoTags).toEqual([]);
    } finally {
      await file.close();
    }
  });

  it('reads a Docker 25+ archive and takes the real manifest digest from its OCI layout', async () => {
    const t = dockerArchive([{ image: IMG, repoTags: ['app:v1'] }], { style: 'docker25' });
    expect(t.paths()).toEqual(expect.arrayContaining(['oci-layout', 'index.json', 'manifest.json', blobPath(IMG.manifest.digest)]));
    await expectSampleImage(await open(asFile(t.toTar())), { format: 'docker-archive', container: 'tar', manifest: true });
    const file = await open(asFile(t.toTar()));
    try {
      expect(file.images[0]!.repoTags).toEqual(['app:v1']);
      expect(file.images[0]!.refNames).toEqual(['v1', 'docker.io/library/app:v1']);
    } finally {
      await file.close();
    }
    // One tag, one row, though the archive names it three ways.
    const r = await run(['images', asFile(t.toTar()), '--format', 'json']);
    expect(parseJson<Array<{ repository: string; tag: string; manifestDigest: string }>>(r).map((x) => [x.repository, x.tag, x.manifestDigest])).toEqual([['app', 'v1', IMG.manifest.digest]]);
  });

  it('reads several images of one archive, in manifest.json order', async () => {
    const a = sampleImage({ created: '2024-01-01T00:00:00Z' });
    const b = image({ created: '2024-03-01T00:00:00Z', architecture: 'arm64' });
    const r = await run(['images', asFile(dockerArchive([{ image: a, repoTags: ['a:1', 'a:latest'] }, { image: b }]).toTar()), '--format', 'json']);
    expect(r.code).toBe(0);
    expect(parseJson<Array<{ repository: string; tag: string; id: string; platform: string }>>(r).map((x) => [x.repository, x.tag, x.id, x.platform])).toEqual([
      ['a', '1', a.config.digest, 'linux/amd64'],
      ['a', 'latest', a.config.digest, 'linux/amd64'],
      ['<none>', '<none>', b.config.digest, 'linux/arm64'],
    ]);
  });

  it('follows hard links between members, as it follows symbolic ones', async () => {
    const t = dockerArchive([{ image: IMG, repoTags: ['app:v1'] }]);
    for (const [p, n] of t.nodes) if (n.kind === 'symlink') t.hardlink(p, n.target.replace('../', ''));
    await expectSampleImage(await open(asFile(t.toTar())), { format: 'docker-archive', container: 'tar', manifest: false });
  });

  it('reports a gzip stream on standard input that ends early as truncated', async () => {
    const gz = zlib.gzipSync(dockerArchive([{ image: IMG, repoTags: ['app:v1'] }]).toTar());
    const r = await run(['images', '-'], { stdin: gz.subarray(0, gz.length - 20) });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('layerlens: error: -: gzip stream ends early\n');
  });

  it('reads a gzip-compressed docker save from standard input', async () => {
    const r = await run(['images', '-', '--format', 'json'], { stdin: zlib.gzipSync(dockerArchive([{ image: IMG, repoTags: ['app:v1'] }]).toTar()) });
    expect(r.code).toBe(0);
    expect(parseJson<Array<{ id: string; tag: string }>>(r).map((x) => [x.id, x.tag])).toEqual([[IMG.config.digest, 'v1']]);
  });

  it('fails with a digest error when the config is named by a digest it does not have', async () => {
    const wrong = fakeDigest('config');
    const t = dockerArchive([{ image: IMG, repoTags: ['app:v1'] }], { configDigest: () => wrong });
    const file = asFile(t.toTar());
    const err = await open(file).then(
      () => undefined,
      (e: unknown) => e as { kind: string },
    );
    expect(err?.kind).toBe('digest');
    const r = await run(['images', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`layerlens: error: ${file}: ${hex(wrong)}.json: config digest mismatch: expected ${wrong}, got ${IMG.config.digest}\n`);

    const lax = await run(['images', file, '--no-verify', '--format', 'json']);
    expect(lax.code).toBe(0);
    expect(parseJson<Array<{ id: string }>>(lax).map((x) => x.id)).toEqual([IMG.config.digest]);
    expect(lax.stderr).toBe(
      `layerlens: warning: ${file}: ${hex(wrong)}.json: config digest mismatch: expected ${wrong}, got ${IMG.config.digest}\n` +
        'layerlens: warning: --no-verify: digest mismatches are reported, not treated as errors\n',
    );
  });

  it('fails with one line naming the layer that is missing and its digest', async () => {
    const t = dockerArchive([{ image: IMG, repoTags: ['app:v1'] }], { directLayers: true });
    const gone = IMG.layers[0]!;
    t.remove(`${hex(gone.digest)}.tar`);
    const file = asFile(t.toTar());
    const r = await run(['history', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`layerlens: error: ${file}: ${hex(gone.digest)}.tar: layer 0 of image 0 is missing (diff_id ${gone.diffId})\n`);
  });

  it('fails with one line naming the diff_id of a layer whose link points nowhere', async () => {
    const t = dockerArchive([{ image: IMG, repoTags: ['app:v1'] }]);
    const gone = IMG.layers[1]!;
    t.remove(`${hex(gone.digest)}.tar`);
    const file = asFile(t.toTar());
    const r = await run(['images', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^layerlens: error: ${file}: [0-9a-f]{64}/layer\\.tar: layer 1 of image 0 is missing \\(diff_id ${gone.diffId}\\)\\n$`));
  });

  it('reads one image of an archive when another one in it is broken, and names the broken one', async () => {
    const good = sampleImage();
    const bad = image({ created: '2020-01-01T00:00:00Z' });
    const t = dockerArchive([{ image: good, repoTags: ['good:1'] }, { image: bad, repoTags: ['bad:1'] }], { directLayers: true });
    t.remove(`${hex(bad.layers[0]!.digest)}.tar`);
    const file = asFile(t.toTar());
    const r = await run(['images', file, '--format', 'json']);
    expect(r.code).toBe(0);
    expect(parseJson<Array<{ tag: string }>>(r).map((x) => x.tag)).toEqual(['1']);
    expect(r.stderr).toMatch(/^layerlens: warning: cannot open bad:1: .*layer 0 of image 1 is missing/);
    const chosen = await run(['history', `${file}:bad:1`]);
    expect(chosen.code).toBe(2);
    expect(chosen.stderr).toMatch(/layer 0 of image 1 is missing/);
  });
});

describe('layer compression', () => {
  async function scanOne(dir: string) {
    const file = await open(dir);
    try {
      return await scanImageLayers(file.images[0]!.layers, { verify: true, file: dir });
    } finally {
      await file.close();
    }
  }

  it.runIf(HAS_ZSTD)('reads zstd layers', async () => {
    const im = image({ layers: [{ tar: tar().file('z.txt', 'zstd layer'), compression: 'zstd' }] });
    const [scan] = await scanOne(asDir(ociLayout([{ image: im }])));
    expect(scan).toMatchObject({ compression: 'zstd', digest: im.layers[0]!.digest, diffId: im.layers[0]!.diffId, entries: 1, notes: [] });
  });

  it('tells compression by the bytes: a gzip layer in a docker save (kaniko writes them) needs no media type', async () => {
    const im = image({ layers: [{ tar: tar().file('k.txt', 'kaniko'), compression: 'gzip' }] });
    const [scan] = await scanOne(asDir(dockerArchive([{ image: im }], { directLayers: true })));
    expect(scan).toMatchObject({ compression: 'gzip', digest: im.layers[0]!.digest, diffId: im.layers[0]!.diffId, notes: [] });
  });

  it('reads a layer whose media type claims another compression, and notes the contradiction', async () => {
    const im = image({ layers: [{ tar: tar().file('g.txt', 'gzip'), compression: 'gzip', mediaType: MT.ociLayer }] });
    const [scan] = await scanOne(asDir(ociLayout([{ image: im }])));
    expect(scan!.compression).toBe('gzip');
    expect(scan!.notes).toEqual([`layer 0: media type ${MT.ociLayer} says none but the bytes are gzip`]);
  });
});

describe('layer tars', () => {
  it('reads a layer without end-of-archive blocks or final padding (umoci writes such layers)', async () => {
    const bare = tar().dir('etc/').file('etc/motd', 'hello').build({ endBlocks: 0, padLast: false });
    const im = image({ layers: [{ tar: bare }] });
    const r = await run(['layers', asDir(ociLayout([{ image: im }])), '--format', 'json']);
    expect(r.code).toBe(0);
    expect(parseJson<Array<{ size: number; entries: number; verified: boolean }>>(r)).toMatchObject([{ size: 1024 + 5, entries: 2, verified: true }]);
  });

  it('fails with one line naming the layer and the entry when a layer tar ends inside a file', async () => {
    const whole = tar().file('usr/lib/big.so', Buffer.alloc(3000, 7)).build();
    const im = image({ layers: [{ tar: whole.subarray(0, 512 + 1000) }] }); // digests of the cut bytes: only the tar is wrong
    const dir = asDir(ociLayout([{ image: im }]));
    const r = await run(['layers', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`layerlens: error: ${dir}: ${blobPath(im.layers[0]!.digest)}: tar ends inside the content of "usr/lib/big.so" (2000 bytes missing)\n`);
  });
});

describe('what is not an image', () => {
  it('says what it found in a tar that holds neither manifest.json nor index.json', async () => {
    const file = asFile(tar().file('README', 'hi').dir('src/').file('src/main.c', 'int main;').build());
    const r = await run(['images', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`layerlens: error: ${file}: not a container image: no manifest.json or index.json; found README, src\n`);
  });

  it('says so of bytes that are not a tar at all', async () => {
    const file = asFile(Buffer.from('this is not a tar archive, just some text that goes on for a while\n'.repeat(20)));
    const r = await run(['images', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`layerlens: error: ${file}: not a container image: neither a tar archive nor a gzip- or zstd-compressed one\n`);
  });

  it('says an empty standard input is empty', async () => {
    const r = await run(['images', '-'], { stdin: Buffer.alloc(0) });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('layerlens: error: -: is empty\n');
  });

  it('reads an index that lists a media type it does not know as holding no image', async () => {
    const dir = asDir(ociLayout([{ image: IMG, mediaType: 'application/vnd.example.thing+json' }]));
    const r = await run(['images', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stderr).toMatch(new RegExp(`^layerlens: error: ${dir}: holds no images; .*${IMG.manifest.digest}.*not an image manifest \\(application/vnd\\.example\\.thing\\+json\\)`));
  });
});

it('builds the sample image it claims to (a check on the builder)', () => {
  expect(IMG.manifestDoc.mediaType).toBe(MT.ociManifest);
  expect((IMG.manifestDoc.layers as Array<{ mediaType: string }>).map((l) => l.mediaType)).toEqual([MT.ociLayerGzip, MT.ociLayer]);
  expect(zlib.gunzipSync(IMG.layers[0]!.bytes)).toEqual(IMG.layers[0]!.tar);
});
