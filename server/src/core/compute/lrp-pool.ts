/**
 * LRP on several cores: a pool of worker threads, each with its own tfjs backend and explainer for the
 * same model, each explaining a contiguous share of a batch. Samples are independent in LRP (targets,
 * stabilizers and relevance are per sample), so the merged result equals the single-thread one.
 * The graph is plain data and is cloned to each worker once; batches go as per-worker slices.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { ModelGraph } from '../model/graph.js';
import type { NdArray } from '../array.js';
import { LensError, type ErrorInfo } from '../errors.js';
import { concatFloat32 } from '../float32.js';
import type { BackendName } from '../backend.js';
import type { ExplainOptions, Explanation, ExplainerOptions } from '../lrp/engine.js';

export interface PoolOptions {
  /** Worker threads (default: the number of cores, at most 8). */
  workers?: number;
  backend?: BackendName;
  /** Heap limit per worker in MB (tfjs wasm memory is outside the JS heap). */
  maxOldGenerationSizeMb?: number;
}

type OutMessage =
  | { type: 'ready'; backend: string }
  | { type: 'result'; id: number; explanation: Explanation; span: [number, number]; memory: WorkerMemory }
  | { type: 'error'; id?: number; error: ErrorInfo };

/** The worker script: compiled lrp-worker.js next to this module, or the tsx bootstrap under the sources. */
function workerScript(): URL {
  const here = import.meta.url;
  return new URL(here.endsWith('.ts') ? './lrp-worker-tsx.mjs' : './lrp-worker.js', here);
}

function toError(e: ErrorInfo): LensError {
  return new LensError(e.code, e.message, { file: e.file, layer: e.layer, hint: e.hint });
}

export function defaultWorkers(): number {
  return Math.max(1, Math.min(8, availableParallelism()));
}

/** tfjs memory in a worker after its last job (tensors still allocated, their bytes). */
export interface WorkerMemory {
  numTensors: number;
  numBytes: number;
}

class PoolWorker {
  readonly worker: Worker;
  memory: WorkerMemory = { numTensors: 0, numBytes: 0 };
  /** Time spent explaining, for utilisation figures. */
  busyMs = 0;
  private pending = new Map<number, { resolve: (e: Explanation) => void; reject: (e: Error) => void }>();
  private failed?: Error;

  constructor(opts: PoolOptions) {
    this.worker = new Worker(workerScript(), {
      resourceLimits: opts.maxOldGenerationSizeMb ? { maxOldGenerationSizeMb: opts.maxOldGenerationSizeMb } : undefined,
    });
    this.worker.on('message', (m: OutMessage) => {
      if (m.type === 'ready' || m.id === undefined) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.type === 'result') {
        this.memory = m.memory;
        this.busyMs += m.span[1] - m.span[0];
        p.resolve(m.explanation);
      }
      else p.reject(toError(m.error));
    });
    const fail = (err: Error) => {
      this.failed = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', (e) => fail(new LensError('INTERNAL', `LRP worker failed: ${e.message}`)));
    this.worker.on('exit', (code) => fail(new LensError('INTERNAL', `LRP worker exited (code ${code})`)));
  }

  init(graph: ModelGraph, options: ExplainerOptions, backend: BackendName): Promise<string> {
    return new Promise((resolve, reject) => {
      const onMsg = (m: OutMessage) => {
        if (m.type === 'ready') {
          this.worker.off('message', onMsg);
          resolve(m.backend);
        } else if (m.type === 'error' && m.id === undefined) {
          this.worker.off('message', onMsg);
          reject(toError(m.error));
        }
      };
      this.worker.on('message', onMsg);
      this.worker.once('error', reject);
      this.worker.postMessage({ type: 'init', graph, options, backend });
    });
  }

  explain(id: number, x: NdArray, options: ExplainOptions): Promise<Explanation> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'explain', id, x, options });
    });
  }
}

export class LrpPool {
  private nextId = 0;
  private constructor(
    private readonly graph: ModelGraph,
    private readonly workers: PoolWorker[],
    /** The tfjs backend each worker runs. */
    readonly backend: string,
  ) {}

  /** Start the workers and build the explainer in each (model and kernels once per worker). */
  static async create(graph: ModelGraph, options: ExplainerOptions = {}, opts: PoolOptions = {}): Promise<LrpPool> {
    const n = Math.max(1, Math.floor(opts.workers ?? defaultWorkers()));
    const workers = Array.from({ length: n }, () => new PoolWorker(opts));
    try {
      const backends = await Promise.all(workers.map((w) => w.init(graph, options, opts.backend ?? 'wasm')));
      return new LrpPool(graph, workers, backends[0]);
    } catch (e) {
      await Promise.all(workers.map((w) => w.worker.terminate()));
      throw e;
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** Explain a batch (file layout); the samples are split into one contiguous share per worker. */
  async explain(x: NdArray, options: ExplainOptions = {}): Promise<Explanation> {
    const spec = this.graph.inputs[0];
    const batched = x.shape.length === spec.fileShape.length;
    const n = batched ? x.shape[0] : 1;
    const shares = batched && n > 1 ? splitBatch(x, Math.min(n, this.workers.length)) : [x];
    const parts = await Promise.all(shares.map((s, i) => this.workers[i].explain(this.nextId++, s, options)));
    return mergeExplanations(parts);
  }

  /** Per worker: tfjs memory after its last job and the time it spent explaining. */
  stats(): { memory: WorkerMemory; busyMs: number }[] {
    return this.workers.map((w) => ({ memory: { ...w.memory }, busyMs: w.busyMs }));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}

/** `parts` contiguous slices along axis 0, sizes differing by at most one. */
export function splitBatch(x: NdArray, parts: number): NdArray[] {
  const n = x.shape[0];
  const per = n === 0 ? 0 : x.data.length / n;
  const out: NdArray[] = [];
  let start = 0;
  for (let i = 0; i < parts; i++) {
    const size = Math.floor(n / parts) + (i < n % parts ? 1 : 0);
    // A copy, so that a share's buffer can travel alone (a subarray would clone the whole batch).
    out.push({ shape: [size, ...x.shape.slice(1)], data: x.data.slice(start * per, (start + size) * per), dtype: x.dtype });
    start += size;
  }
  return out;
}

/** Concatenate explanations of consecutive shares of one batch. */
export function mergeExplanations(parts: Explanation[]): Explanation {
  if (parts.length === 1) return parts[0];
  const first = parts[0];
  const n = parts.reduce((a, p) => a + p.relevance.shape[0], 0);
  return {
    ...first,
    relevance: { shape: [n, ...first.relevance.shape.slice(1)], data: concatFloat32(parts.map((p) => p.relevance.data as Float32Array)), dtype: 'f4' },
    targets: parts.flatMap((p) => p.targets),
    output: { shape: [n, first.output.shape[1]], data: concatFloat32(parts.map((p) => p.output.data)) },
    relevanceSum: parts.flatMap((p) => p.relevanceSum),
    layers: first.layers.map((l, i) => ({ ...l, relevanceSum: parts.flatMap((p) => p.layers[i].relevanceSum) })),
  };
}
