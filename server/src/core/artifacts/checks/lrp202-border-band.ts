/** LRP202: relevance in the border band against the interior, judged against a control with the same data. */
import type { CheckMeta, MapCheck } from '../check.js';
import { fmt, makeFinding } from '../check.js';
import type { MapContext } from '../map-context.js';
import { borderBand, edgeProfilesPerSample, forLine, median, signTestP, type BandRatios, type Grid, type Side } from '../map-stats.js';
import type { Finding } from '../finding.js';
import { isWindowed } from '../geometry.js';
import { borderSides, cellShares, controlData, firstLayerBand, isGridInput, mapGrid } from './map-common.js';

export const meta: CheckMeta = {
  code: 'LRP202',
  title: 'Border band of relevance (rim or deficit)',
  severity: 'warning',
  // Factor between the model and a randomized/blank control, either way (rim or deficit). Against a
  // geometry twin only the padding differs (no physics to confound it), so a smaller change counts when
  // the samples agree: the median per-sample factor of a line, and a sign test over the samples.
  thresholds: { factor: 1.5, twinFactor: 1.25, signTestP: 0.01 },
  remedy: "Use 'valid' padding or circular padding in longitude (wrap the input in the data pipeline); otherwise discount the flagged band when reading the map.",
};

/** The control ratios without a geometry twin: the randomized model, else the blank-input prior. */
export function controlRatios(ctx: MapContext, band: number): { name: string; r: BandRatios } | undefined {
  const g = mapGrid(ctx);
  const full = ctx.randomized?.[ctx.randomized.length - 1];
  if (full) return { name: 'the randomized model', r: borderBand(cellShares(ctx, full.relevance), g, band) };
  if (ctx.blank) return { name: 'the blank-input prior', r: borderBand(cellShares(ctx, ctx.blank, 1), g, band) };
  return undefined;
}

/**
 * Per side flagged as a rim, the factor of each line of the band (edge line first), as `<side>Lines`: the
 * summary counts a rim's excess over the control as artifact relevance. A deficit's artifact is relevance
 * that is missing, so its side adds none.
 */
function lineData(flagged: Side[], lines: (s: Side) => number[]): Record<string, number[]> {
  return Object.fromEntries(flagged.map((s) => [`${s}Lines`, lines(s)]));
}

const list = (sides: Side[], f: (s: Side) => string): string => sides.map((s) => `${s} ${f(s)}`).join(', ');

/**
 * Against a geometry twin (same weights, same samples, only the padding changed) the two maps are
 * comparable cell by cell and sample by sample, so each line of the band is compared with the same line
 * of the twin: zero padding starves the outermost line most (a 5-wide `same` kernel covers it with 3 of
 * its 5 windows) and the effect fades inwards, which a band mean would dilute with lines the padding
 * barely touches. Per line: the median over samples of the line's share of |R| in the model over the
 * twin's, and a one-sided sign test that the samples deviate the same way (not by chance).
 */
function againstTwin(ctx: MapContext, sides: Side[], band: number): Finding[] {
  const g = mapGrid(ctx);
  const pm = edgeProfilesPerSample(ctx.relevance, ctx.n, g, band);
  const pt = edgeProfilesPerSample(ctx.twin!.relevance, ctx.n, g, band);
  const { twinFactor: T, signTestP: P } = meta.thresholds;
  const factors = {} as Record<Side, number[]>;
  const agree = {} as Record<Side, number[]>;
  const pValue = {} as Record<Side, number[]>;
  /** Per side, the lines (distance from the edge) that pass both tests. */
  const beyond = {} as Record<Side, number[]>;
  const flagged: Side[] = [];
  const rims: Side[] = [];
  const notes: string[] = [];
  let worst = 1;
  for (const s of sides) {
    factors[s] = [];
    agree[s] = [];
    pValue[s] = [];
    beyond[s] = [];
    let dev = 1, at = -1;
    for (let d = 0; d < (pm[0]?.[s].length ?? 0); d++) {
      const ratios = pm.map((p, k) => p[s][d] / pt[k][s][d]).filter((r) => Number.isFinite(r) && r > 0);
      const f = median(ratios);
      const k = ratios.filter((r) => (f < 1 ? r < 1 : r > 1)).length;
      const p = signTestP(k, ratios.length);
      factors[s].push(f);
      agree[s].push(ratios.length ? k / ratios.length : 0);
      pValue[s].push(p);
      if (!Number.isFinite(f)) continue;
      const e = f >= 1 ? f : 1 / f;
      if (e > worst) worst = e;
      if (!(e > T && p < P)) continue;
      beyond[s].push(d);
      if (e > dev) { dev = e; at = d; }
    }
    if (at >= 0) {
      flagged.push(s);
      const f = factors[s][at];
      if (f > 1) rims.push(s);
      notes.push(`${s} ${f > 1 ? 'rim' : 'deficit'} x${fmt(f)} on the ${at === 0 ? 'edge line' : `line ${at + 1} in`} (${Math.round(100 * agree[s][at])} % of samples, sign test p ${pValue[s][at].toExponential(1)})`);
    }
  }
  if (flagged.length === 0) return [];
  const sm = cellShares(ctx);
  const st = cellShares(ctx, ctx.twin!.relevance);
  const r = borderBand(sm, g, band);
  const rt = borderBand(st, g, band);
  // How much of the map the padding moves: |R| share the flagged lines gain (rim) or lose (deficit) against the twin.
  const moved = movedShare(sm, st, g, beyond);
  return [
    makeFinding(meta, ctx.graph, {
      message:
        `against the ${ctx.twin!.name} on the same ${ctx.n} samples, the lines nearest each edge hold (median over samples of model / twin, edge line first): ` +
        list(sides, (s) => factors[s].map((f) => fmt(f)).join(' ')) +
        `; ${notes.join(', ')} (threshold: factor ${T} either way, sign test p < ${P}); on those lines the padding moves ${fmt(100 * moved)} % of the map's |R|. Band of ${band} cells vs the interior's mean |R|: ${fmt(r.all)} (twin ${fmt(rt.all)})`,
      data: {
        band, movedShare: moved, ratio: r.all, control: rt.all, worstFactor: worst, sides: flagged.join(','),
        // The panel, SARIF and JSON read these alike (issue 17): band ratio of the model and of the twin, the strongest line factor, its sign test.
        ...controlData(r.all, rt.all, ctx.twin!.name, worst, Math.min(...flagged.flatMap((s) => beyond[s].map((d) => pValue[s][d])))),
        ...Object.fromEntries(sides.map((s) => [s, factors[s][0]])),
        ...lineData(rims, (s) => factors[s]),
        // Which lines (distance from the edge) passed both tests, and the strongest factor among them: what the report's figure marks.
        ...Object.fromEntries(flagged.map((s) => [`${s}Flagged`, beyond[s]])),
        ...Object.fromEntries(flagged.map((s) => [`${s}Factor`, beyond[s].reduce((a, d) => (Math.abs(Math.log(factors[s][d])) > Math.abs(Math.log(a)) ? factors[s][d] : a), 1)])),
      },
    }),
  ];
}

/** Sum of |model share - twin share| over the cells of the given lines (per side, distance from the edge). */
function movedShare(sm: Float64Array, st: Float64Array, g: Grid, lines: Record<Side, number[]>): number {
  const hit = new Uint8Array(g.h * g.w);
  for (const [s, ds] of Object.entries(lines) as [Side, number[]][]) for (const d of ds) forLine(g, s, d, (i) => (hit[i] = 1));
  let moved = 0;
  for (let i = 0; i < hit.length; i++) if (hit[i]) moved += Math.abs(sm[i] - st[i]);
  return moved;
}

/**
 * Without a twin the band/interior ratio is compared with the randomized model's or the blank prior's:
 * those do not hold the data-driven focus fixed (a trained model's relevance gathers where its signal
 * is, so a quiet border may be physics), so the finding is information only.
 */
function againstControl(ctx: MapContext, sides: Side[], band: number): Finding[] {
  const g = mapGrid(ctx);
  const r = borderBand(cellShares(ctx), g, band);
  const ctl = controlRatios(ctx, band);
  const T = meta.thresholds.factor;
  const flagged: Side[] = [];
  const notes: string[] = [];
  const factor = {} as Record<Side, number>;
  let worst = 1;
  for (const s of sides) {
    const f = r[s] / (ctl ? ctl.r[s] : 1);
    factor[s] = f;
    if (!Number.isFinite(f)) continue;
    const dev = f >= 1 ? f : 1 / f;
    if (dev > T) {
      flagged.push(s);
      notes.push(`${s} ${f > 1 ? 'rim' : 'deficit'} x${fmt(f)}`);
    }
    if (dev > worst) worst = dev;
  }
  if (flagged.length === 0) return [];
  return [
    makeFinding(meta, ctx.graph, {
      severity: 'information',
      message:
        `border band of ${band} cells holds ${fmt(r.all)} x the interior's mean |R| (per side: ${list(sides, (s) => fmt(r[s]))})` +
        (ctl ? `; ${ctl.name} gives ${fmt(ctl.r.all)} (${list(sides, (s) => fmt(ctl.r[s]))})` : '; no control available, judged against 1') +
        `; ${notes.join(', ')} (threshold: factor ${T} either way)`,
      data: {
        band, ratio: r.all, top: r.top, bottom: r.bottom, left: r.left, right: r.right, control: ctl?.r.all ?? NaN, controlName: ctl?.name ?? 'none', worstFactor: worst, sides: flagged.join(','),
        ...lineData(flagged.filter((s) => factor[s] > 1), (s) => new Array<number>(band).fill(factor[s])),
        // Judged on band means: every line of a flagged side, at the side's factor.
        ...Object.fromEntries(flagged.map((s) => [`${s}Flagged`, Array.from({ length: band }, (_, d) => d)])),
        ...Object.fromEntries(flagged.map((s) => [`${s}Factor`, factor[s]])),
      },
    }),
  ];
}

export const check: MapCheck = {
  meta,
  check(ctx) {
    // Without a convolution or pooling every cell feeds the network alike: no border to judge (an MLP
    // on a grid, or on ocean cells scattered back onto one).
    if (!isGridInput(ctx) || !ctx.graph.nodes.some(isWindowed)) return [];
    const g = mapGrid(ctx);
    const band = firstLayerBand(ctx.graph);
    if (2 * band >= Math.max(g.h, g.w)) return [];
    // A wrapped (periodic) axis has no border: its sides are not judged.
    const sides = borderSides(ctx);
    if (sides.length === 0) return [];
    return ctx.twin ? againstTwin(ctx, sides, band) : againstControl(ctx, sides, band);
  },
};
