/**
 * Writes one ONNX graph (opset 13, float32) with the project's onnx-proto/protobufjs classes, the same ones
 * the ONNX reader decodes with (model/formats/onnx-proto.ts). Names are made unique here; constants become
 * initializers. Tensors inside the lowering are held channels-first (NC..., ONNX's own layout) whatever the
 * IR's layout, so `toChannelsFirst` / `toChannelsLast` convert where the IR's channels-last semantics matter.
 */
import onnxProto from 'onnx-proto';

const onnx = onnxProto.onnx;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
export const OPSET = 13;

export type AttrValue = number | number[] | string | { ints: number[] } | { float: number };

export interface IoSpec {
  name: string;
  /** Dimensions; a string is a symbolic dimension (the batch, 'N'). */
  dims: (number | string)[];
  doc?: string;
}

export class GraphWriter {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly inits: onnxProto.onnx.ITensorProto[] = [];
  private readonly used = new Set<string>();
  private readonly scalars = new Map<string, string>();
  private readonly byContent = new Map<string, { name: string; bytes: Uint8Array }[]>();

  /** A fresh value name starting with `base`. */
  name(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./-]/g, '_');
    let n = clean;
    for (let i = 1; this.used.has(n); i++) n = `${clean}_${i}`;
    this.used.add(n);
    return n;
  }

  /** Reserve a name exactly (graph inputs and outputs). */
  reserve(name: string): string {
    if (this.used.has(name)) throw new Error(`ONNX value name ${name} is taken`);
    this.used.add(name);
    return name;
  }

  /** One node; returns its first output's name (or all of them with `outs` > 1 via op()). */
  op(type: string, inputs: string[], attrs: Record<string, AttrValue> = {}, base = type.toLowerCase(), outs = 1): string[] {
    const outputs = Array.from({ length: outs }, (_, i) => this.name(outs === 1 ? base : `${base}.${i}`));
    this.nodes.push({ opType: type, input: inputs, output: outputs, name: this.name(`n.${base}`), attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)) });
    return outputs;
  }

  /** op() for single-output nodes. */
  o(type: string, inputs: string[], attrs: Record<string, AttrValue> = {}, base?: string): string {
    return this.op(type, inputs, attrs, base)[0];
  }

  /** A node writing into a given (reserved) output name. */
  opInto(type: string, inputs: string[], output: string, attrs: Record<string, AttrValue> = {}): void {
    this.nodes.push({ opType: type, input: inputs, output: [output], name: this.name(`n.${output}`), attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)) });
  }

  /** A float32 initializer; one with the same dims and bytes as an earlier one is that one (VJP kernels often equal the forward's). */
  floats(base: string, data: Float32Array, dims: number[]): string {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    const key = `${dims.join('x')}:${fnv(bytes)}`;
    for (const prev of this.byContent.get(key) ?? []) {
      if (equalBytes(prev.bytes, bytes)) return prev.name;
    }
    const n = this.name(base);
    this.inits.push({ name: n, dataType: FLOAT, dims, rawData: bytes });
    this.byContent.set(key, [...(this.byContent.get(key) ?? []), { name: n, bytes }]);
    return n;
  }

  /** An int64 initializer (shapes, axes, pads). */
  ints(base: string, data: number[]): string {
    const n = this.name(base);
    const buf = new BigInt64Array(data.map((v) => BigInt(v)));
    this.inits.push({ name: n, dataType: INT64, dims: [data.length], rawData: new Uint8Array(buf.buffer).slice() });
    return n;
  }

  /** A float scalar initializer, shared per value. */
  scalar(v: number): string {
    const key = Object.is(v, -0) ? '-0' : String(v);
    let n = this.scalars.get(key);
    if (!n) {
      n = this.floats(`c${key}`, Float32Array.of(v), []);
      this.scalars.set(key, n);
    }
    return n;
  }

  /** Encode a model with these graph inputs and outputs. */
  encode(graphName: string, inputs: IoSpec[], outputs: IoSpec[], meta: Record<string, string>): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 7,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'lrp-lens',
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.inits,
        input: inputs.map(valueInfo),
        output: outputs.map(valueInfo),
      },
      metadataProps: Object.entries(meta).map(([key, value]) => ({ key, value })),
    });
    return onnx.ModelProto.encode(model).finish();
  }

  get nodeCount(): number {
    return this.nodes.length;
  }
}

function fnv(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function valueInfo(s: IoSpec): onnxProto.onnx.IValueInfoProto {
  return {
    name: s.name,
    docString: s.doc,
    type: { tensorType: { elemType: FLOAT, shape: { dim: s.dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  };
}

function attr(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: ${v} is not an integer (use {float})`);
    return { name, type: T.INT, i: v };
  }
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  return { name, type: T.INTS, ints: v.ints };
}

/** Permutation taking a channels-last tensor of this rank to channels-first (N, C, spatial...). */
export function clToCf(rank: number): number[] {
  return [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
}

/** Permutation taking channels-first to channels-last. */
export function cfToCl(rank: number): number[] {
  return [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
}

/** Internal (channels-first) shape of an IR (channels-last) shape; rank 2 and below unchanged. */
export function cfShape<T>(shape: T[]): T[] {
  if (shape.length < 3) return [...shape];
  return clToCf(shape.length).map((i) => shape[i]);
}

export function toChannelsFirst(w: GraphWriter, t: string, rank: number): string {
  return rank < 3 ? t : w.o('Transpose', [t], { perm: clToCf(rank) }, 'to_cf');
}

export function toChannelsLast(w: GraphWriter, t: string, rank: number): string {
  return rank < 3 ? t : w.o('Transpose', [t], { perm: cfToCl(rank) }, 'to_cl');
}
