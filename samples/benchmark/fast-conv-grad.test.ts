/**
 * The benchmark's training kernel (fast-conv-grad.ts) gives the same filter gradients as tfjs's own cpu
 * kernel, bit for bit (same loops, same order, same accumulator), on channels-last convolutions with
 * stride 1 and 2, same and valid padding, one and several channels.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useFastConvFilterGrad } from './fast-conv-grad.js';

const CASES: [x: [number, number, number, number], filter: [number, number, number, number], stride: number, pad: 'same' | 'valid'][] = [
  [[3, 9, 11, 2], [3, 3, 2, 4], 2, 'same'],
  [[2, 8, 8, 1], [4, 4, 1, 3], 2, 'valid'],
  [[2, 7, 9, 3], [5, 5, 3, 2], 1, 'same'],
  [[4, 12, 10, 4], [3, 3, 4, 4], 1, 'valid'],
];

function gradients(): Float32Array[] {
  return CASES.map(([xs, fs, s, pad], i) => tf.tidy(() => {
    const x = tf.randomNormal(xs, 0, 1, 'float32', 7 + i);
    const dyShape = tf.conv2d(x as tf.Tensor4D, tf.zeros(fs) as tf.Tensor4D, s, pad).shape;
    const dy = tf.randomNormal(dyShape, 0, 1, 'float32', 9 + i);
    const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [s, s], pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: fs } as unknown as tf.NamedAttrMap) as tf.Tensor;
    assert.deepEqual(dw.shape, fs);
    return dw.dataSync() as Float32Array;
  }));
}

test('the fast filter gradient equals tfjs\'s cpu kernel bit for bit', async () => {
  await tf.setBackend('cpu');
  const ref = gradients();
  const restore = useFastConvFilterGrad();
  try {
    const fast = gradients();
    ref.forEach((r, i) => {
      assert.equal(fast[i].length, r.length);
      assert.ok(r.some((v) => v !== 0), `case ${i}: non-trivial gradient`);
      for (let j = 0; j < r.length; j++) assert.ok(Object.is(fast[i][j], r[j]), `case ${i}, entry ${j}: ${fast[i][j]} vs ${r[j]}`);
    });
  } finally {
    restore();
  }
});
