/**
 * A small pool of worker threads that run the heavy work (model loading, LRP) off the protocol thread,
 * so hovers and diagnostics stay responsive. One job per worker at a time; analysis jobs jump the queue
 * ahead of explanations. A worker that crashes (uncaught error, out of memory, exit) fails its job with
 * a structured error, is reported through `onCrash`, and is replaced.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { LensError } from '../core/errors.js';
import type { ProtocolError } from '../protocol.js';
import { SHORT_JOBS, type JobKind, type JobMessage, type WorkerMessage } from './jobs.js';

/** The worker script next to this module: compiled worker.js, a tsx bootstrap under tests, dist/worker.js when bundled. */
export function defaultWorkerScript(): URL {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL('./worker-tsx.mjs', here);
  return new URL('./worker.js', here);
}

export interface JobHandle<T> {
  id: number;
  promise: Promise<T>;
  cancel(): void;
}

export interface RunOptions {
  onProgress?: (done: number, total: number, message?: string) => void;
}

interface Job {
  id: number;
  kind: JobKind;
  payload: unknown;
  flag: Int32Array;
  buffer: SharedArrayBuffer;
  opts: RunOptions;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  settled: boolean;
  cancelTimer?: NodeJS.Timeout;
}

interface Slot {
  worker: Worker;
  /** The worker said 'ready' (its imports loaded). */
  ready?: boolean;
  job?: Job;
  /** Set when we terminate it on purpose (cancel, dispose): its exit is not a crash. */
  retiring?: boolean;
}

export interface PoolOptions {
  /** The worker script (file URL or path). */
  script: URL | string;
  size: number;
  resourceLimits?: ResourceLimits;
  /** How long a cancelled job may run on before its worker is terminated. */
  cancelGraceMs?: number;
  onCrash?: (info: { kind: JobKind | 'idle'; error: ProtocolError }) => void;
  /** Extra data the worker reads from workerData (e.g. the backend). */
  workerData?: unknown;
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private disposed = false;
  /** Workers that died before 'ready' in a row: a broken install must not respawn in a tight loop. */
  private startFailures = 0;
  /** Jobs running or queued, for the status bar. */
  readonly active = new Map<number, { kind: JobKind; label?: string }>();

  constructor(private readonly opts: PoolOptions) {
    for (let i = 0; i < Math.max(1, opts.size); i++) this.slots.push(this.spawn());
  }

  get size(): number {
    return this.slots.length;
  }

  run<T>(kind: JobKind, payload: unknown, opts: RunOptions = {}): JobHandle<T> {
    const buffer = new SharedArrayBuffer(4);
    let job!: Job;
    const promise = new Promise<T>((resolve, reject) => {
      job = {
        id: this.nextId++,
        kind,
        payload,
        buffer,
        flag: new Int32Array(buffer),
        opts,
        resolve: resolve as (v: unknown) => void,
        reject,
        settled: false,
      };
    });
    if (this.disposed) {
      job.reject(new LensError('CANCELLED', 'the server is shutting down'));
      return { id: job.id, promise, cancel: () => undefined };
    }
    this.active.set(job.id, { kind });
    // Analysis and scans are short and drive diagnostics: they go before queued explanations.
    if (SHORT_JOBS.has(kind)) {
      const firstOther = this.queue.findIndex((j) => !SHORT_JOBS.has(j.kind));
      if (firstOther < 0) this.queue.push(job);
      else this.queue.splice(firstOther, 0, job);
    } else this.queue.push(job);
    this.pump();
    return { id: job.id, promise, cancel: () => this.cancel(job.id) };
  }

  /** Cancel a queued or running job; true when it was still pending. */
  cancel(id: number): boolean {
    const qi = this.queue.findIndex((j) => j.id === id);
    if (qi >= 0) {
      const [job] = this.queue.splice(qi, 1);
      this.settle(job, false, new LensError('CANCELLED', 'cancelled before it started'));
      return true;
    }
    const slot = this.slots.find((s) => s.job?.id === id);
    if (!slot?.job || slot.job.settled) return false;
    const job = slot.job;
    Atomics.store(job.flag, 0, 1);
    // The job polls the flag between steps; one stuck in a long step is stopped by replacing the worker.
    job.cancelTimer ??= setTimeout(() => {
      if (job.settled || slot.job !== job) return;
      this.settle(job, false, new LensError('CANCELLED', 'cancelled (worker stopped)'));
      this.replace(slot);
    }, this.opts.cancelGraceMs ?? 1500);
    return true;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    for (const job of this.queue.splice(0)) this.settle(job, false, new LensError('CANCELLED', 'the server is shutting down'));
    await Promise.all(
      this.slots.map(async (s) => {
        if (s.job) this.settle(s.job, false, new LensError('CANCELLED', 'the server is shutting down'));
        s.retiring = true;
        await s.worker.terminate();
      }),
    );
  }

  private spawn(): Slot {
    const worker = new Worker(this.opts.script, {
      resourceLimits: this.opts.resourceLimits,
      // Each worker learns the pool's size: its ONNX Runtime sessions take their share of the cores.
      workerData: { ...(this.opts.workerData as object | undefined), poolSize: this.opts.size },
      // Workers log through messages; their stdout must never reach a stdio LSP stream.
      stdout: true,
      stderr: true,
    });
    const slot: Slot = { worker };
    worker.stdout.resume();
    worker.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    worker.on('message', (m: WorkerMessage) => this.onMessage(slot, m));
    worker.on('error', (e) => this.onCrash(slot, e));
    worker.on('exit', (code) => {
      if (!slot.retiring && !this.disposed) this.onCrash(slot, new Error(`worker exited with code ${code}`));
    });
    worker.unref();
    return slot;
  }

  private onMessage(slot: Slot, m: WorkerMessage): void {
    const job = slot.job;
    if (m.type === 'ready') {
      slot.ready = true;
      this.startFailures = 0;
      return;
    }
    if (!job || m.id !== job.id) return;
    if (m.type === 'progress') {
      if (!job.settled) job.opts.onProgress?.(m.done, m.total, m.message);
      return;
    }
    slot.job = undefined;
    slot.worker.unref();
    if (m.ok) this.settle(job, true, m.value);
    else this.settle(job, false, new LensError(m.error.code as never, m.error.message, { file: m.error.file, layer: m.error.layer }));
    this.pump();
  }

  private onCrash(slot: Slot, e: Error): void {
    if (slot.retiring || this.disposed) return;
    const idx = this.slots.indexOf(slot);
    if (idx < 0) return; // already replaced ('error' is followed by 'exit')
    const job = slot.job;
    const oom = (e as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY';
    const error = new LensError('INTERNAL', `worker crashed${oom ? ' (out of memory: raise lrpLens.memoryLimitMB or explain fewer samples)' : ''}: ${e.message}`, {
      file: (job?.payload as { file?: string } | undefined)?.file,
    });
    this.opts.onCrash?.({ kind: job?.kind ?? 'idle', error: error.toJSON() });
    if (job) this.settle(job, false, error);
    if (slot.ready) {
      this.replace(slot);
      return;
    }
    // It died while starting: the same would happen to the queued jobs, so fail them now, and try
    // again later with a growing delay (1 s, 2 s, ... 60 s).
    this.startFailures++;
    for (const j of this.queue.splice(0)) this.settle(j, false, error);
    slot.retiring = true;
    slot.job = undefined;
    void slot.worker.terminate();
    const delay = Math.min(60_000, 1000 * 2 ** (this.startFailures - 1));
    setTimeout(() => {
      if (this.disposed || this.slots[idx] !== slot) return;
      this.slots[idx] = this.spawn();
      this.pump();
    }, delay).unref();
  }

  private replace(slot: Slot): void {
    const idx = this.slots.indexOf(slot);
    if (idx < 0) return;
    slot.retiring = true;
    slot.job = undefined;
    void slot.worker.terminate();
    this.slots[idx] = this.spawn();
    this.pump();
  }

  private settle(job: Job, ok: boolean, value: unknown): void {
    if (job.settled) return;
    job.settled = true;
    if (job.cancelTimer) clearTimeout(job.cancelTimer);
    this.active.delete(job.id);
    if (ok) job.resolve(value);
    else job.reject(value);
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.job || slot.retiring || this.queue.length === 0) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref(); // a running job keeps the process alive; an idle worker does not
      const msg: JobMessage = { type: 'job', id: job.id, kind: job.kind, payload: job.payload, cancel: job.buffer };
      slot.worker.postMessage(msg);
    }
  }
}
