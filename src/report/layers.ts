// `layerlens layers`: one row per layer with what it costs.
import { shortDigest } from '../image/digest.js';
import type { LayerRecord } from '../analysis/summary.js';
import { json, type RenderOptions } from './format.js';
import { boxedTable, markdownTable, type Columns } from './table.js';
import { ellipsis, humanSize } from './units.js';

export function layersJson(records: LayerRecord[]): unknown[] {
  return records.map((r) => ({
    index: r.index,
    digest: r.digest ?? null,
    diffId: r.diffId ?? null,
    mediaType: r.mediaType,
    compression: r.compression ?? null,
    compressedSize: r.compressedSize,
    size: r.size ?? null,
    entries: r.entries ?? null,
    createdBy: r.createdBy ?? null,
    verified: r.verified,
  }));
}

export function layersColumns(records: LayerRecord[], o: RenderOptions): Columns {
  const size = (n: number | undefined) => (n === undefined ? '' : o.human ? humanSize(n) : String(n));
  const d = (x: string | undefined) => (x === undefined ? '' : o.noTrunc ? x : shortDigest(x as never));
  return {
    headers: ['#', 'DIGEST', 'DIFF ID', 'COMPRESSION', 'STORED', 'SIZE', 'ENTRIES', 'CREATED BY'],
    rows: records.map((r) => [
      String(r.index),
      d(r.digest),
      d(r.diffId),
      r.compression ?? '',
      size(r.compressedSize),
      size(r.size),
      r.entries === undefined ? '' : String(r.entries),
      o.noTrunc ? (r.createdBy ?? '') : ellipsis((r.createdBy ?? '').replace(/\s+/g, ' '), 45),
    ]),
    numeric: [0, 4, 5, 6],
  };
}

export function renderLayers(records: LayerRecord[], o: RenderOptions): string {
  if (o.format === 'json') return json(layersJson(records));
  const t = layersColumns(records, o);
  return o.format === 'markdown' ? markdownTable(t) : boxedTable(t);
}
