/**
 * Hostile inputs for the data readers and the PNG renderer (issue 18): special files, small files that
 * declare huge work, and sloppy edges. Each case replays the issue's example and a variant, and asserts a
 * structured LensError (or the right answer) within a CPU-time budget, like the fuzz tests: CPU time, not
 * wall clock, so a busy neighbour cannot fail it.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import sharp from 'sharp';
import { REF, scratchDir } from '../../testing/paths.js';
import { errorCode as code } from '../../testing/lens-error.js';
import { LensError } from '../errors.js';
import { DATA_BUDGET } from './budget.js';
import { decodeValues, decodingOf } from './cf.js';
import { ByteReader, readSlabBytes } from './hyperslab.js';
import { coordinateVars, detectFormat, loadField, openSource, planField, withSource } from './load.js';
import { parseNpyHeader, writeNpy } from './npy.js';
import { openNpz } from './npysource.js';
import { parseProject, readProject } from './project.js';
import { parseSelection } from './select.js';
import { fullSlab, product } from './source.js';
import { parseLocatedJson } from '../json/located-json.js';
import { RENDER_BUDGET, pngLayout, renderPng } from '../render/png.js';
import { pngViewOf } from '../render/png-request.js';

const dir = scratchDir('data-hostile');

/** Run `f`, assert it took at most `ms` of this process's CPU time; its result. */
async function withinCpu<T>(ms: number, f: () => Promise<T>): Promise<T> {
  const c0 = process.cpuUsage();
  const out = await f();
  const c = process.cpuUsage(c0);
  const used = (c.user + c.system) / 1000;
  assert.ok(used < ms, `took ${used.toFixed(0)} ms of CPU, budget ${ms}`);
  return out;
}

/** The LensError `f` throws (synchronously). */
function thrown(f: () => unknown): LensError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof LensError, `not a LensError: ${e}`);
    return e;
  }
  assert.fail('no error');
}

async function rejected(p: Promise<unknown>): Promise<LensError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof LensError, `not a LensError: ${e}`);
    return e;
  }
  assert.fail('no error');
}

/** Symlinks (and FIFOs) made by the tests: removed at the end, so no later tool trips over them. */
const specials: string[] = [];
after(() => {
  for (const p of specials) rmSync(p, { force: true });
});

function link(target: string, name: string): string {
  const p = join(dir, name);
  rmSync(p, { force: true });
  symlinkSync(target, p);
  specials.push(p);
  return p;
}

// ---- special files ------------------------------------------------------------------------------

test('devices are not read: /dev/zero as .npy, .npz, CSV and lrp-lens.json, directly or through a symlink', { skip: !existsSync('/dev/zero') }, async () => {
  await withinCpu(2000, async () => {
    for (const p of ['/dev/zero', link('/dev/zero', 'zero.npy'), link('/dev/zero', 'zero.npz'), link('/dev/urandom', 'noise.csv')]) {
      assert.equal(await code(openSource(p)), 'FORMAT_UNKNOWN', p);
      assert.equal(await code(detectFormat(p)), 'FORMAT_UNKNOWN', p);
    }
    // A forced format opens the file itself: still refused.
    assert.equal(await code(openSource(link('/dev/zero', 'forced.npz'), { format: 'npz' })), 'FORMAT_UNKNOWN');
    assert.equal(await code(openSource(link('/dev/zero', 'forced.nc'), { format: 'netcdf4' })), 'FORMAT_UNKNOWN');
    assert.equal(await code(openSource(link('/dev/zero', 'forced.csv'), { format: 'csv' })), 'FORMAT_UNKNOWN');
    assert.equal(await code(openSource(link('/dev/zero', 'forced.png'), { format: 'image' })), 'FORMAT_UNKNOWN');
    assert.equal(await code(readProject(link('/dev/zero', 'lrp-lens.json'))), 'FORMAT_UNKNOWN');
  });
});

test('a FIFO does not hang and a folder is not read as data', async () => {
  const fifo = join(dir, 'pipe.npy');
  rmSync(fifo, { force: true });
  let made = true;
  try {
    execFileSync('mkfifo', [fifo]);
    specials.push(fifo);
  } catch {
    made = false; // no mkfifo on this system: the folder case still runs
  }
  if (made) {
    assert.equal(await code(openSource(fifo)), 'FORMAT_UNKNOWN');
    assert.equal(await code(openSource(link(fifo, 'pipe-link.csv'), { format: 'csv' })), 'FORMAT_UNKNOWN');
  }
  const folder = join(dir, 'folder.npy');
  mkdirSync(folder, { recursive: true });
  assert.equal(await code(openSource(folder)), 'FORMAT_UNKNOWN');
  assert.equal(await code(openSource(folder, { format: 'npy' })), 'FORMAT_UNKNOWN');
});

// ---- small inputs that declare huge work ------------------------------------------------------

/** A version-1 .npy header for `descr` and `shape`, padded as NumPy pads it. */
function headerOnly(descr: string, shape: number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let h = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  h += ' '.repeat((64 - ((10 + h.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + h.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, h.length, true);
  out.set(new TextEncoder().encode(h), 10);
  return out;
}

/** Patch the uncompressed size of every central-directory entry of a zip. */
function declareSizes(zip: Uint8Array, size: number): Uint8Array {
  const out = Uint8Array.from(zip);
  const v = new DataView(out.buffer);
  for (let i = 0; i + 4 <= out.length; i++) if (v.getUint32(i, true) === 0x02014b50) v.setUint32(i + 24, size, true);
  return out;
}

test('.npz whose members stay under the per-member limit but declare 1.8 GB together: listing inflates only headers', async () => {
  // Three members, each a deflate stream (stored blocks of noise) that the central directory says
  // inflates to 600 MiB: under every per-member check, 1.8 GiB together.
  const declared = 600 * 1024 * 1024;
  const members: Record<string, Uint8Array> = {};
  for (const k of ['a', 'b', 'c']) {
    const head = headerOnly('<f4', [(declared - 128) / 4]);
    const body = new Uint8Array(Math.ceil(declared / 190)); // ratio under the zip-bomb guard's 200
    for (let i = 0; i < body.length; i++) body[i] = (i * 2654435761) >>> 24;
    const m = new Uint8Array(head.length + body.length);
    m.set(head);
    m.set(body, head.length);
    members[`${k}.npy`] = m;
  }
  const file = join(dir, 'declares-gigabytes.npz');
  writeFileSync(file, declareSizes(zipSync(members, { level: 0 }), declared));
  const h0 = process.memoryUsage().rss;
  await withinCpu(1500, async () => {
    await withSource(file, {}, async (s) => {
      assert.deepEqual(s.variables.map((v) => v.shape), [[(declared - 128) / 4], [(declared - 128) / 4], [(declared - 128) / 4]]);
      // Reading a member whose stored bytes do not inflate to its declared size is refused, not trusted.
      assert.equal(await code(s.read('a', [[0, 1]])), 'CORRUPT');
    });
  });
  assert.ok(process.memoryUsage().rss - h0 < 256 * 1024 * 1024, 'listing must not inflate the members');
  // Variant: the same bytes stored deflated (stored blocks inside deflate streams).
  const deflated = Object.fromEntries(Object.entries(members).map(([k, v]) => [k, [v, { level: 0 as const }]]));
  const file2 = join(dir, 'declares-gigabytes-deflated.npz');
  writeFileSync(file2, declareSizes(zipSync(deflated as never, { level: 6 }), declared));
  await withinCpu(3000, async () => {
    await withSource(file2, {}, async (s) => assert.equal(s.variables.length, 3));
  });
});

test('.npz total inflated budget: members read one after another stop at the budget, named in the error', async () => {
  const members: Record<string, Uint8Array> = {};
  const arrays: Record<string, Float32Array> = {};
  for (const k of ['a', 'b', 'c']) {
    const a = new Float32Array(100_000);
    for (let i = 0; i < a.length; i++) a[i] = Math.sin(i * (k.charCodeAt(0) - 96));
    arrays[k] = a;
    members[`${k}.npy`] = writeNpy(a, [a.length]);
  }
  const file = join(dir, 'three.npz');
  writeFileSync(file, zipSync(members, { level: 6 }));
  const s = await openNpz(file, 1_000_000); // each member 400 KB inflated: two fit, the third does not
  try {
    for (const k of ['a', 'b']) assert.deepEqual(Array.from((await s.read(k, fullSlab([100_000]))).data), Array.from(arrays[k]));
    const e = await rejected(s.read('c', fullSlab([100_000])));
    assert.equal(e.code, 'BUDGET_EXCEEDED');
    assert.match(e.message, /inflatedBytes/);
    // The member read last is held: reading it again inflates nothing.
    assert.equal((await s.read('b', [[5, 6]])).data[0], arrays.b[5]);
  } finally {
    await s.close();
  }
  // Variant: so many members that their headers alone pass the budget.
  const many: Record<string, Uint8Array> = {};
  for (let i = 0; i < 200; i++) many[`m${i}.npy`] = writeNpy(new Float32Array(4), [4]);
  const manyFile = join(dir, 'many.npz');
  writeFileSync(manyFile, zipSync(many, { level: 6 }));
  assert.equal(await code(openNpz(manyFile, 4000)), 'BUDGET_EXCEEDED');
  await withSource(manyFile, {}, async (src) => assert.equal(src.variables.length, 200));
});

/** A CDF-1 header: numrecs, dims [name, size], variables [name, dim ids, nc_type, begin]. */
function cdf1(numrecs: number, dims: [string, number][], vars: [string, number[], number, number][]): Uint8Array {
  const out: number[] = [];
  const u32 = (x: number) => out.push((x >>> 24) & 255, (x >>> 16) & 255, (x >>> 8) & 255, x & 255);
  const name = (s: string) => {
    u32(s.length);
    for (const ch of s) out.push(ch.charCodeAt(0));
    while (out.length % 4) out.push(0);
  };
  out.push(0x43, 0x44, 0x46, 1);
  u32(numrecs);
  u32(0x0a);
  u32(dims.length);
  for (const [n, size] of dims) {
    name(n);
    u32(size);
  }
  u32(0);
  u32(0); // no global attributes
  u32(0x0b);
  u32(vars.length);
  for (const [n, ids, type, begin] of vars) {
    name(n);
    u32(ids.length);
    for (const id of ids) u32(id);
    u32(0);
    u32(0); // no attributes
    u32(type);
    u32(0); // vsize
    u32(begin);
  }
  return Uint8Array.from(out);
}

/** What `lrp-lens data info` does with each variable: coordinates, then the values when few enough. */
async function dataInfo(file: string): Promise<number> {
  return withSource(file, {}, async (s) => {
    let values = 0;
    for (const v of s.variables) {
      coordinateVars(s, v);
      if (v.dtype !== 'str' && v.dtype !== 'S1' && product(v.shape) <= 16 * 1024 * 1024) values += (await s.read(v.name, fullSlab(v.shape))).data.length;
    }
    return values;
  });
}

test('NetCDF-3 of ~100 bytes whose record layout declares billions of steps: bounded by what the file holds', async () => {
  // The issue's example: a variable over (t, t), t the record dim of 2^31-1 records of nothing.
  const empty = cdf1(0x7fffffff, [['t', 0]], [['v', [0, 0], 1, 80]]);
  const f1 = join(dir, 'billions.nc');
  writeFileSync(f1, empty);
  assert.ok(empty.length < 100, `${empty.length} bytes`);
  assert.equal(await withinCpu(1000, () => dataInfo(f1)), 0);
  // Variant: a one-byte record variable that declares 2^31 records in a file of ~100 bytes.
  const f2 = join(dir, 'records.nc');
  writeFileSync(f2, cdf1(0x7fffffff, [['t', 0], ['x', 1]], [['w', [0, 1], 1, 96], ['u', [0], 3, 96]]));
  await withinCpu(1000, async () => {
    await withSource(f2, {}, async (s) => {
      assert.equal(await code(s.read('w', [[0, 1_000_000], [0, 1]])), 'TRUNCATED');
      assert.equal(await code(s.read('u', [[0, 16 * 1024 * 1024]])), 'TRUNCATED');
    });
  });
  // Variant: more variables than the budget, declared in a header count.
  const many = cdf1(0, [['x', 1]], []);
  new DataView(many.buffer).setUint32(many.length - 4, DATA_BUDGET.variables + 1, false);
  const f3 = join(dir, 'many-vars.nc');
  writeFileSync(f3, many);
  assert.equal(await code(openSource(f3)), 'BUDGET_EXCEEDED');
});

test('NetCDF-3 with 20 000 record steps (read in windows of records) gives the stored values', async () => {
  const n = 20_000;
  const head = cdf1(n, [['t', 0]], [['t', [0], 5, 0]]);
  const begin = head.length;
  const file = join(dir, 'long-record.nc');
  const body = new Uint8Array(n * 4);
  const dv = new DataView(body.buffer);
  for (let i = 0; i < n; i++) dv.setFloat32(i * 4, i * 0.5, false);
  const fixed = cdf1(n, [['t', 0]], [['t', [0], 5, begin]]);
  writeFileSync(file, Buffer.concat([fixed, body]));
  await withSource(file, {}, async (s) => {
    const a = await s.read('t', [[0, n]]);
    assert.equal(a.data.length, n);
    assert.equal(a.data[n - 1], (n - 1) * 0.5);
    assert.equal(a.data[1234], 617);
  });
});

test('a variable that declares 100 000 fill values is decoded in one linear pass', async () => {
  const fills = Array.from({ length: 100_000 }, (_, i) => 2 * i + 1); // the odd numbers up to 200 000
  const values = new Float32Array(1_000_000).map((_, i) => i % 200_000);
  const out = await withinCpu(2000, async () => decodeValues({ shape: [values.length], data: values, dtype: 'f4' }, decodingOf({ attrs: { _FillValue: fills } })));
  for (const i of [0, 1, 2, 199_999, 200_001, 999_998]) assert.equal(Number.isNaN(out[i]), i % 2 === 1, `value ${i}`);
  // Variant: a few fill values and a missing_value take the short path with the same answer.
  const few = decodeValues({ shape: [4], data: Float32Array.of(1, -9, 3, 7), dtype: 'f4' }, decodingOf({ attrs: { _FillValue: -9, missing_value: [7, 8] } }));
  assert.deepEqual(Array.from(few, (x) => Number.isNaN(x)), [false, true, false, true]);
});

test('CSV with tens of thousands of columns: over the column budget; thousands stay linear', async () => {
  const wide = (cols: number, rows: number) => {
    const lines = [Array.from({ length: cols }, (_, j) => `c${j}`).join(',')];
    for (let r = 0; r < rows; r++) lines.push(Array.from({ length: cols }, (_, j) => String(r + j)).join(','));
    return lines.join('\n');
  };
  const f1 = join(dir, 'wide.csv');
  writeFileSync(f1, wide(50_000, 2));
  const e = await rejected(openSource(f1));
  assert.equal(e.code, 'BUDGET_EXCEEDED');
  assert.match(e.message, /variables budget of 10000/);
  const f2 = join(dir, 'wide-ok.csv');
  writeFileSync(f2, wide(9_000, 3));
  assert.equal(await withinCpu(3000, () => dataInfo(f2)), 27_000);
  const f3 = join(dir, 'tall.csv');
  writeFileSync(f3, 'a,b\n' + '1,2\n'.repeat(DATA_BUDGET.csvCells / 2 + 1));
  const c = await rejected(openSource(f3));
  assert.equal(c.code, 'BUDGET_EXCEEDED');
  assert.match(c.message, /csvCells/);
});

test('one column of a large .npy is read in windows of contiguous runs, not one element at a time', async () => {
  const rows = 100_000;
  const cols = 16;
  const a = new Float32Array(rows * cols);
  for (let i = 0; i < a.length; i++) a[i] = i;
  const file = join(dir, 'table.npy');
  writeFileSync(file, writeNpy(a, [rows, cols]));
  const r = await ByteReader.open(file);
  try {
    const bytes = await readSlabBytes(r, 128, [rows, cols], 4, [[0, rows], [5, 6]]);
    const col = new Float32Array(bytes.buffer);
    assert.equal(col.length, rows);
    for (const i of [0, 1, 777, rows - 1]) assert.equal(col[i], i * cols + 5);
    assert.ok(r.reads <= 4, `${r.reads} reads for one column`);
  } finally {
    await r.close();
  }
  // Variant: the same selection through loadField on the file, and a strided block of two columns.
  const f = await loadField(file, { select: 'dim_1=5' });
  assert.deepEqual(f.shape, [rows]);
  assert.equal(f.values[4242], 4242 * cols + 5);
  const g = await loadField(file, { select: 'dim_0=10:20,dim_1=3:5' });
  assert.deepEqual(Array.from(g.values.subarray(0, 4)), [10 * cols + 3, 10 * cols + 4, 11 * cols + 3, 11 * cols + 4]);
});

test('renderPng: the pixel budget is checked on the upscaled view, before any pixel is allocated', async () => {
  // The issue's example: a 1 x 4096 map passes the cell check; at the default 720 pixels a cell it
  // would be 2 G pixels. The default scale now shrinks to the budget and the PNG renders.
  const tall = { width: 1, height: 4096, mode: 'relevance' as const, relevance: new Float32Array(4096).map((_, i) => Math.sin(i)), relLimits: { vmin: -1, vmax: 1 } };
  const view = { panels: [{ title: 'tall', spec: tall }], colorbar: { limits: { vmin: -1, vmax: 1 }, label: 'R', kind: 'diverging' as const } };
  const L = pngLayout(view);
  assert.ok(L.width * L.height <= RENDER_BUDGET.pixels, `${L.width}x${L.height}`);
  const png = await withinCpu(20_000, () => renderPng(view));
  const meta = await sharp(png).metadata();
  assert.equal(meta.height, L.height);
  assert.equal(meta.width, L.width);
  // Variants: an explicit scale over the budget, and four full-size panels, are refused by name.
  const big = { width: 4096, height: 4096, mode: 'relevance' as const, relevance: new Float32Array(1), relLimits: { vmin: -1, vmax: 1 } };
  const e1 = thrown(() => pngLayout({ panels: [{ title: 'x', spec: big }], scale: 100 }));
  assert.equal(e1.code, 'BUDGET_EXCEEDED');
  assert.match(e1.message, /render\.pixels/);
  assert.equal(thrown(() => pngLayout({ panels: [1, 2, 3, 4].map((k) => ({ title: `${k}`, spec: big })) })).code, 'BUDGET_EXCEEDED');
  assert.equal(thrown(() => pngLayout({ panels: [{ title: 'x', spec: big }], scale: 2.5 })).code, 'BAD_INPUT');
  // A request from the panel with a map of the wrong length is BAD_INPUT, not a plain Error.
  const req = { title: 't', panels: [{ title: 'p', mode: 'relevance' as const, relevance: { shape: [2, 2], dtype: 'float32' as const, base64: 'AAAA' } }], height: 2, width: 2, limits: { vmin: -1, vmax: 1 }, colorbarLabel: '', opacity: 1 };
  assert.equal(thrown(() => pngViewOf(req)).code, 'BAD_INPUT');
  assert.equal(thrown(() => pngViewOf({ ...req, height: 1e9 })).code, 'BAD_INPUT');
});

test('a 15 MB lrp-lens.json is refused by size before parsing; locations have a budget', async () => {
  mkdirSync(join(dir, 'big'), { recursive: true });
  const file = join(dir, 'big', 'lrp-lens.json');
  const big = JSON.stringify({ version: 1, models: Array.from({ length: 1_500_000 }, () => 0) }).padEnd(15_000_000, ' ');
  writeFileSync(file, big);
  const h0 = process.memoryUsage().heapUsed;
  const e = await withinCpu(1000, () => rejected(readProject(file)));
  assert.equal(e.code, 'BUDGET_EXCEEDED');
  assert.match(e.message, /projectBytes/);
  assert.ok(process.memoryUsage().heapUsed - h0 < 128 * 1024 * 1024);
  // Variant: the editor's text (parseProject) over the budget is one issue, not a parse.
  const { issues } = parseProject(big, file);
  assert.equal(issues[0].code, 'BUDGET_EXCEEDED');
  // Variant: text under the size budget with more values than the location budget.
  const many = `[${'0,'.repeat(200_000)}0]`;
  const l = thrown(() => parseLocatedJson(many, { locations: true }));
  assert.equal(l.code, 'BUDGET_EXCEEDED');
  assert.equal((parseLocatedJson(many).value as number[]).length, 200_001, 'without locations the values parse');
});

// ---- sloppy edges -----------------------------------------------------------------------------

test('.npy headers are parsed as a Python literal: anything but descr, fortran_order and shape is refused', () => {
  const real = new Uint8Array(readFileSync(join(REF, 'mlp', 'x_nhwc.npy')));
  const h = parseNpyHeader(real);
  assert.equal(h.dtype, 'f4');
  const withText = (text: string): Uint8Array => {
    const t = new TextEncoder().encode(text);
    const out = new Uint8Array(10 + t.length);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    new DataView(out.buffer).setUint16(8, t.length, true);
    out.set(t, 10);
    return out;
  };
  const ok = (text: string) => parseNpyHeader(withText(text));
  const bad = (text: string) => thrown(() => parseNpyHeader(withText(text)));
  assert.deepEqual(ok("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }\n").shape, [2, 3]);
  assert.deepEqual(ok('{"shape": (), "descr": "|u1", "fortran_order": False}').shape, []);
  assert.deepEqual(ok("{'descr': '>i2', 'fortran_order': False, 'shape': (7,)}").shape, [7]);
  // The regex reader took the first match anywhere: these all passed it.
  for (const text of [
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'evil': __import__('os')}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} + {'descr': '<f8'}",
    "{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (2,)}",
    "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1)}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': [2]}",
    "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}",
    "{'descr': '|O', 'fortran_order': False, 'shape': (2,)}",
    "{'descr': '<c8', 'fortran_order': False, 'shape': (2,)}",
    `{'descr': '<f4', 'fortran_order': False, 'shape': (${'1, '.repeat(65)}1)}`,
    `{'descr': '<f4', 'fortran_order': False, 'shape': (${'9'.repeat(30)},)}`,
  ]) {
    const e = bad(text);
    assert.ok(e.code === 'BAD_INPUT' || e.code === 'BUDGET_EXCEEDED', `${text}: ${e.code}`);
  }
  assert.match(bad("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}").message, /unexpected key 'x'/);
  assert.match(bad("{'descr': '|O', 'fortran_order': False, 'shape': (2,)}").message, /object/);
  // Header length over the budget (NumPy's own default limit is 10 000 bytes).
  const long = new Uint8Array(12 + 70_000);
  long.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]);
  new DataView(long.buffer).setUint32(8, 70_000, true);
  const e = thrown(() => parseNpyHeader(long));
  assert.equal(e.code, 'BUDGET_EXCEEDED');
  assert.match(e.message, /npyHeaderBytes/);
});

test('nonsense selections are refused by name: BAD_INPUT or SELECTION_OUT_OF_RANGE', async () => {
  for (const [text, want] of [
    ['lat=~', 'BAD_INPUT'],
    ['time=5:2:0', 'BAD_INPUT'],
    ['lat=abc', 'BAD_INPUT'],
    ['lat=~1:', 'BAD_INPUT'],
    ['lat=~Infinity', 'BAD_INPUT'],
    ['time=99999999999999999999', 'BAD_INPUT'],
    ['time=2015-13', 'BAD_INPUT'],
    ['time=0,time=1', 'BAD_INPUT'],
    ['time=5:2', 'SELECTION_OUT_OF_RANGE'],
    ['time=-1:-3', 'SELECTION_OUT_OF_RANGE'],
  ] as const) {
    const e = thrown(() => parseSelection(text));
    assert.equal(e.code, want, text);
    assert.ok(e.message.includes(text.split(',').pop()!.split('=')[0]), `${text}: ${e.message}`);
  }
  // The object form of lrp-lens.json gets the same checks.
  const file = join(dir, 'sel.npy');
  writeFileSync(file, writeNpy(new Float32Array(12), [3, 4]));
  await withSource(file, {}, async (s) => {
    assert.equal(await code(planField(s, { select: { dim_0: { kind: 'range', start: 2, stop: 9 } } })), 'SELECTION_OUT_OF_RANGE');
    assert.equal(await code(planField(s, { select: 'dim_1=7' })), 'SELECTION_OUT_OF_RANGE');
    assert.deepEqual((await planField(s, { select: 'dim_0=-2:,dim_1=1:3' })).shape, [2, 2]);
  });
});
