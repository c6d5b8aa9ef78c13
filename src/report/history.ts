// `layerlens history`: docker image history's table (newest first, IMAGE shown on the top row
// only, commands cut at 45 columns), and one JSON record per history entry in config order.
import { shortDigest } from '../image/digest.js';
import type { HistoryResult } from '../analysis/summary.js';
import { json, type RenderOptions } from './format.js';
import { dockerTable, markdownTable, type Columns } from './table.js';
import { ellipsis, humanSize, isoTime, timeAgo } from './units.js';

export function renderHistory(h: HistoryResult, o: RenderOptions): string {
  if (o.format === 'json') {
    return json(
      h.records.map((r) => ({
        created: r.created ?? null,
        createdBy: r.createdBy,
        comment: r.comment,
        emptyLayer: r.emptyLayer,
        layerIndex: r.layerIndex,
        size: r.size,
      })),
    );
  }
  const newestFirst = [...h.records].reverse();
  const t: Columns = {
    headers: ['IMAGE', o.human ? 'CREATED' : 'CREATED AT', 'CREATED BY', 'SIZE', 'COMMENT'],
    rows: newestFirst.map((r, i) => {
      const createdBy = r.createdBy.replace(/\t/g, ' ');
      return [
        i === 0 ? (o.noTrunc ? h.id : shortDigest(h.id)) : '<missing>',
        o.human ? timeAgo(r.created, o.now) : isoTime(r.created),
        o.noTrunc ? createdBy : ellipsis(createdBy, 45),
        o.human ? humanSize(r.size) : String(r.size),
        r.comment,
      ];
    }),
  };
  let out = o.format === 'markdown' ? markdownTable(t) : dockerTable(t);
  if (h.mismatch) out += `\nnote: ${h.mismatch}${h.unexplainedLayers.length ? ` (layers ${h.unexplainedLayers.join(', ')} have no history entry)` : ''}\n`;
  return out;
}
