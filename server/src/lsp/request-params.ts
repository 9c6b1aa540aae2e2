/**
 * The lrpLens/* request parameters checked at the door: a wrong-typed field is a BAD_INPUT error that
 * names it, not a JavaScript TypeError deep in a job that leaves as INTERNAL.
 */
import { LensError } from '../core/errors.js';
import type { AllowPathsParams, CancelParams, CheckDataParams, ExplainParams, ListModelsParams, ReanalyzeParams, SampleSelection } from '../protocol.js';

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

function samples(v: unknown): SampleSelection | undefined {
  const o = object(v, 'samples', true);
  if (!o) return undefined;
  const out: SampleSelection = {};
  if (o.data !== undefined && o.data !== null) out.data = pathString(o.data, 'samples.data');
  if (o.indices !== undefined && o.indices !== null) {
    if (!Array.isArray(o.indices) || o.indices.some((i) => !Number.isInteger(i) || i < 0)) bad('samples.indices must be a list of sample indices (whole numbers >= 0)', o.indices);
    out.indices = [...(o.indices as number[])];
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

function target(v: unknown): ExplainParams['target'] {
  if (v === undefined || v === null) return undefined;
  if (v !== 'argmax' && !(Number.isInteger(v) && (v as number) >= 0)) bad("target must be a class index or 'argmax'", v);
  return v as ExplainParams['target'];
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
  const out: ExplainParams = { ...(o as unknown as ExplainParams), model: pathString(o.model, 'model'), samples: samples(o.samples), composite: composite(o.composite), target: target(o.target), ...rulesAndInit(o) };
  out.jobId = optionalString(o.jobId, 'jobId');
  if (o.variant !== undefined && o.variant !== null && o.variant !== 'randomized' && o.variant !== 'blank') bad("variant must be 'randomized' or 'blank'", o.variant);
  if (o.layerShares !== undefined && typeof o.layerShares !== 'boolean') bad('layerShares must be true or false', o.layerShares);
  return out;
}

export function checkDataParams(p: unknown): CheckDataParams {
  const o = object(p, 'checkData parameters')!;
  return { model: pathString(o.model, 'model'), samples: samples(o.samples), composite: composite(o.composite), target: target(o.target), ...rulesAndInit(o), jobId: optionalString(o.jobId, 'jobId') };
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
