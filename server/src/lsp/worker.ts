/**
 * Worker-thread entry: runs analyze (analyzer.ts), explain (explain-job.ts) and checkData (check-data-job.ts) jobs and posts
 * back results, progress and structured errors. Never writes to stdout (the LSP stream may be stdio).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { setDefaultThreads } from '../core/lrp-onnx/ort-explainer.js';
import { LensError, toLensError } from '../core/errors.js';
import type { JobContext, JobMessage, WorkerMessage } from './jobs.js';
import { analyzeModel, type WorkerConfig } from './analyzer.js';
import { explainJob } from './explain-job.js';
import { exportNetcdfJob, isExportNetcdfPayload } from './export-netcdf-job.js';
import { checkDataJob } from './check-data-job.js';
import { discoverModels, type DiscoveryOptions } from './discovery.js';
import { NODE_PROBE, probeBackends } from '../core/backend-availability.js';
import { probeProvider } from '../core/lrp-onnx/ort-providers.js';

const port = parentPort;
if (!port) throw new Error('worker.ts must run in a worker thread');
const config = (workerData ?? {}) as WorkerConfig & { poolSize?: number };
// ONNX Runtime's intra-op threads: this worker's share of the cores, so N workers do not run N x cores threads.
if (config.poolSize && config.poolSize > 1) {
  setDefaultThreads(availableParallelism() / config.poolSize);
}

function post(m: WorkerMessage): void {
  port!.postMessage(m);
}

async function handle(msg: JobMessage): Promise<void> {
  const flag = new Int32Array(msg.cancel);
  let lastProgress = 0;
  const ctx: JobContext = {
    progress(done, total, message) {
      // At most ~20 messages a second; the final one always goes out.
      const now = Date.now();
      if (done < total && now - lastProgress < 50) return;
      lastProgress = now;
      post({ type: 'progress', id: msg.id, done, total, message });
    },
    cancelled: () => Atomics.load(flag, 0) === 1,
    checkCancelled() {
      if (Atomics.load(flag, 0) === 1) throw new LensError('CANCELLED', 'cancelled');
    },
  };
  const file = (msg.payload as { file?: string }).file;
  try {
    let value: unknown;
    switch (msg.kind) {
      case 'analyze':
        value = await analyzeModel(msg.payload as never, ctx, config);
        break;
      case 'discover': {
        const p = msg.payload as { roots: string[]; opts: DiscoveryOptions };
        value = await discoverModels(p.roots, p.opts);
        break;
      }
      case 'explain':
        value = isExportNetcdfPayload(msg.payload) ? await exportNetcdfJob(msg.payload, ctx, config) : await explainJob(msg.payload as never, ctx, config);
        break;
      case 'checkData':
        value = await checkDataJob(msg.payload as never, ctx, config);
        break;
      case 'probeBackends':
        // ONNX Runtime's GPU providers started for real (a one-node graph each).
        value = await probeBackends({ ...NODE_PROBE, startOrtProvider: probeProvider });
        break;
      case 'crash':
        // Test hooks only (LRP_LENS_TEST_HOOKS=1): a dying worker is reported and replaced ...
        if (process.env.LRP_LENS_TEST_HOOKS !== '1') throw new LensError('USAGE', 'unknown job kind');
        process.exit(3);
        break;
      case 'spin':
        // ... and a long job is cancelled by its flag, or (ignoring it) by replacing the worker.
        if (process.env.LRP_LENS_TEST_HOOKS !== '1') throw new LensError('USAGE', 'unknown job kind');
        value = spin(msg.payload as { ms: number; ignoreCancel?: boolean }, ctx);
        break;
      default:
        throw new LensError('USAGE', `unknown job kind ${String(msg.kind)}`);
    }
    post({ type: 'result', id: msg.id, ok: true, value });
  } catch (e) {
    post({ type: 'result', id: msg.id, ok: false, error: toLensError(e, file).toJSON() });
  }
}

function spin(p: { ms: number; ignoreCancel?: boolean }, ctx: JobContext): number {
  const end = Date.now() + p.ms;
  let steps = 0;
  while (Date.now() < end) {
    if (!p.ignoreCancel) ctx.checkCancelled();
    ctx.progress(p.ms - (end - Date.now()), p.ms, 'spinning');
    steps++;
  }
  return steps;
}

port.on('message', (msg: JobMessage) => {
  if (msg?.type === 'job') void handle(msg);
});
post({ type: 'ready' });
