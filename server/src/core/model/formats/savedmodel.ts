/**
 * TensorFlow SavedModel directories written by Keras (`model.save('dir')`, TF 2.x), read without
 * TensorFlow: `saved_model.pb` (SavedModel -> MetaGraphDef -> SavedObjectGraph), the Keras metadata
 * (`keras_metadata.pb` from TF 2.5 on, the object graph's user-object metadata before), and the
 * `variables/` checkpoint. The Keras model config goes through the common Keras builder; each layer's
 * weights are found through the object graphs (savedmodel-objects.ts). A SavedModel without a Keras
 * config (a subclassed model, Keras 3 `model.export()`, a tf.Module) is read through its serving
 * signature's op graph (savedmodel-graph.ts); where that fails too, the refusal says why and what to do.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { LensError } from '../../errors.js';
import type { FormatInfo, ModelGraph, WeightTensor } from '../graph.js';
import { savedModelGraph } from './savedmodel-graph.js';
import type { FormatModule } from './format.js';
import { buildKerasGraph, kerasMajor, type RawWeight, type WeightProvider } from './keras-config.js';
import { parseJson, type JsonValue } from '../../json/located-json.js';
import { decodeProto, type SavedObject } from './savedmodel-proto.js';
import { SAVED_MODEL_FILE } from '../model-file-names.js';
import { Checkpoint, readBounded } from './tf-checkpoint.js';
import { checkpointVariables, fullNameIndex, ObjectPaths, variablesByFullName, walkPath, type LayerVariable } from './savedmodel-objects.js';

const KERAS_METADATA_FILE = 'keras_metadata.pb';
/** saved_model.pb holds the traced functions too; real Keras models stay far below this. */
const MAX_PB_BYTES = 1024 * 1024 * 1024;
const MAX_OBJECTS = 1_000_000;

/** What to do with a SavedModel LRP Lens cannot read as a Keras model. */
const RESAVE_HINT =
  "load it in TensorFlow and re-save it with model.save('model.keras') (or 'model.h5'), or convert it with tensorflowjs_converter --input_format=tf_saved_model or python -m tf2onnx.convert --saved-model DIR, and open the result";

type Obj = { [key: string]: JsonValue };
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** TF's Keras metadata JSON writes tuples and TensorShapes as {"class_name": "__tuple__", "items": [...]}; make them lists. */
export function untuple(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(untuple);
  if (!isObj(v)) return v;
  if ((v.class_name === '__tuple__' || v.class_name === 'TensorShape') && Array.isArray(v.items) && Object.keys(v).length === 2) {
    return v.items.map(untuple);
  }
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) out[k] = untuple(x);
  return out;
}

interface KerasObject {
  identifier: string;
  metadata: string;
}

/** Keras metadata per object-graph node id: keras_metadata.pb when present, else the user objects' metadata. */
function kerasObjects(dir: string, objects: SavedObject[]): Map<number, KerasObject> {
  const out = new Map<number, KerasObject>();
  const metaFile = join(dir, KERAS_METADATA_FILE);
  if (existsSync(metaFile)) {
    const meta = decodeProto('KerasMetadata', readBounded(metaFile, MAX_PB_BYTES, 'Keras metadata'), KERAS_METADATA_FILE, metaFile);
    for (const n of meta.nodes) {
      if (n.node_id < 0 || n.node_id >= objects.length) throw new LensError('CORRUPT', `${KERAS_METADATA_FILE} names object ${n.node_id}, which saved_model.pb does not have`, { file: metaFile });
      if (n.metadata) out.set(n.node_id, { identifier: n.identifier, metadata: n.metadata });
    }
    return out;
  }
  objects.forEach((o, i) => {
    const u = o.user_object;
    if (u && u.metadata) out.set(i, { identifier: u.identifier, metadata: u.metadata });
  });
  return out;
}

function refuseNoKeras(file: string, why: string): never {
  throw new LensError('NO_ARCHITECTURE', `${why}; LRP Lens reads SavedModels that Keras wrote with their layer config`, { file, hint: RESAVE_HINT });
}

/** The Keras model config `{class_name, config}` from the root object's metadata, or a refusal saying why there is none. */
function modelConfigOf(root: KerasObject | undefined, file: string): { config: Obj; version: string | undefined } {
  if (!root || !root.identifier.startsWith('_tf_keras')) {
    refuseNoKeras(file, 'this SavedModel has no Keras model config (it holds TensorFlow functions only, as Keras 3 model.export(), tf.saved_model.save of a tf.Module or TF 1.x write it)');
  }
  const meta = untuple(parseJson(root.metadata, file));
  if (!isObj(meta)) throw new LensError('BAD_JSON', 'the Keras metadata of the model is not a JSON object', { file });
  const cls = meta.class_name;
  const layers = isObj(meta.config) ? meta.config.layers : undefined;
  const version = typeof meta.keras_version === 'string' ? meta.keras_version : undefined;
  if ((cls === 'Sequential' || cls === 'Functional' || cls === 'Model') && Array.isArray(layers)) {
    return { config: { class_name: cls, config: meta.config as Obj }, version };
  }
  const name = typeof cls === 'string' ? cls : 'unknown';
  refuseNoKeras(file, `the model is a subclassed Keras model (class ${name}), whose layers and their connections are Python code the SavedModel does not describe`);
}

/** Object-graph node per Keras layer name (the one nearest the root where a name repeats). */
function layerNodes(objects: Map<number, KerasObject>, paths: ObjectPaths, file: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const [id, o] of objects) {
    if (id === 0 || !o.identifier.startsWith('_tf_keras_') || o.identifier === '_tf_keras_metric') continue;
    const path = paths.pathTo(id);
    if (!path) continue;
    let name: unknown;
    try {
      const m = parseJson(o.metadata, file);
      name = isObj(m) ? m.name : undefined;
    } catch {
      continue; // a layer whose metadata does not parse cannot be matched; a missing weight says so later
    }
    if (typeof name !== 'string') continue;
    const prev = out.get(name);
    if (prev === undefined || (paths.pathTo(prev)?.length ?? Infinity) > path.length) out.set(name, id);
  }
  return out;
}

export interface SavedModelOptions {
  /** Read the serving signature's op graph even when a Keras config is there (tests compare the two). */
  opGraph?: boolean;
}

export async function loadSavedModel(path: string, opts: SavedModelOptions = {}): Promise<ModelGraph> {
  const file = path;
  const dir = dirname(file);
  const pb = readBounded(file, MAX_PB_BYTES, SAVED_MODEL_FILE);
  const sm = decodeProto('SavedModel', pb, SAVED_MODEL_FILE, file);
  if (sm.meta_graphs.length === 0) throw new LensError('CORRUPT', `${SAVED_MODEL_FILE} has no meta graph`, { file });
  const metaIndex = Math.max(0, sm.meta_graphs.findIndex((m) => m.meta_info_def?.tags.includes('serve')));
  const mg = sm.meta_graphs[metaIndex];
  const objects = mg.object_graph_def?.nodes ?? [];
  if (objects.length === 0) refuseNoKeras(file, 'this is a TF 1.x SavedModel (no object graph, no Keras metadata)');
  if (objects.length > MAX_OBJECTS) throw new LensError('SHAPE_LIMIT', `${SAVED_MODEL_FILE} declares ${objects.length} objects, more than ${MAX_OBJECTS}`, { file });
  const paths = new ObjectPaths(objects, `${SAVED_MODEL_FILE} object graph`, file);
  const keras = kerasObjects(dir, objects);
  let model: { config: Obj; version: string | undefined } | undefined;
  let noKeras: LensError | undefined;
  try {
    model = modelConfigOf(keras.get(0), file);
  } catch (e) {
    if (!(e instanceof LensError) || e.code !== 'NO_ARCHITECTURE') throw e;
    noKeras = e;
  }

  const ckpt = new Checkpoint(join(dir, 'variables', 'variables'));
  const ckptNodes = ckpt.objectGraph().nodes;
  new ObjectPaths(ckptNodes, 'checkpoint object graph', ckpt.indexFile); // checks every child reference
  let byFullName: Map<string, string | null> | undefined;
  const fullNames = () => (byFullName ??= fullNameIndex(ckptNodes));
  const tf = mg.meta_info_def?.tensorflow_version;

  if (!model || opts.opGraph) {
    // No Keras config: the serving signature's op graph, variables by name through the object graphs.
    const varIds = new Map<string, number>();
    objects.forEach((o, i) => {
      if (o.variable && !varIds.has(o.variable.name)) varIds.set(o.variable.name, i);
    });
    const variable = (name: string): WeightTensor | undefined => {
      const id = varIds.get(name);
      const p = id === undefined ? undefined : paths.pathTo(id);
      const ck = p ? walkPath(ckptNodes, p) : undefined;
      const key = (ck !== undefined ? ckptNodes[ck].attributes.find((a) => a.name === 'VARIABLE_VALUE')?.checkpoint_key : undefined) ?? fullNames().get(name);
      if (!key) return undefined;
      const d = ckpt.describe(key, name);
      return { shape: d.shape, data: ckpt.readFloat32(key, name) };
    };
    const withGraph = decodeProto('SavedModelWithGraph', pb, SAVED_MODEL_FILE, file);
    const format: FormatInfo = { name: 'savedmodel', version: tf ?? 'unknown', producer: `TensorFlow ${tf ?? 'unknown'} (op graph of the serving signature)` };
    try {
      return savedModelGraph({ sm: withGraph, metaIndex, variable, file, name: basename(dir), format });
    } catch (e) {
      if (!noKeras || !(e instanceof LensError)) throw e;
      // Say both: why there is no Keras config, and what stopped the op graph.
      throw new LensError(e.code, `${noKeras.message}; its serving signature's op graph cannot be read either: ${e.message}`, { file, layer: e.layer, hint: RESAVE_HINT });
    }
  }

  const { config, version } = model;
  const byLayer = layerNodes(keras, paths, file);
  const weights: WeightProvider = (layer) => {
    const id = byLayer.get(layer);
    if (id === undefined) return null;
    const p = paths.pathTo(id) as string[];
    const ck = walkPath(ckptNodes, p);
    let vars: LayerVariable[] = ck === undefined ? [] : checkpointVariables(ckptNodes, ck);
    if (vars.length === 0) vars = variablesByFullName(objects, id, fullNames());
    return vars.map((v): RawWeight => {
      const d = ckpt.describe(v.key, layer);
      return { name: v.name, shape: d.shape, read: () => ckpt.readFloat32(v.key, layer) };
    });
  };
  const kv = version ?? 'unknown';
  return buildKerasGraph(config, {
    file,
    format: { name: 'savedmodel', version: kv, producer: `Keras ${kv}${tf ? ` (TensorFlow ${tf})` : ''}` },
    weights,
    kerasMajor: kerasMajor(version),
  });
}

export const savedModelFormat: FormatModule = {
  name: 'savedmodel',
  detect: (path) => basename(path) === SAVED_MODEL_FILE,
  load: (path) => loadSavedModel(path),
};

export const format = savedModelFormat;
export default savedModelFormat;
