/**
 * Geographic regions on a regular lat/lon grid as per-cell weights: the share of each cell's area
 * (in degrees, plate carree) that lies inside a box. Fractional weights matter on coarse grids: on the
 * 5-degree grid the Nino-3.4 box's edges cut the edge cells in half.
 */
import type { ModelEntry, RegionSpec } from '../data/project.js';
import type { RegionBox } from '../render/geo.js';

export interface LatLonBox {
  name: string;
  /** Degrees north, south < north. */
  south: number;
  north: number;
  /** Degrees east, west < east, in either convention (cells are compared modulo 360; [350, 370] crosses 0 E). */
  west: number;
  east: number;
}

/** Nino-3.4: 5N-5S, 170W-120W. Its SST anomaly defines the El Nino / La Nina label. */
export const NINO34: LatLonBox = { name: 'Nino-3.4', south: -5, north: 5, west: 190, east: 240 };

/** An lrp-lens.json region ({name, lat: [south, north], lon: [west, east]}) as a box. */
export function boxOf(r: RegionSpec): LatLonBox {
  return { name: r.name, south: r.lat[0], north: r.lat[1], west: r.lon[0], east: r.lon[1] };
}

/** A box as the render module draws it (geo.ts regionRects: the panel's and the figures' outline). */
export function regionOf(b: LatLonBox): RegionBox {
  return { name: b.name, lat: [b.south, b.north], lon: [b.west, b.east] };
}

/** The boxes an entry's figures outline: its own `regions`, or Nino-3.4 where it names none. */
export function entryBoxes(entry: Pick<ModelEntry, 'regions'>): LatLonBox[] {
  return entry.regions?.length ? entry.regions.map(boxOf) : [NINO34];
}

function overlap(a0: number, a1: number, b0: number, b1: number): number {
  return Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
}

/** Cell spacing of a coordinate axis (the first step; the grids here are regular). */
function step(v: ArrayLike<number>): number {
  return v.length > 1 ? Math.abs(v[1] - v[0]) : 1;
}

/**
 * Weight per cell (row-major lat x lon, in the coordinates' own order): the fraction of the cell inside
 * the box. Longitudes are compared modulo 360, so -170 and 190 are the same meridian.
 */
export function boxWeights(lat: ArrayLike<number>, lon: ArrayLike<number>, box: LatLonBox): Float64Array {
  const dLat = step(lat);
  const dLon = step(lon);
  const w = new Float64Array(lat.length * lon.length);
  const lonFrac = Array.from(lon, (l) => {
    const c = ((l % 360) + 360) % 360;
    // Check the cell and its copies one period either side (a cell at 359.5 spans 0 E).
    let o = 0;
    for (const shift of [-360, 0, 360]) o += overlap(c - dLon / 2 + shift, c + dLon / 2 + shift, box.west, box.east);
    return o / dLon;
  });
  for (let i = 0; i < lat.length; i++) {
    const f = overlap(lat[i] - dLat / 2, lat[i] + dLat / 2, box.south, box.north) / dLat;
    if (f === 0) continue;
    for (let j = 0; j < lon.length; j++) w[i * lon.length + j] = f * lonFrac[j];
  }
  return w;
}

/** Share of a non-negative per-cell map inside the weighted region. */
export function regionShare(map: ArrayLike<number>, weights: ArrayLike<number>): number {
  let inside = 0;
  let total = 0;
  for (let i = 0; i < map.length; i++) {
    const v = map[i];
    if (!Number.isFinite(v)) continue;
    total += v;
    inside += v * weights[i];
  }
  return total > 0 ? inside / total : NaN;
}

/** The region's share of the (unmasked) cells: what a map spread evenly would put inside it. */
export function areaShare(weights: ArrayLike<number>, masked?: Uint8Array): number {
  let inside = 0;
  let n = 0;
  for (let i = 0; i < weights.length; i++) {
    if (masked && masked[i]) continue;
    inside += weights[i];
    n++;
  }
  return n > 0 ? inside / n : NaN;
}
