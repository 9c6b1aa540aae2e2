/**
 * Zarr v2 and v3 directory stores as a DataSource, read through zarrita (metadata, chunk keys, codec
 * pipelines) over a bounded local store (zarr-store.ts) with bounded decompressors (zarr-codecs.ts).
 * Arrays are the variables; dimension names follow xarray (`_ARRAY_DIMENSIONS` in v2 attributes,
 * `dimension_names` in v3), so CF decoding and coordinates work as for NetCDF (cf.ts, load.ts). Reads are
 * chunk-wise: a hyperslab fetches and decodes only the chunks it touches; an absent chunk is the fill value.
 * Not read: sharded arrays (refused by name), string and float16 arrays (listed as text / left out).
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import * as zarr from 'zarrita';
import { LensError } from '../errors.js';
import { checkBudget, DATA_BUDGET, overBudget } from './budget.js';
import type { NdArray, NpyDtype } from '../array.js';
import type { AttrValue, DataSource, Hyperslab, VarInfo } from './source.js';
import { product } from './source.js';
import { decodedChunkBytes, installBoundedCodecs } from './zarr-codecs.js';
import { ZarrDirectoryStore } from './zarr-store.js';

/** Largest decoded chunk read at once (a chunk is decoded whole, whatever part of it is selected). */
export const ZARR_CHUNK_BYTES = 256 * 1024 * 1024;
/** Folder depth of nested groups walked when listing a store. */
const MAX_DEPTH = 16;

const V2_MARKERS = ['.zarray', '.zgroup', '.zattrs', '.zmetadata'];

/** A folder holding Zarr metadata at its top (v2 .zarray/.zgroup/.zattrs, or v3 zarr.json). */
export async function isZarrStore(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isDirectory()) return false;
    const names = new Set(await readdir(path));
    return names.has('zarr.json') || V2_MARKERS.some((m) => names.has(m));
  } catch {
    return false;
  }
}

const DTYPES: Record<string, NpyDtype> = {
  bool: 'b1', int8: 'i1', int16: 'i2', int32: 'i4', int64: 'i8', uint8: 'u1', uint16: 'u2', uint32: 'u4', uint64: 'u8', float32: 'f4', float64: 'f8',
};

interface ZArray {
  info: VarInfo;
  array: zarr.Array<zarr.DataType, ZarrDirectoryStore>;
  chunks: number[];
  /** Why values cannot be read (listed all the same). */
  refusal?: LensError;
}

/** zarrita's errors, JSON syntax errors and store refusals as LensErrors naming the store. */
function lensError(e: unknown, file: string, what: string): LensError {
  if (e instanceof LensError) return e.withFile(file);
  const err = e as Error & { cause?: unknown };
  if (err?.name === 'CodecPipelineError' && err.cause !== undefined) return lensError(err.cause, file, what);
  if (e instanceof SyntaxError) return new LensError('BAD_JSON', `${what}: metadata is not valid JSON (${err.message})`, { file });
  if (err?.name === 'UnknownCodecError') return new LensError('UNSUPPORTED_CONFIG', `${what}: ${err.message} (read: gzip, zlib, zstd, blosc, lz4, bytes, transpose, crc32c, shuffle, delta)`, { file });
  if (err?.name === 'NotFoundError' || err?.name === 'InvalidMetadataError' || err?.name === 'UnsupportedError') return new LensError('CORRUPT', `${what}: ${err.message}`, { file });
  if (e instanceof RangeError || e instanceof TypeError) return new LensError('CORRUPT', `${what}: malformed (${err.message})`, { file });
  return new LensError('DATA_ERROR', `${what}: ${err?.message ?? String(e)}`, { file });
}

function attrValue(v: unknown): AttrValue | undefined {
  if (typeof v === 'string' || typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number')) return v.length === 1 ? v[0] : (v as number[]);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join(', ');
  return undefined;
}

function attrsOf(raw: unknown): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  if (!raw || typeof raw !== 'object') return out;
  for (const [k, v] of Object.entries(raw)) {
    if (k === '_ARRAY_DIMENSIONS') continue;
    const a = attrValue(v);
    if (a !== undefined) out[k] = a;
  }
  return out;
}

function isCount(n: unknown, min: number): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= min;
}

/** Parsed metadata document of a node ('/path' keys); BAD_JSON or CORRUPT with the key named. */
async function metadata(store: ZarrDirectoryStore, key: string, file: string): Promise<Record<string, unknown> | undefined> {
  const bytes = await store.get(key);
  if (!bytes) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: false }).decode(bytes));
  } catch (e) {
    throw new LensError('BAD_JSON', `${key.slice(1)} is not valid JSON: ${(e as Error).message}`, { file });
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new LensError('CORRUPT', `${key.slice(1)} is not a JSON object`, { file });
  return doc as Record<string, unknown>;
}

/** Shape and chunk shape from the raw metadata, checked before zarrita (or anything) sizes by them. */
function checkGeometry(meta: Record<string, unknown>, version: 2 | 3, key: string, file: string): { shape: number[]; chunks: number[] } {
  const shape = meta.shape;
  const grid = meta.chunk_grid as { name?: unknown; configuration?: { chunk_shape?: unknown } } | undefined;
  const chunks = version === 2 ? meta.chunks : grid?.configuration?.chunk_shape;
  if (!Array.isArray(shape) || !shape.every((n) => isCount(n, 0))) throw new LensError('CORRUPT', `${key}: shape ${JSON.stringify(shape)} is not a list of sizes`, { file });
  checkBudget('rank', shape.length, `rank of ${key}`, file);
  if (version === 3 && grid?.name !== 'regular') throw new LensError('UNSUPPORTED_CONFIG', `${key}: chunk grid '${String(grid?.name)}' (only the regular grid is read)`, { file });
  if (!Array.isArray(chunks) || chunks.length !== shape.length || !chunks.every((n) => isCount(n, 1))) {
    throw new LensError('CORRUPT', `${key}: chunk shape ${JSON.stringify(chunks)} does not fit shape ${JSON.stringify(shape)}`, { file });
  }
  if (version === 3 && Array.isArray(meta.codecs) && meta.codecs.some((c) => (c as { name?: unknown })?.name === 'sharding_indexed')) {
    throw new LensError('UNSUPPORTED_CONFIG', `${key}: sharded arrays (sharding_indexed) are not read; re-save without sharding`, { file });
  }
  return { shape: shape as number[], chunks: chunks as number[] };
}

export async function openZarr(path: string): Promise<DataSource> {
  installBoundedCodecs();
  const store = await ZarrDirectoryStore.open(path);
  const version: 2 | 3 = (await metadata(store, '/zarr.json', path)) ? 3 : 2;
  const arrays = new Map<string, ZArray>();
  const variables: VarInfo[] = [];
  const dims: Record<string, number> = {};
  let globalAttrs: Record<string, AttrValue> = {};
  let nodes = 0;

  const addArray = async (nodePath: string, name: string, meta: Record<string, unknown>): Promise<void> => {
    const key = nodePath === '/' ? name : nodePath.slice(1);
    const { shape, chunks } = checkGeometry(meta, version, key, path);
    const loc = zarr.root(store).resolve(nodePath);
    let array: zarr.Array<zarr.DataType, ZarrDirectoryStore>;
    try {
      array = version === 3 ? await zarr.open.v3(loc, { kind: 'array' }) : await zarr.open.v2(loc, { kind: 'array', attrs: true });
    } catch (e) {
      throw lensError(e, path, key);
    }
    const zdtype = String(array.dtype);
    const text = /^(string|v2:[USO]|v2:object)/.test(zdtype);
    const dtype = DTYPES[zdtype];
    if (!dtype && !text) return; // float16, complex, structured: not numbers we decode
    const attrs = attrsOf(array.attrs);
    const rawDims = version === 3 ? array.dimensionNames : (array.attrs as Record<string, unknown>)._ARRAY_DIMENSIONS;
    const dimNames = shape.map((n, i) => {
      const d = Array.isArray(rawDims) ? rawDims[i] : undefined;
      // Zarr (unlike NetCDF) lets two arrays give one dim name two sizes: the later one gets its own dim,
      // so it is never paired with a coordinate of another length.
      return typeof d === 'string' && d && (dims[d] === undefined || dims[d] === n) ? d : `${name}_dim${i}`;
    });
    // v2 as xarray writes it: _FillValue lives in the array's fill_value, not in its attributes.
    const fill = array.fillValue;
    if (version === 2 && !('_FillValue' in attrs) && (typeof fill === 'number' || typeof fill === 'bigint')) attrs._FillValue = Number(fill);
    dimNames.forEach((d, i) => (dims[d] ??= shape[i]));
    const info: VarInfo = { name, dims: dimNames, shape, dtype: dtype ?? 'str', attrs };
    const decoded = decodedChunkBytes(zdtype, chunks);
    let refusal: LensError | undefined;
    if (decoded > ZARR_CHUNK_BYTES) refusal = overBudget('zarr chunk', ZARR_CHUNK_BYTES, decoded, `bytes of one decoded chunk of ${key}`, path);
    // A compressed chunk is at most a little larger than its decoded bytes (headers, incompressible blocks).
    else store.limitChunks(nodePath, decoded + Math.ceil(decoded / 64) + 4096);
    variables.push(info);
    arrays.set(name, { info, array, chunks, refusal });
  };

  /** One group's children: subfolders that hold Zarr metadata, walked depth-first within budget. */
  const walk = async (dir: string, nodePath: string, prefix: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH) throw new LensError('CORRUPT', `groups nested deeper than ${MAX_DEPTH} levels`, { file: path });
    let entries: string[];
    try {
      entries = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name).sort();
    } catch (e) {
      throw new LensError('DATA_ERROR', `cannot list ${dir}: ${(e as Error).message}`, { file: path });
    }
    for (const child of entries) {
      const childPath = `${nodePath === '/' ? '' : nodePath}/${child}`;
      const meta = version === 3 ? await metadata(store, `${childPath}/zarr.json`, path) : await metadata(store, `${childPath}/.zarray`, path);
      checkBudget('variables', ++nodes, 'Zarr arrays and groups', path);
      if (version === 3 && meta?.node_type === 'group') await walk(join(dir, child), childPath, `${prefix}${child}/`, depth + 1);
      else if (meta && (version === 2 || meta.node_type === 'array')) await addArray(childPath, `${prefix}${child}`, meta);
      else if (version === 2 && (await store.get(`${childPath}/.zgroup`))) await walk(join(dir, child), childPath, `${prefix}${child}/`, depth + 1);
    }
  };

  const rootMeta = version === 3 ? await metadata(store, '/zarr.json', path) : await metadata(store, '/.zarray', path);
  const rootName = basename(path).replace(/\.zarr$/i, '') || 'array';
  if (version === 3 ? rootMeta?.node_type === 'array' : rootMeta) {
    await addArray('/', rootName, rootMeta!);
  } else {
    globalAttrs = attrsOf(version === 3 ? rootMeta?.attributes : await metadata(store, '/.zattrs', path));
    await walk(store.root, '/', '', 0);
  }

  return {
    path,
    format: 'zarr',
    dims,
    variables,
    globalAttrs,
    bytesRead: () => store.chunkBytes,
    close: async () => undefined,
    read: (name, slab) => {
      const a = arrays.get(name);
      if (!a || a.info.dtype === 'str') throw new LensError('UNKNOWN_VARIABLE', `no numeric variable ${name}`, { file: path });
      if (a.refusal) throw a.refusal;
      return readSlab(a, slab, path);
    },
  };
}

function outArray(dtype: NpyDtype, n: number): NdArray['data'] {
  switch (dtype) {
    case 'f4': return new Float32Array(n);
    case 'i1': return new Int8Array(n);
    case 'i2': return new Int16Array(n);
    case 'i4': return new Int32Array(n);
    case 'u1': case 'b1': return new Uint8Array(n);
    case 'u2': return new Uint16Array(n);
    case 'u4': return new Uint32Array(n);
    default: return new Float64Array(n); // f8; 64-bit integers as float64, exact up to 2^53 (as npy.ts)
  }
}

type ChunkData = ArrayLike<number | bigint | boolean>;

/** The chunk's values as something indexable by number (BoolArray's bytes, bigints converted on copy). */
function indexable(data: unknown): ChunkData {
  if (data instanceof zarr.BoolArray) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return data as ChunkData;
}

async function readSlab(a: ZArray, slab: Hyperslab, file: string): Promise<NdArray> {
  const { shape, name } = a.info;
  const dtype = a.info.dtype as NpyDtype;
  if (slab.length !== shape.length || slab.some(([s, e], d) => !(s >= 0 && s <= e && e <= shape[d]))) {
    throw new LensError('SELECTION_OUT_OF_RANGE', `selection ${JSON.stringify(slab)} is outside ${name}${JSON.stringify(shape)}`, { file });
  }
  const count = slab.map(([s, e]) => e - s);
  const total = product(count);
  const bytes = total * decodedChunkBytes(String(a.array.dtype), [1]);
  if (bytes > DATA_BUDGET.wholeFileBytes) throw overBudget('wholeFileBytes', DATA_BUDGET.wholeFileBytes, bytes, `bytes of a ${count.join('x')} selection of ${name}`, file);
  const out = outArray(dtype, total);
  if (total === 0) return { shape: count, data: out, dtype };
  const rank = shape.length;
  if (rank === 0) {
    const c = await chunkOf(a, [], file);
    out[0] = Number(c.data[0]);
    return { shape: count, data: out, dtype };
  }
  const ch = a.chunks;
  const first = slab.map(([s], d) => Math.floor(s / ch[d]));
  const last = slab.map(([, e], d) => Math.ceil(e / ch[d]) - 1);
  const nChunks = product(first.map((f, d) => last[d] - f + 1));
  checkBudget('slabRuns', nChunks, `chunks of a ${count.join('x')} selection of ${name}`, file);
  const outStrides = cStrides(count);
  const coords = [...first];
  for (let k = 0; k < nChunks; k++) {
    const c = await chunkOf(a, coords, file);
    // The intersection of this chunk with the slab, in array indices.
    const lo = coords.map((ci, d) => Math.max(slab[d][0], ci * ch[d]));
    const hi = coords.map((ci, d) => Math.min(slab[d][1], (ci + 1) * ch[d]));
    const inner = hi[rank - 1] - lo[rank - 1];
    const idx = [...lo];
    const rows = product(hi.slice(0, -1).map((h, d) => h - lo[d]));
    for (let r = 0; r < rows; r++) {
      let src = 0;
      let dst = 0;
      for (let d = 0; d < rank; d++) {
        src += (idx[d] - coords[d] * ch[d]) * c.stride[d];
        dst += (idx[d] - slab[d][0]) * outStrides[d];
      }
      const step = c.stride[rank - 1];
      for (let j = 0; j < inner; j++) out[dst + j] = Number(c.data[src + j * step]);
      for (let d = rank - 2; d >= 0; d--) {
        if (++idx[d] < hi[d]) break;
        idx[d] = lo[d];
      }
    }
    for (let d = rank - 1; d >= 0; d--) {
      if (++coords[d] <= last[d]) break;
      coords[d] = first[d];
    }
  }
  return { shape: count, data: out, dtype };
}

/** One decoded chunk, checked to hold exactly the values its array declares (a chunk may lie). */
async function chunkOf(a: ZArray, coords: number[], file: string): Promise<{ data: ChunkData; stride: number[] }> {
  const where = `chunk [${coords.join(', ')}] of ${a.info.name}`;
  let chunk: { data: unknown; stride: number[] };
  try {
    chunk = await a.array.getChunk(coords);
  } catch (e) {
    throw lensError(e, file, where);
  }
  const data = indexable(chunk.data);
  const want = product(a.chunks);
  if (data.length !== want) throw new LensError('CORRUPT', `${where} decodes to ${data.length} values, but its array declares chunks of ${want}`, { file });
  return { data, stride: chunk.stride };
}

function cStrides(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}
