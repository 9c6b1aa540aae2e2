/**
 * The layer graph (IR) every loader produces and every later stage consumes.
 *
 * One internal layout: channels-last. A loader whose file is channels-first (ONNX from PyTorch)
 * converts weights to channels-last and records the file's layout on the input and output specs,
 * so `predict` can accept and return tensors in the file's own layout.
 *
 * Shapes include the batch dimension first (null when symbolic).
 */

export type Dim = number | null;
export type Shape = Dim[];

/** A float32 weight array, row-major (C order), with its shape. */
export interface WeightTensor {
  shape: number[];
  data: Float32Array;
}

export type ActivationName =
  | 'linear'
  | 'relu'
  | 'relu6'
  | 'leaky_relu'
  | 'elu'
  | 'selu'
  | 'tanh'
  | 'sigmoid'
  | 'hard_sigmoid'
  | 'softmax'
  | 'log_softmax'
  | 'swish'
  | 'gelu'
  | 'softplus'
  | 'softsign'
  | 'exponential';

export interface ActivationSpec {
  name: ActivationName;
  /** leaky_relu slope, elu alpha, hard_sigmoid slope (Keras 2 / ONNX default 0.2; Keras 3: 1/6); relu: Keras negative_slope. */
  alpha?: number;
  /** hard_sigmoid offset: clip(alpha x + beta, 0, 1); default 0.5. */
  beta?: number;
  /** softmax / log_softmax axis (channels-last, negative counts from the end). Default -1. */
  axis?: number;
  /** relu with a cap (Keras ReLU(max_value)); relu6 is relu with maxValue 6. */
  maxValue?: number;
  /** relu: Keras ReLU(threshold): x where x > threshold, else negative_slope (x - threshold). Default 0. */
  threshold?: number;
  /** gelu: tanh approximation (Keras approximate=True) or exact erf. */
  approximate?: boolean;
}

/** Padding resolved to explicit amounts per spatial dimension, [before, after]. */
export interface Padding {
  /** What the file said: 'same' and 'explicit' pad with zeros, 'valid' does not. */
  mode: 'valid' | 'same' | 'explicit' | 'causal';
  /** One [before, after] pair per spatial dimension, resolved by shape inference. */
  pads: [number, number][];
}

export interface DenseParams {
  units: number;
  useBias: boolean;
}

/** Conv over 1, 2 or 3 spatial dims. Kernel layout: [...kernelSize, inChannels / groups, filters]. */
export interface ConvParams {
  rank: 1 | 2 | 3;
  filters: number;
  kernelSize: number[];
  strides: number[];
  dilation: number[];
  padding: Padding;
  groups: number;
  useBias: boolean;
}

/**
 * Transposed conv (Keras Conv*Transpose, ONNX ConvTranspose with group 1) over 1, 2 or 3 spatial dims:
 * each input cell o scatters x[o] * kernel[k] onto output cell o * s + k * d - pads[0]. Kernel layout
 * (Keras's): [...kernelSize, filters, inChannels]. `padding.pads` resolves to [before, after] with
 * out = (in - 1) * s + (k - 1) * d + 1 - before - after; `after` is negative where the output reaches past
 * the last window (output_padding, Keras 'valid' with k < s): those cells get only the bias.
 */
export interface ConvTransposeParams {
  rank: 1 | 2 | 3;
  filters: number;
  kernelSize: number[];
  strides: number[];
  dilation: number[];
  /** 'valid' / 'same' resolve as Keras does; 'explicit' pads are [before, after] (after may be negative). */
  padding: Padding;
  /** Keras output_padding (null: Keras's default output size); ONNX's is folded into explicit pads. */
  outputPadding: number[] | null;
  useBias: boolean;
}

/**
 * PReLU: x for x >= 0, alpha * x otherwise, with a learned slope per position. Weight `alpha` has the
 * per-sample channels-last shape with 1 on shared (broadcast) axes.
 */
export interface PReLUParams {
  /** Keras shared_axes (1-based, batch excluded), for messages; the broadcast is in alpha's shape. */
  sharedAxes: number[];
}

/** Depthwise conv (rank 1 or 2). Kernel layout: [...kernelSize, inChannels, depthMultiplier]. */
export interface DepthwiseConvParams {
  rank: 1 | 2;
  depthMultiplier: number;
  kernelSize: number[];
  strides: number[];
  dilation: number[];
  padding: Padding;
  useBias: boolean;
}

export interface PoolParams {
  op: 'max' | 'avg';
  rank: 1 | 2 | 3;
  poolSize: number[];
  strides: number[];
  padding: Padding;
  /** ONNX ceil_mode: extra output cells from a partial last window. */
  ceilMode: boolean;
  /** Average pooling: whether padded cells count in the divisor (Keras 'same' does not count them). */
  countIncludePad: boolean;
}

export interface GlobalPoolParams {
  op: 'max' | 'avg';
  rank: 1 | 2 | 3;
  keepDims: boolean;
}

export interface FlattenParams {
  /** Flatten in channels-first order (ONNX/PyTorch semantics on our channels-last tensor). */
  channelsFirst: boolean;
}

export interface ReshapeParams {
  /** Target shape without the batch dim; -1 allowed once. Applied in channels-last order. */
  targetShape: number[];
}

export interface PermuteParams {
  /** Keras Permute dims: 1-based, batch excluded. */
  dims: number[];
}

export interface ZeroPaddingParams {
  rank: 1 | 2 | 3;
  pads: [number, number][];
}

export interface CroppingParams {
  rank: 1 | 2 | 3;
  crops: [number, number][];
}

export interface UpSamplingParams {
  rank: 1 | 2 | 3;
  size: number[];
  interpolation: 'nearest' | 'bilinear';
}

/** Weights: gamma, beta, movingMean, movingVariance (each [channels]); gamma/beta may be absent. */
export interface BatchNormParams {
  epsilon: number;
  /** Channel axis (channels-last): normally -1. */
  axis: number;
  center: boolean;
  scale: boolean;
}

export interface IdentityParams {
  /** The file's class (Dropout, GaussianNoise, ...): identity at inference. */
  originalClass: string;
}

export interface ActivationParams {
  activation: ActivationSpec;
}

export interface ConcatenateParams {
  /** Axis in the channels-last tensor including batch; negative counts from the end. */
  axis: number;
}

/**
 * A recurrent layer (Keras SimpleRNN / LSTM / GRU, optionally Bidirectional; ONNX RNN / LSTM / GRU) over
 * [batch, time, features], from a zero initial state. Weights in Keras's layout and gate order (ONNX is
 * converted): kernel [features, G*units], recurrentKernel [units, G*units], bias [G*units] (GRU with
 * resetAfter: [2, G*units], input bias then recurrent bias), G = 1 (simple), 4 (lstm: i, f, c, o) or
 * 3 (gru: z, r, h). A bidirectional layer's backward weights are backKernel, backRecurrentKernel, backBias.
 */
export interface RecurrentParams {
  cell: 'simple' | 'lstm' | 'gru';
  units: number;
  /** 'backward' runs from the last step to the first; 'bidirectional' runs both and merges them. */
  direction: 'forward' | 'backward' | 'bidirectional';
  /** Merge of the two directions (bidirectional only). */
  merge: 'concat' | 'sum' | 'mul' | 'ave' | null;
  /** Every step's output ([batch, time, out]) rather than the last one ([batch, out]). */
  returnSequences: boolean;
  /**
   * direction 'backward' with returnSequences: outputs in processing order (Keras go_backwards) rather than
   * aligned with the input steps (ONNX reverse; the backward half of a bidirectional layer is always aligned).
   */
  processingOrder: boolean;
  /** Cell activation (tanh by default): SimpleRNN's output, LSTM's candidate and cell output, GRU's candidate. */
  cellActivation: ActivationSpec;
  /** Gate activation (LSTM, GRU). */
  recurrentActivation: ActivationSpec;
  /** GRU: the reset gate multiplies (h U_h + b_rh) (Keras reset_after=True, ONNX linear_before_reset=1). */
  resetAfter: boolean;
  useBias: boolean;
  /**
   * Simple cell only: the leaky integrator of echo state networks, h = (1 - leak) h + leak act(x W + h U + b),
   * 0 < leak <= 1. Absent: 1 (a plain SimpleRNN).
   */
  leak?: number;
}

/** Every layer kind and its parameters: the one place that names what the IR can hold. */
export interface KindParams {
  Input: Record<string, never>;
  Dense: DenseParams;
  Conv: ConvParams;
  DepthwiseConv: DepthwiseConvParams;
  ConvTranspose: ConvTransposeParams;
  Pool: PoolParams;
  GlobalPool: GlobalPoolParams;
  Flatten: FlattenParams;
  Reshape: ReshapeParams;
  Permute: PermuteParams;
  ZeroPadding: ZeroPaddingParams;
  Cropping: CroppingParams;
  UpSampling: UpSamplingParams;
  BatchNorm: BatchNormParams;
  Identity: IdentityParams;
  Activation: ActivationParams;
  PReLU: PReLUParams;
  Add: Record<string, never>;
  Subtract: Record<string, never>;
  Average: Record<string, never>;
  Multiply: Record<string, never>;
  Maximum: Record<string, never>;
  Minimum: Record<string, never>;
  Concatenate: ConcatenateParams;
  Recurrent: RecurrentParams;
}

export type LayerKind = keyof KindParams;

/** Where a node came from, for messages and diagnostics. */
export interface NodeSource {
  /** The class or op type in the file (Conv2D, SeparableConv2D, Gemm, ...). */
  className: string;
  /** Character range [start, end) of this layer's entry in a JSON model file (TF.js model.json, Keras to_json). */
  jsonRange?: [number, number];
  /** Names of ONNX nodes folded into this one. */
  onnxNodes?: string[];
}

export interface LayerNodeOf<K extends LayerKind> {
  /** Unique in the graph; the file's layer name where there is one. */
  name: string;
  kind: K;
  /** Names of the nodes whose outputs feed this node, in argument order. */
  inbound: string[];
  params: KindParams[K];
  /** Named weights (Dense/Conv: kernel, bias; BatchNorm: gamma, beta, movingMean, movingVariance). */
  weights: Record<string, WeightTensor>;
  /** Fused activation applied after the layer's own op ('linear' = none). */
  activation: ActivationSpec;
  /** Output shape including batch (null batch). Filled by shape inference. */
  outputShape: Shape;
  source: NodeSource;
}

export type LayerNode = { [K in LayerKind]: LayerNodeOf<K> }[LayerKind];

export type Layout = 'NC' | 'NWC' | 'NCW' | 'NHWC' | 'NCHW' | 'NDHWC' | 'NCDHW' | 'other';

/** The channels-last layout of a tensor of this shape (batch first), by its rank. */
export function channelsLastLayout(shape: Shape): Layout {
  switch (shape.length) {
    case 2: return 'NC';
    case 3: return 'NWC';
    case 4: return 'NHWC';
    case 5: return 'NDHWC';
    default: return 'other';
  }
}

export interface TensorSpec {
  /** Node name in the graph (an Input node for inputs). */
  node: string;
  /** The name the file uses for it. */
  fileName: string;
  /** Shape as the file declares it, in the file's layout, batch first. */
  fileShape: Shape;
  /** Layout the file uses; 'other' when it is not a spatial tensor. */
  fileLayout: Layout;
}

export type FormatName = 'keras-h5' | 'keras-v3' | 'keras-json' | 'tfjs-layers' | 'tfjs-graph' | 'onnx' | 'savedmodel';

export interface FormatInfo {
  name: FormatName;
  /** Keras version, tfjs-layers version, ONNX opset, ... */
  version: string;
  /** Producer where the file says (PyTorch 2.1, keras2onnx, tfjs-layers 1.3.2, ...). */
  producer?: string;
}

export interface ModelGraph {
  /** Absolute path of the model file. */
  file: string;
  /** The model's name in the file. */
  name: string;
  format: FormatInfo;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** All nodes, in topological order (inputs first). */
  nodes: LayerNode[];
  /**
   * Layers of the file left out of the graph, and why: a custom layer and what depends on it, when some
   * outputs can be computed without it (those become the graph's outputs). Absent when nothing was left out.
   */
  omitted?: OmittedLayer[];
}

export interface OmittedLayer {
  /** The layer's name in the file. */
  layer: string;
  /** Its class in the file. */
  className: string;
  reason: string;
  /** The layer's parameters as the file stores them (custom layers), for the user to see what it was. */
  config?: Record<string, unknown>;
}

/** Find a node by name; throws when the graph is inconsistent (a loader bug, not bad input). */
export function nodeByName(graph: ModelGraph, name: string): LayerNode {
  const node = graph.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`graph has no node named ${name}`);
  return node;
}

/** Number of scalar parameters a node holds. */
export function paramCount(node: LayerNode): number {
  let n = 0;
  for (const w of Object.values(node.weights)) n += w.data.length;
  return n;
}

/** Nodes that consume the output of `name`. */
export function consumers(graph: ModelGraph, name: string): LayerNode[] {
  return graph.nodes.filter((n) => n.inbound.includes(name));
}

export const LINEAR: ActivationSpec = { name: 'linear' };
