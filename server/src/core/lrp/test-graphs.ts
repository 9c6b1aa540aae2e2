/** Small hand-built graphs with seeded random weights, for the engine's unit tests. */
import type { ActivationSpec, LayerNode, ModelGraph, Padding, WeightTensor } from '../model/graph.js';
import { LINEAR } from '../model/graph.js';
import { inferShapes } from '../model/shapes.js';

export { rng } from './random.js';

export function randomArray(n: number, rand: () => number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rand() * scale;
  return a;
}

export class GraphBuilder {
  nodes: LayerNode[] = [];
  private last = '';
  private count = 0;
  constructor(readonly rand: () => number, inputShape: (number | null)[]) {
    this.nodes.push({ name: 'input', kind: 'Input', inbound: [], params: {}, weights: {}, activation: LINEAR, outputShape: [null, ...inputShape.slice(1)], source: { className: 'InputLayer' } });
    this.last = 'input';
  }

  private w(shape: number[], scale = 0.5): WeightTensor {
    return { shape, data: randomArray(shape.reduce((a, b) => a * b, 1), this.rand, scale) };
  }

  private add(node: Omit<LayerNode, 'name' | 'inbound' | 'outputShape' | 'source' | 'activation' | 'weights'> & Partial<LayerNode>, inbound?: string[]): string {
    const name = node.name ?? `${node.kind.toLowerCase()}_${this.count++}`;
    this.nodes.push({
      weights: {},
      activation: LINEAR,
      ...node,
      name,
      inbound: inbound ?? [this.last],
      outputShape: [],
      source: { className: node.kind },
    } as LayerNode);
    this.last = name;
    return name;
  }

  at(name: string): this {
    this.last = name;
    return this;
  }

  dense(units: number, cin: number, opts: { activation?: ActivationSpec; bias?: boolean; name?: string } = {}): string {
    const bias = opts.bias ?? true;
    const weights: Record<string, WeightTensor> = { kernel: this.w([cin, units]) };
    if (bias) weights.bias = this.w([units], 0.2);
    return this.add({ kind: 'Dense', name: opts.name, params: { units, useBias: bias }, weights, activation: opts.activation ?? LINEAR });
  }

  conv(filters: number, cin: number, k: number[], opts: { strides?: number[]; dilation?: number[]; padding?: Padding['mode']; pads?: [number, number][]; groups?: number; activation?: ActivationSpec; bias?: boolean; name?: string } = {}): string {
    const rank = k.length as 1 | 2 | 3;
    const groups = opts.groups ?? 1;
    const bias = opts.bias ?? true;
    const weights: Record<string, WeightTensor> = { kernel: this.w([...k, cin / groups, filters]) };
    if (bias) weights.bias = this.w([filters], 0.2);
    return this.add({
      kind: 'Conv',
      name: opts.name,
      params: {
        rank,
        filters,
        kernelSize: k,
        strides: opts.strides ?? k.map(() => 1),
        dilation: opts.dilation ?? k.map(() => 1),
        padding: { mode: opts.padding ?? 'same', pads: opts.pads ?? [] },
        groups,
        useBias: bias,
      },
      weights,
      activation: opts.activation ?? LINEAR,
    });
  }

  depthwise(cin: number, k: number[], mult: number, opts: { strides?: number[]; padding?: Padding['mode']; activation?: ActivationSpec } = {}): string {
    return this.add({
      kind: 'DepthwiseConv',
      params: { rank: k.length as 1 | 2, depthMultiplier: mult, kernelSize: k, strides: opts.strides ?? k.map(() => 1), dilation: k.map(() => 1), padding: { mode: opts.padding ?? 'valid', pads: [] }, useBias: true },
      weights: { kernel: this.w([...k, cin, mult]), bias: this.w([cin * mult], 0.2) },
      activation: opts.activation ?? LINEAR,
    });
  }

  batchNorm(c: number, epsilon = 1e-3): string {
    const pos = (n: number) => ({ shape: [n], data: Float32Array.from({ length: n }, () => 0.5 + Math.abs(this.rand())) });
    return this.add({
      kind: 'BatchNorm',
      params: { epsilon, axis: -1, center: true, scale: true },
      weights: { gamma: pos(c), beta: this.w([c], 0.3), movingMean: this.w([c], 0.3), movingVariance: pos(c) },
    });
  }

  pool(op: 'max' | 'avg', size: number[], padding: Padding['mode'] = 'valid', name?: string): string {
    return this.add({ kind: 'Pool', name, params: { op, rank: size.length as 1 | 2 | 3, poolSize: size, strides: size, padding: { mode: padding, pads: [] }, ceilMode: false, countIncludePad: false } });
  }

  globalPool(op: 'max' | 'avg', rank: 1 | 2 | 3, name?: string): string {
    return this.add({ kind: 'GlobalPool', name, params: { op, rank, keepDims: false } });
  }

  flatten(): string {
    return this.add({ kind: 'Flatten', params: { channelsFirst: false } });
  }

  activation(name: ActivationSpec['name']): string {
    return this.add({ kind: 'Activation', params: { activation: { name } } });
  }

  merge(kind: 'Add' | 'Average' | 'Subtract' | 'Multiply', inputs: string[]): string {
    return this.add({ kind, params: {} }, inputs);
  }

  concat(inputs: string[], name?: string): string {
    return this.add({ kind: 'Concatenate', name, params: { axis: -1 } }, inputs);
  }

  build(name = 'test'): ModelGraph {
    const input = this.nodes[0];
    const graph: ModelGraph = {
      file: `/virtual/${name}`,
      name,
      format: { name: 'keras-h5', version: 'test' },
      inputs: [{ node: 'input', fileName: 'input', fileShape: input.outputShape, fileLayout: input.outputShape.length === 4 ? 'NHWC' : input.outputShape.length === 3 ? 'NWC' : 'NC' }],
      outputs: [{ node: this.last, fileName: this.last, fileShape: [], fileLayout: 'NC' }],
      nodes: this.nodes,
    };
    return inferShapes(graph);
  }
}
