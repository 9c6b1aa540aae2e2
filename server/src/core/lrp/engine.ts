/**
 * The LRP engine: canonize, forward once keeping every node's output, then walk the graph in reverse
 * topological order, each node turning the relevance at its output into relevance at its inputs by its
 * rule (composites.ts). Relevance reaching a node from several consumers is summed. Every result carries
 * the model output, the targets and the per-node relevance sums (the conservation report).
 *
 * Inputs are processed in chunks (bounded memory); each chunk runs in one tf.tidy. Kernels the rules
 * need are built once per explainer and released by dispose().
 */
import { tf } from '../backend.js';
import type { Tensor } from '@tensorflow/tfjs';
import type { LayerNode, LayerNodeOf, Layout, ModelGraph } from '../model/graph.js';
import { LensError } from '../errors.js';
import { type CanonicalGraph, canonicalize } from '../model/canonicalize.js';
import { kindOf } from '../model/kinds/registry.js';
import { applyActivation } from '../model/activations.js';
import { fromChannelsLast, inputTensor } from '../model/execute.js';
import type { NdArray } from '../array.js';
import { type Composite, type CompositeOptions, type InitMode, type RuleMapEntry, buildComposite } from './composites.js';
import { LinearLayer, isLinear } from './linear.js';
import { type EngineMode, PreparedLinearRule, stabilize } from './linear-rule.js';
import type { Rule } from './rules.js';
import { maxPoolRoute } from './pooling.js';
import { recurrentRelevance } from './recurrent.js';
import { concatFloat32 as concat } from '../float32.js';
import { type SampleTarget, type TargetSpec, initialRelevance, resolveTargets } from './targets.js';

export interface ExplainerOptions extends CompositeOptions {
  composite?: string;
  ruleMap?: RuleMapEntry[];
  /** 'fast' (fused kernels, forward-conv VJPs; default) or 'grad' (Zennit's literal per-pass tf.grad). */
  mode?: EngineMode;
}

export interface ExplainOptions {
  target?: TargetSpec;
  /** Default: the composite's convention (Zennit's one-hot, iNNvestigate presets: output). */
  init?: InitMode;
  /** Samples per chunk (default 16): bounds memory; larger chunks gain little speed. */
  chunkSize?: number;
  /**
   * Called for each node before its backward step, inside the chunk's tidy, with its forward output and
   * the relevance at it (artifacts/expected-loss.ts computes what the rule loses by design from them).
   */
  onBackward?: (node: LayerNode, rule: Rule, z: Tensor, r: Tensor) => void;
}

export interface LayerRelevance {
  name: string;
  kind: string;
  rule: string;
  /** Sum of the relevance at this node's output, per sample. */
  relevanceSum: number[];
}

export interface Explanation {
  /** Relevance in the input's file layout and shape. */
  relevance: NdArray;
  layout: Layout;
  composite: string;
  init: InitMode;
  targets: SampleTarget[];
  /** The explained output (before a stripped softmax/sigmoid), per sample, flattened [N, K]. */
  output: { shape: number[]; data: Float32Array };
  /** Relevance sum at the input, per sample. */
  relevanceSum: number[];
  /** Per-node relevance sums, output to input. */
  layers: LayerRelevance[];
  canonical: Omit<CanonicalGraph, 'graph'>;
}

export class LrpExplainer {
  readonly source: ModelGraph;
  readonly canonical: CanonicalGraph;
  readonly graph: ModelGraph;
  readonly composite: Composite;
  readonly mode: EngineMode;
  private readonly prepared = new Map<string, PreparedLinearRule>();
  private readonly layers = new Map<string, LinearLayer>();
  private readonly params = new Map<string, { kernel: Tensor; bias?: Tensor }>();
  private readonly outNode: string;
  private readonly inNode: string;

  constructor(graph: ModelGraph, opts: ExplainerOptions = {}) {
    this.source = graph;
    this.canonical = canonicalize(graph);
    this.graph = this.canonical.graph;
    if (this.graph.inputs.length !== 1) {
      throw new LensError('LRP_UNSUPPORTED', `LRP needs a model with one input; this one has ${this.graph.inputs.length}`, { file: graph.file });
    }
    if (this.graph.outputs.length < 1) throw new LensError('GRAPH_INVALID', 'the model has no output', { file: graph.file });
    this.inNode = this.graph.inputs[0].node;
    this.outNode = this.graph.outputs[0].node;
    this.composite = buildComposite(this.graph, opts.composite ?? 'epsilon', opts, opts.ruleMap ?? []);
    this.mode = opts.mode ?? 'fast';
    for (const node of this.graph.nodes) {
      if (!isLinear(node)) continue;
      const layer = new LinearLayer(node);
      this.layers.set(node.name, layer);
      const kernel = tf.keep(tf.tensor(layer.kernel.data, layer.kernel.shape));
      const bias = layer.bias ? tf.keep(tf.tensor1d(layer.bias)) : undefined;
      this.params.set(node.name, { kernel, bias });
      const rule = this.composite.rules.get(node.name);
      if (rule?.type === 'linear') this.prepared.set(node.name, new PreparedLinearRule(tf, layer, rule));
    }
  }

  dispose(): void {
    for (const p of this.prepared.values()) p.dispose();
    for (const p of this.params.values()) {
      p.kernel.dispose();
      p.bias?.dispose();
    }
    this.prepared.clear();
    this.params.clear();
  }

  ruleOf(name: string): Rule | undefined {
    return this.composite.rules.get(name);
  }

  private forwardNode(node: LayerNode, xs: Tensor[]): Tensor {
    let y: Tensor;
    const p = this.params.get(node.name);
    if (p) {
      y = this.layers.get(node.name)!.forward(tf, xs[0], p.kernel);
      if (p.bias) y = tf.add(y, p.bias);
    } else {
      y = kindOf(node).forward(node as never, xs, tf);
    }
    return node.activation.name === 'linear' ? y : applyActivation(y, node.activation, tf);
  }

  /** Every node's output for a channels-last batch. */
  private forwardAll(x: Tensor): Map<string, Tensor> {
    const acts = new Map<string, Tensor>();
    for (const node of this.graph.nodes) {
      if (node.kind === 'Input') {
        acts.set(node.name, x);
        continue;
      }
      const xs = node.inbound.map((i) => acts.get(i)!);
      try {
        acts.set(node.name, tf.tidy(() => notAlias(this.forwardNode(node, xs), xs)));
      } catch (e) {
        if (e instanceof LensError) throw e.withLayer(node.name, this.graph.file);
        throw new LensError('LRP_UNSUPPORTED', `layer ${node.name} (${node.kind}) failed: ${(e as Error).message}`, { file: this.graph.file, layer: node.name });
      }
    }
    return acts;
  }

  /** Relevance at each input of `node`, from the relevance `r` at its output. */
  private backwardNode(node: LayerNode, rule: Rule, xs: Tensor[], z: Tensor, r: Tensor): Tensor[] {
    switch (rule.type) {
      case 'linear':
        return [this.prepared.get(node.name)!.apply(tf, xs[0], z, r, this.mode)];
      case 'pass':
        if (xs.length === 1 && xs[0].size === r.size) return [tf.reshape(r, xs[0].shape)];
        return this.gradient(node, xs, r);
      case 'gradient': {
        const routed = node.kind === 'Pool' ? maxPoolRoute(tf, node, xs[0], r) : undefined;
        return routed ? [routed] : this.gradient(node, xs, r);
      }
      case 'norm': {
        const f = this.opFor(node);
        // Max pooling routed like average pooling divides by the average, not the stored maximum.
        const zz = isMaxPool(node) ? f(xs) : z;
        const d = tf.div(r, stabilize(tf, zz, rule.stabilizer));
        const gs = tf.grads((...ins: Tensor[]) => notAlias(f(ins), ins))(xs, d);
        return xs.map((x, i) => tf.mul(x, gs[i]));
      }
      case 'recurrent':
        return [recurrentRelevance(tf, node as LayerNodeOf<'Recurrent'>, rule, xs[0], r)];
      case 'split':
        return xs.map((x) => {
          let share = tf.div(r, xs.length);
          // Broadcast inputs get the sum over the broadcast axes.
          if (x.size !== share.size) share = tf.grad((t: Tensor) => tf.mul(t, tf.onesLike(share)))(tf.zeros(x.shape), share);
          return share;
        });
    }
  }

  /** The op a norm rule divides by: max pooling routed like average pooling uses the average pool. */
  private opFor(node: LayerNode): (ins: Tensor[]) => Tensor {
    if (isMaxPool(node)) {
      const avg = { ...node, params: { ...node.params, op: 'avg' as const, countIncludePad: false } } as LayerNode;
      return (ins) => kindOf(avg).forward(avg as never, ins, tf);
    }
    return (ins) => this.forwardNode(node, ins);
  }

  private gradient(node: LayerNode, xs: Tensor[], r: Tensor): Tensor[] {
    return tf.grads((...ins: Tensor[]) => notAlias(this.forwardNode(node, ins), ins))(xs, r);
  }

  /** The explained output (channels-last input; a stripped softmax is not applied), with its temporaries freed. */
  forwardOutput(x: Tensor): Tensor {
    return tf.tidy(() => this.forwardAll(x).get(this.outNode)!);
  }

  /** The canonical graph's single input, in channels-last form. */
  inputOf(x: NdArray): Tensor {
    return inputTensor(this.graph, x);
  }

  /** Explain a batch given in the file's layout (a missing batch axis is added). */
  explain(x: NdArray, opts: ExplainOptions = {}): Explanation {
    const init = opts.init ?? this.composite.defaultInit;
    const chunk = Math.max(1, Math.floor(opts.chunkSize ?? 16));
    const spec = this.graph.inputs[0];
    const full = inputTensor(this.graph, x);
    const n = full.shape[0];
    const relParts: Float32Array[] = [];
    const outParts: Float32Array[] = [];
    const targets: SampleTarget[] = [];
    const sums = new Map<string, number[]>();
    let relShape: number[] = [];
    let outK = 0;
    try {
      for (let start = 0; start < n; start += chunk) {
        const size = Math.min(chunk, n - start);
        const res = this.explainChunk(size === n ? full : tf.slice(full, start, size), opts.target ?? { type: 'predicted' }, init, size === n, opts.onBackward);
        relParts.push(res.relevance);
        outParts.push(res.output);
        targets.push(...res.targets);
        relShape = res.relShape;
        outK = res.outK;
        for (const [k, v] of res.sums) sums.set(k, [...(sums.get(k) ?? []), ...v]);
      }
    } finally {
      full.dispose();
    }
    const rel = concat(relParts);
    const inRel = sums.get(this.inNode) ?? [];
    const layers: LayerRelevance[] = [];
    for (const node of [...this.graph.nodes].reverse()) {
      const s = sums.get(node.name);
      if (!s || node.kind === 'Input') continue;
      layers.push({ name: node.name, kind: node.kind, rule: this.composite.rules.get(node.name)?.name ?? '-', relevanceSum: s });
    }
    const { graph: _g, ...canonicalInfo } = this.canonical;
    return {
      relevance: { shape: n === 0 ? [0, ...relShape.slice(1)] : [n, ...relShape.slice(1)], data: rel, dtype: 'f4' },
      layout: spec.fileLayout,
      composite: this.composite.name,
      init,
      targets,
      output: { shape: [n, outK], data: concat(outParts) },
      relevanceSum: inRel,
      layers,
      canonical: canonicalInfo,
    };
  }

  private explainChunk(x: Tensor, target: TargetSpec, init: InitMode, isFull: boolean, onBackward?: ExplainOptions['onBackward']): ChunkResult {
    const spec = this.graph.inputs[0];
    const n = x.shape[0];
    let targets: SampleTarget[] = [];
    let keys: string[] = [];
    // Forward, target decision, backward: one tidy per chunk.
    const result = tf.tidy(() => {
      const acts = this.forwardAll(x);
      const y = acts.get(this.outNode)!;
      const yData = y.dataSync() as Float32Array;
      const k = y.size / n;
      targets = resolveTargets(target, yData, n, k, y.shape.slice(1));
      const rel = new Map<string, Tensor>();
      rel.set(this.outNode, initialRelevance(tf, target, targets, yData, y.shape, init));
      const sumTensors: Tensor[] = [];
      for (const node of [...this.graph.nodes].reverse()) {
        const r = rel.get(node.name);
        if (!r) continue;
        keys.push(node.name);
        sumTensors.push(tf.sum(tf.reshape(r, [n, -1]), 1));
        if (node.kind === 'Input') continue;
        const rule = this.composite.rules.get(node.name);
        if (!rule) continue;
        const xs = node.inbound.map((i) => acts.get(i)!);
        onBackward?.(node, rule, acts.get(node.name)!, r);
        let rin: Tensor[];
        try {
          // One tidy per node: a chunk holds its activations and the relevance front, not every temporary.
          rin = tf.tidy(() => this.backwardNode(node, rule, xs, acts.get(node.name)!, r));
        } catch (e) {
          if (e instanceof LensError) throw e;
          throw new LensError('LRP_UNSUPPORTED', `relevance through layer ${node.name} (${node.kind}, rule ${rule.name}) failed: ${(e as Error).message}`, { file: this.graph.file, layer: node.name });
        }
        node.inbound.forEach((name, i) => {
          const prev = rel.get(name);
          if (prev) {
            rel.set(name, tf.add(prev, rin[i]));
            prev.dispose();
            rin[i].dispose();
          } else rel.set(name, rin[i]);
        });
        // Consumers come first in reverse order: this node's output and relevance are no longer needed.
        rel.delete(node.name);
        if (node.name !== this.outNode) r.dispose();
        const a = acts.get(node.name);
        if (a && a !== x && node.name !== this.outNode) a.dispose();
      }
      const rIn = rel.get(this.inNode) ?? tf.zerosLike(x);
      return { relevance: fromChannelsLast(rIn, spec.fileLayout), out: tf.reshape(y, [n, k]), sums: tf.stack(sumTensors) };
    });
    try {
      const relevance = Float32Array.from(result.relevance.dataSync() as Float32Array);
      const output = Float32Array.from(result.out.dataSync() as Float32Array);
      const sumData = result.sums.dataSync() as Float32Array;
      const sums = new Map<string, number[]>();
      keys.forEach((name, i) => sums.set(name, Array.from(sumData.subarray(i * n, (i + 1) * n))));
      return { relevance, output, targets, sums, relShape: result.relevance.shape, outK: result.out.shape[1] ?? 0 };
    } finally {
      tf.dispose([result.relevance, result.out, result.sums]);
      if (!isFull) x.dispose();
    }
  }
}

interface ChunkResult {
  relevance: Float32Array;
  output: Float32Array;
  targets: SampleTarget[];
  sums: Map<string, number[]>;
  relShape: number[];
  outK: number;
}

function isMaxPool(node: LayerNode): node is LayerNodeOf<'Pool'> | LayerNodeOf<'GlobalPool'> {
  return (node.kind === 'Pool' || node.kind === 'GlobalPool') && node.params.op === 'max';
}

/** tf.grad needs an op between x and y: an identity layer (Flatten of a flat input) returns its input. */
function notAlias(y: Tensor, ins: Tensor[]): Tensor {
  return ins.includes(y) ? y.clone() : y;
}

/** One-shot convenience: build an explainer, explain, release. */
export function explainGraph(graph: ModelGraph, x: NdArray, opts: ExplainerOptions & ExplainOptions = {}): Explanation {
  const ex = new LrpExplainer(graph, opts);
  try {
    return ex.explain(x, opts);
  } finally {
    ex.dispose();
  }
}
