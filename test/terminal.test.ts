// What only a terminal gets: a progress line on stderr while layers are read, and coloured change
// marks. Pipes, files, --quiet, --format json and NO_COLOR get plain text.
import { Readable, Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { NOW } from './helpers/cli.js';

const TINY = 'samples/tiny.docker-archive.tar';

function sink(tty: boolean): Writable & { text(): string } {
  const chunks: Buffer[] = [];
  const s = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    },
  }) as Writable & { text(): string; isTTY?: boolean };
  if (tty) s.isTTY = true;
  s.text = () => Buffer.concat(chunks).toString('utf8');
  return s;
}

async function runTty(args: string[], opts: { stdoutTty?: boolean; stderrTty?: boolean } = {}) {
  const stdout = sink(!!opts.stdoutTty);
  const stderr = sink(!!opts.stderrTty);
  const code = await main(['node', 'layerlens', ...args], { stdout, stderr, stdin: Readable.from([]), now: () => NOW });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

const ENV = { NO_COLOR: process.env.NO_COLOR, FORCE_COLOR: process.env.FORCE_COLOR };
afterEach(() => {
  for (const [k, v] of Object.entries(ENV)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe('progress on stderr', () => {
  it('shows bytes read per layer on a terminal, and wipes the line when done', async () => {
    for (const command of ['layers', 'tree']) {
      const r = await runTty([command, TINY], { stderrTty: true });
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/^\rlayerlens: reading layers: [\d.]+kB of 1.02MB \(layer 1 of 5\)\u001b\[K/);
      expect(r.stderr.endsWith('\r\u001b[K')).toBe(true);
      expect(r.stdout).not.toContain('reading layer');
    }
  });

  it('is silent with --quiet, with --format json, and when stderr is not a terminal', async () => {
    expect((await runTty(['layers', TINY, '--quiet'], { stderrTty: true })).stderr).toBe('');
    expect((await runTty(['layers', TINY, '-q'], { stderrTty: true })).stderr).toBe('');
    expect((await runTty(['layers', TINY, '--format', 'json'], { stderrTty: true })).stderr).toBe('');
    expect((await runTty(['layers', TINY])).stderr).toBe('');
  });
});

describe('colour', () => {
  it('colours the change marks on a terminal: added green, modified yellow, removed red', async () => {
    delete process.env.NO_COLOR;
    delete process.env.FORCE_COLOR;
    const r = await runTty(['tree', TINY, '/opt/app', '--changes', '--layer', '2'], { stdoutTty: true });
    expect(r.stdout).toContain('\u001b[32m+\u001b[39m -rw-r--r--');
    expect(r.stdout).toContain('\u001b[33m~\u001b[39m -rwxr-xr-x');
    expect(r.stdout).toContain('\u001b[31m-\u001b[39m');
    const c = await runTty(['changes', TINY, '--layer', '2'], { stdoutTty: true });
    expect(c.stdout).toContain('│ \u001b[32m+\u001b[39m │ added ');
  });

  it('is plain text with NO_COLOR, when stdout is not a terminal, and in JSON and Markdown', async () => {
    delete process.env.FORCE_COLOR;
    process.env.NO_COLOR = '1';
    expect((await runTty(['tree', TINY, '--changes', '--layer', '2'], { stdoutTty: true })).stdout).not.toContain('\u001b[');
    delete process.env.NO_COLOR;
    expect((await runTty(['tree', TINY, '--changes', '--layer', '2'])).stdout).not.toContain('\u001b[');
    for (const format of ['json', 'markdown']) {
      expect((await runTty(['changes', TINY, '--layer', '2', '--format', format], { stdoutTty: true })).stdout).not.toContain('\u001b[');
    }
  });

  it('colours the verdicts of ci only on a terminal', async () => {
    delete process.env.NO_COLOR;
    delete process.env.FORCE_COLOR;
    const tty = await runTty(['ci', TINY, '--lowestEfficiency', '0.5'], { stdoutTty: true });
    expect(tty.stdout).toContain('\u001b[32mPASS\u001b[39m  lowestEfficiency');
    const plain = await runTty(['ci', TINY, '--lowestEfficiency', '0.5']);
    expect(plain.stdout).not.toContain('\u001b[');
  });
});
