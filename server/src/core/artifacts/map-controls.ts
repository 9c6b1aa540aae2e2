/**
 * Control maps for the relevance-map checks (issue 17): each holds the data fixed and removes one
 * mechanism, so a check compares the user's map with what the mechanism alone (or its absence) gives on
 * the same samples. Runs the engine; called once by collect.ts, read by the checks as plain arrays.
 */
import type { ModelGraph } from '../model/graph.js';
import { toFloat32, type NdArray } from '../array.js';
import { explainGraph, LrpExplainer, type ExplainerOptions, type Explanation } from '../lrp/engine.js';
import { baseline } from '../lrp/baselines.js';
import { avgPoolTwin } from './twins.js';
import { isWindowed } from './geometry.js';
import type { RuleTwin } from './remedy-twins-rule.js';

export interface ControlMaps {
  /**
   * The map the architecture alone makes (LRP203): the flat rule on every linear layer, so relevance
   * spreads by window coverage only, whatever the weights and the input values. Same samples, channels-last.
   */
  geometry?: Float32Array;
  /** Same weights with max pooling replaced by average pooling (LRP204), explained for the model's classes. */
  poolTwin?: { name: string; relevance: Float32Array };
  /** Every linear layer re-initialized (as LRP207's last step), explained for the model's top and runner-up classes (LRP206). */
  randomizedTop?: Float32Array;
  randomizedRunnerUp?: Float32Array;
  /** Gradient x input of the model for its top class (LRP210). */
  gradientInput?: Float32Array;
  /** Remedy twins with another rule on the first layer, per finding code (LRP207/208/210): remedy-twins-rule.ts, built after the checks. */
  ruleTwins?: Record<string, RuleTwin>;
}

/**
 * The controls with every map (n samples each, in the context's layout) passed through `f`: the one list
 * of control maps that moving a context onto the data's grid (fold-context.ts, scatter-context.ts) goes
 * through, so a check never reads a control at offsets of another layout. A new control adds its line here.
 */
export function mapControlMaps(c: ControlMaps, f: (r: Float32Array) => Float32Array): ControlMaps {
  const out: ControlMaps = {};
  if (c.geometry) out.geometry = f(c.geometry);
  if (c.poolTwin) out.poolTwin = { name: c.poolTwin.name, relevance: f(c.poolTwin.relevance) };
  if (c.randomizedTop) out.randomizedTop = f(c.randomizedTop);
  if (c.randomizedRunnerUp) out.randomizedRunnerUp = f(c.randomizedRunnerUp);
  if (c.gradientInput) out.gradientInput = f(c.gradientInput);
  if (c.ruleTwins) out.ruleTwins = Object.fromEntries(Object.entries(c.ruleTwins).map(([code, t]) => [code, { ...t, relevance: f(t.relevance) }]));
  return out;
}

/** Channels-last conversion of a map in the model's file layout. */
export type ToChannelsLast = (data: Float32Array, shape: number[]) => Float32Array;

/** Per sample, the class to explain; samples grouped by class so each group is one engine call. */
function explainByClass(graph: ModelGraph, x: NdArray, classes: number[], opts: ExplainerOptions, cl: ToChannelsLast): Float32Array {
  const xs = toFloat32(x);
  const n = classes.length;
  const xper = xs.length / x.shape[0];
  let out: Float32Array | undefined;
  for (const cls of new Set(classes)) {
    const idx = classes.map((c, i) => (c === cls ? i : -1)).filter((i) => i >= 0);
    const data = new Float32Array(idx.length * xper);
    idx.forEach((s, j) => data.set(xs.subarray(s * xper, (s + 1) * xper), j * xper));
    const r = explainGraph(graph, { shape: [idx.length, ...x.shape.slice(1)], data, dtype: 'f4' } as NdArray, { ...opts, target: { type: 'index', index: cls } });
    const rel = cl(r.relevance.data as Float32Array, r.relevance.shape);
    const per = rel.length / idx.length;
    out ??= new Float32Array(n * per);
    idx.forEach((s, j) => out!.set(rel.subarray(j * per, (j + 1) * per), s * per));
  }
  return out ?? new Float32Array(0);
}

/** Top and runner-up class per sample from the explained output. */
export function topAndRunnerUp(e: Explanation): { top: number[]; runnerUp: number[] } | undefined {
  const [n, k] = e.output.shape;
  if (!(k >= 2)) return undefined;
  const top: number[] = [], runnerUp: number[] = [];
  for (let s = 0; s < n; s++) {
    const row = e.output.data.subarray(s * k, (s + 1) * k);
    const t = e.targets[s].index;
    let best = -1;
    for (let i = 0; i < k; i++) if (i !== t && (best < 0 || row[i] > row[best])) best = i;
    top.push(t);
    runnerUp.push(best);
  }
  return { top, runnerUp };
}

export interface ControlInputs {
  /** The model with every linear layer re-initialized (collect.ts draws it as LRP207's last step). */
  randomized?: ModelGraph;
}

export function collectControls(graph: ModelGraph, x: NdArray, e: Explanation, opts: ExplainerOptions, cl: ToChannelsLast, inputs: ControlInputs = {}): ControlMaps {
  const out: ControlMaps = {};
  const classes = e.targets.map((t) => t.index);
  // A control the engine cannot make for this model (a layer a rule does not fit) is left out: the
  // check that reads it falls back to its uncontrolled statistic and says so.
  const tryOr = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch {
      return undefined;
    }
  };
  // Geometry: flat on every linear layer (the first matching rule-map entry wins), same targets.
  if (graph.nodes.some(isWindowed)) out.geometry = tryOr(() => explainByClass(graph, x, classes, { ...opts, ruleMap: [{ kind: 'linear', rule: 'flat' }] }, cl));
  const twin = avgPoolTwin(graph);
  if (twin) out.poolTwin = tryOr(() => ({ name: 'average-pooling twin (same weights)', relevance: explainByClass(twin, x, classes, opts, cl) }));
  const pair = topAndRunnerUp(e);
  if (inputs.randomized && pair) {
    out.randomizedTop = tryOr(() => explainByClass(inputs.randomized!, x, pair.top, opts, cl));
    out.randomizedRunnerUp = tryOr(() => explainByClass(inputs.randomized!, x, pair.runnerUp, opts, cl));
  }
  out.gradientInput = tryOr(() => {
    const ex = new LrpExplainer(graph, opts);
    try {
      const g = baseline(ex, x, { method: 'gradient-x-input', target: { type: 'predicted' } });
      return cl(toFloat32(g.relevance), g.relevance.shape);
    } finally {
      ex.dispose();
    }
  });
  return out;
}
