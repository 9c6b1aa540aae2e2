/**
 * Runs one benchmark case: loads the variant, explains the held-out fields with the engine, collects the
 * controls and computes every statistic the relevance-map checks judge, plus the fact/artifact shares.
 * Shared by calibrate.ts (prints the table) and the benchmark test (asserts fire/silent).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../server/src/core/model/load.js';
import { readNpy } from '../../server/src/core/data/npy.js';
import { toFloat32, type NdArray } from '../../server/src/core/array.js';
import { collectFromArray } from '../../server/src/core/artifacts/collect.js';
import { validTwin } from '../../server/src/core/artifacts/twins.js';
import { runMapChecks } from '../../server/src/core/artifacts/catalogue.js';
import { summarize, type ModelSummary } from '../../server/src/core/artifacts/summary.js';
import type { Finding } from '../../server/src/core/artifacts/finding.js';
import type { MapContext } from '../../server/src/core/artifacts/map-context.js';
import { borderBand, cosine, gini, negativeShare, pearson, perSampleMean, phaseRatio, zeroShare, shareOn } from '../../server/src/core/artifacts/map-stats.js';
import { borderSides, cellShares, firstLayerBand, mapGrid, per } from '../../server/src/core/artifacts/checks/map-common.js';
import { edgeProfilesPerSample } from '../../server/src/core/artifacts/map-stats.js';
import { controlRatios } from '../../server/src/core/artifacts/checks/lrp202-border-band.js';
import { randomizationSimilarities, mapSimilarity } from '../../server/src/core/artifacts/checks/lrp207-randomization.js';
import { strideGridStats } from '../../server/src/core/artifacts/checks/lrp203-stride-grid.js';
import { blockiness } from '../../server/src/core/artifacts/checks/lrp204-sparsity.js';
import { classContrast } from '../../server/src/core/artifacts/checks/lrp206-class-insensitive.js';
import { inputCopy } from '../../server/src/core/artifacts/checks/lrp210-input-copy.js';
import { countNonFinite, median, pairedRatio } from '../../server/src/core/artifacts/map-stats.js';
import { BENCH_DIR, landMask, modelPath, type Case } from './cases.js';
import { H, W } from './fields.js';

export interface Measured {
  findings: Finding[];
  summary: ModelSummary;
  stats: Record<string, number>;
  ctx: MapContext;
}

/** As LRP202 judges a twin: per side and line of the band, the median over samples of model / twin line share; the largest deviation either way. */
function twinEdgeFactor(ctx: MapContext, band: number): number {
  const g = mapGrid(ctx);
  const pm = edgeProfilesPerSample(ctx.relevance, ctx.n, g, band);
  const pt = edgeProfilesPerSample(ctx.twin!.relevance, ctx.n, g, band);
  let worst = 1;
  for (const side of borderSides(ctx))
    for (let d = 0; d < (pm[0]?.[side].length ?? 0); d++) {
      const f = median(pm.map((p, k) => p[side][d] / pt[k][side][d]).filter((r) => Number.isFinite(r) && r > 0));
      if (Number.isFinite(f)) worst = Math.max(worst, f >= 1 ? f : 1 / f);
    }
  return worst;
}

/** Sum over the backward steps with a computed expected loss of the mean |v_s| / |initial_s| over samples. */
function lossOf(ctx: MapContext, pick: (l: NonNullable<MapContext['layerLoss']>[number]) => number[] | undefined): number {
  let total = 0;
  for (const l of ctx.layerLoss ?? []) {
    const v = pick(l);
    if (!v) continue;
    let c = 0, m = 0;
    v.forEach((x, s) => { if (Math.abs(ctx.initial[s]) > 0 && Number.isFinite(x)) { c += Math.abs(x) / Math.abs(ctx.initial[s]); m++; } });
    if (m) total += c / m;
  }
  return total;
}

export function testData(n = 16): { x: NdArray; signal: Uint8Array } {
  const x = readNpy(new Uint8Array(readFileSync(join(BENCH_DIR, 'data', 'x_test.npy'))));
  const signal = readNpy(new Uint8Array(readFileSync(join(BENCH_DIR, 'data', 'signal_mask.npy'))));
  const per = H * W;
  const data = toFloat32(x).slice(0, n * per);
  return { x: { shape: [n, H, W, 1], data, dtype: 'f4' } as NdArray, signal: Uint8Array.from(signal.data as ArrayLike<number>) };
}

/** `seed`: the seeded copy of the variant (models/<variant>-s<seed>/), else the original model. */
export async function measure(c: Case, n = 16, seed?: number): Promise<Measured> {
  const graph = await loadModel(modelPath(c.variant, seed));
  const { x, signal } = testData(n);
  let mask: Uint8Array | undefined;
  if (c.masked) {
    mask = landMask(H, W);
    const d = x.data as Float32Array;
    for (let s = 0; s < n; s++) for (let i = 0; i < H * W; i++) if (mask[i]) d[s * H * W + i] = c.masked === 'fill-constant' ? 3 : c.masked === 'nan' ? NaN : 0;
  }
  const twin = validTwin(graph);
  const ctx = await collectFromArray(graph, x, c.composite, {
    explainer: c.ruleMap ? { ruleMap: c.ruleMap } : undefined,
    signal,
    mask,
    twin: twin ? { name: 'valid twin (same weights)', graph: twin } : undefined,
  });
  const findings = runMapChecks(ctx);
  const summary = summarize(graph, findings, ctx);
  const g = mapGrid(ctx);
  const p = per(ctx);
  const band = firstLayerBand(graph);
  const shares = cellShares(ctx);
  const br = borderBand(shares, g, band);
  const ctl = controlRatios(ctx, band);
  const rel = ctx.relevance;
  let gap = 0;
  for (let s = 0; s < ctx.n; s++) { let sum = 0; for (let i = 0; i < p; i++) sum += rel[s * p + i]; gap += Math.abs(sum - ctx.initial[s]) / Math.abs(ctx.initial[s]); }
  const rnd = randomizationSimilarities(ctx);
  const grid = strideGridStats(ctx);
  const blocks = blockiness(ctx);
  const cc = classContrast(ctx);
  const copy = inputCopy(ctx);
  const mean = (a: number[]) => { const f = a.filter(Number.isFinite); return f.length ? f.reduce((x, y) => x + y, 0) / f.length : NaN; };
  const stats: Record<string, number> = {
    conservationGap: gap / ctx.n,
    // LRP201 against the computed expected loss (expected-loss.ts): relevance the rules lose by design, and the change they do not explain.
    expectedLoss: lossOf(ctx, (l) => l.expected),
    unexplainedLoss: lossOf(ctx, (l) => (l.expected ? l.observed.map((o, s) => o - l.expected![s]) : undefined)),
    band,
    bandRatio: br.all,
    controlBandRatio: ctl?.r.all ?? NaN,
    bandFactor: ctl ? br.all / ctl.r.all : NaN,
    // LRP202 against its geometry twin: the strongest edge-line factor (model over twin, either way); 1 without padding (no twin: same geometry).
    twinEdgeFactor: ctx.twin ? twinEdgeFactor(ctx, band) : 1,
    bandFactorRandomized: ctx.randomized?.length ? br.all / borderBand(cellShares(ctx, ctx.randomized[ctx.randomized.length - 1].relevance), g, band).all : NaN,
    phaseRatio2: phaseRatio(shares, g, 2, band),
    zeroShare: zeroShare(rel),
    gini: perSampleMean(ctx.n, p, (_s, off) => gini(rel.subarray(off, off + p))),
    negativeShare: negativeShare(rel),
    cosineRunnerUp: ctx.runnerUp ? perSampleMean(ctx.n, p, (_s, off) => cosine(rel, ctx.runnerUp!, off, p)) : NaN,
    randomizedSimilarity: rnd.length ? rnd[rnd.length - 1].similarity : NaN,
    blankSimilarity: ctx.blank ? perSampleMean(ctx.n, p, (_s, off) => mapSimilarity(rel, off, ctx.blank!, 0, p)) : NaN,
    inputCorrelation: perSampleMean(ctx.n, p, (_s, off) => pearson(rel, ctx.x, off, p, true)),
    maskedShare: mask ? shareOn(rel, ctx.n, mask, p) : NaN,
    nonFiniteShare: countNonFinite(rel) / rel.length,
    // Controlled statistics (issue 17): LRP203 against the geometry control (1 when the geometry makes no phase contrast).
    geometricRatio: grid?.geometric ?? NaN,
    weightRatio: grid?.weight ?? NaN,
    phaseAlignment: grid?.alignment ?? NaN,
    phaseAlignmentP: grid?.p ?? NaN,
    // LRP204 against the average-pooling twin (1 without max pooling).
    roughnessFactor: blocks ? pairedRatio(blocks.model, blocks.twin).median : 1,
    roughness: blocks ? mean(blocks.model) : NaN,
    // LRP206 with the randomized model's class contrast.
    classSimilarity: cc ? median(cc.model) : NaN,
    classSimilarityRandomized: cc && cc.control.length ? median(cc.control) : NaN,
    contrastShare: cc?.contrastShare ?? NaN,
    contrastSignalShare: cc?.contrastSignalShare ?? NaN,
    // LRP210 controls.
    inputCorrelationRandomized: mean(copy.randomized),
    inputCorrelationGradientInput: mean(copy.gradientInput),
    factShare: summary.factShare ?? NaN,
    artifactShare: summary.artifactShare ?? NaN,
  };
  return { findings, summary, stats, ctx };
}
