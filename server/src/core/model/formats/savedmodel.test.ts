/**
 * SavedModel directories: the real TF 2.7 model (keras_metadata.pb, a custom layer on one head) and a
 * TF <= 2.4-layout fixture written by an independent python writer (fixtures/savedmodel-tf24/), with
 * outputs computed in numpy float64.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../../backend.js';
import { toFloat32 } from '../../array.js';
import { REAL, REPO, scratchDir } from '../../../testing/paths.js';
import { readNpyFile, worstRelPerSample } from '../../../testing/arrays.js';
import { loadModel } from '../load.js';
import { predict } from '../execute.js';
import { inferShapes } from '../shapes.js';
import type { ModelGraph } from '../graph.js';
import { expectLensError } from './keras-testkit.js';
import { decodeProto, encodeProto } from './savedmodel-proto.js';
import { loadSavedModel } from './savedmodel.js';
import { LensError } from '../../errors.js';

// The sources' folder (tests run compiled from out/, where the fixtures are not copied).
const FIX = join(REPO, 'server', 'src', 'core', 'model', 'formats', 'fixtures');
const TF24 = join(FIX, 'savedmodel-tf24');
const REAL_REF = join(FIX, 'savedmodel-real-ref');
const REAL_PARENT = join(REAL, 'savedmodel-target-temp');
const REAL_DIR = join(REAL_PARENT, 'test_ssp370_1.5_gcmsubALL_shash2_rng8889_seed1257_model');
const dir = scratchDir('savedmodel');

interface RefVar { key: string; shape: number[]; sum: number; sumSquares: number; first: number[] }
const ref = JSON.parse(readFileSync(join(REAL_REF, 'ref.json'), 'utf8')) as {
  variables: RefVar[];
  fullNameToKey: Record<string, string>;
  mu: number[][];
  sigma: number[][];
};

before(async () => {
  await useBackend('wasm');
});

/** Copy a SavedModel folder (saved_model.pb, keras_metadata.pb when there, variables/). */
function copySavedModel(from: string, to: string, withMetadata: boolean): void {
  mkdirSync(join(to, 'variables'), { recursive: true });
  copyFileSync(join(from, 'saved_model.pb'), join(to, 'saved_model.pb'));
  if (withMetadata) copyFileSync(join(from, 'keras_metadata.pb'), join(to, 'keras_metadata.pb'));
  for (const f of ['variables.index', 'variables.data-00000-of-00001']) copyFileSync(join(from, 'variables', f), join(to, 'variables', f));
}

test('real TF 2.7 SavedModel: loads from its folder without the custom head, weights as the checkpoint holds them', async () => {
  const g = await loadModel(REAL_DIR);
  assert.equal(g.format.name, 'savedmodel');
  assert.match(g.format.producer ?? '', /Keras 2\.7\.0.*TensorFlow 2\.7\.0/);
  assert.deepEqual(g.nodes.map((n) => n.name), ['input_1', 'normalization', 'dropout', 'dense', 'dense_1', 'mu_z_unit', 'mu_unit']);
  assert.deepEqual(g.inputs.map((i) => i.fileShape), [[null, 10368]]);
  assert.deepEqual(g.outputs.map((o) => o.node), ['mu_unit']);
  // What was left out, and why: the custom Exponentiate, the sigma branch, the output Concatenate.
  assert.deepEqual(g.omitted?.map((o) => [o.layer, o.className]), [
    ['log_sigma_z_unit', 'Dense'], ['log_sigma_unit', 'Rescaling'], ['sigma_unit', 'Exponentiate'], ['concatenate', 'Concatenate'],
  ]);
  assert.match(g.omitted?.find((o) => o.layer === 'sigma_unit')?.reason ?? '', /custom layer class Exponentiate/);
  assert.match(g.omitted?.find((o) => o.layer === 'concatenate')?.reason ?? '', /inputs mu_unit are the outputs/);
  // Each Dense layer's weights are the checkpoint entry the object graph names for it (python reference).
  for (const layer of ['dense', 'dense_1', 'mu_z_unit']) {
    const node = g.nodes.find((n) => n.name === layer);
    for (const w of ['kernel', 'bias']) {
      const r = ref.variables.find((v) => v.key === ref.fullNameToKey[`${layer}/${w}`]) as RefVar;
      const t = node?.weights[w];
      assert.ok(t, `${layer}.${w}`);
      assert.deepEqual(t.shape, r.shape);
      let sum = 0;
      for (const x of t.data) sum += x;
      assert.ok(Math.abs(sum - r.sum) <= 1e-9 * Math.max(1, Math.abs(r.sum)), `${layer}.${w} sum ${sum} vs ${r.sum}`);
      assert.deepEqual(Array.from(t.data.subarray(0, 5)), r.first);
    }
  }
});

test('real TF 2.7 SavedModel: predict equals the numpy float64 mu head', async () => {
  const g = await loadModel(REAL_DIR);
  const x = readNpyFile(join(REAL_REF, 'inputs.npy'));
  const y = predict(g, x);
  assert.deepEqual(y.shape, [2, 1]);
  const want = ref.mu.flat();
  const err = worstRelPerSample(toFloat32(y), want, 2);
  assert.ok(err <= 1e-4, `error ${err}: ${Array.from(toFloat32(y))} vs ${want}`);
});

test('path resolution: the folder, its saved_model.pb, and a folder holding exactly one SavedModel', async () => {
  const a = await loadModel(REAL_DIR);
  const b = await loadModel(join(REAL_DIR, 'saved_model.pb'));
  const c = await loadModel(REAL_PARENT);
  for (const g of [a, b, c]) assert.equal(g.file, join(REAL_DIR, 'saved_model.pb'));
  const two = join(dir, 'two');
  copySavedModel(join(TF24, 'model'), join(two, 'm1'), false);
  copySavedModel(join(TF24, 'model'), join(two, 'm2'), false);
  const e = await expectLensError(loadModel(two), 'FORMAT_UNKNOWN');
  assert.match(e.message, /2 SavedModel folders/);
  await expectLensError(loadModel(join(dir, 'two', 'm1', 'variables')), 'FORMAT_UNKNOWN');
});

/** predict on the TF 2.4 fixture's inputs equals its numpy float64 outputs (expected.json, made by make_fixture.py). */
function assertPredictsTf24(g: ModelGraph): void {
  const want = JSON.parse(readFileSync(join(TF24, 'expected.json'), 'utf8')) as { inputShape: number[]; inputs: number[][]; outputs: number[][] };
  const n = want.inputs.length;
  const x = { shape: [n, ...want.inputShape], data: Float32Array.from(want.inputs.flat()), dtype: 'f4' as const };
  const y = predict(g, x);
  assert.deepEqual(y.shape, [n, 3]);
  const err = worstRelPerSample(toFloat32(y), want.outputs.flat(), n);
  assert.ok(err <= 1e-4, `error ${err}`);
}

test('TF <= 2.4 layout (config in the object graph, weights under variables/N): predict equals numpy float64', async () => {
  const g = await loadModel(join(TF24, 'model'));
  assert.equal(g.format.name, 'savedmodel');
  assert.equal(g.format.version, '2.4.0');
  assert.deepEqual(g.nodes.map((n) => `${n.name}:${n.kind}`), ['input_1:Input', 'conv:Conv', 'flatten:Flatten', 'hidden:Dense', 'out:Dense']);
  assert.equal(g.omitted, undefined);
  assertPredictsTf24(g);
});

/** The TF <= 2.4 fixture with its saved_model.pb's root Keras metadata edited. */
function tf24With(name: string, edit: (meta: Record<string, any>) => void, identifier?: string): string {
  const out = join(dir, name);
  copySavedModel(join(TF24, 'model'), out, false);
  const pb = join(out, 'saved_model.pb');
  const sm = decodeProto('SavedModel', readFileSync(pb), 'saved_model.pb', pb);
  const root = sm.meta_graphs[0].object_graph_def?.nodes[0].user_object;
  assert.ok(root);
  const meta = JSON.parse(root.metadata);
  edit(meta);
  root.metadata = JSON.stringify(meta);
  if (identifier !== undefined) root.identifier = identifier;
  writeFileSync(pb, encodeProto('SavedModel', sm));
  return out;
}

test('custom layer every output needs: CUSTOM_LAYER naming the layer, its class and parameters', async () => {
  const d = tf24With('custom-out', (m) => {
    m.config.layers[4].class_name = 'MyDense';
    m.config.layers[4].config.scale = 2.5;
  });
  const e = await expectLensError(loadModel(d), 'CUSTOM_LAYER', 'out');
  assert.match(e.message, /class MyDense/);
  assert.match(e.message, /"scale":2\.5/);
});

test('no Keras config: a subclassed model and a functions-only SavedModel are refused with what to do', async () => {
  const sub = tf24With('subclassed', (m) => {
    m.class_name = 'MyModel';
    delete m.config;
  }, '_tf_keras_model');
  const e1 = await expectLensError(loadModel(sub), 'NO_ARCHITECTURE');
  assert.match(e1.message, /subclassed Keras model \(class MyModel\)/);
  assert.match(e1.hint ?? '', /model\.save\('model\.keras'\)/);
  const fn = tf24With('functions-only', () => undefined, 'trackable_object');
  const e2 = await expectLensError(loadModel(fn), 'NO_ARCHITECTURE');
  assert.match(e2.message, /TensorFlow functions only/);
  assert.match(e2.hint ?? '', /tf2onnx/);
  assert.match(e2.hint ?? '', /tensorflowjs_converter/);
});

test('stale Keras metadata: WEIGHT_MISMATCH naming the layer and both shapes', async () => {
  const out = join(dir, 'stale');
  copySavedModel(REAL_DIR, out, true);
  const metaFile = join(out, 'keras_metadata.pb');
  const km = decodeProto('KerasMetadata', readFileSync(metaFile), 'keras_metadata.pb', metaFile);
  const root = km.nodes.find((n) => n.node_path === 'root');
  assert.ok(root);
  const meta = JSON.parse(root.metadata);
  const dense = meta.config.layers.find((l: { name: string }) => l.name === 'dense');
  dense.config.units = 12;
  root.metadata = JSON.stringify(meta);
  writeFileSync(metaFile, encodeProto('KerasMetadata', km));
  const e = await expectLensError(loadModel(out), 'WEIGHT_MISMATCH', 'dense');
  assert.match(e.message, /\[10368,10\]/);
  assert.match(e.message, /12/);
});

test('functions-only SavedModel (no Keras config): the serving signature\'s op graph, calls inlined, equals numpy float64', async () => {
  const g = await loadModel(join(TF24, 'export'));
  assert.equal(g.format.name, 'savedmodel');
  assert.match(g.format.producer ?? '', /op graph of the serving signature/);
  assert.deepEqual(g.nodes.map((n) => n.kind), ['Input', 'Conv', 'Reshape', 'Dense', 'Dense']);
  assertPredictsTf24(g);
});

test('real TF 2.7 SavedModel read as an op graph: both heads equal numpy, or a refusal naming the op', async () => {
  let g;
  try {
    g = await loadSavedModel(join(REAL_DIR, 'saved_model.pb'), { opGraph: true });
  } catch (e) {
    // The graph importer may not translate every op of the Normalization (Sqrt of a constant).
    assert.ok(e instanceof LensError && e.code !== 'INTERNAL', String(e));
    assert.ok(e.layer && e.message.includes(e.layer), `names the node: ${e.message}`);
    return;
  }
  const y = predict(inferShapes(g), readNpyFile(join(REAL_REF, 'inputs.npy')));
  assert.deepEqual(y.shape, [2, 2]);
  const want = [ref.mu[0][0], ref.sigma[0][0], ref.mu[1][0], ref.sigma[1][0]];
  assert.ok(worstRelPerSample(toFloat32(y), want, 2) <= 1e-4);
});
