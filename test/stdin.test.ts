// `-` as a process really gets it: standard input redirected from a file is read where it lies
// (source/stdin.ts), by offset and from the reading threads; a pipe, a compressed file, or a file
// the shell has already read into is copied to a temporary file first, as before.
import { spawnSync, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/builders.js';

const BIN = fileURLToPath(new URL('../bin/layerlens.js', import.meta.url));
const sample = (name: string) => fileURLToPath(new URL(`../samples/${name}`, import.meta.url));

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** Run the command line with `stdin` as its standard input (a descriptor, or bytes through a pipe). */
function cli(args: string[], stdin: number | Buffer, env: Record<string, string> = {}) {
  const stdio: StdioOptions = [typeof stdin === 'number' ? stdin : 'pipe', 'pipe', 'pipe'];
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    stdio,
    input: typeof stdin === 'number' ? undefined : stdin,
    env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function withFile<T>(file: string, use: (fd: number) => T): T {
  const fd = fs.openSync(file, 'r');
  try {
    return use(fd);
  } finally {
    fs.closeSync(fd);
  }
}

// Where a temporary file cannot be made, only a copy of standard input can fail.
const NO_TMP = { TMPDIR: path.join(tmp.dir, 'not-there') };

describe('standard input', () => {
  for (const workers of ['0', '2']) {
    it(`redirected from a tar, is read in place: no temporary copy (LAYERLENS_WORKERS=${workers})`, () => {
      const file = sample('tiny.docker-archive.tar');
      const named = cli(['analyze', file, '--format', 'json'], Buffer.alloc(0));
      expect(named.code).toBe(0);
      const redirected = withFile(file, (fd) => cli(['analyze', '-', '--format', 'json'], fd, { ...NO_TMP, LAYERLENS_WORKERS: workers }));
      expect(redirected.stderr).toBe('');
      expect(redirected.code).toBe(0);
      expect(redirected.stdout).toBe(named.stdout);
    });
  }

  it('through a pipe, is copied to a temporary file first (and fails in one line where none can be made)', () => {
    const bytes = fs.readFileSync(sample('tiny.docker-archive.tar'));
    const piped = cli(['images', '-', '--format', 'json'], bytes);
    expect(piped.stderr).toBe('');
    expect(JSON.parse(piped.stdout)[0].repository).toBe('localhost/corpus/tiny');
    const noTmp = cli(['images', '-'], bytes, NO_TMP);
    expect(noTmp.code).toBe(2);
    expect(noTmp.stderr).toMatch(/^layerlens: error: [^\n]*\n$/);
  });

  it('redirected from a gzip-compressed tar, is decompressed to a temporary file', () => {
    const gz = tmp.file('tiny.tar.gz', zlib.gzipSync(fs.readFileSync(sample('tiny.docker-archive.tar'))));
    const r = withFile(gz, (fd) => cli(['images', '-', '--format', 'json'], fd));
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)[0].repository).toBe('localhost/corpus/tiny');
    expect(withFile(gz, (fd) => cli(['images', '-'], fd, NO_TMP)).code).toBe(2);
  });

  it('redirected from a file the shell has already read into, starts where the shell left it', () => {
    // `{ head -c 512 >/dev/null; layerlens images -; } < FILE`: the image is what follows.
    const tarBytes = fs.readFileSync(sample('tiny.docker-archive.tar'));
    const file = tmp.file('prefixed.tar', Buffer.concat([Buffer.alloc(512, 'x'), tarBytes]));
    const r = withFile(file, (fd) => {
      fs.readSync(fd, Buffer.alloc(512), 0, 512, null);
      return cli(['images', '-', '--format', 'json'], fd);
    });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)[0].repository).toBe('localhost/corpus/tiny');
  });
});
