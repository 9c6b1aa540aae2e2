/**
 * Data-reader fuzzing (issue 18), like the model loader's: every data fixture (.npy, .npz, NetCDF-3,
 * NetCDF-4/HDF5, CSV, CPC index text, PNG/JPEG, lrp-lens.json) mutated with a seed (flipped bytes, more
 * of them in the header; truncation; header words set to extreme counts; text edits that inflate numbers,
 * columns and nesting), each case run in a worker that does what `data info` and a model input do. Each
 * case must read or throw a LensError other than INTERNAL, within a CPU-time budget (CPU, not wall clock:
 * the machine is shared) and a memory budget (growth of the peak RSS and of what is still held); a case
 * that does not answer within HANG_MS is a hang.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { zipSync } from 'fflate';
import sharp from 'sharp';
import { REF, REPO, SHARED, scratchDir } from '../../testing/paths.js';
import { mulberry32 as rng } from '../random.js';
import * as fuzz from '../../testing/fuzz.js';
import type { DataFuzzReply, DataFuzzRequest } from './fuzz-worker.js';

const CPU_LIMIT_MS = 3000;
/** Peak RSS growth and memory still held after a case, each. */
const MEMORY_LIMIT = 768 * 1024 * 1024;
const HANG_MS = 30_000;
const PER_FIXTURE = 10;
const dir = scratchDir('data-fuzz');

const rand = rng(20261206);
const pick = <T>(xs: readonly T[]): T => fuzz.pick(rand, xs);

interface Fixture {
  name: string;
  path: string;
  kind: DataFuzzRequest['kind'];
  text: boolean;
}

async function fixtures(): Promise<Fixture[]> {
  const made = join(dir, 'made');
  mkdirSync(made, { recursive: true });
  const list: Fixture[] = [];
  const add = (path: string, kind: Fixture['kind'] = 'data') => {
    if (existsSync(path)) list.push({ name: basename(path), path, kind, text: /\.(csv|txt|ascii|json|data)$/.test(path) });
  };
  add(join(REF, 'mlp', 'x_nhwc.npy'));
  add(join(REF, 'cnn_same', 'x_nchw.npy'));
  add(join(REF, 'mlp', 'target.npy'));
  const npz = join(made, 'arrays.npz');
  writeFileSync(npz, zipSync({ 'x.npy': new Uint8Array(readFileSync(join(REF, 'mlp', 'x_nhwc.npy'))), 't.npy': new Uint8Array(readFileSync(join(REF, 'mlp', 'target.npy'))) }, { level: 6 }));
  add(npz);
  const stored = join(made, 'stored.npz');
  writeFileSync(stored, zipSync({ 'x.npy': new Uint8Array(readFileSync(join(REF, 'cnn_same', 'x_nchw.npy'))) }, { level: 0 }));
  add(stored);
  add(join(REPO, 'samples', 'data', 'ersstv5_anom_5deg_1980-2018.nc'));
  add(join(REPO, 'samples', 'data', 'ersstv5_sst_2deg_2010-2020.nc'));
  add(join(SHARED, 'geodata', 'landsea-mask', 'landsea_1deg_ncar.nc'));
  add(join(SHARED, 'geodata', 'landsea-mask', 'lsmask_oisst_v2_1deg.nc'));
  add(join(REPO, 'samples', 'data', 'cpc_nino34_ersst5.txt'));
  add(join(SHARED, 'geodata', 'nino34-oni', 'oni.ascii.txt'));
  add(join(SHARED, 'geodata', 'nino34-oni', 'nino34.long.anom.data.txt'));
  add(join(REPO, 'server', 'src', 'core', 'data', 'fixtures', 'features.csv'));
  const csv = join(made, 'table.csv');
  writeFileSync(csv, ['time,lat,value,label', ...Array.from({ length: 40 }, (_, i) => `${i},${(i * 7) % 90},${Math.sin(i).toFixed(4)},c${i % 3}`)].join('\n'));
  add(csv);
  const pixels = Buffer.alloc(16 * 12 * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37) % 256;
  const png = join(made, 'image.png');
  writeFileSync(png, await sharp(pixels, { raw: { width: 16, height: 12, channels: 3 } }).png().toBuffer());
  add(png);
  const jpg = join(made, 'image.jpg');
  writeFileSync(jpg, await sharp(pixels, { raw: { width: 16, height: 12, channels: 3 } }).jpeg().toBuffer());
  add(jpg);
  add(join(REPO, 'server', 'src', 'core', 'data', 'fixtures', 'lrp-lens.json'), 'project');
  return list;
}

// ---- mutations ----------------------------------------------------------------------------------

/** Flip 1-8 bytes, most of them among the first 2 KB (headers: where the declared work is). */
const flipBytes = (b: Uint8Array) => fuzz.flipBytes(rand, b, true);
const truncate = (b: Uint8Array) => fuzz.truncate(rand, b);

const EXTREME = [0, 1, 0xff, 0xffff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 1_000_000, 100_000_000];

/** Set an aligned 32-bit word in the header to an extreme count (big-endian for NetCDF-3, else little). */
function extremeWord(b: Uint8Array): Uint8Array {
  const out = Uint8Array.from(b);
  const words = Math.floor(Math.min(out.length, 1024) / 4);
  if (words < 2) return flipBytes(b);
  const at = 4 * (1 + Math.floor(rand() * (words - 1)));
  new DataView(out.buffer).setUint32(at, pick(EXTREME), !(out[0] === 0x43 && out[1] === 0x44));
  return out;
}

/** Text edits: inflate a number, multiply a line's fields, nest brackets, change delimiters. */
function mutateText(b: Uint8Array): Uint8Array {
  let t = new TextDecoder().decode(b);
  const r = rand();
  if (r < 0.3) {
    const nums = [...t.matchAll(/\d+(\.\d+)?/g)];
    if (nums.length) {
      const m = pick(nums);
      t = t.slice(0, m.index) + pick(['99999999999999999999', '-1', '1e308', 'NaN', '0', '4294967295']) + t.slice(m.index! + m[0].length);
    }
  } else if (r < 0.5) {
    const lines = t.split('\n');
    const i = Math.floor(rand() * lines.length);
    lines[i] = Array.from({ length: 1 + Math.floor(rand() * 3000) }, () => lines[i]).join(pick([',', ' ', '\t', ';']));
    t = lines.join('\n');
  } else if (r < 0.65) {
    const at = Math.floor(rand() * t.length);
    const depth = 1 + Math.floor(rand() * 2000);
    t = t.slice(0, at) + '['.repeat(depth) + t.slice(at);
  } else if (r < 0.8) {
    t = t.replace(/,/g, pick([';', '\t', '"', ',,']));
  } else {
    const lines = t.split('\n');
    const i = Math.floor(rand() * lines.length);
    lines.splice(i, 0, ...Array.from({ length: 1 + Math.floor(rand() * 20_000) }, () => lines[i] ?? ''));
    t = lines.join('\n');
  }
  return new TextEncoder().encode(t);
}

/** Offsets of the words of a NetCDF-3 (CDF-1/2) header that hold numrecs and each variable's dim ids. */
function nc3Words(b: Uint8Array): { numrecs: number; dimIds: number[] } | undefined {
  if (!(b[0] === 0x43 && b[1] === 0x44 && b[2] === 0x46 && (b[3] === 1 || b[3] === 2))) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let p = 8;
  const u32 = () => {
    const x = v.getUint32(p, false);
    p += 4;
    return x;
  };
  const skipName = () => {
    const n = u32();
    p += Math.ceil(n / 4) * 4;
  };
  const sizes: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 4, 6: 8 };
  const skipAttrs = () => {
    u32();
    const n = u32();
    for (let i = 0; i < n; i++) {
      skipName();
      const type = u32();
      const count = u32();
      p += Math.ceil((count * (sizes[type] ?? 1)) / 4) * 4;
    }
  };
  try {
    u32();
    const nd = u32();
    for (let i = 0; i < nd; i++) {
      skipName();
      u32();
    }
    skipAttrs();
    u32();
    const nv = u32();
    const dimIds: number[] = [];
    for (let i = 0; i < nv; i++) {
      skipName();
      const rank = u32();
      for (let j = 0; j < rank; j++) dimIds.push(p + 4 * j);
      p += 4 * rank;
      skipAttrs();
      p += 8 + (b[3] === 1 ? 4 : 8);
    }
    return { numrecs: 4, dimIds };
  } catch {
    return undefined;
  }
}

/**
 * NetCDF-3 record layouts that declare huge work: numrecs set to an extreme count and a variable's dims
 * pointed at the record dim (a variable over (t, t) has empty records, as many as numrecs says).
 */
function nc3Records(b: Uint8Array): Uint8Array {
  const w = nc3Words(b);
  if (!w || !w.dimIds.length) return extremeWord(b);
  const out = Uint8Array.from(b);
  const v = new DataView(out.buffer);
  v.setUint32(w.numrecs, pick([0x7fffffff, 0xfffffffe, 100_000_000, 0xffffffff]), false);
  const n = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < n; i++) v.setUint32(pick(w.dimIds), 0, false); // dim 0: the record dim of these files
  return out;
}

/** The first lines, each repeated side by side: thousands of columns (CSV) or fields (index text). */
function widen(b: Uint8Array): Uint8Array {
  const t = new TextDecoder().decode(b).split('\n').slice(0, 12).join('\n');
  const k = 2000 + Math.floor(rand() * 14_000);
  const sep = t.includes(',') ? ',' : ' ';
  return new TextEncoder().encode(t.split('\n').map((l) => (l.trim() ? Array.from({ length: k }, () => l).join(sep) : l)).join('\n'));
}

/** A JSON file grown to megabytes of small values (the costliest bytes for a parser that locates values). */
function jsonInflate(b: Uint8Array): Uint8Array {
  const t = new TextDecoder().decode(b);
  const at = t.indexOf('{') + 1;
  const n = 500_000 + Math.floor(rand() * 7_000_000);
  return new TextEncoder().encode(`${t.slice(0, at)}"padding": [${'0,'.repeat(n)}0], ${t.slice(at)}`);
}

const DESCRS = ['<f4', '>f8', '|u1', '|O', '<U10', '<c8', '<f4', '|b1', '<i8', "[('a', '<f4')]"];

/** A .npy header rewritten: extreme or odd shapes, other dtypes, extra or missing keys, a wrong length field. */
function npyHeader(b: Uint8Array): Uint8Array {
  if (!(b[0] === 0x93 && b[1] === 0x4e)) return flipBytes(b);
  const len = b[8] | (b[9] << 8);
  const dims = Array.from({ length: Math.floor(rand() * 5) }, () => pick([0, 1, 7, 4096, 1e6, 2 ** 31, 2 ** 53, -1]));
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  const descr = pick(DESCRS);
  const extra = pick(['', "'x': 1, ", "'descr': '<f8', ", "'shape': (2,), "]);
  const order = pick(['False', 'True', '0', "'yes'"]);
  let h = rand() < 0.1 ? '{}' : `{'descr': ${descr.startsWith('[') ? descr : `'${descr}'`}, 'fortran_order': ${order}, ${extra}'shape': ${shape}, }`;
  h = h.padEnd(len - 1, ' ') + '\n';
  const head = new TextEncoder().encode(h);
  const out = new Uint8Array(10 + head.length + b.length - 10 - len);
  out.set(b.subarray(0, 10));
  new DataView(out.buffer).setUint16(8, rand() < 0.1 ? 0xffff : head.length, true);
  out.set(head, 10);
  out.set(b.subarray(10 + len), 10 + head.length);
  return out;
}

interface Case {
  label: string;
  path: string;
  kind: DataFuzzRequest['kind'];
}

function makeCases(fx: Fixture[]): Case[] {
  const cases: Case[] = [];
  for (const f of fx) {
    const bytes = new Uint8Array(readFileSync(f.path));
    for (let i = 0; i < PER_FIXTURE; i++) {
      const r = rand();
      // A structured mutation for the format (the declared-work attacks), else a generic one.
      const special = f.path.endsWith('.json') ? 'json-inflate' : f.text ? 'widen' : f.path.endsWith('.npy') ? 'npy-header' : nc3Words(bytes) ? 'nc3-records' : 'extreme-word';
      const how = r < 0.3 ? special : f.text ? (r < 0.65 ? 'text' : r < 0.85 ? 'flip' : 'truncate') : r < 0.6 ? 'flip' : r < 0.8 ? 'extreme-word' : 'truncate';
      const mutate: Record<string, (x: Uint8Array) => Uint8Array> = {
        'json-inflate': jsonInflate, widen, 'npy-header': npyHeader, 'nc3-records': nc3Records, 'extreme-word': extremeWord, text: mutateText, flip: flipBytes, truncate,
      };
      const data = mutate[how](bytes);
      const d = join(dir, f.name.replace(/[^\w.-]/g, '_'), String(i));
      mkdirSync(d, { recursive: true });
      const path = join(d, basename(f.path));
      writeFileSync(path, data);
      cases.push({ label: `${f.name} #${i} (${how})`, path, kind: f.kind });
    }
  }
  return cases;
}

// ---- worker pool of one -------------------------------------------------------------------------

const worker = new fuzz.FuzzWorker<DataFuzzRequest, DataFuzzReply>(fuzz.besideCaller(import.meta.url, 'fuzz-worker'));
after(() => worker.close());
const send = (req: Omit<DataFuzzRequest, 'id'>, timeoutMs: number) => worker.send(req, timeoutMs);

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;

test('fuzzed data files read or fail with a LensError, each within its CPU and memory budget', async () => {
  const fx = await fixtures();
  assert.ok(fx.length >= 15, `found ${fx.length} fixtures`);
  // Warm-up (not measured): module loading, h5wasm and sharp start-up, one intact file of each kind.
  for (const f of fx) {
    const r = await send({ path: f.path, kind: f.kind }, 60_000);
    assert.ok(r !== 'timeout' && r !== 'crash' && r.outcome !== 'other-error', `${f.name} intact: ${JSON.stringify(r)}`);
  }
  const cases = makeCases(fx);
  const tally = new fuzz.FuzzTally();
  let worstCpu: [number, string] = [0, ''];
  let worstPeak: [number, string] = [0, ''];
  let worstHeld: [number, string] = [0, ''];
  for (const c of cases) {
    const r = await send({ path: c.path, kind: c.kind }, HANG_MS);
    if (r === 'timeout' || r === 'crash') {
      tally.lost(c.label, r, HANG_MS);
      continue;
    }
    if (r.cpuMs > worstCpu[0]) worstCpu = [r.cpuMs, c.label];
    if (r.peakRssGrowth > worstPeak[0]) worstPeak = [r.peakRssGrowth, c.label];
    if (r.heapGrowth > worstHeld[0]) worstHeld = [r.heapGrowth, c.label];
    if (r.peakRssGrowth > MEMORY_LIMIT) tally.failures.push(`${c.label}: peak RSS grew ${mb(r.peakRssGrowth)} (limit ${mb(MEMORY_LIMIT)})`);
    if (r.heapGrowth > MEMORY_LIMIT) tally.failures.push(`${c.label}: holds ${mb(r.heapGrowth)} more after the case (limit ${mb(MEMORY_LIMIT)})`);
    tally.add(c.label, r, CPU_LIMIT_MS);
  }
  console.log(
    `# fuzz: ${cases.length} data runs over ${fx.length} fixtures; outcomes ${tally}; ` +
      `worst CPU ${worstCpu[0].toFixed(0)} ms (${worstCpu[1]}); worst peak RSS growth ${mb(worstPeak[0])} (${worstPeak[1]}); ` +
      `worst memory held ${mb(worstHeld[0])} (${worstHeld[1]})`,
  );
  assert.ok(cases.length >= 150);
  assert.deepEqual(tally.failures, []);
});
