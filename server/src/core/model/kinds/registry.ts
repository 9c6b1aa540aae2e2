/** The one place that maps each LayerKind to its module (typed: a missing kind is a compile error). */
import type { KindModule } from './kind.js';
import type { LayerKind, LayerNode } from '../graph.js';
import { input } from './input.js';
import { dense } from './dense.js';
import { conv } from './conv.js';
import { depthwiseConv } from './depthwise-conv.js';
import { convTranspose } from './conv-transpose.js';
import { pool } from './pool.js';
import { globalPool } from './global-pool.js';
import { flatten } from './flatten.js';
import { reshape } from './reshape.js';
import { permute } from './permute.js';
import { zeroPadding } from './zero-padding.js';
import { cropping } from './cropping.js';
import { upSampling } from './up-sampling.js';
import { batchNorm } from './batch-norm.js';
import { identity } from './identity.js';
import { activation } from './activation.js';
import { prelu } from './prelu.js';
import { add, average, maximum, minimum, multiply, subtract } from './merge.js';
import { concatenate } from './concatenate.js';
import { recurrent } from './recurrent.js';

export const KINDS: { [K in LayerKind]: KindModule<K> } = {
  Input: input,
  Dense: dense,
  Conv: conv,
  DepthwiseConv: depthwiseConv,
  ConvTranspose: convTranspose,
  Pool: pool,
  GlobalPool: globalPool,
  Flatten: flatten,
  Reshape: reshape,
  Permute: permute,
  ZeroPadding: zeroPadding,
  Cropping: cropping,
  UpSampling: upSampling,
  BatchNorm: batchNorm,
  Identity: identity,
  Activation: activation,
  PReLU: prelu,
  Add: add,
  Subtract: subtract,
  Average: average,
  Multiply: multiply,
  Maximum: maximum,
  Minimum: minimum,
  Concatenate: concatenate,
  Recurrent: recurrent,
};

/** The module for a node's kind, typed loosely for callers that walk mixed nodes. */
export function kindOf(node: LayerNode): KindModule<LayerKind> {
  const m = isKnownKind(node.kind) ? (KINDS as Record<string, KindModule<LayerKind>>)[node.kind] : undefined;
  if (!m) throw new Error(`no kind module for ${String(node.kind)}`);
  return m;
}

export function isKnownKind(kind: string): kind is LayerKind {
  return Object.hasOwn(KINDS, kind);
}
