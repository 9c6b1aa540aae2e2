/**
 * Rules on small hand-built graphs: the fused fast path equals Zennit's literal per-pass tf.grad
 * procedure for every rule on every kind of linear layer (strides, dilation, groups, depthwise, uneven
 * 'same' padding, 1-D); LRP-0 equals gradient x input on a bias-free ReLU network; conservation where it
 * must hold; the stabilizer's sign convention.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, useBackend } from '../backend.js';
import { GraphBuilder, randomArray, rng } from './test-graphs.js';
import { LrpExplainer } from './engine.js';
import { type RuleMapEntry } from './composites.js';
import { stabilize } from './linear-rule.js';
import type { ModelGraph } from '../model/graph.js';

const RULES = ['epsilon:1e-6', 'epsilon:0.25', 'epsilon-rms:0.1', 'gamma:0.25', 'gamma-classic:0.5', 'alpha-beta:2:1', 'alpha-beta:1:0', 'zplus', 'zbox:-2:3', 'w-square', 'flat', 'epsilon-nobias:0.01', 'gamma-nobias:0.3', 'alpha2-beta1-nobias'];

function mixedGraph(seed: number): ModelGraph {
  const b = new GraphBuilder(rng(seed), [null, 9, 11, 2]);
  b.conv(4, 2, [3, 3], { strides: [2, 2], padding: 'same', activation: { name: 'relu' } });
  b.depthwise(4, [2, 2], 2, { padding: 'same' });
  b.activation('relu');
  b.conv(4, 8, [3, 2], { dilation: [2, 1], padding: 'same', groups: 2 });
  b.activation('relu');
  b.conv(6, 4, [2, 2], { padding: 'same', strides: [1, 2] });
  b.activation('relu');
  b.flatten();
  b.dense(5, 6 * 5 * 3, { activation: { name: 'relu' } });
  b.dense(3, 5);
  return b.build('mixed');
}

function conv1dGraph(seed: number): ModelGraph {
  const b = new GraphBuilder(rng(seed), [null, 13, 3]);
  b.conv(4, 3, [3], { strides: [2], padding: 'same', activation: { name: 'relu' } });
  b.conv(5, 4, [2], { padding: 'valid', dilation: [2], activation: { name: 'relu' } });
  b.flatten();
  b.dense(2, 5 * 5);
  return b.build('conv1d');
}

function conv3dGraph(seed: number): ModelGraph {
  const b = new GraphBuilder(rng(seed), [null, 5, 7, 6, 2]);
  b.conv(3, 2, [3, 2, 3], { strides: [2, 1, 2], padding: 'same', activation: { name: 'relu' } });
  b.conv(4, 3, [2, 2, 2], { padding: 'valid', activation: { name: 'relu' } });
  b.pool('max', [2, 2, 2], 'same');
  b.flatten();
  b.dense(2, 4 * 1 * 3 * 1);
  return b.build('conv3d');
}

function input(shape: number[], seed: number) {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: randomArray(n, rng(seed)), dtype: 'f4' as const };
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('fast path equals per-pass tf.grad for every rule on conv/depthwise/grouped/dense/1-D and 3-D layers (cpu)', async () => {
  await useBackend('cpu');
  const cases = [
    { g: mixedGraph(1), x: input([3, 9, 11, 2], 2) },
    { g: conv1dGraph(3), x: input([2, 13, 3], 4) },
    { g: conv3dGraph(5), x: input([2, 5, 7, 6, 2], 6) },
  ];
  for (const { g, x } of cases) {
    for (const rule of RULES) {
      const map: RuleMapEntry[] = [{ kind: 'linear', rule }];
      const fast = new LrpExplainer(g, { composite: 'epsilon', ruleMap: map, mode: 'fast' });
      const slow = new LrpExplainer(g, { composite: 'epsilon', ruleMap: map, mode: 'grad' });
      try {
        const a = fast.explain(x, { target: { type: 'index', index: 1 } });
        const b = slow.explain(x, { target: { type: 'index', index: 1 } });
        const scale = maxAbs(b.relevance.data as Float32Array);
        assert.ok(scale > 0 && Number.isFinite(scale), `${g.name} ${rule}: reference relevance is ${scale}`);
        const err = maxDiff(a.relevance.data as Float32Array, b.relevance.data as Float32Array) / scale;
        assert.ok(err < 2e-5, `${g.name} ${rule}: fast vs grad relative error ${err}`);
      } finally {
        fast.dispose();
        slow.dispose();
      }
    }
  }
});

test('LRP-0 equals gradient x input on a bias-free ReLU network', async () => {
  await useBackend('cpu');
  const b = new GraphBuilder(rng(7), [null, 8, 8, 2]);
  b.conv(4, 2, [3, 3], { bias: false, activation: { name: 'relu' } });
  b.pool('max', [2, 2]);
  b.conv(3, 4, [3, 3], { bias: false, strides: [2, 2], activation: { name: 'relu' } });
  b.flatten();
  b.dense(4, 12, { bias: false, activation: { name: 'relu' } });
  b.dense(3, 4, { bias: false });
  const g = b.build('nobias');
  const x = input([2, 8, 8, 2], 8);
  const ex = new LrpExplainer(g, { composite: 'epsilon', ruleMap: [{ kind: 'linear', rule: 'lrp0' }] });
  try {
    const e = ex.explain(x, { target: { type: 'index', index: 0 }, init: 'output' });
    // Gradient x input of the target logit, computed by tf.grad over the plain forward pass.
    const gi = tf.tidy(() => {
      const xt = tf.tensor(x.data, x.shape);
      const grad = tf.grad((t: import('@tensorflow/tfjs').Tensor) => {
        let y: import('@tensorflow/tfjs').Tensor = t;
        y = tf.relu(tf.conv2d(y as never, tf.tensor(g.nodes[1].weights.kernel.data, g.nodes[1].weights.kernel.shape) as never, 1, 'same'));
        y = tf.maxPool(y as never, 2, 2, 'valid');
        y = tf.relu(tf.conv2d(y as never, tf.tensor(g.nodes[3].weights.kernel.data, g.nodes[3].weights.kernel.shape) as never, 2, 'same'));
        y = tf.reshape(y, [2, -1]);
        y = tf.relu(tf.matMul(y as never, tf.tensor(g.nodes[5].weights.kernel.data, g.nodes[5].weights.kernel.shape) as never));
        y = tf.matMul(y as never, tf.tensor(g.nodes[6].weights.kernel.data, g.nodes[6].weights.kernel.shape) as never);
        return tf.sum(tf.slice(y, [0, 0], [2, 1]));
      })(xt);
      return tf.mul(grad, xt).dataSync() as Float32Array;
    });
    const scale = maxAbs(gi);
    assert.ok(scale > 0);
    const err = maxDiff(e.relevance.data as Float32Array, gi) / scale;
    assert.ok(err < 1e-5, `LRP-0 vs gradient x input: relative error ${err}`);
    // Without bias and with ReLU, LRP-0 conserves: the input relevance sums to the target logit.
    e.targets.forEach((t, s) => assert.ok(Math.abs(e.relevanceSum[s] - t.value) <= 1e-4 * Math.max(1, Math.abs(t.value)), `sample ${s}: ${e.relevanceSum[s]} vs ${t.value}`));
  } finally {
    ex.dispose();
  }
});

test('epsilon (tiny) without bias conserves relevance layer by layer, through Add and Concatenate', async () => {
  await useBackend('cpu');
  const b = new GraphBuilder(rng(11), [null, 6, 6, 3]);
  const c1 = b.conv(4, 3, [3, 3], { bias: false, activation: { name: 'relu' } });
  const c2 = b.conv(4, 4, [3, 3], { bias: false, activation: { name: 'relu' } });
  const sum = b.merge('Add', [c1 + '', c2]);
  b.at(c1);
  const c3 = b.conv(2, 4, [1, 1], { bias: false, activation: { name: 'relu' } });
  b.concat([sum, c3], 'cat');
  b.pool('avg', [2, 2], 'valid', 'pool');
  b.globalPool('avg', 2, 'gap');
  b.dense(3, 6, { bias: false, name: 'out' });
  const g = b.build('residual');
  const ex = new LrpExplainer(g, { composite: 'epsilon', epsilon: 1e-9 });
  try {
    const e = ex.explain(input([2, 6, 6, 3], 12), { target: { type: 'predicted' }, init: 'onehot' });
    // Every cut through the graph carries the whole relevance (branch nodes carry shares).
    const cuts = e.layers.filter((l) => ['out', 'gap', 'pool', 'cat'].includes(l.name));
    assert.equal(cuts.length, 4);
    for (const layer of cuts) {
      for (const s of layer.relevanceSum) assert.ok(Math.abs(s - 1) < 1e-3, `${layer.name}: relevance sum ${s}`);
    }
    for (const s of e.relevanceSum) assert.ok(Math.abs(s - 1) < 1e-3, `input relevance sum ${s}`);
  } finally {
    ex.dispose();
  }
});

test('stabilizer adds eps*sign(z) with sign(0) = +1', async () => {
  await useBackend('cpu');
  const out = tf.tidy(() => stabilize(tf, tf.tensor1d([-2, 0, 3]), { epsilon: 0.5 }).dataSync());
  assert.deepEqual(Array.from(out), [-2.5, 0.5, 3.5]);
});

test('max-pool routing (window argmax) equals the gradient, with odd sizes, padding and 1-D pools', async () => {
  const { maxPoolRoute } = await import('./pooling.js');
  const { kindOf } = await import('../model/kinds/registry.js');
  for (const backend of ['cpu', 'wasm'] as const) {
    await useBackend(backend);
    for (const [shape, size, padding] of [
      [[2, 9, 11, 3], [2, 2], 'valid'],
      [[2, 9, 11, 3], [2, 3], 'same'],
      [[1, 7, 4], [3], 'same'],
      [[1, 8, 4], [2], 'valid'],
    ] as [number[], number[], 'valid' | 'same'][]) {
      const b = new GraphBuilder(rng(3), [null, ...shape.slice(1)]);
      b.pool('max', size, padding);
      const g = b.build('pool');
      const node = g.nodes[1] as import('../model/graph.js').LayerNodeOf<'Pool'>;
      const [fast, slow] = tf.tidy(() => {
        const x = tf.tensor(randomArray(shape.reduce((a, c) => a * c, 1), rng(17)), shape);
        const y = kindOf(node).forward(node as never, [x], tf);
        const r = tf.tensor(randomArray(y.size, rng(19)), y.shape);
        const a = maxPoolRoute(tf, node, x, r)!;
        const gr = tf.grad((t: import('@tensorflow/tfjs').Tensor) => kindOf(node).forward(node as never, [t], tf))(x, r);
        return [a.dataSync() as Float32Array, gr.dataSync() as Float32Array];
      });
      assert.equal(maxDiff(fast, slow), 0, `${backend} pool ${shape} ${size} ${padding}`);
    }
  }
});

test('ZBox with per-channel bounds: equal values match the scalar rule; distinct values match the per-pass reference', async () => {
  await useBackend('cpu');
  const b = new GraphBuilder(rng(23), [null, 6, 5, 3]);
  b.conv(4, 3, [3, 3], { activation: { name: 'relu' } });
  b.flatten();
  b.dense(2, 120);
  const g = b.build('zbox');
  const x = input([2, 6, 5, 3], 24);
  const run = (low: number | number[], high: number | number[], mode: 'fast' | 'grad') => {
    const ex = new LrpExplainer(g, { composite: 'epsilon-gamma-box', low, high, mode });
    try {
      return ex.explain(x, { target: { type: 'index', index: 0 } }).relevance.data as Float32Array;
    } finally {
      ex.dispose();
    }
  };
  const scalar = run(-2, 2, 'fast');
  assert.ok(maxDiff(run([-2, -2, -2], [2, 2, 2], 'fast'), scalar) <= 1e-6 * maxAbs(scalar));
  const fast = run([-1, -2, -3], [1, 2, 4], 'fast');
  const slow = run([-1, -2, -3], [1, 2, 4], 'grad');
  assert.ok(maxDiff(fast, slow) <= 1e-5 * maxAbs(slow));
  assert.ok(maxDiff(fast, scalar) > 1e-3 * maxAbs(scalar), 'the bounds matter');
});

test('max pooling routed like average pooling (--max-pool avg) shares relevance proportionally and conserves it', async () => {
  await useBackend('cpu');
  const b = new GraphBuilder(rng(29), [null, 8, 8, 2]);
  b.conv(3, 2, [3, 3], { bias: false, activation: { name: 'relu' } });
  b.pool('max', [2, 2], 'valid', 'pool');
  b.flatten();
  b.dense(2, 48, { bias: false });
  const g = b.build('maxavg');
  const x = input([2, 8, 8, 2], 30);
  const winner = new LrpExplainer(g, { composite: 'epsilon', epsilon: 1e-9 });
  const avg = new LrpExplainer(g, { composite: 'epsilon', epsilon: 1e-9, maxPool: 'avg' });
  try {
    const a = winner.explain(x);
    const v = avg.explain(x);
    assert.equal(avg.ruleOf('pool')?.type, 'norm');
    assert.equal(winner.ruleOf('pool')?.type, 'gradient');
    assert.ok(maxDiff(a.relevance.data as Float32Array, v.relevance.data as Float32Array) > 1e-4);
    for (const s of v.relevanceSum) assert.ok(Math.abs(s - 1) < 1e-3, `sum ${s}`);
  } finally {
    winner.dispose();
    avg.dispose();
  }
});
