// Every image-like file and folder in ../shared/fixtures (real test data of dive,
// go-containerregistry, snyk-docker-plugin, containers/image, stereoscope, container-diff and
// moby) either opens — `images` exits 0 and `layers` reads and verifies each image — or fails
// with exit status 2 and one clean `layerlens: error: ...` line. Each one is classified below
// after looking inside it by hand (tar tvf, jq, sha256sum); the entry counts per layer are what
// GNU tar lists (`tar -tf LAYER | wc -l`).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseJson, run, type RunResult } from './helpers/cli.js';
import { FIXTURES, HAS_SHARED, fixture } from './helpers/shared.js';

/** What `layers` must find in one image, or how it must fail. */
type LayersExpect =
  | { entries: number[]; compression: 'gzip' | 'zstd' | 'none' }
  /** Exit 2 with this error line, after this warning about the image when there is one. */
  | { fails: RegExp; warning?: RegExp };

interface ImageExpect {
  /** The rows `images` prints for it, as repository:tag. */
  names: string[];
  /** First 12 hex digits of the image ID (the config digest). */
  id: string;
  /** First 12 hex digits of the manifest digest; null where the file has no manifest for it. */
  manifest: string | null;
  platform: string;
  layers: LayersExpect;
}

type Outcome =
  | { opens: ImageExpect[]; warning?: RegExp }
  /** `images` (opening the file) exits 2 with this one line. */
  | { fails: RegExp };

const img = (names: string[], id: string, manifest: string | null, platform: string, layers: LayersExpect): ImageExpect => ({ names, id, manifest, platform, layers });
const entries = (compression: 'gzip' | 'zstd' | 'none', ...n: number[]): LayersExpect => ({ entries: n, compression });

const NOT_AN_IMAGE = /not a container image: no manifest\.json or index\.json; found /;
const NOT_A_TAR = /not a container image: neither a tar archive nor a gzip- or zstd-compressed one$/;
/** The placeholder layers of containers/image's layout fixtures ("insert binary content here #N"). */
const PLACEHOLDER_LAYER = /: blobs\/sha256\/[0-9a-f]{64}: not a tar archive: 3[34] bytes, too short for a tar header$/;
const AMD64 = 'linux/amd64';
const THREE_DIFF_IDS = /^layerlens: warning: manifest\.json lists 1 layer but the config has 3 diff_ids$/;

const FIXTURE_TABLE: Record<string, Outcome> = {
  // ── dive ───────────────────────────────────────────────────────────────────────────────────
  // A legacy `docker save`: 14 layers of copies, chmods, moves, deletes and hardlinks.
  'dive/.data/test-docker-image.tar': { opens: [img(['dive-test:latest'], '75ae28b8ebf8', null, AMD64, entries('none', 415, 1, 4, 3, 3, 3, 3, 4, 2, 2, 4, 2, 3, 2))] },
  // kaniko: gzip layers named `<hex>.tar.gz` in a docker-archive, config named `sha256:<hex>`,
  // absolute `/` entries inside the layers.
  'dive/.data/test-kaniko-image.tar': { opens: [img(['dive-test:kaniko-latest'], 'ae16a51058a7', null, AMD64, entries('gzip', 421, 2, 5, 4, 4, 4, 4, 5, 3, 3, 5, 3, 4, 3))] },
  'dive/.data/test-oci-estargz-image.tar': { opens: [img(['<none>:<none>'], '5c153971f5fe', '2e75eb783d1a', 'linux/arm64', entries('gzip', 1))] },
  'dive/.data/test-oci-gzip-image.tar': { opens: [img(['<none>:<none>'], '3eaccc100f86', '7d255e9e3d21', 'linux/arm64', entries('gzip', 1))] },
  'dive/.data/test-oci-uncompressed-image.tar': { opens: [img(['<none>:<none>'], '3eaccc100f86', '5cec6b4ce61c', 'linux/arm64', entries('none', 1))] },
  'dive/.data/test-oci-zstd-image.tar': { opens: [img(['<none>:<none>'], '3eaccc100f86', 'f5e3515f39a1', 'linux/arm64', entries('zstd', 1))] },
  // Broken: dive's repository keeps a tar of its README.md in place of these four images (they
  // are built when dive's tests run).
  'dive/.data/test-estargz-image.tar': { fails: /found README\.md$/ },
  'dive/.data/test-gzip-image.tar': { fails: /found README\.md$/ },
  'dive/.data/test-uncompressed-image.tar': { fails: /found README\.md$/ },
  'dive/.data/test-zstd-image.tar': { fails: /found README\.md$/ },

  // ── go-containerregistry ───────────────────────────────────────────────────────────────────
  'go-containerregistry/pkg/v1/mutate/testdata/overwritten_file.tar': { opens: [img(['bazel/pkg/v1/mutate:overwritten_file'], '68f6eb746cdb', null, AMD64, entries('none', 2, 3, 0))] },
  'go-containerregistry/pkg/v1/mutate/testdata/source_image.tar': { opens: [img(['bazel/pkg/v1/mutate:source_image'], '6e0b05049ed9', null, AMD64, entries('none', 3))] },
  'go-containerregistry/pkg/v1/mutate/testdata/whiteout_dir.tar': { opens: [img(['localhost:5000/whiteout:latest'], '92f1e3d53acd', null, AMD64, entries('gzip', 2, 2, 1, 2))] },
  'go-containerregistry/pkg/v1/mutate/testdata/whiteout_image.tar': { opens: [img(['bazel/pkg/v1/mutate:whiteout_image'], 'decb630649c3', null, AMD64, entries('none', 3, 2, 0))] },
  // Broken: the config was edited after the archive was written (it gained an empty_layer
  // history entry, 330 → 462 bytes) but kept its name, which is the old content's digest.
  'go-containerregistry/pkg/v1/mutate/testdata/source_image_with_empty_layer_history.tar': {
    fails: /: 6e0b05049ed9c17d02e1a55e80d6599dbfcce7f4f4b022e3c673e685789c470e\.json: config digest mismatch: expected sha256:6e0b0504\w+, got sha256:05b5ec12\w+$/,
  },
  // Docker 25 (`docker save` of an untagged image): OCI layout beside manifest.json, and
  // index.json says `"manifests": null`, so no manifest digest is known.
  'go-containerregistry/pkg/v1/tarball/testdata/hello-world-v25.tar': { opens: [img(['<none>:<none>'], 'ee301c921b8a', null, 'linux/arm64', entries('none', 1))] },
  // Two images; test_image_2's LayerSources describes its layer as a registry serves it
  // (gzip, 165 bytes) while the archive holds it uncompressed.
  'go-containerregistry/pkg/v1/tarball/testdata/test_bundle.tar': {
    opens: [img(['test_image_2:latest'], '930705ce23e3', null, AMD64, entries('none', 3)), img(['test_image_1:latest'], '6e0b05049ed9', null, AMD64, entries('none', 3))],
  },
  'go-containerregistry/pkg/v1/tarball/testdata/test_image_1.tar': { opens: [img(['bazel/v1/tarball:test_image_1'], '6e0b05049ed9', null, AMD64, entries('none', 3))] },
  'go-containerregistry/pkg/v1/tarball/testdata/test_image_2.tar': { opens: [img(['bazel/v1/tarball:test_image_2'], '930705ce23e3', null, AMD64, entries('none', 3))] },
  // `<id>/layer.tar` of test_image_3 is a symlink to test_image_1's layer member.
  'go-containerregistry/pkg/v1/tarball/testdata/test_link.tar': {
    opens: [img(['bazel/v1/tarball:test_image_1'], '6e0b05049ed9', null, AMD64, entries('none', 3)), img(['bazel/v1/tarball:test_image_3'], 'd4c9adacde69', null, AMD64, entries('none', 3, 1))],
  },
  'go-containerregistry/pkg/v1/tarball/testdata/test_load_manifest.tar': { opens: [img(['bazel/v1/tarball:test_image_1'], '6e0b05049ed9', null, AMD64, entries('none', 3))] },
  // Broken: a `docker save` from before Docker 1.10 (repositories and v1 layer folders only).
  'go-containerregistry/pkg/v1/tarball/testdata/no_manifest.tar': { fails: /no manifest\.json or index\.json \(a docker save from before Docker 1\.10 has no manifest\.json and is not supported\)/ },
  // Broken: manifest.json is the JSON value null.
  'go-containerregistry/pkg/v1/tarball/testdata/null_manifest.tar': { fails: /: manifest\.json: manifest\.json is null, expected an array of images$/ },
  // Not images: the files that crane and tarball append as a layer.
  'go-containerregistry/pkg/v1/tarball/testdata/content.tar': { fails: NOT_AN_IMAGE },
  'go-containerregistry/pkg/crane/testdata/content.tar': { fails: NOT_AN_IMAGE },
  'go-containerregistry/pkg/crane/testdata/content.tar.zst': { fails: NOT_AN_IMAGE },
  'go-containerregistry/pkg/v1/layout/testdata/test_index': { opens: [img(['<none>:1', '<none>:3', '<none>:4'], '6e0b05049ed9', 'eebff607b162', AMD64, entries('gzip', 3))] },
  'go-containerregistry/pkg/v1/layout/testdata/test_gc_index': { opens: [img(['<none>:1', '<none>:3', '<none>:4'], '6e0b05049ed9', 'eebff607b162', AMD64, entries('gzip', 3))] },
  'go-containerregistry/pkg/v1/layout/testdata/test_index_one_image': { opens: [img(['<none>:<none>'], '381d958b5558', '98ceaf93e482', AMD64, entries('gzip', 1))] },
  // Broken (not an image): the only descriptor has media type application/vnd.oci.descriptor.v1+json.
  'go-containerregistry/pkg/v1/layout/testdata/test_gc_image_unknown_mediatype': { fails: /holds no images; skipped sha256:32589985\w+: not an image manifest \(application\/vnd\.oci\.descriptor\.v1\+json\)$/ },
  // Broken (not an image): a Helm chart artifact.
  'go-containerregistry/pkg/v1/layout/testdata/test_index_media_type': { fails: /holds no images; skipped sha256:b544f71e\w+: not an image \(config media type application\/vnd\.cncf\.helm\.config\.v1\+json\)$/ },

  // ── snyk-docker-plugin ─────────────────────────────────────────────────────────────────────
  // containerd exports: docker manifest.json plus an OCI index of every platform, with the blobs
  // of one platform only (and, in one, an attestation manifest).
  'snyk-docker-plugin/test/fixtures/containerd-archives/alpine.tar': { opens: [img(['alpine:3.14'], '6dff1269bc79', 'c8844343d5cc', AMD64, entries('gzip', 511))] },
  'snyk-docker-plugin/test/fixtures/containerd-archives/busybox-single-arch-with-attestation-manifest.tar': { opens: [img(['foo/bar:v3'], '0f7981b59ce1', 'cf7d823e4eea', 'linux/arm64', entries('gzip', 442))] },
  'snyk-docker-plugin/test/fixtures/containerd-archives/busybox.armv7.tar': { opens: [img(['busybox:latest'], '74c89ecc3230', 'f0e13015e557', 'linux/arm/v7', entries('gzip', 440))] },
  // Docker 25 archive (OCI layout + manifest.json).
  'snyk-docker-plugin/test/fixtures/docker-oci-archives/busybox.armv7.tar': { opens: [img(['busybox:latest'], '74c89ecc3230', '7aabb59a4cd2', 'linux/arm/v7', entries('none', 440))] },
  'snyk-docker-plugin/test/fixtures/docker-archives/docker-save/3-level-jar.tar': { opens: [img(['agatakrajewskasnyk/3-level-jar:1.0'], '1dab67408b26', null, AMD64, entries('none', 4))] },
  'snyk-docker-plugin/test/fixtures/docker-archives/docker-save/gemfile.tar': { opens: [img(['<none>:<none>'], '62973e9ef107', null, AMD64, entries('gzip', 2))] },
  'snyk-docker-plugin/test/fixtures/docker-archives/docker-save/hello-world.tar': { opens: [img(['hello-world:latest'], 'd2c94e258dcb', '8876a860b8c4', AMD64, entries('none', 1))] },
  'snyk-docker-plugin/test/fixtures/docker-archives/docker-save/openjdk.tar': { opens: [img(['openjdk-test:latest'], 'e997a24cd463', null, AMD64, entries('none', 1))] },
  // Broken layer: cut down to a few files (config has 3 diff_ids, manifest.json lists 1 layer,
  // whose content no longer hashes to its diff_id); one also carries macOS .DS_Store files.
  'snyk-docker-plugin/test/fixtures/docker-archives/docker-save/nginx.tar': {
    opens: [img(['nginx:latest'], '5a3221f0137b', null, AMD64, { fails: /: ac415f8e\w+\/layer\.tar: layer 0 diff_id mismatch: config says sha256:1c95c774\w+, uncompressed content hashes to sha256:a68f44ab\w+$/, warning: THREE_DIFF_IDS })],
  },
  'snyk-docker-plugin/test/fixtures/docker-archives/docker-save/nginx-with-buildinfo.tar': {
    opens: [img(['nginx:latest'], '5a3221f0137b', null, AMD64, { fails: /: ac415f8e\w+\/layer\.tar: layer 0 diff_id mismatch: config says sha256:1c95c774\w+, uncompressed content hashes to sha256:0ea433ba\w+$/, warning: THREE_DIFF_IDS })],
  },
  // Broken layer: the member named for the layer's digest holds 613 bytes of something else.
  'snyk-docker-plugin/test/fixtures/docker-archives/skopeo-copy/centos-6.tar': {
    opens: [img(['<none>:<none>'], 'd0957ffdf8a2', null, AMD64, { fails: /: af6bf198\w+\.tar: layer 0 blob digest mismatch: expected sha256:af6bf198\w+, got sha256:f1348baf\w+$/ })],
  },
  // Broken layer: as above, cut down (92160 bytes).
  'snyk-docker-plugin/test/fixtures/docker-archives/skopeo-copy/nginx.tar': {
    opens: [img(['<none>:<none>'], 'ab56bba91343', null, AMD64, { fails: /: ce3539cc\w+\.tar: layer 0 blob digest mismatch: expected sha256:ce3539cc\w+, got sha256:598b423d\w+$/, warning: THREE_DIFF_IDS })],
  },
  // An OCI archive, despite its folder.
  'snyk-docker-plugin/test/fixtures/docker-archives/skopeo-copy/node-removed.tar': { opens: [img(['<none>:<none>'], '8f7fef2d670a', 'd870c2f683fa', AMD64, entries('gzip', 422, 1, 6))] },
  // Symlinked `<id>/layer.tar` members, no RepoTags.
  'snyk-docker-plugin/test/fixtures/docker-archives/skopeo-copy/nodes-fake-multi.tar': { opens: [img(['<none>:<none>'], 'c23a57443688', null, AMD64, entries('none', 23, 6))] },
  'snyk-docker-plugin/test/fixtures/kaniko-archives/kaniko-busybox.tar': { opens: [img(['kaniko-busybox:latest'], 'c5003bd0bae2', null, AMD64, entries('gzip', 2))] },
  'snyk-docker-plugin/test/fixtures/oci-archives/busybox-1.31.1.tar': { opens: [img(['<none>:<none>'], '2f2d4db2ef81', '320034a9c545', AMD64, entries('gzip', 420))] },
  // Broken layer: gzip blob cut from 2797541 to 6165 bytes (and .DS_Store files beside it).
  'snyk-docker-plugin/test/fixtures/oci-archives/alpine-3.12.0.tar': {
    opens: [img(['<none>:<none>'], '0f5f445df8cc', '41691e185131', AMD64, { fails: /: blobs\/sha256\/df20fa93\w+: layer 0 blob digest mismatch: expected sha256:df20fa93\w+, got sha256:bf2fa495\w+$/ })],
  },
  // Broken: the manifest blob was edited (812 bytes where the index says 971).
  'snyk-docker-plugin/test/fixtures/oci-archives/nginx.tar': { fails: /: blobs\/sha256\/e26d6150\w+: manifest blob digest mismatch: expected sha256:e26d6150\w+, got sha256:01799edb\w+$/ },
  // Broken: the OCI manifest lists 4 layers of which 3 are absent; manifest.json lists the one
  // present, whose blob was cut down (509 bytes).
  'snyk-docker-plugin/test/fixtures/oci-archives/oci-with-manifest.tar': {
    opens: [
      img(['<none>:<none>'], '2435e1e8b4b4', null, AMD64, {
        fails: /: blobs\/sha256\/23884877\w+: layer 0 blob digest mismatch: expected sha256:23884877\w+, got sha256:f45dd257\w+$/,
        warning: /^layerlens: warning: manifest\.json lists 1 layer but the config has 4 diff_ids$/,
      }),
    ],
  },
  // Not an image: two text files.
  'snyk-docker-plugin/test/fixtures/docker-oci-archives/unsupported-image.tar': { fails: /found notes\.txt, readme\.txt$/ },

  // ── containers/image ───────────────────────────────────────────────────────────────────────
  // One image whose only layer is an empty tar (1 entry: the root folder).
  'containers-image/docker/archive/fixtures/almostempty.tar': { opens: [img(['emptyimage:latest'], '9d7f147c0d0c', null, AMD64, entries('none', 1))] },
  // Layouts for testing deletion: real manifests and configs, placeholder layers (33 bytes of
  // text each), and the config of ref 1.0.0 is one byte shorter than its descriptor says.
  'containers-image/oci/layout/fixtures/delete_image_multiple_images': {
    opens: [
      img(['<none>:latest', '<none>:3.18.3', '<none>:3', '<none>:3.18'], '913cf3a39d37', '93cbd11a4f41', AMD64, { fails: PLACEHOLDER_LAYER }),
      img(['<none>:latest', '<none>:3.18.3'], 'aab808b283c3', 'f6d60fd529b2', 'linux/386', { fails: PLACEHOLDER_LAYER }),
      img(['<none>:3.17.5'], 'df11bc189ade', '5b2aba4d3c27', AMD64, { fails: PLACEHOLDER_LAYER }),
      img(['<none>:3.16.7'], 'f732172ad8d2', '39c524417bb4', AMD64, { fails: PLACEHOLDER_LAYER }),
      img(['<none>:3.16.7'], '7ffdfe7d2762', 'be6036f9b6a4', 'linux/386', { fails: PLACEHOLDER_LAYER }),
    ],
    warning: /cannot open 1\.0\.0: .*: blobs\/sha256\/913cf3a3\w+: config blob size mismatch: expected 585 bytes, found 584$/,
  },
  // Two different manifests under one ref name; placeholder layers.
  'containers-image/oci/layout/fixtures/delete_image_two_identical_references': {
    opens: [
      img(['<none>:1.0.0'], 'a527179158cd', '49d1584496c6', AMD64, { fails: PLACEHOLDER_LAYER }),
      img(['<none>:1.0.0'], 'ce229a4eb579', 'ecfa463536cb', AMD64, { fails: PLACEHOLDER_LAYER }),
    ],
  },
  // Broken: the config descriptor says 585 bytes, the blob has 740.
  'containers-image/oci/layout/fixtures/delete_image_only_one_image': { fails: /: blobs\/sha256\/a5271791\w+: config blob size mismatch: expected 585 bytes, found 740$/ },
  // Broken: its blobs are in shared_blobs/ (a containers/image option), blobs/ lacks the manifest.
  'containers-image/oci/layout/fixtures/delete_image_shared_blobs_dir': { fails: /: blobs\/sha256\/eaa95f3c\w+: manifest blob sha256:eaa95f3c\w+ is missing$/ },
  // Broken: index.json only, for name-lookup tests; no blobs at all.
  'containers-image/oci/layout/fixtures/manifest': { fails: /: manifest blob sha256:84afb618\w+ is missing$/ },
  'containers-image/oci/layout/fixtures/two_images_manifest': { fails: /: manifest blob sha256:e692418e\w+ is missing$/ },
  'containers-image/oci/layout/fixtures/name_lookups': { fails: /: index blob sha256:a{64} is missing$/ },
  // Not images: "Hello" compressed five ways.
  'containers-image/pkg/compression/fixtures/Hello.bz2': { fails: NOT_A_TAR },
  'containers-image/pkg/compression/fixtures/Hello.gz': { fails: /not a container image: it is gzip-compressed, but what it holds is not a tar archive$/ },
  'containers-image/pkg/compression/fixtures/Hello.uncompressed': { fails: NOT_A_TAR },
  'containers-image/pkg/compression/fixtures/Hello.xz': { fails: NOT_A_TAR },
  'containers-image/pkg/compression/fixtures/Hello.zst': { fails: /not a container image: it is zstd-compressed, but what it holds is not a tar archive$/ },

  // ── stereoscope ────────────────────────────────────────────────────────────────────────────
  'stereoscope/pkg/image/oci/testdata/valid-oci.tar': { opens: [img(['sample:latest'], '61ee19e869a5', 'c1ed04a3da94', AMD64, entries('gzip', 1))] },
  // One manifest under two ref names (one descriptor with a platform, one without).
  'stereoscope/pkg/image/oci/testdata/valid_oci_dir': { opens: [img(['<none>:latest', '<none>:1.0'], '61ee19e869a5', 'c1ed04a3da94', AMD64, entries('gzip', 1))] },
  'stereoscope/pkg/image/oci/testdata/multiplatform_oci_dir': {
    opens: [
      img(['multi-platform:latest'], '549248a7ac95', 'e7c26a4b4d15', AMD64, entries('gzip', 3)),
      img(['multi-platform:latest'], '3cd6022503ce', '5ed07065bcbc', 'linux/arm64', entries('gzip', 3)),
    ],
  },
  // Broken: index.json is an empty file.
  'stereoscope/pkg/image/oci/testdata/invalid_file': { fails: /: index\.json: .*not valid JSON \(it is empty\)$/ },
  // Broken: index.json holds an image manifest, not an index.
  'stereoscope/pkg/image/oci/testdata/no_manifests': { fails: /: index\.json: index has no "manifests" array$/ },
  // Broken: the manifest blob is an empty file (stereoscope's test reads index.json only).
  'stereoscope/pkg/image/oci/testdata/valid_manifest': { fails: /: blobs\/sha256\/f67dcc5f\w+: manifest blob digest mismatch: expected sha256:f67dcc5f\w+, got sha256:e3b0c442\w+$/ },

  // ── container-diff: single layer tars (whiteouts), not images ──────────────────────────────
  'container-diff/util/testTars/la-croix-dir-update.tar': { fails: NOT_AN_IMAGE },
  'container-diff/util/testTars/la-croix-update.tar': { fails: NOT_AN_IMAGE },
  'container-diff/util/testTars/la-croix-wh.tar': { fails: /found \.wh\.lime\.txt, \.wh\.nest, nest2$/ },
  'container-diff/util/testTars/la-croix1.tar': { fails: NOT_AN_IMAGE },
  'container-diff/util/testTars/la-croix2.tar': { fails: NOT_AN_IMAGE },
  'container-diff/util/testTars/la-croix3.tar': { fails: NOT_AN_IMAGE },
  'container-diff/util/testTars/la-croix3-actual/nested-dir.tar': { fails: NOT_AN_IMAGE },

  // ── moby: v1 layer folders (`json` + `layer.tar`), pieces of an image rather than one ─────
  'moby/daemon/builder/remotecontext/internal/tarsum/testdata/46af0962ab5afeb5ce6740d4d91652e69206fc991fd5328c1a94d364ad00e457': { fails: /found json, layer\.tar$/ },
  'moby/daemon/builder/remotecontext/internal/tarsum/testdata/46af0962ab5afeb5ce6740d4d91652e69206fc991fd5328c1a94d364ad00e457/layer.tar': { fails: /found dev, etc$/ },
  'moby/daemon/builder/remotecontext/internal/tarsum/testdata/511136ea3c5a64f264b78b5433614aec563103b4d4702f3ba7d4d2698e22c158': { fails: /found json, layer\.tar$/ },
  // An empty layer: two zero blocks.
  'moby/daemon/builder/remotecontext/internal/tarsum/testdata/511136ea3c5a64f264b78b5433614aec563103b4d4702f3ba7d4d2698e22c158/layer.tar': { fails: /found nothing$/ },
  'moby/daemon/builder/remotecontext/internal/tarsum/testdata/xattr': { fails: /found json, layer\.tar$/ },
  'moby/daemon/builder/remotecontext/internal/tarsum/testdata/xattr/layer.tar': { fails: /found file$/ },
};

/** Image-like things in the fixtures folder: archives and compressed files, and folders that
 * hold an image layout, a docker-archive or a v1 layer (not the folders inside those). */
function imageLike(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const dir = path.join(root, rel);
    const names = fs.readdirSync(dir);
    const isImageDir = rel !== '' && (['index.json', 'manifest.json', 'oci-layout'].some((n) => names.includes(n)) || (names.includes('json') && names.includes('layer.tar')));
    if (isImageDir) out.push(rel);
    for (const n of names) {
      const p = path.join(rel, n);
      const st = fs.statSync(path.join(root, p));
      if (st.isDirectory()) {
        if (!isImageDir || n !== 'blobs') walk(p);
      } else if (/\.(tar|tar\.gz|tgz|tar\.zst|zst|gz|bz2|xz|uncompressed)$/.test(n)) {
        out.push(p);
      }
    }
  };
  walk('');
  return out.sort();
}

function lines(r: RunResult): string[] {
  return r.stderr.split('\n').filter((l) => l !== '');
}

/** Exit 2, nothing on stdout, warnings at most, then one clean error line that names the file. */
function expectCleanFailure(r: RunResult, file: string): string {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
  const all = lines(r);
  const errors = all.filter((l) => l.startsWith('layerlens: error: '));
  expect(errors, r.stderr).toHaveLength(1);
  expect(all[all.length - 1]).toBe(errors[0]);
  expect(all.slice(0, -1).every((l) => /^layerlens: (warning|note): /.test(l)), r.stderr).toBe(true);
  expect(errors[0]!.startsWith(`layerlens: error: ${file}: `), errors[0]).toBe(true);
  return errors[0]!;
}

interface ImageRow {
  repository: string;
  tag: string;
  id: string;
  manifestDigest: string | null;
  platform: string;
  layers: number;
}

interface LayerRow {
  digest: string;
  diffId: string;
  compression: string;
  compressedSize: number;
  entries: number;
  verified: boolean;
}

const hex12 = (d: string | null) => (d === null ? null : d.slice('sha256:'.length, 'sha256:'.length + 12));
const pickArgs = (file: string, im: ImageExpect) => [file, '--image', im.manifest ?? im.id, '--platform', im.platform];

describe.skipIf(!HAS_SHARED)('third-party fixtures (../shared/fixtures)', () => {
  it('every image-like file and folder is classified here', () => {
    expect(imageLike(FIXTURES)).toEqual(Object.keys(FIXTURE_TABLE).sort());
  });

  for (const [rel, outcome] of Object.entries(FIXTURE_TABLE)) {
    const file = fixture(rel);
    describe(rel, () => {
      if ('fails' in outcome) {
        it('fails with exit 2 and one clean error line', { timeout: 10_000 }, async () => {
          const line = expectCleanFailure(await run(['images', file]), file);
          expect(line).toMatch(outcome.fails);
        });
        return;
      }

      it(`images lists ${outcome.opens.length} image(s) with their IDs, manifests and platforms`, { timeout: 10_000 }, async () => {
        const r = await run(['images', '--format', 'json', file]);
        expect(r.code, r.stderr).toBe(0);
        if (outcome.warning) {
          expect(lines(r)).toHaveLength(1);
          expect(r.stderr).toMatch(/^layerlens: warning: /);
          expect(r.stderr.trimEnd()).toMatch(outcome.warning);
        } else {
          expect(r.stderr).toBe('');
        }
        const rows = parseJson<ImageRow[]>(r);
        const got = rows.map((row) => ({ name: `${row.repository}:${row.tag}`, id: hex12(row.id), manifest: hex12(row.manifestDigest), platform: row.platform }));
        const want = outcome.opens.flatMap((im) => im.names.map((name) => ({ name, id: im.id, manifest: im.manifest, platform: im.platform })));
        const key = (x: { name: string; id: string | null }) => `${x.id} ${x.name}`;
        expect([...got].sort((a, b) => key(a).localeCompare(key(b)))).toEqual([...want].sort((a, b) => key(a).localeCompare(key(b))));
      });

      for (const im of outcome.opens) {
        const label = `${im.names[0]} ${im.platform} (${im.manifest ?? im.id})`;
        const layers = im.layers;
        if ('fails' in layers) {
          it(`layers of ${label}: exit 2, one clean line naming the layer and the fault`, { timeout: 10_000 }, async () => {
            const r = await run(['layers', ...pickArgs(file, im)]);
            const line = expectCleanFailure(r, file);
            expect(line).toMatch(layers.fails);
            const before = lines(r).slice(0, -1);
            if (layers.warning) expect(before).toEqual([expect.stringMatching(layers.warning)]);
            else expect(before).toEqual([]);
          });
          continue;
        }
        it(`layers of ${label}: read, verified, entries as GNU tar lists them`, { timeout: 15_000 }, async () => {
          const r = await run(['layers', '--format', 'json', ...pickArgs(file, im)]);
          expect(r.code, r.stderr).toBe(0);
          expect(r.stderr).toBe(''); // no notes: e.g. gzip layers in a docker-archive are no surprise
          const out = parseJson<LayerRow[]>(r);
          expect(out.map((l) => l.entries)).toEqual(layers.entries);
          expect(out.every((l) => l.verified)).toBe(true);
          expect(out.every((l) => l.compression === layers.compression)).toBe(true);
          if (layers.compression === 'none') expect(out.every((l) => l.digest === l.diffId)).toBe(true);
        });
      }

      const samePlatform = new Set(outcome.opens.map((im) => im.platform)).size === 1;
      if (outcome.opens.length > 1 && samePlatform) {
        it('without a choice, lists the images to choose from', { timeout: 10_000 }, async () => {
          const line = expectCleanFailure(await run(['layers', file]), file);
          expect(line).toContain(`holds ${outcome.opens.length} images; choose one with FILE:REF or --image REF: `);
          for (const im of outcome.opens) expect(line).toContain(`ID ${im.id}`);
        });
      }
    });
  }

  describe('choosing among several images', () => {
    it('FILE:REF picks one image of a multi-image docker-archive by its tag', { timeout: 10_000 }, async () => {
      const file = fixture('go-containerregistry/pkg/v1/tarball/testdata/test_link.tar');
      const r = await run(['inspect', `${file}:bazel/v1/tarball:test_image_3`]);
      expect(r.code, r.stderr).toBe(0);
      const [out] = parseJson<Array<{ Id: string; RepoTags: string[]; RootFS: { Layers: string[] } }>>(r);
      expect(hex12(out!.Id)).toBe('d4c9adacde69');
      expect(out!.RepoTags).toEqual(['bazel/v1/tarball:test_image_3']);
      expect(out!.RootFS.Layers).toHaveLength(2);
    });

    it('a ref name two manifests share is ambiguous, and the error lists both', { timeout: 10_000 }, async () => {
      const file = fixture('containers-image/oci/layout/fixtures/delete_image_two_identical_references');
      const line = expectCleanFailure(await run(['inspect', `${file}:1.0.0`]), file);
      expect(line).toMatch(/holds 2 images; choose one with FILE:REF or --image REF: 1\.0\.0 \(linux\/amd64, ID a527179158cd\); 1\.0\.0 \(linux\/amd64, ID ce229a4eb579\)$/);
    });

    it('an index with several platforms needs --platform when the host has none of them', { timeout: 10_000 }, async () => {
      const file = fixture('stereoscope/pkg/image/oci/testdata/multiplatform_oci_dir');
      const line = expectCleanFailure(await run(['layers', file, '--platform', 'linux/ppc64le']), file);
      expect(line).toMatch(/no image for platform linux\/ppc64le; choose one with --platform: linux\/amd64, linux\/arm64$/);
    });
  });

  describe('--no-verify', () => {
    it('opens the ggcr archive whose config was edited after it was named, and says what did not match', { timeout: 10_000 }, async () => {
      const file = fixture('go-containerregistry/pkg/v1/mutate/testdata/source_image_with_empty_layer_history.tar');
      const r = await run(['history', '--format', 'json', '--no-verify', file]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/layerlens: warning: .*: 6e0b0504\w+\.json: config digest mismatch: expected sha256:6e0b0504\w+, got sha256:05b5ec12\w+\n/);
      const history = parseJson<Array<{ emptyLayer: boolean; layerIndex: number | null }>>(r);
      expect(history.map((h) => h.emptyLayer)).toEqual([true, false]);
      expect(history.map((h) => h.layerIndex)).toEqual([null, 0]);
    });
  });

  // Loose documents of the fixtures, each put where an image format looks for it, in a
  // temporary folder: none is an image (no blobs), and each must fail cleanly.
  describe('manifest.json and index.json documents on their own', () => {
    const tmp = HAS_SHARED ? fs.mkdtempSync(path.join(os.tmpdir(), 'layerlens-fixtures-')) : '';
    afterAll(() => {
      if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
    });
    const asFile = (src: string, name: string) => {
      const dir = fs.mkdtempSync(path.join(tmp, 'doc-'));
      fs.copyFileSync(src, path.join(dir, name));
      if (name === 'index.json') fs.writeFileSync(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
      return dir;
    };

    // stereoscope's docker manifest.json parsing cases.
    const dockerManifests: Record<string, RegExp> = {
      'empty-file': /: manifest\.json: .*not valid JSON \(it is empty\)$/,
      'no-descriptors.json': /: manifest\.json: manifest\.json lists no images$/,
      'single-blank-manifest.json': /: manifest\.json: entry 0 has no "Config"$/,
      'engine-config.json': /: manifest\.json: manifest\.json is an object, expected an array of images$/,
      'valid-multi-manifest-with-tags.json': /: 881a352c\w+\.json: config of image 0 is missing$/,
    };
    for (const [name, says] of Object.entries(dockerManifests)) {
      it(`stereoscope ${name} as manifest.json`, { timeout: 10_000 }, async () => {
        const dir = asFile(fixture('stereoscope/pkg/image/docker/testdata', name), 'manifest.json');
        expect(expectCleanFailure(await run(['images', dir]), dir)).toMatch(says);
      });
    }

    const documents = HAS_SHARED
      ? ['containers-image/internal/manifest/testdata', 'containers-image/manifest/fixtures'].flatMap((d) =>
          fs
            .readdirSync(fixture(d))
            .filter((n) => n.endsWith('.json'))
            .map((n) => path.join(d, n)),
        )
      : [];
    it(`each of containers/image's ${documents.length} manifest and index documents as index.json`, { timeout: 30_000 }, async () => {
      expect(documents.length).toBeGreaterThan(20);
      for (const doc of documents) {
        const dir = asFile(fixture(doc), 'index.json');
        const line = expectCleanFailure(await run(['images', dir]), dir);
        expect(line, doc).toMatch(/index\.json|is missing|schemaVersion|holds no images/);
      }
    });
  });
});
