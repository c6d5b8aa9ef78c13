// The third-party images in ../shared (fixtures and corpus). A user's clone does not have that
// folder: tests that need it are skipped there, with a message saying so. CI always has it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SHARED = path.resolve(here, '../../../shared');
export const CORPUS = path.join(SHARED, 'corpus', 'out');
export const FIXTURES = path.join(SHARED, 'fixtures');
export const HAS_SHARED = fs.existsSync(CORPUS) && fs.existsSync(FIXTURES);

if (!HAS_SHARED) {
  console.warn(`[layerlens tests] ${SHARED} is absent: tests on third-party images are skipped (CI has it).`);
}

export function corpus(...p: string[]): string {
  return path.join(CORPUS, ...p);
}

export function fixture(...p: string[]): string {
  return path.join(FIXTURES, ...p);
}
