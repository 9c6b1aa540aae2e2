/**
 * The per-model answer to "fact or artifact": how the total relevance divides between the regions the
 * map checks flagged (a border rim's excess, excess on stride phases, masked cells) and the rest, and (for the
 * labelled benchmark) the share inside the known signal region.
 */
import type { ModelGraph } from '../model/graph.js';
import type { Finding, Severity } from './finding.js';
import type { MapContext } from './map-context.js';
import { cellShares, firstLayerBand, mapGrid, stridePeriod } from './checks/map-common.js';
import { forLine } from './map-stats.js';

export interface ModelSummary {
  file: string;
  model: string;
  format: string;
  /** True when no data was given (or it could not be used): only the static checks ran. */
  staticOnly: boolean;
  counts: Record<Severity, number>;
  /** Share of total |R| on the flagged regions, per code and together (maps only). */
  artifactShare?: number;
  artifactByCode?: Record<string, number>;
  /** 1 - artifactShare. */
  remainingShare?: number;
  /** Share of |R| inside the known signal region (benchmark data only). */
  factShare?: number;
}

export function countSeverities(findings: Finding[]): Record<Severity, number> {
  const c: Record<Severity, number> = { error: 0, warning: 0, information: 0, hint: 0 };
  for (const f of findings) c[f.severity]++;
  return c;
}

/** Cells (h*w) of each flagged region, from the findings that fired. */
export function flaggedRegions(ctx: MapContext, findings: Finding[]): Map<string, Float64Array> {
  const g = mapGrid(ctx);
  const cells = g.h * g.w;
  const regions = new Map<string, Float64Array>();
  const fired = new Set(findings.map((f) => f.code));
  const border = findings.find((f) => f.code === 'LRP202');
  if (border) {
    // A rim's excess over its control is relevance the border made: a line at factor f holds (f - 1) / f
    // of its relevance as artifact. A deficit's artifact is relevance that is missing, so it adds none.
    const band = firstLayerBand(ctx.graph);
    const w = new Float64Array(cells);
    const excess = (f: number): number => (Number.isFinite(f) && f > 1 ? (f - 1) / f : 0);
    for (const side of ['top', 'bottom', 'left', 'right'] as const) {
      const v = border.data?.[`${side}Lines`];
      if (!Array.isArray(v) || (g.h === 1 && (side === 'top' || side === 'bottom'))) continue;
      const n = side === 'top' || side === 'bottom' ? g.h : g.w;
      for (let d = 0; d < Math.min(band, n, v.length); d++) forLine(g, side, d, (i) => (w[i] = Math.max(w[i], excess(v[d]))));
    }
    regions.set('LRP202', w);
  }
  if (fired.has('LRP203')) {
    // The artifact is the excess over an even spread across phases: weight each cell by its phase's excess share.
    const { period } = stridePeriod(ctx.graph);
    const share = cellShares(ctx);
    const py = g.h > 1 ? period : 1;
    const sums = new Float64Array(py * period), counts = new Float64Array(py * period);
    for (let y = 0; y < g.h; y++) for (let x = 0; x < g.w; x++) { const k = (y % py) * period + (x % period); sums[k] += share[y * g.w + x]; counts[k]++; }
    const means = Array.from(sums, (s, k) => s / Math.max(counts[k], 1));
    const lo = Math.min(...means);
    const w = new Float64Array(cells);
    for (let y = 0; y < g.h; y++) for (let x = 0; x < g.w; x++) { const k = (y % py) * period + (x % period); w[y * g.w + x] = means[k] > 0 ? (means[k] - lo) / means[k] : 0; }
    regions.set('LRP203', w);
  }
  if (fired.has('LRP209') && ctx.mask) {
    const w = new Float64Array(cells);
    const c = ctx.mask.length / cells;
    for (let i = 0; i < ctx.mask.length; i++) if (ctx.mask[i]) w[Math.floor(i / c)] = 1;
    regions.set('LRP209', w);
  }
  return regions;
}

export function summarize(graph: ModelGraph, findings: Finding[], ctx?: MapContext): ModelSummary {
  const s: ModelSummary = { file: graph.file, model: graph.name, format: `${graph.format.name} ${graph.format.version}`, staticOnly: !ctx, counts: countSeverities(findings) };
  if (!ctx) return s;
  const share = cellShares(ctx);
  const regions = flaggedRegions(ctx, findings);
  const union = new Float64Array(share.length);
  s.artifactByCode = {};
  for (const [code, w] of regions) {
    let a = 0;
    for (let i = 0; i < share.length; i++) { a += share[i] * w[i]; union[i] = Math.max(union[i], w[i]); }
    s.artifactByCode[code] = a;
  }
  let art = 0;
  for (let i = 0; i < share.length; i++) art += share[i] * union[i];
  s.artifactShare = art;
  s.remainingShare = 1 - art;
  if (ctx.signal) {
    let f = 0;
    const c = ctx.signal.length / share.length;
    for (let i = 0; i < ctx.signal.length; i++) if (ctx.signal[i]) f += share[Math.floor(i / c)] / c;
    s.factShare = f;
  }
  return s;
}
