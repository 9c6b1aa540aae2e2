/**
 * The committed recurrent samples (make-recurrent.ts): each loads from every file it was saved as,
 * reaches the held-out and training accuracy metrics.json reports (recomputed through the project's
 * pipeline and years), and the ESN file is the seeded reservoir with the chosen leak rate whose outputs
 * the training script's own float64 arithmetic (esn.ts) reproduces from the file's weights.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SAMPLES } from '../../server/src/testing/paths.js';
import { useBackend } from '../../server/src/core/backend.js';
import { findEntry, readProject } from '../../server/src/core/data/project.js';
import { buildModelInput, type ModelInput } from '../../server/src/core/data/pipeline.js';
import { loadModel } from '../../server/src/core/model/load.js';
import { predict } from '../../server/src/core/model/execute.js';
import type { LayerNodeOf, ModelGraph } from '../../server/src/core/model/graph.js';
import { accuracyInYears, parseYears } from '../../server/src/core/report/accuracy.js';
import { entryModelFiles } from '../../server/src/core/report/analyze.js';
import { lastStates, makeReservoir, readout } from './esn.js';
import { RESERVOIR, type RecurrentMetrics } from './make-recurrent.js';
import { readFileSync } from 'node:fs';

const METRICS = new Map((JSON.parse(readFileSync(join(SAMPLES, 'models', 'metrics.json'), 'utf8')) as { models: RecurrentMetrics[] }).models.map((m) => [m.name, m]));

before(async () => {
  await useBackend('wasm');
});

async function open(name: string): Promise<{ graphs: ModelGraph[]; input: ModelInput; m: RecurrentMetrics }> {
  const project = await readProject(join(SAMPLES, 'lrp-lens.json'));
  const entry = findEntry(project, name);
  const m = METRICS.get(name);
  assert.ok(m, `${name}: not in samples/models/metrics.json`);
  const graphs = await Promise.all((await entryModelFiles(project, entry)).map((f) => loadModel(f)));
  const spec = graphs[0].inputs[0];
  const input = await buildModelInput(entry, spec.fileShape, { fileLayout: spec.fileLayout });
  return { graphs, input, m };
}

for (const name of ['esn_columns', 'lstm_columns']) {
  test(`${name}: every file reaches the held-out and training accuracy metrics.json reports; the majority baseline is the training years' most frequent class`, { timeout: 300_000 }, async () => {
    const { graphs, input, m } = await open(name);
    assert.deepEqual(input.x.shape.slice(1), m.inputShape, 'fed as (longitude steps, latitude features)');
    assert.deepEqual(input.dims.slice(1), ['lon', 'features']);
    for (const g of graphs) {
      assert.ok(g.nodes.some((n) => n.kind === 'Recurrent'), `${g.file}: no recurrent layer`);
      const te = accuracyInYears(g, input, parseYears(m.testYears));
      assert.equal(te.n, m.testMonths);
      assert.ok(Math.abs(te.accuracy - m.testAccuracy) <= 1e-3, `${g.file}: held-out ${te.accuracy} vs reported ${m.testAccuracy}`);
      const tr = accuracyInYears(g, input, parseYears(m.trainYears));
      assert.equal(tr.n, m.trainMonths);
      assert.ok(Math.abs(tr.accuracy - m.trainAccuracy) <= 1e-3, `${g.file}: training ${tr.accuracy} vs reported ${m.trainAccuracy}`);
    }
    // The baseline from the labels: the training years' most frequent class, scored on the test years.
    const [t0, t1] = parseYears(m.testYears);
    const years = input.times!.map((t) => Number(t.slice(0, 4)));
    const counts = (test: boolean) => [0, 1, 2].map((c) => input.labels!.filter((y, i) => y === c && (years[i] >= t0 && years[i] <= t1) === test).length);
    const train = counts(false);
    const testCounts = counts(true);
    assert.deepEqual(testCounts, m.testClassCounts);
    assert.ok(Math.abs(testCounts[train.indexOf(Math.max(...train))] / m.testMonths - m.majorityBaseline) < 1e-4);
    assert.ok(m.testAccuracy > m.majorityBaseline, `${name}: ${m.testAccuracy} does not beat the majority class ${m.majorityBaseline}`);
    // The formats of one model agree (the LSTM's TF.js and Keras HDF5 files).
    const per = input.x.shape.slice(1).reduce((a, b) => a * b, 1);
    const x = { shape: [8, ...input.x.shape.slice(1)], data: input.x.data.slice(0, 8 * per), dtype: 'f4' as const };
    const ref = predict(graphs[0], x).data as Float32Array;
    for (const g of graphs.slice(1)) {
      const y = predict(g, x).data as Float32Array;
      for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(y[i] - ref[i]) <= 1e-5, `${g.file} output ${i}: ${y[i]} vs ${ref[i]}`);
    }
  });
}

function transpose(a: Float32Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
}

test('esn_columns is the seeded reservoir with the leak rate chosen on the validation years, and esn.ts reproduces its outputs', { timeout: 300_000 }, async () => {
  const { graphs, input, m } = await open('esn_columns');
  assert.equal(graphs.length, 1);
  const g = graphs[0];
  assert.ok(m.esn, 'metrics.json has no esn settings');
  const rnn = g.nodes.find((n) => n.kind === 'Recurrent') as LayerNodeOf<'Recurrent'>;
  const dense = g.nodes.find((n) => n.kind === 'Dense') as LayerNodeOf<'Dense'>;
  assert.equal(rnn.params.cell, 'simple');
  assert.equal(rnn.params.leak, Math.fround(m.esn.leak));
  assert.equal(rnn.params.units, m.esn.units);
  // The leak rate is the best of the validation grid (ties to the larger leak, then the larger penalty).
  const best = Math.max(...m.esn.selection.scores.map((s) => s.accuracy));
  const winners = m.esn.selection.scores.filter((s) => s.accuracy === best).sort((a, b) => b.leak - a.leak || b.ridge - a.ridge);
  assert.deepEqual([winners[0].leak, winners[0].ridge], [m.esn.leak, m.esn.ridge]);
  // The reservoir in the file is the one the seed makes (x U with U = W_res^T), to float32.
  const [T, F] = m.inputShape;
  const N = m.esn.units;
  const res = makeReservoir({ ...RESERVOIR, features: F });
  assert.equal(res.N, N);
  const W_res = transpose(rnn.weights.recurrentKernel.data, N, N);
  for (let i = 0; i < N * N; i++) assert.equal(W_res[i], Math.fround(res.W_res[i]), `W_res[${i}]`);
  let sr = 0;
  for (const v of res.W_res) sr += v !== 0 ? 1 : 0;
  assert.ok(Math.abs(sr / (N * N) - m.esn.density) < 0.02, `density ${sr / (N * N)}`);
  // Outputs: esn.ts in float64 from the file's weights vs the engine's predict (float32).
  const n = 24;
  const x = input.x.data.subarray(0, n * T * F);
  const W_in = transpose(rnn.weights.kernel.data, F, N);
  const S = lastStates({ N, F, W_in, b_in: Float64Array.from(rnn.weights.bias.data), W_res, b_res: new Float64Array(N) }, rnn.params.leak!, x, n, T);
  const ref = readout(S, n, N, transpose(dense.weights.kernel.data, N, 3), Float64Array.from(dense.weights.bias.data));
  const y = predict(g, { shape: [n, T, F], data: x, dtype: 'f4' }).data as Float32Array;
  const scale = Math.max(...Array.from(ref, Math.abs));
  for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(y[i] - ref[i]) <= 1e-5 * scale, `output ${i}: ${y[i]} vs ${ref[i]}`);
});
