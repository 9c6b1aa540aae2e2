/**
 * .npy and .npz as data sources. A C-order .npy is read lazily (header first, then only the runs a
 * selection touches); a Fortran-order one is read whole. An .npz is a zip of .npy members, stored or
 * deflated: sizes and names are checked before anything is inflated (zip-bomb and path guards), listing
 * inflates only each member's header, and only the member asked for is inflated, all within one budget of
 * inflated bytes per opened source (budget.ts).
 */
import { basename } from 'node:path';
import { Inflate } from 'fflate';
import { LensError } from '../errors.js';
import { DATA_BUDGET, checkBudget, overBudget } from './budget.js';
import { readRegular } from './regular-file.js';
import { ByteReader, readSlabBytes, sliceArray } from './hyperslab.js';
import { ITEM_SIZE, decodeBytes, parseNpyHeader, readNpy } from './npy.js';
import type { NdArray } from '../array.js';
import type { DataSource, Hyperslab, VarInfo } from './source.js';
import { product } from './source.js';
import { ZipArchive, type ZipEntry } from '../model/formats/zip.js';

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
    checkBudget('npyHeaderBytes', hlen - (pre[6] === 1 ? 10 : 12), '.npy header length in bytes', file);
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

/** Bytes of a member's start that hold any .npy header within budget (magic, version, length, text). */
const NPY_HEAD_BYTES = 12 + DATA_BUDGET.npyHeaderBytes;
/** Compressed bytes pushed to the inflater at a time while looking for a header (deflate expands at most ~1032x). */
const HEAD_CHUNK = 128;

/** Where a member's stored bytes start (after its local header). */
function dataStart(bytes: Uint8Array, e: ZipEntry, file: string): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (e.localOffset + 30 > bytes.length || view.getUint32(e.localOffset, true) !== 0x04034b50) {
    throw new LensError('CORRUPT', `zip entry ${e.name}: local header is damaged`, { file });
  }
  const start = e.localOffset + 30 + view.getUint16(e.localOffset + 26, true) + view.getUint16(e.localOffset + 28, true);
  if (start + e.compressedSize > bytes.length) throw new LensError('TRUNCATED', `zip entry ${e.name} is cut off`, { file });
  return start;
}

/**
 * The first bytes of a member, enough for its .npy header: a stored member is sliced; a deflated one is
 * inflated a small chunk at a time and stopped as soon as the header is complete, so listing an archive
 * costs its headers, not its members. `spent` learns how many bytes were inflated.
 */
function memberHead(bytes: Uint8Array, e: ZipEntry, file: string, spent: (n: number) => void): Uint8Array {
  const start = dataStart(bytes, e, file);
  const raw = bytes.subarray(start, start + e.compressedSize);
  if (e.method === 0) return raw.subarray(0, Math.min(raw.length, NPY_HEAD_BYTES));
  const parts: Uint8Array[] = [];
  let have = 0;
  let want = 12;
  const inf = new Inflate((chunk) => {
    parts.push(chunk);
    have += chunk.length;
  });
  try {
    for (let p = 0; p < raw.length && have < want; p += HEAD_CHUNK) {
      inf.push(raw.subarray(p, Math.min(raw.length, p + HEAD_CHUNK)), p + HEAD_CHUNK >= raw.length);
      if (have >= 12 && want === 12) {
        const head = concat(parts, have);
        want = head[6] === 1 ? 10 + (head[8] | (head[9] << 8)) : 12 + new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(8, true);
        if (want > NPY_HEAD_BYTES) break; // parseNpyHeader names the budget
      }
    }
  } catch (err) {
    throw new LensError('CORRUPT', `zip entry ${e.name} does not inflate: ${err instanceof Error ? err.message : String(err)}`, { file });
  }
  spent(have);
  return concat(parts, have).subarray(0, Math.min(have, NPY_HEAD_BYTES));
}

function concat(parts: Uint8Array[], n: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  parts.splice(0, parts.length, out);
  return out;
}

/** `inflatedBudget`: DATA_BUDGET.inflatedBytes unless a caller (a test) asks for less. */
export async function openNpz(file: string, inflatedBudget: number = DATA_BUDGET.inflatedBytes): Promise<DataSource> {
  const bytes = await readRegular(file, 'wholeFileBytes');
  if (!isZip(bytes)) throw new LensError('CORRUPT', 'not an .npz file (no zip signature)', { file });
  // The central directory is checked whole (names, declared sizes, ratios) before anything is inflated.
  const zip = ZipArchive.open(bytes, file);
  const entries = zip.entries.filter((e) => e.name.endsWith('.npy'));
  checkBudget('variables', entries.length, `.npy members in ${file}`, file);
  const variables: VarInfo[] = [];
  const byName = new Map<string, ZipEntry>();
  let inflated = 0;
  for (const e of entries) {
    const name = e.name.replace(/\.npy$/, '');
    const head = memberHead(bytes, e, file, (n) => {
      inflated += n;
      if (inflated > inflatedBudget) throw overBudget('inflatedBytes', inflatedBudget, inflated, `bytes inflated from ${file} to read its headers`, file);
    });
    const h = rethrowAs(() => parseNpyHeader(head, `${file}:${e.name}`));
    variables.push({ name, dims: dimNames(h.shape.length).map((d) => `${name}_${d}`), shape: h.shape, dtype: h.dtype, attrs: {} });
    byName.set(name, e);
  }
  const dims: Record<string, number> = {};
  for (const v of variables) v.dims.forEach((d, i) => (dims[d] = v.shape[i]));
  let read = 0;
  // The member read last, kept decoded: a pipeline reads one array several times (coordinates, slices).
  let last: { name: string; array: NdArray } | undefined;
  return {
    path: file,
    format: 'npz',
    dims,
    variables,
    globalAttrs: {},
    bytesRead: () => read,
    close: async () => {
      last = undefined;
    },
    async read(name: string, slab: Hyperslab): Promise<NdArray> {
      const e = byName.get(name);
      if (!e) throw new LensError('UNKNOWN_VARIABLE', `no array ${name} in .npz`, { file });
      let a = last?.name === name ? last.array : undefined;
      if (!a) {
        // The total inflated over this source's life is bounded, not only each member.
        if (inflated + e.size > inflatedBudget) throw overBudget('inflatedBytes', inflatedBudget, inflated + e.size, `bytes inflated from ${file} with member ${e.name}`, file);
        const data = zip.read(e.name)!;
        inflated += data.length;
        read += data.length;
        a = rethrowAs(() => readNpy(data, `${file}:${e.name}`));
        last = { name, array: a };
      }
      const same = slab.every(([s, t], i) => s === 0 && t === a.shape[i]);
      // A copy of the whole: callers own what read() returns.
      return same ? { ...a, data: a.data.slice() } : { shape: slab.map(([s, t]) => t - s), data: sliceArray(a.data, a.shape, slab), dtype: a.dtype };
    },
  };
}
