/**
 * State of one TensorFlow GraphDef -> IR translation: what each TF value is (a constant, possibly a
 * folded shape, or an activation held by an IR node), the emitted IR nodes (shape-inferred as they are
 * made, so later ops such as Shape and Reshape see static sizes), and the attribute readers.
 * TF graphs are channels-last already (NHWC), so IR tensors and TF tensors have the same axis order.
 */
import type { ActivationSpec, KindParams, LayerKind, LayerNode, Shape, WeightTensor } from '../graph.js';
import { LINEAR } from '../graph.js';
import { LensError } from '../../errors.js';
import { IrBuilder } from './ir-builder.js';
import { kindOf } from '../kinds/registry.js';
import { TF_GRAPH_HINTS } from './refusal-hints.js';

/** One attribute value, normalized: strings decoded, int64 as numbers, dtypes as enum names. */
export interface TfAttr {
  s?: string;
  i?: number;
  f?: number;
  b?: boolean;
  /** 'DT_FLOAT', 'DT_INT32', ... */
  type?: string;
  /** Dims with null for unknown (-1); null for an unknown rank. */
  shape?: (number | null)[] | null;
  list?: { s?: string[]; i?: number[]; f?: number[]; type?: string[] };
  /** An inline tensor value (a Const's value when the container holds it inline). */
  tensor?: WeightTensor;
}

export interface TfNode {
  name: string;
  op: string;
  /** Data inputs "node" or "node:k", and control inputs "^node". */
  input: string[];
  attr: Record<string, TfAttr>;
  device?: string;
}

/**
 * A constant. `data` is float32 (int32 values are exact below 2^24, which covers shapes and axes);
 * NaN marks a size known only at run time (the batch), from folding Shape of an activation.
 */
export interface ConstT {
  shape: number[];
  data: Float32Array;
}

export interface Act {
  /** IR node holding the tensor. */
  node: string;
  /** Its shape, batch first (null = unknown). */
  shape: Shape;
}

export type Value = { c: ConstT; a?: undefined } | { a: Act; c?: undefined };

/** The translation of one TF node: its value (a constant, or an activation held by an IR node). */
export type Handler = (g: Importer, n: TfNode) => Value;

/** What to do instead of an op graph LRP Lens cannot translate. */
export const CONVERT_HINT = TF_GRAPH_HINTS.UNSUPPORTED_OP as string;

/** "name", "name:0" -> ["name", 0]; "^name" (control) -> null. */
/** A node's data inputs, in order: control inputs ('^name') only order execution and carry no value. */
export function dataRefs(inputs: readonly string[]): string[] {
  return inputs.filter((r) => !r.startsWith('^'));
}

export function parseRef(ref: string): [string, number] | null {
  if (ref.startsWith('^')) return null;
  const m = /^(.*):(\d+)$/.exec(ref);
  return m ? [m[1], Number(m[2])] : [ref, 0];
}

export class Importer extends IrBuilder {
  readonly values = new Map<string, Value>();
  /** Data consumers of each TF node's output (graph outputs count as one each). */
  readonly uses = new Map<string, number>();
  /** IR node -> the TF value it currently stands for; a fold into the node is safe only from that value. */
  readonly owner = new Map<string, string>();

  /** Add an IR node and infer its output shape from its inputs now. */
  emit<K extends LayerKind>(
    kind: K,
    base: string,
    inbound: Act[],
    params: KindParams[K],
    opts: { weights?: Record<string, WeightTensor>; activation?: ActivationSpec; className: string; owner: string; shape?: Shape },
  ): Act {
    const name = this.uniqueName(base);
    const node = {
      name,
      kind,
      inbound: inbound.map((a) => a.node),
      params,
      weights: opts.weights ?? {},
      activation: opts.activation ?? { ...LINEAR },
      outputShape: opts.shape ?? [],
      source: { className: opts.className },
    } as unknown as LayerNode;
    let shape: Shape;
    try {
      shape = kindOf(node).inferShape(node as never, inbound.map((a) => a.shape));
    } catch (e) {
      if (e instanceof LensError) throw new LensError(e.code, e.message, { file: this.file, layer: e.layer ?? base, hint: e.hint });
      this.fail('UNSUPPORTED_CONFIG', `node ${base} (${opts.className}) has a configuration that cannot be used: ${(e as Error).message}`, base);
    }
    node.outputShape = shape;
    this.nodes.push(node);
    this.byName.set(name, node);
    this.owner.set(name, opts.owner);
    return { node: name, shape };
  }

  /** The value behind input `i` of `n` (data inputs only), or GRAPH_INVALID. */
  input(n: TfNode, i: number): Value {
    const ref = n.input[i];
    if (ref === undefined) this.fail('GRAPH_INVALID', `node ${n.name} (${n.op}) lacks its input ${i}`, n.name);
    const p = parseRef(ref);
    if (!p) this.fail('GRAPH_INVALID', `node ${n.name} (${n.op}): input ${i} is a control input`, n.name);
    const v = this.values.get(p[0]);
    if (!v) this.fail('GRAPH_INVALID', `node ${n.name} reads "${ref}", which is not defined`, n.name);
    if (p[1] !== 0) this.fail('UNSUPPORTED_CONFIG', `node ${n.name} reads output ${p[1]} of ${p[0]}; only first outputs are supported`, n.name, CONVERT_HINT);
    return v;
  }

  /** TF name of input `i` (without ":0"). */
  inputName(n: TfNode, i: number): string {
    return (parseRef(n.input[i] ?? '') ?? [''])[0];
  }

  act(n: TfNode, i: number, what = 'input'): Act {
    const v = this.input(n, i);
    if (!v.a) this.fail('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}): its ${what} is a constant; only ops on the model's input are supported`, n.name);
    return v.a;
  }

  const(n: TfNode, i: number, what: string): ConstT {
    const v = this.input(n, i);
    if (!v.c) this.fail('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}): its ${what} is computed at run time; it must be a constant`, n.name, CONVERT_HINT);
    return v.c;
  }

  /** Integer entries of a constant (shapes, axes, paddings); NaN stays NaN (a run-time size). */
  ints(n: TfNode, i: number, what: string): number[] {
    const c = this.const(n, i, what);
    const out = Array.from(c.data);
    if (out.some((v) => !Number.isNaN(v) && !Number.isInteger(v))) this.fail('UNSUPPORTED_CONFIG', `node ${n.name} (${n.op}): ${what} must be integers`, n.name);
    return out;
  }

  /**
   * The IR node a bias, scale or activation may be folded into: the node holding input `i` of `n`, when
   * it was made for exactly that TF value and nothing else reads that value.
   */
  foldTarget(n: TfNode, i: number, a: Act): LayerNode | undefined {
    const from = this.inputName(n, i);
    if (this.owner.get(a.node) !== from || (this.uses.get(from) ?? 0) !== 1) return undefined;
    return this.node(a.node);
  }

  /** Map node `n` to `a` (an op that changes nothing, or a fold into a.node, which now stands for `n`). */
  pass(n: TfNode, a: Act, folded: boolean): Value {
    if (folded) this.owner.set(a.node, n.name);
    return { a };
  }
}

// ---- attributes ----------------------------------------------------------------------------------

export function attrS(n: TfNode, key: string, dflt?: string): string | undefined {
  return n.attr[key]?.s ?? dflt;
}

export function attrI(n: TfNode, key: string, dflt?: number): number | undefined {
  return n.attr[key]?.i ?? dflt;
}

export function attrF(n: TfNode, key: string, dflt?: number): number | undefined {
  return n.attr[key]?.f ?? dflt;
}

export function attrB(n: TfNode, key: string, dflt = false): boolean {
  return n.attr[key]?.b ?? dflt;
}

export function attrInts(n: TfNode, key: string): number[] | undefined {
  return n.attr[key]?.list?.i;
}

/** Per-sample element count, null when a dim is unknown. */
export function perSample(shape: Shape): number | null {
  let k = 1;
  for (const d of shape.slice(1)) {
    if (d === null) return null;
    k *= d;
  }
  return k;
}

/** Axis in [0, rank) from a possibly negative TF axis; undefined when out of range. */
export function normAxis(axis: number, rank: number): number | undefined {
  const a = axis < 0 ? axis + rank : axis;
  return Number.isInteger(a) && a >= 0 && a < rank ? a : undefined;
}
