/**
 * The language server's explain job (run on a worker thread): the request and settings become a session
 * (core/session/), whose explanation is converted to the protocol's ExplainResult, with what the
 * project's data pipeline knows about the samples (coordinates, mask, dates, labels, the grid of a
 * flattened input).
 */
import { basename, dirname, join } from 'node:path';
import { LensError } from '../core/errors.js';
import { findEntry, ProjectError, readProject, type ModelEntry } from '../core/data/project.js';
import { draftProject, type DraftEntry } from '../core/data/draft.js';
import { defaultName } from '../core/data/project-writer.js';
import type { ModelGraph } from '../core/model/graph.js';
import { layerFromParams, requestLayer, type ChoiceLayer } from '../core/session/composite-choice.js';
import type { DataSource, SessionData } from '../core/session/data-source.js';
import { featuresOnGrid } from '../core/session/data-grid.js';
import { parseTarget } from '../core/lrp/targets.js';
import { explain, openSession, type Session, type SessionExplanation } from '../core/session/session.js';
import type { CompositeChoice, EncodedArray, ExplainParams, ExplainResult, LensSettings } from '../protocol.js';
import type { JobContext } from './jobs.js';
import { getGraph, type WorkerConfig } from './analyzer.js';
import { sequenceInfo } from './sequence-result.js';

export interface ExplainJobPayload {
  file: string;
  params: ExplainParams;
  /** The server's choice: the request's composite, else the setting (with lrpLens.compositeParams). */
  composite: CompositeChoice;
  /** The request named the composite (else lrp-lens.json's choice for the model wins over the setting). */
  compositeExplicit?: boolean;
  /** lrp-lens.json of the workspace, when there is one (its data pipeline gives the default samples). */
  projectFile?: string;
  /** lrpLens.composite / compositeParams as set, when the server sends them (the settings layer, exactly). */
  settings?: Partial<Pick<LensSettings, 'composite' | 'compositeParams'>>;
}

/** The settings layer: as the server sent it, else recovered from the payload's composite. */
function settingsLayer(p: ExplainJobPayload): ChoiceLayer {
  if (p.settings?.composite !== undefined || p.settings?.compositeParams !== undefined) return layerFromParams(p.settings.composite, p.settings.compositeParams, 'lrpLens.composite');
  if (!p.compositeExplicit) return layerFromParams(p.composite.name, p.composite.params, 'lrpLens.composite');
  // The request named a bare composite: the server put the setting's parameters with it.
  return typeof p.params.composite === 'string' ? layerFromParams(undefined, p.composite.params) : {};
}

/** The session of a job: the model, the request's samples (a .npy) or the project entry's data, the choice. */
export async function jobSession(p: ExplainJobPayload, graph: ModelGraph): Promise<Session> {
  const sel = p.params.samples ?? {};
  let data: DataSource;
  let entry: ModelEntry | undefined;
  if (p.params.entry) {
    // The panel's data form, not saved yet: a one-entry project in the folder it will be saved in (its
    // paths made absolute and confined by the server), explained as the saved entry would be.
    const dir = dirname(p.projectFile ?? p.file);
    const d = draftProject(p.params.entry as DraftEntry, p.file, dir, defaultName(p.file));
    const errors = d.issues.filter((i) => i.severity === 'error');
    if (!d.project || errors.length) throw new ProjectError(errors.length ? errors : d.issues, join(dir, 'lrp-lens.json'));
    entry = d.project.models[0];
    data = { kind: 'project', project: d.project, entry };
    const asked = p.params.composite ?? (p.compositeExplicit ? p.composite : undefined);
    return openSession({ model: graph, data, entry, request: requestLayer({ ...p.params, composite: asked }), settings: settingsLayer(p) });
  }
  const project = p.projectFile ? await readProject(p.projectFile) : undefined;
  if (sel.data) {
    if (!/\.npy$/i.test(sel.data)) throw new LensError('BAD_INPUT', `samples.data must be a .npy file of model inputs (got ${basename(sel.data)})`, { file: sel.data });
    data = { kind: 'npy', file: sel.data };
    // The model's entry still says how to explain it, when the project has one.
    try {
      entry = project ? findEntry(project, p.file) : undefined;
    } catch {
      entry = undefined;
    }
  } else if (project) {
    entry = findEntry(project, p.file);
    data = { kind: 'project', project, entry };
  } else {
    throw new LensError('BAD_INPUT', `no samples to explain ${basename(p.file)}: pass samples.data (a .npy of model inputs, batch first) or describe its data in lrp-lens.json`, { file: p.file });
  }
  // The request's composite as sent; a payload built without it (a test, an older server) names it in `composite`.
  const asked = p.params.composite ?? (p.compositeExplicit ? p.composite : undefined);
  return openSession({ model: graph, data, entry, request: requestLayer({ ...p.params, composite: asked }), settings: settingsLayer(p) });
}

export async function explainJob(p: ExplainJobPayload, ctx: JobContext, config: WorkerConfig): Promise<Omit<ExplainResult, 'jobId' | 'cached'>> {
  const started = Date.now();
  ctx.progress(0, 1, 'loading the model');
  const graph = await getGraph(p.file);
  ctx.checkCancelled();
  ctx.progress(0, 1, 'reading the samples');
  const session = await jobSession(p, graph);
  ctx.checkCancelled();
  const backend = await ensureBackend(config);
  const e = await explainRequested(session, p, ctx);
  return explainResult(session, e, p, backend, started);
}

/** The request's samples (indices, dates, cap) and variant explained in a job's session, with progress and cancellation. */
export function explainRequested(session: Awaited<ReturnType<typeof jobSession>>, p: ExplainJobPayload, ctx: JobContext): ReturnType<typeof explain> {
  const sel = p.params.samples ?? {};
  return explain(session, {
    indices: sel.indices,
    dates: sel.dates,
    timeRange: sel.timeRange,
    maxSamples: sel.maxSamples,
    variant: p.params.variant,
    onChunk: (done, total) => {
      ctx.checkCancelled();
      ctx.progress(done, total, `${done}/${total} samples`);
    },
  });
}

/** A pixel, region or all-outputs target, described for the panel (ExplainResult.targetSpec). */
function mapTarget(text: string, e: SessionExplanation): Pick<ExplainResult, 'targetSpec'> {
  if (text === 'label') return {};
  const spec = parseTarget(text);
  if (spec.type !== 'pixel' && spec.type !== 'region' && spec.type !== 'all') return {};
  return { targetSpec: { target: spec, text, value: e.targets.map((t) => t.value) } };
}

/** The protocol's ExplainResult of a session's explanation (the server's, and the panel harness's). */
export function explainResult(session: Session, e: SessionExplanation, p: Pick<ExplainJobPayload, 'file' | 'params'> & { composite?: CompositeChoice }, backend: string, started: number): Omit<ExplainResult, 'jobId' | 'cached'> {
  const graph = session.graph;
  const n = e.relevance.shape[0];
  const relErr = e.relevanceSum.map((r, i) => Math.abs(r - e.initial[i]) / Math.max(1e-12, Math.abs(e.initial[i])));
  const c = session.choice;
  const params: Record<string, number> = { ...(p.composite?.params ?? {}) };
  for (const k of ['epsilon', 'gamma'] as const) if (c[k] !== undefined) params[k] = c[k]!;
  if (session.bounds && typeof session.bounds.low === 'number' && typeof session.bounds.high === 'number') Object.assign(params, { low: session.bounds.low, high: session.bounds.high });
  const result: Omit<ExplainResult, 'jobId' | 'cached'> = {
    model: p.file,
    composite: { name: e.composite, params },
    target: e.targets.map((t) => t.index),
    ...mapTarget(c.target, e),
    samples: e.indices,
    relevance: encode(e.relevance.data, e.relevance.shape),
    input: encode(Float32Array.from(e.x.data), e.x.shape),
    outputs: encode(e.output.data, e.output.shape),
    conservation: {
      outputRelevance: e.initial,
      inputRelevance: e.relevanceSum,
      relativeError: relErr,
      maxRelativeError: Math.max(0, ...relErr),
      perLayer: e.layers.map((l) => ({ layer: l.name, sum: mean(l.relevanceSum) })),
    },
    // The engine that computed the maps: ONNX Runtime, or the tfjs backend (with why ORT did not run).
    backend: e.engine.name === 'onnxruntime' ? 'onnxruntime' : backend,
    ...(e.engine.fallback ? { engineFallback: e.engine.fallback } : {}),
    durationMs: Date.now() - started,
    layout: graph.inputs[0]?.fileLayout,
  };
  const data = session.data;
  if (data?.input) Object.assign(result, viewFields(data, e.indices, e.variant !== 'blank'));
  // A flatten "valid" input (the ocean cells only): the panel gets the maps on the full grid, masked cells 0.
  const rel = featuresOnGrid({ scatter: data?.scatter }, e.relevance.data, n);
  if (rel.perShape) {
    const per = rel.perShape.reduce((a, b) => a * b, 1);
    result.relevance = encode(rel.data, [n, per]);
    result.input = encode(featuresOnGrid({ scatter: data?.scatter }, e.x.data, n).data, [n, per]);
  }
  // A sequence (a recurrent model's (time, features) input): its axes, and a field's maps back on the globe.
  const seq = sequenceInfo(graph, e.relevance.shape, result.layout, data, e.relevance.data, e.x.data);
  if (seq) result.sequence = seq;
  if (p.params.layerShares !== false && e.method === 'lrp') {
    result.layerShares = e.layers.map((l) => ({ layer: l.name, share: mean(l.relevanceSum.map((v, i) => v / (e.initial[i] || 1))) }));
  }
  return result;
}

const CHANNEL_DIMS = new Set(['channel', 'variable']);

/** The map axes of the data: two spatial dims and where the channel axis is, or undefined when it is no map. */
function mapAxes(dims: string[]): { rows: string; cols: string; channelAxis: number } | undefined {
  const spatial = dims.filter((d) => !CHANNEL_DIMS.has(d));
  if (spatial.length !== 2) return undefined;
  return { rows: spatial[0], cols: spatial[1], channelAxis: dims.findIndex((d) => CHANNEL_DIMS.has(d)) };
}

/** The result fields from lrp-lens.json data: coordinates, mask (1 = masked), dates, labels, grid of a flat input. */
function viewFields(data: SessionData, indices: number[], perSample: boolean): Partial<ExplainResult> {
  const out: Partial<ExplainResult> = {};
  const input = data.input!;
  const dims = data.gridDims ?? input.dims.slice(1);
  const perShape = data.gridShape ?? input.x.shape.slice(1);
  const axes = mapAxes(dims);
  if (axes && input.dims.length === 2 && input.dims[1] === 'features') {
    const c = axes.channelAxis;
    out.grid = { shape: perShape.slice(), layout: c < 0 ? 'HW' : c === 0 ? 'NCHW' : 'NHWC' };
    if (c > 0 && c !== dims.length - 1) delete out.grid; // a channel axis in the middle: no map
  }
  if (axes) {
    const size = (d: string) => perShape[dims.indexOf(d)];
    const lat = input.coords.lat;
    const lon = input.coords.lon;
    if (lat && lon && lat.dim === axes.rows && lon.dim === axes.cols && lat.values.length === size(axes.rows) && lon.values.length === size(axes.cols)) {
      out.coords = { lat: Array.from(lat.values), lon: Array.from(lon.values) };
    }
    if (input.wrapLon > 0 && lon?.dim === axes.cols) out.wrapLon = input.wrapLon;
    const m = input.mask;
    if (m && m.dims.length === 2 && m.dims[0] === axes.rows && m.dims[1] === axes.cols && m.data.length === size(axes.rows) * size(axes.cols)) {
      const masked = new Uint8Array(m.data.length);
      for (let i = 0; i < masked.length; i++) masked[i] = m.data[i] ? 0 : 1;
      out.mask = Buffer.from(masked).toString('base64');
    }
  }
  // The blank input is no sample of the data set: its dates and labels do not apply.
  if (perSample && input.times) out.times = indices.map((i) => input.times![i] ?? '');
  if (perSample && input.labels) out.labels = indices.map((i) => input.labels![i]);
  if (input.classNames) out.classNames = [...input.classNames];
  Object.assign(out, inputView(data));
  return out;
}

/**
 * How the panel colours the input and what it outlines: an anomaly or centred field (input.standardize
 * with `anomaly` or `mean`) diverging around 0, in the variable's units unless divided by a std (then in
 * standard deviations); the entry's regions.
 */
function inputView(data: SessionData): Pick<ExplainResult, 'inputUnits' | 'inputDiverging' | 'regions'> {
  const st = data.entry?.input.standardize;
  const out: Pick<ExplainResult, 'inputUnits' | 'inputDiverging' | 'regions'> = {};
  if (st && ('anomaly' in st || st.mean !== undefined)) out.inputDiverging = true;
  const units = st?.std !== undefined ? 'σ' : data.input?.units;
  if (units) out.inputUnits = units;
  if (data.entry?.regions?.length) out.regions = data.entry.regions.map((g) => ({ name: g.name, lat: [g.lat[0], g.lat[1]], lon: [g.lon[0], g.lon[1]] }));
  return out;
}

let backendReady: Promise<string> | undefined;
/** The compute backend, once per worker; bundled builds find the .wasm files next to the worker. */
export async function ensureBackend(config: WorkerConfig): Promise<string> {
  backendReady ??= (async () => {
    const { useBackend } = await import('../core/backend.js');
    const { useEngine } = await import('../core/lrp-onnx/ort-providers.js');
    const wanted = config.backend ?? 'auto';
    // The ONNX Runtime backends run forward passes and what does not lower on tfjs-wasm too.
    if ((wanted === 'auto' || wanted === 'wasm' || wanted.startsWith('onnxruntime')) && config.wasmDir) {
      // CommonJS package: under a bundler its exports may sit on `default`.
      const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as typeof import('@tensorflow/tfjs-backend-wasm') & { default?: typeof import('@tensorflow/tfjs-backend-wasm') };
      const setWasmPaths = wasm.setWasmPaths ?? wasm.default?.setWasmPaths;
      setWasmPaths(config.wasmDir.endsWith('/') ? config.wasmDir : config.wasmDir + '/');
    }
    try {
      return await useEngine(wanted);
    } catch (e) {
      // 'auto' falls back to the pure-JS backend rather than failing the explanation.
      if (wanted !== 'auto') throw e;
      return useBackend('cpu');
    }
  })();
  try {
    return await backendReady;
  } catch (e) {
    backendReady = undefined;
    throw e;
  }
}

function mean(v: number[]): number {
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0;
}

function encode(data: Float32Array, shape: number[]): EncodedArray {
  return { shape, dtype: 'float32', base64: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') };
}
