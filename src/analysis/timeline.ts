// Every path an image ever holds, with what each layer did to it, in a compact form from which
// the filesystem at any layer can be rebuilt: the HTML report ships this and lets the reader pick
// the layer. Recorded as the union is built (one call after each layer), so that no layer's
// tree is ever copied: each path keeps a short list of events (added, modified, removed), each
// with the path's type, size, mode and owner after the layer. The events are kept in paged typed
// arrays, in the order they happened, and read per path through a view (TimelineView) that the
// report writes out as it goes: an array per event and a list per path were, on an image of
// 318,000 tar entries, about 100 MiB of `report`'s peak.
import { describeChange, type ChangeSet } from '../fs/changes.js';
import type { FsNode } from '../fs/node.js';
import { PagedFloat64, PagedInt32 } from '../fs/paged.js';
import { hasParentKey, joinPath, parentEnd, splitPath } from '../fs/path.js';
import type { Union } from '../fs/union.js';

export const EVENT_KIND = { added: 0, modified: 1, removed: 2, removedBelow: 3 } as const;
export const NODE_TYPES = ['file', 'dir', 'symlink', 'hardlink', 'char', 'block', 'fifo'] as const;

/**
 * One event: [layer, kind, type, size, mode, uid, gid, description, linkTarget]. `kind` is an
 * EVENT_KIND (a path under a removed directory gets `removedBelow`); `type` indexes NODE_TYPES;
 * `description` indexes `descriptions` (how a modification differs, or how many paths a removal
 * took), -1 for none; `linkTarget` is a symlink's target or a hard link's path, or 0.
 */
export type TimelineEvent = [number, number, number, number, number, number, number, number, string | 0];

export interface Timeline {
  /** Node 0 is the root, its name empty. */
  names: string[];
  /** The parent of each node (-1 for the root). */
  parents: number[];
  /** Each node's events, oldest first. */
  events: TimelineEvent[][];
  descriptions: string[];
  layers: number;
}

/**
 * A timeline read in place, path by path: what Timeline holds, each path's events made into
 * arrays only when asked for (the report writes it out as JSON from this, a block at a time).
 */
export interface TimelineView {
  names: readonly string[];
  parents: readonly number[];
  descriptions: readonly string[];
  layers: number;
  /** The events of node `n`, oldest first, as Timeline has them. */
  eventsOf(n: number): TimelineEvent[];
}

/** Numbers kept per event: layer, kind, type and description; size, mode, uid and gid apart (they may not fit 32 bits). */
const INTS = 4;
const NUMS = 4;

export class TimelineRecorder {
  private readonly names: string[] = [''];
  private readonly parents: number[] = [-1];
  private readonly children: Array<Map<string, number> | undefined> = [undefined];
  /** Whether each node is present after the last layer recorded. */
  private readonly alive: boolean[] = [true];
  /** The type of each node's last event (a directory, for a node without one: the root). */
  private readonly lastTypes: number[] = [1];
  private readonly descriptions: string[] = [];
  private readonly descIndex = new Map<string, number>();
  private layers = 0;
  /** The events, in the order they happened: whose, its numbers, and the few link targets. */
  private eventCount = 0;
  private readonly eventNode = new PagedInt32();
  private readonly eventInts = new PagedInt32();
  private readonly eventNums = new PagedFloat64();
  private readonly eventLinks = new Map<number, string>();

  private desc(s: string): number {
    let i = this.descIndex.get(s);
    if (i === undefined) {
      i = this.descriptions.length;
      this.descriptions.push(s);
      this.descIndex.set(s, i);
    }
    return i;
  }

  /**
   * The directory part of the last path given to id() and its node: a layer's changes come sorted
   * by path, a directory's together, so that most paths are found from their parent's node
   * rather than from the root (on an image of 318,000 tar entries, walks from the root here and
   * in lookup() were 0.3 s of `report`'s 5.5 s in a profile).
   */
  private lastDir = '';
  private lastDirId = 0;

  private id(path: string): number {
    // (A change's path is absolute and cleaned: parentEnd() is where its last component starts,
    // less its `/`, or -1 for a name in the root.)
    const cut = parentEnd(path);
    if (hasParentKey(path, cut, this.lastDir)) return this.child(this.lastDirId, path.slice(cut + 1));
    let cur = 0;
    for (const name of splitPath(path)) cur = this.child(cur, name);
    if (cut > 0) {
      this.lastDir = path.slice(0, cut);
      this.lastDirId = this.parents[cur]!;
    }
    return cur;
  }

  /** The node for `name` under node `parent`, made if new. */
  private child(parent: number, name: string): number {
    const kids = (this.children[parent] ??= new Map());
    let next = kids.get(name);
    if (next === undefined) {
      next = this.names.length;
      this.names.push(name);
      this.parents.push(parent);
      this.children.push(undefined);
      this.alive.push(false);
      this.lastTypes.push(1);
      kids.set(name, next);
    }
    return next;
  }

  private markRemovedBelow(id: number, layer: number): void {
    const kids = this.children[id];
    if (!kids) return;
    for (const k of kids.values()) {
      if (!this.alive[k]) continue;
      this.alive[k] = false;
      this.push(k, layer, EVENT_KIND.removedBelow, this.lastTypes[k]!, 0, 0, 0, 0, -1, 0);
      this.markRemovedBelow(k, layer);
    }
  }

  /** One event of node `id`, after those before it. */
  private push(id: number, layer: number, kind: number, type: number, size: number, mode: number, uid: number, gid: number, desc: number, link: string | 0): void {
    const i = this.eventCount++;
    this.eventNode.set(i, id);
    const a = i * INTS;
    this.eventInts.set(a, layer);
    this.eventInts.set(a + 1, kind);
    this.eventInts.set(a + 2, type);
    this.eventInts.set(a + 3, desc);
    const b = i * NUMS;
    this.eventNums.set(b, size);
    this.eventNums.set(b + 1, mode);
    this.eventNums.set(b + 2, uid);
    this.eventNums.set(b + 3, gid);
    if (link !== 0) this.eventLinks.set(i, link);
    this.lastTypes[id] = type;
  }

  /** The directory part of the last path lookup() resolved, and the directory it resolved to (one layer's record()). */
  private lookedDir = '';
  private lookedAt: FsNode | undefined = undefined;

  /**
   * The node at `path` in the union, as Union.lookup finds it (symlinks followed on the way, not
   * at the end; undefined where it is not there or cannot be resolved), each directory resolved
   * once for the run of paths in it.
   */
  private lookup(union: Union, path: string): FsNode | undefined {
    try {
      const cut = parentEnd(path);
      if (cut < 0) return union.lookup(path);
      if (!hasParentKey(path, cut, this.lookedDir) || this.lookedAt === undefined) {
        const dir = path.slice(0, cut);
        this.lookedAt = union.resolveDir(splitPath(dir), false);
        this.lookedDir = dir;
        if (this.lookedAt === undefined) return undefined;
      }
      return this.lookedAt.children?.get(path.slice(cut + 1));
    } catch {
      return undefined;
    }
  }

  /** Record one layer, after the union applied it, from its change set. */
  record(union: Union, changes: ChangeSet): void {
    const layer = changes.layer;
    // The union has changed since the last layer: no directory it resolved then is trusted now.
    this.lookedDir = '';
    this.lookedAt = undefined;
    this.layers = Math.max(this.layers, layer + 1);
    const list = changes.changes;
    for (let i = 0; i < list.length; i++) {
      const c = list[i]!;
      const id = this.id(c.path);
      if (c.kind === 'removed') {
        const d = c.removedPaths && c.removedPaths > 1 ? this.desc(`removed (${c.removedPaths} paths)`) : -1;
        this.push(id, layer, EVENT_KIND.removed, this.lastTypes[id]!, c.removedBytes ?? 0, 0, 0, 0, d, 0);
        this.alive[id] = false;
        this.markRemovedBelow(id, layer);
        continue;
      }
      const node = this.lookup(union, c.path);
      if (!node) continue;
      if (c.kind === 'modified' && c.removedPaths) this.markRemovedBelow(id, layer);
      const type = NODE_TYPES.indexOf(c.type as (typeof NODE_TYPES)[number]);
      const link = node.type === 'symlink' ? node.linkTarget ?? '' : c.type === 'hardlink' ? node.linkTarget ?? '' : 0;
      const d = c.kind === 'modified' ? this.desc(describeChange(c).replace(/^modified \((.*)\)$/, '$1')) : -1;
      this.push(id, layer, c.kind === 'added' ? EVENT_KIND.added : EVENT_KIND.modified, type < 0 ? 0 : type, node.type === 'file' ? node.size : 0, node.mode, node.uid, node.gid, d, link);
      this.alive[id] = true;
      // Parents a layer only implied are there too.
      for (let p = this.parents[id]!; p > 0 && !this.alive[p]; p = this.parents[p]!) {
        this.alive[p] = true;
        const pn = union.lookup(joinPath(this.pathParts(p)));
        this.push(p, layer, EVENT_KIND.added, 1, 0, pn?.mode ?? 0o755, pn?.uid ?? 0, pn?.gid ?? 0, -1, 0);
      }
    }
  }

  private pathParts(id: number): string[] {
    const parts: string[] = [];
    for (let n = id; n > 0; n = this.parents[n]!) parts.push(this.names[n]!);
    return parts.reverse();
  }

  /** The timeline recorded so far, read path by path (what the report writes out); record no more layers while it is read. */
  view(): TimelineView {
    // Each node's events, in order: the events sorted by node (a counting sort, which keeps
    // their order within a node).
    const nodes = this.names.length;
    const start = new Int32Array(nodes + 1);
    for (let i = 0; i < this.eventCount; i++) start[this.eventNode.get(i) + 1]!++;
    for (let n = 0; n < nodes; n++) start[n + 1]! += start[n]!;
    const order = new Int32Array(this.eventCount);
    const fill = start.slice(0, nodes);
    for (let i = 0; i < this.eventCount; i++) order[fill[this.eventNode.get(i)]!++] = i;
    return {
      names: this.names,
      parents: this.parents,
      descriptions: this.descriptions,
      layers: this.layers,
      eventsOf: (n) => {
        const ints = this.eventInts;
        const nums = this.eventNums;
        const events: TimelineEvent[] = [];
        for (let j = start[n]!; j < start[n + 1]!; j++) {
          const i = order[j]!;
          const a = i * INTS;
          const b = i * NUMS;
          events.push([ints.get(a), ints.get(a + 1), ints.get(a + 2), nums.get(b), nums.get(b + 1), nums.get(b + 2), nums.get(b + 3), ints.get(a + 3), this.eventLinks.get(i) ?? 0]);
        }
        return events;
      },
    };
  }

  /** The timeline as arrays (an array of events per path). */
  finish(): Timeline {
    const view = this.view();
    return { names: this.names, parents: this.parents, events: this.names.map((_, n) => view.eventsOf(n)), descriptions: this.descriptions, layers: this.layers };
  }
}
