/**
 * ONNX models -> the channels-last layer graph. PyTorch exports are NCHW: the input spec keeps the
 * file's layout, weights are converted, and flattens reorder (Flatten.channelsFirst). keras2onnx-style
 * exports with an NHWC input and Transpose nodes keep the input NHWC and the Transposes fold away.
 * Shape arithmetic (Shape/Gather/Unsqueeze/Concat/Constant) is evaluated at load time.
 *
 * Layers: Conv (1-3 D, pads/auto_pad, dilations, group; depthwise -> DepthwiseConv), ConvTranspose (1-3 D,
 * group 1, pads/output_padding/auto_pad, dilations; no output_shape), Gemm, MatMul(+Add)
 * -> Dense, BatchNormalization, Max/AveragePool (ceil_mode, count_include_pad), Global*Pool and spatial
 * ReduceMean/ReduceMax -> GlobalPool, Flatten/Reshape/Squeeze/Unsqueeze (flatten -> Flatten, others ->
 * [Permute +] Reshape), Transpose (bookkeeping only), Pad (zero) -> ZeroPadding/Cropping, spatial Slice ->
 * Cropping, Upsample/Resize (integer nearest, bilinear) -> UpSampling, Concat, Add/Sub/Mul/Max/Min/Sum/Mean
 * of activations -> merges, per-channel constant Add/Sub/Mul/Div -> folded into the preceding Conv/Dense or
 * a BatchNorm (mean 0, var 1, eps 0), activations (Relu, LeakyRelu, PRelu: one slope -> leaky ReLU, broadcast slopes -> PReLU, Elu, Selu,
 * Sigmoid, Tanh, HardSigmoid, Softplus, Softsign, Exp, Gelu and its Erf pattern, x*sigmoid(x), Clip(0, M),
 * Max(x, 0), Softmax, LogSoftmax), Dropout/Identity -> Identity. Anything else: UNSUPPORTED_OP.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import type { FormatModule, LoadOptions } from './format.js';
import type { Layout, ModelGraph, Shape, TensorSpec } from '../graph.js';
import { LensError } from '../../errors.js';
import { ONNX_HINTS, withDefaultHint } from './refusal-hints.js';
import { type Act, Builder, channelsLastAxes, identityAxes, irShape, sameAxes } from './onnx-build.js';
import { evalConst } from './onnx-const.js';
import { findGelu } from './onnx-fold.js';
import { sortGraph } from './onnx-graph.js';
import { HANDLERS, type OpContext } from './onnx-ops.js';
import { readsSequence } from './onnx-op-recurrent.js';
import { emitRecurrence, findRecurrence } from './onnx-recurrence.js';
import {
  Attrs, type ConstValue, type NodeProto, type Sym, type TensorContext, declaredShape, decodeModel, onnx, readTensor, toNum,
} from './onnx-proto.js';

/** The largest file read into memory (protobuf messages are limited to 2 GiB anyway). */
const MAX_FILE_BYTES = 2 * 1024 * 1024 * 1024 - 1;

const LAYOUTS: Record<number, [Layout, Layout]> = {
  // rank: [channels-first file layout, channels-last file layout]
  3: ['NCW', 'NWC'],
  4: ['NCHW', 'NHWC'],
  5: ['NCDHW', 'NDHWC'],
};

export const onnxFormat: FormatModule = {
  name: 'onnx',
  detect(path: string, head: Uint8Array): boolean {
    if (/\.onnx$/i.test(path)) return true;
    // A ModelProto starts with ir_version (field 1, varint), then producer/graph/opset fields.
    return head.length > 3 && head[0] === 0x08 && head[1] >= 3 && head[1] <= 12 && [0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42].includes(head[2]);
  },
  load: (path: string, _opts: LoadOptions): Promise<ModelGraph> =>
    loadOnnx(path).catch((e: unknown) => {
      throw withDefaultHint(e, ONNX_HINTS);
    }),
};

async function loadOnnx(path: string): Promise<ModelGraph> {
  const file = resolve(path);
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new LensError('FILE_NOT_FOUND', `model file not found: ${path}`, { file });
  }
  if (size > MAX_FILE_BYTES) throw new LensError('FILE_TOO_LARGE', `ONNX file is ${size} bytes, larger than 2 GiB`, { file });
  if (size === 0) throw new LensError('TRUNCATED', 'ONNX file is empty', { file });
  try {
    return convert(file, readFileSync(file));
  } catch (e) {
    if (e instanceof LensError) throw e.withFile(file);
    if (e instanceof RangeError) throw new LensError('TRUNCATED', `ONNX file is malformed: ${e.message}`, { file });
    throw new LensError('INTERNAL', `reading the ONNX model failed: ${e instanceof Error ? e.message : String(e)}`, { file });
  }
}

function convert(file: string, bytes: Uint8Array): ModelGraph {
  const model = decodeModel(bytes, file);
  const graph = model.graph!;
  const opsets = (model.opsetImport ?? []).filter((o) => !o.domain || o.domain === 'ai.onnx');
  if (opsets.length === 0) throw new LensError('CORRUPT', 'the ONNX file declares no ai.onnx opset', { file });
  const opset = toNum(opsets[0].version);
  if (!(opset >= 1 && opset <= 100)) throw new LensError('CORRUPT', `invalid opset version ${opset}`, { file });
  if ((graph.sparseInitializer ?? []).length > 0) throw new LensError('UNSUPPORTED_CONFIG', 'sparse initializers are not supported', { file });

  const b = new Builder(file);
  const tctx: TensorContext = { file, bytes: { total: 0 } };

  // Initializers (IR < 4 also lists them among the inputs).
  const initNames = new Set<string>();
  for (const t of graph.initializer ?? []) {
    const name = t.name ?? '';
    if (!name) throw new LensError('CORRUPT', 'an initializer has no name', { file });
    if (initNames.has(name)) throw new LensError('GRAPH_INVALID', `initializer "${name}" is defined twice`, { file });
    initNames.add(name);
  }
  const inputs = (graph.input ?? []).filter((v) => !initNames.has(v.name ?? ''));
  if (inputs.length === 0) throw new LensError('GRAPH_INVALID', 'the ONNX graph has no inputs', { file });
  if ((graph.output ?? []).length === 0) throw new LensError('GRAPH_INVALID', 'the ONNX graph has no outputs', { file });
  const sources = new Set<string>([...initNames, ...inputs.map((v) => v.name ?? '')]);
  const sorted = sortGraph(graph, file, sources);

  // Only initializers that live nodes read are decoded (checked before allocating).
  for (const t of graph.initializer ?? []) {
    if ((sorted.uses.get(t.name ?? '') ?? 0) > 0) b.values.set(t.name!, { c: readTensor(t, tctx) });
  }

  // Constant nodes have no inputs: evaluate them first, so pattern matching (and the
  // input layout, for a loop's Slice of one step) can read their values.
  for (const n of sorted.nodes) {
    if (n.opType === 'Constant' && (!n.domain || n.domain === 'ai.onnx')) {
      const name = sorted.names.get(n)!;
      b.values.set(n.output?.[0] ?? '', { c: constantValue(b, new Attrs(n, name), name, tctx) });
      b.constSrc.set(n.output?.[0] ?? '', [name]);
    }
  }

  // Inputs: NCHW (PyTorch) held channels-last, unless every consumer first transposes NHWC -> NCHW.
  const specs: TensorSpec[] = [];
  let fileBatch: number | null = null;
  for (const v of inputs) {
    const fileName = v.name ?? '';
    const elem = v.type?.tensorType?.elemType ?? 0;
    if (![1, 10, 11, 16].includes(elem)) {
      throw new LensError('UNSUPPORTED_CONFIG', `input "${fileName}" has element type ${onnx.TensorProto.DataType[elem] ?? elem}; only float inputs are supported`, { file });
    }
    const declared = declaredShape(v);
    if (!declared || declared.length === 0) throw new LensError('UNSUPPORTED_CONFIG', `input "${fileName}" declares no shape`, { file });
    if (declared.length > 5) throw new LensError('UNSUPPORTED_CONFIG', `input "${fileName}" has rank ${declared.length}`, { file });
    if (specs.length === 0) fileBatch = declared[0];
    const r = declared.length;
    const shape: Shape = [null, ...declared.slice(1)];
    const consumers = sorted.nodes.filter((n) => (n.input ?? []).includes(fileName));
    const toNchw = [0, r - 1, ...Array.from({ length: r - 2 }, (_, i) => i + 1)];
    const nhwc = r >= 3 && consumers.length > 0 && consumers.every((n) => (n.opType === 'Transpose' && sameAxes(new Attrs(n, '').ints('perm') ?? [], toNchw)) || readsSequence(n, (v) => b.get(v)?.c));
    const axes = nhwc ? identityAxes(r) : channelsLastAxes(r);
    const a: Act = { node: '', shape, axes };
    a.node = b.emit('Input', fileName, [], {} as Record<string, never>, { className: 'Input', outShape: irShape(a) });
    b.values.set(fileName, { a });
    const layout: Layout = r === 2 ? 'NC' : r >= 3 ? LAYOUTS[r][nhwc ? 1 : 0] : 'other';
    specs.push({ node: a.node, fileName, fileShape: declared, fileLayout: layout });
  }

  const ctx: OpContext = { opset, uses: sorted.uses, graphOutputs: new Set((graph.output ?? []).map((o) => o.name ?? '')), fileBatch };
  const plan = findGelu(sorted.nodes, sorted.uses, (v) => b.get(v)?.c, ctx.graphOutputs);
  // A recurrence a PyTorch export unrolled over the time steps -> one Recurrent node (onnx-recurrence.ts).
  const loop = findRecurrence(sorted, b, opset, new Map(inputs.map((v) => [v.name ?? '', declaredShape(v) ?? []])), ctx.graphOutputs);
  for (const n of sorted.nodes) {
    const name = sorted.names.get(n)!;
    if (n.opType === 'Constant' || plan.skip.has(n)) continue;
    try {
      const folded = loop.starts.get(n);
      if (folded) emitRecurrence(b, folded, name);
      if (loop.skip.has(n)) continue;
      const fused = plan.starts.get(n);
      if (fused) {
        const x = b.act(fused.input, name);
        const out: Act = { node: '', shape: x.shape, axes: x.axes };
        out.node = b.emit('Activation', name, [x.node], { activation: { name: 'gelu', approximate: false } }, {
          className: 'Gelu', onnxNodes: fused.nodes.map((q) => sorted.names.get(q)!), outShape: irShape(out),
        });
        b.values.set(fused.output, { a: out });
        continue;
      }
      convertNode(b, n, name, ctx, tctx);
    } catch (e) {
      if (e instanceof LensError) throw e.withLayer(name, file);
      throw new LensError('INTERNAL', `node ${name} (${n.opType}): ${e instanceof Error ? e.message : String(e)}`, { file, layer: name });
    }
  }

  // Outputs: back in the file's layout (channels-last IR, NCHW file) or NHWC where the IR already is.
  const outputs: TensorSpec[] = [];
  for (const o of graph.output ?? []) {
    const fileName = o.name ?? '';
    const v = b.get(fileName);
    if (!v?.a) throw new LensError('UNSUPPORTED_CONFIG', `output "${fileName}" is a constant, not computed from the input`, { file });
    let a = v.a;
    const r = a.shape.length;
    let layout: Layout = r === 2 ? 'NC' : 'other';
    if (r >= 3 && r <= 5) {
      if (sameAxes(a.axes, identityAxes(r))) layout = LAYOUTS[r][1];
      else {
        a = b.arrange(a, channelsLastAxes(r), `${fileName}/output`);
        layout = LAYOUTS[r][0];
      }
    } else if (r > 5) {
      a = b.arrange(a, identityAxes(r), `${fileName}/output`);
    }
    const declared = declaredShape(o);
    const fileShape: Shape = declared && declared.length === r ? declared : [...a.shape];
    outputs.push({ node: a.node, fileName, fileShape, fileLayout: layout });
  }

  const producer = [model.producerName, model.producerVersion].filter((s) => s).join(' ');
  return {
    file,
    name: graph.name || basename(file, extname(file)),
    format: { name: 'onnx', version: `opset ${opset}`, ...(producer ? { producer } : {}) },
    inputs: specs,
    outputs,
    nodes: b.nodes,
  };
}

function convertNode(b: Builder, n: NodeProto, name: string, ctx: OpContext, tctx: TensorContext): void {
  const before = new Set(b.nodes.map((x) => x.name));
  convertOne(b, n, name, ctx, tctx);
  // Record the constant subgraph (e.g. Shape -> Gather -> Concat) folded into the new node's parameters.
  const src = [...new Set((n.input ?? []).flatMap((i) => b.constSrc.get(i) ?? []))];
  const outs = (n.output ?? []).filter((o) => b.get(o)?.c);
  if (outs.length > 0) {
    for (const o of outs) b.constSrc.set(o, [...src, name]);
    return;
  }
  if (src.length === 0) return;
  for (const x of b.nodes) {
    if (!before.has(x.name) && x.source.onnxNodes?.includes(name)) x.source.onnxNodes = [...new Set([...src, ...x.source.onnxNodes])];
  }
}

function convertOne(b: Builder, n: NodeProto, name: string, ctx: OpContext, tctx: TensorContext): void {
  const op = n.opType ?? '';
  if (n.domain && n.domain !== 'ai.onnx') {
    b.fail('UNSUPPORTED_OP', `node ${name}: op ${n.domain}.${op} is not a standard ONNX op`, name);
  }
  const outs = n.output ?? [];
  const attrs = new Attrs(n, name);

  if (op === 'Constant') {
    b.values.set(outs[0], { c: constantValue(b, attrs, name, tctx) });
    return;
  }
  if (op === 'Shape' || op === 'Size') {
    const v = b.get(n.input?.[0] ?? '');
    if (!v) b.fail('GRAPH_INVALID', `node ${name} reads an undefined value`, name);
    if (v.a && v.a.axes[0] !== 0) b.fail('UNSUPPORTED_CONFIG', `node ${name}: ${op} of a time-major tensor (around a recurrent op) is not supported`, name);
    const dims: Sym[] = v.a ? v.a.shape.map((d, i) => (i === 0 ? 'N' : d === null ? '?' : d)) : v.c!.dims;
    if (op === 'Size') {
      const known = dims.every((d) => typeof d === 'number');
      b.values.set(outs[0], { c: { dims: [], ints: [known ? (dims as number[]).reduce((p, q) => p * q, 1) : '?'] } });
      return;
    }
    const r = dims.length;
    const clamp = (x: number): number => Math.min(Math.max(x < 0 ? x + r : x, 0), r);
    const start = clamp(attrs.int('start', 0));
    const end = attrs.has('end') ? clamp(attrs.int('end', r)) : r;
    const sl = dims.slice(start, Math.max(start, end));
    b.values.set(outs[0], { c: { dims: [sl.length], ints: sl } });
    return;
  }

  const ins = (n.input ?? []).filter((i) => i);
  const vals = ins.map((i) => b.get(i));
  if (vals.some((v) => !v)) b.fail('GRAPH_INVALID', `node ${name} reads an undefined value`, name);
  if (vals.length > 0 && vals.every((v) => v!.c)) {
    // Constant subgraph: evaluate now (inputs by position, "" for absent optional ones).
    const byPos = (n.input ?? []).map((i) => (i ? b.get(i)!.c : undefined)) as (ConstValue | undefined)[];
    const res = evalConst(n, byPos, ctx.opset, name);
    if (res) {
      res.forEach((c, i) => outs[i] && b.values.set(outs[i], { c }));
      return;
    }
    if (!HANDLERS[op]) b.fail('UNSUPPORTED_OP', `node ${name}: op ${op} is not supported`, name);
    b.fail('UNSUPPORTED_CONFIG', `node ${name}: ${op} on constants only cannot be evaluated at load time`, name);
  }
  const handler = HANDLERS[op];
  if (!handler) b.fail('UNSUPPORTED_OP', `node ${name}: op ${op} is not supported`, name);
  handler(b, n, name, ctx);
}

function constantValue(b: Builder, attrs: Attrs, name: string, tctx: TensorContext): ConstValue {
  const t = attrs.tensor('value');
  if (t) return readTensor(t, tctx, name);
  if (attrs.has('value_float')) return { dims: [], float: Float32Array.of(attrs.float('value_float', 0)) };
  if (attrs.has('value_floats')) {
    const f = attrs.floats('value_floats')!;
    return { dims: [f.length], float: Float32Array.from(f) };
  }
  if (attrs.has('value_int')) return { dims: [], ints: [attrs.int('value_int', 0)] };
  if (attrs.has('value_ints')) {
    const v = attrs.ints('value_ints')!;
    return { dims: [v.length], ints: v };
  }
  return b.fail('UNSUPPORTED_CONFIG', `node ${name}: Constant of kind ${attrs.names().join(', ') || '(none)'} is not supported`, name);
}
