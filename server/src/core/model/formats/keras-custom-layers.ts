/**
 * Custom (unknown-class) Keras layers: the refusal message, and loading the part of a Functional model
 * that does not need them. When some outputs (or the inputs of an output Concatenate) can be computed
 * without any custom layer, those become the model's outputs and everything else is recorded as
 * omitted, with the reason; a model whose every output needs a custom layer is refused.
 */
import type { OmittedLayer } from '../graph.js';

/** Config keys every Keras layer has; the rest are the class's own parameters. */
const COMMON_KEYS = new Set(['name', 'trainable', 'dtype', 'batch_input_shape', 'batch_shape', 'input_shape']);
const MAX_PARAMS_CHARS = 300;

/** The class's own parameters from a layer config (undefined when it has none). */
export function customParams(config: Record<string, unknown>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) if (!COMMON_KEYS.has(k)) out[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The CUSTOM_LAYER message: layer, class, where it comes from, and its parameters where the file has them. */
export function customLayerMessage(layer: string, className: string, origin: string, config: Record<string, unknown>): string {
  const params = customParams(config);
  let shown = params ? JSON.stringify(params) : '';
  if (shown.length > MAX_PARAMS_CHARS) shown = `${shown.slice(0, MAX_PARAMS_CHARS)}...`;
  const withParams = params ? `, parameters ${shown}` : ', no parameters in the file';
  return `layer ${layer} has class ${className}${origin}${withParams}, which is not a built-in Keras layer (custom or third-party code); it cannot be loaded`;
}

export interface PrunableEntry {
  name: string;
  className: string;
  inbound: string[];
  config: Record<string, unknown>;
  /** Set on custom layers: the refusal message. */
  custom?: string;
}

export interface Pruned<E> {
  entries: E[];
  inputs: string[];
  outputs: string[];
  omitted: OmittedLayer[];
}

/**
 * Drop custom layers and what depends on them. Returns undefined when every output needs a custom
 * layer (the caller refuses as before); otherwise the entries that feed the computable outputs.
 */
export function omitCustomLayers<E extends PrunableEntry>(entries: E[], inputs: string[], outputs: string[]): Pruned<E> | undefined {
  const byName = new Map<string, E>();
  for (const e of entries) byName.set(e.name, e);
  const consumers = new Map<string, string[]>();
  for (const e of entries) {
    for (const i of e.inbound) {
      const list = consumers.get(i);
      if (list) list.push(e.name);
      else consumers.set(i, [e.name]);
    }
  }
  // Everything downstream of a custom layer needs it (breadth first over consumers).
  const cause = new Map<string, string>();
  const queue: string[] = [];
  for (const e of entries) {
    if (e.custom !== undefined && !cause.has(e.name)) {
      cause.set(e.name, e.name);
      queue.push(e.name);
    }
  }
  for (let q = 0; q < queue.length; q++) {
    for (const c of consumers.get(queue[q]) ?? []) {
      if (cause.has(c)) continue;
      cause.set(c, cause.get(queue[q]) as string);
      queue.push(c);
    }
  }
  const newOutputs: string[] = [];
  const replaced = new Map<string, string[]>();
  const add = (n: string) => {
    if (!newOutputs.includes(n)) newOutputs.push(n);
  };
  for (const o of outputs) {
    if (!cause.has(o)) add(o);
    else {
      const e = byName.get(o);
      if (e?.className === 'Concatenate') {
        const free = e.inbound.filter((i) => !cause.has(i) && byName.has(i));
        free.forEach(add);
        if (free.length > 0) replaced.set(o, free);
      }
    }
  }
  if (newOutputs.length === 0) return undefined;

  // Keep what the remaining outputs need (backwards from them).
  const keep = new Set<string>(newOutputs);
  const stack = [...newOutputs];
  while (stack.length) {
    const e = byName.get(stack.pop() as string);
    for (const i of e?.inbound ?? []) {
      if (!keep.has(i)) {
        keep.add(i);
        stack.push(i);
      }
    }
  }
  const omitted: OmittedLayer[] = [];
  for (const e of entries) {
    if (keep.has(e.name)) continue;
    const src = cause.get(e.name);
    let reason: string;
    if (e.custom !== undefined) reason = `custom layer class ${e.className} (not a built-in Keras layer): not loaded`;
    else if (replaced.has(e.name)) reason = `model output that needs custom layer ${src}; its inputs ${(replaced.get(e.name) as string[]).join(', ')} are the outputs instead`;
    else if (src !== undefined) reason = `needs the output of custom layer ${src}`;
    else reason = 'feeds only layers that were left out';
    const o: OmittedLayer = { layer: e.name, className: e.className, reason };
    if (e.custom !== undefined) {
      const p = customParams(e.config);
      if (p) o.config = p;
    }
    omitted.push(o);
  }
  return { entries: entries.filter((e) => keep.has(e.name)), inputs: inputs.filter((i) => keep.has(i)), outputs: newOutputs, omitted };
}
