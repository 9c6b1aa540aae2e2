/**
 * `lrp-lens compile`: the written relevance graph, run in a fresh ONNX Runtime session (no lrp-lens code in
 * between), gives the engine's relevance, output and layer sums for the shared reference model (ONNX/NCHW
 * and Keras/NHWC files), with an explicit target and with zero seed rows (the arg-max); bad options are
 * refused before any file is read, and a model that does not lower is refused with the layer named.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ortMod from 'onnxruntime-node';
import { REF, REPO, scratchDir } from '../testing/paths.js';
import { readNpyFile as npy, worstRelPerSample } from '../testing/arrays.js';
import { toFloat32 } from '../core/array.js';
import { useBackend } from '../core/backend.js';
import { loadModel } from '../core/model/load.js';
import { LrpExplainer } from '../core/lrp/engine.js';
import { LensError } from '../core/errors.js';
import { compile, run } from './compile.js';

const ort = ((ortMod as unknown as { default?: typeof ortMod }).default ?? ortMod) as typeof ortMod;

before(async () => {
  await useBackend('wasm');
});

for (const [file, layout] of [['model.onnx', 'nchw'], ['model.h5', 'nhwc']] as const) {
  test(`the compiled graph of cnn_same/${file} runs in a fresh ORT session and matches the engine`, async () => {
    const dir = join(REF, 'cnn_same');
    const out = join(scratchDir('compile'), `cnn_same_${layout}.onnx`);
    const summary = JSON.parse((await compile([join(dir, file), '--composite', 'epsilon-gamma-box', '--low', '-5', '--high', '5', '--gamma', '0.25', '--out', out, '--json'])).text);
    assert.ok(existsSync(out));
    assert.equal(summary.composite, 'epsilon-gamma-box');
    const x = npy(join(dir, `x_${layout}.npy`));
    const n = x.shape[0];
    const session = await ort.InferenceSession.create(readFileSync(out));
    try {
      assert.deepEqual(session.inputNames, ['x', 'seed']);
      assert.deepEqual(session.outputNames, ['relevance', 'output', 'layer_sums']);
      const k = summary.inputs.seed.shape[1] as number;
      const engine = new LrpExplainer(await loadModel(join(dir, file)), { composite: 'epsilon-gamma-box', low: -5, high: 5, gamma: 0.25 });
      try {
        // Target 1 for every sample, then zero rows: the predicted class.
        for (const target of [1, undefined]) {
          const seed = new Float32Array(n * k);
          if (target !== undefined) for (let s = 0; s < n; s++) seed[s * k + target] = 1;
          const res = await session.run({ x: new ort.Tensor('float32', toFloat32(x), x.shape), seed: new ort.Tensor('float32', seed, [n, k]) });
          const want = engine.explain(x, target === undefined ? { target: { type: 'predicted' } } : { target: { type: 'index', index: target } });
          assert.deepEqual(Array.from(res.relevance.dims), want.relevance.shape);
          const err = worstRelPerSample(res.relevance.data as Float32Array, want.relevance.data as Float32Array, n);
          assert.ok(err <= 1e-4, `${file} target ${target}: ${err}`);
          assert.ok(worstRelPerSample(res.output.data as Float32Array, want.output.data, n) < 1e-5);
          // The last layer_sums column is the relevance at the input.
          const sums = res.layer_sums.data as Float32Array;
          const cols = res.layer_sums.dims[1] as number;
          want.relevanceSum.forEach((v, s) => assert.ok(Math.abs(sums[s * cols + cols - 1] - v) <= 1e-4 * Math.max(1, Math.abs(v)), `sum ${s}`));
        }
      } finally {
        engine.dispose();
      }
    } finally {
      await session.release();
    }
    // The engine's reference maps hold for the written file too (predicted class, one-hot).
    const ref = toFloat32(npy(join(dir, `relevance_epsilon_gamma_box_${layout}.npy`)));
    const res = await (await ort.InferenceSession.create(readFileSync(out))).run({ x: new ort.Tensor('float32', toFloat32(x), x.shape), seed: new ort.Tensor('float32', new Float32Array(n * 2), [n, 2]) });
    assert.ok(worstRelPerSample(res.relevance.data as Float32Array, ref, n) <= 1e-4);
  });
}

test('compile refuses bad options before reading the model, and models that do not lower with the layer named', async () => {
  const out = join(scratchDir('compile'), 'never.onnx');
  const usage = (argv: string[]) => assert.rejects(run(argv), (e: unknown) => e instanceof LensError && e.code === 'USAGE');
  await usage(['/no/such/model.onnx', '--out', out]);
  await usage(['/no/such/model.onnx', '--composite', 'zennit', '--out', out]);
  await usage(['/no/such/model.onnx', '--composite', 'epsilon', '--epsilon', 'x', '--out', out]);
  await usage(['/no/such/model.onnx', '--composite', 'epsilon', '--init', 'logit', '--out', out]);
  await usage(['/no/such/model.onnx', '--composite', 'epsilon', '--shard', '1/2', '--out', out]);
  // A recurrent layer is not lowered (the tfjs engine explains it): LRP_UNSUPPORTED naming it.
  const lstm = join(REPO, 'server', 'src', 'core', 'model', 'formats', 'fixtures', 'recurrent', 'lstm.h5');
  const graph = await loadModel(lstm);
  const recurrent = graph.nodes.find((n) => n.kind === 'Recurrent')!.name;
  await assert.rejects(run([lstm, '--composite', 'epsilon', '--out', out]), (e: unknown) => e instanceof LensError && e.code === 'LRP_UNSUPPORTED' && e.layer === recurrent && e.file === graph.file);
  assert.ok(!existsSync(out));
});
