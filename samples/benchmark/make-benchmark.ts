/**
 * Trains the benchmark's model variants with TensorFlow.js (tiny, seconds each) and writes them as TF.js
 * layers models to samples/benchmark/models/<variant>/ (model.json + weights.bin), with the held-out
 * fields (data/x_test.npy, data/y_test.npy, data/signal_mask.npy) and meta.json (accuracies).
 * Run: npx tsx samples/benchmark/make-benchmark.ts [variant...]
 */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeNpy } from '../../server/src/core/data/npy.js';
import { H, W, makeFields, signalMask } from './fields.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const NTRAIN = 192;
const EPOCHS = 4;

type Build = () => tf.Sequential;
const conv = (filters: number, k: number, s: number, padding: 'same' | 'valid', activation: 'relu' | 'linear' = 'relu', inputShape?: number[]) =>
  tf.layers.conv2d({ filters, kernelSize: k, strides: s, padding, activation, ...(inputShape ? { inputShape } : {}), kernelInitializer: 'heNormal' });
const IN = [H, W, 1];

/** Each variant: the model and the artifact it does or does not carry. */
export const VARIANTS: Record<string, Build> = {
  // padding (LRP101/LRP202): same vs valid; global average pooling lets the same weights run with valid padding (the twin)
  'pad-same': () => seq([conv(4, 5, 1, 'same', 'relu', IN), conv(4, 3, 1, 'same')]),
  'pad-valid': () => seq([conv(4, 5, 1, 'valid', 'relu', IN), conv(4, 3, 1, 'valid')]),
  // strides (LRP102/LRP203): stride 2 with k=3 vs the k=4 remedy, and stride 1
  'stride2-k3': () => seq([conv(4, 3, 2, 'valid', 'relu', IN), conv(4, 3, 2, 'valid')]),
  'stride2-k4': () => seq([conv(4, 4, 2, 'valid', 'relu', IN), conv(4, 4, 2, 'valid')]),
  'stride1-k3': () => seq([conv(4, 3, 1, 'valid', 'relu', IN), conv(4, 3, 1, 'valid')]),
  // pooling (LRP103/LRP204): max vs average
  'pool-max': () => seq([conv(4, 3, 1, 'valid', 'relu', IN), tf.layers.maxPooling2d({ poolSize: 2 }), conv(4, 3, 1, 'valid')]),
  'pool-avg': () => seq([conv(4, 3, 1, 'valid', 'relu', IN), tf.layers.averagePooling2d({ poolSize: 2 }), conv(4, 3, 1, 'valid')]),
  // BatchNorm (LRP104): after vs before the activation
  'bn-after': () => seq([conv(4, 3, 1, 'valid', 'relu', IN), tf.layers.batchNormalization(), conv(4, 3, 1, 'valid')]),
  'bn-before': () => seq([conv(4, 3, 1, 'valid', 'linear', IN), tf.layers.batchNormalization(), tf.layers.activation({ activation: 'relu' }), conv(4, 3, 1, 'valid')]),
  // five convolutions: the z+ chain (epsilon-plus) vs epsilon (LRP112/LRP205/LRP206)
  'deep-cnn': () => seq([conv(4, 3, 1, 'valid', 'relu', IN), conv(4, 3, 1, 'valid'), conv(4, 3, 1, 'valid'), conv(4, 3, 1, 'valid'), conv(4, 3, 1, 'valid')]),
  // MLP vs CNN (LRP110), the linear MLP (LRP107), and the MLP the flat rule is tried on (LRP207)
  'mlp-relu': () => tf.sequential({ layers: [tf.layers.flatten({ inputShape: IN }), tf.layers.dense({ units: 16, activation: 'relu' }), tf.layers.dense({ units: 2, activation: 'softmax' })] }),
  'mlp-linear': () => tf.sequential({ layers: [tf.layers.flatten({ inputShape: IN }), tf.layers.dense({ units: 16, activation: 'linear' }), tf.layers.dense({ units: 2, activation: 'softmax' })] }),
};

/** Convolutional trunk + global average pooling + a softmax over the two classes. */
function seq(trunk: tf.layers.Layer[]): tf.Sequential {
  return tf.sequential({ layers: [...trunk, tf.layers.globalAveragePooling2d({}), tf.layers.dense({ units: 2, activation: 'softmax' })] });
}

async function save(model: tf.LayersModel, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const weights = a.weightData instanceof ArrayBuffer ? new Uint8Array(a.weightData) : new Uint8Array(0);
      writeFileSync(join(dir, 'weights.bin'), weights);
      const json = { format: 'layers-model', generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`, convertedBy: null, modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

async function main(): Promise<void> {
  await tf.setBackend('cpu');
  const only = process.argv.slice(2);
  const train = makeFields(NTRAIN, 1);
  const test = makeFields(64, 2);
  const dataDir = join(HERE, 'data');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, 'x_test.npy'), writeNpy(test.x, [64, H, W, 1]));
  writeFileSync(join(dataDir, 'y_test.npy'), writeNpy(test.y, [64]));
  writeFileSync(join(dataDir, 'signal_mask.npy'), writeNpy(signalMask(), [H, W]));
  const meta: Record<string, { testAccuracy: number; params: number }> = {};
  const xs = tf.tensor4d(train.x, [NTRAIN, H, W, 1]);
  const ys = tf.oneHot(tf.tensor1d(train.y, 'int32'), 2);
  const xt = tf.tensor4d(test.x, [64, H, W, 1]);
  for (const [name, build] of Object.entries(VARIANTS)) {
    if (only.length && !only.includes(name)) continue;
    const t0 = Date.now();
    const model = build();
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    await model.fit(xs, ys, { epochs: EPOCHS, batchSize: 32, verbose: 0, shuffle: true });
    const pred = tf.tidy(() => (model.predict(xt) as tf.Tensor).argMax(1).dataSync());
    let ok = 0;
    for (let i = 0; i < 64; i++) if (pred[i] === test.y[i]) ok++;
    meta[name] = { testAccuracy: ok / 64, params: model.countParams() };
    await save(model, join(HERE, 'models', name));
    process.stdout.write(`${name}: held-out accuracy ${(ok / 64).toFixed(3)} (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
    model.dispose();
  }
  xs.dispose(); ys.dispose(); xt.dispose();
  const metaPath = join(HERE, 'meta.json');
  let old: Record<string, unknown> = {};
  try { old = JSON.parse((await import('node:fs')).readFileSync(metaPath, 'utf8')); } catch { /* first run */ }
  writeFileSync(metaPath, JSON.stringify({ ...old, ...meta }, null, 2) + '\n');
}

main().catch((e) => {
  process.stderr.write(String(e?.stack ?? e) + '\n');
  process.exit(1);
});
