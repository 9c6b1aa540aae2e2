/**
 * The long tail of real ONNX exports (tf2onnx / keras2onnx, newer exporters): IR version 10 with opset
 * 18-21, where attributes became inputs (Pad pads/axes, Squeeze/Unsqueeze axes since 13, ReduceMean axes
 * since 18; Resize gained an axes attribute in 18), NHWC Transposes around convs, Identity chains, Flatten(axis=0) on a fixed
 * batch of 1. Each modern file is checked against the naive interpreter (testing/onnx-naive.ts, no code
 * shared with the loader) run on the same network written in the older attribute forms it reads.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../../backend.js';
import { toFloat32 } from '../../array.js';
import { scratchDir } from '../../../testing/paths.js';
import { OnnxBuilder } from '../../../testing/onnx-writer.js';
import { type Arr, runNaive } from '../../../testing/onnx-naive.js';
import { worstRelPerSample as worstRel } from '../../../testing/arrays.js';
import { LensError } from '../../errors.js';
import { loadModel } from '../load.js';
import { predict } from '../execute.js';
import { mulberry32 as rng } from '../../random.js';

before(async () => {
  await useBackend('wasm');
});

const DIR = scratchDir('onnx-longtail');

const rand = (n: number, seed: number, scale = 1): number[] => {
  const r = rng(seed);
  return Array.from({ length: n }, () => (r() * 2 - 1) * scale);
};
const count = (dims: number[]): number => dims.reduce((a, b) => a * b, 1);

/**
 * tf2onnx-style network: NHWC input, Transpose, Conv, Relu, Transpose back to NHWC, an Identity chain,
 * Transpose, Pad, Resize (nearest x2), ReduceMean over H, W (keepdims), Squeeze, Unsqueeze, Squeeze, Gemm.
 * `modern`: opset 21 / IR 10 with every axes list as an input; otherwise opset 13 with attributes.
 */
function network(modern: boolean, file: string): string {
  const b = new OnnxBuilder(modern ? 21 : 13, 'tf2onnx', '1.16.1');
  if (modern) b.irVersion = 10;
  b.input('x', ['N', 5, 4, 2]);
  b.init('k', [3, 2, 3, 3], rand(54, 1, 0.5));
  b.init('kb', [3], rand(3, 2));
  let t = b.node('Transpose', ['x'], { perm: [0, 3, 1, 2] }, { name: 'to_nchw' });
  t = b.node('Conv', [t, 'k', 'kb'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, { name: 'conv' });
  t = b.node('Relu', [t], {}, { name: 'relu' });
  t = b.node('Transpose', [t], { perm: [0, 2, 3, 1] }, { name: 'to_nhwc' });
  t = b.node('Identity', [t], {}, { name: 'id1' });
  t = b.node('Identity', [t], {}, { name: 'id2' });
  t = b.node('Transpose', [t], { perm: [0, 3, 1, 2] }, { name: 'to_nchw2' });
  if (modern) {
    b.init('pads', [4], [1, 0, 1, 2], { int64: true });
    b.init('pad_axes', [2], [2, 3], { int64: true });
    t = b.node('Pad', [t, 'pads', '', 'pad_axes'], { mode: 'constant' }, { name: 'pad' });
    b.init('scales', [2], [2, 2]);
    b.init('rs_axes', [2], [2, 3], { int64: true });
    t = b.node('Resize', [t, '', 'scales'], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor', axes: [2, 3] }, { name: 'resize' });
    b.init('rm_axes', [2], [2, 3], { int64: true });
    t = b.node('ReduceMean', [t, 'rm_axes'], { keepdims: 1 }, { name: 'gap' });
  } else {
    b.init('pads', [8], [0, 0, 1, 0, 0, 0, 1, 2], { int64: true });
    t = b.node('Pad', [t, 'pads'], { mode: 'constant' }, { name: 'pad' });
    b.init('scales', [4], [1, 1, 2, 2]);
    t = b.node('Resize', [t, '', 'scales'], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, { name: 'resize' });
    t = b.node('ReduceMean', [t], { axes: [2, 3], keepdims: 1 }, { name: 'gap' });
  }
  b.init('sq_axes', [2], [2, 3], { int64: true });
  t = b.node('Squeeze', [t, 'sq_axes'], {}, { name: 'squeeze' });
  // Unsqueeze then Squeeze back (axes as inputs in both opsets written here, 13 and 21).
  b.init('usq_axes', [1], [2], { int64: true });
  t = b.node('Unsqueeze', [t, 'usq_axes'], {}, { name: 'unsqueeze' });
  b.init('sq2_axes', [1], [2], { int64: true });
  t = b.node('Squeeze', [t, 'sq2_axes'], {}, { name: 'squeeze2' });
  b.init('w', [3, 4], rand(12, 3));
  b.init('wb', [4], rand(4, 4));
  b.node('Gemm', [t, 'w', 'wb'], {}, { name: 'fc', outputs: ['y'] });
  b.output('y', ['N', 4]);
  return b.write(join(DIR, file));
}

test('opset 21 / IR 10 (axes inputs of Pad, ReduceMean, Squeeze/Unsqueeze; Resize axes attribute) equals the naive run of the opset 13 form', async () => {
  const modern = network(true, 'modern.onnx');
  const classic = network(false, 'classic.onnx');
  const g = await loadModel(modern);
  assert.equal(g.format.version, 'opset 21');
  // The NHWC Transposes fold away; the Identity chain stays as Identity nodes (relevance passes through).
  assert.equal(g.inputs[0].fileLayout, 'NHWC');
  assert.equal(g.nodes.filter((n) => n.kind === 'Permute').length, 0);
  assert.deepEqual(g.nodes.map((n) => n.kind), ['Input', 'Conv', 'Activation', 'Identity', 'Identity', 'ZeroPadding', 'UpSampling', 'GlobalPool', 'Flatten', 'Reshape', 'Flatten', 'Dense']);
  const shape = [2, 5, 4, 2];
  const x = Float32Array.from(rand(count(shape), 7));
  const y = predict(g, { shape, data: x, dtype: 'f4' });
  const want = runNaive(readFileSync(classic), { x: { shape, data: Array.from(x) } }).y as Arr;
  assert.deepEqual(y.shape, want.shape);
  const err = worstRel(toFloat32(y), want.data, shape[0]);
  assert.ok(err <= 1e-4, `relative error ${err}`);
  // And the classic form loads to the same numbers.
  const yc = predict(await loadModel(classic), { shape, data: x, dtype: 'f4' });
  assert.ok(worstRel(toFloat32(yc), want.data, shape[0]) <= 1e-4);
});

test('Flatten(axis=0) on a fixed batch of 1 is a flatten; on a free batch it is refused with a hint', async () => {
  const make = (batch: number | string, file: string): string => {
    const b = new OnnxBuilder(13, 'keras2onnx', '1.7.0');
    b.input('x', [batch, 2, 3, 3]);
    b.init('k', [2, 2, 2, 2], rand(16, 11, 0.5));
    let t = b.node('Conv', ['x', 'k'], { kernel_shape: [2, 2] }, { name: 'conv' });
    t = b.node('Flatten', [t], { axis: 0 }, { name: 'flatten' });
    b.init('w', [8, 3], rand(24, 12));
    b.node('Gemm', [t, 'w'], {}, { name: 'fc', outputs: ['y'] });
    b.output('y', [1, 3]);
    return b.write(join(DIR, file));
  };
  const one = make(1, 'flatten0.onnx');
  const g = await loadModel(one);
  const shape = [1, 2, 3, 3];
  const x = Float32Array.from(rand(count(shape), 13));
  const y = predict(g, { shape, data: x, dtype: 'f4' });
  const want = runNaive(readFileSync(one), { x: { shape, data: Array.from(x) } }).y as Arr;
  assert.deepEqual(y.shape, want.shape);
  assert.ok(worstRel(toFloat32(y), want.data, 1) <= 1e-4);

  try {
    await loadModel(make('N', 'flatten0-free.onnx'));
    assert.fail('loaded');
  } catch (e) {
    assert.ok(e instanceof LensError);
    assert.equal(e.code, 'UNSUPPORTED_CONFIG');
    assert.equal(e.layer, 'flatten');
    assert.match(e.hint ?? '', /axis=1|batch/);
  }
});

test('every ONNX refusal carries a hint, kept in toJSON', async () => {
  const b = new OnnxBuilder(13);
  b.input('x', ['N', 3]);
  b.node('NonZero', ['x'], {}, { name: 'nz', outputs: ['y'] });
  b.output('y');
  try {
    await loadModel(b.write(join(DIR, 'nonzero.onnx')));
    assert.fail('loaded');
  } catch (e) {
    assert.ok(e instanceof LensError);
    assert.equal(e.code, 'UNSUPPORTED_OP');
    assert.ok(e.hint && e.hint.length > 10);
    assert.equal(e.toJSON().hint, e.hint);
    // The message itself is unchanged by the hint.
    assert.doesNotMatch(e.message, /re-export/);
  }
});
