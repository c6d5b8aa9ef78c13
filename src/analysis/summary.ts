// Plain result objects for the commands that describe an image: images, inspect, history, layers.
// Pure functions of the model (and, for layers, of the layer scans); nothing here reads bytes.
import type { Digest } from '../image/digest.js';
import { alignHistory } from '../image/history.js';
import type { Image, ImageFile } from '../image/model.js';
import { formatPlatform } from '../image/platform.js';
import { familiarName, parseReference, splitRepoTag } from '../image/reference.js';
import type { LayerScan } from '../layer/scan.js';

/** Bytes the image's layers take in the file, as stored (compressed where they are). */
export function storedSize(image: Image): number {
  return image.layers.reduce((sum, l) => sum + Math.max(0, l.size), 0);
}

export interface ImageRow {
  repository: string;
  tag: string;
  id: Digest;
  manifestDigest?: Digest;
  created?: string;
  size: number;
  platform: string;
  layers: number;
}

/** One row per tag, as `docker images` prints them; an untagged image gets one `<none>` row. */
export function imageRows(file: ImageFile): ImageRow[] {
  const rows: ImageRow[] = [];
  for (const image of file.images) {
    const base = {
      id: image.id,
      manifestDigest: image.manifest?.descriptor.digest,
      created: image.config.created,
      size: storedSize(image),
      platform: formatPlatform(image.platform),
      layers: image.layers.length,
    };
    // One row per repository:tag. `alpine:3.14`, `docker.io/library/alpine:3.14` and the bare
    // OCI ref name `3.14` (containerd and Docker 25 write all three) are one row, not three.
    const split = [...image.repoTags.map(splitRepoTag), ...image.refNames.map(splitName)];
    const namedTags = new Set(split.filter((s) => s.repository !== '<none>').map((s) => s.tag));
    const seen = new Set<string>();
    for (const s of split) {
      const key = `${s.repository}:${s.tag}`;
      if (seen.has(key) || (s.repository === '<none>' && namedTags.has(s.tag))) continue;
      seen.add(key);
      rows.push({ ...s, ...base });
    }
    if (seen.size === 0) rows.push({ repository: '<none>', tag: '<none>', ...base });
  }
  return rows;
}

function splitName(name: string): { repository: string; tag: string } {
  // A bare OCI ref name such as `v1` is a tag with no repository.
  if (!name.includes('/') && !name.includes(':')) return { repository: '<none>', tag: name };
  const ref = parseReference(name);
  if (!ref) return { repository: '<none>', tag: name };
  return { repository: familiarName(ref.name), tag: ref.tag ?? '<none>' };
}

/** `docker image inspect`'s fields, with the same names, plus the manifest descriptor. */
export function inspectImage(image: Image): Record<string, unknown> {
  const raw = image.config.raw;
  const repos = new Set<string>();
  for (const t of image.repoTags) {
    const ref = parseReference(t);
    if (ref) repos.add(familiarName(ref.name));
  }
  const manifestDigest = image.manifest?.descriptor.digest;
  const out: Record<string, unknown> = {
    Id: image.id,
    RepoTags: image.repoTags,
    RepoDigests: manifestDigest ? [...repos].map((r) => `${r}@${manifestDigest}`) : [],
    Parent: typeof raw.parent === 'string' ? raw.parent : '',
    Comment: image.config.comment ?? '',
    Created: image.config.created ?? '',
    DockerVersion: image.config.dockerVersion ?? '',
    Author: image.config.author ?? '',
    Config: image.config.config,
    Architecture: image.config.architecture,
  };
  if (image.config.variant) out.Variant = image.config.variant;
  out.Os = image.config.os;
  if (image.config.osVersion) out.OsVersion = image.config.osVersion;
  out.Size = storedSize(image);
  out.RootFS = { Type: 'layers', Layers: image.config.diffIds };
  if (image.manifest) {
    const d = image.manifest.descriptor;
    out.Descriptor = { mediaType: d.mediaType || image.manifest.mediaType, digest: d.digest, size: d.size, ...(d.platform ? { platform: d.platform } : {}) };
  }
  out.Metadata = { LastTagTime: '0001-01-01T00:00:00Z' };
  return out;
}

export interface HistoryRecord {
  created?: string;
  createdBy: string;
  comment: string;
  author?: string;
  emptyLayer: boolean;
  /** The layer this entry made, or null (an empty_layer entry, or history longer than layers). */
  layerIndex: number | null;
  /** Bytes of that layer as stored; 0 for entries that made no layer. */
  size: number;
}

export interface HistoryResult {
  id: Digest;
  records: HistoryRecord[];
  /** Layers no history entry accounts for (history shorter than layers). */
  unexplainedLayers: number[];
  mismatch?: string;
}

export function imageHistory(image: Image): HistoryResult {
  const aligned = alignHistory(image.config.history, image.layers.length);
  const records: HistoryRecord[] = aligned.entries.map((h) => ({
    created: h.created,
    createdBy: h.createdBy ?? '',
    comment: h.comment ?? '',
    author: h.author,
    emptyLayer: h.emptyLayer,
    layerIndex: h.layerIndex,
    size: h.layerIndex === null ? 0 : Math.max(0, image.layers[h.layerIndex]!.size),
  }));
  const unexplainedLayers = aligned.layerEntry.flatMap((e, i) => (e === null ? [i] : []));
  return { id: image.id, records, unexplainedLayers, mismatch: aligned.mismatch };
}

export interface LayerRecord {
  index: number;
  digest?: Digest;
  diffId?: Digest;
  mediaType: string;
  compression?: string;
  compressedSize: number;
  size?: number;
  entries?: number;
  createdBy?: string;
  verified: boolean;
}

export function layerRecords(image: Image, scans?: LayerScan[]): LayerRecord[] {
  const aligned = alignHistory(image.config.history, image.layers.length);
  return image.layers.map((l, i) => {
    const scan = scans?.[i];
    const entryIndex = aligned.layerEntry[i];
    const h = entryIndex === null || entryIndex === undefined ? undefined : image.config.history[entryIndex];
    return {
      index: i,
      digest: scan?.digest ?? l.digest,
      diffId: scan?.diffId ?? l.diffId,
      mediaType: l.mediaType,
      compression: scan?.compression,
      compressedSize: scan?.compressedSize ?? l.size,
      size: scan?.size,
      entries: scan?.entries,
      createdBy: h?.createdBy,
      verified: scan ? scan.unverified.length === 0 : false,
    };
  });
}
