// The waste figures the CI rules check, from the waste analysis (analysis/waste.ts, and
// analysis/dive.ts for dive's figures), watched during the one union build. Each distinct ignore
// list gets its own watchers, so that a rule's figures leave out exactly the paths it ignores.
import { DiveTally } from '../analysis/dive.js';
import { wasteReport, type WasteResult } from '../analysis/waste.js';
import type { Metrics } from '../ci/config.js';
import type { WasteNumbers } from '../ci/rules.js';
import type { UnionResult } from '../fs/build.js';
import type { LayerEntry } from '../fs/entry.js';
import { pathMatcher } from '../fs/glob.js';
import { WasteLedger } from '../fs/ledger.js';
import type { BuildObserver } from '../fs/observe.js';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX, joinPath, splitPath } from '../fs/path.js';

export interface WasteHook {
  observers: BuildObserver[];
  /** After the build: the figures for each ignore list asked for, and the full waste report (no ignore list). */
  numbers(built: UnionResult): (ignore: string[]) => WasteNumbers;
  report(built: UnionResult, top?: number): WasteResult;
}

/** The path an entry is about: its own, or for a whiteout the path it removes. */
function entryTarget(e: LayerEntry): string {
  const comps = splitPath(e.path);
  const base = comps[comps.length - 1];
  if (base === OPAQUE_WHITEOUT) comps.pop();
  else if (base !== undefined && base.startsWith(WHITEOUT_PREFIX)) comps[comps.length - 1] = base.slice(WHITEOUT_PREFIX.length);
  return joinPath(comps);
}

/** A dive tally that does not see the entries at ignored paths (as if the image did not hold them). */
function filteredTally(skip: ((path: string) => boolean) | undefined): { tally: DiveTally; observer: BuildObserver } {
  const tally = new DiveTally();
  if (!skip) return { tally, observer: tally };
  return {
    tally,
    observer: {
      beginLayer: (l) => tally.beginLayer(l),
      entry: (e) => {
        if (!skip(entryTarget(e))) tally.entry(e);
      },
      endLayer: () => tally.endLayer(),
    },
  };
}

const key = (ignore: string[]) => JSON.stringify([...ignore].sort());

/**
 * Watchers for the figures of each ignore list (the empty one always): a waste ledger and a dive
 * tally each. `metrics` chooses which figures `numbers` gives.
 */
export function wasteHook(metrics: Metrics, ignoreLists: string[][] = []): WasteHook {
  const lists = new Map<string, { ignore: string[]; ledger: WasteLedger; tally: DiveTally }>();
  const observers: BuildObserver[] = [];
  for (const ignore of [[], ...ignoreLists]) {
    const k = key(ignore);
    if (lists.has(k)) continue;
    const skip = pathMatcher(ignore);
    const ledger = new WasteLedger({ exclude: skip });
    const { tally, observer } = filteredTally(skip);
    lists.set(k, { ignore, ledger, tally });
    observers.push(ledger, observer);
  }
  const full = (built: UnionResult, ignore: string[], top: number): WasteResult => {
    const l = lists.get(key(ignore));
    if (!l) throw new Error(`waste figures for ignore list ${key(ignore)} were not gathered`);
    // dive's "user" bytes are those of every layer but the first: the same split here. dive's
    // inefficient files as far as `top` too: each is a path spelled out (100,000 on manyfiles).
    return wasteReport(l.ledger, built.union, l.tally.metrics(top), { top, baseLayers: 1, exclude: pathMatcher(ignore) });
  };
  return {
    observers,
    report: (built, top = 0) => full(built, [], top),
    numbers: (built) => {
      const cache = new Map<string, WasteNumbers>();
      return (ignore) => {
        const k = key(ignore);
        let n = cache.get(k);
        if (n) return n;
        const r = full(built, ignore, 20);
        if (metrics === 'dive') {
          n = { efficiency: r.dive.efficiency, wastedBytes: r.dive.wastedBytes, userWastedPercent: r.dive.userWastedPercent, topPaths: r.dive.inefficientFiles.slice(0, 20).map((f) => ({ path: f.path, bytes: f.wastedBytes })) };
        } else {
          n = { efficiency: r.efficiency, wastedBytes: r.wastedBytes, userWastedPercent: r.user.wastedPercent, topPaths: r.paths.map((p) => ({ path: p.path, bytes: p.wastedBytes })) };
        }
        cache.set(k, n);
        return n;
      };
    },
  };
}
