/**
 * A session's explanation as a CF NetCDF file (core/data/netcdf-write-relevance.ts), for every front end
 * (CLI `explain --out R.nc`, the panel's "Export NetCDF"): relevance and input back on the data's grid
 * (a flattened "valid" input scattered to its cells, NaN elsewhere, through data-grid.ts), the data's
 * coordinates for the explained samples, and what was explained, how, by which engine.
 */
import { basename } from 'node:path';
import { packageVersion } from '../package-root.js';
import type { TimeCoord } from '../data/field.js';
import { relevanceNetcdf } from '../data/netcdf-write-relevance.js';
import { featuresOnGrid } from './data-grid.js';
import { dataFile } from './data-source.js';
import type { Session, SessionExplanation } from './session.js';

/** What was explained, in words, for long_name. */
function explainedText(target: string, e: SessionExplanation, classNames?: string[]): string {
  if (target === 'predicted') return 'the predicted output';
  if (target === 'label') return 'the labelled class';
  if (/^\d+$/.test(target)) {
    const name = classNames?.[Number(target)];
    return `output ${target}${name ? ` (${name})` : ''}`;
  }
  if (target === 'mean' || target === 'sum') return `the ${target} of all outputs`;
  return e.method === 'lrp' ? target : `${target} (${e.method})`;
}

export function sessionRelevanceNetcdf(s: Session, e: SessionExplanation, o: { history: string; withInput?: boolean }): Uint8Array {
  const data = s.data;
  const n = e.relevance.shape[0];
  const rel = featuresOnGrid({ scatter: data?.scatter }, e.relevance.data as Float32Array, n, NaN);
  const perShape = rel.perShape ?? e.relevance.shape.slice(1);
  const shape = [n, ...perShape];
  const inp = o.withInput !== false ? featuresOnGrid({ scatter: data?.scatter }, e.x.data as Float32Array, n, NaN) : undefined;
  // The per-sample axes' names: the scatter's grid, else the data's own dims when they match the shape.
  const named = data?.scatter?.gridDims ?? data?.dims?.slice(1);
  const dims = named && named.length === perShape.length ? named : undefined;
  // The time coordinate of the explained samples, when the data have one value per sample.
  let coords = data?.coords;
  const t = coords?.time;
  if (coords && t && data && t.values.length === data.x.shape[0] && e.indices.every((i) => i < t.values.length)) {
    const time: TimeCoord = { ...t, values: Float64Array.from(e.indices, (i) => t.values[i]), dates: e.indices.map((i) => t.dates[i]) };
    coords = { ...coords, time };
  } else if (coords?.time) {
    const { time: _drop, ...rest } = coords;
    coords = rest;
  }
  const c = s.choice;
  const parameters: Record<string, unknown> = { method: e.method, init: e.init };
  for (const k of ['epsilon', 'gamma', 'low', 'high'] as const) if (c[k] !== undefined) parameters[k] = c[k];
  if (c.rules.length) parameters.rules = c.rules;
  if (s.bounds) Object.assign(parameters, { low: s.bounds.low, high: s.bounds.high, boundsFrom: s.bounds.from });
  if (s.maxPool) parameters.maxPool = s.maxPool;
  return relevanceNetcdf({
    relevance: { data: Float32Array.from(rel.data), shape },
    input: inp ? { data: Float32Array.from(inp.data), shape, name: data?.entry?.data.variable, sourceUnits: data?.input?.units } : undefined,
    dims,
    coords,
    times: data?.times ? e.indices.map((i) => data.times![i] ?? '') : undefined,
    wrapLon: data?.wrapLon,
    explained: explainedText(c.target, e, data?.classNames),
    model: basename(s.graph.file),
    composite: e.composite,
    parameters,
    target: c.target,
    engine: e.engine.name,
    version: packageVersion(),
    dataFile: data ? dataFile(data) : undefined,
    history: o.history,
  });
}
