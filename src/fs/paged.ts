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
    return this.addRange(name, 0, name.length);
  }

  /** Store `name.slice(start, stop)` without making that string; returns its handle. */
  addRange(name: string, start: number, stop: number): number {
    const n = stop - start;
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
    for (let i = 0; i < n; i++) page[offset + i] = name.charCodeAt(start + i);
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

  /**
   * Bytewise order of two names (negative, 0, positive) read in place, while their first
   * difference is ASCII; NaN where it is not, for the caller to compare the byte forms of the
   * strings (the pool holds UTF-16 units, whose order differs from UTF-8's past ASCII).
   */
  compare(a: number, la: number, b: number, lb: number): number {
    const pageA = this.pages[Math.floor(a / NAME_PAGE)]!;
    const pageB = this.pages[Math.floor(b / NAME_PAGE)]!;
    const oa = a % NAME_PAGE;
    const ob = b % NAME_PAGE;
    const n = Math.min(la, lb);
    for (let i = 0; i < n; i++) {
      const x = pageA[oa + i]!;
      const y = pageB[ob + i]!;
      if (x === y) continue;
      return x < 0x80 && y < 0x80 ? x - y : NaN;
    }
    return la - lb;
  }

  /** The name at `at` is `name.slice(start, stop)`. */
  equalsRange(at: number, length: number, name: string, start: number, stop: number): boolean {
    if (length !== stop - start) return false;
    const page = this.pages[Math.floor(at / NAME_PAGE)]!;
    const offset = at % NAME_PAGE;
    for (let i = 0; i < length; i++) if (page[offset + i] !== name.charCodeAt(start + i)) return false;
    return true;
  }
}
