/**
 * Saves an echo state network as ONNX in the form torch.onnx.export writes for a PyTorch ESN module with a
 * Python loop over the time steps (nn.Linear layers, `u[:, t]`, x = (1 - a) x + a tanh(...)): per step a
 * Gather of the input step, two Gemm (transB = 1), Add, Tanh, two Mul and an Add; the zero initial state
 * as Shape -> Gather -> Unsqueeze -> Concat -> ConstantOfShape; the read-out as a last Gemm. This is the
 * pattern the ONNX loader folds back into one recurrent layer (server/src/core/model/formats/onnx-recurrence.ts),
 * so the sample is a file a PyTorch user could have produced. Encoded with onnx-proto (protobufjs), the
 * package the loader reads ONNX with. Layouts as in esn.ts (row-major, PyTorch's nn.Linear): W_in [N, F],
 * W_res [N, N], W_out [K, N].
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import onnxProto from 'onnx-proto';
import type { EsnWeights } from './esn.js';

type INode = onnxProto.onnx.INodeProto;
type ITensor = onnxProto.onnx.ITensorProto;
const { onnx } = onnxProto;
const AT = onnx.AttributeProto.AttributeType;
const DT = onnx.TensorProto.DataType;

function floats(name: string, dims: number[], v: ArrayLike<number>): ITensor {
  return { name, dims, dataType: DT.FLOAT, rawData: new Uint8Array(Float32Array.from(v).buffer) };
}

function int64s(name: string, dims: number[], v: number[]): ITensor {
  return { name, dims, dataType: DT.INT64, rawData: new Uint8Array(BigInt64Array.from(v.map(BigInt)).buffer) };
}

/** Writes `w` to `path` (an .onnx file, opset 13); returns the path. */
export function writeEsnOnnx(w: EsnWeights, path: string): string {
  const { T, F, leak } = w;
  const N = w.b_in.length;
  const K = w.b_out.length;
  const sizes: [keyof EsnWeights, number][] = [['W_in', N * F], ['W_res', N * N], ['b_res', N], ['W_out', K * N]];
  for (const [k, n] of sizes) if ((w[k] as Float64Array).length !== n) throw new Error(`esn-onnx: ${k} has ${(w[k] as Float64Array).length} values, expected ${n}`);
  if (!(leak > 0 && leak <= 1) || !(T >= 1) || !(F >= 1)) throw new Error(`esn-onnx: leak ${leak}, T ${T}, F ${F}`);

  const inits: ITensor[] = [
    floats('inp.weight', [N, F], w.W_in),
    floats('inp.bias', [N], w.b_in),
    floats('res.weight', [N, N], w.W_res),
    floats('res.bias', [N], w.b_res),
    floats('out.weight', [K, N], w.W_out),
    floats('out.bias', [K], w.b_out),
  ];
  const nodes: INode[] = [];
  const constant = (name: string, t: ITensor): string => {
    nodes.push({ name, opType: 'Constant', output: [name], attribute: [{ name: 'value', type: AT.TENSOR, t }] });
    return name;
  };
  const node = (opType: string, input: string[], name: string, attribute: onnxProto.onnx.IAttributeProto[] = []): string => {
    nodes.push({ name, opType, input, output: [name], attribute });
    return name;
  };
  const gemm = (x: string, layer: string, name: string) =>
    node('Gemm', [x, `${layer}.weight`, `${layer}.bias`], name, [
      { name: 'alpha', type: AT.FLOAT, f: 1 },
      { name: 'beta', type: AT.FLOAT, f: 1 },
      { name: 'transB', type: AT.INT, i: 1 },
    ]);

  // torch.zeros(u.shape[0], N): the state starts at zero for any batch size.
  const shape = node('Shape', ['u'], '/Shape');
  const batch = node('Gather', [shape, constant('/Constant_batch', int64s('', [], [0]))], '/Gather_batch', [{ name: 'axis', type: AT.INT, i: 0 }]);
  const batch1 = node('Unsqueeze', [batch, constant('/Constant_axes0', int64s('', [1], [0]))], '/Unsqueeze');
  const dims = node('Concat', [batch1, constant('/Constant_units', int64s('', [1], [N]))], '/Concat', [{ name: 'axis', type: AT.INT, i: 0 }]);
  let x = node('ConstantOfShape', [dims], '/ConstantOfShape', [{ name: 'value', type: AT.TENSOR, t: floats('', [1], [0]) }]);
  const keep = constant('/Constant_keep', floats('', [], [1 - leak]));
  const take = constant('/Constant_leak', floats('', [], [leak]));
  for (let t = 0; t < T; t++) {
    const ut = node('Gather', ['u', constant(`/Constant_t${t}`, int64s('', [], [t]))], `/Gather_${t}`, [{ name: 'axis', type: AT.INT, i: 1 }]);
    const pre = node('Add', [gemm(ut, 'inp', `/inp_${t}/Gemm`), gemm(x, 'res', `/res_${t}/Gemm`)], `/Add_${t}`);
    const h = node('Tanh', [pre], `/Tanh_${t}`);
    x = node('Add', [node('Mul', [x, keep], `/Mul_keep_${t}`), node('Mul', [h, take], `/Mul_leak_${t}`)], `/Add_state_${t}`);
  }
  nodes.push({ name: '/out/Gemm', opType: 'Gemm', input: [x, 'out.weight', 'out.bias'], output: ['y'], attribute: [
    { name: 'alpha', type: AT.FLOAT, f: 1 },
    { name: 'beta', type: AT.FLOAT, f: 1 },
    { name: 'transB', type: AT.INT, i: 1 },
  ] });

  const info = (name: string, d: (number | string)[]): onnxProto.onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: DT.FLOAT, shape: { dim: d.map((v) => (typeof v === 'number' ? { dimValue: v } : { dimParam: v })) } } },
  });
  const model: onnxProto.onnx.IModelProto = {
    irVersion: 7,
    producerName: 'lrp-lens esn-onnx',
    producerVersion: '1',
    opsetImport: [{ domain: '', version: 13 }],
    graph: { name: 'esn', node: nodes, initializer: inits, input: [info('u', ['N', T, F])], output: [info('y', ['N', K])] },
  };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish());
  return path;
}
