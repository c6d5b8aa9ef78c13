// `layerlens ci`: dive's `.dive-ci` read as dive reads it, layerlens's own rules on the corpus
// images and on images built in memory, the verdict lines, exit codes, and the JUnit, Markdown
// and JSON files of one run.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { diveRule, loadCiConfig, readDiveText, readLayerlensText } from '../src/ci/config.js';
import { parseGoFloat, parseHumanBytes } from '../src/ci/units.js';
import { gatherFacts, readsWrittenPaths } from '../src/cli/ci.js';
import type { Io } from '../src/cli/common.js';
import { openImage } from '../src/source/open-image.js';
import { parseJson, run } from './helpers/cli.js';
import { dockerArchive, image, tar, tempDir } from './helpers/builders.js';
import { HAS_SHARED, corpus, fixture } from './helpers/shared.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const TINY = 'samples/tiny.docker-archive.tar';
const DIVE_CI = fixture('dive', '.data', '.dive-ci');
const XSD = path.resolve('test/fixtures/junit.xsd');
const HAS_XMLLINT = fs.existsSync('/usr/bin/xmllint');
if (!HAS_XMLLINT) console.warn('[layerlens tests] /usr/bin/xmllint is absent: JUnit files are checked for shape, not against the schema (apt-get install libxml2-utils).');

function yml(name: string, text: string): string {
  return tmp.file(name, Buffer.from(text));
}

/** The rule lines of a run: `STATUS  rule  message` without the header and the result line. */
function ruleLines(stdout: string): string[] {
  return stdout.trimEnd().split('\n').slice(1, -1);
}

function statusOf(stdout: string, rule: string): string | undefined {
  return ruleLines(stdout)
    .find((l) => l.slice(6).startsWith(`${rule} `))
    ?.slice(0, 4);
}

function validJunit(file: string): void {
  const xml = fs.readFileSync(file, 'utf8');
  expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')).toBe(true);
  if (HAS_XMLLINT) execFileSync('/usr/bin/xmllint', ['--noout', '--schema', XSD, file], { stdio: 'pipe' });
}

describe("dive's number languages", () => {
  it('parses byte sizes as go-humanize does', () => {
    const ok = (s: string) => {
      const r = parseHumanBytes(s);
      return r.ok ? r.value : `error: ${r.error}`;
    };
    expect(ok('20Mb')).toBe(20_000_000);
    expect(ok('42')).toBe(42);
    expect(ok('42 MB')).toBe(42_000_000);
    expect(ok('42 mib')).toBe(44_040_192);
    expect(ok('1,000kB')).toBe(1_000_000);
    expect(ok('1.5GiB')).toBe(1_610_612_736);
    expect(ok('5k')).toBe(5000);
    expect(ok('5Ki')).toBe(5120);
    expect(ok('0.5B')).toBe(0);
    expect(ok('20XB')).toBe('error: unhandled size name: xb');
    expect(ok(' 20MB')).toMatch(/^error: strconv.ParseFloat/);
    expect(ok('-1')).toMatch(/^error: strconv.ParseFloat/);
    expect(ok('MB')).toMatch(/^error: strconv.ParseFloat/);
  });

  it('parses ratios as Go strconv.ParseFloat does', () => {
    expect(parseGoFloat('0.95')).toBe(0.95);
    expect(parseGoFloat('.5')).toBe(0.5);
    expect(parseGoFloat('1e-1')).toBe(0.1);
    expect(parseGoFloat('0x1p-2')).toBe(0.25);
    expect(parseGoFloat('Inf')).toBe(Infinity);
    expect(parseGoFloat('NaN')).toBeNaN();
    expect(parseGoFloat('1e400')).toBeUndefined();
    expect(parseGoFloat(' 0.9')).toBeUndefined();
    expect(parseGoFloat('1_000')).toBeUndefined();
    expect(parseGoFloat('90%')).toBeUndefined();
  });
});

describe('reading a .dive-ci as dive does', () => {
  it("reads dive's own fixture: its three rules, plugins and other keys ignored", () => {
    expect(readDiveText(fs.existsSync(DIVE_CI) ? fs.readFileSync(DIVE_CI, 'utf8') : 'rules:\n  lowestEfficiency: 0.95\n  highestWastedBytes: 20Mb\n  highestUserWastedPercent: 0.5\n  plugin1/rule1: error\n', '.dive-ci')).toEqual({
      lowestEfficiency: '0.95',
      highestWastedBytes: '20Mb',
      highestUserWastedPercent: '0.5',
    });
  });

  it("fills missing keys with dive's defaults, keeps a value's text, and lets null keep the default", () => {
    expect(readDiveText('', 'f')).toEqual({ lowestEfficiency: '0.9', highestWastedBytes: 'disabled', highestUserWastedPercent: '0.1' });
    expect(readDiveText('rules:\n', 'f')).toEqual({ lowestEfficiency: '0.9', highestWastedBytes: 'disabled', highestUserWastedPercent: '0.1' });
    expect(readDiveText('rules:\n  lowestEfficiency: 0.950\n  highestWastedBytes: ~\n  highestUserWastedPercent: "0.2"\n', 'f')).toEqual({
      lowestEfficiency: '0.950',
      highestWastedBytes: 'disabled',
      highestUserWastedPercent: '0.2',
    });
    // Keys are matched as written: dive 0.13 (yaml.v3) ignores another case.
    expect(readDiveText('rules:\n  LowestEfficiency: 0.5\n', 'f').lowestEfficiency).toBe('0.9');
  });

  it('turns a rule off with "", disabled, off or false, in any case', () => {
    for (const v of ['""', 'disabled', 'off', 'OFF', 'false', 'False', "' disabled '"]) {
      const text = readDiveText(`rules:\n  lowestEfficiency: ${v}\n`, 'f').lowestEfficiency;
      expect(diveRule('lowestEfficiency', text, 'f').enabled, v).toBe(false);
    }
    expect(() => diveRule('lowestEfficiency', 'no', 'f')).toThrow(/invalid lowestEfficiency config value, given "no"/);
  });

  it('refuses what dive refuses, with its messages', () => {
    expect(() => diveRule('lowestEfficiency', '1.1', 'f')).toThrow("lowestEfficiency config value is outside allowed range (0-1), given '1.100000'");
    expect(() => diveRule('highestUserWastedPercent', '-0.1', 'f')).toThrow('outside allowed range (0-1)');
    expect(() => diveRule('highestWastedBytes', '1BB', 'f')).toThrow('invalid highestWastedBytes config value, given "1BB": unhandled size name: bb');
    expect(() => readDiveText('rules:\n  lowestEfficiency: [1]\n', 'f')).toThrow('cannot unmarshal !!seq into a string');
    expect(() => readDiveText('- a\n', 'f')).toThrow('cannot read !!seq');
    expect(() => readDiveText('rules: [\n', 'f')).toThrow('not valid YAML');
  });

  it('exits 2 with one line for a bad value', async () => {
    const bad = yml('bad/.dive-ci', 'rules:\n  lowestEfficiency: 1.5\n  highestWastedBytes: 20XB\n');
    const r = await run(['ci', TINY, '--ci-config', bad]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `layerlens: error: ${bad}: lowestEfficiency config value is outside allowed range (0-1), given '1.500000'; invalid highestWastedBytes config value, given "20XB": unhandled size name: xb\n`,
    );
  });
});

describe('reading a .layerlens.yml', () => {
  it('reads every rule, in the order the verdicts are printed', () => {
    const f = readLayerlensText(
      [
        'metrics: dive',
        'rules:',
        '  requiredLabels: [org.opencontainers.image.source]',
        '  noRootUser: true',
        '  forbiddenPaths: ["**/.env", "**/id_rsa"]',
        '  setuidFiles: { allow: [/usr/bin/passwd] }',
        '  noWorldWritable: { ignore: [/var/www/**] }',
        '  maxSizeGrowth: 10%',
        '  maxWastedBytesGrowth: 1MB',
        '  maxLayerSize: { limit: 100MB, of: stored, ignore: [0] }',
        '  maxLayerCount: 12',
        '  maxImageSize: 1GiB',
        '  lowestEfficiency: { limit: 0.9, ignore: ["/var/cache/**"] }',
      ].join('\n'),
      '.layerlens.yml',
    );
    expect(f.metrics).toBe('dive');
    expect(Object.fromEntries(f.rules.map((r) => [r.key, r.value]))).toEqual({
      requiredLabels: ['org.opencontainers.image.source'],
      noRootUser: true,
      forbiddenPaths: ['**/.env', '**/id_rsa'],
      setuidFiles: ['/usr/bin/passwd'],
      noWorldWritable: true,
      maxSizeGrowth: { percent: 10 },
      maxWastedBytesGrowth: { bytes: 1_000_000 },
      maxLayerSize: { bytes: 100_000_000, of: 'stored', ignoreLayers: [0] },
      maxLayerCount: 12,
      maxImageSize: { bytes: 1024 ** 3, of: 'uncompressed' },
      lowestEfficiency: 0.9,
    });
    expect(f.rules.find((r) => r.key === 'lowestEfficiency')!.ignore).toEqual(['/var/cache/**']);
    expect(f.rules.find((r) => r.key === 'noWorldWritable')!.ignore).toEqual(['/var/www/**']);
  });

  it('refuses unknown rules and settings, so that a typo never turns a rule off', () => {
    expect(() => readLayerlensText('rules:\n  maxImagesize: 1GB\n', 'f')).toThrow('unknown rule "maxImagesize"');
    expect(() => readLayerlensText('rule:\n  maxImageSize: 1GB\n', 'f')).toThrow('unknown setting "rule"');
    expect(() => readLayerlensText('rules:\n  maxImageSize: { limit: 1GB, of: packed }\n', 'f')).toThrow('uncompressed or stored');
    expect(() => readLayerlensText('rules:\n  maxImageSize: lots\n', 'f')).toThrow('is not a size');
    expect(() => readLayerlensText('rules:\n  maxLayerCount: 2.5\n', 'f')).toThrow('not a whole number');
    expect(() => readLayerlensText('rules:\n  maxImageSize: 1GB\n  maxImageSize: 2GB\n', 'f')).toThrow('not valid YAML');
  });

  it("takes dive's rules from a .dive-ci, lets .layerlens.yml and then the flags override them", () => {
    const dir = path.dirname(yml('both/.dive-ci', 'rules:\n  lowestEfficiency: 0.8\n'));
    yml('both/.layerlens.yml', 'rules:\n  highestUserWastedPercent: 0.3\n  maxLayerCount: 3\n');
    const c = loadCiConfig({ cwd: dir, diveFlags: { highestWastedBytes: '1MB' } });
    expect(c.sources.map((s) => path.basename(s))).toEqual(['.dive-ci', '.layerlens.yml']);
    expect(c.rules.map((r) => [r.key, r.written, path.basename(r.from)])).toEqual([
      ['lowestEfficiency', '0.8', '.dive-ci'],
      ['highestWastedBytes', '1MB', '--highestWastedBytes'],
      ['highestUserWastedPercent', '0.3', '.layerlens.yml'],
      ['maxLayerCount', '3', '.layerlens.yml'],
    ]);
    // A .dive-ci is there: dive's figures, unless .layerlens.yml or --metrics says otherwise.
    expect(c.metrics).toBe('dive');
    expect(loadCiConfig({ cwd: dir, metrics: 'layerlens' }).metrics).toBe('layerlens');
    expect(loadCiConfig({ cwd: path.dirname(yml('ll-only/.layerlens.yml', 'rules:\n  lowestEfficiency: 0.5\n')) }).metrics).toBe('layerlens');
    expect(loadCiConfig({ cwd: path.dirname(yml('ll-dive/.layerlens.yml', 'metrics: dive\nrules:\n  lowestEfficiency: 0.5\n')) }).metrics).toBe('dive');
    // Nothing at all: what `dive --ci` checks without a file.
    const none = loadCiConfig({ cwd: tmp.file('empty-dir'), exists: () => false });
    expect(none.rules.map((r) => [r.key, r.enabled, r.written])).toEqual([
      ['lowestEfficiency', true, '0.9'],
      ['highestWastedBytes', false, 'disabled'],
      ['highestUserWastedPercent', true, '0.1'],
    ]);
  });
});

describe.skipIf(!HAS_SHARED)("the gate on dive's fixtures", () => {
  const IMAGE = fixture('dive', '.data', 'test-docker-image.tar');

  it("passes dive's test image with dive's own .dive-ci, on dive's figures", async () => {
    for (const image of [IMAGE, fixture('dive', '.data', 'test-kaniko-image.tar')]) {
      const r = await run(['ci', image, '--ci-config', DIVE_CI]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout.split('\n')[0]).toMatch(/^layerlens ci dive-test:(latest|kaniko-latest) \([0-9a-f]{12}\): rules from .*\.dive-ci; waste figures: dive's$/);
      expect(ruleLines(r.stdout).map((l) => l.slice(0, 4))).toEqual(['PASS', 'PASS', 'PASS']);
      expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('Result: PASS (3 rules: 3 passed, 0 failed, 0 skipped)');
    }
  });

  it('fails it with stricter rules: exit 1, what failed and by how much, and valid JUnit', async () => {
    const strict = yml('strict/.dive-ci', 'rules:\n  lowestEfficiency: 0.99\n  highestWastedBytes: 10KB\n  highestUserWastedPercent: off\n');
    const junit = tmp.file('strict/junit.xml');
    const md = tmp.file('strict/summary.md');
    const js = tmp.file('strict/verdict.json');
    const r = await run(['ci', IMAGE, '--ci-config', strict, '--junit', junit, '--markdown', md, '--json', js]);
    expect(r.code).toBe(1);
    const lines = ruleLines(r.stdout);
    expect(lines[0]).toMatch(/^FAIL {2}lowestEfficiency {10}efficiency 0\.98\d* is below 0\.99 by 0\.0\d+ \(dive's figures\); most wasted: \//);
    expect(lines[1]).toMatch(/^FAIL {2}highestWastedBytes {8}3[\d.]*kB wasted, over 10kB by 2[\d.]*kB \(dive's figures\); most wasted: \/root\/saved\.txt/);
    expect(lines[2]).toBe('SKIP  highestUserWastedPercent  disabled');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('Result: FAIL (3 rules: 0 passed, 2 failed, 1 skipped)');

    validJunit(junit);
    const xml = fs.readFileSync(junit, 'utf8');
    expect(xml).toContain('<testsuites name="layerlens ci" tests="3" failures="2" errors="0" time="');
    expect(xml).toMatch(/<testsuite name="layerlens ci dive-test:latest \([0-9a-f]{12}\)" package="layerlens.ci" id="0" tests="3" failures="2" errors="0" skipped="1" time="[\d.]+" timestamp="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d" hostname="[^"]+">/);
    expect(xml).toMatch(/<testcase name="lowestEfficiency" classname="layerlens.ci" time="0">\n {6}<failure message="efficiency 0\.98/);
    expect(xml).toContain('<skipped message="disabled"/>');

    const doc = JSON.parse(fs.readFileSync(js, 'utf8'));
    expect(Object.keys(doc)).toEqual(['schemaVersion', 'pass', 'image', 'baseline', 'metrics', 'sources', 'counts', 'rules']);
    expect(doc).toMatchObject({ schemaVersion: 1, pass: false, metrics: 'dive', counts: { pass: 0, fail: 2, skip: 1, total: 3 } });
    expect(doc.rules.map((x: { rule: string; status: string }) => `${x.rule}:${x.status}`)).toEqual(['lowestEfficiency:fail', 'highestWastedBytes:fail', 'highestUserWastedPercent:skip']);
    expect(doc.rules[1].actual).toBeGreaterThan(10_000);

    const summary = fs.readFileSync(md, 'utf8');
    expect(summary.split('\n')[0]).toBe('### layerlens ci: ❌ FAIL — dive-test:latest (' + doc.image.id.slice(7, 19) + ')');
    expect(summary).toContain('| ❌ FAIL | `highestWastedBytes` |');
  });

  it('prints the same verdicts as JSON, Markdown or JUnit on stdout', async () => {
    const json = await run(['ci', IMAGE, '--ci-config', DIVE_CI, '--format', 'json']);
    expect(json.code).toBe(0);
    expect(parseJson<{ schemaVersion: number; pass: boolean }>(json)).toMatchObject({ schemaVersion: 1, pass: true });
    const junit = await run(['ci', IMAGE, '--ci-config', DIVE_CI, '--format', 'junit']);
    validJunit(tmp.file('stdout-junit.xml', Buffer.from(junit.stdout)));
    const md = await run(['ci', IMAGE, '--ci-config', DIVE_CI, '--format', 'markdown']);
    expect(md.stdout.startsWith('### layerlens ci: ✅ PASS — dive-test:latest')).toBe(true);
  });

  it('appends the Markdown to $GITHUB_STEP_SUMMARY with --step-summary', async () => {
    const summary = tmp.file('step-summary.md', Buffer.from('# earlier step\n'));
    const before = process.env.GITHUB_STEP_SUMMARY;
    process.env.GITHUB_STEP_SUMMARY = summary;
    try {
      expect((await run(['ci', IMAGE, '--ci-config', DIVE_CI, '--step-summary'])).code).toBe(0);
    } finally {
      if (before === undefined) delete process.env.GITHUB_STEP_SUMMARY;
      else process.env.GITHUB_STEP_SUMMARY = before;
    }
    const text = fs.readFileSync(summary, 'utf8');
    expect(text.startsWith('# earlier step\n### layerlens ci: ✅ PASS')).toBe(true);
  });
});

describe.skipIf(!HAS_SHARED)('each rule on the corpus images', () => {
  const APP_V1 = `${corpus('app', 'oci')}:v1`;
  const APP_V2 = `${corpus('app', 'oci')}:v2`;
  const TINY_C = corpus('tiny', 'tiny.docker-archive.tar');

  it('sizes: the image, the layer count and each layer', async () => {
    const f = yml('sizes.yml', 'rules:\n  maxImageSize: 1MB\n  maxLayerCount: 4\n  maxLayerSize: { limit: 500kB, ignore: [] }\n');
    const r = await run(['ci', TINY_C, '--config', f, '--human=false']);
    expect(r.code).toBe(1);
    expect(ruleLines(r.stdout)).toEqual([
      'FAIL  maxImageSize   the image is 1016846 bytes uncompressed, over 1000000 bytes by 16846 bytes',
      'FAIL  maxLayerCount  5 layers, over 4 by 1',
      'FAIL  maxLayerSize   1 layer over 500000 bytes uncompressed: layer 0 is 641536 bytes (over by 141536 bytes): ADD base-files+netbase rootfs and fixtures / (umoci repack)',
    ]);
    const ok = yml('sizes-ok.yml', 'rules:\n  maxImageSize: { limit: 1.1MB, of: stored }\n  maxLayerCount: 5\n  maxLayerSize: { limit: 500kB, ignore: [0] }\n');
    const p = await run(['ci', TINY_C, '--config', ok]);
    expect(p.code, p.stdout).toBe(0);
    expect(ruleLines(p.stdout)[2]).toBe('PASS  maxLayerSize   the largest layer is 1 at 360kB uncompressed, not over 500kB (not counting layer 0)');
  });

  it('growth against a baseline, and SKIP without one', async () => {
    const f = yml('growth.yml', 'rules:\n  maxSizeGrowth: 1%\n  maxWastedBytesGrowth: 100MB\n');
    const r = await run(['ci', APP_V2, '--config', f, '--baseline', APP_V1]);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toMatch(/^layerlens ci v2 \(364257f137bd\) against baseline v1: /);
    expect(ruleLines(r.stdout)[0]).toMatch(/^FAIL {2}maxSizeGrowth {9}size \(uncompressed\) grew by [\d.]+kB \(\+[\d.]+%\), from [\d.]+kB to [\d.]+kB, over the 1% \([\d.]+kB\) allowed by [\d.]+kB$/);
    expect(ruleLines(r.stdout)[1]).toMatch(/^PASS {2}maxWastedBytesGrowth {2}wasted bytes grew by .*, within the 100MB allowed$/);
    const none = await run(['ci', APP_V2, '--config', f]);
    expect(none.code).toBe(0);
    expect(ruleLines(none.stdout)).toEqual(['SKIP  maxSizeGrowth         no --baseline given', 'SKIP  maxWastedBytesGrowth  no --baseline given']);
  });

  it('forbidden paths in any layer, also those a later layer deleted', async () => {
    const f = yml('forbidden.yml', 'rules:\n  forbiddenPaths: ["**/*.bin", "**/.git/**"]\n');
    const r = await run(['ci', TINY_C, '--config', f]);
    expect(r.code).toBe(1);
    expect(ruleLines(r.stdout)[0]).toMatch(/^FAIL {2}forbiddenPaths {2}\d forbidden paths: \/data\/blob\.bin \(layer \d.*\/var\/tmp\/scratch\.bin \(layer \d, deleted later but still in the image\)/);
    const ignored = await run(['ci', TINY_C, '--config', f, '--ignore', 'forbiddenPaths=/data/**', '--ignore', '/var/tmp/**']);
    expect(ignored.code, ignored.stdout).toBe(0);
    expect(ruleLines(ignored.stdout)[0]).toBe('PASS  forbiddenPaths  no forbidden path in any layer (ignoring /data/**, /var/tmp/**)');
  });

  it('setuid and setgid files outside the allow-list', async () => {
    const strict = await run(['ci', TINY_C, '--config', yml('suid.yml', 'rules:\n  setuidFiles: true\n')]);
    expect(strict.code).toBe(1);
    expect(ruleLines(strict.stdout)).toEqual(['FAIL  setuidFiles  1 setuid/setgid file in the image: /usr/local/bin/suid-tool (setuid)']);
    const allowed = await run(['ci', TINY_C, '--config', yml('suid-ok.yml', 'rules:\n  setuidFiles: [/usr/local/bin/*]\n')]);
    expect(allowed.code).toBe(0);
    expect(ruleLines(allowed.stdout)).toEqual(['PASS  setuidFiles  no setuid or setgid file outside the allow-list']);
  });

  it('world-writable paths: none in the corpus (sticky /tmp is fine)', async () => {
    const r = await run(['ci', APP_V2, '--config', yml('ww.yml', 'rules:\n  noWorldWritable: true\n')]);
    expect(r.code).toBe(0);
    expect(ruleLines(r.stdout)).toEqual(['PASS  noWorldWritable  no world-writable file, and no world-writable directory without the sticky bit']);
  });

  it('root user, and required labels', async () => {
    const f = yml('root.yml', 'rules:\n  noRootUser: true\n  requiredLabels: [org.opencontainers.image.title, org.opencontainers.image.version]\n');
    const v1 = await run(['ci', APP_V1, '--config', f]);
    expect(v1.code).toBe(1);
    expect(ruleLines(v1.stdout)).toEqual(['FAIL  noRootUser      the image runs as root (User is empty)', 'PASS  requiredLabels  2 required labels present']);
    const v2 = await run(['ci', APP_V2, '--config', f]);
    expect(ruleLines(v2.stdout)).toEqual(['PASS  noRootUser      the image runs as "web"', 'PASS  requiredLabels  2 required labels present']);
    const tiny = await run(['ci', TINY_C, '--config', f]);
    expect(ruleLines(tiny.stdout)[1]).toBe('FAIL  requiredLabels  1 required label of 2 not set: missing org.opencontainers.image.version');
  });
});

describe("dive's figures or layerlens's", () => {
  it("checks dive's rules on dive's figures for a .dive-ci, and on layerlens's when asked", async () => {
    const f = yml('metrics/.dive-ci', 'rules:\n  highestWastedBytes: 1MB\n');
    const dive = parseJson<{ metrics: string; rules: Array<{ actual: number }> }>(await run(['ci', TINY, '--ci-config', f, '--format', 'json']));
    const ours = parseJson<{ metrics: string; rules: Array<{ actual: number }> }>(await run(['ci', TINY, '--ci-config', f, '--metrics', 'layerlens', '--format', 'json']));
    expect([dive.metrics, ours.metrics]).toEqual(['dive', 'layerlens']);
    // dive counts every copy of a path that more than one layer holds, the visible one too;
    // layerlens counts the copies that are hidden.
    expect(ours.rules[1]!.actual).toBeLessThan(dive.rules[1]!.actual);
  });
});

describe('rules on images built in memory', () => {
  const img = image({
    layers: [
      {
        tar: tar()
          .dir('srv/', { mode: 0o777 })
          .dir('tmp/', { mode: 0o1777 })
          .file('srv/notes.txt', 'x', { mode: 0o666 })
          .file('app/.env', 'TOKEN=1')
          .file('root/.ssh/id_rsa', 'key', { mode: 0o600 }),
      },
    ],
    config: { User: '0:0' },
  });
  const archive = tmp.file('mem.tar', dockerArchive([{ image: img, repoTags: ['mem:1'] }]).toTar());

  it('finds world-writable files and directories without the sticky bit, a root user and secrets', async () => {
    const f = yml('mem.yml', 'rules:\n  noWorldWritable: true\n  noRootUser: true\n  forbiddenPaths: true\n');
    const r = await run(['ci', archive, '--config', f]);
    expect(r.code).toBe(1);
    expect(ruleLines(r.stdout)).toEqual([
      'FAIL  forbiddenPaths   2 forbidden paths: /app/.env (layer 0), /root/.ssh/id_rsa (layer 0)',
      'FAIL  noWorldWritable  1 world-writable file and 1 world-writable directory without the sticky bit: /srv/ (0777), /srv/notes.txt (0666)',
      'FAIL  noRootUser       the image runs as root (User is "0:0")',
    ]);
    const ignored = await run(['ci', archive, '--config', f, '--ignore', 'noWorldWritable=/srv']);
    expect(ruleLines(ignored.stdout)[1]).toBe('PASS  noWorldWritable  no world-writable file, and no world-writable directory without the sticky bit (ignoring /srv)');
  });

  it("keeps the layers' changes only for a rule over every written path: dive's rules alone build none", async () => {
    const config = (text?: string) => loadCiConfig({ cwd: tmp.dir, config: text === undefined ? undefined : yml(`keep-${text.length}.yml`, text), exists: () => false });
    expect(readsWrittenPaths(config())).toBe(false);
    expect(readsWrittenPaths(config('rules:\n  noWorldWritable: true\n  setuidFiles: true\n  maxImageSize: 1GB\n'))).toBe(false);
    expect(readsWrittenPaths(config('rules:\n  forbiddenPaths: true\n'))).toBe(true);
    expect(readsWrittenPaths(config('rules:\n  forbiddenPaths: false\n'))).toBe(false);
    const { image: im, file } = await openImage(archive);
    try {
      const io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, now: () => 0 } as unknown as Io;
      const lean = await gatherFacts(im, {}, io, 'dive', undefined, false);
      expect(lean.built.changeSets.flatMap((s) => s.changes)).toEqual([]);
      // The final tree is there all the same, gathered when a rule reads it.
      expect(lean.facts.files.map((f) => f.path)).toContain('/srv/notes.txt');
      const full = await gatherFacts(im, {}, io, 'dive', undefined, true);
      expect(full.facts.written.map((w) => w.path)).toEqual(expect.arrayContaining(['/app/.env', '/root/.ssh/id_rsa']));
    } finally {
      await file.close();
    }
  });

  it('reads .layerlens.yml and .dive-ci from the current folder', async () => {
    const dir = path.dirname(yml('cwd/.layerlens.yml', 'rules:\n  maxLayerCount: 1\n'));
    const here = process.cwd();
    process.chdir(dir);
    try {
      const r = await run(['ci', archive]);
      expect(r.code).toBe(0);
      expect(r.stdout.split('\n')[0]).toBe(`layerlens ci mem:1 (${img.config.digest.slice(7, 19)}): rules from .layerlens.yml; waste figures: layerlens's`);
      expect(ruleLines(r.stdout)).toEqual(['PASS  maxLayerCount  1 layer, not over 1']);
    } finally {
      process.chdir(here);
    }
  });

  it('exits 2 on bad usage, and writes nothing', async () => {
    const f = yml('usage.yml', 'rules:\n  maxLayerCount: 1\n');
    const out = tmp.file('never.xml');
    for (const args of [
      ['--config', tmp.file('missing.yml')],
      ['--config', f, '--metrics', 'docker'],
      ['--config', f, '--ignore', 'maxLayerCount=/x'],
      ['--config', f, '--format', 'html'],
    ]) {
      const r = await run(['ci', archive, ...args, '--junit', out]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.split('\n')).toHaveLength(2);
      expect(fs.existsSync(out)).toBe(false);
    }
  });
});
