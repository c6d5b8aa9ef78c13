// Shared by the commands that look inside the filesystem: choosing a layer, and building the
// union up to it with the layer scans' notes and warnings sent to stderr.
import { LayerlensError } from '../image/errors.js';
import type { Limits } from '../image/limits.js';
import type { Image } from '../image/model.js';
import { buildUnion, type BuildOptions, type UnionResult } from '../fs/build.js';
import { warn, type Io } from './common.js';
import { progressFor } from './progress.js';

/** `--layer N`: 0-based like the `#` column of `layers`; negative counts from the top (-1 = last). */
export function parseLayer(value: string | undefined, image: Image): number {
  const count = image.layers.length;
  if (value === undefined) return count - 1;
  const n = Number(value);
  if (!Number.isInteger(n) || n >= count || n < -count) {
    throw new LayerlensError('usage', `--layer ${value} is out of range: the image has ${count} layer${count === 1 ? '' : 's'} (0 to ${count - 1}, or -1 for the last)`);
  }
  return n < 0 ? count + n : n;
}

export async function unionAt(
  image: Image,
  upTo: number,
  verify: boolean,
  io: Io,
  keepChanges?: (layer: number) => boolean,
  limits?: Partial<Limits>,
  extra: Pick<BuildOptions, 'observers' | 'onLayer' | 'defer' | 'hashFiles' | 'releaseChanges'> = {},
): Promise<UnionResult> {
  const progress = progressFor(io, image.layers.slice(0, upTo + 1));
  let result: UnionResult;
  try {
    result = await buildUnion(image.layers, { verify, file: image.file, upTo, keepChanges, limits, onProgress: progress && ((l, b) => progress.layer(l, b)), ...extra });
  } finally {
    progress?.done();
  }
  for (const s of result.scans) {
    for (const n of s.notes) warn(io, `note: ${n}`);
    for (const u of s.unverified) warn(io, `warning: not verified: ${u}`);
  }
  return result;
}
