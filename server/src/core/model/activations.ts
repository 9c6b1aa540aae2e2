/**
 * Activation functions on channels-last tensors, shared by the Activation kind and the fused activation
 * the executor applies after each layer. Formulas follow the file's framework (Keras / PyTorch via ONNX).
 */
import type * as tfTypes from '@tensorflow/tfjs';
import type { ActivationSpec } from './graph.js';
import { LensError } from '../errors.js';

type TF = typeof tfTypes;
type Tensor = tfTypes.Tensor;

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** Keras 2 (and ONNX's default) hard sigmoid: clip(0.2 x + 0.5, 0, 1). Keras 3 uses slope 1/6. */
export const HARD_SIGMOID_KERAS2 = { alpha: 0.2, beta: 0.5 };
export const HARD_SIGMOID_KERAS3 = { alpha: 1 / 6, beta: 0.5 };

/** Resolve a possibly negative axis against a rank. */
export function resolveAxis(axis: number, rank: number): number {
  const a = axis < 0 ? rank + axis : axis;
  if (a < 0 || a >= rank) throw new LensError('SHAPE_MISMATCH', `axis ${axis} is out of range for a rank-${rank} tensor`);
  return a;
}

export function applyActivation(x: Tensor, spec: ActivationSpec, tf: TF): Tensor {
  switch (spec.name) {
    case 'linear':
      return x;
    case 'relu':
      if (spec.threshold || spec.alpha) return kerasRelu(x, spec, tf);
      if (spec.maxValue !== undefined && Number.isFinite(spec.maxValue)) {
        return spec.maxValue === 6 ? tf.relu6(x) : tf.clipByValue(x, 0, spec.maxValue);
      }
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    case 'leaky_relu':
      // Keras LeakyReLU default 0.3 (Keras 2) / 0.2 (activation fn); loaders pass the file's value.
      return tf.leakyRelu(x, spec.alpha ?? 0.2);
    case 'elu': {
      const alpha = spec.alpha ?? 1;
      if (alpha === 1) return tf.elu(x);
      // elu(x) = x for x > 0, alpha (e^x - 1) otherwise.
      return tf.where(tf.greater(x, 0), x, tf.mul(alpha, tf.expm1(x)));
    }
    case 'selu':
      return tf.where(tf.greater(x, 0), tf.mul(SELU_SCALE, x), tf.mul(SELU_SCALE * SELU_ALPHA, tf.expm1(x)));
    case 'tanh':
      return tf.tanh(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'hard_sigmoid': {
      const alpha = spec.alpha ?? HARD_SIGMOID_KERAS2.alpha;
      const beta = spec.beta ?? HARD_SIGMOID_KERAS2.beta;
      return tf.clipByValue(tf.add(tf.mul(x, alpha), beta), 0, 1);
    }
    case 'softmax':
    case 'log_softmax': {
      const axis = resolveAxis(spec.axis ?? -1, x.rank);
      // Subtract the max for stability, as every framework does.
      const shifted = tf.sub(x, tf.max(x, axis, true));
      const e = tf.exp(shifted);
      const s = tf.sum(e, axis, true);
      return spec.name === 'softmax' ? tf.div(e, s) : tf.sub(shifted, tf.log(s));
    }
    case 'swish':
      return tf.mul(x, tf.sigmoid(x));
    case 'gelu': {
      if (spec.approximate) {
        // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.mul(x, tf.mul(x, x)))));
        return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
      }
      return tf.mul(tf.mul(0.5, x), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
    }
    case 'softplus':
      return tf.softplus(x);
    case 'softsign':
      return tf.div(x, tf.add(1, tf.abs(x)));
    case 'exponential':
      return tf.exp(x);
    default: {
      const name: never = spec.name;
      throw new LensError('UNSUPPORTED_CONFIG', `unknown activation ${String(name)}`);
    }
  }
}

/**
 * Keras ReLU with threshold and/or negative_slope (backend.relu): x * (x > threshold), clipped to
 * [0, max_value] when there is one, minus negative_slope * relu(threshold - x).
 */
function kerasRelu(x: Tensor, spec: ActivationSpec, tf: TF): Tensor {
  const t = spec.threshold ?? 0;
  const alpha = spec.alpha ?? 0;
  const hasMax = spec.maxValue !== undefined && Number.isFinite(spec.maxValue);
  if (alpha !== 0 && !hasMax && t === 0) return tf.leakyRelu(x, alpha);
  let y = t !== 0 ? tf.mul(x, tf.cast(tf.greater(x, t), 'float32')) : tf.relu(x);
  if (hasMax) y = tf.clipByValue(y, 0, spec.maxValue as number);
  if (alpha !== 0) y = tf.sub(y, tf.mul(alpha, tf.relu(tf.sub(t, x))));
  return y;
}
