/**
 * Worker for the data-reader fuzz test: opens one data file (or lrp-lens.json) per message and does what
 * `lrp-lens data info` and a model input do with it (list variables and coordinates, read each variable or
 * its first step, load the default field), so the test can stop a case that hangs and measure each case's
 * CPU time and memory growth on its own.
 */
import { parentPort } from 'node:worker_threads';
import { getHeapStatistics } from 'node:v8';
import { LensError } from '../errors.js';
import { coordinateVars, loadField, withSource } from './load.js';
import { readProject } from './project.js';
import { fullSlab, product } from './source.js';
import { runCase, type CaseResult } from '../../testing/fuzz.js';

export interface DataFuzzRequest {
  id: number;
  path: string;
  kind: 'data' | 'project';
}

export interface DataFuzzReply extends CaseResult<'read'> {
  id: number;
  /** Wall-clock time of the case. */
  ms: number;
  /** Growth of the process's peak RSS during the case (0 when it stayed under an earlier peak). */
  peakRssGrowth: number;
  /** Heap and array buffers still held at the end of the case, over what was held at its start. */
  heapGrowth: number;
}

/** Values read per variable at most (like data info's range: larger variables give their first step). */
const READ_LIMIT = 4 * 1024 * 1024;

async function exercise(req: DataFuzzRequest): Promise<void> {
  if (req.kind === 'project') {
    await readProject(req.path);
    return;
  }
  await withSource(req.path, {}, async (s) => {
    for (const v of s.variables) {
      coordinateVars(s, v);
      if (v.dtype === 'str' || v.dtype === 'S1') continue;
      const slab = fullSlab(v.shape);
      if (product(v.shape) > READ_LIMIT && v.shape.length > 1) slab[0] = [0, Math.min(1, v.shape[0])];
      if (product(slab.map(([a, b]) => b - a)) <= READ_LIMIT) await s.read(v.name, slab);
    }
  });
  await loadField(req.path, { maxElements: READ_LIMIT }).catch((e: unknown) => {
    // Several data variables and no --var is a valid refusal; anything else is the case's outcome.
    if (!(e instanceof LensError && e.code === 'UNKNOWN_VARIABLE')) throw e;
  });
}

const held = (): number => {
  const h = getHeapStatistics();
  return h.used_heap_size + process.memoryUsage().arrayBuffers;
};

parentPort?.on('message', async (req: DataFuzzRequest) => {
  const t0 = Date.now();
  const rss0 = process.resourceUsage().maxRSS * 1024;
  const h0 = held();
  const r = await runCase(async () => {
    await exercise(req);
    return 'read' as const;
  });
  parentPort?.postMessage({
    id: req.id,
    ms: Date.now() - t0,
    peakRssGrowth: Math.max(0, process.resourceUsage().maxRSS * 1024 - rss0),
    heapGrowth: Math.max(0, held() - h0),
    ...r,
  } satisfies DataFuzzReply);
});
