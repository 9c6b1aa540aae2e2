/**
 * NetCDF-4 / HDF5 reader on h5wasm (the HDF5 C library in WebAssembly, with the host file system):
 * files are opened in place and `Dataset.slice` reads only the chunks a hyperslab touches, so one time
 * step of a large chunked file costs one chunk. Dimension names come from the netCDF-4 dimension
 * scales; the scales netCDF-4 adds for dimensions without a coordinate variable are not listed.
 */
import { resolve } from 'node:path';
import { LensError } from '../errors.js';
import type { NdArray, NpyDtype } from '../array.js';
import type { AttrValue, DataSource, Hyperslab, VarInfo } from './source.js';
import { product } from './source.js';
import { openRegular, readAt } from './regular-file.js';
import { checkBudget } from './budget.js';
import { guardHeap, metadataHeap, refusalCause, withHeapBudget } from '../hdf5-heap.js';

type H5Module = typeof import('h5wasm/node');
type H5 = H5Module['default'];
type H5File = InstanceType<H5['File']>;
type H5Dataset = InstanceType<H5['Dataset']>;

let h5p: Promise<H5> | undefined;

/** Load h5wasm once; errors from the C library throw instead of printing to stderr. */
async function h5(): Promise<H5> {
  h5p ??= (async () => {
    const mod = (await import('h5wasm/node')).default;
    const M = (await mod.ready) as unknown as { activate_throwing_error_handler?: () => number; HEAPU8: Uint8Array };
    M.activate_throwing_error_handler?.();
    guardHeap(M);
    return mod;
  })();
  return h5p;
}

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export function isHdf5(head: Uint8Array): boolean {
  return head.length >= 8 && HDF5_MAGIC.every((b, i) => head[i] === b);
}

/** Attributes that are HDF5/netCDF-4 plumbing, not user metadata. */
const HIDDEN_ATTRS = new Set(['DIMENSION_LIST', 'REFERENCE_LIST', 'CLASS', 'NAME', '_Netcdf4Dimid', '_Netcdf4Coordinates', '_nc3_strict', '_NCProperties']);
const PHONY_DIM = 'This is a netCDF dimension but not a netCDF variable';

function attrValue(v: unknown): AttrValue | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v.join(', ');
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    const arr = Array.from(v as unknown as ArrayLike<number | bigint>, (x) => Number(x));
    return arr.length === 1 ? arr[0] : arr;
  }
  return undefined;
}

function readAttrs(obj: { attrs: Record<string, { value: unknown }> }): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  let names: string[];
  try {
    names = Object.keys(obj.attrs);
  } catch {
    return out;
  }
  for (const name of names) {
    if (HIDDEN_ATTRS.has(name)) continue;
    try {
      const v = attrValue(obj.attrs[name].value);
      if (v !== undefined) out[name] = v;
    } catch {
      /* attribute of a type we do not decode (references, compounds): leave out */
    }
  }
  return out;
}

function dtypeOf(ds: H5Dataset): NpyDtype | 'str' | undefined {
  const m = ds.metadata as { type: number; size: number; signed: boolean };
  if (m.type === 1) return m.size === 8 ? 'f8' : m.size === 4 ? 'f4' : m.size === 2 ? 'f2' : undefined;
  if (m.type === 0) {
    const s = m.signed ? 'i' : 'u';
    return [1, 2, 4, 8].includes(m.size) ? (`${s}${m.size}` as NpyDtype) : undefined;
  }
  if (m.type === 3) return 'str';
  return undefined;
}

export async function openNetcdf4(path: string): Promise<DataSource> {
  const file = resolve(path);
  // HDF5 opens the path itself: check here that it is a regular file (not a device or FIFO), with its size.
  const { fh, size } = await openRegular(file).catch((e: unknown) => {
    throw e instanceof LensError ? new LensError(e.code, e.message, { file: path }) : e;
  });
  try {
    if (!isHdf5(await readAt(fh, 0, 8))) throw new LensError('CORRUPT', 'not an HDF5/NetCDF-4 file (bad signature)', { file: path });
  } finally {
    await fh.close();
  }
  const H = await h5();
  let f: H5File;
  try {
    f = withHeapBudget(metadataHeap(size), () => new H.File(file, 'r'));
  } catch (e) {
    throw openError(e, path, size);
  }
  try {
    return withHeapBudget(metadataHeap(size), () => build(H, f, path, size));
  } catch (e) {
    f.close();
    if (e instanceof LensError) throw e;
    throw openError(e, path, size);
  }
}

function openError(e: unknown, path: string, size: number): LensError {
  const refused = refusalCause(size);
  if (refused) return new LensError('CORRUPT', `cannot read HDF5/NetCDF-4 file: ${refused}`, { file: path });
  const msg = String(e instanceof Error ? e.message : e);
  const truncated = /truncated|eof|end of file|addr overflow/i.test(msg);
  const first = msg.split('\n').find((l) => /minor:/.test(l))?.replace(/.*minor:\s*/, '') ?? msg.split('\n')[0];
  return new LensError(truncated ? 'TRUNCATED' : 'CORRUPT', `cannot read HDF5/NetCDF-4 file (${size} bytes): ${truncated ? 'file is truncated' : first.trim()}`, { file: path });
}

function build(H: H5, f: H5File, path: string, size: number): DataSource {
  const datasets = new Map<string, H5Dataset>();
  const variables: VarInfo[] = [];
  const dims: Record<string, number> = {};

  let objects = 0;
  const walk = (group: InstanceType<H5['Group']>, prefix: string): void => {
    for (const key of group.keys()) {
      // Groups and datasets together: a file of many (or deeply nested) objects is listed within budget.
      checkBudget('variables', ++objects, 'HDF5 groups and datasets', path);
      const obj = group.get(key);
      if (obj instanceof H.Group) walk(obj, `${prefix}${key}/`);
      else if (obj instanceof H.Dataset) {
        const shape = obj.shape ?? [];
        const rawAttrs = obj.attrs as Record<string, { value: unknown }>;
        let phony = false;
        try {
          const name = rawAttrs.NAME?.value;
          phony = typeof name === 'string' && name.startsWith(PHONY_DIM);
        } catch {
          /* no NAME */
        }
        const dimNames = shape.map((_, i) => {
          let scales: string[] = [];
          try {
            scales = obj.get_attached_scales(i);
          } catch {
            /* not attached */
          }
          const nm = scales[0]?.split('/').pop();
          return nm ? `${prefix}${nm}`.replace(/^\//, '') : shape.length === 1 && (phony || isScale(rawAttrs)) ? `${prefix}${key}` : `${prefix}${key}_dim${i}`;
        });
        dimNames.forEach((d, i) => (dims[d] = shape[i]));
        if (phony) continue;
        const dtype = dtypeOf(obj);
        if (!dtype) continue;
        // netCDF-4 renames a variable that shares a dim's name without being its coordinate.
        const name = `${prefix}${key.replace(/^_nc4_non_coord_/, '')}`;
        datasets.set(name, obj);
        variables.push({ name, dims: dimNames, shape, dtype, attrs: readAttrs(obj as never) });
      }
    }
  };
  walk(f, '');
  const infoOf = new Map(variables.map((v) => [v.name, v]));
  return {
    path,
    format: 'netcdf4',
    dims,
    variables,
    globalAttrs: readAttrs(f as never),
    bytesRead: () => -1,
    close: async () => {
      f.close();
    },
    async read(name: string, slab: Hyperslab): Promise<NdArray> {
      const ds = datasets.get(name);
      const info = infoOf.get(name);
      if (!ds || !info || info.dtype === 'str') throw new LensError('UNKNOWN_VARIABLE', `no numeric variable ${name}`, { file: path });
      const dtype = info.dtype as NpyDtype;
      const shape = slab.map(([a, b]) => b - a);
      if (product(shape) === 0) return { shape, data: new Float32Array(0), dtype: 'f4' };
      let raw: unknown;
      try {
        // The slab's size is the caller's (checked against LIMITS): twice it at 8 bytes a value covers HDF5's
        // conversion buffer; a compressed chunk is inflated whole, so three chunks cover the chunk, its packed
        // bytes and the cache. A budget, not an allocation: only what HDF5 really asks for is taken.
        const bytes = 2 * product(shape) * 8 + 3 * Math.min(chunkBytes(ds), 2 ** 30);
        raw = withHeapBudget(bytes + metadataHeap(size), () =>
          info.shape.length === 0 ? ds.value : ds.slice(slab.map(([a, b]) => [a, b] as [number, number])),
        );
      } catch (e) {
        throw openError(e, path, size);
      }
      let data: NdArray['data'];
      if (raw instanceof BigInt64Array || raw instanceof BigUint64Array) data = Float64Array.from(raw, (x) => Number(x));
      else if (typeof raw === 'number') data = Float64Array.of(raw);
      else if (typeof raw === 'bigint') data = Float64Array.of(Number(raw));
      else if (ArrayBuffer.isView(raw) && !(raw instanceof DataView) && !(raw instanceof Uint8ClampedArray)) data = raw as NdArray['data'];
      else throw new LensError('DATA_ERROR', `variable ${name}: unsupported stored type`, { file: path });
      return { shape, data, dtype };
    },
  };
}

/** Bytes of one chunk as declared (0 for a contiguous dataset). */
function chunkBytes(ds: H5Dataset): number {
  const m = ds.metadata as { chunks?: number[] | null; size: number };
  return m.chunks ? m.chunks.reduce((a, d) => a * d, m.size) : 0;
}

function isScale(attrs: Record<string, { value: unknown }>): boolean {
  try {
    return attrs.CLASS?.value === 'DIMENSION_SCALE';
  } catch {
    return false;
  }
}
