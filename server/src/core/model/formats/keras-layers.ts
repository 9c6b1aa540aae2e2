/**
 * One Keras layer call -> IR nodes: the table from layer class name to handler (like the ONNX op table in
 * onnx-ops.ts), then the refusals: classes refused by name with their own message (Lambda: reported,
 * never decoded or run), classes known but not representable, and everything else as a custom layer.
 */
import { ownTable } from '../../own-table.js';
import { customLayerMessage } from './keras-custom-layers.js';
import {
  activation, concatenate, dense, elu, flatten, identity, inputLayer, leakyRelu, merge, permute, prelu, relu, reshape, softmax,
  thresholdedRelu,
} from './keras-layer-core.js';
import { conv, convTranspose, cropping, depthwiseConv, globalPool, pool, separableConv, upSampling, zeroPadding } from './keras-layer-conv.js';
import { batchNormalization, normalization, rescaling } from './keras-layer-norm.js';
import { RECURRENT_CELLS, mapRecurrent } from './keras-layer-recurrent.js';
import { type Ctx, type JsonRange, type LayerEntry, type LayerHandler, type Mapped, checkPlainWeights, isObj } from './keras-layer-util.js';

type Rank = 1 | 2 | 3;

export const CONV_RANK: Record<string, Rank> = ownTable({
  Conv1D: 1, Conv2D: 2, Conv3D: 3, Convolution1D: 1, Convolution2D: 2, Convolution3D: 3,
});
const CONV_TRANSPOSE_RANK: Record<string, Rank> = ownTable({
  Conv1DTranspose: 1, Conv2DTranspose: 2, Conv3DTranspose: 3, Convolution1DTranspose: 1, Convolution2DTranspose: 2,
  Convolution3DTranspose: 3, Deconvolution2D: 2, Deconvolution3D: 3,
});
const POOL: Record<string, ['max' | 'avg', Rank]> = ownTable({
  MaxPooling1D: ['max', 1], MaxPooling2D: ['max', 2], MaxPooling3D: ['max', 3],
  MaxPool1D: ['max', 1], MaxPool2D: ['max', 2], MaxPool3D: ['max', 3],
  AveragePooling1D: ['avg', 1], AveragePooling2D: ['avg', 2], AveragePooling3D: ['avg', 3],
  AvgPool1D: ['avg', 1], AvgPool2D: ['avg', 2], AvgPool3D: ['avg', 3],
});
export const GLOBAL_POOL: Record<string, ['max' | 'avg', Rank]> = ownTable({
  GlobalMaxPooling1D: ['max', 1], GlobalMaxPooling2D: ['max', 2], GlobalMaxPooling3D: ['max', 3],
  GlobalMaxPool1D: ['max', 1], GlobalMaxPool2D: ['max', 2], GlobalMaxPool3D: ['max', 3],
  GlobalAveragePooling1D: ['avg', 1], GlobalAveragePooling2D: ['avg', 2], GlobalAveragePooling3D: ['avg', 3],
  GlobalAvgPool1D: ['avg', 1], GlobalAvgPool2D: ['avg', 2], GlobalAvgPool3D: ['avg', 3],
});

const IDENTITY_CLASSES = [
  'Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'SpatialDropout3D', 'GaussianNoise', 'GaussianDropout',
  'AlphaDropout', 'ActivityRegularization', 'Identity',
];

/** Every class of a family, each to the handler its table entry makes. */
function family<T>(table: Record<string, T>, make: (v: T) => LayerHandler): Record<string, LayerHandler> {
  return Object.fromEntries(Object.entries(table).map(([cls, v]) => [cls, make(v)]));
}

/** Every layer class that loads: class name -> handler. */
const HANDLERS: Readonly<Record<string, LayerHandler>> = ownTable({
  InputLayer: inputLayer,
  Dense: dense,
  ...family(CONV_RANK, conv),
  ...family(CONV_TRANSPOSE_RANK, convTranspose),
  DepthwiseConv1D: depthwiseConv(1),
  DepthwiseConv2D: depthwiseConv(2),
  SeparableConv1D: separableConv(1),
  SeparableConv2D: separableConv(2),
  SeparableConvolution1D: separableConv(1),
  SeparableConvolution2D: separableConv(2),
  ...family(POOL, ([op, rank]) => pool(op, rank)),
  ...family(GLOBAL_POOL, ([op, rank]) => globalPool(op, rank)),
  ZeroPadding1D: zeroPadding(1), ZeroPadding2D: zeroPadding(2), ZeroPadding3D: zeroPadding(3),
  Cropping1D: cropping(1), Cropping2D: cropping(2), Cropping3D: cropping(3),
  UpSampling1D: upSampling(1), UpSampling2D: upSampling(2), UpSampling3D: upSampling(3),
  PReLU: prelu,
  Flatten: flatten,
  Reshape: reshape,
  Permute: permute,
  BatchNormalization: batchNormalization,
  SyncBatchNormalization: batchNormalization,
  Normalization: normalization,
  Rescaling: rescaling,
  ...Object.fromEntries(IDENTITY_CLASSES.map((cls) => [cls, identity])),
  Activation: activation,
  ReLU: relu,
  LeakyReLU: leakyRelu,
  ELU: elu,
  Softmax: softmax,
  ThresholdedReLU: thresholdedRelu,
  Add: merge('Add'),
  Subtract: merge('Subtract'),
  Average: merge('Average'),
  Multiply: merge('Multiply'),
  Maximum: merge('Maximum'),
  Minimum: merge('Minimum'),
  Concatenate: concatenate,
  ...family(RECURRENT_CELLS, () => mapRecurrent),
  Bidirectional: mapRecurrent,
  TimeDistributed: mapTimeDistributed,
});

/** Whether a class loads (has a handler); every other class is refused by mapLayer. */
export function isSupportedClass(cls: string): boolean {
  return HANDLERS[cls] !== undefined;
}

/** Layers TimeDistributed may wrap: they already act on each position of [batch, time, ...] alike. */
const PER_STEP_CLASSES = new Set(['Dense', 'Activation', 'ReLU', 'LeakyReLU', 'ELU', 'ThresholdedReLU', ...IDENTITY_CLASSES]);

/** TimeDistributed(Dense / Activation / Dropout): the inner layer on [batch, time, features] as it is. */
function mapTimeDistributed(ctx: Ctx, e: LayerEntry, range: JsonRange): Mapped {
  const inner = e.config.layer;
  if (!isObj(inner) || typeof inner.class_name !== 'string' || !isObj(inner.config)) return ctx.err('UNSUPPORTED_CONFIG', `layer ${e.name}: TimeDistributed has no inner layer config`, e.name);
  if (!PER_STEP_CLASSES.has(inner.class_name)) {
    ctx.err('UNSUPPORTED_LAYER', `layer ${e.name}: TimeDistributed(${inner.class_name}) is not supported (only Dense, activations and Dropout inside TimeDistributed)`, e.name, 'for Conv or pooling layers per time step, fold time into the batch with a Reshape before and after, and re-save');
  }
  return mapLayer(ctx, { ...e, className: inner.class_name, config: inner.config }, range);
}

// ---------------------------------------------------------------------------------------------------
// refusals

type Refusal = (ctx: Ctx, e: LayerEntry) => never;

const convLstm: Refusal = (ctx: Ctx, e: LayerEntry) =>
  ctx.err('UNSUPPORTED_LAYER', `layer ${e.name}: ${e.className} (a convolutional recurrent layer) is not supported; SimpleRNN, LSTM, GRU and Bidirectional are`, e.name, 'ConvLSTM has no equivalent in the engine (nor an ONNX operator): replace it by Conv layers over the stacked time steps, or by Conv then LSTM, and re-save');

/** Classes refused with a message of their own. */
const REFUSALS: Readonly<Record<string, Refusal>> = ownTable<Refusal>({
  // The function is Python bytecode (marshalled, base64): never decoded, never run.
  Lambda: (ctx: Ctx, e: LayerEntry) => ctx.err('LAMBDA_LAYER', `layer ${e.name} is a Lambda layer (arbitrary Python code); it cannot be loaded and is not executed`, e.name),
  Masking: (ctx: Ctx, e: LayerEntry) =>
    ctx.err('UNSUPPORTED_LAYER', `layer ${e.name}: Masking is not supported (masked steps would be skipped by the recurrent layers after it, which the engine does not do)`, e.name, 'remove the Masking layer and re-save: for inputs without padded steps the outputs are the same; or trim the padding from the sequences you run'),
  ConvLSTM1D: convLstm,
  ConvLSTM2D: convLstm,
  ConvLSTM3D: convLstm,
  Conv2DLSTM: convLstm,
});

const NESTED_MODELS = new Set(['Sequential', 'Functional', 'Model']);

/** Keras classes we know but cannot hold in the IR: refused as UNSUPPORTED_LAYER (not "custom"). */
const KNOWN_UNSUPPORTED = new Set([
  'RNN', 'CuDNNLSTM', 'CuDNNGRU', 'LSTMCell', 'GRUCell', 'SimpleRNNCell', 'StackedRNNCells',
  'LocallyConnected1D', 'LocallyConnected2D', 'Embedding', 'Attention', 'AdditiveAttention', 'MultiHeadAttention',
  'GroupQueryAttention', 'LayerNormalization', 'GroupNormalization', 'UnitNormalization', 'SpectralNormalization',
  'Resizing', 'CenterCrop', 'RandomCrop', 'RandomFlip', 'RandomRotation', 'RandomZoom',
  'RandomContrast', 'RandomTranslation', 'RandomBrightness', 'Discretization', 'CategoryEncoding', 'Hashing',
  'StringLookup', 'IntegerLookup', 'TextVectorization', 'Dot', 'RepeatVector',
  'TFOpLambda', 'SlicingOpLambda', 'EinsumDense', 'Wrapper', ...NESTED_MODELS,
  'DenseFeatures', 'CategoryCrossing', 'HashedCrossing', 'BatchNormalizationV1', 'TorchModuleWrapper',
  'JaxLayer', 'FlaxLayer', 'TFSMLayer',
]);

function refuseKnown(ctx: Ctx, e: LayerEntry): never {
  const cls = e.className;
  const nested = NESTED_MODELS.has(cls);
  const why = nested ? ' (a nested model)' : '';
  const hint = nested
    ? 'rebuild the model without nesting: call the inner model\'s layers directly on the outer tensors, then re-save'
    : /LSTM|GRU|RNN/.test(cls)
      ? 'use the layer classes SimpleRNN, LSTM or GRU (optionally inside Bidirectional) rather than RNN cells or CuDNN layers, and re-save'
      : undefined;
  return ctx.err('UNSUPPORTED_LAYER', `layer ${e.name}: Keras class ${cls}${why} is not supported`, e.name, hint);
}

/** One layer call -> its IR nodes and weight slots, or the refusal that names the layer. */
export function mapLayer(ctx: Ctx, e: LayerEntry, range: JsonRange): Mapped {
  checkPlainWeights(ctx, e);
  const handler = HANDLERS[e.className];
  if (handler) return handler(ctx, e, range);
  REFUSALS[e.className]?.(ctx, e);
  if (KNOWN_UNSUPPORTED.has(e.className)) refuseKnown(ctx, e);
  return ctx.err('CUSTOM_LAYER', customLayerMessage(e.name, e.className, '', e.config), e.name);
}
