/**
 * LRP on ONNX Runtime: the model and composite lowered to one ONNX graph (lower.ts), run by
 * onnxruntime-node's CPU provider. The same explain contract as the tfjs engine's LrpExplainer
 * (lrp/engine.ts), asynchronous because ORT's run is:
 *
 *   const ex = await OrtExplainer.create(graph, { composite: 'epsilon-gamma-box', low: -5, high: 5 });
 *   const e: Explanation = await ex.explain(x, { target: { type: 'index', index: 0 }, chunkSize: 64 });
 *   await ex.dispose();
 *
 * - `create` throws LRP_UNSUPPORTED (a layer or rule that does not lower; message and layer say which)
 *   or BACKEND_UNAVAILABLE (the ORT binary does not load). `chooseEngine` turns both into a reason, for
 *   callers that fall back to the tfjs engine and report which engine ran and why.
 * - Sessions are built once per (model graph object, composite, parameters, init) and shared by every
 *   explainer of that key (reference counted; dispose releases). Intra-op threads default to the
 *   machine's cores (`threads` to override); `workers: N` spreads chunks over N worker threads with a
 *   single-threaded session each instead. Batches stream through in chunks of `chunkSize` samples
 *   (default 16: on the benchmark model a 64-sample chunk holds about 0.9 GB, 8 about 0.2 GB, at the
 *   same speed) without rebuilding anything.
 * - The execution provider is this thread's (ort-providers.ts: cpu, or a GPU one asked for by name) unless
 *   `provider` names one; a language-server worker's default intra-op threads are its share of the cores
 *   (setDefaultThreads).
 */
import { availableParallelism } from 'node:os';
import { LensError } from '../errors.js';
import type { ModelGraph } from '../model/graph.js';
import { toFloat32, type NdArray } from '../array.js';
import type { Explanation, ExplainOptions, LayerRelevance } from '../lrp/engine.js';
import type { InitMode } from '../lrp/composites.js';
import { type SampleTarget, type TargetSpec, resolveTargets, seedWeights, selectionOf } from '../lrp/targets.js';
import { type LoweredModel, type LoweringOptions, lowerToOnnx } from './lower.js';
import { type Ort, loadOrt } from './ort-load.js';
import { ortProvider, type OrtProvider } from './ort-providers.js';
import { type ChunkRunner, SessionRunner, WorkerRunner } from './ort-runner.js';

export { loadOrt } from './ort-load.js';

type Session = import('onnxruntime-node').InferenceSession;

export interface OrtExplainerOptions extends LoweringOptions {
  /** Execution provider (default: this thread's, which useBackend sets: cpu unless a GPU backend was asked for). */
  provider?: OrtProvider;
  /** Intra-op threads (default: the machine's cores). */
  threads?: number;
  /** ORT graph optimization level (default 'all'). */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Let idle intra-op threads spin (ORT's default; off here). */
  spin?: boolean;
  /**
   * Worker threads, each with a single-threaded session, that chunks are spread over (default 1: one
   * session on this thread with `threads` intra-op threads). ORT's run blocks its thread; the prototype
   * measured two workers 10-25 % ahead of two intra-op threads on an idle 2-core machine.
   */
  workers?: number;
}

interface Entry {
  key: string;
  lowered: LoweredModel;
  session: Promise<Session>;
  refs: number;
}

/** Session cache: graph object -> key of (composite, parameters, init, threads, optimization) -> entry. */
const cache = new WeakMap<ModelGraph, Map<string, Entry>>();

/** Intra-op threads of sessions that name none, for this thread (a language-server worker shares the cores with its siblings). */
let defaultThreads: number | undefined;
export function setDefaultThreads(n: number | undefined): void {
  defaultThreads = n === undefined ? undefined : Math.max(1, Math.floor(n));
}

function cacheKey(o: OrtExplainerOptions, init: InitMode | undefined): string {
  return JSON.stringify([o.provider ?? ortProvider(), o.composite ?? 'epsilon', o.ruleMap ?? [], o.epsilon, o.gamma, o.low, o.high, o.maxPool, init, o.threads, o.optimization, o.spin]);
}

export class OrtExplainer {
  readonly graph: ModelGraph;
  readonly options: OrtExplainerOptions;
  /** The lowering for the composite's default init (what `lowered.columns` etc. describe). */
  readonly lowered: LoweredModel;
  private readonly entries = new Map<InitMode, Entry>();
  private readonly runners = new Map<InitMode, Promise<ChunkRunner>>();
  private disposed = false;

  private constructor(graph: ModelGraph, options: OrtExplainerOptions, first: Entry) {
    this.graph = graph;
    this.options = options;
    this.lowered = first.lowered;
    this.entries.set(first.lowered.init, first);
  }

  /** Lower and start a session (or share a cached one); throws LRP_UNSUPPORTED or BACKEND_UNAVAILABLE. */
  static async create(graph: ModelGraph, options: OrtExplainerOptions = {}): Promise<OrtExplainer> {
    const ort = await loadOrt();
    const entry = acquire(ort, graph, options, options.init);
    try {
      await entry.session;
    } catch (e) {
      await release(graph, entry);
      throw e;
    }
    return new OrtExplainer(graph, options, entry);
  }

  get composite(): string {
    return this.lowered.composite.name;
  }

  /** Explain a batch given in the file's layout (a missing batch axis is added). */
  async explain(x: NdArray, opts: ExplainOptions = {}): Promise<Explanation> {
    if (this.disposed) throw new LensError('INTERNAL', 'OrtExplainer used after dispose()');
    const init = opts.init ?? this.lowered.init;
    let entry = this.entries.get(init);
    if (!entry) {
      entry = acquire(await loadOrt(), this.graph, this.options, init);
      this.entries.set(init, entry);
    }
    const runner = await this.runnerFor(init, entry);
    const low = entry.lowered;
    const want = low.inputShape;
    let shape = [...x.shape];
    if (shape.length === want.length - 1) shape = [1, ...shape];
    if (shape.length !== want.length || !want.every((d, i) => i === 0 || d === null || d === shape[i])) {
      throw new LensError('BAD_INPUT', `input must have shape [${want.map((d) => d ?? '?').join(', ')}] (${low.layout}), got [${x.shape.join(', ')}]`, { file: this.graph.file });
    }
    const data = toFloat32(x);
    const n = shape[0];
    const per = n ? data.length / n : 0;
    const k = low.outputWidth;
    const chunk = Math.max(1, Math.floor(opts.chunkSize ?? 16));
    const target: TargetSpec = opts.target ?? { type: 'predicted' };
    selectionOf(target, low.outputShape); // a bad target is refused before anything runs
    const rel = new Float32Array(data.length);
    const out = new Float32Array(n * k);
    const cols = low.columns.length;
    const sums = new Float32Array(n * cols);
    const starts: number[] = [];
    for (let start = 0; start < n; start += chunk) starts.push(start);
    const one = async (start: number): Promise<void> => {
      const m = Math.min(chunk, n - start);
      const res = await runner.run(data.subarray(start * per, (start + m) * per), [m, ...shape.slice(1)], seedWeights(target, m, k, low.outputShape), k);
      rel.set(res.relevance, start * per);
      out.set(res.output, start * k);
      sums.set(res.sums, start * cols);
    };
    // One session runs its chunks one after another; a worker pool takes them all at once.
    if (runner.parallel > 1) await Promise.all(starts.map(one));
    else for (const start of starts) await one(start);
    const targets: SampleTarget[] = resolveTargets(target, out, n, k, low.outputShape);
    const column = (j: number) => Array.from({ length: n }, (_, s) => sums[s * cols + j]);
    const layers: LayerRelevance[] = [];
    low.columns.forEach((c, j) => {
      if (j < cols - 1) layers.push({ name: c.name, kind: c.kind, rule: c.rule, relevanceSum: column(j) });
    });
    const { graph: _g, ...canonical } = low.canonical;
    return {
      relevance: { shape, data: rel, dtype: 'f4' },
      layout: low.layout,
      composite: low.composite.name,
      init,
      targets,
      output: { shape: [n, k], data: out },
      relevanceSum: column(cols - 1),
      layers,
      canonical,
    };
  }

  /** The shared session on this thread, or this explainer's own worker pool. */
  private runnerFor(init: InitMode, entry: Entry): Promise<ChunkRunner> {
    let r = this.runners.get(init);
    if (!r) {
      const workers = Math.max(1, Math.floor(this.options.workers ?? 1));
      r = workers > 1
        ? WorkerRunner.create(entry.lowered.bytes, workers, this.options.optimization ?? 'all')
        : Promise.all([loadOrt(), entry.session]).then(([ort, s]) => new SessionRunner(ort, s));
      this.runners.set(init, r);
    }
    return r;
  }

  /** Release this explainer's sessions (shared ones when their last user lets go) and workers. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const waits: Promise<void>[] = [...this.runners.values()].map((r) => r.then((x) => x.close()).catch(() => undefined));
    this.runners.clear();
    for (const e of this.entries.values()) waits.push(release(this.graph, e));
    this.entries.clear();
    await Promise.all(waits);
  }
}

function acquire(ort: Ort, graph: ModelGraph, options: OrtExplainerOptions, init: InitMode | undefined): Entry {
  let byKey = cache.get(graph);
  if (!byKey) cache.set(graph, (byKey = new Map()));
  const key = cacheKey(options, init);
  let entry = byKey.get(key);
  if (!entry) {
    const lowered = lowerToOnnx(graph, { ...options, init });
    const session = ort.InferenceSession.create(lowered.bytes, {
      executionProviders: [options.provider ?? ortProvider()],
      intraOpNumThreads: options.threads ?? defaultThreads ?? availableParallelism(),
      interOpNumThreads: 1,
      graphOptimizationLevel: options.optimization ?? 'all',
      // Idle intra-op threads sleep rather than spin: on a shared machine spinning burns the CPU others need.
      extra: { session: { intra_op: { allow_spinning: options.spin ? '1' : '0' } } },
    }).catch((e: Error) => {
      byKey!.delete(key);
      throw new LensError('LRP_UNSUPPORTED', `ONNX Runtime refused the lowered graph: ${e.message.split('\n')[0]}`, { file: graph.file });
    });
    entry = { key, lowered, session, refs: 0 };
    byKey.set(key, entry);
  }
  entry.refs++;
  return entry;
}

async function release(graph: ModelGraph, entry: Entry): Promise<void> {
  entry.refs--;
  if (entry.refs > 0) return;
  const byKey = cache.get(graph);
  if (byKey?.get(entry.key) === entry) byKey.delete(entry.key);
  await entry.session.then((s) => s.release()).catch(() => undefined);
}

/** Which engine runs this model and composite, and why: ORT where it lowers and loads, else the tfjs engine. */
export async function chooseEngine(graph: ModelGraph, options: OrtExplainerOptions = {}): Promise<{ engine: 'onnxruntime'; explainer: OrtExplainer } | { engine: 'tfjs'; reason: string }> {
  try {
    return { engine: 'onnxruntime', explainer: await OrtExplainer.create(graph, options) };
  } catch (e) {
    if (e instanceof LensError && (e.code === 'LRP_UNSUPPORTED' || e.code === 'BACKEND_UNAVAILABLE')) {
      return { engine: 'tfjs', reason: `${e.message}${e.layer ? ` (layer ${e.layer})` : ''}` };
    }
    throw e;
  }
}
