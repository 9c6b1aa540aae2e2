/** The executor: file layouts in and out, batching, every node's activation, and no leaked tensors. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, useBackend } from '../backend.js';
import type { LayerNode, ModelGraph } from './graph.js';
import { inferShapes } from './shapes.js';
import { disposeAll, forwardAll, predict, predictAll } from './execute.js';
import { LensError } from '../errors.js';

before(async () => {
  await useBackend('wasm');
});

const lin = { name: 'linear' } as const;

/** NCHW conv model (as a PyTorch ONNX export would load): 1x1 conv swapping two channels, then identity. */
function nchwGraph(): ModelGraph {
  // kernel [1,1,ci=2,co=2]: out0 = in1, out1 = 2*in0.
  const kernel = { shape: [1, 1, 2, 2], data: Float32Array.from([0, 2, 1, 0]) };
  const nodes = [
    { name: 'x', kind: 'Input', inbound: [], params: {}, weights: {}, activation: lin, outputShape: [], source: { className: 'Input' } },
    {
      name: 'conv', kind: 'Conv', inbound: ['x'],
      params: { rank: 2, filters: 2, kernelSize: [1, 1], strides: [1, 1], dilation: [1, 1], padding: { mode: 'valid', pads: [] }, groups: 1, useBias: false },
      weights: { kernel }, activation: lin, outputShape: [], source: { className: 'Conv' },
    },
    { name: 'drop', kind: 'Identity', inbound: ['conv'], params: { originalClass: 'Dropout' }, weights: {}, activation: lin, outputShape: [], source: { className: 'Dropout' } },
  ] as unknown as LayerNode[];
  return inferShapes({
    file: '/t/model.onnx', name: 't', format: { name: 'onnx', version: '13' },
    inputs: [{ node: 'x', fileName: 'x', fileShape: [null, 2, 3, 4], fileLayout: 'NCHW' }],
    outputs: [{ node: 'drop', fileName: 'y', fileShape: [null, 2, 3, 4], fileLayout: 'NCHW' }],
    nodes,
  });
}

test('an NCHW file takes and returns NCHW arrays; batching does not change results', () => {
  const g = nchwGraph();
  assert.deepEqual(g.nodes[0].outputShape, [null, 3, 4, 2], 'input node is channels-last');
  const n = 5;
  const data = Float32Array.from({ length: n * 24 }, (_, i) => Math.sin(i));
  const y = predict(g, { shape: [n, 2, 3, 4], data, dtype: 'f4' });
  assert.deepEqual(y.shape, [n, 2, 3, 4]);
  for (let s = 0; s < n; s++) {
    for (let p = 0; p < 12; p++) {
      const in0 = data[s * 24 + p];
      const in1 = data[s * 24 + 12 + p];
      assert.ok(Math.abs(y.data[s * 24 + p] - in1) < 1e-6);
      assert.ok(Math.abs(y.data[s * 24 + 12 + p] - 2 * in0) < 1e-6);
    }
  }
  const y2 = predictAll(g, { shape: [n, 2, 3, 4], data, dtype: 'f4' }, { batchSize: 2 })[0];
  assert.deepEqual(Array.from(y2.data), Array.from(y.data));
  // A single sample without its batch dimension is accepted.
  const one = predict(g, { shape: [2, 3, 4], data: data.subarray(0, 24), dtype: 'f4' });
  assert.deepEqual(one.shape, [1, 2, 3, 4]);
});

test('a wrongly shaped input is a BAD_INPUT LensError', () => {
  const g = nchwGraph();
  assert.throws(() => predict(g, { shape: [1, 3, 3, 4], data: new Float32Array(36), dtype: 'f4' }), (e) => e instanceof LensError && e.code === 'BAD_INPUT');
});

test('forwardAll gives every node its activation; predict and forwardAll leak no tensors', () => {
  const g = nchwGraph();
  const start = tf.memory().numTensors;
  const data = Float32Array.from({ length: 48 }, (_, i) => i / 10);
  predict(g, { shape: [2, 2, 3, 4], data, dtype: 'f4' }, { batchSize: 1 });
  assert.equal(tf.memory().numTensors, start, 'predict leaves no tensors');
  const x = tf.tensor(data, [2, 3, 4, 2]);
  const acts = forwardAll(g, x);
  assert.deepEqual([...acts.keys()], ['x', 'conv', 'drop']);
  assert.deepEqual(acts.get('conv')?.shape, [2, 3, 4, 2]);
  assert.deepEqual(Array.from(acts.get('drop')?.dataSync() ?? []), Array.from(acts.get('conv')?.dataSync() ?? []));
  disposeAll(acts);
  x.dispose();
  assert.equal(tf.memory().numTensors, start, 'forwardAll tensors all disposed');
  assert.equal(x.isDisposed, true);
});
