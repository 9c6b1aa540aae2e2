/**
 * importTfGraph on its own (no TF.js container), as a SavedModel reader calls it: normalized nodes,
 * constants by node name whatever their op (a ReadVariableOp resolved from a checkpoint), inline Const
 * tensors, explicit outputs. The result runs and equals the arithmetic written out here.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend } from '../../backend.js';
import { inferShapes } from '../shapes.js';
import { predict } from '../execute.js';
import { LensError } from '../../errors.js';
import { importTfGraph, type TfNode } from './tf-graph-import.js';
import type { WeightTensor } from '../graph.js';

before(async () => {
  await useBackend('cpu');
});

const FMT = { name: 'tfjs-graph' as const, version: 'test' };
const W: WeightTensor = { shape: [3, 2], data: Float32Array.of(1, -2, 0.5, 3, -1, 4) };
const B: WeightTensor = { shape: [2], data: Float32Array.of(0.25, -10) };

function nodes(): TfNode[] {
  return [
    { name: 'x', op: 'Placeholder', input: [], attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: [null, 3] } } },
    { name: 'dense/kernel', op: 'VarHandleOp', input: [], attr: {} },
    { name: 'dense/MatMul/ReadVariableOp', op: 'ReadVariableOp', input: ['dense/kernel'], attr: {} },
    { name: 'dense/bias', op: 'Const', input: [], attr: { value: { tensor: B } } },
    { name: 'dense/MatMul', op: 'MatMul', input: ['x', 'dense/MatMul/ReadVariableOp', '^x'], attr: { transpose_a: { b: false }, transpose_b: { b: false } } },
    { name: 'dense/BiasAdd', op: 'BiasAdd', input: ['dense/MatMul:0', 'dense/bias'], attr: { data_format: { s: 'NHWC' } } },
    { name: 'dense/Relu', op: 'Relu', input: ['dense/BiasAdd'], attr: {} },
    { name: 'unused', op: 'Sigmoid', input: ['x'], attr: {} },
  ];
}

test('constants by node name and inline tensors; MatMul + BiasAdd + Relu become one Dense', () => {
  const g = inferShapes(importTfGraph({
    nodes: nodes(), consts: new Map([['dense/MatMul/ReadVariableOp', W]]), outputs: ['dense/Relu:0'], file: '/virtual/graph', name: 'm', format: FMT,
  }));
  assert.deepEqual(g.nodes.map((n) => [n.kind, n.activation.name]), [['Input', 'linear'], ['Dense', 'relu']]);
  const x = Float32Array.of(1, 2, 3, -1, 0.5, 2);
  const y = predict(g, { shape: [2, 3], data: x, dtype: 'f4' });
  const want: number[] = [];
  for (let s = 0; s < 2; s++) {
    for (let j = 0; j < 2; j++) {
      let z = B.data[j];
      for (let i = 0; i < 3; i++) z += x[s * 3 + i] * W.data[i * 2 + j];
      want.push(Math.max(0, z));
    }
  }
  assert.deepEqual(Array.from(y.data), want.map((v) => Math.fround(v)));
});

test('an op without a translation on the path to the outputs is refused by node name; one off the path is not read', () => {
  const ns = nodes();
  ns[6].op = 'Erf';
  try {
    importTfGraph({ nodes: ns, consts: new Map([['dense/MatMul/ReadVariableOp', W]]), outputs: ['dense/Relu'], file: '/virtual/graph', name: 'm', format: FMT });
    assert.fail('loaded');
  } catch (e) {
    assert.ok(e instanceof LensError);
    assert.equal(e.code, 'UNSUPPORTED_OP');
    assert.equal(e.layer, 'dense/Relu');
    assert.match(e.message, /Erf/);
    assert.ok(e.hint);
  }
});

test('without the checkpoint value the ReadVariableOp is read as an op and refused', () => {
  try {
    importTfGraph({ nodes: nodes(), consts: new Map(), outputs: ['dense/Relu'], file: '/virtual/graph', name: 'm', format: FMT });
    assert.fail('loaded');
  } catch (e) {
    assert.ok(e instanceof LensError);
    assert.equal(e.code, 'UNSUPPORTED_OP');
    assert.equal(e.layer, 'dense/kernel');
  }
});
