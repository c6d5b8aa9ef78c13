// The safety-limit flags every command that reads an image takes: --max-bytes, --max-entries,
// --max-path-length, --max-link-depth and --max-json-bytes (defaults in image/limits.ts).
import type { Command } from 'commander';
import { LayerlensError } from '../image/errors.js';
import { DEFAULT_LIMITS, LIMIT_FLAGS, formatLimit, isSizeLimit, type Limits } from '../image/limits.js';

export interface LimitFlags {
  maxBytes?: string;
  maxEntries?: string;
  maxMetadataBytes?: string;
  maxPathLength?: string;
  maxLinkDepth?: string;
  maxJsonBytes?: string;
}

const HELP: Record<keyof Limits, string> = {
  maxBytes: 'stop after this many uncompressed bytes (all layers read, or a compressed archive); k, M, G, T are powers of 1000, Ki, Mi, Gi, Ti of 1024',
  maxEntries: "stop after this many tar entries (all layers read, or the archive's members) or paths in the filesystem tree",
  maxMetadataBytes: 'stop when the paths (each counted in full), link targets and xattrs of the filesystem tree hold more bytes than this',
  maxPathLength: 'refuse a path or link target longer than this many bytes (also once symlinks are resolved)',
  maxLinkDepth: 'refuse to follow more than this many symbolic links to resolve one path',
  maxJsonBytes: 'refuse a manifest, index or config larger than this many bytes',
};

export function addLimitFlags(cmd: Command): Command {
  for (const key of Object.keys(LIMIT_FLAGS) as Array<keyof Limits>) {
    const size = isSizeLimit(key);
    cmd.option(`${LIMIT_FLAGS[key]} <${size ? 'size' : 'n'}>`, `${HELP[key]} (default ${formatLimit(key, DEFAULT_LIMITS[key])})`);
  }
  return cmd;
}

const UNITS: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** A size as the flags take it: `1000`, `512Mi`, `2G`, `1.5Gi` (a trailing `B` is allowed). */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(k|K|M|G|T|Ki|Mi|Gi|Ti)?B?\s*$/.exec(text);
  if (!m) return undefined;
  const n = Math.floor(Number(m[1]) * UNITS[m[2] ?? '']!);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The limits the flags set (only those given; the rest stay at their defaults). */
export function limitsFromFlags(flags: LimitFlags): Partial<Limits> {
  const out: Partial<Limits> = {};
  for (const key of Object.keys(LIMIT_FLAGS) as Array<keyof Limits>) {
    const raw = flags[key];
    if (raw === undefined) continue;
    const size = isSizeLimit(key);
    const n = size ? parseSize(raw) : /^\s*\d+\s*$/.test(raw) ? Number(raw) : undefined;
    // Following no symlink at all is a choice; reading nothing is not.
    const least = key === 'maxLinkDepth' ? 0 : 1;
    if (n === undefined || !Number.isSafeInteger(n) || n < least) {
      throw new LayerlensError('usage', `${LIMIT_FLAGS[key]} takes ${size ? 'a size such as 100000, 512Mi or 2G' : `a whole number of ${least} or more`}, not ${JSON.stringify(raw)}`);
    }
    out[key] = n;
  }
  return out;
}
