/**
 * NetCDF-3 reader (classic CDF-1, 64-bit offset CDF-2 and CDF-5), lazy: the header is parsed once and
 * each read fetches only the bytes of the requested hyperslab through a file handle. Our own reader
 * rather than netcdfjs because netcdfjs loads the whole file into memory.
 * Format: https://docs.unidata.ucar.edu/netcdf-c/current/file_format_specifications.html
 */
import { LensError } from '../errors.js';
import { ITEM_SIZE, decodeBytes } from './npy.js';
import type { NpyDtype } from '../array.js';
import { ByteReader, readSlabBytes, sliceArray } from './hyperslab.js';
import { checkBudget } from './budget.js';
import type { AttrValue, DataSource, Hyperslab, VarInfo } from './source.js';
import { product } from './source.js';

const NC_DIMENSION = 0x0a;
const NC_VARIABLE = 0x0b;
const NC_ATTRIBUTE = 0x0c;

/** nc_type -> NumPy dtype (2 = char). */
const TYPES: Record<number, NpyDtype | 'S1'> = {
  1: 'i1', 2: 'S1', 3: 'i2', 4: 'i4', 5: 'f4', 6: 'f8', 7: 'u1', 8: 'u2', 9: 'u4', 10: 'i8', 11: 'u8',
};

const MAX_HEADER = 64 * 1024 * 1024;

class NeedMore extends Error {}

interface Nc3Var extends VarInfo {
  begin: number;
  isRecord: boolean;
  /** Bytes of one record of this variable including padding (record vars). */
  slabBytes: number;
}

class Cursor {
  pos = 0;
  private view: DataView;
  constructor(private bytes: Uint8Array, private readonly v: number, private file: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number): void {
    if (this.pos + n > this.bytes.length) throw new NeedMore();
  }
  u32(): number {
    this.need(4);
    const x = this.view.getUint32(this.pos, false);
    this.pos += 4;
    return x;
  }
  u64(): number {
    this.need(8);
    const x = Number(this.view.getBigUint64(this.pos, false));
    this.pos += 8;
    return x;
  }
  /** A count: 4 bytes, 8 in CDF-5. */
  nelems(): number {
    const n = this.v === 5 ? this.u64() : this.u32();
    if (n > 1e8) throw new LensError('CORRUPT', `implausible NetCDF-3 header count ${n}`, { file: this.file });
    return n;
  }
  offset(): number {
    return this.v === 1 ? this.u32() : this.u64();
  }
  name(): string {
    const n = this.nelems();
    this.need(pad4(n));
    const s = new TextDecoder('utf-8').decode(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += pad4(n);
    return s;
  }
  values(type: number, n: number): AttrValue {
    const dtype = TYPES[type];
    if (!dtype) throw new LensError('CORRUPT', `unknown NetCDF type ${type}`, { file: this.file });
    if (dtype === 'S1') {
      this.need(pad4(n));
      const s = new TextDecoder('utf-8').decode(this.bytes.subarray(this.pos, this.pos + n)).replace(/\0+$/, '');
      this.pos += pad4(n);
      return s;
    }
    const size = ITEM_SIZE[dtype] * n;
    this.need(pad4(size));
    const arr = Array.from(decodeBytes(this.bytes.slice(this.pos, this.pos + size), dtype, false) as ArrayLike<number>);
    this.pos += pad4(size);
    return arr.length === 1 ? arr[0] : arr;
  }
  attrs(): Record<string, AttrValue> {
    const tag = this.u32();
    const n = this.nelems();
    if (tag === 0 && n === 0) return {};
    if (tag !== NC_ATTRIBUTE) throw new LensError('CORRUPT', 'NetCDF-3 header: attribute list expected', { file: this.file });
    const out: Record<string, AttrValue> = {};
    for (let i = 0; i < n; i++) {
      const name = this.name();
      const type = this.u32();
      const count = this.nelems();
      out[name] = this.values(type, count);
    }
    return out;
  }
}

function pad4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

export function isNetcdf3(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x43 && head[1] === 0x44 && head[2] === 0x46 && [1, 2, 5].includes(head[3]);
}

export async function openNetcdf3(file: string): Promise<DataSource> {
  const r = await ByteReader.open(file);
  try {
    return await parse(r, file);
  } catch (e) {
    await r.close();
    throw e;
  }
}

async function parse(r: ByteReader, file: string): Promise<DataSource> {
  let len = Math.min(r.size, 65536);
  for (;;) {
    const head = await r.read(0, len);
    r.bytes = 0; // header bytes do not count as variable data
    try {
      return build(r, file, head);
    } catch (e) {
      if (!(e instanceof NeedMore)) throw e;
      if (len >= r.size) throw new LensError('TRUNCATED', 'NetCDF-3 header ends early: the file is truncated', { file });
      if (len >= MAX_HEADER) throw new LensError('CORRUPT', 'NetCDF-3 header larger than 64 MiB', { file });
      len = Math.min(r.size, len * 4);
    }
  }
}

function build(r: ByteReader, file: string, head: Uint8Array): DataSource {
  if (!isNetcdf3(head)) throw new LensError('CORRUPT', 'not a NetCDF-3 file (bad magic)', { file });
  const version = head[3];
  const c = new Cursor(head, version, file);
  c.pos = 4;
  let numrecs = version === 5 ? c.u64() : c.u32();
  const streaming = numrecs === 0xffffffff;
  // dimensions
  const dimNames: string[] = [];
  const dimSizes: number[] = [];
  let recordDim = -1;
  {
    const tag = c.u32();
    const n = c.nelems();
    if (!(tag === 0 && n === 0)) {
      if (tag !== NC_DIMENSION) throw new LensError('CORRUPT', 'NetCDF-3 header: dimension list expected', { file });
      checkBudget('variables', n, 'NetCDF-3 dimensions', file);
      for (let i = 0; i < n; i++) {
        dimNames.push(c.name());
        const size = version === 5 ? c.u64() : c.u32();
        if (size === 0) recordDim = i;
        dimSizes.push(size);
      }
    }
  }
  const globalAttrs = c.attrs();
  const vars: Nc3Var[] = [];
  {
    const tag = c.u32();
    const n = c.nelems();
    if (!(tag === 0 && n === 0)) {
      if (tag !== NC_VARIABLE) throw new LensError('CORRUPT', 'NetCDF-3 header: variable list expected', { file });
      checkBudget('variables', n, 'NetCDF-3 variables', file);
      for (let i = 0; i < n; i++) {
        const name = c.name();
        const rank = c.nelems();
        checkBudget('rank', rank, `rank of NetCDF-3 variable ${name}`, file);
        const ids: number[] = [];
        for (let j = 0; j < rank; j++) {
          const id = c.nelems();
          if (id >= dimNames.length) throw new LensError('CORRUPT', `variable ${name} uses dimension id ${id} that does not exist`, { file });
          ids.push(id);
        }
        const attrs = c.attrs();
        const type = c.u32();
        const dtype = TYPES[type];
        if (!dtype) throw new LensError('CORRUPT', `variable ${name} has unknown NetCDF type ${type}`, { file });
        if (version === 5) c.u64();
        else c.u32(); // vsize: recomputed below (it saturates for large variables)
        const begin = c.offset();
        const isRecord = ids.length > 0 && ids[0] === recordDim;
        const inner = product(ids.slice(isRecord ? 1 : 0).map((d) => dimSizes[d]));
        const item = dtype === 'S1' ? 1 : ITEM_SIZE[dtype];
        vars.push({
          name,
          dims: ids.map((d) => dimNames[d]),
          shape: ids.map((d) => dimSizes[d]),
          dtype,
          attrs,
          begin,
          isRecord,
          slabBytes: pad4(inner * item),
        });
      }
    }
  }
  const recVars = vars.filter((v) => v.isRecord);
  // One record variable alone is not padded (spec: "special case").
  if (recVars.length === 1) recVars[0].slabBytes = product(recVars[0].shape.slice(1)) * (recVars[0].dtype === 'S1' ? 1 : ITEM_SIZE[recVars[0].dtype as NpyDtype]);
  const recSize = recVars.reduce((a, v) => a + v.slabBytes, 0);
  if (streaming && recVars.length > 0) {
    const start = recVars.reduce((m, v) => Math.min(m, v.begin), Infinity);
    numrecs = recSize > 0 ? Math.floor((r.size - start) / recSize) : 0;
  }
  if (recordDim >= 0) {
    dimSizes[recordDim] = numrecs;
    for (const v of recVars) v.shape[0] = numrecs;
  }
  const dims: Record<string, number> = {};
  dimNames.forEach((n, i) => (dims[n] = dimSizes[i]));

  const byName = new Map(vars.map((v) => [v.name, v]));
  return {
    path: file,
    format: 'netcdf3',
    dims,
    variables: vars.map(({ name, dims: d, shape, dtype, attrs }) => ({ name, dims: d, shape, dtype, attrs })),
    globalAttrs,
    bytesRead: () => r.bytes,
    close: () => r.close(),
    async read(name: string, slab: Hyperslab) {
      const v = byName.get(name);
      if (!v) throw new LensError('UNKNOWN_VARIABLE', `no variable ${name}`, { file });
      const dtype: NpyDtype = v.dtype === 'S1' ? 'u1' : (v.dtype as NpyDtype);
      const item = ITEM_SIZE[dtype];
      const bytes = v.isRecord ? await readRecords(r, v, recSize, item, slab) : await readSlabBytes(r, v.begin, v.shape, item, slab);
      const shape = slab.map(([a, b]) => b - a);
      return { shape, data: decodeBytes(bytes, dtype, false), dtype };
    },
  };
}

/** Records a window of record reads may span. */
const RECORD_WINDOW_BYTES = 8 * 1024 * 1024;
/** Up to this many records are read one by one. */
const FEW_RECORDS = 64;

/**
 * A hyperslab of a record variable: record `rec` of it sits at begin + rec * recSize. Records are read
 * in windows of several at once (one syscall for many small records, not one each); the number of
 * steps is bounded by what the file can hold, since a record past the end is TRUNCATED before any loop.
 */
async function readRecords(r: ByteReader, v: Nc3Var, recSize: number, item: number, slab: Hyperslab): Promise<Uint8Array> {
  const inner = v.shape.slice(1);
  const innerSlab = slab.slice(1);
  const innerBytes = product(inner) * item;
  const per = product(innerSlab.map(([a, b]) => b - a)) * item;
  const [r0, r1] = slab[0];
  // Empty records hold nothing: no loop over however many a header declares.
  if (per === 0 || r1 <= r0) return new Uint8Array(0);
  const lastEnd = v.begin + (r1 - 1) * recSize + innerBytes;
  if (lastEnd > r.size) throw new LensError('TRUNCATED', `record ${r1 - 1} of ${v.name} extends to byte ${lastEnd} but the file has ${r.size} bytes`, { file: r.file });
  checkBudget('slabRuns', r1 - r0, `records of ${v.name} in one read`, r.file);
  const out = new Uint8Array(per * (r1 - r0));
  if (r1 - r0 <= FEW_RECORDS) {
    // Few records: exactly the bytes of the slab (lazy reading stays measurable with bytesRead).
    for (let rec = r0; rec < r1; rec++) out.set(await readSlabBytes(r, v.begin + rec * recSize, inner, item, innerSlab), (rec - r0) * per);
    return out;
  }
  const whole = per === innerBytes;
  const perWindow = Math.max(1, Math.floor(RECORD_WINDOW_BYTES / Math.max(recSize, 1)));
  for (let w = r0; w < r1; w += perWindow) {
    const n = Math.min(perWindow, r1 - w);
    const block = await r.read(v.begin + w * recSize, (n - 1) * recSize + innerBytes);
    for (let k = 0; k < n; k++) {
      const rec = block.subarray(k * recSize, k * recSize + innerBytes);
      out.set(whole ? rec : sliceArray(rec, [...inner, item], [...innerSlab, [0, item]]), (w - r0 + k) * per);
    }
  }
  return out;
}
