/**
 * Keras convolution, pooling and spatial-resize layers -> IR nodes, one handler per family; the rank
 * (1D, 2D, 3D) comes from the class name through the table in keras-layers.ts.
 * SeparableConv is split into `<name>/depthwise` (DepthwiseConv) followed by `<name>` (1x1 Conv with the
 * bias and the fused activation); Conv*Transpose keeps Keras's kernel layout.
 */
import {
  type Ctx, type JsonRange, type LayerEntry, type LayerHandler, bool, checkChannelsLast, checkDim, convWindow, kernelAndBias, node, pairs, paddingMode, parseActivation, tuple,
  weightless,
} from './keras-layer-util.js';

type Rank = 1 | 2 | 3;

export function conv(rank: Rank): LayerHandler {
  return (ctx: Ctx, e: LayerEntry, range: JsonRange) => {
    const c = e.config;
    const n = e.name;
    checkChannelsLast(ctx, e);
    const filters = checkDim(ctx, n, 'filters', c.filters);
    const { kernelSize, strides, dilation } = convWindow(ctx, n, c, rank);
    const groups = checkDim(ctx, n, 'groups', c.groups ?? 1);
    const useBias = bool(c.use_bias, true);
    const padding = paddingMode(ctx, n, c.padding ?? 'valid', rank === 1);
    return {
      nodes: [node(e, 'Conv', { rank, filters, kernelSize, strides, dilation, padding, groups, useBias }, { range, activation: parseActivation(ctx, n, c.activation) })],
      slots: kernelAndBias(n, useBias),
      check: (s) => {
        const k = s.kernel;
        if (k.length !== rank + 2 || kernelSize.some((v, i) => k[i] !== v) || k[rank + 1] !== filters) {
          return `kernel shape [${k}] does not match kernel_size [${kernelSize}] and filters ${filters}`;
        }
        if (useBias && (s.bias.length !== 1 || s.bias[0] !== filters)) return `bias shape [${s.bias}] does not match filters ${filters}`;
        return undefined;
      },
    };
  };
}

export function convTranspose(rank: Rank): LayerHandler {
  return (ctx: Ctx, e: LayerEntry, range: JsonRange) => {
    const c = e.config;
    const n = e.name;
    checkChannelsLast(ctx, e);
    const filters = checkDim(ctx, n, 'filters', c.filters);
    const { kernelSize, strides, dilation } = convWindow(ctx, n, c, rank);
    const op = c.output_padding;
    const outputPadding = op === undefined || op === null ? null : tuple(ctx, n, 'output_padding', op, rank, true);
    const useBias = bool(c.use_bias, true);
    const padding = paddingMode(ctx, n, c.padding ?? 'valid', false);
    return {
      nodes: [node(e, 'ConvTranspose', { rank, filters, kernelSize, strides, dilation, padding, outputPadding, useBias }, { range, activation: parseActivation(ctx, n, c.activation) })],
      slots: kernelAndBias(n, useBias),
      check: (s) => {
        // Keras stores transposed kernels as [...kernel_size, filters, in_channels].
        const k = s.kernel;
        if (k.length !== rank + 2 || kernelSize.some((v, i) => k[i] !== v) || k[rank] !== filters) {
          return `kernel shape [${k}] does not match kernel_size [${kernelSize}] and filters ${filters}`;
        }
        if (useBias && (s.bias.length !== 1 || s.bias[0] !== filters)) return `bias shape [${s.bias}] does not match filters ${filters}`;
        return undefined;
      },
    };
  };
}

export function depthwiseConv(rank: 1 | 2): LayerHandler {
  return (ctx: Ctx, e: LayerEntry, range: JsonRange) => {
    const c = e.config;
    const n = e.name;
    checkChannelsLast(ctx, e);
    const depthMultiplier = checkDim(ctx, n, 'depth_multiplier', c.depth_multiplier ?? 1);
    const { kernelSize, strides, dilation } = convWindow(ctx, n, c, rank);
    const useBias = bool(c.use_bias, true);
    const padding = paddingMode(ctx, n, c.padding ?? 'valid', rank === 1);
    return {
      nodes: [node(e, 'DepthwiseConv', { rank, depthMultiplier, kernelSize, strides, dilation, padding, useBias }, { range, activation: parseActivation(ctx, n, c.activation) })],
      // Keras 2 calls it depthwise_kernel, Keras 3 kernel.
      slots: kernelAndBias(n, useBias, ['depthwise_kernel', 'kernel']),
      check: (s) => {
        const k = s.kernel;
        if (k.length !== rank + 2 || kernelSize.some((v, i) => k[i] !== v) || k[rank + 1] !== depthMultiplier) {
          return `depthwise kernel shape [${k}] does not match kernel_size [${kernelSize}] and depth_multiplier ${depthMultiplier}`;
        }
        if (useBias && (s.bias.length !== 1 || s.bias[0] !== k[rank] * depthMultiplier)) return `bias shape [${s.bias}] does not match ${k[rank] * depthMultiplier} channels`;
        return undefined;
      },
    };
  };
}

export function separableConv(rank: 1 | 2): LayerHandler {
  return (ctx: Ctx, e: LayerEntry, range: JsonRange) => {
    const c = e.config;
    const n = e.name;
    checkChannelsLast(ctx, e);
    const depthMultiplier = checkDim(ctx, n, 'depth_multiplier', c.depth_multiplier ?? 1);
    const filters = checkDim(ctx, n, 'filters', c.filters);
    const { kernelSize, strides, dilation } = convWindow(ctx, n, c, rank);
    const useBias = bool(c.use_bias, true);
    const padding = paddingMode(ctx, n, c.padding ?? 'valid', rank === 1);
    const dw = `${n}/depthwise`;
    const ones = new Array<number>(rank).fill(1);
    return {
      nodes: [
        node(e, 'DepthwiseConv', { rank, depthMultiplier, kernelSize, strides, dilation, padding, useBias: false }, { range, name: dw }),
        node(e, 'Conv', { rank, filters, kernelSize: ones, strides: ones, dilation: ones, padding: { mode: 'valid', pads: [] }, groups: 1, useBias }, {
          range, inbound: [dw], activation: parseActivation(ctx, n, c.activation),
        }),
      ],
      slots: [
        { node: dw, key: 'kernel', aliases: ['depthwise_kernel'] },
        { node: n, key: 'kernel', aliases: ['pointwise_kernel'] },
        ...(useBias ? [{ node: n, key: 'bias', aliases: ['bias'] }] : []),
      ],
      check: (s) => {
        const d = s[`${dw}.kernel`];
        const p = s[`${n}.kernel`];
        if (d.length !== rank + 2 || kernelSize.some((v, i) => d[i] !== v) || d[rank + 1] !== depthMultiplier) return `depthwise kernel shape [${d}] does not match the config`;
        if (p.length !== rank + 2 || p.slice(0, rank).some((v) => v !== 1) || p[rank] !== d[rank] * depthMultiplier || p[rank + 1] !== filters) {
          return `pointwise kernel shape [${p}] does not match the config`;
        }
        if (useBias && (s[`${n}.bias`].length !== 1 || s[`${n}.bias`][0] !== filters)) return `bias shape does not match filters ${filters}`;
        return undefined;
      },
    };
  };
}

export function pool(op: 'max' | 'avg', rank: Rank): LayerHandler {
  return (ctx: Ctx, e: LayerEntry, range: JsonRange) => {
    const c = e.config;
    const n = e.name;
    checkChannelsLast(ctx, e);
    const poolSize = tuple(ctx, n, 'pool_size', c.pool_size ?? 2, rank);
    const strides = c.strides === null || c.strides === undefined ? poolSize : tuple(ctx, n, 'strides', c.strides, rank);
    const padding = paddingMode(ctx, n, c.padding ?? 'valid', false);
    return weightless(node(e, 'Pool', { op, rank, poolSize, strides, padding, ceilMode: false, countIncludePad: false }, { range }));
  };
}

export function globalPool(op: 'max' | 'avg', rank: Rank): LayerHandler {
  return (ctx: Ctx, e: LayerEntry, range: JsonRange) => {
    checkChannelsLast(ctx, e);
    return weightless(node(e, 'GlobalPool', { op, rank, keepDims: bool(e.config.keepdims, false) }, { range }));
  };
}

export function zeroPadding(rank: Rank): LayerHandler {
  return (ctx: Ctx, e: LayerEntry, range: JsonRange) => {
    checkChannelsLast(ctx, e);
    return weightless(node(e, 'ZeroPadding', { rank, pads: pairs(ctx, e.name, 'padding', e.config.padding ?? 1, rank) }, { range }));
  };
}

export function cropping(rank: Rank): LayerHandler {
  return (ctx: Ctx, e: LayerEntry, range: JsonRange) => {
    checkChannelsLast(ctx, e);
    return weightless(node(e, 'Cropping', { rank, crops: pairs(ctx, e.name, 'cropping', e.config.cropping ?? 0, rank) }, { range }));
  };
}

export function upSampling(rank: Rank): LayerHandler {
  return (ctx: Ctx, e: LayerEntry, range: JsonRange) => {
    const c = e.config;
    const n = e.name;
    checkChannelsLast(ctx, e);
    const size = tuple(ctx, n, 'size', c.size ?? 2, rank);
    const interp = c.interpolation ?? 'nearest';
    if (interp !== 'nearest' && interp !== 'bilinear') ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: interpolation ${JSON.stringify(interp)} is not supported`, n);
    return weightless(node(e, 'UpSampling', { rank, size, interpolation: interp }, { range }));
  };
}
