// The output formats and the options every renderer takes.
import { LayerlensError } from '../image/errors.js';
import { escapeName } from '../layer/names.js';

export type Format = 'table' | 'json' | 'markdown';
export const FORMATS: Format[] = ['table', 'json', 'markdown'];

export interface RenderOptions {
  format: Format;
  /** Human sizes and relative times (docker's --human); false prints exact bytes and RFC 3339. */
  human: boolean;
  /** Do not truncate digests and commands. */
  noTrunc: boolean;
  /** "Now", for relative times (fixed in tests). */
  now: number;
}

export function parseFormat(value: string, allowed: Format[] = FORMATS): Format {
  if ((allowed as string[]).includes(value)) return value as Format;
  throw new LayerlensError('usage', `unknown --format ${JSON.stringify(value)}; use one of ${allowed.join(', ')}`);
}

/**
 * A path (or any text holding one) for people: names are kept as their bytes, and a byte that is
 * not UTF-8 is shown as `\xNN`, in tables, text and JSON alike.
 */
export function showName(s: string): string {
  return escapeName(s);
}

/** JSON text; every string goes through showName, so names that are not UTF-8 read as in tables. */
export function json(value: unknown, indent = 2): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? escapeName(v) : v), indent) + '\n';
}
