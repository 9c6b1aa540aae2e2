/**
 * .npy and .npz as data sources. A C-order .npy is read lazily (header first, then only the runs a
 * selection touches); a Fortran-order one is read whole. An .npz is a zip of .npy members, stored or
 * deflated: sizes and names are checked before anything is inflated (zip-bomb and path guards), and
 * only the member asked for is inflated.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { unzipSync, type UnzipFileInfo } from 'fflate';
import { LensError, LIMITS } from '../errors.js';
import { ByteReader, readSlabBytes, sliceArray } from './hyperslab.js';
import { ITEM_SIZE, decodeBytes, parseNpyHeader, readNpy, type NdArray } from './npy.js';
import type { DataSource, Hyperslab, VarInfo } from './source.js';
import { product } from './source.js';
import { unsafeName } from '../model/formats/zip.js';

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

export function isNpy(head: Uint8Array): boolean {
  return head.length >= 6 && NPY_MAGIC.every((b, i) => head[i] === b);
}

export function isZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5) && (head[3] === 4 || head[3] === 6);
}

function dimNames(rank: number): string[] {
  return Array.from({ length: rank }, (_, i) => `dim_${i}`);
}

/** The array name of a .npy file: its base name without extension. */
export function npyVarName(file: string): string {
  return basename(file).replace(/\.npy$/i, '');
}

export async function openNpy(file: string): Promise<DataSource> {
  const r = await ByteReader.open(file);
  try {
    const pre = await r.read(0, Math.min(r.size, 12));
    if (!isNpy(pre)) throw new LensError('CORRUPT', 'not a .npy file (bad magic)', { file });
    if (pre.length < 10) throw new LensError('TRUNCATED', '.npy header ends early', { file });
    const view = new DataView(pre.buffer);
    const hlen = pre[6] === 1 ? view.getUint16(8, true) + 10 : view.getUint32(8, true) + 12;
    if (hlen > 1 << 20) throw new LensError('CORRUPT', `.npy header of ${hlen} bytes is implausible`, { file });
    const headBytes = await r.read(0, Math.min(r.size, hlen));
    r.bytes = 0;
    const h = rethrowAs(() => parseNpyHeader(headBytes, file));
    const name = npyVarName(file);
    const info: VarInfo = { name, dims: dimNames(h.shape.length), shape: h.shape, dtype: h.dtype, attrs: {} };
    const need = h.dataOffset + product(h.shape) * ITEM_SIZE[h.dtype];
    if (need > r.size) {
      await r.close();
      throw new LensError('TRUNCATED', `.npy data end early: header declares ${need} bytes, file has ${r.size}`, { file });
    }
    const dims: Record<string, number> = {};
    info.dims.forEach((d, i) => (dims[d] = h.shape[i]));
    return {
      path: file,
      format: 'npy',
      dims,
      variables: [info],
      globalAttrs: {},
      bytesRead: () => r.bytes,
      close: () => r.close(),
      async read(v: string, slab: Hyperslab): Promise<NdArray> {
        if (v !== name) throw new LensError('UNKNOWN_VARIABLE', `no array ${v}`, { file });
        const shape = slab.map(([a, b]) => b - a);
        if (h.fortran && h.shape.length > 1) {
          const whole = readNpy(await r.read(0, need), file);
          return { shape, data: sliceArray(whole.data, whole.shape, slab), dtype: h.dtype };
        }
        const bytes = await readSlabBytes(r, h.dataOffset, h.shape, ITEM_SIZE[h.dtype], slab);
        return { shape, data: decodeBytes(bytes, h.dtype, h.littleEndian), dtype: h.dtype };
      },
    };
  } catch (e) {
    await r.close().catch(() => undefined);
    throw e;
  }
}

/** readNpy reports every header problem as BAD_INPUT; inside a data file that means a corrupt file. */
function rethrowAs<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof LensError && e.code === 'BAD_INPUT') {
      throw new LensError(/truncated/.test(e.message) ? 'TRUNCATED' : 'CORRUPT', e.message, { file: e.file });
    }
    throw e;
  }
}

/** Check one zip entry before inflating it: throws ZIP_UNSAFE for bombs and path tricks. */
function guard(f: UnzipFileInfo, file: string): void {
  if (unsafeName(f.name)) throw new LensError('ZIP_UNSAFE', `zip entry name '${f.name}' points outside the archive`, { file });
  if (f.originalSize > LIMITS.maxZipEntryBytes) {
    throw new LensError('ZIP_UNSAFE', `zip entry ${f.name} declares ${f.originalSize} bytes uncompressed (limit ${LIMITS.maxZipEntryBytes})`, { file });
  }
  // Ratio only matters for large members: small arrays of zeros legitimately compress very well.
  if (f.originalSize > 64 * 1024 * 1024 && f.originalSize / Math.max(1, f.size) > LIMITS.maxZipRatio) {
    throw new LensError('ZIP_UNSAFE', `zip entry ${f.name} expands ${Math.round(f.originalSize / Math.max(1, f.size))}x (limit ${LIMITS.maxZipRatio}x)`, { file });
  }
}

function unzipOne(bytes: Uint8Array, file: string, want: (name: string) => boolean): Record<string, Uint8Array> {
  let total = 0;
  try {
    return unzipSync(bytes, {
      filter: (f) => {
        guard(f, file);
        total += f.originalSize;
        if (total > LIMITS.maxZipEntryBytes) throw new LensError('ZIP_UNSAFE', `zip entries declare more than ${LIMITS.maxZipEntryBytes} bytes in total`, { file });
        return want(f.name);
      },
    });
  } catch (e) {
    if (e instanceof LensError) throw e;
    const msg = e instanceof Error ? e.message : String(e);
    throw new LensError(/unexpected EOF|end/i.test(msg) ? 'TRUNCATED' : 'CORRUPT', `unreadable .npz (zip): ${msg}`, { file });
  }
}

export async function openNpz(file: string): Promise<DataSource> {
  const st = await stat(file).catch(() => undefined);
  if (!st) throw new LensError('FILE_NOT_FOUND', `no such file: ${file}`, { file });
  if (st.size > LIMITS.maxZipEntryBytes) throw new LensError('FILE_TOO_LARGE', `.npz of ${st.size} bytes is larger than ${LIMITS.maxZipEntryBytes}`, { file });
  const bytes = new Uint8Array(await readFile(file));
  if (!isZip(bytes)) throw new LensError('CORRUPT', 'not an .npz file (no zip signature)', { file });
  // Listing: inflate each member once to read its header, keep only the header.
  const members = unzipOne(bytes, file, (n) => n.endsWith('.npy'));
  const variables: VarInfo[] = [];
  const keyOf = new Map<string, string>();
  for (const [entry, data] of Object.entries(members)) {
    const name = entry.replace(/\.npy$/, '');
    const h = rethrowAs(() => parseNpyHeader(data.subarray(0, Math.min(data.length, 1 << 20)), `${file}:${entry}`));
    variables.push({ name, dims: dimNames(h.shape.length).map((d) => `${name}_${d}`), shape: h.shape, dtype: h.dtype, attrs: {} });
    keyOf.set(name, entry);
  }
  const dims: Record<string, number> = {};
  for (const v of variables) v.dims.forEach((d, i) => (dims[d] = v.shape[i]));
  let read = 0;
  return {
    path: file,
    format: 'npz',
    dims,
    variables,
    globalAttrs: {},
    bytesRead: () => read,
    close: async () => undefined,
    async read(name: string, slab: Hyperslab): Promise<NdArray> {
      const entry = keyOf.get(name);
      if (!entry) throw new LensError('UNKNOWN_VARIABLE', `no array ${name} in .npz`, { file });
      const data = unzipOne(bytes, file, (n) => n === entry)[entry];
      read += data.length;
      const a = rethrowAs(() => readNpy(data, `${file}:${entry}`));
      const same = slab.every(([s, e], i) => s === 0 && e === a.shape[i]);
      return same ? a : { shape: slab.map(([s, e]) => e - s), data: sliceArray(a.data, a.shape, slab), dtype: a.dtype };
    },
  };
}

