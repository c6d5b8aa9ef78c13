// The command line keeps the main thread's young generation small, worker threads or not.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const HEAP = fileURLToPath(new URL('../dist/cli/heap.js', import.meta.url));

/** new_space's size in MiB after a worker has started and many objects have survived. */
function youngGenerationAfterLoad(keepSmall: boolean): number {
  const script = `
    import v8 from 'node:v8';
    import { Worker } from 'node:worker_threads';
    const { keepYoungGenerationSmall } = await import(${JSON.stringify(HEAP)});
    if (${keepSmall}) keepYoungGenerationSmall();
    const w = new Worker('setTimeout(() => {}, 5000)', { eval: true });
    await new Promise((resolve) => w.once('online', resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const kept = [];
    for (let i = 0; i < 1500000; i++) kept.push({ i, name: 'n' + i });
    const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    console.log(space.space_size / 1048576);
    await w.terminate();
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return Number(r.stdout.trim());
}

describe('keepYoungGenerationSmall', () => {
  it('holds the young generation at its starting size after a worker thread starts', () => {
    // Without it V8 grows the space under this load (the measure below means something).
    expect(youngGenerationAfterLoad(false)).toBeGreaterThan(8);
    expect(youngGenerationAfterLoad(true)).toBeLessThanOrEqual(4);
  });
});
