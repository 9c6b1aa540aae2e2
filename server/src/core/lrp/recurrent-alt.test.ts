/**
 * The alternative recurrent rules (recurrent-alt.ts) against fixtures/recurrent-alt/make_alt_reference.py,
 * written from the ONNX operator equations: lstm-uniform (AttnLRP's half-half rule for products) and
 * lstm-gradient-x-input (the reference's gradient by the complex step), on ONNX LSTM forward and
 * bidirectional, GRU linear_before_reset 1 and 0, and a tanh RNN; picked by a rule map by kind or by
 * layer name. Per sample: max |R - R_ref| <= 1e-4 max |R_ref| (as recurrent.test.ts).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { useBackend } from '../backend.js';
import { toFloat32 } from '../array.js';
import { readNpyFile, relError, worstRelPerSample } from '../../testing/arrays.js';
import { REPO } from '../../testing/paths.js';
import { OnnxBuilder } from '../../testing/onnx-writer.js';
import { loadModel } from '../model/load.js';
import { predictAll } from '../model/execute.js';
import { RECURRENT_RULE_NAMES } from '../names.js';
import { RECURRENT_RULES, parseRule } from './rules.js';
import { explainGraph } from './engine.js';

const HERE = join(REPO, 'server/src/core/lrp/fixtures/recurrent-alt');
const DIR = mkdtempSync(join(tmpdir(), 'lens-rnn-alt-'));

interface Case {
  name: string;
  onnx: { op: string; direction: string; linear_before_reset: number };
  target: number;
  rules: Record<string, { file: string }>;
}
const index = JSON.parse(readFileSync(join(HERE, 'index.json'), 'utf8')) as { epsilon: number; cases: Case[] };

before(async () => {
  await useBackend('wasm');
});

const npy = (c: Case, k: string) => readNpyFile(join(HERE, `${c.name}.${k}.npy`));

/** x [N, T, I] -> Transpose -> op -> Y [T, D, N, H] -> [N, T, D H], PyTorch's export pattern. */
function write(c: Case): string {
  const [W, R, B] = [npy(c, 'W'), npy(c, 'R'), npy(c, 'B')];
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

test('the recurrent rule names are declared once: names.ts lists exactly the rules rules.ts maps', () => {
  assert.deepEqual(Object.keys(RECURRENT_RULES).sort(), [...RECURRENT_RULE_NAMES].sort());
  for (const n of RECURRENT_RULE_NAMES) assert.equal(parseRule(n).family, 'recurrent', n);
  assert.deepEqual(parseRule('lstm-uniform:0.01'), { type: 'recurrent', name: 'lstm-uniform(0.01)', family: 'recurrent', variant: 'uniform', stabilizer: 0.01 });
  assert.deepEqual(parseRule('lstm-gradient-x-input'), { type: 'recurrent', name: 'lstm-gradient-x-input(0.000001)', family: 'recurrent', variant: 'gradient', stabilizer: 1e-6 });
});

test('lstm-uniform and lstm-gradient-x-input match the float64 reference (LSTM, bidirectional LSTM, GRU both resets, RNN)', async () => {
  const rows: string[] = [];
  let checked = 0;
  for (const c of index.cases) {
    const g = await loadModel(write(c));
    const x = npy(c, 'x');
    // The graph computes what the reference's forward pass computes.
    assert.ok(relError(predictAll(g, x)[0].data, npy(c, 'y').data) < 1e-5, `${c.name}: predict`);
    for (const [rule, ref] of Object.entries(c.rules)) {
      // By kind, and by the layer's name for half of the cases.
      const ruleMap = [checked % 2 ? { name: 'rnn', rule } : { kind: 'Recurrent', rule }];
      const e = explainGraph(g, x, { composite: 'epsilon', epsilon: index.epsilon, ruleMap, target: { type: 'index', index: c.target }, init: 'onehot' });
      const rec = e.layers.filter((l) => l.kind === 'Recurrent');
      assert.ok(rec.length > 0 && rec.every((l) => l.rule.startsWith(rule)), `${c.name}: ${rec.map((l) => l.rule)}`);
      const want = readNpyFile(join(HERE, ref.file));
      const err = worstRelPerSample(e.relevance.data as Float32Array, toFloat32(want), x.shape[0]);
      rows.push(`${c.name} ${rule}: ${err.toExponential(2)}`);
      assert.ok(err <= 1e-4, `${c.name} ${rule}: ${err}`);
      checked++;
    }
  }
  console.log(`alternative recurrent rules vs reference:\n  ${rows.join('\n  ')}`);
  assert.equal(checked, 10);
});
