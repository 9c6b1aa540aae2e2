/**
 * What every Keras layer handler shares: the context that raises errors against the file, the entry of
 * one layer call, what a handler returns (IR nodes and where their weights come from), and small readers
 * of config values (dims, tuples, paddings, activations).
 */
import { LensError, LIMITS, type ErrorCode } from '../../errors.js';
import type { ActivationName, ActivationSpec, KindParams, LayerKind, LayerNode, Padding } from '../graph.js';
import { LINEAR } from '../graph.js';
import type { JsonValue } from '../../json/located-json.js';
import { KERAS_HINTS } from './refusal-hints.js';
import { ownTable } from '../../own-table.js';

export type Obj = { [key: string]: JsonValue };

export function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export class Ctx {
  constructor(readonly file: string, readonly kerasMajor: number, readonly tfjs = false) {}
  err(code: ErrorCode, msg: string, layer?: string, hint?: string): never {
    throw new LensError(code, msg, { file: this.file, layer, hint: hint ?? KERAS_HINTS[code] });
  }
}

/** Where a layer sits among the model's layers (Keras 3 saving_lib names weight groups by class and count). */
export interface LayerPlace {
  className: string;
  /** How many layers of the same class come before it in the config's layer list. */
  classIndex: number;
}

/** A tensor a layer call reads: the producing layer and which of its calls (shared layers have several). */
export interface LayerRef {
  name: string;
  call: number;
}

/** One call of a layer, as the config describes it. */
export interface LayerEntry {
  className: string;
  name: string;
  config: Obj;
  raw: Obj;
  inbound: string[];
  /** An Input node made up for a Sequential model without an InputLayer entry. */
  synthetic?: boolean;
  place?: LayerPlace;
  /** Each call's inputs (Functional; a shared layer has several calls). */
  calls?: LayerRef[][];
  /** The layer whose weights this entry uses: itself, or the shared layer it is a later call of. */
  weightsOf?: string;
  /** A custom (unknown-class) layer: the CUSTOM_LAYER message (Functional models may load without it). */
  custom?: string;
}

export function checkDim(ctx: Ctx, layer: string, what: string, v: unknown, allowZero = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) ctx.err('UNSUPPORTED_CONFIG', `layer ${layer}: ${what} must be a number, got ${JSON.stringify(v)}`, layer);
  if (v > LIMITS.maxTensorElements) ctx.err('SHAPE_LIMIT', `layer ${layer}: ${what} = ${v} exceeds the limit ${LIMITS.maxTensorElements}`, layer);
  if (!Number.isInteger(v) || v < (allowZero ? 0 : 1)) ctx.err('UNSUPPORTED_CONFIG', `layer ${layer}: ${what} must be a ${allowZero ? 'non-negative' : 'positive'} integer, got ${v}`, layer);
  return v;
}

/** A number or a list of `rank` numbers (Keras writes both). */
export function tuple(ctx: Ctx, layer: string, what: string, v: unknown, rank: number, allowZero = false): number[] {
  if (typeof v === 'number') return new Array<number>(rank).fill(checkDim(ctx, layer, what, v, allowZero));
  if (Array.isArray(v) && v.length === 1 && rank > 1 && typeof v[0] === 'number') {
    return new Array<number>(rank).fill(checkDim(ctx, layer, what, v[0], allowZero));
  }
  if (!Array.isArray(v) || v.length !== rank) ctx.err('UNSUPPORTED_CONFIG', `layer ${layer}: ${what} must be ${rank} number(s), got ${JSON.stringify(v)}`, layer);
  return v.map((x) => checkDim(ctx, layer, what, x, allowZero));
}

/** The window of a Keras conv layer (Conv, ConvTranspose, DepthwiseConv, SeparableConv): kernel_size, strides, dilation_rate. */
export function convWindow(ctx: Ctx, layer: string, c: Record<string, unknown>, rank: number): { kernelSize: number[]; strides: number[]; dilation: number[] } {
  const kernelSize = tuple(ctx, layer, 'kernel_size', c.kernel_size, rank);
  const strides = tuple(ctx, layer, 'strides', c.strides ?? 1, rank);
  const dilation = tuple(ctx, layer, 'dilation_rate', c.dilation_rate ?? 1, rank);
  return { kernelSize, strides, dilation };
}

/** Pairs [before, after] per spatial dim from Keras' padding/cropping forms: n, [a, b] (per dim), [[a, b], ...]. */
export function pairs(ctx: Ctx, layer: string, what: string, v: unknown, rank: number): [number, number][] {
  if (typeof v === 'number') {
    const n = checkDim(ctx, layer, what, v, true);
    return new Array(rank).fill(0).map(() => [n, n] as [number, number]);
  }
  if (Array.isArray(v)) {
    if (rank === 1 && v.length === 2 && v.every((x) => typeof x === 'number')) {
      return [[checkDim(ctx, layer, what, v[0], true), checkDim(ctx, layer, what, v[1], true)]];
    }
    if (v.length === rank) {
      return v.map((p) => {
        if (typeof p === 'number') {
          const n = checkDim(ctx, layer, what, p, true);
          return [n, n] as [number, number];
        }
        if (Array.isArray(p) && p.length === 2) return [checkDim(ctx, layer, what, p[0], true), checkDim(ctx, layer, what, p[1], true)] as [number, number];
        return ctx.err('UNSUPPORTED_CONFIG', `layer ${layer}: bad ${what} ${JSON.stringify(v)}`, layer);
      });
    }
  }
  return ctx.err('UNSUPPORTED_CONFIG', `layer ${layer}: bad ${what} ${JSON.stringify(v)}`, layer);
}

export function bool(v: unknown, dflt: boolean): boolean {
  return typeof v === 'boolean' ? v : dflt;
}

export function num(ctx: Ctx, layer: string, what: string, v: unknown, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || Number.isNaN(v)) ctx.err('UNSUPPORTED_CONFIG', `layer ${layer}: ${what} must be a number, got ${JSON.stringify(v)}`, layer);
  return v;
}

export function paddingMode(ctx: Ctx, layer: string, v: unknown, allowCausal: boolean): Padding {
  const s = typeof v === 'string' ? v.toLowerCase() : v;
  if (s === 'same' || s === 'valid' || (allowCausal && s === 'causal')) return { mode: s, pads: [] };
  return ctx.err('UNSUPPORTED_CONFIG', `layer ${layer}: padding ${JSON.stringify(v)} is not supported`, layer);
}

/** True for channels_first (the caller wraps the layer in Permutes); refuses unknown data formats. */
export function checkChannelsLast(ctx: Ctx, e: LayerEntry): boolean {
  const df = e.config.data_format;
  if (df === undefined || df === null || df === 'channels_last') return false;
  if (df === 'channels_first') return true;
  return ctx.err('UNSUPPORTED_CONFIG', `layer ${e.name}: unknown data_format ${JSON.stringify(df)}`, e.name, "use data_format 'channels_last' or 'channels_first' and re-save");
}


// ---------------------------------------------------------------------------------------------------
// activations

const ACTIVATIONS: Record<string, ActivationName> = ownTable({
  linear: 'linear', relu: 'relu', relu6: 'relu6', leaky_relu: 'leaky_relu', leakyrelu: 'leaky_relu', elu: 'elu',
  selu: 'selu', tanh: 'tanh', sigmoid: 'sigmoid', hard_sigmoid: 'hard_sigmoid', hardsigmoid: 'hard_sigmoid',
  softmax: 'softmax', log_softmax: 'log_softmax', logsoftmax: 'log_softmax', swish: 'swish', silu: 'swish',
  gelu: 'gelu', gelu_new: 'gelu', softplus: 'softplus', softsign: 'softsign', exponential: 'exponential',
});

/** A Keras activation as written in a config: a name, or (Keras 3) a serialized function object. */
export function parseActivation(ctx: Ctx, layer: string, v: unknown): ActivationSpec {
  if (v === undefined || v === null) return LINEAR;
  let name: unknown = v;
  if (isObj(v)) name = typeof v.config === 'string' ? v.config : isObj(v.config) && typeof v.config.name === 'string' ? v.config.name : v.class_name;
  if (typeof name !== 'string') return ctx.err('UNSUPPORTED_CONFIG', `layer ${layer}: cannot read activation ${JSON.stringify(v)}`, layer);
  const key = name.replace(/^(keras\.activations\.|activations\.)/, '').toLowerCase();
  const kind = ACTIVATIONS[key];
  if (!kind) return ctx.err('UNSUPPORTED_CONFIG', `layer ${layer}: activation '${name}' is not supported`, layer);
  switch (kind) {
    case 'linear':
      return LINEAR;
    case 'leaky_relu':
      return { name: kind, alpha: 0.2 };
    case 'elu':
      return { name: kind, alpha: 1 };
    case 'hard_sigmoid':
      return ctx.kerasMajor >= 3 ? { name: kind, alpha: 1 / 6, beta: 0.5 } : { name: kind, alpha: 0.2, beta: 0.5 };
    case 'softmax':
    case 'log_softmax':
      return { name: kind, axis: -1 };
    case 'gelu':
      return { name: kind, approximate: key === 'gelu_new' };
    default:
      return { name: kind };
  }
}

/** Layer classes that carry weights: which Keras names each IR weight goes by, in stored order. */
export interface WeightSlot {
  /** Node that receives it (SeparableConv has two) and its key there. */
  node: string;
  key: string;
  aliases: string[];
  /** Stored but not used (Normalization's count): never read, may be absent. */
  unused?: boolean;
}

/** What a handler makes of one layer call. */
export interface Mapped {
  nodes: LayerNode[];
  slots: WeightSlot[];
  /** Extra shape checks once the weights' shapes are known. */
  check?: (shapes: Record<string, number[]>) => string | undefined;
  /** Turn the stored weights into the node's (Normalization -> BatchNorm), once attached; true: broadcast them. */
  finish?: () => boolean;
  /** The BatchNorm's weights hold one value for every channel (broadcast once shapes are known). */
  broadcast?: boolean;
  /** Take the stored weights in order, never by name (a Bidirectional layer stores two `kernel`s). */
  ordered?: boolean;
}

export function node<K extends LayerKind>(
  e: LayerEntry,
  kind: K,
  params: KindParams[K],
  opts: { name?: string; inbound?: string[]; activation?: ActivationSpec; range?: [number, number] } = {},
): LayerNode {
  return {
    name: opts.name ?? e.name,
    kind,
    inbound: opts.inbound ?? e.inbound,
    params,
    weights: {},
    activation: opts.activation ?? LINEAR,
    outputShape: [],
    source: { className: e.className, ...(opts.range ? { jsonRange: opts.range } : {}) },
  } as LayerNode;
}

/** Keras 3 quantized layers (int8/float8 dtype policies) and LoRA adapters change what the weights mean. */
export function checkPlainWeights(ctx: Ctx, e: LayerEntry): void {
  const d = e.config.dtype;
  const policy = isObj(d) ? (isObj(d.config) && typeof d.config.name === 'string' ? d.config.name : '') : typeof d === 'string' ? d : '';
  const quantClass = isObj(d) && typeof d.class_name === 'string' && d.class_name.includes('Quantized');
  if (quantClass || /^(int8|int4|float8)/.test(policy)) {
    ctx.err('UNSUPPORTED_CONFIG', `layer ${e.name} is quantized (dtype policy ${policy || String(isObj(d) ? d.class_name : d)}); quantized Keras layers are not supported`, e.name, "save the float model (before model.quantize(...)) with model.save('model.keras')");
  }
  const lora = e.config.lora_rank;
  if (lora !== undefined && lora !== null && lora !== 0) ctx.err('UNSUPPORTED_CONFIG', `layer ${e.name} has a LoRA adapter (lora_rank ${String(lora)}); not supported`, e.name, 'fold the adapter into the kernel (kernel + lora_kernel_a @ lora_kernel_b) in a model without LoRA, and re-save');
}

/** A number or a flat list of numbers (Rescaling scale/offset, Normalization mean/variance in the config). */
export function numbers(ctx: Ctx, layer: string, what: string, v: unknown): number[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0 || list.length > LIMITS.maxTensorElements || !list.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    return ctx.err('UNSUPPORTED_CONFIG', `layer ${layer}: ${what} must be a number or a flat list of numbers`, layer);
  }
  return list as number[];
}

/** Where a layer's entry sits in a JSON model file (for source.jsonRange), when it is one. */
export type JsonRange = [number, number] | undefined;

/** One Keras layer class (or family) -> IR nodes. */
export type LayerHandler = (ctx: Ctx, e: LayerEntry, range: JsonRange) => Mapped;

/** A layer without weights: its nodes alone. */
export function weightless(...nodes: LayerNode[]): Mapped {
  return { nodes, slots: [] };
}

/** The kernel (under its Keras names) and, when used, the bias of node `n`: Dense and the conv family. */
export function kernelAndBias(n: string, useBias: boolean, kernelAliases = ['kernel']): WeightSlot[] {
  return [{ node: n, key: 'kernel', aliases: kernelAliases }, ...(useBias ? [{ node: n, key: 'bias', aliases: ['bias'] }] : [])];
}
