/**
 * ONNX graph structure: unique node names, a topological order (exporters such as keras2onnx store
 * nodes out of order), cycles and dangling inputs, and the nodes the outputs actually depend on.
 */
import { LensError, LIMITS } from '../../errors.js';
import type { GraphProto, NodeProto } from './onnx-proto.js';

export interface SortedGraph {
  /** Nodes the graph outputs depend on, producers before consumers. */
  nodes: NodeProto[];
  /** A unique display name per node (its ONNX name, else its first output). */
  names: Map<NodeProto, string>;
  /** Number of live nodes reading each value (graph outputs count as one more). */
  uses: Map<string, number>;
}

export function sortGraph(graph: GraphProto, file: string, sources: Set<string>): SortedGraph {
  const all = graph.node ?? [];
  if (all.length > LIMITS.maxNodes) throw new LensError('SHAPE_LIMIT', `the graph has ${all.length} nodes, more than ${LIMITS.maxNodes}`, { file });

  const names = new Map<NodeProto, string>();
  const taken = new Set<string>();
  all.forEach((n, i) => {
    const base = n.name || n.output?.[0] || `${n.opType ?? 'node'}_${i}`;
    let name = base;
    for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    names.set(n, name);
  });

  const producer = new Map<string, NodeProto>();
  for (const n of all) {
    for (const o of n.output ?? []) {
      if (!o) continue;
      if (producer.has(o) || sources.has(o)) {
        throw new LensError('GRAPH_INVALID', `value "${o}" is produced more than once`, { file, layer: names.get(n) });
      }
      producer.set(o, n);
    }
  }

  // Liveness: walk back from the outputs.
  const live = new Set<NodeProto>();
  const stack: string[] = (graph.output ?? []).map((o) => o.name ?? '');
  for (const o of stack) {
    if (!producer.has(o) && !sources.has(o)) throw new LensError('GRAPH_INVALID', `graph output "${o}" is produced by no node`, { file });
  }
  while (stack.length) {
    const v = stack.pop()!;
    const p = producer.get(v);
    if (!p || live.has(p)) continue;
    live.add(p);
    for (const i of p.input ?? []) {
      if (!i) continue;
      if (!producer.has(i) && !sources.has(i)) {
        throw new LensError('GRAPH_INVALID', `node "${names.get(p)}" reads "${i}", which no node, input or initializer provides`, { file, layer: names.get(p) });
      }
      stack.push(i);
    }
  }

  // Kahn's algorithm over live nodes; the ready set is a min-heap of file positions, so a file that
  // is already in order keeps its order.
  const order = all.filter((n) => live.has(n));
  const pos = new Map(order.map((n, i) => [n, i]));
  const indeg = new Map<NodeProto, number>();
  const consumers = new Map<NodeProto, NodeProto[]>();
  for (const n of order) {
    let d = 0;
    for (const i of new Set(n.input ?? [])) {
      const p = i ? producer.get(i) : undefined;
      if (p && live.has(p)) {
        d++;
        const c = consumers.get(p) ?? [];
        c.push(n);
        consumers.set(p, c);
      }
    }
    indeg.set(n, d);
  }
  const heap = new MinHeap();
  order.forEach((n, i) => indeg.get(n) === 0 && heap.push(i));
  const sorted: NodeProto[] = [];
  while (heap.size > 0) {
    const n = order[heap.pop()];
    sorted.push(n);
    for (const c of consumers.get(n) ?? []) {
      const d = indeg.get(c)! - 1;
      indeg.set(c, d);
      if (d === 0) heap.push(pos.get(c)!);
    }
  }
  if (sorted.length !== order.length) {
    const stuck = order.filter((n) => indeg.get(n)! > 0).map((n) => names.get(n)!);
    throw new LensError('GRAPH_CYCLE', `the graph has a cycle through ${stuck.slice(0, 5).join(', ')}${stuck.length > 5 ? ', ...' : ''}`, { file, layer: stuck[0] });
  }

  const uses = new Map<string, number>();
  for (const n of sorted) for (const i of n.input ?? []) if (i) uses.set(i, (uses.get(i) ?? 0) + 1);
  for (const o of graph.output ?? []) uses.set(o.name ?? '', (uses.get(o.name ?? '') ?? 0) + 1);
  return { nodes: sorted, names, uses };
}

class MinHeap {
  private readonly a: number[] = [];

  get size(): number {
    return this.a.length;
  }

  push(v: number): void {
    const a = this.a;
    a.push(v);
    for (let i = a.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (a[p] <= a[i]) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }

  pop(): number {
    const a = this.a;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l] < a[m]) m = l;
        if (r < a.length && a[r] < a[m]) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}
