/**
 * The sample classifiers: El Nino vs La Nina from SST anomaly fields, one architecture per artifact
 * (and its remedy), built with tfjs-layers so that TensorFlow.js's own `save` writes them.
 * Initializers are seeded so `npm run samples` is reproducible.
 */
import * as tf from '@tensorflow/tfjs';

export interface SampleSpec {
  /** Folder name under samples/models/. */
  name: string;
  /** What the model shows, for the README and the report. */
  purpose: string;
  /** Which data set feeds it: the 5-degree anomaly grid or the 2-degree ocean cells. */
  data: 'grid5' | 'ocean2';
  /** Longitude cells wrapped on each side by the data pipeline (periodic longitude). */
  wrapLon?: number;
  /**
   * L2 penalties on the hidden layer's kernel to choose from on validation years (the last two training
   * years, never a test year): 10,988 inputs and 96 training months overfit without one.
   */
  l2Grid?: number[];
  build(inputShape: number[], opts?: { l2?: number }): tf.LayersModel;
}

let seed = 1;
const kinit = () => tf.initializers.glorotUniform({ seed: seed++ });

/** Start the initializer seeds of model `index` (its place in SAMPLES): a model's seeds then depend on it alone, not on which models were built before it. */
export function seedModel(index: number): void {
  seed = 1 + 1000 * index;
}

function conv(filters: number, k: number, opts: { strides?: number; padding?: 'same' | 'valid'; activation?: 'relu' | 'linear'; name: string }) {
  return tf.layers.conv2d({
    filters,
    kernelSize: k,
    strides: opts.strides ?? 1,
    padding: opts.padding ?? 'same',
    activation: opts.activation ?? 'relu',
    kernelInitializer: kinit(),
    name: opts.name,
  });
}

function dense(units: number, activation: 'relu' | 'linear' | 'softmax', name: string, l2 = 0) {
  return tf.layers.dense({ units, activation, kernelInitializer: kinit(), kernelRegularizer: l2 > 0 ? tf.regularizers.l2({ l2 }) : undefined, name });
}

function sequential(name: string, inputShape: number[], layers: tf.layers.Layer[]): tf.LayersModel {
  const m = tf.sequential({ name });
  m.add(tf.layers.inputLayer({ inputShape, name: 'sst' }));
  for (const l of layers) m.add(l);
  return m;
}

export const SAMPLES: SampleSpec[] = [
  {
    name: 'mlp_relu',
    purpose: 'MLP on the 10,988 ocean cells of the 2-degree grid (the literature setting), ReLU hidden layer',
    data: 'ocean2',
    l2Grid: [0, 0.01, 0.1, 1],
    build: (s, o) => sequential('mlp_relu', s, [dense(32, 'relu', 'hidden', o?.l2), dense(3, 'softmax', 'probs')]),
  },
  {
    name: 'mlp_linear',
    purpose: 'the same MLP with a linear hidden layer: LRP reduces to gradient x input (LRP107)',
    data: 'ocean2',
    l2Grid: [0, 0.01, 0.1, 1],
    build: (s, o) => sequential('mlp_linear', s, [dense(32, 'linear', 'hidden', o?.l2), dense(3, 'softmax', 'probs')]),
  },
  {
    name: 'cnn_same_maxpool',
    purpose: 'CNN with zero (same) padding and max-pooling: border and sparsity artifacts expected (LRP101, LRP103)',
    data: 'grid5',
    build: (s) =>
      sequential('cnn_same_maxpool', s, [
        conv(8, 5, { name: 'conv1' }),
        tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
        conv(16, 3, { name: 'conv2' }),
        tf.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }),
        tf.layers.flatten({ name: 'flatten' }),
        dense(32, 'relu', 'fc'),
        dense(3, 'softmax', 'probs'),
      ]),
  },
  {
    name: 'cnn_valid_wrap_avgpool',
    purpose: 'the remedy: valid convolutions on a longitude-wrapped input, average pooling (no LRP101/LRP103)',
    data: 'grid5',
    wrapLon: 4,
    build: (s) =>
      sequential('cnn_valid_wrap_avgpool', s, [
        conv(8, 5, { padding: 'valid', name: 'conv1' }),
        tf.layers.averagePooling2d({ poolSize: 2, name: 'pool1' }),
        conv(16, 3, { padding: 'valid', name: 'conv2' }),
        tf.layers.averagePooling2d({ poolSize: 2, name: 'pool2' }),
        tf.layers.flatten({ name: 'flatten' }),
        dense(32, 'relu', 'fc'),
        dense(3, 'softmax', 'probs'),
      ]),
  },
  {
    name: 'cnn_stride2',
    purpose: 'CNN whose first convolution is 3x3 with stride 2: grid (checkerboard) artifact (LRP102, LRP203)',
    data: 'grid5',
    build: (s) =>
      sequential('cnn_stride2', s, [
        conv(8, 3, { strides: 2, name: 'conv1' }),
        conv(16, 3, { strides: 2, name: 'conv2' }),
        tf.layers.flatten({ name: 'flatten' }),
        dense(32, 'relu', 'fc'),
        dense(3, 'softmax', 'probs'),
      ]),
  },
  {
    name: 'cnn_bn_after_act',
    purpose: 'CNN with BatchNormalization after the activation: cannot be merged (LRP104)',
    data: 'grid5',
    build: (s) =>
      sequential('cnn_bn_after_act', s, [
        conv(8, 5, { name: 'conv1' }),
        tf.layers.batchNormalization({ name: 'bn1' }),
        tf.layers.maxPooling2d({ poolSize: 2, name: 'pool1' }),
        conv(16, 3, { name: 'conv2' }),
        tf.layers.batchNormalization({ name: 'bn2' }),
        tf.layers.maxPooling2d({ poolSize: 2, name: 'pool2' }),
        tf.layers.flatten({ name: 'flatten' }),
        dense(3, 'softmax', 'probs'),
      ]),
  },
  {
    name: 'resnet_small',
    purpose: 'a small residual network: relevance split at Add (LRP109)',
    data: 'grid5',
    build: (s) => {
      const input = tf.input({ shape: s, name: 'sst' });
      const stem = conv(8, 3, { name: 'stem' }).apply(input) as tf.SymbolicTensor;
      const a = conv(8, 3, { name: 'res_a' }).apply(stem) as tf.SymbolicTensor;
      const b = conv(8, 3, { activation: 'linear', name: 'res_b' }).apply(a) as tf.SymbolicTensor;
      const add = tf.layers.add({ name: 'add' }).apply([stem, b]) as tf.SymbolicTensor;
      const act = tf.layers.activation({ activation: 'relu', name: 'add_relu' }).apply(add) as tf.SymbolicTensor;
      const pool = tf.layers.averagePooling2d({ poolSize: 2, name: 'pool' }).apply(act) as tf.SymbolicTensor;
      const flat = tf.layers.flatten({ name: 'flatten' }).apply(pool) as tf.SymbolicTensor;
      const out = dense(3, 'softmax', 'probs').apply(flat) as tf.SymbolicTensor;
      return tf.model({ inputs: input, outputs: out, name: 'resnet_small' });
    },
  },
];
