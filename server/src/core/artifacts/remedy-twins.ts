/**
 * "What this map would look like without the artifact": for each warning whose remedy the project can
 * build as a twin of the user's model, the twin's maps of the same samples (already made as the check's
 * control by collect.ts) with the check's statistic on the user's map and on the twin's, the same
 * numbers the finding carries. Twins built: the valid or circular-longitude padding twin (LRP202), the
 * average-pooling twin (LRP204), and a different first-layer rule (LRP207, LRP208, LRP210:
 * remedy-twins-rule.ts). A kernel divisible by the stride (LRP203) changes the weights' shape and so
 * needs retraining: no twin. The report and the panel draw these next to the user's map; each finding
 * with a twin carries its name and statistic in its data (`remedyTwin`, `remedyTwinStatistic`), so
 * `check --format json`, SARIF and the panel show the same numbers.
 */
import type { Finding } from './finding.js';
import type { MapContext } from './map-context.js';

export interface RemedyTwin {
  code: string;
  /** The twin (e.g. 'valid twin (same weights)'). */
  name: string;
  /** The check's statistic on the user's map and on the twin's (the finding's statistic and controlStatistic). */
  statistic: number;
  twinStatistic: number;
  /** What the statistic measures, for captions. */
  statisticName: string;
  /** Relevance of the twin for the same samples, in the context's layout (n x cells). */
  relevance: Float32Array;
}

/** The twin map each check's control is, where it is a remedy the user could apply. */
function twinMap(code: string, ctx: MapContext): { name: string; relevance: Float32Array; statistic?: number } | undefined {
  if (code === 'LRP202') return ctx.twin;
  if (code === 'LRP204') return ctx.controls?.poolTwin;
  return ctx.controls?.ruleTwins?.[code];
}

/** Per check: its statistic's name and the data keys of the user's and the twin's value (a rule twin carries its own). */
const STATISTIC: Record<string, [name: string, user: string, twin: string]> = {
  LRP202: ['border band mean |R| over the interior\'s', 'ratio', 'control'],
  LRP204: ['block roughness of |R| within the pooling windows', 'statistic', 'controlStatistic'],
  LRP207: ["similarity of |R| to the fully randomized model's", 'similarity', ''],
  LRP208: ["similarity of |R| to the blank input's map", 'similarity', ''],
  LRP210: ['correlation of |R| with |x|', 'correlation', ''],
};

/** One twin per warning (or error) that has one; information-only findings show none. */
export function remedyTwins(ctx: MapContext, findings: Finding[]): RemedyTwin[] {
  const out: RemedyTwin[] = [];
  for (const f of findings) {
    if (f.severity === 'information' || out.some((t) => t.code === f.code)) continue;
    const t = twinMap(f.code, ctx);
    if (!t || !STATISTIC[f.code] || t.relevance.length !== ctx.relevance.length) continue;
    const num = (k: string): number => (typeof f.data?.[k] === 'number' ? (f.data[k] as number) : NaN);
    const [statisticName, user, twin] = STATISTIC[f.code];
    out.push({ code: f.code, name: t.name, statistic: num(user), twinStatistic: t.statistic ?? num(twin), statisticName, relevance: t.relevance });
  }
  return out;
}

/** Writes each twin's name and statistic into its finding's data, for the front ends that show no maps (JSON, SARIF, diagnostics). */
export function markRemedyTwins(ctx: MapContext, findings: Finding[]): void {
  for (const t of remedyTwins(ctx, findings)) {
    const f = findings.find((x) => x.code === t.code && x.severity !== 'information');
    if (!f) continue;
    f.data = { ...f.data, remedyTwin: t.name, remedyTwinStatistic: t.twinStatistic };
  }
}

/** Mean |R| share per cell (channels summed, each sample normalized to 1): the user's and a twin's, for drawing. */
export function twinShareMaps(ctx: MapContext, t: RemedyTwin): { height: number; width: number; user: Float32Array; twin: Float32Array } {
  const spatial = ctx.shape.length >= 2 ? ctx.shape.slice(0, -1) : [ctx.shape[0] ?? 1];
  const C = ctx.shape.length >= 2 ? ctx.shape[ctx.shape.length - 1] : 1;
  const height = spatial.length >= 2 ? spatial[0] : 1;
  const width = spatial.slice(spatial.length >= 2 ? 1 : 0).reduce((a, b) => a * b, 1);
  const share = (rel: Float32Array): Float32Array => {
    const cells = height * width;
    const out = new Float64Array(cells);
    let used = 0;
    for (let s = 0; s < ctx.n; s++) {
      const off = s * cells * C;
      let tot = 0;
      for (let i = 0; i < cells * C; i++) if (Number.isFinite(rel[off + i])) tot += Math.abs(rel[off + i]);
      if (!(tot > 0)) continue;
      used++;
      for (let i = 0; i < cells * C; i++) if (Number.isFinite(rel[off + i])) out[Math.floor(i / C)] += Math.abs(rel[off + i]) / tot;
    }
    return Float32Array.from(out, (v) => (used ? v / used : 0));
  };
  return { height, width, user: share(ctx.relevance), twin: share(t.relevance) };
}
