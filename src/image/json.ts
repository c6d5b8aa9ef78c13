// Parsing JSON documents from an image: size-limited, and every failure a LayerlensError that
// names where the document came from.
import { LayerlensError } from './errors.js';
import { DEFAULT_LIMITS, MAX_JSON_DEPTH, limitError } from './limits.js';

/**
 * Manifests, indexes and configs are small; a larger document is refused rather than parsed
 * (the default of `--max-json-bytes`).
 */
export const MAX_JSON_BYTES = DEFAULT_LIMITS.maxJsonBytes;

export interface Where {
  file?: string;
  member?: string;
}

export function parseJsonDocument(bytes: Uint8Array, where: Where, what: string, maxBytes: number = MAX_JSON_BYTES): unknown {
  const subject = what === where.member ? 'it' : what;
  if (bytes.length > maxBytes) {
    throw limitError('maxJsonBytes', `${subject} is ${bytes.length} bytes, too large for a JSON document`, maxBytes, where);
  }
  // Nesting is bounded before parsing: what is parsed is later walked (and printed) recursively.
  const depth = nestingDepth(bytes, MAX_JSON_DEPTH);
  if (depth > MAX_JSON_DEPTH) {
    throw new LayerlensError('limit', `${subject} nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`, where);
  }
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    const reason = bytes.length === 0 ? 'it is empty' : (e as Error).message;
    throw new LayerlensError('format', `${subject} is not valid JSON (${reason})`, where);
  }
}

/**
 * How deeply `[` and `{` nest in JSON text (outside strings), counting no further than `stop + 1`.
 * Malformed text is left for JSON.parse to report.
 */
function nestingDepth(b: Uint8Array, stop: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) deepest = depth;
      if (depth > stop) break;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return deepest;
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
