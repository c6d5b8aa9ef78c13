// What README "Security" promises, command by command: digest mismatches fail by default and
// --no-verify lists each one it let through; nothing is read from outside the image (a symlinked
// blob, a member or entry named with `..` or an absolute path, a link that climbs out); and
// `export` writes one tar whose names all stay inside the folder it is extracted to.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { blobPath, dockerArchive, image, ociLayout, tar, tempDir } from './helpers/builders.js';
import { run } from './helpers/cli.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const NOTE = 'layerlens: warning: --no-verify: digest mismatches are reported, not treated as errors';

/** Each command that reads one image, with what it needs to run. */
const COMMANDS: Array<[string, (target: string) => string[]]> = [
  ['images', (t) => ['images', t]],
  ['inspect', (t) => ['inspect', t]],
  ['history', (t) => ['history', t]],
  ['layers', (t) => ['layers', t]],
  ['analyze', (t) => ['analyze', t]],
  ['tree', (t) => ['tree', t]],
  ['changes', (t) => ['changes', t]],
  ['cat', (t) => ['cat', t, '/etc/motd']],
  ['export', (t) => ['export', t, path.join(tmp.dir, `out-${Math.random().toString(36).slice(2)}.tar`)]],
  ['waste', (t) => ['waste', t]],
  ['report', (t) => ['report', t, '--output', path.join(tmp.dir, `report-${Math.random().toString(36).slice(2)}.html`)]],
  ['diff', (t) => ['diff', t, t]],
];
const READS_LAYERS = new Set(['layers', 'analyze', 'tree', 'changes', 'cat', 'export', 'waste', 'report', 'diff']);

const IMG = image({
  layers: [{ tar: tar().dir('etc/').file('etc/motd', 'hello\n') }, { tar: tar().dir('app/').file('app/run.sh', '#!/bin/sh\necho hi\n', { mode: 0o755 }) }],
});

describe('digest mismatches fail by default; --no-verify lets them through and lists each one', () => {
  // The config blob no longer hashes to its name (one byte more): every command reads the config.
  const badConfig = (() => {
    const t = ociLayout([{ image: IMG }]);
    t.put(blobPath(IMG.config.digest), Buffer.concat([IMG.config.bytes, Buffer.from(' ')]));
    return t.writeTo(path.join(tmp.dir, 'bad-config'));
  })();
  // Layer 1's blob holds other bytes of the same length: the commands that read layers see it.
  const badLayer = (() => {
    const t = ociLayout([{ image: IMG }]);
    const other = tar().dir('app/').file('app/run.sh', '#!/bin/sh\necho HI\n', { mode: 0o755 }).build();
    t.put(blobPath(IMG.layers[1]!.digest), other);
    return t.writeTo(path.join(tmp.dir, 'bad-layer'));
  })();

  it.each(COMMANDS)('%s: a config that does not hash to its digest', async (name, args) => {
    const strict = await run(args(badConfig));
    expect(strict.code, strict.stderr).toBe(2);
    expect(strict.stderr).toMatch(/^layerlens: error: .*config blob digest mismatch: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}\n$/);
    const lax = await run([...args(badConfig), '--no-verify']);
    expect(lax.code, `${name}: ${lax.stderr}`).toBeLessThan(2);
    expect(lax.stderr).toContain(`${NOTE}\n`);
    expect(lax.stderr).toMatch(/layerlens: warning: .*config blob digest mismatch: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}\n/);
    expect(lax.stderr).toMatch(/layerlens: warning: .*config blob size mismatch/);
  });

  it.each(COMMANDS.filter(([name]) => READS_LAYERS.has(name)))('%s: a layer that does not hash to its digest or diff_id', async (name, args) => {
    const strict = await run(args(badLayer));
    expect(strict.code, strict.stderr).toBe(2);
    expect(strict.stderr).toMatch(/^layerlens: error: .*: layer 1 blob digest mismatch: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}\n$/);
    const lax = await run([...args(badLayer), '--no-verify']);
    expect(lax.code, `${name}: ${lax.stderr}`).toBeLessThan(2);
    expect(lax.stderr).toContain(`${NOTE}\n`);
    expect(lax.stderr).toContain(`layerlens: warning: not verified: layer 1 blob digest mismatch: expected ${IMG.layers[1]!.digest}`);
    expect(lax.stderr).toContain(`layerlens: warning: not verified: layer 1 diff_id mismatch: config says ${IMG.layers[1]!.diffId}`);
  });
});

describe('nothing is read from outside the image', () => {
  it('a blob of a layout directory that is a symlink out of it is not followed: the blob is missing', async () => {
    fs.writeFileSync(path.join(tmp.dir, 'secret.txt'), 'outside the layout\n');
    for (const target of ['../../../secret.txt', path.join(tmp.dir, 'secret.txt'), '/etc/passwd']) {
      const t = ociLayout([{ image: IMG }]);
      t.remove(blobPath(IMG.layers[0]!.digest)).symlink(blobPath(IMG.layers[0]!.digest), target);
      const dir = t.writeTo(path.join(tmp.dir, `linked-${Math.random().toString(36).slice(2)}`));
      for (const args of [['layers', dir], ['cat', dir, '/etc/motd']]) {
        const r = await run(args);
        expect(r.code).toBe(2);
        expect(r.stdout).toBe('');
        expect(r.stderr).toBe(`layerlens: error: ${dir}: ${blobPath(IMG.layers[0]!.digest)}: layer 0 blob ${IMG.layers[0]!.digest} is missing\n`);
      }
    }
  });

  it('a member of a tar archive that is a symlink to a host path names a member inside the archive', async () => {
    const t = dockerArchive([{ image: IMG, repoTags: ['x:1'] }], { directLayers: true });
    const layerName = `${IMG.layers[0]!.digest.slice(7)}.tar`;
    t.remove(layerName).symlink(layerName, '/etc/passwd');
    const file = tmp.file('member-link.tar', t.toTar());
    const r = await run(['layers', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is missing/);
    expect(r.stderr).not.toContain('root:');
  });

  it("cat follows links inside the image's root only: the host's files never come out", async () => {
    const layers = [
      { tar: tar().dir('etc/').file('etc/passwd', 'image passwd\n').symlink('up', '../../../../../etc/passwd').symlink('abs', '/etc/passwd') },
      { tar: tar().hardlink('hard', '../../../../etc/passwd').hardlink('hard2', '/etc/shadow').symlink('shadow', '/../../etc/shadow') },
    ];
    const f = tmp.file('cat-links.tar', dockerArchive([{ image: image({ layers }), repoTags: ['c:1'] }]).toTar());
    for (const p of ['/up', '/abs', '/hard', '/etc/../../../etc/passwd']) {
      const r = await run(['cat', f, p]);
      expect([p, r.code, r.stdout]).toEqual([p, 0, 'image passwd\n']);
    }
    for (const p of ['/hard2', '/shadow']) {
      const r = await run(['cat', f, p]);
      expect([p, r.code, r.stdout, r.stderr]).toEqual([p, 2, '', `layerlens: error: ${f}: no such file in the image: ${p}\n`]);
    }
  });
});

describe('export writes inside the folder it is extracted to, whatever the layers name', () => {
  it('`..` and absolute names, symlinked parents, links that climb out, hard links: every name in the tar stays inside', async () => {
    const layers = [
      {
        tar: tar()
          .file('../../escape.txt', 'escape')
          .file('/abs.txt', 'abs')
          .dir('a/')
          .symlink('a/outside-link', '../../../../../../tmp')
          .symlink('root-link', '/')
          .hardlink('hl', '../../escape.txt'),
      },
      { tar: tar().file('a/outside-link/pwned.txt', 'through the link').file('root-link/etc/x', 'x').hardlink('a/hl2', '/abs.txt') },
    ];
    const f = tmp.file('hostile.tar', dockerArchive([{ image: image({ layers }), repoTags: ['h:1'] }]).toTar());
    const out = path.join(tmp.dir, 'hostile-export.tar');
    const r = await run(['export', f, out]);
    expect(r.code, r.stderr).toBe(0);
    const listed = execFileSync('tar', ['-tvf', out, '--numeric-owner'], { encoding: 'utf8' }).trim().split('\n');
    const names = execFileSync('tar', ['-tf', out], { encoding: 'utf8' }).trim().split('\n');
    expect(names.filter((n) => n.startsWith('/') || n.split('/').includes('..'))).toEqual([]);
    // Hard links name paths inside the tar.
    for (const l of listed.filter((x) => x.startsWith('h'))) expect(l).toMatch(/ link to (?!\/)(?!.*\.\.)/);
    expect(names).toEqual(expect.arrayContaining(['escape.txt', 'abs.txt', 'tmp/pwned.txt', 'etc/x', 'hl', 'a/hl2']));

    // Extracted into an empty folder, nothing appears beside it.
    const parent = fs.mkdtempSync(path.join(tmp.dir, 'extract-'));
    const into = path.join(parent, 'rootfs');
    fs.mkdirSync(into);
    execFileSync('tar', ['-xf', out, '-C', into]);
    expect(fs.readdirSync(parent)).toEqual(['rootfs']);
    expect(fs.readFileSync(path.join(into, 'tmp/pwned.txt'), 'utf8')).toBe('through the link');
    expect(fs.lstatSync(path.join(into, 'a/outside-link')).isSymbolicLink()).toBe(true);
  });
});
