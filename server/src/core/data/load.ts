/**
 * Opening any supported file as a DataSource (format from the file's first bytes, then its extension),
 * and `loadField`: one variable, a selection, CF-decoded, with coordinates. `planField` does all the
 * checks (variable exists, selection in range, size) from headers alone, without reading values.
 */
import { extname } from 'node:path';
import { LensError, LIMITS } from '../errors.js';
import { axisOf, decodeTimes, decodeValues, decodingOf, formatDate, type Axis } from './cf.js';
import type { Coord, Field, FieldCoords, TimeCoord } from './field.js';
import { isImage, openImage, type ImageOptions } from './image.js';
import { isNetcdf3, openNetcdf3 } from './netcdf3.js';
import { isHdf5, openNetcdf4 } from './netcdf4.js';
import { isNpy, isZip, openNpy, openNpz } from './npysource.js';
import { parseSelection, resolveSelection, type Selection } from './select.js';
import { suggest } from './similar.js';
import type { DataSource, Hyperslab, SourceFormat, VarInfo } from './source.js';
import { fullSlab, product } from './source.js';
import { looksLikeIndex, openCsv, openIndexText } from './text.js';
import { openRegular, readAt } from './regular-file.js';
import { isZarrStore, openZarr } from './zarr.js';

export interface OpenOptions {
  /** Force a format instead of detecting it. */
  format?: SourceFormat;
  image?: ImageOptions;
}

export interface LoadOptions extends OpenOptions {
  /** Variable / array key / column. Optional when the file has one data variable. */
  variable?: string;
  /** A Selection or its text form `DIM=START:STOP,...`. */
  select?: Selection | string;
  /** Refuse selections of more elements than this (FILE_TOO_LARGE). */
  maxElements?: number;
}

/** The first bytes of a regular file (devices, FIFOs and folders are refused: regular-file.ts). */
async function head(file: string): Promise<Uint8Array> {
  const { fh } = await openRegular(file);
  try {
    return await readAt(fh, 0, 512);
  } finally {
    await fh.close();
  }
}

export async function detectFormat(file: string): Promise<SourceFormat> {
  // The one format that is a folder: a Zarr directory store (checked first, as head() refuses folders).
  if (await isZarrStore(file)) return 'zarr';
  const h = await head(file);
  if (isNpy(h)) return 'npy';
  if (isNetcdf3(h)) return 'netcdf3';
  if (isHdf5(h)) return 'netcdf4';
  if (isZip(h)) return 'npz';
  if (isImage(h)) return 'image';
  const ext = extname(file).toLowerCase();
  if (h.length === 0) throw new LensError('TRUNCATED', 'the file is empty', { file });
  if (['.nc', '.nc4', '.h5', '.hdf5', '.cdf'].includes(ext)) throw new LensError('CORRUPT', `${ext} file is neither NetCDF-3 nor HDF5/NetCDF-4 (bad signature)`, { file });
  if (ext === '.npy' || ext === '.npz') throw new LensError('CORRUPT', `${ext} file has no ${ext === '.npy' ? 'NumPy' : 'zip'} signature`, { file });
  const text = new TextDecoder('utf-8', { fatal: false }).decode(h);
  if (ext === '.csv' || ext === '.tsv') return 'csv';
  if (looksLikeIndex(text)) return 'cpc-index';
  if (/^[^\n]*[,;\t][^\n]*\n/.test(text)) return 'csv';
  throw new LensError('FORMAT_UNKNOWN', `cannot tell the format of ${file} (supported: .npy, .npz, NetCDF-3/4, HDF5, PNG/JPEG/TIFF/WebP, CSV, CPC index text, Zarr v2/v3 stores)`, { file });
}

export async function openSource(file: string, opts: OpenOptions = {}): Promise<DataSource> {
  const format = opts.format ?? (await detectFormat(file));
  switch (format) {
    case 'npy': return openNpy(file);
    case 'npz': return openNpz(file);
    case 'netcdf3': return openNetcdf3(file);
    case 'netcdf4': return openNetcdf4(file);
    case 'image': return openImage(file, opts.image);
    case 'csv': return openCsv(file);
    case 'cpc-index': return openIndexText(file);
    case 'zarr': return openZarr(file);
  }
}

/** Open, run, close (also on error). */
export async function withSource<T>(file: string, opts: OpenOptions, fn: (s: DataSource) => Promise<T>): Promise<T> {
  const s = await openSource(file, opts);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

/** Variables that are coordinates of others (1-D, named like their dim) or not numeric. */
export function dataVariables(s: DataSource): VarInfo[] {
  return s.variables.filter((v) => v.dtype !== 'str' && v.dtype !== 'S1' && !(v.dims.length === 1 && v.dims[0] === v.name && s.variables.length > 1));
}

export function findVariable(s: DataSource, name: string | undefined): VarInfo {
  if (name === undefined) {
    const data = dataVariables(s);
    const multi = data.filter((v) => v.dims.length > 1);
    const pick = multi.length === 1 ? multi : data;
    if (pick.length === 1) return pick[0];
    throw new LensError('UNKNOWN_VARIABLE', `${s.path} has ${pick.length} data variables; name one with --var (${pick.map((v) => v.name).join(', ')})`, { file: s.path });
  }
  const v = s.variables.find((x) => x.name === name);
  if (v) return v;
  throw new LensError('UNKNOWN_VARIABLE', `no variable '${name}' in ${s.path}.${suggest(name, s.variables.map((x) => x.name))}`, { file: s.path });
}

/** Per source: each dim's coordinate variable, found once (a file of many variables stays linear). */
const coordIndex = new WeakMap<DataSource, Map<string, VarInfo | undefined>>();

function coordinateOf(s: DataSource, dim: string): VarInfo | undefined {
  let index = coordIndex.get(s);
  if (!index) {
    index = new Map();
    coordIndex.set(s, index);
    const byDim = new Map<string, VarInfo[]>();
    for (const v of s.variables) {
      if (v.dims.length !== 1) continue;
      const list = byDim.get(v.dims[0]);
      if (list) list.push(v);
      else byDim.set(v.dims[0], [v]);
    }
    for (const [d, list] of byDim) {
      const base = d.split('/').pop();
      index.set(d, list.find((v) => v.name === d || v.name.split('/').pop() === base));
    }
  }
  return index.get(dim);
}

/** For each dim of `info`: the coordinate variable that describes it and its axis. */
export function coordinateVars(s: DataSource, info: VarInfo): { dim: string; coord?: VarInfo; axis?: Axis }[] {
  return info.dims.map((dim) => {
    const coord = coordinateOf(s, dim);
    const axis = coord ? axisOf(coord) : axisOf({ name: dim, attrs: {} });
    return { dim, coord, axis };
  });
}

export interface FieldPlan {
  source: DataSource;
  info: VarInfo;
  slab: Hyperslab;
  drop: boolean[];
  /** Shape and dims of the result (dropped dims removed). */
  shape: number[];
  dims: string[];
  coords: FieldCoords;
}

async function readCoord(s: DataSource, v: VarInfo): Promise<Float64Array> {
  if (product(v.shape) > LIMITS.maxTensorElements) throw new LensError('FILE_TOO_LARGE', `coordinate ${v.name} declares ${product(v.shape)} values`, { file: s.path });
  const raw = await s.read(v.name, fullSlab(v.shape));
  return decodeValues(raw, decodingOf(v), true) as Float64Array;
}

/** Resolve variable, coordinates and selection from headers and coordinate variables; read no data. */
export async function planField(s: DataSource, opts: LoadOptions = {}): Promise<FieldPlan> {
  const info = findVariable(s, opts.variable);
  if (info.dtype === 'str' || info.dtype === 'S1') throw new LensError('DATA_ERROR', `variable ${info.name} holds text, not numbers`, { file: s.path });
  const cvars = coordinateVars(s, info);
  const full: FieldCoords = {};
  const alias: Record<string, string | undefined> = {};
  for (const c of cvars) {
    if (!c.axis || full[c.axis]) continue;
    alias[c.axis] = c.dim;
    if (!c.coord || c.coord === info) continue;
    const values = await readCoord(s, c.coord);
    const units = typeof c.coord.attrs.units === 'string' ? c.coord.attrs.units : undefined;
    if (c.axis === 'time' && units && / since /i.test(units)) {
      const calendar = typeof c.coord.attrs.calendar === 'string' ? c.coord.attrs.calendar : 'standard';
      const dates = decodeTimes(values, units, calendar, s.path).map(formatDate);
      full.time = { dim: c.dim, values, units, dates, calendar } satisfies TimeCoord;
    } else if (c.axis !== 'time') {
      full[c.axis] = { dim: c.dim, values, units } satisfies Coord;
    }
  }
  const sel = typeof opts.select === 'string' ? parseSelection(opts.select) : (opts.select ?? {});
  const { slab, drop } = resolveSelection(
    sel,
    info.name,
    info.dims,
    info.shape,
    (dim) => {
      const c = Object.values(full).find((x) => x?.dim === dim);
      return { values: c?.values, dates: (c as TimeCoord | undefined)?.dates };
    },
    alias,
    s.path,
  );
  const shape = slab.filter((_, i) => !drop[i]).map(([a, b]) => b - a);
  const dims = info.dims.filter((_, i) => !drop[i]);
  const max = opts.maxElements ?? LIMITS.maxTensorElements;
  const count = product(shape);
  if (count > max) {
    throw new LensError('FILE_TOO_LARGE', `${info.name}${JSON.stringify(slab.map(([a, b]) => b - a))} has ${count} values, more than the ${max} we hold at once; select a part with --select (e.g. ${info.dims[0]}=0:1)`, { file: s.path });
  }
  // Slice the coordinates to the selection; a dropped dim keeps its one value (useful for titles).
  const coords: FieldCoords = {};
  for (const [axis, c] of Object.entries(full) as [Axis, Coord | TimeCoord][]) {
    const d = info.dims.indexOf(c.dim);
    const [a, b] = slab[d];
    const sliced = { ...c, values: c.values.slice(a, b) } as Coord | TimeCoord;
    if ('dates' in c) (sliced as TimeCoord).dates = c.dates.slice(a, b);
    (coords as Record<string, Coord>)[axis] = sliced;
  }
  return { source: s, info, slab, drop, shape, dims, coords };
}

/** Read and decode the values a plan describes. */
export async function readPlan(p: FieldPlan): Promise<Field> {
  const raw = await p.source.read(p.info.name, p.slab);
  const dec = decodingOf(p.info);
  const values = decodeValues(raw, dec) as Float32Array;
  const mask = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) mask[i] = Number.isNaN(values[i]) ? 0 : 1;
  return {
    file: p.source.path,
    name: p.info.name,
    values,
    shape: p.shape,
    dims: p.dims,
    coords: p.coords,
    mask,
    attrs: p.info.attrs,
    dtype: p.info.dtype,
    packed: dec.packed,
  };
}

/** One variable of a data file, selected and CF-decoded. */
export async function loadField(path: string, opts: LoadOptions = {}): Promise<Field> {
  return withSource(path, opts, async (s) => readPlan(await planField(s, opts)));
}

/** A file's variables from its headers (for hovers and completions in lrp-lens.json). */
export async function describeFile(path: string, opts: OpenOptions = {}): Promise<{ format: SourceFormat; dims: Record<string, number>; variables: { name: string; dims: string[]; shape: number[]; dtype: string; units?: string; longName?: string }[] }> {
  return withSource(path, opts, async (s) => ({
    format: s.format,
    dims: s.dims,
    variables: s.variables.map((v) => ({
      name: v.name,
      dims: v.dims,
      shape: v.shape,
      dtype: v.dtype,
      units: typeof v.attrs.units === 'string' ? v.attrs.units : undefined,
      longName: typeof v.attrs.long_name === 'string' ? v.attrs.long_name : undefined,
    })),
  }));
}
