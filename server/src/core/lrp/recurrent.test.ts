/**
 * Relevance through recurrent layers against the float64 numpy reference in fixtures/recurrent-lrp/
 * (make_reference.py, written from the rules' formulas): SimpleRNN (with and without bias), LSTM forward /
 * go_backwards / bidirectional concat / hard-sigmoid gates (Keras 2 and 3), GRU reset_after true and false,
 * bidirectional sum and ave, Conv1D -> stacked LSTM -> Dense, ONNX RNN reverse / LSTM bidirectional / GRU
 * linear_before_reset 0 and 1, and the real sunspot LSTM on 12 steps. Per sample: max |R - R_ref| <= 1e-4 * max |R_ref|.
 * The conservative variant conserves relevance across every recurrent layer; the rule map picks rules.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { useBackend } from '../backend.js';
import { writeNpy } from '../data/npy.js';
import { toFloat32 } from '../array.js';
import { readNpyFile, worstRelPerSample } from '../../testing/arrays.js';
import { REAL, REPO, scratchDir } from '../../testing/paths.js';
import { runCli } from '../../testing/cli.js';
import { OnnxBuilder } from '../../testing/onnx-writer.js';
import { LensError } from '../errors.js';
import { loadModel } from '../model/load.js';
import { LrpExplainer, explainGraph } from './engine.js';

const HERE = join(REPO, 'server/src/core/lrp/fixtures/recurrent-lrp');
const FIX = join(REPO, 'server/src/core/model/formats/fixtures/recurrent');
const SUNSPOT = join(REAL, 'sunspot-lstm', 'rnn_model.h5');

interface RefCase {
  name: string;
  /** An ONNX op around the fixture's W, R, B .npy weights (written here, as onnx-recurrent.test.ts does). */
  onnx?: { op: string; direction: string; linear_before_reset: number };
  target: number;
  rules: Record<string, { file: string; conservation?: number }>;
}
const index = JSON.parse(readFileSync(join(HERE, 'index.json'), 'utf8')) as { epsilon: number; cases: RefCase[] };

before(async () => {
  await useBackend('wasm');
});

const DIR = mkdtempSync(join(tmpdir(), 'lens-rnn-lrp-'));

/** x [N, T, I] -> Transpose -> op -> Y [T, D, N, H] -> [N, T, D H] (PyTorch's export pattern, as onnx-recurrent.test.ts). */
function writeOnnx(c: RefCase & { onnx: NonNullable<RefCase['onnx']> }): string {
  const w = (k: string) => readNpyFile(join(FIX, `${c.name}.${k}.npy`));
  const [W, R, B] = [w('W'), w('R'), w('B')];
  const [D, , I] = W.shape;
  const H = R.shape[2];
  const b = new OnnxBuilder(13);
  b.input('x', ['N', 'T', I]);
  for (const [k, a] of [['W', W], ['R', R], ['B', B]] as const) b.init(k, a.shape, toFloat32(a));
  const xt = b.node('Transpose', ['x'], { perm: [1, 0, 2] });
  const attrs = { hidden_size: H, direction: c.onnx.direction, ...(c.onnx.op === 'GRU' ? { linear_before_reset: c.onnx.linear_before_reset } : {}) };
  b.node(c.onnx.op, [xt, 'W', 'R', 'B'], attrs, { name: 'rnn', outputs: ['Y'] });
  const i64 = (name: string, v: number[]) => b.init(name, [v.length], v, { int64: true });
  const y = D === 2 ? b.node('Reshape', [b.node('Transpose', ['Y'], { perm: [0, 2, 1, 3] }), i64('shape3', [0, 0, -1])]) : b.node('Squeeze', ['Y', i64('ax1', [1])]);
  b.node('Transpose', [y], { perm: [1, 0, 2] }, { outputs: ['y'] });
  b.output('y', ['N', 'T', D * H]);
  return b.write(join(DIR, `${c.name}.onnx`));
}

function modelOf(c: RefCase): string {
  if (c.onnx) return writeOnnx(c as RefCase & { onnx: NonNullable<RefCase['onnx']> });
  return c.name === 'sunspot' ? SUNSPOT : join(FIX, `${c.name}.h5`);
}
function inputOf(c: RefCase): string {
  return c.name === 'sunspot' ? join(HERE, 'sunspot12.x.npy') : join(FIX, `${c.name}.x.npy`);
}

test('relevance through recurrent layers matches the float64 reference (every rule, every case)', async () => {
  const rows: string[] = [];
  const failures: string[] = [];
  let checked = 0;
  for (const c of index.cases) {
    const g = await loadModel(modelOf(c));
    const x = readNpyFile(inputOf(c));
    for (const [rule, ref] of Object.entries(c.rules)) {
      // The default (no rule map) must be the Arras epsilon rule with the composite's epsilon.
      const ruleMap = rule === 'lstm-epsilon' ? [] : [{ kind: 'Recurrent', rule }];
      const e = explainGraph(g, x, { composite: 'epsilon', epsilon: index.epsilon, ruleMap, target: { type: 'index', index: c.target }, init: 'onehot' });
      const want = readNpyFile(join(HERE, ref.file));
      assert.deepEqual(e.relevance.shape, want.shape, `${c.name} ${rule}: shape`);
      const err = worstRelPerSample(e.relevance.data as Float32Array, toFloat32(want), x.shape[0]);
      rows.push(`${c.name} ${rule}: ${err.toExponential(2)}`);
      if (!(err <= 1e-4)) failures.push(`${c.name} ${rule}: ${err}`);
      for (const l of e.layers.filter((l) => l.kind === 'Recurrent')) assert.ok(l.rule.startsWith(rule), `${c.name}: ${l.name} has rule ${l.rule}`);
      checked++;
    }
  }
  console.log(`recurrent relevance vs reference:\n  ${rows.join('\n  ')}`);
  assert.deepEqual(failures, []);
  assert.equal(checked, 36);
});

test('lstm-conservative conserves relevance across every recurrent layer', async () => {
  let worst = 0;
  for (const c of index.cases) {
    assert.ok(c.rules['lstm-conservative'], `${c.name} has a conservative reference`);
    assert.ok(c.rules['lstm-conservative'].conservation! < 1e-6, `${c.name}: reference conservation`);
    const g = await loadModel(modelOf(c));
    const x = readNpyFile(inputOf(c));
    const ex = new LrpExplainer(g, { ruleMap: [{ kind: 'Recurrent', rule: 'lstm-conservative' }] });
    let e;
    try {
      e = ex.explain(x, { target: { type: 'index', index: c.target } });
    } finally {
      ex.dispose();
    }
    // relevanceSum is the relevance at a node's output: a recurrent layer's input relevance is its inbound
    // node's. Next to the model input, sum the returned float32 relevance in float64 and scale by the sum of
    // its magnitudes: near-zero denominators can leave large entries of both signs (onnx_gru_lbr0 reaches
    // 1e3 for a total of 1), whose float32 rounding alone exceeds 1e-5 of the total.
    const sums = new Map(e.layers.map((l) => [l.name, l.relevanceSum]));
    const recurrent = e.layers.filter((l) => l.kind === 'Recurrent');
    assert.ok(recurrent.length > 0);
    const per = e.relevance.data.length / x.shape[0];
    for (const l of recurrent) {
      const src = ex.graph.nodes.find((n) => n.name === l.name)!.inbound[0];
      l.relevanceSum.forEach((out, s) => {
        let inSum = sums.get(src)?.[s];
        let scale = Math.abs(out);
        if (inSum === undefined) {
          const row = Array.from(e.relevance.data.subarray(s * per, (s + 1) * per) as Float32Array);
          inSum = row.reduce((a, b) => a + b, 0);
          scale = Math.max(scale, row.reduce((a, b) => a + Math.abs(b), 0));
        }
        worst = Math.max(worst, Math.abs(inSum - out) / scale);
      });
    }
  }
  console.log(`worst conservation error across a recurrent layer (float32 engine, relative): ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-5, `conservation ${worst}`);
});

test('esn is for SimpleRNN cells; recurrent layers take only recurrent rules', async () => {
  const lstm = await loadModel(join(FIX, 'lstm.h5'));
  const usage = (e: unknown) => e instanceof LensError && e.code === 'USAGE' && e.layer !== undefined;
  assert.throws(() => new LrpExplainer(lstm, { ruleMap: [{ kind: 'Recurrent', rule: 'esn' }] }), usage);
  assert.throws(() => new LrpExplainer(lstm, { ruleMap: [{ name: 'lstm', rule: 'pass' }] }), usage);
  assert.throws(() => new LrpExplainer(lstm, { ruleMap: [{ name: 'lstm', rule: 'lstm-epsilon-nobias' }] }), (e: unknown) => e instanceof LensError && e.code === 'USAGE');
  // A stabilizer given with the rule reaches it.
  const custom = new LrpExplainer(lstm, { ruleMap: [{ kind: 'LSTM', rule: 'lstm-conservative:0.01' }] });
  try {
    assert.deepEqual(custom.ruleOf('lstm'), { type: 'recurrent', name: 'lstm-conservative(0.01)', family: 'recurrent', variant: 'conservative', stabilizer: 0.01 });
  } finally {
    custom.dispose();
  }
  const simple = await loadModel(join(FIX, 'simple_rnn.h5'));
  assert.throws(() => new LrpExplainer(simple, { ruleMap: [{ kind: 'Dense', rule: 'lstm-conservative' }] }), usage);
  // The composite's epsilon reaches the recurrent rule.
  const ex = new LrpExplainer(lstm, { composite: 'preset-a' });
  try {
    assert.equal(ex.ruleOf('lstm')?.name, 'lstm-epsilon(0.1)');
  } finally {
    ex.dispose();
  }
});

test('lrp-lens explain on the real sunspot model: an input of shape (1, 12, 1) gives relevance of shape (1, 12, 1)', async () => {
  const dir = scratchDir('recurrent-lrp');
  const input = join(dir, 'sun1.npy');
  const x = toFloat32(readNpyFile(join(HERE, 'sunspot12.x.npy'))).slice(0, 12);
  writeFileSync(input, writeNpy(x, [1, 12, 1]));
  for (const [rule, rules] of [['epsilon', []], ['conservative', ['--rules', 'kind:LSTM=lstm-conservative']]] as const) {
    const out = join(dir, `r_${rule}.npy`);
    const { code, out: text } = await runCli(['explain', SUNSPOT, '--input', input, ...rules, '--out', out, '--json']);
    assert.equal(code, 0, text);
    const r = readNpyFile(out);
    assert.deepEqual(r.shape, [1, 12, 1]);
    const want = toFloat32(readNpyFile(join(HERE, `sunspot.${rule}.npy`))).slice(0, 12);
    assert.ok(worstRelPerSample(toFloat32(r), want, 1) <= 1e-4, rule);
    const lstm = (JSON.parse(text).layers as { kind: string; rule: string }[]).filter((l) => l.kind === 'Recurrent');
    assert.equal(lstm.length, 3);
    assert.ok(lstm.every((l) => l.rule.startsWith(`lstm-${rule}`)), JSON.stringify(lstm));
  }
});
