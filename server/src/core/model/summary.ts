/**
 * A Keras-style summary of a ModelGraph, as data (inspect --json, the server, the panel) and as text.
 * Pure: no tfjs.
 */
import type { ActivationSpec, FormatInfo, LayerNode, Layout, ModelGraph, Shape } from './graph.js';
import { paramCount } from './graph.js';
import { toChannelsLastShape } from './shapes.js';

export interface TensorSummary {
  /** The name the file uses. */
  name: string;
  /** Graph node it maps to. */
  node: string;
  /** Shape in the file's layout (null = symbolic). */
  shape: Shape;
  layout: Layout;
  /** The same shape in the graph's channels-last layout. */
  channelsLastShape: Shape;
}

export interface LayerSummary {
  name: string;
  kind: LayerNode['kind'];
  /** The file's class or op (Conv2D, Gemm, ...). */
  className: string;
  outputShape: Shape;
  params: number;
  /** Fused activation ('linear' when none); for Activation layers, the function they apply. */
  activation: string;
  inbound: string[];
}

export interface ModelSummary {
  file: string;
  name: string;
  format: FormatInfo;
  inputs: TensorSummary[];
  outputs: TensorSummary[];
  layers: LayerSummary[];
  totalParams: number;
}

function activationText(a: ActivationSpec | undefined): string {
  if (!a) return 'linear';
  const extras: string[] = [];
  if (a.alpha !== undefined) extras.push(`alpha=${a.alpha}`);
  if (a.maxValue !== undefined) extras.push(`max=${a.maxValue}`);
  if (a.threshold) extras.push(`threshold=${a.threshold}`);
  if (a.axis !== undefined && a.axis !== -1) extras.push(`axis=${a.axis}`);
  if (a.approximate) extras.push('approximate');
  return extras.length ? `${a.name}(${extras.join(', ')})` : a.name;
}

export function summarize(graph: ModelGraph): ModelSummary {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const tensor = (s: ModelGraph['inputs'][number], output: boolean): TensorSummary => {
    const node = byName.get(s.node);
    const last = output && node ? node.outputShape : toChannelsLastShape(s.fileShape, s.fileLayout);
    return { name: s.fileName, node: s.node, shape: s.fileShape, layout: s.fileLayout, channelsLastShape: last };
  };
  const layers = graph.nodes.map(
    (n): LayerSummary => ({
      name: n.name,
      kind: n.kind,
      className: n.source?.className ?? n.kind,
      outputShape: n.outputShape,
      params: paramCount(n),
      activation: n.kind === 'Activation' ? activationText(n.params.activation) : activationText(n.activation),
      inbound: [...n.inbound],
    }),
  );
  return {
    file: graph.file,
    name: graph.name,
    format: graph.format,
    inputs: graph.inputs.map((s) => tensor(s, false)),
    outputs: graph.outputs.map((s) => tensor(s, true)),
    layers,
    totalParams: layers.reduce((a, l) => a + l.params, 0),
  };
}

export function shapeText(s: Shape): string {
  return `(${s.map((d) => (d === null ? 'None' : String(d))).join(', ')}${s.length === 1 ? ',' : ''})`;
}

/** Plain-text table in the style of Keras' model.summary(). */
export function summaryText(s: ModelSummary): string {
  const lines: string[] = [];
  lines.push(`Model: "${s.name}"  [${s.format.name} ${s.format.version}${s.format.producer ? `, ${s.format.producer}` : ''}]`);
  lines.push(`File: ${s.file}`);
  for (const t of s.inputs) lines.push(`Input  ${t.name}: ${shapeText(t.shape)} ${t.layout}`);
  for (const t of s.outputs) lines.push(`Output ${t.name}: ${shapeText(t.shape)} ${t.layout}`);
  const header = ['Layer (class)', 'Kind', 'Output shape', 'Param #', 'Activation', 'Connected to'];
  const rows = s.layers.map((l) => [`${l.name} (${l.className})`, l.kind, shapeText(l.outputShape), String(l.params), l.activation, l.inbound.join(', ')]);
  const widths = header.map((h, i) => Math.min(48, Math.max(h.length, ...rows.map((r) => r[i].length))));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  const rule = '='.repeat(widths.reduce((a, w) => a + w + 2, 0));
  lines.push(rule, fmt(header), rule);
  for (const r of rows) lines.push(fmt(r));
  lines.push(rule, `Total params: ${s.totalParams.toLocaleString('en-US')}`);
  return lines.join('\n');
}
