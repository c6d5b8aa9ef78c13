// `layerlens analyze`: the overview a person wants first — identity, platform, sizes, the layers
// and the history.
import type { HistoryResult, LayerRecord } from '../analysis/summary.js';
import type { WasteResult } from '../analysis/waste.js';
import type { Image } from '../image/model.js';
import { formatPlatform } from '../image/platform.js';
import { json, versioned, type RenderOptions } from './format.js';
import { renderHistory } from './history.js';
import { layersColumns, layersJson } from './layers.js';
import { boxedTable, markdownTable } from './table.js';
import { humanSize, isoTime, timeAgo } from './units.js';
import { wasteFacts, wasteSummaryJson, wastedPathsColumns } from './waste.js';

export interface AnalyzeResult {
  image: Image;
  layers: LayerRecord[];
  history: HistoryResult;
  storedSize: number;
  size: number;
  warnings: string[];
  /** Where the bytes go (the top paths only). */
  waste?: WasteResult;
}

export function analyzeJson(r: AnalyzeResult): unknown {
  const im = r.image;
  const c = im.config.config ?? {};
  return versioned({
    image: {
      id: im.id,
      repoTags: im.repoTags,
      refNames: im.refNames,
      manifestDigest: im.manifest?.descriptor.digest ?? null,
      manifestMediaType: im.manifest ? im.manifest.descriptor.mediaType || im.manifest.mediaType : null,
      format: im.format,
      container: im.container,
      platform: formatPlatform(im.platform),
      created: im.config.created ?? null,
      author: im.config.author ?? null,
      user: typeof c.User === 'string' ? c.User : '',
      workingDir: typeof c.WorkingDir === 'string' ? c.WorkingDir : '',
      entrypoint: c.Entrypoint ?? null,
      cmd: c.Cmd ?? null,
      storedSize: r.storedSize,
      size: r.size,
      layerCount: im.layers.length,
    },
    layers: layersJson(r.layers),
    history: r.history.records.map((h) => ({ created: h.created ?? null, createdBy: h.createdBy, comment: h.comment, emptyLayer: h.emptyLayer, layerIndex: h.layerIndex, size: h.size })),
    ...(r.waste ? { waste: wasteSummaryJson(r.waste) } : {}),
    warnings: r.warnings,
  });
}

export function renderAnalyze(r: AnalyzeResult, o: RenderOptions): string {
  if (o.format === 'json') return json(analyzeJson(r));
  const im = r.image;
  const c = im.config.config ?? {};
  const size = (n: number) => (o.human ? humanSize(n) : `${n} bytes`);
  const created = im.config.created ? `${isoTime(im.config.created)} (${timeAgo(im.config.created, o.now)})` : 'unknown';
  const command = [c.Entrypoint, c.Cmd].filter((x) => Array.isArray(x)).map((x) => JSON.stringify(x)).join(' ');
  const facts: Array<[string, string]> = [
    ['Image', [...im.repoTags, ...im.refNames.filter((n) => !im.repoTags.includes(n))].join(', ') || '<untagged>'],
    ['ID', im.id],
    ['Manifest', im.manifest ? `${im.manifest.descriptor.digest} (${im.manifest.descriptor.mediaType || im.manifest.mediaType})` : 'none (this archive stores no manifest blob)'],
    ['Platform', formatPlatform(im.platform)],
    ['Format', `${im.format} (${im.container})`],
    ['Created', created],
    ['Size', `${size(r.size)} uncompressed, ${size(r.storedSize)} stored, ${im.layers.length} layer${im.layers.length === 1 ? '' : 's'}`],
  ];
  if (typeof c.User === 'string' && c.User) facts.push(['User', c.User]);
  if (typeof c.WorkingDir === 'string' && c.WorkingDir) facts.push(['WorkingDir', c.WorkingDir]);
  if (command) facts.push(['Command', command]);
  const md = o.format === 'markdown';
  let out = '';
  if (md) {
    out += `## ${facts[0]![1]}\n\n` + facts.map(([k, v]) => `- **${k}**: ${v.replace(/\|/g, '\\|')}`).join('\n') + '\n\n### Layers\n\n';
  } else {
    const w = Math.max(...facts.map(([k]) => k.length)) + 2;
    out += facts.map(([k, v]) => `${k.padEnd(w)}${v}`).join('\n') + '\n\nLayers\n';
  }
  const lc = layersColumns(r.layers, o);
  out += md ? markdownTable(lc) : boxedTable(lc);
  out += md ? '\n### History\n\n' : '\nHistory\n';
  out += renderHistory(r.history, o);
  if (r.waste) {
    const wf = wasteFacts(r.waste, o);
    if (md) {
      out += '\n### Waste\n\n' + wf.map(([k, v]) => `- **${k}**: ${v.replace(/\|/g, '\\|')}`).join('\n') + '\n';
    } else {
      const w = Math.max(...wf.map(([k]) => k.length)) + 2;
      out += '\nWaste\n' + wf.map(([k, v]) => `${k.padEnd(w)}${v}`).join('\n') + '\n';
    }
    if (r.waste.paths.length) {
      const shown = r.waste.paths.length < r.waste.pathCount ? `top ${r.waste.paths.length} of ${r.waste.pathCount}` : `${r.waste.pathCount}`;
      out += md ? `\n#### Wasted paths (${shown})\n\n` : `\nWasted paths (${shown}; layerlens waste for the whole account)\n`;
      const wc = wastedPathsColumns(r.waste.paths, o);
      out += md ? markdownTable(wc) : boxedTable(wc);
    }
  }
  if (r.warnings.length) out += (md ? '\n### Warnings\n\n' : '\nWarnings\n') + r.warnings.map((w) => `- ${w}`).join('\n') + '\n';
  return out;
}
