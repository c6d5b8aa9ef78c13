// Digests as the OCI spec writes them: `algorithm:encoded`. Only sha256 and sha512 are
// registered; anything else is refused so that a digest can safely name a blob path.

export type Digest = string & { readonly __digest: unique symbol };

const PATTERNS: Record<string, RegExp> = {
  sha256: /^[a-f0-9]{64}$/,
  sha512: /^[a-f0-9]{128}$/,
};

export function parseDigest(value: unknown): Digest | undefined {
  if (typeof value !== 'string') return undefined;
  const colon = value.indexOf(':');
  if (colon <= 0) return undefined;
  const algorithm = value.slice(0, colon);
  const encoded = value.slice(colon + 1);
  const pattern = PATTERNS[algorithm];
  if (!pattern || !pattern.test(encoded)) return undefined;
  return value as Digest;
}

export function isDigest(value: unknown): value is Digest {
  return parseDigest(value) !== undefined;
}

export function digestAlgorithm(d: Digest): string {
  return d.slice(0, d.indexOf(':'));
}

export function digestHex(d: Digest): string {
  return d.slice(d.indexOf(':') + 1);
}

/** The 12-hex-digit short form docker prints. */
export function shortDigest(d: Digest): string {
  return digestHex(d).slice(0, 12);
}

export function sha256Digest(hex: string): Digest {
  return `sha256:${hex}` as Digest;
}
