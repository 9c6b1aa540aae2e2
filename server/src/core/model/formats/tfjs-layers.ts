/**
 * TF.js layers models: converter output (`format: layers-model`, `modelTopology` holding the Keras
 * model, or its older `model_config` wrapper) and files tfjs-layers writes itself (topology at the top of
 * `modelTopology`, list-style Sequential configs). Weights come from `weightsManifest`: several groups,
 * each a run of shard files read back to back; float32, and uint8/uint16/float16-quantized weights are
 * dequantized. TF.js graph models (ops, not layers) are refused with GRAPH_MODEL.
 */
import { statSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { LensError, LIMITS } from '../../errors.js';
import type { FormatModule } from './format.js';
import type { ModelGraph } from '../graph.js';
import { buildKerasGraph, kerasMajor, type RawWeight, type WeightProvider } from './keras-config.js';
import { parseJsonWithRanges, type JsonValue } from '../../json/located-json.js';
import { readJsonText } from './model-file.js';
import { halfToFloat } from '../../half.js';

type Obj = { [k: string]: JsonValue };
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, float16: 2, uint16: 2, uint8: 1, bool: 1 };

interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: string;
  /** Stored element type (the quantized one where quantized). */
  stored: string;
  scale?: number;
  min?: number;
  group: number;
  offset: number;
  bytes: number;
}

function manifestShape(v: unknown, file: string, name: string): number[] {
  if (!Array.isArray(v)) throw new LensError('CORRUPT', `weightsManifest entry ${name} has no shape`, { file });
  let n = 1;
  const s = v.map((d) => {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) throw new LensError('CORRUPT', `weightsManifest entry ${name} has a bad shape ${JSON.stringify(v)}`, { file });
    n *= d;
    return d;
  });
  if (n > LIMITS.maxTensorElements) throw new LensError('SHAPE_LIMIT', `weight ${name} of shape [${s}] exceeds the size limit`, { file });
  return s;
}

export async function loadTfjsLayers(path: string): Promise<ModelGraph> {
  const text = readJsonText(path);
  const parsed = parseJsonWithRanges(text, path);
  const root = parsed.value;
  if (!isObj(root)) throw new LensError('BAD_JSON', 'model.json is not a JSON object', { file: path });
  const topo = isObj(root.modelTopology) ? root.modelTopology : root.class_name !== undefined ? root : undefined;
  if (root.format === 'graph-model' || (topo && Array.isArray(topo.node))) {
    throw new LensError('GRAPH_MODEL', 'this is a TF.js graph model (a TensorFlow op graph, no Keras layers); only TF.js layers models can be explained', { file: path });
  }
  if (!topo) throw new LensError('NO_ARCHITECTURE', 'model.json has no modelTopology', { file: path });
  const cfg = isObj(topo.model_config) ? topo.model_config : topo;
  const kv = typeof topo.keras_version === 'string' ? topo.keras_version : undefined;
  const generatedBy = typeof root.generatedBy === 'string' ? root.generatedBy : undefined;
  const convertedBy = typeof root.convertedBy === 'string' ? root.convertedBy : undefined;
  const version = kv ?? generatedBy ?? 'unknown';

  // Manifest: offsets of every weight inside its group's concatenated shards.
  const manifest = Array.isArray(root.weightsManifest) ? root.weightsManifest : [];
  const dir = dirname(path);
  const groups: { paths: string[]; bytes: number; data?: Uint8Array }[] = [];
  const weights: ManifestWeight[] = [];
  let total = 0;
  manifest.forEach((g, gi) => {
    if (!isObj(g) || !Array.isArray(g.paths) || !Array.isArray(g.weights)) throw new LensError('CORRUPT', `weightsManifest group ${gi} is malformed`, { file: path });
    const paths = g.paths.map((p) => {
      if (typeof p !== 'string' || p.length === 0) throw new LensError('CORRUPT', `weightsManifest group ${gi} has a bad path`, { file: path });
      if (isAbsolute(p) || p.split(/[\\/]/).includes('..') || /^[a-z]+:/i.test(p)) {
        throw new LensError('CORRUPT', `weight shard path ${JSON.stringify(p)} points outside the model folder`, { file: path });
      }
      return join(dir, p);
    });
    let offset = 0;
    for (const w of g.weights) {
      if (!isObj(w) || typeof w.name !== 'string') throw new LensError('CORRUPT', `weightsManifest group ${gi} has an entry without a name`, { file: path });
      const shape = manifestShape(w.shape, path, w.name);
      const dtype = typeof w.dtype === 'string' ? w.dtype : 'float32';
      const q = isObj(w.quantization) ? w.quantization : undefined;
      const stored = q && typeof q.dtype === 'string' ? q.dtype : dtype;
      const size = DTYPE_BYTES[stored];
      if (size === undefined) throw new LensError('WEIGHT_MISMATCH', `weight ${w.name} has dtype ${stored}, which is not supported`, { file: path });
      const bytes = shape.reduce((a, b) => a * b, 1) * size;
      weights.push({
        name: w.name, shape, dtype, stored, group: gi, offset, bytes,
        scale: q && typeof q.scale === 'number' ? q.scale : undefined,
        min: q && typeof q.min === 'number' ? q.min : undefined,
      });
      offset += bytes;
    }
    total += offset;
    if (total > LIMITS.maxWeightBytes) throw new LensError('SHAPE_LIMIT', `weightsManifest declares over ${LIMITS.maxWeightBytes} bytes of weights`, { file: path });
    let have = 0;
    for (const p of paths) {
      try {
        have += statSync(p).size;
      } catch {
        throw new LensError('MISSING_WEIGHTS', `weight shard ${p} is missing`, { file: path });
      }
    }
    if (have < offset) throw new LensError('TRUNCATED', `weight group ${gi} needs ${offset} bytes, its shards hold ${have}`, { file: path });
    groups.push({ paths, bytes: have });
  });

  const groupData = (gi: number): Uint8Array => {
    const g = groups[gi];
    if (!g.data) {
      const buf = new Uint8Array(g.bytes);
      let at = 0;
      for (const p of g.paths) {
        const b = readFileSync(p);
        buf.set(b.subarray(0, Math.min(b.length, g.bytes - at)), at);
        at += b.length;
      }
      g.data = buf;
    }
    return g.data;
  };

  const decode = (w: ManifestWeight): Float32Array => {
    const bytes = groupData(w.group).slice(w.offset, w.offset + w.bytes);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = w.bytes / DTYPE_BYTES[w.stored];
    const out = new Float32Array(n);
    const scale = w.scale ?? 1;
    const min = w.min ?? 0;
    for (let i = 0; i < n; i++) {
      switch (w.stored) {
        case 'float32': out[i] = view.getFloat32(i * 4, true); break;
        case 'int32': out[i] = view.getInt32(i * 4, true); break;
        case 'float16': out[i] = halfToFloat(view.getUint16(i * 2, true)); break;
        case 'uint16': out[i] = view.getUint16(i * 2, true) * scale + min; break;
        case 'uint8': out[i] = bytes[i] * scale + min; break;
        case 'bool': out[i] = bytes[i] ? 1 : 0; break;
      }
    }
    return out;
  };

  // Manifest names are `<layer>/<weight>` (possibly with more scope before them).
  const byLayer = new Map<string, ManifestWeight[]>();
  for (const w of weights) {
    const parts = w.name.split('/');
    if (parts.length < 2) continue;
    const layer = parts[parts.length - 2];
    const list = byLayer.get(layer) ?? [];
    list.push(w);
    byLayer.set(layer, list);
  }
  const provider: WeightProvider = (layer) => {
    const list = byLayer.get(layer);
    if (!list) return null;
    return list.map((w): RawWeight => ({ name: w.name, shape: w.shape, read: () => decode(w) }));
  };

  return buildKerasGraph(cfg, {
    file: path,
    format: { name: 'tfjs-layers', version, producer: convertedBy ?? generatedBy ?? (kv ? `Keras ${kv}` : undefined) },
    weights: provider,
    rangeOf: parsed.rangeOf,
    kerasMajor: kv && /^\d/.test(kv) ? kerasMajor(kv) : 2,
  });
}

function headText(head: Uint8Array): string {
  return new TextDecoder().decode(head.subarray(0, Math.min(head.length, 4096)));
}

export const tfjsLayersFormat: FormatModule = {
  name: 'tfjs-layers',
  detect(_path, head) {
    const t = headText(head).trimStart();
    return t.startsWith('{') && /"(modelTopology|weightsManifest|format|generatedBy|convertedBy)"\s*:/.test(t);
  },
  load: (path) => loadTfjsLayers(path),
};

export const format = tfjsLayersFormat;
export default tfjsLayersFormat;
