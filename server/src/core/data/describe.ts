/**
 * What a data file or Zarr store holds, for a form that lets a user pick from it: the data variables
 * (largest first, coordinate variables left out) with their CF attributes, and each axis with its CF role,
 * range, regular spacing and, for time, every step as a date. Headers and coordinate variables only: no
 * data variable is read.
 */
import { basename } from 'node:path';
import { LIMITS } from '../errors.js';
import { decodeTimes, decodeValues, decodingOf, formatDate } from './cf.js';
import { coordinateVars, dataVariables, withSource } from './load.js';
import type { DataSource, VarInfo } from './source.js';
import { fullSlab, product } from './source.js';
import type { DataAxisInfo, DataVariableInfo, DimRole } from './form-types.js';

// The form's types are declared once (form-types.ts, shared with the protocol).
export type { DimRole } from './form-types.js';
export type VariableInfo = DataVariableInfo;
export type AxisInfo = DataAxisInfo;

export interface DataInfo {
  /** The path as given. */
  file: string;
  format: string;
  variables: VariableInfo[];
  axes: AxisInfo[];
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);

/** The spacing of a regular axis (all steps equal to 1e-6 of the step), else undefined. */
function regularStep(v: ArrayLike<number>): number | undefined {
  if (v.length < 2) return undefined;
  const d = v[1] - v[0];
  for (let i = 2; i < v.length; i++) if (Math.abs(v[i] - v[i - 1] - d) > 1e-6 * Math.max(1, Math.abs(d))) return undefined;
  return d;
}

async function axisInfo(s: DataSource, dim: string, role: DimRole, coord: VarInfo | undefined): Promise<AxisInfo> {
  const size = s.dims[dim] ?? coord?.shape[0] ?? 0;
  const out: AxisInfo = { name: dim, role, size };
  // A coordinate variable is read whole (1-D, within the element budget); anything else is left unread.
  if (!coord || coord.dims.length !== 1 || coord.dtype === 'str' || coord.dtype === 'S1' || product(coord.shape) > LIMITS.maxTensorElements) return out;
  const values = decodeValues(await s.read(coord.name, fullSlab(coord.shape)), decodingOf(coord), true);
  const units = text(coord.attrs.units);
  if (units) out.units = units;
  if (values.length === 0) return out;
  if (role === 'time' && units && / since /i.test(units)) {
    const calendar = text(coord.attrs.calendar) ?? 'standard';
    const times = decodeTimes(values, units, calendar, s.path).map((d) => formatDate(d).slice(0, 10));
    out.times = times;
    out.first = times[0];
    out.last = times[times.length - 1];
  } else {
    out.first = values[0];
    out.last = values[values.length - 1];
  }
  const step = regularStep(values);
  if (step !== undefined) out.step = step;
  return out;
}

/** Describe a data file or a Zarr store folder from its headers. */
export async function describeData(file: string): Promise<DataInfo> {
  return withSource(file, {}, async (s) => {
    const data = dataVariables(s).sort((a, b) => product(b.shape) - product(a.shape));
    const roles = new Map<string, { role: DimRole; coord?: VarInfo }>();
    const variables: VariableInfo[] = data.map((v) => {
      const cv = coordinateVars(s, v);
      for (const c of cv) if (!roles.has(c.dim)) roles.set(c.dim, { role: c.axis ?? 'other', coord: c.coord });
      const fill = decodingOf(v).fill.find((f) => Number.isFinite(f));
      const info: VariableInfo = { name: v.name, dims: v.dims.slice(), shape: v.shape.slice(), roles: cv.map((c) => c.axis ?? 'other') };
      const units = text(v.attrs.units);
      const longName = text(v.attrs.long_name);
      const standardName = text(v.attrs.standard_name);
      if (units) info.units = units;
      if (longName) info.longName = longName;
      if (standardName) info.standardName = standardName;
      if (fill !== undefined) info.fillValue = fill;
      return info;
    });
    const axes: AxisInfo[] = [];
    for (const [dim, r] of roles) axes.push(await axisInfo(s, dim, r.role, r.coord));
    return { file, format: s.format, variables, axes };
  });
}

/** The file's base name (for notes). */
export function fileLabel(file: string): string {
  return basename(file.replace(/[\\/]+$/, ''));
}
