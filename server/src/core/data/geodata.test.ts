/** The real gridded data in shared/geodata (see its README): counts, calendars and the ENSO index. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { GEODATA } from '../../testing/paths.js';
import { loadField, planField, readPlan, withSource } from './load.js';
import { corr } from '../../testing/data-files.js';

const SST2 = join(GEODATA, 'ersstv5-global-2deg-2010-2020', 'sst.mnmean.nc');
const ANOM5 = join(GEODATA, 'ersstv5-anom-5deg-1980-2018', 'anom_detrend_ersstv5_198001-201812_Ham-LR.nc');
const ERA5 = join(GEODATA, 'era5-ssta-tropac-5deg-1950-2021', 'ssta_1950_2021.nc');
const CPC = join(GEODATA, 'nino34-oni', 'ersst5.nino.mth.91-20.ascii');
const ONI = join(GEODATA, 'nino34-oni', 'oni.ascii.txt');
const PSL = join(GEODATA, 'nino34-oni', 'nino34.long.anom.data.txt');
const skip = existsSync(SST2) ? false : 'shared/geodata is not present';

/** Nino-3.4 box mean (5S-5N, 170W-120W) per time step, cos(lat) weighted. */
function nino34(values: Float32Array, nt: number, lat: Float64Array, lon: Float64Array, lonOffset = 0): Float64Array {
  const out = new Float64Array(nt);
  const ny = lat.length;
  const nx = lon.length;
  for (let t = 0; t < nt; t++) {
    let s = 0;
    let w = 0;
    for (let y = 0; y < ny; y++) {
      if (lat[y] < -5 || lat[y] > 5) continue;
      for (let x = 0; x < nx; x++) {
        const L = (((lon[x] + lonOffset) % 360) + 360) % 360;
        if (L < 190 || L > 240) continue;
        const v = values[(t * ny + y) * nx + x];
        if (Number.isNaN(v)) continue;
        const wt = Math.cos((lat[y] * Math.PI) / 180);
        s += v * wt;
        w += wt;
      }
    }
    out[t] = s / w;
  }
  return out;
}

/** CPC's table, read here directly (not with our reader) as the reference: YYYY-MM -> [NINO3.4, ANOM]. */
function cpcTable(): Map<string, [number, number]> {
  const m = new Map<string, [number, number]>();
  for (const line of readFileSync(CPC, 'utf8').split('\n')) {
    const t = line.trim().split(/\s+/);
    if (t.length !== 10 || !/^\d{4}$/.test(t[0])) continue;
    m.set(`${t[0]}-${t[1].padStart(2, '0')}`, [Number(t[8]), Number(t[9])]);
  }
  return m;
}

test('2-degree ERSSTv5 (NetCDF-4): 89x180 grid, 10,988 ocean cells in every month, 2010-01..2020-08', { skip }, async () => {
  const f = await loadField(SST2, { variable: 'sst' });
  assert.deepEqual(f.shape, [128, 89, 180]);
  assert.equal(f.coords.lat!.values[0], 88);
  assert.equal(f.coords.lat!.values[88], -88);
  assert.equal(f.coords.lon!.values[179], 358);
  assert.equal(f.coords.time!.dates[0], '2010-01-01');
  assert.equal(f.coords.time!.dates[127], '2020-08-01');
  const cells = 89 * 180;
  for (let t = 0; t < 128; t++) {
    let ocean = 0;
    for (let i = 0; i < cells; i++) ocean += f.mask[t * cells + i];
    assert.equal(ocean, 10988, `month ${f.coords.time!.dates[t]}`);
  }
});

test('2-degree ERSSTv5: the Nino-3.4 box reproduces CPC\'s Nino-3.4 column (r > 0.999)', { skip }, async () => {
  const f = await loadField(SST2, { variable: 'sst' });
  const box = nino34(f.values, 128, f.coords.lat!.values, f.coords.lon!.values);
  const cpc = cpcTable();
  const ref = f.coords.time!.dates.map((d) => cpc.get(d.slice(0, 7))![0]);
  assert.ok(corr(box, ref) > 0.999, `r = ${corr(box, ref)}`);
});

test('5-degree anomalies (NetCDF-3): minutes since 1980-01-01 in a 360_day calendar decode to 1980-01..2018-12', { skip }, async () => {
  const f = await loadField(ANOM5, { variable: 'tos' });
  assert.deepEqual(f.shape, [468, 24, 72]);
  const d = f.coords.time!.dates;
  for (let t = 0; t < 468; t++) assert.equal(d[t], `${1980 + Math.floor(t / 12)}-${String((t % 12) + 1).padStart(2, '0')}-01`);
  assert.equal(f.mask.reduce((a, b) => a + b, 0), f.values.length, 'land is extrapolated: no missing cells');
  const box = nino34(f.values, 468, f.coords.lat!.values, f.coords.lon!.values);
  const cpc = cpcTable();
  const ref = d.map((x) => cpc.get(x.slice(0, 7))![1]);
  assert.ok(corr(box, ref) > 0.99, `r = ${corr(box, ref)}`);
});

test('ERA5 tropical Pacific (NetCDF-4, int64 days, lon stored minus 180): dates and the Nino-3.4 box', { skip }, async () => {
  const f = await loadField(ERA5, { variable: 'ssta', select: 'time=1980-01:2018-12' });
  assert.deepEqual(f.shape, [468, 13, 35]);
  assert.equal(f.coords.time!.dates[0], '1980-01-01');
  const box = nino34(f.values, 468, f.coords.lat!.values, f.coords.lon!.values, 180);
  const cpc = cpcTable();
  const ref = f.coords.time!.dates.map((x) => cpc.get(x.slice(0, 7))![1]);
  assert.ok(corr(box, ref) > 0.9, `r = ${corr(box, ref)}`);
});

test('CPC and PSL index text files: columns, seasons at their centre month, -99.99 missing', { skip }, async () => {
  const anom = await loadField(CPC, { variable: 'NINO3.4_ANOM' });
  const cpc = cpcTable();
  assert.equal(anom.shape[0], cpc.size);
  anom.coords.time!.dates.forEach((d, i) => assert.equal(anom.values[i], Math.fround(cpc.get(d.slice(0, 7))![1])));
  const oni = await loadField(ONI, { variable: 'ANOM', select: 'time=1950-01:1950-02' });
  // The file's first rows: DJF 1950 -1.53, JFM 1950 -1.34 (DJF is centred on January).
  const rows = readFileSync(ONI, 'utf8').split('\n').slice(1, 3).map((l) => Number(l.trim().split(/\s+/)[3]));
  assert.deepEqual(Array.from(oni.values), rows.map(Math.fround));
  const psl = await loadField(PSL, {});
  const lines = readFileSync(PSL, 'utf8').trim().split('\n').filter((l) => /^\s*\d{4}(\s+-?\d+\.\d+){12}\s*$/.test(l));
  assert.equal(psl.shape[0], lines.length * 12);
  const missing = lines.join(' ').split(/\s+/).filter((x) => x === '-99.99').length;
  assert.equal(psl.mask.length - psl.mask.reduce((a, b) => a + b, 0), missing);
  assert.equal(psl.coords.time!.dates[0], '1870-01-01');
});

test('land-sea masks: byte LSMASK (NetCDF-3) and short mask (NetCDF-4) on the same 1-degree grid', { skip }, async () => {
  const ncar = await loadField(join(GEODATA, 'landsea-mask', 'landsea_1deg_ncar.nc'), { variable: 'LSMASK' });
  const oisst = await loadField(join(GEODATA, 'landsea-mask', 'lsmask_oisst_v2_1deg.nc'), { variable: 'mask' });
  assert.deepEqual(ncar.shape, [180, 360]);
  assert.deepEqual(oisst.shape, [180, 360]);
  // Ocean is 0 in one file and 1 in the other; the two masks come from different sources, so compare counts.
  const ocean1 = ncar.values.filter((v) => v === 0).length;
  const ocean2 = oisst.values.filter((v) => v === 1).length;
  assert.ok(ocean1 / 64800 > 0.6 && ocean1 / 64800 < 0.75, `NCAR ocean fraction ${ocean1 / 64800}`);
  assert.ok(Math.abs(ocean1 - ocean2) / ocean2 < 0.05, `${ocean1} vs ${ocean2}`);
  await withSource(join(GEODATA, 'landsea-mask', 'lsmask_oisst_v2_1deg.nc'), {}, async (s) => {
    assert.ok(s.variables.some((v) => v.name === 'time' && v.shape.length === 0), 'the scalar time variable keeps its name');
  });
});

test('NetCDF-4 reads lazily: one month of the chunked 2-degree file reads one chunk, not the file', { skip }, async () => {
  // h5wasm reaches the disk through Node's fs.readSync (Emscripten NODERAWFS): count the bytes there.
  const fs = createRequire(import.meta.url)('fs') as typeof import('fs');
  const orig = fs.readSync;
  let bytes = 0;
  fs.readSync = ((...a: Parameters<typeof orig>) => {
    const n = orig(...a);
    bytes += n;
    return n;
  }) as typeof orig;
  try {
    await withSource(SST2, {}, async (s) => {
      const one = await planField(s, { variable: 'sst', select: 'time=100' });
      const b0 = bytes;
      const f = await readPlan(one);
      const oneStep = bytes - b0;
      assert.deepEqual(f.shape, [89, 180]);
      const all = await planField(s, { variable: 'sst' });
      const b1 = bytes;
      await readPlan(all);
      const whole = bytes - b1;
      assert.ok(oneStep > 0, 'the byte counter sees HDF5 reads');
      assert.ok(oneStep * 20 < whole, `one step read ${oneStep} bytes, all 128 steps ${whole}`);
      assert.ok(whole < statSync(SST2).size * 1.01);
    });
  } finally {
    fs.readSync = orig;
  }
});
