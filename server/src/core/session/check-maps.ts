/**
 * The checks of a session: the static catalogue under the session's composite and rule map, and the
 * relevance-map checks on its samples with their controls (runner-up, cascading randomization, blank
 * prior, the geometry twin), judged on the data's grid (an MLP's ocean cells scattered back, a wrapped
 * longitude folded and periodic) with the data's mask. The CLI's check, the server's data check and the
 * report all call this, so one model on one data set gets one set of findings.
 */
import { LensError } from '../errors.js';
import { runMapChecks, runStaticChecks } from '../artifacts/catalogue.js';
import type { Finding, Severity } from '../artifacts/finding.js';
import type { MapContext } from '../artifacts/map-context.js';
import { collectFromArray } from '../artifacts/collect.js';
import { addRuleTwins } from '../artifacts/remedy-twins-rule.js';
import { markRemedyTwins } from '../artifacts/remedy-twins.js';
import { explainerOptions, samplesOf, type Session } from './session.js';
import { checksMask } from './mask.js';
import { geometryTwin, gridIfAny, onDataGrid } from './grid-checks.js';
import type { DisplayGrid } from './data-grid.js';
import type { Batch } from './samples.js';

/** Samples the map checks use when the caller names none (the checks are statistics). */
export const CHECK_SAMPLES = 32;

export interface CheckOptions {
  /** Samples of the session's data (default: the first CHECK_SAMPLES). */
  indices?: number[];
  /** Samples by date on the data's time axis (samples.ts). */
  dates?: string[];
  timeRange?: string;
  maxSamples?: number;
  severity?: Record<string, Severity | 'off'>;
}

export interface CheckedMaps {
  mapFindings: Finding[];
  /** The context the checks judged (on the data's grid). */
  ctx: MapContext;
  /** The collector's context in the model's layout (channels last). */
  raw: MapContext;
  grid?: DisplayGrid;
  /** The samples judged. */
  x: Batch;
  indices: number[];
  /** The checks' mask before it went onto the grid (1 = masked), when the data have one. */
  mask?: Uint8Array;
}

export function staticFindings(s: Session, severity?: CheckOptions['severity']): Finding[] {
  return runStaticChecks(s.graph, { composite: s.choice.composite, ruleMap: s.choice.rules.length ? s.choice.rules : undefined, severity });
}

export async function checkMaps(s: Session, o: CheckOptions = {}): Promise<CheckedMaps> {
  // The checks compare the predicted class's maps with the runner-up's and the controls', from the
  // composite's own initialisation: a requested target or init would be silently ignored, so it is refused.
  if (s.choice.from.target === 'request' && s.choice.target !== 'predicted') throw new LensError('USAGE', `the map checks judge the predicted class's maps; target ${s.choice.target} is for explain`);
  if (s.choice.method !== 'lrp') throw new LensError('USAGE', `the map checks judge LRP maps; method ${s.choice.method} is for explain`);
  if (s.choice.from.init === 'request') throw new LensError('USAGE', "the map checks start from the composite's own initialisation; init is for explain");
  const { x, indices } = samplesOf(s, { indices: o.indices, dates: o.dates, timeRange: o.timeRange, maxSamples: o.maxSamples ?? CHECK_SAMPLES });
  const data = s.data!;
  const mask = checksMask(data, s.graph.inputs[0]?.fileLayout ?? '');
  const grid = gridIfAny(data);
  const { composite, ...explainer } = explainerOptions(s);
  // Recurrent checks: the field's dim fed as time (their messages name it) and the labels (LRP216 compares accuracy).
  const seq = data.input?.sequence;
  const sequence = seq ? { time: seq.timeDim, reverse: seq.reverse } : undefined;
  const labels = data.labels ? indices.map((i) => data.labels![i] ?? -1) : undefined;
  const raw = await collectFromArray(s.graph, x, composite!, { maxSamples: x.shape[0], mask, explainer, twin: geometryTwin(s.graph, grid, x), sequence, labels });
  const ctx = onDataGrid(raw, data, grid);
  const mapFindings = runMapChecks(ctx, { severity: o.severity });
  // The warnings' remedy twins: first-layer rule twins built now (only for what fired), and every twin's
  // name and statistic written into its finding, so JSON, SARIF, the panel and the report agree.
  addRuleTwins(raw, ctx, mapFindings, { graph: s.graph, x, opts: { ...explainer, composite } }, (c) => onDataGrid(c, data, grid));
  markRemedyTwins(ctx, mapFindings);
  return { mapFindings, ctx, raw, grid, x, indices, mask };
}
