// `layerlens waste` (and the waste part of `analyze`): the totals, the wasted paths, each layer's
// account, the duplicates, the base/yours split and dive's own figures.
import type { DiveMetrics } from '../analysis/dive.js';
import type { WasteResult, WasteSplit, WastedPath } from '../analysis/waste.js';
import { json, showName, versioned, type RenderOptions } from './format.js';
import { boxedTable, markdownTable, type Columns } from './table.js';
import { ellipsis, humanSize } from './units.js';

export interface WasteView {
  result: WasteResult;
  /** The history step that made each layer. */
  createdBy: Array<string | undefined>;
  /** The patterns given with --ignore. */
  ignore: string[];
  /** How many paths and duplicate groups the text lists (the result may hold more). */
  top: number;
  /** Print dive's inefficient-file list too. */
  dive: boolean;
}

function size(n: number, o: RenderOptions): string {
  return o.human ? humanSize(n) : String(n);
}

export function percent(x: number | null): string {
  return x === null ? '-' : `${(x * 100).toFixed(1)}%`;
}

function layerList(ls: number[]): string {
  if (ls.length === 0) return 'none';
  const parts: string[] = [];
  for (let i = 0; i < ls.length; ) {
    let j = i;
    while (j + 1 < ls.length && ls[j + 1] === ls[j]! + 1) j++;
    parts.push(j > i + 1 ? `${ls[i]}-${ls[j]}` : j === i + 1 ? `${ls[i]}, ${ls[j]}` : `${ls[i]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/** How the copies of a path were hidden, in a few words: `overwritten`, `removed (whiteout)`, `metadata-only (chmod only)`. */
export function whyText(p: WastedPath): string {
  const seen = new Set<string>();
  for (const d of p.detail) seen.add(d.why === 'overwritten' ? 'overwritten' : `${d.why} (${d.change})`);
  return [...seen].join(', ');
}

export function wastedPathsColumns(paths: WastedPath[], o: RenderOptions): Columns {
  return {
    headers: ['WASTED', 'COPIES', 'STORED IN', 'HIDDEN BY', 'WHY', 'PATH'],
    rows: paths.map((p) => [size(p.wastedBytes, o), String(p.copies), layerList(p.layers), layerList(p.hiddenBy), whyText(p), showName(p.path)]),
    numeric: [0, 1],
  };
}

/** The summary lines, as `analyze` shows them too. */
export function wasteFacts(r: WasteResult, o: RenderOptions, ignore: string[] = [], baseHint = false): Array<[string, string]> {
  const layers = r.layers.length;
  const facts: Array<[string, string]> = [
    ['Stored', `${size(r.storedBytes, o)} of file content in ${layers} layer${layers === 1 ? '' : 's'}`],
    ['Visible', `${size(r.visibleBytes, o)} (efficiency ${percent(r.efficiency)})`],
    [
      'Wasted',
      r.wastedBytes === 0 && r.hiddenCopies === 0
        ? 'nothing: every stored copy is visible'
        : `${size(r.wastedBytes, o)} in ${r.hiddenCopies} hidden cop${r.hiddenCopies === 1 ? 'y' : 'ies'} of ${r.pathCount} path${r.pathCount === 1 ? '' : 's'}: ` +
          `${size(r.byReason.overwritten, o)} overwritten, ${size(r.byReason.metadataOnly, o)} metadata-only, ${size(r.byReason.removed, o)} removed`,
    ],
    ['Duplicates', r.duplicateCount === 0 ? 'none' : `${r.duplicateCount} content${r.duplicateCount === 1 ? '' : 's'} stored at several visible paths; one copy each would save ${size(r.duplicateBytes, o)}`],
  ];
  if (r.base.source !== null) facts.push(['Base', baseText(r.base, r.user, o)]);
  else if (baseHint) facts.push(['Base', 'not given (--base-layers N or --base-image FILE[:REF] splits base from your layers)']);
  if (ignore.length) facts.push(['Ignored', `${ignore.join(' ')}: ${size(r.excludedBytes, o)} left out`]);
  facts.push(['dive', diveLine(r.dive)]);
  return facts;
}

function baseText(base: WasteSplit & { source: string | null }, user: WasteSplit, o: RenderOptions): string {
  return (
    `layers ${layerList(base.layers)} (${base.source}): ${size(base.storedBytes, o)} stored, ${size(base.wastedBytes, o)} wasted; ` +
    `yours, ${user.layers.length ? `layers ${layerList(user.layers)}` : 'no layers'}: ${size(user.storedBytes, o)} stored, ${size(user.wastedBytes, o)} wasted (${percent(user.wastedPercent)})`
  );
}

/** dive's three figures, as dive prints them. */
export function diveLine(d: DiveMetrics): string {
  return `efficiency ${diveFixed(d.efficiency)}, wastedBytes ${d.wastedBytes} bytes${d.wastedBytes > 0 ? ` (${goHumanBytes(d.wastedBytes)})` : ''}, userWastedPercent ${d.wastedBytes > 0 && d.userWastedPercent !== null ? diveFixed(d.userWastedPercent) : d.wastedBytes > 0 ? 'n/a' : '0 %'}`;
}

function diveFixed(x: number): string {
  return `${(x * 100).toFixed(2)} %`;
}

/** go-humanize's Bytes (what dive prints): SI units, one decimal under 10. */
export function goHumanBytes(n: number): string {
  if (n < 10) return `${n} B`;
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  const e = Math.floor(Math.log(n) / Math.log(1000));
  const val = Math.floor((n / 1000 ** e) * 10 + 0.5) / 10;
  return `${val < 10 ? val.toFixed(1) : val.toFixed(0)} ${units[e]}`;
}

function layersColumns(v: WasteView, o: RenderOptions): Columns {
  const base = v.result.base.source !== null;
  const t: Columns = {
    headers: ['#', 'BASE', 'STORED', 'FILES', 'VISIBLE', 'WASTED', 'EFFICIENCY', 'HIDES', 'CREATED BY'],
    rows: v.result.layers.map((l) => [
      String(l.index),
      l.base ? 'base' : 'yours',
      size(l.storedBytes, o),
      String(l.storedFiles),
      size(l.visibleBytes, o),
      size(l.wastedBytes, o),
      percent(l.efficiency),
      size(l.hidesBytes, o),
      o.noTrunc ? (v.createdBy[l.index] ?? '') : ellipsis((v.createdBy[l.index] ?? '').replace(/\s+/g, ' '), 45),
    ]),
    numeric: [0, 2, 3, 4, 5, 6, 7],
  };
  if (base) return t;
  // No base given: every layer is yours, and the column says nothing.
  return { headers: t.headers.filter((_, i) => i !== 1), rows: t.rows.map((r) => r.filter((_, i) => i !== 1)), numeric: [0, 1, 2, 3, 4, 5, 6] };
}

function duplicatesColumns(v: WasteView, o: RenderOptions): Columns {
  return {
    headers: ['SAVABLE', 'COPIES', 'SIZE', 'PATHS'],
    rows: v.result.duplicates.slice(0, v.top || undefined).map((g) => {
      const shown = o.noTrunc || g.paths.length <= 4 ? g.paths : g.paths.slice(0, 3);
      const more = shown.length < g.paths.length ? ` … (${g.paths.length - shown.length} more)` : '';
      return [size(g.savableBytes, o), String(g.copies), size(g.size, o), shown.map(showName).join(' ') + more];
    }),
    numeric: [0, 1, 2],
  };
}

function diveColumns(d: DiveMetrics): Columns {
  return {
    headers: ['COUNT', 'WASTED SPACE', 'FILE PATH'],
    rows: d.inefficientFiles.map((f) => [String(f.count), goHumanBytes(f.wastedBytes), showName(f.path)]),
    numeric: [0],
  };
}

/** The totals every waste document starts with. */
function totalsJson(r: WasteResult) {
  return {
    storedBytes: r.storedBytes,
    visibleBytes: r.visibleBytes,
    wastedBytes: r.wastedBytes,
    efficiency: r.efficiency,
    hiddenCopies: r.hiddenCopies,
    byReason: r.byReason,
  };
}

/** The waste part of `analyze --format json`: the totals, the top paths and dive's figures. */
export function wasteSummaryJson(r: WasteResult): Record<string, unknown> {
  return {
    ...totalsJson(r),
    pathCount: r.pathCount,
    paths: r.paths,
    duplicateCount: r.duplicateCount,
    duplicateBytes: r.duplicateBytes,
    dive: r.dive,
  };
}

export function wasteJson(v: WasteView): Record<string, unknown> {
  const r = v.result;
  return versioned({
    ...totalsJson(r),
    ignore: v.ignore,
    excludedBytes: r.excludedBytes,
    pathCount: r.pathCount,
    paths: r.paths,
    layers: r.layers.map((l) => ({ ...l, createdBy: v.createdBy[l.index] ?? null })),
    duplicateCount: r.duplicateCount,
    duplicateBytes: r.duplicateBytes,
    duplicates: r.duplicates,
    base: r.base,
    user: r.user,
    dive: r.dive,
  });
}

export function renderWaste(v: WasteView, o: RenderOptions): string {
  if (o.format === 'json') return json(wasteJson(v));
  const r = v.result;
  const md = o.format === 'markdown';
  const table = (t: Columns) => (md ? markdownTable(t) : boxedTable(t));
  const heading = (s: string) => (md ? `\n### ${s}\n\n` : `\n${s}\n`);
  const facts = wasteFacts(r, o, v.ignore, true);
  let out = md
    ? facts.map(([k, val]) => `- **${k}**: ${val.replace(/\|/g, '\\|')}`).join('\n') + '\n'
    : (() => {
        const w = Math.max(...facts.map(([k]) => k.length)) + 2;
        return facts.map(([k, val]) => `${k.padEnd(w)}${val}`).join('\n') + '\n';
      })();
  if (r.paths.length) {
    out += heading(`Wasted paths (${r.paths.length < r.pathCount ? `top ${r.paths.length} of ${r.pathCount}` : `${r.pathCount}`}, most bytes first)`);
    out += table(wastedPathsColumns(r.paths, o));
  }
  out += heading('Layers (WASTED: what of the layer\'s own bytes later layers hide; HIDES: what it hides of earlier layers)');
  out += table(layersColumns(v, o));
  if (r.duplicates.length) {
    out += heading(`Duplicates (${r.duplicates.length < r.duplicateCount ? `top ${r.duplicates.length} of ${r.duplicateCount}` : `${r.duplicateCount}`}, identical contents at several visible paths)`);
    out += table(duplicatesColumns(v, o));
  }
  if (v.dive) {
    const d = r.dive;
    const shown = d.inefficientFiles.length < d.inefficientFileCount ? `top ${d.inefficientFiles.length} of ${d.inefficientFileCount}` : `${d.inefficientFileCount}`;
    out += heading(`dive's inefficient files (${shown}; every copy counted, the visible one too)`);
    out += d.inefficientFiles.length ? table(diveColumns(d)) : 'none\n';
  }
  return out;
}
