/**
 * Transposed convolutions and PReLU against Zennit 0.5.1 (fixtures/zennit-transposed, made by its
 * make_reference.py from the same PyTorch weights as the ONNX files): every composite, both engine modes,
 * per sample max |R - R_ref| <= 1e-4 * max |R_ref| (the tolerance of reference.test.ts).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO } from '../../testing/paths.js';
import { compareZennitFixtures } from '../../testing/lrp-reference.js';
import { useBackend } from '../backend.js';
import { loadModel } from '../model/load.js';
import type { EngineMode } from './linear-rule.js';

const DIR = join(REPO, 'server', 'src', 'core', 'lrp', 'fixtures', 'zennit-transposed');

before(async () => {
  await useBackend('wasm');
});

test('the fixtures load as ConvTranspose and PReLU nodes (per-channel slopes) with the ONNX logits', async () => {
  const convt = await loadModel(join(DIR, 'convt', 'model.onnx'));
  const prelu = await loadModel(join(DIR, 'prelu', 'model.onnx'));
  assert.deepEqual(convt.nodes.filter((n) => n.kind === 'ConvTranspose').length, 2);
  assert.deepEqual(prelu.nodes.filter((n) => n.kind === 'PReLU').map((n) => n.weights.alpha.shape), [[1, 1, 4]]);
  // The shared-slope PReLU is a leaky ReLU fused or standalone.
  assert.ok(prelu.nodes.some((n) => n.kind === 'Activation' && n.params.activation.name === 'leaky_relu'));
});

for (const mode of ['fast', 'grad'] as EngineMode[]) {
  test(`transposed conv and PReLU relevance matches Zennit under every composite (mode ${mode})`, async () => {
    const { rows, failures, checked } = await compareZennitFixtures(DIR, mode);
    console.log(`zennit transposed (${mode}):\n  ${rows.join('\n  ')}`);
    assert.deepEqual(failures, []);
    assert.equal(checked, 14);
  });
}
