/**
 * The panel's "what to explain" field: a class index (empty: the predicted class) and, for a model whose
 * output is a map (output rank >= 3: a U-Net, a decoder), a pixel, a region (sum or mean) or the mean of
 * all outputs, typed in the CLI's --target grammar: `pixel:ROW,COL[,CH]`, `region:R0:R1,C0:C1[,CH][,mean|sum]`,
 * `mean`, `sum`. The server checks the coordinates against the output shape and says what is out of range.
 */
import type { ModelSummary, OutputTarget, PanelState } from './messages.js';

export type PanelTarget = PanelState['target'];

const idx = (s: string): number | undefined => (/^\d+$/.test(s.trim()) ? Number(s.trim()) : undefined);

/** The field's text as a target; undefined when it is not one (the caller says so). */
export function parseTargetField(text: string): PanelTarget | undefined {
  const t = text.trim().toLowerCase();
  if (t === '' || t === 'argmax' || t === 'predicted') return 'argmax';
  const i = idx(t);
  if (i !== undefined) return i;
  if (t === 'mean' || t === 'sum') return { type: 'all', reduce: t };
  const m = /^(pixel|region):(.*)$/.exec(t);
  if (!m) return undefined;
  const parts = m[2].split(',').map((s) => s.trim());
  if (m[1] === 'pixel') {
    const at = parts.map(idx);
    return at.length >= 2 && at.length <= 4 && at.every((v) => v !== undefined) ? { type: 'pixel', at: at as number[] } : undefined;
  }
  let reduce: 'sum' | 'mean' = 'sum';
  if (parts[parts.length - 1] === 'mean' || parts[parts.length - 1] === 'sum') reduce = parts.pop() as 'sum' | 'mean';
  const ranges: [number, number][] = [];
  let channel: number | undefined;
  for (const [k, p] of parts.entries()) {
    const r = /^(\d+):(\d+)$/.exec(p);
    if (r && channel === undefined && Number(r[1]) <= Number(r[2])) ranges.push([Number(r[1]), Number(r[2])]);
    else if (k === parts.length - 1 && idx(p) !== undefined && ranges.length) channel = idx(p);
    else return undefined;
  }
  if (ranges.length < 2 || ranges.length > 3) return undefined;
  return channel === undefined ? { type: 'region', ranges, reduce } : { type: 'region', ranges, channel, reduce };
}

/** The field's text for a target (the inverse of parseTargetField). */
export function targetFieldText(t: PanelTarget): string {
  if (t === 'argmax') return '';
  if (typeof t === 'number') return String(t);
  return outputTargetText(t);
}

export function outputTargetText(t: OutputTarget): string {
  if (t.type === 'all') return t.reduce;
  if (t.type === 'pixel') return `pixel:${[...t.at, ...(t.channel === undefined ? [] : [t.channel])].join(',')}`;
  return `region:${[...t.ranges.map(([a, b]) => `${a}:${b}`), ...(t.channel === undefined ? [] : [String(t.channel)]), t.reduce ?? 'sum'].join(',')}`;
}

/** Whether the model's first output is a map (batch, rows, cols[, ...]): the field then offers pixels and regions. */
export function hasOutputMap(m: ModelSummary | undefined): boolean {
  const shape = m?.outputs[0]?.shape;
  return !!shape && shape.length >= 3;
}

/** The field's hint for a model: what it accepts, with the output map's size when the model has one. */
export function targetHint(m: ModelSummary | undefined): { placeholder: string; label: string } {
  if (!hasOutputMap(m)) return { placeholder: 'argmax', label: 'Target class (empty: predicted class)' };
  const dims = m!.outputs[0].shape.slice(1).map((d) => d ?? '?').join('x');
  return {
    placeholder: 'pixel:R,C | region:R0:R1,C0:C1,mean | mean',
    label: `Output to explain: empty for the largest output, an index, pixel:ROW,COL[,CH], region:R0:R1,C0:C1[,CH][,mean|sum] or mean (output map ${dims})`,
  };
}
