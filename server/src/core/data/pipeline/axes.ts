/**
 * Select: which dims the data have after selection, which coordinates name lat, lon and time ("coords"
 * overrides included), and the sample dim: `input.sampleDim`, else the time dim, else (when that fits
 * the model) the first dim. What is left is the per-sample grid.
 */
import type { Shape } from '../../model/graph.js';
import type { FieldCoords } from '../field.js';
import { KeyedError } from '../keyed.js';
import type { ModelEntry } from '../project.js';
import { suggest } from '../similar.js';
import { product } from '../source.js';
import { coarsenCoords, coarsenedShape, factorsOf, planCoarsening, type Coarsening } from './coarsen.js';
import { P } from './entry.js';
import type { Loaded } from './read.js';

/** The data's axes as the later steps see them. */
export interface SampleAxes {
  /** The variables' dims after selection (all variables share them). */
  dims: string[];
  coords: FieldCoords;
  /** The dim that becomes the batch axis, or null (one sample). */
  sampleDim: string | null;
  /** Its index in `dims`, -1 when none. */
  sAxis: number;
  nSamples: number;
  /** The per-sample dims (dims without the sample dim) and their sizes. */
  per: string[];
  perShape: number[];
  /** Channels: one per stacked variable. */
  C: number;
  /** Values per sample and channel. */
  cells: number;
  /** Date of each sample where the sample dim is a decoded time axis. */
  times?: string[];
  /** The name of the stacked-variables axis: 'channel', or 'variable' where the data have a 'channel' dim (images). */
  CH: string;
  /** A dim name as written in lrp-lens.json -> the data's dim ('lat', 'lon', 'time', 'level' follow "coords"). */
  alias: (name: string) => string;
  /** `input.coarsen`: block means over these dims (the sizes above are after it; the read values are before). */
  coarsen?: Coarsening;
}

export function resolveAxes(e: ModelEntry, loaded: Loaded, modelInputShape: Shape | undefined): SampleAxes {
  const plan0 = loaded.plans[0];
  const dims = plan0.dims.slice();
  const coords: FieldCoords = { ...plan0.coords };
  // Axis overrides from "coords".
  for (const axis of ['lat', 'lon', 'time'] as const) {
    const d = e.coords?.[axis];
    if (d === undefined) continue;
    if (!dims.includes(d)) throw new KeyedError('UNKNOWN_VARIABLE', `no dim '${d}' in ${plan0.info.name} (dims: ${dims.join(', ')}).${suggest(d, dims, 'dims')}`, P(e, 'coords', axis));
    if (coords[axis]?.dim !== d) {
      const c = Object.values(plan0.coords).find((x) => x?.dim === d);
      coords[axis] = c ? ({ ...c } as never) : ({ dim: d, values: new Float64Array(0) } as never);
    }
  }
  const alias = (name: string): string => (name === 'lat' || name === 'lon' || name === 'time' || name === 'level' ? coords[name]?.dim ?? name : name);
  // Coarsening changes the grid's sizes and coordinates before anything is compared with the model.
  const coarsen = planCoarsening(e, dims, plan0.shape, coords);
  const shape0 = coarsen ? coarsenedShape(plan0.shape, factorsOf(coarsen, dims)) : plan0.shape;
  const grid = coarsen ? coarsenCoords(coords, coarsen) : coords;
  const sampleDim = sampleDimOf(e, loaded, dims, shape0, coords, alias, modelInputShape);
  const sAxis = sampleDim === null ? -1 : dims.indexOf(sampleDim);
  const per = dims.filter((_, i) => i !== sAxis);
  const perShape = shape0.filter((_, i) => i !== sAxis);
  return {
    dims,
    coords: grid,
    sampleDim,
    sAxis,
    nSamples: sAxis < 0 ? 1 : shape0[sAxis],
    per,
    perShape,
    C: loaded.names.length,
    cells: product(perShape),
    times: sampleDim !== null && coords.time?.dim === sampleDim ? coords.time.dates : undefined,
    CH: per.includes('channel') ? 'variable' : 'channel',
    alias,
    ...(coarsen ? { coarsen } : {}),
  };
}

function sampleDimOf(e: ModelEntry, loaded: Loaded, dims: string[], shape0: number[], coords: FieldCoords, alias: (n: string) => string, modelInputShape: Shape | undefined): string | null {
  // Whether taking samples along `sd` gives the model's per-sample size and rank (any order, wrap included).
  const fitsModel = (sd: string | null): boolean => {
    const m = modelInputShape!.slice(1);
    if (m.some((d) => d === null)) return false;
    const ps = shape0.filter((_, i) => dims[i] !== sd);
    const pd = dims.filter((d) => d !== sd);
    const li = pd.indexOf(coords.lon?.dim ?? '');
    if (li >= 0) ps[li] += 2 * (e.input.wrapLon ?? 0);
    const size = product(ps) * loaded.names.length;
    const rankOk = m.length === 1 || m.length === ps.length || m.length === ps.length + 1;
    return rankOk && size === product(m as number[]);
  };
  if (e.input.sampleDim === undefined) {
    const sd = coords.time && dims.includes(coords.time.dim) ? coords.time.dim : null;
    // No time axis (a .npy batch, say): the first dim holds the samples when that is what fits the model.
    if (sd === null && modelInputShape && dims.length > 1 && !fitsModel(null) && fitsModel(dims[0])) return dims[0];
    return sd;
  }
  if (e.input.sampleDim === null) return null;
  const sd = alias(e.input.sampleDim);
  if (!dims.includes(sd)) throw new KeyedError('UNKNOWN_VARIABLE', `no dim '${e.input.sampleDim}' to take samples from (dims after selection: ${dims.join(', ') || 'none'}).${suggest(e.input.sampleDim, dims, 'dims')}`, P(e, 'input', 'sampleDim'));
  return sd;
}
