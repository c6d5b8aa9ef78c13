import { describe, expect, it } from 'vitest';
import { run } from './helpers/cli.js';

describe('the command line', () => {
  it('exits 2 with one line on stderr for a file that does not exist', async () => {
    const r = await run(['images', 'no/such/file.tar']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('layerlens: error: no/such/file.tar: no such file or directory\n');
  });

  it('exits 2 on an unknown command', async () => {
    const r = await run(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command/);
  });
});
