/**
 * Worker for the loader fuzz test: loads (and, when small, runs) one model per message, so the test
 * can stop a load that hangs (a synchronous loop cannot be timed out from the same thread).
 */
import { parentPort } from 'node:worker_threads';
import { loadModel } from './load.js';
import { predict } from './execute.js';
import { useBackend } from '../compute/backend.js';
import { LensError } from '../errors.js';

export interface FuzzRequest {
  id: number;
  path: string;
  /** Also run the model on zeros when its input is at most this many values per sample. */
  runBelow: number;
}

export interface FuzzReply {
  id: number;
  outcome: 'loaded' | 'ran' | 'lens-error' | 'other-error';
  code?: string;
  message?: string;
  /** Wall-clock time of the run. */
  ms: number;
  /** CPU time of the run (user + system, this process: the main thread only waits meanwhile). */
  cpuMs: number;
}

const ready = useBackend('wasm');

parentPort?.on('message', async (req: FuzzRequest) => {
  const t0 = Date.now();
  const c0 = process.cpuUsage();
  const reply = (r: Omit<FuzzReply, 'id' | 'ms' | 'cpuMs'>) => {
    const c = process.cpuUsage(c0);
    parentPort?.postMessage({ id: req.id, ms: Date.now() - t0, cpuMs: (c.user + c.system) / 1000, ...r } satisfies FuzzReply);
  };
  try {
    await ready;
    const g = await loadModel(req.path);
    const spec = g.inputs[0].fileShape;
    const size = spec.slice(1).reduce<number>((a, d) => a * (d ?? 1 << 30), 1);
    if (g.inputs.length === 1 && size <= req.runBelow) {
      predict(g, { shape: [1, ...spec.slice(1).map((d) => d as number)], data: new Float32Array(size), dtype: 'f4' });
      reply({ outcome: 'ran' });
    } else reply({ outcome: 'loaded' });
  } catch (e) {
    if (e instanceof LensError) reply({ outcome: 'lens-error', code: e.code, message: e.message });
    else reply({ outcome: 'other-error', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  }
});
