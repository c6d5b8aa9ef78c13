// Sizes, durations, truncation and tables exactly as docker prints them.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { HistoryResult } from '../src/analysis/summary.js';
import type { Digest } from '../src/image/digest.js';
import { renderHistory } from '../src/report/history.js';
import { dockerTable } from '../src/report/table.js';
import { ellipsis, formatG, humanDuration, humanSize, isoTime, timeAgo } from '../src/report/units.js';
import { NOW } from './helpers/cli.js';
import { HAS_SHARED, fixture } from './helpers/shared.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const MONTH = 30 * DAY;
const YEAR = 365 * DAY;

describe('humanSize: docker units.HumanSizeWithPrecision(size, 3)', () => {
  it.each([
    [0, '0B'],
    [1, '1B'],
    [999, '999B'],
    [1000, '1kB'],
    [1024, '1.02kB'],
    [12_345, '12.3kB'],
    [367_290, '367kB'],
    [999_499, '999kB'],
    [1_000_000, '1MB'],
    [1_048_576, '1.05MB'],
    [2_000_000, '2MB'],
    [3.42e9, '3.42GB'],
    [5.372e12, '5.37TB'],
    [2.22e15, '2.22PB'],
    [1e28, '1e+04YB'],
  ])('%d bytes is %s', (bytes, text) => {
    expect(humanSize(bytes)).toBe(text);
  });

  it('prints just under a unit boundary as Go\'s %.3g does: 999999 bytes is "1e+03kB"', () => {
    // The unit is chosen before rounding, and %.3g of 999.999 is "1e+03": docker really prints
    // this (docker/cli#3091, moby/moby#36389), and layerlens matches docker byte for byte.
    expect(humanSize(999_999)).toBe('1e+03kB');
    expect(humanSize(999_500)).toBe('1e+03kB');
    expect(humanSize(999_674_558)).toBe('1e+03MB');
  });
});

describe("formatG: Go's %.{p}g", () => {
  it.each([
    [100, 3, '100'],
    [1234.5, 3, '1.23e+03'],
    [0.000123456, 3, '0.000123'],
    [0.0000123456, 3, '1.23e-05'],
    [1.5, 3, '1.5'],
    [2.005, 4, '2.005'],
    [123456789, 4, '1.235e+08'],
  ])('%d at precision %d is %s', (value, precision, text) => {
    expect(formatG(value, precision)).toBe(text);
  });
});

describe('humanDuration: docker units.HumanDuration', () => {
  it.each([
    [450, 'Less than a second'],
    [1 * SECOND, '1 second'],
    [45 * SECOND, '45 seconds'],
    [59 * SECOND, '59 seconds'],
    [60 * SECOND, 'About a minute'],
    [119 * SECOND, 'About a minute'],
    [3 * MINUTE, '3 minutes'],
    [35 * MINUTE + 40 * SECOND, '35 minutes'],
    [59 * MINUTE, '59 minutes'],
    [1 * HOUR, 'About an hour'],
    [1 * HOUR + 29 * MINUTE, 'About an hour'],
    [1 * HOUR + 31 * MINUTE, '2 hours'],
    [3 * HOUR + 29 * MINUTE, '3 hours'],
    [3 * HOUR + 31 * MINUTE, '4 hours'],
    [24 * HOUR, '24 hours'],
    [1 * DAY + 12 * HOUR, '36 hours'],
    [2 * DAY, '2 days'],
    [13 * DAY + 5 * HOUR, '13 days'],
    [2 * WEEK, '2 weeks'],
    [2 * WEEK + 4 * DAY, '2 weeks'],
    [4 * WEEK + 3 * DAY, '4 weeks'],
    [1 * MONTH, '4 weeks'],
    [1 * MONTH + 2 * WEEK, '6 weeks'],
    [2 * MONTH, '2 months'],
    [5 * MONTH + 2 * WEEK, '5 months'],
    [13 * MONTH, '13 months'],
    [24 * MONTH, '24 months'],
    [24 * MONTH + 2 * WEEK, '2 years'],
    [3 * YEAR + 2 * MONTH, '3 years'],
  ])('%d ms is %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });

  it('calls a time in the future "Less than a second" (a clock ahead of the builder\'s)', () => {
    expect(humanDuration(-5 * MINUTE)).toBe('Less than a second');
  });
});

describe('times', () => {
  it('says how long ago, or N/A when there is no readable time', () => {
    expect(timeAgo(new Date(NOW - 3 * DAY).toISOString(), NOW)).toBe('3 days ago');
    expect(timeAgo('2024-05-01T10:00:00Z', NOW)).toBe('2 years ago');
    expect(timeAgo(undefined, NOW)).toBe('N/A');
    expect(timeAgo('not a time', NOW)).toBe('N/A');
  });

  it('prints RFC 3339 in UTC to the second for --human=false', () => {
    expect(isoTime('2017-01-01T12:00:03.123456789Z')).toBe('2017-01-01T12:00:03Z');
    expect(isoTime('2017-01-01T13:00:03+01:00')).toBe('2017-01-01T12:00:03Z');
    expect(isoTime(undefined)).toBe('');
  });
});

describe('ellipsis: docker formatter.Ellipsis', () => {
  // docker/cli's own cases (cli/command/formatter/displayutils_test.go).
  it.each([
    ['t🐳ststring', 0, ''],
    ['t🐳ststring', 1, 't'],
    ['t🐳ststring', 2, 't…'],
    ['t🐳ststring', 6, 't🐳st…'],
    ['t🐳ststring', 20, 't🐳ststring'],
    ['你好世界teststring', 0, ''],
    ['你好世界teststring', 1, '你'],
    ['你好世界teststring', 3, '你…'],
    ['你好世界teststring', 6, '你好…'],
    ['你好世界teststring', 20, '你好世界teststring'],
  ])('%s cut to %d columns is %s', (s, width, text) => {
    expect(ellipsis(s, width)).toBe(text);
  });

  it('cuts ASCII to width - 1 characters and an ellipsis, and leaves what fits', () => {
    const cmd = '/bin/sh -c apt-get update && apt-get install -y curl ca-certificates';
    expect(ellipsis(cmd, 45)).toBe('/bin/sh -c apt-get update && apt-get install…');
    expect([...ellipsis(cmd, 45)]).toHaveLength(45);
    expect(ellipsis('x'.repeat(45), 45)).toBe('x'.repeat(45));
    expect(ellipsis('', 45)).toBe('');
  });

  it('counts full-width characters as two columns', () => {
    expect(ellipsis('ＡＢＣＤＥ', 6)).toBe('ＡＢ…');
    expect(ellipsis('한국어 텍스트', 7)).toBe('한국어…');
  });
});

describe("docker's table layout", () => {
  it('pads every column but the last to its widest cell plus 3, and to at least 10', () => {
    expect(
      dockerTable({
        headers: ['A', 'LONGER HEADER', 'LAST'],
        rows: [
          ['x', 'y', 'trailing cell is not padded'],
          ['a much wider cell', '', ''],
        ],
      }),
    ).toBe(
      [
        `A${' '.repeat(19)}LONGER HEADER${' '.repeat(3)}LAST`,
        `x${' '.repeat(19)}y${' '.repeat(15)}trailing cell is not padded`,
        `a much wider cell${' '.repeat(3)}${' '.repeat(16)}`,
        '',
      ].join('\n'),
    );
  });

  it('aligns columns holding wide characters by display width', () => {
    const out = dockerTable({ headers: ['NAME', 'SIZE'], rows: [['日本語のイメージ', '1MB'], ['🐳 whale', '2MB'], ['plain', '3MB']] });
    // 日本語のイメージ is 16 columns wide and 🐳 two, as go-runewidth (docker's tabwriter) counts them.
    expect(out).toBe([`NAME${' '.repeat(15)}SIZE`, '日本語のイメージ   1MB', `🐳 whale${' '.repeat(11)}2MB`, `plain${' '.repeat(14)}3MB`, ''].join('\n'));
  });
});

describe('docker history goldens (docker/cli cli/command/image/testdata)', () => {
  const golden = (name: string) => fixture('docker-cli', 'cli', 'command', 'image', 'testdata', `history-command-success.${name}.golden`);
  const goldenIt = HAS_SHARED ? it : it.skip;

  /** One history entry, as docker's test feeds it, rendered by layerlens's history reporter. */
  function render(entry: { id: string; created: string; createdBy?: string; comment?: string; size?: number }, human: boolean): string {
    const h: HistoryResult = {
      id: entry.id as Digest,
      records: [{ created: entry.created, createdBy: entry.createdBy ?? '', comment: entry.comment ?? '', emptyLayer: false, layerIndex: 0, size: entry.size ?? 0 }],
      unexplainedLayers: [],
    };
    return renderHistory(h, { format: 'table', human, noTrunc: false, now: NOW });
  }

  goldenIt('reproduces history-command-success.simple.golden', () => {
    const out = render({ id: '1234567890123456789', created: new Date(NOW).toISOString(), comment: 'none' }, true);
    expect(out).toBe(fs.readFileSync(golden('simple'), 'utf8'));
  });

  goldenIt('reproduces history-command-success.platform.golden', () => {
    const out = render({ id: '1234567890123456789', created: new Date(NOW).toISOString() }, true);
    expect(out).toBe(fs.readFileSync(golden('platform'), 'utf8'));
  });

  goldenIt('reproduces history-command-success.non-human.golden', () => {
    const out = render({ id: 'abcdef', created: '2017-01-01T12:00:03Z', createdBy: 'rose', comment: 'new history item!' }, false);
    expect(out).toBe(fs.readFileSync(golden('non-human'), 'utf8'));
  });
});
