// One fuzzing worker: receives cases from fuzz/run.js, makes each mutated input in a folder of
// its own, runs the layerlens CLI (dist/) in this process on it, and says how it went. The
// parent kills and replaces a worker that takes too long or grows too large.
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { loadInput, makeArgs, makeCase, materialize, strayFiles, verdict } from './lib.js';

const { main } = await import(new URL('../dist/cli/main.js', import.meta.url).href);

const inputs = new Map();

/**
 * Keeps the first half megabyte written (stderr) and the last 64 KiB, where the error line is;
 * counts all of it (stdout).
 */
function sink(keep) {
  let head = '';
  let tail = '';
  let bytes = 0;
  const stream = new Writable({
    write(chunk, _enc, cb) {
      bytes += chunk.length;
      if (keep) {
        const text = chunk.toString('utf8');
        if (head.length < 512 * 1024) head += text;
        else tail = (tail + text).slice(-65536);
      }
      cb();
    },
  });
  // Where the two parts meet, a line may be cut: the verdict skips what is not a whole line.
  return { stream, text: () => (tail ? `${head}\n[…]\n${tail.slice(tail.indexOf('\n') + 1)}` : head), bytes: () => bytes };
}

function openFds() {
  try {
    return fs.readdirSync('/proc/self/fd').length;
  } catch {
    return 0;
  }
}

process.on('message', async (job) => {
  const dir = path.join(job.workRoot, `case-${job.id}`);
  let reply;
  try {
    let input = inputs.get(job.input);
    if (!input) inputs.set(job.input, (input = loadInput(job.input)));
    const c = makeCase(input, job.seed);
    const target = materialize(c, dir);
    const out = path.join(dir, 'out.tar');
    const args = makeArgs(c, target, out, job.commands, job.refs);
    const viaStdin = c.model.form === 'tar' && args[0] === 'images' && c.r.chance(0.3);
    if (viaStdin) args[1] = '-';
    const stdout = sink(false);
    const stderr = sink(true);
    const fdsBefore = openFds();
    const started = Date.now();
    let code;
    let crashed;
    try {
      code = await main(['node', 'layerlens', ...args], {
        stdout: stdout.stream,
        stderr: stderr.stream,
        stdin: viaStdin ? fs.createReadStream(target) : Readable.from([]),
        now: () => Date.parse('2026-11-27T00:00:00Z'),
      });
    } catch (e) {
      crashed = `main threw: ${e?.stack ?? e}`;
    }
    const ms = Date.now() - started;
    const result = { code, stderr: stderr.text(), stdoutBytes: stdout.bytes(), ms, crashed };
    let problem = verdict(result, { timeLimitMs: job.timeLimitMs, command: args[0] });
    // Nothing may be written but the input and, when export succeeded, out.tar.
    const stray = strayFiles(dir, ['layout', 'image.tar', 'outside-secret', ...(code === 0 ? ['out.tar'] : [])]);
    if (!problem && stray.length) problem = `wrote outside what it was asked to: ${stray.join(', ')}`;
    if (!problem && args[0] === 'export' && code === 0 && !fs.existsSync(out)) problem = 'export exited 0 without writing its output';
    const secret = path.join(dir, 'outside-secret');
    if (!problem && fs.existsSync(secret) && fs.readFileSync(secret, 'utf8') !== 'outside the layout\n') problem = 'a file outside the layout changed';
    const fdsAfter = openFds();
    reply = { id: job.id, args, mutations: c.mutations, fixDigests: c.fixDigests, viaStdin, result, problem, fdsLeaked: fdsAfter - fdsBefore, rss: process.memoryUsage().rss };
  } catch (e) {
    reply = { id: job.id, harnessError: String(e?.stack ?? e) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.send(reply);
});

process.send({ ready: true });
