// The public API: what a Node program imports from 'layerlens'. The CLI is its first user.
//
//   import { openImage, scanImageLayers, layerRecords } from 'layerlens';
//   const { file, image } = await openImage('app.tar:localhost/app:v1');
//   const scans = await scanImageLayers(image.layers, { verify: true, file: image.file });
//   console.log(layerRecords(image, scans));
//   await file.close();

export { LayerlensError, isLayerlensError, type ErrorKind } from './image/errors.js';
export { DEFAULT_LIMITS, resolveLimits, type Limits } from './image/limits.js';
export { parseDigest, shortDigest, type Digest } from './image/digest.js';
export { MediaType } from './image/mediatypes.js';
export { formatPlatform, parsePlatform, hostPlatform, platformMatches, type Platform } from './image/platform.js';
export { parseReference, familiarName, type Reference } from './image/reference.js';
export type { Descriptor } from './image/descriptor.js';
export type { ImageConfig, HistoryEntry } from './image/config.js';
export type { Manifest, ImageIndex } from './image/manifest.js';
export type { Image, ImageFile, Layer, ImageFormat, Container, UnavailableImage } from './image/model.js';
export { alignHistory } from './image/history.js';

export { TarReader, type TarEntry, type EntrySink } from './layer/tar-reader.js';
export type { SparseInfo, SparseRegion, SparseFormat } from './layer/sparse.js';
export { decodeName, encodeName, escapeName } from './layer/names.js';
export { sniffCompression, type Compression } from './layer/compression.js';
export { scanLayer, scanImageLayers, type LayerScan, type ScanOptions } from './layer/scan.js';

export { openImageFile, openStore, type OpenOptions } from './source/open.js';
export { openImage, type OpenImageOptions, type OpenedImage } from './source/open-image.js';
export { selectImage, splitPathRef, matchRef, type Selection } from './source/select.js';

export { imageRows, inspectImage, imageHistory, layerRecords, storedSize } from './analysis/summary.js';
export type { ImageRow, HistoryRecord, HistoryResult, LayerRecord } from './analysis/summary.js';

export { diffImagePair, type DiffPairOptions, type DiffPairResult } from './cli/diff.js';
export { diffImages, filesDiff, type ImageDiff, type DiffOptions, type DiffSide } from './analysis/diff.js';
export { pathMatcher, compileGlob, type PathMatcher } from './fs/glob.js';
export { parseDpkgStatus, parseApkInstalled, parsePackageJson, parsePythonMetadata, diffPackages, type Package, type PackagesDiff } from './analysis/packages.js';
export { buildUnionPair, type PairResult } from './fs/pair.js';

export { loadCiConfig, readDiveCi, readDiveText, readLayerlensFile, readLayerlensText, RULE_KEYS, DIVE_DEFAULTS, type CiConfig, type RuleSpec, type RuleKey, type LoadOptions } from './ci/config.js';
export { evaluate, type Verdict, type RuleResult, type CiFacts, type ImageFacts, type WasteNumbers } from './ci/rules.js';
export { imageFacts } from './ci/facts.js';
export { parseHumanBytes, parseGoFloat } from './ci/units.js';
export { renderCiText, renderCiMarkdown, renderCiJunit, ciJson } from './report/ci.js';
export { renderHtml, type HtmlReport } from './report/html.js';
export { TimelineRecorder, type Timeline } from './analysis/timeline.js';

export { buildUnion, type BuildOptions, type UnionResult } from './fs/build.js';
export { WasteLedger, type HiddenCopy, type HideReason, type LedgerOptions } from './fs/ledger.js';
export type { BuildObserver, UnionObserver } from './fs/observe.js';
export { wasteReport, type WasteResult, type WasteOptions, type WastedPath, type WastedCopy, type LayerWaste, type DuplicateGroup, type WasteSplit } from './analysis/waste.js';
export { DiveTally, diveMetrics, type DiveMetrics, type DiveFile, type DiveCounts } from './analysis/dive.js';
export { goSort, goSortArray } from './analysis/gosort.js';
