// Choosing one image: `PATH:REF`, ref matching, and the platform of a multi-platform index.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LayerlensError } from '../src/image/errors.js';
import type { ImageFile } from '../src/image/model.js';
import { formatPlatform, hostPlatform, parsePlatform, platformMatches } from '../src/image/platform.js';
import { openImageFile } from '../src/source/open.js';
import { matchRef, selectImage, splitPathRef } from '../src/source/select.js';
import { hex, image, imageIndex, ociLayout, tar, tempDir, type BuiltImage } from './helpers/builders.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function failure(fn: () => unknown): LayerlensError {
  try {
    fn();
  } catch (e) {
    if (e instanceof LayerlensError) return e;
    throw e;
  }
  throw new Error('expected a LayerlensError, nothing was thrown');
}

/** An image whose layer content makes it distinct from every other. */
function distinct(name: string, platform: { architecture: string; variant?: string } = { architecture: 'amd64' }): BuiltImage {
  return image({ ...platform, layers: [{ tar: tar().file(`${name}.txt`, name) }] });
}

describe('splitPathRef', () => {
  const existing = (...paths: string[]) => (p: string) => paths.includes(p);

  it('takes an existing path whole', () => {
    expect(splitPathRef('app.tar', existing('app.tar'))).toEqual({ path: 'app.tar' });
  });

  it('splits at the colon after the longest existing path, even when the ref has colons too', () => {
    expect(splitPathRef('app.tar:localhost/app:v1', existing('app.tar'))).toEqual({ path: 'app.tar', ref: 'localhost/app:v1' });
    expect(splitPathRef('app.tar:localhost:5000/team/app:v1', existing('app.tar'))).toEqual({ path: 'app.tar', ref: 'localhost:5000/team/app:v1' });
    expect(splitPathRef('app.tar:alpine', existing('app.tar'))).toEqual({ path: 'app.tar', ref: 'alpine' });
  });

  it('keeps a colon that is part of the file name', () => {
    expect(splitPathRef('out/my:image.tar', existing('out/my:image.tar'))).toEqual({ path: 'out/my:image.tar' });
    expect(splitPathRef('out/my:image.tar:app:v2', existing('out/my:image.tar'))).toEqual({ path: 'out/my:image.tar', ref: 'app:v2' });
    // Both `a` and `a:b` exist: the longer one is the file.
    expect(splitPathRef('a:b:c', existing('a', 'a:b'))).toEqual({ path: 'a:b', ref: 'c' });
  });

  it('reads "-" and "-:REF" as standard input', () => {
    expect(splitPathRef('-', existing())).toEqual({ path: '-' });
    expect(splitPathRef('-:app:v1', existing())).toEqual({ path: '-', ref: 'app:v1' });
  });

  it('leaves a path that does not exist whole, for the error to name it', () => {
    expect(splitPathRef('missing.tar:app:v1', existing())).toEqual({ path: 'missing.tar:app:v1' });
  });

  it('treats a trailing colon as no ref', () => {
    expect(splitPathRef('app.tar:', existing('app.tar'))).toEqual({ path: 'app.tar', ref: undefined });
  });

  it('works on real files whose names hold colons', () => {
    const withColon = tmp.file('my:image.tar', Buffer.from('x'));
    expect(splitPathRef(withColon)).toEqual({ path: withColon });
    expect(splitPathRef(`${withColon}:localhost/app:v1`)).toEqual({ path: withColon, ref: 'localhost/app:v1' });
    const plain = tmp.file('plain.tar', Buffer.from('x'));
    expect(splitPathRef(`${plain}:app`)).toEqual({ path: plain, ref: 'app' });
  });
});

describe('matching a ref', () => {
  const v1 = distinct('v1');
  const v2 = distinct('v2');
  const untagged = distinct('untagged');
  let file: ImageFile;

  beforeAll(async () => {
    const dir = ociLayout([
      { image: v1, refName: 'docker.io/library/app:v1' },
      { image: v2, refName: 'localhost:5000/team/app:v2' },
      { image: untagged },
    ]).writeTo(path.join(tmp.dir, 'three'));
    file = await openImageFile(dir);
  });
  afterAll(() => file?.close());

  const ids = (refs: string) => matchRef(file.images, refs).map((im) => im.id);

  it('finds a ref name exactly as written', () => {
    expect(ids('docker.io/library/app:v1')).toEqual([v1.config.digest]);
    expect(ids('localhost:5000/team/app:v2')).toEqual([v2.config.digest]);
  });

  it('finds a ref by its docker-normalised form', () => {
    expect(ids('app:v1')).toEqual([v1.config.digest]);
    expect(ids('docker.io/app:v1')).toEqual([v1.config.digest]);
  });

  it('finds a ref by a suffix of its repository when nothing else matches', () => {
    expect(ids('team/app:v2')).toEqual([v2.config.digest]);
  });

  it('finds an image by its ID, a prefix of it, or its manifest digest', () => {
    expect(ids(untagged.config.digest)).toEqual([untagged.config.digest]);
    expect(ids(hex(untagged.config.digest).slice(0, 12))).toEqual([untagged.config.digest]);
    expect(ids(`sha256:${hex(untagged.config.digest).slice(0, 8)}`)).toEqual([untagged.config.digest]);
    expect(ids(untagged.manifest.digest)).toEqual([untagged.config.digest]);
  });

  it('finds nothing for a tag that is not there', () => {
    expect(ids('app:v3')).toEqual([]);
  });

  it('says which images there are when none matches', () => {
    const e = failure(() => selectImage(file, { ref: 'app:v3' }));
    expect(e.kind).toBe('usage');
    expect(e.message).toBe(
      `no image matches "app:v3"; it holds docker.io/library/app:v1 (linux/amd64, ID ${hex(v1.config.digest).slice(0, 12)}); ` +
        `localhost:5000/team/app:v2 (linux/amd64, ID ${hex(v2.config.digest).slice(0, 12)}); ` +
        `<untagged> (linux/amd64, ID ${hex(untagged.config.digest).slice(0, 12)})`,
    );
  });

  it('says which images there are when a choice is needed and none was made', () => {
    const e = failure(() => selectImage(file));
    expect(e.kind).toBe('usage');
    expect(e.message).toMatch(/^holds 3 images; choose one with FILE:REF or --image REF: docker\.io\/library\/app:v1 \(linux\/amd64, ID [0-9a-f]{12}\); /);
  });

  it('chooses the image a ref names', () => {
    expect(selectImage(file, { ref: 'app:v1' }).image.id).toBe(v1.config.digest);
  });
});

describe('platforms', () => {
  it('parses os/arch[/variant], normalising aliases and case', () => {
    expect(parsePlatform('linux/amd64')).toEqual({ os: 'linux', architecture: 'amd64', variant: undefined });
    expect(parsePlatform('Linux/X86_64')).toEqual({ os: 'linux', architecture: 'amd64', variant: undefined });
    expect(parsePlatform('linux/aarch64')).toEqual({ os: 'linux', architecture: 'arm64', variant: undefined });
    expect(parsePlatform('linux/arm64/8')).toEqual({ os: 'linux', architecture: 'arm64', variant: 'v8' });
    expect(parsePlatform('linux/arm/7')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    for (const bad of ['linux', 'linux/', '/amd64', 'linux/arm/v7/extra', '']) expect(parsePlatform(bad), bad).toBeUndefined();
  });

  it('matches arm64 with and without the default variant v8, either way round', () => {
    const arm64 = { os: 'linux', architecture: 'arm64' };
    const arm64v8 = { os: 'linux', architecture: 'arm64', variant: 'v8' };
    expect(platformMatches(arm64v8, arm64)).toBe(true);
    expect(platformMatches(arm64, arm64v8)).toBe(true);
    expect(platformMatches({ ...arm64, variant: 'v9' }, arm64)).toBe(false);
  });

  it('requires os and architecture to agree, and a requested variant to match', () => {
    expect(platformMatches({ os: 'linux', architecture: 'arm', variant: 'v7' }, { os: 'linux', architecture: 'arm', variant: 'v6' })).toBe(false);
    expect(platformMatches({ os: 'linux', architecture: 'arm' }, { os: 'linux', architecture: 'arm', variant: 'v6' })).toBe(true);
    expect(platformMatches({ os: 'windows', architecture: 'amd64' }, { os: 'linux', architecture: 'amd64' })).toBe(false);
    expect(platformMatches({ os: 'linux', architecture: 'amd64' }, undefined)).toBe(false);
  });

  describe('in a multi-platform index', () => {
    const amd64 = distinct('amd64');
    const arm64 = distinct('arm64', { architecture: 'arm64', variant: 'v8' });
    const armv7 = distinct('armv7', { architecture: 'arm', variant: 'v7' });
    const host = hostPlatform();
    const hostIsListed = ['amd64', 'arm64'].includes(host.architecture);
    let file: ImageFile;

    beforeAll(async () => {
      const index = imageIndex([{ image: amd64 }, { image: arm64 }, { image: armv7 }]);
      const dir = ociLayout([{ index, refName: 'app:multi' }]).writeTo(path.join(tmp.dir, 'multi'));
      file = await openImageFile(dir);
    });
    afterAll(() => file?.close());

    it('lists every platform as an image of the same name', () => {
      expect(file.images.map((im) => [formatPlatform(im.platform), im.refNames])).toEqual([
        ['linux/amd64', ['app:multi']],
        ['linux/arm64/v8', ['app:multi']],
        ['linux/arm/v7', ['app:multi']],
      ]);
    });

    it('chooses an explicit platform, with or without arm64\'s default variant', () => {
      expect(selectImage(file, { platform: parsePlatform('linux/arm64') }).image.id).toBe(arm64.config.digest);
      expect(selectImage(file, { platform: parsePlatform('linux/arm64/v8') }).image.id).toBe(arm64.config.digest);
      expect(selectImage(file, { ref: 'app:multi', platform: parsePlatform('linux/arm/v7') }).image.id).toBe(armv7.config.digest);
      // An explicit choice is the user's: no note about it.
      expect(selectImage(file, { platform: parsePlatform('linux/amd64') }).note).toBeUndefined();
    });

    it.runIf(hostIsListed)("chooses this host's platform by default and says so", () => {
      const s = selectImage(file, { ref: 'app:multi' });
      expect(formatPlatform(s.image.platform)).toBe(formatPlatform({ ...host, variant: host.architecture === 'arm64' ? 'v8' : host.variant }));
      expect(s.note).toBe(`picked ${formatPlatform(s.image.platform)}, this host's platform, from linux/amd64, linux/arm64/v8, linux/arm/v7 (choose with --platform)`);
    });

    it('lists the platforms there are when the one asked for is not among them', () => {
      const e = failure(() => selectImage(file, { platform: parsePlatform('linux/ppc64le') }));
      expect(e.kind).toBe('usage');
      expect(e.message).toBe('no image for platform linux/ppc64le; choose one with --platform: linux/amd64, linux/arm64/v8, linux/arm/v7');
    });
  });

  it('refuses an explicit platform that a single-image file does not have', async () => {
    const dir = ociLayout([{ image: distinct('only') }]).writeTo(path.join(tmp.dir, 'single'));
    const file = await openImageFile(dir);
    try {
      expect(selectImage(file).image.id).toBe(file.images[0]!.id);
      expect(failure(() => selectImage(file, { platform: parsePlatform('linux/s390x') })).message).toBe(
        'no image for platform linux/s390x; choose one with --platform: linux/amd64',
      );
    } finally {
      await file.close();
    }
  });
});
