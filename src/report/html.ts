// `layerlens report`: one self-contained HTML page — no network, no external script, style or
// font (a Content-Security-Policy says so to the browser) — with the image's identity, the rules'
// verdicts, a chart of what each layer stores and wastes, the history, the waste tables, the
// file tree at any layer (drawn by the page's script from compact JSON, lazily) and, when asked,
// the diff against another image. Every string from the image is escaped here or reaches the
// page as JSON that the script only ever puts in textContent.
import type { HistoryRecord } from '../analysis/summary.js';
import type { Timeline, TimelineEvent, TimelineView } from '../analysis/timeline.js';
import type { WasteResult } from '../analysis/waste.js';
import type { Verdict } from '../ci/rules.js';
import { randomUUID } from 'node:crypto';
import { escapeName } from '../layer/names.js';
import { ciJson } from './ci.js';
import { stringifyShown, versioned } from './format.js';
import { REPORT_CSS, REPORT_JS } from './html-client.js';
import { humanSize, isoTime } from './units.js';

export interface HtmlLayer {
  index: number;
  digest: string | null;
  diffId: string | null;
  mediaType: string;
  compression: string | null;
  /** Bytes as stored in the file. */
  storedSize: number;
  /** Bytes of the uncompressed tar. */
  size: number;
  entries: number | null;
  createdBy: string | null;
}

export interface HtmlImage {
  names: string[];
  id: string;
  manifestDigest: string | null;
  platform: string;
  format: string;
  created: string | null;
  author: string | null;
  user: string;
  workingDir: string;
  entrypoint: unknown;
  cmd: unknown;
  env: string[];
  labels: Record<string, string>;
  exposedPorts: string[];
  storedSize: number;
  size: number;
}

export interface HtmlReport {
  /** What the user named. */
  file: string;
  image: HtmlImage;
  layers: HtmlLayer[];
  history: HistoryRecord[];
  waste: WasteResult | null;
  verdict: Verdict | null;
  /** `diffJson()` of the diff against `--diff OTHER`, and what OTHER was. */
  diff: { other: string; doc: DiffDoc } | null;
  /** As arrays, or read in place (TimelineRecorder.view(): written out without the arrays). */
  timeline: Timeline | TimelineView;
  generator: string;
  /** When it was made (ISO 8601). */
  generated: string;
  warnings: string[];
}

/** The parts of `diffJson()` the page shows. */
export interface DiffDoc {
  a: string;
  b: string;
  summary: {
    same: boolean;
    files: { added: number; removed: number; modified: number; addedBytes: number; removedBytes: number; sizeDelta: number };
    config: { added: number; removed: number; changed: number };
    layers: { shared: number; a: number; b: number };
    packages: { added: number; removed: number; changed: number };
  };
  identity: Array<{ field: string; a: unknown; b: unknown; same: boolean; delta?: number }>;
  config: Array<{ field: string; key?: string | null; kind?: string; a?: unknown; b?: unknown }>;
  files: { added: Array<{ path: string; type: string; size: number }>; removed: Array<{ path: string; type: string; size: number }>; modified: Array<{ path: string; changes: string[]; sizeDelta: number }> };
}

function esc(s: unknown): string {
  return escapeName(String(s ?? '')).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function short(d: string | null | undefined): string {
  return d ? d.replace(/^sha256:/, '').slice(0, 12) : '';
}

function pct(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? 'n/a' : `${(n * 100).toFixed(2)}%`;
}

const B = humanSize;

/** JSON for a <script> element: every string shown as layerlens shows names, and nothing that could end the element. */
function scriptJson(value: unknown): string {
  return forScript(stringifyShown(value));
}

/** JSON text made safe inside a <script> element. */
function forScript(json: string): string {
  // (One pass, not one per character: the JSON of a large image is tens of megabytes.)
  return json.replace(/[<>\u2028\u2029]/g, (c) => SCRIPT_ESCAPES[c]!);
}

function isView(t: Timeline | TimelineView): t is TimelineView {
  return 'eventsOf' in t;
}

/** Paths whose events are made into arrays and written at once (then let go) by timelineJson(). */
const TIMELINE_BLOCK = 4096;

/**
 * The JSON text of a timeline read in place: what stringifyShown writes for the same timeline
 * as arrays (Timeline), a block of paths at a time, so that the arrays of only one block exist.
 */
export function timelineJson(t: TimelineView): string {
  const parts: string[] = [`{"names":${stringifyShown(t.names)},"parents":${JSON.stringify(t.parents)},"events":[`];
  for (let from = 0; from < t.names.length; from += TIMELINE_BLOCK) {
    const block: TimelineEvent[][] = [];
    for (let n = from; n < Math.min(t.names.length, from + TIMELINE_BLOCK); n++) block.push(t.eventsOf(n));
    const text = stringifyShown(block);
    parts.push(from === 0 ? text.slice(1, -1) : `,${text.slice(1, -1)}`);
  }
  parts.push(`],"descriptions":${stringifyShown(t.descriptions)},"layers":${t.layers}}`);
  return parts.join('');
}

const SCRIPT_ESCAPES: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '\u2028': '\\u2028', '\u2029': '\\u2029' };

function facts(rows: Array<[string, string]>): string {
  return `<dl class="facts">${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

function table(headers: Array<string | [string, 'num']>, rows: string[][], id?: string): string {
  const head = headers.map((h) => (Array.isArray(h) ? `<th class="num">${esc(h[0])}</th>` : `<th>${esc(h)}</th>`)).join('');
  const num = new Set(headers.flatMap((h, i) => (Array.isArray(h) ? [i] : [])));
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${num.has(i) ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`).join('');
  return `<table class="data"${id ? ` id="${id}"` : ''}><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function overview(r: HtmlReport): string {
  const im = r.image;
  const cmd = [im.entrypoint, im.cmd].filter((x) => Array.isArray(x)).map((x) => JSON.stringify(x)).join(' ');
  const rows: Array<[string, string]> = [
    ['Names', im.names.length ? im.names.map((n) => `<code>${esc(n)}</code>`).join(', ') : '<span class="muted">untagged</span>'],
    ['Image ID', `<code>${esc(im.id)}</code>`],
    ['Manifest', im.manifestDigest ? `<code>${esc(im.manifestDigest)}</code>` : '<span class="muted">none (this archive stores no manifest blob)</span>'],
    ['Platform', esc(im.platform)],
    ['Format', esc(im.format)],
    ['Created', im.created ? esc(isoTime(im.created) || im.created) : '<span class="muted">unknown</span>'],
    ['Size', `${esc(B(im.size))} uncompressed, ${esc(B(im.storedSize))} stored, ${r.layers.length} layer${r.layers.length === 1 ? '' : 's'}`],
    ['User', im.user ? `<code>${esc(im.user)}</code>` : '<span class="muted">none (root)</span>'],
  ];
  if (im.author) rows.push(['Author', esc(im.author)]);
  if (im.workingDir) rows.push(['Working dir', `<code>${esc(im.workingDir)}</code>`]);
  if (cmd) rows.push(['Command', `<code>${esc(cmd)}</code>`]);
  if (im.exposedPorts.length) rows.push(['Ports', esc(im.exposedPorts.join(', '))]);
  if (im.env.length) rows.push(['Env', im.env.map((e) => `<code>${esc(e)}</code>`).join('<br>')]);
  const labels = Object.keys(im.labels).sort();
  if (labels.length) rows.push(['Labels', labels.map((k) => `<code>${esc(k)}</code> = ${esc(im.labels[k])}`).join('<br>')]);
  const warn = r.warnings.length ? `<h3>Warnings</h3><ul>${r.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul>` : '';
  return `<section id="overview"><h2>Overview</h2>${facts(rows)}${warn}</section>`;
}

function rules(v: Verdict): string {
  const c = v.counts;
  const pill = (s: string) => `<span class="pill ${s}">${s.toUpperCase()}</span>`;
  const rows = v.results.map((x) => [pill(x.status), `<code>${esc(x.key)}</code>`, esc(x.message), `${esc(x.limit)} <span class="muted">(${esc(x.from)})</span>`]);
  return `<section id="rules"><h2>Rules</h2><p class="verdict">${pill(v.pass ? 'pass' : 'fail')} ${c.total} rules: ${c.pass} passed, ${c.fail} failed, ${c.skip} skipped <span class="muted">— rules from ${esc(v.sources.join(' and ') || "dive's defaults")}; waste figures: ${v.metrics === 'dive' ? "dive's" : "layerlens's"}</span></p>${table(['result', 'rule', 'details', 'limit'], rows)}</section>`;
}

function chart(r: HtmlReport): string {
  const w = r.waste;
  const bars = r.layers.map((l) => {
    const lw = w?.layers[l.index];
    return { index: l.index, stored: lw ? lw.storedBytes : l.size, wasted: lw ? lw.wastedBytes : 0, files: lw?.storedFiles ?? null, compressed: l.storedSize, createdBy: l.createdBy ?? '' };
  });
  const max = Math.max(1, ...bars.map((b) => b.stored));
  const rowH = 26;
  const labelW = 46;
  const barW = 560;
  const textX = labelW + barW + 14;
  const width = 1100;
  const height = Math.max(rowH, bars.length * rowH) + 6;
  const g = bars
    .map((b, i) => {
      const y = i * rowH + 3;
      const sw = b.stored > 0 ? Math.max(2, (b.stored / max) * barW) : 0;
      const ww = b.wasted > 0 ? Math.max(2, (b.wasted / max) * barW) : 0;
      const cmd = b.createdBy.replace(/\s+/g, ' ');
      const text = `${B(b.stored)} stored${b.wasted ? `, ${B(b.wasted)} wasted` : ''} · ${B(b.compressed)} in the file`;
      return (
        `<g class="bar" data-layer="${b.index}"><title>${esc(`layer ${b.index}: ${B(b.stored)} of file content stored, ${B(b.wasted)} of it wasted (hidden by a later layer); ${B(b.compressed)} in the file${cmd ? `\n${cmd}` : ''}`)}</title>` +
        `<rect class="bg" x="0" y="${y - 2}" width="${width}" height="${rowH}"/>` +
        `<text x="4" y="${y + 15}">#${b.index}</text>` +
        `<rect class="stored" x="${labelW}" y="${y + 3}" width="${sw.toFixed(1)}" height="16" rx="2"/>` +
        (ww ? `<rect class="wasted" x="${(labelW + sw - ww).toFixed(1)}" y="${y + 3}" width="${ww.toFixed(1)}" height="16" rx="2"/>` : '') +
        `<text class="muted" x="${textX}" y="${y + 15}">${esc(text)}</text></g>`
      );
    })
    .join('');
  const legend = `<div class="legend muted"><span class="stored" style="background:var(--store)"></span>file content the layer stores<span style="background:var(--waste)"></span>of which wasted (hidden by a later layer)</div>`;
  return `<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-label="bytes each layer stores and wastes">${g}</svg>${legend}`;
}

function layersSection(r: HtmlReport): string {
  const w = r.waste;
  const rows = r.layers.map((l) => {
    const lw = w?.layers[l.index];
    return [
      String(l.index),
      `<code title="${esc(l.digest)}">${esc(short(l.digest))}</code>`,
      esc(l.compression ?? ''),
      esc(B(l.storedSize)),
      esc(B(l.size)),
      l.entries === null ? '' : String(l.entries),
      lw ? esc(B(lw.wastedBytes)) : '',
      `<span class="cmd">${esc((l.createdBy ?? '').replace(/\s+/g, ' '))}</span>`,
    ];
  });
  return `<section id="layers"><h2>Layers</h2><p class="muted">Click a bar to see the files at that layer.</p>${chart(r)}${table(['#', 'digest', 'compression', ['stored', 'num'], ['size', 'num'], ['entries', 'num'], ['wasted', 'num'], 'created by'], rows)}</section>`;
}

function historySection(r: HtmlReport): string {
  const rows = r.history.map((h) => [
    esc(h.created ? isoTime(h.created) || h.created : ''),
    `<span class="cmd">${esc(h.createdBy.replace(/\s+/g, ' '))}</span>`,
    h.layerIndex === null ? '<span class="muted">no layer</span>' : String(h.layerIndex),
    h.layerIndex === null ? '' : esc(B(h.size)),
    esc(h.comment),
  ]);
  return `<section id="history"><h2>History</h2>${rows.length ? table(['created', 'created by', ['layer', 'num'], ['size', 'num'], 'comment'], rows) : '<p class="muted">The config has no history.</p>'}</section>`;
}

function wasteSection(w: WasteResult): string {
  const card = (v: string, k: string) => `<div class="card"><div class="v">${v}</div><div class="k">${esc(k)}</div></div>`;
  const cards = [
    card(esc(pct(w.efficiency)), 'efficiency (visible / stored)'),
    card(esc(B(w.wastedBytes)), `wasted in ${w.hiddenCopies} hidden cop${w.hiddenCopies === 1 ? 'y' : 'ies'}`),
    card(esc(B(w.byReason.overwritten)), 'overwritten'),
    card(esc(B(w.byReason.metadataOnly)), 'copied for a chmod/chown only'),
    card(esc(B(w.byReason.removed)), 'removed later'),
    card(esc(B(w.duplicateBytes)), `in ${w.duplicateCount} duplicate group${w.duplicateCount === 1 ? '' : 's'}`),
    card(esc(pct(w.dive.efficiency)), "dive's efficiency"),
    card(esc(B(w.dive.wastedBytes)), "dive's wasted bytes"),
    card(esc(pct(w.dive.userWastedPercent)), "dive's user wasted percent"),
  ].join('');
  const paths = w.paths.map((p) => [
    `<code>${esc(p.path)}</code>`,
    String(p.copies),
    esc(B(p.wastedBytes)),
    esc(p.layers.join(', ')),
    esc(p.hiddenBy.join(', ')),
    esc([...new Set(p.detail.map((d) => d.change))].join(', ')),
  ]);
  const dups = w.duplicates.map((d) => [esc(B(d.size)), String(d.copies), esc(B(d.savableBytes)), d.paths.map((p) => `<code>${esc(p)}</code>`).join('<br>')]);
  const more = (shown: number, total: number, what: string) => (total > shown ? `<p class="muted">The ${shown} largest of ${total} ${what}.</p>` : '');
  return (
    `<section id="waste"><h2>Waste</h2><div class="cards">${cards}</div>` +
    `<h3>Wasted paths</h3>${paths.length ? table(['path', ['copies', 'num'], ['wasted', 'num'], 'stored by layer', 'hidden by layer', 'how'], paths) + more(paths.length, w.pathCount, 'wasted paths') : '<p class="muted">Nothing is wasted: no layer hides bytes another stored.</p>'}` +
    `<h3>Duplicates</h3>${dups.length ? table([['size', 'num'], ['copies', 'num'], ['savable', 'num'], 'paths'], dups) + more(dups.length, w.duplicateCount, 'duplicate groups') : '<p class="muted">No content is stored at two visible paths.</p>'}</section>`
  );
}

function filesSection(): string {
  return (
    `<section id="files"><h2>Files</h2>` +
    `<div class="toolbar"><label>Layer <select id="layer" aria-label="layer"></select></label>` +
    `<label>Sort <select id="sort" aria-label="sort"><option value="name">by name</option><option value="size">by size</option></select></label>` +
    `<label><input type="checkbox" id="only"> only what this layer changed</label>` +
    `<input type="search" id="search" placeholder="Find a file (name, or a path with /)" aria-label="find a file"></div>` +
    `<p id="layer-summary" class="muted"></p><div id="results" class="results" hidden></div>` +
    `<div id="tree" class="tree" role="tree"></div>` +
    `<p class="muted"><span class="kindA">+ added</span>, <span class="kindM">~ modified</span>, <span class="kindR">- removed</span> by the chosen layer; a directory's size is the bytes of the files below it.</p></section>`
  );
}

function valueText(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function diffSection(d: { other: string; doc: DiffDoc }): string {
  const s = d.doc.summary;
  const f = s.files;
  const head = s.same ? '<span class="pill pass">SAME</span>' : '<span class="pill fail">DIFFERENT</span>';
  const identity = d.doc.identity.filter((x) => !x.same).map((x) => [esc(x.field), `<code>${esc(valueText(x.a))}</code>`, `<code>${esc(valueText(x.b))}</code>`]);
  const config = d.doc.config.map((c) => [esc(c.kind ?? ''), `<code>${esc(c.field)}${c.key ? ` ${esc(c.key)}` : ''}</code>`, `<code>${esc(valueText(c.a))}</code>`, `<code>${esc(valueText(c.b))}</code>`]);
  return (
    `<section id="diff"><h2>Diff against ${esc(d.other)}</h2>` +
    `<p class="verdict">${head} <span class="muted">${esc(d.doc.a)} → ${esc(d.doc.b)}</span></p>` +
    `<p>${f.added} added (${esc(B(f.addedBytes))}), ${f.removed} removed (${esc(B(f.removedBytes))}), ${f.modified} modified; files ${f.sizeDelta >= 0 ? 'grew' : 'shrank'} by ${esc(B(Math.abs(f.sizeDelta)))}; ` +
    `config: ${s.config.added} added, ${s.config.removed} removed, ${s.config.changed} changed; layers: ${s.layers.shared} shared; packages: ${s.packages.added} added, ${s.packages.removed} removed, ${s.packages.changed} changed.</p>` +
    (identity.length ? `<h3>Identity</h3>${table(['field', esc(d.doc.a), esc(d.doc.b)], identity)}` : '') +
    (config.length ? `<h3>Config</h3>${table(['change', 'field', 'before', 'after'], config)}` : '') +
    `<h3>Added files</h3>${table(['path', 'type', ['size', 'num']], [], 'diff-added')}` +
    `<h3>Removed files</h3>${table(['path', 'type', ['size', 'num']], [], 'diff-removed')}` +
    `<h3>Modified files</h3>${table(['path', 'what changed', ['size change', 'num']], [], 'diff-modified')}</section>`
  );
}

/** The data the page's script reads, as JSON text for its <script> element. */
function reportData(r: HtmlReport): string {
  // A timeline read in place is written by timelineJson() where a placeholder stands: a string
  // no image can hold, as it is made for this page.
  const placeholder = isView(r.timeline) ? `layerlens-timeline-${randomUUID()}` : undefined;
  const text = scriptJson(
    versioned({
      image: { names: r.image.names, id: r.image.id },
      layers: r.layers.map((l) => ({ index: l.index, createdBy: l.createdBy })),
      timeline: placeholder ?? r.timeline,
      diff: r.diff ? { files: r.diff.doc.files } : null,
      verdict: r.verdict ? ciJson(r.verdict) : null,
    }),
  );
  if (placeholder === undefined) return text;
  const at = text.indexOf(`"${placeholder}"`);
  return text.slice(0, at) + forScript(timelineJson(r.timeline as TimelineView)) + text.slice(at + placeholder.length + 2);
}

export function renderHtml(r: HtmlReport): string {
  const name = r.image.names[0] ?? short(r.image.id);
  const nav = [
    ['overview', 'Overview'],
    ...(r.verdict ? [['rules', `Rules${r.verdict.pass ? '' : ' ✗'}`]] : []),
    ['layers', 'Layers'],
    ['history', 'History'],
    ...(r.waste ? [['waste', 'Waste']] : []),
    ['files', 'Files'],
    ...(r.diff ? [['diff', 'Diff']] : []),
  ]
    .map(([id, label]) => `<a href="#${id}">${esc(label)}</a>`)
    .join('');
  const csp = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="generator" content="${esc(r.generator)}">`,
    `<title>${esc(name)} — layerlens report</title>`,
    `<style>${REPORT_CSS}</style></head><body>`,
    `<header><h1>${esc(name)}</h1><div class="sub">${esc(short(r.image.id))} · ${esc(r.image.platform)} · ${esc(B(r.image.size))} in ${r.layers.length} layer${r.layers.length === 1 ? '' : 's'}${r.verdict ? ` · rules: <span class="pill ${r.verdict.pass ? 'pass' : 'fail'}">${r.verdict.pass ? 'PASS' : 'FAIL'}</span>` : ''} · from <code>${esc(r.file)}</code></div></header>`,
    `<nav>${nav}</nav><main>`,
    overview(r),
    r.verdict ? rules(r.verdict) : '',
    layersSection(r),
    historySection(r),
    r.waste ? wasteSection(r.waste) : '',
    filesSection(),
    r.diff ? diffSection(r.diff) : '',
    `</main><footer>Made by ${esc(r.generator)} on ${esc(r.generated)}. This page works offline: it loads nothing from anywhere.</footer>`,
    `<script type="application/json" id="layerlens-data">${reportData(r)}</script>`,
    `<script>${REPORT_JS}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}

