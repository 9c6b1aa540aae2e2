import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH, REAL, REF, scratchDir } from '../../../testing/paths.js';
import { loadTfjsLayers, tfjsLayersFormat } from './tfjs-layers.js';
import { loadKerasH5 } from './keras-h5.js';
import { kerasJsonFormat } from './keras-json.js';
import { assertSameGraph, expectLensError } from './keras-testkit.js';
import { readKerasH5Raw, type LayerWeights } from '../writers/keras-h5-writer.js';
import type { LayerNodeOf } from '../graph.js';

const dir = scratchDir('tfjs-layers');

test('converter output (cnn_same, sst_cnn) equals the Keras .h5 of the same network', async () => {
  for (const [json, h5] of [[join(REF, 'cnn_same', 'tfjs', 'model.json'), join(REF, 'cnn_same', 'model.h5')], [join(BENCH, 'sst_cnn_tfjs', 'model.json'), join(BENCH, 'sst_cnn.h5')]]) {
    assert.equal(tfjsLayersFormat.detect(json, new Uint8Array(readFileSync(json).subarray(0, 512))), true);
    const g = await loadTfjsLayers(json);
    assert.equal(g.format.name, 'tfjs-layers');
    assert.match(g.format.producer ?? '', /TensorFlow\.js Converter/);
    assertSameGraph(g, await loadKerasH5(h5));
    const text = readFileSync(json, 'utf8');
    for (const n of g.nodes) {
      const r = n.source.jsonRange!;
      assert.equal(JSON.parse(text.slice(r[0], r[1])).config.name, n.name);
    }
  }
});

test('tfjs-abalone (written by tfjs-layers 1.3.2, no InputLayer): Dense sigmoid x2 + linear, weights from weights.bin', async () => {
  const file = join(REAL, 'tfjs-abalone', 'model.json');
  const g = await loadTfjsLayers(file);
  assert.deepEqual(g.nodes.map((n) => n.kind), ['Input', 'Dense', 'Dense', 'Dense']);
  assert.deepEqual(g.inputs[0].fileShape, [null, 8]);
  assert.equal(g.inputs[0].fileLayout, 'NC');
  assert.deepEqual(g.nodes.map((n) => n.activation.name), ['linear', 'sigmoid', 'sigmoid', 'linear']);
  const d1 = g.nodes[1] as LayerNodeOf<'Dense'>;
  assert.deepEqual(d1.weights.kernel.shape, [8, 50]);
  // First float of the shard is the first kernel value (manifest order).
  const bin = readFileSync(join(REAL, 'tfjs-abalone', 'weights.bin'));
  assert.equal(d1.weights.kernel.data[0], bin.readFloatLE(0));
  const d3 = g.nodes[3] as LayerNodeOf<'Dense'>;
  assert.equal(d3.weights.bias.data[0], bin.readFloatLE(bin.length - 4));
});

test('graph model -> GRAPH_MODEL', async () => {
  await expectLensError(loadTfjsLayers(join(REAL, 'tfjs-graphmodel', 'model.json')), 'GRAPH_MODEL');
});

/** Write sst_cnn as a converter-style model: two weight groups, each split over several shards. */
async function writeSharded(name: string, opts: { listStyle?: boolean; wrapper?: boolean; topLevel?: boolean; quantize?: boolean; mutate?: (m: any) => void } = {}): Promise<string> {
  const raw = await readKerasH5Raw(join(BENCH, 'sst_cnn.h5'));
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  const order = (raw.config as any).config.layers.map((l: any) => l.config.name).filter((n: string) => raw.weights[n]);
  const groups: [string[], LayerWeights][] = [
    [order.filter((n: string) => n.startsWith('conv')), raw.weights],
    [order.filter((n: string) => n.startsWith('dense')), raw.weights],
  ];
  const manifest = groups.map(([layers], gi) => {
    const entries: any[] = [];
    const chunks: Buffer[] = [];
    for (const l of layers) {
      for (const w of raw.weights[l]) {
        if (opts.quantize) {
          let min = Infinity;
          let max = -Infinity;
          for (const v of w.data) {
            min = Math.min(min, v);
            max = Math.max(max, v);
          }
          const scale = (max - min) / 255 || 1;
          chunks.push(Buffer.from(Uint8Array.from(w.data, (v) => Math.round((v - min) / scale))));
          entries.push({ name: `${l}/${w.name}`, shape: w.shape, dtype: 'float32', quantization: { dtype: 'uint8', scale, min } });
        } else {
          chunks.push(Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength));
          entries.push({ name: `${l}/${w.name}`, shape: w.shape, dtype: 'float32' });
        }
      }
    }
    const all = Buffer.concat(chunks);
    // Uneven shard boundaries that cut through weights.
    const cuts = [0, Math.floor(all.length / 3) + 1, Math.floor((2 * all.length) / 3) + 3, all.length];
    const paths: string[] = [];
    for (let s = 0; s < 3; s++) {
      const p = `group${gi + 1}-shard${s + 1}of3.bin`;
      writeFileSync(join(d, p), all.subarray(cuts[s], cuts[s + 1]));
      paths.push(p);
    }
    return { paths, weights: entries };
  });
  let model: any = { class_name: 'Sequential', config: (raw.config as any).config };
  if (opts.listStyle) {
    const layers = structuredClone(model.config.layers);
    const input = layers.shift();
    layers[0].config.batch_input_shape = input.config.batch_input_shape;
    model = { class_name: 'Sequential', config: layers };
  }
  const topology = opts.wrapper ? { keras_version: '2.11.0', backend: 'tensorflow', model_config: model } : { ...model, keras_version: '2.11.0', backend: 'tensorflow' };
  const json: any = opts.topLevel
    ? { ...topology, weightsManifest: manifest }
    : { format: 'layers-model', generatedBy: 'keras v2.11.0', convertedBy: 'TensorFlow.js Converter v4.22.0', modelTopology: topology, weightsManifest: manifest };
  opts.mutate?.(json);
  const file = join(d, 'model.json');
  writeFileSync(file, JSON.stringify(json));
  return file;
}

test('several groups and shards, model_config wrapper, list-style Sequential: same graph as the .h5', async () => {
  const ref = await loadKerasH5(join(BENCH, 'sst_cnn.h5'));
  assertSameGraph(await loadTfjsLayers(await writeSharded('sharded')), ref);
  assertSameGraph(await loadTfjsLayers(await writeSharded('wrapped', { wrapper: true })), ref);
  const list = await loadTfjsLayers(await writeSharded('list', { listStyle: true }));
  // The list-style file has no InputLayer: the input is named after the first layer.
  assertSameGraph(list, ref, (n) => (n === 'conv2d_input' ? 'input_1' : n));
  // Topology at the top of the file, weightsManifest at its end (past the detection head): the Keras
  // JSON reader claims it by its head and hands it to this loader.
  const top = await writeSharded('toplevel', { topLevel: true });
  assertSameGraph(await loadTfjsLayers(top), ref);
  const head = new Uint8Array(readFileSync(top).subarray(0, 512));
  assert.equal(tfjsLayersFormat.detect(top, head), false);
  assert.equal(kerasJsonFormat.detect(top, head), true);
  assertSameGraph(await kerasJsonFormat.load(top, {}), ref);
});

test('uint8-quantized weights are dequantized (within half a step)', async () => {
  const g = await loadTfjsLayers(await writeSharded('quant', { quantize: true }));
  const raw = await readKerasH5Raw(join(BENCH, 'sst_cnn.h5'));
  const k = (g.nodes.find((n) => n.name === 'conv2d_1') as LayerNodeOf<'Conv'>).weights.kernel.data;
  const orig = raw.weights.conv2d_1.find((w) => w.name === 'kernel')!.data;
  let min = Infinity;
  let max = -Infinity;
  for (const v of orig) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const step = (max - min) / 255;
  let worst = 0;
  for (let i = 0; i < orig.length; i++) worst = Math.max(worst, Math.abs(k[i] - orig[i]));
  assert.ok(worst <= step / 2 + 1e-6, `worst ${worst} vs step ${step}`);
});

test('bad TF.js files: truncated shard, ../ shard path, missing shard, absurd shape, Lambda, bad JSON', async () => {
  const t = await writeSharded('trunc');
  const shard = join(dir, 'trunc', 'group2-shard3of3.bin');
  writeFileSync(shard, readFileSync(shard).subarray(0, 10));
  await expectLensError(loadTfjsLayers(t), 'TRUNCATED');
  await expectLensError(loadTfjsLayers(await writeSharded('evil', { mutate: (m) => (m.weightsManifest[0].paths[0] = '../../secret.bin') })), 'CORRUPT');
  await expectLensError(loadTfjsLayers(await writeSharded('noshard', { mutate: (m) => (m.weightsManifest[1].paths[1] = 'gone.bin') })), 'MISSING_WEIGHTS');
  await expectLensError(loadTfjsLayers(await writeSharded('absurd', { mutate: (m) => (m.weightsManifest[1].weights[0].shape = [1e6, 1e6]) })), 'SHAPE_LIMIT');
  await expectLensError(loadTfjsLayers(await writeSharded('lambda', {
    mutate: (m) => m.modelTopology.config.layers.splice(3, 0, { class_name: 'Lambda', config: { name: 'code', function: 'xyz' } }),
  })), 'LAMBDA_LAYER', 'code');
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"format": "layers-model", "modelTopology": {');
  await expectLensError(loadTfjsLayers(bad), 'BAD_JSON');
});
