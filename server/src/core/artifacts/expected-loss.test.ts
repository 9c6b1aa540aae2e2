/**
 * LRP201's expected loss, computed from the forward pass (expected-loss.ts): on a one-layer dense with a
 * bias the lost share is exactly b / (Wx + b) per sample (epsilon, one-hot), the engine's observed loss
 * agrees, and the check tells a step that loses what its rule computes from one that loses more.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend } from '../backend.js';
import { collectFromArray } from './collect.js';
import { runMapChecks } from './catalogue.js';
import { sequential } from './test-graphs.js';
import type { NdArray } from '../array.js';
import { existsSync } from 'node:fs';
import { measure } from '../../../../samples/benchmark/measure.js';
import { modelPath } from '../../../../samples/benchmark/cases.js';

const F = 6;
const BIAS = 0.5;
const graph = sequential([F], [{ kind: 'Dense', units: 2, act: 'linear', bias: BIAS, name: 'dense' }]);
const xs = [[1, 2, 0.5, -1, 3, 0.25], [0.3, -0.2, 2, 1, -0.5, 1.5], [2, 2, 2, 2, 2, 2]];
const x: NdArray = { shape: [xs.length, F], data: Float32Array.from(xs.flat()), dtype: 'f4' } as NdArray;

/** z_j = sum_i x_i W_ij + b, W as test-graphs.ts draws it ([F, 2] row-major, 0.1 cos(k + 1)). */
function zOf(row: number[], j: number): number {
  return row.reduce((a, v, i) => a + v * 0.1 * Math.cos(i * 2 + j + 1), 0) + BIAS;
}

test('expected loss of a one-layer dense under epsilon: the bias share b / (Wx + b) of the explained unit, observed alike', async () => {
  await useBackend('wasm');
  const ctx = await collectFromArray(graph, x, 'epsilon', { controls: false });
  const step = ctx.layerLoss!.find((l) => l.name === 'dense')!;
  assert.ok(step.expected, 'computed for the epsilon rule');
  xs.forEach((row, s) => {
    const z = [zOf(row, 0), zOf(row, 1)];
    const top = z[0] >= z[1] ? 0 : 1;
    const share = BIAS / z[top]; // one-hot: R = 1 at the top unit; epsilon 1e-6 is below float32 tolerance here
    assert.ok(Math.abs(step.expected![s] - share) < 1e-5 * Math.max(1, Math.abs(share)), `sample ${s}: expected ${step.expected![s]} vs b/z ${share}`);
    assert.ok(Math.abs(step.observed[s] - share) < 1e-5 * Math.max(1, Math.abs(share)), `sample ${s}: observed ${step.observed[s]} vs b/z ${share}`);
  });
  const f = runMapChecks(ctx).find((c) => c.code === 'LRP201')!;
  assert.equal(f.severity, 'information', 'leaks by design: information');
  assert.equal(f.data!.computedLayers, 1);
  assert.equal(f.data!.unexpectedLayers, '');
});

test('the flat rule leaves the bias out: expected and observed loss zero on the same layer', async () => {
  await useBackend('wasm');
  const ctx = await collectFromArray(graph, x, 'epsilon', { controls: false, explainer: { ruleMap: [{ name: 'dense', rule: 'flat' }] } });
  const step = ctx.layerLoss!.find((l) => l.name === 'dense')!;
  for (let s = 0; s < xs.length; s++) {
    assert.equal(step.expected![s], 0);
    assert.ok(Math.abs(step.observed[s]) < 1e-5, `observed ${step.observed[s]}`);
  }
});

test('LRP201 warns where a step loses more than its rule computes, and names it', async () => {
  await useBackend('wasm');
  const ctx = await collectFromArray(graph, x, 'epsilon', { controls: false });
  const step = ctx.layerLoss!.find((l) => l.name === 'dense')!;
  // The same step as if the engine had lost another half of the relevance there.
  const faulty = { ...ctx, layerLoss: [{ ...step, observed: step.observed.map((v) => v + 0.5) }] };
  const f = runMapChecks(faulty).find((c) => c.code === 'LRP201')!;
  assert.equal(f.severity, 'warning');
  assert.equal(f.data!.unexpectedLayers, 'dense');
  assert.ok(Math.abs((f.data!.unexpectedChange as number) - 0.5) < 1e-5);
});

test('BatchNorm after the ReLU (benchmark bn-after): every computed step loses what its rule computes, BatchNorm most; LRP201 stays information', { skip: !existsSync(modelPath('bn-after')) && 'benchmark models not generated' }, async () => {
  await useBackend('wasm');
  const m = await measure({ variant: 'bn-after', composite: 'epsilon' }, 8);
  const steps = m.ctx.layerLoss!;
  const bn = steps.find((l) => m.ctx.graph.nodes[l.index]?.kind === 'BatchNorm');
  assert.ok(bn?.expected, 'BatchNorm under the proportional rule: computed');
  for (const l of steps) {
    if (!l.expected) continue;
    l.observed.forEach((o, s) => assert.ok(Math.abs(o - l.expected![s]) <= 1e-4 * Math.max(1, Math.abs(m.ctx.initial[s])), `${l.name} sample ${s}: observed ${o}, expected ${l.expected![s]}`));
  }
  assert.ok(bn.expected.some((v) => Math.abs(v) > 0.1), 'the shift loses a visible share');
  const f = m.findings.find((x) => x.code === 'LRP201')!;
  assert.equal(f.severity, 'information');
  assert.equal(f.data!.unexpectedLayers, '');
});
