/**
 * Relevance for a batch, in chunks (progress and cancellation between them, bounded memory), by LRP or a
 * gradient baseline (the method axis, as Zennit separates attributors from composites). One target for
 * the batch, or one class per sample (each class's samples explained together, put back in sample order).
 */
import { LrpExplainer, type ExplainerOptions, type LayerRelevance } from '../lrp/engine.js';
import type { CanonicalGraph } from '../model/canonicalize.js';
import type { ModelGraph } from '../model/graph.js';
import type { InitMode } from '../lrp/composites.js';
import type { SampleTarget, TargetSpec } from '../lrp/targets.js';
import { groupBy, takeSamples, type Batch } from './samples.js';
import { prefersOnnxRuntime } from '../backend.js';
import type { CompositeChoice, Method } from './composite-choice.js';

export interface BatchRequest {
  /** One target for every sample, or a class index per sample. */
  target: TargetSpec | { perSample: ArrayLike<number> };
  init?: InitMode;
  /** Samples per engine pass (default: by size, at most 16). */
  chunk?: number;
  /** Called after each chunk; may throw to stop (a cancelled job). */
  onChunk?: (done: number, total: number) => void;
}

export interface BatchRelevance {
  /** In the model file's input layout, batch first. */
  relevance: Batch;
  layout: string;
  method: Method;
  /** The composite the engine used (its display name); the method for a baseline. */
  composite: string;
  init: InitMode;
  targets: SampleTarget[];
  /** The explained output (before a stripped softmax), [n, k]. */
  output: { shape: [number, number]; data: Float32Array };
  /** Relevance put in at the output per sample (1 for one-hot, the target value otherwise and for baselines). */
  initial: number[];
  /** Σ input relevance per sample. */
  relevanceSum: number[];
  /** Per-node sums, output to input (LRP only). */
  layers: LayerRelevance[];
  canonical?: Omit<CanonicalGraph, 'graph'>;
  /** Which engine computed the relevance, and why not ONNX Runtime when it was asked for and did not run. */
  engine: Engine;
}

export interface Engine {
  name: 'onnxruntime' | 'tfjs';
  /** Set when ONNX Runtime was preferred but the model or rule does not lower, or the runtime did not load. */
  fallback?: string;
}

/** Samples per pass: small enough for progress, cancellation and memory. */
export function defaultChunk(perSample: number): number {
  return Math.max(1, Math.min(16, Math.floor(4_000_000 / Math.max(1, perSample))));
}

interface Part {
  rel: Float32Array;
  relShape: number[];
  out: Float32Array;
  k: number;
  targets: SampleTarget[];
  initial: number[];
  sums: number[];
  layers: LayerRelevance[];
  composite: string;
  init: InitMode;
  layout: string;
  canonical?: Omit<CanonicalGraph, 'graph'>;
}

function sumsOf(a: Float32Array, n: number): number[] {
  const per = a.length / Math.max(1, n);
  return Array.from({ length: n }, (_, s) => {
    let acc = 0;
    for (let i = s * per; i < (s + 1) * per; i++) acc += a[i];
    return acc;
  });
}

async function baselinePart(ex: LrpExplainer, x: Batch, target: TargetSpec, choice: CompositeChoice): Promise<Part> {
  const { baseline } = await import('../lrp/baselines.js');
  const method = choice.method as Exclude<Method, 'lrp'>;
  const b = baseline(ex, x, { method, target, ...choice.baseline });
  const t = ex.inputOf(x);
  let out: Float32Array;
  let k: number;
  try {
    const y = ex.forwardOutput(t);
    out = Float32Array.from(y.dataSync() as Float32Array);
    k = y.shape[1] ?? 1;
    y.dispose();
  } finally {
    t.dispose();
  }
  const rel = b.relevance.data as Float32Array;
  const n = x.shape[0];
  // No conservation to speak of: Σ map is compared with the explained value.
  return { rel, relShape: b.relevance.shape.slice(1), out, k, targets: b.targets, initial: b.targets.map((v) => v.value), sums: sumsOf(rel, n), layers: [], composite: method, init: 'onehot', layout: ex.graph.inputs[0]?.fileLayout ?? '' };
}

type Lrp = Pick<LrpExplainer, 'explain'> | { explain: OrtExplain };
type OrtExplain = import('../lrp-onnx/ort-explainer.js').OrtExplainer['explain'];

async function lrpPart(ex: Lrp, x: Batch, target: TargetSpec, init: InitMode | undefined, chunk: number): Promise<Part> {
  const e = await ex.explain(x, { target, init, chunkSize: chunk });
  return {
    rel: Float32Array.from(e.relevance.data as Float32Array),
    relShape: e.relevance.shape.slice(1),
    out: e.output.data,
    k: e.output.shape[1] ?? 1,
    targets: e.targets,
    initial: e.targets.map((t) => (e.init === 'onehot' ? (t.seed ?? 1) : t.value)),
    sums: e.relevanceSum,
    layers: e.layers,
    composite: e.composite,
    init: e.init,
    layout: e.layout,
    canonical: e.canonical,
  };
}

export async function explainBatch(graph: ModelGraph, x: Batch, choice: CompositeChoice, opts: ExplainerOptions, req: BatchRequest): Promise<BatchRelevance> {
  const n = x.shape[0];
  const per = x.data.length / Math.max(1, n);
  const chunk = req.chunk ?? defaultChunk(per);
  const lrp = choice.method === 'lrp';
  // A baseline runs the same forward pass; the explainer's composite is then unused.
  const chosen = lrp && prefersOnnxRuntime() ? await onnxRuntimeFor(graph, opts, req.init) : undefined;
  const engine: Engine = chosen?.explainer ? { name: 'onnxruntime' } : { name: 'tfjs', ...(chosen?.fallback ? { fallback: chosen.fallback } : {}) };
  // The tfjs explainer (canonicalized graph, prepared kernels) only where it runs: a baseline, or LRP that
  // ONNX Runtime does not take.
  const ex = chosen?.explainer ? undefined : new LrpExplainer(graph, lrp ? opts : { composite: 'epsilon' });
  const lrpEngine: Lrp = chosen?.explainer ?? ex!;
  // Groups of sample positions with their target: the whole batch, or each class's samples.
  const groups: { pos: number[]; target: TargetSpec }[] = [];
  if ('perSample' in req.target) {
    for (const [cls, pos] of groupBy(req.target.perSample)) groups.push({ pos, target: { type: 'index', index: cls } });
  } else groups.push({ pos: [...Array(n).keys()], target: req.target });
  let merged: (Omit<Part, 'rel' | 'out' | 'targets' | 'initial' | 'sums' | 'layers'> & { rel: Float32Array; out: Float32Array; targets: SampleTarget[]; initial: number[]; sums: number[]; layers: LayerRelevance[] }) | undefined;
  let done = 0;
  try {
    for (const g of groups) {
      const gx = g.pos.length === n ? x : takeSamples(x, g.pos);
      for (let s0 = 0; s0 < g.pos.length; s0 += chunk) {
        const size = Math.min(chunk, g.pos.length - s0);
        const part = { shape: [size, ...x.shape.slice(1)], data: gx.data.subarray(s0 * per, (s0 + size) * per), dtype: 'f4' as const };
        const p = lrp ? await lrpPart(lrpEngine, part, g.target, req.init, chunk) : await baselinePart(ex!, part, g.target, choice);
        const rper = p.rel.length / size;
        if (!merged) {
          merged = {
            ...p,
            rel: new Float32Array(n * rper),
            out: new Float32Array(n * p.k),
            targets: new Array<SampleTarget>(n),
            initial: new Array<number>(n),
            sums: new Array<number>(n),
            layers: p.layers.map((l) => ({ ...l, relevanceSum: new Array<number>(n) })),
          };
        }
        const m = merged;
        for (let j = 0; j < size; j++) {
          const s = g.pos[s0 + j];
          m.rel.set(p.rel.subarray(j * rper, (j + 1) * rper), s * rper);
          m.out.set(p.out.subarray(j * p.k, (j + 1) * p.k), s * p.k);
          m.targets[s] = p.targets[j];
          m.initial[s] = p.initial[j];
          m.sums[s] = p.sums[j];
          p.layers.forEach((l, li) => (m.layers[li].relevanceSum[s] = l.relevanceSum[j]));
        }
        done += size;
        req.onChunk?.(done, n);
      }
    }
  } finally {
    ex?.dispose();
    await chosen?.explainer?.dispose();
  }
  if (!merged) {
    // No samples: nothing explained (shapes from the model).
    const k = graph.outputs[0]?.fileShape.slice(1).reduce<number>((a, b) => a * (b ?? 1), 1) ?? 1;
    return { relevance: { shape: [0, ...x.shape.slice(1)], data: new Float32Array(0), dtype: 'f4' }, layout: graph.inputs[0]?.fileLayout ?? '', method: choice.method, composite: lrp ? choice.composite : choice.method, init: req.init ?? 'onehot', targets: [], output: { shape: [0, k], data: new Float32Array(0) }, initial: [], relevanceSum: [], layers: [], engine };
  }
  const m = merged;
  return {
    relevance: { shape: [n, ...m.relShape], data: m.rel, dtype: 'f4' },
    layout: m.layout,
    method: choice.method,
    composite: m.composite,
    init: m.init,
    targets: m.targets,
    output: { shape: [n, m.k], data: m.out },
    initial: m.initial,
    relevanceSum: m.sums,
    layers: m.layers,
    canonical: m.canonical,
    engine,
  };
}

type OrtExplainer = import('../lrp-onnx/ort-explainer.js').OrtExplainer;

/**
 * The ONNX Runtime explainer for this model and composite, or why the tfjs engine runs instead (a layer
 * or rule that does not lower, or a runtime that does not load).
 */
async function onnxRuntimeFor(graph: ModelGraph, opts: ExplainerOptions, init: InitMode | undefined): Promise<{ explainer?: OrtExplainer; fallback?: string }> {
  const { chooseEngine } = await import('../lrp-onnx/ort-explainer.js');
  const { mode: _mode, ...lowering } = opts;
  const options = { ...lowering, ...(init ? { init } : {}) };
  const r = await chooseEngine(graph, options);
  if (r.engine !== 'onnxruntime') return { fallback: r.reason };
  await keepWarm(graph, options);
  return { explainer: r.explainer };
}

/**
 * A few explainers kept open after their batch, so the sessions they share with the next explainer of the
 * same model and composite stay built: the ORT cache releases a session with its last user, and the
 * language server and the report explain the same model again and again (lowering, session creation and
 * the first run cost 0.1-1.6 s each time otherwise). The oldest is let go past KEEP.
 */
const KEEP = 4;
const kept: { graph: ModelGraph; key: string; explainer: OrtExplainer }[] = [];

async function keepWarm(graph: ModelGraph, options: import('../lrp-onnx/ort-explainer.js').OrtExplainerOptions): Promise<void> {
  const key = JSON.stringify(options);
  const i = kept.findIndex((k) => k.graph === graph && k.key === key);
  if (i >= 0) {
    kept.push(...kept.splice(i, 1)); // most recently used last
    return;
  }
  const { OrtExplainer } = await import('../lrp-onnx/ort-explainer.js');
  kept.push({ graph, key, explainer: await OrtExplainer.create(graph, options) });
  while (kept.length > KEEP) await kept.shift()!.explainer.dispose();
}
