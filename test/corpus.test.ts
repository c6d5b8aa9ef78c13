// Conformance with third-party oracles: every good image of the corpus (../shared/corpus/out,
// listed in INDEX.tsv) is opened, and what `inspect`, `history` and `layers` say is compared with
// what skopeo, umoci and sha256sum/tar said about the same bytes (the goldens beside each image).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson, run, type RunResult } from './helpers/cli.js';
import {
  goldenDir,
  layersTsvPath,
  readCorpusIndex,
  readJson,
  readLayersTsv,
  sha256File,
  type ConfigDoc,
  type IndexDoc,
  type IndexRow,
  type LayerGolden,
  type ManifestDoc,
  type SkopeoInspect,
  type UmociStat,
} from './helpers/corpus.js';
import { HAS_SHARED, corpus } from './helpers/shared.js';

interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** One image to check: how to pick it, and what the oracles said about it. */
interface ImageCase {
  title: string;
  row: IndexRow;
  /** Arguments after the command that pick the image. */
  pick: string[];
  /** skopeo inspect (for an index: skopeo inspect --override-arch of this platform). */
  skopeo: SkopeoInspect;
  /** The manifest as stored (for docker-archives: the one skopeo made up). */
  manifest: ManifestDoc;
  manifestBytes: number;
  config: ConfigDoc;
  /** The real manifest digest; undefined for docker-archives, which have no manifest. */
  manifestDigest?: string;
  /** The digest skopeo invents for a docker-archive, which layerlens must not report. */
  syntheticDigest?: string;
  /** The platform the index gives the manifest. */
  indexPlatform?: Platform;
  /** umoci stat of the same image (a layout ref with the same manifest or config). */
  stat?: UmociStat;
  /** sha256sum/wc/tar of each layer: by manifest for layouts, by diff_id for docker-archives. */
  layerGoldens: LayerGolden[];
}

interface InspectOut {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: string;
  Author: string;
  Config: (Record<string, unknown> & { Labels?: Record<string, string>; Env?: string[] }) | null;
  Architecture: string;
  Variant?: string;
  Os: string;
  Size: number;
  RootFS: { Type: string; Layers: string[] };
  Descriptor?: { mediaType: string; digest: string; size: number; platform?: Platform };
}

interface HistoryOut {
  created: string | null;
  createdBy: string;
  comment: string;
  emptyLayer: boolean;
  layerIndex: number | null;
  size: number;
}

interface LayerOut {
  index: number;
  digest: string | null;
  diffId: string | null;
  mediaType: string;
  compression: string | null;
  compressedSize: number;
  size: number | null;
  entries: number | null;
  createdBy: string | null;
  verified: boolean;
}

interface ImageRowOut {
  repository: string;
  tag: string;
  id: string;
  manifestDigest: string | null;
  platform: string;
  layers: number;
}

const rows: IndexRow[] = HAS_SHARED ? readCorpusIndex() : [];
const abs = (row: IndexRow) => corpus(row.path);
const isIndexRow = (row: IndexRow) => /image\.index|manifest\.list/.test(row.mediaType ?? '');
const platformText = (p: Platform) => [p.os, p.architecture, p.variant].filter(Boolean).join('/');

/** The umoci stat of a layout ref whose manifest (or, failing that, config) is this one. */
function findStat(manifestDigest: string | undefined, configDigest: string): UmociStat | undefined {
  for (const r of rows) {
    if (r.format !== 'oci' || isIndexRow(r)) continue;
    const dir = goldenDir(r);
    const statFile = path.join(dir, 'umoci-stat.json');
    if (!fs.existsSync(statFile)) continue;
    const raw = readJson<ManifestDoc>(path.join(dir, 'skopeo-inspect-raw.json'));
    if (r.digest === manifestDigest || (!manifestDigest && raw.config.digest === configDigest)) return readJson<UmociStat>(statFile);
  }
  return undefined;
}

function manifestCase(row: IndexRow, dir: string, pick: string[], extra: Partial<ImageCase> = {}): ImageCase {
  const rawFile = path.join(dir, 'skopeo-inspect-raw.json');
  const manifest = readJson<ManifestDoc>(rawFile);
  const config = readJson<ConfigDoc>(path.join(dir, 'skopeo-inspect-config.json'));
  const skopeo = extra.skopeo ?? readJson<SkopeoInspect>(path.join(dir, 'skopeo-inspect.json'));
  const docker = row.format.startsWith('docker-archive');
  const manifestDigest = docker ? undefined : (extra.manifestDigest ?? row.digest);
  const allLayers = readLayersTsv(layersTsvPath(row));
  const layerGoldens = docker
    ? config.rootfs.diff_ids.map((d) => allLayers.find((l) => l.diffId === d)!)
    : allLayers.filter((l, i) => l.manifest === manifestDigest && allLayers.findIndex((o) => o.manifest === l.manifest && o.index === l.index) === i).sort((a, b) => a.index - b.index);
  return {
    title: `${row.path} ${row.refs.join(',')}`,
    row,
    pick,
    skopeo,
    manifest,
    manifestBytes: fs.statSync(rawFile).size,
    config,
    manifestDigest,
    syntheticDigest: docker ? skopeo.Digest : undefined,
    stat: findStat(manifestDigest, manifest.config.digest),
    layerGoldens,
    ...extra,
  };
}

function casesOf(row: IndexRow): ImageCase[] {
  const dir = goldenDir(row);
  const file = abs(row);
  if (!isIndexRow(row)) return [manifestCase(row, dir, [`${file}:${row.refs[0]}`])];
  // An index: one case per platform it lists, each checked against the goldens of the layout ref
  // that names the same manifest, and against skopeo inspect --override-arch of the index.
  const index = readJson<IndexDoc>(path.join(dir, 'index.json'));
  return index.manifests.map((m) => {
    const platform = m.platform!;
    const twin = rows.find((r) => r.digest === m.digest && !isIndexRow(r));
    if (!twin) throw new Error(`no goldens for ${m.digest} (${platformText(platform)}) of ${row.path}`);
    const skopeo = readJson<SkopeoInspect>(path.join(dir, `skopeo-inspect-${platform.architecture}.json`));
    return {
      ...manifestCase(twin, goldenDir(twin), [`${file}:${row.refs[0]}`, '--platform', platformText(platform)], {
        skopeo,
        manifestDigest: m.digest,
        indexPlatform: platform,
      }),
      title: `${row.path} ${row.refs[0]} --platform ${platformText(platform)}`,
      row,
    };
  });
}

function expectOk(r: RunResult): void {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  expect(r.stderr).not.toMatch(/error|internal/);
}

const HOST_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };
const compressionOf = (mediaType: string) => (/\+gzip$|\.gzip$/.test(mediaType) ? 'gzip' : /\+zstd$/.test(mediaType) ? 'zstd' : 'none');

describe.skipIf(!HAS_SHARED)('the corpus (third-party images and goldens)', () => {
  it('lists good images of every format', () => {
    const formats = new Set(rows.map((r) => r.format));
    for (const f of ['docker-archive', 'oci', 'oci-archive'] as const) expect(formats).toContain(f);
    expect(rows.length).toBeGreaterThanOrEqual(20);
  });

  const cases = rows.flatMap(casesOf);

  describe.each(cases.map((c) => [c.title, c] as const))('%s', (_title, c) => {
    it('the goldens agree with each other', () => {
      // Guards against reading the wrong golden folder.
      if (c.manifestDigest) {
        expect(c.skopeo.Digest).toBe(c.row.digest);
        expect(c.layerGoldens.length).toBe(c.manifest.layers.length);
      } else {
        expect(c.manifest.config.digest).toBe(c.row.digest);
      }
      expect(c.config.rootfs.diff_ids.length).toBe(c.manifest.layers.length);
    });

    it('inspect: ID, manifest, platform, dates, config and diff_ids', { timeout: 15_000 }, async () => {
      const r = await run(['inspect', ...c.pick]);
      expectOk(r);
      const [out] = parseJson<InspectOut[]>(r);
      expect(out!.Id).toBe(c.manifest.config.digest);
      if (c.manifestDigest) {
        expect(out!.Descriptor?.digest).toBe(c.manifestDigest);
        expect(out!.Descriptor?.size).toBe(c.manifestBytes);
        expect(out!.Descriptor?.mediaType).toBe(c.manifest.mediaType ?? 'application/vnd.oci.image.manifest.v1+json');
        if (c.indexPlatform) expect(out!.Descriptor?.platform).toEqual(c.indexPlatform);
        expect(out!.RepoTags).toEqual([]); // bare OCI ref names are not docker tags
      } else {
        // A docker-archive has no manifest: no manifest digest, and never the one skopeo invents.
        expect(out!.Descriptor).toBeUndefined();
        expect(out!.RepoDigests).toEqual([]);
        expect(r.stdout).not.toContain(c.syntheticDigest!.slice('sha256:'.length));
        expect([...out!.RepoTags].sort()).toEqual([...c.row.refs].sort());
      }
      expect(out!.Architecture).toBe(c.skopeo.Architecture);
      expect(out!.Os).toBe(c.skopeo.Os);
      expect(out!.Variant).toBe(c.skopeo.Variant);
      expect(out!.Created).toBe(c.config.created);
      expect(Date.parse(out!.Created)).toBe(Date.parse(c.skopeo.Created));
      expect(out!.Author).toBe(c.config.author ?? '');
      expect(out!.Config).toEqual(c.config.config ?? null);
      expect(out!.Config?.Labels ?? null).toEqual(c.skopeo.Labels);
      expect(out!.Config?.Env ?? null).toEqual(c.skopeo.Env);
      expect(out!.RootFS).toEqual({ Type: 'layers', Layers: c.config.rootfs.diff_ids });
      expect(out!.Size).toBe(c.manifest.layers.reduce((a, l) => a + l.size, 0));
    });

    it('layers: digests, sizes, diff_ids and entries match sha256sum and tar', { timeout: 20_000 }, async () => {
      const r = await run(['layers', '--format', 'json', ...c.pick]);
      expectOk(r);
      const out = parseJson<LayerOut[]>(r);
      expect(out.map((l) => l.digest)).toEqual(c.manifest.layers.map((l) => l.digest));
      expect(out.map((l) => l.compressedSize)).toEqual(c.manifest.layers.map((l) => l.size));
      expect(out.map((l) => l.diffId)).toEqual(c.config.rootfs.diff_ids);
      if (c.manifestDigest) expect(out.map((l) => l.digest)).toEqual(c.skopeo.Layers);
      else expect(out.map((l) => l.diffId)).toEqual(c.skopeo.Layers); // skopeo lists diff_ids for a docker-archive
      out.forEach((l, i) => {
        const g = c.layerGoldens[i]!;
        expect(g, `layers.tsv row for layer ${i}`).toBeDefined();
        expect(l.diffId).toBe(g.diffId);
        expect(l.size).toBe(g.uncompressedSize);
        expect(l.entries).toBe(g.entries);
        expect(l.verified).toBe(true);
        if (c.manifestDigest) {
          expect(l.digest).toBe(g.digest);
          expect(l.compressedSize).toBe(g.size);
          expect(l.mediaType).toBe(g.mediaType);
          expect(l.compression).toBe(compressionOf(g.mediaType));
        } else {
          // skopeo writes docker-archive layers uncompressed, named by diff_id.
          expect(l.digest).toBe(g.diffId);
          expect(l.compressedSize).toBe(g.uncompressedSize);
          expect(l.compression).toBe('none');
        }
      });
      const made = (c.config.history ?? []).filter((h) => !h.empty_layer);
      expect(out.map((l) => l.createdBy)).toEqual(made.map((h) => h.created_by ?? null));
    });

    it('history: every entry, and the layer each one made, as umoci stat says', { timeout: 20_000 }, async () => {
      const [h, l] = await Promise.all([run(['history', '--format', 'json', ...c.pick]), run(['layers', '--format', 'json', ...c.pick])]);
      expectOk(h);
      const out = parseJson<HistoryOut[]>(h);
      const layers = parseJson<LayerOut[]>(l);
      const history = c.config.history ?? [];
      expect(out).toEqual(
        history.map((e) => expect.objectContaining({ created: e.created ?? null, createdBy: e.created_by ?? '', comment: e.comment ?? '', emptyLayer: e.empty_layer === true })),
      );
      let next = 0;
      out.forEach((rec) => {
        if (rec.emptyLayer) {
          expect(rec.layerIndex).toBeNull();
          expect(rec.size).toBe(0);
        } else {
          expect(rec.layerIndex).toBe(next);
          expect(rec.size).toBe(c.manifest.layers[next]!.size);
          next++;
        }
      });
      expect(next).toBe(c.manifest.layers.length);
      if (!c.stat) {
        expect(c.row.format).not.toBe('oci'); // every layout ref has a umoci stat
        return;
      }
      expect(c.stat.history.length).toBe(out.length);
      c.stat.history.forEach((s, i) => {
        const rec = out[i]!;
        expect(rec.created).toBe(s.created ?? null);
        expect(rec.createdBy).toBe(s.created_by ?? '');
        expect(rec.comment).toBe(s.comment ?? '');
        expect(rec.emptyLayer).toBe(s.empty_layer === true);
        if (s.layer === null) {
          expect(rec.layerIndex).toBeNull();
          return;
        }
        const layer = layers[rec.layerIndex!]!;
        expect(layer.diffId).toBe(s.diff_id);
        if (c.manifestDigest) {
          // umoci stat of the same manifest: the same blobs.
          expect(layer.digest).toBe(s.layer.digest);
          expect(rec.size).toBe(s.layer.size);
          expect(layer.mediaType).toBe(s.layer.mediaType);
        }
      });
    });
  });

  // Per file: `images` finds exactly the images INDEX.tsv lists, under the names it lists.
  const files = [...new Set(rows.map((r) => r.path))];
  describe.each(files)('images %s', (file) => {
    const fileRows = rows.filter((r) => r.path === file);
    const fileCases = cases.filter((c) => c.row.path === file);

    it('lists each image once per name, with its ID and manifest digest', { timeout: 15_000 }, async () => {
      const r = await run(['images', '--format', 'json', corpus(file)]);
      expectOk(r);
      const out = parseJson<ImageRowOut[]>(r);
      const expected = new Set(fileCases.map((c) => c.manifestDigest ?? c.manifest.config.digest));
      expect(new Set(out.map((o) => o.manifestDigest ?? o.id))).toEqual(expected);
      for (const c of fileCases) {
        const want = c.manifestDigest ?? c.manifest.config.digest;
        for (const name of c.row.refs) {
          const tag = name.slice(name.lastIndexOf(':') + 1);
          const repository = name.includes(':') ? name.slice(0, name.lastIndexOf(':')) : '<none>';
          const hits = out.filter((o) => o.tag === tag && o.repository === repository && (o.manifestDigest ?? o.id) === want);
          expect(hits, `${name} → ${want}`).toHaveLength(1);
          expect(hits[0]!.id).toBe(c.manifest.config.digest);
          expect(hits[0]!.layers).toBe(c.manifest.layers.length);
          // The index's platform where the file lists the manifest in one, else the config's.
          const listed = fileCases.find((o) => o.manifestDigest === c.manifestDigest && o.indexPlatform)?.indexPlatform;
          expect(hits[0]!.platform).toBe(platformText(listed ?? { os: c.skopeo.Os, architecture: c.skopeo.Architecture, variant: c.skopeo.Variant }));
        }
        if (c.syntheticDigest) expect(r.stdout).not.toContain(c.syntheticDigest.slice('sha256:'.length));
      }
      expect(out.every((o) => (fileRows[0]!.format.startsWith('docker-archive') ? o.manifestDigest === null : o.manifestDigest !== null))).toBe(true);
    });

    const distinct = new Set(fileCases.map((c) => c.manifest.config.digest));
    const platforms = new Set(fileCases.map((c) => platformText(c.indexPlatform ?? { os: c.skopeo.Os, architecture: c.skopeo.Architecture })));
    if (distinct.size > 1 && platforms.size === 1) {
      it('without a REF, refuses to guess and lists the choices', { timeout: 15_000 }, async () => {
        const r = await run(['inspect', corpus(file)]);
        expect(r.code).toBe(2);
        expect(r.stdout).toBe('');
        expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
        expect(r.stderr).toContain(`layerlens: error: ${corpus(file)}: holds ${distinct.size} images; choose one with FILE:REF or --image REF`);
        for (const row of fileRows) expect(r.stderr).toContain(row.refs[0]);
      });
    }
  });

  describe.each(rows.filter(isIndexRow).map((r) => [`${r.path} ${r.refs[0]}`, r] as const))('the index %s', (_t, row) => {
    const platformCases = cases.filter((c) => c.row === row);

    it('is found by its digest too, then narrowed by --platform', { timeout: 15_000 }, async () => {
      for (const c of platformCases) {
        const r = await run(['inspect', corpus(row.path), '--image', row.digest, '--platform', platformText(c.indexPlatform!)]);
        expectOk(r);
        expect(parseJson<InspectOut[]>(r)[0]!.Descriptor?.digest).toBe(c.manifestDigest);
      }
    });

    it('names the platforms it has when asked for one it has not', async () => {
      const r = await run(['inspect', `${corpus(row.path)}:${row.refs[0]}`, '--platform', 'linux/s390x']);
      expect(r.code).toBe(2);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain('no image for platform linux/s390x');
      for (const c of platformCases) expect(r.stderr).toContain(platformText(c.indexPlatform!));
    });

    it('picks a platform by itself when none is asked for, and says so', async () => {
      const r = await run(['inspect', `${corpus(row.path)}:${row.refs[0]}`]);
      const hostHas = platformCases.some((c) => c.indexPlatform!.os === 'linux' && c.indexPlatform!.architecture === HOST_ARCH[process.arch]);
      if (!hostHas) return;
      expectOk(r);
      expect(r.stderr).toMatch(/^layerlens: note: picked linux\/\S+, this host's platform, from .* \(choose with --platform\)\n$/);
    });
  });

  it('the manifests in the goldens hash to the digests INDEX.tsv gives', () => {
    for (const row of rows.filter((r) => r.format === 'oci')) {
      expect(sha256File(path.join(goldenDir(row), 'skopeo-inspect-raw.json'))).toBe(row.digest);
    }
  });
});
