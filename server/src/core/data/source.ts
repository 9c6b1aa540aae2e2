/**
 * The one interface every reader implements: a data source lists its variables (name, dims, shape,
 * dtype, attributes) from headers alone, and reads a hyperslab of one variable on request. Readers
 * return raw stored values; CF decoding (fill values, packing, time units) is cf.ts's job.
 */
import type { NdArray, NpyDtype } from '../array.js';

export type AttrValue = string | number | number[];

export interface VarInfo {
  name: string;
  dims: string[];
  shape: number[];
  /** Stored type in NumPy notation; 'S1' for NetCDF char, 'str' for text columns. */
  dtype: NpyDtype | 'S1' | 'str';
  attrs: Record<string, AttrValue>;
}

export type SourceFormat = 'npy' | 'npz' | 'netcdf3' | 'netcdf4' | 'image' | 'csv' | 'cpc-index' | 'zarr';

/** Per dimension: [start, stop) with stop exclusive, in index space. */
export type Hyperslab = [number, number][];

export interface DataSource {
  path: string;
  format: SourceFormat;
  /** Dimension sizes by name, in file order. */
  dims: Record<string, number>;
  variables: VarInfo[];
  globalAttrs: Record<string, AttrValue>;
  /** Raw values of one variable over a hyperslab (one [start, stop) per dim), C order. */
  read(name: string, slab: Hyperslab): Promise<NdArray>;
  /** Bytes read from disk for variable data so far (lazy-reading evidence); -1 where unknown. */
  bytesRead(): number;
  close(): Promise<void>;
}

/** Whole extent of a shape as a hyperslab. */
export function fullSlab(shape: number[]): Hyperslab {
  return shape.map((n) => [0, n] as [number, number]);
}

export function slabShape(slab: Hyperslab): number[] {
  return slab.map(([a, b]) => b - a);
}

export function product(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function isIntegerDtype(dtype: VarInfo['dtype']): boolean {
  return /^[iub]\d$/.test(dtype);
}
