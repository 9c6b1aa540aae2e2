/**
 * Output targets: the grammar, the map-to-flat conversion with its refusals, and the relevance of pixel,
 * region and mean targets on a 1x1-conv linear model against the closed form of the epsilon rule, on
 * both engines (the seed weights come from one function, seedWeights), with conservation checked.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { LensError } from '../errors.js';
import { useBackend } from '../backend.js';
import { GraphBuilder, randomArray, rng } from './test-graphs.js';
import { explainGraph } from './engine.js';
import { join } from 'node:path';
import { OrtExplainer } from '../lrp-onnx/ort-explainer.js';
import { loadModel } from '../model/load.js';
import { REAL } from '../../testing/paths.js';
import { type TargetSpec, formatTarget, parseTarget, resolveTargets, seedWeights, selectionOf } from './targets.js';

before(async () => {
  await useBackend('wasm');
});

test('parseTarget reads every form and formatTarget writes it back', () => {
  const cases: [string, TargetSpec][] = [
    ['predicted', { type: 'predicted' }],
    ['7', { type: 'index', index: 7 }],
    ['3-1', { type: 'contrast', a: 3, b: 1 }],
    ['mean', { type: 'all', reduce: 'mean' }],
    ['sum', { type: 'all', reduce: 'sum' }],
    ['pixel:4,5', { type: 'pixel', at: [4, 5] }],
    ['pixel:4,5,2', { type: 'pixel', at: [4, 5, 2] }],
    ['region:1:3,0:9,sum', { type: 'region', ranges: [[1, 3], [0, 9]], reduce: 'sum' }],
    ['region:1:3,0:9,2,mean', { type: 'region', ranges: [[1, 3], [0, 9]], channel: 2, reduce: 'mean' }],
  ];
  for (const [text, spec] of cases) {
    assert.deepEqual(parseTarget(text), spec, text);
    assert.deepEqual(parseTarget(formatTarget(spec)), spec, `round trip of ${text}`);
  }
  assert.deepEqual(parseTarget('regression'), { type: 'index', index: 0 });
  assert.deepEqual(parseTarget('region:1:3,0:9'), { type: 'region', ranges: [[1, 3], [0, 9]], reduce: 'sum' });
  for (const bad of ['pixel:1', 'pixel:a,b', 'region:3:1,0:2', 'region:1:2', 'region:1:2,3,0:4', 'median', 'pixel']) {
    assert.throws(() => parseTarget(bad), (e: unknown) => e instanceof LensError && e.code === 'USAGE', bad);
  }
});

test('selectionOf maps map coordinates to channels-last flat indices and refuses what is outside', () => {
  const dims = [4, 5, 3]; // H, W, C
  assert.deepEqual(selectionOf({ type: 'pixel', at: [2, 3, 1] }, dims), { cells: [(2 * 5 + 3) * 3 + 1], weights: [1] });
  assert.deepEqual(selectionOf({ type: 'pixel', at: [2, 3], channel: 1 }, dims)?.cells, [(2 * 5 + 3) * 3 + 1]);
  const reg = selectionOf({ type: 'region', ranges: [[1, 2], [3, 4]], channel: 2, reduce: 'mean' }, dims)!;
  assert.deepEqual(reg.cells, [[1, 3], [1, 4], [2, 3], [2, 4]].map(([r, c]) => (r * 5 + c) * 3 + 2));
  assert.deepEqual(reg.weights, [0.25, 0.25, 0.25, 0.25]);
  assert.equal(selectionOf({ type: 'all', reduce: 'mean' }, dims)!.cells.length, 60);
  // A 3-D map (depth, rows, cols, channels): one more coordinate or range in front.
  const cube = selectionOf({ type: 'region', ranges: [[1, 1], [0, 1], [2, 2]], reduce: 'sum' }, [2, 3, 4, 1])!;
  assert.deepEqual(cube.cells, [(1 * 3 + 0) * 4 + 2, (1 * 3 + 1) * 4 + 2]);
  assert.deepEqual(selectionOf({ type: 'pixel', at: [1, 2, 3] }, [2, 3, 4, 1])?.cells, [(1 * 3 + 2) * 4 + 3]);
  // A single-channel map needs no channel.
  assert.deepEqual(selectionOf({ type: 'pixel', at: [3, 4] }, [4, 5, 1])?.cells, [19]);
  const outOfRange = (spec: TargetSpec, d: number[], words: RegExp) =>
    assert.throws(() => selectionOf(spec, d), (e: unknown) => e instanceof LensError && e.code === 'SELECTION_OUT_OF_RANGE' && words.test(e.message), JSON.stringify(spec));
  outOfRange({ type: 'pixel', at: [4, 0, 0] }, dims, /outside the output map \[4, 5, 3\]/);
  outOfRange({ type: 'region', ranges: [[0, 1], [2, 5]], channel: 0, reduce: 'sum' }, dims, /2:5 on axis 1 .*0\.\.4/);
  outOfRange({ type: 'pixel', at: [1, 1] }, dims, /3 channels: name one/);
  outOfRange({ type: 'pixel', at: [1, 1, 3] }, dims, /channel 3/);
  outOfRange({ type: 'pixel', at: [1, 1] }, [10], /needs an output map/);
  outOfRange({ type: 'index', index: 60 }, dims, /outside the model's 60 output/);
  // The seed of a predicted target: 1 at the given arg-max, zero rows without one (the ONNX graph picks it).
  assert.deepEqual(Array.from(seedWeights({ type: 'predicted' }, 2, 3, [3], [2, 0])), [0, 0, 1, 1, 0, 0]);
  assert.deepEqual(Array.from(seedWeights({ type: 'predicted' }, 1, 3)), [0, 0, 0]);
  const out = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const t = resolveTargets({ type: 'region', ranges: [[0, 1], [1, 1]], reduce: 'mean' }, out, 2, 4, [2, 2, 1]);
  assert.deepEqual(t.map((x) => x.value), [(2 + 4) / 2, (6 + 8) / 2]);
  assert.equal(t[0].seed, undefined, 'a mean seeds 1 in all');
  // A region sum seeds 1 per cell: the conservation report starts from the cell count.
  assert.equal(resolveTargets({ type: 'region', ranges: [[0, 1], [0, 1]], reduce: 'sum' }, out, 2, 4, [2, 2, 1])[0].seed, 4);
});

/** A linear 1x1 convolution (no bias): each output cell's epsilon relevance has a closed form. */
function oneByOne() {
  const b = new GraphBuilder(rng(31), [null, 4, 5, 2]);
  b.conv(3, 2, [1, 1], { bias: false, name: 'mix' });
  const g = b.build('one-by-one');
  return { g, kernel: g.nodes.find((n) => n.name === 'mix')!.weights.kernel.data };
}

const EPS = 1e-6;

/** R_in[s,h,w,c] = sum_f seed[s,h,w,f] x[s,h,w,c] K[c,f] / (y + eps sign y), seed = weight (onehot) or weight * y (output). */
function closedForm(x: Float32Array, kernel: Float32Array, weights: Float32Array, n: number, init: 'onehot' | 'output'): Float64Array {
  const cells = n * 4 * 5;
  const r = new Float64Array(cells * 2);
  for (let p = 0; p < cells; p++) {
    for (let f = 0; f < 3; f++) {
      const wgt = weights[p * 3 + f];
      if (!wgt) continue;
      const y = x[p * 2] * kernel[f] + x[p * 2 + 1] * kernel[3 + f];
      const seed = init === 'onehot' ? wgt : wgt * y;
      for (let c = 0; c < 2; c++) r[p * 2 + c] += (seed * x[p * 2 + c] * kernel[c * 3 + f]) / (y + EPS * (y >= 0 ? 1 : -1));
    }
  }
  return r;
}

test('pixel, region and mean targets on a 1x1 conv: both engines give the closed-form relevance and conserve the explained value', async () => {
  const { g, kernel } = oneByOne();
  const n = 2;
  const x = { shape: [n, 4, 5, 2], data: randomArray(n * 40, rng(32)), dtype: 'f4' as const };
  const ort = await OrtExplainer.create(g, { composite: 'epsilon', epsilon: EPS });
  try {
    const specs: TargetSpec[] = [parseTarget('pixel:2,3,1'), parseTarget('region:1:2,0:3,2,mean'), parseTarget('region:0:3,1:1,0,sum'), parseTarget('mean')];
    for (const spec of specs) {
      for (const init of ['onehot', 'output'] as const) {
        const weights = seedWeights(spec, n, 60, [4, 5, 3]);
        const want = closedForm(x.data, kernel, weights, n, init);
        const tfjs = explainGraph(g, x, { composite: 'epsilon', epsilon: EPS, target: spec, init });
        const onnx = await ort.explain(x, { target: spec, init });
        for (const [engine, e] of [['tfjs', tfjs], ['onnxruntime', onnx]] as const) {
          const got = e.relevance.data as Float32Array;
          let worst = 0;
          const scale = Math.max(...Array.from(want, Math.abs));
          want.forEach((v, i) => (worst = Math.max(worst, Math.abs(got[i] - v))));
          assert.ok(worst <= 1e-5 * scale, `${engine} ${formatTarget(spec)} ${init}: max error ${worst} vs scale ${scale}`);
          // Relevance lands only on the selected cells' inputs.
          for (let p = 0; p < n * 20; p++) {
            const selected = weights[p * 3] || weights[p * 3 + 1] || weights[p * 3 + 2];
            if (!selected) assert.ok(got[p * 2] === 0 && got[p * 2 + 1] === 0, `${engine}: relevance outside the target at cell ${p}`);
          }
          e.targets.forEach((t, s) => {
            // The relevance sum is the closed form's; with the output init that is the explained value (Zennit
            // convention: exact up to the stabilizer), with one-hot the seed's sum up to the same.
            const exact = want.subarray(s * 40, (s + 1) * 40).reduce((a, b) => a + b, 0);
            const seedSum = weights.subarray(s * 60, (s + 1) * 60).reduce((a, b) => a + b, 0);
            assert.ok(Math.abs(e.relevanceSum[s] - exact) <= 1e-5 * Math.max(1, Math.abs(exact)), `${engine} ${formatTarget(spec)} ${init} sample ${s}: sum ${e.relevanceSum[s]} vs ${exact}`);
            const conserved = init === 'output' ? t.value : seedSum;
            assert.ok(Math.abs(e.relevanceSum[s] - conserved) <= 1e-4 * Math.max(1, Math.abs(conserved)), `${engine} ${formatTarget(spec)} ${init} sample ${s}: sum ${e.relevanceSum[s]} vs explained ${conserved}`);
          });
        }
        // The explained value is the mean/sum of the selected outputs, the same on both engines.
        tfjs.targets.forEach((t, s) => assert.ok(Math.abs(t.value - onnx.targets[s].value) <= 1e-5 * Math.max(1, Math.abs(t.value))));
      }
    }
    await assert.rejects(ort.explain(x, { target: parseTarget('pixel:4,0,0') }), (e: unknown) => e instanceof LensError && e.code === 'SELECTION_OUT_OF_RANGE' && /\[4, 5, 3\]/.test(e.message));
    assert.throws(() => explainGraph(g, x, { target: parseTarget('pixel:1,1') }), (e: unknown) => e instanceof LensError && e.code === 'SELECTION_OUT_OF_RANGE');
  } finally {
    await ort.dispose();
  }
});

test('real-models/sevir U-Net (48x48x1 output map): a pixel target puts the relevance around that pixel, not in the corner', async () => {
  const g = await loadModel(join(REAL, 'sevir/sub-sevir-unet-class-2d.h5'));
  const shape = [1, 48, 48, 4];
  const x = { shape, data: new Float32Array(48 * 48 * 4).map((_, i) => Math.sin(i * 0.37)), dtype: 'f4' as const };
  const centroid = (r: Float32Array): [number, number] => {
    let w = 0, rr = 0, cc = 0;
    for (let p = 0; p < 48 * 48; p++) {
      let a = 0;
      for (let c = 0; c < 4; c++) a += Math.abs(r[p * 4 + c]);
      w += a;
      rr += a * Math.floor(p / 48);
      cc += a * (p % 48);
    }
    return [rr / w, cc / w];
  };
  const px = explainGraph(g, x, { composite: 'epsilon', target: parseTarget('pixel:40,10') });
  assert.equal(px.targets[0].index, 40 * 48 + 10);
  assert.equal(px.targets[0].value, px.output.data[40 * 48 + 10]);
  const [r, c] = centroid(px.relevance.data as Float32Array);
  assert.ok(Math.hypot(r - 40, c - 10) < 8, `centroid (${r.toFixed(1)}, ${c.toFixed(1)}) near pixel (40, 10)`);
  // The whole map as a region, averaged, is the 'mean' target.
  const all = explainGraph(g, x, { composite: 'epsilon', target: parseTarget('mean') });
  const box = explainGraph(g, x, { composite: 'epsilon', target: parseTarget('region:0:47,0:47,mean') });
  assert.deepEqual(box.relevance.data, all.relevance.data);
  const mean = Array.from(all.output.data).reduce((a, b) => a + b, 0) / (48 * 48);
  assert.ok(Math.abs(all.targets[0].value - mean) <= 1e-5 * Math.max(1, Math.abs(mean)));
  assert.throws(() => explainGraph(g, x, { target: parseTarget('pixel:48,0') }), (e: unknown) => e instanceof LensError && e.code === 'SELECTION_OUT_OF_RANGE' && /\[48, 48, 1\]/.test(e.message));
});
