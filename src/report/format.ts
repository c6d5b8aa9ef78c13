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

/** Every string as escapeName() shows it. */
const escapeStrings = (_key: string, v: unknown) => (typeof v === 'string' ? escapeName(v) : v);

/** A lone surrogate that stands for a byte of a name that is not UTF-8, as JSON.stringify writes it. */
const RAW_BYTE_ESCAPE = /\\udc[89a-f]/;

/**
 * JSON.stringify with every string as showName() shows it. escapeName changes only a string
 * holding a lone surrogate for a raw byte, which JSON.stringify writes as `\udc80`..`\udcff`:
 * without one in the text, every string is its own display form, and the replacer (a call for
 * every value: millions in the listing of a large image) is not run at all.
 */
export function stringifyShown(value: unknown, indent?: number): string {
  const text = JSON.stringify(value, null, indent);
  return RAW_BYTE_ESCAPE.test(text) ? JSON.stringify(value, escapeStrings, indent) : text;
}

/** JSON text; every string goes through showName, so names that are not UTF-8 read as in tables. */
export function json(value: unknown, indent = 2): string {
  return stringifyShown(value, indent) + '\n';
}

/**
 * Items of an array as json() writes them there, two spaces deeper, joined by `,\n`: the text
 * between the brackets of the array that holds them (no re-indenting, which on a layer of
 * 120,000 changes cost more than the text itself).
 */
export function jsonArrayItems(items: readonly unknown[]): string {
  return items.length === 0 ? '' : stringifyShown(items, 2).slice(2, -2);
}

/** The text of `json(array)`, in pieces, from runs of the array's items as jsonArrayItems() writes them. */
export function* jsonArrayFrom(items: Iterable<string>): Generator<string> {
  let first = true;
  for (const item of items) {
    yield (first ? '[\n' : ',\n') + item;
    first = false;
  }
  yield first ? '[]\n' : '\n]\n';
}

/**
 * The same text as `json(items)`, produced in pieces of `per` items, so a long listing is
 * written out without ever being one string in memory.
 */
export function* jsonArrayChunks(items: readonly unknown[], per = 1000): Generator<string> {
  function* runs() {
    for (let i = 0; i < items.length; i += per) yield jsonArrayItems(items.slice(i, i + per));
  }
  yield* jsonArrayFrom(runs());
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
