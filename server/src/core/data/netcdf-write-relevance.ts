/**
 * Relevance as a CF-1.8 NetCDF file (CDF-2) with the input's coordinates, so that it opens in the tools
 * climate users already have (ncview, Panoply, xarray, CDO). Dimensions: the sample axis (the data's
 * time axis when each sample is one time step, else `sample`) then the per-sample grid axes as the data
 * name them (lat, lon[, channel], in the model input's order). A periodically wrapped longitude (the
 * pipeline's wrapLon) is folded back: each copy's relevance is added to its original column, which keeps
 * the total, and the input's copies are dropped, so the lon coordinate is the data's own, increasing.
 * Coordinate attributes: units and calendar from the input, standard_name and axis from CF for lat, lon,
 * time and level.
 */
import { LensError } from '../errors.js';
import type { Coord, FieldCoords } from './field.js';
import { type NcAttr, type NcVariable, writeNetcdf3 } from './netcdf-write.js';

export interface GridArray {
  /** n samples on the per-sample grid, row-major [n, ...perShape]. */
  data: Float32Array;
  shape: number[];
}

export interface RelevanceNetcdfOptions {
  relevance: GridArray;
  /** Names of the per-sample axes (without the batch axis), when the data name them. */
  dims?: string[];
  /** The model input on the same grid, written alongside when given. */
  /** `units` when the values are in them; `sourceUnits`: the data's units before the pipeline's standardization. */
  input?: GridArray & { name?: string; units?: string; sourceUnits?: string };
  coords?: FieldCoords;
  /** Per-sample dates, written as a `date` text variable when there is no time coordinate per sample. */
  times?: string[];
  wrapLon?: number;
  /** What was explained, for long_name: "class 3", "pixel:40,10", ... */
  explained: string;
  model: string;
  composite: string;
  /** The composite's parameters (epsilon, gamma, bounds, init...). */
  parameters: Record<string, unknown>;
  target: string;
  engine: string;
  version: string;
  /** The data file the input came from. */
  dataFile?: string;
  /** The command (or action) that wrote the file, for `history`. */
  history: string;
}

const CF: Record<'lat' | 'lon' | 'level', { standard_name: string; units?: string; axis: string; long_name: string }> = {
  lat: { standard_name: 'latitude', units: 'degrees_north', axis: 'Y', long_name: 'latitude' },
  lon: { standard_name: 'longitude', units: 'degrees_east', axis: 'X', long_name: 'longitude' },
  level: { standard_name: 'height', axis: 'Z', long_name: 'level' },
};

/** A valid, unique NetCDF name for a data axis. */
function ncName(d: string, used: Set<string>): string {
  let s = d.replace(/[^A-Za-z0-9_.+\-@]/g, '_');
  if (!/^[A-Za-z_]/.test(s)) s = `d_${s}`;
  let name = s;
  for (let i = 2; used.has(name); i++) name = `${s}_${i}`;
  used.add(name);
  return name;
}

/**
 * Fold the wrapped copies along `axis` (size w + 2 * wrap) back to w: summed into their original cells
 * (relevance; NaN, no input there, counts as nothing unless every contribution is NaN) or dropped (input).
 */
function foldAxis(a: GridArray, axis: number, wrap: number, sum: boolean): GridArray {
  const shape = a.shape.slice();
  const ext = shape[axis];
  const w = ext - 2 * wrap;
  const outer = shape.slice(0, axis).reduce((x, y) => x * y, 1);
  const inner = shape.slice(axis + 1).reduce((x, y) => x * y, 1);
  shape[axis] = w;
  const out = new Float32Array(outer * w * inner).fill(NaN);
  for (let o = 0; o < outer; o++) {
    for (let e = 0; e < ext; e++) {
      const isCopy = e < wrap || e >= wrap + w;
      if (isCopy && !sum) continue;
      const c = (((e - wrap) % w) + w) % w;
      const from = (o * ext + e) * inner;
      const to = (o * w + c) * inner;
      for (let i = 0; i < inner; i++) {
        const v = a.data[from + i];
        if (Number.isNaN(v)) continue;
        out[to + i] = Number.isNaN(out[to + i]) ? v : out[to + i] + v;
      }
    }
  }
  return { data: out, shape };
}

function coordAxis(coords: FieldCoords | undefined, dim: string): { key: 'lat' | 'lon' | 'level'; c: Coord } | undefined {
  for (const key of ['lat', 'lon', 'level'] as const) {
    const c = coords?.[key];
    if (c && c.dim === dim) return { key, c };
  }
  return undefined;
}

/** The bytes of the NetCDF file. */
export function relevanceNetcdf(o: RelevanceNetcdfOptions): Uint8Array {
  let rel = o.relevance;
  let inp = o.input;
  const n = rel.shape[0];
  const per = rel.shape.slice(1);
  if (inp && inp.shape.join() !== rel.shape.join()) throw new LensError('INTERNAL', `input [${inp.shape.join(', ')}] and relevance [${rel.shape.join(', ')}] differ`);
  const names = o.dims && o.dims.length === per.length ? o.dims.slice() : per.map((_, i) => (per.length === 1 ? 'feature' : `dim${i + 1}`));
  // The wrapped longitude: fold it back where the lon axis has the copies.
  const wrap = o.wrapLon ?? 0;
  const lon = o.coords?.lon;
  let lonValues = lon ? Array.from(lon.values) : undefined;
  const lonAxis = lon ? names.indexOf(lon.dim) : -1;
  if (wrap > 0 && lon && lonAxis >= 0 && per[lonAxis] === lon.values.length && lon.values.length > 2 * wrap) {
    rel = foldAxis(rel, lonAxis + 1, wrap, true);
    if (inp) inp = { ...inp, ...foldAxis(inp, lonAxis + 1, wrap, false) };
    lonValues = lonValues!.slice(wrap, lonValues!.length - wrap);
  }
  const perShape = rel.shape.slice(1);
  const used = new Set<string>(['relevance', 'date', 'date_len', 'sample', ...(inp ? ['input'] : [])]);
  const vars: NcVariable[] = [];
  const dims: [string, number][] = [];

  // The sample axis: the data's time coordinate when it has one value per sample.
  const time = o.coords?.time;
  let sampleDim = 'sample';
  if (time && time.values.length === n && !names.includes(time.dim)) {
    sampleDim = ncName(time.dim, used);
    dims.push([sampleDim, n]);
    const attrs: Record<string, NcAttr> = { standard_name: 'time', long_name: 'time', axis: 'T' };
    if (time.units) attrs.units = time.units;
    if (time.calendar) attrs.calendar = time.calendar;
    vars.push({ name: sampleDim, dims: [sampleDim], type: 'double', data: time.values, attrs });
  } else {
    dims.push(['sample', n]);
    vars.push({ name: 'sample', dims: ['sample'], type: 'int', data: Int32Array.from({ length: n }, (_, i) => i), attrs: { long_name: 'sample index in the explained batch' } });
    if (o.times && o.times.length === n) {
      const len = Math.max(1, ...o.times.map((t) => new TextEncoder().encode(t).length));
      dims.push(['date_len', len]);
      vars.push({ name: 'date', dims: ['sample', 'date_len'], type: 'char', data: o.times.map((t) => t.padEnd(len, '\0')), attrs: { long_name: 'date of the sample' } });
    }
  }

  const gridDims = names.map((d, i) => {
    const name = ncName(d, used);
    dims.push([name, perShape[i]]);
    const axis = coordAxis(o.coords, d);
    if (axis) {
      const values = axis.key === 'lon' && lonValues ? lonValues : Array.from(axis.c.values);
      if (values.length === perShape[i]) {
        const cf = CF[axis.key];
        const attrs: Record<string, NcAttr> = { standard_name: cf.standard_name, long_name: cf.long_name, axis: cf.axis };
        const units = axis.c.units ?? cf.units;
        if (units) attrs.units = units;
        vars.push({ name, dims: [name], type: 'double', data: values, attrs });
      }
    }
    return name;
  });

  const varDims = [sampleDim, ...gridDims];
  const relAttrs: Record<string, NcAttr> = {
    long_name: `LRP relevance of ${o.explained} for ${o.model}`,
    units: '1',
    lrp_composite: o.composite,
    lrp_parameters: JSON.stringify(o.parameters),
    lrp_target: o.target,
    lrp_engine: o.engine,
    lrp_lens_version: o.version,
  };
  if (rel.data.some(Number.isNaN)) relAttrs.comment = 'NaN: no model input at this cell (masked or off the model input)';
  vars.push({ name: 'relevance', dims: varDims, type: 'float', data: rel.data, attrs: relAttrs });
  if (inp) {
    const attrs: Record<string, NcAttr> = { long_name: `model input${inp.name ? ` (${inp.name})` : ''}` };
    if (inp.units) attrs.units = inp.units;
    if (inp.sourceUnits) attrs.source_units = inp.sourceUnits;
    vars.push({ name: 'input', dims: varDims, type: 'float', data: inp.data, attrs });
  }
  const attrs: Record<string, NcAttr> = {
    Conventions: 'CF-1.8',
    title: `LRP relevance for ${o.model}`,
    source: `LRP Lens ${o.version}, ${o.engine} engine, composite ${o.composite}`,
    history: `${new Date().toISOString()}: ${o.history}`,
  };
  if (o.dataFile) attrs.input_data = o.dataFile;
  return writeNetcdf3({ dims, attrs, vars });
}
