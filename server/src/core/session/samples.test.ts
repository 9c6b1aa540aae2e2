/** Selecting and taking samples (one copy for every front end) and the one randomized model of the sanity views. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseTimeRange, pickByLabel, selectIndices, takeSamples } from './samples.js';
import { openSession, samplesOf } from './session.js';
import { findEntry, readProject } from '../data/project.js';
import { randomizedLayers } from './sanity.js';
import { loadModel } from '../model/load.js';
import { collectFromArray } from '../artifacts/collect.js';
import { useBackend } from '../backend.js';
import { readNpyFile } from '../../testing/arrays.js';
import { REF, SAMPLES } from '../../testing/paths.js';
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

test('samples by date on the real ERSSTv5 anomalies (monthly, 1980-01..2018-12): dates, a range, a date not in the data', async () => {
  const project = await readProject(join(SAMPLES, 'lrp-lens.json'));
  const entry = findEntry(project, 'cnn_same_maxpool');
  const s = await openSession({ model: join(SAMPLES, 'models', 'cnn_same_maxpool', 'model.h5'), data: { kind: 'project', project, entry } });
  const times = s.data!.times!;
  assert.equal(times.length, 468);
  // Two months: one sample each, the data's own values at those positions.
  const two = samplesOf(s, { dates: ['2015-12', '2016-01-01'] });
  assert.deepEqual(two.indices.map((i) => times[i]), ['2015-12-01', '2016-01-01']);
  assert.deepEqual(two.indices, [(2015 - 1980) * 12 + 11, (2016 - 1980) * 12]);
  const per = s.data!.x.data.length / 468;
  assert.deepEqual(two.x.data.subarray(per, 2 * per), s.data!.x.data.subarray(two.indices[1] * per, (two.indices[1] + 1) * per));
  // An inclusive range of 18 months, in time order; the default cap of 64 does not cut it.
  const range = samplesOf(s, { timeRange: '2015-01:2016-06' });
  assert.equal(range.indices.length, 18);
  assert.equal(times[range.indices[0]], '2015-01-01');
  assert.equal(times[range.indices[17]], '2016-06-01');
  assert.ok(range.indices.every((v, k) => k === 0 || v === range.indices[k - 1] + 1));
  // Dates joined with a range: no sample twice; the cap still applies.
  assert.equal(samplesOf(s, { dates: ['2015-03'], timeRange: '2015-01:2015-06' }).indices.length, 6);
  assert.equal(samplesOf(s, { timeRange: '1980-01:2018-12', maxSamples: 5 }).indices.length, 5);
  // A date not there: the error names the axis's span.
  assert.throws(() => samplesOf(s, { dates: ['2019-01'] }), (e: Error & { code: string }) => e.code === 'SELECTION_OUT_OF_RANGE' && e.message.includes('1980-01-01..2018-12-01 (468 times)'));
  assert.throws(() => samplesOf(s, { timeRange: '1950-01:1960-12' }), (e: Error & { code: string }) => e.code === 'SELECTION_OUT_OF_RANGE' && e.message.includes('1980-01-01..2018-12-01'));
  assert.throws(() => samplesOf(s, { dates: ['Dec 2015'] }), (e: Error & { code: string }) => e.code === 'USAGE');
});

test('dates need a time axis; a time range is FROM:TO in order', () => {
  assert.throws(() => selectIndices(3, { dates: ['2015-01'] }), (e: Error & { code: string }) => e.code === 'BAD_INPUT' && /time axis/.test(e.message));
  assert.deepEqual(selectIndices(3, { dates: ['2015-01'] }, undefined, 64, ['2015-01-01', '2015-01-15', '2015-02-01']), [0, 1]);
  assert.deepEqual(parseTimeRange('2015-01:2016-06'), ['2015-01', '2016-06']);
  assert.throws(() => parseTimeRange('2016-06:2015-01'), /ends before it starts/);
  assert.throws(() => parseTimeRange('2015-01'), /FROM:TO/);
});
