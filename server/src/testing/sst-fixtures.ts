/**
 * Real data for the render and panel tests: the Zennit reference maps of `cnn_same` and one month of
 * ERSSTv5 (89x180, land = missing value, turned into NaN). Test support only; the panel itself gets
 * its data from the language server.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy } from '../core/data/npy.js';
import { toFloat32 } from '../core/array.js';
import { GEODATA, REF } from './paths.js';

export interface ReferenceSet {
  /** Samples, rows, cols (one channel). */
  n: number;
  height: number;
  width: number;
  x: Float32Array;
  relevance: Record<string, Float32Array>;
  logits: Float32Array;
  classes: number;
  target: number[];
}

export const COMPOSITES = ['epsilon_1e-6', 'epsilon_plus', 'epsilon_gamma_box'] as const;

export function loadReference(): ReferenceSet {
  const dir = join(REF, 'cnn_same');
  const npy = (f: string) => readNpy(readFileSync(join(dir, f)), f);
  const x = npy('x_nhwc.npy');
  const [n, height, width] = x.shape;
  const relevance: Record<string, Float32Array> = {};
  for (const c of COMPOSITES) relevance[c] = toFloat32(npy(`relevance_${c}_nhwc.npy`));
  const logits = npy('logits.npy');
  const target = Array.from(npy('target.npy').data as ArrayLike<number>, Number);
  return { n, height, width, x: toFloat32(x), relevance, logits: toFloat32(logits), classes: logits.shape[1], target };
}

export interface SstField {
  lat: number[];
  lon: number[];
  /** Months x 89 x 180, NaN on land. */
  sst: Float32Array;
  months: number;
}

/** The whole 2010-2020 ERSSTv5 file (128 months, about 8 MB as float32). */
export async function loadSst(): Promise<SstField> {
  const h5wasm = (await import('h5wasm/node')).default;
  await h5wasm.ready;
  const f = new h5wasm.File(join(GEODATA, 'ersstv5-global-2deg-2010-2020', 'sst.mnmean.nc'), 'r');
  try {
    const get = (k: string) => f.get(k) as unknown as { value: ArrayLike<number>; shape: number[] };
    const lat = Array.from(get('lat').value, Number);
    const lon = Array.from(get('lon').value, Number);
    const v = get('sst');
    const sst = Float32Array.from(v.value);
    // The file marks land with missing_value -9.97e36: the panel's mask is NaN.
    for (let i = 0; i < sst.length; i++) if (!(Math.abs(sst[i]) < 1e30)) sst[i] = NaN;
    return { lat, lon, sst, months: v.shape[0] };
  } finally {
    f.close();
  }
}

/** SST anomaly of one month against the 2010-2020 mean of the same calendar month. */
export function sstAnomaly(f: SstField, month: number): Float32Array {
  const cells = f.lat.length * f.lon.length;
  const out = new Float32Array(cells);
  const cal = month % 12;
  for (let i = 0; i < cells; i++) {
    let s = 0;
    let k = 0;
    for (let m = cal; m < f.months; m += 12) { s += f.sst[m * cells + i]; k++; }
    out[i] = f.sst[month * cells + i] - s / k;
  }
  return out;
}

/**
 * LRP of the Nino-3.4 index seen as a linear model y = sum_i w_i x_i (w = 1/n over the ocean cells of
 * 5S-5N, 170W-120W; no bias): with one-hot initialisation every rule gives R_i = w_i x_i / y. A real
 * LRP result on real data, computable here without the engine.
 */
export function nino34Relevance(f: SstField, anomaly: Float32Array): { relevance: Float32Array; output: number } {
  const w = new Float32Array(anomaly.length);
  let n = 0;
  f.lat.forEach((la, r) => f.lon.forEach((lo, c) => {
    const i = r * f.lon.length + c;
    if (la >= -5 && la <= 5 && lo >= 190 && lo <= 240 && Number.isFinite(anomaly[i])) { w[i] = 1; n++; }
  }));
  let y = 0;
  for (let i = 0; i < w.length; i++) if (w[i]) { w[i] /= n; y += w[i] * anomaly[i]; }
  const relevance = new Float32Array(anomaly.length);
  for (let i = 0; i < w.length; i++) relevance[i] = Number.isNaN(anomaly[i]) ? NaN : (w[i] * anomaly[i]) / y;
  return { relevance, output: y };
}

/** A 720x1440 (0.25 degree) field resampled bilinearly from the 2-degree one, for render timing. */
export function upsample(f: SstField, field: Float32Array, height = 720, width = 1440): { data: Float32Array; lat: number[]; lon: number[] } {
  const H = f.lat.length;
  const W = f.lon.length;
  const lat = Array.from({ length: height }, (_, r) => 90 - (r + 0.5) * (180 / height));
  const lon = Array.from({ length: width }, (_, c) => (c + 0.5) * (360 / width));
  const data = new Float32Array(height * width);
  for (let r = 0; r < height; r++) {
    const fr = Math.max(0, Math.min(H - 1.001, (f.lat[0] - lat[r]) / (f.lat[0] - f.lat[1])));
    const r0 = Math.floor(fr);
    const a = fr - r0;
    for (let c = 0; c < width; c++) {
      const fc = Math.min(W - 1.001, lon[c] / (f.lon[1] - f.lon[0]));
      const c0 = Math.floor(fc);
      const b = fc - c0;
      const v = (i: number, j: number) => field[i * W + j];
      data[r * width + c] = (1 - a) * ((1 - b) * v(r0, c0) + b * v(r0, c0 + 1)) + a * ((1 - b) * v(r0 + 1, c0) + b * v(r0 + 1, c0 + 1));
    }
  }
  return { data, lat, lon };
}
