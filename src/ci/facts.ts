// What the rules look at, gathered from an image and its union: identity, user, labels, each
// layer's sizes, every path a layer wrote, and the final filesystem.
import { alignHistory } from '../image/history.js';
import type { Image } from '../image/model.js';
import { shortDigest } from '../image/digest.js';
import type { UnionResult } from '../fs/build.js';
import { hardlinkGroups, listedType, pathsBelow } from '../fs/flat.js';
import { sortByPath } from '../fs/path.js';
import type { Union } from '../fs/union.js';
import type { FileFact, ImageFacts, WasteNumbers, WrittenPath } from './rules.js';

/** How an image is named in messages: its first tag or ref name, else its short ID. */
export function imageName(image: Image): string {
  return image.repoTags[0] ?? image.refNames[0] ?? shortDigest(image.id);
}

/**
 * The facts of an image built into `built`. `written` reads the build's change sets: it lists
 * what a layer wrote only where the build kept that layer's changes (all of them, for a rule
 * over written paths). `written` and `files` are gathered when a rule first reads them: on an
 * image of 318,000 tar entries each is a pass over every path, which dive's three rules (the
 * default) never need.
 */
export function imageFacts(image: Image, built: UnionResult, waste?: (ignore: string[]) => WasteNumbers): ImageFacts {
  const c = image.config.config ?? {};
  const labels: Record<string, string> = {};
  if (c.Labels && typeof c.Labels === 'object') {
    for (const [k, v] of Object.entries(c.Labels as Record<string, unknown>)) labels[k] = typeof v === 'string' ? v : String(v ?? '');
  }
  const aligned = alignHistory(image.config.history, image.layers.length);
  const layers = image.layers.map((l, i) => {
    const scan = built.scans[i];
    const h = aligned.layerEntry[i];
    return {
      index: i,
      createdBy: h === null || h === undefined ? undefined : image.config.history[h]?.createdBy,
      size: scan?.size ?? 0,
      storedSize: scan?.compressedSize ?? Math.max(0, l.size),
    };
  });
  let written: WrittenPath[] | undefined;
  let files: FileFact[] | undefined;
  return {
    name: imageName(image),
    id: image.id,
    user: typeof c.User === 'string' ? c.User : '',
    labels,
    layers,
    get written() {
      return (written ??= writtenPaths(built));
    },
    get files() {
      return (files ??= fileFacts(built.union));
    },
    waste,
  };
}

/**
 * The final tree's paths, sorted bytewise, with their type as `tree --flat` lists it and their
 * mode: what flatten() gives of them, without its sizes, digests and link targets.
 */
function fileFacts(union: Union): FileFact[] {
  const groups = hardlinkGroups(union.root);
  return sortByPath(pathsBelow(union.root).map(([path, n]) => ({ path, type: listedType(n, groups), mode: n.mode })));
}

/** Every path a layer wrote (added or modified) and whether the final tree still shows it. */
function writtenPaths(built: UnionResult): WrittenPath[] {
  const written: WrittenPath[] = [];
  for (const set of built.changeSets) {
    for (const ch of set.changes) {
      if (ch.kind === 'removed') continue;
      let visible = false;
      try {
        visible = built.union.lookup(ch.path)?.layer === set.layer;
      } catch {
        visible = false;
      }
      written.push({ path: ch.path, layer: set.layer, type: ch.type, visible });
    }
  }
  return written;
}
