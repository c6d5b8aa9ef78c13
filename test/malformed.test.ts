// Broken inputs (../shared/corpus/out/malformed, listed in CASES.tsv with the verdicts of skopeo
// and umoci): each must end with exit status 2 and one line on stderr naming the file, the member
// and what is wrong — never a stack trace, never a hang. The fault is looked for with the command
// that first meets it: opening the file, or reading layer data (layers, analyze).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson, run, type RunResult } from './helpers/cli.js';
import { goldenDir, readCorpusIndex, readJson, readMalformedCases, type IndexDoc, type MalformedCase, type ManifestDoc } from './helpers/corpus.js';
import { HAS_SHARED, corpus } from './helpers/shared.js';

const cases: MalformedCase[] = HAS_SHARED ? readMalformedCases() : [];
const file = (c: MalformedCase) => corpus('malformed', c.file);

/** The `expected X, got Y` digests of an oracle's digest-mismatch message. */
function mismatch(oracle: string): { expected: string; got: string } {
  const m = /expected (sha256:[0-9a-f]{64}),? (?:got|not) (sha256:[0-9a-f]{64})/.exec(oracle);
  if (!m) throw new Error(`no digest mismatch in ${JSON.stringify(oracle)}`);
  return { expected: m[1]!, got: m[2]! };
}
/** The blob an oracle could not find. */
function missingBlob(oracle: string): string {
  const m = /blob (sha256:[0-9a-f]{64})/.exec(oracle);
  if (!m) throw new Error(`no missing blob in ${JSON.stringify(oracle)}`);
  return m[1]!;
}
/** The first layer of a layout's only manifest, read from the layout itself. */
function firstLayerOf(layout: string): string {
  const index = readJson<IndexDoc>(path.join(layout, 'index.json'));
  const digest = index.manifests[0]!.digest;
  return readJson<ManifestDoc>(path.join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length))).layers[0]!.digest;
}
const blob = (digest: string) => `blobs/sha256/${digest.slice('sha256:'.length)}`;

/** Exit 2, nothing on stdout, and exactly one clean line on stderr that starts with the file. */
function expectOneLineError(r: RunResult, c: MalformedCase): string {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]!.startsWith(`layerlens: error: ${file(c)}: `), lines[0]).toBe(true);
  return lines[0]!;
}

interface Broken {
  kind: 'broken';
  /** Where the fault shows: when the file is opened, or only when layer data is read. */
  shows: 'open' | 'layer data';
  /** What the line must say (besides the file), given the case's oracle verdicts. */
  says: (c: MalformedCase) => Array<string | RegExp>;
}
interface Valid {
  kind: 'readable';
  check: (c: MalformedCase) => Promise<void>;
}

/** Every case in CASES.tsv must have an entry here; a new case fails until it is classified. */
const EXPECTED: Record<string, Broken | Valid> = {
  'truncated.docker-archive.tar': {
    kind: 'broken',
    shows: 'open',
    says: () => [/: [0-9a-f]{64}\.tar: archive is truncated: it ends inside this member \(\d+ of its bytes are missing\)$/],
  },
  'truncated.oci-archive.tar': {
    kind: 'broken',
    shows: 'open',
    says: () => [/: blobs\/sha256\/[0-9a-f]{64}: archive is truncated: it ends inside this member \(\d+ of its bytes are missing\)$/],
  },
  'layer-digest-mismatch.oci': {
    kind: 'broken',
    shows: 'layer data',
    says: (c) => {
      const { expected, got } = mismatch(c.skopeo);
      expect(mismatch(c.umoci)).toEqual({ expected, got }); // the two oracles agree
      return [`: ${blob(expected)}: `, 'layer 1 blob digest mismatch', `expected ${expected}`, `got ${got}`];
    },
  },
  'diffid-mismatch.docker-archive.tar': {
    kind: 'broken',
    shows: 'layer data',
    says: (c) => {
      const { expected, got } = mismatch(c.skopeo);
      // The member is named by the diff_id it no longer has.
      return [`: ${expected.slice('sha256:'.length)}.tar: `, 'layer 1', `expected ${expected}`, `got ${got}`];
    },
  },
  'missing-layer-blob.oci': {
    kind: 'broken',
    shows: 'open',
    says: (c) => {
      const digest = missingBlob(c.skopeo);
      expect(c.what).toContain(digest.slice('sha256:'.length));
      return [`: ${blob(digest)}: `, `layer 2 blob ${digest} is missing`];
    },
  },
  'missing-config-blob.oci': {
    kind: 'broken',
    shows: 'open',
    says: (c) => {
      const digest = missingBlob(c.skopeo);
      return [`: ${blob(digest)}: `, `config blob ${digest} is missing`];
    },
  },
  'corrupt-gzip.oci': {
    kind: 'broken',
    shows: 'layer data',
    says: (c) => {
      expect(c.skopeo).toContain('gzip: invalid checksum');
      return [`: ${blob(firstLayerOf(file(c)))}: `, /gzip stream is corrupt/];
    },
  },
  'not-a-tar.docker-archive.tar': {
    kind: 'broken',
    shows: 'open',
    says: () => ['not a container image: neither a tar archive nor a gzip- or zstd-compressed one'],
  },
  'bad-index-json.oci': {
    kind: 'broken',
    shows: 'open',
    says: () => [/: index\.json: .*not valid JSON \(Unexpected end of JSON input\)/],
  },
  'path-traversal.oci': { kind: 'readable', check: (c) => readsHostileLayers(c) },
  'path-traversal.docker-archive.tar': { kind: 'readable', check: (c) => readsHostileLayers(c) },
  'missing-oci-layout-file.oci': {
    kind: 'readable',
    check: async (c) => {
      // Readable, with a warning; the image is the corpus's `empty` image (same manifest).
      const warning = `layerlens: warning: ${file(c)}: no oci-layout file; reading index.json anyway\n`;
      for (const command of ['images', 'layers', 'analyze']) {
        const r = await run([command, '--format', 'json', file(c)]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toBe(warning);
      }
      const manifest = readJson<IndexDoc>(path.join(file(c), 'index.json')).manifests[0]!.digest;
      const twin = readCorpusIndex().find((row) => row.digest === manifest && row.format === 'oci')!;
      const raw = readJson<ManifestDoc>(path.join(goldenDir(twin), 'skopeo-inspect-raw.json'));
      const r = await run(['inspect', file(c)]);
      const [out] = parseJson<Array<{ Id: string; Descriptor: { digest: string } }>>(r);
      expect(out!.Id).toBe(raw.config.digest);
      expect(out!.Descriptor.digest).toBe(manifest);
    },
  },
};

/** Valid digests, hostile paths: every command reads them; tar -tvv says how many entries. */
async function readsHostileLayers(c: MalformedCase): Promise<void> {
  for (const command of ['images', 'inspect', 'history', 'analyze']) {
    const r = await run([command, '--format', 'json', file(c)]);
    expect(r.code, `${command}: ${r.stderr}`).toBe(0);
    expect(r.stderr).toBe('');
  }
  const listing = fs.readFileSync(corpus('malformed', 'path-traversal.goldens', 'layers-tar-tvv.txt'), 'utf8');
  const perLayer = listing
    .split(/^## .*\n/m)
    .slice(1)
    .map((section) => section.split('\n').filter((l) => l !== '' && !l.startsWith('tar: ')).length);
  const r = await run(['layers', '--format', 'json', file(c)]);
  expect(r.code, r.stderr).toBe(0);
  const layers = parseJson<Array<{ entries: number; verified: boolean }>>(r);
  expect(layers.map((l) => l.entries)).toEqual(perLayer);
  expect(layers.every((l) => l.verified)).toBe(true);
}

describe.skipIf(!HAS_SHARED)('malformed inputs (corpus/out/malformed)', () => {
  it('every case in CASES.tsv is classified here', () => {
    expect(cases.length).toBeGreaterThanOrEqual(12);
    expect(cases.map((c) => c.file).sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const c of cases) {
    const e = EXPECTED[c.file];
    if (!e) continue;
    describe(c.file, () => {
      if (e.kind === 'readable') {
        it('is valid and is read (exit 0)', { timeout: 20_000 }, () => e.check(c));
        return;
      }
      if (e.shows === 'open') {
        for (const command of ['images', 'inspect', 'layers']) {
          it(`${command} exits 2 with one line naming the file, the member and the fault`, { timeout: 10_000 }, async () => {
            const line = expectOneLineError(await run([command, file(c)]), c);
            for (const s of e.says(c)) {
              if (typeof s === 'string') expect(line).toContain(s);
              else expect(line).toMatch(s);
            }
          });
        }
      } else {
        it('opens: the fault is in layer data only', { timeout: 10_000 }, async () => {
          for (const command of ['images', 'inspect', 'history']) {
            const r = await run([command, file(c)]);
            expect(r.code, `${command}: ${r.stderr}`).toBe(0);
          }
        });
        for (const command of ['layers', 'analyze']) {
          it(`${command} exits 2 with one line naming the file, the member and the fault`, { timeout: 10_000 }, async () => {
            const line = expectOneLineError(await run([command, '--format', 'json', file(c)]), c);
            for (const s of e.says(c)) {
              if (typeof s === 'string') expect(line).toContain(s);
              else expect(line).toMatch(s);
            }
          });
        }
      }
    });
  }

  describe('--no-verify', () => {
    it('lets a layer whose bytes do not match its digest through, and says so', { timeout: 10_000 }, async () => {
      const c = cases.find((x) => x.file === 'layer-digest-mismatch.oci')!;
      const { expected, got } = mismatch(c.skopeo);
      const r = await run(['layers', '--format', 'json', '--no-verify', file(c)]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`layerlens: warning: not verified: layer 1 blob digest mismatch: expected ${expected}, got ${got}`);
      expect(r.stderr).toContain('layer 1 diff_id mismatch');
      const layers = parseJson<Array<{ digest: string; verified: boolean }>>(r);
      expect(layers[1]).toMatchObject({ digest: got, verified: false });
      expect(layers.filter((l) => l.verified)).toHaveLength(layers.length - 1);
    });

    it('cannot read through a corrupt gzip stream, and still fails cleanly', { timeout: 10_000 }, async () => {
      const c = cases.find((x) => x.file === 'corrupt-gzip.oci')!;
      const r = await run(['layers', '--no-verify', file(c)]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^layerlens: warning: --no-verify: .*\nlayerlens: error: .*gzip stream is corrupt.*\n$/);
    });
  });
});
