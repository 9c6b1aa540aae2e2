/**
 * From a project entry (lrp-lens.json, format in project.ts and docs/lrp-lens-json.md) to the model's
 * input, in this order:
 *   1. read each variable of `data` with its selection (all must have the same dims and shape); the
 *      sample dim is `input.sampleDim`, else the time dim, else (when that fits the model) the first dim;
 *   2. standardize each variable (a channel): (v - mean) / std, or an anomaly against a climatology
 *      ('monthly': the mean of the same calendar month over `period` or over a `climatology` file;
 *      'mean': the mean over all time steps), optionally divided by `std`;
 *   3. the mask: "missing" = cells with a value in every sample and channel, or a mask variable;
 *   4. missing cells (NaN) become `fillValue` (default 0);
 *   5. a periodic longitude axis is extended by `wrapLon` cells on each side (copied from the other end);
 *   6. axes are ordered as `layout` (per sample; 'channel' = the stacked variables), the sample dim
 *      becomes the batch axis (a batch of 1 when there is none), optionally flattened ("valid": only the
 *      cells where the mask is 1, with `scatter` to put a feature vector back on the grid);
 *   7. the shape is checked against the model's input (SHAPE_MISMATCH otherwise);
 *   8. labels: given values, an integer variable, or an index thresholded into classes, matched to the
 *      samples by month when both have dates.
 * Errors are KeyedErrors carrying the key of lrp-lens.json they come from.
 */
import { LIMITS } from '../errors.js';
import { DATA_BUDGET } from './budget.js';
import type { Shape } from '../model/graph.js';
import type { FieldCoords, Field } from './field.js';
import { atKey, KeyedError } from './keyed.js';
import type { JsonPath } from '../json/located-json.js';
import { coordinateVars, openSource, planField, readPlan, withSource, type FieldPlan } from './load.js';
import type { NdArray } from './npy.js';
import type { LabelSpec, ModelEntry } from './project.js';
import { parseDimSelection, type Selection } from './select.js';
import { suggest } from './similar.js';
import { product } from './source.js';
import { resolve } from 'node:path';

export interface ModelInput {
  /** Float32, the model's layout, batch first. */
  x: NdArray & { data: Float32Array };
  /** Names of x's axes: the sample dim (or 'batch'), then the layout ('channel' for the variables). */
  dims: string[];
  /** Class index per sample. */
  labels?: Int32Array;
  /** The values that were thresholded into `labels` (the index), per sample. */
  labelValues?: Float64Array;
  classNames?: string[];
  /** 1 = valid cell; over x's spatial axes (x's dims without batch and channel), wrapped like x. */
  mask?: { data: Uint8Array; shape: number[]; dims: string[] };
  /** Coordinates after selection; lon extended by the wrap. */
  coords: FieldCoords;
  /** Date of each sample where the sample dim is a decoded time axis. */
  times?: string[];
  wrapLon: number;
  explain?: ModelEntry['explain'];
  /**
   * flatten "valid": feature j of a sample is value indices[j] (C order) of the unflattened per-sample
   * array of shape gridShape over gridDims (the layout, wrap included); every other value is masked.
   */
  scatter?: { gridShape: number[]; gridDims: string[]; indices: Int32Array };
}

export interface BuildOptions {
  /** The model's input layout where the loader knows it (channels first or last). */
  fileLayout?: string;
  /** Plan only: check everything from headers, read no values (x.data is empty). */
  dryRun?: boolean;
}

const P = (e: ModelEntry, ...rest: JsonPath): JsonPath => ['models', e.index, ...rest];

function abs(e: ModelEntry, p: string): string {
  return resolve(e.baseDir, p);
}

function selectionOf(raw: Record<string, unknown> | undefined): Selection {
  const out: Selection = {};
  for (const [k, v] of Object.entries(raw ?? {})) out[k] = parseDimSelection(k, v);
  return out;
}

/** Transpose a C-order array: out axis i is in axis perm[i]. */
export function transpose(src: Float32Array, shape: number[], perm: number[]): { data: Float32Array; shape: number[] } {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]);
  if (perm.every((p, i) => p === i)) return { data: src, shape: outShape };
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    inStrides[d] = s;
    s *= shape[d];
  }
  const st = perm.map((p) => inStrides[p]);
  const out = new Float32Array(src.length);
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < out.length; i++) {
    let off = 0;
    for (let d = 0; d < rank; d++) off += idx[d] * st[d];
    out[i] = src[off];
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return { data: out, shape: outShape };
}

/** Extend axis `axis` periodically by n cells on each side. */
export function wrapAxis<T extends Float32Array | Uint8Array>(src: T, shape: number[], axis: number, n: number): { data: T; shape: number[] } {
  if (n === 0) return { data: src, shape };
  const len = shape[axis];
  const outer = product(shape.slice(0, axis));
  const inner = product(shape.slice(axis + 1));
  const outLen = len + 2 * n;
  const out = new (src.constructor as { new (k: number): T })(outer * outLen * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < outLen; j++) {
      const srcJ = (((j - n) % len) + len) % len;
      const from = (o * len + srcJ) * inner;
      out.set(src.subarray(from, from + inner) as never, (o * outLen + j) * inner);
    }
  }
  const s = shape.slice();
  s[axis] = outLen;
  return { data: out, shape: s };
}

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

interface Loaded {
  plans: FieldPlan[];
  fields: Field[];
  names: string[];
}

/** Everything but the values: the plan of each variable; then (unless dryRun) the values. */
async function loadVariables(e: ModelEntry, dryRun: boolean): Promise<Loaded> {
  const names = e.data.variables ?? [e.data.variable as string];
  const file = abs(e, e.data.file);
  if (names.length > DATA_BUDGET.variables) {
    throw new KeyedError('BUDGET_EXCEEDED', `${names.length} variables to stack, over the variables budget of ${DATA_BUDGET.variables}`, P(e, 'data', 'variables'), { file });
  }
  const select = await atKey(P(e, 'data', 'select'), () => selectionOf(e.data.select));
  const source = await atKey(P(e, 'data', 'file'), () => openSource(file, { format: e.data.format, image: e.data.image }));
  try {
    const plans: FieldPlan[] = [];
    // Stacked variables: a selection key applies to the variables that have that dim (axis names to all),
    // so `level` can pick a level of a 4-D variable stacked with 3-D ones. A key no variable has is an error.
    const byName = new Map(source.variables.map((v) => [v.name, v]));
    const infos = names.map((n) => byName.get(n));
    const selectFor = (i: number): Selection => {
      if (names.length === 1 || !infos[i]) return select;
      const own: Selection = {};
      const axes = coordinateVars(source, infos[i]!).map((c) => c.axis);
      for (const [k, v] of Object.entries(select)) if (infos[i]!.dims.includes(k) || axes.includes(k as never)) own[k] = v;
      return own;
    };
    if (names.length > 1) {
      for (const k of Object.keys(select)) {
        if (infos.every((v) => v && !v.dims.includes(k) && !coordinateVars(source, v).some((c) => c.axis === k))) {
          throw new KeyedError('SELECTION_OUT_OF_RANGE', `none of ${names.join(', ')} has a dimension '${k}'`, P(e, 'data', 'select', k), { file });
        }
      }
    }
    for (let i = 0; i < names.length; i++) {
      const varPath = e.data.variables ? P(e, 'data', 'variables', i) : P(e, 'data', e.data.variable ? 'variable' : 'file');
      const plan = await atKey(varPath, async () => {
        try {
          return await planField(source, { variable: names[i], select: selectFor(i) });
        } catch (err) {
          // Selection problems belong to the select key, not the variable.
          if ((err as { code?: string }).code === 'SELECTION_OUT_OF_RANGE') {
            // Find the one dim at fault (headers only) so the diagnostic sits on its key.
            let key: string | undefined;
            const own = selectFor(i);
            for (const k of Object.keys(own)) {
              const ok = await planField(source, { variable: names[i], select: { [k]: own[k] } }).then(() => true, () => false);
              if (!ok) {
                key = k;
                break;
              }
            }
            throw new KeyedError('SELECTION_OUT_OF_RANGE', (err as Error).message, P(e, 'data', 'select', ...(key ? [key] : [])), { file });
          }
          throw err;
        }
      });
      if (i > 0 && (plan.dims.join() !== plans[0].dims.join() || plan.shape.join() !== plans[0].shape.join())) {
        throw new KeyedError('SHAPE_MISMATCH', `variable ${plan.info.name} is ${plan.dims.join('x')}=[${plan.shape}], but ${plans[0].info.name} is [${plans[0].shape}]; stacked variables need the same dims and shape`, varPath, { file });
      }
      plans.push(plan);
    }
    names.splice(0, names.length, ...plans.map((p) => p.info.name));
    // Each variable passed planField's size check; stacked, they must fit together too (checked before reading).
    const stackedValues = product(plans[0].shape) * plans.length;
    if (stackedValues > LIMITS.maxTensorElements) {
      throw new KeyedError('BUDGET_EXCEEDED', `${plans.length} stacked variables of ${product(plans[0].shape)} values: ${stackedValues}, over the maxTensorElements budget of ${LIMITS.maxTensorElements}`, P(e, 'data', e.data.variables ? 'variables' : 'file'), { file });
    }
    const fields = dryRun ? [] : await Promise.all(plans.map((p) => atKey(P(e, 'data', 'file'), () => readPlan(p))));
    return { plans, fields, names };
  } finally {
    await source.close();
  }
}

/** Build the model input for one project entry. `modelInputShape` is the model's graph.inputs[0].fileShape. */
export async function buildModelInput(entry: ModelEntry, modelInputShape?: Shape, opts: BuildOptions = {}): Promise<ModelInput> {
  const e = entry;
  const dry = opts.dryRun ?? false;
  const { plans, fields, names } = await loadVariables(e, dry);
  const plan0 = plans[0];
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

  // Whether taking samples along `sd` gives the model's per-sample size and rank (any order, wrap included).
  const fitsModel = (sd: string | null): boolean => {
    const m = modelInputShape!.slice(1);
    if (m.some((d) => d === null)) return false;
    const ps = plan0.shape.filter((_, i) => dims[i] !== sd);
    const pd = dims.filter((d) => d !== sd);
    const li = pd.indexOf(coords.lon?.dim ?? '');
    if (li >= 0) ps[li] += 2 * (e.input.wrapLon ?? 0);
    const size = product(ps) * names.length;
    const rankOk = m.length === 1 || m.length === ps.length || m.length === ps.length + 1;
    return rankOk && size === product(m as number[]);
  };
  // Sample dim.
  let sampleDim: string | null;
  if (e.input.sampleDim === undefined) {
    sampleDim = coords.time && dims.includes(coords.time.dim) ? coords.time.dim : null;
    // No time axis (a .npy batch, say): the first dim holds the samples when that is what fits the model.
    if (sampleDim === null && modelInputShape && dims.length > 1 && !fitsModel(null) && fitsModel(dims[0])) sampleDim = dims[0];
  }
  else if (e.input.sampleDim === null) sampleDim = null;
  else {
    sampleDim = alias(e.input.sampleDim);
    if (!dims.includes(sampleDim)) throw new KeyedError('UNKNOWN_VARIABLE', `no dim '${e.input.sampleDim}' to take samples from (dims after selection: ${dims.join(', ') || 'none'}).${suggest(e.input.sampleDim, dims, 'dims')}`, P(e, 'input', 'sampleDim'));
  }
  const sAxis = sampleDim === null ? -1 : dims.indexOf(sampleDim);
  const nSamples = sAxis < 0 ? 1 : plan0.shape[sAxis];
  const per = dims.filter((_, i) => i !== sAxis);
  const perShape = plan0.shape.filter((_, i) => i !== sAxis);
  const C = names.length;
  const cells = product(perShape);
  const times = sampleDim !== null && coords.time?.dim === sampleDim ? coords.time.dates : undefined;

  // The stacked-variables axis is 'channel', or 'variable' where the data have a 'channel' dim (images).
  const CH = per.includes('channel') ? 'variable' : 'channel';
  // Layout of the per-sample axes.
  const rank = modelInputShape?.length;
  let layout: string[];
  let flatten = Boolean(e.input.flatten);
  const flattenValid = e.input.flatten === 'valid';
  if (flattenValid && !e.mask) throw new KeyedError('CONFIG_ERROR', `'flatten': "valid" keeps the cells where the mask is 1; give "mask" ("missing" or a mask variable)`, P(e, 'input', 'flatten'));
  if (e.input.layout) {
    layout = e.input.layout.map(alias);
    const want = [...per, ...(C > 1 || layout.includes(CH) ? [CH] : [])];
    const missing = want.filter((d) => !layout.includes(d));
    const extra = layout.filter((d) => !want.includes(d));
    if (missing.length || extra.length || layout.length !== new Set(layout).size) {
      throw new KeyedError('SHAPE_MISMATCH', `'layout' must name each per-sample dim once: ${want.join(', ')}${extra.length ? `; unknown: ${extra.join(', ')}.${suggest(extra[0], want, 'dims')}` : ''}${missing.length ? `; missing: ${missing.join(', ')}` : ''}`, P(e, 'input', 'layout'));
    }
  } else {
    const withChannel = rank === undefined || flatten || C > 1 || rank !== per.length + 1;
    if (rank === 2 && per.length + (withChannel ? 1 : 0) > 1) flatten = true;
    layout = withChannel ? [...per, CH] : per.slice();
    // Channels-first models (ONNX from PyTorch): the channel axis goes first.
    const nch = withChannel ? C : per.includes('channel') ? perShape[per.indexOf('channel')] : undefined;
    const channelsFirst = opts.fileLayout
      ? /^NC/.test(opts.fileLayout)
      : nch !== undefined && rank !== undefined && rank > 2 && modelInputShape![1] === nch && modelInputShape![rank - 1] !== nch;
    if (withChannel && channelsFirst && !flatten) layout = [CH, ...per];
    // An image's own channel dim goes first for channels-first models too.
    if (!withChannel && channelsFirst && !flatten && per.includes('channel')) layout = ['channel', ...per.filter((d) => d !== 'channel')];
  }

  // Wrap: which per-sample axis is longitude.
  const wrap = e.input.wrapLon ?? 0;
  const lonDim = coords.lon?.dim;
  if (wrap > 0 && (lonDim === undefined || !per.includes(lonDim))) {
    throw new KeyedError('CONFIG_ERROR', `'wrapLon' needs a longitude dim among ${per.join(', ')}; name it with "coords": {"lon": "DIM"}`, P(e, 'input', 'wrapLon'));
  }
  if (wrap > 0 && wrap > perShape[per.indexOf(lonDim!)]) {
    throw new KeyedError('CONFIG_ERROR', `'wrapLon' ${wrap} is more than the ${perShape[per.indexOf(lonDim!)]} longitudes`, P(e, 'input', 'wrapLon'));
  }
  const spatial = layout.filter((d) => d !== CH && d !== 'channel');
  const spatialShape = spatial.map((d) => perShape[per.indexOf(d)] + (d === lonDim ? 2 * wrap : 0));
  const sampleShape = layout.map((d) => (d === CH ? C : perShape[per.indexOf(d)] + (d === lonDim ? 2 * wrap : 0)));
  // flatten "valid": the feature count is known once the mask is read; until then, the model's (a dry run) or all cells.
  const validGuess = typeof modelInputShape?.[1] === 'number' ? modelInputShape[1] : product(sampleShape);
  const xShape = flatten ? [nSamples, flattenValid ? validGuess : product(sampleShape)] : [nSamples, ...sampleShape];

  // Shape check against the model (batch axis not compared).
  if (modelInputShape) {
    const ok = modelInputShape.length === xShape.length && modelInputShape.every((d, i) => i === 0 || d === null || d === xShape[i]);
    // (flatten "valid" always passes here when the ranks match; its count is checked after the mask.)
    if (!ok) {
      const fmt = (s: (number | null)[]): string => `[${s.map((d) => (d === null ? 'N' : d)).join(', ')}]`;
      let hint = '';
      if (modelInputShape.length === xShape.length && lonDim) {
        const li = (flatten ? -1 : 1) + layout.indexOf(lonDim);
        const want = modelInputShape[li];
        const diff = typeof want === 'number' ? want - xShape[li] : 0;
        if (li > 0 && diff > 0 && diff % 2 === 0) hint = ` Set "wrapLon": ${wrap + diff / 2} to extend the longitudes periodically.`;
      }
      if (!hint && modelInputShape.length !== xShape.length) hint = ` The data give ${xShape.length - 1} axes per sample (${flatten ? 'flattened' : layout.join(', ')}), the model takes ${modelInputShape.length - 1}; set "layout" or "flatten".`;
      throw new KeyedError('SHAPE_MISMATCH', `the data give input shape ${fmt(xShape)} (${['sample', ...(flatten ? ['features'] : layout)].join(', ')}) but the model expects ${fmt(modelInputShape)}.${hint}`, P(e, e.input.layout || e.input.wrapLon !== undefined ? 'input' : 'data'));
    }
  }

  // Labels and mask checks need sizes only; do them before reading values so a dry run sees them.
  const labelOut = e.labels ? await buildLabels(e, e.labels, nSamples, times, dry) : undefined;

  const outDims = [sampleDim ?? 'batch', ...(flatten ? ['features'] : layout)];
  if (dry) {
    const maskShape = e.mask === 'missing' ? spatialShape : e.mask ? await planMask(e, per, perShape) : undefined;
    return {
      x: { shape: xShape, data: new Float32Array(0), dtype: 'f4' },
      dims: outDims,
      ...labelOut,
      classNames: e.classNames,
      mask: maskShape ? { data: new Uint8Array(0), shape: spatialShape, dims: spatial } : undefined,
      coords,
      times,
      wrapLon: wrap,
      explain: e.explain,
    };
  }

  // Values as [sample, ...per] per channel.
  const chans: Float32Array[] = fields.map((f) => {
    const perm = sAxis < 0 ? f.dims.map((_, i) => i) : [sAxis, ...f.dims.map((_, i) => i).filter((i) => i !== sAxis)];
    return transpose(f.values, f.shape, perm).data.slice();
  });

  // Standardize.
  const st = e.input.standardize;
  if (st) {
    const sp = P(e, 'input', 'standardize');
    for (let c = 0; c < C; c++) {
      const v = chans[c];
      if ('anomaly' in st && st.anomaly) {
        const monthly = st.anomaly === 'monthly';
        if (monthly && !times) throw new KeyedError('CONFIG_ERROR', `'anomaly': 'monthly' needs samples along a decoded time axis (the sample dim is ${sampleDim ?? 'none'})`, [...sp, 'anomaly']);
        const clim = await climatologyFor(e, names[c], c, monthly, per, perShape, sAxis < 0 ? undefined : sampleDim!, v, nSamples, cells, times);
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

  // Mask over the per-sample grid (per order), before filling.
  let maskPer: Uint8Array | undefined;
  if (e.mask === 'missing') {
    maskPer = new Uint8Array(cells).fill(1);
    for (const v of chans) for (let t = 0; t < nSamples; t++) for (let i = 0; i < cells; i++) if (Number.isNaN(v[t * cells + i])) maskPer[i] = 0;
  } else if (e.mask) {
    maskPer = await readMask(e, per, perShape);
  }

  // Fill missing cells.
  const fill = e.input.fillValue ?? 0;
  for (const v of chans) for (let i = 0; i < v.length; i++) if (Number.isNaN(v[i])) v[i] = fill;

  // Stack channels last: [sample, ...per, channel].
  let stacked = new Float32Array(nSamples * cells * C);
  for (let c = 0; c < C; c++) {
    const v = chans[c];
    for (let i = 0; i < nSamples * cells; i++) stacked[i * C + c] = v[i];
  }
  let shape = [nSamples, ...perShape, C];
  // Non-spatial per-sample dims (an image's channel) fold into the mask: valid where valid in all of them.
  const maskDims = per.filter((d) => spatial.includes(d));
  let mask = maskPer && maskDims.length < per.length ? foldMask(maskPer, perShape, per.map((d) => maskDims.includes(d))) : maskPer;
  let maskShape = perShape.filter((_, i) => maskDims.includes(per[i]));
  if (wrap > 0) {
    const ax = per.indexOf(lonDim!);
    const w = wrapAxis(stacked, shape, ax + 1, wrap);
    stacked = w.data;
    shape = w.shape;
    if (mask) {
      const m = wrapAxis(mask, maskShape, maskDims.indexOf(lonDim!), wrap);
      mask = m.data;
      maskShape = m.shape;
    }
    const lon = coords.lon!;
    if (lon.values.length === perShape[ax]) {
      const n = lon.values.length;
      const period = n > 1 ? Math.abs(lon.values[1] - lon.values[0]) * n : 360;
      const ext = new Float64Array(n + 2 * wrap);
      for (let j = 0; j < ext.length; j++) {
        const k = j - wrap;
        ext[j] = lon.values[((k % n) + n) % n] + Math.floor(k / n) * period;
      }
      coords.lon = { ...lon, values: ext };
    }
  }
  // Order as layout: source axes are [sample, ...per, channel].
  const srcAxis = (d: string): number => (d === CH ? per.length + 1 : per.indexOf(d) + 1);
  // A single variable without a channel axis in the layout: its size-1 axis goes last (no data move).
  const t = transpose(stacked, shape, [0, ...layout.map(srcAxis), ...(layout.includes(CH) ? [] : [per.length + 1])]);
  let maskOut: ModelInput['mask'];
  if (mask) {
    const mt = transpose(Float32Array.from(mask), maskShape, spatial.map((d) => maskDims.indexOf(d)));
    maskOut = { data: Uint8Array.from(mt.data), shape: mt.shape, dims: spatial };
  }
  let xData = t.data;
  let scatter: ModelInput['scatter'];
  if (flattenValid) {
    scatter = { gridShape: sampleShape, gridDims: layout, indices: validIndices(layout, sampleShape, spatial, maskOut!.data) };
    const idx = scatter.indices;
    const per = product(sampleShape);
    xData = new Float32Array(nSamples * idx.length);
    for (let s = 0; s < nSamples; s++) for (let j = 0; j < idx.length; j++) xData[s * idx.length + j] = t.data[s * per + idx[j]];
    xShape[1] = idx.length;
    const want = modelInputShape?.[1];
    if (typeof want === 'number' && want !== idx.length) {
      throw new KeyedError('SHAPE_MISMATCH', `the data give ${idx.length} valid values per sample (flatten "valid": the cells where the mask is 1) but the model expects ${want} features`, P(e, 'mask'));
    }
  }
  return {
    x: { shape: xShape, data: xData, dtype: 'f4' },
    dims: outDims,
    ...labelOut,
    classNames: e.classNames,
    mask: maskOut,
    coords,
    times,
    wrapLon: wrap,
    explain: e.explain,
    scatter,
  };
}

/** A batch of n feature vectors of a flatten "valid" input back on its per-sample grid (n x product(gridShape)); masked values 0. */
export function scatterFeatures(sc: NonNullable<ModelInput['scatter']>, src: ArrayLike<number>, n: number, fill = 0): Float32Array {
  const per = product(sc.gridShape);
  const k = sc.indices.length;
  const out = new Float32Array(n * per);
  if (fill !== 0) out.fill(fill);
  for (let s = 0; s < n; s++) for (let j = 0; j < k; j++) out[s * per + sc.indices[j]] = src[s * k + j];
  return out;
}

/** C-order indices, in the per-sample array (shape over layout), of the values whose spatial cell is valid. */
function validIndices(layout: string[], shape: number[], spatial: string[], valid: Uint8Array): Int32Array {
  const spatialShape = spatial.map((d) => shape[layout.indexOf(d)]);
  const isSpatial = layout.map((d) => spatial.includes(d));
  const out: number[] = [];
  const idx = new Array<number>(layout.length).fill(0);
  const total = product(shape);
  for (let i = 0; i < total; i++) {
    let m = 0;
    let k = 0;
    for (let d = 0; d < layout.length; d++) if (isSpatial[d]) m = m * spatialShape[k++] + idx[d];
    if (valid[m]) out.push(i);
    for (let d = layout.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return Int32Array.from(out);
}

/** AND a C-order mask over the axes where keep[i] is false. */
function foldMask(m: Uint8Array, shape: number[], keep: boolean[]): Uint8Array {
  const outShape = shape.filter((_, i) => keep[i]);
  const out = new Uint8Array(product(outShape)).fill(1);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < m.length; i++) {
    let o = 0;
    for (let d = 0; d < shape.length; d++) if (keep[d]) o = o * shape[d] + idx[d];
    if (!m[i]) out[o] = 0;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
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
      const f = await readPlan(await planField(s, { variable: varName, select }));
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

/** The mask's file, variable and selection (default: the data's selection on the dims the mask shares). */
function maskSource(e: ModelEntry): { file: string; variable: string; select: Selection } {
  const m = e.mask as Exclude<ModelEntry['mask'], 'missing' | undefined>;
  return { file: abs(e, m.file ?? e.data.file), variable: m.variable, select: selectionOf(m.select ?? e.data.select) };
}

async function planMask(e: ModelEntry, per: string[], perShape: number[]): Promise<number[]> {
  const mp = P(e, 'mask');
  const { file, variable, select } = maskSource(e);
  return atKey(mp, () =>
    withSource(file, {}, async (s) => {
      const own: Selection = {};
      const info = s.variables.find((v) => v.name === variable);
      for (const [k, v] of Object.entries(select)) if (info?.dims.includes(k)) own[k] = v;
      const p = await planField(s, { variable, select: own });
      const sq = p.shape.filter((n) => n !== 1);
      const want = perShape.filter((n) => n !== 1);
      if (sq.join() !== want.join()) {
        throw new KeyedError('SHAPE_MISMATCH', `mask ${variable} is [${p.shape}], the data grid is [${perShape}] (${per.join(', ')})`, mp, { file });
      }
      return p.shape;
    }),
  );
}

async function readMask(e: ModelEntry, per: string[], perShape: number[]): Promise<Uint8Array> {
  await planMask(e, per, perShape);
  const m = e.mask as Exclude<ModelEntry['mask'], 'missing' | undefined>;
  const { file, variable, select } = maskSource(e);
  return atKey(P(e, 'mask'), () =>
    withSource(file, {}, async (s) => {
      const info = s.variables.find((v) => v.name === variable);
      const own: Selection = {};
      for (const [k, v] of Object.entries(select)) if (info?.dims.includes(k)) own[k] = v;
      const f = await readPlan(await planField(s, { variable, select: own }));
      const valid = m.valid ?? 'nonzero';
      const out = new Uint8Array(f.values.length);
      for (let i = 0; i < out.length; i++) {
        const v = f.values[i];
        out[i] = Number.isNaN(v) ? 0 : valid === 'nonzero' ? Number(v !== 0) : valid === 'zero' ? Number(v === 0) : Number(valid.includes(v));
      }
      return out;
    }),
  );
}

async function buildLabels(
  e: ModelEntry,
  spec: LabelSpec,
  n: number,
  times: string[] | undefined,
  dry: boolean,
): Promise<{ labels?: Int32Array; labelValues?: Float64Array }> {
  const lp = P(e, 'labels');
  if ('values' in spec) {
    if (spec.values.length !== n) throw new KeyedError('SHAPE_MISMATCH', `${spec.values.length} labels for ${n} samples`, [...lp, 'values']);
    checkClasses(e, spec.values, [...lp, 'values']);
    return { labels: Int32Array.from(spec.values) };
  }
  const file = abs(e, spec.file ?? e.data.file);
  return atKey([...lp, spec.file ? 'file' : 'variable'], () =>
    withSource(file, {}, async (s) => {
      const plan = await atKey([...lp, 'variable'], () => planField(s, { variable: spec.variable, select: selectionOf(spec.select) }));
      if (plan.shape.length !== 1) throw new KeyedError('SHAPE_MISMATCH', `labels ${spec.variable} must be one value per sample; it is [${plan.shape}]`, [...lp, 'variable'], { file });
      const ltimes = plan.coords.time?.dates;
      // Match by month when both sides have dates; otherwise by position.
      let pick: number[];
      if (times && ltimes) {
        const at = new Map<string, number>();
        ltimes.forEach((d, i) => at.set(d.slice(0, 7), i));
        pick = times.map((d) => {
          const i = at.get(d.slice(0, 7));
          if (i === undefined) throw new KeyedError('SELECTION_OUT_OF_RANGE', `no label for ${d.slice(0, 7)}: ${spec.variable} runs from ${ltimes[0]} to ${ltimes[ltimes.length - 1]}`, [...lp, 'variable'], { file });
          return i;
        });
      } else {
        if (plan.shape[0] !== n) throw new KeyedError('SHAPE_MISMATCH', `${plan.shape[0]} label values for ${n} samples (no dates on both sides to match them by)`, [...lp, 'variable'], { file });
        pick = Array.from({ length: n }, (_, i) => i);
      }
      if (dry) return {};
      const f = await readPlan(plan);
      const vals = Float64Array.from(pick, (i) => f.values[i]);
      const th = spec.thresholds ?? (spec.threshold !== undefined ? [spec.threshold] : undefined);
      if (th) {
        const labels = Int32Array.from(vals, (v) => th.filter((t) => v > t).length);
        vals.forEach((v, i) => {
          if (Number.isNaN(v)) throw new KeyedError('DATA_ERROR', `label value for sample ${times?.[i] ?? i} is missing`, [...lp, 'variable'], { file });
        });
        return { labels, labelValues: vals };
      }
      const ints = Array.from(vals);
      if (!ints.every((v) => Number.isInteger(v) && v >= 0)) throw new KeyedError('DATA_ERROR', `labels ${spec.variable} are not class indices (integers >= 0); give 'thresholds' to make classes from an index`, [...lp, 'variable'], { file });
      checkClasses(e, ints, [...lp, 'variable']);
      return { labels: Int32Array.from(ints), labelValues: vals };
    }),
  );
}

function checkClasses(e: ModelEntry, labels: number[], path: JsonPath): void {
  if (!e.classNames) return;
  const max = Math.max(...labels);
  if (max >= e.classNames.length) throw new KeyedError('CONFIG_ERROR', `label ${max} has no class name (${e.classNames.length} names given)`, path);
}
