/**
 * Explaining one output of a generative model: the real sun-decoder (four stride-2 Conv2DTranspose layers,
 * a 256x256 image from a 96-d latent). One output pixel is the target; the explained value is the pixel
 * `predict` gives; relevance is finite under every composite; the fused fast path equals Zennit's literal
 * per-pass tf.grad procedure on the transposed convolutions.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REAL, REPO } from '../../testing/paths.js';
import { readNpyFile as npy, worstRelPerSample } from '../../testing/arrays.js';
import { useBackend } from '../backend.js';
import { loadModel } from '../model/load.js';
import { predict } from '../model/execute.js';
import type { NdArray } from '../array.js';
import { LrpExplainer } from './engine.js';
import { COMPOSITE_NAMES } from './composites.js';

const X = join(REPO, 'server', 'src', 'core', 'model', 'formats', 'fixtures', 'sun-decoder-ref', 'x.npy');
const PIXEL = 128 * 256 + 100;

before(async () => {
  await useBackend('wasm');
});

test('sun-decoder: one output pixel explained under every composite; finite relevance; target value is the predicted pixel', async () => {
  const g = await loadModel(join(REAL, 'sun-decoder-deconv', 'decoder.h5'));
  const all = npy(X);
  const x: NdArray = { shape: [1, 96], data: (all.data as Float32Array).slice(0, 96), dtype: 'f4' };
  const pixel = (predict(g, x).data as Float32Array)[PIXEL];
  assert.ok(pixel > 0, 'an active pixel');
  for (const composite of COMPOSITE_NAMES) {
    const ex = new LrpExplainer(g, { composite, low: -3, high: 3 });
    try {
      const e = ex.explain(x, { target: { type: 'index', index: PIXEL }, init: 'onehot' });
      assert.equal(e.output.shape[1], 256 * 256);
      assert.equal(e.targets[0].index, PIXEL);
      assert.ok(Math.abs(e.targets[0].value - pixel) <= 1e-6 * Math.max(1, pixel), `${composite}: explained ${e.targets[0].value}, predicted ${pixel}`);
      assert.deepEqual(e.relevance.shape, [1, 96]);
      const r = e.relevance.data as Float32Array;
      assert.ok(r.every(Number.isFinite), `${composite}: non-finite relevance`);
      assert.ok(r.some((v) => v !== 0), `${composite}: all-zero relevance`);
      // Each transposed conv passes on the relevance it receives (one-hot 1 at the pixel, some absorbed by biases).
      const convT = e.layers.filter((l) => l.kind === 'ConvTranspose');
      assert.equal(convT.length, 4);
      assert.ok(convT.every((l) => Number.isFinite(l.relevanceSum[0]) && l.relevanceSum[0] !== 0), composite);
    } finally {
      ex.dispose();
    }
  }
});

test('sun-decoder: fused fast path equals the per-pass tf.grad procedure (1e-4 of max |R|) for conv rules on transposed convs', async () => {
  const g = await loadModel(join(REAL, 'sun-decoder-deconv', 'decoder.h5'));
  const all = npy(X);
  const x: NdArray = { shape: [2, 96], data: (all.data as Float32Array).slice(0, 192), dtype: 'f4' };
  for (const composite of ['epsilon', 'epsilon-gamma-box', 'epsilon-alpha2-beta1']) {
    const maps = (['fast', 'grad'] as const).map((mode) => {
      const ex = new LrpExplainer(g, { composite, low: -3, high: 3, mode });
      try {
        return ex.explain(x, { target: { type: 'index', index: PIXEL } }).relevance.data as Float32Array;
      } finally {
        ex.dispose();
      }
    });
    const err = worstRelPerSample(maps[0], maps[1], 2);
    assert.ok(err <= 1e-4, `${composite}: fast vs grad ${err}`);
  }
});
