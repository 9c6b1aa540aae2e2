/**
 * A small ONNX writer for constructed test fixtures (encodes with onnx-proto / protobufjs). Not a
 * general exporter: just enough to write the graphs PyTorch, keras2onnx and broken files contain.
 */
import { writeFileSync } from 'node:fs';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const AT = onnx.AttributeProto.AttributeType;

/** Attribute value: integer -> INT, other number -> FLOAT, arrays likewise, string -> STRING. */
export type AttrValue = number | string | number[] | { f: number } | { floats: number[] } | { tensor: onnxProto.onnx.ITensorProto };

export type DimSpec = number | string;

export interface InitOptions {
  /** Store as int64 (shapes, axes) instead of float32. */
  int64?: boolean;
  /** Write values in float_data / int64_data instead of raw_data. */
  typed?: boolean;
  /** Override the declared dims (to write inconsistent files). */
  dims?: number[];
  /** Keep only this many raw bytes (to write a short tensor). */
  rawBytes?: number;
}

export function floatTensor(name: string, dims: number[], values: ArrayLike<number>, opts: InitOptions = {}): onnxProto.onnx.ITensorProto {
  const t: onnxProto.onnx.ITensorProto = { name, dims: opts.dims ?? dims };
  if (opts.int64) {
    t.dataType = onnx.TensorProto.DataType.INT64;
    if (opts.typed) t.int64Data = Array.from(values);
    else {
      const buf = new DataView(new ArrayBuffer(values.length * 8));
      for (let i = 0; i < values.length; i++) buf.setBigInt64(i * 8, BigInt(values[i]), true);
      t.rawData = new Uint8Array(buf.buffer);
    }
  } else {
    t.dataType = onnx.TensorProto.DataType.FLOAT;
    if (opts.typed) t.floatData = Array.from(values);
    else t.rawData = new Uint8Array(Float32Array.from(values).buffer);
  }
  if (opts.rawBytes !== undefined && t.rawData) t.rawData = t.rawData.subarray(0, opts.rawBytes);
  return t;
}

function attribute(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  if (typeof v === 'number') return Number.isInteger(v) ? { name, type: AT.INT, i: v } : { name, type: AT.FLOAT, f: v };
  if (typeof v === 'string') return { name, type: AT.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return v.every((x) => Number.isInteger(x)) ? { name, type: AT.INTS, ints: v } : { name, type: AT.FLOATS, floats: v };
  if ('f' in v) return { name, type: AT.FLOAT, f: v.f };
  if ('floats' in v) return { name, type: AT.FLOATS, floats: v.floats };
  return { name, type: AT.TENSOR, t: v.tensor };
}

function valueInfo(name: string, dims: DimSpec[] | undefined, elemType = 1): onnxProto.onnx.IValueInfoProto {
  const tensorType: onnxProto.onnx.TypeProto.ITensor = { elemType };
  if (dims) tensorType.shape = { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
  return { name, type: { tensorType } };
}

export class OnnxBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly inits: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private counter = 0;
  /** ModelProto.ir_version written (8 = ONNX 1.10..1.13; 10 = ONNX 1.16, opset 21). */
  irVersion = 8;

  constructor(readonly opset = 13, readonly producer = 'pytorch', readonly producerVersion = '2.1.0') {}

  input(name: string, dims: DimSpec[], elemType = 1): this {
    this.inputs.push(valueInfo(name, dims, elemType));
    return this;
  }

  output(name: string, dims?: DimSpec[]): this {
    this.outputs.push(valueInfo(name, dims));
    return this;
  }

  init(name: string, dims: number[], values: ArrayLike<number>, opts: InitOptions = {}): string {
    this.inits.push(floatTensor(name, dims, values, opts));
    return name;
  }

  /** An initializer whose data lives in an external file (`location` relative to the model). */
  external(name: string, dims: number[], location: string, offset: number, length: number): string {
    this.inits.push({
      name, dims, dataType: onnx.TensorProto.DataType.FLOAT, dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [{ key: 'location', value: location }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(length) }],
    });
    return name;
  }

  /** Add a node; returns its first output name (auto-named when not given). */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, opts: { name?: string; outputs?: string[]; domain?: string } = {}): string {
    const id = this.counter++;
    const outputs = opts.outputs ?? [`${opType.toLowerCase()}_${id}_out`];
    this.nodes.push({
      name: opts.name ?? `/${opType}_${id}`,
      opType,
      input: inputs,
      output: outputs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      ...(opts.domain ? { domain: opts.domain } : {}),
    });
    return outputs[0];
  }

  /** Reorder stored nodes (keras2onnx writes them out of topological order). */
  reverseNodes(): this {
    this.nodes.reverse();
    return this;
  }

  encode(): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: this.irVersion,
      producerName: this.producer,
      producerVersion: this.producerVersion,
      opsetImport: [{ domain: '', version: this.opset }],
      graph: { name: 'test_graph', node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs },
    });
    return onnx.ModelProto.encode(model).finish();
  }

  write(path: string): string {
    writeFileSync(path, this.encode());
    return path;
  }
}
