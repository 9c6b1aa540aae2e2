/**
 * The model loader entry point: file checks, format detection over the registered format modules,
 * the format's load, then shape inference. Every failure leaves as a LensError with the file set.
 */
import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { FormatName, ModelGraph } from './graph.js';
import type { FormatModule, LoadOptions } from './formats/format.js';
import { LensError, LIMITS, toLensError } from '../errors.js';
import { inferShapes } from './shapes.js';
import { FORMATS } from './format-registry.js';
import { SAVED_MODEL_FILE } from './model-file-names.js';

export interface LoadModelOptions extends LoadOptions {
  /** Refuse files above this many bytes (default: the weight-size limit plus room for the container). */
  maxBytes?: number;
  /** Skip detection and use this format. */
  format?: FormatName;
}

/** Bytes read for detection (format.ts promises at least 512). */
const HEAD_BYTES = 4096;
export const MAX_MODEL_FILE_BYTES = LIMITS.maxWeightBytes + 256 * 1024 * 1024;

/** The registered format modules, in detection order. */
export function formatModules(): readonly FormatModule[] {
  return FORMATS;
}

async function readHead(path: string): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const buf = new Uint8Array(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The file a model folder stands for: model.json (TF.js), saved_model.pb (SavedModel), or undefined. */
async function modelFileIn(dir: string): Promise<string | undefined> {
  for (const name of ['model.json', SAVED_MODEL_FILE]) {
    const inner = join(dir, name);
    if (await stat(inner).then((s) => s.isFile(), () => false)) return inner;
  }
  return undefined;
}

/**
 * Resolve the path: a folder stands for the model.json (TF.js) or saved_model.pb (SavedModel) inside
 * it, or for the one SavedModel folder it holds (a training run's output folder).
 */
async function resolveModelPath(path: string): Promise<{ path: string; size: number }> {
  let p = resolve(path);
  let st;
  try {
    st = await stat(p);
  } catch {
    throw new LensError('FILE_NOT_FOUND', `no such file: ${path}`, { file: p });
  }
  if (st.isDirectory()) {
    let inner = await modelFileIn(p);
    if (!inner) {
      const subs = await readdir(p, { withFileTypes: true }).catch(() => []);
      const found: string[] = [];
      for (const d of subs.slice(0, 10_000)) {
        if (!d.isDirectory()) continue;
        const f = join(p, d.name, SAVED_MODEL_FILE);
        if (await stat(f).then((s) => s.isFile(), () => false)) found.push(f);
      }
      if (found.length > 1) {
        throw new LensError('FORMAT_UNKNOWN', `${path} holds ${found.length} SavedModel folders (${found.map((f) => basename(dirname(f))).slice(0, 5).join(', ')}): name one`, { file: p });
      }
      inner = found[0];
    }
    if (!inner) throw new LensError('FORMAT_UNKNOWN', `${path} is a folder without a model.json or saved_model.pb`, { file: p });
    p = inner;
    st = await stat(inner);
  }
  if (!st.isFile()) throw new LensError('FORMAT_UNKNOWN', `${path} is not a regular file`, { file: p });
  return { path: p, size: st.size };
}

/** Which format module reads this file (by name when `format` is given). */
export async function detectFormat(path: string, head: Uint8Array, format?: FormatName): Promise<FormatModule> {
  const mods = formatModules();
  if (format) {
    const m = mods.find((f) => f.name === format);
    if (!m) throw new LensError('FORMAT_UNKNOWN', `no reader for the format '${format}'`, { file: path });
    return m;
  }
  for (const m of mods) {
    let hit = false;
    try {
      hit = m.detect(path, head);
    } catch {
      hit = false;
    }
    if (hit) return m;
  }
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head.subarray(0, 64)).trimStart();
  const hint = text.startsWith('{') || text.startsWith('[') ? ' (a JSON file that is neither a Keras nor a TF.js layers model)' : '';
  throw new LensError('FORMAT_UNKNOWN', `not a model file LRP Lens can read${hint}: expected Keras .h5/.keras/.json, a SavedModel folder, TF.js model.json or ONNX`, { file: path });
}

/** Load any supported model file into a shape-checked ModelGraph. */
export async function loadModel(path: string, opts: LoadModelOptions = {}): Promise<ModelGraph> {
  let file = resolve(path);
  try {
    const r = await resolveModelPath(path);
    file = r.path;
    const max = opts.maxBytes ?? MAX_MODEL_FILE_BYTES;
    if (r.size > max) throw new LensError('FILE_TOO_LARGE', `the file has ${r.size} bytes, above the limit of ${max}`, { file });
    if (r.size === 0) throw new LensError('TRUNCATED', 'the file is empty', { file });
    const head = await readHead(file);
    const mod = await detectFormat(file, head, opts.format);
    const loadOpts: LoadOptions = {};
    if (opts.weightsPath !== undefined) loadOpts.weightsPath = resolve(opts.weightsPath);
    const graph = await mod.load(file, loadOpts);
    graph.file = file;
    return inferShapes(graph);
  } catch (e) {
    throw toLensError(e, file);
  }
}
