/**
 * `input.coarsen`: block means of k x k cells over latitude and longitude, before standardization. Missing
 * cells (NaN) are left out of a block's mean (a block with no value stays missing); cells past the last
 * whole block are dropped, as xarray's `coarsen(..., boundary="trim")` does. The lat/lon coordinates
 * become the block centres (the mean of each block's coordinates).
 */
import type { Coord, Field, FieldCoords } from '../field.js';
import { KeyedError } from '../keyed.js';
import type { ModelEntry } from '../project.js';
import { product } from '../source.js';
import { P } from './entry.js';

/** The factor and the dims it applies to (the data's lat and lon dims). */
export interface Coarsening {
  k: number;
  dims: string[];
}

/** The entry's coarsening of these dims (undefined for none or 1), checked from sizes alone. */
export function planCoarsening(e: ModelEntry, dims: string[], shape: number[], coords: FieldCoords): Coarsening | undefined {
  const k = e.input.coarsen ?? 1;
  if (k <= 1) return undefined;
  const path = P(e, 'input', 'coarsen');
  const grid = [coords.lat?.dim, coords.lon?.dim].filter((d): d is string => d !== undefined && dims.includes(d));
  if (grid.length === 0) throw new KeyedError('CONFIG_ERROR', `'coarsen' averages blocks of latitudes and longitudes, and ${dims.join(', ')} has neither; name them with "coords": {"lat": DIM, "lon": DIM}`, path);
  for (const d of grid) {
    const n = shape[dims.indexOf(d)];
    if (n < k) throw new KeyedError('CONFIG_ERROR', `'coarsen' ${k} is more than the ${n} cells along ${d}`, path);
  }
  if (e.mask !== undefined && e.mask !== 'missing') throw new KeyedError('CONFIG_ERROR', `'coarsen' works with "mask": "missing" (the mask of the coarsened field); a mask variable is on the original grid`, path);
  return { k, dims: grid };
}

/** Each dim's factor (k on the coarsened dims, 1 elsewhere). */
export function factorsOf(c: Coarsening, dims: string[]): number[] {
  return dims.map((d) => (c.dims.includes(d) ? c.k : 1));
}

/** The shape after coarsening. */
export function coarsenedShape(shape: number[], factors: number[]): number[] {
  return shape.map((n, i) => Math.floor(n / factors[i]));
}

/** The coordinates after coarsening: block centres on the coarsened dims, the others as they are. */
export function coarsenCoords(coords: FieldCoords, c: Coarsening): FieldCoords {
  const out: FieldCoords = { ...coords };
  for (const axis of ['lat', 'lon'] as const) {
    const co = coords[axis];
    if (!co || !c.dims.includes(co.dim) || co.values.length === 0) continue;
    const n = Math.floor(co.values.length / c.k);
    const values = new Float64Array(n);
    for (let b = 0; b < n; b++) {
      let s = 0;
      for (let j = 0; j < c.k; j++) s += co.values[b * c.k + j];
      values[b] = s / c.k;
    }
    out[axis] = { ...co, values } satisfies Coord;
  }
  return out;
}

/**
 * Block means of a C-order array (factor f[i] along axis i), NaN left out; trailing cells that do not fill
 * a block are dropped. Sums in float64, visiting each block's cells in C order.
 */
export function blockMean(values: Float32Array, shape: number[], factors: number[]): { data: Float32Array; shape: number[] } {
  const outShape = coarsenedShape(shape, factors);
  const nOut = product(outShape);
  const sum = new Float64Array(nOut);
  const count = new Uint32Array(nOut);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  const total = product(shape);
  for (let i = 0; i < total; i++) {
    // Output index of input index idx (skipped when past the last whole block).
    let o = 0;
    let inside = true;
    for (let a = 0; a < rank; a++) {
      const q = Math.floor(idx[a] / factors[a]);
      if (q >= outShape[a]) {
        inside = false;
        break;
      }
      o = o * outShape[a] + q;
    }
    const v = values[i];
    if (inside && !Number.isNaN(v)) {
      sum[o] += v;
      count[o]++;
    }
    for (let a = rank - 1; a >= 0; a--) {
      if (++idx[a] < shape[a]) break;
      idx[a] = 0;
    }
  }
  const data = new Float32Array(nOut);
  for (let o = 0; o < nOut; o++) data[o] = count[o] ? sum[o] / count[o] : NaN;
  return { data, shape: outShape };
}

/** A read field coarsened (values and shape; the coordinates are planned in axes.ts). */
export function coarsenField(f: Field, c: Coarsening): Field {
  const b = blockMean(f.values, f.shape, factorsOf(c, f.dims));
  const mask = new Uint8Array(b.data.length);
  for (let i = 0; i < mask.length; i++) mask[i] = Number.isNaN(b.data[i]) ? 0 : 1;
  return { ...f, values: b.data, shape: b.shape, mask, coords: coarsenCoords(f.coords, c) };
}
