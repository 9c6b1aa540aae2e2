/** Selecting and taking samples (one copy for every front end) and the one randomized model of the sanity views. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pickByLabel, selectIndices, takeSamples } from './samples.js';
import { randomizedLayers } from './sanity.js';
import { loadModel } from '../model/load.js';
import { collectFromArray } from '../artifacts/collect.js';
import { useBackend } from '../backend.js';
import { readNpyFile } from '../../testing/arrays.js';
import { REF } from '../../testing/paths.js';
import { GraphBuilder, rng } from '../lrp/test-graphs.js';

test('selections: the first ones up to the cap, given indices checked against the batch', () => {
  assert.deepEqual(selectIndices(5, {}, undefined, 3), [0, 1, 2]);
  assert.deepEqual(selectIndices(5, { indices: [4, 1], maxSamples: 1 }), [4]);
  assert.deepEqual(selectIndices(2, {}, undefined, Infinity), [0, 1]);
  assert.throws(() => selectIndices(5, { indices: [5] }), (e: Error & { code: string }) => e.code === 'SELECTION_OUT_OF_RANGE');
  const x = { shape: [3, 2], data: Float32Array.from([0, 1, 2, 3, 4, 5]), dtype: 'f4' as const };
  assert.deepEqual(takeSamples(x, [2, 0]), { shape: [2, 2], data: Float32Array.from([4, 5, 0, 1]), dtype: 'f4' });
  assert.deepEqual(pickByLabel([0, 1, 1, 0, 1, 1], 1, 2), [2, 5]);
});

test('the randomized model re-initializes the layers the checks\' cascade ends with (a depthwise convolution too)', async () => {
  await useBackend('wasm');
  const real = await loadModel(join(REF, 'cnn_same', 'model.h5'));
  const b = new GraphBuilder(rng(3), [null, 6, 6, 2]);
  b.conv(3, 2, [3, 3], { activation: { name: 'relu' } });
  b.depthwise(3, [3, 3], 1, { activation: { name: 'relu' } });
  b.flatten();
  b.dense(2, 4 * 4 * 3);
  const dw = b.build('depthwise');
  const cases = [
    { graph: real, x: readNpyFile(join(REF, 'cnn_same', 'x_nhwc.npy')) },
    { graph: dw, x: { shape: [2, 6, 6, 2], data: new Float32Array(144).map((_, i) => Math.sin(i)), dtype: 'f4' as const } },
  ];
  for (const { graph, x } of cases) {
    const ctx = await collectFromArray(graph, x, 'epsilon', { maxSamples: 2 });
    const last = ctx.randomized![ctx.randomized!.length - 1].layers;
    assert.deepEqual([...randomizedLayers(graph)].sort(), [...last].sort());
  }
  assert.ok(randomizedLayers(dw).some((n) => dw.nodes.find((d) => d.name === n)?.kind === 'DepthwiseConv'));
});
