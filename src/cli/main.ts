// The layerlens command line: commander parses, the API does the work, a reporter prints.
// Exit status: 0 ok; 1 differences or failed rules (later commands); 2 bad usage or an image
// that cannot be read, always with one line on stderr and never a stack trace.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { isLayerlensError } from '../image/errors.js';
import { showName } from '../report/format.js';
import { registerAnalyze } from './analyze.js';
import type { Io } from './common.js';
import { registerHistory } from './history.js';
import { registerImages } from './images.js';
import { registerInspect } from './inspect.js';
import { registerLayers } from './layers.js';
import { registerTree } from './tree.js';
import { registerChanges } from './changes.js';
import { registerCat } from './cat.js';
import { registerExport } from './export.js';
import { registerDiff } from './diff.js';
import { registerCi } from './ci.js';
import { registerReport } from './report.js';
import { registerWaste } from './waste.js';

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

export function buildProgram(io: Io): Command {
  const program = new Command('layerlens')
    .description('Analyse container images (docker save tarballs, OCI layouts) without a Docker daemon')
    .version(version())
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // One line, as every failure is: commander's message (which may span lines, as "Did you
      // mean ...?" does) and the hint that help exists.
      outputError: (s, write) => write(`layerlens: ${s.trim().replace(/\s*\n\s*/g, ' ')} (run with --help for usage)\n`),
    })
    .exitOverride();
  registerImages(program, io);
  registerInspect(program, io);
  registerHistory(program, io);
  registerLayers(program, io);
  registerAnalyze(program, io);
  registerTree(program, io);
  registerChanges(program, io);
  registerCat(program, io);
  registerExport(program, io);
  registerDiff(program, io);
  registerCi(program, io);
  registerReport(program, io);
  registerWaste(program, io);
  for (const c of program.commands) c.exitOverride().configureOutput(program.configureOutput());
  return program;
}

export async function main(argv: string[], io: Partial<Io> = {}): Promise<number> {
  const full: Io = {
    stdout: io.stdout ?? process.stdout,
    stderr: io.stderr ?? process.stderr,
    stdin: io.stdin ?? process.stdin,
    now: io.now ?? Date.now,
  };
  // A closed pipe (`layerlens ... | head`) is not an error.
  full.stdout.on?.('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  const program = buildProgram(full);
  // A progress line only where a person watches it: stderr is a terminal, no --quiet, no JSON.
  program.hook('preAction', (_program, action) => {
    const o = action.opts() as { quiet?: boolean; format?: string };
    full.progress = (full.stderr as { isTTY?: boolean }).isTTY === true && !o.quiet && o.format !== 'json';
  });
  try {
    if (argv.length <= 2) {
      program.outputHelp();
      return 2;
    }
    await program.parseAsync(argv);
    return full.exitCode ?? 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return 2;
    }
    if (isLayerlensError(e)) {
      // Messages quote paths from archives: bytes that are not UTF-8 are shown as \xNN.
      full.stderr.write(`layerlens: error: ${showName(e.oneLine())}\n`);
      return 2;
    }
    const err = e as Error;
    if (err instanceof RangeError && /Invalid string length|Array buffer allocation failed/.test(err.message)) {
      // JavaScript's own bound on one string (about a gigabyte): what the limits let through
      // can still make a listing too long to build. Say so, rather than report a bug.
      full.stderr.write('layerlens: error: the output is too large to build in memory; ask for less (a PATH, --depth, --layer) or another --format\n');
      return 2;
    }
    if (process.env.LAYERLENS_DEBUG) full.stderr.write(`${err.stack}\n`);
    full.stderr.write(`layerlens: internal error: ${(err?.message ?? String(e)).split('\n')[0]} (set LAYERLENS_DEBUG=1 for details)\n`);
    return 2;
  }
}
