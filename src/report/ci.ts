// `layerlens ci`: the verdicts as text (one line per rule, then the result), Markdown (for a
// pipeline's summary), JUnit XML (a test case per rule) and JSON.
import type { RuleResult, Status, Verdict } from '../ci/rules.js';
import { paint, type Paint } from './color.js';
import { json, showName, versioned } from './format.js';

const WORD: Record<Status, string> = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' };

function counts(v: Verdict): string {
  const c = v.counts;
  return `${c.total} rule${c.total === 1 ? '' : 's'}: ${c.pass} passed, ${c.fail} failed, ${c.skip} skipped`;
}

function rulesFrom(v: Verdict): string {
  const from = v.sources.length ? v.sources.join(' and ') : "dive's defaults (no .layerlens.yml or .dive-ci)";
  return `rules from ${from}; waste figures: ${v.metrics === 'dive' ? "dive's" : "layerlens's"}`;
}

function title(v: Verdict): string {
  const short = v.image.id.replace(/^sha256:/, '').slice(0, 12);
  return `${showName(v.image.name)}${v.image.name === short ? '' : ` (${short})`}${v.baseline ? ` against baseline ${showName(v.baseline.name)}` : ''}`;
}

export function renderCiText(v: Verdict, color = false): string {
  const p: Paint = paint(color);
  const mark = (s: Status) => (s === 'pass' ? p.green(WORD[s]) : s === 'fail' ? p.bold(p.red(WORD[s])) : p.dim(WORD[s]));
  const width = Math.max(0, ...v.results.map((r) => r.key.length));
  const lines = [`${p.bold('layerlens ci')} ${title(v)}: ${rulesFrom(v)}`];
  for (const r of v.results) {
    const text = `${r.key.padEnd(width)}  ${showName(r.message)}`;
    lines.push(`${mark(r.status)}  ${r.status === 'skip' ? p.dim(text) : text}`);
  }
  const result = v.pass ? p.green('PASS') : p.bold(p.red('FAIL'));
  lines.push(`Result: ${result} (${counts(v)})`);
  return lines.join('\n') + '\n';
}

function mdCell(s: string): string {
  return showName(s).replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;')).replace(/\r?\n/g, ' ');
}

const MD_MARK: Record<Status, string> = { pass: '✅ PASS', fail: '❌ FAIL', skip: '⏭️ SKIP' };

export function renderCiMarkdown(v: Verdict): string {
  const out = [`### layerlens ci: ${v.pass ? '✅ PASS' : '❌ FAIL'} — ${mdCell(title(v))}`, '', `${counts(v)}; ${mdCell(rulesFrom(v))}.`, '', '| result | rule | details |', '| --- | --- | --- |'];
  for (const r of v.results) out.push(`| ${MD_MARK[r.status]} | \`${r.key}\` | ${mdCell(r.message)} |`);
  return out.join('\n') + '\n';
}

function xmlEscape(s: string): string {
  // XML 1.0 allows no control characters but tab, newline and carriage return.
  return showName(s)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

export interface JunitOptions {
  /** When the run started (ISO 8601, seconds, no zone: what Ant's schema takes). */
  timestamp: string;
  hostname: string;
  /** Seconds the run took. */
  seconds: number;
}

/**
 * JUnit XML as Ant, Jenkins, GitLab and GitHub's test reporters read it: one test suite for the
 * image, one test case per rule; a failed rule is a `failure` with its message, a rule that was
 * off or could not be checked is `skipped`.
 */
export function renderCiJunit(v: Verdict, o: JunitOptions): string {
  const c = v.counts;
  const time = o.seconds.toFixed(3);
  const name = `layerlens ci ${title(v)}`;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="layerlens ci" tests="${c.total}" failures="${c.fail}" errors="0" time="${time}">`,
    `  <testsuite name="${xmlEscape(name)}" package="layerlens.ci" id="0" tests="${c.total}" failures="${c.fail}" errors="0" skipped="${c.skip}" time="${time}" timestamp="${xmlEscape(o.timestamp)}" hostname="${xmlEscape(o.hostname || 'localhost')}">`,
    '    <properties>',
    `      <property name="image" value="${xmlEscape(v.image.name)}"/>`,
    `      <property name="image.id" value="${xmlEscape(v.image.id)}"/>`,
    ...(v.baseline ? [`      <property name="baseline" value="${xmlEscape(v.baseline.name)}"/>`, `      <property name="baseline.id" value="${xmlEscape(v.baseline.id)}"/>`] : []),
    `      <property name="rules" value="${xmlEscape(v.sources.join(', ') || "dive's defaults")}"/>`,
    `      <property name="metrics" value="${v.metrics}"/>`,
    '    </properties>',
  ];
  for (const r of v.results) {
    const open = `    <testcase name="${xmlEscape(r.key)}" classname="layerlens.ci" time="0"`;
    if (r.status === 'pass') {
      lines.push(`${open}>`, `      <system-out>${xmlEscape(r.message)}</system-out>`, '    </testcase>');
    } else if (r.status === 'fail') {
      const detail = [r.message, `limit: ${r.limit} (from ${r.from})`, ...(r.offenders?.length ? ['', ...r.offenders] : [])].join('\n');
      lines.push(`${open}>`, `      <failure message="${xmlEscape(r.message)}" type="${xmlEscape(r.key)}">${xmlEscape(detail)}</failure>`, '    </testcase>');
    } else {
      lines.push(`${open}>`, `      <skipped message="${xmlEscape(r.message)}"/>`, '    </testcase>');
    }
  }
  lines.push(`    <system-out>${xmlEscape(v.results.map((r) => `${WORD[r.status]}  ${r.key}: ${r.message}`).join('\n'))}</system-out>`, '    <system-err></system-err>', '  </testsuite>', '</testsuites>');
  return lines.join('\n') + '\n';
}

function resultJson(r: RuleResult) {
  return { rule: r.key, status: r.status, message: r.message, limit: r.limit, from: r.from, actual: r.actual ?? null, offenders: r.offenders ?? [] };
}

export function ciJson(v: Verdict): unknown {
  return versioned({
    pass: v.pass,
    image: v.image,
    baseline: v.baseline ?? null,
    metrics: v.metrics,
    sources: v.sources,
    counts: v.counts,
    rules: v.results.map(resultJson),
  });
}

export function renderCiJson(v: Verdict): string {
  return json(ciJson(v));
}
