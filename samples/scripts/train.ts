/** Training and saving for the sample models: seeded, split by years, TF.js's own `save` for the files. */
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../../server/src/core/random.js';

export interface Dataset {
  /** Model inputs, channels-last, batch first. */
  x: Float32Array;
  shape: number[];
  /** Class index per sample (0 = La Nina, 1 = neutral, 2 = El Nino). */
  y: Int32Array;
  years: Int32Array;
}

/** Deterministic shuffle, so `model.fit` can run with shuffle off and stay reproducible. */
export function seededPermutation(n: number, seed: number): number[] {
  const rand = mulberry32(seed);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

export function subset(d: Dataset, idx: number[]): Dataset {
  const per = d.shape.slice(1).reduce((a, b) => a * b, 1);
  const x = new Float32Array(idx.length * per);
  idx.forEach((src, k) => x.set(d.x.subarray(src * per, (src + 1) * per), k * per));
  return {
    x,
    shape: [idx.length, ...d.shape.slice(1)],
    y: Int32Array.from(idx.map((i) => d.y[i])),
    years: Int32Array.from(idx.map((i) => d.years[i])),
  };
}

export function accuracy(model: tf.LayersModel, d: Dataset): number {
  return tf.tidy(() => {
    const out = model.predict(tf.tensor(d.x, d.shape)) as tf.Tensor;
    const pred = out.argMax(-1).dataSync();
    let ok = 0;
    for (let i = 0; i < d.y.length; i++) if (pred[i] === d.y[i]) ok++;
    return ok / d.y.length;
  });
}

export async function train(model: tf.LayersModel, d: Dataset, epochs: number, seed: number): Promise<void> {
  const order = seededPermutation(d.y.length, seed);
  const s = subset(d, order);
  const xs = tf.tensor(s.x, s.shape);
  const ys = tf.oneHot(tf.tensor1d(s.y, 'int32'), 3);
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  await model.fit(xs, ys, { epochs, batchSize: 32, shuffle: false, verbose: 0 });
  xs.dispose();
  ys.dispose();
}

/** The Keras-style model topology ({class_name, config, ...}) that tfjs-layers serialises. */
export interface KerasTopology {
  class_name: string;
  config: unknown;
}

/**
 * TF.js layers model files (model.json + one shard) written by tfjs-layers' own save; returns the topology
 * it wrote, so the Keras HDF5 copy needs no second serialisation.
 */
export async function saveTfjs(model: tf.LayersModel, dir: string): Promise<KerasTopology> {
  mkdirSync(dir, { recursive: true });
  let topology: KerasTopology | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      topology = a.modelTopology as unknown as KerasTopology;
      const weightData = tf.io.CompositeArrayBuffer.join(a.weightData);
      const json = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: null,
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: a.weightSpecs }],
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
      writeFileSync(join(dir, 'group1-shard1of1.bin'), new Uint8Array(weightData));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!topology) throw new Error('tfjs-layers save gave no topology');
  return topology;
}
