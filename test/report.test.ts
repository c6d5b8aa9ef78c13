// `layerlens report` without a browser: one self-contained file, every string from the image
// escaped, and a timeline from which the page rebuilds the filesystem at any layer. (The page in
// a real browser: report-browser.test.ts.)
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { EVENT_KIND, NODE_TYPES, TimelineRecorder, type Timeline } from '../src/analysis/timeline.js';
import { buildUnion } from '../src/fs/build.js';
import { stringifyShown } from '../src/report/format.js';
import { timelineJson } from '../src/report/html.js';
import { openImage } from '../src/source/open-image.js';
import { run } from './helpers/cli.js';
import { dockerArchive, image, tar, tempDir } from './helpers/builders.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const TINY = 'samples/tiny.docker-archive.tar';

function pageData(html: string): { schemaVersion: number; timeline: Timeline; verdict: unknown; diff: unknown } {
  const m = /<script type="application\/json" id="layerlens-data">(.*?)<\/script>/s.exec(html);
  if (!m) throw new Error('no data in the page');
  return JSON.parse(m[1]!);
}

/** The node id of a path in a timeline. */
function nodeOf(t: Timeline, path: string): number {
  let cur = 0;
  for (const name of path.split('/').filter(Boolean)) {
    cur = t.names.findIndex((n, i) => n === name && t.parents[i] === cur);
    if (cur < 0) throw new Error(`${path}: not in the timeline`);
  }
  return cur;
}

/** What a path is at one layer, from its events, as the page computes it. */
function at(t: Timeline, path: string, layer: number): string {
  const ev = t.events[nodeOf(t, path)]!.filter((e) => e[0] <= layer).at(-1);
  if (!ev) return 'absent';
  const kind = ev[1] === EVENT_KIND.added ? 'added' : ev[1] === EVENT_KIND.modified ? 'modified' : 'removed';
  if (kind === 'removed' && ev[0] < layer) return 'absent';
  if (ev[1] === EVENT_KIND.removedBelow) return 'absent';
  return `${ev[0] === layer ? kind : 'present'} ${NODE_TYPES[ev[2]]} ${ev[3]}`;
}

describe('the timeline as the page has it', () => {
  // Recorded in typed arrays and written out a block of paths at a time (report/html.ts
  // timelineJson): the same text as the arrays TimelineRecorder.finish() makes, written whole.
  it('is the same JSON read in place as made into arrays, across blocks, with links and a name that is not UTF-8', async () => {
    const first = tar().dir('many/');
    for (let i = 0; i < 5000; i++) first.file(`many/f${i}`, `${i}`);
    first.symlink('many/link', 'f1').hardlink('many/hard', 'many/f2').file(Buffer.from('many/caf\xe9', 'latin1'), 'x');
    const second = tar().file('many/f3', 'changed', { mode: 0o600, uid: 2 ** 31 + 5, base256: ['uid'] }).file('many/.wh.f4').dir('many/d/').file('many/d/deep', 'x');
    const target = tmp.file('timeline.tar', dockerArchive([{ image: image({ layers: [{ tar: first }, { tar: second }] }), repoTags: ['t:1'] }]).toTar());
    const { image: im, file } = await openImage(target);
    try {
      const recorder = new TimelineRecorder();
      await buildUnion(im.layers, { verify: true, file: im.file, onLayer: (_scan, changes, union) => recorder.record(union, changes) });
      const whole = stringifyShown(recorder.finish());
      expect(timelineJson(recorder.view())).toBe(whole);
      expect(whole).toContain(String.raw`"caf\\xe9"`);
      expect(JSON.parse(whole).names.length).toBeGreaterThan(4096); // two blocks
    } finally {
      await file.close();
    }
  });
});

describe('report', () => {
  it('writes one self-contained page: no URL to load, a policy that forbids loading any', async () => {
    const out = tmp.file('tiny.html');
    const r = await run(['report', TINY, '-o', out]);
    expect(r).toEqual({ code: 0, stdout: '', stderr: `layerlens: wrote ${out}: ${r.stderr.match(/: (\S+)\n$/)![1]}\n` });
    const html = fs.readFileSync(out, 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'`);
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/@import|url\(/);
    expect(html.match(/<script/g)).toHaveLength(2);
    const data = pageData(html);
    expect(data.schemaVersion).toBe(1);
    expect(data.verdict).toBeNull();
    expect(data.diff).toBeNull();
  });

  it('carries what every layer did to every path', async () => {
    const html = (await run(['report', TINY, '-o', '-'])).stdout;
    const t = pageData(html).timeline;
    expect(t.layers).toBe(5);
    // Layer 2 of the sample removes /opt/app/README and adds /opt/app/VERSION (README's `changes` example).
    expect(at(t, '/opt/app/README', 1)).toBe('present file 14');
    // A removal carries the bytes that went.
    expect(at(t, '/opt/app/README', 2)).toBe('removed file 14');
    expect(at(t, '/opt/app/README', 3)).toBe('absent');
    expect(at(t, '/opt/app/VERSION', 1)).toBe('absent');
    expect(at(t, '/opt/app/VERSION', 2)).toBe('added file 4');
    // A directory removed with everything in it: its children go with it.
    expect(at(t, '/opt/app/lib', 2)).toMatch(/^removed dir/);
    expect(at(t, '/opt/app/lib/a.txt', 2)).toBe('absent');
    expect(t.descriptions[t.events[nodeOf(t, '/opt/app/lib')]!.at(-1)![7]]).toBe('removed (3 paths)');
    // A type change: /srv/was-dir becomes a file at layer 2.
    expect(at(t, '/srv/was-dir', 1)).toBe('present dir 0');
    expect(at(t, '/srv/was-dir', 2)).toBe('modified file 26');
  });

  it('escapes every name from the image, in the markup and in the data', async () => {
    const evil = '<img src=x onerror=alert(1)>';
    const img = image({
      layers: [{ tar: tar().file(`app/${evil}`, 'x').file('app/</script><script>alert(2)</script>', 'y').file('app/\u2028line', 'z') }],
      config: { Labels: { '<b>label</b>': '</script>' }, User: '"quoted"' },
    });
    const archive = tmp.file('evil.tar', dockerArchive([{ image: img, repoTags: ['evil:<script>'] }]).toTar());
    // The rules' messages name the paths whole, so the page's data holds `</script>` as text.
    const rules = tmp.file('evil.yml', Buffer.from('rules:\n  forbiddenPaths: ["/app/**"]\n'));
    const r = await run(['report', archive, '-o', '-', '--config', rules]);
    expect(r.code, r.stderr).toBe(0);
    const html = r.stdout;
    expect(html).not.toContain(evil);
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<b>label</b>');
    expect(html).toContain('&lt;b&gt;label&lt;/b&gt;');
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    const t = pageData(html).timeline;
    expect(t.names).toContain(evil);
    expect(t.names).toContain('script><script>alert(2)<');
    expect(JSON.stringify(pageData(html).verdict)).toContain('/app/</script><script>alert(2)</script>');
    expect(t.names).toContain('\u2028line');
  });

  it('reads each layer against the tree as that layer left it, a directory replaced since included', async () => {
    // Layer 1 changes /d/f; layer 2 removes /d and makes it again, with another /d/f. The page's
    // data is recorded layer by layer from the union as it stands after each: /d/f at layer 2 is
    // the new file (a directory remembered from layer 1 would give the old one).
    const layers = [
      { tar: tar().dir('d/').file('d/f', 'one').file('d/g', 'g') },
      { tar: tar().file('d/f', 'two') },
      { tar: tar().file('.wh.d').dir('d/').file('d/f', 'three!') },
    ];
    const archive = tmp.file('redo.tar', dockerArchive([{ image: image({ layers }), repoTags: ['redo:1'] }]).toTar());
    const r = await run(['report', archive, '-o', '-']);
    expect(r.code, r.stderr).toBe(0);
    const t = pageData(r.stdout).timeline;
    expect(at(t, '/d/f', 1)).toBe('modified file 3');
    expect(at(t, '/d/f', 2)).toBe('added file 6');
    expect(at(t, '/d/g', 2)).toBe('absent');
  });

  it("shows a name that is not UTF-8 as layerlens shows names, \\xNN, in the page's data", async () => {
    // A raw byte (0xff) in one name, and in another a text that looks like its JSON escape; and
    // an image without either, whose data is the plain JSON (the page's data took a replacer
    // for every string before; now only where a raw byte is there to show).
    const raw = tar().file(Buffer.concat([Buffer.from('app/caf'), Buffer.from([0xff])]), 'x').file('app/\\udcff', 'y');
    const archive = tmp.file('raw.tar', dockerArchive([{ image: image({ layers: [{ tar: raw }] }), repoTags: ['raw:1'] }]).toTar());
    const r = await run(['report', archive, '-o', '-']);
    expect(r.code, r.stderr).toBe(0);
    const names = pageData(r.stdout).timeline.names;
    expect(names).toContain('caf\\xff');
    expect(names).toContain('\\udcff');
    expect(names.some((n) => /[\ud800-\udfff]/.test(n))).toBe(false);
    const plain = await run(['report', TINY, '-o', '-']);
    expect(plain.code, plain.stderr).toBe(0);
    expect(pageData(plain.stdout).timeline.names).toContain('app');
  });

  it('shows the rules when given, and the diff against another image', async () => {
    const rules = tmp.file('rules.yml', Buffer.from('rules:\n  maxLayerCount: 3\n  noRootUser: true\n'));
    const r = await run(['report', TINY, '-o', '-', '--config', rules, '--diff', 'samples/app-oci:v1']);
    expect(r.code, r.stderr).toBe(0);
    const data = pageData(r.stdout) as { verdict: { pass: boolean; rules: Array<{ rule: string; status: string }> }; diff: { files: { added: unknown[] } } };
    expect(data.verdict.pass).toBe(false);
    expect(data.verdict.rules.map((x) => `${x.rule}:${x.status}`)).toEqual(['maxLayerCount:fail', 'noRootUser:pass']);
    expect(data.diff.files.added.length).toBeGreaterThan(0);
    expect(r.stdout).toContain('<section id="rules">');
    expect(r.stdout).toContain('<section id="diff"><h2>Diff against samples/app-oci:v1</h2>');
  });

  it('needs -o, and says so in one line', async () => {
    const r = await run(['report', TINY]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("layerlens: error: required option '-o, --output <file>' not specified (run with --help for usage)\n");
  });
});
