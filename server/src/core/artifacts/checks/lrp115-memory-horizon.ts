/** LRP115: a leak rate, spectral radius or forget-gate bias whose memory horizon is shorter than the sequence. */
import type { CheckMeta, StaticCheck } from '../check.js';
import { fmt, label, makeFinding } from '../check.js';
import type { ActivationSpec } from '../../model/graph.js';
import type { Finding } from '../finding.js';
import { mulberry32 } from '../../random.js';
import { directionKeys } from '../../model/kinds/recurrent.js';
import { horizonSteps, inboundOf, leakOf, recurrentNodes, sigmoid, type RecurrentNode } from './sequence-common.js';

export const meta: CheckMeta = {
  code: 'LRP115',
  title: 'Memory horizon shorter than the sequence',
  severity: 'warning',
  // retention: the part of the state one step carries on; horizon: steps until retention^k < 1 %.
  thresholds: { retentionFloor: 0.01 },
  remedy: 'The early steps cannot matter to the last state: the map will be empty there whatever the data (LRP213 on data). Feed shorter sequences, or use a longer memory (a smaller leak rate, a larger spectral radius, a forget-gate bias of +1 or more) and retrain.',
};

/** The gate's value for a pre-activation, by the cell's gate activation (sigmoid or hard sigmoid). */
function gateValue(spec: ActivationSpec, x: number): number {
  if (spec.name === 'hard_sigmoid') return Math.min(1, Math.max(0, (spec.alpha ?? 0.2) * x + (spec.beta ?? 0.5)));
  return sigmoid(x);
}

/** Spectral radius of a square [u, u] kernel: mean log-growth of ||v U^k|| (complex pairs included). */
export function spectralRadius(u: Float32Array, n: number): number {
  const r = mulberry32(12345);
  let v = Float64Array.from({ length: n }, () => r() - 0.5);
  let logGrowth = 0;
  const burn = 100, steps = 300;
  for (let k = 0; k < burn + steps; k++) {
    const w = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const vi = v[i];
      if (vi !== 0) for (let j = 0; j < n; j++) w[j] += vi * u[i * n + j];
    }
    let norm = 0;
    for (let j = 0; j < n; j++) norm += w[j] * w[j];
    norm = Math.sqrt(norm);
    if (!(norm > 0)) return 0;
    if (k >= burn) logGrowth += Math.log(norm);
    for (let j = 0; j < n; j++) w[j] /= norm;
    v = w;
  }
  return Math.exp(logGrowth / steps);
}

export interface Retention {
  /** Retention per step of the slowest unit (the longest memory). */
  retention: number;
  /** Median over units (gated cells). */
  median: number;
  /** How it was computed, for the message. */
  how: string;
}

/** Retention per step of one direction from the weights (undefined when the layer has no usable weights). */
export function retentionOf(node: RecurrentNode, backward = false): Retention | undefined {
  const p = node.params;
  const u = p.units;
  const k = directionKeys(backward);
  if (p.cell === 'simple') {
    const rec = node.weights[k.recurrentKernel];
    if (!rec || rec.data.length !== u * u || u > 4096) return undefined;
    const a = leakOf(node);
    const rho = spectralRadius(rec.data, u);
    // Linearized state map x -> (1 - a) x + a act'(.) x U, with act' <= 1 for tanh.
    const retention = Math.abs(1 - a) + a * rho;
    return { retention, median: retention, how: a < 1 ? `leak rate ${fmt(a)} and spectral radius ${fmt(rho)} of the recurrent kernel: (1 - a) + a rho` : `spectral radius of the recurrent kernel ${fmt(rho)}` };
  }
  // LSTM: forget gate (Keras order i, f, c, o); GRU: update gate z (h = z h_prev + (1 - z) n), first block.
  const offset = p.cell === 'lstm' ? u : 0;
  const b = p.useBias ? node.weights[k.bias] : undefined;
  const width = (p.cell === 'lstm' ? 4 : 3) * u;
  const values: number[] = [];
  for (let j = 0; j < u; j++) {
    let z = 0;
    if (b) for (let row = 0; row < b.data.length / width; row++) z += b.data[row * width + offset + j];
    values.push(gateValue(p.recurrentActivation, z));
  }
  values.sort((x, y) => x - y);
  const gateName = p.cell === 'lstm' ? 'forget' : 'update (z)';
  return { retention: values[values.length - 1], median: values[values.length >> 1], how: `${gateName}-gate bias at rest (slowest unit; median unit ${fmt(values[values.length >> 1])})` };
}

export const check: StaticCheck = {
  meta,
  check({ graph }) {
    const out: Finding[] = [];
    for (const node of recurrentNodes(graph)) {
      // Only a layer whose last state is read forgets the early steps; a sequence output keeps every step.
      if (node.params.returnSequences) continue;
      const T = inboundOf(graph, node)?.outputShape[1];
      if (typeof T !== 'number' || T < 2) continue;
      const bidir = node.params.direction === 'bidirectional';
      const rets = [retentionOf(node), ...(bidir ? [retentionOf(node, true)] : [])].filter((r): r is Retention => !!r);
      if (rets.length === 0) continue;
      const r = rets.reduce((a, b) => (b.retention > a.retention ? b : a));
      const horizon = horizonSteps(r.retention, meta.thresholds.retentionFloor);
      // Steps back from where the memory starts; both ends of a bidirectional layer.
      const reach = bidir ? 2 * horizon : horizon;
      if (!(reach < T - 1)) continue;
      const faded = bidir ? 'the middle steps' : node.params.direction === 'backward' ? 'the last steps' : 'the first steps';
      const lost = Math.max(0, Math.floor(T - 1 - reach));
      // A gate's input-driven part can hold it open: the sample LSTM of the demo (forget gate 0.6 at rest,
      // a 9-step horizon of 72) shows no fading on data. Only the reservoir's bound warns.
      const gated = node.params.cell !== 'simple';
      out.push(
        makeFinding(meta, graph, {
          node,
          severity: gated ? 'information' : meta.severity,
          message: `${label(node)} keeps ${fmt(r.retention)} of its state per step (${r.how}): after ${fmt(horizon)} steps less than ${fmt(100 * meta.thresholds.retentionFloor)} % of a step is left (threshold: the horizon is shorter than the ${T} input steps), so ${faded}, about ${lost} of ${T}, cannot matter to the output${gated ? ' unless the inputs hold the gate open (LRP213 on data tells)' : ''}`,
          data: { retention: r.retention, medianRetention: r.median, horizon, steps: T, fadedSteps: lost, leak: leakOf(node) },
        }),
      );
    }
    return out;
  },
};
