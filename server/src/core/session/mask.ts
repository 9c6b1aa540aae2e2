/**
 * The relevance-map checks' mask (LRP209), built once for every front end: one byte per input value of a
 * sample in the order the checks read maps (channels last; collect.ts moves NCHW there), 1 = masked.
 * From the data's validity mask (1 = valid): a project's, over the spatial cells, or a --data field's,
 * which may cover the samples too (then a cell is masked where any sample misses it).
 */
import type { ModelInput } from '../data/pipeline.js';

const CHANNEL_DIMS = new Set(['channel', 'variable']);

export interface MaskSource {
  x: { shape: number[]; data: { length: number } };
  mask?: ModelInput['mask'];
  /** x's axes ('batch' or the sample dim first). */
  dims?: string[];
  scatter?: ModelInput['scatter'];
  /** Per-sample axes before flattening (a flattened input's [channel, lat, lon] order), where known. */
  gridDims?: string[];
}

export function checksMask(src: MaskSource, fileLayout: string): Uint8Array | undefined {
  // A flatten "valid" input holds valid cells only; the checks mask the rest on the grid (scatterContext).
  if (!src.mask || src.scatter) return undefined;
  const n = Math.max(1, src.x.shape[0] ?? 1);
  const per = src.x.data.length / n;
  let valid = src.mask.data;
  if (n > 1 && valid.length === n * per) {
    const folded = new Uint8Array(per).fill(1);
    for (let s = 0; s < n; s++) for (let i = 0; i < per; i++) if (!valid[s * per + i]) folded[i] = 0;
    valid = folded;
  }
  const cells = valid.length;
  if (cells === 0 || per % cells !== 0) return undefined;
  const c = per / cells;
  const out = new Uint8Array(per);
  if (c === 1) {
    const ch = src.x.shape[1];
    if (/^NC/.test(fileLayout) && src.x.shape.length > 2 && ch > 1) {
      // Channels-first values with their channels in the mask: to channels-last like the maps.
      const sp = per / ch;
      for (let k = 0; k < ch; k++) for (let i = 0; i < sp; i++) out[i * ch + k] = valid[k * sp + i] ? 0 : 1;
    } else for (let i = 0; i < per; i++) out[i] = valid[i] ? 0 : 1;
  } else {
    // Channels first only in a flattened [channel, ...spatial] vector, which the checks see as it is.
    const flatChannelsFirst = src.x.shape.length === 2 && CHANNEL_DIMS.has(src.gridDims?.[0] ?? '');
    for (let i = 0; i < cells; i++) {
      const v = valid[i] ? 0 : 1;
      for (let k = 0; k < c; k++) out[flatChannelsFirst ? k * cells + i : i * c + k] = v;
    }
  }
  return out.some((v) => v) ? out : undefined;
}
