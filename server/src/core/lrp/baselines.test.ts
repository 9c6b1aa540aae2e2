/** Gradient baselines: definitions checked against each other and against LRP-0 where theory says they agree. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, useBackend } from '../backend.js';
import { GraphBuilder, randomArray, rng } from './test-graphs.js';
import { LrpExplainer } from './engine.js';
import { baseline } from './baselines.js';

function maxRel(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / s;
}

test('gradient x input equals LRP-0 on a bias-free ReLU net; IG equals it on a linear net; SmoothGrad without noise is the gradient', async () => {
  await useBackend('wasm');
  const start = tf.memory().numTensors;
  const b = new GraphBuilder(rng(5), [null, 6, 6, 2]);
  b.conv(3, 2, [3, 3], { bias: false, activation: { name: 'relu' } });
  b.pool('max', [2, 2]);
  b.flatten();
  b.dense(3, 27, { bias: false });
  const g = b.build('relu');
  const x = { shape: [2, 6, 6, 2], data: randomArray(144, rng(6)), dtype: 'f4' as const };
  const ex = new LrpExplainer(g, { composite: 'epsilon', ruleMap: [{ kind: 'linear', rule: 'lrp0' }] });
  const lrp = ex.explain(x, { target: { type: 'index', index: 2 }, init: 'output' });
  const gxi = baseline(ex, x, { method: 'gradient-x-input', target: { type: 'index', index: 2 } });
  const e0 = maxRel(gxi.relevance.data as Float32Array, lrp.relevance.data as Float32Array);
  assert.ok(e0 < 1e-5, `gxi vs lrp0 ${e0} ${Array.from(gxi.relevance.data.slice(0, 6))} ${Array.from(lrp.relevance.data.slice(0, 6))}`);
  const grad = baseline(ex, x, { method: 'gradient', target: { type: 'index', index: 2 } });
  const sg = baseline(ex, x, { method: 'smoothgrad', noise: 0, samples: 3, target: { type: 'index', index: 2 } });
  assert.ok(maxRel(sg.relevance.data as Float32Array, grad.relevance.data as Float32Array) < 1e-6);
  ex.dispose();

  const lb = new GraphBuilder(rng(8), [null, 5]);
  lb.dense(4, 5, { bias: false });
  lb.dense(2, 4, { bias: false });
  const lin = new LrpExplainer(lb.build('linear'), { composite: 'epsilon' });
  const xl = { shape: [3, 5], data: randomArray(15, rng(9)), dtype: 'f4' as const };
  const ig = baseline(lin, xl, { method: 'integrated-gradients', steps: 4 });
  const gl = baseline(lin, xl, { method: 'gradient-x-input' });
  assert.ok(maxRel(ig.relevance.data as Float32Array, gl.relevance.data as Float32Array) < 1e-5);
  // Completeness: IG sums to f(x) - f(0) = f(x) for a bias-free linear net.
  const e = lin.explain(xl);
  e.targets.forEach((t, s) => {
    const sum = Array.from(ig.relevance.data.subarray(s * 5, s * 5 + 5)).reduce((a, v) => a + v, 0);
    assert.ok(Math.abs(sum - t.value) < 1e-4 * Math.max(1, Math.abs(t.value)));
  });
  lin.dispose();
  assert.equal(tf.memory().numTensors, start);
});
