/** Canonization: BN merge (Dense, Conv, DepthwiseConv) keeps outputs, fused activations split, final softmax/sigmoid stripped. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, useBackend } from '../backend.js';
import { canonicalize } from './canonicalize.js';
import { runGraph } from './execute.js';
import { GraphBuilder, randomArray, rng } from '../lrp/test-graphs.js';

test('BatchNorm after Conv, DepthwiseConv and Dense merges with the file epsilon; outputs unchanged', async () => {
  await useBackend('cpu');
  const b = new GraphBuilder(rng(2), [null, 7, 6, 3]);
  b.conv(4, 3, [3, 3], { bias: false });
  b.batchNorm(4, 1e-3);
  b.activation('relu');
  b.depthwise(4, [2, 2], 2);
  b.batchNorm(8, 1e-5);
  b.activation('relu');
  b.flatten();
  b.dense(5, 6 * 5 * 8, { activation: { name: 'linear' } });
  b.batchNorm(5, 0.01);
  b.dense(3, 5, { activation: { name: 'softmax' } });
  const g = b.build('bn');
  const c = canonicalize(g);
  assert.equal(c.mergedBatchNorms.length, 3);
  assert.ok(!c.graph.nodes.some((n) => n.kind === 'BatchNorm'));
  assert.equal(c.strippedOutput?.activation, 'softmax');
  assert.ok(c.graph.nodes.every((n) => n.activation.name === 'linear'));
  assert.equal(g.nodes.filter((n) => n.kind === 'BatchNorm').length, 3, 'the input graph is left alone');
  const x = tf.tensor(randomArray(2 * 7 * 6 * 3, rng(3)), [2, 7, 6, 3]);
  const [a, bb] = tf.tidy(() => [tf.log(runGraph(g, x)).dataSync(), tf.logSoftmax(runGraph(c.graph, x)).dataSync()]);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - bb[i]) < 1e-5, `output ${i}: ${a[i]} vs ${bb[i]}`);
  x.dispose();
});

test('BatchNorm after an activation stays (not mergeable); a final sigmoid Activation layer is stripped', async () => {
  const b = new GraphBuilder(rng(4), [null, 4]);
  b.dense(3, 4, { activation: { name: 'relu' } });
  b.batchNorm(3);
  b.dense(1, 3);
  b.activation('sigmoid');
  const c = canonicalize(b.build('keep'));
  assert.equal(c.mergedBatchNorms.length, 0);
  assert.ok(c.graph.nodes.some((n) => n.kind === 'BatchNorm'));
  assert.equal(c.strippedOutput?.activation, 'sigmoid');
  assert.equal(c.graph.outputs[0].node, c.strippedOutput?.explains);
  assert.deepEqual(c.splitActivations, ['dense_0']);
});
