// Reading small blobs (manifests, indexes, configs) and checking them against their
// descriptors. Layers are checked while they stream (layer/scan.ts).
import { createHash } from 'node:crypto';
import type { Descriptor } from '../image/descriptor.js';
import { digestAlgorithm, digestHex, type Digest } from '../image/digest.js';
import { LayerlensError } from '../image/errors.js';
import { MAX_JSON_BYTES, parseJsonDocument } from '../image/json.js';
import type { Store } from './store.js';

export function blobPath(d: Digest): string {
  return `blobs/${digestAlgorithm(d)}/${digestHex(d)}`;
}

export function computeDigest(bytes: Uint8Array, algorithm = 'sha256'): Digest {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}` as Digest;
}

export interface VerifyPolicy {
  verify: boolean;
  /** Where a mismatch is recorded when verify is off. */
  unverified: string[];
  /** The largest JSON document read (`--max-json-bytes`); default MAX_JSON_BYTES. */
  maxJsonBytes?: number;
}

/** Parse a JSON document read under this policy (size- and depth-limited). */
export function parsePolicyJson(bytes: Uint8Array, where: { file?: string; member?: string }, what: string, policy: VerifyPolicy): unknown {
  return parseJsonDocument(bytes, where, what, policy.maxJsonBytes ?? MAX_JSON_BYTES);
}

/** Read a JSON blob named by a descriptor and check its digest and size. */
export async function readBlob(store: Store, desc: Descriptor, what: string, policy: VerifyPolicy): Promise<Buffer> {
  const member = blobPath(desc.digest);
  if (!store.has(member)) {
    throw new LayerlensError('missing', `${what} blob ${desc.digest} is missing`, { file: store.file, member });
  }
  const bytes = await store.read(member, policy.maxJsonBytes ?? MAX_JSON_BYTES);
  checkBlob(bytes, desc.digest, desc.size, `${what} blob`, { file: store.file, member }, policy);
  return bytes;
}

export function checkBlob(
  bytes: Uint8Array,
  digest: Digest,
  size: number | undefined,
  what: string,
  where: { file?: string; member?: string },
  policy: VerifyPolicy,
): void {
  const actual = computeDigest(bytes, digestAlgorithm(digest));
  const problems: string[] = [];
  if (actual !== digest) problems.push(`${what} digest mismatch: expected ${digest}, got ${actual}`);
  if (size !== undefined && size !== bytes.length) problems.push(`${what} size mismatch: expected ${size} bytes, found ${bytes.length}`);
  for (const p of problems) {
    if (policy.verify) throw new LayerlensError('digest', p, where);
    policy.unverified.push(`${where.member ?? where.file}: ${p}`);
  }
}
