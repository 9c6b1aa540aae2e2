/**
 * Names that a plain object answers through its prototype (constructor, __proto__, toString, ...) used
 * as layer classes, activations, ONNX op types, TF.js dtypes and composite names: each is refused like any
 * unknown name, with the structured error of that kind of name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../../../testing/paths.js';
import { OnnxBuilder } from '../../../testing/onnx-writer.js';
import { LensError } from '../../errors.js';
import { loadModel } from '../load.js';
import { writeKerasH5 } from '../writers/keras-h5-writer.js';
import { expectLensError } from './keras-testkit.js';
import { kindOf, isKnownKind } from '../kinds/registry.js';
import { isCompositeName } from '../../names.js';
import { buildComposite } from '../../lrp/composites.js';
import type { LayerNode } from '../graph.js';

const DIR = scratchDir('prototype-names');
const PROTO_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];

/** A Keras 2 Sequential: input of 4, one layer `cls` named x (Dense-like config) with `activation`. */
async function kerasModel(file: string, cls: string, activation: string): Promise<string> {
  const config = {
    class_name: 'Sequential',
    config: {
      name: 's',
      layers: [
        { class_name: 'InputLayer', config: { name: 'in', batch_input_shape: [null, 4], dtype: 'float32' } },
        { class_name: cls, config: { name: 'x', units: 2, activation, use_bias: true } },
      ],
    },
  };
  const weights = { x: [{ name: 'kernel', shape: [4, 2], data: new Float32Array(8).fill(0.5) }, { name: 'bias', shape: [2], data: new Float32Array(2) }] };
  await writeKerasH5(file, config, weights, { style: 'keras2' });
  return file;
}

test('Keras layer classes named like Object.prototype members are CUSTOM_LAYER refusals, not a kind', async () => {
  // The control: the same file with class Dense loads (so the refusals below are about the name).
  const ok = await loadModel(await kerasModel(join(DIR, 'dense.h5'), 'Dense', 'relu'));
  assert.deepEqual(ok.nodes.map((n) => n.kind), ['Input', 'Dense']);
  for (const cls of PROTO_NAMES) {
    const e = await expectLensError(loadModel(await kerasModel(join(DIR, `cls-${cls}.h5`), cls, 'relu')), 'CUSTOM_LAYER', 'x');
    assert.match(e.message, new RegExp(`class ${cls.replace(/_/g, '_')}`));
  }
});

test('a Keras activation named toString, constructor or __proto__ is refused (UNSUPPORTED_CONFIG naming it)', async () => {
  for (const act of [...PROTO_NAMES, 'keras.activations.constructor']) {
    const e = await expectLensError(loadModel(await kerasModel(join(DIR, `act-${act}.h5`), 'Dense', act)), 'UNSUPPORTED_CONFIG', 'x');
    assert.ok(e.message.includes(`activation '${act}'`), e.message);
  }
});

test('an ONNX node whose op_type is constructor or __proto__ is UNSUPPORTED_OP naming the node', async () => {
  for (const op of PROTO_NAMES) {
    const b = new OnnxBuilder(13);
    b.input('x', ['N', 4]);
    b.init('w', [4, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    const m = b.node('MatMul', ['x', 'w'], {}, { name: 'mm' });
    b.node(op, [m], {}, { name: 'odd', outputs: ['y'] });
    b.output('y', ['N', 2]);
    const e = await expectLensError(loadModel(b.write(join(DIR, `op-${op}.onnx`))), 'UNSUPPORTED_OP', 'odd');
    assert.ok(e.message.includes(op), e.message);
    // Two activations merged by such an op (the elementwise path has its own table).
    const c = new OnnxBuilder(13);
    c.input('x', ['N', 4]);
    c.node('Relu', ['x'], {}, { name: 'r1', outputs: ['a'] });
    c.node('Tanh', ['x'], {}, { name: 'r2', outputs: ['b'] });
    c.node(op, ['a', 'b'], {}, { name: 'merge', outputs: ['y'] });
    c.output('y', ['N', 4]);
    await expectLensError(loadModel(c.write(join(DIR, `merge-${op}.onnx`))), 'UNSUPPORTED_OP', 'merge');
  }
});

test('a TF.js weight dtype named constructor is refused as WEIGHT_MISMATCH', async () => {
  for (const dtype of ['constructor', '__proto__', 'toString']) {
    const dir = join(DIR, `tfjs-${dtype}`);
    mkdirSync(dir, { recursive: true });
    const topology = {
      class_name: 'Sequential',
      config: { name: 's', layers: [{ class_name: 'Dense', config: { name: 'd', units: 2, activation: 'linear', use_bias: false, batch_input_shape: [null, 4], dtype: 'float32' } }] },
      keras_version: '2.13.1',
      backend: 'tensorflow',
    };
    writeFileSync(join(dir, 'group1-shard1of1.bin'), Buffer.alloc(32));
    writeFileSync(join(dir, 'model.json'), JSON.stringify({
      format: 'layers-model',
      modelTopology: topology,
      weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [{ name: 'd/kernel', shape: [4, 2], dtype }] }],
    }));
    const e = await loadModel(join(dir, 'model.json')).then(() => undefined, (err: unknown) => err);
    assert.ok(e instanceof LensError, `expected a LensError, got ${String(e)}`);
    assert.equal(e.code, 'WEIGHT_MISMATCH', e.message);
    assert.ok(e.message.includes(dtype), e.message);
  }
});

test('composite names: __proto__ and constructor are unknown composites (USAGE), never a table entry', () => {
  const node = { name: 'd', kind: 'Dense', inbound: [], params: { units: 2, useBias: false }, weights: {}, activation: { name: 'linear' }, outputShape: [null, 2], source: { className: 'Dense' } } as unknown as LayerNode;
  const graph = { nodes: [node], inputs: [], outputs: [] } as never;
  for (const name of PROTO_NAMES) {
    assert.equal(isCompositeName(name), false, name);
    assert.throws(() => buildComposite(graph, name), (e: unknown) => e instanceof LensError && e.code === 'USAGE');
  }
  assert.equal(isCompositeName('epsilon-plus'), true, 'the control: a real composite is known');
});

test('layer kinds: a node kind named constructor has no kind module', () => {
  for (const k of PROTO_NAMES) {
    assert.equal(isKnownKind(k), false, k);
    assert.throws(() => kindOf({ kind: k } as unknown as LayerNode), /no kind module/);
  }
  assert.equal(isKnownKind('Dense'), true);
});
