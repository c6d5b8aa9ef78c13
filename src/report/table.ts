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
  let columns = 0;
  for (const r of rows) if (r.length > columns) columns = r.length;
  const widths = new Array<number>(columns).fill(0);
  // Each cell's text and width, measured once: a cell of one line (nearly all) as a string and a
  // number, one of several as their arrays (an array per cell and each width measured twice were
  // most of the time of a table of 120,000 rows). Filled by push: V8 makes `new Array(n)` of more
  // than 100,000 a dictionary.
  const text: Array<string | string[]> = [];
  const width: Array<number | number[]> = [];
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    for (let i = 0; i < columns; i++) {
      const s = String(row[i] ?? '');
      if (s.includes('\n')) {
        const lines = s.split('\n');
        const ws = lines.map(visibleWidth);
        text.push(lines);
        width.push(ws);
        for (const w of ws) if (w > widths[i]!) widths[i] = w;
      } else {
        const w = visibleWidth(s);
        text.push(s);
        width.push(w);
        if (w > widths[i]!) widths[i] = w;
      }
    }
  }
  const rule = (left: string, mid: string, right: string) => left + widths.map((w) => '─'.repeat(w + 2)).join(mid) + right;
  const out = [rule('┌', '┬', '┐')];
  for (let r = 0; r < rows.length; r++) {
    let height = columns === 0 ? 0 : 1;
    for (let i = 0; i < columns; i++) {
      const x = text[r * columns + i]!;
      if (typeof x !== 'string' && x.length > height) height = x.length;
    }
    for (let line = 0; line < height; line++) {
      let s = '│';
      for (let i = 0; i < columns; i++) {
        const k = r * columns + i;
        const x = text[k]!;
        const cell = typeof x === 'string' ? (line === 0 ? x : '') : x[line] ?? '';
        const w = typeof x === 'string' ? (line === 0 ? (width[k] as number) : 0) : (width[k] as number[])[line] ?? 0;
        const pad = ' '.repeat(widths[i]! - w);
        s += ` ${numeric.has(i) ? pad + cell : cell + pad} │`;
      }
      out.push(s);
    }
  }
  out.push(rule('└', '┴', '┘'));
  return out.join('\n') + '\n';
}

/** Columns a string takes on a terminal, colour escapes aside. */
function visibleWidth(s: string): number {
  return displayWidth(s.includes('\u001b') ? s.replace(/\u001b\[[0-9;]*m/g, '') : s);
}
