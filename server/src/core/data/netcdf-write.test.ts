/**
 * The NetCDF-3 (CDF-2) writer, checked by an independent reader, ncdump (Debian's netcdf-bin): the
 * header it prints and the values at full float precision; and by our own reader, bit-exact. The
 * relevance file: CF coordinates and attributes, the wrapped longitude folded back with the total kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LensError } from '../errors.js';
import { scratchDir } from '../../testing/paths.js';
import { writeNetcdf3 } from './netcdf-write.js';
import { relevanceNetcdf } from './netcdf-write-relevance.js';
import { openNetcdf3 } from './netcdf3.js';
import { fullSlab } from './source.js';
import { randomArray, rng } from '../lrp/test-graphs.js';

const DIR = scratchDir('netcdf-write');

/** The values of a variable as ncdump prints them with 9 (float) and 17 (double) significant digits: exact. */
function ncdumpValues(file: string, name: string): number[] {
  const text = execFileSync('ncdump', ['-p', '9,17', '-v', name, file], { encoding: 'utf8' });
  const m = new RegExp(`\\n\\s*${name} =([^;]*);`).exec(text.slice(text.indexOf('data:')))!;
  return m[1].split(',').map((v) => (v.trim() === 'NaNf' || v.trim() === 'NaN' ? NaN : Number(v.trim().replace(/f$/, ''))));
}

test('writeNetcdf3: ncdump reads the header and the values; our reader reads them back bit-exact', async () => {
  const rel = randomArray(3 * 4 * 5 * 2, rng(7), 3);
  rel[5] = NaN;
  const bytes = writeNetcdf3({
    dims: [['time', 3], ['lat', 4], ['lon', 5], ['channel', 2]],
    attrs: { Conventions: 'CF-1.8', answer: { type: 'int', values: [42] }, scale: 0.5 },
    vars: [
      { name: 'time', dims: ['time'], type: 'double', data: [0, 31, 59], attrs: { units: 'days since 1980-01-01', calendar: 'standard', axis: 'T' } },
      { name: 'lat', dims: ['lat'], type: 'double', data: [-15, -5, 5, 15], attrs: { units: 'degrees_north', standard_name: 'latitude' } },
      { name: 'lon', dims: ['lon'], type: 'double', data: [0.5, 72.25, 144, 216, 288], attrs: { units: 'degrees_east' } },
      { name: 'relevance', dims: ['time', 'lat', 'lon', 'channel'], type: 'float', data: rel, attrs: { long_name: 'LRP relevance of class 1 for m.h5', units: '1', fl: { type: 'float', values: [0.1, 2] } } },
      { name: 'odd', dims: ['lat'], type: 'int', data: [1, -2, 3, 2147483647] },
    ],
  });
  const file = join(DIR, 'basic.nc');
  writeFileSync(file, bytes);
  const header = execFileSync('ncdump', ['-h', file], { encoding: 'utf8' });
  for (const line of [
    'time = 3 ;', 'lat = 4 ;', 'lon = 5 ;', 'channel = 2 ;',
    'double time(time) ;', 'time:units = "days since 1980-01-01" ;', 'time:calendar = "standard" ;',
    'float relevance(time, lat, lon, channel) ;', 'relevance:long_name = "LRP relevance of class 1 for m.h5" ;', 'relevance:units = "1" ;',
    'relevance:fl = 0.1f, 2.f ;', 'int odd(lat) ;', ':Conventions = "CF-1.8" ;', ':answer = 42 ;', ':scale = 0.5 ;',
  ]) assert.ok(header.includes(line), `ncdump -h shows '${line}':\n${header}`);
  assert.match(execFileSync('ncdump', ['-k', file], { encoding: 'utf8' }), /64-bit offset/);
  const viaNcdump = ncdumpValues(file, 'relevance');
  assert.equal(viaNcdump.length, rel.length);
  viaNcdump.forEach((v, i) => assert.ok(Object.is(Math.fround(v), rel[i]), `relevance[${i}]: ncdump ${v}, written ${rel[i]}`));
  assert.deepEqual(ncdumpValues(file, 'lon'), [0.5, 72.25, 144, 216, 288]);
  assert.deepEqual(ncdumpValues(file, 'odd'), [1, -2, 3, 2147483647]);

  const src = await openNetcdf3(file);
  try {
    const v = src.variables.find((x) => x.name === 'relevance')!;
    assert.deepEqual(v.shape, [3, 4, 5, 2]);
    assert.equal(v.attrs.units, '1');
    const back = await src.read('relevance', fullSlab(v.shape));
    assert.deepEqual(new Uint8Array((back.data as Float32Array).buffer.slice(0)), new Uint8Array(rel.buffer.slice(0)), 'bit-exact, NaN included');
    assert.equal(src.globalAttrs.Conventions, 'CF-1.8');
  } finally {
    await src.close();
  }
});

test('writeNetcdf3 refuses an oversized file before allocating, and bad names or shapes', () => {
  const huge = () => writeNetcdf3({ dims: [['a', 100000], ['b', 100000]], vars: [{ name: 'v', dims: ['a', 'b'], type: 'float', data: [] }] });
  assert.throws(huge, (e: unknown) => e instanceof LensError && e.code === 'BUDGET_EXCEEDED');
  assert.throws(() => writeNetcdf3({ dims: [['1bad', 2]], vars: [] }), (e: unknown) => e instanceof LensError && e.code === 'USAGE');
  assert.throws(() => writeNetcdf3({ dims: [['a', 2]], vars: [{ name: 'v', dims: ['a'], type: 'float', data: [1, 2, 3] }] }), LensError);
  assert.throws(() => writeNetcdf3({ dims: [['a', 2]], vars: [{ name: 'v', dims: ['b'], type: 'float', data: [1, 2] }] }), LensError);
});

test('relevanceNetcdf: CF coordinates from the input, time per sample, the wrapped longitude folded back with the total kept', async () => {
  const wrap = 2;
  const lon = Array.from({ length: 6 }, (_, i) => i * 60); // the data's 6 columns
  const lonExt = [...lon.slice(-wrap), ...lon, ...lon.slice(0, wrap)]; // the pipeline's wrapped axis
  const n = 2;
  const shape = [n, 3, lonExt.length, 1];
  const rel = randomArray(shape.reduce((a, b) => a * b, 1), rng(9));
  const input = Float32Array.from(rel, (_, i) => i);
  const bytes = relevanceNetcdf({
    relevance: { data: rel, shape },
    input: { data: input, shape, name: 'sst', units: 'degC' },
    dims: ['lat', 'lon', 'channel'],
    coords: {
      lat: { dim: 'lat', values: Float64Array.of(-10, 0, 10), units: 'degrees_north' },
      lon: { dim: 'lon', values: Float64Array.from(lonExt), units: 'degrees_east' },
      time: { dim: 'time', values: Float64Array.of(66443, 66474), units: 'days since 1800-1-1 00:00:00', calendar: 'gregorian', dates: ['1981-12-01', '1982-01-01'] },
    },
    wrapLon: wrap,
    explained: 'class 1',
    model: 'cnn.h5',
    composite: 'epsilon-plus',
    parameters: { epsilon: 1e-6, init: 'onehot' },
    target: '1',
    engine: 'onnxruntime',
    version: '9.9.9',
    dataFile: 'sst.nc',
    history: 'lrp-lens explain cnn.h5 --out r.nc',
  });
  const file = join(DIR, 'relevance.nc');
  writeFileSync(file, bytes);
  const header = execFileSync('ncdump', ['-h', file], { encoding: 'utf8' });
  for (const line of [
    'time = 2 ;', 'lat = 3 ;', 'lon = 6 ;', 'channel = 1 ;', 'float relevance(time, lat, lon, channel) ;', 'float input(time, lat, lon, channel) ;',
    'time:units = "days since 1800-1-1 00:00:00" ;', 'time:calendar = "gregorian" ;', 'time:axis = "T" ;', 'lat:standard_name = "latitude" ;', 'lon:axis = "X" ;',
    'relevance:long_name = "LRP relevance of class 1 for cnn.h5" ;', 'relevance:lrp_composite = "epsilon-plus" ;', 'relevance:lrp_engine = "onnxruntime" ;',
    'relevance:lrp_lens_version = "9.9.9" ;', 'input:units = "degC" ;', ':Conventions = "CF-1.8" ;',
  ]) assert.ok(header.includes(line), `ncdump -h shows '${line}':\n${header}`);
  assert.match(header, /:history = ".*: lrp-lens explain cnn.h5 --out r.nc"/);
  assert.deepEqual(ncdumpValues(file, 'lon'), lon);
  assert.deepEqual(ncdumpValues(file, 'time'), [66443, 66474]);
  const folded = ncdumpValues(file, 'relevance');
  assert.equal(folded.length, n * 3 * 6);
  // Each copy's relevance is added to its original column: per sample and row, the total is kept, and each
  // column is the sum of its original and copy cells (computed here from the wrapped layout).
  for (let s = 0; s < n; s++) {
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 6; c++) {
        let want = 0;
        lonExt.forEach((_, e) => {
          if ((((e - wrap) % 6) + 6) % 6 === c) want += rel[(s * 3 + r) * lonExt.length + e];
        });
        assert.ok(Math.abs(folded[(s * 3 + r) * 6 + c] - want) <= 1e-6 * Math.max(1, Math.abs(want)), `s${s} r${r} c${c}`);
      }
    }
  }
  // The input keeps the original columns only.
  const inp = ncdumpValues(file, 'input');
  assert.equal(inp[0], input[wrap]);
  assert.equal(inp[5], input[wrap + 5]);
});
