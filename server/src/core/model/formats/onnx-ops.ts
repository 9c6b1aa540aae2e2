/**
 * One ONNX node -> IR nodes: the table from op type to translation. Weights are converted to
 * channels-last in the translations (Conv OIHW -> [kh, kw, in, out], Gemm/MatMul -> Dense kernel
 * [in, out]); attribute differences between opsets are resolved there.
 */
import type { Handler } from './onnx-op-util.js';
import { batchNorm, conv, convTranspose, gemm, globalPool, matmul, pool, reducePool } from './onnx-op-layers.js';
import { clip, elementwise, prelu, selu, simpleActivation, softmax } from './onnx-op-pointwise.js';
import { cast, concat, flatten, identity, pad, reshape, resize, slice, squeezeLike, transpose } from './onnx-op-shape.js';
import { recurrentOp, timeMajorAware, transposeAcross } from './onnx-op-recurrent.js';
import { ownTable } from '../../own-table.js';

export type { OpContext } from './onnx-op-util.js';


export const HANDLERS: Readonly<Record<string, Handler>> = ownTable({
  Conv: conv,
  ConvTranspose: convTranspose,
  Gemm: gemm,
  MatMul: matmul,
  BatchNormalization: batchNorm,
  MaxPool: pool('max'),
  AveragePool: pool('avg'),
  GlobalAveragePool: globalPool('avg'),
  GlobalMaxPool: globalPool('max'),
  ReduceMean: reducePool('avg'),
  ReduceMax: reducePool('max'),
  Relu: simpleActivation(() => ({ name: 'relu' })),
  LeakyRelu: simpleActivation((a) => ({ name: 'leaky_relu', alpha: a.float('alpha', 0.01) })),
  Elu: simpleActivation((a) => ({ name: 'elu', alpha: a.float('alpha', 1) })),
  Selu: selu,
  Sigmoid: simpleActivation(() => ({ name: 'sigmoid' })),
  Tanh: simpleActivation(() => ({ name: 'tanh' })),
  HardSigmoid: simpleActivation((a) => ({ name: 'hard_sigmoid', alpha: a.float('alpha', 0.2), beta: a.float('beta', 0.5) })),
  Softplus: simpleActivation(() => ({ name: 'softplus' })),
  Softsign: simpleActivation(() => ({ name: 'softsign' })),
  Exp: simpleActivation(() => ({ name: 'exponential' })),
  Gelu: simpleActivation((a) => ({ name: 'gelu', approximate: a.string('approximate', 'none') === 'tanh' })),
  Clip: clip,
  PRelu: prelu,
  Softmax: softmax('softmax'),
  LogSoftmax: softmax('log_softmax'),
  Flatten: flatten,
  Reshape: timeMajorAware(reshape, 'Reshape'),
  Squeeze: timeMajorAware(squeezeLike(false), 'Squeeze'),
  RNN: recurrentOp('RNN'),
  LSTM: recurrentOp('LSTM'),
  GRU: recurrentOp('GRU'),
  Unsqueeze: squeezeLike(true),
  Transpose: transposeAcross(transpose),
  Identity: identity,
  Dropout: identity,
  Cast: cast,
  Pad: pad,
  Slice: slice,
  Upsample: resize,
  Resize: resize,
  Concat: concat,
  Add: elementwise,
  Sub: elementwise,
  Mul: elementwise,
  Div: elementwise,
  Sum: elementwise,
  Mean: elementwise,
  Max: elementwise,
  Min: elementwise,
});

