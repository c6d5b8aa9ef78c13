// The image configuration (OCI image-spec config.md; Docker's image JSON is the same document
// with a few extra fields). `raw` keeps the document as written, for inspect.
import { parseDigest, type Digest } from './digest.js';
import { LayerlensError } from './errors.js';
import { isObject, optString, type Where } from './json.js';

export interface HistoryEntry {
  created?: string;
  createdBy?: string;
  author?: string;
  comment?: string;
  emptyLayer: boolean;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  osVersion?: string;
  dockerVersion?: string;
  comment?: string;
  /** The execution parameters (`config` in the document): Env, Cmd, Entrypoint, Labels, ... */
  config: Record<string, unknown> | null;
  diffIds: Digest[];
  history: HistoryEntry[];
  raw: Record<string, unknown>;
}

export function parseConfig(doc: unknown, where: Where): ImageConfig {
  if (!isObject(doc)) throw new LayerlensError('format', 'image config is not a JSON object', where);
  const rootfs = doc.rootfs;
  if (!isObject(rootfs)) throw new LayerlensError('format', 'image config has no "rootfs" object', where);
  if (rootfs.type !== undefined && rootfs.type !== 'layers') {
    throw new LayerlensError('format', `image config rootfs.type is ${JSON.stringify(rootfs.type)}, expected "layers"`, where);
  }
  const rawDiffIds = rootfs.diff_ids ?? [];
  if (!Array.isArray(rawDiffIds)) throw new LayerlensError('format', 'image config rootfs.diff_ids is not an array', where);
  const diffIds = rawDiffIds.map((d, i) => {
    const digest = parseDigest(d);
    if (!digest) throw new LayerlensError('format', `image config rootfs.diff_ids[${i}] is not a valid digest: ${JSON.stringify(d)}`, where);
    return digest;
  });
  const history = Array.isArray(doc.history)
    ? doc.history.map((h): HistoryEntry => {
        const o = isObject(h) ? h : {};
        return {
          created: optString(o.created),
          createdBy: optString(o.created_by),
          author: optString(o.author),
          comment: optString(o.comment),
          emptyLayer: o.empty_layer === true,
        };
      })
    : [];
  if (doc.history !== undefined && doc.history !== null && !Array.isArray(doc.history)) {
    throw new LayerlensError('format', 'image config "history" is not an array', where);
  }
  const config = isObject(doc.config) ? doc.config : null;
  return {
    created: optString(doc.created),
    author: optString(doc.author),
    architecture: optString(doc.architecture) ?? '',
    os: optString(doc.os) ?? '',
    variant: optString(doc.variant),
    osVersion: optString(doc['os.version']),
    dockerVersion: optString(doc.docker_version),
    comment: optString(doc.comment),
    config,
    diffIds,
    history,
    raw: doc,
  };
}
