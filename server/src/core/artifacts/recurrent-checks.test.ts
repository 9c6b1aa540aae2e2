/**
 * The recurrent checks (LRP114-LRP116 static, LRP212-LRP216 on maps): the figures they state, on
 * hand-built IR graphs with known weights and on hand-made (time, features) maps with known structure,
 * the collector's time-reversal control on a built model, and the real sunspot LSTM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LayerNode, ModelGraph, RecurrentParams } from '../model/graph.js';
import { runMapChecks, runStaticChecks } from './catalogue.js';
import type { MapContext } from './map-context.js';
import type { Finding } from './finding.js';
import { fitHalfLife, horizonSteps, timeVarianceShare } from './checks/sequence-common.js';
import { spectralRadius } from './checks/lrp115-memory-horizon.js';
import { REAL } from '../../testing/paths.js';

const only = (fs: Finding[], code: string): Finding[] => fs.filter((f) => f.code === code);

interface RnnSpec {
  cell: RecurrentParams['cell'];
  T: number | null;
  F: number;
  u?: number;
  /** Bias value of the forget (LSTM) or update (GRU) gate. */
  gateBias?: number;
  /** GRU reset_after: bias of two rows, each holding gateBias / 2 on z. */
  twoRows?: boolean;
  /** SimpleRNN: the recurrent kernel is diag * I. */
  diag?: number;
  leak?: number;
  returnSequences?: boolean;
  direction?: RecurrentParams['direction'];
  hardSigmoid?: boolean;
}

/** Input [T, F] -> Recurrent -> Dense(2), weights chosen so the checks' figures are known in closed form. */
function rnnGraph(s: RnnSpec): ModelGraph {
  const u = s.u ?? 4;
  const g = s.cell === 'lstm' ? 4 : s.cell === 'gru' ? 3 : 1;
  const kernel = new Float32Array(s.F * g * u).map((_, i) => 0.1 * Math.sin(i + 1));
  const rec = new Float32Array(u * g * u);
  if (s.cell === 'simple') for (let i = 0; i < u; i++) rec[i * u + i] = s.diag ?? 0.5;
  else rec.forEach((_, i) => (rec[i] = 0.05 * Math.cos(i)));
  const rows = s.twoRows ? 2 : 1;
  const bias = new Float32Array(rows * g * u);
  const at = s.cell === 'lstm' ? u : 0; // forget gate (i, f, c, o) or update gate z (z, r, h)
  for (let r = 0; r < rows; r++) for (let j = 0; j < u; j++) bias[r * g * u + at + j] = (s.gateBias ?? 0) / rows;
  const p: RecurrentParams = {
    cell: s.cell, units: u, direction: s.direction ?? 'forward', merge: s.direction === 'bidirectional' ? 'sum' : null,
    returnSequences: s.returnSequences ?? false, processingOrder: true, cellActivation: { name: 'tanh' },
    recurrentActivation: s.cell === 'simple' ? { name: 'linear' } : s.hardSigmoid ? { name: 'hard_sigmoid', alpha: 0.2 } : { name: 'sigmoid' },
    resetAfter: !!s.twoRows, useBias: true, ...(s.leak !== undefined ? { leak: s.leak } : {}),
  };
  const w = { kernel: { shape: [s.F, g * u], data: kernel }, recurrentKernel: { shape: [u, g * u], data: rec }, bias: { shape: rows === 2 ? [2, g * u] : [g * u], data: bias } };
  const weights = s.direction === 'bidirectional' ? { ...w, backKernel: w.kernel, backRecurrentKernel: w.recurrentKernel, backBias: w.bias } : w;
  const nodes: LayerNode[] = [
    { name: 'input', kind: 'Input', inbound: [], params: {}, weights: {}, activation: { name: 'linear' }, outputShape: [null, s.T, s.F], source: { className: 'InputLayer' } },
    { name: 'rnn', kind: 'Recurrent', inbound: ['input'], params: p, weights, activation: { name: 'linear' }, outputShape: s.returnSequences ? [null, s.T, u] : [null, u], source: { className: s.cell === 'lstm' ? 'LSTM' : s.cell === 'gru' ? 'GRU' : 'SimpleRNN' } },
    { name: 'dense', kind: 'Dense', inbound: ['rnn'], params: { units: 2, useBias: true }, weights: { kernel: { shape: [u, 2], data: new Float32Array(2 * u).map((_, i) => Math.cos(i)) }, bias: { shape: [2], data: new Float32Array(2) } }, activation: { name: 'linear' }, outputShape: [null, 2], source: { className: 'Dense' } },
  ] as LayerNode[];
  return {
    file: '/tmp/rnn.json', name: 'rnn', format: { name: 'tfjs-layers', version: 'test' },
    inputs: [{ node: 'input', fileName: 'input', fileShape: [null, s.T, s.F], fileLayout: 'NWC' }],
    outputs: [{ node: 'dense', fileName: 'dense', fileShape: [null, 2], fileLayout: 'NC' }],
    nodes,
  };
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

test('LRP115: an LSTM forget bias of -3 keeps sigmoid(-3) per step, a 1.5-step horizon against 32 steps; +3 keeps 95 steps and is silent', () => {
  const f = only(runStaticChecks(rnnGraph({ cell: 'lstm', T: 32, F: 3, gateBias: -3 })), 'LRP115');
  assert.equal(f.length, 1);
  assert.ok(Math.abs((f[0].data!.retention as number) - sigmoid(-3)) < 1e-6);
  assert.ok(Math.abs((f[0].data!.horizon as number) - Math.log(0.01) / Math.log(sigmoid(-3))) < 1e-9);
  assert.equal(f[0].data!.fadedSteps, 29); // floor(31 - 1.51)
  assert.equal(f[0].layer!.name, 'rnn');
  assert.match(f[0].message, /1\.51 steps/);
  assert.equal(f[0].severity, 'information', 'a gate at rest is no bound: the inputs can hold it open');
  assert.equal(only(runStaticChecks(rnnGraph({ cell: 'lstm', T: 32, F: 3, gateBias: 3 })), 'LRP115').length, 0);
  // A sequence output keeps every step; an open time axis has no length to judge.
  assert.equal(only(runStaticChecks(rnnGraph({ cell: 'lstm', T: 32, F: 3, gateBias: -3, returnSequences: true })), 'LRP115').length, 0);
  assert.equal(only(runStaticChecks(rnnGraph({ cell: 'lstm', T: null, F: 3, gateBias: -3 })), 'LRP115').length, 0);
  // Keras 2's hard sigmoid closes the gate at -3 (0.2 * -3 + 0.5 < 0): nothing is kept.
  const hard = only(runStaticChecks(rnnGraph({ cell: 'lstm', T: 8, F: 3, gateBias: -3, hardSigmoid: true })), 'LRP115');
  assert.equal(hard[0].data!.retention, 0);
});

test('LRP115: a GRU sums both bias rows of its update gate; a SimpleRNN reads the spectral radius, a leaky one (1 - a) + a rho', () => {
  // z bias 1 + 1 = 2: sigmoid(2) = 0.881, horizon 36.3 steps: silent at 32 steps, fires at 40.
  assert.equal(only(runStaticChecks(rnnGraph({ cell: 'gru', T: 32, F: 2, gateBias: 2, twoRows: true })), 'LRP115').length, 0);
  const gru = only(runStaticChecks(rnnGraph({ cell: 'gru', T: 40, F: 2, gateBias: 2, twoRows: true })), 'LRP115');
  assert.ok(Math.abs((gru[0].data!.horizon as number) - horizonSteps(sigmoid(2))) < 1e-9);
  // U = 0.5 I: rho = 0.5, horizon ln(0.01) / ln(0.5) = 6.64 steps.
  const rnn = only(runStaticChecks(rnnGraph({ cell: 'simple', T: 16, F: 2, diag: 0.5 })), 'LRP115');
  assert.ok(Math.abs((rnn[0].data!.retention as number) - 0.5) < 1e-9);
  assert.ok(Math.abs((rnn[0].data!.horizon as number) - 6.643856) < 1e-5);
  assert.equal(rnn[0].severity, 'warning');
  // Leak 0.05: 0.95 + 0.05 * 0.5 = 0.975 per step, a 182-step horizon: silent at 16 steps.
  assert.equal(only(runStaticChecks(rnnGraph({ cell: 'simple', T: 16, F: 2, diag: 0.5, leak: 0.05 })), 'LRP115').length, 0);
  const leaky = only(runStaticChecks(rnnGraph({ cell: 'simple', T: 400, F: 2, diag: 0.5, leak: 0.05 })), 'LRP115');
  assert.ok(Math.abs((leaky[0].data!.retention as number) - 0.975) < 1e-9);
  assert.equal(leaky[0].data!.leak, 0.05);
  // Bidirectional: each end is remembered by one half, so twice the horizon must fall short.
  assert.equal(only(runStaticChecks(rnnGraph({ cell: 'simple', T: 12, F: 2, diag: 0.5, direction: 'bidirectional' })), 'LRP115').length, 0);
  assert.match(only(runStaticChecks(rnnGraph({ cell: 'simple', T: 20, F: 2, diag: 0.5, direction: 'bidirectional' })), 'LRP115')[0].message, /the middle steps/);
});

test('spectral radius of a rotation-scaled kernel (complex eigenvalues) and of a nilpotent one', () => {
  const c = Math.cos(1), s = Math.sin(1);
  assert.ok(Math.abs(spectralRadius(Float32Array.from([0.8 * c, 0.8 * s, -0.8 * s, 0.8 * c]), 2) - 0.8) < 1e-5);
  assert.equal(spectralRadius(Float32Array.from([0, 1, 0, 0]), 2), 0);
});

test('LRP114 fires on a recurrent model fed several features per step (time = axis 1), not on a univariate series', () => {
  const f = only(runStaticChecks(rnnGraph({ cell: 'lstm', T: 32, F: 16, gateBias: 3 })), 'LRP114');
  assert.equal(f.length, 1);
  assert.equal(f[0].severity, 'information');
  assert.deepEqual([f[0].data!.timeAxis, f[0].data!.steps, f[0].data!.features], [1, 32, 16]);
  assert.equal(only(runStaticChecks(rnnGraph({ cell: 'lstm', T: 32, F: 1, gateBias: 3 })), 'LRP114').length, 0);
});

test('LRP116: gates get no relevance under lstm-epsilon (any composite), do under lstm-uniform, and a SimpleRNN has none', () => {
  const lstm = rnnGraph({ cell: 'lstm', T: 8, F: 2, gateBias: 3 });
  for (const composite of [undefined, 'epsilon', 'epsilon-plus']) {
    const f = only(runStaticChecks(lstm, { composite }), 'LRP116');
    assert.equal(f.length, 1, String(composite));
    assert.match(f[0].message, /forget/);
  }
  assert.equal(only(runStaticChecks(lstm, { composite: 'epsilon', ruleMap: [{ kind: 'Recurrent', rule: 'lstm-conservative' }] }), 'LRP116').length, 1);
  assert.equal(only(runStaticChecks(lstm, { composite: 'epsilon', ruleMap: [{ kind: 'Recurrent', rule: 'lstm-uniform' }] }), 'LRP116').length, 0);
  assert.match(only(runStaticChecks(rnnGraph({ cell: 'gru', T: 8, F: 2 }), { composite: 'epsilon' }), 'LRP116')[0].message, /update and reset/);
  assert.equal(only(runStaticChecks(rnnGraph({ cell: 'simple', T: 8, F: 2 }), { composite: 'epsilon' }), 'LRP116').length, 0);
});

// ---- map checks on hand-made (time, features) maps ----

const T = 24, F = 6, NS = 8;
const hash = (s: number, t: number, f: number): number => 0.5 + 0.5 * Math.abs(Math.sin(12.9898 * (s + 1) + 78.233 * (t + 1) + 4.1414 * (f + 1)));
function seqMaps(f: (s: number, t: number, k: number) => number, n = NS): Float32Array {
  const a = new Float32Array(n * T * F);
  for (let s = 0; s < n; s++) for (let t = 0; t < T; t++) for (let k = 0; k < F; k++) a[(s * T + t) * F + k] = f(s, t, k);
  return a;
}
function seqCtx(over: Partial<MapContext>, graph = rnnGraph({ cell: 'lstm', T, F, gateBias: 3 })): MapContext {
  return { graph, composite: 'epsilon', shape: [T, F], n: NS, x: seqMaps(hash), relevance: seqMaps(hash), initial: new Array<number>(NS).fill(1), ...over };
}

test('time-variance share and half-life fit on known maps', () => {
  // Constant within each step, different between steps: the time axis explains all of it.
  assert.ok(Math.abs(timeVarianceShare(seqMaps((_s, t) => t + 1, 1), 0, T, F) - 1) < 1e-12);
  // Same mean per step: none.
  assert.ok(Math.abs(timeVarianceShare(seqMaps((_s, _t, k) => (k % 2 ? 1 : 3), 1), 0, T, F)) < 1e-12);
  const prof = Float64Array.from({ length: T }, (_, t) => 0.5 ** ((T - 1 - t) / 3));
  const fit = fitHalfLife(prof, true);
  assert.ok(Math.abs(fit.halfLife - 3) < 1e-9 && Math.abs(fit.r2 - 1) < 1e-12);
  assert.equal(fitHalfLife(prof.slice().reverse(), true).halfLife, Infinity, 'a profile rising away from the end does not decay');
});

test('LRP213 fires on relevance halving every 1.5 steps from the last step, with the half-life and faded steps; not on an even map or where the input is empty', () => {
  const decay = seqMaps((s, t, k) => hash(s, t, k) * 0.5 ** ((T - 1 - t) / 1.5));
  const f = only(runMapChecks(seqCtx({ relevance: decay })), 'LRP213');
  assert.equal(f.length, 1);
  assert.ok(Math.abs((f[0].data!.halfLife as number) - 1.5) < 0.1, String(f[0].data!.halfLife));
  // Step d back from the end gets r^d (1 - r) / (1 - r^24) of the total, r = 2^(-2/3): under 1 % of 1/24
  // from d = 15 on (d > 14.7), so steps 0..8 are faded: 9 of 24 (the cell noise averages out per step).
  assert.equal(f[0].data!.fadedSteps, 9);
  assert.equal(only(runMapChecks(seqCtx({})), 'LRP213').length, 0);
  // With lrp-lens.json's input.sequence the finding names the field's dim that was fed as time.
  assert.match(only(runMapChecks(seqCtx({ relevance: decay, sequence: { time: 'lon', reverse: true } })), 'LRP213')[0].message, /the field's 'lon' dim, fed in reverse/);
  // The same map where the input is zero on the early steps: that is the data, not the memory.
  const x = seqMaps((s, t, k) => (t < 14 ? 0 : hash(s, t, k)));
  assert.equal(only(runMapChecks(seqCtx({ relevance: decay, x })), 'LRP213').length, 0);
});

test('LRP212 fires on stripes the re-drawn read-out also makes, not on stripes above the control, and informs without a control', () => {
  const stripes = seqMaps((s, t, k) => (1 + 3 * (t % 4 === 0 ? 1 : 0)) * (1 + 0.05 * hash(s, t, k)));
  const same = only(runMapChecks(seqCtx({ relevance: stripes, randomized: [{ layers: ['dense'], relevance: stripes }] })), 'LRP212');
  assert.equal(same.length, 1);
  assert.equal(same[0].severity, 'warning');
  assert.ok((same[0].data!.timeShare as number) > 0.9);
  const learned = only(runMapChecks(seqCtx({ relevance: stripes, randomized: [{ layers: ['dense'], relevance: seqMaps(hash) }] })), 'LRP212');
  assert.equal(learned.length, 0, 'all 8 samples above the control: p = 1/256');
  assert.equal(only(runMapChecks(seqCtx({ relevance: stripes })), 'LRP212')[0].severity, 'information');
  assert.equal(only(runMapChecks(seqCtx({ randomized: [{ layers: ['dense'], relevance: seqMaps(hash) }] })), 'LRP212').length, 0);
});

test('LRP214 reads the recurrent layer in and out: 70 % lost fires, 5 % does not', () => {
  const rel = seqMaps(() => 0.3 / (T * F)); // input sum 0.3 per sample
  const sums = (v: number) => new Array<number>(NS).fill(v);
  const f = only(runMapChecks(seqCtx({ relevance: rel, layerSums: [{ name: 'dense', index: 2, sums: sums(1) }, { name: 'rnn', index: 1, sums: sums(1) }] })), 'LRP214');
  assert.equal(f.length, 1);
  assert.ok(Math.abs((f[0].data!.leak as number) - 0.7) < 1e-6);
  assert.equal(f[0].layer!.name, 'rnn');
  const small = seqMaps(() => 0.95 / (T * F));
  assert.equal(only(runMapChecks(seqCtx({ relevance: small, layerSums: [{ name: 'rnn', index: 1, sums: sums(1) }] })), 'LRP214').length, 0);
});

test('LRP215 fires on an exactly zero first step next to a live one; not on a faded start or a zero input there', () => {
  const cut = seqMaps((s, t, k) => (t === 0 ? 0 : hash(s, t, k)));
  const f = only(runMapChecks(seqCtx({ relevance: cut })), 'LRP215');
  assert.equal(f.length, 1);
  assert.equal(f[0].data!.step, 0);
  const faded = seqMaps((s, t, k) => (t < 3 ? 0 : hash(s, t, k)));
  assert.equal(only(runMapChecks(seqCtx({ relevance: faded })), 'LRP215').length, 0);
  const x = seqMaps((s, t, k) => (t === 0 ? 0 : hash(s, t, k)));
  assert.equal(only(runMapChecks(seqCtx({ relevance: cut, x })), 'LRP215').length, 0);
  const last = seqMaps((s, t, k) => (t === T - 1 ? 0 : hash(s, t, k)));
  assert.equal(only(runMapChecks(seqCtx({ relevance: last })), 'LRP215')[0].data!.step, T - 1);
});

test('LRP216: the same map both ways is silent; a map that moves with the order warns when decisions stay, informs when they change', () => {
  const pred = new Array<number>(NS).fill(1);
  const rel = seqMaps((s, t, k) => hash(s, t, k) * (t + 1));
  assert.equal(only(runMapChecks(seqCtx({ relevance: rel, reversedTime: { relevance: rel, predicted: pred, predictedReversed: pred } })), 'LRP216').length, 0);
  const moved = seqMaps((s, t, k) => hash(s, t, k) * (T - t));
  const warn = only(runMapChecks(seqCtx({ relevance: rel, reversedTime: { relevance: moved, predicted: pred, predictedReversed: pred } })), 'LRP216');
  assert.equal(warn[0].severity, 'warning');
  assert.ok((warn[0].data!.similarity as number) < 0.65);
  const flipped = pred.map((c, i) => (i < 4 ? 1 - c : c));
  assert.equal(only(runMapChecks(seqCtx({ relevance: rel, reversedTime: { relevance: moved, predicted: pred, predictedReversed: flipped } })), 'LRP216')[0].severity, 'information');
});

test('LRP216 compares accuracy where labels exist: both accuracies over the labelled samples, and the verdict says whether reversal costs accuracy', () => {
  const pred = [0, 1, 0, 1, 0, 1, 0, 1];
  const rel = seqMaps((s, t, k) => hash(s, t, k) * (t + 1));
  const moved = seqMaps((s, t, k) => hash(s, t, k) * (T - t));
  // Reversed, samples 0-3 flip; labels: the first six known (= pred), the last two unknown (-1).
  const flipped = pred.map((c, i) => (i < 4 ? 1 - c : c));
  const labels = [0, 1, 0, 1, 0, 1, -1, -1];
  const f = only(runMapChecks(seqCtx({ relevance: rel, reversedTime: { relevance: moved, predicted: pred, predictedReversed: flipped, labels } })), 'LRP216')[0];
  assert.equal(f.severity, 'information');
  assert.equal(f.data!.labelled, 6);
  assert.equal(f.data!.accuracy, 1);
  assert.equal(f.data!.reversedAccuracy, 2 / 6);
  assert.equal(f.data!.agreement, 4 / 8);
  assert.match(f.message, /accuracy 100 % in order, 33\.3 % reversed \(6 labelled samples\)/);
  assert.match(f.message, /right less often/);
  // Labels the reversed decisions match better: the accuracy rises, the verdict says so.
  const g = only(runMapChecks(seqCtx({ relevance: rel, reversedTime: { relevance: moved, predicted: pred, predictedReversed: flipped, labels: flipped } })), 'LRP216')[0];
  assert.equal(g.data!.accuracy, 0.5);
  assert.equal(g.data!.reversedAccuracy, 1);
  assert.match(g.message, /right as often or more/);
  // Without labels: no accuracy is claimed.
  const h = only(runMapChecks(seqCtx({ relevance: rel, reversedTime: { relevance: moved, predicted: pred, predictedReversed: flipped } })), 'LRP216')[0];
  assert.equal(h.data!.accuracy, undefined);
  assert.doesNotMatch(h.message, /accuracy/);
  // The overlay's mean maps: per-sample |R| shares averaged, each summing to 1 over the T x F cells.
  const own = f.data!.meanMap as number[], back = f.data!.reversedMeanMap as number[];
  assert.equal(own.length, T * F);
  assert.ok(Math.abs(own.reduce((a, b) => a + b, 0) - 1) < 1e-3 && Math.abs(back.reduce((a, b) => a + b, 0) - 1) < 1e-3);
  // rel grows with t, moved falls: the last step holds more than the first in one, less in the other.
  const stepOf = (m: number[], t: number) => m.slice(t * F, (t + 1) * F).reduce((a, b) => a + b, 0);
  assert.ok(stepOf(own, T - 1) > stepOf(own, 0) && stepOf(back, T - 1) < stepOf(back, 0));
});

test('overlay data of LRP212, LRP213 and LRP215: the feeding axis and step profile, the faded steps and the fitted curve, the zero step', () => {
  const stripes = seqMaps((s, t, k) => (1 + 3 * (t % 4 === 0 ? 1 : 0)) * (1 + 0.05 * hash(s, t, k)));
  const st = only(runMapChecks(seqCtx({ relevance: stripes, randomized: [{ layers: ['dense'], relevance: stripes }], sequence: { time: 'lon' } })), 'LRP212')[0];
  assert.equal(st.data!.timeAxis, 0);
  assert.equal(st.data!.timeDim, 'lon');
  const prof = st.data!.profile as number[];
  assert.equal(prof.length, T);
  assert.ok(prof[0] > 3 * prof[1] && prof[4] > 3 * prof[5], 'the striped steps carry the profile');
  const decay = seqMaps((s, t, k) => hash(s, t, k) * 0.5 ** ((T - 1 - t) / 1.5));
  const fm = only(runMapChecks(seqCtx({ relevance: decay })), 'LRP213')[0];
  assert.deepEqual(fm.data!.faded, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(fm.data!.fromEnd, true);
  // The fitted curve amplitude * 2^(-d / halfLife) is close to the profile near the end, where it is fitted best.
  const a = fm.data!.amplitude as number, hl = fm.data!.halfLife as number, p = fm.data!.profile as number[];
  for (let d = 0; d < 4; d++) assert.ok(Math.abs(a * 2 ** (-d / hl) - p[T - 1 - d]) < 0.1 * p[T - 1 - d], `step ${T - 1 - d}: ${a * 2 ** (-d / hl)} vs ${p[T - 1 - d]}`);
  const cut = seqMaps((s, t, k) => (t === T - 1 ? 0 : hash(s, t, k)));
  const z = only(runMapChecks(seqCtx({ relevance: cut })), 'LRP215')[0];
  assert.equal(z.data!.step, T - 1);
  assert.equal(z.data!.end, 'last');
});

test('the collector reverses time for recurrent models: a time-symmetric bidirectional layer gives the same map both ways', async () => {
  const { useBackend } = await import('../backend.js');
  const { collectFromArray } = await import('./collect.js');
  await useBackend('wasm');
  const g = rnnGraph({ cell: 'lstm', T: 10, F: 3, gateBias: 1, direction: 'bidirectional' });
  const x = { shape: [3, 10, 3], data: new Float32Array(90).map((_, i) => Math.sin(0.7 * i)), dtype: 'f4' as const };
  const ctx = await collectFromArray(g, x, 'epsilon');
  const rev = ctx.reversedTime!;
  assert.ok(rev, 'a recurrent model with a [T, F] input gets the control');
  let maxAbs = 0, maxDiff = 0;
  for (let i = 0; i < ctx.relevance.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(ctx.relevance[i]));
    maxDiff = Math.max(maxDiff, Math.abs(ctx.relevance[i] - rev.relevance[i]));
  }
  assert.ok(maxAbs > 0 && maxDiff <= 1e-5 * maxAbs, `${maxDiff} of ${maxAbs}`);
  assert.deepEqual(rev.predicted, rev.predictedReversed);
  assert.equal(only(runMapChecks(ctx), 'LRP216').length, 0);
  // A forward LSTM on the same input is not symmetric: the reversed map differs.
  const fwd = await collectFromArray(rnnGraph({ cell: 'lstm', T: 10, F: 3, gateBias: 1 }), x, 'epsilon');
  let d = 0;
  for (let i = 0; i < fwd.relevance.length; i++) d = Math.max(d, Math.abs(fwd.relevance[i] - fwd.reversedTime!.relevance[i]));
  assert.ok(d > 1e-3);
  // Labels pass through to the control (unknown ones as -1), aligned with the samples.
  const lab = await collectFromArray(rnnGraph({ cell: 'lstm', T: 10, F: 3, gateBias: 1 }), x, 'epsilon', { labels: [1, NaN, 0] });
  assert.deepEqual(lab.reversedTime!.labels, [1, -1, 0]);
});

const SUNSPOT = join(REAL, 'sunspot-lstm', 'rnn_model.h5');
test('the real sunspot LSTM (one feature per step, open time axis): gates without relevance on its three LSTMs, no field, no horizon to judge', { skip: !existsSync(SUNSPOT) && 'shared real models not present' }, async () => {
  const { loadModel } = await import('../model/load.js');
  const fs = runStaticChecks(await loadModel(SUNSPOT), { composite: 'epsilon' });
  assert.equal(only(fs, 'LRP116').length, 3);
  assert.equal(only(fs, 'LRP114').length, 0);
  assert.equal(only(fs, 'LRP115').length, 0);
});
