// The union filesystem against `umoci unpack`: for every corpus image with a rootfs golden
// (`goldens/oci/<ref>/rootfs.tsv`, written by list-rootfs.sh over umoci's unpacked rootfs),
// `tree --flat --format json` must list exactly the same paths with the same type, mode, owner,
// size, sha256, link target (or device numbers) and hard-link group. The same image read from
// its docker-archive or oci-archive must give the very same listing, and `tree --layer N` of
// tiny:latest must equal the golden of the image that ends with layer N.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FlatRecord } from '../src/fs/flat.js';
import { parseJson, run } from './helpers/cli.js';
import { goldenDir, readCorpusIndex, readJson, type IndexDoc, type IndexRow, type ManifestDoc } from './helpers/corpus.js';
import { HAS_SHARED, corpus } from './helpers/shared.js';
import { readRootfsTsv, rootfsLine } from './helpers/union.js';

interface GoldenCase {
  title: string;
  /** Arguments that pick the image. */
  pick: string[];
  golden: string;
}

interface TwinCase extends GoldenCase {
  /** The OCI layout form of the same image. */
  layout: string[];
}

function blob(layoutDir: string, digest: string): string {
  return corpus(layoutDir, 'blobs', ...digest.split(':'));
}

function rootfsGolden(row: IndexRow): string | undefined {
  try {
    const f = path.join(goldenDir(row), 'rootfs.tsv');
    return fs.existsSync(f) ? f : undefined;
  } catch {
    return undefined;
  }
}

function cases(): { layouts: GoldenCase[]; twins: TwinCase[] } {
  if (!HAS_SHARED) return { layouts: [], twins: [] };
  const rows = readCorpusIndex();
  const ociRows = rows.filter((r) => r.format === 'oci');
  const layouts: GoldenCase[] = [];
  const goldenOf = new Map<IndexRow, string>();
  for (const row of ociRows) {
    const golden = rootfsGolden(row);
    if (!golden) continue;
    goldenOf.set(row, golden);
    layouts.push({ title: `${row.path}:${row.refs[0]}`, pick: [`${corpus(row.path)}:${row.refs[0]}`], golden });
  }
  const traversal = corpus('malformed', 'path-traversal.goldens', 'umoci-rootfs.tsv');
  layouts.push({ title: 'malformed/path-traversal.oci', pick: [corpus('malformed', 'path-traversal.oci')], golden: traversal });

  // The OCI layout ref holding a manifest, and the one whose manifest names a config.
  const byManifest = (digest: string) => ociRows.find((r) => r.digest === digest && goldenOf.has(r));
  const byConfig = (config: string) =>
    ociRows.find((r) => goldenOf.has(r) && r.mediaType?.includes('manifest') && readJson<ManifestDoc>(blob(r.path, r.digest)).config.digest === config);
  const layoutPick = (r: IndexRow) => [`${corpus(r.path)}:${r.refs[0]}`];

  const twins: TwinCase[] = [];
  for (const row of rows) {
    if (row.format === 'oci') continue;
    const pick = [row.ofFile > 1 || row.format === 'oci-archive' ? `${corpus(row.path)}:${row.refs[0]}` : corpus(row.path)];
    const title = `${row.path} (${row.format}) ${row.refs[0]}`;
    if (row.format === 'oci-archive' && row.mediaType?.includes('index')) {
      // An index: each platform's image against the layout ref of the same manifest.
      const indexRow = ociRows.find((r) => r.digest === row.digest)!;
      for (const m of readJson<IndexDoc>(blob(indexRow.path, indexRow.digest)).manifests) {
        const twin = byManifest(m.digest);
        if (!twin || !m.platform) continue;
        const platform = [m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join('/');
        twins.push({ title: `${title} ${platform}`, pick: [...pick, '--platform', platform], golden: goldenOf.get(twin)!, layout: layoutPick(twin) });
      }
      continue;
    }
    const twin = row.format === 'oci-archive' ? byManifest(row.digest) : byConfig(row.digest);
    if (!twin) throw new Error(`no OCI layout with a rootfs golden holds the image of ${title}`);
    twins.push({ title, pick, golden: goldenOf.get(twin)!, layout: layoutPick(twin) });
  }
  twins.push({
    title: 'malformed/path-traversal.docker-archive.tar',
    pick: [corpus('malformed', 'path-traversal.docker-archive.tar')],
    golden: traversal,
    layout: [corpus('malformed', 'path-traversal.oci')],
  });
  return { layouts, twins };
}

const { layouts, twins } = cases();

/** `tree --flat --format json` of an image, once per distinct argument list. */
const listings = new Map<string, Promise<FlatRecord[]>>();
function flatListing(pick: string[], extra: string[] = []): Promise<FlatRecord[]> {
  const args = ['tree', ...pick, '--flat', '--format', 'json', ...extra];
  const key = JSON.stringify(args);
  let p = listings.get(key);
  if (!p) {
    p = run(args).then((r) => {
      if (r.code !== 0) throw new Error(`layerlens ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      return parseJson<FlatRecord[]>(r);
    });
    listings.set(key, p);
  }
  return p;
}

describe.skipIf(!HAS_SHARED)('union filesystem = umoci unpack (corpus rootfs goldens)', () => {
  it('finds every rootfs golden the corpus has', () => {
    // tiny layer1..5 + latest, app v1 + v2, multiarch amd64 + arm64, compression gzip/zstd/uncompressed, empty, path-traversal
    expect(layouts.map((c) => c.title).sort()).toEqual(
      [
        'app/oci:v1',
        'app/oci:v2',
        'compression/gzip:latest',
        'compression/uncompressed:latest',
        'compression/zstd:latest',
        'empty/oci:latest',
        'malformed/path-traversal.oci',
        'multiarch/oci:amd64',
        'multiarch/oci:arm64',
        'tiny/oci:latest',
        'tiny/oci:layer1',
        'tiny/oci:layer2',
        'tiny/oci:layer3',
        'tiny/oci:layer4',
        'tiny/oci:layer5',
      ].sort(),
    );
    // every docker-archive and oci-archive of INDEX.tsv (multiarch's index once per platform), and path-traversal's
    expect(twins.length).toBe(14);
  });

  it.each(layouts)('$title: tree --flat lists exactly what umoci unpacked', async (c) => {
    const records = await flatListing(c.pick);
    expect(records.map(rootfsLine)).toEqual(readRootfsTsv(c.golden));
  });

  it.each(twins)('$title: the same listing as its OCI layout, and as umoci', async (c) => {
    const [records, layout] = await Promise.all([flatListing(c.pick), flatListing(c.layout)]);
    expect(records.map(rootfsLine)).toEqual(readRootfsTsv(c.golden));
    expect(records).toEqual(layout);
  });

  describe('tree --layer N of tiny:latest is the image after layer N', () => {
    const layer = [0, 1, 2, 3, 4, -1];
    it.each(layer)('--layer %i', async (n) => {
      const golden = corpus('tiny', 'goldens', 'oci', n === -1 ? 'latest' : `layer${n + 1}`, 'rootfs.tsv');
      for (const pick of [[`${corpus('tiny', 'oci')}:latest`], [corpus('tiny', 'tiny.docker-archive.tar')]]) {
        const records = await flatListing(pick, ['--layer', String(n)]);
        expect(records.map(rootfsLine), pick[0]).toEqual(readRootfsTsv(golden));
      }
    });
  });

  it('hard links: tiny lists its 3-name inode and the link to a layer-1 file as groups, typed as hard links', async () => {
    const records = await flatListing([`${corpus('tiny', 'oci')}:latest`]);
    const links = records.filter((r) => r.path.startsWith('/usr/share/corpus/hardlinks/'));
    expect(links.map((r) => [r.path, r.type, r.linkTarget, r.links, r.hardlinkGroup])).toEqual([
      ['/usr/share/corpus/hardlinks/a', 'file', null, 3, '/usr/share/corpus/hardlinks/a'],
      ['/usr/share/corpus/hardlinks/b', 'hardlink', '/usr/share/corpus/hardlinks/a', 3, '/usr/share/corpus/hardlinks/a'],
      ['/usr/share/corpus/hardlinks/base-link.txt', 'file', null, 2, '/usr/share/corpus/hardlinks/base-link.txt'],
      ['/usr/share/corpus/hardlinks/base.txt', 'hardlink', '/usr/share/corpus/hardlinks/base-link.txt', 2, '/usr/share/corpus/hardlinks/base-link.txt'],
      ['/usr/share/corpus/hardlinks/c', 'hardlink', '/usr/share/corpus/hardlinks/a', 3, '/usr/share/corpus/hardlinks/a'],
    ]);
  });
});
