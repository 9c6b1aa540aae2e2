/**
 * `lrp-lens bench [--model FILE --input X.npy | --model FILE --input-shape N,H,W,C [--zennit-script FILE] | --config lrp-lens.json --entry NAME]
 *   [--backends onnxruntime,onnxruntime-webgpu,onnxruntime-cuda,wasm,cpu,webgpu,tensorflow-gpu] [--workers N]
 *   [--runs N] [--chunk N] [--stream N] [--zennit] [composite flags] [--json]`
 *
 * --input-shape: a seeded random normal batch (NHWC, like the default batch; made NCHW for an NCHW model)
 * in place of --input, for inputs too large to ship (a 0.25-degree global field, 720 x 1440); with
 * --zennit-script FILE, Zennit is timed in the same run by `python3 FILE zennit THREADS N H W` (one JSON
 * line, as scripts/zennit-bench.py prints; server/src/cli/fixtures/bench-global/sst_cnn_global.py is one).
 *
 * Throughput and latency of LRP. Default workload: ../shared/bench (sst_cnn as Keras .h5, ONNX and TF.js;
 * EpsilonGammaBox with low -5, high 5, gamma 0.25, epsilon 1e-6; the batch of 64; target class 0; one
 * warm-up run; chunks of --chunk 8 samples). Per backend: samples/s over the batch (median of --runs) through the worker pool
 * (--workers, default: the number of cores on CPU backends, 1 on a GPU), the same on one thread for
 * comparison, CPU time per sample (all threads; what a busy shared machine does not change), single-sample latency (median), peak RSS of the process (workers included), and the share
 * of the CPU's peak (0.09 GFLOP per sample forward; 300 GFLOP/s for this machine class, --peak-gflops).
 * The data-set case streams --stream samples (default 10,000: the batch repeatedly) through the pool and
 * reports memory at start and end. Backends that cannot run are listed with the reason. `onnxruntime` (the
 * default figure) runs the compiled LRP graph in one ORT session with intra-op threads = --workers; its
 * '1 thread' column is a single-threaded session. --zennit times Zennit 0.5.1 (scripts/zennit-bench.py,
 * PyTorch from ../shared/zennit) on the default workload in the same run and reports each backend's ratio.
 * --config/--entry: a model of a project instead (the sample LSTM, say): its preferred model file and the
 * first 64 samples its entry's data pipeline gives (the forward-FLOP share of peak is the default workload's).
 * The composite flags are explain's (composite-flags.ts); the workload above is their default, through
 * the session's precedence rule (core/session/composite-choice.ts) and ZBox-bounds rule.
 * --json: {default: {samplesPerSecond, singleSampleMs, peakRssMb}, wasm: {...}, cpu: {...}, stream, ...}.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs, flagInt, flagNumber, flagString } from './args.js';
import { LensError } from '../core/errors.js';
import { loadModel } from '../core/model/load.js';
import { readNpy } from '../core/data/npy.js';
import { toFloat32, type NdArray } from '../core/array.js';
import { GPU_BACKENDS, type BackendName } from '../core/backend.js';
import { LrpPool } from '../core/compute/lrp-pool.js';
import type { ExplainOptions, ExplainerOptions } from '../core/lrp/engine.js';
import { chooseComposite, targetSpecOf, type ChoiceLayer, type CompositeChoice } from '../core/session/composite-choice.js';
import { boxBounds, type Bounds } from '../core/session/bounds.js';
import { explainerOptions } from '../core/session/session.js';
import { COMPOSITE_FLAG_NAMES, COMPOSITE_FLAGS_USAGE, compositeFlags } from './composite-flags.js';
import type { ModelGraph } from '../core/model/graph.js';
import { packageRoot, sharedDir } from '../core/package-root.js';
import { mulberry32 } from '../core/random.js';

/** The benchmark workload (../shared/bench beside the clone, or LRP_LENS_SHARED/bench). */
const BENCH = join(sharedDir(), 'bench');
import { readRegular } from '../core/data/regular-file.js';
import { findEntry, readProject } from '../core/data/project.js';
import { buildModelInput } from '../core/data/pipeline.js';
import { entryModelFiles, preferredModelFile } from '../core/report/analyze.js';

interface Figures {
  samplesPerSecond: number;
  singleSampleMs: number;
  peakRssMb: number;
}

interface ModelFigures extends Figures {
  model: string;
  batch: number;
  workers: number;
  batchMs: number[];
  /** The same batch on one worker thread. */
  singleThreadSamplesPerSecond?: number;
  /** CPU time (all threads) per sample: the cost, independent of how busy the shared machine is. */
  cpuMsPerSample: number;
}

const DEFAULT_MODELS = ['sst_cnn.h5', 'sst_cnn.onnx', 'sst_cnn_tfjs/model.json'];
/** The default workload's composite: the settings layer under the composite flags. */
const WORKLOAD: ChoiceLayer = { composite: 'epsilon-gamma-box', low: -5, high: 5, gamma: 0.25, epsilon: 1e-6, target: 0 };
const BENCH_FLAGS = ['model', 'input', 'input-shape', 'zennit-script', 'config', 'entry', 'backends', 'workers', 'runs', 'chunk', 'stream', 'peak-gflops', 'json', 'zennit', ...COMPOSITE_FLAG_NAMES];
/** Forward cost of the default workload per sample, and this machine class's peak (issue 9). */
const GFLOP_PER_SAMPLE = 0.09;
const GPU = new Set<string>([...GPU_BACKENDS, 'onnxruntime-webgpu', 'onnxruntime-cuda']);

/** samples/s for the table: one decimal, three significant digits under 1 (a 720 x 1440 field runs at 0.05). */
function rate(v: number): string {
  return v >= 1 ? v.toFixed(1) : v.toPrecision(3);
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

function rssMb(): number {
  return process.memoryUsage().rss / (1024 * 1024);
}

/** NHWC batch -> the layout the model file takes (NCHW for the PyTorch ONNX export). */
function forModel(graph: ModelGraph, x: NdArray): NdArray {
  const spec = graph.inputs[0];
  if (spec.fileLayout !== 'NCHW' || x.shape.length !== 4) return x;
  const [n, h, w, c] = x.shape;
  const src = toFloat32(x);
  const out = new Float32Array(src.length);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++)
        for (let k = 0; k < c; k++) out[((b * c + k) * h + i) * w + j] = src[((b * h + i) * w + j) * c + k];
  return { shape: [n, c, h, w], data: out, dtype: 'f4' };
}

function slice(x: NdArray, n: number): NdArray {
  const per = x.data.length / x.shape[0];
  return { shape: [n, ...x.shape.slice(1)], data: toFloat32(x).slice(0, n * per), dtype: 'f4' };
}

/** What the timing loop drives: the tfjs worker pool, or one ONNX Runtime session (threads = workers). */
interface Engine {
  explain(x: NdArray, opts: ExplainOptions): Promise<{ relevanceSum: number[] }>;
  close(): Promise<void>;
  /** Per worker (the tfjs pool; none for ONNX Runtime's one session). */
  stats(): { busyMs: number; memory: { numTensors: number } }[];
}

async function openEngine(graph: ModelGraph, composite: ExplainerOptions, backend: BackendName, workers: number): Promise<Engine> {
  const { isOrtBackend, ORT_BACKEND_PROVIDERS, probeProvider } = await import('../core/lrp-onnx/ort-providers.js');
  if (!isOrtBackend(backend)) return LrpPool.create(graph, composite, { workers, backend });
  const provider = ORT_BACKEND_PROVIDERS[backend];
  await probeProvider(provider); // a GPU provider that cannot start: BACKEND_UNAVAILABLE, listed as not available
  const { OrtExplainer } = await import('../core/lrp-onnx/ort-explainer.js');
  const { mode: _mode, ...lowering } = composite;
  const ex = await OrtExplainer.create(graph, { ...lowering, threads: workers, provider });
  return { explain: (x, opts) => ex.explain(x, opts), close: () => ex.dispose(), stats: () => [] };
}

async function timeIt(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

/** What the command line asks for (and, with --entry, the project's workload, read where the checks reach it). */
interface BenchOptions {
  choice: CompositeChoice;
  json: boolean;
  modelFlag?: string;
  project?: { model: string; entry: string; x: NdArray };
  models: string[];
  inputPath: string;
  backends: BackendName[];
  runs: number;
  stream: number;
  chunk: number;
  cores: number;
  cpuWorkers: number;
  peakGflops: number;
  zennit: boolean;
  /** --input-shape: a seeded random normal batch of this shape (NHWC like the default batch) in place of --input. */
  inputShape?: number[];
  /** --zennit-script: a script timing Zennit on the --model's architecture (`python3 FILE zennit THREADS N H W`). */
  zennitScript?: string;
}

/** Largest --input-shape batch (values): 4 GiB of float32. */
const MAX_INPUT_VALUES = 2 ** 30;

/** `N,H,W,C` (or any rank, batch first): whole numbers >= 1, at most MAX_INPUT_VALUES values in all. */
export function parseInputShape(spec: string): number[] {
  const dims = spec.split(',').map((d) => (/^\s*\d{1,9}\s*$/.test(d) ? Number(d) : NaN));
  if (dims.length < 2 || dims.some((d) => !Number.isSafeInteger(d) || d < 1)) throw new LensError('USAGE', `--input-shape must be whole numbers >= 1, batch first (N,H,W,C), got '${spec}'`);
  const total = dims.reduce((a, b) => a * b, 1);
  if (total > MAX_INPUT_VALUES) throw new LensError('USAGE', `--input-shape ${spec} is ${total} values, more than the ${MAX_INPUT_VALUES} a benchmark batch may hold`);
  return dims;
}

/** A seeded standard-normal batch (Box-Muller over mulberry32): the same numbers on every machine. */
function randomBatch(shape: number[], seed = 1): NdArray {
  const rand = mulberry32(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12)));
    const t = 2 * Math.PI * rand();
    data[i] = r * Math.cos(t);
    if (i + 1 < data.length) data[i + 1] = r * Math.sin(t);
  }
  return { shape, data, dtype: 'f4' };
}

/** The loaded workload: the batch, its box bounds, the explainer options and the model graphs. */
interface Workload {
  x: NdArray;
  bounds: Bounds | undefined;
  composite: ExplainerOptions;
  graphs: ModelGraph[];
}

type BackendFigures = Figures & { workers: number; singleThreadSamplesPerSecond?: number; cpuMsPerSample: number; shareOfPeak: number; models: ModelFigures[] };
type ZennitFigures = Awaited<ReturnType<typeof zennitFigures>>;
type Log = (s: string) => void;

/** What the backends' timing loop gathers. */
interface Timings {
  perBackend: Record<string, BackendFigures>;
  unavailable: Record<string, string>;
  streamReport?: Record<string, unknown>;
}

export async function run(argv: string[]): Promise<number> {
  const o = await benchOptions(argv);
  const w = await loadWorkload(o);
  const log: Log = (s) => {
    if (!o.json) process.stdout.write(s + '\n');
  };
  const loadStart = loadavg();
  const t = await timeBackends(o, w, log);
  const zennit = await zennitComparison(o, t.perBackend, log);
  const defName = t.perBackend.onnxruntime ? 'onnxruntime' : t.perBackend.wasm ? 'wasm' : Object.keys(t.perBackend)[0];
  const def = t.perBackend[defName];
  if (!def) throw new LensError('BACKEND_UNAVAILABLE', `no backend could run the benchmark: ${Object.entries(t.unavailable).map(([b, r]) => `${b}: ${r}`).join('; ')}`);
  const result = benchResult(o, w, t, zennit, defName, loadStart);
  if (o.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else printSummary(o, def, defName, zennit, loadStart, log);
  return 0;
}

/** Parses and checks the options; with --entry, also reads the project's workload (at the point its errors were always reported). */
async function benchOptions(argv: string[]): Promise<BenchOptions> {
  const args = parseArgs(argv, ['json', 'zennit']);
  if (args.positional.length) throw new LensError('USAGE', `usage: lrp-lens bench [--model FILE --input X.npy | --config lrp-lens.json --entry NAME] [--backends onnxruntime,onnxruntime-webgpu,onnxruntime-cuda,wasm,cpu,webgpu,tensorflow-gpu] [--workers N] [--runs N] [--chunk N] [--stream N] [--zennit] [--model FILE --input-shape N,H,W,C [--zennit-script FILE]] ${COMPOSITE_FLAGS_USAGE} [--json]`);
  for (const k of args.flags.keys()) if (!BENCH_FLAGS.includes(k)) throw new LensError('USAGE', `unknown option --${k}`);
  const choice = chooseComposite({ request: await compositeFlags(args), settings: WORKLOAD });
  if (choice.target === 'label' || choice.method !== 'lrp') throw new LensError('USAGE', 'bench takes a fixed target (--target INDEX|A-B|predicted|regression)');
  const json = args.flags.get('json') === true;
  const modelFlag = flagString(args, 'model');
  const inputFlag = flagString(args, 'input');
  const shapeFlag = flagString(args, 'input-shape');
  const inputShape = shapeFlag !== undefined ? parseInputShape(shapeFlag) : undefined;
  if (inputShape && (inputFlag !== undefined || modelFlag === undefined)) throw new LensError('USAGE', '--input-shape goes with --model, in place of --input');
  if (!inputShape && (modelFlag === undefined) !== (inputFlag === undefined)) throw new LensError('USAGE', '--model and --input go together');
  const zennitScript = flagString(args, 'zennit-script');
  if (zennitScript !== undefined && (!inputShape || inputShape.length !== 4)) throw new LensError('USAGE', '--zennit-script goes with --model and a 4-d --input-shape N,H,W,C');
  const entryFlag = flagString(args, 'entry');
  if (entryFlag !== undefined && modelFlag !== undefined) throw new LensError('USAGE', '--entry and --model exclude each other');
  const project = entryFlag !== undefined ? await projectWorkload(flagString(args, 'config') ?? 'lrp-lens.json', entryFlag) : undefined;
  const models = project ? [project.model] : modelFlag ? [modelFlag] : DEFAULT_MODELS.map((m) => join(BENCH, m));
  const inputPath = inputFlag ?? join(BENCH, 'batch64_nhwc.npy');
  const backends = (flagString(args, 'backends') ?? 'onnxruntime,wasm,cpu,webgpu,tensorflow-gpu').split(',').map((b) => b.trim()) as BackendName[];
  const runs = flagInt(args, 'runs', 1, 1000) ?? 5;
  const stream = flagInt(args, 'stream', 0, 10_000_000) ?? 10000;
  // 8 samples per chunk: the same speed as 16 on wasm, and each worker's wasm heap peaks lower.
  const chunk = flagInt(args, 'chunk', 1, 4096) ?? 8;
  const cores = availableParallelism();
  const cpuWorkers = flagInt(args, 'workers', 1, 1024) ?? cores;
  const peakGflops = flagNumber(args, 'peak-gflops', Number.MIN_VALUE) ?? 300;
  return { choice, json, modelFlag, project, models, inputPath, backends, runs, stream, chunk, cores, cpuWorkers, peakGflops, zennit: args.flags.has('zennit') || zennitScript !== undefined, inputShape, zennitScript };
}

/** Reads the batch and the models (every file checked to exist first), and the composite with its bounds. */
async function loadWorkload(o: BenchOptions): Promise<Workload> {
  // Options are checked before any file is read.
  for (const m of [...o.models, ...(o.project || o.inputShape ? [] : [o.inputPath]), ...(o.zennitScript ? [o.zennitScript] : [])]) if (!existsSync(m)) throw new LensError('FILE_NOT_FOUND', `benchmark file not found: ${m}`, { file: m });
  const x = o.project?.x ?? (o.inputShape ? randomBatch(o.inputShape) : readNpy(await readRegular(o.inputPath), o.inputPath));
  const bounds = boxBounds(o.choice, toFloat32(x));
  const composite = explainerOptions({ choice: o.choice, bounds });
  const graphs = await Promise.all(o.models.map((m) => loadModel(m)));
  return { x, bounds, composite, graphs };
}

/** Every backend in turn, with the table's header first; the data-set case on the first backend that streams. */
async function timeBackends(o: BenchOptions, w: Workload, log: Log): Promise<Timings> {
  const t: Timings = { perBackend: {}, unavailable: {} };
  const opts: ExplainOptions = { target: targetSpecOf(o.choice), init: o.choice.init, chunkSize: o.chunk };
  log(`backend  ${'model'.padEnd(26)} ${'samples/s'.padStart(9)} ${'1 thread'.padStart(9)} ${'1-sample ms'.padStart(11)} ${'CPU ms/sample'.padStart(13)}  peak RSS  workers`);
  for (const backend of o.backends) await timeBackend(backend, o, w, opts, t, log);
  return t;
}

/** One backend over the models: its figures into t.perBackend, or why it cannot run into t.unavailable. */
async function timeBackend(backend: BackendName, o: BenchOptions, w: Workload, opts: ExplainOptions, t: Timings, log: Log): Promise<void> {
  // The pure-JS cpu backend is two orders slower: time it on fewer samples and one file.
  const slow = backend === 'cpu';
  const workers = GPU.has(backend) ? 1 : slow ? 1 : o.cpuWorkers;
  const batch = slow ? Math.min(8, w.x.shape[0]) : w.x.shape[0];
  const list: ModelFigures[] = [];
  for (const [i, graph] of w.graphs.entries()) {
    if (slow && i > 0) break;
    const xb = forModel(graph, slice(w.x, batch));
    const x1 = slice(xb, 1);
    let opened: { pool: Engine; singleThreadSamplesPerSecond?: number };
    try {
      opened = await openTimedEngine(graph, w.composite, backend, workers, xb, opts, o.runs);
    } catch (e) {
      t.unavailable[backend] = (e as Error).message;
      log(`${backend.padEnd(8)} not available: ${(e as Error).message}`);
      break;
    }
    const { pool, singleThreadSamplesPerSecond } = opened;
    try {
      const f = await timeModel(pool, graph, xb, x1, opts, slow ? 1 : o.runs, slow ? 2 : 7, workers, singleThreadSamplesPerSecond);
      list.push(f);
      log(`${backend.padEnd(8)} ${graph.file.split('/').slice(-2).join('/').padEnd(26)} ${rate(f.samplesPerSecond).padStart(9)} ${(singleThreadSamplesPerSecond !== undefined ? rate(singleThreadSamplesPerSecond) : '-').padStart(9)} ${f.singleSampleMs.toFixed(1).padStart(11)} ${f.cpuMsPerSample.toFixed(1).padStart(13)}  ${f.peakRssMb.toFixed(0).padStart(5)} MB  ${workers}`);
      if (o.stream > 0 && i === 0 && !slow && !t.streamReport) t.streamReport = await streamCase(pool, xb, o.stream, opts, backend, log);
    } finally {
      await pool.close();
    }
  }
  if (!list.length) return;
  t.perBackend[backend] = backendSummary(list, workers, o.peakGflops);
}

/** The engine to time; with several workers, one worker on the same batch first, for the '1 thread' column. */
async function openTimedEngine(graph: ModelGraph, composite: ExplainerOptions, backend: BackendName, workers: number, xb: NdArray, opts: ExplainOptions, runs: number): Promise<{ pool: Engine; singleThreadSamplesPerSecond?: number }> {
  let singleThreadSamplesPerSecond: number | undefined;
  if (workers > 1) {
    // One worker on the same batch first (what the pool adds, in the same run; its memory is
    // released before the pool starts, so peak RSS is the pool's).
    const solo = await openEngine(graph, composite, backend, 1);
    try {
      await solo.explain(xb, opts);
      const soloMs: number[] = [];
      for (let r = 0; r < Math.min(3, runs); r++) soloMs.push(await timeIt(() => solo.explain(xb, opts)));
      singleThreadSamplesPerSecond = xb.shape[0] / (median(soloMs) / 1000);
    } finally {
      await solo.close();
    }
  }
  const pool = await openEngine(graph, composite, backend, workers);
  return { pool, singleThreadSamplesPerSecond };
}

/** A warm-up, then the batch `runs` times (wall and CPU time) and one sample `singleRuns` times. */
async function timeModel(pool: Engine, graph: ModelGraph, xb: NdArray, x1: NdArray, opts: ExplainOptions, runs: number, singleRuns: number, workers: number, singleThreadSamplesPerSecond: number | undefined): Promise<ModelFigures> {
  const batch = xb.shape[0];
  await pool.explain(xb, opts); // warm-up
  const batchMs: number[] = [];
  const cpuMs: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    batchMs.push(await timeIt(() => pool.explain(xb, opts)));
    const c = process.cpuUsage(c0);
    cpuMs.push((c.user + c.system) / 1000);
  }
  await pool.explain(x1, opts);
  const single: number[] = [];
  for (let r = 0; r < singleRuns; r++) single.push(await timeIt(() => pool.explain(x1, opts)));
  return {
    model: graph.file,
    batch,
    workers,
    batchMs,
    samplesPerSecond: batch / (median(batchMs) / 1000),
    singleThreadSamplesPerSecond,
    cpuMsPerSample: median(cpuMs) / batch,
    singleSampleMs: median(single),
    peakRssMb: peakRssMb(),
  };
}

/** A backend's figures over its models: medians, the peak RSS, and the share of the CPU's peak. */
function backendSummary(list: ModelFigures[], workers: number, peakGflops: number): BackendFigures {
  const sps = median(list.map((f) => f.samplesPerSecond));
  const st = list.map((f) => f.singleThreadSamplesPerSecond).filter((v): v is number => v !== undefined);
  return {
    samplesPerSecond: sps,
    singleSampleMs: median(list.map((f) => f.singleSampleMs)),
    peakRssMb: Math.max(...list.map((f) => f.peakRssMb)),
    workers,
    singleThreadSamplesPerSecond: st.length ? median(st) : undefined,
    cpuMsPerSample: median(list.map((f) => f.cpuMsPerSample)),
    shareOfPeak: (sps * GFLOP_PER_SAMPLE) / peakGflops,
    models: list,
  };
}

/** Zennit on the same workload in the same run (the ratio the issue tracker asks for), when asked: each backend's vsZennit. */
async function zennitComparison(o: BenchOptions, perBackend: Record<string, BackendFigures>, log: Log): Promise<ZennitFigures | undefined> {
  const [n, h, w] = o.inputShape ?? [];
  const custom = o.zennitScript ? { script: o.zennitScript, args: ['zennit', String(o.cores), String(n), String(h), String(w)] } : undefined;
  const zennit = custom || (o.zennit && !o.project && !o.modelFlag) ? await zennitFigures(o.cores, log, custom) : undefined;
  if (zennit && 'samplesPerSecond' in zennit) {
    for (const f of Object.values(perBackend)) Object.assign(f, { vsZennit: f.samplesPerSecond / zennit.samplesPerSecond });
  }
  return zennit;
}

/** The --json report (its keys in this order: zennit, default, the backends, unavailable, stream, workload, machine). */
function benchResult(o: BenchOptions, w: Workload, t: Timings, zennit: ZennitFigures | undefined, defName: string, loadStart: number[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  const def = t.perBackend[defName];
  const { choice } = o;
  const { bounds } = w;
  if (zennit) result.zennit = zennit;
  result.default = { backend: defName, samplesPerSecond: def.samplesPerSecond, singleSampleMs: def.singleSampleMs, peakRssMb: def.peakRssMb, workers: def.workers, shareOfPeak: def.shareOfPeak };
  Object.assign(result, t.perBackend);
  if (Object.keys(t.unavailable).length) result.unavailable = t.unavailable;
  if (t.streamReport) result.stream = t.streamReport;
  result.workload = { models: o.models, input: o.project ? `${o.project.entry}: first ${w.x.shape[0]} samples of its data` : o.inputShape ? `seeded random normal [${o.inputShape.join(', ')}] (NHWC)` : o.inputPath, composite: choice.composite, low: bounds?.low, high: bounds?.high, boundsFrom: bounds?.from, gamma: choice.gamma, epsilon: choice.epsilon, target: choice.target, gflopPerSampleForward: GFLOP_PER_SAMPLE, peakGflops: o.peakGflops };
  result.machine = { cpus: o.cores, loadStart, loadEnd: loadavg() };
  if (o.inputShape) {
    // The FLOP count is the default workload's: a --input-shape batch gets no share of the peak.
    (result.workload as Record<string, unknown>).gflopPerSampleForward = null;
    for (const f of [result.default, ...Object.values(t.perBackend)] as Record<string, unknown>[]) delete f.shareOfPeak;
  }
  return result;
}

/** The text summary under the table: the default backend against Zennit and the peak, CPU time, load. */
function printSummary(o: BenchOptions, def: BackendFigures, defName: string, zennit: ZennitFigures | undefined, loadStart: number[], log: Log): void {
  const { peakGflops, cores } = o;
  // Another workload than the default's (a project's model, a --input-shape batch): no FLOP share, no reference ratio.
  const project = o.project ?? o.inputShape;
  // The Zennit reference and the FLOP count are the default workload's: a project model gets neither.
  const measured = zennit && 'samplesPerSecond' in zennit ? zennit.samplesPerSecond : undefined;
  const vsDefault = measured ? ` (${(def.samplesPerSecond / measured).toFixed(2)}x Zennit's ${rate(measured)} in this run)` : project ? '' : ` (${(def.samplesPerSecond / 40).toFixed(2)}x the Zennit reference's 40; --zennit measures it in this run)`;
  const peak = project ? '' : `, ${(100 * def.shareOfPeak).toFixed(1)}% of the ${peakGflops} GFLOP/s peak (forward FLOPs)`;
  log(`default (${defName}, ${def.workers} worker${def.workers > 1 ? 's' : ''}): ${rate(def.samplesPerSecond)} samples/s${vsDefault}, ${def.singleSampleMs.toFixed(1)} ms single sample, peak RSS ${def.peakRssMb.toFixed(0)} MB${peak}`);
  log(`CPU time ${def.cpuMsPerSample.toFixed(1)} ms per sample (all threads): ${(1000 * cores / def.cpuMsPerSample).toFixed(0)} samples/s on ${cores} idle cores`);
  log(`load average ${loadStart.map((v) => v.toFixed(2)).join(' ')} -> ${loadavg().map((v) => v.toFixed(2)).join(' ')} on ${cores} cores`);
}

/** Zennit 0.5.1 timed by scripts/zennit-bench.py (Debian's python3 with PyTorch; Zennit from ../shared/zennit), or why not. */
async function zennitFigures(threads: number, log: (s: string) => void, custom?: { script: string; args: string[] }): Promise<{ engine: string; samplesPerSecond: number; cpuMsPerSample: number; singleSampleMs: number } | { unavailable: string }> {
  const { execFile } = await import('node:child_process');
  const root = packageRoot() ?? process.cwd();
  const env = { ...process.env, PYTHONPATH: join(sharedDir(), 'zennit', 'src') };
  const out = await new Promise<string>((res, rej) => {
    // Debian's interpreter (its PyTorch runs this Zennit) before whatever python3 is first on PATH.
    const argv = custom ? [custom.script, ...custom.args] : [join(root, 'scripts', 'zennit-bench.py'), String(threads), BENCH];
    execFile(existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3', argv, { env, timeout: 600_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => (err ? rej(new Error(stderr.trim().split('\n').pop() || err.message)) : res(stdout)));
  }).catch((e: Error) => e);
  if (out instanceof Error) {
    log(`zennit   not available: ${out.message}`);
    return { unavailable: out.message };
  }
  const f = JSON.parse(out.trim().split('\n').pop()!) as { engine: string; samplesPerSecond: number; cpuMsPerSample: number; singleSampleMs: number };
  log(`${'zennit'.padEnd(8)} ${f.engine.padEnd(26)} ${rate(f.samplesPerSecond).padStart(9)} ${'-'.padStart(9)} ${f.singleSampleMs.toFixed(1).padStart(11)} ${f.cpuMsPerSample.toFixed(1).padStart(13)}`);
  return f;
}

/** A project entry's model file and the first 64 samples of its data, in the model's input layout. */
async function projectWorkload(config: string, name: string): Promise<{ model: string; entry: string; x: NdArray }> {
  const project = await readProject(resolve(config));
  const entry = findEntry(project, name);
  const model = preferredModelFile(await entryModelFiles(project, entry));
  const spec = (await loadModel(model)).inputs[0];
  const input = await buildModelInput(entry, spec.fileShape, { fileLayout: spec.fileLayout });
  return { model, entry: name, x: slice(input.x, Math.min(64, input.x.shape[0])) };
}

/** The data-set case: `total` samples through the pool (the batch repeatedly), memory at start and end. */
async function streamCase(pool: Engine, xb: NdArray, total: number, opts: ExplainOptions, backend: string, log: (s: string) => void): Promise<Record<string, unknown>> {
  const batch = xb.shape[0];
  const before = pool.stats();
  const rssStartMb = rssMb();
  const heapStartMb = process.memoryUsage().heapUsed / 2 ** 20;
  const t0 = performance.now();
  let checksum = 0;
  for (let done = 0; done < total; done += batch) {
    const e = await pool.explain(done + batch <= total ? xb : slice(xb, total - done), opts);
    checksum += e.relevanceSum.length;
  }
  const sec = (performance.now() - t0) / 1000;
  const after = pool.stats();
  const rssEndMb = rssMb();
  const report = {
    backend,
    samples: checksum,
    samplesPerSecond: total / sec,
    rssStartMb,
    rssEndMb,
    heapStartMb,
    heapEndMb: process.memoryUsage().heapUsed / 2 ** 20,
    tensorsStart: before.reduce((a, s) => a + s.memory.numTensors, 0),
    tensorsEnd: after.reduce((a, s) => a + s.memory.numTensors, 0),
    workerBusyShare: after.map((s, i) => (s.busyMs - before[i].busyMs) / 1000 / sec),
  };
  log(`stream   ${total} samples: ${report.samplesPerSecond.toFixed(1)} samples/s, RSS ${rssStartMb.toFixed(0)} -> ${rssEndMb.toFixed(0)} MB, tensors ${report.tensorsStart} -> ${report.tensorsEnd}, workers busy ${report.workerBusyShare.map((v) => (100 * v).toFixed(0) + '%').join(' ')}`);
  return report;
}
