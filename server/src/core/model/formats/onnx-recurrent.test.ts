/**
 * ONNX RNN / LSTM / GRU: graphs written here (onnx-writer) around weights from fixtures/recurrent/*.npy,
 * in PyTorch's export pattern (Transpose to time-major, the op, Transpose/Reshape/Squeeze back) and with
 * layout=1; outputs against float64 numpy references from the ONNX operator equations
 * (make_recurrent_fixtures.py). Refusals: peepholes, clip, per-sequence lengths, Y_c.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { useBackend } from '../../backend.js';
import { toFloat32 } from '../../array.js';
import { readNpyFile, relError as relErr } from '../../../testing/arrays.js';
import { errorCode } from '../../../testing/lens-error.js';
import { REPO } from '../../../testing/paths.js';
import { OnnxBuilder } from '../../../testing/onnx-writer.js';
import { loadModel } from '../load.js';
import { predictAll } from '../execute.js';

const FIX = join(REPO, 'server/src/core/model/formats/fixtures/recurrent');
const DIR = mkdtempSync(join(tmpdir(), 'lens-onnx-rnn-'));

before(async () => {
  await useBackend('wasm');
});

const npy = (stem: string, k: string) => readNpyFile(join(FIX, `${stem}.${k}.npy`));

interface Spec {
  stem: string;
  op: 'RNN' | 'LSTM' | 'GRU';
  direction: 'forward' | 'reverse' | 'bidirectional';
  layout: 0 | 1;
  attrs?: Record<string, number | string>;
  /** Extra inputs after B (sequence_lens, initial_h, initial_c, P) as initializer names ('' = absent). */
  extra?: (b: OnnxBuilder) => string[];
  /** Also expose Y_c (to test its refusal). */
  yc?: boolean;
  /** A fixed sequence length in the model input (default: symbolic). */
  T?: number;
}

/** The graph: x [N, T, I] -> op -> y [N, T, D*H] and yh [N, D*H], as PyTorch (layout 0) or with layout=1. */
function write(s: Spec, file: string): string {
  const W = npy(s.stem, 'W');
  const R = npy(s.stem, 'R');
  const B = npy(s.stem, 'B');
  const [D, , I] = W.shape;
  const H = R.shape[2];
  const b = new OnnxBuilder(13);
  b.input('x', ['N', s.T ?? 'T', I]);
  b.init('W', W.shape, toFloat32(W));
  b.init('R', R.shape, toFloat32(R));
  b.init('B', B.shape, toFloat32(B));
  const i64 = (name: string, v: number[]) => b.init(name, [v.length], v, { int64: true });
  const xin = s.layout === 0 ? b.node('Transpose', ['x'], { perm: [1, 0, 2] }, { name: 'to_time_major' }) : 'x';
  const outs = ['Y', 'Y_h', ...(s.yc ? ['Y_c'] : [])];
  b.node(s.op, [xin, 'W', 'R', 'B', ...(s.extra?.(b) ?? [])], { hidden_size: H, direction: s.direction, ...(s.layout ? { layout: 1 } : {}), ...s.attrs }, { name: 'rnn', outputs: outs });
  if (s.layout === 0) {
    let y: string;
    if (D === 2) {
      y = b.node('Transpose', ['Y'], { perm: [0, 2, 1, 3] }, { name: 'y_tr' });
      y = b.node('Reshape', [y, i64('shape3', [0, 0, -1])], {}, { name: 'y_reshape' });
    } else {
      y = b.node('Squeeze', ['Y', i64('ax1', [1])], {}, { name: 'y_squeeze' });
    }
    b.node('Transpose', [y], { perm: [1, 0, 2] }, { name: 'to_batch_first', outputs: ['y'] });
    const h = b.node('Transpose', ['Y_h'], { perm: [1, 0, 2] }, { name: 'h_tr' });
    b.node('Reshape', [h, i64('shape2', [0, -1])], {}, { name: 'h_reshape', outputs: ['yh'] });
  } else {
    b.node('Reshape', ['Y', i64('shape3', [0, 0, -1])], {}, { name: 'y_reshape', outputs: ['y'] });
    b.node('Reshape', ['Y_h', i64('shape2', [0, -1])], {}, { name: 'h_reshape', outputs: ['yh'] });
  }
  b.output('y', ['N', s.T ?? 'T', D * H]);
  b.output('yh', ['N', D * H]);
  if (s.yc) b.output('Y_c');
  return b.write(join(DIR, file));
}

async function check(s: Spec): Promise<number> {
  const g = await loadModel(write(s, `${s.stem}-${s.layout}-${s.T ?? 'open'}.onnx`));
  const x = npy(s.stem, 'x');
  const [y, yh] = predictAll(g, x);
  const wantY = npy(s.stem, 'y');
  const wantH = npy(s.stem, 'yh');
  assert.deepEqual(y.shape, wantY.shape);
  assert.deepEqual(yh.shape, wantH.shape);
  return Math.max(relErr(y.data, wantY.data), relErr(yh.data, wantH.data));
}

const CASES: Spec[] = [
  { stem: 'onnx_lstm_bidir', op: 'LSTM', direction: 'bidirectional', layout: 0 },
  // layout 1 with a fixed length: the generic Reshape needs the sizes it merges.
  { stem: 'onnx_lstm_bidir', op: 'LSTM', direction: 'bidirectional', layout: 1, T: 5 },
  { stem: 'onnx_gru_lbr0', op: 'GRU', direction: 'forward', layout: 0 },
  { stem: 'onnx_gru_lbr1', op: 'GRU', direction: 'forward', layout: 0, attrs: { linear_before_reset: 1 } },
  { stem: 'onnx_gru_lbr1', op: 'GRU', direction: 'forward', layout: 1, attrs: { linear_before_reset: 1 }, T: 5 },
  { stem: 'onnx_rnn_reverse', op: 'RNN', direction: 'reverse', layout: 0 },
];

for (const s of CASES) {
  test(`ONNX ${s.op} ${s.stem} (layout ${s.layout}) matches the float64 reference`, async () => {
    const e = await check(s);
    console.log(`# ${s.stem} layout ${s.layout}: max relative error ${e.toExponential(2)}`);
    assert.ok(e < 1e-5, `max relative error ${e}`);
  });
}

test('a zero initial state and whole-length sequence_lens are accepted', async () => {
  const extra = (b: OnnxBuilder) => [b.init('lens', [2], [5, 5], { int64: true }), b.init('h0', [1, 2, 3], new Array(6).fill(0))];
  const e = await check({ stem: 'onnx_gru_lbr0', op: 'GRU', direction: 'forward', layout: 0, T: 5, extra });
  assert.ok(e < 1e-5, `max relative error ${e}`);
  // Against a symbolic length, sequence_lens cannot be checked: refused.
  const open: Spec = { stem: 'onnx_gru_lbr0', op: 'GRU', direction: 'forward', layout: 0, extra };
  assert.equal(await errorCode(loadModel(write(open, 'gru-lens-open.onnx'))), 'UNSUPPORTED_CONFIG');
});

test('peepholes, clip, non-zero initial states, per-sequence lengths and Y_c are refused by name', async () => {
  const refuse = async (s: Spec, file: string, re: RegExp) => {
    try {
      await loadModel(write(s, file));
    } catch (e) {
      assert.match((e as Error).message, re);
      return;
    }
    assert.fail(`${file} loaded`);
  };
  const lstm: Spec = { stem: 'onnx_lstm_bidir', op: 'LSTM', direction: 'bidirectional', layout: 1, T: 5 };
  await refuse({ ...lstm, extra: (b) => ['', '', '', b.init('P', [2, 9], new Array(18).fill(0.1))] }, 'peep.onnx', /peepholes/);
  await refuse({ ...lstm, attrs: { clip: 3.5 } }, 'clip.onnx', /clip/);
  await refuse({ ...lstm, extra: (b) => ['', b.init('h0', [2, 2, 3], new Array(12).fill(0.5))] }, 'h0.onnx', /initial state/);
  await refuse({ ...lstm, extra: (b) => [b.init('lens', [2], [5, 3], { int64: true })] }, 'lens.onnx', /sequence_lens/);
  await refuse({ ...lstm, yc: true }, 'yc.onnx', /Y_c/);
});

test('Y and Y_h both used over a known length: the recurrence runs once (Y_h is the final step of Y)', async () => {
  const specs: Spec[] = [
    { stem: 'onnx_rnn_reverse', op: 'RNN', direction: 'reverse', layout: 0, T: 5 },
    { stem: 'onnx_gru_lbr1', op: 'GRU', direction: 'forward', layout: 1, attrs: { linear_before_reset: 1 }, T: 5 },
  ];
  for (const s of specs) {
    const g = await loadModel(write(s, `${s.stem}-once.onnx`));
    assert.equal(g.nodes.filter((n) => n.kind === 'Recurrent').length, 1, s.stem);
    const e = await check(s);
    assert.ok(e < 1e-5, `${s.stem}: max relative error ${e}`);
  }
  // An open length keeps a second run for Y_h (its last step has no fixed index).
  const open = await loadModel(write({ stem: 'onnx_gru_lbr0', op: 'GRU', direction: 'forward', layout: 0 }, 'gru-open-twice.onnx'));
  assert.equal(open.nodes.filter((n) => n.kind === 'Recurrent').length, 2);
});
