/**
 * Keras recurrent layers (SimpleRNN, LSTM, GRU, Bidirectional, TimeDistributed) load and run: outputs
 * against float64 numpy references from the published equations (fixtures/recurrent/, written by
 * make_recurrent_fixtures.py), the real sunspot LSTM against its own weights run in numpy, refusals by name.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { useBackend } from '../../backend.js';
import { toFloat32 } from '../../array.js';
import { readNpyFile, relError as relErr } from '../../../testing/arrays.js';
import { REAL, REPO } from '../../../testing/paths.js';
import { LensError } from '../../errors.js';
import { loadModel } from '../load.js';
import { predict } from '../execute.js';
import { LrpExplainer } from '../../lrp/engine.js';
import { buildKerasGraph } from './keras-config.js';
import { inferShapes } from '../shapes.js';
import { runStaticChecks } from '../../artifacts/catalogue.js';

const FIX = join(REPO, 'server/src/core/model/formats/fixtures/recurrent');

before(async () => {
  await useBackend('wasm');
});

async function checkCase(stem: string, file = join(FIX, `${stem}.h5`)): Promise<number> {
  const g = await loadModel(file);
  const x = readNpyFile(join(FIX, `${stem}.x.npy`));
  const want = readNpyFile(join(FIX, `${stem}.y.npy`));
  const y = predict(g, x);
  assert.deepEqual(y.shape, want.shape, `${stem}: output shape`);
  const e = relErr(y.data as Float32Array, Float64Array.from(want.data));
  assert.ok(e < 1e-5, `${stem}: max relative error ${e}`);
  return e;
}

const CASES = [
  'simple_rnn', 'simple_rnn_nobias', 'lstm', 'lstm_backwards', 'gru_stacked', 'gru_backwards', 'bidir_concat', 'bidir_sum',
  'bidir_ave_seq', 'conv_lstm', 'hard_sigmoid_k2', 'hard_sigmoid_k3',
];

for (const stem of CASES) {
  test(`Keras ${stem} matches the float64 reference`, async () => {
    const e = await checkCase(stem);
    console.log(`# ${stem}: max relative error ${e.toExponential(2)}`);
  });
}

test('Keras 3 .keras: Bidirectional(LSTM) -> GRU -> Dense with weights under cell/ and forward_layer/ backward_layer/', async () => {
  const e = await checkCase('keras3_bidir_gru', join(FIX, 'keras3_bidir_gru.keras'));
  console.log(`# keras3_bidir_gru: max relative error ${e.toExponential(2)}`);
});

test('TF.js layers: GRU (recurrent_activation left to the TF.js default, hard sigmoid) -> Bidirectional(LSTM), weights scoped by cell', async () => {
  const e = await checkCase('tfjs_gru_bidir', join(FIX, 'tfjs_gru_bidir', 'model.json'));
  console.log(`# tfjs_gru_bidir: max relative error ${e.toExponential(2)}`);
});

test('Keras to_json architecture + HDF5 weights: the same LSTM', async () => {
  const h5 = join(FIX, 'lstm_backwards.h5');
  const json = join(FIX, 'lstm_backwards.json');
  const g = await loadModel(json, { weightsPath: h5 });
  assert.equal(g.format.name, 'keras-json');
  const y = predict(g, readNpyFile(join(FIX, 'lstm_backwards.x.npy')));
  const e = relErr(y.data as Float32Array, Float64Array.from(readNpyFile(join(FIX, 'lstm_backwards.y.npy')).data));
  assert.ok(e < 1e-5, `max relative error ${e}`);
});

test('static checks: recurrent layers are explainable (no LRP111), and count as non-linear (no LRP107)', async () => {
  const g = await loadModel(join(FIX, 'bidir_concat.h5'));
  const codes = runStaticChecks(g).map((f) => f.code);
  assert.ok(!codes.includes('LRP111'), codes.join(' '));
  assert.ok(!codes.includes('LRP107'), codes.join(' '));
  const sun = runStaticChecks(await loadModel(join(REAL, 'sunspot-lstm', 'rnn_model.h5')));
  assert.deepEqual(sun.filter((f) => f.code === 'LRP111').map((f) => f.layer?.name), []);
  assert.ok(!sun.some((f) => f.code === 'LRP113'), 'no receptive field through a recurrent layer');
});

test('hard_sigmoid gates follow the Keras version (0.2x+0.5 in Keras 2, x/6+0.5 in Keras 3)', async () => {
  // The two files hold the same weights and input; only keras_version differs, and so do the references.
  const a = readNpyFile(join(FIX, 'hard_sigmoid_k2.y.npy'));
  const b = readNpyFile(join(FIX, 'hard_sigmoid_k3.y.npy'));
  const d = toFloat32(a).reduce((m, v, i) => Math.max(m, Math.abs(v - toFloat32(b)[i])), 0);
  assert.ok(d > 1e-3, 'the fixtures must tell the two slopes apart');
  const g3 = await loadModel(join(FIX, 'hard_sigmoid_k3.h5'));
  const lstm = g3.nodes.find((n) => n.kind === 'Recurrent');
  assert.ok(lstm && lstm.kind === 'Recurrent');
  assert.equal(lstm.params.recurrentActivation.alpha, 1 / 6);
});

test('the real sunspot LSTM (Keras 2.14, open time axis) runs on a user-given length', async () => {
  const g = await loadModel(join(REAL, 'sunspot-lstm', 'rnn_model.h5'));
  assert.deepEqual(g.inputs[0].fileShape, [null, null, 1]);
  assert.deepEqual(g.nodes.filter((n) => n.kind === 'Recurrent').map((n) => n.outputShape), [[null, null, 128], [null, null, 64], [null, 64]]);
  const e = await checkCase('sunspot', join(REAL, 'sunspot-lstm', 'rnn_model.h5'));
  console.log(`# sunspot (T=24): max relative error ${e.toExponential(2)}`);
  // Another length runs too (no reference needed for the shape).
  const y = predict(g, { shape: [1, 7, 1], data: new Float32Array(7).fill(50), dtype: 'f4' });
  assert.deepEqual(y.shape, [1, 1]);
});

test('LRP explains recurrent layers with the Arras epsilon rule, relevance in the input shape (numbers: lrp/recurrent.test.ts)', async () => {
  const g = await loadModel(join(FIX, 'lstm.h5'));
  const ex = new LrpExplainer(g);
  try {
    assert.equal(ex.ruleOf('lstm')?.name, 'lstm-epsilon(0.000001)');
    const x = readNpyFile(join(FIX, 'lstm.x.npy'));
    assert.deepEqual(ex.explain(x).relevance.shape, x.shape);
  } finally {
    ex.dispose();
  }
});

/** A one-layer Functional config around `layer` (Keras 2 form), built without weights: for refusals. */
function refusal(layer: Record<string, unknown>, outputs: unknown = [['l', 0, 0]]): LensError {
  const cfg = {
    class_name: 'Functional',
    config: {
      name: 'm',
      layers: [
        { class_name: 'InputLayer', name: 'in', config: { batch_input_shape: [null, 5, 3], name: 'in' }, inbound_nodes: [] },
        { ...layer, name: 'l', inbound_nodes: [[['in', 0, 0, {}]]] },
      ],
      input_layers: [['in', 0, 0]],
      output_layers: outputs,
    },
  };
  try {
    inferShapes(buildKerasGraph(cfg, { file: 'x.json', format: { name: 'keras-json', version: '2.14.0' }, weights: () => null }));
  } catch (e) {
    assert.ok(e instanceof LensError, String(e));
    return e;
  }
  return assert.fail('expected a refusal');
}

test('Masking, ConvLSTM2D, merge_mode None, TimeDistributed(Conv2D) and return_state outputs are refused by name', () => {
  const m = refusal({ class_name: 'Masking', config: { mask_value: 0 } });
  assert.equal(m.code, 'UNSUPPORTED_LAYER');
  assert.match(m.message, /Masking/);
  assert.ok(m.hint && /remove the Masking layer/.test(m.hint));
  const c = refusal({ class_name: 'ConvLSTM2D', config: { filters: 2 } });
  assert.equal(c.code, 'UNSUPPORTED_LAYER');
  assert.match(c.message, /ConvLSTM2D/);
  const lstm = { class_name: 'LSTM', config: { units: 2, return_state: true } };
  const b = refusal({ class_name: 'Bidirectional', config: { layer: lstm, merge_mode: null } });
  assert.equal(b.code, 'UNSUPPORTED_CONFIG');
  assert.match(b.message, /merge_mode None/);
  const t = refusal({ class_name: 'TimeDistributed', config: { layer: { class_name: 'Conv2D', config: { filters: 2, kernel_size: 3 } } } });
  assert.equal(t.code, 'UNSUPPORTED_LAYER');
  assert.match(t.message, /TimeDistributed\(Conv2D\)/);
  const s = refusal(lstm, [['l', 0, 1]]);
  assert.equal(s.code, 'UNSUPPORTED_CONFIG');
  assert.match(s.message, /return_state/);
});

test('recurrent weights that do not fit the config are refused before running (WEIGHT_MISMATCH / MISSING_WEIGHTS)', () => {
  const cfg = (units: number) => ({
    class_name: 'Sequential',
    config: { name: 'm', layers: [
      { class_name: 'InputLayer', config: { batch_input_shape: [null, null, 3], name: 'in' } },
      { class_name: 'GRU', config: { name: 'gru', units, reset_after: true } },
    ] },
  });
  const w = (name: string, shape: number[]) => ({ name, shape, read: () => new Float32Array(shape.reduce((a, b) => a * b, 1)) });
  const weights = () => [w('gru/gru_cell/kernel:0', [3, 12]), w('gru/gru_cell/recurrent_kernel:0', [4, 12]), w('gru/gru_cell/bias:0', [12])];
  const build = (units: number, provider: () => ReturnType<typeof weights>) => {
    try {
      inferShapes(buildKerasGraph(cfg(units), { file: 'x.json', format: { name: 'keras-json', version: '2.14.0' }, weights: provider }));
    } catch (e) {
      assert.ok(e instanceof LensError, String(e));
      return e.code;
    }
    return 'loaded';
  };
  // reset_after=True needs a (2, 3 units) bias; a (3 units) one is refused, as are other unit counts.
  assert.equal(build(4, weights), 'WEIGHT_MISMATCH');
  assert.equal(build(5, weights), 'WEIGHT_MISMATCH');
  assert.equal(build(4, () => weights().slice(0, 1)), 'MISSING_WEIGHTS');
  assert.equal(build(4, () => [...weights().slice(0, 2), w('gru/gru_cell/bias:0', [2, 12])]), 'loaded');
});
