// What every command shares: the image-picking flags, opening and selecting, output options,
// and how warnings reach stderr.
import { Command, Option } from 'commander';
import { LayerlensError } from '../image/errors.js';
import type { Image, ImageFile } from '../image/model.js';
import { parseFormat, showName, type Format, type RenderOptions } from '../report/format.js';
import { openImageFile } from '../source/open.js';
import { openImage } from '../source/open-image.js';
import { splitPathRef } from '../source/select.js';

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  now: () => number;
}

export interface CommonFlags {
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
  return cmd
    .option('--image <ref>', 'choose an image by tag, OCI ref name, or digest (prefix); same as FILE:REF')
    .option('--platform <os/arch[/variant]>', "choose from an index by platform (default: this host's)")
    .option('--no-verify', "don't fail on digest mismatches (they are listed on stderr)");
}

export function renderOptions(flags: CommonFlags, io: Io, formats?: Format[]): RenderOptions {
  const h = flags.human;
  let human: boolean;
  if (h === true || h === 'true' || h === '1') human = true;
  else if (h === false || h === 'false' || h === '0') human = false;
  else throw new LayerlensError('usage', `--human takes true or false, not ${JSON.stringify(h)}`);
  return { format: parseFormat(flags.format, formats), human, noTrunc: flags.trunc === false, now: io.now() };
}

export function warn(io: Io, message: string): void {
  io.stderr.write(`layerlens: ${showName(message)}\n`);
}

export async function openFile(arg: string, flags: { verify?: boolean }, io: Io): Promise<{ file: ImageFile; ref?: string }> {
  const { path, ref } = splitPathRef(arg);
  const file = await openImageFile(path, { verify: flags.verify !== false, stdin: io.stdin as never });
  for (const w of file.warnings) warn(io, `warning: ${path}: ${w}`);
  return { file, ref };
}

/** Open FILE[:REF] and choose one image; `--image` and `--platform` refine the choice. */
export async function openOne(arg: string, flags: CommonFlags, io: Io): Promise<{ file: ImageFile; image: Image }> {
  const { file, image, note } = await openImage(arg, { image: flags.image, platform: flags.platform, verify: flags.verify !== false, stdin: io.stdin as never });
  for (const w of file.warnings) warn(io, `warning: ${file.file}: ${w}`);
  if (note) warn(io, `note: ${note}`);
  for (const w of image.warnings) warn(io, `warning: ${w}`);
  if (flags.verify === false) warn(io, 'warning: --no-verify: digest mismatches are reported, not treated as errors');
  return { file, image };
}
