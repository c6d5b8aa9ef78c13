// bin/layerlens.js runs the command line as the build bundles it (dist/bundle/prelude.js, then
// run.js, with the reading thread in scan-worker.js beside them): the same program as the modules
// the other tests run in-process, in another form. These run the bundle as a user does and hold it
// to the same output, threads, dependencies loaded at run time (yaml) and errors.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { HAS_ZSTD, ZSTD_CLI, image, ociLayout, tar, tempDir } from './helpers/builders.js';
import { run } from './helpers/cli.js';

const BIN = fileURLToPath(new URL('../bin/layerlens.js', import.meta.url));
const BUNDLE = fileURLToPath(new URL('../dist/bundle/', import.meta.url));
const sample = (name: string) => fileURLToPath(new URL(`../samples/${name}`, import.meta.url));

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the bundled command line', () => {
  it('is a prelude, the command line, and its reading threads, a file each', () => {
    expect(fs.readdirSync(BUNDLE).filter((f) => f.endsWith('.js')).sort()).toEqual(['prelude.js', 'run.js', 'scan-worker.js']);
  });

  it('prints the version of package.json', () => {
    const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(cli(['--version'])).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  // Reading threads forced: they start from the bundle's own worker file.
  for (const workers of ['0', '2']) {
    it(`gives analyze's output of the modules, byte for byte (LAYERLENS_WORKERS=${workers})`, async () => {
      for (const name of ['tiny.docker-archive.tar', 'tiny-zstd.oci-archive.tar']) {
        const bundled = cli(['analyze', sample(name), '--format', 'json'], { LAYERLENS_WORKERS: workers });
        const modules = await run(['analyze', sample(name), '--format', 'json']);
        expect(bundled.stderr).toBe('');
        expect(bundled.code).toBe(0);
        expect(bundled.stdout).toBe(modules.stdout);
      }
    });
  }

  // zstd layers large enough for the zstd program, decoded by it and by fzstd (LAYERLENS_ZSTD=js),
  // in this thread and in reading threads, with a layer cut short: the same output and errors.
  (HAS_ZSTD ? it : it.skip)('decodes large zstd layers with the zstd program or without it, to the same output', () => {
    // Bytes that do not compress: sha256 of a counter.
    const noise = Buffer.concat(Array.from({ length: 600_000 / 32 }, (_, i) => createHash('sha256').update(String(i)).digest()));
    const img = image({
      layers: [
        { tar: tar().dir('data/').file('data/noise', noise), compression: 'zstd' },
        { tar: tar().file('data/more', noise.subarray(0, 300_000)).file('data/.wh.noise'), compression: 'zstd' },
      ],
    });
    const dir = ociLayout([{ image: img, refName: 'z' }]).writeTo(tmp.file('zstd-layout'));
    const cut = ociLayout([{ image: img, refName: 'z' }]).writeTo(tmp.file('zstd-cut'));
    const blob = `${cut}/blobs/sha256/${img.layers[0]!.digest.slice(7)}`;
    fs.truncateSync(blob, fs.statSync(blob).size - 1000);
    const runs = [];
    for (const zstdProgram of [ZSTD_CLI, 'js']) {
      for (const workers of ['0', '2']) {
        const env = { LAYERLENS_ZSTD: zstdProgram, LAYERLENS_WORKERS: workers };
        const ok = cli(['analyze', dir, '--format', 'json'], env);
        expect(ok.stderr).toBe('');
        expect(ok.code).toBe(0);
        const broken = cli(['analyze', cut, '--no-verify'], env);
        expect(broken.code).toBe(2);
        runs.push([ok.stdout, broken.stderr]);
      }
    }
    expect(runs[0]![1]).toMatch(/zstd stream ends early\n$/);
    for (const r of runs) expect(r).toEqual(runs[0]);
    // These layers are the program's to decode: one that is not there says so.
    expect(cli(['analyze', dir], { LAYERLENS_ZSTD: '/nonexistent/zstd' }).stderr).toMatch(/cannot run \/nonexistent\/zstd to decode zstd \(ENOENT; LAYERLENS_ZSTD=js decodes without it\)\n$/);
  });

  it('reads a rules file with yaml, loaded at run time', () => {
    const rules = tmp.file('rules.yml', Buffer.from('rules:\n  lowestEfficiency: 0.5\n  maxLayerCount: 12\n'));
    const r = cli(['ci', sample('tiny.docker-archive.tar'), '--config', rules]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/PASS/);
    expect(r.code).toBe(0);
  });

  it('says in one line, with status 2, when it has not been built', () => {
    // bin/ as a clone has it before `npm run build`: no dist/ beside it (a folder with a space).
    const bin = tmp.file('a clone/bin/layerlens.js', fs.readFileSync(BIN));
    const r = spawnSync(process.execPath, [bin, 'images', sample('tiny.docker-archive.tar')], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('layerlens: error: the command line is not built: run `npm run build`\n');
  });

  it('fails in one line with status 2 on a file that is not there', () => {
    const r = cli(['analyze', tmp.file('missing.tar')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^layerlens: error: [^\n]*\n$/);
  });
});
