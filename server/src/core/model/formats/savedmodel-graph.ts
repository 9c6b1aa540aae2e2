/**
 * A SavedModel without a Keras config (Keras 3 `model.export()`, a subclassed model, a tf.Module):
 * its serving signature's op graph, with the function calls inlined, handed to the TensorFlow graph
 * importer (tf-graph-import.ts). Variables read inside the functions (ReadVariableOp of a captured
 * VarHandleOp) become constants from the checkpoint, found through the object graph by variable name.
 */
import { LensError, LIMITS } from '../../errors.js';
import type { FormatInfo, ModelGraph, WeightTensor } from '../graph.js';
import { importTfGraph, type TfAttr, type TfNode } from './tf-graph-import.js';
import { shapeDims, type AttrValue, type FunctionDef, type NodeDef, type SavedModelWithGraph, type TensorProto } from './savedmodel-proto.js';
import { ownTable } from '../../own-table.js';
import { decodeTfNumbers, tfDtypeBytes, tfDtypeName } from './tf-dtype.js';
import { dataRefs } from './tf-graph-util.js';

const CALL_OPS = new Set(['StatefulPartitionedCall', 'PartitionedCall']);
const MAX_CALL_DEPTH = 32;

const dtName = (n: number): string => tfDtypeName(n) ?? String(n);

/** Outputs of ops with several output arguments, in order (FunctionDef refs name the argument). */
const OUTPUT_ARGS: Record<string, string[]> = ownTable({
  FusedBatchNorm: ['y', 'batch_mean', 'batch_variance', 'reserve_space_1', 'reserve_space_2'],
  FusedBatchNormV3: ['y', 'batch_mean', 'batch_variance', 'reserve_space_1', 'reserve_space_2', 'reserve_space_3'],
});

const dec = new TextDecoder('utf-8', { fatal: false });

/** A TensorProto as float32 values, sizes checked against its shape. */
export function tensorValue(t: TensorProto, where: string, file: string): WeightTensor {
  const shape = shapeDims(t.tensor_shape);
  if (!shape) throw new LensError('CORRUPT', `constant ${where} has an unknown shape`, { file, layer: where });
  const n = shape.reduce((a, b) => a * b, 1);
  if (n > LIMITS.maxTensorElements) throw new LensError('SHAPE_LIMIT', `constant ${where} of shape [${shape}] exceeds the size limit`, { file, layer: where });
  const name = dtName(t.dtype);
  const size = tfDtypeBytes(name);
  // Half constants keep their values in half_val (as uint16 bits), which this reader does not take.
  if (size === undefined || name === 'DT_HALF') throw new LensError('UNSUPPORTED_CONFIG', `constant ${where} has type ${name}`, { file, layer: where });
  const c = t.tensor_content;
  if (c && c.length > 0) {
    if (c.length !== n * size) throw new LensError('CORRUPT', `constant ${where} holds ${c.length} bytes, its shape [${shape}] needs ${n * size}`, { file, layer: where });
    return { shape, data: decodeTfNumbers(c, name, n) };
  }
  const out = new Float32Array(n);
  const vals: ArrayLike<number | boolean> = t.dtype === 1 ? t.float_val : t.dtype === 2 ? t.double_val : t.dtype === 3 ? t.int_val : t.dtype === 9 ? t.int64_val : t.bool_val;
  if (vals.length !== n && vals.length > 1) throw new LensError('CORRUPT', `constant ${where} lists ${vals.length} values for shape [${shape}]`, { file, layer: where });
  // TF stores a constant filled with one value as that value once.
  for (let i = 0; i < n; i++) out[i] = Number(vals.length === 0 ? 0 : vals[Math.min(i, vals.length - 1)]);
  return { shape, data: out };
}

function attrOf(a: AttrValue, where: string, file: string): TfAttr {
  const out: TfAttr = {};
  if (a.list) {
    out.list = { s: a.list.s.map((x) => dec.decode(x)), i: a.list.i, f: a.list.f, type: a.list.type.map((x) => dtName(x)) };
  }
  if (a.s && a.s.length) out.s = dec.decode(a.s);
  if (a.i) out.i = a.i;
  if (a.f) out.f = a.f;
  if (a.b) out.b = a.b;
  if (a.type) out.type = dtName(a.type);
  if (a.shape) out.shape = a.shape.unknown_rank ? null : a.shape.dim.map((d) => (d.size < 0 ? null : d.size));
  // String and resource constants (file names for the saver, ...) are never values of the model's math.
  if (a.tensor && [1, 2, 3, 9, 10].includes(a.tensor.dtype)) out.tensor = tensorValue(a.tensor, where, file);
  return out;
}

/** Function-body reference "node:out_arg:i" or "arg" -> graph reference "prefix/node:k" (or the caller's tensor). */
function bodyRef(ref: string, prefix: string, args: Map<string, string>, ops: Map<string, string>, outArgs: Map<string, string[]>): string | null {
  if (ref.startsWith('^')) return null;
  const parts = ref.split(':');
  if (parts.length === 1) return args.get(ref) ?? `${prefix}/${ref}`;
  const [node, arg, idx] = parts;
  const i = Number(idx ?? 0);
  const op = ops.get(node) ?? '';
  const names = outArgs.get(node) ?? OUTPUT_ARGS[op];
  const base = names ? Math.max(0, names.indexOf(arg)) : 0;
  return `${prefix}/${node}:${base + i}`;
}

export interface GraphInputs {
  sm: SavedModelWithGraph;
  metaIndex: number;
  /** Checkpoint values of a variable by its name (SavedVariable.name / VarHandleOp shared_name); undefined if unknown. */
  variable(name: string): WeightTensor | undefined;
  file: string;
  name: string;
  format: FormatInfo;
}

/** The serving signature's graph, calls inlined, as a layer graph. */
export function savedModelGraph(src: GraphInputs): ModelGraph {
  const { file } = src;
  const mg = src.sm.meta_graphs[src.metaIndex];
  const sigs = mg?.signature_def ?? {};
  const sig = sigs.serving_default ?? Object.values(sigs).find((s) => s.method_name === 'tensorflow/serving/predict');
  if (!mg?.graph_def || !sig) throw new LensError('NO_ARCHITECTURE', 'the SavedModel has no serving signature', { file });
  const fns = new Map<string, FunctionDef>();
  for (const f of mg.graph_def.library?.function ?? []) if (f.signature) fns.set(f.signature.name, f);

  const nodes: TfNode[] = [];
  const alias = new Map<string, string>();
  // A function body inlined at several calls shares its decoded attributes (a large constant is decoded once).
  const attrs = new Map<NodeDef, Record<string, TfAttr>>();
  const local = new Map<string, string>();
  const add = (n: NodeDef, name: string, input: string[]) => {
    local.set(name, n.name);
    if (nodes.length >= LIMITS.maxNodes) throw new LensError('SHAPE_LIMIT', `the inlined graph has more than ${LIMITS.maxNodes} nodes`, { file });
    let attr = attrs.get(n);
    if (!attr) {
      attr = {};
      for (const [k, v] of Object.entries(n.attr)) if (k !== 'f') attr[k] = attrOf(v, name, file);
      attrs.set(n, attr);
    }
    nodes.push({ name, op: n.op, input, attr });
  };
  // Inline one call: the callee's nodes under `prefix`, its returns aliased to the call's outputs.
  const inline = (call: NodeDef, prefix: string, inputs: string[], depth: number): void => {
    const fname = call.attr.f?.func?.name ?? '';
    const fn = fns.get(fname);
    if (!fn || !fn.signature) throw new LensError('CORRUPT', `call ${prefix} names function '${fname}', which the SavedModel does not define`, { file, layer: prefix });
    if (depth > MAX_CALL_DEPTH) throw new LensError('UNSUPPORTED_CONFIG', `function calls nest deeper than ${MAX_CALL_DEPTH} at ${prefix}`, { file, layer: prefix });
    const args = new Map<string, string>();
    fn.signature.input_arg.forEach((a, i) => {
      if (inputs[i] !== undefined) args.set(a.name, inputs[i]);
    });
    const ops = new Map(fn.node_def.map((n) => [n.name, n.op]));
    const outArgs = new Map<string, string[]>();
    for (const n of fn.node_def) if (CALL_OPS.has(n.op)) outArgs.set(n.name, ['output']);
    for (const n of fn.node_def) {
      const ins = n.input.map((r) => bodyRef(r, prefix, args, ops, outArgs)).filter((r): r is string => r !== null);
      const name = `${prefix}/${n.name}`;
      if (CALL_OPS.has(n.op)) inline(n, name, ins, depth + 1);
      else add(n, name, ins);
    }
    fn.signature.output_arg.forEach((a, j) => {
      const r = fn.ret[a.name];
      const target = r === undefined ? undefined : bodyRef(r, prefix, args, ops, outArgs);
      if (target) alias.set(`${prefix}:${j}`, target);
    });
  };
  for (const n of mg.graph_def.node) {
    const ins = dataRefs(n.input);
    if (CALL_OPS.has(n.op)) inline(n, n.name, ins, 0);
    else add(n, n.name, ins);
  }
  // Follow aliases (a call's output -> the callee's return -> ...), bounded by the alias count.
  const resolve = (ref: string): string => {
    let r = ref.includes(':') ? ref : `${ref}:0`;
    for (let k = 0; k <= alias.size && alias.has(r); k++) r = alias.get(r) as string;
    return r.endsWith(':0') ? r.slice(0, -2) : r;
  };
  // Inlined nodes keep their name inside the function ("dense/MatMul") where that is unique.
  const count = new Map<string, number>();
  for (const n of nodes) count.set(local.get(n.name) as string, (count.get(local.get(n.name) as string) ?? 0) + 1);
  const short = (full: string): string => {
    const l = local.get(full);
    return l !== undefined && count.get(l) === 1 ? l : full;
  };
  const rename = (ref: string): string => {
    const m = /^(.*?)(:\d+)?$/.exec(ref) as RegExpExecArray;
    return short(m[1]) + (m[2] ?? '');
  };
  const byName = new Map<string, TfNode>();
  for (const n of nodes) {
    n.input = n.input.map((r) => rename(resolve(r)));
    n.name = short(n.name);
    byName.set(n.name, n);
  }
  const names = (m: Record<string, { name: string }>) => Object.keys(m).sort().map((k) => rename(resolve(m[k].name)));
  const outputs = names(sig.outputs);
  // What the outputs need (the graph also holds the saver, metrics and training functions).
  const needed = new Set<string>();
  const stack = outputs.map((o) => o.replace(/:\d+$/, ''));
  while (stack.length) {
    const n = byName.get(stack.pop() as string);
    if (!n || needed.has(n.name)) continue;
    needed.add(n.name);
    for (const i of n.input) stack.push(i.replace(/:\d+$/, ''));
  }
  // Variables: ReadVariableOp of a VarHandleOp -> the checkpoint's value.
  const consts = new Map<string, WeightTensor>();
  for (const n of nodes) {
    if (n.op !== 'ReadVariableOp' || n.input.length === 0 || !needed.has(n.name)) continue;
    const h = byName.get(n.input[0]);
    if (!h || h.op !== 'VarHandleOp') continue;
    const v = src.variable(h.attr.shared_name?.s || h.name);
    if (!v) throw new LensError('MISSING_WEIGHTS', `variable ${h.attr.shared_name?.s || h.name} (read by ${n.name}) is not in the checkpoint`, { file, layer: n.name });
    consts.set(n.name, v);
  }
  return importTfGraph({ nodes, consts, inputs: names(sig.inputs), outputs, file, name: src.name, format: src.format });
}
