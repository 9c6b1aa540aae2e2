/**
 * The one module where the language server meets the core library (runs inside the worker threads).
 * Every core entry point the server uses is imported here, so a renamed core export is a one-line
 * change: loadModel (model/load), the static-check catalogue (artifacts), the LRP engine (lrp) and the
 * project file / data pipeline (data/project).
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { LensError } from '../core/errors.js';
import type { LayerNode, ModelGraph } from '../core/model/graph.js';
import { paramCount } from '../core/model/graph.js';
import type { Finding } from '../core/artifacts/finding.js';
import { loadModel } from '../core/model/load.js';
import { runMapChecks, runStaticChecks } from '../core/artifacts/catalogue.js';
import { readNpy, type NdArray } from '../core/data/npy.js';
import { readRegular } from '../core/data/regular-file.js';
import { concatFloat32 as concat } from '../core/float32.js';
import type { TargetSpec } from '../core/lrp/targets.js';
import type { ModelInput } from '../core/data/pipeline.js';
import { isBaselineName, type BaselineName } from '../core/names.js';
import type { CompositeChoice, EncodedArray, ExplainParams, ExplainResult, FindingSummary, LayerSummary, LensSettings, ModelSummary, TensorInfo } from '../protocol.js';
import type { JobContext } from './jobs.js';

/** Fixed per worker (workerData). */
export interface WorkerConfig {
  backend?: LensSettings['backend'];
  /** Folder holding the tfjs-backend-wasm .wasm files (set in the bundled extension). */
  wasmDir?: string;
}

export interface AnalyzePayload {
  file: string;
  settings: Pick<LensSettings, 'composite' | 'disabledChecks'>;
}

/** The worker keeps the last graphs it loaded, so an explain after an analysis does not reload. */
const graphs = new Map<string, { mtimeKey: string; graph: ModelGraph }>();

export async function getGraph(file: string): Promise<ModelGraph> {
  const st = await stat(file).catch(() => {
    throw new LensError('FILE_NOT_FOUND', `no such file: ${file}`, { file });
  });
  // A SavedModel folder changes through its files, not the folder's own mtime.
  const key = st.isDirectory() ? await folderKey(file) : `${st.size}:${st.mtimeMs}`;
  const hit = graphs.get(file);
  if (hit && hit.mtimeKey === key) return hit.graph;
  const graph = await loadModel(file);
  graphs.set(file, { mtimeKey: key, graph });
  if (graphs.size > 8) graphs.delete(graphs.keys().next().value!);
  return graph;
}

/** Sizes and mtimes of a SavedModel folder's files (its .pb files and variables/). */
async function folderKey(dir: string): Promise<string> {
  const parts: string[] = [];
  for (const sub of ['', 'variables']) {
    const names = await readdir(join(dir, sub)).catch(() => [] as string[]);
    for (const n of names.sort()) {
      const st = await stat(join(dir, sub, n)).catch(() => undefined);
      if (st?.isFile()) parts.push(`${sub}/${n}:${st.size}:${st.mtimeMs}`);
    }
  }
  return parts.join('|');
}

export async function analyzeModel(p: AnalyzePayload, ctx: JobContext, _config: WorkerConfig): Promise<ModelSummary> {
  const started = Date.now();
  ctx.progress(0, 2, `loading ${basename(p.file)}`);
  let graph: ModelGraph;
  try {
    graph = await getGraph(p.file);
  } catch (e) {
    graphs.delete(p.file);
    throw e;
  }
  ctx.checkCancelled();
  ctx.progress(1, 2, 'static checks');
  const severity: Record<string, 'off'> = {};
  for (const code of p.settings.disabledChecks) severity[code] = 'off';
  const findings = runStaticChecks(graph, { composite: p.settings.composite, severity });
  ctx.progress(2, 2);
  return summarize(graph, findings, Date.now() - started);
}

export interface ExplainJobPayload {
  file: string;
  params: ExplainParams;
  composite: CompositeChoice;
  /** The request named the composite (else lrp-lens.json's choice for the model wins over the setting). */
  compositeExplicit?: boolean;
  /** lrp-lens.json of the workspace, when there is one (its data pipeline gives the default samples). */
  projectFile?: string;
}

export interface CheckDataJobPayload extends ExplainJobPayload {
  settings: Pick<LensSettings, 'disabledChecks'>;
}

/** Samples explained when the request names no cap. */
const DEFAULT_MAX_SAMPLES = 64;

export async function explainJob(p: ExplainJobPayload, ctx: JobContext, config: WorkerConfig): Promise<Omit<ExplainResult, 'jobId' | 'cached'>> {
  const started = Date.now();
  ctx.progress(0, 1, 'loading the model');
  const graph = await getGraph(p.file);
  ctx.checkCancelled();
  ctx.progress(0, 1, 'reading the samples');
  let { x, indices, composite: projectComposite, view } = await samplesFor(p, graph);
  ctx.checkCancelled();
  let model = graph;
  if (p.params.variant === 'blank') {
    x = { shape: [1, ...x.shape.slice(1)], data: new Float32Array(x.data.length / Math.max(1, x.shape[0])), dtype: 'f4' };
    indices = [0];
    if (view) view = { ...view, perSample: false }; // the blank input is no sample of the data set
  } else if (p.params.variant === 'randomized') {
    const { randomizedTop } = await import('../core/artifacts/collect.js');
    const { isLinear } = await import('../core/lrp/linear.js');
    model = randomizedTop(graph, graph.nodes.filter(isLinear).map((n) => n.name), 7);
  }
  const backend = await ensureBackend(config);
  const { LrpExplainer } = await import('../core/lrp/engine.js');
  const cp = p.composite.params ?? {};
  // The request's composite wins; else the model's entry in lrp-lens.json; else the setting.
  const compositeName = p.compositeExplicit || !projectComposite ? p.composite.name : projectComposite;
  const method = baselineMethod(compositeName);
  // A gradient baseline runs the same forward pass; the explainer's composite is then unused.
  const ex = new LrpExplainer(model, { composite: method ? 'epsilon' : compositeName, epsilon: cp.epsilon, gamma: cp.gamma, low: cp.low, high: cp.high });
  const n = x.shape[0];
  const per = x.data.length / Math.max(1, n);
  // Small chunks: progress and cancellation are checked between them, memory stays bounded.
  const chunk = Math.max(1, Math.min(16, Math.floor(4_000_000 / Math.max(1, per))));
  const rel: Float32Array[] = [];
  const out: Float32Array[] = [];
  const targets: number[] = [];
  const inputSums: number[] = [];
  const initial: number[] = [];
  const layerSums = new Map<string, number[]>();
  let relShape: number[] = [];
  let outK = 0;
  let usedComposite = compositeName;
  try {
    for (let s0 = 0; s0 < n; s0 += chunk) {
      ctx.checkCancelled();
      const size = Math.min(chunk, n - s0);
      const part = { shape: [size, ...x.shape.slice(1)], data: x.data.subarray(s0 * per, (s0 + size) * per), dtype: x.dtype };
      if (method) {
        const { baseline } = await import('../core/lrp/baselines.js');
        const b = baseline(ex, part, { method, target: targetSpec(p.params.target), steps: cp.steps, reference: cp.reference, samples: cp.samples, noise: cp.noise, seed: cp.seed });
        const fwd = forwardOutputs(ex, part);
        const bm = b.relevance.data as Float32Array;
        rel.push(bm);
        relShape = b.relevance.shape.slice(1);
        out.push(fwd.data);
        outK = fwd.k;
        for (const t of b.targets) {
          targets.push(t.index);
          initial.push(t.value); // no conservation to speak of: the report compares Σ map to the explained value
        }
        for (let s = 0; s < size; s++) inputSums.push(sumOf(bm, s, bm.length / size));
        ctx.progress(s0 + size, n, `${s0 + size}/${n} samples`);
        continue;
      }
      const e = ex.explain(part, { target: targetSpec(p.params.target), chunkSize: chunk });
      usedComposite = e.composite;
      rel.push(Float32Array.from(e.relevance.data));
      relShape = e.relevance.shape.slice(1);
      out.push(e.output.data);
      outK = e.output.shape[1] ?? 1;
      for (const t of e.targets) {
        targets.push(t.index);
        initial.push(e.init === 'onehot' ? 1 : t.value);
      }
      inputSums.push(...e.relevanceSum);
      for (const l of e.layers) {
        const sums = layerSums.get(l.name) ?? [];
        sums.push(...l.relevanceSum);
        layerSums.set(l.name, sums);
      }
      ctx.progress(s0 + size, n, `${s0 + size}/${n} samples`);
    }
  } finally {
    ex.dispose();
  }
  const relevance = concat(rel);
  const relErr = inputSums.map((r, i) => Math.abs(r - initial[i]) / Math.max(1e-12, Math.abs(initial[i])));
  const perLayer = [...layerSums.entries()].map(([layer, sums]) => ({ layer, sum: mean(sums) }));
  const result: Omit<ExplainResult, 'jobId' | 'cached'> = {
    model: p.file,
    composite: { name: usedComposite, params: { ...cp } },
    target: targets,
    samples: indices,
    relevance: encode(relevance, [n, ...relShape]),
    input: encode(Float32Array.from(x.data), x.shape),
    outputs: encode(concat(out), [n, outK]),
    conservation: { outputRelevance: initial, inputRelevance: inputSums, relativeError: relErr, maxRelativeError: Math.max(0, ...relErr), perLayer },
    backend,
    durationMs: Date.now() - started,
    layout: graph.inputs[0]?.fileLayout,
  };
  if (view) Object.assign(result, viewFields(view, indices));
  // A flatten "valid" input (the ocean cells only): the panel gets the maps on the full grid, masked cells 0.
  const sc = view?.input.scatter;
  if (sc) {
    result.relevance = encode(scatterBatch(sc, relevance, n), [n, product(sc.gridShape)]);
    result.input = encode(scatterBatch(sc, x.data as Float32Array, n), [n, product(sc.gridShape)]);
  }
  if (p.params.layerShares !== false && !method) {
    result.layerShares = [...layerSums.entries()].map(([layer, sums]) => ({ layer, share: mean(sums.map((v, i) => v / (initial[i] || 1))) }));
  }
  return result;
}

export async function checkDataJob(p: CheckDataJobPayload, ctx: JobContext, config: WorkerConfig): Promise<FindingSummary[]> {
  ctx.progress(0, 3, 'loading the model');
  const graph = await getGraph(p.file);
  const maxSamples = p.params.samples?.maxSamples ?? 32;
  const { x, view } = await samplesFor({ ...p, params: { ...p.params, samples: { ...p.params.samples, maxSamples } } }, graph);
  ctx.checkCancelled();
  const mask = view ? checksMask(view, x) : undefined;
  await ensureBackend(config);
  // The engine passes behind the checks: the maps, runner-up maps, randomization and blank controls.
  ctx.progress(1, 3, 'explaining the samples and their controls');
  const { collectFromArray } = await import('../core/artifacts/collect.js');
  // Judged as the report and `lrp-lens check` judge: against the geometry twin, on the data's grid (an
  // MLP's ocean cells scattered back, the other cells masked; a wrapped longitude folded and periodic).
  const { geometryTwin, gridIfAny, onDataGrid } = await import('../core/report/grid-checks.js');
  const grid = view ? gridIfAny(view.input) : undefined;
  const collected = await collectFromArray(graph, x, p.composite.name, { maxSamples, mask, twin: geometryTwin(graph, grid, x) });
  const mapCtx = view ? onDataGrid(collected, view.input, grid) : collected;
  ctx.checkCancelled();
  ctx.progress(2, 3, 'relevance-map checks');
  const severity: Record<string, 'off'> = {};
  for (const code of p.settings.disabledChecks) severity[code] = 'off';
  const findings = runMapChecks(mapCtx, { severity });
  ctx.progress(3, 3);
  return findings.map(findingSummary);
}

/** The samples to explain, batch first, in the model file's input layout. */
async function samplesFor(p: ExplainJobPayload, graph: ModelGraph): Promise<Samples> {
  const sel = p.params.samples ?? {};
  if (!sel.data && p.projectFile) return projectSamples(p, graph);
  if (!sel.data) {
    throw new LensError('BAD_INPUT', `no samples to explain ${basename(p.file)}: pass samples.data (a .npy of model inputs, batch first)${p.projectFile ? '' : ' or describe its data in lrp-lens.json'}`, { file: p.file });
  }
  if (!/\.npy$/i.test(sel.data)) throw new LensError('BAD_INPUT', `samples.data must be a .npy file of model inputs (got ${basename(sel.data)})`, { file: sel.data });
  // Regular files only (a FIFO or a device named as samples.data must not hang the worker), within the readers' budget.
  const bytes = await readRegular(sel.data);
  let x = readNpy(bytes, sel.data);
  const rank = graph.inputs[0]?.fileShape.length ?? x.shape.length;
  if (x.shape.length === rank - 1) x = { ...x, shape: [1, ...x.shape] }; // one sample without its batch axis
  const n = x.shape[0];
  const max = Math.max(1, Math.floor(sel.maxSamples ?? DEFAULT_MAX_SAMPLES));
  const indices = (sel.indices ?? [...Array(Math.min(n, max)).keys()]).slice(0, max);
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new LensError('SELECTION_OUT_OF_RANGE', `sample index ${i} is outside 0..${n - 1}`, { file: sel.data });
  }
  const per = x.data.length / Math.max(1, n);
  const data = new Float32Array(indices.length * per);
  indices.forEach((i, k) => data.set(x.data.subarray(i * per, (i + 1) * per), k * per));
  return { x: { shape: [indices.length, ...x.shape.slice(1)], data, dtype: 'f4' }, indices };
}

/** Samples from the model's entry in lrp-lens.json, through the data pipeline (selection, standardization, wrap). */
async function projectSamples(p: ExplainJobPayload, graph: ModelGraph): Promise<Samples> {
  const { readProject, findEntry } = await import('../core/data/project.js');
  const { buildModelInput } = await import('../core/data/pipeline.js');
  const project = await readProject(p.projectFile!);
  const entry = findEntry(project, p.file);
  const spec = graph.inputs[0];
  const input = await buildModelInput(entry, spec?.fileShape, { fileLayout: spec?.fileLayout });
  const n = input.x.shape[0];
  const sel = p.params.samples ?? {};
  const max = Math.max(1, Math.floor(sel.maxSamples ?? DEFAULT_MAX_SAMPLES));
  const indices = (sel.indices ?? [...Array(Math.min(n, max)).keys()]).slice(0, max);
  for (const i of indices) {
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new LensError('SELECTION_OUT_OF_RANGE', `sample index ${i} is outside 0..${n - 1}`, { file: p.projectFile });
  }
  const per = input.x.data.length / Math.max(1, n);
  const data = new Float32Array(indices.length * per);
  indices.forEach((i, k) => data.set(input.x.data.subarray(i * per, (i + 1) * per), k * per));
  const x: NdArray = { shape: [indices.length, ...input.x.shape.slice(1)], data, dtype: 'f4' };
  // A flattened input: the same entry unflattened, planned from the headers only, says the grid's axes.
  let dims = input.dims.slice(1);
  let perShape = input.x.shape.slice(1);
  if (input.scatter) {
    dims = input.scatter.gridDims.slice();
    perShape = input.scatter.gridShape.slice();
  } else if (dims.length === 1 && dims[0] === 'features') {
    const dry = await buildModelInput({ ...entry, input: { ...entry.input, flatten: false } }, undefined, { dryRun: true }).catch(() => undefined);
    if (dry && product(dry.x.shape.slice(1)) === perShape[0]) {
      dims = dry.dims.slice(1);
      perShape = dry.x.shape.slice(1);
    }
  }
  return { x, indices, composite: entry.explain?.composite, view: { input, dims, perShape, perSample: true } };
}

/** What the project's data pipeline knows about the samples beyond their values (geographic mode, labels). */
interface DataView {
  input: ModelInput;
  /** Per-sample axes of the input before any flattening (lat, lon, channel, ...), and their sizes. */
  dims: string[];
  perShape: number[];
  /** Whether the explained samples are the data's own (their dates and labels apply). */
  perSample: boolean;
}

interface Samples {
  x: NdArray;
  indices: number[];
  composite?: string;
  view?: DataView;
}

const CHANNEL_DIMS = new Set(['channel', 'variable']);

/** The map axes of a view: two spatial dims and where the channel axis is, or undefined when it is no map. */
function mapAxes(v: Pick<DataView, 'dims' | 'perShape'>): { rows: string; cols: string; channelAxis: number } | undefined {
  const spatial = v.dims.filter((d) => !CHANNEL_DIMS.has(d));
  if (spatial.length !== 2) return undefined;
  const channelAxis = v.dims.findIndex((d) => CHANNEL_DIMS.has(d));
  return { rows: spatial[0], cols: spatial[1], channelAxis };
}

/** The result fields from lrp-lens.json data: coordinates, mask (1 = masked), dates, labels, grid of a flat input. */
function viewFields(view: DataView, indices: number[]): Partial<ExplainResult> {
  const out: Partial<ExplainResult> = {};
  const { input } = view;
  const axes = mapAxes(view);
  if (axes && input.dims.length === 2 && input.dims[1] === 'features') {
    const c = axes.channelAxis;
    out.grid = { shape: view.perShape.slice(), layout: c < 0 ? 'HW' : c === 0 ? 'NCHW' : 'NHWC' };
    if (c > 0 && c !== view.dims.length - 1) delete out.grid; // a channel axis in the middle: no map
  }
  if (axes) {
    const size = (d: string) => view.perShape[view.dims.indexOf(d)];
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
  if (view.perSample && input.times) out.times = indices.map((i) => input.times![i] ?? '');
  if (view.perSample && input.labels) out.labels = indices.map((i) => input.labels![i]);
  if (view.input.classNames) out.classNames = [...view.input.classNames];
  return out;
}

/**
 * The relevance-map checks' mask (LRP209): one byte per input value in the checks' channels-last order,
 * 1 = masked; from the pipeline's mask (1 = valid, over the spatial axes).
 */
function checksMask(view: DataView, x: NdArray): Uint8Array | undefined {
  const m = view.input.mask;
  if (!m) return undefined;
  const per = x.data.length / Math.max(1, x.shape[0]);
  const cells = m.data.length;
  if (cells === 0 || per % cells !== 0) return undefined;
  const c = per / cells;
  const out = new Uint8Array(per);
  // Channels first only for a flattened [channel, ...spatial] vector; the checks see every other
  // layout channels-last (collect.ts transposes NCHW), so the channel runs fastest.
  const flatChannelsFirst = view.input.dims[1] === 'features' && CHANNEL_DIMS.has(view.dims[0]) && c > 1;
  for (let i = 0; i < cells; i++) {
    const v = m.data[i] ? 0 : 1;
    for (let k = 0; k < c; k++) out[flatChannelsFirst ? k * cells + i : i * c + k] = v;
  }
  return out;
}

/** The baseline a composite name stands for, if it is one. */
function baselineMethod(name: string): BaselineName | undefined {
  return isBaselineName(name) ? name : undefined;
}

/** Model outputs of a batch (the engine's forward pass: before a stripped softmax, like LRP's). */
function forwardOutputs(ex: InstanceType<typeof import('../core/lrp/engine.js').LrpExplainer>, x: NdArray): { data: Float32Array; k: number } {
  const t = ex.inputOf(x);
  try {
    const y = ex.forwardOutput(t);
    const data = Float32Array.from(y.dataSync() as Float32Array);
    const k = y.shape[1] ?? 1;
    y.dispose();
    return { data, k };
  } finally {
    t.dispose();
  }
}

function sumOf(a: Float32Array, s: number, per: number): number {
  let acc = 0;
  for (let i = s * per; i < (s + 1) * per; i++) acc += a[i];
  return acc;
}

/** n feature vectors of a flatten "valid" input on the per-sample grid; masked values 0. */
function scatterBatch(sc: NonNullable<ModelInput['scatter']>, src: Float32Array, n: number): Float32Array {
  const per = product(sc.gridShape);
  const k = sc.indices.length;
  const out = new Float32Array(n * per);
  for (let s = 0; s < n; s++) for (let j = 0; j < k; j++) out[s * per + sc.indices[j]] = src[s * k + j];
  return out;
}

function product(a: number[]): number {
  return a.reduce((x, y) => x * y, 1);
}

function targetSpec(t: ExplainParams['target']): TargetSpec {
  if (typeof t === 'number') return { type: 'index', index: t };
  return { type: 'predicted' };
}

let backendReady: Promise<string> | undefined;
/** The compute backend, once per worker; bundled builds find the .wasm files next to the worker. */
async function ensureBackend(config: WorkerConfig): Promise<string> {
  backendReady ??= (async () => {
    const { useBackend } = await import('../core/compute/backend.js');
    const wanted = config.backend ?? 'auto';
    if ((wanted === 'auto' || wanted === 'wasm') && config.wasmDir) {
      // CommonJS package: under a bundler its exports may sit on `default`.
      const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as typeof import('@tensorflow/tfjs-backend-wasm') & { default?: typeof import('@tensorflow/tfjs-backend-wasm') };
      const setWasmPaths = wasm.setWasmPaths ?? wasm.default?.setWasmPaths;
      setWasmPaths(config.wasmDir.endsWith('/') ? config.wasmDir : config.wasmDir + '/');
    }
    try {
      return await useBackend(wanted);
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

export function summarize(graph: ModelGraph, findings: Finding[], ms: number): ModelSummary {
  const layers: LayerSummary[] = graph.nodes.map((n, index) => layerSummary(n, index));
  return {
    uri: '',
    file: graph.file,
    name: graph.name || basename(graph.file),
    state: 'ok',
    format: { ...graph.format },
    inputs: graph.inputs.map(tensorInfo),
    outputs: graph.outputs.map(tensorInfo),
    layers,
    totalParams: layers.reduce((a, l) => a + l.params, 0),
    findings: findings.map(findingSummary),
    analysisMs: ms,
  };
}

function tensorInfo(t: ModelGraph['inputs'][number]): TensorInfo {
  return { name: t.fileName || t.node, shape: [...t.fileShape], layout: t.fileLayout };
}

export function findingSummary(f: Finding): FindingSummary {
  const s: FindingSummary = { code: f.code, severity: f.severity, message: f.message, remedy: f.remedy, docs: f.docs, file: f.location.file };
  if (f.layer) s.layer = { ...f.layer };
  if (f.location.range) s.range = [f.location.range[0], f.location.range[1]];
  if (f.data) s.data = f.data;
  return s;
}

export function layerSummary(n: LayerNode, index: number): LayerSummary {
  const s: LayerSummary = {
    index,
    name: n.name,
    kind: n.kind,
    className: n.source.className || n.kind,
    inbound: [...n.inbound],
    outputShape: [...n.outputShape],
    params: paramCount(n),
    activation: n.activation?.name ?? 'linear',
    detail: layerDetail(n),
  };
  if (n.source.jsonRange) s.jsonRange = [n.source.jsonRange[0], n.source.jsonRange[1]];
  return s;
}

/** One line of the parameters that matter for LRP artifacts (kernel, strides, padding, pool op). */
function layerDetail(n: LayerNode): string {
  const p = n.params as unknown as Record<string, unknown>;
  const parts: string[] = [];
  const dims = (v: unknown): string => (Array.isArray(v) ? v.join('x') : String(v));
  if ('op' in p) parts.push(String(p.op));
  if ('units' in p) parts.push(`units ${String(p.units)}`);
  if ('filters' in p) parts.push(`filters ${String(p.filters)}`);
  if ('kernelSize' in p) parts.push(`kernel ${dims(p.kernelSize)}`);
  if ('poolSize' in p) parts.push(`pool ${dims(p.poolSize)}`);
  if ('strides' in p && Array.isArray(p.strides) && p.strides.some((s) => s !== 1)) parts.push(`strides ${dims(p.strides)}`);
  if ('dilation' in p && Array.isArray(p.dilation) && p.dilation.some((s) => s !== 1)) parts.push(`dilation ${dims(p.dilation)}`);
  if ('padding' in p && p.padding && typeof p.padding === 'object') parts.push(`padding ${(p.padding as { mode: string }).mode}`);
  if ('pads' in p && Array.isArray(p.pads)) parts.push(`pads ${JSON.stringify(p.pads)}`);
  if ('size' in p) parts.push(`size ${dims(p.size)}`);
  if ('targetShape' in p) parts.push(`to ${dims(p.targetShape)}`);
  if ('originalClass' in p) parts.push(`${String(p.originalClass)} (identity at inference)`);
  if (n.kind === 'Activation') parts.push((p.activation as { name: string }).name);
  return parts.join(', ');
}

/** A problem in lrp-lens.json: where ([start, end) offsets of the key), what, how bad. */
export interface ProjectIssue {
  range: [number, number];
  message: string;
  code: string;
  severity: 'error' | 'warning';
}

/**
 * The project file's checks: structure, paths, variables and selections (from the data files' headers),
 * and the input shape against the model's (from the server's analysis, so no model is loaded here).
 * `checkData` false (an untrusted workspace): the structure only, nothing on disk looked at.
 */
export async function validateProjectFile(file: string, text: string, inputShapeOf?: (modelFile: string) => (number | null)[] | undefined, checkData = true): Promise<ProjectIssue[]> {
  if (!checkData) {
    // Untrusted workspace: the text's structure only; no path it names is looked at.
    const { parseProject } = await import('../core/data/project.js');
    return parseProject(text, file).issues.map((i) => ({ range: i.range, message: i.message, code: i.code, severity: i.severity }));
  }
  const { validateProject } = await import('../core/data/projectcheck.js');
  const { issues } = await validateProject(text, file, {
    modelInputShape: inputShapeOf ? (_entry, files) => files.map(inputShapeOf).find((s) => s !== undefined) : undefined,
  });
  return issues.map((i) => ({ range: i.range, message: i.message, code: i.code, severity: i.severity }));
}
