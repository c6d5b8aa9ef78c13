// What every command shares: the image-picking flags, opening and selecting, output options,
// and how warnings reach stderr.
import { Command, Option } from 'commander';
import { LayerlensError } from '../image/errors.js';
import type { Image, ImageFile } from '../image/model.js';
import { colorAllowed } from '../report/color.js';
import { parseFormat, showName, type Format, type RenderOptions } from '../report/format.js';
import { openImageFile } from '../source/open.js';
import { openImage } from '../source/open-image.js';
import { splitPathRef } from '../source/select.js';
import { addLimitFlags, limitsFromFlags, type LimitFlags } from './limits.js';

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  now: () => number;
  /** Set by a command whose verdict is an exit status (1: differences found); 0 when unset. */
  exitCode?: number;
  /** Whether a progress line may be drawn on stderr (a terminal, no --quiet, no --format json); set by main. */
  progress?: boolean;
}

export interface CommonFlags extends LimitFlags {
  format: string;
  human: boolean | string;
  trunc: boolean;
  verify: boolean;
  image?: string;
  platform?: string;
}

export function addOutputFlags(cmd: Command, formats: Format[] = ['table', 'json', 'markdown'], defaultFormat: Format = 'table'): Command {
  return cmd
    .addOption(new Option('--format <format>', `output format: ${formats.join(', ')}`).default(defaultFormat))
    .option('-H, --human [bool]', 'human-readable sizes and times; --human=false prints bytes and RFC 3339 times', true)
    .option('--no-trunc', "don't truncate digests and commands");
}

export function addImageFlags(cmd: Command): Command {
  cmd
    .option('--image <ref>', 'choose an image by tag, OCI ref name, or digest (prefix); same as FILE:REF')
    .option('--platform <os/arch[/variant]>', "choose from an index by platform (default: this host's)")
    .option('--no-verify', "don't fail on digest mismatches (they are listed on stderr)")
    .option('-q, --quiet', 'no progress line on stderr while layers are read');
  return addLimitFlags(cmd);
}

export function renderOptions(flags: CommonFlags, io: Io, formats?: Format[]): RenderOptions {
  const h = flags.human;
  let human: boolean;
  if (h === true || h === 'true' || h === '1') human = true;
  else if (h === false || h === 'false' || h === '0') human = false;
  else throw new LayerlensError('usage', `--human takes true or false, not ${JSON.stringify(h)}`);
  const format = parseFormat(flags.format, formats);
  return { format, human, noTrunc: flags.trunc === false, now: io.now(), color: format === 'table' && colorAllowed(io.stdout as { isTTY?: boolean }) };
}

/** What --no-verify does, said once; each mismatch it lets through is then listed on its own line. */
export const NO_VERIFY_NOTE = 'warning: --no-verify: digest mismatches are reported, not treated as errors';

export function warn(io: Io, message: string): void {
  io.stderr.write(`layerlens: ${showName(message)}\n`);
}

/** Open FILE[:REF]; `readLayers` false for a command that reads no layer's content (source/open.ts). */
export async function openFile(arg: string, flags: { verify?: boolean } & LimitFlags, io: Io, readLayers = true): Promise<{ file: ImageFile; ref?: string }> {
  const { path, ref } = splitPathRef(arg);
  const file = await openImageFile(path, { verify: flags.verify !== false, stdin: io.stdin as never, limits: limitsFromFlags(flags), readLayers });
  for (const w of file.warnings) warn(io, `warning: ${path}: ${w}`);
  if (flags.verify === false) warn(io, NO_VERIFY_NOTE);
  return { file, ref };
}

/**
 * Open FILE[:REF] and choose one image; `--image` and `--platform` refine the choice. `readLayers`
 * false for a command that reads no layer's content (source/open.ts).
 */
export async function openOne(arg: string, flags: CommonFlags, io: Io, readLayers = true): Promise<{ file: ImageFile; image: Image }> {
  const { file, image, note } = await openImage(arg, { image: flags.image, platform: flags.platform, verify: flags.verify !== false, stdin: io.stdin as never, limits: limitsFromFlags(flags), readLayers });
  for (const w of file.warnings) warn(io, `warning: ${file.file}: ${w}`);
  if (note) warn(io, `note: ${note}`);
  for (const w of image.warnings) warn(io, `warning: ${w}`);
  if (flags.verify === false) warn(io, NO_VERIFY_NOTE);
  return { file, image };
}
