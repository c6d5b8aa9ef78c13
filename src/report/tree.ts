// `layerlens tree` and `layerlens changes`: the file tree as dive draws it (permissions,
// owner, size, the tree), the flat listing, and a layer's change list.
import type { TreeNodeView } from '../analysis/tree.js';
import { describeChange, type Change, type ChangeSet } from '../fs/changes.js';
import type { FlatRecord } from '../fs/flat.js';
import { paint } from './color.js';
import { json, jsonArrayFrom, jsonArrayItems, showName, type RenderOptions } from './format.js';
import { boxedTable, markdownTable, type Columns } from './table.js';
import { humanSize } from './units.js';

/** `drwxr-xr-x`, with s/S and t/T for setuid, setgid and sticky. */
export function modeString(type: string, mode: number): string {
  const t = TYPE_CHAR[type] ?? '-';
  // Made once for each of the few kinds and modes an image holds (a listing has a line per path).
  const key = t + (mode & 0o7777);
  let text = MODE_TEXT.get(key);
  if (text === undefined) {
    const rwx = (bits: number, special: boolean, ch: string) =>
      (bits & 4 ? 'r' : '-') + (bits & 2 ? 'w' : '-') + (special ? (bits & 1 ? ch : ch.toUpperCase()) : bits & 1 ? 'x' : '-');
    text = t + rwx((mode >> 6) & 7, (mode & 0o4000) !== 0, 's') + rwx((mode >> 3) & 7, (mode & 0o2000) !== 0, 's') + rwx(mode & 7, (mode & 0o1000) !== 0, 't');
    MODE_TEXT.set(key, text);
  }
  return text;
}

const TYPE_CHAR: Record<string, string> = { dir: 'd', symlink: 'l', char: 'c', block: 'b', fifo: 'p' };
const MODE_TEXT = new Map<string, string>();

const MARK: Record<string, string> = { added: '+', modified: '~', removed: '-' };

/** A change mark, coloured as dive colours its tree (added green, modified yellow, removed red) where colour is allowed. */
function markText(kind: string, o: RenderOptions): string {
  const m = MARK[kind] ?? ' ';
  const p = paint(o.color);
  return kind === 'added' ? p.green(m) : kind === 'modified' ? p.yellow(m) : kind === 'removed' ? p.red(m) : m;
}

function sizeText(n: number, o: RenderOptions): string {
  return o.human ? humanSize(n) : String(n);
}

export function renderTree(root: TreeNodeView, o: RenderOptions, withChanges: boolean): string {
  if (o.format === 'json') return json(root);
  const lines: string[] = [];
  const md = o.format === 'markdown';
  const line = (n: TreeNodeView, prefix: string) => {
    const mark = withChanges ? `${n.change ? markText(n.change.split(' ')[0]!, o) : ' '} ` : '';
    const owner = `${n.uid}:${n.gid}`;
    const target = n.linkTarget ? (n.type === 'hardlink' ? ` link to ${showName(n.linkTarget)}` : ` → ${showName(n.linkTarget)}`) : '';
    const more = n.truncated ? ` (${n.truncated} more below)` : '';
    lines.push(`${mark}${modeString(n.type === 'hardlink' ? 'file' : n.type, n.mode)} ${owner.padStart(11)} ${sizeText(n.size, o).padStart(9)}  ${prefix}${showName(n.name)}${target}${more}`);
  };
  line({ ...root, name: root.path }, '');
  const walk = (n: TreeNodeView, indent: string) => {
    const kids = n.children ?? [];
    kids.forEach((c, i) => {
      const last = i === kids.length - 1;
      line(c, indent + (last ? '└── ' : '├── '));
      walk(c, indent + (last ? '    ' : '│   '));
    });
  };
  walk(root, '');
  const text = lines.join('\n') + '\n';
  return md ? '```\n' + text + '```\n' : text;
}

export function renderFlat(records: FlatRecord[], o: RenderOptions): string {
  if (o.format === 'json') return json(records);
  if (o.format === 'markdown') {
    const t: Columns = {
      headers: ['MODE', 'OWNER', 'SIZE', 'PATH'],
      rows: records.map((r) => [modeString(r.type === 'hardlink' ? 'file' : r.type, r.mode), `${r.uid}:${r.gid}`, sizeText(r.size, o), showName(r.path) + linkSuffix(r)]),
      numeric: [2],
    };
    return markdownTable(t);
  }
  return records.map((r) => `${modeString(r.type === 'hardlink' ? 'file' : r.type, r.mode)} ${`${r.uid}:${r.gid}`.padStart(11)} ${sizeText(r.size, o).padStart(9)}  ${showName(r.path)}${linkSuffix(r)}`).join('\n') + '\n';
}

function linkSuffix(r: FlatRecord): string {
  if (r.type === 'symlink') return ` → ${showName(r.linkTarget ?? '')}`;
  if (r.type === 'hardlink') return ` link to ${showName(r.linkTarget ?? '')}`;
  if (r.type === 'char' || r.type === 'block') return ` (${r.devMajor},${r.devMinor})`;
  return '';
}

export interface LayerChanges {
  set: ChangeSet;
  digest?: string;
  createdBy?: string;
}

function changeJson(c: Change) {
  return {
    path: c.path,
    kind: c.kind,
    description: describeChange(c),
    reasons: c.reasons,
    type: c.type,
    size: c.size,
    ...(c.removedPaths !== undefined ? { removedPaths: c.removedPaths, removedBytes: c.removedBytes ?? 0, via: c.via } : {}),
  };
}

export function summarizeChanges(changes: Change[]): { added: number; modified: number; removed: number; addedBytes: number; modifiedBytes: number; removedBytes: number } {
  const s = { added: 0, modified: 0, removed: 0, addedBytes: 0, modifiedBytes: 0, removedBytes: 0 };
  for (const c of changes) {
    if (c.kind === 'added') {
      s.added++;
      s.addedBytes += c.size;
    } else if (c.kind === 'modified') {
      s.modified++;
      s.modifiedBytes += c.size;
    } else {
      s.removed += c.removedPaths ?? 1;
      s.removedBytes += c.removedBytes ?? 0;
    }
  }
  return s;
}

/** One layer's changes as `changes --format json` lists it. */
function layerChangesJson(l: LayerChanges) {
  return { layer: l.set.layer, digest: l.digest ?? null, createdBy: l.createdBy ?? null, summary: summarizeChanges(l.set.changes), changes: l.set.changes.map(changeJson), warnings: l.set.warnings };
}

/**
 * One layer's part of `changes`, which changesOutput() puts together: in JSON the layer's item of
 * the array, else its head, its summary and its table.
 */
export function renderLayerChanges(l: LayerChanges, o: RenderOptions): string {
  if (o.format === 'json') return jsonArrayItems([layerChangesJson(l)]);
  const s = summarizeChanges(l.set.changes);
  const head = `Layer ${l.set.layer}${l.createdBy ? `: ${l.createdBy.replace(/\s+/g, ' ').slice(0, 100)}` : ''}`;
  const summary = `${s.added} added (${sizeText(s.addedBytes, o)}), ${s.modified} modified (${sizeText(s.modifiedBytes, o)}), ${s.removed} removed (${sizeText(s.removedBytes, o)})`;
  let out = o.format === 'markdown' ? `### ${head}\n\n${summary}\n\n` : `${head}\n${summary}\n`;
  if (l.set.changes.length) {
    const t: Columns = {
      headers: ['', 'CHANGE', 'TYPE', 'SIZE', 'PATH'],
      rows: l.set.changes.map((c) => [
        o.format === 'markdown' ? MARK[c.kind]! : markText(c.kind, o),
        describeChange(c) + (c.removedPaths && c.removedPaths > 1 ? ` (${c.removedPaths} paths, ${sizeText(c.removedBytes ?? 0, o)})` : ''),
        c.type,
        c.kind === 'removed' ? '' : sizeText(c.size, o),
        showName(c.path),
      ]),
      numeric: [3],
    };
    out += o.format === 'markdown' ? markdownTable(t) : boxedTable(t);
  }
  for (const w of l.set.warnings) out += `warning: ${showName(w)}\n`;
  return out + '\n';
}

/** The text of `changes`, in pieces, from each layer's part (renderLayerChanges). */
export function changesOutput(parts: string[], o: RenderOptions): Iterable<string> {
  return o.format === 'json' ? jsonArrayFrom(parts) : parts;
}

export function renderChanges(layers: LayerChanges[], o: RenderOptions): string {
  return [...changesOutput(layers.map((l) => renderLayerChanges(l, o)), o)].join('');
}
