// `layerlens diff`: a summary first, then identity, layers, config, history, files and packages,
// largest changes first; as text tables, JSON with every section, or markdown for a pull request.
import type { ConfigChange, FileChangeKind, FileRecord, FileState, ImageDiff, ModifiedFile } from '../analysis/diff.js';
import { json, showName, versioned, type RenderOptions } from './format.js';
import { boxedTable, markdownTable, type Columns } from './table.js';
import { ellipsis, humanSize, isoTime } from './units.js';

export interface DiffReport {
  /** What the user named for each side. */
  a: string;
  b: string;
  diff: ImageDiff;
  /** Rows shown per list in tables and markdown (0: all); JSON always has everything. */
  limit: number;
  /** Notes and unverified checks from reading the layers (in JSON; the CLI also prints them on stderr). */
  warnings: string[];
}

export function diffJson(r: DiffReport): unknown {
  const d = r.diff;
  return versioned({
    a: r.a,
    b: r.b,
    summary: d.summary,
    identity: d.identity,
    layers: d.layers,
    config: d.config,
    history: d.history,
    files: d.files,
    packages: d.packages,
    warnings: r.warnings,
  });
}

function size(n: number, o: RenderOptions): string {
  return o.human ? humanSize(n) : String(n);
}

function delta(n: number, o: RenderOptions): string {
  if (n === 0) return '0';
  return `${n > 0 ? '+' : '-'}${size(Math.abs(n), o)}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function shortDigest(d: string | null, o: RenderOptions): string {
  if (!d) return 'none';
  return o.noTrunc ? d : d.replace(/^sha256:/, '').slice(0, 12);
}

function value(v: unknown): string {
  if (v === undefined) return '';
  if (v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function cut(s: string, o: RenderOptions, max = 60): string {
  const one = s.replace(/\s+/g, ' ');
  return o.noTrunc ? one : ellipsis(one, max);
}

/** The summary as lines (without bullets). */
function summaryLines(r: DiffReport, o: RenderOptions): string[] {
  const s = r.diff.summary;
  const lines: string[] = [];
  const f = s.files;
  const filters = [s.semantic ? '--semantic' : '', ...s.ignore.map((g) => `--ignore ${g}`)].filter(Boolean).join(' ');
  lines.push(s.same ? `the images are the same${filters ? ` (with ${filters})` : ''}` : `the images differ${filters ? ` (with ${filters})` : ''}`);
  const id = r.diff.identity.find((x) => x.field === 'id')!;
  if (id.same) lines.push('image ID: the same');
  lines.push(`layers: ${s.layers.shared} shared, ${s.layers.a} only in A, ${s.layers.b} only in B${!s.layers.counted && s.layers.a + s.layers.b > 0 ? ' (not counted: the filesystems are compared)' : ''}`);
  lines.push(s.config.added + s.config.removed + s.config.changed === 0 ? 'config: no change' : `config: ${s.config.added} added, ${s.config.removed} removed, ${s.config.changed} changed`);
  lines.push(s.history.compared ? (s.history.added + s.history.removed === 0 ? 'history: no change' : `history: ${s.history.added} added, ${s.history.removed} removed`) : 'history: not compared (--semantic)');
  lines.push(
    f.added + f.removed + f.modified === 0
      ? 'files: no change'
      : `files: ${f.added} added (${size(f.addedBytes, o)}), ${f.removed} removed (${size(f.removedBytes, o)}), ${f.modified} modified; net ${delta(f.sizeDelta, o)}`,
  );
  const p = s.packages;
  const dbs = r.diff.packages.databases.length;
  lines.push(dbs === 0 ? 'packages: no package database found' : p.added + p.removed + p.changed === 0 ? 'packages: no change' : `packages: ${p.added} added, ${p.removed} removed, ${p.changed} changed`);
  return lines;
}

function identityColumns(r: DiffReport, o: RenderOptions): Columns {
  const label: Record<string, string> = { names: 'Names', id: 'ID', manifest: 'Manifest', format: 'Format', platform: 'Platform', created: 'Created', layers: 'Layers', size: 'Size', storedSize: 'Stored' };
  const rows = r.diff.identity.map((f) => {
    const show = (v: unknown): string => {
      if (f.field === 'id' || f.field === 'manifest') return shortDigest(v as string | null, o);
      if (f.field === 'names') return (v as string[]).join(', ') || '<none>';
      if (f.field === 'created') return v ? (o.human ? isoTime(v as string) : String(v)) : 'unknown';
      if (f.field === 'size' || f.field === 'storedSize') return size(v as number, o);
      return String(v ?? '');
    };
    const d = f.delta !== undefined && f.delta !== 0 ? (f.field === 'layers' ? `${f.delta > 0 ? '+' : ''}${f.delta}` : delta(f.delta, o)) : '';
    return [f.same ? ' ' : f.counts ? '≠' : '·', label[f.field]!, show(f.a), show(f.b), d];
  });
  return { headers: ['', 'FIELD', 'A', 'B', 'DELTA'], rows, numeric: [4] };
}

function layersColumns(r: DiffReport, o: RenderOptions): Columns {
  const l = r.diff.layers;
  const rows: string[][] = [];
  for (const x of l.shared) rows.push(['=', String(x.index), String(x.index), shortDigest(x.diffId, o), size(x.size, o), cut(x.createdBy ?? '', o, 50)]);
  for (const x of l.a) {
    if (x.inOther !== null) rows.push(['=', String(x.index), String(x.inOther), shortDigest(x.diffId, o), size(x.size, o), cut(x.createdBy ?? '', o, 50)]);
    else rows.push(['-', String(x.index), '', shortDigest(x.diffId, o), size(x.size, o), cut(x.createdBy ?? '', o, 50)]);
  }
  for (const x of l.b) if (x.inOther === null) rows.push(['+', '', String(x.index), shortDigest(x.diffId, o), size(x.size, o), cut(x.createdBy ?? '', o, 50)]);
  return { headers: ['', 'A #', 'B #', 'DIFF ID', 'SIZE', 'CREATED BY'], rows, numeric: [1, 2, 4] };
}

const MARK = { added: '+', removed: '-', changed: '~', modified: '~' } as const;

function configColumns(changes: ConfigChange[], o: RenderOptions): Columns {
  return {
    headers: ['', 'FIELD', 'A', 'B'],
    rows: changes.map((c) => [MARK[c.kind], c.key !== undefined ? `${c.field} ${c.key}` : c.field, cut(value(c.a), o), cut(value(c.b), o)]),
  };
}

function historyColumns(r: DiffReport, o: RenderOptions): Columns {
  const h = r.diff.history;
  const rows = [...h.removed.map((x) => ['-', String(x.index), '', cut(x.createdBy, o, 80)]), ...h.added.map((x) => ['+', '', String(x.index), cut(x.createdBy, o, 80)])];
  return { headers: ['', 'A #', 'B #', 'CREATED BY'], rows, numeric: [1, 2] };
}

function owner(s: FileState): string {
  return `${s.uid}:${s.gid}`;
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

/** What changed, in words: `mode 0644→0600, owner 0:0→1001:1001`; content and size show in the SIZE column. */
export function changeDetail(m: ModifiedFile, o: RenderOptions): string {
  const b = m.before;
  const a = m.after;
  const parts: string[] = [];
  const say: Partial<Record<FileChangeKind, () => string>> = {
    type: () => `type ${b.type}→${a.type}`,
    content: () => `content ${(b.sha256 ?? '').slice(0, 8)}…→${(a.sha256 ?? '').slice(0, 8)}…`,
    mode: () => `mode ${octal(b.mode)}→${octal(a.mode)}`,
    owner: () => `owner ${owner(b)}→${owner(a)}`,
    linkTarget: () => `link ${showName(b.linkTarget ?? '')}→${showName(a.linkTarget ?? '')}`,
    hardlink: () => (a.hardlinkGroup ? `hard link of ${showName(a.hardlinkGroup === m.path ? a.linkTarget ?? a.hardlinkGroup : a.hardlinkGroup)}` : 'no longer a hard link'),
    device: () => `device ${b.devMajor},${b.devMinor}→${a.devMajor},${a.devMinor}`,
    xattrs: () => 'xattrs',
    mtime: () => `mtime ${o.human ? isoTime(new Date(b.mtime * 1000).toISOString()) : b.mtime}→${o.human ? isoTime(new Date(a.mtime * 1000).toISOString()) : a.mtime}`,
  };
  for (const c of m.changes) if (c !== 'size') parts.push(say[c]!());
  return parts.join(', ');
}

interface FileRow {
  mark: string;
  what: string;
  type: string;
  size: string;
  delta: string;
  path: string;
  weight: number;
}

function fileRows(r: DiffReport, o: RenderOptions): FileRow[] {
  const f = r.diff.files;
  const rows: FileRow[] = [];
  const rec = (x: FileRecord, mark: '+' | '-'): FileRow => ({
    mark,
    what: mark === '+' ? 'added' : 'removed',
    type: x.type,
    size: x.type === 'file' || x.type === 'hardlink' ? size(x.size, o) : '',
    delta: x.size ? delta(mark === '+' ? x.size : -x.size, o) : '',
    path: showName(x.path) + (x.type === 'symlink' ? ` → ${showName(x.linkTarget ?? '')}` : ''),
    weight: x.size,
  });
  for (const x of f.added) rows.push(rec(x, '+'));
  for (const x of f.removed) rows.push(rec(x, '-'));
  for (const m of f.modified) {
    const isFile = m.after.type === 'file' || m.after.type === 'hardlink';
    rows.push({
      mark: '~',
      what: changeDetail(m, o) || m.changes.join(', '),
      type: m.type,
      size: isFile ? size(m.after.size, o) : '',
      delta: m.sizeDelta ? delta(m.sizeDelta, o) : '',
      path: showName(m.path),
      weight: m.changes.includes('content') ? m.before.size + m.after.size : 0,
    });
  }
  // Largest first; among equals, by path, additions and removals before metadata changes.
  return rows.sort((p, q) => q.weight - p.weight || (p.path < q.path ? -1 : p.path > q.path ? 1 : 0));
}

function limited<T>(rows: T[], limit: number): { shown: T[]; more: number } {
  if (limit <= 0 || rows.length <= limit) return { shown: rows, more: 0 };
  return { shown: rows.slice(0, limit), more: rows.length - limit };
}

function directoriesColumns(r: DiffReport, o: RenderOptions, limit: number): { cols: Columns; more: number } {
  const { shown, more } = limited(r.diff.files.directories, limit);
  return {
    cols: {
      headers: ['DIRECTORY', 'ADDED', 'REMOVED', 'MODIFIED', 'CHANGED', 'DELTA'],
      rows: shown.map((d) => [showName(d.path), String(d.added), String(d.removed), String(d.modified), size(d.changedBytes, o), delta(d.sizeDelta, o)]),
      numeric: [1, 2, 3, 4, 5],
    },
    more,
  };
}

function packagesColumns(r: DiffReport): Columns {
  const p = r.diff.packages;
  const rows = [
    ...p.changed.map((x) => ['~', x.ecosystem, x.name, x.a, x.b]),
    ...p.added.map((x) => ['+', x.ecosystem, x.name, '', x.version]),
    ...p.removed.map((x) => ['-', x.ecosystem, x.name, x.version, '']),
  ];
  return { headers: ['', 'TYPE', 'NAME', 'A', 'B'], rows };
}

export function renderDiff(r: DiffReport, o: RenderOptions): string {
  if (o.format === 'json') return json(diffJson(r));
  const md = o.format === 'markdown';
  const table = (c: Columns) => (md ? markdownTable(c) : boxedTable(c));
  const d = r.diff;
  const limit = r.limit;
  let out = '';
  const heading = (t: string) => (out += md ? `\n### ${t}\n\n` : `\n${t}\n`);
  const note = (t: string) => (out += md ? `\n${t}\n` : `${t}\n`);
  if (md) {
    out += `## layerlens diff\n\n**A** \`${showName(r.a)}\` → **B** \`${showName(r.b)}\`\n\n`;
    out += summaryLines(r, o).map((l, i) => (i === 0 ? `**${l[0]!.toUpperCase()}${l.slice(1)}.**\n` : `- ${l}`)).join('\n') + '\n';
  } else {
    out += `A  ${showName(r.a)}\nB  ${showName(r.b)}\n\n`;
    const lines = summaryLines(r, o);
    out += `Summary: ${lines[0]}\n` + lines.slice(1).map((l) => `  ${l}`).join('\n') + '\n';
  }

  heading('Identity');
  out += table(identityColumns(r, o));

  heading('Layers');
  out += table(layersColumns(r, o));

  if (d.config.length) {
    heading('Config');
    out += table(configColumns(d.config, o));
  }

  if (d.history.added.length + d.history.removed.length) {
    heading('History');
    out += table(historyColumns(r, o));
  }

  const f = d.files;
  if (f.added.length + f.removed.length + f.modified.length) {
    heading('Files');
    const dirs = directoriesColumns(r, o, Math.min(limit || Infinity, 20));
    out += table(dirs.cols);
    if (dirs.more) note(`… and ${plural(dirs.more, 'more directory', 'more directories')}`);
    const { shown, more } = limited(fileRows(r, o), limit);
    const cols: Columns = { headers: ['', 'CHANGE', 'TYPE', 'SIZE', 'DELTA', 'PATH'], rows: shown.map((x) => [x.mark, x.what, x.type, x.size, x.delta, x.path]), numeric: [3, 4] };
    if (md) {
      const count = f.added.length + f.removed.length + f.modified.length;
      out += `\n<details><summary>${plural(count, 'path')} changed</summary>\n\n${markdownTable(cols)}`;
      if (more) out += `\n… and ${more} more (--limit 0 shows all)\n`;
      out += '\n</details>\n';
    } else {
      out += boxedTable(cols);
      if (more) note(`… and ${more} more (--limit 0 shows all)`);
    }
  }

  const p = d.packages;
  if (p.databases.length || p.notes.length) {
    heading('Packages');
    const dbs = p.databases.map((x) => `${x.ecosystem} ${showName(x.path)}: ${x.a === null ? '-' : x.a} → ${x.b === null ? '-' : x.b} packages`);
    out += md ? dbs.map((x) => `- ${x}`).join('\n') + '\n' : dbs.map((x) => `  ${x}`).join('\n') + '\n';
    if (p.added.length + p.removed.length + p.changed.length) {
      if (md) out += '\n';
      const { shown, more } = limited(packagesColumns(r).rows, limit);
      out += table({ ...packagesColumns(r), rows: shown });
      if (more) note(`… and ${more} more (--limit 0 shows all)`);
    }
    for (const n of p.notes) note(`note: ${showName(n)}`);
  }

  // Warnings go to stderr as the layers are read; JSON carries them too.
  return out;
}
