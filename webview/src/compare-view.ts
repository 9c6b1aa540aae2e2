/** The Compare tab: the shown map (A) next to another explanation of the same samples (B), on one scale. */
import { formatValue } from '../../server/src/core/render/colormap.js';
import { isBaselineName } from '../../server/src/core/names.js';
import { MapCanvas, describeCell } from './heatmap.js';
import { drawColorbar } from './charts.js';
import { correlation, mapSummary } from './maps.js';
import { $ } from './dom.js';
import { panel, compositeName, sampleIndex } from './state.js';
import { unitsLabel } from './decode.js';
import { drawFor, limitsFor, link } from './map-draw.js';

export const mapA = new MapCanvas($('boxA'), 'Comparison map A');
export const mapB = new MapCanvas($('boxB'), 'Comparison map B');
link(mapA, mapB, () => undefined);
link(mapB, mapA, () => undefined);
mapA.onCell = (info) => {
  if (!info || !panel.compared || !panel.main) return;
  mapB.cursor = [info.row, info.col];
  mapB.redraw();
  const b = mapB.info(info.row, info.col);
  $('compareSummary').textContent = `${describeCell(info)} (A) · relevance ${formatValue(b.relevance ?? NaN)} (B)`;
};

function relativeToMax(m: Float32Array): Float32Array {
  let max = 0;
  for (const v of m) if (Number.isFinite(v)) max = Math.max(max, Math.abs(v));
  return max > 0 ? m.map((v) => v / max) : m;
}

export function renderCompare(): void {
  const { main, compared } = panel;
  if (!main || !compared) return;
  const k = sampleIndex(main);
  const kb = Math.min(k, compared.shown.rel.n - 1);
  // A gradient baseline is in other units than LRP relevance (per unit of input, or of the logit):
  // both maps are then drawn relative to their own largest |value|, so their patterns share the scale.
  const baselineB = isBaselineName(compared.shown.result.composite?.name);
  const a = baselineB ? relativeToMax(main.rel.maps[k]) : main.rel.maps[k];
  const b = baselineB ? relativeToMax(compared.shown.rel.maps[kb]) : compared.shown.rel.maps[kb];
  if (b.length !== a.length) {
    $('compareSummary').textContent = 'The two maps have different grids and cannot share a scale.';
    return;
  }
  const lim = limitsFor([a, b]);
  $('capA').textContent = `A · ${compositeName(main)} · ${main.result.targetSpec ? `output ${main.result.targetSpec.text}` : `class ${main.result.target[k]}`}`;
  $('capB').textContent = `B · ${compared.label}`;
  const barLabel = baselineB ? 'relative to each map\'s max |value|' : `${unitsLabel(main)}, shared`;
  mapA.onLayout = (h) => drawColorbar($('barCompare'), lim, barLabel, h);
  mapA.set(drawFor(main, { mode: 'relevance', relevance: a, input: main.inp?.maps[k], relLimits: lim }));
  mapB.set(drawFor(main, { mode: 'relevance', relevance: b, input: main.inp?.maps[k], relLimits: lim }));
  drawColorbar($('barCompare'), lim, barLabel, mapA.canvas.clientHeight || 300);
  const sa = mapSummary(main.rel.maps[k], main.rel.width);
  const sb = mapSummary(compared.shown.rel.maps[kb], main.rel.width);
  const text = `${baselineB ? 'Each map relative to its own largest |value| (the baseline is in other units); shared' : 'Shared'} scale ${formatValue(lim.vmin)} to ${formatValue(lim.vmax)}. Correlation of A and B: ${correlation(a, b).toFixed(3)}. Sum of R: A ${formatValue(sa.sum)}, B ${formatValue(sb.sum)}.`;
  $('compareSummary').textContent = text;
  mapA.canvas.setAttribute('aria-label', `Comparison map A (${compositeName(main)}). ${text}`);
  mapB.canvas.setAttribute('aria-label', `Comparison map B (${compared.label}). ${text}`);
}
