/**
 * Do these data choices fit the model? The panel's data form sends an entry that is not saved yet; it is
 * checked by the project file's own parser (as a one-entry lrp-lens.json in the folder it will be saved
 * in), planned from headers by the data pipeline against the model's input, and, when it fits, built for
 * one preview sample where the result does not depend on the others. What does not fit is said in the
 * data's terms ("the model expects 24x72, the variable is 89x180 (lat x lon): ...").
 */
import type { Shape } from '../model/graph.js';
import { LensError } from '../errors.js';
import { draftProject, entryKey, type DraftEntry } from '../data/draft.js';
import { KeyedError } from '../data/keyed.js';
import { defaultName } from '../data/project-writer.js';
import { buildModelInput, scatterFeatures, sequenceToGrid, type ModelInput } from '../data/pipeline.js';
import type { ModelEntry } from '../data/project.js';

export interface PlanProblem {
  message: string;
  /** The entry key it is about ("input.standardize"). */
  path?: string;
  severity: 'error' | 'warning';
}

export interface InputPreview {
  /** rows x cols (lat x lon where the data have them), channel 0, the model's values before any flattening. */
  map: Float32Array;
  shape: [number, number];
  coords?: { lat: number[]; lon: number[] };
  /** 1 = masked, over the map. */
  mask?: Uint8Array;
  units?: string;
  diverging: boolean;
  time?: string;
  sample: number;
}

export interface InputPlan {
  fits: boolean;
  problems: PlanProblem[];
  modelShape: number[];
  dataShape?: number[];
  samples: number;
  firstTime?: string;
  lastTime?: string;
  /** The entry as it would be written (paths relative to the folder). */
  entry: Record<string, unknown>;
  preview?: InputPreview;
  /** The parsed entry (for a caller that goes on to explain it). */
  parsed?: ModelEntry;
}

export interface PlanOptions {
  /** The model file and its first input (file shape, layout). */
  modelFile: string;
  spec: { fileShape: Shape; fileLayout?: string };
  /** The folder the entry will be saved in (relative paths start there). */
  dir: string;
  previewSample?: number;
  /** The variable's units, for the preview's colour bar. */
  units?: string;
  /** The data are anomalies already (the file says so): a diverging preview even without standardization. */
  anomalies?: boolean;
}

const problemOf = (e: unknown): PlanProblem => {
  if (e instanceof KeyedError) return { message: e.message, path: entryKey(e.keyPath) || undefined, severity: 'error' };
  if (e instanceof LensError) return { message: e.message, severity: 'error' };
  throw e;
};

/** Plan (and preview) a draft entry for a model. */
export async function planInput(draft: DraftEntry, opts: PlanOptions): Promise<InputPlan> {
  // Per sample, as the protocol says (the batch axis is the samples count); -1 for an open axis.
  const modelShape = opts.spec.fileShape.slice(1).map((d) => d ?? -1);
  const { project, issues, entry: written } = draftProject(draft, opts.modelFile, opts.dir, defaultName(opts.modelFile));
  const base: InputPlan = { fits: false, problems: [], modelShape, samples: 0, entry: written };
  base.problems = issues.map((i) => ({ message: i.message, path: entryKey(i.path) || undefined, severity: i.severity }));
  if (!project || issues.some((i) => i.severity === 'error')) return base;
  const e = project.models[0];
  base.parsed = e;
  const shape = opts.spec.fileShape;
  const fileLayout = opts.spec.fileLayout;
  let dry: ModelInput;
  try {
    dry = await buildModelInput(e, shape, { dryRun: true, fileLayout });
  } catch (err) {
    const p = problemOf(err);
    if ((err as LensError).code === 'SHAPE_MISMATCH') p.message = (await fitMessage(e, shape, fileLayout)) ?? p.message;
    base.problems.push(p);
    return base;
  }
  base.dataShape = dry.x.shape.slice(1);
  base.samples = dry.x.shape[0];
  if (dry.times?.length) {
    base.firstTime = dry.times[0];
    base.lastTime = dry.times[dry.times.length - 1];
  }
  const s = opts.previewSample ?? 0;
  if (!Number.isInteger(s) || s < 0 || s >= base.samples) {
    base.problems.push({ message: `preview sample ${s} is not one of the ${base.samples} samples`, severity: 'error' });
    return base;
  }
  let built: ModelInput;
  let at = s;
  try {
    const one = oneSample(e, dry, s);
    built = await buildModelInput(one ?? e, shape, { fileLayout });
    if (one) at = 0;
    // Two steps on one date (a narrowed selection of more than one sample): build the whole instead.
    if (one && built.x.shape[0] !== 1) {
      built = await buildModelInput(e, shape, { fileLayout });
      at = s;
    }
  } catch (err) {
    const p = problemOf(err);
    if ((err as LensError).code === 'SHAPE_MISMATCH' && e.input.flatten === 'valid') p.message = (await validMessage(e, shape)) ?? p.message;
    base.problems.push(p);
    return base;
  }
  base.dataShape = built.x.shape.slice(1);
  base.fits = !base.problems.some((p) => p.severity === 'error');
  base.preview = preview(built, at, s, e, opts.units, opts.anomalies ?? false);
  return base;
}

/**
 * The entry narrowed to sample s, where that gives the same values as the whole: not for anomalies
 * against the samples themselves, nor for the "missing" mask of a flattened input (both need every sample).
 */
function oneSample(e: ModelEntry, dry: ModelInput, s: number): ModelEntry | undefined {
  const st = e.input.standardize;
  if (st && 'anomaly' in st && st.anomaly && !st.period && !st.climatology) return undefined;
  if (e.mask === 'missing' && e.input.flatten === 'valid') return undefined;
  const sampleDim = dry.dims[0];
  if (sampleDim === 'batch' || e.labels) return undefined;
  const select = { ...(e.data.select ?? {}) };
  const key = Object.keys(select).find((k) => k === sampleDim || (k === 'time' && dry.coords.time?.dim === sampleDim));
  // By date where it is a plain day (a time of day would put ':' into the range).
  if (dry.times && dry.coords.time?.dim === sampleDim && !dry.times[s].includes('T')) {
    // By date: composes with a date range the user selected.
    if (key) delete select[key];
    const d = dry.times[s];
    select[sampleDim] = `${d}:${d}`;
  } else if (!key) select[sampleDim] = `${s}:${s + 1}`;
  else return undefined;
  return { ...e, data: { ...e.data, select } };
}

/** Values of a C-order array on two of its dims (index 0 on the others), rows x cols. */
function pick2d(data: ArrayLike<number>, dims: string[], shape: number[], rows: string, cols: string): Float32Array {
  const r = dims.indexOf(rows);
  const c = dims.indexOf(cols);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float32Array(shape[r] * shape[c]);
  for (let i = 0; i < shape[r]; i++) for (let j = 0; j < shape[c]; j++) out[i * shape[c] + j] = data[i * strides[r] + j * strides[c]];
  return out;
}

function preview(mi: ModelInput, at: number, sample: number, e: ModelEntry, units: string | undefined, anomalies: boolean): InputPreview | undefined {
  const per = mi.x.shape.slice(1).reduce((a, b) => a * b, 1);
  const x = mi.x.data.subarray(at * per, (at + 1) * per);
  let grid: ArrayLike<number> = x;
  let dims = mi.dims.slice(1);
  let gshape = mi.x.shape.slice(1);
  if (mi.scatter) {
    grid = scatterFeatures(mi.scatter, x, 1, e.input.fillValue ?? 0);
    dims = mi.scatter.gridDims;
    gshape = mi.scatter.gridShape;
  } else if (mi.sequence) {
    grid = sequenceToGrid(mi.sequence, x, 1);
    dims = mi.sequence.gridDims;
    gshape = mi.sequence.gridShape;
  }
  const latDim = mi.coords.lat?.dim;
  const lonDim = mi.coords.lon?.dim;
  const spatial = dims.filter((d) => d !== 'channel' && d !== 'variable');
  const rows = latDim && dims.includes(latDim) ? latDim : spatial[0];
  const cols = lonDim && dims.includes(lonDim) ? lonDim : spatial.find((d) => d !== rows);
  if (!rows || !cols) return undefined;
  const shape: [number, number] = [gshape[dims.indexOf(rows)], gshape[dims.indexOf(cols)]];
  const out: InputPreview = { map: pick2d(grid, dims, gshape, rows, cols), shape, diverging: anomalies || isDiverging(e), sample, ...(units ? { units } : {}) };
  const lat = mi.coords.lat;
  const lon = mi.coords.lon;
  if (rows === latDim && cols === lonDim && lat && lon && lat.values.length === shape[0] && lon.values.length === shape[1]) out.coords = { lat: Array.from(lat.values), lon: Array.from(lon.values) };
  const m = mi.mask;
  if (m && m.dims.includes(rows) && m.dims.includes(cols) && m.data.length > 0) {
    const valid = pick2d(m.data, m.dims, m.shape, rows, cols);
    out.mask = Uint8Array.from(valid, (v) => (v ? 0 : 1));
  }
  if (mi.times?.[at]) out.time = mi.times[at];
  return out;
}

/** Anomalies and standardized values lie around 0: a diverging colormap. */
function isDiverging(e: ModelEntry): boolean {
  const st = e.input.standardize;
  if (!st) return false;
  if ('anomaly' in st && st.anomaly) return true;
  const m = (st as { mean?: number | number[] }).mean;
  return (m !== undefined && (Array.isArray(m) ? m.some((v) => v !== 0) : m !== 0)) || (st.std !== undefined && st.std !== 1);
}

const size2 = (a: number, b: number): string => `${a}x${b}`;

/** What does not fit, in the data's terms, from a plan without the model's shape (headers only). */
async function fitMessage(e: ModelEntry, shape: Shape, fileLayout: string | undefined): Promise<string | undefined> {
  const free = await buildModelInput({ ...e, input: { ...e.input, flatten: false, sequence: undefined } }, undefined, { dryRun: true }).catch(() => undefined);
  const lat = free?.coords.lat;
  const lon = free?.coords.lon;
  if (!free || !lat || !lon) return undefined;
  const wrap = e.input.wrapLon ?? 0;
  const nlat = lat.values.length;
  const nlon = lon.values.length - 2 * wrap;
  const per = shape.slice(1);
  const k0 = e.input.coarsen ?? 1;
  const grid = `the variable is ${size2(nlat, nlon)} (lat x lon)${k0 > 1 ? ` after coarsening by ${k0}` : ''}`;
  if (per.length === 1 && typeof per[0] === 'number') {
    return `the model takes ${per[0]} values per sample, the ${size2(nlat, nlon)} grid has ${nlat * nlon}${e.input.flatten === 'valid' ? '' : `: set "flatten": "valid" (the valid cells only) or choose the file the model was trained on`}`;
  }
  if (e.input.sequence && per.length === 2) {
    const [T, F] = per;
    const t = e.input.sequence.time;
    const alongLon = t === 'lon' || t === lon.dim;
    const [dt, df] = alongLon ? [nlon + 2 * wrap, nlat] : [nlat, nlon + 2 * wrap];
    const swap = T === df && F === dt ? `: set "sequence": {"time": "${alongLon ? lat.dim : lon.dim}"}` : ': choose the file the model was trained on';
    return `the model reads sequences of ${T ?? 'any'} steps of ${F ?? 'any'} features, the data give ${dt} steps (${alongLon ? 'longitudes' : 'latitudes'}) of ${df} features${swap}`;
  }
  if (per.length < 2) return undefined;
  const channelsFirst = fileLayout ? /^NC/.test(fileLayout) : false;
  const [H, W] = per.length === 3 ? (channelsFirst ? per.slice(1) : per.slice(0, 2)) : per;
  if (typeof H !== 'number' || typeof W !== 'number') return undefined;
  if (H === nlat && W === nlon + 2 * wrap) return undefined;
  const head = `the model expects ${size2(H, W)}, ${grid}`;
  if (H === nlat && W > nlon && (W - nlon) % 2 === 0 && (W - nlon) / 2 <= nlon / 8) return `${head}: set "wrapLon": ${(W - nlon) / 2} (a periodic longitude, ${(W - nlon) / 2} cells copied on each side)`;
  for (let k = 2; k <= 16; k++) {
    const w = Math.floor(nlon / k);
    if (Math.floor(nlat / k) === H && (w === W || (W > w && (W - w) % 2 === 0 && (W - w) / 2 <= w / 8))) {
      return `${head}: choose a file on the model's grid or a coarsening factor of ${k * k0} ("coarsen": ${k * k0} gives ${size2(Math.floor(nlat / k), w)}${w !== W ? `, then "wrapLon": ${(W - w) / 2}` : ''})`;
    }
  }
  if (H > nlat || W > nlon + 2 * wrap) return `${head}: the data are coarser than the model's grid; choose the file the model was trained on (${size2(H, W)} cells)`;
  return `${head}: choose the file the model was trained on, or select a ${size2(H, W)} region with "select" (lat and lon ranges)`;
}

/** A flatten "valid" input of the wrong length: the valid cells against the model's features. */
async function validMessage(e: ModelEntry, shape: Shape): Promise<string | undefined> {
  const free = await buildModelInput(e, undefined).catch(() => undefined);
  if (!free?.scatter || typeof shape[1] !== 'number') return undefined;
  const cells = free.scatter.gridShape.reduce((a, b) => a * b, 1);
  const v = free.scatter.indices.length;
  const grid = free.coords.lat && free.coords.lon ? ` of the ${size2(free.coords.lat.values.length, free.coords.lon.values.length)} grid` : '';
  return `the model takes ${shape[1]} values per sample, the valid (ocean) cells are ${v} (of ${cells} cells${grid}): choose the file the model was trained on${v > shape[1] ? ', or a mask that keeps fewer cells' : ''}`;
}
