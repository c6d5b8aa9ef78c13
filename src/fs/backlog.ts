// The backlog: how far the threads that read layers (fs/scan-worker.ts) may run ahead of the
// thread that applies their entries (fs/layer-feed.ts). The bytes of entry batches posted and
// not yet applied, per layer and in all, live in shared memory. A reader whose layer is not the
// one being applied stops while all the batches waiting exceed the limit, once a thread reads
// the layer being applied (until then it must go on: it may be the thread that will); the
// reader of the layer being applied stops while its own batches do (the applying thread is
// behind it). Nothing else stops it, so the layer being applied always moves on. Without this,
// a layer of millions of files read ahead of a slow one would wait in memory whole.

/**
 * Batches waiting, in all, beyond which readers stop: some 25,000 entries, enough to keep the
 * applying thread fed (manyfiles `analyze`: 220-226 MB against 233-239 at 16 MiB, in the same
 * time; debian-big, where the applying thread keeps up, the same either way).
 */
export const BACKLOG_BYTES = 4 * 1024 * 1024;

const TOTAL = 0; // KiB waiting, all layers
const CURRENT = 1; // the layer being applied
const CURRENT_READ = 2; // 1 once a thread reads the layer being applied
const LAYER = 3; // KiB waiting, layer i at LAYER + i

/** Counts are kept in KiB, rounded up: an Int32 holds 2 TiB of them. */
function kib(bytes: number): number {
  return Math.ceil(bytes / 1024);
}

export class Backlog {
  /** A reading thread's view of the backlog the applying thread made (forLayers) and shared. */
  constructor(
    readonly shared: Int32Array,
    readonly limit = BACKLOG_BYTES,
  ) {}

  /** A new backlog, in shared memory, for a pass over `layers` layers. */
  static forLayers(layers: number, limit = BACKLOG_BYTES): Backlog {
    return new Backlog(new Int32Array(new SharedArrayBuffer(4 * (LAYER + layers))), limit);
  }

  /** Bytes of batches waiting, in all. */
  get bytes(): number {
    return Atomics.load(this.shared, TOTAL) * 1024;
  }

  /** The applying thread moves on to layer `id`; `read`: a thread reads it already. */
  apply(id: number, read: boolean): void {
    Atomics.store(this.shared, CURRENT_READ, read ? 1 : 0);
    Atomics.store(this.shared, CURRENT, id);
    Atomics.notify(this.shared, TOTAL);
  }

  /** A thread now reads the layer being applied. */
  currentRead(): void {
    Atomics.store(this.shared, CURRENT_READ, 1);
    Atomics.notify(this.shared, TOTAL);
  }

  /** A reading thread posted a batch of `bytes` for layer `id`. */
  posted(id: number, bytes: number): void {
    Atomics.add(this.shared, LAYER + id, kib(bytes));
    Atomics.add(this.shared, TOTAL, kib(bytes));
  }

  /**
   * The applying thread applied a batch of `bytes` of layer `id`. A stopped reader is woken only
   * as what it waits on falls to the low-water mark (see waitTurn).
   */
  applied(id: number, bytes: number): void {
    const k = kib(bytes);
    const low = this.lowWater();
    const layerWas = Atomics.sub(this.shared, LAYER + id, k);
    const totalWas = Atomics.sub(this.shared, TOTAL, k);
    if ((layerWas > low && layerWas - k <= low) || (totalWas > low && totalWas - k <= low)) Atomics.notify(this.shared, TOTAL);
  }

  /** KiB of batches waiting that a stopped reader waits for (half the limit), in the shared counts' unit. */
  private lowWater(): number {
    return kib(this.limit) >> 1;
  }

  /**
   * A reading thread, after posting for layer `id`: block while it is too far ahead. Once
   * stopped, it waits until the batches it waits on are down to half the limit, not just under
   * it: woken at every batch applied, a reader held back by a busy applying thread posted one
   * batch and stopped again, a wake-up and two thread switches per batch on a machine with a
   * core for each thread or fewer.
   */
  waitTurn(id: number): void {
    let bound = kib(this.limit);
    for (;;) {
      const total = Atomics.load(this.shared, TOTAL);
      let ahead: number;
      if (Atomics.load(this.shared, CURRENT) === id) ahead = Atomics.load(this.shared, LAYER + id);
      else if (Atomics.load(this.shared, CURRENT_READ) === 1) ahead = total;
      else return;
      if (ahead <= bound) return;
      bound = this.lowWater();
      // Woken by applied() at the low-water mark and by apply() (the timeout only a safety net).
      Atomics.wait(this.shared, TOTAL, total, 100);
    }
  }
}
