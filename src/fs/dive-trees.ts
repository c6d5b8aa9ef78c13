// The layers as dive sees them, so that dive's numbers can be reproduced exactly (analysis/dive.ts
// computes them). dive does not build a union filesystem; it keeps one tree per layer and stacks
// them by name:
// - a layer's tree holds the paths its tar names, cleaned lexically as Go's path.Clean does (no
//   symlink is followed); a directory implied by its children carries empty metadata (size 0, not
//   a directory); a later entry at a path replaces the payload and keeps the children;
// - `.wh..wh..opq` markers are dropped (opaque directories hide nothing); `.wh.NAME` stays in the
//   tree as a node of that name, standing for NAME;
// - stacking a layer walks its tree children first (names sorted bytewise): a `.wh.NAME` node
//   removes NAME and everything below it, every other node is added with its payload, the
//   directories on the way created with empty metadata where missing, and an existing node's
//   payload replaced (an implied directory's included) while its children stay;
// - the stack of layer 0 starts as a copy of layer 0's tree (its `.wh.` nodes included) on which
//   layer 0 is then stacked again.
//
// Memory: one slot per distinct path ever named (a whiteout above layer 0 takes none), in typed
// arrays with the names in one character pool: about 49 bytes and two per character of the name.
// A layer's own tree is a set of marks on those slots and its payloads, gone when the layer is done.

import { NamePool, PagedFloat64, PagedInt32, PagedUint8 } from './paged.js';
import { cleanComponents, comparePaths, hasParentKey, parentEnd } from './path.js';

export const WHITEOUT = '.wh.';
const OPAQUE_PREFIX = '.wh..wh..';

const PRESENT = 1; // in the stacked tree
const ST_DIR = 2; // the stacked payload is a directory

/** What a leaf of a layer's tree is, for a metric computed layer by layer. */
export interface DiveLeaf {
  /** The slot of the path this leaf stands for (for `.wh.NAME`, the slot of NAME). */
  path: number;
  whiteout: boolean;
  /** The tar header size of the entry (0 for an implied directory). */
  size: number;
}

/** Visit one leaf; return false to stop the walk of this layer, as an error does in dive. */
export type DiveVisitor = (leaf: DiveLeaf, trees: DiveTrees) => boolean;

/** Go's path.Clean, as components; `skip` when the name cleans to "." (dive ignores the entry). */
export function goCleanComponents(name: string): { skip: boolean; components: string[] } {
  const rooted = name.startsWith('/');
  const components = cleanComponents(name, !rooted);
  return { skip: components.length === 0 && !rooted, components };
}

/** A node of the current layer's tree: a slot, or a whiteout leaf that has no slot. */
interface Whiteout {
  parent: number;
  name: string;
  size: number;
  /** The slot of the path it removes, once looked up (UNKNOWN before). */
  target: number;
}

const UNKNOWN = -2;

export class DiveTrees {
  private count = 1;
  private parentOf = new PagedInt32();
  private firstChild = new PagedInt32();
  private nextSibling = new PagedInt32();
  private flags = new PagedUint8();
  private stSize = new PagedFloat64();
  /** Where the slot is in the current layer's `touched` list (valid only if it points back). */
  private layerPos = new PagedInt32();
  private nameAt = new PagedInt32();
  private nameLen = new PagedInt32();
  private names = new NamePool();
  /** Each slot's hashKey, kept: growing the table re-places the slots without hashing the names again. */
  private hashOf = new PagedInt32();
  // Open addressing on (parent, name): slot ids, -1 empty.
  private table = new Int32Array(1 << 13).fill(-1);

  /** The layer being read (-1 before the first). */
  private layer = -1;
  /** The current layer's tree: its slots in the order they joined it, and their payloads. */
  private touched = new Int32Array(1024);
  private touchedCount = 0;
  private lkSize = new Float64Array(1024);
  private lkDir = new Uint8Array(1024);
  /** Its whiteout leaves (above layer 0). */
  private whiteouts: Whiteout[] = [];
  /** The raw parent path of the last entry added in this layer, and its slot. */
  private parentKey: string | undefined = undefined;
  private parentSlot = 0;
  /** dive's size of each layer: the sum of the tar header sizes of its entries. */
  readonly layerSizes: number[] = [];

  constructor() {
    this.parentOf.set(0, -1);
    this.firstChild.set(0, -1);
    this.nextSibling.set(0, -1);
    this.flags.set(0, PRESENT | ST_DIR);
    this.stSize.set(0, 0);
    this.layerPos.set(0, -1);
    this.nameAt.set(0, this.names.add(''));
    this.nameLen.set(0, 0);
  }

  /** Slots so far (the root included); slot ids are below this. */
  get size(): number {
    return this.count;
  }

  name(id: number): string {
    return this.names.get(this.nameAt.get(id), this.nameLen.get(id));
  }

  /** The path as dive prints it: `/a/b`. */
  path(id: number): string {
    const parts: string[] = [];
    for (let n = id; n > 0; n = this.parentOf.get(n)) parts.push(this.name(n));
    return '/' + parts.reverse().join('/');
  }

  /** In the stacked tree of the layers before the current one (layer 0: layer 0's own tree). */
  present(id: number): boolean {
    return (this.flags.get(id) & PRESENT) !== 0;
  }

  /** The stacked payload is a directory (an implied directory is not). */
  stackedIsDir(id: number): boolean {
    return (this.flags.get(id) & ST_DIR) !== 0;
  }

  /** The sum of the stacked payload sizes of `id` and everything below it in the stacked tree. */
  stackedSubtreeSize(id: number): number {
    let total = this.stSize.get(id);
    const stack: number[] = [];
    for (let c = this.firstChild.get(id); c !== -1; c = this.nextSibling.get(c)) stack.push(c);
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (!(this.flags.get(n) & PRESENT)) continue;
      total += this.stSize.get(n);
      for (let c = this.firstChild.get(n); c !== -1; c = this.nextSibling.get(c)) stack.push(c);
    }
    return total;
  }

  /** The slot of `name.slice(start, stop)` under `parent` (`hash`: hashKey of the same), or -1. */
  private find(parent: number, name: string, start: number, stop: number, hash: number): number {
    const mask = this.table.length - 1;
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const id = this.table[i]!;
      if (id === -1) return -1;
      if (this.hashOf.get(id) === (hash | 0) && this.parentOf.get(id) === parent && this.names.equalsRange(this.nameAt.get(id), this.nameLen.get(id), name, start, stop)) return id;
    }
  }

  /**
   * The slot of `name.slice(start)` under `parent` (for a whiteout's target, start is past
   * `.wh.`), made if missing (outside every tree) when `make`, else -1 if missing.
   */
  private slotOf(parent: number, name: string, start: number, make: boolean): number {
    const hash = hashKey(parent, name, start, name.length);
    const found = this.find(parent, name, start, name.length, hash);
    return found === -1 && make ? this.create(parent, name, start, name.length, hash) : found;
  }

  beginLayer(layer: number): void {
    this.layer = layer;
    this.parentKey = undefined;
    this.parentSlot = 0;
    this.touchedCount = 0;
    this.whiteouts = [];
    this.layerSizes[layer] = 0;
  }

  /** One tar entry of the current layer: its name, its header size, and whether it is a directory. */
  add(name: string, tarSize: number, isDir: boolean): void {
    // Entries come directory by directory: when this one's parent is the last one's, start there
    // with its last component, read in place (the parent's are in this layer's tree already, and
    // the name needs no cleaning beyond that).
    const end = parentEnd(name);
    if (hasParentKey(name, end, this.parentKey)) {
      let stop = name.length;
      while (name.charCodeAt(stop - 1) === 0x2f) stop--;
      this.layerSizes[this.layer] = (this.layerSizes[this.layer] ?? 0) + tarSize;
      const node = this.step(this.parentSlot, name, end + 1, stop, true, tarSize);
      if (node > 0) this.setPayload(node, tarSize, isDir);
      return;
    }
    const cleaned = goCleanComponents(name);
    if (cleaned.skip) return;
    const components = cleaned.components;
    this.layerSizes[this.layer] = (this.layerSizes[this.layer] ?? 0) + tarSize;
    const last = components.length - 1;
    let node = 0;
    for (let i = 0; i <= last; i++) {
      const part = components[i]!;
      node = this.step(node, part, 0, part.length, i === last, tarSize);
      if (node < 0) return;
      if (i === last - 1 && end > 0) {
        this.parentKey = name.slice(0, end);
        this.parentSlot = node;
      }
    }
    if (node > 0) this.setPayload(node, tarSize, isDir); // the root keeps no payload
  }

  /**
   * The component `name.slice(start, stop)` under `parent`, put in this layer's tree: its slot, or
   * -1 where the entry ends here (an opaque marker, never added; a whiteout leaf, which needs no
   * slot of its own as it is never stacked).
   */
  private step(parent: number, name: string, start: number, stop: number, last: boolean, tarSize: number): number {
    const hash = hashKey(parent, name, start, stop);
    let c = this.find(parent, name, start, stop, hash);
    if (c !== -1 && this.inLayer(c)) return c;
    if (stop - start >= OPAQUE_PREFIX.length && name.startsWith(OPAQUE_PREFIX, start)) return -1;
    if (last && this.layer > 0 && stop - start >= WHITEOUT.length && name.startsWith(WHITEOUT, start)) {
      this.whiteouts.push({ parent, name: name.slice(start, stop), size: tarSize, target: UNKNOWN });
      return -1;
    }
    if (c === -1) c = this.create(parent, name, start, stop, hash);
    this.join(c);
    return c;
  }

  private setPayload(node: number, tarSize: number, isDir: boolean): void {
    const pos = this.layerPos.get(node);
    this.lkSize[pos] = tarSize;
    this.lkDir[pos] = isDir ? 1 : 0;
  }

  /**
   * The layer is read: visit the leaves of its tree children first, names sorted, as dive's
   * efficiency pass does (against the stack of the layers below), then stack it.
   */
  endLayer(visit?: DiveVisitor): void {
    // Children of each node of the layer's tree: slots (>= 0) and whiteout leaves (-1 - index).
    const outs = this.whiteouts.filter((w) => {
      const slot = this.slotOf(w.parent, w.name, 0, false);
      return slot === -1 || !this.inLayer(slot); // else the same name is a node with children
    });
    const kids = new Map<number, number[]>();
    const addKid = (parent: number, k: number) => {
      const list = kids.get(parent);
      if (list) list.push(k);
      else kids.set(parent, [k]);
    };
    for (let p = 0; p < this.touchedCount; p++) addKid(this.parentOf.get(this.touched[p]!), this.touched[p]!);
    outs.forEach((w, i) => addKid(w.parent, -1 - i));
    const nameOf = (k: number) => (k >= 0 ? this.name(k) : outs[-1 - k]!.name);
    const compare = (a: number, b: number) =>
      a >= 0 ? (b >= 0 ? this.compareNames(a, b) : this.compareToName(a, nameOf(b))) : b >= 0 ? -this.compareToName(b, nameOf(a)) : comparePaths(nameOf(a), nameOf(b));
    // (forEach and index loops: a layer of 100,000 entries would otherwise make an entry pair
    // per directory and an iterator and an empty list per leaf.)
    kids.forEach((list, parent) => {
      if (list.length < 2) return;
      list.sort(compare);
      // A whiteout named twice in one layer is one node.
      if (outs.length) kids.set(parent, list.filter((k, i) => !(k < 0 && i > 0 && list[i - 1]! < 0 && nameOf(list[i - 1]!) === nameOf(k))));
    });
    const order: number[] = [];
    const walk = (n: number) => {
      const list = kids.get(n);
      if (list === undefined) return;
      for (let i = 0; i < list.length; i++) {
        const c = list[i]!;
        if (c >= 0) walk(c);
        order.push(c);
      }
    };
    walk(0);

    if (this.layer === 0) {
      // dive stacks layer 0 onto a copy of layer 0's tree.
      for (let i = 0; i < order.length; i++) {
        const id = order[i]!;
        if (id >= 0) this.setStacked(id, this.lkSize[this.layerPos.get(id)]!, this.lkDir[this.layerPos.get(id)] === 1);
      }
    }
    if (visit) {
      const leaf: DiveLeaf = { path: 0, whiteout: false, size: 0 };
      for (let i = 0; i < order.length; i++) {
        const k = order[i]!;
        if (k >= 0 && kids.has(k)) continue;
        if (k < 0) {
          // (The target is kept for stacking below: 45,000 whiteouts in one layer of manyfiles.)
          const w = outs[-1 - k]!;
          w.target = this.slotOf(w.parent, w.name, WHITEOUT.length, true);
          leaf.whiteout = true;
          leaf.path = w.target;
          leaf.size = w.size;
        } else {
          leaf.whiteout = this.isWhiteout(k);
          leaf.path = leaf.whiteout ? this.slotOf(this.parentOf.get(k), this.name(k), WHITEOUT.length, true) : k;
          leaf.size = this.lkSize[this.layerPos.get(k)]!;
        }
        if (!visit(leaf, this)) break;
      }
    }
    for (let i = 0; i < order.length; i++) {
      const k = order[i]!;
      if (k < 0 || this.isWhiteout(k)) {
        const w = k < 0 ? outs[-1 - k]! : undefined;
        const target = w && w.target !== UNKNOWN ? w.target : this.slotOf(w ? w.parent : this.parentOf.get(k), w ? w.name : this.name(k), WHITEOUT.length, false);
        if (target !== -1 && this.present(target)) this.unstack(target);
      } else {
        this.stackPath(k);
      }
    }
    this.touchedCount = 0;
    this.whiteouts = [];
  }

  /** The slot's name starts with `.wh.`. */
  private isWhiteout(id: number): boolean {
    if (this.nameLen.get(id) < 4) return false;
    const at = this.nameAt.get(id);
    const names = this.names;
    return names.unit(at, 0) === 0x2e && names.unit(at, 1) === 0x77 && names.unit(at, 2) === 0x68 && names.unit(at, 3) === 0x2e;
  }

  private inLayer(id: number): boolean {
    const pos = this.layerPos.get(id);
    return pos >= 0 && pos < this.touchedCount && this.touched[pos] === id;
  }

  /** Put a slot in the current layer's tree, with empty payload. */
  private join(id: number): void {
    if (this.touchedCount >= this.touched.length) {
      const cap = this.touched.length * 2;
      const t = new Int32Array(cap);
      t.set(this.touched);
      this.touched = t;
      const s = new Float64Array(cap);
      s.set(this.lkSize);
      this.lkSize = s;
      const d = new Uint8Array(cap);
      d.set(this.lkDir);
      this.lkDir = d;
    }
    const pos = this.touchedCount++;
    this.touched[pos] = id;
    this.layerPos.set(id, pos);
    this.lkSize[pos] = 0;
    this.lkDir[pos] = 0;
  }

  /** dive's AddPath on the stacked tree: parents made (empty payload) where missing, then the payload. */
  private stackPath(id: number): void {
    // The stacked tree holds no node without its parent, so the missing ones are those below
    // the first present ancestor (each made with the same empty payload, in any order).
    for (let n = this.parentOf.get(id); n > 0 && !this.present(n); n = this.parentOf.get(n)) this.setStacked(n, 0, false);
    const pos = this.layerPos.get(id);
    this.setStacked(id, this.lkSize[pos]!, this.lkDir[pos] === 1);
  }

  private setStacked(id: number, size: number, dir: boolean): void {
    this.stSize.set(id, size);
    this.flags.set(id, PRESENT | (dir ? ST_DIR : 0));
  }

  /** Remove `id` and everything below it from the stacked tree. */
  private unstack(id: number): void {
    const stack = [id];
    while (stack.length > 0) {
      const n = stack.pop()!;
      if (!(this.flags.get(n) & PRESENT)) continue;
      this.flags.set(n, 0);
      this.stSize.set(n, 0);
      for (let c = this.firstChild.get(n); c !== -1; c = this.nextSibling.get(c)) stack.push(c);
    }
  }

  /** Bytewise order of two slots' names, read from the pool (strings made only past ASCII). */
  private compareNames(a: number, b: number): number {
    const d = this.names.compare(this.nameAt.get(a), this.nameLen.get(a), this.nameAt.get(b), this.nameLen.get(b));
    return Number.isNaN(d) ? comparePaths(this.name(a), this.name(b)) : d;
  }

  /** Bytewise order of a slot's name and a string (a whiteout leaf's), the slot's read from the pool. */
  private compareToName(a: number, name: string): number {
    const pa = this.nameAt.get(a);
    const la = this.nameLen.get(a);
    const n = Math.min(la, name.length);
    for (let i = 0; i < n; i++) {
      const x = this.names.unit(pa, i);
      const y = name.charCodeAt(i);
      if (x === y) continue;
      if (x < 0x80 && y < 0x80) return x - y;
      return comparePaths(this.name(a), name);
    }
    return la - name.length;
  }

  /** A new slot for `name.slice(start, stop)` under `parent`; `hash` is its hashKey. */
  private create(parent: number, name: string, start: number, stop: number, hash: number): number {
    const id = this.count++;
    this.parentOf.set(id, parent);
    this.firstChild.set(id, -1);
    this.nextSibling.set(id, this.firstChild.get(parent));
    this.firstChild.set(parent, id);
    this.flags.set(id, 0);
    this.stSize.set(id, 0);
    this.layerPos.set(id, -1);
    this.nameAt.set(id, this.names.addRange(name, start, stop));
    this.nameLen.set(id, stop - start);
    this.hashOf.set(id, hash | 0);
    if (this.count * 2 > this.table.length) this.rehash(this.table.length * 2);
    else this.insert(id, hash);
    return id;
  }

  private insert(id: number, hash: number): void {
    const mask = this.table.length - 1;
    let i = hash & mask;
    while (this.table[i] !== -1) i = (i + 1) & mask;
    this.table[i] = id;
  }

  private rehash(size: number): void {
    this.table = new Int32Array(size).fill(-1);
    for (let id = 1; id < this.count; id++) this.insert(id, this.hashOf.get(id) >>> 0);
  }
}

function hashSeed(parent: number): number {
  return (0x811c9dc5 ^ Math.imul(parent, 0x9e3779b1)) >>> 0;
}

/** FNV-1a over the UTF-16 units of `name.slice(start, stop)`, seeded with the parent slot. */
function hashKey(parent: number, name: string, start: number, stop: number): number {
  let h = hashSeed(parent);
  for (let i = start; i < stop; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h ^ (h >>> 15)) >>> 0;
}
