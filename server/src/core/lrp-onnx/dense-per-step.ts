/**
 * A Dense layer on an input of rank 3 or more (Keras Dense on a sequence, e.g. after a recurrent layer
 * with return_sequences, or TimeDistributed(Dense), which loads as one; the same map at every step or
 * cell) as what it is on the lowering's channels-first tensors: a convolution with a kernel of size 1 on
 * every spatial axis. Its LinearLayer is a 'conv' view of the Dense kernel ([in, out] becomes
 * [1, ..., 1, in, out], the IR's conv layout, same data), so the forward op, the VJP and every linear
 * rule lower through the conv paths, per step, exactly as the tfjs engine applies the Dense per step.
 */
import { LinearLayer } from '../lrp/linear.js';
import type { LayerNodeOf } from '../model/graph.js';
import { type ConvGeometry, refuse } from './linear-ops.js';

/** The 1 x ... x 1 convolution view of Dense `node` on an input of IR shape `inShape` (channels-last, rank >= 3). */
export function pointwiseDense(node: LayerNodeOf<'Dense'>, inShape: (number | null)[]): { layer: LinearLayer; geo: ConvGeometry } {
  const dense = new LinearLayer(node);
  const r = inShape.length - 2;
  const spatial = inShape.slice(1, 1 + r);
  // The VJP's output size comes from the geometry; an open axis (an open sequence length) has none.
  if (r < 1 || spatial.some((d) => typeof d !== 'number')) refuse(node.name, `Dense layer ${node.name} on an input of shape [${inShape.map((d) => d ?? '?').join(', ')}] with an open axis`);
  const [cin, cout] = dense.kernel.shape;
  if (inShape[inShape.length - 1] !== cin) refuse(node.name, `Dense layer ${node.name}: kernel of ${cin} inputs on ${inShape[inShape.length - 1]} channels`);
  const ones = Array<number>(r).fill(1);
  // Same fields as a conv LinearLayer (its getters, view and stackable, read kind and kernel).
  const layer = Object.assign(Object.create(LinearLayer.prototype) as LinearLayer, {
    node,
    kernel: { shape: [...ones, cin, cout], data: dense.kernel.data },
    bias: dense.bias,
    kind: 'conv',
    rank: r,
    strides: ones,
    outChannels: cout,
  });
  const size = spatial as number[];
  return { layer, geo: { inSize: size, outSize: size, kSize: ones, strides: ones, pads: ones.map(() => [0, 0] as [number, number]), group: 1 } };
}
