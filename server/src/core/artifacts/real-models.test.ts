/** Acceptance (issue 4): the static checks on third-party model files give the expected codes, and stay quiet where they must. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REAL, REF } from '../../testing/paths.js';
import { loadModel } from '../model/load.js';
import { runStaticChecks } from './catalogue.js';
import type { Finding } from './finding.js';

async function check(path: string, composite?: string): Promise<Finding[]> {
  return runStaticChecks(await loadModel(path), { composite });
}
const codes = (fs: Finding[]): Set<string> => new Set(fs.map((f) => f.code));

test('SEVIR CNN (5x5 same convs, max-pooling, Dense sigmoid, BN after it, sigmoid output) gets LRP101 103 104 105 106', async () => {
  const fs = await check(join(REAL, 'sevir', 'sub-sevir-cnn-class-1d.h5'));
  const c = codes(fs);
  for (const code of ['LRP101', 'LRP103', 'LRP104', 'LRP105', 'LRP106']) assert.ok(c.has(code), code);
  assert.ok(!c.has('LRP102') && !c.has('LRP110') && !c.has('LRP107'));
  // The BN follows the sigmoid Dense layer; the hidden sigmoid is that Dense layer, not the output.
  assert.equal(fs.find((f) => f.code === 'LRP104')!.layer!.name, 'batch_normalization');
  assert.deepEqual(fs.filter((f) => f.code === 'LRP106').map((f) => f.layer!.name), ['dense']);
});

test('MyFirstCNN (valid padding) gets no LRP101', async () => {
  const c = codes(await check(join(REAL, 'sevir', 'MyFirstCNN.h5')));
  assert.ok(!c.has('LRP101'));
  assert.ok(c.has('LRP113'));
});

test('the mlcommons ResNet-8 gets LRP102 on its 1x1 stride-2 shortcuts, LRP109 on its Adds, and no LRP104 (BN follows its convs)', async () => {
  const fs = await check(join(REAL, 'mlcommons-tiny', 'pretrainedResnet.h5'));
  const shortcuts = fs.filter((f) => f.code === 'LRP102' && f.data!.skipsCells === true);
  assert.ok(shortcuts.length >= 2, `1x1 stride-2 shortcuts flagged: ${shortcuts.length}`);
  assert.equal(fs.filter((f) => f.code === 'LRP109').length, 3);
  assert.ok(!codes(fs).has('LRP104'));
});

test('the lrp-reference MLP has no LRP101/102/103 and gets LRP110 (dense on a flattened 16x32 grid)', async () => {
  for (const file of [join(REF, 'mlp', 'model.h5'), join(REF, 'mlp', 'tfjs', 'model.json'), join(REF, 'mlp', 'model.onnx')]) {
    const c = codes(await check(file));
    for (const code of ['LRP101', 'LRP102', 'LRP103', 'LRP104', 'LRP106']) assert.ok(!c.has(code), `${file}: ${code}`);
    assert.ok(c.has('LRP110'), file);
  }
});

test('TF.js model.json findings carry the layer entry range in the file', async () => {
  const fs = await check(join(REF, 'cnn_same', 'tfjs', 'model.json'));
  const f = fs.find((x) => x.code === 'LRP101')!;
  assert.ok(f.location.range, 'range from source.jsonRange');
  const { readFileSync } = await import('node:fs');
  const text = readFileSync(f.location.file, 'utf8').slice(f.location.range![0], f.location.range![1]);
  assert.ok(text.includes(`"${f.layer!.name}"`), text.slice(0, 120));
});

test('quiet models: abalone MLP has no spatial findings; the DeepEverest ONNX CNN has no LRP101 (valid convs)', async () => {
  const ab = codes(await check(join(REAL, 'tfjs-abalone', 'model.json')));
  for (const code of ['LRP101', 'LRP102', 'LRP103', 'LRP110', 'LRP113']) assert.ok(!ab.has(code), code);
  assert.ok(ab.has('LRP106'), 'sigmoid hidden layers');
  const mn = codes(await check(join(REAL, 'deepeverest-mnist', 'mnist.onnx')));
  assert.ok(!mn.has('LRP101') && !mn.has('LRP102'));
  assert.ok(mn.has('LRP103'));
});

test('LRP112 only with a z+ composite: the ResNet-8 under epsilon-plus, not under epsilon-gamma-box', async () => {
  const path = join(REAL, 'mlcommons-tiny', 'pretrainedResnet.h5');
  assert.ok(codes(await check(path, 'epsilon-plus')).has('LRP112'));
  assert.ok(!codes(await check(path, 'epsilon-gamma-box')).has('LRP112'));
});
