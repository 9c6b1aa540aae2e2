/** Hand-built graphs for the checks' unit tests: a tiny sequential builder over the IR (no loader involved). */
import type { ActivationName, LayerNode, ModelGraph, Shape } from '../model/graph.js';

type Spec =
  | { kind: 'Conv'; k: number; s?: number; filters?: number; pad?: 'same' | 'valid'; act?: ActivationName; name?: string }
  | { kind: 'Pool'; op: 'max' | 'avg'; k: number; s?: number; pad?: 'same' | 'valid'; name?: string }
  | { kind: 'Dense'; units: number; act?: ActivationName; name?: string; bias?: number }
  | { kind: 'BatchNorm'; name?: string }
  | { kind: 'Flatten'; name?: string }
  | { kind: 'Activation'; act: ActivationName; name?: string }
  | { kind: 'ZeroPadding'; p: number; name?: string }
  | { kind: 'GlobalPool'; op: 'max' | 'avg'; name?: string };

function outSize(n: number, k: number, s: number, pad: 'same' | 'valid'): number {
  return pad === 'same' ? Math.ceil(n / s) : Math.floor((n - k) / s) + 1;
}

/** A sequential model over an [H, W, C] (or [F]) input; shapes computed here for the layers it knows. */
export function sequential(input: number[], specs: Spec[], file = '/tmp/hand-built.json'): ModelGraph {
  const nodes: LayerNode[] = [];
  let shape: Shape = [null, ...input];
  nodes.push({ name: 'input', kind: 'Input', inbound: [], params: {}, weights: {}, activation: { name: 'linear' }, outputShape: shape, source: { className: 'InputLayer' } });
  specs.forEach((sp, i) => {
    const name = sp.name ?? `${sp.kind.toLowerCase()}_${i}`;
    const inbound = [nodes[nodes.length - 1].name];
    const base = { name, inbound, weights: {}, activation: { name: 'linear' as ActivationName }, source: { className: sp.kind, jsonRange: [100 * i, 100 * i + 50] as [number, number] } };
    const sp2 = shape.slice(1, 3) as number[];
    const ch = shape[shape.length - 1] as number;
    switch (sp.kind) {
      case 'Conv': {
        const s = sp.s ?? 1, pad = sp.pad ?? 'same', f = sp.filters ?? 4;
        shape = [null, ...sp2.map((n) => outSize(n, sp.k, s, pad)), f];
        const kernel = new Float32Array(sp.k * sp.k * ch * f).map((_, j) => Math.sin(j + 1));
        nodes.push({ ...base, kind: 'Conv', params: { rank: 2, filters: f, kernelSize: [sp.k, sp.k], strides: [s, s], dilation: [1, 1], padding: { mode: pad, pads: [] }, groups: 1, useBias: true }, weights: { kernel: { shape: [sp.k, sp.k, ch, f], data: kernel }, bias: { shape: [f], data: new Float32Array(f).fill(0.01) } }, activation: { name: sp.act ?? 'relu' }, outputShape: shape, source: { ...base.source, className: 'Conv2D' } });
        break;
      }
      case 'Pool': {
        const s = sp.s ?? sp.k, pad = sp.pad ?? 'valid';
        shape = [null, ...sp2.map((n) => outSize(n, sp.k, s, pad)), ch];
        nodes.push({ ...base, kind: 'Pool', params: { op: sp.op, rank: 2, poolSize: [sp.k, sp.k], strides: [s, s], padding: { mode: pad, pads: [] }, ceilMode: false, countIncludePad: false }, outputShape: shape, source: { ...base.source, className: sp.op === 'max' ? 'MaxPooling2D' : 'AveragePooling2D' } });
        break;
      }
      case 'Dense': {
        const fin = ch;
        shape = [null, sp.units];
        const kernel = new Float32Array(fin * sp.units).map((_, j) => 0.1 * Math.cos(j + 1));
        nodes.push({ ...base, kind: 'Dense', params: { units: sp.units, useBias: true }, weights: { kernel: { shape: [fin, sp.units], data: kernel }, bias: { shape: [sp.units], data: new Float32Array(sp.units).fill(sp.bias ?? 0.01) } }, activation: { name: sp.act ?? 'relu' }, outputShape: shape });
        break;
      }
      case 'BatchNorm':
        nodes.push({ ...base, kind: 'BatchNorm', params: { epsilon: 1e-3, axis: -1, center: true, scale: true }, outputShape: shape });
        break;
      case 'Flatten':
        shape = [null, (shape.slice(1) as number[]).reduce((a, b) => a * b, 1)];
        nodes.push({ ...base, kind: 'Flatten', params: { channelsFirst: false }, outputShape: shape });
        break;
      case 'Activation':
        nodes.push({ ...base, kind: 'Activation', params: { activation: { name: sp.act } }, outputShape: shape });
        break;
      case 'ZeroPadding':
        shape = [null, ...sp2.map((n) => n + 2 * sp.p), ch];
        nodes.push({ ...base, kind: 'ZeroPadding', params: { rank: 2, pads: [[sp.p, sp.p], [sp.p, sp.p]] }, outputShape: shape, source: { ...base.source, className: 'ZeroPadding2D' } });
        break;
      case 'GlobalPool':
        shape = [null, ch];
        nodes.push({ ...base, kind: 'GlobalPool', params: { op: sp.op, rank: 2, keepDims: false }, outputShape: shape });
        break;
    }
  });
  const last = nodes[nodes.length - 1].name;
  return {
    file,
    name: 'hand-built',
    format: { name: 'tfjs-layers', version: 'test' },
    inputs: [{ node: 'input', fileName: 'input', fileShape: [null, ...input], fileLayout: input.length === 3 ? 'NHWC' : 'NC' }],
    outputs: [{ node: last, fileName: last, fileShape: nodes[nodes.length - 1].outputShape, fileLayout: 'NC' }],
    nodes,
  };
}

/** Add a residual block (two convs and an Add with a 1x1 stride-2 shortcut) to a graph ending in a 4-D tensor. */
export function withResidual(g: ModelGraph): ModelGraph {
  const prev = g.nodes[g.nodes.length - 1];
  const [, h, w, c] = prev.outputShape as number[];
  const half = [null, Math.ceil(h / 2), Math.ceil(w / 2), c] as Shape;
  const conv = (name: string, inbound: string, k: number, s: number): LayerNode => ({
    name, kind: 'Conv', inbound: [inbound],
    params: { rank: 2, filters: c, kernelSize: [k, k], strides: [s, s], dilation: [1, 1], padding: { mode: 'same', pads: [] }, groups: 1, useBias: false },
    weights: { kernel: { shape: [k, k, c, c], data: new Float32Array(k * k * c * c).fill(0.1) } }, activation: { name: 'linear' }, outputShape: half, source: { className: 'Conv2D' },
  });
  const a = conv('res_a', prev.name, 3, 2);
  const sc = conv('shortcut', prev.name, 1, 2);
  const add: LayerNode = { name: 'add', kind: 'Add', inbound: ['res_a', 'shortcut'], params: {}, weights: {}, activation: { name: 'relu' }, outputShape: half, source: { className: 'Add' } };
  g.nodes.push(a, sc, add);
  g.outputs = [{ node: 'add', fileName: 'add', fileShape: half, fileLayout: 'NHWC' }];
  return g;
}
