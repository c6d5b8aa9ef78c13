// `layerlens diff A B`: two images, each `FILE[:REF]` (two files, or two images of one file).
// What they share is read once; the package databases are kept as their layers stream past.
// Exit status as diff(1): 0 the same (under the chosen filters), 1 different, 2 trouble.
import type { Command } from 'commander';
import { diffImages, type ImageDiff } from '../analysis/diff.js';
import { pathMatcher } from '../fs/glob.js';
import { DATABASE_NAMES, databaseKind, findDatabases, isReadable, parseDatabase, type DatabaseContent } from '../analysis/packages.js';
import { readContents, type ContentRequest } from '../fs/cat.js';
import { DEFAULT_MAX_KEEP, DEFAULT_MAX_KEEP_TOTAL, buildUnionPair, contentKey, type PairResult, type PairSide } from '../fs/pair.js';
import { LayerlensError } from '../image/errors.js';
import type { Image, ImageFile } from '../image/model.js';
import { parsePlatform, type Platform } from '../image/platform.js';
import { renderDiff } from '../report/diff.js';
import { openImageFile } from '../source/open.js';
import { selectImage, splitPathRef } from '../source/select.js';
import { NO_VERIFY_NOTE, addOutputFlags, renderOptions, warn, type CommonFlags, type Io } from './common.js';
import { addLimitFlags, limitsFromFlags } from './limits.js';
import type { Limits } from '../image/limits.js';

export interface DiffPairOptions {
  verify?: boolean;
  /** Safety limits, for everything both images' layers hold together. */
  limits?: Partial<Limits>;
  semantic?: boolean;
  ignore?: string[];
  /** Worker threads to read the layers with; default: chosen by their size and the cores. */
  workers?: number;
}

export interface DiffPairResult {
  diff: ImageDiff;
  pair: PairResult;
  /** Notes and unverified checks from the layers read. */
  warnings: string[];
}

/** The package databases of one side, each read from what was kept while building, or else read now. */
async function databases(image: Image, side: PairSide, ignore: (p: string) => boolean): Promise<{ found: DatabaseContent[]; requests: ContentRequest[]; fill: Array<(data: Buffer | undefined) => void> }> {
  const found: DatabaseContent[] = [];
  const requests: ContentRequest[] = [];
  const fill: Array<(data: Buffer | undefined) => void> = [];
  for (const db of findDatabases(side.union.root, ignore)) {
    const c = db.node.content;
    const entry: DatabaseContent = { path: db.path, kind: db.kind, sha256: c?.sha256 };
    found.push(entry);
    if (!isReadable(db.kind) || !c) continue;
    const kept = side.kept.get(contentKey(c.layer, c.entry));
    const parse = (data: Buffer | undefined) => {
      if (!data) {
        entry.error = `larger than layerlens reads (${DEFAULT_MAX_KEEP / 1048576} MiB a database, ${DEFAULT_MAX_KEEP_TOTAL / 1048576} MiB of them in all)`;
        return;
      }
      try {
        entry.packages = parseDatabase(db.kind, data, db.path);
      } catch (e) {
        entry.error = (e as Error).message;
      }
    };
    if (kept) parse(kept.data);
    else if (c.size === 0) parse(Buffer.alloc(0));
    else {
      const layer = image.layers[c.layer];
      if (!layer) continue;
      requests.push({ layer, entry: c.entry, file: image.file });
      fill.push(parse);
    }
  }
  return { found, requests, fill };
}

/** Compare two opened images: build both filesystems (sharing what they share), read their package databases, diff. */
export async function diffImagePair(a: Image, b: Image, options: DiffPairOptions = {}): Promise<DiffPairResult> {
  const verify = options.verify !== false;
  const ignore = pathMatcher(options.ignore ?? []) ?? (() => false);
  const pair = await buildUnionPair(a.layers, b.layers, {
    verify,
    fileA: a.file,
    fileB: b.file,
    limits: options.limits,
    workers: options.workers,
    keepNames: DATABASE_NAMES,
    keep: (path) => {
      const kind = databaseKind(path);
      return kind !== undefined && isReadable(kind) && !ignore(path);
    },
  });
  const da = await databases(a, pair.a, ignore);
  const db = await databases(b, pair.b, ignore);
  // What was not kept (a database reached through a symlinked directory, a hard link, one too
  // large): every layer that holds any of them read once, for both sides together.
  const requests = [...da.requests, ...db.requests];
  if (requests.length) {
    // The bounds of what was kept while reading, for what is read now.
    const data = await readContents(requests, { verify, file: a.file, limits: options.limits, maxBytes: DEFAULT_MAX_KEEP, maxTotal: DEFAULT_MAX_KEEP_TOTAL });
    [...da.fill, ...db.fill].forEach((f, i) => f(data[i]));
  }
  const warnings: string[] = [];
  for (const s of [...pair.a.scans, ...pair.b.scans]) {
    warnings.push(...s.notes);
    warnings.push(...s.unverified.map((u) => `not verified: ${u}`));
  }
  const diff = diffImages(
    { image: a, union: pair.a.union, layerSizes: pair.a.layerSizes, packages: da.found },
    { image: b, union: pair.b.union, layerSizes: pair.b.layerSizes, packages: db.found },
    { semantic: options.semantic, ignore: options.ignore },
  );
  return { diff, pair, warnings: [...new Set(warnings)] };
}

interface DiffFlags extends CommonFlags {
  semantic?: boolean;
  ignore: string[];
  limit: string;
}

/** `--platform P` for both sides, or `--platform P,Q` for A and B. */
function platforms(value: string | undefined): [Platform | undefined, Platform | undefined] {
  if (value === undefined) return [undefined, undefined];
  const parts = value.split(',');
  if (parts.length > 2) throw new LayerlensError('usage', `--platform takes os/arch[/variant], or two of them separated by a comma (for A and B), not ${JSON.stringify(value)}`);
  const parsed = parts.map((p) => {
    const pl = parsePlatform(p.trim());
    if (!pl) throw new LayerlensError('usage', `--platform ${JSON.stringify(p)} is not os/arch[/variant]`);
    return pl;
  });
  return [parsed[0], parsed[1] ?? parsed[0]];
}

export function registerDiff(program: Command, io: Io): void {
  const cmd = program
    .command('diff')
    .description('what changed between two images: identity, layers, config, history, files and packages (exit 0 same, 1 different)')
    .argument('<A>', 'the first image: FILE[:REF]')
    .argument('<B>', 'the second image: FILE[:REF] (the same FILE with another REF compares two images of one file)')
    .option('--semantic', "ignore timestamps, history and other build noise, as diffoci's --semantic does")
    .option('--ignore <glob>', 'leave out paths matching GLOB (repeatable; ** matches any depth: /var/log/**, **/*.pyc)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--limit <N>', 'rows per list in table and markdown output (0: all; JSON has everything)', '100')
    .option('--platform <os/arch[,os/arch]>', "choose from an index by platform, for both images or for A and B (default: this host's)")
    .option('--no-verify', "don't fail on digest mismatches (they are listed on stderr)");
  addLimitFlags(addOutputFlags(cmd)).action(async (argA: string, argB: string, flags: DiffFlags) => {
    const o = renderOptions(flags, io);
    const limit = Number(flags.limit);
    if (!Number.isInteger(limit) || limit < 0) throw new LayerlensError('usage', `--limit takes a whole number, not ${JSON.stringify(flags.limit)}`);
    const [pa, pb] = platforms(flags.platform);
    const verify = flags.verify !== false;
    const limits = limitsFromFlags(flags);
    const sa = splitPathRef(argA);
    const sb = splitPathRef(argB);
    const files: ImageFile[] = [];
    try {
      const open = async (path: string) => {
        const f = await openImageFile(path, { verify, stdin: io.stdin as never, limits });
        files.push(f);
        for (const w of f.warnings) warn(io, `warning: ${path}: ${w}`);
        return f;
      };
      const fa = await open(sa.path);
      // Two images of one file: the file is opened (and, if compressed or standard input, spooled) once.
      const fb = sb.path === sa.path ? fa : await open(sb.path);
      const selA = selectImage(fa, { ref: sa.ref, platform: pa });
      const selB = selectImage(fb, { ref: sb.ref, platform: pb });
      for (const n of new Set([selA.note, selB.note])) if (n) warn(io, `note: ${n}`);
      for (const w of new Set([...selA.image.warnings, ...selB.image.warnings])) warn(io, `warning: ${w}`);
      if (!verify) warn(io, NO_VERIFY_NOTE);
      const { diff, warnings } = await diffImagePair(selA.image, selB.image, { verify, limits, semantic: !!flags.semantic, ignore: flags.ignore });
      for (const w of warnings) warn(io, w.startsWith('not verified') ? `warning: ${w}` : `note: ${w}`);
      io.stdout.write(renderDiff({ a: argA, b: argB, diff, limit, warnings }, o));
      io.exitCode = diff.summary.same ? 0 : 1;
    } finally {
      for (const f of files) await f.close();
    }
  });
}
