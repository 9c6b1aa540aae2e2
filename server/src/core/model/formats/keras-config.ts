/**
 * Keras model config (Keras 2, Keras 3, tfjs-layers) -> IR nodes. The one place that knows Keras layer
 * classes; every Keras-family loader (HDF5, .keras zip, to_json pair, TF.js layers) parses its
 * container, then hands the config and a weight provider to `buildKerasGraph`.
 *
 * Choices: a channels_first layer runs channels-last between two generated Permute nodes
 * (`<name>/to_channels_last`, `<name>/to_channels_first`); back-to-back pairs cancel, and a pair at a model
 * input or output becomes that spec's file layout (NCHW...), so `predict` keeps the file's layout. A shared
 * layer (several inbound nodes) becomes one node per call (`<name>`, `<name>_1`, ...) with copies of the
 * same weights. Normalization and Rescaling become BatchNorm (exact affine maps). SeparableConv is split into `<name>/depthwise` (DepthwiseConv)
 * followed by `<name>` (1x1 Conv with the bias and the fused activation); Conv*Transpose maps to
 * ConvTranspose (Keras's kernel layout kept) and PReLU to PReLU.
 */
import { directionKeys, gateCount } from '../kinds/recurrent.js';
import { LensError, LIMITS, type ErrorCode } from '../../errors.js';
import type {
  ActivationName, ActivationSpec, FormatInfo, KindParams, LayerKind, LayerNode, ModelGraph, Padding, Shape,
  TensorSpec, WeightTensor, OmittedLayer, RecurrentParams,
} from '../graph.js';
import { LINEAR, channelsLastLayout } from '../graph.js';
import type { JsonValue } from '../../json/located-json.js';
import { normalizationWeights, rescalingWeights } from './keras-preprocessing.js';
import { KERAS_HINTS } from './refusal-hints.js';
import { type KerasLayoutFixups, moveToLastDims, inverseDims, newFixups, permuteNode, settleKerasLayouts } from './keras-layout.js';
import { ownTable } from '../../own-table.js';
import { customLayerMessage, omitCustomLayers } from './keras-custom-layers.js';

type Obj = { [key: string]: JsonValue };

/** One weight as a container lists it: the name it stores (any prefix, `:0` suffix) and its shape. */
export interface RawWeight {
  name: string;
  shape: number[];
  /** Read the values (called only after the shape was checked). */
  read(): Float32Array;
}

/** Where a layer sits among the model's layers (Keras 3 saving_lib names weight groups by class and count). */
export interface LayerPlace {
  className: string;
  /** How many layers of the same class come before it in the config's layer list. */
  classIndex: number;
}

/** The weights a container holds for a layer, in stored order; null when the layer has no weight group. */
export type WeightProvider = (layerName: string, place: LayerPlace) => RawWeight[] | null;

/** Keras' naming.to_snake_case (Conv2D -> conv2d, BatchNormalization -> batch_normalization). */
export function kerasSnakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** The group path Keras 3 saving_lib gives a layer inside `layers/`: snake-cased class, `_k` for the k-th repeat. */
export function varsPathOf(place: LayerPlace): string {
  const base = kerasSnakeCase(place.className);
  return place.classIndex === 0 ? base : `${base}_${place.classIndex}`;
}

export interface KerasBuildOptions {
  file: string;
  format: FormatInfo;
  weights: WeightProvider;
  /** Character range of a config object in a JSON model file (for source.jsonRange). */
  rangeOf?: (v: unknown) => [number, number] | undefined;
  /** 3 for Keras 3 files (hard_sigmoid slope differs); 2 otherwise. */
  kerasMajor?: number;
}

// ---------------------------------------------------------------------------------------------------
// small readers of config values

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

class Ctx {
  constructor(readonly file: string, readonly kerasMajor: number, readonly tfjs = false) {}
  err(code: ErrorCode, msg: string, layer?: string, hint?: string): never {
    throw new LensError(code, msg, { file: this.file, layer, hint: hint ?? KERAS_HINTS[code] });
  }
}

interface LayerEntry {
  className: string;
  name: string;
  config: Obj;
  raw: Obj;
  inbound: string[];
  /** An Input node made up for a Sequential model without an InputLayer entry. */
  synthetic?: boolean;
  place?: LayerPlace;
  /** Each call's inputs (Functional; a shared layer has several calls). */
  calls?: LayerRef[][];
  /** The layer whose weights this entry uses: itself, or the shared layer it is a later call of. */
  weightsOf?: string;
  /** A custom (unknown-class) layer: the CUSTOM_LAYER message (Functional models may load without it). */
  custom?: string;
}

function checkDim(ctx: Ctx, layer: string, what: string, v: unknown, allowZero = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) ctx.err('UNSUPPORTED_CONFIG', `layer ${layer}: ${what} must be a number, got ${JSON.stringify(v)}`, layer);
  if (v > LIMITS.maxTensorElements) ctx.err('SHAPE_LIMIT', `layer ${layer}: ${what} = ${v} exceeds the limit ${LIMITS.maxTensorElements}`, layer);
  if (!Number.isInteger(v) || v < (allowZero ? 0 : 1)) ctx.err('UNSUPPORTED_CONFIG', `layer ${layer}: ${what} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${v}`, layer);
  return v;
}

/** A number or a list of `rank` numbers (Keras writes both). */
function tuple(ctx: Ctx, layer: string, what: string, v: unknown, rank: number, allowZero = false): number[] {
  if (typeof v === 'number') return new Array<number>(rank).fill(checkDim(ctx, layer, what, v, allowZero));
  if (Array.isArray(v) && v.length === 1 && rank > 1 && typeof v[0] === 'number') {
    return new Array<number>(rank).fill(checkDim(ctx, layer, what, v[0], allowZero));
  }
  if (!Array.isArray(v) || v.length !== rank) ctx.err('UNSUPPORTED_CONFIG', `layer ${layer}: ${what} must be ${rank} number(s), got ${JSON.stringify(v)}`, layer);
  return v.map((x) => checkDim(ctx, layer, what, x, allowZero));
}

/** The window of a Keras conv layer (Conv, ConvTranspose, DepthwiseConv, SeparableConv): kernel_size, strides, dilation_rate. */
function convWindow(ctx: Ctx, layer: string, c: Record<string, unknown>, rank: number): { kernelSize: number[]; strides: number[]; dilation: number[] } {
  const kernelSize = tuple(ctx, layer, 'kernel_size', c.kernel_size, rank);
  const strides = tuple(ctx, layer, 'strides', c.strides ?? 1, rank);
  const dilation = tuple(ctx, layer, 'dilation_rate', c.dilation_rate ?? 1, rank);
  return { kernelSize, strides, dilation };
}

/** Pairs [before, after] per spatial dim from Keras' padding/cropping forms: n, [a, b] (per dim), [[a, b], ...]. */
function pairs(ctx: Ctx, layer: string, what: string, v: unknown, rank: number): [number, number][] {
  if (typeof v === 'number') {
    const n = checkDim(ctx, layer, what, v, true);
    return new Array(rank).fill(0).map(() => [n, n] as [number, number]);
  }
  if (Array.isArray(v)) {
    if (rank === 1 && v.length === 2 && v.every((x) => typeof x === 'number')) {
      return [[checkDim(ctx, layer, what, v[0], true), checkDim(ctx, layer, what, v[1], true)]];
    }
    if (v.length === rank) {
      return v.map((p) => {
        if (typeof p === 'number') {
          const n = checkDim(ctx, layer, what, p, true);
          return [n, n] as [number, number];
        }
        if (Array.isArray(p) && p.length === 2) return [checkDim(ctx, layer, what, p[0], true), checkDim(ctx, layer, what, p[1], true)] as [number, number];
        return ctx.err('UNSUPPORTED_CONFIG', `layer ${layer}: bad ${what} ${JSON.stringify(v)}`, layer);
      });
    }
  }
  return ctx.err('UNSUPPORTED_CONFIG', `layer ${layer}: bad ${what} ${JSON.stringify(v)}`, layer);
}

function bool(v: unknown, dflt: boolean): boolean {
  return typeof v === 'boolean' ? v : dflt;
}

function num(ctx: Ctx, layer: string, what: string, v: unknown, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || Number.isNaN(v)) ctx.err('UNSUPPORTED_CONFIG', `layer ${layer}: ${what} must be a number, got ${JSON.stringify(v)}`, layer);
  return v;
}

function paddingMode(ctx: Ctx, layer: string, v: unknown, allowCausal: boolean): Padding {
  const s = typeof v === 'string' ? v.toLowerCase() : v;
  if (s === 'same' || s === 'valid' || (allowCausal && s === 'causal')) return { mode: s, pads: [] };
  return ctx.err('UNSUPPORTED_CONFIG', `layer ${layer}: padding ${JSON.stringify(v)} is not supported`, layer);
}

/** True for channels_first (the caller wraps the layer in Permutes); refuses unknown data formats. */
function checkChannelsLast(ctx: Ctx, e: LayerEntry): boolean {
  const df = e.config.data_format;
  if (df === undefined || df === null || df === 'channels_last') return false;
  if (df === 'channels_first') return true;
  return ctx.err('UNSUPPORTED_CONFIG', `layer ${e.name}: unknown data_format ${JSON.stringify(df)}`, e.name, "use data_format 'channels_last' or 'channels_first' and re-save");
}

// ---------------------------------------------------------------------------------------------------
// activations

const ACTIVATIONS: Record<string, ActivationName> = ownTable({
  linear: 'linear', relu: 'relu', relu6: 'relu6', leaky_relu: 'leaky_relu', leakyrelu: 'leaky_relu', elu: 'elu',
  selu: 'selu', tanh: 'tanh', sigmoid: 'sigmoid', hard_sigmoid: 'hard_sigmoid', hardsigmoid: 'hard_sigmoid',
  softmax: 'softmax', log_softmax: 'log_softmax', logsoftmax: 'log_softmax', swish: 'swish', silu: 'swish',
  gelu: 'gelu', gelu_new: 'gelu', softplus: 'softplus', softsign: 'softsign', exponential: 'exponential',
});

/** A Keras activation as written in a config: a name, or (Keras 3) a serialized function object. */
export function parseActivation(ctx: Ctx, layer: string, v: unknown): ActivationSpec {
  if (v === undefined || v === null) return LINEAR;
  let name: unknown = v;
  if (isObj(v)) name = typeof v.config === 'string' ? v.config : isObj(v.config) && typeof v.config.name === 'string' ? v.config.name : v.class_name;
  if (typeof name !== 'string') return ctx.err('UNSUPPORTED_CONFIG', `layer ${layer}: cannot read activation ${JSON.stringify(v)}`, layer);
  const key = name.replace(/^(keras\.activations\.|activations\.)/, '').toLowerCase();
  const kind = ACTIVATIONS[key];
  if (!kind) return ctx.err('UNSUPPORTED_CONFIG', `layer ${layer}: activation '${name}' is not supported`, layer);
  switch (kind) {
    case 'linear':
      return LINEAR;
    case 'leaky_relu':
      return { name: kind, alpha: 0.2 };
    case 'elu':
      return { name: kind, alpha: 1 };
    case 'hard_sigmoid':
      return ctx.kerasMajor >= 3 ? { name: kind, alpha: 1 / 6, beta: 0.5 } : { name: kind, alpha: 0.2, beta: 0.5 };
    case 'softmax':
    case 'log_softmax':
      return { name: kind, axis: -1 };
    case 'gelu':
      return { name: kind, approximate: key === 'gelu_new' };
    default:
      return { name: kind };
  }
}

// ---------------------------------------------------------------------------------------------------
// classes

const IDENTITY_CLASSES = new Set([
  'Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'SpatialDropout3D', 'GaussianNoise', 'GaussianDropout',
  'AlphaDropout', 'ActivityRegularization', 'Identity',
]);

const MERGE_CLASSES: Record<string, LayerKind> = ownTable({
  Add: 'Add', Subtract: 'Subtract', Average: 'Average', Multiply: 'Multiply', Maximum: 'Maximum', Minimum: 'Minimum',
});

/** Keras classes we know but cannot hold in the IR: refused as UNSUPPORTED_LAYER (not "custom"). */
const KNOWN_UNSUPPORTED = new Set([
  'RNN', 'ConvLSTM1D', 'ConvLSTM2D', 'ConvLSTM3D',
  'CuDNNLSTM', 'CuDNNGRU', 'LSTMCell', 'GRUCell', 'SimpleRNNCell', 'StackedRNNCells',
  'LocallyConnected1D', 'LocallyConnected2D', 'Embedding', 'Attention', 'AdditiveAttention', 'MultiHeadAttention',
  'GroupQueryAttention', 'LayerNormalization', 'GroupNormalization', 'UnitNormalization', 'SpectralNormalization',
  'Resizing', 'CenterCrop', 'RandomCrop', 'RandomFlip', 'RandomRotation', 'RandomZoom',
  'RandomContrast', 'RandomTranslation', 'RandomBrightness', 'Discretization', 'CategoryEncoding', 'Hashing',
  'StringLookup', 'IntegerLookup', 'TextVectorization', 'Dot', 'RepeatVector', 'Masking',
  'TFOpLambda', 'SlicingOpLambda', 'EinsumDense', 'Wrapper', 'Sequential', 'Functional', 'Model',
  'DenseFeatures', 'CategoryCrossing', 'HashedCrossing', 'Conv2DLSTM', 'BatchNormalizationV1', 'TorchModuleWrapper',
  'JaxLayer', 'FlaxLayer', 'TFSMLayer',
]);

/** Layer classes that carry weights: which Keras names each IR weight goes by, in stored order. */
interface WeightSlot {
  /** Node that receives it (SeparableConv has two) and its key there. */
  node: string;
  key: string;
  aliases: string[];
  /** Stored but not used (Normalization's count): never read, may be absent. */
  unused?: boolean;
}

interface Mapped {
  nodes: LayerNode[];
  slots: WeightSlot[];
  /** Extra shape checks once the weights' shapes are known. */
  check?: (shapes: Record<string, number[]>) => string | undefined;
  /** Turn the stored weights into the node's (Normalization -> BatchNorm), once attached; true: broadcast them. */
  finish?: () => boolean;
  /** The BatchNorm's weights hold one value for every channel (broadcast once shapes are known). */
  broadcast?: boolean;
  /** Take the stored weights in order, never by name (a Bidirectional layer stores two `kernel`s). */
  ordered?: boolean;
}

function node<K extends LayerKind>(
  e: LayerEntry,
  kind: K,
  params: KindParams[K],
  opts: { name?: string; inbound?: string[]; activation?: ActivationSpec; range?: [number, number] } = {},
): LayerNode {
  return {
    name: opts.name ?? e.name,
    kind,
    inbound: opts.inbound ?? e.inbound,
    params,
    weights: {},
    activation: opts.activation ?? LINEAR,
    outputShape: [],
    source: { className: e.className, ...(opts.range ? { jsonRange: opts.range } : {}) },
  } as LayerNode;
}

const CONV_RANK: Record<string, 1 | 2 | 3> = ownTable({
  Conv1D: 1, Conv2D: 2, Conv3D: 3, Convolution1D: 1, Convolution2D: 2, Convolution3D: 3,
});
const CONV_TRANSPOSE_RANK: Record<string, 1 | 2 | 3> = ownTable({
  Conv1DTranspose: 1, Conv2DTranspose: 2, Conv3DTranspose: 3, Convolution1DTranspose: 1, Convolution2DTranspose: 2,
  Convolution3DTranspose: 3, Deconvolution2D: 2, Deconvolution3D: 3,
});
const POOL: Record<string, ['max' | 'avg', 1 | 2 | 3]> = ownTable({
  MaxPooling1D: ['max', 1], MaxPooling2D: ['max', 2], MaxPooling3D: ['max', 3],
  MaxPool1D: ['max', 1], MaxPool2D: ['max', 2], MaxPool3D: ['max', 3],
  AveragePooling1D: ['avg', 1], AveragePooling2D: ['avg', 2], AveragePooling3D: ['avg', 3],
  AvgPool1D: ['avg', 1], AvgPool2D: ['avg', 2], AvgPool3D: ['avg', 3],
});
const GLOBAL_POOL: Record<string, ['max' | 'avg', 1 | 2 | 3]> = ownTable({
  GlobalMaxPooling1D: ['max', 1], GlobalMaxPooling2D: ['max', 2], GlobalMaxPooling3D: ['max', 3],
  GlobalMaxPool1D: ['max', 1], GlobalMaxPool2D: ['max', 2], GlobalMaxPool3D: ['max', 3],
  GlobalAveragePooling1D: ['avg', 1], GlobalAveragePooling2D: ['avg', 2], GlobalAveragePooling3D: ['avg', 3],
  GlobalAvgPool1D: ['avg', 1], GlobalAvgPool2D: ['avg', 2], GlobalAvgPool3D: ['avg', 3],
});
const RANKED: Record<string, ['ZeroPadding' | 'Cropping' | 'UpSampling', 1 | 2 | 3]> = ownTable({
  ZeroPadding1D: ['ZeroPadding', 1], ZeroPadding2D: ['ZeroPadding', 2], ZeroPadding3D: ['ZeroPadding', 3],
  Cropping1D: ['Cropping', 1], Cropping2D: ['Cropping', 2], Cropping3D: ['Cropping', 3],
  UpSampling1D: ['UpSampling', 1], UpSampling2D: ['UpSampling', 2], UpSampling3D: ['UpSampling', 3],
});

const RECURRENT_CELLS: Record<string, 'simple' | 'lstm' | 'gru'> = ownTable({ SimpleRNN: 'simple', LSTM: 'lstm', GRU: 'gru' });

/** Every class mapLayer can turn into nodes (others are refused there). */
const SUPPORTED_CLASSES = new Set([
  'InputLayer', 'Dense', 'DepthwiseConv2D', 'DepthwiseConv1D', 'SeparableConv2D', 'SeparableConv1D', 'SeparableConvolution2D',
  'SeparableConvolution1D', 'Flatten', 'Reshape', 'Permute', 'BatchNormalization', 'SyncBatchNormalization', 'Activation',
  'ReLU', 'LeakyReLU', 'ELU', 'Softmax', 'ThresholdedReLU', 'Concatenate', 'Normalization', 'Rescaling',
  'PReLU', ...Object.keys(CONV_RANK), ...Object.keys(CONV_TRANSPOSE_RANK), ...Object.keys(POOL), ...Object.keys(GLOBAL_POOL), ...Object.keys(RANKED),
  ...IDENTITY_CLASSES, ...Object.keys(MERGE_CLASSES), ...Object.keys(RECURRENT_CELLS), 'Bidirectional', 'TimeDistributed',
]);

/** Keras 3 quantized layers (int8/float8 dtype policies) and LoRA adapters change what the weights mean. */
function checkPlainWeights(ctx: Ctx, e: LayerEntry): void {
  const d = e.config.dtype;
  const policy = isObj(d) ? (isObj(d.config) && typeof d.config.name === 'string' ? d.config.name : '') : typeof d === 'string' ? d : '';
  const quantClass = isObj(d) && typeof d.class_name === 'string' && d.class_name.includes('Quantized');
  if (quantClass || /^(int8|int4|float8)/.test(policy)) {
    ctx.err('UNSUPPORTED_CONFIG', `layer ${e.name} is quantized (dtype policy ${policy || String(isObj(d) ? d.class_name : d)}); quantized Keras layers are not supported`, e.name, "save the float model (before model.quantize(...)) with model.save('model.keras')");
  }
  const lora = e.config.lora_rank;
  if (lora !== undefined && lora !== null && lora !== 0) ctx.err('UNSUPPORTED_CONFIG', `layer ${e.name} has a LoRA adapter (lora_rank ${String(lora)}); not supported`, e.name, 'fold the adapter into the kernel (kernel + lora_kernel_a @ lora_kernel_b) in a model without LoRA, and re-save');
}

/** A number or a flat list of numbers (Rescaling scale/offset, Normalization mean/variance in the config). */
function numbers(ctx: Ctx, layer: string, what: string, v: unknown): number[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || list.length > LIMITS.maxTensorElements || !list.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    return ctx.err('UNSUPPORTED_CONFIG', `layer ${layer}: ${what} must be a number or a flat list of numbers`, layer);
  }
  return list as number[];
}

/** Keras Normalization -> BatchNorm over its axis (mean/variance from the weights, or from the config). */
function mapNormalization(ctx: Ctx, e: LayerEntry, range: [number, number] | undefined): Mapped {
  const c = e.config;
  const n = e.name;
  let axis: unknown = c.axis === undefined ? -1 : c.axis;
  if (Array.isArray(axis) && axis.length === 1) axis = axis[0];
  const all = axis === null || (Array.isArray(axis) && axis.length === 0);
  if (!all && (typeof axis !== 'number' || !Number.isInteger(axis) || axis === 0)) {
    ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: Normalization over axis ${JSON.stringify(c.axis)} is not supported (one feature axis or None)`, n, 'normalize over the last axis (axis=-1) and re-save');
  }
  const invert = bool(c.invert, false);
  const bn = node(e, 'BatchNorm', { epsilon: 0, axis: all ? -1 : (axis as number), center: true, scale: true }, { range });
  if (c.mean !== undefined && c.mean !== null) {
    // Fixed statistics passed to the constructor: in the config, no weights.
    const mean = numbers(ctx, n, 'mean', c.mean);
    const variance = numbers(ctx, n, 'variance', c.variance);
    if (mean.length !== variance.length) ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: mean and variance have different lengths`, n);
    bn.weights = normalizationWeights(mean, variance, invert);
    return { nodes: [bn], slots: [], broadcast: all || mean.length === 1 };
  }
  let scalar = all;
  return {
    nodes: [bn],
    slots: [
      { node: n, key: 'movingMean', aliases: ['mean'] },
      { node: n, key: 'movingVariance', aliases: ['variance'] },
      { node: n, key: 'count', aliases: ['count'], unused: true },
    ],
    check: (s) => {
      const m = s.movingMean;
      const v = s.movingVariance;
      if (m.length !== v.length || m.some((d, i) => d !== v[i])) return `mean shape [${m}] differs from variance shape [${v}]`;
      if (m.filter((d) => d !== 1).length > 1) return `mean shape [${m}] spans several axes (only one axis is supported)`;
      if (m.every((d) => d === 1)) scalar = true;
      return undefined;
    },
    finish: () => {
      bn.weights = normalizationWeights(bn.weights.movingMean.data, bn.weights.movingVariance.data, invert);
      return scalar;
    },
  };
}

/** The recurrent settings of a SimpleRNN / LSTM / GRU config (also the inner layer of a Bidirectional). */
function recurrentParams(ctx: Ctx, n: string, cls: string, c: Obj): RecurrentParams {
  const cell = RECURRENT_CELLS[cls];
  if (!cell) return ctx.err('UNSUPPORTED_LAYER', `layer ${n}: Bidirectional around ${cls} is not supported (SimpleRNN, LSTM or GRU only)`, n);
  if (bool(c.time_major, false)) ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: time_major inputs are not supported`, n, 'rebuild the layer with time_major=False (inputs [batch, time, features]) and re-save');
  const units = checkDim(ctx, n, 'units', c.units);
  // Keras 2 and 3 default the gates to sigmoid; tfjs-layers to hard sigmoid.
  const recurrentDefault = ctx.tfjs ? 'hard_sigmoid' : 'sigmoid';
  return {
    cell,
    units,
    direction: bool(c.go_backwards, false) ? 'backward' : 'forward',
    merge: null,
    returnSequences: bool(c.return_sequences, false),
    processingOrder: true,
    cellActivation: parseActivation(ctx, n, c.activation === undefined ? 'tanh' : c.activation),
    recurrentActivation: cell === 'simple' ? LINEAR : parseActivation(ctx, n, c.recurrent_activation === undefined ? recurrentDefault : c.recurrent_activation),
    // Absent in old files: read off the bias shape once it is known (see check below).
    resetAfter: cell === 'gru' ? bool(c.reset_after, true) : false,
    useBias: bool(c.use_bias, true),
  };
}

/** SimpleRNN, LSTM, GRU, and Bidirectional around one of them -> one Recurrent node. Weights by stored order. */
function mapRecurrent(ctx: Ctx, e: LayerEntry, range: [number, number] | undefined): Mapped {
  const n = e.name;
  let p: RecurrentParams;
  if (e.className === 'Bidirectional') {
    const inner = e.config.layer;
    if (!isObj(inner) || typeof inner.class_name !== 'string' || !isObj(inner.config)) return ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: Bidirectional has no inner layer config`, n);
    p = recurrentParams(ctx, n, inner.class_name, inner.config);
    if (p.direction !== 'forward') ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: Bidirectional around a go_backwards layer is not supported`, n);
    const mode = e.config.merge_mode === undefined ? 'concat' : e.config.merge_mode;
    if (mode === null) {
      ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: Bidirectional with merge_mode None (two separate outputs) is not supported`, n, "use merge_mode 'concat', 'sum', 'mul' or 'ave' and re-save");
    }
    if (mode !== 'concat' && mode !== 'sum' && mode !== 'mul' && mode !== 'ave') return ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: unknown merge_mode ${JSON.stringify(mode)}`, n);
    const back = e.config.backward_layer;
    if (isObj(back) && isObj(back.config)) {
      // An explicit backward layer must be the forward one run backwards (same cell and settings).
      const b = recurrentParams(ctx, n, String(back.class_name), back.config);
      if (b.direction !== 'backward' || JSON.stringify({ ...b, direction: 'forward' }) !== JSON.stringify(p)) {
        ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: the backward layer of this Bidirectional differs from the forward one (other than go_backwards); not supported`, n);
      }
    }
    p = { ...p, direction: 'bidirectional', merge: mode };
  } else {
    p = recurrentParams(ctx, n, e.className, e.config);
  }
  const cfg = e.className === 'Bidirectional' && isObj(e.config.layer) && isObj(e.config.layer.config) ? e.config.layer.config : e.config;
  if (bool(cfg.return_state, false) && e.className === 'Bidirectional') {
    ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: Bidirectional with return_state is not supported`, n, 'build the layer with return_state=False and re-save');
  }
  const dirs = p.direction === 'bidirectional' ? [false, true] : [false];
  const slots: WeightSlot[] = [];
  for (const back of dirs) {
    const pre = back ? 'back' : '';
    const keys = directionKeys(back);
    slots.push({ node: n, key: keys.kernel, aliases: [`${pre}kernel`] });
    slots.push({ node: n, key: keys.recurrentKernel, aliases: [`${pre}recurrent_kernel`] });
    if (p.useBias) slots.push({ node: n, key: keys.bias, aliases: [`${pre}bias`] });
  }
  const params = p;
  const g = gateCount(params.cell) * params.units;
  return {
    nodes: [node(e, 'Recurrent', params, { range })],
    slots,
    ordered: true,
    check: (s) => {
      for (const back of dirs) {
        const pre = back ? 'back' : '';
        const keys = directionKeys(back);
        const k = s[keys.kernel];
        const r = s[keys.recurrentKernel];
        if (k.length !== 2 || k[1] !== g) return `${pre}kernel shape [${k}] does not match ${params.units} units of a ${params.cell} cell`;
        if (r.length !== 2 || r[0] !== params.units || r[1] !== g) return `${pre}recurrent kernel shape [${r}] does not match ${params.units} units of a ${params.cell} cell`;
        if (params.useBias) {
          const b = s[keys.bias];
          const two = b.length === 2 && b[0] === 2 && b[1] === g;
          if (params.cell === 'gru' && cfg.reset_after === undefined && (two || (b.length === 1 && b[0] === g))) params.resetAfter = two;
          if (params.cell === 'gru' && params.resetAfter ? !two : b.length !== 1 || b[0] !== g) return `${pre}bias shape [${b}] does not match ${params.units} units of a ${params.cell} cell`;
        }
      }
      return undefined;
    },
  };
}

/** Layers TimeDistributed may wrap: they already act on each position of [batch, time, ...] alike. */
const PER_STEP_CLASSES = new Set(['Dense', 'Activation', 'ReLU', 'LeakyReLU', 'ELU', 'ThresholdedReLU', ...IDENTITY_CLASSES]);

/** TimeDistributed(Dense / Activation / Dropout): the inner layer on [batch, time, features] as it is. */
function mapTimeDistributed(ctx: Ctx, e: LayerEntry, range: [number, number] | undefined): Mapped {
  const inner = e.config.layer;
  if (!isObj(inner) || typeof inner.class_name !== 'string' || !isObj(inner.config)) return ctx.err('UNSUPPORTED_CONFIG', `layer ${e.name}: TimeDistributed has no inner layer config`, e.name);
  if (!PER_STEP_CLASSES.has(inner.class_name)) {
    ctx.err('UNSUPPORTED_LAYER', `layer ${e.name}: TimeDistributed(${inner.class_name}) is not supported (only Dense, activations and Dropout inside TimeDistributed)`, e.name, 'for Conv or pooling layers per time step, fold time into the batch with a Reshape before and after, and re-save');
  }
  return mapLayer(ctx, { ...e, className: inner.class_name, config: inner.config }, range);
}

function mapLayer(ctx: Ctx, e: LayerEntry, range: [number, number] | undefined): Mapped {
  const c = e.config;
  const cls = e.className;
  const n = e.name;
  const R = { range };
  checkPlainWeights(ctx, e);

  if (cls === 'InputLayer') return { nodes: [node(e, 'Input', {}, R)], slots: [] };

  if (cls === 'Dense') {
    const units = checkDim(ctx, n, 'units', c.units);
    const useBias = bool(c.use_bias, true);
    return {
      nodes: [node(e, 'Dense', { units, useBias }, { ...R, activation: parseActivation(ctx, n, c.activation) })],
      slots: [{ node: n, key: 'kernel', aliases: ['kernel'] }, ...(useBias ? [{ node: n, key: 'bias', aliases: ['bias'] }] : [])],
      check: (s) => {
        if (s.kernel.length !== 2 || s.kernel[1] !== units) return `kernel shape [${s.kernel}] does not match units ${units}`;
        if (useBias && (s.bias.length !== 1 || s.bias[0] !== units)) return `bias shape [${s.bias}] does not match units ${units}`;
        return undefined;
      },
    };
  }

  if (cls in CONV_RANK) {
    checkChannelsLast(ctx, e);
    const rank = CONV_RANK[cls];
    const filters = checkDim(ctx, n, 'filters', c.filters);
    const { kernelSize, strides, dilation } = convWindow(ctx, n, c, rank);
    const groups = checkDim(ctx, n, 'groups', c.groups ?? 1);
    const useBias = bool(c.use_bias, true);
    const padding = paddingMode(ctx, n, c.padding ?? 'valid', rank === 1);
    return {
      nodes: [node(e, 'Conv', { rank, filters, kernelSize, strides, dilation, padding, groups, useBias }, { ...R, activation: parseActivation(ctx, n, c.activation) })],
      slots: [{ node: n, key: 'kernel', aliases: ['kernel'] }, ...(useBias ? [{ node: n, key: 'bias', aliases: ['bias'] }] : [])],
      check: (s) => {
        const k = s.kernel;
        if (k.length !== rank + 2 || kernelSize.some((v, i) => k[i] !== v) || k[rank + 1] !== filters) {
          return `kernel shape [${k}] does not match kernel_size [${kernelSize}] and filters ${filters}`;
        }
        if (useBias && (s.bias.length !== 1 || s.bias[0] !== filters)) return `bias shape [${s.bias}] does not match filters ${filters}`;
        return undefined;
      },
    };
  }

  if (cls in CONV_TRANSPOSE_RANK) {
    checkChannelsLast(ctx, e);
    const rank = CONV_TRANSPOSE_RANK[cls];
    const filters = checkDim(ctx, n, 'filters', c.filters);
    const { kernelSize, strides, dilation } = convWindow(ctx, n, c, rank);
    const op = c.output_padding;
    const outputPadding = op === undefined || op === null ? null : tuple(ctx, n, 'output_padding', op, rank, true);
    const useBias = bool(c.use_bias, true);
    const padding = paddingMode(ctx, n, c.padding ?? 'valid', false);
    return {
      nodes: [node(e, 'ConvTranspose', { rank, filters, kernelSize, strides, dilation, padding, outputPadding, useBias }, { ...R, activation: parseActivation(ctx, n, c.activation) })],
      slots: [{ node: n, key: 'kernel', aliases: ['kernel'] }, ...(useBias ? [{ node: n, key: 'bias', aliases: ['bias'] }] : [])],
      check: (s) => {
        // Keras stores transposed kernels as [...kernel_size, filters, in_channels].
        const k = s.kernel;
        if (k.length !== rank + 2 || kernelSize.some((v, i) => k[i] !== v) || k[rank] !== filters) {
          return `kernel shape [${k}] does not match kernel_size [${kernelSize}] and filters ${filters}`;
        }
        if (useBias && (s.bias.length !== 1 || s.bias[0] !== filters)) return `bias shape [${s.bias}] does not match filters ${filters}`;
        return undefined;
      },
    };
  }

  if (cls === 'PReLU') {
    const sa = c.shared_axes;
    const sharedAxes = sa === undefined || sa === null ? [] : (Array.isArray(sa) ? sa : [sa]).map((v) => checkDim(ctx, n, 'shared_axes', v));
    return {
      nodes: [node(e, 'PReLU', { sharedAxes }, R)],
      slots: [{ node: n, key: 'alpha', aliases: ['alpha'] }],
      // alpha has one sample's shape with 1 on the shared axes; shape inference checks it against the input.
      check: (s) => (sharedAxes.some((a) => s.alpha[a - 1] !== undefined && s.alpha[a - 1] !== 1) ? `alpha shape [${s.alpha}] is not 1 on shared_axes [${sharedAxes}]` : undefined),
    };
  }

  if (cls === 'DepthwiseConv2D' || cls === 'DepthwiseConv1D') {
    checkChannelsLast(ctx, e);
    const rank = cls === 'DepthwiseConv2D' ? 2 : 1;
    const depthMultiplier = checkDim(ctx, n, 'depth_multiplier', c.depth_multiplier ?? 1);
    const { kernelSize, strides, dilation } = convWindow(ctx, n, c, rank);
    const useBias = bool(c.use_bias, true);
    const padding = paddingMode(ctx, n, c.padding ?? 'valid', rank === 1);
    return {
      nodes: [node(e, 'DepthwiseConv', { rank, depthMultiplier, kernelSize, strides, dilation, padding, useBias }, { ...R, activation: parseActivation(ctx, n, c.activation) })],
      // Keras 2 calls it depthwise_kernel, Keras 3 kernel.
      slots: [{ node: n, key: 'kernel', aliases: ['depthwise_kernel', 'kernel'] }, ...(useBias ? [{ node: n, key: 'bias', aliases: ['bias'] }] : [])],
      check: (s) => {
        const k = s.kernel;
        if (k.length !== rank + 2 || kernelSize.some((v, i) => k[i] !== v) || k[rank + 1] !== depthMultiplier) {
          return `depthwise kernel shape [${k}] does not match kernel_size [${kernelSize}] and depth_multiplier ${depthMultiplier}`;
        }
        if (useBias && (s.bias.length !== 1 || s.bias[0] !== k[rank] * depthMultiplier)) return `bias shape [${s.bias}] does not match ${k[rank] * depthMultiplier} channels`;
        return undefined;
      },
    };
  }

  if (cls === 'SeparableConv2D' || cls === 'SeparableConv1D' || cls === 'SeparableConvolution2D' || cls === 'SeparableConvolution1D') {
    checkChannelsLast(ctx, e);
    const rank = cls.endsWith('2D') ? 2 : 1;
    const depthMultiplier = checkDim(ctx, n, 'depth_multiplier', c.depth_multiplier ?? 1);
    const filters = checkDim(ctx, n, 'filters', c.filters);
    const { kernelSize, strides, dilation } = convWindow(ctx, n, c, rank);
    const useBias = bool(c.use_bias, true);
    const padding = paddingMode(ctx, n, c.padding ?? 'valid', rank === 1);
    const dw = `${n}/depthwise`;
    const ones = new Array<number>(rank).fill(1);
    return {
      nodes: [
        node(e, 'DepthwiseConv', { rank, depthMultiplier, kernelSize, strides, dilation, padding, useBias: false }, { ...R, name: dw }),
        node(e, 'Conv', { rank, filters, kernelSize: ones, strides: ones, dilation: ones, padding: { mode: 'valid', pads: [] }, groups: 1, useBias }, {
          ...R, inbound: [dw], activation: parseActivation(ctx, n, c.activation),
        }),
      ],
      slots: [
        { node: dw, key: 'kernel', aliases: ['depthwise_kernel'] },
        { node: n, key: 'kernel', aliases: ['pointwise_kernel'] },
        ...(useBias ? [{ node: n, key: 'bias', aliases: ['bias'] }] : []),
      ],
      check: (s) => {
        const d = s[`${dw}.kernel`];
        const p = s[`${n}.kernel`];
        if (d.length !== rank + 2 || kernelSize.some((v, i) => d[i] !== v) || d[rank + 1] !== depthMultiplier) return `depthwise kernel shape [${d}] does not match the config`;
        if (p.length !== rank + 2 || p.slice(0, rank).some((v) => v !== 1) || p[rank] !== d[rank] * depthMultiplier || p[rank + 1] !== filters) {
          return `pointwise kernel shape [${p}] does not match the config`;
        }
        if (useBias && (s[`${n}.bias`].length !== 1 || s[`${n}.bias`][0] !== filters)) return `bias shape does not match filters ${filters}`;
        return undefined;
      },
    };
  }

  if (cls in POOL) {
    checkChannelsLast(ctx, e);
    const [op, rank] = POOL[cls];
    const poolSize = tuple(ctx, n, 'pool_size', c.pool_size ?? 2, rank);
    const strides = c.strides === null || c.strides === undefined ? poolSize : tuple(ctx, n, 'strides', c.strides, rank);
    const padding = paddingMode(ctx, n, c.padding ?? 'valid', false);
    return { nodes: [node(e, 'Pool', { op, rank, poolSize, strides, padding, ceilMode: false, countIncludePad: false }, R)], slots: [] };
  }

  if (cls in GLOBAL_POOL) {
    checkChannelsLast(ctx, e);
    const [op, rank] = GLOBAL_POOL[cls];
    return { nodes: [node(e, 'GlobalPool', { op, rank, keepDims: bool(c.keepdims, false) }, R)], slots: [] };
  }

  if (cls === 'Flatten') {
    checkChannelsLast(ctx, e);
    return { nodes: [node(e, 'Flatten', { channelsFirst: false }, R)], slots: [] };
  }

  if (cls === 'Reshape') {
    const t = c.target_shape;
    if (!Array.isArray(t)) ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: target_shape must be a list`, n);
    const targetShape = t.map((v) => (v === -1 ? -1 : checkDim(ctx, n, 'target_shape', v)));
    if (targetShape.filter((v) => v === -1).length > 1) ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: target_shape has more than one -1`, n);
    let prod = 1;
    for (const v of targetShape) if (v > 0) prod *= v;
    if (prod > LIMITS.maxTensorElements) ctx.err('SHAPE_LIMIT', `layer ${n}: target_shape [${targetShape}] exceeds the limit`, n);
    return { nodes: [node(e, 'Reshape', { targetShape }, R)], slots: [] };
  }

  if (cls === 'Permute') {
    const d = c.dims;
    if (!Array.isArray(d)) ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: dims must be a list`, n);
    const dims = d.map((v) => checkDim(ctx, n, 'dims', v));
    const sorted = [...dims].sort((a, b) => a - b);
    if (sorted.some((v, i) => v !== i + 1)) ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: dims [${dims}] is not a permutation of 1..${dims.length}`, n);
    return { nodes: [node(e, 'Permute', { dims }, R)], slots: [] };
  }

  if (cls in RANKED) {
    checkChannelsLast(ctx, e);
    const [kind, rank] = RANKED[cls];
    if (kind === 'ZeroPadding') return { nodes: [node(e, 'ZeroPadding', { rank, pads: pairs(ctx, n, 'padding', c.padding ?? 1, rank) }, R)], slots: [] };
    if (kind === 'Cropping') return { nodes: [node(e, 'Cropping', { rank, crops: pairs(ctx, n, 'cropping', c.cropping ?? 0, rank) }, R)], slots: [] };
    const size = tuple(ctx, n, 'size', c.size ?? 2, rank);
    const interp = c.interpolation ?? 'nearest';
    if (interp !== 'nearest' && interp !== 'bilinear') ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: interpolation ${JSON.stringify(interp)} is not supported`, n);
    return { nodes: [node(e, 'UpSampling', { rank, size, interpolation: interp }, R)], slots: [] };
  }

  if (cls === 'BatchNormalization' || cls === 'SyncBatchNormalization') {
    let axis: unknown = c.axis ?? -1;
    if (Array.isArray(axis)) {
      if (axis.length !== 1) ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: BatchNormalization over several axes ${JSON.stringify(axis)} is not supported`, n);
      axis = axis[0];
    }
    if (typeof axis !== 'number' || !Number.isInteger(axis)) ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: bad axis ${JSON.stringify(axis)}`, n);
    const center = bool(c.center, true);
    const scale = bool(c.scale, true);
    const epsilon = num(ctx, n, 'epsilon', c.epsilon, 1e-3);
    const slots: WeightSlot[] = [];
    if (scale) slots.push({ node: n, key: 'gamma', aliases: ['gamma'] });
    if (center) slots.push({ node: n, key: 'beta', aliases: ['beta'] });
    slots.push({ node: n, key: 'movingMean', aliases: ['moving_mean'] }, { node: n, key: 'movingVariance', aliases: ['moving_variance'] });
    return {
      nodes: [node(e, 'BatchNorm', { epsilon, axis, center, scale }, R)],
      slots,
      check: (s) => {
        const c0 = s.movingMean;
        for (const [k, v] of Object.entries(s)) {
          if (v.length !== 1 || c0.length !== 1 || v[0] !== c0[0]) return `${k} shape [${v}] differs from moving_mean [${c0}]`;
        }
        return undefined;
      },
    };
  }

  if (cls === 'Normalization') return mapNormalization(ctx, e, R.range);
  if (cls === 'Rescaling') {
    const scale = numbers(ctx, n, 'scale', c.scale ?? 1);
    const offset = numbers(ctx, n, 'offset', c.offset ?? 0);
    if (scale.length > 1 && offset.length > 1 && scale.length !== offset.length) {
      ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: scale (${scale.length} values) and offset (${offset.length} values) do not match`, n);
    }
    const bn = node(e, 'BatchNorm', { epsilon: 0, axis: -1, center: true, scale: true }, R);
    bn.weights = rescalingWeights(scale, offset);
    return { nodes: [bn], slots: [], broadcast: bn.weights.gamma.data.length === 1 };
  }

  if (IDENTITY_CLASSES.has(cls)) return { nodes: [node(e, 'Identity', { originalClass: cls }, R)], slots: [] };

  const act = (a: ActivationSpec): Mapped => ({ nodes: [node(e, 'Activation', { activation: a }, R)], slots: [] });
  if (cls === 'Activation') return act(parseActivation(ctx, n, c.activation));
  if (cls === 'ReLU') {
    const maxValue = c.max_value === null || c.max_value === undefined ? undefined : num(ctx, n, 'max_value', c.max_value, 0);
    const slope = num(ctx, n, 'negative_slope', c.negative_slope, 0);
    const threshold = num(ctx, n, 'threshold', c.threshold, 0);
    if (threshold !== 0 || (slope !== 0 && maxValue !== undefined)) {
      return act({ name: 'relu', ...(slope !== 0 ? { alpha: slope } : {}), ...(maxValue !== undefined ? { maxValue } : {}), ...(threshold !== 0 ? { threshold } : {}) });
    }
    if (slope !== 0) return act({ name: 'leaky_relu', alpha: slope });
    return act(maxValue === undefined ? { name: 'relu' } : { name: 'relu', maxValue });
  }
  if (cls === 'LeakyReLU') return act({ name: 'leaky_relu', alpha: num(ctx, n, 'negative_slope', c.negative_slope ?? c.alpha, 0.3) });
  if (cls === 'ELU') return act({ name: 'elu', alpha: num(ctx, n, 'alpha', c.alpha, 1) });
  if (cls === 'Softmax') {
    let axis: unknown = c.axis ?? -1;
    if (Array.isArray(axis) && axis.length === 1) axis = axis[0];
    if (typeof axis !== 'number' || !Number.isInteger(axis)) ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: Softmax over axis ${JSON.stringify(c.axis)} is not supported`, n);
    return act({ name: 'softmax', axis });
  }
  if (cls === 'ThresholdedReLU') {
    // inputs * (inputs > theta): the same function as Keras ReLU(threshold=theta).
    const theta = num(ctx, n, 'theta', c.theta, 1);
    return act(theta === 0 ? { name: 'relu' } : { name: 'relu', threshold: theta });
  }

  if (cls in MERGE_CLASSES) {
    if (e.inbound.length < 2) ctx.err('UNSUPPORTED_CONFIG', `layer ${n} (${cls}) needs at least two inputs`, n);
    return { nodes: [node(e, MERGE_CLASSES[cls], {} as Record<string, never>, R)], slots: [] };
  }
  if (cls === 'Concatenate') {
    const axis = num(ctx, n, 'axis', c.axis, -1);
    if (!Number.isInteger(axis)) ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: bad axis ${axis}`, n);
    return { nodes: [node(e, 'Concatenate', { axis }, R)], slots: [] };
  }

  if (cls === 'Lambda') {
    // The function is Python bytecode (marshalled, base64): never decoded, never run.
    ctx.err('LAMBDA_LAYER', `layer ${n} is a Lambda layer (arbitrary Python code); it cannot be loaded and is not executed`, n);
  }
  if (cls in RECURRENT_CELLS || cls === 'Bidirectional') return mapRecurrent(ctx, e, range);
  if (cls === 'TimeDistributed') return mapTimeDistributed(ctx, e, range);
  if (cls === 'Masking') {
    ctx.err('UNSUPPORTED_LAYER', `layer ${n}: Masking is not supported (masked steps would be skipped by the recurrent layers after it, which the engine does not do)`, n, 'remove the Masking layer and re-save: for inputs without padded steps the outputs are the same; or trim the padding from the sequences you run');
  }
  if (/^ConvLSTM[123]D$|^Conv2DLSTM$/.test(cls)) {
    ctx.err('UNSUPPORTED_LAYER', `layer ${n}: ${cls} (a convolutional recurrent layer) is not supported; SimpleRNN, LSTM, GRU and Bidirectional are`, n, 'ConvLSTM has no equivalent in the engine (nor an ONNX operator): replace it by Conv layers over the stacked time steps, or by Conv then LSTM, and re-save');
  }
  if (KNOWN_UNSUPPORTED.has(cls)) {
    const nested = cls === 'Sequential' || cls === 'Functional' || cls === 'Model';
    const why = nested ? ' (a nested model)' : '';
    const hint = nested
      ? 'rebuild the model without nesting: call the inner model\'s layers directly on the outer tensors, then re-save'
      : /LSTM|GRU|RNN/.test(cls)
        ? 'use the layer classes SimpleRNN, LSTM or GRU (optionally inside Bidirectional) rather than RNN cells or CuDNN layers, and re-save'
        : undefined;
    ctx.err('UNSUPPORTED_LAYER', `layer ${n}: Keras class ${cls}${why} is not supported`, n, hint);
  }
  return ctx.err('CUSTOM_LAYER', customLayerMessage(n, cls, '', c), n);
}

// ---------------------------------------------------------------------------------------------------
// layer list and graph structure

/** A tensor a layer call reads: the producing layer and which of its calls (shared layers have several). */
interface LayerRef {
  name: string;
  call: number;
}

/** Each call of a layer (one per inbound node) -> the tensors it reads. */
function inboundCalls(ctx: Ctx, layer: string, nodes: unknown): LayerRef[][] {
  if (nodes === undefined || nodes === null) return [];
  if (!Array.isArray(nodes)) ctx.err('GRAPH_INVALID', `layer ${layer}: inbound_nodes is not a list`, layer);
  if (nodes.length > LIMITS.maxNodes) ctx.err('SHAPE_LIMIT', `layer ${layer} is called ${nodes.length} times, more than ${LIMITS.maxNodes}`, layer);
  return nodes.map((call) => callRefs(ctx, layer, call));
}

function callRefs(ctx: Ctx, layer: string, call: unknown): LayerRef[] {
  const out: LayerRef[] = [];
  const ref = (name: unknown, nodeIndex: unknown, tensorIndex: unknown): void => {
    if (typeof name !== 'string') ctx.err('GRAPH_INVALID', `layer ${layer}: bad inbound reference ${JSON.stringify(name)}`, layer);
    const c = nodeIndex === undefined || nodeIndex === null ? 0 : nodeIndex;
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0) ctx.err('GRAPH_INVALID', `layer ${layer}: bad node index ${JSON.stringify(nodeIndex)} for layer ${name}`, layer);
    if (tensorIndex !== 0 && tensorIndex !== undefined) {
      ctx.err('UNSUPPORTED_CONFIG', `layer ${layer} uses output ${String(tensorIndex)} of layer ${name}; multi-output layers are not supported`, layer, `rebuild the model so ${name} has one output, or export it to ONNX`);
    }
    out.push({ name, call: c });
  };
  if (isObj(call)) {
    // Keras 3: {"args": [...], "kwargs": {...}} with __keras_tensor__ objects anywhere inside args.
    const walk = (v: unknown, depth: number): void => {
      if (depth > 32) ctx.err('GRAPH_INVALID', `layer ${layer}: inbound node nests too deeply`, layer);
      if (Array.isArray(v)) for (const x of v) walk(x, depth + 1);
      else if (isObj(v)) {
        if (v.class_name === '__keras_tensor__' && isObj(v.config) && Array.isArray(v.config.keras_history)) {
          const h = v.config.keras_history;
          ref(h[0], h[1], h[2]);
        } else for (const x of Object.values(v)) walk(x, depth + 1);
      }
    };
    walk(call.args, 0);
    return out;
  }
  if (!Array.isArray(call)) ctx.err('GRAPH_INVALID', `layer ${layer}: cannot read inbound node ${JSON.stringify(call)}`, layer);
  // Keras 2 / tfjs: [["name", nodeIndex, tensorIndex, {kwargs}], ...]
  for (const r of call) {
    if (!Array.isArray(r)) ctx.err('GRAPH_INVALID', `layer ${layer}: cannot read inbound reference ${JSON.stringify(r)}`, layer);
    ref(r[0], r[1], r[2]);
  }
  return out;
}

/** `[["name", 0, 0], ...]` or (Keras 3, single tensor) `["name", 0, 0]`. */
function endpointRefs(ctx: Ctx, v: unknown, what: string): LayerRef[] {
  if (!Array.isArray(v)) return ctx.err('GRAPH_INVALID', `model config has no ${what} list`);
  const one = (name: string, call: unknown, tensor?: unknown): LayerRef => {
    // A layer with several outputs (an RNN with return_state): only its main output can be a model output.
    if (typeof tensor === 'number' && tensor !== 0) {
      ctx.err('UNSUPPORTED_CONFIG', `model ${what} uses output ${tensor} of layer ${name}; only a layer's main output is supported (an RNN's states from return_state are not)`, name, 'make the model output the main (sequence or last) output of the layer, and re-save');
    }
    return { name, call: typeof call === 'number' && Number.isInteger(call) && call >= 0 ? call : 0 };
  };
  if (v.length > 0 && typeof v[0] === 'string') return [one(v[0], v[1], v[2])];
  return v.map((r) => {
    if (Array.isArray(r) && typeof r[0] === 'string') return one(r[0], r[1], r[2]);
    if (isObj(r)) {
      // Keras 3 may write dict-style endpoints as keras tensors.
      const h = isObj(r.config) ? r.config.keras_history : undefined;
      if (Array.isArray(h) && typeof h[0] === 'string') return one(h[0], h[1], h[2]);
    }
    return ctx.err('GRAPH_INVALID', `model config: bad ${what} entry ${JSON.stringify(r)}`);
  });
}

/**
 * One entry per call of every layer: a shared layer's k-th call (k >= 1) becomes `<name>_k` (or
 * `<name>/call_k` where that name is taken), reading the same stored weights; `resolve` names the node of a
 * (layer, call) reference.
 */
function expandCalls(ctx: Ctx, entries: LayerEntry[]): { calls: LayerEntry[]; resolve: (r: LayerRef, from: string) => string } {
  const taken = new Set(entries.map((e) => e.name));
  const callNames = new Map<string, string[]>();
  const total = entries.reduce((k, e) => k + Math.max(1, e.calls?.length ?? 0), 0);
  if (total > LIMITS.maxNodes) ctx.err('SHAPE_LIMIT', `the model's layers are called ${total} times in all, more than ${LIMITS.maxNodes}`);
  for (const e of entries) {
    const names = [e.name];
    for (let i = 1; i < (e.calls?.length ?? 0); i++) {
      let nm = `${e.name}_${i}`;
      for (let j = 0; taken.has(nm); j++) nm = `${e.name}/call_${i}${j ? `_${j}` : ''}`;
      taken.add(nm);
      names.push(nm);
    }
    callNames.set(e.name, names);
  }
  const resolve = (r: LayerRef, from: string): string => {
    const names = callNames.get(r.name);
    if (!names) return ctx.err('GRAPH_INVALID', `layer ${from} takes its input from ${r.name}, which is not in the model`, from);
    if (r.call >= names.length) {
      return ctx.err('GRAPH_INVALID', `layer ${from} reads call ${r.call} of layer ${r.name}, which is called ${names.length} time(s)`, from);
    }
    return names[r.call];
  };
  const calls: LayerEntry[] = [];
  for (const e of entries) {
    const names = callNames.get(e.name) as string[];
    names.forEach((name, i) => {
      const inbound = (e.calls?.[i] ?? []).map((r) => resolve(r, name));
      calls.push({ ...e, name, inbound, weightsOf: e.name });
    });
  }
  return { calls, resolve };
}

/** Run a channels_first layer channels-last: Permute its input to channels-last and its output back. */
function wrapChannelsFirst(ctx: Ctx, e: LayerEntry, m: Mapped, alias: Map<string, string>, fix: KerasLayoutFixups): void {
  if (e.className === 'Flatten') {
    fix.cfFlatten.add(e.name);
    return;
  }
  const spatial = /([123])D/.exec(e.className);
  if (!spatial) {
    ctx.err('UNSUPPORTED_CONFIG', `layer ${e.name} (${e.className}) uses data_format channels_first, which is not supported for this class`, e.name, "re-save the model with data_format='channels_last'");
  }
  const rank = Number(spatial[1]) + 2;
  const toLast = moveToLastDims(rank, 1);
  const pre = permuteNode(`${e.name}/to_channels_last`, e.inbound, toLast, e.className);
  fix.generated.add(pre.name);
  for (const nd of m.nodes) if (nd.inbound === e.inbound) nd.inbound = [pre.name];
  m.nodes.unshift(pre);
  // Global pooling without keepdims leaves [batch, channels]: the same in both formats.
  if (e.className in GLOBAL_POOL && !bool(e.config.keepdims, false)) return;
  const post = permuteNode(`${e.name}/to_channels_first`, [e.name], inverseDims(toLast), e.className);
  fix.generated.add(post.name);
  fix.post.add(post.name);
  m.nodes.push(post);
  alias.set(e.name, post.name);
}

function shapeOf(ctx: Ctx, layer: string, v: unknown): Shape {
  if (!Array.isArray(v)) return ctx.err('UNSUPPORTED_CONFIG', `layer ${layer}: input shape ${JSON.stringify(v)} is not a list`, layer);
  let prod = 1;
  const s = v.map((d) => {
    if (d === null) return null;
    const n = checkDim(ctx, layer, 'input dimension', d, true);
    prod *= n;
    return n;
  });
  if (prod > LIMITS.maxTensorElements) ctx.err('SHAPE_LIMIT', `layer ${layer}: input shape [${s}] holds more than ${LIMITS.maxTensorElements} elements per sample`, layer);
  return s;
}

function inputShapeOf(c: Obj): unknown {
  return c.batch_input_shape ?? c.batch_shape ?? (Array.isArray(c.input_shape) ? [null, ...c.input_shape] : undefined);
}

/** SavedModel keras_metadata writes tuples as {"class_name": "__tuple__", "items": [...]}: read them as lists (in place). */
function untuple(v: Obj | JsonValue[], depth: number): void {
  if (depth > 16) return;
  const entries: [string | number, JsonValue][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  for (const [k, x] of entries) {
    if (isObj(x) && x.class_name === '__tuple__' && Array.isArray(x.items)) {
      (v as Record<string | number, JsonValue>)[k] = x.items;
      untuple(x.items, depth + 1);
    } else if (isObj(x) || Array.isArray(x)) untuple(x, depth + 1);
  }
}

function readEntry(ctx: Ctx, raw: unknown, index: number): LayerEntry {
  if (!isObj(raw)) return ctx.err('GRAPH_INVALID', `layer entry ${index} is not an object`);
  const className = raw.class_name;
  if (typeof className !== 'string' || className.length === 0) return ctx.err('GRAPH_INVALID', `layer entry ${index} has no class_name`);
  const config = isObj(raw.config) ? raw.config : {};
  untuple(config, 0);
  const name = typeof raw.name === 'string' ? raw.name : typeof config.name === 'string' ? config.name : `${className.toLowerCase()}_${index}`;
  // Keras 3 marks where a class comes from; anything outside Keras is user code.
  const module = raw.module;
  const registered = raw.registered_name;
  const kerasModule = typeof module !== 'string' || /^(keras|tf_keras|tensorflow\.keras|tensorflow\.python\.keras)(\.|$)/.test(module);
  const customRegistered = typeof registered === 'string' && registered.includes('>');
  const entry: LayerEntry = { className, name, config, raw, inbound: [] };
  if ((!kerasModule || customRegistered) && className !== 'Lambda') {
    entry.custom = customLayerMessage(name, className, ` from ${typeof module === 'string' ? `module ${module}` : `registered name ${String(registered)}`}`, config);
  }
  return entry;
}

/** Nodes in dependency order, keeping the file's order where it already is one (iterative DFS). */
function topoSort(ctx: Ctx, nodes: LayerNode[]): LayerNode[] {
  const byName = new Map<string, number>();
  nodes.forEach((nd, i) => {
    if (byName.has(nd.name)) ctx.err('GRAPH_INVALID', `two layers are named ${nd.name}`, nd.name);
    byName.set(nd.name, i);
  });
  for (const nd of nodes) {
    for (const s of nd.inbound) {
      if (!byName.has(s)) ctx.err('GRAPH_INVALID', `layer ${nd.name} takes its input from ${s}, which is not in the model`, nd.name);
    }
  }
  const state = new Uint8Array(nodes.length); // 0 new, 1 on stack, 2 done
  const out: LayerNode[] = [];
  for (let root = 0; root < nodes.length; root++) {
    if (state[root]) continue;
    const stack: [number, number][] = [[root, 0]];
    state[root] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1];
      const nd = nodes[top[0]];
      if (top[1] < nd.inbound.length) {
        const dep = byName.get(nd.inbound[top[1]++]) as number;
        if (state[dep] === 1) ctx.err('GRAPH_CYCLE', `the layer graph has a cycle through ${nodes[dep].name} and ${nd.name}`, nd.name);
        if (state[dep] === 0) {
          state[dep] = 1;
          stack.push([dep, 0]);
        }
      } else {
        state[top[0]] = 2;
        out.push(nd);
        stack.pop();
      }
    }
  }
  return out;
}

function shortName(stored: string): string {
  const last = stored.split('/').filter((s) => s.length > 0).pop() ?? stored;
  return last.replace(/:\d+$/, '');
}

/** Attach the container's weights to the mapped nodes, checking names, counts and shapes first. */
function attachWeights(ctx: Ctx, e: LayerEntry, m: Mapped, provider: WeightProvider, budget: { bytes: number }): void {
  if (m.slots.length === 0) return;
  const expected = m.slots.map((s) => s.aliases[0]).join(', ');
  const raw = provider(e.weightsOf ?? e.name, e.place ?? { className: e.className, classIndex: 0 });
  if (raw === null || raw.length === 0) {
    ctx.err('MISSING_WEIGHTS', `layer ${e.name} (${e.className}) has no weights in the file (expected ${expected})`, e.name);
  }
  const byShort = new Map<string, RawWeight>();
  for (const w of raw) byShort.set(shortName(w.name), w);
  const named = !m.ordered && m.slots.some((s) => s.aliases.some((a) => byShort.has(a)));
  const chosen: (RawWeight | undefined)[] = [];
  const needed = m.slots.filter((s) => !s.unused).length;
  if (named) {
    for (const s of m.slots) {
      const w = s.aliases.map((a) => byShort.get(a)).find((x) => x !== undefined);
      if (!w && !s.unused) ctx.err('MISSING_WEIGHTS', `layer ${e.name} (${e.className}): weight ${s.aliases[0]} is missing from the file`, e.name);
      chosen.push(w);
    }
  } else {
    // Keras 3 .keras stores vars/0..n: the order per class is the order of `slots` (unused ones last).
    if (raw.length < needed) {
      ctx.err('MISSING_WEIGHTS', `layer ${e.name} (${e.className}) has ${raw.length} weight(s), expected ${m.slots.length} (${expected}); ${m.slots[raw.length].aliases[0]} is missing`, e.name);
    }
    if (raw.length > m.slots.length) {
      ctx.err('WEIGHT_MISMATCH', `layer ${e.name} (${e.className}) has ${raw.length} weights, expected ${m.slots.length} (${expected})`, e.name);
    }
    chosen.push(...raw);
  }
  const shapes: Record<string, number[]> = {};
  const multi = new Set(m.slots.map((s) => s.node)).size > 1;
  m.slots.forEach((s, i) => {
    if (s.unused) return;
    const shape = (chosen[i] as RawWeight).shape;
    let elements = 1;
    for (const d of shape) elements *= d;
    if (elements > LIMITS.maxTensorElements) ctx.err('SHAPE_LIMIT', `layer ${e.name}: weight ${s.aliases[0]} of shape [${shape}] exceeds the size limit`, e.name);
    budget.bytes += elements * 4;
    if (budget.bytes > LIMITS.maxWeightBytes) ctx.err('SHAPE_LIMIT', `model weights exceed ${LIMITS.maxWeightBytes} bytes`, e.name);
    shapes[multi ? `${s.node}.${s.key}` : s.key] = shape;
  });
  const bad = m.check?.(shapes);
  if (bad) ctx.err('WEIGHT_MISMATCH', `layer ${e.name} (${e.className}): ${bad}`, e.name);
  m.slots.forEach((s, i) => {
    if (s.unused) return;
    const w = chosen[i] as RawWeight;
    const data = w.read();
    let elements = 1;
    for (const d of w.shape) elements *= d;
    if (data.length !== elements) ctx.err('WEIGHT_MISMATCH', `layer ${e.name}: weight ${s.aliases[0]} holds ${data.length} values, its shape [${w.shape}] needs ${elements}`, e.name);
    const target = m.nodes.find((nd) => nd.name === s.node) as LayerNode;
    target.weights[s.key] = { shape: [...w.shape], data } satisfies WeightTensor;
  });
}

/**
 * A Keras model config (`{"class_name": "Sequential" | "Functional" | "Model", "config": ...}`) and its
 * weights -> ModelGraph (outputShape left [] for shape inference).
 */
export function buildKerasGraph(modelConfig: unknown, opts: KerasBuildOptions): ModelGraph {
  const ctx = new Ctx(opts.file, opts.kerasMajor ?? 2, opts.format.name === 'tfjs-layers');
  if (!isObj(modelConfig)) return ctx.err('NO_ARCHITECTURE', 'the model config is not an object');
  const cls = modelConfig.class_name;
  const cfg = modelConfig.config;
  let layersRaw: unknown;
  let modelName = 'model';
  if (Array.isArray(cfg)) layersRaw = cfg; // list-style Sequential (Keras <= 2.1, early tfjs-layers)
  else if (isObj(cfg)) {
    layersRaw = cfg.layers;
    if (typeof cfg.name === 'string') modelName = cfg.name;
  }
  if (cls !== 'Sequential' && cls !== 'Functional' && cls !== 'Model') {
    if (typeof cls !== 'string') ctx.err('NO_ARCHITECTURE', 'the model config has no class_name');
    if (!Array.isArray(layersRaw)) ctx.err('UNSUPPORTED_CONFIG', `the file holds a ${cls}, not a Sequential or Functional model`);
    ctx.err('CUSTOM_LAYER', `the model class ${cls} is not a built-in Keras model class (a subclassed model)`, undefined, "rebuild it as a Functional or Sequential model of built-in layers and re-save, or export it to ONNX (tf2onnx)");
  }
  if (!Array.isArray(layersRaw)) return ctx.err('GRAPH_INVALID', 'the model config has no layer list');
  if (layersRaw.length > LIMITS.maxNodes) ctx.err('SHAPE_LIMIT', `the model declares ${layersRaw.length} layers, more than ${LIMITS.maxNodes}`);

  const entries = layersRaw.map((r, i) => readEntry(ctx, r, i));
  const classCount = new Map<string, number>();
  for (const e of entries) {
    const k = classCount.get(e.className) ?? 0;
    e.place = { className: e.className, classIndex: k };
    classCount.set(e.className, k + 1);
  }
  const sequential = cls === 'Sequential';
  let inputNames: string[];
  let outputNames: string[];
  const inputShapes = new Map<string, Shape>();
  // Layers left out with a custom layer they need (Functional models only).
  let omitted: OmittedLayer[] = [];

  if (sequential) {
    // Sequential: each layer feeds the next; the input comes from an InputLayer or the first layer's shape.
    const body = entries.filter((e, i) => !(e.className === 'InputLayer' && i > 0));
    if (body.length === 0) ctx.err('NO_ARCHITECTURE', 'the Sequential model has no layers');
    let prev: string;
    let inputEntry: LayerEntry;
    if (body[0].className === 'InputLayer') {
      inputEntry = body[0];
      prev = body[0].name;
      inputShapes.set(prev, shapeOf(ctx, prev, inputShapeOf(body[0].config)));
      body.shift();
    } else {
      const s = inputShapeOf(body[0].config) ?? (isObj(cfg) ? cfg.build_input_shape : undefined);
      if (s === undefined || s === null) ctx.err('UNSUPPORTED_CONFIG', 'the Sequential model declares no input shape (it was never built)', undefined, 'add an Input layer (keras.Input(shape=...)) or call the model once, then re-save');
      prev = `${body[0].name}_input`;
      inputShapes.set(prev, shapeOf(ctx, prev, s));
      // Its jsonRange is the first layer's entry, where the input shape is declared.
      inputEntry = { className: 'InputLayer', name: prev, config: {}, raw: body[0].raw, inbound: [], synthetic: true };
    }
    inputNames = [prev];
    for (const e of body) {
      e.inbound = [prev];
      prev = e.name;
    }
    outputNames = [prev];
    entries.length = 0;
    entries.push(inputEntry, ...body);
  } else {
    for (const e of entries) {
      // A class we refuse anyway is reported as such, even when its call (inbound_nodes) is unusual.
      if (!SUPPORTED_CLASSES.has(e.className) && e.custom === undefined) {
        try {
          mapLayer(ctx, e, undefined);
        } catch (err) {
          if (!(err instanceof LensError) || err.code !== 'CUSTOM_LAYER') throw err;
          e.custom = err.message;
        }
      }
      e.calls = inboundCalls(ctx, e.name, e.raw.inbound_nodes);
      if (e.className === 'InputLayer') inputShapes.set(e.name, shapeOf(ctx, e.name, inputShapeOf(e.config)));
    }
    const { calls, resolve } = expandCalls(ctx, entries);
    const c = cfg as Obj;
    inputNames = endpointRefs(ctx, c.input_layers, 'input_layers').map((r) => resolve(r, r.name));
    outputNames = endpointRefs(ctx, c.output_layers, 'output_layers').map((r) => resolve(r, r.name));
    entries.length = 0;
    entries.push(...calls);
    if (entries.some((e) => e.custom !== undefined)) {
      const cut = omitCustomLayers(entries, inputNames, outputNames);
      if (cut) {
        entries.splice(0, entries.length, ...cut.entries);
        inputNames = cut.inputs;
        outputNames = cut.outputs;
        omitted = cut.omitted;
      }
    }
  }

  // Map every layer (refusals come in file order), then sort and load weights.
  const mapped = new Map<string, { e: LayerEntry; m: Mapped }>();
  let nodes: LayerNode[] = [];
  const fix = newFixups();
  const alias = new Map<string, string>();
  for (const e of entries) {
    if (e.className !== 'InputLayer' && e.inbound.length === 0) {
      ctx.err('GRAPH_INVALID', `layer ${e.name} has no input`, e.name);
    }
    if (e.custom !== undefined) ctx.err('CUSTOM_LAYER', e.custom, e.name);
    const range = opts.rangeOf?.(e.raw);
    const m = mapLayer(ctx, e, range);
    if (checkChannelsLast(ctx, e)) wrapChannelsFirst(ctx, e, m, alias, fix);
    if (m.broadcast) fix.broadcast.add(e.name);
    mapped.set(e.name, { e, m });
    nodes.push(...m.nodes);
  }
  const outputFileNames = [...outputNames];
  if (alias.size > 0) {
    // Consumers of a channels_first layer read the Permute back to channels-first after it.
    for (const nd of nodes) if (!fix.post.has(nd.name)) nd.inbound = nd.inbound.map((i) => alias.get(i) ?? i);
    outputNames = outputNames.map((o) => alias.get(o) ?? o);
  }
  if (nodes.length > LIMITS.maxNodes) ctx.err('SHAPE_LIMIT', `the model has more than ${LIMITS.maxNodes} nodes`);
  nodes = topoSort(ctx, nodes);

  const budget = { bytes: 0 };
  for (const { e, m } of mapped.values()) {
    attachWeights(ctx, e, m, opts.weights, budget);
    if (m.finish?.()) fix.broadcast.add(e.name);
  }

  const nodeNames = new Set(nodes.map((n) => n.name));
  const inputs: TensorSpec[] = inputNames.map((name) => {
    const nd = nodes.find((n) => n.name === name);
    if (!nd || nd.kind !== 'Input') return ctx.err('GRAPH_INVALID', `model input ${name} is not an InputLayer`, name);
    const shape = inputShapes.get(name) ?? [];
    return { node: name, fileName: name, fileShape: shape, fileLayout: channelsLastLayout(shape) };
  });
  const outputs: TensorSpec[] = outputNames.map((name, i) => {
    if (!nodeNames.has(name)) return ctx.err('GRAPH_INVALID', `model output ${name} is not a layer of the model`, name);
    return { node: name, fileName: outputFileNames[i], fileShape: [], fileLayout: 'other' };
  });
  if (inputs.length === 0) ctx.err('GRAPH_INVALID', 'the model has no input');
  if (outputs.length === 0) ctx.err('GRAPH_INVALID', 'the model has no output');
  const graph: ModelGraph = { file: opts.file, name: modelName, format: opts.format, inputs, outputs, nodes };
  if (omitted.length > 0) graph.omitted = omitted;
  settleKerasLayouts(graph, fix);
  return graph;
}

/** Major version of a Keras version string ("2.11.0" -> 2, "3.3.3" -> 3, "tfjs-layers 1.3.2" -> 2). */
export function kerasMajor(version: string | undefined): number {
  const m = version ? /^(\d+)\./.exec(version) : null;
  return m ? Number(m[1]) : 2;
}

/** Short names of the weights a Keras 3 `.keras` / `.weights.h5` stores per layer class, in order (for writers). */
export function kerasWeightOrder(className: string, config: Obj): string[] {
  const useBias = bool(config.use_bias, true);
  if (className === 'Dense' || className in CONV_RANK) return useBias ? ['kernel', 'bias'] : ['kernel'];
  if (className === 'DepthwiseConv2D' || className === 'DepthwiseConv1D') return useBias ? ['depthwise_kernel', 'bias'] : ['depthwise_kernel'];
  if (className.startsWith('SeparableConv')) return useBias ? ['depthwise_kernel', 'pointwise_kernel', 'bias'] : ['depthwise_kernel', 'pointwise_kernel'];
  if (className === 'BatchNormalization') {
    const out: string[] = [];
    if (bool(config.scale, true)) out.push('gamma');
    if (bool(config.center, true)) out.push('beta');
    return [...out, 'moving_mean', 'moving_variance'];
  }
  return [];
}
