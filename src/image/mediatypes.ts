// Media types of the OCI image spec and their Docker v2 schema 2 twins.

export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayout: 'application/vnd.oci.layout.header.v1+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestV1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerManifestV1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

export function isIndexMediaType(mt: string | undefined): boolean {
  return mt === MediaType.ociIndex || mt === MediaType.dockerManifestList;
}

export function isManifestMediaType(mt: string | undefined): boolean {
  return mt === MediaType.ociManifest || mt === MediaType.dockerManifest;
}

export type Compression = 'gzip' | 'zstd' | 'none';

/** What the media type says about a layer's compression; undefined when it says nothing. */
export function layerCompressionFromMediaType(mt: string | undefined): Compression | undefined {
  if (!mt) return undefined;
  if (/\+gzip$|\.tar\.gzip$|\.gzip$/.test(mt)) return 'gzip';
  if (/\+zstd$/.test(mt)) return 'zstd';
  if (/\.tar$/.test(mt)) return 'none';
  return undefined;
}

/** What a layer's own media type says of its compression; undefined when it says nothing or was only assumed. */
export function declaredLayerCompression(layer: { mediaType?: string; mediaTypeAssumed?: boolean }): Compression | undefined {
  return layer.mediaTypeAssumed ? undefined : layerCompressionFromMediaType(layer.mediaType);
}

/** A layer's own media type says it is compressed (gzip or zstd). */
export function declaresCompressedLayer(layer: { mediaType?: string; mediaTypeAssumed?: boolean }): boolean {
  return (declaredLayerCompression(layer) ?? 'none') !== 'none';
}

/** Encrypted layers (ocicrypt) cannot be read without keys. */
export function isEncryptedLayerMediaType(mt: string | undefined): boolean {
  return !!mt && /\+encrypted$/.test(mt);
}
