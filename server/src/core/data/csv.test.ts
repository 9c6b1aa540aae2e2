import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../../testing/paths.js';
import { LensError } from '../errors.js';
import { loadField, withSource } from './load.js';
import { dataVariables } from './load.js';

test('CSV with a header: numeric columns are variables along `row`, text columns are listed, NA is missing', async () => {
  const file = join(scratchDir('data-csv'), 'abalone.csv');
  writeFileSync(file, 'sex,length,"diameter",rings\nM,0.455,0.365,15\nF,0.53,NA,9\n"I, juvenile",0.44,0.295,7\n');
  await withSource(file, {}, async (s) => {
    assert.equal(s.format, 'csv');
    assert.deepEqual(s.variables.map((v) => `${v.name}:${v.dtype}`), ['length:f8', 'diameter:f8', 'rings:f8', 'sex:str']);
    assert.deepEqual(dataVariables(s).map((v) => v.name), ['length', 'diameter', 'rings']);
  });
  const d = await loadField(file, { variable: 'diameter' });
  assert.equal(d.values[0], Math.fround(0.365));
  assert.ok(Number.isNaN(d.values[1]));
  assert.equal(d.mask[1], 0);
  const r = await loadField(file, { variable: 'rings', select: 'row=1:3' });
  assert.deepEqual(Array.from(r.values), [9, 7]);
});

test('CSV without a header or with ragged rows is a structured error', async () => {
  const dir = scratchDir('data-csv');
  const nohead = join(dir, 'nohead.csv');
  writeFileSync(nohead, '1,2,3\n4,5,6\n');
  await assert.rejects(loadField(nohead), (e: LensError) => e.code === 'DATA_ERROR' && /header/.test(e.message));
  const ragged = join(dir, 'ragged.csv');
  writeFileSync(ragged, 'a,b\n1,2\n3\n');
  await assert.rejects(loadField(ragged), (e: LensError) => e.code === 'CORRUPT' && /row 3/.test(e.message));
});
