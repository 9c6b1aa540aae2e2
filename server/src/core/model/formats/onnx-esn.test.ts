/**
 * Unrolled recurrences: the files torch.onnx.export writes for PyTorch modules with a Python loop over the
 * time steps (fixtures/esn-onnx/make_esn_fixtures.py: echo state networks with leak 0.3, 0.55 and 1, an
 * nn.RNNCell loop) load as one Recurrent node and predict the float64 numpy reference of the same weights.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { useBackend } from '../../backend.js';
import { readNpyFile, relError } from '../../../testing/arrays.js';
import { REPO } from '../../../testing/paths.js';
import { loadModel } from '../load.js';
import { predictAll } from '../execute.js';
import type { LayerNodeOf } from '../graph.js';
import { OnnxBuilder } from '../../../testing/onnx-writer.js';
import { toFloat32 } from '../../array.js';

const FIX = join(REPO, 'server/src/core/model/formats/fixtures/esn-onnx');
const INDEX = JSON.parse(readFileSync(join(FIX, 'index.json'), 'utf8')) as Record<string, { a: number; T: number; N: number }>;

const DIR = mkdtempSync(join(tmpdir(), 'lens-onnx-esn-'));

before(async () => {
  await useBackend('wasm');
});

for (const stem of Object.keys(INDEX)) {
  test(`torch export ${stem}: one Recurrent node, predict equals the float64 reference`, async () => {
    const g = await loadModel(join(FIX, `${stem}.onnx`));
    const rec = g.nodes.filter((n) => n.kind === 'Recurrent') as LayerNodeOf<'Recurrent'>[];
    assert.equal(rec.length, 1);
    assert.equal(rec[0].params.cell, 'simple');
    assert.equal(rec[0].params.units, INDEX[stem].N);
    assert.ok(Math.abs((rec[0].params.leak ?? 1) - INDEX[stem].a) < 1e-7, `leak ${rec[0].params.leak}`);
    assert.deepEqual(g.nodes.map((n) => n.kind), ['Input', 'Recurrent', 'Dense']);
    const x = readNpyFile(join(FIX, `${stem}.x.npy`));
    const [y] = predictAll(g, x);
    const want = readNpyFile(join(FIX, `${stem}.y.npy`));
    assert.deepEqual(y.shape, want.shape);
    const e = relError(y.data, want.data);
    console.log(`# ${stem}: max error / max |y| = ${e.toExponential(2)}`);
    assert.ok(e < 1e-5, `relative error ${e}`);
  });
}

interface LoopSpec {
  /** Steps in this order (default 0..T-1). */
  order?: number[];
  /** The cell's activation (Tanh folds; Sigmoid is a gate). */
  act?: string;
  /** Also output the state after this step. */
  readStep?: number;
  /** From this step on, the recurrent weights are scaled by 2. */
  changeAt?: number;
  /** A per-unit leak vector instead of a scalar. */
  perUnitLeak?: boolean;
  /** Output the last state itself (no read-out). */
  stateOut?: boolean;
}

/** esn_leaky's weights as a hand-written unrolled loop: MatMul form, u[:, t] by Gather, the state as a constant zero. */
function loop(s: LoopSpec, file: string): string {
  const w = (k: string) => readNpyFile(join(FIX, `esn_leaky.${k}.npy`));
  const [Win, Wres, Wout] = [w('W_in'), w('W_res'), w('W_out')];
  const [F, N] = Win.shape;
  const T = INDEX.esn_leaky.T;
  const a = INDEX.esn_leaky.a;
  const b = new OnnxBuilder(13);
  b.input('u', ['N', T, F]);
  b.init('W_in', Win.shape, toFloat32(Win));
  b.init('W_res', Wres.shape, toFloat32(Wres));
  b.init('W_res2', Wres.shape, Array.from(toFloat32(Wres), (v) => 2 * v));
  b.init('b', [N], Array.from(w('b_in').data, (v, i) => v + w('b_res').data[i]));
  b.init('W_out', Wout.shape, toFloat32(Wout));
  b.init('b_out', [Wout.shape[1]], toFloat32(w('b_out')));
  b.init('keep', s.perUnitLeak ? [N] : [], s.perUnitLeak ? Array.from({ length: N }, (_, i) => 1 - a * (1 + i / N)) : [1 - a]);
  b.init('take', s.perUnitLeak ? [N] : [], s.perUnitLeak ? Array.from({ length: N }, (_, i) => a * (1 + i / N)) : [a]);
  let x = b.init('x0', [1, N], new Array(N).fill(0));
  (s.order ?? [...Array(T).keys()]).forEach((t, k) => {
    const ut = b.node('Gather', ['u', b.init(`t${k}`, [], [t], { int64: true })], { axis: 1 }, { name: `gather_${k}` });
    const wr = s.changeAt !== undefined && k >= s.changeAt ? 'W_res2' : 'W_res';
    const pre = b.node('Add', [b.node('Add', [b.node('MatMul', [ut, 'W_in']), b.node('MatMul', [x, wr], {}, { name: `rec_${k}` })]), 'b']);
    const h = b.node(s.act ?? 'Tanh', [pre], {}, { name: `act_${k}` });
    x = b.node('Add', [b.node('Mul', [x, 'keep']), b.node('Mul', [h, 'take'])], {}, { name: `state_${k}` });
    if (k === s.readStep) b.node('Identity', [x], {}, { name: 'read_mid', outputs: ['mid'] });
  });
  if (s.stateOut) {
    b.node('Identity', [x], {}, { name: 'state', outputs: ['y'] });
    b.output('y', ['N', N]);
  } else {
    b.node('Add', [b.node('MatMul', [x, 'W_out']), 'b_out'], {}, { name: 'readout', outputs: ['y'] });
    b.output('y', ['N', Wout.shape[1]]);
  }
  if (s.readStep !== undefined) b.output('mid', ['N', N]);
  return b.write(join(DIR, file));
}

test('a hand-written loop with a constant zero state folds; run backwards it gives the forward reference on reversed steps', async () => {
  const x = readNpyFile(join(FIX, 'esn_leaky.x.npy'));
  const want = readNpyFile(join(FIX, 'esn_leaky.y.npy'));
  const fwd = await loadModel(loop({}, 'fwd.onnx'));
  assert.deepEqual(fwd.nodes.map((n) => n.kind), ['Input', 'Recurrent', 'Dense']);
  const e1 = relError(predictAll(fwd, x)[0].data, want.data);
  // Reversed input steps, read last to first: the same states as the forward loop on the original input.
  const [n, T, F] = x.shape;
  const rev = new Float32Array(x.data.length);
  for (let i = 0; i < n; i++) for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) rev[(i * T + T - 1 - t) * F + f] = x.data[(i * T + t) * F + f];
  const bwd = await loadModel(loop({ order: [...Array(T).keys()].reverse() }, 'bwd.onnx'));
  assert.equal((bwd.nodes[1] as LayerNodeOf<'Recurrent'>).params.direction, 'backward');
  const e2 = relError(predictAll(bwd, { data: rev, shape: x.shape, dtype: x.dtype })[0].data, want.data);
  console.log(`# hand-written loop: forward ${e1.toExponential(2)}, backward ${e2.toExponential(2)}`);
  assert.ok(e1 < 1e-5 && e2 < 1e-5, `relative errors ${e1}, ${e2}`);
});

test('a loop whose output is its last state: Input -> Recurrent, the state times the read-out gives the reference', async () => {
  const g = await loadModel(loop({ stateOut: true }, 'state.onnx'));
  assert.deepEqual(g.nodes.map((n) => n.kind), ['Input', 'Recurrent']);
  const [state] = predictAll(g, readNpyFile(join(FIX, 'esn_leaky.x.npy')));
  const [Wout, bout, want] = [readNpyFile(join(FIX, 'esn_leaky.W_out.npy')), readNpyFile(join(FIX, 'esn_leaky.b_out.npy')), readNpyFile(join(FIX, 'esn_leaky.y.npy'))];
  const [N, O] = Wout.shape;
  const n = state.shape[0];
  const y = new Float64Array(n * O);
  for (let s = 0; s < n; s++) for (let o = 0; o < O; o++) {
    let acc = bout.data[o];
    for (let k = 0; k < N; k++) acc += state.data[s * N + k] * Wout.data[k * O + o];
    y[s * O + o] = acc;
  }
  const e = relError(y, want.data);
  assert.ok(e < 1e-5, `relative error ${e}`);
});

test('loops that do not fold are refused by name: a gate, an intermediate state, changing weights, a per-unit leak, skipped steps', async () => {
  const refuse = async (s: LoopSpec, file: string, layer: RegExp, why: RegExp) => {
    try {
      await loadModel(loop(s, file));
    } catch (e) {
      const err = e as { code?: string; layer?: string; message: string };
      assert.equal(err.code, 'UNSUPPORTED_OP', err.message);
      assert.match(err.layer ?? '', layer);
      assert.match(err.message, why);
      return;
    }
    assert.fail(`${file} loaded`);
  };
  await refuse({ act: 'Sigmoid' }, 'gate.onnx', /^act_0$/, /Sigmoid inside the loop/);
  await refuse({ readStep: 3 }, 'mid.onnx', /^read_mid$/, /neither its last state/);
  await refuse({ changeAt: 5 }, 'change.onnx', /^act_5$/, /recurrent weights at step 5 differ/);
  await refuse({ perUnitLeak: true }, 'unit-leak.onnx', /Mul/, /per-unit/);
  await refuse({ order: [0, 1, 2, 3, 5, 4, 6, 7, 8, 9, 10, 11] }, 'order.onnx', /^act_0$/, /do not read the 12 input steps once each, in order/);
});

test('torch export of an nn.LSTMCell loop: refused by name (UNSUPPORTED_OP at the first node that does not fold)', async () => {
  try {
    await loadModel(join(FIX, 'lstm_cell_loop.onnx'));
  } catch (e) {
    const err = e as { code?: string; layer?: string; message: string; hint?: string };
    assert.equal(err.code, 'UNSUPPORTED_OP');
    assert.equal(err.layer, '/cell/Split');
    assert.match(err.message, /unrolled recurrence .*Split inside the loop/);
    assert.match(err.hint ?? '', /nn\.LSTM/);
    return;
  }
  assert.fail('the LSTMCell loop loaded');
});
