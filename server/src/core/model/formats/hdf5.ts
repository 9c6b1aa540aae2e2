/**
 * Opening HDF5 files with h5wasm (node build: files are read straight from disk) and reading Keras'
 * attributes and weight datasets safely: the superblock is checked before HDF5 sees the file (a
 * truncated file is TRUNCATED, not a wall of HDF5 diagnostics), declared dataset sizes are checked
 * against LIMITS and the file size before any value is read.
 */
import { closeSync, openSync, readSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import h5wasm from 'h5wasm/node';
import type { Dataset, File as H5File, Group } from 'h5wasm';
import { LensError, LIMITS } from '../../errors.js';
import { halfToFloat } from '../../half.js';
import { fileSize } from './model-file.js';
import { guardHeap, HEAP_SLACK, metadataHeap, refusalCause, withHeapBudget } from '../../hdf5-heap.js';

export type { Dataset, Group, H5File };

export const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export function isHdf5(head: Uint8Array): boolean {
  if (head.length < 8) return false;
  return HDF5_SIGNATURE.every((b, k) => head[k] === b);
}

/** The end-of-file address the superblock declares (offset size 8 only; undefined when unknown). */
function declaredEof(head: Uint8Array): number | undefined {
  const version = head[8];
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let at: number;
  if (version === 0 || version === 1) {
    if (head[13] !== 8) return undefined;
    at = version === 0 ? 40 : 44;
  } else if (version === 2 || version === 3) {
    if (head[9] !== 8) return undefined;
    at = 28;
  } else return undefined;
  if (head.length < at + 8) return undefined;
  const eof = view.getBigUint64(at, true);
  if (eof === 0xffffffffffffffffn) return undefined;
  return Number(eof);
}

type H5Module = { activate_throwing_error_handler(): number; deactivate_throwing_error_handler(): number; HEAPU8: Uint8Array };

/**
 * Run synchronous HDF5 work with the library's errors thrown as exceptions instead of printed to
 * stderr (HDF5-DIAG). Switched back afterwards: other h5wasm users in the process keep the default.
 */
let h5module: H5Module | undefined;

/** Wait for the wasm module (once) and keep it for `quietly`; its heap gets the budget guard. */
export async function h5Ready(): Promise<void> {
  if (h5module) return;
  h5module = (await h5wasm.ready) as unknown as H5Module;
  guardHeap(h5module);
}

/** `fn` with HDF5's errors thrown (not printed) and, when given, a heap budget. */
export function quietly<T>(fn: () => T, heap?: number): T {
  const m = h5module;
  const on = typeof m?.activate_throwing_error_handler === 'function';
  if (on) m.activate_throwing_error_handler();
  try {
    return heap === undefined ? fn() : withHeapBudget(heap, fn);
  } finally {
    if (on) m.deactivate_throwing_error_handler();
  }
}

/** The innermost cause from an HDF5 diagnostic stack (the whole text is long). */
export function hdf5Cause(message: string): string {
  const frames = [...message.matchAll(/#\d+: .*? in ([\w.]+\(\)): (.*)$/gm)];
  return frames.length ? frames[frames.length - 1][2].trim() : message.split('\n')[0];
}

export interface OpenedH5 {
  file: H5File;
  size: number;
  close(): void;
}

/** Open an HDF5 file read-only after checking its signature and declared length. */
export async function openH5(path: string): Promise<OpenedH5> {
  const size = fileSize(path);
  const head = new Uint8Array(64);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, head, 0, 64, 0);
  } finally {
    closeSync(fd);
  }
  if (!isHdf5(head)) throw new LensError('CORRUPT', 'not an HDF5 file (no HDF5 signature at the start)', { file: path });
  const eof = declaredEof(head);
  if (eof !== undefined && eof > size) {
    throw new LensError('TRUNCATED', `HDF5 file is truncated: ${size} bytes on disk, its header declares ${eof}`, { file: path });
  }
  await h5Ready();
  let file: H5File;
  try {
    file = quietly(() => new h5wasm.File(path, 'r'), metadataHeap(size));
  } catch (e) {
    const cause = refusalCause(size) ?? hdf5Cause(e instanceof Error ? e.message : String(e));
    throw new LensError('CORRUPT', `HDF5 library could not open the file: ${cause}`, { file: path });
  }
  if (file.file_id < 0n) throw new LensError('CORRUPT', 'HDF5 library could not open the file', { file: path });
  let closed = false;
  return {
    file,
    size,
    close() {
      if (!closed) {
        closed = true;
        try {
          quietly(() => file.close());
        } catch {
          /* already unusable: nothing to release */
        }
      }
    },
  };
}

/** Open HDF5 bytes (an entry of a zip) through a private temp file, removed when closed. */
export async function openH5Bytes(bytes: Uint8Array, label: string): Promise<OpenedH5> {
  const tmp = join(tmpdir(), `lrp-lens-${process.pid}-${randomBytes(6).toString('hex')}.h5`);
  writeFileSync(tmp, bytes, { mode: 0o600 });
  try {
    const h = await openH5(tmp);
    return {
      file: h.file,
      size: h.size,
      close() {
        h.close();
        try {
          unlinkSync(tmp);
        } catch {
          /* gone already */
        }
      },
    };
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* gone already */
    }
    if (e instanceof LensError) throw new LensError(e.code, `${label}: ${e.message}`, { hint: e.hint });
    throw e;
  }
}

export function isGroup(x: unknown): x is Group {
  return x instanceof h5wasm.Group;
}

export function isDataset(x: unknown): x is Dataset {
  return x instanceof h5wasm.Dataset;
}

/** Child entity, or null where it is missing or unreadable. */
export function child(g: Group, name: string): unknown {
  try {
    if (!g.keys().includes(name)) return null;
    return g.get(name);
  } catch {
    return null;
  }
}

/** Get a path like `a/b/c:0` below a group, or null. Walks one segment at a time (names may hold ':'). */
export function getPath(g: Group, path: string): unknown {
  let cur: unknown = g;
  for (const seg of path.split('/').filter((s) => s.length > 0)) {
    if (!isGroup(cur)) return null;
    cur = child(cur, seg);
    if (cur === null) return null;
  }
  return cur;
}

function attrNames(obj: Group | Dataset): string[] {
  try {
    return Object.keys(obj.attrs);
  } catch {
    return [];
  }
}

/** A string attribute (vlen or fixed, str or bytes); undefined when absent. */
export function attrString(obj: Group | Dataset, name: string): string | undefined {
  if (!attrNames(obj).includes(name)) return undefined;
  const v = obj.attrs[name].value;
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return new TextDecoder().decode(v);
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') return v[0];
  return undefined;
}

/** A list-of-strings attribute (Keras layer_names / weight_names); [] for an empty one. */
export function attrStringList(obj: Group | Dataset, name: string): string[] | undefined {
  if (!attrNames(obj).includes(name)) return undefined;
  const v = obj.attrs[name].value;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : x instanceof Uint8Array ? new TextDecoder().decode(x) : String(x)));
  if (ArrayBuffer.isView(v) && (v as unknown as { length: number }).length === 0) return [];
  return undefined;
}

export interface DatasetInfo {
  shape: number[];
  /** Bytes the values take once read. */
  bytes: number;
  /** Whether the stored data is filtered (compressed): then the file may hold fewer bytes. */
  filtered: boolean;
}

export function datasetInfo(ds: Dataset, where: { file?: string; layer?: string }): DatasetInfo {
  const md = ds.metadata;
  const shape = md.shape ?? [];
  let elements = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new LensError('CORRUPT', `dataset has an invalid shape ${JSON.stringify(shape)}`, where);
    elements *= d;
  }
  if (elements > LIMITS.maxTensorElements) {
    throw new LensError('SHAPE_LIMIT', `weight of shape [${shape.join(', ')}] has ${elements} elements, more than the limit ${LIMITS.maxTensorElements}`, where);
  }
  let filtered = false;
  try {
    filtered = ds.filters.length > 0;
  } catch {
    filtered = false;
  }
  return { shape, bytes: elements * md.size, filtered };
}

/**
 * Read a float dataset as float32 after checking its declared size; float16/float64 are converted.
 * `budget` tracks the total weight bytes of the model against LIMITS and the file size.
 */
export function readFloat32(
  ds: Dataset,
  budget: { used: number; fileSize: number },
  where: { file?: string; layer?: string },
  label: string,
): { shape: number[]; data: Float32Array } {
  const info = datasetInfo(ds, where);
  const md = ds.metadata;
  if (md.type !== 1) throw new LensError('WEIGHT_MISMATCH', `weight ${label} is not a float array (HDF5 type class ${md.type})`, where);
  budget.used += info.bytes;
  if (budget.used > LIMITS.maxWeightBytes) {
    throw new LensError('SHAPE_LIMIT', `model weights exceed ${LIMITS.maxWeightBytes} bytes`, where);
  }
  if (!info.filtered && info.bytes > budget.fileSize) {
    throw new LensError('SHAPE_LIMIT', `weight ${label} declares ${info.bytes} bytes, more than the whole file holds (${budget.fileSize})`, where);
  }
  let v: unknown;
  try {
    // Its declared size is checked above; twice it covers HDF5's conversion buffer.
    v = withHeapBudget(2 * info.bytes + HEAP_SLACK, () => ds.value);
  } catch (e) {
    if (md.size === 2) throw new LensError('WEIGHT_MISMATCH', `weight ${label} is stored as float16, which this HDF5 reader cannot decode`, where);
    const cause = refusalCause(budget.fileSize) ?? hdf5Cause(e instanceof Error ? e.message : String(e));
    throw new LensError('CORRUPT', `cannot read weight ${label}: ${cause}`, where);
  }
  const n = info.bytes / md.size;
  let data: Float32Array;
  if (v instanceof Float32Array) data = v;
  else if (v instanceof Float64Array) data = Float32Array.from(v);
  else if (v instanceof Uint16Array && md.size === 2) data = Float32Array.from(v, halfToFloat);
  else if (typeof v === 'number' && n === 1) data = Float32Array.of(v);
  else if (v && typeof v === 'object' && 'length' in v && md.size === 2) {
    // Newer runtimes may hand back a Float16Array.
    data = Float32Array.from(v as ArrayLike<number>);
  } else throw new LensError('WEIGHT_MISMATCH', `weight ${label} has an unsupported element type (size ${md.size})`, where);
  if (data.length !== n) throw new LensError('CORRUPT', `weight ${label}: read ${data.length} values, expected ${n}`, where);
  return { shape: info.shape, data };
}
