// The layerlens command line: commander parses, the API does the work, a reporter prints.
// Exit status: 0 ok; 1 differences or failed rules (later commands); 2 bad usage or an image
// that cannot be read, always with one line on stderr and never a stack trace.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { isLayerlensError } from '../image/errors.js';
import { showName } from '../report/format.js';
import type { Io } from './common.js';
import { endUnusedReaders, startReadersForCommand } from './early.js';

type Register = (program: Command, io: Io) => void;

/**
 * Every command, in the order help lists them, each module loaded only when needed: a run of
 * one command loads that command's code and no other's (start-up is part of every run, and
 * `images`, `inspect` and `history` are meant to take a fraction of a second).
 */
const COMMANDS: ReadonlyArray<readonly [string, () => Promise<Register>]> = [
  ['images', async () => (await import('./images.js')).registerImages],
  ['inspect', async () => (await import('./inspect.js')).registerInspect],
  ['history', async () => (await import('./history.js')).registerHistory],
  ['layers', async () => (await import('./layers.js')).registerLayers],
  ['analyze', async () => (await import('./analyze.js')).registerAnalyze],
  ['tree', async () => (await import('./tree.js')).registerTree],
  ['changes', async () => (await import('./changes.js')).registerChanges],
  ['cat', async () => (await import('./cat.js')).registerCat],
  ['export', async () => (await import('./export.js')).registerExport],
  ['diff', async () => (await import('./diff.js')).registerDiff],
  ['ci', async () => (await import('./ci.js')).registerCi],
  ['report', async () => (await import('./report.js')).registerReport],
  ['waste', async () => (await import('./waste.js')).registerWaste],
];

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

/**
 * The program with its commands: only `command`'s when it names one (what a run of it needs),
 * none for --version, every one otherwise (help, an unknown command).
 */
export async function buildProgram(io: Io, command?: string): Promise<Command> {
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
  const one = COMMANDS.find(([name]) => name === command);
  const justVersion = command === '--version' || command === '-V';
  for (const [, load] of one ? [one] : justVersion ? [] : COMMANDS) (await load())(program, io);
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
  // The threads that will read a large image start now, while the command's code loads and the
  // image is opened (cli/early.ts; the command line's prelude has started them already).
  const readsLayers = startReadersForCommand(argv);
  try {
    return await runCommand(argv, full);
  } finally {
    if (readsLayers) await endUnusedReaders();
  }
}

/** Parse `argv` and run its command; the exit status. */
async function runCommand(argv: string[], full: Io): Promise<number> {
  // argv[2] is the command (layerlens has no options of its own before it but --help and --version).
  const program = await buildProgram(full, argv[2]);
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
