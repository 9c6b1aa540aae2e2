/**
 * A naive ONNX interpreter for tests: plain loops in the file's own NCHW layout, float64, a handful of
 * ops. It shares no code with the loader, so it checks the loader's layout conversions independently.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type Node = onnxProto.onnx.INodeProto;

export interface Arr {
  shape: number[];
  data: number[];
}

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'toNumber' in v) return (v as { toNumber(): number }).toNumber();
  return Number(v);
}

function tensor(t: onnxProto.onnx.ITensorProto): Arr {
  const shape = (t.dims ?? []).map(num);
  const n = shape.reduce((a, b) => a * b, 1);
  const raw = t.rawData && t.rawData.length ? t.rawData : undefined;
  const data: number[] = [];
  if (t.dataType === 7) {
    if (raw) for (let i = 0; i < n; i++) data.push(Number(new DataView(raw.buffer, raw.byteOffset).getBigInt64(i * 8, true)));
    else for (const v of t.int64Data ?? []) data.push(num(v));
  } else if (raw) {
    for (let i = 0; i < n; i++) data.push(new DataView(raw.buffer, raw.byteOffset).getFloat32(i * 4, true));
  } else {
    data.push(...(t.floatData ?? []));
  }
  return { shape, data };
}

function attr(n: Node, name: string): onnxProto.onnx.IAttributeProto | undefined {
  return (n.attribute ?? []).find((a) => a.name === name);
}
const ai = (n: Node, k: string, d: number): number => (attr(n, k) ? num(attr(n, k)!.i) : d);
const af = (n: Node, k: string, d: number): number => {
  const a = attr(n, k);
  if (!a) return d;
  return a.type === onnx.AttributeProto.AttributeType.INT ? num(a.i) : a.f ?? d;
};
const ais = (n: Node, k: string): number[] | undefined => attr(n, k)?.ints?.map(num);
const as = (n: Node, k: string, d: string): string => (attr(n, k)?.s ? new TextDecoder().decode(attr(n, k)!.s!) : d);

const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);
function strides(s: number[]): number[] {
  const r = new Array(s.length).fill(1);
  for (let i = s.length - 2; i >= 0; i--) r[i] = r[i + 1] * s[i + 1];
  return r;
}
function unravel(i: number, s: number[]): number[] {
  const idx = new Array(s.length);
  for (let d = s.length - 1; d >= 0; d--) {
    idx[d] = i % s[d];
    i = Math.floor(i / s[d]);
  }
  return idx;
}

function broadcast(a: Arr, b: Arr, f: (x: number, y: number) => number): Arr {
  const r = Math.max(a.shape.length, b.shape.length);
  const sa = [...new Array(r - a.shape.length).fill(1), ...a.shape];
  const sb = [...new Array(r - b.shape.length).fill(1), ...b.shape];
  const shape = sa.map((d, i) => Math.max(d, sb[i]));
  const ta = strides(sa), tb = strides(sb);
  const data = new Array(size(shape));
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, shape);
    let ia = 0, ib = 0;
    idx.forEach((v, d) => {
      ia += (sa[d] === 1 ? 0 : v) * ta[d];
      ib += (sb[d] === 1 ? 0 : v) * tb[d];
    });
    data[i] = f(a.data[ia], b.data[ib]);
  }
  return { shape, data };
}

function transpose(a: Arr, perm: number[]): Arr {
  const shape = perm.map((p) => a.shape[p]);
  const st = strides(a.shape);
  const data = new Array(size(shape));
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, shape);
    data[i] = a.data[idx.reduce((s, v, d) => s + v * st[perm[d]], 0)];
  }
  return { shape, data };
}

function windowOut(inS: number, k: number, s: number, d: number, pb: number, pe: number, ceil: boolean): number {
  const room = inS + pb + pe - ((k - 1) * d + 1);
  let o = (ceil ? Math.ceil(room / s) : Math.floor(room / s)) + 1;
  if (ceil && (o - 1) * s >= inS + pb) o--;
  return o;
}

function padsOf(n: Node, x: Arr, k: number[], s: number[], d: number[]): number[] {
  const mode = as(n, 'auto_pad', 'NOTSET');
  const r = k.length;
  if (mode === 'SAME_UPPER' || mode === 'SAME_LOWER') {
    const p = new Array(2 * r).fill(0);
    for (let i = 0; i < r; i++) {
      const inS = x.shape[2 + i];
      const total = Math.max((Math.ceil(inS / s[i]) - 1) * s[i] + (k[i] - 1) * d[i] + 1 - inS, 0);
      const small = Math.floor(total / 2);
      p[i] = mode === 'SAME_UPPER' ? small : total - small;
      p[i + r] = total - p[i];
    }
    return p;
  }
  return ais(n, 'pads') ?? new Array(2 * r).fill(0);
}

function conv(n: Node, x0: Arr, w0: Arr, b?: Arr): Arr {
  if (x0.shape.length === 3) {
    // 1-D as 2-D with height 1.
    const x = { shape: [x0.shape[0], x0.shape[1], 1, x0.shape[2]], data: x0.data };
    const w = { shape: [w0.shape[0], w0.shape[1], 1, w0.shape[2]], data: w0.data };
    const s1 = ais(n, 'strides') ?? [1];
    const d1 = ais(n, 'dilations') ?? [1];
    const p1 = padsOf(n, x0, [w0.shape[2]], s1, d1);
    const y = convCore(n, x, w, b, [1, s1[0]], [1, d1[0]], [0, p1[0], 0, p1[1]]);
    return { shape: [y.shape[0], y.shape[1], y.shape[3]], data: y.data };
  }
  const s = ais(n, 'strides') ?? [1, 1];
  const d = ais(n, 'dilations') ?? [1, 1];
  return convCore(n, x0, w0, b, s, d, padsOf(n, x0, w0.shape.slice(2), s, d));
}

function convCore(n: Node, x: Arr, w: Arr, b: Arr | undefined, s: number[], d: number[], p: number[]): Arr {
  const [N, C, H, W] = x.shape;
  const [O, Ig, KH, KW] = w.shape;
  const g = ai(n, 'group', 1);
  const OH = windowOut(H, KH, s[0], d[0], p[0], p[2], false);
  const OW = windowOut(W, KW, s[1], d[1], p[1], p[3], false);
  const out = new Array(N * O * OH * OW).fill(0);
  const og = O / g;
  for (let nn = 0; nn < N; nn++) for (let o = 0; o < O; o++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    let acc = b ? b.data[o] : 0;
    const grp = Math.floor(o / og);
    for (let i = 0; i < Ig; i++) for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
      const ih = oh * s[0] - p[0] + kh * d[0];
      const iw = ow * s[1] - p[1] + kw * d[1];
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
      const c = grp * Ig + i;
      acc += x.data[((nn * C + c) * H + ih) * W + iw] * w.data[((o * Ig + i) * KH + kh) * KW + kw];
    }
    out[((nn * O + o) * OH + oh) * OW + ow] = acc;
  }
  return { shape: [N, O, OH, OW], data: out };
}

/**
 * ConvTranspose from the ONNX spec, 1-D or 2-D: Y[n, g*F/G + f, o*s + k*d - pad_begin] += X[n, c, o] * W[c, f, k]
 * (c in group g); output size s(n-1) + output_padding + (k-1)d + 1 - pads, or n*s with auto_pad SAME_*.
 */
function convTranspose(n: Node, x0: Arr, w0: Arr, b?: Arr): Arr {
  const one = x0.shape.length === 3;
  const x = one ? { shape: [x0.shape[0], x0.shape[1], 1, x0.shape[2]], data: x0.data } : x0;
  const w = one ? { shape: [w0.shape[0], w0.shape[1], 1, w0.shape[2]], data: w0.data } : w0;
  const lift = (v: number[] | undefined, dflt: number): number[] => (v ? (one ? [dflt, v[0]] : v) : [dflt, dflt]);
  const s = lift(ais(n, 'strides'), 1);
  const d = lift(ais(n, 'dilations'), 1);
  const op = lift(ais(n, 'output_padding'), 0);
  const g = ai(n, 'group', 1);
  const [N, C, H, W] = x.shape;
  const [, Fg, KH, KW] = w.shape;
  const K = [(KH - 1) * d[0] + 1, (KW - 1) * d[1] + 1];
  const mode = as(n, 'auto_pad', 'NOTSET');
  let begin: number[];
  let out: number[];
  if (mode === 'SAME_UPPER' || mode === 'SAME_LOWER') {
    out = [H * s[0], W * s[1]];
    const total = [0, 1].map((i) => s[i] * ([H, W][i] - 1) + op[i] + K[i] - out[i]);
    begin = total.map((t) => (mode === 'SAME_UPPER' ? Math.floor(t / 2) : t - Math.floor(t / 2)));
  } else {
    const p = ais(n, 'pads') ?? (one ? [0, 0] : [0, 0, 0, 0]);
    const pp = one ? [0, p[0], 0, p[1]] : p;
    begin = [pp[0], pp[1]];
    out = [0, 1].map((i) => s[i] * ([H, W][i] - 1) + op[i] + K[i] - pp[i] - pp[i + 2]);
  }
  const [OH, OW] = out;
  const F = Fg * g;
  const cg = C / g;
  const y = new Array(N * F * OH * OW).fill(0);
  for (let nn = 0; nn < N; nn++) for (let c = 0; c < C; c++) for (let ih = 0; ih < H; ih++) for (let iw = 0; iw < W; iw++) {
    const v = x.data[((nn * C + c) * H + ih) * W + iw];
    const grp = Math.floor(c / cg);
    for (let f = 0; f < Fg; f++) for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
      const oh = ih * s[0] + kh * d[0] - begin[0];
      const ow = iw * s[1] + kw * d[1] - begin[1];
      if (oh < 0 || oh >= OH || ow < 0 || ow >= OW) continue;
      y[((nn * F + grp * Fg + f) * OH + oh) * OW + ow] += v * w.data[((c * Fg + f) * KH + kh) * KW + kw];
    }
  }
  if (b) for (let i = 0; i < y.length; i++) y[i] += b.data[Math.floor(i / (OH * OW)) % F];
  return { shape: one ? [N, F, OW] : [N, F, OH, OW], data: y };
}

function pool(n: Node, x: Arr, max: boolean): Arr {
  const [N, C, H, W] = x.shape;
  const [KH, KW] = ais(n, 'kernel_shape')!;
  const s = ais(n, 'strides') ?? [1, 1];
  const p = padsOf(n, x, [KH, KW], s, [1, 1]);
  const ceil = ai(n, 'ceil_mode', 0) === 1;
  const cip = ai(n, 'count_include_pad', 0) === 1;
  const OH = windowOut(H, KH, s[0], 1, p[0], p[2], ceil);
  const OW = windowOut(W, KW, s[1], 1, p[1], p[3], ceil);
  const out: number[] = [];
  for (let nn = 0; nn < N; nn++) for (let c = 0; c < C; c++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    let acc = max ? -Infinity : 0;
    let cnt = 0;
    for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
      const ih = oh * s[0] - p[0] + kh;
      const iw = ow * s[1] - p[1] + kw;
      const inPadded = ih >= -p[0] && ih < H + p[2] && iw >= -p[1] && iw < W + p[3];
      if (ih < 0 || ih >= H || iw < 0 || iw >= W) {
        if (cip && inPadded) cnt++;
        continue;
      }
      const v = x.data[((nn * C + c) * H + ih) * W + iw];
      acc = max ? Math.max(acc, v) : acc + v;
      cnt++;
    }
    out.push(max ? acc : acc / cnt);
  }
  return { shape: [N, C, OH, OW], data: out };
}

/** erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7). */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

/** Run the model on the input arrays (file layout); returns the graph outputs by name. */
export function runNaive(bytes: Uint8Array, feeds: Record<string, Arr>, dir = '.'): Record<string, Arr> {
  const m = onnx.ModelProto.decode(bytes);
  const g = m.graph!;
  const opset = num(m.opsetImport?.[0]?.version ?? 13);
  const v = new Map<string, Arr>();
  for (const t of g.initializer ?? []) {
    if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      const kv = Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));
      const off = Number(kv.offset ?? 0);
      const buf = readFileSync(join(dir, kv.location!));
      t.rawData = buf.subarray(off, off + Number(kv.length));
    }
    v.set(t.name!, tensor(t));
  }
  for (const [k, a] of Object.entries(feeds)) v.set(k, a);
  const pending = [...(g.node ?? [])];
  while (pending.length) {
    const i = pending.findIndex((n) => (n.input ?? []).every((x) => !x || v.has(x)));
    if (i < 0) throw new Error('naive: stuck (cycle or missing input)');
    const n = pending.splice(i, 1)[0];
    const x = (n.input ?? []).map((k) => (k ? v.get(k)! : undefined));
    const [a, b, c] = x;
    let y: Arr;
    switch (n.opType) {
      case 'Constant': y = tensor(attr(n, 'value')!.t!); break;
      case 'Shape': y = { shape: [a!.shape.length], data: [...a!.shape] }; break;
      case 'Gather': {
        const idx = b!.data.map((q) => (q < 0 ? q + a!.shape[0] : q));
        y = { shape: b!.shape, data: idx.map((q) => a!.data[q]) };
        break;
      }
      case 'Unsqueeze': {
        const axes = opset >= 13 ? b!.data : ais(n, 'axes')!;
        const shape = [...a!.shape];
        for (const ax of [...axes].sort()) shape.splice(ax, 0, 1);
        y = { shape, data: a!.data };
        break;
      }
      case 'Concat': {
        const axis = ai(n, 'axis', 0);
        const xs = x.filter((q) => q) as Arr[];
        const r = xs[0].shape.length;
        const ax = axis < 0 ? axis + r : axis;
        const outer = size(xs[0].shape.slice(0, ax));
        const data: number[] = [];
        for (let o = 0; o < outer; o++) for (const q of xs) { const inner = size(q.shape.slice(ax)); data.push(...q.data.slice(o * inner, (o + 1) * inner)); }
        const shape = [...xs[0].shape];
        shape[ax] = xs.reduce((s, q) => s + q.shape[ax], 0);
        y = { shape, data };
        break;
      }
      case 'Reshape': {
        const t = b!.data.map((q, k) => (q === 0 ? a!.shape[k] : q));
        const known = t.reduce((p, q) => (q === -1 ? p : p * q), 1);
        y = { shape: t.map((q) => (q === -1 ? size(a!.shape) / known : q)), data: a!.data };
        break;
      }
      case 'Flatten': y = { shape: [a!.shape[0], size(a!.shape.slice(1))], data: a!.data }; break;
      case 'Transpose': y = transpose(a!, ais(n, 'perm')!); break;
      case 'Conv': y = conv(n, a!, b!, c); break;
      case 'ConvTranspose': y = convTranspose(n, a!, b!, c); break;
      case 'MaxPool': y = pool(n, a!, true); break;
      case 'AveragePool': y = pool(n, a!, false); break;
      case 'GlobalAveragePool': case 'GlobalMaxPool': {
        const [N, C] = a!.shape;
        const S = size(a!.shape.slice(2));
        const data: number[] = [];
        for (let q = 0; q < N * C; q++) {
          const sl = a!.data.slice(q * S, (q + 1) * S);
          data.push(n.opType === 'GlobalMaxPool' ? Math.max(...sl) : sl.reduce((p, r) => p + r, 0) / S);
        }
        y = { shape: [N, C, ...a!.shape.slice(2).map(() => 1)], data };
        break;
      }
      case 'BatchNormalization': {
        const eps = af(n, 'epsilon', 1e-5);
        const C = a!.shape[1];
        const S = size(a!.shape.slice(2));
        y = { shape: a!.shape, data: a!.data.map((q, k) => { const ch = Math.floor(k / S) % C; return (q - x[3]!.data[ch]) / Math.sqrt(x[4]!.data[ch] + eps) * b!.data[ch] + c!.data[ch]; }) };
        break;
      }
      case 'Relu': y = { shape: a!.shape, data: a!.data.map((q) => Math.max(q, 0)) }; break;
      case 'Sigmoid': y = { shape: a!.shape, data: a!.data.map((q) => 1 / (1 + Math.exp(-q))) }; break;
      case 'Tanh': y = { shape: a!.shape, data: a!.data.map(Math.tanh) }; break;
      case 'LeakyRelu': { const al = af(n, 'alpha', 0.01); y = { shape: a!.shape, data: a!.data.map((q) => (q > 0 ? q : al * q)) }; break; }
      case 'Clip': {
        const lo = opset >= 11 ? (b ? b.data[0] : -Infinity) : af(n, 'min', -Infinity);
        const hi = opset >= 11 ? (c ? c.data[0] : Infinity) : af(n, 'max', Infinity);
        y = { shape: a!.shape, data: a!.data.map((q) => Math.min(Math.max(q, lo), hi)) };
        break;
      }
      case 'Softmax': case 'LogSoftmax': {
        const L = a!.shape[a!.shape.length - 1];
        const data: number[] = [];
        for (let r0 = 0; r0 < a!.data.length; r0 += L) {
          const row = a!.data.slice(r0, r0 + L);
          const mx = Math.max(...row);
          const se = row.reduce((p, q) => p + Math.exp(q - mx), 0);
          data.push(...row.map((q) => (n.opType === 'Softmax' ? Math.exp(q - mx) / se : q - mx - Math.log(se))));
        }
        y = { shape: a!.shape, data };
        break;
      }
      case 'Gemm': {
        const tB = ai(n, 'transB', 0) === 1;
        const al = af(n, 'alpha', 1), be = af(n, 'beta', 1);
        const [M, K] = a!.shape;
        const N = tB ? b!.shape[0] : b!.shape[1];
        const data: number[] = [];
        for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += a!.data[i * K + k] * (tB ? b!.data[j * K + k] : b!.data[k * N + j]);
          data.push(al * s + (c ? be * c.data[c.data.length === 1 ? 0 : j] : 0));
        }
        y = { shape: [M, N], data };
        break;
      }
      case 'MatMul': {
        const K = b!.shape[0], N = b!.shape[1];
        const M = a!.data.length / K;
        const data: number[] = [];
        for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) { let s = 0; for (let k = 0; k < K; k++) s += a!.data[i * K + k] * b!.data[k * N + j]; data.push(s); }
        y = { shape: [...a!.shape.slice(0, -1), N], data };
        break;
      }
      case 'PRelu': y = broadcast(a!, b!, (p, q) => (p >= 0 ? p : q * p)); break;
      case 'Max': y = broadcast(a!, b!, Math.max); break;
      case 'Add': y = broadcast(a!, b!, (p, q) => p + q); break;
      case 'Sub': y = broadcast(a!, b!, (p, q) => p - q); break;
      case 'Mul': y = broadcast(a!, b!, (p, q) => p * q); break;
      case 'Div': y = broadcast(a!, b!, (p, q) => p / q); break;
      case 'Identity': case 'Dropout': y = a!; break;
      case 'ReduceMean': {
        const axes = ais(n, 'axes')!;
        const keep = ai(n, 'keepdims', 1) === 1;
        const shape = a!.shape.map((d, k) => (axes.includes(k) ? 1 : d));
        const data = new Array(size(shape)).fill(0);
        const st = strides(shape);
        const cnt = size(axes.map((k) => a!.shape[k]));
        for (let i = 0; i < a!.data.length; i++) {
          const idx = unravel(i, a!.shape).map((q, k) => (axes.includes(k) ? 0 : q));
          data[idx.reduce((s2, q, k) => s2 + q * st[k], 0)] += a!.data[i] / cnt;
        }
        y = { shape: keep ? shape : shape.filter((_, k) => !axes.includes(k)), data };
        break;
      }
      case 'Slice': {
        // steps 1, inputs form (opset >= 10)
        const r = a!.shape.length;
        const axes = x[3] ? x[3].data : b!.data.map((_, k) => k);
        const lo = new Array(r).fill(0);
        const shape = [...a!.shape];
        axes.forEach((ax, k) => {
          const d = a!.shape[ax];
          const cl = (q: number): number => Math.min(Math.max(q < 0 ? q + d : q, 0), d);
          lo[ax] = cl(b!.data[k]);
          shape[ax] = cl(c!.data[k]) - lo[ax];
        });
        const st = strides(a!.shape);
        const data = new Array(size(shape));
        for (let i = 0; i < data.length; i++) data[i] = a!.data[unravel(i, shape).reduce((s2, q, k) => s2 + (q + lo[k]) * st[k], 0)];
        y = { shape, data };
        break;
      }
      case 'Erf': y = { shape: a!.shape, data: a!.data.map(erf) }; break;
      case 'Squeeze': {
        const axes = opset >= 13 ? b!.data : ais(n, 'axes')!;
        y = { shape: a!.shape.filter((_, k) => !axes.includes(k)), data: a!.data };
        break;
      }
      case 'Pad': {
        const p = opset >= 11 ? b!.data : ais(n, 'pads')!;
        const r = a!.shape.length;
        const shape = a!.shape.map((d, k) => d + p[k] + p[k + r]);
        const data = new Array(size(shape)).fill(0);
        const st = strides(a!.shape);
        for (let i = 0; i < data.length; i++) {
          const idx = unravel(i, shape).map((q, k) => q - p[k]);
          if (idx.every((q, k) => q >= 0 && q < a!.shape[k])) data[i] = a!.data[idx.reduce((s2, q, k) => s2 + q * st[k], 0)];
        }
        y = { shape, data };
        break;
      }
      case 'Resize': case 'Upsample': {
        // nearest, integer scales: out[i] = in[floor(i / s)] (asymmetric / floor)
        const sc = n.opType === 'Upsample' ? b!.data : c!.data;
        const shape = a!.shape.map((d, k) => d * sc[k]);
        const st = strides(a!.shape);
        const data = new Array(size(shape));
        for (let i = 0; i < data.length; i++) data[i] = a!.data[unravel(i, shape).reduce((q, v, k) => q + Math.floor(v / sc[k]) * st[k], 0)];
        y = { shape, data };
        break;
      }
      default: throw new Error(`naive: op ${n.opType}`);
    }
    v.set(n.output![0], y);
  }
  const out: Record<string, Arr> = {};
  for (const o of g.output ?? []) out[o.name!] = v.get(o.name!)!;
  return out;
}
