// Go's sort.Sort (pattern-defeating quicksort, as in Go 1.19 and later), step for step, in
// TypeScript. It is not stable: where a Go program sorts with it, the order of equal elements is
// whatever these steps leave, and reproducing that program's output means taking the same steps.
// The pseudo-random shuffle that breaks bad patterns changed in Go 1.24 (golang/go#70144); dive
// 0.13 is built with Go 1.24, which is the default here.

/** The xorshift shifts of breakPatterns: Go 1.24 and later, or Go 1.19 to 1.23. */
export type GoSortVersion = 'go1.24' | 'go1.19';

/** Sort indexes 0..n-1 of a collection through `less` and `swap`, as Go's sort.Sort does. */
export function goSort(n: number, less: (i: number, j: number) => boolean, swap: (i: number, j: number) => void, version: GoSortVersion = 'go1.24'): void {
  if (n <= 1) return;
  pdqsort({ less, swap, shifts: version === 'go1.24' ? [13n, 7n, 17n] : [13n, 17n, 5n] }, 0, n, bitsLen(n));
}

/** Sort an array in place with Go's sort.Sort and a Less on elements. */
export function goSortArray<T>(a: T[], less: (x: T, y: T) => boolean, version: GoSortVersion = 'go1.24'): T[] {
  goSort(
    a.length,
    (i, j) => less(a[i]!, a[j]!),
    (i, j) => {
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    },
    version,
  );
  return a;
}

interface Data {
  less(i: number, j: number): boolean;
  swap(i: number, j: number): void;
  /** xorshift: left, right, left. */
  shifts: [bigint, bigint, bigint];
}

const enum Hint {
  Unknown,
  Increasing,
  Decreasing,
}

function bitsLen(x: number): number {
  let n = 0;
  while (x > 0) {
    n++;
    x = Math.floor(x / 2);
  }
  return n;
}

function insertionSort(d: Data, a: number, b: number): void {
  for (let i = a + 1; i < b; i++) for (let j = i; j > a && d.less(j, j - 1); j--) d.swap(j, j - 1);
}

function siftDown(d: Data, lo: number, hi: number, first: number): void {
  let root = lo;
  for (;;) {
    let child = 2 * root + 1;
    if (child >= hi) return;
    if (child + 1 < hi && d.less(first + child, first + child + 1)) child++;
    if (!d.less(first + root, first + child)) return;
    d.swap(first + root, first + child);
    root = child;
  }
}

function heapSort(d: Data, a: number, b: number): void {
  const first = a;
  const hi = b - a;
  for (let i = Math.floor((hi - 1) / 2); i >= 0; i--) siftDown(d, i, hi, first);
  for (let i = hi - 1; i >= 0; i--) {
    d.swap(first, first + i);
    siftDown(d, 0, i, first);
  }
}

function pdqsort(d: Data, a: number, b: number, limit: number): void {
  const maxInsertion = 12;
  let wasBalanced = true;
  let wasPartitioned = true;
  for (;;) {
    const length = b - a;
    if (length <= maxInsertion) {
      insertionSort(d, a, b);
      return;
    }
    if (limit === 0) {
      heapSort(d, a, b);
      return;
    }
    if (!wasBalanced) {
      breakPatterns(d, a, b);
      limit--;
    }
    let [pivot, hint] = choosePivot(d, a, b);
    if (hint === Hint.Decreasing) {
      reverseRange(d, a, b);
      pivot = b - 1 - (pivot - a);
      hint = Hint.Increasing;
    }
    if (wasBalanced && wasPartitioned && hint === Hint.Increasing) {
      if (partialInsertionSort(d, a, b)) return;
    }
    if (a > 0 && !d.less(a - 1, pivot)) {
      a = partitionEqual(d, a, b, pivot);
      continue;
    }
    const mid = partition(d, a, b, pivot);
    wasPartitioned = alreadyPartitioned;
    const leftLen = mid - a;
    const rightLen = b - mid;
    const balanceThreshold = Math.floor(length / 8);
    if (leftLen < rightLen) {
      wasBalanced = leftLen >= balanceThreshold;
      pdqsort(d, a, mid, limit);
      a = mid + 1;
    } else {
      wasBalanced = rightLen >= balanceThreshold;
      pdqsort(d, mid + 1, b, limit);
      b = mid;
    }
  }
}

/** Whether the last partition() found the range partitioned already (Go returns it beside the index). */
let alreadyPartitioned = false;

/**
 * Go's partition: the index of the pivot once in place; `alreadyPartitioned` says whether nothing
 * had to move. The scan is a function of its own and nothing is returned in an array: V8 optimizes
 * a function while its first, largest range is partitioned (on-stack replacement), before the
 * code after the loops has ever run, and code optimized so deoptimized at every return after it
 * (hundreds of times sorting dive's 100,000 paths).
 */
function partition(d: Data, a: number, b: number, pivot: number): number {
  d.swap(a, pivot);
  const j = partitionScan(d, a, b);
  d.swap(j, a);
  return j;
}

/** partition() without its first and last swaps: where the pivot goes. */
function partitionScan(d: Data, a: number, b: number): number {
  let i = a + 1;
  let j = b - 1;
  while (i <= j && d.less(i, a)) i++;
  while (i <= j && !d.less(j, a)) j--;
  alreadyPartitioned = i > j;
  if (alreadyPartitioned) return j;
  d.swap(i, j);
  i++;
  j--;
  for (;;) {
    while (i <= j && d.less(i, a)) i++;
    while (i <= j && !d.less(j, a)) j--;
    if (i > j) return j;
    d.swap(i, j);
    i++;
    j--;
  }
}

function partitionEqual(d: Data, a: number, b: number, pivot: number): number {
  d.swap(a, pivot);
  let i = a + 1;
  let j = b - 1;
  for (;;) {
    while (i <= j && !d.less(a, i)) i++;
    while (i <= j && d.less(a, j)) j--;
    if (i > j) break;
    d.swap(i, j);
    i++;
    j--;
  }
  return i;
}

function partialInsertionSort(d: Data, a: number, b: number): boolean {
  const maxSteps = 5;
  const shortestShifting = 50;
  let i = a + 1;
  for (let step = 0; step < maxSteps; step++) {
    while (i < b && !d.less(i, i - 1)) i++;
    if (i === b) return true;
    if (b - a < shortestShifting) return false;
    d.swap(i, i - 1);
    if (i - a >= 2) {
      for (let j = i - 1; j >= 1; j--) {
        if (!d.less(j, j - 1)) break;
        d.swap(j, j - 1);
      }
    }
    if (b - i >= 2) {
      for (let j = i + 1; j < b; j++) {
        if (!d.less(j, j - 1)) break;
        d.swap(j, j - 1);
      }
    }
  }
  return false;
}

const MASK64 = (1n << 64n) - 1n;

function breakPatterns(d: Data, a: number, b: number): void {
  const length = b - a;
  if (length < 8) return;
  let r = BigInt(length);
  const [a1, b1, c1] = d.shifts;
  const next = () => {
    r ^= (r << a1) & MASK64;
    r ^= r >> b1;
    r ^= (r << c1) & MASK64;
    return r;
  };
  const modulus = 2 ** bitsLen(length);
  const from = a + Math.floor(length / 4) * 2 - 1;
  for (let idx = from; idx <= from + 2; idx++) {
    let other = Number(next() & BigInt(modulus - 1));
    if (other >= length) other -= length;
    d.swap(idx, a + other);
  }
}

function choosePivot(d: Data, a: number, b: number): [number, Hint] {
  const shortestNinther = 50;
  const maxSwaps = 4 * 3;
  const l = b - a;
  const swaps = { n: 0 };
  let i = a + Math.floor(l / 4) * 1;
  let j = a + Math.floor(l / 4) * 2;
  let k = a + Math.floor(l / 4) * 3;
  if (l >= 8) {
    if (l >= shortestNinther) {
      i = median(d, i - 1, i, i + 1, swaps);
      j = median(d, j - 1, j, j + 1, swaps);
      k = median(d, k - 1, k, k + 1, swaps);
    }
    j = median(d, i, j, k, swaps);
  }
  if (swaps.n === 0) return [j, Hint.Increasing];
  if (swaps.n === maxSwaps) return [j, Hint.Decreasing];
  return [j, Hint.Unknown];
}

function median(d: Data, a: number, b: number, c: number, swaps: { n: number }): number {
  const order2 = (x: number, y: number): [number, number] => {
    if (d.less(y, x)) {
      swaps.n++;
      return [y, x];
    }
    return [x, y];
  };
  [a, b] = order2(a, b);
  [b, c] = order2(b, c);
  [a, b] = order2(a, b);
  return b;
}

function reverseRange(d: Data, a: number, b: number): void {
  for (let i = a, j = b - 1; i < j; i++, j--) d.swap(i, j);
}
