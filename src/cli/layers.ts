import type { Command } from 'commander';
import { layerRecords } from '../analysis/summary.js';
import type { Limits } from '../image/limits.js';
import type { Image } from '../image/model.js';
import { verifyLayers } from '../fs/layer-feed.js';
import type { LayerScan } from '../layer/scan.js';
import { renderLayers } from '../report/layers.js';
import { addImageFlags, addOutputFlags, openOne, renderOptions, warn, type CommonFlags, type Io } from './common.js';
import { limitsFromFlags } from './limits.js';
import { progressFor } from './progress.js';

/** Read and verify every layer, reporting what was let through under --no-verify. */
export async function scanAll(image: Image, verify: boolean, io: Io, limits?: Partial<Limits>): Promise<LayerScan[]> {
  const progress = progressFor(io, image.layers);
  let scans: LayerScan[];
  try {
    scans = await verifyLayers(image.layers, { verify, file: image.file, limits, onProgress: progress && ((l, b) => progress.layer(l, b)) });
  } finally {
    progress?.done();
  }
  for (const s of scans) {
    for (const n of s.notes) warn(io, `note: ${n}`);
    for (const u of s.unverified) warn(io, `warning: not verified: ${u}`);
  }
  return scans;
}

export function registerLayers(program: Command, io: Io): void {
  const cmd = program
    .command('layers')
    .description('one row per layer: digest, diff_id, compression, stored and uncompressed size, entries (reads and verifies every layer)')
    .argument('<FILE[:REF]>', 'the image file, optionally with the image to pick');
  addImageFlags(addOutputFlags(cmd)).action(async (arg: string, flags: CommonFlags) => {
    const o = renderOptions(flags, io);
    const { file, image } = await openOne(arg, flags, io);
    try {
      const scans = await scanAll(image, flags.verify !== false, io, limitsFromFlags(flags));
      io.stdout.write(renderLayers(layerRecords(image, scans), o));
    } finally {
      await file.close();
    }
  });
}
