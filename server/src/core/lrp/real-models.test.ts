/**
 * The engine on third-party models (../shared/real-models): relevance is finite for every loadable
 * model under every composite; BatchNorm canonization leaves outputs unchanged; a batch gives the same
 * maps as its samples one by one; wasm and cpu agree; no tensor leaks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REAL, REF } from '../../testing/paths.js';
import { readNpy } from '../data/npy.js';
import { tf, useBackend } from '../backend.js';
import { loadModel } from '../model/load.js';
import { predict, runGraph, inputTensor } from '../model/execute.js';
import { canonicalize } from '../model/canonicalize.js';
import { inferShapes } from '../model/shapes.js';
import type { ModelGraph } from '../model/graph.js';
import { LrpExplainer, type Explanation } from './engine.js';
import { COMPOSITE_NAMES } from './composites.js';
import { randomArray, rng } from './test-graphs.js';

const MODEL_EXT = /\.(h5|keras|onnx|json)$/;

function modelFiles(): string[] {
  const out: string[] = [];
  for (const dir of readdirSync(REAL)) {
    const d = join(REAL, dir);
    if (!statSync(d).isDirectory()) continue;
    for (const f of readdirSync(d)) if (MODEL_EXT.test(f)) out.push(join(d, f));
  }
  return out.sort();
}

/** A random input batch in the file's layout (symbolic dims other than batch: refuse). */
function randomInput(graph: ModelGraph, n: number, seed: number) {
  const spec = graph.inputs[0];
  const dims = spec.fileShape.slice(1).map((d) => d ?? 0);
  if (dims.some((d) => d <= 0)) return undefined;
  const shape = [n, ...dims];
  return { shape, data: randomArray(shape.reduce((a, b) => a * b, 1), rng(seed)), dtype: 'f4' as const };
}

/** Multiply-accumulates per sample of the linear layers (a cost estimate). */
function macs(graph: ModelGraph): number {
  let total = 0;
  for (const n of graph.nodes) {
    const out = n.outputShape.slice(1).reduce<number>((a, b) => a * (b ?? 1), 1);
    const k = n.weights.kernel;
    if (!k) continue;
    if (n.kind === 'Dense') total += k.data.length * (out / k.shape[1]);
    else if (n.kind === 'Conv' || n.kind === 'DepthwiseConv') total += out * (k.data.length / k.shape[k.shape.length - 1]);
  }
  return total;
}

/**
 * The same weights on a smaller field where a model is too costly for a 2-core test run (the 3-D U-Net's
 * 64x64x12 grid): the first two spatial dims shrink 16x. Rules and kernels are what the test checks.
 */
function affordable(graph: ModelGraph): ModelGraph {
  if (macs(graph) < 2e8) return graph;
  const spec = graph.inputs[0];
  const input = graph.nodes.find((n) => n.name === spec.node)!;
  const shrink = (shape: (number | null)[], first: number) => shape.map((d, i) => (i >= first && i < first + 2 && d !== null && d % 16 === 0 ? d / 16 : d));
  const channelsFirst = spec.fileLayout.startsWith('NC') && spec.fileLayout !== 'NC';
  const nodes = graph.nodes.map((n) => ({ ...n, params: structuredClone(n.params), outputShape: n === input ? shrink(n.outputShape, 1) : [] }));
  return inferShapes({ ...graph, nodes: nodes as ModelGraph['nodes'], inputs: [{ ...spec, fileShape: shrink(spec.fileShape, channelsFirst ? 2 : 1) }] });
}

async function tryLoad(file: string): Promise<ModelGraph | undefined> {
  try {
    return affordable(await loadModel(file));
  } catch {
    return undefined; // not loadable: the loaders' tests own that
  }
}

test('relevance is finite for every loadable real model under every composite', async () => {
  await useBackend('wasm');
  const seen: string[] = [];
  for (const file of modelFiles()) {
    const graph = await tryLoad(file);
    if (!graph) continue;
    const x = randomInput(graph, 1, 5);
    if (!x) continue;
    for (const composite of COMPOSITE_NAMES) {
      const ex: LrpExplainer = new LrpExplainer(graph, { composite, low: -3, high: 3 });
      try {
        // Models with one output explain it as a regression; others the predicted class.
        const e: Explanation = ex.explain(x, { target: { type: "predicted" } });
        const bad = (e.relevance.data as Float32Array).findIndex((v) => !Number.isFinite(v));
        assert.equal(bad, -1, `${file} ${composite}: non-finite relevance at ${bad}`);
        assert.deepEqual(e.relevance.shape, x.shape, `${file}: relevance shape`);
        assert.ok(e.layers.length > 0);
      } catch (err) {
        throw new Error(`${file} ${composite}: ${(err as Error).message}`);
      } finally {
        ex.dispose();
      }
    }
    seen.push(file.slice(REAL.length + 1));
  }
  console.log(`finite relevance on: ${seen.join(', ')}`);
  // The loaders read at least the Keras CNNs, the ResNet and the ONNX MNIST net.
  for (const must of ['sevir/sub-sevir-cnn-class-1d.h5', 'mlcommons-tiny/pretrainedResnet.h5', 'deepeverest-mnist/mnist.onnx']) {
    assert.ok(seen.includes(must), `${must} was not explained`);
  }
});

test('BatchNorm canonization merges into the preceding layer and leaves outputs unchanged', async () => {
  await useBackend('cpu');
  for (const rel of ['mlcommons-tiny/pretrainedResnet.h5', 'sevir/sub-sevir-cnn-reg-1d.h5']) {
    const graph = await loadModel(join(REAL, rel));
    const canon = canonicalize(graph);
    const x = randomInput(graph, 3, 9)!;
    if (rel.startsWith('mlcommons')) assert.ok(canon.mergedBatchNorms.length >= 7, `${rel}: merged ${canon.mergedBatchNorms.length}`);
    assert.ok(canon.graph.nodes.every((n) => n.activation.name === 'linear'), 'fused activations split');
    const a = predict(graph, x).data as Float32Array;
    // The canonical graph explains the value before a stripped output activation: compare there.
    const b = tf.tidy(() => {
      let y = runGraph(canon.graph, inputTensor(canon.graph, x));
      const s = canon.strippedOutput?.activation;
      if (s === 'softmax') y = tf.softmax(y);
      else if (s === 'sigmoid') y = tf.sigmoid(y);
      return y.dataSync() as Float32Array;
    });
    let worst = 0;
    let scale = 0;
    for (let i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(a[i]));
    }
    assert.ok(worst <= 1e-5 * Math.max(1, scale), `${rel}: canonical output differs by ${worst}`);
  }
});

test('a batch gives the same maps as its samples one by one, in any chunk size', async () => {
  await useBackend('wasm');
  const graph = await loadModel(join(REAL, 'mlcommons-tiny/pretrainedResnet.h5'));
  const x = randomInput(graph, 5, 21)!;
  const ex = new LrpExplainer(graph, { composite: 'epsilon-gamma-box', low: -3, high: 3 });
  try {
    const all = ex.explain(x, { chunkSize: 2 });
    const per = all.relevance.data.length / 5;
    for (let s = 0; s < 5; s++) {
      const one = ex.explain({ shape: [1, ...x.shape.slice(1)], data: x.data.subarray(s * per, (s + 1) * per), dtype: 'f4' });
      const a = all.relevance.data.subarray(s * per, (s + 1) * per) as Float32Array;
      const b = one.relevance.data as Float32Array;
      let worst = 0;
      let scale = 0;
      for (let i = 0; i < per; i++) {
        worst = Math.max(worst, Math.abs(a[i] - b[i]));
        scale = Math.max(scale, Math.abs(b[i]));
      }
      assert.ok(worst <= 1e-6 * scale, `sample ${s}: batch vs single differ by ${worst} (scale ${scale})`);
      assert.equal(one.targets[0].index, all.targets[s].index);
    }
  } finally {
    ex.dispose();
  }
});

test('wasm and cpu backends agree to 1e-5', async () => {
  const cases = [
    { file: join(REF, 'cnn_same', 'model.h5'), x: join(REF, 'cnn_same', 'x_nhwc.npy') },
    { file: join(REF, 'cnn_same', 'model.onnx'), x: join(REF, 'cnn_same', 'x_nchw.npy') },
    { file: join(REAL, 'deepeverest-mnist/mnist.onnx') },
  ];
  for (const c of cases) {
    const graph = await loadModel(c.file);
    const x = c.x ? readNpy(new Uint8Array(readFileSync(c.x)), c.x) : randomInput(graph, 2, 31)!;
    for (const composite of ['epsilon', 'epsilon-plus', 'epsilon-gamma-box', 'epsilon-alpha2-beta1-flat']) {
      const results: Float32Array[] = [];
      for (const backend of ['wasm', 'cpu'] as const) {
        await useBackend(backend);
        const ex = new LrpExplainer(graph, { composite, low: -5, high: 5 });
        try {
          results.push(ex.explain(x, { target: { type: 'predicted' } }).relevance.data as Float32Array);
        } finally {
          ex.dispose();
        }
      }
      let worst = 0;
      let scale = 0;
      for (let i = 0; i < results[0].length; i++) {
        worst = Math.max(worst, Math.abs(results[0][i] - results[1][i]));
        scale = Math.max(scale, Math.abs(results[1][i]));
      }
      assert.ok(worst <= 1e-5 * scale, `${c.file} ${composite}: wasm vs cpu relative difference ${worst / scale}`);
    }
  }
});

test('no tensor leaks: tf.memory().numTensors returns to its start', async () => {
  await useBackend('wasm');
  const graph = await loadModel(join(REAL, 'mlcommons-tiny/pretrainedResnet.h5'));
  const x = randomInput(graph, 3, 41)!;
  const start = tf.memory().numTensors;
  for (const composite of ['epsilon', 'epsilon-gamma-box', 'epsilon-alpha2-beta1-flat']) {
    const ex = new LrpExplainer(graph, { composite, low: -3, high: 3 });
    ex.explain(x, { chunkSize: 2 });
    ex.explain(x, { target: { type: 'contrast', a: 1, b: 2 }, init: 'output' });
    ex.dispose();
  }
  assert.equal(tf.memory().numTensors, start);
});
