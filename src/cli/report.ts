// `layerlens report FILE -o report.html`: everything about one image in one self-contained HTML
// page, read in one pass over the layers (the union, its per-layer changes, the waste figures and
// the file timeline are all gathered as the layers stream by). With rules (as `ci` takes them),
// the page shows their verdicts; with `--diff OTHER`, what changed from OTHER to this image.
import type { Command } from 'commander';
import { imageHistory } from '../analysis/summary.js';
import { TimelineRecorder } from '../analysis/timeline.js';
import type { CiConfig } from '../ci/config.js';
import { imageFacts } from '../ci/facts.js';
import type { Verdict } from '../ci/rules.js';
import { LayerlensError } from '../image/errors.js';
import { alignHistory } from '../image/history.js';
import type { Image } from '../image/model.js';
import { formatPlatform } from '../image/platform.js';
import { diffJson } from '../report/diff.js';
import { renderHtml, type DiffDoc, type HtmlReport } from '../report/html.js';
import { humanSize } from '../report/units.js';
import { addRuleFlags, ciConfigFromFlags, evaluateWithBaseline, readsWrittenPaths, wasteIgnoreLists, type CiFlags } from './ci.js';
import { addImageFlags, openOne, warn, type CommonFlags, type Io } from './common.js';
import { diffImagePair } from './diff.js';
import { writeReportFile } from './files.js';
import { limitsFromFlags } from './limits.js';
import { unionAt } from './union.js';
import { wasteHook } from './waste-hook.js';
import { readFileSync } from 'node:fs';

interface ReportFlags extends CiFlags {
  output?: string;
  diff?: string;
  rules?: boolean;
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Whether the user gave rules (flags, or a .layerlens.yml / .dive-ci here): only then are there verdicts to show. */
function rulesGiven(flags: ReportFlags): boolean {
  if (flags.rules === false) return false;
  if (flags.config || flags.ciConfig || flags.lowestEfficiency || flags.highestWastedBytes || flags.highestUserWastedPercent || flags.baseline) return true;
  return ['.layerlens.yml', '.layerlens.yaml', '.dive-ci'].some((f) => {
    try {
      readFileSync(f);
      return true;
    } catch {
      return false;
    }
  });
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export async function buildReport(image: Image, flags: ReportFlags, io: Io, config: CiConfig | undefined, file: string): Promise<HtmlReport> {
  const metrics = config?.metrics ?? 'layerlens';
  const hook = wasteHook(metrics, config ? wasteIgnoreLists(config) ?? [] : []);
  const recorder = new TimelineRecorder();
  const keepWritten = config !== undefined && readsWrittenPaths(config);
  const built = await unionAt(image, image.layers.length - 1, flags.verify !== false, io, () => true, limitsFromFlags(flags), {
    observers: hook.observers,
    onLayer: (_scan, changes, union) => recorder.record(union, changes),
    // Recorded, the change records go, unless a rule reads every path a layer wrote.
    releaseChanges: !keepWritten,
  });
  const waste = hook.report(built, 200);
  let verdict: Verdict | null = null;
  if (config) {
    const facts = imageFacts(image, built, hook.numbers(built));
    verdict = await evaluateWithBaseline(facts, config, flags, io);
  }
  let diff: HtmlReport['diff'] = null;
  if (flags.diff !== undefined) {
    const other = await openOne(flags.diff, { ...flags, image: undefined }, io);
    try {
      const d = await diffImagePair(other.image, image, { verify: flags.verify !== false, limits: limitsFromFlags(flags) });
      for (const w of d.warnings) warn(io, w.startsWith('not verified') ? `warning: ${w}` : `note: ${w}`);
      diff = { other: flags.diff, doc: diffJson({ a: flags.diff, b: file, diff: d.diff, limit: 0, warnings: [] }) as DiffDoc };
    } finally {
      await other.file.close();
    }
  }
  const c = image.config.config ?? {};
  const labels: Record<string, string> = {};
  if (c.Labels && typeof c.Labels === 'object') for (const [k, v] of Object.entries(c.Labels as Record<string, unknown>)) labels[k] = String(v ?? '');
  const aligned = alignHistory(image.config.history, image.layers.length);
  const history = imageHistory(image);
  return {
    file,
    image: {
      names: [...image.repoTags, ...image.refNames.filter((n) => !image.repoTags.includes(n))],
      id: image.id,
      manifestDigest: image.manifest?.descriptor.digest ?? null,
      platform: formatPlatform(image.platform),
      format: `${image.format} (${image.container})`,
      created: image.config.created ?? null,
      author: image.config.author ?? null,
      user: typeof c.User === 'string' ? c.User : '',
      workingDir: typeof c.WorkingDir === 'string' ? c.WorkingDir : '',
      entrypoint: c.Entrypoint ?? null,
      cmd: c.Cmd ?? null,
      env: stringList(c.Env),
      labels,
      exposedPorts: c.ExposedPorts && typeof c.ExposedPorts === 'object' ? Object.keys(c.ExposedPorts).sort() : [],
      storedSize: built.scans.reduce((s, x) => s + x.compressedSize, 0),
      size: built.scans.reduce((s, x) => s + x.size, 0),
    },
    layers: image.layers.map((l, i) => {
      const scan = built.scans[i];
      const h = aligned.layerEntry[i];
      return {
        index: i,
        digest: scan?.digest ?? l.digest ?? null,
        diffId: scan?.diffId ?? l.diffId ?? null,
        mediaType: l.mediaType,
        compression: scan?.compression ?? null,
        storedSize: scan?.compressedSize ?? Math.max(0, l.size),
        size: scan?.size ?? 0,
        entries: scan?.entries ?? null,
        createdBy: h === null || h === undefined ? null : image.config.history[h]?.createdBy ?? null,
      };
    }),
    history: history.records,
    waste,
    verdict,
    diff,
    timeline: recorder.view(),
    generator: `layerlens ${version()}`,
    generated: new Date(io.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    warnings: [...image.warnings, ...(history.mismatch ? [history.mismatch] : []), ...built.changeSets.flatMap((s) => s.warnings.map((w) => `layer ${s.layer}: ${w}`))],
  };
}

export function registerReport(program: Command, io: Io): void {
  const cmd = program
    .command('report')
    .description('write one self-contained HTML page about the image: identity, layers, history, waste, the file tree at any layer, rule verdicts, a diff')
    .argument('<FILE[:REF]>', 'the image file, optionally with the image to pick')
    .requiredOption('-o, --output <file>', 'the HTML file to write (- for stdout); an existing file is replaced')
    .option('--diff <FILE[:REF]>', 'also show what changed from this image to FILE')
    .option('--no-rules', "don't look for .layerlens.yml or .dive-ci here");
  addImageFlags(addRuleFlags(cmd)).action(async (arg: string, flags: ReportFlags & CommonFlags) => {
    const out = flags.output!;
    const config = rulesGiven(flags) ? ciConfigFromFlags(flags) : undefined;
    if (!config && flags.baseline) throw new LayerlensError('usage', '--baseline needs rules to check (--config, --ci-config)');
    const { file, image } = await openOne(arg, flags, io);
    let html: string;
    try {
      html = renderHtml(await buildReport(image, flags, io, config, file.file));
    } finally {
      await file.close();
    }
    if (out === '-') {
      io.stdout.write(html);
      return;
    }
    writeReportFile(out, html);
    warn(io, `wrote ${out}: ${humanSize(Buffer.byteLength(html))}`);
  });
}
