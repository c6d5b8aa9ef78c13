// The OCI content descriptor: what every manifest, index and layer reference is.
import { parseDigest, type Digest } from './digest.js';
import { LayerlensError } from './errors.js';
import { isObject, optString, stringArray, stringMap, type Where } from './json.js';
import { normalizePlatform, type Platform } from './platform.js';

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  annotations: Record<string, string>;
  platform?: Platform;
  urls: string[];
  artifactType?: string;
}

export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';
export const ANNOTATION_CONTAINERD_NAME = 'io.containerd.image.name';

export function parseDescriptor(v: unknown, where: Where, what: string): Descriptor {
  if (!isObject(v)) throw new LayerlensError('format', `${what} is not a descriptor object`, where);
  const digest = parseDigest(v.digest);
  if (!digest) throw new LayerlensError('format', `${what} has an invalid digest ${JSON.stringify(v.digest)}`, where);
  const size = v.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new LayerlensError('format', `${what} has an invalid size ${JSON.stringify(size)}`, where);
  }
  let platform: Platform | undefined;
  if (isObject(v.platform)) {
    const p = v.platform;
    platform = normalizePlatform({
      os: optString(p.os) ?? '',
      architecture: optString(p.architecture) ?? '',
      variant: optString(p.variant),
      osVersion: optString(p['os.version']),
      osFeatures: Array.isArray(p['os.features']) ? stringArray(p['os.features']) : undefined,
    });
  }
  return {
    mediaType: optString(v.mediaType) ?? '',
    digest,
    size,
    annotations: stringMap(v.annotations),
    platform,
    urls: stringArray(v.urls),
    artifactType: optString(v.artifactType),
  };
}
