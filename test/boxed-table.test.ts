// Boxed tables are drawn by layerlens itself, as cli-table3 draws them: cli-table3's layout
// took half a minute for a layer of 20,000 changed files (found by the fuzzer, a `changes`
// table of a crafted layer). The output must stay the same, byte for byte, and linear in time.
import Table from 'cli-table3';
import { describe, expect, it } from 'vitest';
import { boxedTable, type Columns } from '../src/report/table.js';

function cliTable3(t: Columns): string {
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

describe('boxed tables', () => {
  const cells = ['', 'a', 'hello world', '日本語', 'naïve café ✓', '😀x', '\u001b[32m+\u001b[39m', 'two\nlines', '12345', 'x'.repeat(50)];

  it('are what cli-table3 draws: wide characters, colour, several lines in a cell, empty tables, numbers to the right', () => {
    for (let trial = 0; trial < 300; trial++) {
      const cols = 1 + (trial % 5);
      const headers = Array.from({ length: cols }, (_, i) => cells[(trial + i) % cells.length]!.replace('\n', ' ') || 'H');
      const rows = Array.from({ length: trial % 4 }, (_, r) => Array.from({ length: cols }, (_, i) => cells[(trial * 7 + r * 3 + i * 5) % cells.length]!));
      const t = { headers, rows, numeric: [trial % cols] };
      expect(boxedTable(t), JSON.stringify(t)).toBe(cliTable3(t));
    }
  });

  it('take time in proportion to their rows', () => {
    const rows = Array.from({ length: 50_000 }, (_, i) => ['+', 'added', 'file', String(i), `/many/${i % 97}/${i}`]);
    const started = Date.now();
    const text = boxedTable({ headers: ['', 'CHANGE', 'TYPE', 'SIZE', 'PATH'], rows, numeric: [3] });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(text.split('\n')).toHaveLength(50_000 + 4);
  });
});
