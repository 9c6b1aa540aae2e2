/**
 * The recurrent benchmark's models, built in the IR from a seed (no training framework): the benchmark's
 * fields fed column by column (longitude as time, latitude as features, the way the climate ESNs are fed)
 * into a recurrent layer with seeded random weights, and a linear read-out of the last state fitted in
 * closed form (ridge regression), the way an echo state network is trained. What each variant carries
 * is set by construction: the memory (SimpleRNN spectral radius, LSTM forget-gate bias), the biases,
 * the direction. Every seed gives a different reservoir and hence a different read-out.
 */
import type { LayerNode, ModelGraph, RecurrentParams, Shape } from '../../server/src/core/model/graph.js';
import type { NdArray } from '../../server/src/core/array.js';
import { predict } from '../../server/src/core/model/execute.js';
import { mulberry32 } from '../../server/src/core/random.js';
import { spectralRadius } from '../../server/src/core/artifacts/checks/lrp115-memory-horizon.js';
import { H, W, makeFields, signalMask } from './fields.js';

/** Sequence steps (longitude, after 2x2 averaging) and features (latitude). */
export const T = W / 2;
export const F = H / 2;
export const UNITS = 16;

export interface RecurrentVariant {
  cell: 'simple' | 'lstm';
  /** SimpleRNN: spectral radius of the recurrent kernel. */
  radius?: number;
  /** SimpleRNN: leak rate of a leaky-integrator echo state network (1: none). */
  leak?: number;
  /** LSTM: forget-gate bias (retention per step at rest: sigmoid of it). */
  forgetBias?: number;
  /** LSTM: candidate bias (large: the bias share of every step's sum is large). */
  candidateBias?: number;
  direction?: RecurrentParams['direction'];
  /** Crop this many steps off the start before the recurrent layer (they get no relevance by construction). */
  cropFirst?: number;
  /** One feature per step: the field's column means (a univariate series, not a field fed line by line). */
  univariate?: boolean;
  /** The label's bump spans every feature of steps 12-19: stripes the read-out can learn (LRP212's negative). */
  stripeSignal?: boolean;
}

export const RECURRENT_VARIANTS: Record<string, RecurrentVariant> = {
  // Fading memory and horizon: short vs long memory.
  'rnn-short': { cell: 'simple', radius: 0.3 },
  // Echo state networks (leaky integrators, spectral radius 0.5): no leak (a = 1) vs a slow leak (a = 0.05).
  'esn-a1': { cell: 'simple', radius: 0.5, leak: 1 },
  'esn-a0.05': { cell: 'simple', radius: 0.5, leak: 0.05 },
  'lstm-forget-3': { cell: 'lstm', forgetBias: -3 },
  'lstm-forget+3': { cell: 'lstm', forgetBias: 3 },
  // Leak out of the recurrence: a large candidate bias (compare epsilon with the conservative variant).
  'lstm-bias': { cell: 'lstm', forgetBias: 3, candidateBias: 2 },
  // A first step the model never sees (cropped before the LSTM).
  'lstm-cropped': { cell: 'lstm', forgetBias: 3, cropFirst: 1 },
  // Order: a bidirectional LSTM (sum) whose halves share weights is symmetric in time.
  'lstm-bidir': { cell: 'lstm', forgetBias: 3, direction: 'bidirectional' },
  // The signal fills whole steps: learned stripes, well above the control's (LRP212's negative).
  'lstm-stripes': { cell: 'lstm', forgetBias: 3, stripeSignal: true },
  // One feature per step (LRP114's negative).
  'lstm-univariate': { cell: 'lstm', forgetBias: 3, univariate: true },
};

function normal(r: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());
}

/** Fields [n, H, W] averaged 2x2 and transposed to sequences [n, T, F] (column t of the field is step t). */
export function toSequences(fields: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n * T * F);
  for (let s = 0; s < n; s++)
    for (let t = 0; t < T; t++)
      for (let f = 0; f < F; f++) {
        let acc = 0;
        for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) acc += fields[s * H * W + (2 * f + dy) * W + 2 * t + dx];
        out[(s * T + t) * F + f] = acc / 4;
      }
  return out;
}

/** The signal region in sequence cells [T, F] (steps 12-19, features 6-9). */
export function sequenceSignal(): Uint8Array {
  const m = signalMask();
  const out = new Uint8Array(T * F);
  for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) out[t * F + f] = m[2 * f * W + 2 * t];
  return out;
}

function recurrentNode(v: RecurrentVariant, r: () => number, inbound: string, nf: number): LayerNode {
  const u = UNITS;
  const g = v.cell === 'lstm' ? 4 : 1;
  const kernel = Float32Array.from({ length: nf * g * u }, () => normal(r) / Math.sqrt(nf));
  const rec = Float32Array.from({ length: u * g * u }, () => normal(r) / Math.sqrt(u));
  const bias = new Float32Array(g * u);
  if (v.cell === 'simple') {
    const rho = spectralRadius(rec, u);
    for (let i = 0; i < rec.length; i++) rec[i] *= (v.radius ?? 0.9) / rho;
  } else {
    for (let j = 0; j < u; j++) {
      bias[u + j] = v.forgetBias ?? 1;
      bias[2 * u + j] = v.candidateBias ?? 0;
    }
  }
  const p: RecurrentParams = {
    cell: v.cell,
    units: u,
    direction: v.direction ?? 'forward',
    merge: v.direction === 'bidirectional' ? 'sum' : null,
    returnSequences: false,
    processingOrder: true,
    cellActivation: { name: 'tanh' },
    recurrentActivation: v.cell === 'simple' ? { name: 'linear' } : { name: 'sigmoid' },
    resetAfter: false,
    useBias: true,
    ...(v.leak !== undefined && v.leak < 1 ? { leak: v.leak } : {}),
  };
  const weights: LayerNode['weights'] = {
    kernel: { shape: [nf, g * u], data: kernel },
    recurrentKernel: { shape: [u, g * u], data: rec },
    bias: { shape: [g * u], data: bias },
  };
  // The backward half shares the forward weights: the layer is symmetric in time.
  if (p.direction === 'bidirectional') Object.assign(weights, { backKernel: weights.kernel, backRecurrentKernel: weights.recurrentKernel, backBias: weights.bias });
  return { name: 'rnn', kind: 'Recurrent', inbound: [inbound], params: p, weights, activation: { name: 'linear' }, outputShape: [null, u], source: { className: v.cell === 'lstm' ? 'LSTM' : 'SimpleRNN' } } as LayerNode;
}

function graphOf(nodes: LayerNode[], name: string, nf: number): ModelGraph {
  const last = nodes[nodes.length - 1];
  return {
    file: `/benchmark/recurrent/${name}.json`,
    name,
    format: { name: 'tfjs-layers', version: 'benchmark' },
    inputs: [{ node: 'input', fileName: 'input', fileShape: [null, T, nf], fileLayout: 'NWC' }],
    outputs: [{ node: last.name, fileName: last.name, fileShape: last.outputShape, fileLayout: 'NC' }],
    nodes,
  };
}

/** Ridge regression of targets [n, k] on features [n, d] with an intercept: weights [d, k], bias [k]. */
function ridge(x: Float32Array, y: Float64Array, n: number, d: number, k: number, lambda: number): { w: Float32Array; b: Float32Array } {
  const D = d + 1;
  const a = new Float64Array(D * D);
  const rhs = new Float64Array(D * k);
  for (let s = 0; s < n; s++) {
    const row = (i: number): number => (i < d ? x[s * d + i] : 1);
    for (let i = 0; i < D; i++) {
      const ri = row(i);
      for (let j = 0; j < D; j++) a[i * D + j] += ri * row(j);
      for (let c = 0; c < k; c++) rhs[i * k + c] += ri * y[s * k + c];
    }
  }
  for (let i = 0; i < d; i++) a[i * D + i] += lambda;
  // Gauss-Jordan with partial pivoting (D is 17).
  for (let col = 0; col < D; col++) {
    let piv = col;
    for (let i = col + 1; i < D; i++) if (Math.abs(a[i * D + col]) > Math.abs(a[piv * D + col])) piv = i;
    for (let j = 0; j < D; j++) [a[col * D + j], a[piv * D + j]] = [a[piv * D + j], a[col * D + j]];
    for (let c = 0; c < k; c++) [rhs[col * k + c], rhs[piv * k + c]] = [rhs[piv * k + c], rhs[col * k + c]];
    const p = a[col * D + col];
    for (let i = 0; i < D; i++) {
      if (i === col) continue;
      const f = a[i * D + col] / p;
      if (f === 0) continue;
      for (let j = 0; j < D; j++) a[i * D + j] -= f * a[col * D + j];
      for (let c = 0; c < k; c++) rhs[i * k + c] -= f * rhs[col * k + c];
    }
  }
  const w = new Float32Array(d * k), b = new Float32Array(k);
  for (let i = 0; i < D; i++) for (let c = 0; c < k; c++) (i < d ? w : b)[i < d ? i * k + c : c] = rhs[i * k + c] / a[i * D + i];
  return { w, b };
}

export interface BuiltModel {
  graph: ModelGraph;
  /** Held-out accuracy of the fitted read-out (64 fields). */
  accuracy: number;
}

const NTRAIN = 192;
let cache: { train: { x: Float32Array; y: Int32Array }; test: { x: Float32Array; y: Int32Array } } | undefined;

/** Training and held-out sequences: the CNN benchmark's fields (seeds 1 and 2) fed column by column. */
export function recurrentData(): { train: { x: Float32Array; y: Int32Array }; test: { x: Float32Array; y: Int32Array } } {
  if (!cache) {
    const tr = makeFields(NTRAIN, 1), te = makeFields(64, 2);
    cache = { train: { x: toSequences(tr.x, NTRAIN), y: tr.y }, test: { x: toSequences(te.x, 64), y: te.y } };
  }
  return cache;
}

export function featuresOf(variant: string): number {
  return RECURRENT_VARIANTS[variant]?.univariate ? 1 : F;
}

/** Column means of [n, T, F] sequences: [n, T, 1]. */
function univariate(x: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n * T);
  for (let i = 0; i < n * T; i++) {
    let acc = 0;
    for (let f = 0; f < F; f++) acc += x[i * F + f];
    out[i] = acc / F;
  }
  return out;
}

/** Sequences with a bump of +-1 (the label's sign) over every feature of steps 12-19. */
function withStripe(d: { x: Float32Array; y: Int32Array }): { x: Float32Array; y: Int32Array } {
  const x = d.x.slice();
  for (let s = 0; s < d.y.length; s++) for (let t = 12; t < 20; t++) for (let f = 0; f < F; f++) x[(s * T + t) * F + f] += d.y[s] ? 1 : -1;
  return { x, y: d.y };
}

/** The variant's training and held-out sequences ([n, T, features]). */
export function variantData(variant: string): { train: { x: Float32Array; y: Int32Array }; test: { x: Float32Array; y: Int32Array } } {
  const d = recurrentData();
  if (RECURRENT_VARIANTS[variant]?.stripeSignal) return { train: withStripe(d.train), test: withStripe(d.test) };
  if (featuresOf(variant) === F) return d;
  return { train: { x: univariate(d.train.x, NTRAIN), y: d.train.y }, test: { x: univariate(d.test.x, 64), y: d.test.y } };
}

/** The variant's model for one seed: reservoir from the seed, read-out fitted on the training fields. */
export function buildRecurrent(variant: string, seed: number): BuiltModel {
  const v = RECURRENT_VARIANTS[variant];
  if (!v) throw new Error(`unknown recurrent variant ${variant}`);
  const r = mulberry32(1000 + seed);
  const nf = featuresOf(variant);
  const nodes: LayerNode[] = [{ name: 'input', kind: 'Input', inbound: [], params: {}, weights: {}, activation: { name: 'linear' }, outputShape: [null, T, nf], source: { className: 'InputLayer' } }];
  let prev = 'input';
  let steps = T;
  if (v.cropFirst) {
    steps = T - v.cropFirst;
    nodes.push({ name: 'crop', kind: 'Cropping', inbound: [prev], params: { rank: 1, crops: [[v.cropFirst, 0]] }, weights: {}, activation: { name: 'linear' }, outputShape: [null, steps, nf] as Shape, source: { className: 'Cropping1D' } } as LayerNode);
    prev = 'crop';
  }
  nodes.push(recurrentNode(v, r, prev, nf));
  const states = graphOf(nodes, `${variant}-s${seed}-states`, nf);
  const { train, test } = variantData(variant);
  const h = predict(states, { shape: [NTRAIN, T, nf], data: train.x, dtype: 'f4' } as NdArray).data as Float32Array;
  const y = new Float64Array(NTRAIN * 2);
  for (let s = 0; s < NTRAIN; s++) { y[2 * s + train.y[s]] = 1; y[2 * s + 1 - train.y[s]] = -1; }
  const { w, b } = ridge(h, y, NTRAIN, UNITS, 2, 1e-2);
  nodes.push({ name: 'readout', kind: 'Dense', inbound: ['rnn'], params: { units: 2, useBias: true }, weights: { kernel: { shape: [UNITS, 2], data: w }, bias: { shape: [2], data: b } }, activation: { name: 'linear' }, outputShape: [null, 2], source: { className: 'Dense' } } as LayerNode);
  const graph = graphOf(nodes, `${variant}-s${seed}`, nf);
  const out = predict(graph, { shape: [64, T, nf], data: test.x, dtype: 'f4' } as NdArray).data as Float32Array;
  let ok = 0;
  for (let s = 0; s < 64; s++) if ((out[2 * s + 1] > out[2 * s] ? 1 : 0) === test.y[s]) ok++;
  return { graph, accuracy: ok / 64 };
}
