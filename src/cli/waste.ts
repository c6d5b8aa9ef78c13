import type { Command } from 'commander';
import { DiveTally } from '../analysis/dive.js';
import { wasteReport, type WasteResult } from '../analysis/waste.js';
import type { UnionResult } from '../fs/build.js';
import type { Limits } from '../image/limits.js';
import { pathMatcher } from '../fs/glob.js';
import { WasteLedger } from '../fs/ledger.js';
import { LayerlensError } from '../image/errors.js';
import { alignHistory } from '../image/history.js';
import type { Image } from '../image/model.js';
import { renderWaste } from '../report/waste.js';
import { openImage } from '../source/open-image.js';
import { addImageFlags, addOutputFlags, openOne, renderOptions, warn, type CommonFlags, type Io } from './common.js';
import { limitsFromFlags } from './limits.js';
import { unionAt } from './union.js';

interface WasteFlags extends CommonFlags {
  top: string;
  ignore?: string[];
  baseLayers?: string;
  baseImage?: string;
  dive?: boolean;
}

export interface WasteSetup {
  top: number;
  ignore: string[];
  baseLayers: number;
  baseSource: string | null;
}

/** The history step that made each layer. */
export function layerCommands(image: Image): Array<string | undefined> {
  const aligned = alignHistory(image.config.history, image.layers.length);
  return image.layers.map((_, i) => {
    const h = aligned.layerEntry[i];
    return h === null || h === undefined ? undefined : image.config.history[h]?.createdBy;
  });
}

/** Build the union once with the waste ledger and dive's trees watching, and account for every byte. */
export async function wasteOf(image: Image, setup: WasteSetup, verify: boolean, io: Io, limits?: Partial<Limits>): Promise<{ built: UnionResult; result: WasteResult }> {
  const exclude = pathMatcher(setup.ignore);
  const ledger = new WasteLedger({ exclude });
  const dive = new DiveTally();
  // The waste account compares contents only where sizes match: the rest are not hashed twice.
  const built = await unionAt(image, image.layers.length - 1, verify, io, () => false, limits, { observers: [ledger, dive], defer: true });
  const result = wasteReport(ledger, built.union, dive.metrics(setup.top), {
    top: setup.top,
    baseLayers: setup.baseLayers,
    baseSource: setup.baseSource,
    exclude,
  });
  return { built, result };
}

function wholeNumber(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new LayerlensError('usage', `${flag} takes a whole number, not ${JSON.stringify(value)}`);
  return n;
}

/** How many leading layers of `image` are `base`'s: the longest common prefix of their diff_ids. */
export function sharedLayers(image: Image, base: Image): number {
  const a = image.config.diffIds;
  const b = base.config.diffIds;
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

export function registerWaste(program: Command, io: Io): void {
  const cmd = program
    .command('waste')
    .description('where the bytes go: what each layer stores, what later layers hide (overwritten, metadata-only, removed), duplicates, and dive\'s figures')
    .argument('<FILE[:REF]>', 'the image file, optionally with the image to pick')
    .option('--top <N>', 'list the N paths and duplicate groups with the most bytes (0: all)', '20')
    .option('--ignore <glob>', "leave paths matching GLOB out of layerlens's figures (repeatable; /var/cache/**, *.pyc)", (v: string, all: string[] | undefined) => [...(all ?? []), v])
    .option('--base-layers <N>', 'the first N layers are the base image\'s; the user figures count the others')
    .option('--base-image <FILE[:REF]>', 'the base image: its layers are the leading layers whose diff_ids match')
    .option('--dive', "also list dive's inefficient files, as dive lists them");
  addImageFlags(addOutputFlags(cmd)).action(async (arg: string, flags: WasteFlags) => {
    const o = renderOptions(flags, io);
    const top = wholeNumber('--top', flags.top);
    if (flags.baseLayers !== undefined && flags.baseImage !== undefined) throw new LayerlensError('usage', 'give --base-layers or --base-image, not both');
    const { file, image } = await openOne(arg, flags, io);
    try {
      let baseLayers = 0;
      let baseSource: string | null = null;
      if (flags.baseLayers !== undefined) {
        baseLayers = wholeNumber('--base-layers', flags.baseLayers);
        if (baseLayers > image.layers.length) {
          throw new LayerlensError('usage', `--base-layers ${baseLayers} is more than the image's ${image.layers.length} layer${image.layers.length === 1 ? '' : 's'}`);
        }
        baseSource = `--base-layers ${baseLayers}`;
      } else if (flags.baseImage !== undefined) {
        const other = await openImage(flags.baseImage, { platform: flags.platform, verify: flags.verify !== false, stdin: io.stdin as never, limits: limitsFromFlags(flags) });
        try {
          baseLayers = sharedLayers(image, other.image);
          if (baseLayers < other.image.layers.length) {
            warn(io, `warning: ${flags.baseImage}: only ${baseLayers} of its ${other.image.layers.length} layers are this image's first layers; those ${baseLayers} count as the base`);
          }
        } finally {
          await other.file.close();
        }
        baseSource = `--base-image ${flags.baseImage}`;
      }
      const ignore = flags.ignore ?? [];
      const { result } = await wasteOf(image, { top, ignore, baseLayers, baseSource }, flags.verify !== false, io, limitsFromFlags(flags));
      io.stdout.write(renderWaste({ result, createdBy: layerCommands(image), ignore, top, dive: !!flags.dive }, o));
    } finally {
      await file.close();
    }
  });
}
