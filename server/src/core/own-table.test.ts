/** Prototype-free lookup tables: file-controlled names such as constructor find nothing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ownTable, ownValue } from './own-table.js';
import { parseTimeUnits } from './data/cf.js';
import { LensError } from './errors.js';

test('ownTable answers its own keys only; ownValue does the same on a plain object', () => {
  const t = ownTable({ relu: 1, tanh: 2 });
  assert.equal(t.relu, 1);
  for (const k of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
    assert.equal(t[k], undefined, k);
    assert.equal(k in t, false, k);
    assert.equal(ownValue({ relu: 1 } as Record<string, number>, k), undefined, k);
  }
  assert.equal(ownValue({ relu: 1 } as Record<string, number>, 'relu'), 1);
  assert.throws(() => ((t as Record<string, number>).relu = 3), TypeError, 'frozen');
});

test('NetCDF time units and calendars named like Object.prototype members are DATA_ERROR', () => {
  assert.equal(parseTimeUnits('days since 2000-01-01', '360_day').calendar, '360_day');
  for (const name of ['constructor', '__proto__', 'toString', 'valueOf']) {
    assert.throws(() => parseTimeUnits('days since 2000-01-01', name), (e: unknown) => e instanceof LensError && e.code === 'DATA_ERROR', `calendar ${name}`);
  }
  // \w+ matches the unit: 'constructor since ...' is an unknown unit, not Object's constructor.
  for (const unit of ['constructor', 'toString', 'valueOf', 'hasOwnProperty']) {
    assert.throws(() => parseTimeUnits(`${unit} since 2000-01-01`), (e: unknown) => e instanceof LensError && e.code === 'DATA_ERROR', `unit ${unit}`);
  }
});
