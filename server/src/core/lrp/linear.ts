/**
 * The linear layers LRP rules act on (Dense, Conv 1-3D with groups, DepthwiseConv 1-2D, ConvTranspose 1-3D), as two plain
 * operations with an explicit kernel: `forward(x, K)` (no bias) and `backward(dy, K)` = J_K^T dy, the
 * vector-Jacobian product with respect to the input.
 *
 * The backward pass is written as a forward convolution (dy dilated by the stride, padded, correlated with
 * the spatially flipped, transposed kernel), because the wasm backend runs conv2d about 12x faster than
 * its transposed convolution and has no depthwise backward kernel at all. Dilation is folded into the
 * kernel (zeros between taps) as the Conv kind does, so only strides and pads remain. The same file also
 * offers the tf.grad VJP (`backwardGrad`) that tests compare against.
 */
import type * as tfTypes from '@tensorflow/tfjs';
import type { LayerNode, LayerNodeOf, WeightTensor } from '../model/graph.js';
import { LensError } from '../errors.js';
import { dilateKernel } from '../model/kinds/conv.js';
import { padOrCrop, resolvePads, zeroInsert } from '../model/kinds/common.js';
import { correlationKernel, spreadInput, transposePads } from '../model/kinds/conv-transpose.js';

type TF = typeof tfTypes;
type Tensor = tfTypes.Tensor;
type T4 = tfTypes.Tensor4D;
type T2 = tfTypes.Tensor2D;

export type LinearNode = LayerNodeOf<'Dense'> | LayerNodeOf<'Conv'> | LayerNodeOf<'DepthwiseConv'> | LayerNodeOf<'ConvTranspose'>;

export function isLinear(node: LayerNode): node is LinearNode {
  return node.kind === 'Dense' || node.kind === 'Conv' || node.kind === 'DepthwiseConv' || node.kind === 'ConvTranspose';
}

/**
 * Kernel layout seen as [S, Cin, Cout]: Dense [in, out] (S = 1), Conv [...k, Cin/groups, F], Depthwise
 * [...k, C, M], ConvTranspose its correlation kernel [...K, C, F] (kinds/conv-transpose.ts): the layer is
 * that stride-1 conv on the zero-inserted input, and its VJP a strided conv of dy, so every rule (including
 * flat, w-square and ZBox, which see each real connection once) acts on the transposed conv's own weights. `stackable`: passes with different inputs and different denominators can be fused into one
 * op by stacking kernels (Dense and ungrouped Conv); depthwise and grouped convs keep their blocks apart.
 */
export class LinearLayer {
  readonly node: LinearNode;
  /** Kernel with dilation folded in. */
  readonly kernel: WeightTensor;
  readonly bias: Float32Array | undefined;
  readonly kind: 'dense' | 'conv' | 'depthwise' | 'grouped' | 'transpose';
  readonly rank: number;
  readonly strides: number[];
  readonly outChannels: number;

  constructor(node: LinearNode) {
    this.node = node;
    const kernel = node.weights.kernel;
    if (!kernel) throw new LensError('MISSING_WEIGHTS', `layer ${node.name} has no kernel`, { layer: node.name });
    const b = node.weights.bias;
    this.bias = b && (node.params as { useBias?: boolean }).useBias !== false ? b.data : undefined;
    if (node.kind === 'Dense') {
      this.kind = 'dense';
      this.rank = 0;
      this.strides = [];
      this.kernel = kernel;
      this.outChannels = kernel.shape[1];
    } else if (node.kind === 'ConvTranspose') {
      const p = node.params;
      this.kind = 'transpose';
      this.rank = p.rank;
      this.strides = p.strides;
      this.kernel = correlationKernel(kernel, p.rank, p.dilation);
      this.outChannels = p.filters;
    } else {
      const p = node.params;
      this.rank = p.rank;
      this.strides = p.strides;
      this.kernel = dilateKernel(kernel, p.rank, p.dilation);
      if (node.kind === 'DepthwiseConv') {
        this.kind = 'depthwise';
        this.outChannels = kernel.shape[p.rank] * kernel.shape[p.rank + 1];
      } else {
        this.kind = node.params.groups === 1 ? 'conv' : 'grouped';
        this.outChannels = node.params.filters;
      }
      if (this.rank === 3 && this.kind !== 'conv') {
        throw new LensError('LRP_UNSUPPORTED', `3-D ${this.kind} convolution (layer ${node.name}) is not supported by the LRP engine`, { layer: node.name });
      }
    }
  }

  get stackable(): boolean {
    return this.kind === 'dense' || this.kind === 'conv' || this.kind === 'transpose';
  }

  /** Spatial size of the kernel (product), and its in/out channel counts, as the [S, Cin, Cout] view. */
  get view(): [number, number, number] {
    const s = this.kernel.shape;
    const cout = s[s.length - 1];
    const cin = s[s.length - 2];
    return [this.kernel.data.length / (cin * cout), cin, cout];
  }

  /** Shape of a kernel with `cin` / `cout` in its last two places. */
  kernelShape(cin: number, cout: number): number[] {
    const s = this.kernel.shape;
    return [...s.slice(0, s.length - 2), cin, cout];
  }

  private pads(x: Tensor): [number, number][] {
    const p = (this.node as LayerNodeOf<'Conv'>).params;
    const k = this.node.weights.kernel.shape.slice(0, this.rank);
    return resolvePads(this.node, p.padding, x.shape.slice(1, x.rank - 1), k, p.strides, p.dilation);
  }

  /** f(x; K) without bias; `kernel` has this layer's layout (dilation folded in). */
  forward(tf: TF, x: Tensor, kernel: Tensor): Tensor {
    if (this.kind === 'dense') {
      const ci = x.shape[x.rank - 1];
      const flat = x.rank === 2 ? x : tf.reshape(x, [-1, ci]);
      const y = tf.matMul(flat as T2, kernel as T2);
      return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), kernel.shape[1] as number]);
    }
    if (this.kind === 'transpose') {
      // The stride-1 correlation of the zero-inserted, padded input (kinds/conv-transpose.ts).
      const xs = spreadInput(tf, this.node as LayerNodeOf<'ConvTranspose'>, x);
      if (this.rank === 1) return tf.squeeze(tf.conv2d(tf.expandDims(xs, 1) as T4, tf.expandDims(kernel, 0) as T4, 1, 'valid'), [1]);
      if (this.rank === 2) return tf.conv2d(xs as T4, kernel as T4, 1, 'valid');
      return conv3dPlanes(tf, xs, kernel, [1, 1, 1]);
    }
    const pads = this.pads(x);
    if (this.kind === 'conv' && this.rank <= 2) {
      // Explicit padding inside the conv: no padded copy of x.
      if (this.rank === 1) {
        const y = tf.conv2d(tf.expandDims(x, 1) as T4, tf.expandDims(kernel, 0) as T4, [1, this.strides[0]], [[0, 0], [0, 0], pads[0], [0, 0]]);
        return tf.squeeze(y, [1]);
      }
      return tf.conv2d(x as T4, kernel as T4, this.strides as [number, number], [[0, 0], pads[0], pads[1], [0, 0]]);
    }
    const xp = pads.every(([a, b]) => a === 0 && b === 0) ? x : tf.pad(x, [[0, 0], ...pads, [0, 0]]);
    if (this.rank === 1) {
      const y = this.forward2d(tf, tf.expandDims(xp, 1) as T4, tf.expandDims(kernel, 0) as T4, [1, this.strides[0]]);
      return tf.squeeze(y, [1]);
    }
    if (this.rank === 2) return this.forward2d(tf, xp as T4, kernel as T4, this.strides as [number, number]);
    return conv3dPlanes(tf, xp, kernel, this.strides);
  }

  private forward2d(tf: TF, x: T4, kernel: T4, strides: [number, number]): Tensor {
    switch (this.kind) {
      case 'conv':
        return tf.conv2d(x, kernel, strides, 'valid');
      case 'depthwise':
        return tf.depthwiseConv2d(x, kernel, strides, 'valid');
      case 'grouped': {
        const g = (this.node as LayerNodeOf<'Conv'>).params.groups;
        const xs = tf.split(x, g, 3);
        const ks = tf.split(kernel, g, 3);
        return tf.concat(xs.map((xg, i) => tf.conv2d(xg as T4, ks[i] as T4, strides, 'valid')), 3);
      }
      default:
        throw new Error('unreachable');
    }
  }

  /**
   * The kernel in the form `backward` uses (made once per rule): convs flipped in space with in/out
   * channels swapped, depthwise flipped as [..k, C*M, 1], dense unchanged.
   */
  backwardKernel(tf: TF, kernel: Tensor): Tensor {
    if (this.kind === 'dense') return tf.transpose(kernel);
    if (this.rank === 3) return tf.transpose(tf.reverse(kernel, [0, 1, 2]), [0, 1, 2, 4, 3]);
    const k4 = (this.rank === 1 ? tf.expandDims(kernel, 0) : kernel) as T4;
    const flipped = tf.reverse(k4, [0, 1]) as T4;
    switch (this.kind) {
      case 'conv':
      case 'transpose':
        return tf.transpose(flipped, [0, 1, 3, 2]);
      case 'depthwise': {
        const [kh, kw, c, m] = k4.shape;
        return tf.reshape(flipped, [kh, kw, c * m, 1]);
      }
      default:
        return flipped; // grouped: transposed per group in backward
    }
  }

  /** J_K^T dy as forward convolutions; `bk` from backwardKernel; `inShape` is the input's shape. */
  backward(tf: TF, dy: Tensor, bk: Tensor, inShape: number[]): Tensor {
    if (this.kind === 'dense') {
      const co = dy.shape[dy.rank - 1];
      const flat = dy.rank === 2 ? dy : tf.reshape(dy, [-1, co]);
      const y = tf.matMul(flat as T2, bk as T2);
      return dy.rank === 2 ? y : tf.reshape(y, inShape);
    }
    if (this.kind === 'transpose') return this.backwardTranspose(tf, dy, bk, inShape);
    const pads = this.padsFor(inShape);
    // dy spread over the input grid (zeros between cells for strides), padded so that correlating it
    // with the flipped kernel gives one value per input cell.
    const span = this.kernel.shape.slice(0, this.rank);
    const g0 = zeroInsert(tf, dy, this.strides);
    const full: [number, number][] = span.map((k, i) => {
      const before = k - 1 - pads[i][0];
      return [before, inShape[i + 1] + k - 1 - g0.shape[i + 1] - before];
    });
    if (this.rank === 3) return conv3dPlanes(tf, padOrCrop(tf, g0, full), bk, [1, 1, 1]);
    if (this.kind === 'conv' && full.every(([a, b]) => a >= 0 && b >= 0)) {
      if (this.rank === 1) return tf.squeeze(tf.conv2d(tf.expandDims(g0, 1) as T4, bk as T4, 1, [[0, 0], [0, 0], full[0], [0, 0]]), [1]);
      return tf.conv2d(g0 as T4, bk as T4, 1, [[0, 0], full[0], full[1], [0, 0]]);
    }
    const g1 = padOrCrop(tf, g0, full);
    const g = (this.rank === 1 ? tf.expandDims(g1, 1) : g1) as T4;
    let out: Tensor;
    switch (this.kind) {
      case 'conv':
        out = tf.conv2d(g, bk as T4, 1, 'valid');
        break;
      case 'depthwise': {
        // dx[c] = sum_m corr(dy[c*M + m], flip k[:, :, c, m]): a depthwise conv over C*M channels, then sum m.
        const c = inShape[inShape.length - 1];
        const m = (bk.shape[2] as number) / c;
        const y = tf.depthwiseConv2d(g, bk as T4, 1, 'valid');
        out = m === 1 ? y : tf.sum(tf.reshape(y, [...y.shape.slice(0, 3), c, m]), 4);
        break;
      }
      case 'grouped': {
        const ng = (this.node as LayerNodeOf<'Conv'>).params.groups;
        const gs = tf.split(g, ng, 3);
        const ks = tf.split(bk, ng, 3);
        out = tf.concat(gs.map((gi, i) => tf.conv2d(gi as T4, tf.transpose(ks[i], [0, 1, 3, 2]) as T4, 1, 'valid')), 3);
        break;
      }
      default:
        throw new Error('unreachable');
    }
    return this.rank === 1 ? tf.squeeze(out, [1]) : out;
  }

  /**
   * VJP of the transposed conv: dx[o] = sum_u dy[o s - before + u] flip(C)[u]^T, a strided correlation of
   * dy padded by the transposed conv's own [before, after] (cropped where negative).
   */
  private backwardTranspose(tf: TF, dy: Tensor, bk: Tensor, inShape: number[]): Tensor {
    const node = this.node as LayerNodeOf<'ConvTranspose'>;
    const pads = transposePads(node, inShape.slice(1, inShape.length - 1));
    const s = this.strides;
    if (this.rank === 3) return conv3dPlanes(tf, padOrCrop(tf, dy, pads), bk, s);
    if (pads.every(([a, b]) => a >= 0 && b >= 0)) {
      if (this.rank === 1) return tf.squeeze(tf.conv2d(tf.expandDims(dy, 1) as T4, bk as T4, [1, s[0]], [[0, 0], [0, 0], pads[0], [0, 0]]), [1]);
      return tf.conv2d(dy as T4, bk as T4, s as [number, number], [[0, 0], pads[0], pads[1], [0, 0]]);
    }
    const g = padOrCrop(tf, dy, pads);
    if (this.rank === 1) return tf.squeeze(tf.conv2d(tf.expandDims(g, 1) as T4, bk as T4, [1, s[0]], 'valid'), [1]);
    return tf.conv2d(g as T4, bk as T4, s as [number, number], 'valid');
  }

  private padsFor(inShape: number[]): [number, number][] {
    const p = (this.node as LayerNodeOf<'Conv'>).params;
    const k = this.node.weights.kernel.shape.slice(0, this.rank);
    return resolvePads(this.node, p.padding, inShape.slice(1, inShape.length - 1), k, p.strides, p.dilation);
  }

  /** J_K^T dy through tf.grad of forward (the reference; not available for depthwise on wasm). */
  backwardGrad(tf: TF, dy: Tensor, kernel: Tensor, inShape: number[]): Tensor {
    const f = (x: Tensor): Tensor => this.forward(tf, x, kernel);
    return tf.grad(f)(tf.zeros(inShape), dy);
  }
}

/**
 * Valid 3-D conv as a sum over depth taps of 2-D convs on (batch x depth) planes: wasm's Conv3D is
 * far slower than its conv2d (and its Conv3DBackpropInputV2 is wrong), so neither is used.
 */
function conv3dPlanes(tf: TF, x: Tensor, kernel: Tensor, strides: number[]): Tensor {
  const [n, d, h, w, c] = x.shape;
  const [kd, kh, kw, , f] = kernel.shape;
  const [sd, sh, sw] = strides;
  const dOut = Math.floor((d - kd) / sd) + 1;
  let acc: Tensor | undefined;
  for (let t = 0; t < kd; t++) {
    // Depth planes t, t + sd, ..., t + (dOut - 1) sd.
    let planes = tf.slice(x, [0, t, 0, 0, 0], [n, (dOut - 1) * sd + 1, h, w, c]);
    if (sd > 1) {
      // Every sd-th plane, with differentiable ops (StridedSlice has no gradient in tfjs).
      const whole = tf.pad(planes, [[0, 0], [0, sd - 1], [0, 0], [0, 0], [0, 0]]);
      planes = tf.slice(tf.reshape(whole, [n * dOut, sd, h * w * c]), [0, 0, 0], [n * dOut, 1, h * w * c]);
    }
    const k2 = tf.reshape(tf.slice(kernel, [t, 0, 0, 0, 0], [1, kh, kw, c, f]), [kh, kw, c, f]) as T4;
    const y = tf.conv2d(tf.reshape(planes, [n * dOut, h, w, c]) as T4, k2, [sh, sw], 'valid');
    acc = acc ? tf.add(acc, y) : y;
  }
  const out = acc!;
  return tf.reshape(out, [n, dOut, out.shape[1] as number, out.shape[2] as number, f]);
}
