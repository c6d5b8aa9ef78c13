// Reading the corpus in ../shared/corpus/out: INDEX.tsv (the good images), malformed/CASES.tsv
// (the broken ones) and the goldens that third-party tools wrote beside each image (see the
// corpus README, section "Goldens"). Only call these when HAS_SHARED is true.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { corpus } from './shared.js';

export type CorpusFormat = 'oci' | 'oci-archive' | 'docker-archive' | 'docker-archive+gzip';

/** One line of INDEX.tsv: one image (or one index) of one file. */
export interface IndexRow {
  format: CorpusFormat;
  /** Relative to the corpus folder, as written in INDEX.tsv. */
  path: string;
  /** The OCI ref name, or the docker-archive's RepoTags. */
  refs: string[];
  /** The manifest's media type; undefined for docker-archives (they have no manifest). */
  mediaType?: string;
  /** The manifest (or index) digest; the config digest (image ID) for docker-archives. */
  digest: string;
  /** Position of this row among the rows of the same file (the `@N` of multi-image goldens). */
  nth: number;
  /** How many rows the file has. */
  ofFile: number;
}

function tsv(file: string): string[][] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => l.split('\t'));
}

export function readCorpusIndex(): IndexRow[] {
  const raw = tsv(corpus('INDEX.tsv')).map(([format, p, refs, mediaType, digest]) => ({
    format: format as CorpusFormat,
    path: p!,
    refs: refs!.split(','),
    mediaType: mediaType === '-' ? undefined : mediaType,
    digest: digest!,
  }));
  return raw.map((r) => {
    const same = raw.filter((o) => o.path === r.path);
    return { ...r, nth: same.indexOf(r), ofFile: same.length };
  });
}

export interface MalformedCase {
  file: string;
  what: string;
  /** skopeo's verdict, as recorded. */
  skopeo: string;
  /** umoci's verdict ('-' when umoci cannot read that format). */
  umoci: string;
}

export function readMalformedCases(): MalformedCase[] {
  return tsv(corpus('malformed', 'CASES.tsv')).map(([file, what, skopeo, umoci]) => ({
    file: file!,
    what: what!,
    skopeo: (skopeo ?? '').trim(),
    umoci: (umoci ?? '').trim(),
  }));
}

function exists(p: string): boolean {
  return fs.existsSync(p);
}

/**
 * The goldens folder of one INDEX row. The corpus lays them out per image kind:
 * `<dir>/goldens/oci/<ref>/` (compression: `goldens/<variant>/oci/<ref>/`),
 * `goldens/docker-archive/[<name>|<name>@N]/`, `goldens/oci-archive/[<name>/]`; an oci-archive
 * without goldens of its own is the same image as the layout's ref.
 */
export function goldenDir(row: IndexRow): string {
  const parent = path.dirname(row.path);
  const base = path.basename(row.path);
  const g = corpus(parent, 'goldens');
  const ref = row.refs[0]!;
  let candidates: string[];
  switch (row.format) {
    case 'oci':
      candidates = [path.join(g, base, ref), path.join(g, base, 'oci', ref)];
      break;
    case 'oci-archive': {
      const name = base.replace(/\.oci-archive\.tar$/, '');
      candidates = [path.join(g, 'oci-archive', name), path.join(g, 'oci-archive'), path.join(g, 'oci', ref)];
      break;
    }
    case 'docker-archive':
    case 'docker-archive+gzip': {
      const name = base.replace(/\.docker-archive\.tar(\.gz)?$/, '');
      const d = path.join(g, 'docker-archive');
      candidates = [
        ...(row.ofFile > 1 ? [path.join(d, `${name}@${row.nth}`)] : []),
        path.join(d, name),
        path.join(d, name.replace(`${parent}-`, '')),
        d,
      ];
      break;
    }
  }
  const found = candidates.find((c) => exists(path.join(c, 'skopeo-inspect.json')));
  if (!found) throw new Error(`no goldens for ${row.path} ${ref}; looked in ${candidates.join(', ')}`);
  return found;
}

/** `layers.tsv` of the row's image folder (compression keeps one per variant). */
export function layersTsvPath(row: IndexRow): string {
  const parent = path.dirname(row.path);
  const candidates = [corpus(parent, 'goldens', path.basename(row.path), 'layers.tsv'), corpus(parent, 'goldens', 'layers.tsv')];
  const found = candidates.find(exists);
  if (!found) throw new Error(`no layers.tsv for ${row.path}`);
  return found;
}

export interface LayerGolden {
  manifest: string;
  index: number;
  mediaType: string;
  digest: string;
  size: number;
  diffId: string;
  uncompressedSize: number;
  configDiffIdMatches: boolean;
  entries: number;
}

export function readLayersTsv(file: string): LayerGolden[] {
  return tsv(file).map(([manifest, index, mediaType, digest, size, diffId, uncompressed, matches, entries]) => ({
    manifest: manifest!,
    index: Number(index),
    mediaType: mediaType!,
    digest: digest!,
    size: Number(size),
    diffId: diffId!,
    uncompressedSize: Number(uncompressed),
    configDiffIdMatches: matches === 'yes',
    entries: Number(entries),
  }));
}

/** What `skopeo inspect` prints. */
export interface SkopeoInspect {
  Digest: string;
  RepoTags: string[];
  Created: string;
  DockerVersion: string;
  Labels: Record<string, string> | null;
  Architecture: string;
  Os: string;
  Variant?: string;
  Layers: string[];
  Env: string[] | null;
}

export interface ConfigDoc {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: Record<string, unknown> & { Labels?: Record<string, string>; Env?: string[] };
  rootfs: { type: string; diff_ids: string[] };
  history?: Array<{ created?: string; created_by?: string; author?: string; comment?: string; empty_layer?: boolean }>;
}

export interface ManifestDoc {
  mediaType?: string;
  config: { mediaType: string; digest: string; size: number };
  layers: Array<{ mediaType: string; digest: string; size: number }>;
}

export interface IndexDoc {
  manifests: Array<{ mediaType: string; digest: string; size: number; platform?: { os: string; architecture: string; variant?: string } }>;
}

/** What `umoci stat --json` prints. */
export interface UmociStat {
  history: Array<{
    layer: { mediaType: string; digest: string; size: number } | null;
    diff_id: string;
    created?: string;
    created_by?: string;
    author?: string;
    comment?: string;
    empty_layer?: boolean;
  }>;
}

export function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

export function sha256File(file: string): string {
  return `sha256:${createHash('sha256').update(fs.readFileSync(file)).digest('hex')}`;
}
