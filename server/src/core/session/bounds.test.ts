/** The one ZBox-bounds rule: given low/high, else the range of the data the session resolved (a raw .npy too). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { boxBounds, dataRange } from './bounds.js';
import { openSession } from './session.js';
import { REF } from '../../testing/paths.js';
import { readNpyFile } from '../../testing/arrays.js';
import { toFloat32 } from '../array.js';

test('given bounds win; a missing one is the data range; composites without ZBox get none', () => {
  const data = Float32Array.from([0.5, -2, NaN, 3.25]);
  assert.deepEqual(dataRange(data), [-2, 3.25]);
  assert.deepEqual(boxBounds({ composite: 'epsilon-gamma-box', low: -5, high: 5 }, data), { low: -5, high: 5, from: 'given' });
  assert.deepEqual(boxBounds({ composite: 'epsilon-gamma-box', low: -5 }, data), { low: -5, high: 3.25, from: 'data' });
  assert.deepEqual(boxBounds({ composite: 'epsilon-gamma-box' }, data), { low: -2, high: 3.25, from: 'data' });
  assert.equal(boxBounds({ composite: 'epsilon-plus' }, data), undefined);
});

test('a session on a raw .npy takes the bounds from its values, like a data file or a project entry', async () => {
  const file = join(REF, 'cnn_same', 'x_nhwc.npy');
  const s = await openSession({ model: join(REF, 'cnn_same', 'model.h5'), data: { kind: 'npy', file }, request: { composite: 'epsilon-gamma-box' } });
  const x = toFloat32(readNpyFile(file));
  let lo = Infinity, hi = -Infinity;
  for (const v of x) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  assert.deepEqual(s.bounds, { low: lo, high: hi, from: 'data' });
  const given = await openSession({ model: join(REF, 'cnn_same', 'model.h5'), data: { kind: 'npy', file }, request: { composite: 'epsilon-gamma-box', low: -5, high: 5 } });
  assert.deepEqual(given.bounds, { low: -5, high: 5, from: 'given' });
});
