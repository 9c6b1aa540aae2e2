/**
 * Messages between the server's protocol thread and its worker threads. A job is analyze (load + static
 * checks), discover (the workspace scan, so it never runs on the thread that answers requests), explain,
 * checkData or probeBackends (which backends can start here: it loads ONNX Runtime and asks for GPU
 * adapters, which belongs with the engines, not on the protocol thread); cancellation is a shared flag the worker polls between steps (the pool
 * terminates the worker when a job ignores it for too long).
 */
import type { ProtocolError } from '../protocol.js';

/** 'crash' and 'spin' exist for the pool's tests only (LRP_LENS_TEST_HOOKS=1). */
export type JobKind = 'analyze' | 'discover' | 'explain' | 'checkData' | 'probeBackends' | 'crash' | 'spin';

/** Short jobs that drive diagnostics: they go before queued explanations. */
export const SHORT_JOBS: ReadonlySet<JobKind> = new Set<JobKind>(['analyze', 'discover', 'probeBackends']);

export interface JobMessage {
  type: 'job';
  id: number;
  kind: JobKind;
  payload: unknown;
  /** Int32Array(1) over this buffer: 1 = cancelled. */
  cancel: SharedArrayBuffer;
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'progress'; id: number; done: number; total: number; message?: string }
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: ProtocolError };

/** What a job's code sees: report progress, ask whether it was cancelled. */
export interface JobContext {
  progress(done: number, total: number, message?: string): void;
  cancelled(): boolean;
  /** Throws LensError CANCELLED when cancelled. */
  checkCancelled(): void;
}
