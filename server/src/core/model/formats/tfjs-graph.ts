/**
 * TF.js graph models (`format: graph-model`, tensorflowjs_converter of a SavedModel or frozen graph):
 * `modelTopology.node` is a GraphDef in proto3 JSON (strings base64, int64 as decimal strings, enums by
 * name), Const values live in the weights manifest (tfjs-weights.ts, quantized ones dequantized), and the
 * optional `signature` names the inputs and outputs. The nodes are normalized here and translated by
 * tf-graph-import.ts.
 */
import { basename, dirname } from 'node:path';
import { LensError, LIMITS } from '../../errors.js';
import { headText, type FormatModule } from './format.js';
import type { ModelGraph, WeightTensor } from '../graph.js';
import { readJsonText } from './model-file.js';
import { readWeightsManifest } from './tfjs-weights.js';
import { halfToFloat } from '../../half.js';
import { decodeTfNumbers, tfDtypeBytes, tfDtypeName } from './tf-dtype.js';
import { importTfGraph, type TfAttr, type TfNode } from './tf-graph-import.js';
import { TF_GRAPH_HINTS, withDefaultHint } from './refusal-hints.js';

type Obj = { [k: string]: unknown };
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

class Reader {
  constructor(readonly file: string) {}

  bad(message: string, layer?: string): never {
    throw new LensError('CORRUPT', message, { file: this.file, layer });
  }

  /** An int64 (a decimal string in proto3 JSON, or a number) as a safe integer. */
  int(v: unknown, where: string): number {
    const x = typeof v === 'string' && /^-?\d{1,20}$/.test(v) ? Number(v) : v;
    if (typeof x !== 'number' || !Number.isSafeInteger(x)) this.bad(`${where}: ${JSON.stringify(v)} is not an integer in range`, where);
    return x;
  }

  float(v: unknown, where: string): number {
    if (typeof v === 'number') return v;
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    return this.bad(`${where}: ${JSON.stringify(v)} is not a number`, where);
  }

  str(v: unknown, where: string): string {
    if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) this.bad(`${where}: ${JSON.stringify(v)} is not base64`, where);
    return Buffer.from(v, 'base64').toString('utf8');
  }

  dtype(v: unknown, where: string): string {
    if (typeof v === 'string' && /^DT_[A-Z0-9_]+$/.test(v)) return v;
    // proto3 JSON may give the enum as its number.
    const named = typeof v === 'number' ? tfDtypeName(v) : undefined;
    if (named) return named;
    return this.bad(`${where}: ${JSON.stringify(v)} is not a data type`, where);
  }

  list<T>(v: unknown, where: string, f: (x: unknown) => T): T[] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) this.bad(`${where} is not a list`, where);
    return v.map(f);
  }

  /** TensorShapeProto -> dims (null for -1), or null for an unknown rank. */
  shape(v: unknown, where: string): (number | null)[] | null {
    if (!isObj(v)) this.bad(`${where} is not a shape`, where);
    if (v.unknownRank === true) return null;
    return this.list(v.dim, where, (d) => {
      if (!isObj(d)) this.bad(`${where} has a bad dimension`, where);
      const s = d.size === undefined ? 0 : this.int(d.size, where);
      if (s < -1) this.bad(`${where} has a negative size`, where);
      return s === -1 ? null : s;
    });
  }

  /** An inline TensorProto value; undefined when it holds no values (the converter keeps them in the manifest). */
  tensor(v: unknown, where: string): WeightTensor | undefined {
    if (!isObj(v)) this.bad(`${where} is not a tensor`, where);
    const dims = v.tensorShape === undefined ? [] : this.shape(v.tensorShape, where);
    if (!dims || dims.some((d) => d === null)) this.bad(`${where}: a constant needs a full shape`, where);
    const shape = dims as number[];
    const size = shape.reduce((a, b) => a * b, 1);
    if (size > LIMITS.maxTensorElements) throw new LensError('SHAPE_LIMIT', `${where}: tensor of shape [${shape}] exceeds the size limit`, { file: this.file, layer: where });
    const dtype = v.dtype === undefined ? 'DT_FLOAT' : this.dtype(v.dtype, where);
    const vals = v.floatVal ?? v.doubleVal ?? v.intVal ?? v.int64Val ?? v.halfVal;
    if (typeof v.tensorContent === 'string') {
      if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(v.tensorContent)) this.bad(`${where}: tensor content is not base64`, where);
      const bytes = Buffer.from(v.tensorContent, 'base64');
      const width = tfDtypeBytes(dtype);
      if (!width || dtype === 'DT_BOOL') throw new LensError('WEIGHT_MISMATCH', `${where}: constants of type ${dtype} are not supported`, { file: this.file, layer: where });
      if (bytes.length !== size * width) throw new LensError('WEIGHT_MISMATCH', `${where}: ${bytes.length} bytes of content for shape [${shape}]`, { file: this.file, layer: where });
      return { shape, data: decodeTfNumbers(bytes, dtype, size) };
    }
    if (vals === undefined) return undefined;
    const list = this.list(vals, where, (x) => (v.floatVal !== undefined || v.doubleVal !== undefined ? this.float(x, where) : this.int(x, where)));
    if (list.length !== size && list.length !== 1) throw new LensError('WEIGHT_MISMATCH', `${where}: ${list.length} values for shape [${shape}]`, { file: this.file, layer: where });
    const data = list.length === size ? Float32Array.from(list) : new Float32Array(size).fill(list[0] ?? 0);
    if (v.halfVal !== undefined) for (let i = 0; i < size; i++) data[i] = halfToFloat(data[i]);
    return { shape, data };
  }

  attr(v: unknown, where: string): TfAttr {
    if (!isObj(v)) this.bad(`${where} is not an attribute`, where);
    const a: TfAttr = {};
    if (v.s !== undefined) a.s = this.str(v.s, where);
    if (v.i !== undefined) a.i = this.int(v.i, where);
    if (v.f !== undefined) a.f = this.float(v.f, where);
    if (v.b !== undefined) a.b = v.b === true;
    if (v.type !== undefined) a.type = this.dtype(v.type, where);
    if (v.shape !== undefined) a.shape = this.shape(v.shape, where);
    if (v.tensor !== undefined) a.tensor = this.tensor(v.tensor, where);
    if (v.list !== undefined) {
      const l = v.list;
      if (!isObj(l)) this.bad(`${where} has a bad list`, where);
      a.list = {
        s: this.list(l.s, where, (x) => this.str(x, where)),
        i: this.list(l.i, where, (x) => this.int(x, where)),
        f: this.list(l.f, where, (x) => this.float(x, where)),
        type: this.list(l.type, where, (x) => this.dtype(x, where)),
      };
    }
    return a;
  }

  node(v: unknown, index: number): TfNode {
    if (!isObj(v) || typeof v.name !== 'string' || v.name === '' || typeof v.op !== 'string') this.bad(`modelTopology.node[${index}] lacks a name or an op`);
    const name = v.name;
    const input = this.list(v.input, name, (x) => (typeof x === 'string' ? x : this.bad(`node ${name} has a bad input`, name)));
    const attr: Record<string, TfAttr> = Object.create(null);
    if (v.attr !== undefined) {
      if (!isObj(v.attr)) this.bad(`node ${name} has a bad attr map`, name);
      for (const [k, x] of Object.entries(v.attr)) attr[k] = this.attr(x, name);
    }
    return { name, op: v.op, input, attr, ...(typeof v.device === 'string' ? { device: v.device } : {}) };
  }
}

/** Tensor names of a signature's inputs or outputs, in the file's order. */
function signatureNames(sig: unknown): string[] | undefined {
  if (!isObj(sig)) return undefined;
  const names = Object.entries(sig).map(([k, v]) => (isObj(v) && typeof v.name === 'string' ? v.name : k));
  return names.length ? names : undefined;
}

export async function loadTfjsGraph(path: string): Promise<ModelGraph> {
  const text = readJsonText(path);
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw new LensError('BAD_JSON', `model.json is not valid JSON: ${(e as Error).message}`, { file: path });
  }
  if (!isObj(root)) throw new LensError('BAD_JSON', 'model.json is not a JSON object', { file: path });
  const topo = root.modelTopology;
  if (!isObj(topo) || !Array.isArray(topo.node)) throw new LensError('NO_ARCHITECTURE', 'model.json has no modelTopology.node list (the op graph)', { file: path });
  if (topo.node.length > LIMITS.maxNodes) throw new LensError('SHAPE_LIMIT', `the graph has ${topo.node.length} nodes, above the limit of ${LIMITS.maxNodes}`, { file: path });
  const r = new Reader(path);
  const nodes = topo.node.map((v, i) => r.node(v, i));
  const isConst = new Map(nodes.filter((n) => n.op === 'Const').map((n) => [n.name, n]));

  // Const values from the manifest, checked against the shape the node declares (a file may lie).
  const manifest = readWeightsManifest(root.weightsManifest, path);
  const consts = new Map<string, WeightTensor>();
  const raw = new Map(topo.node.filter(isObj).map((v) => [v.name, v]));
  for (const w of manifest.weights) {
    const n = isConst.get(w.name);
    if (!n) continue;
    const declared = (raw.get(w.name)?.attr as Obj | undefined)?.value;
    const t = isObj(declared) && isObj(declared.tensor) && declared.tensor.tensorShape !== undefined ? r.shape(declared.tensor.tensorShape, w.name) : undefined;
    if (t && (t.length !== w.shape.length || t.some((d, i) => d !== w.shape[i]))) {
      throw new LensError('WEIGHT_MISMATCH', `constant ${w.name} declares shape [${t}] but the weights manifest holds [${w.shape}]`, { file: path, layer: w.name });
    }
    consts.set(w.name, { shape: w.shape, data: manifest.decode(w) });
  }

  const sig = isObj(root.signature) ? root.signature : undefined;
  const generatedBy = typeof root.generatedBy === 'string' ? root.generatedBy : undefined;
  const convertedBy = typeof root.convertedBy === 'string' ? root.convertedBy : undefined;
  const versions = isObj(topo.versions) ? topo.versions : {};
  return importTfGraph({
    nodes,
    consts,
    inputs: signatureNames(sig?.inputs),
    outputs: signatureNames(sig?.outputs),
    file: path,
    // Graph models carry no model name: the folder's name stands for it.
    name: basename(dirname(path)),
    format: {
      name: 'tfjs-graph',
      version: generatedBy ?? (versions.producer !== undefined ? `GraphDef producer ${String(versions.producer)}` : 'unknown'),
      producer: convertedBy ?? (generatedBy ? `TensorFlow ${generatedBy}` : undefined),
    },
  });
}

export const tfjsGraphFormat: FormatModule = {
  name: 'tfjs-graph',
  detect(_path, head) {
    const t = headText(head).trimStart();
    return t.startsWith('{') && (/"format"\s*:\s*"graph-model"/.test(t) || /"modelTopology"\s*:\s*\{\s*"node"\s*:/.test(t));
  },
  load: (path) => loadTfjsGraph(path).catch((e: unknown) => {
    throw withDefaultHint(e, TF_GRAPH_HINTS);
  }),
};

export const format = tfjsGraphFormat;
export default tfjsGraphFormat;
