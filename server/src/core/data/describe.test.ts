/** describeData and suggestEntry on the real ERSSTv5 files and the Zarr fixture stores. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, SAMPLES, scratchDir } from '../../testing/paths.js';
import { describeData } from './describe.js';
import { basePeriod, suggestEntry } from './suggest.js';
import { loadField } from './load.js';

const D2 = join(SAMPLES, 'data', 'ersstv5_sst_2deg_2010-2020.nc');
const D5 = join(SAMPLES, 'data', 'ersstv5_anom_5deg_1980-2018.nc');
const ZARR = join(REPO, 'server', 'src', 'core', 'data', 'fixtures', 'zarr');

test('the 2-degree NetCDF-4 file: sst with time/lat/lon roles, dates, regular spacing', async () => {
  const d = await describeData(D2);
  assert.equal(d.format, 'netcdf4');
  assert.deepEqual(d.variables.map((v) => v.name), ['sst']);
  const sst = d.variables[0];
  assert.deepEqual(sst.dims, ['time', 'lat', 'lon']);
  assert.deepEqual(sst.shape, [128, 89, 180]);
  assert.deepEqual(sst.roles, ['time', 'lat', 'lon']);
  assert.equal(sst.units, 'degC');
  assert.equal(sst.longName, 'Monthly Means of Sea Surface Temperature');
  const byName = Object.fromEntries(d.axes.map((a) => [a.name, a]));
  assert.equal(byName.time.role, 'time');
  assert.equal(byName.time.times!.length, 128);
  assert.equal(byName.time.first, '2010-01-01');
  assert.equal(byName.time.last, '2020-08-01');
  // The dates are the reader's own decoding of the time axis.
  const f = await loadField(D2, { select: 'time=0:128,lat=0:1,lon=0:1' });
  assert.deepEqual(byName.time.times, f.coords.time!.dates.map((s) => s.slice(0, 10)));
  assert.deepEqual([byName.lat.first, byName.lat.last, byName.lat.step], [88, -88, -2]);
  assert.deepEqual([byName.lon.first, byName.lon.last, byName.lon.step], [0, 358, 2]);
  assert.equal(byName.lat.units, 'degrees_north');
});

test('the 5-degree NetCDF-3 file: tos, 360-day calendar decoded, fill value', async () => {
  const d = await describeData(D5);
  assert.equal(d.format, 'netcdf3');
  assert.deepEqual(d.variables.map((v) => [v.name, v.standardName, v.fillValue]), [['tos', 'sea_surface_temperature', -999]]);
  const time = d.axes.find((a) => a.role === 'time')!;
  assert.equal(time.size, 468);
  assert.equal(time.first, '1980-01-01');
  assert.equal(time.last, '2018-12-01');
  assert.deepEqual(d.axes.filter((a) => a.role !== 'time').map((a) => [a.name, a.role, a.size, a.step]), [['lat', 'lat', 24, 5], ['lon', 'lon', 72, 5]]);
});

for (const v of ['v2', 'v3'] as const) {
  test(`the Zarr ${v} fixture store: two data variables, largest first, coordinates not listed`, async () => {
    const d = await describeData(join(ZARR, `ersst-${v}.zarr`));
    assert.equal(d.format, 'zarr');
    assert.deepEqual(d.variables.map((x) => x.name).sort(), ['tos', 'tos_packed']);
    assert.deepEqual(d.variables[0].roles, ['time', 'lat', 'lon']);
    const time = d.axes.find((a) => a.role === 'time')!;
    assert.deepEqual(time.times, ['1980-01-01', '1980-02-01', '1980-03-01', '1980-04-01']);
    assert.deepEqual(d.axes.find((a) => a.role === 'lat')!.size, 24);
  });
}

test('suggestions: monthly anomalies for a physical field, none for a file of anomalies', async () => {
  const s2 = suggestEntry(await describeData(D2));
  assert.deepEqual(s2.entry!.input!.standardize, { anomaly: 'monthly', period: '2010-01:2019-12' });
  assert.equal(s2.entry!.input!.sampleDim, 'time');
  assert.equal(s2.entry!.mask, 'missing');
  assert.ok(s2.notes.some((n) => /first 10 whole years/.test(n)), s2.notes.join('\n'));
  const s5 = suggestEntry(await describeData(D5));
  assert.equal(s5.entry!.input!.standardize, undefined);
  assert.ok(s5.notes.some((n) => /anomalies already/.test(n)), s5.notes.join('\n'));
});

test('base period: the first 30 whole years, or all whole years, from the first January', () => {
  const months = (y0: number, m0: number, n: number): string[] =>
    Array.from({ length: n }, (_, i) => {
      const k = y0 * 12 + m0 - 1 + i;
      return `${Math.floor(k / 12)}-${String((k % 12) + 1).padStart(2, '0')}-01`;
    });
  assert.deepEqual(basePeriod(months(1950, 1, 12 * 72)), { period: '1950-01:1979-12', years: 30 });
  assert.deepEqual(basePeriod(months(1979, 7, 12 * 5)), { period: '1980-01:1983-12', years: 4 });
  assert.equal(basePeriod(months(2000, 3, 11)), undefined);
});

test('only headers and coordinates are read: a store whose data chunks are gone is still described', async () => {
  const store = join(scratchDir('describe'), 'no-chunks.zarr');
  rmSync(store, { recursive: true, force: true });
  cpSync(join(ZARR, 'ersst-v2.zarr'), store, { recursive: true });
  for (const v of ['tos', 'tos_packed']) for (const f of readdirSync(join(store, v))) if (!f.startsWith('.')) rmSync(join(store, v, f));
  const d = await describeData(store);
  assert.deepEqual(d.variables.map((v) => v.shape), [[4, 24, 36], [4, 24, 36]]);
  assert.equal(d.axes.find((a) => a.role === 'lon')!.step, 5);
  // The chunks are really gone: reading gives the fill value (missing) everywhere, as Zarr says for absent chunks.
  const f = await loadField(store, { variable: 'tos' });
  assert.ok(f.values.every((v) => Number.isNaN(v)));
});
