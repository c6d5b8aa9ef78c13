// Growable arrays of numbers kept in fixed-size typed-array pages: growing never copies, so no
// discarded buffer waits for the garbage collector, and an image's per-path records cost their
// size and no more. Also a pool of names (UTF-16 code units) with the same property.

const SHIFT = 14;
const PAGE = 1 << SHIFT;
const MASK = PAGE - 1;

type Typed = Int32Array | Uint8Array | Float64Array;

class Paged<T extends Typed> {
  private pages: T[] = [];
  constructor(private readonly make: (n: number) => T) {}

  get(i: number): number {
    return this.pages[i >>> SHIFT]![i & MASK]!;
  }

  set(i: number, v: number): void {
    const p = i >>> SHIFT;
    while (p >= this.pages.length) this.pages.push(this.make(PAGE));
    this.pages[p]![i & MASK] = v;
  }

  add(i: number, v: number): void {
    this.pages[i >>> SHIFT]![i & MASK]! += v;
  }

  /** Slots below `n` exist (set() adds pages as needed; this is for get() before any set()). */
  reserve(n: number): void {
    while (this.pages.length * PAGE < n) this.pages.push(this.make(PAGE));
  }
}

export class PagedInt32 extends Paged<Int32Array> {
  constructor() {
    super((n) => new Int32Array(n));
  }
}

export class PagedUint8 extends Paged<Uint8Array> {
  constructor() {
    super((n) => new Uint8Array(n));
  }
}

export class PagedFloat64 extends Paged<Float64Array> {
  constructor(fill = 0) {
    super((n) => (fill === 0 ? new Float64Array(n) : new Float64Array(n).fill(fill)));
  }
}

const NAME_PAGE = 1 << 16;

/** Names stored as UTF-16 code units; each has a handle (`at`) and a length. */
export class NamePool {
  private pages: Uint16Array[] = [];
  private used = NAME_PAGE; // no page yet

  /** Store a name; returns its handle. */
  add(name: string): number {
    const n = name.length;
    let page: Uint16Array;
    let offset: number;
    if (n > NAME_PAGE) {
      page = new Uint16Array(n); // a page of its own
      this.pages.push(page);
      offset = 0;
      this.used = NAME_PAGE;
    } else {
      if (this.used + n > NAME_PAGE) {
        this.pages.push(new Uint16Array(NAME_PAGE));
        this.used = 0;
      }
      page = this.pages[this.pages.length - 1]!;
      offset = this.used;
      this.used += n;
    }
    for (let i = 0; i < n; i++) page[offset + i] = name.charCodeAt(i);
    return (this.pages.length - 1) * NAME_PAGE + offset;
  }

  /** The code unit `i` of the name at `at`. */
  unit(at: number, i: number): number {
    return this.pages[Math.floor(at / NAME_PAGE)]![(at % NAME_PAGE) + i]!;
  }

  get(at: number, length: number): string {
    const page = this.pages[Math.floor(at / NAME_PAGE)]!;
    const offset = at % NAME_PAGE;
    let out = '';
    // In slices: an argument list is bounded.
    for (let i = 0; i < length; i += 4096) {
      out += String.fromCharCode.apply(null, page.subarray(offset + i, offset + Math.min(length, i + 4096)) as unknown as number[]);
    }
    return out;
  }

  /** FNV-1a over the name's code units from `seed` (the same as hashing the string so). */
  hash(at: number, length: number, seed: number): number {
    const page = this.pages[Math.floor(at / NAME_PAGE)]!;
    const offset = at % NAME_PAGE;
    let h = seed;
    for (let i = 0; i < length; i++) {
      h ^= page[offset + i]!;
      h = Math.imul(h, 0x01000193);
    }
    return h;
  }

  equals(at: number, length: number, name: string): boolean {
    if (length !== name.length) return false;
    const page = this.pages[Math.floor(at / NAME_PAGE)]!;
    const offset = at % NAME_PAGE;
    for (let i = 0; i < length; i++) if (page[offset + i] !== name.charCodeAt(i)) return false;
    return true;
  }
}
