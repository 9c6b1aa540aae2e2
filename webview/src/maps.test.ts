import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { artifactShare, classMeans, meanMap, overlayGeometry, toMaps } from './maps.js';
import { loadReference } from '../../server/src/testing/sst-fixtures.js';
import { toFloat32 } from '../../server/src/core/array.js';
import { REF } from '../../server/src/testing/paths.js';
import { readNpyFile } from '../../server/src/testing/arrays.js';

test('NCHW and NHWC relevance files give the same maps', () => {
  const nhwc = loadReference();
  const nchw = readNpyFile(join(REF, 'cnn_same', 'relevance_epsilon_plus_nchw.npy'));
  const a = toMaps(nhwc.relevance['epsilon_plus'], [nhwc.n, nhwc.height, nhwc.width, 1], 'NHWC', 'sum');
  const b = toMaps(toFloat32(nchw), nchw.shape, 'NCHW', 'sum');
  assert.deepEqual([a.n, a.height, a.width], [8, 16, 32]);
  for (let s = 0; s < 8; s++) for (let i = 0; i < 512; i += 37) assert.ok(Math.abs(a.maps[s][i] - b.maps[s][i]) <= 1e-6 * Math.max(1, Math.abs(a.maps[s][i])));
  // Several channels are summed for relevance and the first is taken for inputs.
  const two = toMaps(Float32Array.from([1, 10, 2, 20]), [1, 1, 2, 2], 'NHWC', 'sum');
  assert.deepEqual(Array.from(two.maps[0]), [11, 22]);
  assert.deepEqual(Array.from(toMaps(Float32Array.from([1, 2, 10, 20]), [1, 2, 1, 2], 'NCHW', 'first').maps[0]), [1, 2]);
});

test('class means average only the samples of each class', () => {
  const ref = loadReference();
  const m = toMaps(ref.relevance['epsilon_1e-6'], [ref.n, ref.height, ref.width, 1], 'NHWC', 'sum');
  const means = classMeans(m.maps, ref.target);
  assert.equal(means.reduce((n, c) => n + c.count, 0), ref.n);
  for (const c of means) {
    const own = m.maps.filter((_, i) => ref.target[i] === c.cls);
    const expected = own.reduce((s, x) => s + x[100], 0) / own.length;
    assert.ok(Math.abs(c.map[100] - expected) <= 1e-7 * Math.max(1e-3, Math.abs(expected)), `class ${c.cls}: ${c.map[100]} vs ${expected}`);
  }
  const abs = meanMap(m.maps, true);
  assert.ok(abs.every((v) => v >= 0));
});

test('artifact share: a map concentrated on the border band reads as such', () => {
  const h = 10, w = 10;
  const rel = new Float32Array(h * w);
  rel[0] = 3; // corner: in a 1-cell band
  rel[55] = 1; // interior
  const mask = new Uint8Array(h * w);
  mask[55] = 1;
  const s = artifactShare(rel, h, w, 1, mask);
  assert.equal(s.border, 0.75);
  assert.equal(s.borderCells, 0.36);
  assert.equal(s.masked, 0.25);
  assert.equal(s.maskedCells, 0.01);
});

test('overlay geometry is read from the findings figures', () => {
  const g = overlayGeometry([
    { code: 'LRP101', data: { pads: [2, 2, 2, 2], band: [4, 4, 4, 4], oneSided: false } },
    { code: 'LRP102', data: { kernel: [3, 3], strides: [2, 2], skipsCells: 0 } },
    { code: 'LRP104', data: { band: 9 } },
  ]);
  assert.deepEqual(g, { band: 4, stride: 2 });
  assert.deepEqual(overlayGeometry([]), {});
});

test('the longitude wrap is undone: relevance of copied columns folds back, inputs are cropped', async () => {
  const { unwrapColumns, unwrapBatch } = await import('./maps.js');
  // 1 row of 4 longitudes wrapped by 2: columns are copies of [2, 3], then 0..3, then copies of [0, 1].
  const inner = [10, 20, 30, 40];
  const wrapped = Float32Array.from([30, 40, ...inner, 10, 20]);
  assert.deepEqual(Array.from(unwrapColumns(wrapped, 1, 8, 2, 'crop')), inner);
  const rel = Float32Array.from([1, 2, 100, 200, 300, 400, 3, 4]);
  // Column 2 gets the left copy 1, column 3 the left copy 2, columns 0 and 1 the right copies 3 and 4.
  assert.deepEqual(Array.from(unwrapColumns(rel, 1, 8, 2, 'fold')), [103, 204, 301, 402]);
  const sum = (a: ArrayLike<number>) => Array.from(a).reduce((x, y) => x + y, 0);
  const b = unwrapBatch({ n: 1, height: 1, width: 8, maps: [rel] }, 2, 'fold');
  assert.equal(b.width, 4);
  assert.equal(sum(b.maps[0]), sum(rel), 'folding keeps the sum of relevance');
  assert.deepEqual(Array.from(unwrapColumns(Uint8Array.from([0, 1, 1, 0, 0, 0, 1, 0]), 1, 8, 2, 'crop')), [1, 0, 0, 0]);
});
