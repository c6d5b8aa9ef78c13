// `layerlens images`: docker images' columns, plus the platform.
import { shortDigest } from '../image/digest.js';
import type { ImageRow } from '../analysis/summary.js';
import { json, type RenderOptions } from './format.js';
import { dockerTable, markdownTable, type Columns } from './table.js';
import { humanSize, isoTime, timeAgo } from './units.js';

export function renderImages(rows: ImageRow[], o: RenderOptions): string {
  if (o.format === 'json') {
    return json(rows.map((r) => ({ repository: r.repository, tag: r.tag, id: r.id, manifestDigest: r.manifestDigest ?? null, created: r.created ?? null, size: r.size, platform: r.platform, layers: r.layers })));
  }
  const t: Columns = {
    headers: ['REPOSITORY', 'TAG', 'IMAGE ID', o.human ? 'CREATED' : 'CREATED AT', 'SIZE', 'PLATFORM'],
    rows: rows.map((r) => [
      r.repository,
      r.tag,
      o.noTrunc ? r.id : shortDigest(r.id),
      o.human ? timeAgo(r.created, o.now) : isoTime(r.created),
      o.human ? humanSize(r.size) : String(r.size),
      r.platform,
    ]),
    numeric: [4],
  };
  return o.format === 'markdown' ? markdownTable(t) : dockerTable(t);
}
