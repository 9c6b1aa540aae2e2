/**
 * `lrp-lens predict [MODEL] (--input X.npy[,X2.npy] | --data FILE [--var NAME] [--select ...] [--fill V] |
 * --config lrp-lens.json [--model NAME]) --out Y.npy [--json] [--weights FILE] [--backend NAME] [--batch-size N]`:
 * runs the model as its framework would; input and output in the file's own layout. The input comes from
 * resolveInput (input.ts); with --config, MODEL defaults to the entry's model file. A model with several
 * outputs writes Y.npy, Y_1.npy, ...; a model with several inputs takes --input A.npy,B.npy only.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs, flagInt, flagString, requireFlag } from './args.js';
import { LensError } from '../core/errors.js';
import { loadModel } from '../core/model/load.js';
import { predictAll } from '../core/model/execute.js';
import { writeNpy } from '../core/data/npy.js';
import type { NdArray } from '../core/array.js';
import { INPUT_FLAGS, resolveInput, type ResolvedInput } from './input.js';
import { checkFlags, dataFile, INPUT_FLAG_NAMES, modelFor } from './project-model.js';
import { useEngine } from '../core/lrp-onnx/ort-providers.js';
import { BACKEND_NAMES, isBackendName } from '../core/names.js';
import { regularSize } from '../core/data/regular-file.js';
import { outputFile } from './files.js';


function outPath(base: string, i: number): string {
  if (i === 0) return base;
  return base.endsWith('.npy') ? `${base.slice(0, -4)}_${i}.npy` : `${base}_${i}`;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json']);
  const [modelArg, ...extra] = args.positional;
  const usage = `usage: lrp-lens predict [MODEL] (${INPUT_FLAGS}) --out Y.npy [--json] [--weights FILE] [--backend NAME] [--batch-size N]`;
  if (extra.length || (!modelArg && !args.flags.has('config'))) throw new LensError('USAGE', usage);
  checkFlags(args, [...INPUT_FLAG_NAMES, 'out', 'json', 'weights', 'backend', 'batch-size']);
  const out = await outputFile(requireFlag(args, 'out'), '--out');
  const weightsPath = flagString(args, 'weights');
  if (weightsPath !== undefined) await regularSize(weightsPath);
  const backend = flagString(args, 'backend') ?? 'wasm';
  if (!isBackendName(backend)) throw new LensError('USAGE', `--backend must be one of ${BACKEND_NAMES.join(', ')}`);
  const batchSize = flagInt(args, 'batch-size', 1);

  const model = await modelFor(args, modelArg);
  const graph = await loadModel(model, weightsPath ? { weightsPath } : {});
  const inputFlag = flagString(args, 'input');
  const xs: NdArray[] = [];
  const inputs: Record<string, unknown>[] = [];
  if (graph.inputs.length > 1) {
    // A model with several inputs takes one .npy per input, comma-separated, in the file's input order.
    const paths = inputFlag?.split(',') ?? [];
    if (paths.length !== graph.inputs.length) {
      throw new LensError('USAGE', `the model has ${graph.inputs.length} inputs (${graph.inputs.map((s) => s.fileName).join(', ')}): give --input A.npy,B.npy,...`);
    }
    for (let i = 0; i < paths.length; i++) {
      const r = await resolveInput({ positional: [], flags: new Map([['input', paths[i]]]) }, graph.inputs[i].fileShape);
      xs.push(r.x);
      inputs.push({ path: paths[i], shape: r.x.shape });
    }
  } else {
    const r = await resolveInput(args, graph.inputs[0].fileShape, graph.inputs[0].fileLayout);
    xs.push(r.x);
    inputs.push(inputJson(r));
  }
  const used = await useEngine(backend);
  const ys = predictAll(graph, xs, batchSize ? { batchSize } : {});
  const written: { path: string; name: string; shape: number[] }[] = [];
  for (let i = 0; i < ys.length; i++) {
    const p = i === 0 ? out : await outputFile(outPath(out, i), '--out');
    await writeFile(p, writeNpy(ys[i].data as Float32Array, ys[i].shape));
    written.push({ path: p, name: graph.outputs[i].fileName, shape: ys[i].shape });
  }
  if (args.flags.get('json') === true) {
    process.stdout.write(JSON.stringify({ model: graph.file, format: graph.format, backend: used, inputs, outputs: written }, null, 2) + '\n');
  } else {
    for (const w of written) process.stdout.write(`${w.name}: (${w.shape.join(', ')}) -> ${w.path}\n`);
  }
  return 0;
}

/** The input's source for --json: file, shape, and the samples' dates and labels where the data give them. */
function inputJson(r: ResolvedInput): Record<string, unknown> {
  const o: Record<string, unknown> = { path: dataFile(r), from: r.from, shape: r.x.shape };
  if (r.entry) o.entry = r.entry.name;
  if (r.dims) o.dims = r.dims;
  if (r.times) o.dates = r.times;
  if (r.labels) o.labels = Array.from(r.labels);
  if (r.classNames) o.classNames = r.classNames;
  return o;
}
