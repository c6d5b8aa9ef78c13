// The OCI image layout: `oci-layout`, `index.json`, `blobs/<alg>/<hex>`. The index is walked
// through nested indexes; every manifest that describes an image becomes an Image, named by the
// `org.opencontainers.image.ref.name` annotations on the way to it.
import { ANNOTATION_CONTAINERD_NAME, ANNOTATION_REF_NAME, type Descriptor } from '../image/descriptor.js';
import { parseConfig } from '../image/config.js';
import type { Digest } from '../image/digest.js';
import { LayerlensError } from '../image/errors.js';
import { isObject, MAX_JSON_BYTES } from '../image/json.js';
import { looksLikeIndex, parseIndex, parseManifest } from '../image/manifest.js';
import { MediaType, isIndexMediaType } from '../image/mediatypes.js';
import type { Image, Layer, UnavailableImage } from '../image/model.js';
import { normalizePlatform } from '../image/platform.js';
import { parseReference } from '../image/reference.js';
import { blobPath, parsePolicyJson, readBlob, type VerifyPolicy } from './blobs.js';
import type { Store } from './store.js';

const MAX_INDEX_DEPTH = 8;

export interface LayoutContents {
  images: Image[];
  unavailable: UnavailableImage[];
  skipped: Array<{ digest: Digest; reason: string }>;
  warnings: string[];
}

export async function readOciLayout(store: Store, policy: VerifyPolicy): Promise<LayoutContents> {
  const out: LayoutContents = { images: [], unavailable: [], skipped: [], warnings: [] };
  if (!store.has('oci-layout')) {
    out.warnings.push('no oci-layout file; reading index.json anyway');
  } else {
    const doc = parsePolicyJson(await store.read('oci-layout', policy.maxJsonBytes ?? MAX_JSON_BYTES), { file: store.file, member: 'oci-layout' }, 'oci-layout', policy);
    const version = isObject(doc) ? doc.imageLayoutVersion : undefined;
    if (typeof version !== 'string' || !version.startsWith('1.')) {
      out.warnings.push(`oci-layout has imageLayoutVersion ${JSON.stringify(version)}, expected 1.x; reading it anyway`);
    }
  }
  const where = { file: store.file, member: 'index.json' };
  const top = parseIndex(parsePolicyJson(await store.read('index.json', policy.maxJsonBytes ?? MAX_JSON_BYTES), where, 'index.json', policy), where);
  const byDigest = new Map<string, Image>();
  await walk({ store, policy, out, byDigest, done: new Set(), indexes: new Map() }, top.manifests, [], undefined, 0, new Set(), new Set());
  out.images = [...byDigest.values()];
  return out;
}

function namesOf(d: Descriptor): string[] {
  const names: string[] = [];
  const ref = d.annotations[ANNOTATION_REF_NAME];
  if (ref) names.push(ref);
  const containerd = d.annotations[ANNOTATION_CONTAINERD_NAME];
  if (containerd && containerd !== ref) names.push(containerd);
  return names;
}

function isAttestation(d: Descriptor): boolean {
  return d.annotations['vnd.docker.reference.type'] === 'attestation-manifest' || (d.platform?.os === 'unknown' && d.platform.architecture === 'unknown');
}

/**
 * What one walk of a layout has seen. Each blob is read once, however often it is listed: an
 * index.json may repeat one descriptor thousands of times, and nested indexes may share children
 * (a diamond of indexes N deep would otherwise be read 2^N times).
 */
interface WalkContext {
  store: Store;
  policy: VerifyPolicy;
  out: LayoutContents;
  byDigest: Map<string, Image>;
  /** Manifests and indexes that failed or are not images: listed once, not read again. */
  done: Set<string>;
  /** Each index walked: the manifests found below it. */
  indexes: Map<string, Set<string>>;
}

async function walk(
  ctx: WalkContext,
  descriptors: Descriptor[],
  inheritedNames: string[],
  indexDigest: Digest | undefined,
  depth: number,
  seen: Set<string>,
  found: Set<string>,
): Promise<void> {
  const { store, policy, out, byDigest } = ctx;
  for (const d of descriptors) {
    const names = depth === 0 ? namesOf(d) : inheritedNames;
    if (isAttestation(d)) {
      out.skipped.push({ digest: d.digest, reason: 'attestation manifest' });
      continue;
    }
    if (isIndexMediaType(d.mediaType)) {
      await readNestedIndex(ctx, d, names, depth, seen, found);
      continue;
    }
    if (d.mediaType && d.mediaType !== MediaType.ociManifest && d.mediaType !== MediaType.dockerManifest) {
      out.skipped.push({ digest: d.digest, reason: `not an image manifest (${d.mediaType})` });
      continue;
    }
    const existing = byDigest.get(d.digest);
    if (existing) {
      found.add(d.digest);
      for (const n of names) addName(existing, n);
      // A manifest named directly (no platform on its descriptor) and also listed in an index
      // (with one): the index's digest picks it too, and its platform is the more precise,
      // whichever way was walked first.
      existing.indexDigest ??= indexDigest;
      if (d.platform && existing.manifest && !existing.manifest.descriptor.platform) {
        existing.manifest.descriptor = { ...existing.manifest.descriptor, platform: d.platform };
        existing.platform = d.platform;
      }
      continue;
    }
    if (ctx.indexes.has(d.digest)) {
      // An index already walked: readNestedIndex adds only the names it is reached by.
      await readNestedIndex(ctx, d, names, depth, seen, found);
      continue;
    }
    if (ctx.done.has(d.digest)) continue;
    try {
      const image = await readImage(store, d, names, indexDigest, policy);
      if (image === 'index') {
        await readNestedIndex(ctx, d, names, depth, seen, found);
      } else if (typeof image === 'string') {
        ctx.done.add(d.digest);
        out.skipped.push({ digest: d.digest, reason: image });
      } else {
        byDigest.set(d.digest, image);
        found.add(d.digest);
      }
    } catch (e) {
      if (!(e instanceof LayerlensError)) throw e;
      ctx.done.add(d.digest);
      out.unavailable.push({ names, digest: d.digest, platform: d.platform, reason: e.oneLine(), error: e });
    }
  }
}

async function readNestedIndex(ctx: WalkContext, d: Descriptor, names: string[], depth: number, seen: Set<string>, found: Set<string>): Promise<void> {
  const { store, policy, out, byDigest } = ctx;
  const walked = ctx.indexes.get(d.digest);
  if (walked) {
    // Read before: what it holds is known; only the names it is reached by are new.
    for (const m of walked) {
      found.add(m);
      const image = byDigest.get(m);
      if (image) for (const n of names) addName(image, n);
    }
    return;
  }
  if (depth >= MAX_INDEX_DEPTH || seen.has(d.digest)) {
    const error = new LayerlensError('limit', `index ${d.digest} nests too deep or refers to itself`, { file: store.file, member: blobPath(d.digest) });
    out.unavailable.push({ names, digest: d.digest, reason: error.oneLine(), error });
    return;
  }
  if (ctx.done.has(d.digest)) return;
  try {
    const bytes = await readBlob(store, d, 'index', policy);
    const where = { file: store.file, member: blobPath(d.digest) };
    const index = parseIndex(parsePolicyJson(bytes, where, 'index', policy), where);
    const nextSeen = new Set(seen).add(d.digest);
    const below = new Set<string>();
    await walk(ctx, index.manifests, names, d.digest, depth + 1, nextSeen, below);
    ctx.indexes.set(d.digest, below);
    for (const m of below) found.add(m);
  } catch (e) {
    if (!(e instanceof LayerlensError)) throw e;
    ctx.done.add(d.digest);
    out.unavailable.push({ names, digest: d.digest, reason: e.oneLine(), error: e });
  }
}

function addName(image: Image, name: string): void {
  if (!image.refNames.includes(name)) image.refNames.push(name);
  const tag = repoTagOf(name);
  if (tag && !image.repoTags.includes(tag)) image.repoTags.push(tag);
}

/** A ref name that is a full reference (`registry/repo:tag`) doubles as a docker tag. */
function repoTagOf(name: string): string | undefined {
  if (!name.includes('/') && !name.includes(':')) return undefined;
  const ref = parseReference(name);
  return ref && !ref.digest ? name : undefined;
}

/** Read one manifest and its config; a string says why it is not an image. */
async function readImage(store: Store, d: Descriptor, names: string[], indexDigest: Digest | undefined, policy: VerifyPolicy): Promise<Image | string | 'index'> {
  const member = blobPath(d.digest);
  const bytes = await readBlob(store, d, 'manifest', policy);
  const where = { file: store.file, member };
  const doc = parsePolicyJson(bytes, where, 'manifest', policy);
  if (looksLikeIndex(doc, d.mediaType)) return 'index';
  const manifest = parseManifest(doc, where, d.mediaType || undefined);
  if (isObject(doc) && typeof doc.artifactType === 'string') return `artifact (${doc.artifactType})`;
  const configType = manifest.config.mediaType;
  if (configType !== MediaType.ociConfig && configType !== MediaType.dockerConfig) {
    return `not an image (config media type ${configType || 'missing'})`;
  }
  const configMember = blobPath(manifest.config.digest);
  const configBytes = await readBlob(store, manifest.config, 'config', policy);
  const config = parseConfig(parsePolicyJson(configBytes, { file: store.file, member: configMember }, 'config', policy), { file: store.file, member: configMember });
  const warnings: string[] = [];
  if (config.diffIds.length !== manifest.layers.length) {
    warnings.push(`manifest lists ${manifest.layers.length} layer${manifest.layers.length === 1 ? '' : 's'} but the config has ${config.diffIds.length} diff_ids`);
  }
  const layers: Layer[] = manifest.layers.map((l, i) => {
    const path = blobPath(l.digest);
    if (!store.has(path) && l.urls.length === 0) {
      throw new LayerlensError('missing', `layer ${i} blob ${l.digest} is missing`, { file: store.file, member: path });
    }
    return {
      index: i,
      digest: l.digest,
      size: l.size,
      mediaType: l.mediaType,
      diffId: config.diffIds[i],
      member: path,
      urls: l.urls,
      open: () => store.open(path),
      locate: () => store.locate(path),
    };
  });
  const platform = d.platform ?? normalizePlatform({ os: config.os, architecture: config.architecture, variant: config.variant });
  const image: Image = {
    file: store.file,
    format: 'oci-layout',
    container: store.container,
    repoTags: [],
    refNames: [],
    manifest: { descriptor: d, mediaType: manifest.mediaType, annotations: manifest.annotations },
    indexDigest,
    platform,
    id: manifest.config.digest,
    configSize: configBytes.length,
    configMediaType: configType,
    config,
    layers,
    warnings,
  };
  for (const n of names) addName(image, n);
  return image;
}

