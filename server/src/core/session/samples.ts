/**
 * Which samples of a batch to explain, and taking them: the one copy every front end uses (the server's
 * selections, the report's per-class picks, explain's per-label groups).
 */
import { LensError } from '../errors.js';
import { toFloat32, type NdArray } from '../array.js';

export type Batch = NdArray & { data: Float32Array };

/** Samples explained when the caller names no cap. */
export const DEFAULT_MAX_SAMPLES = 64;

export interface SampleSelection {
  /** Indices along the batch axis (default: the first ones, up to the cap). */
  indices?: number[];
  /** Dates on the data's time axis (ISO YYYY-MM or YYYY-MM-DD; a month names every time in it). */
  dates?: string[];
  /** An inclusive range of dates, 'FROM:TO' ('2015-01:2016-06'). */
  timeRange?: string;
  maxSamples?: number;
}

const ISO_DATE = /^\d{4}-\d{2}(-\d{2})?$/;

function checkDate(d: string, what: string): string {
  const t = d.trim();
  if (!ISO_DATE.test(t)) throw new LensError('USAGE', `${what} must be an ISO date YYYY-MM or YYYY-MM-DD, got '${d}'`);
  return t;
}

/** 'FROM:TO' as two ISO dates, FROM not after TO. */
export function parseTimeRange(text: string): [string, string] {
  const parts = text.split(':');
  if (parts.length !== 2) throw new LensError('USAGE', `a time range is FROM:TO (e.g. 2015-01:2016-06), got '${text}'`);
  const from = checkDate(parts[0], 'a time range\'s start');
  const to = checkDate(parts[1], 'a time range\'s end');
  if (from > to.padEnd(from.length, '~')) throw new LensError('USAGE', `time range ${text} ends before it starts`);
  return [from, to];
}

/** A list of ISO dates, checked ('2015-12,2016-01' on the command line). */
export function parseDates(list: readonly string[]): string[] {
  return list.map((d) => checkDate(d, 'a date'));
}

/** The span of a time axis as the errors name it: first..last (count). */
function axisSpan(times: readonly string[]): string {
  const day = (t: string): string => t.split('T')[0];
  return `${day(times[0])}..${day(times[times.length - 1])} (${times.length} times)`;
}

/**
 * The sample positions a selection's dates and time range name on the data's time axis (one time per
 * sample), in time order; undefined when it names none. A date matches every time it is a prefix of (a
 * month matches its days); one that matches none is an error naming the axis's span.
 */
export function datesToIndices(times: readonly string[] | undefined, n: number, sel: Pick<SampleSelection, 'dates' | 'timeRange'>, file?: string): number[] | undefined {
  if (!sel.dates?.length && sel.timeRange === undefined) return undefined;
  if (!times?.length || times.length !== n) {
    throw new LensError('BAD_INPUT', `samples by date need a time axis along the samples; these data have ${times?.length ? `${times.length} times for ${n} samples` : 'none'} (pick samples by index)`, { file });
  }
  const picked = new Set<number>();
  for (const d of parseDates(sel.dates ?? [])) {
    let hit = false;
    times.forEach((t, i) => {
      if (t.startsWith(d)) {
        picked.add(i);
        hit = true;
      }
    });
    if (!hit) throw new LensError('SELECTION_OUT_OF_RANGE', `date ${d} is not on the data's time axis ${axisSpan(times)}`, { file });
  }
  if (sel.timeRange !== undefined) {
    const [from, to] = parseTimeRange(sel.timeRange);
    let hit = false;
    times.forEach((t, i) => {
      if (t.slice(0, from.length) >= from && t.slice(0, to.length) <= to) {
        picked.add(i);
        hit = true;
      }
    });
    if (!hit) throw new LensError('SELECTION_OUT_OF_RANGE', `time range ${sel.timeRange} holds no time of the data's axis ${axisSpan(times)}`, { file });
  }
  return [...picked].sort((a, b) => a - b);
}

/**
 * The indices a selection names in a batch of n: checked against n, at most the cap. Dates and a time
 * range are resolved here against `times` (the data's time per sample), joined with any indices given.
 */
export function selectIndices(n: number, sel: SampleSelection = {}, file?: string, defaultMax = DEFAULT_MAX_SAMPLES, times?: readonly string[]): number[] {
  const max = Math.max(1, Math.floor(sel.maxSamples ?? defaultMax));
  const byDate = datesToIndices(times, n, sel, file);
  const named = byDate ? [...new Set([...(sel.indices ?? []), ...byDate])] : sel.indices;
  const indices = (named ?? [...Array(Math.min(n, max)).keys()]).slice(0, max);
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new LensError('SELECTION_OUT_OF_RANGE', `sample index ${i} is outside 0..${n - 1}`, { file });
  }
  return indices;
}

/** The samples at `indices` of a batch, in that order, as a new float32 batch. */
export function takeSamples(x: NdArray, indices: readonly number[]): Batch {
  const src = toFloat32(x);
  const n = x.shape[0] ?? 1;
  const per = src.length / Math.max(1, n);
  const data = new Float32Array(indices.length * per);
  indices.forEach((s, k) => data.set(src.subarray(s * per, (s + 1) * per), k * per));
  return { shape: [indices.length, ...x.shape.slice(1)], data, dtype: 'f4' };
}

/** Up to `max` indices spread evenly over the samples whose label is `label` (all of them when fewer). */
export function pickByLabel(labels: ArrayLike<number>, label: number, max: number): number[] {
  const all: number[] = [];
  for (let i = 0; i < labels.length; i++) if (labels[i] === label) all.push(i);
  if (all.length <= max) return all;
  return Array.from({ length: max }, (_, k) => all[Math.floor(((k + 0.5) * all.length) / max)]);
}

/** Sample positions grouped by a per-sample value (a label, a class), in first-seen order. */
export function groupBy(values: ArrayLike<number>): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (let s = 0; s < values.length; s++) {
    const g = groups.get(values[s]);
    if (g) g.push(s);
    else groups.set(values[s], [s]);
  }
  return groups;
}
