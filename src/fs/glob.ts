// Path patterns for leaving accepted paths out (`diff --ignore`, `waste --ignore`, the CI rules'
// `ignore`), in gitignore's dialect:
// - `*` matches within one name, `?` one character, `[abc]` / `[!abc]` one of (or none of) a set,
//   a backslash makes the next character literal;
// - `**` as a whole name matches any number of names, none included (`/var/log/**`, `**/*.pyc`);
// - a pattern without a slash matches a name at any depth (`*.pyc`); one with a slash is anchored
//   at the root, with or without its leading `/` (`usr/share/doc` is `/usr/share/doc`);
// - a pattern that matches a directory covers everything below it (`/var/cache`).
import { LayerlensError } from '../image/errors.js';

export type PathMatcher = (path: string) => boolean;

function escape(ch: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(ch) ? `\\${ch}` : ch;
}

/** One name of a pattern, as a regular expression that stays within a name. */
function nameRegex(name: string, pattern: string): string {
  let re = '';
  for (let i = 0; i < name.length; i++) {
    const ch = name[i]!;
    if (ch === '\\') {
      const next = name[++i];
      if (next === undefined) throw new LayerlensError('usage', `path pattern ${JSON.stringify(pattern)} ends with a lone backslash`);
      re += escape(next);
    } else if (ch === '*') {
      while (name[i + 1] === '*') i++;
      re += '[^/]*';
    } else if (ch === '?') {
      re += '[^/]';
    } else if (ch === '[' && name.indexOf(']', i + 2) > 0) {
      const end = name.indexOf(']', i + 2);
      let set = name.slice(i + 1, end);
      const negated = set.startsWith('!') || set.startsWith('^');
      if (negated) set = set.slice(1);
      re += `[${negated ? '^/' : ''}${set.replace(/\\/g, '\\\\').replace(/]/g, '\\]')}]`;
      i = end;
    } else {
      re += escape(ch);
    }
  }
  return re;
}

/** The expression for one pattern, matched against a path without its leading `/`. */
export function compileGlob(pattern: string): RegExp {
  const p = pattern.trim().replace(/\/+$/, '');
  if (pattern.trim() === '') throw new LayerlensError('usage', 'an empty path pattern matches nothing; give a path or a glob such as /var/cache/** or *.pyc');
  const names = p.split('/').filter((n) => n !== '' && n !== '.');
  if (!p.includes('/')) names.unshift('**');
  if (names.length === 0) return /^.*$/s;
  const re = names.map((n, i) => (n === '**' ? (i === names.length - 1 ? '.*' : '(?:[^/]+/)*') : nameRegex(n, pattern) + (i === names.length - 1 ? '' : '/'))).join('');
  return new RegExp(`^${re}(?:/.*)?$`, 's');
}

/** One predicate for several patterns, over absolute paths (undefined when there are none). */
export function pathMatcher(patterns: readonly string[]): PathMatcher | undefined {
  if (patterns.length === 0) return undefined;
  const res = patterns.map(compileGlob);
  return (path) => {
    const rel = path.replace(/^\/+/, '');
    return rel !== '' && res.some((r) => r.test(rel));
  };
}
