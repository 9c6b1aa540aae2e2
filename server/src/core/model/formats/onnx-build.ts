/**
 * State of one ONNX -> IR translation: what each ONNX value is (a constant, or an activation held by an
 * IR node), and how an activation's IR (channels-last) tensor relates to the ONNX tensor.
 *
 * `axes[i]` is the ONNX axis held in IR axis i. A PyTorch NCHW tensor held channels-last has axes
 * [0, 2, 3, 1]; a keras2onnx NHWC input before its Transpose has axes [0, 1, 2, 3]. An ONNX Transpose
 * then only changes `axes` (no IR node), and a Permute node is inserted only where a consumer needs
 * another arrangement.
 */
import type { ActivationSpec, KindParams, LayerKind, LayerNode, Shape, WeightTensor } from '../graph.js';
import { LINEAR } from '../graph.js';
import { IrBuilder } from './ir-builder.js';
import type { ConstValue } from './onnx-proto.js';

export interface Act {
  /** IR node holding the tensor. */
  node: string;
  /** Shape in ONNX axis order, batch first (null = unknown). */
  shape: Shape;
  /** IR axis i holds ONNX axis axes[i]. */
  axes: number[];
}

export type Value = { c: ConstValue; a?: undefined } | { a: Act; c?: undefined };

export function identityAxes(rank: number): number[] {
  return [...Array(rank).keys()];
}

/** NC..-> N..C: the IR arrangement of a PyTorch tensor. */
export function channelsLastAxes(rank: number): number[] {
  if (rank < 3) return identityAxes(rank);
  return [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
}

export function sameAxes(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function irShape(a: Act): Shape {
  return a.axes.map((x) => a.shape[x]);
}

/** True when the IR tensor's memory order equals the ONNX tensor's (size-1 axes do not matter). */
export function sameOrder(a: Act): boolean {
  const big = a.axes.filter((x) => a.shape[x] !== 1);
  return big.every((v, i) => i === 0 || big[i - 1] < v);
}

export class Builder extends IrBuilder {
  readonly values = new Map<string, Value>();
  /** IR node -> the ONNX value it was made for (to know when folding into it is safe). */
  readonly origin = new Map<string, string>();
  /** Constant value -> the ONNX nodes that computed it (Constant, Shape, Gather, ...), for source.onnxNodes. */
  readonly constSrc = new Map<string, string[]>();
  private readonly permutes = new Map<string, string>();

  remove(name: string): void {
    const i = this.nodes.findIndex((n) => n.name === name);
    if (i >= 0) this.nodes.splice(i, 1);
    this.byName.delete(name);
  }

  emit<K extends LayerKind>(
    kind: K,
    base: string,
    inbound: string[],
    params: KindParams[K],
    opts: { weights?: Record<string, WeightTensor>; activation?: ActivationSpec; className: string; onnxNodes?: string[]; outShape: Shape; origin?: string },
  ): string {
    const name = this.uniqueName(base);
    const node = {
      name,
      kind,
      inbound,
      params,
      weights: opts.weights ?? {},
      activation: opts.activation ?? { ...LINEAR },
      outputShape: opts.outShape,
      source: { className: opts.className, ...(opts.onnxNodes ? { onnxNodes: opts.onnxNodes } : {}) },
    } as unknown as LayerNode;
    this.nodes.push(node);
    this.byName.set(name, node);
    if (opts.origin) this.origin.set(name, opts.origin);
    return name;
  }

  get(name: string): Value | undefined {
    return this.values.get(name);
  }

  /** The activation behind `name`, or a refusal naming the node. */
  act(name: string, where: string, what = 'input'): Act {
    const v = this.values.get(name);
    if (!v) this.fail('GRAPH_INVALID', `node ${where} reads "${name}", which is not defined`, where);
    if (!v.a) this.fail('UNSUPPORTED_CONFIG', `node ${where}: its ${what} "${name}" is a constant; only layers on the model's input are supported`, where);
    // Batch not first: a time-major value around an ONNX RNN/LSTM/GRU (onnx-op-recurrent.ts); other ops cannot take it.
    if (v.a.axes[0] !== 0) {
      this.fail('UNSUPPORTED_CONFIG', `node ${where}: its ${what} "${name}" is time-major (batch not on the first axis); only the Transpose, Reshape and Squeeze around a recurrent op are supported on it`, where, 'export with batch_first=True so the recurrent output is transposed back to [batch, time, ...]');
    }
    return v.a;
  }

  /** The constant behind `name`, or undefined when it is absent ("" or missing). */
  constOpt(name: string | undefined, where: string, what: string): ConstValue | undefined {
    if (!name) return undefined;
    const v = this.values.get(name);
    if (!v) this.fail('GRAPH_INVALID', `node ${where} reads "${name}", which is not defined`, where);
    if (!v.c) this.fail('UNSUPPORTED_CONFIG', `node ${where}: its ${what} "${name}" is computed at run time; it must be a constant (initializer)`, where);
    return v.c;
  }

  constReq(name: string | undefined, where: string, what: string): ConstValue {
    const c = this.constOpt(name, where, what);
    if (!c) this.fail('GRAPH_INVALID', `node ${where} lacks its ${what}`, where);
    return c;
  }

  floatOf(c: ConstValue): Float32Array {
    if (c.float) return c.float;
    return Float32Array.from(c.ints!.map((v) => (typeof v === 'number' ? v : NaN)));
  }

  /** `a` rearranged so that IR axis i holds ONNX axis want[i]; inserts a Permute node when needed. */
  arrange(a: Act, want: number[], where: string): Act {
    if (sameAxes(a.axes, want)) return a;
    if (a.axes[0] !== want[0]) this.fail('UNSUPPORTED_CONFIG', `node ${where} would move the batch axis`, where);
    const dims = want.slice(1).map((w) => a.axes.indexOf(w));
    // One Permute per (tensor, arrangement), however many consumers need it.
    const key = `${a.node}\u0000${dims.join(',')}`;
    const done = this.permutes.get(key);
    if (done) return { node: done, shape: a.shape, axes: [...want] };
    const out: Act = { node: '', shape: a.shape, axes: [...want] };
    out.node = this.emit('Permute', `${where}/permute`, [a.node], { dims }, { className: 'Transpose', outShape: irShape(out) });
    this.permutes.set(key, out.node);
    return out;
  }
}
