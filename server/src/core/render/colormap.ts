/**
 * Colormaps and colour limits for relevance and input maps. Pure code: the webview bundle and the
 * server's PNG export import this same module, so a value gets the same colour on screen and on disk.
 */

/** Entries in a lookup table: odd, so a diverging map has an exact centre entry (zero = white). */
export const LUT_SIZE = 257;
export const LUT_MAX = LUT_SIZE - 1;

/** A LUT_SIZE-entry RGB lookup table. */
export interface Colormap {
  name: string;
  lut: Uint8Array;
}

/** Colour limits. Diverging maps put zero at the centre colour whatever vmin and vmax are. */
export interface Limits {
  vmin: number;
  vmax: number;
}

function hex(c: string): [number, number, number] {
  const n = parseInt(c.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Linear interpolation in sRGB between equally spaced stops. */
function buildLut(name: string, stops: string[]): Colormap {
  const rgb = stops.map(hex);
  const lut = new Uint8Array(LUT_SIZE * 3);
  for (let i = 0; i < LUT_SIZE; i++) {
    const t = (i / LUT_MAX) * (rgb.length - 1);
    const k = Math.min(Math.floor(t), rgb.length - 2);
    const f = t - k;
    for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(rgb[k][c] * (1 - f) + rgb[k + 1][c] * f);
  }
  return { name, lut };
}

/**
 * ColorBrewer RdBu reversed (negative blue, positive red) with pure white at zero: the usual choice for
 * LRP maps in climate science. An odd number of stops puts white exactly at the centre.
 */
export const DIVERGING: Colormap = buildLut('RdBu_r', [
  '#053061', '#2166ac', '#4393c3', '#92c5de', '#d1e5f0', '#ffffff',
  '#fddbc7', '#f4a582', '#d6604d', '#b2182b', '#67001f',
]);

/** Viridis (matplotlib), 9 stops: perceptually uniform, readable in grey, for input fields. */
export const SEQUENTIAL: Colormap = buildLut('viridis', [
  '#440154', '#472c7a', '#3b518b', '#2c718e', '#21908d', '#27ad81', '#5cc863', '#aadc32', '#fde725',
]);

/** Grey ramp: the input under a relevance overlay, so the overlay's colours are not confused with it. */
export const GREY: Colormap = buildLut('grey', ['#000000', '#ffffff']);

/** Colour of a cell with no value (NaN relevance on a masked cell). */
export const NO_DATA_RGB: [number, number, number] = [200, 200, 200];
/** Hatch line colour over masked cells, mixed with the cell's own colour. */
export const HATCH_RGB: [number, number, number] = [64, 64, 64];
/** Hatch geometry in output pixels: a diagonal line every PERIOD pixels, WIDTH pixels wide. */
export const HATCH_PERIOD = 6;
export const HATCH_WIDTH = 2;
export const HATCH_ALPHA = 0.7;

export interface LimitOptions {
  /** Symmetric limits [-m, m] (default); otherwise [min(low,0), max(high,0)], still centred on zero. */
  symmetric?: boolean;
  /** Clip at this percentile of |R| (symmetric) or of R (both ends); 100 = no clipping. */
  percentile?: number;
  /** Cells to leave out (true = masked). */
  mask?: Uint8Array;
}

/** The p-th percentile (0..100, linear interpolation) of the finite values, or NaN if none. */
export function percentile(values: ArrayLike<number>, p: number, mask?: Uint8Array): number {
  const kept: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v) && !(mask && mask[i])) kept.push(v);
  }
  if (kept.length === 0) return NaN;
  const a = Float64Array.from(kept).sort();
  const pos = (Math.min(100, Math.max(0, p)) / 100) * (a.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, a.length - 1);
  return a[lo] + (a[hi] - a[lo]) * (pos - lo);
}

/** Diverging limits for relevance: symmetric about zero by default, optional percentile clipping. */
export function relevanceLimits(values: ArrayLike<number>, opts: LimitOptions = {}): Limits {
  const symmetric = opts.symmetric ?? true;
  const p = opts.percentile ?? 100;
  let lo: number;
  let hi: number;
  if (symmetric) {
    let m: number;
    if (p >= 100) {
      m = 0;
      for (let i = 0; i < values.length; i++) {
        const v = Math.abs(values[i]);
        if (v > m && Number.isFinite(v) && !(opts.mask && opts.mask[i])) m = v;
      }
    } else {
      const abs = new Float64Array(values.length);
      for (let i = 0; i < values.length; i++) abs[i] = Math.abs(values[i]);
      m = percentile(abs, p, opts.mask);
    }
    if (!(m > 0)) m = 1; // all-zero or empty map: any non-degenerate scale shows white
    lo = -m;
    hi = m;
  } else {
    lo = Math.min(0, percentile(values, 100 - p, opts.mask));
    hi = Math.max(0, percentile(values, p, opts.mask));
    if (!Number.isFinite(lo)) lo = -1;
    if (!Number.isFinite(hi)) hi = 1;
    if (lo === 0 && hi === 0) { lo = -1; hi = 1; }
  }
  return { vmin: lo, vmax: hi };
}

/** Shared limits for a side-by-side comparison: one scale over every map. */
export function sharedLimits(maps: ArrayLike<number>[], opts: LimitOptions = {}): Limits {
  const total = maps.reduce((n, m) => n + m.length, 0);
  const all = new Float64Array(total);
  let o = 0;
  for (const m of maps) { for (let i = 0; i < m.length; i++) all[o + i] = m[i]; o += m.length; }
  return relevanceLimits(all, { ...opts, mask: undefined });
}

/** Min/max limits of the finite values, for a sequential map of the input. */
export function inputLimits(values: ArrayLike<number>, mask?: Uint8Array): Limits {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v) || (mask && mask[i])) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo)) return { vmin: 0, vmax: 1 };
  if (lo === hi) return { vmin: lo - 0.5, vmax: hi + 0.5 };
  return { vmin: lo, vmax: hi };
}

/** LUT index of a relevance value: zero maps to the centre entry, each side scaled by its own limit. */
export function divergingIndex(v: number, lim: Limits): number {
  let t: number;
  if (v >= 0) t = lim.vmax > 0 ? 0.5 + 0.5 * (v / lim.vmax) : 0.5;
  else t = lim.vmin < 0 ? 0.5 - 0.5 * (v / lim.vmin) : 0.5;
  return lutIndex(t);
}

/** LUT index of an input value on a sequential scale. */
export function sequentialIndex(v: number, lim: Limits): number {
  return lutIndex((v - lim.vmin) / (lim.vmax - lim.vmin));
}

function lutIndex(t: number): number {
  if (!(t > 0)) return 0;
  if (t >= 1) return LUT_MAX;
  return Math.round(t * LUT_MAX);
}

/** RGB of one value (for legends, tests and the hover readout swatch). */
export function colorOf(cmap: Colormap, index: number): [number, number, number] {
  const i = Math.max(0, Math.min(LUT_MAX, index)) * 3;
  return [cmap.lut[i], cmap.lut[i + 1], cmap.lut[i + 2]];
}

/** Tick values for a colour bar: the limits, zero, and the halfway points (diverging). */
export function colorbarTicks(lim: Limits): number[] {
  const t = [lim.vmin, lim.vmin / 2, 0, lim.vmax / 2, lim.vmax];
  return t.filter((v, i) => t.indexOf(v) === i);
}

/** Compact number format for ticks and readouts (keeps the sign, 3 significant digits). */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'no data' : v > 0 ? '+inf' : '-inf';
  if (v === 0) return '0';
  const a = Math.abs(v);
  const s = a >= 1e4 || a < 1e-3 ? v.toExponential(2) : v.toPrecision(3);
  return v > 0 ? `+${s}` : s;
}

/** Pixel row of a value on a vertical colour bar of `length` pixels (max at the top). */
export function valueToBarY(v: number, lim: Limits, length: number, kind: 'diverging' | 'sequential'): number {
  let t: number;
  if (kind === 'diverging') t = v >= 0 ? 0.5 + 0.5 * (v / (lim.vmax || 1)) : 0.5 - 0.5 * (v / (lim.vmin || -1));
  else t = (v - lim.vmin) / (lim.vmax - lim.vmin || 1);
  return Math.round((1 - Math.max(0, Math.min(1, t))) * (length - 1));
}
