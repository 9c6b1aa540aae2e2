/**
 * Step 2, standardize each variable (a channel): (v - mean) / std, or an anomaly against a climatology
 * ('monthly': the mean of the same calendar month over `period` or over a `climatology` file; 'mean':
 * the mean over all time steps), optionally divided by `std`.
 */
import type { JsonPath } from '../../json/located-json.js';
import { atKey, KeyedError } from '../keyed.js';
import { planField, readPlan, withSource } from '../load.js';
import type { ModelEntry } from '../project.js';
import { parseDimSelection, type Selection } from '../select.js';
import { transpose } from './arrays.js';
import type { SampleAxes } from './axes.js';
import { coarsenField, type Coarsening } from './coarsen.js';
import { P, abs, selectionOf } from './entry.js';

function monthOf(date: string): number {
  return Number(date.slice(5, 7));
}

/** Mean over the sample axis (axis 0) per calendar month (key 1..12) or overall (key 0). */
function climatology(values: Float32Array, n: number, cells: number, dates: string[] | undefined, monthly: boolean): Map<number, Float64Array> {
  const sums = new Map<number, Float64Array>();
  const counts = new Map<number, Float64Array>();
  for (let t = 0; t < n; t++) {
    const key = monthly && dates ? monthOf(dates[t]) : 0;
    if (!sums.has(key)) {
      sums.set(key, new Float64Array(cells));
      counts.set(key, new Float64Array(cells));
    }
    const s = sums.get(key)!;
    const c = counts.get(key)!;
    for (let i = 0; i < cells; i++) {
      const v = values[t * cells + i];
      if (!Number.isNaN(v)) {
        s[i] += v;
        c[i]++;
      }
    }
  }
  for (const [k, s] of sums) {
    const c = counts.get(k)!;
    for (let i = 0; i < cells; i++) s[i] = c[i] ? s[i] / c[i] : NaN;
  }
  return sums;
}

function perChannel(v: number | number[] | undefined, c: number, channels: number, path: JsonPath, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v === 'number') return v;
  if (v.length !== channels) throw new KeyedError('SHAPE_MISMATCH', `${v.length} values given for ${channels} channel(s) (variables)`, path);
  return v[c];
}

/** Standardize each channel in place (`chans[c]` holds channel c as [sample, ...per]). */
export async function standardize(e: ModelEntry, chans: Float32Array[], axes: SampleAxes, names: string[]): Promise<void> {
  const st = e.input.standardize;
  if (!st) return;
  const { C, nSamples, cells, times, sampleDim, sAxis, per, perShape } = axes;
  const sp = P(e, 'input', 'standardize');
  for (let c = 0; c < C; c++) {
    const v = chans[c];
    if ('anomaly' in st && st.anomaly) {
      const monthly = st.anomaly === 'monthly';
      if (monthly && !times) throw new KeyedError('CONFIG_ERROR', `'anomaly': 'monthly' needs samples along a decoded time axis (the sample dim is ${sampleDim ?? 'none'})`, [...sp, 'anomaly']);
      const clim = await climatologyFor(e, names[c], c, monthly, per, perShape, sAxis < 0 ? undefined : sampleDim!, v, nSamples, cells, times, axes.coarsen);
      for (let t = 0; t < nSamples; t++) {
        const key = monthly ? monthOf(times![t]) : 0;
        const m = clim.get(key);
        if (!m) throw new KeyedError('DATA_ERROR', `the climatology has no month ${key} (needed for ${times?.[t]})`, [...sp, st.climatology ? 'climatology' : 'period']);
        for (let i = 0; i < cells; i++) v[t * cells + i] -= m[i];
      }
      const std = perChannel(st.std, c, C, [...sp, 'std'], 1);
      if (std !== 1) for (let i = 0; i < v.length; i++) v[i] /= std;
    } else {
      const mean = perChannel((st as { mean?: number | number[] }).mean, c, C, [...sp, 'mean'], 0);
      const std = perChannel(st.std, c, C, [...sp, 'std'], 1);
      for (let i = 0; i < v.length; i++) v[i] = (v[i] - mean) / std;
    }
  }
}

/** `input.clip`: cap the standardized values to [low, high] (missing values stay missing). */
export function clipValues(chans: Float32Array[], [low, high]: [number, number]): void {
  for (const v of chans) for (let i = 0; i < v.length; i++) if (v[i] < low) v[i] = low; else if (v[i] > high) v[i] = high;
}

/** Monthly (or overall) climatology for channel c: from a climatology file, a base period of the data file, or the samples. */
async function climatologyFor(
  e: ModelEntry,
  variable: string,
  c: number,
  monthly: boolean,
  per: string[],
  perShape: number[],
  sampleDim: string | undefined,
  samples: Float32Array,
  n: number,
  cells: number,
  times: string[] | undefined,
  coarsen: Coarsening | undefined,
): Promise<Map<number, Float64Array>> {
  const st = e.input.standardize as { period?: string; climatology?: { file?: string; variable?: string; select?: Record<string, unknown> } };
  const sp = P(e, 'input', 'standardize');
  if (!st.period && !st.climatology) return climatology(samples, n, cells, times, monthly);
  const path = st.climatology ? [...sp, 'climatology'] : [...sp, 'period'];
  return atKey(path, async () => {
    const file = abs(e, st.climatology?.file ?? e.data.file);
    const varName = st.climatology?.variable ?? variable;
    const select: Selection = st.climatology?.select ? selectionOf(st.climatology.select) : selectionOf(e.data.select);
    if (st.period && sampleDim) {
      const tsel = parseDimSelection(sampleDim, st.period);
      // The base period replaces the data's own selection along the sample dim (also one keyed "time"
      // when the sample dim has another name).
      if (sampleDim !== 'time') delete select.time;
      select[sampleDim] = tsel;
    }
    return withSource(file, { format: st.climatology?.file ? undefined : e.data.format }, async (s) => {
      const read = await readPlan(await planField(s, { variable: varName, select }));
      // A coarsened field's climatology is the climatology of the coarsened base period (block means first).
      const f = coarsen ? coarsenField(read, coarsen) : read;
      const tdim = f.coords.time?.dim;
      const rest = f.dims.filter((d) => d !== tdim);
      const restShape = f.shape.filter((_, i) => f.dims[i] !== tdim);
      if (rest.join() !== per.join() || restShape.join() !== perShape.join()) {
        throw new KeyedError('SHAPE_MISMATCH', `the climatology ${f.name} is [${restShape}] over ${rest.join(', ')}, the data are [${perShape}] over ${per.join(', ')} (channel ${c})`, path, { file });
      }
      if (!tdim) return new Map([[0, Float64Array.from(f.values)]].map(([k, v]) => [k as number, v as Float64Array]));
      const ti = f.dims.indexOf(tdim);
      const perm = [ti, ...f.dims.map((_, i) => i).filter((i) => i !== ti)];
      const tv = transpose(f.values, f.shape, perm).data;
      const clim = climatology(tv, f.shape[ti], cells, f.coords.time!.dates, monthly);
      return clim;
    });
  });
}
