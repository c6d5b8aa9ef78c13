// Each rule checked against what is known of an image (its facts), giving PASS, FAIL (what, by
// how much, which paths) or SKIP. Comparisons are strict, as dive's are: a value equal to its
// limit passes.
import { pathMatcher as globMatcher } from '../fs/glob.js';
import type { CiConfig, RuleKey, RuleSpec, RuleValues } from './config.js';
import type { GrowthLimit } from './units.js';

export type Status = 'pass' | 'fail' | 'skip';

/** The numbers dive's three rules check, from dive's computation or layerlens's. */
export interface WasteNumbers {
  efficiency: number;
  wastedBytes: number;
  /** null where it cannot be computed (no bytes added above the base layer). */
  userWastedPercent: number | null;
  /** The paths that waste the most, largest first. */
  topPaths: Array<{ path: string; bytes: number }>;
}

export interface LayerFact {
  index: number;
  createdBy?: string;
  /** Uncompressed tar bytes. */
  size: number;
  /** Bytes as stored in the file. */
  storedSize: number;
}

/** A path some layer wrote (added or modified), for forbidden paths: a deleted secret still ships. */
export interface WrittenPath {
  path: string;
  layer: number;
  type: string;
  /** Whether the final filesystem still shows what this layer wrote there. */
  visible: boolean;
}

/** A path of the final filesystem. */
export interface FileFact {
  path: string;
  /** As `tree --flat` lists it: file, dir, symlink, hardlink, char, block, fifo. */
  type: string;
  mode: number;
}

export interface ImageFacts {
  /** How the image is named in messages. */
  name: string;
  id: string;
  user: string;
  labels: Record<string, string>;
  layers: LayerFact[];
  written: WrittenPath[];
  files: FileFact[];
  /** The waste numbers with these paths left out; undefined where waste cannot be computed. */
  waste?: (ignore: string[]) => WasteNumbers;
}

export interface CiFacts {
  image: ImageFacts;
  /** `--baseline`: the image to measure growth against. */
  baseline?: Pick<ImageFacts, 'name' | 'id' | 'layers' | 'waste'>;
}

export interface RuleResult {
  key: RuleKey;
  status: Status;
  /** One line: what was found against the limit, and by how much it is over. */
  message: string;
  /** The limit as written. */
  limit: string;
  /** Where the rule came from (a file, a flag, dive's defaults). */
  from: string;
  /** The measured value, where there is one number. */
  actual?: number | null;
  /** The offending paths (or layers, labels), every one of them. */
  offenders?: string[];
}

export interface Verdict {
  pass: boolean;
  counts: { pass: number; fail: number; skip: number; total: number };
  results: RuleResult[];
  metrics: CiConfig['metrics'];
  sources: string[];
  image: { name: string; id: string };
  baseline?: { name: string; id: string };
}

export interface EvaluateOptions {
  /** How sizes read in messages (human or exact). */
  bytes: (n: number) => string;
  /** How many offenders a message names before "and N more". */
  listLimit?: number;
}

/** A ratio for messages: at most four decimals, as written where it is shorter. */
export function ratio(n: number): string {
  return String(Number(n.toFixed(4)));
}

/** Paths matched by any of the globs (waste --ignore's dialect: `**`, `*`, `?`, `[...]`; no leading `/` matches at any depth). */
function pathMatcher(globs: readonly string[]): (path: string) => boolean {
  return globMatcher(globs) ?? (() => false);
}

function some(list: string[], limit: number): string {
  if (list.length <= limit) return list.join(', ');
  return `${list.slice(0, limit).join(', ')} and ${list.length - limit} more`;
}

function pathWord(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function growthAllowed(limit: GrowthLimit, base: number): number {
  return 'bytes' in limit ? limit.bytes : (base * limit.percent) / 100;
}

function rootUser(user: string): boolean {
  const name = user.split(':')[0]!.trim();
  return name === '' || name === 'root' || (/^\d+$/.test(name) && Number(name) === 0);
}

export function evaluate(config: CiConfig, facts: CiFacts, o: EvaluateOptions): Verdict {
  const results = config.rules.map((r) => evaluateRule(r, facts, config, o));
  const counts = { pass: 0, fail: 0, skip: 0, total: results.length };
  for (const r of results) counts[r.status]++;
  return {
    pass: counts.fail === 0,
    counts,
    results,
    metrics: config.metrics,
    sources: config.sources,
    image: { name: facts.image.name, id: facts.image.id },
    ...(facts.baseline ? { baseline: { name: facts.baseline.name, id: facts.baseline.id } } : {}),
  };
}

export function evaluateRule(rule: RuleSpec, facts: CiFacts, config: CiConfig, o: EvaluateOptions): RuleResult {
  const base = { key: rule.key, limit: rule.written, from: rule.from };
  const skip = (message: string): RuleResult => ({ ...base, status: 'skip', message });
  if (!rule.enabled) return skip('disabled');
  const n = o.listLimit ?? 10;
  const B = o.bytes;
  const im = facts.image;
  const ignoreNote = rule.ignore.length ? ` (ignoring ${some(rule.ignore, 3)})` : '';
  const result = (fail: boolean, message: string, extra: Partial<RuleResult> = {}): RuleResult => ({ ...base, status: fail ? 'fail' : 'pass', message, ...extra });

  switch (rule.key) {
    case 'lowestEfficiency':
    case 'highestWastedBytes':
    case 'highestUserWastedPercent': {
      if (!im.waste) return skip('waste figures are not available');
      const w = im.waste(rule.ignore);
      const who = config.metrics === 'dive' ? " (dive's figures)" : '';
      const top = w.topPaths.slice(0, 3).map((p) => `${p.path} (${B(p.bytes)})`);
      const worst = top.length ? `; most wasted: ${top.join(', ')}` : '';
      if (rule.key === 'lowestEfficiency') {
        const t = rule.value as number;
        // dive: fail when threshold > efficiency.
        const fail = t > w.efficiency;
        return result(fail, fail ? `efficiency ${ratio(w.efficiency)} is below ${rule.written} by ${ratio(t - w.efficiency)}${who}${ignoreNote}${worst}` : `efficiency ${ratio(w.efficiency)}, not below ${rule.written}${who}${ignoreNote}`, {
          actual: w.efficiency,
          offenders: fail ? w.topPaths.map((p) => p.path) : undefined,
        });
      }
      if (rule.key === 'highestWastedBytes') {
        const t = rule.value as number;
        const fail = w.wastedBytes > t;
        return result(fail, fail ? `${B(w.wastedBytes)} wasted, over ${B(t)} by ${B(w.wastedBytes - t)}${who}${ignoreNote}${worst}` : `${B(w.wastedBytes)} wasted, not over ${B(t)}${who}${ignoreNote}`, {
          actual: w.wastedBytes,
          offenders: fail ? w.topPaths.map((p) => p.path) : undefined,
        });
      }
      const t = rule.value as number;
      if (w.userWastedPercent === null) {
        // dive divides by zero here: 0/0 is NaN, which passes; n/0 is +Inf, which fails.
        const fail = w.wastedBytes > 0;
        return result(fail, fail ? `${B(w.wastedBytes)} wasted while no bytes were added above the base layer${who}${ignoreNote}${worst}` : `nothing wasted, and no layer above the base${who}`, { actual: null });
      }
      const fail = w.userWastedPercent > t;
      return result(
        fail,
        fail
          ? `wasted bytes are ${ratio(w.userWastedPercent)} of the bytes added above the base layer, over ${rule.written} by ${ratio(w.userWastedPercent - t)}${who}${ignoreNote}${worst}`
          : `wasted bytes are ${ratio(w.userWastedPercent)} of the bytes added above the base layer, not over ${rule.written}${who}${ignoreNote}`,
        { actual: w.userWastedPercent, offenders: fail ? w.topPaths.map((p) => p.path) : undefined },
      );
    }
    case 'maxImageSize': {
      const v = rule.value as RuleValues['maxImageSize'];
      const size = im.layers.reduce((s, l) => s + (v.of === 'stored' ? l.storedSize : l.size), 0);
      const fail = size > v.bytes;
      return result(fail, fail ? `the image is ${B(size)} ${v.of}, over ${B(v.bytes)} by ${B(size - v.bytes)}` : `the image is ${B(size)} ${v.of}, not over ${B(v.bytes)}`, { actual: size });
    }
    case 'maxLayerCount': {
      const max = rule.value as number;
      const count = im.layers.length;
      const fail = count > max;
      return result(fail, fail ? `${pathWord(count, 'layer')}, over ${max} by ${count - max}` : `${pathWord(count, 'layer')}, not over ${max}`, { actual: count });
    }
    case 'maxLayerSize': {
      const v = rule.value as RuleValues['maxLayerSize'];
      const count = im.layers.length;
      const skipped = new Set(v.ignoreLayers.map((i) => (i < 0 ? count + i : i)));
      const sizeOf = (l: LayerFact) => (v.of === 'stored' ? l.storedSize : l.size);
      const checked = im.layers.filter((l) => !skipped.has(l.index));
      const over = checked.filter((l) => sizeOf(l) > v.bytes).sort((a, b) => sizeOf(b) - sizeOf(a) || a.index - b.index);
      const largest = checked.reduce<LayerFact | undefined>((m, l) => (!m || sizeOf(l) > sizeOf(m) ? l : m), undefined);
      const ign = skipped.size ? ` (not counting layer${skipped.size === 1 ? '' : 's'} ${[...skipped].sort((a, b) => a - b).join(', ')})` : '';
      if (over.length === 0) {
        return result(false, largest ? `the largest layer is ${largest.index} at ${B(sizeOf(largest))} ${v.of}, not over ${B(v.bytes)}${ign}` : `no layer to check${ign}`, { actual: largest ? sizeOf(largest) : null });
      }
      const what = (l: LayerFact) => `layer ${l.index} is ${B(sizeOf(l))} (over by ${B(sizeOf(l) - v.bytes)})${l.createdBy ? `: ${oneLine(l.createdBy, 60)}` : ''}`;
      return result(true, `${pathWord(over.length, 'layer')} over ${B(v.bytes)} ${v.of}: ${some(over.map(what), n)}${ign}`, { actual: sizeOf(over[0]!), offenders: over.map((l) => `layer ${l.index}`) });
    }
    case 'maxSizeGrowth':
    case 'maxWastedBytesGrowth': {
      const baseline = facts.baseline;
      if (!baseline) return skip('no --baseline given');
      let before: number;
      let after: number;
      let what: string;
      if (rule.key === 'maxSizeGrowth') {
        before = baseline.layers.reduce((s, l) => s + l.size, 0);
        after = im.layers.reduce((s, l) => s + l.size, 0);
        what = 'size (uncompressed)';
      } else {
        if (!im.waste || !baseline.waste) return skip('waste figures are not available');
        before = baseline.waste(rule.ignore).wastedBytes;
        after = im.waste(rule.ignore).wastedBytes;
        what = `wasted bytes${config.metrics === 'dive' ? " (dive's figures)" : ''}`;
      }
      const limit = rule.value as GrowthLimit;
      const allowed = growthAllowed(limit, before);
      const growth = after - before;
      const pct = before > 0 ? ` (${growth >= 0 ? '+' : ''}${Number(((growth / before) * 100).toFixed(2))}%)` : '';
      const change = growth >= 0 ? `grew by ${B(growth)}${pct}` : `shrank by ${B(-growth)}${pct}`;
      const fail = growth > allowed;
      const limitText = 'bytes' in limit ? B(limit.bytes) : `${limit.percent}% (${B(Math.floor(allowed))})`;
      return result(
        fail,
        `${what} ${change}, from ${B(before)} to ${B(after)}${fail ? `, over the ${limitText} allowed by ${B(Math.ceil(growth - allowed))}` : `, within the ${limitText} allowed`}${rule.key === 'maxWastedBytesGrowth' ? ignoreNote : ''}`,
        { actual: growth },
      );
    }
    case 'forbiddenPaths': {
      const match = pathMatcher(rule.value as string[]);
      const ignored = pathMatcher([...rule.ignore, ...(rule.defaultIgnore ?? [])]);
      const hits = im.written.filter((w) => match(w.path) && !ignored(w.path));
      const folded = foldUnder(hits);
      if (folded.length === 0) return result(false, `no forbidden path in any layer${ignoreNote}`, { actual: 0 });
      const describe = (h: { w: WrittenPath; below: number }) => `${h.w.path}${h.below ? ` (+${h.below} below)` : ''} (layer ${h.w.layer}${h.w.visible ? '' : ', deleted later but still in the image'})`;
      return result(true, `${pathWord(hits.length, 'forbidden path')}: ${some(folded.map(describe), n)}${ignoreNote}`, { actual: hits.length, offenders: hits.map((h) => h.path) });
    }
    case 'setuidFiles': {
      const allowed = pathMatcher(rule.ignore);
      const hits = im.files.filter((f) => (f.type === 'file' || f.type === 'hardlink') && (f.mode & 0o6000) !== 0 && !allowed(f.path));
      const label = (f: FileFact) => `${f.path} (${[f.mode & 0o4000 ? 'setuid' : '', f.mode & 0o2000 ? 'setgid' : ''].filter(Boolean).join('+')})`;
      if (hits.length === 0) return result(false, `no setuid or setgid file ${rule.ignore.length ? 'outside the allow-list' : 'in the image'}`, { actual: 0 });
      return result(true, `${pathWord(hits.length, 'setuid/setgid file')} ${rule.ignore.length ? 'outside the allow-list' : 'in the image'}: ${some(hits.map(label), n)}`, { actual: hits.length, offenders: hits.map((f) => f.path) });
    }
    case 'noWorldWritable': {
      const ignored = pathMatcher(rule.ignore);
      const hits = im.files.filter((f) => {
        if (f.type === 'symlink' || (f.mode & 0o002) === 0) return false;
        if (f.type === 'dir' && (f.mode & 0o1000) !== 0) return false; // sticky, as /tmp
        return !ignored(f.path);
      });
      if (hits.length === 0) return result(false, `no world-writable file, and no world-writable directory without the sticky bit${ignoreNote}`, { actual: 0 });
      const label = (f: FileFact) => `${f.path}${f.type === 'dir' ? '/' : ''} (${(f.mode & 0o7777).toString(8).padStart(4, '0')})`;
      const dirs = hits.filter((f) => f.type === 'dir').length;
      const parts = [hits.length - dirs ? pathWord(hits.length - dirs, 'world-writable file') : '', dirs ? `${pathWord(dirs, 'world-writable directory', 'world-writable directories')} without the sticky bit` : ''].filter(Boolean);
      return result(true, `${parts.join(' and ')}: ${some(hits.map(label), n)}${ignoreNote}`, { actual: hits.length, offenders: hits.map((f) => f.path) });
    }
    case 'noRootUser': {
      const root = rootUser(im.user);
      return result(root, root ? `the image runs as root (User is ${im.user === '' ? 'empty' : JSON.stringify(im.user)})` : `the image runs as ${JSON.stringify(im.user)}`);
    }
    case 'requiredLabels': {
      const want = rule.value as string[];
      const missing = want.filter((k) => !(k in im.labels));
      const empty = want.filter((k) => k in im.labels && im.labels[k] === '');
      const bad = [...missing, ...empty];
      if (bad.length === 0) return result(false, `${pathWord(want.length, 'required label')} present`, { actual: 0 });
      const parts = [missing.length ? `missing ${some(missing, n)}` : '', empty.length ? `empty ${some(empty, n)}` : ''].filter(Boolean);
      return result(true, `${pathWord(bad.length, 'required label')} of ${want.length} not set: ${parts.join('; ')}`, { actual: bad.length, offenders: bad });
    }
  }
}

function oneLine(s: string, max: number): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** Hits with those below another hit of the same layer folded into it (a forbidden `.git` directory is one line, not thousands). */
function foldUnder(hits: WrittenPath[]): Array<{ w: WrittenPath; below: number }> {
  const sorted = [...hits].sort((a, b) => a.layer - b.layer || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const dirs = new Map<string, { w: WrittenPath; below: number }>();
  const out: Array<{ w: WrittenPath; below: number }> = [];
  for (const w of sorted) {
    let folded = false;
    for (let p = w.path.slice(0, w.path.lastIndexOf('/')); p.length > 0; p = p.slice(0, p.lastIndexOf('/'))) {
      const top = dirs.get(`${w.layer}:${p}`);
      if (top) {
        top.below++;
        folded = true;
        break;
      }
    }
    if (folded) continue;
    const entry = { w, below: 0 };
    out.push(entry);
    if (w.type === 'dir') dirs.set(`${w.layer}:${w.path}`, entry);
  }
  return out;
}
