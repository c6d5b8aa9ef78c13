// Differential, property-based: random layer stacks (stacks.ts) are written as real OCI image
// layouts and layerlens's union (`tree --flat --format json`) is compared, path by path, with
//  1. the reference model (reference-union.ts, 'pinned'): always, and exactly;
//  2. `umoci unpack` of the same layout, listed as the corpus goldens are (list-rootfs.sh):
//     against the reference model's 'umoci' flavour, which differs from the pinned rules in the
//     two places where umoci 0.4.7 and the project part ways (see the model's header and README
//     "Looking inside"); where the two flavours agree, that is layerlens == umoci directly. Where
//     the model says umoci refuses the layers (an entry under a file, a hard link to nothing, to
//     a directory or to itself: layerlens reads on with a warning), umoci must refuse them.
// Without umoci (or not as root) the test says so and checks against the reference model only.
//
// `npm test` runs a few dozen stacks from a fixed seed; LAYERLENS_PROPERTY_RUNS=2000 (and
// LAYERLENS_PROPERTY_SEED=<n> or =random) explores further. A counterexample prints its
// shrunk stack; fixed bugs are kept in union-regressions.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { FlatRecord } from '../src/fs/flat.js';
import { tempDir } from './helpers/builders.js';
import { run } from './helpers/cli.js';
import { ReferenceError, referenceUnion } from './helpers/reference-union.js';
import { showStack, stackArb, writeStackLayout, type StackLayer } from './helpers/stacks.js';
import { UMOCI_MISSING, UMOCI_VERSION, listRootfs, umociUnpack } from './helpers/umoci.js';
import { rootfsLine } from './helpers/union.js';

const RUNS = Number(process.env.LAYERLENS_PROPERTY_RUNS ?? 40);
const SEED_ENV = process.env.LAYERLENS_PROPERTY_SEED;
const SEED = SEED_ENV === 'random' ? undefined : Number(SEED_ENV ?? 20261127);

const tmp = tempDir();
afterAll(() => tmp.cleanup());

if (UMOCI_MISSING) console.warn(`[layerlens tests] ${UMOCI_MISSING}: the union property test runs against the reference model only.`);

type Outcome = { lines: string[] } | { error: string };

async function layerlens(layout: string): Promise<Outcome> {
  const r = await run(['tree', `${layout}:latest`, '--flat', '--format', 'json']);
  if (r.code !== 0) return { error: r.stderr.trim() };
  return { lines: (JSON.parse(r.stdout) as FlatRecord[]).map(rootfsLine) };
}

function reference(stack: StackLayer[], flavour: 'pinned' | 'umoci'): (Outcome & { umociRefuses?: string[] }) {
  try {
    return referenceUnion(stack.map((l) => l.entries), flavour);
  } catch (e) {
    if (e instanceof ReferenceError) return { error: e.message };
    throw e;
  }
}

const stats = { runs: 0, umociCompared: 0, umociRefused: 0, flavoursDiffer: 0, loops: 0 };
const refusals = new Map<string, number>();
let caseNo = 0;

describe('the union = the reference model = umoci unpack, on random layer stacks', () => {
  it(`${RUNS} random stacks${UMOCI_MISSING ? ' (reference model only: ' + UMOCI_MISSING + ')' : ` (${UMOCI_VERSION})`}`, async () => {
    await fc.assert(
      fc.asyncProperty(stackArb, async (stack) => {
        stats.runs++;
        const dir = path.join(tmp.dir, `case-${caseNo++}`);
        try {
          const layout = writeStackLayout(stack, path.join(dir, 'layout'));
          const ours = await layerlens(layout);
          const pinned = reference(stack, 'pinned');
          if ('error' in pinned) {
            // A symlink loop in a parent: a limit error naming it, exit 2.
            stats.loops++;
            expect('error' in ours ? ours.error : ours.lines).toMatch(/^layerlens: error: .*too many levels of symbolic links/);
            if (!UMOCI_MISSING) expect(umociUnpack(layout, 'latest', path.join(dir, 'bundle')).ok, 'umoci should fail on the loop').toBe(false);
            return;
          }
          if ('error' in ours) throw new Error(`layerlens failed where the model did not: ${ours.error}`);
          expect(ours.lines).toEqual(pinned.lines);
          if (UMOCI_MISSING) return;

          const theirs = umociUnpack(layout, 'latest', path.join(dir, 'bundle'));
          const quirks = reference(stack, 'umoci') as { lines: string[]; umociRefuses: string[] };
          if (quirks.umociRefuses.length > 0) {
            stats.umociRefused++;
            const why = quirks.umociRefuses[0]!.replace(/^.*?: /, '');
            refusals.set(why, (refusals.get(why) ?? 0) + 1);
            expect(theirs.ok, `umoci should refuse: ${quirks.umociRefuses.join('; ')}`).toBe(false);
            return;
          }
          if (!theirs.ok) throw new Error(`umoci refused a stack the model says it unpacks: ${theirs.error}`);
          stats.umociCompared++;
          const listed = listRootfs(theirs.rootfs);
          expect(listed).toEqual(quirks.lines);
          if (quirks.lines.join('\n') === pinned.lines.join('\n')) expect(ours.lines).toEqual(listed);
          else stats.flavoursDiffer++;
        } catch (e) {
          // Say which stack, in a form to paste into a regression test.
          (e as Error).message += `\nstack: ${showStack(stack)}`;
          if (process.env.LAYERLENS_PROPERTY_LOG) fs.appendFileSync(process.env.LAYERLENS_PROPERTY_LOG, `${(e as Error).message}\n\n`);
          throw e;
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: !!process.env.CI },
    );
    console.log(
      `[layerlens tests] union property: ${stats.runs} stacks; ${stats.umociCompared} compared with umoci (${stats.flavoursDiffer} where umoci keeps lower metadata), ` +
        `${stats.umociRefused} refused by umoci as predicted (${[...refusals].map(([k, n]) => `${n} ${k}`).join(', ')}), ${stats.loops} symlink loops`,
    );
  }, Math.max(120_000, RUNS * 500));
});
