// Lining history up against layers. Each history entry without `empty_layer` made the next
// layer; entries with it made none. Real images disagree with this more often than one would
// hope, so the mismatch is reported, never crashed on.
import type { HistoryEntry } from './config.js';

export interface AlignedHistory {
  entries: Array<HistoryEntry & { layerIndex: number | null }>;
  /** The history entry that made each layer, or null when history runs out. */
  layerEntry: Array<number | null>;
  /** A sentence when history and layers disagree. */
  mismatch?: string;
}

export function alignHistory(history: HistoryEntry[], layerCount: number): AlignedHistory {
  const layerEntry: Array<number | null> = new Array(layerCount).fill(null);
  let next = 0;
  const entries = history.map((h, i) => {
    if (h.emptyLayer) return { ...h, layerIndex: null };
    if (next < layerCount) {
      layerEntry[next] = i;
      return { ...h, layerIndex: next++ };
    }
    next++;
    return { ...h, layerIndex: null };
  });
  let mismatch: string | undefined;
  if (history.length > 0 && next !== layerCount) {
    mismatch = `history has ${next} ${next === 1 ? 'entry' : 'entries'} that made a layer but the image has ${layerCount} layer${layerCount === 1 ? '' : 's'}`;
  }
  return { entries, layerEntry, mismatch };
}
