/**
 * Object graphs of a SavedModel (SavedObjectGraph in saved_model.pb) and of its checkpoint
 * (TrackableObjectGraph): paths of local names from the root, and a layer's variables with their
 * checkpoint keys. Variables are found by walking the same local names from the root in both graphs
 * (as TensorFlow restores them) or by the variable's full name, never by building key strings from
 * layer names: real files keep weights under paths such as `variables/0`.
 */
import { LensError } from '../../errors.js';
import type { ObjectReference, SavedObject, TrackableObject } from './savedmodel-proto.js';

interface WithChildren { children: ObjectReference[] }

/** A variable of a layer: the name Keras gives it (for matching weight slots) and its checkpoint key. */
export interface LayerVariable {
  name: string;
  key: string;
}

function checkRefs(nodes: WithChildren[], what: string, file: string): void {
  nodes.forEach((n, i) => {
    for (const c of n.children) {
      if (!Number.isInteger(c.node_id) || c.node_id < 0 || c.node_id >= nodes.length) {
        throw new LensError('CORRUPT', `${what}: node ${i} has a child '${c.local_name}' pointing at node ${c.node_id} of ${nodes.length}`, { file });
      }
    }
  });
}

/**
 * The shortest path of local names from the root (node 0) to each node, as parent links (breadth
 * first, so cycles and shared children are visited once).
 */
export class ObjectPaths {
  private readonly parent: Int32Array;
  private readonly via: string[];

  constructor(nodes: WithChildren[], what: string, file: string) {
    checkRefs(nodes, what, file);
    this.parent = new Int32Array(nodes.length).fill(-2);
    this.via = new Array<string>(nodes.length).fill('');
    if (nodes.length === 0) return;
    this.parent[0] = -1;
    const queue = [0];
    for (let q = 0; q < queue.length; q++) {
      for (const c of nodes[queue[q]].children) {
        if (this.parent[c.node_id] !== -2) continue;
        this.parent[c.node_id] = queue[q];
        this.via[c.node_id] = c.local_name;
        queue.push(c.node_id);
      }
    }
  }

  /** Local names from the root to `id`; undefined when the root does not reach it. */
  pathTo(id: number): string[] | undefined {
    if (id < 0 || id >= this.parent.length || this.parent[id] === -2) return undefined;
    const out: string[] = [];
    for (let n = id; n > 0; n = this.parent[n]) out.push(this.via[n]);
    return out.reverse();
  }
}

/** Follow local names from the root; undefined where a name is missing. */
export function walkPath(nodes: WithChildren[], path: string[]): number | undefined {
  let id = 0;
  if (nodes.length === 0) return undefined;
  for (const name of path) {
    const c = nodes[id].children.find((r) => r.local_name === name);
    if (!c || c.node_id < 0 || c.node_id >= nodes.length) return undefined;
    id = c.node_id;
  }
  return id;
}

function variableValue(node: TrackableObject): { full_name: string; checkpoint_key: string } | undefined {
  return node.attributes.find((a) => a.name === 'VARIABLE_VALUE' && a.checkpoint_key.length > 0);
}

/**
 * The variables of a layer's checkpoint node, in child order: its children holding a VARIABLE_VALUE
 * (each once, though Keras tracks some under two names, e.g. `mean` and `adapt_mean`), else those of
 * its `variables` list. Named by the variable's full name (`dense/kernel`) where the file has one.
 */
export function checkpointVariables(nodes: TrackableObject[], id: number): LayerVariable[] {
  const collect = (owner: number): LayerVariable[] => {
    const seen = new Set<number>();
    const out: LayerVariable[] = [];
    for (const c of nodes[owner].children) {
      if (seen.has(c.node_id)) continue;
      const v = variableValue(nodes[c.node_id]);
      if (!v) continue;
      seen.add(c.node_id);
      out.push({ name: v.full_name || c.local_name, key: v.checkpoint_key });
    }
    return out;
  };
  const direct = collect(id);
  if (direct.length > 0) return direct;
  const list = nodes[id].children.find((c) => c.local_name === 'variables');
  return list ? collect(list.node_id) : [];
}

/** Checkpoint key per variable full name (null where several variables share the name). */
export function fullNameIndex(ckpt: TrackableObject[]): Map<string, string | null> {
  const byFull = new Map<string, string | null>();
  for (const n of ckpt) {
    const v = variableValue(n);
    if (!v || !v.full_name) continue;
    byFull.set(v.full_name, byFull.has(v.full_name) ? null : v.checkpoint_key);
  }
  return byFull;
}

/**
 * The variables of a layer found by full name: the SavedObjectGraph node's variable children, matched
 * to the checkpoint variable with the same full name (when exactly one has it).
 */
export function variablesByFullName(saved: SavedObject[], layerNode: number, byFull: Map<string, string | null>): LayerVariable[] {
  const out: LayerVariable[] = [];
  const seen = new Set<number>();
  for (const c of saved[layerNode].children) {
    const v = saved[c.node_id].variable;
    if (!v || seen.has(c.node_id)) continue;
    seen.add(c.node_id);
    const key = byFull.get(v.name);
    if (key) out.push({ name: v.name, key });
  }
  return out;
}
