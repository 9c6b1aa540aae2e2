/**
 * "Explain / check this model on this data", answered in one place for every front end (the CLI's
 * explain, check, report and bench, the language server's jobs, the report, the panel's harness).
 * openSession resolves once: the model, the data (data-source.ts), the composite and its parameters
 * (composite-choice.ts: request > lrp-lens.json entry > settings > default), the ZBox bounds (bounds.ts).
 * Then explain (LRP or a baseline, on chosen samples, optionally a sanity variant) and checkMaps (static
 * and relevance-map checks with the geometry twin, judged on the data's grid) read only the session.
 */
import { LensError } from '../errors.js';
import type { ModelGraph } from '../model/graph.js';
import { loadModel } from '../model/load.js';
import type { ModelEntry } from '../data/project.js';
import type { ExplainerOptions } from '../lrp/engine.js';
import type { TargetSpec } from '../lrp/targets.js';
import { chooseComposite, projectLayer, targetSpecOf, type ChoiceLayer, type CompositeChoice } from './composite-choice.js';
import { boxBounds, type Bounds } from './bounds.js';
import { resolveData, type DataSource, type SessionData } from './data-source.js';
import { selectIndices, takeSamples, type Batch, type SampleSelection } from './samples.js';
import { blankInput, randomizedModel, type Variant } from './sanity.js';
import { explainBatch, type BatchRelevance, type BatchRequest } from './explain-batch.js';

export interface OpenOptions {
  /** A model file, or a graph already loaded (the server's cache). */
  model: string | ModelGraph;
  /** The data to explain; none: static checks only. */
  data?: DataSource;
  /** The lrp-lens.json entry describing the model when the data do not come from it (a .npy picked in the editor). */
  entry?: ModelEntry;
  /** CLI flags or the LSP request. */
  request?: ChoiceLayer;
  /** lrpLens.composite / compositeParams, or a command's own workload. */
  settings?: ChoiceLayer;
  /** Max pooling: winner-take-all (default) or routed like average pooling. */
  maxPool?: 'winner' | 'avg';
}

export interface Session {
  graph: ModelGraph;
  data?: SessionData;
  choice: CompositeChoice;
  /** ZBox bounds, when the composite uses them. */
  bounds?: Bounds;
  maxPool?: 'winner' | 'avg';
}

export async function openSession(o: OpenOptions): Promise<Session> {
  const graph = typeof o.model === 'string' ? await loadModel(o.model) : o.model;
  const data = o.data ? await resolveData(o.data, graph.inputs[0]) : undefined;
  const entry = data?.entry ?? o.entry;
  const choice = chooseComposite({ request: o.request, project: projectLayer(entry), settings: o.settings });
  if (choice.target === 'label' && data && !data.labels) {
    throw new LensError('USAGE', `target 'label' needs labels: give them in lrp-lens.json ("labels") or choose --target predicted|INDEX`);
  }
  const bounds = boxBounds(choice, data?.x.data);
  return { graph, data, choice, bounds, maxPool: o.maxPool };
}

/** The engine's options for the session's composite (the explainer and the checks' collector alike). */
export function explainerOptions(s: Pick<Session, 'choice' | 'bounds' | 'maxPool'>): ExplainerOptions {
  const c = s.choice;
  const o: ExplainerOptions = { composite: c.composite };
  if (c.epsilon !== undefined) o.epsilon = c.epsilon;
  if (c.gamma !== undefined) o.gamma = c.gamma;
  if (s.bounds) {
    o.low = s.bounds.low;
    o.high = s.bounds.high;
  }
  if (c.rules.length) o.ruleMap = c.rules;
  if (s.maxPool) o.maxPool = s.maxPool;
  return o;
}

export interface ExplainRequest extends SampleSelection {
  /** A batch to explain instead of the session's data (bench, a caller's own array). */
  x?: Batch;
  variant?: Variant;
  /** Samples per engine pass. */
  chunk?: number;
  onChunk?: BatchRequest['onChunk'];
  /** A target for this call in place of the session's (the report's per-class maps). */
  target?: TargetSpec;
  /** Default cap when the selection names none (all samples when Infinity). */
  defaultMax?: number;
}

export interface SessionExplanation extends BatchRelevance {
  /** The samples explained (indices into the session's data; [0] for the blank prior). */
  indices: number[];
  /** The inputs explained. */
  x: Batch;
  variant?: Variant;
}

/** The samples a request names, taken from the session's data. */
export function samplesOf(s: Session, sel: SampleSelection & { defaultMax?: number } = {}): { x: Batch; indices: number[] } {
  if (!s.data) throw new LensError('BAD_INPUT', `no samples to explain ${s.graph.file}`, { file: s.graph.file });
  const n = s.data.x.shape[0];
  const indices = selectIndices(n, sel, s.data.file, sel.defaultMax, s.data.times);
  return { x: indices.length === n && indices.every((v, i) => v === i) ? s.data.x : takeSamples(s.data.x, indices), indices };
}

export async function explain(s: Session, r: ExplainRequest = {}): Promise<SessionExplanation> {
  let { x, indices } = r.x ? { x: r.x, indices: [...Array(r.x.shape[0]).keys()] } : samplesOf(s, r);
  let target: BatchRequest['target'] = r.target ?? (s.choice.target === 'label' ? { perSample: indices.map((i) => s.data!.labels![i]) } : targetSpecOf(s.choice));
  let model = s.graph;
  if (r.variant === 'blank') {
    x = blankInput(x);
    // The blank input is no sample of the data set: a per-label target takes the first sample's class.
    if ('perSample' in target) target = { type: 'index', index: target.perSample[0] ?? 0 };
    indices = [0];
  } else if (r.variant === 'randomized') model = randomizedModel(s.graph);
  const e = await explainBatch(model, x, s.choice, explainerOptions(s), { target, init: s.choice.init, chunk: r.chunk, onChunk: r.onChunk });
  return { ...e, indices, x, variant: r.variant };
}
