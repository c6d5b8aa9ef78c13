// Path globs for `--ignore`, with gitignore's `**`:
// - `*` matches within one name, `?` one character, `[abc]`/`[!abc]` one of (or none of) a set;
//   a backslash makes the next character literal;
// - `**` as a whole name matches any number of names (none included): `/var/log/**` is
//   everything below /var/log, `**/*.pyc` every .pyc at any depth;
// - a pattern with no slash matches a name at any depth (`*.pyc` is `**/*.pyc`); one with a
//   slash is anchored at the root, with or without its leading `/`;
// - a pattern that matches a directory also matches everything below it (`/var/cache`).
import { LayerlensError } from '../image/errors.js';

export type PathMatcher = (path: string) => boolean;

function componentRegex(c: string, pattern: string): string {
  let out = '';
  for (let i = 0; i < c.length; i++) {
    const ch = c[i]!;
    if (ch === '\\') {
      const next = c[++i];
      if (next === undefined) throw new LayerlensError('usage', `--ignore ${JSON.stringify(pattern)} ends with a lone backslash`);
      out += escapeRe(next);
    } else if (ch === '*') {
      while (c[i + 1] === '*') i++; // `a**b` inside a name is `a*b`
      out += '[^/]*';
    } else if (ch === '?') {
      out += '[^/]';
    } else if (ch === '[') {
      const end = c.indexOf(']', i + 2);
      if (end < 0) {
        out += '\\[';
        continue;
      }
      let body = c.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^/' : ''}${body.replace(/\\/g, '\\\\').replace(/\]/g, '\\]')}]`;
      i = end;
    } else {
      out += escapeRe(ch);
    }
  }
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The regular expression for one pattern, over paths without their leading `/`. */
export function globRegex(pattern: string): RegExp {
  let p = pattern.trim();
  if (p === '') throw new LayerlensError('usage', '--ignore takes a pattern, not an empty string');
  p = p.replace(/\/+$/, '');
  const anchored = p.includes('/');
  const comps = p.split('/').filter((c) => c !== '' && c !== '.');
  if (!anchored) comps.unshift('**');
  if (comps.length === 0) return /^.*$/s; // `/`: everything
  let re = '';
  comps.forEach((c, i) => {
    const last = i === comps.length - 1;
    if (c === '**') re += last ? '.*' : '(?:[^/]+/)*';
    else re += componentRegex(c, pattern) + (last ? '' : '/');
  });
  return new RegExp(`^${re}(?:/.*)?$`, 's');
}

/** One matcher for several patterns; a path (absolute) is matched if any pattern matches it. */
export function pathMatcher(patterns: readonly string[]): PathMatcher {
  if (patterns.length === 0) return () => false;
  const res = patterns.map(globRegex);
  return (path) => {
    const rel = path.replace(/^\/+/, '');
    if (rel === '') return false; // the root itself is never ignored
    return res.some((r) => r.test(rel));
  };
}
