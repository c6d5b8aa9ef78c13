// Reading threads started before an image is opened (fs/readers.ts), from the command line alone
// (cli/early.ts): taken by the next pass, the ones it does not need ended, and never holding the
// process open.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { storedBytes } from '../src/cli/early.js';
import { main } from '../src/cli/main.js';
import { endEarlyReaders, startReadersEarly, takeReader } from '../src/fs/readers.js';
import { tempDir } from './helpers/builders.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const READERS = fileURLToPath(new URL('../dist/fs/readers.js', import.meta.url));
const MiB = 1024 * 1024;

describe('startReadersEarly', () => {
  const saved = process.env.LAYERLENS_WORKERS;
  afterEach(() => {
    if (saved === undefined) delete process.env.LAYERLENS_WORKERS;
    else process.env.LAYERLENS_WORKERS = saved;
    endEarlyReaders(0);
  });

  it('starts none for a small image, as many as asked for a large one, and hands them out first', async () => {
    delete process.env.LAYERLENS_WORKERS;
    startReadersEarly(8 * MiB);
    expect(endEarlyReaders(0)).toBe(0);
    process.env.LAYERLENS_WORKERS = '3';
    startReadersEarly(64 * MiB);
    // A pass that needs two: the third ends, the two are taken, and a third taken is a new one.
    expect(endEarlyReaders(2)).toBe(1);
    const taken = [takeReader(), takeReader()];
    const fresh = takeReader();
    expect(Math.max(...taken.map((w) => w.threadId))).toBeLessThan(fresh.threadId);
    await Promise.all([...taken, fresh].map((w) => w.terminate()));
  });

  it('does not hold the process open: a command that fails before reading ends at once', () => {
    // A script file, not --input-type=module: workers inherit the process's flags, and that one
    // would stop them starting at all.
    const script = tmp.file('early.mjs', Buffer.from(`
      import { startReadersEarly } from ${JSON.stringify(READERS)};
      startReadersEarly(${1024 * MiB});
      console.log('started');
    `));
    const started = Date.now();
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, LAYERLENS_WORKERS: '2' } });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('started\n');
    expect(r.status).toBe(0); // null had it been killed at the timeout
    expect(Date.now() - started).toBeLessThan(8_000);
  });

  it('hands out, from any copy of the module, the threads another copy started', () => {
    // The command line's prelude starts them from a bundle of its own, and the rest of the
    // program takes them from another: two copies of fs/readers.ts, as two URLs make here.
    const url = pathToFileURL(READERS).href;
    const script = tmp.file('copies.mjs', Buffer.from(`
      const prelude = await import(${JSON.stringify(`${url}?prelude`)});
      const program = await import(${JSON.stringify(`${url}?program`)});
      prelude.startReadersEarly(${1024 * MiB});
      program.startReadersEarly(${1024 * MiB}); // as many as asked are there: none more
      const taken = program.takeReader();
      console.log(program.endEarlyReaders(0), prelude.endEarlyReaders(0));
      await taken.terminate();
      await program.earlyReadersGone();
    `));
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 10_000, env: { ...process.env, LAYERLENS_WORKERS: '2' } });
    expect(r.stderr).toBe('');
    // Of the prelude's two, the program took one and ended the other; none was left to end.
    expect(r.stdout).toBe('1 0\n');
    expect(r.status).toBe(0);
  });
});

describe('main() and the threads it starts early', () => {
  const saved = process.env.LAYERLENS_WORKERS;
  afterEach(() => {
    if (saved === undefined) delete process.env.LAYERLENS_WORKERS;
    else process.env.LAYERLENS_WORKERS = saved;
  });

  it('ends the ones no pass took when the command fails before reading a layer', async () => {
    // A file that is no image: the command fails while opening it, after the threads started.
    const file = tmp.file('not-an-image.tar', Buffer.from('not a tar archive at all'));
    process.env.LAYERLENS_WORKERS = '2';
    const exited: Promise<unknown>[] = [];
    const watch = (w: import('node:worker_threads').Worker) => exited.push(new Promise((resolve) => w.once('exit', resolve)));
    process.on('worker', watch);
    let stderr = '';
    try {
      const code = await main(['node', 'layerlens', 'analyze', file], { stdout: sink(), stderr: sink((s) => (stderr += s)) });
      expect(code).toBe(2);
      expect(stderr).toMatch(/^layerlens: error: /);
    } finally {
      process.off('worker', watch);
    }
    // Two were started, and both are gone as main() returns: a caller that goes on (the
    // library, the fuzzer) is not left with them or their file descriptors.
    expect(exited).toHaveLength(2);
    const now = new Promise((resolve) => setImmediate(() => resolve('still running')));
    for (const e of exited) expect(await Promise.race([e, now])).not.toBe('still running');
  });
});

/** A writable that keeps nothing, or hands each write to `onText`. */
function sink(onText?: (s: string) => void): NodeJS.WritableStream {
  return { write: (s: string | Uint8Array) => (onText?.(String(s)), true), on: () => undefined } as unknown as NodeJS.WritableStream;
}

describe('storedBytes (cli/early.ts): the size of what the command line names', () => {
  it('a file, also as FILE:REF; an OCI layout by its blobs; nothing for the rest', () => {
    const file = path.join(tmp.dir, 'image.tar');
    fs.writeFileSync(file, Buffer.alloc(12345));
    const layout = path.join(tmp.dir, 'layout');
    fs.mkdirSync(path.join(layout, 'blobs', 'sha256'), { recursive: true });
    fs.writeFileSync(path.join(layout, 'blobs', 'sha256', 'a'), Buffer.alloc(1000));
    fs.writeFileSync(path.join(layout, 'blobs', 'sha256', 'b'), Buffer.alloc(234));
    fs.writeFileSync(path.join(layout, 'index.json'), '{}');
    expect(storedBytes([file])).toBe(12345);
    expect(storedBytes(['--format', 'json', `${file}:localhost/app:v1`])).toBe(12345);
    expect(storedBytes([layout])).toBe(1234);
    expect(storedBytes([`${layout}:v2`])).toBe(1234);
    expect(storedBytes([tmp.dir])).toBe(0); // a directory that is no layout
    expect(storedBytes(['-', path.join(tmp.dir, 'missing.tar')])).toBe(0);
    // `-` as an option's value, where standard input is no file (here): the file after it counts.
    expect(storedBytes(['-o', '-', file])).toBe(12345);
  });
});
