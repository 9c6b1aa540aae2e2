/**
 * Keras normalization layers -> BatchNorm nodes (exact affine maps): BatchNormalization, and the
 * preprocessing layers Normalization and Rescaling, whose statistics or scale may be one value for every
 * channel (broadcast by keras-layout once the channel count is known).
 */
import { type Ctx, type JsonRange, type LayerEntry, type LayerHandler, type Mapped, type WeightSlot, bool, node, num, numbers } from './keras-layer-util.js';
import { normalizationWeights, rescalingWeights } from './keras-preprocessing.js';

export const batchNormalization: LayerHandler = (ctx: Ctx, e: LayerEntry, range: JsonRange) => {
  const c = e.config;
  const n = e.name;
  let axis: unknown = c.axis ?? -1;
  if (Array.isArray(axis)) {
    if (axis.length !== 1) ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: BatchNormalization over several axes ${JSON.stringify(axis)} is not supported`, n);
    axis = axis[0];
  }
  if (typeof axis !== 'number' || !Number.isInteger(axis)) ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: bad axis ${JSON.stringify(axis)}`, n);
  const center = bool(c.center, true);
  const scale = bool(c.scale, true);
  const epsilon = num(ctx, n, 'epsilon', c.epsilon, 1e-3);
  const slots: WeightSlot[] = [];
  if (scale) slots.push({ node: n, key: 'gamma', aliases: ['gamma'] });
  if (center) slots.push({ node: n, key: 'beta', aliases: ['beta'] });
  slots.push({ node: n, key: 'movingMean', aliases: ['moving_mean'] }, { node: n, key: 'movingVariance', aliases: ['moving_variance'] });
  return {
    nodes: [node(e, 'BatchNorm', { epsilon, axis, center, scale }, { range })],
    slots,
    check: (s) => {
      const c0 = s.movingMean;
      for (const [k, v] of Object.entries(s)) {
        if (v.length !== 1 || c0.length !== 1 || v[0] !== c0[0]) return `${k} shape [${v}] differs from moving_mean [${c0}]`;
      }
      return undefined;
    },
  };
};

/** Keras Normalization -> BatchNorm over its axis (mean/variance from the weights, or from the config). */
export const normalization: LayerHandler = (ctx: Ctx, e: LayerEntry, range: JsonRange): Mapped => {
  const c = e.config;
  const n = e.name;
  let axis: unknown = c.axis === undefined ? -1 : c.axis;
  if (Array.isArray(axis) && axis.length === 1) axis = axis[0];
  const all = axis === null || (Array.isArray(axis) && axis.length === 0);
  if (!all && (typeof axis !== 'number' || !Number.isInteger(axis) || axis === 0)) {
    ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: Normalization over axis ${JSON.stringify(c.axis)} is not supported (one feature axis or None)`, n, 'normalize over the last axis (axis=-1) and re-save');
  }
  const invert = bool(c.invert, false);
  const bn = node(e, 'BatchNorm', { epsilon: 0, axis: all ? -1 : (axis as number), center: true, scale: true }, { range });
  if (c.mean !== undefined && c.mean !== null) {
    // Fixed statistics passed to the constructor: in the config, no weights.
    const mean = numbers(ctx, n, 'mean', c.mean);
    const variance = numbers(ctx, n, 'variance', c.variance);
    if (mean.length !== variance.length) ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: mean and variance have different lengths`, n);
    bn.weights = normalizationWeights(mean, variance, invert);
    return { nodes: [bn], slots: [], broadcast: all || mean.length === 1 };
  }
  let scalar = all;
  return {
    nodes: [bn],
    slots: [
      { node: n, key: 'movingMean', aliases: ['mean'] },
      { node: n, key: 'movingVariance', aliases: ['variance'] },
      { node: n, key: 'count', aliases: ['count'], unused: true },
    ],
    check: (s) => {
      const m = s.movingMean;
      const v = s.movingVariance;
      if (m.length !== v.length || m.some((d, i) => d !== v[i])) return `mean shape [${m}] differs from variance shape [${v}]`;
      if (m.filter((d) => d !== 1).length > 1) return `mean shape [${m}] spans several axes (only one axis is supported)`;
      if (m.every((d) => d === 1)) scalar = true;
      return undefined;
    },
    finish: () => {
      bn.weights = normalizationWeights(bn.weights.movingMean.data, bn.weights.movingVariance.data, invert);
      return scalar;
    },
  };
};

export const rescaling: LayerHandler = (ctx: Ctx, e: LayerEntry, range: JsonRange) => {
  const c = e.config;
  const n = e.name;
  const scale = numbers(ctx, n, 'scale', c.scale ?? 1);
  const offset = numbers(ctx, n, 'offset', c.offset ?? 0);
  if (scale.length > 1 && offset.length > 1 && scale.length !== offset.length) {
    ctx.err('UNSUPPORTED_CONFIG', `layer ${n}: scale (${scale.length} values) and offset (${offset.length} values) do not match`, n);
  }
  const bn = node(e, 'BatchNorm', { epsilon: 0, axis: -1, center: true, scale: true }, { range });
  bn.weights = rescalingWeights(scale, offset);
  return { nodes: [bn], slots: [], broadcast: bn.weights.gamma.data.length === 1 };
};
