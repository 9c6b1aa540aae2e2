/**
 * Writes Keras-layout HDF5 files with h5wasm: full models in Keras 2 style (`model_weights/<l>/<l>/kernel:0`)
 * or Keras 3 style (no `:0`, an extra `<model>/` scope), weights-only files (Keras 2 `save_weights`, Keras 3
 * `layers/<l>/vars/<i>`), and the reverse: a plain reader of a Keras 2 file's config and weights.
 * Used to build test fixtures, samples and fuzz inputs; never by the loaders.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import h5wasm from 'h5wasm/node';
import type { Group } from 'h5wasm';
import { kerasWeightOrder, varsPathOf } from '../formats/keras-config.js';
import type { JsonValue } from '../../json/located-json.js';

type Obj = { [k: string]: JsonValue };
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

export interface NamedWeight {
  /** Short Keras name: kernel, bias, gamma, depthwise_kernel, ... */
  name: string;
  shape: number[];
  data: Float32Array;
}

/** Weights per layer name, in Keras' order for the layer class. */
export type LayerWeights = Record<string, NamedWeight[]>;

export interface KerasH5Options {
  style: 'keras2' | 'keras3';
  kerasVersion?: string;
  /** Keras 3: the scope weight paths start with (the model's name). */
  scope?: string;
  /** Layers in model order (layer_names attribute); defaults to the keys of `weights`. */
  layerNames?: string[];
}

function setStrings(g: Group, name: string, values: string[]): void {
  // Keras writes an empty float array when a list is empty.
  if (values.length === 0) g.create_attribute(name, new Float64Array(0));
  else g.create_attribute(name, values);
}

function groupAt(g: Group, path: string[]): Group {
  let cur = g;
  for (const seg of path) {
    const existing = cur.keys().includes(seg) ? cur.get(seg) : null;
    cur = existing instanceof h5wasm.Group ? existing : cur.create_group(seg);
  }
  return cur;
}

function writeDataset(g: Group, path: string, w: NamedWeight): void {
  const parts = path.split('/');
  const leaf = parts.pop() as string;
  groupAt(g, parts).create_dataset({ name: leaf, data: w.data, shape: w.shape, dtype: '<f' });
}

function writeLegacyWeights(root: Group, weights: LayerWeights, opts: KerasH5Options): void {
  const version = opts.kerasVersion ?? (opts.style === 'keras2' ? '2.11.0' : '3.3.3');
  const names = opts.layerNames ?? Object.keys(weights);
  setStrings(root, 'layer_names', names);
  root.create_attribute('backend', 'tensorflow');
  root.create_attribute('keras_version', version);
  // Keras writes layer groups sorted by name.
  for (const layer of [...names].sort()) {
    const g = root.create_group(layer);
    const ws = weights[layer] ?? [];
    const paths = ws.map((w) => (opts.style === 'keras2' ? `${layer}/${w.name}:0` : `${opts.scope ?? 'sequential'}/${layer}/${w.name}`));
    setStrings(g, 'weight_names', paths);
    ws.forEach((w, i) => writeDataset(g, paths[i], w));
  }
  if (opts.style === 'keras3') setStrings(root.create_group('top_level_model_weights'), 'weight_names', []);
}

/** A full-model `.h5` (`model.save`) in Keras 2 or Keras 3 layout. */
export async function writeKerasH5(path: string, modelConfig: unknown, weights: LayerWeights, opts: KerasH5Options): Promise<void> {
  await h5wasm.ready;
  mkdirSync(dirname(path), { recursive: true });
  const f = new h5wasm.File(path, 'w');
  try {
    const version = opts.kerasVersion ?? (opts.style === 'keras2' ? '2.11.0' : '3.3.3');
    f.create_attribute('backend', 'tensorflow');
    f.create_attribute('keras_version', version);
    f.create_attribute('model_config', JSON.stringify(modelConfig));
    writeLegacyWeights(f.create_group('model_weights'), weights, opts);
  } finally {
    f.close();
  }
}

/**
 * A weights-only `.h5`: Keras 2 `save_weights` layout, or Keras 3 saving_lib's `layers/<group>/vars/<i>`
 * where the group is the snake-cased class with a repeat count, in the order of `modelConfig`'s layers
 * (`nameAttrs` adds the `name` attribute newer Keras writes on each vars group).
 */
export async function writeKerasWeightsH5(
  path: string,
  weights: LayerWeights,
  opts: KerasH5Options & { layout: 'legacy' | 'vars'; modelConfig?: unknown; nameAttrs?: boolean; optimizerVars?: number },
): Promise<void> {
  await h5wasm.ready;
  mkdirSync(dirname(path), { recursive: true });
  const f = new h5wasm.File(path, 'w');
  try {
    if (opts.layout === 'legacy') writeLegacyWeights(f, weights, opts);
    else {
      if (!isObj(opts.modelConfig)) throw new Error('the vars layout needs the model config (group names follow its layer order)');
      const layers = f.create_group('layers');
      const counts = new Map<string, number>();
      for (const [name, { className, config }] of layerClasses(opts.modelConfig)) {
        const k = counts.get(className) ?? 0;
        counts.set(className, k + 1);
        const ws = weights[name];
        if (!ws || ws.length === 0) continue;
        const vars = layers.create_group(varsPathOf({ className, classIndex: k })).create_group('vars');
        if (opts.nameAttrs) vars.create_attribute('name', name);
        orderedForVars(className, config, ws).forEach((w, i) => vars.create_dataset({ name: String(i), data: w.data, shape: w.shape, dtype: '<f' }));
      }
      f.create_group('vars');
      // Optimizer state the loader must ignore.
      const ov = f.create_group('optimizer').create_group('vars');
      for (let i = 0; i < (opts.optimizerVars ?? 0); i++) ov.create_dataset({ name: String(i), data: new Float32Array([i]), shape: [1], dtype: '<f' });
    }
  } finally {
    f.close();
  }
}

/** Read a Keras 2 full-model `.h5` plainly (config + weights by `weight_names`), for re-saving in other layouts. */
export async function readKerasH5Raw(path: string): Promise<{ config: Obj; weights: LayerWeights; layerNames: string[] }> {
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'r');
  try {
    const config = JSON.parse(String(f.attrs.model_config.value)) as Obj;
    const mw = f.get('model_weights') as Group;
    const layerNames = (mw.attrs.layer_names.value as string[]).map(String);
    const weights: LayerWeights = {};
    for (const layer of layerNames) {
      const g = mw.get(layer) as Group;
      const wn = g.attrs.weight_names?.value;
      const list = Array.isArray(wn) ? (wn as string[]) : [];
      if (list.length === 0) continue;
      weights[layer] = list.map((p) => {
        const ds = g.get(p) as InstanceType<typeof h5wasm.Dataset>;
        return { name: (p.split('/').pop() as string).replace(/:\d+$/, ''), shape: ds.shape ?? [], data: Float32Array.from(ds.value as Float32Array) };
      });
    }
    return { config, weights, layerNames };
  } finally {
    f.close();
  }
}

// ---------------------------------------------------------------------------------------------------
// Keras 2 config -> Keras 3 config (the style Keras 3 writes into .h5 and .keras files)

function policy(dtype: JsonValue | undefined): JsonValue {
  const name = typeof dtype === 'string' ? dtype : 'float32';
  return { module: 'keras', class_name: 'DTypePolicy', config: { name }, registered_name: null };
}

function kerasTensor(ref: JsonValue): JsonValue {
  const r = ref as JsonValue[];
  return { class_name: '__keras_tensor__', config: { shape: null, dtype: 'float32', keras_history: [r[0], r[1], r[2]] } };
}

/** Rewrite a Keras 2 model config in Keras 3's style (batch_shape, dtype policies, module, args/keras_history). */
export function kerasConfigToV3(k2: Obj): Obj {
  const cfg = k2.config as Obj;
  const functional = k2.class_name !== 'Sequential';
  const layers = (cfg.layers as Obj[]).map((l) => {
    const c: Obj = { ...(l.config as Obj) };
    if (l.class_name === 'InputLayer') {
      c.batch_shape = c.batch_input_shape;
      delete c.batch_input_shape;
      delete c.ragged;
    } else {
      delete c.batch_input_shape;
      c.dtype = policy(c.dtype);
    }
    if (l.class_name === 'LeakyReLU' && 'alpha' in c) {
      c.negative_slope = c.alpha;
      delete c.alpha;
    }
    const out: Obj = { module: 'keras.layers', class_name: l.class_name, config: c, registered_name: null };
    if (functional) {
      out.name = c.name;
      const nodes = (l.inbound_nodes as JsonValue[][][]) ?? [];
      out.inbound_nodes = nodes.map((node) => {
        const tensors = node.map(kerasTensor);
        return { args: tensors.length === 1 ? [tensors[0]] : [tensors], kwargs: {} };
      });
    }
    return out;
  });
  const flat = (v: JsonValue): JsonValue => (Array.isArray(v) && v.length === 1 ? v[0] : v);
  const config: Obj = { name: cfg.name, trainable: true, dtype: policy('float32'), layers };
  if (functional) {
    config.input_layers = flat(cfg.input_layers);
    config.output_layers = flat(cfg.output_layers);
  }
  return {
    module: functional ? 'keras.src.models.functional' : 'keras',
    class_name: functional ? 'Functional' : 'Sequential',
    config,
    registered_name: functional ? 'Functional' : null,
  };
}

/** The layer's weights in the order Keras 3 stores them as vars/0..n. */
export function orderedForVars(className: string, config: Obj, ws: NamedWeight[]): NamedWeight[] {
  const order = kerasWeightOrder(className, config);
  if (order.length === 0) return ws;
  return order.map((n) => {
    const w = ws.find((x) => x.name === n || (n === 'depthwise_kernel' && x.name === 'kernel'));
    if (!w) throw new Error(`no weight ${n} among ${ws.map((x) => x.name).join(', ')}`);
    return w;
  });
}

/** Layer class by name in a (Keras 2 or 3) model config. */
export function layerClasses(cfg: Obj): Map<string, { className: string; config: Obj }> {
  const out = new Map<string, { className: string; config: Obj }>();
  const c = cfg.config;
  const layers = Array.isArray(c) ? c : isObj(c) && Array.isArray(c.layers) ? c.layers : [];
  for (const l of layers) {
    if (!isObj(l) || !isObj(l.config)) continue;
    out.set(String(l.config.name ?? l.name), { className: String(l.class_name), config: l.config });
  }
  return out;
}
