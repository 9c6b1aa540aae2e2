/**
 * Keras core layers -> IR nodes: input, Dense, PReLU, the shape layers (Flatten, Reshape, Permute),
 * layers that are the identity at inference (Dropout, noise), activation layers, merges and Concatenate.
 */
import type { ActivationSpec, LayerKind } from '../graph.js';
import { LIMITS } from '../../errors.js';
import {
  type Ctx, type JsonRange, type LayerEntry, type LayerHandler, bool, checkChannelsLast, checkDim, kernelAndBias, node, num, parseActivation, weightless,
} from './keras-layer-util.js';

export const inputLayer: LayerHandler = (_ctx: Ctx, e: LayerEntry, range: JsonRange) => weightless(node(e, 'Input', {}, { range }));

export const dense: LayerHandler = (ctx: Ctx, e: LayerEntry, range: JsonRange) => {
  const c = e.config;
  const n = e.name;
  const units = checkDim(ctx, n, 'units', c.units);
  const useBias = bool(c.use_bias, true);
  return {
    nodes: [node(e, 'Dense', { units, useBias }, { range, activation: parseActivation(ctx, n, c.activation) })],
    slots: kernelAndBias(n, useBias),
    check: (s) => {
      if (s.kernel.length !== 2 || s.kernel[1] !== units) return `kernel shape [${s.kernel}] does not match units ${units}`;
      if (useBias && (s.bias.length !== 1 || s.bias[0] !== units)) return `bias shape [${s.bias}] does not match units ${units}`;
      return undefined;
    },
  };
};

export const prelu: LayerHandler = (ctx: Ctx, e: LayerEntry, range: JsonRange) => {
  const n = e.name;
  const sa = e.config.shared_axes;
  const sharedAxes = sa === undefined || sa === null ? [] : (Array.isArray(sa) ? sa : [sa]).map((v) => checkDim(ctx, n, 'shared_axes', v));
  return {
    nodes: [node(e, 'PReLU', { sharedAxes }, { range })],
    slots: [{ node: n, key: 'alpha', aliases: ['alpha'] }],
    // alpha has one sample's shape with 1 on the shared axes; shape inference checks it against the input.
    check: (s) => (sharedAxes.some((a) => s.alpha[a - 1] !== undefined && s.alpha[a - 1] !== 1) ? `alpha shape [${s.alpha}] is not 1 on shared_axes [${sharedAxes}]` : undefined),
  };
};

export const flatten: LayerHandler = (ctx: Ctx, e: LayerEntry, range: JsonRange) => {
  checkChannelsLast(ctx, e);
  return weightless(node(e, 'Flatten', { channelsFirst: false }, { range }));
};

export const reshape: LayerHandler = (ctx: Ctx, e: LayerEntry, range: JsonRange) => {
  const n = e.name;
  const t = e.config.target_shape;
  if (!Array.isArray(t)) ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: target_shape must be a list`, n);
  const targetShape = t.map((v) => (v === -1 ? -1 : checkDim(ctx, n, 'target_shape', v)));
  if (targetShape.filter((v) => v === -1).length > 1) ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: target_shape has more than one -1`, n);
  let prod = 1;
  for (const v of targetShape) if (v > 0) prod *= v;
  if (prod > LIMITS.maxTensorElements) ctx.err('SHAPE_LIMIT', `layer ${n}: target_shape [${targetShape}] exceeds the limit`, n);
  return weightless(node(e, 'Reshape', { targetShape }, { range }));
};

export const permute: LayerHandler = (ctx: Ctx, e: LayerEntry, range: JsonRange) => {
  const n = e.name;
  const d = e.config.dims;
  if (!Array.isArray(d)) ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: dims must be a list`, n);
  const dims = d.map((v) => checkDim(ctx, n, 'dims', v));
  const sorted = [...dims].sort((a, b) => a - b);
  if (sorted.some((v, i) => v !== i + 1)) ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: dims [${dims}] is not a permutation of 1..${dims.length}`, n);
  return weightless(node(e, 'Permute', { dims }, { range }));
};

/** Dropout, noise and regularization layers: the identity at inference. */
export const identity: LayerHandler = (_ctx: Ctx, e: LayerEntry, range: JsonRange) => weightless(node(e, 'Identity', { originalClass: e.className }, { range }));

/** A layer that is one activation function, read from its config by `spec`. */
function activationLayer(spec: (ctx: Ctx, e: LayerEntry) => ActivationSpec): LayerHandler {
  return (ctx: Ctx, e: LayerEntry, range: JsonRange) => weightless(node(e, 'Activation', { activation: spec(ctx, e) }, { range }));
}

export const activation = activationLayer((ctx: Ctx, e: LayerEntry) => parseActivation(ctx, e.name, e.config.activation));

export const relu = activationLayer((ctx: Ctx, e: LayerEntry): ActivationSpec => {
  const c = e.config;
  const n = e.name;
  const maxValue = c.max_value === null || c.max_value === undefined ? undefined : num(ctx, n, 'max_value', c.max_value, 0);
  const slope = num(ctx, n, 'negative_slope', c.negative_slope, 0);
  const threshold = num(ctx, n, 'threshold', c.threshold, 0);
  if (threshold !== 0 || (slope !== 0 && maxValue !== undefined)) {
    return { name: 'relu', ...(slope !== 0 ? { alpha: slope } : {}), ...(maxValue !== undefined ? { maxValue } : {}), ...(threshold !== 0 ? { threshold } : {}) };
  }
  if (slope !== 0) return { name: 'leaky_relu', alpha: slope };
  return maxValue === undefined ? { name: 'relu' } : { name: 'relu', maxValue };
});

export const leakyRelu = activationLayer((ctx: Ctx, e: LayerEntry) => ({ name: 'leaky_relu', alpha: num(ctx, e.name, 'negative_slope', e.config.negative_slope ?? e.config.alpha, 0.3) }));

export const elu = activationLayer((ctx: Ctx, e: LayerEntry) => ({ name: 'elu', alpha: num(ctx, e.name, 'alpha', e.config.alpha, 1) }));

export const softmax = activationLayer((ctx: Ctx, e: LayerEntry) => {
  let axis: unknown = e.config.axis ?? -1;
  if (Array.isArray(axis) && axis.length === 1) axis = axis[0];
  if (typeof axis !== 'number' || !Number.isInteger(axis)) ctx.err('UNSUPPORTED_CONFIG', `layer ${e.name}: Softmax over axis ${JSON.stringify(e.config.axis)} is not supported`, e.name);
  return { name: 'softmax', axis };
});

/** inputs * (inputs > theta): the same function as Keras ReLU(threshold=theta). */
export const thresholdedRelu = activationLayer((ctx: Ctx, e: LayerEntry) => {
  const theta = num(ctx, e.name, 'theta', e.config.theta, 1);
  return theta === 0 ? { name: 'relu' } : { name: 'relu', threshold: theta };
});

/** Add, Subtract, Average, Multiply, Maximum, Minimum: elementwise over two or more inputs. */
export function merge(kind: Extract<LayerKind, 'Add' | 'Subtract' | 'Average' | 'Multiply' | 'Maximum' | 'Minimum'>): LayerHandler {
  return (ctx: Ctx, e: LayerEntry, range: JsonRange) => {
    if (e.inbound.length < 2) ctx.err('UNSUPPORTED_CONFIG', `layer ${e.name} (${e.className}) needs at least two inputs`, e.name);
    return weightless(node(e, kind, {} as Record<string, never>, { range }));
  };
}

export const concatenate: LayerHandler = (ctx: Ctx, e: LayerEntry, range: JsonRange) => {
  const axis = num(ctx, e.name, 'axis', e.config.axis, -1);
  if (!Number.isInteger(axis)) ctx.err('UNSUPPORTED_CONFIG', `layer ${e.name}: bad axis ${axis}`, e.name);
  return weightless(node(e, 'Concatenate', { axis }, { range }));
};
