// The output formats and the options every renderer takes.
import { LayerlensError } from '../image/errors.js';
import { escapeName } from '../layer/names.js';

export type Format = 'table' | 'json' | 'markdown' | 'junit';
export const FORMATS: Format[] = ['table', 'json', 'markdown'];

export interface RenderOptions {
  format: Format;
  /** Human sizes and relative times (docker's --human); false prints exact bytes and RFC 3339. */
  human: boolean;
  /** Do not truncate digests and commands. */
  noTrunc: boolean;
  /** "Now", for relative times (fixed in tests). */
  now: number;
  /** Colour the change marks (a terminal, NO_COLOR unset; never in JSON or Markdown). */
  color?: boolean;
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

/**
 * The same text as `json(items)`, produced in pieces of `per` items, so a long listing is
 * written out without ever being one string in memory.
 */
export function* jsonArrayChunks(items: readonly unknown[], per = 1000): Generator<string> {
  if (items.length === 0) {
    yield '[]\n';
    return;
  }
  const replacer = (_key: string, v: unknown) => (typeof v === 'string' ? escapeName(v) : v);
  for (let i = 0; i < items.length; i += per) {
    const part = items
      .slice(i, i + per)
      .map((item) => '  ' + JSON.stringify(item, replacer, 2).replace(/\n/g, '\n  '))
      .join(',\n');
    yield (i === 0 ? '[\n' : ',\n') + part + (i + per >= items.length ? '\n]\n' : '');
  }
}

/**
 * The version of layerlens's own JSON documents (analyze, ci, report data, ...): each carries it
 * as `schemaVersion`, first. It goes up when a field changes meaning or goes away; new fields
 * do not change it. The docker-shaped arrays (inspect, images, history, ...) keep docker's shape
 * and follow the same version.
 */
export const SCHEMA_VERSION = 1;

/** `doc` with `schemaVersion` as its first key. */
export function versioned<T extends object>(doc: T): { schemaVersion: number } & T {
  return { schemaVersion: SCHEMA_VERSION, ...doc };
}
