import { test } from 'node:test';
import assert from 'node:assert/strict';
import { borderBand, gini, gridOf, meanAbsShare, phaseRatio, zeroShare, negativeShare, pearson } from './map-stats.js';
import { runMapChecks } from './catalogue.js';
import { summarize } from './summary.js';
import type { MapContext } from './map-context.js';
import { sequential } from './test-graphs.js';

const H = 16, W = 32;
const g = gridOf([H, W, 1]);

/** n maps built cell by cell from f(sample, y, x). */
function maps(n: number, f: (s: number, y: number, x: number) => number): Float32Array {
  const a = new Float32Array(n * H * W);
  for (let s = 0; s < n; s++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) a[s * H * W + y * W + x] = f(s, y, x);
  return a;
}
const noise = (s: number, y: number, x: number): number => 1 + 0.3 * Math.sin(12.9898 * (s + 1) * (y + 1) + 78.233 * (x + 1));

function ctx(over: Partial<MapContext>, graph = sequential([H, W, 1], [{ kind: 'Conv', k: 3, pad: 'same' }, { kind: 'Flatten' }, { kind: 'Dense', units: 2, act: 'linear' }])): MapContext {
  const n = 4;
  const rel = maps(n, noise);
  return { graph, composite: 'epsilon', shape: [H, W, 1], n, x: maps(n, (s, y, x) => Math.cos(s + y * 0.7 + x * 0.3)), relevance: rel, initial: [1, 1, 1, 1], ...over };
}

test('border band ratios: a map with a half-strength rim of 3 cells gives 0.5 on every side, a flat map 1', () => {
  const m = meanAbsShare(maps(1, (_s, y, x) => (Math.min(y, x, H - 1 - y, W - 1 - x) < 3 ? 0.5 : 1)), 1, g);
  const r = borderBand(m, g, 3);
  for (const side of [r.top, r.bottom, r.left, r.right, r.all]) assert.ok(Math.abs(side - 0.5) < 1e-9, String(side));
  const flat = borderBand(meanAbsShare(maps(1, () => 2), 1, g), g, 3);
  assert.ok(Math.abs(flat.all - 1) < 1e-9);
});

test('stride-phase ratio: a 2-periodic map with one phase 4x the others gives 4; period 3 sees no such grid', () => {
  const m = meanAbsShare(maps(1, (_s, y, x) => (y % 2 === 0 && x % 2 === 0 ? 4 : 1)), 1, g);
  assert.ok(Math.abs(phaseRatio(m, g, 2) - 4) < 1e-9);
  assert.ok(phaseRatio(m, g, 3) < 1.5);
});

test('sparsity, Gini, negative share and correlation on known arrays', () => {
  assert.equal(zeroShare(new Float32Array([0, 1, 0, 2])), 0.5);
  assert.ok(Math.abs(gini(new Float32Array([1, 1, 1, 1]))) < 1e-12);
  assert.ok(Math.abs(gini(new Float32Array([0, 0, 0, 5])) - 0.75) < 1e-12); // (n-1)/n for one non-zero of n
  assert.equal(negativeShare(new Float32Array([-1, 3])), 0.25);
  assert.ok(Math.abs(pearson([1, 2, 3], [2, 4, 6]) - 1) < 1e-12);
});

test('LRP202 fires on a rim judged against a twin without one, and not when the twin has the same rim', () => {
  const rim = maps(4, (s, y, x) => noise(s, y, x) * (Math.min(y, x, H - 1 - y, W - 1 - x) < 3 ? 3 : 1));
  const fires = runMapChecks(ctx({ relevance: rim, twin: { name: 'valid', relevance: maps(4, noise) } })).filter((f) => f.code === 'LRP202');
  assert.equal(fires.length, 1);
  assert.equal(fires[0].severity, 'warning');
  assert.match(fires[0].message, /rim/);
  const same = runMapChecks(ctx({ relevance: rim, twin: { name: 'same rim', relevance: rim } })).filter((f) => f.code === 'LRP202');
  assert.equal(same.length, 0);
  const noControl = runMapChecks(ctx({ relevance: rim })).filter((f) => f.code === 'LRP202');
  assert.equal(noControl[0].severity, 'information', 'without a control the border may be quiet for physical reasons');
  const randomized = runMapChecks(ctx({ relevance: rim, randomized: [{ layers: ['all'], relevance: maps(4, noise) }] })).filter((f) => f.code === 'LRP202');
  assert.equal(randomized[0].severity, 'information', 'the randomized model does not hold the data-driven focus fixed');
});

test('LRP203 fires on a stride-2 checkerboard and not on smooth maps', () => {
  const checker = maps(4, (s, y, x) => noise(s, y, x) * (y % 2 === 0 && x % 2 === 0 ? 4 : 1));
  assert.ok(runMapChecks(ctx({ relevance: checker })).some((f) => f.code === 'LRP203'));
  assert.ok(!runMapChecks(ctx({})).some((f) => f.code === 'LRP203'));
});

test('LRP206 fires when the runner-up map equals the top map; LRP207 when randomized maps stay the same; LRP208 on a prior', () => {
  // Every map is one fixed pattern plus a little per-sample noise; the blank input gives the pattern alone.
  const pattern = (y: number, x: number): number => 1.5 + Math.sin(0.5 * x) * Math.cos(0.4 * y);
  const rel = maps(4, (s, y, x) => pattern(y, x) + 0.1 * noise(s, y, x));
  const same = ctx({ relevance: rel, runnerUp: rel, randomized: [{ layers: ['dense_2'], relevance: rel }], blank: maps(1, (_s, y, x) => pattern(y, x)) });
  const codes = runMapChecks(same).map((f) => f.code);
  for (const code of ['LRP206', 'LRP207', 'LRP208']) assert.ok(codes.includes(code), code);
  const other = maps(4, (s, y, x) => Math.sin(0.9 * x - 1.3 * y + s));
  const diff = ctx({ runnerUp: other, randomized: [{ layers: ['dense_2'], relevance: other }], blank: other.slice(0, H * W) });
  const quiet = runMapChecks(diff).map((f) => f.code);
  for (const code of ['LRP206', 'LRP207', 'LRP208']) assert.ok(!quiet.includes(code), code);
});

test('LRP207 treats two constant maps (the flat rule) as the same map', () => {
  const flat = maps(4, () => 0.01);
  const f = runMapChecks(ctx({ relevance: flat, randomized: [{ layers: ['all'], relevance: maps(4, () => 0.02) }] })).filter((x) => x.code === 'LRP207');
  assert.equal(f.length, 1);
  assert.equal(f[0].data!.similarity, 1);
});

test('LRP209 measures relevance on masked cells; LRP210 an input copy; LRP211 NaN with the layer where it starts', () => {
  const mask = new Uint8Array(H * W);
  for (let i = 0; i < H * W; i += 4) mask[i] = 1; // a quarter of the cells
  const c = ctx({ mask });
  assert.ok(runMapChecks(c).some((f) => f.code === 'LRP209'), 'uniform-ish |R| puts ~25 % on a quarter of the cells');
  const copy = ctx({});
  copy.relevance = copy.x.map((v) => 2 * v);
  assert.ok(runMapChecks(copy).some((f) => f.code === 'LRP210'));
  assert.ok(!runMapChecks(ctx({})).some((f) => f.code === 'LRP210'));
  const bad = ctx({});
  bad.relevance[5] = NaN;
  bad.layerSums = [{ name: 'dense_2', index: 3, sums: [1, 1, 1, 1] }, { name: 'conv_0', index: 1, sums: [NaN, 1, 1, 1] }];
  const f = runMapChecks(bad).find((x) => x.code === 'LRP211')!;
  assert.equal(f.severity, 'error');
  assert.equal(f.layer!.name, 'conv_0');
});

test('LRP201 reports the layer that loses relevance; LRP205 fires on negatives under epsilon-plus, not under epsilon', () => {
  const c = ctx({ layerSums: [{ name: 'dense_2', index: 3, sums: [1, 1, 1, 1] }, { name: 'conv_0', index: 1, sums: [0.5, 0.5, 0.5, 0.5] }] });
  // Input sums are ~W*H (noise ~1 per cell) against an initial 1: far from conserved.
  const f = runMapChecks(c).find((x) => x.code === 'LRP201')!;
  assert.equal(f.layer!.name, 'conv_0');
  const signed = ctx({ composite: 'epsilon-plus', relevance: maps(4, (s, y, x) => noise(s, y, x) * (x % 3 === 0 ? -1 : 1)) });
  assert.ok(runMapChecks(signed).some((x) => x.code === 'LRP205'));
  assert.ok(!runMapChecks({ ...signed, composite: 'epsilon' }).some((x) => x.code === 'LRP205'));
});

test('the summary splits relevance into the flagged border band and the rest, and reports the signal share', () => {
  const rim = maps(4, (s, y, x) => noise(s, y, x) * (Math.min(y, x, H - 1 - y, W - 1 - x) < 3 ? 3 : 1));
  const signal = new Uint8Array(H * W);
  signal[8 * W + 16] = 1;
  const c = ctx({ relevance: rim, twin: { name: 'valid', relevance: maps(4, noise) }, signal });
  const fs = runMapChecks(c);
  const s = summarize(c.graph, fs, c);
  assert.equal(s.staticOnly, false);
  // Band cells: all minus the (16-6)x(32-6) interior; each holds about 3x an interior cell.
  const band = H * W - (H - 6) * (W - 6), inner = (H - 6) * (W - 6);
  const expect = (3 * band) / (3 * band + inner);
  assert.ok(Math.abs(s.artifactShare! - expect) < 0.03, `${s.artifactShare} vs ${expect}`);
  assert.ok(Math.abs(s.artifactShare! + s.remainingShare! - 1) < 1e-12);
  assert.ok(s.factShare! > 0 && s.factShare! < 0.01);
});
