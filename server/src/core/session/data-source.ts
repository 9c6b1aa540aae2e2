/**
 * The data a session explains, from any source, in the model's input layout (batch first):
 *   npy      an array of model inputs (one sample without its batch axis gets one);
 *   field    a data file any reader takes (--data FILE [--var] [--select] [--fill]), fitted to the model
 *            by adding batch/channel axes of size 1;
 *   project  a model entry of lrp-lens.json through the data pipeline (selection, standardization, mask,
 *            wrap, flatten, labels), planned with the model's file layout;
 *   array    model inputs already in memory (the panel's test harness, a caller's own batch).
 * Every front end resolves its data here, so the CLI, the server and the report read the same values.
 */
import { resolve } from 'node:path';
import type { Shape } from '../model/graph.js';
import { LensError } from '../errors.js';
import { readNpy } from '../data/npy.js';
import { toFloat32, type NdArray } from '../array.js';
import { loadField } from '../data/load.js';
import type { FieldCoords } from '../data/field.js';
import { buildModelInput, type ModelInput } from '../data/pipeline.js';
import { formatPath, type LensProject, type ModelEntry } from '../data/project.js';
import { KeyedError } from '../data/keyed.js';
import { readRegular, regularSize } from '../data/regular-file.js';
import type { Batch } from './samples.js';

export type DataSource =
  | { kind: 'npy'; file: string }
  | { kind: 'field'; file: string; variable?: string; select?: string; fill?: number }
  | { kind: 'project'; project: LensProject; entry: ModelEntry }
  | { kind: 'array'; x: NdArray; file?: string };

export interface SessionData {
  x: Batch;
  from: 'npy' | 'data' | 'config';
  /** The file the values came from (as the project names it, relative to lrp-lens.json, for a project). */
  file: string;
  labels?: Int32Array;
  labelValues?: Float64Array;
  classNames?: string[];
  /** 1 = valid (ModelInput.mask; a --data field's covers its samples too). */
  mask?: ModelInput['mask'];
  coords?: FieldCoords;
  times?: string[];
  dims?: string[];
  wrapLon?: number;
  explain?: ModelEntry['explain'];
  /** flatten "valid": where each feature lies on the grid (the pipeline's ModelInput.scatter). */
  scatter?: ModelInput['scatter'];
  /** The project entry the data came from. */
  entry?: ModelEntry;
  project?: LensProject;
  /** The pipeline's result, for a project. */
  input?: ModelInput;
  /** Per-sample axes and sizes before any flattening (lat, lon, channel, ...), where the data say them. */
  gridDims?: string[];
  gridShape?: number[];
}

/** The data file of a resolved input as a full path (project entries give it relative to lrp-lens.json). */
export function dataFile(r: { file: string; entry?: ModelEntry }): string {
  return r.entry ? resolve(r.entry.baseDir, r.file) : r.file;
}

/** The data fitted to the model input `spec` (its first input's file shape and layout), when given. */
export async function resolveData(src: DataSource, spec?: { fileShape: Shape; fileLayout?: string }): Promise<SessionData> {
  switch (src.kind) {
    case 'npy':
      return npyData(src.file, spec?.fileShape);
    case 'field':
      return fieldData(src, spec?.fileShape);
    case 'project':
      return projectData(src.project, src.entry, spec?.fileShape, spec?.fileLayout);
    case 'array':
      return { x: { shape: src.x.shape, data: toFloat32(src.x), dtype: 'f4' }, from: 'npy', file: src.file ?? '' };
  }
}

async function npyData(file: string, expected: Shape | undefined): Promise<SessionData> {
  // A regular file only (not /dev/zero or a FIFO), its size within the readers' budget.
  const a = readNpy(await readRegular(file), file);
  let shape = a.shape;
  if (expected && shape.length === expected.length - 1) shape = [1, ...shape]; // one sample without its batch axis
  return { x: { shape, data: toFloat32(a), dtype: 'f4' }, from: 'npy', file };
}

async function fieldData(src: Extract<DataSource, { kind: 'field' }>, expected: Shape | undefined): Promise<SessionData> {
  await regularSize(src.file);
  const f = await loadField(src.file, { variable: src.variable, select: src.select });
  const fill = src.fill ?? 0;
  const values = f.values.slice();
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) values[i] = fill;
  // Fit the field to the model: its first dim as the batch, or a batch of one; a channel axis last or first.
  const { shape, dims } = fitToModel(f.shape, f.dims, expected, src.file, f.name);
  const m = f.mask.every((v) => v === 1) ? undefined : { data: f.mask, shape: f.shape, dims: f.dims };
  return { x: { shape, data: values, dtype: 'f4' }, from: 'data', file: src.file, mask: m, coords: f.coords, times: f.coords.time?.dates, dims };
}

async function projectData(project: LensProject, entry: ModelEntry, expected: Shape | undefined, fileLayout: string | undefined): Promise<SessionData> {
  let mi: ModelInput;
  try {
    mi = await buildModelInput(entry, expected, { fileLayout });
  } catch (e) {
    // Say where in lrp-lens.json the problem is (the language server shows the same at the key).
    if (e instanceof KeyedError) throw new LensError(e.code, `${project.file}: ${formatPath(e.keyPath)}: ${e.message}`, { file: e.file ?? project.file });
    throw e;
  }
  const grid = await gridAxes(entry, mi);
  return {
    x: mi.x,
    from: 'config',
    file: entry.data.file,
    labels: mi.labels,
    labelValues: mi.labelValues,
    classNames: mi.classNames,
    mask: mi.mask,
    coords: mi.coords,
    times: mi.times,
    dims: mi.dims,
    wrapLon: mi.wrapLon,
    explain: mi.explain,
    scatter: mi.scatter,
    entry,
    project,
    input: mi,
    gridDims: grid.dims,
    gridShape: grid.shape,
  };
}

/** Per-sample axes before flattening: the scatter's grid, or the same entry unflattened, planned from the headers only. */
async function gridAxes(entry: ModelEntry, input: ModelInput): Promise<{ dims: string[]; shape: number[] }> {
  if (input.scatter) return { dims: input.scatter.gridDims.slice(), shape: input.scatter.gridShape.slice() };
  let dims = input.dims.slice(1);
  let shape = input.x.shape.slice(1);
  if (dims.length === 1 && dims[0] === 'features') {
    const dry = await buildModelInput({ ...entry, input: { ...entry.input, flatten: false } }, undefined, { dryRun: true }).catch(() => undefined);
    if (dry && dry.x.shape.slice(1).reduce((a, b) => a * b, 1) === shape[0]) {
      dims = dry.dims.slice(1);
      shape = dry.x.shape.slice(1);
    }
  }
  return { dims, shape };
}

/** The first way of adding batch/channel axes of size 1 that gives the model's shape (batch not compared). */
export function fitToModel(fshape: number[], fdims: string[], expected: Shape | undefined, file: string, name: string): { shape: number[]; dims: string[] } {
  const n = fshape.length;
  const candidates: { shape: number[]; dims: string[] }[] = [
    { shape: [1, ...fshape], dims: ['batch', ...fdims] },
    { shape: fshape, dims: fdims },
    { shape: [1, ...fshape, 1], dims: ['batch', ...fdims, 'channel'] },
    { shape: [1, 1, ...fshape], dims: ['batch', 'channel', ...fdims] },
    { shape: [...fshape, 1], dims: [...fdims, 'channel'] },
    { shape: n ? [fshape[0], 1, ...fshape.slice(1)] : [1, 1], dims: n ? [fdims[0], 'channel', ...fdims.slice(1)] : ['batch', 'channel'] },
  ];
  if (!expected) return candidates[0];
  const fits = (s: number[]): boolean => s.length === expected.length && expected.every((d, i) => i === 0 || d === null || d === s[i]);
  const hit = candidates.find((c) => fits(c.shape));
  if (!hit) {
    throw new LensError('SHAPE_MISMATCH', `${name}[${fshape.join(', ')}] (${fdims.join(', ')}) does not fit the model's input [${expected.map((d) => d ?? 'N').join(', ')}]; select with --select, or describe the input in lrp-lens.json (--config)`, { file });
  }
  return hit;
}
