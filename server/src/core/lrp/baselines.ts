/**
 * Gradient baselines in the same engine, for comparison views: gradient, gradient x input, integrated
 * gradients (straight path from a baseline, Riemann midpoint sum) and SmoothGrad (mean gradient under
 * Gaussian input noise). They explain the same value LRP does (before a stripped softmax), with the same
 * targets, and return maps in the input's file layout.
 */
import { tf } from '../backend.js';
import type { Tensor } from '@tensorflow/tfjs';
import type { NdArray } from '../array.js';
import { fromChannelsLast } from '../model/execute.js';
import type { LrpExplainer } from './engine.js';
import { type SampleTarget, type TargetSpec, initialRelevance, resolveTargets } from './targets.js';
import { rng } from './random.js';
import type { BaselineName } from '../names.js';

export interface BaselineOptions {
  method: BaselineName;
  target?: TargetSpec;
  /** Integrated gradients: path steps (default 32) and the baseline value (default 0). */
  steps?: number;
  reference?: number;
  /** SmoothGrad: noisy samples (default 16), noise std as a share of each sample's value range (default 0.1), seed. */
  samples?: number;
  noise?: number;
  seed?: number;
}

export interface BaselineResult {
  relevance: NdArray;
  targets: SampleTarget[];
}

/** d(target value)/dx for a channels-last batch, with targets fixed per sample. */
function gradientAt(ex: LrpExplainer, x: Tensor, spec: TargetSpec, targets: SampleTarget[]): Tensor {
  return tf.tidy(() => {
    const f = (t: Tensor): Tensor => {
      const y = ex.forwardOutput(t);
      const w = initialRelevance(tf, spec, targets, new Float32Array(y.size), y.shape, 'onehot');
      return tf.sum(tf.mul(y, w));
    };
    return tf.grad(f)(x);
  });
}

export function baseline(ex: LrpExplainer, xa: NdArray, opts: BaselineOptions): BaselineResult {
  const spec = ex.graph.inputs[0];
  const x = ex.inputOf(xa);
  try {
    const n = x.shape[0];
    const y = ex.forwardOutput(x);
    const target: TargetSpec = opts.target ?? { type: 'predicted' };
    const targets = resolveTargets(target, y.dataSync() as Float32Array, n, y.size / n, y.shape.slice(1));
    y.dispose();
    const out = tf.tidy(() => {
      let r: Tensor;
      switch (opts.method) {
        case 'gradient':
          r = gradientAt(ex, x, target, targets);
          break;
        case 'gradient-x-input':
          r = tf.mul(gradientAt(ex, x, target, targets), x);
          break;
        case 'integrated-gradients': {
          const steps = Math.max(1, Math.floor(opts.steps ?? 32));
          const ref = tf.fill(x.shape, opts.reference ?? 0);
          const diff = tf.sub(x, ref);
          let acc: Tensor = tf.zerosLike(x);
          for (let k = 0; k < steps; k++) {
            const point = tf.add(ref, tf.mul(diff, (k + 0.5) / steps));
            const next = tf.add(acc, gradientAt(ex, point, target, targets));
            acc.dispose();
            acc = next;
          }
          r = tf.mul(tf.div(acc, steps), diff);
          break;
        }
        case 'smoothgrad': {
          const samples = Math.max(1, Math.floor(opts.samples ?? 16));
          const rand = rng(opts.seed ?? 1);
          const axes = x.shape.map((_, i) => i).slice(1);
          const range = tf.sub(tf.max(x, axes, true), tf.min(x, axes, true));
          const std = tf.mul(range, opts.noise ?? 0.1);
          let acc: Tensor = tf.zerosLike(x);
          for (let k = 0; k < samples; k++) {
            // Box-Muller normals from the seeded generator: reproducible maps.
            const size = x.size;
            const z = new Float32Array(size);
            for (let i = 0; i < size; i++) {
              const u = (rand() + 1) / 2 || 1e-12;
              const v = (rand() + 1) / 2;
              z[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
            }
            const noisy = tf.add(x, tf.mul(tf.tensor(z, x.shape), std));
            const next = tf.add(acc, gradientAt(ex, noisy, target, targets));
            acc.dispose();
            acc = next;
          }
          r = tf.div(acc, samples);
          break;
        }
      }
      return fromChannelsLast(r, spec.fileLayout);
    });
    const data = Float32Array.from(out.dataSync() as Float32Array);
    const shape = out.shape;
    out.dispose();
    return { relevance: { shape, data, dtype: 'f4' }, targets };
  } finally {
    x.dispose();
  }
}
