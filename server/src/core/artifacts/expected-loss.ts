/**
 * What each layer's rule loses by design (LRP201), computed from the forward pass of the explained
 * samples rather than classified by rule name. A proportional rule divides the relevance R_j at unit j by
 * its stabilized denominator d_j = z_j + eps sign(z_j) and hands back only the part that came from the
 * inputs, z_j - b_j; the rest, R_j (b_j + (d_j - z_j)) / d_j (the bias's share and the stabilizer's),
 * reaches no input. Summed over units this is the relevance the layer is expected to lose; a layer that
 * changes the sum by more than that is not leaking by design (an engine fault, an operation the rule does
 * not cover).
 *
 * Computed for: the epsilon family and LRP-0 (one pass of the layer's own weights; a no-bias variant
 * loses the stabilizer's share only), the flat rule, pass/gradient/split steps (conserve by design),
 * BatchNorm under the proportional (norm) rule (its shift is its bias) and average pooling (no bias).
 * Left undefined (the check falls back to classifying the rule): gamma, z+, alpha-beta, z-box, w-square,
 * max pooling routed as average, recurrent layers, whose denominators need modified forward passes.
 */
import type { Tensor } from '@tensorflow/tfjs';
import { tf } from '../backend.js';
import type { LayerNode } from '../model/graph.js';
import { kindOf } from '../model/kinds/registry.js';
import { stabilize } from '../lrp/linear-rule.js';
import type { Rule, Stabilizer } from '../lrp/rules.js';

/**
 * Per-sample relevance lost by design in the backward step of `node` (sum over units), from its forward
 * output z (bias included) and the relevance r at it; undefined where the rule's loss is not computed.
 */
export function expectedLayerLoss(node: LayerNode, rule: Rule, z: Tensor, r: Tensor): Float32Array | undefined {
  const n = z.shape[0] ?? 1;
  const zero = (): Float32Array => new Float32Array(n);
  switch (rule.type) {
    case 'pass':
    case 'gradient':
    case 'split':
      return zero();
    case 'recurrent':
      return undefined;
    case 'linear': {
      if (rule.family === 'flat') return zero();
      if (node.activation.name !== 'linear' || rule.groups.length !== 1) return undefined;
      const ps = rule.passes;
      if (ps.length !== 1 || ps[0].input !== 'id' || ps[0].weight.op !== 'id' || ps[0].sign !== 1 || ps[0].coeff !== 1) return undefined;
      const b = node.weights.bias;
      const bias = b ? tf.tensor1d(b.data) : undefined;
      const biasIn = ps[0].bias.op === 'id';
      if (!biasIn && ps[0].bias.op !== 'zero') return undefined;
      return lost(z, r, bias, biasIn, rule.groups[0].stabilizer);
    }
    case 'norm': {
      if ((node.kind === 'Pool' || node.kind === 'GlobalPool') && node.params.op === 'avg') return lost(z, r, undefined, true, rule.stabilizer);
      if (node.kind !== 'BatchNorm' || node.activation.name !== 'linear') return undefined;
      // BatchNorm is x * scale + shift: its forward on zeros is the shift, the part of z no input made.
      return tf.tidy(() => {
        const shift = kindOf(node).forward(node as never, [tf.zerosLike(z)], tf);
        return sumLost(z, r, shift, true, rule.stabilizer);
      });
    }
  }
}

/** sum_j r_j (d_j - (z_j - b_j)) / d_j per sample, d = stabilize(z') with z' = z or z - b (rule leaves the bias out). */
function lost(z: Tensor, r: Tensor, bias: Tensor | undefined, biasIn: boolean, st: Stabilizer): Float32Array {
  try {
    return tf.tidy(() => sumLost(z, r, bias ?? tf.scalar(0), biasIn, st));
  } finally {
    bias?.dispose();
  }
}

function sumLost(z: Tensor, r: Tensor, bias: Tensor, biasIn: boolean, st: Stabilizer): Float32Array {
  const n = z.shape[0] ?? 1;
  const fromInputs = tf.sub(z, bias);
  const d = stabilize(tf, biasIn ? z : fromInputs, st);
  // A zero denominator (a dead unit) passes nothing on; its relevance is lost whole (share 1).
  const share = tf.where(tf.equal(d, 0), tf.onesLike(d), tf.div(tf.sub(d, fromInputs), d));
  return Float32Array.from(tf.sum(tf.reshape(tf.mul(r, share), [n, -1]), 1).dataSync() as Float32Array);
}

/** Collects expectedLayerLoss per node over the engine's chunks (samples in order): the engine's onBackward hook. */
export class ExpectedLossRecorder {
  readonly byNode = new Map<string, number[] | undefined>();
  readonly hook = (node: LayerNode, rule: Rule, z: Tensor, r: Tensor): void => {
    const had = this.byNode.has(node.name);
    const prev = this.byNode.get(node.name);
    if (had && !prev) return;
    const v = expectedLayerLoss(node, rule, z, r);
    this.byNode.set(node.name, v ? [...(prev ?? []), ...v] : undefined);
  };
}

export interface LayerLoss {
  /** Node of the engine's (canonical) graph; `index` its index in the user's graph (-1 for a split-off activation). */
  name: string;
  index: number;
  /** Relevance the node's backward step lost, per sample: the sum at its output minus the sum at its input. */
  observed: number[];
  /** What its rule loses by design, per sample (expectedLayerLoss); undefined where not computed. */
  expected?: number[];
}

/**
 * The backward step of every node whose input relevance is its own (one inbound, and that inbound has no
 * other consumer), so the change between its output's and its input's sums is its rule's doing.
 */
export function layerLosses(canonical: { nodes: LayerNode[] }, sums: Map<string, number[]>, inputName: string, inputSums: number[], expected: Map<string, number[] | undefined>, indexOf: (name: string) => number): LayerLoss[] {
  const consumers = new Map<string, number>();
  for (const nd of canonical.nodes) for (const i of nd.inbound) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  const out: LayerLoss[] = [];
  for (const nd of canonical.nodes) {
    if (nd.kind === 'Input' || nd.inbound.length !== 1 || consumers.get(nd.inbound[0]) !== 1) continue;
    const at = sums.get(nd.name);
    const below = nd.inbound[0] === inputName ? inputSums : sums.get(nd.inbound[0]);
    if (!at || !below || at.length !== below.length) continue;
    const exp = expected.get(nd.name);
    out.push({ name: nd.name, index: indexOf(nd.name), observed: at.map((v, s) => v - below[s]), ...(exp && exp.length === at.length ? { expected: exp } : {}) });
  }
  return out.reverse();
}
