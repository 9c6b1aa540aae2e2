/**
 * esn-onnx.ts writes a file the ONNX loader folds into one leaky Recurrent layer (+ the read-out), and
 * predict on it equals the float64 numpy reference of the same weights (the torch-exported ESN fixtures'
 * weights and outputs, server/src/core/model/formats/fixtures/esn-onnx/make_esn_fixtures.py).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { useBackend } from '../../server/src/core/backend.js';
import { readNpyFile, relError } from '../../server/src/testing/arrays.js';
import { REPO } from '../../server/src/testing/paths.js';
import { loadModel } from '../../server/src/core/model/load.js';
import { predictAll } from '../../server/src/core/model/execute.js';
import type { LayerNodeOf } from '../../server/src/core/model/graph.js';
import { writeEsnOnnx } from './esn-onnx.js';
import type { EsnWeights } from './esn.js';

const FIX = join(REPO, 'server/src/core/model/formats/fixtures/esn-onnx');
const DIR = mkdtempSync(join(tmpdir(), 'lens-esn-onnx-'));
const INDEX = JSON.parse(readFileSync(join(FIX, 'index.json'), 'utf8')) as Record<string, { a: number; T: number; F: number }>;

before(async () => {
  await useBackend('wasm');
});

/** [rows, cols] -> [cols, rows] (the fixtures store x W layouts; EsnWeights holds nn.Linear's [out, in]). */
function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
}

function weights(stem: string): EsnWeights {
  const f = (k: string) => {
    const a = readNpyFile(join(FIX, `${stem}.${k}.npy`));
    return { data: Float64Array.from(a.data), shape: a.shape };
  };
  const [wi, wr, wo] = [f('W_in'), f('W_res'), f('W_out')];
  return {
    W_in: transpose(wi.data, wi.shape[0], wi.shape[1]),
    b_in: f('b_in').data,
    W_res: transpose(wr.data, wr.shape[0], wr.shape[1]),
    b_res: f('b_res').data,
    W_out: transpose(wo.data, wo.shape[0], wo.shape[1]),
    b_out: f('b_out').data,
    leak: INDEX[stem].a,
    T: INDEX[stem].T,
    F: INDEX[stem].F,
  };
}

for (const stem of ['esn_leaky', 'esn_matmul_leaky', 'esn_a1']) {
  test(`esn-onnx: ${stem}'s weights written as an unrolled ONNX graph predict the float64 reference`, async () => {
    const w = weights(stem);
    const g = await loadModel(writeEsnOnnx(w, join(DIR, `${stem}.onnx`)));
    assert.deepEqual(g.nodes.map((n) => n.kind), ['Input', 'Recurrent', 'Dense']);
    const rec = g.nodes[1] as LayerNodeOf<'Recurrent'>;
    assert.ok(Math.abs((rec.params.leak ?? 1) - w.leak) < 1e-7);
    const [y] = predictAll(g, readNpyFile(join(FIX, `${stem}.x.npy`)));
    const want = readNpyFile(join(FIX, `${stem}.y.npy`));
    assert.deepEqual(y.shape, want.shape);
    const e = relError(y.data, want.data);
    console.log(`# ${stem} via esn-onnx: max error / max |y| = ${e.toExponential(2)}`);
    assert.ok(e < 1e-5, `relative error ${e}`);
  });
}

test('esn-onnx refuses weights of the wrong size', () => {
  const w = weights('esn_leaky');
  assert.throws(() => writeEsnOnnx({ ...w, W_res: w.W_res.subarray(1) }, join(DIR, 'bad.onnx')), /W_res/);
});
