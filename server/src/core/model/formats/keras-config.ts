/**
 * Keras model config (Keras 2, Keras 3, tfjs-layers) -> ModelGraph. Every Keras-family loader (HDF5,
 * .keras zip, to_json pair, TF.js layers) parses its container, then hands the config and a weight
 * provider to `buildKerasGraph`. This module reads the layer list and its structure (Sequential chains,
 * Functional calls, shared layers) and attaches weights; each layer class is mapped to IR nodes by its
 * handler in the table of keras-layers.ts.
 *
 * Choices: a channels_first layer runs channels-last between two generated Permute nodes
 * (`<name>/to_channels_last`, `<name>/to_channels_first`); back-to-back pairs cancel, and a pair at a model
 * input or output becomes that spec's file layout (NCHW...), so `predict` keeps the file's layout. A shared
 * layer (several inbound nodes) becomes one node per call (`<name>`, `<name>_1`, ...) with copies of the
 * same weights.
 */
import { LensError, LIMITS } from '../../errors.js';
import type { FormatInfo, LayerNode, ModelGraph, Shape, TensorSpec, WeightTensor, OmittedLayer } from '../graph.js';
import { channelsLastLayout } from '../graph.js';
import type { JsonValue } from '../../json/located-json.js';
import { type KerasLayoutFixups, moveToLastDims, inverseDims, newFixups, permuteNode, settleKerasLayouts } from './keras-layout.js';
import { customLayerMessage, omitCustomLayers } from './keras-custom-layers.js';
import { CONV_RANK, GLOBAL_POOL, isSupportedClass, mapLayer } from './keras-layers.js';
import { type LayerEntry, type LayerPlace, type LayerRef, type Mapped, type Obj, Ctx, bool, checkChannelsLast, checkDim, isObj } from './keras-layer-util.js';

export type { LayerPlace } from './keras-layer-util.js';

/** One weight as a container lists it: the name it stores (any prefix, `:0` suffix) and its shape. */
export interface RawWeight {
  name: string;
  shape: number[];
  /** Read the values (called only after the shape was checked). */
  read(): Float32Array;
}

/** The weights a container holds for a layer, in stored order; null when the layer has no weight group. */
export type WeightProvider = (layerName: string, place: LayerPlace) => RawWeight[] | null;

/** Keras' naming.to_snake_case (Conv2D -> conv2d, BatchNormalization -> batch_normalization). */
export function kerasSnakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** The group path Keras 3 saving_lib gives a layer inside `layers/`: snake-cased class, `_k` for the k-th repeat. */
export function varsPathOf(place: LayerPlace): string {
  const base = kerasSnakeCase(place.className);
  return place.classIndex === 0 ? base : `${base}_${place.classIndex}`;
}

export interface KerasBuildOptions {
  file: string;
  format: FormatInfo;
  weights: WeightProvider;
  /** Character range of a config object in a JSON model file (for source.jsonRange). */
  rangeOf?: (v: unknown) => [number, number] | undefined;
  /** 3 for Keras 3 files (hard_sigmoid slope differs); 2 otherwise. */
  kerasMajor?: number;
}

// ---------------------------------------------------------------------------------------------------
// layer list and graph structure

/** Each call of a layer (one per inbound node) -> the tensors it reads. */
function inboundCalls(ctx: Ctx, layer: string, nodes: unknown): LayerRef[][] {
  if (nodes === undefined || nodes === null) return [];
  if (!Array.isArray(nodes)) ctx.err('GRAPH_INVALID', `layer ${layer}: inbound_nodes is not a list`, layer);
  if (nodes.length > LIMITS.maxNodes) ctx.err('SHAPE_LIMIT', `layer ${layer} is called ${nodes.length} times, more than ${LIMITS.maxNodes}`, layer);
  return nodes.map((call) => callRefs(ctx, layer, call));
}

function callRefs(ctx: Ctx, layer: string, call: unknown): LayerRef[] {
  const out: LayerRef[] = [];
  const ref = (name: unknown, nodeIndex: unknown, tensorIndex: unknown): void => {
    if (typeof name !== 'string') ctx.err('GRAPH_INVALID', `layer ${layer}: bad inbound reference ${JSON.stringify(name)}`, layer);
    const c = nodeIndex === undefined || nodeIndex === null ? 0 : nodeIndex;
    if (typeof c !== 'number' || !Number.isInteger(c) || c < 0) ctx.err('GRAPH_INVALID', `layer ${layer}: bad node index ${JSON.stringify(nodeIndex)} for layer ${name}`, layer);
    if (tensorIndex !== 0 && tensorIndex !== undefined) {
      ctx.err('UNSUPPORTED_CONFIG', `layer ${layer} uses output ${String(tensorIndex)} of layer ${name}; multi-output layers are not supported`, layer, `rebuild the model so ${name} has one output, or export it to ONNX`);
    }
    out.push({ name, call: c });
  };
  if (isObj(call)) {
    // Keras 3: {"args": [...], "kwargs": {...}} with __keras_tensor__ objects anywhere inside args.
    const walk = (v: unknown, depth: number): void => {
      if (depth > 32) ctx.err('GRAPH_INVALID', `layer ${layer}: inbound node nests too deeply`, layer);
      if (Array.isArray(v)) for (const x of v) walk(x, depth + 1);
      else if (isObj(v)) {
        if (v.class_name === '__keras_tensor__' && isObj(v.config) && Array.isArray(v.config.keras_history)) {
          const h = v.config.keras_history;
          ref(h[0], h[1], h[2]);
        } else for (const x of Object.values(v)) walk(x, depth + 1);
      }
    };
    walk(call.args, 0);
    return out;
  }
  if (!Array.isArray(call)) ctx.err('GRAPH_INVALID', `layer ${layer}: cannot read inbound node ${JSON.stringify(call)}`, layer);
  // Keras 2 / tfjs: [["name", nodeIndex, tensorIndex, {kwargs}], ...]
  for (const r of call) {
    if (!Array.isArray(r)) ctx.err('GRAPH_INVALID', `layer ${layer}: cannot read inbound reference ${JSON.stringify(r)}`, layer);
    ref(r[0], r[1], r[2]);
  }
  return out;
}

/** `[["name", 0, 0], ...]` or (Keras 3, single tensor) `["name", 0, 0]`. */
function endpointRefs(ctx: Ctx, v: unknown, what: string): LayerRef[] {
  if (!Array.isArray(v)) return ctx.err('GRAPH_INVALID', `model config has no ${what} list`);
  const one = (name: string, call: unknown, tensor?: unknown): LayerRef => {
    // A layer with several outputs (an RNN with return_state): only its main output can be a model output.
    if (typeof tensor === 'number' && tensor !== 0) {
      ctx.err('UNSUPPORTED_CONFIG', `model ${what} uses output ${tensor} of layer ${name}; only a layer's main output is supported (an RNN's states from return_state are not)`, name, 'make the model output the main (sequence or last) output of the layer, and re-save');
    }
    return { name, call: typeof call === 'number' && Number.isInteger(call) && call >= 0 ? call : 0 };
  };
  if (v.length > 0 && typeof v[0] === 'string') return [one(v[0], v[1], v[2])];
  return v.map((r) => {
    if (Array.isArray(r) && typeof r[0] === 'string') return one(r[0], r[1], r[2]);
    if (isObj(r)) {
      // Keras 3 may write dict-style endpoints as keras tensors.
      const h = isObj(r.config) ? r.config.keras_history : undefined;
      if (Array.isArray(h) && typeof h[0] === 'string') return one(h[0], h[1], h[2]);
    }
    return ctx.err('GRAPH_INVALID', `model config: bad ${what} entry ${JSON.stringify(r)}`);
  });
}

/**
 * One entry per call of every layer: a shared layer's k-th call (k >= 1) becomes `<name>_k` (or
 * `<name>/call_k` where that name is taken), reading the same stored weights; `resolve` names the node of a
 * (layer, call) reference.
 */
function expandCalls(ctx: Ctx, entries: LayerEntry[]): { calls: LayerEntry[]; resolve: (r: LayerRef, from: string) => string } {
  const taken = new Set(entries.map((e) => e.name));
  const callNames = new Map<string, string[]>();
  const total = entries.reduce((k, e) => k + Math.max(1, e.calls?.length ?? 0), 0);
  if (total > LIMITS.maxNodes) ctx.err('SHAPE_LIMIT', `the model's layers are called ${total} times in all, more than ${LIMITS.maxNodes}`);
  for (const e of entries) {
    const names = [e.name];
    for (let i = 1; i < (e.calls?.length ?? 0); i++) {
      let nm = `${e.name}_${i}`;
      for (let j = 0; taken.has(nm); j++) nm = `${e.name}/call_${i}${j ? `_${j}` : ''}`;
      taken.add(nm);
      names.push(nm);
    }
    callNames.set(e.name, names);
  }
  const resolve = (r: LayerRef, from: string): string => {
    const names = callNames.get(r.name);
    if (!names) return ctx.err('GRAPH_INVALID', `layer ${from} takes its input from ${r.name}, which is not in the model`, from);
    if (r.call >= names.length) {
      return ctx.err('GRAPH_INVALID', `layer ${from} reads call ${r.call} of layer ${r.name}, which is called ${names.length} time(s)`, from);
    }
    return names[r.call];
  };
  const calls: LayerEntry[] = [];
  for (const e of entries) {
    const names = callNames.get(e.name) as string[];
    names.forEach((name, i) => {
      const inbound = (e.calls?.[i] ?? []).map((r) => resolve(r, name));
      calls.push({ ...e, name, inbound, weightsOf: e.name });
    });
  }
  return { calls, resolve };
}

/** Run a channels_first layer channels-last: Permute its input to channels-last and its output back. */
function wrapChannelsFirst(ctx: Ctx, e: LayerEntry, m: Mapped, alias: Map<string, string>, fix: KerasLayoutFixups): void {
  if (e.className === 'Flatten') {
    fix.cfFlatten.add(e.name);
    return;
  }
  const spatial = /([123])D/.exec(e.className);
  if (!spatial) {
    ctx.err('UNSUPPORTED_CONFIG', `layer ${e.name} (${e.className}) uses data_format channels_first, which is not supported for this class`, e.name, "re-save the model with data_format='channels_last'");
  }
  const rank = Number(spatial[1]) + 2;
  const toLast = moveToLastDims(rank, 1);
  const pre = permuteNode(`${e.name}/to_channels_last`, e.inbound, toLast, e.className);
  fix.generated.add(pre.name);
  for (const nd of m.nodes) if (nd.inbound === e.inbound) nd.inbound = [pre.name];
  m.nodes.unshift(pre);
  // Global pooling without keepdims leaves [batch, channels]: the same in both formats.
  if (e.className in GLOBAL_POOL && !bool(e.config.keepdims, false)) return;
  const post = permuteNode(`${e.name}/to_channels_first`, [e.name], inverseDims(toLast), e.className);
  fix.generated.add(post.name);
  fix.post.add(post.name);
  m.nodes.push(post);
  alias.set(e.name, post.name);
}

function shapeOf(ctx: Ctx, layer: string, v: unknown): Shape {
  if (!Array.isArray(v)) return ctx.err('UNSUPPORTED_CONFIG', `layer ${layer}: input shape ${JSON.stringify(v)} is not a list`, layer);
  let prod = 1;
  const s = v.map((d) => {
    if (d === null) return null;
    const n = checkDim(ctx, layer, 'input dimension', d, true);
    prod *= n;
    return n;
  });
  if (prod > LIMITS.maxTensorElements) ctx.err('SHAPE_LIMIT', `layer ${layer}: input shape [${s}] holds more than ${LIMITS.maxTensorElements} elements per sample`, layer);
  return s;
}

function inputShapeOf(c: Obj): unknown {
  return c.batch_input_shape ?? c.batch_shape ?? (Array.isArray(c.input_shape) ? [null, ...c.input_shape] : undefined);
}

/** SavedModel keras_metadata writes tuples as {"class_name": "__tuple__", "items": [...]}: read them as lists (in place). */
function untuple(v: Obj | JsonValue[], depth: number): void {
  if (depth > 16) return;
  const entries: [string | number, JsonValue][] = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
  for (const [k, x] of entries) {
    if (isObj(x) && x.class_name === '__tuple__' && Array.isArray(x.items)) {
      (v as Record<string | number, JsonValue>)[k] = x.items;
      untuple(x.items, depth + 1);
    } else if (isObj(x) || Array.isArray(x)) untuple(x, depth + 1);
  }
}

function readEntry(ctx: Ctx, raw: unknown, index: number): LayerEntry {
  if (!isObj(raw)) return ctx.err('GRAPH_INVALID', `layer entry ${index} is not an object`);
  const className = raw.class_name;
  if (typeof className !== 'string' || className.length === 0) return ctx.err('GRAPH_INVALID', `layer entry ${index} has no class_name`);
  const config = isObj(raw.config) ? raw.config : {};
  untuple(config, 0);
  const name = typeof raw.name === 'string' ? raw.name : typeof config.name === 'string' ? config.name : `${className.toLowerCase()}_${index}`;
  // Keras 3 marks where a class comes from; anything outside Keras is user code.
  const module = raw.module;
  const registered = raw.registered_name;
  const kerasModule = typeof module !== 'string' || /^(keras|tf_keras|tensorflow\.keras|tensorflow\.python\.keras)(\.|$)/.test(module);
  const customRegistered = typeof registered === 'string' && registered.includes('>');
  const entry: LayerEntry = { className, name, config, raw, inbound: [] };
  if ((!kerasModule || customRegistered) && className !== 'Lambda') {
    entry.custom = customLayerMessage(name, className, ` from ${typeof module === 'string' ? `module ${module}` : `registered name ${String(registered)}`}`, config);
  }
  return entry;
}

/** Nodes in dependency order, keeping the file's order where it already is one (iterative DFS). */
function topoSort(ctx: Ctx, nodes: LayerNode[]): LayerNode[] {
  const byName = new Map<string, number>();
  nodes.forEach((nd, i) => {
    if (byName.has(nd.name)) ctx.err('GRAPH_INVALID', `two layers are named ${nd.name}`, nd.name);
    byName.set(nd.name, i);
  });
  for (const nd of nodes) {
    for (const s of nd.inbound) {
      if (!byName.has(s)) ctx.err('GRAPH_INVALID', `layer ${nd.name} takes its input from ${s}, which is not in the model`, nd.name);
    }
  }
  const state = new Uint8Array(nodes.length); // 0 new, 1 on stack, 2 done
  const out: LayerNode[] = [];
  for (let root = 0; root < nodes.length; root++) {
    if (state[root]) continue;
    const stack: [number, number][] = [[root, 0]];
    state[root] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1];
      const nd = nodes[top[0]];
      if (top[1] < nd.inbound.length) {
        const dep = byName.get(nd.inbound[top[1]++]) as number;
        if (state[dep] === 1) ctx.err('GRAPH_CYCLE', `the layer graph has a cycle through ${nodes[dep].name} and ${nd.name}`, nd.name);
        if (state[dep] === 0) {
          state[dep] = 1;
          stack.push([dep, 0]);
        }
      } else {
        state[top[0]] = 2;
        out.push(nd);
        stack.pop();
      }
    }
  }
  return out;
}

function shortName(stored: string): string {
  const last = stored.split('/').filter((s) => s.length > 0).pop() ?? stored;
  return last.replace(/:\d+$/, '');
}

/** Attach the container's weights to the mapped nodes, checking names, counts and shapes first. */
function attachWeights(ctx: Ctx, e: LayerEntry, m: Mapped, provider: WeightProvider, budget: { bytes: number }): void {
  if (m.slots.length === 0) return;
  const expected = m.slots.map((s) => s.aliases[0]).join(', ');
  const raw = provider(e.weightsOf ?? e.name, e.place ?? { className: e.className, classIndex: 0 });
  if (raw === null || raw.length === 0) {
    ctx.err('MISSING_WEIGHTS', `layer ${e.name} (${e.className}) has no weights in the file (expected ${expected})`, e.name);
  }
  const byShort = new Map<string, RawWeight>();
  for (const w of raw) byShort.set(shortName(w.name), w);
  const named = !m.ordered && m.slots.some((s) => s.aliases.some((a) => byShort.has(a)));
  const chosen: (RawWeight | undefined)[] = [];
  const needed = m.slots.filter((s) => !s.unused).length;
  if (named) {
    for (const s of m.slots) {
      const w = s.aliases.map((a) => byShort.get(a)).find((x) => x !== undefined);
      if (!w && !s.unused) ctx.err('MISSING_WEIGHTS', `layer ${e.name} (${e.className}): weight ${s.aliases[0]} is missing from the file`, e.name);
      chosen.push(w);
    }
  } else {
    // Keras 3 .keras stores vars/0..n: the order per class is the order of `slots` (unused ones last).
    if (raw.length < needed) {
      ctx.err('MISSING_WEIGHTS', `layer ${e.name} (${e.className}) has ${raw.length} weight(s), expected ${m.slots.length} (${expected}); ${m.slots[raw.length].aliases[0]} is missing`, e.name);
    }
    if (raw.length > m.slots.length) {
      ctx.err('WEIGHT_MISMATCH', `layer ${e.name} (${e.className}) has ${raw.length} weights, expected ${m.slots.length} (${expected})`, e.name);
    }
    chosen.push(...raw);
  }
  const shapes: Record<string, number[]> = {};
  const multi = new Set(m.slots.map((s) => s.node)).size > 1;
  m.slots.forEach((s, i) => {
    if (s.unused) return;
    const shape = (chosen[i] as RawWeight).shape;
    let elements = 1;
    for (const d of shape) elements *= d;
    if (elements > LIMITS.maxTensorElements) ctx.err('SHAPE_LIMIT', `layer ${e.name}: weight ${s.aliases[0]} of shape [${shape}] exceeds the size limit`, e.name);
    budget.bytes += elements * 4;
    if (budget.bytes > LIMITS.maxWeightBytes) ctx.err('SHAPE_LIMIT', `model weights exceed ${LIMITS.maxWeightBytes} bytes`, e.name);
    shapes[multi ? `${s.node}.${s.key}` : s.key] = shape;
  });
  const bad = m.check?.(shapes);
  if (bad) ctx.err('WEIGHT_MISMATCH', `layer ${e.name} (${e.className}): ${bad}`, e.name);
  m.slots.forEach((s, i) => {
    if (s.unused) return;
    const w = chosen[i] as RawWeight;
    const data = w.read();
    let elements = 1;
    for (const d of w.shape) elements *= d;
    if (data.length !== elements) ctx.err('WEIGHT_MISMATCH', `layer ${e.name}: weight ${s.aliases[0]} holds ${data.length} values, its shape [${w.shape}] needs ${elements}`, e.name);
    const target = m.nodes.find((nd) => nd.name === s.node) as LayerNode;
    target.weights[s.key] = { shape: [...w.shape], data } satisfies WeightTensor;
  });
}

/** The layers of a model and how they connect: entries in call order, model inputs and outputs. */
interface Topology {
  entries: LayerEntry[];
  inputNames: string[];
  outputNames: string[];
  inputShapes: Map<string, Shape>;
  /** Layers left out with a custom layer they need (Functional models only). */
  omitted: OmittedLayer[];
}

/** Sequential: each layer feeds the next; the input comes from an InputLayer or the first layer's shape. */
function sequentialTopology(ctx: Ctx, entries: LayerEntry[], cfg: unknown): Topology {
  const inputShapes = new Map<string, Shape>();
  const body = entries.filter((e, i) => !(e.className === 'InputLayer' && i > 0));
  if (body.length === 0) ctx.err('NO_ARCHITECTURE', 'the Sequential model has no layers');
  let prev: string;
  let inputEntry: LayerEntry;
  if (body[0].className === 'InputLayer') {
    inputEntry = body[0];
    prev = body[0].name;
    inputShapes.set(prev, shapeOf(ctx, prev, inputShapeOf(body[0].config)));
    body.shift();
  } else {
    const s = inputShapeOf(body[0].config) ?? (isObj(cfg) ? cfg.build_input_shape : undefined);
    if (s === undefined || s === null) ctx.err('UNSUPPORTED_CONFIG', 'the Sequential model declares no input shape (it was never built)', undefined, 'add an Input layer (keras.Input(shape=...)) or call the model once, then re-save');
    prev = `${body[0].name}_input`;
    inputShapes.set(prev, shapeOf(ctx, prev, s));
    // Its jsonRange is the first layer's entry, where the input shape is declared.
    inputEntry = { className: 'InputLayer', name: prev, config: {}, raw: body[0].raw, inbound: [], synthetic: true };
  }
  const inputNames = [prev];
  for (const e of body) {
    e.inbound = [prev];
    prev = e.name;
  }
  return { entries: [inputEntry, ...body], inputNames, outputNames: [prev], inputShapes, omitted: [] };
}

/** Functional: one entry per call of each layer, wired by inbound_nodes; custom layers cut out where the model allows. */
function functionalTopology(ctx: Ctx, entries: LayerEntry[], cfg: Obj): Topology {
  const inputShapes = new Map<string, Shape>();
  for (const e of entries) {
    // A class we refuse anyway is reported as such, even when its call (inbound_nodes) is unusual.
    if (!isSupportedClass(e.className) && e.custom === undefined) {
      try {
        mapLayer(ctx, e, undefined);
      } catch (err) {
        if (!(err instanceof LensError) || err.code !== 'CUSTOM_LAYER') throw err;
        e.custom = err.message;
      }
    }
    e.calls = inboundCalls(ctx, e.name, e.raw.inbound_nodes);
    if (e.className === 'InputLayer') inputShapes.set(e.name, shapeOf(ctx, e.name, inputShapeOf(e.config)));
  }
  const { calls, resolve } = expandCalls(ctx, entries);
  const inputNames = endpointRefs(ctx, cfg.input_layers, 'input_layers').map((r) => resolve(r, r.name));
  const outputNames = endpointRefs(ctx, cfg.output_layers, 'output_layers').map((r) => resolve(r, r.name));
  if (calls.some((e) => e.custom !== undefined)) {
    const cut = omitCustomLayers(calls, inputNames, outputNames);
    if (cut) return { entries: cut.entries, inputNames: cut.inputs, outputNames: cut.outputs, inputShapes, omitted: cut.omitted };
  }
  return { entries: calls, inputNames, outputNames, inputShapes, omitted: [] };
}

/** The model's layer entries with their place among layers of the same class (Keras 3 weight groups). */
function readEntries(ctx: Ctx, modelConfig: unknown): { cls: string; cfg: unknown; name: string; entries: LayerEntry[] } {
  if (!isObj(modelConfig)) return ctx.err('NO_ARCHITECTURE', 'the model config is not an object');
  const cls = modelConfig.class_name;
  const cfg = modelConfig.config;
  let layersRaw: unknown;
  let name = 'model';
  if (Array.isArray(cfg)) layersRaw = cfg; // list-style Sequential (Keras <= 2.1, early tfjs-layers)
  else if (isObj(cfg)) {
    layersRaw = cfg.layers;
    if (typeof cfg.name === 'string') name = cfg.name;
  }
  if (cls !== 'Sequential' && cls !== 'Functional' && cls !== 'Model') {
    if (typeof cls !== 'string') ctx.err('NO_ARCHITECTURE', 'the model config has no class_name');
    if (!Array.isArray(layersRaw)) ctx.err('UNSUPPORTED_CONFIG', `the file holds a ${cls}, not a Sequential or Functional model`);
    ctx.err('CUSTOM_LAYER', `the model class ${cls} is not a built-in Keras model class (a subclassed model)`, undefined, "rebuild it as a Functional or Sequential model of built-in layers and re-save, or export it to ONNX (tf2onnx)");
  }
  if (!Array.isArray(layersRaw)) return ctx.err('GRAPH_INVALID', 'the model config has no layer list');
  if (layersRaw.length > LIMITS.maxNodes) ctx.err('SHAPE_LIMIT', `the model declares ${layersRaw.length} layers, more than ${LIMITS.maxNodes}`);
  const entries = layersRaw.map((r, i) => readEntry(ctx, r, i));
  const classCount = new Map<string, number>();
  for (const e of entries) {
    const k = classCount.get(e.className) ?? 0;
    e.place = { className: e.className, classIndex: k };
    classCount.set(e.className, k + 1);
  }
  return { cls, cfg, name, entries };
}

/**
 * A Keras model config (`{"class_name": "Sequential" | "Functional" | "Model", "config": ...}`) and its
 * weights -> ModelGraph (outputShape left [] for shape inference).
 */
export function buildKerasGraph(modelConfig: unknown, opts: KerasBuildOptions): ModelGraph {
  const ctx = new Ctx(opts.file, opts.kerasMajor ?? 2, opts.format.name === 'tfjs-layers');
  const model = readEntries(ctx, modelConfig);
  const { entries, inputNames, inputShapes, omitted, ...topo } = model.cls === 'Sequential'
    ? sequentialTopology(ctx, model.entries, model.cfg)
    : functionalTopology(ctx, model.entries, model.cfg as Obj);
  let outputNames = topo.outputNames;

  // Map every layer (refusals come in file order), then sort and load weights.
  const mapped = new Map<string, { e: LayerEntry; m: Mapped }>();
  let nodes: LayerNode[] = [];
  const fix = newFixups();
  const alias = new Map<string, string>();
  for (const e of entries) {
    if (e.className !== 'InputLayer' && e.inbound.length === 0) {
      ctx.err('GRAPH_INVALID', `layer ${e.name} has no input`, e.name);
    }
    if (e.custom !== undefined) ctx.err('CUSTOM_LAYER', e.custom, e.name);
    const range = opts.rangeOf?.(e.raw);
    const m = mapLayer(ctx, e, range);
    if (checkChannelsLast(ctx, e)) wrapChannelsFirst(ctx, e, m, alias, fix);
    if (m.broadcast) fix.broadcast.add(e.name);
    mapped.set(e.name, { e, m });
    nodes.push(...m.nodes);
  }
  const outputFileNames = [...outputNames];
  if (alias.size > 0) {
    // Consumers of a channels_first layer read the Permute back to channels-first after it.
    for (const nd of nodes) if (!fix.post.has(nd.name)) nd.inbound = nd.inbound.map((i) => alias.get(i) ?? i);
    outputNames = outputNames.map((o) => alias.get(o) ?? o);
  }
  if (nodes.length > LIMITS.maxNodes) ctx.err('SHAPE_LIMIT', `the model has more than ${LIMITS.maxNodes} nodes`);
  nodes = topoSort(ctx, nodes);

  const budget = { bytes: 0 };
  for (const { e, m } of mapped.values()) {
    attachWeights(ctx, e, m, opts.weights, budget);
    if (m.finish?.()) fix.broadcast.add(e.name);
  }

  const nodeNames = new Set(nodes.map((n) => n.name));
  const inputs: TensorSpec[] = inputNames.map((name) => {
    const nd = nodes.find((n) => n.name === name);
    if (!nd || nd.kind !== 'Input') return ctx.err('GRAPH_INVALID', `model input ${name} is not an InputLayer`, name);
    const shape = inputShapes.get(name) ?? [];
    return { node: name, fileName: name, fileShape: shape, fileLayout: channelsLastLayout(shape) };
  });
  const outputs: TensorSpec[] = outputNames.map((name, i) => {
    if (!nodeNames.has(name)) return ctx.err('GRAPH_INVALID', `model output ${name} is not a layer of the model`, name);
    return { node: name, fileName: outputFileNames[i], fileShape: [], fileLayout: 'other' };
  });
  if (inputs.length === 0) ctx.err('GRAPH_INVALID', 'the model has no input');
  if (outputs.length === 0) ctx.err('GRAPH_INVALID', 'the model has no output');
  const graph: ModelGraph = { file: opts.file, name: model.name, format: opts.format, inputs, outputs, nodes };
  if (omitted.length > 0) graph.omitted = omitted;
  settleKerasLayouts(graph, fix);
  return graph;
}

/** Major version of a Keras version string ("2.11.0" -> 2, "3.3.3" -> 3, "tfjs-layers 1.3.2" -> 2). */
export function kerasMajor(version: string | undefined): number {
  const m = version ? /^(\d+)\./.exec(version) : null;
  return m ? Number(m[1]) : 2;
}

/** Short names of the weights a Keras 3 `.keras` / `.weights.h5` stores per layer class, in order (for writers). */
export function kerasWeightOrder(className: string, config: Obj): string[] {
  const useBias = bool(config.use_bias, true);
  if (className === 'Dense' || className in CONV_RANK) return useBias ? ['kernel', 'bias'] : ['kernel'];
  if (className === 'DepthwiseConv2D' || className === 'DepthwiseConv1D') return useBias ? ['depthwise_kernel', 'bias'] : ['depthwise_kernel'];
  if (className.startsWith('SeparableConv')) return useBias ? ['depthwise_kernel', 'pointwise_kernel', 'bias'] : ['depthwise_kernel', 'pointwise_kernel'];
  if (className === 'BatchNormalization') {
    const out: string[] = [];
    if (bool(config.scale, true)) out.push('gamma');
    if (bool(config.center, true)) out.push('beta');
    return [...out, 'moving_mean', 'moving_variance'];
  }
  return [];
}
