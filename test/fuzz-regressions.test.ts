// Inputs the mutation fuzzer (fuzz/) found layerlens mishandling, reduced to what matters and
// kept once fixed. Each was a case that took far too long, printed far too much, or fell over.
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { blob, blobPath, dockerArchive, image, imageIndex, ociLayout, tar, tempDir, type BuiltIndex } from './helpers/builders.js';
import { parseJson, run } from './helpers/cli.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const IMG = image({ layers: [{ tar: tar().dir('etc/').file('etc/motd', 'hello\n') }] });

describe('a blob listed many times is read once', () => {
  // Found by `npm run fuzz`: index.json listing one manifest 3000 times (and the manifest's
  // bytes changed): each copy was read and checked again, 6000 warnings under --no-verify. An
  // index of 16 MiB can list 100,000 copies of a 16 MiB manifest.
  it('index.json that repeats a manifest which does not verify: one read, one warning of each kind', async () => {
    const t = ociLayout([{ image: IMG, refName: 'latest' }]);
    const descriptor = { mediaType: IMG.manifest.mediaType, digest: IMG.manifest.digest, size: IMG.manifest.size, annotations: { 'org.opencontainers.image.ref.name': 'latest' } };
    t.put('index.json', { schemaVersion: 2, manifests: Array.from({ length: 3000 }, () => descriptor) });
    t.put(blobPath(IMG.manifest.digest), Buffer.concat([IMG.manifest.bytes, Buffer.from('   ')]));
    const dir = t.writeTo(path.join(tmp.dir, 'repeated'));
    const started = Date.now();
    const r = await run(['images', dir, '--no-verify', '--format', 'json']);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson<unknown[]>(r)).toHaveLength(1);
    expect(r.stderr.split('\n').filter((l) => l.includes('manifest blob digest mismatch'))).toHaveLength(1);
    expect(r.stderr.split('\n').filter((l) => l.includes('manifest blob size mismatch'))).toHaveLength(1);
  });

  it('nested indexes that share their children (fifty copies at each of eight levels) are each walked once', async () => {
    // Written blob by blob: each index once (the builder would walk all 50^7 paths).
    const t = ociLayout([{ image: IMG }]);
    let index: BuiltIndex = imageIndex([{ image: IMG }]);
    t.put(blobPath(index.digest), index.bytes);
    for (let level = 0; level < 7; level++) {
      const d = { mediaType: index.mediaType, digest: index.digest, size: index.size };
      const doc = { schemaVersion: 2, mediaType: index.mediaType, manifests: Array.from({ length: 50 }, () => d) };
      index = { ...blob(index.mediaType, doc), children: [], doc };
      t.put(blobPath(index.digest), index.bytes);
    }
    t.put('index.json', { schemaVersion: 2, manifests: [{ mediaType: index.mediaType, digest: index.digest, size: index.size, annotations: { 'org.opencontainers.image.ref.name': 'top' } }] });
    const dir = t.writeTo(path.join(tmp.dir, 'diamond'));
    const started = Date.now();
    const r = await run(['images', dir, '--format', 'json']);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson<Array<{ id: string; tag: string }>>(r).map((x) => [x.id, x.tag])).toEqual([[IMG.config.digest, 'top']]);
  });

  it('manifest.json that names one config for 3000 images: read and checked once', async () => {
    const t = dockerArchive([{ image: IMG, repoTags: ['x:1'] }]);
    const manifest = JSON.parse(t.get('manifest.json').toString()) as Array<Record<string, unknown>>;
    t.put('manifest.json', Array.from({ length: 3000 }, (_, i) => ({ ...manifest[0], RepoTags: [`x:${i}`] })));
    const configName = manifest[0]!.Config as string;
    t.put(configName, Buffer.concat([t.get(configName), Buffer.from(' ')]));
    const file = tmp.file('many-entries.tar', t.toTar());
    const started = Date.now();
    const r = await run(['images', file, '--no-verify', '--format', 'json']);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson<unknown[]>(r)).toHaveLength(3000);
    expect(r.stderr.split('\n').filter((l) => l.includes('config digest mismatch'))).toHaveLength(1);
  });
});

describe('an error line stays readable', () => {
  // Found by `npm run fuzz`: manifest.json naming a config of 70,000 characters; the error line
  // quoted it whole.
  it('a name or field of 70,000 characters is shortened, saying how much was left out', async () => {
    const t = dockerArchive([{ image: IMG, repoTags: ['x:1'] }]);
    const manifest = JSON.parse(t.get('manifest.json').toString()) as Array<Record<string, unknown>>;
    t.put('manifest.json', [{ ...manifest[0], Config: 'a'.repeat(70_000) }]);
    const file = tmp.file('long-name.tar', t.toTar());
    const r = await run(['inspect', file]);
    expect(r.code).toBe(2);
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.length).toBeLessThan(2000);
    expect(lines[0]).toMatch(/^layerlens: error: .*: a{600}… \(69100 characters left out\) …a{300}: config of image 0 is missing$/);
  });
});

describe('one manifest under two descriptors', () => {
  it('a manifest listed with wrong sizes in two places is still one image', async () => {
    // Two descriptors of one manifest, one with a wrong size: the first read decides.
    const t = ociLayout([{ image: IMG, refName: 'a' }]);
    const d = { mediaType: IMG.manifest.mediaType, digest: IMG.manifest.digest, size: IMG.manifest.size };
    t.put('index.json', { schemaVersion: 2, manifests: [d, { ...d, size: d.size + 1 }] });
    const r = await run(['images', t.writeTo(path.join(tmp.dir, 'two-sizes')), '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson<unknown[]>(r)).toHaveLength(1);
  });
});
