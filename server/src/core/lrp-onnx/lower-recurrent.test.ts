/**
 * Leaky recurrent layers on ONNX Runtime (lower-recurrent.ts): the four torch-exported echo state networks
 * (leak 0.3 with nn.Linear, 1 and 0.55 with raw parameters, nn.RNNCell over unbind; folded into one
 * Recurrent layer on load) explained under lstm-epsilon (the default), lstm-conservative and esn, against
 * the float64 reference of core/lrp/fixtures/esn-lrp (make_esn_lrp.py) and against the tfjs engine, per
 * sample max |R - R_ref| <= 1e-4 max |R_ref| (as the tfjs engine's own test); the ESN sample; sequence
 * outputs, backward direction and relu against the tfjs engine; the Keras SimpleRNN fixtures (a Dense on
 * every step of a return_sequences layer, a relu last state) with their time axis fixed, against the tfjs
 * engine and their Keras reference outputs. LSTM, an open time axis and the uniform rule stay on the tfjs
 * engine, with the reason.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../backend.js';
import { toFloat32 } from '../array.js';
import { readNpyFile, worstRelPerSample } from '../../testing/arrays.js';
import { REPO, SAMPLES } from '../../testing/paths.js';
import { findEntry, readProject } from '../data/project.js';
import { openSession, samplesOf } from '../session/session.js';
import { loadModel } from '../model/load.js';
import type { LayerNode, ModelGraph, RecurrentParams } from '../model/graph.js';
import { inferShapes } from '../model/shapes.js';
import { randomArray, rng } from '../lrp/test-graphs.js';
import { explainGraph } from '../lrp/engine.js';
import { OrtExplainer, chooseEngine } from './ort-explainer.js';

const REF = join(REPO, 'server/src/core/lrp/fixtures/esn-lrp');
const FIX = join(REPO, 'server/src/core/model/formats/fixtures/esn-onnx');
const RECURRENT = join(REPO, 'server/src/core/model/formats/fixtures/recurrent');
const index = JSON.parse(readFileSync(join(REF, 'index.json'), 'utf8')) as { epsilon: number; cases: { name: string; a: number; target: number; rules: Record<string, { file: string }> }[] };

before(async () => {
  await useBackend('wasm');
});

test('ESNs on ONNX Runtime match the float64 reference and the tfjs engine: lstm-epsilon, lstm-conservative, esn; leaky and a = 1', async () => {
  const rows: string[] = [];
  let checked = 0;
  for (const c of index.cases) {
    const g = await loadModel(join(FIX, `${c.name}.onnx`));
    const x = readNpyFile(join(FIX, `${c.name}.x.npy`));
    const n = x.shape[0];
    for (const [rule, ref] of Object.entries(c.rules)) {
      if (rule === 'lstm-gradient-x-input') continue;
      const ruleMap = rule === 'lstm-epsilon' ? [] : [{ kind: 'Recurrent', rule }];
      const opts = { composite: 'epsilon', epsilon: index.epsilon, ruleMap };
      const ort = await OrtExplainer.create(g, opts);
      try {
        const e = await ort.explain(x, { target: { type: 'index', index: c.target } });
        const js = explainGraph(g, x, { ...opts, target: { type: 'index', index: c.target }, init: 'onehot' });
        const got = e.relevance.data as Float32Array;
        const vsRef = worstRelPerSample(got, toFloat32(readNpyFile(join(REF, ref.file))), n);
        const vsJs = worstRelPerSample(got, js.relevance.data as Float32Array, n);
        rows.push(`${c.name} (a = ${c.a}) ${rule}: vs reference ${vsRef.toExponential(2)}, vs tfjs ${vsJs.toExponential(2)}`);
        assert.ok(vsRef <= 1e-4, `${c.name} ${rule} vs reference: ${vsRef}`);
        assert.ok(vsJs <= 1e-4, `${c.name} ${rule} vs tfjs: ${vsJs}`);
        checked++;
      } finally {
        await ort.dispose();
      }
    }
  }
  console.log(`ESN relevance on ONNX Runtime (worst per-sample max |dR| / max |R_ref|):\n  ${rows.join('\n  ')}`);
  assert.equal(checked, 12);
});

test('LSTMs and the uniform rule stay on the tfjs engine, and say why', async () => {
  const lstm = await chooseEngine(await loadModel(join(RECURRENT, 'lstm.h5')), { composite: 'epsilon' });
  assert.equal(lstm.engine, 'tfjs');
  if (lstm.engine === 'tfjs') assert.match(lstm.reason, /LSTM cells are not lowered/);
  const esn = await loadModel(join(FIX, `${index.cases[0].name}.onnx`));
  const uniform = await chooseEngine(esn, { composite: 'epsilon', ruleMap: [{ kind: 'Recurrent', rule: 'lstm-uniform' }] });
  assert.equal(uniform.engine, 'tfjs');
  if (uniform.engine === 'tfjs') assert.match(uniform.reason, /rule lstm-uniform.* is not lowered/);
  const ok = await chooseEngine(esn, { composite: 'epsilon' });
  assert.equal(ok.engine, 'onnxruntime');
  if (ok.engine === 'onnxruntime') await ok.explainer.dispose();
});

test('the ESN sample (120 units, leak 0.02, 72 steps of ERSSTv5 columns) on ONNX Runtime matches the tfjs engine, all three rules', async () => {
  const file = join(SAMPLES, 'models/esn_columns/model.onnx');
  const project = await readProject(join(SAMPLES, 'lrp-lens.json'));
  const entry = findEntry(project, file);
  const g = await loadModel(file);
  const session = await openSession({ model: g, data: { kind: 'project', project, entry }, entry });
  const { x } = samplesOf(session, { maxSamples: 4 });
  const rows: string[] = [];
  for (const rule of ['lstm-epsilon', 'lstm-conservative', 'esn']) {
    const opts = { composite: 'epsilon', ruleMap: rule === 'lstm-epsilon' ? [] : [{ kind: 'Recurrent', rule }] };
    const ort = await OrtExplainer.create(g, opts);
    try {
      const e = await ort.explain(x);
      const js = explainGraph(g, x, { ...opts, target: { type: 'predicted' }, init: 'onehot' });
      assert.deepEqual(e.targets.map((t) => t.index), js.targets.map((t) => t.index), `${rule}: the same decisions`);
      const err = worstRelPerSample(e.relevance.data as Float32Array, js.relevance.data as Float32Array, x.shape[0]);
      rows.push(`${rule} ${err.toExponential(2)}`);
      assert.ok(err <= 1e-4, `${rule}: ${err}`);
    } finally {
      await ort.dispose();
    }
  }
  console.log(`ESN sample, ONNX Runtime vs tfjs (worst per-sample max |dR| / max |R|): ${rows.join(', ')}`);
});

test('sequence outputs (every step\'s state, flattened into a read-out), both directions and both output orders, tanh and relu: ONNX Runtime matches the tfjs engine', async () => {
  const c = index.cases.find((k) => k.a < 1)!;
  const g = await loadModel(join(FIX, `${c.name}.onnx`));
  const x = readNpyFile(join(FIX, `${c.name}.x.npy`));
  const T = x.shape[1];
  const rows: string[] = [];
  for (const direction of ['forward', 'backward'] as const) {
    for (const processingOrder of [true, false]) {
      for (const act of ['tanh', 'relu'] as const) {
        if (direction === 'forward' && !processingOrder) continue; // the same as processing order
        const seq = sequenceReadout(g, T, { direction, processingOrder, cellActivation: { name: act } });
        for (const rule of ['lstm-epsilon', 'lstm-conservative', 'esn']) {
          const opts = { composite: 'epsilon', epsilon: index.epsilon, ruleMap: rule === 'lstm-epsilon' ? [] : [{ kind: 'Recurrent', rule }] };
          const ort = await OrtExplainer.create(seq, opts);
          try {
            const e = await ort.explain(x, { target: { type: 'index', index: 1 } });
            const js = explainGraph(seq, x, { ...opts, target: { type: 'index', index: 1 }, init: 'onehot' });
            const err = worstRelPerSample(e.relevance.data as Float32Array, js.relevance.data as Float32Array, x.shape[0]);
            rows.push(`${direction}${processingOrder ? '' : ' aligned'} ${act} ${rule} ${err.toExponential(2)}`);
            assert.ok(err <= 1e-4, `${direction} ${processingOrder} ${act} ${rule}: ${err}`);
          } finally {
            await ort.dispose();
          }
        }
      }
    }
  }
  console.log(`sequence outputs, ONNX Runtime vs tfjs: ${rows.join(', ')}`);
  assert.equal(rows.length, 18);
});

/** The fixture's reservoir returning every step's state (params changed as given), flattened into a seeded 2-class read-out. */
function sequenceReadout(g: ModelGraph, T: number, change: Partial<RecurrentParams>): ModelGraph {
  const rnn = g.nodes.find((n) => n.kind === 'Recurrent')!;
  const u = (rnn.params as RecurrentParams).units;
  const rand = rng(31);
  const nodes = [
    g.nodes.find((n) => n.kind === 'Input')!,
    { ...rnn, params: { ...rnn.params, ...change, returnSequences: true }, outputShape: [null, T, u] },
    { name: 'flat', kind: 'Flatten', inbound: [rnn.name], params: { channelsFirst: false }, weights: {}, activation: { name: 'linear' }, outputShape: [null, T * u], source: { className: 'Flatten' } },
    { name: 'readout', kind: 'Dense', inbound: ['flat'], params: { units: 2, useBias: true }, weights: { kernel: { shape: [T * u, 2], data: randomArray(T * u * 2, rand, 0.3) }, bias: { shape: [2], data: Float32Array.of(0.1, -0.1) } }, activation: { name: 'linear' }, outputShape: [null, 2], source: { className: 'Dense' } },
  ] as LayerNode[];
  return { ...g, name: `${g.name}-seq`, nodes, outputs: [{ node: 'readout', fileName: 'readout', fileShape: [null, 2], fileLayout: 'NC' }] };
}

test('a backward leaky reservoir (the ESN fixture run from the last step to the first, last state) matches the tfjs engine, and its map differs from the forward one', async () => {
  const c = index.cases.find((k) => k.a < 1)!;
  const g = await loadModel(join(FIX, `${c.name}.onnx`));
  const x = readNpyFile(join(FIX, `${c.name}.x.npy`));
  const rnn = g.nodes.find((n) => n.kind === 'Recurrent')!;
  const backward = { ...g, nodes: g.nodes.map((n) => (n === rnn ? { ...n, params: { ...n.params, direction: 'backward' } } : n)) } as typeof g;
  for (const rule of ['lstm-epsilon', 'lstm-conservative', 'esn']) {
    const opts = { composite: 'epsilon', epsilon: index.epsilon, ruleMap: rule === 'lstm-epsilon' ? [] : [{ kind: 'Recurrent', rule }] };
    const ort = await OrtExplainer.create(backward, opts);
    try {
      const e = await ort.explain(x, { target: { type: 'index', index: c.target } });
      const js = explainGraph(backward, x, { ...opts, target: { type: 'index', index: c.target }, init: 'onehot' });
      const fwd = explainGraph(g, x, { ...opts, target: { type: 'index', index: c.target }, init: 'onehot' });
      const err = worstRelPerSample(e.relevance.data as Float32Array, js.relevance.data as Float32Array, x.shape[0]);
      assert.ok(err <= 1e-4, `${rule}: ${err}`);
      assert.ok(worstRelPerSample(e.relevance.data as Float32Array, fwd.relevance.data as Float32Array, x.shape[0]) > 1e-2, `${rule}: running backward changes the map`);
    } finally {
      await ort.dispose();
    }
  }
});


/**
 * worstRelPerSample, where a sample the reference gives no relevance at all (z+ on a
 * negative target) must get none either: its error is then the largest |R| given.
 */
function worstRelOrZero(got: Float32Array, want: Float32Array, n: number): number {
  const per = want.length / n;
  let worst = 0;
  for (let s = 0; s < n; s++) {
    const g = got.subarray(s * per, (s + 1) * per), w = want.subarray(s * per, (s + 1) * per);
    worst = Math.max(worst, w.every((v) => v === 0) ? Math.max(...Array.from(g, Math.abs)) : worstRelPerSample(g, w, 1));
  }
  return worst;
}

/** The graph with its open time axis fixed to T steps (shapes inferred again), as a batch of T-step sequences gives it. */
function withSteps(g: ModelGraph, T: number): ModelGraph {
  const fix = (s: (number | null)[]) => s.map((d, i) => (i === 1 ? T : d));
  return inferShapes({
    ...g,
    nodes: g.nodes.map((n) => ({ ...n, outputShape: n.kind === 'Input' ? fix(n.outputShape) : [] }) as LayerNode),
    inputs: g.inputs.map((s) => ({ ...s, fileShape: fix(s.fileShape) })),
    outputs: g.outputs.map((s) => ({ ...s, fileShape: [] })),
  });
}

test('Keras SimpleRNN fixtures with the time axis fixed: a Dense on every step of a return_sequences layer (a size-1 convolution in the graph) and a relu last state, on ONNX Runtime within 1e-4 of the tfjs engine under every rule, predicting the Keras reference', async () => {
  const rows: string[] = [];
  const ruleMaps = [
    [],
    [{ kind: 'Recurrent', rule: 'lstm-conservative' }],
    [{ kind: 'Recurrent', rule: 'esn' }],
    [{ kind: 'dense', rule: 'alpha-beta:1:0' }],
    [{ kind: 'dense', rule: 'alpha-beta:2:1' }],
    [{ kind: 'dense', rule: 'gamma:0.25' }],
    [{ kind: 'dense', rule: 'w-square' }],
  ];
  for (const stem of ['simple_rnn', 'simple_rnn_nobias']) {
    const open = await loadModel(join(RECURRENT, `${stem}.h5`));
    const x = readNpyFile(join(RECURRENT, `${stem}.x.npy`));
    const [n, T] = x.shape;
    const refused = await chooseEngine(open, { composite: 'epsilon' });
    assert.equal(refused.engine, 'tfjs', `${stem}: an open time axis is not unrolled`);
    if (refused.engine === 'tfjs') assert.match(refused.reason, /open sequence length/);
    const g = withSteps(open, T);
    const dense = g.nodes.find((k) => k.kind === 'Dense');
    if (stem === 'simple_rnn') assert.deepEqual(dense?.outputShape, [null, T, 2], 'the Dense maps every step');
    // The Keras outputs, from the fixture generator's float64 implementation of the equations.
    const want = readNpyFile(join(RECURRENT, `${stem}.y.npy`)).data as Float64Array;
    const K = want.length / n;
    for (const ruleMap of ruleMaps) {
      if (stem === 'simple_rnn_nobias' && ruleMap.some((e) => e.kind === 'dense')) continue; // no Dense in it
      const opts = { composite: 'epsilon', ruleMap };
      const ort = await OrtExplainer.create(g, opts);
      try {
        for (const target of [0, K - 1]) {
          const e = await ort.explain(x, { target: { type: 'index', index: target } });
          const js = explainGraph(g, x, { ...opts, target: { type: 'index', index: target }, init: 'onehot' });
          const out = e.output.data as Float32Array;
          let outErr = 0;
          for (let i = 0; i < want.length; i++) outErr = Math.max(outErr, Math.abs(out[i] - want[i]) / Math.max(1e-6, Math.abs(want[i])));
          assert.ok(outErr <= 1e-5, `${stem}: output vs Keras reference, relative ${outErr}`);
          const err = worstRelOrZero(e.relevance.data as Float32Array, js.relevance.data as Float32Array, n);
          rows.push(`${stem} ${ruleMap.map((r) => r.rule).join('+') || 'default'} target ${target}: ${err.toExponential(2)} (max |R| ${Math.max(...Array.from(js.relevance.data as Float32Array, Math.abs)).toPrecision(2)})`);
          assert.ok(err <= 1e-4, `${stem} ${JSON.stringify(ruleMap)} target ${target}: ${err}`);
        }
      } finally {
        await ort.dispose();
      }
    }
  }
  console.log(`Keras SimpleRNN fixtures, ONNX Runtime vs tfjs (worst per-sample max |dR| / max |R|):\n  ${rows.join('\n  ')}`);
  assert.equal(rows.length, 2 * (7 + 3));
});
