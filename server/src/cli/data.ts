/**
 * `lrp-lens data info FILE [--var NAME] [--json]`: dimensions, variables (dims, shape, type), attributes,
 * coordinates, fill values and value ranges of any supported file, like `ncdump -h`.
 * `lrp-lens data export FILE --var NAME [--select DIM=START:STOP,...] --out X.npy [--json]`: the decoded
 * values (scale/offset applied, fill and missing as NaN) as float32; integer variables without packing
 * or missing cells keep their integer type.
 */
import { writeFile } from 'node:fs/promises';
import { LensError } from '../core/errors.js';
import { axisOf, decodeTimes, decodeValues, decodingOf, formatDate } from '../core/data/cf.js';
import { coordinateVars, planField, readPlan, withSource } from '../core/data/load.js';
import { writeNpy } from '../core/data/npy.js';
import type { NdArray } from '../core/array.js';
import type { AttrValue, DataSource, VarInfo } from '../core/data/source.js';
import { fullSlab, isIntegerDtype, product } from '../core/data/source.js';
import { flagString, parseArgs, requireFlag } from './args.js';
import { regularSize } from '../core/data/regular-file.js';
import { isZarrStore } from '../core/data/zarr.js';
import { outputFile } from './files.js';
import { ownTable } from '../core/own-table.js';

const USAGE = 'usage: lrp-lens data info FILE [--var NAME] [--json]\n       lrp-lens data export FILE --var NAME [--select DIM=START:STOP,...] --out X.npy [--json]';

/** Most values read to compute a variable's range; larger variables are summarised over their first step. */
const RANGE_LIMIT = 16 * 1024 * 1024;

interface Range {
  min: number | null;
  max: number | null;
  valid: number;
  count: number;
  /** 'all', or 'first DIM step' for large variables. */
  over: string;
}

const NC_TYPE: Record<string, string> = ownTable({
  f4: 'float', f8: 'double', f2: 'half', i1: 'byte', u1: 'ubyte', i2: 'short', u2: 'ushort', i4: 'int', u4: 'uint', i8: 'int64', u8: 'uint64', b1: 'bool', S1: 'char', str: 'string',
});

async function rangeOf(s: DataSource, v: VarInfo): Promise<Range | undefined> {
  if (v.dtype === 'str' || v.dtype === 'S1') return undefined;
  const total = product(v.shape);
  const slab = fullSlab(v.shape);
  let over = 'all';
  if (total > RANGE_LIMIT && v.shape.length > 1) {
    slab[0] = [0, Math.min(1, v.shape[0])];
    over = `first ${v.dims[0]} step`;
  }
  if (product(slab.map(([a, b]) => b - a)) > RANGE_LIMIT) return undefined;
  const vals = decodeValues(await s.read(v.name, slab), decodingOf(v));
  let min = Infinity;
  let max = -Infinity;
  let valid = 0;
  for (let i = 0; i < vals.length; i++) {
    const x = vals[i];
    if (Number.isNaN(x)) continue;
    valid++;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return { min: valid ? min : null, max: valid ? max : null, valid, count: vals.length, over };
}

function fmtAttr(a: AttrValue): string {
  if (typeof a === 'string') return JSON.stringify(a);
  if (Array.isArray(a)) return a.map((x) => fmtNum(x)).join(', ');
  return fmtNum(a);
}

function fmtNum(x: number): string {
  return Number.isInteger(x) ? String(x) : Number.isNaN(x) ? 'NaN' : String(Math.fround(x) === x ? Number(x.toPrecision(7)) : x);
}

async function info(file: string, only: string | undefined, json: boolean): Promise<number> {
  return withSource(file, {}, async (s) => {
    const vars = only ? s.variables.filter((v) => v.name === only) : s.variables;
    if (only && vars.length === 0) await planField(s, { variable: only }); // throws UNKNOWN_VARIABLE with a suggestion
    const out = [];
    for (const v of vars) {
      const coords: Record<string, string> = {};
      for (const c of coordinateVars(s, v)) if (c.axis) coords[c.axis] = c.dim;
      const dec = decodingOf(v);
      const entry: Record<string, unknown> = {
        name: v.name,
        dims: v.dims,
        shape: v.shape,
        dtype: v.dtype,
        attrs: v.attrs,
        axis: v.dims.length === 1 ? axisOf(v) : undefined,
        coordinates: coords,
        fill: dec.fill,
        packed: dec.packed ? { scale_factor: dec.scale, add_offset: dec.offset } : undefined,
        range: await rangeOf(s, v),
      };
      if (v.dims.length === 1 && coords.time === v.dims[0] && typeof v.attrs.units === 'string' && / since /.test(v.attrs.units) && v.shape[0] > 0) {
        const vals = decodeValues(await s.read(v.name, fullSlab(v.shape)), dec, true);
        const calendar = typeof v.attrs.calendar === 'string' ? v.attrs.calendar : 'standard';
        const dates = decodeTimes([vals[0], vals[vals.length - 1]], v.attrs.units, calendar, s.path).map(formatDate);
        entry.time = { first: dates[0], last: dates[1], calendar, units: v.attrs.units };
      }
      out.push(entry);
    }
    const result = { file: s.path, format: s.format, dims: s.dims, globalAttrs: s.globalAttrs, variables: out };
    if (json) {
      process.stdout.write(JSON.stringify(result, (_, val) => (typeof val === 'number' && !Number.isFinite(val) ? String(val) : val), 2) + '\n');
      return 0;
    }
    const lines = [`${s.path} (${s.format}) {`, 'dimensions:'];
    for (const [d, n] of Object.entries(s.dims)) lines.push(`\t${d} = ${n} ;`);
    lines.push('variables:');
    for (const v of out) {
      const vi = v as { name: string; dims: string[]; shape: number[]; dtype: string; attrs: Record<string, AttrValue>; coordinates: Record<string, string>; fill: number[]; packed?: object; range?: Range; time?: { first: string; last: string; calendar: string } };
      lines.push(`\t${NC_TYPE[vi.dtype] ?? vi.dtype} ${vi.name}(${vi.dims.join(', ')}) ;  // shape [${vi.shape.join(', ')}]`);
      for (const [k, a] of Object.entries(vi.attrs)) lines.push(`\t\t${vi.name}:${k} = ${fmtAttr(a)} ;`);
      const extra: string[] = [];
      if (Object.keys(vi.coordinates).length && vi.dims.length > 1) extra.push(`coordinates ${Object.entries(vi.coordinates).map(([a, d]) => `${a}=${d}`).join(' ')}`);
      if (vi.fill.length) extra.push(`missing where ${vi.fill.map(fmtNum).join(' or ')}`);
      if (vi.range) extra.push(vi.range.valid ? `range ${fmtNum(vi.range.min!)} .. ${fmtNum(vi.range.max!)} (${vi.range.valid} of ${vi.range.count} values${vi.range.over === 'all' ? '' : `, ${vi.range.over}`})` : `no valid values (${vi.range.count})`);
      if (vi.time) extra.push(`time ${vi.time.first} .. ${vi.time.last} (${vi.time.calendar})`);
      if (extra.length) lines.push(`\t\t// ${extra.join('; ')}`);
    }
    if (Object.keys(s.globalAttrs).length) {
      lines.push('', '// global attributes:');
      for (const [k, a] of Object.entries(s.globalAttrs)) lines.push(`\t\t:${k} = ${fmtAttr(a)} ;`);
    }
    lines.push('}');
    process.stdout.write(lines.join('\n') + '\n');
    return 0;
  });
}

async function exportVar(file: string, variable: string | undefined, select: string | undefined, out: string, json: boolean): Promise<number> {
  return withSource(file, {}, async (s) => {
    const plan = await planField(s, { variable, select });
    const dec = decodingOf(plan.info);
    let arr: { data: NdArray['data']; shape: number[] } | undefined;
    if (isIntegerDtype(plan.info.dtype) && !dec.packed) {
      // Integers keep their type unless some cells are missing (those become NaN in float32).
      const raw = await s.read(plan.info.name, plan.slab);
      const decoded = decodeValues(raw, dec);
      if (!decoded.some((v) => Number.isNaN(v))) arr = { data: raw.data, shape: plan.shape };
    }
    let missing = 0;
    if (!arr) {
      const f = await readPlan(plan);
      for (let i = 0; i < f.mask.length; i++) missing += 1 - f.mask[i];
      arr = { data: f.values, shape: f.shape };
    }
    await writeFile(out, writeNpy(arr.data as Float32Array, arr.shape));
    const dtype = arr.data instanceof Float32Array ? 'float32' : arr.data.constructor.name.replace('Array', '').toLowerCase();
    const result = { file: s.path, variable: plan.info.name, dims: plan.dims, shape: plan.shape, dtype, missing, out, times: plan.coords.time?.dates.length ? [plan.coords.time.dates[0], plan.coords.time.dates[plan.coords.time.dates.length - 1]] : undefined };
    if (json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    else process.stdout.write(`${plan.info.name}(${plan.dims.join(', ')}) [${plan.shape.join(', ')}] ${dtype}${missing ? `, ${missing} missing as NaN` : ''} -> ${out}\n`);
    return 0;
  });
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['json']);
  const [sub, file, ...extra] = args.positional;
  if (!sub || !file || extra.length) throw new LensError('USAGE', USAGE);
  const json = args.flags.get('json') === true;
  if (sub !== 'info' && sub !== 'export') throw new LensError('USAGE', `unknown data subcommand '${sub}'\n${USAGE}`);
  // Every data format but a Zarr store (a folder) is one regular file: refused fast when it is a device, FIFO or other folder.
  if (!(await isZarrStore(file))) await regularSize(file);
  if (sub === 'info') return info(file, flagString(args, 'var'), json);
  return exportVar(file, flagString(args, 'var'), flagString(args, 'select'), await outputFile(requireFlag(args, 'out'), '--out'), json);
}
