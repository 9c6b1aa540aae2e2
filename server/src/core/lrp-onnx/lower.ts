/**
 * LRP lowered to one ONNX graph: a model (canonicalized as the tfjs engine does) and a composite (the
 * engine's own buildComposite, so rules stay data and each node's rule is the one the engine would use)
 * become one ONNX model that runs the forward pass and every relevance pass on ONNX Runtime.
 *
 * Graph contract (documented for users in docs/compile.md):
 *   inputs   x      the model's input in its file's layout, batch first (dynamic batch 'N')
 *            seed   [N, K] output relevance selection: +1 at the explained class (-1 at a contrasted one;
 *                   1, or 1/n for a mean, on each output of a pixel/region target: lrp/targets.ts seedWeights);
 *                   a row of zeros selects the arg-max of the output (the predicted class). With init
 *                   'output' the graph multiplies the selection by the output (iNNvestigate's start).
 *   outputs  relevance   relevance at x, in x's layout
 *            output      the explained output [N, K] (before a stripped softmax/sigmoid)
 *            layer_sums  [N, L] relevance summed per node output, output to input; the last column is
 *                        the input (the names are in the model's metadata, `layer_sums`).
 *
 * Layers or rules that cannot lower raise LRP_UNSUPPORTED with the reason, so the caller can run the
 * tfjs engine instead and say why.
 */
import { LensError } from '../errors.js';
import { type CanonicalGraph, canonicalize } from '../model/canonicalize.js';
import type { LayerNode, Layout, ModelGraph } from '../model/graph.js';
import { type Composite, type CompositeOptions, type InitMode, type RuleMapEntry, buildComposite } from '../lrp/composites.js';
import { LinearLayer, type LinearNode, isLinear } from '../lrp/linear.js';
import type { Rule } from '../lrp/rules.js';
import { GraphWriter, type IoSpec, OPSET, cfShape, toChannelsFirst, toChannelsLast } from './graph-writer.js';
import { type GraphFacts, graphFacts } from './facts.js';
import { type ConvGeometry, convGeometry, linearForward, onnxKernel, refuse } from './linear-ops.js';
import { linearRuleRelevance } from './linear-rule-ops.js';
import { activationForward, batchNormForward, mergeForward, normRelevance, preluForward } from './pointwise-ops.js';
import { type GlobalForward, type PoolForward, globalPoolForward, globalPoolRelevance, poolForward, poolRelevance } from './pool-ops.js';
import { shapeForward, shapeRelevance } from './shape-ops.js';
import { type RecurrentForward, recurrentForward, recurrentRelevanceOnnx } from './lower-recurrent.js';
import { pointwiseDense } from './dense-per-step.js';

export interface LoweringOptions extends CompositeOptions {
  composite?: string;
  ruleMap?: RuleMapEntry[];
  /** Output-relevance start; default the composite's (Zennit's one-hot, iNNvestigate presets: output). */
  init?: InitMode;
}

export interface LayerColumn {
  name: string;
  kind: string;
  rule: string;
}

export interface LoweredModel {
  /** The encoded ONNX ModelProto. */
  bytes: Uint8Array;
  composite: Composite;
  canonical: CanonicalGraph;
  init: InitMode;
  /** x's file layout and shape (batch null). */
  layout: Layout;
  inputShape: (number | null)[];
  /** Width K of the seed and the output. */
  outputWidth: number;
  /** The output's per-sample shape, channels-last (K's axes; pixel and region targets address it). */
  outputShape: number[];
  /** Columns of layer_sums, output to input; the last is the input node. */
  columns: LayerColumn[];
  nodeCount: number;
}

export const GRAPH_IO = { x: 'x', seed: 'seed', relevance: 'relevance', output: 'output', layerSums: 'layer_sums' } as const;

/** Whether the file layout is channels-first (the internal layout), by rank. */
function fileIsChannelsFirst(layout: Layout, rank: number): boolean {
  return (layout === 'NCW' && rank === 3) || (layout === 'NCHW' && rank === 4) || (layout === 'NCDHW' && rank === 5);
}

export function lowerToOnnx(source: ModelGraph, opts: LoweringOptions = {}): LoweredModel {
  const canonical = canonicalize(source);
  const graph = canonical.graph;
  const file = source.file;
  if (graph.inputs.length !== 1) throw new LensError('LRP_UNSUPPORTED', `LRP needs a model with one input; this one has ${graph.inputs.length}`, { file });
  if (graph.outputs.length < 1) throw new LensError('GRAPH_INVALID', 'the model has no output', { file });
  const composite = buildComposite(graph, opts.composite ?? 'epsilon', opts, opts.ruleMap ?? []);
  const init = opts.init ?? composite.defaultInit;
  try {
    const l = new Lowering(graph, composite);
    l.forward();
    const { rOut, k, dims } = l.seed(init);
    const columns = l.backward(rOut);
    const spec = graph.inputs[0];
    const fileDims = spec.fileShape.map((d, i) => (i === 0 ? 'N' : (d ?? `d${i}`)));
    const inputs: IoSpec[] = [
      { name: GRAPH_IO.x, dims: fileDims, doc: `model input, layout ${spec.fileLayout}` },
      { name: GRAPH_IO.seed, dims: ['N', k], doc: 'output relevance selection (+1 target, -1 contrast; a zero row: the arg-max)' },
    ];
    const outputs: IoSpec[] = [
      { name: GRAPH_IO.relevance, dims: fileDims, doc: `relevance at x, layout ${spec.fileLayout}` },
      { name: GRAPH_IO.output, dims: ['N', k], doc: 'explained output (before a stripped softmax/sigmoid)' },
      { name: GRAPH_IO.layerSums, dims: ['N', columns.length], doc: 'relevance sum per node output, output to input (metadata layer_sums)' },
    ];
    const bytes = l.w.encode(`lrp:${graph.name}`, inputs, outputs, {
      lrp_composite: composite.name,
      lrp_init: init,
      lrp_opset: String(OPSET),
      input_layout: spec.fileLayout,
      layer_sums: JSON.stringify(columns),
      stripped_output: canonical.strippedOutput ? JSON.stringify(canonical.strippedOutput) : '',
    });
    return { bytes, composite, canonical, init, layout: spec.fileLayout, inputShape: [...spec.fileShape], outputWidth: k, outputShape: dims, columns, nodeCount: l.w.nodeCount };
  } catch (e) {
    if (e instanceof LensError) throw e.withFile(file);
    throw e;
  }
}

/** The phases of one lowering over shared state: forward, seed, backward (with the layer sums). */
class Lowering {
  readonly w = new GraphWriter();
  private readonly byName: Map<string, LayerNode>;
  private readonly facts: GraphFacts;
  private readonly inNode: string;
  private readonly outNode: string;
  /** Every node's output, channels-first, and what the backward needs besides. */
  private readonly vals = new Map<string, string>();
  private readonly state = new Map<string, Omit<NodeState, 'facts'>>();

  constructor(private readonly graph: ModelGraph, private readonly composite: Composite) {
    this.byName = new Map(graph.nodes.map((n) => [n.name, n]));
    this.inNode = graph.inputs[0].node;
    this.outNode = graph.outputs[0].node;
    this.facts = graphFacts(graph, composite.rules, this.outNode);
    for (const name of Object.values(GRAPH_IO)) this.w.reserve(name);
  }

  private shapeOf(name: string): (number | null)[] {
    return this.byName.get(name)!.outputShape;
  }

  private get inRank(): number {
    return this.shapeOf(this.inNode).length;
  }

  forward(): void {
    const { w, vals } = this;
    for (const node of this.graph.nodes) {
      if (node.kind === 'Input') {
        vals.set(node.name, fileIsChannelsFirst(this.graph.inputs[0].fileLayout, this.inRank) ? GRAPH_IO.x : toChannelsFirst(w, GRAPH_IO.x, this.inRank));
        continue;
      }
      const rule = this.composite.rules.get(node.name);
      if (rule?.type === 'recurrent' && node.kind !== 'Recurrent') refuse(node.name, `recurrent rule ${rule.name} on ${node.kind} ${node.name}`);
      const st: Omit<NodeState, 'facts'> = {};
      let y = this.forwardNode(node, rule, st);
      // Fused activations were split off by canonicalize; one left here is applied after the op.
      if (node.activation.name !== 'linear') {
        st.preAct = y;
        y = activationForward(w, node.name, node.activation, y);
      }
      this.state.set(node.name, st);
      vals.set(node.name, y);
    }
  }

  private forwardNode(node: LayerNode, rule: Rule | undefined, st: Omit<NodeState, 'facts'>): string {
    const { w } = this;
    const xs = node.inbound.map((i) => this.vals.get(i)!);
    const inShapes = node.inbound.map((n) => this.shapeOf(n));
    if (isLinear(node)) {
      if (node.kind === 'ConvTranspose') refuse(node.name, `transposed convolution ${node.name} is not lowered`);
      const { layer, geo } = linearOf(node, inShapes[0]);
      const k = onnxKernel(layer, layer.kernel.data);
      const bias = layer.bias ? w.floats(`${node.name}.b`, layer.bias, [layer.bias.length]) : undefined;
      st.linear = { layer, geo };
      return linearForward(w, layer, geo, xs[0], w.floats(`${node.name}.k`, k.data, k.dims), bias);
    }
    switch (node.kind) {
      case 'Activation':
        return activationForward(w, node.name, node.params.activation, xs[0]);
      case 'PReLU':
        return preluForward(w, node, xs[0], inShapes[0].length);
      case 'BatchNorm': {
        const bn = batchNormForward(w, node, xs[0], inShapes[0].length);
        st.bnScale = bn.scale;
        return bn.y;
      }
      case 'Add':
      case 'Average':
      case 'Subtract':
      case 'Multiply':
        return mergeForward(w, node, xs, inShapes);
      case 'Pool':
        st.pool = poolForward(w, node, xs[0], inShapes[0], rule?.type === 'gradient', rule?.type === 'norm');
        return st.pool.y;
      case 'GlobalPool':
        st.global = globalPoolForward(w, node, xs[0], inShapes[0], rule?.type === 'gradient');
        return st.global.y;
      case 'Recurrent': {
        // Leaky / simple tanh cells unrolled over their known steps (lower-recurrent.ts); others refused there.
        const rec = recurrentForward(w, node, rule, xs[0], inShapes[0]);
        st.recurrent = rec.st;
        return rec.y;
      }
      default:
        return shapeForward(w, node, xs, inShapes);
    }
  }

  /** The output [N, K] (channels-last order) and the relevance it starts from (graph docs, top of file). */
  seed(init: InitMode): { rOut: string; k: number; dims: number[] } {
    const { w } = this;
    const yOut = this.vals.get(this.outNode)!;
    const outShape = this.shapeOf(this.outNode);
    const outRank = outShape.length;
    const k = outShape.slice(1).reduce<number>((a, b) => a * (b ?? NaN), 1);
    if (!Number.isFinite(k)) refuse(this.outNode, 'the output has a symbolic size');
    const flatOut = outRank === 2 ? yOut : w.o('Reshape', [toChannelsLast(w, yOut, outRank), w.ints('shape', [0, -1])], {}, 'out_flat');
    w.opInto('Identity', [flatOut], GRAPH_IO.output);
    const rowAbs = w.o('ReduceSum', [w.o('Abs', [GRAPH_IO.seed]), w.ints('axes', [1])], { keepdims: 1 }, 'seed_rows');
    const predicted = w.o('OneHot', [w.o('ArgMax', [flatOut], { axis: 1, keepdims: 0 }), w.ints('depth', [k]), w.floats('onoff', Float32Array.of(0, 1), [2])], { axis: -1 }, 'predicted');
    let seed = w.o('Where', [w.o('Equal', [rowAbs, w.scalar(0)]), predicted, GRAPH_IO.seed], {}, 'selection');
    if (init === 'output') seed = w.o('Mul', [seed, flatOut], {}, 'seed_out');
    const rOut = outRank === 2 ? seed : toChannelsFirst(w, w.o('Reshape', [seed, w.o('Shape', [toChannelsLast(w, yOut, outRank)])]), outRank);
    return { rOut, k, dims: outShape.slice(1) as number[] };
  }

  /** Relevance from the output to the input; writes `relevance` and `layer_sums`, returns the columns. */
  backward(rOut: string): LayerColumn[] {
    const { w, graph, inNode } = this;
    const rel = new Map<string, string>([[this.outNode, rOut]]);
    const sumAlias = new Map<string, string>();
    const columns: (LayerColumn & { r: string })[] = [];
    for (const node of [...graph.nodes].reverse()) {
      const r = rel.get(node.name);
      if (!r) continue;
      const rule = this.composite.rules.get(node.name);
      columns.push({ name: node.name, kind: node.kind, rule: rule?.name ?? '-', r });
      if (node.kind === 'Input' || !rule) continue;
      const st = this.state.get(node.name)!;
      const facts = { xNonNegative: node.inbound.length === 1 && this.facts.nonNegative.has(node.inbound[0]), rOnlyPositive: this.facts.positiveOnly.has(node.name) };
      const xs = node.inbound.map((i) => this.vals.get(i)!);
      const ins = backward(w, node, rule, xs, node.inbound.map((n) => this.shapeOf(n)), this.vals.get(node.name)!, r, { ...st, facts });
      // Winner routing moves each value once: the sum at the input is the sum at the output.
      if ((st.pool?.indices || st.global?.indices) && !rel.has(node.inbound[0])) sumAlias.set(ins[0], sumAlias.get(r) ?? r);
      node.inbound.forEach((name, i) => {
        const prev = rel.get(name);
        rel.set(name, prev ? w.o('Add', [prev, ins[i]], {}, 'r_sum') : ins[i]);
      });
    }
    const rIn = rel.get(inNode) ?? w.o('Mul', [this.vals.get(inNode)!, w.scalar(0)], {}, 'r_none');
    if (!columns.some((c) => c.name === inNode)) columns.push({ name: inNode, kind: 'Input', rule: '-', r: rIn });
    w.opInto('Identity', [fileIsChannelsFirst(graph.inputs[0].fileLayout, this.inRank) ? rIn : toChannelsLast(w, rIn, this.inRank)], GRAPH_IO.relevance);
    // One sum per distinct tensor; routed relevance (max-pool winners) sums as the tensor it was routed from.
    const sumOf = new Map<string, string>();
    const sums = columns.map((c) => {
      const t = sumAlias.get(c.r) ?? c.r;
      let s = sumOf.get(t);
      if (!s) sumOf.set(t, (s = w.o('ReduceSum', [w.o('Reshape', [t, w.ints('shape', [0, -1])]), w.ints('axes', [1])], { keepdims: 1 }, 'rsum')));
      return s;
    });
    w.opInto(sums.length === 1 ? 'Identity' : 'Concat', sums, GRAPH_IO.layerSums, sums.length === 1 ? {} : { axis: 1 });
    return columns.map(({ name, kind, rule }) => ({ name, kind, rule }));
  }
}

interface NodeState {
  linear?: { layer: LinearLayer; geo?: ConvGeometry };
  pool?: PoolForward;
  global?: GlobalForward;
  bnScale?: string;
  preAct?: string;
  recurrent?: RecurrentForward;
  facts: { xNonNegative: boolean; rOnlyPositive: boolean };
}

/** A linear layer and its conv geometry; a Dense on a sequence (any rank-3+ input) maps every step alike: a size-1 convolution here. */
function linearOf(node: LinearNode, inShape: (number | null)[]): { layer: LinearLayer; geo: ConvGeometry | undefined } {
  if (node.kind === 'Dense' && inShape.length > 2) return pointwiseDense(node, inShape);
  const layer = new LinearLayer(node);
  return { layer, geo: layer.kind === 'dense' ? undefined : convGeometry(layer, inShape, node.outputShape) };
}

/** Relevance at each input of `node` from the relevance `r` at its output, by its rule. */
function backward(w: GraphWriter, node: LayerNode, rule: Rule, xs: string[], inShapes: (number | null)[][], z: string, r: string, st: NodeState): string[] {
  if (st.preAct) refuse(node.name, `layer ${node.name} keeps a fused activation after canonization`);
  const rank = node.outputShape.length;
  switch (rule.type) {
    case 'linear': {
      if (!st.linear) refuse(node.name, `rule ${rule.name} on ${node.kind} ${node.name}`);
      const { layer, geo } = st.linear;
      return [linearRuleRelevance({ w, layer, geo, x: xs[0], xShape: inShapes[0], z, r, ...st.facts }, rule)];
    }
    case 'pass':
      if (xs.length === 1 && inShapes[0].length === rank && cfShape(inShapes[0]).join() === cfShape(node.outputShape).join()) return [r];
      return shapeRelevance(w, node, xs, inShapes, r);
    case 'gradient':
      if (node.kind === 'Pool') return [poolRelevance(w, node, st.pool!, xs[0], inShapes[0], r)];
      if (node.kind === 'GlobalPool') return [globalPoolRelevance(w, node, st.global!, xs[0], inShapes[0], r)];
      if (node.kind === 'Activation' || node.kind === 'PReLU' || node.kind === 'Add' || node.kind === 'Average' || node.kind === 'Subtract' || node.kind === 'Multiply' || node.kind === 'BatchNorm') {
        refuse(node.name, `gradient rule on ${node.kind} ${node.name} is not lowered`);
      }
      return shapeRelevance(w, node, xs, inShapes, r);
    case 'norm':
      if (node.kind === 'Pool') return [poolRelevance(w, node, st.pool!, xs[0], inShapes[0], r, rule.stabilizer)];
      if (node.kind === 'GlobalPool') return [globalPoolRelevance(w, node, st.global!, xs[0], inShapes[0], r, rule.stabilizer)];
      if (node.kind === 'Add' || node.kind === 'Average' || node.kind === 'Subtract' || node.kind === 'BatchNorm') {
        return normRelevance(w, node, xs, z, r, rule.stabilizer, rank, st.bnScale);
      }
      return refuse(node.name, `norm rule on ${node.kind} ${node.name} is not lowered`);
    case 'split': {
      if (inShapes.some((s) => s.join() !== node.outputShape.join())) refuse(node.name, `split rule on ${node.name} with broadcast inputs`);
      const share = w.o('Div', [r, w.scalar(xs.length)], {}, 'r_split');
      return xs.map(() => share);
    }
    case 'recurrent':
      if (!st.recurrent) return refuse(node.name, `recurrent layer ${node.name} is not lowered`);
      return [recurrentRelevanceOnnx(w, node.name, st.recurrent)(r)];
  }
}
