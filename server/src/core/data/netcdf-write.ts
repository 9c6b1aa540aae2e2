/**
 * NetCDF-3 writer, 64-bit offset format (CDF-2: the classic format every climate tool reads), written
 * from the format specification (https://docs.unidata.ucar.edu/netcdf-c/current/file_format_specifications.html)
 * because no npm library writes NetCDF. Fixed-size dimensions only (no record dimension): the whole file
 * is known when it is written. Big-endian, every header item and variable padded to 4 bytes.
 */
import { LensError } from '../errors.js';

/** An attribute value: text (NC_CHAR), a number or numbers (NC_DOUBLE), or typed numbers. */
export type NcAttr = string | number | number[] | { type: 'float' | 'int' | 'double'; values: number[] };

export type NcType = 'char' | 'int' | 'float' | 'double';

export interface NcVariable {
  name: string;
  /** Dimension names, slowest first. */
  dims: string[];
  type: NcType;
  /** Row-major over `dims`; for 'char' a string per leading index (the last dim is the string length). */
  data: ArrayLike<number> | string[];
  attrs?: Record<string, NcAttr>;
}

export interface NcFileSpec {
  /** Name and length of each dimension, in order (a variable's dims refer to them by name). */
  dims: [string, number][];
  attrs?: Record<string, NcAttr>;
  vars: NcVariable[];
}

const NC_DIMENSION = 0x0a;
const NC_VARIABLE = 0x0b;
const NC_ATTRIBUTE = 0x0c;
const TYPE_CODE: Record<NcType, number> = { char: 2, int: 4, float: 5, double: 6 };
const TYPE_SIZE: Record<NcType, number> = { char: 1, int: 4, float: 4, double: 8 };
/** CDF-2 vsize is 32-bit; a larger variable would need the "last variable" exception, which we do not use. */
const MAX_VAR_BYTES = 2 ** 32 - 4;
/** The whole file is built in memory: refuse what would not fit an ordinary process. */
export const MAX_NETCDF_WRITE_BYTES = 2 * 1024 ** 3;

const pad4 = (n: number): number => Math.ceil(n / 4) * 4;

/** NetCDF names: a letter or underscore first, then letters, digits, '_', '.', '-', '+', '@' (the classic rules, ASCII). */
function checkName(name: string, what: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_.+\-@]*$/.test(name)) throw new LensError('USAGE', `${what} '${name}' is not a valid NetCDF name`);
}

class Out {
  private buf: Uint8Array;
  private view: DataView;
  pos = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }
  u32(v: number): void {
    this.view.setUint32(this.pos, v, false);
    this.pos += 4;
  }
  u64(v: number): void {
    this.view.setBigUint64(this.pos, BigInt(v), false);
    this.pos += 8;
  }
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos = pad4(this.pos + b.length);
  }
  name(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u32(b.length);
    this.bytes(b);
  }
  /** Numbers of one type, big-endian, padded to 4 bytes. */
  numbers(type: Exclude<NcType, 'char'>, vals: ArrayLike<number>): void {
    const size = TYPE_SIZE[type];
    for (let i = 0; i < vals.length; i++) {
      const at = this.pos + i * size;
      if (type === 'int') this.view.setInt32(at, vals[i], false);
      else if (type === 'float') this.view.setFloat32(at, vals[i], false);
      else this.view.setFloat64(at, vals[i], false);
    }
    this.pos = pad4(this.pos + vals.length * size);
  }
  done(): Uint8Array {
    return this.buf;
  }
}

function attrParts(v: NcAttr): { type: NcType; text?: Uint8Array; values?: number[] } {
  if (typeof v === 'string') return { type: 'char', text: new TextEncoder().encode(v) };
  if (typeof v === 'number') return { type: 'double', values: [v] };
  if (Array.isArray(v)) return { type: 'double', values: v };
  return { type: v.type, values: v.values };
}

function attrsSize(attrs: Record<string, NcAttr> | undefined): number {
  let n = 8;
  for (const [k, v] of Object.entries(attrs ?? {})) {
    const p = attrParts(v);
    n += 4 + pad4(new TextEncoder().encode(k).length) + 8 + pad4(p.text ? p.text.length : p.values!.length * TYPE_SIZE[p.type]);
  }
  return n;
}

function writeAttrs(o: Out, attrs: Record<string, NcAttr> | undefined): void {
  const entries = Object.entries(attrs ?? {});
  if (!entries.length) {
    o.u32(0);
    o.u32(0);
    return;
  }
  o.u32(NC_ATTRIBUTE);
  o.u32(entries.length);
  for (const [k, v] of entries) {
    checkName(k, 'attribute');
    o.name(k);
    const p = attrParts(v);
    o.u32(TYPE_CODE[p.type]);
    if (p.text) {
      o.u32(p.text.length);
      o.bytes(p.text);
    } else {
      o.u32(p.values!.length);
      o.numbers(p.type as Exclude<NcType, 'char'>, p.values!);
    }
  }
}

/** The bytes of a CDF-2 file; sizes are checked before anything is allocated. */
export function writeNetcdf3(spec: NcFileSpec): Uint8Array {
  const dimIndex = new Map<string, number>();
  spec.dims.forEach(([name, len], i) => {
    checkName(name, 'dimension');
    if (dimIndex.has(name)) throw new LensError('INTERNAL', `NetCDF dimension '${name}' given twice`);
    if (!Number.isInteger(len) || len < 1) throw new LensError('INTERNAL', `NetCDF dimension '${name}' has length ${len}; fixed dimensions need at least 1`);
    dimIndex.set(name, i);
  });
  const seen = new Set<string>();
  const vars = spec.vars.map((v) => {
    checkName(v.name, 'variable');
    if (seen.has(v.name)) throw new LensError('INTERNAL', `NetCDF variable '${v.name}' given twice`);
    seen.add(v.name);
    const ids = v.dims.map((d) => {
      const i = dimIndex.get(d);
      if (i === undefined) throw new LensError('INTERNAL', `variable '${v.name}' uses the undeclared dimension '${d}'`);
      return i;
    });
    const count = v.dims.reduce((a, d) => a * spec.dims[dimIndex.get(d)!][1], 1);
    const bytes = count * TYPE_SIZE[v.type];
    if (bytes > MAX_VAR_BYTES) throw new LensError('BUDGET_EXCEEDED', `variable '${v.name}' needs ${bytes} bytes; a 64-bit-offset NetCDF variable holds at most ${MAX_VAR_BYTES}`);
    if (v.type === 'char') {
      const per = v.dims.length ? spec.dims[dimIndex.get(v.dims[v.dims.length - 1])!][1] : 1;
      if (!Array.isArray(v.data) || (v.data as unknown[]).some((s) => typeof s !== 'string') || v.data.length * per !== count) {
        throw new LensError('INTERNAL', `char variable '${v.name}' needs ${count / per} strings`);
      }
    } else if (v.data.length !== count) throw new LensError('INTERNAL', `variable '${v.name}' has ${v.data.length} values for ${count} cells`);
    return { v, ids, count, vsize: pad4(bytes) };
  });
  let header = 4 + 4 + 8;
  for (const [name] of spec.dims) header += 4 + pad4(new TextEncoder().encode(name).length) + 4;
  header += attrsSize(spec.attrs) + 8;
  for (const { v, ids } of vars) header += 4 + pad4(new TextEncoder().encode(v.name).length) + 4 + 4 * ids.length + attrsSize(v.attrs) + 4 + 4 + 8;
  const total = vars.reduce((a, x) => a + x.vsize, header);
  if (total > MAX_NETCDF_WRITE_BYTES) throw new LensError('BUDGET_EXCEEDED', `the NetCDF file would take ${total} bytes (limit ${MAX_NETCDF_WRITE_BYTES}); explain fewer samples`);

  const o = new Out(total);
  o.bytes(Uint8Array.of(0x43, 0x44, 0x46, 2)); // 'CDF' version 2: 64-bit offsets
  o.u32(0); // numrecs: no record dimension
  if (spec.dims.length) {
    o.u32(NC_DIMENSION);
    o.u32(spec.dims.length);
    for (const [name, len] of spec.dims) {
      o.name(name);
      o.u32(len);
    }
  } else {
    o.u32(0);
    o.u32(0);
  }
  writeAttrs(o, spec.attrs);
  if (vars.length) {
    o.u32(NC_VARIABLE);
    o.u32(vars.length);
  } else {
    o.u32(0);
    o.u32(0);
  }
  let begin = header;
  for (const { v, ids, vsize } of vars) {
    o.name(v.name);
    o.u32(ids.length);
    for (const i of ids) o.u32(i);
    writeAttrs(o, v.attrs);
    o.u32(TYPE_CODE[v.type]);
    o.u32(vsize);
    o.u64(begin);
    begin += vsize;
  }
  if (o.pos !== header) throw new LensError('INTERNAL', `NetCDF header size ${o.pos}, planned ${header}`);
  for (const { v, count } of vars) {
    if (v.type === 'char') {
      const per = count / Math.max(1, v.data.length);
      const b = new Uint8Array(count);
      (v.data as string[]).forEach((s, i) => b.set(new TextEncoder().encode(s).subarray(0, per), i * per));
      o.bytes(b);
    } else o.numbers(v.type, v.data as ArrayLike<number>);
  }
  return o.done();
}
