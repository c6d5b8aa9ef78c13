// Parsing JSON documents from an image: size-limited, and every failure a LayerlensError that
// names where the document came from.
import { LayerlensError } from './errors.js';

/** Manifests, indexes and configs are small; a larger document is refused rather than parsed. */
export const MAX_JSON_BYTES = 16 * 1024 * 1024;

export interface Where {
  file?: string;
  member?: string;
}

export function parseJsonDocument(bytes: Uint8Array, where: Where, what: string): unknown {
  if (bytes.length > MAX_JSON_BYTES) {
    throw new LayerlensError('limit', `${what} is ${bytes.length} bytes, more than the ${MAX_JSON_BYTES}-byte limit for a JSON document`, where);
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    const reason = bytes.length === 0 ? 'it is empty' : (e as Error).message;
    const subject = what === where.member ? 'it' : what;
    throw new LayerlensError('format', `${subject} is not valid JSON (${reason})`, where);
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function optString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function stringArray(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObject(v)) for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}
