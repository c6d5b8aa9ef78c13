// Run the layerlens CLI in-process, with captured output, as a user would see it.
import { Readable, Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A fixed "now" so relative times are stable: 2026-11-27T00:00:00Z. */
export const NOW = Date.parse('2026-11-27T00:00:00Z');

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(Buffer.from(chunk));
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

export async function run(args: string[], opts: { stdin?: Buffer | Readable } = {}): Promise<RunResult> {
  const out = sink();
  const err = sink();
  const stdin = opts.stdin instanceof Readable ? opts.stdin : Readable.from(opts.stdin ? [opts.stdin] : []);
  const code = await main(['node', 'layerlens', ...args], { stdout: out.stream, stderr: err.stream, stdin, now: () => NOW });
  return { code, stdout: out.text(), stderr: err.text() };
}

/** Parse stdout as JSON, failing with the output shown when it is not. */
export function parseJson<T = unknown>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
  }
}
