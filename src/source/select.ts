// Choosing one image: `PATH:REF` and `--image REF` (a tag, an OCI ref name, a digest or digest
// prefix), then `--platform` among what is left (by default the host's). When a choice is needed
// and not given, the error lists what there is to choose from.
import fs from 'node:fs';
import { shortDigest } from '../image/digest.js';
import { LayerlensError } from '../image/errors.js';
import type { Image, ImageFile } from '../image/model.js';
import { formatPlatform, hostPlatform, platformMatches, type Platform } from '../image/platform.js';
import { formatReference, parseReference } from '../image/reference.js';

/** Split `PATH:REF`: PATH is the longest part before a colon that exists on disk. */
export function splitPathRef(arg: string, exists: (p: string) => boolean = fs.existsSync): { path: string; ref?: string } {
  if (arg === '-') return { path: '-' };
  if (arg.startsWith('-:')) return { path: '-', ref: arg.slice(2) || undefined };
  if (exists(arg)) return { path: arg };
  for (let i = arg.lastIndexOf(':'); i > 0; i = arg.lastIndexOf(':', i - 1)) {
    const path = arg.slice(0, i);
    if (exists(path)) return { path, ref: arg.slice(i + 1) || undefined };
  }
  return { path: arg };
}

/** A name a person can type to pick this image. */
export function displayName(image: Image): string {
  return image.refNames[0] ?? image.repoTags[0] ?? shortDigest(image.id);
}

function describe(image: Image): string {
  const names = [...new Set([...image.refNames, ...image.repoTags])];
  const id = `ID ${shortDigest(image.id)}`;
  return `${names.length ? names.join(', ') : '<untagged>'} (${formatPlatform(image.platform)}, ${id})`;
}

function normalised(name: string): string | undefined {
  const r = parseReference(name);
  return r ? formatReference(r) : undefined;
}

/** Images that a REF names, best kind of match first. */
export function matchRef(images: Image[], ref: string): Image[] {
  const byName = images.filter((im) => im.refNames.includes(ref) || im.repoTags.includes(ref));
  if (byName.length) return byName;
  const want = normalised(ref);
  if (want) {
    const byRef = images.filter((im) => [...im.repoTags, ...im.refNames].some((t) => normalised(t) === want));
    if (byRef.length) return byRef;
  }
  const hex = /^(?:sha256:)?([a-f0-9]{4,64})$/.exec(ref)?.[1];
  if (hex) {
    const full = ref.startsWith('sha256:') && hex.length === 64;
    const hit = (d: string | undefined) => !!d && (full ? d === ref : d.startsWith(`sha256:${hex}`));
    const byDigest = images.filter((im) => hit(im.id) || hit(im.manifest?.descriptor.digest) || hit(im.indexDigest));
    if (byDigest.length) return byDigest;
  }
  // Friendlier than docker: `app:v1` finds `localhost/corpus/app:v1` when nothing else matches.
  const suffix = ref.includes(':') ? ref : `${ref}:latest`;
  const bySuffix = images.filter((im) => im.repoTags.some((t) => t === suffix || t.endsWith(`/${suffix}`)));
  if (bySuffix.length) return bySuffix;
  // A bare tag (`v1`, `latest`) picks the image with that tag whatever its repository.
  if (/^[\w][\w.-]{0,127}$/.test(ref)) return images.filter((im) => im.repoTags.some((t) => parseReference(t)?.tag === ref));
  return [];
}

export interface Selection {
  image: Image;
  /** Said on stderr when layerlens chose for the user (the host's platform from an index). */
  note?: string;
}

export function selectImage(file: ImageFile, opts: { ref?: string; platform?: Platform } = {}): Selection {
  let candidates = file.images;
  if (opts.ref !== undefined) {
    candidates = matchRef(candidates, opts.ref);
    if (candidates.length === 0) {
      const broken = file.unavailable.find((u) => u.names.includes(opts.ref!));
      if (broken) throw broken.error;
      throw new LayerlensError('usage', `no image matches ${JSON.stringify(opts.ref)}; it holds ${listing(file.images)}`, { file: file.file });
    }
  }
  if (candidates.length === 1 && !opts.platform) return { image: candidates[0]! };
  const platforms = new Set(candidates.map((im) => formatPlatform(im.platform)));
  const want = opts.platform ?? (platforms.size > 1 ? hostPlatform() : undefined);
  let chosen = candidates;
  if (want) {
    chosen = candidates.filter((im) => platformMatches(want, im.platform));
    if (chosen.length === 0) {
      const which = opts.platform ? formatPlatform(want) : `${formatPlatform(want)} (this host's platform)`;
      throw new LayerlensError('usage', `no image for platform ${which}; choose one with --platform: ${[...platforms].join(', ')}`, { file: file.file });
    }
  }
  if (chosen.length === 1) {
    const note = !opts.platform && platforms.size > 1 ? `picked ${formatPlatform(chosen[0]!.platform)}, this host's platform, from ${[...platforms].join(', ')} (choose with --platform)` : undefined;
    return { image: chosen[0]!, note };
  }
  throw new LayerlensError('usage', `holds ${chosen.length} images; choose one with FILE:REF or --image REF: ${listing(chosen)}`, { file: file.file });
}

function listing(images: Image[]): string {
  return images.map(describe).join('; ');
}
