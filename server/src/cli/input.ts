/**
 * The model input for any command, from one of:
 *   --input X.npy                                   an array in the model's layout
 *   --data FILE [--var NAME] [--select DIM=A:B,...] [--fill V]   a data file (any supported format)
 *   --config lrp-lens.json [--model NAME]           a project entry (the pipeline in core/data/pipeline.ts)
 * Commands call resolveInput(args, graph.inputs[0].fileShape).
 */
import type { Shape } from '../core/model/graph.js';
import { LensError } from '../core/errors.js';
import { readNpy, toFloat32, type NdArray } from '../core/data/npy.js';
import { loadField } from '../core/data/load.js';
import type { FieldCoords } from '../core/data/field.js';
import { buildModelInput, type ModelInput } from '../core/data/pipeline.js';
import { findEntry, formatPath, readProject, type ModelEntry } from '../core/data/project.js';
import { KeyedError } from '../core/data/keyed.js';
import { flagNumber, flagString, type ParsedArgs } from './args.js';
import { readRegular, regularSize } from '../core/data/regular-file.js';

export interface ResolvedInput {
  x: NdArray & { data: Float32Array };
  from: 'npy' | 'data' | 'config';
  /** The file the values came from. */
  file: string;
  labels?: Int32Array;
  labelValues?: Float64Array;
  classNames?: string[];
  mask?: ModelInput['mask'];
  coords?: FieldCoords;
  times?: string[];
  dims?: string[];
  wrapLon?: number;
  explain?: ModelEntry['explain'];
  /** flatten "valid": where each feature lies on the grid (the pipeline's ModelInput.scatter). */
  scatter?: ModelInput['scatter'];
  /** The project entry with --config. */
  entry?: ModelEntry;
}

/** Flags this module reads (for commands' usage text). */
export const INPUT_FLAGS = '--input X.npy | --data FILE [--var NAME] [--select DIM=START:STOP,...] [--fill V] | --config lrp-lens.json [--model NAME]';

export async function resolveInput(args: ParsedArgs, expectedShape?: Shape): Promise<ResolvedInput> {
  const input = flagString(args, 'input');
  const data = flagString(args, 'data');
  const config = flagString(args, 'config');
  const given = [input, data, config].filter((x) => x !== undefined).length;
  if (given !== 1) throw new LensError('USAGE', `give exactly one of --input, --data or --config (${INPUT_FLAGS})`);

  if (input !== undefined) {
    // A regular file only (not /dev/zero or a FIFO), its size within the readers' budget.
    const a = readNpy(await readRegular(input), input);
    return { x: { shape: a.shape, data: toFloat32(a), dtype: 'f4' }, from: 'npy', file: input };
  }

  if (data !== undefined) {
    await regularSize(data);
    const f = await loadField(data, { variable: flagString(args, 'var'), select: flagString(args, 'select') });
    const fill = flagNumber(args, 'fill') ?? 0;
    const values = f.values.slice();
    for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) values[i] = fill;
    // Fit the field to the model: its first dim as the batch, or a batch of one; a channel axis last or first.
    const { shape, dims } = fitToModel(f.shape, f.dims, expectedShape, data, f.name);
    const m = f.mask.every((v) => v === 1) ? undefined : { data: f.mask, shape: f.shape, dims: f.dims };
    return { x: { shape, data: values, dtype: 'f4' }, from: 'data', file: data, mask: m, coords: f.coords, times: f.coords.time?.dates, dims };
  }

  await regularSize(config!);
  const project = await readProject(config!);
  const name = flagString(args, 'model');
  let entry: ModelEntry;
  if (name !== undefined) entry = findEntry(project, name);
  else if (project.models.length === 1) entry = project.models[0];
  else throw new LensError('USAGE', `${config} has ${project.models.length} models; pick one with --model (${project.models.map((m) => m.name).join(', ')})`);
  let mi: ModelInput;
  try {
    mi = await buildModelInput(entry, expectedShape);
  } catch (e) {
    // Say where in lrp-lens.json the problem is (the language server shows the same at the key).
    if (e instanceof KeyedError) throw new LensError(e.code, `${project.file}: ${formatPath(e.keyPath)}: ${e.message}`, { file: e.file ?? project.file });
    throw e;
  }
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
  };
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

/** [min, max] of the input values: the default z-box bounds (epsilon-gamma-box) of data from a file or project. */
export function dataRange(a: Float32Array): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of a) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}
