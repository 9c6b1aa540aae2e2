/**
 * The long requests' shared machinery (explain, checkData): a job on the worker pool with work-done
 * progress, cancelled by $/cancelRequest, by the progress UI, or by lrpLens/cancel naming its id.
 */
import { basename } from 'node:path';
import type { CancellationToken, WorkDoneProgressReporter } from 'vscode-languageserver/node';
import { LensError } from '../../core/errors.js';
import type { CancelParams, CancelResult } from '../../protocol.js';
import type { JobKind, ServerState } from '../state.js';
import { sendStatus } from './status.js';

/** A request's work-done token, when the client sent one (LSP's WorkDoneProgressParams). */
export interface WithProgressToken {
  workDoneToken?: unknown;
}

export interface LongJob {
  kind: Exclude<JobKind, 'analyze'>;
  jobId: string;
  /** The model it is about (shown in the status). */
  file: string;
  payload: unknown;
}

export async function cancel(state: ServerState, p: CancelParams): Promise<CancelResult> {
  const job = state.jobs.get(p.jobId);
  if (!job) return { cancelled: false };
  job.cancel();
  return { cancelled: true };
}

/** Runs an explain or checkData job with progress and both kinds of cancellation. */
export async function runLong<T>(state: ServerState, job: LongJob, token: CancellationToken, params: WithProgressToken): Promise<T> {
  if (!state.trusted) throw new LensError('USAGE', 'this workspace is not trusted: only static checks run (trust the folder to explain models)');
  if (state.jobs.has(job.jobId)) throw new LensError('USAGE', `a job with id ${job.jobId} is already running`);
  const reporter = await progressReporter(state, params, `LRP Lens: ${job.kind === 'explain' ? 'explaining' : 'checking'} ${basename(job.file)}`);
  const handle = state.workers.run<T>(job.kind, job.payload, {
    onProgress: (done, total, message) => reporter?.report(total > 0 ? Math.round((100 * done) / total) : 0, message ?? `${done}/${total}`),
  });
  state.jobs.set(job.jobId, { kind: job.kind, model: job.file, cancel: handle.cancel });
  sendStatus(state);
  const offCancel = token.onCancellationRequested(() => handle.cancel());
  const offProgressCancel = reporter?.token?.onCancellationRequested(() => handle.cancel());
  try {
    return await handle.promise;
  } finally {
    offCancel.dispose();
    offProgressCancel?.dispose();
    reporter?.done();
    state.jobs.delete(job.jobId);
    sendStatus(state);
  }
}

/** Progress on the client's token when it sent one, else on one the server creates (when the client can show it). */
async function progressReporter(state: ServerState, params: WithProgressToken, title: string): Promise<(WorkDoneProgressReporter & { token?: CancellationToken }) | undefined> {
  if (params.workDoneToken !== undefined) {
    const r = state.connection.window.attachWorkDoneProgress(params.workDoneToken as string);
    r.begin(title, 0, undefined, true);
    return r;
  }
  if (!state.clientCan.progress) return undefined;
  try {
    const r = await state.connection.window.createWorkDoneProgress();
    r.begin(title, 0, undefined, true);
    return r;
  } catch {
    return undefined;
  }
}
