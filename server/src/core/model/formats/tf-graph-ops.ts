/**
 * One TensorFlow op -> IR: the table from op name to translation. Ops not listed are refused by name
 * (UNSUPPORTED_OP) before any translation starts.
 */
import type { Handler } from './tf-graph-util.js';
import { conv2d, depthwiseConv2d, fusedBatchNorm, fusedConv2d, fusedDepthwiseConv2d, fusedMatmul, matmul, pool, reducePool } from './tf-graph-op-layers.js';
import { activation, binary } from './tf-graph-op-pointwise.js';
import { cast, concat, expandDims, identity, pack, pad, prod, reshape, resize, shapeOf, squeeze, stridedSlice, transpose } from './tf-graph-op-shape.js';

export const TF_HANDLERS: Record<string, Handler> = {
  Conv2D: conv2d,
  _FusedConv2D: fusedConv2d,
  DepthwiseConv2dNative: depthwiseConv2d,
  FusedDepthwiseConv2dNative: fusedDepthwiseConv2d,
  MatMul: matmul,
  _FusedMatMul: fusedMatmul,
  FusedBatchNorm: fusedBatchNorm,
  FusedBatchNormV2: fusedBatchNorm,
  FusedBatchNormV3: fusedBatchNorm,
  MaxPool: pool('max'),
  AvgPool: pool('avg'),
  Mean: reducePool('avg'),
  Max: reducePool('max'),
  Relu: activation,
  Relu6: activation,
  Elu: activation,
  Selu: activation,
  LeakyRelu: activation,
  Sigmoid: activation,
  Tanh: activation,
  Softplus: activation,
  Softsign: activation,
  Softmax: activation,
  LogSoftmax: activation,
  BiasAdd: binary,
  Add: binary,
  AddV2: binary,
  Sub: binary,
  Mul: binary,
  RealDiv: binary,
  Maximum: binary,
  Minimum: binary,
  Reshape: reshape,
  Squeeze: squeeze,
  ExpandDims: expandDims,
  ConcatV2: concat,
  Pad: pad,
  PadV2: pad,
  Transpose: transpose,
  ResizeNearestNeighbor: resize,
  ResizeBilinear: resize,
  Identity: identity,
  StopGradient: identity,
  Shape: shapeOf,
  StridedSlice: stridedSlice,
  Pack: pack,
  Prod: prod,
  Cast: cast,
};
