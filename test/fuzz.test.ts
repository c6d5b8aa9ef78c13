// The short, deterministic run of the mutation fuzzer (fuzz/lib.js; the long run is
// `npm run fuzz`): the images in samples/ broken in seeded random ways, and every kind of hostile
// layer entry the fuzzer knows put into a real image with all its digests made to agree again.
// Every case must end in a result or one `layerlens: error:` line with exit status 2, in
// bounded time, writing nothing but what it was asked to.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript, shared with fuzz/run.js
import { HOSTILE_KINDS, findInputs, hostileCase, loadInput, makeArgs, makeCase, materialize, seedOf, strayFiles, verdict } from '../fuzz/lib.js';
import { tempDir } from './helpers/builders.js';
import { run, type RunResult } from './helpers/cli.js';

const SAMPLES = fileURLToPath(new URL('../samples', import.meta.url));
const CASES = Number(process.env.LAYERLENS_FUZZ_CASES ?? 150);
const SEED = Number(process.env.LAYERLENS_FUZZ_SEED ?? 1127);
const TIME_LIMIT = 20_000;
const COMMANDS = ['images', 'inspect', 'history', 'layers', 'analyze', 'tree', 'changes', 'cat', 'export'];

const tmp = tempDir();
afterAll(() => tmp.cleanup());

interface Case {
  model: { form: string };
  mutations: string[];
  r: unknown;
}

async function runCase(c: Case, dir: string, refs: string[], label: string, args?: string[]): Promise<void> {
  const target = materialize(c, dir) as string;
  const out = path.join(dir, 'out.tar');
  const argv: string[] = args ? args.map((a) => a.replace('TARGET', target).replace('OUT', out)) : makeArgs(c, target, out, COMMANDS, refs);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), TIME_LIMIT)));
  const started = Date.now();
  const r = await Promise.race([run(argv), timeout]);
  clearTimeout(timer);
  const result = r === 'timeout' ? { code: undefined, stderr: '', timedOut: true } : (r as RunResult);
  let problem = verdict({ ...result, ms: Date.now() - started }, { timeLimitMs: TIME_LIMIT, command: argv[0] }) as string | undefined;
  const stray = strayFiles(dir, ['layout', 'image.tar', 'outside-secret', ...(result.code === 0 ? ['out.tar'] : [])]) as string[];
  if (!problem && stray.length) problem = `wrote ${stray.join(', ')}`;
  expect(problem, `${label}: layerlens ${argv.join(' ')}\nmutations: ${c.mutations.join(' ')}\n${result.stderr}`).toBeUndefined();
  fs.rmSync(dir, { recursive: true, force: true });
}

describe('mutation fuzzing, short run', () => {
  it(`${CASES} seeded cases over samples/ (seed ${SEED})`, async () => {
    const inputs = (findInputs([SAMPLES]) as string[]).map((p) => ({ path: p, model: loadInput(p) }));
    expect(inputs.length).toBeGreaterThanOrEqual(4);
    const refsOf = new Map<string, string[]>();
    for (const { path: p } of inputs) {
      const rows = JSON.parse((await run(['images', p, '--format', 'json'])).stdout) as Array<{ repository: string; tag: string }>;
      refsOf.set(p, [...new Set(rows.map((x) => (x.repository !== '<none>' ? `${x.repository}:${x.tag}` : x.tag)))]);
    }
    for (let i = 0; i < CASES; i++) {
      const seed = seedOf(SEED, i) as number;
      const input = inputs[seed % inputs.length]!;
      await runCase(makeCase(input.model, seed), path.join(tmp.dir, `case-${i}`), refsOf.get(input.path)!, `case ${i} (${input.path}, seed ${seed})`);
    }
  }, 120_000);

  describe('every kind of hostile layer entry, with digests that agree', () => {
    const model = loadInput(path.join(SAMPLES, 'tiny.docker-archive.tar'));
    it.each(HOSTILE_KINDS as string[])('%s', async (kind) => {
      for (const [n, args] of [
        ['tree', ['tree', 'TARGET', '--flat', '--format', 'json']],
        ['export', ['export', 'TARGET', 'OUT']],
        ['cat', ['cat', 'TARGET', '/out/x']],
      ] as const) {
        await runCase(hostileCase(model, kind, 1), path.join(tmp.dir, `hostile-${kind}-${n}`), [], kind, [...args]);
      }
    });
  });
});
