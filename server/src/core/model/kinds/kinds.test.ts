/**
 * Layer kinds on hand-built graphs, checked against naive loop implementations written here from the
 * frameworks' definitions (TF 'same' padding, PyTorch ceil_mode / count_include_pad, ...).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf, useBackend } from '../../backend.js';
import type { ActivationSpec, KindParams, LayerKind, LayerNode, ModelGraph, Shape, WeightTensor } from '../graph.js';
import { inferShapes } from '../shapes.js';
import { runGraph } from '../execute.js';
import { samePads } from './common.js';
import { depthwiseValid } from './depthwise-conv.js';
import { LensError } from '../../errors.js';
import { mulberry32 as rng } from '../../random.js';

before(async () => {
  await useBackend('wasm');
});

// ---- tiny helpers -------------------------------------------------------------------------------


function randArray(shape: number[], seed: number): Float32Array {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
}

function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let k = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = k;
    k *= shape[i];
  }
  return s;
}

/** Every index tuple of a shape, in C order. */
function* indices(shape: number[]): Generator<number[]> {
  const n = shape.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    yield [...idx];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

const W = (shape: number[], seed: number): WeightTensor => ({ shape, data: randArray(shape, seed) });

function node<K extends LayerKind>(name: string, kind: K, inbound: string[], params: KindParams[K], weights: Record<string, WeightTensor> = {}, activation: ActivationSpec = { name: 'linear' }): LayerNode {
  return { name, kind, inbound, params, weights, activation, outputShape: [], source: { className: kind } } as unknown as LayerNode;
}

function graphOf(inputShapes: Shape[], nodes: LayerNode[], output = nodes[nodes.length - 1].name): ModelGraph {
  const inputs = inputShapes.map((_, i) => node(`in${i}`, 'Input', [], {} as Record<string, never>));
  inputs.forEach((n, i) => (n.outputShape = inputShapes[i]));
  return inferShapes({
    file: '/test/model',
    name: 'test',
    format: { name: 'keras-h5', version: '2.x' },
    inputs: inputShapes.map((s, i) => ({ node: `in${i}`, fileName: `in${i}`, fileShape: s, fileLayout: 'other' })),
    outputs: [{ node: output, fileName: output, fileShape: [], fileLayout: 'other' }],
    nodes: [...inputs, ...nodes],
  });
}

function run(g: ModelGraph, xs: { shape: number[]; data: Float32Array }[]): { shape: number[]; data: Float32Array } {
  const y = tf.tidy(() => runGraph(g, xs.map((x) => tf.tensor(x.data, x.shape))));
  const out = { shape: y.shape, data: y.dataSync() as Float32Array };
  y.dispose();
  return out;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-4, what = ''): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < actual.length; i++) {
    const e = Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i]));
    if (!(e <= worst)) {
      worst = e;
      at = i;
    }
  }
  assert.ok(worst <= tol, `${what}: max error ${worst} at ${at} (got ${actual[at]}, want ${expected[at]})`);
}

// ---- naive references ---------------------------------------------------------------------------

/** N-d conv, channels-last, explicit pads, strides, dilation, groups. */
function naiveConv(x: Float32Array, xs: number[], w: Float32Array, ws: number[], b: Float32Array | null, s: number[], d: number[], pads: [number, number][], groups: number): { shape: number[]; data: Float64Array } {
  const r = xs.length - 2;
  const ci = xs[r + 1];
  const cg = ci / groups;
  const co = ws[r + 1];
  const og = co / groups;
  const k = ws.slice(0, r);
  const out = xs.slice(1, r + 1).map((n, i) => Math.floor((n + pads[i][0] + pads[i][1] - ((k[i] - 1) * d[i] + 1)) / s[i]) + 1);
  const oshape = [xs[0], ...out, co];
  const data = new Float64Array(oshape.reduce((a, c) => a * c, 1));
  const xst = strides(xs);
  const wst = strides(ws);
  let p = 0;
  for (const idx of indices(oshape)) {
    const o = idx[r + 1];
    const g = Math.floor(o / og);
    let acc = b ? b[o] : 0;
    for (const kk of indices(k)) {
      const pos = kk.map((kv, i) => idx[i + 1] * s[i] - pads[i][0] + kv * d[i]);
      if (pos.some((v, i) => v < 0 || v >= xs[i + 1])) continue;
      let xo = idx[0] * xst[0];
      pos.forEach((v, i) => (xo += v * xst[i + 1]));
      let wo = 0;
      kk.forEach((v, i) => (wo += v * wst[i]));
      for (let c = 0; c < cg; c++) acc += x[xo + (g * cg + c)] * w[wo + c * wst[r] + o];
    }
    data[p++] = acc;
  }
  return { shape: oshape, data };
}

/** N-d pooling with PyTorch semantics: pads, ceil mode, count_include_pad (counts pads, never the overhang). */
function naivePool(x: Float32Array, xs: number[], op: 'max' | 'avg', k: number[], s: number[], pads: [number, number][], ceil: boolean, countPad: boolean): { shape: number[]; data: Float64Array } {
  const r = xs.length - 2;
  const out = xs.slice(1, r + 1).map((n, i) => {
    const room = n + pads[i][0] + pads[i][1] - k[i];
    let o = (ceil ? Math.ceil(room / s[i]) : Math.floor(room / s[i])) + 1;
    if (ceil && (o - 1) * s[i] >= n + pads[i][0]) o--;
    return o;
  });
  const oshape = [xs[0], ...out, xs[r + 1]];
  const data = new Float64Array(oshape.reduce((a, c) => a * c, 1));
  const xst = strides(xs);
  let p = 0;
  for (const idx of indices(oshape)) {
    let best = -Infinity;
    let sum = 0;
    let count = 0;
    for (const kk of indices(k)) {
      const pos = kk.map((kv, i) => idx[i + 1] * s[i] - pads[i][0] + kv);
      // Inside the padded extent (for count_include_pad) but never beyond it (the ceil overhang).
      const inPadded = pos.every((v, i) => v >= -pads[i][0] && v < xs[i + 1] + pads[i][1]);
      const inside = pos.every((v, i) => v >= 0 && v < xs[i + 1]);
      if (inside) {
        let xo = idx[0] * xst[0] + idx[r + 1];
        pos.forEach((v, i) => (xo += v * xst[i + 1]));
        best = Math.max(best, x[xo]);
        sum += x[xo];
        count++;
      } else if (countPad && inPadded) count++;
    }
    data[p++] = op === 'max' ? best : sum / count;
  }
  return { shape: oshape, data };
}

// ---- tests --------------------------------------------------------------------------------------

test('samePads follows TF: pad_total = max((ceil(in/s)-1)*s + (k-1)*d + 1 - in, 0), extra cell after', () => {
  // in=8, k=3, s=2: out 4, total = 3*2 + 3 - 8 = 1 -> [0, 1].
  assert.deepEqual(samePads(8, 3, 2), [0, 1]);
  // in=7, k=3, s=2, d=2: out 4, total = 6 + 5 - 7 = 4 -> [2, 2].
  assert.deepEqual(samePads(7, 3, 2, 2), [2, 2]);
  // in=5, k=4, s=1: total 3 -> [1, 2].
  assert.deepEqual(samePads(5, 4, 1), [1, 2]);
  // in=9, k=1, s=3: total max(6 + 1 - 9, 0) = 0.
  assert.deepEqual(samePads(9, 1, 3), [0, 0]);
});

test('Conv2D TF-same with stride 2 and dilation 2, groups 2 matches a naive conv', () => {
  const xs = [2, 8, 7, 4];
  const ws = [3, 2, 2, 6];
  const x = randArray(xs, 1);
  const kernel = W(ws, 2);
  const bias = W([6], 3);
  for (const [s, d] of [[[2, 2], [1, 1]], [[1, 1], [2, 2]], [[2, 1], [2, 3]]] as [number[], number[]][]) {
    const conv = node('c', 'Conv', ['in0'], {
      rank: 2, filters: 6, kernelSize: [3, 2], strides: s, dilation: d,
      padding: { mode: 'same', pads: [] }, groups: 2, useBias: true,
    }, { kernel, bias });
    const g = graphOf([[null, 8, 7, 4]], [conv]);
    const p = g.nodes[1].params as KindParams['Conv'];
    const pads: [number, number][] = [samePads(8, 3, s[0], d[0]), samePads(7, 2, s[1], d[1])];
    assert.deepEqual(p.padding.pads, pads, 'pads resolved by inference');
    const want = naiveConv(x, xs, kernel.data, ws, bias.data, s, d, pads, 2);
    assert.deepEqual(g.nodes[1].outputShape, [null, ...want.shape.slice(1)]);
    const y = run(g, [{ shape: xs, data: x }]);
    assert.deepEqual(y.shape, want.shape);
    assertClose(y.data, want.data, 1e-4, `conv s=${s} d=${d}`);
  }
});

test('Conv with ONNX explicit asymmetric pads and depthwise groups (groups = channels) matches', () => {
  const xs = [1, 6, 5, 3];
  const ws = [3, 3, 1, 6];
  const x = randArray(xs, 4);
  const kernel = W(ws, 5);
  const pads: [number, number][] = [[1, 0], [2, 1]];
  const conv = node('c', 'Conv', ['in0'], {
    rank: 2, filters: 6, kernelSize: [3, 3], strides: [2, 1], dilation: [1, 1],
    padding: { mode: 'explicit', pads }, groups: 3, useBias: false,
  }, { kernel });
  const g = graphOf([[null, 6, 5, 3]], [conv]);
  const want = naiveConv(x, xs, kernel.data, ws, null, [2, 1], [1, 1], pads, 3);
  const y = run(g, [{ shape: xs, data: x }]);
  assert.deepEqual(y.shape, want.shape);
  assertClose(y.data, want.data);
});

test('Conv1D causal and strided, Conv3D same match naive convs', () => {
  {
    const xs = [2, 11, 3];
    const ws = [3, 3, 4];
    const x = randArray(xs, 6);
    const kernel = W(ws, 7);
    const conv = node('c', 'Conv', ['in0'], {
      rank: 1, filters: 4, kernelSize: [3], strides: [1], dilation: [2],
      padding: { mode: 'causal', pads: [] }, groups: 1, useBias: false,
    }, { kernel });
    const g = graphOf([[null, 11, 3]], [conv]);
    const want = naiveConv(x, xs, kernel.data, ws, null, [1], [2], [[4, 0]], 1);
    assertClose(run(g, [{ shape: xs, data: x }]).data, want.data, 1e-4, 'causal');
  }
  {
    const xs = [1, 10, 2];
    const ws = [4, 2, 3];
    const x = randArray(xs, 8);
    const kernel = W(ws, 9);
    const conv = node('c', 'Conv', ['in0'], {
      rank: 1, filters: 3, kernelSize: [4], strides: [3], dilation: [1],
      padding: { mode: 'same', pads: [] }, groups: 1, useBias: false,
    }, { kernel });
    const g = graphOf([[null, 10, 2]], [conv]);
    const want = naiveConv(x, xs, kernel.data, ws, null, [3], [1], [samePads(10, 4, 3)], 1);
    const y = run(g, [{ shape: xs, data: x }]);
    assert.deepEqual(y.shape, want.shape);
    assertClose(y.data, want.data, 1e-4, 'conv1d same stride 3');
  }
  for (const st of [[2, 1, 2], [1, 2, 1]]) {
    const xs = [2, 5, 4, 3, 2];
    const ws = [3, 2, 2, 2, 3];
    const x = randArray(xs, 10);
    const kernel = W(ws, 11);
    const bias = W([3], 12);
    const conv = node('c', 'Conv', ['in0'], {
      rank: 3, filters: 3, kernelSize: [3, 2, 2], strides: st, dilation: [1, 1, 1],
      padding: { mode: 'same', pads: [] }, groups: 1, useBias: true,
    }, { kernel, bias });
    const g = graphOf([[null, 5, 4, 3, 2]], [conv]);
    const pads: [number, number][] = [samePads(5, 3, st[0]), samePads(4, 2, st[1]), samePads(3, 2, st[2])];
    const want = naiveConv(x, xs, kernel.data, ws, bias.data, st, [1, 1, 1], pads, 1);
    const y = run(g, [{ shape: xs, data: x }]);
    assert.deepEqual(y.shape, want.shape);
    assertClose(y.data, want.data, 1e-4, `conv3d strides ${st}`);
  }
});

test('DepthwiseConv2D same, multiplier 2, stride 2 matches a naive grouped conv', () => {
  const xs = [1, 7, 6, 3];
  const x = randArray(xs, 13);
  const kernel = W([3, 3, 3, 2], 14);
  const bias = W([6], 15);
  const dw = node('d', 'DepthwiseConv', ['in0'], {
    rank: 2, depthMultiplier: 2, kernelSize: [3, 3], strides: [2, 2], dilation: [1, 1],
    padding: { mode: 'same', pads: [] }, useBias: true,
  }, { kernel, bias });
  const g = graphOf([[null, 7, 6, 3]], [dw]);
  // Depthwise [kh, kw, C, M] is a grouped conv with kernel [kh, kw, 1, C*M] in the same channel order.
  const want = naiveConv(x, xs, kernel.data, [3, 3, 1, 6], bias.data, [2, 2], [1, 1], [samePads(7, 3, 2), samePads(6, 3, 2)], 3);
  const y = run(g, [{ shape: xs, data: x }]);
  assert.deepEqual(y.shape, want.shape);
  assertClose(y.data, want.data);
});

test('pooling: Keras same (max, avg without padded cells), ONNX ceil_mode and count_include_pad', () => {
  const xs = [2, 7, 9, 3];
  const x = randArray(xs, 16);
  const cases: { name: string; op: 'max' | 'avg'; k: number[]; s: number[]; padding: KindParams['Pool']['padding']; ceil: boolean; cip: boolean; pads: [number, number][] }[] = [
    { name: 'max same', op: 'max', k: [2, 2], s: [2, 2], padding: { mode: 'same', pads: [] }, ceil: false, cip: false, pads: [samePads(7, 2, 2), samePads(9, 2, 2)] },
    { name: 'avg same', op: 'avg', k: [3, 2], s: [2, 2], padding: { mode: 'same', pads: [] }, ceil: false, cip: false, pads: [samePads(7, 3, 2), samePads(9, 2, 2)] },
    { name: 'max valid ceil', op: 'max', k: [2, 2], s: [2, 2], padding: { mode: 'valid', pads: [] }, ceil: true, cip: false, pads: [[0, 0], [0, 0]] },
    { name: 'avg ceil no-pad-count', op: 'avg', k: [3, 3], s: [2, 2], padding: { mode: 'explicit', pads: [[1, 1], [1, 0]] }, ceil: true, cip: false, pads: [[1, 1], [1, 0]] },
    { name: 'avg ceil count-pad', op: 'avg', k: [3, 3], s: [2, 2], padding: { mode: 'explicit', pads: [[1, 1], [1, 0]] }, ceil: true, cip: true, pads: [[1, 1], [1, 0]] },
    { name: 'avg count-pad no ceil', op: 'avg', k: [3, 3], s: [2, 3], padding: { mode: 'explicit', pads: [[1, 1], [1, 1]] }, ceil: false, cip: true, pads: [[1, 1], [1, 1]] },
    { name: 'max explicit pads', op: 'max', k: [3, 3], s: [2, 2], padding: { mode: 'explicit', pads: [[1, 1], [0, 1]] }, ceil: false, cip: false, pads: [[1, 1], [0, 1]] },
  ];
  for (const c of cases) {
    const pool = node('p', 'Pool', ['in0'], { op: c.op, rank: 2, poolSize: c.k, strides: c.s, padding: structuredClone(c.padding), ceilMode: c.ceil, countIncludePad: c.cip });
    const g = graphOf([[null, 7, 9, 3]], [pool]);
    const want = naivePool(x, xs, c.op, c.k, c.s, c.pads, c.ceil, c.cip);
    assert.deepEqual(g.nodes[1].outputShape, [null, ...want.shape.slice(1)], `${c.name}: inferred shape`);
    const y = run(g, [{ shape: xs, data: x }]);
    assert.deepEqual(y.shape, want.shape, c.name);
    assertClose(y.data, want.data, 1e-5, c.name);
  }
});

test('pooling 1-D and 3-D, global pooling', () => {
  {
    const xs = [2, 9, 2];
    const x = randArray(xs, 17);
    const pool = node('p', 'Pool', ['in0'], { op: 'avg', rank: 1, poolSize: [2], strides: [2], padding: { mode: 'same', pads: [] }, ceilMode: false, countIncludePad: false });
    const g = graphOf([[null, 9, 2]], [pool]);
    assertClose(run(g, [{ shape: xs, data: x }]).data, naivePool(x, xs, 'avg', [2], [2], [samePads(9, 2, 2)], false, false).data, 1e-5, 'avg1d');
  }
  {
    const xs = [1, 5, 4, 6, 2];
    const x = randArray(xs, 18);
    for (const op of ['max', 'avg'] as const) {
      const pool = node('p', 'Pool', ['in0'], { op, rank: 3, poolSize: [2, 2, 2], strides: [2, 2, 2], padding: { mode: 'same', pads: [] }, ceilMode: false, countIncludePad: false });
      const g = graphOf([[null, 5, 4, 6, 2]], [pool]);
      const pads: [number, number][] = [samePads(5, 2, 2), samePads(4, 2, 2), samePads(6, 2, 2)];
      assertClose(run(g, [{ shape: xs, data: x }]).data, naivePool(x, xs, op, [2, 2, 2], [2, 2, 2], pads, false, false).data, 1e-5, `${op}3d`);
    }
  }
  {
    const xs = [2, 3, 4, 5];
    const x = randArray(xs, 19);
    const g = graphOf([[null, 3, 4, 5]], [node('g', 'GlobalPool', ['in0'], { op: 'avg', rank: 2, keepDims: false })]);
    const want = new Float64Array(10);
    for (const [n, h, w, c] of indices(xs)) want[n * 5 + c] += x[((n * 3 + h) * 4 + w) * 5 + c] / 12;
    assertClose(run(g, [{ shape: xs, data: x }]).data, want, 1e-5, 'global avg');
  }
});

test('Flatten channelsFirst gives PyTorch (C, H, W) order; plain Flatten gives (H, W, C)', () => {
  const xs = [2, 3, 4, 5];
  const x = randArray(xs, 20);
  for (const cf of [true, false]) {
    const g = graphOf([[null, 3, 4, 5]], [node('f', 'Flatten', ['in0'], { channelsFirst: cf })]);
    assert.deepEqual(g.nodes[1].outputShape, [null, 60]);
    const want = new Float32Array(120);
    for (const [n, h, w, c] of indices(xs)) {
      const j = cf ? (c * 3 + h) * 4 + w : (h * 4 + w) * 5 + c;
      want[n * 60 + j] = x[((n * 3 + h) * 4 + w) * 5 + c];
    }
    assert.deepEqual(Array.from(run(g, [{ shape: xs, data: x }]).data), Array.from(want));
  }
});

test('Dense on rank-3 input (per time step), Reshape, Permute, ZeroPadding, Cropping', () => {
  const xs = [2, 4, 3];
  const x = randArray(xs, 21);
  const kernel = W([3, 5], 22);
  const bias = W([5], 23);
  const g = graphOf([[null, 4, 3]], [node('d', 'Dense', ['in0'], { units: 5, useBias: true }, { kernel, bias })]);
  const want = new Float64Array(40);
  for (const [n, t, u] of indices([2, 4, 5])) {
    let acc = bias.data[u];
    for (let i = 0; i < 3; i++) acc += x[(n * 4 + t) * 3 + i] * kernel.data[i * 5 + u];
    want[(n * 4 + t) * 5 + u] = acc;
  }
  assertClose(run(g, [{ shape: xs, data: x }]).data, want, 1e-5, 'dense rank 3');

  const g2 = graphOf([[null, 4, 3]], [
    node('r', 'Reshape', ['in0'], { targetShape: [2, -1, 3] }),
    node('p', 'Permute', ['r'], { dims: [3, 1, 2] }),
    node('z', 'ZeroPadding', ['p'], { rank: 2, pads: [[1, 0], [0, 2]] }),
    node('c', 'Cropping', ['z'], { rank: 2, crops: [[0, 1], [1, 1]] }),
  ]);
  assert.deepEqual(g2.nodes.map((n) => n.outputShape), [[null, 4, 3], [null, 2, 2, 3], [null, 3, 2, 2], [null, 4, 4, 2], [null, 3, 2, 2]]);
  const y = run(g2, [{ shape: xs, data: x }]);
  // reshaped[n,a,b,c] = x[n, a*2+b, c]; permuted[n,c,a,b]; pad rows (1,0) cols (0,2); crop rows (0,1) cols (1,1).
  const want2 = new Float32Array(2 * 3 * 2 * 2);
  for (const [n, i, j, k] of indices([2, 3, 2, 2])) {
    const pr = i + 0 - 1; // permuted row = c
    const pc = j + 1 - 0; // permuted col = a
    const v = pr >= 0 && pr < 3 && pc >= 0 && pc < 2 ? x[n * 12 + (pc * 2 + k) * 3 + pr] : 0;
    want2[((n * 3 + i) * 2 + j) * 2 + k] = v;
  }
  assert.deepEqual(Array.from(y.data), Array.from(want2));
});

test('UpSampling nearest repeats cells; bilinear follows half-pixel centres', () => {
  const xs = [1, 3, 4, 2];
  const x = randArray(xs, 24);
  const gn = graphOf([[null, 3, 4, 2]], [node('u', 'UpSampling', ['in0'], { rank: 2, size: [2, 3], interpolation: 'nearest' })]);
  const want = new Float32Array(6 * 12 * 2);
  for (const [, i, j, c] of indices([1, 6, 12, 2])) want[(i * 12 + j) * 2 + c] = x[(Math.floor(i / 2) * 4 + Math.floor(j / 3)) * 2 + c];
  assert.deepEqual(Array.from(run(gn, [{ shape: xs, data: x }]).data), Array.from(want));

  const gb = graphOf([[null, 3, 4, 2]], [node('u', 'UpSampling', ['in0'], { rank: 2, size: [2, 2], interpolation: 'bilinear' })]);
  const wantB = new Float64Array(6 * 8 * 2);
  const src = (o: number, n: number) => {
    const p = Math.max(0, (o + 0.5) / 2 - 0.5);
    const lo = Math.min(Math.floor(p), n - 1);
    return [lo, Math.min(lo + 1, n - 1), p - lo] as const;
  };
  for (const [, i, j, c] of indices([1, 6, 8, 2])) {
    const [i0, i1, fi] = src(i, 3);
    const [j0, j1, fj] = src(j, 4);
    const v = (a: number, b: number) => x[(a * 4 + b) * 2 + c];
    wantB[(i * 8 + j) * 2 + c] = (1 - fi) * ((1 - fj) * v(i0, j0) + fj * v(i0, j1)) + fi * ((1 - fj) * v(i1, j0) + fj * v(i1, j1));
  }
  assertClose(run(gb, [{ shape: xs, data: x }]).data, wantB, 1e-5, 'bilinear');
});

test('BatchNorm uses the file epsilon; merges and Concatenate on a two-input graph', () => {
  const xs = [2, 3, 4];
  const x = randArray(xs, 25);
  const x2 = randArray(xs, 26);
  const r = rng(27);
  const varData = Float32Array.from({ length: 4 }, () => r() + 0.01);
  const weights = { gamma: W([4], 28), beta: W([4], 29), movingMean: W([4], 30), movingVariance: { shape: [4], data: varData } };
  const eps = 0.5; // large, so a wrong epsilon shows
  const bn = node('bn', 'BatchNorm', ['in0'], { epsilon: eps, axis: -1, center: true, scale: true }, weights);
  const g = graphOf([[null, 3, 4]], [bn]);
  const want = Float64Array.from(x, (v, i) => {
    const c = i % 4;
    return ((v - weights.movingMean.data[c]) / Math.sqrt(varData[c] + eps)) * weights.gamma.data[c] + weights.beta.data[c];
  });
  assertClose(run(g, [{ shape: xs, data: x }]).data, want, 1e-5, 'batchnorm');

  const ops: [LayerKind, (a: number, b: number) => number][] = [
    ['Add', (a, b) => a + b], ['Subtract', (a, b) => a - b], ['Average', (a, b) => (a + b) / 2],
    ['Multiply', (a, b) => a * b], ['Maximum', Math.max], ['Minimum', Math.min],
  ];
  for (const [kind, f] of ops) {
    const gm = graphOf([[null, 3, 4], [null, 3, 4]], [node('m', kind, ['in0', 'in1'], {} as never)]);
    assertClose(run(gm, [{ shape: xs, data: x }, { shape: xs, data: x2 }]).data, Float64Array.from(x, (v, i) => f(v, x2[i])), 1e-6, kind);
  }
  const gc = graphOf([[null, 3, 4], [null, 3, 4]], [node('c', 'Concatenate', ['in0', 'in1'], { axis: 1 })]);
  assert.deepEqual(gc.nodes[2].outputShape, [null, 6, 4]);
  const y = run(gc, [{ shape: xs, data: x }, { shape: xs, data: x2 }]);
  assert.deepEqual(Array.from(y.data.subarray(0, 24)), [...Array.from(x.subarray(0, 12)), ...Array.from(x2.subarray(0, 12))]);
});

test('activations match their formulas', () => {
  const xs = [2, 5];
  const x = Float32Array.from([-3, -1, -0.2, 0, 0.3, 0.9, 2, 4, 7, -8]);
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const erf = (v: number) => {
    // Abramowitz-Stegun 7.1.26 is too coarse; use a series good to 1e-7 on |v| < 6.
    if (Math.abs(v) > 4) return Math.sign(v); // |erf - sign| < 2e-8 there; the series loses precision
    let sum = 0;
    let term = v;
    for (let n = 0; n < 80; n++) {
      sum += term / (2 * n + 1);
      term *= (-v * v) / (n + 1);
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  };
  const rows = (f: (row: number[]) => number[]) => [...f(Array.from(x.subarray(0, 5))), ...f(Array.from(x.subarray(5)))];
  const cases: [ActivationSpec, (v: number) => number][] = [
    [{ name: 'relu' }, (v) => Math.max(0, v)],
    [{ name: 'relu6' }, (v) => Math.min(6, Math.max(0, v))],
    [{ name: 'relu', maxValue: 1.5 }, (v) => Math.min(1.5, Math.max(0, v))],
    [{ name: 'leaky_relu', alpha: 0.3 }, (v) => (v > 0 ? v : 0.3 * v)],
    [{ name: 'elu', alpha: 0.7 }, (v) => (v > 0 ? v : 0.7 * (Math.exp(v) - 1))],
    [{ name: 'selu' }, (v) => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * (Math.exp(v) - 1))],
    [{ name: 'tanh' }, Math.tanh],
    [{ name: 'sigmoid' }, sig],
    [{ name: 'hard_sigmoid' }, (v) => Math.max(0, Math.min(1, 0.2 * v + 0.5))],
    [{ name: 'swish' }, (v) => v * sig(v)],
    [{ name: 'gelu' }, (v) => 0.5 * v * (1 + erf(v / Math.SQRT2))],
    [{ name: 'gelu', approximate: true }, (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))],
    [{ name: 'softplus' }, (v) => Math.log1p(Math.exp(v))],
    [{ name: 'softsign' }, (v) => v / (1 + Math.abs(v))],
    [{ name: 'exponential' }, Math.exp],
    [{ name: 'linear' }, (v) => v],
  ];
  for (const [spec, f] of cases) {
    const g = graphOf([[null, 5]], [node('a', 'Activation', ['in0'], { activation: spec })]);
    assertClose(run(g, [{ shape: xs, data: x }]).data, Array.from(x, f), 2e-6, JSON.stringify(spec));
  }
  const softmax = (row: number[]) => {
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  };
  const gs = graphOf([[null, 5]], [node('a', 'Activation', ['in0'], { activation: { name: 'softmax' } })]);
  assertClose(run(gs, [{ shape: xs, data: x }]).data, rows(softmax), 1e-6, 'softmax');
  const gl = graphOf([[null, 5]], [node('a', 'Activation', ['in0'], { activation: { name: 'log_softmax' } })]);
  assertClose(run(gl, [{ shape: xs, data: x }]).data, rows((r) => softmax(r).map(Math.log)), 1e-5, 'log_softmax');
  // Fused activation on a layer, softmax over axis 1 of a rank-3 tensor.
  const x3 = randArray([2, 3, 2], 31);
  const g3 = graphOf([[null, 3, 2]], [node('i', 'Identity', ['in0'], { originalClass: 'Dropout' }, {}, { name: 'softmax', axis: 1 })]);
  const want3 = new Float64Array(12);
  for (let n = 0; n < 2; n++) for (let c = 0; c < 2; c++) {
    const col = [0, 1, 2].map((h) => x3[(n * 3 + h) * 2 + c]);
    softmax(col).forEach((v, h) => (want3[(n * 3 + h) * 2 + c] = v));
  }
  assertClose(run(g3, [{ shape: [2, 3, 2], data: x3 }]).data, want3, 1e-6, 'softmax axis 1');
});

test('Keras 3 files get the Keras 3 hard_sigmoid (relu6(x + 3) / 6)', () => {
  const inp = node('in0', 'Input', [], {} as never);
  inp.outputShape = [null, 4];
  const g = inferShapes({
    file: '/t', name: 't', format: { name: 'keras-v3', version: '3.3.3' },
    inputs: [{ node: 'in0', fileName: 'in0', fileShape: [null, 4], fileLayout: 'NC' }],
    outputs: [{ node: 'a', fileName: 'a', fileShape: [null, 4], fileLayout: 'NC' }],
    nodes: [inp, node('a', 'Activation', ['in0'], { activation: { name: 'hard_sigmoid' } })],
  });
  const x = Float32Array.from([-4, -1, 0.5, 2.5]);
  assertClose(run(g, [{ shape: [1, 4], data: x }]).data, Array.from(x, (v) => Math.min(6, Math.max(0, v + 3)) / 6), 1e-6);
});

test('graph checks: unknown inbound, cycles, wrong weight shapes and absurd shapes are LensErrors', () => {
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof LensError, `not a LensError: ${String(e)}`);
      return e.code;
    }
    return 'none';
  };
  assert.equal(code(() => graphOf([[null, 3]], [node('d', 'Dense', ['nope'], { units: 2, useBias: false }, { kernel: W([3, 2], 1) })])), 'GRAPH_INVALID');
  assert.equal(
    code(() => graphOf([[null, 3]], [
      node('a', 'Add', ['in0', 'b'], {} as never),
      node('b', 'Identity', ['a'], { originalClass: 'Dropout' }),
    ])),
    'GRAPH_CYCLE',
  );
  assert.equal(code(() => graphOf([[null, 3]], [node('d', 'Dense', ['in0'], { units: 2, useBias: false }, { kernel: W([4, 2], 1) })])), 'WEIGHT_MISMATCH');
  assert.equal(code(() => graphOf([[null, 3]], [node('d', 'Dense', ['in0'], { units: 2, useBias: true }, { kernel: W([3, 2], 1) })])), 'MISSING_WEIGHTS');
  assert.equal(code(() => graphOf([[null, 100000, 100000, 3]], [node('i', 'Identity', ['in0'], { originalClass: 'Dropout' })])), 'SHAPE_LIMIT');
  assert.equal(code(() => graphOf([[null, 3, 4]], [node('r', 'Reshape', ['in0'], { targetShape: [5, -1] })])), 'SHAPE_MISMATCH');
  assert.equal(code(() => graphOf([[null, 2, 2, 1]], [node('p', 'Pool', ['in0'], { op: 'max', rank: 2, poolSize: [3, 3], strides: [1, 1], padding: { mode: 'valid', pads: [] }, ceilMode: false, countIncludePad: false })])), 'SHAPE_MISMATCH');
  assert.equal(code(() => graphOf([[null, 3]], [node('x', 'Dense', ['in0'], null as never)])), 'UNSUPPORTED_CONFIG');
  // A declared output shape (ONNX value_info) that disagrees with the computed one.
  const lying = node('f', 'Flatten', ['in0'], { channelsFirst: false });
  lying.outputShape = [null, 7];
  assert.equal(code(() => graphOf([[null, 2, 3]], [lying])), 'SHAPE_MISMATCH');
  // A node listed before its input is put in order, not refused.
  const g = graphOf([[null, 3]], [
    node('b', 'Identity', ['a'], { originalClass: 'Dropout' }),
    node('a', 'Identity', ['in0'], { originalClass: 'Dropout' }),
  ], 'b');
  assert.deepEqual(g.nodes.map((n) => n.name), ['in0', 'a', 'b']);
});

test('forwards are differentiable (the LRP engine takes gradients): Euler identity <grad sum f(x), x> = sum f(x)', () => {
  // Every layer below is positively homogeneous of degree 1 (no bias), so the identity holds exactly.
  const cases: { shape: number[]; layer: LayerNode }[] = [
    { shape: [2, 7, 6, 4], layer: node('c', 'Conv', ['in0'], { rank: 2, filters: 4, kernelSize: [3, 3], strides: [2, 2], dilation: [1, 2], padding: { mode: 'same', pads: [] }, groups: 2, useBias: false }, { kernel: W([3, 3, 2, 4], 40) }) },
    { shape: [2, 7, 6, 4], layer: node('c', 'Conv', ['in0'], { rank: 2, filters: 8, kernelSize: [3, 3], strides: [1, 1], dilation: [1, 1], padding: { mode: 'same', pads: [] }, groups: 4, useBias: false }, { kernel: W([3, 3, 1, 8], 41) }) },
    { shape: [2, 5, 4, 3, 2], layer: node('c', 'Conv', ['in0'], { rank: 3, filters: 2, kernelSize: [2, 2, 2], strides: [2, 1, 1], dilation: [1, 1, 1], padding: { mode: 'same', pads: [] }, groups: 1, useBias: false }, { kernel: W([2, 2, 2, 2, 2], 42) }) },
    { shape: [2, 9, 3], layer: node('c', 'Conv', ['in0'], { rank: 1, filters: 2, kernelSize: [3], strides: [2], dilation: [1], padding: { mode: 'causal', pads: [] }, groups: 1, useBias: false }, { kernel: W([3, 3, 2], 43) }) },
    { shape: [2, 7, 6, 3], layer: node('d', 'DepthwiseConv', ['in0'], { rank: 2, depthMultiplier: 2, kernelSize: [3, 3], strides: [2, 2], dilation: [1, 1], padding: { mode: 'same', pads: [] }, useBias: false }, { kernel: W([3, 3, 3, 2], 44) }) },
    { shape: [2, 7, 9, 2], layer: node('p', 'Pool', ['in0'], { op: 'max', rank: 2, poolSize: [2, 2], strides: [2, 2], padding: { mode: 'same', pads: [] }, ceilMode: true, countIncludePad: false }) },
    { shape: [2, 7, 9, 2], layer: node('p', 'Pool', ['in0'], { op: 'avg', rank: 2, poolSize: [3, 3], strides: [2, 2], padding: { mode: 'explicit', pads: [[1, 1], [1, 0]] }, ceilMode: true, countIncludePad: false }) },
    { shape: [2, 5, 4, 6, 2], layer: node('p', 'Pool', ['in0'], { op: 'max', rank: 3, poolSize: [2, 2, 2], strides: [2, 2, 2], padding: { mode: 'valid', pads: [] }, ceilMode: false, countIncludePad: false }) },
    { shape: [2, 3, 4, 2], layer: node('u', 'UpSampling', ['in0'], { rank: 2, size: [2, 2], interpolation: 'nearest' }) },
    { shape: [2, 3, 4, 2], layer: node('u', 'UpSampling', ['in0'], { rank: 2, size: [2, 2], interpolation: 'bilinear' }) },
    { shape: [2, 3, 4, 5], layer: node('f', 'Flatten', ['in0'], { channelsFirst: true }) },
  ];
  for (const [i, c] of cases.entries()) {
    const g = graphOf([[null, ...c.shape.slice(1)]], [c.layer]);
    const x = tf.tensor(randArray(c.shape, 50 + i), c.shape);
    const f = (t: import('@tensorflow/tfjs').Tensor) => tf.sum(runGraph(g, t)) as import('@tensorflow/tfjs').Scalar;
    const [lhs, rhs] = tf.tidy(() => {
      const grad = tf.grad(f)(x);
      return [tf.sum(tf.mul(grad, x)).dataSync()[0], f(x).dataSync()[0]];
    });
    x.dispose();
    assert.ok(Math.abs(lhs - rhs) <= 1e-4 * Math.max(1, Math.abs(rhs)), `${c.layer.kind} #${i}: ${lhs} vs ${rhs}`);
  }
});

test('depthwise conv gradients with respect to input and kernel (Euler identity in each)', () => {
  const x = tf.tensor(randArray([2, 7, 6, 3], 60), [2, 7, 6, 3]);
  const k = tf.tensor(randArray([3, 2, 3, 2], 61), [3, 2, 3, 2]);
  const [ex, ek, total] = tf.tidy(() => {
    const f = (a: import('@tensorflow/tfjs').Tensor, b: import('@tensorflow/tfjs').Tensor) => tf.sum(depthwiseValid(tf, a, b, [2, 1])) as import('@tensorflow/tfjs').Scalar;
    const [gx, gk] = tf.grads(f)([x, k]);
    return [tf.sum(tf.mul(gx, x)).dataSync()[0], tf.sum(tf.mul(gk, k)).dataSync()[0], f(x, k).dataSync()[0]];
  });
  tf.dispose([x, k]);
  assert.ok(Math.abs(ex - total) <= 1e-4 * Math.max(1, Math.abs(total)), `input: ${ex} vs ${total}`);
  assert.ok(Math.abs(ek - total) <= 1e-4 * Math.max(1, Math.abs(total)), `kernel: ${ek} vs ${total}`);
});

test('max pooling gradient goes to the first maximum of each window (PyTorch), also on ties, per sample and channel', () => {
  // 2 samples, 4x4, 2 channels: channel 0 all zeros (every window ties), channel 1 ramps (unique maxima).
  const shape = [2, 4, 4, 2];
  const data = new Float32Array(64);
  for (const [n, h, w, c] of indices(shape)) data[((n * 4 + h) * 4 + w) * 2 + c] = c === 0 ? 0 : n * 100 + h * 4 + w;
  const g = graphOf([[null, 4, 4, 2]], [node('p', 'Pool', ['in0'], { op: 'max', rank: 2, poolSize: [2, 2], strides: [2, 2], padding: { mode: 'valid', pads: [] }, ceilMode: false, countIncludePad: false })]);
  const x = tf.tensor(data, shape);
  const grad = tf.tidy(() => tf.grad((t: import('@tensorflow/tfjs').Tensor) => tf.sum(runGraph(g, t)) as import('@tensorflow/tfjs').Scalar)(x).dataSync());
  x.dispose();
  for (const [n, h, w, c] of indices(shape)) {
    // Channel 0: first cell of each window (even h, even w); channel 1: the last cell (odd h, odd w).
    const want = c === 0 ? (h % 2 === 0 && w % 2 === 0 ? 1 : 0) : h % 2 === 1 && w % 2 === 1 ? 1 : 0;
    assert.equal(grad[((n * 4 + h) * 4 + w) * 2 + c], want, `n${n} h${h} w${w} c${c}`);
  }
});
