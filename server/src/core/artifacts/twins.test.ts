import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validTwin } from './twins.js';
import { sequential } from './test-graphs.js';

test('the valid twin keeps the weights and drops the zero padding when global pooling hides the grid size', () => {
  const g = sequential([16, 32, 1], [{ kind: 'Conv', k: 5, pad: 'same' }, { kind: 'Conv', k: 3, pad: 'same' }, { kind: 'GlobalPool', op: 'avg' }, { kind: 'Dense', units: 2, act: 'linear' }]);
  const t = validTwin(g)!;
  assert.ok(t);
  const convs = t.nodes.filter((n) => n.kind === 'Conv');
  assert.ok(convs.every((n) => n.kind === 'Conv' && n.params.padding.mode === 'valid'));
  // 16x32 -> 12x28 -> 10x26 without padding.
  assert.deepEqual(convs[1].outputShape, [null, 10, 26, 4]);
  assert.equal(convs[0].weights.kernel, g.nodes[1].weights.kernel, 'same weight arrays');
  assert.equal(g.nodes[1].kind === 'Conv' && g.nodes[1].params.padding.mode, 'same', 'the original is untouched');
});

test('no twin when the dense layer reads the flattened grid, or when nothing is padded', () => {
  const flat = sequential([16, 32, 1], [{ kind: 'Conv', k: 3, pad: 'same' }, { kind: 'Flatten' }, { kind: 'Dense', units: 2 }]);
  assert.equal(validTwin(flat), undefined);
  const valid = sequential([16, 32, 1], [{ kind: 'Conv', k: 3, pad: 'valid' }, { kind: 'GlobalPool', op: 'avg' }, { kind: 'Dense', units: 2 }]);
  assert.equal(validTwin(valid), undefined);
});

test('the average-pooling twin swaps max for average pooling, keeps weights and shapes, and is absent without max pooling', async () => {
  const { avgPoolTwin } = await import('./twins.js');
  const g = sequential([16, 32, 1], [{ kind: 'Conv', k: 3, pad: 'valid' }, { kind: 'Pool', op: 'max', k: 2 }, { kind: 'Conv', k: 3, pad: 'valid' }, { kind: 'GlobalPool', op: 'avg' }, { kind: 'Dense', units: 2, act: 'linear' }]);
  const t = avgPoolTwin(g)!;
  const pool = t.nodes.find((n) => n.kind === 'Pool')!;
  assert.equal(pool.kind === 'Pool' && pool.params.op, 'avg');
  assert.deepEqual(t.nodes.map((n) => n.outputShape), g.nodes.map((n) => n.outputShape));
  assert.equal(t.nodes[1].weights.kernel, g.nodes[1].weights.kernel, 'same weight arrays');
  const avg = sequential([16, 32, 1], [{ kind: 'Conv', k: 3, pad: 'valid' }, { kind: 'Pool', op: 'avg', k: 2 }, { kind: 'GlobalPool', op: 'avg' }, { kind: 'Dense', units: 2 }]);
  assert.equal(avgPoolTwin(avg), undefined);
});
