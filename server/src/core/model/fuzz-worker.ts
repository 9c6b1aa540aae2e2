/**
 * Worker for the loader fuzz test: loads (and, when small, runs) one model per message, so the test
 * can stop a load that hangs (a synchronous loop cannot be timed out from the same thread).
 */
import { parentPort } from 'node:worker_threads';
import { useBackend } from '../backend.js';
import { loadAndRun } from '../../testing/fuzz-model.js';
import { runCase, type CaseResult } from '../../testing/fuzz.js';

export interface FuzzRequest {
  id: number;
  path: string;
  /** Also run the model on zeros when its input is at most this many values per sample. */
  runBelow: number;
}

export interface FuzzReply extends CaseResult<'loaded' | 'ran'> {
  id: number;
  /** Wall-clock time of the run. */
  ms: number;
}

const ready = useBackend('wasm');

parentPort?.on('message', async (req: FuzzRequest) => {
  const t0 = Date.now();
  const r = await runCase(async () => {
    await ready;
    return loadAndRun(req.path, req.runBelow);
  });
  parentPort?.postMessage({ id: req.id, ms: Date.now() - t0, ...r } satisfies FuzzReply);
});
