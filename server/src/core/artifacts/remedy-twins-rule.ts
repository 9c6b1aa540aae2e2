/**
 * The "different first-layer rule" remedy twins (issue 17): for a warning whose remedy is another rule on
 * the first linear layer, the same model and samples explained with that rule there (the rest of the
 * user's composite and rule map unchanged), judged like the user's map: the check's statistic recomputed
 * on the twin's context on the data's grid. Which rule each finding's remedy names (docs/findings):
 *  - LRP207 (map survives randomization) and LRP208 (input-independent prior): a flat or w-square first
 *    layer (LRP208 also z-box) gives every input relevance whatever its value; the twin puts epsilon
 *    there, which multiplies by the input. With another first-layer rule the remedy does not apply: no twin.
 *  - LRP210 (map copies |x|): a rule that does not multiply by the input; the twin puts w-square there
 *    (flat would give a dense first layer a constant map, whose correlation with |x| is undefined, and
 *    is itself the LRP207 artifact).
 * Runs the engine only for the findings that fired, after the checks (checkMaps calls it).
 */
import type { ModelGraph } from '../model/graph.js';
import type { NdArray } from '../array.js';
import { explainGraph, type ExplainerOptions } from '../lrp/engine.js';
import type { RuleFamily } from '../names.js';
import type { Finding } from './finding.js';
import type { MapContext } from './map-context.js';
import { isLinear } from './geometry.js';
import { randomizedTop, relevanceOf } from './collect.js';
import { randomizationSimilarities } from './checks/lrp207-randomization.js';
import { blankSimilarity } from './checks/lrp208-blank-prior.js';
import { inputCopy } from './checks/lrp210-input-copy.js';
import { perSampleMean } from './map-stats.js';

/** One first-layer rule twin: its maps of the check's samples (in the context's layout) and the check's statistic on them. */
export interface RuleTwin {
  /** E.g. 'epsilon first-layer twin (epsilon on conv2d instead of flat)': same weights, same samples. */
  name: string;
  /** The rule put on the first linear layer (engine syntax). */
  rule: string;
  relevance: Float32Array;
  /** The check's statistic on the twin, judged on the data's grid as the finding's was. */
  statistic: number;
}

/** What a rule twin needs to run: the model, the samples in the file layout, the user's explainer options (composite included). */
export interface RuleTwinRun {
  graph: ModelGraph;
  x: NdArray;
  opts: ExplainerOptions;
  /** Seed of the cascading randomization (collect.ts's default 7), so LRP207's twin randomizes the same weights. */
  seed?: number;
}

/** Codes whose remedy is a first-layer rule: the first layer's rules the remedy replaces, and the rule it puts there. */
const REMEDY: Record<string, { replaces: (r: RuleFamily | undefined) => boolean; rule: string }> = {
  LRP207: { replaces: (r) => r === 'flat' || r === 'w-square', rule: 'epsilon' },
  LRP208: { replaces: (r) => r === 'flat' || r === 'w-square' || r === 'zbox', rule: 'epsilon' },
  LRP210: { replaces: (r) => r !== undefined && r !== 'flat' && r !== 'w-square', rule: 'w-square' },
};

/** The first-layer rule twin a finding's remedy names, given the first linear layer's rule now; undefined where none applies. */
export function firstLayerRemedy(code: string, graph: ModelGraph, rules: MapContext['rules']): { layer: string; from: RuleFamily; rule: string } | undefined {
  const r = REMEDY[code];
  // A recurrent layer reads the input with its own rule family: the first Dense/Conv is not the first layer.
  if (graph.nodes.some((n) => n.kind === 'Recurrent')) return undefined;
  const layer = graph.nodes.find(isLinear)?.name;
  const from = layer ? rules?.[layer] : undefined;
  if (!r || !layer || !from || !r.replaces(from)) return undefined;
  return { layer, from, rule: r.rule };
}

const mean = (a: number[]): number => perSampleMean(a.length, 1, (s) => a[s]);

/** The check's statistic on a context (the user's or a twin's), on the data's grid. */
function statistic(code: string, ctx: MapContext): number {
  if (code === 'LRP207') return randomizationSimilarities(ctx).at(-1)?.similarity ?? NaN;
  if (code === 'LRP208') return blankSimilarity(ctx);
  return mean(inputCopy(ctx).model);
}

/**
 * Builds the rule twins of the warnings among `findings` and stores them in the controls of `raw` (the
 * collector's context, model layout) and `judged` (the checks' context; `onGrid` moves a raw context
 * there). Each finding with a twin gets `remedyTwin` / `remedyTwinStatistic` in its data via remedyTwins.
 * A twin the engine cannot make (a rule that does not fit the layer) is left out.
 */
export function addRuleTwins(raw: MapContext, judged: MapContext, findings: Finding[], run: RuleTwinRun, onGrid: (c: MapContext) => MapContext): void {
  const rawTwins: Record<string, RuleTwin> = {}, judgedTwins: Record<string, RuleTwin> = {};
  // Twins with the same rule share one pass (LRP207 and LRP208 both put epsilon there).
  const passes = new Map<string, { relevance: Float32Array; top: number }>();
  for (const f of findings) {
    if (f.severity === 'information' || rawTwins[f.code]) continue;
    const remedy = firstLayerRemedy(f.code, run.graph, raw.rules);
    if (!remedy) continue;
    // The user's rule map stays; the remedy's entry goes first, so it wins on the first linear layer.
    const opts: ExplainerOptions = { ...run.opts, ruleMap: [{ first: true, rule: remedy.rule }, ...(run.opts.ruleMap ?? [])] };
    // A twin the engine cannot make is left out (as collectControls does for the controls).
    try {
      let pass = passes.get(remedy.rule);
      if (!pass) {
        const e = explainGraph(run.graph, run.x, { ...opts, target: { type: 'predicted' } });
        pass = { relevance: relevanceOf(e), top: e.targets[0]?.index ?? 0 };
        passes.set(remedy.rule, pass);
      }
      const relevance = pass.relevance;
      const twin: MapContext = { ...raw, relevance };
      const last = raw.randomized?.at(-1);
      if (f.code === 'LRP207' && last) {
        // The same weights re-drawn (same layers, same seed) as the user's LRP207 step, explained with the twin's rule.
        const r = explainGraph(randomizedTop(run.graph, last.layers, run.seed ?? 7), run.x, { ...opts, target: { type: 'predicted' } });
        twin.randomized = [{ layers: last.layers, relevance: relevanceOf(r) }];
      }
      if (f.code === 'LRP208' && raw.blank) {
        const blankX = { shape: [1, ...run.x.shape.slice(1)], data: new Float32Array(raw.blank.length), dtype: 'f4' } as NdArray;
        // The class the user's blank map explains: the first sample's (collect.ts), the same under any rule.
        twin.blank = relevanceOf(explainGraph(run.graph, blankX, { ...opts, target: { type: 'index', index: pass.top } }));
      }
      const onData = onGrid(twin);
      const name = `${remedy.rule} first-layer twin (${remedy.rule} on ${remedy.layer} instead of ${remedy.from})`;
      const value = statistic(f.code, onData);
      rawTwins[f.code] = { name, rule: remedy.rule, relevance, statistic: value };
      judgedTwins[f.code] = { name, rule: remedy.rule, relevance: onData.relevance, statistic: value };
    } catch {
      continue;
    }
  }
  if (!Object.keys(rawTwins).length) return;
  // New control objects: the judged context may share the raw one's (no grid to move to).
  raw.controls = { ...raw.controls, ruleTwins: rawTwins };
  judged.controls = { ...judged.controls, ruleTwins: judged === raw ? rawTwins : judgedTwins };
}
