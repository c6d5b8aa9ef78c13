// The docker-archive: what `docker save`, `podman save`, `skopeo copy docker-archive:` and
// kaniko write. `manifest.json` lists each image: its config member, its RepoTags and its layer
// members, in order. Docker 25+ also writes an OCI layout beside it; then the OCI manifest is
// matched to each entry by config digest, so the image gets its real manifest digest.
import { parseConfig } from '../image/config.js';
import { parseDigest, sha256Digest, type Digest } from '../image/digest.js';
import { LayerlensError } from '../image/errors.js';
import { isObject, optString, stringArray, MAX_JSON_BYTES } from '../image/json.js';
import { MediaType } from '../image/mediatypes.js';
import type { Image, Layer, UnavailableImage } from '../image/model.js';
import { normalizePlatform } from '../image/platform.js';
import { checkBlob, computeDigest, parsePolicyJson, type VerifyPolicy } from './blobs.js';
import type { Store } from './store.js';

export interface ArchiveContents {
  images: Image[];
  unavailable: UnavailableImage[];
}

/** The digest a member's name claims: `<hex>.tar`, `<hex>.json`, `blobs/sha256/<hex>`, `sha256:<hex>`. */
export function digestFromMemberName(member: string): Digest | undefined {
  const base = member.split('/').pop() ?? '';
  const m = /^(?:sha256:)?([a-f0-9]{64})(?:\.tar|\.json|\.tar\.gz)?$/.exec(base);
  if (!m) return undefined;
  // `<v1-id>/layer.tar` names are legacy image IDs, not content digests: only the base name counts.
  return sha256Digest(m[1]!);
}

export async function readDockerArchive(store: Store, policy: VerifyPolicy): Promise<ArchiveContents> {
  const where = { file: store.file, member: 'manifest.json' };
  const doc = parsePolicyJson(await store.read('manifest.json', policy.maxJsonBytes ?? MAX_JSON_BYTES), where, 'manifest.json', policy);
  if (!Array.isArray(doc)) {
    throw new LayerlensError('format', `manifest.json is ${doc === null ? 'null' : typeof doc === 'object' ? 'an object' : `a ${typeof doc}`}, expected an array of images`, where);
  }
  if (doc.length === 0) throw new LayerlensError('format', 'manifest.json lists no images', where);
  const out: ArchiveContents = { images: [], unavailable: [] };
  // manifest.json may name one config many times: it is read and checked once.
  const configs = new Map<string, ConfigRead | LayerlensError>();
  for (const [i, entry] of doc.entries()) {
    const repoTags = isObject(entry) ? stringArray(entry.RepoTags) : [];
    try {
      out.images.push(await readEntry(store, entry, i, policy, configs));
    } catch (e) {
      if (!(e instanceof LayerlensError)) throw e;
      out.unavailable.push({ names: repoTags, reason: e.oneLine(), error: e });
    }
  }
  return out;
}

interface ConfigRead {
  bytes: Buffer;
  id: Digest;
  config: ReturnType<typeof parseConfig>;
}

async function readConfig(store: Store, configMember: string, policy: VerifyPolicy): Promise<ConfigRead> {
  const configBytes = await store.read(configMember, policy.maxJsonBytes ?? MAX_JSON_BYTES);
  const cwhere = { file: store.file, member: configMember };
  const claimed = digestFromMemberName(configMember);
  if (claimed) checkBlob(configBytes, claimed, undefined, 'config', cwhere, policy);
  return { bytes: configBytes, id: computeDigest(configBytes), config: parseConfig(parsePolicyJson(configBytes, cwhere, 'config', policy), cwhere) };
}

async function readEntry(store: Store, entry: unknown, i: number, policy: VerifyPolicy, configs: Map<string, ConfigRead | LayerlensError>): Promise<Image> {
  const where = { file: store.file, member: 'manifest.json' };
  if (!isObject(entry)) throw new LayerlensError('format', `entry ${i} is not an object`, where);
  const configMember = optString(entry.Config);
  if (!configMember) throw new LayerlensError('format', `entry ${i} has no "Config"`, where);
  if (!Array.isArray(entry.Layers)) throw new LayerlensError('format', `entry ${i} has no "Layers" array`, where);
  const layerMembers = entry.Layers.map((l, j) => {
    if (typeof l !== 'string') throw new LayerlensError('format', `entry ${i} layer ${j} is not a string`, where);
    return l;
  });
  if (!store.has(configMember)) {
    throw new LayerlensError('missing', `config of image ${i} is missing`, { file: store.file, member: configMember });
  }
  let read = configs.get(configMember);
  if (!read) {
    try {
      read = await readConfig(store, configMember, policy);
    } catch (e) {
      if (!(e instanceof LayerlensError)) throw e;
      read = e;
    }
    configs.set(configMember, read);
  }
  if (read instanceof LayerlensError) throw read;
  const configBytes = read.bytes;
  const config = read.config;
  const id = read.id;
  const warnings: string[] = [];
  if (config.diffIds.length !== layerMembers.length) {
    warnings.push(`manifest.json lists ${layerMembers.length} layer${layerMembers.length === 1 ? '' : 's'} but the config has ${config.diffIds.length} diff_ids`);
  }
  const sources = isObject(entry.LayerSources) ? entry.LayerSources : {};
  const layers: Layer[] = layerMembers.map((member, j) => {
    const diffId = config.diffIds[j];
    const source = diffId && isObject(sources[diffId]) ? (sources[diffId] as Record<string, unknown>) : undefined;
    const size = store.size(member);
    const urls = source ? stringArray(source.urls) : [];
    if (size === undefined && urls.length === 0) {
      // The member's name may be a link or a legacy ID; the diff_id is the digest that names the layer.
      throw new LayerlensError('missing', `layer ${j} of image ${i} is missing${diffId ? ` (diff_id ${diffId})` : ''}`, { file: store.file, member });
    }
    // LayerSources describes the layer as a registry serves it (for a foreign layer, the blob
    // behind its URLs), while `docker save` writes the layer itself uncompressed: the descriptor
    // describes the member only when their sizes agree (Docker 25 names the blob itself).
    const describesMember = source !== undefined && (size === undefined || source.size === size);
    const declaredMediaType = describesMember ? optString(source.mediaType) : undefined;
    return {
      index: j,
      digest: digestFromMemberName(member) ?? (describesMember ? parseDigest(source.digest) : undefined),
      size: size ?? -1,
      mediaType: declaredMediaType || MediaType.dockerLayer,
      mediaTypeAssumed: !declaredMediaType,
      diffId,
      member,
      urls,
      open: () => store.open(member),
      locate: () => store.locate(member),
    };
  });
  const repoTags = stringArray(entry.RepoTags);
  return {
    file: store.file,
    format: 'docker-archive',
    container: store.container,
    repoTags,
    refNames: [],
    platform: normalizePlatform({ os: config.os, architecture: config.architecture, variant: config.variant }),
    id,
    configSize: configBytes.length,
    configMediaType: MediaType.dockerConfig,
    config,
    layers,
    warnings,
  };
}
