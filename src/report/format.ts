// The output formats and the options every renderer takes.
import { LayerlensError } from '../image/errors.js';

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

export function json(value: unknown, indent = 2): string {
  return JSON.stringify(value, null, indent) + '\n';
}
