/**
 * Protobuf descriptors for the parts of TensorFlow's SavedModel, checkpoint and Keras-metadata
 * messages that LRP Lens reads, and their decoding with errors mapped to LensErrors. Only the fields
 * used are declared; protobufjs skips the rest (the GraphDef, functions, signatures).
 *
 * Field numbers transcribed from TensorFlow's tensorflow/core/protobuf/{saved_model, meta_graph,
 * saved_object_graph, trackable_object_graph, tensor_bundle}.proto, tensorflow/core/framework/
 * {tensor_shape, types, versions}.proto and keras/protobuf/saved_metadata.proto.
 * Copyright The TensorFlow Authors, Apache License 2.0.
 */
import protobuf from 'protobufjs';
import { LensError } from '../../errors.js';

type F = { type: string; id: number; rule?: 'repeated' };
const f = (type: string, id: number): F => ({ type, id });
const rep = (type: string, id: number): F => ({ type, id, rule: 'repeated' });
const map = (type: string, id: number) => ({ keyType: 'string', type, id });
const msg = (fields: Record<string, F | ReturnType<typeof map>>) => ({ fields });

const ROOT = protobuf.Root.fromJSON({
  nested: {
    tf: {
      nested: {
        VersionDef: msg({ producer: f('int32', 1), min_consumer: f('int32', 2) }),
        TensorShapeProto: msg({ dim: rep('Dim', 2), unknown_rank: f('bool', 3) }),
        Dim: msg({ size: f('int64', 1), name: f('string', 2) }),
        SavedModel: msg({ saved_model_schema_version: f('int64', 1), meta_graphs: rep('MetaGraphDef', 2) }),
        MetaGraphDef: msg({ meta_info_def: f('MetaInfoDef', 1), object_graph_def: f('SavedObjectGraph', 7) }),
        // The same message with the op graph and signatures, decoded only for models without a Keras config.
        MetaGraphDefWithGraph: msg({
          meta_info_def: f('MetaInfoDef', 1), graph_def: f('GraphDef', 2), signature_def: map('SignatureDef', 5), object_graph_def: f('SavedObjectGraph', 7),
        }),
        SavedModelWithGraph: msg({ saved_model_schema_version: f('int64', 1), meta_graphs: rep('MetaGraphDefWithGraph', 2) }),
        SignatureDef: msg({ inputs: map('TensorInfo', 1), outputs: map('TensorInfo', 2), method_name: f('string', 3) }),
        TensorInfo: msg({ name: f('string', 1), dtype: f('int32', 2) }),
        GraphDef: msg({ node: rep('NodeDef', 1), library: f('FunctionDefLibrary', 2) }),
        NodeDef: msg({ name: f('string', 1), op: f('string', 2), input: rep('string', 3), attr: map('AttrValue', 5) }),
        AttrValue: msg({
          list: f('ListValue', 1), s: f('bytes', 2), i: f('int64', 3), f: f('float', 4), b: f('bool', 5), type: f('int32', 6),
          shape: f('TensorShapeProto', 7), tensor: f('TensorProto', 8), func: f('NameAttrList', 10),
        }),
        ListValue: msg({ s: rep('bytes', 2), i: rep('int64', 3), f: rep('float', 4), b: rep('bool', 5), type: rep('int32', 6) }),
        NameAttrList: msg({ name: f('string', 1) }),
        TensorProto: msg({
          dtype: f('int32', 1), tensor_shape: f('TensorShapeProto', 2), tensor_content: f('bytes', 4), float_val: rep('float', 5),
          double_val: rep('double', 6), int_val: rep('int32', 7), int64_val: rep('int64', 10), bool_val: rep('bool', 11),
        }),
        FunctionDefLibrary: msg({ function: rep('FunctionDef', 1) }),
        FunctionDef: msg({ signature: f('OpDef', 1), node_def: rep('NodeDef', 3), ret: map('string', 4) }),
        OpDef: msg({ name: f('string', 1), input_arg: rep('ArgDef', 2), output_arg: rep('ArgDef', 3) }),
        ArgDef: msg({ name: f('string', 1) }),
        MetaInfoDef: msg({ meta_graph_version: f('string', 1), tags: rep('string', 4), tensorflow_version: f('string', 5) }),
        SavedObjectGraph: msg({ nodes: rep('SavedObject', 1) }),
        ObjectReference: msg({ node_id: f('int32', 1), local_name: f('string', 2) }),
        SavedObject: msg({
          children: rep('ObjectReference', 1),
          user_object: f('SavedUserObject', 4),
          variable: f('SavedVariable', 7),
        }),
        SavedUserObject: msg({ identifier: f('string', 1), version: f('VersionDef', 2), metadata: f('string', 3) }),
        SavedVariable: msg({ dtype: f('int32', 1), shape: f('TensorShapeProto', 2), name: f('string', 6) }),
        TrackableObjectGraph: msg({ nodes: rep('TrackableObject', 1) }),
        TrackableObject: msg({ children: rep('ObjectReference', 1), attributes: rep('SerializedTensor', 2) }),
        SerializedTensor: msg({ name: f('string', 1), full_name: f('string', 2), checkpoint_key: f('string', 3) }),
        BundleHeaderProto: msg({ num_shards: f('int32', 1), endianness: f('int32', 2), version: f('VersionDef', 3) }),
        // `slices` (TensorSliceProto) only needs counting: a partitioned variable is refused.
        BundleEntryProto: msg({
          dtype: f('int32', 1), shape: f('TensorShapeProto', 2), shard_id: f('int32', 3), offset: f('int64', 4),
          size: f('int64', 5), crc32c: f('fixed32', 6), slices: rep('bytes', 7),
        }),
        KerasMetadata: msg({ nodes: rep('KerasSavedObject', 1) }),
        KerasSavedObject: msg({
          node_id: f('int32', 2), node_path: f('string', 3), identifier: f('string', 4), metadata: f('string', 5),
        }),
      },
    },
  },
});

// Plain shapes of the decoded messages (toObject with longs as numbers and defaults filled).
export interface TensorShape { dim: { size: number; name: string }[]; unknown_rank: boolean }
export interface ObjectReference { node_id: number; local_name: string }
export interface SavedObject {
  children: ObjectReference[];
  user_object?: { identifier: string; metadata: string };
  variable?: { dtype: number; shape?: TensorShape; name: string };
}
export interface SavedModel {
  saved_model_schema_version: number;
  meta_graphs: { meta_info_def?: { tags: string[]; tensorflow_version: string }; object_graph_def?: { nodes: SavedObject[] } }[];
}
export interface TrackableObject {
  children: ObjectReference[];
  attributes: { name: string; full_name: string; checkpoint_key: string }[];
}
export interface TrackableObjectGraph { nodes: TrackableObject[] }
export interface BundleHeader { num_shards: number; endianness: number }
export interface BundleEntry {
  dtype: number; shape?: TensorShape; shard_id: number; offset: number; size: number; crc32c: number; slices: Uint8Array[];
}
export interface TensorProto {
  dtype: number; tensor_shape?: TensorShape; tensor_content: Uint8Array; float_val: number[]; double_val: number[];
  int_val: number[]; int64_val: number[]; bool_val: boolean[];
}
export interface AttrValue {
  list?: { s: Uint8Array[]; i: number[]; f: number[]; b: boolean[]; type: number[] };
  s: Uint8Array; i: number; f: number; b: boolean; type: number; shape?: TensorShape; tensor?: TensorProto; func?: { name: string };
}
export interface NodeDef { name: string; op: string; input: string[]; attr: Record<string, AttrValue> }
export interface FunctionDef {
  signature?: { name: string; input_arg: { name: string }[]; output_arg: { name: string }[] };
  node_def: NodeDef[];
  ret: Record<string, string>;
}
export interface SignatureDef { inputs: Record<string, { name: string }>; outputs: Record<string, { name: string }>; method_name: string }
export interface SavedModelWithGraph {
  saved_model_schema_version: number;
  meta_graphs: (SavedModel['meta_graphs'][number] & {
    graph_def?: { node: NodeDef[]; library?: { function: FunctionDef[] } };
    signature_def: Record<string, SignatureDef>;
  })[];
}
export interface KerasMetadata { nodes: { node_id: number; node_path: string; identifier: string; metadata: string }[] }

export interface ProtoTypes {
  SavedModel: SavedModel;
  TrackableObjectGraph: TrackableObjectGraph;
  BundleHeaderProto: BundleHeader;
  BundleEntryProto: BundleEntry;
  KerasMetadata: KerasMetadata;
  SavedModelWithGraph: SavedModelWithGraph;
}

/** Decode one message; malformed bytes give TRUNCATED or CORRUPT naming `what`. */
export function decodeProto<K extends keyof ProtoTypes>(name: K, bytes: Uint8Array, what: string, file: string): ProtoTypes[K] {
  const type = ROOT.lookupType(`tf.${name}`);
  try {
    const m = type.decode(bytes);
    return type.toObject(m, { longs: Number, defaults: true, arrays: true }) as ProtoTypes[K];
  } catch (e) {
    const text = e instanceof Error ? e.message : String(e);
    if (/call stack/i.test(text)) throw new LensError('CORRUPT', `${what} nests messages too deeply`, { file });
    if (e instanceof RangeError || /index out of range/i.test(text)) throw new LensError('TRUNCATED', `${what} ends early or is malformed: ${text}`, { file });
    throw new LensError('CORRUPT', `${what} is not a valid protobuf message: ${text}`, { file });
  }
}

/** Dimensions of a TensorShapeProto; unknown rank or unknown (-1) sizes are refused by the caller via null. */
export function shapeDims(s: TensorShape | undefined): number[] | null {
  if (!s) return [];
  if (s.unknown_rank) return null;
  const out: number[] = [];
  for (const d of s.dim) {
    if (!Number.isSafeInteger(d.size) || d.size < 0) return null;
    out.push(d.size);
  }
  return out;
}

/** Encode a message from its plain form (tests write damaged or edited copies of real files with it). */
export function encodeProto<K extends keyof ProtoTypes>(name: K, value: ProtoTypes[K]): Uint8Array {
  const type = ROOT.lookupType(`tf.${name}`);
  return type.encode(type.fromObject(value as unknown as Record<string, unknown>)).finish();
}
