/**
 * The lrpLens/* request parameters checked at the door: a wrong-typed field is a BAD_INPUT error that
 * names it, not a JavaScript TypeError deep in a job that leaves as INTERNAL.
 */
import { LensError } from '../core/errors.js';
import { parseDates, parseTimeRange } from '../core/session/samples.js';
import type { AllowPathsParams, CancelParams, CheckDataParams, DescribeDataParams, EntryDraft, ExplainParams, ListModelsParams, PlanInputParams, ReanalyzeParams, SampleSelection, SaveEntryParams } from '../protocol.js';

type Obj = Record<string, unknown>;

function bad(what: string, v: unknown): never {
  const shown = JSON.stringify(v) ?? String(v);
  throw new LensError('BAD_INPUT', `${what} (got ${shown.length > 80 ? shown.slice(0, 77) + '...' : shown})`);
}

function object(p: unknown, what: string, optional = false): Obj | undefined {
  if ((p === undefined || p === null) && optional) return undefined;
  if (typeof p !== 'object' || p === null || Array.isArray(p)) bad(`${what} must be an object`, p);
  return p as Obj;
}

/** A path or file URI: a non-empty string without NUL. */
function pathString(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.includes('\0') || v.length > 4096) bad(`${what} must be a file path or file: URI`, v);
  return v;
}

function optionalString(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') bad(`${what} must be a string`, v);
  return v;
}

/** A parser's usage error as the request's BAD_INPUT. */
function asBadInput<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof LensError) throw new LensError('BAD_INPUT', `samples: ${e.message}`);
    throw e;
  }
}

function samples(v: unknown): SampleSelection | undefined {
  const o = object(v, 'samples', true);
  if (!o) return undefined;
  const out: SampleSelection = {};
  if (o.data !== undefined && o.data !== null) out.data = pathString(o.data, 'samples.data');
  if (o.indices !== undefined && o.indices !== null) {
    if (!Array.isArray(o.indices) || o.indices.some((i) => !Number.isInteger(i) || i < 0)) bad('samples.indices must be a list of sample indices (whole numbers >= 0)', o.indices);
    out.indices = [...(o.indices as number[])];
  }
  if (o.dates !== undefined && o.dates !== null) {
    if (!Array.isArray(o.dates) || o.dates.length > 10000 || o.dates.some((d) => typeof d !== 'string')) bad('samples.dates must be a list of ISO dates (YYYY-MM or YYYY-MM-DD)', o.dates);
    out.dates = asBadInput(() => parseDates(o.dates as string[]));
  }
  if (o.timeRange !== undefined && o.timeRange !== null) {
    if (typeof o.timeRange !== 'string') bad("samples.timeRange must be 'FROM:TO' (ISO dates)", o.timeRange);
    asBadInput(() => parseTimeRange(o.timeRange as string));
    out.timeRange = o.timeRange;
  }
  if (o.maxSamples !== undefined && o.maxSamples !== null) {
    if (typeof o.maxSamples !== 'number' || !Number.isFinite(o.maxSamples) || o.maxSamples < 1) bad('samples.maxSamples must be a number >= 1', o.maxSamples);
    out.maxSamples = o.maxSamples;
  }
  return out;
}

function composite(v: unknown): ExplainParams['composite'] {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  const o = object(v, 'composite')!;
  if (typeof o.name !== 'string') bad('composite.name must be a string', o.name);
  const params = object(o.params, 'composite.params', true);
  if (params && Object.values(params).some((x) => typeof x !== 'number' || !Number.isFinite(x))) bad('composite.params must map names to numbers', params);
  return { name: o.name, params: params as Record<string, number> | undefined };
}

function target(v: unknown): CheckDataParams['target'] {
  if (v === undefined || v === null) return undefined;
  if (v !== 'argmax' && !(Number.isInteger(v) && (v as number) >= 0)) bad("target must be a class index or 'argmax'", v);
  return v as CheckDataParams['target'];
}

const isCount = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0 && (x as number) < 2 ** 31;

/** explain's target: as checkData's, or a map target (OutputTarget), normalized (reduce given, fields in order). */
function explainTarget(v: unknown): ExplainParams['target'] {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return target(v);
  const o = v as Obj;
  const channel = o.channel === undefined || o.channel === null ? undefined : isCount(o.channel) ? o.channel : bad('target.channel must be a channel index', o.channel);
  const withChannel = <T extends object>(t: T): T => (channel === undefined ? t : { ...t, channel });
  const reduce = (r: unknown, fallback?: 'sum' | 'mean'): 'sum' | 'mean' => (r === 'sum' || r === 'mean' ? r : r === undefined && fallback ? fallback : bad("target.reduce must be 'sum' or 'mean'", r));
  switch (o.type) {
    case 'pixel':
      if (!Array.isArray(o.at) || o.at.length < 2 || o.at.length > 4 || !o.at.every(isCount)) bad('target.at must be 2 or 3 map coordinates (and a channel)', o.at);
      return withChannel({ type: 'pixel' as const, at: (o.at as number[]).slice() });
    case 'region': {
      const ok = Array.isArray(o.ranges) && o.ranges.length >= 2 && o.ranges.length <= 3 && o.ranges.every((r) => Array.isArray(r) && r.length === 2 && isCount(r[0]) && isCount(r[1]) && r[0] <= r[1]);
      if (!ok) bad('target.ranges must be 2 or 3 inclusive [from, to] index ranges', o.ranges);
      return { ...withChannel({ type: 'region' as const, ranges: (o.ranges as [number, number][]).map(([a, b]) => [a, b] as [number, number]) }), reduce: reduce(o.reduce, 'sum') };
    }
    case 'all':
      return { type: 'all', reduce: reduce(o.reduce) };
    default:
      return bad("target must be a class index, 'argmax', or { type: 'pixel' | 'region' | 'all', ... }", v);
  }
}

/** The rule map (the CLI's --rules spec) and the output-relevance initialisation: as explain and checkData take them. */
function rulesAndInit(o: Obj): Pick<ExplainParams, 'rules' | 'init'> {
  const out: Pick<ExplainParams, 'rules' | 'init'> = {};
  const rules = optionalString(o.rules, 'rules');
  if (rules !== undefined) {
    if (rules.length > 4096) bad('rules must be a rule-map spec of at most 4096 characters', rules);
    out.rules = rules;
  }
  if (o.init !== undefined && o.init !== null) {
    if (o.init !== 'onehot' && o.init !== 'output') bad("init must be 'onehot' or 'output'", o.init);
    out.init = o.init;
  }
  return out;
}

export function explainParams(p: unknown): ExplainParams {
  const o = object(p, 'explain parameters')!;
  const out: ExplainParams = { ...(o as unknown as ExplainParams), model: pathString(o.model, 'model'), samples: samples(o.samples), composite: composite(o.composite), target: explainTarget(o.target), ...rulesAndInit(o) };
  out.jobId = optionalString(o.jobId, 'jobId');
  if (o.variant !== undefined && o.variant !== null && o.variant !== 'randomized' && o.variant !== 'blank') bad("variant must be 'randomized' or 'blank'", o.variant);
  if (o.layerShares !== undefined && typeof o.layerShares !== 'boolean') bad('layerShares must be true or false', o.layerShares);
  if (o.entry !== undefined && o.entry !== null) out.entry = entryDraft(o.entry);
  else delete out.entry;
  return out;
}

/** An entry draft: an object with data.file; the rest is checked by the project file's parser. Bounded in size. */
function entryDraft(v: unknown): EntryDraft {
  const o = object(v, 'entry')!;
  const size = JSON.stringify(o).length;
  if (size > 65536) bad('entry must be a model entry of at most 65536 characters of JSON', `${size} characters`);
  const data = object(o.data, 'entry.data')!;
  pathString(data.file, 'entry.data.file');
  return structuredClone(o) as unknown as EntryDraft;
}

export function describeDataParams(p: unknown): DescribeDataParams {
  const o = object(p, 'describeData parameters')!;
  const out: DescribeDataParams = { file: pathString(o.file, 'file') };
  if (o.model !== undefined && o.model !== null) out.model = pathString(o.model, 'model');
  return out;
}

export function planInputParams(p: unknown): PlanInputParams {
  const o = object(p, 'planInput parameters')!;
  const out: PlanInputParams = { model: pathString(o.model, 'model'), entry: entryDraft(o.entry) };
  if (o.previewSample !== undefined && o.previewSample !== null) {
    if (!Number.isInteger(o.previewSample) || (o.previewSample as number) < 0) bad('previewSample must be a sample index (a whole number >= 0)', o.previewSample);
    out.previewSample = o.previewSample as number;
  }
  return out;
}

export function saveEntryParams(p: unknown): SaveEntryParams {
  const o = object(p, 'saveEntry parameters')!;
  const out: SaveEntryParams = { model: pathString(o.model, 'model'), entry: entryDraft(o.entry) };
  if (o.project !== undefined && o.project !== null) out.project = pathString(o.project, 'project');
  return out;
}

export function checkDataParams(p: unknown): CheckDataParams {
  const o = object(p, 'checkData parameters')!;
  const out: CheckDataParams = { model: pathString(o.model, 'model'), samples: samples(o.samples), composite: composite(o.composite), target: target(o.target), ...rulesAndInit(o), jobId: optionalString(o.jobId, 'jobId') };
  if (o.entry !== undefined && o.entry !== null) out.entry = entryDraft(o.entry);
  return out;
}

export function reanalyzeParams(p: unknown): ReanalyzeParams {
  const o = object(p, 'reanalyze parameters', true);
  if (!o || o.model === undefined || o.model === null) return {};
  return { model: pathString(o.model, 'model') };
}

export function allowPathsParams(p: unknown): AllowPathsParams {
  const o = object(p, 'allowPaths parameters')!;
  if (!Array.isArray(o.paths) || o.paths.length > 1000) bad('paths must be a list of file paths', o.paths);
  return { paths: (o.paths as unknown[]).map((x, i) => pathString(x, `paths[${i}]`)) };
}

export function listModelsParams(p: unknown): ListModelsParams {
  const o = object(p, 'listModels parameters', true);
  return { filter: o ? optionalString(o.filter, 'filter') : undefined };
}

export function cancelParams(p: unknown): CancelParams {
  const o = object(p, 'cancel parameters')!;
  if (typeof o.jobId !== 'string') bad('jobId must be a string', o.jobId);
  return { jobId: o.jobId };
}
