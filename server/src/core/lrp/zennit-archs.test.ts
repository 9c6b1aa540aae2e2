/**
 * Residual (Add), BatchNorm and average-pool networks against Zennit 0.5.1 (fixtures/zennit-archs, made by its
 * make_reference.py from the same PyTorch weights as the ONNX files; Zennit's ResNet form of the addition,
 * Sum + Norm, and SequentialMergeBatchNorm): every composite, both engine modes, per sample
 * max |R - R_ref| <= 1e-4 * max |R_ref| (the tolerance of reference.test.ts).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO } from '../../testing/paths.js';
import { compareZennitFixtures } from '../../testing/lrp-reference.js';
import { useBackend } from '../backend.js';
import { loadModel } from '../model/load.js';
import { LrpExplainer } from './engine.js';
import type { EngineMode } from './linear-rule.js';
import { GraphBuilder, rng } from './test-graphs.js';

const DIR = join(REPO, 'server', 'src', 'core', 'lrp', 'fixtures', 'zennit-archs');

before(async () => {
  await useBackend('wasm');
});

test('the fixtures load with their Add, BatchNorm and pooling nodes and the ONNX logits', async () => {
  const kinds = async (m: string) => (await loadModel(join(DIR, m, 'model.onnx'))).nodes.map((n) => n.kind);
  assert.equal((await kinds('residual')).filter((k) => k === 'Add').length, 1);
  assert.equal((await kinds('residual')).filter((k) => k === 'GlobalPool').length, 1);
  assert.equal((await kinds('avgpool')).filter((k) => k === 'Pool').length, 2);
  // BatchNorm is merged into the conv by the exporter or by our canonizer: either way the engine explains convs.
  const bn = new LrpExplainer(await loadModel(join(DIR, 'resnet_bn', 'model.onnx')));
  try {
    assert.equal(bn.graph.nodes.filter((n) => n.kind === 'BatchNorm').length, 0);
  } finally {
    bn.dispose();
  }
});

for (const mode of ['fast', 'grad'] as EngineMode[]) {
  test(`residual, BatchNorm and average-pool relevance matches Zennit under every composite (mode ${mode})`, async () => {
    const { rows, failures, checked } = await compareZennitFixtures(DIR, mode);
    console.log(`zennit archs (${mode}):\n  ${rows.join('\n  ')}`);
    assert.deepEqual(failures, []);
    assert.equal(checked, 30);
  });
}

test("alpha-beta's negative share is its own conv, not z - bias - conv(x, W+) (issue 14)", () => {
  // x = [1000, 0.001] >= 0, w = [1, -0.001], no bias: x+ W+ = 1000 and x+ W- = -1e-6, which z - x+ W+
  // loses entirely in float32 (1000 - 1e-6 rounds to 1000). By hand: R = 2 * 1000 / (1000 + 1e-6) for
  // x0, and -1 * (0.001 * -0.001) / (-1e-6 - 1e-6) = -0.5 for x1 (the stabilizer keeps z's sign).
  const b = new GraphBuilder(rng(1), [null, 2]);
  b.dense(1, 2, { bias: false, name: 'out' });
  const g = b.build('cancel');
  g.nodes.find((n) => n.name === 'out')!.weights.kernel = { shape: [2, 1], data: Float32Array.from([1, -0.001]) };
  for (const mode of ['fast', 'grad'] as EngineMode[]) {
    const ex = new LrpExplainer(g, { composite: 'epsilon', ruleMap: [{ kind: 'dense', rule: 'alpha-beta:2:1' }], mode });
    try {
      const e = ex.explain({ shape: [1, 2], data: Float32Array.from([1000, 0.001]), dtype: 'f4' }, { init: 'onehot' });
      const [r0, r1] = e.relevance.data as Float32Array;
      assert.ok(Math.abs(r0 - 2) < 1e-6 && Math.abs(r1 + 0.5) < 1e-4, `${mode}: [${r0}, ${r1}], want [2, -0.5]`);
    } finally {
      ex.dispose();
    }
  }
});
