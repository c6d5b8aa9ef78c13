// Tabular output. `docker` style is what docker's own tables are (text/tabwriter with minwidth
// 10, padding 3, space-filled); `markdown` is a GitHub table; `boxed` is what cli-table3 draws,
// for layerlens's own wider tables.
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

/**
 * A boxed table, as cli-table3 draws it with a compact style and no row separators (same
 * output, byte for byte), in time linear in the number of cells: cli-table3's layout grows
 * faster than the rows do (20,000 rows took half a minute). A cell may hold several lines; its
 * width ignores colour escapes.
 */
export function boxedTable(t: Columns): string {
  const numeric = new Set(t.numeric ?? []);
  const rows = [t.headers, ...t.rows];
  const columns = Math.max(...rows.map((r) => r.length));
  const widths = new Array<number>(columns).fill(0);
  const split = rows.map((r) => Array.from({ length: columns }, (_, i) => String(r[i] ?? '').split('\n')));
  for (const r of split) r.forEach((lines, i) => lines.forEach((l) => (widths[i] = Math.max(widths[i]!, visibleWidth(l)))));
  const rule = (left: string, mid: string, right: string) => left + widths.map((w) => '─'.repeat(w + 2)).join(mid) + right;
  const out = [rule('┌', '┬', '┐')];
  for (const r of split) {
    const height = Math.max(...r.map((lines) => lines.length));
    for (let k = 0; k < height; k++) {
      const cells = r.map((lines, i) => {
        const text = lines[k] ?? '';
        const pad = ' '.repeat(widths[i]! - visibleWidth(text));
        return ` ${numeric.has(i) ? pad + text : text + pad} `;
      });
      out.push(`│${cells.join('│')}│`);
    }
  }
  out.push(rule('└', '┴', '┘'));
  return out.join('\n') + '\n';
}

/** Columns a string takes on a terminal, colour escapes aside. */
function visibleWidth(s: string): number {
  return displayWidth(s.includes('\u001b') ? s.replace(/\u001b\[[0-9;]*m/g, '') : s);
}
