/**
 * TF.js graph models: real converter output (../shared/real-models/tfjs-graph-tiny) and the fixtures that
 * fixtures/make-tfjs-graph-fixtures.py writes (numpy only) load, and our executor's output equals
 * tfjs-converter's own execution of the same model.json (tf.loadGraphModel) on random inputs. The engine
 * explains them; unsupported graphs are refused by node name.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tf, useBackend } from '../../backend.js';
import { REAL, REPO, scratchDir } from '../../../testing/paths.js';
import { loadModel } from '../load.js';
import { predictAll } from '../execute.js';
import { canonicalize } from '../canonicalize.js';
import { LrpExplainer } from '../../lrp/engine.js';
import { LensError } from '../../errors.js';
import { tfjsGraphFormat } from './tfjs-graph.js';
import { tfjsLayersFormat } from './tfjs-layers.js';
import type { LayerNodeOf, ModelGraph } from '../graph.js';
import { mulberry32 } from '../../random.js';

// The sources' folder (tests run compiled from out/, where the fixtures are not copied).
const FIX = join(REPO, 'server', 'src', 'core', 'model', 'formats', 'fixtures');
const TINY = join(REAL, 'tfjs-graph-tiny');
const dir = scratchDir('tfjs-graph');

before(async () => {
  await useBackend('wasm');
});

/** tfjs-converter's GraphModel for a model.json, its shards read back to back per the manifest. */
async function tfjsGraphModel(file: string): Promise<tf.GraphModel> {
  const json = JSON.parse(readFileSync(file, 'utf8'));
  const parts: Buffer[] = [];
  for (const g of json.weightsManifest) for (const p of g.paths) parts.push(readFileSync(join(dirname(file), p)));
  const all = Buffer.concat(parts);
  return tf.loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    signature: json.signature,
  } as tf.io.ModelArtifacts));
}

function randomInput(g: ModelGraph, n: number, seed: number) {
  const rand = mulberry32(seed);
  const shape = [n, ...g.inputs[0].fileShape.slice(1).map((d) => d as number)];
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (rand() * 2 - 1) * 2);
  return { shape, data, dtype: 'f4' as const };
}

/** Largest |ours - tfjs| over random inputs, and the largest |output|. */
async function compareWithTfjs(file: string, n = 4): Promise<{ err: number; scale: number; g: ModelGraph }> {
  const g = await loadModel(file);
  const model = await tfjsGraphModel(file);
  const x = randomInput(g, n, 11);
  const ours = predictAll(g, x)[0];
  const theirs = tf.tidy(() => (model.execute(tf.tensor(x.data, x.shape)) as tf.Tensor).dataSync() as Float32Array);
  model.dispose();
  assert.equal(ours.data.length, theirs.length, `${file}: output sizes`);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < theirs.length; i++) {
    err = Math.max(err, Math.abs(theirs[i] - ours.data[i]));
    scale = Math.max(scale, Math.abs(theirs[i]));
  }
  return { err, scale, g };
}

const CASES: [string, string][] = [
  ['real dense_model_tf21 (_FusedMatMul, signature)', join(TINY, 'dense_model_tf21', 'model.json')],
  ['real rn59_graph_model_tf115 (MatMul + BiasAdd)', join(TINY, 'rn59_graph_model_tf115', 'model.json')],
  ['fixture tfjs-graph-cnn', join(FIX, 'tfjs-graph-cnn', 'model.json')],
  ['fixture tfjs-graph-cnn-uint8 (quantized, 2 shards)', join(FIX, 'tfjs-graph-cnn-uint8', 'model.json')],
  ['fixture tfjs-graph-shapes', join(FIX, 'tfjs-graph-shapes', 'model.json')],
  ['fixture tfjs-graph-shapes-f16 (float16 weights)', join(FIX, 'tfjs-graph-shapes-f16', 'model.json')],
];

for (const [label, file] of CASES) {
  test(`${label}: predict equals tfjs loadGraphModel`, async () => {
    assert.equal(tfjsGraphFormat.detect(file, new Uint8Array(readFileSync(file).subarray(0, 4096))), true);
    const { err, scale, g } = await compareWithTfjs(file);
    assert.equal(g.format.name, 'tfjs-graph');
    console.log(`# ${label}: max |ours - tfjs graph model| = ${err.toExponential(2)} (max |output| ${scale.toExponential(2)})`);
    assert.ok(err <= 1e-5 * Math.max(1, scale), `error ${err}`);
  });
}

test('dense_model_tf21 and rn59: one Dense each, weights from the shard in manifest order', async () => {
  const a = await loadModel(join(TINY, 'dense_model_tf21'));
  assert.deepEqual(a.nodes.map((n) => n.kind), ['Input', 'Dense']);
  const binA = readFileSync(join(TINY, 'dense_model_tf21', 'group1-shard1of1.bin'));
  const da = a.nodes[1] as LayerNodeOf<'Dense'>;
  assert.equal(da.weights.kernel.data[0], binA.readFloatLE(0));
  assert.equal(da.weights.bias.data[0], binA.readFloatLE(4));
  assert.equal(a.inputs[0].fileName, 'dense_dense1_input');
  assert.equal(a.outputs[0].fileName, 'Identity');

  const b = await loadModel(join(TINY, 'rn59_graph_model_tf115'));
  const db = b.nodes[1] as LayerNodeOf<'Dense'>;
  assert.deepEqual(b.nodes.map((n) => n.kind), ['Input', 'Dense']);
  assert.equal(db.source.className, 'MatMul+BiasAdd');
  const binB = readFileSync(join(TINY, 'rn59_graph_model_tf115', 'group1-shard1of1.bin'));
  assert.equal(db.weights.bias.data[0], binB.readFloatLE(0));
  assert.deepEqual(db.weights.kernel.shape, [10, 1]);
  assert.equal(db.weights.kernel.data[9], binB.readFloatLE(40));
});

test('cnn fixture: fused ops split into layer + activation, bias folded, BatchNorm kept for canonization', async () => {
  const g = await loadModel(join(FIX, 'tfjs-graph-cnn'));
  const by = (name: string) => g.nodes.find((n) => n.name === name)!;
  const c1 = by('model/conv1/Relu') as LayerNodeOf<'Conv'>;
  assert.equal(c1.kind, 'Conv');
  assert.equal(c1.activation.name, 'relu');
  assert.equal(c1.params.useBias, true);
  assert.equal(by('model/bn/FusedBatchNormV3').kind, 'BatchNorm');
  const dw = by('model/dw/Relu6') as LayerNodeOf<'DepthwiseConv'>;
  assert.equal(dw.kind, 'DepthwiseConv');
  assert.equal(dw.activation.name, 'relu6');
  assert.deepEqual(dw.params.strides, [2, 2]);
  const c2 = by('model/conv2/Conv2D') as LayerNodeOf<'Conv'>;
  assert.equal(c2.params.padding.mode, 'explicit');
  assert.deepEqual(c2.params.padding.pads, [[1, 1], [1, 1]]);
  assert.equal(c2.source.className, 'Conv2D+BiasAdd');
  assert.equal(c2.activation.name, 'elu');
  const c3 = by('model/conv3/LeakyRelu') as LayerNodeOf<'Conv'>;
  assert.deepEqual(c3.activation, { name: 'leaky_relu', alpha: 0.1 });
  assert.deepEqual(c3.params.dilation, [2, 2]);
  assert.deepEqual((by('model/flatten/Reshape') as LayerNodeOf<'Reshape'>).params.targetShape, [54]);
  assert.equal(by('model/gap/Mean').kind, 'GlobalPool');
  assert.deepEqual((by('model/gmp/Max') as LayerNodeOf<'GlobalPool'>).params, { op: 'max', rank: 2, keepDims: false });
  assert.deepEqual((by('model/up_bilinear/resize/ResizeBilinear') as LayerNodeOf<'UpSampling'>).params, { rank: 2, size: [2, 2], interpolation: 'bilinear' });
  assert.equal((by('model/up_nearest/resize/ResizeNearestNeighbor') as LayerNodeOf<'UpSampling'>).params.interpolation, 'nearest');
  assert.equal(by('model/out/MatMul').activation.name, 'softmax');
  // Shape/StridedSlice/Pack were folded, not turned into layers.
  assert.ok(!g.nodes.some((n) => /Shape|strided_slice/.test(n.name) && n.name !== 'model/flatten/Reshape'));
  const canon = canonicalize(g);
  assert.equal(canon.strippedOutput?.activation, 'softmax');
  assert.ok(canon.mergedBatchNorms.length === 0 || canon.mergedBatchNorms.some((m) => m.batchNorm === 'model/bn/FusedBatchNormV3'));
});

test('shapes fixture: a weight read by two MatMuls is one array; per-channel Mul/Sub become affine nodes', async () => {
  const g = await loadModel(join(FIX, 'tfjs-graph-shapes'));
  const a = g.nodes.find((n) => n.name === 'shared/MatMul') as LayerNodeOf<'Dense'>;
  const b = g.nodes.find((n) => n.name === 'shared_1/MatMul') as LayerNodeOf<'Dense'>;
  assert.equal(a.weights.kernel.data, b.weights.kernel.data);
  assert.equal(a.activation.name, 'tanh');
  const t = g.nodes.find((n) => n.name === 'dense/MatMul') as LayerNodeOf<'Dense'>;
  assert.deepEqual(t.weights.kernel.shape, [20, 3]);
  assert.equal(t.activation.name, 'relu6');
  assert.equal(g.nodes.find((n) => n.name === 'permute/transpose')?.kind, 'Permute');
  assert.equal(g.nodes.find((n) => n.name === 'rescale/mul')?.kind, 'BatchNorm');
  assert.deepEqual(g.inputs[0].fileShape, [null, 6, 4]);
});

test('explain runs on the graph models; the explained output is the logits tfjs computes before Softmax', async () => {
  for (const file of CASES.map((c) => c[1])) {
    const g = await loadModel(file);
    const x = randomInput(g, 2, 5);
    for (const composite of ['epsilon', 'epsilon-plus', 'epsilon-gamma-box']) {
      const ex = new LrpExplainer(g, { composite, low: -2, high: 2 });
      try {
        const e = ex.explain(x, { target: { type: 'predicted' } });
        assert.deepEqual(e.relevance.shape, x.shape);
        assert.equal((e.relevance.data as Float32Array).findIndex((v) => !Number.isFinite(v)), -1, `${file} ${composite}: non-finite relevance`);
        if (file.includes('tfjs-graph-cnn')) {
          assert.equal(e.canonical.strippedOutput?.activation, 'softmax');
          const model = await tfjsGraphModel(file);
          const logits = tf.tidy(() => (model.execute(tf.tensor(x.data, x.shape), 'model/out/BiasAdd') as tf.Tensor).dataSync());
          model.dispose();
          let err = 0;
          for (let i = 0; i < logits.length; i++) err = Math.max(err, Math.abs(logits[i] - e.output.data[i]));
          assert.ok(err <= 1e-5 * Math.max(1, ...Array.from(logits, Math.abs)), `${file}: explained output differs from the logits by ${err}`);
        }
      } finally {
        ex.dispose();
      }
    }
  }
});

// ---- refusals -----------------------------------------------------------------------------------

async function loadError(file: string): Promise<LensError> {
  try {
    await loadModel(file);
  } catch (e) {
    assert.ok(e instanceof LensError, `not a LensError: ${String(e)}`);
    return e;
  }
  assert.fail(`${file} loaded`);
}

/** The cnn fixture with its model.json edited (`edit` gets the parsed JSON), shards copied. */
function variant(name: string, edit: (m: any) => void, src = 'tfjs-graph-cnn'): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  const m = JSON.parse(readFileSync(join(FIX, src, 'model.json'), 'utf8'));
  edit(m);
  for (const g of m.weightsManifest) for (const p of g.paths) copyFileSync(join(FIX, src, p), join(d, p));
  writeFileSync(join(d, 'model.json'), JSON.stringify(m));
  return join(d, 'model.json');
}

const nodeOf = (m: any, name: string) => m.modelTopology.node.find((n: any) => n.name === name);
const b64 = (s: string) => Buffer.from(s).toString('base64');

test('real tfjs-graphmodel (embedding on int64 ids) is refused naming GatherV2, saying why integer inputs cannot be explained', async () => {
  const e = await loadError(join(REAL, 'tfjs-graphmodel'));
  assert.equal(e.code, 'UNSUPPORTED_OP');
  assert.equal(e.layer, 'StatefulPartitionedCall/model/embedding/embedding_lookup');
  assert.match(e.message, /GatherV2/);
  assert.match(e.message, /cur_page \(DT_INT64\)/);
  assert.match(e.message, /no relevance/);
  assert.match(e.hint ?? '', /tfjs_layers_model/);
});

test('the layers reader refuses a graph model; its format module hands it to the graph reader', async () => {
  const file = join(TINY, 'dense_model_tf21', 'model.json');
  const g = await tfjsLayersFormat.load(file, {});
  assert.equal(g.format.name, 'tfjs-graph');
});

test('unsupported op, NCHW, cycle, lying and huge shapes, bad int64: structured errors naming the node', async () => {
  const cases: [string, (m: any) => void, string, string | undefined][] = [
    ['op', (m) => { nodeOf(m, 'model/conv2/Elu').op = 'Conv2DBackpropInput'; }, 'UNSUPPORTED_OP', 'model/conv2/Elu'],
    ['nchw', (m) => { nodeOf(m, 'model/conv2/Conv2D').attr.data_format = { s: b64('NCHW') }; }, 'UNSUPPORTED_CONFIG', 'model/conv2/Conv2D'],
    ['cycle', (m) => { nodeOf(m, 'model/conv1/Relu').input[0] = 'model/maxpool/MaxPool'; }, 'GRAPH_CYCLE', undefined],
    ['lying-const', (m) => { nodeOf(m, 'model/bn/beta').attr.value.tensor.tensorShape = { dim: [{ size: '5' }] }; }, 'WEIGHT_MISMATCH', 'model/bn/beta'],
    ['huge-input', (m) => { nodeOf(m, 'input_1').attr.shape.shape.dim = [{ size: '-1' }, { size: '100000' }, { size: '100000' }, { size: '3' }]; }, 'SHAPE_LIMIT', undefined],
    ['huge-weight', (m) => { m.weightsManifest[0].weights[1].shape = [1 << 20, 1 << 20]; }, 'SHAPE_LIMIT', undefined],
    ['int64', (m) => { nodeOf(m, 'model/dw/Relu6').attr.num_args = { i: '99999999999999999999' }; }, 'CORRUPT', 'model/dw/Relu6'],
    ['num-args', (m) => { nodeOf(m, 'model/dw/Relu6').attr.num_args = { i: '4' }; }, 'GRAPH_INVALID', 'model/dw/Relu6'],
    ['fused-add', (m) => { nodeOf(m, 'model/conv1/Relu').attr.fused_ops.list.s = [b64('BiasAdd'), b64('Add')]; }, 'UNSUPPORTED_OP', 'model/conv1/Relu'],
    ['missing-input', (m) => { nodeOf(m, 'model/add/add').input[1] = 'nowhere'; }, 'GRAPH_INVALID', 'model/add/add'],
    ['missing-const', (m) => { m.weightsManifest[0].weights = m.weightsManifest[0].weights.filter((w: any) => w.name !== 'model/out/MatMul/ReadVariableOp'); }, 'MISSING_WEIGHTS', 'model/out/MatMul/ReadVariableOp'],
    ['truncated-shard', (m) => { m.weightsManifest[0].weights[0].shape = [3, 3, 3, 400]; }, 'TRUNCATED', undefined],
  ];
  for (const [name, edit, code, layer] of cases) {
    const e = await loadError(variant(name, edit));
    assert.equal(e.code, code, `${name}: ${e.code} ${e.message}`);
    if (layer) assert.equal(e.layer, layer, `${name}: layer`);
  }
});

test('_FusedConv2D with FusedBatchNorm + Relu (which tfjs cannot run) equals tfjs on the unfused Conv2D, FusedBatchNormV3, Relu', async () => {
  const bnInputs = ['model/bn/gamma', 'model/bn/beta', 'model/bn/mean', 'model/bn/var'];
  const fused = variant('fused-bn', (m) => {
    const c1 = nodeOf(m, 'model/conv1/Relu');
    c1.input = [c1.input[0], c1.input[1], ...bnInputs];
    c1.attr.fused_ops.list.s = [b64('FusedBatchNorm'), b64('Relu')];
    c1.attr.num_args = { i: '4' };
    c1.attr.epsilon = { f: 0.001 };
    Object.assign(nodeOf(m, 'model/bn/FusedBatchNormV3'), { op: 'Identity', input: ['model/conv1/Relu'], attr: { T: { type: 'DT_FLOAT' } } });
  });
  const plain = variant('unfused-bn', (m) => {
    const c1 = nodeOf(m, 'model/conv1/Relu');
    c1.op = 'Conv2D';
    c1.input = c1.input.slice(0, 2);
    for (const k of ['fused_ops', 'num_args', 'epsilon']) delete c1.attr[k];
    m.modelTopology.node.push({ name: 'model/bn/Relu', op: 'Relu', input: ['model/bn/FusedBatchNormV3'], attr: { T: { type: 'DT_FLOAT' } } });
    for (const name of ['model/dw/Relu6', 'model/conv2/Conv2D']) nodeOf(m, name).input[0] = 'model/bn/Relu';
  });
  const g = await loadModel(fused);
  const c1 = g.nodes.find((n) => n.name === 'model/conv1/Relu')!;
  assert.equal(c1.activation.name, 'linear');
  const bn = g.nodes.find((n) => n.inbound[0] === c1.name)!;
  assert.equal(bn.kind, 'BatchNorm');
  assert.equal(bn.activation.name, 'relu');
  const x = randomInput(g, 3, 17);
  const ours = predictAll(g, x)[0].data;
  const model = await tfjsGraphModel(plain);
  const theirs = tf.tidy(() => (model.execute(tf.tensor(x.data, x.shape)) as tf.Tensor).dataSync());
  model.dispose();
  let err = 0;
  for (let i = 0; i < theirs.length; i++) err = Math.max(err, Math.abs(theirs[i] - ours[i]));
  assert.ok(err <= 1e-5, `error ${err}`);
});
