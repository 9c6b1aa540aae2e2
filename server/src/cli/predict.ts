/**
 * `lrp-lens predict MODEL --input X.npy --out Y.npy [--json] [--weights FILE] [--backend NAME] [--batch-size N]`:
 * runs the model as its framework would; input and output in the file's own layout. A model with several
 * outputs writes Y.npy, Y_1.npy, ...
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs, flagNumber, flagString, requireFlag } from './args.js';
import { LensError } from '../core/errors.js';
import { loadModel } from '../core/model/load.js';
import { predictAll } from '../core/model/execute.js';
import { type NdArray, readNpy, writeNpy } from '../core/data/npy.js';
import { type BackendName, useBackend } from '../core/compute/backend.js';

const BACKENDS: BackendName[] = ['auto', 'wasm', 'cpu', 'tensorflow', 'tensorflow-gpu', 'webgpu'];

function outPath(base: string, i: number): string {
  if (i === 0) return base;
  return base.endsWith('.npy') ? `${base.slice(0, -4)}_${i}.npy` : `${base}_${i}`;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json']);
  const [model, ...extra] = args.positional;
  const usage = 'usage: lrp-lens predict MODEL --input X.npy[,X2.npy] --out Y.npy [--json] [--weights FILE] [--backend NAME] [--batch-size N]';
  if (!model || extra.length) throw new LensError('USAGE', usage);
  const inputPath = requireFlag(args, 'input');
  const out = requireFlag(args, 'out');
  const weightsPath = flagString(args, 'weights');
  const backend = (flagString(args, 'backend') ?? 'wasm') as BackendName;
  if (!BACKENDS.includes(backend)) throw new LensError('USAGE', `--backend must be one of ${BACKENDS.join(', ')}`);
  const batchSize = flagNumber(args, 'batch-size');

  const graph = await loadModel(model, weightsPath ? { weightsPath } : {});
  // A model with several inputs takes one .npy per input, comma-separated, in the file's input order.
  const paths = graph.inputs.length > 1 ? inputPath.split(',') : [inputPath];
  if (paths.length !== graph.inputs.length) {
    throw new LensError('USAGE', `the model has ${graph.inputs.length} inputs (${graph.inputs.map((s) => s.fileName).join(', ')}): give --input A.npy,B.npy,...`);
  }
  const xs: NdArray[] = [];
  for (const p of paths) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(p);
    } catch {
      throw new LensError('FILE_NOT_FOUND', `no such input file: ${p}`, { file: p });
    }
    xs.push(readNpy(bytes, p));
  }
  const used = await useBackend(backend);
  const ys = predictAll(graph, xs, batchSize ? { batchSize } : {});
  const written: { path: string; name: string; shape: number[] }[] = [];
  for (let i = 0; i < ys.length; i++) {
    const p = outPath(out, i);
    await writeFile(p, writeNpy(ys[i].data as Float32Array, ys[i].shape));
    written.push({ path: p, name: graph.outputs[i].fileName, shape: ys[i].shape });
  }
  if (args.flags.get('json') === true) {
    process.stdout.write(JSON.stringify({ model: graph.file, format: graph.format, backend: used, inputs: paths.map((p, i) => ({ path: p, shape: xs[i].shape })), outputs: written }, null, 2) + '\n');
  } else {
    for (const w of written) process.stdout.write(`${w.name}: (${w.shape.join(', ')}) -> ${w.path}\n`);
  }
  return 0;
}
