// The image manifest (OCI and Docker v2 schema 2) and the image index (OCI index and Docker
// manifest list).
import { parseDescriptor, type Descriptor } from './descriptor.js';
import { LayerlensError } from './errors.js';
import { isObject, optString, stringMap, type Where } from './json.js';
import { MediaType, isIndexMediaType } from './mediatypes.js';

export interface Manifest {
  schemaVersion: number;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations: Record<string, string>;
  subject?: Descriptor;
}

export interface ImageIndex {
  schemaVersion: number;
  mediaType: string;
  manifests: Descriptor[];
  annotations: Record<string, string>;
}

export function parseManifest(doc: unknown, where: Where, declaredMediaType?: string): Manifest {
  if (!isObject(doc)) throw new LayerlensError('format', 'manifest is not a JSON object', where);
  if (doc.schemaVersion === 1) {
    throw new LayerlensError('unsupported', 'Docker schema 1 manifests are not supported (convert the image with skopeo copy first)', where);
  }
  if (doc.schemaVersion !== 2) throw new LayerlensError('format', `manifest has schemaVersion ${JSON.stringify(doc.schemaVersion)}, expected 2`, where);
  if (Array.isArray(doc.manifests)) throw new LayerlensError('format', 'expected an image manifest but found an image index', where);
  const mediaType = optString(doc.mediaType) ?? declaredMediaType ?? MediaType.ociManifest;
  if (!Array.isArray(doc.layers)) throw new LayerlensError('format', 'manifest has no "layers" array', where);
  return {
    schemaVersion: 2,
    mediaType,
    config: parseDescriptor(doc.config, where, 'manifest config'),
    layers: doc.layers.map((l, i) => parseDescriptor(l, where, `manifest layer ${i}`)),
    annotations: stringMap(doc.annotations),
    subject: doc.subject === undefined ? undefined : parseDescriptor(doc.subject, where, 'manifest subject'),
  };
}

export function parseIndex(doc: unknown, where: Where): ImageIndex {
  if (!isObject(doc)) throw new LayerlensError('format', 'index is not a JSON object', where);
  if (doc.schemaVersion !== 2) throw new LayerlensError('format', `index has schemaVersion ${JSON.stringify(doc.schemaVersion)}, expected 2`, where);
  // Go writes an empty list as null: Docker 25+ saves an untagged image with `"manifests": null`.
  const manifests = doc.manifests === null ? [] : doc.manifests;
  if (!Array.isArray(manifests)) throw new LayerlensError('format', 'index has no "manifests" array', where);
  return {
    schemaVersion: 2,
    mediaType: optString(doc.mediaType) ?? MediaType.ociIndex,
    manifests: manifests.map((m, i) => parseDescriptor(m, where, `index entry ${i}`)),
    annotations: stringMap(doc.annotations),
  };
}

/** Is this document an index (rather than a manifest), judged by content as well as media type? */
export function looksLikeIndex(doc: unknown, mediaType?: string): boolean {
  if (isIndexMediaType(mediaType)) return true;
  return isObject(doc) && Array.isArray(doc.manifests) && !Array.isArray(doc.layers);
}
