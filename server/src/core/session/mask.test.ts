/** The one mask builder of the relevance-map checks (it replaced three that disagreed on multi-channel inputs). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checksMask } from './mask.js';

const x = (shape: number[]) => ({ shape, data: { length: shape.reduce((a, b) => a * b, 1) } });
const mask = (data: number[], shape: number[], dims: string[]) => ({ data: Uint8Array.from(data), shape, dims });

test('a project mask over the cells covers every channel of a cell, channels last (NHWC and NCHW alike)', () => {
  // 1 x 2 cells, 2 channels; cell 1 is land.
  const m = mask([1, 0], [1, 2], ['lat', 'lon']);
  const want = Uint8Array.from([0, 0, 1, 1]);
  assert.deepEqual(checksMask({ x: x([3, 1, 2, 2]), mask: m, dims: ['time', 'lat', 'lon', 'channel'] }, 'NHWC'), want);
  // The checks see NCHW maps channels-last too (collect.ts transposes them).
  assert.deepEqual(checksMask({ x: x([3, 2, 1, 2]), mask: m, dims: ['time', 'channel', 'lat', 'lon'] }, 'NCHW'), want);
});

test('a flattened [channel, lat, lon] vector keeps its channels first', () => {
  const m = mask([1, 0], [1, 2], ['lat', 'lon']);
  assert.deepEqual(checksMask({ x: x([3, 4]), mask: m, dims: ['time', 'features'], gridDims: ['channel', 'lat', 'lon'] }, 'NC'), Uint8Array.from([0, 1, 0, 1]));
  assert.deepEqual(checksMask({ x: x([3, 4]), mask: m, dims: ['time', 'features'], gridDims: ['lat', 'lon', 'channel'] }, 'NC'), Uint8Array.from([0, 0, 1, 1]));
});

test('a data file\'s mask over its samples: a cell is masked where any sample misses it; channels-first values to channels-last', () => {
  const m = mask([1, 1, 1, 0, 1, 1], [2, 3], ['time', 'x']);
  assert.deepEqual(checksMask({ x: x([2, 3]), mask: m, dims: ['time', 'x'] }, 'NC'), Uint8Array.from([1, 0, 0]));
  // [1, C=2, 2 cells] with the channels in the mask: channel 1 of cell 0 missing.
  const c = mask([1, 1, 0, 1], [1, 2, 2], ['batch', 'channel', 'x']);
  assert.deepEqual(checksMask({ x: x([1, 2, 2]), mask: c, dims: ['batch', 'channel', 'x'] }, 'NCW'), Uint8Array.from([0, 1, 0, 0]));
});

test('no mask where nothing is masked or where a flatten "valid" input holds valid cells only', () => {
  assert.equal(checksMask({ x: x([2, 2]), mask: mask([1, 1], [2], ['x']) }, 'NC'), undefined);
  assert.equal(checksMask({ x: x([2, 1]), mask: mask([1, 0], [2], ['x']), scatter: { gridShape: [2], gridDims: ['x'], indices: Int32Array.from([0]) } }, 'NC'), undefined);
});
