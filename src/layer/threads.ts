// Finding the scripts of this package's worker threads.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The script of a worker thread: `file` beside the module at `from` once built; when that module
 * runs from source (the tests run the TypeScript), the built copy under dist/.
 */
export function workerScript(from: string, file: string, dir: string): URL {
  const beside = new URL(`./${file}`, from);
  if (fs.existsSync(fileURLToPath(beside))) return beside;
  const built = new URL(`../../dist/${dir}/${file}`, from);
  if (fs.existsSync(fileURLToPath(built))) return built;
  throw new Error(`the worker script ${dir}/${file} is missing: run \`npm run build\``);
}
