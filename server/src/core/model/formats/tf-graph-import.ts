/**
 * A TensorFlow GraphDef (normalized nodes and constant values, from any container: TF.js graph models,
 * SavedModel signature graphs) -> the layer graph. Only the part of the graph the outputs depend on is
 * read; every op in it must have a translation (tf-graph-ops.ts) or the graph is refused naming the node.
 * Constant subgraphs are folded; linear ops take the bias, batch norm and activation after them.
 */
import type { FormatInfo, ModelGraph, Shape, TensorSpec, WeightTensor } from '../graph.js';
import { channelsLastLayout } from '../graph.js';
import { LensError, LIMITS, type ErrorCode } from '../../errors.js';

type Fail = (code: ErrorCode, message: string, layer?: string, hint?: string) => never;
import { type TfNode, CONVERT_HINT, Importer, parseRef } from './tf-graph-util.js';
import { TF_HANDLERS } from './tf-graph-ops.js';

export type { TfAttr, TfNode } from './tf-graph-util.js';

export interface TfGraphSource {
  nodes: TfNode[];
  /**
   * Constant values by node name (float32; integer constants exact below 2^24). A node named here is a
   * constant whatever its op (a SavedModel's ReadVariableOp resolved from the checkpoint); a Const node
   * not named here uses its inline `value` tensor.
   */
  consts: Map<string, WeightTensor>;
  /** Input tensor names ("x" or "x:0"); default: the Placeholders the outputs need, in file order. */
  inputs?: string[];
  /** Output tensor names; default: the nodes no other node reads. */
  outputs?: string[];
  file: string;
  name: string;
  format: FormatInfo;
}

const FLOAT_TYPES = new Set(['DT_FLOAT', 'DT_HALF', 'DT_DOUBLE', 'DT_BFLOAT16']);
const NO_DATA = new Set(['Const', 'Placeholder', 'NoOp']);

function dataInputs(n: TfNode): string[] {
  const out: string[] = [];
  for (const r of n.input) {
    const p = parseRef(r);
    if (p) out.push(p[0]);
  }
  return out;
}

/** The nodes the outputs depend on, inputs before users; GRAPH_CYCLE on a cycle through data edges. */
function reachableOrder(fail: Fail, byName: Map<string, TfNode>, roots: string[], leaf: (n: TfNode) => boolean): TfNode[] {
  const state = new Map<string, 1 | 2>();
  const order: TfNode[] = [];
  for (const root of roots) {
    if (state.has(root)) continue;
    const stack: [TfNode, number][] = [[byName.get(root) as TfNode, 0]];
    state.set(root, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const ins = leaf(top[0]) ? [] : dataInputs(top[0]);
      if (top[1] < ins.length) {
        const next = ins[top[1]++];
        const m = byName.get(next);
        if (!m) fail('GRAPH_INVALID', `node ${top[0].name} reads "${next}", which is not in the graph`, top[0].name);
        const s = state.get(next);
        if (s === 1) fail('GRAPH_CYCLE', `the op graph has a cycle through ${next} and ${top[0].name}`, next);
        if (s === undefined) {
          state.set(next, 1);
          stack.push([m, 0]);
        }
      } else {
        state.set(top[0].name, 2);
        order.push(top[0]);
        stack.pop();
      }
    }
  }
  return order;
}

export function importTfGraph(src: TfGraphSource): ModelGraph {
  const g = new Importer(src.file);
  const fail: Fail = (code, message, layer, hint) => g.fail(code, message, layer, hint);
  if (src.nodes.length > LIMITS.maxNodes) fail('SHAPE_LIMIT', `the graph has ${src.nodes.length} nodes, above the limit of ${LIMITS.maxNodes}`);
  const byName = new Map<string, TfNode>();
  for (const n of src.nodes) {
    if (byName.has(n.name)) fail('GRAPH_INVALID', `two nodes are named ${n.name}`, n.name);
    byName.set(n.name, n);
  }
  const strip = (ref: string, what: string): string => {
    const p = parseRef(ref);
    if (!p || !byName.has(p[0])) fail('GRAPH_INVALID', `the model's ${what} ${ref} names no node`, ref);
    if (p[1] !== 0) fail('UNSUPPORTED_CONFIG', `the model's ${what} ${ref} is not the first output of its node`, p[0]);
    return p[0];
  };
  let outputs = (src.outputs ?? []).map((o) => strip(o, 'output'));
  if (!outputs.length) {
    const read = new Set(src.nodes.flatMap(dataInputs));
    outputs = src.nodes.filter((n) => !read.has(n.name) && !NO_DATA.has(n.op)).map((n) => n.name);
  }
  if (!outputs.length) fail('GRAPH_INVALID', 'the graph has no outputs');
  const isConst = (n: TfNode): boolean => n.op === 'Const' || src.consts.has(n.name);
  const order = reachableOrder(fail, byName, outputs, isConst);

  // Refuse before translating: name the first op without a translation, and say why integer inputs cannot be explained.
  const intInputs = order.filter((n) => n.op === 'Placeholder' && !FLOAT_TYPES.has(n.attr.dtype?.type ?? 'DT_FLOAT'));
  const intNote = intInputs.length
    ? ` The model's input${intInputs.length > 1 ? 's' : ''} ${intInputs.map((n) => `${n.name} (${n.attr.dtype?.type})`).join(', ')} ${intInputs.length > 1 ? 'are' : 'is'} integer: ids and indices select rows of a table rather than scale a computation, so no relevance can flow back to them.`
    : '';
  const bad = order.find((n) => !isConst(n) && !NO_DATA.has(n.op) && !Object.hasOwn(TF_HANDLERS, n.op));
  if (bad) fail('UNSUPPORTED_OP', `node ${bad.name}: TensorFlow op ${bad.op} is not supported.${intNote}`, bad.name, CONVERT_HINT);
  if (intInputs.length) {
    fail('UNSUPPORTED_CONFIG', `input ${intInputs[0].name} has type ${intInputs[0].attr.dtype?.type}.${intNote}`, intInputs[0].name, 'explain a model whose inputs are the real-valued features (for an embedding network: one that takes the embedding vectors)');
  }

  for (const n of order) if (!isConst(n)) for (const i of dataInputs(n)) g.uses.set(i, (g.uses.get(i) ?? 0) + 1);
  for (const o of outputs) g.uses.set(o, (g.uses.get(o) ?? 0) + 1);

  const inputNames = src.inputs?.length ? src.inputs.map((i) => strip(i, 'input')) : order.filter((n) => n.op === 'Placeholder').map((n) => n.name);
  const inputs: TensorSpec[] = [];
  for (const name of inputNames) {
    const n = byName.get(name) as TfNode;
    if (n.op !== 'Placeholder') fail('GRAPH_INVALID', `the model's input ${name} is a ${n.op} node, not a Placeholder`, name);
    const declared = n.attr.shape?.shape;
    if (!declared || declared.length < 1) fail('UNSUPPORTED_CONFIG', `input ${name} declares no shape (unknown rank)`, name);
    const fileShape: Shape = [null, ...declared.slice(1)];
    const a = g.emit('Input', name, [], {}, { className: 'Placeholder', owner: name, shape: fileShape });
    g.values.set(name, { a });
    inputs.push({ node: a.node, fileName: name, fileShape, fileLayout: channelsLastLayout(fileShape) });
  }

  for (const n of order) {
    if (isConst(n)) {
      const w = src.consts.get(n.name) ?? n.attr.value?.tensor;
      if (!w) fail('MISSING_WEIGHTS', `constant ${n.name} has no value in the weights`, n.name);
      g.values.set(n.name, { c: { shape: [...w.shape], data: w.data } });
      continue;
    }
    if (n.op === 'Placeholder') {
      if (!g.values.has(n.name)) fail('GRAPH_INVALID', `placeholder ${n.name} is used but is not among the model's inputs`, n.name);
      continue;
    }
    if (n.op === 'NoOp') continue;
    try {
      g.values.set(n.name, TF_HANDLERS[n.op](g, n));
    } catch (e) {
      if (e instanceof LensError) throw e.withLayer(n.name, src.file);
      throw new LensError('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}) cannot be translated: ${(e as Error).message}`, { file: src.file, layer: n.name });
    }
  }

  const outSpecs: TensorSpec[] = outputs.map((name) => {
    const v = g.values.get(name);
    if (!v?.a) return fail('UNSUPPORTED_CONFIG', `output ${name} is a constant; it does not depend on the model's input`, name);
    return { node: v.a.node, fileName: name, fileShape: [...v.a.shape], fileLayout: channelsLastLayout(v.a.shape) };
  });
  return { file: src.file, name: src.name, format: src.format, inputs, outputs: outSpecs, nodes: g.nodes };
}
