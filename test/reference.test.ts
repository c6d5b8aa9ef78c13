// Image references, normalised the way docker normalises them.
import { describe, expect, it } from 'vitest';
import { familiarName, formatReference, parseReference, splitRepoTag } from '../src/image/reference.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

function normalise(input: string): string | undefined {
  const r = parseReference(input);
  return r ? formatReference(r) : undefined;
}

describe('docker normalisation', () => {
  it.each([
    ['alpine', 'docker.io/library/alpine:latest'],
    ['alpine:3.19', 'docker.io/library/alpine:3.19'],
    ['library/alpine', 'docker.io/library/alpine:latest'],
    ['docker.io/alpine', 'docker.io/library/alpine:latest'],
    ['index.docker.io/library/alpine:edge', 'docker.io/library/alpine:edge'],
    ['user/app:v1', 'docker.io/user/app:v1'],
    ['localhost/app:v1', 'localhost/app:v1'],
    ['localhost:5000/a/b', 'localhost:5000/a/b:latest'],
    ['localhost:5000/a/b:c', 'localhost:5000/a/b:c'],
    ['quay.io/org/team/app:1.2.3-rc_1', 'quay.io/org/team/app:1.2.3-rc_1'],
    ['[::1]:5000/app', '[::1]:5000/app:latest'],
    ['my-registry.example.com:443/some__deep/a.b-c/name', 'my-registry.example.com:443/some__deep/a.b-c/name:latest'],
  ])('%s is %s', (input, expected) => {
    expect(normalise(input)).toBe(expected);
  });

  it('takes a first component without a dot, colon or "localhost" as a Docker Hub user, not a registry', () => {
    expect(parseReference('registry/app')).toEqual({ name: 'docker.io/registry/app', tag: 'latest', digest: undefined });
    // `localhost:5000` alone is the image "localhost" with tag "5000", as docker reads it.
    expect(normalise('localhost:5000')).toBe('docker.io/library/localhost:5000');
  });

  it('takes an upper-case first component as a registry (only registries may have capitals)', () => {
    expect(parseReference('Registry/app')).toEqual({ name: 'Registry/app', tag: 'latest', digest: undefined });
  });

  it('keeps a digest, and adds no "latest" tag beside it', () => {
    expect(parseReference(`alpine@${DIGEST}`)).toEqual({ name: 'docker.io/library/alpine', tag: undefined, digest: DIGEST });
    expect(normalise(`alpine:3.19@${DIGEST}`)).toBe(`docker.io/library/alpine:3.19@${DIGEST}`);
    expect(normalise(`localhost:5000/a/b@${DIGEST}`)).toBe(`localhost:5000/a/b@${DIGEST}`);
  });

  it.each([
    ['', 'empty'],
    ['Alpine', 'a capital in the repository'],
    ['ghcr.io/Org/app', 'a capital in the path'],
    ['alpine:', 'an empty tag'],
    ['alpine:bad/tag', 'a slash in the tag'],
    [`alpine:${'t'.repeat(129)}`, 'a tag of 129 characters'],
    ['has space', 'a space'],
    ['a//b', 'an empty path component'],
    ['app-/x', 'a component ending in a separator'],
    ['alpine@sha256:abc', 'a digest that is too short'],
    [`alpine@md5:${'a'.repeat(32)}`, 'a digest algorithm nobody registered'],
    [`alpine@sha256:${'A'.repeat(64)}`, 'a sha256 digest in capitals'],
  ])('refuses %j (%s)', (input) => {
    expect(parseReference(input)).toBeUndefined();
  });
});

describe('the short names docker prints', () => {
  it('drops docker.io/library/ and docker.io/ and nothing else', () => {
    expect(familiarName('docker.io/library/alpine')).toBe('alpine');
    expect(familiarName('docker.io/user/app')).toBe('user/app');
    expect(familiarName('localhost/app')).toBe('localhost/app');
    expect(familiarName('quay.io/library/app')).toBe('quay.io/library/app');
  });

  it('splits a RepoTag into the REPOSITORY and TAG columns', () => {
    expect(splitRepoTag('alpine:3.19')).toEqual({ repository: 'alpine', tag: '3.19' });
    expect(splitRepoTag('docker.io/library/alpine')).toEqual({ repository: 'alpine', tag: 'latest' });
    expect(splitRepoTag('localhost:5000/a/b:c')).toEqual({ repository: 'localhost:5000/a/b', tag: 'c' });
    expect(splitRepoTag(`alpine@${DIGEST}`)).toEqual({ repository: 'alpine', tag: '<none>' });
    expect(splitRepoTag('Not A Reference')).toEqual({ repository: 'Not A Reference', tag: '<none>' });
  });
});
