/**
 * Sequences (recurrent and 1-D convolutional models, inputs (batch, time, features)): each sample as a
 * features x time map, time running left to right so long sequences use the panel's width, and the
 * relevance per time step (signed sum over the features). Pure code (no DOM), tested in Node.
 */
import type { MapBatch } from './maps.js';
import type { ExplainResult, FindingSummary, SequenceInfo } from '../../server/src/protocol.js';

export interface SequenceAxes {
  steps: number;
  features: number;
  /** Where the time axis is in one sample: 'NWC' (time, features) or 'NCW' (features, time). */
  layout: 'NWC' | 'NCW';
}

/**
 * The time and feature axes of a batch, when it is a sequence: rank 3 (batch, time, features) in a
 * 1-D layout. Anything else (an image, a flat vector, a field with lat/lon) is drawn as a map instead.
 */
export function sequenceAxes(shape: number[], layout: string | undefined): SequenceAxes | undefined {
  if (shape.length !== 3 || (layout !== 'NWC' && layout !== 'NCW')) return undefined;
  const [a, b] = shape.slice(1);
  return layout === 'NWC' ? { steps: a, features: b, layout } : { steps: b, features: a, layout };
}

/** One sample's features x time map (row f, column t) from its cells in the model's layout. */
export function featureByTime<T extends Float32Array | Uint8Array>(cells: T, ax: SequenceAxes): T {
  if (ax.layout === 'NCW') return cells; // already (features, time)
  const { steps: T, features: F } = ax;
  const out = new (cells.constructor as { new (n: number): T })(T * F);
  for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) out[f * T + t] = cells[t * F + f];
  return out;
}

/** A batch in the model's layout as features x time maps, one per sample. */
export function sequenceMaps(data: Float32Array, shape: number[], ax: SequenceAxes): MapBatch {
  const n = shape[0] ?? 1;
  const cells = ax.steps * ax.features;
  if (data.length !== n * cells) throw new Error(`a sequence batch of shape [${shape.join(', ')}] needs ${n * cells} values, not ${data.length}`);
  const maps: Float32Array[] = [];
  for (let s = 0; s < n; s++) maps.push(featureByTime(data.subarray(s * cells, (s + 1) * cells), ax));
  return { n, height: ax.features, width: ax.steps, maps };
}

/** Relevance per time step of a features x time map: the signed sum over features (masked/NaN cells skipped). */
export function stepRelevance(map: Float32Array, steps: number, features: number): Float64Array {
  const out = new Float64Array(steps);
  for (let f = 0; f < features; f++) {
    for (let t = 0; t < steps; t++) {
      const v = map[f * steps + t];
      if (Number.isFinite(v)) out[t] += v;
    }
  }
  return out;
}

export interface StepSummary {
  total: number;
  /** Step with the largest |sum| and its sum. */
  peak: number;
  peakValue: number;
  /** Share of sum |R_t| in the last quarter of the steps (at least one step): how much the end dominates. */
  lastQuarterShare: number;
}

export function summarizeSteps(steps: ArrayLike<number>): StepSummary {
  let total = 0;
  let abs = 0;
  let peak = 0;
  const n = steps.length;
  const tail = Math.max(1, Math.ceil(n / 4));
  let tailAbs = 0;
  for (let t = 0; t < n; t++) {
    const v = steps[t];
    total += v;
    abs += Math.abs(v);
    if (t >= n - tail) tailAbs += Math.abs(v);
    if (Math.abs(v) > Math.abs(steps[peak])) peak = t;
  }
  return { total, peak, peakValue: n ? steps[peak] : NaN, lastQuarterShare: abs ? tailAbs / abs : 0 };
}

/** The axes a server's `sequence` field names (time on axis 1: NWC; on axis 2: NCW), when they fit `shape`. */
export function axesFromInfo(info: SequenceInfo, shape: number[]): SequenceAxes | undefined {
  if (shape.length !== 3 || info.timeAxis + info.featureAxis !== 3 || (info.timeAxis !== 1 && info.timeAxis !== 2)) return undefined;
  if (shape[info.timeAxis] !== info.steps || shape[info.featureAxis] !== info.features) return undefined;
  return { steps: info.steps, features: info.features, layout: info.timeAxis === 1 ? 'NWC' : 'NCW' };
}

/**
 * The sequence's maps put back on the field's grid (the server's `sequence.toGrid`) as a result the map
 * decoder reads: lat x lon per sample, with the coordinates and mask, so the globe view draws it.
 */
export function globeResult(result: ExplainResult): ExplainResult | undefined {
  const g = result.sequence?.toGrid;
  if (!g || g.relevance.shape.length !== 3) return undefined;
  const seq = { ...result.sequence! };
  delete seq.toGrid;
  const out: ExplainResult = { ...result, relevance: g.relevance, coords: g.coords, layout: 'HW', sequence: seq };
  if (g.input) out.input = g.input;
  else delete out.input;
  if (g.mask) out.mask = g.mask;
  else delete out.mask;
  delete out.grid;
  delete out.wrapLon;
  return out;
}

/** What the recurrent checks' findings give the sequence view's overlays, read from their `data`. */
export interface SequenceOverlays {
  /** LRP212: stripes along the feeding axis; the field's dim that was fed as time, the mean |R| share per step. */
  stripes?: { timeDim?: string; profile: number[]; message: string };
  /** LRP213: the faded steps, the fitted half-life and the fitted share per step (the curve). */
  fading?: { faded: number[]; halfLife: number; curve: Float64Array; message: string };
  /** LRP215: steps that get exactly zero relevance (0 and/or T-1). */
  zeroSteps: { step: number; message: string }[];
  /** LRP216: the mean |R| share per cell in the feeding order and reversed (features x time maps). */
  reversed?: { own: Float32Array; reversed: Float32Array; message: string; accuracy?: number; reversedAccuracy?: number; agreement?: number };
}

type FindingLike = Pick<FindingSummary, 'code' | 'message' | 'data'>;

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const nums = (v: unknown): number[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined);

/**
 * The overlays of a sequence of `ax.steps` x `ax.features` from the findings of its model: a finding
 * whose data do not fit these sizes (another data set's) is left out.
 */
export function sequenceOverlays(findings: FindingLike[], ax: Pick<SequenceAxes, 'steps' | 'features'>): SequenceOverlays {
  const T = ax.steps, F = ax.features;
  const out: SequenceOverlays = { zeroSteps: [] };
  for (const f of findings) {
    const d = f.data ?? {};
    if (f.code === 'LRP212') {
      const profile = nums(d.profile);
      if (profile && profile.length === T) out.stripes = { profile, message: f.message, ...(typeof d.timeDim === 'string' ? { timeDim: d.timeDim } : {}) };
    } else if (f.code === 'LRP213') {
      const faded = nums(d.faded);
      if (!faded || num(d.steps) !== T || faded.some((t) => !(t >= 0 && t < T))) continue;
      // JSON turns an infinite half-life (no decay) into null: no curve then.
      const halfLife = num(d.halfLife) ?? Infinity, amplitude = num(d.amplitude);
      const fromEnd = d.fromEnd !== false;
      const curve = new Float64Array(T);
      if (amplitude !== undefined && Number.isFinite(halfLife)) for (let t = 0; t < T; t++) curve[t] = amplitude * 2 ** (-(fromEnd ? T - 1 - t : t) / halfLife);
      out.fading = { faded, halfLife, curve, message: f.message };
    } else if (f.code === 'LRP215') {
      const step = num(d.step);
      if (step !== undefined && num(d.steps) === T && (step === 0 || step === T - 1)) out.zeroSteps.push({ step, message: f.message });
    } else if (f.code === 'LRP216') {
      const own = nums(d.meanMap), rev = nums(d.reversedMeanMap);
      if (!own || !rev || own.length !== T * F || rev.length !== T * F) continue;
      // The finding's maps are (time, features); the view's are features x time.
      const ax2: SequenceAxes = { steps: T, features: F, layout: 'NWC' };
      out.reversed = {
        own: featureByTime(Float32Array.from(own), ax2), reversed: featureByTime(Float32Array.from(rev), ax2), message: f.message,
        ...(num(d.accuracy) !== undefined ? { accuracy: num(d.accuracy) } : {}),
        ...(num(d.reversedAccuracy) !== undefined ? { reversedAccuracy: num(d.reversedAccuracy) } : {}),
        ...(num(d.agreement) !== undefined ? { agreement: num(d.agreement) } : {}),
      };
    }
  }
  return out;
}

/**
 * The fitted fading-memory curve in one sample's bar units: the curve is a share of the mean |R| per
 * step, so it is scaled by the sample's Σ_t |Σ_f R| (the bars' total height), signed like the sample's
 * total relevance.
 */
export function curveInBarUnits(curve: ArrayLike<number>, steps: ArrayLike<number>): Float64Array {
  let abs = 0, total = 0;
  for (let t = 0; t < steps.length; t++) if (Number.isFinite(steps[t])) { abs += Math.abs(steps[t]); total += steps[t]; }
  const sign = total < 0 ? -1 : 1;
  return Float64Array.from(curve, (v) => sign * v * abs);
}

/**
 * The vertical scale of the per-step bar chart (charts.ts drawStepBars: plot 8..110 px, zero included),
 * so overlays drawn over the bars share it: value -> y in CSS px.
 */
export function barScale(values: ArrayLike<number>): (v: number) => number {
  let hi = 0, lo = 0;
  for (let t = 0; t < values.length; t++) if (Number.isFinite(values[t])) { hi = Math.max(hi, values[t]); lo = Math.min(lo, values[t]); }
  if (hi === lo) hi = 1;
  return (v) => 8 + ((hi - Math.min(hi, Math.max(lo, v))) / (hi - lo)) * 102;
}

/** Which of the sequence view's overlays are on; kept in the panel's state (state.ts KeptPanelState). */
export interface SequenceToggles {
  feeding: boolean;
  fading: boolean;
  zero: boolean;
  reversed: boolean;
}

export const DEFAULT_SEQUENCE_TOGGLES: Readonly<SequenceToggles> = { feeding: true, fading: true, zero: true, reversed: false };

/** The toggles from a kept state: each boolean it holds, the default for anything missing or malformed (an older or hand-edited state). */
export function sequenceToggles(kept: unknown): SequenceToggles {
  const out = { ...DEFAULT_SEQUENCE_TOGGLES };
  if (typeof kept !== 'object' || kept === null) return out;
  for (const k of Object.keys(out) as (keyof SequenceToggles)[]) {
    const v = (kept as Record<string, unknown>)[k];
    if (typeof v === 'boolean') out[k] = v;
  }
  return out;
}

/** A run of whole columns of a features x time map, in CSS px from the plot's left edge. */
export interface ColumnSpan {
  x: number;
  w: number;
  /** First and last step of the run. */
  from: number;
  to: number;
}

/** What the overlays mark on the features x time map itself (not only on the step chart). */
export interface SequenceMapMarks {
  /** LRP213: runs of faded steps, shaded over every feature. */
  shaded: ColumnSpan[];
  /** LRP215: the step with exactly zero relevance, outlined. */
  outlined: ColumnSpan[];
  /** LRP212: the feeding direction (time left to right), with the field's dim when known. */
  arrow?: { label: string };
}

/**
 * The map marks of the overlays that are on, for a plot `plotW` px wide showing `steps` columns:
 * adjacent faded steps merge into one span, so a long faded stretch is one shaded block without seams.
 */
export function sequenceMapMarks(ov: SequenceOverlays, on: SequenceToggles, steps: number, plotW: number): SequenceMapMarks {
  const cw = plotW / Math.max(1, steps);
  const span = (from: number, to: number): ColumnSpan => ({ x: from * cw, w: (to - from + 1) * cw, from, to });
  const shaded: ColumnSpan[] = [];
  if (on.fading && ov.fading) {
    const ts = [...new Set(ov.fading.faded)].filter((t) => t >= 0 && t < steps).sort((a, b) => a - b);
    for (let i = 0; i < ts.length;) {
      let j = i;
      while (j + 1 < ts.length && ts[j + 1] === ts[j] + 1) j++;
      shaded.push(span(ts[i], ts[j]));
      i = j + 1;
    }
  }
  const outlined = on.zero ? ov.zeroSteps.filter((z) => z.step >= 0 && z.step < steps).map((z) => span(z.step, z.step)) : [];
  const marks: SequenceMapMarks = { shaded, outlined };
  if (on.feeding && ov.stripes) marks.arrow = { label: ov.stripes.timeDim ? `fed along '${ov.stripes.timeDim}'` : 'time' };
  return marks;
}
