/**
 * Runs a ModelGraph with tfjs: each node's kind forward, then its fused activation, in topological
 * order, on channels-last tensors. Also converts inputs from the file's layout (NCHW for PyTorch ONNX)
 * to channels-last and outputs back, and offers `predict` on plain arrays in batches.
 */
import { tf } from '../backend.js';
import type { Tensor } from '@tensorflow/tfjs';
import type { Layout, ModelGraph, Shape, TensorSpec } from './graph.js';
import { kindOf } from './kinds/registry.js';
import { applyActivation } from './activations.js';
import { LensError } from '../errors.js';
import { toFloat32, type NdArray } from '../array.js';
import { fmtShape } from './kinds/common.js';

/** Permutation taking a tensor in `layout` to channels-last (null when it already is). */
function toLastPerm(layout: Layout, rank: number): number[] | null {
  if ((layout === 'NCW' && rank === 3) || (layout === 'NCHW' && rank === 4) || (layout === 'NCDHW' && rank === 5)) {
    return [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
  }
  return null;
}

function fromLastPerm(layout: Layout, rank: number): number[] | null {
  if ((layout === 'NCW' && rank === 3) || (layout === 'NCHW' && rank === 4) || (layout === 'NCDHW' && rank === 5)) {
    return [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
  }
  return null;
}

/** A tensor in the file's layout -> channels-last (the same tensor when no change is needed). */
export function toChannelsLast(x: Tensor, layout: Layout): Tensor {
  const perm = toLastPerm(layout, x.rank);
  return perm ? tf.transpose(x, perm) : x;
}

/** A channels-last tensor -> the file's layout. */
export function fromChannelsLast(y: Tensor, layout: Layout): Tensor {
  const perm = fromLastPerm(layout, y.rank);
  return perm ? tf.transpose(y, perm) : y;
}

function asList(x: Tensor | Tensor[]): Tensor[] {
  return Array.isArray(x) ? x : [x];
}

/** Check a channels-last input against its Input node's shape (batch and null dims free). */
function checkFeed(graph: ModelGraph, index: number, x: Tensor): void {
  const spec = graph.inputs[index];
  const node = graph.nodes.find((n) => n.name === spec.node);
  const want: Shape = node?.outputShape ?? [];
  const ok = want.length === x.rank && want.every((d, i) => i === 0 || d === null || d === x.shape[i]);
  if (!ok) {
    throw new LensError('BAD_INPUT', `input ${spec.fileName} must have shape ${fmtShape(want)} (channels-last), got ${fmtShape(x.shape)}`, { file: graph.file });
  }
}

/**
 * Run the graph and call `keep` with each node's output; returns the tensors of `wanted` node names.
 * Tensors no later node needs are disposed as soon as possible (unless keepAll), so large models run
 * in bounded memory. Inputs are channels-last, one per graph input.
 */
function execute(graph: ModelGraph, inputs: Tensor[], wanted: string[], keepAll: boolean): Map<string, Tensor> {
  if (inputs.length !== graph.inputs.length) {
    throw new LensError('BAD_INPUT', `the model takes ${graph.inputs.length} input(s), got ${inputs.length}`, { file: graph.file });
  }
  inputs.forEach((x, i) => checkFeed(graph, i, x));
  const feeds = new Map(graph.inputs.map((s, i) => [s.node, inputs[i]]));
  const protectedTensors = new Set<Tensor>(inputs);
  const remaining = new Map<string, number>();
  for (const n of graph.nodes) for (const i of n.inbound) remaining.set(i, (remaining.get(i) ?? 0) + 1);
  const keep = new Set(wanted);
  const values = new Map<string, Tensor>();
  const liveCount = new Map<Tensor, number>();
  const hold = (name: string, t: Tensor) => {
    values.set(name, t);
    liveCount.set(t, (liveCount.get(t) ?? 0) + 1);
  };
  const release = (name: string) => {
    const t = values.get(name);
    if (!t) return;
    values.delete(name);
    const c = (liveCount.get(t) ?? 1) - 1;
    if (c > 0) liveCount.set(t, c);
    else {
      liveCount.delete(t);
      if (!protectedTensors.has(t)) t.dispose();
    }
  };
  try {
    for (const node of graph.nodes) {
      let y: Tensor;
      if (node.kind === 'Input') {
        const fed = feeds.get(node.name);
        if (!fed) throw new LensError('GRAPH_INVALID', `input layer ${node.name} is not fed`, { layer: node.name });
        y = fed;
      } else {
        const xs = node.inbound.map((i) => values.get(i) as Tensor);
        try {
          y = tf.tidy(() => {
            const out = kindOf(node).forward(node as never, xs, tf);
            return node.activation && node.activation.name !== 'linear' ? applyActivation(out, node.activation, tf) : out;
          });
        } catch (e) {
          if (e instanceof LensError) throw e.withLayer(node.name, graph.file);
          throw new LensError('SHAPE_MISMATCH', `layer ${node.name} (${node.kind}) failed on inputs ${xs.map((x) => fmtShape(x.shape)).join(', ')}: ${(e as Error).message}`, { file: graph.file, layer: node.name });
        }
      }
      hold(node.name, y);
      if (!keepAll) {
        for (const i of new Set(node.inbound)) {
          const left = (remaining.get(i) ?? 0) - node.inbound.filter((k) => k === i).length;
          remaining.set(i, left);
          if (left <= 0 && !keep.has(i)) release(i);
        }
      }
    }
  } catch (e) {
    for (const name of [...values.keys()]) release(name);
    throw e;
  }
  if (!keepAll) for (const name of [...values.keys()]) if (!keep.has(name)) release(name);
  return values;
}

/** All graph outputs, channels-last, for channels-last inputs. */
export function runGraphAll(graph: ModelGraph, inputs: Tensor | Tensor[]): Tensor[] {
  const wanted = graph.outputs.map((o) => o.node);
  const values = execute(graph, asList(inputs), wanted, false);
  const inputSet = new Set(asList(inputs));
  // An output that is an input tensor itself would alias the caller's tensor: hand back a copy.
  return wanted.map((w) => {
    const t = values.get(w) as Tensor;
    return inputSet.has(t) ? t.clone() : t;
  });
}

/** The first graph output, channels-last. The caller disposes it. */
export function runGraph(graph: ModelGraph, input: Tensor | Tensor[]): Tensor {
  const outs = runGraphAll(graph, input);
  for (const t of outs.slice(1)) t.dispose();
  return outs[0];
}

/**
 * Every node's activation (channels-last, after its fused activation), keyed by node name; what the LRP
 * engine walks back over. The caller disposes them (`disposeAll`). Nodes that pass a tensor through
 * (Identity) share it with their input.
 */
export function forwardAll(graph: ModelGraph, inputs: Tensor | Tensor[]): Map<string, Tensor> {
  const values = execute(graph, asList(inputs), graph.nodes.map((n) => n.name), true);
  const inputSet = new Set(asList(inputs));
  for (const [k, t] of values) if (inputSet.has(t)) values.set(k, t.clone());
  return values;
}

/** Dispose every tensor of a forwardAll map once (shared tensors included). */
export function disposeAll(values: Map<string, Tensor>): void {
  for (const t of new Set(values.values())) t.dispose();
}

/** Shape the file declares for input `index`, and its layout. */
export function inputSpec(graph: ModelGraph, index = 0): TensorSpec {
  const s = graph.inputs[index];
  if (!s) throw new LensError('BAD_INPUT', `the model has no input number ${index}`, { file: graph.file });
  return s;
}

/**
 * Array in the file's layout -> channels-last tensor. A missing batch dimension is added; the array
 * must otherwise match the file's declared (non-symbolic) dims.
 */
export function inputTensor(graph: ModelGraph, x: NdArray, index = 0): Tensor {
  const spec = inputSpec(graph, index);
  let shape = [...x.shape];
  const want = spec.fileShape;
  if (shape.length === want.length - 1) shape = [1, ...shape];
  const ok = shape.length === want.length && want.every((d, i) => i === 0 || d === null || d === shape[i]);
  if (!ok) {
    throw new LensError('BAD_INPUT', `input ${spec.fileName} must have shape ${fmtShape(want)} (${spec.fileLayout}), got ${fmtShape(x.shape)}`, { file: graph.file });
  }
  return tf.tidy(() => toChannelsLast(tf.tensor(toFloat32(x), shape, 'float32'), spec.fileLayout));
}

export interface PredictOptions {
  /** Samples per forward pass (default 64): bounds memory on large batches. */
  batchSize?: number;
}

/** Run on arrays in the file's layout; every output in the file's layout, as float32 arrays. */
export function predictAll(graph: ModelGraph, x: NdArray | NdArray[], opts: PredictOptions = {}): NdArray[] {
  const xs = Array.isArray(x) ? x : [x];
  if (xs.length !== graph.inputs.length) {
    throw new LensError('BAD_INPUT', `the model takes ${graph.inputs.length} input(s), got ${xs.length}`, { file: graph.file });
  }
  const batch = Math.max(1, Math.floor(opts.batchSize ?? 64));
  const full = xs.map((a, i) => inputTensor(graph, a, i));
  try {
    const n = full[0].shape[0];
    if (full.some((t) => t.shape[0] !== n)) throw new LensError('BAD_INPUT', 'the inputs differ in batch size', { file: graph.file });
    const parts: Float32Array[][] = graph.outputs.map(() => []);
    let outShapes: number[][] = [];
    for (let start = 0; start < n; start += batch) {
      const size = Math.min(batch, n - start);
      const ys = tf.tidy(() => {
        const chunk = full.map((t) => (size === n ? t : tf.slice(t, start, size)));
        return runGraphAll(graph, chunk).map((y, i) => fromChannelsLast(y, graph.outputs[i].fileLayout));
      });
      outShapes = ys.map((y) => y.shape);
      ys.forEach((y, i) => parts[i].push(y.dataSync() as Float32Array));
      tf.dispose(ys);
    }
    return parts.map((p, i) => {
      const total = p.reduce((a, b) => a + b.length, 0);
      const data = new Float32Array(total);
      let off = 0;
      for (const a of p) {
        data.set(a, off);
        off += a.length;
      }
      const shape = n === 0 ? [0] : [n, ...outShapes[i].slice(1)];
      return { shape, data, dtype: 'f4' as const };
    });
  } finally {
    tf.dispose(full);
  }
}

/** The first output of `predictAll`. */
export function predict(graph: ModelGraph, x: NdArray | NdArray[], opts: PredictOptions = {}): NdArray {
  return predictAll(graph, x, opts)[0];
}
