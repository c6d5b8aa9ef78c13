// Image references normalised the way docker does: `alpine` is `docker.io/library/alpine:latest`,
// `user/app:v1` is `docker.io/user/app:v1`, a first component with a dot, a colon or `localhost`
// names a registry.
import { parseDigest } from './digest.js';

export interface Reference {
  /** registry/repository, e.g. docker.io/library/alpine */
  name: string;
  tag?: string;
  digest?: string;
}

const DEFAULT_REGISTRY = 'docker.io';

/** distribution/reference's domain: host names (or a bracketed IPv6 address) and an optional numeric port. */
const REGISTRY = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;

/** Parse and normalise; undefined when the string is not a reference. */
export function parseReference(input: string): Reference | undefined {
  let rest = input.trim();
  if (rest === '' || /\s/.test(rest)) return undefined;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    // docker validates the digest itself: a registered algorithm and an encoding of its length.
    if (!parseDigest(digest)) return undefined;
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > lastSlash) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) return undefined;
  }
  if (rest === '') return undefined;
  const parts = rest.split('/');
  let registry = DEFAULT_REGISTRY;
  const first = parts[0]!;
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    registry = parts.shift()!;
    if (!REGISTRY.test(registry)) return undefined;
  }
  if (registry === 'index.docker.io') registry = DEFAULT_REGISTRY;
  if (registry === DEFAULT_REGISTRY && parts.length === 1) parts.unshift('library');
  const path = parts.join('/');
  if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(path)) return undefined;
  if (!tag && !digest) tag = 'latest';
  return { name: `${registry}/${path}`, tag, digest };
}

export function formatReference(r: Reference): string {
  return r.name + (r.tag ? `:${r.tag}` : '') + (r.digest ? `@${r.digest}` : '');
}

/** The short form docker prints: docker.io/library/ and docker.io/ dropped. */
export function familiarName(name: string): string {
  if (name.startsWith('docker.io/library/')) return name.slice('docker.io/library/'.length);
  if (name.startsWith('docker.io/')) return name.slice('docker.io/'.length);
  return name;
}

/** Split a tag-like string into repository and tag the way `docker images` shows them. */
export function splitRepoTag(repoTag: string): { repository: string; tag: string } {
  const ref = parseReference(repoTag);
  if (!ref) return { repository: repoTag, tag: '<none>' };
  return { repository: familiarName(ref.name), tag: ref.tag ?? '<none>' };
}
