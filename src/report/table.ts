// Tabular output. `docker` style is what docker's own tables are (text/tabwriter with minwidth
// 10, padding 3, space-filled); `markdown` is a GitHub table; `boxed` is cli-table3 for
// layerlens's own wider tables.
import Table from 'cli-table3';
// One width for cutting (ellipsis) and for padding, or a cut command would not line up.
import { displayWidth } from './units.js';

export interface Columns {
  headers: string[];
  rows: string[][];
  /** Right-align these columns in boxed tables (numbers). */
  numeric?: number[];
}

/** docker's table writer: every cell but the last in a row padded to its column's width + 3, at least 10. */
export function dockerTable(t: Columns): string {
  const all = [t.headers, ...t.rows];
  const widths: number[] = [];
  for (const row of all) {
    row.forEach((cell, i) => {
      if (i === row.length - 1) return;
      widths[i] = Math.max(widths[i] ?? 0, Math.max(10, displayWidth(cell) + 3));
    });
  }
  return (
    all
      .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - displayWidth(cell)))).join(''))
      .join('\n') + '\n'
  );
}

function mdEscape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function markdownTable(t: Columns): string {
  const numeric = new Set(t.numeric ?? []);
  const head = `| ${t.headers.map(mdEscape).join(' | ')} |`;
  const rule = `|${t.headers.map((_, i) => (numeric.has(i) ? ' ---: ' : ' --- ')).join('|')}|`;
  const body = t.rows.map((r) => `| ${r.map(mdEscape).join(' | ')} |`);
  return [head, rule, ...body].join('\n') + '\n';
}

export function boxedTable(t: Columns): string {
  const numeric = new Set(t.numeric ?? []);
  const table = new Table({
    head: t.headers,
    style: { head: [], border: [], compact: true },
    colAligns: t.headers.map((_, i) => (numeric.has(i) ? 'right' : 'left')),
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const r of t.rows) table.push(r);
  return table.toString() + '\n';
}
