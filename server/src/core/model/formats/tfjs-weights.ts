/**
 * TF.js `weightsManifest` reading, shared by the layers and the graph model readers: several groups, each
 * a run of shard files read back to back; float32/int32/bool, and uint8/uint16/float16-quantized values
 * dequantized to float32. Sizes are checked against the limits and the shards before anything is read.
 */
import { statSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { LensError, LIMITS } from '../../errors.js';
import { halfToFloat } from '../../half.js';
import { ownTable } from '../../own-table.js';

const DTYPE_BYTES: Record<string, number> = ownTable({ float32: 4, int32: 4, float16: 2, uint16: 2, uint8: 1, bool: 1 });

type Obj = { [k: string]: unknown };
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

export interface ManifestWeight {
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

export interface WeightsManifest {
  weights: ManifestWeight[];
  /** The values of one entry as float32 (dequantized; int32 exact up to 2^24). */
  decode(w: ManifestWeight): Float32Array;
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

/** Parse `manifest` (model.json's weightsManifest, shard paths relative to `path`'s folder). */
export function readWeightsManifest(manifest: unknown, path: string): WeightsManifest {
  const list = Array.isArray(manifest) ? manifest : [];
  const dir = dirname(path);
  const groups: { paths: string[]; bytes: number; data?: Uint8Array }[] = [];
  const weights: ManifestWeight[] = [];
  let total = 0;
  list.forEach((g, gi) => {
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
        buf.set(b.subarray(0, Math.max(0, Math.min(b.length, g.bytes - at))), at);
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

  return { weights, decode };
}
