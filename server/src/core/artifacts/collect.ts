/**
 * Builds the relevance-map checks' context with the LRP engine: the maps of the data, the runner-up
 * maps, cascading randomization, the blank-input prior and the conservation report. This is the only
 * artifacts module that runs LRP; the checks only read the arrays it returns.
 */
import { readFile } from 'node:fs/promises';
import type { ModelGraph, LayerNode, WeightTensor } from '../model/graph.js';
import { readNpy } from '../data/npy.js';
import { toFloat32, type NdArray } from '../array.js';
import { LensError } from '../errors.js';
import { explainGraph, type ExplainerOptions, type Explanation } from '../lrp/engine.js';
import { buildComposite } from '../lrp/composites.js';
import type { RuleFamily } from '../names.js';
import { canonicalize } from '../model/canonicalize.js';
import { isLinear } from './geometry.js';
import type { MapContext } from './map-context.js';
import { validTwin } from './twins.js';
import { collectControls } from './map-controls.js';
import { ExpectedLossRecorder, layerLosses } from './expected-loss.js';
import { useBackend } from '../backend.js';
import { mulberry32 } from '../random.js';

export interface CollectOptions {
  /** Most samples used (the checks are statistics; a few dozen suffice). Default 32. */
  maxSamples?: number;
  /** Rule map on top of the composite (engine syntax), e.g. the z+ chain or a flat first layer. */
  explainer?: Omit<ExplainerOptions, 'composite'>;
  /** Seed of the randomization (LRP207). */
  seed?: number;
  /** Cascading randomization and blank prior (extra LRP passes): default on. */
  controls?: boolean;
  mask?: Uint8Array;
  signal?: Uint8Array;
  /** Control model differing only in geometry (valid/wrapped twin), explained on the same data. */
  twin?: { name: string; graph: ModelGraph; x?: NdArray };
  /** lrp-lens.json `input.sequence` (recurrent checks name the field's dim that became time). */
  sequence?: MapContext['sequence'];
  /** True class per sample of the data (-1 = unknown): LRP216 compares accuracy with the time axis reversed. */
  labels?: ArrayLike<number>;
}

/** Channels-first (NCHW/NCW) file layouts to channels-last, so the statistics see [H, W, C]. */
function toChannelsLast(data: Float32Array, shape: number[], layout: string): { data: Float32Array; shape: number[] } {
  if (layout !== 'NCHW' && layout !== 'NCW') return { data, shape };
  const [n, c, ...sp] = shape;
  const cells = sp.reduce((a, b) => a * b, 1);
  const out = new Float32Array(data.length);
  for (let s = 0; s < n; s++) for (let ch = 0; ch < c; ch++) for (let i = 0; i < cells; i++) out[(s * cells + i) * c + ch] = data[(s * c + ch) * cells + i];
  return { data: out, shape: [n, ...sp, c] };
}


/** Same weights re-drawn from a normal of the tensor's own standard deviation (Adebayo et al.'s re-initialization). */
function reinit(w: WeightTensor, rand: () => number): WeightTensor {
  let m = 0, v = 0;
  for (const x of w.data) m += x;
  m /= w.data.length || 1;
  for (const x of w.data) v += (x - m) * (x - m);
  const sd = Math.sqrt(v / (w.data.length || 1)) || 0.05;
  const data = new Float32Array(w.data.length);
  for (let i = 0; i < data.length; i += 2) {
    const u1 = Math.max(rand(), 1e-12), u2 = rand();
    const r = Math.sqrt(-2 * Math.log(u1));
    data[i] = sd * r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < data.length) data[i + 1] = sd * r * Math.sin(2 * Math.PI * u2);
  }
  return { shape: w.shape, data };
}

export function randomizedTop(graph: ModelGraph, layers: string[], seed: number): ModelGraph {
  const rand = mulberry32(seed);
  const nodes = graph.nodes.map((n): LayerNode => {
    if (!layers.includes(n.name)) return n;
    const weights: Record<string, WeightTensor> = {};
    for (const [k, w] of Object.entries(n.weights)) weights[k] = k === 'kernel' ? reinit(w, rand) : { shape: w.shape, data: new Float32Array(w.data.length) };
    return { ...n, weights } as LayerNode;
  });
  return { ...graph, nodes };
}

function slice(x: NdArray, n: number): NdArray {
  if (x.shape[0] <= n) return x;
  const per = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const data = toFloat32(x).slice(0, n * per);
  return { shape: [n, ...x.shape.slice(1)], data, dtype: 'f4' } as NdArray;
}

/** An explanation's relevance, channels-last (the layout the checks read). */
export function relevanceOf(e: Explanation): Float32Array {
  return toChannelsLast(e.relevance.data as Float32Array, e.relevance.shape, e.layout).data;
}

/** Runner-up class per sample from the outputs; relevance for it, explained per class group. */
function runnerUpMaps(graph: ModelGraph, x: NdArray, e: Explanation, opts: ExplainerOptions): Float32Array | undefined {
  const [n, k] = e.output.shape;
  if (k < 2) return undefined;
  const per = e.relevance.data.length / n;
  const out = new Float32Array(e.relevance.data.length);
  const second: number[] = [];
  for (let s = 0; s < n; s++) {
    const row = Array.from(e.output.data.subarray(s * k, (s + 1) * k));
    const top = e.targets[s].index;
    let best = -1;
    row.forEach((v, i) => { if (i !== top && (best < 0 || v > row[best])) best = i; });
    second.push(best);
  }
  const xs = toFloat32(x);
  const xper = xs.length / n;
  for (const cls of new Set(second)) {
    const idx = second.map((c, i) => (c === cls ? i : -1)).filter((i) => i >= 0);
    const data = new Float32Array(idx.length * xper);
    idx.forEach((s, j) => data.set(xs.subarray(s * xper, (s + 1) * xper), j * xper));
    const r = explainGraph(graph, { shape: [idx.length, ...x.shape.slice(1)], data, dtype: 'f4' } as NdArray, { ...opts, target: { type: 'index', index: cls } });
    const rel = relevanceOf(r);
    idx.forEach((s, j) => out.set(rel.subarray(j * per, (j + 1) * per), s * per));
  }
  return out;
}

/** [n, T, F] values with the steps of every sample in reverse order (an involution). */
function reverseSteps(a: Float32Array, n: number, T: number, F: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let s = 0; s < n; s++) for (let t = 0; t < T; t++) out.set(a.subarray((s * T + t) * F, (s * T + t + 1) * F), (s * T + T - 1 - t) * F);
  return out;
}

function argmaxRows(o: { shape: number[]; data: Float32Array }): number[] {
  const [n, k] = o.shape;
  return Array.from({ length: n }, (_, s) => {
    let best = 0;
    for (let i = 1; i < (k ?? 1); i++) if (o.data[s * k + i] > o.data[s * k + best]) best = i;
    return best;
  });
}

/** Order-dependence control (LRP216): the same samples with the time axis reversed, explained for their own prediction. */
function reversedTime(graph: ModelGraph, x: NdArray, e: Explanation, opts: ExplainerOptions, shape: number[], labels?: ArrayLike<number>): MapContext['reversedTime'] {
  const [T, F] = shape;
  const n = e.relevance.shape[0];
  const rx = { shape: [n, T, F], data: reverseSteps(toFloat32(x), n, T, F), dtype: 'f4' } as NdArray;
  const r = explainGraph(graph, rx, { ...opts, target: { type: 'predicted' } });
  const out: NonNullable<MapContext['reversedTime']> = { relevance: reverseSteps(relevanceOf(r), n, T, F), predicted: argmaxRows(e.output), predictedReversed: argmaxRows(r.output) };
  if (labels && labels.length >= n) out.labels = Array.from({ length: n }, (_, s) => (Number.isInteger(labels[s]) && labels[s] >= 0 ? labels[s] : -1));
  return out;
}

export async function collectFromArray(graph: ModelGraph, xIn: NdArray, composite: string, o: CollectOptions = {}): Promise<MapContext> {
  const x = slice(xIn, o.maxSamples ?? 32);
  const opts: ExplainerOptions = { ...(o.explainer ?? {}), composite };
  // What each rule loses by design, from the same forward pass (LRP201).
  const loss = new ExpectedLossRecorder();
  const e = explainGraph(graph, x, { ...opts, onBackward: loss.hook });
  const n = e.relevance.shape[0];
  const cl = toChannelsLast(toFloat32(x), x.shape.length === graph.inputs[0].fileShape.length ? x.shape : [1, ...x.shape], e.layout);
  const shape = cl.shape.slice(1);
  const per = shape.reduce((a, b) => a * b, 1);
  const relevance = relevanceOf(e);
  const initial = e.targets.map((t) => (e.init === 'onehot' ? 1 : t.value));
  const indexOf = (name: string): number => graph.nodes.findIndex((nd) => nd.name === name);
  const layerSums = e.layers.map((l) => ({ name: l.name, index: indexOf(l.name), sums: l.relevanceSum }));
  const firstBad = layerSums.find((l) => l.sums.some((s) => !Number.isFinite(s)));
  // The rule family each node gets, by the engine's own composite and rule map.
  const canonical = canonicalize(graph).graph;
  const comp = buildComposite(canonical, composite, opts, opts.ruleMap ?? []);
  const rules: Record<string, RuleFamily> = {};
  for (const [name, r] of comp.rules) rules[name] = r.family;
  const ctx: MapContext = { graph, composite, rules, shape, n, x: cl.data, relevance, initial, layerSums };
  ctx.layerLoss = layerLosses(canonical, new Map(e.layers.map((l) => [l.name, l.relevanceSum])), canonical.inputs[0]?.node ?? '', e.relevanceSum, loss.byNode, indexOf);
  if (firstBad) ctx.firstNonFinite = { name: firstBad.name, index: firstBad.index };
  if (o.mask) ctx.mask = o.mask;
  if (o.signal) ctx.signal = o.signal;
  if (o.sequence) ctx.sequence = o.sequence;
  ctx.runnerUp = runnerUpMaps(graph, x, e, opts);
  if (o.controls !== false) {
    // Cascading randomization from the top linear layer down: top 1, top half, all.
    const linear = graph.nodes.filter(isLinear).map((nd) => nd.name).reverse();
    const steps = [...new Set([1, Math.ceil(linear.length / 2), linear.length])].filter((k) => k >= 1 && k <= linear.length);
    ctx.randomized = steps.map((k) => {
      const layers = linear.slice(0, k);
      const r = explainGraph(randomizedTop(graph, layers, o.seed ?? 7), x, { ...opts, target: { type: 'predicted' } });
      return { layers, relevance: relevanceOf(r) };
    });
    const blankX = { shape: [1, ...x.shape.slice(1)], data: new Float32Array(per), dtype: 'f4' } as NdArray;
    ctx.blank = relevanceOf(explainGraph(graph, blankX, { ...opts, target: { type: 'index', index: e.targets[0]?.index ?? 0 } }));
    if (shape.length === 2 && shape[0] > 1 && graph.nodes.some((nd) => nd.kind === 'Recurrent')) ctx.reversedTime = reversedTime(graph, x, e, opts, shape, o.labels);
    // Controls of the map checks (geometry, average-pooling twin, randomized class contrast, gradient x input): map-controls.ts.
    if (!graph.nodes.some((nd) => nd.kind === 'Recurrent'))
      ctx.controls = collectControls(graph, x, e, opts, (d, s) => toChannelsLast(d, s, e.layout).data, { randomized: randomizedTop(graph, linear, o.seed ?? 7) });
  }
  if (o.twin) ctx.twin = { name: o.twin.name, relevance: relevanceOf(explainGraph(o.twin.graph, o.twin.x ? slice(o.twin.x, n) : x, opts)) };
  if (relevance.length !== n * per) throw new LensError('INTERNAL', `relevance has ${relevance.length} values for ${n} samples of ${per}`);
  return ctx;
}

/** The CLI's entry: data from an .npy file. */
export async function collectMapContext(graph: ModelGraph, dataPath: string, composite: string): Promise<MapContext> {
  await useBackend();
  const bytes = await readFile(dataPath).catch(() => {
    throw new LensError('FILE_NOT_FOUND', `no such data file: ${dataPath}`, { file: dataPath });
  });
  const twin = validTwin(graph);
  return collectFromArray(graph, readNpy(new Uint8Array(bytes), dataPath), composite, { twin: twin ? { name: 'valid twin (same weights)', graph: twin } : undefined });
}
