import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blockRoughness, borderBand, gini, gridOf, meanAbsShare, pairedRatio, phaseRatio, zeroShare, negativeShare, pearson, signTestP, median } from './map-stats.js';
import { runMapChecks } from './catalogue.js';
import { summarize } from './summary.js';
import type { MapContext } from './map-context.js';
import { sequential } from './test-graphs.js';

const H = 16, W = 32;
/** Samples per context: enough for LRP202's sign test against a twin (p < 0.01 needs 7 of 7). */
const NS = 8;
const g = gridOf([H, W, 1]);

/** n maps built cell by cell from f(sample, y, x). */
function maps(n: number, f: (s: number, y: number, x: number) => number): Float32Array {
  const a = new Float32Array(n * H * W);
  for (let s = 0; s < n; s++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) a[s * H * W + y * W + x] = f(s, y, x);
  return a;
}
const noise = (s: number, y: number, x: number): number => 1 + 0.3 * Math.sin(12.9898 * (s + 1) * (y + 1) + 78.233 * (x + 1));

function ctx(over: Partial<MapContext>, graph = sequential([H, W, 1], [{ kind: 'Conv', k: 3, pad: 'same' }, { kind: 'Flatten' }, { kind: 'Dense', units: 2, act: 'linear' }])): MapContext {
  const n = NS;
  const rel = maps(n, noise);
  return { graph, composite: 'epsilon', shape: [H, W, 1], n, x: maps(n, (s, y, x) => Math.cos(s + y * 0.7 + x * 0.3)), relevance: rel, initial: new Array<number>(NS).fill(1), ...over };
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

test('sign test and median on known cases', () => {
  assert.ok(Math.abs(signTestP(7, 7) - 1 / 128) < 1e-12);
  assert.ok(Math.abs(signTestP(5, 10) - 638 / 1024) < 1e-12); // C(10,5..10) = 252+210+120+45+10+1
  assert.equal(signTestP(0, 9), 1);
  assert.ok(signTestP(80, 100) < 1e-9);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, NaN, 2, 3]), 2.5);
  assert.ok(Number.isNaN(median([NaN])));
});

test('sparsity, Gini, negative share and correlation on known arrays', () => {
  assert.equal(zeroShare(new Float32Array([0, 1, 0, 2])), 0.5);
  assert.ok(Math.abs(gini(new Float32Array([1, 1, 1, 1]))) < 1e-12);
  assert.ok(Math.abs(gini(new Float32Array([0, 0, 0, 5])) - 0.75) < 1e-12); // (n-1)/n for one non-zero of n
  assert.equal(negativeShare(new Float32Array([-1, 3])), 0.25);
  assert.ok(Math.abs(pearson([1, 2, 3], [2, 4, 6]) - 1) < 1e-12);
});

test('LRP202 fires on a rim judged against a twin without one, and not when the twin has the same rim', () => {
  const rim = maps(NS, (s, y, x) => noise(s, y, x) * (Math.min(y, x, H - 1 - y, W - 1 - x) < 3 ? 3 : 1));
  const fires = runMapChecks(ctx({ relevance: rim, twin: { name: 'valid', relevance: maps(NS, noise) } })).filter((f) => f.code === 'LRP202');
  assert.equal(fires.length, 1);
  assert.equal(fires[0].severity, 'warning');
  assert.match(fires[0].message, /rim/);
  // The rim's excess over the twin is the artifact: the band's share of |R| minus the twin's.
  const onBand = (a: Float32Array): number => {
    const share = meanAbsShare(a, NS, g);
    let v = 0;
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (Math.min(y, x, H - 1 - y, W - 1 - x) < 3) v += share[y * W + x];
    return v;
  };
  const art = summarize(ctx({}).graph, fires, ctx({ relevance: rim })).artifactShare!;
  const excess = onBand(rim) - onBand(maps(NS, noise));
  assert.ok(excess > 0.2 && Math.abs(art - excess) < 0.01, `${art} vs ${excess}`);
  const same = runMapChecks(ctx({ relevance: rim, twin: { name: 'same rim', relevance: rim } })).filter((f) => f.code === 'LRP202');
  assert.equal(same.length, 0);
  const noControl = runMapChecks(ctx({ relevance: rim })).filter((f) => f.code === 'LRP202');
  assert.equal(noControl[0].severity, 'information', 'without a control the border may be quiet for physical reasons');
  const randomized = runMapChecks(ctx({ relevance: rim, randomized: [{ layers: ['all'], relevance: maps(NS, noise) }] })).filter((f) => f.code === 'LRP202');
  assert.equal(randomized[0].severity, 'information', 'the randomized model does not hold the data-driven focus fixed');
});

test('LRP202 against a twin compares line by line: an edge-column deficit a band mean dilutes is flagged, on that side only', () => {
  // A padding-like profile: the edge column at 0.55 of the twin's, fading inwards, so the band mean over
  // 3 columns stays near 0.82 of the twin's.
  const fade = [0.55, 0.9, 1];
  const model = maps(NS, (s, y, x) => noise(s, y, x) * (x < 3 ? fade[x] : 1));
  const twin = maps(NS, noise);
  const band = borderBand(meanAbsShare(model, NS, g), g, 3).left / borderBand(meanAbsShare(twin, NS, g), g, 3).left;
  assert.ok(band > 1 / 1.5, `the band mean alone would not flag it: ${band}`);
  const f = runMapChecks(ctx({ relevance: model, twin: { name: 'circular twin', relevance: twin } })).filter((x) => x.code === 'LRP202');
  assert.equal(f.length, 1);
  assert.equal(f[0].severity, 'warning');
  assert.equal(f[0].data?.sides, 'left');
  assert.ok(Math.abs((f[0].data?.left as number) - 0.55) < 0.02, String(f[0].data?.left));
  assert.match(f[0].message, /left deficit x0\.5\d on the edge line/);
  // What the padding moves: on the edge column (line 2 at 0.9 stays under the threshold), |model - twin| shares.
  const sm = meanAbsShare(model, NS, g), st = meanAbsShare(twin, NS, g);
  let moved = 0;
  for (let y = 0; y < H; y++) moved += Math.abs(sm[y * W] - st[y * W]);
  assert.ok(moved > 0.005 && Math.abs((f[0].data?.movedShare as number) - moved) < 1e-12, `${f[0].data?.movedShare} vs ${moved}`);
  // The same deficit on 4 samples: a sign test cannot reach p < 0.01 (1/16 at best), so no verdict.
  const four = ctx({ n: 4, relevance: model.subarray(0, 4 * H * W), twin: { name: 'circular twin', relevance: twin.subarray(0, 4 * H * W) } });
  assert.equal(runMapChecks(four).filter((x) => x.code === 'LRP202').length, 0);
  // A deficit's artifact is relevance that is missing: none of the relevance present counts as artifact.
  assert.equal(summarize(ctx({}).graph, f, ctx({ relevance: model })).artifactShare, 0);
});

test('LRP202 does not judge the sides of a periodic (wrapped) axis, nor a network without windows', () => {
  const lonRim = maps(NS, (s, y, x) => noise(s, y, x) * (x < 3 || x >= W - 3 ? 3 : 1));
  const control = { randomized: [{ layers: ['all'], relevance: maps(NS, noise) }] };
  assert.equal(runMapChecks(ctx({ relevance: lonRim, ...control })).filter((f) => f.code === 'LRP202').length, 1);
  assert.equal(runMapChecks(ctx({ relevance: lonRim, ...control, periodic: [false, true] })).filter((f) => f.code === 'LRP202').length, 0);
  // A dense-only network (an MLP on the grid) feeds every cell alike: it has no border to judge.
  const mlp = sequential([H, W, 1], [{ kind: 'Flatten' }, { kind: 'Dense', units: 2, act: 'linear' }]);
  assert.equal(runMapChecks(ctx({ relevance: lonRim, ...control }, mlp)).filter((f) => f.code === 'LRP202').length, 0);
  const latRim = maps(NS, (s, y, x) => noise(s, y, x) * (y < 3 ? 3 : 1));
  const top = runMapChecks(ctx({ relevance: latRim, ...control, periodic: [false, true] })).filter((f) => f.code === 'LRP202');
  assert.equal(top[0]?.data?.sides, 'top');
});

test('LRP203 fires on a stride-2 checkerboard and not on smooth maps', () => {
  const checker = maps(NS, (s, y, x) => noise(s, y, x) * (y % 2 === 0 && x % 2 === 0 ? 4 : 1));
  assert.ok(runMapChecks(ctx({ relevance: checker })).some((f) => f.code === 'LRP203'));
  assert.ok(!runMapChecks(ctx({})).some((f) => f.code === 'LRP203'));
});

test('LRP206 fires when the runner-up map equals the top map; LRP207 when randomized maps stay the same; LRP208 on a prior', () => {
  // Every map is one fixed pattern plus a little per-sample noise; the blank input gives the pattern alone.
  const pattern = (y: number, x: number): number => 1.5 + Math.sin(0.5 * x) * Math.cos(0.4 * y);
  const rel = maps(NS, (s, y, x) => pattern(y, x) + 0.1 * noise(s, y, x));
  const same = ctx({ relevance: rel, runnerUp: rel, randomized: [{ layers: ['dense_2'], relevance: rel }], blank: maps(1, (_s, y, x) => pattern(y, x)) });
  const codes = runMapChecks(same).map((f) => f.code);
  for (const code of ['LRP206', 'LRP207', 'LRP208']) assert.ok(codes.includes(code), code);
  const other = maps(NS, (s, y, x) => Math.sin(0.9 * x - 1.3 * y + s));
  const diff = ctx({ runnerUp: other, randomized: [{ layers: ['dense_2'], relevance: other }], blank: other.slice(0, H * W) });
  const quiet = runMapChecks(diff).map((f) => f.code);
  for (const code of ['LRP206', 'LRP207', 'LRP208']) assert.ok(!quiet.includes(code), code);
});

test('LRP207 treats two constant maps (the flat rule) as the same map', () => {
  const flat = maps(NS, () => 0.01);
  const f = runMapChecks(ctx({ relevance: flat, randomized: [{ layers: ['all'], relevance: maps(NS, () => 0.02) }] })).filter((x) => x.code === 'LRP207');
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
  const signed = ctx({ composite: 'epsilon-plus', relevance: maps(NS, (s, y, x) => noise(s, y, x) * (x % 3 === 0 ? -1 : 1)) });
  assert.ok(runMapChecks(signed).some((x) => x.code === 'LRP205'));
  assert.ok(!runMapChecks({ ...signed, composite: 'epsilon' }).some((x) => x.code === 'LRP205'));
});

test('the summary splits relevance into a border rim\'s excess and the rest, and reports the signal share', () => {
  const rim = maps(NS, (s, y, x) => noise(s, y, x) * (Math.min(y, x, H - 1 - y, W - 1 - x) < 3 ? 3 : 1));
  const signal = new Uint8Array(H * W);
  signal[8 * W + 16] = 1;
  const c = ctx({ relevance: rim, twin: { name: 'valid', relevance: maps(NS, noise) }, signal });
  const fs = runMapChecks(c);
  const s = summarize(c.graph, fs, c);
  assert.equal(s.staticOnly, false);
  // Band cells: all minus the (16-6)x(32-6) interior; each holds about 3x an interior cell. The artifact
  // is the band's excess over the twin's share: 3b/(3b+i) - b/(b+i).
  const band = H * W - (H - 6) * (W - 6), inner = (H - 6) * (W - 6);
  const expect = (3 * band) / (3 * band + inner) - band / (band + inner);
  assert.ok(Math.abs(s.artifactShare! - expect) < 0.03, `${s.artifactShare} vs ${expect}`);
  assert.ok(Math.abs(s.artifactShare! + s.remainingShare! - 1) < 1e-12);
  assert.ok(s.factShare! > 0 && s.factShare! < 0.01);
});

test('LRP203 against the geometry control: fires where the maps follow the geometry\'s phase pattern, not on a weight-driven grid or smooth maps', () => {
  const strided = sequential([H, W, 1], [{ kind: 'Conv', k: 3, s: 2, pad: 'valid' }, { kind: 'Flatten' }, { kind: 'Dense', units: 2, act: 'linear' }]);
  const phase = (y: number, x: number): number => (y % 2 === 0 && x % 2 === 0 ? 4 : 1);
  const checker = maps(NS, (s, y, x) => noise(s, y, x) * phase(y, x));
  const geometry = maps(NS, (_s, y, x) => phase(y, x));
  const fired = runMapChecks(ctx({ relevance: checker, controls: { geometry } }, strided)).find((f) => f.code === 'LRP203');
  assert.ok(fired);
  assert.equal(fired.severity, 'warning');
  assert.ok(Math.abs((fired.data!.geometricRatio as number) - 4) < 1e-9);
  assert.ok((fired.data!.weightRatio as number) < 1.5, 'the geometry explains the grid: little is left for the weights');
  assert.ok(Math.abs((fired.data!.pValue as number) - 1 / 2 ** NS) < 1e-12, 'all samples agree');
  // The same grid where the geometry is even (a kernel divisible by the stride): the grid is the weights', not flagged.
  assert.ok(!runMapChecks(ctx({ relevance: checker, controls: { geometry: maps(NS, () => 1) } }, strided)).some((f) => f.code === 'LRP203'));
  // Smooth maps on an uneven geometry do not follow it.
  assert.ok(!runMapChecks(ctx({ controls: { geometry } }, strided)).some((f) => f.code === 'LRP203'));
});

test('block roughness and paired ratios on known maps', () => {
  const one = maps(1, (_s, y, x) => (y % 2 === 0 && x % 2 === 0 ? 1 : 0));
  const flat = maps(1, () => 1);
  assert.ok(Math.abs(blockRoughness(flat, 0, g, 2)) < 1e-12);
  // One cell of four at 1: every 2x2 window has mean 1/4 and squared deviations 9/16 + 3/16: sqrt(3).
  assert.ok(Math.abs(blockRoughness(one, 0, g, 2) - Math.sqrt(3)) < 1e-9);
  const r = pairedRatio([2, 4, 3, 2], [1, 2, 1, 1]);
  assert.equal(r.median, 2);
  assert.equal(r.agree, 1);
  assert.ok(Math.abs(r.p - 1 / 16) < 1e-12);
});

test('LRP204 against the average-pooling twin: blocky maps fire, maps as blocky as the twin\'s do not', () => {
  const pooled = sequential([H, W, 1], [{ kind: 'Conv', k: 3, pad: 'same' }, { kind: 'Pool', op: 'max', k: 2 }, { kind: 'Flatten' }, { kind: 'Dense', units: 2, act: 'linear' }]);
  const blocky = maps(NS, (s, y, x) => noise(s, y, x) * ((y + s) % 2 === 0 && x % 2 === 0 ? 1 : 0.05));
  const smooth = maps(NS, noise);
  const f = runMapChecks(ctx({ relevance: blocky, controls: { poolTwin: { name: 'average-pooling twin', relevance: smooth } } }, pooled)).find((x) => x.code === 'LRP204');
  assert.ok(f);
  assert.equal(f.data!.block, 2);
  assert.ok((f.data!.effectSize as number) > 2);
  assert.ok(!runMapChecks(ctx({ relevance: blocky, controls: { poolTwin: { name: 'average-pooling twin', relevance: blocky } } }, pooled)).some((x) => x.code === 'LRP204'));
});

test('LRP206 says whether the rule or the training makes the class maps alike; LRP210 is judged against the randomized model', () => {
  const pattern = (y: number, x: number): number => 1.5 + Math.sin(0.5 * x) * Math.cos(0.4 * y);
  const rel = maps(NS, (s, y, x) => pattern(y, x) + 0.1 * noise(s, y, x));
  const other = maps(NS, (s, y, x) => Math.sin(0.9 * x - 1.3 * y + s));
  const byRule = runMapChecks(ctx({ relevance: rel, runnerUp: rel, controls: { randomizedTop: rel, randomizedRunnerUp: rel } })).find((f) => f.code === 'LRP206')!;
  assert.equal(byRule.data!.byRule, true);
  assert.ok(Math.abs(byRule.data!.contrastShare as number) < 1e-9, 'equal maps leave no contrast');
  const learned = runMapChecks(ctx({ relevance: rel, runnerUp: rel, controls: { randomizedTop: rel, randomizedRunnerUp: other } })).find((f) => f.code === 'LRP206')!;
  assert.equal(learned.data!.byRule, false);
  // A map that copies |x| fires while a randomized model copies less; not when the randomized model copies more on every sample.
  const copy = ctx({});
  copy.relevance = copy.x.map((v, i) => 2 * v + 0.05 * Math.sin(i));
  copy.randomized = [{ layers: ['all'], relevance: maps(NS, noise) }];
  assert.ok(runMapChecks(copy).some((f) => f.code === 'LRP210'));
  copy.randomized = [{ layers: ['all'], relevance: copy.x.map((v) => 3 * v) }];
  assert.ok(!runMapChecks(copy).some((f) => f.code === 'LRP210'));
});

test('LRP201 tells a layer that leaks by design (bias under epsilon) from one whose rule conserves by design', () => {
  const sums = [{ name: 'dense_2', index: 3, sums: new Array<number>(NS).fill(1) }, { name: 'conv_0', index: 1, sums: new Array<number>(NS).fill(0.5) }];
  // conv_0 has a bias of 0.01: under epsilon it loses relevance by design (information).
  const designed = runMapChecks(ctx({ layerSums: sums, rules: { conv_0: 'epsilon', dense_2: 'epsilon' } })).find((x) => x.code === 'LRP201')!;
  assert.equal(designed.severity, 'information');
  assert.equal(designed.data!.unexpectedLayers, '');
  assert.ok((designed.data!.byDesign as number) >= 0.5);
  // Under the flat rule the bias is left out: a 50 % change there is not the rule's doing (warning).
  const unexpected = runMapChecks(ctx({ layerSums: sums, rules: { conv_0: 'flat', dense_2: 'epsilon' } })).find((x) => x.code === 'LRP201')!;
  assert.equal(unexpected.severity, 'warning');
  assert.equal(unexpected.data!.unexpectedLayers, 'conv_0');
  assert.equal(unexpected.layer!.name, 'conv_0');
});
