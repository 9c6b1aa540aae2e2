/**
 * A worker thread holding one single-threaded ORT session of a lowered relevance graph (ort-runner.ts):
 * ORT's run() blocks its thread, and two such workers beat one session with two intra-op threads by
 * 10-25 % (the prototype's measurement). Messages: {id, x, xShape, seed, k} in, {id, relevance, output,
 * sums} or {id, error} out, buffers transferred.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadOrt } from './ort-load.js';

interface Job {
  id: number;
  x: Float32Array;
  xShape: number[];
  seed: Float32Array;
  k: number;
}

const { bytes, optimization } = workerData as { bytes: Uint8Array; optimization: 'disabled' | 'basic' | 'extended' | 'all' };
const ort = await loadOrt();
const session = await ort.InferenceSession.create(bytes, {
  executionProviders: ['cpu'],
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: optimization,
});
// One run at a time, in arrival order.
let queue: Promise<void> = Promise.resolve();
parentPort!.on('message', (job: Job | 'close') => {
  queue = queue.then(() => handle(job));
});

async function handle(job: Job | 'close'): Promise<void> {
  if (job === 'close') {
    await session.release();
    parentPort!.close();
    return;
  }
  try {
    const n = job.xShape[0];
    const res = await session.run({ x: new ort.Tensor('float32', job.x, job.xShape), seed: new ort.Tensor('float32', job.seed, [n, job.k]) });
    const take = (name: string) => Float32Array.from(res[name].data as Float32Array);
    const out = { id: job.id, relevance: take('relevance'), output: take('output'), sums: take('layer_sums') };
    parentPort!.postMessage(out, [out.relevance.buffer, out.output.buffer, out.sums.buffer]);
  } catch (e) {
    parentPort!.postMessage({ id: job.id, error: (e as Error).message });
  }
}
parentPort!.postMessage({ ready: true });
