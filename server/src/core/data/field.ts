/**
 * The Field: what every reader hands to the pipeline. Decoded float32 values (missing = NaN) in C
 * order with named dims, the CF coordinates found for those dims, a validity mask and the attributes.
 */
import type { AttrValue } from './source.js';

export interface Coord {
  /** The dim this coordinate runs along. */
  dim: string;
  values: Float64Array;
  units?: string;
}

export interface TimeCoord extends Coord {
  /** Decoded dates ('YYYY-MM-DD[THH:MM]') in the variable's calendar. */
  dates: string[];
  calendar: string;
}

export interface FieldCoords {
  lat?: Coord;
  lon?: Coord;
  time?: TimeCoord;
  level?: Coord;
}

export interface Field {
  file: string;
  /** Variable name (array key for .npz, base name for .npy, 'image' for images). */
  name: string;
  values: Float32Array;
  shape: number[];
  dims: string[];
  coords: FieldCoords;
  /** 1 where a value is present, 0 where it is missing (NaN after decoding); same shape as values. */
  mask: Uint8Array;
  attrs: Record<string, AttrValue>;
  /** Stored type before decoding. */
  dtype: string;
  /** Whether scale_factor/add_offset were applied. */
  packed: boolean;
}

export function validCount(f: Field): number {
  let n = 0;
  for (let i = 0; i < f.mask.length; i++) n += f.mask[i];
  return n;
}

/** Which dim of the field holds an axis (undefined when the field has none). */
export function dimOf(f: Field, axis: keyof FieldCoords): string | undefined {
  return f.coords[axis]?.dim;
}
