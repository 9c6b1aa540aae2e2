/**
 * From a batch of relevance (in the model file's layout) to the 2-D maps the panel draws, and the
 * data-set statistics over them: class-mean composites, mean |R|, relevance share on artifact regions.
 * Pure code (no DOM), tested in Node.
 */
import { inputLimits, relevanceLimits, type Limits } from '../../server/src/core/render/colormap.js';

export interface MapBatch {
  n: number;
  height: number;
  width: number;
  /** One height*width map per sample (channels summed for relevance, first channel for inputs). */
  maps: Float32Array[];
}

/** Split a batch tensor into per-sample 2-D maps. Channels are summed (relevance) or the first taken. */
export function toMaps(data: Float32Array, shape: number[], layout: string | undefined, reduce: 'sum' | 'first'): MapBatch {
  const n = shape[0] ?? 1;
  let h = 1;
  let w = 1;
  let c = 1;
  let channelsFirst = false;
  const rest = shape.slice(1);
  if (rest.length === 1) w = rest[0];
  else if (rest.length === 2) [h, w] = rest;
  else if (rest.length === 3) {
    channelsFirst = layout === 'NCHW';
    if (channelsFirst) [c, h, w] = rest;
    else [h, w, c] = rest;
  } else throw new Error(`cannot show an input of shape [${shape.join(', ')}] as a map`);
  const cells = h * w;
  const maps: Float32Array[] = [];
  for (let s = 0; s < n; s++) {
    const base = s * cells * c;
    if (c === 1) {
      maps.push(data.subarray(base, base + cells)); // one channel: a view, no copy
      continue;
    }
    const m = new Float32Array(cells);
    for (let i = 0; i < cells; i++) {
      if (reduce === 'first') m[i] = channelsFirst ? data[base + i] : data[base + i * c];
      else {
        let acc = 0;
        for (let k = 0; k < c; k++) acc += channelsFirst ? data[base + k * cells + i] : data[base + i * c + k];
        m[i] = acc;
      }
    }
    maps.push(m);
  }
  return { n, height: h, width: w, maps };
}

/** Mean map over the given samples (NaN cells stay NaN only if NaN in every sample). */
export function meanMap(maps: Float32Array[], abs = false): Float32Array {
  const cells = maps[0]?.length ?? 0;
  const out = new Float32Array(cells);
  for (let i = 0; i < cells; i++) {
    let s = 0;
    let k = 0;
    for (const m of maps) {
      const v = m[i];
      if (Number.isNaN(v)) continue;
      s += abs ? Math.abs(v) : v;
      k++;
    }
    out[i] = k ? s / k : NaN;
  }
  return out;
}

/** Class-mean composites: the mean relevance of the samples explained for each class. */
export function classMeans(maps: Float32Array[], targets: number[]): { cls: number; count: number; map: Float32Array }[] {
  const by = new Map<number, Float32Array[]>();
  maps.forEach((m, i) => {
    const t = targets[i];
    if (!by.has(t)) by.set(t, []);
    by.get(t)!.push(m);
  });
  return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([cls, ms]) => ({ cls, count: ms.length, map: meanMap(ms) }));
}

export interface ArtifactShare {
  /** Share of total |R| in the border band. */
  border: number;
  /** Share of cells in the band (what |R| would be with no border effect). */
  borderCells: number;
  /** Share of total |R| on masked cells. */
  masked: number;
  maskedCells: number;
}

/** How much of |R| lies on the border band and on masked cells, against those regions' cell shares. */
export function artifactShare(rel: Float32Array, height: number, width: number, band: number, mask?: Uint8Array): ArtifactShare {
  let total = 0;
  let border = 0;
  let masked = 0;
  let nBorder = 0;
  let nMasked = 0;
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const i = r * width + c;
      const v = Math.abs(rel[i]);
      const inBand = r < band || c < band || r >= height - band || c >= width - band;
      if (inBand) nBorder++;
      if (mask && mask[i]) nMasked++;
      if (!Number.isFinite(v)) continue;
      total += v;
      if (inBand) border += v;
      if (mask && mask[i]) masked += v;
    }
  }
  const cells = height * width;
  return {
    border: total ? border / total : 0,
    borderCells: nBorder / cells,
    masked: total ? masked / total : 0,
    maskedCells: nMasked / cells,
  };
}

/** Pearson correlation of two maps over cells finite in both (for the comparison view's summary). */
export function correlation(a: Float32Array, b: Float32Array): number {
  let n = 0, sa = 0, sb = 0;
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i]) && Number.isFinite(b[i])) { n++; sa += a[i]; sb += b[i]; }
  if (n < 2) return NaN;
  const ma = sa / n;
  const mb = sb / n;
  let cov = 0, va = 0, vb = 0;
  for (let i = 0; i < a.length; i++) {
    if (!(Number.isFinite(a[i]) && Number.isFinite(b[i]))) continue;
    cov += (a[i] - ma) * (b[i] - mb);
    va += (a[i] - ma) ** 2;
    vb += (b[i] - mb) ** 2;
  }
  return va && vb ? cov / Math.sqrt(va * vb) : NaN;
}

/** Sum and extremes of a map, for the canvas's text alternative. */
export function mapSummary(m: Float32Array, width: number, mask?: Uint8Array): { sum: number; max: number; maxAt: [number, number]; min: number; minAt: [number, number]; positiveShare: number } {
  let sum = 0, max = -Infinity, min = Infinity, imax = 0, imin = 0, pos = 0, absTot = 0;
  for (let i = 0; i < m.length; i++) {
    const v = m[i];
    if (!Number.isFinite(v)) continue;
    sum += v;
    if (mask && mask[i]) continue; // extremes and shares describe the unmasked field; the sum is the total
    absTot += Math.abs(v);
    if (v > 0) pos += v;
    if (v > max) { max = v; imax = i; }
    if (v < min) { min = v; imin = i; }
  }
  return {
    sum, max, min,
    maxAt: [Math.floor(imax / width), imax % width],
    minAt: [Math.floor(imin / width), imin % width],
    positiveShare: absTot ? pos / absTot : 0,
  };
}

/** Border band width and stride from the findings' figures (LRP101/LRP202 and LRP102/LRP203). */
export function overlayGeometry(findings: { code: string; data?: Record<string, unknown> }[]): { band?: number; stride?: number; phase?: number } {
  const num = (d: Record<string, unknown> | undefined, keys: string[]) => {
    for (const k of keys) {
      const v = d?.[k];
      if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
      // Per-axis figures (LRP101's band before/after per axis, strides per axis): the widest.
      if (Array.isArray(v)) {
        const m = Math.max(0, ...v.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)));
        if (m > 0) return m;
      }
    }
    return undefined;
  };
  const out: { band?: number; stride?: number; phase?: number } = {};
  for (const f of findings) {
    if (f.code === 'LRP101' || f.code === 'LRP202') out.band ??= num(f.data, ['band', 'bandWidth', 'borderWidth', 'receptiveField', 'width']);
    if (f.code === 'LRP102' || f.code === 'LRP203') {
      out.stride ??= num(f.data, ['stride', 'strides', 'totalStride', 'period']);
      const p = f.data?.phase;
      if (typeof p === 'number') out.phase = p;
    }
  }
  return out;
}

/**
 * Undo the periodic longitude wrap of lrp-lens.json (input.wrapLon): the model saw `wrap` copied columns
 * on each side. Relevance of a copy belongs to the cell it copies, so it is added back onto that column
 * ('fold', which keeps each map's sum); inputs, masks and coordinates just drop the copies ('crop').
 */
export function unwrapColumns<T extends Float32Array | Uint8Array>(map: T, height: number, width: number, wrap: number, how: 'fold' | 'crop'): T {
  const inner = width - 2 * wrap;
  if (wrap <= 0 || inner <= 0) return map;
  const out = new (map.constructor as { new (n: number): T })(height * inner);
  for (let r = 0; r < height; r++) {
    for (let j = 0; j < inner; j++) out[r * inner + j] = map[r * width + wrap + j];
    if (how === 'fold') {
      for (let j = 0; j < wrap; j++) {
        // Left copies hold the last columns, right copies the first ones.
        out[r * inner + ((j - wrap + inner * 2) % inner)] += map[r * width + j];
        out[r * inner + (j % inner)] += map[r * width + wrap + inner + j];
      }
    }
  }
  return out;
}

/** unwrapColumns over a whole batch. */
export function unwrapBatch(b: MapBatch, wrap: number, how: 'fold' | 'crop'): MapBatch {
  if (wrap <= 0 || b.width - 2 * wrap <= 0) return b;
  return { n: b.n, height: b.height, width: b.width - 2 * wrap, maps: b.maps.map((m) => unwrapColumns(m, b.height, b.width, wrap, how)) };
}

/**
 * How an input map is coloured: an anomaly or standardized field (the result's inputDiverging) in the
 * diverging colormap, white at 0, with limits +-max|x| over the unmasked cells so equal departures
 * either way get equal colours; any other field sequential from its minimum to its maximum.
 */
export function inputScale(values: ArrayLike<number>, mask: Uint8Array | undefined, diverging: boolean): { kind: 'diverging' | 'sequential'; limits: Limits } {
  if (!diverging) return { kind: 'sequential', limits: inputLimits(values, mask) };
  return { kind: 'diverging', limits: relevanceLimits(values, { symmetric: true, mask }) };
}

/** The input colour bar's label: what the values are and their units. */
export function inputLabel(units: string | undefined, diverging: boolean): string {
  const what = diverging ? 'input anomaly' : 'input';
  return units ? `${what} (${units})` : what;
}
