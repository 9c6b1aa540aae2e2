/**
 * Where the chunks of a batch run: one shared ORT session on this thread (intra-op threads), or a pool of
 * worker threads with one single-threaded session each (ort-worker.ts), chunks spread over them.
 */
import { Worker } from 'node:worker_threads';
import { LensError } from '../errors.js';
import { GRAPH_IO } from './lower.js';

type Session = import('onnxruntime-node').InferenceSession;
type Ort = typeof import('onnxruntime-node');

export interface ChunkResult {
  relevance: Float32Array;
  output: Float32Array;
  sums: Float32Array;
}

export interface ChunkRunner {
  /** How many chunks can run at once. */
  readonly parallel: number;
  run(x: Float32Array, xShape: number[], seed: Float32Array, k: number): Promise<ChunkResult>;
  close(): Promise<void>;
}

export class SessionRunner implements ChunkRunner {
  readonly parallel = 1;
  constructor(private readonly ort: Ort, private readonly session: Session) {}

  async run(x: Float32Array, xShape: number[], seed: Float32Array, k: number): Promise<ChunkResult> {
    const res = await this.session.run({ [GRAPH_IO.x]: new this.ort.Tensor('float32', x, xShape), [GRAPH_IO.seed]: new this.ort.Tensor('float32', seed, [xShape[0], k]) });
    const out = { relevance: res[GRAPH_IO.relevance].data as Float32Array, output: res[GRAPH_IO.output].data as Float32Array, sums: res[GRAPH_IO.layerSums].data as Float32Array };
    return out;
  }

  async close(): Promise<void> {
    // The session belongs to the explainer cache.
  }
}

interface Pending {
  resolve: (r: ChunkResult) => void;
  reject: (e: Error) => void;
}

/** Worker threads with one single-threaded session each; a chunk goes to the worker with the fewest queued. */
export class WorkerRunner implements ChunkRunner {
  private readonly pending = new Map<number, Pending>();
  private readonly load: number[];
  private nextId = 0;

  private constructor(private readonly workers: Worker[]) {
    this.load = workers.map(() => 0);
  }

  get parallel(): number {
    return this.workers.length;
  }

  static async create(bytes: Uint8Array, count: number, optimization: string): Promise<WorkerRunner> {
    const here = import.meta.url;
    const script = new URL(here.endsWith('.ts') ? './ort-worker-tsx.mjs' : './ort-worker.js', here);
    const workers = Array.from({ length: count }, () => new Worker(script, { workerData: { bytes, optimization } }));
    const runner = new WorkerRunner(workers);
    await Promise.all(
      workers.map(
        (wk, i) =>
          new Promise<void>((ready, fail) => {
            wk.once('error', (e) => fail(new LensError('BACKEND_UNAVAILABLE', `ORT worker ${i} failed to start: ${e.message}`)));
            wk.once('message', () => {
              wk.on('message', (m: { id: number; error?: string } & ChunkResult) => runner.settle(i, m));
              wk.on('error', (e) => runner.failAll(e));
              ready();
            });
          }),
      ),
    ).catch(async (e) => {
      await Promise.all(workers.map((wk) => wk.terminate()));
      throw e;
    });
    return runner;
  }

  private settle(worker: number, m: { id: number; error?: string } & ChunkResult): void {
    this.load[worker]--;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.error) p.reject(new LensError('INTERNAL', `ONNX Runtime run failed: ${m.error}`));
    else p.resolve({ relevance: m.relevance, output: m.output, sums: m.sums });
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(new LensError('INTERNAL', `ORT worker failed: ${e.message}`));
    this.pending.clear();
  }

  run(x: Float32Array, xShape: number[], seed: Float32Array, k: number): Promise<ChunkResult> {
    const worker = this.load.indexOf(Math.min(...this.load));
    const id = this.nextId++;
    this.load[worker]++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const xs = x.slice();
      this.workers[worker].postMessage({ id, x: xs, xShape, seed, k }, [xs.buffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (wk) =>
          new Promise<void>((done) => {
            wk.once('exit', () => done());
            wk.postMessage('close');
            // A worker that does not leave in time is stopped.
            setTimeout(() => void wk.terminate(), 2000).unref();
          }),
      ),
    );
  }
}
