import { test } from 'node:test';
import assert from 'node:assert/strict';
import { axisOf, decodeTimes, decodeValues, decodingOf, formatDate } from './cf.js';
import { parseDimSelection, parseSelection, resolveSelection } from './select.js';
import { LensError } from '../errors.js';

const dates = (v: number[], units: string, cal?: string): string[] => decodeTimes(v, units, cal).map(formatDate);

test('CF calendars: the same day offsets land on different dates', () => {
  // Day 59 after 2000-01-01: Feb 29 exists in the Gregorian calendar, not in noleap; 360_day has Feb 30.
  assert.deepEqual(dates([59], 'days since 2000-01-01', 'standard'), ['2000-02-29']);
  assert.deepEqual(dates([59], 'days since 2000-01-01', 'proleptic_gregorian'), ['2000-02-29']);
  assert.deepEqual(dates([59], 'days since 2000-01-01', 'noleap'), ['2000-03-01']);
  assert.deepEqual(dates([59], 'days since 2000-01-01', '365_day'), ['2000-03-01']);
  assert.deepEqual(dates([59], 'days since 2000-01-01', '360_day'), ['2000-02-30']);
  assert.deepEqual(dates([59], 'days since 2001-01-01', 'all_leap'), ['2001-02-29']);
  // 1900 is a leap year in the Julian calendar only.
  assert.deepEqual(dates([59], 'days since 1900-01-01', 'julian'), ['1900-02-29']);
  assert.deepEqual(dates([59], 'days since 1900-01-01', 'standard'), ['1900-03-01']);
  // Units and reference times.
  assert.deepEqual(dates([43200 * 13], 'minutes since 1980-01-01 00:00', '360_day'), ['1981-02-01']);
  assert.deepEqual(dates([36], 'hours since 1999-12-31 12:00:00'), ['2000-01-02']);
  assert.deepEqual(dates([1.5], 'days since 2000-01-01'), ['2000-01-02T12:00']);
  assert.deepEqual(dates([14, 25], 'months since 1800-01-01'), ['1801-03-01', '1802-02-01']);
  assert.deepEqual(dates([19723], 'days since 1800-01-01'), ['1854-01-01']);
  assert.throws(() => decodeTimes([0], 'days after 2000-01-01'), (e: LensError) => e.code === 'DATA_ERROR');
  assert.throws(() => decodeTimes([0], 'days since 2000-01-01', 'martian'), (e: LensError) => e.code === 'DATA_ERROR' && /calendar/.test(e.message));
});

test('CF decoding: fill, missing_value and valid_range compare stored values; then scale and offset', () => {
  const dec = decodingOf({ attrs: { _FillValue: -32767, missing_value: -32766, scale_factor: 0.5, add_offset: 10, valid_range: [-1000, 1000] } });
  const out = decodeValues({ shape: [5], data: Int16Array.from([-32767, -32766, 4, 1001, -1000]), dtype: 'i2' }, dec);
  assert.ok(Number.isNaN(out[0]) && Number.isNaN(out[1]) && Number.isNaN(out[3]));
  assert.equal(out[2], 12);
  assert.equal(out[4], -490);
  // A float fill stored as float32 (-9.96921e36) matches after rounding to float32.
  const f = decodeValues({ shape: [2], data: Float32Array.from([-9.96921e36, 1]), dtype: 'f4' }, decodingOf({ attrs: { missing_value: -9.96921e36 } }));
  assert.ok(Number.isNaN(f[0]));
  assert.equal(f[1], 1);
});

test('CF axes from standard_name, units, axis or name', () => {
  assert.equal(axisOf({ name: 'y', attrs: { standard_name: 'latitude' } }), 'lat');
  assert.equal(axisOf({ name: 'nav', attrs: { units: 'degrees_east' } }), 'lon');
  assert.equal(axisOf({ name: 't', attrs: { units: 'hours since 2000-01-01' } }), 'time');
  assert.equal(axisOf({ name: 'plev', attrs: {} }), 'level');
  assert.equal(axisOf({ name: 'foo', attrs: {} }), undefined);
});

test('selections: syntax and resolution', () => {
  assert.deepEqual(parseSelection('time=0:12, lat=-10:'), { time: { kind: 'range', start: 0, stop: 12 }, lat: { kind: 'range', start: -10, stop: undefined } });
  assert.deepEqual(parseDimSelection('t', '1997-12:1998-02'), { kind: 'time', from: '1997-12', to: '1998-02' });
  assert.deepEqual(parseDimSelection('t', '2000-01-01T06:00:2000-01-02'), { kind: 'time', from: '2000-01-01T06:00', to: '2000-01-02' });
  assert.deepEqual(parseDimSelection('t', '2015'), { kind: 'index', index: 2015 });
  assert.deepEqual(parseDimSelection('p', '~500'), { kind: 'value', value: 500 });
  assert.deepEqual(parseDimSelection('lat', '~5:~-5'), { kind: 'valueRange', from: 5, to: -5 });
  assert.throws(() => parseSelection('time'), (e: LensError) => e.code === 'BAD_INPUT');
  assert.throws(() => parseDimSelection('t', 'abc'), (e: LensError) => e.code === 'BAD_INPUT');
  const lat = [10, 5, 0, -5, -10];
  const r = resolveSelection({ lat: parseDimSelection('lat', '~5:~-5'), time: parseDimSelection('time', '-1') }, 'v', ['time', 'lat'], [3, 5], (d) => (d === 'lat' ? { values: lat } : {}));
  assert.deepEqual(r.slab, [[2, 3], [1, 4]]);
  assert.deepEqual(r.drop, [true, false]);
  const dts = ['2000-01-01', '2000-02-01', '2000-03-01'];
  // Axis names stand for the dims CF detection found.
  const al = resolveSelection({ lat: parseDimSelection('lat', '1:3') }, 'v', ['latitude'], [5], () => ({}), { lat: 'latitude' });
  assert.deepEqual(al.slab, [[1, 3]]);
  assert.throws(() => resolveSelection({ tim: parseDimSelection('tim', '0') }, 'v', ['time'], [3], () => ({})), (e: LensError) => e.code === 'SELECTION_OUT_OF_RANGE' && /Did you mean 'time'/.test(e.message));
  const a = resolveSelection({ time: parseDimSelection('time', '2000-02:') }, 'v', ['time'], [3], () => ({ dates: dts }));
  assert.deepEqual(a.slab, [[1, 3]]);
});
