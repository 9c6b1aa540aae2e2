/**
 * Keras Conv2DTranspose and PReLU from real and written .h5 files. The real decoder
 * (shared/real-models/sun-decoder-deconv) against an independent numpy float64 run of the same weights
 * (fixtures/sun-decoder-ref/make_reference.py); PReLU against its formula on the file's own outputs.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REAL, REF, REPO, scratchDir } from '../../../testing/paths.js';
import { readNpyFile as npy } from '../../../testing/arrays.js';
import { useBackend } from '../../backend.js';
import { loadModel } from '../load.js';
import { predict } from '../execute.js';
import { expectLensError } from './keras-testkit.js';
import { readKerasH5Raw, writeKerasH5 } from '../writers/keras-h5-writer.js';
import { mulberry32 } from '../../random.js';

const FIX = join(REPO, 'server', 'src', 'core', 'model', 'formats', 'fixtures', 'sun-decoder-ref');
const dir = scratchDir('keras-transposed');

before(async () => {
  await useBackend('wasm');
});

test('real sun-decoder (Conv2DTranspose stride 2, same) predicts the numpy float64 reference to float32 precision', async () => {
  const g = await loadModel(join(REAL, 'sun-decoder-deconv', 'decoder.h5'));
  const convT = g.nodes.filter((n) => n.kind === 'ConvTranspose');
  assert.equal(convT.length, 4);
  assert.deepEqual(convT.map((n) => n.outputShape), [[null, 32, 32, 64], [null, 64, 64, 32], [null, 128, 128, 16], [null, 256, 256, 1]]);
  const x = npy(join(FIX, 'x.npy'));
  const ref = npy(join(FIX, 'y_every3.npy'));
  const y = predict(g, x);
  assert.deepEqual(y.shape, [3, 256, 256, 1]);
  const side = ref.shape[1];
  const want = ref.data as Float32Array;
  const got = y.data as Float32Array;
  let worst = 0;
  for (let s = 0; s < 3; s++) {
    let err = 0;
    let scale = 0;
    for (let i = 0; i < side; i++) {
      for (let j = 0; j < side; j++) {
        const w = want[(s * side + i) * side + j];
        err = Math.max(err, Math.abs(got[s * 65536 + 3 * i * 256 + 3 * j] - w));
        scale = Math.max(scale, Math.abs(w));
      }
    }
    worst = Math.max(worst, err / scale);
  }
  console.log(`# sun-decoder: max relative error ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-5, `relative error ${worst}`);
});

/** The reference MLP (ends in a linear Dense(2)) with a PReLU appended as its output layer. */
async function mlpWithPrelu(name: string, config: Record<string, unknown>, alpha: { shape: number[]; data: Float32Array }): Promise<string> {
  const raw = await readKerasH5Raw(join(REF, 'mlp', 'model.h5'));
  (raw.config as { config: { layers: unknown[] } }).config.layers.push({ class_name: 'PReLU', config: { name: 'pr', ...config } });
  raw.weights.pr = [{ name: 'alpha', ...alpha }];
  const out = join(dir, `${name}.h5`);
  await writeKerasH5(out, raw.config, raw.weights, { style: 'keras2', layerNames: [...raw.layerNames, 'pr'] });
  return out;
}

test('Keras PReLU: per-unit slopes apply to negative outputs only; a slope shape that does not fit is refused', async () => {
  const x = npy(join(REF, 'mlp', 'x_nhwc.npy'));
  const plain = predict(await loadModel(join(REF, 'mlp', 'model.h5')), x).data as Float32Array;
  const r = mulberry32(3);
  const alpha = Float32Array.from({ length: 2 }, () => r() * 2 - 1);
  const g = await loadModel(await mlpWithPrelu('prelu', { shared_axes: null }, { shape: [2], data: alpha }));
  assert.equal(g.nodes.at(-1)!.kind, 'PReLU');
  const y = predict(g, x).data as Float32Array;
  assert.ok(plain.some((v) => v < 0) && plain.some((v) => v > 0), 'the check sees both signs');
  plain.forEach((v, i) => assert.ok(Math.abs(y[i] - (v >= 0 ? v : alpha[i % 2] * v)) <= 1e-6 * Math.max(1, Math.abs(v)), `output ${i}`));
  await expectLensError(loadModel(await mlpWithPrelu('prelu-bad', {}, { shape: [3], data: new Float32Array(3) })), 'WEIGHT_MISMATCH', 'pr');
  await expectLensError(loadModel(await mlpWithPrelu('prelu-shared', { shared_axes: [1] }, { shape: [2], data: alpha })), 'WEIGHT_MISMATCH', 'pr');
});

/** A one-layer Keras 2 Sequential .h5 written with the project's writer. */
async function oneLayer(name: string, inShape: number[], layer: Record<string, unknown>, weights: { name: string; shape: number[]; data: Float32Array }[]): Promise<string> {
  const config = {
    class_name: 'Sequential',
    config: { name: 'seq', layers: [{ class_name: 'InputLayer', config: { batch_input_shape: [null, ...inShape], dtype: 'float32', name: 'inp' } }, layer] },
  };
  const out = join(dir, `${name}.h5`);
  const lname = (layer.config as { name: string }).name;
  await writeKerasH5(out, config, { [lname]: weights }, { style: 'keras2', layerNames: ['inp', lname] });
  return out;
}

test('Keras Conv1DTranspose (valid, output_padding, Keras [k, filters, in] kernel) and Conv3DTranspose (same) load and run', async () => {
  const r = mulberry32(11);
  const rand = (n: number) => Float32Array.from({ length: n }, () => r() * 2 - 1);
  const kernel = rand(3 * 2 * 4);
  const bias = rand(2);
  const path = await oneLayer('ct1d', [5, 4], {
    class_name: 'Conv1DTranspose',
    config: { name: 'ct', filters: 2, kernel_size: [3], strides: [2], padding: 'valid', output_padding: [1], dilation_rate: [1], activation: 'linear', use_bias: true },
  }, [{ name: 'kernel', shape: [3, 2, 4], data: kernel }, { name: 'bias', shape: [2], data: bias }]);
  const g = await loadModel(path);
  // Keras deconv_output_length: (5 - 1) * 2 + 3 + 1 = 12.
  assert.deepEqual(g.nodes[1].outputShape, [null, 12, 2]);
  const x = { shape: [1, 5, 4], data: rand(20), dtype: 'f4' as const };
  const y = predict(g, x).data as Float32Array;
  const want = new Float64Array(24);
  for (let o = 0; o < 5; o++) for (let k = 0; k < 3; k++) for (let f = 0; f < 2; f++) for (let c = 0; c < 4; c++) want[(o * 2 + k) * 2 + f] += x.data[o * 4 + c] * kernel[(k * 2 + f) * 4 + c];
  want.forEach((v, i) => assert.ok(Math.abs(y[i] - (v + bias[i % 2])) < 1e-5, `cell ${i}: ${y[i]} vs ${v + bias[i % 2]}`));
  const p3 = await oneLayer('ct3d', [2, 3, 4, 1], {
    class_name: 'Conv3DTranspose',
    config: { name: 'ct3', filters: 2, kernel_size: [2, 2, 3], strides: [2, 1, 2], padding: 'same', output_padding: null, dilation_rate: [1, 1, 1], activation: 'relu', use_bias: false },
  }, [{ name: 'kernel', shape: [2, 2, 3, 2, 1], data: rand(24) }]);
  const g3 = await loadModel(p3);
  assert.deepEqual(g3.nodes[1].outputShape, [null, 4, 3, 8, 2]);
  const y3 = predict(g3, { shape: [1, 2, 3, 4, 1], data: rand(24), dtype: 'f4' });
  assert.ok(Array.from(y3.data).every((v) => Number.isFinite(v) && v >= 0));
  await expectLensError(loadModel(await oneLayer('ct-causal', [5, 4], {
    class_name: 'Conv1DTranspose',
    config: { name: 'ctc', filters: 2, kernel_size: [3], strides: [1], padding: 'causal', activation: 'linear', use_bias: false },
  }, [{ name: 'kernel', shape: [3, 2, 4], data: rand(24) }])), 'UNSUPPORTED_CONFIG', 'ctc');
});
