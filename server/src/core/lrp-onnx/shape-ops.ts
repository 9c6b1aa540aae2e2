/**
 * Layers that move values without changing them (Flatten, Reshape, Permute, ZeroPadding, Cropping, Concatenate),
 * forward and their relevance (the gradient: the inverse move). The IR defines them on channels-last
 * tensors; the lowering holds tensors channels-first, so Flatten/Reshape in Keras order go through a
 * Transpose to channels-last and back.
 */
import type { LayerNode, LayerNodeOf } from '../model/graph.js';
import { type GraphWriter, clToCf, toChannelsFirst, toChannelsLast } from './graph-writer.js';
import { refuse } from './linear-ops.js';

type Shape = (number | null)[];

/** The channels-first axis holding channels-last axis `a` of a tensor of this rank. */
export function cfAxis(a: number, rank: number): number {
  const ax = a < 0 ? a + rank : a;
  return rank < 3 ? ax : clToCf(rank).indexOf(ax);
}

export function shapeForward(w: GraphWriter, node: LayerNode, xs: string[], inShapes: Shape[]): string {
  const x = xs[0];
  const inRank = inShapes[0].length;
  const outRank = node.outputShape.length;
  switch (node.kind) {
    case 'Identity':
      return x;
    case 'Flatten': {
      const src = node.params.channelsFirst ? x : toChannelsLast(w, x, inRank);
      return w.o('Reshape', [src, w.ints('shape', [0, -1])], {}, 'flatten');
    }
    case 'Reshape': {
      const target = (node as LayerNodeOf<'Reshape'>).params.targetShape;
      const y = w.o('Reshape', [toChannelsLast(w, x, inRank), w.ints('shape', [0, ...target])], {}, 'reshape');
      return toChannelsFirst(w, y, outRank);
    }
    case 'ZeroPadding': {
      const pads = (node as LayerNodeOf<'ZeroPadding'>).params.pads;
      return w.o('Pad', [x, w.ints('pads', [0, 0, ...pads.map((p) => p[0]), 0, 0, ...pads.map((p) => p[1])])], {}, 'zeropad');
    }
    case 'Cropping': {
      const crops = (node as LayerNodeOf<'Cropping'>).params.crops;
      const sizes = staticSpatial(node, inShapes[0]);
      return slice(w, x, crops.map((c) => c[0]), crops.map((c, i) => sizes[i] - c[1]));
    }
    case 'Concatenate':
      return w.o('Concat', xs, { axis: cfAxis((node as LayerNodeOf<'Concatenate'>).params.axis, outRank) });
    case 'Permute': {
      const perm = [0, ...(node as LayerNodeOf<'Permute'>).params.dims];
      return toChannelsFirst(w, w.o('Transpose', [toChannelsLast(w, x, inRank)], { perm }, 'permute'), outRank);
    }
    default:
      return refuse(node.name, `layer kind ${node.kind} (${node.name}) is not lowered`);
  }
}

/** The relevance at each input: the inverse of the move. */
export function shapeRelevance(w: GraphWriter, node: LayerNode, xs: string[], inShapes: Shape[], r: string): string[] {
  const x = xs[0];
  const inRank = inShapes[0].length;
  const outRank = node.outputShape.length;
  switch (node.kind) {
    case 'Identity':
      return [r];
    case 'Flatten': {
      if (node.params.channelsFirst) return [w.o('Reshape', [r, w.o('Shape', [x])], {}, 'unflatten')];
      const cl = toChannelsLast(w, x, inRank);
      return [toChannelsFirst(w, w.o('Reshape', [r, w.o('Shape', [cl])], {}, 'unflatten'), inRank)];
    }
    case 'Reshape': {
      const cl = toChannelsLast(w, x, inRank);
      return [toChannelsFirst(w, w.o('Reshape', [toChannelsLast(w, r, outRank), w.o('Shape', [cl])], {}, 'unreshape'), inRank)];
    }
    case 'ZeroPadding': {
      const pads = (node as LayerNodeOf<'ZeroPadding'>).params.pads;
      const sizes = staticSpatial(node, inShapes[0]);
      return [slice(w, r, pads.map((p) => p[0]), pads.map((p, i) => p[0] + sizes[i]))];
    }
    case 'Cropping': {
      const crops = (node as LayerNodeOf<'Cropping'>).params.crops;
      return [w.o('Pad', [r, w.ints('pads', [0, 0, ...crops.map((c) => c[0]), 0, 0, ...crops.map((c) => c[1])])], {}, 'uncrop')];
    }
    case 'Concatenate': {
      const ax = (node as LayerNodeOf<'Concatenate'>).params.axis;
      const a = ax < 0 ? ax + outRank : ax;
      const sizes = inShapes.map((s) => s[a]);
      if (sizes.some((d) => d === null)) refuse(node.name, `Concatenate ${node.name} along a symbolic axis`);
      if (xs.length === 1) return [r];
      return w.op('Split', [r, w.ints('split', sizes as number[])], { axis: cfAxis(a, outRank) }, 'unconcat', xs.length);
    }
    case 'Permute': {
      const perm = [0, ...(node as LayerNodeOf<'Permute'>).params.dims];
      const inverse = perm.map((_, i) => perm.indexOf(i));
      return [toChannelsFirst(w, w.o('Transpose', [toChannelsLast(w, r, outRank)], { perm: inverse }, 'unpermute'), inRank)];
    }
    default:
      return refuse(node.name, `layer kind ${node.kind} (${node.name}) is not lowered`);
  }
}

function staticSpatial(node: { name: string }, shape: Shape): number[] {
  const s = shape.slice(1, -1);
  if (s.some((d) => d === null)) refuse(node.name, `layer ${node.name} has a symbolic spatial size`);
  return s as number[];
}

/** Slice the spatial axes (2..) of a channels-first tensor to [starts, ends). */
function slice(w: GraphWriter, x: string, starts: number[], ends: number[]): string {
  const axes = starts.map((_, i) => i + 2);
  return w.o('Slice', [x, w.ints('starts', starts), w.ints('ends', ends), w.ints('axes', axes)], {}, 'slice');
}
