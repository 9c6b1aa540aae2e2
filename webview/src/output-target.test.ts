/** The panel's target field: the CLI's grammar read into the request's target and written back. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasOutputMap, parseTargetField, targetFieldText, targetHint } from './output-target.js';
import type { ModelSummary } from './messages.js';

test('parseTargetField reads indices, pixels, regions and mean; targetFieldText writes them back', () => {
  const cases: [string, unknown][] = [
    ['', 'argmax'], ['3', 3], ['mean', { type: 'all', reduce: 'mean' }], ['pixel:40,10', { type: 'pixel', at: [40, 10] }],
    ['pixel:40,10,2', { type: 'pixel', at: [40, 10, 2] }], ['region:10:19,20:29,mean', { type: 'region', ranges: [[10, 19], [20, 29]], reduce: 'mean' }],
    ['region:0:1,2:3,1,sum', { type: 'region', ranges: [[0, 1], [2, 3]], channel: 1, reduce: 'sum' }],
  ];
  for (const [text, want] of cases) {
    const got = parseTargetField(text);
    assert.deepEqual(got, want, text);
    assert.deepEqual(parseTargetField(targetFieldText(got!)), want, `round trip ${text}`);
  }
  assert.deepEqual(parseTargetField(' Region:1:2, 3:4 '), { type: 'region', ranges: [[1, 2], [3, 4]], reduce: 'sum' });
  for (const bad of ['pixel:1', 'region:5:1,0:1', 'region:0:1', 'x', '-1', 'pixel:a,b', 'region:0:1,3,2:4']) assert.equal(parseTargetField(bad), undefined, bad);
});

test('a model whose output is a map gets the pixel/region hint with its output size', () => {
  const model = (shape: (number | null)[]) => ({ outputs: [{ name: 'y', shape, layout: 'NHWC' }] }) as unknown as ModelSummary;
  assert.equal(hasOutputMap(model([null, 10])), false);
  assert.equal(hasOutputMap(model([null, 48, 48, 1])), true);
  assert.match(targetHint(model([null, 48, 48, 1])).label, /pixel:ROW,COL.*output map 48x48x1/);
  assert.equal(targetHint(model([null, 3])).placeholder, 'argmax');
  assert.equal(hasOutputMap(undefined), false);
});

test('the host accepts explain and exportNetcdf requests with map targets, and refuses malformed ones', async () => {
  const { parseToHost, DEFAULT_STATE } = await import('./messages.js');
  const params = { model: '/m.h5', composite: { name: 'epsilon' }, target: { type: 'region', ranges: [[1, 2], [3, 4]], reduce: 'mean' }, samples: { indices: [0] } };
  assert.ok(parseToHost({ type: 'explain', requestId: 'r', purpose: 'main', params }));
  assert.ok(parseToHost({ type: 'exportNetcdf', params, name: 'r.nc' }));
  assert.ok(parseToHost({ type: 'ready', state: { ...DEFAULT_STATE, target: { type: 'pixel', at: [4, 5] } } }));
  for (const target of [{ type: 'region', ranges: [[2, 1], [3, 4]] }, { type: 'pixel', at: [1] }, { type: 'all' }, { type: 'other' }]) {
    assert.equal(parseToHost({ type: 'exportNetcdf', params: { ...params, target }, name: 'r.nc' }), undefined, JSON.stringify(target));
  }
  assert.equal(parseToHost({ type: 'exportNetcdf', params, name: 5 }), undefined);
});
