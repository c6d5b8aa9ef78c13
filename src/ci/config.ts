// The rules a CI run checks, and where they come from:
// - `.dive-ci`, read exactly as dive (0.13) reads it: YAML, the `rules` mapping's three keys
//   `lowestEfficiency`, `highestWastedBytes` and `highestUserWastedPercent` taken as text
//   (`0.950` is the text "0.950"; a null value keeps the default), every other key ignored,
//   missing keys set to dive's defaults (0.9, disabled, 0.1); "", `disabled`, `off` and `false`
//   (any case, spaces trimmed) turn a rule off; ratios parse as Go floats in 0..1, byte counts
//   as go-humanize byte sizes; a value that does not parse is an error for the whole run;
// - `.layerlens.yml`: the same three keys with the same values, and layerlens's own rules.
//   Unknown keys are errors there (a typo must not switch a rule off quietly).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { Node as YamlNode, Pair, Scalar, YAMLMap } from 'yaml';

// The YAML parser is loaded when a rule file is read, not by every command (it is the largest
// module layerlens loads: about a third of start-up).
let yamlModule: typeof Yaml | undefined;
const yaml = (): typeof Yaml => (yamlModule ??= createRequire(import.meta.url)('yaml') as typeof Yaml);
const isMap = (n: unknown): n is YAMLMap => yaml().isMap(n);
const isScalar = (n: unknown): n is Scalar => yaml().isScalar(n);
const isSeq = (n: unknown): n is Yaml.YAMLSeq => yaml().isSeq(n);
const parseDocument = (text: string, options?: Yaml.ParseOptions & Yaml.DocumentOptions & Yaml.SchemaOptions) => yaml().parseDocument(text, options);
import { LayerlensError } from '../image/errors.js';
import { parseGoFloat, parseGrowth, parseHumanBytes, type GrowthLimit } from './units.js';

export const DIVE_RULES = ['lowestEfficiency', 'highestWastedBytes', 'highestUserWastedPercent'] as const;
export type DiveRuleKey = (typeof DIVE_RULES)[number];

/** Every rule, in the order the verdicts are printed. */
export const RULE_KEYS = [
  ...DIVE_RULES,
  'maxImageSize',
  'maxLayerCount',
  'maxLayerSize',
  'maxSizeGrowth',
  'maxWastedBytesGrowth',
  'forbiddenPaths',
  'setuidFiles',
  'noWorldWritable',
  'noRootUser',
  'requiredLabels',
] as const;
export type RuleKey = (typeof RULE_KEYS)[number];

/** Rules whose `ignore` lists are path globs (the others take none, or layer numbers). */
export const PATH_RULES: ReadonlySet<RuleKey> = new Set<RuleKey>([...DIVE_RULES, 'maxWastedBytesGrowth', 'forbiddenPaths', 'setuidFiles', 'noWorldWritable']);

export type SizeOf = 'uncompressed' | 'stored';

export interface RuleValues {
  lowestEfficiency: number;
  highestWastedBytes: number;
  highestUserWastedPercent: number;
  maxImageSize: { bytes: number; of: SizeOf };
  maxLayerCount: number;
  /** `ignore` holds layer numbers (negative counts from the top). */
  maxLayerSize: { bytes: number; of: SizeOf; ignoreLayers: number[] };
  maxSizeGrowth: GrowthLimit;
  maxWastedBytesGrowth: GrowthLimit;
  forbiddenPaths: string[];
  /** Paths allowed to be setuid or setgid. */
  setuidFiles: string[];
  noWorldWritable: true;
  noRootUser: true;
  requiredLabels: string[];
}

export interface RuleSpec<K extends RuleKey = RuleKey> {
  key: K;
  /** Off (`disabled`, `off`, `false`): printed as SKIP, as dive prints it. */
  enabled: boolean;
  value?: RuleValues[K];
  /** The limit as written, for messages. */
  written: string;
  /** The file (or flag, or default) it came from. */
  from: string;
  /** Path globs (or, for maxLayerSize, nothing: see its value) whose paths the rule leaves out. */
  ignore: string[];
  /** Globs left out by default (not named in messages): the public certificates of `forbiddenPaths: true`. */
  defaultIgnore?: string[];
}

export type Metrics = 'dive' | 'layerlens';

export interface CiConfig {
  rules: RuleSpec[];
  /** Whose numbers dive's three rules are checked against. */
  metrics: Metrics;
  /** The files read, in order. */
  sources: string[];
}

/** dive's defaults for its three rules (its `--lowestEfficiency` ... flags' defaults). */
export const DIVE_DEFAULTS: Readonly<Record<DiveRuleKey, string>> = Object.freeze({ lowestEfficiency: '0.9', highestWastedBytes: 'disabled', highestUserWastedPercent: '0.1' });

/** What `forbiddenPaths: true` means. */
export const DEFAULT_FORBIDDEN = ['**/.env', '**/id_rsa', '**/id_dsa', '**/id_ecdsa', '**/id_ed25519', '**/*.pem', '**/*.key', '**/.git/**', '**/.npmrc', '**/.netrc', '**/.aws/credentials', '**/.docker/config.json'];
/** ...and what it leaves out: the public certificates every distribution ships as `.pem`. */
export const DEFAULT_FORBIDDEN_IGNORE = ['/etc/ssl/certs/**', '/usr/share/ca-certificates/**', '/usr/local/share/ca-certificates/**', '/etc/pki/ca-trust/**', '/etc/ca-certificates/**'];

/** dive's `isRuleDisabled`. */
export function isDisabledValue(v: string): boolean {
  const s = v.trim().toLowerCase();
  return s === '' || s === 'disabled' || s === 'off' || s === 'false';
}

class ConfigError extends LayerlensError {
  constructor(file: string, message: string) {
    super('usage', message, { file });
  }
}

/**
 * A scalar as text, as yaml.v3 decodes a scalar into a Go string: a plain scalar is its text
 * as written (`0.950` stays "0.950", `off` and `false` stay words), a quoted one its content;
 * null (`~`, `null`, nothing) is undefined.
 */
function scalarText(node: Scalar): string | undefined {
  if (node.value === null || node.value === undefined) return undefined;
  if (node.type === 'PLAIN' && typeof node.source === 'string') return node.source;
  return String(node.value);
}

function yamlKind(node: unknown): string {
  return isMap(node) ? '!!map' : isSeq(node) ? '!!seq' : '!!scalar';
}

function parseYaml(file: string, text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new ConfigError(file, `not valid YAML: ${e.message.split('\n')[0]}`);
  }
  return doc.contents;
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new LayerlensError(err.code === 'ENOENT' ? 'missing' : 'io', err.code === 'ENOENT' ? 'no such file' : `cannot read: ${err.message}`, { file });
  }
}

function pairKey(p: Pair): string {
  return isScalar(p.key) ? String(p.key.value) : String(p.key);
}

// ---------------------------------------------------------------------------------------------
// .dive-ci

/** The three values a `.dive-ci` gives, defaults filled in, as text. */
export function readDiveText(text: string, file: string): Record<DiveRuleKey, string> {
  const out: Record<DiveRuleKey, string> = { ...DIVE_DEFAULTS };
  const root = parseYaml(file, text);
  if (root === null || root === undefined || (isScalar(root) && root.value === null)) return out;
  if (!isMap(root)) throw new ConfigError(file, `cannot read ${yamlKind(root)} as dive's CI settings (expected a mapping with "rules")`);
  const rules = root.items.find((p) => pairKey(p) === 'rules')?.value;
  if (rules === null || rules === undefined || (isScalar(rules) && rules.value === null)) return out;
  if (!isMap(rules)) throw new ConfigError(file, `"rules" is a ${yamlKind(rules)}, not a mapping`);
  for (const p of rules.items) {
    const key = pairKey(p);
    if (!(DIVE_RULES as readonly string[]).includes(key)) continue; // dive ignores other keys (plugins, ...)
    const v = p.value as YamlNode | null;
    if (v === null || v === undefined) continue;
    if (!isScalar(v)) throw new ConfigError(file, `rules.${key}: cannot unmarshal ${yamlKind(v)} into a string`);
    const t = scalarText(v);
    if (t !== undefined) out[key as DiveRuleKey] = t;
  }
  return out;
}

/** One of dive's three rules from its text, validated as dive's `ci.Rules` validates it. */
export function diveRule(key: DiveRuleKey, text: string, from: string): RuleSpec {
  if (isDisabledValue(text)) return { key, enabled: false, written: text, from, ignore: [] };
  if (key === 'highestWastedBytes') {
    const b = parseHumanBytes(text);
    if (!b.ok) throw new ConfigError(from, `invalid highestWastedBytes config value, given ${JSON.stringify(text)}: ${b.error}`);
    return { key, enabled: true, value: b.value, written: text, from, ignore: [] };
  }
  const f = parseGoFloat(text);
  if (f === undefined) throw new ConfigError(from, `invalid ${key} config value, given ${JSON.stringify(text)}: strconv.ParseFloat: parsing ${JSON.stringify(text)}: invalid syntax`);
  // NaN passes dive's range check (every comparison with NaN is false), and so it does here.
  if (f < 0 || f > 1) throw new ConfigError(from, `${key} config value is outside allowed range (0-1), given '${f.toFixed(6)}'`);
  return { key, enabled: true, value: f, written: text, from, ignore: [] };
}

export function readDiveCi(file: string): RuleSpec[] {
  const values = readDiveText(readText(file), file);
  const errors: string[] = [];
  const rules: RuleSpec[] = [];
  for (const key of DIVE_RULES) {
    try {
      rules.push(diveRule(key, values[key], file));
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  // dive joins every rule's error into one.
  if (errors.length) throw new ConfigError(file, errors.join('; '));
  return rules;
}

// ---------------------------------------------------------------------------------------------
// .layerlens.yml

function textOf(file: string, where: string, node: unknown): string {
  if (!isScalar(node)) throw new ConfigError(file, `${where}: expected a value, found a ${yamlKind(node)}`);
  return scalarText(node) ?? '';
}

function listOf(file: string, where: string, node: unknown): string[] {
  if (node === null || node === undefined || (isScalar(node) && node.value === null)) return [];
  if (isScalar(node)) return [textOf(file, where, node)];
  if (!isSeq(node)) throw new ConfigError(file, `${where}: expected a list, found a ${yamlKind(node)}`);
  return node.items.map((n, i) => {
    const t = textOf(file, `${where}[${i}]`, n);
    if (t.trim() === '') throw new ConfigError(file, `${where}[${i}] is empty`);
    return t;
  });
}

function bytesOf(file: string, where: string, text: string): number {
  const b = parseHumanBytes(text.trim());
  if (!b.ok) throw new ConfigError(file, `${where}: ${JSON.stringify(text)} is not a size (${b.error}; use e.g. 500MB, 1.5GiB or 1048576)`);
  return b.value;
}

function sizeOf(file: string, where: string, node: unknown): SizeOf {
  const t = node === undefined ? 'uncompressed' : textOf(file, where, node);
  if (t !== 'uncompressed' && t !== 'stored') throw new ConfigError(file, `${where} is uncompressed or stored, not ${JSON.stringify(t)}`);
  return t;
}

/** A rule's value: a scalar, a list, or a mapping with the value under `limit` (or `paths`, `allow`, `labels`) and an `ignore` list. */
interface Shape {
  /** The main value (a scalar or list node), or undefined when the mapping has none. */
  main: unknown;
  ignore: string[];
  extra: Map<string, unknown>;
}

const MAIN_KEYS = ['limit', 'paths', 'allow', 'labels', 'enabled'];

function shapeOf(file: string, key: string, node: unknown, allowed: string[]): Shape {
  if (!isMap(node)) return { main: node, ignore: [], extra: new Map() };
  const shape: Shape = { main: undefined, ignore: [], extra: new Map() };
  for (const p of (node as YAMLMap).items) {
    const k = pairKey(p);
    if (k === 'ignore') shape.ignore = listOf(file, `rules.${key}.ignore`, p.value);
    else if (MAIN_KEYS.includes(k) && allowed.includes(k)) shape.main = p.value;
    else if (allowed.includes(k)) shape.extra.set(k, p.value);
    else throw new ConfigError(file, `rules.${key}: unknown setting ${JSON.stringify(k)} (it takes ${[...allowed, 'ignore'].join(', ')})`);
  }
  return shape;
}

function layerNumbers(file: string, where: string, list: string[]): number[] {
  return list.map((t) => {
    const n = Number(t);
    if (!Number.isInteger(n)) throw new ConfigError(file, `${where}: ${JSON.stringify(t)} is not a layer number (0 is the base layer, -1 the last)`);
    return n;
  });
}

/** One rule of a `.layerlens.yml`. */
export function layerlensRule(key: RuleKey, node: unknown, file: string): RuleSpec {
  const off = (written: string): RuleSpec => ({ key, enabled: false, written, from: file, ignore: [] });
  const where = `rules.${key}`;
  const isOff = (n: unknown) => isScalar(n) && (n.value === false || (typeof n.value === 'string' && isDisabledValue(n.value)) || n.value === null);
  switch (key) {
    case 'lowestEfficiency':
    case 'highestWastedBytes':
    case 'highestUserWastedPercent': {
      const s = shapeOf(file, key, node, ['limit']);
      const text = s.main === undefined ? '' : textOf(file, where, s.main);
      const r = diveRule(key, text, file);
      return { ...r, ignore: s.ignore };
    }
    case 'maxImageSize':
    case 'maxLayerSize': {
      const s = shapeOf(file, key, node, key === 'maxLayerSize' ? ['limit', 'of'] : ['limit', 'of']);
      if (s.main === undefined) throw new ConfigError(file, `${where} needs a limit`);
      if (isOff(s.main)) return off(textOf(file, where, s.main));
      const written = textOf(file, where, s.main);
      const bytes = bytesOf(file, where, written);
      const of = sizeOf(file, `${where}.of`, s.extra.get('of'));
      if (key === 'maxImageSize') {
        if (s.ignore.length) throw new ConfigError(file, `${where} takes no ignore list`);
        return { key, enabled: true, value: { bytes, of }, written, from: file, ignore: [] };
      }
      return { key, enabled: true, value: { bytes, of, ignoreLayers: layerNumbers(file, `${where}.ignore`, s.ignore) }, written, from: file, ignore: [] };
    }
    case 'maxLayerCount': {
      const s = shapeOf(file, key, node, ['limit']);
      if (s.ignore.length) throw new ConfigError(file, `${where} takes no ignore list`);
      if (s.main === undefined) throw new ConfigError(file, `${where} needs a limit`);
      if (isOff(s.main)) return off(textOf(file, where, s.main));
      const written = textOf(file, where, s.main);
      const n = Number(written);
      if (!/^\d+$/.test(written.trim()) || !Number.isSafeInteger(n)) throw new ConfigError(file, `${where}: ${JSON.stringify(written)} is not a whole number of layers`);
      return { key, enabled: true, value: n, written, from: file, ignore: [] };
    }
    case 'maxSizeGrowth':
    case 'maxWastedBytesGrowth': {
      const s = shapeOf(file, key, node, ['limit']);
      if (key === 'maxSizeGrowth' && s.ignore.length) throw new ConfigError(file, `${where} takes no ignore list`);
      if (s.main === undefined) throw new ConfigError(file, `${where} needs a limit`);
      if (isOff(s.main)) return off(textOf(file, where, s.main));
      const written = textOf(file, where, s.main);
      const g = parseGrowth(written);
      if (!g.ok) throw new ConfigError(file, `${where}: ${JSON.stringify(written)} is neither a size (10MB) nor a percentage (5%)`);
      return { key, enabled: true, value: g.value, written, from: file, ignore: s.ignore };
    }
    case 'forbiddenPaths': {
      const s = shapeOf(file, key, node, ['paths']);
      if (isOff(s.main)) return off('off');
      if (isScalar(s.main) && s.main.value === true) {
        return { key, enabled: true, value: [...DEFAULT_FORBIDDEN], written: 'the default list', from: file, ignore: s.ignore, defaultIgnore: [...DEFAULT_FORBIDDEN_IGNORE] };
      }
      const paths = listOf(file, isMap(node) ? `${where}.paths` : where, s.main);
      if (paths.length === 0) throw new ConfigError(file, `${where} lists no paths (true gives the default list)`);
      return { key, enabled: true, value: paths, written: paths.join(', '), from: file, ignore: s.ignore };
    }
    case 'setuidFiles': {
      const s = shapeOf(file, key, node, ['allow']);
      if (isOff(s.main) && !isMap(node)) return off('off');
      const allow = isScalar(s.main) && s.main.value === true ? [] : listOf(file, isMap(node) ? `${where}.allow` : where, s.main);
      return { key, enabled: true, value: allow, written: allow.length ? `allowed: ${allow.join(', ')}` : 'none allowed', from: file, ignore: [...allow, ...s.ignore] };
    }
    case 'noWorldWritable':
    case 'noRootUser': {
      const s = shapeOf(file, key, node, ['enabled']);
      if (key === 'noRootUser' && s.ignore.length) throw new ConfigError(file, `${where} takes no ignore list`);
      const main = s.main === undefined && isMap(node) ? true : s.main;
      if (main !== true && isOff(main)) return off('off');
      if (main !== true && !(isScalar(main) && main.value === true)) throw new ConfigError(file, `${where} is true or false, not ${JSON.stringify(textOf(file, where, main))}`);
      return { key, enabled: true, value: true, written: 'true', from: file, ignore: s.ignore };
    }
    case 'requiredLabels': {
      const s = shapeOf(file, key, node, ['labels']);
      if (s.ignore.length) throw new ConfigError(file, `${where} takes no ignore list`);
      if (isOff(s.main)) return off('off');
      const labels = listOf(file, where, s.main);
      if (labels.length === 0) throw new ConfigError(file, `${where} lists no labels`);
      return { key, enabled: true, value: labels, written: labels.join(', '), from: file, ignore: [] };
    }
  }
}

export interface LayerlensFile {
  rules: RuleSpec[];
  metrics?: Metrics;
}

export function readLayerlensText(text: string, file: string): LayerlensFile {
  const root = parseYaml(file, text);
  if (root === null || root === undefined || (isScalar(root) && root.value === null)) return { rules: [] };
  if (!isMap(root)) throw new ConfigError(file, `expected a mapping with "rules", found a ${yamlKind(root)}`);
  const out: LayerlensFile = { rules: [] };
  for (const p of root.items) {
    const k = pairKey(p);
    if (k === 'metrics') {
      const m = textOf(file, 'metrics', p.value);
      if (m !== 'dive' && m !== 'layerlens') throw new ConfigError(file, `metrics is dive or layerlens, not ${JSON.stringify(m)}`);
      out.metrics = m;
    } else if (k === 'rules') {
      if (p.value === null || (isScalar(p.value) && p.value.value === null)) continue;
      if (!isMap(p.value)) throw new ConfigError(file, `"rules" is a ${yamlKind(p.value)}, not a mapping`);
      for (const r of p.value.items) {
        const key = pairKey(r);
        if (!(RULE_KEYS as readonly string[]).includes(key)) throw new ConfigError(file, `unknown rule ${JSON.stringify(key)}; the rules are ${RULE_KEYS.join(', ')}`);
        out.rules.push(layerlensRule(key as RuleKey, r.value, file));
      }
    } else {
      throw new ConfigError(file, `unknown setting ${JSON.stringify(k)} (a .layerlens.yml has "rules" and "metrics")`);
    }
  }
  return out;
}

export function readLayerlensFile(file: string): LayerlensFile {
  return readLayerlensText(readText(file), file);
}

// ---------------------------------------------------------------------------------------------
// Putting it together

export interface LoadOptions {
  /** `--config`: a .layerlens.yml. */
  config?: string;
  /** `--ci-config`: a .dive-ci. */
  diveCi?: string;
  /** Where to look for .layerlens.yml, .layerlens.yaml and .dive-ci when neither is named. */
  cwd: string;
  /** dive's flags (`--lowestEfficiency` ...): they win over the files. */
  diveFlags?: Partial<Record<DiveRuleKey, string>>;
  metrics?: Metrics;
  /** `--ignore [RULE=]GLOB`: a glob for one rule, or (without RULE=) for every rule over paths. */
  ignore?: string[];
  exists?: (path: string) => boolean;
}

/**
 * The rules of one run: the named files, or those found in `cwd`. dive's three rules come from
 * a `.dive-ci` (or dive's defaults when no file has any rule), a `.layerlens.yml` overrides
 * the ones it sets, dive's flags override both.
 */
export function loadCiConfig(o: LoadOptions): CiConfig {
  const exists = o.exists ?? ((p: string) => fs.existsSync(p));
  const join = (name: string) => (o.cwd === '.' ? name : o.cwd.endsWith('/') ? o.cwd + name : `${o.cwd}/${name}`);
  let config = o.config;
  let diveCi = o.diveCi;
  if (config === undefined && diveCi === undefined) {
    config = ['.layerlens.yml', '.layerlens.yaml'].map(join).find(exists);
    diveCi = [join('.dive-ci')].find(exists);
  }
  const sources: string[] = [];
  const byKey = new Map<RuleKey, RuleSpec>();
  let metrics: Metrics | undefined;
  let diveFromDive = false;
  if (diveCi !== undefined) {
    for (const r of readDiveCi(diveCi)) byKey.set(r.key, r);
    sources.push(diveCi);
    diveFromDive = true;
  }
  if (config !== undefined) {
    const f = readLayerlensFile(config);
    sources.push(config);
    for (const r of f.rules) byKey.set(r.key, r);
    metrics = f.metrics;
  }
  if (sources.length === 0) {
    // No file at all: what `dive --ci` checks without one.
    for (const key of DIVE_RULES) byKey.set(key, diveRule(key, DIVE_DEFAULTS[key], "dive's defaults"));
    diveFromDive = true;
  }
  for (const key of DIVE_RULES) {
    const flag = o.diveFlags?.[key];
    if (flag !== undefined) byKey.set(key, diveRule(key, flag, `--${key}`));
  }
  applyIgnores(byKey, o.ignore ?? []);
  const rules = RULE_KEYS.flatMap((k) => (byKey.has(k) ? [byKey.get(k)!] : []));
  // Where a .dive-ci is read (or dive's defaults stand in for it), dive's rules are checked
  // against dive's figures, so that a dive setup passes and fails as it did; a .layerlens.yml
  // alone means layerlens's figures. `metrics:` in .layerlens.yml, then --metrics, decide.
  return { rules, metrics: o.metrics ?? metrics ?? (diveFromDive ? 'dive' : 'layerlens'), sources };
}

function applyIgnores(byKey: Map<RuleKey, RuleSpec>, ignores: string[]): void {
  for (const raw of ignores) {
    const eq = raw.indexOf('=');
    const key = eq > 0 ? raw.slice(0, eq) : '';
    if ((RULE_KEYS as readonly string[]).includes(key)) {
      const glob = raw.slice(eq + 1);
      const r = byKey.get(key as RuleKey);
      if (!r) throw new LayerlensError('usage', `--ignore ${raw}: no ${key} rule is configured`);
      if (key === 'maxLayerSize') {
        const v = r.value as RuleValues['maxLayerSize'] | undefined;
        if (v) v.ignoreLayers.push(...layerNumbers('--ignore', `--ignore ${raw}`, [glob]));
      } else if (!PATH_RULES.has(key as RuleKey)) {
        throw new LayerlensError('usage', `--ignore ${raw}: ${key} takes no ignore list`);
      } else {
        r.ignore.push(glob);
      }
    } else {
      for (const r of byKey.values()) if (PATH_RULES.has(r.key)) r.ignore.push(raw);
    }
  }
}
