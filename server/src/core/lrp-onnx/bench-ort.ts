/**
 * LRP throughput on ONNX Runtime against the tfjs-wasm engine, in one run, on the benchmark workload
 * (../shared/bench: sst_cnn.onnx, the batch of 64, EpsilonGammaBox with low -5, high 5, gamma 0.25,
 * epsilon 1e-6, target class 0, one warm-up run):
 *
 *   npx tsx server/src/core/lrp-onnx/bench-ort.ts [--runs N] [--model FILE] [--stream N] [--json]
 *
 * Per engine: samples/s over the batch (median of the runs), CPU ms per sample (all threads), single-sample
 * latency (median of 7), peak RSS of the process so far. ORT runs with intra-op threads = cores (the
 * default), one thread, one worker thread per core with a single-threaded session each, graph
 * optimization 'basic', and spinning threads; tfjs-wasm through the worker pool with one
 * worker per core, as `lrp-lens bench` runs it. --stream N (default 2000) samples through the first ORT
 * explainer, with the process's RSS at the start, half-way and the end (memory must stay flat).
 */
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { sharedDir } from '../package-root.js';
import { readNpy } from '../data/npy.js';
import { toFloat32, type NdArray } from '../array.js';
import { readRegular } from '../data/regular-file.js';
import { loadModel } from '../model/load.js';
import type { ModelGraph } from '../model/graph.js';
import type { ExplainOptions, Explanation, ExplainerOptions } from '../lrp/engine.js';
import { LrpPool } from '../compute/lrp-pool.js';
import { OrtExplainer, type OrtExplainerOptions } from './ort-explainer.js';

/** The benchmark workload (../shared/bench beside the clone, or LRP_LENS_SHARED/bench). */
const BENCH = join(sharedDir(), 'bench');

export const WORKLOAD: ExplainerOptions = { composite: 'epsilon-gamma-box', low: -5, high: 5, gamma: 0.25, epsilon: 1e-6 };
const EXPLAIN: ExplainOptions = { target: { type: 'index', index: 0 }, init: 'onehot' };

export interface EngineFigures {
  engine: string;
  samplesPerSecond: number;
  cpuMsPerSample: number;
  singleSampleMs: number;
  peakRssMb: number;
  batch: number;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** NHWC batch -> the model file's layout (NCHW for the PyTorch ONNX export). */
export function forModel(graph: ModelGraph, x: NdArray): NdArray {
  if (graph.inputs[0].fileLayout !== 'NCHW' || x.shape.length !== 4) return x;
  const [n, h, w, c] = x.shape;
  const src = toFloat32(x);
  const out = new Float32Array(src.length);
  for (let b = 0; b < n; b++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) out[((b * c + k) * h + i) * w + j] = src[((b * h + i) * w + j) * c + k];
  return { shape: [n, c, h, w], data: out, dtype: 'f4' };
}

function first(x: NdArray, n: number): NdArray {
  const per = x.data.length / x.shape[0];
  return { shape: [n, ...x.shape.slice(1)], data: toFloat32(x).slice(0, n * per), dtype: 'f4' };
}

/** Time one engine given its explain function. */
export async function measure(engine: string, explain: (x: NdArray) => Promise<Explanation>, x: NdArray, runs: number): Promise<EngineFigures> {
  const n = x.shape[0];
  await explain(x);
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await explain(x);
    ms.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  const x1 = first(x, 1);
  await explain(x1);
  const single: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    await explain(x1);
    single.push(performance.now() - t0);
  }
  return {
    engine,
    samplesPerSecond: n / (median(ms) / 1000),
    cpuMsPerSample: median(cpu) / n,
    singleSampleMs: median(single),
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    batch: n,
  };
}

/** `total` samples through one explainer (the batch repeatedly): throughput and memory at start and end. */
async function streamCase(explain: (x: NdArray) => Promise<Explanation>, x: NdArray, total: number): Promise<Record<string, number>> {
  const rssStartMb = process.memoryUsage().rss / 2 ** 20;
  const t0 = performance.now();
  let done = 0;
  let mid = 0;
  while (done < total) {
    const m = Math.min(x.shape[0], total - done);
    await explain(m === x.shape[0] ? x : first(x, m));
    done += m;
    if (!mid && done >= total / 2) mid = process.memoryUsage().rss / 2 ** 20;
  }
  return { samples: done, samplesPerSecond: done / ((performance.now() - t0) / 1000), rssStartMb, rssMidMb: mid, rssEndMb: process.memoryUsage().rss / 2 ** 20 };
}

export async function benchOrt(opts: { model?: string; runs?: number; stream?: number } = {}): Promise<Record<string, unknown>> {
  const model = opts.model ?? join(BENCH, 'sst_cnn.onnx');
  const runs = opts.runs ?? 5;
  const graph = await loadModel(model);
  const inputPath = join(BENCH, 'batch64_nhwc.npy');
  const x = forModel(graph, readNpy(await readRegular(inputPath), inputPath));
  const cores = availableParallelism();
  const loadStart = loadavg();
  const rssBeforeEnginesMb = process.memoryUsage().rss / 2 ** 20;
  const figures: EngineFigures[] = [];
  const variants: [string, OrtExplainerOptions][] = [
    [`onnxruntime (${cores} threads)`, { ...WORKLOAD }],
    ['onnxruntime (1 thread)', { ...WORKLOAD, threads: 1 }],
    [`onnxruntime (${cores} workers x 1 thread)`, { ...WORKLOAD, workers: cores }],
    [`onnxruntime (${cores} threads, optimization basic)`, { ...WORKLOAD, optimization: 'basic' }],
    [`onnxruntime (${cores} threads, spinning)`, { ...WORKLOAD, spin: true }],
  ];
  let nodes = 0;
  let stream: Record<string, number> | undefined;
  for (const [name, o] of variants) {
    const t0 = performance.now();
    const ex = await OrtExplainer.create(graph, o);
    const startMs = performance.now() - t0;
    nodes = ex.lowered.nodeCount;
    try {
      figures.push({ ...(await measure(name, (b) => ex.explain(b, EXPLAIN), x, runs)), sessionStartMs: startMs } as EngineFigures);
      if (!stream && (opts.stream ?? 2000) > 0) stream = { ...(await streamCase((b) => ex.explain(b, EXPLAIN), x, opts.stream ?? 2000)) };
    } finally {
      await ex.dispose();
    }
  }
  const pool = await LrpPool.create(graph, WORKLOAD, { workers: cores, backend: 'wasm' });
  try {
    figures.push(await measure(`tfjs-wasm (${cores} workers)`, (b) => pool.explain(b, { ...EXPLAIN, chunkSize: 8 }), x, runs));
  } finally {
    await pool.close();
  }
  return { model, input: inputPath, workload: WORKLOAD, target: 0, runs, cores, onnxNodes: nodes, rssBeforeEnginesMb, loadStart, loadEnd: loadavg(), figures, stream };
}

const isMain = process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!);
if (isMain) {
  const argv = process.argv.slice(2);
  const flag = (k: string) => {
    const i = argv.indexOf(`--${k}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const res = await benchOrt({ model: flag('model'), runs: flag('runs') ? Number(flag('runs')) : undefined, stream: flag('stream') ? Number(flag('stream')) : undefined });
  if (argv.includes('--json')) process.stdout.write(JSON.stringify(res, null, 2) + '\n');
  else if (res.stream) {
    const st = res.stream as Record<string, number>;
    process.stdout.write(`stream (first ORT variant): ${st.samples} samples, ${st.samplesPerSecond.toFixed(1)} samples/s, RSS ${st.rssStartMb.toFixed(0)} -> ${st.rssMidMb.toFixed(0)} -> ${st.rssEndMb.toFixed(0)} MB\n`);
  }
  if (!argv.includes('--json')) {
    const figs = res.figures as (EngineFigures & { sessionStartMs?: number })[];
    process.stdout.write(`${res.model}: ${res.onnxNodes} ONNX nodes, load ${(res.loadStart as number[]).map((v) => v.toFixed(1)).join(' ')} -> ${(res.loadEnd as number[]).map((v) => v.toFixed(1)).join(' ')} on ${res.cores} cores; RSS before the engines ${(res.rssBeforeEnginesMb as number).toFixed(0)} MB\n`);
    for (const f of figs) {
      process.stdout.write(`${f.engine.padEnd(48)} ${f.samplesPerSecond.toFixed(1).padStart(7)} samples/s  ${f.cpuMsPerSample.toFixed(2).padStart(6)} CPU ms/sample  ${f.singleSampleMs.toFixed(1).padStart(6)} ms single  peak RSS ${f.peakRssMb.toFixed(0)} MB${f.sessionStartMs ? `  session ${f.sessionStartMs.toFixed(0)} ms` : ''}\n`);
    }
  }
}
