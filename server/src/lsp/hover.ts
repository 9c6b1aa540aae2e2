/** Hover on a layer's entry in a JSON model file: its summary, findings and (after an explain) relevance share. */
import type { LayerSummary, ModelSummary } from '../protocol.js';
import { fmtShape, type DocsHref } from './convert.js';

/** The innermost layer whose JSON entry contains `offset`. */
export function layerAt(model: ModelSummary, offset: number): LayerSummary | undefined {
  let best: LayerSummary | undefined;
  for (const l of model.layers) {
    const r = l.jsonRange;
    if (!r || offset < r[0] || offset >= r[1]) continue;
    if (!best || r[1] - r[0] < best.jsonRange![1] - best.jsonRange![0]) best = l;
  }
  return best;
}

export function layerHover(model: ModelSummary, layer: LayerSummary, share?: number, docs: DocsHref = (l) => l): string {
  const lines = [
    `**${layer.className}** \`${layer.name}\` — layer ${layer.index + 1} of ${model.layers.length} in *${model.name}*`,
    '',
    `| | |`,
    `|---|---|`,
    `| kind | ${layer.kind}${layer.detail ? ` (${layer.detail})` : ''} |`,
    `| output | ${fmtShape(layer.outputShape)} |`,
    `| parameters | ${layer.params.toLocaleString('en-US')} |`,
  ];
  if (layer.activation !== 'linear') lines.push(`| activation | ${layer.activation} |`);
  if (layer.inbound.length > 0) lines.push(`| inputs | ${layer.inbound.map((n) => `\`${n}\``).join(', ')} |`);
  if (share !== undefined) lines.push(`| relevance share | ${(100 * share).toFixed(1)} % (last explain) |`);
  const findings = model.findings.filter((f) => f.layer?.index === layer.index);
  if (findings.length > 0) {
    lines.push('');
    for (const f of findings) lines.push(`- **${f.code}** (${f.severity}): ${f.message} [docs](${docs(f.docs, f.code)})`);
  }
  return lines.join('\n');
}
