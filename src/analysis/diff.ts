// Image against image: identity, layers, config field by field, history, the files of the two
// union filesystems, and packages. Pure functions over the model and the trees.
//
// What counts as a difference (and so makes `layerlens diff` exit 1):
// - by default, anything that makes the images not the same image: a different image ID (the
//   config digest, which covers the config, the history and the diff_ids), and every item
//   below. How the images are stored (compression, blob and manifest digests, the format, the
//   names they carry) is shown but never counts: an image and its recompressed copy are the same.
// - with `ignore` globs, the ID and the layer list no longer count (they change with the files
//   left out); the config, the history, the other files and the packages do.
// - with `semantic`, build noise is ignored the way diffoci's `--semantic` ignores it: the
//   image's and the history's times, the history itself, file mtimes, the image ID and the layer
//   boundaries (only the final filesystems are compared), and the builder's bookkeeping in the
//   config (`docker_version`, `container`, `container_config`, and the config's `Image`,
//   `Hostname` and `Domainname`, which the legacy builder fills per build).
import type { HistoryEntry } from '../image/config.js';
import type { Image } from '../image/model.js';
import { formatPlatform } from '../image/platform.js';
import { alignHistory } from '../image/history.js';
import { hardlinkGroups, listedLinkTarget, listedType, type FlatType } from '../fs/flat.js';
import type { FsNode } from '../fs/node.js';
import { childPath, comparePaths, sortByPath } from '../fs/path.js';
import type { Union } from '../fs/union.js';
import { pathMatcher, type PathMatcher } from '../fs/glob.js';
import { diffPackages, type DatabaseContent, type PackagesDiff } from './packages.js';
import { storedSize } from './summary.js';

export interface DiffOptions {
  /** Ignore timestamps, history and other build noise, as diffoci's --semantic does. */
  semantic?: boolean;
  /** Path globs left out of the file and package comparison. */
  ignore?: string[];
}

export interface DiffSide {
  image: Image;
  union: Union;
  /** Uncompressed bytes of each layer. */
  layerSizes: number[];
  packages: DatabaseContent[];
}

// ---------------------------------------------------------------------------------------------
// Identity

export interface IdentityField {
  field: 'names' | 'id' | 'manifest' | 'format' | 'platform' | 'created' | 'layers' | 'size' | 'storedSize';
  a: string | number | string[] | null;
  b: string | number | string[] | null;
  same: boolean;
  /** Whether a difference here counts (makes the images differ). */
  counts: boolean;
  delta?: number;
}

function names(im: Image): string[] {
  return [...im.repoTags, ...im.refNames.filter((n) => !im.repoTags.includes(n))];
}

/** `structural`: whether the image ID and the layer list count (not with --semantic or --ignore, which compare what is inside). */
function identity(a: DiffSide, b: DiffSide, semantic: boolean, structural: boolean): IdentityField[] {
  const total = (s: DiffSide) => s.layerSizes.reduce((x, y) => x + y, 0);
  const f = (field: IdentityField['field'], x: IdentityField['a'], y: IdentityField['b'], counts: boolean, delta?: boolean): IdentityField => {
    const same = JSON.stringify(x) === JSON.stringify(y);
    return { field, a: x, b: y, same, counts: counts && !same, ...(delta ? { delta: (y as number) - (x as number) } : {}) };
  };
  return [
    f('names', names(a.image), names(b.image), false),
    f('id', a.image.id, b.image.id, structural),
    f('manifest', a.image.manifest?.descriptor.digest ?? null, b.image.manifest?.descriptor.digest ?? null, false),
    f('format', `${a.image.format} (${a.image.container})`, `${b.image.format} (${b.image.container})`, false),
    f('platform', formatPlatform(a.image.platform), formatPlatform(b.image.platform), true),
    f('created', a.image.config.created ?? null, b.image.config.created ?? null, !semantic),
    f('layers', a.image.layers.length, b.image.layers.length, structural, true),
    f('size', total(a), total(b), false, true),
    f('storedSize', storedSize(a.image), storedSize(b.image), false, true),
  ];
}

// ---------------------------------------------------------------------------------------------
// Layers

export interface LayerRow {
  index: number;
  diffId: string | null;
  digest: string | null;
  mediaType: string;
  /** Bytes as stored. */
  storedSize: number;
  /** Bytes of the uncompressed tar. */
  size: number;
  createdBy: string | null;
}

export interface LayersDiff {
  /** The common leading layers (same diff_id at the same position). */
  shared: Array<LayerRow & { storedSizeB: number; digestB: string | null }>;
  /** The layers after the shared base, in each image; `inOther` is the index of a layer with the same diff_id in the other image. */
  a: Array<LayerRow & { inOther: number | null }>;
  b: Array<LayerRow & { inOther: number | null }>;
}

function layerRows(s: DiffSide): LayerRow[] {
  const aligned = alignHistory(s.image.config.history, s.image.layers.length);
  return s.image.layers.map((l, i) => {
    const h = aligned.layerEntry[i];
    return {
      index: i,
      diffId: l.diffId ?? null,
      digest: l.digest ?? null,
      mediaType: l.mediaType,
      storedSize: Math.max(0, l.size),
      size: s.layerSizes[i] ?? 0,
      createdBy: h === null || h === undefined ? null : s.image.config.history[h]?.createdBy ?? null,
    };
  });
}

function layersDiff(a: DiffSide, b: DiffSide): LayersDiff {
  const ra = layerRows(a);
  const rb = layerRows(b);
  let k = 0;
  while (k < ra.length && k < rb.length && ra[k]!.diffId !== null && ra[k]!.diffId === rb[k]!.diffId) k++;
  const find = (rows: LayerRow[], id: string | null) => (id === null ? null : rows.findIndex((r, i) => i >= k && r.diffId === id));
  const other = (rows: LayerRow[], id: string | null) => {
    const i = find(rows, id);
    return i === null || i < 0 ? null : i;
  };
  return {
    shared: ra.slice(0, k).map((r, i) => ({ ...r, storedSizeB: rb[i]!.storedSize, digestB: rb[i]!.digest })),
    a: ra.slice(k).map((r) => ({ ...r, inOther: other(rb, r.diffId) })),
    b: rb.slice(k).map((r) => ({ ...r, inOther: other(ra, r.diffId) })),
  };
}

// ---------------------------------------------------------------------------------------------
// Config

export interface ConfigChange {
  /** The config field: `Env`, `Labels`, `ExposedPorts`, `Volumes`, `Entrypoint`, `Cmd`, `User`, ... */
  field: string;
  /** For maps and lists of names: the variable, label, port or volume. */
  key?: string;
  kind: 'added' | 'removed' | 'changed';
  a?: unknown;
  b?: unknown;
}

const KEYED = ['Env', 'Labels', 'ExposedPorts', 'Volumes'];
const ORDER = ['Env', 'Labels', 'ExposedPorts', 'Volumes', 'Entrypoint', 'Cmd', 'User', 'WorkingDir', 'StopSignal', 'Healthcheck', 'Shell', 'OnBuild'];
const SEMANTIC_NOISE_CONFIG = new Set(['Image', 'Hostname', 'Domainname']);
// created and the platform (os, architecture, variant) are compared in Identity.
const TOP_LEVEL_SKIP = new Set(['config', 'rootfs', 'history', 'created', 'os', 'architecture', 'variant']);
const SEMANTIC_NOISE_TOP = new Set(['docker_version', 'container', 'container_config']);

/** Empty values (null, '', false, [], {}) are as good as absent: configs written by different tools differ in them. */
function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v as object).length === 0;
  return false;
}

/** JSON with object keys sorted, for comparing values. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0))) : x));
}

function keyedEntries(field: string, v: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (field === 'Env') {
    if (Array.isArray(v)) {
      for (const item of v) {
        if (typeof item !== 'string') continue;
        const eq = item.indexOf('=');
        if (eq < 0) out.set(item, null);
        else out.set(item.slice(0, eq), item.slice(eq + 1));
      }
    }
    return out;
  }
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out.set(k, field === 'Labels' ? x : null);
  } else if (Array.isArray(v)) {
    for (const k of v) if (typeof k === 'string') out.set(k, null);
  }
  return out;
}

function configDiff(a: Image, b: Image, semantic: boolean): ConfigChange[] {
  const out: ConfigChange[] = [];
  const ca = a.config.config ?? {};
  const cb = b.config.config ?? {};
  const fields = [...new Set([...Object.keys(ca), ...Object.keys(cb)])]
    .filter((f) => !(semantic && SEMANTIC_NOISE_CONFIG.has(f)))
    .sort((x, y) => {
      const ix = ORDER.indexOf(x);
      const iy = ORDER.indexOf(y);
      return (ix < 0 ? ORDER.length : ix) - (iy < 0 ? ORDER.length : iy) || (x < y ? -1 : x > y ? 1 : 0);
    });
  for (const field of fields) {
    const x = ca[field];
    const y = cb[field];
    if (KEYED.includes(field)) {
      const ma = keyedEntries(field, x);
      const mb = keyedEntries(field, y);
      for (const [key, v] of ma) {
        if (!mb.has(key)) out.push({ field, key, kind: 'removed', a: v });
        else if (canonical(v) !== canonical(mb.get(key))) out.push({ field, key, kind: 'changed', a: v, b: mb.get(key) });
      }
      for (const [key, v] of mb) if (!ma.has(key)) out.push({ field, key, kind: 'added', b: v });
      continue;
    }
    out.push(...valueChange(field, x, y));
  }
  // The top-level fields besides the execution config: author, the platform's parts, builder bookkeeping.
  const ra = a.config.raw;
  const rb = b.config.raw;
  const top = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].filter((f) => !TOP_LEVEL_SKIP.has(f) && !(semantic && SEMANTIC_NOISE_TOP.has(f))).sort();
  for (const field of top) out.push(...valueChange(field, ra[field], rb[field]));
  return out;
}

function valueChange(field: string, x: unknown, y: unknown): ConfigChange[] {
  const ex = isEmpty(x);
  const ey = isEmpty(y);
  if (ex && ey) return [];
  if (ex) return [{ field, kind: 'added', b: y }];
  if (ey) return [{ field, kind: 'removed', a: x }];
  return canonical(x) === canonical(y) ? [] : [{ field, kind: 'changed', a: x, b: y }];
}

// ---------------------------------------------------------------------------------------------
// History

export interface HistoryRow {
  /** Position in its image's history (0 is the oldest). */
  index: number;
  created: string | null;
  createdBy: string;
  comment: string;
  emptyLayer: boolean;
}

export interface HistoryDiff {
  /** False with `semantic`: history is not compared. */
  compared: boolean;
  added: HistoryRow[];
  removed: HistoryRow[];
}

/** History entries are matched by the step that made them (created_by and whether it made a layer); their times are build noise. */
function historyDiff(a: HistoryEntry[], b: HistoryEntry[], semantic: boolean): HistoryDiff {
  if (semantic) return { compared: false, added: [], removed: [] };
  const key = (h: HistoryEntry) => `${h.emptyLayer ? 1 : 0}\0${h.createdBy ?? ''}`;
  const ka = a.map(key);
  const kb = b.map(key);
  const n = ka.length;
  const m = kb.length;
  const len: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) len[i]![j] = ka[i] === kb[j] ? len[i + 1]![j + 1]! + 1 : Math.max(len[i + 1]![j]!, len[i]![j + 1]!);
  const row = (h: HistoryEntry, index: number): HistoryRow => ({ index, created: h.created ?? null, createdBy: h.createdBy ?? '', comment: h.comment ?? '', emptyLayer: h.emptyLayer });
  const added: HistoryRow[] = [];
  const removed: HistoryRow[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && ka[i] === kb[j]) {
      i++;
      j++;
    } else if (j >= m || (i < n && len[i + 1]![j]! >= len[i]![j + 1]!)) {
      removed.push(row(a[i]!, i));
      i++;
    } else {
      added.push(row(b[j]!, j));
      j++;
    }
  }
  return { compared: true, added, removed };
}

// ---------------------------------------------------------------------------------------------
// Files

export type FileChangeKind = 'type' | 'content' | 'size' | 'mode' | 'owner' | 'linkTarget' | 'hardlink' | 'device' | 'xattrs' | 'mtime';

export interface FileState {
  type: FlatType;
  mode: number;
  uid: number;
  gid: number;
  /** Content bytes of a regular file; 0 for anything else. */
  size: number;
  sha256: string | null;
  /** A symlink's target, or the path a hard link was linked to. */
  linkTarget: string | null;
  /** The bytewise-smallest path of the file's hard-link group (null when it has one name). */
  hardlinkGroup: string | null;
  devMajor: number | null;
  devMinor: number | null;
  /** Seconds since the epoch. */
  mtime: number;
  xattrs: Record<string, string> | null;
}

export interface FileRecord extends FileState {
  path: string;
}

export interface ModifiedFile {
  path: string;
  type: FlatType;
  changes: FileChangeKind[];
  before: FileState;
  after: FileState;
  /** after.size - before.size, for regular files. */
  sizeDelta: number;
}

export interface DirectorySummary {
  path: string;
  added: number;
  removed: number;
  modified: number;
  addedBytes: number;
  removedBytes: number;
  /** Net change in file bytes below the directory. */
  sizeDelta: number;
  /** Bytes that moved: added and removed files, and both sides of a changed content. */
  changedBytes: number;
}

export interface FilesDiff {
  added: FileRecord[];
  removed: FileRecord[];
  modified: ModifiedFile[];
  /** Directories holding the changes, with their totals; the biggest movers first. */
  directories: DirectorySummary[];
}

interface Side {
  groups: Map<number, string[]>;
}

function state(n: FsNode, path: string, side: Side): FileState {
  const isDev = n.type === 'char' || n.type === 'block';
  const group = n.type === 'file' ? side.groups.get(n.inode) : undefined;
  let xattrs: Record<string, string> | null = null;
  if (n.xattrs && n.xattrs.size) {
    xattrs = {};
    for (const [k, v] of [...n.xattrs].sort(([p], [q]) => (p < q ? -1 : 1))) xattrs[k] = v.toString('base64');
  }
  return {
    type: listedType(n, side.groups),
    mode: n.mode,
    uid: n.uid,
    gid: n.gid,
    size: n.type === 'file' ? n.size : 0,
    sha256: n.type === 'file' ? n.sha256 ?? null : null,
    linkTarget: listedLinkTarget(n, path, side.groups),
    hardlinkGroup: group?.[0] ?? null,
    devMajor: isDev ? n.devMajor : null,
    devMinor: isDev ? n.devMinor : null,
    mtime: n.mtime,
    xattrs,
  };
}

function fileChanges(x: FsNode, y: FsNode, sx: FileState, sy: FileState, semantic: boolean): FileChangeKind[] {
  const r: FileChangeKind[] = [];
  if (x.type !== y.type) r.push('type');
  if (x.type === 'file' && y.type === 'file') {
    if (sx.sha256 !== sy.sha256) r.push('content');
    if (sx.size !== sy.size) r.push('size');
  }
  if (sx.mode !== sy.mode) r.push('mode');
  if (sx.uid !== sy.uid || sx.gid !== sy.gid) r.push('owner');
  if (x.type === 'symlink' && y.type === 'symlink' && sx.linkTarget !== sy.linkTarget) r.push('linkTarget');
  if (sx.hardlinkGroup !== sy.hardlinkGroup) r.push('hardlink');
  if (x.type === y.type && (sx.devMajor !== sy.devMajor || sx.devMinor !== sy.devMinor)) r.push('device');
  if (JSON.stringify(sx.xattrs) !== JSON.stringify(sy.xattrs)) r.push('xattrs');
  if (!semantic && sx.mtime !== sy.mtime) r.push('mtime');
  return r;
}

export function filesDiff(ua: Union, ub: Union, options: { semantic?: boolean; ignore?: PathMatcher } = {}): FilesDiff {
  const semantic = !!options.semantic;
  const ignore = options.ignore ?? (() => false);
  const added: FileRecord[] = [];
  const removed: FileRecord[] = [];
  const modified: ModifiedFile[] = [];
  if (ua === ub) return { added, removed, modified, directories: [] };
  const sa: Side = { groups: hardlinkGroups(ua.root) };
  const sb: Side = { groups: hardlinkGroups(ub.root) };
  const all = (n: FsNode, path: string, side: Side, into: FileRecord[]) => {
    into.push({ path, ...state(n, path, side) });
    if (!n.children) return;
    for (const [name, c] of n.children) {
      const p = childPath(path, name);
      if (!ignore(p)) all(c, p, side, into);
    }
  };
  const walk = (x: FsNode, y: FsNode, path: string) => {
    const sx = state(x, path, sa);
    const sy = state(y, path, sb);
    const changes = fileChanges(x, y, sx, sy, semantic);
    if (changes.length) modified.push({ path, type: sy.type, changes, before: sx, after: sy, sizeDelta: sy.size - sx.size });
    const kx = x.children;
    const ky = y.children;
    if (kx) {
      for (const [name, cx] of kx) {
        const p = childPath(path, name);
        if (ignore(p)) continue;
        const cy = ky?.get(name);
        if (cy) walk(cx, cy, p);
        else all(cx, p, sa, removed);
      }
    }
    if (ky) {
      for (const [name, cy] of ky) {
        const p = childPath(path, name);
        if (ignore(p) || kx?.has(name)) continue;
        all(cy, p, sb, added);
      }
    }
  };
  walk(ua.root, ub.root, '/');
  sortByPath(added);
  sortByPath(removed);
  sortByPath(modified);
  return { added, removed, modified, directories: directorySummaries(added, removed, modified) };
}

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/**
 * Totals per directory, each change counted in every directory above it. Listed are the
 * directories that are not just the way to a single busier one: those with a change directly in
 * them, or with changes in more than one of their subdirectories. Biggest movers first.
 */
export function directorySummaries(added: FileRecord[], removed: FileRecord[], modified: ModifiedFile[]): DirectorySummary[] {
  const dirs = new Map<string, DirectorySummary & { direct: boolean; busyChildren: Set<string> }>();
  const get = (p: string) => {
    let d = dirs.get(p);
    if (!d) dirs.set(p, (d = { path: p, added: 0, removed: 0, modified: 0, addedBytes: 0, removedBytes: 0, sizeDelta: 0, changedBytes: 0, direct: false, busyChildren: new Set() }));
    return d;
  };
  const count = (path: string, f: (d: DirectorySummary) => void) => {
    if (path === '/') return;
    let p = path;
    let below = path;
    let first = true;
    for (;;) {
      p = parentOf(below);
      const d = get(p);
      f(d);
      if (first) d.direct = true;
      else d.busyChildren.add(below);
      first = false;
      if (p === '/') break;
      below = p;
    }
  };
  for (const r of added) count(r.path, (d) => ((d.added += 1), (d.addedBytes += r.size), (d.sizeDelta += r.size), (d.changedBytes += r.size)));
  for (const r of removed) count(r.path, (d) => ((d.removed += 1), (d.removedBytes += r.size), (d.sizeDelta -= r.size), (d.changedBytes += r.size)));
  for (const m of modified) {
    const moved = m.changes.includes('content') ? m.before.size + m.after.size : 0;
    count(m.path, (d) => ((d.modified += 1), (d.sizeDelta += m.sizeDelta), (d.changedBytes += moved)));
  }
  return [...dirs.values()]
    .filter((d) => d.direct || d.busyChildren.size > 1)
    .map(({ direct: _d, busyChildren: _b, ...d }) => d)
    .sort((p, q) => q.changedBytes - p.changedBytes || q.added + q.removed + q.modified - (p.added + p.removed + p.modified) || comparePaths(p.path, q.path));
}

// ---------------------------------------------------------------------------------------------
// All together

export interface DiffSummary {
  same: boolean;
  semantic: boolean;
  ignore: string[];
  identity: { counted: string[] };
  layers: { shared: number; a: number; b: number; counted: boolean };
  config: { added: number; removed: number; changed: number };
  history: { compared: boolean; added: number; removed: number };
  files: { added: number; removed: number; modified: number; addedBytes: number; removedBytes: number; sizeDelta: number };
  packages: { added: number; removed: number; changed: number };
}

export interface ImageDiff {
  summary: DiffSummary;
  identity: IdentityField[];
  layers: LayersDiff;
  config: ConfigChange[];
  history: HistoryDiff;
  files: FilesDiff;
  packages: PackagesDiff;
}

export function diffImages(a: DiffSide, b: DiffSide, options: DiffOptions = {}): ImageDiff {
  const semantic = !!options.semantic;
  const ignore = options.ignore ?? [];
  const matcher = pathMatcher(ignore) ?? (() => false);
  // The image ID and the layers are the images' structure: they count unless the comparison is
  // of what is inside them (--semantic), or some of the files are left out of it (--ignore).
  const structural = !semantic && ignore.length === 0;
  const id = identity(a, b, semantic, structural);
  const layers = layersDiff(a, b);
  const config = configDiff(a.image, b.image, semantic);
  const history = historyDiff(a.image.config.history, b.image.config.history, semantic);
  const files = filesDiff(a.union, b.union, { semantic, ignore: matcher });
  const packages = diffPackages(a.packages, b.packages);
  const layersCounted = structural && (layers.a.length > 0 || layers.b.length > 0);
  const counted = id.filter((f) => f.counts).map((f) => f.field);
  const fileBytes = {
    addedBytes: files.added.reduce((s, r) => s + r.size, 0),
    removedBytes: files.removed.reduce((s, r) => s + r.size, 0),
  };
  const summary: DiffSummary = {
    same: false,
    semantic,
    ignore,
    identity: { counted },
    layers: { shared: layers.shared.length, a: layers.a.length, b: layers.b.length, counted: layersCounted },
    config: { added: config.filter((c) => c.kind === 'added').length, removed: config.filter((c) => c.kind === 'removed').length, changed: config.filter((c) => c.kind === 'changed').length },
    history: { compared: history.compared, added: history.added.length, removed: history.removed.length },
    files: {
      added: files.added.length,
      removed: files.removed.length,
      modified: files.modified.length,
      ...fileBytes,
      sizeDelta: fileBytes.addedBytes - fileBytes.removedBytes + files.modified.reduce((s, m) => s + m.sizeDelta, 0),
    },
    packages: { added: packages.added.length, removed: packages.removed.length, changed: packages.changed.length },
  };
  summary.same =
    counted.length === 0 &&
    !layersCounted &&
    config.length === 0 &&
    history.added.length + history.removed.length === 0 &&
    files.added.length + files.removed.length + files.modified.length === 0 &&
    packages.added.length + packages.removed.length + packages.changed.length === 0;
  return { summary, identity: id, layers, config, history, files, packages };
}
