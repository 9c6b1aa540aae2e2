import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../../testing/paths.js';
import { LensError } from '../errors.js';
import { describeFile, loadField, openSource, planField, readPlan, withSource } from './load.js';
import { HAVE_NCGEN, cdlData, ncgen } from '../../testing/data-files.js';
import { errorCode as code } from '../../testing/lens-error.js';

const skip = HAVE_NCGEN ? false : 'ncgen (Debian netcdf-bin) is not installed';

const T = 6, Y = 4, X = 8;

// classic = CDF-1, 64-bit offset = CDF-2, cdf5 = CDF-5 (64-bit data), nc4 = HDF5, nc7 = NetCDF-4 classic model.
for (const kind of ['classic', '64-bit offset', 'cdf5', 'nc4', 'nc7'] as const) {
  test(`${kind} file from ncgen: packed shorts decode to stored * scale_factor + add_offset, fill -> NaN`, { skip }, async () => {
    const file = ncgen(kind);
    const f = await loadField(file, { variable: 'sst' });
    assert.deepEqual(f.shape, [T, Y, X]);
    assert.deepEqual(f.dims, ['time', 'lat', 'lon']);
    assert.equal(f.packed, true);
    const stored = cdlData('sst');
    const scale = Math.fround(0.01);
    assert.equal(f.values.length, stored.length);
    let missing = 0;
    stored.forEach((s, i) => {
      if (s === null) {
        missing++;
        assert.ok(Number.isNaN(f.values[i]), `cell ${i} should be missing`);
        assert.equal(f.mask[i], 0);
      } else assert.ok(Math.abs(f.values[i] - (s * scale + 20)) < 1e-5, `cell ${i}: ${f.values[i]} vs ${s * scale + 20}`);
    });
    assert.equal(missing, 4 * T);
    assert.deepEqual(Array.from(f.coords.lat!.values), cdlData('lat'));
    assert.deepEqual(Array.from(f.coords.lon!.values), cdlData('lon'));
    // 360_day calendar: every month has 30 days, so day 330 is Dec 1 and day 360 the next Jan 1.
    assert.deepEqual(f.coords.time!.dates, ['2000-01-01', '2000-02-01', '2000-03-01', '2000-04-01', '2000-12-01', '2001-01-01']);
    assert.equal(f.coords.time!.calendar, '360_day');
  });

  test(`${kind}: missing_value on a float variable, a level picked by value, a date range`, { skip }, async () => {
    const file = ncgen(kind);
    const f = await loadField(file, { variable: 'ta', select: 'level=~500,time=2000-02:2000-04' });
    assert.deepEqual(f.dims, ['time', 'lat', 'lon']);
    assert.deepEqual(f.shape, [3, Y, X]);
    assert.deepEqual(f.coords.time!.dates, ['2000-02-01', '2000-03-01', '2000-04-01']);
    const stored = cdlData('ta');
    for (let t = 0; t < 3; t++) {
      for (let i = 0; i < Y * X; i++) {
        const s = stored[((t + 1) * 2 + 1) * Y * X + i]!;
        const got = f.values[t * Y * X + i];
        if (s === -999) assert.ok(Number.isNaN(got));
        else assert.equal(got, Math.fround(s));
      }
    }
  });
}

test('NetCDF-3 reads lazily: one time step of a record variable costs that step\'s bytes', { skip }, async () => {
  const file = ncgen('classic');
  await withSource(file, {}, async (s) => {
    const before = s.bytesRead();
    const p = await planField(s, { variable: 'sst', select: 'time=3' });
    const coordBytes = s.bytesRead() - before; // lat, lon, time coordinates
    await readPlan(p);
    assert.equal(s.bytesRead() - before - coordBytes, Y * X * 2, 'one 4x8 step of shorts');
    const q = await planField(s, { variable: 'ta', select: 'time=1:3,level=1,lat=1:3,lon=2:6' });
    const b0 = s.bytesRead();
    const f = await readPlan(q);
    assert.equal(s.bytesRead() - b0, 2 * 2 * 4 * 4, '2 steps x 2 lats x 4 lons of floats');
    const stored = cdlData('ta');
    assert.equal(f.values[0], Math.fround(stored[(1 * 2 + 1) * Y * X + 1 * X + 2]!));
  });
});

test('integer variables stay exact; unknown variables get a suggestion', { skip }, async () => {
  for (const kind of ['classic', 'nc4'] as const) {
    const file = ncgen(kind);
    const f = await loadField(file, { variable: 'cellid' });
    assert.deepEqual(Array.from(f.values), cdlData('cellid'));
    await assert.rejects(loadField(file, { variable: 'ss' }), (e: LensError) => e.code === 'UNKNOWN_VARIABLE' && /Did you mean 'sst'/.test(e.message));
  }
});

test('selections out of range and unknown dims are SELECTION_OUT_OF_RANGE', { skip }, async () => {
  const file = ncgen('nc4');
  assert.equal(await code(loadField(file, { variable: 'sst', select: 'time=0:99' })), 'SELECTION_OUT_OF_RANGE');
  assert.equal(await code(loadField(file, { variable: 'sst', select: 'time=6' })), 'SELECTION_OUT_OF_RANGE');
  assert.equal(await code(loadField(file, { variable: 'sst', select: 'time=1999-01:1999-12' })), 'SELECTION_OUT_OF_RANGE');
  await assert.rejects(loadField(file, { variable: 'sst', select: 'tme=0' }), (e: LensError) => e.code === 'SELECTION_OUT_OF_RANGE' && /did you mean 'time'/i.test(e.message));
  assert.equal(await code(loadField(file, { variable: 'sst', maxElements: 100 })), 'FILE_TOO_LARGE');
});

test('truncated and corrupt NetCDF files are TRUNCATED / CORRUPT, not crashes', { skip }, async () => {
  const dir = scratchDir('data-netcdf-bad');
  const c3 = readFileSync(ncgen('classic'));
  const half = join(dir, 'half.nc');
  writeFileSync(half, c3.subarray(0, c3.length - 200));
  assert.equal(await code(loadField(half, { variable: 'ta' })), 'TRUNCATED');
  const head = join(dir, 'head.nc');
  writeFileSync(head, c3.subarray(0, 60));
  assert.equal(await code(openSource(head)), 'TRUNCATED');
  const junk = join(dir, 'junk.nc');
  writeFileSync(junk, Buffer.from('this is not a netcdf file at all, just text\n'));
  assert.equal(await code(openSource(junk)), 'CORRUPT');
  const c4 = readFileSync(ncgen('nc4'));
  const h5half = join(dir, 'half4.nc');
  writeFileSync(h5half, c4.subarray(0, Math.floor(c4.length / 3)));
  const c = await code(loadField(h5half, { variable: 'sst' }));
  assert.ok(c === 'TRUNCATED' || c === 'CORRUPT', c);
  const missing = join(dir, 'nope.nc');
  assert.equal(await code(openSource(missing)), 'FILE_NOT_FOUND');
  copyFileSync(half, join(dir, 'copy.nc'));
});

test('damaged NetCDF-3 and NetCDF-4 files (bytes overwritten): every failure is a LensError, never INTERNAL', { skip }, async () => {
  const dir = scratchDir('data-netcdf-fuzz');
  let seed = 7;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const sources: [string, number, string][] = [[ncgen('classic'), 600, '.nc'], [ncgen('nc4'), Infinity, '.nc']];
  const seen = new Set<string>();
  for (const [src, limit, ext] of sources) {
    const orig = readFileSync(src);
    for (let k = 0; k < 40; k++) {
      const b = Buffer.from(orig);
      for (let f = 0; f < 3; f++) b[Math.floor(rnd() * Math.min(limit, b.length))] = Math.floor(rnd() * 256);
      const p = join(dir, `fz${k}${ext}`);
      writeFileSync(p, b);
      try {
        await withSource(p, {}, async (s) => {
          for (const v of s.variables) if (v.dtype !== 'S1' && v.dtype !== 'str') await readPlan(await planField(s, { variable: v.name, maxElements: 1e7 }));
        });
        seen.add('ok');
      } catch (e) {
        assert.ok(e instanceof LensError, `${src} mutation ${k}: ${e}`);
        assert.notEqual(e.code, 'INTERNAL', `${src} mutation ${k}: ${e.message}`);
        seen.add(e.code);
      }
    }
  }
  assert.ok(seen.size > 1, 'some mutations must fail');
});

test('NetCDF-3 record layout: a lone record variable is unpadded, several are padded to 4 bytes each', { skip }, async () => {
  const dir = scratchDir('data-netcdf-rec');
  const one = join(dir, 'one.cdl');
  writeFileSync(one, 'netcdf one {\ndimensions:\n  t = UNLIMITED ;\n  x = 3 ;\nvariables:\n  short v(t, x) ;\ndata:\n  v = 1, 2, 3, 4, 5, 6, 7, 8, 9 ;\n}\n');
  const two = join(dir, 'two.cdl');
  writeFileSync(two, 'netcdf two {\ndimensions:\n  t = UNLIMITED ;\n  x = 3 ;\nvariables:\n  short v(t, x) ;\n  byte b(t) ;\ndata:\n  v = 1, 2, 3, 4, 5, 6, 7, 8, 9 ;\n  b = -1, -2, -3 ;\n}\n');
  for (const cdl of [one, two]) {
    const file = ncgen('classic', cdl, cdl.replace(/\.cdl$/, '.nc').split('/').pop(), dir);
    const f = await loadField(file, { variable: 'v', select: 't=1:3' });
    assert.deepEqual(Array.from(f.values), [4, 5, 6, 7, 8, 9], cdl);
  }
  const b = await loadField(join(dir, 'two.nc'), { variable: 'b' });
  assert.deepEqual(Array.from(b.values), [-1, -2, -3]);
});

test('NetCDF-4 big-endian variables (_Endianness = "big") read as their values', { skip }, async () => {
  const dir = scratchDir('data-netcdf-be');
  const cdl = join(dir, 'be.cdl');
  writeFileSync(cdl, 'netcdf be {\ndimensions:\n  x = 4 ;\nvariables:\n  float v(x) ;\n    v:_Endianness = "big" ;\n  short s(x) ;\n    s:_Endianness = "big" ;\n  double d(x) ;\n    d:_Endianness = "big" ;\ndata:\n  v = 1.5, -2.25, 3, 1e30 ;\n  s = 1, -2, 300, -32768 ;\n  d = 0.5, 2, -3, 4 ;\n}\n');
  const file = ncgen('nc4', cdl, 'be.nc', dir);
  assert.deepEqual(Array.from((await loadField(file, { variable: 'v' })).values), [1.5, -2.25, 3, Math.fround(1e30)]);
  assert.deepEqual(Array.from((await loadField(file, { variable: 's' })).values), [1, -2, 300, -32768]);
  assert.deepEqual(Array.from((await loadField(file, { variable: 'd' })).values), [0.5, 2, -3, 4]);
});

test('describeFile lists variables with units and long names (for completions in lrp-lens.json)', { skip }, async () => {
  const d = await describeFile(ncgen('nc4'));
  assert.equal(d.format, 'netcdf4');
  const sst = d.variables.find((v) => v.name === 'sst')!;
  assert.deepEqual([sst.units, sst.longName, sst.shape], ['degC', 'sea surface temperature', [6, 4, 8]]);
});
