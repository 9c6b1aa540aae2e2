/**
 * The data form's state machine, without DOM: from a data file's description (the server's suggested
 * entry and its axes) to the lrp-lens.json entry draft the controls edit. Each control reads its value
 * from the draft (`choicesOf`) and writes it back (`applyChange`), so the draft is the one source of
 * truth and "Save" writes exactly what the form shows. Problems of a plan land on the control whose key
 * they name (`fieldOf`).
 */
import type { DataAxisInfo, DataDescription, DataVariableInfo, EntryDraft, PlanProblem } from '../../server/src/protocol.js';

/** How the field feeds the model: a grid (image), the valid (ocean) cells flattened, all cells flattened, a sequence. */
export type Feed = 'grid' | 'ocean' | 'flat' | 'sequence';
/** Standardization: none, z-score with given mean and std, monthly anomalies (base period), anomalies from the overall mean. */
export type Standardize = 'none' | 'zscore' | 'monthly' | 'mean';

/** What the controls show, read from a draft. */
export interface Choices {
  variable: string;
  /** Further variables stacked as channels after `variable`. */
  channels: string[];
  /** The time range: dates of the time axis (or START / STOP indices where it has no dates). */
  timeStart?: string;
  timeEnd?: string;
  /** Index along the level axis (where there is one). */
  level?: number;
  standardize: Standardize;
  mean?: number;
  std?: number;
  /** Base period of monthly anomalies: first and last year. */
  periodStart?: number;
  periodEnd?: number;
  clip?: [number, number];
  maskMissing: boolean;
  fillValue: number;
  wrapLon: number;
  coarsen: number;
  feed: Feed;
  seqTime?: string;
  seqReverse: boolean;
}

export type Change =
  | { key: 'variable'; value: string }
  | { key: 'channels'; value: string[] }
  | { key: 'timeStart' | 'timeEnd'; value: string }
  | { key: 'level'; value: number | undefined }
  | { key: 'standardize'; value: Standardize }
  | { key: 'mean' | 'std'; value: number | undefined }
  | { key: 'periodStart' | 'periodEnd'; value: number }
  | { key: 'clip'; value: [number, number] | undefined }
  | { key: 'maskMissing'; value: boolean }
  | { key: 'fillValue' | 'wrapLon' | 'coarsen'; value: number }
  | { key: 'feed'; value: Feed }
  | { key: 'seqTime'; value: string }
  | { key: 'seqReverse'; value: boolean };

/** The form's controls, each named by what it sets; 'general' collects problems no control owns. */
export type FieldId = 'variable' | 'channels' | 'time' | 'level' | 'standardize' | 'clip' | 'mask' | 'fill' | 'wrapLon' | 'coarsen' | 'feed' | 'general';

export const axisOf = (d: DataDescription, role: DataAxisInfo['role']): DataAxisInfo | undefined => d.axes.find((a) => a.role === role);

export function variableInfo(d: DataDescription, name: string | undefined): DataVariableInfo | undefined {
  return d.variables.find((v) => v.name === name);
}

/** The variables that can be stacked with `name` as channels: the same dims and shape. */
export function stackable(d: DataDescription, name: string): DataVariableInfo[] {
  const v = variableInfo(d, name);
  if (!v) return [];
  return d.variables.filter((o) => o.name !== name && o.dims.join() === v.dims.join() && o.shape.join() === v.shape.join());
}

const clone = (e: EntryDraft): EntryDraft => JSON.parse(JSON.stringify(e)) as EntryDraft;

/** The draft the form starts from: the server's suggestion, else the file and its largest variable. */
export function initialDraft(d: DataDescription): EntryDraft {
  if (d.defaults) return clone(d.defaults);
  const v = d.variables[0]?.name;
  const time = axisOf(d, 'time');
  return { data: { file: d.file, ...(v ? { variable: v } : {}) }, input: time ? { sampleDim: time.name } : {} };
}

/** Monthly (or coarser) steps are selected by YYYY-MM; finer ones by their full date. */
function datePrefix(times: string[]): number {
  const months = new Set(times.map((t) => t.slice(0, 7)));
  return months.size === times.length ? 7 : 10;
}

/** A time range selection ("2010-01:2018-12", inclusive) or index range ("0:96", stop exclusive) as [start, end]. */
function rangeOf(sel: unknown, axis: DataAxisInfo | undefined): [string | undefined, string | undefined] {
  if (typeof sel !== 'string' || !axis) return [undefined, undefined];
  const times = axis.times;
  if (times?.length) {
    const n = datePrefix(times);
    // A date range: split at the ':' that follows a whole date prefix.
    const a = sel.slice(0, n);
    const b = sel.slice(n + 1);
    if (sel[n] === ':' && /^\d{4}-\d{2}/.test(a)) return [times.find((t) => t.startsWith(a)), [...times].reverse().find((t) => t.startsWith(b))];
  }
  const m = /^(\d*):(\d*)$/.exec(sel);
  return m ? [m[1] || undefined, m[2] || undefined] : [undefined, undefined];
}

function selectKey(e: EntryDraft, axis: DataAxisInfo | undefined): string | undefined {
  if (!axis) return undefined;
  const sel = e.data.select ?? {};
  return axis.name in sel ? axis.name : axis.role in sel ? axis.role : undefined;
}

function yearOf(s: string | undefined): number | undefined {
  const m = s ? /^(-?\d{4})/.exec(s) : null;
  return m ? Number(m[1]) : undefined;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function choicesOf(e: EntryDraft, d: DataDescription): Choices {
  const input = (e.input ?? {}) as Record<string, unknown>;
  const vars = e.data.variables ?? (e.data.variable ? [e.data.variable] : []);
  const time = axisOf(d, 'time');
  const level = axisOf(d, 'level');
  const tKey = selectKey(e, time);
  const [timeStart, timeEnd] = rangeOf(tKey ? e.data.select?.[tKey] : undefined, time);
  const lKey = selectKey(e, level);
  const st = (input.standardize ?? {}) as Record<string, unknown>;
  const standardize: Standardize = st.anomaly === 'monthly' ? 'monthly' : st.anomaly === 'mean' ? 'mean' : 'mean' in st || 'std' in st ? 'zscore' : 'none';
  const period = typeof st.period === 'string' ? st.period.split(':') : [];
  const clip = Array.isArray(input.clip) && input.clip.length === 2 && input.clip.every((x) => num(x) !== undefined) ? (input.clip as [number, number]) : undefined;
  const seq = input.sequence as { time?: string; reverse?: boolean } | undefined;
  const feed: Feed = seq ? 'sequence' : input.flatten === 'valid' ? 'ocean' : input.flatten === true ? 'flat' : 'grid';
  return {
    variable: vars[0] ?? d.variables[0]?.name ?? '',
    channels: vars.slice(1),
    timeStart, timeEnd,
    level: lKey ? num(e.data.select?.[lKey]) : undefined,
    standardize,
    mean: num(st.mean), std: num(st.std),
    periodStart: yearOf(period[0]), periodEnd: yearOf(period[1]),
    clip,
    maskMissing: e.mask !== undefined,
    fillValue: num(input.fillValue) ?? 0,
    wrapLon: num(input.wrapLon) ?? 0,
    coarsen: num(input.coarsen) ?? 1,
    feed,
    seqTime: seq?.time,
    seqReverse: seq?.reverse === true,
  };
}

/** Whole years the time axis covers (for the base-period pickers). */
export function yearsOf(d: DataDescription): number[] {
  const times = axisOf(d, 'time')?.times ?? [];
  const ys = [...new Set(times.map((t) => yearOf(t)).filter((y): y is number => y !== undefined))];
  return ys.sort((a, b) => a - b);
}

function setTimeRange(e: EntryDraft, d: DataDescription, start: string | undefined, end: string | undefined): void {
  const time = axisOf(d, 'time');
  if (!time) return;
  const sel = { ...(e.data.select ?? {}) };
  const old = selectKey(e, time);
  if (old) delete sel[old];
  const times = time.times;
  if (times?.length) {
    const n = datePrefix(times);
    const a = (start ?? times[0]).slice(0, n);
    const b = (end ?? times[times.length - 1]).slice(0, n);
    // The whole axis needs no selection.
    if (!(a === times[0].slice(0, n) && b === times[times.length - 1].slice(0, n))) sel[time.name] = `${a}:${b}`;
  } else if (start !== undefined || end !== undefined) sel[time.name] = `${start ?? ''}:${end ?? ''}`;
  if (Object.keys(sel).length) e.data.select = sel;
  else delete e.data.select;
}

function setVariables(e: EntryDraft, vars: string[]): void {
  delete e.data.variable;
  delete e.data.variables;
  if (vars.length === 1) e.data.variable = vars[0];
  else if (vars.length > 1) e.data.variables = vars;
}

function setStandardize(input: Record<string, unknown>, c: Choices, d: DataDescription): void {
  const prev = (input.standardize ?? {}) as Record<string, unknown>;
  switch (c.standardize) {
    case 'none': delete input.standardize; return;
    case 'zscore': input.standardize = { mean: c.mean ?? 0, std: c.std ?? 1 }; return;
    case 'mean': input.standardize = { anomaly: 'mean', ...(prev.std !== undefined && prev.anomaly ? { std: prev.std } : {}) }; return;
    case 'monthly': {
      const years = yearsOf(d);
      const a = c.periodStart ?? years[0];
      const b = c.periodEnd ?? years[years.length - 1];
      input.standardize = { anomaly: 'monthly', ...(a !== undefined && b !== undefined ? { period: `${a}-01:${b}-12` } : {}) };
      return;
    }
  }
}

/** The draft after one control changed (a new object: the old one is left as it was). */
export function applyChange(entry: EntryDraft, d: DataDescription, ch: Change): EntryDraft {
  const e = clone(entry);
  const input = (e.input ??= {}) as Record<string, unknown>;
  const c = choicesOf(entry, d);
  switch (ch.key) {
    case 'variable': setVariables(e, [ch.value, ...c.channels.filter((v) => v !== ch.value && stackable(d, ch.value).some((s) => s.name === v))]); break;
    case 'channels': setVariables(e, [c.variable, ...ch.value.filter((v) => v !== c.variable)]); break;
    case 'timeStart': setTimeRange(e, d, ch.value, c.timeEnd); break;
    case 'timeEnd': setTimeRange(e, d, c.timeStart, ch.value); break;
    case 'level': {
      const level = axisOf(d, 'level');
      if (!level) break;
      const sel = { ...(e.data.select ?? {}) };
      const old = selectKey(e, level);
      if (old) delete sel[old];
      if (ch.value !== undefined) sel[level.name] = ch.value;
      if (Object.keys(sel).length) e.data.select = sel;
      else delete e.data.select;
      break;
    }
    case 'standardize': setStandardize(input, { ...c, standardize: ch.value }, d); break;
    case 'mean': case 'std': setStandardize(input, { ...c, standardize: 'zscore', [ch.key]: ch.value }, d); break;
    case 'periodStart': case 'periodEnd': setStandardize(input, { ...c, standardize: 'monthly', [ch.key]: ch.value }, d); break;
    case 'clip': if (ch.value) input.clip = ch.value; else delete input.clip; break;
    case 'maskMissing':
      if (ch.value) e.mask = entry.mask ?? 'missing';
      else delete e.mask;
      break;
    case 'fillValue': input.fillValue = ch.value; break;
    case 'wrapLon': if (ch.value > 0) input.wrapLon = ch.value; else delete input.wrapLon; break;
    case 'coarsen': if (ch.value > 1) input.coarsen = ch.value; else delete input.coarsen; break;
    case 'feed':
      delete input.flatten;
      delete input.sequence;
      if (ch.value === 'ocean') { input.flatten = 'valid'; e.mask ??= 'missing'; }
      else if (ch.value === 'flat') input.flatten = true;
      else if (ch.value === 'sequence') input.sequence = { time: c.seqTime ?? axisOf(d, 'lon')?.name ?? 'lon', reverse: c.seqReverse };
      // A flattened or sequence input has no grid layout to keep.
      if (ch.value !== 'grid') delete input.layout;
      break;
    case 'seqTime': input.sequence = { time: ch.value, reverse: c.seqReverse }; break;
    case 'seqReverse': input.sequence = { time: c.seqTime ?? axisOf(d, 'lon')?.name ?? 'lon', reverse: ch.value }; break;
  }
  if (Object.keys(input).length === 0) delete e.input;
  return e;
}

/** Which control a problem's entry key belongs to (`data.select.time` -> time, `input.standardize.period` -> standardize). */
export function fieldOf(path: string | undefined, d: DataDescription): FieldId {
  if (!path) return 'general';
  const p = path.replace(/\[(\d+)\]/g, '.$1');
  const starts = (prefix: string) => p === prefix || p.startsWith(`${prefix}.`);
  if (starts('data.variables')) return 'channels';
  if (starts('data.variable') || starts('data.file') || starts('data.format')) return 'variable';
  if (starts('data.select')) {
    const dim = p.split('.')[2];
    const level = axisOf(d, 'level');
    return level && (dim === level.name || dim === 'level') ? 'level' : 'time';
  }
  if (starts('input.sampleDim')) return 'time';
  if (starts('input.standardize')) return 'standardize';
  if (starts('input.clip')) return 'clip';
  if (starts('mask')) return 'mask';
  if (starts('input.fillValue')) return 'fill';
  if (starts('input.wrapLon')) return 'wrapLon';
  if (starts('input.coarsen')) return 'coarsen';
  if (starts('input.flatten') || starts('input.sequence') || starts('input.layout')) return 'feed';
  return 'general';
}

/** The problems of a plan grouped by the control they name. */
export function problemsByField(problems: PlanProblem[], d: DataDescription): Map<FieldId, PlanProblem[]> {
  const out = new Map<FieldId, PlanProblem[]>();
  for (const p of problems) {
    const f = fieldOf(p.path, d);
    out.set(f, [...(out.get(f) ?? []), p]);
  }
  return out;
}

/** "89x180 -> model 89x180, 107 samples 2010-01 .. 2018-12", the line under the form. */
export function fitLine(plan: { fits: boolean; modelShape: number[]; dataShape?: number[]; samples: number; firstTime?: string; lastTime?: string }): string {
  // A leading batch dim (symbolic: -1 or 0) is not part of one sample's shape; other symbolic dims show as '?'.
  const model = plan.dataShape && plan.modelShape.length === plan.dataShape.length + 1 && plan.modelShape[0] <= 0 ? plan.modelShape.slice(1) : plan.modelShape;
  const shape = (s: number[] | undefined) => (s && s.length ? s.map((d) => (d > 0 ? String(d) : '?')).join('x') : '?');
  const dates = plan.firstTime && plan.lastTime ? ` ${short(plan.firstTime)} .. ${short(plan.lastTime)}` : '';
  return `${plan.fits ? 'fits' : 'does not fit'}: ${shape(plan.dataShape)} -> model ${shape(model)}, ${plan.samples} sample${plan.samples === 1 ? '' : 's'}${dates}`;
}

/** Dates shown to the month when they are first-of-month (monthly data), else to the day. */
function short(t: string): string {
  return /^\d{4}-\d{2}-01/.test(t) ? t.slice(0, 7) : t.slice(0, 10);
}

/** A data file that needs no form: a .npy of ready model inputs (the panel explains it as before). */
export function isReadyInputs(path: string): boolean {
  return /\.npy$/i.test(path);
}
